"""losslab train: the main job, its files, resume, and one-line errors with exit code 2."""

import json

import numpy as np
import pytest

from losslab import cli
from losslab.estimators import persist

from .helpers import run_cli


def test_train_with_defaults_is_the_main_job(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--epochs", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "sanity PASS  initial loss: 2.30" in result.stdout and "ln C = ln 10" in result.stdout
    assert "test" in result.stdout
    for name in ("config.json", "checkpoint.npz", "metrics.json", "model.npz", "loss_curve.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 5 and metrics["test_accuracy"] > 0.9
    png = (out / "loss_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    model = persist.load_model(out / "model.npz")
    assert model.params["W"].shape == (64, 10)


def test_svm_sanity_line_says_c_minus_1(capsys):
    assert cli.main(["train", "--loss", "svm", "--epochs", "1", "--quiet"]) == 0
    assert cli.main(["train", "--loss", "svm", "--epochs", "1"]) == 0
    assert "(C - 1)·Δ = 9·1;" in capsys.readouterr().out


def test_json_output_is_machine_readable(capsys):
    assert cli.main(["train", "--data", "iris", "--epochs", "3", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["data"] == "iris" and 0 <= metrics["test_accuracy"] <= 1


def test_mlp_and_options(capsys, tmp_path):
    args = [
        "train",
        "--data",
        "moons",
        "--model",
        "mlp",
        "--hidden",
        "32",
        "16",
        "--loss",
        "focal",
        "--loss-option",
        "gamma=1",
        "--optimizer",
        "momentum",
        "--schedule",
        "cosine",
        "--epochs",
        "5",
        "--penalty",
        "l1",
        "--class-weight",
        "balanced",
        "--json",
    ]
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "mlp"


def test_resume_continues_an_interrupted_run_to_the_same_weights(tmp_path, monkeypatch):
    full, part = tmp_path / "full", tmp_path / "part"
    assert cli.main(["train", "--epochs", "4", "--out", str(full), "--quiet"]) == 0
    from losslab import runs

    original = runs.fit

    def interrupted_fit(*args, **kwargs):
        def stop_at_2(epoch, logs, model):
            if epoch == 2:
                raise KeyboardInterrupt

        kwargs["callbacks"] = [stop_at_2]
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, "fit", interrupted_fit)
    assert cli.main(["train", "--epochs", "4", "--out", str(part), "--quiet"]) == 130
    assert not (part / "model.npz").exists() and (part / "checkpoint.npz").exists()
    monkeypatch.setattr(runs, "fit", original)
    assert cli.main(["train", "--resume", str(part), "--quiet"]) == 0
    a = persist.load_model(full / "model.npz").params["W"]
    b = persist.load_model(part / "model.npz").params["W"]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--loss", "hnige"], "loss: expected one of"),
        (["train", "--loss", "mse"], "is a regression loss"),
        (["train", "--data", "/nonexistent.csv"], "cannot read"),
        (["train", "--epochs", "0"], "expected a positive integer"),
        (["train", "--lr", "fast"], "expected a number"),
        (["train", "--optimizer", "adamw"], "invalid choice"),
        (["train", "--resume", "/nonexistent"], "cannot read the run's configuration"),
        (["train", "--solver", "lbfgs", "--model", "mlp"], "solver: lbfgs trains linear models"),
        (["train", "--scheduler", "tcp://127.0.0.1:9", "--epochs", "1"], "scheduler: cannot reach"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_full_batch_solver_trains_in_memory(capsys):
    assert cli.main(["train", "--solver", "lbfgs", "--epochs", "100", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["test_accuracy"] > 0.93 and 1 <= metrics["epochs"] <= 100


def test_unreadable_data_file_is_exit_2(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    result = run_cli("train", "--data", str(bad))
    assert result.returncode == 2 and "not a .npz archive" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_local_cluster_listens_on_127_0_0_1_only_dashboard_included():
    """`losslab train --scheduler local`: scheduler, workers and dashboard unreachable from the network."""
    import os
    from urllib.parse import urlparse

    import psutil

    from losslab.scale.dask_data import connect

    with connect("local", n_workers=1) as client:
        scheduler = urlparse(client.scheduler.address)
        dashboard = urlparse(client.dashboard_link)
        workers = [urlparse(w) for w in client.scheduler_info()["workers"]]
        ours = {scheduler.port, dashboard.port}
        listening = [
            c.laddr
            for c in psutil.Process(os.getpid()).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port in ours
        ]
    assert scheduler.hostname == dashboard.hostname == "127.0.0.1"
    assert workers and all(w.hostname == "127.0.0.1" for w in workers)
    assert {a.port for a in listening} == ours  # the sockets themselves, not only the names
    assert all(a.ip == "127.0.0.1" for a in listening), listening
