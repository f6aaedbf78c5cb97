"""Scores of ±1e4 and probabilities of exactly 0 and 1 give finite values and gradients."""

import numpy as np
import pytest

from losslab import losses
from tests.helpers import DTYPES

HUGE = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]])
LABELS = np.array([1, 0, 2])  # every row has its correct class far from the top


def all_finite(result):
    grads = result.grad if isinstance(result.grad, tuple) else (result.grad,)
    return np.all(np.isfinite(result.value)) and all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", [LABELS, np.array([0, 1, 0])], ids=["wrong", "right"])
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("softmax_cross_entropy", {}),
        ("softmax_cross_entropy", {"label_smoothing": 0.1}),
        ("softmax_focal", {"gamma": 0.0}),
        ("softmax_focal", {"gamma": 0.5}),
        ("softmax_focal", {"gamma": 2.0}),
        ("multiclass_hinge", {}),
        ("multiclass_hinge", {"squared": True, "kind": "crammer_singer"}),
    ],
)
def test_multiclass_losses_are_finite_at_huge_scores(dtype, labels, name, options):
    r = getattr(losses, name)(HUGE.astype(dtype), labels, **options)
    assert all_finite(r)


def test_softmax_cross_entropy_at_huge_scores_has_the_exact_limit():
    r = losses.softmax_cross_entropy(np.array([[1e4, -1e4]]), np.array([1]))
    assert r.value == pytest.approx(2e4)
    np.testing.assert_allclose(r.grad, [[1.0, -1.0]])


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_softmax_focal_saturated_correct_class_gives_zero_loss_and_gradient(gamma):
    r = losses.softmax_focal(np.array([[1e4, 0.0, -1e4]]), np.array([0]), gamma=gamma)
    assert r.value == 0.0
    np.testing.assert_allclose(r.grad, 0.0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("alpha", [0.25, None])
def test_binary_losses_on_logits_are_finite_at_huge_logits(dtype, gamma, alpha):
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5], dtype=dtype)
    assert all_finite(losses.sigmoid_binary_cross_entropy(x, y, pos_weight=np.array(2.0)))
    r = losses.sigmoid_focal(x, y, gamma=gamma, alpha=alpha)
    assert all_finite(r)
    assert losses.sigmoid_binary_cross_entropy(x[:1], y[:1]).value == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_probability_losses_are_finite_at_exactly_0_and_1(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    r = losses.binary_cross_entropy(p, y, reduction="none")
    assert all_finite(r)
    np.testing.assert_allclose(r.value, [100, 100, 0, 0])  # torch's -100 clamp
    probs = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    r = losses.categorical_cross_entropy(probs, np.array([0, 0]), reduction="none")
    assert all_finite(r)
    np.testing.assert_allclose(r.value, [100, 0])


def test_regression_losses_are_finite_at_huge_residuals():
    pred, target = np.array([1e4, -1e4, 1e300]), np.zeros(3)
    for name in ("absolute_error", "huber", "smooth_l1", "log_cosh"):
        assert all_finite(getattr(losses, name)(pred, target)), name
    assert losses.log_cosh(np.array([1e4]), np.array([0.0])).value == pytest.approx(1e4 - np.log(2))


def test_nan_in_the_output_propagates():
    s = np.array([[np.nan, 0.0, 1.0]])
    assert np.isnan(losses.softmax_cross_entropy(s, np.array([1])).value)
    assert np.isnan(losses.squared_error(np.array([np.nan]), np.array([0.0])).value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: losses.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int)),
        lambda: losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([1, 1]), ignore_index=1),
        lambda: losses.softmax_cross_entropy(
            np.zeros((2, 3)), np.array([0, 1]), sample_weight=np.zeros(2)
        ),
        lambda: losses.multiclass_hinge(np.ones((2, 3)), np.array([0, 1]), sample_weight=[0.0, 0]),
        lambda: losses.squared_error(np.zeros(0), np.zeros(0)),
        lambda: losses.batch_triplet(np.ones((3, 2)), np.array([0, 1, 2])),
        lambda: losses.contrastive(np.zeros((0, 2)), np.zeros(0, dtype=int)),
    ],
)
def test_mean_over_zero_total_weight_is_zero_with_zero_gradient(call):
    r = call()
    assert r.value == 0.0
    assert not np.any(r.grad)
