"""A training run as one library call: data → model → sanity check → training → files.

``losslab train`` is a thin layer over :func:`run_training`. A run directory
holds ``config.json``, ``checkpoint.npz`` (rewritten atomically after every
epoch, so an interrupted run loses at most the epoch in progress),
``metrics.json``, ``model.npz`` and ``loss_curve.png``. ``resume`` continues
from the checkpoint and reaches the same weights as an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from . import data as datasets
from . import losses, models, plots
from .diagnostics import sanity as sanity_checks
from .estimators import LinearClassifier, MLPClassifier, persist
from .optim.first_order import check_max_norm
from .scale import dask_data, distributed
from .training import (
    History,
    Objective,
    build_classifier,
    encode_targets,
    evaluate,
    files,
    fit,
    fit_full_batch,
)
from .training.dual_cd import fit_dual_cd
from .training.loop import Callback
from .training.smoothing import fit_smoothed
from .training.spec import (
    SOLVERS,
    auto_solver,
    check_clipping,
    iterations_done,
    penalty_strength,
)

# what --epochs means when not given: passes of mini-batch SGD, or iterations of a
# full-batch solver (the estimators' max_iter), which converge in tens to hundreds
SGD_EPOCHS, FULL_BATCH_ITERATIONS = 30, 200
# reg "auto" of an MLP: MLPClassifier's default alpha (scikit-learn's MLPClassifier's too)
MLP_AUTO_REG = 1e-4
# a full-batch run stops when the gradient's largest entry is below this (lbfgs, gd),
# or Newton's predicted decrease below this × 1e-4 of the objective (smoothing), or the
# duality gap below this of the objective (dual_cd)
FULL_BATCH_TOL = 1e-6


@dataclass
class TrainConfig:
    """Every choice of a run; the defaults are the main job (softmax on digits).

    ``losslab train``'s options are these fields; ``config.json`` in a run directory
    is this dataclass as JSON (:func:`load_config` reads it back).

    Attributes
    ----------
    data : str, default "digits"
        A bundled or generated data set's name, a ``.csv``/``.npz`` path, or
        ``cifar10:DIR`` (a ``.npy`` or Parquet path on a Dask cluster).
    target : str or None
        The label column of a CSV (default: the last).
    loss : str, default "softmax"
        A classification loss of the registry, or ``"package.module:function"``.
    loss_options : dict
        The loss's keyword options, e.g. ``{"gamma": 1.0}`` for focal.
    model : {"linear", "mlp"}
    hidden : tuple of int, default (100,)
        The MLP's hidden layer widths.
    optimizer : str, default "adam"
        A name of ``losslab.optim`` (mini-batch solver only).
    lr : float, default 1e-2
        The learning rate (mini-batch solver only).
    schedule : str, default "constant"
        A name of ``losslab.optim.SCHEDULES``.
    batch_size : int, default 64
    epochs : int or None
        Passes of mini-batch SGD (default 30) or full-batch iterations (default 200).
    reg : float or "auto", default "auto"
        The weight penalty's strength; biases are never penalised. "auto" is
        1 / (2 · training rows), as the estimators' ``alpha="auto"`` (:meth:`strength`).
    penalty : {"l2", "l1", "elasticnet"}
    class_weight : {None, "balanced"}
    seed : int, default 0
        Seeds the split, the initial weights and the shuffling.
    solver : str, default "auto"
        "auto" (see :meth:`solver_for`), "sgd", "lbfgs", "smoothing", "dual_cd" or "gd".
    sync_every : int, default 32
        Local SGD steps between weight averages on a Dask cluster.
    clip_grad_norm : float or None
        The largest global norm of a step's gradients (mini-batch solver only).

    Examples
    --------
    >>> config = TrainConfig(data="iris", loss="svm")
    >>> loss = config.validate()
    >>> loss.name, config.solver_for(loss, n_rows=105, n_features=4)
    ('multiclass_hinge', 'smoothing')
    >>> TrainConfig(penalty="l3").validate()
    Traceback (most recent call last):
    ...
    ValueError: penalty: expected l2, l1 or elasticnet, got 'l3'
    """

    data: str = "digits"  # a bundled/generated name, a .csv/.npz path, or cifar10:DIR
    target: str | None = None  # label column of a CSV (default: the last)
    loss: str = "softmax"  # any classification loss of the registry, or "package.module:function"
    loss_options: dict = field(default_factory=dict)  # e.g. {"gamma": 1.0} for focal
    model: str = "linear"  # "linear" or "mlp"
    hidden: tuple = (100,)  # hidden layer sizes of the MLP
    optimizer: str = "adam"
    lr: float = 1e-2  # features are standardised, so Adam can take larger steps than on raw data
    schedule: str = "constant"  # any name of losslab.optim.SCHEDULES (plateau follows val loss)
    batch_size: int = 64
    epochs: int | None = None  # sgd passes (default 30) or full-batch iterations (default 200)
    # strength of the weight penalty (biases are never penalised); "auto": 1 / (2 · training rows)
    reg: float | str = "auto"
    penalty: str = "l2"  # l2, l1, elasticnet
    class_weight: str | None = None  # None or "balanced"
    seed: int = 0  # seeds the split, the initial weights and the shuffling
    # "auto" picks as the estimators do (losslab.training.spec.auto_solver): full-batch
    # "lbfgs" (smooth losses) or "smoothing" (hinge; "dual_cd" on sparse data) for a linear
    # model in memory, else "sgd" (mini-batches); or name one of them, or "gd"
    solver: str = "auto"
    sync_every: int = 32  # local SGD steps between weight averages (runs on a Dask cluster)
    # None, or the largest global norm of a step's gradients (sgd; with it, "auto" is sgd)
    clip_grad_norm: float | None = None

    def validate(self) -> losses.Loss:
        """Check every field; the loss the run trains with.

        Returns
        -------
        Loss
            The registry's loss (for a multiclass or binary task) with
            ``loss_options`` bound.

        Raises
        ------
        ValueError
            Naming the first field that is out of range or inconsistent with another
            (e.g. a full-batch solver for an MLP, or a regression loss).
        """
        # an imported plain function is a multiclass loss unless it was registered otherwise
        loss = losses.get(self.loss, **self.loss_options).for_task("multiclass")
        if loss.task not in ("multiclass", "binary"):
            raise ValueError(f"loss: {loss.name} is a {loss.task} loss; train fits classifiers")
        if self.model not in ("linear", "mlp"):
            raise ValueError(f"model: expected 'linear' or 'mlp', got {self.model!r}")
        # the estimators' ranges: lr in (0, inf), reg in [0, inf) or "auto"
        if not (_is_number(self.lr) and 0 < self.lr < math.inf):
            raise ValueError(f"lr: expected a finite number > 0, got {self.lr!r}")
        if self.reg != "auto" and not (_is_number(self.reg) and 0 <= self.reg < math.inf):
            raise ValueError(f"reg: expected 'auto' or a finite number >= 0, got {self.reg!r}")
        if (self.epochs is not None and self.epochs < 1) or self.batch_size < 1:
            raise ValueError("epochs and batch_size: expected positive integers")
        if self.penalty not in ("l2", "l1", "elasticnet"):
            raise ValueError(f"penalty: expected l2, l1 or elasticnet, got {self.penalty!r}")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(
                f"class_weight: expected None or 'balanced', got {self.class_weight!r}"
            )
        if self.solver not in ("auto", *SOLVERS):
            raise ValueError(f"solver: expected auto or one of {SOLVERS}, got {self.solver!r}")
        if self.solver not in ("auto", "sgd") and self.model != "linear":
            raise ValueError(f"solver: {self.solver} trains linear models; use sgd for an MLP")
        if self.sync_every < 1:
            raise ValueError("sync_every: expected a positive integer")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {self.seed!r}")
        check_clipping(check_max_norm(self.clip_grad_norm), self.solver)
        return loss

    def strength(self, n_rows: int, n_classes: int | None = None) -> float:
        """The penalty strength on ``n_rows`` training rows of ``n_classes`` classes.

        "auto" is the estimators' (:func:`~losslab.training.spec.penalty_strength`):
        1 / (2 · n_rows), scikit-learn's ``C=1`` (1 / n_rows for a multiclass loss on
        two classes); for an MLP it is ``MLPClassifier``'s default, 1e-4.

        Parameters
        ----------
        n_rows : int
            The rows training sees.
        n_classes : int, optional
            The classes.

        Returns
        -------
        float
            What the objective multiplies the penalty by.

        Examples
        --------
        >>> TrainConfig().strength(1000), TrainConfig(reg=0.01).strength(1000)
        (0.0005, 0.01)
        >>> TrainConfig().strength(1000, n_classes=2), TrainConfig(model="mlp").strength(1000)
        (0.001, 0.0001)
        """
        two_columns = self._two_columns(n_classes)
        return penalty_strength(self.alpha, n_rows, two_column_binary=two_columns)

    @property
    def alpha(self) -> float | str:
        """``reg`` as an estimator's ``alpha``: "auto" of an MLP is MLPClassifier's 1e-4."""
        return MLP_AUTO_REG if self.reg == "auto" and self.model == "mlp" else self.reg

    def _two_columns(self, n_classes):
        """Two classes scored by a multiclass loss's two columns (where "auto" doubles)."""
        return n_classes == 2 and self.validate().task == "multiclass"

    def solver_for(
        self, loss: losses.Loss, n_rows: int, n_features: int, *, in_memory: bool = True
    ) -> str:
        """The solver this run trains with on data of this shape ("auto" resolved).

        "auto" picks as the estimators do (:func:`losslab.training.spec.auto_solver`):
        full-batch "lbfgs" (smooth losses) or "smoothing" (hinge) for a linear model on
        data in memory, else "sgd"; gradient clipping always means "sgd".

        Parameters
        ----------
        loss : Loss
            What :meth:`validate` returned.
        n_rows, n_features : int
            The training data's shape.
        in_memory : bool, default True
            False for data on a Dask cluster.

        Returns
        -------
        str
            One of ``losslab.training.spec.SOLVERS``.

        Examples
        --------
        >>> config = TrainConfig(model="mlp")
        >>> config.solver_for(config.validate(), 1000, 64)
        'sgd'
        """
        if self.solver != "auto":
            return self.solver
        if self.clip_grad_norm is not None:
            return "sgd"  # clipping is a step of the mini-batch loop
        return auto_solver(loss, self.penalty, self.model, n_rows, n_features, in_memory=in_memory)

    def iterations(self, solver: str) -> int:
        """``epochs``, or when not given the solver's default (30 epochs, 200 iterations).

        Parameters
        ----------
        solver : str
            The resolved solver (:meth:`solver_for`).

        Returns
        -------
        int
            Epochs for "sgd", iterations (or Newton steps a stage) otherwise.

        Examples
        --------
        >>> TrainConfig().iterations("sgd"), TrainConfig().iterations("lbfgs")
        (30, 200)
        """
        if self.epochs is not None:
            return self.epochs
        return SGD_EPOCHS if solver == "sgd" else FULL_BATCH_ITERATIONS

    def describe_penalty(self, n_rows: int, n_classes: int | None = None) -> str:
        """One line: the penalty strength on ``n_rows`` training rows, and where it comes from.

        Parameters
        ----------
        n_rows : int
            The training rows.
        n_classes : int, optional
            Their classes.

        Returns
        -------
        str
            What ``losslab train`` prints before training.

        Examples
        --------
        >>> TrainConfig().describe_penalty(1257, 10)
        'l2 penalty, reg auto = 1 / (2 · 1257 training rows) = 0.000398'
        >>> TrainConfig(reg=0.01, penalty="l1").describe_penalty(1257)
        'l1 penalty, reg 0.01'
        """
        strength = self.strength(n_rows, n_classes)
        text = f"{strength:.3g}"
        if self.reg == "auto" and self.model == "mlp":
            text = f"auto = {text} (MLPClassifier's default)"
        elif self.reg == "auto":
            twice = "2 / " if self._two_columns(n_classes) else "1 / "  # two columns, one vector
            text = f"auto = {twice}(2 · {n_rows} training rows) = {text}"
        return f"{self.penalty} penalty, reg {text}"

    def describe_solver(self, loss: losses.Loss, n_rows: int, n_features: int) -> str:
        """One line: the solver this run trains with on data of this shape, and its settings.

        Parameters
        ----------
        loss : Loss
            What :meth:`validate` returned.
        n_rows, n_features : int
            The training data's shape.

        Returns
        -------
        str
            What ``losslab train`` prints before training.

        Examples
        --------
        >>> config = TrainConfig(solver="sgd")
        >>> config.describe_solver(config.validate(), 1000, 64)
        'solver sgd: adam lr=0.01 · batch 64 · 30 epochs'
        """
        solver = self.solver_for(loss, n_rows, n_features)
        chosen = " (chosen by auto)" if self.solver == "auto" else ""
        if solver == "sgd":
            return (
                f"solver sgd{chosen}: {self.optimizer} lr={self.lr:g} · batch {self.batch_size} "
                f"· {self.iterations(solver)} epochs"
                + (f" · {self.schedule} schedule" if self.schedule != "constant" else "")
                + (f" · clip {self.clip_grad_norm:g}" if self.clip_grad_norm is not None else "")
            )
        unit = {"smoothing": "Newton steps a stage", "dual_cd": "epochs"}.get(solver, "iterations")
        return f"solver {solver}{chosen}: full batch, at most {self.iterations(solver)} {unit}"


def _is_number(value: object) -> TypeGuard[float]:
    """A real number (not a bool, which is an int), as JSON's numbers load."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class RunResult:
    """What :func:`run_training` returns: the run's inputs, its trained model and its figures.

    Attributes
    ----------
    config : TrainConfig
        The configuration the run followed.
    dataset : Dataset
        The standardised splits (``X_train``, ``X_val``, ``X_test``, ...).
    model : Linear or MLP
        The trained model.
    history : History
        Losses and accuracies per epoch (or iteration).
    sanity : SanityCheck
        The initial-loss check made before training.
    metrics : dict
        What ``metrics.json`` holds (see :func:`summarize`).
    out : Path or None
        The run directory, when the run wrote one.

    Examples
    --------
    >>> result = run_training(TrainConfig(data="iris", solver="sgd", epochs=3))
    >>> result.out is None, result.model, result.history.n_epochs
    (True, Linear(n_features=4, n_outputs=3, dtype=float64), 3)
    """

    config: TrainConfig
    dataset: datasets.Dataset
    model: object
    history: object
    sanity: sanity_checks.SanityCheck
    metrics: dict
    out: Path | None


def run_training(
    config: TrainConfig,
    *,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = False,
    callbacks: Sequence[Callback] = (),
    on_start: Callable[[datasets.Dataset, sanity_checks.SanityCheck], object] | None = None,
) -> RunResult:
    """Train as ``config`` says; write the run's files under ``out`` if given.

    Loads and splits the data, builds the model, checks the initial loss, trains with
    the configured solver and computes the metrics of every split.
    ``on_start(dataset, sanity)`` is called before training begins (the CLI
    prints the sanity line there, before the progress bar).

    Parameters
    ----------
    config : TrainConfig
        Every choice of the run.
    out : str or path, optional
        The run directory: ``config.json``, ``checkpoint.npz`` (mini-batch solver, after
        every epoch), ``metrics.json``, ``model.npz`` and ``loss_curve.png`` are
        written there atomically.
    resume : bool, default False
        Continue from ``out``'s checkpoint; the weights then equal an uninterrupted
        run's.
    progress : bool, default False
        Show a progress bar (mini-batch solver).
    callbacks : sequence of callables
        Called after each epoch, as :func:`losslab.fit`'s.
    on_start : callable, optional
        ``on_start(dataset, sanity)``, before training.

    Returns
    -------
    RunResult

    Raises
    ------
    ValueError
        If the configuration is invalid (before any data is read), or ``resume`` finds
        no checkpoint.

    Examples
    --------
    >>> config = TrainConfig(data="iris", solver="sgd", epochs=3)
    >>> result = run_training(config)  # out=DIR also writes the run's files
    >>> result.sanity.ok, result.metrics["solver"], round(result.metrics["test_accuracy"], 4)
    (True, 'sgd', 0.8667)
    """
    loss = config.validate()
    out = _run_dir(out, resume)
    ds = datasets.load(config.data, random_state=config.seed, target=config.target)
    model = build_classifier(
        config.model,
        ds.n_features,
        loss,
        ds.n_classes,
        hidden=config.hidden,
        random_state=config.seed,
    )
    sanity = initial_loss_check(model, loss, ds)
    class_weight = None
    if config.class_weight == "balanced":
        class_weight = losses.class_weights(ds.y_train, ds.n_classes, kind="balanced")
    _write_config(out, config)
    if on_start is not None:
        on_start(ds, sanity)
    started = time.perf_counter()
    run: dict[str, Any] = {
        "out": out,
        "resume": resume,
        "progress": progress,
        "callbacks": callbacks,
    }
    history = _train_model(config, model, loss, ds, class_weight, **run)
    seconds = time.perf_counter() - started
    metrics = summarize(model, loss, config, ds, history, sanity, seconds)
    if out is not None:
        write_run_files(out, model, loss, ds, history, metrics)
    return RunResult(config, ds, model, history, sanity, metrics, out)


RUN_FILES = ("config.json", "checkpoint.npz", "metrics.json", "model.npz", "loss_curve.png")


def _run_dir(out: str | os.PathLike[str] | None, resume: bool) -> Path | None:
    """``out`` as a Path (or None); resuming needs the checkpoint a run left there.

    Resuming removes what a killed write left behind; a new run removes an
    earlier run's checkpoint, so that what is there to resume is always this run's.
    """
    out = Path(out) if out is not None else None
    if out is None:
        if resume:
            raise ValueError("resume: no run directory given")
        return out
    if resume and not (out / "checkpoint.npz").is_file():
        raise ValueError(f"resume: no checkpoint.npz in {out}")
    if resume:
        files.remove_stale_temporaries(out, RUN_FILES)
    else:
        files.remove_checkpoint(out / "checkpoint.npz")
    return out


def _write_config(out, config):
    if out is not None:
        files.atomic_write_text(out / "config.json", json.dumps(asdict(config), indent=2))


def _train_model(config, model, loss, ds, class_weight, *, out, resume, progress, callbacks):
    """Train ``model`` on the dataset's training split with the config's solver; its History."""
    solver = config.solver_for(loss, *ds.X_train.shape)
    iterations = config.iterations(solver)
    reg = config.strength(len(ds.X_train), ds.n_classes)
    full_batch = {
        "reg": reg,
        "penalty": config.penalty,
        "class_weight": class_weight,
        "max_iter": iterations,
        "tol": FULL_BATCH_TOL,
    }
    if solver == "smoothing":
        return fit_smoothed(model, loss, ds.X_train, ds.y_train, **full_batch)
    if solver == "dual_cd":
        return fit_dual_cd(
            model, loss, ds.X_train, ds.y_train, random_state=config.seed, **full_batch
        )
    if solver != "sgd":
        return fit_full_batch(model, loss, ds.X_train, ds.y_train, method=solver, **full_batch)
    return fit(
        model,
        loss,
        ds.X_train,
        ds.y_train,
        optimizer=config.optimizer,
        lr=config.lr,
        schedule=config.schedule,
        batch_size=config.batch_size,
        epochs=iterations,
        reg=reg,
        penalty=config.penalty,
        class_weight=class_weight,
        validation=(ds.X_val, ds.y_val) if len(ds.X_val) else None,
        random_state=config.seed,
        progress=progress,
        callbacks=callbacks,
        checkpoint=None if out is None else out / "checkpoint.npz",
        resume=resume,
        clip_grad_norm=config.clip_grad_norm,
    )


def run_distributed(
    config: TrainConfig,
    scheduler: str,
    *,
    n_workers: int = 2,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
    on_connect: Callable[[Any], object] | None = None,
) -> tuple[LinearClassifier | MLPClassifier, dict[str, Any]]:
    """Train as ``config`` says on a Dask cluster (``scheduler``: an address or "local").

    Bundled data is split and standardised as in :func:`run_training` and sent
    to the workers in chunks; a ``.npy`` or Parquet path is read by the workers
    themselves (the path must be visible to them) and standardised on the
    cluster. ``on_connect(client)`` runs once connected (the CLI prints the
    dashboard link there). Writes config.json, checkpoint.npz (after every
    round), metrics.json, model.npz and loss_curve.png under ``out``.

    ``estimator, metrics = run_distributed(TrainConfig(), "local")`` trains the main
    job on a local cluster of two worker processes (it takes seconds to start);
    ``losslab train --scheduler`` is this call.

    Parameters
    ----------
    config : TrainConfig
        Every choice of the run; ``sync_every`` sets the local SGD rounds.
    scheduler : str
        "tcp://HOST:PORT" of a running Dask scheduler, or "local".
    n_workers : int, default 2
        Worker processes of a local cluster.
    out : str or path, optional
        The run directory.
    resume : bool, default False
        Continue from ``out``'s checkpoint.
    callbacks : sequence of callables
        Called after each round.
    on_connect : callable, optional
        ``on_connect(client)``, once connected.

    Returns
    -------
    estimator : LinearClassifier or MLPClassifier
        The fitted estimator (its model's weights are on this machine).
    metrics : dict
        Data, loss, solver, workers, rounds, training rows and accuracy, seconds, and
        the test accuracy for a bundled data set.

    Raises
    ------
    ValueError
        If the configuration is invalid (checked before connecting), the scheduler
        cannot be reached or ``resume`` finds no checkpoint.

    Examples
    --------
    >>> run_distributed(TrainConfig(model="cnn"), "local")
    Traceback (most recent call last):
    ...
    ValueError: model: expected 'linear' or 'mlp', got 'cnn'
    """
    loss = config.validate()
    out = _run_dir(out, resume)
    _write_config(out, config)
    checkpoint = None if out is None else out / "checkpoint.npz"
    with dask_data.connect(scheduler, n_workers) as client:
        if on_connect is not None:
            on_connect(client)
        X, y, test, mean, scale, name = _cluster_data(config, client)
        estimator = _estimator(config, config.solver_for(loss, *X.shape, in_memory=False))
        started = time.perf_counter()
        run: dict[str, Any] = {"checkpoint": checkpoint, "resume": resume, "callbacks": callbacks}
        distributed.fit(estimator, X, y, client=client, sync_every=config.sync_every, **run)
        seconds = time.perf_counter() - started
        metrics = _cluster_metrics(config, loss, estimator, client, X, y, name, seconds)
    if test is not None:
        metrics["test_accuracy"] = float(estimator.score(*test))
    if out is not None:
        _write_cluster_run_files(out, estimator, metrics, mean, scale, f"{loss.name} on {name}")
    return estimator, metrics


def _cluster_metrics(config, loss, estimator, client, X, y, name, seconds):
    return {
        "data": name,
        "loss": loss.name,
        "model": config.model,
        "solver": estimator.solver_,
        "reg": estimator.alpha_,
        "workers": len(client.scheduler_info()["workers"]),
        "rounds": estimator.history_.n_epochs,
        "train_rows": int(X.shape[0]),
        "train_accuracy": float((estimator.predict(X) == y).mean().compute()),
        "seconds": seconds,
    }


def _write_cluster_run_files(out, estimator, metrics, mean, scale, title):
    files.atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    persist.save(
        estimator,
        out / "model.npz",
        extra_arrays=None if mean is None else {"mean": mean, "scale": scale},
    )
    plots.loss_curve(estimator.history_, out / "loss_curve.png", title=f"{title} (Dask)")


def _cluster_data(config, client):
    """(X, y, test split or None, mean, scale, name) with X and y as Dask arrays."""
    import dask.array as da

    path = Path(config.data)
    if path.suffix.lower() in (".npy", ".parquet"):
        X, y = dask_data.read(path, target=config.target)
        mean, std = da.compute(X.mean(axis=0), X.std(axis=0))
        scale = np.where(std > 0, std, 1.0).astype(np.float32)
        return (X - mean.astype(np.float32)) / scale, y, None, mean, scale, path.name
    ds = datasets.load(config.data, random_state=config.seed, target=config.target)
    X_train = np.concatenate([ds.X_train, ds.X_val])
    y_train = np.concatenate([ds.y_train, ds.y_val])
    rows = -(-len(X_train) // (2 * max(1, len(client.scheduler_info()["workers"]))))
    X, y = da.from_array(X_train, chunks=(rows, -1)), da.from_array(y_train, chunks=rows)
    return X, y, (ds.X_test, ds.y_test), ds.mean, ds.scale, ds.name


def _estimator(config, solver):
    """The estimator a run on a cluster fits: the config's model, loss and penalty; ``solver``."""
    options = {
        "loss": config.loss,
        "loss_options": config.loss_options or None,
        "penalty": config.penalty,
        "alpha": config.alpha,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "schedule": config.schedule,
        "batch_size": config.batch_size,
        "max_iter": config.iterations(solver),
        "tol": None if solver == "sgd" else FULL_BATCH_TOL,
        "class_weight": config.class_weight,
        "random_state": config.seed,
    }
    if config.model == "mlp":
        return MLPClassifier(hidden_layer_sizes=config.hidden, **options)
    return LinearClassifier(solver=solver, **options)


def initial_loss_check(
    model: models.Model, loss: losses.Loss, ds: datasets.Dataset
) -> sanity_checks.SanityCheck:
    """The initial-loss check of an untrained model on the data set's training split.

    At near-zero scores the loss should be that of a uniform guess: ln C for softmax
    cross-entropy, C − 1 for the multiclass SVM (see
    :func:`losslab.diagnostics.sanity.initial_loss_check`).

    Parameters
    ----------
    model : Model
        The model before training.
    loss : Loss
    ds : Dataset

    Returns
    -------
    SanityCheck
        ``expected``, ``measured`` and ``ok``.

    Examples
    --------
    >>> ds = datasets.load("iris", random_state=0)
    >>> check = initial_loss_check(models.Linear(4, 3, random_state=0), losses.get("softmax"), ds)
    >>> check.ok, round(check.expected, 4)
    (True, 1.0986)
    """
    return sanity_checks.initial_loss_check(model, loss, ds.X_train, ds.y_train)


def summarize(
    model: models.Model,
    loss: losses.Loss,
    config: TrainConfig,
    ds: datasets.Dataset,
    history: History,
    sanity: sanity_checks.SanityCheck,
    seconds: float,
) -> dict[str, Any]:
    """The run's metrics, as ``metrics.json`` holds them.

    Parameters
    ----------
    model : Model
        The trained model.
    loss : Loss
    config : TrainConfig
    ds : Dataset
    history : History
        The training's history (for the number of epochs).
    sanity : SanityCheck
        The initial-loss check.
    seconds : float
        The training's wall time.

    Returns
    -------
    dict
        ``data``, ``loss``, ``model``, ``solver``, ``epochs``, then ``{split}_loss``
        (the regularized objective) and ``{split}_accuracy`` for each non-empty split
        of train, val and test, ``seconds`` and ``sanity`` (expected, measured, ok).

    Examples
    --------
    >>> config = TrainConfig(data="iris", solver="sgd", epochs=3)
    >>> r = run_training(config)
    >>> metrics = summarize(r.model, config.validate(), config, r.dataset, r.history, r.sanity, 0.0)
    >>> metrics == dict(r.metrics, seconds=0.0), metrics["epochs"]
    (True, 3)
    """
    reg = config.strength(len(ds.X_train), ds.n_classes)
    objective = Objective(model, loss, reg=reg, penalty=config.penalty)
    solver = config.solver_for(loss, *ds.X_train.shape)
    metrics = {
        "data": ds.name,
        "loss": loss.name,
        "model": config.model,
        "solver": solver,
        "reg": reg,  # the penalty strength trained with ("auto" resolved)
        "epochs": iterations_done(solver, history),
    }
    for split, X, y in (
        ("train", ds.X_train, ds.y_train),
        ("val", ds.X_val, ds.y_val),
        ("test", ds.X_test, ds.y_test),
    ):
        if len(X):
            r = evaluate(objective, X, encode_targets(loss, y, model.n_outputs))
            metrics[f"{split}_loss"] = r["val_loss"]
            metrics[f"{split}_accuracy"] = r["val_accuracy"]
    metrics["seconds"] = seconds
    metrics["sanity"] = {"expected": sanity.expected, "measured": sanity.measured, "ok": sanity.ok}
    return metrics


def write_run_files(
    out: Path,
    model: models.Model,
    loss: losses.Loss,
    ds: datasets.Dataset,
    history: History,
    metrics: dict[str, Any],
) -> None:
    """Write a finished run's ``metrics.json``, ``model.npz`` and ``loss_curve.png`` under ``out``.

    Each file is written atomically. ``model.npz`` carries the standardisation
    (``mean``, ``scale``) and the loss and class names, so ``losslab predict`` and
    the report can use it alone; image data sets also get ``weight_templates.png``
    for a linear model.

    Parameters
    ----------
    out : Path
        An existing directory.
    model : Model
    loss : Loss
    ds : Dataset
    history : History
    metrics : dict
        As :func:`summarize` returns it.

    Examples
    --------
    >>> import tempfile
    >>> config = TrainConfig(data="iris", solver="sgd", epochs=3)
    >>> r = run_training(config)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_run_files(Path(tmp), r.model, config.validate(), r.dataset, r.history, r.metrics)
    ...     sorted(p.name for p in Path(tmp).iterdir())
    ['loss_curve.png', 'metrics.json', 'model.npz']
    """
    files.atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    persist.save(
        model,
        out / "model.npz",
        extra_arrays={"mean": ds.mean, "scale": ds.scale} if ds.mean is not None else None,
        extra_header={"loss": loss.name, "loss_options": loss.options, "classes": ds.class_names},
    )
    plots.loss_curve(history, out / "loss_curve.png", title=f"{loss.name} on {ds.name}")
    if ds.image_shape is not None and isinstance(model, models.Linear):
        plots.weight_templates(
            model.params["W"], ds.image_shape, ds.class_names, out / "weight_templates.png"
        )


def load_config(run_dir: str | os.PathLike[str]) -> TrainConfig:
    """The :class:`TrainConfig` a run directory's ``config.json`` holds (for resuming).

    A configuration written before ``solver`` and ``epochs`` were recorded reads as
    the run it was: mini-batch SGD for 30 epochs.

    Parameters
    ----------
    run_dir : str or path
        The run directory.

    Returns
    -------
    TrainConfig

    Raises
    ------
    ValueError
        If ``config.json`` is missing, unreadable, or not a losslab configuration.

    Examples
    --------
    >>> import dataclasses, tempfile
    >>> config = TrainConfig(data="iris", hidden=(32, 16))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "config.json").write_text(json.dumps(dataclasses.asdict(config)))
    ...     load_config(tmp) == config
    True
    """
    path = Path(run_dir) / "config.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the run's configuration ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a losslab run configuration (not a JSON object)")
    raw["hidden"] = tuple(raw.get("hidden", (100,)))
    # a run configured before these were written trained SGD for 30 epochs
    raw.setdefault("solver", "sgd")
    raw.setdefault("epochs", SGD_EPOCHS)
    try:
        return TrainConfig(**raw)
    except TypeError as exc:
        raise ValueError(f"{path}: not a losslab run configuration ({exc})") from None
