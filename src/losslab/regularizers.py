r"""Weight penalties with their gradients, in the CS231n convention (no ½).

Each returns ``LossResult(value, grad)`` for the weight array ``W``. Biases are
never regularized: pass only the weights.
"""

from __future__ import annotations

import numpy as np

from .losses import _validate as v
from .losses._result import LossResult


def l2(W, strength):
    r"""Ridge: :math:`\lambda \sum W^2`, gradient :math:`2\lambda W`.

    >>> l2(np.array([1.0, -2.0]), 0.5).value
    2.5
    """
    W, strength = _inputs(W, strength)
    return LossResult(strength * float(np.sum(W * W, dtype=np.float64)), (2 * strength) * W)


def l1(W, strength):
    r"""Lasso: :math:`\lambda \sum |W|`, subgradient :math:`\lambda\,\operatorname{sign}(W)` (0 at 0).

    >>> l1(np.array([1.0, -2.0]), 0.5).value
    1.5
    """
    W, strength = _inputs(W, strength)
    return LossResult(strength * float(np.sum(np.abs(W), dtype=np.float64)), strength * np.sign(W))


def elastic_net(W, strength, l1_ratio=0.5):
    r"""Elastic net: :math:`\lambda[\rho \sum|W| + (1-\rho)\sum W^2]`, ρ = ``l1_ratio``.

    Note scikit-learn's elastic net halves the L2 part; losslab keeps the CS231n
    L2 convention so that ``l1_ratio=0`` is exactly :func:`l2`.

    >>> elastic_net(np.array([1.0, -2.0]), 1.0, 0.5).value
    4.0
    """
    rho = v.check_scalar(l1_ratio, "l1_ratio", 0, 1)
    a, b = l1(W, strength * rho), l2(W, strength * (1 - rho))
    return LossResult(a.value + b.value, a.grad + b.grad)


PENALTIES = {"l2": l2, "l1": l1, "elasticnet": elastic_net, "elastic_net": elastic_net}


def _inputs(W, strength):
    W = v.as_output(W, "W")
    return W, v.check_scalar(strength, "strength", low=0)
