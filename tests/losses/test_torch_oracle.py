"""Values and gradients against PyTorch 2.13 (CPU) autograd, the reference oracle.

float64 must agree to 1e-6 relative and float32 to 1e-4, over randomized shapes,
weights, margins, smoothing, ignore_index and all three reductions.
"""

import numpy as np
import pytest

from losslab import losses
from tests.helpers import DTYPES, assert_close, probabilities, scores_and_labels

torch = pytest.importorskip("torch")
F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
SEEDS = range(6)


def t(x, grad=False):
    tensor = torch.from_numpy(np.ascontiguousarray(x))
    return tensor.requires_grad_(grad) if grad else tensor


def torch_value_and_grad(loss_fn, *inputs):
    """Evaluate loss_fn on tensors; the gradient is that of the loss's sum (for 'none')."""
    leaves = [t(x, grad=True) for x in inputs]
    value = loss_fn(*leaves)
    value.sum().backward()
    grads = [leaf.grad.numpy() for leaf in leaves]
    return value.detach().numpy(), grads if len(grads) > 1 else grads[0]


# --- multiclass hinge = C x multi_margin_loss -------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_weston_watkins_is_c_times_multi_margin_loss(dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    s, y = scores_and_labels(rng, dtype=dtype)
    c = s.shape[1]
    squared = bool(seed % 2)
    margin = float(rng.uniform(0.1, 2.0))
    cw = rng.uniform(0.1, 2.0, c).astype(dtype) if seed % 3 == 0 else None
    ours = losses.multiclass_hinge(
        s, y, margin=margin, squared=squared, class_weight=cw, reduction=reduction
    )
    # torch divides "mean" by N even with weights; compare "sum"/"none" and rescale the mean
    torch_red = "sum" if reduction == "mean" else reduction
    value, grad = torch_value_and_grad(
        lambda x: F.multi_margin_loss(
            x,
            t(y),
            p=2 if squared else 1,
            margin=margin,
            weight=None if cw is None else t(cw),
            reduction=torch_red,
        ),
        s,
    )
    denom = len(y) if cw is None else cw[y].sum(dtype=np.float64)
    if reduction == "mean":
        assert_close(ours.value, c * value / denom, dtype, scale=c)
        assert_close(ours.grad, c * grad / denom, dtype)
    else:
        assert_close(ours.value, c * value, dtype, scale=c)
        assert_close(ours.grad, c * grad, dtype)


# --- softmax cross-entropy = F.cross_entropy ----------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy_labels_match_torch(dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    s, y = scores_and_labels(rng, n=int(rng.integers(3, 12)), dtype=dtype)
    c = s.shape[1]
    cw = rng.uniform(0.1, 3.0, c).astype(dtype) if seed % 2 else None
    smoothing = [0.0, 0.1, 0.35][seed % 3]
    ignore = int(y[0]) if seed >= 3 else None
    ours = losses.softmax_cross_entropy(
        s, y, class_weight=cw, label_smoothing=smoothing, ignore_index=ignore, reduction=reduction
    )
    value, grad = torch_value_and_grad(
        lambda x: F.cross_entropy(
            x,
            t(y),
            weight=None if cw is None else t(cw),
            label_smoothing=smoothing,
            ignore_index=-100 if ignore is None else ignore,
            reduction=reduction,
        ),
        s,
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy_probabilities_match_torch(dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    s, _ = scores_and_labels(rng, dtype=dtype)
    q = probabilities(rng, s.shape, dtype)
    cw = rng.uniform(0.1, 3.0, s.shape[1]).astype(dtype) if seed % 2 else None
    smoothing = [0.0, 0.2][seed % 2]
    ours = losses.softmax_cross_entropy(
        s, q, class_weight=cw, label_smoothing=smoothing, reduction=reduction
    )
    value, grad = torch_value_and_grad(
        lambda x: F.cross_entropy(
            x,
            t(q),
            weight=None if cw is None else t(cw),
            label_smoothing=smoothing,
            reduction=reduction,
        ),
        s,
    )
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_sample_weight_is_weighted_mean_of_torch_none(dtype):
    rng = np.random.default_rng(7)
    s, y = scores_and_labels(rng, n=9, c=4, dtype=dtype)
    sw = rng.uniform(0, 2, 9).astype(dtype)
    per_sample, grad = torch_value_and_grad(
        lambda x: F.cross_entropy(x, t(y), reduction="none") * t(sw), s
    )
    ours = losses.softmax_cross_entropy(s, y, sample_weight=sw)
    assert_close(ours.value, per_sample.sum() / sw.sum(dtype=np.float64), dtype)
    assert_close(ours.grad, grad / sw.sum(dtype=np.float64), dtype)


# --- cross-entropy on probabilities -------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_cross_entropy_matches_torch_log_then_nll(dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 10)), int(rng.integers(2, 6))
    p = rng.uniform(0.01, 1.0, (n, c)).astype(dtype)  # need not sum to one
    cw = rng.uniform(0.5, 2, c).astype(dtype) if seed % 2 else None
    if seed < 3:
        target = rng.integers(0, c, n)
        fn = lambda x: F.nll_loss(  # noqa: E731
            torch.log(x).clamp(min=-100),
            t(target),
            weight=None if cw is None else t(cw),
            reduction=reduction,
        )
    else:
        target = probabilities(rng, (n, c), dtype)
        w = 1.0 if cw is None else t(cw)
        per = lambda x: -(t(target) * w * torch.log(x).clamp(min=-100)).sum(1)  # noqa: E731
        fn = {"none": per, "sum": lambda x: per(x).sum(), "mean": lambda x: per(x).mean()}[
            reduction
        ]
    ours = losses.categorical_cross_entropy(p, target, class_weight=cw, reduction=reduction)
    value, grad = torch_value_and_grad(fn, p)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype, scale=np.abs(grad).max())


# --- softmax focal (the formula written in torch) -----------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_softmax_focal_matches_torch_formula(dtype, reduction, gamma):
    rng = np.random.default_rng(int(gamma * 10))
    s, y = scores_and_labels(rng, n=8, c=5, dtype=dtype)
    alpha = rng.uniform(0.2, 1.0, 5).astype(dtype)

    def torch_focal(x):
        logp = F.log_softmax(x, dim=1).gather(1, t(y)[:, None])[:, 0]
        per = -t(alpha)[t(y)] * (1 - logp.exp()) ** gamma * logp
        return {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]

    ours = losses.softmax_focal(s, y, gamma=gamma, alpha=alpha, reduction=reduction)
    value, grad = torch_value_and_grad(torch_focal, s)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_focal_probability_targets_match_torch_formula(dtype):
    rng = np.random.default_rng(3)
    s, _ = scores_and_labels(rng, n=6, c=4, dtype=dtype)
    q = probabilities(rng, s.shape, dtype)

    def torch_focal(x):
        logp = F.log_softmax(x, dim=1)
        return (-(t(q) * (1 - logp.exp()) ** 2 * logp).sum(1)).mean()

    ours = losses.softmax_focal(s, q, gamma=2.0)
    value, grad = torch_value_and_grad(torch_focal, s)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


# --- binary losses --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_bce_matches_binary_cross_entropy_with_logits(dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 9)),) if seed % 2 else (int(rng.integers(1, 9)), 3)
    x = (4 * rng.standard_normal(shape)).astype(dtype)
    y = (
        rng.uniform(0, 1, shape).astype(dtype)
        if seed > 2
        else rng.integers(0, 2, shape).astype(dtype)
    )
    pw = rng.uniform(0.5, 3, shape[-1:]).astype(dtype) if seed % 3 == 0 else None
    w = rng.uniform(0.1, 2, shape).astype(dtype) if seed % 3 == 1 else None
    eps = 0.1 if seed == 4 else 0.0
    y_smooth = y * (1 - eps) + eps / 2
    torch_red = "sum" if (reduction == "mean" and w is not None) else reduction
    value, grad = torch_value_and_grad(
        lambda z: F.binary_cross_entropy_with_logits(
            z,
            t(y_smooth.astype(dtype)),
            weight=None if w is None else t(w),
            pos_weight=None if pw is None else t(pw),
            reduction=torch_red,
        ),
        x,
    )
    ours = losses.sigmoid_binary_cross_entropy(
        x, y, pos_weight=pw, weight=w, label_smoothing=eps, reduction=reduction
    )
    if torch_red != reduction:  # torch's weighted "mean" divides by the count, ours by the weight
        value, grad = value / w.sum(dtype=np.float64), grad / w.sum(dtype=np.float64)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_cross_entropy_matches_torch(dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 9)), 2)
    p = rng.uniform(0.001, 0.999, shape).astype(dtype)
    y = rng.uniform(0, 1, shape).astype(dtype)
    w = rng.uniform(0.1, 2, shape).astype(dtype) if seed % 2 else None
    torch_red = "sum" if (reduction == "mean" and w is not None) else reduction
    value, grad = torch_value_and_grad(
        lambda z: F.binary_cross_entropy(
            z, t(y), weight=None if w is None else t(w), reduction=torch_red
        ),
        p,
    )
    ours = losses.binary_cross_entropy(p, y, weight=w, reduction=reduction)
    if torch_red != reduction:
        value, grad = value / w.sum(dtype=np.float64), grad / w.sum(dtype=np.float64)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype, scale=np.abs(grad).max())


def torchvision_sigmoid_focal(x, y, alpha, gamma, reduction):
    """torchvision.ops.sigmoid_focal_loss, written out in torch."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.0])
@pytest.mark.parametrize("alpha", [0.25, None])
def test_sigmoid_focal_matches_torchvision_formula(dtype, reduction, gamma, alpha):
    rng = np.random.default_rng(11)
    x = (3 * rng.standard_normal((7, 3))).astype(dtype)
    y = rng.integers(0, 2, (7, 3)).astype(dtype)
    y[0] = [0.3, 0.7, 0.5]  # soft labels too
    value, grad = torch_value_and_grad(
        lambda z: torchvision_sigmoid_focal(z, t(y), alpha, gamma, reduction), x
    )
    ours = losses.sigmoid_focal(x, y, gamma=gamma, alpha=alpha, reduction=reduction)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


# --- regression -----------------------------------------------------------------------------------

REGRESSION = [
    ("squared_error", {}, lambda a, b: F.mse_loss(a, b, reduction="none")),
    ("absolute_error", {}, lambda a, b: F.l1_loss(a, b, reduction="none")),
    ("huber", {"delta": 0.7}, lambda a, b: F.huber_loss(a, b, delta=0.7, reduction="none")),
    ("smooth_l1", {"beta": 0.5}, lambda a, b: F.smooth_l1_loss(a, b, beta=0.5, reduction="none")),
    ("log_cosh", {}, lambda a, b: torch.log(torch.cosh(a - b))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "options", "torch_fn"), REGRESSION, ids=[r[0] for r in REGRESSION]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_losses_match_torch(dtype, reduction, name, options, torch_fn, weighted):
    rng = np.random.default_rng(len(name))
    pred = (2 * rng.standard_normal((6, 4))).astype(dtype)
    target = (2 * rng.standard_normal((6, 4))).astype(dtype)
    w = rng.uniform(0.1, 3, (1, 4)).astype(dtype) if weighted else None
    wb = np.broadcast_to(w, pred.shape) if weighted else np.ones_like(pred)

    def weighted_torch(a):
        per = torch_fn(a, t(target)) * t(np.ascontiguousarray(wb))
        return {"none": per, "sum": per.sum(), "mean": per.sum() / float(wb.sum())}[reduction]

    value, grad = torch_value_and_grad(weighted_torch, pred)
    ours = getattr(losses, name)(pred, target, weight=w, reduction=reduction, **options)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("name", ["squared_error", "absolute_error", "huber", "smooth_l1"])
def test_unweighted_regression_mean_is_torch_default(name):
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((2, 5, 3))
    torch_fn = {
        "squared_error": F.mse_loss,
        "absolute_error": F.l1_loss,
        "huber": F.huber_loss,
        "smooth_l1": F.smooth_l1_loss,
    }[name]
    value, grad = torch_value_and_grad(lambda a: torch_fn(a, t(target)), pred)
    ours = getattr(losses, name)(pred, target)
    assert_close(ours.value, value, np.float64)
    assert_close(ours.grad, grad, np.float64)


# --- ranking ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_matches_torch(dtype, reduction, margin):
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((2, 10)).astype(dtype)
    y = rng.choice([-1.0, 1.0], 10).astype(dtype)
    value, (g1, g2) = torch_value_and_grad(
        lambda a, b: F.margin_ranking_loss(a, b, t(y), margin=margin, reduction=reduction), x1, x2
    )
    ours = losses.margin_ranking(x1, x2, y, margin=margin, reduction=reduction)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad[0], g1, dtype)
    assert_close(ours.grad[1], g2, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_matches_torch(dtype, reduction, p, swap):
    rng = np.random.default_rng(p + 10 * swap)
    a, pos, neg = rng.standard_normal((3, 12, 5)).astype(dtype)
    value, grads = torch_value_and_grad(
        lambda x, y, z: F.triplet_margin_loss(
            x, y, z, margin=1.0, p=p, swap=swap, reduction=reduction
        ),
        a,
        pos,
        neg,
    )
    ours = losses.triplet_margin(a, pos, neg, margin=1.0, p=p, swap=swap, reduction=reduction)
    assert_close(ours.value, value, dtype)
    for mine, theirs in zip(ours.grad, grads, strict=True):
        assert_close(mine, theirs, dtype)


def torch_distances(e, distance):
    if distance == "cosine":
        u = F.normalize(e, dim=1, eps=1e-12)
        return 1 - u @ u.T
    diff = e[:, None, :] - e[None, :, :]
    sq = (diff**2).sum(-1)
    if distance == "squared_euclidean":
        return sq
    eye = torch.eye(len(e), dtype=e.dtype)
    return torch.sqrt(sq + eye) * (1 - eye)  # sqrt is not differentiable at 0: mask the diagonal


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("distance", losses.ranking.DISTANCES)
@pytest.mark.parametrize("mining", losses.ranking.MININGS)
def test_batch_triplet_matches_torch_on_the_mined_triplets(dtype, distance, mining):
    rng = np.random.default_rng(2)
    e = rng.standard_normal((12, 4)).astype(dtype)
    labels = rng.integers(0, 3, 12)
    ours = losses.batch_triplet(e, labels, margin=0.5, mining=mining, distance=distance)
    idx = losses.mine_triplets(labels, losses.pairwise_distances(e, distance), mining)
    a, p, n = (t(col.copy()) for col in idx.T)

    def torch_loss(x):
        d = torch_distances(x, distance)
        return torch.clamp(d[a, p] - d[a, n] + 0.5, min=0).mean()

    value, grad = torch_value_and_grad(torch_loss, e)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("distance", losses.ranking.DISTANCES)
def test_contrastive_matches_torch(dtype, distance):
    rng = np.random.default_rng(4)
    e = rng.standard_normal((10, 3)).astype(dtype)
    labels = rng.integers(0, 3, 10)
    i, j = np.triu_indices(10, 1)
    same = t(labels[i] == labels[j])

    def torch_loss(x):
        d = torch_distances(x, distance)[t(i), t(j)]
        per = torch.where(same, torch.clamp(d - 0.1, min=0), torch.clamp(1.5 - d, min=0))
        return per.mean()

    value, grad = torch_value_and_grad(torch_loss, e)
    ours = losses.contrastive(e, labels, pos_margin=0.1, neg_margin=1.5, distance=distance)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)


# --- binary margin losses against scikit-learn's SGD losses -------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "sk_name", "sk_arg"),
    [
        ("hinge", {}, "Hinge", 1.0),
        ("hinge", {"margin": 0.5}, "Hinge", 0.5),
        ("hinge", {"squared": True}, "SquaredHinge", 1.0),
        ("modified_huber", {}, "ModifiedHuber", None),
        ("perceptron", {}, "Hinge", 0.0),
    ],
)
def test_binary_margin_losses_match_scikit_learn(name, options, sk_name, sk_arg):
    from sklearn.linear_model import _sgd_fast

    sk = getattr(_sgd_fast, sk_name)(*([] if sk_arg is None else [sk_arg]))
    rng = np.random.default_rng(1)
    s = 3 * rng.standard_normal(40)
    y = rng.choice([-1.0, 1.0], 40)
    ours = getattr(losses, name)(s, y, reduction="none", **options)
    np.testing.assert_allclose(ours.value, [sk.py_loss(a, b) for a, b in zip(s, y, strict=True)])
    np.testing.assert_allclose(ours.grad, [sk.py_dloss(a, b) for a, b in zip(s, y, strict=True)])
