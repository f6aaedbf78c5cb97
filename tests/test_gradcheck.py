import numpy as np
import pytest

from losslab import check_gradient, losses


def test_finds_a_planted_factor_of_two_in_one_coordinate():
    rng = np.random.default_rng(0)
    s, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)

    def buggy(x):
        r = losses.softmax_cross_entropy(x, y)
        g = r.grad.copy()
        g[2, 1] *= 2
        return losses.LossResult(r.value, g)

    report = check_gradient(buggy, s)
    assert not report.ok
    assert report.worst_index == (2, 1)
    assert report.max_rel_error > 0.3
    assert "FAIL" in str(report) and "(2, 1)" in str(report)
    assert check_gradient(lambda x: losses.softmax_cross_entropy(x, y), s).ok


def test_step_adapts_to_float32_and_still_passes():
    rng = np.random.default_rng(1)
    s = rng.standard_normal((6, 3)).astype(np.float32)
    y = rng.integers(0, 3, 6)
    r64 = check_gradient(lambda x: losses.softmax_cross_entropy(x, y), s.astype(np.float64))
    r32 = check_gradient(lambda x: losses.softmax_cross_entropy(x, y), s)
    assert r32.eps > 100 * r64.eps
    assert r32.ok and r64.ok


def test_sparse_mode_checks_only_n_random_coordinates():
    x = np.random.default_rng(2).standard_normal((100, 50))
    report = check_gradient(lambda z: losses.squared_error(z, np.zeros_like(z)), x, n_checks=10)
    assert len(report.indices) == 10 and report.ok


def test_explicit_analytic_gradient_of_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"analytic: expected shape \(3,\)"):
        check_gradient(lambda z: float((z**2).sum()), np.zeros(3), analytic=np.zeros(4))


def test_point_is_restored_after_the_check():
    x = np.arange(4.0)
    check_gradient(lambda z: float((z**2).sum()), x, analytic=2 * x)
    np.testing.assert_array_equal(x, np.arange(4.0))
