r"""The Levenberg-Marquardt step as MINPACK computes it.

- :func:`qr_pivoted`: Householder QR of the Jacobian with column pivoting,
  :math:`JP = QR`, with :math:`Q^Tr` and the column norms of J (MINPACK's ``qrfac``);
- :func:`lm_parameter`: the damping λ (MINPACK's ``par``) for which the step
  :math:`(J^TJ + λD^2)\,δ = -J^Tr` has :math:`\lVert Dδ\rVert` within 10% of the
  step bound Δ, or λ = 0 when the Gauss-Newton step already fits (``lmpar``):
  a safeguarded Newton iteration on :math:`\lVert Dδ(λ)\rVert - Δ`, at most 10 steps;
- the damped least-squares solve behind it (``qrsolv``) factorises
  :math:`[R;\ \sqrt{λ}\,DP]` by one QR instead of Givens rotations: the same
  triangular factor, computed by LAPACK.

Reference: J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and
theory", Numerical Analysis, Lecture Notes in Mathematics 630 (1978); MINPACK-1
(Moré, Garbow, Hillstrom, Argonne report ANL-80-74, 1980).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Real = float | np.floating[Any]  # a Python or NumPy scalar

EPS = np.finfo(float).eps
DWARF = np.finfo(float).tiny


def qr_pivoted(
    J: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""``(R, perm, qtr, col_norms)`` with ``J[:, perm] = Q R`` and ``qtr`` the first n entries of Qᵀr.

    Needs m ≥ n (pad J and r with zero rows otherwise). The pivot is the
    remaining column of largest norm, the norms downdated as MINPACK does
    and recomputed when the downdate has lost most of their digits.

    .. math::

        J P = Q R, \qquad P = I[:, \text{perm}]

    Parameters
    ----------
    J : np.ndarray of shape (m, n)
        The Jacobian, m ≥ n; not modified (the factorisation works on a float64 copy).
    r : np.ndarray of shape (m,)
        The residual vector.

    Returns
    -------
    R : np.ndarray of shape (n, n)
        Upper triangular, with diagonal magnitudes non-increasing.
    perm : np.ndarray of shape (n,)
        The column permutation P, as indices.
    qtr : np.ndarray of shape (n,)
        The first n entries of Qᵀr.
    col_norms : np.ndarray of shape (n,)
        The Euclidean norms of J's columns, in J's order (MINPACK's ``acnorm``).

    Examples
    --------
    >>> J = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    >>> R, perm, qtr, col_norms = qr_pivoted(J, np.array([1.0, 2.0, 3.0]))
    >>> perm.tolist()  # the second column has the larger norm, so it goes first
    [1, 0]
    >>> bool(np.allclose(R.T @ R, J[:, perm].T @ J[:, perm]))
    True
    >>> np.round(col_norms, 4).tolist()
    [1.4142, 2.2361]

    References
    ----------
    MINPACK-1's ``qrfac`` (Moré, Garbow and Hillstrom, ANL-80-74, 1980); G. H. Golub
    and C. F. Van Loan, *Matrix Computations*, section 5.4.1 (QR with column pivoting).
    """
    A = np.array(J, dtype=np.float64)
    qtr = np.array(r, dtype=np.float64)
    n = A.shape[1]
    perm = np.arange(n)
    col_norms = np.linalg.norm(A, axis=0)
    norms, reference = col_norms.copy(), col_norms.copy()
    for j in range(n):
        k = j + int(np.argmax(norms[j:]))  # the first of equal norms, like MINPACK's strict '>'
        if k != j:
            A[:, [j, k]] = A[:, [k, j]]
            perm[[j, k]] = perm[[k, j]]
            norms[k], reference[k] = norms[j], reference[j]
        v_norm = np.linalg.norm(A[j:, j])
        if v_norm != 0:
            v_norm = -v_norm if A[j, j] < 0 else v_norm
            v = A[j:, j] / v_norm
            v[0] += 1.0
            A[j:, j + 1 :] -= np.outer(v, (v @ A[j:, j + 1 :]) / v[0])
            qtr[j:] -= v * ((v @ qtr[j:]) / v[0])
            _downdate_norms(A, j, norms, reference)
        A[j, j] = -v_norm
    return np.triu(A[:n]), perm, qtr[:n], col_norms


def _downdate_norms(A, j, norms, reference):
    """Norms of the columns right of j without row j; recomputed where the update cancelled."""
    rest = np.arange(j + 1, A.shape[1])
    rest = rest[norms[rest] != 0]
    ratio = A[j, rest] / norms[rest]
    norms[rest] *= np.sqrt(np.maximum(0.0, 1.0 - ratio**2))
    stale = rest[0.05 * (norms[rest] / reference[rest]) ** 2 <= EPS]
    norms[stale] = np.linalg.norm(A[j + 1 :, stale], axis=0)
    reference[stale] = norms[stale]


def lm_parameter(
    R: np.ndarray,
    perm: np.ndarray,
    diag: np.ndarray,
    qtr: np.ndarray,
    delta: float,
    par: Real,
) -> tuple[Real, np.ndarray]:
    r"""MINPACK's ``lmpar``: ``(λ, δ)``, δ minimising :math:`\lVert Jδ + r\rVert^2 + λ\lVert Dδ\rVert^2`.

    ``R, perm, qtr`` come from :func:`qr_pivoted`, ``diag`` is D, ``delta`` the
    step bound and ``par`` the previous λ (a starting guess). λ = 0 (the
    Gauss-Newton step, least squares when J is rank deficient) when that step
    satisfies ‖Dδ‖ ≤ 1.1Δ; otherwise ‖Dδ‖ is within 10% of Δ after at most ten
    Newton corrections, λ kept between bounds that tighten as it goes. The step
    solves

    .. math::

        (J^TJ + λD^2)\,δ = -J^Tr

    Parameters
    ----------
    R : np.ndarray of shape (n, n)
        The triangular factor of :func:`qr_pivoted`.
    perm : np.ndarray of shape (n,)
        Its column permutation.
    diag : np.ndarray of shape (n,)
        The scaling D, positive, in J's column order.
    qtr : np.ndarray of shape (n,)
        The first n entries of Qᵀr.
    delta : float
        The step bound Δ > 0.
    par : float
        The previous λ ≥ 0, a starting guess.

    Returns
    -------
    par : float
        The damping λ ≥ 0.
    step : np.ndarray of shape (n,)
        The step δ, in J's column order.

    Examples
    --------
    >>> J = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    >>> r = np.array([1.0, 2.0, 3.0])
    >>> R, perm, qtr, _ = qr_pivoted(J, r)
    >>> lm_parameter(R, perm, np.ones(2), qtr, delta=10.0, par=0.0)[0]  # Gauss-Newton fits
    0.0
    >>> lam, step = lm_parameter(R, perm, np.ones(2), qtr, delta=0.5, par=0.0)
    >>> bool(abs(np.linalg.norm(step) - 0.5) <= 0.05)  # within 10% of the bound
    True
    >>> bool(np.allclose(step, np.linalg.solve(J.T @ J + lam * np.eye(2), -J.T @ r)))
    True

    References
    ----------
    J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and theory",
    Lecture Notes in Mathematics 630 (1978); MINPACK-1's ``lmpar``.
    """
    step = _gauss_newton_step(R, perm, qtr)
    scaled = diag * step
    dxnorm = np.linalg.norm(scaled)
    fp = dxnorm - delta
    if fp <= 0.1 * delta:
        return 0.0, -step
    full_rank = np.all(np.diag(R) != 0)
    lower = (
        fp / delta / _squared_norm_of_solve(R, diag * scaled / dxnorm, perm) if full_rank else 0.0
    )
    gnorm = np.linalg.norm((R.T @ qtr) / diag[perm])
    upper: Real = gnorm / delta if gnorm != 0 else DWARF / min(delta, 0.1)
    par = min(max(par, lower), upper)
    if par == 0:
        par = gnorm / dxnorm
    for iteration in range(1, 11):
        if par == 0:
            par = max(DWARF, 0.001 * upper)
        step, S = _damped_step(R, perm, diag, qtr, par)
        scaled = diag * step
        dxnorm = np.linalg.norm(scaled)
        previous, fp = fp, dxnorm - delta
        if abs(fp) <= 0.1 * delta or (lower == 0 and fp <= previous < 0) or iteration == 10:
            break
        correction = fp / delta / _squared_norm_of_solve(S, diag * scaled / dxnorm, perm)
        if fp > 0:
            lower = max(lower, par)
        elif fp < 0:
            upper = min(upper, par)
        par = max(lower, par + correction)
    return par, -step  # the solves above give -δ: R z = Qᵀr fits J z ≈ r


def _gauss_newton_step(R, perm, qtr):
    """The solution of R z = Qᵀr, unpermuted; components from the first zero pivot on are 0."""
    zero = np.flatnonzero(np.diag(R) == 0)
    rank = int(zero[0]) if zero.size else len(qtr)
    z = np.zeros(len(qtr))
    z[:rank] = _back_substitute(R[:rank, :rank], qtr[:rank])
    step = np.empty_like(z)
    step[perm] = z
    return step


def _damped_step(R, perm, diag, qtr, par):
    """The step of damping ``par`` and the triangular S with SᵀS = Pᵀ(JᵀJ + par·D²)P (``qrsolv``)."""
    n = len(qtr)
    stacked = np.vstack([R, np.diag(np.sqrt(par) * diag[perm])])
    Q, S = np.linalg.qr(stacked)
    z = _back_substitute(S, Q[:n].T @ qtr)
    step = np.empty(n)
    step[perm] = z
    return step, S


def _squared_norm_of_solve(T, v, perm):
    """‖w‖² for Tᵀw = (v permuted): the derivative term of MINPACK's λ bounds and corrections."""
    w = _forward_substitute(T.T, v[perm])
    return float(w @ w)


def _back_substitute(U, b):
    """Solve U x = b for upper-triangular U."""
    x = np.zeros(len(b))
    for i in range(len(b) - 1, -1, -1):
        x[i] = (b[i] - U[i, i + 1 :] @ x[i + 1 :]) / U[i, i]
    return x


def _forward_substitute(L, b):
    """Solve L x = b for lower-triangular L."""
    x = np.zeros(len(b))
    for i in range(len(b)):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]
    return x
