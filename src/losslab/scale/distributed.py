"""Data-parallel training on a Dask cluster: the computation goes where the chunks live.

:func:`train` takes what to train (a :class:`~losslab.training.spec.TrainSpec`)
and Dask arrays, trains on the cluster of the current ``distributed.Client`` (or
the one passed in) and returns a :class:`~losslab.training.spec.TrainResult`.
``estimator.fit(X, y)`` with Dask arrays, and :func:`fit`, go through it: the
estimator hands over its spec and takes the result back, so nothing here reads
an estimator's internals.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import is_classifier

from .. import optim
from ..models import Params
from ..regularizers import split_penalty
from ..training.files import StrPath, load_checkpoint, save_checkpoint
from ..training.full_batch import FULL_BATCH_METHODS, minimise_full_batch
from ..training.objective import Objective
from ..training.spec import TrainResult, TrainSpec, check_solver
from ..training.state import History, TrainState
from .dask_data import ShardedData, as_dask_arrays, class_counts, get_client, shard
from .local_sgd import LocalSGD, fit_local_sgd

# --- (a) full batch: the gradient is the sum of the chunks' gradients -------------------------


def _shard_sums(shard, model, loss):
    """Σ weighted loss of the shard, the mean's denominator, and the gradient of the sum."""
    scores, cache = model.forward(shard.X)
    target = shard.target
    out = scores[:, 0] if target.ndim == 1 and loss.task != "multiclass" else scores
    result = loss(out, target, sample_weight=shard.weights, reduction="none")
    rows = shard.X.shape[0]  # X may be CSR, which has no len()
    per_sample = result.value.size // max(rows, 1)  # elements a row adds to the mean
    denominator = (rows if shard.weights is None else shard.weights.sum()) * per_sample
    grads, _ = model.backward(cache, result.grad.reshape(scores.shape), input_grad=False)
    return float(np.sum(result.value, dtype=np.float64)), float(denominator), grads


def full_batch_objective(
    data: ShardedData, objective: Objective
) -> Callable[[], tuple[float, Params]]:
    r"""``value_and_grads()`` of the whole-data objective, summed from every shard.

    Each call sends the current model to the workers; each returns its shard's
    weighted loss sum, weight sum and gradient sum; the driver adds them in shard
    order (so the result does not depend on which worker holds what) and adds
    the penalty.

    .. math::

        f(\theta) = \frac{\sum_s \sum_{i \in s} w_i\, l_i(\theta)}{\sum_s \sum_{i \in s} w_i} + \lambda R(\theta)

    Parameters
    ----------
    data : ShardedData
        The shards on the workers (:func:`~losslab.scale.dask_data.shard`).
    objective : Objective
        The model, loss and penalty.

    Returns
    -------
    callable
        ``value_and_grads() -> (float, dict of str to ndarray)``.

    Examples
    --------
    The same value and gradient as in memory:

    >>> import dask.array as da
    >>> from distributed import Client
    >>> from sklearn.datasets import load_iris
    >>> from losslab import losses
    >>> from losslab.models import Linear
    >>> from losslab.scale.dask_data import shard
    >>> X, y = load_iris(return_X_y=True)
    >>> objective = Objective(Linear(4, 3, random_state=0), "softmax")
    >>> with Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0") as client:
    ...     data = shard(client, da.from_array(X, chunks=50), da.from_array(y, chunks=50), None,
    ...                  loss=losses.get("softmax"), n_outputs=3, classes=np.arange(3),
    ...                  dtype=np.float64)
    ...     value, grads = full_batch_objective(data, objective)()
    >>> in_memory, in_memory_grads, *_ = objective.value_and_grads(X, y)
    >>> bool(np.isclose(value, in_memory)), bool(np.allclose(grads["W"], in_memory_grads["W"]))
    (True, True)

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """
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
    # the penalty's L1 part goes to OWL-QN, its smooth part stays in the summed objective
    l2, l1 = split_penalty(objective.reg, objective.penalty, objective.l1_ratio)
    objective = Objective(objective.model, objective.loss, reg=l2, penalty="l2")
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
        l1=l1,
    )


# --- (b) the entry points: a spec in, a result out ------------------------------------------


def train(
    spec: TrainSpec,
    X: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    client: Any = None,
    sync_every: int = 32,
    checkpoint: StrPath | None = None,
    resume: bool = False,
    callbacks: Sequence[Callable[..., Any]] = (),
) -> TrainResult:
    """Train what ``spec`` describes on Dask arrays, data-parallel on the client's workers.

    ``spec.solver`` chooses the method: "lbfgs" or "gd" (full batch, equal to
    in-memory training; "normal" means "lbfgs" here, and "auto" "lbfgs" or local
    SGD as :func:`_dask_solver` says) or "sgd" (local
    SGD, averaging every ``sync_every`` local steps). The other options are
    those of :func:`fit`.

    Parameters
    ----------
    spec : TrainSpec
        What to train (model, loss, penalty, solver and their settings).
    X : Dask array or dataframe of shape (n_samples, n_features)
        The features, in row chunks.
    y : Dask array of shape (n_samples,) or array-like
        Labels or regression targets.
    sample_weight : Dask array of shape (n_samples,), optional
        One weight per row.
    client : distributed.Client, optional
        Default: the current client.
    sync_every : int, default 32
        Local SGD's steps between two averages.
    checkpoint : path, optional
        Written atomically after every round or iteration.
    resume : bool, default False
        Continue from ``checkpoint`` if it exists.
    callbacks : sequence of callable
        ``callback(round, logs, model)``; a true return stops training.

    Returns
    -------
    TrainResult
        The trained model, its history, the iterations, the classes and the solver.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from sklearn.datasets import load_iris
    >>> from losslab import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> est = SoftmaxClassifier(solver="lbfgs", max_iter=5, tol=None, random_state=0)
    >>> with Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0"):
    ...     result = train(est.training_spec(len(X)), da.from_array(X, chunks=50), y)
    >>> result.solver, result.classes.tolist(), result.n_iter
    ('lbfgs', [0, 1, 2], 5)
    >>> in_memory = est.fit(X, y)  # the same iterations from the same start, in memory
    >>> bool(np.allclose(result.model.params["W"].T, in_memory.coef_))
    True

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """
    client = get_client(client)
    X, y, sample_weight = as_dask_arrays(X, y, sample_weight)
    if y is None:
        raise ValueError("y: expected labels or values, got None")
    solver = _dask_solver(spec, X.shape)
    classes, n_outputs, class_weight = _targets(spec, client, y)
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    model = spec.build_model(X.shape[1], n_outputs, dtype)
    options = {"loss": spec.loss, "n_outputs": n_outputs, "classes": classes, "dtype": dtype}
    data = shard(client, X, y, sample_weight, class_weight=class_weight, **options)
    run = {"checkpoint": checkpoint, "resume": resume, "callbacks": callbacks}
    history, n_iter = _solve(spec, solver, data, spec.objective(model), sync_every, run)
    client.cancel(data.shards)
    return TrainResult(
        model,
        history,
        n_iter,
        classes=classes,
        single_output=y.ndim == 1,
        solver=solver,
        reg=spec.reg,
    )


def _auto_penalty_inputs(estimator, y, sample_weight):
    """(total sample weight, number of classes) that ``alpha="auto"`` needs, (None, None) otherwise.

    Counted on the cluster, and only for "auto". Class weights given as a dict
    are not in the total ("balanced" ones sum to the rows, as without them).
    """
    if getattr(estimator, "alpha", None) != "auto" or y is None:
        return None, None
    import dask.array as da

    total = y.shape[0] if sample_weight is None else float(sample_weight.sum().compute())
    return total, len(da.unique(y).compute()) if is_classifier(estimator) else None


def _dask_solver(spec, shape):
    """The solver that runs on the cluster: "auto" by the in-memory rule, L-BFGS or local SGD.

    Data on a cluster is usually larger than memory, so the size limit does
    not apply; a hinge loss, which the in-memory "smoothing" solver takes,
    trains by local SGD; for a regressor "auto" and "normal" (closed-form
    ridge) are L-BFGS here.
    """
    if spec.early_stopping:  # local SGD holds no rows out, so nothing would be monitored
        raise ValueError(
            "early_stopping: holds out rows of data in memory; on Dask pass a validation "
            "callback instead, or early_stopping=False"
        )
    if spec.solver in ("smoothing", "dual_cd"):
        raise ValueError(f"solver: {spec.solver!r} trains in memory; use 'auto' or 'sgd' on Dask")
    regressor_auto = spec.solver == "auto" and not spec.classifier and not spec.needs_mini_batches
    if spec.solver == "normal" or regressor_auto:
        return "lbfgs"
    if spec.solver == "auto":
        return spec.solver_for(1, 1, in_memory=False)
    return check_solver(spec.solver)


def _solve(spec, solver, data, objective, sync_every, run):
    """(history, n_iter): n_iter counts iterations, or passes over the data for local SGD."""
    if solver in FULL_BATCH_METHODS:
        tol = spec.tol if spec.tol is not None else 0.0
        history = _fit_full_batch(data, objective, solver, max_iter=spec.max_iter, tol=tol, **run)
        return history, max(1, history.n_epochs)
    settings = LocalSGD(
        sync_every=int(sync_every),
        batch_size=spec.batch_size,
        optimizer=spec.optimizer,
        lr=spec.lr,
        schedule=spec.schedule,
        epochs=spec.max_iter,
        tol=spec.tol,
        patience=spec.patience,
        random_state=spec.random_state,
        clip_grad_norm=spec.clip_grad_norm,
    )
    history, rounds_per_epoch = fit_local_sgd(data, objective, settings, **run)
    return history, max(1, history.n_epochs // rounds_per_epoch)


def _targets(spec, client, y):
    """(classes or None, score columns, per-class weights or None) for the labels or values y."""
    if not spec.classifier:
        if spec.loss.task != "regression":
            raise ValueError(f"loss: {spec.loss.name} is not a regression loss")
        return None, 1 if y.ndim == 1 else y.shape[1], None
    classes, counts = class_counts(client, y)
    if len(classes) < 2:
        raise ValueError(f"y: expected at least two classes, got only {classes.tolist()}")
    return classes, spec.n_outputs(len(classes)), spec.class_weights(classes, counts)


def fit(
    estimator: Any,
    X: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    client: Any = None,
    sync_every: int = 32,
    checkpoint: StrPath | None = None,
    resume: bool = False,
    callbacks: Sequence[Callable[..., Any]] = (),
) -> Any:
    """Fit a losslab estimator on Dask arrays, data-parallel on the client's workers.

    The estimator says what to train (``estimator.training_spec(n_samples)``), :func:`train`
    trains it with these options, and the estimator takes the result back
    (``estimator.set_trained(result)`` sets ``model_``, ``classes_``, ``history_``,
    ``n_iter_``, ...). Any object with those two methods can be fitted this way.
    The estimator's ``solver`` chooses the method: "lbfgs" or "gd" (full batch,
    equal to in-memory training) or "sgd" (local SGD, averaging every
    ``sync_every`` local steps; ``max_iter`` counts passes over the data).
    A worker that dies mid-fit is absorbed: Dask rebuilds its shards elsewhere.

    Parameters
    ----------
    estimator : losslab estimator
        Anything with ``training_spec(n_samples)`` and ``set_trained(result)``.
    X : Dask array or dataframe of shape (n_samples, n_features)
        In row chunks; each chunk is trained where it lives.
    y : Dask array of shape (n_samples,) or array-like
        Labels or regression targets.
    sample_weight : Dask array of shape (n_samples,), optional
        One weight per row.
    client : distributed.Client, optional
        Default: the current client.
    sync_every : int, default 32
        Local steps between averages (local SGD).
    checkpoint : path, optional
        Written atomically after every iteration or round.
    resume : bool, default False
        Continue from ``checkpoint``.
    callbacks : sequence of callable
        ``cb(round, logs, model)`` after each round, returning True to stop.

    Returns
    -------
    estimator
        Fitted.

    Examples
    --------
    Full-batch L-BFGS on a Dask array trains what in-memory L-BFGS trains (the sums
    are added in another order, so the weights agree to the solver's tolerance):

    >>> import dask.array as da
    >>> from distributed import Client
    >>> from sklearn.datasets import load_iris
    >>> from losslab import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> with Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0"):
    ...     clf = fit(SoftmaxClassifier(solver="lbfgs"), da.from_array(X, 50), da.from_array(y, 50))
    >>> in_memory = SoftmaxClassifier(solver="lbfgs").fit(X, y)
    >>> bool((clf.predict(X) == in_memory.predict(X)).all())
    True

    References
    ----------
    Lin, Stich, Patel & Jaggi, "Don't Use Large Mini-Batches, Use Local SGD", ICLR
    (2020); Stich, "Local SGD Converges Fast and Communicates Little", ICLR (2019).
    """
    X, y, sample_weight = as_dask_arrays(X, y, sample_weight)  # its rows are known from here
    total, n_classes = _auto_penalty_inputs(estimator, y, sample_weight)
    result = train(
        estimator.training_spec(total, n_classes),
        X,
        y,
        sample_weight,
        client=client,
        sync_every=sync_every,
        checkpoint=checkpoint,
        resume=resume,
        callbacks=callbacks,
    )
    return estimator.set_trained(result)


def predict(estimator: Any, X: Any) -> Any:
    """Predictions of a fitted estimator for a Dask array, computed chunk by chunk where the chunks live.

    Parameters
    ----------
    estimator : fitted estimator
        Any losslab estimator with ``predict``.
    X : Dask array or dataframe of shape (n_samples, n_features)
        The rows to predict, in row chunks.

    Returns
    -------
    Dask array of shape (n_samples,) or (n_samples, n_outputs)
        Lazy: ``.compute()`` runs it.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_iris
    >>> from losslab import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxClassifier(solver="lbfgs").fit(X, y)
    >>> labels = predict(clf, da.from_array(X, chunks=50))
    >>> labels.chunks, bool((labels.compute() == clf.predict(X)).all())
    (((50, 50, 50),), True)

    References
    ----------
    ``dask.array.map_blocks``:
    https://docs.dask.org/en/stable/generated/dask.array.map_blocks.html
    """
    X, _, _ = as_dask_arrays(X, None)
    out = estimator.predict(X[:1].compute())
    if out.ndim == 1:
        return X.map_blocks(estimator.predict, drop_axis=1, dtype=out.dtype)
    return X.map_blocks(estimator.predict, chunks=(X.chunks[0], (out.shape[1],)), dtype=out.dtype)
