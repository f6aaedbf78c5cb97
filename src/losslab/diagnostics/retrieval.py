"""Retrieval with a learned embedding against raw features and PCA: the metric-learning experiment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from .. import metrics
from ..estimators import persist
from ..estimators.metric_learning import MetricLearner
from ..losses.ranking import pairwise_distances
from ..training.files import atomic_write_text

# the columns of the retrieval table: what a reader compares first
TABLE_COLUMNS = ("recall@1", "recall@5", "precision@5", "mAP")


def evaluate_embeddings(ds, transform, *, ks=(1, 5, 10)):
    """Retrieval metrics of ``transform`` on the test split against the training split (held-out samples)."""
    return metrics.retrieval_report(
        transform(ds.X_test),
        ds.y_test,
        ks=ks,
        gallery=transform(ds.X_train),
        gallery_labels=ds.y_train,
    )


def embedding_run(
    ds,
    *,
    n_components=16,
    model="mlp",
    loss="triplet",
    mining="semihard",
    margin=0.2,
    epochs=50,
    lr=1e-3,
    seed=0,
):
    """Fit a MetricLearner on the training split and compare its retrieval with raw features and PCA.

    Returns (learner, {"raw features": report, "PCA-k": report, "learned-k": report}).
    """
    learner = MetricLearner(
        n_components,
        model=model,
        loss=loss,
        mining=mining,
        margin=margin,
        max_iter=epochs,
        lr=lr,
        random_state=seed,
    ).fit(ds.X_train, ds.y_train)
    pca = PCA(n_components, random_state=seed).fit(ds.X_train)
    reports = {
        "raw features": evaluate_embeddings(ds, lambda A: A),
        f"PCA-{n_components}": evaluate_embeddings(ds, pca.transform),
        f"learned-{n_components} (before training)": evaluate_embeddings(
            ds,
            MetricLearner(n_components, model=model, max_iter=0, random_state=seed)
            .fit(ds.X_train, ds.y_train)
            .transform,
        ),
        f"learned-{n_components}": evaluate_embeddings(ds, learner.transform),
    }
    return learner, reports


def retrieval_table(reports, columns=TABLE_COLUMNS):
    """Rows ``(features, [value per column])`` of :func:`embedding_run`'s reports, in their order."""
    return [(name, [float(report[c]) for c in columns]) for name, report in reports.items()]


def nearest_examples(learner, ds, *, n_queries=8, k=5):
    """Indices (n_queries, k) into the training split of the first test samples' k nearest, by the learned embedding."""
    queries = learner.transform(ds.X_test)[:n_queries]  # rows as the figure's embedding has them
    gallery = learner.transform(ds.X_train)
    d = pairwise_distances(np.vstack([queries, gallery]))[: len(queries), len(queries) :]
    return np.argsort(d, axis=1)[:, :k]


def save_embedding_run(out, ds, learner, reports, *, loss):
    """Write metrics.json, model.npz, embedding_pca.png and, for images, retrieval_examples.png.

    Returns the names of the files written under ``out``.
    """
    from .. import plots  # matplotlib only when figures are drawn

    out = Path(out)
    plots.embedding_figure(
        learner.transform(ds.X_test),
        ds.y_test,
        ds.class_names,
        out / "embedding_pca.png",
        f"learned embedding of the test split ({loss})",
    )
    files = ["metrics.json", "model.npz", "embedding_pca.png"]
    if ds.image_shape is not None:
        nearest = nearest_examples(learner, ds)
        queries = slice(0, len(nearest))
        plots.retrieval_figure(
            ds.X_test[queries],
            ds.X_train[nearest],
            ds.y_test[queries],
            ds.y_train[nearest],
            ds.image_shape,
            out / "retrieval_examples.png",
        )
        files.append("retrieval_examples.png")
    atomic_write_text(out / "metrics.json", json.dumps(reports, indent=2))
    header = {"task": "embed", "loss": loss, "normalize": True}
    persist.save(learner.model_, out / "model.npz", extra_header=header)
    return files
