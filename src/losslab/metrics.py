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

import numpy as np

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
    embeddings, labels, k=1, *, gallery=None, gallery_labels=None, distance="euclidean"
):
    relevant, _ = _ranking(embeddings, labels, gallery, gallery_labels, distance)
    return float(relevant[:, :k].any(axis=1).mean())


def precision_at_k(
    embeddings, labels, k=1, *, gallery=None, gallery_labels=None, distance="euclidean"
):
    relevant, _ = _ranking(embeddings, labels, gallery, gallery_labels, distance)
    return float(relevant[:, :k].mean())


def mean_average_precision(
    embeddings, labels, *, gallery=None, gallery_labels=None, distance="euclidean"
):
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


def r_precision(embeddings, labels, *, gallery=None, gallery_labels=None, distance="euclidean"):
    """Mean over queries of (items of the query's class among its R nearest) / R."""
    relevant, r = _first_r(*_ranking(embeddings, labels, gallery, gallery_labels, distance))
    return float(np.mean(relevant.sum(axis=1) / r)) if len(r) else float("nan")


def map_at_r(embeddings, labels, *, gallery=None, gallery_labels=None, distance="euclidean"):
    """MAP@R (Musgrave et al. 2020): mean over queries of (1/R) Σ_{i<=R} P@i · [item i relevant]."""
    relevant, r = _first_r(*_ranking(embeddings, labels, gallery, gallery_labels, distance))
    if not len(r):
        return float("nan")
    ranks = np.arange(1, relevant.shape[1] + 1)
    precision = np.cumsum(relevant, axis=1) / ranks
    return float(np.mean(np.where(relevant, precision, 0.0).sum(axis=1) / r))


def nearest_neighbour_accuracy(embeddings, labels, **kw):
    return recall_at_k(embeddings, labels, 1, **kw)


def triplet_violation_rate(
    embeddings, labels, *, distance="euclidean", max_triplets=100_000, seed=0
):
    """Fraction of valid triplets (a, p, n) with d(a, n) <= d(a, p), on a random sample of triplets."""
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
    embeddings, labels, *, ks=(1, 5, 10), gallery=None, gallery_labels=None, distance="euclidean"
):
    """All the metrics above as a dict."""
    kw = {"gallery": gallery, "gallery_labels": gallery_labels, "distance": distance}
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
