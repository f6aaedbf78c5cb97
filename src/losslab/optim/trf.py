r"""Least squares within bounds ``lb ≤ x ≤ ub``: the trust-region reflective method.

Coleman and Li's idea, as SciPy's ``least_squares(method="trf")`` implements it:
every iterate stays strictly inside the box; each variable is scaled by
:math:`\sqrt{v_j}`, its distance to the bound the gradient points at (1 when that
side is free), so a variable near its bound takes short steps; the trust-region
subproblem in these variables is the Levenberg-Marquardt one (damping λ found
for the radius Δ from an SVD, Moré's iteration); and when the step leaves the
box the method compares three candidates on the quadratic model — the step cut
at the bound, its reflection off the bound, and the steepest-descent step
within the box — and takes the best. Δ grows (×2) after a good step that reached
the region's edge and shrinks to ¼‖step‖ after a poor one; the tests are
SciPy's: ftol on the relative fall of the cost, xtol on the step, gtol on the
scaled gradient ‖v·g‖∞.

References: T. F. Coleman and Y. Li, "An interior trust region approach for
nonlinear minimization subject to bounds", SIAM J. Optim. 6 (1996);
M. A. Branch, T. F. Coleman and Y. Li, SIAM J. Sci. Comput. 21 (1999);
``scipy.optimize.least_squares`` (the oracle of the tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .residuals import ResidualProblem, Tolerances, check_bounds, start_problem, tolerances
from .result import LeastSquaresResult

EPS = np.finfo(float).eps


def trust_region_reflective(
    residual: Callable[..., np.ndarray],
    x0: ArrayLike,
    *,
    bounds: tuple[ArrayLike, ArrayLike],
    jac: Callable[..., np.ndarray] | None = None,
    args: tuple[Any, ...] = (),
    loss: str = "linear",
    f_scale: float = 1.0,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
    max_nfev: int | None = None,
    x_scale: float | ArrayLike = 1.0,
    diff_step: float | None = None,
) -> LeastSquaresResult:
    r"""Minimise :math:`\tfrac12\sum\rho(r_i^2)` subject to ``lb ≤ x ≤ ub`` by the trust-region reflective method.

    Each iteration minimises the quadratic model in a trust region in variables
    scaled by their distance to the bound the gradient heads for (Coleman-Li), and
    a step that would leave the box is cut at the bound, reflected off it, or
    replaced by a scaled steepest-descent step, whichever the model prefers.
    :func:`~losslab.optim.least_squares.levenberg_marquardt` calls this for finite
    ``bounds`` or a robust loss. A starting point on a bound is moved just inside
    (by 1e-10 relative).

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
    bounds : (lb, ub)
        Numbers or arrays of length n, ±inf for a free side; lb < ub.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}, default "linear"
        The robust loss ρ: the cost is :math:`\tfrac12 \sum_i f^2 \rho(r_i^2 / f^2)`
        with f = ``f_scale``.
    f_scale : float, default 1.0
        The residual scale f of the robust loss.
    ftol, xtol, gtol : float, default 1e-8
        SciPy's ``trf`` tests: the relative fall of the cost, the relative step, and
        the scaled gradient's largest entry.
    max_nfev : int, optional
        Evaluations of the residual allowed (default 100·n).
    x_scale : float, array of shape (n,) or "jac", default 1.0
        The scale of each variable; "jac" uses the Jacobian's column norms as the
        unbounded method does. 1 is SciPy's default for ``trf``.
    diff_step : float, optional
        The relative difference step (default √eps).

    Returns
    -------
    LeastSquaresResult
        As :func:`~losslab.optim.least_squares.levenberg_marquardt`'s; ``x`` lies
        strictly inside the box.

    Examples
    --------
    >>> t = np.linspace(0, 1, 10)
    >>> res = trust_region_reflective(lambda p: p[0] * t + p[1] - (2 * t + 1), [0.0, 0.0],
    ...                               bounds=([-np.inf, -np.inf], [np.inf, 0.5]))
    >>> res.x.round(4).tolist(), res.success  # the intercept stops at its bound
    ([2.7105, 0.5], True)

    References
    ----------
    Branch, Coleman & Li, "A Subspace, Interior, and Conjugate Gradient Method for
    Large-Scale Bound-Constrained Minimization Problems", SIAM J. Sci. Comput. 21
    (1999); ``scipy.optimize.least_squares(method="trf")``.
    """
    x = np.array(x0, dtype=np.float64).ravel()
    box = check_bounds(bounds, x) if np.all(np.isfinite(x)) else None
    if box is None:
        n = x.size
        box = (np.full(n, -np.inf), np.full(n, np.inf))
    problem, x, r = start_problem(
        residual, strictly_feasible(x, *box), jac=jac, args=args, loss=loss,
        f_scale=f_scale, diff_step=diff_step,
    )  # fmt: skip
    tol = tolerances(ftol, xtol, gtol, max_nfev, x.size, jac is not None)
    return trust_region_reflective_loop(problem, x, r, box, tol, x_scale)


def trust_region_reflective_loop(
    problem: ResidualProblem,
    x: np.ndarray,
    r: np.ndarray,
    box: Any,
    tol: Tolerances,
    x_scale: float | ArrayLike | str,
) -> LeastSquaresResult:
    """The iterations: one Jacobian and its SVD in scaled variables, then steps until the cost falls.

    The loop of :func:`trust_region_reflective`, also run by
    :func:`~losslab.optim.least_squares.levenberg_marquardt` for bounds or a
    robust loss, once the arguments are checked.

    Parameters
    ----------
    problem : ResidualProblem
        The residuals, Jacobian and robust loss, from :func:`start_problem`.
    x : ndarray of shape (n,)
        A strictly feasible start.
    r : ndarray of shape (m,)
        The residuals at x.
    box : (lb, ub)
        float arrays of shape (n,), ±inf for a free side.
    tol : Tolerances
        The stopping tests and the budget (:func:`tolerances`).
    x_scale : float, ndarray of shape (n,) or "jac"
        The scale of each variable, as in :func:`trust_region_reflective`.

    Returns
    -------
    LeastSquaresResult
        The solution and its evaluation counts; ``history`` has one row per
        accepted step.

    Examples
    --------
    >>> from losslab.optim.residuals import start_problem, tolerances
    >>> box = (np.array([-np.inf]), np.array([2.0]))
    >>> problem, x, r = start_problem(lambda x: x - 3.0, [0.0])
    >>> tol = tolerances(1e-8, 1e-8, 1e-8, None, 1, analytic=False)
    >>> res = trust_region_reflective_loop(problem, x, r, box, tol, 1.0)
    >>> res.x.round(4).tolist(), res.success  # stops just inside the bound
    ([2.0], True)

    References
    ----------
    T. F. Coleman and Y. Li, "An interior trust region approach for nonlinear
    minimization subject to bounds", SIAM J. Optim. 6 (1996);
    ``scipy.optimize._lsq.trf.trf_bounds``.
    """
    lb, ub = box
    problem.box = box
    cost = problem.cost(r)
    J, rs, Js, g = problem.linearize(x, r)
    scale_inv = _scale_inverse(x_scale, Js, None, x.size)
    v, dv = _coleman_li(x, g, lb, ub)
    v[dv != 0] *= scale_inv[dv != 0]
    radius = float(np.linalg.norm(x * scale_inv / np.sqrt(v))) or 1.0
    history = [problem.history_row(0, cost, 0.0, 0.0)]
    alpha, status, nit = 0.0, None, 0
    while True:
        v, dv = _coleman_li(x, g, lb, ub)
        g_norm = float(np.max(np.abs(g * v), initial=0.0))
        if g_norm < tol.gtol:
            status = 1
        if status is not None or problem.nfev >= tol.max_nfev:
            break
        model = _ScaledModel(Js, rs, g, v, dv, scale_inv)
        theta = max(0.995, 1 - g_norm)  # how far short of a bound a step stops
        outcome = _steps(problem, x, cost, model, box, tol, radius, alpha, theta)
        x_new, r_new, cost_new, status, radius, alpha, trials = outcome
        nit += trials
        if cost_new < cost:
            history.append(problem.history_row(nit, cost_new, np.linalg.norm(x_new - x), alpha))
            x, r, cost = x_new, r_new, cost_new
            J, rs, Js, g = problem.linearize(x, r)
            if isinstance(x_scale, str):
                scale_inv = _scale_inverse(x_scale, Js, scale_inv, x.size)
    return problem.result(x, cost, r, J, g, nit, 0 if status is None else status, history)


def _steps(problem, x, cost, model, box, tol, radius, alpha, theta):
    """Trial steps from one model until the cost falls, a test stops the run or the budget ends."""
    lb, ub = box
    x_new, r_new, cost_new, status, trials = x, None, np.inf, None, 0
    while problem.nfev < tol.max_nfev:
        p_h, alpha = _trust_region_step(model, radius, alpha)
        step, step_h, predicted = _select_step(x, model, p_h, radius, box, theta)
        x_new = strictly_feasible(x + step, lb, ub, rstep=0.0)
        r_new, cost_new = problem.evaluate(x_new)
        trials += 1
        step_h_norm = float(np.linalg.norm(step_h))
        if not np.isfinite(cost_new):
            radius = 0.25 * step_h_norm
            continue
        fall = cost - cost_new
        new_radius, ratio = _update_radius(radius, fall, predicted, step_h_norm)
        status = _termination(fall, cost, step, x, ratio, tol)
        if status is not None:
            break
        alpha *= radius / new_radius
        radius = new_radius
        if fall > 0:
            break
    return x_new, r_new, cost_new, status, radius, alpha, trials


class _ScaledModel:
    r"""The quadratic model in Coleman-Li's scaled variables :math:`\hat x = x / d`.

    ``d = √v·scale``, ``J_h = J·d``, ``g_h = d·g`` and the diagonal term
    ``diag_h = g·dv·scale`` (the curvature the scaling adds); the SVD of
    :math:`[J_h;\ \sqrt{diag_h}]` solves every trust-region subproblem of this iteration.
    """

    def __init__(self, Js, rs, g, v, dv, scale_inv):
        n = g.size
        v = v.copy()
        v[dv != 0] *= scale_inv[dv != 0]
        scale = 1 / scale_inv
        self.d = np.sqrt(v) * scale
        self.diag_h = g * dv * scale
        self.g_h = self.d * g
        self.J_h = Js * self.d
        self.m = Js.shape[0]
        U, self.s, Vt = np.linalg.svd(
            np.vstack([self.J_h, np.diag(np.sqrt(self.diag_h))]), full_matrices=False
        )
        self.V = Vt.T
        self.uf = U.T @ np.concatenate([rs, np.zeros(n)])

    def value(self, s_h):
        """The model's change of the cost along s_h: gᵀs + ½(‖J s‖² + sᵀ diag s)."""
        Js = self.J_h @ s_h
        return 0.5 * (Js @ Js + s_h @ (self.diag_h * s_h)) + self.g_h @ s_h

    def along(self, direction, start=None):
        """(a, b, c) of the model a·t² + b·t + c at start + t·direction."""
        Jd = self.J_h @ direction
        a = 0.5 * (Jd @ Jd + direction @ (self.diag_h * direction))
        b = self.g_h @ direction
        if start is None:
            return a, b, 0.0
        Js = self.J_h @ start
        b += Js @ Jd + start @ (self.diag_h * direction)
        return a, b, self.value(start)


def _trust_region_step(model, radius, alpha):
    """The minimiser of the model within ‖p‖ ≤ radius, and its damping α (Moré's iteration, SVD form)."""
    s, uf, V = model.s, model.uf, model.V
    suf = s * uf
    n = s.size
    full_rank = model.m >= n and s[-1] > EPS * model.m * s[0]
    if full_rank:
        p = -V @ (uf / s)
        if np.linalg.norm(p) <= radius:
            return p, 0.0
    upper = np.linalg.norm(suf) / radius
    lower = 0.0
    if full_rank:
        phi, dphi = _secular(0.0, suf, s, radius)
        lower = -phi / dphi
    if not full_rank and alpha == 0:
        alpha = max(0.001 * upper, np.sqrt(lower * upper))
    for _ in range(10):
        if alpha < lower or alpha > upper:
            alpha = max(0.001 * upper, np.sqrt(lower * upper))
        phi, dphi = _secular(alpha, suf, s, radius)
        if phi < 0:
            upper = alpha
        ratio = phi / dphi
        lower = max(lower, alpha - ratio)
        alpha -= (phi + radius) * ratio / radius
        if abs(phi) < 0.01 * radius:
            break
    p = -V @ (suf / (s**2 + alpha))
    return p * (radius / np.linalg.norm(p)), alpha  # exactly on the edge of the region


def _secular(alpha, suf, s, radius):
    """‖p(α)‖ - radius and its derivative in α."""
    denom = s**2 + alpha
    p_norm = np.linalg.norm(suf / denom)
    return p_norm - radius, -np.sum(suf**2 / denom**3) / p_norm


def _select_step(x, model, p_h, radius, box, theta):
    """The step taken: the trust-region step if it stays inside, else the best of that step cut
    short of the bound, its reflection off the bound and the steepest-descent step in the box.

    Returns (step, scaled step, predicted fall of the cost).
    """
    lb, ub = box
    d = model.d
    p = d * p_h
    if np.all((x + p >= lb) & (x + p <= ub)):
        return p, p_h, -model.value(p_h)
    to_bound, hits = _step_to_bound(x, p, lb, ub)
    r_h = p_h.copy()
    r_h[hits != 0] *= -1
    p_h = p_h * to_bound
    reflected, r_value = _reflection(x + d * p_h, model, p_h, r_h, to_bound, radius, box, theta)
    p_h = p_h * theta
    p_value = model.value(p_h)
    ag_h = -model.g_h
    ag_bound, _ = _step_to_bound(x, d * ag_h, lb, ub)
    to_tr = radius / np.linalg.norm(ag_h)
    stride = theta * ag_bound if ag_bound < to_tr else to_tr
    stride, ag_value = _minimize_1d(model.along(ag_h), 0.0, stride)
    ag_h = ag_h * stride
    if p_value < r_value and p_value < ag_value:
        return d * p_h, p_h, -p_value
    if r_value < p_value and r_value < ag_value:
        return d * reflected, reflected, -r_value
    return d * ag_h, ag_h, -ag_value


def _reflection(x_on_bound, model, p_h, r_h, p_stride, radius, box, theta):
    """The best point on the reflected ray from the bound: (scaled step, model value); inf if none."""
    to_tr = _ray_exit(p_h, r_h, radius)
    to_bound, _ = _step_to_bound(x_on_bound, model.d * r_h, *box)
    stride = min(to_bound, to_tr)
    if stride <= 0:
        return None, np.inf
    low = (1 - theta) * p_stride / stride
    high = theta * to_bound if stride == to_bound else to_tr
    if low > high:
        return None, np.inf
    t, value = _minimize_1d(model.along(r_h, start=p_h), low, high)
    return p_h + t * r_h, value


def _ray_exit(start, direction, radius):
    """The t ≥ 0 where start + t·direction leaves the ball ‖·‖ ≤ radius (start inside)."""
    a = direction @ direction
    b = start @ direction
    c = start @ start - radius**2
    root = np.sqrt(max(b * b - a * c, 0.0))
    q = -(b + np.copysign(root, b))
    return max(q / a, c / q) if q != 0 else np.sqrt(-c / a)


def _step_to_bound(x, s, lb, ub):
    """The largest t with x + t·s in the box, and which variables' bounds stop it (±1, else 0)."""
    moving = s != 0
    steps = np.full(x.size, np.inf)
    with np.errstate(over="ignore", divide="ignore"):
        steps[moving] = np.maximum((lb - x)[moving] / s[moving], (ub - x)[moving] / s[moving])
    t = float(steps.min())
    return t, (steps == t) * np.sign(s).astype(int)


def _minimize_1d(quadratic, low, high):
    """The minimiser of a·t² + b·t + c over [low, high] and the value there; quadratic = (a, b, c)."""
    a, b, c = quadratic
    candidates = [low, high]
    if a != 0 and low < -0.5 * b / a < high:
        candidates.append(-0.5 * b / a)
    t = np.asarray(candidates)
    values = t * (a * t + b) + c
    k = int(np.argmin(values))
    return float(t[k]), float(values[k])


def _update_radius(radius, fall, predicted, step_norm):
    """Δ ← ¼‖step‖ after a poor step (ratio < ¼), ×2 after a good one that reached the edge."""
    if predicted > 0:
        ratio = fall / predicted
    elif predicted == fall == 0:
        ratio = 1.0
    else:
        ratio = 0.0
    if ratio < 0.25:
        return 0.25 * step_norm, ratio
    if ratio > 0.75 and step_norm > 0.95 * radius:
        return 2.0 * radius, ratio
    return radius, ratio


def _termination(fall, cost, step, x, ratio, tol):
    """SciPy's tests after a step: 2 ftol, 3 xtol, 4 both, else None."""
    ftol_met = fall < tol.ftol * cost and ratio > 0.25
    xtol_met = np.linalg.norm(step) < tol.xtol * (tol.xtol + np.linalg.norm(x))
    if ftol_met or xtol_met:
        return 4 if ftol_met and xtol_met else 2 if ftol_met else 3
    return None


def _coleman_li(x, g, lb, ub):
    """Coleman-Li's v (distance to the bound the gradient points at, 1 if none) and dv = ∂v/∂x."""
    v, dv = np.ones_like(x), np.zeros_like(x)
    upper = (g < 0) & np.isfinite(ub)
    v[upper], dv[upper] = ub[upper] - x[upper], -1.0
    lower = (g > 0) & np.isfinite(lb)
    v[lower], dv[lower] = x[lower] - lb[lower], 1.0
    return v, dv


def _scale_inverse(x_scale, J, previous, n):
    """1 / x_scale; for "jac", the running maximum of J's column norms (zero columns: 1)."""
    if isinstance(x_scale, str):
        if x_scale != "jac":
            raise ValueError(f"x_scale: expected 'jac', a number or an array, got {x_scale!r}")
        norms = np.linalg.norm(J, axis=0)
        return np.where(norms == 0, 1.0, norms) if previous is None else np.maximum(norms, previous)
    scale = np.broadcast_to(np.asarray(x_scale, dtype=np.float64), (n,))
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError("x_scale: expected positive finite numbers")
    return 1 / scale


def strictly_feasible(
    x: np.ndarray, lb: np.ndarray, ub: np.ndarray, rstep: float = 1e-10
) -> np.ndarray:
    """x moved strictly inside the box: off a bound by rstep·max(1, |bound|), or the next float.

    As SciPy's ``make_strictly_feasible``: the interior method needs every
    iterate off the bounds.

    Parameters
    ----------
    x, lb, ub : ndarray of shape (n,)
        The point and the bounds (±inf for a free side).
    rstep : float, default 1e-10
        The relative distance from a bound; 0 moves to the next float.

    Returns
    -------
    ndarray of shape (n,)
        A copy of x, strictly inside.

    Examples
    --------
    >>> strictly_feasible(np.array([0.0, 0.5]), np.zeros(2), np.ones(2)).tolist()
    [1e-10, 0.5]

    References
    ----------
    ``scipy.optimize._lsq.common.make_strictly_feasible``.
    """
    x = x.copy()
    lo_finite, hi_finite = np.isfinite(lb), np.isfinite(ub)
    lo_gap = rstep * np.maximum(1, np.abs(np.where(lo_finite, lb, 0.0)))
    hi_gap = rstep * np.maximum(1, np.abs(np.where(hi_finite, ub, 0.0)))
    near_ub = hi_finite & (ub - x <= np.minimum(x - lb, hi_gap))
    near_lb = lo_finite & (x - lb <= np.minimum(ub - x, lo_gap)) & ~near_ub  # SciPy: upper wins
    if rstep == 0:
        x[near_lb] = np.nextafter(lb[near_lb], ub[near_lb])
        x[near_ub] = np.nextafter(ub[near_ub], lb[near_ub])
    else:
        x[near_lb] = lb[near_lb] + lo_gap[near_lb]
        x[near_ub] = ub[near_ub] - hi_gap[near_ub]
    tight = (x < lb) | (x > ub)
    x[tight] = 0.5 * (lb[tight] + ub[tight])
    return x
