"""Optimization: first-order optimizers and schedules, L-BFGS, least squares and curve fitting.

``losslab.optim.Adam``, ``losslab.optim.get("adam")`` and ``losslab.optim.schedule("cosine", ...)``
are the first-order interface; the least-squares solvers are documented under
``losslab.lsq`` and ``losslab.curve_fit``.
"""

from .first_order import (
    GD,
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    RMSProp,
    clip_grad_norm,
    flat_views,
    get,
)
from .schedules import (
    SCHEDULES,
    OneCycle,
    Plateau,
    WarmupCosine,
    constant,
    cosine,
    exponential,
    inverse_scaling,
    onecycle,
    plateau,
    schedule,
    step_decay,
    warmup_cosine,
)

__all__ = [
    "GD",
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "Momentum",
    "Nesterov",
    "OneCycle",
    "Plateau",
    "RMSProp",
    "WarmupCosine",
    "clip_grad_norm",
    "constant",
    "cosine",
    "exponential",
    "flat_views",
    "get",
    "inverse_scaling",
    "onecycle",
    "plateau",
    "schedule",
    "step_decay",
    "warmup_cosine",
]
