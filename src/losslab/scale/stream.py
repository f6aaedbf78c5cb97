"""Training on data that does not fit in memory: :func:`fit_stream` trains any estimator with
``partial_fit`` on batches streamed from a file (see :mod:`losslab.data.sources`)."""

from __future__ import annotations

import numpy as np

from ..data.sources import stream, streaming_statistics


def fit_stream(
    estimator,
    source,
    *,
    epochs=1,
    batch_size=256,
    buffer_rows=65536,
    seed=0,
    holdout_every=None,
    callback=None,
):
    """Train ``estimator`` by ``partial_fit`` on standardised streamed batches; returns (estimator, stats)."""
    stats = streaming_statistics(source, holdout_every=holdout_every)
    for epoch in range(epochs):
        for X, y in stream(
            source,
            batch_size,
            buffer_rows=buffer_rows,
            seed=seed + epoch,
            holdout_every=holdout_every,
        ):
            estimator.partial_fit(
                ((X - stats.mean) / stats.scale).astype(np.float32), y, classes=stats.classes
            )
        if callback is not None:
            callback(epoch + 1, estimator)
    return estimator, stats


def score_stream(estimator, source, stats, *, holdout_every=None, test=True, batch_size=8192):
    """Accuracy over the streamed (held-out) rows."""
    correct = total = 0
    for X, y in stream(source, batch_size, shuffle=False, holdout_every=holdout_every, test=test):
        pred = estimator.predict(((X - stats.mean) / stats.scale).astype(np.float32))
        correct += int(np.sum(pred == y))
        total += len(y)
    return correct / total if total else float("nan")
