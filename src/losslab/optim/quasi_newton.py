r"""L-BFGS and steepest descent with a backtracking line search, for a smooth scalar objective.

Both take ``fun_and_grad(x) -> (value, gradient)`` and share one loop: the
search direction (the L-BFGS two-loop recursion over the last ``memory``
curvature pairs, or the plain negative gradient), an Armijo backtracking line
search, and the same stopping rules and callback. The full-batch training
solvers of :mod:`losslab.training` run on them.
Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed.), Algorithm 7.4.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .result import LeastSquaresResult, history_row, status_message


def lbfgs(
    fun_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    memory: int = 10,
    gtol: float = 1e-6,
    ftol: float = 1e-12,
    max_iter: int = 500,
    callback: Callable[[int, np.ndarray, float], bool | None] | None = None,
) -> LeastSquaresResult:
    r"""Limited-memory BFGS for a smooth scalar objective (Nocedal & Wright, Algorithm 7.4).

    ``fun_and_grad(x) -> (value, gradient)``. The search direction is the
    two-loop recursion over the last ``memory`` (s, y) pairs; the step length
    comes from a backtracking Armijo search. Stops when ``‖∇f‖∞ < gtol`` or the
    value falls by less than ``ftol·|f|``, or when ``callback(iteration, x, value)``
    returns True.

    Parameters
    ----------
    fun_and_grad : callable
        ``fun_and_grad(x) -> (value, gradient)`` with the gradient of shape (n,).
    x0 : array of shape (n,)
        The starting point.
    memory : int, default 10
        How many (s, y) pairs approximate the inverse Hessian.
    gtol : float, default 1e-6
        Stop when the gradient's largest entry is below this.
    ftol : float, default 1e-12
        Stop when the value falls by less than ``ftol·|f|``.
    max_iter : int, default 500
        The most iterations.
    callback : callable, optional
        ``callback(iteration, x, value)``; returning True stops (status -2).

    Returns
    -------
    LeastSquaresResult
        ``cost`` is the objective's value.

    Examples
    --------
    >>> res = lbfgs(lambda x: (float((x - 3) @ (x - 3)), 2 * (x - 3)), np.zeros(4))
    >>> res.x.round(6).tolist(), res.success
    ([3.0, 3.0, 3.0, 3.0], True)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), Algorithms 7.4
    and 7.5; Liu & Nocedal, "On the limited memory BFGS method for large scale
    optimization", Mathematical Programming 45 (1989).
    """
    return _descend(fun_and_grad, x0, memory, gtol, ftol, max_iter, callback)


def steepest_descent(
    fun_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    gtol: float = 1e-6,
    ftol: float = 1e-12,
    max_iter: int = 500,
    callback: Callable[[int, np.ndarray, float], bool | None] | None = None,
) -> LeastSquaresResult:
    r"""Gradient descent with a backtracking Armijo step for a smooth scalar objective.

    Each iteration first tries twice the previous step length, then halves it
    until the value falls enough, so no learning rate is needed. The same
    stopping rules, callback and result as :func:`lbfgs`; far more iterations.

    Parameters
    ----------
    fun_and_grad : callable
        ``fun_and_grad(x) -> (value, gradient)`` with the gradient of shape (n,).
    x0 : array of shape (n,)
        The starting point.
    gtol : float, default 1e-6
        Stop when the gradient's largest entry is below this.
    ftol : float, default 1e-12
        Stop when the value falls by less than ``ftol·|f|``.
    max_iter : int, default 500
        The most iterations.
    callback : callable, optional
        ``callback(iteration, x, value)``; returning True stops (status -2).

    Returns
    -------
    LeastSquaresResult
        ``cost`` is the objective's value.

    Examples
    --------
    >>> res = steepest_descent(lambda x: (float((x - 3) @ (x - 3)), 2 * (x - 3)), np.zeros(4))
    >>> res.x.round(6).tolist(), res.success
    ([3.0, 3.0, 3.0, 3.0], True)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), Algorithm 3.1
    (backtracking line search) and section 3.3.
    """
    return _descend(fun_and_grad, x0, 0, gtol, ftol, max_iter, callback)


class _Counted:
    """fun_and_grad, counting its calls."""

    def __init__(self, fun_and_grad):
        self.fun_and_grad, self.calls = fun_and_grad, 0

    def __call__(self, x):
        self.calls += 1
        return self.fun_and_grad(x)


def _descend(fun_and_grad, x0, memory, gtol, ftol, max_iter, callback):
    """The line-search loop of L-BFGS (memory > 0) and steepest descent (memory = 0)."""
    x = np.array(x0, dtype=np.float64).ravel()
    f = _Counted(fun_and_grad)
    value, g = f(x)
    if not np.isfinite(value):
        raise ValueError("fun: non-finite objective at the starting point x0")
    pairs = []
    history = [history_row(0, float(value), f.calls, 0.0)]
    status, nit, t = 0, 0, None
    for nit in range(1, max_iter + 1):
        if np.abs(g).max(initial=0.0) < gtol:
            status = 1
            break
        direction = _search_direction(g, pairs)
        t = _first_step_length(t, g, pairs, memory)
        t, new_value, new_g = _line_search(f, x, value, g, direction, t)
        if t is None:
            status = -1
            break
        s = t * direction
        _remember(pairs, s, new_g - g, memory)
        fall = value - new_value
        x, value, g = x + s, new_value, new_g
        history.append(history_row(nit, float(value), f.calls, np.linalg.norm(s)))
        status = _stop_status(nit, x, value, fall, ftol, callback)
        if status:
            break
    message = status_message(status, "iterations")
    return LeastSquaresResult(
        x, float(value), np.array([]), None, g, f.calls, f.calls, nit, status, message, history
    )


def _search_direction(g, pairs):
    """-H·g from the pairs; the negative gradient (and no pairs) when that would not descend."""
    direction = -_two_loop(g, pairs)
    if g @ direction >= 0:  # not a descent direction (bad curvature pairs): restart
        pairs.clear()
        direction = -g
    return direction


def _first_step_length(t, g, pairs, memory):
    """1 for a quasi-Newton step; twice the last length for steepest descent; else ~1/‖g‖₁."""
    if pairs:
        return 1.0
    if memory == 0 and t is not None:
        return t * 2.0  # steepest descent: try a longer step than last time
    return min(1.0, 1.0 / max(np.abs(g).sum(), 1e-12))


def _line_search(f, x, value, g, direction, t):
    """Armijo backtracking from t: (t, value, gradient) there, or (None, None, None) after 50 halvings."""
    for _ in range(50):
        new_value, new_g = f(x + t * direction)
        if np.isfinite(new_value) and new_value <= value + 1e-4 * t * (g @ direction):
            return t, new_value, new_g
        t *= 0.5
    return None, None, None


def _remember(pairs, s, y, memory):
    """Keep the last ``memory`` curvature pairs with sᵀy > 0 (the BFGS update stays positive definite)."""
    if memory and s @ y > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
        pairs.append((s, y))
        if len(pairs) > memory:
            pairs.pop(0)


def _stop_status(nit, x, value, fall, ftol, callback):
    """2 when the fall was below ftol·|f|, -2 when the callback asks to stop, else 0."""
    if fall <= ftol * max(abs(value), 1e-300):
        return 2
    if callback is not None and callback(nit, x, value):
        return -2
    return 0


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
