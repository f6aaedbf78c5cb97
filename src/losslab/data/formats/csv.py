"""CSV: the rules for a header, the label column and its labels, read whole or in chunks of lines.

- Empty lines are skipped; every other row has as many cells as the first.
- The first row is the header when ``target`` names one of its cells, or when a
  cell other than the label's is not a number. Without a header, features are
  called x0, x1, ...
- The label column follows :func:`~losslab.data.formats.base.target_column`
  (a header name or an index; the last column by default).
- Features are numbers. Labels are stripped text, unless every label of the
  file is a number: then integers (int64) when all are whole, else float64.
  The decision is the file's, so every chunk of a streamed file holds labels of
  one kind, the same as a whole-file read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import numpy as np

from .base import Chunk, Source, StrPath, Target, read_whole, target_column

_SCAN_BLOCK = 65536  # labels classified at a time when scanning a file's label column


class CsvSource(Source):
    """A CSV file read front to back, ``chunk_rows`` rows at a time (how many: unknown until read).

    The header, label and label-kind rules are this module's.

    Parameters
    ----------
    path : str or PathLike
        An existing CSV file.
    target : str, int or None
        The label column: a header name or an index (default: the last).
    chunk_rows : int, default 65536
        Rows per chunk.
    dtype : dtype, default float32
        Of the features.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "small.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("a,b,label\\n1,2,0\\n3,4,1\\n5,6,0\\n")
    ...     source = CsvSource(path, chunk_rows=2)
    ...     [chunk.y.tolist() for chunk in source.chunks()], source.feature_names
    ([[0, 1], [0]], ['a', 'b'])

    References
    ----------
    Y. Shafranovich, RFC 4180, "Common Format and MIME Type for Comma-Separated Values (CSV)
    Files", 2005.
    """

    def __init__(
        self,
        path: StrPath,
        target: Target = None,
        chunk_rows: int = 65536,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__(path, target, chunk_rows, dtype)
        first = next(_rows(self.path), None)
        if first is None:
            raise ValueError(f"{self.path}: the file is empty")
        self.width = len(first)
        if self.width < 2:
            raise ValueError(
                f"{self.path}: expected at least 2 columns (features and a label), got {self.width}"
            )
        self.header = first if _is_header(first, target) else None
        self.column = target_column(target, self.header, self.width, self.path)
        self.feature_names = (
            [n for j, n in enumerate(self.header) if j != self.column]
            if self.header
            else [f"x{j}" for j in range(self.width - 1)]
        )
        self.label_kind = None  # "int", "float" or "text": decided once per file

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[Chunk]:
        """Chunks in file order (a CSV cannot be read out of order, so ``order`` is ignored)."""
        rows = _rows(self.path)
        if self.header is not None:
            next(rows)
        start = 0
        for block, more in _blocks(rows, self.chunk_rows):
            first_row = start + 1 + (self.header is not None)  # row number as a person counts
            self._check_widths(block, first_row)
            if self.label_kind is None:
                self.label_kind = self._decide_labels(block, more)
            X, y = self._parse(block, first_row)
            yield Chunk(X, y, np.arange(start, start + len(block)))
            start += len(block)

    def _decide_labels(self, first_block, more):
        """The file's label kind: text as soon as one label is; numbers only if all are."""
        kind = label_kind(row[self.column] for row in first_block)
        if kind == "text" or not more:
            return kind
        rows = _rows(self.path)
        if self.header is not None:
            next(rows)
        labels = (row[self.column] if len(row) > self.column else "" for row in rows)
        kinds = set()
        while block := list(islice(labels, _SCAN_BLOCK)):
            kinds.add(label_kind(block))
            if "text" in kinds:
                return "text"
        return "float" if "float" in kinds else "int"

    def _check_widths(self, block, first_row):
        for i, row in enumerate(block):
            if len(row) != self.width:
                raise ValueError(
                    f"{self.path}: row {first_row + i} has {len(row)} columns, expected {self.width}"
                )

    def _parse(self, block, first_row):
        col = self.column
        try:
            if self.label_kind == "text":
                y = np.array([row[col].strip() for row in block])
                values = np.array([row[:col] + row[col + 1 :] for row in block], dtype=np.float64)
            else:
                values = np.array(block, dtype=np.float64)
                y = values[:, col].astype(np.int64 if self.label_kind == "int" else np.float64)
                values = np.delete(values, col, axis=1)
        except ValueError:
            raise self._not_a_number(block, first_row) from None
        with np.errstate(over="ignore"):  # beyond float32: infinity, refused where it is used
            return values.astype(self.dtype, copy=False), y

    def _not_a_number(self, block, first_row):
        """The error naming the first cell that is not a number."""
        names = self.header or [f"column {j}" for j in range(self.width)]
        for i, row in enumerate(block):
            for j, cell in enumerate(row):
                if (j != self.column or self.label_kind != "text") and not is_number(cell):
                    what = "labels" if j == self.column else "feature values"
                    return ValueError(
                        f"{self.path}: {what} must be numbers; row {first_row + i}, "
                        f"{names[j]}: {cell!r}"
                    )
        return ValueError(f"{self.path}: expected numeric columns")


def read(path: StrPath, target: Target = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X float64, y, feature_names) of a whole CSV file, by the rules above.

    Parameters
    ----------
    path : str or PathLike
        A CSV file.
    target : str, int or None
        The label column (default: the last).

    Returns
    -------
    X : ndarray of shape (n, D), float64
        The features.
    y : ndarray of shape (n,)
        The labels, as the format's rules read them.
    feature_names : list of str
        The features' names.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "small.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("x,colour\\n1.5,red\\n2.5,blue\\n")
    ...     X, y, names = read(path)
    >>> X.tolist(), y.tolist(), names  # text labels stay text
    ([[1.5], [2.5]], ['red', 'blue'], ['x'])

    References
    ----------
    Y. Shafranovich, RFC 4180, "Common Format and MIME Type for Comma-Separated Values (CSV)
    Files", 2005.
    """
    return read_whole(CsvSource, path, target)


def label_kind(labels: Iterable[object]) -> str:
    """ "int", "float" or "text": how a group of label cells is read.

    Parameters
    ----------
    labels : iterable
        Label cells.

    Returns
    -------
    {"int", "float", "text"}
        "int" when every cell is a whole number, "float" when every cell is a
        number, else "text".

    Examples
    --------
    >>> label_kind(["1", "2"]), label_kind(["1.5", "2"]), label_kind(["a", "2"])
    ('int', 'float', 'text')

    References
    ----------
    Y. Shafranovich, RFC 4180, "Common Format and MIME Type for Comma-Separated Values (CSV)
    Files", 2005.
    """
    cells = np.array([str(c).strip() for c in labels])
    try:
        values = cells.astype(np.float64)
    except ValueError:
        return "text"
    whole = np.all(np.isfinite(values)) and np.all(values == np.round(values))
    return "int" if whole else "float"


def is_number(cell: str) -> bool:
    """True when ``float(cell)`` reads it.

    Parameters
    ----------
    cell : str
        One cell's text.

    Returns
    -------
    bool
        Whether it is a number (inf and nan included).

    Examples
    --------
    >>> is_number("1e3"), is_number("x")
    (True, False)
    """
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_header(first, target):
    """A first row is the header when it holds the target's name or a non-numeric feature cell."""
    if target is not None and not is_number(str(target)) and str(target) in first:
        return True
    try:
        label = (len(first) - 1 if target is None else int(target)) % len(first)
    except (TypeError, ValueError):
        label = len(first) - 1  # a name this row lacks: judge the row by its other cells
    return any(not is_number(c) for j, c in enumerate(first) if j != label)


def _rows(path):
    """The non-empty rows of a CSV file; an unreadable file is a ValueError naming it."""
    try:
        with open(path, newline="") as f:
            for row in csv.reader(f):
                if row:
                    yield row
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None


def _blocks(rows, size):
    """Lists of ``size`` rows (the last may be shorter), each with whether more rows follow."""
    block = []
    for row in rows:
        if len(block) == size:
            yield block, True
            block = []
        block.append(row)
    if block:
        yield block, False
