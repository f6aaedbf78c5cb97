"""``losslab fit-curve``: least-squares curve fitting (Levenberg-Marquardt, Gauss-Newton, Newton,
gradient descent), and ``--compare``: all of them and Adam from one far start (seed 002)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich import box
from rich.table import Table

from ..training.files import atomic_write_text
from .common import (
    Subparsers,
    add_json_option,
    console_for,
    non_negative_float,
    positive_int,
    print_json,
    show_files,
)


def add_parsers(sub: Subparsers) -> None:
    from ..optim.curvefit import LOSSES, METHODS, MODELS

    p = sub.add_parser(
        "fit-curve",
        help="fit a named curve to two columns of data (default: the seed's stone trajectory)",
        description="Least-squares curve fitting with Levenberg-Marquardt, Gauss-Newton, Newton or "
        "gradient descent; --compare runs them all (and Adam) from one start far from the answer.",
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
        "--method", choices=list(METHODS), default="lm", help="lm, gn, newton or gd (default: lm)"
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="table of evaluations, iterations, time and cost for LM, Gauss-Newton, Newton, "
        "gradient descent and Adam from one start, and the cost-against-evaluations figure",
    )
    p.add_argument(
        "--p0",
        type=_numbers,
        help="starting parameters, comma-separated (default: the model's guess; 1, 1, ... with --compare)",
    )
    p.add_argument(
        "--budget",
        type=positive_int,
        default=20_000,
        help="--compare: evaluations for gradient descent, steps for Adam (default: 20000)",
    )
    p.add_argument(
        "--loss",
        choices=list(LOSSES),
        default="squared_error",
        help="squared_error or a robust loss against outliers (default: squared_error)",
    )
    p.add_argument(
        "--f-scale",
        type=non_negative_float,
        default=1.0,
        help="residual size where a robust loss starts to bend (default: 1)",
    )
    p.add_argument("--target", help="y column of the CSV, by name or index (default: the last)")
    p.add_argument(
        "--out",
        help="directory for fit.json and fit.png (data, fit and residuals); "
        "with --compare, compare.json and compare.png",
    )
    add_json_option(p, FIT_CURVE_JSON)
    p.set_defaults(func=cmd_fit_curve)


# what --json prints: fit.json's record of a single fit, or compare.json's with --compare
FIT_CURVE_JSON = {
    "data": "the CSV file or 'trajectory'",
    "model": "the model family",
    "formula": "a single fit: the model's formula",
    "loss": "a single fit: the loss",
    "method": "a single fit: the method",
    "params": "a single fit: {parameter name: fitted value}",
    "stderr": "a single fit: {parameter name: standard error}",
    "cost": "a single fit: the final cost",
    "nfev": "a single fit: evaluations used",
    "success": "a single fit: whether the solver converged",
    "message": "a single fit: the solver's reason for stopping",
    "p0": "--compare: the common start",
    "methods": "--compare: {method: evaluations, to_minimum, iterations, seconds, cost, message}",
}


def _numbers(text):
    """argparse type: comma-separated numbers, "-1,2.5,0"."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def cmd_fit_curve(args: argparse.Namespace) -> None:
    from .. import data as datasets
    from .. import plots
    from ..optim import curvefit

    x, y = datasets.read_xy(args.data, target=args.target)
    if args.compare:
        return _compare(args, x, y)
    fit = curvefit.fit_model(
        args.model, x, y, p0=args.p0, loss=args.loss, method=args.method, f_scale=args.f_scale
    )
    model = curvefit.MODELS[args.model]
    console = console_for(args)
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
        atomic_write_text(out / "fit.json", json.dumps(_fit_json(args, model, fit), indent=2))
        show_files(console, out, ["fit.json", "fit.png"])
    print_json(args, _fit_json(args, model, fit))


def _fit_json(args, model, fit):
    """What fit.json records: the problem, the parameters with their errors, and the solver's result."""
    return {
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


def _compare(args, x, y):
    """--compare: every method from one start; the table, and compare.png / compare.json in --out."""
    from .. import plots
    from ..optim import compare, curvefit

    runs, start = compare.compare_model(args.model, x, y, p0=args.p0, budget=args.budget)
    model = curvefit.MODELS[args.model]
    console = console_for(args)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,  # six columns within 80 characters
        title=f"{model.formula} fitted to {args.data} ({len(x)} points) from "
        f"{', '.join(f'{n} = {v:g}' for n, v in zip(model.names, start, strict=True))}",
    )
    table.add_column("method", no_wrap=True)
    for col in ("evaluations", "to minimum", "iterations", "ms", "cost"):
        table.add_column(col, justify="right", no_wrap=True)
    for run in runs:
        reached = f"{run.to_best:,}" if run.to_best is not None else "not reached"
        table.add_row(
            run.name, f"{run.evaluations:,}", reached, f"{run.iterations:,}",
            f"{1000 * run.seconds:.1f}", f"{run.cost:.6g}",
        )  # fmt: skip
    console.print(table)
    console.print(
        "evaluations: residuals + Jacobians; to minimum: evaluations until the cost is within "
        "1e-6 of the best final cost"
    )
    if args.out:
        out = Path(args.out)
        histories = {run.name: run.history for run in runs}
        plots.convergence_figure(
            histories, out / "compare.png", title=f"{model.formula}: {args.data}"
        )
        atomic_write_text(
            out / "compare.json", json.dumps(_compare_json(args, start, runs), indent=2)
        )
        show_files(console, out, ["compare.json", "compare.png"])
    print_json(args, _compare_json(args, start, runs))


def _compare_json(args, start, runs):
    """What compare.json records: the problem, the start, and each method's figures."""
    return {
        "data": str(args.data),
        "model": args.model,
        "p0": start.tolist(),
        "methods": {
            run.name: {
                "evaluations": run.evaluations,
                "to_minimum": run.to_best,
                "iterations": run.iterations,
                "seconds": run.seconds,
                "cost": run.cost,
                "message": run.message,
            }
            for run in runs
        },
    }
