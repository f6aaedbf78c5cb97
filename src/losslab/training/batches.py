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
    """
    take = row_taker(X, batch_size)
    for start in range(0, X.shape[0], batch_size):  # a sparse X has no len()
        idx = order[start : start + batch_size]
        yield idx, take(idx), target[idx], None if weights is None else weights[idx]


@fast.fused_by("row_taker")
def row_taker(X: np.ndarray, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function ``idx -> X[idx]`` for batches of at most ``batch_size`` rows of X."""
    return X.__getitem__
