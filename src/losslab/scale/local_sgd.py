"""Local SGD with periodic model averaging: each worker steps on its own shards, the driver averages."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import optim
from ..training.files import load_checkpoint, save_checkpoint
from ..training.objective import Objective
from ..training.state import History, TrainState


def _local_steps(shards, model, objective_options, optimizer, opt_state, steps, batch, lr, seed):
    """``steps`` mini-batch steps on this worker's shards; returns the new weights and state."""
    objective = Objective(model, **objective_options)
    rng = np.random.default_rng(seed)
    rows = np.array([len(s.X) for s in shards], dtype=np.float64)
    total = 0.0
    for _ in range(steps):
        s = shards[rng.choice(len(shards), p=rows / rows.sum())]
        idx = np.sort(rng.integers(0, len(s.X), size=min(batch, len(s.X))))
        w = None if s.weights is None else s.weights[idx]
        value, grads, _ = objective.value_and_grads(s.X[idx], s.target[idx], w)
        optimizer.update(model.params, grads, opt_state, lr)
        total += float(value)
    return model.params, opt_state, total / max(steps, 1)


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


@dataclass
class LocalSGD:
    """Settings of local SGD: steps between averages, batch size, optimizer, learning rate."""

    sync_every: int = 32
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "constant"
    epochs: int = 10
    tol: float | None = None
    patience: int = 5
    random_state: int | None = None


def fit_local_sgd(data, objective, settings, *, checkpoint, resume, callbacks):
    model, client = objective.model, data.client
    opt = optim.get(settings.optimizer)
    state = TrainState(opt, opt.init(model.params), np.random.default_rng(settings.random_state))
    history = History()
    if resume and checkpoint is not None and Path(checkpoint).is_file():
        state, history = load_checkpoint(checkpoint, model, state)
    options = {
        "loss": objective.loss,
        "reg": objective.reg,
        "penalty": objective.penalty,
        "l1_ratio": objective.l1_ratio,
    }
    lr_at = optim.schedule(settings.schedule, settings.lr, epochs=settings.epochs)
    n_groups = len(data.groups)
    rows_per_round = settings.batch_size * settings.sync_every * n_groups
    rounds_per_epoch = max(1, round(data.n_rows / rows_per_round))
    total_rounds = settings.epochs * rounds_per_epoch
    best, stale = np.inf, 0
    while state.epoch < total_rounds:
        groups = data.placement()  # again each round: a lost worker's shards have moved
        seeds = state.shuffle_rng.integers(2**62, size=len(groups))
        lr = lr_at(state.epoch / rounds_per_epoch)
        futures = [
            client.submit(
                _local_steps,
                [data.shards[i] for i in idx],
                copy.deepcopy(model),
                options,
                opt,
                copy.deepcopy(state.opt_state),
                settings.sync_every,
                settings.batch_size,
                lr,
                int(seed),
                workers=None if where is None else [where],
                allow_other_workers=True,
                pure=False,
            )
            for (where, idx), seed in zip(groups, seeds, strict=True)
        ]
        results = client.gather(futures)
        shares = np.array([data.rows[idx].sum() for _, idx in groups], dtype=np.float64)
        shares /= shares.sum()
        for k, p in _average([r[0] for r in results], shares).items():
            model.params[k][...] = p
        state.opt_state = _average([r[1] for r in results], shares)
        state.epoch += 1
        state.step += settings.sync_every
        round_loss = float(np.dot(shares, [r[2] for r in results]))
        history.epoch.append(state.epoch)
        history.train_loss.append(round_loss)
        history.lr.append(lr)
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, state, history)
        logs = {"round": state.epoch, "train_loss": round_loss, "lr": lr}
        if any(cb(state.epoch, logs, model) for cb in callbacks):
            history.stopped_by_callback = True
            break
        if settings.tol is not None and state.epoch % rounds_per_epoch == 0:
            epoch_loss = float(np.mean(history.train_loss[-rounds_per_epoch:]))
            stale = 0 if epoch_loss < best - settings.tol else stale + 1
            best = min(best, epoch_loss)
            if stale >= settings.patience:
                history.converged = True
                break
    history.state = state
    return history, rounds_per_epoch
