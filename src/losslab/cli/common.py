"""What every command group shares: the usage error, argument types and how files are reported."""

from __future__ import annotations

import argparse
from pathlib import Path


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit code 2."""


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_float(text):
    """argparse type: a number >= 0 (not NaN)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def key_values(pairs, option="--loss-option"):
    """KEY=VALUE strings to a dict of numbers (or strings); ``option`` names the flag in errors."""
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"{option}: expected KEY=VALUE, got {pair!r}")
        try:
            options[key] = float(value)
        except ValueError:
            options[key] = value
    return options


def out_dir(args, default):
    """``--out`` (or ``default``), created if missing."""
    out = Path(args.out or default)
    out.mkdir(parents=True, exist_ok=True)
    return out


def show_files(console, out, names):
    console.print(f"files in {out}: {', '.join(names)}")
