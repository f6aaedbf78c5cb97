"""The one training loop: mini-batch gradient descent on data loss + weight penalty.

Reads top to bottom as the algorithm of the seed notes:

    for each epoch:
        shuffle the training set (without replacement)
        for each mini-batch:
            scores = model(X_batch)                     # s = W x + b
            loss   = data_loss(scores, y) + R(W)        # R never touches biases
            grads  = backprop(d loss / d scores)
            optimizer.update(params, grads)             # θ ← θ - α ∇J(θ)
        record train/validation loss and accuracy; stop early if asked

``batch_size >= N`` is full-batch gradient descent. Everything random comes
from ``random_state``, so the same seed gives bit-identical weights, and a
checkpoint (written atomically after every epoch) resumes to the same result.
"""

from __future__ import annotations

import time

import numpy as np

from .. import losses, optim
from ..losses import _validate as v
from .batches import gathered
from .checks import NEEDS_PROBABILITIES, check_X, sample_weights, split_validation
from .files import load_checkpoint, save_checkpoint
from .objective import Objective, encode_targets, evaluate, n_correct
from .progress import progress_bar
from .state import History, TrainState


def fit(
    model,
    loss,
    X,
    y,
    *,
    optimizer="sgd",
    lr=1e-2,
    schedule="constant",
    batch_size=64,
    epochs=10,
    reg=0.0,
    penalty="l2",
    l1_ratio=0.5,
    sample_weight=None,
    class_weight=None,
    validation=None,
    validation_fraction=0.0,
    early_stopping=False,
    patience=5,
    tol=None,
    random_state=None,
    callbacks=(),
    progress=False,
    checkpoint=None,
    resume=False,
    state=None,
    history=None,
):
    """Train ``model`` on (X, y) by mini-batch gradient descent; returns a :class:`History`.

    Parameters
    ----------
    model : models.Linear or models.MLP
        Updated in place.
    loss : str or losses.Loss
        Any registry name ("softmax", "svm", "focal", "hinge", "mse", ...).
    X : array (N, D); its dtype (float32 or float64) is kept.
    y : int labels 0..C-1 for classification, values for regression.
    optimizer : name or optimizer object ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam").
    lr : base learning rate; ``schedule`` ("constant", "step", "exponential",
        "cosine", "invscaling" or a callable of the fractional epoch) shapes it.
    batch_size : samples per step; ``>= N`` gives full-batch gradient descent.
    epochs : passes over the data.
    reg, penalty, l1_ratio : weight penalty ``reg * R(W)``, R in "l2", "l1", "elasticnet".
    sample_weight : (N,) non-negative; class_weight : (C,) per-class weights.
    validation : (X_val, y_val), or ``validation_fraction`` of the data held out.
    tol : stop when the monitored loss (validation if any, else the epoch's
        training loss) has not improved by ``tol`` for ``patience`` epochs
        (scikit-learn's rule); ``History.converged`` is then True. None: run all epochs.
    early_stopping : monitor a validation set (``validation_fraction`` of the
        data, 0.1 unless given) and restore the weights of its best epoch.
    random_state : int or None; seeds the shuffling and the validation split.
    callbacks : callables ``cb(epoch, logs, model)``; returning True stops training.
    progress : show a rich progress bar.
    checkpoint : path of a checkpoint written atomically after every epoch;
        with ``resume=True`` training continues from it.
    state, history : continue a previous run (``History.state``), e.g. for partial_fit.
    """
    loss = losses.get(loss)
    if loss.name in NEEDS_PROBABILITIES:
        raise ValueError(
            f"loss: {loss.name} takes probabilities, not scores; train with its logit form "
            "(softmax_cross_entropy or sigmoid_binary_cross_entropy)"
        )
    X = check_X(X, model)
    n = len(X)
    target = encode_targets(loss, y, model.n_outputs)
    if len(target) != n:
        raise ValueError(f"y: expected {n} targets (one per row of X), got {len(target)} instead")
    if loss.task == "multiclass":  # once here, so the mini-batches need no check
        v.as_labels(target, n, model.n_outputs)
    weights = sample_weights(sample_weight, class_weight, target, loss, n)
    if early_stopping and validation is None and not validation_fraction:
        validation_fraction = 0.1  # early stopping monitors held-out data
    seeds = np.random.SeedSequence(random_state)
    split_seed, shuffle_seed = seeds.spawn(2)
    X, target, weights, val = split_validation(
        X, target, weights, validation, validation_fraction, split_seed, loss, model
    )
    if early_stopping and tol is None:
        tol = 1e-4
    objective = Objective(model, loss, reg=reg, penalty=penalty, l1_ratio=l1_ratio)
    if state is None:
        opt = optim.get(optimizer)
        state = TrainState(opt, opt.init(model.params), np.random.default_rng(shuffle_seed))
    history = history if history is not None else History()
    if resume and checkpoint is not None:
        state, history = load_checkpoint(checkpoint, model, state)
    lr_at = optim.schedule(schedule, lr, epochs=epochs)
    batch_size = max(1, min(int(batch_size), len(X)))
    loop = _Loop(objective, state, history, lr_at, batch_size, weights, val)
    with progress_bar(progress, epochs, state.epoch) as bar:
        while state.epoch < epochs:
            logs = loop.run_epoch(X, target)
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, state, history)
            bar(logs)
            if any(cb(state.epoch, logs, model) for cb in callbacks):
                history.stopped_by_callback = True
                break
            if tol is not None and loop.no_improvement(tol, patience):
                history.converged = True
                break
    if early_stopping and loop.best_params is not None and val is not None:
        for k, p in loop.best_params.items():
            model.params[k][...] = p
    history.state = state
    return history


class _Loop:
    """One epoch at a time, with the bookkeeping for early stopping."""

    def __init__(self, objective, state, history, lr_at, batch_size, weights, val):
        self.objective, self.state, self.history = objective, state, history
        self.lr_at, self.batch_size, self.weights, self.val = lr_at, batch_size, weights, val
        self.best = np.inf
        self.best_params = None
        self.stale = 0

    def run_epoch(self, X, target):
        state, h, model = self.state, self.history, self.objective.model
        started = time.perf_counter()
        order = state.shuffle_rng.permutation(len(X))
        total, correct, weight_seen = 0.0, 0, 0
        steps_per_epoch = -(-len(X) // self.batch_size)
        batches = gathered(X, target, self.weights, order, self.batch_size)
        for k, (idx, X_batch, y_batch, sw) in enumerate(batches):
            if sw is None:
                value, grads, scores = self.objective.batch_value_and_grads(X_batch, y_batch)
            else:
                value, grads, scores = self.objective.value_and_grads(X_batch, y_batch, sw)
            lr = self.lr_at(state.epoch + k / steps_per_epoch)
            state.optimizer.update(model.params, grads, state.opt_state, lr)
            state.step += 1
            h.step_loss.append(float(value))
            total += float(value) * len(idx)
            weight_seen += len(idx)
            correct += n_correct(self.objective.loss, scores, y_batch)
        state.epoch += 1
        logs = {"epoch": state.epoch, "train_loss": total / weight_seen, "lr": lr}
        if self.objective.loss.task != "regression":
            logs["train_accuracy"] = correct / weight_seen
        if self.val is not None:
            logs.update(evaluate(self.objective, *self.val))
        logs["seconds"] = time.perf_counter() - started
        self._record(logs)
        return logs

    def _record(self, logs):
        h = self.history
        h.epoch.append(logs["epoch"])
        h.train_loss.append(logs["train_loss"])
        h.train_accuracy.append(logs.get("train_accuracy"))
        h.val_loss.append(logs.get("val_loss"))
        h.val_accuracy.append(logs.get("val_accuracy"))
        h.lr.append(logs["lr"])
        h.seconds.append(logs["seconds"])

    def no_improvement(self, tol, patience):
        """Track the monitored loss; True once it has not improved by tol for `patience` epochs."""
        h = self.history
        current = h.val_loss[-1] if self.val is not None else h.train_loss[-1]
        if current < self.best - tol:
            self.stale = 0
            h.best_epoch = h.epoch[-1]
            if self.val is not None:
                self.best_params = {k: p.copy() for k, p in self.objective.model.params.items()}
        else:
            self.stale += 1
        self.best = min(self.best, current)
        return self.stale >= patience
