"""losslab train --loss package.module:function trains a user's own loss."""

import json
import subprocess
import sys

from .helpers import assert_one_line_error

OWN_LOSS = """
import numpy as np


def softmax_ce(scores, labels):
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    grad = np.exp(logp)
    grad[rows, labels] -= 1
    return -logp[rows, labels], grad
"""


def _run(cwd, *args):
    """``python -m losslab.cli ARGS`` from ``cwd``, where the user's module lies."""
    return subprocess.run(
        [sys.executable, "-m", "losslab.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_train_imports_and_trains_a_loss_given_by_its_path(tmp_path):
    (tmp_path / "ownloss.py").write_text(OWN_LOSS)
    out = tmp_path / "run"
    result = _run(tmp_path, "train", "--loss", "ownloss:softmax_ce", "--solver", "sgd",
                  "--epochs", "5", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sanity PASS  initial loss: 2.30" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9
    config = json.loads((out / "config.json").read_text())
    assert config["loss"] == "ownloss:softmax_ce"  # so that --resume imports it again


def test_a_path_that_cannot_be_imported_is_a_one_line_error(tmp_path):
    result = _run(tmp_path, "train", "--loss", "nowhere:softmax_ce")
    assert_one_line_error(result, "loss: cannot import 'nowhere:softmax_ce' (No module named")
    (tmp_path / "ownloss.py").write_text(OWN_LOSS)
    result = _run(tmp_path, "train", "--loss", "ownloss:missing")
    assert_one_line_error(result, "has no attribute 'missing'")


def test_gradcheck_checks_an_imported_loss_given_its_task_and_asks_for_it_otherwise(tmp_path):
    (tmp_path / "ownloss.py").write_text(OWN_LOSS)
    args = ("gradcheck", "--loss", "ownloss:softmax_ce")
    result = _run(tmp_path, *args, "--task", "multiclass", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["checks"][0]["input"] == "output"
    assert_one_line_error(_run(tmp_path, *args), "--task: ownloss:softmax_ce is your own function")
