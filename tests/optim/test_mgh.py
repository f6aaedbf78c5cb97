"""The Moré-Garbow-Hillstrom set: the fixture itself, and Levenberg-Marquardt on it against MINPACK.

SciPy's ``least_squares(method="lm")`` runs MINPACK's lmder; our LM follows the
same algorithm, so from the paper's starting points it must end at least as low
and spend about as many evaluations (counted by wrapping the functions, the
same way for both).
"""

import numpy as np
import pytest

from losslab import lsq
from losslab.optim import mgh

scipy_optimize = pytest.importorskip("scipy.optimize")
CASES = mgh.cases()
STANDARD = [c for c in CASES if c.name.endswith(", x0")]
NEAR = [c for c in CASES if c.name.endswith((", x0", ", 10·x0"))]

# Σ f_i² at the minimum reached from x0, as the paper reports it (its f, twice our cost)
PAPER_MINIMA = {
    2: 48.9842,  # Freudenstein and Roth: the local minimum
    6: 124.362,
    8: 8.21487e-3,
    9: 1.12793e-8,
    10: 87.9458,
    15: 3.07505e-4,
    16: 85822.2,
    17: 5.46489e-5,
    19: 4.01377e-2,
    23: 7.08765e-5,
    24: 2.93660e-4,
    26: 2.79506e-5,
}


class Counted:
    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


def evaluations(solve, case, analytic):
    """Run a solver on counted functions: (result, residual calls + Jacobian calls)."""
    f, j = Counted(case.residual), Counted(case.jac)
    with np.errstate(all="ignore"):  # far starts overflow exponentials in trial steps
        res = solve(f, case.x0, j if analytic else None)
    return res, f.calls + j.calls


def ours(f, x0, jac):
    return lsq.levenberg_marquardt(f, x0, jac=jac)


def minpack(f, x0, jac):
    return scipy_optimize.least_squares(f, x0, jac=jac or "2-point", method="lm")


@pytest.fixture(scope="module")
def runs():
    """Both solvers on every case from x0 and 10·x0, with analytic and difference Jacobians."""
    return {
        (case.name, analytic): (
            evaluations(ours, case, analytic),
            evaluations(minpack, case, analytic),
        )
        for case in NEAR
        for analytic in (True, False)
    }


def test_the_set_has_all_35_problems_from_three_starts():
    assert sorted({p.number for p in mgh.PROBLEMS}) == list(range(1, 36))
    assert len(CASES) == 134  # Jennrich-Sampson overflows from 100·x0
    assert mgh.PROBLEMS[19].start(10).tolist() == [10.0] * 6  # Watson's x0 = 0: MINPACK's rule


@pytest.mark.parametrize("problem", mgh.PROBLEMS, ids=lambda p: f"{p.number} {p.name}")
def test_jacobians_match_central_differences(problem):
    rng = np.random.default_rng(problem.number)
    x = problem.x0 + 0.1 * rng.standard_normal(problem.x0.size) * (1 + np.abs(problem.x0))
    J = problem.jac(x)
    numeric = np.empty_like(J)
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(x[k]))
        e = np.zeros_like(x)
        e[k] = h
        numeric[:, k] = (problem.residual(x + e) - problem.residual(x - e)) / (2 * h)
    truncation = 1e-6 * max(1.0, np.abs(J).max()) * max(1.0, np.abs(x).max())
    rounding = 10 * np.finfo(float).eps * np.abs(problem.residual(x)).max() / 1e-6
    np.testing.assert_allclose(J, numeric, atol=truncation + rounding)


@pytest.mark.parametrize("number", PAPER_MINIMA)
def test_minima_from_x0_are_the_papers(number):
    problem = next(p for p in mgh.PROBLEMS if p.number == number)
    with np.errstate(all="ignore"):
        res = lsq.levenberg_marquardt(problem.residual, problem.x0, jac=problem.jac, max_nfev=5000)
    assert 2 * res.cost == pytest.approx(PAPER_MINIMA[number], rel=1e-5)


@pytest.mark.parametrize("analytic", [True, False], ids=["analytic_jac", "differences"])
@pytest.mark.parametrize("case", STANDARD, ids=lambda c: c.name)
def test_from_x0_the_cost_is_at_most_minpacks(runs, case, analytic):
    (mine, _), (theirs, _) = runs[case.name, analytic]
    both_zero = mine.cost < 1e-20 and theirs.cost < 1e-20
    assert both_zero or mine.cost <= theirs.cost * (1 + 1e-8), (mine.cost, theirs.cost)


@pytest.mark.parametrize("analytic", [True, False], ids=["analytic_jac", "differences"])
def test_evaluations_in_total_at_most_1_2_times_minpacks(runs, analytic):
    pairs = [pair for (_, a), pair in runs.items() if a == analytic]
    mine = sum(count for (_, count), _ in pairs)
    theirs = sum(count for _, (_, count) in pairs)
    assert mine <= 1.2 * theirs, (mine, theirs)


def test_nfev_and_njev_count_every_call():
    case = next(c for c in STANDARD if c.name.startswith("MGH 4 "))
    for analytic in (True, False):
        f, j = Counted(case.residual), Counted(case.jac)
        res = lsq.levenberg_marquardt(f, case.x0, jac=j if analytic else None)
        assert res.nfev == f.calls and (res.njev == j.calls if analytic else j.calls == 0)


def test_browns_badly_scaled_function_is_solved_as_minpack_solves_it():
    """The step test is scaled by the Jacobian's columns, so x2 ~ 2e-6 next to x1 ~ 1e6 still moves."""
    case = next(c for c in STANDARD if c.name.startswith("MGH 4 "))
    for jac in (case.jac, None):
        res = lsq.levenberg_marquardt(case.residual, case.x0, jac=jac)
        assert res.cost == 0.0 and res.success
        np.testing.assert_allclose(res.x, [1e6, 2e-6], rtol=1e-12)
    assert lsq.levenberg_marquardt(case.residual, case.x0, jac=case.jac).nfev == 16


def test_trial_steps_that_overflow_shrink_the_bound_as_minpack_does():
    """Box 3-D from 10·x0: trial residuals overflow to several infinities, whose MINPACK norm is
    NaN; MINPACK then shrinks by ½·dirder/(dirder − ½), not tenfold. Same points as SciPy's lm."""
    case = next(c for c in CASES if c.name == "MGH 12 Box three-dimensional, 10·x0")
    points = {"ours": [], "minpack": []}
    for name, solve in (("ours", ours), ("minpack", minpack)):

        def recorded(x, store=points[name]):
            store.append(np.array(x, dtype=float))
            return case.residual(x)

        with np.errstate(all="ignore"):
            solve(recorded, case.x0, case.jac)
    assert len(points["ours"]) == len(points["minpack"])
    np.testing.assert_allclose(points["ours"], points["minpack"], rtol=1e-6, atol=1e-9)
