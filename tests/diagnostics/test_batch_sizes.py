"""The batch-size lesson: gradient noise falls as 1/B, steps to the target fall sub-linearly."""

import numpy as np
import pytest

from losslab.diagnostics import batch_sizes
from losslab.diagnostics.batch_sizes import (
    batch_size_figure,
    batch_size_lesson,
    generated_problem,
    gradient_noise,
    per_example_variance,
)
from losslab.training import Objective


@pytest.fixture(scope="module")
def lesson():
    # a quarter of the lesson's rows and five sizes keep it to seconds
    return batch_size_lesson((16, 64, 256, 1024, 4096), n_rows=50_000)


def test_gradient_noise_falls_as_one_over_b_within_20_percent():
    X, y, _ = generated_problem(20_000)
    objective = Objective(batch_sizes._zero_model(16, 4), "softmax")
    sigma2, _ = per_example_variance(objective, X, y)
    for b in (8, 32, 128, 512, 2048, 8192):
        measured = gradient_noise(objective, X, y, b, n_batches=32)
        predicted = sigma2 / b * (len(X) - b) / (len(X) - 1)
        assert measured == pytest.approx(predicted, rel=0.2), b


def test_per_example_variance_is_the_variance_of_the_per_example_gradients():
    X, y, _ = generated_problem(200, seed=1)
    objective = Objective(batch_sizes._zero_model(16, 4), "softmax")
    full = batch_sizes._flat_grad(objective, X, y)
    each = np.array(
        [batch_sizes._flat_grad(objective, X[i : i + 1], y[i : i + 1]) for i in range(200)]
    )
    sigma2, g2 = per_example_variance(objective, X, y)
    assert sigma2 == pytest.approx(np.mean(np.sum((each - full) ** 2, axis=1)), rel=1e-10)
    assert g2 == pytest.approx(full @ full, rel=1e-12)


def test_the_lesson_measures_noise_as_one_over_b(lesson):
    for row in lesson.rows:
        assert row.noise == pytest.approx(row.predicted_noise, rel=0.2), row


def test_steps_to_the_target_fall_sub_linearly(lesson):
    rows = lesson.rows
    assert all(r.steps is not None for r in rows)
    steps = np.array([r.steps for r in rows], dtype=float)
    b = np.array([r.batch_size for r in rows], dtype=float)
    # never better than perfect scaling (steps ∝ 1/B), up to the 128-sample check interval
    assert np.all(steps[1:] * b[1:] >= 0.9 * steps[:-1] * b[:-1])
    # small batches: 4x the batch saves at least half the steps; large ones: barely any
    assert steps[1] <= 0.5 * steps[0]
    assert steps[-1] >= 0.7 * steps[-2]
    assert steps[-1] < steps[0]
    samples = np.array([r.samples for r in rows])
    assert samples[-1] > 4 * samples[0]  # the samples seen to the target keep growing


def test_each_size_uses_a_learning_rate_of_the_grid_no_smaller_than_the_last(lesson):
    lrs = [r.lr for r in lesson.rows]
    assert all(lr in batch_sizes.LEARNING_RATES for lr in lrs)
    assert lrs == sorted(lrs)


def test_the_problem_and_target(lesson):
    assert lesson.initial_loss == pytest.approx(np.log(4))
    assert lesson.true_loss < lesson.target < lesson.initial_loss


def test_bad_sizes_are_one_line_errors():
    with pytest.raises(ValueError, match="sizes: expected batch sizes between 1 and 1000"):
        batch_size_lesson([0, 8], n_rows=1000)
    with pytest.raises(ValueError, match="sizes"):
        batch_size_lesson([2000], n_rows=1000)


def test_the_figure_has_three_panels(lesson, tmp_path):
    fig = batch_size_figure(lesson, tmp_path / "b.png")
    assert len(fig.axes) == 3 and (tmp_path / "b.png").stat().st_size > 10_000
