"""Retrieval with a learned embedding against raw features and PCA: the metric-learning experiment."""

from __future__ import annotations

from sklearn.decomposition import PCA

from .. import metrics
from ..estimators.metric_learning import MetricLearner


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
