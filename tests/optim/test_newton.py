"""Newton's method (Hessian or Hessian-vector products, line search or trust region) against scipy."""

import numpy as np
import pytest

from losslab import lsq
from losslab.optim.newton import newton_least_squares
from losslab.optim.problems import BEALE, EXP_DECAY, ROSENBROCK
from tests.optim.objectives import rosenbrock, rosenbrock_grad, rosenbrock_hess

scipy_optimize = pytest.importorskip("scipy.optimize")


@pytest.mark.parametrize("method", ["line_search", "trust_region"])
@pytest.mark.parametrize("second_order", ["hess", "hessp"])
def test_newton_minimises_rosenbrock_like_scipy(method, second_order):
    kw = (
        {"hess": rosenbrock_hess}
        if second_order == "hess"
        else {"hessp": lambda x, v: rosenbrock_hess(x) @ v}
    )
    res = lsq.newton(rosenbrock, [-1.2, 1.0], grad=rosenbrock_grad, method=method, **kw)
    theirs = scipy_optimize.minimize(
        rosenbrock, [-1.2, 1.0], jac=rosenbrock_grad, hess=rosenbrock_hess, method="trust-exact"
    )
    assert res.success
    np.testing.assert_allclose(res.x, theirs.x, atol=1e-6)
    assert res.nit < 60


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lsq.newton(lambda x: x @ x, [1.0], grad=lambda x: 2 * x), "needs the Hessian"),
        (
            lambda: lsq.newton(
                lambda x: x @ x, [1.0], grad=lambda x: 2 * x, hess=lambda x: 2.0, method="bfgs"
            ),
            "method: expected 'line_search' or 'trust_region', got 'bfgs'",
        ),
        (
            lambda: lsq.newton(
                lambda x: x @ x, [1.0, 1.0], grad=lambda x: 2 * x, hess=lambda x: np.eye(3)
            ),
            r"hess: expected shape \(2, 2\), got shape \(3, 3\)",
        ),
        (
            lambda: lsq.newton(lambda x: np.inf, [1.0], grad=lambda x: 2 * x, hess=lambda x: 2.0),
            "fun: non-finite objective at the starting point",
        ),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_saddle_is_escaped_and_the_result_counts_evaluations():
    # f = x² - y² + y⁴/4: a saddle at 0, minima at y = ±√2; the plain Newton step would climb
    def f(p):
        return p[0] ** 2 - p[1] ** 2 + p[1] ** 4 / 4

    def grad(p):
        return np.array([2 * p[0], -2 * p[1] + p[1] ** 3])

    def hess(p):
        return np.diag([2.0, -2 + 3 * p[1] ** 2])

    for method in ("line_search", "trust_region"):
        res = lsq.newton(f, [0.5, 0.1], grad=grad, hess=hess, method=method)
        assert res.success and res.message == "gradient below gtol"
        np.testing.assert_allclose(res.x, [0.0, np.sqrt(2)], atol=1e-8)
        assert res.njev == len(res.history) <= res.nfev  # one gradient at each point visited
        assert [row["iteration"] for row in res.history] == list(range(len(res.history)))
    stopped = lsq.newton(f, [0.5, 0.1], grad=grad, hess=hess, max_iter=2)
    assert not stopped.success and stopped.message == "maximum number of iterations reached"


@pytest.mark.parametrize("problem", [EXP_DECAY, ROSENBROCK, BEALE], ids=lambda p: p.name)
def test_newton_on_least_squares_reaches_levenberg_marquardts_minimum(problem):
    lm = lsq.levenberg_marquardt(problem.residual, problem.x0, jac=problem.jac)
    res = newton_least_squares(problem.residual, problem.x0, jac=problem.jac, max_nfev=2000)
    assert res.success
    assert res.cost == pytest.approx(lm.cost, rel=1e-8, abs=1e-20)
    np.testing.assert_allclose(res.x, lm.x, rtol=1e-5)
    # every iteration: one Jacobian at the new point and n more for the Hessian's second term
    assert res.njev == 1 + res.nit * (1 + problem.x0.size) - (
        problem.x0.size if res.status == 1 else 0
    )


def test_newtons_hessian_has_the_curvature_gauss_newton_leaves_out():
    # a large-residual problem: Gauss-Newton converges linearly, Newton quadratically
    t = np.array([1.0, 2.0, 3.0])
    y = np.array([2.0, 4.0, -8.0])

    def residual(p):
        return np.exp(p[0] * t) - y

    def jac(p):
        return (t * np.exp(p[0] * t))[:, None]

    newton = newton_least_squares(residual, [0.3], jac=jac)
    gn = lsq.gauss_newton(residual, [0.3], jac=jac)
    exact = lsq.levenberg_marquardt(residual, [0.3], jac=jac, ftol=1e-14, xtol=1e-14)
    assert newton.success and newton.x[0] == pytest.approx(exact.x[0], rel=1e-7)
    assert newton.nit < gn.nit / 2  # and Gauss-Newton, crawling, stops further away
    assert abs(gn.x[0] - exact.x[0]) > abs(newton.x[0] - exact.x[0])
