"""Checks run once at the public boundary of every loss, and of the layers above that take arrays.

Each helper returns a clean array or raises an error of the form
"<argument>: expected <what>, got <what> instead". The kernels behind the
public functions assume these checks have passed and contain none.
"""

from __future__ import annotations

import math
import warnings
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ._result import REDUCTIONS


class DoctorWarning(UserWarning):
    """A diagnosis of the training doctor (:mod:`losslab.training.doctor`); every category is one."""


class ProbabilitiesAsScoresWarning(DoctorWarning):
    """Rows in [0, 1] summing to 1 were passed to a loss that expects raw scores (logits)."""


def probability_rows(s: np.ndarray) -> bool:
    """Whether every row of the 2-D float array ``s`` lies in [0, 1] and sums to 1 (within rounding)."""
    sums = s.sum(axis=1, dtype=np.float64)
    tol = 1e-3 if s.dtype == np.float16 else 1e-5 if s.dtype == np.float32 else 1e-9
    return bool(s.min() >= 0 and s.max() <= 1 and np.all(np.abs(sums - 1) <= tol * s.shape[1]))


def warn_if_probabilities(scores: np.ndarray, loss: str) -> None:
    """Warn (ProbabilitiesAsScoresWarning) when the (N, C) ``scores`` look like probabilities.

    Such rows give a plausible but wrong loss (0.768 instead of 0.357 for
    [0.1, 0.2, 0.7] of class 2), never an error. The first row is screened
    alone first, and by its sum alone before that (one reduction: this runs on every
    training step of the NumPy path), so real scores cost O(C) per call.
    """
    if scores.shape[1] < 2 or len(scores) == 0:
        return
    if abs(float(scores[0].sum(dtype=np.float64)) - 1.0) > 1e-3 * scores.shape[1]:
        return  # looser than probability_rows' tolerance: a screen, never a verdict
    if not probability_rows(scores[:1]):
        return
    if probability_rows(scores):
        warnings.warn(
            f"scores: every row lies in [0, 1] and sums to 1, so these look like probabilities, "
            f"but {loss} takes raw scores (logits); pass the scores before softmax, or use "
            "categorical_cross_entropy for probabilities",
            ProbabilitiesAsScoresWarning,
            stacklevel=3,
        )


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction: expected one of {', '.join(map(repr, REDUCTIONS))}, "
            f"got {reduction!r} instead"
        )


def as_output(x: ArrayLike, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """The model's output as a float array (float32 stays float32)."""
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind == "f":
        a = a.astype(np.float32, copy=False) if a.dtype.itemsize < 4 else a
    elif kind in "iub":
        a = a.astype(np.float64)
    else:
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype} instead")
    if ndim is not None and a.ndim not in _as_tuple(ndim):
        want = " or ".join(f"{d}-D" for d in _as_tuple(ndim))
        raise ValueError(f"{name}: expected a {want} array, got shape {a.shape} instead")
    return a


def as_values(
    x: ArrayLike, name: str, dtype: DTypeLike, shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """A float target or weight array cast to ``dtype``, optionally of exact ``shape``."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype} instead")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got shape {a.shape} instead")
    return a.astype(dtype, copy=False)


def is_integer_array(x: ArrayLike) -> bool:
    return np.asarray(x).dtype.kind in "iu"


def as_labels(
    target: ArrayLike,
    n: int,
    n_classes: int,
    name: str = "target",
    ignore_index: int | None = None,
) -> np.ndarray:
    """Integer class labels of shape (n,) with values in [0, n_classes)."""
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer class labels, got dtype {t.dtype} instead")
    if t.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got shape {t.shape} instead")
    valid = t if ignore_index is None else t[t != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= n_classes):
        bad = valid[(valid < 0) | (valid >= n_classes)][0]
        raise ValueError(f"{name}: expected labels in [0, {n_classes}), got label {bad} instead")
    return t.astype(np.intp, copy=False)


@overload
def as_weights(w: None, name: str, dtype: DTypeLike, shape: tuple[int, ...]) -> None: ...
@overload
def as_weights(w: ArrayLike, name: str, dtype: DTypeLike, shape: tuple[int, ...]) -> np.ndarray: ...
def as_weights(
    w: ArrayLike | None, name: str, dtype: DTypeLike, shape: tuple[int, ...]
) -> np.ndarray | None:
    """Non-negative finite weights broadcastable to ``shape``, cast to ``dtype``."""
    if w is None:
        return None
    a = as_values(w, name, dtype)
    try:
        np.broadcast_shapes(a.shape, tuple(shape))
    except ValueError:
        raise ValueError(
            f"{name}: expected a shape broadcastable to {tuple(shape)}, got shape {a.shape} instead"
        ) from None
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name}: expected finite non-negative weights, got {_worst(a)} instead")
    return a


@overload
def as_sample_weight(w: None, n: int, dtype: DTypeLike) -> None: ...
@overload
def as_sample_weight(w: ArrayLike, n: int, dtype: DTypeLike) -> np.ndarray: ...
def as_sample_weight(w: ArrayLike | None, n: int, dtype: DTypeLike) -> np.ndarray | None:
    return None if w is None else as_weights(w, "sample_weight", dtype, (n,)).reshape(n)


def element_weight(
    x: np.ndarray, weight: ArrayLike | None, sample_weight: ArrayLike | None
) -> np.ndarray | None:
    """Element weights broadcast to x's shape (``weight`` × ``sample_weight`` per row), or None."""
    w = as_weights(weight, "weight", x.dtype, x.shape)
    if sample_weight is not None:
        if x.ndim == 0:
            raise ValueError("sample_weight: expected an output with a sample axis, got a scalar")
        sw = as_sample_weight(sample_weight, x.shape[0], x.dtype)
        sw = sw.reshape((-1,) + (1,) * (x.ndim - 1))
        w = sw if w is None else w * sw
    return None if w is None else np.broadcast_to(w, x.shape)


def as_class_weight(
    w: ArrayLike | None, n_classes: int, dtype: DTypeLike, name: str = "class_weight"
) -> np.ndarray | None:
    if w is None:
        return None
    a = as_values(w, name, dtype)
    if a.shape != (n_classes,):
        raise ValueError(f"{name}: expected shape ({n_classes},), got shape {a.shape} instead")
    return as_weights(a, name, dtype, (n_classes,))


def check_range(x: np.ndarray, name: str, low: float, high: float) -> None:
    """Values in [low, high]; NaN passes through so that it propagates.

    fmin/fmax reductions skip NaN and make no temporary array: two cheap reads.
    """
    if x.size == 0:
        return
    if np.fmin.reduce(x, axis=None) < low or np.fmax.reduce(x, axis=None) > high:
        bad = x[(x < low) | (x > high)].flat[0]
        raise ValueError(f"{name}: expected values in [{low}, {high}], got {bad} instead")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_b}: expected the shape of {name_a} {a.shape}, got shape {b.shape} instead"
        )


def check_scalar(
    x: float,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """A real number in a range, e.g. ``check_scalar(gamma, "gamma", low=0)``."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(x).__name__} instead")
    if not math.isfinite(x):  # np.isfinite costs ~1 µs on a Python scalar, math.isfinite 0.05
        raise ValueError(f"{name}: expected a finite number, got {x} instead")
    if low is not None and (x < low or (low_open and x == low)):
        op = ">" if low_open else ">="
        raise ValueError(f"{name}: expected a number {op} {low}, got {x} instead")
    if high is not None and x > high:
        raise ValueError(f"{name}: expected a number <= {high}, got {x} instead")
    return float(x)


def check_label(x: int, name: str) -> int:
    """An integer class label such as ``ignore_index`` (negative ones included, as torch's -100)."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer label or None, got {x!r} instead")
    return int(x)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _worst(a):
    bad = a[~np.isfinite(a) | (a < 0)]
    return f"weight {bad.flat[0]}"
