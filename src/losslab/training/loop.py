"""The one training loop: every model in losslab is trained by these two functions.

Reads top to bottom as the algorithm of the seed notes:

    for each epoch:                                     # run_epochs
        for each mini-batch:                            # take_steps
            scores = model(X_batch)                     # s = W x + b
            loss   = data_loss(scores, y) + R(W)        # R never touches biases
            grads  = backprop(d loss / d scores)
            clip grads to a global norm, if asked       # g ← g · max_norm / ‖g‖
            optimizer.update(params, grads)             # θ ← θ - α ∇J(θ)
        record the epoch; tell the schedule its loss; checkpoint; callbacks; stop early if asked

What differs between the trainers is an argument, not a copy of the loop:
``losslab.fit`` passes shuffled mini-batches and a validation set,
``MetricLearner`` passes P×K class-balanced batches and an embedding objective,
local SGD on Dask runs ``take_steps`` on each worker and one averaging round per
``run_epochs`` epoch, and the playground runs a fixed number of steps.
A loss that stops being finite is caught here, once for all of them, and so is
one that stays finite but explodes (see :func:`check_growth`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import optim
from .files import save_checkpoint
from .progress import progress_bar

if TYPE_CHECKING:
    from ..models import Model, Params
    from .files import StrPath
    from .state import History, TrainState
    from .stopping import EarlyStopping

# a batch: features, targets and per-row weights (None: all rows count once)
Batch = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]
Logs = dict[str, Any]
Callback = Callable[[int, Logs, "Model"], Any]  # a true result stops training


class Diverged(ValueError):
    """The training loss stopped being finite: the learning rate is too high for this problem."""


# an epoch whose mean training loss is over this many times the loss the run started from
# has diverged, finite or not: healthy training, however noisy, stays within a few times it
EXPLOSION = 1e3


@dataclass
class StepTotals:
    """What the steps of one epoch add up to."""

    loss: float = 0.0  # Σ batch loss × batch rows
    rows: int = 0
    correct: int = 0
    lr: float = 0.0

    @property
    def mean_loss(self) -> float:
        return self.loss / max(self.rows, 1)


def take_steps(
    value_and_grads: Callable[[np.ndarray, np.ndarray, np.ndarray | None], tuple[Any, Params, Any]],
    params: Params,
    state: TrainState,
    batches: Iterable[Batch],
    lr_at: Callable[[float], float],
    *,
    steps_per_epoch: int | None = None,
    step_loss: list[float] | None = None,
    count_correct: Callable[[Any, np.ndarray], int] | None = None,
    clip_grad_norm: float | None = None,
) -> StepTotals:
    """One optimizer step per batch: the only place where training updates parameters.

    ``value_and_grads(X, target, weights)`` gives (loss, grads of ``params``,
    scores) for a batch; ``batches`` yields ``(X, target, weights)``.
    ``lr_at`` maps the fractional epoch to the learning rate; with
    ``steps_per_epoch`` each step's fraction counts. Appends each batch's loss to
    ``step_loss``; ``count_correct(scores, target)`` counts accuracy. With
    ``clip_grad_norm`` the gradients are scaled to that global norm at most
    before the step (:func:`losslab.optim.clip_grad_norm`).
    Raises :class:`Diverged` before applying a step whose loss, or clipped
    gradient norm, is not finite.
    """
    optimizer, opt_state = state.optimizer, state.opt_state
    totals = StepTotals()
    for k, (X, target, weights) in enumerate(batches):
        value, grads, scores = value_and_grads(X, target, weights)
        value = float(value)
        if not math.isfinite(value):
            raise not_finite(value, state.step + 1)
        if clip_grad_norm is not None:
            norm = optim.clip_grad_norm(grads, clip_grad_norm)
            if not math.isfinite(norm):  # clipping would scale it to 0 or NaN and hide it
                raise Diverged(f"the gradient norm became {norm} at step {state.step + 1}")
        totals.lr = lr_at(state.epoch + k / steps_per_epoch if steps_per_epoch else state.epoch)
        optimizer.update(params, grads, opt_state, totals.lr)
        state.step += 1
        if step_loss is not None:
            step_loss.append(value)
        totals.loss += value * len(target)
        totals.rows += len(target)
        if count_correct is not None:
            totals.correct += count_correct(scores, target)
    return totals


def not_finite(value: float, step: int) -> Diverged:
    """The error of a step whose training loss ``value`` is not finite (NaN or ±inf)."""
    return Diverged(f"the training loss became {value} at step {step}")


def run_epochs(
    run_epoch: Callable[[], Logs],
    state: TrainState,
    history: History,
    model: Model,
    epochs: int,
    *,
    checkpoint: StrPath | None = None,
    callbacks: Sequence[Callback] = (),
    stopping: EarlyStopping | None = None,
    progress: bool = False,
    schedule: Any = None,
) -> History:
    """Call ``run_epoch()`` until ``state.epoch`` reaches ``epochs``; returns ``history``.

    ``run_epoch`` trains one epoch (advancing ``state.epoch``) and returns its
    logs (``epoch``, ``train_loss``, ``lr`` and whatever else it measured).
    A ``schedule`` that follows the loss (one with ``observe``, such as
    :func:`losslab.optim.plateau`) first replays the epochs already in
    ``history`` (a resumed or continued run), then is told each epoch's
    monitored loss: the validation loss where there is one, else the training loss.
    After each epoch: record it in ``history``, tell ``schedule``, write ``checkpoint`` atomically,
    update the progress bar, call each ``cb(epoch, logs, model)`` (True stops),
    and ask ``stopping`` (an :class:`~losslab.training.stopping.EarlyStopping`).
    A diverged epoch restores the weights of the last finished epoch and raises
    ValueError saying so, never leaving NaN weights behind.
    """
    observe = getattr(schedule, "observe", None)
    if observe is not None:
        replay(schedule, history)
    last_good = _copy(model.params)
    with progress_bar(progress, epochs, state.epoch) as bar:
        while state.epoch < epochs:
            logs = _epoch_or_restore(run_epoch, model, last_good, state, history)
            record(history, logs)
            if observe is not None:
                observe(monitored_loss(logs.get("val_loss"), logs["train_loss"]))
            last_good = _copy(model.params)
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, state, history)
            bar(logs)
            if any(cb(state.epoch, logs, model) for cb in callbacks):
                history.stopped_by_callback = True
                break
            if stopping is not None and stopping.should_stop(history, model):
                history.converged = True
                break
    if stopping is not None:
        stopping.restore_best(model)
    history.state = state
    return history


def _epoch_or_restore(run_epoch, model, last_good, state, history):
    started, epoch = time.perf_counter(), state.epoch + 1
    try:
        logs = run_epoch()
        check_growth(logs["train_loss"], history)
    except Diverged as exc:
        for k, p in last_good.items():
            model.params[k][...] = p
        raise Diverged(
            f"lr: training diverged in epoch {epoch} ({exc}); the weights of the "
            "last finished epoch were restored. Lower the learning rate, or standardise the "
            "features."
        ) from None
    logs.setdefault("seconds", time.perf_counter() - started)
    return logs


def check_growth(loss: float, history: History) -> None:
    """Raise :class:`Diverged` when an epoch's mean training ``loss`` has exploded.

    Exploded: over ``EXPLOSION`` (1000) times the loss the run started from,
    the first step's loss in ``history`` (the first epoch's mean when no step
    losses are kept). A step size far too large can grow the loss by orders of
    magnitude without ever overflowing it (softmax on iris with lr 1e4 goes from
    1.1 to 7.7e5); noisy but healthy training stays within a few times its start.
    A start that is zero or negative gives no scale, and nothing is checked.
    """
    start = history.step_loss[0] if history.step_loss else None
    if start is None and history.train_loss:
        start = history.train_loss[0]
    if start is not None and start > 0 and loss > EXPLOSION * start:
        raise Diverged(
            f"the training loss grew to {loss:.4g}, over {EXPLOSION:g} times the "
            f"{start:.4g} it started from"
        )


def record(history: History, logs: Logs) -> None:
    """Append one epoch's logs to ``history`` (None where the epoch did not measure a column)."""
    history.epoch.append(logs["epoch"])
    history.train_loss.append(logs["train_loss"])
    history.train_accuracy.append(logs.get("train_accuracy"))
    history.val_loss.append(logs.get("val_loss"))
    history.val_accuracy.append(logs.get("val_accuracy"))
    history.lr.append(logs.get("lr"))
    history.seconds.append(logs.get("seconds"))


def monitored_loss(val_loss: float | None, train_loss: float) -> float:
    """The loss a schedule follows: the validation loss where there is one, else the training loss."""
    return val_loss if val_loss is not None else train_loss


def replay(schedule: Any, history: History) -> None:
    """Put a loss-following ``schedule`` where the epochs of ``history`` left it."""
    schedule.reset()
    for val_loss, train_loss in zip(history.val_loss, history.train_loss, strict=True):
        schedule.observe(monitored_loss(val_loss, train_loss))


def _copy(params):
    return {k: p.copy() for k, p in params.items()}
