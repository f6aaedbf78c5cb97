"""Fused numba kernels for the hot losses (the ``fast`` extra): one pass over the scores.

Each kernel reads a row of scores once (it stays in L1 cache), writes its
gradient row once, and folds the reduction's scale into that write, so the
whole call costs about one read and one write of the matrix — the memory
bandwidth floor. Rows are split across threads (``prange``). They cover the
common case (integer labels, no weights, no smoothing); everything else runs
on the NumPy reference path, which the tests compare them with.

fastmath is restricted to flags that keep NaN and infinity semantics, so a
NaN score still propagates to the loss.
"""

from __future__ import annotations

import math
import types

from numba import njit, prange

_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}  # no 'nnan'/'ninf': NaN must propagate
# Below this many elements a kernel runs on one thread: waking a thread pool for a training-size
# batch costs more than the work, and fights BLAS's own threads between matrix products.
PARALLEL_MIN_ELEMENTS = 1 << 18


@njit(fastmath=_FLAGS, cache=True, inline="always")
def _exp_shifted(row, out):
    """out = exp(row - max(row)); returns (max, sum of out): the stable softmax numerator."""
    m = row[0]
    for j in range(1, row.shape[0]):
        m = max(m, row[j])
    total = 0.0
    for j in range(row.shape[0]):
        e = math.exp(row[j] - m)
        out[j] = e
        total += e
    return m, total


def softmax_ce(scores, labels, scale, grad, losses):
    n, c = scores.shape
    for i in prange(n):
        row = scores[i]
        m, total = _exp_shifted(row, grad[i])
        y = labels[i]
        losses[i] = m + math.log(total) - row[y]
        k = scale / total
        for j in range(c):
            grad[i, j] *= k
        grad[i, y] -= scale


def weston_watkins(scores, labels, margin, scale, grad, losses):
    n, c = scores.shape
    for i in prange(n):
        y = labels[i]
        sy = scores[i, y]
        total = 0.0
        violated = 0
        for j in range(c):
            h = scores[i, j] - sy + margin
            if j != y and h > 0:
                total += h
                violated += 1
                grad[i, j] = scale
            else:
                grad[i, j] = 0.0
        grad[i, y] = -violated * scale
        losses[i] = total


def softmax_focal(scores, labels, gamma, scale, grad, losses):
    n, c = scores.shape
    for i in prange(n):
        row = scores[i]
        m, total = _exp_shifted(row, grad[i])
        y = labels[i]
        logp = row[y] - m - math.log(total)
        p = math.exp(logp)
        q = -math.expm1(logp)  # 1 - p, accurate near p = 1
        focus = q**gamma
        losses[i] = -focus * logp
        ratio = logp / q if q > 0 else -1.0  # log p / (1 - p) → -1 as p → 1
        u = focus * (gamma * p * ratio - 1.0) * scale
        k = -u / total
        for j in range(c):
            grad[i, j] *= k  # -u p_j
        grad[i, y] += u


def sigmoid_bce(logits, targets, scale, grad, losses):
    """Element-wise on flattened arrays: l = softplus(x) - y x, dl/dx = σ(x) - y."""
    for i in prange(logits.shape[0]):
        x = logits[i]
        y = targets[i]
        e = math.exp(-abs(x))
        softplus = max(x, 0.0) + math.log1p(e)
        sig = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
        losses[i] = softplus - y * x
        grad[i] = (sig - y) * scale


def sigmoid_bce_total(logits, targets, scale, grad):
    """Like :func:`sigmoid_bce` but returns the sum of the losses instead of writing each one."""
    total = 0.0
    for i in prange(logits.shape[0]):
        x = logits[i]
        y = targets[i]
        e = math.exp(-abs(x))
        sig = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
        total += max(x, 0.0) + math.log1p(e) - y * x
        grad[i] = (sig - y) * scale
    return total


def _renamed(fn, suffix):
    """A copy of fn under another name: numba's disk cache is keyed by the function's name,
    so the serial and the parallel build must not share one (the second would load the first)."""
    code = fn.__code__.replace(co_name=fn.__name__ + suffix, co_qualname=fn.__qualname__ + suffix)
    copy = types.FunctionType(
        code, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__
    )
    copy.__qualname__ = fn.__qualname__ + suffix
    return copy


def _compile(fn):
    serial = njit(fastmath=_FLAGS, cache=True)(fn)
    parallel = njit(parallel=True, fastmath=_FLAGS, cache=True)(_renamed(fn, "_parallel"))

    def dispatch(output, *args):
        return (parallel if output.size >= PARALLEL_MIN_ELEMENTS else serial)(output, *args)

    dispatch.__name__ = dispatch.__qualname__ = fn.__name__
    dispatch.__doc__ = fn.__doc__
    return dispatch


softmax_ce = _compile(softmax_ce)
weston_watkins = _compile(weston_watkins)
softmax_focal = _compile(softmax_focal)
sigmoid_bce = _compile(sigmoid_bce)
sigmoid_bce_total = _compile(sigmoid_bce_total)
