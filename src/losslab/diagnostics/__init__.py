"""Tools that make a loss understandable: gradient and sanity checks, loss cards, landscapes."""

from .card import Answer, Card, card, plot_cards
from .gradcheck import (
    GradientReport,
    Kink,
    check_gradient,
    check_loss_gradient,
    gradcheck_inputs,
)
from .sanity import SanityReport, expected_initial_loss, sanity_check

__all__ = [
    "Answer",
    "Card",
    "GradientReport",
    "Kink",
    "SanityReport",
    "card",
    "check_gradient",
    "check_loss_gradient",
    "expected_initial_loss",
    "gradcheck_inputs",
    "plot_cards",
    "sanity_check",
]
