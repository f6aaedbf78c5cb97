"""The solvers' shared linear algebra against NumPy's direct solutions."""

import numpy as np
import pytest

from losslab.optim.linalg import conjugate_gradient, positive_definite_solve, solve

RNG = np.random.default_rng(0)
M = RNG.standard_normal((8, 8))
SPD = M @ M.T + 0.5 * np.eye(8)  # symmetric positive definite
B = RNG.standard_normal(8)


def test_solve_is_numpys_solve_and_least_squares_when_singular():
    np.testing.assert_allclose(solve(SPD, B), np.linalg.solve(SPD, B), rtol=1e-12)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1
    b = np.array([1.0, 3.0])  # not in the range of A: only a least-squares solution exists
    np.testing.assert_allclose(solve(singular, b), np.linalg.pinv(singular) @ b, rtol=1e-10)


def test_positive_definite_solve_needs_no_shift_for_a_positive_definite_matrix():
    np.testing.assert_allclose(positive_definite_solve(SPD, B), np.linalg.solve(SPD, B), rtol=1e-10)


def test_positive_definite_solve_shifts_an_indefinite_matrix_just_enough():
    H = np.diag([2.0, -1.0, 0.5])
    b = np.array([-2.0, -1.0, 3.0])
    x = positive_definite_solve(H, b)
    tau = b / x - np.diag(H)  # (H + τI) x = b, read off component by component
    np.testing.assert_allclose(tau, tau[0], rtol=1e-12)  # one shift for all of them
    assert 1.0 < tau[0] <= 4.0  # past -λ_min = 1, within one doubling (the shifts double)
    assert b @ x > 0  # with b = -∇f: a descent direction


def test_conjugate_gradient_solves_a_positive_definite_system_from_products_only():
    x = conjugate_gradient(lambda v: SPD @ v, B)
    np.testing.assert_allclose(x, np.linalg.solve(SPD, B), rtol=1e-8)
    one_step = conjugate_gradient(lambda v: SPD @ v, B, max_iter=1)
    np.testing.assert_allclose(one_step, (B @ B) / (B @ SPD @ B) * B)  # the Cauchy point


@pytest.mark.parametrize("first_direction_is_bad", [True, False])
def test_conjugate_gradient_stops_at_negative_curvature_and_still_descends(first_direction_is_bad):
    H = np.diag([-3.0, 2.0]) if first_direction_is_bad else np.diag([2.0, -1.0])
    b = np.array([1.0, 1.0])
    x = conjugate_gradient(lambda v: H @ v, b)
    assert b @ x > 0
    if first_direction_is_bad:  # bᵀHb < 0 at once: nothing learned, return b (steepest descent)
        np.testing.assert_array_equal(x, b)
