"""Understanding tools: sanity checks, landscapes, comparisons, races, search, report, and their commands."""

import json
import re

import numpy as np
import pytest

from losslab import cli, datasets, losses, models
from losslab.diagnostics import (
    compare,
    expected_initial_loss,
    landscape,
    sanity_check,
    search,
    surfaces,
)
from losslab.report import confusion_matrix, precision_recall

CLASSIFICATION = [
    n
    for n in losses.available()
    if losses.get(n).task in ("multiclass", "binary")
    and n not in ("binary_cross_entropy", "categorical_cross_entropy")
]


def png_ok(path, min_size=(300, 200)):
    """A real, non-blank PNG of at least min_size (width, height) pixels."""
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    height, width = img.shape[:2]
    assert width >= min_size[0] and height >= min_size[1], (path, img.shape)
    assert img[..., :3].std() > 0.02, f"{path} looks blank"
    return img


@pytest.mark.parametrize("c", [2, 3, 10])
def test_expected_initial_losses_have_the_closed_forms(c):
    assert expected_initial_loss("softmax", c)[0] == pytest.approx(np.log(c))
    assert expected_initial_loss("svm", c)[0] == pytest.approx(c - 1)
    assert expected_initial_loss(losses.get("svm", margin=2.0), c)[0] == pytest.approx(2 * (c - 1))
    assert expected_initial_loss("squared_hinge", c)[0] == pytest.approx(c - 1)
    assert expected_initial_loss("crammer_singer", c)[0] == pytest.approx(1.0)
    assert expected_initial_loss("focal", c)[0] == pytest.approx((1 - 1 / c) ** 2 * np.log(c))
    assert expected_initial_loss("logistic", c)[0] == pytest.approx(np.log(2))
    assert expected_initial_loss("hinge", c)[0] == pytest.approx(1.0)
    assert expected_initial_loss("perceptron", c)[0] == pytest.approx(0.0)
    # p = 1/2 everywhere: (1 - p_t)^2 = 1/4, ce = ln 2, α_t = 0.25 for the one positive, 0.75 for the rest
    positives = 1 / c if c > 2 else 0.5
    alpha_t = 0.25 * positives + 0.75 * (1 - positives)
    assert expected_initial_loss("sigmoid_focal", c)[0] == pytest.approx(alpha_t * 0.25 * np.log(2))


@pytest.mark.parametrize("data", ["iris", "digits", "blobs"])
@pytest.mark.parametrize("loss", CLASSIFICATION)
def test_sanity_passes_for_every_classification_loss(data, loss):
    ds = datasets.load(data, random_state=0)
    n_outputs = ds.n_classes if losses.get(loss).task == "multiclass" or ds.n_classes > 2 else 1

    def build():
        return models.build("mlp", ds.n_features, n_outputs, hidden=(100,), random_state=0)

    report = sanity_check(build(), loss, ds.X_train, ds.y_train, model_factory=build)
    assert report.ok, str(report)
    assert [c.name for c in report.checks] == [
        "initial loss",
        "loss rises with regularization",
        "overfit a tiny subset",
    ]


def test_sanity_fails_when_the_initial_weights_are_large():
    ds = datasets.load("iris", random_state=0)
    model = models.Linear(4, 3, init_scale=10.0, random_state=0)
    report = sanity_check(model, "softmax", ds.X_train, ds.y_train)
    assert not report.checks[0].ok and "are the initial weights small?" in str(report)


def test_landscape_slices_and_projects_the_path():
    ds = datasets.load("iris", random_state=0)
    main, plain, ridge = landscape.train_and_slice(ds, "softmax", epochs=5, resolution=9)
    assert main.values.shape == (9, 9) and main.line.shape == (9,)
    assert main.path.shape == (6, 2)  # start + 5 epochs
    np.testing.assert_allclose(
        main.path[-1], [0, 0], atol=1e-9
    )  # the path ends at the slice's center
    assert np.all(ridge.values > plain.values)  # the penalty only adds


def test_filter_normalised_directions_match_each_column_norm():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((5, 4)), "b1": np.ones(4)}
    d = landscape.random_direction(params, rng)
    np.testing.assert_allclose(
        np.linalg.norm(d["W1"], axis=0), np.linalg.norm(params["W1"], axis=0)
    )
    assert not d["b1"].any()


def test_projection_recovers_known_coordinates():
    center = {"W": np.zeros((3, 2))}
    d1, d2 = {"W": np.eye(3, 2)}, {"W": np.ones((3, 2))}
    path = [{"W": 2 * d1["W"] - 0.5 * d2["W"]}]
    np.testing.assert_allclose(landscape.project(path, center, d1, d2), [[2.0, -0.5]])


def test_robustness_experiment_svm_stays_put_while_softmax_moves():
    rows = compare.robustness_experiment()
    svm = [r[2] for r in rows]
    softmax = [r[3] for r in rows]
    assert all(v == 0.0 for v in svm)
    assert len(set(np.round(softmax, 8))) == len(softmax)


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_newton_wins_the_race_and_everyone_stays_finite(name):
    paths = surfaces.race(name, steps=100)
    assert set(paths) == set(surfaces.RACERS)
    assert all(np.all(np.isfinite(p)) for p in paths.values())
    rows = {r[0]: r for r in surfaces.summary(name, paths)}
    if name in ("rosenbrock", "beale", "saddle"):
        assert rows["Newton"][2] < 1e-6
        assert rows["GD"][2] > rows["Newton"][2]


def test_search_points_are_log_uniform_or_a_grid():
    pts = search.trial_points((1e-5, 1e-1), (1e-6, 1e-1), 200, seed=0)
    lrs = np.log10([p[0] for p in pts])
    assert lrs.min() >= -5 and lrs.max() <= -1 and abs(np.median(lrs) + 3) < 0.5
    grid = search.trial_points((1e-4, 1e-1), (1e-3, 1e-1), 9, grid=True)
    assert len(grid) == 9 and len({p[0] for p in grid}) == 3
    with pytest.raises(ValueError, match="lr: expected a range"):
        search.trial_points((1e-1, 1e-3), (1e-3, 1e-1), 5)


def test_confusion_matrix_and_precision_recall():
    m = confusion_matrix(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    precision, recall, support = precision_recall(m)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.0])
    np.testing.assert_allclose(recall, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(support, [2, 2, 1])


# --- the commands, on bundled data with small sizes ---------------------------------------------


def test_sanity_and_gradcheck_commands(capsys):
    assert cli.main(["sanity", "--data", "iris", "--loss", "svm"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 3
    assert cli.main(["gradcheck", "--loss", "focal", "--shape", "6,4", "--dtype", "float32"]) == 0
    assert "gradient check PASS" in capsys.readouterr().out
    assert cli.main(["gradcheck", "--loss", "triplet_margin"]) == 0


def test_landscape_command_writes_real_images(tmp_path):
    assert (
        cli.main(
            [
                "landscape",
                "--data",
                "iris",
                "--epochs",
                "4",
                "--resolution",
                "9",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
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
    assert (
        cli.main(["optimizers", "--surface", surface, "--steps", "50", "--out", str(tmp_path)]) == 0
    )
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
    assert (
        cli.main(
            [
                "landscape",
                "--data",
                "digits",
                "--epochs",
                "2",
                "--resolution",
                "7",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert cli.main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    from losslab.report import SECTIONS

    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    assert not re.search(r"(src|href)=['\"]?https?:", page)  # no external resources: opens offline
    assert "http://" not in page and "https://" not in page
    assert page.count("data:image/png;base64,") >= 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--lr", "1e-1:1e-5"], "expected 0 < LOW < HIGH"),
        (["optimizers", "--surface", "himmelblau"], "invalid choice"),
        (["report", "/nonexistent"], "no such run directory"),
        (["sanity", "--loss", "mse"], "sanity checks classification losses"),
        (["gradcheck", "--shape", "8x5"], "expected N,C"),
    ],
)
def test_bad_arguments_are_one_line_errors_with_exit_code_2(args, message):
    from tests.test_cli import run_cli

    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
