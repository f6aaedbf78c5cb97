"""What every command group shares: the usage error, argument types and how files are reported."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

# what add_parsers receives: the sub-command parsers of ``losslab``
Subparsers = argparse._SubParsersAction  # argparse has no public name for it


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit code 2."""


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _integer_from(text, 1, "a positive integer")


def _integer_from(text: str, low: int, what: str) -> int:
    """``text`` as an integer >= ``low``, else an argparse error saying ``what`` was expected."""
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (not NaN, not infinite)."""
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    if value == math.inf:
        raise argparse.ArgumentTypeError(f"expected a finite non-negative number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (a learning rate)."""
    value = _number(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (a seed)."""
    return _integer_from(text, 0, "a non-negative integer")


def penalty_strength_arg(text: str) -> float | str:
    """argparse type: "auto" or a finite number >= 0 (a penalty strength, ``alpha``/``reg``)."""
    return "auto" if text == "auto" else non_negative_float(text)


def key_values(pairs: Iterable[str] | None, option: str = "--loss-option") -> dict[str, Any]:
    """KEY=VALUE strings to a dict of numbers (or strings); ``option`` names the flag in errors."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"{option}: expected KEY=VALUE, got {pair!r}")
        try:
            options[key] = float(value)
        except ValueError:
            options[key] = value
    return options


def out_dir(args: argparse.Namespace, default: str) -> Path:
    """``--out`` (or ``default``), created if missing."""
    out = Path(args.out or default)
    out.mkdir(parents=True, exist_ok=True)
    return out


def show_files(console: Console, out: Path, names: Iterable[str]) -> None:
    """The line naming the files a command wrote under ``out``."""
    console.print(f"files in {out}: {', '.join(names)}")


def add_json_option(parser: argparse.ArgumentParser, keys: Mapping[str, str]) -> None:
    """``--json`` on a command: its results as one JSON object on stdout.

    ``keys`` ({key: what it holds}) is listed in the command's ``--help`` and kept as
    ``args.json_keys``, so a test can hold the output to what the help promises.
    """
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the results as one JSON object on stdout (its keys are listed below); "
        "tables and messages go to stderr",
    )
    width = max(len(k) for k in keys)
    listing = "\n".join(f"  {k:<{width}}  {text}" for k, text in keys.items())
    epilog = f"{parser.epilog}\n\n" if parser.epilog else ""
    parser.epilog = f"{epilog}with --json, stdout is one JSON object with the keys:\n{listing}"
    parser.set_defaults(json_keys=tuple(keys))


def console_for(args: argparse.Namespace) -> Console:
    """The console a command prints its tables to: stderr when stdout carries ``--json``."""
    return Console(stderr=bool(getattr(args, "json", False)))


def print_json(args: argparse.Namespace, payload: Mapping[str, Any]) -> None:
    """Print ``payload`` as JSON on stdout when the command was given ``--json``."""
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2), flush=True)
