"""The hinge solver: exact line minimum, Hessian, and the exact minimum against SciPy and scikit-learn."""

import re

import numpy as np
import pytest
import scipy.sparse
from scipy.optimize import linprog, minimize, minimize_scalar
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from losslab import models
from losslab.estimators import LinearSVM
from losslab.training import Diverged, smoothing
from losslab.training.smoothing import (
    _exact_minimum,
    _HingeProblem,
    _line_minimum,
    _newton_stage,
    _solve_damped,
    fit_smoothed,
)

LOADERS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}
ALPHA = 1e-4  # LinearSVM's default


def standardised(name, rows=None):
    X, y = LOADERS[name](return_X_y=True)
    if rows is not None:  # every class kept: a stratified subsample
        X, y = X[: len(X) : len(X) // rows], y[: len(y) : len(y) // rows]
    return StandardScaler().fit_transform(X), y


def fitted_multiclass(X, y, alpha=ALPHA, **options):
    model = models.Linear(X.shape[1], int(y.max()) + 1, random_state=0)
    history = fit_smoothed(model, "svm", X, y, reg=alpha, **options)
    theta = np.vstack([model.params["W"], model.params["b"][None]]).astype(np.float64)
    return theta, history


def term_vectors(y, K):
    """(rows, classes, u) of every Weston-Watkins term: z = 1 + u·(θᵀx̃), u = e_j - e_y."""
    rows, cols = np.nonzero(np.arange(K)[None, :] != y[:, None])
    U = np.zeros((len(rows), K))
    U[np.arange(len(rows)), cols] = 1.0
    U[np.arange(len(rows)), y[rows]] -= 1.0
    return rows, U


def slsqp_minimum(X, y, alpha):
    """The Weston-Watkins SVM as a QP with slack variables ξ ≥ max(0, z), solved by SLSQP."""
    n, D = X.shape
    K, P = int(y.max()) + 1, D + 1
    Xt = np.hstack([X, np.ones((n, 1))])
    rows, U = term_vectors(y, K)
    T = len(rows)
    A = (U[:, :, None] * Xt[rows][:, None, :]).reshape(T, K * P)  # z = 1 + A θ, θ class-major
    penalised = np.tile(np.r_[np.ones(D), 0.0], K)
    cost = np.r_[np.zeros(K * P), np.full(T, 1.0 / n)]
    C = np.hstack([-A, np.eye(T)])  # ξ - Aθ ≥ 1
    result = minimize(
        lambda v: alpha * np.sum(penalised * v[: K * P] ** 2) + cost @ v,
        np.r_[np.zeros(K * P), np.ones(T)],
        jac=lambda v: np.r_[2 * alpha * penalised * v[: K * P], np.zeros(T)] + cost,
        constraints=[{"type": "ineq", "fun": lambda v: C @ v - 1.0, "jac": lambda v: C}],
        bounds=[(None, None)] * (K * P) + [(0.0, None)] * T,
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert result.success, result.message
    return result.fun


@pytest.mark.parametrize("data", ["iris", "wine"])
def test_the_minimum_is_scipys_qp_solution(data):
    X, y = standardised(data, rows=48)  # SLSQP's dense QP grows as the cube of the terms
    theta, history = fitted_multiclass(X, y)
    ours = _HingeProblem(X, y, None, True, 1.0, ALPHA).value(theta)
    reference = slsqp_minimum(X, y, ALPHA)
    assert history.converged
    assert abs(ours - reference) <= 1e-6 * reference, (ours, reference)


def duality_gap(X, y, theta, alpha):
    """Primal objective at θ minus a lower bound on the minimum, from SciPy's LP (HiGHS).

    The dual of min α‖W‖² + Σ w_t max(0, z_t) is max 1ᵀβ - ‖Σ β_t x_t u_tᵀ‖²/(4α) over
    0 ≤ β ≤ w with Σ β_t u_t = 0 (the unpenalised bias); any such β bounds the minimum
    from below. HiGHS finds β with stationarity at θ: w on the terms above zero, 0 below.
    """
    n, D = X.shape
    K = theta.shape[1]
    Xt = np.hstack([X, np.ones((n, 1))])
    rows, U = term_vectors(y, K)
    Z = 1.0 + np.sum((Xt[rows] @ theta) * U, axis=1)
    w = np.full(len(rows), 1.0 / n)
    zero, above = np.abs(Z) <= 1e-7, Z > 1e-7
    A = (Xt[rows][:, :, None] * U[:, None, :]).reshape(len(rows), -1)  # Σ β_t x̃_t u_tᵀ, flat
    target = -np.vstack([2 * alpha * theta[:-1], np.zeros((1, K))]).ravel() - w[above] @ A[above]
    lp = linprog(
        np.zeros(zero.sum()), A_eq=A[zero].T, b_eq=target, bounds=np.c_[0 * w[zero], w[zero]]
    )
    assert lp.status == 0, lp.message
    beta = np.where(above, w, 0.0)
    beta[zero] = lp.x
    V = (beta @ A).reshape(D + 1, K)
    assert np.abs(V[-1]).max() < 1e-9  # the bias's condition, so the bound holds
    dual = beta.sum() - np.sum(V[:-1] ** 2) / (4 * alpha)
    primal = _HingeProblem(X, y, None, True, 1.0, alpha).value(theta)
    return primal, dual


def test_zero_sample_weights_give_the_minimum_without_those_rows_as_fast():
    X, y = standardised("wine")
    weights = np.where(np.arange(len(X)) % 3 == 0, 0.0, 1.0)
    weighted, history = fitted_multiclass(X, y, sample_weight=weights)
    kept, kept_history = fitted_multiclass(X[weights > 0], y[weights > 0])
    problem = _HingeProblem(X, y, weights, True, 1.0, ALPHA)
    assert problem.value(weighted) == pytest.approx(problem.value(kept), rel=1e-12)
    # the rows of weight 0 do not hold up the exact minimum: it ends the same stage
    assert history.converged and len(history.epoch) == len(kept_history.epoch)


@pytest.mark.parametrize("data", ["iris", "wine", "digits"])
def test_the_whole_sets_minimum_has_a_duality_gap_below_1e_6(data):
    X, y = standardised(data)
    theta, history = fitted_multiclass(X, y)
    primal, dual = duality_gap(X, y, theta, ALPHA)
    # stages at mu = 10, 1, ..., MU_FINAL would be 11: the KKT solution ended the run earlier
    final_stage = round(np.log10(smoothing.MU_START / smoothing.MU_FINAL)) + 1
    assert history.converged and len(history.epoch) < final_stage
    assert dual <= primal * (1 + 1e-12)
    assert primal - dual <= 1e-6 * primal, (primal, dual)


def test_corrections_of_the_guess_find_the_minimum_the_band_alone_misses(monkeypatch):
    X, y = standardised("wine")
    problem = _HingeProblem(X, y, None, True, 1.0, ALPHA)
    mu = 10.0  # the first stage: its band is far from the terms at zero at the minimum
    theta = _newton_stage(problem, np.zeros((X.shape[1] + 1, 3)), mu, 1e-8, 500)[0]
    Z = problem.margins(theta)
    exact = _exact_minimum(problem, theta, Z, mu)
    primal, dual = duality_gap(X, y, exact, ALPHA)
    assert primal - dual <= 1e-6 * primal, (primal, dual)
    monkeypatch.setattr(smoothing, "ACTIVE_SET_STEPS", 0)
    assert _exact_minimum(problem, theta, Z, mu) is None


def test_the_exact_finish_tried_within_tol_saves_steps_and_finds_the_same_minimum(monkeypatch):
    fits = {}
    for when in ("within tol", "converged stages"):
        if when == "converged stages":  # every stage converged to tol·1e-4 before its finish

            def converged_stage(problem, theta, mu, rtol, max_steps):
                return _newton_stage(problem, theta, mu, min(rtol, 1e-8), max_steps)

            monkeypatch.setattr(smoothing, "_newton_stage", converged_stage)
        fits[when] = [fitted_multiclass(*standardised(d), alpha=1 / 300) for d in LOADERS]
    for (_, early), (_, late) in zip(*fits.values(), strict=True):  # certified: same objective
        assert early.converged and late.converged
        assert early.train_loss[-1] == pytest.approx(late.train_loss[-1], rel=1e-12)
    steps = {when: sum(history.epoch[-1] for _, history in runs) for when, runs in fits.items()}
    assert steps["within tol"] < steps["converged stages"], steps


def test_a_bias_direction_no_term_pins_stays_put_in_the_kkt_solution():
    X, y = standardised("iris")
    # at alpha=1 the two terms at zero both compare the same pair of classes: the other bias
    # difference is free in the KKT system, flat in the objective between two kinks
    theta, history = fitted_multiclass(X, y, alpha=1.0)
    primal, dual = duality_gap(X, y, theta, 1.0)
    assert history.converged and len(history.epoch) < 11
    assert primal - dual <= 1e-6 * primal, (primal, dual)


def test_raw_features_get_a_certified_minimum_before_the_last_stage():
    X, y = load_breast_cancer(return_X_y=True)  # features up to 4,000: the KKT solve rounds to 1e-8
    theta, history = fitted_multiclass(X, y)
    primal, dual = duality_gap(X, y, theta, ALPHA)
    assert history.converged and len(history.epoch) < 11
    assert primal - dual <= 1e-6 * primal, (primal, dual)


def test_the_binary_hinge_minimum_is_scikit_learns_svc():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-3
    model = models.Linear(X.shape[1], 1, random_state=0)
    fit_smoothed(model, "hinge", X, y, reg=alpha)
    svc = SVC(kernel="linear", C=1 / (2 * alpha * len(X)), tol=1e-10).fit(X, y)
    problem = _HingeProblem(X, y[:, None], None, False, 1.0, alpha)
    ours = problem.value(np.vstack([model.params["W"], model.params["b"][None]]))
    theirs = problem.value(np.vstack([svc.coef_.T, svc.intercept_[None]]))
    assert ours <= theirs * (1 + 1e-9)
    assert theirs - ours <= 1e-6 * theirs, (ours, theirs)


def test_integer_sample_weights_give_the_minimum_of_repeated_rows():
    X, y = standardised("wine")
    counts = np.random.default_rng(0).integers(1, 4, size=len(X))
    weighted, _ = fitted_multiclass(X, y, sample_weight=counts)
    # repeated rows make the KKT system singular (equal terms): its least-squares branch
    repeated, history = fitted_multiclass(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    problem = _HingeProblem(X, y, counts, True, 1.0, ALPHA)
    assert history.converged
    assert problem.value(weighted) == pytest.approx(problem.value(repeated), rel=1e-9)


def random_problem(seed, multiclass, K=3, n=40, D=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D))
    target = rng.integers(0, K, size=n) if multiclass else rng.integers(0, 2, size=(n, K))
    weights = rng.uniform(0.5, 2.0, size=n)
    theta = rng.normal(size=(D + 1, K))
    return _HingeProblem(X, target, weights, multiclass, 1.0, 0.01), theta, rng


@pytest.mark.parametrize("multiclass", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_the_line_minimum_is_scipys_along_the_newton_direction(multiclass, seed):
    problem, theta, rng = random_problem(seed, multiclass)
    mu = 0.3
    Z = problem.margins(theta)
    P = rng.normal(size=theta.shape)
    P *= -np.sign(np.sum(problem.value_and_grad(theta, mu)[1] * P))  # a descent direction
    t = _line_minimum(problem, theta, mu, Z, P)

    def along(s):
        return problem.value_and_grad(theta + s * P, mu)[0]

    reference = minimize_scalar(along, bounds=(0.0, 10 * max(t, 1.0)), method="bounded")
    assert along(t) <= reference.fun + 1e-12
    assert t == pytest.approx(reference.x, abs=1e-4)


@pytest.mark.parametrize("multiclass", [True, False])
def test_the_hessian_is_the_gradients_finite_difference(multiclass):
    problem, theta, _ = random_problem(7, multiclass)
    mu, h = 2.0, 1e-6
    H = problem.hessian(problem.margins(theta), mu)
    P = theta.size
    numeric = np.empty((P, P))
    for k in range(P):
        step = np.zeros(P)
        step[k] = h
        up = theta + step.reshape(theta.shape[1], theta.shape[0]).T
        down = theta - step.reshape(theta.shape[1], theta.shape[0]).T
        g_up = problem.value_and_grad(up, mu)[1].T.ravel()
        g_down = problem.value_and_grad(down, mu)[1].T.ravel()
        numeric[:, k] = (g_up - g_down) / (2 * h)
    np.testing.assert_allclose(H, numeric, atol=1e-6)


@pytest.mark.parametrize("size", [10, smoothing.CHOLESKY_FROM + 4])
def test_the_damped_newton_system_is_solved_with_or_without_a_cholesky_factor(size):
    rng = np.random.default_rng(size)
    A = rng.normal(size=(size, size // 2))
    g = rng.normal(size=size)
    semi_definite = A @ A.T  # rank size/2: singular without the damping
    kept = semi_definite.copy()
    x = _solve_damped(semi_definite, 1e-3, g)
    np.testing.assert_allclose(semi_definite @ x + 1e-3 * x, g, atol=1e-8)
    np.testing.assert_array_equal(semi_definite, kept)  # a failed step retries on the same H
    indefinite = semi_definite - 10 * np.eye(size)  # no Cholesky factor: LU solves it
    x = _solve_damped(indefinite, 1e-3, g)
    np.testing.assert_allclose(indefinite @ x + 1e-3 * x, g, atol=1e-8)


@pytest.mark.parametrize("multiclass", [True, False])
def test_the_one_product_hessian_is_the_per_class_products(multiclass, monkeypatch):
    problem, theta, _ = random_problem(3, multiclass)
    Z = problem.margins(theta)
    monkeypatch.setattr(smoothing, "ONE_PRODUCT_WORK", 0)
    per_class = problem.hessian(Z, 2.0)
    monkeypatch.setattr(smoothing, "ONE_PRODUCT_WORK", np.inf)
    np.testing.assert_allclose(problem.hessian(Z, 2.0), per_class, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("alpha", [1e-300, 1e-320])
@pytest.mark.parametrize("sparse", [False, True])
def test_a_vanishing_penalty_gives_the_unpenalised_minimum(alpha, sparse):
    # α = 1e-300: a wrong KKT guess has weights -(...)/(2α) whose penalty overflowed, which raised
    # "the hinge objective overflowed ... Standardise the features ... or raise alpha" on
    # standardised iris; a subnormal α (1e-320) overflowed the Newton steps
    X, y = standardised("iris")
    data = scipy.sparse.csr_matrix(X) if sparse else X
    tiny = LinearSVM(alpha=alpha, solver="smoothing", random_state=0).fit(data, y)
    unpenalised = LinearSVM(alpha=0.0, solver="smoothing", random_state=0).fit(data, y)
    assert tiny.history_.converged and unpenalised.history_.converged
    np.testing.assert_allclose(
        tiny.history_.train_loss[-1], unpenalised.history_.train_loss[-1], rtol=1e-6
    )


@pytest.mark.parametrize(
    ("alpha", "scale", "advice"),
    [
        (1e308, 1.0, r"penalty's strength 1e\+308 is too large.*Lower alpha\.$"),
        (1e-4, 1e200, r"Standardise the features: they reach 3e\+200\.$"),
    ],
)
def test_a_divergence_names_its_stage_and_the_advice_fits_the_cause(alpha, scale, advice):
    X, y = standardised("iris")
    X = np.clip(X, -3, 3) * scale
    model = models.Linear(4, 3, random_state=0)
    before = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(
        Diverged, match=r"in stage 1 of the smoothing solver \(μ = 10; 0 Newton"
    ) as raised:
        fit_smoothed(model, "svm", X, y, reg=alpha)
    assert re.search(advice, str(raised.value)) and "raise alpha" not in str(raised.value)
    for k, p in model.params.items():
        np.testing.assert_array_equal(p, before[k])  # the weights it started from, untouched
