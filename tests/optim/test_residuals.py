"""The residual problem: robust losses' derivatives, the finite-difference Jacobian, clear errors."""

import numpy as np
import pytest

from losslab.optim.problems import PROBLEMS
from losslab.optim.residuals import ROBUST_LOSSES, ResidualProblem, robust_rho, start_problem


@pytest.mark.parametrize("loss", ROBUST_LOSSES)
def test_robust_rho_derivatives_match_central_differences(loss):
    z = np.array([0.01, 0.3, 0.9, 1.7, 4.0, 25.0])  # both sides of Huber's kink at z = 1
    h = 1e-6
    _, d1, d2 = robust_rho(z, loss)
    up, down = robust_rho(z + h, loss), robust_rho(z - h, loss)
    np.testing.assert_allclose(d1, (up[0] - down[0]) / (2 * h), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d2, (up[1] - down[1]) / (2 * h), rtol=1e-5, atol=1e-8)
    # at a zero residual: no cost, full weight (and no warning from the branch not taken)
    np.testing.assert_allclose(robust_rho(np.zeros(1), loss)[:2], [[0.0], [1.0]], atol=1e-15)


@pytest.mark.parametrize("problem", PROBLEMS[:4], ids=lambda p: p.name)
def test_finite_difference_jacobian_matches_the_analytic_one(problem):
    by_differences = ResidualProblem(problem.residual)
    r = by_differences.fun(problem.x0)
    J = by_differences.jacobian(problem.x0, r)
    # forward differences: truncation ~ h·|r''|, rounding ~ eps·|r| / h with h ~ sqrt(eps)
    atol = 10 * np.sqrt(np.finfo(float).eps) * max(1.0, np.abs(r).max())
    np.testing.assert_allclose(J, problem.jac(problem.x0), rtol=1e-5, atol=atol)
    assert by_differences.nfev == 1 + problem.x0.size and by_differences.njev == 1


def test_cost_and_gradient_of_the_plain_and_a_robust_loss():
    residual = np.array([0.5, -2.0, 3.0])
    J = np.arange(6.0).reshape(3, 2)
    plain = ResidualProblem(lambda x: residual)
    assert plain.cost(residual) == pytest.approx(0.5 * residual @ residual)
    huber = ResidualProblem(lambda x: residual, loss="huber", f_scale=1.0)
    assert huber.cost(residual) == pytest.approx(0.5 * (0.25 + (2 * 2 - 1) + (2 * 3 - 1)))
    rs, Js = huber.scaled(residual, J)
    rho1 = robust_rho(residual**2, "huber")[1]
    np.testing.assert_allclose(Js.T @ rs, J.T @ (rho1 * residual))  # ∇ of ½Σρ(r²)


def test_a_non_finite_trial_point_costs_infinity():
    problem, _, _ = start_problem(lambda p: np.log(p), [1.0, 2.0])
    with np.errstate(invalid="ignore"):
        r, cost = problem.evaluate(np.array([-1.0, 2.0]))
    assert np.isnan(r[0]) and cost == np.inf and problem.nfev == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"f_scale": 0.0}, "f_scale: expected a positive number, got 0.0"),
        ({"loss": "l1"}, "loss: expected one of"),
        ({"x0": [np.nan, 1.0]}, "x0: expected finite starting parameters"),
    ],
)
def test_start_problem_rejects_bad_arguments(kwargs, match):
    args = {"x0": [1.0, 2.0], **kwargs}
    with pytest.raises(ValueError, match=match):
        start_problem(lambda p: p, args.pop("x0"), **args)


def test_a_residual_that_changes_length_is_a_clear_error():
    problem, x, _ = start_problem(lambda p: p[: int(p[0])], [3.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="residual: expected 3 residuals, got 2"):
        problem.fun(np.array([2.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="residual: expected a 1-D array"):
        ResidualProblem(lambda p: np.ones((2, 2))).fun(x)


@pytest.mark.parametrize("loss", ROBUST_LOSSES)
def test_robust_rho_is_finite_for_huge_residuals(loss):
    z = np.array([1e200, np.inf])  # a wild trial step: (r / f_scale)² overflows
    with np.errstate(over="ignore"):
        _, d1, d2 = robust_rho(z, loss)
    assert np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))
    assert np.all(d1 >= 0) and np.all(d2 <= 0)
