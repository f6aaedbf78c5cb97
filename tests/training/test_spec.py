"""TrainSpec and the one class-weighting rule shared by in-memory and distributed training."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from losslab import (
    LinearClassifier,
    LinearRegressor,
    MLPClassifier,
    datasets,
    losses,
    models,
    optim,
)
from losslab.training.spec import TrainSpec, check_clipping, check_solver, class_weight_vector


def test_balanced_is_scikit_learns_rule_from_the_class_counts():
    y = np.array(["a", "b", "b", "c", "c", "c"])
    classes, counts = np.unique(y, return_counts=True)
    np.testing.assert_array_equal(
        class_weight_vector("balanced", classes, counts),
        compute_class_weight("balanced", classes=classes, y=y),
    )
    with pytest.raises(ValueError, match="'balanced' needs the whole data"):
        class_weight_vector("balanced", classes)


def test_a_dict_names_some_classes_and_the_others_weigh_one():
    classes = np.array([0, 1, 2])
    assert class_weight_vector({1: 5.0}, classes).tolist() == [1.0, 5.0, 1.0]
    np.testing.assert_array_equal(
        class_weight_vector({1: 5.0}, classes),
        compute_class_weight({1: 5.0}, classes=classes, y=[0, 1, 2]),
    )
    assert class_weight_vector({0: 2.0, 1: 3.0, 2: 4.0, 7: 9.0}, classes).tolist() == [2, 3, 4]
    with pytest.raises(ValueError, match=r"class_weight: labels \[7\] are not among the classes"):
        class_weight_vector({1: 5.0, 7: 2.0}, classes)
    assert class_weight_vector(None, classes) is None
    with pytest.raises(ValueError, match="class_weight: expected None, a dict or 'balanced'"):
        class_weight_vector("even", classes)


def test_build_model_continues_init_only_when_its_shape_fits():
    init = models.Linear(3, 2, random_state=0)
    spec = TrainSpec(loss=losses.get("softmax"), init=init, random_state=1)
    assert spec.build_model(3, 2, np.float64) is init
    fresh = spec.build_model(4, 2, np.float32)
    assert fresh is not init and fresh.n_features == 4
    assert fresh.params["W"].dtype == np.float32
    mlp = TrainSpec(loss=losses.get("softmax"), model="mlp", hidden=(5,)).build_model(
        3, 2, np.float64
    )
    assert isinstance(mlp, models.MLP) and mlp.hidden == (5,)


def test_the_spec_is_frozen_and_names_bad_solvers():
    spec = TrainSpec(loss=losses.get("svm"))
    with pytest.raises(AttributeError):
        spec.lr = 1.0
    assert spec.n_outputs(4) == 4 and TrainSpec(loss=losses.get("hinge")).n_outputs(2) == 1
    assert check_solver("lbfgs") == "lbfgs"
    with pytest.raises(ValueError, match="solver: expected one of"):
        check_solver("newton")


DIGITS = datasets.load("digits", random_state=0)


def spy_on_clipping(monkeypatch):
    """Record (max_norm, norm after) of every clip the loop makes."""
    calls = []
    clip = optim.clip_grad_norm

    def recording(grads, max_norm):
        total = clip(grads, max_norm)
        after = np.sqrt(sum(float((g**2).sum()) for g in grads.values()))
        calls.append((max_norm, after))
        return total

    monkeypatch.setattr(optim, "clip_grad_norm", recording)
    return calls


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: LinearClassifier(**kw),
        lambda **kw: MLPClassifier(hidden_layer_sizes=(8,), **kw),
        lambda **kw: LinearRegressor("huber", **kw),
    ],
)
def test_estimators_pass_clip_grad_norm_to_every_step_of_the_loop(make, monkeypatch):
    calls = spy_on_clipping(monkeypatch)
    options = {"max_iter": 2, "tol": None, "batch_size": 100, "random_state": 0}
    estimator = make(clip_grad_norm=0.01, optimizer="adamw", schedule="warmup_cosine", **options)
    estimator.fit(DIGITS.X_train, DIGITS.y_train)
    steps = 2 * -(-len(DIGITS.X_train) // 100)
    assert estimator.solver_ == "sgd"  # "auto" trains by mini-batches when asked to clip
    assert len(calls) == steps and all(m == 0.01 and after <= 0.01 + 1e-12 for m, after in calls)
    free = make(**options, solver="sgd") if not isinstance(estimator, MLPClassifier) else None
    if free is not None:
        free.fit(DIGITS.X_train, DIGITS.y_train)
        assert not np.allclose(free.coef_, estimator.coef_)


def test_clip_grad_norm_with_a_full_batch_solver_or_a_bad_value_is_a_clear_error():
    X, y = DIGITS.X_train[:50], DIGITS.y_train[:50]
    with pytest.raises(ValueError, match=r"^clip_grad_norm: clips the mini-batch steps of solver"):
        LinearClassifier(solver="lbfgs", clip_grad_norm=1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"clip_grad_norm.* must be .*Got -1\.0 instead"):
        LinearClassifier(clip_grad_norm=-1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"clip_grad_norm.* must be"):
        LinearClassifier(clip_grad_norm=0).fit(X, y)
    assert check_clipping(None, "lbfgs") is None and check_clipping(2.0, "auto") == 2.0


def test_estimators_take_the_new_optimizer_and_schedules_by_name():
    X, y = DIGITS.X_train, DIGITS.y_train
    for schedule in ("warmup_cosine", "onecycle", "plateau"):
        clf = LinearClassifier(
            solver="sgd",
            optimizer="adamw",
            lr=1e-2,
            schedule=schedule,
            max_iter=10,
            tol=None,
            random_state=0,
        ).fit(X, y)
        assert clf.score(X, y) > 0.9, schedule
    clf = LinearClassifier(solver="sgd", schedule="plateau", early_stopping=True, max_iter=3)
    assert clf.fit(X, y).history_.val_loss[-1] is not None  # plateau follows the held-out loss
