"""Users' own losses: a plain function as a loss, register, and the checks of what it returns."""

import numpy as np
import pytest

from losslab import losses
from losslab.losses import _registry


@pytest.fixture(autouse=True)
def restored_registry(monkeypatch):
    """Each test registers into a copy of the catalogue: the built-in one stays as it was."""
    monkeypatch.setattr(_registry, "_CATALOGUE", dict(_registry._CATALOGUE))
    monkeypatch.setattr(_registry, "ALIASES", dict(_registry.ALIASES))
    monkeypatch.setattr(_registry, "_REGISTERED", set())


def half_squared(pred, y):
    """½ (pred - y)² per sample, and its gradient."""
    return 0.5 * (pred - y) ** 2, pred - y


def mean_squared(pred, y):
    """The mean of (pred - y)² as one number, and its gradient."""
    return np.mean((pred - y) ** 2), 2 * (pred - y) / pred.size


def test_a_plain_function_is_a_loss_named_after_it():
    loss = losses.get(half_squared)
    assert loss.name == "half_squared" and loss.task is None and not loss.probabilistic
    assert loss.for_task("regression").task == "regression"
    assert losses.get(half_squared, task="binary").for_task("regression").task == "binary"
    r = loss(np.array([1.0, 3.0]), np.zeros(2))
    assert r.value == 2.5 and r.grad.tolist() == [0.5, 1.5]
    with pytest.raises(ValueError, match="task: expected one of multiclass"):
        losses.get(half_squared, task="classify")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_per_sample_values_take_weights_and_every_reduction(dtype):
    pred, y = np.array([1.0, -2.0, 0.5], dtype), np.zeros(3)
    sw = np.array([1.0, 0.0, 3.0])
    loss = losses.get(half_squared)
    per = 0.5 * pred.astype(np.float64) ** 2
    r = loss(pred, y, sample_weight=sw)
    assert r.value == pytest.approx((per * sw).sum() / sw.sum())
    np.testing.assert_allclose(r.grad, pred * sw / sw.sum(), rtol=1e-6)
    assert r.grad.dtype == dtype
    none = loss(pred, y, reduction="none")
    assert none.value.dtype == dtype and none.value.tolist() == pytest.approx(per.tolist())
    assert loss(pred, y, reduction="sum").value == pytest.approx(per.sum())
    half = loss(pred.astype(np.float16), y, reduction="none")
    assert half.value.dtype == half.grad.dtype == np.float16
    # an element-wise value (the output's shape) weights each row's elements
    grid = np.ones((2, 3))
    assert loss(grid, np.zeros((2, 3)), sample_weight=[1.0, 3.0]).value == pytest.approx(0.5)


def test_a_single_value_is_a_mean_and_takes_no_weights():
    loss = losses.get(mean_squared)
    r = loss(np.array([1.0, 3.0]), np.zeros(2))
    assert r.value == 5.0 and r.grad.tolist() == [1.0, 3.0]
    with pytest.raises(ValueError, match="sample_weight: loss mean_squared returns a single value"):
        loss(np.ones(2), np.zeros(2), sample_weight=np.ones(2))
    with pytest.raises(ValueError, match="reduction: loss mean_squared returns a single value"):
        loss(np.ones(2), np.zeros(2), reduction="none")


@pytest.mark.parametrize(
    "f, message",
    [
        (lambda p, y: 1.0, r"loss <lambda>: expected f\(output, target\) to return a pair"),
        (lambda p, y: (1.0, p, p), "to return a pair"),
        (lambda p, y: (1.0, p[:1]), r"expected a gradient of the output's shape \(3,\)"),
        (lambda p, y: (np.ones(2), p), r"expected a scalar value or one per sample"),
        (lambda p, y: ("a", p), "expected a numeric value and gradient"),
    ],
)
def test_what_the_function_returns_is_checked(f, message):
    with pytest.raises((TypeError, ValueError), match=message):
        losses.get(f)(np.zeros(3), np.zeros(3))


def test_register_adds_a_name_and_aliases():
    loss = losses.register("half_sq", half_squared, task="regression", aliases=("hs",))
    assert loss == losses.get("half_sq") and loss.task == "regression"
    assert "half_sq" in losses.available() and losses.get("HS").name == "half_sq"
    assert losses.get("half_sq")(np.array([2.0]), np.zeros(1)).value == 2.0
    classifier = losses.register(
        "my_ce", _softmax_ce, task="multiclass", probabilistic=True, aliases=("mce",)
    )
    assert classifier.probabilistic and classifier.task == "multiclass"
    # registering again replaces it; unregister removes it with its aliases
    losses.register("half_sq", mean_squared, task="regression")
    assert losses.get("half_sq")(np.array([2.0]), np.zeros(1)).value == 4.0
    losses.unregister("my_ce")
    assert "my_ce" not in losses.available() and "mce" not in losses.ALIASES


def _softmax_ce(s, y):
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    grad = np.exp(logp)
    grad[rows, y] -= 1
    return -logp[rows, y], grad


def test_register_refuses_built_in_names_wrong_gradients_and_unknown_tasks():
    with pytest.raises(ValueError, match="name: 'softmax' is already a built-in loss"):
        losses.register("softmax", _softmax_ce, task="multiclass")
    with pytest.raises(ValueError, match="aliases: 'svm' is already a built-in loss"):
        losses.register("mine", _softmax_ce, task="multiclass", aliases=("svm",))
    with pytest.raises(ValueError, match="task: expected one of"):
        losses.register("mine", _softmax_ce, task="classification")

    def wrong(pred, y):
        return (pred - y) ** 2, pred - y  # the gradient misses its factor 2

    with pytest.raises(ValueError, match=r"loss wrong: its gradient does not match finite diff"):
        losses.register("wrong", wrong, task="regression")
    assert "wrong" not in losses.available()
    losses.register("wrong", wrong, task="regression", check_gradient=False)  # on request
    with pytest.raises(ValueError, match="name: expected a loss added by register"):
        losses.unregister("softmax")
    with pytest.raises(ValueError, match="not finite on random regression inputs"):
        losses.register("nan", lambda p, y: (np.full_like(p, np.nan), p - y), task="regression")


@pytest.mark.parametrize("task", ["multiclass", "binary", "regression", "metric"])
def test_the_registration_check_passes_a_right_gradient_for_each_task(task):
    def sum_of_squares(output, target):
        return (output**2).reshape(len(output), -1).sum(axis=1), 2 * output

    assert losses.register("sos", sum_of_squares, task=task).task == task
    with pytest.raises(ValueError, match="random inputs of a ranking loss are unknown"):
        losses.register("sos2", sum_of_squares, task="ranking")


def test_a_function_is_imported_by_its_path():
    loss = losses.get("tests.losses.test_custom:half_squared")
    assert loss.name == "half_squared" and loss.fn.f is half_squared
    with pytest.raises(ValueError, match=r"loss: cannot import 'nowhere:f' \(No module named"):
        losses.get("nowhere:f")
    with pytest.raises(ValueError, match="has no attribute 'missing'"):
        losses.get("tests.losses.test_custom:missing")
    with pytest.raises(ValueError, match="is a dict, not a function"):
        losses.get("tests.losses.test_custom:OPTIONS")


OPTIONS = {"not": "a function"}


def test_a_function_named_like_a_built_in_loss_keeps_its_module_in_its_name():
    """Training code treats some built-in losses specially by name (the hinge's solver)."""

    def hinge(scores, target):
        return np.maximum(0, 1 - scores * target), -target * (scores * target < 1)

    loss = losses.get(hinge)
    assert loss.name == "tests.losses.test_custom.hinge" and loss.fn.f is hinge
    assert losses.get(half_squared).name == "half_squared"
