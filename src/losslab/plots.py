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
