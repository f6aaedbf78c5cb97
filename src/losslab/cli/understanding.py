"""Commands that make losses understandable: landscape, plot, compare, optimizers, search, report."""

from __future__ import annotations

import argparse

from rich.table import Table

from .common import (
    Subparsers,
    add_json_option,
    console_for,
    non_negative_float,
    out_dir,
    positive_float,
    positive_int,
    print_json,
    show_files,
)


def add_parsers(sub: Subparsers) -> None:
    _add_landscape(sub)
    _add_plot(sub)
    _add_compare(sub)
    _add_optimizers(sub)
    _add_search(sub)
    _add_report(sub)
    _add_card(sub)


def _add_data_epochs(p, *, data, epochs):
    p.add_argument("--data", default=data, help=f"dataset name or path (default: {data})")
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=epochs,
        help=f"epochs of training (default: {epochs})",
    )


def _add_seed_out(p, out):
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the split and the weights (default: 0)"
    )
    p.add_argument("--out", help=f"directory for the files (default: {out})")


def _add_landscape(sub):
    p = sub.add_parser(
        "landscape", help="1-D and 2-D slices of the training objective, with the optimizer's path"
    )
    _add_data_epochs(p, data="iris", epochs=20)
    p.add_argument("--loss", default="softmax", help="loss name or alias (default: softmax)")
    p.add_argument(
        "--model", choices=["linear", "mlp"], default="linear", help="model (default: linear)"
    )
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="+",
        default=[20],
        help="MLP hidden sizes (default: 20)",
    )
    p.add_argument(
        "--reg", type=non_negative_float, default=0.0, help="regularization of the trained model"
    )
    p.add_argument(
        "--compare-reg",
        type=non_negative_float,
        default=0.1,
        help="L2 strength for the ridge comparison",
    )
    _add_slice_options(p)
    _add_seed_out(p, "runs/landscape")
    add_json_option(
        p,
        {
            "loss": "the loss name given",
            "data": "the data set's name",
            "center_value": "the objective at the trained point (the slice's centre)",
            "min": "the lowest objective on the slice",
            "max": "the highest objective on the slice",
            "out": "the directory of the figures",
            "files": "the figures written there",
        },
    )
    p.set_defaults(func=cmd_landscape)


def _add_slice_options(p):
    p.add_argument(
        "--directions",
        choices=["pca", "random"],
        default="pca",
        help="pca: the plane of the optimizer's path; random: filter-normalised (default: pca)",
    )
    p.add_argument(
        "--resolution", type=positive_int, default=25, help="grid points per axis (default: 25)"
    )
    p.add_argument(
        "--span",
        type=non_negative_float,
        default=1.0,
        help="the slice covers -SPAN..SPAN along each direction (default: 1)",
    )


def _add_plot(sub):
    p = sub.add_parser(
        "plot", help="figures: 'losses' draws every loss against its margin or residual"
    )
    p.add_argument("what", choices=["losses"], help="the figure to draw")
    p.add_argument("--out", help="directory for the figures (default: runs/plots)")
    add_json_option(
        p, {"out": "the directory of the figures", "files": "the figures written there"}
    )
    p.set_defaults(func=cmd_plot)


def _add_compare(sub):
    p = sub.add_parser(
        "compare", help="train several losses on one split; seed 001's robustness test; batch sizes"
    )
    _add_data_epochs(p, data="digits", epochs=20)
    p.add_argument(
        "--losses",
        type=_names,
        default="svm,softmax,focal",
        help="comma-separated loss names; the first also runs --batch-sizes (default: svm,softmax,focal)",
    )
    p.add_argument(
        "--model", choices=["linear", "mlp"], default="linear", help="model (default: linear)"
    )
    p.add_argument(
        "--lr",
        type=positive_float,
        default=1e-2,
        help="Adam's learning rate for the compared losses (default: 1e-2)",
    )
    p.add_argument(
        "--batch-sizes", type=_batch_sizes, help="e.g. 1,32,128,N (N = the whole training set)"
    )
    _add_seed_out(p, "runs/compare")
    add_json_option(
        p,
        {
            "data": "the data set's name",
            "losses": "one object per loss: loss, test_accuracy, final_loss, seconds, epochs",
            "robustness": "seed 001's rows: nudge, scores, svm_loss, softmax_loss",
            "batch_sizes": "with --batch-sizes, one object per size: batch, steps, final_loss, "
            "noise, seconds; else []",
            "out": "the directory of the figures",
            "files": "the figures written there",
        },
    )
    p.set_defaults(func=cmd_compare)


def _names(text):
    """argparse type: comma-separated names, at least one."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated loss names, got {text!r}")
    return names


def _batch_sizes(text):
    """argparse type: comma-separated positive integers or N (the whole set, given as 0)."""
    sizes = []
    for part in text.split(","):
        if part.strip().upper() == "N":
            sizes.append(0)
            continue
        try:
            sizes.append(positive_int(part.strip()))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"expected positive integers or N, such as 1,32,N; got {text!r}"
            ) from None
    return sizes


def _add_optimizers(sub):
    from ..diagnostics.surfaces import SURFACES

    p = sub.add_parser(
        "optimizers",
        help="GD, SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam and Newton race on a 2-D surface",
    )
    p.add_argument(
        "--surface",
        choices=list(SURFACES),
        default="rosenbrock",
        help="2-D test surface (default: rosenbrock)",
    )
    p.add_argument(
        "--steps", type=positive_int, default=300, help="steps of every racer (default: 300)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the noisy SGD's gradient noise (default: 0)"
    )
    p.add_argument("--out", help="directory for the figure (default: runs/optimizers)")
    add_json_option(
        p,
        {
            "surface": "the surface's name",
            "steps": "steps of every racer",
            "minimum": "the surface's minimum (x, y)",
            "optimizers": "one object per racer: optimizer, final_value, distance",
            "out": "the directory of the figure",
            "files": "the figure written there",
        },
    )
    p.set_defaults(func=cmd_optimizers)


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


def _add_search(sub):
    p = sub.add_parser("search", help="random or grid search over learning rate and regularization")
    _add_data_epochs(p, data="digits", epochs=10)
    p.add_argument("--loss", default="softmax", help="loss name or alias (default: softmax)")
    p.add_argument(
        "--lr", type=_log_range, default=(1e-5, 1e-1), help="LOW:HIGH (default 1e-5:1e-1)"
    )
    p.add_argument(
        "--reg", type=_log_range, default=(1e-6, 1e-1), help="LOW:HIGH (default 1e-6:1e-1)"
    )
    p.add_argument("--trials", type=positive_int, default=30, help="number of trials (default: 30)")
    p.add_argument("--grid", action="store_true", help="a log grid instead of random sampling")
    _add_seed_out(p, "runs/search")
    add_json_option(
        p,
        {
            "loss": "the loss name given",
            "data": "the data set's name",
            "best": "the best trial: lr, reg, val_accuracy, train_accuracy",
            "trials": "every trial in order: lr, reg, val_accuracy, train_accuracy",
            "out": "the directory of search.json, best_model.npz and the heatmap",
            "files": "the files written there",
        },
    )
    p.set_defaults(func=cmd_search)


def _add_report(sub):
    p = sub.add_parser("report", help="one self-contained HTML file summarising a run directory")
    p.add_argument(
        "run_dir", help="a directory written by losslab train --out (or compare, landscape, ...)"
    )
    p.add_argument("--output", help="where to write the HTML (default: RUN_DIR/report.html)")
    add_json_option(p, {"path": "the HTML file written"})
    p.set_defaults(func=cmd_report)


def cmd_landscape(args: argparse.Namespace) -> None:
    from .. import data as datasets
    from .. import plots
    from ..diagnostics.landscape import train_and_slice

    ds = datasets.load(args.data, random_state=args.seed)
    console = console_for(args)
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
    out = out_dir(args, "runs/landscape")
    title = f"{args.loss} on {ds.name}"
    plots.landscape_figures(main, out, title)
    files = list(plots.LANDSCAPE_FILES.values())
    plots.regularization_landscapes(
        plain,
        ridge,
        out / "landscape_regularization.png",
        f"{title}: the same slice without and with L2 (random directions)",
    )
    files.append("landscape_regularization.png")
    console.print(
        f"loss at the trained point {main.center_value:.4g}; "
        f"slice min {main.values.min():.4g}, max {main.values.max():.4g}"
    )
    show_files(console, out, files)
    summary = {"loss": args.loss, "data": ds.name, "center_value": main.center_value}
    summary |= {"min": float(main.values.min()), "max": float(main.values.max())}
    print_json(args, summary | {"out": str(out), "files": files})


def cmd_plot(args: argparse.Namespace) -> None:
    from .. import plots

    out = out_dir(args, "runs/plots")
    files = ["losses_classification.png", "losses_regression.png"]
    plots.loss_gallery(*(out / name for name in files))
    show_files(console_for(args), out, files)
    print_json(args, {"out": str(out), "files": files})


def cmd_compare(args: argparse.Namespace) -> None:
    from .. import data as datasets
    from .. import plots
    from ..diagnostics import compare

    ds = datasets.load(args.data, random_state=args.seed)
    console = console_for(args)
    out = out_dir(args, "runs/compare")
    console.print(f"[bold]losslab compare[/] on {ds.summary()}")
    names = args.losses
    runs = compare.compare_losses(
        ds, names, model=args.model, epochs=args.epochs, lr=args.lr, seed=args.seed
    )
    console.print(_losses_table(runs, ds.name))
    plots.compare_curves(runs, out / "compare_losses.png", f"losses on {ds.name}")
    robustness = compare.robustness_experiment()
    console.print(_robustness_table(robustness))
    console.print("the SVM loss stays 0 while the margins are met; softmax always moves")
    files = ["compare_losses.png"]
    sizes = []
    if args.batch_sizes:
        bruns = compare.batch_size_experiment(
            ds, args.batch_sizes, loss=names[0], epochs=args.epochs, seed=args.seed
        )
        title = f"batch sizes ({names[0]}, {args.epochs} epochs)"
        sizes = compare.batch_size_summary(bruns)
        console.print(_batch_size_table(sizes, title))
        plots.batch_size_curves(bruns, out / "compare_batch_sizes.png", f"{names[0]} on {ds.name}")
        files.append("compare_batch_sizes.png")
    show_files(console, out, files)
    print_json(args, _compare_json(ds.name, runs, robustness, sizes, out, files))


def _compare_json(data_name, runs, robustness, sizes, out, files):
    """What ``losslab compare --json`` prints: the tables' rows and the figures."""
    losses = [
        {k: getattr(r, k) for k in ("loss", "test_accuracy", "final_loss", "seconds", "epochs")}
        for r in runs
    ]
    nudges = [
        {
            "nudge": n,
            "scores": sc,
            "svm_loss": svm,
            "softmax_loss": sm,
        }
        for n, sc, svm, sm in robustness
    ]
    batches = [
        {"batch": r.label, "steps": r.steps, "final_loss": r.final_loss, "noise": r.noise}
        | {"seconds": r.seconds}
        for r in sizes
    ]
    return {
        "data": data_name,
        "losses": losses,
        "robustness": nudges,
        "batch_sizes": batches,
        "out": str(out),
        "files": files,
    }


def _losses_table(runs, data_name):
    table = Table(title=f"losses on {data_name}: same split, model, optimizer and epochs")
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
    return table


def _robustness_table(rows):
    table = Table(title="seed 001: nudging the scores of a correctly classified example")
    for col in ("nudge", "scores (correct class first)", "SVM loss", "softmax loss"):
        table.add_column(col, justify="right")
    for size, scores, svm, softmax in rows:
        table.add_row(f"{size:g}", str(scores), f"{svm:.4f}", f"{softmax:.4f}")
    return table


def _batch_size_table(rows, title):
    table = Table(title=title)
    for col in (
        "batch",
        "steps",
        "final epoch loss",
        "step-loss noise (std of last epoch)",
        "seconds",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r.label, str(r.steps), f"{r.final_loss:.4g}", f"{r.noise:.3g}", f"{r.seconds:.2f}"
        )
    return table


def cmd_optimizers(args: argparse.Namespace) -> None:
    from .. import plots
    from ..diagnostics import surfaces

    surface = surfaces.SURFACES[args.surface]
    paths = surfaces.race(surface, steps=args.steps, seed=args.seed)
    console = console_for(args)
    minimum = tuple(round(float(v), 3) for v in surface.minimum)
    table = Table(
        title=f"{args.steps} steps on {args.surface} from {surface.start}; a minimum at {minimum}"
    )
    for col in ("optimizer", "final value", "distance to the minimum"):
        table.add_column(col, justify="left" if col == "optimizer" else "right")
    rows = surfaces.summary(surface, paths)
    for name, value, dist in rows:
        table.add_row(name, f"{value:.4g}", f"{dist:.3g}")
    console.print(table)
    out = out_dir(args, "runs/optimizers")
    files = [f"optimizers_{args.surface}.png"]
    plots.race_figure(surface, paths, out / files[0])
    show_files(console, out, files)
    racers = [
        {"optimizer": name, "final_value": float(value), "distance": float(dist)}
        for name, value, dist in rows
    ]
    summary = {"surface": args.surface, "steps": args.steps, "minimum": list(minimum)}
    print_json(args, summary | {"optimizers": racers, "out": str(out), "files": files})


def cmd_search(args: argparse.Namespace) -> None:
    from rich.live import Live

    from .. import data as datasets
    from ..diagnostics import search

    ds = datasets.load(args.data, random_state=args.seed)
    points = search.trial_points(args.lr, args.reg, args.trials, grid=args.grid, seed=args.seed)
    out = out_dir(args, "runs/search")
    table = Table(
        title=f"{'grid' if args.grid else 'random'} search: {args.loss} on {ds.summary()}"
    )
    for col in ("trial", "lr", "reg", "train acc", "val acc", "best so far"):
        table.add_column(col, justify="right")

    def show(k, t, best):
        table.add_row(
            str(k),
            f"{t.lr:.2e}",
            f"{t.reg:.2e}",
            f"{t.train_accuracy:.3f}",
            f"{t.val_accuracy:.3f}",
            f"{best:.3f}",
        )

    console = console_for(args)
    with Live(table, console=console, refresh_per_second=4, transient=False):
        trials = search.run_search(
            ds, args.loss, points, epochs=args.epochs, seed=args.seed, on_trial=show
        )
    best = search.best_trial(trials)
    console.print(
        f"best: lr {best.lr:.3g}, reg {best.reg:.3g}, validation accuracy {best.val_accuracy:.4f}"
    )
    title = f"{args.loss} on {ds.name}"
    files = search.save_search(out, trials, loss=args.loss, grid=args.grid, title=title)
    show_files(console, out, files)
    keys = ("lr", "reg", "val_accuracy", "train_accuracy")
    rows = [{k: float(getattr(t, k)) for k in keys} for t in trials]
    summary = {
        "loss": args.loss,
        "data": ds.name,
        "best": {k: float(getattr(best, k)) for k in keys},
    }
    print_json(args, summary | {"trials": rows, "out": str(out), "files": files})


def cmd_report(args: argparse.Namespace) -> None:
    from ..report import write_report

    path = write_report(args.run_dir, args.output)
    console_for(args).print(f"wrote {path} (self-contained: open it in any browser, offline)")
    print_json(args, {"path": str(path)})


def _add_card(sub):
    p = sub.add_parser(
        "card",
        help="a loss's card: the lecture's questions (C - 1 or ln C, Q1-Q6, 2W) answered by computation",
    )
    p.add_argument(
        "loss",
        help="classification loss: a name or alias (svm, softmax, focal, ...) or your own "
        "function as package.module:function, f(scores, labels) -> (value, grad)",
    )
    p.add_argument(
        "--loss-option",
        action="append",
        metavar="KEY=VALUE",
        help="loss option, e.g. gamma=1 or margin=2 (repeat for several)",
    )
    p.add_argument(
        "--classes", type=_at_least_two, default=10, help="number of classes C (default: 10)"
    )
    p.add_argument("--out", help="directory for card.json and card.png (default: none written)")
    add_json_option(
        p,
        {
            "loss": "the loss's canonical name",
            "classes": "the number of classes C",
            "options": "the loss options bound",
            "answers": "one object per question: question, answer, evidence",
            "curves": "the margin curve (margin, loss, grad) and the calibration curve",
            "out": "the directory of card.json and card.png (null without --out)",
            "files": "the files written there",
        },
    )
    p.set_defaults(func=cmd_card)


def _at_least_two(text):
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2, got {text!r}")
    return value


def cmd_card(args: argparse.Namespace) -> None:
    import sys
    from pathlib import Path

    from .. import plots
    from ..diagnostics import card
    from ..training.files import atomic_write_text
    from .common import key_values

    result = card(args.loss, classes=args.classes, loss_options=key_values(args.loss_option))
    print(result, file=sys.stderr if args.json else sys.stdout)  # the JSON alone on stdout
    files = []
    if args.out:
        out = Path(args.out)
        atomic_write_text(out / "card.json", result.to_json() + "\n")
        plots.save_figure(result.plot(), out / "card.png")
        files = ["card.json", "card.png"]
        show_files(console_for(args), out, files)
    payload = result.to_dict() | {"out": args.out and str(Path(args.out)), "files": files}
    print_json(args, payload)
