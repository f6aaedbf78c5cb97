"""Edge cases that used to fail: empty mined batches and half-precision outputs."""

import warnings

import numpy as np
import pytest

from losslab import losses


@pytest.mark.parametrize("mining", ["all", "hard", "semihard"])
@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_batch_triplet_of_an_empty_batch_is_zero_with_a_zero_gradient(mining, distance):
    """ "hard" and "semihard" raised "attempt to get argmax of an empty sequence"."""
    result = losses.batch_triplet(
        np.zeros((0, 3)), np.zeros(0, int), mining=mining, distance=distance
    )
    assert result.value == 0 and result.grad.shape == (0, 3)
    assert losses.mine_triplets(np.zeros(0, int), np.zeros((0, 0)), mining).shape == (0, 3)


def _half_inputs(name):
    """A float16 output for loss ``name`` and the rest of its arguments."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3)).astype(np.float16)
    task = losses.get(name).task
    if name == "categorical_cross_entropy":
        return (np.full((4, 3), 1 / 3, np.float16), np.array([0, 1, 2, 0]))
    if task == "multiclass":
        return (x, np.array([0, 1, 2, 0]))
    if name == "binary_cross_entropy":
        return (np.full((4, 3), 0.25, np.float16), np.ones((4, 3)))
    if name == "gaussian_nll":
        return (x, np.ones((4, 3)), np.full((4, 3), 0.5))
    if name == "tweedie_deviance":
        return (np.abs(x) + np.float16(0.5), np.ones((4, 3)))
    if task in ("binary", "regression"):
        return (x, np.ones((4, 3)))
    if name == "margin_ranking":
        return (x, x + 1, np.ones((4, 3)))
    if name == "triplet_margin":
        return (x, x + 1, x - 1)
    if name == "cosine_embedding":
        return (x, x + 1, np.array([1, -1, 1, -1]))
    if name == "hinge_embedding":
        return (x, np.ones((4, 3)))
    if name == "arcface":
        return (x, np.array([0, 0, 1, 1]), np.eye(2, 3))
    return (x, np.array([0, 0, 1, 1]))


def _first(grad):
    return grad[0] if isinstance(grad, tuple) else grad


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("name", losses.available())
def test_a_float16_output_gets_a_float16_gradient(name, reduction):
    """The gradient has the output's dtype; float16 came back as float32."""
    args = _half_inputs(name)
    loss = losses.get(name)
    result = loss(*args, reduction=reduction)
    grads = result.grad if isinstance(result.grad, tuple) else (result.grad,)
    assert all(g.dtype == np.float16 for g in grads)
    if reduction == "none":
        assert result.value.dtype == np.float16
    # the arithmetic is float32's: the gradient is float32's, rounded
    widened = loss(args[0].astype(np.float32), *args[1:], reduction=reduction)
    np.testing.assert_array_equal(grads[0], _first(widened.grad).astype(np.float16))


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "multiclass_hinge", "softmax_focal"])
@pytest.mark.parametrize("fast", [False, True])
def test_probabilities_passed_as_scores_are_warned_of_and_real_scores_are_not(loss, fast):
    from losslab import config
    from losslab.training import DoctorWarning, ProbabilitiesAsScoresWarning

    if fast and not config.fast_available():
        pytest.skip("numba not installed")
    probs = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    with config.fast(fast):
        with pytest.warns(ProbabilitiesAsScoresWarning, match="scores: every row lies in"):
            value = losses.get(loss)(probs, np.array([2, 0])).value
        assert issubclass(ProbabilitiesAsScoresWarning, DoctorWarning) and np.isfinite(value)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses.get(loss)(np.array([[-2.85, 0.86, 0.28], [0.5, 0.5, 0.0]]), np.array([2, 0]))
            losses.get(loss)(
                np.array([[0.2, 0.8], [0.5, 0.6]]), np.array([1, 0])
            )  # row 2 sums to 1.1


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fast", [False, True])
def test_sigmoid_bce_of_an_empty_multilabel_batch_is_zero_on_both_paths(reduction, fast):
    from losslab import config

    if fast and not config.fast_available():
        pytest.skip("numba not installed")
    with config.fast(fast):
        for options in ({}, {"pos_weight": np.ones(3), "weight": np.ones((0, 3))}):
            r = losses.sigmoid_binary_cross_entropy(
                np.zeros((0, 3)), np.zeros((0, 3)), reduction=reduction, **options
            )
            assert r.grad.shape == (0, 3)
            assert np.shape(r.value) == ((0, 3) if reduction == "none" else ())
            assert reduction == "none" or r.value == 0
