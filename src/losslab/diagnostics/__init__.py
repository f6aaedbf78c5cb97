"""Tools that make a loss understandable: gradient and sanity checks, loss landscapes."""

from .gradcheck import GradientReport, check_gradient, check_loss_gradient, gradcheck_inputs
from .sanity import SanityReport, expected_initial_loss, sanity_check

__all__ = [
    "GradientReport",
    "SanityReport",
    "check_gradient",
    "check_loss_gradient",
    "expected_initial_loss",
    "gradcheck_inputs",
    "sanity_check",
]
