"""Data on a Dask cluster: connecting, reading files as Dask arrays, and the shards the workers hold.

X's chunks may be scipy.sparse matrices (a Dask array of CSR chunks, as
:func:`read` makes of an svmlight file): each shard is then a CSR matrix on its
worker, and every solver takes it as it is, never densified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..data.formats import Source, SvmlightSource
from ..data.formats.base import StrPath, Target
from ..data.sources import open_source
from ..training.checks import all_finite, is_sparse
from ..training.objective import encode_targets


def is_dask(X: Any) -> bool:
    """True for a Dask collection (array or dataframe), without importing Dask.

    Parameters
    ----------
    X : object
        Anything.

    Returns
    -------
    bool
        Whether X has a Dask graph.

    Examples
    --------
    >>> is_dask(np.zeros(3))
    False

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """
    return hasattr(X, "__dask_graph__")


def _dask():
    try:
        import dask.array as da
        import distributed
    except ImportError:
        raise ImportError('losslab.distributed needs Dask: pip install "losslab[dask]"') from None
    return da, distributed


def get_client(client: Any = None) -> Any:
    """The given client, or the current one; a clear error when there is none.

    Parameters
    ----------
    client : distributed.Client, optional
        Returned as it is when given.

    Returns
    -------
    distributed.Client
        ``client``, or the client current in this process.

    Raises
    ------
    ValueError
        If no client is given and none is running.

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0") as client:
    ...     get_client() is client
    True

    References
    ----------
    ``distributed.get_client``: https://distributed.dask.org/en/stable/api.html
    """
    _, distributed = _dask()
    if client is not None:
        return client
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError(
            "client: no Dask client is running; start one with distributed.Client() "
            "(a local cluster) or distributed.Client('tcp://HOST:PORT')"
        ) from None


class connect:
    """``with connect("tcp://HOST:PORT") as client:`` — or ``connect("local", n_workers=2)``,
    which starts a local cluster of worker processes for the duration of the block.

    A local cluster's scheduler, workers and dashboard listen on 127.0.0.1 only.

    Parameters
    ----------
    scheduler : str
        "tcp://HOST:PORT" of a running scheduler, or "local".
    n_workers : int, default 2
        Worker processes of a local cluster (one thread each).

    Returns
    -------
    distributed.Client
        From ``with ... as client``; it is closed (and a local cluster shut
        down) when the block ends.

    Raises
    ------
    ValueError
        On entering the block, if the scheduler cannot be reached within 10 s.

    Examples
    --------
    Nothing starts until the ``with`` block is entered:

    >>> cluster = connect("local", n_workers=1)
    >>> cluster.scheduler, cluster.n_workers, cluster.cluster is None
    ('local', 1, True)

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """

    def __init__(self, scheduler: str, n_workers: int = 2) -> None:
        self.scheduler, self.n_workers = scheduler, n_workers
        self.cluster = None

    def __enter__(self):
        _, distributed = _dask()
        if self.scheduler == "local":
            self.cluster = distributed.LocalCluster(
                n_workers=self.n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",  # workers and scheduler reachable from this machine only
                dashboard_address="127.0.0.1:8787",  # and so is the dashboard
            )
            self.client = distributed.Client(self.cluster)
            return self.client
        try:
            self.client = distributed.Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValueError(f"scheduler: cannot reach {self.scheduler} ({exc})") from None
        return self.client

    def __exit__(self, *exc):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False


# --- the data, as chunks held by the workers ------------------------------------------------


@dataclass
class Shard:
    """One row chunk on a worker: features, encoded targets and per-sample weights.

    Attributes
    ----------
    X : ndarray or scipy.sparse.csr_matrix of shape (n, D)
        The chunk's features, in the training dtype.
    target : ndarray
        The targets as the loss takes them (labels, one-hot or values).
    weights : ndarray of shape (n,) or None
        Sample weight times class weight.

    Examples
    --------
    >>> piece = Shard(np.zeros((2, 3)), np.array([0, 1]), None)
    >>> piece.X.shape, piece.target.tolist(), piece.weights
    ((2, 3), [0, 1], None)

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """

    X: Any  # an ndarray, or CSR for sparse chunks
    target: np.ndarray
    weights: np.ndarray | None


def _make_shard(X, y, w, loss, n_outputs, classes, dtype, class_weight=None):
    X = sp.csr_matrix(X) if is_sparse(X) else np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X: expected a numeric array, got dtype {X.dtype} instead")
    if not all_finite(X.data if is_sparse(X) else X):
        raise ValueError("X: expected finite values, got NaN or infinity")
    y = np.asarray(y)
    if classes is not None:
        y = np.searchsorted(classes, y)
    target = encode_targets(loss, y, n_outputs)
    if loss.task == "regression":
        target = target.astype(dtype, copy=False)
    weights = None if w is None else np.asarray(w, dtype=np.float64)
    if weights is not None and (weights.shape != (X.shape[0],) or not np.all(weights >= 0)):
        raise ValueError("sample_weight: expected one non-negative weight per row of X")
    if class_weight is not None:
        weights = class_weight[y] if weights is None else weights * class_weight[y]
    return Shard(X.astype(dtype, copy=False), target, weights)


@dataclass
class ShardedData:
    """Futures of the shards in row order, their row counts, and the fixed groups of local SGD.

    Shard i starts on worker i mod W, and group g is the shards that started on
    worker g. The groups never change, even when a worker dies and its shards
    are rebuilt elsewhere, so a local-SGD run depends on its seed, not on where
    the data happens to be.

    Attributes
    ----------
    client : distributed.Client
        The cluster holding the shards.
    shards : list of distributed.Future
        One future per row chunk, each resolving to a :class:`Shard`.
    rows : np.ndarray of shape (n_shards,)
        The rows of each shard.
    groups : list of list of int
        The shard indices of each group (one group per worker at the start).
    n_rows : int
        Rows over every shard.

    Examples
    --------
    >>> data = ShardedData(client=None, shards=[], rows=np.array([3, 3, 2]), groups=[[0, 2], [1]])
    >>> data.n_rows
    8

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """

    client: Any  # distributed.Client
    shards: list
    rows: np.ndarray
    groups: list

    @property
    def n_rows(self) -> int:
        """Rows over every shard."""
        return int(self.rows.sum())

    def placement(self) -> list[tuple[str | None, list[int]]]:
        """[(worker address or None, [shard indices])]: each group and the worker holding most of it now."""
        holders = self.client.who_has(self.shards)
        placed = []
        for group in self.groups:
            where = [a for i in group for a in holders.get(self.shards[i].key, ())]
            placed.append((max(sorted(set(where)), key=where.count) if where else None, group))
        return placed


def as_dask_arrays(X: Any, y: Any, sample_weight: Any = None) -> tuple[Any, Any, Any]:
    """X as a 2-D Dask array in row chunks, and y (and weights) chunked like it.

    Parameters
    ----------
    X : Dask array or dataframe of shape (n_samples, n_features)
        The features.
    y : Dask array, array-like or None
        Labels or targets; an array in memory is chunked like X.
    sample_weight : Dask array, array-like or None
        One weight per row, chunked like X.

    Returns
    -------
    X, y, sample_weight
        Dask arrays with the same row chunks (y and the weights None if given so).

    Examples
    --------
    >>> import dask.array as da
    >>> X, y, w = as_dask_arrays(da.ones((100, 3), chunks=(40, 1)), np.zeros(100))
    >>> X.chunks, y.chunks, w
    (((40, 40, 20), (3,)), ((40, 40, 20),), None)

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """
    da, _ = _dask()
    if hasattr(X, "to_dask_array"):  # a Dask dataframe
        X = X.to_dask_array(lengths=True)
    if not isinstance(X, da.Array):
        raise TypeError(f"X: expected a Dask array or dataframe, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (samples, features), got {X.ndim} dimensions")
    if any(math.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    X = X.rechunk({1: -1})  # a chunk holds whole rows
    parts: list[Any] = []
    for name, a in (("y", y), ("sample_weight", sample_weight)):
        if a is None:
            parts.append(None)
            continue
        if hasattr(a, "to_dask_array"):
            a = a.to_dask_array(lengths=True)
        a = a if isinstance(a, da.Array) else da.from_array(np.asarray(a), chunks=-1)
        if a.shape[0] != X.shape[0]:
            raise ValueError(f"{name}: expected {X.shape[0]} rows like X, got {a.shape[0]}")
        parts.append(a.rechunk({0: X.chunks[0]} | ({1: -1} if a.ndim == 2 else {})))
    return X, parts[0], parts[1]


def read(path: StrPath, *, target: Target = None, chunk_rows: int = 65536) -> tuple[Any, Any]:
    """(X, y) as Dask arrays over a ``.npy``, Parquet or svmlight file; each worker reads its own chunks.

    The path must be readable by every worker (a shared or copied file). The
    label is the last column unless ``target`` names another (as for streaming).
    An svmlight file's chunks are scipy.sparse CSR matrices (opening it here
    makes the one pass that finds its chunks and number of features).

    Parameters
    ----------
    path : str or PathLike
        A ``.npy``, ``.parquet`` or ``.svm`` (``.svmlight``, ``.libsvm``) file.
    target : str or int, optional
        The label column, by name or index (default: the last).
    chunk_rows : int, default 65536
        Rows per Dask chunk (a Parquet file's chunks are its row groups).

    Returns
    -------
    X : Dask array of shape (n_samples, n_features)
        float32 features, one chunk per ``chunk_rows`` rows (CSR chunks for svmlight).
    y : Dask array of shape (n_samples,)
        float64 labels.

    Raises
    ------
    ValueError
        For a file whose chunk sizes are unknown before reading it (CSV).

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.npy")
    ...     np.save(path, np.c_[np.arange(10.0).reshape(5, 2), [0, 1, 0, 1, 1]])
    ...     X, y = read(path, chunk_rows=2)
    ...     X.chunks, y.compute(scheduler="synchronous").tolist()
    (((2, 2, 1), (2,)), [0.0, 1.0, 0.0, 1.0, 1.0])

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """
    import dask

    da, _ = _dask()
    source = open_source(path, target, chunk_rows)
    sizes = source.chunk_sizes()
    if sizes is None:
        raise ValueError(
            f"data: distributed training reads .npy or .parquet files, or svmlight (.svm), got {path} "
            "(a CSV's chunk sizes are unknown until it is read; convert it first)"
        )
    n_features = len(source.feature_names)
    sparse = isinstance(source, SvmlightSource)
    # a sparse source travels once (its scan: where each chunk starts), not re-scanned per chunk
    where = dask.delayed(source, pure=True) if sparse else str(path)
    parts = [
        dask.delayed(_read_chunk, pure=True, nout=2)(where, target, chunk_rows, k)
        for k in range(len(sizes))
    ]
    meta = sp.csr_matrix((0, n_features), dtype=np.float32) if sparse else None
    X = da.concatenate(
        [
            da.from_delayed(x, shape=(rows, n_features), dtype=np.float32, meta=meta)
            for (x, _), rows in zip(parts, sizes, strict=True)
        ]
    )
    y = da.concatenate(
        [
            da.from_delayed(labels, shape=(rows,), dtype=np.float64)
            for (_, labels), rows in zip(parts, sizes, strict=True)
        ]
    )
    return X, y


def _read_chunk(path, target, chunk_rows, k):
    """Chunk k of the file at ``path`` (or of an opened sparse source): (X, y float64)."""
    source = path if isinstance(path, Source) else open_source(path, target, chunk_rows)
    chunk = next(source.chunks([k]))
    if chunk.y.dtype.kind not in "biuf":
        raise ValueError(f"{path}: distributed training reads numeric labels, got {chunk.y.dtype}")
    return chunk.X, np.asarray(chunk.y, dtype=np.float64)


def shard(
    client: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    *,
    loss: Any,
    n_outputs: int,
    classes: np.ndarray | None,
    dtype: Any,
    class_weight: np.ndarray | None = None,
) -> ShardedData:
    """Persist the shards on the workers (one per row chunk of X).

    Shard i is placed on worker i mod W (others may take it if that one dies);
    each shard is checked (numeric, finite, weights non-negative) as it is built.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    X, y, sample_weight : Dask arrays with the same row chunks
        Features, labels or targets, and weights (or None).
    loss : Loss
        Decides how the targets are encoded.
    n_outputs : int
        The model's outputs (the one-hot width).
    classes : ndarray or None
        The sorted labels (None for regression).
    dtype : dtype
        Of the features on the workers.
    class_weight : ndarray of shape (n_classes,), optional
        Multiplies each row's weight by its class's.

    Returns
    -------
    ShardedData
        The shards' futures, row counts and groups.

    Raises
    ------
    ValueError
        If the cluster has no workers, or a shard has non-finite features or bad weights.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from losslab import losses
    >>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(3, 2))
    >>> y = da.from_array(np.array([0, 1, 0, 1, 1, 2]), chunks=3)
    >>> with Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0") as client:
    ...     data = shard(client, X, y, None, loss=losses.get("softmax"), n_outputs=3,
    ...                  classes=np.array([0, 1, 2]), dtype=np.float64)
    ...     data.rows.tolist(), data.groups, data.shards[1].result().target.tolist()
    ([3, 3], [[0, 1]], [1, 1, 2])

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """
    blocks = [b.ravel().tolist() for b in (X.to_delayed(), y.to_delayed())]
    weights = (
        [None] * len(blocks[0])
        if sample_weight is None
        else sample_weight.to_delayed().ravel().tolist()
    )
    x_f, y_f = client.compute(blocks[0]), client.compute(blocks[1])
    w_f = weights if sample_weight is None else client.compute(weights)
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ValueError("client: the cluster has no workers")
    shards = [
        client.submit(
            _make_shard,
            x,
            y_,
            w,
            loss=loss,
            n_outputs=n_outputs,
            classes=classes,
            dtype=dtype,
            class_weight=class_weight,
            workers=[workers[i % len(workers)]],
            allow_other_workers=True,
            pure=False,
        )
        for i, (x, y_, w) in enumerate(zip(x_f, y_f, w_f, strict=True))
    ]
    rows = np.array(X.chunks[0], dtype=np.int64)
    client.gather(client.map(_check_shard, shards, pure=False))  # raise bad data here
    groups = [list(range(g, len(shards), len(workers))) for g in range(len(workers))]
    return ShardedData(client, shards, rows, [g for g in groups if g])


def _check_shard(s):
    return s.X.shape[0]


def class_counts(client: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of a Dask label array and their counts, chunk by chunk on the cluster.

    Parameters
    ----------
    client : distributed.Client
        The cluster that computes the chunks.
    y : Dask array of shape (n_samples,)
        The labels.

    Returns
    -------
    classes : ndarray
        The distinct labels, sorted.
    counts : int ndarray
        How many rows have each.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client
    >>> y = da.from_array(np.array([0, 1, 0, 1, 1, 2]), chunks=3)
    >>> with Client(processes=False, n_workers=1, dashboard_address="127.0.0.1:0") as client:
    ...     classes, counts = class_counts(client, y)
    >>> classes.tolist(), counts.tolist()
    ([0, 1, 2], [2, 3, 1])

    References
    ----------
    Dask's distributed scheduler: https://distributed.dask.org/
    """
    futures = client.compute([b for b in y.to_delayed().ravel()])
    parts = client.gather(client.map(np.unique, futures, return_counts=True, pure=False))
    classes = np.unique(np.concatenate([c for c, _ in parts]))
    counts = np.zeros(len(classes), dtype=np.int64)
    for c, n in parts:
        counts[np.searchsorted(classes, c)] += n
    return classes, counts
