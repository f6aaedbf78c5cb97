"""PolyLoss: softmax cross-entropy plus a first polynomial term, built on :func:`softmax_cross_entropy`."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, in_output_dtype, reduce
from .classification import log_softmax, softmax_cross_entropy


@in_output_dtype
def poly1_cross_entropy(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    epsilon: float = 1.0,
    class_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Poly-1 loss (PolyLoss, Leng et al., ICLR 2022): cross-entropy + ε(1 − p_t).

    .. math::

        l_i = \text{ce}_i + \varepsilon\, v_i\,(1 - t_i), \quad
        t_i = \sum_c \tilde q_{ic}\, p_{ic}, \qquad
        \frac{\partial l_i}{\partial s_{ic}} = \frac{\partial\, \text{ce}_i}{\partial s_{ic}}
        + \varepsilon\, v_i\, p_{ic}\,(t_i - \tilde q_{ic})

    with :math:`\text{ce}_i` the per-sample loss of :func:`softmax_cross_entropy`
    under the same options, :math:`p = \operatorname{softmax}(s)`, :math:`\tilde q` the
    target (one-hot for labels) after label smoothing, so that without smoothing
    :math:`t_i = p_{iy_i}`, and :math:`v_i` the sample's weight in that mean:
    :math:`w_i\,\omega_{y_i}` for labels (0 for an ignored one), :math:`w_i` for
    probabilities. "mean" divides by the total weight cross-entropy divides by,
    so ``class_weight``, ``ignore_index``, ``label_smoothing`` and
    ``sample_weight`` mean what they mean for :func:`softmax_cross_entropy`, and
    ε = 0 is that loss. ε > 0 pushes harder on confident samples; the paper's
    ε = -1 is allowed (ε ≥ -1 keeps the loss non-negative).

    Parameters
    ----------
    scores : array (N, C)
    target : int array (N,) of labels, or float array (N, C) of class probabilities
    epsilon : float >= -1
    class_weight : array (C,), optional
    label_smoothing : float in [0, 1]
    ignore_index : int, optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``scores``.

    Examples
    --------
    >>> s, y = np.array([[2.0, 0.0]]), np.array([0])
    >>> round(poly1_cross_entropy(s, y).value - softmax_cross_entropy(s, y).value, 4)
    0.1192

    References
    ----------
    Leng, Tan, Liu, Cubuk, Shi, Cheng, Anguelov. PolyLoss: A Polynomial Expansion
    Perspective of Classification Loss Functions. ICLR 2022.
    """
    s = v.as_output(scores, "scores", ndim=2)
    epsilon = v.check_scalar(epsilon, "epsilon", low=-1)
    options: dict[str, Any] = dict(class_weight=class_weight, label_smoothing=label_smoothing)
    ce = softmax_cross_entropy(
        s,
        target,
        **options,
        ignore_index=ignore_index,
        sample_weight=sample_weight,
        reduction="none",
    )  # its checks run first: every argument below is valid
    q, v_i = _smoothed_target_and_weight(s, target, ignore_index, sample_weight, **options)
    p = np.exp(log_softmax(s))
    t = np.einsum("ij,ij->i", q, p)
    losses = ce.value + s.dtype.type(epsilon) * v_i * (1 - t)
    grad = ce.grad + s.dtype.type(epsilon) * v_i[:, None] * p * (t[:, None] - q)
    return reduce(losses, grad, reduction, v_i.sum(dtype=np.float64))


def _smoothed_target_and_weight(
    s, target, ignore_index, sample_weight, class_weight, label_smoothing
):
    """q̃ (N, C) and each sample's weight v (N,), for arguments softmax_cross_entropy accepted."""
    n, c = s.shape
    sw = (
        np.ones(n, s.dtype)
        if sample_weight is None
        else v.as_sample_weight(sample_weight, n, s.dtype)
    )
    if v.is_integer_array(target):
        labels = np.asarray(target, dtype=np.intp)
        keep = np.ones(n, bool) if ignore_index is None else labels != ignore_index
        safe = np.where(keep, labels, 0)
        q = np.zeros_like(s)
        q[np.arange(n), safe] = 1
        cw = v.as_class_weight(class_weight, c, s.dtype)
        weight = sw * keep if cw is None else sw * keep * cw[safe]
    else:
        q = v.as_values(target, "target", s.dtype)
        weight = sw
    if label_smoothing:
        q = (1 - label_smoothing) * q + label_smoothing / c
    return q.astype(s.dtype, copy=False), weight.astype(s.dtype, copy=False)
