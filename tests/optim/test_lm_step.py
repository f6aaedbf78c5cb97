"""MINPACK's step pieces: the pivoted QR and the damping found for a step bound, against NumPy."""

import numpy as np
import pytest

from losslab.optim.lm_step import lm_parameter, qr_pivoted

RNG = np.random.default_rng(0)
J = RNG.standard_normal((8, 4)) * np.array([1e3, 1.0, 1e-2, 10.0])  # badly scaled columns
R_VEC = RNG.standard_normal(8)


def test_qr_with_column_pivoting_factorises_the_permuted_jacobian():
    R, perm, qtr, col_norms = qr_pivoted(J, R_VEC)
    assert sorted(perm) == [0, 1, 2, 3] and perm[0] == 0  # the largest column first
    np.testing.assert_allclose(np.triu(R), R)
    assert np.all(np.diff(np.abs(np.diag(R))) <= 0)  # pivoting orders the diagonal
    np.testing.assert_allclose(R.T @ R, J[:, perm].T @ J[:, perm], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(col_norms, np.linalg.norm(J, axis=0))
    # Qᵀr: R z = Qᵀr is the least-squares solution of J[:, perm] z ≈ r
    z = np.linalg.solve(R, qtr)
    np.testing.assert_allclose(z, np.linalg.lstsq(J[:, perm], R_VEC, rcond=None)[0], rtol=1e-10)


@pytest.mark.parametrize("delta", [1e-4, 1e-2, 0.3])
def test_the_damped_step_has_the_requested_length(delta):
    R, perm, qtr, col_norms = qr_pivoted(J, R_VEC)
    par, step = lm_parameter(R, perm, col_norms, qtr, delta, 0.0)
    assert par > 0
    assert abs(np.linalg.norm(col_norms * step) - delta) <= 0.1 * delta  # within 10% of Δ
    damped = J.T @ J + par * np.diag(col_norms**2)
    np.testing.assert_allclose(damped @ step, -J.T @ R_VEC, rtol=1e-8, atol=1e-12)


def test_the_gauss_newton_step_is_taken_when_it_fits():
    R, perm, qtr, col_norms = qr_pivoted(J, R_VEC)
    par, step = lm_parameter(R, perm, col_norms, qtr, 1e6, 0.0)
    assert par == 0.0
    np.testing.assert_allclose(step, -np.linalg.lstsq(J, R_VEC, rcond=None)[0], rtol=1e-10)


def test_a_rank_deficient_jacobian_still_gives_a_damped_step():
    singular = np.column_stack([J[:, 0], J[:, 0], J[:, 1]])  # two equal columns
    R, perm, qtr, col_norms = qr_pivoted(singular, R_VEC)
    par, step = lm_parameter(R, perm, col_norms, qtr, 1e-2, 0.0)
    assert par > 0 and np.all(np.isfinite(step))
    assert abs(np.linalg.norm(col_norms * step) - 1e-2) <= 1e-3
