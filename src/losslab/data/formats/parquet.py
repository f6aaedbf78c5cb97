"""Parquet: read one row group at a time (needs pyarrow).

The label column follows :func:`~losslab.data.formats.base.target_column` (a
column name or an index; the last column by default). Features are the other
columns, as numbers; labels keep the column's type, text as a NumPy string array.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .base import Chunk, Source, StrPath, Target, read_whole, target_column


class ParquetSource(Source):
    """Chunks of a Parquet file: one per row group (``chunk_rows`` does not apply).

    Read with pyarrow, one row group at a time; columns are named by the file's
    schema.

    Parameters
    ----------
    path : str or PathLike
        An existing Parquet file.
    target : str, int or None
        The label column: a name or an index (default: the last).
    chunk_rows : int, default 65536
        Unused: the chunks are the file's row groups.
    dtype : dtype, default float32
        Of the features.

    Raises
    ------
    ValueError
        Without pyarrow, or for a file that is not Parquet or has fewer than two columns.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> table = pa.table({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0], "label": ["x", "y", "x"]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.parquet")
    ...     pq.write_table(table, path, row_group_size=2)
    ...     source = ParquetSource(path)
    ...     source.chunk_sizes(), [chunk.y.tolist() for chunk in source.chunks()]
    ([2, 1], [['x', 'y'], ['x']])

    References
    ----------
    Apache Parquet's file format: https://parquet.apache.org/docs/file-format/
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
            import pyarrow.parquet as pq
        except ImportError:
            raise ValueError(
                "parquet: reading Parquet needs pyarrow (pip install pyarrow)"
            ) from None
        try:
            self.file = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises its own error types for foreign files
            raise ValueError(f"{self.path}: not a readable Parquet file ({exc})") from None
        names = self.file.schema_arrow.names
        if len(names) < 2:
            raise ValueError(
                f"{self.path}: expected at least 2 columns (features and a label), got {len(names)}"
            )
        self.label = names[target_column(target, names, len(names), self.path)]
        self.features = self.feature_names = [n for n in names if n != self.label]
        self.offsets = np.cumsum([0, *self.chunk_sizes()])

    def chunk_sizes(self) -> list[int]:
        """The rows of each row group."""
        meta = self.file.metadata
        return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[Chunk]:
        """Yield the row groups as chunks, in ``order`` when given."""
        for k in range(len(self.chunk_sizes())) if order is None else order:
            table = self.file.read_row_group(k, columns=[*self.features, self.label])
            yield Chunk(*self._arrays(table), np.arange(self.offsets[k], self.offsets[k + 1]))

    def _arrays(self, table: Any) -> tuple[np.ndarray, np.ndarray]:
        X = np.empty((table.num_rows, len(self.features)), dtype=self.dtype)
        for j, name in enumerate(self.features):
            try:
                X[:, j] = table.column(name).to_numpy()
            except (TypeError, ValueError):
                raise ValueError(
                    f"{self.path}: feature values must be numbers; column {name!r} holds "
                    f"{table.column(name).type}"
                ) from None
        y = table.column(self.label).to_numpy()
        return X, (y.astype(str) if y.dtype == object else y)


def read(path: StrPath, target: Target = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X float64, y, feature_names) of a whole Parquet file.

    Parameters
    ----------
    path : str or PathLike
        A Parquet file (needs pyarrow).
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
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.parquet")
    ...     pq.write_table(pa.table({"label": [0, 1], "a": [1.5, 2.5]}), path)
    ...     X, y, names = read(path, target="label")
    >>> X.tolist(), y.tolist(), names
    ([[1.5], [2.5]], [0, 1], ['a'])

    References
    ----------
    Apache Parquet's file format: https://parquet.apache.org/docs/file-format/
    """
    return read_whole(ParquetSource, path, target)
