import numpy as np
import pytest

from losslab import info, regularizers


def test_kl_is_cross_entropy_minus_entropy_and_non_negative():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5), size=(2, 10))
    kl = info.kl_divergence(p, q)
    np.testing.assert_allclose(kl, info.cross_entropy(p, q) - info.entropy(p))
    assert np.all(kl >= 0)
    np.testing.assert_allclose(info.kl_divergence(p, p), 0, atol=1e-15)


def test_base_10_matches_scipy_entropy():
    from scipy.stats import entropy as sp_entropy

    p, q = np.array([0.8, 0.1, 0.1]), np.array([0.2, 0.2, 0.6])
    assert info.entropy(p, base=10) == pytest.approx(sp_entropy(p, base=10))
    assert info.kl_divergence(p, q, base=2) == pytest.approx(sp_entropy(p, q, base=2))


def test_zero_probabilities_follow_the_0_log_0_convention():
    assert info.entropy([0.0, 1.0]) == 0.0
    assert info.cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert info.cross_entropy([0.5, 0.5], [0.0, 1.0]) == np.inf


def test_a_certain_outcome_has_entropy_plus_zero_not_minus_zero():
    for value in (
        info.entropy([1, 0]),
        info.entropy([0.0, 1.0], base=2),
        info.cross_entropy([1.0, 0.0], [1.0, 0.0]),
        *info.entropy([[1.0, 0.0], [0.0, 1.0]]),
    ):
        assert value == 0.0 and np.copysign(1.0, value) == 1.0
    assert repr(info.entropy([1, 0])) == "0.0"


def test_info_doctests_pass_under_plain_doctest():
    import doctest

    # no option flags: NUMBER would hide a -0.0 printed for 0.0
    result = doctest.testmod(info, optionflags=0)
    assert result.attempted >= 3 and result.failed == 0


def test_l2_follows_the_cs231n_convention_and_elastic_net_interpolates():
    W = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert regularizers.l2(W, 0.1).value == pytest.approx(0.1 * 5.25)
    np.testing.assert_allclose(regularizers.l2(W, 0.1).grad, 0.2 * W)
    np.testing.assert_allclose(regularizers.l1(W, 0.1).grad, 0.1 * np.sign(W))
    assert regularizers.elastic_net(W, 0.1, 0.0).value == pytest.approx(
        regularizers.l2(W, 0.1).value
    )
    assert regularizers.elastic_net(W, 0.1, 1.0).value == pytest.approx(
        regularizers.l1(W, 0.1).value
    )


def test_regularizer_bad_strength():
    with pytest.raises(ValueError, match="strength: expected a number >= 0, got -1"):
        regularizers.l2(np.ones(2), -1.0)


@pytest.mark.parametrize(("base", "error"), [(1, "> 0 other than 1"), (0, "> 0"), (-2.0, "> 0")])
def test_a_log_base_must_be_positive_and_not_one(base, error):
    """base=1 divided by log 1 = 0 and returned inf."""
    for measure in (info.entropy, lambda p, base: info.kl_divergence(p, p, base=base)):
        with pytest.raises(ValueError, match=f"base: expected a number {error},"):
            measure([0.5, 0.5], base=base)


def test_kl_of_zero_against_zero_is_zero_without_a_warning():
    """p = q = 0 computed log 0 - log 0 = NaN (and warned) before 0 log 0 = 0 dropped it."""
    value, grad = info.kl_divergence([0.0, 1.0], [0.0, 1.0], return_grad=True)
    assert value == 0.0
    np.testing.assert_array_equal(grad, [0.0, -1.0])
