"""plots: behaviour beyond drawing (every function is drawn in tests/test_notebook.py)."""

from __future__ import annotations

import warnings

import numpy as np

import losslab
from losslab import plots
from losslab.diagnostics.compare import LossRun


def test_compare_curves_without_validation_draws_no_empty_legend():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    history = losslab.fit(losslab.models.Linear(3, 2, random_state=0), "softmax", X, y, epochs=2)
    runs = [LossRun("softmax_cross_entropy", history, 1.0, history.train_loss[-1], 0.0, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns about a legend with no lines
        fig = plots.compare_curves(runs)
    assert fig.axes[0].get_legend() is not None
    assert fig.axes[1].get_legend() is None and not fig.axes[1].get_lines()
