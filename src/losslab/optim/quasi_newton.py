r"""L-BFGS and steepest descent with a backtracking line search, for a smooth scalar objective.

Both take ``fun_and_grad(x) -> (value, gradient)`` and share one loop: the
search direction (the L-BFGS inverse-Hessian product over the last ``memory``
curvature pairs, in its compact form, or the plain negative gradient), a first
step of unit length, an Armijo backtracking line search, and the same stopping
rules and callback. The full-batch training
solvers of :mod:`losslab.training` run on them.
Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed.), Algorithm 7.4.
"""

from __future__ import annotations

import math
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
    L-BFGS inverse Hessian (the two-loop recursion's, formed in the compact
    representation) over the last ``memory`` (s, y) pairs times the gradient;
    the step length comes from a backtracking Armijo search from 1 (from a
    step of length 1 on the first iteration). Stops when ``‖∇f‖∞ < gtol`` or the
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


def _descend(fun_and_grad, x0, memory, gtol, ftol, max_iter, callback, kinks=None):
    """The line-search loop of L-BFGS (memory > 0) and steepest descent (memory = 0).

    ``kinks``: the non-smooth part of the objective, for OWL-QN
    (:mod:`~losslab.optim.orthant_wise`): its value is added to f's, its
    steepest-descent subgradient replaces the gradient in the search, which
    keeps to one orthant; the curvature pairs stay f's.
    """
    x = np.array(x0, dtype=np.float64).ravel()
    f = _Counted(fun_and_grad if kinks is None else kinks.adding_to(fun_and_grad))
    value, g = f(x)
    if not np.isfinite(value):
        raise ValueError("fun: non-finite objective at the starting point x0")
    pairs = _CurvaturePairs(memory, x.size)
    history = [history_row(0, float(value), f.calls, 0.0)]
    status, nit, t, message, restarted = 0, 0, None, None, False
    for nit in range(1, max_iter + 1):
        steepest = g if kinks is None else kinks.steepest(x, g)
        if np.abs(steepest).max(initial=0.0) < gtol:
            status = 1
            break
        direction = _search_direction(steepest, pairs, kinks)
        unit_step = not len(pairs) and (memory > 0 or t is None)  # not scaled by earlier steps
        t = _first_step_length(t, direction, pairs, memory)
        t, trial, new_value, new_g = _line_search(f, x, value, steepest, direction, t, kinks)
        if t is None and restarted:  # neither the scaled step nor a unit one changes the value:
            status = 2  # the minimum at float64 precision (a penalty of 1e100 scales it to 1e-100)
            break
        if t is None:  # the message says why: new_value is the last value tried
            status, message = -1, _search_failure(new_value, new_g)
            break
        s = t * direction if kinks is None else trial - x  # an orthant's step may stop at 0
        fall = value - new_value
        restart = fall == 0 and not unit_step
        if restart:
            # a step too short to change the value at all, its length set by earlier steps
            # (curvature pairs, or gradient descent's last length): their scale is suspect (one
            # gradient change of 1e98 makes H ~1e-98), not the minimum, so no ftol stop yet:
            # the next iteration starts again with a unit step, and stops if it fares no better
            pairs.clear()
            t = None
        else:
            pairs.remember(s, new_g - g)
        x, value, g, restarted = x + s, new_value, new_g, restart
        history.append(history_row(nit, float(value), f.calls, _norm(s)))
        status = _stop_status(nit, x, value, math.inf if restart else fall, ftol, callback)
        if status:
            break
    message = message or status_message(status, "iterations")
    grad = g if kinks is None else kinks.steepest(x, g)
    return LeastSquaresResult(
        x, float(value), np.array([]), None, grad, f.calls, f.calls, nit, status, message, history
    )


def _search_direction(g, pairs, kinks=None):
    """-H·g from the pairs (kept to g's orthant where there are kinks); the negative gradient
    (and no pairs) when that would not descend."""
    direction = -pairs.inverse_hessian_times(g)
    if kinks is not None:
        kinks.constrain(direction, g)
    with np.errstate(over="ignore"):  # -inf (a gradient past 1e154) descends
        slope = g @ direction
    if slope >= 0:  # not a descent direction (bad curvature pairs): restart
        pairs.clear()
        direction = -g
    return direction


def _first_step_length(t, direction, pairs, memory):
    """1 for a quasi-Newton step; twice the last length for steepest descent; else a unit step.

    Without curvature pairs (the first iteration, or after a restart) the step
    is cut to length 1, t = 1/‖d‖₂, as SciPy's L-BFGS-B starts: the shorter
    1/‖g‖₁ this replaced cost iris 20 evaluations a fit instead of 15 (RESULTS.md).
    """
    if len(pairs):
        return 1.0
    if memory == 0 and t is not None:
        return t * 2.0  # steepest descent: try a longer step than last time
    return min(1.0, 1.0 / max(_norm(direction), 1e-12))


def _norm(v):
    """‖v‖₂, also where its square overflows (entries past 1e154): then as max|v|·‖v / max|v|‖₂."""
    with np.errstate(over="ignore"):
        norm = float(np.linalg.norm(v))
    if math.isinf(norm):
        largest = float(np.abs(v).max())
        norm = largest * float(np.linalg.norm(v / largest))
    return norm


def _line_search(f, x, value, g, direction, t, kinks=None):
    """Armijo backtracking from t: (t, point, value, gradient) there; after 50 halvings, (None,
    None, the last value and gradient tried).

    A point whose value or gradient is not finite is stepped back from, never
    taken. Where the slope g·d overflows (a gradient past 1e154), it is measured
    per unit of max|d|, so that the test t·slope stays finite. With kinks, each
    trial is projected onto the orthant and the test is g·(trial − x) (Andrew &
    Gao's), already scaled by the step.
    """
    unit = 1.0
    with np.errstate(over="ignore"):
        slope = 1e-4 * float(g @ direction)
    if math.isinf(slope):
        unit = float(np.abs(direction).max())
        slope = 1e-4 * float(g @ (direction / unit))
    for _ in range(50):
        trial = x + t * direction
        bound = (t * unit) * slope
        if kinks is not None:
            kinks.project(trial, x, g)
            with np.errstate(over="ignore"):  # -inf: no decrease accepted, a shorter step
                bound = 1e-4 * float(g @ (trial - x))
        new_value, new_g = f(trial)
        if math.isfinite(new_value) and new_value <= value + bound and np.isfinite(new_g).all():
            return t, trial, new_value, new_g
        t *= 0.5
    return None, None, new_value, new_g


def _search_failure(value, g):
    """Why a line search failed, from the value and gradient of its shortest step."""
    if not (math.isfinite(value) and np.isfinite(g).all()):
        return (
            "the line search found no point where the objective and its gradient are finite: "
            "they overflow along the search direction"
        )
    return "the line search found no step that decreases the objective (at float64 precision)"


def _stop_status(nit, x, value, fall, ftol, callback):
    """2 when the fall was below ftol·|f|, -2 when the callback asks to stop, else 0."""
    if fall <= ftol * max(abs(value), 1e-300):
        return 2
    if callback is not None and callback(nit, x, value):
        return -2
    return 0


class _CurvaturePairs:
    r"""The last ``memory`` curvature pairs (s, y) of L-BFGS, stacked, and the H·g they define.

    H is the L-BFGS inverse-Hessian approximation, :math:`H_0 = \gamma I` with
    :math:`\gamma = s^\top y / y^\top y` of the newest pair, updated by BFGS with
    each pair in turn. H·g is formed in the compact representation of Byrd,
    Nocedal & Schnabel (1994; Nocedal & Wright eq. 7.24), with S, Y the pairs as
    rows, :math:`R` the upper triangle of :math:`S Y^\top` and D its diagonal:

    .. math::

        H g = \gamma g + S^\top p - \gamma Y^\top u, \qquad
        u = R^{-1} S g, \qquad
        p = R^{-\top}\big((D + \gamma Y Y^\top) u - \gamma Y g\big)

    the same vector as the two-loop recursion (Algorithm 7.4) up to rounding, in
    a fixed dozen of NumPy calls instead of four per pair (21 against 73 µs
    at 10 pairs of 62 entries, measured alternately on the same machine).

    Parameters
    ----------
    memory : int
        How many pairs are kept (0 keeps none: H = I).
    size : int
        The length n of each vector.

    Examples
    --------
    On a quadratic with Hessian A every pair has y = A s, and n pairs along
    A-conjugate directions (as exact line searches make them) give H = A⁻¹:

    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> pairs = _CurvaturePairs(memory=5, size=2)
    >>> for s in (np.array([1.0, 0.0]), np.array([-1.0, 3.0])):  # s₁ᵀ A s₂ = 0
    ...     pairs.remember(s, A @ s)
    >>> g = np.array([1.0, -1.0])
    >>> bool(np.allclose(pairs.inverse_hessian_times(g), np.linalg.solve(A, g)))
    True

    References
    ----------
    Byrd, Nocedal & Schnabel, "Representations of quasi-Newton matrices and their
    use in limited memory methods", Mathematical Programming 63 (1994);
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), section 7.2.
    """

    def __init__(self, memory: int, size: int) -> None:
        self.memory = memory
        self._S = np.empty((memory, size))  # the pairs, oldest first, in the first `count` rows
        self._Y = np.empty((memory, size))
        # S Yᵀ of the kept pairs, updated a row and a column a pair (2·m·n, not m²·n, a step)
        self._SY = np.empty((memory, memory))
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def S(self) -> np.ndarray:
        """The steps s, oldest first, as rows."""
        return self._S[: self.count]

    @property
    def Y(self) -> np.ndarray:
        """The gradient changes y, oldest first, as rows."""
        return self._Y[: self.count]

    def clear(self) -> None:
        """Forget every pair (H = I again)."""
        self.count = 0

    def remember(self, s: np.ndarray, y: np.ndarray) -> None:
        """Keep (s, y) if sᵀy > 0 (the BFGS update then stays positive definite), dropping the oldest.

        A pair whose yᵀy is 0 (a gradient change that underflows) or overflows is
        refused too: H₀'s scale sᵀy / yᵀy would divide by zero, or be 0.

        Parameters
        ----------
        s : ndarray of shape (n,)
            The step taken.
        y : ndarray of shape (n,)
            The change of the gradient over it.
        """
        with np.errstate(over="ignore"):  # an overflowing yᵀy is refused, not an error
            yy = float(y @ y)
            # "not >": a NaN curvature (from a NaN gradient) is refused too, never stored
            refused = not 0 < yy < math.inf or not s @ y > 1e-12 * math.sqrt((s @ s) * yy)
        if not self.memory or refused:
            return
        if self.count == self.memory:  # full: the oldest row goes
            self._S[:-1], self._Y[:-1] = self._S[1:], self._Y[1:]
            self._SY[:-1, :-1] = self._SY[1:, 1:]
            self.count -= 1
        k = self.count
        self._S[k], self._Y[k] = s, y
        self._SY[k, : k + 1] = self._Y[: k + 1] @ s  # s_k · y_j
        self._SY[:k, k] = self._S[:k] @ y  # s_i · y_k
        self.count += 1

    def inverse_hessian_times(self, g: np.ndarray) -> np.ndarray:
        """H·g (g itself while no pair is kept).

        Parameters
        ----------
        g : ndarray of shape (n,)
            The vector, a gradient.

        Returns
        -------
        ndarray of shape (n,)
            H·g, a new array.
        """
        # LAPACK's triangular solve reads only R's triangle of S Yᵀ (scikit-learn has
        # already imported scipy.linalg; importing it at the top would slow `import losslab`)
        from scipy.linalg.lapack import dtrtrs

        if not self.count:
            return g.copy()
        S, Y = self.S, self.Y
        SY = self._SY[: self.count, : self.count]
        gamma = SY[-1, -1] / (Y[-1] @ Y[-1])
        u = dtrtrs(SY, S @ g)[0]
        Yu = Y.T @ u
        middle = np.diag(SY) * u + gamma * (Y @ Yu - Y @ g)
        p = dtrtrs(SY, middle, trans=1)[0]
        return gamma * (g - Yu) + S.T @ p
