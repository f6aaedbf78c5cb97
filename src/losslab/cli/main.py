"""The ``losslab`` command line: a thin layer over the library.

Every sub-command parses its arguments, calls library functions and prints.
Bad arguments or unreadable files end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from ..training import build_classifier
from ..training.files import atomic_write_text


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit code 2."""


def cmd_examples(args):
    from ..examples import worked_examples

    rows = worked_examples()
    table = Table(title="The seed notes' worked examples, computed by losslab")
    for col in ("seed", "example", "notes say", "losslab", ""):
        table.add_column(col, justify="right" if col in ("notes say", "losslab") else "left")
    for ex in rows:
        ok = abs(ex.computed - ex.expected) <= 0.01 * max(1.0, abs(ex.expected))
        table.add_row(
            ex.source,
            ex.description,
            f"{ex.expected:g}",
            f"{ex.computed:.4f}",
            "[green]✓[/]" if ok else "[red]✗[/]",
        )
    Console().print(table)


def cmd_embed(args):
    from .. import data as datasets
    from .. import plots
    from ..diagnostics.retrieval import embedding_run
    from ..estimators import persist
    from ..losses.ranking import pairwise_distances

    if args.loss not in ("triplet", "contrastive"):
        raise UsageError(
            f"loss: --task embed trains with 'triplet' or 'contrastive', got {args.loss!r}"
        )
    ds = datasets.load(args.data, random_state=args.seed, standardize=False)
    console = Console()
    console.print(
        f"[bold]losslab train --task embed[/]: {args.loss} ({args.mining}) · {args.model} → {args.dim} dims on {ds.summary()}"
    )
    learner, reports = embedding_run(
        ds,
        n_components=args.dim,
        model=args.model,
        loss=args.loss,
        mining=args.mining,
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
    )
    keys = ["recall@1", "recall@5", "precision@5", "mAP"]
    table = Table(title="retrieval of test images among training images (held-out samples)")
    table.add_column("features")
    for k in keys:
        table.add_column(k, justify="right")
    for name, rep in reports.items():
        table.add_row(name, *(f"{rep[k]:.4f}" for k in keys))
    console.print(table)
    if args.out:
        out = Path(args.out)
        Z = learner.transform(ds.X_test)
        plots.embedding_figure(
            Z,
            ds.y_test,
            ds.class_names,
            out / "embedding_pca.png",
            f"learned embedding of the test split ({args.loss})",
        )
        files = ["metrics.json", "model.npz", "embedding_pca.png"]
        if ds.image_shape is not None:
            gallery = learner.transform(ds.X_train)
            d = pairwise_distances(np.vstack([Z[:8], gallery]))[:8, 8:]
            nearest = np.argsort(d, axis=1)[:, :5]
            plots.retrieval_figure(
                ds.X_test[:8],
                ds.X_train[nearest],
                ds.y_test[:8],
                ds.y_train[nearest],
                ds.image_shape,
                out / "retrieval_examples.png",
            )
            files.append("retrieval_examples.png")
        atomic_write_text(out / "metrics.json", json.dumps(reports, indent=2))
        persist.save(
            learner.model_,
            out / "model.npz",
            extra_header={"task": "embed", "loss": args.loss, "normalize": True},
        )
        _show_files(console, out, files)


def cmd_train_stream(args):
    from ..data.sources import open_source
    from ..estimators import LinearClassifier, persist
    from ..scale.stream import fit_stream, score_stream

    source = open_source(args.data, target=args.target)
    console = Console(stderr=args.json)
    console.print(
        f"[bold]losslab train --stream[/]: {args.loss} on {args.data} (every 10th row held out for testing)"
    )
    estimator = LinearClassifier(
        args.loss, lr=args.lr, alpha=args.reg, optimizer=args.optimizer, random_state=args.seed
    )

    def report(epoch, est):
        console.print(f"epoch {epoch}/{args.epochs} done")

    estimator, stats = fit_stream(
        estimator,
        source,
        epochs=args.epochs,
        batch_size=max(args.batch_size, 256),
        seed=args.seed,
        holdout_every=10,
        callback=None if args.quiet else report,
    )
    accuracy = score_stream(estimator, source, stats, holdout_every=10)
    metrics = {
        "data": str(args.data),
        "loss": args.loss,
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


def cmd_train_distributed(args, config, out):
    from ..runs import run_distributed

    console = Console(stderr=args.json, quiet=args.quiet and not args.json)
    where = "a local cluster" if args.scheduler == "local" else args.scheduler
    console.print(
        f"[bold]losslab train --scheduler[/]: {config.loss} · {config.model} · {config.solver} "
        f"on {config.data}, {config.epochs} {'epochs' if config.solver == 'sgd' else 'iterations'} "
        f"on {where}"
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
    line = f"{metrics['rounds']} rounds on {metrics['workers']} workers in {metrics['seconds']:.1f} s; "
    line += f"train accuracy {metrics['train_accuracy']:.4f}"
    if "test_accuracy" in metrics:
        line += f", test accuracy {metrics['test_accuracy']:.4f}"
    Console().print(line)  # the result, even with --quiet
    _show_run_files(console, out)


def cmd_train(args):
    from ..runs import TrainConfig, load_config, run_training

    if args.task == "embed":
        return cmd_embed(args)
    if args.stream:
        return cmd_train_stream(args)

    console = Console(stderr=args.json, quiet=args.quiet and not args.json)
    if args.resume:
        config, out = load_config(args.resume), args.resume
    else:
        config = TrainConfig(
            data=args.data,
            target=args.target,
            loss=args.loss,
            loss_options=_options(args.loss_option),
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
        )
        out = args.out
    config.validate()
    if args.scheduler:
        return cmd_train_distributed(args, config, out)
    console.print(
        f"[bold]losslab train[/]: {config.loss} · {config.model} · {config.optimizer} lr={config.lr:g} "
        f"· batch {config.batch_size} · {config.epochs} epochs · reg={config.reg:g}"
    )

    def on_start(dataset, sanity):
        console.print(dataset.summary())
        console.print(("[green]" if sanity.ok else "[red]") + f"sanity {sanity}" + "[/]")

    result = run_training(
        config,
        out=out,
        resume=bool(args.resume),
        progress=not (args.quiet or args.json),
        on_start=on_start,
    )
    if args.json:
        print(json.dumps(result.metrics, indent=2))
        return
    Console().print(_metrics_table(result.metrics))  # the result, even with --quiet
    _show_run_files(console, out)


def _show_run_files(console, out):
    if out:
        _show_files(console, out, sorted(p.name for p in Path(out).iterdir() if p.is_file()))


def _metrics_table(m):
    unit = "epochs" if m.get("solver", "sgd") == "sgd" else f"{m['solver']} iterations"
    table = Table(title=f"{m['loss']} on {m['data']} ({m['epochs']} {unit}, {m['seconds']:.2f} s)")
    table.add_column("split")
    table.add_column("accuracy", justify="right")
    table.add_column("loss", justify="right")
    for split in ("train", "val", "test"):
        if f"{split}_accuracy" in m:
            table.add_row(split, f"{m[f'{split}_accuracy']:.4f}", f"{m[f'{split}_loss']:.4f}")
    return table


def _options(pairs):
    """KEY=VALUE strings to a dict of numbers (or strings)."""
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--loss-option: expected KEY=VALUE, got {pair!r}")
        try:
            options[key] = float(value)
        except ValueError:
            options[key] = value
    return options


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _add_train(sub):
    p = sub.add_parser(
        "train",
        help="train a classifier (default: softmax on the bundled digits) and report",
        description="Train a linear or MLP classifier with any loss; with no options, softmax on digits.",
    )
    p.add_argument(
        "--data",
        default="digits",
        help="iris, digits, wine, breast_cancer, blobs, moons, spiral, "
        "circles, a .csv/.npz path, or cifar10:DIR (default: digits)",
    )
    p.add_argument(
        "--target", help="label column of a CSV file, by name or index (default: the last)"
    )
    p.add_argument(
        "--loss", default="softmax", help="any classification loss name or alias (default: softmax)"
    )
    p.add_argument(
        "--loss-option",
        action="append",
        metavar="KEY=VALUE",
        help="loss option, e.g. gamma=1 or margin=2",
    )
    p.add_argument("--model", choices=["linear", "mlp"], default="linear")
    p.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=[100],
        help="MLP hidden sizes (default: 100)",
    )
    p.add_argument(
        "--optimizer",
        default="adam",
        choices=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
    )
    p.add_argument(
        "--lr", type=_non_negative_float, default=1e-2, help="learning rate (default: 1e-2)"
    )
    p.add_argument(
        "--schedule",
        default="constant",
        choices=["constant", "step", "exponential", "cosine", "invscaling"],
    )
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--epochs", type=_positive_int, default=30)
    p.add_argument(
        "--reg",
        type=_non_negative_float,
        default=1e-4,
        help="weight penalty strength (default: 1e-4)",
    )
    p.add_argument("--penalty", choices=["l2", "l1", "elasticnet"], default="l2")
    p.add_argument("--class-weight", choices=["balanced"], default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out",
        help="directory for config.json, checkpoint.npz, metrics.json, model.npz, loss_curve.png",
    )
    p.add_argument(
        "--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint"
    )
    p.add_argument("--quiet", action="store_true", help="print only the final table")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON on stdout")
    p.add_argument(
        "--task",
        choices=["classify", "embed"],
        default="classify",
        help="classify (default) or embed: metric learning with --loss triplet|contrastive",
    )
    p.add_argument(
        "--stream",
        action="store_true",
        help="train out of core on a .npy/.parquet/.csv file (chunks, shuffle buffer, partial_fit)",
    )
    p.add_argument(
        "--mining",
        choices=["all", "hard", "semihard"],
        default="semihard",
        help="triplet mining (embed)",
    )
    p.add_argument("--dim", type=_positive_int, default=16, help="embedding dimension (embed)")
    p.add_argument(
        "--solver",
        choices=["sgd", "lbfgs", "gd"],
        default="sgd",
        help="sgd: mini-batches (local SGD on a cluster); lbfgs/gd: full batch (linear model)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="train on a Dask cluster: tcp://HOST:PORT, or 'local' to start one here",
    )
    p.add_argument(
        "--workers", type=_positive_int, default=2, help="worker processes for --scheduler local"
    )
    p.add_argument(
        "--sync-every",
        type=_positive_int,
        default=32,
        help="local SGD steps between weight averages (--scheduler)",
    )
    p.set_defaults(func=cmd_train)


def cmd_fit_curve(args):
    from .. import data as datasets
    from .. import plots
    from ..optim import curvefit

    x, y = datasets.read_xy(args.data, target=args.target)
    fit = curvefit.fit_model(
        args.model, x, y, loss=args.loss, method=args.method, f_scale=args.f_scale
    )
    model = curvefit.MODELS[args.model]
    console = Console()
    table = Table(
        title=f"{model.formula} fitted to {args.data} ({len(x)} points, {args.loss}, {args.method})"
    )
    for col in ("parameter", "value", "± standard error"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for name, value, err in zip(model.names, fit.params, fit.stderr, strict=True):
        table.add_row(name, f"{value:.6g}", f"{err:.2g}")
    console.print(table)
    console.print(f"{fit.result}")
    if args.out:
        out = Path(args.out)
        plots.curve_fit_figure(x, y, fit, model, out / "fit.png")
        report = {
            "data": str(args.data),
            "model": args.model,
            "formula": model.formula,
            "loss": args.loss,
            "method": args.method,
            "params": dict(zip(model.names, fit.params.tolist(), strict=True)),
            "stderr": dict(zip(model.names, fit.stderr.tolist(), strict=True)),
            "cost": fit.result.cost,
            "nfev": fit.result.nfev,
            "success": fit.result.success,
            "message": fit.result.message,
        }
        atomic_write_text(out / "fit.json", json.dumps(report, indent=2))
        console.print(f"files in {out}: fit.json, fit.png")


def _add_fit_curve(sub):
    from ..optim.curvefit import LOSSES, METHODS, MODELS

    p = sub.add_parser(
        "fit-curve",
        help="fit a named curve to two columns of data (default: the seed's stone trajectory)",
        description="Least-squares curve fitting with Levenberg-Marquardt, Gauss-Newton or gradient descent.",
    )
    p.add_argument(
        "data",
        nargs="?",
        default="trajectory",
        help="a CSV file (x = first column, y = last) or 'trajectory' (bundled: a thrown stone)",
    )
    p.add_argument(
        "--model", choices=list(MODELS), default="poly2", help="model family (default: poly2)"
    )
    p.add_argument(
        "--method", choices=list(METHODS), default="lm", help="lm, gn or gd (default: lm)"
    )
    p.add_argument(
        "--loss",
        choices=list(LOSSES),
        default="squared_error",
        help="squared_error or a robust loss against outliers (default: squared_error)",
    )
    p.add_argument(
        "--f-scale",
        type=_non_negative_float,
        default=1.0,
        help="residual size where a robust loss starts to bend (default: 1)",
    )
    p.add_argument("--target", help="y column of the CSV, by name or index (default: the last)")
    p.add_argument("--out", help="directory for fit.json and fit.png (data, fit and residuals)")
    p.set_defaults(func=cmd_fit_curve)


def cmd_sanity(args):
    from .. import data as datasets
    from .. import losses
    from ..diagnostics import sanity_check

    loss = losses.get(args.loss)
    if loss.task not in ("multiclass", "binary"):
        raise UsageError(
            f"loss: {loss.name} is a {loss.task} loss; sanity checks classification losses"
        )
    ds = datasets.load(args.data, random_state=args.seed)

    def build():
        return build_classifier(
            args.model,
            ds.n_features,
            loss,
            ds.n_classes,
            hidden=tuple(args.hidden),
            random_state=args.seed,
        )

    report = sanity_check(
        build(), loss, ds.X_train, ds.y_train, model_factory=build, seed=args.seed
    )
    console = Console()
    console.print(f"[bold]losslab sanity[/]: {loss.name} · {args.model} on {ds.summary()}")
    for check in report.checks:
        console.print(("[green]" if check.ok else "[red]") + str(check) + "[/]")
    if not report.ok:
        raise SystemExit(1)


def cmd_gradcheck(args):
    import numpy as np

    from .. import check_gradient, losses

    loss = losses.get(args.loss)
    n, c = args.shape
    rng = np.random.default_rng(args.seed)
    dtype = np.dtype(args.dtype)
    output, targets = _gradcheck_inputs(loss, n, c, rng, dtype)
    console = Console()
    ok = True
    for k, name in enumerate(("output", *(f"input {i}" for i in range(2, 2 + len(targets))))):
        if k > 0 and loss.task != "ranking":
            break
        point = output if k == 0 else targets[k - 1]

        def f(x, k=k):
            args_ = [output, *targets]
            args_[k] = x
            return loss(*args_).value

        grad = loss(output, *targets).grad
        grad = grad[k] if isinstance(grad, tuple) else grad
        report = check_gradient(f, point.copy(), analytic=grad, n_checks=args.checks)
        console.print(f"{loss.name}, gradient with respect to the {name} {point.shape} {dtype}:")
        console.print(("[green]" if report.ok else "[red]") + str(report) + "[/]")
        ok &= report.ok
    if not ok:
        raise SystemExit(1)


def _gradcheck_inputs(loss, n, c, rng, dtype):
    """A random output of shape (n, c) and the targets the loss expects."""
    output = rng.standard_normal((n, c)).astype(dtype)
    if loss.task == "multiclass":
        if loss.name == "categorical_cross_entropy":
            output = rng.uniform(0.05, 1.0, (n, c)).astype(dtype)
        return output, [rng.integers(0, c, n)]
    if loss.task == "binary":
        if loss.name == "binary_cross_entropy":
            output = rng.uniform(0.05, 0.95, (n, c)).astype(dtype)
        return output, [rng.integers(0, 2, (n, c)).astype(dtype)]
    if loss.task == "regression":
        return output, [rng.standard_normal((n, c)).astype(dtype)]
    if loss.name == "margin_ranking":
        return output, [
            rng.standard_normal((n, c)).astype(dtype),
            rng.choice([-1.0, 1.0], (n, c)).astype(dtype),
        ]
    if loss.name == "triplet_margin":
        return output, [rng.standard_normal((n, c)).astype(dtype) for _ in range(2)]
    return output, [rng.integers(0, 3, n)]  # batch_triplet, contrastive: labels of the embeddings


def _shape(text):
    try:
        n, c = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N,C such as 8,5, got {text!r}") from None
    if n < 1 or c < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes, got {text!r}")
    return n, c


def _add_diagnostics(sub):
    p = sub.add_parser(
        "sanity", help="CS231n's checks: initial loss, regularization, overfitting a tiny subset"
    )
    p.add_argument("--data", default="digits", help="dataset name or path (default: digits)")
    p.add_argument("--loss", default="softmax", help="classification loss (default: softmax)")
    p.add_argument(
        "--model",
        choices=["mlp", "linear"],
        default="mlp",
        help="model to check (default: mlp, which can overfit any tiny subset)",
    )
    p.add_argument("--hidden", type=_positive_int, nargs="+", default=[100])
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_sanity)
    p = sub.add_parser(
        "gradcheck", help="compare a loss's analytic gradient with centred differences"
    )
    p.add_argument("--loss", default="softmax", help="any loss name or alias (default: softmax)")
    p.add_argument("--shape", type=_shape, default=(8, 5), help="N,C of the output (default: 8,5)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument(
        "--checks", type=_positive_int, default=None, help="check this many random coordinates only"
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_gradcheck)


def _out_dir(args, default):
    out = Path(args.out or default)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _show_files(console, out, names):
    console.print(f"files in {out}: {', '.join(names)}")


def cmd_landscape(args):
    from .. import data as datasets
    from .. import plots
    from ..diagnostics.landscape import train_and_slice

    ds = datasets.load(args.data, random_state=args.seed)
    console = Console()
    console.print(f"[bold]losslab landscape[/]: {args.loss} · {args.model} on {ds.summary()}")
    main, plain, ridge = train_and_slice(
        ds,
        args.loss,
        model=args.model,
        hidden=tuple(args.hidden),
        reg=args.reg,
        compare_reg=args.compare_reg,
        epochs=args.epochs,
        directions=args.directions,
        resolution=args.resolution,
        span=args.span,
        seed=args.seed,
    )
    out = _out_dir(args, "runs/landscape")
    title = f"{args.loss} on {ds.name}"
    files = [p.name for p in plots.landscape_figures(main, out, title).values()]
    plots.regularization_landscapes(
        plain,
        ridge,
        out / "landscape_regularization.png",
        f"{title}: the same slice without and with L2 (random directions)",
    )
    files.append("landscape_regularization.png")
    console.print(
        f"loss at the trained point {main.values[len(main.betas) // 2, len(main.alphas) // 2]:.4g}; "
        f"slice min {main.values.min():.4g}, max {main.values.max():.4g}"
    )
    _show_files(console, out, files)


def cmd_plot(args):
    from .. import plots

    out = _out_dir(args, "runs/plots")
    plots.loss_gallery(out / "losses_classification.png", out / "losses_regression.png")
    _show_files(Console(), out, ["losses_classification.png", "losses_regression.png"])


def cmd_compare(args):
    from .. import data as datasets
    from .. import plots
    from ..diagnostics import compare

    ds = datasets.load(args.data, random_state=args.seed)
    console = Console()
    out = _out_dir(args, "runs/compare")
    console.print(f"[bold]losslab compare[/] on {ds.summary()}")
    names = [n.strip() for n in args.losses.split(",") if n.strip()]
    runs = compare.compare_losses(
        ds, names, model=args.model, epochs=args.epochs, lr=args.lr, seed=args.seed
    )
    table = Table(title=f"losses on {ds.name}: same split, model, optimizer and epochs")
    for col in ("loss", "test accuracy", "final training loss", "seconds", "epochs"):
        table.add_column(col, justify="left" if col == "loss" else "right")
    for r in runs:
        table.add_row(
            r.loss,
            f"{r.test_accuracy:.4f}",
            f"{r.final_loss:.4g}",
            f"{r.seconds:.2f}",
            str(r.epochs),
        )
    console.print(table)
    plots.compare_curves(runs, out / "compare_losses.png", f"losses on {ds.name}")
    rows = compare.robustness_experiment()
    table = Table(title="seed 001: nudging the scores of a correctly classified example")
    for col in ("nudge", "scores (correct class first)", "SVM loss", "softmax loss"):
        table.add_column(col, justify="right")
    for size, scores, svm, softmax in rows:
        table.add_row(f"{size:g}", str(scores), f"{svm:.4f}", f"{softmax:.4f}")
    console.print(table)
    console.print("the SVM loss stays 0 while the margins are met; softmax always moves")
    files = ["compare_losses.png"]
    if args.batch_sizes:
        sizes = [0 if b.strip().upper() == "N" else int(b) for b in args.batch_sizes.split(",")]
        bruns = compare.batch_size_experiment(
            ds, sizes, loss=names[0], epochs=args.epochs, seed=args.seed
        )
        table = Table(title=f"batch sizes ({names[0]}, {args.epochs} epochs)")
        for col in (
            "batch",
            "steps",
            "final epoch loss",
            "step-loss noise (std of last epoch)",
            "seconds",
        ):
            table.add_column(col, justify="right")
        for label, (h, seconds) in bruns.items():
            per_epoch = max(1, len(h.step_loss) // h.n_epochs)
            noise = float(np.std(h.step_loss[-per_epoch:])) if per_epoch > 1 else 0.0
            table.add_row(
                label,
                str(len(h.step_loss)),
                f"{h.train_loss[-1]:.4g}",
                f"{noise:.3g}",
                f"{seconds:.2f}",
            )
        console.print(table)
        plots.batch_size_curves(bruns, out / "compare_batch_sizes.png", f"{names[0]} on {ds.name}")
        files.append("compare_batch_sizes.png")
    _show_files(console, out, files)


def cmd_optimizers(args):
    from .. import plots
    from ..diagnostics import surfaces

    surface = surfaces.SURFACES[args.surface]
    paths = surfaces.race(surface, steps=args.steps, seed=args.seed)
    console = Console()
    minimum = tuple(round(float(v), 3) for v in surface.minimum)
    table = Table(
        title=f"{args.steps} steps on {args.surface} from {surface.start}; a minimum at {minimum}"
    )
    for col in ("optimizer", "final value", "distance to the minimum"):
        table.add_column(col, justify="left" if col == "optimizer" else "right")
    for name, value, dist in surfaces.summary(surface, paths):
        table.add_row(name, f"{value:.4g}", f"{dist:.3g}")
    console.print(table)
    out = _out_dir(args, "runs/optimizers")
    plots.race_figure(surface, paths, out / f"optimizers_{args.surface}.png")
    _show_files(console, out, [f"optimizers_{args.surface}.png"])


def cmd_search(args):
    from rich.live import Live

    from .. import data as datasets
    from .. import plots
    from ..diagnostics import search
    from ..estimators import persist

    ds = datasets.load(args.data, random_state=args.seed)
    points = search.trial_points(args.lr, args.reg, args.trials, grid=args.grid, seed=args.seed)
    out = _out_dir(args, "runs/search")
    trials = []
    table = Table(
        title=f"{'grid' if args.grid else 'random'} search: {args.loss} on {ds.summary()}"
    )
    for col in ("trial", "lr", "reg", "train acc", "val acc", "best so far"):
        table.add_column(col, justify="right")
    console = Console()
    with Live(table, console=console, refresh_per_second=4, transient=False):
        for k, (lr, reg) in enumerate(points, 1):
            t = search.run_trial(ds, args.loss, lr, reg, epochs=args.epochs, seed=args.seed)
            trials.append(t)
            best = max(x.val_accuracy for x in trials)
            table.add_row(
                str(k),
                f"{lr:.2e}",
                f"{reg:.2e}",
                f"{t.train_accuracy:.3f}",
                f"{t.val_accuracy:.3f}",
                f"{best:.3f}",
            )
    best = max(trials, key=lambda t: t.val_accuracy)
    console.print(
        f"best: lr {best.lr:.3g}, reg {best.reg:.3g}, validation accuracy {best.val_accuracy:.4f}"
    )
    persist.save(
        best.model,
        out / "best_model.npz",
        extra_header={"lr": best.lr, "reg": best.reg, "loss": args.loss},
    )
    rows = [
        {
            "lr": t.lr,
            "reg": t.reg,
            "val_accuracy": t.val_accuracy,
            "train_accuracy": t.train_accuracy,
        }
        for t in trials
    ]
    atomic_write_text(out / "search.json", json.dumps(rows, indent=2))
    plots.search_figure(trials, out / "search_heatmap.png", args.grid, f"{args.loss} on {ds.name}")
    _show_files(console, out, ["search.json", "best_model.npz", "search_heatmap.png"])


def cmd_report(args):
    from ..report import write_report

    path = write_report(args.run_dir, args.output)
    Console().print(f"wrote {path} (self-contained: open it in any browser, offline)")


def cmd_bench(args):
    from .. import benchmarks

    try:
        import torch
    except ImportError:
        torch = None
    rows = 16384 if args.quick else 262144
    console = Console()
    console.print(
        f"[bold]losslab bench[/]: ({rows}, 100) float32; torch: {'yes' if torch else 'not installed'}"
    )
    table, floor = benchmarks.kernel_table(rows, 100, 3 if args.quick else 5, torch)
    console.print(f"copy floor (np.copyto): {floor * 1e3:.2f} ms")
    console.print(benchmarks.markdown(table, floor), markup=False)
    console.print("one call on a (256, 10) batch:")
    console.print(
        benchmarks.markdown(
            benchmarks.small_batch_table(torch, 200 if args.quick else 2000),
            unit=1e6,
            unit_name="µs",
        ),
        markup=False,
    )


def cmd_serve(args):
    try:
        from ..web.app import serve
    except ImportError as exc:
        raise UsageError(
            f"the playground needs the web extra: pip install 'losslab[web]' ({exc})"
        ) from None
    print(f"losslab playground at http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    serve(args.host, args.port)


def _log_range(text):
    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW:HIGH such as 1e-5:1e-1, got {text!r}"
        ) from None
    if not 0 < lo < hi:
        raise argparse.ArgumentTypeError(f"expected 0 < LOW < HIGH, got {text!r}")
    return lo, hi


def _add_understanding(sub):
    from ..diagnostics.surfaces import SURFACES

    p = sub.add_parser(
        "landscape", help="1-D and 2-D slices of the training objective, with the optimizer's path"
    )
    p.add_argument("--data", default="iris")
    p.add_argument("--loss", default="softmax")
    p.add_argument("--model", choices=["linear", "mlp"], default="linear")
    p.add_argument("--hidden", type=_positive_int, nargs="+", default=[20])
    p.add_argument(
        "--reg", type=_non_negative_float, default=0.0, help="regularization of the trained model"
    )
    p.add_argument(
        "--compare-reg",
        type=_non_negative_float,
        default=0.1,
        help="L2 strength for the ridge comparison",
    )
    p.add_argument("--epochs", type=_positive_int, default=20)
    p.add_argument("--directions", choices=["pca", "random"], default="pca")
    p.add_argument("--resolution", type=_positive_int, default=25)
    p.add_argument("--span", type=_non_negative_float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    p.set_defaults(func=cmd_landscape)
    p = sub.add_parser(
        "plot", help="figures: 'losses' draws every loss against its margin or residual"
    )
    p.add_argument("what", choices=["losses"])
    p.add_argument("--out")
    p.set_defaults(func=cmd_plot)
    p = sub.add_parser(
        "compare", help="train several losses on one split; seed 001's robustness test; batch sizes"
    )
    p.add_argument("--data", default="digits")
    p.add_argument("--losses", default="svm,softmax,focal")
    p.add_argument("--model", choices=["linear", "mlp"], default="linear")
    p.add_argument("--epochs", type=_positive_int, default=20)
    p.add_argument("--lr", type=_non_negative_float, default=1e-2)
    p.add_argument("--batch-sizes", help="e.g. 1,32,128,N (N = the whole training set)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser(
        "optimizers",
        help="GD, SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam and Newton race on a 2-D surface",
    )
    p.add_argument("--surface", choices=list(SURFACES), default="rosenbrock")
    p.add_argument("--steps", type=_positive_int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    p.set_defaults(func=cmd_optimizers)
    p = sub.add_parser("search", help="random or grid search over learning rate and regularization")
    p.add_argument("--data", default="digits")
    p.add_argument("--loss", default="softmax")
    p.add_argument(
        "--lr", type=_log_range, default=(1e-5, 1e-1), help="LOW:HIGH (default 1e-5:1e-1)"
    )
    p.add_argument(
        "--reg", type=_log_range, default=(1e-6, 1e-1), help="LOW:HIGH (default 1e-6:1e-1)"
    )
    p.add_argument("--trials", type=_positive_int, default=30)
    p.add_argument("--grid", action="store_true", help="a log grid instead of random sampling")
    p.add_argument("--epochs", type=_positive_int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    p.set_defaults(func=cmd_search)
    p = sub.add_parser(
        "bench", help="time the loss kernels against the copy floor (and PyTorch, if installed)"
    )
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("serve", help="the browser playground (opens nothing; prints the URL)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: 127.0.0.1, this machine only)",
    )
    p.add_argument("--port", type=_positive_int, default=8765)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("report", help="one self-contained HTML file summarising a run directory")
    p.add_argument(
        "run_dir", help="a directory written by losslab train --out (or compare, landscape, ...)"
    )
    p.add_argument("--output", help="where to write the HTML (default: RUN_DIR/report.html)")
    p.set_defaults(func=cmd_report)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2 (no usage dump)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _ArgumentParser(
        prog="losslab",
        description="Loss functions, their gradients and the optimizers that minimise them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    _add_train(sub)
    _add_fit_curve(sub)
    _add_diagnostics(sub)
    _add_understanding(sub)
    p = sub.add_parser("examples", help="print the seed notes' worked examples computed by losslab")
    p.set_defaults(func=cmd_examples)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (UsageError, ValueError, TypeError, OSError) as exc:
        print(f"losslab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = ""
        out = getattr(args, "out", None) or getattr(args, "resume", None)
        if out:
            hint = f"; continue with: losslab train --resume {out}"
            if getattr(args, "scheduler", None):
                hint += f" --scheduler {args.scheduler}"
        print(f"losslab {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
