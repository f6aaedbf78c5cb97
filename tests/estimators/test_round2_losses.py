"""The round-2 losses in the estimators: the smooth ones train by L-BFGS, against scikit-learn."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import PoissonRegressor, QuantileRegressor

from losslab import LinearClassifier, LinearRegressor


@pytest.mark.parametrize("loss", ["poly1", "kl", "soft_margin", "multilabel_soft_margin"])
def test_smooth_classification_losses_train_by_lbfgs_under_auto(loss):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    clf = LinearClassifier(loss=loss, random_state=0).fit(X[:1200], y[:1200])
    assert clf.solver_ == "lbfgs"
    assert clf.score(X[1200:], y[1200:]) > 0.88


def test_poisson_nll_regressor_is_scikit_learns_poisson_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = rng.poisson(np.exp(X @ (0.5 * rng.normal(size=5)) + 0.3)).astype(float)
    ours = LinearRegressor(loss="poisson_nll", alpha=1e-4, random_state=0).fit(X, y)
    # scikit-learn's objective: mean deviance / 2 + alpha/2 ||w||², so alpha 2e-4 is ours 1e-4
    theirs = PoissonRegressor(alpha=2e-4, tol=1e-10, max_iter=1000).fit(X, y)
    assert ours.solver_ == "lbfgs"
    np.testing.assert_allclose(ours.coef_.ravel(), theirs.coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=2e-3)


def test_pinball_regressor_finds_the_conditional_quantile():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (600, 1))
    y = 2 * X[:, 0] + rng.exponential(1.0, 600)
    ours = LinearRegressor(
        loss="pinball", loss_options={"quantile": 0.8}, alpha=0.0, lr=1e-2, max_iter=300,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    theirs = QuantileRegressor(quantile=0.8, alpha=0.0).fit(X, y)
    np.testing.assert_allclose(ours.coef_.ravel(), theirs.coef_, atol=0.1)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=0.1)
    assert abs(np.mean(y <= ours.predict(X)) - 0.8) < 0.03
