"""Data-parallel training on a Dask cluster: the computation goes where the chunks live.

``estimator.fit(X, y)`` with Dask arrays calls :func:`fit`, which trains on the
cluster of the current ``distributed.Client`` (or the one passed in):

- ``solver="lbfgs"`` / ``"gd"`` — full-batch L-BFGS or steepest descent. Each
  iteration every worker returns the summed loss and gradient of its own
  chunks; the driver adds them up, so the result is the single-process
  ``fit_full_batch`` result (to rounding), whatever the number of workers.
- ``solver="sgd"`` (and every MLP) — local SGD with model averaging: each worker
  runs ``sync_every`` mini-batch steps on its chunks, then the driver averages
  the weights (and the optimizer's state), weighted by each worker's share of
  the rows, and sends them back out. One averaging round is one history row.

The chunks are persisted on the workers once; only the weights travel each
round. A worker lost mid-fit is absorbed by Dask (its chunks are recomputed
from their source on the survivors and its tasks rerun); ``checkpoint=``
writes the weights atomically after every round so a run that dies with its
driver resumes with ``resume=True``. Needs ``pip install "losslab[dask]"``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import optim
from .persist import load_checkpoint, save_checkpoint
from .train import (
    FULL_BATCH_METHODS,
    History,
    Objective,
    TrainState,
    all_finite,
    encode_targets,
    minimise_full_batch,
)


def is_dask(X):
    """True for a Dask collection (array or dataframe), without importing Dask."""
    return hasattr(X, "__dask_graph__")


def _dask():
    try:
        import dask.array as da
        import distributed
    except ImportError:
        raise ImportError('losslab.distributed needs Dask: pip install "losslab[dask]"') from None
    return da, distributed


def get_client(client=None):
    """The given client, or the current one; a clear error when there is none."""
    _, distributed = _dask()
    if client is not None:
        return client
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError(
            "client: no Dask client is running; start one with distributed.Client() "
            "(a local cluster) or distributed.Client('tcp://HOST:PORT')"
        ) from None


class connect:
    """``with connect("tcp://HOST:PORT") as client:`` — or ``connect("local", n_workers=2)``,
    which starts a local cluster of worker processes for the duration of the block."""

    def __init__(self, scheduler, n_workers=2):
        self.scheduler, self.n_workers = scheduler, n_workers
        self.cluster = None

    def __enter__(self):
        _, distributed = _dask()
        if self.scheduler == "local":
            self.cluster = distributed.LocalCluster(
                n_workers=self.n_workers, threads_per_worker=1, processes=True
            )
            self.client = distributed.Client(self.cluster)
            return self.client
        try:
            self.client = distributed.Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValueError(f"scheduler: cannot reach {self.scheduler} ({exc})") from None
        return self.client

    def __exit__(self, *exc):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False


# --- the data, as chunks held by the workers ------------------------------------------------


@dataclass
class Shard:
    """One row chunk on a worker: features, encoded targets and per-sample weights."""

    X: np.ndarray
    target: np.ndarray
    weights: np.ndarray | None


def _make_shard(X, y, w, loss, n_outputs, classes, dtype, class_weight=None):
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X: expected a numeric array, got dtype {X.dtype} instead")
    if not all_finite(X):
        raise ValueError("X: expected finite values, got NaN or infinity")
    y = np.asarray(y)
    if classes is not None:
        y = np.searchsorted(classes, y)
    target = encode_targets(loss, y, n_outputs)
    if loss.task == "regression":
        target = target.astype(dtype, copy=False)
    weights = None if w is None else np.asarray(w, dtype=np.float64)
    if weights is not None and (weights.shape != (len(X),) or not np.all(weights >= 0)):
        raise ValueError("sample_weight: expected one non-negative weight per row of X")
    if class_weight is not None:
        weights = class_weight[y] if weights is None else weights * class_weight[y]
    return Shard(X.astype(dtype, copy=False), target, weights)


@dataclass
class ShardedData:
    """Futures of the shards in row order, their row counts, and the fixed groups of local SGD.

    Shard i starts on worker i mod W, and group g is the shards that started on
    worker g. The groups never change, even when a worker dies and its shards
    are rebuilt elsewhere, so a local-SGD run depends on its seed, not on where
    the data happens to be.
    """

    client: object
    shards: list
    rows: np.ndarray
    groups: list

    @property
    def n_rows(self):
        return int(self.rows.sum())

    def placement(self):
        """[(worker address or None, [shard indices])]: each group and the worker holding most of it now."""
        holders = self.client.who_has(self.shards)
        placed = []
        for group in self.groups:
            where = [a for i in group for a in holders.get(self.shards[i].key, ())]
            placed.append((max(sorted(set(where)), key=where.count) if where else None, group))
        return placed


def as_dask_arrays(X, y, sample_weight=None):
    """X as a 2-D Dask array in row chunks, and y (and weights) chunked like it."""
    da, _ = _dask()
    if hasattr(X, "to_dask_array"):  # a Dask dataframe
        X = X.to_dask_array(lengths=True)
    if not isinstance(X, da.Array):
        raise TypeError(f"X: expected a Dask array or dataframe, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (samples, features), got {X.ndim} dimensions")
    if any(math.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    X = X.rechunk({1: -1})  # a chunk holds whole rows
    parts = []
    for name, a in (("y", y), ("sample_weight", sample_weight)):
        if a is None:
            parts.append(None)
            continue
        if hasattr(a, "to_dask_array"):
            a = a.to_dask_array(lengths=True)
        a = a if isinstance(a, da.Array) else da.from_array(np.asarray(a), chunks=-1)
        if a.shape[0] != X.shape[0]:
            raise ValueError(f"{name}: expected {X.shape[0]} rows like X, got {a.shape[0]}")
        parts.append(a.rechunk({0: X.chunks[0]} | ({1: -1} if a.ndim == 2 else {})))
    return X, parts[0], parts[1]


def read(path, *, target=None, chunk_rows=65536):
    """(X, y) as Dask arrays over a ``.npy`` or Parquet file; each worker reads its own chunks.

    The path must be readable by every worker (a shared or copied file). The
    label is the last column unless ``target`` names another (as for streaming).
    """
    import dask

    da, _ = _dask()
    from .stream import NpySource, ParquetSource, open_source

    source = open_source(path, target, chunk_rows)
    if isinstance(source, NpySource):
        n, width = source.array.shape
        sizes = [min(chunk_rows, n - start) for start in range(0, n, chunk_rows)]
    elif isinstance(source, ParquetSource):
        width, sizes = len(source.features) + 1, np.diff(source.offsets).tolist()
    else:
        raise ValueError(
            f"data: distributed training reads .npy or .parquet files, got {path} "
            "(a CSV's chunk sizes are unknown until it is read; convert it first)"
        )
    parts = [
        dask.delayed(_read_chunk, pure=True, nout=2)(str(path), target, chunk_rows, k)
        for k in range(len(sizes))
    ]
    X = da.concatenate(
        [
            da.from_delayed(x, shape=(rows, width - 1), dtype=np.float32)
            for (x, _), rows in zip(parts, sizes, strict=True)
        ]
    )
    y = da.concatenate(
        [
            da.from_delayed(labels, shape=(rows,), dtype=np.float64)
            for (_, labels), rows in zip(parts, sizes, strict=True)
        ]
    )
    return X, y


def _read_chunk(path, target, chunk_rows, k):
    from .stream import open_source

    chunk = next(open_source(path, target, chunk_rows).chunks([k]))
    return chunk.X, np.asarray(chunk.y, dtype=np.float64)


def shard(client, X, y, sample_weight, *, loss, n_outputs, classes, dtype, class_weight=None):
    """Persist the shards on the workers (one per row chunk of X)."""
    blocks = [b.ravel().tolist() for b in (X.to_delayed(), y.to_delayed())]
    weights = (
        [None] * len(blocks[0])
        if sample_weight is None
        else sample_weight.to_delayed().ravel().tolist()
    )
    x_f, y_f = client.compute(blocks[0]), client.compute(blocks[1])
    w_f = weights if sample_weight is None else client.compute(weights)
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ValueError("client: the cluster has no workers")
    shards = [
        client.submit(
            _make_shard,
            x,
            y_,
            w,
            loss=loss,
            n_outputs=n_outputs,
            classes=classes,
            dtype=dtype,
            class_weight=class_weight,
            workers=[workers[i % len(workers)]],
            allow_other_workers=True,
            pure=False,
        )
        for i, (x, y_, w) in enumerate(zip(x_f, y_f, w_f, strict=True))
    ]
    rows = np.array(X.chunks[0], dtype=np.int64)
    client.gather(client.map(_check_shard, shards, pure=False))  # raise bad data here
    groups = [list(range(g, len(shards), len(workers))) for g in range(len(workers))]
    return ShardedData(client, shards, rows, [g for g in groups if g])


def _check_shard(s):
    return len(s.X)


def class_counts(client, y):
    """The sorted classes of a Dask label array and their counts, chunk by chunk on the cluster."""
    futures = client.compute([b for b in y.to_delayed().ravel()])
    parts = client.gather(client.map(np.unique, futures, return_counts=True, pure=False))
    classes = np.unique(np.concatenate([c for c, _ in parts]))
    counts = np.zeros(len(classes), dtype=np.int64)
    for c, n in parts:
        counts[np.searchsorted(classes, c)] += n
    return classes, counts


def _class_weight(estimator, classes, counts):
    """Per-class weights from the estimator's class_weight (None, a dict or "balanced")."""
    from .estimators import _fixed_class_weight

    if getattr(estimator, "class_weight", None) is None:
        return None
    if estimator.class_weight == "balanced":  # scikit-learn's rule: n / (C · count)
        return counts.sum() / (len(classes) * counts.astype(np.float64))
    return _fixed_class_weight(estimator.class_weight, classes)


# --- (a) full batch: the gradient is the sum of the chunks' gradients -------------------------


def _shard_sums(shard, model, loss):
    """Σ weighted loss of the shard, the mean's denominator, and the gradient of the sum."""
    scores, cache = model.forward(shard.X)
    target = shard.target
    out = scores[:, 0] if target.ndim == 1 and loss.task != "multiclass" else scores
    result = loss(out, target, sample_weight=shard.weights, reduction="none")
    per_sample = result.value.size // max(len(shard.X), 1)  # elements a row adds to the mean
    denominator = (len(shard.X) if shard.weights is None else shard.weights.sum()) * per_sample
    grads, _ = model.backward(cache, result.grad.reshape(scores.shape), input_grad=False)
    return float(np.sum(result.value, dtype=np.float64)), float(denominator), grads


def full_batch_objective(data, objective):
    """``value_and_grads()`` of the whole-data objective, summed from every shard."""
    client = data.client

    def value_and_grads():
        model = copy.deepcopy(objective.model)  # what the workers see is this iteration's
        parts = client.gather(
            client.map(_shard_sums, data.shards, model=model, loss=objective.loss, pure=False)
        )
        total = sum(p[0] for p in parts)  # in shard order: the same sum whatever the workers
        denominator = sum(p[1] for p in parts)
        grads = {k: sum(p[2][k] for p in parts) / denominator for k in parts[0][2]}
        penalty, penalty_grads = objective.penalty_value_and_grads()
        for k, g in penalty_grads.items():
            grads[k] = grads[k] + g
        return total / denominator + penalty, grads

    return value_and_grads


def _fit_full_batch(data, objective, method, *, max_iter, tol, checkpoint, resume, callbacks):
    state = TrainState(optim.SGD(), {}, np.random.default_rng(0))
    done = 0
    if resume and checkpoint is not None and Path(checkpoint).is_file():
        state, _ = load_checkpoint(checkpoint, objective.model, state)
        done = state.epoch

    def after_iteration(iteration, value, model):
        state.epoch = done + iteration
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, state, History())
        logs = {"round": state.epoch, "train_loss": float(value)}
        return any(cb(state.epoch, logs, model) for cb in callbacks)

    return minimise_full_batch(
        objective.model,
        full_batch_objective(data, objective),
        method=method,
        max_iter=max(max_iter - done, 1),
        tol=tol,
        callback=after_iteration,
    )


# --- (b) local SGD with periodic model averaging ---------------------------------------------


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


def _fit_local_sgd(data, objective, settings, *, checkpoint, resume, callbacks):
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


# --- the estimator entry point ----------------------------------------------------------------


def fit(
    estimator,
    X,
    y,
    sample_weight=None,
    *,
    client=None,
    sync_every=32,
    checkpoint=None,
    resume=False,
    callbacks=(),
):
    """Fit a losslab estimator on Dask arrays, data-parallel on the client's workers.

    The estimator's ``solver`` chooses the method: "lbfgs" or "gd" (full batch,
    equal to in-memory training) or "sgd" (local SGD, averaging every
    ``sync_every`` local steps; ``max_iter`` counts passes over the data).
    ``checkpoint``: a path written atomically after every iteration or round;
    ``resume=True`` continues from it. ``callbacks``: ``cb(round, logs, model)``
    after each round, returning True to stop. Returns the fitted estimator.
    """
    from .estimators import _check_solver, _Classifier

    client = get_client(client)
    X, y, sample_weight = as_dask_arrays(X, y, sample_weight)
    if y is None:
        raise ValueError("y: expected labels or values, got None")
    loss = estimator._loss()
    classifier = isinstance(estimator, _Classifier)
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    if classifier:
        classes, counts = class_counts(client, y)
        if len(classes) < 2:
            raise ValueError(f"y: expected at least two classes, got only {classes.tolist()}")
        estimator.classes_ = classes
        n_out = estimator._n_outputs(len(classes))
        class_weight = _class_weight(estimator, classes, counts)
    else:
        if loss.task != "regression":
            raise ValueError(f"loss: {loss.name} is not a regression loss")
        classes = class_weight = None
        n_out = 1 if y.ndim == 1 else y.shape[1]
        estimator._single_output = y.ndim == 1
    estimator.n_features_in_ = X.shape[1]
    estimator.model_, _, _ = estimator._build(X.shape[1], n_out, dtype)
    data = shard(
        client,
        X,
        y,
        sample_weight,
        loss=loss,
        n_outputs=n_out,
        classes=classes,
        dtype=dtype,
        class_weight=class_weight,
    )
    objective = Objective(
        estimator.model_,
        loss,
        reg=estimator.alpha,
        penalty=estimator.penalty,
        l1_ratio=estimator.l1_ratio,
    )
    solver = getattr(estimator, "solver", "sgd")
    solver = _check_solver("lbfgs" if solver in ("auto", "normal") else solver)
    if solver in FULL_BATCH_METHODS:
        history = _fit_full_batch(
            data,
            objective,
            solver,
            max_iter=estimator.max_iter,
            tol=estimator.tol if estimator.tol is not None else 0.0,
            checkpoint=checkpoint,
            resume=resume,
            callbacks=callbacks,
        )
        estimator.n_iter_ = max(1, history.n_epochs)
    else:
        settings = LocalSGD(
            sync_every=int(sync_every),
            batch_size=estimator.batch_size,
            optimizer=estimator.optimizer,
            lr=estimator.lr,
            schedule=estimator.schedule,
            epochs=estimator.max_iter,
            tol=estimator.tol,
            patience=estimator.n_iter_no_change,
            random_state=estimator.random_state,
        )
        history, rounds_per_epoch = _fit_local_sgd(
            data, objective, settings, checkpoint=checkpoint, resume=resume, callbacks=callbacks
        )
        estimator.n_iter_ = max(1, history.n_epochs // rounds_per_epoch)
    estimator.history_ = history
    estimator._state = None
    client.cancel(data.shards)
    return estimator


def predict(estimator, X):
    """Predictions for a Dask array, computed chunk by chunk where the chunks live."""
    X, _, _ = as_dask_arrays(X, None)
    out = estimator.predict(X[:1].compute())
    if out.ndim == 1:
        return X.map_blocks(estimator.predict, drop_axis=1, dtype=out.dtype)
    return X.map_blocks(estimator.predict, chunks=(X.chunks[0], (out.shape[1],)), dtype=out.dtype)
