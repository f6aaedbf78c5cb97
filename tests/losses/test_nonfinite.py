"""Non-finite input over every loss, on both paths (the fast kernels and the NumPy reference).

Properties: NaN in a row gives NaN in that row's loss and gradient and nowhere else; a -inf
softmax score masks its class as torch does; finite input gives a finite value and gradient in
the output's dtype; the fast path computes what the NumPy path computes. The conftest runs each
test once per path; the tests that compare the paths switch between them themselves.
"""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losslab import config, losses

SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ROW_WISE = ("multiclass", "metric")  # a NaN score spoils its whole row (or the batch for metric)


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_inputs(name, x, rng):
    """The arguments of loss ``name`` built around the output ``x`` (N, C), targets from ``rng``."""
    n, c = x.shape
    task = losses.get(name).task
    if name == "categorical_cross_entropy":
        return (_softmax(x).astype(x.dtype), rng.integers(0, c, n))
    if task == "multiclass":
        return (x, rng.integers(0, c, n))
    if name == "binary_cross_entropy":
        probs = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)
        return (probs, rng.integers(0, 2, x.shape).astype(x.dtype))
    if name in ("hinge", "binary_squared_hinge", "modified_huber", "perceptron", "soft_margin"):
        return (x, rng.choice([-1.0, 1.0], x.shape))
    if task == "binary":
        return (x, rng.uniform(0, 1, x.shape).astype(x.dtype))
    if name in REGRESSION_INPUTS:
        return REGRESSION_INPUTS[name](x, rng)
    if task == "regression":
        return (x, rng.normal(size=x.shape))
    if name == "margin_ranking":
        return (x, rng.normal(size=x.shape), rng.choice([-1.0, 1.0], x.shape))
    if name == "triplet_margin":
        return (x, rng.normal(size=x.shape), rng.normal(size=x.shape))
    if name == "cosine_embedding":
        return (x, rng.normal(size=x.shape), rng.choice([-1.0, 1.0], n))
    if name == "hinge_embedding":
        return (x, rng.choice([-1.0, 1.0], x.shape))
    if name == "arcface":  # one weight vector (proxy) per class
        return (x, np.arange(n) % 2, rng.normal(size=(2, c)))
    return (x, np.arange(n) % 2)  # metric: two classes of at least two rows each (n >= 4)


# the regression losses whose targets or extra inputs have a domain of their own
REGRESSION_INPUTS = {
    "poisson_nll": lambda x, rng: (x, rng.poisson(2.0, x.shape).astype(float)),
    "gaussian_nll": lambda x, rng: (x, rng.normal(size=x.shape), rng.uniform(0.1, 2, x.shape)),
    "tweedie_deviance": lambda x, rng: (np.abs(x) + 0.5, rng.gamma(2.0, size=x.shape)),
}


def first_grad(result):
    return result.grad[0] if isinstance(result.grad, tuple) else result.grad


def per_row(values, n):
    """Per-sample losses of reduction 'none' as one entry per row of the output."""
    values = np.asarray(values)
    return values.reshape(n, -1).max(axis=1) if values.ndim > 1 else values


outputs = st.builds(
    lambda n, c, dtype, seed: (n, c, np.dtype(dtype), seed),
    st.integers(4, 7),
    st.integers(2, 5),
    st.sampled_from(["float32", "float64"]),
    st.integers(0, 2**32 - 1),
)


def draw_output(n, c, dtype, seed):
    rng = np.random.default_rng(seed)
    return rng, (rng.normal(size=(n, c)) * rng.choice([0.1, 3.0, 20.0])).astype(dtype)


@pytest.mark.parametrize("name", losses.available())
@SETTINGS
@given(outputs)
def test_finite_input_gives_a_finite_value_and_gradient_in_the_outputs_dtype(name, drawn):
    rng, x = draw_output(*drawn)
    result = losses.get(name)(*loss_inputs(name, x, rng))
    assert np.isfinite(result.value)
    grads = result.grad if isinstance(result.grad, tuple) else (result.grad,)
    for g in grads:
        assert g.dtype == x.dtype and np.isfinite(g).all()


@pytest.mark.parametrize("name", losses.available())
@SETTINGS
@given(outputs, st.data())
def test_nan_in_a_row_gives_nan_in_that_rows_loss_and_gradient_only(name, drawn, data):
    rng, x = draw_output(*drawn)
    n, c = x.shape
    bad = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2, unique=True))
    col = data.draw(st.integers(0, c - 1))
    args = loss_inputs(name, x, rng)
    args[0][bad, col] = np.nan
    loss = losses.get(name)
    if loss.task == "metric":  # every row meets every other: the batch's loss is NaN
        assert np.isnan(loss(*args).value)
        return
    result = loss(*args, reduction="none")
    spoiled = np.zeros(n, bool)
    spoiled[bad] = True
    value = per_row(result.value, n)
    assert np.isnan(value[spoiled]).all() and np.isfinite(value[~spoiled]).all()
    g = first_grad(result)
    assert np.isnan(g[bad, col]).all() if loss.task not in ROW_WISE else True
    assert np.isnan(g[spoiled]).any(axis=1).all() and np.isfinite(g[~spoiled]).all()
    assert np.isnan(loss(*args).value)  # and the mean


def _with_nonfinite(x, data, allow_inf):
    """x with a few entries set to NaN, and to -inf where ``allow_inf``."""
    specials = [np.nan, -np.inf] if allow_inf else [np.nan]
    n, c = x.shape
    for _ in range(data.draw(st.integers(0, 3))):
        x[data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, c - 1))] = data.draw(
            st.sampled_from(specials)
        )
    return x


@pytest.mark.parametrize("name", losses.available())
@pytest.mark.parametrize("reduction", ["none", "mean"])
@SETTINGS
@given(outputs, st.data())
def test_the_fast_path_computes_what_the_numpy_path_computes(
    loss_path, name, reduction, drawn, data
):
    if loss_path == "fast":  # this test switches between the paths itself: once is enough
        return
    rng, x = draw_output(*drawn)
    masked = name in ("softmax_cross_entropy", "softmax_focal")
    args = loss_inputs(name, _with_nonfinite(x, data, allow_inf=masked), rng)
    loss = losses.get(name)
    with config.fast(False):
        reference = loss(*args, reduction=reduction)
    with config.fast(True):
        fast = loss(*args, reduction=reduction)
    tol = 1e-7 if x.dtype == np.float64 else 1e-4
    np.testing.assert_allclose(fast.value, reference.value, rtol=tol, atol=tol)
    finite = np.abs(first_grad(reference)[np.isfinite(first_grad(reference))])
    scale = max(finite.max(initial=0.0), 1.0)
    np.testing.assert_allclose(first_grad(fast), first_grad(reference), rtol=tol, atol=tol * scale)
    assert first_grad(fast).dtype == x.dtype


def _torch_focal(s, y, gamma):
    """Softmax focal loss per row and its gradient by torch's autograd (float64)."""
    t = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    logp = torch.log_softmax(t, dim=1)[torch.arange(len(y)), torch.tensor(y)]
    per_row = -((1 - logp.exp()) ** gamma) * logp
    per_row.sum().backward()
    return per_row.detach().numpy(), t.grad.numpy()


@SETTINGS
@given(outputs, st.data(), st.sampled_from([0.0, 0.5, 2.0]))
def test_minus_inf_scores_are_masked_as_torch_masks_them(drawn, data, gamma):
    """A -inf score is a class of probability 0 with gradient 0, at the target the loss is inf,
    and a row of only -inf is NaN: torch's cross_entropy in value and gradient. Focal loss is
    torch's autograd of its formula where that is finite; at a -inf target autograd's 0 · -inf
    is NaN and losslab gives the limit p → 0 of the gradient (cross-entropy's), and where p = 1
    exactly autograd's (1 - p)^(γ-1) is inf for γ < 1 while the limit is finite."""
    rng, x = draw_output(*drawn)
    n, c = x.shape
    y = rng.integers(0, c, n)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n * c, max_size=n * c)))
    x[mask.reshape(n, c)] = -np.inf
    x[data.draw(st.integers(0, n - 1))] = -np.inf  # one row of only -inf
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch_ce = torch.nn.functional.cross_entropy(t, torch.tensor(y), reduction="none")
    torch_ce.sum().backward()
    tol = 1e-9 if x.dtype == np.float64 else 1e-4
    ce = losses.softmax_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(ce.value, torch_ce.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ce.grad, t.grad.numpy(), rtol=tol, atol=tol)
    masked = np.isneginf(x) & ~np.isneginf(x).all(1, keepdims=True)
    masked[np.arange(n), y] = False
    assert (ce.grad[masked] == 0).all()  # exactly 0, in float32 too
    focal = losses.softmax_focal(x, y, gamma=gamma, reduction="none")
    value, grad = _torch_focal(x, y, gamma)
    all_masked = np.isneginf(x).all(1)
    target_masked = np.isneginf(x[np.arange(n), y]) & ~all_masked
    np.testing.assert_allclose(focal.value, value, rtol=tol, atol=tol)
    np.testing.assert_allclose(
        focal.grad[target_masked], ce.grad[target_masked], rtol=tol, atol=tol
    )
    assert np.isnan(focal.grad[all_masked]).all()
    torch_finite = np.isfinite(grad).all(1)
    np.testing.assert_allclose(focal.grad[torch_finite], grad[torch_finite], rtol=tol, atol=tol)
    assert np.isfinite(focal.grad[~all_masked]).all()


# --- the examples of issue 16 (items 2 and 3), on the path the conftest chose ----------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multiclass_hinge_does_not_hide_a_nan_score(dtype):
    """The fused Weston-Watkins kernel gave 0.0 and a zero gradient row for a NaN score."""
    s = np.array([[np.nan, 1.0, 0.0], [1.0, np.nan, 0.0], [1.0, 2.0, 3.0]], dtype)
    result = losses.multiclass_hinge(s, np.array([0, 0, 0]), reduction="none")
    assert np.isnan(result.value[:2]).all() and result.value[2] == 5
    assert np.isnan(result.grad[0]).all()  # the target's score is NaN: every margin is
    assert np.isnan(result.grad[1, :2]).all() and result.grad[1, 2] == 0  # margin 0: no slope
    np.testing.assert_array_equal(result.grad[2], [-2, 1, 1])
    assert np.isnan(losses.multiclass_hinge(s[:1], np.array([0])).value)


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "softmax_focal", "multiclass_hinge"])
def test_nan_scores_are_not_hidden_by_any_fused_kernel(name):
    s = np.array([[0.5, np.nan, 1.0], [0.0, 1.0, 2.0]])
    result = getattr(losses, name)(s, np.array([0, 1]), reduction="none")
    assert np.isnan(result.value[0]) and np.isnan(result.grad[0]).any()
    assert np.isfinite(result.value[1]) and np.isfinite(result.grad[1]).all()


def test_sigmoid_bce_does_not_hide_a_nan_logit_or_target():
    x = np.array([[np.nan, 0.5], [0.5, 0.5]])
    y = np.array([[1.0, 0.0], [np.nan, 1.0]])
    result = losses.sigmoid_binary_cross_entropy(x, y, reduction="none")
    assert np.isnan(result.value[[0, 1], [0, 0]]).all() and np.isfinite(result.value[:, 1]).all()
    assert np.isnan(result.grad[[0, 1], [0, 0]]).all() and np.isfinite(result.grad[:, 1]).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", [losses.softmax_cross_entropy, losses.softmax_focal])
def test_a_minus_inf_score_is_a_masked_class_on_every_path(loss, dtype):
    """softmax_cross_entropy([[2, -inf, .5]], [0]) was NaN on the NumPy path, torch's 0.2014."""
    s = np.array([[2.0, -np.inf, 0.5]], dtype)
    result = loss(s, np.array([0]), **({"gamma": 0.0} if loss is losses.softmax_focal else {}))
    assert result.value == pytest.approx(0.2014132779827524, rel=1e-6)
    np.testing.assert_allclose(result.grad, [[-0.18242552, 0.0, 0.18242552]], rtol=1e-6)
    assert result.grad[0, 1] == 0


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1}, {"class_weight": [1, 2, 3]}])
def test_masking_holds_with_the_options_that_run_the_numpy_path(options):
    s = np.array([[2.0, -np.inf, 0.5], [0.0, 1.0, -np.inf]])
    result = losses.softmax_cross_entropy(s, np.array([0, 1]), **options)
    t = torch.tensor(s, requires_grad=True)
    weight = None if "class_weight" not in options else torch.tensor([1.0, 2.0, 3.0]).double()
    smoothing = options.get("label_smoothing", 0.0)
    expected = torch.nn.functional.cross_entropy(
        t, torch.tensor([0, 1]), weight=weight, label_smoothing=smoothing
    )
    expected.backward()
    if smoothing:  # smoothing puts weight on the masked class: torch's loss is inf there too
        assert result.value == expected.item() == np.inf
    else:
        assert result.value == pytest.approx(expected.item(), rel=1e-12)
        np.testing.assert_allclose(result.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", [losses.softmax_cross_entropy, losses.softmax_focal])
def test_a_row_of_only_minus_inf_is_nan_and_minus_inf_at_the_target_is_inf(loss):
    s = np.array([[-np.inf, -np.inf, -np.inf], [-np.inf, 2.0, 0.5], [0.0, 1.0, 2.0]])
    result = loss(s, np.array([0, 0, 2]), reduction="none")
    assert np.isnan(result.value[0]) and np.isnan(result.grad[0]).all()
    assert result.value[1] == np.inf
    np.testing.assert_allclose(result.grad[1], [-1.0, 0.81757448, 0.18242552], rtol=1e-6)
    assert np.isfinite(result.value[2]) and np.isfinite(result.grad[2]).all()


@settings(max_examples=40, deadline=None)
@given(
    st.integers(90, 130),
    st.integers(1, 12),
    st.sampled_from(["float32", "float64"]),
    st.integers(0, 2**32 - 1),
)
def test_the_softmax_row_max_by_columns_is_numpys_with_nan_and_inf(n, c, dtype, seed):
    # from 100 rows and up to 10 classes the softmax paths take each row's max column by column
    from losslab.losses.classification import _row_max

    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, c)).astype(dtype)
    special = rng.random((n, c)) < 0.05
    s[special] = rng.choice([np.nan, np.inf, -np.inf], special.sum())
    s[0] = -np.inf  # a row of only -inf
    np.testing.assert_array_equal(_row_max(s), s.max(axis=1, keepdims=True))
    assert _row_max(s).dtype == s.dtype
