"""Regression losses of the residual r = prediction - target, for any shape.

``weight`` (broadcastable to the prediction) and ``sample_weight`` (one per row)
turn each loss into its weighted form, e.g. weighted least squares. "mean"
divides by the total weight; with no weights it is the plain mean over all
elements, which matches torch's ``mse_loss``, ``l1_loss``, ``huber_loss`` and
``smooth_l1_loss``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, elementwise, in_output_dtype


@in_output_dtype
def squared_error(
    prediction: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Squared error (L2 loss).

    .. math::

        l = r^2, \qquad \frac{\partial l}{\partial \hat y} = 2r, \qquad r = \hat y - y

    With ``weight`` it is weighted least squares. The plain mean over all elements is
    torch's ``mse_loss``; there is no ½ (``0.5 * squared_error`` is the ½r² convention).

    Parameters
    ----------
    prediction : array of any shape
        What the model predicted, :math:`\hat y`; the gradient is with respect to it.
    target : array of the prediction's shape
        The true values :math:`y`; :math:`r = \hat y - y`.
    weight : array broadcastable to the prediction, optional
        Element weights (weighted least squares for ``squared_error``).
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the prediction's shape for
        "none") and the gradient of the value with respect to the prediction, of the
        prediction's shape and dtype.

    Examples
    --------
    >>> squared_error(np.array([1.0, 3.0]), np.array([0.0, 0.0])).value
    5.0
    >>> squared_error(np.array([1.0, 3.0]), np.array([0.0, 0.0])).grad.tolist()
    [1.0, 3.0]

    References
    ----------
    torch.nn.functional.mse_loss; Hastie, Tibshirani & Friedman, *The Elements of
    Statistical Learning* (2009), section 3.2.
    """
    r, w = _residual(prediction, target, weight, sample_weight, reduction)
    return elementwise(r * r, 2 * r, w, reduction)


@in_output_dtype
def absolute_error(
    prediction: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Absolute error (L1 loss).

    .. math::

        l = |r|, \qquad \frac{\partial l}{\partial \hat y} = \operatorname{sign}(r)
        \quad (0 \text{ at } r = 0)

    Its gradient has constant size, so it is robust to outliers but settles less
    easily at the optimum than L2. The plain mean is torch's ``l1_loss``.

    Parameters
    ----------
    prediction : array of any shape
        What the model predicted, :math:`\hat y`; the gradient is with respect to it.
    target : array of the prediction's shape
        The true values :math:`y`; :math:`r = \hat y - y`.
    weight : array broadcastable to the prediction, optional
        Element weights (weighted least squares for ``squared_error``).
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the prediction's shape for
        "none") and the gradient of the value with respect to the prediction, of the
        prediction's shape and dtype.

    Examples
    --------
    >>> absolute_error(np.array([1.0, -3.0]), np.array([0.0, 0.0])).value
    2.0

    References
    ----------
    torch.nn.functional.l1_loss; Huber & Ronchetti, *Robust Statistics* (2009).
    """
    r, w = _residual(prediction, target, weight, sample_weight, reduction)
    return elementwise(np.abs(r), np.sign(r), w, reduction)


@in_output_dtype
def huber(
    prediction: ArrayLike,
    target: ArrayLike,
    *,
    delta: float = 1.0,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Huber loss: quadratic near 0, linear beyond ``delta``.

    .. math::

        l = \begin{cases} \tfrac12 r^2 & |r| < \delta \\ \delta(|r| - \tfrac12\delta) & \text{else}\end{cases},
        \qquad \frac{\partial l}{\partial \hat y} = \operatorname{clip}(r, -\delta, \delta)

    The plain mean is torch's ``huber_loss``.

    Parameters
    ----------
    prediction : array of any shape
        What the model predicted, :math:`\hat y`; the gradient is with respect to it.
    target : array of the prediction's shape
        The true values :math:`y`; :math:`r = \hat y - y`.
    delta : float, default 1.0
        Where the quadratic part ends (:math:`\delta > 0`).
    weight : array broadcastable to the prediction, optional
        Element weights (weighted least squares for ``squared_error``).
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the prediction's shape for
        "none") and the gradient of the value with respect to the prediction, of the
        prediction's shape and dtype.

    Examples
    --------
    >>> huber(np.array([0.5, 3.0]), np.array([0.0, 0.0]), reduction="none").value.tolist()
    [0.125, 2.5]

    References
    ----------
    Huber, "Robust Estimation of a Location Parameter", Annals of Mathematical
    Statistics 35 (1964); torch.nn.functional.huber_loss.
    """
    r, w = _residual(prediction, target, weight, sample_weight, reduction)
    delta = v.check_scalar(delta, "delta", low=0, low_open=True)
    a = np.abs(r)
    q = np.minimum(
        a, delta
    )  # ½q² + δ(|r| - q) is both branches at once, and never squares a huge r
    losses = 0.5 * q * q + delta * (a - q)
    return elementwise(losses, np.clip(r, -delta, delta), w, reduction)


@in_output_dtype
def smooth_l1(
    prediction: ArrayLike,
    target: ArrayLike,
    *,
    beta: float = 1.0,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Smooth L1 loss: the Huber loss divided by ``beta``.

    .. math::

        l = \begin{cases} \tfrac12 r^2/\beta & |r| < \beta \\ |r| - \tfrac12\beta & \text{else}\end{cases},
        \qquad \frac{\partial l}{\partial \hat y} = \operatorname{clip}(r/\beta, -1, 1)

    ``beta=0`` is the absolute error. The plain mean is torch's ``smooth_l1_loss``.

    Parameters
    ----------
    prediction : array of any shape
        What the model predicted, :math:`\hat y`; the gradient is with respect to it.
    target : array of the prediction's shape
        The true values :math:`y`; :math:`r = \hat y - y`.
    beta : float, default 1.0
        Where the quadratic part ends (:math:`\beta \ge 0`).
    weight : array broadcastable to the prediction, optional
        Element weights (weighted least squares for ``squared_error``).
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the prediction's shape for
        "none") and the gradient of the value with respect to the prediction, of the
        prediction's shape and dtype.

    Examples
    --------
    >>> smooth_l1(np.array([0.5, 3.0]), np.array([0.0, 0.0]), reduction="none").value.tolist()
    [0.125, 2.5]

    References
    ----------
    Girshick, "Fast R-CNN", ICCV (2015); torch.nn.functional.smooth_l1_loss.
    """
    beta = v.check_scalar(beta, "beta", low=0)
    if beta == 0:
        return absolute_error(
            prediction, target, weight=weight, sample_weight=sample_weight, reduction=reduction
        )
    r, w = _residual(prediction, target, weight, sample_weight, reduction)
    a = np.abs(r)
    q = np.minimum(a, beta)
    losses = 0.5 * q * q / beta + (a - q)
    return elementwise(losses, np.clip(r / beta, -1, 1), w, reduction)


@in_output_dtype
def log_cosh(
    prediction: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Log-cosh loss: like L2 near 0, like L1 far away.

    .. math::

        l = \log\cosh r, \qquad \frac{\partial l}{\partial \hat y} = \tanh r

    Computed as :math:`|r| + \operatorname{log1p}(e^{-2|r|}) - \log 2`, finite for any
    finite r (``cosh`` alone overflows past :math:`|r| \approx 710`).

    Parameters
    ----------
    prediction : array of any shape
        What the model predicted, :math:`\hat y`; the gradient is with respect to it.
    target : array of the prediction's shape
        The true values :math:`y`; :math:`r = \hat y - y`.
    weight : array broadcastable to the prediction, optional
        Element weights (weighted least squares for ``squared_error``).
    sample_weight : array of shape (N,), optional
        One weight per row (the first axis).
    reduction : {"mean", "sum", "none"}
        "mean" divides the weighted sum by the total weight (by the number of elements
        when no weight is given), "sum" sums, "none" returns each element's loss.

    Returns
    -------
    LossResult
        ``(value, grad)``: the reduced loss (an array of the prediction's shape for
        "none") and the gradient of the value with respect to the prediction, of the
        prediction's shape and dtype.

    Examples
    --------
    >>> round(log_cosh(np.array([1.0]), np.array([0.0])).value, 6)
    0.433781

    References
    ----------
    ``tf.keras.losses.LogCosh`` (the same loss); checked here against finite
    differences.
    """
    r, w = _residual(prediction, target, weight, sample_weight, reduction)
    a = np.abs(r)
    losses = a + np.log1p(np.exp(-2 * a)) - np.log(2).astype(r.dtype)
    return elementwise(losses, np.tanh(r), w, reduction)


def _residual(prediction, target, weight, sample_weight, reduction):
    v.check_reduction(reduction)
    pred = v.as_output(prediction, "prediction")
    y = v.as_values(target, "target", pred.dtype)
    v.check_same_shape(pred, y, "prediction", "target")
    return pred - y, v.element_weight(pred, weight, sample_weight)
