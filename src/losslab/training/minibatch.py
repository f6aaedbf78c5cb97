"""``losslab.fit``: mini-batch gradient descent on data loss + weight penalty, through the one loop.

``batch_size >= N`` is full-batch gradient descent. Everything random comes
from ``random_state``, so the same seed gives bit-identical weights, and a
checkpoint (written atomically after every epoch) resumes to the same result.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import losses, optim
from ..losses import validation as v
from ..models import Model
from ..optim.first_order import check_max_norm
from . import loop
from .batches import gathered
from .checks import NEEDS_PROBABILITIES, check_X, sample_weights, split_validation
from .files import StrPath, load_checkpoint
from .objective import Objective, encode_targets, evaluate, n_correct
from .state import History, TrainState
from .stopping import EarlyStopping


def fit(
    model: Model,
    loss: str | Callable[..., Any],
    X: ArrayLike,
    y: ArrayLike,
    *,
    optimizer: Any = "sgd",
    lr: float = 1e-2,
    schedule: str | Callable[[float], float] = "constant",
    batch_size: int = 64,
    epochs: int = 10,
    reg: float = 0.0,
    penalty: str = "l2",
    l1_ratio: float = 0.5,
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    validation_fraction: float = 0.0,
    early_stopping: bool = False,
    patience: int = 5,
    tol: float | None = None,
    random_state: int | None = None,
    callbacks: Sequence[loop.Callback] = (),
    progress: bool = False,
    checkpoint: StrPath | None = None,
    resume: bool = False,
    state: TrainState | None = None,
    history: History | None = None,
    clip_grad_norm: float | None = None,
) -> History:
    """Train ``model`` on (X, y) by mini-batch gradient descent; returns a :class:`History`.

    Parameters
    ----------
    model : models.Linear or models.MLP
        Updated in place.
    loss : str, losses.Loss or callable
        Any registry name ("softmax", "svm", "focal", "hinge", "mse", ...), or your
        own function ``f(output, target) -> (value, grad)`` (see ``losses.register``);
        a function's task is inferred: integer ``y`` is "multiclass" for a model of
        several outputs and "binary" for one, float ``y`` is "regression".
    X : array (N, D); its dtype (float32 or float64) is kept.
    y : int labels 0..C-1 for classification, values for regression.
    optimizer : name or optimizer object ("sgd", "momentum", "nesterov", "adagrad", "rmsprop",
        "adam", "adamw").
    lr : base learning rate; ``schedule`` ("constant", "step", "exponential",
        "cosine", "invscaling", "warmup_cosine", "onecycle", "plateau", or a
        callable of the fractional epoch) shapes it. "plateau" follows the
        validation loss when there is a validation set, else the epoch's training loss.
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
    clip_grad_norm : None or a positive number: before each step, scale the
        gradients so that their global norm is at most this (torch's ``clip_grad_norm_``).

    A loss that stops being finite stops training with a ValueError, the
    weights of the last finished epoch restored.
    """
    # a new name: mypy keeps the parameter's type (str or callable) for ``loss``
    trainee: losses.Loss = _trainable(loss).for_task(inferred_task(model, y))
    clip_grad_norm = check_max_norm(clip_grad_norm)
    if early_stopping and validation is None and not validation_fraction:
        validation_fraction = 0.1  # early stopping monitors held-out data
    split_seed, shuffle_seed = np.random.SeedSequence(random_state).spawn(2)
    checked = _training_data(model, trainee, X, y, sample_weight, class_weight)
    *data, val = split_validation(
        *checked, validation, validation_fraction, split_seed, trainee, model
    )
    if early_stopping and tol is None:
        tol = 1e-4
    objective = Objective(model, trainee, reg=reg, penalty=penalty, l1_ratio=l1_ratio)
    if state is None:
        opt = optim.get(optimizer)
        state = TrainState(opt, opt.init(model.params), np.random.default_rng(shuffle_seed))
    history = history if history is not None else History()
    if resume and checkpoint is not None:
        state, history = load_checkpoint(checkpoint, model, state)
    batch_size = max(1, min(int(batch_size), data[0].shape[0]))
    steps_per_epoch = -(-data[0].shape[0] // batch_size)
    lr_at = optim.schedule(schedule, lr, epochs=epochs, steps_per_epoch=steps_per_epoch)
    epoch = _Epoch(objective, state, history, data, val, batch_size, lr_at, clip_grad_norm)
    stopping = None
    if tol is not None:
        monitor = "train_loss" if val is None else "val_loss"
        keep_best = early_stopping and val is not None
        stopping = EarlyStopping(tol, patience, monitor=monitor, keep_best=keep_best)
    return loop.run_epochs(
        epoch,
        state,
        history,
        model,
        epochs,
        checkpoint=checkpoint,
        callbacks=callbacks,
        stopping=stopping,
        progress=progress,
        schedule=lr_at,
    )


def _trainable(loss: str | Callable[..., Any]) -> losses.Loss:
    loss = losses.get(loss)
    if loss.name in NEEDS_PROBABILITIES:
        raise ValueError(
            f"loss: {loss.name} takes probabilities, not scores; train with its logit form "
            "(softmax_cross_entropy or sigmoid_binary_cross_entropy)"
        )
    extra = _extra_inputs(loss.fn)
    if extra:
        raise ValueError(
            f"loss: {loss.name} takes {', '.join(extra)} beside the output and the target; "
            "fit trains losses of (output, target) only"
        )
    return loss


def _extra_inputs(fn):
    """The required positional inputs of ``fn`` after (output, target), e.g. gaussian_nll's var."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: let the call tell
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p.name for p in parameters if p.kind in positional and p.default is p.empty]
    return required[2:]


def inferred_task(model: Model, y: ArrayLike) -> str:
    """The task of a plain-function loss trained on ``y``: labels for classes, else values."""
    if np.asarray(y).dtype.kind in "iub":
        return "multiclass" if model.n_outputs > 1 else "binary"
    return "regression"


def _training_data(
    model: Model,
    loss: losses.Loss,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: ArrayLike | None,
    class_weight: ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(X, target, weights), checked once so the mini-batches need no check."""
    X = check_X(X, model)
    n = X.shape[0]  # len() is not defined for a sparse X
    target = encode_targets(loss, y, model.n_outputs)
    if len(target) != n:
        raise ValueError(f"y: expected {n} targets (one per row of X), got {len(target)} instead")
    if loss.task == "multiclass":
        v.as_labels(target, n, model.n_outputs)
    return X, target, sample_weights(sample_weight, class_weight, target, loss, n)


@dataclass
class _Epoch:
    """One pass over the shuffled training set, then the validation set: ``fit``'s epoch."""

    objective: Objective
    state: TrainState
    history: History
    data: list  # [X, target, weights or None]
    val: tuple | None  # (X, target[, weights]) or None
    batch_size: int  # between 1 and the rows of X
    lr_at: object
    clip_grad_norm: float | None = None

    def __call__(self):
        X, target, weights = self.data
        batch_size = self.batch_size
        order = self.state.shuffle_rng.permutation(X.shape[0])
        batches = (batch[1:] for batch in gathered(X, target, weights, order, batch_size))
        loss = self.objective.loss
        counter = None if loss.task == "regression" else lambda s, t: n_correct(loss, s, t)
        # an overflow is not worth a warning: the loop stops on the non-finite loss it leaves
        with np.errstate(over="ignore", invalid="ignore"):
            totals = loop.take_steps(
                self._batch_value_and_grads,
                self.objective.model.params,
                self.state,
                batches,
                self.lr_at,
                steps_per_epoch=-(-X.shape[0] // batch_size),
                step_loss=self.history.step_loss,
                count_correct=counter,
                clip_grad_norm=self.clip_grad_norm,
            )
        if not all(np.isfinite(p).all() for p in self.objective.model.params.values()):
            # the last step can overflow the weights with no loss left in the epoch to show it
            raise loop.Diverged(f"the weights stopped being finite at step {self.state.step}")
        self.state.epoch += 1
        logs = {"epoch": self.state.epoch, "train_loss": totals.mean_loss, "lr": totals.lr}
        if counter is not None:
            logs["train_accuracy"] = totals.correct / totals.rows
        if self.val is not None:
            logs.update(evaluate(self.objective, *self.val))
        return logs

    def _batch_value_and_grads(self, X, target, weights):
        if weights is None:  # the fused per-batch kernel, on targets fit has checked
            return self.objective.batch_value_and_grads(X, target)
        return self.objective.value_and_grads(X, target, weights)
