"""The result type every loss returns and the reduction helpers they share."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple, ParamSpec, cast

import numpy as np

_P = ParamSpec("_P")

REDUCTIONS = ("mean", "sum", "none")
_HALF = np.dtype(np.float16)


class LossResult(NamedTuple):
    """A loss value and its gradient with respect to the loss's first argument.

    ``loss, dscores = losses.softmax_cross_entropy(scores, y)`` unpacks it.
    Losses with several inputs (ranking) return a tuple of gradients in ``grad``.

    Attributes
    ----------
    value : float or ndarray
        The reduced loss (a float for "mean" and "sum"), or the per-sample
        losses of shape (N,) for ``reduction="none"``.
    grad : ndarray or tuple of ndarray
        The gradient of ``value`` (of the sum of the per-sample losses for
        "none") with respect to the first argument, of its shape; one array per
        input for the ranking losses.

    Examples
    --------
    >>> import numpy as np
    >>> from losslab import losses
    >>> result = losses.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> result  # a short repr, whatever the batch
    LossResult(value=1.38629, grad=array((2, 4), float64))
    >>> value, dscores = result  # unpacks like a pair
    >>> bool(np.isclose(value, np.log(4)))
    True
    """

    value: Any
    grad: Any

    def __repr__(self) -> str:
        # one line whatever the batch: small arrays in full, large ones by shape and dtype
        return f"LossResult(value={_brief(self.value)}, grad={_brief(self.grad)})"


def _brief(x: Any) -> str:
    """A short text for a value or gradient: ``0.6931``, ``[0.1, -0.2]`` or ``array((512, 10), float32)``."""
    if isinstance(x, tuple):
        return "(" + ", ".join(_brief(g) for g in x) + ")"
    if isinstance(x, np.ndarray):
        if x.size <= 6:
            return " ".join(np.array2string(x, precision=4, separator=", ").split())
        return f"array({x.shape}, {x.dtype})"
    if isinstance(x, float):
        return f"{x:.6g}"
    return repr(x)


def in_output_dtype(fn: Callable[_P, LossResult]) -> Callable[_P, LossResult]:
    """Decorator: a loss given float16 output returns its gradient (and per-sample losses)
    in float16, the output's dtype; the arithmetic runs in float32 (see ``as_output``)."""

    @functools.wraps(fn)
    def loss(output, *args, **options):
        return half_result(output, fn(output, *args, **options))

    # the wrapper's own signature is looser; to its callers it is the loss it wraps
    return cast(Callable[_P, LossResult], loss)


def half_result(output: Any, result: LossResult) -> LossResult:
    """``result`` with its arrays cast to float16 when ``output`` is float16, else unchanged."""
    if getattr(output, "dtype", None) is not _HALF:
        return result
    value, grad = result
    if isinstance(value, np.ndarray):
        value = value.astype(_HALF)
    if isinstance(grad, tuple):
        return LossResult(value, tuple(g.astype(_HALF) for g in grad))
    return LossResult(value, grad.astype(_HALF))


def reduce(
    losses: np.ndarray,
    grad: np.ndarray | tuple[np.ndarray, ...],
    reduction: str,
    total_weight: float | None = None,
) -> LossResult:
    """Reduce per-sample ``losses`` and scale ``grad`` to match.

    Parameters
    ----------
    losses : ndarray
        Per-sample (or per-element) losses with every weight already applied.
    grad : ndarray or tuple of ndarray
        ``grad[i]`` is the gradient of ``losses[i]``; owned by the caller's loss,
        so it is scaled in place.
    reduction : {"mean", "sum", "none"}
    total_weight : float, optional
        Denominator of the mean; the number of losses when None.

    A mean over zero total weight is 0 with a zero gradient, never NaN.
    """
    if reduction == "none":
        return LossResult(losses, grad)
    # float64 accumulation protects the sum of many float32 terms
    total = float(np.sum(losses, dtype=np.float64))
    if reduction == "sum":
        return LossResult(total, grad)
    denom = losses.size if total_weight is None else float(total_weight)
    if denom == 0:
        return LossResult(0.0, _divide(grad, 0.0))
    return LossResult(total / denom, _divide(grad, denom))


# Bytes of scores per block of rows the NumPy losses work on: the block, its gradient and a few
# temporaries stay in the 1 MiB L2 cache per core, so the passes over a block (max, exp, sums,
# scaling) read it from cache rather than memory. Measured by `python bench/losses.py --blocks`.
BLOCK_BYTES = 1 << 18


def row_blocks(n_rows: int, row_bytes: int) -> list[slice]:
    """Slices of about :data:`BLOCK_BYTES` each that cut ``n_rows`` rows into blocks."""
    step = max(1, BLOCK_BYTES // max(1, row_bytes))
    return [slice(start, min(n_rows, start + step)) for start in range(0, n_rows, step)]


def folded_scale(reduction: str, total: float, dtype: np.dtype) -> float | None:
    """The factor a blocked loss writes its gradient with: 1 for "sum" and "none", 1/total
    for "mean"; None where :func:`reduce` must divide afterwards instead (a mean over zero
    total weight, or a total so small that 1/total overflows)."""
    if reduction != "mean":
        return 1.0
    total = float(total)  # a Python float: 1/5e-324 is inf here, not NumPy's overflow warning
    factor = 1.0 / total if total else math.inf
    return factor if math.isfinite(factor) and np.isfinite(dtype.type(factor)) else None


def finish(
    losses: np.ndarray,
    grad: np.ndarray | tuple[np.ndarray, ...],
    reduction: str,
    scale: float | None,
    total: float | None,
) -> LossResult:
    """The LossResult of per-sample ``losses`` and a gradient already multiplied by ``scale``
    (:func:`folded_scale`); with scale None, :func:`reduce` scales it."""
    if scale is None:
        return reduce(losses, grad, reduction, total)
    if reduction == "none":
        return LossResult(losses, grad)
    value = float(np.sum(losses, dtype=np.float64))
    return LossResult(value * scale if reduction == "mean" else value, grad)


def elementwise(
    losses: np.ndarray, grad: np.ndarray, weight: np.ndarray | None, reduction: str
) -> LossResult:
    """Apply element weights (None, or an array of the losses' shape) and reduce like :func:`reduce`.

    The mean divides by the total weight, so it is a true weighted mean.
    """
    grad = grad.astype(losses.dtype, copy=False)
    if weight is None:
        return reduce(losses, grad, reduction)
    return reduce(losses * weight, grad * weight, reduction, weight.sum(dtype=np.float64))


def _divide(grad, denom):
    """grad / denom in place; a zero denominator (empty mean) gives a zero gradient."""
    if isinstance(grad, tuple):
        return tuple(_divide(g, denom) for g in grad)
    if denom == 0.0:
        grad.fill(0)  # NaN * 0 would stay NaN; an empty mean has no gradient
        return grad
    factor = 1.0 / denom
    if np.isfinite(factor) and np.isfinite(grad.dtype.type(factor)):
        grad *= grad.dtype.type(factor)  # the fast path: one multiply by a scalar
    else:  # a subnormal total weight: divide in float64 instead of overflowing 1/denom
        np.divide(grad, np.float64(denom), out=grad, casting="unsafe")
    return grad
