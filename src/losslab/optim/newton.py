r"""Newton's method for a twice-differentiable scalar objective, by line search or trust region.

The step solves :math:`H\delta = -\nabla f` with the Hessian ``hess`` (shifted
until positive definite, :func:`~losslab.optim.linalg.positive_definite_solve`)
or, with Hessian-vector products ``hessp`` only, by conjugate gradients
(:func:`~losslab.optim.linalg.conjugate_gradient`, Newton-CG).
Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed.), chapters 3 and 4.
"""

from __future__ import annotations

import numpy as np

from .linalg import conjugate_gradient, positive_definite_solve
from .result import LeastSquaresResult, history_row, status_message

NEWTON_METHODS = ("line_search", "trust_region")


def newton(
    fun,
    x0,
    *,
    grad,
    hess=None,
    hessp=None,
    args=(),
    method="line_search",
    gtol=1e-8,
    max_iter=200,
):
    r"""Newton's method for a twice-differentiable scalar objective ``fun(x)``.

    The step solves :math:`H\delta = -\nabla f`. With ``hess`` the system is
    solved directly (adding a multiple of the identity until H is positive
    definite, so the step always descends); with only ``hessp`` (Hessian-vector
    products) by conjugate gradients (Newton-CG). ``method="line_search"``
    backtracks along the step (Armijo); ``"trust_region"`` instead damps
    :math:`(H + \mu I)\delta = -\nabla f` with μ adapted by the gain ratio.
    ``cost`` in the result is the objective's value.

    Rosenbrock's banana valley, which defeats plain gradient descent:

    >>> f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    >>> grad = lambda x: np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    >>> hess = lambda x: np.array([[2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]], [-400 * x[0], 200.0]])
    >>> res = newton(f, [-1.2, 1.0], grad=grad, hess=hess)
    >>> res.x.round(6).tolist(), res.nit < 30
    ([1.0, 1.0], True)
    """
    if hess is None and hessp is None:
        raise ValueError("hess/hessp: Newton's method needs the Hessian or Hessian-vector products")
    if method not in NEWTON_METHODS:
        raise ValueError(f"method: expected 'line_search' or 'trust_region', got {method!r}")
    objective = _Objective(fun, grad, hess, hessp, args)
    return _newton_loop(objective, np.array(x0, dtype=np.float64).ravel(), method, gtol, max_iter)


class _Objective:
    """fun, grad and the Hessian (or its products) at x, counting evaluations of fun and grad."""

    def __init__(self, fun, grad, hess, hessp, args):
        self.fun, self.grad, self.hess, self.hessp, self.args = fun, grad, hess, hessp, args
        self.nfev = self.njev = 0

    def value(self, x):
        self.nfev += 1
        return float(self.fun(x, *self.args))

    def gradient(self, x):
        self.njev += 1
        return np.asarray(self.grad(x, *self.args), dtype=np.float64)

    def hessian(self, x):
        H = np.atleast_2d(np.asarray(self.hess(x, *self.args), dtype=np.float64))
        if H.shape != (x.size, x.size):
            raise ValueError(
                f"hess: expected shape ({x.size}, {x.size}), got shape {H.shape} instead"
            )
        return H

    def hessian_product(self, x):
        """v -> H(x)·v, from the Hessian when there is one, else from ``hessp``."""
        if self.hess is not None:
            H = np.atleast_2d(np.asarray(self.hess(x, *self.args), dtype=np.float64))
            return lambda v: H @ v
        return lambda v: np.asarray(self.hessp(x, v, *self.args), dtype=np.float64)


def _newton_loop(objective, x, method, gtol, max_iter):
    """The iterations of :func:`newton`: a Newton step, its length or damping, the new gradient."""
    value = objective.value(x)
    if not np.isfinite(value):
        raise ValueError("fun: non-finite objective at the starting point x0")
    g = objective.gradient(x)
    history = [history_row(0, value, objective.nfev, 0.0)]
    mu, status, nit = 1e-3, 0, 0
    for nit in range(1, max_iter + 1):
        if np.abs(g).max() < gtol:
            status = 1
            break
        if method == "line_search":
            step = _newton_direction(objective, x, g)
            t, new_value = _armijo(objective.value, x, value, g, step)
        else:
            step, t, new_value, mu = _trust_region_step(objective, x, value, g, mu)
        if t == 0.0:
            status = -1
            break
        x = x + t * step
        value = new_value
        g = objective.gradient(x)
        history.append(history_row(nit, value, objective.nfev, np.linalg.norm(t * step)))
    message = status_message(status, "iterations")
    return LeastSquaresResult(
        x,
        value,
        np.array([]),
        None,
        g,
        objective.nfev,
        objective.njev,
        nit,
        status,
        message,
        history,
    )


def _newton_direction(objective, x, g):
    if objective.hess is not None:
        return positive_definite_solve(objective.hessian(x), -g)
    return conjugate_gradient(objective.hessian_product(x), -g)


def _armijo(f, x, value, g, step, c=1e-4):
    """Halve t from 1 until f(x + t·step) falls by c·t·gᵀstep; (0, value) after 60 halvings."""
    slope = g @ step
    t = 1.0
    for _ in range(60):
        new_value = f(x + t * step)
        if np.isfinite(new_value) and new_value <= value + c * t * slope:
            return t, new_value
        t *= 0.5
    return 0.0, value


def _trust_region_step(objective, x, value, g, mu):
    """Solve (H + μI) δ = -g, raising μ until the step lowers f; μ then adapts by the gain ratio."""
    hv = objective.hessian_product(x)
    for _ in range(60):
        step = conjugate_gradient(lambda v, mu=mu: hv(v) + mu * v, -g)
        predicted = -(g @ step + 0.5 * step @ hv(step))
        new_value = objective.value(x + step)
        gain = (value - new_value) / predicted if predicted > 0 and np.isfinite(new_value) else -1
        if gain > 0:
            return step, 1.0, new_value, mu * max(1 / 3, 1 - (2 * gain - 1) ** 3)
        mu = max(mu * 4, 1e-8)
    return np.zeros_like(x), 0.0, value, mu
