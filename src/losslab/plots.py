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
    """Write ``fig`` as a PNG at ``path`` atomically (a reader never sees half a file).

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
    """Data and fitted curve above, residuals below (outliers stand out)."""
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
    """Cost (log scale) against function evaluations, one line per method; runs: {name: history}."""
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
    """log10 of the loss over the slice's plane, with the optimizer's path when it has one."""
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
    """The loss over the slice's plane as a 3-D surface."""
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
    """The loss along the first direction alone (β = 0)."""
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
    """Seed 002's ridge figure: the same slice without and with L2; the penalty rounds the bowl."""
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
    """
    return (
        classification_losses_figure(path_classification),
        regression_losses_figure(path_regression),
    )


def classification_losses_figure(path: PathArg = None) -> Figure:
    """Each binary classification loss against the margin, and focal loss against p."""
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
    """The regression losses and their gradients against the residual."""
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
    """Training loss per epoch (normalised by its start, since losses live on different scales) and validation accuracy."""
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
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _done(fig, path)


def batch_size_curves(
    runs: Mapping[str, tuple[History, Any]], path: PathArg = None, title: str = ""
) -> Figure:
    """Per-step loss (the noisy SGD curve) against samples seen, and per-epoch loss, per batch size."""
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
    """Trajectories on the surface's contour plot, and f against step."""
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
    """Validation accuracy over (lr, reg): a heatmap for a grid, a coloured scatter for random search."""
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
    """CS231n's class templates: each class's row of W shown as an image."""
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
    """The first two principal components of an embedding, coloured by class."""
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
    """Each query image and its k nearest gallery images; a wrong class is framed in red."""
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
