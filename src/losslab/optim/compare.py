r"""Seed 002's comparison on one curve fit: which methods need how many evaluations.

Seed 002: Newton, Gauss-Newton and Levenberg-Marquardt beat gradient descent when
there are few parameters. :func:`compare_methods` fits one model to one data set
(:func:`compare_least_squares`: any residual function) from one starting point
(far from the answer, so that there is a way to go) with
Levenberg-Marquardt, Gauss-Newton, Newton, gradient descent and Adam, and
reports for each the iterations, the evaluations (residual evaluations plus
Jacobian evaluations; an Adam step needs one of each), the evaluations until the
cost is within 1e-6 (relative; 1e-12 absolute) of the best any method reached,
the wall time and the final
cost, with each method's cost-against-evaluations history for
:func:`losslab.plots.convergence_figure`. ``losslab fit-curve --compare`` prints it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from . import curvefit
from .curvefit import gradient_descent
from .first_order import Adam
from .least_squares import gauss_newton, levenberg_marquardt
from .newton import newton_least_squares

METHOD_NAMES = {
    "lm": "Levenberg-Marquardt",
    "gn": "Gauss-Newton",
    "newton": "Newton",
    "gd": "gradient descent",
    "adam": "Adam",
}
CLOSE = 1e-6  # "reached the minimum": within this (relative; 1e-12 absolute) of the best cost


@dataclass
class MethodRun:
    """One method's run in the comparison.

    Attributes
    ----------
    method : str
        A key of ``METHOD_NAMES``: "lm", "gn", "newton", "gd" or "adam".
    iterations : int
        Iterations (Adam: steps) taken.
    evaluations : int
        Residual plus Jacobian evaluations.
    seconds : float
        Wall time.
    cost : float
        The final ½‖r‖².
    message : str
        Why the method stopped.
    history : list of dict
        Rows ``{"cost", "nfev"}``, ``nfev`` counting evaluations so far.
    to_best : int or None
        Evaluations until within 1e-6 (relative) of the best cost any method
        reached; None if never.
    name : str
        The method's name in words.

    Examples
    --------
    >>> run = MethodRun("lm", iterations=5, evaluations=12, seconds=0.01, cost=0.0,
    ...                 message="the cost stopped falling")
    >>> run.name, run.to_best
    ('Levenberg-Marquardt', None)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), chapter 10.
    """

    method: str  # a key of METHOD_NAMES
    iterations: int
    evaluations: int  # residual + Jacobian evaluations
    seconds: float
    cost: float
    message: str
    history: list = field(default_factory=list)  # rows {"cost", "nfev": evaluations so far}
    to_best: int | None = None  # evaluations until within CLOSE of the best cost; None: never

    @property
    def name(self) -> str:
        """The method's name in words, from ``METHOD_NAMES``."""
        return METHOD_NAMES[self.method]


def compare_methods(
    f: Callable[..., np.ndarray],
    x: ArrayLike,
    y: ArrayLike,
    p0: ArrayLike,
    *,
    jac: Callable[..., np.ndarray],
    budget: int = 20000,
    adam_lr: float = 0.05,
) -> list[MethodRun]:
    """Fit ``f(x, *p)`` to y from ``p0`` with every method; a list of :class:`MethodRun`.

    ``jac(x, *p)`` is the model's Jacobian (every method uses it; Newton also its
    differences). The fit is :func:`compare_least_squares` on the residuals f - y.

    Parameters
    ----------
    f : callable
        ``f(x, *p) -> array of shape (m,)``.
    x, y : arrays of shape (m,)
        The data.
    p0 : array of shape (n,)
        The start, the same for every method.
    jac : callable
        ``jac(x, *p) -> array of shape (m, n)``.
    budget : int, default 20000
        Residual evaluations per solver, Adam's steps.
    adam_lr : float, default 0.05
        Adam's learning rate.

    Returns
    -------
    list of MethodRun
        Levenberg-Marquardt, Gauss-Newton, Newton, gradient descent, Adam.

    Examples
    --------
    >>> t = np.linspace(0, 1, 20)
    >>> runs = compare_methods(
    ...     lambda t, a, b: a * t + b, t, 2 * t + 1, [0.0, 0.0],
    ...     jac=lambda t, a, b: np.stack([t, np.ones_like(t)], axis=1),
    ... )
    >>> [run.name for run in runs]
    ['Levenberg-Marquardt', 'Gauss-Newton', 'Newton', 'gradient descent', 'Adam']

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), chapter 10 (least
    squares: Gauss-Newton and Levenberg-Marquardt against first-order methods).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()

    def residual(p):
        return np.asarray(f(x, *p), dtype=np.float64).ravel() - y

    def jacobian(p):
        return np.asarray(jac(x, *p), dtype=np.float64)

    return compare_least_squares(residual, p0, jac=jacobian, budget=budget, adam_lr=adam_lr)


def compare_model(
    name: str,
    x: ArrayLike,
    y: ArrayLike,
    *,
    p0: ArrayLike | None = None,
    budget: int = 20000,
    adam_lr: float = 0.05,
) -> tuple[list[MethodRun], np.ndarray]:
    """:func:`compare_methods` for a named family of ``curvefit.MODELS``; (runs, the start used).

    The default start is 1 for every parameter: far from the data-driven guess
    ``fit_model`` starts from (for poly2 that guess is already the answer).

    Parameters
    ----------
    name : {"poly2", "poly3", "exp", "logistic", "sin"}
        A family of ``curvefit.MODELS``.
    x, y : arrays of shape (m,)
        The data.
    p0 : array of shape (n,), optional
        The start; by default far from the family's guess.
    budget : int, default 20000
        Residual evaluations per solver, Adam's steps.
    adam_lr : float, default 0.05
        Adam's learning rate.

    Returns
    -------
    runs : list of MethodRun
        One per method, as :func:`compare_methods`.
    start : ndarray of shape (n,)
        The start every method used.

    Examples
    --------
    Seed 002's point, on the bundled stone throw: the second-order methods need a
    handful of evaluations, the first-order ones thousands.

    >>> from losslab.data import trajectory
    >>> runs, start = compare_model("poly2", *trajectory())
    >>> [(run.method, run.to_best) for run in runs]
    [('lm', 3), ('gn', 4), ('newton', 7), ('gd', 10192), ('adam', 5089)]

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), chapter 10 (least
    squares: Gauss-Newton and Levenberg-Marquardt against first-order methods).
    """
    family = curvefit.model(name)
    start = np.ones(len(family.names)) if p0 is None else curvefit.check_start(name, p0)
    runs = compare_methods(family.f, x, y, start, jac=family.jac, budget=budget, adam_lr=adam_lr)
    return runs, start


def compare_least_squares(
    residual: Callable[..., np.ndarray],
    x0: ArrayLike,
    *,
    jac: Callable[..., np.ndarray],
    budget: int = 20000,
    adam_lr: float = 0.05,
) -> list[MethodRun]:
    """Minimise ½‖residual(x)‖² from ``x0`` with every method; a list of :class:`MethodRun`.

    ``budget`` caps the residual evaluations of each solver and the steps of
    Adam, which runs at learning rate ``adam_lr`` until its cost is within 1e-6
    of the best of the second-order methods (it has no test of its own).

    Parameters
    ----------
    residual : callable
        ``residual(x) -> array of shape (m,)``.
    x0 : array of shape (n,)
        The start, the same for every method.
    jac : callable
        ``jac(x) -> array of shape (m, n)``.
    budget : int, default 20000
        Residual evaluations per solver, Adam's steps.
    adam_lr : float, default 0.05
        Adam's learning rate.

    Returns
    -------
    list of MethodRun
        Levenberg-Marquardt, Gauss-Newton, Newton, gradient descent, Adam.

    Examples
    --------
    >>> runs = compare_least_squares(lambda x: x - 3.0, np.zeros(2), jac=lambda x: np.eye(2))
    >>> [(run.method, run.to_best) for run in runs]
    [('lm', 3), ('gn', 4), ('newton', 6), ('gd', 5), ('adam', 493)]

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), chapter 10 (least
    squares: Gauss-Newton and Levenberg-Marquardt against first-order methods).
    """
    solvers = {
        "lm": levenberg_marquardt,
        "gn": gauss_newton,
        "newton": newton_least_squares,
        "gd": gradient_descent,
    }
    with np.errstate(
        over="ignore", invalid="ignore"
    ):  # far trial steps overflow; they are rejected
        runs = [_solver_run(k, solve, residual, x0, jac, budget) for k, solve in solvers.items()]
        target = min(run.cost for run in runs if run.method != "gd")
        runs.append(_adam_run(residual, x0, jac, adam_lr, budget, target))
    best = min(run.cost for run in runs)
    for run in runs:
        run.to_best = next(
            (row["nfev"] for row in run.history if row["cost"] <= _close_to(best)), None
        )
    return runs


def _close_to(best):
    """The cost that counts as having reached ``best``: 1e-6 relative, 1e-12 absolute at zero."""
    return best + CLOSE * abs(best) + 1e-12


def _solver_run(method, solve, residual, x0, jac, budget):
    """One solver's run, its evaluations counted as residuals + Jacobians."""
    start = time.perf_counter()
    res = solve(residual, x0, jac=jac, max_nfev=budget)
    seconds = time.perf_counter() - start
    history = [{"cost": row["cost"], "nfev": row["nfev"] + row["njev"]} for row in res.history]
    return MethodRun(method, res.nit, res.nfev + res.njev, seconds, res.cost, res.message, history)


def _adam_run(residual, x0, jac, lr, steps, target):
    """Adam on ½‖r(x)‖² with the gradient Jᵀr, until the cost is within 1e-6 of target."""
    start = time.perf_counter()
    params = {"x": np.array(x0, dtype=np.float64)}
    adam = Adam()
    state = adam.init(params)
    history, message, k = [], f"{steps} steps, not within 1e-6 of the best cost", 0
    for k in range(steps + 1):
        r = np.asarray(residual(params["x"]), dtype=np.float64)
        with np.errstate(over="ignore"):
            cost = 0.5 * float(r @ r)
        history.append({"cost": cost, "nfev": 2 * k + 1})  # each step: a residual and a Jacobian
        if not np.isfinite(cost):
            message = "diverged: the cost is not finite"
            break
        if cost <= _close_to(target):
            message = "within 1e-6 of the best second-order cost"
            break
        if k < steps:
            grad = np.asarray(jac(params["x"]), dtype=np.float64).T @ r
            adam.update(params, {"x": grad}, state, lr)
    seconds = time.perf_counter() - start
    return MethodRun("adam", k, history[-1]["nfev"], seconds, cost, message, history)
