"""Mini-batches: which rows each step sees, and gathering them."""

from __future__ import annotations

import numpy as np

from .. import config


def gathered(X, target, weights, order, batch_size):
    """(idx, X[idx], target[idx], weights[idx] or None) for each mini-batch of ``order``.

    With the fast kernels, X[idx] is gathered into one reused buffer (each batch
    is finished with before the next is asked for). Gathering the next batch in
    a background thread was tried: it overlapped well alone but made fit 10-20 %
    slower, competing with BLAS for the cores.
    """
    kernels = config.fast_train_kernels()
    buffer = None
    if kernels and X.flags.c_contiguous and X.dtype.kind == "f":
        buffer = np.empty((min(batch_size, len(X)), X.shape[1]), dtype=X.dtype)
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        if buffer is None:
            X_batch = X[idx]
        else:
            X_batch = buffer[: len(idx)]
            kernels.gather_rows(X, idx, X_batch)
        yield idx, X_batch, target[idx], None if weights is None else weights[idx]
