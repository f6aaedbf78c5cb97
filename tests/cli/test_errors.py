"""Hostile input at the command line: one line on stderr, exit code 2, never a traceback.

Each case is one found by an audit (issue 16) that used to end in a traceback,
a huge allocation or a silently wrong run.
"""

import json
import shutil
import zipfile

import numpy as np
import pytest

from losslab import cli

from .helpers import assert_one_line_error, run_cli


def one_line_error(capsys, args, message):
    """``losslab ARGS`` in this process: exit 2 and ``message`` as the only line on stderr."""
    assert cli.main([str(a) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished two-epoch run on iris, copied by each test that alters it."""
    out = tmp_path_factory.mktemp("runs") / "iris"
    assert (
        cli.main(
            [
                "train",
                "--solver",
                "sgd",
                "--data",
                "iris",
                "--epochs",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    return out


def _copy(run_dir, tmp_path):
    return shutil.copytree(run_dir, tmp_path / "run")


def _rewrite_checkpoint(path, edit):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = edit(json.loads(str(arrays.pop("__header__"))))
    np.savez(path, __header__=np.array(json.dumps(header)), **arrays)


# --- files that are too wide, lie, or hold the wrong numbers ------------------------------------


@pytest.fixture
def wide_csv(tmp_path):
    """A CSV with one field over the csv module's 128 KB limit."""
    rows = ["a,b,label", *(f"{i},{2 * i},{i % 2}" for i in range(20))]
    rows[3] = "1," + "9" * 140_000 + ",0"
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    "command", [["train", "--data"], ["train", "--stream", "--data"], ["fit-curve"]]
)
def test_a_csv_field_over_128_kb_is_a_one_line_error(capsys, wide_csv, command):
    one_line_error(capsys, [*command, wide_csv], "field larger than field limit")


def test_an_npz_member_claiming_a_huge_shape_is_refused_before_allocating(capsys, tmp_path):
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("X", "y"):
            with archive.open(f"{name}.npy", "w") as f:
                header = {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**7)}
                np.lib.format.write_array_header_1_0(f, header)
    one_line_error(capsys, ["train", "--data", path], "declares shape (10000000, 10000000)")


def test_a_complex_npz_is_an_error_not_silently_real(capsys, tmp_path):
    path = tmp_path / "complex.npz"
    np.savez(path, X=np.ones((20, 3)) * (1 + 2j), y=np.arange(20) % 2)
    one_line_error(capsys, ["train", "--data", path], "X holds complex numbers")


def test_an_npz_without_feature_columns_does_not_train(capsys, tmp_path):
    path = tmp_path / "no_features.npz"
    np.savez(path, X=np.ones((20, 0)), y=np.arange(20) % 2)
    one_line_error(capsys, ["train", "--data", path], "expected at least 1 feature column")


@pytest.mark.parametrize("stream", [[], ["--stream"]])
@pytest.mark.parametrize("text", ["label\n0\n1\n0\n1\n", "0\n1\n0\n1\n"])
def test_a_csv_holding_only_a_label_column_does_not_train(capsys, tmp_path, text, stream):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    one_line_error(capsys, ["train", *stream, "--data", path], "expected at least 2 columns")


def test_a_finite_csv_value_of_1e308_trains(capsys, tmp_path):
    X = np.ones((40, 3))
    X[:, 0] = 1e308
    X[::2, 1] = 1e308
    path = tmp_path / "huge_values.csv"
    np.savetxt(path, np.c_[X, np.arange(40) % 2], delimiter=",", fmt="%.17g")
    assert cli.main(["train", "--data", str(path), "--epochs", "2", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert np.isfinite(metrics["train_loss"])


def test_a_streamed_csv_with_nan_is_a_one_line_error(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    X[4, 1] = np.nan
    path = tmp_path / "nan.csv"
    np.savetxt(path, np.c_[X, np.arange(50) % 2], delimiter=",")
    result = run_cli("train", "--stream", "--data", str(path), "--epochs", "1")
    assert_one_line_error(result, "data row 5 holds NaN or infinity")


def test_fit_curve_with_infinity_in_x_is_a_one_line_error(capsys, tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("x,y\n1,2\ninf,3\n2,5\n3,7\n4,9\n")
    one_line_error(capsys, ["fit-curve", path], "x of data row 2 is inf")


# --- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gradcheck", "--shape", "100000000,100000000"], "expected at most 1,000,000 entries"),
        (["compare", "--losses", ","], "expected comma-separated loss names"),
        (["compare", "--batch-sizes", "0"], "expected positive integers or N"),
        (["compare", "--batch-sizes", "-5"], "expected positive integers or N"),
        (["compare", "--batch-sizes", "32,x"], "expected positive integers or N"),
        (["compare", "--lr", "0"], "argument --lr: expected a finite number > 0"),
    ],
)
def test_absurd_or_empty_arguments_are_usage_errors(args, message):
    assert_one_line_error(run_cli(*args), message)


def test_gradcheck_of_margin_ranking_runs(capsys):
    assert cli.main(["gradcheck", "--loss", "margin_ranking"]) == 0
    assert "PASS" in capsys.readouterr().out


# --- resuming and reporting a damaged run -------------------------------------------------------


@pytest.mark.parametrize("field", ["epoch", "step", "rng", "optimizer", "history"])
def test_resume_of_a_checkpoint_missing_a_header_field_is_a_one_line_error(
    capsys, run_dir, tmp_path, field
):
    run = _copy(run_dir, tmp_path)
    _rewrite_checkpoint(
        run / "checkpoint.npz", lambda h: {k: v for k, v in h.items() if k != field}
    )
    capsys.readouterr()
    one_line_error(capsys, ["train", "--resume", run, "--quiet"], "corrupt checkpoint")


def test_resume_of_a_checkpoint_whose_header_is_a_list_is_a_one_line_error(
    capsys, run_dir, tmp_path
):
    run = _copy(run_dir, tmp_path)
    _rewrite_checkpoint(run / "checkpoint.npz", lambda h: [1, 2])
    one_line_error(capsys, ["train", "--resume", run, "--quiet"], "not a JSON object")


def test_resume_of_a_config_that_is_a_list_is_a_one_line_error(capsys, run_dir, tmp_path):
    run = _copy(run_dir, tmp_path)
    (run / "config.json").write_text("[]")
    one_line_error(capsys, ["train", "--resume", run], "not a losslab run configuration")


def test_report_on_a_config_without_data_writes_the_rest(capsys, run_dir, tmp_path):
    run = _copy(run_dir, tmp_path)
    config = json.loads((run / "config.json").read_text())
    del config["data"]
    (run / "config.json").write_text(json.dumps(config))
    assert cli.main(["report", str(run)]) == 0
    assert "names no data set" in (run / "report.html").read_text()


def test_report_on_a_config_that_is_a_list_is_a_one_line_error(capsys, run_dir, tmp_path):
    run = _copy(run_dir, tmp_path)
    (run / "config.json").write_text("[]")
    one_line_error(capsys, ["report", run], "expected a JSON object")


# --- interruptions ------------------------------------------------------------------------------


def _interrupt_at(monkeypatch, epoch):
    """Make the run's training raise KeyboardInterrupt after ``epoch`` epochs (0: before the first)."""
    from losslab import runs

    original = runs.fit

    def interrupted(*args, **kwargs):
        if epoch == 0:
            raise KeyboardInterrupt

        def stop(e, logs, model):
            if e == epoch:
                raise KeyboardInterrupt

        kwargs["callbacks"] = [stop]
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, "fit", interrupted)


def test_ctrl_c_before_the_first_epoch_prints_no_resume_hint(capsys, monkeypatch, tmp_path):
    _interrupt_at(monkeypatch, 0)
    out = tmp_path / "run"
    assert (
        cli.main(["train", "--solver", "sgd", "--data", "iris", "--out", str(out), "--quiet"])
        == 130
    )
    err = capsys.readouterr().err
    assert "interrupted" in err and "--resume" not in err


def test_ctrl_c_after_an_epoch_prints_a_hint_that_works(capsys, monkeypatch, tmp_path):
    _interrupt_at(monkeypatch, 1)
    out = tmp_path / "run"
    assert (
        cli.main(["train", "--solver", "sgd", "--data", "iris", "--epochs", "3", "--out", str(out)])
        == 130
    )
    assert f"continue with: losslab train --resume {out}" in capsys.readouterr().err
    monkeypatch.undo()
    assert cli.main(["train", "--resume", str(out), "--quiet"]) == 0


def test_a_new_run_removes_an_earlier_runs_checkpoint_so_no_hint_points_at_it(
    capsys, monkeypatch, run_dir, tmp_path
):
    run = _copy(run_dir, tmp_path)
    _interrupt_at(monkeypatch, 0)
    assert (
        cli.main(["train", "--solver", "sgd", "--data", "wine", "--out", str(run), "--quiet"])
        == 130
    )
    assert not (run / "checkpoint.npz").exists()
    assert not list(run.glob(".checkpoint.npz.history-*"))
    assert "--resume" not in capsys.readouterr().err


def test_stream_with_resume_is_refused_and_never_hinted(capsys, monkeypatch, tmp_path):
    path = tmp_path / "data.csv"
    np.savetxt(path, np.c_[np.ones((30, 2)), np.arange(30) % 2], delimiter=",")
    one_line_error(capsys, ["train", "--stream", "--data", path, "--resume", tmp_path], "resume:")
    from losslab.scale import stream

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stream, "fit_stream", interrupted)
    out = tmp_path / "streamed"
    assert cli.main(["train", "--stream", "--data", str(path), "--out", str(out)]) == 130
    assert "--resume" not in capsys.readouterr().err


def test_resume_removes_temporaries_a_killed_write_left(capsys, monkeypatch, tmp_path):
    _interrupt_at(monkeypatch, 1)
    out = tmp_path / "run"
    assert (
        cli.main(["train", "--solver", "sgd", "--data", "iris", "--epochs", "3", "--out", str(out)])
        == 130
    )
    stale = [out / ".checkpoint.npz.a1b2c3.tmp", out / ".model.npz.d4e5f6.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    monkeypatch.undo()
    assert cli.main(["train", "--resume", str(out), "--quiet"]) == 0
    assert not any(path.exists() for path in stale)
    assert not list(out.glob(".*.tmp"))
