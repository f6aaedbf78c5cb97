"""The ``losslab`` command line: a thin layer over the library.

Every sub-command parses its arguments, calls library functions and prints.
Bad arguments or unreadable files end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="losslab",
        description="Loss functions, their gradients and the optimizers that minimise them.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
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
        print(f"losslab {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
