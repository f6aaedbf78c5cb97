"""Mini-batches: which rows each step sees, and gathering them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .. import fast


def gathered(
    X: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray | None,
    order: np.ndarray,
    batch_size: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]:
    """(idx, X[idx], target[idx], weights[idx] or None) for each mini-batch of ``order``.

    Each batch must be finished with before the next is asked for: the fused
    kernel gathers X's rows into one reused buffer. Gathering the next batch in
    a background thread was tried: it overlapped well alone but made fit 10-20 %
    slower, competing with BLAS for the cores.

    Parameters
    ----------
    X : array of shape (N, D) or scipy.sparse matrix
        The training rows.
    target : array of shape (N,) or (N, C)
        Labels or values, one per row of X.
    weights : array of shape (N,) or None
        One weight per row, or None when all rows count once.
    order : array of int of shape (N,)
        The rows in the order the epoch visits them (a permutation of 0..N-1).
    batch_size : int
        Rows per batch; the last batch has the rest.

    Yields
    ------
    idx : array of int of shape (B,)
        The batch's rows, ``order[start:start + batch_size]``.
    X_batch : array of shape (B, D)
        ``X[idx]`` (a view of a reused buffer on the fast path).
    target_batch : array of shape (B,) or (B, C)
        ``target[idx]``.
    weights_batch : array of shape (B,) or None
        ``weights[idx]``, or None without weights.

    Examples
    --------
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> for idx, X_b, t_b, w_b in gathered(X, np.array([0, 1, 0, 1]), None,
    ...                                    np.array([3, 1, 0, 2]), batch_size=3):
    ...     print(idx.tolist(), X_b[:, 0].tolist(), t_b.tolist(), w_b)
    [3, 1, 0] [6.0, 2.0, 0.0] [1, 1, 0] None
    [2] [4.0] [0] None
    """
    take = row_taker(X, batch_size)
    for start in range(0, X.shape[0], batch_size):  # a sparse X has no len()
        idx = order[start : start + batch_size]
        yield idx, take(idx), target[idx], None if weights is None else weights[idx]


@fast.fused_by("row_taker")
def row_taker(X: np.ndarray, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function ``idx -> X[idx]`` for batches of at most ``batch_size`` rows of X.

    This is the NumPy reference (plain indexing); with the fast path on, a dense
    C-contiguous float X gets the fused kernel instead, which gathers the rows
    into one reused buffer of ``batch_size`` rows.

    Parameters
    ----------
    X : array of shape (N, D) or scipy.sparse matrix
        The rows to take from.
    batch_size : int
        The most rows one call takes.

    Returns
    -------
    callable
        ``take(idx)`` with ``idx`` an int array of shape (B,), B <= ``batch_size``,
        returning an array of shape (B, D): ``X[idx]``. Its result is valid until
        the next call.

    Examples
    --------
    >>> take = row_taker(np.arange(6.0).reshape(3, 2), 2)  # positional, as fused calls are
    >>> take(np.array([2, 0])).tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    """
    return X.__getitem__
