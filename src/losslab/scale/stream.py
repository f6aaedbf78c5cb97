"""Training on data that does not fit in memory: :func:`fit_stream` trains any estimator with
``partial_fit`` on batches streamed from a file (see :mod:`losslab.data.sources`).

Sparse sources (svmlight) hand ``partial_fit`` CSR batches as they are: they
are never densified, centred or scaled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..data.sources import Source, StreamStats, stream, streaming_statistics
from ..training.spec import class_weight_vector


def fit_stream(
    estimator: Any,
    source: Source,
    *,
    epochs: int = 1,
    batch_size: int = 256,
    buffer_rows: int = 65536,
    seed: int = 0,
    holdout_every: int | None = None,
    callback: Callable[..., Any] | None = None,
) -> tuple[Any, StreamStats]:
    """Train ``estimator`` by ``partial_fit`` on standardised streamed batches; returns (estimator, stats).

    One streaming pass computes the training rows' mean, standard deviation and
    classes; then each epoch streams shuffled batches (a new shuffle per epoch)
    through ``partial_fit``. Memory stays about ``buffer_rows + chunk_rows`` rows
    (of stored values, for a sparse source: its CSR batches go to ``partial_fit``
    unscaled and never densified).

    The objective is the in-memory one of the same rows, whatever ``epochs``:
    ``alpha="auto"`` is ``1 / (2 · n)`` with ``n`` the training rows' total
    weight counted once (``fit``'s on them), not once more per pass as plain
    ``partial_fit`` calls would count it (the run sets ``alpha`` to that value
    and back to "auto" at the end; ``partial_fit`` calls after it count every
    row they and the run fed, each pass's). A dict ``class_weight`` weighs the
    rows by their labels, which one more pass counts before training.

    Parameters
    ----------
    estimator : estimator with ``partial_fit(X, y, classes=...)``
        A losslab (or scikit-learn) classifier.
    source : Source
        From :func:`~losslab.data.sources.open_source`.
    epochs : int, default 1
        Passes over the training rows.
    batch_size : int, default 256
        Rows per ``partial_fit`` call.
    buffer_rows : int, default 65536
        Rows of the shuffle buffer.
    seed : int, default 0
        Seeds the shuffles.
    holdout_every : int, optional
        Skip rows whose index is a multiple of this (the test rows of
        :func:`score_stream`).
    callback : callable, optional
        ``callback(epoch, estimator)`` after each epoch.

    Returns
    -------
    estimator
        Trained.
    stats : StreamStats
        The standardisation it was trained with.

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "big.npy")
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 4))
    >>> np.save(path, np.c_[X, X[:, 0] + X[:, 1] > 0])  # four features, then the label
    >>> from losslab import SoftmaxClassifier
    >>> from losslab.data.sources import open_source
    >>> source = open_source(path, chunk_rows=500)
    >>> clf, stats = fit_stream(SoftmaxClassifier(random_state=0), source, epochs=2, holdout_every=10)
    >>> score_stream(clf, source, stats, holdout_every=10) > 0.9
    True
    >>> tmp.cleanup()

    References
    ----------
    scikit-learn's out-of-core learning with ``partial_fit``:
    https://scikit-learn.org/stable/computing/scaling_strategies.html
    """
    stats = streaming_statistics(source, holdout_every=holdout_every)
    # partial_fit's "auto" would count each pass's rows again, the penalty falling with the
    # epochs: the run trains with the strength of one pass, fit's on the same rows
    auto = getattr(estimator, "alpha", None) == "auto" and hasattr(estimator, "training_spec")
    if auto:
        total = _weight_of_rows(estimator, source, stats, holdout_every)
        estimator.set_params(alpha=estimator.training_spec(total, len(stats.classes)).reg)
    try:
        for epoch in range(epochs):
            for X, y in stream(
                source,
                batch_size,
                buffer_rows=buffer_rows,
                seed=seed + epoch,
                holdout_every=holdout_every,
            ):
                estimator.partial_fit(standardized(X, stats), y, classes=stats.classes)
            if callback is not None:
                callback(epoch + 1, estimator)
    finally:  # the parameter as the user set it; alpha_ keeps the strength trained with
        if auto:
            estimator.set_params(alpha="auto")
    return estimator, stats


def _weight_of_rows(estimator, source, stats, holdout_every):
    """The training rows' total weight, the ``n`` of ``alpha="auto"``: their count unless classes weigh.

    "balanced" class weights ``n / (C · n_c)`` total ``n`` too; a dict's weights
    need each class's rows, counted in a pass over the labels.
    """
    rule = getattr(estimator, "class_weight", None)
    if not isinstance(rule, dict):
        return float(stats.n_rows)
    counts = np.zeros(len(stats.classes))
    for _, y in stream(source, 65536, shuffle=False, holdout_every=holdout_every):
        counts += np.bincount(np.searchsorted(stats.classes, y), minlength=len(counts))
    return float(counts @ class_weight_vector(rule, stats.classes, counts))


def score_stream(
    estimator: Any,
    source: Source,
    stats: StreamStats,
    *,
    holdout_every: int | None = None,
    test: bool = True,
    batch_size: int = 8192,
) -> float:
    """Accuracy over the streamed (held-out) rows.

    Parameters
    ----------
    estimator : fitted estimator
        A classifier trained by :func:`fit_stream` (or on data standardised as ``stats`` says).
    source : Source
        The data, streamed in order.
    stats : StreamStats
        The standardisation :func:`fit_stream` trained with.
    holdout_every : int, optional
        Every this-many-th row is held out, as in :func:`fit_stream`.
    test : bool, default True
        Score the held-out rows (else the training rows).
    batch_size : int, default 8192
        Rows predicted at a time.

    Returns
    -------
    float
        NaN when no row was scored.

    Examples
    --------
    >>> import os, tempfile
    >>> from losslab import SoftmaxClassifier
    >>> from losslab.data.sources import open_source
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((600, 3))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "rows.npy")
    ...     np.save(path, np.c_[X, X[:, 0] > 0])  # three features, then the label
    ...     source = open_source(path, chunk_rows=200)
    ...     clf, stats = fit_stream(SoftmaxClassifier(lr=0.05, random_state=0), source,
    ...                             epochs=2, holdout_every=5)
    ...     held_out = score_stream(clf, source, stats, holdout_every=5)
    ...     training = score_stream(clf, source, stats, holdout_every=5, test=False)
    >>> held_out > 0.9, training > 0.9
    (True, True)

    References
    ----------
    scikit-learn's out-of-core learning with ``partial_fit``:
    https://scikit-learn.org/stable/computing/scaling_strategies.html
    """
    correct = total = 0
    for X, y in stream(source, batch_size, shuffle=False, holdout_every=holdout_every, test=test):
        pred = estimator.predict(standardized(X, stats))
        correct += int(np.sum(pred == y))
        total += len(y)
    return correct / total if total else float("nan")


def standardized(X: Any, stats: StreamStats) -> Any:
    """``(X - mean) / scale`` as float32; a sparse X as it is (as float32 CSR), never densified.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n, D)
    stats : StreamStats

    Returns
    -------
    ndarray or scipy.sparse.csr_matrix of shape (n, D), float32

    Examples
    --------
    >>> stats = StreamStats(np.array([1.0, 2.0]), np.array([2.0, 1.0]), np.array([0, 1]), 4)
    >>> standardized(np.array([[3.0, 2.0]]), stats)
    array([[1., 0.]], dtype=float32)
    >>> standardized(sp.csr_matrix([[3.0, 0.0]]), stats).toarray()
    array([[3., 0.]], dtype=float32)
    """
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float32)
    return ((X - stats.mean) / stats.scale).astype(np.float32)
