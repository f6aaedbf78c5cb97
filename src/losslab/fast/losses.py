"""Fused numba kernels for the hot losses (the ``fast`` extra): one pass over the scores.

Each kernel reads a row of scores once (it stays in L1 cache), writes its
gradient row once, and folds the reduction's scale into that write, so the
whole call costs about one read and one write of the matrix — the memory
bandwidth floor. Rows are split across threads (``prange``). They cover the
options each loss's ``case`` names (losses/_fused.py); everything else runs
on the NumPy reference path, which the tests compare them with. The functions
at the end, named after the losses, are what ``losslab.fast.KERNELS`` lists:
a loss's checked inputs in, its value and gradient out.

The exponentials are the expensive part. numba without Intel's SVML calls
``expf`` one element at a time, so every kernel is built twice from the same
source: for float64 with ``math.exp``/``math.log1p`` (precise), and for
float32 with :func:`_exp_parts_f32` and :func:`_log1p_unit_f32` — polynomial
versions made only of arithmetic (and integer bits for 2ⁿ), which LLVM turns
into SIMD code. They are accurate to about 1e-7 relative, float32's own
precision; sums are accumulated in float64.

fastmath is restricted to flags that keep NaN and infinity semantics, so a
NaN score still propagates to the loss.
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}  # no 'nnan'/'ninf': NaN must propagate
# Below this many elements a kernel runs on one thread: waking a thread pool for a training-size
# batch costs more than the work, and fights BLAS's own threads between matrix products.
PARALLEL_MIN_ELEMENTS = 1 << 18
BLOCK = 4096  # elements per block in the element-wise kernels (scratch stays in L1/L2)
STRIPES = 64  # work is cut into at most this many stripes; each allocates its scratch once


@njit(cache=True, inline="always")
def _stripe(k, n_stripes, n):
    """[start, stop) of stripe k when n items are cut into n_stripes nearly equal stripes."""
    return k * n // n_stripes, (k + 1) * n // n_stripes


@njit(cache=True, inline="always")
def _n_stripes(n, per):
    return max(1, min(STRIPES, n // per))


# --- the two implementations of the elementary functions -----------------------------------


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _exp_inplace_f64(buf, bits):
    """buf = exp(buf) in place, one libm call per element."""
    for j in range(buf.shape[0]):
        buf[j] = math.exp(buf[j])


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _exp_neg_abs_f64(src, out, bits, n):
    """out[:n] = exp(-|src[:n]|), one libm call per element."""
    for j in range(n):
        out[j] = math.exp(-abs(src[j]))


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _exp_parts_f32(v):
    """exp(v) for float32 v ≤ 0 as (mantissa part, int32 bits of 2ᵏ): arithmetic only, so SIMD.

    exp(v) = 2ᵏ · exp(r) with k = round(v / ln 2) and |r| ≤ ln2 / 2 (Cody-Waite
    split of ln 2); exp(r) is Cephes' degree-7 minimax polynomial, and 2ᵏ is
    built from its exponent bits. Inputs are clamped at -88, where k = -127 and
    the bits of 2ᵏ are those of 0.0: below about -87.7 (results under float32's
    smallest normal number) exp gives exactly 0, so a masked score (-inf) has
    probability 0 as in float64, at no cost. NaN stays NaN.
    """
    v = v if not (v < np.float32(-88.0)) else np.float32(-88.0)
    k = np.floor(v * np.float32(1.4426950408889634) + np.float32(0.5))  # float32, not int:
    # math.floor would return an int64 and turn everything after it into float64
    r = v - k * np.float32(0.693359375) + k * np.float32(2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    return p * r * r + r + np.float32(1.0), (np.int32(k) + np.int32(127)) << np.int32(23)


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _exp_inplace_f32(buf, bits):
    """buf = exp(buf) in place for float32 buf ≤ 0; ``bits``: int32 scratch as long as buf.

    2ᵏ is read back through a float32 view of ``bits`` (a view of a whole array
    keeps the contiguous layout SIMD code needs).
    """
    for j in range(buf.shape[0]):
        buf[j], bits[j] = _exp_parts_f32(buf[j])
    two_k = bits.view(np.float32)
    for j in range(buf.shape[0]):
        buf[j] *= two_k[j]


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _exp_neg_abs_f32(src, out, bits, n):
    """out[:n] = exp(-|src[:n]|) for float32, vectorisable like :func:`_exp_inplace_f32`."""
    for j in range(n):
        out[j], bits[j] = _exp_parts_f32(-abs(src[j]))
    two_k = bits.view(np.float32)
    for j in range(n):
        out[j] *= two_k[j]


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _log1p_unit_f64(e):
    return math.log1p(e)


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _log1p_unit_f32(e):
    """log(1 + e) for 0 ≤ e ≤ 1 by arithmetic only: 2·atanh(s) with s = e / (2 + e) ≤ 1/3."""
    s = e / (np.float32(2.0) + e)
    s2 = s * s
    p = np.float32(1.0 / 13.0)
    p = p * s2 + np.float32(1.0 / 11.0)
    p = p * s2 + np.float32(1.0 / 9.0)
    p = p * s2 + np.float32(1.0 / 7.0)
    p = p * s2 + np.float32(1.0 / 5.0)
    p = p * s2 + np.float32(1.0 / 3.0)
    return np.float32(2.0) * s * (p * s2 + np.float32(1.0))


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _log_ge1_f64(x, out, bits, n):
    """out[:n] = log(x[:n]), one libm call per element."""
    for i in range(n):
        out[i] = math.log(x[i])


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _log_ge1_f32(x, out, bits, n):
    """out[:n] = log(x[:n]) for x ≥ 1 (softmax denominators), in float32 arithmetic only.

    x = 2ᵏ · m with m in [1, 2) read from the float32 bits (in ``bits``, int32
    scratch), so log x = k ln 2 + log1p(m - 1). One scalar ``log`` per row cost
    as much as the rest of a (512, 10) cross-entropy call together. ``out`` is
    float64 like the denominators, so the caller's ``s_y - max - log`` is not
    reassociated in float32 (which loses the small result next to a large max).
    """
    m = bits.view(np.float32)
    for i in range(n):
        m[i] = np.float32(x[i])
    for i in range(n):
        b = bits[i]
        out[i] = np.float32((b >> np.int32(23)) - np.int32(127))  # k
        bits[i] = (b & np.int32(0x7FFFFF)) | np.int32(127 << 23)  # m
    for i in range(n):
        k = np.float32(out[i])
        log_x = k * np.float32(0.6931471805599453) + _log1p_unit_f32(m[i] - np.float32(1.0))
        out[i] = log_x if x[i] == x[i] else np.nan  # NaN's bits would read as 2¹²⁸·m


# the names the kernels call; each build rebinds them to one precision's versions (see _namespace)
# (_REAL is the element type: per-element arithmetic stays in it instead of widening to float64)
_exp_inplace, _exp_neg_abs = _exp_inplace_f64, _exp_neg_abs_f64
_log1p_unit, _log_ge1, _REAL = _log1p_unit_f64, _log_ge1_f64, np.float64


@njit(fastmath=True, cache=True, inline="always")
def _row_max(row):
    """The largest entry, by a SIMD max reduction.

    Full fastmath here only: LLVM vectorises a max reduction only when it may
    assume no NaN. A NaN entry still makes the loss NaN, because row - max is
    NaN at that entry whatever max is.
    """
    m = row[0]
    for j in range(1, row.shape[0]):
        m = max(m, row[j])
    return m


def _softmax_rows(scores, grad, r0, r1, maxes, totals, bits):
    """grad[r0:r1] = exp(scores - row max) for a block of rows; their maxes and float64 sums.

    The exponentials run over the block as one flat array: over a single row of
    C = 100 the SIMD loop would leave a long scalar remainder every row.
    """
    c = scores.shape[1]
    for i in range(r0, r1):
        row, g = scores[i], grad[i]
        m = _row_max(row)
        maxes[i - r0] = m
        for j in range(c):
            g[j] = row[j] - m
    size = (r1 - r0) * c
    _exp_inplace(grad.reshape(-1)[r0 * c : r1 * c], bits[:size])
    for i in range(r0, r1):
        g = grad[i]
        total = 0.0  # float64: C terms keep their precision
        for j in range(c):
            total += g[j]
        totals[i - r0] = total


@njit(cache=True, inline="always")
def _row_blocks(n, c):
    """Rows per block (about BLOCK elements) and the number of blocks."""
    rows = max(1, BLOCK // c)
    return rows, (n + rows - 1) // rows


# --- the kernels (written once, compiled with either set of elementary functions) -------------


@njit(fastmath=_FLAGS, cache=True, inline="always")
def weston_watkins_row(row, g, y, margin, squared, step):
    """One row's Weston-Watkins hinge (its weight not applied); writes the row's gradient,
    each slope times ``step``. Shared with the fused training epoch (fast/training.py)."""
    sy = row[y]
    total = 0.0
    slopes = 0.0
    for j in range(row.shape[0]):
        h = row[j] - sy + margin
        if j != y and not h <= 0:  # violated, or NaN: a NaN score makes the loss NaN
            if squared:
                total += h * h
                g[j] = 2 * h * step
                slopes += 2 * h
            else:
                total += h
                slopes += 1.0
                g[j] = step
        else:
            g[j] = 0.0
    g[y] = -(slopes * step) if slopes > 0 else 0.0  # no -0.0 when nothing is violated
    return total


def weston_watkins(scores, labels, margin, squared, row_w, scale, grad, losses):
    """Weston-Watkins hinge; ``squared``: the squared hinge; ``row_w``: w_i, or None."""
    n = scores.shape[0]
    for i in prange(n):
        w = 1.0 if row_w is None else row_w[i]
        total = weston_watkins_row(scores[i], grad[i], labels[i], margin, squared, scale * w)
        losses[i] = total * w
    # a sweep of the losses finds the NaN rows (rare); a test inside the row loop cost 15%
    for i in range(n):
        if losses[i] != losses[i]:
            _nan_slopes(scores[i], grad[i], labels[i], margin)


def crammer_singer(scores, labels, margin, squared, row_w, scale, grad, losses):
    """Crammer-Singer hinge: one margin against the highest-scoring wrong class (the first
    of equal ones, a NaN first of all, as NumPy's argmax); ``row_w``: w_i, or None."""
    n, c = scores.shape
    for i in prange(n):
        row, g = scores[i], grad[i]
        y = labels[i]
        best, nans = -np.inf, 0
        for j in range(c):  # selects, no branches: one SIMD pass for the max and the NaNs
            g[j] = 0.0
            s = row[j] if j != y else -np.inf
            nans += s != s
            best = s if s > best else best
        if nans:
            best = np.nan
        w = 1.0 if row_w is None else row_w[i]
        h = margin + best - row[y]
        if h <= 0:  # no violation (with one class only: -inf, unless its score is NaN)
            losses[i] = 0.0
            continue
        rival = _first_rival(row, y, best)
        slope = h if h != h else (2 * h if squared else 1.0)  # a NaN margin's slope is NaN
        losses[i] = (h * h if squared else h) * w
        g[rival] = slope * scale * w
        g[y] = -(slope * scale * w)


@njit(cache=True, inline="always")
def _first_rival(row, y, best):
    """The first wrong class scoring ``best`` (NaN: the first NaN); 0 when there is none,
    as NumPy's argmax of a row of one class."""
    for j in range(row.shape[0]):
        s = row[j]
        if j != y and (s == best or (s != s and best != best)):
            return j
    return 0


@njit(cache=True, inline="always")
def _nan_slopes(row, g, y, margin):
    """A NaN margin's slope is NaN, and so is the correct class's, as on the NumPy path."""
    sy = row[y]
    for j in range(row.shape[0]):
        h = row[j] - sy + margin
        if h != h:
            g[j] = h
    g[y] = np.nan


def softmax_focal_rows(scores, labels, gamma, on_target, row_w, spread, scale, grad, losses):
    """Softmax focal loss, l = -a_y (1 - p_y)^γ log p_y; γ = 0 is softmax cross-entropy.

    ``on_target``, ``row_w`` and ``spread`` are the label weights of
    ``losses.classification._LabelWeights`` (a_y with α, w_i and ε ω_c / C), all
    three arrays, or all three None for the plain loss (numba compiles each case
    once per dtype). ``spread`` is non-zero only with γ = 0 (cross-entropy with
    smoothing, :func:`_weighted_row`); the focal term itself sees only the target.
    A weight of 0 adds 0 even where its term is inf or NaN (an ignored label).
    """
    n, c = scores.shape
    rows, n_blocks = _row_blocks(n, c)
    n_stripes = _n_stripes(n_blocks, 1)
    spread_sum = 0.0
    if spread is not None:
        for j in range(c):
            spread_sum += spread[j]
    for stripe in prange(n_stripes):
        bits = np.empty(rows * c, np.int32)
        maxes, totals = np.empty(rows, scores.dtype), np.empty(rows)
        log_totals = np.empty(rows)
        first, last = _stripe(stripe, n_stripes, n_blocks)
        for block in range(first, last):
            r0, r1 = block * rows, min(n, (block + 1) * rows)
            _softmax_rows(scores, grad, r0, r1, maxes, totals, bits)
            _log_ge1(totals, log_totals, bits, r1 - r0)  # the block's logs in one SIMD loop
            for i in range(r0, r1):
                row, g = scores[i], grad[i]  # 1-D rows indexed from 0: SIMD-friendly
                total, y = totals[i - r0], labels[i]
                m, log_total = maxes[i - r0], log_totals[i - r0]
                if on_target is not None and gamma == 0:  # weighted cross-entropy
                    weights = (on_target[i], row_w[i], spread_sum)
                    _weighted_row(row, g, y, weights, spread, m, total, log_total, scale, losses, i)
                    continue
                a = 1.0 if on_target is None else on_target[i]
                logp = row[y] - m - log_total
                if gamma == 0:  # cross-entropy: dl/ds = scale (p - onehot)
                    losses[i] = -logp
                    u = -scale
                else:
                    p = g[y] / total  # exp(logp), already computed
                    q = (total - g[y]) / total  # 1 - p from the other classes: exact near p = 1
                    focus = q * q if gamma == 2.0 else q**gamma  # the usual γ = 2 without pow
                    losses[i] = -a * focus * logp if a != 0 else 0.0
                    ratio = logp / q if q > 0 else -1.0  # log p / (1 - p) → -1 as p → 1
                    # p log p → 0 as p → 0: a masked (-inf) target's p = 0 gives CE's -1, not NaN
                    p_ratio = p * ratio if p > 0 else 0.0
                    u = a * focus * (gamma * p_ratio - 1.0) * scale if a != 0 else 0.0
                k = _REAL(-u / total)
                for j in range(c):
                    g[j] *= k  # -u p_j
                g[y] += u


@njit(cache=True, inline="always")
def _weighted_row(row, g, y, weights, spread, m, total, log_total, scale, losses, i):
    """One row of weighted, smoothed cross-entropy: its loss, and g (holding e) made dl/ds.

    l = S log Σe - a (s_y - m) - w Σ_c spread_c (s_c - m) with S = a + w Σ spread,
    dl/ds = S e / Σe - a [c = y] - w spread, all times ``scale``.
    """
    a, w, spread_sum = weights
    dot = 0.0  # Σ_c spread_c (s_c - m); a class of spread 0 adds 0 even at a -inf score
    if w != 0 and spread_sum != 0:
        for j in range(row.shape[0]):
            if spread[j] != 0:
                dot += spread[j] * (row[j] - m)
    weight_sum = a + w * spread_sum
    loss = weight_sum * log_total if weight_sum != 0 else 0.0
    if a != 0:
        loss -= a * (row[y] - m)
    if w != 0 and spread_sum != 0:
        loss -= w * dot
    losses[i] = loss
    k = weight_sum * scale / total
    w_step = w * scale
    for j in range(row.shape[0]):
        g[j] = g[j] * k - w_step * spread[j]
    g[y] -= a * scale


def softmax_dense_rows(
    scores, labels, on_target, probs, by_column, target_w, row_w, spread, gamma, scale, grad, losses
):
    """Softmax cross-entropy (γ = 0) or focal loss where every class has a coefficient a_ic.

    For probability targets (``probs`` not empty) a_ic = w_i (t_c q_ic + spread_c),
    with t = ω α (1 - ε) and spread = ω α ε / C; for smoothed labels (``probs``
    empty) a_ic = w_i spread_c + [c = y_i] a_y, with ``on_target`` a_y as in
    :func:`softmax_focal_rows`. ``by_column``: whether ``scores`` and ``probs`` hold
    their transposes (C, N), which is how Fortran-order inputs are read without a copy
    (a block's class runs gathered into C-order scratch). The unused inputs are empty
    arrays, so numba compiles one case per dtype. Each row's coefficients are formed
    on the fly (cross-entropy) or in one scratch row (focal): never an N × C temporary
    besides the gradient. Returns how
    many targets lie outside [0, 1] (the caller then lets the reference report them).
    """
    n, c = grad.shape
    rows, n_blocks = _row_blocks(n, c)
    n_stripes = _n_stripes(n_blocks, 1)
    has_probs = probs.size != 0
    scores_by_column, probs_by_column = by_column
    outside = 0
    for stripe in prange(n_stripes):
        bits = np.empty(rows * c, np.int32)
        maxes, totals = np.empty(rows, scores.dtype), np.empty(rows)
        log_totals = np.empty(rows)
        coef = np.empty(c, scores.dtype)
        powers = np.empty(rows * c, scores.dtype)  # the block's (1 - p)^γ for γ ≠ 2
        logs = np.empty(rows * c if gamma != 0 and gamma != 2.0 else 0)
        block_scores = np.empty(rows * c if scores_by_column else 0, scores.dtype)
        block_probs = np.empty(rows * c if probs_by_column else 0, scores.dtype)
        first, last = _stripe(stripe, n_stripes, n_blocks)
        for block in range(first, last):
            r0, r1 = block * rows, min(n, (block + 1) * rows)
            s = scores[r0:r1]
            if scores_by_column:
                s = _gather_rows(scores, r0, r1, block_scores)
            q = probs[r0:r1] if has_probs else probs
            if probs_by_column:
                q = _gather_rows(probs, r0, r1, block_probs)
            g = grad[r0:r1]
            _softmax_rows(s, g, 0, r1 - r0, maxes, totals, bits)
            _log_ge1(totals, log_totals, bits, r1 - r0)
            if gamma != 0 and gamma != 2.0:
                _powers_of_rest(g, totals, gamma, powers, logs, bits)
            for k in range(r1 - r0):
                q_row = q[k] if has_probs else spread[:0]  # empty for labels
                row_stats = (maxes[k], totals[k], log_totals[k])
                if gamma == 0:  # probability targets (γ = 0 labels take softmax_focal_rows)
                    weights = (row_w[r0 + k], target_w, spread)
                    loss, bad = _dense_cross_entropy_row(
                        s[k], g[k], q_row, weights, row_stats, scale
                    )
                    losses[r0 + k] = loss
                    outside += bad
                else:
                    outside += _dense_coefficients(
                        r0 + k, coef, labels, on_target, q_row, target_w, row_w, spread
                    )
                    p_row = powers[k * c : (k + 1) * c]
                    loss = _dense_focal_row(s[k], g[k], coef, gamma, row_stats, scale, p_row)
                    losses[r0 + k] = loss
    return outside


@njit(cache=True, inline="always")
def _gather_rows(columns, r0, r1, out):
    """Rows [r0, r1) of the transpose of ``columns`` (C, N) as a C-order (r1 - r0, C) view
    of ``out``: each class's run [r0, r1) is contiguous, so this reads memory in order."""
    c = columns.shape[0]
    for j in range(c):
        column = columns[j]
        for i in range(r0, r1):
            out[(i - r0) * c + j] = column[i]
    return out[: (r1 - r0) * c].reshape((r1 - r0, c))


@njit(cache=True, inline="always")
def _dense_coefficients(i, coef, labels, on_target, q, target_w, row_w, spread):
    """coef = row i's a_ic (see :func:`softmax_dense_rows`); q: its targets (empty for labels).
    Returns how many targets lie outside [0, 1] (NaN passes, to propagate)."""
    w = row_w[i]
    outside = 0
    if q.shape[0] != 0:
        for j in range(coef.shape[0]):
            coef[j] = w * (target_w[j] * q[j] + spread[j])
            outside += (q[j] < 0) | (q[j] > 1)
    else:
        for j in range(coef.shape[0]):
            coef[j] = w * spread[j]
        coef[labels[i]] += on_target[i]
    return outside


def _dense_cross_entropy_row(row, g, q, weights, row_stats, scale):
    """One row's cross-entropy of probability targets q; g (holding e = exp(s - max)) made
    dl/ds. Returns (the loss, how many targets lie outside [0, 1]).

    a_c = w (t_c q_c + spread_c) (see :func:`softmax_dense_rows`), formed on the fly;
    l = S log Σe - Σ_c a_c (s_c - max) with S = Σ_c a_c; dl/ds = S e / Σe - a, times
    ``scale``. A class of coefficient 0 adds 0 even at a -inf score (a masked class).
    """
    w, target_w, spread = weights
    m, total, log_total = row_stats
    weight_sum = 0.0  # float64 sums
    dot = 0.0
    outside = 0
    for j in range(row.shape[0]):
        a = w * (target_w[j] * q[j] + spread[j])
        weight_sum += a
        dot += a * (row[j] - m) if a != 0 else 0.0
        outside += (q[j] < 0) | (q[j] > 1)
    loss = weight_sum * log_total if weight_sum != 0 else 0.0
    k = _REAL(weight_sum * scale / total)
    step = _REAL(scale)
    for j in range(row.shape[0]):
        g[j] = g[j] * k - w * (target_w[j] * q[j] + spread[j]) * step
    return loss - dot, outside


def _dense_focal_row(row, g, coef, gamma, row_stats, scale, powers):
    """One row's focal loss over every class; g (holding e) made dl/ds. Returns the loss.

    l = -Σ_c a_c (1 - p_c)^γ log p_c and dl/ds = u - p Σ_c u_c (see ``softmax_focal``),
    u from :func:`_focal_terms`. coef is overwritten with u. ``powers``: the row's
    (1 - p)^γ from :func:`_powers_of_rest` (unused for γ = 2).
    """
    total = row_stats[1]
    if gamma == 2.0:  # the usual γ = 2 without pow: a loop of arithmetic only, so SIMD code
        loss, u_sum = _focal_terms(row, g, coef, gamma, row_stats, True, powers)
    else:
        loss, u_sum = _focal_terms(row, g, coef, gamma, row_stats, False, powers)
    k = _REAL(u_sum / total)
    step = _REAL(scale)
    for j in range(row.shape[0]):
        g[j] = (coef[j] - g[j] * k) * step
    return loss


def _powers_of_rest(g, totals, gamma, out, logs, bits):
    """out = (1 - p)^γ for a block of rows of e (p = e / Σe, flat in C order) as
    exp(-γ log(1 / (1 - p))): the log of values ≥ 1 and the exp of values ≤ 0 that the
    softmax uses, over the whole block, SIMD code in float32 where a ``pow`` per element
    is a scalar call (about 3 times slower). p = 1 gives 0 by a select in
    :func:`_focal_terms` (the float32 log of inf is finite)."""
    n_rows, c = g.shape
    for k in range(n_rows):
        row, total = g[k], totals[k]
        for j in range(c):
            out[k * c + j] = _REAL(total / (total - row[j]))  # 1 / (1 - p) ≥ 1
    size = n_rows * c
    _log_ge1(out, logs, bits, size)
    for i in range(size):
        out[i] = _REAL(-gamma * logs[i])
    _exp_inplace(out[:size], bits[:size])


def _focal_terms(row, g, coef, gamma, row_stats, square, powers):
    """coef_c = u_c = a_c (1 - p_c)^γ (γ p_c r_c - 1), r_c = log p_c / (1 - p_c); returns
    (the row's loss, Σ u). ``square``: γ = 2 (focus by a product), else (1 - p)^γ is read
    from ``powers``.

    1 - p is the other classes' share, (Σe - e_c) / Σe, exact near p = 1; the limits
    as in ``softmax_focal``: p r → -1 as p → 1 and 0 at p = 0 (a masked class). Written
    with selects, not branches, so the loop is SIMD code.
    """
    m, total, log_total = row_stats
    inverse = _REAL(1.0 / total)
    loss = 0.0  # float64 sums
    u_sum = 0.0
    for j in range(row.shape[0]):
        e = g[j]
        # in float64: fastmath may reassociate to s - (max + log Σe), which in float32 loses
        # the result next to a large max (a row of -1e4 gave 2e-4 relative error)
        logp = _REAL(row[j] - m - log_total)
        p = e * inverse
        rest = _REAL(total - e) * inverse
        power = powers[j]  # read unconditionally: a load under a branch stops SIMD code
        focus = rest * rest if square else (_REAL(0.0) if rest == 0 else power)  # NaN stays
        weight = coef[j] * focus  # NaN when a score is NaN, even at a coefficient of 0
        loss -= weight * logp if weight != 0 else 0.0
        p_ratio = p * logp / rest
        p_ratio = p_ratio if rest > 0 else -p
        p_ratio = p_ratio if p > 0 else _REAL(0.0)
        u = weight * (gamma * p_ratio - _REAL(1.0))
        coef[j] = u
        u_sum += u
    return loss, u_sum


def _bce_block(x, y, smoothing, scale, grad, e, bits):
    """σ and softplus of one block of logits x; writes the gradient; leaves the losses in e.

    The targets are smoothed to y (1 - ε) + ε / 2. Returns how many targets lie
    outside [0, 1] before smoothing (the caller raises if any do).

    x, y and grad are slices of the flat arrays: indexing them from 0 lets numba
    drop its negative-index check, which would otherwise stop SIMD code.
    """
    size = x.shape[0]
    _exp_neg_abs(x, e, bits, size)
    one, zero, scale = _REAL(1.0), _REAL(0.0), _REAL(scale)
    keep, shift = _REAL(1.0 - smoothing), _REAL(smoothing / 2)
    outside = 0  # targets outside [0, 1], counted here so validation costs no extra pass
    for j in range(size):
        ej = e[j]
        yj = y[j] * keep + shift
        sig = (one if x[j] >= zero else ej) / (one + ej)
        grad[j] = (sig - yj) * scale
        e[j] = max(x[j], zero) + _log1p_unit(ej) - yj * x[j]  # softplus(x) - y x
        outside += (y[j] < zero) | (y[j] > one)
    return outside


def sigmoid_bce(logits, targets, smoothing, scale, grad, losses):
    """Element-wise on flattened arrays: l = softplus(x) - y x, dl/dx = σ(x) - y (y smoothed).

    Returns the number of targets outside [0, 1].
    """
    n = logits.shape[0]
    n_stripes = _n_stripes(n, BLOCK)
    outside = 0
    for stripe in prange(n_stripes):
        e = np.empty(BLOCK, logits.dtype)
        bits = np.empty(BLOCK, np.int32)
        first, last = _stripe(stripe, n_stripes, n)
        for start in range(first, last, BLOCK):
            stop = min(last, start + BLOCK)
            outside += _bce_block(
                logits[start:stop], targets[start:stop], smoothing, scale, grad[start:stop], e, bits
            )
            out = losses[start:stop]
            for j in range(stop - start):
                out[j] = e[j]
    return outside


def sigmoid_bce_total(logits, targets, smoothing, scale, grad):
    """Like :func:`sigmoid_bce` but returns (sum of the losses, targets outside [0, 1])."""
    n = logits.shape[0]
    n_stripes = _n_stripes(n, BLOCK)
    total = 0.0
    outside = 0
    for stripe in prange(n_stripes):
        e = np.empty(BLOCK, logits.dtype)
        bits = np.empty(BLOCK, np.int32)
        first, last = _stripe(stripe, n_stripes, n)
        part = 0.0
        for start in range(first, last, BLOCK):
            stop = min(last, start + BLOCK)
            outside += _bce_block(
                logits[start:stop], targets[start:stop], smoothing, scale, grad[start:stop], e, bits
            )
            for j in range(stop - start):
                part += e[j]
        total += part
    return total, outside


def _bce_weighted_block(x, y, pos_weight, weight, smoothing, scale, grad, e, bits):
    """:func:`_bce_block` with π = ``pos_weight`` and w = ``weight`` per element (an empty
    slice for none): l = w [f log1p(e) + x (f [x ≥ 0] - πy)], dl/dx = w (f σ(x) - πy),
    f = 1 - y + πy, as the NumPy reference writes them (an infinite logit gives what it gives).
    """
    size = x.shape[0]
    _exp_neg_abs(x, e, bits, size)
    one, zero, scale = _REAL(1.0), _REAL(0.0), _REAL(scale)
    keep, shift = _REAL(1.0 - smoothing), _REAL(smoothing / 2)
    has_pos, has_weight = pos_weight.shape[0] != 0, weight.shape[0] != 0
    outside = 0
    for j in range(size):
        ej = e[j]
        yj = y[j] * keep + shift
        pos = yj * pos_weight[j] if has_pos else yj
        factor = one - yj + pos if has_pos else one
        nonneg = one if x[j] >= zero else zero
        sig = (one if x[j] >= zero else ej) / (one + ej)
        wj = weight[j] if has_weight else one
        grad[j] = (factor * sig - pos) * (wj * scale)
        e[j] = (factor * _log1p_unit(ej) + x[j] * (factor * nonneg - pos)) * wj
        outside += (y[j] < zero) | (y[j] > one)
    return outside


def sigmoid_bce_weighted(
    logits, targets, pos_weight, pos_period, weight, weight_period, smoothing, scale, grad, losses
):
    """Weighted sigmoid BCE on flattened arrays (see :func:`_bce_weighted_block`).

    ``pos_weight`` and ``weight`` repeat with their ``period`` along the flat
    logits (a last-axis vector has the class count, a full array the logits'
    size; 0 for none): element i's weight is ``weight[i % period]``, and each
    array holds a further BLOCK elements (the period repeated), so a block's
    weights are one contiguous slice. ``losses``: the logits' size, or empty
    when only their sum is wanted. The same arguments in every case, so numba
    compiles it once per dtype. Returns (sum of the losses, targets outside [0, 1]).
    """
    n = logits.shape[0]
    n_stripes = _n_stripes(n, BLOCK)
    keep = losses.shape[0] != 0
    total = 0.0
    outside = 0
    for stripe in prange(n_stripes):
        e = np.empty(BLOCK, logits.dtype)
        bits = np.empty(BLOCK, np.int32)
        first, last = _stripe(stripe, n_stripes, n)
        part = 0.0
        for start in range(first, last, BLOCK):
            stop = min(last, start + BLOCK)
            outside += _bce_weighted_block(
                logits[start:stop],
                targets[start:stop],
                _periodic_slice(pos_weight, pos_period, start, stop),
                _periodic_slice(weight, weight_period, start, stop),
                smoothing,
                scale,
                grad[start:stop],
                e,
                bits,
            )
            for j in range(stop - start):
                part += e[j]
            if keep:
                out = losses[start:stop]
                for j in range(stop - start):
                    out[j] = e[j]
        total += part
    return total, outside


@njit(cache=True, inline="always")
def _periodic_slice(values, period, start, stop):
    """The weights of flat elements [start, stop) of values repeating with ``period``
    (empty for period 0)."""
    if period == 0:
        return values[:0]
    first = start % period
    return values[first : first + stop - start]


# --- building: {float64, float32} × {serial, parallel} ------------------------------------------

_ELEMENTARY = {
    "f64": {
        "_exp_inplace": _exp_inplace_f64,
        "_exp_neg_abs": _exp_neg_abs_f64,
        "_log1p_unit": _log1p_unit_f64,
        "_log_ge1": _log_ge1_f64,
        "_REAL": np.float64,
    },
    "f32": {
        "_exp_inplace": _exp_inplace_f32,
        "_exp_neg_abs": _exp_neg_abs_f32,
        "_log1p_unit": _log1p_unit_f32,
        "_log_ge1": _log_ge1_f32,
        "_REAL": np.float32,
    },
}
_HELPERS = (
    _softmax_rows,
    _dense_cross_entropy_row,
    _powers_of_rest,  # before the helper that calls it: a copy looks its callees up when made
    _focal_terms,
    _dense_focal_row,
    _bce_block,
    _bce_weighted_block,
)  # they call the elementary functions: one copy per precision


def _copy(fn, suffix, namespace):
    """fn under another name, looking its globals up in ``namespace`` first.

    numba's disk cache is keyed by the function's name, so every build needs its own.
    """
    code = fn.__code__.replace(co_name=fn.__name__ + suffix, co_qualname=fn.__qualname__ + suffix)
    copy = types.FunctionType(
        code, {**fn.__globals__, **namespace}, fn.__name__ + suffix, fn.__defaults__
    )
    copy.__qualname__ = fn.__qualname__ + suffix
    return copy


def _namespace(precision):
    namespace = dict(_ELEMENTARY[precision])
    for helper in _HELPERS:
        copy = _copy(helper, f"_{precision}", namespace)
        namespace[helper.__name__] = njit(fastmath=_FLAGS, cache=True, inline="always")(copy)
    return namespace


_NAMESPACES = {precision: _namespace(precision) for precision in _ELEMENTARY}


def _compile(fn, **options):
    """fn built for float64 and float32, serial and parallel; ``options``: more of njit's."""
    builds = {}
    for precision, namespace in _NAMESPACES.items():
        for mode, parallel in (("serial", False), ("parallel", True)):
            copy = _copy(fn, f"_{precision}_{mode}", namespace)
            build = njit(parallel=parallel, fastmath=_FLAGS, cache=True, **options)
            builds[precision, mode] = build(copy)

    def dispatch(output, *args):
        mode = "parallel" if output.size >= PARALLEL_MIN_ELEMENTS else "serial"
        if output.dtype != np.float32:
            return builds["f64", mode](output, *args)
        # scalars (margin, scale, gamma) as float32 too: one float64 operand would widen
        # every element's arithmetic and stop SIMD code
        args = tuple(np.float32(a) if isinstance(a, float) else a for a in args)
        return builds["f32", mode](output, *args)

    dispatch.__name__ = dispatch.__qualname__ = fn.__name__
    dispatch.__doc__ = fn.__doc__
    return dispatch


weston_watkins = _compile(weston_watkins)
crammer_singer = _compile(crammer_singer)
softmax_focal_rows = _compile(softmax_focal_rows)
# NumPy's division semantics (x / 0 is inf or NaN): Python's ZeroDivisionError check on every
# element's division stops SIMD code (8 times slower). The divisors are softmax sums (≥ 1, or
# NaN) but for 1 - p in p log p / (1 - p), whose 0 at p = 1 a select then replaces by the limit.
softmax_dense_rows = _compile(softmax_dense_rows, error_model="numpy")
sigmoid_bce = _compile(sigmoid_bce)
sigmoid_bce_total = _compile(sigmoid_bce_total)
sigmoid_bce_weighted = _compile(sigmoid_bce_weighted)


# --- the losses: (output, target, *options, reduction) -> (value, grad), or None -------------
# output has any layout; the kernels walk C-contiguous rows, so others are copied first


def _rows(kernel, scores, arguments, reduction, total=None, shape=None):
    """``kernel(scores, *arguments, scale, grad, losses)`` reduced as losses.reduce reduces.

    The kernel writes the gradient already multiplied by the reduction's scale
    (1/total for "mean", total the number of rows unless given), so the gradient is
    written exactly once. None where that scale would overflow (a subnormal total
    weight): the NumPy reference divides afterwards instead. ``shape``: the gradient's
    (N, C) when ``scores`` is passed as its C-order transpose (see :func:`_dense`).
    """
    scores = np.ascontiguousarray(scores)  # any layout: a copy costs less than strided rows
    shape = scores.shape if shape is None else shape
    n = shape[0]
    total = n if total is None else float(total)  # Python float: 1/5e-324 is inf, not a warning
    scale = 1.0 / total if reduction == "mean" and total else 1.0
    if not np.isfinite(scores.dtype.type(scale)):
        return None
    grad = np.empty(shape, scores.dtype)
    losses = np.empty(n, dtype=scores.dtype)
    if kernel(scores, *arguments, scale, grad, losses):  # invalid targets: the reference says so
        return None
    if reduction == "mean" and total == 0:
        grad.fill(0)  # an empty or all-ignored mean: 0 with no gradient, as the reference
        return 0.0, grad
    if reduction == "none":
        return losses, grad
    value = float(np.add.reduce(losses, dtype=np.float64))  # np.sum's wrapper costs 2 µs
    return (value * scale if reduction == "mean" else value), grad


def softmax_cross_entropy(scores, target, weights, reduction):
    """Softmax cross-entropy: the focal kernels with γ = 0.

    ``target``: integer labels (N,), with ``weights`` None or (a_y, w_i, spread,
    total) of the loss's options; or probability targets (N, C), with ``weights``
    (w_i, t_c, spread_c, total) (see :func:`softmax_dense_rows`).
    """
    return softmax_focal(scores, target, 0.0, weights, reduction)


def softmax_focal(scores, target, gamma, weights, reduction):
    """Softmax focal loss; ``target`` and ``weights`` as for :func:`softmax_cross_entropy`."""
    if target.ndim == 2:  # probability targets: every class has a coefficient
        row_w, target_w, spread, total = weights
        labels, on_target = np.empty(0, np.intp), np.empty(0, scores.dtype)
        arguments = (labels, on_target, target, target_w, row_w, spread, gamma)
        return _dense(scores, arguments, reduction, total)
    if weights is None:
        return _rows(softmax_focal_rows, scores, (target, gamma, None, None, None), reduction)
    on_target, row_w, spread, total = weights
    if gamma != 0 and spread.any():  # smoothed labels: every class enters the focal term
        no_probs = np.empty((0, 0), scores.dtype)
        arguments = (target, on_target, no_probs, spread[:0], row_w, spread, gamma)
        return _dense(scores, arguments, reduction, total)
    arguments = (target, gamma, on_target, row_w, spread)
    return _rows(softmax_focal_rows, scores, arguments, reduction, total)


def _dense(scores, arguments, reduction, total):
    """:func:`softmax_dense_rows` through :func:`_rows`: Fortran-order scores and targets are
    passed as their transposes (C order, no copy); any other layout is copied into C order."""
    labels, on_target, probs, *rest = arguments
    shape = scores.shape
    scores, scores_by_column = _rows_or_columns(scores)
    probs, probs_by_column = _rows_or_columns(probs)
    arguments = (labels, on_target, probs, (scores_by_column, probs_by_column), *rest)
    return _rows(softmax_dense_rows, scores, arguments, reduction, total, shape=shape)


def _rows_or_columns(a):
    """(a C-order array, whether it is ``a``'s transpose): a Fortran-order array is passed
    as its transpose, with no copy; another layout is copied into C order."""
    if not a.flags.c_contiguous and a.flags.f_contiguous:
        return a.T, True
    return np.ascontiguousarray(a), False


def multiclass_hinge(scores, labels, margin, squared, kind, weights, reduction):
    """The Weston-Watkins or Crammer-Singer hinge of integer labels; ``weights``: None, or
    (w_i, total)."""
    kernel = crammer_singer if kind == "crammer_singer" else weston_watkins
    if weights is None:
        return _rows(kernel, scores, (labels, margin, squared, None), reduction)
    row_w, total = weights
    return _rows(kernel, scores, (labels, margin, squared, row_w), reduction, total)


def sigmoid_binary_cross_entropy(logits, targets, smoothing, weights, reduction):
    """Sigmoid BCE in one read of the logits and the targets, one write of the gradient;
    ``smoothing``: label smoothing ε (0 for none); ``weights``: None, or (π, w) of the
    loss's options, each None or an array broadcastable to the logits.

    None when a target lies outside [0, 1]: the caller's NumPy reference reports it.
    """
    if weights is not None:
        return _weighted_bce(logits, targets, smoothing, *weights, reduction)
    flat_x = np.ascontiguousarray(logits).reshape(-1)  # any layout: rows in C order
    flat_y = np.ascontiguousarray(targets, dtype=logits.dtype).reshape(-1)
    grad = np.empty(logits.shape, logits.dtype)  # C order, so that its flat view is a view
    if reduction == "none":
        losses = np.empty(logits.shape, logits.dtype)
        outside = sigmoid_bce(flat_x, flat_y, smoothing, 1.0, grad.reshape(-1), losses.reshape(-1))
        value = losses
    else:  # the scale is folded into the gradient; only the sum of the losses comes back
        scale = 1.0 / flat_x.size if reduction == "mean" and flat_x.size else 1.0
        total, outside = sigmoid_bce_total(flat_x, flat_y, smoothing, scale, grad.reshape(-1))
        value = total * scale
    return None if outside else (value, grad)


def _weighted_bce(logits, targets, smoothing, pos_weight, weight, reduction):
    """Sigmoid BCE with π and w; "mean" divides by Σw. None where 1/Σw would overflow
    (or Σw is 0): the NumPy reference divides afterwards instead."""
    flat_x = np.ascontiguousarray(logits).reshape(-1)
    flat_y = np.ascontiguousarray(targets, dtype=logits.dtype).reshape(-1)
    pos, pos_period = _periodic(pos_weight, logits)
    weight, weight_period = _periodic(weight, logits)
    total = flat_x.size if weight_period == 0 else _periodic_sum(weight, weight_period, flat_x.size)
    scale = 1.0
    if reduction == "mean":
        scale = 1.0 / float(total) if total else math.inf  # inf, not NumPy's overflow warning
        if not np.isfinite(logits.dtype.type(scale)):
            return None
    grad = np.empty(logits.shape, logits.dtype)
    losses = np.empty(logits.shape if reduction == "none" else 0, logits.dtype)
    flat_grad, flat_losses = grad.reshape(-1), losses.reshape(-1)
    total_loss, outside = sigmoid_bce_weighted(
        flat_x,
        flat_y,
        pos,
        pos_period,
        weight,
        weight_period,
        smoothing,
        scale,
        flat_grad,
        flat_losses,
    )
    if outside:
        return None
    return (losses if reduction == "none" else total_loss * scale), grad


def _periodic(weights, logits):
    """(values, period) of weights broadcast to the logits, for :func:`sigmoid_bce_weighted`.

    The leading axes along which the weights do not vary (size 1, or stride 0 in
    a broadcast view) are dropped: what remains, flat in C order, repeats along
    the flat logits. A last-axis vector so costs C + BLOCK elements, not N × C.
    """
    if weights is None or logits.size == 0:  # an empty mean has no weight: the reference's case
        return np.empty(0, logits.dtype), 0
    full = np.broadcast_to(np.asarray(weights, dtype=logits.dtype), logits.shape)
    lead = 0
    while lead < full.ndim and (full.shape[lead] == 1 or full.strides[lead] == 0):
        lead += 1
    period_values = np.ascontiguousarray(full[(0,) * lead]).reshape(-1)
    period = period_values.size
    if period == logits.size:  # weights that vary along the first axis: no repetition
        return period_values, period
    return np.resize(period_values, period + BLOCK), period


def _periodic_sum(values, period, size):
    """Σ of the first ``size`` elements of values repeating with ``period`` (size a multiple)."""
    return float(np.add.reduce(values[:period], dtype=np.float64)) * (size // period)
