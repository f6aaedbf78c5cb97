"""losslab doctor, losslab batch-sizes and losslab overfit."""

import json

import pytest

from losslab import cli

from .helpers import assert_one_line_error, png_ok, run_cli


def _train(tmp_path, name, *options):
    out = tmp_path / name
    args = [
        "train",
        "--data",
        "iris",
        "--solver",
        "sgd",
        "--epochs",
        "20",
        "--quiet",
        "--out",
        str(out),
    ]
    assert cli.main([*args, *options]) == 0
    return out


def test_doctor_finds_a_learning_rate_too_high_and_exits_1(tmp_path, capsys):
    out = _train(tmp_path, "high", "--lr", "100")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main(["doctor", str(out)])
    assert exited.value.code == 1
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "LearningRateTooHighWarning: learning rate too high: the training loss rose from 1.099"
        in text
    )
    assert "by step" in text


def test_doctor_finds_a_learning_rate_too_low(tmp_path, capsys):
    out = _train(tmp_path, "low", "--lr", "1e-7")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli.main(["doctor", str(out), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert [d["diagnosis"] for d in report["diagnoses"]] == ["LearningRateTooLowWarning"]
    assert report["steps"] == 40 and report["epochs"] == 20
    assert set(report) == set(cli.build_parser().parse_args(["doctor", "x", "--json"]).json_keys)


def test_doctor_is_quiet_on_a_healthy_run(tmp_path, capsys):
    out = _train(tmp_path, "healthy")
    capsys.readouterr()
    assert cli.main(["doctor", str(out)]) == 0
    assert "healthy: nothing wrong found in 40 steps, 20 epochs" in capsys.readouterr().out


def test_doctor_on_a_full_batch_run_notes_it_has_no_history(tmp_path, capsys):
    out = tmp_path / "lbfgs"
    assert (
        cli.main(["train", "--data", "iris", "--solver", "lbfgs", "--quiet", "--out", str(out)])
        == 0
    )
    capsys.readouterr()
    assert cli.main(["doctor", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "no checkpoint.npz, so no loss history" in text and "nothing to diagnose" in text


def test_doctor_errors_are_one_line(tmp_path):
    assert_one_line_error(run_cli("doctor", str(tmp_path / "nowhere")), "is not a directory")
    assert_one_line_error(run_cli("doctor", str(tmp_path)), "config.json")


def test_overfit_command_writes_its_figure_and_json(tmp_path, capsys):
    assert cli.main(["overfit", "--out", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["errors"]["L2"]["test"] < report["errors"]["no L2"]["test"]
    assert report["errors"]["no L2"]["train"] < 1e-10
    assert json.loads((tmp_path / "overfit.json").read_text()) == report
    png_ok(tmp_path / "overfit.png")


def test_batch_sizes_command_small(tmp_path, capsys):
    args = ["batch-sizes", "--sizes", "64,1024", "--rows", "20000", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "noise scale" in text and "batch_sizes.png" in text
    report = json.loads((tmp_path / "batch_sizes.json").read_text())
    assert [r["batch_size"] for r in report["rows"]] == [64, 1024]
    png_ok(tmp_path / "batch_sizes.png")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["batch-sizes", "--sizes", "8,x"], "--sizes: expected comma-separated integers"),
        (["batch-sizes", "--sizes", "0"], "sizes: expected batch sizes between 1 and 200000"),
        (["overfit", "--points", "1"], "--points: expected at least 2"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message):
    assert_one_line_error(run_cli(*args), message)


def test_train_prints_the_doctors_diagnosis_while_training(capsys):
    args = ["train", "--data", "iris", "--solver", "sgd", "--epochs", "5"]
    assert cli.main([*args, "--lr", "1e-7"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "doctor: learning rate too low (lr=1e-07)" in text
    assert cli.main(args) == 0
    assert "doctor" not in capsys.readouterr().out
