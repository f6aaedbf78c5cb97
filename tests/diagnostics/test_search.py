"""Hyper-parameter search over learning rate and regularization."""

import json

import numpy as np
import pytest

from losslab import datasets
from losslab.diagnostics import search
from losslab.estimators import persist


def test_search_points_are_log_uniform_or_a_grid():
    pts = search.trial_points((1e-5, 1e-1), (1e-6, 1e-1), 200, seed=0)
    lrs = np.log10([p[0] for p in pts])
    assert lrs.min() >= -5 and lrs.max() <= -1 and abs(np.median(lrs) + 3) < 0.5
    grid = search.trial_points((1e-4, 1e-1), (1e-3, 1e-1), 9, grid=True)
    assert len(grid) == 9 and len({p[0] for p in grid}) == 3
    with pytest.raises(ValueError, match="lr: expected a range"):
        search.trial_points((1e-1, 1e-3), (1e-3, 1e-1), 5)


def test_run_search_reports_each_trial_and_the_best_so_far(tmp_path):
    ds = datasets.load("iris", random_state=0)
    points = [(1e-5, 1e-3), (1e-2, 1e-3), (1e-4, 1e-2)]
    seen = []
    trials = search.run_search(
        ds, "softmax", points, epochs=2, on_trial=lambda k, t, best: seen.append((k, t, best))
    )
    assert [(t.lr, t.reg) for t in trials] == points
    assert [k for k, _, _ in seen] == [1, 2, 3] and [t for _, t, _ in seen] == trials
    accuracies = [t.val_accuracy for t in trials]
    assert [best for _, _, best in seen] == list(np.maximum.accumulate(accuracies))
    best = search.best_trial(trials)
    assert best.val_accuracy == max(accuracies)
    files = search.save_search(tmp_path, trials, loss="softmax", title="softmax on iris")
    assert files == ["search.json", "best_model.npz", "search_heatmap.png"]
    rows = json.loads((tmp_path / "search.json").read_text())
    assert [(r["lr"], r["reg"]) for r in rows] == points
    saved = persist.load_model(tmp_path / "best_model.npz")
    np.testing.assert_array_equal(saved.params["W"], best.model.params["W"])


def test_a_trial_whose_training_diverges_scores_zero_instead_of_stopping_the_search():
    ds = datasets.load("iris", random_state=0)
    trial = search.run_trial(ds, "softmax", 1e308, 0.0, epochs=20)
    assert trial.val_accuracy == 0.0 and trial.train_accuracy == 0.0
    assert all(np.all(np.isfinite(p)) for p in trial.model.params.values())
