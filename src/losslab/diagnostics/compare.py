"""Side-by-side experiments: several losses on one split, seed 001's robustness test, batch sizes."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import losses
from ..training import Objective, build_classifier, encode_targets, evaluate, fit


@dataclass
class LossRun:
    loss: str
    history: object
    test_accuracy: float
    final_loss: float
    seconds: float
    epochs: int


def compare_losses(
    ds,
    loss_names,
    *,
    model="linear",
    hidden=(100,),
    epochs=30,
    lr=1e-2,
    batch_size=64,
    reg=1e-4,
    seed=0,
):
    """Train one model per loss on the same split with the same settings; a LossRun each."""
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
    scores=(3.2, -1.7, 1.1), label=0, nudges=(0.0, 0.1, 0.3, 0.5, 1.0), seed=0
):
    """Seed 001: nudge the scores of a correctly classified example (margins met).

    The SVM loss stays exactly 0 while every margin is still met; the softmax
    loss changes with every nudge, because it always wants the correct class's
    probability higher. Returns rows (nudge size, nudged scores, SVM loss, softmax loss).
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


def batch_size_experiment(ds, batch_sizes, *, loss="softmax", epochs=10, lr=None, seed=0):
    """Train the same linear model with each batch size: the per-step curves show SGD's noise.

    ``lr`` defaults to 1e-2 (Adam); a batch size of 0 or >= N means full-batch gradient descent.
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


def step_noise(history):
    """Standard deviation of the per-step training loss over the last epoch.

    The spread of the losses of one epoch's mini-batches is the noise SGD's batch size
    controls; with one step per epoch (full batch) there is none, so this is 0.
    """
    per_epoch = max(1, len(history.step_loss) // max(1, history.n_epochs))
    if per_epoch <= 1:
        return 0.0
    return float(np.std(history.step_loss[-per_epoch:]))


@dataclass
class BatchSizeRow:
    """One line of the batch-size comparison."""

    label: str
    steps: int
    final_loss: float  # the last epoch's mean training loss
    noise: float  # step_noise of the run
    seconds: float


def batch_size_summary(runs):
    """A :class:`BatchSizeRow` per run of :func:`batch_size_experiment`, in its order."""
    return [
        BatchSizeRow(label, len(h.step_loss), float(h.train_loss[-1]), step_noise(h), seconds)
        for label, (h, seconds) in runs.items()
    ]
