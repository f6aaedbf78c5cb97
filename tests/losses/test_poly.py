"""Poly-1 loss against torch autograd of its formula, with every option of cross-entropy."""

import numpy as np
import pytest
import torch

from losslab import check_gradient, losses
from tests.helpers import DTYPES, assert_close, probabilities

REDUCTIONS = ["mean", "sum", "none"]


def _autograd(s, target, epsilon, reduction, cw=None, smoothing=0.0, ignore=None, sw=None):
    """torch's cross_entropy (reduction none) + ε v (1 - Σ q̃ p), reduced by Σ v."""
    x = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    n, c = s.shape
    labels = target.dtype.kind in "iu"
    w = torch.ones(n, dtype=torch.float64) if sw is None else torch.tensor(sw, dtype=torch.float64)
    cwt = None if cw is None else torch.tensor(cw, dtype=torch.float64)
    if labels:
        t = torch.tensor(target)
        keep = torch.ones(n, dtype=torch.bool) if ignore is None else t != ignore
        safe = torch.where(keep, t, 0)
        q = torch.nn.functional.one_hot(safe, c).double()
        v = w * keep * (1.0 if cwt is None else cwt[safe])
        kwargs = {} if ignore is None else {"ignore_index": ignore}
    else:
        t = torch.tensor(target, dtype=torch.float64)
        q, v, kwargs = t, w, {}
    ce = torch.nn.functional.cross_entropy(
        x, t, weight=cwt, label_smoothing=smoothing, reduction="none", **kwargs
    )
    q = (1 - smoothing) * q + smoothing / c
    pt = (q * torch.softmax(x, dim=1)).sum(dim=1)
    per = ce * w + epsilon * v * (1 - pt)
    value = {"none": per, "sum": per.sum(), "mean": per.sum() / v.sum()}[reduction]
    value.sum().backward()
    return value.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("epsilon", [-1.0, 1.0, 2.5])
def test_poly1_is_autograd_of_cross_entropy_plus_epsilon_one_minus_pt(dtype, reduction, epsilon):
    rng = np.random.default_rng(0)
    s = (3 * rng.normal(size=(8, 5))).astype(dtype)
    y = rng.integers(0, 5, 8)
    ours = losses.poly1_cross_entropy(s, y, epsilon=epsilon, reduction=reduction)
    value, grad = _autograd(s, y, epsilon, reduction)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)
    assert ours.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", range(4))
def test_options_mean_what_they_mean_for_cross_entropy(dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    s = (2 * rng.normal(size=(9, 4))).astype(dtype)
    y = rng.integers(0, 4, 9)
    cw = rng.uniform(0.2, 2, 4) if seed % 2 else None
    smoothing = [0.0, 0.1, 0.3, 0.0][seed]
    ignore = int(y[0]) if seed >= 2 else None
    sw = rng.uniform(0.1, 2, 9) if seed != 1 else None
    ours = losses.poly1_cross_entropy(
        s,
        y,
        epsilon=1.5,
        class_weight=cw,
        label_smoothing=smoothing,
        ignore_index=ignore,
        sample_weight=sw,
        reduction=reduction,
    )
    value, grad = _autograd(s, y, 1.5, reduction, cw, smoothing, ignore, sw)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_probability_targets(dtype, reduction):
    rng = np.random.default_rng(5)
    s = rng.normal(size=(6, 3)).astype(dtype)
    q = probabilities(rng, (6, 3), dtype)
    sw = rng.uniform(0.1, 2, 6)
    ours = losses.poly1_cross_entropy(
        s, q, label_smoothing=0.2, sample_weight=sw, reduction=reduction
    )
    value, grad = _autograd(s, q, 1.0, reduction, smoothing=0.2, sw=sw)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


def test_epsilon_zero_is_cross_entropy_and_saturated_scores_stay_finite():
    s = np.array([[800.0, -800.0, 0.0], [0.0, 0.0, 0.0]])
    y = np.array([1, 2])
    ce = losses.softmax_cross_entropy(s, y)
    poly0 = losses.poly1_cross_entropy(s, y, epsilon=0.0)
    assert poly0.value == ce.value
    np.testing.assert_array_equal(poly0.grad, ce.grad)
    r = losses.poly1_cross_entropy(s, y, reduction="none")
    assert np.isfinite(r.value).all() and np.isfinite(r.grad).all()
    assert r.value[0] == pytest.approx(1600.0 + 1.0)
    all_ignored = losses.poly1_cross_entropy(s, np.array([1, 1]), ignore_index=1)
    assert all_ignored.value == 0.0 and not all_ignored.grad.any()
    with pytest.raises(ValueError, match="epsilon: expected a number >= -1"):
        losses.poly1_cross_entropy(s, y, epsilon=-2.0)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 4, 7)
    f = lambda s: losses.poly1_cross_entropy(  # noqa: E731
        s, y, epsilon=2.0, class_weight=[1.0, 2.0, 0.5, 1.0], label_smoothing=0.1
    )
    report = check_gradient(f, 2 * rng.normal(size=(7, 4)))
    assert report.ok, report
