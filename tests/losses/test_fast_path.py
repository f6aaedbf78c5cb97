"""The fused kernels agree with the NumPy reference (1e-6 in float64) and are chosen as configured."""

import numpy as np
import pytest

from losslab import config, fast, losses

pytestmark = pytest.mark.skipif(
    not config.fast_available(), reason="the fast extra (numba) is not installed"
)
RNG = np.random.default_rng(0)


def both_paths(fn, *args, **kwargs):
    with config.fast(False):
        reference = fn(*args, **kwargs)
    with config.fast(True):
        fast = fn(*args, **kwargs)
    return reference, fast


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("softmax_cross_entropy", {}),
        ("multiclass_hinge", {"margin": 0.7}),
        ("softmax_focal", {"gamma": 0.5}),
        ("softmax_focal", {"gamma": 2.0}),
        ("sigmoid_binary_cross_entropy", {}),
    ],
)
def test_fast_kernels_agree_with_the_numpy_reference(dtype, reduction, name, options):
    s = (4 * RNG.standard_normal((2000, 13))).astype(dtype)
    s[0, 0], s[1, :] = 1e4, -1e4  # saturated rows too
    target = (
        RNG.integers(0, 13, 2000)
        if name != "sigmoid_binary_cross_entropy"
        else RNG.uniform(0, 1, s.shape).astype(dtype)
    )
    reference, fast = both_paths(getattr(losses, name), s, target, reduction=reduction, **options)
    tol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(fast.value, reference.value, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        fast.grad, reference.grad, rtol=tol, atol=tol * np.abs(reference.grad).max()
    )
    assert fast.grad.dtype == dtype


def test_the_fast_path_is_used_only_where_it_applies():
    s = RNG.standard_normal((10, 4))
    y = RNG.integers(0, 4, 10)
    with config.fast(True):
        assert fast.kernel("softmax_cross_entropy") is not None
        # label smoothing and weights still work (they run on the NumPy path)
        a = losses.softmax_cross_entropy(s, y, label_smoothing=0.1, class_weight=np.ones(4) * 2)
    with config.fast(False):
        assert fast.kernel("softmax_cross_entropy") is None
        b = losses.softmax_cross_entropy(s, y, label_smoothing=0.1, class_weight=np.ones(4) * 2)
    assert a.value == b.value


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_still_propagates_on_the_fast_path(dtype):
    s = np.array([[np.nan, 0.0, 1.0], [0.0, 1.0, 2.0]], dtype=dtype)
    with config.fast(True):
        for loss in (losses.softmax_cross_entropy, losses.softmax_focal):
            value = loss(s, np.array([1, 1]), reduction="none").value
            assert np.isnan(value[0]) and np.isfinite(value[1])
        assert np.isnan(
            losses.sigmoid_binary_cross_entropy(np.array([np.nan]), np.array([1.0])).value
        )


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("softmax_cross_entropy", {}),
        ("softmax_cross_entropy", {"label_smoothing": 0}),
        ("softmax_cross_entropy", {"label_smoothing": 0.1}),
        ("softmax_cross_entropy", {"class_weight": np.ones(7)}),
        ("softmax_focal", {"gamma": 0.5}),
        ("softmax_focal", {"alpha": 0.25}),
        ("multiclass_hinge", {"margin": 0.3}),
        ("multiclass_hinge", {"squared": True}),
        ("crammer_singer", {}),
        ("sigmoid_binary_cross_entropy", {}),
        ("sigmoid_binary_cross_entropy", {"pos_weight": np.array(2.0)}),
        ("sigmoid_binary_cross_entropy", {"label_smoothing": 0.2}),
    ],
)
def test_the_public_call_and_fits_batch_call_decide_alike(monkeypatch, name, options):
    """Which options a kernel covers is written once, in the loss, and both calls ask it."""
    ran = []
    kernel = fast.kernel

    def recording(kernel_name, elements=0):
        found = kernel(kernel_name, elements)
        return found and (lambda *args: ran.append(kernel_name) or found(*args))

    monkeypatch.setattr(fast, "kernel", recording)
    loss = losses.get(name, **options)
    s = RNG.standard_normal((64, 7))
    is_bce = loss.name == "sigmoid_binary_cross_entropy"
    target = RNG.integers(0, 2, s.shape).astype(float) if is_bce else RNG.integers(0, 7, 64)
    with config.fast(True):
        loss(s, target)
        batch_call = losses.fused_mean(loss)
    assert bool(ran) == (batch_call is not None)
