r"""Weight penalties with their gradients, in the CS231n convention (no ½).

Each returns ``LossResult(value, grad)`` for the weight array ``W``. Biases are
never regularized: pass only the weights.
"""

from __future__ import annotations

import numpy as np

from .losses import LossResult
from .losses import validation as v


def l2(W, strength):
    r"""Ridge: :math:`\lambda \sum W^2`, gradient :math:`2\lambda W`.

    >>> l2(np.array([1.0, -2.0]), 0.5).value
    2.5
    """
    return _l2(*_inputs(W, strength))


def l1(W, strength):
    r"""Lasso: :math:`\lambda \sum |W|`, subgradient :math:`\lambda\,\operatorname{sign}(W)` (0 at 0).

    >>> l1(np.array([1.0, -2.0]), 0.5).value
    1.5
    """
    return _l1(*_inputs(W, strength))


def elastic_net(W, strength, l1_ratio=0.5):
    r"""Elastic net: :math:`\lambda[\rho \sum|W| + (1-\rho)\sum W^2]`, ρ = ``l1_ratio``.

    Note scikit-learn's elastic net halves the L2 part; losslab keeps the CS231n
    L2 convention so that ``l1_ratio=0`` is exactly :func:`l2`.

    >>> elastic_net(np.array([1.0, -2.0]), 1.0, 0.5).value
    4.0
    """
    W, strength = _inputs(W, strength)
    return _elastic_net(W, strength, v.check_scalar(l1_ratio, "l1_ratio", 0, 1))


PENALTIES = {"l2": l2, "l1": l1, "elasticnet": elastic_net, "elastic_net": elastic_net}


# The unchecked forms, for training loops that checked W and the strengths once.


def _l2(W, strength):
    flat = W.astype(np.float64).reshape(-1)  # products and sum in float64
    return LossResult(strength * float(flat @ flat), (2 * strength) * W)


def _l1(W, strength):
    return LossResult(strength * float(np.sum(np.abs(W), dtype=np.float64)), strength * np.sign(W))


def _elastic_net(W, strength, l1_ratio):
    a, b = _l1(W, strength * l1_ratio), _l2(W, strength * (1 - l1_ratio))
    return LossResult(a.value + b.value, a.grad + b.grad)


UNCHECKED = {"l2": _l2, "l1": _l1, "elasticnet": _elastic_net, "elastic_net": _elastic_net}


def _inputs(W, strength):
    W = v.as_output(W, "W")
    return W, v.check_scalar(strength, "strength", low=0)
