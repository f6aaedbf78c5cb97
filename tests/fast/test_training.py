"""fit's numba kernels (gather, Adam, accuracy) compute exactly what the NumPy code they replace does."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from losslab import config, datasets, models, optim
from losslab.training import fit

pytestmark = pytest.mark.skipif(
    not config.fast_available(), reason="the fast extra (numba) is not installed"
)
RNG = np.random.default_rng(0)


def kernels():
    from losslab.fast import training

    return training


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_rows_is_fancy_indexing(dtype):
    X = RNG.standard_normal((1000, 37)).astype(dtype)
    idx = np.concatenate([RNG.permutation(1000)[:300], [5, 5, 999, 0]])  # repeats and both ends
    out = np.full((400, 37), np.nan, dtype=dtype)
    kernels().gather_rows(X, idx, out)
    np.testing.assert_array_equal(out[: len(idx)], X[idx])
    assert np.isnan(out[len(idx) :]).all()  # rows past the batch are left alone


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_matches_the_numpy_update_bit_for_bit(dtype):
    def trajectory(fast):
        params = {"W": np.ones((7, 3), dtype), "b": np.zeros(3, dtype)}
        opt = optim.Adam()
        state = opt.init(params)
        rng = np.random.default_rng(1)
        with config.fast(fast):
            for step in range(25):
                grads = {k: rng.standard_normal(p.shape).astype(dtype) for k, p in params.items()}
                opt.update(params, grads, state, 1e-2 / (1 + step))
        return params, state

    (numpy_params, numpy_state), (fast_params, fast_state) = trajectory(False), trajectory(True)
    for k in numpy_params:
        np.testing.assert_array_equal(fast_params[k], numpy_params[k])
        np.testing.assert_array_equal(fast_state["m"][k], numpy_state["m"][k])
        np.testing.assert_array_equal(fast_state["v"][k], numpy_state["v"][k])
    assert fast_params["W"].dtype == dtype


def test_adam_falls_back_to_numpy_for_arrays_a_flat_view_cannot_update():
    W = np.asfortranarray(np.ones((4, 3)))  # not C-contiguous: reshape(-1) would be a copy
    params = {"W": W}
    opt = optim.Adam()
    state = opt.init(params)
    with config.fast(True):
        opt.update(params, {"W": np.ones((4, 3))}, state, 0.1)
    assert params["W"] is W
    np.testing.assert_allclose(W, 0.9)  # the first Adam step moves each weight by lr


scores_with_ties_and_nan = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
    elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0, np.nan]),
)


@settings(max_examples=200, deadline=None)
@given(scores_with_ties_and_nan, st.integers(0, 2**32 - 1))
def test_argmax_hits_counts_like_argmax_with_ties_and_nan(scores, seed):
    labels = np.random.default_rng(seed).integers(0, scores.shape[1], len(scores))
    expected = np.count_nonzero(scores.argmax(axis=1) == labels)
    assert kernels().argmax_hits(scores, labels) == expected


@pytest.mark.parametrize("loss", ["softmax", "svm", "focal", "logistic"])
def test_fit_gives_the_same_model_on_both_paths(loss):
    data = datasets.load("digits", random_state=0)
    n_outputs = 10
    weights = []
    for fast in (False, True):
        model = models.Linear(data.n_features, n_outputs, random_state=0)
        with config.fast(fast):
            history = fit(
                model, loss, data.X_train, data.y_train, optimizer="adam", lr=1e-2,
                batch_size=32, epochs=2, reg=1e-3, random_state=0,
            )  # fmt: skip
        weights.append(model.params["W"])
        assert history.train_accuracy[-1] > 0.85
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_one_pass_l2_penalty_matches_the_regularizer(dtype):
    from losslab.training import Objective

    model = models.MLP(6, (5,), 3, dtype=dtype, random_state=0)
    objective = Objective(model, "softmax", reg=0.3)
    results = []
    for fast in (False, True):
        grads = {k: np.ones_like(p) for k, p in model.params.items()}
        with config.fast(fast):
            value = objective._add_penalty(grads)
        results.append((value, grads))
    (numpy_value, numpy_grads), (fast_value, fast_grads) = results
    assert fast_value == pytest.approx(numpy_value, rel=1e-12)
    for k in numpy_grads:
        np.testing.assert_array_equal(fast_grads[k], numpy_grads[k])  # biases untouched too


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_in_a_gradient_or_weight_propagates_alike_on_both_paths(dtype):
    """The training kernels have no fastmath: a NaN stays in its entry, as in NumPy."""
    from losslab.training import Objective

    results = []
    for fast in (False, True):
        params = {"W": np.ones((4, 3), dtype)}
        grads = {"W": np.ones((4, 3), dtype)}
        grads["W"][1, 2] = np.nan
        opt = optim.Adam()
        state = opt.init(params)
        model = models.MLP(3, (), 2, dtype=dtype, random_state=0)
        model.params["W1"][0, 1] = np.nan
        l2_grads = {k: np.ones_like(p) for k, p in model.params.items()}
        with config.fast(fast):
            opt.update(params, grads, state, 1e-2)
            penalty = Objective(model, "softmax", reg=0.3)._add_penalty(l2_grads)
        results.append((params["W"], l2_grads["W1"], penalty))
    (numpy_w, numpy_l2, numpy_penalty), (fast_w, fast_l2, fast_penalty) = results
    np.testing.assert_array_equal(fast_w, numpy_w)  # NaN where NaN, bit for bit elsewhere
    assert np.isnan(fast_w[1, 2]) and np.isnan(fast_w).sum() == 1
    np.testing.assert_array_equal(fast_l2, numpy_l2)
    assert np.isnan(fast_l2[0, 1]) and np.isnan(fast_l2).sum() == 1
    assert np.isnan(fast_penalty) and np.isnan(numpy_penalty)
