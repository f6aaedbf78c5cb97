"""What every second-order and quasi-Newton solver returns: :class:`LeastSquaresResult`.

``status`` says why the solver stopped (1 gtol, 2 ftol, 3 xtol, 4 ftol and xtol,
0 budget spent, -1 no progress, -2 stopped by the callback); ``history`` holds one row per
iteration, built by :func:`history_row`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATUS_MESSAGES = {
    1: "gradient below gtol",
    2: "relative cost reduction below ftol",
    3: "step below xtol",
    4: "relative cost reduction below ftol and step below xtol",
    -1: "no step decreases the cost: stalled away from a minimum",
    -2: "stopped by callback",
}


@dataclass
class LeastSquaresResult:
    """What a least-squares, Newton or quasi-Newton solver found, and how.

    The fields of ``scipy.optimize.OptimizeResult`` for ``least_squares``, plus
    the history of the iterations.

    Attributes
    ----------
    x : ndarray of shape (n,)
        The solution.
    cost : float
        ½‖r(x)‖² (the robust cost with a robust loss; the objective's value for
        :func:`~losslab.optim.newton.newton` and :func:`~losslab.optim.quasi_newton.lbfgs`).
    fun : ndarray of shape (m,)
        The residuals at x.
    jac : ndarray of shape (m, n) or None
        The Jacobian at x.
    grad : ndarray of shape (n,)
        The cost's gradient at x, Jᵀr.
    nfev, njev : int
        Residual (objective) and Jacobian evaluations, differences included.
    nit : int
        Iterations.
    status : int
        1 gtol, 2 ftol, 3 xtol, 4 ftol and xtol, 0 budget spent, -1 no progress,
        -2 stopped by the callback.
    message : str
        The status in words.
    history : list of dict
        One row per iteration (:func:`history_row`).
    success : bool
        ``status > 0``: a convergence test was met.

    Examples
    --------
    >>> from losslab.lsq import levenberg_marquardt
    >>> res = levenberg_marquardt(lambda x: x - 3.0, [0.0])
    >>> res.x.round(6).tolist(), res.success, res.history[0]["iteration"]
    ([3.0], True, 0)

    References
    ----------
    ``scipy.optimize.OptimizeResult``.
    """

    x: np.ndarray
    cost: float
    fun: np.ndarray
    jac: np.ndarray | None
    grad: np.ndarray
    nfev: int
    njev: int
    nit: int
    status: int  # 1 gtol, 2 ftol, 3 xtol, 4 both, 0 max_nfev / max_iter, -1 no progress
    message: str
    history: list = field(default_factory=list)

    @property
    def success(self) -> bool:
        """Whether a convergence test was met (``status > 0``)."""
        return self.status > 0

    def __str__(self):
        return (
            f"{'converged' if self.success else 'stopped'}: {self.message}; cost {self.cost:.6g} "
            f"after {self.nit} iterations, {self.nfev} evaluations"
        )


def status_message(status: int, budget: str = "evaluations") -> str:
    """The message of a stopping status; status 0 means the ``budget`` (what was counted) ran out.

    Parameters
    ----------
    status : int
        A solver's status: 0 budget spent, > 0 a test met, < 0 stopped.
    budget : str, default "evaluations"
        What ran out, for status 0.

    Returns
    -------
    str
        The status in words.

    Examples
    --------
    >>> status_message(0, "iterations"), status_message(3)
    ('maximum number of iterations reached', 'step below xtol')

    References
    ----------
    ``scipy.optimize.least_squares`` (its ``status`` codes); Moré, Garbow & Hillstrom, *User
    Guide for MINPACK-1*, ANL-80-74 (1980).
    """
    if status == 0:
        return f"maximum number of {budget} reached"
    return STATUS_MESSAGES[status]


def history_row(
    iteration: int, cost: float, nfev: int, step: float | np.floating[Any], **extra: Any
) -> dict[str, Any]:
    """One row of a result's ``history``: the cost after ``iteration``, evaluations so far, ‖step‖.

    Parameters
    ----------
    iteration : int
        The iteration (0 for the start).
    cost : float
        The cost after it.
    nfev : int
        Residual evaluations so far.
    step : float
        The norm of the step taken.
    **extra
        More entries (``njev``, ``damping``, ...).

    Returns
    -------
    dict
        ``{"iteration", "cost", "nfev", "step", **extra}``.

    Examples
    --------
    >>> history_row(1, 0.5, 3, 0.25)
    {'iteration': 1, 'cost': 0.5, 'nfev': 3, 'step': 0.25}

    References
    ----------
    ``scipy.optimize.OptimizeResult``.
    """
    return {"iteration": iteration, "cost": cost, "nfev": nfev, "step": float(step), **extra}
