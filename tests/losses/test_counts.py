"""Poisson, Gaussian and Tweedie losses against torch and scikit-learn, and by finite differences."""

import numpy as np
import pytest
import torch
from sklearn.metrics import mean_tweedie_deviance

from losslab import check_gradient, losses
from tests.helpers import DTYPES, assert_close

F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def _torch(fn, inputs, n_grads):
    """Value and gradients (of the sum, for "none") of ``fn`` on the first ``n_grads`` inputs."""
    leaves = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]
    for leaf in leaves[:n_grads]:
        leaf.requires_grad_(True)
    value = fn(*leaves)
    value.sum().backward()
    return value.detach().numpy(), [leaf.grad.numpy() for leaf in leaves[:n_grads]]


def _weighted_torch(fn, inputs, n_grads, reduction, sample_weight):
    """torch's loss of "none", weighted per row and reduced by the total weight."""
    rows = sample_weight.reshape((-1,) + (1,) * (inputs[0].ndim - 1))

    def weighted(*xs):
        per = fn(*xs, reduction="none") * torch.from_numpy(
            np.broadcast_to(rows, inputs[0].shape).copy()
        )
        if reduction == "none":
            return per
        total = per.sum()
        return (
            total / float(np.broadcast_to(rows, inputs[0].shape).sum())
            if reduction == "mean"
            else total
        )

    return _torch(weighted, inputs, n_grads)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_is_torchs(dtype, reduction, log_input, full):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3)) if log_input else rng.uniform(0, 4, (6, 3))
    x[0, 0] = 0.0 if not log_input else x[0, 0]  # a rate of exactly 0: eps keeps the log finite
    x = x.astype(dtype)
    y = rng.poisson(2.0, (6, 3)).astype(dtype)
    ours = losses.poisson_nll(x, y, log_input=log_input, full=full, reduction=reduction)
    value, (grad,) = _torch(
        lambda a, b: F.poisson_nll_loss(a, b, log_input=log_input, full=full, reduction=reduction),
        (x, y),
        1,
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)
    assert ours.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_with_sample_weights_is_the_weighted_mean_of_torchs(dtype, reduction):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 2)).astype(dtype), rng.poisson(1.5, (5, 2)).astype(dtype)
    sw = rng.uniform(0.1, 2, 5)
    ours = losses.poisson_nll(x, y, sample_weight=sw, reduction=reduction)
    value, (grad,) = _weighted_torch(
        lambda a, b, reduction: F.poisson_nll_loss(a, b, reduction=reduction),
        (x, y),
        1,
        reduction,
        sw,
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", ["same", "dropped", "one"])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_is_torchs_for_mean_and_var(dtype, reduction, var_shape, full):
    rng = np.random.default_rng(2)
    mu, y = rng.normal(size=(2, 6, 3)).astype(dtype)
    var = {"same": (6, 3), "dropped": (6,), "one": (6, 1)}[var_shape]
    var = rng.uniform(0.2, 2, var).astype(dtype)
    ours = losses.gaussian_nll(mu, y, var, full=full, reduction=reduction)
    value, (g_mu, _, g_var) = _torch(
        lambda m, t, s: F.gaussian_nll_loss(m, t, s, full=full, reduction=reduction),
        (mu, y, var),
        3,
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad[0], g_mu, dtype)
    assert ours.grad[1].shape == var.shape and ours.grad[1].dtype == dtype
    assert_close(ours.grad[1], g_var, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_nll_clamps_a_zero_variance_at_eps_as_torch_does(dtype):
    """The clamp is not differentiated: the variance's gradient is the formula's at eps."""
    mu = np.array([[0.5, 0.0], [1.0, -1.0]], dtype)
    y = np.zeros((2, 2), dtype)
    var = np.array([[0.0, 1e-9], [1.0, 0.0]], dtype)
    ours = losses.gaussian_nll(mu, y, var, eps=1e-3, reduction="none")
    value, (g_mu, _, g_var) = _torch(
        lambda m, t, s: F.gaussian_nll_loss(m, t, s, eps=1e-3, reduction="none"), (mu, y, var), 3
    )
    assert np.isfinite(ours.value).all()
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad[0], g_mu, dtype, scale=1e3)
    assert_close(ours.grad[1], g_var, dtype, scale=1e5)


def test_gaussian_nll_with_sample_weights_and_its_errors():
    rng = np.random.default_rng(3)
    mu, y = rng.normal(size=(2, 4, 2))
    var = rng.uniform(0.5, 1, (4, 2))
    sw = np.array([1.0, 0.0, 2.0, 0.5])
    ours = losses.gaussian_nll(mu, y, var, sample_weight=sw)
    per = losses.gaussian_nll(mu, y, var, reduction="none").value
    assert ours.value == pytest.approx((per * sw[:, None]).sum() / (2 * sw.sum()))
    with pytest.raises(ValueError, match="var: expected non-negative variances"):
        losses.gaussian_nll(mu, y, -var)
    with pytest.raises(ValueError, match=r"var: expected shape \(4, 2\)"):
        losses.gaussian_nll(mu, y, var[:3])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("power", [-1.0, 0.0, 1.0, 1.2, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_tweedie_deviance_is_scikit_learns(dtype, power, weighted):
    rng = np.random.default_rng(4)
    mu = rng.uniform(0.2, 3, 12).astype(dtype)
    y = rng.gamma(2.0, size=12) if power >= 2 else rng.poisson(1.5, 12).astype(float)
    if power <= 0:
        y = rng.normal(size=12)
    y = y.astype(dtype)
    sw = rng.uniform(0.1, 2, 12) if weighted else None
    ours = losses.tweedie_deviance(mu, y, power=power, sample_weight=sw)
    expected = mean_tweedie_deviance(
        y.astype(np.float64), mu.astype(np.float64), sample_weight=sw, power=power
    )
    assert_close(ours.value, expected, dtype)
    # the gradient by torch's autograd of scikit-learn's formula (its power branches alike)
    assert_close(ours.grad, _torch_tweedie_grad(mu, y, power, sw), dtype)
    per = losses.tweedie_deviance(mu, y, power=power, reduction="none").value
    total = losses.tweedie_deviance(mu, y, power=power, reduction="sum").value
    assert per.dtype == dtype and total == pytest.approx(per.sum(dtype=np.float64), rel=1e-5)


def _torch_tweedie_grad(mu, y, p, sw):
    m = torch.tensor(mu, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(y, dtype=torch.float64)
    if p == 0:
        dev = (t - m) ** 2
    elif p == 1:
        dev = 2 * (torch.xlogy(t, t) - t * torch.log(m) - t + m)
    elif p == 2:
        dev = 2 * (torch.log(m / t) + t / m - 1)
    else:
        dev = 2 * (
            torch.clamp(t, min=0) ** (2 - p) / ((1 - p) * (2 - p))
            - t * m ** (1 - p) / (1 - p)
            + m ** (2 - p) / (2 - p)
        )
    w = torch.ones_like(t) if sw is None else torch.tensor(sw)
    ((dev * w).sum() / w.sum()).backward()
    return m.grad.numpy()


def test_tweedie_deviance_rejects_what_scikit_learn_rejects():
    mu, y = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    with pytest.raises(ValueError, match=r"power: expected p <= 0 or p >= 1, got 0\.5"):
        losses.tweedie_deviance(mu, y, power=0.5)
    with pytest.raises(ValueError, match="pred: expected means > 0"):
        losses.tweedie_deviance(np.array([0.0, 1.0]), y)
    with pytest.raises(ValueError, match="target: expected values > 0 for power 2"):
        losses.tweedie_deviance(mu, y, power=2)
    with pytest.raises(ValueError, match="target: expected values >= 0"):
        losses.tweedie_deviance(mu, -mu, power=1.5)
    assert losses.tweedie_deviance(np.array([-1.0]), np.array([1.0]), power=0).value == 4.0


def test_poisson_nll_rejects_negative_counts_and_rates():
    with pytest.raises(ValueError, match="target: expected values in"):
        losses.poisson_nll(np.zeros(2), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="output: expected values in"):
        losses.poisson_nll(np.array([-0.5]), np.array([1.0]), log_input=False)


RNG = np.random.default_rng(5)
COUNTS = RNG.poisson(2.0, (4, 3)).astype(float)


@pytest.mark.parametrize(
    "f, x",
    [
        (lambda x: losses.poisson_nll(x, COUNTS, full=True), RNG.normal(size=(4, 3))),
        (lambda x: losses.poisson_nll(x, COUNTS, log_input=False), RNG.uniform(0.5, 3, (4, 3))),
        (lambda x: losses.tweedie_deviance(x, COUNTS, power=1.3), RNG.uniform(0.5, 3, (4, 3))),
        (lambda x: losses.tweedie_deviance(x, COUNTS + 1, power=2.5), RNG.uniform(0.5, 3, (4, 3))),
    ],
)
def test_gradients_match_finite_differences(f, x):
    report = check_gradient(f, x)
    assert report.ok, report


def test_gaussian_nll_gradients_match_finite_differences():
    mu, y = RNG.normal(size=(2, 5, 2))
    var = RNG.uniform(0.3, 2, (5,))
    r = losses.gaussian_nll(mu, y, var, full=True)
    assert check_gradient(lambda m: losses.gaussian_nll(m, y, var).value, mu, analytic=r.grad[0]).ok
    assert check_gradient(lambda s: losses.gaussian_nll(mu, y, s).value, var, analytic=r.grad[1]).ok
