"""losslab: loss functions with exact gradients, and the optimization that minimises them."""

from . import info, losses, regularizers
from .diagnostics import GradientReport, check_gradient
from .losses import LossResult

__version__ = "0.1.0"

__all__ = [
    "GradientReport",
    "LossResult",
    "__version__",
    "check_gradient",
    "info",
    "losses",
    "regularizers",
]
