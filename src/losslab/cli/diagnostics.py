"""``losslab sanity`` and ``losslab gradcheck``: is the loss and its gradient right?"""

from __future__ import annotations

import argparse
import dataclasses

from .common import Subparsers, UsageError, add_json_option, console_for, positive_int, print_json


def add_parsers(sub: Subparsers) -> None:
    _add_sanity(sub)
    _add_gradcheck(sub)


def _add_sanity(sub):
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
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="+",
        default=[100],
        help="MLP hidden sizes (default: 100)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the split, the weights and the subset (default: 0)",
    )
    add_json_option(p, SANITY_JSON)
    p.set_defaults(func=cmd_sanity)


SANITY_JSON = {
    "loss": "the loss's registered name",
    "model": "linear or mlp",
    "data": "the data set's name",
    "ok": "true when every check passed (the exit code is then 0, else 1)",
    "checks": "one object per check: name, ok, detail, expected, measured (null if none)",
}


# a check by differences is for small inputs: 10^6 float64 entries are 8 MB per array
MAX_GRADCHECK_ENTRIES = 10**6


def _shape(text):
    try:
        n, c = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N,C such as 8,5, got {text!r}") from None
    if n < 1 or c < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes, got {text!r}")
    if n * c > MAX_GRADCHECK_ENTRIES:
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_GRADCHECK_ENTRIES:,} entries (N·C), got {text!r}"
        )
    return n, c


def _add_gradcheck(sub):
    p = sub.add_parser(
        "gradcheck", help="compare a loss's analytic gradient with centred differences"
    )
    p.add_argument("--loss", default="softmax", help="any loss name or alias (default: softmax)")
    p.add_argument("--shape", type=_shape, default=(8, 5), help="N,C of the output (default: 8,5)")
    p.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default="float64",
        help="precision of the inputs; the step and tolerance follow it (default: float64)",
    )
    p.add_argument(
        "--checks", type=positive_int, default=None, help="check this many random coordinates only"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    p.add_argument(
        "--task",
        choices=["multiclass", "binary", "regression", "ranking", "metric"],
        default=None,
        help="the task of your own loss (--loss package.module:function), which says what "
        "targets to draw; a catalogue loss keeps its own (default: none)",
    )
    p.add_argument(
        "--on-kinks",
        action="store_true",
        help="integer inputs in [-2, 2], which put hinge-type losses on their kinks "
        "(reported as kinks, not failures)",
    )
    add_json_option(p, GRADCHECK_JSON)
    p.set_defaults(func=cmd_gradcheck)


GRADCHECK_JSON = {
    "loss": "the loss's registered name",
    "ok": "true when every input's check passed (the exit code is then 0, else 1)",
    "checks": "one object per input: input, shape, dtype, ok, max_rel_error, tolerance, "
    "eps, coordinates, kinks",
}


def cmd_sanity(args: argparse.Namespace) -> None:
    from .. import data as datasets
    from .. import losses
    from ..diagnostics import sanity_check
    from ..training import build_classifier

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
    console = console_for(args)
    console.print(f"[bold]losslab sanity[/]: {loss.name} · {args.model} on {ds.summary()}")
    for check in report.checks:
        console.print(("[green]" if check.ok else "[red]") + str(check) + "[/]")
    checks = [dataclasses.asdict(check) for check in report.checks]
    print_json(
        args,
        {
            "loss": loss.name,
            "model": args.model,
            "data": ds.name,
            "ok": report.ok,
            "checks": checks,
        },
    )
    if not report.ok:
        raise SystemExit(1)


def cmd_gradcheck(args: argparse.Namespace) -> None:
    from .. import losses
    from ..diagnostics.gradcheck import check_loss_gradient

    loss = losses.get(args.loss, task=args.task)
    if loss.task is None:
        raise UsageError(f"--task: {args.loss} is your own function; give its task")
    checks = check_loss_gradient(
        loss,
        args.shape,
        dtype=args.dtype,
        n_checks=args.checks,
        seed=args.seed,
        on_kinks=args.on_kinks,
    )
    console = console_for(args)
    for name, point, report in checks:
        console.print(
            f"{loss.name}, gradient with respect to the {name} {point.shape} {point.dtype}:"
        )
        console.print(("[green]" if report.ok else "[red]") + str(report) + "[/]")
    ok = all(report.ok for _, _, report in checks)
    rows = [_gradcheck_row(name, point, report) for name, point, report in checks]
    print_json(args, {"loss": loss.name, "ok": ok, "checks": rows})
    if not ok:
        raise SystemExit(1)


def _gradcheck_row(name, point, report):
    """One input's check as JSON: its verdict, worst error and the step used."""
    return {
        "input": name,
        "shape": list(point.shape),
        "dtype": str(point.dtype),
        "ok": report.ok,
        "max_rel_error": report.max_rel_error,
        "tolerance": report.tolerance,
        "eps": report.eps,
        "coordinates": len(report.indices),
        "kinks": len(report.kinks),
    }
