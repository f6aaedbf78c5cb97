"""The hinge solver on sparse X: the dense copy's minimum, Hessian-free, never densified."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, load_wine
from sklearn.preprocessing import StandardScaler

from losslab import models
from losslab.training import smoothing
from losslab.training.smoothing import (
    _HingeProblem,
    _newton_cg_stage,
    _newton_stage,
    fit_smoothed,
)


def sparse_problem(seed, n=300, D=60, K=4, density=0.08):
    """Random sparse features whose classes depend on a few columns (some rows all zero)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, D, density=density, format="csr", random_state=seed) * 3.0
    scores = X @ rng.normal(size=(D, K)) + 0.3 * rng.normal(size=(n, K))
    return X, np.argmax(scores, axis=1)


def every_stage():
    """The number of stages from MU_START down to MU_FINAL (a margin of 1)."""
    mu, stages = smoothing.MU_START, 1
    while mu > smoothing.MU_FINAL:
        mu, stages = mu * smoothing.MU_FACTOR, stages + 1
    return stages


def fit(X, y, loss="svm", reg=1e-3, **options):
    """(θ (D+1, K), history) of fit_smoothed from the same start."""
    K = int(y.max()) + 1 if loss == "svm" else 1
    model = models.Linear(X.shape[1], K, random_state=0)
    history = fit_smoothed(model, loss, X, y, reg=reg, **options)
    return np.vstack([model.params["W"], model.params["b"][None]]), history


def objective(X, y, theta, reg, loss="svm", weights=None):
    """The exact objective at θ, on the dense copy."""
    target = y if loss == "svm" else y[:, None]
    return _HingeProblem(X, target, weights, loss == "svm", 1.0, reg).value(theta)


def assert_same_fit(X, y, loss="svm", reg=1e-3, **options):
    dense = np.asarray(X.todense()) if sp.issparse(X) else X
    theta_sparse, history = fit(X, y, loss, reg, **options)
    theta_dense, _ = fit(dense, y, loss, reg, **options)
    weights = options.get("sample_weight")
    ours = objective(dense, y, theta_sparse, reg, loss, weights)
    reference = objective(dense, y, theta_dense, reg, loss, weights)
    assert abs(ours - reference) <= 1e-6 * reference, (ours, reference)
    scores = np.hstack([dense, np.ones((len(dense), 1))])
    if loss == "svm":
        predicted = [np.argmax(scores @ t, axis=1) for t in (theta_sparse, theta_dense)]
    else:
        predicted = [scores @ t > 0 for t in (theta_sparse, theta_dense)]
    np.testing.assert_array_equal(*predicted)
    return history


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("reg", [1e-3, 1 / 400])  # 1/(2n): scikit-learn's C = 1
def test_the_sparse_weston_watkins_fit_is_the_dense_copys(seed, reg):
    X, y = sparse_problem(seed, n=200)
    history = assert_same_fit(X, y, reg=reg)
    assert history.converged


@pytest.mark.parametrize("load", [load_iris, load_wine])
def test_standardised_sets_given_as_csr_reach_the_dense_minimum(load):
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    assert_same_fit(sp.csr_matrix(X), y, reg=1 / (2 * len(X)))


@pytest.mark.parametrize("seed", range(2))
def test_the_sparse_binary_hinge_fit_is_the_dense_copys(seed):
    X, y = sparse_problem(seed, K=2)
    assert_same_fit(X, y, loss="hinge", reg=1e-3)


def test_sample_and_class_weights_give_the_dense_copys_minimum():
    X, y = sparse_problem(5)
    rng = np.random.default_rng(5)
    assert_same_fit(X, y, sample_weight=rng.uniform(0.2, 3.0, size=len(y)))
    assert_same_fit(X, y, class_weight=np.array([1.0, 2.0, 0.5, 1.5]))


@pytest.mark.parametrize("kind", [sp.csc_matrix, sp.csr_array, sp.coo_matrix])
def test_other_sparse_formats_give_the_csr_fit(kind):
    X, y = sparse_problem(2)
    theta_csr, _ = fit(X, y)
    theta_other, _ = fit(kind(X), y)
    np.testing.assert_allclose(theta_other, theta_csr, rtol=1e-10, atol=1e-12)


def test_without_a_penalty_the_sparse_and_dense_fits_agree():
    # reg = 0: no KKT finish; with a tolerance no stage certifies, both run down to MU_FINAL
    X, y = sparse_problem(1, n=100, density=0.05)
    theta_sparse, history = fit(X, y, reg=0.0, tol=1e-12)
    theta_dense, _ = fit(X.toarray(), y, reg=0.0, tol=1e-12)
    dense = X.toarray()
    ours, reference = objective(dense, y, theta_sparse, 0.0), objective(dense, y, theta_dense, 0.0)
    assert abs(ours - reference) <= 1e-6 * max(reference, 1e-3), (ours, reference)
    assert len(history.epoch) == every_stage()


class _NoDense(sp.csr_matrix):
    """A CSR matrix that refuses to become dense (a guard for X and every matrix of its width)."""

    def _refuse(self, *args, **kwargs):
        if self.shape[1] == self.forbidden_width:
            raise AssertionError("X was densified")
        return getattr(sp.csr_matrix, self._called)(self, *args, **kwargs)

    def toarray(self, *args, **kwargs):
        self._called = "toarray"
        return self._refuse(*args, **kwargs)

    def todense(self, *args, **kwargs):
        self._called = "todense"
        return self._refuse(*args, **kwargs)

    def __array__(self, *args, **kwargs):
        raise AssertionError("X was densified")


def test_x_is_never_densified():
    X, y = sparse_problem(3)
    _NoDense.forbidden_width = X.shape[1]
    guarded = _NoDense(X)
    with pytest.raises(AssertionError, match="densified"):
        guarded.toarray()
    theta, history = fit(guarded, y)
    reference, _ = fit(X, y)
    np.testing.assert_allclose(theta, reference, rtol=1e-10, atol=1e-12)
    assert history.converged


def test_the_peak_memory_is_far_below_the_dense_size():
    # 400 x 200,000: 640 MB dense, 48 kB of stored values; θ is 600,003 float64 (4.8 MB)
    X, y = sparse_problem(0, n=400, D=200_000, K=3, density=5e-5)
    tracemalloc.start()
    try:
        fit(X, y, reg=1e-3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64e6, peak  # θ-sized arrays and the KKT system (800 terms at zero); dense: 640e6


@pytest.mark.parametrize("multiclass", [True, False])
def test_hessian_vector_products_and_diagonal_are_the_dense_hessians(multiclass):
    X, y = sparse_problem(4, n=80, D=12, K=3, density=0.3)
    target = y if multiclass else np.random.default_rng(4).integers(0, 2, size=(len(y), 3))
    rng = np.random.default_rng(1)
    theta, V = rng.normal(size=(13, 3)), rng.normal(size=(13, 3))
    dense = _HingeProblem(X.toarray(), target, None, multiclass, 1.0, 0.01)
    sparse = _HingeProblem(X, target, None, multiclass, 1.0, 0.01)
    mu = 2.0
    Z = sparse.margins(theta)
    np.testing.assert_allclose(Z, dense.margins(theta), atol=1e-12)
    H = dense.hessian(Z, mu)  # checked against the gradient's finite differences elsewhere
    curvature = sparse.curvatures(Z, mu)
    HV = sparse.hessian_times(V, curvature)
    np.testing.assert_allclose(HV.T.ravel(), H @ V.T.ravel(), atol=1e-10)
    diagonal = sparse.hessian_diagonal(curvature)
    np.testing.assert_allclose(diagonal.T.ravel(), np.diag(H), atol=1e-12)
    np.testing.assert_allclose(dense.hessian_diagonal(curvature), diagonal, atol=1e-12)


def test_the_newton_cg_stage_reaches_the_dense_stages_smoothed_minimum():
    X, y = sparse_problem(6)
    problem = _HingeProblem(X, y, None, True, 1.0, 1e-3)
    dense = _HingeProblem(X.toarray(), y, None, True, 1.0, 1e-3)
    start = np.zeros((X.shape[1] + 1, 4))
    for mu in (10.0, 0.1):
        _, value_cg, _, converged_cg = _newton_cg_stage(problem, start, mu, 1e-10, 500)
        _, value, _, converged = _newton_stage(dense, start, mu, 1e-10, 500)
        assert converged_cg and converged
        assert value_cg == pytest.approx(value, rel=1e-9)


def test_dense_problems_over_the_unknowns_rule_take_conjugate_gradients(monkeypatch):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reg = 1 / (2 * len(X))
    theta_newton, _ = fit(X, y, reg=reg)
    taken = []
    monkeypatch.setattr(smoothing, "NEWTON_CG_FROM", 0)
    monkeypatch.setattr(
        smoothing, "_newton_cg_stage", lambda *a: taken.append(1) or _newton_cg_stage(*a)
    )
    theta_cg, history = fit(X, y, reg=reg)
    assert taken and history.converged
    assert objective(X, y, theta_cg, reg) == pytest.approx(objective(X, y, theta_newton, reg), 1e-9)


def test_too_many_terms_at_zero_for_the_kkt_system_run_the_stages_to_a_certificate(monkeypatch):
    X, y = sparse_problem(0, n=150)
    theta_exact, _ = fit(X, y)
    monkeypatch.setattr(smoothing, "KKT_MAX_TERMS", 0)
    dense = X.toarray()
    exact = objective(dense, y, theta_exact, 1e-3)
    # the default tol: a stage whose minimum certifies f(θ) within tol of min f ends the run
    theta, history = fit(X, y)
    assert history.converged and len(history.epoch) < every_stage()
    assert exact <= objective(dense, y, theta, 1e-3) <= exact * (1 + 1e-4)
    # a tolerance no stage certifies: down to MU_FINAL, whose smoothed minimum is within
    # MU_FINAL/2 a term of the hinge's
    theta, history = fit(X, y, tol=1e-12)
    assert history.converged
    assert len(history.epoch) == every_stage()
    assert exact <= objective(dense, y, theta, 1e-3) <= exact + smoothing.MU_FINAL * 3


def test_columns_without_a_stored_value_get_zero_weights_and_change_nothing_else():
    X, y = sparse_problem(7, n=150, D=30)
    wide = sp.hstack([sp.csr_matrix((150, 5)), X, sp.csr_matrix((150, 7))], format="csr")
    theta_wide, history = fit(wide, y)
    theta, _ = fit(X, y)
    assert history.converged
    np.testing.assert_array_equal(theta_wide[:5], 0.0)
    np.testing.assert_array_equal(theta_wide[35:-1], 0.0)
    np.testing.assert_allclose(theta_wide[5:35], theta[:-1], rtol=1e-9, atol=1e-12)
    # the Weston-Watkins hinge sees bias differences only (the starts differ: W's shape)
    centred = [t[-1] - t[-1].mean() for t in (theta_wide, theta)]
    np.testing.assert_allclose(*centred, rtol=1e-9, atol=1e-12)
