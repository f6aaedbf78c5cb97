"""The result type every loss returns and the one reduction helper they share."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


class LossResult(NamedTuple):
    """A loss value and its gradient with respect to the loss's first argument.

    ``loss, dscores = losses.softmax_cross_entropy(scores, y)`` unpacks it.
    Losses with several inputs (ranking) return a tuple of gradients in ``grad``.
    """

    value: Any
    grad: Any


def reduce(losses, grad, reduction, total_weight=None):
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
        return LossResult(0.0, _scale(grad, 0.0))
    return LossResult(total / denom, _scale(grad, 1.0 / denom))


def _scale(grad, factor):
    if isinstance(grad, tuple):
        return tuple(_scale(g, factor) for g in grad)
    if factor == 0.0:
        grad.fill(0)  # NaN * 0 would stay NaN; an empty mean has no gradient
    else:
        grad *= grad.dtype.type(factor)
    return grad
