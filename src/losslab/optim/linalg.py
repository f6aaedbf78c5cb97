r"""The linear algebra the second-order solvers share: one linear system per step.

- :func:`solve`: :math:`A x = b`, by least squares when A is singular (the
  Gauss-Newton and Levenberg-Marquardt steps);
- :func:`positive_definite_solve`: :math:`(H + \tau I) x = b` with the smallest
  shift τ that makes the matrix positive definite, so ``x`` is a descent direction
  when ``b = -∇f`` (Newton's step, the Newton path of the loss-surface figures);
- :func:`conjugate_gradient`: :math:`H x = b` from Hessian-vector products only
  (Newton-CG and the trust-region Newton step).

Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed.), sections 3.4 and 5.1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``A x = b``; the least-squares (minimum-norm) solution when ``A`` is singular.

    LAPACK's LU solve (``numpy.linalg.solve``); where it reports a singular
    matrix, ``numpy.linalg.lstsq`` (SVD) gives the solution of least norm among
    those of least residual.

    Parameters
    ----------
    A : np.ndarray of shape (n, n)
        The matrix, e.g. JᵀJ (+ λD²).
    b : np.ndarray of shape (n,)
        The right-hand side.

    Returns
    -------
    np.ndarray of shape (n,)
        x.

    Examples
    --------
    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0])).tolist()
    [0.5, 0.25]
    >>> solve(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([2.0, 2.0])).round(12).tolist()
    [1.0, 1.0]

    References
    ----------
    G. H. Golub and C. F. Van Loan, *Matrix Computations*, 4th ed. (2013),
    sections 3.2 (LU) and 5.5 (rank-deficient least squares).
    """
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]


def positive_definite_solve(H: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""Solve :math:`(H + \tau I)\,x = b` with the smallest τ ≥ 0 that makes it positive definite.

    τ starts at 0 and, while the Cholesky factorisation fails, becomes
    ``1e-3·max|diag(H)|`` and then doubles (at most 60 tries). With ``b = -∇f``
    the result is a descent direction even where the Hessian ``H`` is indefinite;
    if no shift works, ``b`` itself is returned (steepest descent).

    Parameters
    ----------
    H : np.ndarray of shape (n, n)
        A symmetric matrix, e.g. a Hessian, possibly indefinite.
    b : np.ndarray of shape (n,)
        The right-hand side, e.g. -∇f.

    Returns
    -------
    np.ndarray of shape (n,)
        x; ``b`` itself when no shift made the matrix positive definite.

    Examples
    --------
    >>> H = np.array([[2.0, 0.0], [0.0, -1.0]])  # a saddle: the plain Newton step climbs
    >>> x = positive_definite_solve(H, np.array([-2.0, -1.0]))
    >>> bool(np.array([2.0, 1.0]) @ x < 0)  # descends along the gradient [2, 1]
    True

    References
    ----------
    Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006), section 3.4
    (Algorithm 3.3, Cholesky with added multiple of the identity).
    """
    tau = 0.0
    scale = max(np.abs(np.diag(H)).max(), 1e-12)
    for _ in range(60):
        try:
            L = np.linalg.cholesky(H + tau * np.eye(len(H)))
            return np.linalg.solve(L.T, np.linalg.solve(L, b))
        except np.linalg.LinAlgError:
            tau = max(2 * tau, 1e-3 * scale)
    return b  # the Hessian is hopeless: fall back to steepest descent


def conjugate_gradient(
    hv: Callable[[np.ndarray], np.ndarray],
    b: np.ndarray,
    tol: float = 1e-10,
    max_iter: int | None = None,
) -> np.ndarray:
    """Approximately solve ``H x = b`` given only ``hv(v) = H v``.

    Stops when the residual falls below ``tol·‖b‖``, after ``max_iter``
    iterations (default ``2·len(b)``), or at the first direction of non-positive
    curvature: then it returns the iterate reached so far, or ``b`` if that is
    still zero, so that with ``b = -∇f`` the result always descends.

    Parameters
    ----------
    hv : callable
        ``hv(v) -> H v``, an array of shape (n,), for a symmetric H.
    b : np.ndarray of shape (n,)
        The right-hand side.
    tol : float
        The relative residual ‖b − H x‖ / ‖b‖ at which to stop.
    max_iter : int, optional
        The most iterations; default 2n.

    Returns
    -------
    np.ndarray of shape (n,)
        The approximate solution x.

    Examples
    --------
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> conjugate_gradient(lambda v: A @ v, np.array([1.0, 2.0])).round(6).tolist()
    [0.090909, 0.636364]

    References
    ----------
    M. R. Hestenes and E. Stiefel, "Methods of Conjugate Gradients for Solving
    Linear Systems", J. Res. NBS 49 (1952); Nocedal & Wright, *Numerical
    Optimization*, 2nd ed. (2006), Algorithm 5.2 and section 7.1 (Newton-CG).
    """
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    for _ in range(max_iter or 2 * len(b)):
        Hp = hv(p)
        curvature = p @ Hp
        if curvature <= 0:
            return x if x.any() else b
        alpha = (r @ r) / curvature
        x += alpha * p
        r_new = r - alpha * Hp
        if np.linalg.norm(r_new) < tol * np.linalg.norm(b):
            break
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    return x
