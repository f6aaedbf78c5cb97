"""The losses that have a fused kernel (:mod:`losslab.fast`), and when they may use it.

A loss declares its kernel above its NumPy reference::

    @fused_by("softmax_focal", case=_focal_case, inputs=_label_rows)
    def softmax_focal(scores, target, *, gamma=2.0, alpha=None, sample_weight=None, ...):

``case(**options)`` receives every keyword option of the loss except
``reduction`` (defaults filled in) and returns the kernel's extra arguments
(gamma here) when the kernel covers these options, else None. It is the one
place the decision is written: the public call asks it (its answer for the
default options is worked out once), then ``inputs(output, target, reduction,
*extra)`` runs the loss's own checks for that case and returns the kernel's
arguments (weights that depend on the labels prepared from an options object
among ``extra``), or None (the hinge's probability targets, say); fit's per-batch call asks
it once per fit (:func:`fused_mean`), for options that need no labels. Everything else runs the NumPy reference, which is what
the tests compare the kernels with.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import numpy as np

from .. import config, fast
from ._result import LossResult, half_result

F = TypeVar("F", bound=Callable[..., LossResult])  # a loss keeps its own signature


class FusedLoss(NamedTuple):
    kernel: str  # its name in losslab.fast.KERNELS
    case: Callable  # case(**options) -> the kernel's extra arguments, or None
    inputs: Callable  # inputs(output, target, reduction, *extra) -> the kernel's arguments, or None
    takes: Callable  # takes(output, target): whether the kernel takes these arrays (KERNELS')
    defaults: dict  # the loss's keyword options but reduction, with their defaults
    default_case: tuple | None  # case(**defaults), worked out once: most calls pass no option


def fused_by(kernel: str, case: Callable[..., Any], inputs: Callable[..., Any]) -> Callable[[F], F]:
    """Decorator: the NumPy loss below runs kernel ``kernel`` where ``case`` and ``inputs`` allow."""

    def declared(reference):
        fast.declare(kernel, reference)
        defaults = _keyword_defaults(reference)
        spec = FusedLoss(kernel, case, inputs, fast.KERNELS[kernel][1], defaults, case(**defaults))

        @functools.wraps(reference)
        def loss(*args, **options):
            result = _fused_call(spec, args, options) if len(args) == 2 else None
            result = reference(*args, **options) if result is None else result
            return half_result(args[0], result) if args else result

        loss.fused = spec
        return loss

    return declared


def _keyword_defaults(fn):
    parameters = inspect.signature(fn).parameters.values()
    kept = (p for p in parameters if p.kind is p.KEYWORD_ONLY and p.name != "reduction")
    return {p.name: p.default for p in kept}


_REDUCTION_ONLY = frozenset({"reduction"})


def _case(spec, options):
    """The case's answer for a loss's keyword options; None for an option the loss has not."""
    if options.keys() <= _REDUCTION_ONLY:
        return spec.default_case
    options = {**spec.defaults, **options}
    options.pop("reduction", None)
    return spec.case(**options) if options.keys() == spec.defaults.keys() else None


def _fused_call(spec, args, options):
    """The kernel's LossResult for a public call, or None where the NumPy reference runs.

    An option the case cannot read (of the wrong type, out of range) means
    None too: the reference then reports it, in its own order of checks.
    """
    kernel = fast.kernel(spec.kernel, getattr(args[0], "size", 0))
    if kernel is None:
        return None
    try:  # the common call, with no option, skips a frame
        extra = spec.default_case if options.keys() <= _REDUCTION_ONLY else _case(spec, options)
    except (TypeError, ValueError):
        return None
    reduction = options.get("reduction", "mean")
    try:  # an input the kernel's checks refuse: the reference reports it, in its own order
        checked = None if extra is None else spec.inputs(*args, reduction, *extra)
    except (TypeError, ValueError):
        return None
    if checked is None or not spec.takes(*checked[:2]):
        return None
    result = kernel(*checked, reduction)
    return None if result is None else LossResult(*result)


def fused_mean(loss: Any) -> Callable[[np.ndarray, np.ndarray], LossResult] | None:
    """fit's per-batch call of ``loss`` (a registry Loss) on its fused kernel, or None.

    fit checks the whole target once (labels in range, 0/1 targets) and the
    loss's options once, here; repeating that on every mini-batch cost more than
    the kernel itself (about 20 of 36 µs on a (512, 10) batch). The call
    ``(output, target) -> LossResult`` computes exactly what ``loss(output,
    target)`` computes, for scores of any layout; None where the loss has no
    kernel for its options (or the fast path is off), and fit calls the loss.
    The kernel itself is looked up batch by batch until the kernels are loaded
    (:func:`losslab.fast.worth_loading`): a small fit never loads numba.

    Parameters
    ----------
    loss : Loss
        A registry loss with its options (:func:`losslab.losses.get`).

    Returns
    -------
    callable or None
        ``call(output, target) -> LossResult``, the mean loss of a checked batch.

    Examples
    --------
    >>> from losslab import losses
    >>> fused_mean(losses.get("poly1_cross_entropy")) is None  # no kernel of its own
    True
    >>> fused_mean(losses.get("svm", class_weight=[1.0, 2.0])) is None  # weights need labels
    True
    >>> with config.fast(False):  # the fast path off: fit calls the loss itself
    ...     fused_mean(losses.get("softmax_cross_entropy")) is None
    True
    """
    spec = getattr(loss.fn, "fused", None)
    if spec is None or not config.fast_on() or loss.options.get("reduction", "mean") != "mean":
        return None
    extra = _case(spec, loss.options)  # an invalid option raises here, once, as the loss would
    if extra is None or any(hasattr(e, "prepare") for e in extra):
        return None  # no kernel, or weights that depend on the labels: fit calls the loss
    found: list[Any] = []  # the kernel, once fast.kernel has given it

    def call(output, target):
        kernel = found[0] if found else fast.kernel(spec.kernel, output.size)
        if kernel is None:
            return loss(output, target)
        if not found:
            found.append(kernel)
        result = kernel(np.ascontiguousarray(output), target, *extra, "mean")
        return loss(output, target) if result is None else LossResult(*result)

    return call
