"""Local SGD with periodic model averaging: each worker steps on its own shards, the driver averages.

Both levels run through the one training loop: each worker's ``sync_every``
steps are :func:`~losslab.training.loop.take_steps`, and each averaging round
is one epoch of :func:`~losslab.training.loop.run_epochs` (history row,
checkpoint, callbacks, divergence check); early stopping looks at the mean
round loss once per pass over the data.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import optim
from ..training import loop
from ..training.files import load_checkpoint
from ..training.objective import Objective
from ..training.state import History, TrainState
from ..training.stopping import EarlyStopping

if TYPE_CHECKING:
    from ..models import Model, Params
    from ..training.files import StrPath
    from .dask_data import ShardedData


@dataclass
class LocalSGD:
    """Settings of local SGD: steps between averages, batch size, optimizer, learning rate.

    Attributes
    ----------
    sync_every : int, default 32
        Local steps each worker takes between two averages.
    batch_size : int, default 64
        Rows per local step.
    optimizer : str, default "adam"
        A name of ``losslab.optim.OPTIMIZERS``.
    lr : float, default 1e-3
        The base learning rate.
    schedule : str, default "constant"
        A schedule of the epoch (not "plateau": rounds have no epoch loss).
    epochs : int, default 10
        Passes over the data.
    tol : float or None
        Stop when the round's loss has not improved by this for ``patience`` rounds.
    patience : int, default 5
        Rounds without improvement tolerated.
    random_state : int or None
        Seeds the batches.
    clip_grad_norm : float or None
        Each local step's gradients are scaled to this global norm at most, as in
        :func:`losslab.fit` (:func:`losslab.optim.clip_grad_norm`).

    Examples
    --------
    >>> settings = LocalSGD(sync_every=8, batch_size=16, lr=0.05, epochs=2, random_state=0)
    >>> settings.optimizer, settings.tol is None
    ('adam', True)

    References
    ----------
    Lin, Stich, Patel & Jaggi, "Don't Use Large Mini-Batches, Use Local SGD", ICLR
    (2020); Stich, "Local SGD Converges Fast and Communicates Little", ICLR (2019).
    """

    sync_every: int = 32
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "constant"
    epochs: int = 10
    tol: float | None = None
    patience: int = 5
    random_state: int | None = None
    clip_grad_norm: float | None = None


def fit_local_sgd(
    data: ShardedData,
    objective: Objective,
    settings: LocalSGD,
    *,
    checkpoint: StrPath | None,
    resume: bool,
    callbacks: Sequence[Callable[..., Any]],
) -> tuple[History, int]:
    """Train ``objective.model`` by local SGD on the shards of ``data``; returns (history, rounds per epoch).

    One history row per averaging round; ``settings.epochs`` passes over the data.
    Each round, every worker group takes ``sync_every`` steps of the one loop
    from the same weights and optimizer state; the driver averages both,
    weighted by the groups' rows.

    Parameters
    ----------
    data : ShardedData
        The shards on the workers, with their groups.
    objective : Objective
        The model (trained in place), loss and penalty.
    settings : LocalSGD
        Steps between averages, batch size, optimizer, epochs, ...
    checkpoint : path or None
        Written atomically after every round.
    resume : bool
        Continue from ``checkpoint`` if it exists.
    callbacks : sequence of callable
        ``callback(round, logs, model)``; a true return stops training.

    Returns
    -------
    history : History
        One row per averaging round.
    rounds_per_epoch : int
        Rounds that make one pass over the data.

    Raises
    ------
    ValueError
        For a schedule that follows the loss ("plateau").

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from sklearn.datasets import load_iris
    >>> from losslab import losses
    >>> from losslab.models import Linear
    >>> from losslab.scale.dask_data import shard
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> objective = Objective(Linear(4, 3, random_state=0), "softmax")
    >>> settings = LocalSGD(sync_every=4, batch_size=16, lr=0.05, epochs=3, random_state=0)
    >>> with Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0") as client:
    ...     data = shard(client, da.from_array(X, chunks=50), da.from_array(y, chunks=50), None,
    ...                  loss=losses.get("softmax"), n_outputs=3, classes=np.arange(3),
    ...                  dtype=np.float64)
    ...     history, rounds = fit_local_sgd(data, objective, settings, checkpoint=None,
    ...                                     resume=False, callbacks=())
    >>> rounds, len(history.train_loss), history.train_loss[-1] < history.train_loss[0]
    (2, 6, True)

    References
    ----------
    Lin, Stich, Patel & Jaggi, "Don't Use Large Mini-Batches, Use Local SGD", ICLR
    (2020); Stich, "Local SGD Converges Fast and Communicates Little", ICLR (2019).
    """
    model = objective.model
    opt = optim.get(settings.optimizer)
    state = TrainState(opt, opt.init(model.params), np.random.default_rng(settings.random_state))
    history = History()
    if resume and checkpoint is not None and Path(checkpoint).is_file():
        state, history = load_checkpoint(checkpoint, model, state)
    rows_per_round = settings.batch_size * settings.sync_every * len(data.groups)
    rounds_per_epoch = max(1, round(data.n_rows / rows_per_round))
    lr_at = optim.schedule(settings.schedule, settings.lr, epochs=settings.epochs)
    if getattr(lr_at, "observe", None) is not None:
        raise ValueError(
            f"schedule: {settings.schedule!r} follows each epoch's loss; local SGD's rounds "
            "average workers' steps and have none: choose a schedule of the epoch"
        )
    averaging_round = _Round(data, objective, settings, state, lr_at, rounds_per_epoch)
    stopping = None
    if settings.tol is not None:
        stopping = EarlyStopping(settings.tol, settings.patience, window=rounds_per_epoch)
    total_rounds = settings.epochs * rounds_per_epoch
    loop.run_epochs(
        averaging_round,
        state,
        history,
        model,
        total_rounds,
        checkpoint=checkpoint,
        callbacks=callbacks,
        stopping=stopping,
    )
    return history, rounds_per_epoch


@dataclass
class _Round:
    """One averaging round: every worker group takes ``sync_every`` steps, the driver averages."""

    data: object  # ShardedData
    objective: Objective
    settings: LocalSGD
    state: TrainState
    lr_at: object
    rounds_per_epoch: int

    def __call__(self):
        state, model = self.state, self.objective.model
        groups = self.data.placement()  # again each round: a lost worker's shards have moved
        seeds = state.shuffle_rng.integers(2**62, size=len(groups))
        lr = self.lr_at(state.epoch / self.rounds_per_epoch)
        futures = [
            self._submit(where, idx, int(seed), lr)
            for (where, idx), seed in zip(groups, seeds, strict=True)
        ]
        results = self.data.client.gather(futures)
        shares = np.array([self.data.rows[idx].sum() for _, idx in groups], dtype=np.float64)
        shares /= shares.sum()
        for k, p in _average([r[0] for r in results], shares).items():
            model.params[k][...] = p
        state.opt_state = _average([r[1] for r in results], shares)
        state.epoch += 1
        state.step += self.settings.sync_every
        round_loss = float(np.dot(shares, [r[2] for r in results]))
        return {"epoch": state.epoch, "round": state.epoch, "train_loss": round_loss, "lr": lr}

    def _submit(self, where, shard_indices, seed, lr):
        objective = self.objective
        options = {
            "loss": objective.loss,
            "reg": objective.reg,
            "penalty": objective.penalty,
            "l1_ratio": objective.l1_ratio,
        }
        return self.data.client.submit(
            local_steps,
            [self.data.shards[i] for i in shard_indices],
            copy.deepcopy(objective.model),
            options,
            self.state.optimizer,
            copy.deepcopy(self.state.opt_state),
            self.settings.sync_every,
            self.settings.batch_size,
            lr,
            seed,
            self.settings.clip_grad_norm,
            workers=None if where is None else [where],
            allow_other_workers=True,
            pure=False,
        )


def local_steps(
    shards: Sequence[Any],
    model: Model,
    objective_options: dict[str, Any],
    optimizer: Any,
    opt_state: dict[str, Any],
    steps: int,
    batch: int,
    lr: float,
    seed: int,
    clip_grad_norm: float | None = None,
) -> tuple[Params, dict[str, Any], float]:
    """On a worker: ``steps`` steps of the one loop on its shards; returns (weights, optimizer state, mean loss).

    Parameters
    ----------
    shards : sequence of Shard
        The group's shards, on this worker.
    model : Linear or MLP
        A copy, with the round's starting weights.
    objective_options : dict
        The :class:`~losslab.training.objective.Objective` options (loss, penalty).
    optimizer : optimizer
        From ``losslab.optim.get``.
    opt_state : dict
        The round's starting optimizer state.
    steps, batch : int
        Steps to take, rows per step.
    lr : float
        The round's learning rate.
    seed : int
        Seeds the batches.
    clip_grad_norm : float or None
        The global norm each step's gradients are clipped to (None: not clipped).

    Returns
    -------
    weights : dict of str to ndarray
        The model's weights after the steps.
    opt_state : dict
        The optimizer state after them.
    mean_loss : float
        The mean loss of the steps' batches.

    Examples
    --------
    >>> from losslab import optim
    >>> from losslab.models import Linear
    >>> from losslab.scale.dask_data import Shard
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 2))
    >>> piece = Shard(X, (X[:, 0] > 0).astype(np.intp), None)
    >>> opt = optim.get("sgd")
    >>> weights, _, loss = local_steps([piece], Linear(2, 2, random_state=0), {"loss": "softmax"},
    ...                                opt, opt.init({}), steps=20, batch=8, lr=0.5, seed=0)
    >>> sorted(weights), round(loss, 4)  # the mean over the steps, from ln 2 = 0.6931 down
    (['W', 'b'], 0.3381)

    References
    ----------
    Lin, Stich, Patel & Jaggi, "Don't Use Large Mini-Batches, Use Local SGD", ICLR (2020).
    """
    objective = Objective(model, **objective_options)
    state = TrainState(optimizer, opt_state, np.random.default_rng(seed))
    step_loss: list[float] = []
    batches = _shard_batches(shards, steps, batch, state.shuffle_rng)
    loop.take_steps(
        objective.value_and_grads,
        model.params,
        state,
        batches,
        optim.constant(lr),
        step_loss=step_loss,
        clip_grad_norm=clip_grad_norm,
    )
    return model.params, opt_state, sum(step_loss) / max(steps, 1)


def _shard_batches(shards, steps, batch, rng):
    """``steps`` batches (X, target, weights): a shard drawn by its share of the rows, then rows without replacement."""
    rows = np.array([s.X.shape[0] for s in shards], dtype=np.float64)  # X may be CSR: no len()
    for _ in range(steps):
        k = rng.choice(len(shards), p=rows / rows.sum())
        s, n = shards[k], int(rows[k])
        idx = np.sort(rng.choice(n, size=min(batch, n), replace=False))
        yield s.X[idx], s.target[idx], None if s.weights is None else s.weights[idx]


def _average(parts, shares):
    """The share-weighted mean of several dicts of arrays (nested one level for optimizer state)."""
    out = {}
    for key, first in parts[0].items():
        if isinstance(first, dict):
            out[key] = _average([p[key] for p in parts], shares)
        elif isinstance(first, np.ndarray):
            out[key] = sum(s * p[key] for p, s in zip(parts, shares, strict=True)).astype(
                first.dtype, copy=False
            )
        else:  # a step counter: every worker advanced it by the same amount
            out[key] = max(p[key] for p in parts)
    return out
