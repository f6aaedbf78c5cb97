"""Models' backward passes, checked through the whole training objective."""

import numpy as np
import pytest

from losslab import check_gradient, losses, models
from losslab.training import Objective

RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 5))
Y = RNG.integers(0, 3, 12)


def objective_check(model, loss, penalty, name):
    """check_gradient of (data loss + penalty) with respect to one parameter array."""
    objective = Objective(model, losses.get(loss), reg=0.05, penalty=penalty, l1_ratio=0.3)
    target = (
        Y if losses.get(loss).task == "multiclass" else (Y[:, None] == np.arange(3)).astype(float)
    )
    _, grads, _ = objective.value_and_grads(X, target)
    f = lambda _: objective.value_and_grads(X, target)[0]  # noqa: E731
    return check_gradient(f, model.params[name], analytic=grads[name])


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("loss", ["softmax", "svm", "focal", "logistic"])
@pytest.mark.parametrize("name", ["W", "b"])
def test_linear_objective_gradient(penalty, loss, name):
    model = models.Linear(5, 3, init_scale=0.5, random_state=1)
    report = objective_check(model, loss, penalty, name)
    assert report.ok, str(report)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2", "W3", "b3"])
def test_mlp_objective_gradient(penalty, name):
    model = models.MLP(5, (7, 6), 3, random_state=2)
    report = objective_check(model, "softmax", penalty, name)
    assert report.ok, str(report)


def test_linear_backward_gives_input_gradient():
    model = models.Linear(5, 3, init_scale=0.5, random_state=1)
    scores, cache = model.forward(X)
    _, dX = model.backward(cache, np.ones_like(scores))
    np.testing.assert_allclose(dX, np.ones((12, 3)) @ model.params["W"].T)


def test_initialisation_scales():
    lin = models.Linear(1000, 10, random_state=0)
    assert lin.params["W"].std() == pytest.approx(1e-3, rel=0.05)
    assert not lin.params["b"].any()
    mlp = models.MLP(1000, (500,), 10, random_state=0)
    assert mlp.params["W1"].std() == pytest.approx(np.sqrt(2 / 1000), rel=0.05)  # He
    assert mlp.weight_names == ("W1", "W2") and mlp.hidden == (500,)


def test_float32_models_stay_float32():
    model = models.MLP(5, (4,), 3, dtype=np.float32, random_state=0)
    scores = model(X.astype(np.float32))
    assert scores.dtype == np.float32


def test_unknown_model_kind():
    with pytest.raises(ValueError, match="model: expected 'linear' or 'mlp', got 'cnn'"):
        models.build("cnn", 3, 2)
