"""Multiclass losses on scores of shape (N, C): hinge, softmax cross-entropy, focal.

Conventions (see DESIGN.md): integer ``target`` of shape (N,) holds class
labels; a float ``target`` of shape (N, C) holds class probabilities. The
gradient is with respect to the first argument and has its shape and dtype.
"""

from __future__ import annotations

import numpy as np

from . import validation as v
from ._fused import fused_by
from ._result import in_output_dtype, reduce

HINGE_KINDS = ("weston_watkins", "crammer_singer")


def _label_rows(scores, target, reduction):
    """A multiclass loss's checks for integer labels: (scores, labels); None for probabilities."""
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        return None
    return scores, v.as_labels(target, *scores.shape)


def log_softmax(scores):
    """Row-wise log-softmax, stable for any finite scores (shift by the row max).

    A score of -inf is a masked class (log-probability -inf); a row of only -inf
    is NaN, as in torch, without a warning.
    """
    with np.errstate(invalid="ignore"):  # -inf - (-inf) in a row of only -inf
        shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _neg_weighted_log(coef, logp):
    """-Σ_c coef_ic log p_ic per row, where a masked class (log p = -inf) of coefficient 0
    adds 0 as in torch (0 · -inf would be NaN); NaN scores stay NaN."""
    losses = -np.einsum("ij,ij->i", coef, logp)
    if np.isnan(losses).any():  # rare: only then pay for the second pass
        losses = -np.einsum("ij,ij->i", coef, np.where(coef != 0, logp, 0))
    return losses


def _weston_watkins_case(*, margin, squared, kind, class_weight, sample_weight):
    """The fused kernel covers the plain Weston-Watkins hinge, without weights."""
    plain = kind == "weston_watkins" and not squared
    if plain and class_weight is None and sample_weight is None:
        return (v.check_scalar(margin, "margin"),)
    return None


@fused_by("multiclass_hinge", case=_weston_watkins_case, inputs=_label_rows)
def multiclass_hinge(
    scores,
    target,
    *,
    margin=1.0,
    squared=False,
    kind="weston_watkins",
    class_weight=None,
    sample_weight=None,
    reduction="mean",
):
    r"""Multiclass SVM (hinge) loss of CS231n lecture 3.

    .. math::

        \text{weston\_watkins:}\quad l_i = w_i \sum_{j \ne y_i} \max(0, s_{ij} - s_{iy_i} + \Delta)^p

        \text{crammer\_singer:}\quad l_i = w_i \max(0, \Delta + \max_{j \ne y_i} s_{ij} - s_{iy_i})^p

    with :math:`\Delta` = ``margin``, :math:`p = 2` when ``squared`` else 1 and
    :math:`w_i` = ``sample_weight[i] * class_weight[y_i]``. The Weston-Watkins
    sum is not divided by C, so it equals C times ``torch.nn.functional.multi_margin_loss``.

    Gradient: each violated margin ``h = max(0, ·) > 0`` adds :math:`p h^{p-1}` to
    ``grad[i, j]`` and subtracts it from ``grad[i, y_i]``. At a kink (margin
    exactly zero) only strictly positive margins count.

    Parameters
    ----------
    scores : array of shape (N, C)
    target : int array of shape (N,)
    margin : float, the safety margin Δ (default 1).
    squared : bool, use the squared hinge (a different loss, not a rescaling).
    kind : {"weston_watkins", "crammer_singer"}
    class_weight : array of shape (C,), optional
    sample_weight : array of shape (N,), optional
    reduction : {"mean", "sum", "none"}
        "mean" divides by the total weight ``sum_i w_i``. torch's
        ``multi_margin_loss`` divides by N even when given ``weight``.

    Examples
    --------
    The CS231n example (rows: cat, car, frog images; columns: their scores):

    >>> scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    >>> per_image, _ = multiclass_hinge(scores, np.array([0, 1, 2]), reduction="none")
    >>> per_image.round(2).tolist()
    [2.9, 0.0, 12.9]
    >>> round(multiclass_hinge(scores, np.array([0, 1, 2])).value, 2)
    5.27

    References
    ----------
    Weston & Watkins (1999); Crammer & Singer (2001); https://cs231n.github.io/linear-classify/
    """
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    n, c = scores.shape
    target = v.as_labels(target, n, c)
    margin = v.check_scalar(margin, "margin")
    if kind not in HINGE_KINDS:
        raise ValueError(f"kind: expected one of {HINGE_KINDS}, got {kind!r} instead")
    weight = _sample_class_weight(target, class_weight, sample_weight, scores.dtype, c)
    hinge_fn = _weston_watkins if kind == "weston_watkins" else _crammer_singer
    losses, grad = hinge_fn(scores, target, margin, squared)
    return _weighted(losses, grad, weight, reduction)


def _weston_watkins(scores, target, margin, squared):
    rows = np.arange(len(target))
    margins = scores - scores[rows, target][:, None]
    margins += margins.dtype.type(margin)
    margins[rows, target] = 0  # the correct class is not compared with itself
    np.maximum(margins, 0, out=margins)  # NaN stays NaN
    if squared:
        losses = np.einsum("ij,ij->i", margins, margins)
        grad = margins * margins.dtype.type(2)
    else:
        losses = margins.sum(axis=1)
        grad = np.sign(margins)  # 1 where violated, 0 where not, NaN where a score is NaN
    grad[rows, target] = 0 - grad.sum(axis=1)  # 0 - x, not -x: no -0.0 when nothing is violated
    return losses, grad


def _crammer_singer(scores, target, margin, squared):
    rows = np.arange(len(target))
    others = scores.copy()
    others[rows, target] = -np.inf
    rival = others.argmax(axis=1)
    h = np.maximum(margin + others[rows, rival] - scores[rows, target], 0).astype(scores.dtype)
    losses = h * h if squared else h
    slope = 2 * h if squared else np.sign(h)  # NaN stays NaN
    grad = np.zeros_like(scores)
    grad[rows, rival] = slope
    grad[rows, target] -= slope
    return losses, grad


def _softmax_case(*, class_weight, label_smoothing, ignore_index, sample_weight):
    """The fused kernel covers cross-entropy of labels without weights, smoothing or ignored labels."""
    plain = class_weight is None and sample_weight is None and ignore_index is None
    return () if plain and not v.check_scalar(label_smoothing, "label_smoothing", 0, 1) else None


@fused_by("softmax_cross_entropy", case=_softmax_case, inputs=_label_rows)
def softmax_cross_entropy(
    scores,
    target,
    *,
    class_weight=None,
    label_smoothing=0.0,
    ignore_index=None,
    sample_weight=None,
    reduction="mean",
):
    r"""Softmax cross-entropy on raw scores (logits): LogSoftmax + NLL in one step.

    .. math::

        p_{ic} = \frac{e^{s_{ic}}}{\sum_k e^{s_{ik}}}, \qquad
        l_i = -\sum_c a_{ic} \log p_{ic}, \qquad
        \frac{\partial l_i}{\partial s_{ic}} = \Big(\sum_k a_{ik}\Big) p_{ic} - a_{ic}

    For integer labels :math:`a_{ic} = w_i[(1-\varepsilon)\,\omega_{y_i} [c=y_i] +
    \varepsilon\,\omega_c / C]` with class weights :math:`\omega`, smoothing
    :math:`\varepsilon` and sample weight :math:`w_i`; without smoothing or weights
    this is :math:`l_i = -\log p_{iy_i}` with gradient :math:`p_i - \text{onehot}(y_i)`.
    For probability targets :math:`q`, :math:`a_{ic} = w_i \omega_c \tilde q_{ic}` with
    :math:`\tilde q = (1-\varepsilon) q + \varepsilon / C`.

    Matches ``torch.nn.functional.cross_entropy`` in values and gradients: with
    labels, "mean" divides by :math:`\sum_i w_i \omega_{y_i}` over non-ignored samples;
    with probability targets it divides by :math:`\sum_i w_i` (N without weights).
    A mean over an empty or all-ignored batch is 0 (torch gives NaN). A score of
    -inf masks its class as in torch: probability 0 and gradient 0 there; at the
    target the loss is inf; a row of only -inf is NaN.

    Parameters
    ----------
    scores : array of shape (N, C)
    target : int array (N,) of labels, or float array (N, C) of class probabilities
    class_weight : array of shape (C,), optional
    label_smoothing : float in [0, 1]
    ignore_index : int, optional; samples with this label contribute nothing.
    sample_weight : array of shape (N,), optional
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    Seed 001: scores (-2.85, 0.86, 0.28), correct class the third:

    >>> round(softmax_cross_entropy(np.array([[-2.85, 0.86, 0.28]]), np.array([2])).value, 3)
    1.04
    """
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    n, c = scores.shape
    label_smoothing = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    if ignore_index is not None:
        ignore_index = v.check_label(ignore_index, "ignore_index")
    cw = v.as_class_weight(class_weight, c, scores.dtype)
    sw = v.as_sample_weight(sample_weight, n, scores.dtype)
    if v.is_integer_array(target):
        target = v.as_labels(target, n, c, ignore_index=ignore_index)
        coef, total = _label_coefficients(
            target, cw, sw, label_smoothing, ignore_index, c, scores.dtype
        )
    else:
        if ignore_index is not None:
            raise ValueError(
                "ignore_index: applies to integer labels only, got probability targets"
            )
        q = _probability_target(target, scores, label_smoothing)
        coef = q if cw is None else q * cw
        coef = coef if sw is None else coef * sw[:, None]
        total = n if sw is None else sw.sum(dtype=np.float64)
    logp = log_softmax(scores)
    losses = _neg_weighted_log(coef, logp)
    grad = np.exp(logp, out=logp)
    grad *= coef.sum(axis=1, keepdims=True)
    grad -= coef
    return reduce(losses, grad, reduction, total)


def _label_coefficients(target, cw, sw, smoothing, ignore_index, n_classes, dtype):
    """The dense coefficient matrix a (N, C) and the mean's denominator for labels."""
    n = len(target)
    keep = np.ones(n, dtype=bool) if ignore_index is None else target != ignore_index
    safe_target = np.where(keep, target, 0)
    w = keep.astype(dtype) if sw is None else sw * keep
    w_target = w if cw is None else w * cw[safe_target]
    coef = np.zeros((n, n_classes), dtype=dtype)
    coef[np.arange(n), safe_target] = (1 - smoothing) * w_target
    if smoothing:
        smooth_row = np.full(n_classes, 1.0, dtype) if cw is None else cw
        coef += (smoothing / n_classes) * w[:, None] * smooth_row
    return coef, float(w_target.sum(dtype=np.float64))


def _probability_target(target, scores, smoothing):
    q = v.as_values(target, "target", scores.dtype)
    if q.shape != scores.shape:
        raise ValueError(
            f"target: float targets are class probabilities of shape {scores.shape}, "
            f"got shape {q.shape} instead (pass class labels as an integer array)"
        )
    v.check_range(q, "target", 0, 1)
    return (1 - smoothing) * q + smoothing / scores.shape[1] if smoothing else q


@in_output_dtype
def categorical_cross_entropy(
    probs, target, *, class_weight=None, sample_weight=None, reduction="mean"
):
    r"""Cross-entropy on probabilities (not logits).

    .. math::

        l_i = -\sum_c a_{ic} \max(\log p_{ic}, -100), \qquad
        \frac{\partial l_i}{\partial p_{ic}} = -\frac{a_{ic}}{\max(p_{ic}, 10^{-12})}

    with :math:`a_{ic} = w_i \omega_c [c = y_i]` for labels (so :math:`l_i = -\log p_{iy_i}`),
    or :math:`w_i \omega_c q_{ic}` for probability targets. ``probs`` need not sum to one:
    the loss is computed as given (seed 003). The log is clamped at -100 as torch
    does; the gradient's denominator is clamped at 1e-12 as in torch's
    ``binary_cross_entropy`` so that a probability of exactly 0 gives a finite gradient.
    "mean" divides by :math:`\sum_i w_i \omega_{y_i}` for labels, :math:`\sum_i w_i` for
    probability targets.

    Examples
    --------
    Seed 003: true class lion, predicted (dog 0.5, cat 0.1, lion 0.3):

    >>> round(categorical_cross_entropy(np.array([[0.5, 0.1, 0.3]]), np.array([2])).value, 3)
    1.204
    """
    v.check_reduction(reduction)
    probs = v.as_output(probs, "probs", ndim=2)
    n, c = probs.shape
    v.check_range(probs, "probs", 0, 1)
    cw = v.as_class_weight(class_weight, c, probs.dtype)
    sw = v.as_sample_weight(sample_weight, n, probs.dtype)
    if v.is_integer_array(target):
        labels = v.as_labels(target, n, c)
        coef, total = _label_coefficients(labels, cw, sw, 0.0, None, c, probs.dtype)
    else:
        coef = _probability_target(target, probs, 0.0)
        coef = coef if cw is None else coef * cw
        coef = coef if sw is None else coef * sw[:, None]
        total = n if sw is None else sw.sum(dtype=np.float64)
    coef = coef.astype(probs.dtype, copy=False)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(probs), -100)
    losses = -np.einsum("ij,ij->i", coef, log_p)
    grad = -coef / np.maximum(probs, probs.dtype.type(1e-12))
    return reduce(losses, grad, reduction, total)


def _focal_case(*, gamma, alpha, sample_weight):
    """The fused kernel covers focal loss of labels without alpha or sample weights."""
    if alpha is None and sample_weight is None:
        return (v.check_scalar(gamma, "gamma", low=0),)
    return None


@fused_by("softmax_focal", case=_focal_case, inputs=_label_rows)
def softmax_focal(scores, target, *, gamma=2.0, alpha=None, sample_weight=None, reduction="mean"):
    r"""Softmax focal loss (Lin et al., 2017): cross-entropy that down-weights easy examples.

    .. math::

        l_i = -w_i \sum_c \alpha_c q_{ic} (1 - p_{ic})^\gamma \log p_{ic}

    with :math:`q` one-hot for integer labels, so :math:`l_i = -\alpha_{y_i}(1-p_{iy_i})^\gamma \log p_{iy_i}`.
    Writing :math:`u_c = w_i \alpha_c q_{ic} (1-p_c)^\gamma (\gamma p_c r_c - 1)` with
    :math:`r_c = \log p_c / (1 - p_c)` (taken as -1 when :math:`p_c = 1`, and
    :math:`p_c r_c` as 0 when :math:`p_c = 0`: a masked class, score -inf),
    the gradient is :math:`\partial l_i / \partial s_k = u_k - p_k \sum_c u_c`.
    This form stays finite for every :math:`\gamma \ge 0`, also when a probability
    saturates at exactly 0 or 1. :math:`\gamma = 0` gives softmax cross-entropy.

    ``alpha`` is part of the formula (None = 1, a float, or an array of shape (C,)),
    not a weight of the mean: "mean" divides by :math:`\sum_i w_i` (N without weights).

    Examples
    --------
    >>> scores = np.array([[2.0, 0.0, 0.0]])
    >>> ce = softmax_cross_entropy(scores, np.array([0])).value
    >>> bool(softmax_focal(scores, np.array([0]), gamma=2.0).value < ce)
    True

    References
    ----------
    Lin, Goyal, Girshick, He, Dollár. Focal Loss for Dense Object Detection. ICCV 2017.
    """
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    n, c = scores.shape
    gamma = v.check_scalar(gamma, "gamma", low=0)
    alpha_c = _focal_alpha(alpha, c, scores.dtype)
    sw = v.as_sample_weight(sample_weight, n, scores.dtype)
    if v.is_integer_array(target):
        labels = v.as_labels(target, n, c)
        q = np.zeros_like(scores)
        q[np.arange(n), labels] = 1
    else:
        q = _probability_target(target, scores, 0.0)
    coef = q * alpha_c if sw is None else q * alpha_c * sw[:, None]
    logp = log_softmax(scores)
    p = np.exp(logp)
    one_minus_p = -np.expm1(logp)  # accurate when p is close to 1
    focus = one_minus_p**gamma
    losses = _neg_weighted_log(coef * focus, logp)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(one_minus_p > 0, logp / one_minus_p, -1.0)
        # p log p → 0 as p → 0: a masked class (-inf score, p = 0) adds 0, not 0 · -inf
        p_ratio = np.where(p > 0, p * ratio, 0).astype(scores.dtype)
    u = coef * focus * (gamma * p_ratio - 1)
    grad = u - p * u.sum(axis=1, keepdims=True)
    total = n if sw is None else sw.sum(dtype=np.float64)
    return reduce(losses, grad, reduction, total)


def _focal_alpha(alpha, n_classes, dtype):
    if alpha is None:
        return np.ones(n_classes, dtype)
    if np.ndim(alpha) == 0:
        return np.full(n_classes, v.check_scalar(alpha, "alpha", low=0), dtype)
    return v.as_class_weight(alpha, n_classes, dtype, name="alpha")


def class_weights(y, n_classes, kind="balanced"):
    r"""Per-class weights from the label frequencies of ``y``.

    - ``"balanced"``: :math:`n / (C \cdot n_c)`, scikit-learn's ``class_weight="balanced"``.
    - ``"inverse_frequency"``: :math:`1 / \alpha_c = n / n_c`, the seeds' balanced
      cross-entropy where :math:`\alpha_c` is the fraction of data in class c.

    "Balanced cross-entropy" is ``softmax_cross_entropy(s, y, class_weight=class_weights(y, C))``.

    >>> class_weights(np.array([0, 0, 0, 1]), 2).tolist()
    [0.6666666666666666, 2.0]
    """
    y = np.asarray(y)
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(f"n_classes: expected a positive integer, got {n_classes!r} instead")
    if y.ndim != 1:
        raise ValueError(f"y: expected a 1-D array of labels, got shape {y.shape} instead")
    y = v.as_labels(y, len(y), n_classes, name="y")
    counts = np.bincount(y, minlength=n_classes)
    if np.any(counts == 0):
        missing = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(f"y: expected every class to occur, got no sample of class {missing}")
    if kind == "balanced":
        return len(y) / (n_classes * counts)
    if kind == "inverse_frequency":
        return len(y) / counts
    raise ValueError(f"kind: expected 'balanced' or 'inverse_frequency', got {kind!r} instead")


def _sample_class_weight(target, class_weight, sample_weight, dtype, n_classes):
    """w_i = sample_weight[i] * class_weight[y_i], or None when neither is given."""
    cw = v.as_class_weight(class_weight, n_classes, dtype)
    sw = v.as_sample_weight(sample_weight, len(target), dtype)
    if cw is None:
        return sw
    return cw[target] if sw is None else sw * cw[target]


def _weighted(losses, grad, weight, reduction):
    if weight is None:
        return reduce(losses, grad, reduction)
    losses *= weight
    grad *= weight[:, None]
    return reduce(losses, grad, reduction, weight.sum(dtype=np.float64))
