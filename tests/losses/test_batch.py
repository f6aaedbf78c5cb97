"""fit's unchecked per-batch loss calls compute exactly what the public losses compute."""

import numpy as np
import pytest

from losslab import config, losses
from losslab.losses import fused_mean

RNG = np.random.default_rng(0)


def scores_and_target(name, dtype):
    s = (3 * RNG.standard_normal((64, 7))).astype(dtype)
    if name == "sigmoid_binary_cross_entropy":
        return s, RNG.integers(0, 2, s.shape).astype(np.float64)  # fit's one-vs-rest 0/1
    return s, RNG.integers(0, 7, 64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("softmax_cross_entropy", {}),
        ("softmax_focal", {}),
        ("softmax_focal", {"gamma": 0.5}),
        ("multiclass_hinge", {"margin": 0.3}),
        ("multiclass_hinge", {"squared": True}),
        ("svm", {}),
        ("sigmoid_binary_cross_entropy", {}),
        ("sigmoid_binary_cross_entropy", {"label_smoothing": 0.1}),
    ],
)
def test_the_fused_batch_call_equals_the_public_loss(loss_path, dtype, name, options):
    loss = losses.get(name, **options)
    fused = fused_mean(loss)
    if loss_path == "numpy":
        assert fused is None  # no kernels: fit calls the public loss
        return
    s, target = scores_and_target(loss.name, dtype)
    expected, result = loss(s, target), fused(s, target)
    assert result.value == pytest.approx(expected.value, rel=1e-12)
    np.testing.assert_array_equal(result.grad, expected.grad)
    assert result.grad.dtype == dtype


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("softmax_cross_entropy", {"label_smoothing": 0.1}),
        ("softmax_cross_entropy", {"class_weight": np.ones(7)}),
        ("softmax_cross_entropy", {"reduction": "sum"}),
        ("softmax_focal", {"alpha": 0.25}),
        ("multiclass_hinge", {"class_weight": np.ones(7)}),
        ("crammer_singer", {"sample_weight": np.ones(64)}),
        ("sigmoid_binary_cross_entropy", {"pos_weight": np.array(2.0)}),
        ("hinge", {}),
        ("squared_error", {}),
    ],
)
def test_losses_without_a_label_free_fused_kernel_keep_the_public_call(name, options):
    with config.fast(True):
        assert fused_mean(losses.get(name, **options)) is None


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sigmoid_binary_cross_entropy"])
def test_the_fused_batch_call_takes_scores_of_any_layout(name):
    with config.fast(True):
        loss = losses.get(name)
        s, target = scores_and_target(loss.name, np.float32)
        expected = loss(s, target)
        result = fused_mean(loss)(np.asfortranarray(s), target)
    assert result.value == pytest.approx(expected.value, rel=1e-12)
    np.testing.assert_array_equal(result.grad, expected.grad)
