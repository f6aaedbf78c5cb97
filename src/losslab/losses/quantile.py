"""Losses of quantile and epsilon-insensitive regression, of the residual r = prediction - target.

Element-wise like the regression losses: ``weight`` (broadcastable to the
prediction) and ``sample_weight`` (one per row) give the weighted form, and
"mean" divides by the total weight.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, elementwise, in_output_dtype


@in_output_dtype
def pinball(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    quantile: float = 0.5,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Pinball (quantile) loss, scikit-learn's ``mean_pinball_loss(alpha=quantile)``.

    .. math::

        l = \tau \max(y - \hat y, 0) + (1 - \tau)\max(\hat y - y, 0), \qquad
        \frac{\partial l}{\partial \hat y} = \begin{cases} 1 - \tau & \hat y > y \\
        -\tau & \hat y < y \\ 0 & \hat y = y \end{cases}

    with τ = ``quantile``: its minimiser over a sample is the τ-quantile of the
    targets (τ = 0.5: half the absolute error, the median).

    Parameters
    ----------
    pred : array of any shape
    target : array of pred's shape
    quantile : float in [0, 1]
    weight : array broadcastable to pred, optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``pred``.

    Examples
    --------
    >>> pinball(np.array([1.0, 3.0]), np.array([2.0, 2.0]), quantile=0.9, reduction="none").value.tolist()
    [0.9, 0.09999999999999998]

    References
    ----------
    Koenker & Bassett, Regression Quantiles, Econometrica 1978.
    """
    r, w = _residual(pred, target, weight, sample_weight, reduction)
    tau = r.dtype.type(v.check_scalar(quantile, "quantile", 0, 1))
    losses = np.maximum(r, 0) * (1 - tau) + np.maximum(-r, 0) * tau
    # ½ sign(r) + (½ - τ) [r ≠ 0]: 1 - τ above, -τ below, 0 on the target, NaN for NaN
    grad = 0.5 * np.sign(r) + (0.5 - tau) * (r != 0)
    return elementwise(losses, grad, w, reduction)


@in_output_dtype
def epsilon_insensitive(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    epsilon: float = 0.1,
    squared: bool = False,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Epsilon-insensitive loss of support vector regression, as in scikit-learn's ``SGDRegressor``.

    .. math::

        l = \max(0, |r| - \epsilon)^q, \qquad
        \frac{\partial l}{\partial \hat y} = q \max(0, |r| - \epsilon)^{q-1}
        \operatorname{sign}(r)\,[|r| > \epsilon]

    with q = 2 when ``squared`` (``loss="squared_epsilon_insensitive"``) else 1:
    residuals within ε cost nothing.

    Parameters
    ----------
    pred : array of any shape
    target : array of pred's shape
    epsilon : float >= 0
    squared : bool
    weight : array broadcastable to pred, optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``pred``.

    Examples
    --------
    >>> epsilon_insensitive(np.array([0.05, 1.0]), np.zeros(2), reduction="none").value.tolist()
    [0.0, 0.9]

    References
    ----------
    Vapnik, The Nature of Statistical Learning Theory, 1995.
    https://scikit-learn.org/stable/modules/sgd.html#regression
    """
    r, w = _residual(pred, target, weight, sample_weight, reduction)
    epsilon = v.check_scalar(epsilon, "epsilon", low=0)
    h = np.maximum(np.abs(r) - r.dtype.type(epsilon), 0)  # NaN stays NaN
    if squared:
        return elementwise(h * h, 2 * h * np.sign(r), w, reduction)
    return elementwise(h, np.sign(h) * np.sign(r), w, reduction)


def _residual(prediction, target, weight, sample_weight, reduction):
    v.check_reduction(reduction)
    pred = v.as_output(prediction, "pred")
    y = v.as_values(target, "target", pred.dtype)
    v.check_same_shape(pred, y, "pred", "target")
    return pred - y, v.element_weight(pred, weight, sample_weight)
