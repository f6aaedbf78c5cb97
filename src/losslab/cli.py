"""The ``losslab`` command line: a thin layer over the library.

Every sub-command parses its arguments, calls library functions and prints.
Bad arguments or unreadable files end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit code 2."""


def cmd_examples(args):
    from .examples import worked_examples

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


def cmd_train(args):
    from .runs import TrainConfig, load_config, run_training

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
        )
        out = args.out
    config.validate()
    console.print(
        f"[bold]losslab train[/]: {config.loss} · {config.model} · {config.optimizer} lr={config.lr:g} "
        f"· batch {config.batch_size} · {config.epochs} epochs · reg={config.reg:g}"
    )

    def on_start(dataset, sanity):
        console.print(dataset.summary())
        console.print(("[green]" if sanity.ok else "[red]") + str(sanity) + "[/]")

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
    console.print(_metrics_table(result.metrics))
    if out:
        console.print(
            f"files in {out}: config.json, checkpoint.npz, metrics.json, model.npz, loss_curve.png"
        )


def _metrics_table(m):
    table = Table(title=f"{m['loss']} on {m['data']} ({m['epochs']} epochs, {m['seconds']:.2f} s)")
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
    p.set_defaults(func=cmd_train)


def cmd_fit_curve(args):
    from . import curvefit, datasets, persist, plots

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
        persist.atomic_write_text(out / "fit.json", json.dumps(report, indent=2))
        console.print(f"files in {out}: fit.json, fit.png")


def _add_fit_curve(sub):
    from .curvefit import LOSSES, METHODS, MODELS

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
        print(f"losslab {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
