"""Multiclass losses on scores of shape (N, C): hinge, softmax cross-entropy, focal.

Conventions (see DESIGN.md): integer ``target`` of shape (N,) holds class
labels; a float ``target`` of shape (N, C) holds class probabilities. The
gradient is with respect to the first argument and has its shape and dtype.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._fused import fused_by
from ._result import LossResult, finish, folded_scale, in_output_dtype, reduce, row_blocks

HINGE_KINDS = ("weston_watkins", "crammer_singer")


def _label_rows(scores, target, reduction, *extra):
    """A multiclass loss's checks for integer labels and its kernel's arguments:
    (scores, labels, *extra), the options object at the end of ``extra`` (if any)
    turned into per-row weights; None for probability targets."""
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    target = np.asarray(target)
    if target.dtype.kind not in "iu":
        return None
    v.warn_if_probabilities(scores, "this loss")
    if not extra or not isinstance(extra[-1], _KernelOptions):
        return (scores, v.as_labels(target, *scores.shape), *extra)
    labels, weights = extra[-1].prepare(scores, target)
    return (scores, labels, *extra[:-1], weights)


def _softmax_rows(scores, target, reduction, *extra):
    """:func:`_label_rows` for the softmax family, which has kernels for probability
    targets too: (scores, q, *extra, weights), the options (the last of ``extra``; None
    for the defaults) turned into :meth:`_KernelOptions.prepare_probabilities`' weights."""
    if v.is_integer_array(target):
        return _label_rows(scores, target, reduction, *extra)
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    v.warn_if_probabilities(scores, "this loss")
    options = _KernelOptions(None, None) if extra[-1] is None else extra[-1]
    return (scores, *options.prepare_probabilities(scores, target, extra[:-1]))


class _KernelOptions(NamedTuple):
    """Weight options a loss's kernel takes once the targets are known (see :func:`_label_rows`;
    :meth:`prepare_probabilities` for probability targets).

    ``prepare(scores, target)`` checks them as the loss does and returns the
    labels (ignored ones replaced by 0) and the kernel's weights: for the softmax
    family (``smoothing`` not None) (a_y, w_i, ε ω_c / C or None, total) of
    :class:`_LabelWeights`, α folded in; for the hinge (w_i, total).
    """

    class_weight: ArrayLike | None
    sample_weight: ArrayLike | None
    smoothing: float | None = None
    ignore_index: int | None = None
    alpha: float | ArrayLike | None = None

    def prepare(self, scores, target):
        n, c = scores.shape
        dtype = scores.dtype
        ignore = (
            None if self.ignore_index is None else v.check_label(self.ignore_index, "ignore_index")
        )
        labels = v.as_labels(target, n, c, ignore_index=ignore)
        cw = v.as_class_weight(self.class_weight, c, dtype)
        sw = v.as_sample_weight(self.sample_weight, n, dtype)
        if self.smoothing is None:
            w = _sample_class_weight(labels, cw, sw, dtype, c)
            return labels, (np.ascontiguousarray(w, dtype), w.sum(dtype=np.float64))
        weights = _LabelWeights.of(labels, cw, sw, ignore, self.smoothing, c)
        alpha = _focal_alpha(self.alpha, c, dtype)
        on_target = np.broadcast_to(weights.on_target, (n,))
        spread = np.zeros(c) if weights.spread is None else weights.spread
        if alpha is not None:
            on_target = on_target * alpha[weights.labels]
            spread = spread * alpha
        row = np.ones(n) if weights.row is None else weights.row
        # always three arrays of the scores' dtype: numba compiles one weighted case per dtype
        arrays = (np.ascontiguousarray(a, dtype) for a in (on_target, row, spread))
        return np.ascontiguousarray(weights.labels), (*arrays, weights.total)

    def prepare_probabilities(self, scores, target, extra):
        """(q, *extra, weights) for probability targets, checked as the loss checks them:
        q as given (of the scores' dtype), weights (w_i, t_c, spread_c, total) with
        a_ic = w_i (t_c q_ic + spread_c), t = ω α (1 - ε), spread = ω α ε / C."""
        if self.ignore_index is not None:
            raise ValueError(
                "ignore_index: applies to integer labels only, got probability targets"
            )
        n, c = scores.shape
        dtype = scores.dtype
        q = _probability_target(target, scores, 0.0)
        smoothing = self.smoothing or 0.0
        per_class = v.as_class_weight(self.class_weight, c, dtype)
        alpha = _focal_alpha(self.alpha, c, dtype)
        per_class = np.ones(c) if per_class is None else per_class.astype(np.float64)
        per_class = per_class if alpha is None else per_class * alpha
        sw = v.as_sample_weight(self.sample_weight, n, dtype)
        total = n if sw is None else sw.sum(dtype=np.float64)
        row = np.ones(n) if sw is None else sw
        arrays = (row, per_class * (1 - smoothing), per_class * (smoothing / c))
        # always three arrays of the scores' dtype: numba compiles one case per dtype
        return (q, *extra, (*(np.ascontiguousarray(a, dtype) for a in arrays), total))


def log_softmax(scores: np.ndarray) -> np.ndarray:
    r"""Row-wise log-softmax, stable for any finite scores (shift by the row max).

    .. math::

        \log p_{ic} = s_{ic} - m_i - \log \sum_k e^{s_{ik} - m_i}, \qquad m_i = \max_k s_{ik}

    A score of -inf is a masked class (log-probability -inf); a row of only -inf
    is NaN, as in torch, without a warning.

    Parameters
    ----------
    scores : array of shape (N, C)
        Raw scores (logits), one row per sample.

    Returns
    -------
    numpy.ndarray
        The log-probabilities, of the scores' shape and dtype.

    Examples
    --------
    Shifting a row changes nothing; a masked class gets probability 0:

    >>> log_softmax(np.array([[1.0, 2.0, 3.0], [1001.0, 1002.0, 1003.0]])).round(4).tolist()
    [[-2.4076, -1.4076, -0.4076], [-2.4076, -1.4076, -0.4076]]
    >>> np.exp(log_softmax(np.array([[0.0, 0.0, -np.inf]]))).tolist()
    [[0.5, 0.5, 0.0]]

    References
    ----------
    https://cs231n.github.io/linear-classify/#softmax-classifier
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


def _hinge_case(*, margin, squared, kind, class_weight, sample_weight):
    """The fused kernels cover both hinges, squared or not, with any weights."""
    if kind not in HINGE_KINDS or not isinstance(squared, bool):
        return None  # the reference says what is wrong
    plain = class_weight is None and sample_weight is None
    options = None if plain else _KernelOptions(class_weight, sample_weight)
    return (v.check_scalar(margin, "margin"), squared, kind, options)


@fused_by("multiclass_hinge", case=_hinge_case, inputs=_label_rows)
def multiclass_hinge(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    margin: float = 1.0,
    squared: bool = False,
    kind: str = "weston_watkins",
    class_weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
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
        The class scores :math:`s_{ij}` (any real values; not probabilities).
    target : int array of shape (N,)
        The correct class :math:`y_i` of each row, in 0..C-1.
    margin : float, default 1.0
        The safety margin Δ > 0.
    squared : bool, default False
        Square each violated margin: a different loss, not a rescaling.
    kind : {"weston_watkins", "crammer_singer"}, default "weston_watkins"
        Sum over every wrong class, or only the highest-scoring one.
    class_weight : array of shape (C,), optional
        A weight per class, applied by each row's correct class.
    sample_weight : array of shape (N,), optional
        A weight per row.
    reduction : {"mean", "sum", "none"}, default "mean"
        "mean" divides by the total weight ``sum_i w_i``. torch's
        ``multi_margin_loss`` divides by N even when given ``weight``.

    Returns
    -------
    LossResult
        ``value``: the reduced loss (per-row losses of shape (N,) for "none");
        ``grad``: its gradient with respect to ``scores``, shape (N, C).

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
    v.warn_if_probabilities(scores, "multiclass_hinge")
    n, c = scores.shape
    target = v.as_labels(target, n, c)
    margin = v.check_scalar(margin, "margin")
    if kind not in HINGE_KINDS:
        raise ValueError(f"kind: expected one of {HINGE_KINDS}, got {kind!r} instead")
    weight = _sample_class_weight(target, class_weight, sample_weight, scores.dtype, c)
    if kind == "crammer_singer":
        return _weighted(*_crammer_singer(scores, target, margin, squared), weight, reduction)
    return _weston_watkins(scores, target, margin, squared, weight, reduction)


def _weston_watkins(scores, target, margin, squared, weight, reduction):
    """The Weston-Watkins hinge a block of rows at a time, the weights and the mean's scale
    folded into the one write of the gradient."""
    n, c = scores.shape
    grad = np.empty((n, c), scores.dtype)
    losses = np.empty(n, scores.dtype)
    total = n if weight is None else weight.sum(dtype=np.float64)
    scale = folded_scale(reduction, total, scores.dtype)
    step = 1.0 if scale is None else scale
    ones = np.ones(c, scores.dtype)
    for block in row_blocks(n, c * scores.itemsize):
        g, s, labels = grad[block], _rows_of(scores, block), target[block]
        rows = np.arange(len(g))
        np.subtract(s, s[rows, labels][:, None], out=g)
        g += g.dtype.type(margin)
        g[rows, labels] = 0  # the correct class is not compared with itself
        np.maximum(g, 0, out=g)  # NaN stays NaN
        if squared:
            block_losses = np.einsum("ij,ij->i", g, g)
            g *= g.dtype.type(2)
        else:
            block_losses = _row_sums(g, ones)
            np.greater(g, 0, out=g)  # the slopes, 1 or 0 (NaN gives 0: such rows are redone below)
        g[rows, labels] = 0 - _row_sums(g, ones)  # 0 - x, not -x: no -0.0 when nothing is violated
        factor = g.dtype.type(step) if weight is None else (weight[block] * step)[:, None]
        if weight is not None or step != 1.0:
            g *= factor.astype(g.dtype, copy=False)
        losses[block] = block_losses if weight is None else block_losses * weight[block]
        nan_rows = np.flatnonzero(np.isnan(block_losses))
        if nan_rows.size:  # rare: a NaN score; its row's slopes are NaN, as in the formula
            _, slopes = _weston_watkins_rows(s[nan_rows], labels[nan_rows], margin, squared)
            g[nan_rows] = slopes * (factor if weight is None else factor[nan_rows])
    return finish(losses, grad, reduction, scale, total)


def _weston_watkins_rows(scores, target, margin, squared):
    """The Weston-Watkins hinge of a few rows, written out on whole arrays (the formula)."""
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


def _crammer_singer(
    scores: np.ndarray, target: np.ndarray, margin: float, squared: bool
) -> tuple[np.ndarray, np.ndarray]:
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
    """The fused kernels cover cross-entropy of labels and of probability targets under every option."""
    smoothing = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    plain = class_weight is None and sample_weight is None and ignore_index is None
    if plain and not smoothing:
        return (None,)
    return (_KernelOptions(class_weight, sample_weight, smoothing, ignore_index),)


@fused_by("softmax_cross_entropy", case=_softmax_case, inputs=_softmax_rows)
def softmax_cross_entropy(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    class_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
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
        The class scores (logits); not probabilities.
    target : int array of shape (N,), or float array of shape (N, C)
        Labels in 0..C-1, or a row of class probabilities (any non-negative
        weights) per sample.
    class_weight : array of shape (C,), optional
        The weight :math:`\omega_c` of each class.
    label_smoothing : float in [0, 1], default 0.0
        The smoothing :math:`\varepsilon`: that much of each target's mass is
        spread evenly over the C classes.
    ignore_index : int, optional
        Samples with this label contribute nothing (labels only).
    sample_weight : array of shape (N,), optional
        The weight :math:`w_i` of each sample.
    reduction : {"mean", "sum", "none"}, default "mean"
        How the per-sample losses are combined (the mean's denominator above).

    Returns
    -------
    LossResult
        ``value``: the reduced loss (per-sample losses of shape (N,) for
        "none"); ``grad``: its gradient with respect to ``scores``, shape (N, C).

    Examples
    --------
    Seed 001: scores (-2.85, 0.86, 0.28), correct class the third:

    >>> round(softmax_cross_entropy(np.array([[-2.85, 0.86, 0.28]]), np.array([2])).value, 3)
    1.04
    """
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    v.warn_if_probabilities(scores, "softmax_cross_entropy")
    n, c = scores.shape
    label_smoothing = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    if ignore_index is not None:
        ignore_index = v.check_label(ignore_index, "ignore_index")
    cw = v.as_class_weight(class_weight, c, scores.dtype)
    sw = v.as_sample_weight(sample_weight, n, scores.dtype)
    if v.is_integer_array(target):
        target = v.as_labels(target, n, c, ignore_index=ignore_index)
        weights = _LabelWeights.of(target, cw, sw, ignore_index, label_smoothing, c)
        return _cross_entropy_labels(scores, weights, reduction)
    if ignore_index is not None:
        raise ValueError("ignore_index: applies to integer labels only, got probability targets")
    q = _probability_target(target, scores, 0.0)
    total = n if sw is None else sw.sum(dtype=np.float64)
    return _cross_entropy_probabilities(scores, q, label_smoothing, cw, sw, reduction, total)


class _LabelWeights(NamedTuple):
    r"""What the label losses of the softmax family need of their options, per row and class.

    For labels :math:`a_{ic} = w_i[(1-\varepsilon)\,\omega_{y_i}[c = y_i] + \varepsilon\,\omega_c/C]`:
    ``on_target`` is :math:`w_i (1-\varepsilon)\omega_{y_i}`, ``spread`` the row vector
    :math:`\varepsilon\,\omega_c / C` (None without smoothing), ``row`` :math:`w_i` (0 for
    an ignored label), ``labels`` the labels with ignored ones replaced by 0 (they index
    the scores), ``total`` the mean's denominator :math:`\sum_i w_i \omega_{y_i}`. A
    weight that is 1 everywhere is None (or 1.0 for ``on_target``), so the plain call
    does no arithmetic for it.
    """

    labels: np.ndarray
    row: np.ndarray | None
    on_target: np.ndarray | float
    spread: np.ndarray | None
    total: float

    @classmethod
    def of(cls, labels, cw, sw, ignore_index, smoothing, n_classes):
        row = sw
        if ignore_index is not None:
            keep = labels != ignore_index
            row = keep.astype(np.float64) if sw is None else sw * keep
            labels = np.where(keep, labels, 0)
        on_target = row if cw is None else (cw[labels] if row is None else row * cw[labels])
        total = len(labels) if on_target is None else on_target.sum(dtype=np.float64)
        on_target = 1.0 if on_target is None else on_target
        spread = None
        if smoothing:
            on_target = on_target * (1 - smoothing)
            spread = (smoothing / n_classes) * (np.ones(n_classes) if cw is None else cw)
        return cls(labels, row, on_target, spread, float(total))

    def rows(self, block):
        """The per-row parts for a block of rows (a slice)."""
        on_target = self.on_target if np.ndim(self.on_target) == 0 else self.on_target[block]
        row = None if self.row is None else self.row[block]
        return self.labels[block], row, on_target


def _times(weight, x):
    """weight · x per row, 0 where the weight is 0: a sample or class of weight 0 adds
    nothing even where x is ±inf or NaN (0 · inf is NaN), as torch's ignored samples."""
    if weight is None or (np.ndim(weight) == 0 and weight == 1):  # the plain call's 1.0
        return x
    with np.errstate(invalid="ignore"):
        product = weight * x
    return np.where(weight != 0, product, 0) if np.ndim(weight) else product * (weight != 0)


def _rows_of(a, block):
    """A block of a's rows, C-contiguous: other layouts are copied block by block (a cached
    transpose), since every pass over a strided block would cost more than the copy."""
    return np.ascontiguousarray(a[block])


def _shifted_scores(s, g):
    """g = s − row max, in place in g (the stability identity: softmax is shift-invariant)."""
    with np.errstate(invalid="ignore"):  # -inf - (-inf) in a row of only -inf: NaN, as in torch
        np.subtract(s, _row_max(s), out=g)


def _row_max(s):
    """Each row's max, shape (N, 1); NaN in a row gives NaN, as ``s.max(axis=1)``.

    With few classes, C - 1 elementwise maxima of columns: NumPy's reduction along
    rows that short is slow (at (398, 2) 1.5 against 14.6 µs, at (1257, 10) float32
    11 against 56 µs, at (50000, 10) 0.46 against 1.95 ms); from 13 classes, or
    under 100 rows, the reduction is as fast or faster.
    """
    n, c = s.shape
    if c > 10 or n < 100:
        return s.max(axis=1, keepdims=True)
    top = s[:, :1].copy()
    for j in range(1, c):
        np.maximum(top[:, 0], s[:, j], out=top[:, 0])
    return top


def _dot_rows(g, coef):
    """Σ_c coef_c g_ic per row (coef of shape (C,) or g's), a masked class (g = -inf) of
    coefficient 0 adding 0; NaN in g stays NaN."""
    with np.errstate(invalid="ignore"):
        dots = g @ coef if coef.ndim == 1 else np.einsum("ij,ij->i", coef, g)
    bad = np.isnan(dots)
    if bad.any():  # rare: 0 · -inf somewhere, or a NaN score; only then the second pass
        coef_bad = coef if coef.ndim == 1 else coef[bad]
        masked = np.where(coef_bad != 0, g[bad], 0)
        dots[bad] = masked @ coef if coef.ndim == 1 else np.einsum("ij,ij->i", coef_bad, masked)
    return dots


def _exp_in_place(g):
    """g = exp(g) in place for shifted scores (≤ 0: no overflow); returns the row sums."""
    np.exp(g, out=g)
    return _row_sums(g)


def _row_sums(a, ones=None):
    """Σ_j a_ij as a BLAS matrix-vector product, the fastest row sum (``ones``: a reused vector).

    OpenBLAS's kernels can leave the invalid-operation flag set on finite input
    (numpy#24067, OpenBLAS#1924), which NumPy would report as a RuntimeWarning of
    ours; the flag is ignored here only. A NaN in ``a`` still reaches its row's sum.
    """
    with np.errstate(invalid="ignore"):
        return a @ (np.ones(a.shape[1], a.dtype) if ones is None else ones)


def _cross_entropy_labels(scores, weights, reduction):
    """Softmax cross-entropy of labels, a block of rows at a time (see the module notes).

    Per row, with e = exp(s − max) and S = Σ_c a_c: l = S log Σe − a_y (s_y − max)
    − w Σ_c spread_c (s_c − max), and dl/ds = S e / Σe − a.
    """
    n, c = scores.shape
    grad = np.empty((n, c), scores.dtype)
    losses = np.empty(n, scores.dtype)
    scale = folded_scale(reduction, weights.total, scores.dtype)
    step = 1.0 if scale is None else scale
    spread_sum = 0.0 if weights.spread is None else float(weights.spread.sum())
    for block in row_blocks(n, c * scores.itemsize):
        g = grad[block]
        labels, row, on_target = weights.rows(block)
        rows = np.arange(len(g))
        _shifted_scores(_rows_of(scores, block), g)
        shifted_y = g[rows, labels]
        weight_sum = on_target  # S = a_y + w ε Σω / C
        terms = -_times(on_target, shifted_y)
        if weights.spread is not None:
            weight_sum = on_target + (1.0 if row is None else row) * spread_sum
            terms -= _times(row, _dot_rows(g, weights.spread.astype(g.dtype)))
        totals = _exp_in_place(g)
        losses[block] = terms + _times(weight_sum, np.log(totals))
        g *= (weight_sum * step / totals)[:, None].astype(g.dtype)
        g[rows, labels] -= np.asarray(on_target * step, g.dtype)
        if weights.spread is not None:
            row_step = np.full(len(g), step) if row is None else row * step
            g -= np.multiply.outer(row_step, weights.spread).astype(g.dtype)
    return finish(losses, grad, reduction, scale, weights.total)


def _cross_entropy_probabilities(scores, q, smoothing, cw, sw, reduction, total):
    """Softmax cross-entropy of probability targets, a block of rows at a time:
    a = w ω q̃, l = S log Σe − Σ_c a_c (s_c − max), dl/ds = S e / Σe − a."""
    n, c = scores.shape
    grad = np.empty((n, c), scores.dtype)
    losses = np.empty(n, scores.dtype)
    scale = folded_scale(reduction, total, scores.dtype)
    step = 1.0 if scale is None else scale
    for block in row_blocks(n, c * scores.itemsize):
        g = grad[block]
        coef = _probability_coefficients(
            _rows_of(q, block), smoothing, cw, None if sw is None else sw[block]
        )
        _shifted_scores(_rows_of(scores, block), g)
        terms = -_dot_rows(g, coef)
        weight_sum = _row_sums(coef)
        totals = _exp_in_place(g)
        losses[block] = terms + _times(weight_sum, np.log(totals))
        g *= (weight_sum * step / totals)[:, None].astype(g.dtype)
        if step != 1.0:
            coef *= coef.dtype.type(step)
        g -= coef
    return finish(losses, grad, reduction, scale, total)


def _probability_coefficients(q, smoothing, cw, sw):
    """a = w_i ω_c q̃_ic for a block of probability targets (a new array, never q itself)."""
    coef = q * (1 - smoothing) + smoothing / q.shape[1] if smoothing else q.copy()
    if cw is not None:
        coef *= cw
    if sw is not None:
        coef *= sw[:, None]
    return coef


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
    probs: ArrayLike,
    target: ArrayLike,
    *,
    class_weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
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

    Parameters
    ----------
    probs : array of shape (N, C)
        Predicted class probabilities, in [0, 1].
    target : int array (N,) of labels, or float array (N, C) of class probabilities
    class_weight : array of shape (C,), optional
        :math:`\omega_c`, one weight per class.
    sample_weight : array of shape (N,), optional
        :math:`w_i`, one weight per sample.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``probs`` (shape (N, C)).

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


def _focal_case(*, gamma, alpha, class_weight, label_smoothing, ignore_index, sample_weight):
    """The fused kernels cover focal loss under every option: labels, smoothed labels (every
    class then enters the focal term) and probability targets."""
    gamma = v.check_scalar(gamma, "gamma", low=0)
    smoothing = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    plain = alpha is None and class_weight is None and sample_weight is None
    if plain and ignore_index is None and not smoothing:
        return (gamma, None)
    return (gamma, _KernelOptions(class_weight, sample_weight, smoothing, ignore_index, alpha))


@fused_by("softmax_focal", case=_focal_case, inputs=_softmax_rows)
def softmax_focal(
    scores: ArrayLike,
    target: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: float | ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Softmax focal loss (Lin et al., 2017): cross-entropy that down-weights easy examples.

    .. math::

        l_i = -\sum_c \alpha_c\, a_{ic} (1 - p_{ic})^\gamma \log p_{ic}

    where :math:`a_{ic}` are the coefficients of :func:`softmax_cross_entropy`
    under the same options: for labels :math:`a_{ic} = w_i[(1-\varepsilon)\,
    \omega_{y_i}[c = y_i] + \varepsilon\,\omega_c / C]` (class weights :math:`\omega`,
    smoothing :math:`\varepsilon`, sample weight :math:`w_i`, 0 for an ignored
    label), so without options :math:`l_i = -(1-p_{iy_i})^\gamma \log p_{iy_i}`; for
    probability targets :math:`a_{ic} = w_i \omega_c \tilde q_{ic}`. Writing
    :math:`u_c = \alpha_c a_c (1-p_c)^\gamma (\gamma p_c r_c - 1)` with
    :math:`r_c = \log p_c / (1 - p_c)` (taken as -1 when :math:`p_c = 1`, and
    :math:`p_c r_c` as 0 when :math:`p_c = 0`: a masked class, score -inf),
    the gradient is :math:`\partial l_i / \partial s_k = u_k - p_k \sum_c u_c`.
    This form stays finite for every :math:`\gamma \ge 0`, also when a probability
    saturates at exactly 0 or 1. :math:`\gamma = 0` and no ``alpha`` give
    :func:`softmax_cross_entropy` with the same options, value and gradient.

    ``class_weight``, ``ignore_index``, ``label_smoothing`` and ``sample_weight``
    mean what they mean for :func:`softmax_cross_entropy`, the mean's denominator
    included (:math:`\sum_i w_i \omega_{y_i}` over non-ignored labels,
    :math:`\sum_i w_i` for probability targets; a mean over no weight is 0).
    ``alpha`` is part of the formula (None = 1, a float, or an array of shape (C,)),
    not a weight of the mean.

    Parameters
    ----------
    scores : array of shape (N, C)
    target : int array (N,) of labels, or float array (N, C) of class probabilities
    gamma : float >= 0, the focusing parameter
    alpha : float or array of shape (C,), optional
    class_weight : array of shape (C,), optional
    label_smoothing : float in [0, 1]
    ignore_index : int, optional; samples with this label contribute nothing.
    sample_weight : array of shape (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``scores`` (shape (N, C)).

    Examples
    --------
    >>> scores = np.array([[2.0, 0.0, 0.0]])
    >>> ce = softmax_cross_entropy(scores, np.array([0])).value
    >>> bool(softmax_focal(scores, np.array([0]), gamma=2.0).value < ce)
    True
    >>> same = softmax_focal(scores, np.array([0]), gamma=0.0, label_smoothing=0.1).value
    >>> bool(np.isclose(same, softmax_cross_entropy(scores, np.array([0]), label_smoothing=0.1).value))
    True

    References
    ----------
    Lin, Goyal, Girshick, He, Dollár. Focal Loss for Dense Object Detection. ICCV 2017.
    """
    v.check_reduction(reduction)
    scores = v.as_output(scores, "scores", ndim=2)
    v.warn_if_probabilities(scores, "softmax_focal")
    n, c = scores.shape
    gamma = v.check_scalar(gamma, "gamma", low=0)
    label_smoothing = v.check_scalar(label_smoothing, "label_smoothing", 0, 1)
    if ignore_index is not None:
        ignore_index = v.check_label(ignore_index, "ignore_index")
    alpha_c = _focal_alpha(alpha, c, scores.dtype)
    cw = v.as_class_weight(class_weight, c, scores.dtype)
    sw = v.as_sample_weight(sample_weight, n, scores.dtype)
    coefficients: Callable[[Any], Any]  # a block of rows -> the coefficients _focal_dense needs
    if v.is_integer_array(target):
        target = v.as_labels(target, n, c, ignore_index=ignore_index)
        weights = _LabelWeights.of(target, cw, sw, ignore_index, label_smoothing, c)
        if not label_smoothing:
            return _focal_labels(scores, weights, gamma, alpha_c, reduction)
        coefficients = functools.partial(_label_block_coefficients, weights, c)
        total = weights.total
    else:
        if ignore_index is not None:
            raise ValueError(
                "ignore_index: applies to integer labels only, got probability targets"
            )
        q = _probability_target(target, scores, 0.0)
        total = n if sw is None else sw.sum(dtype=np.float64)

        def coefficients(block):
            return _probability_coefficients(
                _rows_of(q, block), label_smoothing, cw, None if sw is None else sw[block]
            )

    return _focal_dense(scores, coefficients, gamma, alpha_c, reduction, total)


def _focal_labels(scores, weights, gamma, alpha, reduction):
    """Focal loss of labels without smoothing: only the target's probability enters, so
    per element this costs what cross-entropy costs (one exp); the rest is per row.

    With a = α_y a_y, l = -a (1 - p_y)^γ log p_y and u = a (1 - p_y)^γ (γ p_y r_y - 1),
    dl/ds = u [c = y] - u p (see :func:`softmax_focal`).
    """
    n, c = scores.shape
    grad = np.empty((n, c), scores.dtype)
    losses = np.empty(n, scores.dtype)
    scale = folded_scale(reduction, weights.total, scores.dtype)
    step = 1.0 if scale is None else scale
    for block in row_blocks(n, c * scores.itemsize):
        g = grad[block]
        labels, _, on_target = weights.rows(block)
        a = on_target if alpha is None else on_target * alpha[labels]
        rows = np.arange(len(g))
        _shifted_scores(_rows_of(scores, block), g)
        shifted_y = g[rows, labels]
        totals = _exp_in_place(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = shifted_y - np.log(totals)
            p = np.exp(logp)
            rest = -np.expm1(logp)  # 1 - p, accurate when p is close to 1
            focus = rest * rest if gamma == 2.0 else rest**gamma  # the usual γ = 2 without pow
            p_ratio = np.where(rest > 0, p * logp / rest, -p)  # p log p / (1 - p) → -1 as p → 1
            p_ratio = np.where(p > 0, p_ratio, 0)  # and → 0 as p → 0 (a masked target)
        losses[block] = -_times(a, focus * logp)
        u = _times(a, focus * (gamma * p_ratio - 1)) * step
        g *= (-u / totals)[:, None].astype(g.dtype)
        g[rows, labels] += u.astype(g.dtype)
    return finish(losses, grad, reduction, scale, weights.total)


def _label_block_coefficients(weights, n_classes, block):
    """The dense a_ic of smoothed labels for a block of rows (see :class:`_LabelWeights`)."""
    labels, row, on_target = weights.rows(block)
    coef = np.multiply.outer(np.ones(len(labels)) if row is None else row, weights.spread)
    coef[np.arange(len(labels)), labels] += on_target
    return coef


def _limits_of_p_ratio(p_ratio, p, rest):
    """p log p / (1 - p) where it is 0/0 or 0 · inf: -1 as p → 1, 0 as p → 0 (a masked class).

    Only the NaN entries are looked at (np.where over a whole block cost 50 times the
    arithmetic); a NaN score's entry becomes 0, as np.where(p > 0, ...) makes it.
    """
    bad = np.isnan(p_ratio)
    if bad.any():
        p_bad, rest_bad = p[bad], rest[bad]
        p_ratio[bad] = np.where(p_bad > 0, np.where(rest_bad > 0, p_ratio[bad], -p_bad), 0)


def _focal_dense(scores, coefficients, gamma, alpha, reduction, total):
    """Focal loss for dense coefficients (smoothed labels, probability targets): every class
    enters, so each element needs log p, p and 1 - p: an exp and an expm1 (for 1 - p near 1)."""
    n, c = scores.shape
    grad = np.empty((n, c), scores.dtype)
    losses = np.empty(n, scores.dtype)
    scale = folded_scale(reduction, total, scores.dtype)
    step = 1.0 if scale is None else scale
    for block in row_blocks(n, c * scores.itemsize):
        g = grad[block]
        coef = coefficients(block).astype(g.dtype, copy=False)
        if alpha is not None:
            coef *= alpha
        logp = np.empty_like(g)
        _shifted_scores(_rows_of(scores, block), logp)
        totals = _exp_in_place(np.copyto(g, logp) or g)
        logp -= np.log(totals)[:, None]
        g *= (1 / totals)[:, None]  # p
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = -np.expm1(logp)
            focus = rest * rest if gamma == 2.0 else rest**gamma
            p_ratio = g * logp / rest
        _limits_of_p_ratio(p_ratio, g, rest)
        coef *= focus
        losses[block] = -_dot_rows(logp, coef)
        coef *= gamma * p_ratio - 1  # u
        u_sums = _row_sums(coef)
        g *= -u_sums[:, None]
        g += coef
        if step != 1.0:
            g *= g.dtype.type(step)
    return finish(losses, grad, reduction, scale, total)


def _focal_alpha(alpha, n_classes, dtype):
    if alpha is None:
        return None
    if np.ndim(alpha) == 0:
        return np.full(n_classes, v.check_scalar(alpha, "alpha", low=0), dtype)
    return v.as_class_weight(alpha, n_classes, dtype, name="alpha")


def class_weights(y: ArrayLike, n_classes: int, kind: str = "balanced") -> np.ndarray:
    r"""Per-class weights from the label frequencies of ``y``.

    - ``"balanced"``: :math:`n / (C \cdot n_c)`, scikit-learn's ``class_weight="balanced"``.
    - ``"inverse_frequency"``: :math:`1 / \alpha_c = n / n_c`, the seeds' balanced
      cross-entropy where :math:`\alpha_c` is the fraction of data in class c.

    "Balanced cross-entropy" is ``softmax_cross_entropy(s, y, class_weight=class_weights(y, C))``.

    Parameters
    ----------
    y : int array of shape (N,)
        Class labels in [0, ``n_classes``); every class must occur.
    n_classes : int
        C, the number of classes.
    kind : {"balanced", "inverse_frequency"}

    Returns
    -------
    numpy.ndarray
        The C class weights.

    Examples
    --------
    >>> class_weights(np.array([0, 0, 0, 1]), 2).tolist()
    [0.6666666666666666, 2.0]
    >>> class_weights(np.array([0, 0, 0, 1]), 2, kind="inverse_frequency").tolist()
    [1.3333333333333333, 4.0]
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
