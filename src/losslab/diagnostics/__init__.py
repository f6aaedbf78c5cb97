"""Tools that make a loss understandable: gradient and sanity checks, loss landscapes."""

from .gradcheck import GradientReport, check_gradient
from .sanity import SanityReport, expected_initial_loss, sanity_check

__all__ = [
    "GradientReport",
    "SanityReport",
    "check_gradient",
    "expected_initial_loss",
    "sanity_check",
]
