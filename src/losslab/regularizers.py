r"""Weight penalties with their gradients, in the CS231n convention (no ½).

Each returns ``LossResult(value, grad)`` for the weight array ``W``. Biases are
never regularized: pass only the weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .losses import LossResult
from .losses import validation as v


def l2(W: ArrayLike, strength: float) -> LossResult:
    r"""L2 penalty (ridge, weight decay) in the CS231n convention.

    .. math::

        R(W) = \lambda \sum_k W_k^2, \qquad \frac{\partial R}{\partial W} = 2\lambda W

    Parameters
    ----------
    W : array of any shape
        The weights (never the biases); the gradient is with respect to them.
    strength : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    LossResult
        ``(value, grad)``: the penalty as a float (summed in float64) and its gradient,
        of W's shape and dtype.

    Examples
    --------
    >>> l2(np.array([1.0, -2.0]), 0.5).value
    2.5
    >>> l2(np.array([1.0, -2.0]), 0.5).grad.tolist()
    [1.0, -2.0]

    References
    ----------
    CS231n, "Linear classification": https://cs231n.github.io/linear-classify/;
    Hoerl & Kennard, "Ridge Regression", Technometrics 12 (1970).
    """
    return _l2(*_inputs(W, strength))


def l1(W: ArrayLike, strength: float) -> LossResult:
    r"""L1 penalty (lasso).

    .. math::

        R(W) = \lambda \sum_k |W_k|, \qquad
        \frac{\partial R}{\partial W} = \lambda\,\operatorname{sign}(W) \quad (0 \text{ at } 0)

    The subgradient 0 at 0 is the one that leaves a zero weight where it is.

    Parameters
    ----------
    W : array of any shape
        The weights (never the biases); the gradient is with respect to them.
    strength : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    LossResult
        ``(value, grad)``: the penalty as a float (summed in float64) and its gradient,
        of W's shape and dtype.

    Examples
    --------
    >>> l1(np.array([1.0, -2.0]), 0.5).value
    1.5

    References
    ----------
    Tibshirani, "Regression Shrinkage and Selection via the Lasso", JRSS B 58 (1996).
    """
    return _l1(*_inputs(W, strength))


def elastic_net(W: ArrayLike, strength: float, l1_ratio: float = 0.5) -> LossResult:
    r"""Elastic net: a mix of the L1 and L2 penalties, ``l1_ratio`` of L1.

    .. math::

        R(W) = \lambda \Big[\rho \sum_k |W_k| + (1 - \rho) \sum_k W_k^2\Big], \qquad
        \frac{\partial R}{\partial W} = \lambda\big[\rho\,\operatorname{sign}(W) + 2(1 - \rho) W\big]

    Note scikit-learn's elastic net halves the L2 part; losslab keeps the CS231n
    L2 convention so that ``l1_ratio=0`` is exactly :func:`l2`.

    Parameters
    ----------
    W : array of any shape
        The weights (never the biases); the gradient is with respect to them.
    strength : float
        :math:`\lambda \ge 0`.
    l1_ratio : float in [0, 1], default 0.5
        :math:`\rho`, the share of the L1 part.

    Returns
    -------
    LossResult
        ``(value, grad)``: the penalty as a float (summed in float64) and its gradient,
        of W's shape and dtype.

    Examples
    --------
    >>> elastic_net(np.array([1.0, -2.0]), 1.0, 0.5).value
    4.0

    References
    ----------
    Zou & Hastie, "Regularization and Variable Selection via the Elastic Net",
    JRSS B 67 (2005).
    """
    W, strength = _inputs(W, strength)
    return _elastic_net(W, strength, v.check_scalar(l1_ratio, "l1_ratio", 0, 1))


PENALTIES: dict[str, Callable[..., LossResult]] = {
    "l2": l2,
    "l1": l1,
    "elasticnet": elastic_net,
    "elastic_net": elastic_net,
}


# The unchecked forms, for training loops that checked W and the strengths once.


def _l2(W, strength):
    flat = W.astype(np.float64).reshape(-1)  # products and sum in float64
    return LossResult(strength * float(flat @ flat), (2 * strength) * W)


def _l1(W, strength):
    return LossResult(strength * float(np.sum(np.abs(W), dtype=np.float64)), strength * np.sign(W))


def _elastic_net(W, strength, l1_ratio):
    # split_penalty's split, without its check: this runs every training step
    a, b = _l1(W, strength * l1_ratio), _l2(W, strength * (1 - l1_ratio))
    return LossResult(a.value + b.value, a.grad + b.grad)


def split_penalty(reg: float, penalty: str, l1_ratio: float = 0.5) -> tuple[float, float]:
    r"""The penalty ``reg``·R(W) as (L2 strength, L1 strength): its smooth part and its kinks.

    .. math::

        \lambda R(W) = \lambda_2 \sum_k W_k^2 + \lambda_1 \sum_k |W_k|

    "l2" is (λ, 0), "l1" (0, λ), "elasticnet" (λ(1 − ρ), λρ), the split
    :func:`elastic_net` adds up. The full-batch solvers minimise the smooth part
    with the loss, and the L1 part by OWL-QN (:func:`losslab.optim.orthant_wise.owlqn`).

    Parameters
    ----------
    reg : float
        λ, the penalty's strength.
    penalty : {"l2", "l1", "elasticnet", "elastic_net"}
        R.
    l1_ratio : float, default 0.5
        ρ, the elastic net's share of L1.

    Returns
    -------
    tuple of float
        (λ₂, λ₁).

    Examples
    --------
    >>> split_penalty(0.1, "l2"), split_penalty(0.1, "l1"), split_penalty(0.2, "elasticnet", 0.25)
    ((0.1, 0.0), (0.0, 0.1), (0.15000000000000002, 0.05))
    """
    l1_ratio = v.check_scalar(l1_ratio, "l1_ratio", 0, 1)
    if penalty == "l2":
        return reg, 0.0
    if penalty == "l1":
        return 0.0, reg
    if penalty in ("elasticnet", "elastic_net"):
        return reg * (1 - l1_ratio), reg * l1_ratio
    raise ValueError(f"penalty: expected 'l2', 'l1' or 'elasticnet', got {penalty!r}")


UNCHECKED: dict[str, Callable[..., LossResult]] = {
    "l2": _l2,
    "l1": _l1,
    "elasticnet": _elastic_net,
    "elastic_net": _elastic_net,
}


def _inputs(W: ArrayLike, strength: float) -> tuple[np.ndarray, float]:
    array: np.ndarray = v.as_output(W, "W")
    return array, v.check_scalar(strength, "strength", low=0)
