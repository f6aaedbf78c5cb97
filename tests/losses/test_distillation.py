"""The distillation loss against torch's kl_div and torch autograd of its formula."""

import numpy as np
import pytest
import torch

from losslab import check_gradient, losses
from tests.helpers import DTYPES, assert_close, probabilities

F = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def _autograd(s, q, temperature, reduction, sample_weight=None):
    """T² Σ_c q (log q - log softmax(s/T)) by torch autograd, reduced as losslab reduces."""
    x = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    qt = torch.tensor(q, dtype=torch.float64)
    logp = torch.log_softmax(x / temperature, dim=1)
    per = temperature**2 * (torch.xlogy(qt, qt) - qt * logp).sum(dim=1)
    w = (
        torch.ones(len(s), dtype=torch.float64)
        if sample_weight is None
        else torch.tensor(sample_weight)
    )
    per = per * w
    value = {"none": per, "sum": per.sum(), "mean": per.sum() / w.sum()}[reduction]
    value.sum().backward()
    return value.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_kl_divergence_is_autograd_of_its_formula(dtype, reduction, temperature, weighted):
    rng = np.random.default_rng(0)
    s = (3 * rng.normal(size=(7, 4))).astype(dtype)
    q = probabilities(rng, (7, 4), dtype)
    q[0, 1] = 0.0  # a class the teacher rules out: its term is 0
    sw = rng.uniform(0.1, 2, 7) if weighted else None
    ours = losses.kl_divergence(
        s, q, temperature=temperature, sample_weight=sw, reduction=reduction
    )
    value, grad = _autograd(s, q, temperature, reduction, sw)
    assert_close(ours.value, value, dtype)
    assert_close(ours.grad, grad, dtype)
    assert ours.grad.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_at_temperature_one_it_is_torchs_batchmean_kl_div(dtype):
    rng = np.random.default_rng(1)
    s = rng.normal(size=(5, 3)).astype(dtype)
    q = probabilities(rng, (5, 3), dtype)
    q[2] = [0.0, 1.0, 0.0]
    x = torch.from_numpy(s).requires_grad_(True)
    expected = F.kl_div(torch.log_softmax(x, dim=1), torch.from_numpy(q), reduction="batchmean")
    expected.backward()
    ours = losses.kl_divergence(s, q)
    assert_close(ours.value, expected.item(), dtype)
    assert_close(ours.grad, x.grad.numpy(), dtype)


def test_saturated_logits_and_labels():
    """Logits of ±1000 stay finite; integer labels are a one-hot teacher: T² × cross-entropy."""
    s = np.array([[1000.0, -1000.0, 0.0], [0.0, 1.0, 2.0]])
    q = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    r = losses.kl_divergence(s, q, temperature=2.0, reduction="none")
    assert np.isfinite(r.value).all() and np.isfinite(r.grad).all()
    assert r.value[0] == 0.0
    labels = np.array([0, 2])
    ce = losses.softmax_cross_entropy(s / 3.0, labels).value
    assert losses.kl_divergence(s, labels, temperature=3.0).value == pytest.approx(9 * ce)
    with pytest.raises(ValueError, match="target: expected probabilities of shape"):
        losses.kl_divergence(s, q[:, :2])
    with pytest.raises(ValueError, match="temperature: expected a number > 0"):
        losses.kl_divergence(s, q, temperature=0)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    q = probabilities(rng, (6, 4))
    q[1, 3] = 0.0
    report = check_gradient(
        lambda s: losses.kl_divergence(s, q, temperature=2.5), rng.normal(size=(6, 4))
    )
    assert report.ok, report
