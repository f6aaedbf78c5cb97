"""The softmax family's options (class_weight, ignore_index, label_smoothing, sample_weight)
mean the same on cross-entropy and focal loss, and the blocked NumPy code matches torch on
inputs of many blocks, any layout."""

import numpy as np
import pytest

from losslab import check_gradient, losses
from losslab.losses import _result
from tests.helpers import DTYPES, assert_close, probabilities

torch = pytest.importorskip("torch")
F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
IGNORED = -100


def t(x, grad=False):
    tensor = torch.from_numpy(np.ascontiguousarray(x))
    return tensor.requires_grad_(grad) if grad else tensor


def torch_focal(x, target, gamma, alpha, cw, eps, ignore_index, sw, reduction):
    """The focal loss of losses.softmax_focal's docstring, written out in torch (autograd)."""
    n, c = x.shape
    logp = F.log_softmax(x, dim=1)
    class_w = torch.ones(c, dtype=x.dtype) if cw is None else t(cw)
    row_w = torch.ones(n, dtype=x.dtype) if sw is None else t(sw)
    if target.dtype.kind in "iu":
        keep = torch.ones(n, dtype=x.dtype) if ignore_index is None else t(target != ignore_index)
        labels = t(np.where(target == IGNORED, 0, target))
        row_w = row_w * keep.to(x.dtype)
        onehot = F.one_hot(labels, c).to(x.dtype)
        a = row_w[:, None] * ((1 - eps) * class_w[labels][:, None] * onehot + eps * class_w / c)
        total = (row_w * class_w[labels]).sum()
    else:
        q = t(target) * (1 - eps) + eps / c
        a = row_w[:, None] * class_w * q
        total = row_w.sum()
    alpha_c = 1.0 if alpha is None else t(np.broadcast_to(alpha, (c,)).copy())
    per = -(alpha_c * a * (1 - logp.exp()) ** gamma * logp).sum(1)
    return {"none": per, "sum": per.sum(), "mean": per.sum() / total}[reduction]


def problem(rng, n, c, dtype, *, labels=True, ignore=False):
    s = (3 * rng.standard_normal((n, c))).astype(dtype)
    if not labels:
        return s, probabilities(rng, (n, c), dtype)
    y = rng.integers(0, c, n)
    if ignore:
        y[rng.uniform(size=n) < 0.3] = IGNORED
    return s, y


OPTIONS = [
    {},
    {"class_weight": "random"},
    {"label_smoothing": 0.15},
    {"ignore_index": IGNORED},
    {"sample_weight": "random"},
    {"class_weight": "random", "label_smoothing": 0.1, "ignore_index": IGNORED},
    {"class_weight": "random", "label_smoothing": 0.2, "sample_weight": "random", "alpha": 0.25},
]


def concrete(options, rng, n, c, dtype):
    out = dict(options)
    if out.get("class_weight") == "random":
        out["class_weight"] = rng.uniform(0.2, 2.0, c).astype(dtype)
    if out.get("sample_weight") == "random":
        out["sample_weight"] = rng.uniform(0.0, 2.0, n).astype(dtype)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("options", OPTIONS)
def test_focal_options_match_the_formula_in_torch(dtype, reduction, gamma, options):
    rng = np.random.default_rng(int(gamma * 10) + len(options))
    n, c = 9, 5
    s, y = problem(rng, n, c, dtype, ignore="ignore_index" in options)
    opts = concrete(options, rng, n, c, dtype)
    ours = losses.softmax_focal(s, y, gamma=gamma, reduction=reduction, **opts)
    x = t(s, grad=True)
    value = torch_focal(
        x,
        y,
        gamma,
        opts.get("alpha"),
        opts.get("class_weight"),
        opts.get("label_smoothing", 0.0),
        opts.get("ignore_index"),
        opts.get("sample_weight"),
        reduction,
    )
    value.sum().backward()
    assert_close(ours.value, value.detach().numpy(), dtype)
    assert_close(ours.grad, x.grad.numpy(), dtype, scale=np.abs(x.grad.numpy()).max())
    assert ours.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_focal_probability_targets_with_weights_and_smoothing_match_torch(dtype, reduction, eps):
    rng = np.random.default_rng(7)
    s, q = problem(rng, 8, 4, dtype, labels=False)
    cw, sw = rng.uniform(0.2, 2, 4).astype(dtype), rng.uniform(0, 2, 8).astype(dtype)
    ours = losses.softmax_focal(
        s, q, gamma=2.0, class_weight=cw, label_smoothing=eps, sample_weight=sw, reduction=reduction
    )
    x = t(s, grad=True)
    value = torch_focal(x, q, 2.0, None, cw, eps, None, sw, reduction)
    value.sum().backward()
    assert_close(ours.value, value.detach().numpy(), dtype)
    assert_close(ours.grad, x.grad.numpy(), dtype, scale=np.abs(x.grad.numpy()).max())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", OPTIONS[:-1])
def test_focal_with_gamma_0_is_cross_entropy_under_every_option(reduction, options):
    rng = np.random.default_rng(len(options))
    s, y = problem(rng, 40, 6, np.float64, ignore="ignore_index" in options)
    opts = concrete(options, rng, 40, 6, np.float64)
    focal = losses.softmax_focal(s, y, gamma=0.0, reduction=reduction, **opts)
    ce = losses.softmax_cross_entropy(s, y, reduction=reduction, **opts)
    np.testing.assert_allclose(focal.value, ce.value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(focal.grad, ce.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("options", OPTIONS)
def test_focal_option_gradients_match_finite_differences(options):
    rng = np.random.default_rng(11)
    s, y = problem(rng, 6, 4, np.float64, ignore="ignore_index" in options)
    opts = concrete(options, rng, 6, 4, np.float64)
    report = check_gradient(lambda z: losses.softmax_focal(z, y, gamma=1.5, **opts), s)
    assert report.max_rel_error < 1e-6, report


def test_focal_mean_over_only_ignored_labels_is_zero_without_nan():
    s = np.random.default_rng(0).standard_normal((4, 3))
    result = losses.softmax_focal(s, np.full(4, IGNORED), ignore_index=IGNORED)
    assert result.value == 0.0
    assert not result.grad.any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_label_smoothing_matches_torch(dtype, reduction):
    rng = np.random.default_rng(5)
    p = rng.uniform(0.01, 0.99, (7, 3)).astype(dtype)
    y = rng.integers(0, 2, (7, 3)).astype(dtype)
    w = rng.uniform(0.1, 2, 3).astype(dtype)
    ours = losses.binary_cross_entropy(p, y, weight=w, label_smoothing=0.2, reduction=reduction)
    z = t(p, grad=True)
    y_smooth = t((y * 0.8 + 0.1).astype(dtype))
    torch_red = "sum" if reduction == "mean" else reduction  # torch's weighted mean divides by N
    value = F.binary_cross_entropy(
        z, y_smooth, weight=t(np.broadcast_to(w, p.shape).copy()), reduction=torch_red
    )
    value.sum().backward()
    value, grad = value.detach().numpy(), z.grad.numpy()
    if reduction == "mean":
        total = 7 * w.sum(dtype=np.float64)
        value, grad = value / total, grad / total
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype, scale=np.abs(grad).max())


def test_binary_cross_entropy_smoothing_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    y = rng.uniform(0, 1, (5, 2))
    p = rng.uniform(0.05, 0.95, (5, 2))
    report = check_gradient(lambda z: losses.binary_cross_entropy(z, y, label_smoothing=0.3), p)
    assert report.max_rel_error < 1e-6, report


def test_smoothed_probabilities_agree_with_smoothed_logits():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 2)), rng.integers(0, 2, (6, 2)).astype(float)
    on_logits = losses.sigmoid_binary_cross_entropy(x, y, label_smoothing=0.2).value
    on_probs = losses.binary_cross_entropy(1 / (1 + np.exp(-x)), y, label_smoothing=0.2).value
    assert on_probs == pytest.approx(on_logits, rel=1e-12)


# --- the blocked NumPy code over many blocks, any layout --------------------------------------


def layouts(s):
    """C order, Fortran order and a strided view of the same scores."""
    wide = np.zeros((s.shape[0], 2 * s.shape[1]), s.dtype)
    wide[:, ::2] = s
    return {"C": s, "F": np.asfortranarray(s), "strided": wide[:, ::2]}


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few rows, so that a test-sized input spans many of them and a ragged end."""
    monkeypatch.setattr(_result, "BLOCK_BYTES", 7 * 6 * 8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_blocked_cross_entropy_matches_torch_on_many_blocks(small_blocks, dtype, layout, reduction):
    rng = np.random.default_rng(4)
    s, y = problem(rng, 61, 6, dtype, ignore=True)
    cw, sw = rng.uniform(0.2, 2, 6).astype(dtype), rng.uniform(0, 2, 61).astype(dtype)
    ours = losses.softmax_cross_entropy(
        layouts(s)[layout],
        y,
        class_weight=cw,
        label_smoothing=0.1,
        ignore_index=IGNORED,
        sample_weight=sw,
        reduction=reduction,
    )
    x = t(s, grad=True)
    per = F.cross_entropy(
        x, t(y), weight=t(cw), label_smoothing=0.1, ignore_index=IGNORED, reduction="none"
    ) * t(sw)
    keep = y != IGNORED
    total = (sw * cw[np.where(keep, y, 0)] * keep).sum(dtype=np.float64)
    value = {"none": per, "sum": per.sum(), "mean": per.sum() / float(total)}[reduction]
    value.sum().backward()
    assert_close(ours.value, value.detach().numpy(), dtype)
    assert_close(ours.grad, x.grad.numpy(), dtype, scale=np.abs(x.grad.numpy()).max())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_blocked_hinge_and_focal_match_torch_on_many_blocks(small_blocks, dtype, layout):
    rng = np.random.default_rng(6)
    s, y = problem(rng, 61, 6, dtype)
    scores = layouts(s)[layout]
    x = t(s, grad=True)
    (6 * F.multi_margin_loss(x, t(y), margin=0.7)).backward()
    ours = losses.multiclass_hinge(scores, y, margin=0.7)
    assert_close(ours.grad, x.grad.numpy(), dtype)
    x = t(s, grad=True)
    value = torch_focal(x, y, 2.0, None, None, 0.1, None, None, "mean")
    value.backward()
    ours = losses.softmax_focal(scores, y, label_smoothing=0.1)
    assert_close(ours.value, value.item(), dtype)
    assert_close(ours.grad, x.grad.numpy(), dtype)


def soft_targets(rng, n, c, dtype):
    """Probability rows, one row of non-negative class weights that do not sum to one (torch
    takes those too) and one row of zeros."""
    q = probabilities(rng, (n, c), dtype)
    q[1] = rng.uniform(0, 1, c)
    q[2] = 0
    return q


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_soft_target_cross_entropy_matches_torch_on_many_blocks(
    small_blocks, dtype, layout, reduction, weighted
):
    """torch's cross_entropy with probability targets, class weights and smoothing; sample
    weights as torch's per-sample losses times w_i, the mean divided by Σ w_i."""
    rng = np.random.default_rng(9)
    s, _ = problem(rng, 61, 6, dtype)
    q = soft_targets(rng, 61, 6, dtype)
    cw, sw = rng.uniform(0.2, 2, 6).astype(dtype), rng.uniform(0, 2, 61).astype(dtype)
    options = {"class_weight": cw, "label_smoothing": 0.1}
    if weighted:
        options["sample_weight"] = sw
    ours = losses.softmax_cross_entropy(
        layouts(s)[layout], layouts(q)[layout], reduction=reduction, **options
    )
    x = t(s, grad=True)
    per = F.cross_entropy(x, t(q), weight=t(cw), label_smoothing=0.1, reduction="none")
    per = per * t(sw) if weighted else per
    total = float(sw.sum(dtype=np.float64)) if weighted else len(s)
    value = {"none": per, "sum": per.sum(), "mean": per.sum() / total}[reduction]
    value.sum().backward()
    assert_close(ours.value, value.detach().numpy(), dtype)
    assert_close(ours.grad, x.grad.numpy(), dtype, scale=np.abs(x.grad.numpy()).max())


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "softmax_focal"])
@pytest.mark.parametrize("options", [o for o in OPTIONS if "ignore_index" not in o])
def test_soft_target_gradients_match_finite_differences(name, options):
    rng = np.random.default_rng(12)
    s, _ = problem(rng, 6, 4, np.float64)
    q = soft_targets(rng, 6, 4, np.float64)
    opts = concrete(options, rng, 6, 4, np.float64)
    if name == "softmax_cross_entropy":
        opts.pop("alpha", None)
    else:
        opts["gamma"] = 1.5
    report = check_gradient(lambda z: getattr(losses, name)(z, q, **opts), s)
    assert report.max_rel_error < 1e-6, report


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_blocked_sigmoid_bce_matches_torch_on_many_blocks(small_blocks, dtype, layout, reduction):
    rng = np.random.default_rng(8)
    s = (4 * rng.standard_normal((61, 6))).astype(dtype)
    y = rng.uniform(0, 1, s.shape).astype(dtype)
    pw = rng.uniform(0.5, 3, 6).astype(dtype)
    ours = losses.sigmoid_binary_cross_entropy(
        layouts(s)[layout], y, pos_weight=pw, label_smoothing=0.1, reduction=reduction
    )
    x = t(s, grad=True)
    value = F.binary_cross_entropy_with_logits(
        x, t((y * 0.9 + 0.05).astype(dtype)), pos_weight=t(pw), reduction=reduction
    )
    value.sum().backward()
    assert_close(ours.value, value.detach().numpy(), dtype)
    assert_close(ours.grad, x.grad.numpy(), dtype, scale=np.abs(x.grad.numpy()).max())
