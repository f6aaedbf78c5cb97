"""Levenberg-Marquardt and Gauss-Newton against scipy.optimize (test-only oracle)."""

import itertools

import numpy as np
import pytest

from losslab import lsq
from losslab.optim.problems import PROBLEMS

scipy_optimize = pytest.importorskip("scipy.optimize")


def scipy_fit(problem, method, **kw):
    with np.errstate(all="ignore"):  # scipy's own trial steps overflow on BoxBOD too
        return scipy_optimize.least_squares(
            problem.residual, problem.x0, jac=problem.jac, method=method, **kw
        )


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
@pytest.mark.parametrize("reference", ["lm", "trf"])
@pytest.mark.parametrize("with_jacobian", [True, False], ids=["analytic_jac", "finite_differences"])
def test_levenberg_marquardt_reaches_scipys_cost(problem, reference, with_jacobian):
    theirs = scipy_fit(problem, reference, max_nfev=10_000)
    if theirs.status <= 0:
        pytest.skip(f"scipy {reference} did not converge on {problem.name}")
    ours = lsq.levenberg_marquardt(
        problem.residual, problem.x0, jac=problem.jac if with_jacobian else None, max_nfev=10_000
    )
    minpack = scipy_fit(problem, "lm", max_nfev=10_000)
    if reference == "trf" and minpack.cost != pytest.approx(theirs.cost, rel=1e-6, abs=1e-12):
        # BoxBOD from NIST's start 1: MINPACK's LM (and ours) stop in another basin than trf
        assert ours.cost == pytest.approx(minpack.cost, rel=1e-8, abs=1e-12)
        pytest.skip(
            f"{problem.name}: scipy lm and trf reach different local minima from this start"
        )
    assert ours.success, str(ours)
    # relative agreement; costs that are zero up to rounding (zero-residual problems) agree absolutely
    assert ours.cost == pytest.approx(theirs.cost, rel=1e-8, abs=1e-12), (ours.cost, theirs.cost)


@pytest.mark.parametrize(
    "problem", [p for p in PROBLEMS if p.certified is not None], ids=lambda p: p.name
)
def test_nist_certified_parameters_are_recovered(problem):
    start = (
        problem.x0 if problem.x0_easy is None else problem.x0_easy
    )  # start 1, else NIST's start 2
    tight = {"ftol": 1e-15, "xtol": 1e-15, "gtol": 1e-15}  # MGH09's valley is very flat
    ours = lsq.levenberg_marquardt(
        problem.residual, start, jac=problem.jac, max_nfev=10_000, **tight
    )
    np.testing.assert_allclose(ours.x, problem.certified, rtol=1e-6)


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_gauss_newton_reaches_a_minimum_or_says_it_stalled(problem):
    costs = [scipy_fit(problem, m).cost for m in ("lm", "trf")]
    ours = lsq.gauss_newton(problem.residual, problem.x0, jac=problem.jac, max_nfev=10_000)
    if ours.success:  # at one of the minima scipy finds (BoxBOD has two from this start)
        assert any(ours.cost == pytest.approx(c, rel=1e-6, abs=1e-12) for c in costs), (
            ours.cost,
            costs,
        )
    else:  # undamped Gauss-Newton is fragile far from a minimum (MGH09): it must not claim success
        assert ours.status <= 0 and ours.cost > min(costs)


@pytest.mark.parametrize("loss", ["huber", "soft_l1", "cauchy", "arctan"])
def test_robust_losses_match_scipy_trf(loss):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4, 40)
    y = 2.0 * np.exp(-0.7 * t) + 0.05 * rng.standard_normal(40)
    y[::8] += 1.5

    def residual(p):
        with np.errstate(over="ignore"):  # wild trial steps overflow; the solvers reject them
            return p[0] * np.exp(-p[1] * t) - y

    theirs = scipy_optimize.least_squares(
        residual, [1.0, 1.0], loss=loss, f_scale=0.1, method="trf"
    )
    ours = lsq.levenberg_marquardt(residual, [1.0, 1.0], loss=loss, f_scale=0.1)
    assert ours.cost == pytest.approx(theirs.cost, rel=1e-6)
    np.testing.assert_allclose(ours.x, theirs.x, rtol=1e-4)


def test_result_reports_evaluations_and_history():
    p = PROBLEMS[0]
    res = lsq.levenberg_marquardt(p.residual, p.x0, jac=p.jac)
    assert res.nfev >= res.nit >= 1 and res.njev >= 1
    costs = [row["cost"] for row in res.history]
    assert all(b <= a for a, b in itertools.pairwise(costs))  # accepted steps never raise the cost
    np.testing.assert_allclose(res.grad, res.jac.T @ res.fun)
    assert "converged" in str(res)


def test_non_finite_residuals_mid_run_shrink_the_step():
    y = np.log(np.array([0.5, 1.0, 2.0]))

    def residual(p):  # undefined (NaN) for p <= 0, and the first full step lands there
        with np.errstate(invalid="ignore"):
            return np.log(p[0] * np.array([0.5, 1.0, 2.0])) - y

    res = lsq.levenberg_marquardt(residual, [40.0])  # MINPACK's first step: the full GN step
    assert res.success and res.x[0] == pytest.approx(1.0)
    gn = lsq.gauss_newton(residual, [40.0])
    assert gn.x[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: lsq.levenberg_marquardt(lambda p: np.array([np.nan]), [1.0]),
            "non-finite residuals at the starting point",
        ),
        (
            lambda: lsq.levenberg_marquardt(lambda p: p, [1.0], jac=lambda p: np.ones((2, 2))),
            r"jac: expected shape \(1, 1\), got shape \(2, 2\)",
        ),
        (lambda: lsq.levenberg_marquardt(lambda p: p, [1.0], loss="l3"), "loss: expected one of"),
        (lambda: lsq.levenberg_marquardt(lambda p: p, [np.inf]), "x0: expected finite"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
