r"""Fit a model curve y ≈ f(x; p) to data: a friendly front end to :mod:`losslab.lsq`.

Seed 002 frames learning as parameter estimation: the stone's trajectory
:math:`f(t) = a t^2 + b t + c`. :func:`curve_fit` returns the parameters, their
standard errors from the Jacobian and the fit history; ``MODELS`` holds named
families ("poly2", "poly3", "exp", "logistic", "sin") with analytic Jacobians
and data-driven starting points, which ``losslab fit-curve`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .least_squares import gauss_newton, levenberg_marquardt
from .residuals import start_problem
from .result import LeastSquaresResult

# curve_fit's loss names -> the solvers' robust losses
LOSSES = {
    "squared_error": "linear",
    "huber": "huber",
    "soft_l1": "soft_l1",
    "cauchy": "cauchy",
    "arctan": "arctan",
}
METHODS = ("lm", "gn", "gd")


@dataclass
class CurveFitResult:
    params: np.ndarray
    stderr: np.ndarray  # sqrt(diag(cov)): standard errors of the parameters
    cov: np.ndarray  # s² (JᵀJ)⁻¹ with s² = 2·cost / (m - n)
    result: LeastSquaresResult
    names: tuple = ()

    @property
    def history(self):
        return self.result.history

    def summary(self):
        names = self.names or tuple(f"p{k}" for k in range(len(self.params)))
        return ", ".join(
            f"{n} = {p:.6g} ± {e:.2g}"
            for n, p, e in zip(names, self.params, self.stderr, strict=True)
        )


def curve_fit(
    f,
    x,
    y,
    p0,
    *,
    loss="squared_error",
    method="lm",
    jac=None,
    f_scale=1.0,
    max_nfev=None,
    names=(),
):
    """Least-squares fit of ``f(x, *p)`` to ``y`` starting from ``p0``.

    Parameters
    ----------
    f : callable ``f(x, *params) -> y_hat``
    x, y : arrays of the same length
    p0 : starting parameters
    loss : "squared_error" (plain least squares) or a robust loss "huber",
        "soft_l1", "cauchy", "arctan" whose residual scale is ``f_scale``.
    method : "lm" (Levenberg-Marquardt), "gn" (Gauss-Newton) or "gd" (gradient
        descent with a backtracking line search — slow, for comparison).
    jac : callable ``jac(x, *params) -> (len(x), len(p0))``, optional.

    >>> t = np.linspace(0, 2, 20)
    >>> fit = curve_fit(lambda t, a, b, c: a * t**2 + b * t + c, t, -4.9 * t**2 + 20 * t + 1.5, [0, 0, 0])
    >>> fit.params.round(6).tolist()
    [-4.9, 20.0, 1.5]
    """
    x, y, p0 = _check_data(x, y, p0, loss, method)

    def residual(p):
        return np.asarray(f(x, *p), dtype=np.float64).ravel() - y

    jacobian = None if jac is None else (lambda p: np.asarray(jac(x, *p), dtype=np.float64))
    options = {"jac": jacobian, "loss": LOSSES[loss], "f_scale": f_scale, "max_nfev": max_nfev}
    solver = {"lm": levenberg_marquardt, "gn": gauss_newton, "gd": gradient_descent}[method]
    result = solver(residual, p0, **options)
    cov = _covariance(result, len(y), len(p0))
    return CurveFitResult(result.x, np.sqrt(np.diag(cov)), cov, result, tuple(names))


def _check_data(x, y, p0, loss, method):
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


def gradient_descent(
    residual, x0, *, jac=None, loss="linear", f_scale=1.0, max_nfev=None, gtol=1e-8, ftol=1e-12
):
    """Steepest descent on the least-squares cost with Armijo backtracking (a baseline, not a recommendation)."""
    problem, x, r = start_problem(residual, x0, jac=jac, loss=loss, f_scale=f_scale)
    max_nfev = 20000 if max_nfev is None else max_nfev
    cost = problem.cost(r)
    J = problem.jacobian(x, r)
    history = [problem.history_row(0, cost, 0.0, 0.0)]
    t, status, nit = 1.0, 0, 0
    while problem.nfev < max_nfev:
        rs, Js = problem.scaled(r, J)
        g = Js.T @ rs
        if np.abs(g).max() < gtol:
            status = 1
            break
        t *= 2.0  # try a longer step than last time, then backtrack
        while problem.nfev < max_nfev:
            r_new, cost_new = problem.evaluate(x - t * g)
            if cost_new <= cost - 1e-4 * t * (g @ g):
                break
            t *= 0.5
        nit += 1
        if not cost_new < cost:
            break
        fall = cost - cost_new
        x, r, cost = x - t * g, r_new, cost_new
        J = problem.jacobian(x, r)
        history.append(problem.history_row(nit, cost, t * np.linalg.norm(g), t))
        if fall <= ftol * cost:
            status = 2
            break
    rs, Js = problem.scaled(r, J)
    return problem.result(x, cost, r, J, Js.T @ rs, nit, status, history)


def _covariance(result, m, n):
    """s² (JᵀJ)⁻¹, SciPy curve_fit's default (absolute_sigma=False)."""
    J = result.jac
    if J is None or m <= n:
        return np.full((n, n), np.inf)
    s2 = 2 * result.cost / (m - n)
    try:
        return s2 * np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        return np.full((n, n), np.inf)


# --- named model families for ``losslab fit-curve`` ------------------------------------------


@dataclass(frozen=True)
class Model:
    name: str
    formula: str
    names: tuple
    f: object
    jac: object
    guess: object  # guess(x, y) -> p0


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


def fit_model(name, x, y, *, loss="squared_error", method="lm", f_scale=1.0):
    """Fit the named family of ``MODELS`` to (x, y) from its data-driven starting point."""
    if name not in MODELS:
        raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {name!r} instead")
    m = MODELS[name]
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return curve_fit(
        m.f,
        x,
        y,
        m.guess(x, y),
        loss=loss,
        method=method,
        jac=m.jac,
        f_scale=f_scale,
        names=m.names,
    )
