"""LinearRegressor: closed-form ridge, the iterative solvers, robust losses."""

import numpy as np
import pytest

from losslab.estimators import LinearRegressor
from losslab.training import Diverged


def test_ridge_closed_form_equals_the_iterative_solution():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = X @ np.array([1.0, -2.0, 0.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(300)
    w = rng.uniform(0.5, 2.0, 300)
    closed = LinearRegressor(alpha=0.1, solver="normal").fit(X, y, sample_weight=w)
    sgd = LinearRegressor(
        alpha=0.1, solver="sgd", optimizer="sgd", lr=0.05, batch_size=1000, max_iter=3000, tol=None
    ).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(sgd.coef_, closed.coef_, atol=1e-6)
    np.testing.assert_allclose(sgd.intercept_, closed.intercept_, atol=1e-6)


def test_robust_regression_with_huber_resists_outliers():
    rng = np.random.default_rng(1)
    X = rng.uniform(-3, 3, (200, 1))
    y = 2.0 * X[:, 0] + 1.0 + 0.1 * rng.standard_normal(200)
    y[:20] += 40.0  # 10% gross outliers
    l2 = LinearRegressor(alpha=0.0).fit(X, y)
    hub = LinearRegressor(loss="huber", alpha=0.0, lr=0.05, max_iter=400, random_state=0).fit(X, y)
    assert abs(hub.coef_[0, 0] - 2.0) < 0.1
    assert abs(hub.intercept_[0] - 1.0) < 0.3
    assert abs(l2.intercept_[0] - 1.0) > 2.0


def test_ridge_closed_form_equals_lbfgs_for_several_outputs():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 5))
    Y = X @ rng.standard_normal((5, 2)) + rng.standard_normal(2)
    closed = LinearRegressor(alpha=0.05, solver="normal").fit(X, Y)
    lbfgs = LinearRegressor(alpha=0.05, solver="lbfgs", max_iter=1000, tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(lbfgs.coef_, closed.coef_, atol=1e-6)
    np.testing.assert_allclose(lbfgs.intercept_, closed.intercept_, atol=1e-6)


def test_lbfgs_fits_robust_losses_too():
    rng = np.random.default_rng(3)
    X = rng.uniform(-3, 3, (300, 1))
    y = 2.0 * X[:, 0] + 1.0 + 0.1 * rng.standard_normal(300)
    y[:30] += 40.0
    est = LinearRegressor(loss="log_cosh", solver="lbfgs", alpha=0.0).fit(X, y)
    assert abs(est.coef_[0, 0] - 2.0) < 0.1


def test_sparse_x_trains_without_the_normal_equations_and_matches_ridge():
    """The normal equations centre X (dense); on sparse X "auto" takes L-BFGS instead."""
    import scipy.sparse as sp
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = sp.random(400, 60, density=0.1, format="csr", random_state=0, dtype=np.float64)
    y = X @ rng.normal(size=60) + 0.5 + 0.1 * rng.normal(size=400)
    # Ridge(alpha=1) on the summed squares is alpha = 1 / n on losslab's mean
    ours = LinearRegressor(alpha=1 / 400, tol=1e-10, max_iter=5000).fit(X, y)
    assert ours.solver_ == "lbfgs"
    reference = Ridge(alpha=1.0, solver="lsqr", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(ours.coef_[0], reference.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_[0], reference.intercept_, atol=1e-5)
    np.testing.assert_allclose(ours.predict(X.tocsc()), reference.predict(X), atol=1e-5)
    dense = LinearRegressor(alpha=1 / 400).fit(X.toarray(), y)
    assert dense.solver_ == "normal"
    np.testing.assert_allclose(ours.coef_, dense.coef_, atol=1e-5)
    with pytest.raises(ValueError, match="solver: 'normal' centres X"):
        LinearRegressor(solver="normal").fit(X, y)


@pytest.mark.parametrize(
    ("scale", "alpha", "message"),
    [
        (1e200, 1e-4, r"XᵀX is not finite: the features reach 6.23e\+199.*Standardise"),
        (1.0, 1e308, r"alpha=1e\+308 is too large"),
    ],
)
def test_normal_equations_that_overflow_raise_diverged_before_lapack(capfd, scale, alpha, message):
    # LAPACK handed the non-finite XᵀX failed with "SVD did not converge" and printed
    # "** On entry to DLASCL parameter number 4 had an illegal value" lines to stderr
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    X[3, 1] *= scale
    est = LinearRegressor(alpha=alpha)
    with pytest.raises(Diverged, match=message):
        est.fit(X, y)
    assert capfd.readouterr().err == "" and not hasattr(est, "model_")


@pytest.mark.parametrize("l1_ratio", [1.0, 0.3])
def test_an_l1_or_elastic_net_regressor_is_scikit_learns_lasso_or_elastic_net(l1_ratio):
    from sklearn.linear_model import ElasticNet

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 10))
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + 1.0 + 0.1 * rng.normal(size=80)
    a = 0.05
    # scikit-learn: ‖y - Xw‖²/(2n) + a·r‖w‖₁ + a(1 - r)/2·‖w‖²; twice that is losslab's mean
    # squared error + λ[ρ‖w‖₁ + (1 - ρ)‖w‖²] with λρ = 2ar and λ(1 - ρ) = a(1 - r)
    l1, l2 = 2 * a * l1_ratio, a * (1 - l1_ratio)
    penalty = "l1" if l1_ratio == 1 else "elasticnet"
    ours = LinearRegressor(penalty=penalty, alpha=l1 + l2, l1_ratio=l1 / (l1 + l2), tol=1e-10)
    ours.fit(X, y)
    reference = ElasticNet(alpha=a, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000).fit(X, y)
    assert ours.solver_ == "lbfgs"  # OWL-QN: full batch, exact zeros
    np.testing.assert_allclose(ours.coef_.ravel(), reference.coef_, atol=1e-6)
    assert np.array_equal(ours.coef_.ravel() == 0, reference.coef_ == 0)
    assert float(np.ravel(ours.intercept_)[0]) == pytest.approx(reference.intercept_, abs=1e-6)
