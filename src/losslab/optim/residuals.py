r"""A least-squares problem: residuals, their Jacobian, robust losses and the cost.

:class:`ResidualProblem` evaluates ``residual(x, *args)`` and its Jacobian
(analytic, or forward differences with SciPy's '2-point' step), counts the
evaluations, and re-weights both for a robust loss so that a Gauss-Newton step on
the re-weighted pair is the iteratively re-weighted least-squares step for ρ.
The cost is :math:`\tfrac12\sum_i f^2\rho\big((r_i/f)^2\big)` with ``f = f_scale``
(:math:`\tfrac12\lVert r\rVert^2` for the plain loss). :func:`start_problem`
checks the arguments and evaluates the residuals at the starting point.
Reference: ``scipy.optimize.least_squares`` (its ``loss`` and ``f_scale``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .result import LeastSquaresResult, history_row, status_message

EPS = np.finfo(float).eps
ROBUST_LOSSES = ("linear", "huber", "soft_l1", "cauchy", "arctan")


def robust_rho(z: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""SciPy's robust losses ρ(z) of z = (r / f_scale)², with their first two derivatives.

    .. math::

        \text{linear: } z, \quad
        \text{huber: } z \text{ if } z \le 1 \text{ else } 2\sqrt z - 1, \quad
        \text{soft\_l1: } 2(\sqrt{1 + z} - 1), \quad
        \text{cauchy: } \log(1 + z), \quad
        \text{arctan: } \arctan z

    The cost of a robust fit is :math:`\tfrac12 f^2 \sum_i \rho(r_i^2 / f^2)`; each
    loss is z for small z, so small residuals count as in least squares.

    Parameters
    ----------
    z : ndarray
        Squared scaled residuals, z ≥ 0.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}
        Which ρ.

    Returns
    -------
    rho, rho1, rho2 : ndarray
        ρ(z), ρ'(z) and ρ''(z), each of z's shape.

    Examples
    --------
    >>> rho, rho1, rho2 = robust_rho(np.array([0.25, 4.0]), "huber")
    >>> rho.tolist(), rho1.tolist()
    ([0.25, 3.0], [1.0, 0.5])

    References
    ----------
    ``scipy.optimize.least_squares`` (its ``loss`` argument); Triggs, McLauchlan,
    Hartley & Fitzgibbon, "Bundle Adjustment — A Modern Synthesis" (2000).
    """
    if loss == "linear":
        return z, np.ones_like(z), np.zeros_like(z)
    if loss == "huber":
        small = z <= 1
        big = np.maximum(z, 1)  # z where the branch is used; no 1/0 warning at a zero residual
        root = np.sqrt(big)
        rho = np.where(small, z, 2 * root - 1)
        return rho, np.where(small, 1.0, 1 / root), np.where(small, 0.0, -0.5 / (root * big))
    if loss == "soft_l1":
        t = 1 + z
        return 2 * (np.sqrt(t) - 1), t**-0.5, -0.5 * t**-1.5
    if loss == "cauchy":
        return np.log1p(z), 1 / (1 + z), -1 / (1 + z) ** 2
    if loss == "arctan":
        big = z > 1  # there in powers of 1/z, so that z² cannot overflow
        w, small = 1 / np.where(big, z, 1.0), np.where(big, 0.0, z)
        rho1 = np.where(big, w**2 / (1 + w**2), 1 / (1 + small**2))
        rho2 = np.where(big, -2 * w**3 / (1 + w**2) ** 2, -2 * small / (1 + small**2) ** 2)
        return np.arctan(z), rho1, rho2
    raise ValueError(f"loss: expected one of {ROBUST_LOSSES}, got {loss!r} instead")


class ResidualProblem:
    """Residuals, Jacobian and cost of one problem, counting evaluations (``nfev``, ``njev``).

    Without ``jac`` the Jacobian is forward differences (SciPy's '2-point' step,
    kept inside ``box`` when there is one), and their evaluations count in
    ``nfev``. A robust loss re-weights residuals and Jacobian (:meth:`scaled`) so
    a Gauss-Newton step on them is the robust problem's step, as SciPy does.

    Parameters
    ----------
    residual : callable
        ``residual(x, *args) -> array of shape (m,)``.
    jac : callable, optional
        ``jac(x, *args) -> array of shape (m, n)``.
    args : tuple, default ()
        Extra arguments for ``residual`` and ``jac``.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}, default "linear"
        The robust loss ρ of SciPy's ``least_squares``; "linear" is plain least squares.
    f_scale : float, default 1.0
        The residual scale of the robust loss.
    diff_step : float, optional
        The relative forward-difference step (default √eps).

    Examples
    --------
    >>> problem = ResidualProblem(lambda x: x - 1.0)
    >>> problem.jacobian(np.zeros(2), problem.fun(np.zeros(2))).round(6).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    >>> problem.nfev  # one residual, two for the differences
    3

    References
    ----------
    ``scipy.optimize.least_squares``:
    https://docs.scipy.org/doc/scipy/reference/generated/scipy.optimize.least_squares.html
    """

    def __init__(
        self,
        residual: Callable[..., np.ndarray],
        jac: Callable[..., np.ndarray] | None = None,
        args: tuple[Any, ...] = (),
        loss: str = "linear",
        f_scale: float = 1.0,
        diff_step: float | None = None,
    ) -> None:
        self.residual, self.jac_fn, self.args = residual, jac, args
        self.loss, self.f_scale, self.diff_step = loss, f_scale, diff_step
        self.nfev = self.njev = 0
        self.m: int | None = None  # the number of residuals, fixed by the first evaluation
        self.box: tuple[np.ndarray, np.ndarray] | None = (
            None  # (lb, ub): bounds the difference steps must not cross
        )

    def fun(self, x: np.ndarray) -> np.ndarray:
        """The residuals at x, an array of shape (m,); counts one evaluation in ``nfev``."""
        self.nfev += 1
        r = np.atleast_1d(np.asarray(self.residual(x, *self.args), dtype=np.float64))
        if r.ndim != 1:
            raise ValueError(f"residual: expected a 1-D array of residuals, got shape {r.shape}")
        if self.m is not None and r.shape != (self.m,):
            raise ValueError(f"residual: expected {self.m} residuals, got {r.shape[0]}")
        return r

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """Residuals and cost at a trial point; the cost is inf where a residual is not finite."""
        r = self.fun(x)
        return r, self.cost(r) if np.all(np.isfinite(r)) else np.inf

    def jacobian(self, x: np.ndarray, r: np.ndarray) -> np.ndarray:
        """The Jacobian at x, of shape (m, n): ``jac``, or forward differences from r = fun(x)."""
        if self.jac_fn is None:
            return self._finite_difference_jacobian(x, r)
        self.njev += 1
        J = np.atleast_2d(np.asarray(self.jac_fn(x, *self.args), dtype=np.float64))
        if J.shape != (r.size, x.size):
            raise ValueError(
                f"jac: expected shape ({r.size}, {x.size}), got shape {J.shape} instead"
            )
        return J

    def _finite_difference_jacobian(self, x, r):
        """Forward differences with SciPy's '2-point' step h = √eps·max(1, |x_j|), signed like x_j.

        MINPACK's lmdif steps by √eps·|x_j|; near x_j = 0 that step is so short that
        rounding spoils the difference (the Watson problems of the Moré-Garbow-Hillstrom
        set stop short with it), so the step keeps a floor of √eps. Where
        x_j + h would leave the bounds, the difference is taken the other way.
        """
        rel = np.sqrt(EPS) if self.diff_step is None else self.diff_step
        J = np.empty((r.size, x.size))
        for j in range(x.size):
            h = rel * max(1.0, abs(x[j])) * (-1.0 if x[j] < 0 else 1.0)
            if self.box is not None and not self.box[0][j] <= x[j] + h <= self.box[1][j]:
                h = -h
            xh = x.copy()
            xh[j] += h
            J[:, j] = (self.fun(xh) - r) / (xh[j] - x[j])
        self.njev += 1
        return J

    def cost(self, r: np.ndarray) -> float:
        """½‖r‖², or ½ f² Σ ρ((r / f)²) for a robust loss; inf where it overflows."""
        with np.errstate(over="ignore"):  # a wild trial step may overflow: inf is rejected
            if self.loss == "linear":
                return 0.5 * float(r @ r)
            z = (r / self.f_scale) ** 2
            return 0.5 * self.f_scale**2 * float(np.sum(robust_rho(z, self.loss)[0]))

    def linearize(
        self, x: np.ndarray, r: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The Jacobian at x, the re-weighted residuals and Jacobian, and the gradient Jsᵀrs."""
        J = self.jacobian(x, r)
        rs, Js = self.scaled(r, J)
        return J, rs, Js, Js.T @ rs

    def scaled(self, r: np.ndarray, J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals and Jacobian re-weighted so that Gauss-Newton on them is IRLS for rho."""
        if self.loss == "linear":
            return r, J
        z = (r / self.f_scale) ** 2
        _, rho1, rho2 = robust_rho(z, self.loss)
        j_scale = np.maximum(rho1 + 2 * rho2 * z, EPS) ** 0.5
        return r * (rho1 / j_scale), J * j_scale[:, None]

    def history_row(
        self, iteration: int, cost: float, step: float | np.floating[Any], damping: float
    ) -> dict[str, Any]:
        """A history row: residual (``nfev``) and Jacobian (``njev``) evaluations so far, the damping."""
        return history_row(iteration, cost, self.nfev, step, njev=self.njev, damping=float(damping))

    def result(
        self,
        x: np.ndarray,
        cost: float,
        r: np.ndarray,
        J: np.ndarray,
        g: np.ndarray,
        nit: int,
        status: int,
        history: list[dict[str, Any]],
    ) -> LeastSquaresResult:
        """The :class:`LeastSquaresResult` at x, with this problem's evaluation counts."""
        return LeastSquaresResult(
            x, cost, r, J, g, self.nfev, self.njev, nit, status, status_message(status), history
        )


def start_problem(
    residual: Callable[..., np.ndarray],
    x0: ArrayLike,
    *,
    jac: Callable[..., np.ndarray] | None = None,
    args: tuple[Any, ...] = (),
    loss: str = "linear",
    f_scale: float = 1.0,
    diff_step: float | None = None,
) -> tuple[ResidualProblem, np.ndarray, np.ndarray]:
    """Check the arguments; return the problem, x0 as a flat float array and the residuals there.

    Parameters
    ----------
    residual : callable
        ``residual(x, *args) -> array of shape (m,)``.
    x0 : array-like of shape (n,)
        The start; must be finite.
    jac : callable, optional
        ``jac(x, *args) -> array of shape (m, n)``; differences when None.
    args : tuple, default ()
        Extra arguments for ``residual`` and ``jac``.
    loss : {"linear", "huber", "soft_l1", "cauchy", "arctan"}, default "linear"
        The robust loss ρ of SciPy's ``least_squares``; "linear" is plain least squares.
    f_scale : float, default 1.0
        The residual scale of the robust loss, > 0.
    diff_step : float, optional
        The relative forward-difference step (default √eps).

    Returns
    -------
    problem : ResidualProblem
        Counting the one evaluation made at x0.
    x : ndarray of shape (n,)
        x0 as float64.
    r : ndarray of shape (m,)
        Finite, or a ValueError says so.

    Examples
    --------
    >>> problem, x, r = start_problem(lambda x: x - 1.0, [0.0, 0.0])
    >>> r.tolist(), problem.nfev, problem.cost(r)
    ([-1.0, -1.0], 1, 1.0)

    References
    ----------
    ``scipy.optimize.least_squares``:
    https://docs.scipy.org/doc/scipy/reference/generated/scipy.optimize.least_squares.html
    """
    x = np.array(x0, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise ValueError("x0: expected finite starting parameters")
    if loss not in ROBUST_LOSSES:
        raise ValueError(f"loss: expected one of {ROBUST_LOSSES}, got {loss!r} instead")
    if not f_scale > 0:
        raise ValueError(f"f_scale: expected a positive number, got {f_scale}")
    problem = ResidualProblem(residual, jac, args, loss, f_scale, diff_step)
    r = problem.fun(x)
    if not np.all(np.isfinite(r)):
        raise ValueError("residual: non-finite residuals at the starting point x0")
    problem.m = r.size
    return problem, x, r


class Tolerances(NamedTuple):
    """The stopping tests' thresholds and the evaluation budget (see :func:`tolerances`).

    Attributes
    ----------
    ftol : float
        The relative fall of the cost below which the solver stops.
    xtol : float
        The relative step below which it stops.
    gtol : float
        The gradient measure below which it stops.
    max_nfev : int
        The residual evaluations allowed.

    Examples
    --------
    >>> tol = Tolerances(ftol=1e-8, xtol=1e-8, gtol=1e-8, max_nfev=200)
    >>> tol.max_nfev, tol == tolerances(1e-8, 1e-8, 1e-8, None, 2, analytic=True)
    (200, True)

    References
    ----------
    Moré, Garbow & Hillstrom, *User Guide for MINPACK-1*, Argonne ANL-80-74 (1980).
    """

    ftol: float
    xtol: float
    gtol: float
    max_nfev: int


def tolerances(
    ftol: float, xtol: float, gtol: float, max_nfev: int | None, n: int, analytic: bool
) -> Tolerances:
    """The stopping tolerances, checked; max_nfev defaults to 100·n evaluations of the residual
    with an analytic Jacobian and 100·n·(n + 1) with differences, whose n evaluations per
    Jacobian count too (MINPACK's lmder and lmdif budgets).

    Parameters
    ----------
    ftol, xtol, gtol : float
        Non-negative.
    max_nfev : int or None
        Evaluations of the residual allowed; None for MINPACK's default.
    n : int
        The number of variables.
    analytic : bool
        Whether the Jacobian is given.

    Returns
    -------
    Tolerances
        The four, checked.

    Examples
    --------
    >>> tolerances(1e-8, 1e-8, 1e-8, None, 3, analytic=False).max_nfev
    1200

    References
    ----------
    Moré, Garbow & Hillstrom, *User Guide for MINPACK-1*, Argonne ANL-80-74 (1980).
    """
    for name, value in (("ftol", ftol), ("xtol", xtol), ("gtol", gtol)):
        if not value >= 0:
            raise ValueError(f"{name}: expected a non-negative number, got {value}")
    if max_nfev is None:
        max_nfev = 100 * n if analytic else 100 * n * (n + 1)
    elif not max_nfev >= 1:
        raise ValueError(f"max_nfev: expected a positive number of evaluations, got {max_nfev}")
    return Tolerances(ftol, xtol, gtol, max_nfev)


def check_bounds(
    bounds: tuple[ArrayLike, ArrayLike] | None, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``bounds=(lb, ub)`` as two float arrays of x0's length, or None when there are no finite bounds.

    Each of lb, ub is a number or an array of len(x0); ±inf leaves a side free.
    lb < ub is required, and x0 must lie within the bounds.

    Parameters
    ----------
    bounds : (lb, ub) or None
        Numbers or arrays of length n, ±inf for a free side.
    x0 : ndarray of shape (n,)
        The start, whose length the bounds must match.

    Returns
    -------
    (lb, ub) of float ndarrays of shape (n,), or None
        None when every bound is infinite.

    Examples
    --------
    >>> lb, ub = check_bounds((0, [1, 2]), np.zeros(2))
    >>> lb.tolist(), ub.tolist()
    ([0.0, 0.0], [1.0, 2.0])
    >>> check_bounds(([-np.inf] * 2, np.inf), np.zeros(2)) is None
    True

    References
    ----------
    ``scipy.optimize.least_squares``:
    https://docs.scipy.org/doc/scipy/reference/generated/scipy.optimize.least_squares.html (its
    ``bounds``).
    """
    if bounds is None:
        return None
    lb: Any  # each side as an array, or None when bounds cannot be read
    ub: Any
    try:
        lb, ub = (np.asarray(b, dtype=np.float64) for b in bounds)
    except (TypeError, ValueError):
        lb = ub = None
    if lb is None or any(b.shape not in ((), x0.shape) for b in (lb, ub)):
        raise ValueError(
            f"bounds: expected (lb, ub), each a number or an array of length {x0.size}"
        )
    lb, ub = np.broadcast_to(lb, x0.shape).copy(), np.broadcast_to(ub, x0.shape).copy()
    if np.any(np.isnan(lb)) or np.any(np.isnan(ub)) or not np.all(lb < ub):
        raise ValueError("bounds: expected lb < ub for every parameter")
    if not np.all((lb <= x0) & (x0 <= ub)):
        raise ValueError("x0: expected a starting point within the bounds")
    if np.all(np.isinf(lb)) and np.all(np.isinf(ub)):
        return None
    return lb, ub
