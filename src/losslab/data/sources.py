"""Reading files larger than memory: chunks of rows, and shuffled batches within a bounded buffer.

Sources (the label is the last column unless ``target`` names another):

- ``.npy`` — one 2-D array, memory-mapped: only the chunk being read is in memory;
- ``.parquet`` — read one row group at a time (pyarrow);
- ``.csv`` — read ``chunk_rows`` lines at a time.

Shuffling needs no full copy: the order of the chunks is shuffled (``.npy`` and
Parquet; a CSV is read front to back), then rows pass through a shuffle buffer
of ``buffer_rows`` rows, so memory stays bounded by about
``buffer_rows + chunk_rows`` rows whatever the file's size.
:func:`fit_stream` trains any estimator with ``partial_fit`` this way, after one
streaming pass that computes the standardisation statistics and the classes.
Rows whose index is a multiple of ``holdout_every`` can be held out for testing.
"""

from __future__ import annotations

import csv
import mmap
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Chunk:
    X: np.ndarray
    y: np.ndarray
    index: np.ndarray  # global row numbers, for deterministic hold-out


class Source(ABC):
    """A file read as a sequence of chunks; ``chunks(order)`` yields them in that order."""

    def __init__(self, path, target=None, chunk_rows=65536):
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"{self.path}: no such file")
        self.target = target
        self.chunk_rows = int(chunk_rows)

    @abstractmethod
    def n_chunks(self):
        """How many chunks the file has (None when unknown without reading it)."""

    @abstractmethod
    def chunks(self, order=None):
        """Yield :class:`Chunk` objects, in ``order`` of chunk numbers when given."""


def _target_column(target, width, path):
    col = width - 1 if target is None else int(target)
    if not -width <= col < width:
        raise ValueError(f"target: column {target} out of range for {width} columns in {path}")
    return col % width


def _split_target(block, target, width, path):
    col = _target_column(target, width, path)
    X = np.delete(block, col, axis=1).astype(np.float32, copy=False)
    return X, block[:, col]


class NpySource(Source):
    def __init__(self, path, target=None, chunk_rows=65536):
        super().__init__(path, target, chunk_rows)
        try:
            self.array = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{self.path}: not a readable .npy array ({exc})") from None
        if self.array.ndim != 2 or self.array.shape[1] < 2:
            raise ValueError(
                f"{self.path}: expected a 2-D array with features and a label column, got {self.array.shape}"
            )

    def n_chunks(self):
        return -(-len(self.array) // self.chunk_rows)

    def chunks(self, order=None):
        width = self.array.shape[1]
        col = _target_column(self.target, width, self.path)
        for k in range(self.n_chunks()) if order is None else order:
            rows = self.array[k * self.chunk_rows : (k + 1) * self.chunk_rows]
            # copy the features straight from the mapping into float32: no whole-block temporary
            X = np.empty((len(rows), width - 1), dtype=np.float32)
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


class ParquetSource(Source):
    def __init__(self, path, target=None, chunk_rows=65536):
        super().__init__(path, target, chunk_rows)
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
        if target is None:
            self.label = names[-1]
        elif str(target) in names:
            self.label = str(target)
        else:
            raise ValueError(f"target: no column named {target!r} in {self.path}")
        self.features = [n for n in names if n != self.label]
        meta = self.file.metadata
        self.offsets = np.cumsum(
            [0] + [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        )

    def n_chunks(self):
        return self.file.metadata.num_row_groups

    def chunks(self, order=None):
        for k in range(self.n_chunks()) if order is None else order:
            table = self.file.read_row_group(k, columns=[*self.features, self.label])
            X = np.column_stack([table.column(n).to_numpy() for n in self.features]).astype(
                np.float32
            )
            y = table.column(self.label).to_numpy()
            yield Chunk(X, y, np.arange(self.offsets[k], self.offsets[k] + len(y)))


class CsvSource(Source):
    def n_chunks(self):
        return None  # unknown without reading the file; chunks come in file order

    def chunks(self, order=None):
        with open(self.path, newline="") as f:
            reader = csv.reader(f)
            first = next(reader, None)
            if first is None:
                return
            rows, start = [], 0
            try:
                [float(v) for v in first]
                rows.append(first)
            except ValueError:
                pass  # a header row
            for row in reader:
                if row:
                    rows.append(row)
                if len(rows) == self.chunk_rows:
                    yield self._chunk(rows, start)
                    start += len(rows)
                    rows = []
            if rows:
                yield self._chunk(rows, start)

    def _chunk(self, rows, start):
        try:
            block = np.array(rows, dtype=np.float64)
        except ValueError as exc:
            raise ValueError(f"{self.path}: expected numeric columns ({exc})") from None
        X, y = _split_target(block, self.target, block.shape[1], self.path)
        return Chunk(X, y, np.arange(start, start + len(block)))


def open_source(path, target=None, chunk_rows=65536):
    suffix = Path(path).suffix.lower()
    kinds = {".npy": NpySource, ".parquet": ParquetSource, ".csv": CsvSource}
    if suffix not in kinds:
        raise ValueError(f"data: streaming reads .npy, .parquet or .csv files, got {path}")
    return kinds[suffix](path, target, chunk_rows)


def stream(
    source,
    batch_size=256,
    *,
    shuffle=True,
    buffer_rows=65536,
    seed=0,
    holdout_every=None,
    test=False,
    stats=None,
):
    """Mini-batches (X float32, y) from a source, shuffled through a bounded buffer.

    With ``holdout_every=k``, rows whose global index is a multiple of k are the
    test rows: ``test=False`` skips them, ``test=True`` yields only them.
    ``stats`` (a dict), if given, receives ``peak_buffer_rows``.
    """
    rng = np.random.default_rng(seed)
    n = source.n_chunks()
    order = rng.permutation(n) if shuffle and n is not None else None
    buffer = _ShuffleBuffer()
    peak = 0
    for chunk in source.chunks(order):
        X, y = chunk.X, chunk.y
        if holdout_every:
            keep = (chunk.index % holdout_every == 0) == test
            X, y = X[keep], y[keep]
        buffer.add(X, y)
        peak = max(peak, buffer.held)
        if buffer.held >= buffer_rows:
            yield from buffer.drain(rng, batch_size, shuffle, keep_rest=True)
    yield from buffer.drain(rng, batch_size, shuffle, keep_rest=False)
    if stats is not None:
        stats["peak_buffer_rows"] = peak


class _ShuffleBuffer:
    """Rows waiting to be shuffled, in one array that grows once and is then reused
    (no per-drain concatenation: memory stays at about buffer_rows + chunk_rows rows)."""

    def __init__(self):
        self.X = self.y = None
        self.held = 0

    def add(self, X, y):
        need = self.held + len(X)
        if self.X is None or need > len(self.X):
            self.X = _grown(self.X, need, X)
            self.y = _grown(self.y, need, y)
        self.X[self.held : need] = X
        self.y[self.held : need] = y
        self.held = need

    def drain(self, rng, batch_size, shuffle, keep_rest):
        """Yield shuffled batches of the held rows; keep the last partial batch when asked."""
        if not self.held:
            return
        perm = rng.permutation(self.held) if shuffle else np.arange(self.held)
        full = len(perm) - len(perm) % batch_size if keep_rest else len(perm)
        for start in range(0, full, batch_size):
            idx = perm[start : start + batch_size]
            yield self.X[idx], self.y[idx]
        rest = perm[full:]
        self.X[: len(rest)] = self.X[rest]
        self.y[: len(rest)] = self.y[rest]
        self.held = len(rest)


def _grown(old, rows, like):
    """An array of ``rows`` rows shaped and typed like ``like``, holding ``old``'s rows first."""
    new = np.empty((rows, *like.shape[1:]), dtype=like.dtype if old is None else old.dtype)
    if old is not None:
        new[: len(old)] = old
    return new


@dataclass
class StreamStats:
    mean: np.ndarray
    scale: np.ndarray
    classes: np.ndarray
    n_rows: int


def streaming_statistics(source, *, holdout_every=None, block=4096):
    """Mean, standard deviation and classes of the training rows in one pass.

    Blocks of ``block`` rows are merged with Chan's parallel update, so the
    temporaries stay a few MB whatever the chunk size.
    """
    count, mean, m2, classes = 0, None, None, set()
    for chunk in source.chunks():
        X, y = chunk.X, chunk.y
        if holdout_every:
            keep = chunk.index % holdout_every != 0
            X, y = X[keep], y[keep]
        classes.update(np.unique(y).tolist())
        for start in range(0, len(X), block):
            part = X[start : start + block].astype(np.float64)
            n_b, mean_b = len(part), part.mean(axis=0)
            part -= mean_b
            m2_b = np.einsum("ij,ij->j", part, part)
            if mean is None:
                count, mean, m2 = n_b, mean_b, m2_b
                continue
            delta = mean_b - mean
            total = count + n_b
            mean = mean + delta * n_b / total
            m2 = m2 + m2_b + delta**2 * count * n_b / total
            count = total
    if not count:
        raise ValueError(f"{source.path}: no training rows")
    scale = np.sqrt(m2 / count)
    scale[scale == 0] = 1.0
    return StreamStats(mean, scale, np.array(sorted(classes)), count)
