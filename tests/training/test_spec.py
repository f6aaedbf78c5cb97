"""TrainSpec and the one class-weighting rule shared by in-memory and distributed training."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.class_weight import compute_class_weight

from losslab import (
    LinearClassifier,
    LinearRegressor,
    LinearSVM,
    MLPClassifier,
    SoftmaxClassifier,
    datasets,
    losses,
    models,
    optim,
)
from losslab.training.spec import (
    TrainSpec,
    check_clipping,
    check_early_stopping,
    check_solver,
    class_weight_vector,
)


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


SMALL_X = DIGITS.X_train[:90, :6]
SMALL_Y = DIGITS.y_train[:90] % 3


def test_early_stopping_makes_auto_train_by_mini_batches_on_held_out_rows():
    # it used to be ignored: "auto" picked a full-batch solver, held nothing out, kept the last
    # iterate; now it trains by mini-batches, as clip_grad_norm does, and monitors the held-out rows
    spec = TrainSpec(losses.get("softmax"), solver="auto", early_stopping=True)
    assert spec.needs_mini_batches and spec.solver_for(150, 4) == "sgd"
    assert TrainSpec(losses.get("softmax"), solver="auto").solver_for(150, 4) == "lbfgs"
    options = {"early_stopping": True, "max_iter": 5, "tol": None, "random_state": 0}
    estimators = [
        SoftmaxClassifier(**options),
        LinearSVM(**options),
        LinearClassifier("hinge", **options),
        LinearRegressor("huber", **options),
        LinearRegressor(**options),  # squared error: the normal equations without it
    ]
    for estimator in estimators:
        for X in (SMALL_X, sp.csr_matrix(SMALL_X)):
            estimator.fit(X, SMALL_Y)
            name = type(estimator).__name__
            assert estimator.solver_ == "sgd", name
            assert len(estimator.history_.val_loss) == 5, name
            assert all(v is not None for v in estimator.history_.val_loss), name


FULL_BATCH = [
    (SoftmaxClassifier, "lbfgs"),
    (SoftmaxClassifier, "gd"),
    (LinearSVM, "smoothing"),
    (LinearSVM, "dual_cd"),
    (LinearRegressor, "normal"),
    (LinearRegressor, "lbfgs"),
]


@pytest.mark.parametrize(("cls", "solver"), FULL_BATCH)
def test_early_stopping_with_a_full_batch_solver_is_an_error_naming_both(cls, solver):
    estimator = cls(solver=solver, early_stopping=True)
    with pytest.raises(ValueError, match=rf"^early_stopping: .*solver='{solver}' trains on every"):
        estimator.fit(SMALL_X, SMALL_Y)
    assert check_early_stopping(True, "sgd") and not check_early_stopping(False, solver)


ALL_SOLVERS = [
    (LinearClassifier, "auto"),
    (LinearClassifier, "sgd"),
    *FULL_BATCH,
    (LinearRegressor, "auto"),
    (MLPClassifier, None),
]


@pytest.mark.parametrize(("cls", "solver"), ALL_SOLVERS)
def test_an_unknown_schedule_is_one_error_naming_it_whatever_the_solver(cls, solver):
    # the full-batch solvers take no learning rate, but a misspelt schedule is still a mistake
    solver_arg = {} if solver is None else {"solver": solver}
    with pytest.raises(ValueError, match=r"^schedule: expected one of constant, .*got 'foo'"):
        cls(schedule="foo", **solver_arg).fit(SMALL_X, SMALL_Y)
    if cls is not LinearRegressor:
        with pytest.raises(ValueError, match=r"^schedule: expected one of"):
            cls(schedule="foo").partial_fit(SMALL_X, SMALL_Y, classes=[0, 1, 2])
    # every known name, any case, and a function of the epoch still train
    cls(schedule="Cosine", max_iter=1, tol=None, **solver_arg).fit(SMALL_X, SMALL_Y)
    cls(schedule=lambda epoch: 1e-3, max_iter=1, tol=None, **solver_arg).fit(SMALL_X, SMALL_Y)


BAD_CLASS_WEIGHTS = [
    ({0: -0.5}, r"got -0\.5 for class 0"),
    ({1: np.nan}, r"got nan for class 1"),
    ({2: np.inf}, r"got inf for class 2"),
    ({0: 0.0, 1: 0, 2: 0.0}, r"every class weighs zero"),
]
CLASS_WEIGHTED = [
    lambda **kw: SoftmaxClassifier(**kw),
    lambda **kw: LinearSVM(**kw),
    lambda **kw: LinearClassifier("hinge", **kw),
    lambda **kw: LinearClassifier("crammer_singer", max_iter=2, **kw),
    lambda **kw: SoftmaxClassifier(solver="sgd", max_iter=2, **kw),
    lambda **kw: MLPClassifier((4,), max_iter=2, **kw),
]


@pytest.mark.parametrize(("weights", "message"), BAD_CLASS_WEIGHTS)
@pytest.mark.parametrize("make", CLASS_WEIGHTED)
@pytest.mark.parametrize("sparse", [False, True])
def test_negative_non_finite_or_all_zero_class_weights_are_one_error_naming_them(
    weights, message, make, sparse
):
    # negative weights trained a model that maximised a class's loss (or blamed sample_weight),
    # NaN ones stopped in Newton's step, all-zero ones blamed alpha or trained on nothing
    X = sp.csr_matrix(SMALL_X) if sparse else SMALL_X
    with pytest.raises(ValueError, match=rf"^class_weight: .*{message}"):
        make(class_weight=weights).fit(X, SMALL_Y)
    with pytest.raises(ValueError, match=rf"^class_weight: .*{message}"):
        make(class_weight=weights).partial_fit(X, SMALL_Y, classes=[0, 1, 2])


def test_class_weight_vector_refuses_bad_weights_and_keeps_good_ones():
    classes = np.array(["a", "b"])
    with pytest.raises(ValueError, match=r"^class_weight: .*got -1\.0 for class 'b'$"):
        class_weight_vector({"b": -1.0}, classes)
    with pytest.raises(TypeError, match=r"^class_weight: expected a numeric array"):
        class_weight_vector({"b": "heavy"}, classes)
    # a zero weight among positive ones is a class left out of the loss, as in scikit-learn
    assert class_weight_vector({"a": 0.0}, classes).tolist() == [0.0, 1.0]
    assert class_weight_vector("balanced", classes, [1, 3]).tolist() == [2.0, 2 / 3]


def test_warm_start_starts_a_new_network_when_the_hidden_layers_change():
    # the old network was kept, with its (4,) layer, after hidden_layer_sizes became (5, 3)
    options = {"max_iter": 2, "tol": None, "random_state": 0, "warm_start": True}
    mlp = MLPClassifier((4,), **options).fit(SMALL_X, SMALL_Y)
    first = mlp.model_
    mlp.set_params(hidden_layer_sizes=(5, 3)).fit(SMALL_X, SMALL_Y)
    assert mlp.model_ is not first
    assert [w.shape for w in mlp.coefs_] == [(5, 6), (3, 5), (3, 3)]
    assert mlp.n_iter_ == 2 and mlp.history_.n_epochs == 2  # a new run, not the old one's
    fresh = MLPClassifier((5, 3), max_iter=2, tol=None, random_state=0).fit(SMALL_X, SMALL_Y)
    np.testing.assert_array_equal(mlp.coefs_[0], fresh.coefs_[0])
    same = mlp.model_
    mlp.set_params(hidden_layer_sizes=[5, 3]).fit(SMALL_X, SMALL_Y)  # the same widths continue
    assert mlp.model_ is same and mlp.history_.n_epochs == 4


def test_build_model_compares_the_model_kind_and_hidden_widths():
    net = models.MLP(3, (4,), 2, random_state=0)
    spec = TrainSpec(loss=losses.get("softmax"), model="mlp", hidden=(4,), init=net)
    assert spec.build_model(3, 2, np.float64) is net
    wider = TrainSpec(loss=losses.get("softmax"), model="mlp", hidden=(8,), init=net)
    assert wider.build_model(3, 2, np.float64).hidden == (8,)
    linear = TrainSpec(loss=losses.get("softmax"), init=net).build_model(3, 2, np.float64)
    assert isinstance(linear, models.Linear)
    back = TrainSpec(loss=losses.get("softmax"), model="mlp", hidden=(4,), init=linear)
    assert isinstance(back.build_model(3, 2, np.float64), models.MLP)
