"""fit's hot path: a loss's fused kernel on a mini-batch, without repeating the checks.

fit checks the whole target once (labels in range, 0/1 targets) and the loss's
options once; repeating that on every mini-batch cost more than the kernel
itself (about 20 of 36 µs on a (512, 10) batch). :func:`fused_mean` returns
``call(output, target) -> LossResult``, computing exactly what
``loss(output, target)`` computes with the fused kernel, for the plain cases
that have one (no weights, no smoothing, integer labels); None otherwise.
"""

from __future__ import annotations

import numpy as np

from .. import config
from . import _validate as v
from . import binary, classification
from ._result import fused


def fused_mean(loss):
    """The unchecked mean-reduced fused kernel for ``loss`` (a registry Loss), or None."""
    kernels = config.fast_kernels()
    options = dict(loss.options)
    if kernels is None or options.pop("reduction", "mean") != "mean":
        return None
    if loss.fn is classification.softmax_cross_entropy and _defaults(
        options, class_weight=None, label_smoothing=0.0, ignore_index=None
    ):
        return _rows(kernels.softmax_ce)
    if loss.fn is classification.softmax_focal and _defaults(options, "gamma", alpha=None):
        gamma = v.check_scalar(options.get("gamma", 2.0), "gamma", low=0)
        return _rows(kernels.softmax_focal, gamma)
    if loss.fn is classification.multiclass_hinge and _defaults(
        options, "margin", squared=False, kind="weston_watkins", class_weight=None
    ):
        margin = v.check_scalar(options.get("margin", 1.0), "margin")
        return _rows(kernels.weston_watkins, margin)
    if loss.fn is binary.sigmoid_binary_cross_entropy and _defaults(
        options, pos_weight=None, weight=None, label_smoothing=0.0
    ):
        return lambda logits, target: binary._fused_bce(
            kernels,
            np.ascontiguousarray(logits),
            target.astype(logits.dtype, copy=False),
            "mean",
        )
    return None


def _defaults(options, *free, **defaults):
    """True when every option is one of ``free`` or has its default value."""
    return all(k in free or _is_default(defaults, k, value) for k, value in options.items())


def _is_default(defaults, key, value):
    scalar = value is None or isinstance(value, str | bool | int | float)
    return key in defaults and scalar and value == defaults[key]


def _rows(kernel, *extra):
    # the kernels walk rows of a C-contiguous matrix (a model's scores always are)
    return lambda scores, labels: fused(
        kernel, np.ascontiguousarray(scores), (labels, *extra), "mean"
    )
