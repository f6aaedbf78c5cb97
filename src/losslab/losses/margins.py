"""Margin losses of PyTorch that the other modules lack: soft margins and embedding margins.

``soft_margin`` and ``hinge_embedding`` are element-wise (``weight``
broadcastable to the output, ``sample_weight`` one per row, "mean" divides by
the total weight); ``multilabel_soft_margin`` and ``cosine_embedding`` give
one loss per sample.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, elementwise, in_output_dtype, reduce
from .binary import sigmoid, softplus

# torch's cosine_embedding_loss adds this to each squared norm: a zero vector has cosine 0
COSINE_EPS = 1e-12


@in_output_dtype
def soft_margin(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Soft-margin (logistic) loss on ±1 targets, torch's ``soft_margin_loss``.

    .. math::

        l = \log(1 + e^{-y s}), \qquad \frac{\partial l}{\partial s} = -y\,\sigma(-y s)

    computed as :math:`\operatorname{softplus}(-ys)`, finite for any finite s.
    It is logistic regression's loss written for targets in {-1, +1}.

    Parameters
    ----------
    scores : array of any shape
    target : array of scores' shape, values in {-1, +1} (0 is read as -1, as the binary hinge does)
    weight : array broadcastable to scores, optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``scores``.

    Examples
    --------
    >>> round(soft_margin(np.array([0.0, 2.0]), np.array([1, -1])).value, 4)
    1.41

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.SoftMarginLoss.html
    """
    v.check_reduction(reduction)
    s, y = _signed(scores, target, "scores", zero_is_negative=True)
    z = -y * s
    return elementwise(
        softplus(z), -y * sigmoid(z), v.element_weight(s, weight, sample_weight), reduction
    )


@in_output_dtype
def multilabel_soft_margin(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Multi-label one-versus-all logistic loss, torch's ``multilabel_soft_margin_loss``.

    .. math::

        l_i = \frac{1}{C}\sum_c \omega_c \big[y_{ic} \operatorname{softplus}(-x_{ic})
        + (1 - y_{ic})\operatorname{softplus}(x_{ic})\big], \qquad
        \frac{\partial l_i}{\partial x_{ic}} = \frac{\omega_c}{C}\big(\sigma(x_{ic}) - y_{ic}\big)

    ``weight`` :math:`\omega` (C,) is part of the formula, as in torch, not a
    weight of the mean: "mean" divides by N (by the total ``sample_weight`` with one).

    Parameters
    ----------
    logits : array (N, C)
    target : array (N, C), values in [0, 1]
    weight : array (C,), optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}
        "none" returns one loss per sample.

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``logits``.

    Examples
    --------
    >>> round(multilabel_soft_margin(np.zeros((1, 2)), np.array([[1.0, 0.0]])).value, 4)
    0.6931

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.MultiLabelSoftMarginLoss.html
    """
    v.check_reduction(reduction)
    x = v.as_output(logits, "logits", ndim=2)
    n, c = x.shape
    y = v.as_values(target, "target", x.dtype)
    v.check_same_shape(x, y, "logits", "target")
    v.check_range(y, "target", 0, 1)
    omega = v.as_class_weight(weight, c, x.dtype, name="weight")
    per_class = y * softplus(-x) + (1 - y) * softplus(x)
    grad = (sigmoid(x) - y) / x.dtype.type(c)
    if omega is not None:
        per_class, grad = per_class * omega, grad * omega
    losses = per_class.mean(axis=1)
    sw = v.as_sample_weight(sample_weight, n, x.dtype)
    if sw is None:
        return reduce(losses, grad, reduction)
    return reduce(losses * sw, grad * sw[:, None], reduction, sw.sum(dtype=np.float64))


@in_output_dtype
def cosine_embedding(
    x1: ArrayLike,
    x2: ArrayLike,
    target: ArrayLike,
    *,
    margin: float = 0.0,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Cosine embedding loss, torch's ``cosine_embedding_loss``.

    .. math::

        c = \frac{x_1 \cdot x_2}{\sqrt{(\lVert x_1\rVert^2 + \epsilon)(\lVert x_2\rVert^2 + \epsilon)}},
        \qquad l = \begin{cases} 1 - c & y = 1 \\ \max(0, c - m) & y = -1 \end{cases}

    with :math:`\epsilon = 10^{-12}` (torch's), and
    :math:`\partial c / \partial x_1 = x_2 / \sqrt{\cdot} - c\, x_1 / (\lVert x_1\rVert^2 + \epsilon)`
    (symmetrically for :math:`x_2`): pairs with y = 1 are pulled to the same
    direction, pairs with y = -1 pushed below cosine m = ``margin``.

    Parameters
    ----------
    x1, x2 : arrays (N, D)
    target : array (N,), values in {-1, +1}
    margin : float in [-1, 1]
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        ``LossResult(value, (grad_x1, grad_x2))``.

    Examples
    --------
    >>> a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    >>> cosine_embedding(a, b, np.array([1])).value
    1.0

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.CosineEmbeddingLoss.html
    """
    v.check_reduction(reduction)
    a = v.as_output(x1, "x1", ndim=2)
    b = v.as_values(x2, "x2", a.dtype)
    v.check_same_shape(a, b, "x1", "x2")
    y = _plus_minus_one(v.as_values(target, "target", a.dtype, shape=(len(a),)))
    margin = v.check_scalar(margin, "margin", -1, 1)
    sq1 = np.einsum("ij,ij->i", a, a) + a.dtype.type(COSINE_EPS)
    sq2 = np.einsum("ij,ij->i", b, b) + a.dtype.type(COSINE_EPS)
    denom = np.sqrt(sq1 * sq2)
    cos = np.einsum("ij,ij->i", a, b) / denom
    dcos1 = b / denom[:, None] - (cos / sq1)[:, None] * a
    dcos2 = a / denom[:, None] - (cos / sq2)[:, None] * b
    pull = y == 1
    h = np.maximum(cos - a.dtype.type(margin), 0)
    losses = np.where(pull, 1 - cos, h)
    slope = np.where(pull, -1, np.sign(h)).astype(a.dtype)[:, None]  # sign: NaN stays NaN
    grads = (slope * dcos1, slope * dcos2)
    sw = v.as_sample_weight(sample_weight, len(a), a.dtype)
    if sw is None:
        return reduce(losses, grads, reduction)
    grads = tuple(g * sw[:, None] for g in grads)
    return reduce(losses * sw, grads, reduction, sw.sum(dtype=np.float64))


@in_output_dtype
def hinge_embedding(
    distances: ArrayLike,
    target: ArrayLike,
    *,
    margin: float = 1.0,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Hinge embedding loss on distances, torch's ``hinge_embedding_loss``.

    .. math::

        l = \begin{cases} x & y = 1 \\ \max(0, \Delta - x) & y = -1 \end{cases}, \qquad
        \frac{\partial l}{\partial x} = \begin{cases} 1 & y = 1 \\ -[\Delta - x > 0] & y = -1 \end{cases}

    x is a distance (say an L1 distance between two embeddings): similar pairs
    (y = 1) are pulled together, dissimilar ones pushed beyond Δ = ``margin``.

    Parameters
    ----------
    distances : array of any shape
    target : array of distances' shape, values in {-1, +1}
    margin : float
    weight : array broadcastable to distances, optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``distances``.

    Examples
    --------
    >>> hinge_embedding(np.array([0.3, 0.3]), np.array([1, -1]), reduction="none").value.tolist()
    [0.3, 0.7]

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.HingeEmbeddingLoss.html
    """
    v.check_reduction(reduction)
    x, y = _signed(distances, target, "distances")
    margin = v.check_scalar(margin, "margin")
    h = np.maximum(x.dtype.type(margin) - x, 0)  # NaN stays NaN
    pull = y == 1
    losses = np.where(pull, x, h)
    grad = np.where(pull, np.ones_like(x) + 0 * x, -np.sign(h))  # 0 * x: NaN stays NaN
    return elementwise(losses, grad, v.element_weight(x, weight, sample_weight), reduction)


def _signed(output, target, name, zero_is_negative=False):
    x = v.as_output(output, name)
    y = v.as_values(target, "target", x.dtype)
    v.check_same_shape(x, y, name, "target")
    if zero_is_negative:  # fit's binary targets are 0/1
        y = np.where(y == 0, x.dtype.type(-1), y)
    return x, _plus_minus_one(y)


def _plus_minus_one(y):
    if not np.all((y == 1) | (y == -1)):
        bad = y[(y != 1) & (y != -1)].flat[0]
        raise ValueError(f"target: expected values in {{-1, +1}}, got {bad} instead")
    return y
