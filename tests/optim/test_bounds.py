"""Bounds lb ≤ x ≤ ub: the trust-region reflective method against SciPy's trf, projected
Gauss-Newton and gradient descent, and the checks of the bounds themselves."""

import numpy as np
import pytest

from losslab import lsq
from losslab.optim.curvefit import gradient_descent
from losslab.optim.problems import BOUNDED, ROSENBROCK
from losslab.optim.trf import strictly_feasible, trust_region_reflective

scipy_optimize = pytest.importorskip("scipy.optimize")
IDS = [p.name for p in BOUNDED]


def scipy_trf(problem, **kw):
    with np.errstate(all="ignore"):
        return scipy_optimize.least_squares(
            problem.residual, problem.x0, jac=problem.jac, bounds=problem.bounds, method="trf", **kw
        )


def assert_same_minimiser(ours, theirs):
    scale = np.maximum(1.0, np.abs(theirs.x))
    np.testing.assert_array_less(np.abs(ours.x - theirs.x) / scale, 1e-6)
    assert ours.cost == pytest.approx(theirs.cost, rel=1e-8, abs=1e-12)


def inside(x, bounds):
    lb, ub = (np.broadcast_to(b, x.shape) for b in bounds)
    return bool(np.all((lb <= x) & (x <= ub)))


@pytest.mark.parametrize("problem", BOUNDED, ids=IDS)
def test_trust_region_reflective_finds_scipys_minimiser(problem):
    ours = trust_region_reflective(
        problem.residual, problem.x0, jac=problem.jac, bounds=problem.bounds
    )
    theirs = scipy_trf(problem)
    assert ours.success and inside(ours.x, problem.bounds)
    assert_same_minimiser(ours, theirs)
    assert ours.nfev <= 1.2 * theirs.nfev


@pytest.mark.parametrize("problem", BOUNDED, ids=IDS)
def test_levenberg_marquardt_with_bounds_is_trf_scaled_by_the_jacobian(problem):
    with np.errstate(all="ignore"):
        ours = lsq.levenberg_marquardt(
            problem.residual, problem.x0, jac=problem.jac, bounds=problem.bounds
        )
    assert ours.success and inside(ours.x, problem.bounds)
    assert_same_minimiser(ours, scipy_trf(problem, x_scale="jac"))


@pytest.mark.parametrize("problem", BOUNDED, ids=IDS)
def test_projected_gauss_newton_reaches_a_cost_at_most_trfs(problem):
    with np.errstate(all="ignore"):
        ours = lsq.gauss_newton(
            problem.residual, problem.x0, jac=problem.jac, bounds=problem.bounds, max_nfev=2000
        )
    assert ours.success and inside(ours.x, problem.bounds)
    assert ours.cost <= scipy_trf(problem).cost * (1 + 1e-6) + 1e-12


@pytest.mark.parametrize("problem", BOUNDED, ids=IDS)
def test_every_trial_point_of_every_solver_stays_within_the_bounds(problem):
    seen = []

    def residual(x):
        seen.append(x.copy())
        return problem.residual(x)

    with np.errstate(all="ignore"):
        for jac in (problem.jac, None):  # the difference steps too
            lsq.levenberg_marquardt(residual, problem.x0, jac=jac, bounds=problem.bounds)
            lsq.gauss_newton(residual, problem.x0, jac=jac, bounds=problem.bounds)
        gradient_descent(residual, problem.x0, jac=problem.jac, bounds=problem.bounds, max_nfev=500)
    assert all(inside(x, problem.bounds) for x in seen)


def test_projected_gradient_descent_stops_at_the_bound():
    t = np.linspace(0, 1, 10)
    res = gradient_descent(
        lambda p: p[0] * t + p[1] - (2 * t + 1),
        [0.0, 0.0],
        bounds=([-np.inf, -np.inf], [np.inf, 0.5]),
    )
    assert res.success
    np.testing.assert_allclose(res.x, [2 + 0.5 * t.sum() / (t @ t), 0.5], rtol=1e-6)


def test_a_start_on_a_bound_is_moved_just_inside():
    lb, ub = np.array([0.0, -np.inf, 1.0]), np.array([1.0, np.inf, 1.0 + 1e-12])
    x = strictly_feasible(np.array([0.0, 5.0, 1.0]), lb, ub)
    assert 0 < x[0] < 1e-9 and x[1] == 5.0 and lb[2] <= x[2] <= ub[2]
    res = lsq.levenberg_marquardt(ROSENBROCK.residual, [1.5, 1.0], bounds=([1.5, -np.inf], np.inf))
    assert res.x[0] >= 1.5 and res.success


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        (
            ([0.0, 0.0], [1.0]),
            r"bounds: expected \(lb, ub\), each a number or an array of length 2",
        ),
        ((1.0, 0.0), "bounds: expected lb < ub for every parameter"),
        (([0.0, np.nan], 1.0), "bounds: expected lb < ub for every parameter"),
        ((2.0, 3.0), "x0: expected a starting point within the bounds"),
    ],
)
def test_bad_bounds_are_a_clear_error(bounds, match):
    for solver in (lsq.levenberg_marquardt, lsq.gauss_newton, gradient_descent):
        with pytest.raises(ValueError, match=match):
            solver(ROSENBROCK.residual, [0.5, 0.5], bounds=bounds)


def test_infinite_bounds_are_no_bounds():
    free = lsq.levenberg_marquardt(ROSENBROCK.residual, ROSENBROCK.x0, jac=ROSENBROCK.jac)
    same = lsq.levenberg_marquardt(
        ROSENBROCK.residual, ROSENBROCK.x0, jac=ROSENBROCK.jac, bounds=(-np.inf, np.inf)
    )
    np.testing.assert_array_equal(free.x, same.x)
    assert free.nfev == same.nfev
