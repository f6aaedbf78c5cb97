r"""Nonlinear least squares: when the parameter space is small, second-order methods
beat gradient descent (seed 002).

Both solvers minimise and report ``cost`` = :math:`\tfrac12\sum_i \rho(r_i^2)`
(:math:`\tfrac12\lVert r\rVert^2` for the plain loss) and return a
:class:`~losslab.optim.result.LeastSquaresResult` with ``x``, ``cost``, ``fun``
(residuals), ``jac``, ``grad``, ``nfev``, ``njev``, ``nit``, ``success``, ``status``,
``message`` and ``history`` (one row per accepted step: cost, nfev, njev, step
norm, damping).

- :func:`levenberg_marquardt`: MINPACK's ``lmder``/``lmdif`` (Moré 1978): a step
  bound in variables scaled by the Jacobian's column norms, the damping found
  for that bound (:mod:`losslab.optim.lm_step`), MINPACK's ftol / xtol / gtol
  tests; with ``bounds`` the trust-region reflective method of
  :mod:`losslab.optim.trf`;
- :func:`gauss_newton`: the undamped Gauss-Newton step with a backtracking line
  search; with ``bounds``, projected (variables held at a bound the gradient
  pushes against, the step clipped into the box).

Robust losses (``loss="huber" | "soft_l1" | "cauchy" | "arctan"``) re-weight
residuals like SciPy's ``least_squares`` (see :mod:`losslab.optim.residuals`):
outliers stop dominating the fit. Residuals that become non-finite during a step
make the step shrink instead of crashing; non-finite residuals at the start are
an error. Newton's method is in :mod:`losslab.optim.newton`, L-BFGS in
:mod:`losslab.optim.quasi_newton`.
Reference: ``scipy.optimize.least_squares`` (used as the oracle in the tests only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .linalg import solve
from .lm_step import lm_parameter, qr_pivoted
from .residuals import check_bounds, start_problem, tolerances
from .result import LeastSquaresResult
from .trf import strictly_feasible, trust_region_reflective_loop

EPS = np.finfo(float).eps


def levenberg_marquardt(
    residual: Callable[..., np.ndarray],
    x0: ArrayLike,
    *,
    jac: Callable[..., np.ndarray] | None = None,
    args: tuple[Any, ...] = (),
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
    max_nfev: int | None = None,
    factor: float = 100.0,
    diff_step: float | None = None,
) -> LeastSquaresResult:
    r"""Levenberg-Marquardt as MINPACK's ``lmder`` (``lmdif`` with differences) does it.

    Each step minimises the linear model :math:`\lVert J\delta + r\rVert` within
    :math:`\lVert D\delta\rVert \le \Delta`, i.e. solves
    :math:`(J^TJ + \lambda D^2)\,\delta = -J^Tr` for the λ that puts the step on
    the bound (λ = 0 when the Gauss-Newton step fits). ``D`` holds the running
    maximum of the Jacobian's column norms, which makes the method invariant to
    the scale of each parameter. Δ starts at ``factor·‖D x0‖`` and follows the
    ratio ρ of actual to predicted fall of the cost: ×½ (down to ×⅒) after a
    poor step, set to 2‖Dδ‖ after a good one; a step is taken when ρ ≥ 1e-4.

    Parameters
    ----------
    residual : callable
        ``residual(x, *args) -> array of shape (m,)``; the cost is ½‖r‖².
    x0 : array of shape (n,)
        The starting point.
    jac : callable, optional
        ``jac(x, *args) -> array of shape (m, n)``. When None, forward differences
        with SciPy's '2-point' step √eps·max(1, |x_j|). SciPy's own ``lm`` takes the
        same step since 1.16 (it dropped ``lmdif`` for ``lmder`` fed with these
        differences); ``lmdif``'s √eps·|x_j| rounds badly near x_j = 0 and cost 1.5×
        the evaluations on the Moré-Garbow-Hillstrom set.
    args : tuple, default ()
        Extra arguments for ``residual`` and ``jac``.
    bounds : (lb, ub), optional
        Numbers or arrays of length n, ±inf for a free side. With finite bounds or a
        robust ``loss`` (MINPACK has neither, SciPy's ``lm`` takes neither) the step is
        managed as in SciPy's trust-region reflective method,
        :func:`losslab.optim.trf.trust_region_reflective`, with the same Jacobian
        scaling (``x_scale="jac"``); its radius and tests are SciPy's.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}, default "linear"
        The robust loss ρ of the squared residuals (:func:`robust_rho`).
    f_scale : float, default 1.0
        The residual size where a robust loss starts to bend.
    ftol, xtol, gtol : float, default 1e-8
        MINPACK's tests: stop when both the actual and the predicted relative fall of
        the cost are at most ``ftol``; when Δ ≤ ``xtol·‖D x‖``; when every column of J
        is nearly orthogonal to r (cosine at most ``gtol``; ``‖Jᵀr‖∞ ≤ gtol`` for a
        robust loss).
    max_nfev : int, optional
        Evaluations of the residual allowed; default 100·n, or 100·n·(n+1) with
        differences (which count, as in MINPACK's ``lmdif``).
    factor : float, default 100.0
        The first step bound is ``factor·‖D x0‖`` (``factor`` if that is 0).
    diff_step : float, optional
        The relative difference step (default √eps).

    Returns
    -------
    LeastSquaresResult
        ``x``, ``cost``, ``fun``, ``jac``, ``grad``, ``nfev``, ``njev``, ``nit``,
        ``status``, ``success``, ``message`` and ``history``. ``nfev`` counts every
        residual evaluation (the difference ones included), ``njev`` the Jacobians;
        ``jac`` and ``grad`` are those at the returned ``x`` (one more Jacobian,
        counted, when the last step was accepted). ``status``: 1 gtol, 2 ftol,
        3 xtol, 4 ftol and xtol, 0 ``max_nfev`` reached.

    Examples
    --------
    Fit y = a·exp(b·t) to exact data:

    >>> t = np.linspace(0, 1, 10)
    >>> res = levenberg_marquardt(lambda p: p[0] * np.exp(p[1] * t) - 2 * np.exp(-1.5 * t), [1.0, 0.0])
    >>> res.x.round(6).tolist(), res.success
    ([2.0, -1.5], True)

    References
    ----------
    Moré, "The Levenberg-Marquardt algorithm: Implementation and theory", in
    *Numerical Analysis*, Lecture Notes in Mathematics 630 (1978); Moré, Garbow &
    Hillstrom, *User Guide for MINPACK-1*, Argonne ANL-80-74 (1980);
    ``scipy.optimize.least_squares`` (the oracle of the tests).
    """
    x = np.array(x0, dtype=np.float64).ravel()
    box = check_bounds(bounds, x) if np.all(np.isfinite(x)) else None
    if box is not None:
        x = strictly_feasible(x, *box)
    problem, x, r = start_problem(
        residual, x, jac=jac, args=args, loss=loss, f_scale=f_scale, diff_step=diff_step
    )
    tol = tolerances(ftol, xtol, gtol, max_nfev, x.size, jac is not None)
    if box is not None or loss != "linear":
        box = box or (np.full(x.size, -np.inf), np.full(x.size, np.inf))
        return trust_region_reflective_loop(problem, x, r, box, tol, x_scale="jac")
    if not factor > 0:
        raise ValueError(f"factor: expected a positive number, got {factor}")
    return _levenberg_marquardt_loop(problem, x, r, tol, factor)


@dataclass
class _Region:
    """What MINPACK carries from step to step: the bound Δ, the scaling D, λ, ‖Dx‖."""

    delta: float
    diag: np.ndarray
    xnorm: float
    par: float = 0.0
    accepted: bool = False  # a step has been taken (MINPACK's iter > 1)


def _levenberg_marquardt_loop(problem, x, r, tol, factor):
    """MINPACK's outer loop: one Jacobian, its QR and the gtol test, then trial steps from it."""
    cost = problem.cost(r)
    history = [problem.history_row(0, cost, 0.0, 0.0)]
    region, status, nit = None, None, 0
    robust = problem.loss != "linear"
    while status is None:
        J, rs, Js, g = problem.linearize(x, r)
        jacobian_x = x
        R, perm, qtr, col_norms = qr_pivoted(*_at_least_square(Js, rs))
        if region is None:
            diag = np.where(col_norms == 0, 1.0, col_norms)
            xnorm = float(np.linalg.norm(diag * x))
            region = _Region(factor * xnorm or factor, diag, xnorm)
        gnorm = _scaled_gradient_norm(g, col_norms, rs, robust)
        if gnorm <= tol.gtol:
            status = 1
            break
        region.diag = np.maximum(region.diag, col_norms)
        x, r, cost, status, trials = _trial_steps(
            problem, (x, r, cost), (R, perm, qtr), region, tol, gnorm
        )
        nit += trials
        if x is not jacobian_x:
            history.append(
                problem.history_row(nit, cost, np.linalg.norm(x - jacobian_x), region.par)
            )
    if x is not jacobian_x:  # the result carries the Jacobian and gradient at the returned x
        J, rs, Js, g = problem.linearize(x, r)
    return problem.result(x, cost, r, J, g, nit, status, history)


def _trial_steps(problem, point, factors, region, tol, gnorm):
    """MINPACK's inner loop: steps from one Jacobian until one is taken or a test stops the run.

    Returns the point, residuals and cost after it, the stopping status (None to
    go on) and the number of steps tried.
    """
    (x, r, cost), (R, perm, qtr) = point, factors
    trials = 0
    while True:
        trials += 1
        region.par, step = lm_parameter(R, perm, region.diag, qtr, region.delta, region.par)
        pnorm = float(np.linalg.norm(region.diag * step))
        if not region.accepted:
            region.delta = min(region.delta, pnorm)
        r_new, cost_new = problem.evaluate(x + step)
        fits = float(np.sum((R @ step[perm]) ** 2)) / (2 * cost)
        damped = region.par * pnorm**2 / (2 * cost)
        actred = 1 - cost_new / cost if cost_new < 100 * cost else -1.0
        prered, dirder = fits + 2 * damped, -(fits + damped)
        ratio = actred / prered if prered != 0 else 0.0
        blew_up = cost_new >= 100 * cost and not _minpack_norm_is_nan(r_new)
        _update_bound(region, ratio, actred, dirder, pnorm, blew_up)
        if ratio >= 1e-4:
            x, r, cost = x + step, r_new, cost_new
            region.xnorm, region.accepted = float(np.linalg.norm(region.diag * x)), True
        status = _tolerance_status(actred, prered, ratio, region, tol, problem.nfev, gnorm)
        if status is not None or ratio >= 1e-4:
            return x, r, cost, status, trials


def _minpack_norm_is_nan(r):
    """Whether MINPACK's ``enorm`` of these residuals is NaN: a NaN, or two infinities (inf/inf).

    MINPACK then compares NaN with the old norm, every comparison is false, and a
    failed step shrinks Δ by ½·dirder/(dirder − ½) instead of tenfold. Doing the
    same keeps the path of SciPy's ``lm`` on far starts whose trial steps overflow
    (Gaussian, Chebyquad and Brown almost-linear from 100·x0 reach its minimum).
    """
    return bool(np.isnan(r).any() or np.count_nonzero(np.isinf(r)) >= 2)


def _update_bound(region, ratio, actred, dirder, pnorm, blew_up):
    """MINPACK's step-bound update: shrink Δ after a poor step (more λ), widen it after a good one."""
    if ratio <= 0.25:
        shrink = 0.5 if actred >= 0 else 0.5 * dirder / (dirder + 0.5 * actred)
        if blew_up or shrink < 0.1:  # the cost grew tenfold or more in norm (or went non-finite)
            shrink = 0.1
        region.delta = shrink * min(region.delta, pnorm / 0.1)
        region.par /= shrink
    elif region.par == 0 or ratio >= 0.75:
        region.delta = pnorm / 0.5
        region.par *= 0.5


def _tolerance_status(actred, prered, ratio, region, tol, nfev, gnorm):
    """MINPACK's tests after a trial step: 2 ftol, 3 xtol, 4 both, 0 out of evaluations, else None.

    The same tests with machine epsilon in place of a tolerance stop the run too
    (a tolerance below what float64 can resolve): as ftol, xtol, gtol.
    """
    ftol_met = abs(actred) <= tol.ftol and prered <= tol.ftol and ratio <= 2
    xtol_met = region.delta <= tol.xtol * region.xnorm
    if ftol_met or xtol_met:
        return 4 if ftol_met and xtol_met else 2 if ftol_met else 3
    status = 0 if nfev >= tol.max_nfev else None
    if abs(actred) <= EPS and prered <= EPS and ratio <= 2:
        status = 2
    if region.delta <= EPS * region.xnorm:
        status = 3
    if gnorm <= EPS:
        status = 1
    return status


def _at_least_square(J, r):
    """J and r with zero rows appended up to n rows: the QR needs m ≥ n; the cost is unchanged."""
    m, n = J.shape
    if m >= n:
        return J, r
    return np.vstack([J, np.zeros((n - m, n))]), np.concatenate([r, np.zeros(n - m)])


def _scaled_gradient_norm(g, col_norms, r, robust):
    """MINPACK's gtol measure: the largest cosine between r and a column of J (‖g‖∞ if robust)."""
    if robust:
        return float(np.abs(g).max(initial=0.0))
    r_norm = np.linalg.norm(r)
    if r_norm == 0:
        return 0.0
    used = col_norms > 0
    return float(np.max(np.abs(g[used]) / (col_norms[used] * r_norm), initial=0.0))


def gauss_newton(
    residual: Callable[..., np.ndarray],
    x0: ArrayLike,
    *,
    jac: Callable[..., np.ndarray] | None = None,
    args: tuple[Any, ...] = (),
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
    max_nfev: int | None = None,
    diff_step: float | None = None,
) -> LeastSquaresResult:
    r"""Gauss-Newton: the step solves :math:`J^TJ\,\delta = -J^Tr`, then a backtracking line search.

    Fast near a minimum with small residuals; the line search (halving the step
    until the cost falls, also when residuals turn non-finite) keeps it from
    diverging far from one. With ``bounds=(lb, ub)`` it is projected: a variable
    at a bound whose gradient pushes outwards is held there, the others take the
    Gauss-Newton step, and each trial point is clipped into the box.

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
    bounds : (lb, ub), optional
        Numbers or arrays of length n, ±inf for a free side.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}, default "linear"
        The robust loss of the squared residuals (the residuals and the Jacobian
        are re-weighted by it, as SciPy does).
    f_scale : float, default 1.0
        The residual size where a robust loss starts to bend.
    ftol, xtol, gtol, max_nfev, diff_step
        As for :func:`levenberg_marquardt`.

    Returns
    -------
    LeastSquaresResult
        As :func:`levenberg_marquardt`'s.

    Examples
    --------
    >>> t = np.linspace(0, 1, 10)
    >>> res = gauss_newton(lambda p: p[0] * np.exp(p[1] * t) - 2 * np.exp(-1.5 * t), [1.0, 0.0])
    >>> res.x.round(6).tolist(), res.success
    ([2.0, -1.5], True)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), section 10.3;
    Björck, *Numerical Methods for Least Squares Problems* (1996), chapter 9.
    """
    x = np.array(x0, dtype=np.float64).ravel()
    box = check_bounds(bounds, x) if np.all(np.isfinite(x)) else None
    problem, x, r = start_problem(
        residual, x, jac=jac, args=args, loss=loss, f_scale=f_scale, diff_step=diff_step
    )
    if box is not None:
        problem.box = box
    tol = tolerances(ftol, xtol, gtol, max_nfev, x.size, jac is not None)
    return _gauss_newton_loop(problem, x, r, tol, box)


def _gauss_newton_loop(problem, x, r, tol, box):
    """The iterations of :func:`gauss_newton`: Gauss-Newton step, then halve it until the cost falls."""
    cost = problem.cost(r)
    J, rs, Js, g = problem.linearize(x, r)
    history = [problem.history_row(0, cost, 0.0, 0.0)]
    status, nit = 0, 0
    robust = problem.loss != "linear"
    while problem.nfev < tol.max_nfev:
        free = free_variables(x, g, box)
        if _gradient_small(g[free], Js[:, free], rs, tol.gtol, robust=robust):
            status = 1
            break
        step = np.zeros_like(x)
        step[free] = solve(Js[:, free].T @ Js[:, free], -g[free])
        x_new, r_new, cost_new = _backtrack(problem, x, step, cost, tol.max_nfev, box)
        nit += 1
        if not cost_new < cost:  # the line search found no decrease: a stall, not convergence
            status = -1
            break
        fall, taken = cost - cost_new, x_new - x
        x, r, cost = x_new, r_new, cost_new
        J, rs, Js, g = problem.linearize(x, r)
        history.append(problem.history_row(nit, cost, np.linalg.norm(taken), 0.0))
        free = free_variables(x, g, box)
        status = _converged(fall, x, cost, Js[:, free], g[free], tol)
        if status:
            break
    return problem.result(x, cost, r, J, g, nit, status, history)


def free_variables(x: np.ndarray, g: np.ndarray, box: Any) -> np.ndarray:
    """The variables a descent step may move: all but those at a bound the gradient pushes against.

    Parameters
    ----------
    x : ndarray of shape (n,)
        The point.
    g : ndarray of shape (n,)
        The cost's gradient at x.
    box : (lb, ub) or None
        The bounds; None for none.

    Returns
    -------
    bool ndarray of shape (n,)
        All True without bounds.

    Examples
    --------
    >>> box = (np.zeros(2), np.ones(2))
    >>> free_variables(np.array([0.0, 0.5]), np.array([1.0, 1.0]), box).tolist()
    [False, True]

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), section 16.7 (the gradient
    projection method).
    """
    if box is None:
        return np.ones(x.size, dtype=bool)
    lb, ub = box
    return ~(((x <= lb) & (g > 0)) | ((x >= ub) & (g < 0)))


def _backtrack(problem, x, step, cost, max_nfev, box):
    """Halve t from 1 until the cost at x + t·step (clipped into the box) falls below ``cost``.

    Gives up when t < 1e-10 or the budget is spent; returns the last point tried.
    """
    t, x_new, r_new, cost_new = 1.0, x, None, np.inf
    while problem.nfev < max_nfev:
        x_new = x + t * step if box is None else np.clip(x + t * step, *box)
        r_new, cost_new = problem.evaluate(x_new)
        if cost_new < cost:
            break
        t *= 0.5
        if t < 1e-10:
            break
    return x_new, r_new, cost_new


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
