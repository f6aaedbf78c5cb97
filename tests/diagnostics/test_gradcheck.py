"""The gradient check: centred differences against analytic gradients, and every loss checked by name."""

import numpy as np
import pytest

from losslab import check_gradient, losses
from losslab.diagnostics.gradcheck import check_loss_gradient, gradcheck_inputs


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


@pytest.mark.parametrize("name", losses.available())
def test_gradcheck_inputs_are_what_each_loss_expects(name):
    loss = losses.get(name)
    output, targets = gradcheck_inputs(name, (6, 4), dtype="float32", seed=3)
    assert output.shape == (6, 4) and output.dtype == np.float32
    assert np.isfinite(loss(output, *targets).value)  # accepted as they are
    if loss.task == "multiclass":
        assert targets[0].shape == (6,) and set(targets[0]) <= set(range(4))
    elif loss.task == "binary":
        assert targets[0].dtype == np.float32 and set(np.unique(targets[0])) <= {0.0, 1.0}
    if name in ("categorical_cross_entropy", "binary_cross_entropy"):
        assert output.min() >= 0.05 and output.max() <= 1.0  # probabilities, away from log(0)
    again, _ = gradcheck_inputs(name, (6, 4), dtype="float32", seed=3)
    np.testing.assert_array_equal(output, again)


@pytest.mark.parametrize("name", losses.available())
def test_every_loss_passes_its_gradient_check(name):
    checks = check_loss_gradient(name, (5, 3), n_checks=8)
    assert all(report.ok for _, _, report in checks), [str(r) for _, _, r in checks]
    assert checks[0][0] == "output" and checks[0][1].shape == (5, 3)


def test_ranking_losses_check_each_input_with_a_gradient():
    names = [name for name, _, _ in check_loss_gradient("triplet_margin")]
    assert names == ["output", "input 2", "input 3"]
    # margin ranking's third input is the ±1 labels, which have no gradient
    assert [name for name, _, _ in check_loss_gradient("margin_ranking")] == ["output", "input 2"]
    assert [name for name, _, _ in check_loss_gradient("contrastive")] == ["output"]


def test_check_loss_gradient_checks_the_inputs_it_reports():
    ((_, point, report),) = check_loss_gradient("softmax", (4, 3), dtype="float32", seed=1)
    output, (labels,) = gradcheck_inputs("softmax", (4, 3), dtype="float32", seed=1)
    np.testing.assert_array_equal(point, output)
    np.testing.assert_allclose(
        report.analytic, losses.softmax_cross_entropy(output, labels).grad.ravel()
    )
    assert report.tolerance == 2e-2 and len(report.indices) == 12


def test_hinge_at_zero_margin_is_a_kink_not_a_failure():
    # class 0's margin s_0 - s_y + 1 is exactly 0: the hinge's kink
    scores, y = np.array([[0.0, 1.0, -5.0], [3.0, 0.5, -1.0]]), np.array([1, 0])
    report = check_gradient(lambda s: losses.multiclass_hinge(s, y), scores)
    assert report.ok and report.max_rel_error == 0.0
    assert [k.index for k in report.kinks] == [(0, 0), (0, 1)]
    left, right = report.kinks[0].left, report.kinks[0].right
    # one-sided slopes of (1/N) max(0, s_0 - s_1 + 1) in s_0: 0 below, 1/N above
    np.testing.assert_allclose([left, right], [0.0, 0.5], atol=1e-6)
    assert "not differentiable here: one-sided slopes 0 and 0.5" in str(report)
    assert "PASS" in str(report)


def test_a_wrong_gradient_at_a_kink_still_fails():
    scores, y = np.array([[0.0, 1.0, -5.0]]), np.array([1])

    def planted(s):
        r = losses.multiclass_hinge(s, y)
        g = r.grad.copy()
        g[0, 0] = 2.0  # outside the one-sided slopes 0 and 1
        return losses.LossResult(r.value, g)

    report = check_gradient(planted, scores)
    assert not report.ok and report.worst_index == (0, 0)
    assert [k.index for k in report.kinks] == [(0, 1)]  # the other coordinate is a true kink


def test_a_tiny_wrong_gradient_at_a_smooth_point_is_not_a_kink():
    # f = x² at 0: one-sided slopes ±h straddle 3e-6, but they shrink with the step
    report = check_gradient(lambda z: float((z**2).sum()), np.zeros(1), analytic=np.array([3e-6]))
    assert not report.ok and report.kinks == []


def test_squared_hinge_at_zero_margin_is_a_curvature_kink():
    scores, y = np.array([[0.0, 1.0, -5.0]]), np.array([1])
    report = check_gradient(lambda s: losses.multiclass_hinge(s, y, squared=True), scores)
    assert report.ok
    assert {k.kind for k in report.kinks} <= {"curvature"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_inputs_on_kinks_put_hinges_on_kinks_and_still_pass(dtype):
    ((_, point, report),) = check_loss_gradient("svm", (8, 5), dtype=dtype, on_kinks=True)
    assert np.array_equal(point, np.round(point))
    assert report.ok and len(report.kinks) > 0
    assert all(k.kind == "slope" for k in report.kinks)
