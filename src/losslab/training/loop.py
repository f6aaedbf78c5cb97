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
from typing import TYPE_CHECKING, Any, Protocol

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
    """The training loss stopped being finite: the learning rate is too high for this problem.

    Also raised when the loss stays finite but explodes (:func:`check_growth`), and
    by the full-batch solvers. A ``ValueError``, so ``except ValueError`` catches it;
    :func:`run_epochs` restores the weights of the last finished epoch first.

    Examples
    --------
    >>> import losslab
    >>> rng = np.random.default_rng(0)
    >>> X, y = 1e3 * rng.normal(size=(8, 2)), np.arange(8) % 2
    >>> model = losslab.models.Linear(2, 2, random_state=0)
    >>> losslab.fit(model, "softmax", X, y, lr=1e4, batch_size=4, random_state=0)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    losslab.training.loop.Diverged: lr: training diverged in epoch 1 (the training loss grew to ...
    >>> bool(np.isfinite(model.params["W"]).all())  # the weights it started from, restored
    True
    """


# an epoch whose mean training loss is over this many times the loss the run started from
# has diverged, finite or not: healthy training, however noisy, stays within a few times it
EXPLOSION = 1e3


@dataclass
class StepTotals:
    """What the steps of one epoch add up to.

    Attributes
    ----------
    loss : float
        Σ batch loss × batch rows, so that :attr:`mean_loss` weighs every row once.
    rows : int
        Rows seen.
    correct : int
        Rows classified right (when counted).
    lr : float
        The learning rate of the last step.

    Examples
    --------
    >>> StepTotals(loss=0.9 * 64 + 0.5 * 36, rows=100).mean_loss
    0.756
    """

    loss: float = 0.0  # Σ batch loss × batch rows
    rows: int = 0
    correct: int = 0
    lr: float = 0.0

    @property
    def mean_loss(self) -> float:
        """The mean loss per row, ``loss / rows`` (0 before any row)."""
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
    fused: FusedSteps | None = None,
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
    gradient norm, is not finite. A ``fused`` implementation of the same steps
    (fit's linear case, :mod:`losslab.training.fused`) takes them all in one call
    instead of the loop below, when there is no clipping; the bookkeeping stays here.

    Parameters
    ----------
    value_and_grads : callable
        ``value_and_grads(X, target, weights) -> (loss, grads, scores)``, with
        ``grads`` a dict of arrays of the shapes of ``params``
        (:meth:`~losslab.training.objective.Objective.value_and_grads`).
    params : dict of str to ndarray
        The model's parameters, updated in place.
    state : TrainState
        Its optimizer and optimizer state do the updates; ``state.step`` counts
        them and ``state.epoch`` is where the schedule starts.
    batches : iterable of (X, target, weights)
        X of shape (B, D), target of shape (B,) or (B, C), weights of shape (B,) or None.
    lr_at : callable
        ``lr_at(epoch) -> float``, the learning rate at a fractional epoch.
    steps_per_epoch : int, optional
        With it, step k of the epoch is at epoch ``state.epoch + k / steps_per_epoch``.
    step_loss : list of float, optional
        Each batch's loss is appended to it.
    count_correct : callable, optional
        ``count_correct(scores, target) -> int``, for accuracy.
    clip_grad_norm : float, optional
        The largest global gradient norm; larger gradients are scaled down to it.
    fused : FusedSteps, optional
        The steps of all of ``batches`` in one call (then ``batches`` is not read).

    Returns
    -------
    StepTotals
        The row-weighted loss, rows, correct rows and last learning rate.

    Raises
    ------
    Diverged
        A non-finite batch loss or gradient norm; that step is not applied.

    Examples
    --------
    >>> from losslab import models, optim
    >>> from losslab.training.objective import Objective
    >>> from losslab.training.state import TrainState
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(8, 2)), np.arange(8) % 2
    >>> model = models.Linear(2, 2, random_state=0)
    >>> objective = Objective(model, "softmax")
    >>> state = TrainState(optim.SGD(), {}, np.random.default_rng(0))
    >>> losses = []
    >>> totals = take_steps(objective.value_and_grads, model.params, state,
    ...                     [(X[:4], y[:4], None), (X[4:], y[4:], None)],
    ...                     lambda epoch: 0.5, step_loss=losses)
    >>> state.step, totals.rows, round(losses[0], 4)  # ln 2 at tiny initial weights
    (2, 8, 0.6933)
    >>> bool(np.isclose(totals.mean_loss, np.mean(losses)))  # equal batches: the plain mean
    True
    """
    if fused is not None and clip_grad_norm is None:
        return _take_fused(fused, state, lr_at, steps_per_epoch, step_loss, count_correct)
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


class FusedSteps(Protocol):
    """The steps of an epoch's batches in one call: what :func:`take_steps` does for each.

    The call takes step k at learning rate ``lrs[k]``, writes its loss to
    ``values[k]`` and its correct rows to ``hits[k]``, updates the parameters
    and the optimizer's state, and returns the steps taken: fewer than
    ``len(rows)`` when a loss is not finite (that loss is in ``values``; its
    step is not taken). :class:`losslab.training.fused.LinearSteps` is one.

    Attributes
    ----------
    rows : np.ndarray of shape (steps,)
        Each batch's number of rows.

    Examples
    --------
    >>> from losslab.training.state import TrainState
    >>> class HalfSteps:  # two batches of 3 rows; the loss halves at each step
    ...     rows = np.array([3, 3])
    ...     def __call__(self, lrs, values, hits):
    ...         values[:] = [1.0, 0.5]
    ...         return 2
    >>> state = TrainState(None, {}, np.random.default_rng(0))
    >>> totals = take_steps(None, {}, state, [], lambda epoch: 0.1, fused=HalfSteps())
    >>> state.step, totals.rows, totals.mean_loss
    (2, 6, 0.75)
    """

    rows: np.ndarray

    def __call__(self, lrs: np.ndarray, values: np.ndarray, hits: np.ndarray) -> int: ...


def _take_fused(fused, state, lr_at, steps_per_epoch, step_loss, count_correct):
    """take_steps by ``fused``: the same learning rates, counts, records and errors."""
    epochs = [
        state.epoch + k / steps_per_epoch if steps_per_epoch else state.epoch
        for k in range(len(fused.rows))
    ]
    lrs = np.array([lr_at(epoch) for epoch in epochs], dtype=np.float64)
    values, hits = np.empty(len(lrs)), np.zeros(len(lrs), dtype=np.intp)
    done = fused(lrs, values, hits)
    state.step += done
    taken = values[:done].tolist()
    if step_loss is not None:
        step_loss.extend(taken)
    if done < len(lrs):
        raise not_finite(float(values[done]), state.step + 1)
    totals = StepTotals(correct=int(hits.sum()) if count_correct is not None else 0)
    totals.lr = float(lrs[-1]) if len(lrs) else 0.0
    for value, rows in zip(taken, fused.rows.tolist(), strict=True):  # the loop's order of sums
        totals.loss += value * rows
        totals.rows += rows
    return totals


def not_finite(value: float, step: int) -> Diverged:
    """The error of a step whose training loss ``value`` is not finite (NaN or ±inf).

    Parameters
    ----------
    value : float
        The batch's loss.
    step : int
        The step's number, counted from 1 over the run.

    Returns
    -------
    Diverged
        To raise; every implementation of the steps raises the same message.

    Examples
    --------
    >>> not_finite(float("nan"), 12)
    Diverged('the training loss became nan at step 12')
    """
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

    Parameters
    ----------
    run_epoch : callable
        ``run_epoch() -> logs``: trains one epoch, typically by :func:`take_steps`.
    state : TrainState
        ``state.epoch`` is where the run is; training stops when it reaches ``epochs``.
    history : History
        Each epoch is recorded in it (see :func:`record`).
    model : Model
        The model trained (restored after a divergence; passed to the callbacks).
    epochs : int
        The epoch to end at, counted from the start of the first run.
    checkpoint : str or os.PathLike, optional
        Written after every epoch (:func:`~losslab.training.files.save_checkpoint`).
    callbacks : sequence of callable
        ``cb(epoch, logs, model)`` after every epoch; a true result stops.
    stopping : EarlyStopping, optional
        Asked after every epoch; its best weights are restored at the end.
    progress : bool, default False
        Show a progress bar.
    schedule : callable, optional
        The learning-rate schedule, told each epoch's monitored loss when it has ``observe``.

    Returns
    -------
    History
        ``history``, with ``state`` set and ``converged`` or ``stopped_by_callback``
        saying why it stopped early.

    Raises
    ------
    Diverged
        An epoch's loss stopped being finite or exploded.

    Examples
    --------
    >>> from losslab import models, optim
    >>> from losslab.training.objective import Objective
    >>> from losslab.training.state import History, TrainState
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(8, 2)), (np.arange(8) % 2)
    >>> X[:, 0] += 2 * y  # separable along the first feature
    >>> model = models.Linear(2, 2, random_state=0)
    >>> objective = Objective(model, "softmax")
    >>> state = TrainState(optim.SGD(), {}, np.random.default_rng(0))
    >>> def run_epoch():  # one full-batch step per epoch
    ...     totals = take_steps(objective.value_and_grads, model.params, state,
    ...                         [(X, y, None)], lambda epoch: 0.5)
    ...     state.epoch += 1
    ...     return {"epoch": state.epoch, "train_loss": totals.mean_loss, "lr": totals.lr}
    >>> history = run_epochs(run_epoch, state, History(), model, epochs=5)
    >>> history.epoch, history.train_loss[-1] < history.train_loss[0], history.state is state
    ([1, 2, 3, 4, 5], True, True)
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

    Parameters
    ----------
    loss : float
        The epoch's mean training loss.
    history : History
        The run so far (its first step or epoch loss is the start).

    Raises
    ------
    Diverged
        ``loss`` is over ``EXPLOSION`` times the start.

    Examples
    --------
    >>> from losslab.training.state import History
    >>> history = History(step_loss=[1.1, 0.9])
    >>> check_growth(40.0, history)  # noisy, not exploded: nothing happens
    >>> check_growth(7.7e5, history)
    Traceback (most recent call last):
    ...
    losslab.training.loop.Diverged: the training loss grew to 7.7e+05, over 1000 times the 1.1 it started from
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
    """Append one epoch's logs to ``history`` (None where the epoch did not measure a column).

    Parameters
    ----------
    history : History
        Its per-epoch lists get one entry each.
    logs : dict
        ``epoch`` and ``train_loss`` (required); ``train_accuracy``, ``val_loss``,
        ``val_accuracy``, ``lr`` and ``seconds`` when measured.

    Examples
    --------
    >>> from losslab.training.state import History
    >>> history = History()
    >>> record(history, {"epoch": 1, "train_loss": 0.7, "lr": 0.1})
    >>> history.train_loss, history.val_loss, history.lr, history.seconds
    ([0.7], [None], [0.1], [None])
    """
    history.epoch.append(logs["epoch"])
    history.train_loss.append(logs["train_loss"])
    history.train_accuracy.append(logs.get("train_accuracy"))
    history.val_loss.append(logs.get("val_loss"))
    history.val_accuracy.append(logs.get("val_accuracy"))
    history.lr.append(logs.get("lr"))
    history.seconds.append(logs.get("seconds"))


def monitored_loss(val_loss: float | None, train_loss: float) -> float:
    """The loss a schedule follows: the validation loss where there is one, else the training loss.

    Parameters
    ----------
    val_loss : float or None
        The epoch's validation loss, or None without a validation set.
    train_loss : float
        The epoch's mean training loss.

    Returns
    -------
    float
        ``val_loss`` unless it is None, else ``train_loss``.

    Examples
    --------
    >>> monitored_loss(0.42, 0.30), monitored_loss(None, 0.30)
    (0.42, 0.3)
    """
    return val_loss if val_loss is not None else train_loss


def replay(schedule: Any, history: History) -> None:
    """Put a loss-following ``schedule`` where the epochs of ``history`` left it.

    Resets it, then tells it each recorded epoch's monitored loss, so a resumed or
    continued run's learning rate is the one it would have had without stopping.

    Parameters
    ----------
    schedule : object with ``reset()`` and ``observe(loss)``
        Such as :func:`losslab.optim.plateau`'s.
    history : History
        The epochs already run.

    Examples
    --------
    >>> from losslab import optim
    >>> from losslab.training.state import History
    >>> schedule = optim.plateau(0.1, patience=1)
    >>> replay(schedule, History(train_loss=[1.0, 0.5, 0.5, 0.5], val_loss=[None] * 4))
    >>> round(schedule(4), 6)  # two epochs without improvement: one reduction
    0.01
    """
    schedule.reset()
    for val_loss, train_loss in zip(history.val_loss, history.train_loss, strict=True):
        schedule.observe(monitored_loss(val_loss, train_loss))


def _copy(params):
    return {k: p.copy() for k, p in params.items()}
