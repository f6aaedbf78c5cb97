"""fit trains with a user's own loss function, its task inferred from the model and the targets."""

import numpy as np
import pytest

import losslab
from losslab import losses, models


def squared(pred, y):
    return (pred - y) ** 2, 2 * (pred - y)


def logistic(s, y):
    """Binary cross-entropy on logits, written by hand (0/1 targets)."""
    return np.logaddexp(0, s) - y * s, 1 / (1 + np.exp(-s)) - y


def softmax_ce(s, y):
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    grad = np.exp(logp)
    grad[rows, y] -= 1
    return -logp[rows, y], grad


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    w = np.array([1.5, -2.0, 0.5, 0.0])
    return X, X @ w, w


@pytest.mark.parametrize("fast", [False, True])
def test_fit_with_a_function_trains_the_same_weights_as_the_built_in_loss(fast):
    """Own softmax cross-entropy = the registry's: the same seeds give the same weights."""
    X, score, _ = _problem()
    y = np.digitize(score, [-1.0, 1.0])
    runs = []
    for loss in (softmax_ce, "softmax"):
        model = models.build("linear", 4, 3, random_state=0)
        with losslab.config.fast(fast):
            losslab.fit(model, loss, X, y, epochs=5, lr=0.05, random_state=1)
        runs.append(model.params["W"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-6, atol=1e-9)


def test_fit_infers_regression_and_binary_from_the_targets():
    X, score, w = _problem()
    model = models.build("linear", 4, 1, random_state=0)
    history = losslab.fit(model, squared, X, score, epochs=40, lr=0.05, random_state=0)
    np.testing.assert_allclose(model.params["W"].ravel(), w, atol=1e-2)
    assert history.train_accuracy[-1] is None  # a regression has no accuracy
    model = models.build("linear", 4, 1, random_state=0)
    y = (score > 0).astype(int)
    history = losslab.fit(model, logistic, X, y, epochs=20, lr=0.1, random_state=0)
    assert history.train_accuracy[-1] > 0.95
    # with sample weights, and a validation split
    losslab.fit(model, squared, X, score, sample_weight=np.ones(300), validation_fraction=0.2)


def test_a_function_returning_nan_stops_fit_with_the_loops_message():
    X, score, _ = _problem()

    def broken(pred, y):
        return np.full(len(pred), np.nan), np.zeros_like(pred)

    model = models.build("linear", 4, 1, random_state=0)
    with pytest.raises(ValueError, match="the training loss became nan at step 1"):
        losslab.fit(model, broken, X, score, epochs=2)


def test_a_registered_function_is_trained_by_name(monkeypatch):
    from losslab.losses import _registry

    monkeypatch.setattr(_registry, "_CATALOGUE", dict(_registry._CATALOGUE))
    monkeypatch.setattr(_registry, "_REGISTERED", set())
    losses.register("own_logistic", logistic, task="binary", probabilistic=True)
    X, score, _ = _problem()
    model = models.build("linear", 4, 1, random_state=0)
    history = losslab.fit(model, "own_logistic", X, (score > 0).astype(int), epochs=10, lr=0.1)
    assert history.train_accuracy[-1] > 0.95


def test_a_loss_with_an_input_beside_output_and_target_is_a_clear_error():
    X, score, _ = _problem()

    def with_scale(pred, y, scale):
        return scale * (pred - y) ** 2, 2 * scale * (pred - y)

    for loss, extra in (("gaussian_nll", "var"), (with_scale, "scale")):
        model = models.build("linear", 4, 1, random_state=0)
        with pytest.raises(ValueError, match=f"takes {extra} beside the output and the target"):
            losslab.fit(model, loss, X, score)
