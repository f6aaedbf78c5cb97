"""Binary and multi-label losses on logits, probabilities or signed scores.

``output`` has any shape ((N,) or (N, K) in practice) and ``target`` the same
shape. Losses are per element; ``sample_weight`` of shape (N,) scales rows and
``weight`` (broadcastable to the output) scales elements. "mean" divides by the
total weight, so it is a true weighted mean. torch's ``weight`` argument divides
by the element count instead: compare with torch using ``reduction="sum"``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._fused import fused_by
from ._result import LossResult, elementwise, finish, folded_scale, in_output_dtype, row_blocks


def softplus(x: np.ndarray) -> np.ndarray:
    r"""log(1 + e^x) without overflow: max(x, 0) + log1p(e^{-|x|}).

    .. math::

        \operatorname{softplus}(x) = \log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|}),
        \qquad \operatorname{softplus}'(x) = \sigma(x)

    The exponent is never positive, so a logit of 1000 gives 1000, not inf; it is
    :math:`-\log\sigma(-x)`, the binary cross-entropy of a logit x with target 0.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    ndarray of x's shape
        softplus of each element, in x's floating dtype.

    See Also
    --------
    sigmoid : its derivative.

    Examples
    --------
    >>> softplus(np.array([-1000.0, 0.0, 1000.0])).round(4).tolist()
    [0.0, 0.6931, 1000.0]

    References
    ----------
    Goodfellow, Bengio & Courville, *Deep Learning* (2016), section 3.10.
    """
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    r"""1 / (1 + e^{-x}) without overflow, via e^{-softplus(-x)}.

    .. math::

        \sigma(x) = \frac{1}{1 + e^{-x}} = e^{-\operatorname{softplus}(-x)},
        \qquad \sigma'(x) = \sigma(x)\,\sigma(-x)

    Parameters
    ----------
    x : ndarray of any shape
        Logits; ±inf give 1 and 0.

    Returns
    -------
    ndarray of x's shape
        Probabilities in [0, 1], in x's floating dtype.

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    >>> bool(np.isclose(sigmoid(np.array(2.0)) + sigmoid(np.array(-2.0)), 1.0))
    True

    References
    ----------
    Goodfellow, Bengio & Courville, *Deep Learning* (2016), section 3.10.
    """
    return np.exp(-softplus(-x))


def _bce_case(*, pos_weight, weight, label_smoothing, sample_weight):
    """The fused kernel covers sigmoid BCE with every option: (ε, None) without weights,
    else (ε, the weights) checked against the logits by :func:`_bce_inputs`."""
    smoothing = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    plain = pos_weight is None and weight is None and sample_weight is None
    return (smoothing, None if plain else _BceWeights(pos_weight, weight, sample_weight))


class _BceWeights(NamedTuple):
    """BCE's weight options, which need the logits' shape to check (``prepare``)."""

    pos_weight: ArrayLike | None
    weight: ArrayLike | None
    sample_weight: ArrayLike | None

    def prepare(self, x):
        """(π, w) as the loss checks them: each None or an array broadcastable to x."""
        pos_weight = v.as_weights(self.pos_weight, "pos_weight", x.dtype, x.shape)
        return pos_weight, v.element_weight(x, self.weight, self.sample_weight)


def _bce_inputs(logits, target, reduction, smoothing, weights):
    """The checks of sigmoid BCE: (logits, target, ε, (π, w) or None); the kernel checks
    the target's range."""
    v.check_reduction(reduction)
    x, y, _ = _binary_inputs(logits, target, None, None, "logits", check_target=False)
    return (x, y, smoothing, None if weights is None else weights.prepare(x))


@fused_by("sigmoid_binary_cross_entropy", case=_bce_case, inputs=_bce_inputs)
def sigmoid_binary_cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    pos_weight: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Binary cross-entropy on logits, torch's ``binary_cross_entropy_with_logits``.

    .. math::

        l = w\,[\,\pi\, y \operatorname{softplus}(-x) + (1-y) \operatorname{softplus}(x)\,],
        \qquad \frac{\partial l}{\partial x} = w\,[(1-y)\sigma(x) - \pi\, y\, \sigma(-x)]

    using :math:`-\log\sigma(x) = \operatorname{softplus}(-x)` (stable for any finite x).
    :math:`\pi` = ``pos_weight`` (broadcast over the last axis), :math:`w` = ``weight``
    × ``sample_weight``, and label smoothing replaces y by :math:`y(1-\varepsilon) + \varepsilon/2`.
    The mean divides by the total weight; torch's ``weight`` divides by the element
    count, so compare weighted losses with torch under ``reduction="sum"``.

    Parameters
    ----------
    logits : array of any shape, (N,) or (N, K) in practice
        The scores x before the sigmoid; the gradient is with respect to them.
    target : array of the logits' shape, values in [0, 1]
        Labels 0/1 or probabilities y.
    pos_weight : array broadcastable to the logits, optional
        :math:`\pi`, the weight of the positive term, one per column (K,) for a
        multi-label problem: above 1 favours recall.
    weight : array broadcastable to the logits, optional
        Element weights :math:`w`.
    label_smoothing : float in [0, 1], default 0
        ε above.
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis), multiplied into ``weight``.
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the logits' shape for "none")
        and its gradient with respect to the logits, of their shape and dtype.

    Raises
    ------
    ValueError
        If shapes differ, a target is outside [0, 1] or an option is out of range.

    See Also
    --------
    binary_cross_entropy : the same loss on probabilities.
    sigmoid_focal : down-weights the examples already classified well.

    Examples
    --------
    >>> round(sigmoid_binary_cross_entropy(np.array([0.0]), np.array([1.0])).value, 4)
    0.6931
    >>> result = sigmoid_binary_cross_entropy(np.array([0.0, 2.0]), np.array([1.0, 0.0]))
    >>> round(result.value, 4), result.grad.round(4).tolist()  # grad = (σ(x) - y) / N
    (1.41, [-0.25, 0.4404])

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.functional.binary_cross_entropy_with_logits.html
    """
    v.check_reduction(reduction)
    x, y, w = _binary_inputs(logits, target, weight, sample_weight, "logits", check_target=False)
    eps = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    v.check_range(y, "target", 0, 1)
    pw = None if pos_weight is None else v.as_weights(pos_weight, "pos_weight", x.dtype, x.shape)
    return _sigmoid_bce_blocks(x, y, eps, pw, w, reduction)


def _sigmoid_bce_blocks(x, y, eps, pos_weight, weight, reduction):
    """Sigmoid BCE a block of rows at a time (one exp and one log1p per element).

    With e = exp(-|x|), softplus(x) = max(x, 0) + log1p(e) and σ(x) = (1 or e) / (1 + e);
    softplus(-x) = softplus(x) - x, so l = (1 - y + πy) softplus(x) - πy x and
    dl/dx = (1 - y + πy) σ(x) - πy, times the weight w and the mean's scale.
    """
    shape = x.shape
    rows = shape[0] if x.ndim else 1
    cols = math.prod(shape[1:])  # not -1: an empty batch (0, C) has no size to infer C from
    x2, y2 = x.reshape(rows, cols), y.reshape(rows, cols)
    w2 = None if weight is None else weight.reshape(rows, cols)
    pw2 = None if pos_weight is None else np.broadcast_to(pos_weight, shape).reshape(rows, cols)
    grad = np.empty(x2.shape, x.dtype)
    losses = np.empty(x2.shape, x.dtype)
    total = x.size if weight is None else weight.sum(dtype=np.float64)
    scale = folded_scale(reduction, total, x.dtype)
    step = x.dtype.type(1.0 if scale is None else scale)
    for block in row_blocks(rows, x2.shape[1] * x.itemsize):
        # C-contiguous blocks: other layouts are copied block by block (see classification)
        xb, yb = np.ascontiguousarray(x2[block]), np.ascontiguousarray(y2[block])
        if eps:
            yb = yb * x.dtype.type(1 - eps) + x.dtype.type(eps / 2)
        out, g = losses[block], grad[block]
        nonneg = _log1p_exp_and_sigmoid(xb, out, g)
        # l = factor log1p(e) + x (factor [x ≥ 0] - πy): softplus(x) = max(x, 0) + log1p(e)
        # with the max folded into x's coefficient, so an infinite logit gives inf, not inf - inf
        if pw2 is None:  # π = 1: factor = 1, dl/dx = σ(x) - y
            slope = nonneg - yb
            g -= yb
        else:
            pos = yb * pw2[block]  # πy
            factor = 1 - yb + pos
            out *= factor
            slope = factor * nonneg - pos
            g *= factor
            g -= pos
        with np.errstate(invalid="ignore"):  # 0 · inf: an infinite logit with a target of 0 or 1
            slope *= xb
        out += slope
        if w2 is not None:
            out *= w2[block]
            g *= w2[block] * step
        elif step != 1:
            g *= step
    return finish(losses.reshape(shape), grad.reshape(shape), reduction, scale, total)


def _log1p_exp_and_sigmoid(x, out, g):
    """out = log1p(e) and g = σ(x) with e = exp(-|x|) (one exp, one log1p per element);
    returns the mask x ≥ 0, with which softplus(x) = max(x, 0) + out."""
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=out)
    np.add(e, 1, out=g)
    np.divide(1, g, out=g)
    nonneg = x >= 0
    # σ(x) = (1 if x ≥ 0 else e) / (1 + e), as arithmetic: a masked multiply (where=) or
    # np.where on a random sign pattern cost 50 times more (branch mispredictions)
    numerator = np.subtract(1, e)
    numerator *= nonneg
    numerator += e
    g *= numerator
    return nonneg


@in_output_dtype
def binary_cross_entropy(
    probs: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Binary cross-entropy on probabilities, torch's ``binary_cross_entropy``.

    .. math::

        l = -w\,[\,y \max(\log p, -100) + (1-y)\max(\log(1-p), -100)\,], \qquad
        \frac{\partial l}{\partial p} = w\,\frac{p - y}{\max(p(1-p),\ 10^{-12})}

    The clamps are torch's: a probability of exactly 0 or 1 gives a finite value
    (at most 100) and a finite gradient. Label smoothing replaces y by
    :math:`y(1-\varepsilon) + \varepsilon/2`, as :func:`sigmoid_binary_cross_entropy`
    does, so the two agree on ``probs = sigmoid(logits)``.

    Parameters
    ----------
    probs : array of any shape, values in [0, 1]
        Predicted probabilities p; the gradient is with respect to them.
    target : array of the probs' shape, values in [0, 1]
        Labels 0/1 or probabilities y.
    weight : array broadcastable to ``probs``, optional
        Element weights :math:`w`.
    label_smoothing : float in [0, 1], default 0
        ε above.
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis), multiplied into ``weight``.
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the probs' shape for "none")
        and its gradient with respect to ``probs``, of their shape and dtype.

    Raises
    ------
    ValueError
        If shapes differ or a probability or target is outside [0, 1].

    See Also
    --------
    sigmoid_binary_cross_entropy : the same loss on logits, stable where p saturates.

    Examples
    --------
    >>> round(binary_cross_entropy(np.array([0.8]), np.array([1.0])).value, 4)
    0.2231
    >>> round(binary_cross_entropy(np.array([0.8]), np.array([1.0]), label_smoothing=0.2).value, 4)
    0.3618

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.functional.binary_cross_entropy.html
    """
    v.check_reduction(reduction)
    p, y, w = _binary_inputs(probs, target, weight, sample_weight, "probs")
    v.check_range(p, "probs", 0, 1)
    eps = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    if eps:
        y = y * p.dtype.type(1 - eps) + p.dtype.type(eps / 2)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
    losses = -(y * log_p + (1 - y) * log_q)
    grad = (p - y) / np.maximum(p * (1 - p), p.dtype.type(1e-12))
    return elementwise(losses, grad, w, reduction)


@in_output_dtype
def sigmoid_focal(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: float | None = 0.25,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Sigmoid focal loss, torchvision's ``sigmoid_focal_loss``.

    .. math::

        l = \alpha_t\, \text{ce}\, m^\gamma, \quad
        \text{ce} = y \operatorname{softplus}(-x) + (1-y)\operatorname{softplus}(x), \quad
        m = 1 - p_t = \sigma(x)(1-y) + \sigma(-x)\,y

    with :math:`\alpha_t = \alpha y + (1-\alpha)(1-y)` (``alpha=None`` drops it). Gradient:

    .. math::

        \frac{\partial l}{\partial x} = \alpha_t\, m^\gamma \Big[(\sigma(x) - y)
        + \gamma\, \frac{\text{ce}}{m} (1 - 2y)\, \sigma(x)\sigma(-x)\Big]

    where :math:`\text{ce}/m` is taken as 1 when m = 0 (its limit), so every
    :math:`\gamma \ge 0` stays finite at saturated logits. With ``gamma=0`` and
    ``alpha=None`` it is :func:`sigmoid_binary_cross_entropy`.

    Parameters
    ----------
    logits : array of any shape, (N,) or (N, K) in practice
        The scores x before the sigmoid; the gradient is with respect to them.
    target : array of the logits' shape, values in [0, 1]
        Labels 0/1 (or probabilities) y.
    gamma : float >= 0, default 2
        The focusing exponent γ: the larger, the less the well-classified examples
        (m near 0) count.
    alpha : float in [0, 1] or None, default 0.25
        The positives' weight α (the negatives get 1 - α); None weighs both alike.
    weight : array broadcastable to the logits, optional
        Element weights :math:`w`.
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis), multiplied into ``weight``.
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the logits' shape for "none")
        and its gradient with respect to the logits, of their shape and dtype.

    Raises
    ------
    ValueError
        If shapes differ, a target is outside [0, 1] or an option is out of range.

    Examples
    --------
    >>> round(sigmoid_focal(np.array([0.0]), np.array([1.0]), gamma=0.0, alpha=None).value, 4)
    0.6931

    A confident correct logit (3) costs about 1,800 times less than under
    cross-entropy, a wrong one (-1) only 7 times less (both ratios are 1 / (α m^γ)):

    >>> x, y = np.array([3.0, -1.0]), np.array([1.0, 1.0])
    >>> focal = sigmoid_focal(x, y, reduction="none").value
    >>> ce = sigmoid_binary_cross_entropy(x, y, reduction="none").value
    >>> np.round(ce / focal).tolist()
    [1778.0, 7.0]

    References
    ----------
    Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection",
    ICCV (2017); torchvision.ops.sigmoid_focal_loss.
    """
    v.check_reduction(reduction)
    x, y, w = _binary_inputs(logits, target, weight, sample_weight, "logits")
    gamma = v.check_scalar(gamma, "gamma", low=0)
    p, not_p = sigmoid(x), sigmoid(-x)
    ce = y * softplus(-x) + (1 - y) * softplus(x)
    m = p * (1 - y) + not_p * y
    focus = m**gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        ce_over_m = np.where(m > 0, ce / m, 1.0).astype(x.dtype)
    losses = ce * focus
    grad = focus * ((p - y) + gamma * ce_over_m * (1 - 2 * y) * p * not_p)
    if alpha is not None:
        alpha = v.check_scalar(alpha, "alpha", 0, 1)
        alpha_t = alpha * y + (1 - alpha) * (1 - y)
        losses *= alpha_t
        grad *= alpha_t
    return elementwise(losses, grad, w, reduction)


@in_output_dtype
def hinge(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    margin: float = 1.0,
    squared: bool = False,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Binary hinge loss, scikit-learn's ``SGDClassifier(loss="hinge"|"squared_hinge")``.

    .. math::

        l = \max(0, \Delta - y s)^p, \qquad
        \frac{\partial l}{\partial s} = -p\, y \max(0, \Delta - y s)^{p-1}\,[\Delta - y s > 0]

    with y in {-1, +1} (a target of 0 is read as -1), p = 2 when ``squared``.

    Parameters
    ----------
    scores : array of any shape, (N,) in practice
        The signed scores s (positive: class +1); the gradient is with respect to them.
    target : array of the scores' shape
        Labels in {-1, +1}; 0 is read as -1, so {0, 1} labels work too.
    margin : float, default 1
        Δ, the score margin a correct example must clear to cost nothing.
    squared : bool, default False
        The squared hinge (p = 2), differentiable at the margin.
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the scores' shape for "none")
        and its gradient with respect to the scores, of their shape and dtype.

    Raises
    ------
    ValueError
        If shapes differ or a label is not -1, 0 or +1.

    See Also
    --------
    multiclass_hinge : the multiclass SVM loss.
    modified_huber : a smoothed hinge that grows linearly.

    Examples
    --------
    >>> hinge(np.array([0.5, 2.0]), np.array([1, 1]), reduction="none").value.tolist()
    [0.5, 0.0]
    >>> hinge(np.array([0.5, 2.0]), np.array([1, 1]), squared=True, reduction="none").grad.tolist()
    [-1.0, -0.0]

    References
    ----------
    Cortes & Vapnik, "Support-Vector Networks", Machine Learning 20 (1995);
    scikit-learn's ``sklearn.linear_model.SGDClassifier``.
    """
    v.check_reduction(reduction)
    s, y, w = _signed_inputs(scores, target, sample_weight)
    margin = v.check_scalar(margin, "margin")
    h = np.maximum(margin - y * s, 0)  # NaN stays NaN
    if squared:
        return elementwise(h * h, -2 * y * h, w, reduction)
    return elementwise(h, -y * np.sign(h), w, reduction)  # sign: 1, 0, or NaN


@in_output_dtype
def modified_huber(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Modified Huber loss, scikit-learn's ``SGDClassifier(loss="modified_huber")``.

    With :math:`z = y s`: :math:`l = \max(0, 1 - z)^2` for :math:`z \ge -1`, else
    :math:`-4z`; :math:`\partial l / \partial s = -2y\max(0, 1-z)` for :math:`z \ge -1`,
    else :math:`-4y`. A smoothed hinge that grows linearly, so outliers cost less.
    The two pieces meet with equal value (4) and slope at z = -1.

    Parameters
    ----------
    scores : array of any shape, (N,) in practice
        The signed scores s (positive: class +1); the gradient is with respect to them.
    target : array of the scores' shape
        Labels in {-1, +1}; 0 is read as -1, so {0, 1} labels work too.
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the scores' shape for "none")
        and its gradient with respect to the scores, of their shape and dtype.

    Raises
    ------
    ValueError
        If shapes differ or a label is not -1, 0 or +1.

    See Also
    --------
    hinge : the hinge and squared hinge.

    Examples
    --------
    >>> modified_huber(np.array([2.0, 0.0, -3.0]), np.array([1, 1, 1]), reduction="none").value.tolist()
    [0.0, 1.0, 12.0]

    References
    ----------
    Zhang, "Solving large scale linear prediction problems using stochastic gradient
    descent algorithms", ICML (2004); scikit-learn's ``SGDClassifier``.
    """
    v.check_reduction(reduction)
    s, y, w = _signed_inputs(scores, target, sample_weight)
    z = y * s
    linear = z < -1  # False for NaN, which then takes the quadratic branch and stays NaN
    h = np.maximum(1 - z, 0)
    losses = np.where(linear, -4 * z, h * h)
    grad = np.where(linear, -4 * y, -2 * y * h)
    return elementwise(losses, grad, w, reduction)


@in_output_dtype
def perceptron(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Perceptron loss :math:`\max(0, -y s)`, scikit-learn's ``loss="perceptron"``.

    Gradient :math:`-y` where :math:`-ys > 0`, else 0 (a point on the boundary is
    not a mistake: only strictly positive losses count).

    Parameters
    ----------
    scores : array of any shape, (N,) in practice
        The signed scores s (positive: class +1); the gradient is with respect to them.
    target : array of the scores' shape
        Labels in {-1, +1}; 0 is read as -1, so {0, 1} labels work too.
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the scores' shape for "none")
        and its gradient with respect to the scores, of their shape and dtype.

    Raises
    ------
    ValueError
        If shapes differ or a label is not -1, 0 or +1.

    See Also
    --------
    hinge : the same with a margin Δ (the perceptron is Δ = 0).

    Examples
    --------
    >>> perceptron(np.array([-2.0, 3.0]), np.array([1, 1]), reduction="none").value.tolist()
    [2.0, 0.0]
    >>> perceptron(np.array([-2.0, 3.0]), np.array([1, 0]), reduction="none").grad.tolist()
    [-1.0, 1.0]

    References
    ----------
    Rosenblatt, "The perceptron: a probabilistic model for information storage and
    organization in the brain", Psychological Review 65 (1958); scikit-learn's
    ``SGDClassifier(loss="perceptron")``.
    """
    v.check_reduction(reduction)
    s, y, w = _signed_inputs(scores, target, sample_weight)
    h = np.maximum(-y * s, 0)
    return elementwise(h, -y * np.sign(h), w, reduction)  # NaN stays NaN


def _binary_inputs(output, target, weight, sample_weight, name, check_target=True):
    x = v.as_output(output, name)
    y = v.as_values(target, "target", x.dtype)
    v.check_same_shape(x, y, name, "target")
    if check_target:
        v.check_range(y, "target", 0, 1)
    return x, y, v.element_weight(x, weight, sample_weight)


def _signed_inputs(scores, target, sample_weight):
    s = v.as_output(scores, "scores")
    y = v.as_values(target, "target", s.dtype)
    v.check_same_shape(s, y, "scores", "target")
    if not np.all((y == -1) | (y == 0) | (y == 1)):
        bad = y[(y != -1) & (y != 0) & (y != 1)].flat[0]
        raise ValueError(f"target: expected labels in {{-1, +1}} (0 = -1), got {bad} instead")
    y = np.where(y == 0, s.dtype.type(-1), y)
    return s, y, v.element_weight(s, None, sample_weight)
