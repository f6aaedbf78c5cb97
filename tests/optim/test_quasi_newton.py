"""L-BFGS and steepest descent: exact solutions of a linear system, curvature paying, the callback."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from losslab import lsq
from losslab.optim import quasi_newton
from tests.optim.objectives import rosenbrock_value_and_grad


def quadratic(A, b):
    return lambda x: (float(0.5 * x @ A @ x - b @ x), A @ x - b)


def test_steepest_descent_and_lbfgs_reach_the_solution_of_a_linear_system():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 6))
    A, b = M @ M.T + 6 * np.eye(6), rng.standard_normal(6)
    for solver in (lsq.lbfgs, lsq.steepest_descent):
        res = solver(quadratic(A, b), np.zeros(6), gtol=1e-10, ftol=0.0, max_iter=5000)
        assert res.success, res.message
        np.testing.assert_allclose(res.x, np.linalg.solve(A, b), atol=1e-8)
    gd = lsq.steepest_descent(quadratic(A, b), np.zeros(6), gtol=1e-10, ftol=0.0, max_iter=5000)
    bfgs = lsq.lbfgs(quadratic(A, b), np.zeros(6), gtol=1e-10, ftol=0.0)
    assert bfgs.nit < gd.nit  # curvature pays


def test_a_callback_stops_the_descent_and_sees_every_iteration():
    seen = []

    def stop_at_three(iteration, x, value):
        seen.append((iteration, value))
        return iteration == 3

    res = lsq.lbfgs(rosenbrock_value_and_grad, [-1.2, 1.0], callback=stop_at_three)
    assert [i for i, _ in seen] == [1, 2, 3] and res.nit == 3
    assert not res.success and res.message == "stopped by callback"
    assert seen[-1][1] == res.cost


def two_loop(g, pairs):
    """H·g by the two-loop recursion (Nocedal & Wright, Algorithm 7.4): the reference."""
    q, alphas = g.copy(), []
    for s, y in reversed(pairs):
        alphas.append((s @ q) / (y @ s))
        q -= alphas[-1] * y
    s, y = pairs[-1]
    q *= (s @ y) / (y @ y)
    for (s, y), a in zip(pairs, reversed(alphas), strict=True):
        q += (a - (y @ q) / (y @ s)) * s
    return q


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    n_pairs=st.integers(1, 14),
    memory=st.integers(1, 10),
)
def test_the_compact_inverse_hessian_product_is_the_two_loop_recursion(seed, n, n_pairs, memory):
    # pairs from a positive definite quadratic plus a perturbation, so that sᵀy > 0 as in a descent
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A = M @ M.T + n * np.eye(n)
    pairs, kept = quasi_newton._CurvaturePairs(memory, n), []
    for _ in range(n_pairs):
        s = rng.standard_normal(n)
        y = A @ s + 0.1 * rng.standard_normal(n)
        if s @ y > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            kept = [*kept, (s, y)][-memory:]
        pairs.remember(s, y)
    g = rng.standard_normal(n)
    assert len(pairs) == len(kept)
    expected = two_loop(g, kept) if kept else g
    np.testing.assert_allclose(
        pairs.inverse_hessian_times(g), expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max()
    )


def test_pairs_without_positive_curvature_are_not_kept_and_clear_forgets_them():
    pairs = quasi_newton._CurvaturePairs(3, 2)
    pairs.remember(np.array([1.0, 0.0]), np.array([-1.0, 0.0]))  # sᵀy < 0
    assert len(pairs) == 0
    for k in range(5):
        pairs.remember(np.array([1.0, k]), np.array([2.0, 2.0 * k]))
    assert len(pairs) == 3 and pairs.S[0].tolist() == [1.0, 2.0]
    pairs.clear()
    g = np.array([3.0, -4.0])
    assert len(pairs) == 0 and pairs.inverse_hessian_times(g).tolist() == g.tolist()


def test_the_first_step_has_unit_length():
    # the first trial point of a gradient of length 10 is one unit away along -g
    seen = []

    def quadratic_from_origin(x):
        seen.append(x.copy())
        return float(x @ x + 2 * x @ np.array([3.0, 4.0])), 2 * x + np.array([6.0, 8.0])

    lsq.lbfgs(quadratic_from_origin, np.zeros(2), max_iter=1)
    np.testing.assert_allclose(seen[1], [-0.6, -0.8])


def test_a_gradient_whose_square_overflows_still_gets_a_unit_first_step_and_descends():
    # 1e200·‖x - 3‖²: at 0 the gradient's entries are -6e200, so ‖g‖² and g·d overflow; the
    # step length 1/‖d‖ and the Armijo slope are measured per unit of max|d| instead of 0 and -inf
    def steep(x):
        return float(1e200 * (x - 3) @ (x - 3)), 2e200 * (x - 3)

    for solver in (lsq.lbfgs, lsq.steepest_descent):
        res = solver(steep, np.zeros(4), max_iter=200)
        assert res.nit > 1 and res.status != -1, res.message
        assert res.cost < 1e-10 * steep(np.zeros(4))[0]
        np.testing.assert_allclose(res.x, 3.0, rtol=1e-6)


def test_a_failed_line_search_says_whether_the_objective_overflowed_or_stopped_decreasing():
    def overflows_past_one(x):  # (x - 3)², but infinite (with its gradient) from x = 1 on
        if np.any(x >= 1.0):
            return np.inf, np.full_like(x, np.inf)
        return float((x - 3) @ (x - 3)), 2 * (x - 3)

    steps = []

    def inf_after_two_steps(x):  # finite for the first iterate only, then inf everywhere
        steps.append(x)
        return (float(x @ x), 2 * x) if len(steps) <= 2 else (np.inf, 2 * x)

    def gradient_lies(x):  # the gradient points uphill: no step ever decreases the value
        return float(x @ x), -2 * x - 1.0

    res = lsq.lbfgs(inf_after_two_steps, np.ones(3))
    assert res.status == -1 and "no point where the objective and its gradient are finite" in (
        res.message
    )
    assert res.nit == 2
    # the last finite iterate is kept: one unit step from (1, 1, 1) towards 0
    np.testing.assert_allclose(res.x, 1 - 1 / np.sqrt(3))
    assert res.cost == res.history[-1]["cost"] == float(res.x @ res.x)
    res = lsq.lbfgs(gradient_lies, np.ones(3))
    assert res.status == -1 and "no step that decreases the objective" in res.message
    assert res.nit == 1 and res.x.tolist() == [1.0, 1.0, 1.0]
    # a point whose value is not finite is stepped back from: the search stays below 1
    res = lsq.lbfgs(overflows_past_one, np.zeros(2), max_iter=100)
    assert np.isfinite(res.cost) and np.all(res.x < 1.0)


def test_a_pair_whose_gradient_change_underflows_is_refused():
    # yᵀy = 1e-340 rounds to 0 while sᵀy = 1e-170 > 0: H₀'s scale sᵀy / yᵀy would divide by zero
    pairs = quasi_newton._CurvaturePairs(3, 2)
    pairs.remember(np.array([1.0, 0.0]), np.array([1e-170, 0.0]))
    pairs.remember(np.array([1.0, 0.0]), np.array([1e160, 0.0]))  # yᵀy overflows
    assert len(pairs) == 0
    with np.errstate(all="raise"):
        assert pairs.inverse_hessian_times(np.array([1.0, 2.0])).tolist() == [1.0, 2.0]
