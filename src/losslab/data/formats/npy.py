"""``.npy``: one 2-D numeric array, memory-mapped, so only the chunk being read is in memory.

The label column follows :func:`~losslab.data.formats.base.target_column` (an
index; the array has no column names; the last column by default). Labels keep
the array's dtype; features are called x0, x1, ...
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .base import Chunk, Source, StrPath, Target, read_whole, target_column


class NpySource(Source):
    """Chunks of ``chunk_rows`` rows of a memory-mapped ``.npy`` array.

    Only the chunk being read is in memory; its pages are released after it.
    The array is 2-D, the label one of its columns.

    Parameters
    ----------
    path : str or PathLike
        An existing ``.npy`` file holding a 2-D numeric array.
    target : int or None
        The label column's index (default: the last).
    chunk_rows : int, default 65536
        Rows per chunk.
    dtype : dtype, default float32
        Of the features.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.npy")
    ...     np.save(path, np.c_[np.arange(10.0), np.arange(10) % 2])
    ...     source = NpySource(path, chunk_rows=4)
    ...     source.chunk_sizes(), [int(chunk.index[0]) for chunk in source.chunks([2, 0])]
    ([4, 4, 2], [8, 0])

    References
    ----------
    NumPy's ``.npy`` format (NEP 1, "A Simple File Format for NumPy Arrays"):
    https://numpy.org/neps/nep-0001-npy-format.html
    """

    def __init__(
        self,
        path: StrPath,
        target: Target = None,
        chunk_rows: int = 65536,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__(path, target, chunk_rows, dtype)
        try:
            self.array = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{self.path}: not a readable .npy array ({exc})") from None
        if self.array.ndim != 2 or self.array.shape[1] < 2:
            raise ValueError(
                f"{self.path}: expected a 2-D array with features and a label column, got {self.array.shape}"
            )
        if self.array.dtype.kind not in "biuf":
            raise ValueError(f"{self.path}: expected a numeric array, got dtype {self.array.dtype}")
        width = self.array.shape[1]
        self.column = target_column(target, None, width, self.path)
        self.feature_names = [f"x{j}" for j in range(width - 1)]

    def chunk_sizes(self) -> list[int]:
        """The rows of each chunk: ``chunk_rows``, the last one shorter."""
        n, size = len(self.array), self.chunk_rows
        return [min(size, n - start) for start in range(0, n, size)]

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[Chunk]:
        """Yield the chunks, in ``order`` of chunk numbers when given (any order: memory-mapped)."""
        width, col = self.array.shape[1], self.column
        for k in range(len(self.chunk_sizes())) if order is None else order:
            rows = self.array[k * self.chunk_rows : (k + 1) * self.chunk_rows]
            # copy the features straight from the mapping into dtype: no whole-block temporary
            X = np.empty((len(rows), width - 1), dtype=self.dtype)
            X[:, :col] = rows[:, :col]
            X[:, col:] = rows[:, col + 1 :]
            y = np.array(rows[:, col])
            self._release()
            start = k * self.chunk_rows
            yield Chunk(X, y, np.arange(start, start + len(X)))

    def _release(self):
        """Drop the mapped pages just read from this process (they stay in the OS page cache),
        so resident memory holds a chunk, not every page of the file touched so far."""
        mapping = getattr(self.array, "_mmap", None)
        if mapping is not None and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            mapping.madvise(mmap.MADV_DONTNEED)


def read(path: StrPath, target: Target = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X float64, y, feature_names) of a whole ``.npy`` file.

    Parameters
    ----------
    path : str or PathLike
        A ``.npy`` file holding a 2-D numeric array.
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
    ...     path = os.path.join(tmp, "data.npy")
    ...     np.save(path, np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 4.0]]))
    ...     X, y, names = read(path, target=0)  # the label in the first column
    >>> X.tolist(), y.tolist(), names
    ([[1.0, 2.0], [3.0, 4.0]], [0.0, 1.0], ['x0', 'x1'])

    References
    ----------
    NumPy's ``.npy`` format (NEP 1, "A Simple File Format for NumPy Arrays"):
    https://numpy.org/neps/nep-0001-npy-format.html
    """
    return read_whole(NpySource, path, target)
