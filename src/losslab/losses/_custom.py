"""Users' own losses: a plain function ``f(output, target) -> (value, grad)`` as a catalogue loss.

:class:`PlainLoss` gives such a function the catalogue's calling conventions
(``sample_weight``, ``reduction``, the output's dtype) and checks what it
returns; :func:`gradient_error` is the finite-difference check run when it is
registered; :func:`import_function` resolves ``"package.module:function"``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, half_result, reduce


class PlainLoss:
    """``f(output, target, **options) -> (value, grad)`` called as a catalogue loss.

    ``value`` is the mean loss (a scalar) with ``grad`` its gradient, or one
    loss per sample (shape (N,), or the output's shape) with ``grad`` the
    gradient of their sum. Per-sample values take ``sample_weight`` and every
    reduction; a scalar value is a mean already, so it takes neither.
    """

    def __init__(self, f: Callable, name: str):
        self.f = f
        self.__wrapped__ = f  # inspect.signature reads f's own parameters
        self.__name__ = name
        self.__doc__ = getattr(f, "__doc__", None)

    def __call__(
        self,
        output: ArrayLike,
        *targets: Any,
        sample_weight: ArrayLike | None = None,
        reduction: str = "mean",
        **options: Any,
    ) -> LossResult:
        # float16 output: f computes in float32, the gradient comes back in float16
        return half_result(output, self._call(output, targets, sample_weight, reduction, options))

    def _call(self, output, targets, sample_weight, reduction, options):
        v.check_reduction(reduction)
        output = v.as_output(output, "output")
        value, grad = checked_pair(self.f(output, *targets, **options), output, self.__name__)
        if value.ndim == 0:
            return self._scalar(value, grad, sample_weight, reduction)
        if sample_weight is not None:
            w = v.as_sample_weight(sample_weight, len(value), output.dtype)
            value = value * w.reshape((-1,) + (1,) * (value.ndim - 1))
            grad = grad * w.reshape((-1,) + (1,) * (grad.ndim - 1))
            rows = value.size // len(value)  # an element-wise value has several terms per row
            return reduce(value, grad, reduction, w.sum(dtype=np.float64) * rows)
        return reduce(value, grad, reduction)

    def _scalar(self, value, grad, sample_weight, reduction):
        if sample_weight is not None or reduction != "mean":
            what = "sample_weight" if sample_weight is not None else "reduction"
            raise ValueError(
                f"{what}: loss {self.__name__} returns a single value (a mean); "
                "return one loss per sample to use sample weights or other reductions"
            )
        return LossResult(float(value), grad)

    def __repr__(self) -> str:
        return f"PlainLoss({self.__name__})"


def checked_pair(result: Any, output: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(value, grad) as arrays in the output's dtype, or a clear error naming the loss."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(
            f"loss {name}: expected f(output, target) to return a pair (value, grad), "
            f"got {type(result).__name__} instead"
        )
    value, grad = (np.asarray(r) for r in result)
    if value.dtype.kind not in "fiub" or grad.dtype.kind not in "fiub":
        raise TypeError(f"loss {name}: expected a numeric value and gradient")
    if grad.shape != output.shape:
        raise ValueError(
            f"loss {name}: expected a gradient of the output's shape {output.shape}, "
            f"got shape {grad.shape} instead"
        )
    per_sample = output.shape[:1] if output.ndim else ()
    if value.ndim and value.shape not in (per_sample, output.shape):
        raise ValueError(
            f"loss {name}: expected a scalar value or one per sample (shape {per_sample} "
            f"or {output.shape}), got shape {value.shape} instead"
        )
    # copies: reduce scales the gradient in place, and the arrays are the user's
    return value.astype(output.dtype), grad.astype(output.dtype)


def example_inputs(
    task: str, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """A small random (output, targets) of ``task``, in float64, for the registration check."""
    if task == "multiclass":
        return rng.standard_normal((6, 3)), (rng.integers(0, 3, 6),)
    if task == "binary":
        return rng.standard_normal(8), (rng.integers(0, 2, 8).astype(np.float64),)
    if task == "regression":
        return rng.standard_normal(8), (rng.standard_normal(8),)
    if task == "metric":
        return rng.standard_normal((6, 3)), (np.array([0, 0, 1, 1, 2, 2]),)
    raise ValueError(
        f"check_gradient: random inputs of a {task} loss are unknown; "
        "register it with check_gradient=False"
    )


def gradient_error(
    f: Callable[..., Any],
    name: str,
    task: str,
    *,
    seed: int = 0,
    step: float = 1e-6,
    tolerance: float = 1e-4,
) -> str | None:
    """None if f's gradient matches centred differences on random inputs, else the message.

    The check is of the sum of the values (the gradient a pair promises).
    """
    rng = np.random.default_rng(seed)
    x, targets = example_inputs(task, rng)
    value, grad = checked_pair(f(x, *targets), x, name)
    if not np.all(np.isfinite(value)) or not np.all(np.isfinite(grad)):
        return f"loss {name}: not finite on random {task} inputs (value {value}, gradient {grad})"

    def total(point):
        return float(np.sum(checked_pair(f(point, *targets), x, name)[0], dtype=np.float64))

    numeric = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        numeric[i] = (total(up) - total(down)) / (2 * step)
    error = np.abs(grad - numeric) / np.maximum(np.abs(grad) + np.abs(numeric), 1e-6)
    worst = np.unravel_index(int(error.argmax()), x.shape)
    if error[worst] <= tolerance:
        return None
    return (
        f"loss {name}: its gradient does not match finite differences on random {task} inputs "
        f"(at output{[int(i) for i in worst]}: analytic {grad[worst]:.6g}, numerical {numeric[worst]:.6g}); "
        "fix the gradient, or register with check_gradient=False"
    )


def import_function(path: str) -> Callable[..., Any]:
    """The function named by ``"package.module:function"``, or a clear error."""
    module_name, _, attribute = path.partition(":")
    try:
        target = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except ImportError as exc:
        raise ValueError(
            f"loss: cannot import {path!r} ({exc}; the module must be importable: "
            "installed, on PYTHONPATH, or in the directory of `python -m losslab`)"
        ) from None
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"loss: cannot import {path!r} ({exc})") from None
    if not callable(target):
        raise ValueError(f"loss: {path!r} is a {type(target).__name__}, not a function")
    return target
