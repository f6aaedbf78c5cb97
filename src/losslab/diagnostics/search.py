"""Hyper-parameter search over learning rate and regularization (CS231n's recipe).

Random search samples both log-uniformly from their ranges (it explores each
axis better than a grid for the same budget); ``grid=True`` uses an evenly
spaced log grid instead. Each trial trains from scratch and is scored by
validation accuracy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import losses
from ..estimators import persist
from ..losses._registry import Loss
from ..training import Diverged, build_classifier, fit
from ..training.files import atomic_write_text

if TYPE_CHECKING:
    from ..data.datasets import Dataset


@dataclass
class Trial:
    """One trained point of a search.

    Attributes
    ----------
    lr, reg : float
        The learning rate and regularization strength tried.
    val_accuracy, train_accuracy : float
        After the last epoch; 0 for a trial that diverged.
    model : Linear or MLP
        The trained model.

    Examples
    --------
    >>> from losslab.data import load
    >>> trial = run_trial(load("iris"), "softmax", 0.05, 1e-4, epochs=2)
    >>> trial.lr, trial.reg, type(trial.model).__name__
    (0.05, 0.0001, 'Linear')

    References
    ----------
    CS231n, "Neural Networks Part 3", hyperparameter optimization:
    https://cs231n.github.io/neural-networks-3/#hyper
    """

    lr: float
    reg: float
    val_accuracy: float
    train_accuracy: float
    model: object


def trial_points(
    lr_range: tuple[float, float],
    reg_range: tuple[float, float],
    trials: int,
    grid: bool = False,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """(lr, reg) pairs: log-uniform random, or a log grid of about ``trials`` points.

    Parameters
    ----------
    lr_range, reg_range : (float, float)
        (low, high) with 0 < low < high.
    trials : int
        How many points (a grid has ``round(√trials)²``, at least 4).
    grid : bool, default False
        A log-spaced grid instead of log-uniform random points.
    seed : int, default 0
        Seeds the random points.

    Returns
    -------
    list of (float, float)
        The (lr, reg) points.

    Examples
    --------
    >>> [(float(lr), float(reg)) for lr, reg in trial_points((1e-3, 1e-1), (1e-4, 1e-2), 4, grid=True)]
    [(0.001, 0.0001), (0.1, 0.0001), (0.001, 0.01), (0.1, 0.01)]

    References
    ----------
    Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13
    (2012); CS231n, "Neural Networks Part 3", hyperparameter optimization:
    https://cs231n.github.io/neural-networks-3/#hyper
    """
    (lr_lo, lr_hi), (reg_lo, reg_hi) = lr_range, reg_range
    for lo, hi, name in ((lr_lo, lr_hi, "lr"), (reg_lo, reg_hi, "reg")):
        if not 0 < lo < hi:
            raise ValueError(f"{name}: expected a range 0 < low < high, got {lo}:{hi}")
    if grid:
        side = max(2, round(np.sqrt(trials)))
        lrs = np.geomspace(lr_lo, lr_hi, side)
        regs = np.geomspace(reg_lo, reg_hi, side)
        return [(a, b) for b in regs for a in lrs]
    rng = np.random.default_rng(seed)
    lrs = 10 ** rng.uniform(np.log10(lr_lo), np.log10(lr_hi), trials)
    regs = 10 ** rng.uniform(np.log10(reg_lo), np.log10(reg_hi), trials)
    return list(zip(lrs, regs, strict=True))


def run_trial(
    ds: Dataset,
    loss: str | Loss,
    lr: float,
    reg: float,
    *,
    model: str = "linear",
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
) -> Trial:
    """Train a fresh model by plain SGD at (lr, reg) and score it on the validation split.

    Parameters
    ----------
    ds : Dataset
        The data; trained on its training split, scored on the validation split.
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    lr, reg : float
        Plain SGD's learning rate and the L2 strength.
    model : {"linear", "mlp"}, default "linear"
        The model to train.
    epochs : int, default 10
        Epochs of training.
    batch_size : int, default 64
        Rows per step.
    seed : int, default 0
        Seeds the initial weights and the shuffling.

    Returns
    -------
    Trial
        A learning rate so high that training diverges scores 0.

    Examples
    --------
    >>> from losslab.data import load
    >>> trial = run_trial(load("iris"), "softmax", 0.05, 1e-4, epochs=5)
    >>> 0 < trial.val_accuracy <= 1
    True

    References
    ----------
    Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13 (2012); CS231n,
    "Neural Networks Part 3": https://cs231n.github.io/neural-networks-3/#hyper
    """
    loss = losses.get(loss)
    net = build_classifier(model, ds.n_features, loss, ds.n_classes, random_state=seed)
    try:
        with np.errstate(all="ignore"):  # a learning rate far too high may overflow
            history = fit(
                net,
                loss,
                ds.X_train,
                ds.y_train,
                optimizer="sgd",
                lr=lr,
                reg=reg,
                epochs=epochs,
                batch_size=batch_size,
                validation=(ds.X_val, ds.y_val),
                random_state=seed,
            )
    except Diverged:  # that trial just scores nothing
        return Trial(float(lr), float(reg), 0.0, 0.0, net)
    val, val_loss = history.val_accuracy[-1], history.val_loss[-1]
    val = 0.0 if val is None or val_loss is None or not np.isfinite(val_loss) else val
    return Trial(float(lr), float(reg), float(val), float(history.train_accuracy[-1] or 0.0), net)


def run_search(
    ds: Dataset,
    loss: str,
    points: Sequence[tuple[float, float]],
    *,
    epochs: int = 10,
    seed: int = 0,
    on_trial: Callable[[int, Trial, float], None] | None = None,
) -> list[Trial]:
    """A :func:`run_trial` per (lr, reg) point, in order; the list of trials.

    ``on_trial(k, trial, best_val_accuracy)`` is called after trial ``k`` (from 1), e.g. to
    show a live table.

    Parameters
    ----------
    ds : Dataset
        The data, with training and validation splits.
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    points : sequence of (float, float)
        From :func:`trial_points`.
    epochs : int, default 10
        Epochs per trial.
    seed : int, default 0
        Seeds every trial alike.
    on_trial : callable, optional
        ``on_trial(k, trial, best_val_accuracy)`` after each trial.

    Returns
    -------
    list of Trial
        One per point, in order.

    Examples
    --------
    >>> from losslab.data import load
    >>> points = trial_points((1e-3, 1e-1), (1e-4, 1e-2), 3)
    >>> trials = run_search(load("iris"), "softmax", points, epochs=5)
    >>> len(trials), best_trial(trials) in trials
    (3, True)

    References
    ----------
    Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13
    (2012); CS231n, "Neural Networks Part 3", hyperparameter optimization:
    https://cs231n.github.io/neural-networks-3/#hyper
    """
    trials = []
    for k, (lr, reg) in enumerate(points, 1):
        trial = run_trial(ds, loss, lr, reg, epochs=epochs, seed=seed)
        trials.append(trial)
        if on_trial is not None:
            on_trial(k, trial, max(t.val_accuracy for t in trials))
    return trials


def best_trial(trials: Sequence[Trial]) -> Trial:
    """The trial with the highest validation accuracy (the first of equals).

    Parameters
    ----------
    trials : list of Trial
        At least one.

    Returns
    -------
    Trial
        The one with the highest ``val_accuracy``.

    Examples
    --------
    >>> best_trial([Trial(0.1, 0.0, 0.8, 0.9, None), Trial(0.01, 0.0, 0.9, 0.9, None)]).lr
    0.01

    References
    ----------
    Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13 (2012); CS231n,
    "Neural Networks Part 3": https://cs231n.github.io/neural-networks-3/#hyper
    """
    return max(trials, key=lambda t: t.val_accuracy)


def save_search(
    out: str | PathLike[str],
    trials: Sequence[Trial],
    *,
    loss: str,
    grid: bool = False,
    title: str = "",
) -> list[str]:
    """Write search.json, best_model.npz and search_heatmap.png under ``out``; their names.

    Parameters
    ----------
    out : str or Path
        An existing directory.
    trials : list of Trial
        The trained points; the best one's model is saved.
    loss : str
        Recorded in the best model's header.
    grid : bool, default False
        Draw the heatmap as a grid (else a scatter of the random points).
    title : str, optional
        The heatmap's title.

    Returns
    -------
    list of str
        The names of the files written.

    Examples
    --------
    >>> import tempfile
    >>> from losslab.data import load
    >>> ds = load("iris")
    >>> trials = [run_trial(ds, "softmax", lr, 1e-4, epochs=2) for lr in (0.01, 0.1)]
    >>> with tempfile.TemporaryDirectory() as out:
    ...     save_search(out, trials, loss="softmax")
    ['search.json', 'best_model.npz', 'search_heatmap.png']

    References
    ----------
    Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13 (2012); CS231n,
    "Neural Networks Part 3": https://cs231n.github.io/neural-networks-3/#hyper
    """
    from .. import plots  # matplotlib only when figures are drawn

    out = Path(out)
    best = best_trial(trials)
    header = {"lr": best.lr, "reg": best.reg, "loss": loss}
    persist.save(best.model, out / "best_model.npz", extra_header=header)
    rows = [
        {
            "lr": t.lr,
            "reg": t.reg,
            "val_accuracy": t.val_accuracy,
            "train_accuracy": t.train_accuracy,
        }
        for t in trials
    ]
    atomic_write_text(out / "search.json", json.dumps(rows, indent=2))
    plots.search_figure(trials, out / "search_heatmap.png", grid, title)
    return ["search.json", "best_model.npz", "search_heatmap.png"]
