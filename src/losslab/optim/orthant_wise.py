r"""OWL-QN: L-BFGS for a smooth objective plus an L1 penalty (Andrew & Gao, 2007).

The L1 penalty :math:`\sum_i c_i |x_i|` has a kink wherever a penalised entry
is 0, which is where its minimum puts many of them; L-BFGS on its subgradient
zig-zags across those kinks and never settles on the zeros. OWL-QN keeps the
quasi-Newton model of the smooth part alone and moves within one orthant at a
time:

- the *pseudo-gradient* is the steepest descent direction of the whole
  objective: :math:`\nabla f_i + c_i \operatorname{sign}(x_i)` off zero, and at
  zero the one-sided derivative that descends, or 0 when neither does (then
  the entry is optimal at zero);
- the L-BFGS direction of the pseudo-gradient keeps only the entries that
  agree in sign with the steepest descent direction;
- each trial point of the backtracking line search is projected onto the
  orthant of the current point (entries that would cross zero stop at zero),
  so zeros are reached exactly and stay until the pseudo-gradient says
  otherwise.

The stopping test is the pseudo-gradient's largest entry: 0 exactly at the
minimum (the subgradient optimality condition), as the gradient is for
:func:`~losslab.optim.quasi_newton.lbfgs`, whose curvature pairs, first step,
and other stopping rules this shares.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .quasi_newton import _Counted, _CurvaturePairs, _stop_status
from .result import LeastSquaresResult, history_row, status_message


def owlqn(
    fun_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    l1: ArrayLike,
    *,
    memory: int = 10,
    gtol: float = 1e-6,
    ftol: float = 1e-12,
    max_iter: int = 500,
    callback: Callable[[int, np.ndarray, float], bool | None] | None = None,
) -> LeastSquaresResult:
    r"""Minimise :math:`f(x) + \sum_i c_i |x_i|` for a smooth f and weights :math:`c_i \ge 0`.

    ``fun_and_grad(x) -> (value, gradient)`` of the smooth part f alone. An
    entry of weight 0 (an unpenalised bias) is an ordinary smooth variable.
    Stops when the pseudo-gradient's largest entry is below ``gtol``, when the
    objective falls by less than ``ftol`` of itself, or when
    ``callback(iteration, x, value)`` returns True; ``cost`` and the history
    hold the whole objective, ``grad`` the pseudo-gradient.

    Parameters
    ----------
    fun_and_grad : callable
        The smooth part: ``fun_and_grad(x) -> (value, gradient of shape (n,))``.
    x0 : array of shape (n,)
        The starting point.
    l1 : float or array of shape (n,)
        :math:`c`, the L1 weight of each entry (≥ 0).
    memory : int, default 10
        How many curvature pairs of f approximate its inverse Hessian.
    gtol : float, default 1e-6
        Stop when the pseudo-gradient's largest entry is below this.
    ftol : float, default 1e-12
        Stop when the objective falls by less than ``ftol`` of itself.
    max_iter : int, default 500
        The most iterations.
    callback : callable, optional
        ``callback(iteration, x, value)``; returning True stops (status -2).

    Returns
    -------
    LeastSquaresResult
        ``cost``: the objective f + L1; ``grad``: its pseudo-gradient.

    Raises
    ------
    ValueError
        A negative or non-finite L1 weight, or a non-finite objective at ``x0``.

    Examples
    --------
    The lasso in one variable, :math:`(x - 3)^2 + 2|x|`, is minimised at x = 2;
    a weight above 6 holds x at exactly 0:

    >>> fun = lambda x: (float((x[0] - 3) ** 2), 2 * (x - 3))
    >>> owlqn(fun, np.zeros(1), 2.0).x.tolist(), owlqn(fun, np.zeros(1), 7.0).x.tolist()
    ([2.0], [0.0])

    References
    ----------
    G. Andrew and J. Gao, "Scalable training of L1-regularized log-linear models",
    ICML 2007; Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), Algorithm 7.4.
    """
    x = np.array(x0, dtype=np.float64).ravel()
    c = np.broadcast_to(np.asarray(l1, dtype=np.float64), x.shape)
    if not (np.all(np.isfinite(c)) and np.all(c >= 0)):
        raise ValueError("l1: expected finite non-negative weights")
    f = _Counted(fun_and_grad)
    smooth, g = f(x)
    value = _whole(smooth, x, c)
    if not math.isfinite(value):
        raise ValueError("fun: non-finite objective at the starting point x0")
    pairs = _CurvaturePairs(memory, x.size)
    history = [history_row(0, value, f.calls, 0.0)]
    status, nit, pg = 0, 0, pseudo_gradient(x, g, c)
    for nit in range(1, max_iter + 1):
        if np.abs(pg).max(initial=0.0) < gtol:
            status = 1
            break
        direction = _orthant_direction(pg, pairs, c)
        first = 1.0 if len(pairs) else min(1.0, 1.0 / max(float(np.linalg.norm(direction)), 1e-12))
        step = _projected_line_search(f, x, value, pg, direction, first, c)
        if step is None:
            status = -1
            break
        new_x, new_value, new_g = step
        pairs.remember(new_x - x, new_g - g)  # the smooth part's curvature only
        fall = value - new_value
        history.append(history_row(nit, new_value, f.calls, np.linalg.norm(new_x - x)))
        x, value, g = new_x, new_value, new_g
        pg = pseudo_gradient(x, g, c)
        status = _stop_status(nit, x, value, fall, ftol, callback)
        if status:
            break
    message = status_message(status, "iterations")
    return LeastSquaresResult(
        x, value, np.array([]), None, pg, f.calls, f.calls, nit, status, message, history
    )


def pseudo_gradient(x: np.ndarray, g: np.ndarray, l1: np.ndarray) -> np.ndarray:
    r"""The steepest-descent (minimum-norm) subgradient of :math:`f(x) + \sum_i c_i |x_i|`.

    .. math::

        \diamond_i = \begin{cases}
            g_i + c_i \operatorname{sign}(x_i) & x_i \ne 0 \\
            g_i + c_i & x_i = 0,\ g_i + c_i < 0 \\
            g_i - c_i & x_i = 0,\ g_i - c_i > 0 \\
            0 & \text{otherwise (0 is optimal for this entry)}
        \end{cases}

    Parameters
    ----------
    x : ndarray of shape (n,)
        The point.
    g : ndarray of shape (n,)
        The smooth part's gradient there.
    l1 : ndarray of shape (n,)
        The L1 weights c.

    Returns
    -------
    ndarray of shape (n,)
        Zero exactly where the optimality condition holds.

    Examples
    --------
    >>> pseudo_gradient(np.array([0.0, 0.0, 0.0, 1.0]), np.array([0.5, 3.0, -3.0, 0.5]), np.ones(4))
    array([ 0. ,  2. , -2. ,  1.5])
    """
    right, left = g + l1, g - l1
    at_zero = np.clip(0.0, left, right)  # the subdifferential [g - c, g + c]'s point nearest 0
    return np.where(x > 0, right, np.where(x < 0, left, at_zero))


def _whole(smooth, x, c):
    """The objective: the smooth part plus the L1 penalty."""
    return float(smooth) + float(c @ np.abs(x))


def _orthant_direction(pg, pairs, c):
    """-H·◊ with the penalised entries that disagree in sign with -◊ set to 0.

    The pseudo-gradient when that is no descent direction (bad curvature pairs: restart).
    """
    direction = -pairs.inverse_hessian_times(pg)
    direction[(c > 0) & (direction * pg >= 0)] = 0.0
    if pg @ direction >= 0:
        pairs.clear()
        direction = -pg
    return direction


def _projected_line_search(f, x, value, pg, direction, t, c):
    """Armijo backtracking along the direction, each trial projected onto x's orthant.

    The orthant of a zero entry is the side the pseudo-gradient descends to.
    Returns (x, objective, smooth gradient) at the accepted point, or None after
    50 halvings.
    """
    orthant = np.where(x != 0, np.sign(x), -np.sign(pg))
    penalised = c > 0
    for _ in range(50):
        trial = x + t * direction
        trial[penalised & (np.sign(trial) != orthant)] = 0.0
        smooth, g = f(trial)
        trial_value = _whole(smooth, trial, c)
        finite = math.isfinite(trial_value) and bool(np.isfinite(g).all())
        if finite and trial_value <= value + 1e-4 * float(pg @ (trial - x)):
            return trial, trial_value, g
        t *= 0.5
    return None
