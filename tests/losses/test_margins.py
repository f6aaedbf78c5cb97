"""Soft-margin, multi-label soft-margin, cosine and hinge embedding losses against torch."""

import numpy as np
import pytest
import torch

from losslab import check_gradient, losses
from tests.helpers import DTYPES, assert_close

F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def _torch(fn, inputs, n_grads):
    leaves = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]
    for leaf in leaves[:n_grads]:
        leaf.requires_grad_(True)
    value = fn(*leaves)
    value.sum().backward()
    return value.detach().numpy(), [leaf.grad.numpy() for leaf in leaves[:n_grads]]


def _rowwise(reduction, sw):
    """Reduce torch's per-sample losses as losslab does with sample weights."""
    w = torch.from_numpy(sw)

    def apply(per):
        per = per * w.reshape((-1,) + (1,) * (per.ndim - 1))
        if reduction == "none":
            return per
        total = per.sum()
        if reduction == "sum":
            return total
        return total / (w.sum() * (per.numel() // len(w)))

    return apply


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("scale", [1.0, 40.0])
def test_soft_margin_is_torchs(dtype, reduction, scale):
    rng = np.random.default_rng(0)
    x = (scale * rng.normal(size=(7, 3))).astype(dtype)  # 40: saturated scores
    y = rng.choice([-1.0, 1.0], (7, 3)).astype(dtype)
    ours = losses.soft_margin(x, y, reduction=reduction)
    # torch in float64: in float32 its log(1 + exp(-ys)) overflows to inf past ys = -88
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    value, (grad,) = _torch(
        lambda a, b: F.soft_margin_loss(a, b, reduction=reduction), (x64, y64), 1
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)
    assert np.isfinite(ours.grad).all() and ours.grad.dtype == dtype
    # 0 reads as -1, as fit's binary targets and the binary hinge
    np.testing.assert_array_equal(
        losses.soft_margin(x, np.where(y < 0, 0, y)).grad, losses.soft_margin(x, y).grad
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_with_sample_weights(dtype, reduction):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 2)).astype(dtype)
    y = rng.choice([-1.0, 1.0], (6, 2)).astype(dtype)
    sw = rng.uniform(0.1, 2, 6)
    ours = losses.soft_margin(x, y, sample_weight=sw, reduction=reduction)
    fn = _rowwise(reduction, sw)
    value, (grad,) = _torch(lambda a, b: fn(F.soft_margin_loss(a, b, reduction="none")), (x, y), 1)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("class_weighted", [False, True])
def test_multilabel_soft_margin_is_torchs(dtype, reduction, class_weighted):
    rng = np.random.default_rng(2)
    x = (5 * rng.normal(size=(8, 4))).astype(dtype)
    y = rng.integers(0, 2, (8, 4)).astype(dtype)
    w = rng.uniform(0.1, 3, 4).astype(dtype) if class_weighted else None
    ours = losses.multilabel_soft_margin(x, y, weight=w, reduction=reduction)
    tw = None if w is None else torch.from_numpy(w)
    value, (grad,) = _torch(
        lambda a, b: F.multilabel_soft_margin_loss(a, b, weight=tw, reduction=reduction), (x, y), 1
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)
    sw = rng.uniform(0.1, 2, 8)
    ours = losses.multilabel_soft_margin(x, y, weight=w, sample_weight=sw, reduction=reduction)
    fn = _rowwise(reduction, sw)
    value, (grad,) = _torch(
        lambda a, b: fn(F.multilabel_soft_margin_loss(a, b, weight=tw, reduction="none")), (x, y), 1
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [-0.5, 0.0, 0.3])
def test_cosine_embedding_is_torchs_for_both_inputs(dtype, reduction, margin):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 9, 4)).astype(dtype)
    b[0] = 0.0  # a zero vector: cosine 0, finite gradients (torch's epsilon)
    y = rng.choice([-1.0, 1.0], 9).astype(dtype)
    ours = losses.cosine_embedding(a, b, y, margin=margin, reduction=reduction)
    value, (g1, g2) = _torch(
        lambda p, q, t: F.cosine_embedding_loss(p, q, t, margin=margin, reduction=reduction),
        (a, b, y),
        2,
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad[0], g1, dtype)
    assert_close(ours.grad[1], g2, dtype, scale=1e3 if dtype == np.float32 else 1.0)
    assert all(g.dtype == dtype for g in ours.grad)
    sw = rng.uniform(0.1, 2, 9)
    ours = losses.cosine_embedding(a, b, y, margin=margin, sample_weight=sw, reduction=reduction)
    fn = _rowwise(reduction, sw)
    value, (g1, _) = _torch(
        lambda p, q, t: fn(F.cosine_embedding_loss(p, q, t, margin=margin, reduction="none")),
        (a, b, y),
        2,
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad[0], g1, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_hinge_embedding_is_torchs(dtype, reduction, margin):
    rng = np.random.default_rng(4)
    d = rng.uniform(0, 3, (6, 3)).astype(dtype)
    d[np.abs(d - margin) < 1e-3] += 0.01  # off the kink, where subgradients may differ
    y = rng.choice([-1.0, 1.0], (6, 3)).astype(dtype)
    ours = losses.hinge_embedding(d, y, margin=margin, reduction=reduction)
    value, (grad,) = _torch(
        lambda x, t: F.hinge_embedding_loss(x, t, margin=margin, reduction=reduction), (d, y), 1
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)
    sw = rng.uniform(0.1, 2, 6)
    ours = losses.hinge_embedding(d, y, margin=margin, sample_weight=sw, reduction=reduction)
    fn = _rowwise(reduction, sw)
    value, (grad,) = _torch(
        lambda x, t: fn(F.hinge_embedding_loss(x, t, margin=margin, reduction="none")), (d, y), 1
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


def test_targets_must_be_plus_or_minus_one():
    with pytest.raises(ValueError, match=r"target: expected values in \{-1, \+1\}, got 0.5"):
        losses.hinge_embedding(np.ones(2), np.array([1.0, 0.5]))
    with pytest.raises(ValueError, match=r"target: expected shape \(2,\)"):
        losses.cosine_embedding(np.ones((2, 3)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"margin: expected a number <= 1"):
        losses.cosine_embedding(np.ones((2, 3)), np.ones((2, 3)), np.ones(2), margin=2.0)


RNG = np.random.default_rng(5)
SIGNED = RNG.choice([-1.0, 1.0], (5, 3))
X2 = RNG.normal(size=(6, 4))
PAIRS = RNG.choice([-1.0, 1.0], 6)


@pytest.mark.parametrize(
    "f, x",
    [
        (lambda s: losses.soft_margin(s, SIGNED), RNG.normal(size=(5, 3))),
        (
            lambda s: losses.multilabel_soft_margin(s, (SIGNED > 0) * 1.0, weight=[1.0, 2.0, 0.5]),
            RNG.normal(size=(5, 3)),
        ),
        (lambda d: losses.hinge_embedding(d, SIGNED, margin=0.5), RNG.uniform(0.6, 2, (5, 3))),
    ],
)
def test_gradients_match_finite_differences(f, x):
    report = check_gradient(f, x)
    assert report.ok, report


def test_cosine_embedding_gradients_for_x1_and_x2_match_finite_differences():
    a = RNG.normal(size=(6, 4))
    g1, g2 = losses.cosine_embedding(a, X2, PAIRS, margin=-0.9).grad
    f1 = lambda z: losses.cosine_embedding(z, X2, PAIRS, margin=-0.9).value  # noqa: E731
    f2 = lambda z: losses.cosine_embedding(a, z, PAIRS, margin=-0.9).value  # noqa: E731
    assert check_gradient(f1, a, analytic=g1).ok
    assert check_gradient(f2, X2.copy(), analytic=g2).ok
