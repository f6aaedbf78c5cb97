"""The overfitting lesson: the wiggly fit has zero training error and the larger test error."""

import numpy as np
import pytest

from losslab.diagnostics.overfit import (
    features,
    leave_one_out_lambda,
    overfit_figure,
    overfit_lesson,
    ridge_polynomial,
)


@pytest.mark.parametrize("seed", range(10))
def test_test_error_is_lower_with_l2_than_without(seed):
    lesson = overfit_lesson(seed=seed)
    assert lesson.errors["no L2"]["train"] < 1e-10  # degree 9 through 10 points: interpolation
    assert lesson.errors["L2"]["train"] > lesson.errors["no L2"]["train"]
    assert lesson.errors["L2"]["test"] < lesson.errors["no L2"]["test"]


def test_ridge_polynomial_matches_the_normal_equations_and_scikit_learn():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 30), rng.standard_normal(30)
    for lam in (0.0, 1e-3, 0.5):
        w = ridge_polynomial(x, y, 5, lam)
        phi = features(x, 5)
        penalty = lam * np.diag([0.0, 1, 1, 1, 1, 1])  # the intercept is not penalised
        np.testing.assert_allclose(w, np.linalg.solve(phi.T @ phi + penalty, phi.T @ y), atol=1e-8)
        if lam > 0:  # scikit-learn's Ridge: sum of squares + alpha ||w||², free intercept
            ref = Ridge(alpha=lam).fit(phi[:, 1:], y)
            np.testing.assert_allclose(w, [ref.intercept_, *ref.coef_], atol=1e-8)


def test_lambda_is_chosen_on_the_training_points_alone():
    lesson = overfit_lesson(seed=3)
    assert lesson.lam == leave_one_out_lambda(lesson.x_train, lesson.y_train, lesson.degree)
    moved = overfit_lesson(seed=3, n_test=5)  # other test points, same training points and λ
    assert moved.lam == lesson.lam


def test_error_against_lambda_training_error_rises_with_lambda():
    lesson = overfit_lesson()
    assert np.all(np.diff(lesson.train_curve) >= -1e-12)
    assert lesson.train_curve.shape == lesson.test_curve.shape == lesson.lambdas.shape


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="degree"):
        overfit_lesson(0)
    with pytest.raises(ValueError, match="noise"):
        overfit_lesson(noise=float("nan"))


def test_the_figure_is_written(tmp_path):
    fig = overfit_figure(overfit_lesson(), tmp_path / "overfit.png")
    assert (tmp_path / "overfit.png").stat().st_size > 10_000
    assert len(fig.axes) == 2
