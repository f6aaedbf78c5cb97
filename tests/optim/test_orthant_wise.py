"""OWL-QN against scikit-learn's coordinate-descent lasso, and its pseudo-gradient against
one-sided finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Lasso

from losslab.optim.orthant_wise import owlqn, pseudo_gradient


def least_squares(A, b):
    """(1/2n)‖Ax − b‖², the lasso's smooth part, and its gradient."""
    n = len(b)

    def fun_and_grad(x):
        r = A @ x - b
        return float(r @ r) / (2 * n), A.T @ r / n

    return fun_and_grad


@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("intercept", [False, True])
def test_the_minimum_is_scikit_learns_lasso(alpha, intercept):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(60, 12))
    b = A[:, :4] @ np.array([2.0, -1.0, 0.5, 0.2]) + 3.0 * intercept + 0.1 * rng.normal(size=60)
    reference = Lasso(alpha=alpha, fit_intercept=intercept, tol=1e-14, max_iter=100_000).fit(A, b)
    # the intercept as an unpenalised last entry, on a column of ones
    design = np.c_[A, np.ones(60)] if intercept else A
    weights = np.r_[np.full(12, alpha), 0.0] if intercept else alpha
    fun = least_squares(design, b)
    result = owlqn(fun, np.zeros(design.shape[1]), weights, gtol=1e-10, ftol=0.0)
    assert result.success
    np.testing.assert_allclose(result.x[:12], reference.coef_, atol=1e-7)
    assert np.array_equal(result.x[:12] == 0, reference.coef_ == 0)  # zeros are exact
    if intercept:
        assert result.x[-1] == pytest.approx(reference.intercept_, abs=1e-7)


def test_a_weight_of_zero_leaves_an_entry_smooth_and_a_large_one_holds_it_at_zero():
    def fun_and_grad(x):  # (x₀ − 3)² + (x₁ + 1)²
        return float((x[0] - 3) ** 2 + (x[1] + 1) ** 2), np.array([2 * (x[0] - 3), 2 * (x[1] + 1)])

    result = owlqn(fun_and_grad, np.array([1.0, 1.0]), np.array([0.0, 5.0]))
    assert result.x[0] == pytest.approx(3.0, abs=1e-8) and result.x[1] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    x=st.lists(st.sampled_from([-1.5, 0.0, 0.0, 0.7]), min_size=4, max_size=4),
    g=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    c=st.lists(st.sampled_from([0.0, 0.5, 2.0]), min_size=4, max_size=4),
)
def test_the_pseudo_gradient_is_the_steepest_one_sided_slope(x, g, c):
    # F(x) = g·x + c·|x| near x: its one-sided slopes along ±e_i, by finite differences
    x, g, c = np.array(x), np.array(g), np.array(c)

    def F(z):
        return g @ z + c @ np.abs(z)

    h = 1e-7
    pg = pseudo_gradient(x, g, c)
    for i in range(4):
        up = (F(x + h * np.eye(4)[i]) - F(x)) / h  # F'(x; +e_i)
        down = (F(x - h * np.eye(4)[i]) - F(x)) / h  # F'(x; -e_i)
        expected = up if up < 0 else (-down if down < 0 else 0.0)
        if x[i] != 0:  # smooth there: both slopes agree
            expected = up
        assert pg[i] == pytest.approx(expected, abs=1e-6)


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="l1"):
        owlqn(lambda x: (float(x @ x), 2 * x), np.zeros(2), -1.0)


def test_a_gradient_whose_square_overflows_still_finds_the_minimum():
    # ‖g‖² past float64 (entries of 1e200): a first step of 1/‖g‖ must not become 0, which would
    # "converge" at the start (the fall of a zero step is 0)
    def fun_and_grad(x):
        return float(1e200 * (x - 3) @ (x - 3)), 2e200 * (x - 3)

    result = owlqn(fun_and_grad, np.zeros(4), 1.0)
    np.testing.assert_allclose(result.x, 3.0, rtol=1e-12)


def test_a_penalty_too_strong_for_any_weight_gives_zeros():
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(30, 5)), rng.normal(size=30)
    result = owlqn(least_squares(A, b), rng.normal(size=5), 1e300)
    assert result.success and np.array_equal(result.x, np.zeros(5))
