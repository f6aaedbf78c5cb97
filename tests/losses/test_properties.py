"""Invariants that hold for every input (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from losslab import losses

finite = st.floats(-50, 50, allow_nan=False, width=64)


@st.composite
def scores_labels(draw, dtype=np.float64):
    n = draw(st.integers(1, 8))
    c = draw(st.integers(2, 6))
    s = draw(hnp.arrays(dtype, (n, c), elements=st.floats(-50, 50, width=32)))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return s, y


SOFTMAX_LOSSES = [
    lambda s, y: losses.softmax_cross_entropy(s, y),
    lambda s, y: losses.softmax_cross_entropy(s, y, label_smoothing=0.3),
    lambda s, y: losses.softmax_focal(s, y, gamma=2.0),
    lambda s, y: losses.softmax_focal(s, y, gamma=0.5),
]
MULTICLASS = [
    ("softmax_cross_entropy", {}),
    ("softmax_cross_entropy", {"label_smoothing": 0.1, "class_weight": np.arange(1.0, 7.0)}),
    ("softmax_focal", {"gamma": 2.0}),
    ("multiclass_hinge", {}),
    ("multiclass_hinge", {"squared": True}),
    ("multiclass_hinge", {"kind": "crammer_singer"}),
]


@settings(max_examples=60, deadline=None)
@given(scores_labels(), finite)
def test_softmax_losses_are_invariant_to_adding_a_constant_to_every_score(sy, shift):
    s, y = sy
    for loss in SOFTMAX_LOSSES:
        a, b = loss(s, y), loss(s + shift, y)
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-7, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(scores_labels(), finite)
def test_hinge_losses_are_invariant_to_a_common_shift_too(sy, shift):
    s, y = sy
    for kind in ("weston_watkins", "crammer_singer"):
        a = losses.multiclass_hinge(s, y, kind=kind)
        b = losses.multiclass_hinge(s + shift, y, kind=kind)
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(
    scores_labels(), st.sampled_from(["softmax_cross_entropy", "multiclass_hinge", "softmax_focal"])
)
def test_none_summed_equals_sum_and_sum_over_n_equals_mean(sy, name):
    s, y = sy
    fn = getattr(losses, name)
    none, total, mean = (fn(s, y, reduction=r) for r in ("none", "sum", "mean"))
    np.testing.assert_allclose(none.value.sum(), total.value, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(none.grad, total.grad, rtol=1e-12)
    np.testing.assert_allclose(total.value / len(y), mean.value, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(total.grad / len(y), mean.grad, rtol=1e-9, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(scores_labels(), hnp.arrays(np.float64, 8, elements=st.floats(0.0, 5.0)))
def test_weighted_mean_is_weighted_sum_over_total_weight(sy, w):
    s, y = sy
    w = w[: len(y)]
    for fn in (losses.softmax_cross_entropy, losses.multiclass_hinge):
        total = fn(s, y, sample_weight=w, reduction="sum").value
        mean = fn(s, y, sample_weight=w, reduction="mean").value
        expected = total / w.sum() if w.sum() > 0 else 0.0
        np.testing.assert_allclose(mean, expected, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(scores_labels(dtype=np.float32), st.sampled_from([np.float32, np.float64]))
def test_gradients_have_the_shape_and_dtype_of_the_output(sy, dtype):
    s, y = sy
    s = s.astype(dtype)
    c = s.shape[1]
    for name, opts in MULTICLASS:
        opts = {k: (v[:c] if isinstance(v, np.ndarray) else v) for k, v in opts.items()}
        for reduction in ("mean", "sum", "none"):
            r = getattr(losses, name)(s, y, reduction=reduction, **opts)
            assert r.grad.shape == s.shape and r.grad.dtype == dtype, (name, reduction)
            if reduction == "none":
                assert r.value.dtype == dtype and r.value.shape == y.shape
    for name in ("sigmoid_binary_cross_entropy", "sigmoid_focal", "squared_error", "log_cosh"):
        target = np.clip(s, 0, 1).astype(dtype)
        r = getattr(losses, name)(s, target, reduction="none")
        assert r.grad.shape == s.shape and r.grad.dtype == dtype
        assert r.value.dtype == dtype


@settings(max_examples=60, deadline=None)
@given(scores_labels(), st.floats(0.0, 1.0))
def test_svm_loss_is_zero_iff_every_margin_is_met(sy, delta):
    s, y = sy
    per = losses.multiclass_hinge(s, y, margin=delta, reduction="none").value
    rows = np.arange(len(y))
    others = s.copy()
    others[rows, y] = -np.inf
    met = s[rows, y] - others.max(axis=1) >= delta
    np.testing.assert_array_equal(per == 0, met)


@settings(max_examples=60, deadline=None)
@given(scores_labels())
def test_svm_gradient_rows_sum_to_zero_and_loss_is_non_negative(sy):
    s, y = sy
    r = losses.multiclass_hinge(s, y, reduction="none")
    assert np.all(r.value >= 0)
    np.testing.assert_allclose(r.grad.sum(axis=1), 0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(scores_labels())
def test_squared_hinge_loss_equals_sum_of_squared_margins_and_is_zero_where_hinge_is(sy):
    s, y = sy
    plain = losses.multiclass_hinge(s, y, reduction="none").value
    sq = losses.multiclass_hinge(s, y, squared=True, reduction="none").value
    np.testing.assert_array_equal(plain == 0, sq == 0)
