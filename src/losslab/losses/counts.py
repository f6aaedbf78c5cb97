"""Losses of count and probabilistic regression: Poisson, Gaussian and Tweedie likelihoods.

Element-wise like the regression losses: ``weight`` (broadcastable to the
prediction) and ``sample_weight`` (one per row) turn each into its weighted
form, and "mean" divides by the total weight (the plain mean over elements
without weights, as torch and scikit-learn do).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, elementwise, in_output_dtype, reduce


@in_output_dtype
def poisson_nll(
    output: ArrayLike,
    target: ArrayLike,
    *,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Poisson negative log-likelihood, torch's ``poisson_nll_loss``.

    .. math::

        l = e^{x} - y\,x, \quad \frac{\partial l}{\partial x} = e^{x} - y
        \qquad \text{(log\_input: } x = \log\lambda)

        l = x - y \log(x + \epsilon), \quad
        \frac{\partial l}{\partial x} = 1 - \frac{y}{x + \epsilon}
        \qquad \text{(otherwise: } x = \lambda)

    ``full`` adds Stirling's approximation of :math:`\log y!`,
    :math:`y \log y - y + \tfrac12 \log(2\pi y)`, for the targets above 1 (it
    does not depend on x, so the gradient is unchanged).

    Parameters
    ----------
    output : array of any shape
        The log-rate (``log_input``) or the rate λ ≥ 0.
    target : array of output's shape
        Non-negative counts.
    log_input, full : bool
    eps : float > 0
        Keeps :math:`\log(x + \epsilon)` finite at a rate of 0.
    weight : array broadcastable to output, optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``output``.

    Examples
    --------
    >>> round(poisson_nll(np.array([0.0, 1.0]), np.array([1.0, 2.0])).value, 4)
    0.8591

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.functional.poisson_nll_loss.html
    """
    x, y, w = _inputs(output, target, weight, sample_weight, reduction, "output")
    v.check_range(y, "target", 0, np.inf)
    eps = v.check_scalar(eps, "eps", low=0, low_open=True)
    if log_input:
        rate = np.exp(x)
        losses, grad = rate - y * x, rate - y
    else:
        v.check_range(x, "output", 0, np.inf)  # a rate; log_input=True takes any real
        shifted = x + x.dtype.type(eps)
        losses, grad = x - y * np.log(shifted), 1 - y / shifted
    if full:
        losses = losses + _stirling(y)
    return elementwise(losses, grad, w, reduction)


def _stirling(y):
    """y log y - y + ½ log(2πy) where y > 1, else 0 (torch's ``full`` term)."""
    big = y > 1
    safe = np.where(big, y, 1)
    return np.where(big, safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe), 0)


@in_output_dtype
def gaussian_nll(
    mean: ArrayLike,
    target: ArrayLike,
    var: ArrayLike,
    *,
    full: bool = False,
    eps: float = 1e-6,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Gaussian negative log-likelihood, torch's ``gaussian_nll_loss``.

    .. math::

        l = \tfrac12\Big(\log \tilde v + \frac{(\mu - y)^2}{\tilde v}\Big), \qquad
        \frac{\partial l}{\partial \mu} = \frac{\mu - y}{\tilde v}, \qquad
        \frac{\partial l}{\partial v} = \frac12\Big(\frac{1}{\tilde v} - \frac{(\mu - y)^2}{\tilde v^2}\Big)

    with :math:`\tilde v = \max(v, \epsilon)`; as in torch the clamp is not
    differentiated (the variance's gradient is the formula's at :math:`\tilde v`,
    also where v was clamped). ``full`` adds :math:`\tfrac12\log 2\pi`.

    Parameters
    ----------
    mean : array of any shape
        The predicted mean μ.
    target : array of mean's shape
    var : array of mean's shape, or of that shape without its last axis, or with a last axis of 1
        The predicted variance v ≥ 0 (one variance shared by the last axis: homoscedastic).
    full : bool
    eps : float > 0
        The smallest variance used.
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}
        "none" returns a loss per element of ``mean``.

    Returns
    -------
    LossResult
        ``LossResult(value, (grad_mean, grad_var))``, each gradient of its input's shape.

    Examples
    --------
    >>> r = gaussian_nll(np.array([1.0]), np.array([0.0]), np.array([1.0]))
    >>> r.value, [g.tolist() for g in r.grad]
    (0.5, [[1.0], [0.0]])

    References
    ----------
    Nix & Weigend, Estimating the mean and variance of the target probability distribution, 1994.
    https://pytorch.org/docs/stable/generated/torch.nn.functional.gaussian_nll_loss.html
    """
    v.check_reduction(reduction)
    mu = v.as_output(mean, "mean")
    y = v.as_values(target, "target", mu.dtype)
    v.check_same_shape(mu, y, "mean", "target")
    var_in = v.as_values(var, "var", mu.dtype)
    var_b = _broadcast_var(var_in, mu.shape)
    if np.any(var_b < 0):
        raise ValueError(f"var: expected non-negative variances, got {var_b[var_b < 0].flat[0]}")
    eps = v.check_scalar(eps, "eps", low=0, low_open=True)
    clamped = np.maximum(var_b, mu.dtype.type(eps))  # NaN stays NaN
    r = mu - y
    losses = 0.5 * (np.log(clamped) + r * r / clamped)
    if full:
        losses = losses + mu.dtype.type(0.5 * math.log(2 * math.pi))
    g_mu = r / clamped
    g_var = 0.5 * (1 / clamped - r * r / (clamped * clamped))
    w = v.element_weight(mu, None, sample_weight)
    if w is not None:
        losses, g_mu, g_var = losses * w, g_mu * w, g_var * w
    total = None if w is None else w.sum(dtype=np.float64)
    value, (g_mu, g_var) = reduce(losses, (g_mu, g_var), reduction, total)
    return LossResult(value, (g_mu, _sum_to(g_var, var_in.shape)))


def _broadcast_var(var, shape):
    """``var`` broadcast to ``shape``: equal, the last axis dropped, or a last axis of 1 (torch's)."""
    if var.shape == tuple(shape):
        return var
    if len(shape) and var.shape == tuple(shape[:-1]):
        return np.broadcast_to(var[..., None], shape)
    if len(shape) and var.shape == (*shape[:-1], 1):
        return np.broadcast_to(var, shape)
    raise ValueError(
        f"var: expected shape {tuple(shape)}, {tuple(shape[:-1])} or {(*shape[:-1], 1)}, "
        f"got shape {var.shape} instead"
    )


def _sum_to(grad, shape):
    """The gradient of a broadcast input: summed over the axis it was broadcast along."""
    if grad.shape == shape:
        return grad
    return grad.sum(axis=-1).reshape(shape)


@in_output_dtype
def tweedie_deviance(
    pred: ArrayLike,
    target: ArrayLike,
    *,
    power: float = 1.5,
    weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Tweedie deviance, scikit-learn's ``mean_tweedie_deviance``, of the predicted mean μ.

    .. math::

        d(y, \mu) = 2\Big(\frac{\max(y, 0)^{2-p}}{(1-p)(2-p)} - \frac{y\,\mu^{1-p}}{1-p}
        + \frac{\mu^{2-p}}{2-p}\Big), \qquad
        \frac{\partial d}{\partial \mu} = 2\,\mu^{-p}(\mu - y)

    with its limits at p = 0 (squared error :math:`(y-\mu)^2`), p = 1 (Poisson,
    :math:`2(y\log(y/\mu) - y + \mu)`) and p = 2 (gamma, :math:`2(\log(\mu/y) + y/\mu - 1)`);
    1 < p < 2 is the compound Poisson-gamma distribution. p in (0, 1) has no
    distribution and is an error.

    Parameters
    ----------
    pred : array of any shape
        The predicted mean μ (> 0 unless p = 0).
    target : array of pred's shape
        y ≥ 0 for 1 ≤ p < 2, y > 0 for p ≥ 2, any for p ≤ 0.
    power : float, p ≤ 0 or p ≥ 1
    weight : array broadcastable to pred, optional
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    LossResult
        The deviance and its gradient with respect to ``pred``.

    Examples
    --------
    >>> tweedie_deviance(np.array([2.0]), np.array([1.0]), power=0).value
    1.0
    >>> round(tweedie_deviance(np.array([2.0]), np.array([1.0]), power=1).value, 4)
    0.6137

    References
    ----------
    Jørgensen, The Theory of Dispersion Models, 1997.
    https://scikit-learn.org/stable/modules/model_evaluation.html#mean-tweedie-deviance
    """
    mu, y, w = _inputs(pred, target, weight, sample_weight, reduction, "pred")
    p = _check_power(power)
    _check_domain(mu, y, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        losses = _deviance(mu, y, p)
    grad = 2 * np.power(mu, -p) * (mu - y) if p else 2 * (mu - y)
    return elementwise(losses.astype(mu.dtype, copy=False), grad, w, reduction)


def _deviance(mu, y, p):
    if p == 0:
        return (y - mu) ** 2
    if p == 1:
        safe_y = np.where(y > 0, y, 1)
        return 2 * (np.where(y > 0, y * np.log(safe_y / mu), 0) - y + mu)
    if p == 2:
        return 2 * (np.log(mu / y) + y / mu - 1)
    return 2 * (
        np.power(np.maximum(y, 0), 2 - p) / ((1 - p) * (2 - p))
        - y * np.power(mu, 1 - p) / (1 - p)
        + np.power(mu, 2 - p) / (2 - p)
    )


def _check_power(power):
    p = v.check_scalar(power, "power")
    if 0 < p < 1:
        raise ValueError(f"power: expected p <= 0 or p >= 1, got {power} instead")
    return p


def _check_domain(mu, y, p):
    """scikit-learn's domains: μ > 0 unless p = 0; y ≥ 0 for 1 ≤ p < 2; y > 0 for p ≥ 2."""
    if p != 0 and np.any(mu <= 0):
        raise ValueError(f"pred: expected means > 0 for power {p}, got {mu[mu <= 0].flat[0]}")
    if 1 <= p < 2 and np.any(y < 0):
        raise ValueError(f"target: expected values >= 0 for power {p}, got {y[y < 0].flat[0]}")
    if p >= 2 and np.any(y <= 0):
        raise ValueError(f"target: expected values > 0 for power {p}, got {y[y <= 0].flat[0]}")


def _inputs(output, target, weight, sample_weight, reduction, name):
    v.check_reduction(reduction)
    x = v.as_output(output, name)
    y = v.as_values(target, "target", x.dtype)
    v.check_same_shape(x, y, name, "target")
    return x, y, v.element_weight(x, weight, sample_weight)
