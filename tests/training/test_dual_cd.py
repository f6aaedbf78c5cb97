"""Dual coordinate descent for the hinge losses: the smoothing solver's minimum, sparse X, the kernel."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from losslab import config, models
from losslab.estimators import LinearClassifier, LinearSVM
from losslab.training import Diverged, dual_cd, spec
from losslab.training.dual_cd import fit_dual_cd, hinge_dual_epoch
from losslab.training.objective import Objective, encode_targets, evaluate
from losslab.training.smoothing import _HingeProblem, fit_smoothed

from .test_smoothing_sparse import _NoDense, sparse_problem

needs_numba = pytest.mark.skipif(
    not config.fast_available(), reason="the fast extra (numba) is not installed"
)


def fitted(solver, X, y, loss="svm", reg=1e-3, **options):
    """(θ (D+1, K), history) of a solver from a fresh Linear model."""
    K = int(y.max()) + 1 if loss == "svm" else 1
    model = models.Linear(X.shape[1], K, random_state=0)
    history = solver(model, loss, X, y, reg=reg, **options)
    return np.vstack([model.params["W"], model.params["b"][None]]), history


def objective(X, y, theta, reg, loss="svm", weights=None):
    multiclass = loss == "svm"
    return _HingeProblem(X, y, weights, multiclass, 1.0, reg).value(theta)


def standardised(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("load", [load_iris, load_wine])
def test_the_minimum_is_the_smoothing_solvers_certified_one(load):
    X, y = standardised(load)
    reg = 1 / (2 * len(X))  # alpha="auto"
    exact, certified = fitted(fit_smoothed, X, y, reg=reg)
    assert certified.converged
    theta, history = fitted(fit_dual_cd, X, y, reg=reg, tol=1e-8, random_state=0)
    assert history.converged
    best = objective(X, y, exact, reg)
    assert objective(X, y, theta, reg) == pytest.approx(best, rel=1e-7)
    # the stopping rule's promise at the default tolerance: within tol of the minimum
    theta, history = fitted(fit_dual_cd, X, y, reg=reg, tol=1e-4, random_state=0)
    assert history.converged and objective(X, y, theta, reg) <= best * (1 + 1e-4)


def test_the_binary_hinge_minimum_is_scikit_learns_svc():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = (X @ [1.0, -2.0, 0.5] + 0.7 * rng.normal(size=80) > 0).astype(int)
    svc = SVC(kernel="linear", C=1.0, tol=1e-10).fit(X, y)
    theta, history = fitted(fit_dual_cd, X, y, loss="hinge", reg=1 / (2 * 80), tol=1e-10)
    assert history.converged
    np.testing.assert_allclose(theta[:-1, 0], svc.coef_[0], atol=1e-5)
    np.testing.assert_allclose(theta[-1, 0], svc.intercept_[0], atol=1e-5)


def test_sparse_rows_give_the_dense_copys_minimum_without_densifying():
    X, y = sparse_problem(2, n=120)
    _NoDense.forbidden_width = X.shape[1]
    options = {"reg": 1e-2, "tol": 1e-9, "random_state": 0}
    dense, _ = fitted(fit_dual_cd, X.toarray(), y, **options)
    theta, history = fitted(fit_dual_cd, _NoDense(X), y, **options)
    assert history.converged
    np.testing.assert_allclose(theta, dense, rtol=1e-10, atol=1e-12)  # the same steps
    exact, _ = fitted(fit_smoothed, X, y, reg=1e-2)
    assert objective(X, y, theta, 1e-2) == pytest.approx(objective(X, y, exact, 1e-2), rel=1e-7)


def test_integer_sample_weights_give_the_minimum_of_repeated_rows():
    X, y = sparse_problem(4, n=120)
    weights = np.random.default_rng(0).integers(0, 3, size=len(y))
    repeated = np.repeat(np.arange(len(y)), weights)
    options = {"reg": 1e-2, "tol": 1e-9, "random_state": 0}
    theta, _ = fitted(fit_dual_cd, X, y, sample_weight=weights, **options)
    theta_r, _ = fitted(fit_dual_cd, X[repeated], y[repeated], **options)
    value = objective(X, y, theta, 1e-2, weights=weights)
    assert value == pytest.approx(objective(X[repeated], y[repeated], theta_r, 1e-2), rel=1e-7)


def test_a_run_stopped_early_is_not_converged_and_reports_its_objective():
    X, y = standardised(load_iris)
    exact, _ = fitted(fit_smoothed, X, y)
    best = objective(X, y, exact, 1e-3)
    for epochs in (5, 20, 80):
        theta, history = fitted(fit_dual_cd, X, y, max_iter=epochs, tol=1e-12, random_state=0)
        assert history.epoch[-1] == epochs and not history.converged
        assert history.train_loss[-1] == pytest.approx(objective(X, y, theta, 1e-3), rel=1e-12)
        assert history.train_loss[-1] > best


@needs_numba
@pytest.mark.parametrize("multiclass", [True, False])
@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_the_kernel_takes_the_references_steps(multiclass, layout):
    from losslab.fast.dual_cd import hinge_dual_epoch as kernel

    X, y = sparse_problem(5, n=90, D=12, K=3, density=0.4)
    X = X.toarray() if layout == "dense" else X
    K = 3 if multiclass else 2
    rng = np.random.default_rng(0)
    layout = dual_cd._row_layout(X)
    labels = y if multiclass else np.zeros(0, np.intp)
    signs = np.zeros((0, 0)) if multiclass else np.where(rng.random((90, K)) < 0.5, -1.0, 1.0)
    rows = (*layout, labels, signs, rng.uniform(0.0, 2.0, size=90), dual_cd._row_squares(X) + 0.1)
    start = [np.zeros((12, K)), rng.normal(size=K), np.zeros((90, K)), np.zeros(K)]
    orders = np.random.default_rng(1).permuted(np.tile(np.arange(90), (3, 1)), axis=1)
    results = []
    for epoch in (hinge_dual_epoch, kernel):
        W, bias, beta, h = (a.copy() for a in start)
        slack = np.zeros(90)
        worst = [epoch(*rows, W, bias, beta, h, 0.1, 1.0, order, slack) for order in orders]
        results.append((W, beta, h, slack, np.array(worst)))
    for ours, reference in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


def test_invalid_problems_are_refused_with_the_solvers_name():
    X, y = standardised(load_iris)
    for loss, options in (
        ("svm", {"reg": 0.0}),
        ("softmax", {"reg": 1e-3}),
        ("svm", {"reg": 1e-3, "penalty": "l1"}),
    ):
        with pytest.raises(ValueError, match="solver: 'dual_cd' takes a hinge loss"):
            fit_dual_cd(models.Linear(4, 3), loss, X, y, **options)


def test_auto_takes_it_for_penalised_hinge_losses_on_sparse_x(monkeypatch):
    dense_ish, labels = sparse_problem(6, density=0.5)  # rows holding half the columns
    assert LinearSVM().fit(dense_ish, labels).solver_ == "smoothing"  # and under the limit
    monkeypatch.setattr(spec, "SPARSE_SMOOTHING_LIMIT", dense_ish.nnz - 1)
    with pytest.warns(ConvergenceWarning):
        assert LinearSVM(max_iter=2).fit(dense_ish, labels).solver_ == "dual_cd"
    X, y = sparse_problem(6)  # rows holding 8% of the columns: under spec.DENSE_ROWS
    monkeypatch.undo()
    svm = LinearSVM(random_state=0).fit(X, y)
    assert svm.solver_ == "dual_cd" and svm.n_iter_ == svm.history_.epoch[-1]
    again = LinearSVM(random_state=0).fit(X, y)
    np.testing.assert_array_equal(svm.coef_, again.coef_)  # the rows' order follows the seed
    assert LinearClassifier(loss="hinge").fit(X, y).solver_ == "dual_cd"
    with pytest.warns(ConvergenceWarning):  # no box without a penalty: mini-batches
        assert LinearSVM(alpha=0.0, max_iter=2).fit(X, y).solver_ == "sgd"
    assert LinearSVM().fit(X.toarray(), y).solver_ == "smoothing"


def test_repeated_entries_of_a_non_canonical_csr_count_as_their_sum():
    X, y = sparse_problem(8, n=120)
    # every stored value split in two halves at the same place (the CSR constructor keeps both)
    halves = sp.csr_matrix(
        (np.repeat(X.data / 2, 2), np.repeat(X.indices, 2), 2 * X.indptr), shape=X.shape
    )
    assert halves.nnz == 2 * X.nnz and not halves.has_canonical_format
    options = {"reg": 1e-2, "tol": 1e-9, "random_state": 0}
    with config.fast(False):  # the reference, whose fancy indexing would apply a repeat once
        theta, _ = fitted(fit_dual_cd, halves, y, **options)
        reference, _ = fitted(fit_dual_cd, X, y, **options)
    np.testing.assert_allclose(theta, reference, rtol=1e-9, atol=1e-12)
    assert halves.nnz == 2 * X.nnz  # the caller's matrix is left as it was


@pytest.mark.parametrize(("heavy", "reg"), [(1e4, None), (1.0, 1.0), (1.0, 10.0)])
def test_uneven_weights_and_strong_penalties_stop_within_tol_of_the_minimum(heavy, reg):
    X, y = standardised(load_iris)
    weights = np.ones(len(y))
    weights[[7, 60, 120]] = heavy
    reg = reg or 1 / (2 * weights.sum())
    exact, _ = fitted(fit_smoothed, X, y, reg=reg, sample_weight=weights, tol=1e-10)
    best = objective(X, y, exact, reg, weights=weights)
    for tol in (1e-2, 1e-3):
        theta, history = fitted(
            fit_dual_cd, X, y, reg=reg, sample_weight=weights, tol=tol, max_iter=20000
        )
        assert history.converged
        assert objective(X, y, theta, reg, weights=weights) <= best * (1 + tol)


def huge_entry_iris(position):
    """Standardised iris as CSR with its stored value ``position`` set to 1e200 (‖x‖² overflows)."""
    X, y = standardised(load_iris)
    X = sp.csr_matrix(X)
    X.data[position] = 1e200
    return X, y


@pytest.mark.parametrize("fast", [False, pytest.param(True, marks=needs_numba)])
def test_a_row_whose_squared_norm_overflows_and_misses_its_margin_stops_with_diverged(fast):
    X, y = huge_entry_iris(0)  # row 0's margin needs a step its infinite curvature cannot take
    model = models.Linear(4, 3, random_state=0)
    with config.fast(fast), pytest.raises(Diverged, match=r"diverged in epoch \d+: row 0's"):
        fit_dual_cd(model, "svm", X, y, reg=1e-3, random_state=0)
    assert all(np.isfinite(p).all() for p in model.params.values())  # the last finite weights
    with pytest.raises(Diverged, match="'dual_cd' diverged in epoch"):
        LinearSVM(solver="dual_cd", random_state=0).fit(X, y)


def test_a_row_whose_squared_norm_overflows_but_meets_its_margin_gives_the_exact_minimum():
    X, y = huge_entry_iris(1)  # row 0, column 1: the other rows' weights give it the right sign
    reg, options = 1e-2, {"tol": 1e-9, "max_iter": 5000, "random_state": 0}
    theta, history = fitted(fit_dual_cd, X, y, reg=reg, **options)
    # its hinge is 0 at the minimum: the minimum of the other 149 rows, whose mean counts 150
    without, _ = fitted(fit_dual_cd, X[1:], y[1:], reg=reg * 150 / 149, **options)
    assert history.converged
    np.testing.assert_allclose(theta, without, rtol=1e-6, atol=1e-8)


def test_a_non_finite_step_stops_with_diverged_and_the_last_checked_weights():
    params = {"W": np.ones((4, 3)), "b": np.ones(3)}
    guard = dual_cd._FiniteGuard(np.ones(10), params)
    with pytest.raises(Diverged, match="epoch 3: a step of the dual's multipliers"):
        guard.after_epoch(3, 0.5, np.array([0.0, np.nan, 0.0]), np.zeros((4, 3)), np.zeros(3))
    assert not params["W"].any() and not params["b"].any()  # β = 0's weights: no check passed
    guard.at_check(5, 1.0, np.zeros(10), np.full((4, 3), 2.0), np.full(3, 3.0))
    with pytest.raises(Diverged, match="epoch 10: the objective became inf"):
        guard.at_check(10, np.inf, np.zeros(10), np.full((4, 3), np.inf), np.zeros(3))
    assert (params["W"] == 2.0).all() and (params["b"] == 3.0).all()


@pytest.mark.parametrize("estimator", [LinearSVM(), LinearClassifier(loss="hinge")])
def test_a_default_fit_of_digits_as_csr_converges_to_the_dense_fits_minimum(estimator):
    X, _, y, _ = train_test_split(*load_digits(return_X_y=True), test_size=0.3, random_state=0)
    y = y if isinstance(estimator, LinearSVM) else y > 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sparse = clone(estimator).fit(sp.csr_matrix(X), y)
    dense = clone(estimator).fit(X, y)
    assert sparse.history_.converged and dense.history_.converged

    def objective_of(fitted):
        spec_ = fitted.training_spec(len(y))
        target = encode_targets(
            spec_.loss, np.searchsorted(fitted.classes_, y), fitted.model_.n_outputs
        )
        model = Objective(fitted.model_, spec_.loss, reg=fitted.alpha_, penalty="l2")
        return evaluate(model, X, target)["val_loss"]

    assert objective_of(sparse) == pytest.approx(objective_of(dense), rel=1e-6)
