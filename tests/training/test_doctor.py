"""The training doctor: each diagnosis fires on a run built to have it and stays quiet on a healthy run."""

import math
import warnings

import numpy as np
import pytest

import losslab
from losslab import data
from losslab.losses import categorical_cross_entropy, softmax_cross_entropy
from losslab.training import History, build_classifier
from losslab.training.doctor import (
    DoctorWarning,
    InitialLossWarning,
    LearningRateTooHighWarning,
    LearningRateTooLowWarning,
    OverfittingWarning,
    ProbabilitiesAsScoresWarning,
    TrainingDoctor,
    check_scores,
    diagnose,
    flat_rule,
    oscillation_rule,
    overfitting_rule,
    rising_rule,
)


def _train(name="iris", *, model="linear", rows=None, history=None, **options):
    """(History, TrainingDoctor) of a softmax run on a bundled set, the doctor watching live."""
    ds = data.load(name, random_state=0)
    net = build_classifier(
        model, ds.n_features, losslab.losses.get("softmax"), ds.n_classes, random_state=0
    )
    history = History() if history is None else history
    doctor = TrainingDoctor(history=history)
    X, y = ds.X_train[:rows], ds.y_train[:rows]
    settings = {"optimizer": "adam", "lr": 1e-2, "epochs": 30, "random_state": 0, **options}
    losslab.fit(
        net,
        "softmax",
        X,
        y,
        validation=(ds.X_val, ds.y_val),
        history=history,
        callbacks=[doctor],
        **settings,
    )
    return history, doctor


def _categories(diagnoses):
    return [d.category for d in diagnoses]


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
def test_a_healthy_run_raises_no_warning_and_gets_no_diagnosis(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DoctorWarning)
        history, doctor = _train(name, reg=1e-4)
    assert doctor.diagnoses == []
    assert diagnose(history) == []


def test_a_rising_loss_is_a_learning_rate_too_high_with_its_step():
    # Adam at lr 100 on iris: the loss jumps from 1.1 to 40-60 (lr 1e4 goes past 1000x: the loop stops)
    with pytest.warns(LearningRateTooHighWarning, match="learning rate too high") as caught:
        history, _ = _train(lr=100.0)
    assert len([w for w in caught if issubclass(w.category, DoctorWarning)]) == 1  # once, live
    (found,) = diagnose(history, initial_loss=math.log(3), expected_initial_loss=math.log(3))
    assert found.category is LearningRateTooHighWarning
    first_bad = next(i for i, v in enumerate(history.step_loss) if v > 2 * math.log(3)) + 1
    assert found.evidence["step"] >= first_bad and f"step {found.evidence['step']}" in found.message


def test_an_oscillating_loss_is_a_learning_rate_too_high_with_the_epoch():
    # plain SGD with lr 10 on iris in batches of 8: the epoch loss jumps up and down
    history, _ = _train(optimizer="sgd", lr=10.0, batch_size=8, history=History())
    epochs_only = diagnose({"train_loss": history.train_loss})
    assert _categories(epochs_only) == [LearningRateTooHighWarning]
    assert oscillation_rule([1.0, 0.5, 0.9, 0.4, 0.8, 0.3]).evidence["epoch"] == 3
    assert oscillation_rule([1.0, 0.8, 0.7, 0.65, 0.62, 0.6]) is None


def test_a_flat_loss_is_a_learning_rate_too_low():
    with pytest.warns(LearningRateTooLowWarning, match=r"lr=1e-07"):
        history, _ = _train(lr=1e-7)
    assert _categories(diagnose(history)) == [LearningRateTooLowWarning]
    assert flat_rule([2.3, 2.29, 2.0, 1.5]) is None
    assert flat_rule([1e-4, 1e-4, 1e-4]) is None  # finished, not stuck


def test_validation_rising_while_training_falls_is_overfitting():
    # a 100-unit MLP on 60 digits, no penalty, 60 epochs: memorises them
    with pytest.warns(OverfittingWarning, match="more regularization"):
        history, _ = _train("digits", model="mlp", rows=60, epochs=60)
    (found,) = diagnose(history, reg=1e-4)
    assert found.category is OverfittingWarning and "reg=0.001 instead of 0.0001" in found.message
    assert found.evidence["best_epoch"] < len(history.val_loss)


def test_overfitting_rule_thresholds():
    assert overfitting_rule([1.0, 0.5, 0.1], [1.0, 0.9, 1.2]).category is OverfittingWarning
    assert overfitting_rule([0.3, 0.2, 0.1], [0.9, 0.8, 0.75]).category is OverfittingWarning
    # the gap of a well-fitted linear model (digits: 0.05 against 0.17) is not overfitting
    assert overfitting_rule([0.1, 0.06, 0.05], [0.2, 0.18, 0.17]) is None


def test_an_initial_loss_far_from_ln_c_is_diagnosed():
    found = diagnose({"train_loss": [0.5]}, initial_loss=9.7, expected_initial_loss=math.log(3))
    assert _categories(found)[0] is InitialLossWarning
    assert "9.7" in found[0].message and "labels" in found[0].message
    assert (
        diagnose({"train_loss": []}, initial_loss=1.0985, expected_initial_loss=math.log(3)) == []
    )


def test_a_live_doctor_reports_a_large_initial_weight_at_the_first_epoch():
    ds = data.load("iris", random_state=0)
    net = build_classifier("linear", 4, losslab.losses.get("softmax"), 3, random_state=0)
    net.params["W"] *= 1e4  # initial scores far from 0
    scores = net(ds.X_train)
    initial = float(softmax_cross_entropy(scores, ds.y_train).value)
    seen = []
    doctor = TrainingDoctor(
        initial_loss=initial, expected_initial_loss=math.log(3), on_diagnosis=seen.append
    )
    losslab.fit(net, "softmax", ds.X_train, ds.y_train, epochs=2, callbacks=[doctor])
    assert _categories(seen)[0] is InitialLossWarning


def test_rising_rule_names_the_step_and_a_nan():
    found = rising_rule([1.1, 1.0, 0.9, 5.0, 50.0, 500.0])
    assert found.evidence["step"] == 4 or found.evidence["step"] == 5
    assert rising_rule([1.1, float("nan")]).evidence["step"] == 2
    assert rising_rule([1.1, 0.9, 2.5, 0.7, 0.6, 0.5]) is None  # one unlucky batch is not a trend


def test_probabilities_passed_as_scores_the_issue_case():
    probs = np.array([[0.1, 0.2, 0.7]])
    found = check_scores(probs, np.array([2]))
    assert found.category is ProbabilitiesAsScoresWarning
    assert found.evidence["loss_as_given"] == pytest.approx(0.7679, abs=1e-4)
    assert found.evidence["cross_entropy"] == pytest.approx(-math.log(0.7), abs=1e-12)
    assert found.evidence["cross_entropy"] == pytest.approx(
        categorical_cross_entropy(probs, np.array([2])).value
    )
    with pytest.warns(ProbabilitiesAsScoresWarning, match="categorical_cross_entropy"):
        found.warn()


def test_check_scores_returns_its_diagnosis_without_also_warning():
    # the loss it evaluates for the evidence warns of probabilities itself; that is not passed on
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = check_scores(np.array([[0.1, 0.2, 0.7]]), np.array([2]))
    assert found.category is ProbabilitiesAsScoresWarning


def test_probability_rows_are_recognised_in_every_dtype_and_logits_are_not():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((500, 10))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for dtype in (np.float32, np.float64):
        assert check_scores(p.astype(dtype)) is not None
        assert check_scores(logits.astype(dtype)) is None
    assert check_scores(np.full((4, 3), 1 / 3) * 0.9) is None  # rows summing to 0.9
    assert check_scores(np.zeros((4, 3))) is None  # initial all-zero scores
    assert check_scores(np.array([1, 0, 0])) is None  # one row of labels, not (N, C)
    mixed = p.copy()
    mixed[-1] = logits[-1]  # one row of logits among probabilities: not all rows
    assert check_scores(mixed) is None


def test_doctor_warnings_can_be_filtered_by_category():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", LearningRateTooHighWarning)
        _train(lr=100.0)
    assert not [w for w in caught if issubclass(w.category, DoctorWarning)]
    assert issubclass(OverfittingWarning, DoctorWarning) and issubclass(DoctorWarning, UserWarning)


def test_an_estimators_history_is_diagnosed_after_fit():
    from losslab import LinearClassifier, MLPClassifier, SoftmaxClassifier

    ds = data.load("wine", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short runs
        for estimator in (SoftmaxClassifier(random_state=0), MLPClassifier(random_state=0)):
            assert diagnose(estimator.fit(ds.X_train, ds.y_train).history_) == []
        fast = LinearClassifier(
            solver="sgd", optimizer="adam", lr=100.0, max_iter=10, random_state=0
        )
        found = diagnose(fast.fit(ds.X_train, ds.y_train).history_)
    assert _categories(found) == [LearningRateTooHighWarning]
