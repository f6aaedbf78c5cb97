"""Tools that make a loss understandable: gradient checks (and, later, sanity checks, landscapes)."""

from .gradcheck import GradientReport, check_gradient

__all__ = ["GradientReport", "check_gradient"]
