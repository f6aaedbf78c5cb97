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
from dataclasses import dataclass, field

import numpy as np

from . import config, losses, optim, regularizers
from .losses import _validate as v
from .losses._batch import fused_mean
from .persist import load_checkpoint, save_checkpoint

# losses on probabilities need an output layer a linear score model does not have
_NEEDS_PROBABILITIES = {"binary_cross_entropy", "categorical_cross_entropy"}


@dataclass
class History:
    """What happened during training: the noisy per-step curve and per-epoch summaries."""

    step_loss: list = field(default_factory=list)  # total loss of each mini-batch
    epoch: list = field(default_factory=list)  # 1, 2, ...
    train_loss: list = field(default_factory=list)  # mean batch loss over the epoch
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    converged: bool = False  # stopped because the monitored loss stopped improving by tol
    stopped_by_callback: bool = False
    best_epoch: int = 0
    state: object = field(default=None, repr=False, compare=False)  # TrainState, to continue

    @property
    def n_epochs(self):
        return len(self.epoch)

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "state"}


@dataclass
class TrainState:
    """Everything needed to continue training exactly where it stopped."""

    optimizer: object
    opt_state: dict
    shuffle_rng: np.random.Generator
    epoch: int = 0
    step: int = 0


class Objective:
    """The function fit minimises on a batch: mean data loss plus the weight penalty.

    ``value_and_grads(X, target, sample_weight)`` returns the total loss, the
    gradients of every parameter and the batch scores (for accuracy). It is also
    what ``check_gradient`` checks for a whole model.
    """

    def __init__(self, model, loss, *, reg=0.0, penalty="l2", l1_ratio=0.5):
        self.model = model
        self.loss = losses.get(loss)
        self.reg = v.check_scalar(reg, "strength", low=0)
        if penalty not in regularizers.UNCHECKED:
            raise ValueError(
                f"penalty: expected one of {', '.join(regularizers.PENALTIES)}, got {penalty!r} instead"
            )
        self.penalty = penalty
        self.l1_ratio = v.check_scalar(l1_ratio, "l1_ratio", 0, 1)
        self._fused_loss = fused_mean(self.loss)

    def penalty_value_and_grads(self):
        if self.reg == 0:
            return 0.0, {}
        penalty = regularizers.UNCHECKED[self.penalty]
        extra = (self.l1_ratio,) if self.penalty in ("elasticnet", "elastic_net") else ()
        total, grads = 0.0, {}
        for name in self.model.weight_names:
            r = penalty(self.model.params[name], self.reg, *extra)
            total += r.value
            grads[name] = r.grad
        return total, grads

    def value_and_grads(self, X, target, sample_weight=None):
        return self._value_and_grads(X, target, self.loss, sample_weight=sample_weight)

    def batch_value_and_grads(self, X, target):
        """:meth:`value_and_grads` of an unweighted mini-batch whose targets ``fit`` has checked.

        Calls the loss's fused kernel directly when it has one (see losses.fused_mean).
        """
        return self._value_and_grads(X, target, self._fused_loss or self.loss)

    def _value_and_grads(self, X, target, loss, **loss_options):
        scores, cache = self.model.forward(X)
        out = scores[:, 0] if target.ndim == 1 and self.loss.task != "multiclass" else scores
        data = loss(out, target, **loss_options)
        dscores = data.grad.reshape(scores.shape)
        grads, _ = self.model.backward(cache, dscores, input_grad=False)
        return data.value + self._add_penalty(grads), grads, scores

    def _add_penalty(self, grads):
        """Add the penalty's gradient into ``grads`` (in place); return the penalty's value."""
        if self.reg == 0:
            return 0.0
        kernels = config.fast_train_kernels()
        params = self.model.params
        names = self.model.weight_names
        if (
            kernels
            and self.penalty == "l2"
            and all(optim.flat_views(params[k], grads[k]) for k in names)
        ):
            total = 0.0
            for k in names:  # one pass each instead of five NumPy calls
                W, g = params[k].reshape(-1), grads[k].reshape(-1)
                total += kernels.add_l2(W, self.reg, W.dtype.type(2 * self.reg), g)
            return total
        penalty, penalty_grads = self.penalty_value_and_grads()
        for name, g in penalty_grads.items():
            grads[name] += g
        return penalty


def n_outputs(loss, n_classes):
    """Score columns a classification loss needs: one per class, or one for a binary loss on two classes."""
    loss = losses.get(loss)
    if loss.task == "multiclass":
        return n_classes
    if loss.task == "binary":
        return 1 if n_classes == 2 else n_classes  # one score, or one-vs-rest
    raise ValueError(f"loss: {loss.name} is a {loss.task} loss, not a classification loss")


def build_classifier(kind, n_features, loss, n_classes, *, hidden=(100,), random_state=None):
    """A ``"linear"`` or ``"mlp"`` model with the score columns ``loss`` needs for ``n_classes``."""
    from . import models

    return models.build(
        kind, n_features, n_outputs(loss, n_classes), hidden=hidden, random_state=random_state
    )


def encode_targets(loss, y, n_outputs):
    """The target array the loss expects, from labels 0..C-1 (or regression values).

    multiclass losses take the labels; binary losses take 0/1 for one output or
    a one-vs-rest 0/1 matrix for several (hinge-type losses read 0 as -1);
    regression losses take the values.
    """
    if loss.task == "multiclass":
        return np.asarray(y, dtype=np.intp)
    if loss.task == "binary":
        y = np.asarray(y, dtype=np.intp)
        if n_outputs == 1:
            return y.astype(np.float64)
        return (y[:, None] == np.arange(n_outputs)).astype(np.float64)
    if loss.task == "regression":
        return np.asarray(y, dtype=np.float64)
    raise ValueError(
        f"loss: {loss.name} is a {loss.task} loss; fit trains classifiers and regressors "
        "(multiclass, binary and regression losses)"
    )


def predict_labels(loss, scores):
    """Class predictions from scores: argmax, or the sign of a single binary score."""
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(-1) > 0).astype(np.intp)


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
    if loss.name in _NEEDS_PROBABILITIES:
        raise ValueError(
            f"loss: {loss.name} takes probabilities, not scores; train with its logit form "
            "(softmax_cross_entropy or sigmoid_binary_cross_entropy)"
        )
    X = _check_X(X, model)
    n = len(X)
    target = encode_targets(loss, y, model.n_outputs)
    if len(target) != n:
        raise ValueError(f"y: expected {n} targets (one per row of X), got {len(target)} instead")
    if loss.task == "multiclass":  # once here, so the mini-batches need no check
        v.as_labels(target, n, model.n_outputs)
    weights = _sample_weights(sample_weight, class_weight, target, loss, n)
    if early_stopping and validation is None and not validation_fraction:
        validation_fraction = 0.1  # early stopping monitors held-out data
    seeds = np.random.SeedSequence(random_state)
    split_seed, shuffle_seed = seeds.spawn(2)
    X, target, weights, val = _split_validation(
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
    with _progress_bar(progress, epochs, state.epoch) as bar:
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
        batches = _gathered(X, target, self.weights, order, self.batch_size)
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
            correct += _n_correct(self.objective.loss, scores, y_batch)
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


def _gathered(X, target, weights, order, batch_size):
    """(idx, X[idx], target[idx], weights[idx] or None) for each mini-batch of ``order``.

    With the fast kernels, X[idx] is gathered into one reused buffer (each batch
    is finished with before the next is asked for). Gathering the next batch in
    a background thread was tried: it overlapped well alone but made fit 10-20 %
    slower, competing with BLAS for the cores.
    """
    kernels = config.fast_train_kernels()
    buffer = None
    if kernels and X.flags.c_contiguous and X.dtype.kind == "f":
        buffer = np.empty((min(batch_size, len(X)), X.shape[1]), dtype=X.dtype)
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        if buffer is None:
            X_batch = X[idx]
        else:
            X_batch = buffer[: len(idx)]
            kernels.gather_rows(X, idx, X_batch)
        yield idx, X_batch, target[idx], None if weights is None else weights[idx]


def evaluate(objective, X, target, sample_weight=None):
    """Loss (data + penalty) and accuracy of the current model on a held-out set."""
    scores = objective.model(X)
    out = scores[:, 0] if target.ndim == 1 and objective.loss.task != "multiclass" else scores
    value = objective.loss(out, target, sample_weight=sample_weight).value
    value += objective.penalty_value_and_grads()[0]
    result = {"val_loss": float(value)}
    if objective.loss.task != "regression":
        result["val_accuracy"] = _n_correct(objective.loss, scores, target) / len(X)
    return result


def _n_correct(loss, scores, target):
    if loss.task == "regression":
        return 0
    labels = target if target.ndim == 1 and loss.task == "multiclass" else _labels_of(target)
    kernels = config.fast_train_kernels()
    if kernels and scores.ndim == 2 and scores.shape[1] > 1 and scores.dtype.kind == "f":
        return kernels.n_correct(scores, labels)
    return int(np.count_nonzero(predict_labels(loss, scores) == labels))


def _labels_of(target):
    return target.argmax(axis=1) if target.ndim == 2 else (target > 0.5).astype(np.intp)


def _check_X(X, model):
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X: expected a numeric array, got dtype {X.dtype} instead")
    if X.ndim != 2 or X.shape[1] != model.n_features:
        raise ValueError(
            f"X: expected shape (N, {model.n_features}) for this model, got shape {X.shape} instead"
        )
    if len(X) == 0:
        raise ValueError("X: expected at least one sample, got 0")
    if not all_finite(X):
        raise ValueError("X: expected finite values, got NaN or infinity")
    dtype = model.params[next(iter(model.params))].dtype
    return X.astype(dtype, copy=False)


def all_finite(X, block=65536):
    """True when X has no NaN or infinity, without an X-sized temporary.

    The sum is finite exactly when every entry is, unless finite values
    overflow it; only then are the rows checked block by block. It is taken in
    X's own dtype: a float64 sum of float32 data converts every element and
    took 3x as long (12 ms instead of 4 on 80,000 x 256).
    """
    with np.errstate(
        over="ignore", invalid="ignore"
    ):  # an overflowing sum is the case handled below
        total = np.sum(X)
    if np.isfinite(total):
        return True
    return all(np.isfinite(X[i : i + block]).all() for i in range(0, len(X), block))


def _sample_weights(sample_weight, class_weight, target, loss, n):
    """Per-sample weights combining sample_weight and class_weight[y], or None."""
    w = None if sample_weight is None else v.as_sample_weight(sample_weight, n, np.float64)
    if class_weight is not None:
        if loss.task == "regression":
            raise ValueError("class_weight: applies to classification losses only")
        labels = target if target.ndim == 1 and loss.task == "multiclass" else _labels_of(target)
        cw = np.asarray(class_weight, dtype=np.float64)
        w = cw[labels] if w is None else w * cw[labels]
    return w


def _split_validation(X, target, weights, validation, fraction, seed, loss, model):
    if validation is not None:
        X_val, y_val = validation
        X_val = _check_X(X_val, model)
        return X, target, weights, (X_val, encode_targets(loss, y_val, model.n_outputs))
    if not fraction:
        return X, target, weights, None
    fraction = v.check_scalar(fraction, "validation_fraction", 0, 1)
    n_val = round(fraction * len(X))
    if n_val < 1 or n_val >= len(X):
        raise ValueError(
            f"validation_fraction: {fraction} of {len(X)} samples leaves no training or no validation data"
        )
    order = np.random.default_rng(seed).permutation(len(X))
    val_idx, train_idx = order[:n_val], order[n_val:]
    val_w = None if weights is None else weights[val_idx]
    train_w = None if weights is None else weights[train_idx]
    return X[train_idx], target[train_idx], train_w, (X[val_idx], target[val_idx], val_w)


class _progress_bar:
    """A rich progress bar over epochs showing loss and validation accuracy, or nothing."""

    def __init__(self, enabled, epochs, done):
        self.enabled, self.epochs, self.done = enabled, epochs, done

    def __enter__(self):
        if not self.enabled:
            return lambda logs: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
            transient=False,
        )
        self.progress.__enter__()
        self.task = self.progress.add_task(
            "train", total=self.epochs, completed=self.done, status=""
        )

        def update(logs):
            status = f"loss {logs['train_loss']:.4f}"
            if logs.get("val_accuracy") is not None:
                status += f"  val acc {logs['val_accuracy']:.3f}"
            self.progress.update(self.task, advance=1, status=status)

        return update

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.__exit__(*exc)
        return False


FULL_BATCH_METHODS = ("lbfgs", "gd")


def fit_full_batch(
    model,
    loss,
    X,
    y,
    *,
    method="lbfgs",
    reg=0.0,
    penalty="l2",
    l1_ratio=0.5,
    sample_weight=None,
    class_weight=None,
    max_iter=500,
    tol=1e-8,
    callback=None,
):
    """Minimise the whole-data objective (mean loss + penalty); returns a History.

    The deterministic alternative to :func:`fit` for smooth losses on data that
    fits in memory: one step per iteration over all samples, no learning rate.
    ``method`` is "lbfgs" or "gd" (steepest descent with a line search).
    ``History.step_loss`` holds the objective after each iteration.
    """
    loss = losses.get(loss)
    X = _check_X(X, model)
    target = encode_targets(loss, y, model.n_outputs)
    weights = _sample_weights(sample_weight, class_weight, target, loss, len(X))
    objective = Objective(model, loss, reg=reg, penalty=penalty, l1_ratio=l1_ratio)

    def value_and_grads():
        value, grads, _ = objective.value_and_grads(X, target, weights)
        return value, grads

    return minimise_full_batch(
        model, value_and_grads, method=method, max_iter=max_iter, tol=tol, callback=callback
    )


def minimise_full_batch(
    model, value_and_grads, *, method="lbfgs", max_iter=500, tol=1e-8, callback=None
):
    """Minimise ``value_and_grads()`` (evaluated at the current ``model.params``) over the params.

    The one optimisation step shared by in-memory full-batch training and the
    distributed version, which sums the gradient from per-chunk gradients.
    ``callback(iteration, value, model)`` runs after each iteration with the
    model holding the new parameters; returning True stops. Returns a History.
    """
    from . import lsq

    if method not in FULL_BATCH_METHODS:
        raise ValueError(f"method: expected one of {FULL_BATCH_METHODS}, got {method!r}")
    names = list(model.params)
    sizes = np.cumsum([0] + [model.params[k].size for k in names])

    def unpack(theta):
        for k, a, b in zip(names, sizes[:-1], sizes[1:], strict=True):
            model.params[k][...] = theta[a:b].reshape(model.params[k].shape)

    def value_and_grad(theta):
        unpack(theta)
        value, grads = value_and_grads()
        return float(value), np.concatenate([np.ravel(grads[k]) for k in names]).astype(np.float64)

    def after_iteration(iteration, theta, value):
        unpack(theta)
        return callback(iteration, value, model)

    start = np.concatenate([model.params[k].ravel() for k in names]).astype(np.float64)
    minimiser = lsq.lbfgs if method == "lbfgs" else lsq.steepest_descent
    result = minimiser(
        value_and_grad,
        start,
        gtol=tol,
        max_iter=max_iter,
        callback=None if callback is None else after_iteration,
    )
    unpack(result.x)
    history = History(step_loss=[row["cost"] for row in result.history])
    history.train_loss = history.step_loss[1:]  # one row per step taken
    history.epoch = list(range(1, len(history.train_loss) + 1))
    history.converged = result.success
    history.stopped_by_callback = result.status == -2
    return history
