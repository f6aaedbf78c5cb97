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
    """A diagnosis of the training doctor (:mod:`losslab.training.doctor`); every category is one.

    Filter on it to silence, or turn into errors, every diagnosis at once; each
    diagnosis (learning rate too high, probabilities passed as scores, ...) is a
    subclass.

    Examples
    --------
    >>> issubclass(ProbabilitiesAsScoresWarning, DoctorWarning)
    True
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DoctorWarning)  # every diagnosis quiet
    ...     warn_if_probabilities(np.array([[0.1, 0.2, 0.7]]), "softmax_cross_entropy")
    """


class ProbabilitiesAsScoresWarning(DoctorWarning):
    """Rows in [0, 1] summing to 1 were passed to a loss that expects raw scores (logits).

    Such input gives a plausible but wrong loss, never an error, so the losses that
    take scores warn instead (see :func:`warn_if_probabilities`).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_probabilities(np.array([[0.1, 0.2, 0.7]]), "softmax_cross_entropy")
    >>> caught[0].category.__name__
    'ProbabilitiesAsScoresWarning'
    """


def probability_rows(s: np.ndarray) -> bool:
    """Whether every row of the 2-D float array ``s`` lies in [0, 1] and sums to 1 (within rounding).

    Parameters
    ----------
    s : ndarray of shape (N, C), float
        Must not be empty: a row sum's rounding tolerance is 1e-9 (float64), 1e-5
        (float32) or 1e-3 (float16) per class.

    Returns
    -------
    bool
        True when every row is a probability vector.

    Examples
    --------
    >>> probability_rows(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]]))
    True
    >>> probability_rows(np.array([[0.1, 0.2, 0.7], [1.5, -0.5, 0.0]]))  # sums to 1, not in [0, 1]
    False
    """
    sums = s.sum(axis=1, dtype=np.float64)
    tol = 1e-3 if s.dtype == np.float16 else 1e-5 if s.dtype == np.float32 else 1e-9
    return bool(s.min() >= 0 and s.max() <= 1 and np.all(np.abs(sums - 1) <= tol * s.shape[1]))


def warn_if_probabilities(scores: np.ndarray, loss: str) -> None:
    """Warn (ProbabilitiesAsScoresWarning) when the (N, C) ``scores`` look like probabilities.

    Such rows give a plausible but wrong loss (0.768 instead of 0.357 for
    [0.1, 0.2, 0.7] of class 2), never an error. The first row is screened
    alone first, and by its sum alone before that (one reduction: this runs on every
    training step of the NumPy path), so real scores cost O(C) per call.

    Parameters
    ----------
    scores : ndarray of shape (N, C)
        What the loss was given; one column or no rows never warn.
    loss : str
        The loss's name, for the message.

    Warns
    -----
    ProbabilitiesAsScoresWarning
        When every row lies in [0, 1] and sums to 1.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_probabilities(np.array([[2.0, -1.0, 0.5]]), "multiclass_hinge")
    ...     warn_if_probabilities(np.array([[0.1, 0.2, 0.7]]), "multiclass_hinge")
    >>> len(caught), str(caught[0].message).startswith("scores: every row lies in [0, 1]")
    (1, True)
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
    """Check that ``reduction`` is "mean", "sum" or "none".

    Parameters
    ----------
    reduction : str

    Raises
    ------
    ValueError
        Naming the three choices.

    Examples
    --------
    >>> check_reduction("sum")
    >>> check_reduction("avg")
    Traceback (most recent call last):
    ...
    ValueError: reduction: expected one of 'mean', 'sum', 'none', got 'avg' instead
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction: expected one of {', '.join(map(repr, REDUCTIONS))}, "
            f"got {reduction!r} instead"
        )


def as_output(x: ArrayLike, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """The model's output as a float array (float32 stays float32).

    Integers and booleans become float64, float16 becomes float32 (the arithmetic's
    dtype; the losses return float16 gradients for float16 input).

    Parameters
    ----------
    x : array_like
        Scores, logits, probabilities or predictions.
    name : str
        The argument's name, for the error.
    ndim : int or tuple of int, optional
        The allowed numbers of dimensions; None allows any.

    Returns
    -------
    ndarray
        x without a copy when it is already float32 or float64.

    Raises
    ------
    TypeError
        If x is not numeric.
    ValueError
        If x has another number of dimensions than ``ndim``.

    Examples
    --------
    >>> as_output([1, 2], "scores").dtype, as_output(np.float16([1.0]), "scores").dtype
    (dtype('float64'), dtype('float32'))
    >>> as_output(np.zeros(3), "scores", ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: scores: expected a 2-D array, got shape (3,) instead
    """
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
    """A float target or weight array cast to ``dtype``, optionally of exact ``shape``.

    Parameters
    ----------
    x : array_like
        Numeric (float, integer or boolean) values.
    name : str
        The argument's name, for the error.
    dtype : dtype
        Usually the output's dtype, so the arithmetic stays in one precision.
    shape : tuple of int, optional
        The exact shape required; None allows any.

    Returns
    -------
    ndarray
        x in ``dtype`` (no copy when it already is).

    Raises
    ------
    TypeError
        If x is not numeric.
    ValueError
        If x's shape is not ``shape``.

    Examples
    --------
    >>> as_values([0, 1], "target", np.float32)
    array([0., 1.], dtype=float32)
    >>> as_values([0, 1], "target", np.float32, shape=(3,))
    Traceback (most recent call last):
    ...
    ValueError: target: expected shape (3,), got shape (2,) instead
    """
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype} instead")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got shape {a.shape} instead")
    return a.astype(dtype, copy=False)


def is_integer_array(x: ArrayLike) -> bool:
    """Whether ``x`` holds integers (signed or unsigned): class labels, not probabilities.

    The losses decide labels against probabilities by dtype, never from the values.

    Parameters
    ----------
    x : array_like

    Returns
    -------
    bool

    Examples
    --------
    >>> is_integer_array(np.array([0, 2])), is_integer_array(np.array([0.0, 1.0]))
    (True, False)
    """
    return np.asarray(x).dtype.kind in "iu"


def as_labels(
    target: ArrayLike,
    n: int,
    n_classes: int,
    name: str = "target",
    ignore_index: int | None = None,
) -> np.ndarray:
    """Integer class labels of shape (n,) with values in [0, n_classes).

    Parameters
    ----------
    target : array_like of shape (n,), integer
        The labels.
    n : int
        The number of samples (the scores' rows).
    n_classes : int
        C; each label must be in [0, C).
    name : str, default "target"
        The argument's name, for the error.
    ignore_index : int, optional
        A label exempt from the range check (torch's -100); the loss skips it.

    Returns
    -------
    ndarray of shape (n,), dtype intp
        The labels, ready for indexing.

    Raises
    ------
    TypeError
        If the labels are not integers (float targets are probabilities).
    ValueError
        If the shape is not (n,) or a label is out of range.

    Examples
    --------
    >>> as_labels([2, 0, -100], 3, 3, ignore_index=-100).tolist()
    [2, 0, -100]
    >>> as_labels(np.array([0, 3]), 2, 3)
    Traceback (most recent call last):
    ...
    ValueError: target: expected labels in [0, 3), got label 3 instead
    """
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
    """Non-negative finite weights broadcastable to ``shape``, cast to ``dtype``.

    Parameters
    ----------
    w : array_like or None
        The weights; None means unweighted.
    name : str
        The argument's name, for the error.
    dtype : dtype
        The output's dtype.
    shape : tuple of int
        The shape the weights must broadcast to (the output's).

    Returns
    -------
    ndarray or None
        The weights in their own shape (not yet broadcast), or None when w is None.

    Raises
    ------
    ValueError
        If w does not broadcast to ``shape``, or holds a negative, infinite or NaN weight.

    Examples
    --------
    >>> as_weights([1.0, 2.0], "weight", np.float64, (4, 2)).tolist()
    [1.0, 2.0]
    >>> as_weights([1.0, -1.0], "weight", np.float64, (4, 2))
    Traceback (most recent call last):
    ...
    ValueError: weight: expected finite non-negative weights, got weight -1.0 instead
    """
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
    """One non-negative finite weight per sample, shape (n,), or None.

    Parameters
    ----------
    w : array_like or None
        Of n elements (a scalar broadcasts to every sample).
    n : int
        The number of samples.
    dtype : dtype
        The output's dtype.

    Returns
    -------
    ndarray of shape (n,) or None

    Raises
    ------
    ValueError
        If w does not broadcast to (n,) or holds a negative or non-finite weight.

    Examples
    --------
    >>> as_sample_weight([1, 3], 2, np.float32)
    array([1., 3.], dtype=float32)
    >>> as_sample_weight(None, 2, np.float32) is None
    True
    """
    return None if w is None else as_weights(w, "sample_weight", dtype, (n,)).reshape(n)


def element_weight(
    x: np.ndarray, weight: ArrayLike | None, sample_weight: ArrayLike | None
) -> np.ndarray | None:
    """Element weights broadcast to x's shape (``weight`` × ``sample_weight`` per row), or None.

    Parameters
    ----------
    x : ndarray of shape (N, ...)
        The output the weights apply to.
    weight : array_like broadcastable to x's shape, or None
        Element weights.
    sample_weight : array_like of shape (N,), or None
        Row weights, multiplied into every element of their row.

    Returns
    -------
    ndarray of x's shape, or None
        A read-only broadcast view; None when both weights are None.

    Raises
    ------
    ValueError
        If a weight is invalid (see :func:`as_weights`), or ``sample_weight`` is given
        for a scalar output.

    Examples
    --------
    >>> element_weight(np.zeros((2, 3)), [1.0, 2.0, 3.0], [1.0, 10.0]).tolist()
    [[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]
    """
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
    """One non-negative finite weight per class, shape (n_classes,), or None.

    Parameters
    ----------
    w : array_like of shape (n_classes,), or None
    n_classes : int
        C.
    dtype : dtype
        The output's dtype.
    name : str, default "class_weight"
        The argument's name, for the error.

    Returns
    -------
    ndarray of shape (n_classes,) or None

    Raises
    ------
    ValueError
        If the shape is not exactly (n_classes,) (no broadcasting) or a weight is
        negative or not finite.

    Examples
    --------
    >>> as_class_weight([1.0, 2.0, 0.5], 3, np.float64).tolist()
    [1.0, 2.0, 0.5]
    >>> as_class_weight([1.0, 2.0], 3, np.float64)
    Traceback (most recent call last):
    ...
    ValueError: class_weight: expected shape (3,), got shape (2,) instead
    """
    if w is None:
        return None
    a = as_values(w, name, dtype)
    if a.shape != (n_classes,):
        raise ValueError(f"{name}: expected shape ({n_classes},), got shape {a.shape} instead")
    return as_weights(a, name, dtype, (n_classes,))


def check_range(x: np.ndarray, name: str, low: float, high: float) -> None:
    """Values in [low, high]; NaN passes through so that it propagates.

    fmin/fmax reductions skip NaN and make no temporary array: two cheap reads.

    Parameters
    ----------
    x : ndarray
        Any shape; an empty array passes.
    name : str
        The argument's name, for the error.
    low, high : float
        The closed range.

    Raises
    ------
    ValueError
        Naming the first value outside the range.

    Examples
    --------
    >>> check_range(np.array([0.0, np.nan, 1.0]), "probs", 0, 1)  # NaN is not hidden here
    >>> check_range(np.array([0.5, 1.5]), "probs", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: probs: expected values in [0, 1], got 1.5 instead
    """
    if x.size == 0:
        return
    if np.fmin.reduce(x, axis=None) < low or np.fmax.reduce(x, axis=None) > high:
        bad = x[(x < low) | (x > high)].flat[0]
        raise ValueError(f"{name}: expected values in [{low}, {high}], got {bad} instead")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Check that ``b`` has ``a``'s shape; the error names ``b``, the argument to fix.

    Parameters
    ----------
    a, b : ndarray
        Usually the output and the target.
    name_a, name_b : str
        Their argument names, for the error.

    Raises
    ------
    ValueError
        If the shapes differ (no broadcasting).

    Examples
    --------
    >>> check_same_shape(np.zeros((2, 3)), np.zeros((2, 3)), "logits", "target")
    >>> check_same_shape(np.zeros((2, 3)), np.zeros(2), "logits", "target")
    Traceback (most recent call last):
    ...
    ValueError: target: expected the shape of logits (2, 3), got shape (2,) instead
    """
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
    """A real number in a range, e.g. ``check_scalar(gamma, "gamma", low=0)``.

    Parameters
    ----------
    x : float
        A Python or NumPy real number; booleans are refused.
    name : str
        The argument's name, for the error.
    low, high : float, optional
        The bounds, inclusive; None for none.
    low_open : bool, default False
        Excludes ``low`` itself (e.g. a learning rate > 0).

    Returns
    -------
    float
        x as a Python float.

    Raises
    ------
    TypeError
        If x is not a real number.
    ValueError
        If x is infinite, NaN or out of range.

    Examples
    --------
    >>> check_scalar(np.float32(2), "gamma", low=0)
    2.0
    >>> check_scalar(0.0, "lr", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: lr: expected a number > 0, got 0.0 instead
    """
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
    """An integer class label such as ``ignore_index`` (negative ones included, as torch's -100).

    Parameters
    ----------
    x : int
        A Python or NumPy integer; booleans are refused.
    name : str
        The argument's name, for the error.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If x is not an integer.

    Examples
    --------
    >>> check_label(np.int64(-100), "ignore_index")
    -100
    >>> check_label(1.5, "ignore_index")
    Traceback (most recent call last):
    ...
    TypeError: ignore_index: expected an integer label or None, got 1.5 instead
    """
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer label or None, got {x!r} instead")
    return int(x)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _worst(a):
    bad = a[~np.isfinite(a) | (a < 0)]
    return f"weight {bad.flat[0]}"
