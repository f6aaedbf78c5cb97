r"""Fit a model curve y ≈ f(x; p) to data: a friendly front end to :mod:`losslab.lsq`.

Seed 002 frames learning as parameter estimation: the stone's trajectory
:math:`f(t) = a t^2 + b t + c`. :func:`curve_fit` returns the parameters, their
covariance and standard errors (SciPy's ``curve_fit`` conventions: ``sigma``,
``absolute_sigma``, ``bounds``) and the fit history; ``MODELS`` holds named
families ("poly2", "poly3", "exp", "logistic", "sin") with analytic Jacobians
and data-driven starting points, which ``losslab fit-curve`` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .least_squares import free_variables, gauss_newton, levenberg_marquardt
from .newton import newton_least_squares
from .residuals import ResidualProblem, check_bounds, start_problem
from .result import LeastSquaresResult

# curve_fit's loss names -> the solvers' robust losses
LOSSES = {
    "squared_error": "linear",
    "huber": "huber",
    "soft_l1": "soft_l1",
    "cauchy": "cauchy",
    "arctan": "arctan",
}
METHODS = ("lm", "gn", "newton", "gd")


@dataclass
class CurveFitResult:
    """A curve fit: the parameters, their uncertainty and the solver's result.

    Attributes
    ----------
    params : ndarray of shape (n,)
        The fitted parameters.
    stderr : ndarray of shape (n,)
        Their standard errors, √diag(cov).
    cov : ndarray of shape (n, n)
        SciPy's ``pcov``: the pseudo-inverse of JᵀJ at the solution, times the
        reduced χ² ``s² = 2·cost / (m - n)`` unless ``absolute_sigma``.
    result : LeastSquaresResult
        The solver's result (``cost``, ``nfev``, ``message``, ...).
    names : tuple of str
        The parameters' names, for :meth:`summary`.
    history : list of dict
        The solver's iterations (``result.history``).

    Examples
    --------
    >>> t = np.linspace(0, 2, 20)
    >>> y = 3 * t + 1 + 0.1 * (-1.0) ** np.arange(20)  # a line, off by ±0.1
    >>> fit = curve_fit(lambda t, a, b: a * t + b, t, y, [0, 0], names=("a", "b"))
    >>> fit.summary()
    'a = 2.98571 ± 0.039, b = 1.01429 ± 0.045'

    References
    ----------
    ``scipy.optimize.curve_fit`` (``popt`` and ``pcov``).
    """

    params: np.ndarray
    stderr: np.ndarray  # sqrt(diag(cov)): standard errors of the parameters
    cov: np.ndarray  # (JᵀJ)⁺, times s² = 2·cost / (m - n) unless absolute_sigma
    result: LeastSquaresResult
    names: tuple = ()

    @property
    def history(self) -> list[dict[str, Any]]:
        """The solver's history: one row per iteration (``result.history``)."""
        return self.result.history

    def summary(self) -> str:
        """One line: each parameter with its standard error, ``"a = -4.9 ± 0.02, ..."``."""
        names = self.names or tuple(f"p{k}" for k in range(len(self.params)))
        return ", ".join(
            f"{n} = {p:.6g} ± {e:.2g}"
            for n, p, e in zip(names, self.params, self.stderr, strict=True)
        )


def curve_fit(
    f: Callable[..., np.ndarray],
    x: ArrayLike,
    y: ArrayLike,
    p0: ArrayLike,
    *,
    sigma: ArrayLike | None = None,
    absolute_sigma: bool = False,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    loss: str = "squared_error",
    method: str = "lm",
    jac: Callable[..., np.ndarray] | None = None,
    f_scale: float = 1.0,
    max_nfev: int | None = None,
    names: Sequence[str] = (),
) -> CurveFitResult:
    r"""Least-squares fit of ``f(x, *p)`` to ``y`` starting from ``p0``.

    Minimises :math:`\tfrac12\lVert L^{-1}(f(x, p) - y)\rVert^2` (robustly for a
    robust ``loss``) where :math:`LL^T` is the covariance of the errors of y:
    ``diag(sigma²)`` for a 1-D ``sigma``, ``sigma`` itself for a 2-D one.

    Parameters
    ----------
    f : callable
        ``f(x, *params) -> y_hat``, the model.
    x : array of shape (m,) or (m, ...)
        The independent variable, passed to ``f`` as it is.
    y : array of shape (m,)
        The data.
    p0 : array of shape (n,)
        Starting parameters.
    sigma : array of shape (m,) or (m, m), optional
        Standard deviations of y, or the covariance matrix of its errors.
    absolute_sigma : bool, default False
        If True, ``sigma`` is in y's units and ``cov = (JᵀJ)⁻¹``; if False (SciPy's
        default) only its relative sizes matter and the covariance is scaled by the
        reduced χ², ``s² = 2·cost / (m - n)``.
    bounds : (lb, ub), optional
        Numbers or arrays of length n, ±inf for a free side; p0 within them.
    loss : {"squared_error", "huber", "soft_l1", "cauchy", "arctan"}, default "squared_error"
        Plain least squares, or a robust loss whose residual scale is ``f_scale``.
    method : {"lm", "gn", "newton", "gd"}, default "lm"
        "lm" Levenberg-Marquardt (MINPACK's; trust-region reflective with bounds),
        "gn" Gauss-Newton (projected with bounds), "newton" Newton with the exact
        Hessian (no bounds) or "gd" gradient descent with a backtracking line
        search (projected with bounds; slow, for comparison).
    jac : callable, optional
        ``jac(x, *params) -> array of shape (m, n)``; differences when None.
    f_scale : float, default 1.0
        The residual size where a robust loss starts to bend.
    max_nfev : int, optional
        Evaluations of the residual allowed.
    names : tuple of str, optional
        The parameters' names, for the summary.

    Returns
    -------
    CurveFitResult
        ``params``, ``cov`` (SciPy's ``pcov``: the pseudo-inverse of JᵀJ at the
        solution, singular values below eps·max(m, n)·s_max dropped), ``stderr`` =
        √diag(cov), ``result`` (the solver's) and ``history``.

    Examples
    --------
    The stone's trajectory of seed 002, from exact heights:

    >>> t = np.linspace(0, 2, 20)
    >>> fit = curve_fit(lambda t, a, b, c: a * t**2 + b * t + c, t, -4.9 * t**2 + 20 * t + 1.5, [0, 0, 0])
    >>> fit.params.round(6).tolist()
    [-4.9, 20.0, 1.5]

    References
    ----------
    ``scipy.optimize.curve_fit`` (the same conventions for ``sigma``,
    ``absolute_sigma``, ``bounds`` and ``pcov``); Press, Teukolsky, Vetterling &
    Flannery, *Numerical Recipes*, 3rd ed. (2007), section 15.5.
    """
    x, y, p0 = _check_data(x, y, p0, loss, method)
    whiten = _whitener(sigma, len(y))

    def residual(p):
        return whiten(np.asarray(f(x, *p), dtype=np.float64).ravel() - y)

    jacobian = None if jac is None else (lambda p: whiten(np.asarray(jac(x, *p), np.float64)))
    options: dict[str, Any] = {
        "jac": jacobian,
        "loss": LOSSES[loss],
        "f_scale": f_scale,
        "max_nfev": max_nfev,
    }
    if bounds is not None:
        if method == "newton":
            raise ValueError("bounds: method='newton' takes none; use 'lm', 'gn' or 'gd'")
        options["bounds"] = bounds
    if method == "newton":
        if loss != "squared_error":
            raise ValueError("loss: method='newton' fits squared_error only")
        options = {"jac": jacobian, "max_nfev": max_nfev}
    solvers: dict[str, Callable[..., LeastSquaresResult]] = {
        "lm": levenberg_marquardt,
        "gn": gauss_newton,
        "newton": newton_least_squares,
        "gd": gradient_descent,
    }
    result = solvers[method](residual, p0, **options)
    cov = _covariance(result, absolute_sigma, LOSSES[loss], f_scale)
    return CurveFitResult(result.x, np.sqrt(np.diag(cov)), cov, result, tuple(names))


def _check_data(
    x: ArrayLike, y: ArrayLike, p0: ArrayLike, loss: str, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """curve_fit's arguments checked: x, y and p0 as float arrays (y and p0 flat)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(x) != len(y):
        raise ValueError(f"x, y: expected the same length, got {len(x)} and {len(y)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x, y: expected finite values")
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(LOSSES)}, got {loss!r} instead")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r} instead")
    p0 = np.asarray(p0, dtype=np.float64).ravel()
    if len(y) < len(p0):
        raise ValueError(
            f"x, y: expected at least {len(p0)} points for {len(p0)} parameters, got {len(y)}"
        )
    return x, y, p0


def _whitener(sigma: ArrayLike | None, m: int) -> Callable[[np.ndarray], np.ndarray]:
    """v -> L⁻¹v for the errors' covariance LLᵀ (rows of a matrix alike); identity for None."""
    if sigma is None:
        return lambda v: v
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.shape == (m,):
        if not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ValueError("sigma: expected positive finite standard deviations")
        return lambda v: v / (sigma if v.ndim == 1 else sigma[:, None])
    if sigma.shape == (m, m):
        try:
            L_inv = np.linalg.inv(np.linalg.cholesky(sigma))
        except np.linalg.LinAlgError:
            raise ValueError("sigma: expected a positive definite covariance matrix") from None
        return lambda v: L_inv @ v
    raise ValueError(f"sigma: expected shape ({m},) or ({m}, {m}), got {sigma.shape}")


def _covariance(result, absolute_sigma, loss, f_scale):
    """SciPy curve_fit's pcov: (JᵀJ)⁺ by SVD at the solution, times s² unless absolute_sigma.

    For a robust loss J is the re-weighted Jacobian, as SciPy's ``least_squares`` returns it.
    """
    J, (m, n) = result.jac, (result.fun.size, result.x.size)
    if J is None or not np.all(np.isfinite(J)):
        return np.full((n, n), np.inf)
    if loss != "linear":
        J = ResidualProblem(None, loss=loss, f_scale=f_scale).scaled(result.fun, J)[1]
    _, s, Vt = np.linalg.svd(J, full_matrices=False)
    keep = s > np.finfo(float).eps * max(J.shape) * s[0]
    cov = (Vt[keep].T / s[keep] ** 2) @ Vt[keep]
    if absolute_sigma:
        return cov
    return cov * (2 * result.cost / (m - n)) if m > n else np.full((n, n), np.inf)


def gradient_descent(
    residual: Callable[..., np.ndarray],
    x0: ArrayLike,
    *,
    jac: Callable[..., np.ndarray] | None = None,
    bounds: tuple[ArrayLike, ArrayLike] | None = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    max_nfev: int | None = None,
    gtol: float = 1e-8,
    ftol: float = 1e-12,
) -> LeastSquaresResult:
    """Steepest descent on the least-squares cost with Armijo backtracking (a baseline, not a recommendation).

    Each step first tries twice the last step length. With ``bounds`` it is
    projected: the trial point x - t·g is clipped into the box, and the gradient
    test looks only at the variables free to move.

    Parameters
    ----------
    residual : callable
        ``residual(x) -> array of shape (m,)``; the cost is ½‖r‖².
    x0 : array of shape (n,)
        The starting point.
    jac : callable, optional
        ``jac(x) -> array of shape (m, n)``; differences when None.
    bounds : (lb, ub), optional
        Numbers or arrays of length n; a variable at a bound the gradient
        pushes against does not move.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}, default "linear"
        The robust loss ρ of SciPy's ``least_squares``; "linear" is plain least squares.
    f_scale : float, default 1.0
        The residual scale of the robust loss.
    max_nfev : int, optional
        Evaluations of the residual allowed (default 20000).
    gtol : float, default 1e-8
        Stop when the gradient of the free variables is below this.
    ftol : float, default 1e-12
        Stop when the cost falls by less than ``ftol·cost`` in a step.

    Returns
    -------
    LeastSquaresResult
        ``x``, ``cost``, the evaluation counts, ``status`` and ``history``.

    Examples
    --------
    >>> res = gradient_descent(lambda x: x - np.array([1.0, 2.0]), np.zeros(2))
    >>> res.x.round(6).tolist(), res.success
    ([1.0, 2.0], True)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), Algorithm 3.1.
    """
    problem, x, r = start_problem(residual, x0, jac=jac, loss=loss, f_scale=f_scale)
    box = check_bounds(bounds, x)
    problem.box = box
    max_nfev = 20000 if max_nfev is None else max_nfev
    cost = problem.cost(r)
    J = problem.jacobian(x, r)
    history = [problem.history_row(0, cost, 0.0, 0.0)]
    t, status, nit = 1.0, 0, 0
    while problem.nfev < max_nfev:
        rs, Js = problem.scaled(r, J)
        g = Js.T @ rs
        if np.abs(g[free_variables(x, g, box)]).max(initial=0.0) < gtol:
            status = 1
            break
        t, x_new, r_new, cost_new = _armijo_descent(problem, x, cost, g, 2.0 * t, box, max_nfev)
        nit += 1
        if not cost_new < cost:
            break
        fall, step = cost - cost_new, np.linalg.norm(x_new - x)
        x, r, cost = x_new, r_new, cost_new
        J = problem.jacobian(x, r)
        history.append(problem.history_row(nit, cost, step, t))
        if fall <= ftol * cost:
            status = 2
            break
    rs, Js = problem.scaled(r, J)
    return problem.result(x, cost, r, J, Js.T @ rs, nit, status, history)


def _armijo_descent(problem, x, cost, g, t, box, max_nfev):
    """Halve t until the (clipped) point x - t·g lowers the cost by 1e-4·gᵀ(x - x_t)."""
    x_new, r_new, cost_new = x, None, np.inf
    while problem.nfev < max_nfev:
        x_new = x - t * g if box is None else np.clip(x - t * g, *box)
        r_new, cost_new = problem.evaluate(x_new)
        if cost_new <= cost - 1e-4 * (g @ (x - x_new)):
            break
        t *= 0.5
    return t, x_new, r_new, cost_new


# --- named model families for ``losslab fit-curve`` ------------------------------------------


@dataclass(frozen=True)
class Model:
    """A named family of curves with its Jacobian and a data-driven starting point.

    Attributes
    ----------
    name : str
        The key in ``MODELS``.
    formula : str
        The curve in words, e.g. ``"a t² + b t + c"``.
    names : tuple of str
        The parameters, in ``f``'s order.
    f : callable
        ``f(t, *params) -> array of t's shape``.
    jac : callable
        ``jac(t, *params) -> array of shape (len(t), len(names))``.
    guess : callable
        ``guess(t, y) -> p0``, a starting point read from the data.

    Examples
    --------
    >>> MODELS["exp"].formula, MODELS["exp"].names
    ('a exp(b t) + c', ('a', 'b', 'c'))

    References
    ----------
    ``scipy.optimize.curve_fit``, whose model functions ``f(x, *params)`` these are.
    """

    name: str
    formula: str
    names: tuple
    f: Callable[..., np.ndarray]
    jac: Callable[..., np.ndarray]
    guess: Callable[[np.ndarray, np.ndarray], np.ndarray]  # guess(x, y) -> p0


def _poly_guess(degree):
    return lambda x, y: np.polyfit(x, y, degree)


def _exp_guess(x, y):
    c = y.min() - 0.1 * np.ptp(y) if y[-1] < y[0] else y.max() + 0.1 * np.ptp(y)
    span = max(np.ptp(x), 1e-12)
    return np.array([y[np.argmin(x)] - c, (-1.0 if y[-1] < y[0] else 1.0) / span, c])


def _logistic_guess(x, y):
    return np.array([y.max(), 4.0 / max(np.ptp(x), 1e-12), np.median(x), y.min()])


def _sin_guess(x, y):
    order = np.argsort(x)
    xs, ys = x[order], y[order] - y.mean()
    grid = np.linspace(xs[0], xs[-1], max(64, 4 * len(xs)))
    spectrum = np.abs(np.fft.rfft(np.interp(grid, xs, ys)))
    k = max(1, int(spectrum[1:].argmax()) + 1)
    omega = 2 * np.pi * k / (grid[-1] - grid[0])
    return np.array([np.sqrt(2) * ys.std(), omega, 0.0, y.mean()])


MODELS = {
    "poly2": Model(
        "poly2",
        "a t² + b t + c",
        ("a", "b", "c"),
        lambda t, a, b, c: a * t**2 + b * t + c,
        lambda t, a, b, c: np.stack([t**2, t, np.ones_like(t)], axis=1),
        _poly_guess(2),
    ),
    "poly3": Model(
        "poly3",
        "a t³ + b t² + c t + d",
        ("a", "b", "c", "d"),
        lambda t, a, b, c, d: a * t**3 + b * t**2 + c * t + d,
        lambda t, a, b, c, d: np.stack([t**3, t**2, t, np.ones_like(t)], axis=1),
        _poly_guess(3),
    ),
    "exp": Model(
        "exp",
        "a exp(b t) + c",
        ("a", "b", "c"),
        lambda t, a, b, c: a * np.exp(b * t) + c,
        lambda t, a, b, c: np.stack(
            [np.exp(b * t), a * t * np.exp(b * t), np.ones_like(t)], axis=1
        ),
        _exp_guess,
    ),
    "logistic": Model(
        "logistic",
        "L / (1 + exp(-k (t - t0))) + c",
        ("L", "k", "t0", "c"),
        lambda t, L, k, t0, c: L / (1 + np.exp(-k * (t - t0))) + c,
        lambda t, L, k, t0, c: _logistic_jac(t, L, k, t0),
        _logistic_guess,
    ),
    "sin": Model(
        "sin",
        "A sin(ω t + φ) + c",
        ("A", "omega", "phi", "c"),
        lambda t, A, w, phi, c: A * np.sin(w * t + phi) + c,
        lambda t, A, w, phi, c: np.stack(
            [
                np.sin(w * t + phi),
                A * t * np.cos(w * t + phi),
                A * np.cos(w * t + phi),
                np.ones_like(t),
            ],
            axis=1,
        ),
        _sin_guess,
    ),
}


def _logistic_jac(t, L, k, t0):
    s = 1 / (1 + np.exp(-k * (t - t0)))
    ds = s * (1 - s)
    return np.stack([s, L * ds * (t - t0), -L * ds * k, np.ones_like(t)], axis=1)


def fit_model(
    name: str,
    x: ArrayLike,
    y: ArrayLike,
    *,
    p0: ArrayLike | None = None,
    loss: str = "squared_error",
    method: str = "lm",
    f_scale: float = 1.0,
) -> CurveFitResult:
    """Fit the named family of ``MODELS`` to (x, y) from ``p0`` (default: its data-driven guess).

    Parameters
    ----------
    name : {"poly2", "poly3", "exp", "logistic", "sin"}
        A family of ``MODELS``.
    x, y : arrays of shape (m,)
        The data.
    p0 : array of shape (n,), optional
        The start; by default the family's guess from the data.
    loss, method, f_scale
        As for :func:`curve_fit`.

    Returns
    -------
    CurveFitResult
        With the family's parameter names.

    Examples
    --------
    The bundled stone throw, whose outliers a robust loss shrugs off:

    >>> from losslab.data import trajectory
    >>> t, height = trajectory()
    >>> fit_model("poly2", t, height, loss="huber").params.round(1).tolist()
    [-4.8, 19.7, 1.5]

    References
    ----------
    ``scipy.optimize.curve_fit``.
    """
    m = model(name)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    start = m.guess(x, y) if p0 is None else check_start(name, p0)
    return curve_fit(
        m.f,
        x,
        y,
        start,
        loss=loss,
        method=method,
        jac=m.jac,
        f_scale=f_scale,
        names=m.names,
    )


def model(name: str) -> Model:
    """The named family of ``MODELS``; a clear error for an unknown name.

    Parameters
    ----------
    name : str
        A key of ``MODELS``: "poly2", "poly3", "exp", "logistic" or "sin".

    Returns
    -------
    Model
        The family, with its function, Jacobian and guess.

    Examples
    --------
    >>> model("poly2").names
    ('a', 'b', 'c')

    References
    ----------
    ``scipy.optimize.curve_fit``.
    """
    if name not in MODELS:
        raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {name!r} instead")
    return MODELS[name]


def check_start(name: str, p0: ArrayLike) -> np.ndarray:
    """p0 as a float array with one finite value per parameter of the named model.

    Parameters
    ----------
    name : str
        A key of ``MODELS``.
    p0 : array-like
        The proposed start.

    Returns
    -------
    ndarray of shape (n,)
        ``p0`` as float64; a ValueError names what was wrong.

    Examples
    --------
    >>> check_start("poly2", [1, 2, 3]).tolist()
    [1.0, 2.0, 3.0]

    References
    ----------
    ``scipy.optimize.curve_fit`` (its ``p0``).
    """
    names = model(name).names
    p0 = np.asarray(p0, dtype=np.float64).ravel()
    if p0.shape != (len(names),) or not np.all(np.isfinite(p0)):
        raise ValueError(
            f"p0: expected {len(names)} finite numbers ({', '.join(names)}) for {name}, "
            f"got {p0.tolist()}"
        )
    return p0
