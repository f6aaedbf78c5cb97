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
    Momentum,
    Nesterov,
    RMSProp,
    flat_views,
    get,
)
from .schedules import (
    SCHEDULES,
    constant,
    cosine,
    exponential,
    inverse_scaling,
    schedule,
    step_decay,
)

__all__ = [
    "GD",
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "AdaGrad",
    "Adam",
    "Momentum",
    "Nesterov",
    "RMSProp",
    "constant",
    "cosine",
    "exponential",
    "flat_views",
    "get",
    "inverse_scaling",
    "schedule",
    "step_decay",
]
