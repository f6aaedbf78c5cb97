"""The training curve of a History as a matplotlib Figure (``History.plot`` draws it).

Figures are built with matplotlib's object-oriented API (``matplotlib.figure.Figure``),
never through pyplot, so nothing here chooses a backend or keeps figures open: a
notebook shows the returned Figure inline. :mod:`losslab.plots` draws every other
figure with the same :func:`subplots` and writes PNG files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure


def subplots(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs: Any
) -> tuple[Figure, Any]:
    """A new ``Figure`` and its axes, as pyplot's ``subplots`` but outside pyplot's figure list.

    Parameters
    ----------
    nrows, ncols : int, default 1
        The grid of axes.
    figsize : (float, float)
        Width and height in inches.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``squeeze``, ``sharex``, ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Not registered with pyplot: nothing to close, garbage-collected when dropped.
    axes : Axes or ndarray of Axes
        As ``Figure.subplots`` returns them.

    Examples
    --------
    >>> fig, axes = subplots(1, 2, figsize=(6, 3))
    >>> axes.shape, fig.get_size_inches().tolist()
    ((2,), [6.0, 3.0])
    """
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def loss_curve_figure(history: Any, title: str = "training") -> Figure:
    """Loss per step (the noisy SGD curve) and per epoch, with accuracy beside it when recorded.

    Parameters
    ----------
    history : History
        A training run's history (typed loosely: state.py imports this module to draw itself).
    title : str, default "training"
        The start of each panel's title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel of loss (log scale when every step loss is positive), or two
        with accuracy; not registered with pyplot.

    Examples
    --------
    >>> from losslab.training.state import History
    >>> history = History(step_loss=[0.9, 0.7, 0.6, 0.5], epoch=[1, 2], train_loss=[0.8, 0.55],
    ...                   train_accuracy=[0.6, 0.75], val_accuracy=[0.5, 0.7],
    ...                   val_loss=[0.9, 0.7])
    >>> fig = loss_curve_figure(history, "digits")
    >>> [ax.get_title() for ax in fig.axes]
    ['digits: loss', 'digits: accuracy']
    >>> fig.axes[0].get_yscale()
    'log'
    """
    has_acc = any(a is not None for a in history.train_accuracy + history.val_accuracy)
    fig, axes = subplots(1, 2 if has_acc else 1, figsize=(11 if has_acc else 6, 4), squeeze=False)
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
    return fig
