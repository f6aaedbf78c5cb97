"""``losslab train``: in memory, streamed from a file (--stream), on a Dask cluster (--scheduler),
or metric learning (--task embed). An svmlight file (``--data file.svm``) trains on
its sparse rows as they are (in memory, or streamed), never densified."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from ..training.files import atomic_write_text
from .common import (
    Subparsers,
    UsageError,
    key_values,
    non_negative_float,
    non_negative_int,
    penalty_strength_arg,
    positive_float,
    positive_int,
    print_json,
    show_files,
)

if TYPE_CHECKING:
    from ..runs import TrainConfig

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
SCHEDULES = [
    "constant",
    "step",
    "exponential",
    "cosine",
    "invscaling",
    "warmup_cosine",
    "onecycle",
    "plateau",
]


def add_parsers(sub: Subparsers) -> None:
    p = sub.add_parser(
        "train",
        help="train a classifier (default: softmax on the bundled digits) and report",
        description="Train a linear or MLP classifier with any loss; with no options, softmax on digits.",
    )
    _add_data_options(p.add_argument_group("data and loss"))
    _add_model_options(p.add_argument_group("model"))
    _add_optimizer_options(p.add_argument_group("optimization"))
    _add_output_options(p.add_argument_group("output"))
    _add_embed_options(p.add_argument_group("metric learning (--task embed)"))
    _add_scale_options(p.add_argument_group("out of core and on a cluster"))
    p.epilog = TRAIN_JSON
    p.set_defaults(func=cmd_train, json_keys=IN_MEMORY_JSON_KEYS)


# what --json prints: the run's metrics, whose keys depend on where it trained
IN_MEMORY_JSON_KEYS = (
    "data", "loss", "model", "solver", "reg", "epochs", "seconds", "sanity",
    "train_accuracy", "train_loss", "val_accuracy", "val_loss", "test_accuracy", "test_loss",
)  # fmt: skip
TRAIN_JSON = f"""with --json, stdout is one JSON object (the run's metrics.json), with the keys:
  in memory     {", ".join(IN_MEMORY_JSON_KEYS[:8])},
                {", ".join(IN_MEMORY_JSON_KEYS[8:])}
  --scheduler   the same measures of the cluster run, with its rounds and workers
  --stream      data, loss, reg, rows_trained, test_accuracy
  --task embed  one object per set of features (learned, raw, PCA, ...) holding its
                retrieval metrics: recall@k, precision@k, mAP, MAP@R, R-precision, ..."""


def _add_data_options(g):
    g.add_argument(
        "--data",
        default="digits",
        help="iris, digits, wine, breast_cancer, blobs, moons, spiral, "
        "circles, a .csv/.npz path, a sparse .svm/.svmlight/.libsvm file, or cifar10:DIR "
        "(default: digits)",
    )
    g.add_argument(
        "--target", help="label column of a CSV file, by name or index (default: the last)"
    )
    g.add_argument(
        "--loss",
        help="any classification loss name or alias, or your own function as "
        "package.module:function returning (value, grad) (default: softmax; "
        "with --task embed, MetricLearner's default)",
    )
    g.add_argument(
        "--loss-option",
        action="append",
        metavar="KEY=VALUE",
        help="loss option, e.g. gamma=1 or margin=2",
    )
    g.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=None,
        help="balanced: weight each class by the inverse of its frequency (default: none)",
    )
    g.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of the split, the weights and the batches (default: 0)",
    )


def _add_model_options(g):
    g.add_argument(
        "--model",
        choices=["linear", "mlp"],
        help="model (default: linear; with --task embed, MetricLearner's default)",
    )
    g.add_argument(
        "--hidden",
        type=positive_int,
        nargs="+",
        default=[100],
        help="MLP hidden sizes (default: 100)",
    )
    g.add_argument(
        "--solver",
        choices=["auto", "sgd", "lbfgs", "gd", "smoothing", "dual_cd"],
        default="auto",
        help="auto (default): as the estimators, full batch for a linear model in memory "
        "(lbfgs, OWL-QN with an L1 penalty; for the hinge losses smoothing, or dual_cd on a large "
        "svmlight file), else sgd; sgd: mini-batches (local SGD on a cluster); lbfgs/gd: full "
        "batch; smoothing: Newton on a smoothed hinge; dual_cd: dual coordinate descent "
        "(liblinear's)",
    )


def _add_optimizer_options(g):
    g.add_argument(
        "--optimizer",
        default="adam",
        choices=OPTIMIZERS,
        help="first-order optimizer (default: adam)",
    )
    g.add_argument(
        "--lr",
        type=positive_float,
        help="learning rate (default: 1e-2; with --task embed, MetricLearner's default)",
    )
    g.add_argument(
        "--schedule",
        default="constant",
        choices=SCHEDULES,
        help="learning-rate schedule over the epochs, each with its defaults; plateau "
        "follows the validation loss (default: constant)",
    )
    g.add_argument(
        "--clip-grad-norm",
        type=non_negative_float,  # 0: a one-line error from the library's check
        metavar="MAX_NORM",
        help="scale each step's gradients to this global norm at most (sgd; default: no clipping)",
    )
    g.add_argument(
        "--batch-size", type=positive_int, default=64, help="samples per step (default: 64)"
    )
    g.add_argument(
        "--epochs",
        type=positive_int,
        help="passes over the training set (sgd, default 30); iterations of a full-batch "
        "solver (default 200); with --task embed, MetricLearner's default",
    )
    g.add_argument(
        "--reg",
        type=penalty_strength_arg,
        default="auto",
        help="weight penalty strength, or auto: 1 / (2 x training rows), LogisticRegression's "
        "C=1 (an MLP's auto: 1e-4) (default: auto)",
    )
    g.add_argument(
        "--penalty",
        choices=["l2", "l1", "elasticnet"],
        default="l2",
        help="weight penalty (default: l2)",
    )


def _add_output_options(g):
    g.add_argument(
        "--out",
        help="directory for config.json, checkpoint.npz, metrics.json, model.npz, loss_curve.png",
    )
    g.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the run in DIR from its last checkpoint (not for --stream or --task embed)",
    )
    g.add_argument("--quiet", action="store_true", help="print only the final table")
    g.add_argument("--json", action="store_true", help="print the metrics as JSON on stdout")


def _add_embed_options(g):
    g.add_argument(
        "--task",
        choices=["classify", "embed"],
        default="classify",
        help="classify (default) or embed: metric learning (MetricLearner; its losses by --loss)",
    )
    g.add_argument(
        "--mining",
        choices=["all", "hard", "semihard"],
        help="which triplets a triplet loss trains on (embed; default: MetricLearner's)",
    )
    g.add_argument(
        "--dim", type=positive_int, default=16, help="embedding dimension (embed; default: 16)"
    )


def _add_scale_options(g):
    g.add_argument(
        "--stream",
        action="store_true",
        help="train out of core on a .npy/.parquet/.csv/.svm file (chunks, shuffle buffer, "
        "partial_fit); writes no checkpoint, so --resume is refused",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="train on a Dask cluster: tcp://HOST:PORT, or 'local' to start one here",
    )
    g.add_argument(
        "--workers",
        type=positive_int,
        default=2,
        help="worker processes for --scheduler local (default: 2)",
    )
    g.add_argument(
        "--sync-every",
        type=positive_int,
        default=32,
        help="local SGD steps between weight averages (--scheduler; default: 32)",
    )


def cmd_train(args: argparse.Namespace) -> None:
    """Train; a run that diverges prints why in one line and exits 1 (its input was valid)."""
    from ..training import Diverged

    try:
        _train(args)
    except Diverged as exc:
        print(f"losslab train: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _train(args):
    from ..data.sources import is_sparse_file
    from ..runs import load_config

    sparse = args.task == "classify" and is_sparse_file(args.data)
    if args.resume and (args.stream or args.task == "embed" or sparse):
        # these runs keep no checkpoint: refuse rather than silently start again
        what = "--stream" if args.stream else "--task embed" if not sparse else "svmlight"
        raise UsageError(f"resume: {what} runs write no checkpoint; run again without --resume")
    if args.task == "embed" and args.clip_grad_norm is not None:
        raise UsageError("clip-grad-norm: MetricLearner (--task embed) does not clip its steps")
    if args.task == "embed":
        return cmd_embed(args)
    _classify_defaults(args)
    if args.stream:
        return cmd_train_stream(args)
    if sparse:
        return cmd_train_sparse(args)
    if args.resume:
        config, out = load_config(args.resume), args.resume
    else:
        config, out = _config(args), args.out
    config.validate()
    if args.scheduler:
        return cmd_train_distributed(args, config, out)
    return cmd_train_in_memory(args, config, out)


# a classifier's defaults for the options --task embed leaves to MetricLearner (--epochs
# left unset means the solver's own default, see runs.TrainConfig.iterations)
CLASSIFY_DEFAULTS = {"loss": "softmax", "model": "linear", "lr": 1e-2}


def _classify_defaults(args):
    for name, value in CLASSIFY_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def _config(args):
    """The run's configuration from the command line."""
    from ..runs import TrainConfig

    return TrainConfig(
        data=args.data,
        target=args.target,
        loss=args.loss,
        loss_options=_loss_options(args),
        model=args.model,
        hidden=tuple(args.hidden),
        optimizer=args.optimizer,
        lr=args.lr,
        schedule=args.schedule,
        batch_size=args.batch_size,
        epochs=args.epochs,
        reg=args.reg,
        penalty=args.penalty,
        class_weight=args.class_weight,
        seed=args.seed,
        solver=args.solver,
        sync_every=args.sync_every,
        clip_grad_norm=args.clip_grad_norm,
    )


def _loss_options(args):
    """``--loss-option`` KEY=VALUE pairs as a dict, each an option of ``--loss`` (else one error naming the flag)."""
    from .. import losses

    options = key_values(args.loss_option)
    if options:
        losses.get(args.loss).bind(options, "--loss-option")
    return options


def cmd_train_in_memory(args: argparse.Namespace, config: TrainConfig, out: Path) -> None:
    from ..runs import run_training
    from ..training.doctor import TrainingDoctor

    console = Console(stderr=args.json, quiet=args.quiet and not args.json)
    console.print(f"[bold]losslab train[/]: {config.loss} · {config.model}")

    def on_start(dataset, sanity):
        console.print(dataset.summary())
        n_rows = len(dataset.X_train)
        doctor.reg = config.strength(n_rows, dataset.n_classes)
        console.print(config.describe_penalty(n_rows, dataset.n_classes))
        loss = config.validate()
        console.print(config.describe_solver(loss, *dataset.X_train.shape))
        console.print(("[green]" if sanity.ok else "[red]") + f"sanity {sanity}" + "[/]")
        doctor.initial_loss, doctor.expected_initial_loss = sanity.measured, sanity.expected

    # the training doctor watches every epoch and prints each diagnosis once, when it is found
    doctor = TrainingDoctor(on_diagnosis=lambda d: console.print(f"[red]doctor[/]: {d}"))
    result = run_training(
        config,
        out=out,
        resume=bool(args.resume),
        progress=not (args.quiet or args.json),
        on_start=on_start,
        callbacks=(doctor,),
    )
    if args.json:
        print(json.dumps(result.metrics, indent=2))
        return
    Console().print(_metrics_table(result.metrics))  # the result, even with --quiet
    _show_run_files(console, out)


def cmd_train_distributed(args: argparse.Namespace, config: TrainConfig, out: Path) -> None:
    from ..runs import run_distributed

    console = Console(stderr=args.json, quiet=args.quiet and not args.json)
    where = "a local cluster" if args.scheduler == "local" else args.scheduler
    console.print(
        f"[bold]losslab train --scheduler[/]: {config.loss} · {config.model} · solver "
        f"{config.solver} on {config.data} on {where}"
    )

    def on_connect(client):
        workers = len(client.scheduler_info()["workers"])
        console.print(f"connected: {workers} workers · dashboard {client.dashboard_link}")

    def on_round(round_, logs, model):
        if not args.quiet and (round_ % 10 == 0 or round_ == 1):
            console.print(f"round {round_}: loss {logs['train_loss']:.4f}")

    _, metrics = run_distributed(
        config,
        args.scheduler,
        n_workers=args.workers,
        out=out,
        resume=bool(args.resume),
        callbacks=(on_round,),
        on_connect=on_connect,
    )
    if args.json:
        print(json.dumps(metrics, indent=2))
        return
    # the result, even with --quiet; one line however narrow the terminal (a test reads it)
    Console(soft_wrap=True).print(_distributed_line(metrics))
    _show_run_files(console, out)


def _distributed_line(metrics):
    line = (
        f"solver {metrics['solver']}: {metrics['rounds']} rounds on {metrics['workers']} workers "
    )
    line += f"in {metrics['seconds']:.1f} s; "
    line += f"train accuracy {metrics['train_accuracy']:.4f}"
    if "test_accuracy" in metrics:
        line += f", test accuracy {metrics['test_accuracy']:.4f}"
    return line


def cmd_train_stream(args: argparse.Namespace) -> None:
    from ..data.sources import open_source
    from ..estimators import LinearClassifier, persist
    from ..runs import SGD_EPOCHS
    from ..scale.stream import fit_stream, score_stream

    epochs = args.epochs or SGD_EPOCHS  # streaming is mini-batch training by partial_fit
    source = open_source(args.data, target=args.target)
    console = Console(stderr=args.json)
    console.print(
        f"[bold]losslab train --stream[/]: {args.loss} on {args.data} (every 10th row held out for testing)"
    )
    estimator = LinearClassifier(
        args.loss,
        loss_options=_loss_options(args) or None,
        lr=args.lr,
        alpha=args.reg,
        optimizer=args.optimizer,
        random_state=args.seed,
        clip_grad_norm=args.clip_grad_norm,
    )
    estimator, stats = fit_stream(
        estimator,
        source,
        epochs=epochs,
        batch_size=max(args.batch_size, 256),
        seed=args.seed,
        holdout_every=10,
        callback=None if args.quiet else _epoch_done(console, epochs),
    )
    accuracy = score_stream(estimator, source, stats, holdout_every=10)
    metrics = {
        "data": str(args.data),
        "loss": args.loss,
        # the strength trained with: fit_stream's "auto" counts each training row once,
        # 1 / (2 · rows_trained), as an in-memory fit does
        "reg": estimator.alpha_,
        "rows_trained": stats.n_rows,
        "test_accuracy": accuracy,
    }
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        console.print(f"{stats.n_rows} training rows streamed; test accuracy {accuracy:.4f}")
    if args.out:
        out = Path(args.out)
        atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
        persist.save(
            estimator, out / "model.npz", extra_arrays={"mean": stats.mean, "scale": stats.scale}
        )


def cmd_train_sparse(args: argparse.Namespace) -> None:
    """``--data file.svm``: a linear model on the file's sparse rows (CSR, never densified).

    A stratified, seeded 80/20 train/test split (data.load's test share); the
    features train as they are (centring would densify them). The solver is
    the estimator's: "auto" takes a full-batch method while the stored values
    fit its limit, else mini-batches.
    """
    import numpy as np

    from ..data.datasets import split_rows
    from ..data.formats import read_svmlight
    from ..estimators import persist

    if args.scheduler or args.model != "linear":
        what = "--scheduler" if args.scheduler else f"--model {args.model}"
        raise UsageError(
            f"data: an svmlight file trains a linear model in memory or with --stream, not {what}"
        )
    console = Console(stderr=args.json, quiet=args.quiet and not args.json)
    console.print(f"[bold]losslab train[/]: {args.loss} · linear · sparse")
    X, y, _ = read_svmlight(args.data, args.target)
    split = split_rows(X, y, test_size=0.2, random_state=args.seed, source=args.data)
    console.print(_sparse_summary(args.data, *split))
    n_rows, n_columns = split[0].shape
    estimator, solver = _sparse_estimator(args, n_rows, n_columns, split[0].nnz)
    # "auto" resolved on the training rows, as the in-memory run prints it
    n_classes = len(np.unique(split[1]))
    console.print(_config(args).describe_penalty(split[0].shape[0], n_classes))
    console.print(f"solver {solver}" + (" (chosen by auto)" if args.solver == "auto" else ""))
    started = time.perf_counter()
    estimator.fit(split[0], split[1])
    metrics = _sparse_metrics(args, estimator, split, time.perf_counter() - started)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        Console().print(_metrics_table(metrics))  # the result, even with --quiet
    if args.out:
        out = Path(args.out)
        atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
        persist.save(estimator, out / "model.npz")
        _show_run_files(console, out)


def _sparse_summary(path, X_train, y_train, X_test, y_test):
    import numpy as np

    rows, width = X_train.shape[0] + X_test.shape[0], X_train.shape[1]
    stored = X_train.nnz + X_test.nnz
    sparse_mb = (X_train.data.nbytes + X_train.indices.nbytes + X_test.data.nbytes) / 1e6
    return (
        f"{Path(path).name}: {X_train.shape[0]} train / {X_test.shape[0]} test, {width} features, "
        f"{len(np.unique(y_train))} classes; {stored / rows:.1f} stored values a row "
        f"(CSR {sparse_mb:.1f} MB; dense it would be {rows * width * 8 / 1e6:.1f} MB)"
    )


def _sparse_estimator(args, n_rows, n_columns, nnz):
    """The LinearClassifier of the command line's options, and the solver it will train with."""
    from ..estimators import LinearClassifier
    from ..runs import FULL_BATCH_ITERATIONS, SGD_EPOCHS

    options = {
        "loss": args.loss,
        "loss_options": _loss_options(args) or None,
        "penalty": args.penalty,
        "alpha": args.reg,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "schedule": args.schedule,
        "batch_size": args.batch_size,
        "class_weight": args.class_weight,
        "random_state": args.seed,
        "clip_grad_norm": args.clip_grad_norm,
        "solver": args.solver,
    }
    # a sparse row costs its stored values: the rule of solver="auto" counts those
    spec = LinearClassifier(**options).training_spec(n_rows)
    solver = spec.solver_for(n_rows, nnz / max(n_rows, 1), sparse=True, n_columns=n_columns)
    max_iter = args.epochs or (SGD_EPOCHS if solver == "sgd" else FULL_BATCH_ITERATIONS)
    return LinearClassifier(max_iter=max_iter, **options), solver


def _sparse_metrics(args, estimator, split, seconds):
    """The run's metrics: the keys of an in-memory run's, without the validation split and sanity."""
    import numpy as np

    from ..training.objective import Objective, encode_targets, evaluate

    spec = estimator.training_spec(split[0].shape[0])
    objective = Objective(estimator.model_, spec.loss, reg=estimator.alpha_, penalty=args.penalty)
    metrics = {
        "data": Path(args.data).name,
        "loss": spec.loss.name,
        "model": "linear",
        "solver": estimator.solver_,
        "reg": estimator.alpha_,
        "epochs": int(estimator.n_iter_),
    }
    for name, X, y in (("train", *split[:2]), ("test", *split[2:])):
        seen = np.isin(y, estimator.classes_)  # a class only in the test split has no score column
        labels = np.searchsorted(estimator.classes_, y[seen])
        target = encode_targets(spec.loss, labels, estimator.model_.n_outputs)
        metrics[f"{name}_accuracy"] = float(estimator.score(X, y))
        metrics[f"{name}_loss"] = evaluate(objective, X[seen], target)["val_loss"]
    metrics["seconds"] = seconds
    return metrics


def _epoch_done(console, epochs):
    def report(epoch, estimator):
        console.print(f"epoch {epoch}/{epochs} done")

    return report


def cmd_embed(args: argparse.Namespace) -> None:
    from .. import data as datasets
    from ..diagnostics import retrieval

    ds = datasets.load(args.data, random_state=args.seed, standardize=False)
    console = Console(stderr=args.json)
    console.print(
        f"[bold]losslab train --task embed[/]: {args.loss or 'default loss'} · "
        f"{args.model or 'default model'} → {args.dim} dims on {ds.summary()}"
    )
    learner, reports = retrieval.embedding_run(
        ds,
        n_components=args.dim,
        model=args.model,
        loss=args.loss,
        mining=args.mining,
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
    )
    table = Table(title="retrieval of test images among training images (held-out samples)")
    table.add_column("features")
    for column in retrieval.TABLE_COLUMNS:
        table.add_column(column, justify="right")
    for name, values in retrieval.retrieval_table(reports):
        table.add_row(name, *(f"{v:.4f}" for v in values))
    console.print(table)
    if args.out:
        files = retrieval.save_embedding_run(args.out, ds, learner, reports, loss=learner.loss)
        show_files(console, Path(args.out), files)
    print_json(args, reports)


def _show_run_files(console, out):
    if out:
        show_files(console, out, sorted(p.name for p in Path(out).iterdir() if p.is_file()))


def _metrics_table(m):
    unit = {"sgd": "epochs", "smoothing": "smoothing Newton steps", "dual_cd": "dual epochs"}.get(
        m.get("solver", "sgd"), f"{m.get('solver')} iterations"
    )
    table = Table(title=f"{m['loss']} on {m['data']} ({m['epochs']} {unit}, {m['seconds']:.2f} s)")
    table.add_column("split")
    table.add_column("accuracy", justify="right")
    table.add_column("loss", justify="right")
    for split in ("train", "val", "test"):
        if f"{split}_accuracy" in m:
            table.add_row(split, f"{m[f'{split}_accuracy']:.4f}", f"{m[f'{split}_loss']:.4f}")
    return table
