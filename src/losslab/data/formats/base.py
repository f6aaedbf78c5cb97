"""What every file format shares: the chunk, the chunked source, and the one rule for the label column."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

WHOLE_FILE = 2**62  # chunk_rows of a whole-file read: every row in one chunk


StrPath = str | os.PathLike[str]  # a file name, as str or pathlib.Path
Target = str | int | None  # the label column: a name, an index, or None for the last


@dataclass
class Chunk:
    """Consecutive rows of a file.

    Attributes
    ----------
    X : ndarray or scipy.sparse.csr_matrix of shape (n, D)
        The features, in the source's dtype (CSR for a sparse format: svmlight).
    y : ndarray of shape (n,)
        The labels.
    index : int ndarray of shape (n,)
        The rows' numbers in the whole file, for a deterministic hold-out.

    Examples
    --------
    >>> chunk = Chunk(np.zeros((2, 3)), np.array([0, 1]), np.array([10, 11]))
    >>> chunk.X.shape, chunk.index.tolist()
    ((2, 3), [10, 11])
    """

    X: Any  # an ndarray, or CSR for a sparse format
    y: np.ndarray
    index: np.ndarray  # global row numbers, for deterministic hold-out


def target_column(target: Target, names: Sequence[str] | None, width: int, path: StrPath) -> int:
    """The label column's index: ``target`` names a column, or gives its index; None is the last.

    ``names`` are the column names (None for a format without them). A name
    wins over an index, so a header column called "3" is found by ``target="3"``.

    Parameters
    ----------
    target : str, int or None
        A column name, an index (negative counts from the end), or None.
    names : sequence of str or None
        The columns' names (None for a format without them).
    width : int
        The number of columns.
    path : str or PathLike
        Named in the error messages.

    Returns
    -------
    int
        In [0, width).

    Examples
    --------
    >>> target_column(None, ["a", "b", "label"], 3, "f.csv")
    2
    >>> target_column("a", ["a", "b", "label"], 3, "f.csv"), target_column(-2, None, 3, "f.npy")
    (0, 1)
    """
    if target is None:
        return width - 1
    if names is not None and str(target) in names:
        return list(names).index(str(target))
    try:
        col = int(target)
    except (TypeError, ValueError):
        raise ValueError(f"target: no column named {target!r} in {path}") from None
    if not -width <= col < width:
        raise ValueError(f"target: column {col} out of range for {width} columns in {path}")
    return col % width


class Source(ABC):
    """A file read as a sequence of chunks; ``chunks(order)`` yields them in that order.

    Features come as ``dtype`` (float32 for streaming; float64 for a whole-file
    read); ``feature_names`` names them. The label column follows
    :func:`target_column`. Each format subclasses it (``NpySource``,
    ``ParquetSource``, ``CsvSource``); :mod:`losslab.data.formats` registers them.

    Parameters
    ----------
    path : str or PathLike
        An existing file.
    target : str, int or None
        The label column.
    chunk_rows : int, default 65536
        Rows per chunk, where the format chooses by rows.
    dtype : dtype, default float32
        Of the features.

    Raises
    ------
    ValueError
        If the file does not exist or ``chunk_rows`` is not positive.

    Examples
    --------
    Every format's source reads the same way (here ``.npy``):

    >>> import os, tempfile
    >>> from losslab.data.formats import NpySource
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.npy")
    ...     np.save(path, np.c_[np.arange(10.0), np.arange(10) % 2])
    ...     source = NpySource(path, chunk_rows=4)
    ...     X, y = source.read()
    ...     isinstance(source, Source), source.n_chunks(), X.shape, y[:4].tolist()
    (True, 3, (10, 1), [0.0, 1.0, 0.0, 1.0])
    """

    def __init__(
        self,
        path: StrPath,
        target: Target = None,
        chunk_rows: int = 65536,
        dtype: Any = np.float32,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"{self.path}: cannot read (no such file)")
        if int(chunk_rows) < 1:
            raise ValueError(f"chunk_rows: expected a positive integer, got {chunk_rows}")
        self.target = target
        self.chunk_rows = int(chunk_rows)
        self.dtype = np.dtype(dtype)
        self.feature_names: list[str] = []

    def chunk_sizes(self) -> list[int] | None:
        """The rows of each chunk, or None when unknown without reading the file."""
        return None

    def n_chunks(self) -> int | None:
        """How many chunks the file has (None when unknown without reading it)."""
        sizes = self.chunk_sizes()
        return None if sizes is None else len(sizes)

    @abstractmethod
    def chunks(self, order: Iterable[int] | None = None) -> Iterator[Chunk]:
        """Yield :class:`Chunk` objects, in ``order`` of chunk numbers when given."""

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, y): every chunk in file order, joined."""
        parts = list(self.chunks())
        if not parts:
            return np.empty((0, len(self.feature_names)), self.dtype), np.empty(0)
        if len(parts) == 1:
            return parts[0].X, parts[0].y
        y = np.concatenate([p.y for p in parts])
        if sp.issparse(parts[0].X):
            return sp.vstack([p.X for p in parts], format="csr"), y
        return np.concatenate([p.X for p in parts]), y


def read_whole(
    kind: type[Source], path: StrPath, target: Target = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X float64, y, feature_names) of a whole file, read by the format's own chunk reader.

    Parameters
    ----------
    kind : type of Source
        The format's source class.
    path : str or PathLike
        The file.
    target : str, int or None
        The label column (default: the last).

    Returns
    -------
    X : ndarray of shape (n, D), float64
        The features (CSR for a sparse format).
    y : ndarray of shape (n,)
        The labels.
    feature_names : list of str
        The features' names.

    Examples
    --------
    >>> import os, tempfile
    >>> from losslab.data.formats import NpySource
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.npy")
    ...     np.save(path, np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]], dtype=np.float32))
    ...     X, y, names = read_whole(NpySource, path)
    >>> X.dtype.name, y.tolist(), names
    ('float64', [0.0, 1.0], ['x0', 'x1'])
    """
    source = kind(path, target, chunk_rows=WHOLE_FILE, dtype=np.float64)
    X, y = source.read()
    return X, y, list(source.feature_names)
