"""losslab train: the main job, its files, resume, and one-line errors with exit code 2."""

import json

import numpy as np
import pytest

from losslab import cli
from losslab.estimators import persist

from .helpers import run_cli


def test_train_with_defaults_is_the_main_job(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "sanity PASS  initial loss: 2.30" in result.stdout and "ln C = ln 10" in result.stdout
    assert "solver lbfgs (chosen by auto): full batch, at most 200 iterations" in result.stdout
    assert "test" in result.stdout
    for name in ("config.json", "metrics.json", "model.npz", "loss_curve.png"):
        assert (out / name).is_file(), name
    assert not (out / "checkpoint.npz").exists()  # a full-batch run has no epochs to resume
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["solver"] == "lbfgs" and 1 <= metrics["epochs"] <= 200
    assert metrics["test_accuracy"] > 0.95
    png = (out / "loss_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    model = persist.load_model(out / "model.npz")
    assert model.params["W"].shape == (64, 10)


def test_sgd_run_writes_a_checkpoint_and_counts_epochs(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--solver", "sgd", "--epochs", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "solver sgd: adam lr=0.01 · batch 64 · 5 epochs" in result.stdout
    for name in ("config.json", "checkpoint.npz", "metrics.json", "model.npz", "loss_curve.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["solver"] == "sgd" and metrics["epochs"] == 5
    assert metrics["test_accuracy"] > 0.9


@pytest.mark.parametrize(
    ("args", "solver", "accuracy"),
    [
        (["--data", "iris"], "lbfgs", 0.9),  # was 0.733 with 30 epochs of Adam
        (["--data", "iris", "--loss", "svm"], "smoothing", 0.9),  # was 0.767
        (["--data", "moons", "--model", "mlp", "--hidden", "16", "--epochs", "3"], "sgd", 0.5),
        (["--data", "iris", "--penalty", "l1"], "lbfgs", 0.9),  # OWL-QN; was 0.733 by Adam
    ],
)
def test_auto_solver_is_the_estimators_choice_and_is_reported(capsys, args, solver, accuracy):
    assert cli.main(["train", *args, "--json"]) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out)
    assert metrics["solver"] == solver and metrics["test_accuracy"] > accuracy
    assert f"solver {solver} (chosen by auto)" in captured.err


def test_a_diverged_run_exits_1_with_one_line_saying_why(tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        "train", "--data", "iris", "--solver", "sgd", "--lr", "1e300", "--out", str(out)
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("losslab train: lr: training diverged")
    assert "Lower the learning rate" in lines[0]
    assert not (out / "model.npz").exists()
    if (out / "checkpoint.npz").exists():  # an epoch finished before the one that diverged
        with np.load(out / "checkpoint.npz") as saved:
            floats = [saved[k] for k in saved.files if saved[k].dtype.kind == "f"]
        assert floats and all(np.isfinite(a).all() for a in floats)


def test_a_run_configured_before_solver_auto_resumes_with_sgd(tmp_path):
    """config.json of older versions: no "solver" key, or "solver": "sgd" with 30 epochs."""
    run = tmp_path / "old"
    assert (
        cli.main(
            [
                "train",
                "--data",
                "iris",
                "--solver",
                "sgd",
                "--epochs",
                "2",
                "--out",
                str(run),
                "--quiet",
            ]
        )
        == 0
    )
    config = json.loads((run / "config.json").read_text())
    del config["solver"], config["epochs"]
    (run / "config.json").write_text(json.dumps(config))
    assert cli.main(["train", "--resume", str(run), "--json"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["solver"] == "sgd" and metrics["epochs"] == 30


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
    sgd = ["train", "--solver", "sgd", "--epochs", "4", "--quiet"]
    assert cli.main([*sgd, "--out", str(full)]) == 0
    from losslab import runs

    original = runs.fit

    def interrupted_fit(*args, **kwargs):
        def stop_at_2(epoch, logs, model):
            if epoch == 2:
                raise KeyboardInterrupt

        kwargs["callbacks"] = [stop_at_2]
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, "fit", interrupted_fit)
    assert cli.main([*sgd, "--out", str(part)]) == 130
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
        (["train", "--optimizer", "adamx"], "invalid choice"),
        (["train", "--clip-grad-norm", "-1"], "expected a non-negative number"),
        (["train", "--clip-grad-norm", "0"], "clip_grad_norm: expected None or a positive number"),
        (["train", "--clip-grad-norm", "1", "--solver", "lbfgs"], "clip_grad_norm: clips the"),
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


def test_clip_grad_norm_reaches_every_step_is_kept_in_the_config_and_by_resume(
    tmp_path, monkeypatch
):
    """--clip-grad-norm with AdamW and warm-up: an interrupted run resumes, still clipped, to the
    weights of an uninterrupted one."""
    from losslab import optim, runs

    clipped = []
    clip = optim.clip_grad_norm

    def recording(grads, max_norm):
        clipped.append(max_norm)
        return clip(grads, max_norm)

    monkeypatch.setattr(optim, "clip_grad_norm", recording)
    full, part = tmp_path / "full", tmp_path / "part"
    args = ["train", "--epochs", "4", "--quiet", "--clip-grad-norm", "0.5"]
    args += ["--optimizer", "adamw", "--schedule", "warmup_cosine"]
    assert cli.main([*args, "--out", str(full)]) == 0
    config = runs.load_config(full)
    assert config.describe_solver(config.validate(), 1000, 64) == (
        "solver sgd (chosen by auto): adamw lr=0.01 · batch 64 · 4 epochs · warmup_cosine "
        "schedule · clip 0.5"
    )
    config = json.loads((full / "config.json").read_text())
    assert config["clip_grad_norm"] == 0.5 and config["optimizer"] == "adamw"
    assert json.loads((full / "metrics.json").read_text())["solver"] == "sgd"  # auto: sgd
    steps_per_run = len(clipped)
    assert steps_per_run > 0 and set(clipped) == {0.5}

    original = runs.fit

    def interrupted_fit(*a, **kwargs):
        def stop_at_2(epoch, logs, model):
            if epoch == 2:
                raise KeyboardInterrupt

        return original(*a, **{**kwargs, "callbacks": [stop_at_2]})

    monkeypatch.setattr(runs, "fit", interrupted_fit)
    assert cli.main([*args, "--out", str(part)]) == 130
    monkeypatch.setattr(runs, "fit", original)
    clipped.clear()
    assert cli.main(["train", "--resume", str(part), "--quiet"]) == 0
    assert len(clipped) == steps_per_run // 2 and set(clipped) == {0.5}  # epochs 3 and 4
    a = persist.load_model(full / "model.npz").params["W"]
    b = persist.load_model(part / "model.npz").params["W"]
    np.testing.assert_array_equal(a, b)


def test_clip_grad_norm_clips_a_streamed_run_and_is_refused_for_metric_learning(
    tmp_path, monkeypatch
):
    from losslab import datasets, optim

    clipped = []
    clip = optim.clip_grad_norm
    monkeypatch.setattr(optim, "clip_grad_norm", lambda g, m: clipped.append(m) or clip(g, m))
    ds = datasets.load("digits", random_state=0)
    path = tmp_path / "digits.csv"
    np.savetxt(path, np.column_stack([ds.X_train, ds.y_train]), delimiter=",", fmt="%.6g")
    args = ["train", "--stream", "--data", str(path), "--epochs", "1", "--quiet"]
    assert cli.main([*args, "--clip-grad-norm", "0.25"]) == 0
    assert clipped and set(clipped) == {0.25}
    result = run_cli("train", "--task", "embed", "--clip-grad-norm", "1")
    assert result.returncode == 2 and "clip-grad-norm: MetricLearner" in result.stderr


def _text_like_svmlight(path, rows=1500, width=2000, seed=0):
    """A sparse 4-class problem (40 stored values a row over 2,000 columns) as svmlight; (X, y)."""
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(seed)
    # 5 of each row's 40 columns among the 100 the labels depend on
    cols = np.sort(np.c_[rng.choice(100, (rows, 5)), rng.choice(width, (rows, 35))], axis=1)
    X = sp.csr_matrix(
        (rng.random(rows * 40), cols.ravel(), np.arange(0, rows * 40 + 1, 40)), (rows, width)
    )
    X.sum_duplicates()
    y = np.asarray(X[:, :100] @ rng.standard_normal((100, 4))).argmax(axis=1)
    dump_svmlight_file(X, y, str(path))
    return X, y


def test_train_on_an_svmlight_file_fits_a_sparse_linear_model(tmp_path):
    _text_like_svmlight(tmp_path / "docs.svm")
    out = tmp_path / "run"
    result = run_cli("train", "--data", str(tmp_path / "docs.svm"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "docs.svm: 1200 train / 300 test, 2000 features, 4 classes" in result.stdout
    assert "dense it would be 24.0 MB" in result.stdout  # the CSR is what is held
    assert "solver lbfgs (chosen by auto)" in result.stdout and "test" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["solver"] == "lbfgs" and metrics["train_accuracy"] > 0.99
    assert metrics["test_accuracy"] > 0.6  # 4 classes: chance is 0.25
    model = persist.load_model(out / "model.npz")
    assert model.coef_.shape == (4, 2000)


def test_train_on_an_svmlight_file_with_the_hinge_and_streamed(tmp_path, capsys):
    _text_like_svmlight(tmp_path / "docs.svm")
    data = ["train", "--data", str(tmp_path / "docs.svm"), "--json"]
    assert cli.main([*data, "--loss", "svm"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    # auto on sparse X: dual_cd for rows holding under spec.DENSE_ROWS of the columns (2% here)
    assert metrics["solver"] == "dual_cd" and metrics["train_accuracy"] > 0.99
    assert cli.main([*data, "--loss", "svm", "--solver", "smoothing"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["solver"] == "smoothing" and metrics["train_accuracy"] > 0.99
    assert cli.main([*data, "--stream", "--epochs", "2"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["rows_trained"] == 1350 and 0 <= metrics["test_accuracy"] <= 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "mlp"], "an svmlight file trains a linear model in memory or with --stream"),
        (["--target", "3"], "target: an svmlight file's label is the first field"),
        (["--resume", "somewhere"], "resume: svmlight runs write no checkpoint"),
        (["--solver", "smoothing"], "solver: 'smoothing' takes a hinge loss"),
    ],
)
def test_svmlight_options_it_cannot_honour_are_one_line_errors(tmp_path, capsys, extra, message):
    (tmp_path / "d.svm").write_text("1 1:1 2:1\n0 3:1\n1 1:2\n0 3:2\n1 2:1\n0 3:3\n")
    assert cli.main(["train", "--data", str(tmp_path / "d.svm"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "0"], "argument --lr: expected a finite number > 0, got '0'"),
        (["--lr", "-0.5"], "argument --lr: expected a finite number > 0, got '-0.5'"),
        (["--lr", "inf"], "argument --lr: expected a finite number > 0, got 'inf'"),
        (["--lr", "0", "--task", "embed"], "argument --lr: expected a finite number > 0"),
        (["--reg", "inf"], "argument --reg: expected a finite non-negative number, got 'inf'"),
        (["--seed", "-1"], "argument --seed: expected a non-negative integer, got '-1'"),
        (["--seed", "1.5"], "argument --seed: expected a non-negative integer, got '1.5'"),
        (
            ["--loss-option", "zzz=1"],
            "--loss-option: softmax_cross_entropy has no option 'zzz'; its options: "
            "class_weight, label_smoothing, ignore_index, sample_weight, reduction",
        ),
        (["--loss", "svm", "--loss-option", "gamma=2"], "multiclass_hinge has no option 'gamma'"),
    ],
)
def test_out_of_range_numbers_and_unknown_loss_options_name_the_flag(capsys, args, message):
    assert _exit_code(["train", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("where", [[], ["--stream"]])
def test_an_unknown_loss_option_on_an_svmlight_file_names_the_flag(tmp_path, capsys, where):
    (tmp_path / "d.svm").write_text("1 1:1 2:1\n0 3:1\n1 1:2\n0 3:2\n1 2:1\n0 3:3\n")
    argv = ["train", "--data", str(tmp_path / "d.svm"), "--loss-option", "zzz=1", *where]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--loss-option: softmax_cross_entropy has no option 'zzz'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_known_loss_option_still_trains(capsys):
    argv = ["train", "--data", "iris", "--loss", "focal", "--loss-option", "gamma=1", "--json"]
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] > 0.8


@pytest.mark.parametrize(
    ("rows", "why"),
    [
        (
            "1 1:1\n0 2:1\n1 1:2\n0 2:2\n",
            "4 rows in 2 classes (2 in the smallest); a stratified split needs at least 6 rows",
        ),
        (  # seed 3 draws the one row of class 0 for testing: training would see one class
            "1 1:1\n0 2:1\n1 1:2\n",
            "3 rows in 2 classes (1 in the smallest); the test rows took a whole class",
        ),
    ],
)
def test_a_file_too_small_to_split_is_a_one_line_error_saying_so(tmp_path, capsys, rows, why):
    (tmp_path / "tiny.svm").write_text(rows)
    assert cli.main(["train", "--data", str(tmp_path / "tiny.svm"), "--seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "data: too few rows per class to hold out a 20% test split: tiny.svm has " + why in err
    assert "test_size" not in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def _exit_code(argv):
    """``cli.main(argv)``'s exit code, argparse's own usage errors (SystemExit) included."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return exc.code


def test_a_malformed_svmlight_line_is_a_one_line_error_with_its_number(tmp_path, capsys):
    (tmp_path / "d.svm").write_text("1 1:1\n0 2:x\n")
    assert cli.main(["train", "--data", str(tmp_path / "d.svm")]) == 2
    assert "line 2: the value in '2:x' is not a finite number" in capsys.readouterr().err


def test_the_svmlight_header_prints_the_auto_penalty_resolved(tmp_path, capsys):
    # 6 rows, 2 classes: 4 train on the softmax's two columns, so auto = 2 / (2 · 4) = 0.25
    (tmp_path / "d.svm").write_text("1 1:1 2:1\n0 3:1\n1 1:2\n0 3:2\n1 2:1\n0 3:3\n")
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(tmp_path / "d.svm"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "l2 penalty, reg auto = 2 / (2 · 4 training rows) = 0.25" in printed
    assert "reg=auto" not in printed
    assert json.loads((out / "metrics.json").read_text())["reg"] == 0.25
    data = ["train", "--data", str(tmp_path / "d.svm"), "--penalty", "l1", "--reg", "0.01"]
    assert cli.main([*data, "--loss", "hinge", "--epochs", "2"]) == 0
    assert "l1 penalty, reg 0.01" in capsys.readouterr().out


def test_a_streamed_run_records_the_penalty_it_trained_with(tmp_path, capsys):
    # 500 rows, every 10th held out: 450 train; "auto" counts each of them once, as the
    # in-memory fit on them: 1 / (2 · 450) after any number of epochs
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3))
    path = tmp_path / "rows.npy"
    np.save(path, np.c_[X, X.argmax(axis=1)])
    args = ["train", "--stream", "--data", str(path), "--json", "--quiet"]
    for epochs, reg in (("1", 1 / (2 * 450)), ("2", 1 / (2 * 450))):
        out = tmp_path / f"run{epochs}"
        assert cli.main([*args, "--epochs", epochs, "--out", str(out)]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed == json.loads((out / "metrics.json").read_text())
        assert printed["rows_trained"] == 450 and printed["reg"] == reg
        assert persist.load_model(out / "model.npz").alpha_ == reg
    assert cli.main([*args, "--epochs", "1", "--reg", "0.01"]) == 0
    assert json.loads(capsys.readouterr().out)["reg"] == 0.01
