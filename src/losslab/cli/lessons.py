"""``losslab doctor``, ``losslab batch-sizes`` and ``losslab overfit``: the notes' lessons, shown."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from ..training.files import atomic_write_text
from .common import (
    Subparsers,
    UsageError,
    add_json_option,
    console_for,
    out_dir,
    positive_int,
    print_json,
    show_files,
)


def add_parsers(sub: Subparsers) -> None:
    _add_doctor(sub)
    _add_batch_sizes(sub)
    _add_overfit(sub)


def _add_doctor(sub):
    p = sub.add_parser(
        "doctor",
        help="diagnose a finished training run: initial loss, learning rate, overfitting",
        description="Read a run directory of `losslab train --out DIR` and say, in plain "
        "language and with the numbers, what went wrong. Exit code 1 when something did.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by losslab train --out")
    add_json_option(
        p,
        {
            "run": "the run directory",
            "steps": "mini-batch steps in the run's history",
            "epochs": "epochs in the run's history",
            "notes": "what could not be read (e.g. a full-batch run keeps no step history)",
            "diagnoses": "one object per finding: diagnosis (its warning category), message, "
            "evidence",
        },
    )
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> None:
    from ..diagnostics.doctor import diagnose_run

    result = diagnose_run(args.run_dir)
    console = console_for(args)
    print_json(args, result.as_dict())
    for note in result.notes:
        console.print(f"note: {note}")
    if not result.diagnoses and not (result.steps or result.epochs):
        console.print("nothing to diagnose: the run left no loss history")
        return
    if not result.diagnoses:
        console.print(
            f"[green]healthy[/]: nothing wrong found in {result.steps} steps, {result.epochs} epochs"
        )
        return
    for d in result.diagnoses:
        console.print(f"[red]{d.name}[/]: {d.message}")
    raise SystemExit(1)


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"--sizes: expected comma-separated integers, got {text!r}") from None
    return sizes


def _add_batch_sizes(sub):
    p = sub.add_parser(
        "batch-sizes",
        help="diminishing returns of larger mini-batches: steps, samples, time and gradient noise",
        description="Train a linear softmax classifier on a generated problem with plain SGD "
        "to the same target loss at each batch size, each with the learning rate of one grid "
        "that needs fewest steps.",
    )
    p.add_argument(
        "--sizes",
        default="8,16,32,64,128,256,512,1024,2048,4096,8192,16384",
        help="comma-separated batch sizes (default: 8,16,...,16384)",
    )
    p.add_argument(
        "--rows",
        type=positive_int,
        default=200_000,
        help="rows of the generated problem (default: 200000)",
    )
    p.add_argument(
        "--out",
        help="directory for batch_sizes.json and batch_sizes.png (default: runs/batch_sizes)",
    )
    add_json_option(
        p,
        {
            "rows": "one object per batch size: batch_size, steps, samples, lr (the grid's "
            "fastest), seconds, noise, predicted_noise (null steps: target not reached)",
            "n_rows": "rows of the problem",
            "target": "the training loss each size trains to",
            "initial_loss": "the loss at zero weights (ln C)",
            "true_loss": "the loss of the weights that generated the labels",
            "sigma2": "variance of the per-example gradients at the start",
            "noise_scale": "sigma2 / |g|^2: the batch size where noise and gradient are equal",
        },
    )
    p.set_defaults(func=cmd_batch_sizes)


def cmd_batch_sizes(args: argparse.Namespace) -> None:
    from rich.progress import Progress

    from ..diagnostics.batch_sizes import batch_size_figure, batch_size_lesson

    sizes = _sizes(args.sizes)
    console = console_for(args)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("batch sizes", total=len(set(sizes)))
        lesson = batch_size_lesson(
            sizes, n_rows=args.rows, on_size=lambda row: progress.advance(task)
        )
    out = out_dir(args, "runs/batch_sizes")
    atomic_write_text(out / "batch_sizes.json", json.dumps(lesson.as_dict(), indent=2))
    batch_size_figure(lesson, out / "batch_sizes.png")
    print_json(args, lesson.as_dict())
    console.print(_batch_table(lesson))
    console.print(_returns_line(lesson))
    show_files(console, out, ["batch_sizes.json", "batch_sizes.png"])


def _returns_line(lesson):
    """What the smallest and the largest step up in batch size bought, in steps."""
    reached = [r for r in lesson.rows if r.steps is not None]
    line = f"gradient noise scale at the start σ²/‖g‖² = {lesson.noise_scale:.0f}"
    if len(reached) < 3:
        return line
    (a, b), (c, d) = reached[:2], reached[-2:]
    return (
        f"{line}; steps {a.batch_size} → {b.batch_size}: ×{b.steps / a.steps:.2f}, "
        f"{c.batch_size} → {d.batch_size}: ×{d.steps / c.steps:.2f} (diminishing returns)"
    )


def _batch_table(lesson):
    table = Table(
        title=f"plain SGD, each batch size at its best learning rate, {lesson.n_rows:,} rows, "
        f"to training loss {lesson.target:.4f}"
    )
    for column in ("batch", "lr", "steps", "samples", "seconds", "noise E‖g_B−g‖²", "σ²/B·fpc"):
        table.add_column(column, justify="right")
    for r in lesson.rows:
        reached = r.steps is not None
        table.add_row(
            str(r.batch_size),
            f"{r.lr:g}" if reached else "-",
            f"{r.steps}" if reached else "not reached",
            f"{r.samples:,.0f}" if reached else "-",
            f"{r.seconds:.2f}",
            f"{r.noise:.3g}",
            f"{r.predicted_noise:.3g}",
        )
    return table


def _add_overfit(sub):
    p = sub.add_parser(
        "overfit",
        help="a degree-9 polynomial through noisy points, with and without L2",
        description="Fitting the training data perfectly is not the goal: the wiggly fit has "
        "zero training error and a larger test error than the L2 fit.",
    )
    p.add_argument("--degree", type=positive_int, default=9, help="polynomial degree (default: 9)")
    p.add_argument("--points", type=positive_int, default=10, help="training points (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    p.add_argument(
        "--out", help="directory for overfit.json and overfit.png (default: runs/overfit)"
    )
    add_json_option(
        p,
        {
            "degree": "the polynomial degree",
            "n_train": "training points",
            "n_test": "test points",
            "lambda": "the L2 strength leave-one-out chose on the training points",
            "errors": "'no L2' and 'L2': train and test mean squared error",
            "weights": "the coefficients of each fit, intercept first",
            "lambdas": "the λ grid",
            "train_curve": "training error at each λ",
            "test_curve": "test error at each λ",
        },
    )
    p.set_defaults(func=cmd_overfit)


def cmd_overfit(args: argparse.Namespace) -> None:
    from ..diagnostics.overfit import overfit_figure, overfit_lesson

    if args.points < 2:
        raise UsageError("--points: expected at least 2 training points")
    lesson = overfit_lesson(args.degree, n_train=args.points, seed=args.seed)
    out = out_dir(args, "runs/overfit")
    atomic_write_text(out / "overfit.json", json.dumps(lesson.as_dict(), indent=2))
    overfit_figure(lesson, out / "overfit.png")
    print_json(args, lesson.as_dict())
    console = console_for(args)
    table = Table(title=f"degree {args.degree} on {args.points} noisy points of a line")
    for column in ("fit", "λ", "train error", "test error"):
        table.add_column(column, justify="right")
    for name, lam in (("no L2", 0.0), ("L2", lesson.lam)):
        e = lesson.errors[name]
        table.add_row(name, f"{lam:.3g}", f"{e['train']:.4f}", f"{e['test']:.4f}")
    console.print(table)
    show_files(console, out, ["overfit.json", "overfit.png"])
