r"""Newton's method for a twice-differentiable scalar objective, by line search or trust region.

The step solves :math:`H\delta = -\nabla f` with the Hessian ``hess`` (shifted
until positive definite, :func:`~losslab.optim.linalg.positive_definite_solve`)
or, with Hessian-vector products ``hessp`` only, by conjugate gradients
(:func:`~losslab.optim.linalg.conjugate_gradient`, Newton-CG).
:func:`newton_least_squares` is Newton's method on a least-squares cost
:math:`\tfrac12\lVert r\rVert^2`, with the exact Hessian
:math:`J^TJ + \sum_i r_i\nabla^2 r_i` (second derivatives from differences of the Jacobian).
Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed.), chapters 3, 4 and 10.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .least_squares import _converged, _gradient_small
from .linalg import conjugate_gradient, positive_definite_solve
from .residuals import EPS, start_problem, tolerances
from .result import LeastSquaresResult, history_row, status_message

NEWTON_METHODS = ("line_search", "trust_region")


def newton(
    fun: Callable[..., float],
    x0: ArrayLike,
    *,
    grad: Callable[..., np.ndarray],
    hess: Callable[..., np.ndarray] | None = None,
    hessp: Callable[..., np.ndarray] | None = None,
    args: tuple[Any, ...] = (),
    method: str = "line_search",
    gtol: float = 1e-8,
    max_iter: int = 200,
) -> LeastSquaresResult:
    r"""Newton's method for a twice-differentiable scalar objective ``fun(x)``.

    The step solves :math:`H\delta = -\nabla f`. With ``hess`` the system is
    solved directly (adding a multiple of the identity until H is positive
    definite, so the step always descends); with only ``hessp`` (Hessian-vector
    products) by conjugate gradients (Newton-CG). ``method="line_search"``
    backtracks along the step (Armijo); ``"trust_region"`` instead damps
    :math:`(H + \mu I)\delta = -\nabla f` with μ adapted by the gain ratio.
    ``cost`` in the result is the objective's value.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``, the objective.
    x0 : array of shape (n,)
        The starting point.
    grad : callable
        ``grad(x, *args) -> array of shape (n,)``.
    hess : callable, optional
        ``hess(x, *args) -> array of shape (n, n)``.
    hessp : callable, optional
        ``hessp(x, v, *args) -> array of shape (n,)``, the product H v; used when
        ``hess`` is None (one of the two is required).
    args : tuple, default ()
        Extra arguments for the callables.
    method : {"line_search", "trust_region"}, default "line_search"
        Backtrack along the Newton step (Armijo), or take damped steps
        (H + μI) δ = -∇f with μ adapted by the gain ratio.
    gtol : float, default 1e-8
        Stop when the gradient's largest entry is at most this.
    max_iter : int, default 200
        The most iterations.

    Returns
    -------
    LeastSquaresResult
        ``x``, ``cost`` (the objective), ``grad``, ``nit``, ``nfev``, ``status``,
        ``success``, ``message``, ``history``.

    Examples
    --------
    Rosenbrock's banana valley, which defeats plain gradient descent:

    >>> f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    >>> grad = lambda x: np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    >>> hess = lambda x: np.array([[2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]], [-400 * x[0], 200.0]])
    >>> res = newton(f, [-1.2, 1.0], grad=grad, hess=hess)
    >>> res.x.round(6).tolist(), res.nit < 30
    ([1.0, 1.0], True)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006): sections 3.4
    (modified Newton), 4 (trust regions) and 7.1 (Newton-CG).
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


def newton_least_squares(
    residual: Callable[..., np.ndarray],
    x0: ArrayLike,
    *,
    jac: Callable[..., np.ndarray] | None = None,
    args: tuple[Any, ...] = (),
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
    max_nfev: int | None = None,
) -> LeastSquaresResult:
    r"""Newton's method on :math:`\tfrac12\lVert r(x)\rVert^2` with a backtracking line search.

    The Hessian is the exact one, :math:`J^TJ + \sum_i r_i\nabla^2 r_i`; the
    second term comes from forward differences of the Jacobian ``jac`` (n more
    Jacobians per step, counted in ``njev``), so Newton pays for the curvature
    Gauss-Newton leaves out. Without ``jac`` the Jacobians are differences too
    and the second difference steps by eps^⅓ (rounding then costs ~1e-5 of H's
    digits, not all of them). The Hessian is shifted until positive
    definite, the step halved until the cost falls. Stopping tests, parameters and
    result as :func:`~losslab.optim.least_squares.gauss_newton`; ``nfev`` counts
    residuals, ``njev`` Jacobians.

    .. math::

        \big(J^\top J + \textstyle\sum_i r_i \nabla^2 r_i\big)\,\delta = -J^\top r

    Parameters
    ----------
    residual : callable
        ``residual(x, *args) -> array of shape (m,)``; the cost is ½‖r‖².
    x0 : array of shape (n,)
        The starting point.
    jac : callable, optional
        ``jac(x, *args) -> array of shape (m, n)``; forward differences when None.
    args : tuple, default ()
        Extra arguments for ``residual`` and ``jac``.
    ftol, xtol, gtol : float, default 1e-8
        The tests of :func:`~losslab.optim.least_squares.gauss_newton`.
    max_nfev : int, optional
        Evaluations of the residual allowed.

    Returns
    -------
    LeastSquaresResult
        ``x``, ``cost``, the evaluation counts, ``status`` and ``history``.

    Examples
    --------
    >>> t = np.linspace(0, 1, 10)
    >>> res = newton_least_squares(lambda p: p[0] * np.exp(p[1] * t) - 2 * np.exp(-1.5 * t), [1.0, 0.0],
    ...                            jac=lambda p: np.stack([np.exp(p[1] * t), p[0] * t * np.exp(p[1] * t)], 1))
    >>> res.x.round(6).tolist(), res.success
    ([2.0, -1.5], True)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), section 10.3 (the
    exact Hessian of a sum of squares and what Gauss-Newton leaves out of it).
    """
    problem, x, r = start_problem(residual, x0, jac=jac, args=args)
    tol = tolerances(ftol, xtol, gtol, max_nfev, x.size, jac is not None)
    cost = problem.cost(r)
    J = problem.jacobian(x, r)
    history = [problem.history_row(0, cost, 0.0, 0.0)]
    status, nit = 0, 0
    while problem.nfev < tol.max_nfev:
        g = J.T @ r
        if _gradient_small(g, J, r, tol.gtol):
            status = 1
            break
        step = positive_definite_solve(J.T @ J + _residual_curvature(problem, x, r, J), -g)
        t, r_new, cost_new = _armijo_on_cost(problem, x, cost, g, step, tol.max_nfev)
        nit += 1
        if not cost_new < cost:  # no decrease along a descent direction: stalled, or out of budget
            status = 0 if problem.nfev >= tol.max_nfev else -1
            break
        fall, x, r, cost = cost - cost_new, x + t * step, r_new, cost_new
        J = problem.jacobian(x, r)
        history.append(problem.history_row(nit, cost, t * np.linalg.norm(step), t))
        status = _converged(fall, x, cost, J, J.T @ r, tol)
        if status:
            break
    return problem.result(x, cost, r, J, J.T @ r, nit, status, history)


def _residual_curvature(problem, x, r, J):
    """Σ r_i ∇²r_i by forward differences of the Jacobian, symmetrised."""
    analytic = problem.jac_fn is not None
    rel = (
        np.sqrt(EPS) if analytic else EPS ** (1 / 3)
    )  # a difference of differences needs a longer step
    S = np.empty((x.size, x.size))
    for k in range(x.size):
        xh = x.copy()
        xh[k] += rel * max(1.0, abs(x[k]))
        J_h = problem.jacobian(xh, r if analytic else problem.fun(xh))
        S[:, k] = (J_h - J).T @ r / (xh[k] - x[k])
    return 0.5 * (S + S.T)


def _armijo_on_cost(problem, x, cost, g, step, max_nfev, c=1e-4):
    """Halve t from 1 until the cost falls by c·t·|gᵀstep| (60 halvings or the budget at most)."""
    t, r_new, cost_new = 1.0, None, np.inf
    for _ in range(60):
        if problem.nfev >= max_nfev:
            break
        r_new, cost_new = problem.evaluate(x + t * step)
        if cost_new <= cost + c * t * (g @ step):
            break
        t *= 0.5
    return t, r_new, cost_new
