"""losslab in a notebook: the backend is left alone, figures come back as objects, reprs are short."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from matplotlib.figure import Figure

import losslab
from losslab import plots
from losslab.diagnostics import retrieval, surfaces
from losslab.diagnostics.compare import LossRun
from losslab.diagnostics.landscape import Landscape
from losslab.diagnostics.search import Trial
from losslab.optim import curvefit
from losslab.training.state import History


def test_importing_every_module_leaves_the_matplotlib_backend_alone():
    # a notebook chooses its backend before importing libraries; "svg" stands for "inline"
    script = textwrap.dedent(
        """
        import importlib, pkgutil, matplotlib
        matplotlib.use("svg")
        import losslab
        names = [m.name for m in pkgutil.walk_packages(losslab.__path__, "losslab.")]
        for name in names:
            if name.endswith("__main__"):
                continue
            importlib.import_module(name)
        print(len(names), matplotlib.get_backend())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    count, backend = done.stdout.split()
    assert int(count) > 50
    assert backend == "svg"


def _history(epochs=4, steps_per_epoch=3, accuracy=True):
    rng = np.random.default_rng(0)
    h = History()
    h.step_loss = list(np.exp(-np.arange(epochs * steps_per_epoch) / 5) + rng.random() * 0.01)
    for e in range(1, epochs + 1):
        h.epoch.append(e)
        h.train_loss.append(float(np.exp(-e / 2)))
        h.val_loss.append(float(np.exp(-e / 2) + 0.1))
        h.train_accuracy.append(0.5 + 0.1 * e if accuracy else None)
        h.val_accuracy.append(0.45 + 0.1 * e if accuracy else None)
    return h


def _landscape(with_path=True):
    alphas = np.linspace(-1, 1, 7)
    betas = np.linspace(-1, 1, 5)
    values = 1 + alphas[None, :] ** 2 + 2 * betas[:, None] ** 2
    path = np.array([[0.9, 0.8], [0.4, 0.3], [0.0, 0.0]]) if with_path else None
    return Landscape(alphas, betas, values, values[2], path, None, 0.0, "random")


def _figures(tmp_path):
    """(name, call) for every plot function, with small but real inputs."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 4, 30)
    y = 2 * np.exp(-0.7 * x) + 0.01 * rng.standard_normal(30)
    fit = curvefit.fit_model("exp", x, y)
    history = _history()
    runs = [
        LossRun("softmax", history, 0.9, 0.1, 0.5, 4),
        LossRun("svm", _history(), 0.8, 0.2, 0.5, 4),
    ]
    trials = [Trial(lr, reg, lr * 10, 0.5, None) for lr in (0.01, 0.1) for reg in (1e-4, 1e-3)]
    surface = surfaces.SURFACES["rosenbrock"]
    paths = surfaces.race(surface, steps=5)
    labels = np.array([0, 1, 2, 0, 1, 2])
    points = rng.standard_normal((6, 4))
    images = rng.random((3, 16))
    return {
        "loss_curve": lambda p: plots.loss_curve(history, p),
        "curve_fit_figure": lambda p: plots.curve_fit_figure(x, y, fit, curvefit.MODELS["exp"], p),
        "convergence_figure": lambda p: plots.convergence_figure(
            {"lm": [{"nfev": 1, "cost": 2.0}, {"nfev": 2, "cost": 0.5}]}, p
        ),
        "landscape_contour": lambda p: plots.landscape_contour(_landscape(), p, "t"),
        "landscape_surface": lambda p: plots.landscape_surface(_landscape(), p, "t"),
        "landscape_slice": lambda p: plots.landscape_slice(_landscape(False), p, "t"),
        "regularization_landscapes": lambda p: plots.regularization_landscapes(
            _landscape(False), _landscape(False), p, "t"
        ),
        "classification_losses_figure": plots.classification_losses_figure,
        "regression_losses_figure": plots.regression_losses_figure,
        "compare_curves": lambda p: plots.compare_curves(runs, p, "t"),
        "batch_size_curves": lambda p: plots.batch_size_curves(
            {"1": (_history(steps_per_epoch=8), None), "8": (history, None)}, p, "t"
        ),
        "race_figure": lambda p: plots.race_figure(surface, paths, p),
        "search_figure (grid)": lambda p: plots.search_figure(trials, p, grid=True),
        "search_figure (random)": lambda p: plots.search_figure(trials, p),
        "weight_templates": lambda p: plots.weight_templates(
            rng.standard_normal((16, 3)), (4, 4), ["a", "b", "c"], p
        ),
        "confusion_figure": lambda p: plots.confusion_figure(
            np.array([[3, 1], [0, 4]]), ["a", "b"], p
        ),
        "embedding_figure": lambda p: plots.embedding_figure(points, labels, ["a", "b", "c"], p),
        "retrieval_figure": lambda p: plots.retrieval_figure(
            images,
            images[:, None, :].repeat(2, axis=1),
            labels[:3],
            labels[:6].reshape(3, 2),
            (4, 4),
            p,
            k=2,
        ),
        "embedding_2d_figure": lambda p: retrieval.embedding_2d_figure(
            {"a": points[:, :2], "b": points[:, 2:]}, labels, ["a", "b", "c"], p
        ),
    }


FIGURES = (
    "loss_curve",
    "curve_fit_figure",
    "convergence_figure",
    "landscape_contour",
    "landscape_surface",
    "landscape_slice",
    "regularization_landscapes",
    "classification_losses_figure",
    "regression_losses_figure",
    "compare_curves",
    "batch_size_curves",
    "race_figure",
    "search_figure (grid)",
    "search_figure (random)",
    "weight_templates",
    "confusion_figure",
    "embedding_figure",
    "retrieval_figure",
    "embedding_2d_figure",
)


def test_every_public_plot_function_is_checked_here():
    import inspect

    drawn = {name.split()[0] for name in FIGURES}
    public = {
        name
        for name, f in inspect.getmembers(plots, inspect.isfunction)
        if f.__module__ == plots.__name__ and not name.startswith("_")
    }
    # save_figure writes; the two others return several figures and are tested below
    assert public - drawn == {"save_figure", "loss_gallery", "landscape_figures"}


@pytest.mark.parametrize("name", FIGURES)
def test_every_plot_function_returns_its_figure_and_writes_a_png_only_when_asked(name, tmp_path):
    draw = _figures(tmp_path)[name]
    fig = draw(None)
    assert isinstance(fig, Figure)
    assert fig.axes  # something was drawn
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / "figure.png"
    assert isinstance(draw(path), Figure)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_functions_leave_no_figure_open_in_pyplot(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.loss_curve(_history(), tmp_path / "curve.png")
    plots.loss_gallery()
    assert plt.get_fignums() == before


def test_landscape_figures_writes_the_three_named_files(tmp_path):
    figures = plots.landscape_figures(_landscape(), tmp_path, "t")
    assert set(figures) == set(plots.LANDSCAPE_FILES)
    assert all(isinstance(f, Figure) for f in figures.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(plots.LANDSCAPE_FILES.values())


def test_loss_gallery_returns_both_figures(tmp_path):
    classification, regression = plots.loss_gallery(tmp_path / "c.png", tmp_path / "r.png")
    assert isinstance(classification, Figure) and isinstance(regression, Figure)
    assert (tmp_path / "c.png").is_file() and (tmp_path / "r.png").is_file()


def test_the_library_never_imports_pyplot_nor_chooses_a_backend():
    # pyplot keeps global state and picks a backend; a library that returns Figures needs neither
    from pathlib import Path

    uses = ("import matplotlib.pyplot", "from matplotlib import pyplot", "matplotlib.use(")
    sources = Path(losslab.__file__).parent.rglob("*.py")
    found = [p.name for p in sources if any(u in p.read_text(encoding="utf-8") for u in uses)]
    assert found == []


def _fits_one_screen(text):
    lines = text.splitlines()
    return len(lines) <= 25 and all(len(line) <= 100 for line in lines)


def test_history_repr_is_one_screen_with_the_last_and_best_values():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    model = losslab.models.Linear(4, 3, random_state=0)
    history = losslab.fit(
        model, "softmax", X, y, epochs=200, batch_size=8, validation_fraction=0.2, random_state=0
    )
    text = repr(history)
    assert _fits_one_screen(text)
    assert text.startswith("History(200 epochs, 3000 steps, ran every epoch)")
    best = min(history.val_loss)
    line = next(s for s in text.splitlines() if s.strip().startswith("val_loss"))
    assert f"last {history.val_loss[-1]:.4g}" in line
    assert f"best {best:.4g} (epoch {history.val_loss.index(best) + 1})" in line
    assert "val_accuracy" in text and "step_loss" not in text  # lists are summarised, never printed


def test_history_repr_of_a_run_without_validation_and_of_an_empty_history():
    history = _history(accuracy=False)
    history.val_loss = [None] * history.n_epochs
    history.converged, history.best_epoch = True, 3
    assert repr(history).splitlines() == [
        "History(4 epochs, 12 steps, converged, best epoch 3)",
        f"  train_loss     first {np.exp(-0.5):.4g}  last {np.exp(-2):.4g}  best {np.exp(-2):.4g} (epoch 4)",
    ]
    assert repr(History()) == "History(0 epochs, 0 steps, ran every epoch)"


def test_history_plot_returns_the_loss_curve():
    fig = _history().plot(title="iris")
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["iris: loss", "iris: accuracy"]
    assert [ax.get_title() for ax in _history(accuracy=False).plot().axes] == ["training: loss"]


def test_model_reprs_name_their_shapes():
    assert (
        repr(losslab.models.Linear(784, 10))
        == "Linear(n_features=784, n_outputs=10, dtype=float64)"
    )
    mlp = losslab.models.MLP(64, (100, 50), 10, dtype=np.float32)
    assert repr(mlp) == "MLP(n_features=64, hidden=(100, 50), n_outputs=10, dtype=float32)"


def test_loss_result_repr_is_one_line_whatever_the_batch():
    small = losslab.losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]))
    assert repr(small).startswith("LossResult(value=1.09861, grad=[[-0.3333, 0.1667, 0.1667],")
    big = losslab.losses.softmax_cross_entropy(
        np.zeros((5000, 10), np.float32), np.zeros(5000, int)
    )
    assert repr(big) == "LossResult(value=2.30259, grad=array((5000, 10), float32))"
    pair = losslab.losses.margin_ranking(np.ones(50), np.zeros(50), np.ones(50))
    assert repr(pair) == "LossResult(value=0, grad=(array((50,), float64), array((50,), float64)))"
    assert all(_fits_one_screen(repr(r)) and "\n" not in repr(r) for r in (small, big, pair))


def test_optimizer_and_schedule_reprs_show_their_settings():
    from losslab import optim

    assert repr(optim.Adam()) == "Adam(beta1=0.9, beta2=0.999, eps=1e-08)"
    assert repr(optim.Momentum(0.5)) == "Momentum(momentum=0.5)"
    expected = {
        "constant": "constant(lr=0.1)",
        "step": "step_decay(lr=0.1, step_size=10, gamma=0.5)",
        "exponential": "exponential(lr=0.1, gamma=0.95)",
        "cosine": "cosine(lr=0.1, total_epochs=20, min_lr=0.0)",
        "invscaling": "inverse_scaling(lr=0.1, power_t=0.5)",
    }
    for name, text in expected.items():
        schedule = optim.schedule(name, 0.1, epochs=20)
        assert repr(schedule) == text
        assert _fits_one_screen(repr(schedule))
    # the wrapper changes the repr only: the rates are those of the formulas
    assert optim.schedule("step", 0.1, epochs=20)(10.5) == pytest.approx(0.05)
    assert optim.schedule("cosine", 0.1, epochs=20)(10) == pytest.approx(0.05)
