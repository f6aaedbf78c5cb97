"""Side-by-side experiments: losses on one split, seed 001's robustness test, batch sizes and their noise."""

from types import SimpleNamespace

import numpy as np
import pytest

from losslab import datasets
from losslab.diagnostics import compare


def test_robustness_experiment_svm_stays_put_while_softmax_moves():
    rows = compare.robustness_experiment()
    svm = [r[2] for r in rows]
    softmax = [r[3] for r in rows]
    assert all(v == 0.0 for v in svm)
    assert len(set(np.round(softmax, 8))) == len(softmax)


def test_step_noise_is_the_spread_of_the_last_epochs_steps():
    history = SimpleNamespace(step_loss=[9.0, 7.0, 5.0, 1.0, 3.0, 2.0], n_epochs=2)
    assert compare.step_noise(history) == pytest.approx(np.std([1.0, 3.0, 2.0]))
    full_batch = SimpleNamespace(step_loss=[3.0, 2.0, 1.0], n_epochs=3)
    assert compare.step_noise(full_batch) == 0.0


def test_batch_size_summary_one_row_per_run_and_no_noise_at_full_batch():
    ds = datasets.load("iris", random_state=0)
    runs = compare.batch_size_experiment(ds, [1, 0], epochs=2)
    rows = compare.batch_size_summary(runs)
    assert [r.label for r in rows] == list(runs) == ["batch 1", "N = 105 (full batch)"]
    one, full = rows
    assert one.steps == 2 * 105 and full.steps == 2
    assert one.noise > 0 and full.noise == 0.0
    history = runs["batch 1"][0]
    assert one.final_loss == history.train_loss[-1] and one.seconds == runs["batch 1"][1]
