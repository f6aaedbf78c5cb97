"""Sanity checks: the expected initial loss, the regularization check, overfitting a tiny subset."""

import numpy as np
import pytest

from losslab import datasets, losses, models
from losslab.diagnostics import expected_initial_loss, sanity_check

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
