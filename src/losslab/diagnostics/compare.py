"""Side-by-side experiments: several losses on one split, seed 001's robustness test, batch sizes."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import losses
from ..losses._registry import Loss
from ..training import History, Objective, build_classifier, encode_targets, evaluate, fit

if TYPE_CHECKING:
    from ..data.datasets import Dataset


@dataclass
class LossRun:
    """One loss's run in :func:`compare_losses`.

    Attributes
    ----------
    loss : str
        The loss's canonical name.
    history : History
        The training history (losses per step and per epoch).
    test_accuracy : float
        Accuracy on the test split.
    final_loss : float
        The last epoch's mean training loss.
    seconds : float
        Training time.
    epochs : int
        Epochs run.

    Examples
    --------
    >>> from losslab.training import History
    >>> history = History(epoch=[1, 2], step_loss=[1.0, 0.8, 0.6, 0.5], train_loss=[0.9, 0.55])
    >>> run = LossRun("multiclass_hinge", history, test_accuracy=0.9, final_loss=0.55,
    ...               seconds=0.1, epochs=2)
    >>> run.final_loss == run.history.train_loss[-1]
    True

    References
    ----------
    CS231n notes, "Linear classification" (the SVM and softmax losses compared).
    """

    loss: str
    history: object
    test_accuracy: float
    final_loss: float
    seconds: float
    epochs: int


def compare_losses(
    ds: Dataset,
    loss_names: Sequence[str],
    *,
    model: str = "linear",
    hidden: tuple[int, ...] = (100,),
    epochs: int = 30,
    lr: float = 0.01,
    batch_size: int = 64,
    reg: float = 0.0001,
    seed: int = 0,
) -> list[LossRun]:
    """Train one model per loss on the same split with the same settings; a LossRun each.

    Each model is trained with Adam from the same initial weights (``seed``) and
    scored on the test split.

    Parameters
    ----------
    ds : Dataset
        From :func:`losslab.data.load`.
    loss_names : sequence of str
        Names of the registry (aliases included).
    model : {"linear", "mlp"}, default "linear"
        The model trained for every loss.
    hidden : tuple of int, default (100,)
        The MLP's hidden layers.
    epochs : int, default 30
        Epochs of Adam.
    lr : float, default 1e-2
        Adam's learning rate.
    batch_size : int, default 64
        Rows per step.
    reg : float, default 1e-4
        The L2 strength.
    seed : int, default 0
        Seeds the initial weights (the same for every loss) and the shuffling.

    Returns
    -------
    list of LossRun
        In the order of ``loss_names``.

    Examples
    --------
    >>> from losslab.data import load
    >>> runs = compare_losses(load("iris"), ["svm", "softmax"], epochs=5)
    >>> [(run.loss, run.epochs) for run in runs]
    [('multiclass_hinge', 5), ('softmax_cross_entropy', 5)]

    References
    ----------
    CS231n notes, "Linear classification" (the SVM and softmax losses compared).
    """
    settings = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "reg": reg, "seed": seed}
    return [
        _loss_run(ds, losses.get(name), model=model, hidden=hidden, **settings)
        for name in loss_names
    ]


def _loss_run(ds, loss, *, model, hidden, epochs, lr, batch_size, reg, seed):
    """Train one model with Adam, timed, and score it on the test split."""
    net = build_classifier(
        model, ds.n_features, loss, ds.n_classes, hidden=hidden, random_state=seed
    )
    start = time.perf_counter()
    history = fit(
        net,
        loss,
        ds.X_train,
        ds.y_train,
        optimizer="adam",
        lr=lr,
        batch_size=batch_size,
        epochs=epochs,
        reg=reg,
        validation=(ds.X_val, ds.y_val) if len(ds.X_val) else None,
        random_state=seed,
    )
    seconds = time.perf_counter() - start
    target = encode_targets(loss, ds.y_test, net.n_outputs)
    test = evaluate(Objective(net, loss, reg=reg), ds.X_test, target)
    return LossRun(
        loss.name,
        history,
        test["val_accuracy"],
        history.train_loss[-1],
        seconds,
        history.n_epochs,
    )


def robustness_experiment(
    scores: Sequence[float] = (3.2, -1.7, 1.1),
    label: int = 0,
    nudges: Sequence[float] = (0.0, 0.1, 0.3, 0.5, 1.0),
    seed: int = 0,
) -> list[tuple[float, list[float], float, float]]:
    """Seed 001: nudge the scores of a correctly classified example (margins met).

    The SVM loss stays exactly 0 while every margin is still met; the softmax
    loss changes with every nudge, because it always wants the correct class's
    probability higher.

    Parameters
    ----------
    scores : sequence of float, default (3.2, -1.7, 1.1)
        One example's class scores.
    label : int, default 0
        Its class.
    nudges : sequence of float
        Sizes of the nudge along one random direction.
    seed : int, default 0
        Chooses the direction.

    Returns
    -------
    list of tuple
        ``(nudge size, nudged scores, SVM loss, softmax loss)`` per nudge.

    Examples
    --------
    >>> for size, scores, svm, softmax in robustness_experiment(nudges=(0.0, 0.1)):
    ...     print(size, scores, svm, round(softmax, 4))
    0.0 [3.2, -1.7, 1.1] 0.0 0.1221
    0.1 [3.227, -1.746, 1.008] 0.0 0.1094

    References
    ----------
    CS231n, "Linear classification", Softmax vs. SVM:
    https://cs231n.github.io/linear-classify/#svmvssoftmax
    """
    rng = np.random.default_rng(seed)
    base = np.asarray(scores, dtype=float)[None, :]
    y = np.array([label])
    direction = rng.uniform(-1, 1, base.shape)
    rows = []
    for size in nudges:
        s = base + size * direction
        rows.append(
            (
                size,
                s[0].round(3).tolist(),
                losses.multiclass_hinge(s, y).value,
                losses.softmax_cross_entropy(s, y).value,
            )
        )
    return rows


def batch_size_experiment(
    ds: Dataset,
    batch_sizes: Sequence[int],
    *,
    loss: str | Loss = "softmax",
    epochs: int = 10,
    lr: float | None = None,
    seed: int = 0,
) -> dict[str, tuple[History, float]]:
    """Train the same linear model with each batch size: the per-step curves show SGD's noise.

    ``lr`` defaults to 1e-2 (Adam); a batch size of 0 or >= N means full-batch gradient descent.

    Parameters
    ----------
    ds : Dataset
        The data; trained on its training split.
    batch_sizes : sequence of int
        Each run's batch size; 0 or at least N is the full batch.
    loss : str, default "softmax"
        A loss name of the registry, a Loss, or your own function.
    epochs : int, default 10
        Epochs of every run.
    lr : float, optional
        Adam's learning rate (default 1e-2).
    seed : int, default 0
        Seeds the initial weights (the same for every run) and the shuffling.

    Returns
    -------
    dict of str to (History, float)
        Per run, keyed by a label ("batch 16", "N = 105 (full batch)"): its history
        and training time in seconds.

    Examples
    --------
    >>> from losslab.data import load
    >>> runs = batch_size_experiment(load("iris"), [16, 0], epochs=3)
    >>> list(runs)
    ['batch 16', 'N = 105 (full batch)']

    References
    ----------
    Keskar et al., "On Large-Batch Training for Deep Learning: Generalization Gap
    and Sharp Minima", ICLR (2017).
    """
    loss = losses.get(loss)
    runs = {}
    for b in batch_sizes:
        size = len(ds.X_train) if b in (0, None) or b >= len(ds.X_train) else int(b)
        net = build_classifier("linear", ds.n_features, loss, ds.n_classes, random_state=seed)
        start = time.perf_counter()
        history = fit(
            net,
            loss,
            ds.X_train,
            ds.y_train,
            optimizer="adam",
            lr=lr or 1e-2,
            batch_size=size,
            epochs=epochs,
            random_state=seed,
        )
        label = f"N = {size} (full batch)" if size == len(ds.X_train) else f"batch {size}"
        runs[label] = (history, time.perf_counter() - start)
    return runs


def step_noise(history: History) -> float:
    """Standard deviation of the per-step training loss over the last epoch.

    The spread of the losses of one epoch's mini-batches is the noise SGD's batch size
    controls; with one step per epoch (full batch) there is none, so this is 0.

    Parameters
    ----------
    history : History
        A run's history, with one loss per step.

    Returns
    -------
    float
        0 when each epoch had one step.

    Examples
    --------
    >>> from losslab.training import History
    >>> history = History(epoch=[1, 2], step_loss=[1.0, 3.0, 2.0, 4.0], train_loss=[2.0, 3.0])
    >>> step_noise(history)  # the spread of the last epoch's two steps, 2 and 4
    1.0

    References
    ----------
    Keskar et al., "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
    Minima", ICLR (2017).
    """
    per_epoch = max(1, len(history.step_loss) // max(1, history.n_epochs))
    if per_epoch <= 1:
        return 0.0
    return float(np.std(history.step_loss[-per_epoch:]))


@dataclass
class BatchSizeRow:
    """One line of the batch-size comparison.

    Attributes
    ----------
    label : str
        "batch 16", "N = 105 (full batch)", ...
    steps : int
        Optimizer steps taken.
    final_loss : float
        The last epoch's mean training loss.
    noise : float
        :func:`step_noise` of the run.
    seconds : float
        Training time.

    Examples
    --------
    >>> row = BatchSizeRow("batch 16", steps=21, final_loss=0.9, noise=0.05, seconds=0.1)
    >>> row.label, row.steps
    ('batch 16', 21)

    References
    ----------
    Keskar et al., "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
    Minima", ICLR (2017).
    """

    label: str
    steps: int
    final_loss: float  # the last epoch's mean training loss
    noise: float  # step_noise of the run
    seconds: float


def batch_size_summary(runs: Mapping[str, tuple[History, float]]) -> list[BatchSizeRow]:
    """A :class:`BatchSizeRow` per run of :func:`batch_size_experiment`, in its order.

    Parameters
    ----------
    runs : dict of str to (History, float)
        What :func:`batch_size_experiment` returned.

    Returns
    -------
    list of BatchSizeRow
        One per run, in the runs' order.

    Examples
    --------
    >>> from losslab.data import load
    >>> rows = batch_size_summary(batch_size_experiment(load("iris"), [16, 0], epochs=3))
    >>> [(row.label, row.steps, row.noise == 0) for row in rows]
    [('batch 16', 21, False), ('N = 105 (full batch)', 3, True)]

    References
    ----------
    Keskar et al., "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
    Minima", ICLR (2017).
    """
    return [
        BatchSizeRow(label, len(h.step_loss), float(h.train_loss[-1]), step_noise(h), seconds)
        for label, (h, seconds) in runs.items()
    ]
