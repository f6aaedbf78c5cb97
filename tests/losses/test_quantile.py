"""Pinball and epsilon-insensitive losses against scikit-learn, and by finite differences."""

import numpy as np
import pytest
from sklearn.linear_model._sgd_fast import EpsilonInsensitive, SquaredEpsilonInsensitive
from sklearn.metrics import mean_pinball_loss

from losslab import check_gradient, losses
from tests.helpers import DTYPES, assert_close


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("quantile", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(9,), (9, 3)])
def test_pinball_is_scikit_learns_mean_pinball_loss(dtype, quantile, weighted, shape):
    rng = np.random.default_rng(0)
    pred, y = rng.normal(size=(2, *shape)).astype(dtype)
    sw = rng.uniform(0.1, 2, shape[0]) if weighted else None
    ours = losses.pinball(pred, y, quantile=quantile, sample_weight=sw)
    expected = mean_pinball_loss(
        y.astype(np.float64), pred.astype(np.float64), alpha=quantile, sample_weight=sw
    )
    assert_close(ours.value, expected, dtype)
    r = pred.astype(np.float64) - y
    per_grad = np.where(r > 0, 1 - quantile, -quantile)  # no residual is exactly 0 here
    w = (
        np.ones(shape)
        if sw is None
        else np.broadcast_to(sw.reshape(-1, *[1] * (len(shape) - 1)), shape)
    )
    assert_close(ours.grad, per_grad * w / w.sum(), dtype)
    assert ours.grad.dtype == dtype


@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_pinball_reductions_and_its_subgradient_on_the_target(reduction):
    pred, y = np.array([1.0, 3.0, 2.0]), np.array([2.0, 2.0, 2.0])
    r = losses.pinball(pred, y, quantile=0.25, reduction=reduction)
    per = np.array([0.25, 0.75, 0.0])
    np.testing.assert_allclose(r.value, per if reduction == "none" else per.sum())
    np.testing.assert_array_equal(r.grad, [-0.25, 0.75, 0.0])
    assert np.isnan(losses.pinball(np.array([np.nan]), np.array([0.0])).grad).all()
    with pytest.raises(ValueError, match=r"quantile: expected a number <= 1, got 1.5"):
        losses.pinball(pred, y, quantile=1.5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.7])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_epsilon_insensitive_is_sgd_regressors(dtype, squared, epsilon, reduction):
    rng = np.random.default_rng(1)
    pred, y = rng.normal(size=(2, 11)).astype(dtype)
    reference = (SquaredEpsilonInsensitive if squared else EpsilonInsensitive)(epsilon)
    per = np.array([reference.py_loss(float(p), float(t)) for p, t in zip(pred, y, strict=True)])
    slope = np.array([reference.py_dloss(float(p), float(t)) for p, t in zip(pred, y, strict=True)])
    sw = rng.uniform(0.1, 2, 11)
    ours = losses.epsilon_insensitive(
        pred, y, epsilon=epsilon, squared=squared, sample_weight=sw, reduction=reduction
    )
    scale = sw.sum() if reduction == "mean" else 1.0
    assert_close(ours.value, (per * sw).sum() / scale if reduction != "none" else per * sw, dtype)
    assert_close(ours.grad, slope * sw / scale, dtype)
    assert ours.grad.dtype == dtype


RNG = np.random.default_rng(2)
TARGET = RNG.normal(size=(5, 2))


def _off_kinks(kinks):
    """Predictions at least 1e-3 away from ``TARGET + k`` for each kink offset k."""
    pred = RNG.normal(size=(5, 2))
    for k in kinks:
        close = np.abs(pred - TARGET - k) < 1e-3
        pred[close] += 3e-3
    return pred


@pytest.mark.parametrize(
    "f, x",
    [
        (lambda p: losses.pinball(p, TARGET, quantile=0.3), _off_kinks([0])),
        (lambda p: losses.epsilon_insensitive(p, TARGET, epsilon=0.2), _off_kinks([0.2, -0.2])),
        (
            lambda p: losses.epsilon_insensitive(p, TARGET, epsilon=0.2, squared=True),
            _off_kinks([0.2, -0.2]),
        ),
    ],
)
def test_gradients_match_finite_differences(f, x):
    report = check_gradient(f, x)
    assert report.ok, report
