"""Metric-learning losses: values and gradients against torch autograd of each stated formula."""

import numpy as np
import pytest

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
