"""Newton's method (Hessian or Hessian-vector products, line search or trust region) against scipy."""

import numpy as np
import pytest

from losslab import lsq
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
