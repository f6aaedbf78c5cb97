"""What every estimator shares: scikit-learn's contract, the parameters written once, the spec."""

import inspect

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from losslab.estimators import (
    LinearClassifier,
    LinearRegressor,
    LinearSVM,
    MLPClassifier,
    SoftmaxClassifier,
)
from losslab.estimators.base import TrainedEstimator
from losslab.training.spec import FULL_BATCH_LIMIT, TrainResult

# every estimator passes scikit-learn's weight-equivalence checks (weights as repeated rows; with
# alpha="auto" the penalty counts the weight total) except the multiclass hinge on dense data: its
# minimum is certified to 1e-8 of the objective, and its flat directions leave the two fits'
# decision values 2e-6 apart, over the check's 1e-7. (The checks' sparse data, small and of
# dense-ish rows, trains by the same smoothing solver under "auto" and passes; dual coordinate
# descent, which stops at a duality gap of tol, takes larger or sparser problems.)
DENSE_HINGE = {
    "check_sample_weight_equivalence_on_dense_data": "the hinge's minimiser to 1e-8 of the objective, not to rounding",
}


def expected_failures(estimator):
    return DENSE_HINGE if isinstance(estimator, LinearSVM) else {}


ESTIMATORS = [
    SoftmaxClassifier(),
    LinearSVM(),
    LinearClassifier(loss="crammer_singer"),
    LinearClassifier(loss="hinge"),
    # sigmoid BCE's gradient fades as logits saturate: on check_class_weight_classifiers'
    # unscaled blobs (std 20) lr=1e-3 needs more than its 1000 epochs, so this variant uses 1e-2
    LinearClassifier(loss="logistic", lr=1e-2),
    LinearClassifier(loss="focal", loss_options={"gamma": 1.0}),
    MLPClassifier(hidden_layer_sizes=(16,)),
    LinearRegressor(),
    LinearRegressor(loss="huber", solver="sgd"),
    LinearRegressor(loss="log_cosh", solver="lbfgs"),
    SoftmaxClassifier(solver="lbfgs"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_scikit_learn_compatible(estimator, check):
    check(estimator)


def test_every_estimator_takes_the_shared_parameters_with_their_defaults():
    shared = {f: p.default for f, p in inspect.signature(TrainedEstimator).parameters.items()}
    for cls in (LinearClassifier, SoftmaxClassifier, LinearSVM, MLPClassifier, LinearRegressor):
        params = cls().get_params()
        expected = shared | ({"n_iter_no_change": 10} if cls is MLPClassifier else {})
        if cls in (LinearClassifier, SoftmaxClassifier, LinearSVM):
            expected["alpha"] = "auto"  # scikit-learn's C=1; an MLP and a regressor keep 1e-4
        assert {k: params[k] for k in shared} == expected, cls.__name__
    assert LinearSVM().loss == "svm" and LinearClassifier("hinge").loss == "hinge"
    assert MLPClassifier((8, 4)).hidden_layer_sizes == (8, 4)
    assert "class_weight" not in LinearRegressor().get_params()
    assert "solver" not in MLPClassifier().get_params()


def test_the_spec_is_built_from_the_parameters():
    est = MLPClassifier(
        (8,), loss="focal", loss_options={"gamma": 1.0}, alpha=0.1, lr=0.05, class_weight="balanced"
    )
    spec = est.training_spec(100)
    assert spec.loss.name == "softmax_focal" and spec.loss.options == {"gamma": 1.0}
    assert (spec.classifier, spec.model, spec.hidden, spec.solver) == (True, "mlp", (8,), "sgd")
    assert (spec.reg, spec.lr, spec.patience, spec.class_weight) == (0.1, 0.05, 10, "balanced")
    assert spec.init is None
    regressor = LinearRegressor(solver="lbfgs").training_spec()
    assert (regressor.classifier, regressor.model, regressor.solver) == (False, "linear", "lbfgs")


def test_warm_start_puts_the_fitted_model_in_the_spec():
    X = np.random.default_rng(0).standard_normal((40, 3))
    est = SoftmaxClassifier(max_iter=2, tol=None, warm_start=True).fit(X, X[:, 0] > 0)
    assert est.training_spec(100).init is est.model_
    est.set_params(warm_start=False)
    assert est.training_spec(100).init is None


def test_set_trained_takes_a_result_back():
    model = SoftmaxClassifier(random_state=0).training_spec(100).build_model(4, 3, np.float64)
    est = SoftmaxClassifier().set_trained(TrainResult(model, None, 7, classes=np.array([2, 5, 9])))
    assert est.model_ is model and est.n_features_in_ == 4 and est.n_iter_ == 7
    labels = np.array([2, 5, 9])[model(np.eye(4)).argmax(axis=1)]
    np.testing.assert_array_equal(est.predict(np.eye(4)), labels)
    two_outputs = LinearRegressor().training_spec().build_model(4, 2, np.float64)
    regressor = LinearRegressor().set_trained(
        TrainResult(two_outputs, None, 1, single_output=False)
    )
    assert regressor.predict(np.zeros((3, 4))).shape == (3, 2)


def test_a_bad_class_weight_is_one_clear_error_in_fit_and_partial_fit():
    X = np.random.default_rng(0).standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="class_weight: expected None, a dict or 'balanced'"):
        SoftmaxClassifier(class_weight="even").fit(X, y)
    with pytest.raises(ValueError, match="class_weight: expected None, a dict or 'balanced'"):
        SoftmaxClassifier(class_weight="even").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="'balanced' needs the whole data"):
        SoftmaxClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


def test_auto_picks_full_batch_for_data_that_fits_and_records_the_choice():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    chosen = {
        "softmax": SoftmaxClassifier().fit(X, y).solver_,
        "svm": LinearSVM().fit(X, y).solver_,
        "hinge": LinearClassifier("hinge").fit(X, y).solver_,
        "l1 penalty": SoftmaxClassifier(penalty="l1").fit(X, y).solver_,
        "crammer_singer": LinearClassifier("crammer_singer").fit(X, y).solver_,
        "mlp": MLPClassifier((4,), max_iter=3, tol=None).fit(X, y).solver_,
        "ridge": LinearRegressor().fit(X, X[:, 0]).solver_,
        "huber": LinearRegressor(loss="huber").fit(X, X[:, 0]).solver_,
        "explicit": SoftmaxClassifier(solver="sgd", max_iter=2, tol=None).fit(X, y).solver_,
        "partial_fit": SoftmaxClassifier().partial_fit(X, y, classes=[0, 1]).solver_,
    }
    assert chosen == {
        "softmax": "lbfgs",
        "svm": "smoothing",
        "hinge": "smoothing",
        "l1 penalty": "lbfgs",  # OWL-QN
        "crammer_singer": "sgd",
        "mlp": "sgd",
        "ridge": "normal",
        "huber": "lbfgs",
        "explicit": "sgd",
        "partial_fit": "sgd",
    }


def test_auto_trains_by_mini_batches_above_the_size_limit():
    spec = SoftmaxClassifier().training_spec(100)
    assert spec.solver == "auto"
    assert spec.solver_for(FULL_BATCH_LIMIT // 256, 256) == "lbfgs"
    assert spec.solver_for(FULL_BATCH_LIMIT // 256 + 1, 256) == "sgd"
    assert LinearSVM().training_spec(100).solver_for(10, 10, in_memory=False) == "sgd"


INVALID = [
    (SoftmaxClassifier, {"lr": -1e-3}, "lr"),
    (SoftmaxClassifier, {"lr": 0.0}, "lr"),
    (SoftmaxClassifier, {"max_iter": 0}, "max_iter"),
    (SoftmaxClassifier, {"batch_size": 0}, "batch_size"),
    (SoftmaxClassifier, {"alpha": -1.0}, "alpha"),
    (SoftmaxClassifier, {"l1_ratio": 1.5}, "l1_ratio"),
    (SoftmaxClassifier, {"tol": -1.0}, "tol"),
    (SoftmaxClassifier, {"n_iter_no_change": 0}, "n_iter_no_change"),
    (SoftmaxClassifier, {"validation_fraction": 1.0}, "validation_fraction"),
    (SoftmaxClassifier, {"penalty": "l3"}, "penalty"),
    (SoftmaxClassifier, {"solver": "newton"}, "solver"),
    (SoftmaxClassifier, {"early_stopping": "yes"}, "early_stopping"),
    (SoftmaxClassifier, {"random_state": -1}, "random_state"),
    (LinearSVM, {"max_iter": 0}, "max_iter"),
    (MLPClassifier, {"hidden_layer_sizes": 5}, "hidden_layer_sizes"),
    # scikit-learn: "hidden_layer_sizes must be > 0"; they trained a 0-unit network or failed in NumPy
    (MLPClassifier, {"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
    (MLPClassifier, {"hidden_layer_sizes": (-3,)}, "hidden_layer_sizes"),
    (MLPClassifier, {"hidden_layer_sizes": (2.5,)}, "hidden_layer_sizes"),
    (MLPClassifier, {"hidden_layer_sizes": ("a",)}, "hidden_layer_sizes"),
    (MLPClassifier, {"hidden_layer_sizes": [8, 0]}, "hidden_layer_sizes"),
    (MLPClassifier, {"hidden_layer_sizes": (True,)}, "hidden_layer_sizes"),
    (MLPClassifier, {"batch_size": 0}, "batch_size"),
    (LinearRegressor, {"alpha": -5.0}, "alpha"),
    (LinearRegressor, {"solver": "newton"}, "solver"),
]


@pytest.mark.parametrize(("cls", "params", "name"), INVALID, ids=lambda p: str(p))
def test_an_invalid_parameter_is_one_error_naming_it_at_fit(cls, params, name):
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = np.arange(20) % 2
    est = cls(**params)  # __init__ only stores its arguments, as scikit-learn asks
    with pytest.raises(ValueError, match=f"The '{name}' parameter of {cls.__name__} must be"):
        est.fit(X, y)
    if cls is not LinearRegressor:
        with pytest.raises(ValueError, match=f"The '{name}' parameter"):
            cls(**params).partial_fit(X, y, classes=[0, 1])


def test_negative_alpha_no_longer_fits_a_wrong_coefficient():
    x = np.linspace(-1, 1, 20)[:, None]
    with pytest.raises(ValueError, match="'alpha' parameter"):
        LinearRegressor(alpha=-5).fit(x, 2 * x[:, 0])
    assert LinearRegressor(alpha=0).fit(x, 2 * x[:, 0]).coef_[0, 0] == pytest.approx(2)


def test_auto_penalty_with_early_stopping_counts_the_training_rows_only():
    # 50 rows, validation_fraction=0.2: 10 held out, the penalty is ½‖w‖² on the other 40's loss
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    y3, y2 = np.arange(50) % 3, np.arange(50) % 2
    common = {"solver": "sgd", "early_stopping": True, "validation_fraction": 0.2, "max_iter": 3}
    for random_state in (0, None):
        three = SoftmaxClassifier(random_state=random_state, **common).fit(X, y3)
        assert three.alpha_ == 1 / (2 * 40)
        two = SoftmaxClassifier(random_state=random_state, **common).fit(X, y2)
        assert two.alpha_ == 1 / 40  # two columns: twice 1/(2n), as without early stopping
        reg = LinearRegressor(alpha="auto", random_state=random_state, **common).fit(X, X[:, 0])
        assert reg.alpha_ == 1 / (2 * 40)
    # "auto" trains by mini-batches with early stopping (a full-batch solver would ignore it),
    # so 5 of the 50 rows are held out by the default validation_fraction=0.1
    auto = SoftmaxClassifier(early_stopping=True, max_iter=3, tol=None).fit(X, y3)
    assert auto.solver_ == "sgd" and auto.alpha_ == 1 / (2 * 45)


@pytest.mark.parametrize("random_state", [0, None])
def test_auto_penalty_with_early_stopping_counts_the_training_rows_weight(random_state):
    # row i weighs 2**i: the training rows' total names them, and the other rows must be the
    # validation set whose loss (scikit-learn's log loss + the penalty) the history recorded
    # at the epoch whose weights early stopping kept
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((12, 3)), np.arange(12) % 3
    weights = 2.0 ** np.arange(12)
    clf = SoftmaxClassifier(
        solver="sgd",
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=20,
        random_state=random_state,
    ).fit(X, y, sample_weight=weights)
    total = round(1 / (2 * clf.alpha_))
    trained = np.array([(total >> i) & 1 for i in range(12)], dtype=bool)
    assert 1 / (2 * clf.alpha_) == pytest.approx(total, rel=1e-12)  # 1 / (2 · 1/(2t)) rounds
    assert trained.sum() == 9  # 3 of 12 rows held out
    val = ~trained
    proba = clf.predict_proba(X[val])
    held_out = log_loss(y[val], proba, sample_weight=weights[val], labels=clf.classes_)
    penalty = clf.alpha_ * (clf.coef_**2).sum()
    # the weights kept are those of the best epoch (an improvement by tol), one of the history's
    assert np.isclose(clf.history_.val_loss, held_out + penalty, rtol=1e-9, atol=0).any()
