"""The fused kernels agree with the NumPy reference (1e-6 in float64) and are chosen as configured."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        ("softmax_cross_entropy", {"class_weight": np.linspace(0, 2, 13)}),
        ("softmax_cross_entropy", {"label_smoothing": 0.2}),
        ("softmax_cross_entropy", {"ignore_index": 3}),
        ("softmax_cross_entropy", {"sample_weight": np.linspace(0, 2, 2000)}),
        (
            "softmax_cross_entropy",
            {"class_weight": np.linspace(0.5, 2, 13), "label_smoothing": 0.1, "ignore_index": 3},
        ),
        ("softmax_focal", {"gamma": 2.0, "alpha": 0.25, "class_weight": np.linspace(0, 2, 13)}),
        ("softmax_focal", {"gamma": 0.5, "ignore_index": 3, "sample_weight": np.ones(2000)}),
        ("softmax_focal", {"gamma": 0.0, "label_smoothing": 0.1, "alpha": np.linspace(0, 1, 13)}),
        ("softmax_focal", {"gamma": 2.0, "label_smoothing": 0.1}),
        (
            "softmax_focal",
            {
                "gamma": 0.5,
                "label_smoothing": 0.2,
                "alpha": np.linspace(0, 1, 13),
                "class_weight": np.linspace(0.5, 2, 13),
                "ignore_index": 3,
                "sample_weight": np.linspace(0, 2, 2000),
            },
        ),
        ("multiclass_hinge", {"squared": True}),
        ("multiclass_hinge", {"class_weight": np.linspace(0, 2, 13), "margin": 0.5}),
        ("multiclass_hinge", {"squared": True, "sample_weight": np.linspace(0, 2, 2000)}),
        ("multiclass_hinge", {"kind": "crammer_singer"}),
        ("multiclass_hinge", {"kind": "crammer_singer", "squared": True, "margin": 0.5}),
        (
            "multiclass_hinge",
            {
                "kind": "crammer_singer",
                "class_weight": np.linspace(0, 2, 13),
                "sample_weight": np.linspace(0, 2, 2000),
            },
        ),
        ("sigmoid_binary_cross_entropy", {"label_smoothing": 0.15}),
        ("sigmoid_binary_cross_entropy", {"pos_weight": np.linspace(0.5, 3, 13)}),
        ("sigmoid_binary_cross_entropy", {"pos_weight": np.array(2.5)}),
        (
            "sigmoid_binary_cross_entropy",
            {"weight": np.linspace(0, 2, 2000 * 13).reshape(2000, 13)},
        ),
        ("sigmoid_binary_cross_entropy", {"weight": np.linspace(0, 2, 13)}),
        ("sigmoid_binary_cross_entropy", {"weight": np.linspace(0, 2, 2000).reshape(2000, 1)}),
        ("sigmoid_binary_cross_entropy", {"sample_weight": np.linspace(0, 2, 2000)}),
        (
            "sigmoid_binary_cross_entropy",
            {"weight": np.asfortranarray(np.linspace(0, 2, 2000 * 13).reshape(13, 2000).T)},
        ),
        (
            "sigmoid_binary_cross_entropy",
            {
                "pos_weight": np.linspace(0.5, 3, 13),
                "weight": np.linspace(0.2, 2, 13),
                "sample_weight": np.linspace(0, 2, 2000),
                "label_smoothing": 0.1,
            },
        ),
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
    options = {k: v.astype(dtype) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    reference, fast = both_paths(getattr(losses, name), s, target, reduction=reduction, **options)
    layout = both_paths(getattr(losses, name), np.asfortranarray(s), target, **options)[1]
    np.testing.assert_allclose(
        layout.grad, both_paths(getattr(losses, name), s, target, **options)[1].grad
    )
    tol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(fast.value, reference.value, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        fast.grad, reference.grad, rtol=tol, atol=tol * np.abs(reference.grad).max()
    )
    assert fast.grad.dtype == dtype


def test_the_fast_path_is_used_only_where_it_applies():
    s = RNG.standard_normal((10, 4))
    y = RNG.integers(0, 4, 10)
    q = np.full((10, 4), 0.25)
    with config.fast(True):
        assert fast.kernel("softmax_cross_entropy") is not None
        a = losses.softmax_cross_entropy(s, y, label_smoothing=0.1, class_weight=np.ones(4) * 2)
        a_probabilities = losses.softmax_cross_entropy(s, q)
        a_crammer = losses.multiclass_hinge(s, y, kind="crammer_singer")
        a_poly1 = losses.poly1_cross_entropy(s, y)  # no kernel: NumPy
    with config.fast(False):
        assert fast.kernel("softmax_cross_entropy") is None
        b = losses.softmax_cross_entropy(s, y, label_smoothing=0.1, class_weight=np.ones(4) * 2)
        b_probabilities = losses.softmax_cross_entropy(s, q)
        b_crammer = losses.multiclass_hinge(s, y, kind="crammer_singer")
        b_poly1 = losses.poly1_cross_entropy(s, y)
    assert a.value == pytest.approx(b.value, rel=1e-12)
    assert a_probabilities.value == pytest.approx(b_probabilities.value, rel=1e-12)
    assert a_crammer.value == pytest.approx(b_crammer.value, rel=1e-12)
    assert a_poly1.value == b_poly1.value


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
    ("name", "options", "public", "batch"),
    [
        ("softmax_cross_entropy", {}, True, True),
        ("softmax_cross_entropy", {"label_smoothing": 0}, True, True),
        ("softmax_cross_entropy", {"label_smoothing": 0.1}, True, False),
        ("softmax_cross_entropy", {"class_weight": np.ones(7)}, True, False),
        ("softmax_focal", {"gamma": 0.5}, True, True),
        ("softmax_focal", {"alpha": 0.25}, True, False),
        ("softmax_focal", {"gamma": 2.0, "label_smoothing": 0.1}, True, False),
        ("multiclass_hinge", {"margin": 0.3}, True, True),
        ("multiclass_hinge", {"squared": True}, True, True),
        ("multiclass_hinge", {"sample_weight": np.ones(64)}, True, False),
        ("crammer_singer", {}, True, True),
        ("crammer_singer", {"class_weight": np.ones(7)}, True, False),
        ("poly1_cross_entropy", {}, True, False),  # its cross-entropy term runs the kernel
        ("sigmoid_binary_cross_entropy", {}, True, True),
        ("sigmoid_binary_cross_entropy", {"pos_weight": np.array(2.0)}, True, False),
        ("sigmoid_binary_cross_entropy", {"weight": np.ones(7)}, True, False),
        ("sigmoid_binary_cross_entropy", {"sample_weight": np.ones(64)}, True, False),
        ("sigmoid_binary_cross_entropy", {"label_smoothing": 0.2}, True, True),
    ],
)
def test_the_public_call_and_fits_batch_call_decide_alike(
    monkeypatch, name, options, public, batch
):
    """Which options a kernel covers is written once, in the loss, and both calls ask it; fit's
    batch call takes only options that need no labels (weights per label go through the loss)."""
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
    assert bool(ran) == public
    assert (batch_call is not None) == batch


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("squared", [False, True])
def test_crammer_singer_kernel_matches_numpy_at_ties_nan_and_one_class(dtype, squared):
    # ties pick the first rival, a NaN score is the rival (NumPy's argmax), C = 1 has none
    s = np.array(
        [
            [1.0, 2.0, 2.0, 0.0],
            [0.0, np.nan, 1.0, 3.0],
            [np.nan, 0.0, 0.0, 0.0],
            [5.0, 0.0, 0.0, 4.5],
        ],
        dtype=dtype,
    )
    y = np.array([0, 3, 0, 0])
    reference, fast_ = both_paths(
        losses.multiclass_hinge, s, y, kind="crammer_singer", squared=squared, reduction="none"
    )
    np.testing.assert_array_equal(fast_.value, reference.value)
    np.testing.assert_array_equal(fast_.grad, reference.grad)
    one = both_paths(losses.multiclass_hinge, s[:, :1], np.zeros(4, int), kind="crammer_singer")
    np.testing.assert_array_equal(one[1].value, one[0].value)  # NaN: the NaN score's row
    np.testing.assert_array_equal(one[1].grad, one[0].grad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("squared", [False, True])
def test_no_negative_zero_where_no_margin_is_violated(dtype, squared):
    """The kernels' fastmath allows dropping signed zeros; the README prints these gradients."""
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]], dtype=dtype)
    reference, fast = both_paths(
        losses.multiclass_hinge, scores, np.array([0, 1, 2]), squared=squared
    )
    assert not np.signbit(fast.grad[1]).any()
    np.testing.assert_array_equal(np.signbit(fast.grad), np.signbit(reference.grad))


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_the_weighted_bce_kernel_agrees_on_threads(monkeypatch, reduction):
    """Large inputs run the parallel build of the kernel (stripes summed across threads)."""
    from losslab.fast import losses as kernels

    monkeypatch.setattr(kernels, "PARALLEL_MIN_ELEMENTS", 0)  # a small input takes it too
    x = (4 * RNG.standard_normal((3000, 9))).astype(np.float32)
    y = RNG.uniform(0, 1, x.shape).astype(np.float32)
    options = {"pos_weight": np.linspace(0.5, 3, 9), "sample_weight": np.linspace(0, 2, 3000)}
    reference, fast = both_paths(
        losses.sigmoid_binary_cross_entropy, x, y, reduction=reduction, **options
    )
    np.testing.assert_allclose(fast.value, reference.value, rtol=1e-4, atol=1e-5)
    scale = np.abs(reference.grad).max()
    np.testing.assert_allclose(fast.grad, reference.grad, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("weight_shape", [(5, 6), (5, 1), (4, 1, 1), (1, 5, 1), ()])
def test_bce_weights_of_any_broadcast_shape_agree(weight_shape):
    """The kernel repeats weights that do not vary along the leading axes instead of copying
    them to the logits' shape; every broadcast pattern gives the reference's answer."""
    x = 3 * RNG.standard_normal((4, 5, 6))
    y = RNG.uniform(0, 1, x.shape)
    options = {"weight": RNG.uniform(0, 2, weight_shape), "pos_weight": RNG.uniform(1, 2, 6)}
    for reduction in ("mean", "sum", "none"):
        reference, fast = both_paths(
            losses.sigmoid_binary_cross_entropy, x, y, reduction=reduction, **options
        )
        np.testing.assert_allclose(fast.value, reference.value, rtol=1e-12)
        np.testing.assert_allclose(fast.grad, reference.grad, rtol=1e-12, atol=1e-15)


PROBABILITY_OPTIONS = [
    ("softmax_cross_entropy", {}),
    ("softmax_cross_entropy", {"label_smoothing": 0.2}),
    ("softmax_cross_entropy", {"class_weight": np.linspace(0, 2, 13)}),
    ("softmax_cross_entropy", {"sample_weight": np.linspace(0, 2, 500)}),
    (
        "softmax_cross_entropy",
        {
            "class_weight": np.linspace(0.5, 2, 13),
            "label_smoothing": 0.1,
            "sample_weight": np.linspace(0, 2, 500),
        },
    ),
    ("softmax_focal", {"gamma": 2.0}),
    ("softmax_focal", {"gamma": 0.0, "label_smoothing": 0.3}),
    ("softmax_focal", {"gamma": 0.5, "alpha": 0.25, "label_smoothing": 0.1}),
    (
        "softmax_focal",
        {
            "gamma": 1.5,
            "alpha": np.linspace(0, 1, 13),
            "class_weight": np.linspace(0.5, 2, 13),
            "sample_weight": np.linspace(0, 2, 500),
            "label_smoothing": 0.05,
        },
    ),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("name", "options"), PROBABILITY_OPTIONS)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_probability_target_kernels_agree_with_the_numpy_reference(
    dtype, reduction, name, options, layout
):
    """Soft targets (rows on the simplex, and non-negative weights that are not) under every
    option, scores and targets in any layout, a masked class (-inf) and saturated rows included."""
    rng = np.random.default_rng(1)
    s = (4 * rng.standard_normal((500, 13))).astype(dtype)
    s[0, 0], s[1, :], s[2, 5] = 1e4, -1e4, -np.inf  # saturated rows, a masked class
    q = rng.dirichlet(np.ones(13), 500).astype(dtype)
    q[2, 5] = 0  # the masked class has no target mass: finite
    q[3] = rng.uniform(0, 1, 13)  # any non-negative weights per class, not summing to one
    q[4] = 0  # a row with no target at all
    if layout == "F":
        s, q = np.asfortranarray(s), np.asfortranarray(q)
    elif layout == "strided":
        s, q = np.repeat(s, 2, axis=1)[:, ::2], np.repeat(q, 2, axis=0)[::2]
    options = {k: v.astype(dtype) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    reference, fast = both_paths(getattr(losses, name), s, q, reduction=reduction, **options)
    tol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(fast.value, reference.value, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        fast.grad, reference.grad, rtol=tol, atol=tol * np.abs(reference.grad).max()
    )
    assert fast.grad.dtype == dtype and fast.grad.flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_probability_targets_run_the_dense_kernel(monkeypatch, dtype):
    """Soft targets and smoothed focal labels reach the dense kernel, without an N x C copy
    of the scores or targets: the kernel is handed the caller's own arrays (C order), or
    their transposes (Fortran order)."""
    from losslab.fast import losses as kernels

    seen = []
    dense = kernels.softmax_dense_rows

    def recording(scores, labels, on_target, probs, by_column, *rest):
        seen.append((scores, probs, by_column))
        return dense(scores, labels, on_target, probs, by_column, *rest)

    monkeypatch.setattr(kernels, "softmax_dense_rows", recording)
    s = RNG.standard_normal((50, 6)).astype(dtype)
    q = RNG.dirichlet(np.ones(6), 50).astype(dtype)
    s_fortran, q_fortran = np.asfortranarray(s), np.asfortranarray(q)
    with config.fast(True):
        losses.softmax_cross_entropy(s, q, label_smoothing=0.1, sample_weight=np.ones(50))
        losses.softmax_focal(s, q)
        losses.softmax_focal(s_fortran, RNG.integers(0, 6, 50), label_smoothing=0.1)
        losses.softmax_cross_entropy(s, q_fortran)
        losses.softmax_focal(s_fortran, q_fortran)
    assert len(seen) == 5
    assert all(scores is s and probs is q for scores, probs, _ in seen[:2])
    assert [by_column for *_, by_column in seen] == [
        (False, False),
        (False, False),
        (True, False),
        (False, True),
        (True, True),
    ]
    assert seen[2][1].size == 0  # labels: no target matrix
    for scores, probs, (scores_by_column, probs_by_column) in seen[2:]:
        assert scores_by_column == np.shares_memory(scores, s_fortran)
        assert probs_by_column == np.shares_memory(probs, q_fortran)
        assert scores.flags.c_contiguous and probs.flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_propagates_through_the_dense_kernel(dtype):
    s = np.array([[np.nan, 0.0, 1.0], [0.0, 1.0, 2.0], [0.0, np.nan, 1.0]], dtype=dtype)
    q = np.array([[0.2, 0.3, 0.5], [0.2, 0.3, 0.5], [np.nan, 0.5, 0.5]], dtype=dtype)
    calls = [
        (losses.softmax_cross_entropy, s, q, {}),
        (losses.softmax_focal, s, q, {}),
        (losses.softmax_focal, s, np.array([1, 1, 0]), {"label_smoothing": 0.1}),
    ]
    for loss, scores, target, options in calls:
        reference, fast = both_paths(loss, scores, target, reduction="none", **options)
        assert np.isnan(fast.value[0]) and np.isfinite(fast.value[1]) and np.isnan(fast.value[2])
        assert np.isnan(fast.grad[0]).all() and np.isfinite(fast.grad[1]).all()
        np.testing.assert_array_equal(np.isnan(fast.grad), np.isnan(reference.grad))


@pytest.mark.parametrize(
    ("name", "target_kind"),
    [("softmax_cross_entropy", "q"), ("softmax_focal", "q"), ("softmax_focal", "labels")],
)
def test_the_dense_kernel_agrees_on_threads(monkeypatch, name, target_kind):
    """Large inputs run the parallel build (stripes of row blocks on several threads)."""
    from losslab.fast import losses as kernels

    monkeypatch.setattr(kernels, "PARALLEL_MIN_ELEMENTS", 0)
    s = (3 * RNG.standard_normal((3000, 9))).astype(np.float32)
    target = RNG.dirichlet(np.ones(9), 3000).astype(np.float32)
    options = {"label_smoothing": 0.1, "sample_weight": np.linspace(0, 2, 3000)}
    if target_kind == "labels":
        target = RNG.integers(0, 9, 3000)
    reference, fast = both_paths(getattr(losses, name), s, target, **options)
    np.testing.assert_allclose(fast.value, reference.value, rtol=1e-4)
    scale = np.abs(reference.grad).max()
    np.testing.assert_allclose(fast.grad, reference.grad, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("target_kind", ["probabilities", "smoothed labels"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 9),
    st.integers(2, 7),
    st.sampled_from(["float32", "float64"]),
    st.sampled_from([0.0, 0.5, 2.0, 3.0]),
    st.sampled_from(["mean", "sum", "none"]),
    st.integers(0, 2**32 - 1),
    st.data(),
)
def test_the_dense_kernel_computes_what_the_numpy_path_computes(
    loss_path, target_kind, n, c, dtype, gamma, reduction, seed, data
):
    """Any shape, option set, scale and -inf/NaN scores (the conftest's path is ignored: the
    test switches between the paths itself)."""
    if loss_path == "fast":
        return
    rng = np.random.default_rng(seed)
    s = (rng.normal(size=(n, c)) * rng.choice([0.1, 3.0, 30.0])).astype(dtype)
    for _ in range(data.draw(st.integers(0, 2))):
        s[rng.integers(n), rng.integers(c)] = data.draw(st.sampled_from([np.nan, -np.inf]))
    if target_kind == "probabilities":
        target = rng.dirichlet(np.ones(c), n).astype(dtype) * data.draw(st.sampled_from([0, 1]))
        target[rng.uniform(size=(n, c)) < 0.2] = 0  # rows off the simplex, zero mass on classes
    else:
        target = rng.integers(0, c, n)
    options = {"gamma": gamma, "label_smoothing": data.draw(st.sampled_from([0.0, 0.1, 1.0]))}
    if data.draw(st.booleans()):
        options["class_weight"] = rng.uniform(0, 2, c).astype(dtype)
    if data.draw(st.booleans()):
        options["sample_weight"] = rng.uniform(0, 2, n).astype(dtype)
    if data.draw(st.booleans()):
        options["alpha"] = rng.uniform(0, 1, c).astype(dtype)
    if target_kind == "smoothed labels" and data.draw(st.booleans()):
        options["ignore_index"] = int(target[0])
    loss = losses.softmax_focal
    if target_kind == "probabilities" and data.draw(st.booleans()):
        loss = losses.softmax_cross_entropy
        options.pop("gamma"), options.pop("alpha", None)
    reference, fast = both_paths(loss, s, target, reduction=reduction, **options)
    tol = 1e-7 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(fast.value, reference.value, rtol=tol, atol=tol)
    finite = np.abs(reference.grad[np.isfinite(reference.grad)])
    scale = max(finite.max(initial=0.0), 1.0)
    np.testing.assert_allclose(fast.grad, reference.grad, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("bad", [-0.25, 1.5])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_the_dense_kernel_checks_the_targets_range_as_it_reads_them(loss_path, bad, layout):
    """The loss leaves the range check of probability targets to the kernel (one pass fewer);
    an out-of-range target still gets the reference's message, on both paths; NaN passes."""
    s = RNG.standard_normal((300, 5))
    q = RNG.dirichlet(np.ones(5), 300)
    q[200, 3] = bad
    q = np.asfortranarray(q) if layout == "F" else q
    for loss in (losses.softmax_cross_entropy, losses.softmax_focal):
        with pytest.raises(ValueError, match=rf"target: expected values in \[0, 1\], got {bad}"):
            loss(s, q, label_smoothing=0.1)
    q[200, 3] = np.nan
    assert np.isnan(losses.softmax_cross_entropy(s, q, reduction="none").value[200])
