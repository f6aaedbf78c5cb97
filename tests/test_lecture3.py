"""docs/lecture3.md runs: every Python block prints what the page says, every command too.

The page is read in order. Its ``pycon`` blocks form one doctest session (one namespace,
as a reader typing them would have); each ``console`` block is one ``$ losslab ...``
command run in a scratch directory, its output compared with the page's, spaces aside.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import shlex
from pathlib import Path

import pytest

from losslab import cli

PAGE = Path(__file__).resolve().parents[1] / "docs" / "lecture3.md"
FENCE = re.compile(r"^```(pycon|console)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def blocks(text: str, kind: str) -> list[str]:
    """The bodies of the page's ``kind`` fenced blocks, in order."""
    return [body for k, body in FENCE.findall(text) if k == kind]


def run_command(line: str) -> str:
    """Run ``$ losslab ARGS`` in this process; its stdout (rich tables 100 columns wide)."""
    args = shlex.split(line.removeprefix("$ losslab "))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(args)
    assert code == 0, (line, out.getvalue())
    return out.getvalue()


def commands(text: str) -> list[tuple[str, str]]:
    """(command line, recorded output) of each console block."""
    pairs = []
    for body in blocks(text, "console"):
        first, _, output = body.partition("\n")
        assert first.startswith("$ losslab "), first
        pairs.append((first, output))
    return pairs


def _same(a: str, b: str) -> bool:
    return a.split() == b.split()


def test_every_python_block_prints_what_the_page_says():
    text = PAGE.read_text(encoding="utf-8")
    session = "\n".join(blocks(text, "pycon"))
    test = doctest.DocTestParser().get_doctest(session, {}, PAGE.name, str(PAGE), 0)
    assert len(test.examples) > 100
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=report.write)
    assert result.failed == 0, report.getvalue()


@pytest.mark.parametrize("line", [c for c, _ in commands(PAGE.read_text(encoding="utf-8"))])
def test_every_command_prints_what_the_page_says(line, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a command's default --out directory goes here
    monkeypatch.setenv("COLUMNS", "100")
    recorded = dict(commands(PAGE.read_text(encoding="utf-8")))[line]
    printed = run_command(line)
    assert _same(printed, recorded), f"{line}\n--- page\n{recorded}\n--- now\n{printed}"


def test_every_statement_of_the_seed_digest_has_a_section():
    text = PAGE.read_text(encoding="utf-8")
    for heading in (
        "The frame",
        "Multiclass SVM",
        "Softmax and cross-entropy",
        "Other losses",
        "Regularization",
        "Optimization",
    ):
        assert f"## {heading}" in text
    for number in ("2.9", "12.9", "5.27", "1.58", "1.040", "0.452", "0.639", "0.922", "1.500"):
        assert number in text, number
    for number in ("2.163", "0.693", "1.204", "1.0986", "2.303", "0.768", "0.357"):
        assert number in text, number
