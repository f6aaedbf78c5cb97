"""The ``losslab`` command line: a thin layer over the library.

Every sub-command parses its arguments, calls library functions and prints; each command
group's parser and handlers live in one module (train, lsq, diagnostics, understanding,
lessons, tools).
Bad arguments or unreadable files end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .. import __version__
from . import diagnostics, lessons, lsq, tools, train, understanding
from .common import UsageError

# the order of the groups is the order of the commands in --help
GROUPS = (train, lsq, diagnostics, understanding, lessons, tools)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default (unless the text already names it);
    descriptions and epilogs keep their line breaks (the ``--json`` keys are a list)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default is None or default is False or default is argparse.SUPPRESS:
            return text
        if not action.option_strings and action.nargs not in ("?", "*"):
            return text  # a required positional has no default to show
        return f"{text} (default: %(default)s)"


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2 (no usage dump)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``losslab`` parser: one sub-command per command of the groups in ``GROUPS``."""
    parser = _ArgumentParser(
        prog="losslab",
        description="Loss functions, their gradients and the optimizers that minimise them.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``losslab ARGV``; the exit code (0, 1 for a failed check, 2 for a usage error, 130 on Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (UsageError, ValueError, TypeError, OSError) as exc:
        print(f"losslab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"losslab {args.command}: interrupted{_resume_hint(args)}", file=sys.stderr)
        return 130
    return 0


def _resume_hint(args: argparse.Namespace) -> str:
    """How to continue an interrupted run, when it left a checkpoint to continue from; or nothing.

    Streamed runs and metric learning write no checkpoint, so they never get a hint.
    """
    out = getattr(args, "out", None) or getattr(args, "resume", None)
    if not out or getattr(args, "stream", False) or getattr(args, "task", None) == "embed":
        return ""
    if not (Path(out) / "checkpoint.npz").is_file():
        return ""
    hint = f"; continue with: losslab train --resume {out}"
    if getattr(args, "scheduler", None):
        hint += f" --scheduler {args.scheduler}"
    return hint


if __name__ == "__main__":
    sys.exit(main())
