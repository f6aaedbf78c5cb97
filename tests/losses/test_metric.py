"""Metric-learning losses: values and gradients against torch autograd of each stated formula."""

import numpy as np
import pytest

from losslab import check_gradient, losses
from losslab.losses import metric

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
E = RNG.standard_normal((12, 3))
LABELS = np.repeat([0, 1, 2, 3], 3)[RNG.permutation(12)]


def _masks(labels):
    y = torch.as_tensor(labels)
    same = y[:, None] == y[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    return same & ~eye, ~same, eye


def torch_soft_nearest_neighbour(e, labels, temperature):
    pos, _, eye = _masks(labels)
    logits = (-(torch.cdist(e, e) ** 2) / temperature).masked_fill(eye, -torch.inf)
    log_all = torch.logsumexp(logits, 1)
    log_pos = torch.logsumexp(logits.masked_fill(~pos, -torch.inf), 1)
    anchors = pos.any(1)
    return (log_all - log_pos)[anchors].mean()


def torch_supervised_contrastive(e, labels, temperature):
    pos, _, eye = _masks(labels)
    z = torch.nn.functional.normalize(e, dim=1)
    logits = z @ z.T / temperature
    log_p = logits - torch.logsumexp(logits.masked_fill(eye, -torch.inf), 1, keepdim=True)
    n_pos = pos.sum(1)
    anchors = n_pos > 0
    per_anchor = -(log_p * pos).sum(1)[anchors] / n_pos[anchors]
    return per_anchor.mean()


def torch_multi_similarity(e, labels, alpha, beta, base):
    pos, neg, _ = _masks(labels)
    z = torch.nn.functional.normalize(e, dim=1)
    s = z @ z.T
    total = 0
    for mask, scale in ((pos, -alpha), (neg, beta)):
        terms = torch.exp(scale * (s - base)) * mask
        total = total + torch.log1p(terms.sum(1)) / abs(scale)
    return total.mean()


def torch_arcface(e, labels, w, margin, scale):
    z = torch.nn.functional.normalize(e, dim=1)
    cos = (z @ torch.nn.functional.normalize(w, dim=1).T).clamp(-1 + 1e-7, 1 - 1e-7)
    rows = torch.arange(len(labels))
    y = torch.as_tensor(labels)
    target = torch.cos(torch.arccos(cos[rows, y]) + margin)
    logits = scale * cos.index_put((rows, y), target)
    return torch.nn.functional.cross_entropy(logits, y)


def _check(ours, theirs, *inputs):
    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    expected = theirs(*tensors)
    expected.backward()
    assert ours.value == pytest.approx(expected.item(), rel=1e-10, abs=1e-12)
    grads = ours.grad if isinstance(ours.grad, tuple) else (ours.grad,)
    for g, t in zip(grads, tensors, strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_soft_nearest_neighbour_matches_torch(temperature):
    ours = metric.soft_nearest_neighbour(E, LABELS, temperature=temperature)
    _check(ours, lambda e: torch_soft_nearest_neighbour(e, LABELS, temperature), E)


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_supervised_contrastive_matches_torch(temperature):
    ours = metric.supervised_contrastive(E, LABELS, temperature=temperature)
    _check(ours, lambda e: torch_supervised_contrastive(e, LABELS, temperature), E)


@pytest.mark.parametrize(("alpha", "beta", "base"), [(2.0, 50.0, 0.5), (1.0, 5.0, 0.0)])
def test_multi_similarity_matches_torch(alpha, beta, base):
    ours = metric.multi_similarity(E, LABELS, alpha=alpha, beta=beta, base=base)
    _check(ours, lambda e: torch_multi_similarity(e, LABELS, alpha, beta, base), E)


@pytest.mark.parametrize(("margin", "scale"), [(0.5, 64.0), (0.2, 4.0)])
def test_arcface_matches_torch(margin, scale):
    w = RNG.standard_normal((4, 3))
    ours = metric.arcface(E, LABELS, w, margin=margin, scale=scale)
    _check(ours, lambda e, w_: torch_arcface(e, LABELS, w_, margin, scale), E, w)


def test_batches_without_positives_are_zero_and_errors_name_the_argument():
    labels = np.arange(4)
    e = E[:4]
    for loss in (metric.soft_nearest_neighbour, metric.supervised_contrastive):
        r = loss(e, labels)
        assert r.value == 0.0 and not r.grad.any()
    with pytest.raises(ValueError, match="temperature"):
        metric.soft_nearest_neighbour(e, labels, temperature=0.0)
    with pytest.raises(ValueError, match="weights: expected shape"):
        metric.arcface(e, labels, np.ones((2, 3)))
    assert metric.multi_similarity(e.astype(np.float32), labels).grad.dtype == np.float32


# --- reductions, dtypes, the registry and NT-Xent ---------------------------------------------

PER_ANCHOR = {
    "soft_nearest_neighbour": lambda e, y: torch_soft_nearest_neighbour(e, y, 1.0),
    "supervised_contrastive": lambda e, y: torch_supervised_contrastive(e, y, 0.1),
    "multi_similarity": lambda e, y: torch_multi_similarity(e, y, 2.0, 50.0, 0.5),
}


@pytest.mark.parametrize("name", list(PER_ANCHOR))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_is_mean_times_anchors_and_none_sums_to_it(name, dtype):
    labels = np.array([0, 0, 1, 1, 2, 3, 3, 4])  # classes 2 and 4 have no positive
    e = RNG.standard_normal((8, 3)).astype(dtype)
    loss = losses.get(name)
    mean, total, none = (loss(e, labels, reduction=r) for r in ("mean", "sum", "none"))
    n_anchors = 8 if name == "multi_similarity" else 6
    tol = 1e-10 if dtype == np.float64 else 1e-5
    assert total.value == pytest.approx(mean.value * n_anchors, rel=tol)
    assert none.value.shape == (8,) and none.value.dtype == dtype
    assert none.value.sum() == pytest.approx(total.value, rel=tol)
    np.testing.assert_allclose(total.grad, mean.grad * n_anchors, rtol=tol, atol=tol)
    np.testing.assert_allclose(none.grad, total.grad, rtol=tol, atol=tol)
    if name != "multi_similarity":
        assert (none.value[[4, 7]] == 0).all()  # no positive: no term
    # float32 is float64's, rounded
    expected = torch.tensor(e.astype(np.float64), requires_grad=True)
    PER_ANCHOR[name](expected, labels).backward()
    np.testing.assert_allclose(mean.grad, expected.grad.numpy(), rtol=tol * 10, atol=tol)
    assert mean.grad.dtype == dtype


def test_the_metric_losses_are_in_the_registry():
    for name in ("soft_nearest_neighbour", "supervised_contrastive", "multi_similarity", "arcface"):
        loss = losses.get(name)
        assert loss.task == "metric" and loss.fn is getattr(metric, name)
    assert losses.get("ntxent").name == "supervised_contrastive"
    assert losses.get("supcon").name == "supervised_contrastive"


def _torch_nt_xent(z1, z2, temperature):
    """SimCLR's NT-Xent, written from the paper: 2N views, each view's positive the other one."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    n = len(z1)
    sim = (z @ z.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), -torch.inf)
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return torch.nn.functional.cross_entropy(sim, partner)


@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_ntxent_is_supcon_on_two_views_labelled_by_instance(temperature):
    views = RNG.standard_normal((2, 5, 4))
    instance = np.tile(np.arange(5), 2)
    ours = losses.get("ntxent", temperature=temperature)(np.concatenate(views), instance)
    a, b = (torch.tensor(v, requires_grad=True) for v in views)
    expected = _torch_nt_xent(a, b, temperature)
    expected.backward()
    assert ours.value == pytest.approx(expected.item(), rel=1e-10)
    np.testing.assert_allclose(ours.grad, np.concatenate([a.grad, b.grad]), rtol=1e-8, atol=1e-12)


def test_supcon_with_all_labels_distinct_is_zero_with_a_zero_gradient():
    for reduction in ("mean", "sum", "none"):
        r = metric.supervised_contrastive(E[:5], np.arange(5), reduction=reduction)
        assert np.all(r.value == 0) and not r.grad.any()


@pytest.mark.parametrize(
    "name, options",
    [
        ("soft_nearest_neighbour", {"temperature": 0.7}),
        ("supervised_contrastive", {"temperature": 0.5}),
        ("multi_similarity", {"alpha": 2.0, "beta": 10.0}),
    ],
)
def test_gradients_match_finite_differences(name, options):
    loss = losses.get(name, **options)
    report = check_gradient(lambda e: loss(e, LABELS), E.copy())
    assert report.ok, report


def test_arcface_gradients_match_finite_differences():
    w = RNG.standard_normal((4, 3))
    g_e, g_w = metric.arcface(E, LABELS, w, scale=8.0).grad
    assert check_gradient(
        lambda e: metric.arcface(e, LABELS, w, scale=8.0).value, E.copy(), analytic=g_e
    ).ok
    assert check_gradient(
        lambda v: metric.arcface(E, LABELS, v, scale=8.0).value, w, analytic=g_w
    ).ok
