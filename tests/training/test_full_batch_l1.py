"""Full-batch training with an L1 part (OWL-QN) against scikit-learn's saga solver."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from losslab import models
from losslab.estimators import LinearClassifier, SoftmaxClassifier
from losslab.training import Diverged
from losslab.training.full_batch import fit_full_batch
from losslab.training.spec import auto_solver

LOADERS = {"iris": load_iris, "wine": load_wine, "breast cancer": load_breast_cancer}


def standardised(name):
    X, y = LOADERS[name](return_X_y=True)
    return StandardScaler().fit_transform(X), y


def saga(X, y, C, l1_ratio):
    """scikit-learn's logistic regression by saga (multinomial on three classes), to a tight
    tolerance: C·Σ loss + l1_ratio·‖W‖₁ + (1 - l1_ratio)/2·‖W‖²."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(
            C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=50_000
        ).fit(X, y)


def objective(X, y, W, b, l1, l2):
    """Mean softmax cross-entropy + l1·Σ|W| + l2·ΣW²."""
    s = X @ W + b
    s -= s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean() + l1 * np.abs(W).sum() + l2 * (W**2).sum()


@pytest.mark.parametrize("data", ["iris", "wine"])
def test_the_l1_minimum_is_scikit_learns(data):
    X, y = standardised(data)
    C = 0.5
    reg = 1 / (C * len(X))  # saga: C·Σ loss + ‖W‖₁, divided by C·n
    model = models.Linear(X.shape[1], 3, random_state=0)
    history = fit_full_batch(model, "softmax", X, y, reg=reg, penalty="l1", tol=1e-10)
    W, b = model.params["W"], model.params["b"]
    reference = saga(X, y, C, 1.0)
    ours, theirs = (
        objective(X, y, W, b, reg, 0),
        objective(X, y, reference.coef_.T, reference.intercept_, reg, 0),
    )
    assert history.converged
    assert ours <= theirs + 1e-10  # at least as low as saga's end
    assert history.train_loss[-1] == pytest.approx(ours, rel=1e-9)
    # the softmax's columns are defined up to a shared shift only where the penalty is 0: here
    # L1 pins them, so the coefficients compare directly
    np.testing.assert_allclose(W.T, reference.coef_, atol=1e-4)
    assert np.count_nonzero(W == 0) > 0  # exact zeros, as the lasso's


def test_the_elastic_net_minimum_is_scikit_learns():
    X, y = standardised("wine")
    C, r = 0.5, 0.4
    # saga: C·Σ loss + r‖W‖₁ + (1 − r)/2 ‖W‖²; losslab: λ[ρ‖W‖₁ + (1 − ρ)‖W‖²]
    l1, l2 = r / (C * len(X)), (1 - r) / (2 * C * len(X))
    model = models.Linear(X.shape[1], 3, random_state=0)
    history = fit_full_batch(
        model,
        "softmax",
        X,
        y,
        reg=l1 + l2,
        penalty="elasticnet",
        l1_ratio=l1 / (l1 + l2),
        tol=1e-10,
    )
    reference = saga(X, y, C, r)
    W, b = model.params["W"], model.params["b"]
    ours = objective(X, y, W, b, l1, l2)
    assert history.converged
    assert ours <= objective(X, y, reference.coef_.T, reference.intercept_, l1, l2) + 1e-10
    np.testing.assert_allclose(W.T, reference.coef_, atol=1e-4)


def test_auto_takes_the_full_batch_solver_for_an_l1_penalty():
    assert auto_solver("softmax", "l1", "linear", 150, 4) == "lbfgs"
    assert auto_solver("logistic", "elasticnet", "linear", 150, 4) == "lbfgs"
    assert auto_solver("softmax", "l1", "linear", 150, 4, in_memory=False) == "lbfgs"  # Dask
    assert auto_solver("svm", "l1", "linear", 150, 4) == "sgd"  # a kink in the loss too


@pytest.mark.parametrize("data", ["iris", "breast cancer"])
def test_an_l1_classifier_with_defaults_matches_logistic_regression(data):
    X, y = standardised(data)
    loss = "softmax" if data == "iris" else "logistic"
    ours = (SoftmaxClassifier if loss == "softmax" else LinearClassifier)(penalty="l1")
    if loss == "logistic":
        ours.set_params(loss="logistic")
    ours.fit(X, y)
    assert ours.solver_ == "lbfgs" and ours.history_.converged
    # alpha="auto" is 1/(2n): the L1 penalty of LogisticRegression(C=2) on the summed loss
    reference = saga(X, y, 2.0, 1.0)
    assert ours.score(X, y) >= reference.score(X, y) - 0.01


def test_a_bad_l1_ratio_is_named_and_an_l1_penalty_overflowing_at_the_start_diverges():
    X, y = standardised("iris")
    with pytest.raises(ValueError, match="l1_ratio"):
        fit_full_batch(
            models.Linear(4, 3), "softmax", X, y, reg=0.1, penalty="elasticnet", l1_ratio=1.5
        )
    # a strength whose penalty overflows at the starting weights: Diverged (a ValueError), whose
    # advice blames the strength, as for an L2 penalty
    with pytest.raises(Diverged, match="Lower alpha"):
        fit_full_batch(
            models.Linear(4, 3, init_scale=1.0, random_state=0),
            "softmax",
            X,
            y,
            reg=1e308,
            penalty="l1",
        )
