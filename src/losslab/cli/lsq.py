"""``losslab fit-curve``: least-squares curve fitting (Levenberg-Marquardt, Gauss-Newton, gradient descent)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..training.files import atomic_write_text
from .common import non_negative_float, show_files


def add_parsers(sub):
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
        type=non_negative_float,
        default=1.0,
        help="residual size where a robust loss starts to bend (default: 1)",
    )
    p.add_argument("--target", help="y column of the CSV, by name or index (default: the last)")
    p.add_argument("--out", help="directory for fit.json and fit.png (data, fit and residuals)")
    p.set_defaults(func=cmd_fit_curve)


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
        atomic_write_text(out / "fit.json", json.dumps(_fit_json(args, model, fit), indent=2))
        show_files(console, out, ["fit.json", "fit.png"])


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
