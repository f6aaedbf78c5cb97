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
:func:`~losslab.optim.quasi_newton.lbfgs`. It is L-BFGS's own loop (curvature
pairs, first step, restarts, overflow-safe line search, stopping rules), given
the L1 part as its ``kinks``; this module says what the kinks change.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .quasi_newton import _descend
from .result import LeastSquaresResult


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
    return _descend(fun_and_grad, x, memory, gtol, ftol, max_iter, callback, _L1Kinks(c))


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


class _L1Kinks:
    """The L1 part c·|x| as L-BFGS's loop takes it (``kinks`` of ``quasi_newton._descend``)."""

    def __init__(self, c):
        self.c, self.penalised = c, c > 0

    def adding_to(self, fun_and_grad):
        """fun_and_grad with c·|x| added to its value (the gradient stays the smooth part's)."""

        def whole(x):
            value, g = fun_and_grad(x)
            with np.errstate(over="ignore"):  # inf: a trial too far, stepped back from
                return float(value) + float(self.c @ np.abs(x)), g

        return whole

    def steepest(self, x, g):
        return pseudo_gradient(x, g, self.c)

    def constrain(self, direction, steepest):
        """Set the penalised entries that disagree in sign with -◊ to 0 (in place)."""
        direction[self.penalised & (np.sign(direction) != -np.sign(steepest))] = 0.0

    def project(self, trial, x, steepest):
        """Stop the penalised entries that would leave x's orthant at 0 (in place); a zero
        entry's orthant is the side -◊ points to."""
        orthant = np.where(x != 0, np.sign(x), -np.sign(steepest))
        trial[self.penalised & (np.sign(trial) != orthant)] = 0.0
