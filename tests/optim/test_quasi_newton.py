"""L-BFGS and steepest descent: exact solutions of a linear system, curvature paying, the callback."""

import numpy as np

from losslab import lsq
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
