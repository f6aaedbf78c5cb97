"""Retrieval metrics for embeddings: does a query's neighbourhood hold its own class?

Every function takes embeddings and labels. With only ``embeddings``/``labels``
each point queries all the others (leave-one-out); with ``query`` and
``gallery`` (pairs of embeddings and labels) the queries search the gallery.

- recall@k: the fraction of queries with at least one same-class item among
  their k nearest (the convention of metric-learning papers);
- precision@k: the mean fraction of same-class items among the k nearest;
- mean average precision over each query's full ranking;
- R-precision and MAP@R (pytorch-metric-learning's AccuracyCalculator): with R
  the number of items of the query's class, the precision among the R nearest,
  and the mean of the precision at each relevant rank within those R, over R;
- nearest-neighbour accuracy: the nearest item has the query's class (= recall@1);
- triplet violation rate: the fraction of (anchor, positive, negative) triplets
  whose negative is at least as close to the anchor as the positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .losses.ranking import DISTANCES, pairwise_distances


def _ranking(query, query_labels, gallery=None, gallery_labels=None, distance="euclidean"):
    """(relevance matrix sorted by distance, number of relevant items per query)."""
    if distance not in DISTANCES:
        raise ValueError(f"distance: expected one of {DISTANCES}, got {distance!r} instead")
    query = np.asarray(query, dtype=np.float64)
    query_labels = np.asarray(query_labels)
    if query.ndim != 2 or len(query) != len(query_labels):
        raise ValueError(
            f"embeddings: expected shape (N, D) with N labels, got {query.shape} and {query_labels.shape}"
        )
    if gallery is None:
        d = pairwise_distances(query, distance)
        np.fill_diagonal(d, np.inf)  # leave one out: a query never retrieves itself
        same = query_labels[:, None] == query_labels[None, :]
        np.fill_diagonal(same, False)
    else:
        gallery = np.asarray(gallery, dtype=np.float64)
        both = pairwise_distances(np.vstack([query, gallery]), distance)
        d = both[: len(query), len(query) :]
        same = query_labels[:, None] == np.asarray(gallery_labels)[None, :]
    order = np.argsort(d, axis=1, kind="stable")
    relevant = np.take_along_axis(same, order, axis=1)
    if gallery is None:
        relevant = relevant[:, :-1]  # drop the query itself, ranked last at distance inf
    return relevant, relevant.sum(axis=1)


def recall_at_k(
    embeddings: ArrayLike,
    labels: ArrayLike,
    k: int = 1,
    *,
    gallery: ArrayLike | None = None,
    gallery_labels: ArrayLike | None = None,
    distance: str = "euclidean",
) -> float:
    r"""Recall@k: the fraction of queries with an item of their class among their k nearest.

    .. math::

        \text{recall@}k = \frac{1}{Q} \sum_q \big[\exists\, i \le k:\ y_{(q, i)} = y_q\big]

    where :math:`(q, i)` is the i-th nearest item to query q (the convention of
    metric-learning papers, not the information-retrieval recall).

    Parameters
    ----------
    embeddings : array of shape (N, D)
        The queries (with no ``gallery``, also what they search).
    labels : array of shape (N,)
        The queries' classes.
    k : int, default 1
        How many nearest neighbours count.
    gallery : array of shape (M, D), optional
        What the queries search; without it each point searches all the others
        (leave-one-out).
    gallery_labels : array of shape (M,), optional
        The gallery's classes (required with ``gallery``).
    distance : {"euclidean", "squared_euclidean", "cosine"}

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1], [0.3]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> recall_at_k(e, y, k=1)
    0.8
    >>> recall_at_k(e[[0, 2]], y[[0, 2]], gallery=e[[1, 3, 4]], gallery_labels=y[[1, 3, 4]])
    1.0

    References
    ----------
    Song, Xiang, Jegelka & Savarese, "Deep Metric Learning via Lifted Structured
    Feature Embedding", CVPR (2016).
    """
    relevant, _ = _ranking(embeddings, labels, gallery, gallery_labels, distance)
    return float(relevant[:, :k].any(axis=1).mean())


def precision_at_k(
    embeddings: ArrayLike,
    labels: ArrayLike,
    k: int = 1,
    *,
    gallery: ArrayLike | None = None,
    gallery_labels: ArrayLike | None = None,
    distance: str = "euclidean",
) -> float:
    r"""Precision@k: the mean fraction of items of the query's class among its k nearest.

    .. math::

        \text{precision@}k = \frac{1}{Q} \sum_q \frac{1}{k} \sum_{i \le k} \big[y_{(q, i)} = y_q\big]

    Parameters
    ----------
    embeddings : array of shape (N, D)
        The queries (with no ``gallery``, also what they search).
    labels : array of shape (N,)
        The queries' classes.
    k : int, default 1
        How many nearest neighbours count.
    gallery : array of shape (M, D), optional
        What the queries search; without it each point searches all the others
        (leave-one-out).
    gallery_labels : array of shape (M,), optional
        The gallery's classes (required with ``gallery``).
    distance : {"euclidean", "squared_euclidean", "cosine"}

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1], [0.3]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> precision_at_k(e, y, k=2)
    0.6

    References
    ----------
    Manning, Raghavan & Schütze, *Introduction to Information Retrieval* (2008), ch. 8.
    """
    relevant, _ = _ranking(embeddings, labels, gallery, gallery_labels, distance)
    return float(relevant[:, :k].mean())


def mean_average_precision(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    gallery: ArrayLike | None = None,
    gallery_labels: ArrayLike | None = None,
    distance: str = "euclidean",
) -> float:
    r"""Mean average precision over each query's full ranking.

    .. math::

        \text{mAP} = \frac{1}{Q} \sum_q \frac{1}{R_q} \sum_{i:\ y_{(q, i)} = y_q} P_q@i

    with :math:`R_q` the number of items of the query's class and :math:`P_q@i` the
    precision among its i nearest. Queries whose class has no other item are left out.

    Parameters
    ----------
    embeddings : array of shape (N, D)
        The queries (with no ``gallery``, also what they search).
    labels : array of shape (N,)
        The queries' classes.
    gallery : array of shape (M, D), optional
        What the queries search; without it each point searches all the others
        (leave-one-out).
    gallery_labels : array of shape (M,), optional
        The gallery's classes (required with ``gallery``).
    distance : {"euclidean", "squared_euclidean", "cosine"}

    Returns
    -------
    float
        In [0, 1]; NaN when no query has an item of its class.

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1], [0.3]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> round(mean_average_precision(e, y), 4)
    0.8833

    References
    ----------
    Manning, Raghavan & Schütze, *Introduction to Information Retrieval* (2008), ch. 8.
    """
    relevant, n_relevant = _ranking(embeddings, labels, gallery, gallery_labels, distance)
    hits = np.cumsum(relevant, axis=1)
    ranks = np.arange(1, relevant.shape[1] + 1)
    precision_at_hits = np.where(relevant, hits / ranks, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = precision_at_hits.sum(axis=1) / n_relevant
    return float(np.nanmean(np.where(n_relevant > 0, ap, np.nan)))


def _first_r(relevant, n_relevant):
    """(relevant flags cut to each query's R nearest, R) of the queries with R > 0."""
    keep = n_relevant > 0
    relevant, r = relevant[keep], n_relevant[keep]
    within = np.arange(relevant.shape[1])[None, :] < r[:, None]
    return relevant & within, r


def r_precision(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    gallery: ArrayLike | None = None,
    gallery_labels: ArrayLike | None = None,
    distance: str = "euclidean",
) -> float:
    r"""R-precision: the precision among each query's R nearest, R the size of its class.

    .. math::

        \text{R-precision} = \frac{1}{Q} \sum_q \frac{1}{R_q} \sum_{i \le R_q} \big[y_{(q, i)} = y_q\big]

    with :math:`R_q` the number of items of the query's class (other than itself).

    Parameters
    ----------
    embeddings : array of shape (N, D)
        The queries (with no ``gallery``, also what they search).
    labels : array of shape (N,)
        The queries' classes.
    gallery : array of shape (M, D), optional
        What the queries search; without it each point searches all the others
        (leave-one-out).
    gallery_labels : array of shape (M,), optional
        The gallery's classes (required with ``gallery``).
    distance : {"euclidean", "squared_euclidean", "cosine"}

    Returns
    -------
    float
        In [0, 1]; NaN when no query has an item of its class.

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1], [0.3]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> r_precision(e, y)
    0.8

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020);
    pytorch-metric-learning's ``AccuracyCalculator``.
    """
    relevant, r = _first_r(*_ranking(embeddings, labels, gallery, gallery_labels, distance))
    return float(np.mean(relevant.sum(axis=1) / r)) if len(r) else float("nan")


def map_at_r(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    gallery: ArrayLike | None = None,
    gallery_labels: ArrayLike | None = None,
    distance: str = "euclidean",
) -> float:
    r"""MAP@R: mean average precision within each query's R nearest.

    .. math::

        \text{MAP@R} = \frac{1}{Q} \sum_q \frac{1}{R_q} \sum_{i \le R_q} P_q@i \,\big[y_{(q, i)} = y_q\big]

    with :math:`R_q` the number of items of the query's class: rewards ranking every
    item of the class first, unlike recall@k.

    Parameters
    ----------
    embeddings : array of shape (N, D)
        The queries (with no ``gallery``, also what they search).
    labels : array of shape (N,)
        The queries' classes.
    gallery : array of shape (M, D), optional
        What the queries search; without it each point searches all the others
        (leave-one-out).
    gallery_labels : array of shape (M,), optional
        The gallery's classes (required with ``gallery``).
    distance : {"euclidean", "squared_euclidean", "cosine"}

    Returns
    -------
    float
        In [0, 1]; NaN when no query has an item of its class.

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1], [0.3]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> map_at_r(e, y)
    0.8

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020);
    pytorch-metric-learning's ``AccuracyCalculator``.
    """
    relevant, r = _first_r(*_ranking(embeddings, labels, gallery, gallery_labels, distance))
    if not len(r):
        return float("nan")
    ranks = np.arange(1, relevant.shape[1] + 1)
    precision = np.cumsum(relevant, axis=1) / ranks
    return float(np.mean(np.where(relevant, precision, 0.0).sum(axis=1) / r))


def nearest_neighbour_accuracy(embeddings: ArrayLike, labels: ArrayLike, **kw: Any) -> float:
    """Nearest-neighbour accuracy: the nearest item has the query's class (recall@1).

    Parameters
    ----------
    embeddings : array of shape (N, D)
    labels : array of shape (N,)
    **kw
        ``gallery``, ``gallery_labels`` and ``distance``, as for :func:`recall_at_k`.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1], [0.3]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> nearest_neighbour_accuracy(e, y)
    0.8

    References
    ----------
    Cover & Hart, "Nearest Neighbor Pattern Classification", IEEE Trans. Inf. Theory 13 (1967).
    """
    return recall_at_k(embeddings, labels, 1, **kw)


def triplet_violation_rate(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    distance: str = "euclidean",
    max_triplets: int = 100_000,
    seed: int = 0,
) -> float:
    r"""The fraction of triplets whose negative is at least as close as the positive.

    .. math::

        \frac{\#\{(a, p, n):\ d(a, n) \le d(a, p)\}}{\#\{(a, p, n)\}},
        \quad y_p = y_a \ne y_n,\ p \ne a

    estimated on ``max_triplets`` triplets drawn at random (those that are not valid
    are dropped): the quantity a triplet loss with zero margin drives to 0.

    Parameters
    ----------
    embeddings : array of shape (N, D)
    labels : array of shape (N,)
    distance : {"euclidean", "squared_euclidean", "cosine"}
    max_triplets : int, default 100000
        How many (a, p, n) index triples to draw.
    seed : int, default 0
        Seeds the draw.

    Returns
    -------
    float
        In [0, 1]; 0 when no valid triplet was drawn.

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> triplet_violation_rate(e, np.array([0, 0, 1, 1]))
    0.0

    References
    ----------
    Weinberger & Saul, "Distance Metric Learning for Large Margin Nearest Neighbor
    Classification", JMLR 10 (2009).
    """
    labels = np.asarray(labels)
    d = pairwise_distances(np.asarray(embeddings, dtype=np.float64), distance)
    rng = np.random.default_rng(seed)
    n = len(labels)
    a = rng.integers(0, n, max_triplets)
    p = rng.integers(0, n, max_triplets)
    q = rng.integers(0, n, max_triplets)
    valid = (a != p) & (labels[a] == labels[p]) & (labels[q] != labels[a])
    if not valid.any():
        return 0.0
    a, p, q = a[valid], p[valid], q[valid]
    return float(np.mean(d[a, q] <= d[a, p]))


def retrieval_report(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    ks: Sequence[int] = (1, 5, 10),
    gallery: ArrayLike | None = None,
    gallery_labels: ArrayLike | None = None,
    distance: str = "euclidean",
) -> dict[str, float]:
    """Every retrieval metric of this module, in one dict.

    Parameters
    ----------
    embeddings : array of shape (N, D)
    labels : array of shape (N,)
    ks : sequence of int, default (1, 5, 10)
        The k of recall@k and precision@k.
    gallery, gallery_labels : arrays of shapes (M, D) and (M,), optional
        What the queries search (default: each other, leave-one-out).
    distance : {"euclidean", "squared_euclidean", "cosine"}

    Returns
    -------
    dict of str to float
        ``recall@k`` and ``precision@k`` for each k, ``mAP``, ``MAP@R``,
        ``R-precision``, ``nn_accuracy``, and without a gallery
        ``triplet_violation_rate``.

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [1.0], [1.1], [0.3]])
    >>> y = np.array([0, 0, 1, 1, 1])
    >>> report = retrieval_report(e, y, ks=(1,))
    >>> report["recall@1"], report["MAP@R"]
    (0.8, 0.8)

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020);
    pytorch-metric-learning's ``AccuracyCalculator``.
    """
    kw: dict[str, Any] = {
        "gallery": gallery,
        "gallery_labels": gallery_labels,
        "distance": distance,
    }
    report = {f"recall@{k}": recall_at_k(embeddings, labels, k, **kw) for k in ks}
    report.update({f"precision@{k}": precision_at_k(embeddings, labels, k, **kw) for k in ks})
    report["mAP"] = mean_average_precision(embeddings, labels, **kw)
    report["MAP@R"] = map_at_r(embeddings, labels, **kw)
    report["R-precision"] = r_precision(embeddings, labels, **kw)
    report["nn_accuracy"] = report.get("recall@1", recall_at_k(embeddings, labels, 1, **kw))
    if gallery is None:
        report["triplet_violation_rate"] = triplet_violation_rate(
            embeddings, labels, distance=distance
        )
    return report
