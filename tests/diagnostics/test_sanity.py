"""Sanity checks: the expected initial loss, the regularization check, overfitting a tiny subset."""

import numpy as np
import pytest

from losslab import datasets, losses, models
from losslab.diagnostics import expected_initial_loss, sanity_check
from losslab.diagnostics.sanity import overfit_check, scaled_loss

CLASSIFICATION = [
    n
    for n in losses.available()
    if losses.get(n).task in ("multiclass", "binary")
    and n not in ("binary_cross_entropy", "categorical_cross_entropy")
]


@pytest.mark.parametrize("c", [2, 3, 10])
def test_expected_initial_losses_have_the_closed_forms(c):
    assert expected_initial_loss("softmax", c)[0] == pytest.approx(np.log(c))
    assert expected_initial_loss("svm", c)[0] == pytest.approx(c - 1)
    assert expected_initial_loss(losses.get("svm", margin=2.0), c)[0] == pytest.approx(2 * (c - 1))
    assert expected_initial_loss("squared_hinge", c)[0] == pytest.approx(c - 1)
    assert expected_initial_loss("crammer_singer", c)[0] == pytest.approx(1.0)
    assert expected_initial_loss("focal", c)[0] == pytest.approx((1 - 1 / c) ** 2 * np.log(c))
    assert expected_initial_loss("logistic", c)[0] == pytest.approx(np.log(2))
    assert expected_initial_loss("hinge", c)[0] == pytest.approx(1.0)
    assert expected_initial_loss("perceptron", c)[0] == pytest.approx(0.0)
    # p = 1/2 everywhere: (1 - p_t)^2 = 1/4, ce = ln 2, α_t = 0.25 for the one positive, 0.75 for the rest
    positives = 1 / c if c > 2 else 0.5
    alpha_t = 0.25 * positives + 0.75 * (1 - positives)
    assert expected_initial_loss("sigmoid_focal", c)[0] == pytest.approx(alpha_t * 0.25 * np.log(2))


@pytest.mark.parametrize("data", ["iris", "digits", "blobs"])
@pytest.mark.parametrize("loss", CLASSIFICATION)
def test_sanity_passes_for_every_classification_loss(data, loss):
    ds = datasets.load(data, random_state=0)
    n_outputs = ds.n_classes if losses.get(loss).task == "multiclass" or ds.n_classes > 2 else 1

    def build():
        return models.build("mlp", ds.n_features, n_outputs, hidden=(100,), random_state=0)

    report = sanity_check(build(), loss, ds.X_train, ds.y_train, model_factory=build)
    assert report.ok, str(report)
    assert [c.name for c in report.checks] == [
        "initial loss",
        "loss rises with regularization",
        "overfit a tiny subset",
    ]


def test_sanity_fails_when_the_initial_weights_are_large():
    ds = datasets.load("iris", random_state=0)
    model = models.Linear(4, 3, init_scale=10.0, random_state=0)
    report = sanity_check(model, "softmax", ds.X_train, ds.y_train)
    assert not report.checks[0].ok and "are the initial weights small?" in str(report)


def test_a_linear_model_that_separates_its_subset_passes_by_scaling_its_scores():
    # linear softmax on 20 separable points: 100% accuracy, but the loss reaches 0 only as W grows
    X = np.vstack([np.eye(2) * 3 + 0.1 * k for k in range(10)])
    y = np.tile([0, 1], 10)
    check = overfit_check(lambda: models.Linear(2, 2, random_state=0), "softmax", X, y, epochs=20)
    assert check.ok, str(check)
    assert "only larger weights needed" in check.detail


def test_a_linear_model_that_cannot_separate_its_subset_still_fails():
    # XOR: no linear model reaches 100% training accuracy, however its scores are scaled
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]] * 5)
    y = np.array([0, 0, 1, 1] * 5)
    check = overfit_check(lambda: models.Linear(2, 2, random_state=0), "softmax", X, y)
    assert not check.ok and "training accuracy 100%" not in check.detail


def test_scaled_loss_drives_a_correct_ranking_to_zero_and_a_wrong_one_up():
    right = np.array([[2.0, 0.0], [0.0, 2.0]])
    y = np.array([0, 1])
    scale, value = scaled_loss("softmax", right, y, target=1e-6)
    assert value <= 1e-6 and scale < 2**20
    scale, value = scaled_loss("softmax", -right, y, target=1e-6)
    assert scale == 2**20 and value > 1e5
