"""The progress bar: rich's in a terminal, a plain rewritten line in a notebook without ipywidgets."""

from __future__ import annotations

import builtins
import importlib.util

import numpy as np
import pytest

import losslab
from losslab.training import progress


class ZMQInteractiveShell:
    """What ``get_ipython()`` returns inside a Jupyter kernel (rich checks the class name)."""


@pytest.fixture
def notebook(monkeypatch):
    monkeypatch.setattr(builtins, "get_ipython", ZMQInteractiveShell, raising=False)


def test_in_notebook_follows_ipython_shell(monkeypatch):
    assert not progress.in_notebook()
    monkeypatch.setattr(builtins, "get_ipython", ZMQInteractiveShell, raising=False)
    assert progress.in_notebook()


@pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is not None, reason="rich draws there")
def test_a_notebook_without_ipywidgets_gets_one_line_rewritten_each_epoch(notebook, capsys):
    with progress.progress_bar(True, 5, 2) as update:
        update({"train_loss": 0.5, "val_accuracy": None})
        update({"train_loss": 0.25, "val_accuracy": 0.875})
    out = capsys.readouterr().out
    assert out == "\rtraining 3/5  loss 0.5000\rtraining 4/5  loss 0.2500  val acc 0.875\n"


@pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is not None, reason="rich draws there")
def test_fit_with_progress_in_a_notebook_reports_every_epoch(notebook, capsys):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 3)), rng.integers(0, 2, 60)
    model = losslab.models.Linear(3, 2, random_state=0)
    history = losslab.fit(model, "softmax", X, y, epochs=3, progress=True, random_state=0)
    out = capsys.readouterr().out
    assert out.count("\rtraining ") == 3
    assert f"\rtraining 3/3  loss {history.train_loss[-1]:.4f}" in out
    assert out.endswith("\n")


def test_in_a_terminal_rich_draws_the_bar(capsys):
    with progress.progress_bar(True, 2, 0) as update:
        update({"train_loss": 0.5, "val_accuracy": 0.75})
    text = capsys.readouterr()
    assert "training" in text.out + text.err
    assert "\rtraining 1/2" not in text.out


def test_a_disabled_bar_prints_nothing(notebook, capsys):
    with progress.progress_bar(False, 2, 0) as update:
        update({"train_loss": 0.5})
    assert capsys.readouterr().out == ""
