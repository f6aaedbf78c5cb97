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

    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0])).tolist()
    [0.5, 0.25]
    >>> solve(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([2.0, 2.0])).round(12).tolist()
    [1.0, 1.0]
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

    >>> H = np.array([[2.0, 0.0], [0.0, -1.0]])  # a saddle: the plain Newton step climbs
    >>> x = positive_definite_solve(H, np.array([-2.0, -1.0]))
    >>> bool(np.array([2.0, 1.0]) @ x < 0)  # descends along the gradient [2, 1]
    True
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

    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> conjugate_gradient(lambda v: A @ v, np.array([1.0, 2.0])).round(6).tolist()
    [0.090909, 0.636364]
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
