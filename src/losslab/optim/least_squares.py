r"""Nonlinear least squares: when the parameter space is small, second-order methods
beat gradient descent (seed 002).

Both solvers minimise and report ``cost`` = :math:`\tfrac12\sum_i \rho(r_i^2)`
(:math:`\tfrac12\lVert r\rVert^2` for the plain loss) and return a
:class:`~losslab.optim.result.LeastSquaresResult` with ``x``, ``cost``, ``fun``
(residuals), ``jac``, ``grad``, ``nfev``, ``njev``, ``nit``, ``success``, ``status``,
``message`` and ``history`` (one row per iteration: cost, nfev, step norm, damping).

- :func:`levenberg_marquardt`: Marquardt's diagonal scaling, Nielsen's adaptive
  damping, stopping on ftol / xtol / gtol and ``max_nfev``;
- :func:`gauss_newton`: the undamped Gauss-Newton step with a backtracking line
  search.

Robust losses (``loss="huber" | "soft_l1" | "cauchy" | "arctan"``) re-weight
residuals like SciPy's ``least_squares`` (see :mod:`losslab.optim.residuals`):
outliers stop dominating the fit. Residuals that become non-finite during a step
make the step shrink (the damping grows) instead of crashing; non-finite residuals
at the start are an error. Newton's method is in :mod:`losslab.optim.newton`,
L-BFGS in :mod:`losslab.optim.quasi_newton`.
Reference: ``scipy.optimize.least_squares`` (used as the oracle in the tests only).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .linalg import solve
from .residuals import start_problem

EPS = np.finfo(float).eps


class _Tolerances(NamedTuple):
    ftol: float
    xtol: float
    gtol: float
    max_nfev: int


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
    problem, x, r = start_problem(
        residual, x0, jac=jac, args=args, loss=loss, f_scale=f_scale, diff_step=diff_step
    )
    tol = _Tolerances(ftol, xtol, gtol, 100 * x.size if max_nfev is None else max_nfev)
    return _levenberg_marquardt_loop(problem, x, r, damping, tol)


def _levenberg_marquardt_loop(problem, x, r, damping, tol):
    """The iterations of :func:`levenberg_marquardt`: damped step, gain ratio, accept or reject."""
    cost = problem.cost(r)
    J, rs, Js, g = problem.linearize(x, r)
    D = np.maximum(np.diag(Js.T @ Js), EPS)
    lam = damping  # relative to D, so the damping of every parameter starts at the same scale
    nu = 2.0
    history = [problem.history_row(0, cost, 0.0, lam)]
    status, nit = 0, 0
    while problem.nfev < tol.max_nfev:
        if _gradient_small(g, Js, rs, tol.gtol, robust=problem.loss != "linear"):
            status = 1
            break
        A = Js.T @ Js
        D = _marquardt_scaling(D, A)
        step = solve(A + lam * np.diag(D), -g)
        r_new, cost_new = problem.evaluate(x + step)
        gain = _gain_ratio(cost, cost_new, g, step, A)
        nit += 1
        if gain > 0:  # accept
            fall = cost - cost_new
            x, r, cost = x + step, r_new, cost_new
            J, rs, Js, g = problem.linearize(x, r)
            lam *= max(1 / 3, 1 - (2 * gain - 1) ** 3)
            nu = 2.0
            history.append(problem.history_row(nit, cost, np.linalg.norm(step), lam))
            status = _converged(fall, x, cost, Js, g, tol)
        else:  # reject: more damping, a shorter and more gradient-like step
            lam *= nu
            nu *= 2
            status = _rejected_step_status(step, x, lam, tol.xtol)
        if status:
            break
    return problem.result(x, cost, r, J, g, nit, status, history)


def _marquardt_scaling(D, A):
    """Marquardt's D: the running maximum of diag(JᵀJ), so D never shrinks between steps."""
    return np.maximum(D, np.diag(A))


def _gain_ratio(cost, cost_new, g, step, A):
    """Actual over predicted fall of the cost (the quadratic model gᵀδ + ½δᵀAδ); -1 if none predicted."""
    predicted = -(g @ step + 0.5 * step @ A @ step)
    return (cost - cost_new) / predicted if predicted > 0 else -1.0


def _rejected_step_status(step, x, lam, xtol):
    """After a rejected step: 3 if even a tiny step cannot lower the cost, -1 if λ blew up, else 0."""
    if np.linalg.norm(step) <= xtol * (xtol + np.linalg.norm(x)):
        return 3  # MINPACK's xtol: even tiny steps cannot lower the cost
    if not np.isfinite(lam) or lam > 1e300:
        return -1
    return 0


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
    problem, x, r = start_problem(
        residual, x0, jac=jac, args=args, loss=loss, f_scale=f_scale, diff_step=diff_step
    )
    tol = _Tolerances(ftol, xtol, gtol, 100 * x.size if max_nfev is None else max_nfev)
    return _gauss_newton_loop(problem, x, r, tol)


def _gauss_newton_loop(problem, x, r, tol):
    """The iterations of :func:`gauss_newton`: Gauss-Newton step, then halve it until the cost falls."""
    cost = problem.cost(r)
    J, rs, Js, g = problem.linearize(x, r)
    history = [problem.history_row(0, cost, 0.0, 0.0)]
    status, nit = 0, 0
    while problem.nfev < tol.max_nfev:
        if _gradient_small(g, Js, rs, tol.gtol, robust=problem.loss != "linear"):
            status = 1
            break
        step = solve(Js.T @ Js, -g)
        t, r_new, cost_new = _backtrack(problem, x, step, cost, tol.max_nfev)
        nit += 1
        if not cost_new < cost:  # the line search found no decrease: a stall, not convergence
            status = -1
            break
        taken = t * step
        fall = cost - cost_new
        x, r, cost = x + taken, r_new, cost_new
        J, rs, Js, g = problem.linearize(x, r)
        history.append(problem.history_row(nit, cost, np.linalg.norm(taken), t))
        status = _converged(fall, x, cost, Js, g, tol)
        if status:
            break
    return problem.result(x, cost, r, J, g, nit, status, history)


def _backtrack(problem, x, step, cost, max_nfev):
    """Halve t from 1 until the cost at x + t·step falls below ``cost`` (or t < 1e-10, or no budget)."""
    t, r_new, cost_new = 1.0, None, np.inf
    while problem.nfev < max_nfev:
        r_new, cost_new = problem.evaluate(x + t * step)
        if cost_new < cost:
            break
        t *= 0.5
        if t < 1e-10:
            break
    return t, r_new, cost_new


def _converged(fall, x, cost, Js, g, tol):
    """After an accepted step: 2 (ftol), 3 (xtol) or 0, judged by the undamped Gauss-Newton step.

    Never by a step that heavy damping or the line search made short.
    """
    gn_step = solve(Js.T @ Js, -g)
    if _small_fall(fall, cost, g, gn_step, tol.ftol):
        return 2
    if np.linalg.norm(gn_step) <= tol.xtol * (tol.xtol + np.linalg.norm(x)):
        return 3
    return 0


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
