"""Reading files larger than memory: chunks of rows, and shuffled batches within a bounded buffer.

Sources (each format's rules live in :mod:`losslab.data.formats`; the label is
the last column unless ``target`` names another, by name or index):

- ``.npy`` — one 2-D array, memory-mapped: only the chunk being read is in memory;
- ``.parquet`` — read one row group at a time (pyarrow);
- ``.csv`` — read ``chunk_rows`` lines at a time;
- ``.svm`` (``.svmlight``, ``.libsvm``) — ``chunk_rows`` lines at a time, each
  chunk a scipy.sparse CSR matrix (never densified); opening the file makes one
  pass that checks it and finds the number of features.

Shuffling needs no full copy: the order of the chunks is shuffled (``.npy`` and
Parquet; a CSV is read front to back), then rows pass through a shuffle buffer
of ``buffer_rows`` rows, so memory stays bounded by about
``buffer_rows + chunk_rows`` rows whatever the file's size.
:func:`losslab.scale.stream.fit_stream` trains any estimator with ``partial_fit`` this
way, after one streaming pass that computes the standardisation statistics and
the classes (sparse features are neither centred, which would densify them,
nor scaled: they train as they are, as scikit-learn's linear models take
TF-IDF). Rows whose index is a multiple of ``holdout_every`` can be held out
for testing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .formats import SOURCES, Chunk, CsvSource, NpySource, ParquetSource, Source, SvmlightSource
from .formats.base import StrPath, Target

__all__ = [
    "Chunk",
    "CsvSource",
    "NpySource",
    "ParquetSource",
    "Source",
    "StreamStats",
    "SvmlightSource",
    "is_sparse_file",
    "open_source",
    "stream",
    "streaming_statistics",
]


def open_source(path: StrPath, target: Target = None, chunk_rows: int = 65536) -> Source:
    """The chunked reader of ``path``, chosen by its suffix (.npy, .parquet, .csv or .svm).

    Parameters
    ----------
    path : str or Path
        The file; its suffix chooses the reader.
    target : str or int, optional
        The label column, by name or index (default: the last).
    chunk_rows : int, default 65536
        Rows per chunk (a Parquet file's chunks are its row groups).

    Returns
    -------
    Source
        A :class:`NpySource`, :class:`ParquetSource`, :class:`CsvSource` or
        :class:`SvmlightSource` (``.svm``, ``.svmlight``, ``.libsvm``).

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "big.npy")
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 4))
    >>> np.save(path, np.c_[X, X[:, 0] + X[:, 1] > 0])  # four features, then the label
    >>> source = open_source(path, chunk_rows=500)
    >>> type(source).__name__, source.n_chunks()
    ('NpySource', 4)
    >>> tmp.cleanup()
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SOURCES:
        raise ValueError(
            f"data: streaming reads .npy, .parquet or .csv files, or svmlight ones "
            f"(.svm, .svmlight, .libsvm), got {path}"
        )
    return SOURCES[suffix](path, target, chunk_rows)


def is_sparse_file(path: StrPath) -> bool:
    """True for a file whose rows are read as scipy.sparse CSR (svmlight: ``.svm``, ``.svmlight``, ``.libsvm``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bool

    Examples
    --------
    >>> is_sparse_file("news.svm"), is_sparse_file("train.LIBSVM"), is_sparse_file("x.csv")
    (True, True, False)
    """
    return SOURCES.get(Path(str(path)).suffix.lower()) is SvmlightSource


def stream(
    source: Source,
    batch_size: int = 256,
    *,
    shuffle: bool = True,
    buffer_rows: int = 65536,
    seed: int = 0,
    holdout_every: int | None = None,
    test: bool = False,
    stats: dict[str, Any] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches (X float32, y) from a source, shuffled through a bounded buffer.

    With ``holdout_every=k``, rows whose global index is a multiple of k are the
    test rows: ``test=False`` skips them, ``test=True`` yields only them.
    ``stats`` (a dict), if given, receives ``peak_buffer_rows``.

    Parameters
    ----------
    source : Source
        From :func:`open_source`.
    batch_size : int, default 256
        Rows per batch.
    shuffle : bool, default True
        Shuffle the chunks' order, then the rows within the buffer.
    buffer_rows : int, default 65536
        Rows of the shuffle buffer (the memory bound).
    seed : int, default 0
        Seeds the shuffles.
    holdout_every : int, optional
        Rows whose index is a multiple of this are held out.
    test : bool, default False
        Yield the held-out rows instead of the others.
    stats : dict, optional
        Receives ``peak_buffer_rows``, the most rows the buffer held.

    Yields
    ------
    X : ndarray or CSR matrix of shape (batch_size, D)
        In the source's dtype (float32 when streaming); CSR when the source's
        chunks are (svmlight).
    y : ndarray of shape (batch_size,)
        The last batch may be shorter.

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "big.npy")
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 4))
    >>> np.save(path, np.c_[X, X[:, 0] + X[:, 1] > 0])  # four features, then the label
    >>> batches = list(stream(open_source(path, chunk_rows=500), 512))
    >>> len(batches), batches[0][0].shape, batches[-1][0].shape
    (4, (512, 4), (464, 4))
    >>> tmp.cleanup()

    References
    ----------
    The shuffle buffer of ``tf.data.Dataset.shuffle``.
    """
    rng = np.random.default_rng(seed)
    n = source.n_chunks()
    order = rng.permutation(n) if shuffle and n is not None else None
    buffer: _ShuffleBuffer | _SparseShuffleBuffer | None = None
    peak = 0
    for chunk in source.chunks(order):
        X, y = chunk.X, chunk.y
        if holdout_every:
            keep = (chunk.index % holdout_every == 0) == test
            X, y = X[keep], y[keep]
        if buffer is None:
            buffer = _SparseShuffleBuffer() if sp.issparse(X) else _ShuffleBuffer()
        buffer.add(X, y)
        peak = max(peak, buffer.held)
        if buffer.held >= buffer_rows:
            yield from buffer.drain(rng, batch_size, shuffle, keep_rest=True)
    if buffer is not None:
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
        elif not np.can_cast(y.dtype, self.y.dtype):  # e.g. longer text labels than so far
            self.y = _grown(self.y, len(self.y), y)
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


class _SparseShuffleBuffer:
    """Sparse rows waiting to be shuffled: the CSR chunks as they came, stacked when drained
    (memory: the stored values of about buffer_rows + chunk_rows rows, never a dense block)."""

    def __init__(self):
        self.parts, self.labels = [], []
        self.held = 0

    def add(self, X, y):
        self.parts.append(sp.csr_matrix(X))
        self.labels.append(y)
        self.held += X.shape[0]

    def drain(self, rng, batch_size, shuffle, keep_rest):
        """Yield shuffled CSR batches of the held rows; keep the last partial batch when asked."""
        if not self.held:
            return
        X, y = sp.vstack(self.parts, format="csr"), np.concatenate(self.labels)
        perm = rng.permutation(self.held) if shuffle else np.arange(self.held)
        full = len(perm) - len(perm) % batch_size if keep_rest else len(perm)
        for start in range(0, full, batch_size):
            idx = perm[start : start + batch_size]
            yield X[idx], y[idx]
        rest = perm[full:]
        self.parts, self.labels, self.held = [X[rest]], [y[rest]], len(rest)


def _grown(old, rows, like):
    """An array of ``rows`` rows shaped like ``like``, typed to hold both, with ``old``'s rows first."""
    dtype = like.dtype if old is None else np.promote_types(old.dtype, like.dtype)
    new = np.empty((rows, *like.shape[1:]), dtype=dtype)
    if old is not None:
        new[: len(old)] = old
    return new


@dataclass
class StreamStats:
    """What one streaming pass learns about the training rows.

    Attributes
    ----------
    mean, scale : ndarray of shape (D,)
        The features' mean and standard deviation (1 for a constant feature);
        0 and 1 for sparse features, which train as they are.
    classes : ndarray
        The sorted labels seen.
    n_rows : int
        Training rows read.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.npy")
    ...     np.save(path, np.c_[np.arange(6.0), np.arange(6) % 2])
    ...     stats = streaming_statistics(open_source(path, chunk_rows=4))
    >>> stats.mean.tolist(), stats.classes.tolist(), stats.n_rows
    ([2.5], [0.0, 1.0], 6)
    """

    mean: np.ndarray
    scale: np.ndarray
    classes: np.ndarray
    n_rows: int


def streaming_statistics(
    source: Source, *, holdout_every: int | None = None, block: int = 4096
) -> StreamStats:
    r"""Mean, standard deviation and classes of the training rows in one pass.

    Blocks of ``block`` rows are merged with Chan's parallel update, so the
    temporaries stay a few MB whatever the chunk size.

    .. math::

        \bar x = \bar x_a + \delta \frac{n_b}{n}, \qquad
        M_2 = M_{2,a} + M_{2,b} + \delta^2 \frac{n_a n_b}{n}, \qquad
        \delta = \bar x_b - \bar x_a, \ n = n_a + n_b

    Parameters
    ----------
    source : Source
        From :func:`open_source`.
    holdout_every : int, optional
        Leave out the rows whose index is a multiple of this.
    block : int, default 4096
        Rows added to the running sums at a time.

    Returns
    -------
    StreamStats
        A row holding NaN or infinity is a ValueError naming it.

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "big.npy")
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 4))
    >>> np.save(path, np.c_[X, X[:, 0] + X[:, 1] > 0])  # four features, then the label
    >>> stats = streaming_statistics(open_source(path), holdout_every=10)
    >>> stats.n_rows, stats.classes.tolist()
    (1800, [0.0, 1.0])
    >>> tmp.cleanup()

    References
    ----------
    Chan, Golub & LeVeque, "Algorithms for Computing the Sample Variance: Analysis
    and Recommendations", The American Statistician 37 (1983).
    """
    count, classes = 0, set()
    mean: Any = None  # running mean and sum of squared deviations, set by the first block
    m2: Any = None
    for chunk in source.chunks():
        X, y = chunk.X, chunk.y
        index = chunk.index
        if holdout_every:
            keep = chunk.index % holdout_every != 0
            X, y, index = X[keep], y[keep], index[keep]
        classes.update(np.unique(y).tolist())
        if sp.issparse(X):
            count += X.shape[0]  # not centred (it would densify), so no moments to gather
            continue
        for start in range(0, len(X), block):
            part = X[start : start + block].astype(np.float64)
            n_b, mean_b = len(part), part.mean(axis=0)
            if not np.isfinite(mean_b).all():  # float32 values cannot overflow a block's sum
                raise _not_finite(source, part, index[start:])
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
    if mean is None:  # sparse chunks: features as they are
        width = len(source.feature_names)
        return StreamStats(np.zeros(width), np.ones(width), np.array(sorted(classes)), count)
    scale = np.sqrt(m2 / count)
    scale[scale == 0] = 1.0
    return StreamStats(mean, scale, np.array(sorted(classes)), count)


def _not_finite(source, part, index):
    """The error naming the first row of ``part`` (rows ``index``) holding NaN or infinity."""
    row = int(index[np.flatnonzero(~np.isfinite(part).all(axis=1))[0]])
    why = ""
    if source.dtype == np.float32:
        why = " (streamed features are float32: a value beyond ±3.4e38 reads as infinity)"
    return ValueError(f"{source.path}: data row {row + 1} holds NaN or infinity{why}")
