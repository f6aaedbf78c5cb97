"""Read docstrings' plain-text notation as text, not as reST markup.

losslab's docstrings are read in a terminal (``help``) as much as on this site, so
they write ``|x|`` for an absolute value and ``coef_`` for a fitted attribute. In
reST the first is a substitution and the second a link target; both would be
errors. :func:`protect` escapes the two outside literals, math and code blocks, so
the page shows what the terminal shows. ``conf.py`` runs it on every docstring.
"""

from __future__ import annotations

import re

# spans left alone: ``literal``, `interpreted`, :role:`text`
_CODE = re.compile(r"(:\w+:)?``.*?``|(:[\w:]+:)?`[^`]*`")
_BARS = re.compile(r"(?<![\\|])\|([^|\s`][^|`]*?)\|(?!\|)")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[\s.,;:)\]]|$)")


def protect(lines: list[str]) -> list[str]:
    """Escape ``|...|`` and words ending in ``_`` in prose lines; keep blocks as written.

    A paragraph ending in ":" followed by a blank line and an indented block
    introduces code (pseudo-code, a command, a table) as it would in a plain-text
    file: it becomes a reST literal block (``::``).
    """
    out, block_indent, in_doctest = [], None, False
    for line in _literal_blocks(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and stripped and indent <= block_indent:
            block_indent = None
        in_doctest = stripped.startswith(">>>") or (in_doctest and bool(stripped))
        if block_indent is None and not in_doctest and not stripped.startswith(".. "):
            out.append(_protect_line(line))
        else:
            out.append(line)  # code and its printed output stay as written
        if block_indent is None and (stripped.endswith("::") or stripped.startswith(".. ")):
            block_indent = indent  # a literal block, a directive's body: indented further
    return out


def _literal_blocks(lines: list[str]) -> list[str]:
    """Lines ending in a single ":" that introduce an indented block after a blank line, as "::"."""
    out = list(lines)
    for i, line in enumerate(lines[:-2]):
        stripped = line.strip()
        if (
            not stripped.endswith(":")
            or stripped.endswith("::")
            or stripped.startswith((".. ", ":"))
        ):
            continue
        if lines[i + 1].strip():
            continue  # no blank line: a definition list or a field, not a block
        following = next((n for n in lines[i + 2 :] if n.strip()), "")
        if _indent(following) > _indent(line) and not following.strip().startswith(">>>"):
            out[i] = line.rstrip() + ":"
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _protect_line(line: str) -> str:
    pieces, last = [], 0
    for match in _CODE.finditer(line):
        pieces.append(_escape(line[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_escape(line[last:]))
    return "".join(pieces)


def _escape(text: str) -> str:
    text = _BARS.sub(r"\\|\1\\|", text)
    return _TRAILING_UNDERSCORE.sub(r"\\_", text)
