"""Figures as PNG files (matplotlib, Agg backend: no screen needed), written atomically."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .persist import atomic_write_bytes


def save_figure(fig, path, dpi=110):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, lambda f: f.write(buffer.getvalue()))


def loss_curve(history, path, title="training"):
    """Loss per step (the noisy SGD curve) and per epoch, with accuracy beside it."""
    has_acc = any(a is not None for a in history.train_accuracy + history.val_accuracy)
    fig, axes = plt.subplots(
        1, 2 if has_acc else 1, figsize=(11 if has_acc else 6, 4), squeeze=False
    )
    ax = axes[0, 0]
    steps = np.arange(1, len(history.step_loss) + 1)
    steps_per_epoch = len(steps) / max(history.n_epochs, 1)
    ax.plot(
        steps / steps_per_epoch,
        history.step_loss,
        lw=0.6,
        alpha=0.35,
        color="tab:blue",
        label="per step",
    )
    ax.plot(
        history.epoch, history.train_loss, "-o", ms=3, color="tab:blue", label="train (epoch mean)"
    )
    if any(v is not None for v in history.val_loss):
        ax.plot(history.epoch, history.val_loss, "-o", ms=3, color="tab:orange", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (data + regularization)")
    ax.set_yscale("log" if min(history.step_loss, default=1) > 0 else "linear")
    ax.set_title(f"{title}: loss")
    ax.legend()
    ax.grid(alpha=0.3)
    if has_acc:
        ax = axes[0, 1]
        ax.plot(history.epoch, history.train_accuracy, "-o", ms=3, label="train")
        if any(v is not None for v in history.val_accuracy):
            ax.plot(history.epoch, history.val_accuracy, "-o", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{title}: accuracy")
        ax.legend()
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def curve_fit_figure(x, y, fit, model, path, title=None):
    """Data and fitted curve above, residuals below (outliers stand out)."""
    fig, (top, bottom) = plt.subplots(
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
    save_figure(fig, path)


def convergence_figure(runs, path, title="cost against evaluations"):
    """Cost (log scale) against function evaluations, one line per method; runs: {name: history}."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
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
    save_figure(fig, path)
