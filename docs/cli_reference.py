"""The command-line reference, written at build time from the parser itself.

Every ``losslab`` command's ``--help`` text, so the page cannot drift from the
program. ``conf.py`` calls :func:`write_page`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """{command name: its parser}, in ``--help`` order."""
    for action in parser._actions:  # argparse offers no public way to reach the sub-parsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def write_page(path: Path) -> None:
    """Write the reST page: the top-level help, then one section per command."""
    from losslab.cli.main import build_parser

    os.environ["COLUMNS"] = "88"  # argparse wraps help text to the terminal; fix it for the page
    parser = build_parser()
    lines = ["Command line", "============", ""]
    lines += ["Every command, as ``losslab COMMAND --help`` prints it.", ""]
    lines += _literal(parser.format_help())
    for name, sub in commands(parser).items():
        title = f"losslab {name}"
        lines += [title, "-" * len(title), "", *_literal(sub.format_help())]
    text = "\n".join(lines)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def _literal(text: str) -> list[str]:
    return (
        [".. code-block:: text", ""] + [f"   {line}".rstrip() for line in text.splitlines()] + [""]
    )
