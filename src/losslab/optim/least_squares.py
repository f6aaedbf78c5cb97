r"""Nonlinear least squares and Newton's method: when the parameter space is small,
second-order methods beat gradient descent (seed 002).

All three solvers minimise and report ``cost`` = :math:`\tfrac12\sum_i \rho(r_i^2)`
(:math:`\tfrac12\lVert r\rVert^2` for the plain loss) and return a
:class:`LeastSquaresResult` with ``x``, ``cost``, ``fun`` (residuals), ``jac``,
``grad``, ``nfev``, ``njev``, ``nit``, ``success``, ``status``, ``message`` and
``history`` (one row per iteration: cost, nfev, step norm, damping).

- :func:`levenberg_marquardt`: Marquardt's diagonal scaling, Nielsen's adaptive
  damping, stopping on ftol / xtol / gtol and ``max_nfev``;
- :func:`gauss_newton`: the undamped Gauss-Newton step with a backtracking line
  search;
- :func:`newton`: for any twice-differentiable scalar objective, with a Hessian
  or Hessian-vector products, by line search or trust region.

Robust losses (``loss="huber" | "soft_l1" | "cauchy" | "arctan"``) re-weight
residuals like SciPy's ``least_squares``: outliers stop dominating the fit.
Residuals that become non-finite during a step make the step shrink (the
damping grows) instead of crashing; non-finite residuals at the start are an error.
Reference: ``scipy.optimize.least_squares`` (used as the oracle in the tests only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EPS = np.finfo(float).eps
ROBUST_LOSSES = ("linear", "huber", "soft_l1", "cauchy", "arctan")


@dataclass
class LeastSquaresResult:
    x: np.ndarray
    cost: float
    fun: np.ndarray
    jac: np.ndarray | None
    grad: np.ndarray
    nfev: int
    njev: int
    nit: int
    status: int  # 1 gtol, 2 ftol, 3 xtol, 0 max_nfev / max_iter, -1 could not make progress
    message: str
    history: list = field(default_factory=list)

    @property
    def success(self):
        return self.status > 0

    def __str__(self):
        return (
            f"{'converged' if self.success else 'stopped'}: {self.message}; cost {self.cost:.6g} "
            f"after {self.nit} iterations, {self.nfev} evaluations"
        )


_MESSAGES = {
    1: "gradient below gtol",
    2: "relative cost reduction below ftol",
    3: "step below xtol",
    0: "maximum number of evaluations reached",
    -1: "no step decreases the cost: stalled away from a minimum",
    -2: "stopped by callback",
}


# --- robust losses: rho(z) with z = (r / f_scale)^2, and its first two derivatives ---------------


def robust_rho(z, loss):
    """(rho, rho', rho'') of SciPy's robust losses at z = (r / f_scale)^2."""
    if loss == "linear":
        return z, np.ones_like(z), np.zeros_like(z)
    if loss == "huber":
        small = z <= 1
        root = np.sqrt(np.maximum(z, 1))
        rho = np.where(small, z, 2 * root - 1)
        return rho, np.where(small, 1.0, 1 / root), np.where(small, 0.0, -0.5 / (root * z))
    if loss == "soft_l1":
        t = 1 + z
        return 2 * (np.sqrt(t) - 1), t**-0.5, -0.5 * t**-1.5
    if loss == "cauchy":
        return np.log1p(z), 1 / (1 + z), -1 / (1 + z) ** 2
    if loss == "arctan":
        return np.arctan(z), 1 / (1 + z**2), -2 * z / (1 + z**2) ** 2
    raise ValueError(f"loss: expected one of {ROBUST_LOSSES}, got {loss!r} instead")


class _Problem:
    """Residuals, Jacobian and cost of one problem, counting evaluations."""

    def __init__(self, residual, jac, args, loss, f_scale, diff_step):
        self.residual, self.jac_fn, self.args = residual, jac, args
        self.loss, self.f_scale, self.diff_step = loss, f_scale, diff_step
        self.nfev = self.njev = 0
        self.m = None

    def fun(self, x):
        self.nfev += 1
        r = np.atleast_1d(np.asarray(self.residual(x, *self.args), dtype=np.float64))
        if r.ndim != 1:
            raise ValueError(f"residual: expected a 1-D array of residuals, got shape {r.shape}")
        if self.m is not None and r.shape != (self.m,):
            raise ValueError(f"residual: expected {self.m} residuals, got {r.shape[0]}")
        return r

    def jacobian(self, x, r):
        if self.jac_fn is None:
            return self._finite_difference_jacobian(x, r)
        self.njev += 1
        J = np.atleast_2d(np.asarray(self.jac_fn(x, *self.args), dtype=np.float64))
        if J.shape != (r.size, x.size):
            raise ValueError(
                f"jac: expected shape ({r.size}, {x.size}), got shape {J.shape} instead"
            )
        return J

    def _finite_difference_jacobian(self, x, r):
        """Forward differences, step sqrt(eps)·max(1, |x_j|) (SciPy's '2-point')."""
        rel = np.sqrt(EPS) if self.diff_step is None else self.diff_step
        J = np.empty((r.size, x.size))
        for j in range(x.size):
            h = rel * max(1.0, abs(x[j]))
            xh = x.copy()
            xh[j] += h
            J[:, j] = (self.fun(xh) - r) / (xh[j] - x[j])
        self.njev += 1
        return J

    def cost(self, r):
        with np.errstate(over="ignore"):  # a wild trial step may overflow: inf is rejected
            if self.loss == "linear":
                return 0.5 * float(r @ r)
            z = (r / self.f_scale) ** 2
            return 0.5 * self.f_scale**2 * float(np.sum(robust_rho(z, self.loss)[0]))

    def linearize(self, x, r):
        """The Jacobian at x, the re-weighted residuals and Jacobian, and the gradient Jsᵀrs."""
        J = self.jacobian(x, r)
        rs, Js = self.scaled(r, J)
        return J, rs, Js, Js.T @ rs

    def scaled(self, r, J):
        """Residuals and Jacobian re-weighted so that Gauss-Newton on them is IRLS for rho."""
        if self.loss == "linear":
            return r, J
        z = (r / self.f_scale) ** 2
        _, rho1, rho2 = robust_rho(z, self.loss)
        j_scale = np.maximum(rho1 + 2 * rho2 * z, EPS) ** 0.5
        return r * (rho1 / j_scale), J * j_scale[:, None]


def _start(residual, x0, jac, args, loss, f_scale, diff_step):
    x = np.array(x0, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("x0: expected finite starting parameters")
    if loss not in ROBUST_LOSSES:
        raise ValueError(f"loss: expected one of {ROBUST_LOSSES}, got {loss!r} instead")
    if not f_scale > 0:
        raise ValueError(f"f_scale: expected a positive number, got {f_scale}")
    problem = _Problem(residual, jac, args, loss, f_scale, diff_step)
    r = problem.fun(x)
    if not np.all(np.isfinite(r)):
        raise ValueError("residual: non-finite residuals at the starting point x0")
    problem.m = r.size
    return problem, x, r


def levenberg_marquardt(
    residual,
    x0,
    *,
    jac=None,
    args=(),
    loss="linear",
    f_scale=1.0,
    ftol=1e-8,
    xtol=1e-8,
    gtol=1e-8,
    max_nfev=None,
    damping=1e-3,
    diff_step=None,
):
    r"""Levenberg-Marquardt: solve :math:`(J^TJ + \lambda D)\,\delta = -J^Tr` each step.

    ``D`` is Marquardt's scaling: the running maximum of ``diag(JᵀJ)``, which makes
    the method invariant to the scale of each parameter. The damping λ adapts by
    the gain ratio ρ = actual / predicted cost reduction (Nielsen 1999): after a
    good step λ ← λ·max(1/3, 1 - (2ρ - 1)³), after a bad one λ ← λ·ν, ν ← 2ν.
    Large λ is a short gradient-descent step, small λ is Gauss-Newton.

    Parameters
    ----------
    residual : callable ``residual(x, *args) -> (m,)``
    x0 : (n,) starting point
    jac : callable ``jac(x, *args) -> (m, n)``, optional; forward differences when None.
    loss, f_scale : robust loss of the residuals and the residual size where it starts to bend.
    ftol, xtol, gtol : stop when both the actual and the predicted fall of the cost
        are below ``ftol·cost``, the step is shorter than ``xtol·(xtol + ‖x‖)``, or
        every column of J is nearly orthogonal to r (cosine below ``gtol``, MINPACK's test).
    max_nfev : evaluations of the residual allowed (default 100·n, Jacobians by
        differences included).
    damping : initial λ (relative: the step solves (JᵀJ + λ·D) δ = -Jᵀr).

    Examples
    --------
    Fit y = a·exp(b·t) to exact data:

    >>> t = np.linspace(0, 1, 10)
    >>> res = levenberg_marquardt(lambda p: p[0] * np.exp(p[1] * t) - 2 * np.exp(-1.5 * t), [1.0, 0.0])
    >>> res.x.round(6).tolist(), res.success
    ([2.0, -1.5], True)
    """
    problem, x, r = _start(residual, x0, jac, args, loss, f_scale, diff_step)
    max_nfev = 100 * x.size if max_nfev is None else max_nfev
    cost = problem.cost(r)
    J, rs, Js, g = problem.linearize(x, r)
    D = np.maximum(np.diag(Js.T @ Js), EPS)
    lam = damping  # relative to D, so the damping of every parameter starts at the same scale
    nu = 2.0
    history = [_row(0, cost, problem, 0.0, lam)]
    status, nit = 0, 0
    while problem.nfev < max_nfev:
        if _gradient_small(g, Js, rs, gtol, robust=loss != "linear"):
            status = 1
            break
        A = Js.T @ Js
        D = np.maximum(D, np.diag(A))
        step = _solve(A + lam * np.diag(D), -g)
        x_new = x + step
        r_new = problem.fun(x_new)
        cost_new = problem.cost(r_new) if np.all(np.isfinite(r_new)) else np.inf
        predicted = -(g @ step + 0.5 * step @ A @ step)
        gain = (cost - cost_new) / predicted if predicted > 0 else -1.0
        nit += 1
        if gain > 0:  # accept
            fall = cost - cost_new
            x, r, cost = x_new, r_new, cost_new
            J, rs, Js, g = problem.linearize(x, r)
            # convergence is judged by the undamped Gauss-Newton step, never by a step
            # that heavy damping made short
            gn_step = _solve(Js.T @ Js, -g)
            small_fall = _small_fall(fall, cost, g, gn_step, ftol)
            small_step = np.linalg.norm(gn_step) <= xtol * (xtol + np.linalg.norm(x))
            lam *= max(1 / 3, 1 - (2 * gain - 1) ** 3)
            nu = 2.0
            history.append(_row(nit, cost, problem, np.linalg.norm(step), lam))
            if small_fall:
                status = 2
                break
            if small_step:
                status = 3
                break
        else:  # reject: more damping, a shorter and more gradient-like step
            lam *= nu
            nu *= 2
            if np.linalg.norm(step) <= xtol * (xtol + np.linalg.norm(x)):
                status = 3  # MINPACK's xtol: even tiny steps cannot lower the cost
                break
            if not np.isfinite(lam) or lam > 1e300:
                status = -1
                break
    return _result(x, cost, r, J, g, problem, nit, status, history)


def gauss_newton(
    residual,
    x0,
    *,
    jac=None,
    args=(),
    loss="linear",
    f_scale=1.0,
    ftol=1e-8,
    xtol=1e-8,
    gtol=1e-8,
    max_nfev=None,
    diff_step=None,
):
    r"""Gauss-Newton: the step solves :math:`J^TJ\,\delta = -J^Tr`, then a backtracking line search.

    Fast near a minimum with small residuals; the line search (halving the step
    until the cost falls, also when residuals turn non-finite) keeps it from
    diverging far from one. Same parameters and result as :func:`levenberg_marquardt`.
    """
    problem, x, r = _start(residual, x0, jac, args, loss, f_scale, diff_step)
    max_nfev = 100 * x.size if max_nfev is None else max_nfev
    cost = problem.cost(r)
    J, rs, Js, g = problem.linearize(x, r)
    history = [_row(0, cost, problem, 0.0, 0.0)]
    status, nit = 0, 0
    while problem.nfev < max_nfev:
        if _gradient_small(g, Js, rs, gtol, robust=loss != "linear"):
            status = 1
            break
        step = _solve(Js.T @ Js, -g)
        t = 1.0
        while problem.nfev < max_nfev:
            r_new = problem.fun(x + t * step)
            cost_new = problem.cost(r_new) if np.all(np.isfinite(r_new)) else np.inf
            if cost_new < cost:
                break
            t *= 0.5
            if t < 1e-10:
                break
        nit += 1
        if not cost_new < cost:  # the line search found no decrease: a stall, not convergence
            status = -1
            break
        taken = t * step
        fall = cost - cost_new
        x, r, cost = x + taken, r_new, cost_new
        J, rs, Js, g = problem.linearize(x, r)
        history.append(_row(nit, cost, problem, np.linalg.norm(taken), t))
        gn_step = _solve(Js.T @ Js, -g)
        if _small_fall(fall, cost, g, gn_step, ftol):
            status = 2
            break
        if np.linalg.norm(gn_step) <= xtol * (xtol + np.linalg.norm(x)):
            status = 3
            break
    return _result(x, cost, r, J, g, problem, nit, status, history)


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
    if method not in ("line_search", "trust_region"):
        raise ValueError(f"method: expected 'line_search' or 'trust_region', got {method!r}")
    x = np.array(x0, dtype=np.float64).ravel()
    counts = {"nfev": 0, "njev": 0}

    def f(z):
        counts["nfev"] += 1
        return float(fun(z, *args))

    value = f(x)
    if not np.isfinite(value):
        raise ValueError("fun: non-finite objective at the starting point x0")
    g = np.asarray(grad(x, *args), dtype=np.float64)
    counts["njev"] += 1
    history = [{"iteration": 0, "cost": value, "nfev": counts["nfev"], "step": 0.0}]
    mu, status, nit = 1e-3, 0, 0
    for nit in range(1, max_iter + 1):
        if np.abs(g).max() < gtol:
            status = 1
            break
        if method == "line_search":
            step = _newton_direction(x, g, hess, hessp, args)
            t, new_value = _armijo(f, x, value, g, step)
        else:
            step, t, new_value, mu = _trust_region_step(f, x, value, g, hess, hessp, args, mu)
        if t == 0.0:
            status = -1
            break
        x = x + t * step
        value = new_value
        g = np.asarray(grad(x, *args), dtype=np.float64)
        counts["njev"] += 1
        history.append(
            {
                "iteration": nit,
                "cost": value,
                "nfev": counts["nfev"],
                "step": float(np.linalg.norm(t * step)),
            }
        )
    result = LeastSquaresResult(
        x,
        value,
        np.array([]),
        None,
        g,
        counts["nfev"],
        counts["njev"],
        nit,
        status,
        _MESSAGES[status] if status else "maximum number of iterations reached",
        history,
    )
    return result


def _newton_direction(x, g, hess, hessp, args):
    if hess is not None:
        H = np.atleast_2d(np.asarray(hess(x, *args), dtype=np.float64))
        if H.shape != (x.size, x.size):
            raise ValueError(
                f"hess: expected shape ({x.size}, {x.size}), got shape {H.shape} instead"
            )
        return _positive_definite_solve(H, -g)
    return _conjugate_gradient(lambda v: np.asarray(hessp(x, v, *args), dtype=np.float64), -g)


def _positive_definite_solve(H, b):
    """Solve (H + τI) d = b with the smallest τ ≥ 0 (tried in decades) that makes it positive definite."""
    tau = 0.0
    scale = max(np.abs(np.diag(H)).max(), 1e-12)
    for _ in range(60):
        try:
            L = np.linalg.cholesky(H + tau * np.eye(len(H)))
            return np.linalg.solve(L.T, np.linalg.solve(L, b))
        except np.linalg.LinAlgError:
            tau = max(2 * tau, 1e-3 * scale)
    return b  # the Hessian is hopeless: fall back to steepest descent


def _conjugate_gradient(hv, b, tol=1e-10, max_iter=None):
    """Approximately solve H d = b; stops at negative curvature (returns the descent found so far)."""
    d = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    for _ in range(max_iter or 2 * len(b)):
        Hp = hv(p)
        curvature = p @ Hp
        if curvature <= 0:
            return d if d.any() else b
        alpha = (r @ r) / curvature
        d += alpha * p
        r_new = r - alpha * Hp
        if np.linalg.norm(r_new) < tol * np.linalg.norm(b):
            break
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    return d


def _armijo(f, x, value, g, step, c=1e-4):
    slope = g @ step
    t = 1.0
    for _ in range(60):
        new_value = f(x + t * step)
        if np.isfinite(new_value) and new_value <= value + c * t * slope:
            return t, new_value
        t *= 0.5
    return 0.0, value


def _trust_region_step(f, x, value, g, hess, hessp, args, mu):
    if hess is not None:
        H = np.atleast_2d(np.asarray(hess(x, *args), dtype=np.float64))

        def hv(v):
            return H @ v
    else:

        def hv(v):
            return np.asarray(hessp(x, v, *args), dtype=np.float64)

    for _ in range(60):
        step = _conjugate_gradient(lambda v, mu=mu: hv(v) + mu * v, -g)
        predicted = -(g @ step + 0.5 * step @ hv(step))
        new_value = f(x + step)
        gain = (value - new_value) / predicted if predicted > 0 and np.isfinite(new_value) else -1
        if gain > 0:
            return step, 1.0, new_value, mu * max(1 / 3, 1 - (2 * gain - 1) ** 3)
        mu = max(mu * 4, 1e-8)
    return np.zeros_like(x), 0.0, value, mu


def _small_fall(fall, cost, g, gn_step, ftol):
    """ftol: the last fall was small and even a full Gauss-Newton step promises little more.

    The second half (-½ gᵀδ_GN, the undamped model's predicted fall) keeps a
    short, heavily damped or line-searched step from passing for convergence.
    """
    if fall > ftol * (cost + fall):
        return False
    return -0.5 * (g @ gn_step) <= ftol * max(cost, np.finfo(float).tiny)


def _gradient_small(g, J, r, gtol, robust=False):
    """The gtol test of SciPy: MINPACK's largest cosine between r and a column of J for the
    plain loss; ‖g‖∞ for robust losses, whose re-weighted residuals make the cosine meaningless."""
    if robust:
        return np.abs(g).max(initial=0.0) < gtol
    r_norm = np.linalg.norm(r)
    if r_norm == 0:
        return True
    col_norms = np.linalg.norm(J, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosines = np.where(col_norms > 0, np.abs(g) / (col_norms * r_norm), 0.0)
    return cosines.max(initial=0.0) < gtol


def _solve(A, b):
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]


def _row(iteration, cost, problem, step, damping):
    return {
        "iteration": iteration,
        "cost": cost,
        "nfev": problem.nfev,
        "step": float(step),
        "damping": float(damping),
    }


def _result(x, cost, r, J, g, problem, nit, status, history):
    return LeastSquaresResult(
        x, cost, r, J, g, problem.nfev, problem.njev, nit, status, _MESSAGES[status], history
    )


def lbfgs(fun_and_grad, x0, *, memory=10, gtol=1e-6, ftol=1e-12, max_iter=500, callback=None):
    r"""Limited-memory BFGS for a smooth scalar objective (Nocedal & Wright, Algorithm 7.4).

    ``fun_and_grad(x) -> (value, gradient)``. The search direction is the
    two-loop recursion over the last ``memory`` (s, y) pairs; the step length
    comes from a backtracking Armijo search. Stops when ``‖∇f‖∞ < gtol`` or the
    value falls by less than ``ftol·|f|``, or when ``callback(iteration, x, value)``
    returns True. Returns a :class:`LeastSquaresResult` whose ``cost`` is the
    objective value.

    >>> res = lbfgs(lambda x: (float((x - 3) @ (x - 3)), 2 * (x - 3)), np.zeros(4))
    >>> res.x.round(6).tolist(), res.success
    ([3.0, 3.0, 3.0, 3.0], True)
    """
    return _descend(fun_and_grad, x0, memory, gtol, ftol, max_iter, callback)


def steepest_descent(fun_and_grad, x0, *, gtol=1e-6, ftol=1e-12, max_iter=500, callback=None):
    r"""Gradient descent with a backtracking Armijo step for a smooth scalar objective.

    Each iteration first tries twice the previous step length, then halves it
    until the value falls enough, so no learning rate is needed. The same
    stopping rules, callback and result as :func:`lbfgs`; far more iterations.

    >>> res = steepest_descent(lambda x: (float((x - 3) @ (x - 3)), 2 * (x - 3)), np.zeros(4))
    >>> res.x.round(6).tolist(), res.success
    ([3.0, 3.0, 3.0, 3.0], True)
    """
    return _descend(fun_and_grad, x0, 0, gtol, ftol, max_iter, callback)


def _descend(fun_and_grad, x0, memory, gtol, ftol, max_iter, callback):
    """The line-search loop of L-BFGS (memory > 0) and steepest descent (memory = 0)."""
    x = np.array(x0, dtype=np.float64).ravel()
    value, g = fun_and_grad(x)
    nfev = 1
    if not np.isfinite(value):
        raise ValueError("fun: non-finite objective at the starting point x0")
    pairs = []
    history = [{"iteration": 0, "cost": float(value), "nfev": nfev, "step": 0.0}]
    status, nit, t = 0, 0, None
    for nit in range(1, max_iter + 1):
        if np.abs(g).max(initial=0.0) < gtol:
            status = 1
            break
        direction = -_two_loop(g, pairs)
        if g @ direction >= 0:  # not a descent direction (bad curvature pairs): restart
            pairs.clear()
            direction = -g
        if pairs:
            t = 1.0
        elif memory == 0 and t is not None:
            t *= 2.0  # steepest descent: try a longer step than last time
        else:
            t = min(1.0, 1.0 / max(np.abs(g).sum(), 1e-12))
        for _ in range(50):
            new_value, new_g = fun_and_grad(x + t * direction)
            nfev += 1
            if np.isfinite(new_value) and new_value <= value + 1e-4 * t * (g @ direction):
                break
            t *= 0.5
        else:
            status = -1
            break
        s, y = t * direction, new_g - g
        if memory and s @ y > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            pairs.append((s, y))
            if len(pairs) > memory:
                pairs.pop(0)
        fall = value - new_value
        x, value, g = x + s, new_value, new_g
        history.append(
            {"iteration": nit, "cost": float(value), "nfev": nfev, "step": float(np.linalg.norm(s))}
        )
        if fall <= ftol * max(abs(value), 1e-300):
            status = 2
            break
        if callback is not None and callback(nit, x, value):
            status = -2
            break
    message = _MESSAGES[status] if status else "maximum number of iterations reached"
    return LeastSquaresResult(
        x, float(value), np.array([]), None, g, nfev, nfev, nit, status, message, history
    )


def _two_loop(g, pairs):
    """H·g for the L-BFGS inverse-Hessian approximation built from (s, y) pairs."""
    q = g.copy()
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (y @ s)
        alphas.append(a)
        q -= a * y
    if pairs:
        s, y = pairs[-1]
        q *= (s @ y) / (y @ y)  # initial scaling γ = sᵀy / yᵀy
    for (s, y), a in zip(pairs, reversed(alphas), strict=True):
        b = (y @ q) / (y @ s)
        q += (a - b) * s
    return q
