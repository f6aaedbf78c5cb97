"""The estimators train with a user's own loss function and stay scikit-learn estimators."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import cross_val_score

from losslab import LinearClassifier, LinearRegressor


def softmax_ce(s, y):
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    grad = np.exp(logp)
    grad[rows, y] -= 1
    return -logp[rows, y], grad


def pseudo_huber(pred, y, delta=1.0):
    """δ²(√(1 + (r/δ)²) - 1), a smooth Huber, and its gradient."""
    r = (pred - y) / delta
    root = np.sqrt(1 + r * r)
    return delta**2 * (root - 1), delta * r / root


def _iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_linear_classifier_with_a_function_matches_its_built_in_twin():
    X, y = _iris()
    settings = dict(solver="sgd", lr=0.05, max_iter=30, tol=None, random_state=0)
    own = LinearClassifier(loss=softmax_ce, **settings).fit(X, y)
    built_in = LinearClassifier(loss="softmax", **settings).fit(X, y)
    np.testing.assert_allclose(own.coef_, built_in.coef_, rtol=1e-6, atol=1e-9)
    assert own.score(X, y) > 0.9 and own.solver_ == "sgd"


def test_a_callable_loss_survives_clone_get_params_and_cross_validation():
    X, y = _iris()
    clf = LinearClassifier(loss=softmax_ce, solver="sgd", lr=0.05, max_iter=20, random_state=0)
    assert clf.get_params()["loss"] is softmax_ce
    twin = clone(clf)
    assert twin.loss is softmax_ce and twin is not clf
    assert cross_val_score(twin, X, y, cv=3).mean() > 0.8
    with pytest.raises(ValueError, match="The 'loss' parameter of LinearClassifier must be"):
        LinearClassifier(loss=3).fit(X, y)


def test_linear_regressor_with_a_function_and_its_options():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    w = np.array([2.0, -1.0, 0.5])
    y = X @ w + 0.05 * rng.normal(size=400)
    y[:10] += 30  # outliers, which a Huber-like loss shrugs off
    reg = LinearRegressor(
        loss=pseudo_huber, loss_options={"delta": 0.5}, lr=0.05, max_iter=100, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(reg.coef_.ravel(), w, atol=0.05)
    assert clone(reg).get_params()["loss"] is pseudo_huber
