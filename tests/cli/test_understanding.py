"""losslab landscape, plot, compare, optimizers, search and report, on bundled data with small sizes."""

import json
import re

import numpy as np
import pytest

from losslab import cli
from losslab.diagnostics import surfaces
from losslab.report import confusion_matrix, precision_recall

from .helpers import assert_one_line_error, png_ok, run_cli


def test_landscape_command_writes_real_images(tmp_path):
    args = ["landscape", "--data", "iris", "--epochs", "4", "--resolution", "9"]
    assert cli.main([*args, "--out", str(tmp_path)]) == 0
    for name in (
        "landscape_contour.png",
        "landscape_surface.png",
        "landscape_1d.png",
        "landscape_regularization.png",
    ):
        png_ok(tmp_path / name)


def test_plot_losses_command(tmp_path):
    assert cli.main(["plot", "losses", "--out", str(tmp_path)]) == 0
    png_ok(tmp_path / "losses_classification.png", (800, 300))
    png_ok(tmp_path / "losses_regression.png", (800, 300))


def test_squared_hinge_is_not_hidden_under_modified_huber():
    from losslab import plots

    ax = plots.classification_losses_figure().axes[0]
    lines = {line.get_label().split(" (")[0].split("  ")[0]: line for line in ax.get_lines()}
    squared, huber = lines["squared hinge"], lines["modified Huber"]
    # the two curves coincide for m >= -1, so they must differ in style to both be seen
    m = squared.get_xdata()
    same = m >= -1
    np.testing.assert_allclose(squared.get_ydata()[same], huber.get_ydata()[same])
    assert squared.get_linestyle() != huber.get_linestyle()
    assert huber.get_linewidth() >= 2 * squared.get_linewidth()
    assert ax.get_lines().index(squared) > ax.get_lines().index(huber)  # drawn on top


def test_compare_command_with_batch_sizes(tmp_path, capsys):
    args = [
        "compare",
        "--data",
        "iris",
        "--losses",
        "svm,softmax,focal",
        "--epochs",
        "3",
        "--batch-sizes",
        "1,32,N",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "multiclass_hinge" in out and "softmax_focal" in out and "nudging the scores" in out
    assert "N = 105" in out and "full" in out  # rich may wrap the label in a narrow console
    png_ok(tmp_path / "compare_losses.png")
    png_ok(tmp_path / "compare_batch_sizes.png")


@pytest.mark.parametrize("surface", list(surfaces.SURFACES))
def test_optimizers_command(tmp_path, surface, capsys):
    args = ["optimizers", "--surface", surface, "--steps", "50", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    assert "Newton" in capsys.readouterr().out
    png_ok(tmp_path / f"optimizers_{surface}.png", (800, 300))


@pytest.mark.parametrize("grid", [False, True])
def test_search_command_saves_best_model_and_heatmap(tmp_path, grid):
    args = ["search", "--data", "iris", "--trials", "4", "--epochs", "2", "--out", str(tmp_path)]
    assert cli.main([*args, "--grid"] if grid else args) == 0
    rows = json.loads((tmp_path / "search.json").read_text())
    assert len(rows) == 4
    assert (tmp_path / "best_model.npz").exists()
    png_ok(tmp_path / "search_heatmap.png")


def test_train_on_images_saves_weight_templates_and_report_has_every_section(tmp_path):
    run = tmp_path / "run"
    assert cli.main(["train", "--epochs", "3", "--quiet", "--out", str(run)]) == 0
    png_ok(run / "weight_templates.png")
    args = ["landscape", "--data", "digits", "--epochs", "2", "--resolution", "7"]
    assert cli.main([*args, "--out", str(run)]) == 0
    assert cli.main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    from losslab.report import SECTIONS

    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    assert not re.search(r"(src|href)=['\"]?https?:", page)  # no external resources: opens offline
    assert "http://" not in page and "https://" not in page
    assert page.count("data:image/png;base64,") >= 6


def test_confusion_matrix_and_precision_recall():
    # the report's tables (report.py has no test file of its own yet)
    m = confusion_matrix(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    precision, recall, support = precision_recall(m)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.0])
    np.testing.assert_allclose(recall, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(support, [2, 2, 1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--lr", "1e-1:1e-5"], "expected 0 < LOW < HIGH"),
        (["optimizers", "--surface", "himmelblau"], "invalid choice"),
        (["report", "/nonexistent"], "no such run directory"),
    ],
)
def test_bad_arguments_are_one_line_errors_with_exit_code_2(args, message):
    assert_one_line_error(run_cli(*args), message)


def test_card_command_prints_the_card_and_writes_json_and_png(tmp_path, capsys):
    assert cli.main(["card", "svm", "--classes", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("loss card: multiclass_hinge, C = 3")
    assert "2 at C = 3: C − 1" in out and "unchanged: only margins matter" in out
    saved = json.loads((tmp_path / "card.json").read_text(encoding="utf-8"))
    assert saved["loss"] == "multiclass_hinge" and saved["classes"] == 3
    assert saved["answers"]["q6_squared"]["evidence"]["changes_minimiser"] is True
    png_ok(tmp_path / "card.png", (800, 250))
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind


def test_card_command_json_and_loss_options(tmp_path, capsys):
    argv = ["card", "focal", "--loss-option", "gamma=1", "--json", "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # the JSON alone on stdout, the table on stderr
    assert captured.err.startswith("loss card: softmax_focal (gamma=1.0), C = 10")
    documented = cli.build_parser().parse_args(["card", "svm"]).json_keys
    assert set(data) == set(documented)
    assert data["files"] == ["card.json", "card.png"] and data["out"] == str(tmp_path)
    assert data["options"] == {"gamma": 1.0}
    assert data["answers"]["zero_scores"]["evidence"]["form"] == "(1 − 1/C)·ln C"


def test_card_command_takes_your_own_function(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_losses.py").write_text(
        "import numpy as np\n"
        "def pairwise(scores, labels):  # sum over j != y of log(1 + e^(s_j - s_y))\n"
        "    rows = np.arange(len(labels))\n"
        "    d = scores - scores[rows, labels][:, None]\n"
        "    d[rows, labels] = -np.inf\n"
        "    g = 0.5 * (1 + np.tanh(d / 2))\n"
        "    g[rows, labels] = -g.sum(axis=1)\n"
        "    return np.logaddexp(0, d).sum(axis=1), g\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cli.main(["card", "my_losses:pairwise", "--classes", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("loss card: pairwise, C = 3")
    assert "1.386 at C = 3: 0.6931·(C − 1)" in out  # ln 2 per wrong class


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["card", "mse"], "loss: expected a classification loss"),
        (["card", "svm", "--classes", "1"], "expected an integer >= 2"),
        (["card", "svm", "--loss-option", "margin"], "expected KEY=VALUE"),
    ],
)
def test_card_command_bad_arguments_are_one_line(args, message):
    assert_one_line_error(run_cli(*args), message)
