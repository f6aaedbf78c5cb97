"""Figures: every function returns its matplotlib ``Figure`` and writes a PNG when given a path.

The figures are built with matplotlib's object-oriented API (``matplotlib.figure.Figure``),
never through ``pyplot``: importing or calling this module leaves the backend alone, so a
notebook keeps its inline figures (the returned ``Figure`` shows itself there), a script
without a screen needs none, and no figure is left open in pyplot's list. Files are
written atomically.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from .training.figures import loss_curve_figure, subplots
from .training.files import atomic_write_bytes

if TYPE_CHECKING:
    from .diagnostics.landscape import Landscape
    from .training.state import History

PathArg = str | PathLike[str] | None

LANDSCAPE_FILES = {
    "contour": "landscape_contour.png",
    "surface": "landscape_surface.png",
    "line": "landscape_1d.png",
}


def save_figure(fig: Figure, path: str | PathLike[str], dpi: int = 110) -> Path:
    r"""Write ``fig`` as a PNG at ``path`` atomically (a reader never sees half a file).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write.
    path : str or path-like
        Where the PNG goes.
    dpi : int, default 110
        Resolution.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> fig = regression_losses_figure()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = save_figure(fig, Path(tmp) / "losses.png")
    ...     written.name, written.read_bytes()[:4]
    ('losses.png', b'\x89PNG')
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, lambda f: f.write(buffer.getvalue()))
    return Path(path)


def _done(fig: Figure, path: PathArg) -> Figure:
    """Save ``fig`` when a path is given; return it either way."""
    if path is not None:
        save_figure(fig, path)
    return fig


def loss_curve(history: History, path: PathArg = None, title: str = "training") -> Figure:
    """Loss per step (the noisy SGD curve) and per epoch, with accuracy beside it.

    The same figure as :meth:`losslab.training.History.plot`.

    Parameters
    ----------
    history : History
        A training run's history.
    path : str or path-like, optional
        Where to write the PNG.
    title : str, default "training"
        The start of each panel's title.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: the loss (per step and per epoch, validation too when measured)
        and the accuracy.

    Examples
    --------
    >>> import losslab
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> history = losslab.fit(model, "softmax", X, y, lr=0.1, batch_size=10, epochs=3,
    ...                       random_state=0)
    >>> fig = loss_curve(history, title="softmax")
    >>> [ax.get_title() for ax in fig.axes]
    ['softmax: loss', 'softmax: accuracy']
    """
    return _done(loss_curve_figure(history, title), path)


def curve_fit_figure(
    x: np.ndarray,
    y: np.ndarray,
    fit: Any,
    model: Any,
    path: PathArg = None,
    title: str | None = None,
) -> Figure:
    """Data and fitted curve above, residuals below (outliers stand out).

    Parameters
    ----------
    x, y : ndarray of shape (m,)
        The data.
    fit : CurveFitResult
        From :func:`losslab.optim.curvefit.fit_model` (or ``curve_fit``).
    model : curvefit.Model
        The fitted family: its ``f`` draws the curve, its ``formula`` labels it.
    path : str or path-like, optional
        Where to write the PNG.
    title : str, optional
        Default: the family's name and the solver's stopping message.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing x: data and curve; residuals y - f(x).

    Examples
    --------
    >>> from losslab.data import trajectory
    >>> from losslab.optim import curvefit
    >>> t, height = trajectory()
    >>> fit = curvefit.fit_model("poly2", t, height, loss="huber")
    >>> fig = curve_fit_figure(t, height, fit, curvefit.model("poly2"))
    >>> fig.axes[0].get_title().startswith("poly2 fit"), fig.axes[1].get_ylabel()
    (True, 'residual')
    """
    fig, (top, bottom) = subplots(
        2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]}
    )
    order = np.argsort(x)
    grid = np.linspace(x.min(), x.max(), 400)
    top.plot(x, y, "o", ms=4, color="tab:gray", label="data")
    top.plot(grid, model.f(grid, *fit.params), color="tab:red", lw=2, label=f"fit: {model.formula}")
    top.set_ylabel("y")
    top.legend()
    top.grid(alpha=0.3)
    top.set_title(title or f"{model.name} fit ({fit.result.message})")
    residuals = y - model.f(x, *fit.params)
    bottom.axhline(0, color="black", lw=0.8)
    bottom.vlines(x[order], 0, residuals[order], color="tab:blue", lw=1)
    bottom.plot(x[order], residuals[order], "o", ms=3, color="tab:blue")
    bottom.set_xlabel("x")
    bottom.set_ylabel("residual")
    bottom.grid(alpha=0.3)
    return _done(fig, path)


def convergence_figure(
    runs: Mapping[str, Sequence[Mapping[str, float]]],
    path: PathArg = None,
    title: str = "cost against evaluations",
) -> Figure:
    """Cost (log scale) against function evaluations, one line per method; runs: {name: history}.

    Parameters
    ----------
    runs : mapping of str to sequence of dict
        Each method's iterations, rows with ``"nfev"`` (evaluations so far) and
        ``"cost"`` (½‖r‖²), as a least-squares result's ``history``.
    path : str or path-like, optional
        Where to write the PNG.
    title : str, default "cost against evaluations"

    Returns
    -------
    matplotlib.figure.Figure
        Both axes logarithmic; a cost of 0 is drawn at 1e-300.

    Examples
    --------
    >>> runs = {"lm": [{"nfev": 1, "cost": 2.0}, {"nfev": 3, "cost": 1e-6}],
    ...         "gd": [{"nfev": 1, "cost": 2.0}, {"nfev": 40, "cost": 0.1}]}
    >>> fig = convergence_figure(runs)
    >>> [line.get_label() for line in fig.axes[0].get_lines()], fig.axes[0].get_yscale()
    (['lm', 'gd'], 'log')
    """
    fig, ax = subplots(figsize=(7, 4.5))
    for name, history in runs.items():
        nfev = [row["nfev"] for row in history]
        cost = [max(row["cost"], 1e-300) for row in history]
        ax.plot(nfev, cost, "-o" if len(history) <= 200 else "-", ms=2.5, lw=1.2, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("evaluations (residuals + Jacobians or gradients)")
    ax.set_ylabel("cost")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _done(fig, path)


# --- understanding losses ----------------------------------------------------------------


def landscape_figures(
    ls: Landscape, out: str | PathLike[str] | None = None, title: str = ""
) -> dict[str, Figure]:
    """The contour, surface and 1-D slice figures of a Landscape, written under ``out`` if given.

    Parameters
    ----------
    ls : Landscape
        A loss slice from :func:`losslab.diagnostics.landscape.landscape`.
    out : str or path-like, optional
        A directory: the figures go there under the names of ``LANDSCAPE_FILES``.
    title : str
        The figures' title.

    Returns
    -------
    dict of str to Figure
        ``{"contour": ..., "surface": ..., "line": ...}``, the keys of ``LANDSCAPE_FILES``.

    Examples
    --------
    >>> import losslab
    >>> from losslab.diagnostics.landscape import landscape
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> ls = landscape(model, "softmax", X, y, resolution=5)
    >>> figures = landscape_figures(ls, title="softmax")
    >>> sorted(figures), figures["line"].axes[0].get_title()
    (['contour', 'line', 'surface'], 'softmax: 1-D slice')
    """
    figures = {
        "contour": landscape_contour(ls, title=title),
        "surface": landscape_surface(ls, title=title),
        "line": landscape_slice(ls, title=title),
    }
    if out is not None:
        for name, fig in figures.items():
            save_figure(fig, Path(out) / LANDSCAPE_FILES[name])
    return figures


def landscape_contour(ls: Landscape, path: PathArg = None, title: str = "") -> Figure:
    r"""log10 of the loss over the slice's plane, with the optimizer's path when it has one.

    The center (the trained point) is a gold star; the path, when the landscape has
    one, starts at a white square.

    Parameters
    ----------
    ls : Landscape
        A loss slice from :func:`losslab.diagnostics.landscape.landscape`.
    path : str or path-like, optional
        Where to write the PNG.
    title : str
        The start of the title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import losslab
    >>> from losslab.diagnostics.landscape import landscape
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> ls = landscape(model, "softmax", X, y, resolution=5)
    >>> fig = landscape_contour(ls, title="softmax")
    >>> fig.axes[0].get_title(), fig.axes[1].get_ylabel()  # the colour bar
    ('softmax\nrandom directions, reg = 0', 'log10 loss')
    """
    A, B = np.meshgrid(ls.alphas, ls.betas)
    Z = np.log10(np.maximum(ls.values, 1e-12))
    fig, ax = subplots(figsize=(6.4, 5.4))
    cs = ax.contourf(A, B, Z, levels=30, cmap="viridis")
    ax.contour(A, B, Z, levels=15, colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label="log10 loss")
    if ls.path is not None:
        ax.plot(
            ls.path[:, 0],
            ls.path[:, 1],
            "-o",
            color="tab:red",
            ms=3,
            lw=1.5,
            label="optimizer path",
        )
        ax.plot(*ls.path[0], "s", color="white", ms=7, label="start")
        ax.legend(loc="upper right")
    ax.plot(0, 0, "*", color="gold", ms=14)
    ax.set_xlabel("α (direction 1)")
    ax.set_ylabel("β (direction 2)")
    ax.set_title(f"{title}\n{ls.directions} directions, reg = {ls.reg:g}")
    return _done(fig, path)


def landscape_surface(ls: Landscape, path: PathArg = None, title: str = "") -> Figure:
    """The loss over the slice's plane as a 3-D surface.

    Parameters
    ----------
    ls : Landscape
        A loss slice from :func:`losslab.diagnostics.landscape.landscape`.
    path : str or path-like, optional
        Where to write the PNG.
    title : str
        The start of the title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import losslab
    >>> from losslab.diagnostics.landscape import landscape
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> ls = landscape(model, "softmax", X, y, resolution=5)
    >>> fig = landscape_surface(ls, title="softmax")
    >>> fig.axes[0].get_title(), fig.axes[0].get_zlabel()
    ('softmax: surface', 'loss')
    """
    A, B = np.meshgrid(ls.alphas, ls.betas)
    fig = Figure(figsize=(7, 5.4))
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(A, B, ls.values, cmap="viridis", linewidth=0, antialiased=True, alpha=0.9)
    ax.set_xlabel("α")
    ax.set_ylabel("β")
    ax.set_zlabel("loss")
    ax.set_title(f"{title}: surface")
    return _done(fig, path)


def landscape_slice(ls: Landscape, path: PathArg = None, title: str = "") -> Figure:
    """The loss along the first direction alone (β = 0).

    Parameters
    ----------
    ls : Landscape
        A loss slice from :func:`losslab.diagnostics.landscape.landscape`.
    path : str or path-like, optional
        Where to write the PNG.
    title : str
        The start of the title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import losslab
    >>> from losslab.diagnostics.landscape import landscape
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> ls = landscape(model, "softmax", X, y, resolution=5)
    >>> fig = landscape_slice(ls, title="softmax")
    >>> fig.axes[0].get_lines()[0].get_ydata().shape  # ls.line, one value per alpha
    (5,)
    """
    fig, ax = subplots(figsize=(6.4, 4))
    ax.plot(ls.alphas, ls.line, color="tab:blue")
    ax.axvline(0, color="gray", lw=0.8)
    ax.set_xlabel("α (direction 1)")
    ax.set_ylabel("loss")
    ax.set_title(f"{title}: 1-D slice")
    ax.grid(alpha=0.3)
    return _done(fig, path)


def regularization_landscapes(
    plain: Landscape, ridge: Landscape, path: PathArg = None, title: str = ""
) -> Figure:
    """Seed 002's ridge figure: the same slice without and with L2; the penalty rounds the bowl.

    Each panel marks the lowest point of its grid with a gold star.

    Parameters
    ----------
    plain, ridge : Landscape
        The same slice (same model, data and directions) without and with the penalty.
    path : str or path-like, optional
        Where to write the PNG.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Two contour panels (and their colour bars).

    Examples
    --------
    >>> import losslab
    >>> from losslab.diagnostics.landscape import landscape
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> ls = landscape(model, "softmax", X, y, resolution=5)
    >>> ridge = landscape(model, "softmax", X, y, reg=1.0, resolution=5)
    >>> fig = regularization_landscapes(ls, ridge)
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['reg = 0', 'reg = 1']
    """
    fig, axes = subplots(1, 2, figsize=(11, 4.6), sharey=True)
    for ax, ls in zip(axes, (plain, ridge), strict=True):
        A, B = np.meshgrid(ls.alphas, ls.betas)
        cs = ax.contourf(A, B, np.log10(np.maximum(ls.values, 1e-12)), levels=30, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="log10 loss")
        best = np.unravel_index(np.argmin(ls.values), ls.values.shape)
        ax.plot(
            ls.alphas[best[1]], ls.betas[best[0]], "*", color="gold", ms=14, label="lowest point"
        )
        ax.set_title(f"reg = {ls.reg:g}")
        ax.set_xlabel("α")
        ax.legend(loc="upper right")
    axes[0].set_ylabel("β")
    fig.suptitle(title)
    return _done(fig, path)


def loss_gallery(
    path_classification: PathArg = None, path_regression: PathArg = None
) -> tuple[Figure, Figure]:
    """The two gallery figures: classification losses, then regression losses.

    Parameters
    ----------
    path_classification, path_regression : str or path-like, optional
        Where to write each figure.

    Returns
    -------
    (Figure, Figure)
        :func:`classification_losses_figure` and :func:`regression_losses_figure`.

    Examples
    --------
    >>> classification, regression = loss_gallery()
    >>> classification.axes[0].get_title(), regression.axes[0].get_title()
    ('classification losses against the margin', 'regression losses against the residual r')
    """
    return (
        classification_losses_figure(path_classification),
        regression_losses_figure(path_regression),
    )


def classification_losses_figure(path: PathArg = None) -> Figure:
    r"""Each binary classification loss against the margin, and focal loss against p.

    Left: hinge, log loss, modified Huber, squared hinge, perceptron and the 0-1 loss
    against the margin m = y·s, each computed by its losslab function. Right:
    :math:`-(1 - p)^\gamma \log p` for γ = 0 (cross-entropy), 0.5, 1, 2 and 5.

    Parameters
    ----------
    path : str or path-like, optional
        Where to write the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = classification_losses_figure()
    >>> len(fig.axes[0].get_lines()), len(fig.axes[1].get_lines())
    (6, 5)

    References
    ----------
    Lin et al., "Focal Loss for Dense Object Detection", ICCV (2017), figure 1.
    """
    from . import losses

    m = np.linspace(-3, 3, 601)
    fig, axes = subplots(1, 2, figsize=(12, 4.6))
    ax = axes[0]
    ones = np.ones_like(m)
    ax.plot(m, losses.hinge(m, ones, reduction="none").value, label="hinge  max(0, 1 − m)")
    ax.plot(
        m,
        losses.sigmoid_binary_cross_entropy(m, ones, reduction="none").value,
        label="log loss  log(1 + e^−m)",
    )
    # modified Huber equals the squared hinge for m >= -1 (then it turns linear): drawn wide and
    # pale underneath, with the squared hinge dashed on top, so both stay visible
    ax.plot(
        m,
        losses.modified_huber(m, ones, reduction="none").value,
        lw=6,
        alpha=0.35,
        label="modified Huber (= squared hinge for m ≥ −1)",
    )
    ax.plot(
        m,
        losses.hinge(m, ones, squared=True, reduction="none").value,
        "--",
        lw=1.8,
        label="squared hinge  max(0, 1 − m)²",
    )
    ax.plot(m, losses.perceptron(m, ones, reduction="none").value, label="perceptron  max(0, −m)")
    ax.plot(m, (m <= 0).astype(float), "k--", lw=1, label="0-1 loss")
    ax.set_xlabel("margin m = y·s (binary) ")
    ax.set_ylabel("loss")
    ax.set_ylim(-0.1, 5)
    ax.set_title("classification losses against the margin")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")  # the empty corner: m > 1, loss > 3
    ax = axes[1]
    p = np.linspace(0.001, 0.999, 500)
    for gamma in (0, 0.5, 1, 2, 5):
        ax.plot(
            p,
            -((1 - p) ** gamma) * np.log(p),
            label=f"focal γ = {gamma}" + (" (cross-entropy)" if gamma == 0 else ""),
        )
    ax.set_xlabel("probability of the correct class p")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 5)
    ax.set_title("focal loss: easy examples (p → 1) count less")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _done(fig, path)


def regression_losses_figure(path: PathArg = None) -> Figure:
    """The regression losses and their gradients against the residual.

    L2, L1, Huber (δ = 1) and log-cosh, values left and gradients right, each
    computed by its losslab function.

    Parameters
    ----------
    path : str or path-like, optional
        Where to write the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = regression_losses_figure()
    >>> [line.get_label() for line in fig.axes[1].get_lines()]
    ['L2  r²', 'L1  |r|', 'Huber (δ = 1)', 'log-cosh']
    """
    from . import losses

    r = np.linspace(-3, 3, 601)
    zeros = np.zeros_like(r)
    fig, axes = subplots(1, 2, figsize=(12, 4.6))
    for name, label in (
        ("squared_error", "L2  r²"),
        ("absolute_error", "L1  |r|"),
        ("huber", "Huber (δ = 1)"),
        ("log_cosh", "log-cosh"),
    ):
        result = getattr(losses, name)(r, zeros, reduction="none")
        axes[0].plot(r, result.value, label=label)
        axes[1].plot(r, result.grad, label=label)
    axes[0].set_title("regression losses against the residual r")
    axes[1].set_title("their gradients: L1's never shrinks, L2's grows without bound")
    for ax in axes:
        ax.set_xlabel("residual r = prediction − target")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylim(-0.1, 4)
    return _done(fig, path)


def compare_curves(runs: Sequence[Any], path: PathArg = None, title: str = "") -> Figure:
    """Training loss per epoch (normalised by its start, since losses live on different scales) and validation accuracy.

    Parameters
    ----------
    runs : sequence of LossRun
        From :func:`losslab.diagnostics.compare.compare_losses` (anything with
        ``loss`` and ``history``).
    path : str or path-like, optional
        Where to write the PNG.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        One line per run in each panel (validation accuracy only where measured).

    Examples
    --------
    >>> import losslab
    >>> from losslab.diagnostics.compare import LossRun
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> runs = []
    >>> for loss in ("softmax", "svm"):
    ...     model = losslab.models.Linear(3, 2, random_state=0)
    ...     h = losslab.fit(model, loss, X, y, epochs=3, validation=(X, y), random_state=0)
    ...     runs.append(LossRun(loss, h, 1.0, h.train_loss[-1], 0.0, 3))
    >>> fig = compare_curves(runs, title="two losses")
    >>> [line.get_label() for line in fig.axes[1].get_lines()]
    ['softmax', 'svm']
    """
    fig, axes = subplots(1, 2, figsize=(11, 4.2))
    for run in runs:
        h = run.history
        axes[0].plot(h.epoch, np.array(h.train_loss) / h.train_loss[0], label=run.loss)
        if any(v is not None for v in h.val_accuracy):
            axes[1].plot(h.epoch, h.val_accuracy, label=run.loss)
    axes[0].set_yscale("log")
    axes[0].set_title("training loss / initial loss")
    axes[1].set_title("validation accuracy")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if ax.get_lines():  # runs without validation leave that panel empty: no legend to draw
            ax.legend(fontsize=8)
    fig.suptitle(title)
    return _done(fig, path)


def batch_size_curves(
    runs: Mapping[str, tuple[History, Any]], path: PathArg = None, title: str = ""
) -> Figure:
    """Per-step loss (the noisy SGD curve) against samples seen, and per-epoch loss, per batch size.

    The run with the most steps (the smallest batch, the noisiest curve) is drawn
    faintly, behind the others.

    Parameters
    ----------
    runs : mapping of str to (History, any)
        Label to (history, anything); as
        :func:`losslab.diagnostics.compare.batch_size_experiment` returns them.
    path : str or path-like, optional
        Where to write the PNG.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Two log-scale panels, one line per run in each.

    Examples
    --------
    >>> import losslab
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> history = losslab.fit(model, "softmax", X, y, lr=0.1, batch_size=10, epochs=3,
    ...                       random_state=0)
    >>> whole = losslab.fit(losslab.models.Linear(3, 2, random_state=0), "softmax", X, y,
    ...                     lr=0.1, batch_size=40, epochs=3, random_state=0)
    >>> fig = batch_size_curves({"batch 10": (history, None), "batch 40": (whole, None)})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['batch 10', 'batch 40']
    """
    fig, axes = subplots(1, 2, figsize=(11, 4.2))
    longest = max(len(h.step_loss) for h, _ in runs.values())
    for label, (history, _) in runs.items():
        steps = len(history.step_loss)
        epochs = history.n_epochs
        alpha = (
            0.35 if steps == longest and len(runs) > 1 else 0.9
        )  # the noisiest curve stays behind
        axes[0].plot(
            np.linspace(0, epochs, steps), history.step_loss, lw=0.7, alpha=alpha, label=label
        )
        axes[1].plot(history.epoch, history.train_loss, "-o", ms=3, label=label)
    everything = np.concatenate([h.step_loss for h, _ in runs.values()])
    positive = everything[everything > 0]
    if positive.size:  # single-sample steps reach ~0 loss; clip the axis to the bulk of the data
        axes[0].set_ylim(np.percentile(positive, 2), positive.max() * 1.5)
    axes[0].set_title("loss of each step (x: epochs of data seen)")
    axes[1].set_title("mean loss per epoch")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _done(fig, path)


def race_figure(surface: Any, paths: Mapping[str, np.ndarray], path: PathArg = None) -> Figure:
    """Trajectories on the surface's contour plot, and f against step.

    Left: each path over log10(f - min f) on a 300 × 300 grid of the surface's box,
    the start a black dot and the minimum a gold star. Right: f - min f along each
    path (log scale).

    Parameters
    ----------
    surface : Surface
        A test surface of :mod:`losslab.diagnostics.surfaces` (``f``, ``box``,
        ``start``, ``minimum``, ``name``).
    paths : mapping of str to ndarray of shape (T, 2)
        Each optimizer's iterates, as :func:`losslab.diagnostics.surfaces.race`
        returns them.
    path : str or path-like, optional
        Where to write the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from losslab.diagnostics import surfaces
    >>> paths = surfaces.race("rosenbrock", steps=10)
    >>> fig = race_figure(surfaces.SURFACES["rosenbrock"], {"Adam": paths["Adam"]})
    >>> fig.axes[0].get_title(), fig.axes[1].get_title()
    ('rosenbrock: paths from (-1.5, 2.0)', 'value against step')
    """
    xmin, xmax, ymin, ymax = surface.box
    X, Y = np.meshgrid(np.linspace(xmin, xmax, 300), np.linspace(ymin, ymax, 300))
    Z = np.vectorize(lambda a, b: surface.f(np.array([a, b])))(X, Y)
    fig, axes = subplots(1, 2, figsize=(13, 5.2))
    ax = axes[0]
    shifted = Z - Z.min() + 1e-3
    ax.contourf(X, Y, np.log10(shifted), levels=40, cmap="Greys")
    for name, p in paths.items():
        ax.plot(p[:, 0], p[:, 1], "-", lw=1.3, label=name)
    ax.plot(*surface.start, "o", color="black", ms=6)
    ax.plot(*surface.minimum, "*", color="gold", ms=15)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_title(f"{surface.name}: paths from {surface.start}")
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[1]
    for name, p in paths.items():
        values = np.array([surface.f(q) for q in p])
        ax.plot(values - Z.min() + 1e-12, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("f − min f (grid)")
    ax.set_title("value against step")
    ax.grid(alpha=0.3)
    return _done(fig, path)


def search_figure(
    trials: Sequence[Any], path: PathArg = None, grid: bool = False, title: str = ""
) -> Figure:
    """Validation accuracy over (lr, reg): a heatmap for a grid, a coloured scatter for random search.

    Both axes are logarithmic; the best trial is a red star, its accuracy in the legend.

    Parameters
    ----------
    trials : sequence of Trial
        From :func:`losslab.diagnostics.search.run_search` (``lr``, ``reg``,
        ``val_accuracy``).
    path : str or path-like, optional
        Where to write the PNG.
    grid : bool, default False
        True for a grid search: one heatmap cell per (lr, reg), an untried cell blank.
    title : str
        The axes' title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from losslab.diagnostics.search import Trial
    >>> trials = [Trial(lr, reg, acc, acc, None) for lr, reg, acc in
    ...           [(1e-3, 1e-4, 0.5), (1e-2, 1e-4, 0.9), (1e-3, 1e-2, 0.4), (1e-2, 1e-2, 0.7)]]
    >>> fig = search_figure(trials, grid=True)
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'best: 0.900'
    """
    lrs = np.array([t.lr for t in trials])
    regs = np.array([t.reg for t in trials])
    acc = np.array([t.val_accuracy for t in trials])
    fig, ax = subplots(figsize=(6.4, 5))
    if grid:
        ul, ur = np.unique(lrs), np.unique(regs)
        M = np.full((len(ur), len(ul)), np.nan)
        for a, b, v in zip(lrs, regs, acc, strict=True):
            M[np.searchsorted(ur, b), np.searchsorted(ul, a)] = v
        im = ax.pcolormesh(_edges(ul), _edges(ur), M, cmap="viridis", vmin=0, vmax=1)
    else:
        im = ax.scatter(lrs, regs, c=acc, cmap="viridis", s=80, vmin=0, vmax=1, edgecolors="black")
    best = int(np.argmax(acc))
    ax.plot(lrs[best], regs[best], "*", color="red", ms=16, label=f"best: {acc[best]:.3f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("regularization strength")
    ax.legend(loc="best")
    fig.colorbar(im, ax=ax, label="validation accuracy")
    ax.set_title(title)
    return _done(fig, path)


def _edges(centers: np.ndarray) -> np.ndarray:
    logs = np.log10(centers)
    step = np.diff(logs).mean() if len(logs) > 1 else 1.0
    return 10 ** np.r_[logs - step / 2, logs[-1] + step / 2]


def weight_templates(
    W: np.ndarray,
    image_shape: tuple[int, ...],
    class_names: Sequence[Any],
    path: PathArg = None,
) -> Figure:
    """CS231n's class templates: each class's column of W shown as an image.

    A grey image's template uses a red-blue scale centred on 0; a colour image's
    (CIFAR-10, rows of channel planes) is rescaled to [0, 1].

    Parameters
    ----------
    W : ndarray of shape (D, C)
        A linear model's weights, D = the product of ``image_shape``.
    image_shape : tuple of int
        (height, width) or (3, height, width).
    class_names : sequence
        C names, the panels' titles.
    path : str or path-like, optional
        Where to write the PNG.

    Returns
    -------
    matplotlib.figure.Figure
        Up to five panels a row.

    Examples
    --------
    >>> W = np.random.default_rng(0).normal(size=(64, 3))
    >>> fig = weight_templates(W, (8, 8), ["zero", "one", "two"])
    >>> [ax.get_title() for ax in fig.axes]
    ['zero', 'one', 'two']

    References
    ----------
    CS231n, "Linear classification": https://cs231n.github.io/linear-classify/
    """
    n = W.shape[1]
    cols = min(n, 5)
    rows = -(-n // cols)
    fig, axes = subplots(rows, cols, figsize=(2.2 * cols, 2.4 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        w = W[:, k]
        if len(image_shape) == 3:  # CIFAR-10 rows are channel planes (3, 32, 32)
            img = w.reshape(image_shape).transpose(1, 2, 0)
            img = (img - img.min()) / (np.ptp(img) or 1.0)
            ax.imshow(img)
        else:
            ax.imshow(
                w.reshape(image_shape), cmap="RdBu_r", vmin=-np.abs(w).max(), vmax=np.abs(w).max()
            )
        ax.set_title(str(class_names[k]))
    fig.suptitle("learned weights of each class (the templates)")
    return _done(fig, path)


def confusion_figure(
    matrix: np.ndarray, class_names: Sequence[Any], path: PathArg = None
) -> Figure:
    """The confusion matrix as a heatmap with each count written in its cell.

    Parameters
    ----------
    matrix : ndarray of shape (C, C), int
        Rows are true classes, columns predictions (see
        :func:`losslab.report.confusion_matrix`).
    class_names : sequence
        C names for the ticks.
    path : str or path-like, optional
        Where to write the PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = confusion_figure(np.array([[5, 1], [0, 4]]), ["cat", "dog"])
    >>> [text.get_text() for text in fig.axes[0].texts], fig.axes[0].get_ylabel()
    (['5', '1', '0', '4'], 'true')
    """
    fig, ax = subplots(figsize=(1.0 + 0.55 * len(class_names), 0.8 + 0.5 * len(class_names)))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(v),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if v > matrix.max() / 2 else "black",
        )
    ticks = range(len(class_names))
    ax.set_xticks(ticks, [str(c) for c in class_names], rotation=45, ha="right")
    ax.set_yticks(ticks, [str(c) for c in class_names])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (test split)")
    return _done(fig, path)


def embedding_figure(
    embeddings: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[Any],
    path: PathArg = None,
    title: str = "",
) -> Figure:
    """The first two principal components of an embedding, coloured by class.

    Parameters
    ----------
    embeddings : ndarray of shape (N, E)
    labels : ndarray of shape (N,), int
        Class indices into ``class_names``.
    class_names : sequence
        One legend entry per class.
    path : str or path-like, optional
        Where to write the PNG.
    title : str
        The axes' title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> points = np.random.default_rng(0).normal(size=(20, 4))
    >>> fig = embedding_figure(points, np.arange(20) % 2, ["odd", "even"])
    >>> [group.get_label() for group in fig.axes[0].collections]
    ['odd', 'even']
    """
    centred = embeddings - embeddings.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    fig, ax = subplots(figsize=(6.4, 5.4))
    for k, name in enumerate(class_names):
        mask = labels == k
        ax.scatter(xy[mask, 0], xy[mask, 1], s=10, alpha=0.75, label=str(name))
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(title)
    ax.legend(fontsize=7, markerscale=2, ncol=2)
    return _done(fig, path)


def retrieval_figure(
    query_images: np.ndarray,
    result_images: np.ndarray,
    query_labels: np.ndarray,
    result_labels: np.ndarray,
    image_shape: tuple[int, ...],
    path: PathArg = None,
    k: int = 5,
) -> Figure:
    """Each query image and its k nearest gallery images; a wrong class is framed in red.

    Parameters
    ----------
    query_images : ndarray of shape (Q, D)
        Flattened images, D = the product of ``image_shape``.
    result_images : ndarray of shape (Q, k, D)
        Each query's neighbours, nearest first.
    query_labels : ndarray of shape (Q,)
    result_labels : ndarray of shape (Q, k)
    image_shape : tuple of int
        (height, width).
    path : str or path-like, optional
        Where to write the PNG.
    k : int, default 5
        Neighbours shown per query.

    Returns
    -------
    matplotlib.figure.Figure
        Q rows of k + 1 panels; a right neighbour is framed in green.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> queries, neighbours = rng.random((2, 64)), rng.random((2, 3, 64))
    >>> fig = retrieval_figure(queries, neighbours, np.array([0, 1]),
    ...                        np.array([[0, 0, 1], [1, 0, 1]]), (8, 8), k=3)
    >>> len(fig.axes), fig.axes[3].spines["left"].get_edgecolor()  # query 0's third: class 1
    (8, (1.0, 0.0, 0.0, 1.0))
    """
    n = len(query_images)
    fig, axes = subplots(n, k + 1, figsize=(1.3 * (k + 1), 1.4 * n), squeeze=False)
    for i in range(n):
        for j in range(k + 1):
            ax = axes[i, j]
            img = query_images[i] if j == 0 else result_images[i][j - 1]
            ax.imshow(img.reshape(image_shape), cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_title(f"query {query_labels[i]}", fontsize=7)
            else:
                wrong = result_labels[i][j - 1] != query_labels[i]
                for spine in ax.spines.values():
                    spine.set_edgecolor("red" if wrong else "green")
                    spine.set_linewidth(2)
    fig.suptitle("queries (left) and their nearest neighbours in the learned embedding")
    return _done(fig, path)
