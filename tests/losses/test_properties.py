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


# --- the round-2 losses ------------------------------------------------------------------------

ELEMENTWISE_ROUND2 = [
    ("pinball", {"quantile": 0.3}),
    ("epsilon_insensitive", {"epsilon": 0.2}),
    ("squared_epsilon_insensitive", {}),
    ("poisson_nll", {}),
    ("soft_margin", {}),
    ("multilabel_soft_margin", {}),
    ("poly1_cross_entropy", {}),
    ("kl_divergence", {"temperature": 2.0}),
]


def _round2_target(name, s, y):
    if name in ("soft_margin",):
        return np.where(s > 0.5, 1.0, -1.0)
    if name == "multilabel_soft_margin":
        return (np.abs(s) > 1).astype(float)
    if name == "poisson_nll":
        return np.abs(np.round(s))
    if name in ("poly1_cross_entropy", "kl_divergence"):
        return y
    return np.cos(s)


@settings(max_examples=40, deadline=None)
@given(
    scores_labels(),
    st.sampled_from(ELEMENTWISE_ROUND2),
    hnp.arrays(np.float64, 8, elements=st.floats(0.0, 5.0)),
)
def test_round2_reductions_agree_and_weights_make_a_weighted_mean(sy, entry, w):
    s, y = sy
    name, options = entry
    loss = losses.get(name, **options)
    target = _round2_target(name, s, y)
    none, total, mean = (loss(s, target, reduction=r) for r in ("none", "sum", "mean"))
    np.testing.assert_allclose(none.value.sum(), total.value, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(none.grad, total.grad, rtol=1e-12)
    np.testing.assert_allclose(total.value / none.value.size, mean.value, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(total.grad / none.value.size, mean.grad, rtol=1e-9, atol=1e-15)
    w = w[: len(s)]
    weighted = loss(s, target, sample_weight=w, reduction="sum").value
    expected = (none.value.reshape(len(s), -1) * w[:, None]).sum()
    np.testing.assert_allclose(weighted, expected, rtol=1e-9, atol=1e-9)
    assert np.all(none.value >= -1e-12)  # every one of them is a non-negative loss


@settings(max_examples=60, deadline=None)
@given(scores_labels(), finite, st.floats(-1.0, 3.0), st.floats(0.2, 5.0))
def test_poly1_and_distillation_are_invariant_to_a_common_shift(sy, shift, epsilon, temperature):
    s, y = sy
    for loss in (
        lambda x: losses.poly1_cross_entropy(x, y, epsilon=epsilon),
        lambda x: losses.kl_divergence(x, y, temperature=temperature),
    ):
        a, b = loss(s), loss(s + shift)
        np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-7, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(scores_labels(), st.floats(0.2, 5.0))
def test_distillation_is_zero_at_the_teachers_own_softened_softmax(sy, temperature):
    """KL(q ‖ softmax(s/T)) is 0 with a zero gradient when q is softmax(s/T) itself."""
    s, _ = sy
    z = s / temperature
    q = np.exp(z - z.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    r = losses.kl_divergence(s, q, temperature=temperature)
    assert abs(r.value) < 1e-9 and np.abs(r.grad).max() < 1e-9


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, (6,), elements=finite), hnp.arrays(np.float64, (6,), elements=finite))
def test_median_pinball_is_half_the_absolute_error_and_quantiles_mirror(pred, target):
    half = losses.pinball(pred, target, quantile=0.5)
    l1 = losses.absolute_error(pred, target)
    np.testing.assert_allclose(half.value, 0.5 * l1.value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(half.grad, 0.5 * l1.grad, rtol=1e-12, atol=1e-15)
    # the τ-loss of (pred, target) is the (1 - τ)-loss of (-pred, -target)
    a = losses.pinball(pred, target, quantile=0.2).value
    b = losses.pinball(-pred, -target, quantile=0.8).value
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
