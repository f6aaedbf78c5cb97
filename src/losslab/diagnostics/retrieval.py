"""Retrieval with a learned embedding against raw features, PCA and NCA: the metric-learning experiment."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.neighbors import NeighborhoodComponentsAnalysis

from .. import metrics
from ..estimators import persist
from ..estimators.metric_learning import MetricLearner
from ..losses.ranking import pairwise_distances
from ..training.files import atomic_write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..data.datasets import Dataset

# the columns of the retrieval table: what a reader compares first
TABLE_COLUMNS = ("recall@1", "recall@5", "precision@5", "mAP", "MAP@R")


def evaluate_embeddings(
    ds: Dataset, transform: Callable[[np.ndarray], np.ndarray], *, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Retrieval metrics of ``transform`` on the test split against the training split (held-out samples).

    Parameters
    ----------
    ds : Dataset
        The data, with its training and test splits.
    transform : callable
        ``transform(X) -> embedding`` of shape (n, k).
    ks : sequence of int, default (1, 5, 10)
        The cut-offs of recall@k and precision@k.

    Returns
    -------
    dict of str to float
        :func:`losslab.metrics.retrieval_report` with the test split as queries
        and the training split as the gallery.

    Examples
    --------
    >>> from losslab.data import load
    >>> report = evaluate_embeddings(load("iris"), lambda X: X)  # the raw features
    >>> round(report["recall@1"], 3)
    0.933

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020).
    """
    return metrics.retrieval_report(
        transform(ds.X_test),
        ds.y_test,
        ks=ks,
        gallery=transform(ds.X_train),
        gallery_labels=ds.y_train,
    )


def embedding_run(
    ds: Dataset,
    *,
    n_components: int = 16,
    model: str | None = None,
    loss: str | None = None,
    mining: str | None = None,
    margin: float | None = None,
    epochs: int | None = None,
    lr: float | None = None,
    seed: int = 0,
) -> tuple[MetricLearner, dict[str, dict[str, float]]]:
    """Fit a MetricLearner on the training split and compare its retrieval with raw features and PCA.

    An option left at None is the estimator's default, so ``losslab train --task
    embed`` trains what ``MetricLearner(n_components)`` trains.

    Parameters
    ----------
    ds : Dataset
        The data, with its training and test splits.
    n_components : int, default 16
        The embedding's dimension (and PCA's).
    model, loss, mining, margin, lr : optional
        :class:`~losslab.MetricLearner`'s parameters of those names.
    epochs : int, optional
        Its ``max_iter``.
    seed : int, default 0
        The learner's ``random_state`` and PCA's.

    Returns
    -------
    learner : MetricLearner
        Fitted on the training split.
    reports : dict of str to dict
        :func:`evaluate_embeddings` of the raw features, PCA, the learner before
        training and after; one "closed-form Fisher" row instead of the last two
        when the learner's defaults chose the closed form (``model_type_``).

    Examples
    --------
    >>> from losslab.data import load
    >>> learner, reports = embedding_run(load("iris"), n_components=2, epochs=5)
    >>> list(reports)
    ['raw features', 'PCA-2', 'learned-2 (before training)', 'learned-2']
    >>> list(embedding_run(load("iris"), n_components=3)[1])  # 3 > C - 1: no training
    ['raw features', 'PCA-3', 'learned-3 (closed-form Fisher)']

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020).
    """
    options: dict[str, Any] = {"model": model, "loss": loss, "mining": mining, "margin": margin}
    options.update(max_iter=epochs, lr=lr)
    options = {k: v for k, v in options.items() if v is not None}
    learner = MetricLearner(n_components, random_state=seed, **options)
    learner.fit(ds.X_train, ds.y_train)
    pca = PCA(n_components, random_state=seed).fit(ds.X_train)
    reports = {
        "raw features": evaluate_embeddings(ds, lambda A: A),
        f"PCA-{n_components}": evaluate_embeddings(ds, pca.transform),
    }
    if learner.model_type_ == "fisher":  # a closed form: there is no "before training"
        reports[f"learned-{n_components} (closed-form Fisher)"] = evaluate_embeddings(
            ds, learner.transform
        )
        return learner, reports
    untrained = clone(learner).fit_start(ds.X_train, ds.y_train)
    reports[f"learned-{n_components} (before training)"] = evaluate_embeddings(
        ds, untrained.transform
    )
    reports[f"learned-{n_components}"] = evaluate_embeddings(ds, learner.transform)
    return learner, reports


def retrieval_table(
    reports: Mapping[str, Mapping[str, float]], columns: Sequence[str] = TABLE_COLUMNS
) -> list[tuple[str, list[float]]]:
    """Rows ``(features, [value per column])`` of :func:`embedding_run`'s reports, in their order.

    Parameters
    ----------
    reports : dict of str to dict
        Features' name to its retrieval report.
    columns : sequence of str, default ``TABLE_COLUMNS``
        recall@1, recall@5, precision@5, mAP, MAP@R.

    Returns
    -------
    list of (str, list of float)
        One row per report, the values in ``columns``' order.

    Examples
    --------
    >>> from losslab.data import load
    >>> rows = retrieval_table({"raw": evaluate_embeddings(load("iris"), lambda X: X)})
    >>> rows[0][0], len(rows[0][1])
    ('raw', 5)

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020).
    """
    return [(name, [float(report[c]) for c in columns]) for name, report in reports.items()]


def nearest_examples(
    learner: MetricLearner, ds: Dataset, *, n_queries: int = 8, k: int = 5
) -> np.ndarray:
    """Indices (n_queries, k) into the training split of the first test samples' k nearest, by the learned embedding.

    Parameters
    ----------
    learner : MetricLearner
        Fitted.
    ds : Dataset
        The queries are its first test samples, the gallery its training split.
    n_queries : int, default 8
        How many queries.
    k : int, default 5
        Neighbours per query.

    Returns
    -------
    int ndarray of shape (n_queries, k)
        Nearest first (Euclidean distance in the embedding).

    Examples
    --------
    >>> from losslab import MetricLearner
    >>> from losslab.data import load
    >>> ds = load("iris")
    >>> learner = MetricLearner(2, max_iter=3, random_state=0).fit(ds.X_train, ds.y_train)
    >>> nearest = nearest_examples(learner, ds, n_queries=3, k=4)
    >>> nearest.shape
    (3, 4)
    >>> bool(np.all(ds.y_train[nearest] == ds.y_test[:3, None]))  # same class as the query
    True

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020).
    """
    queries = learner.transform(ds.X_test)[:n_queries]  # rows as the figure's embedding has them
    gallery = learner.transform(ds.X_train)
    d = pairwise_distances(np.vstack([queries, gallery]))[: len(queries), len(queries) :]
    return np.argsort(d, axis=1)[:, :k]


def two_dimensional_panels(
    ds: Dataset, learner: MetricLearner, *, seed: int = 0
) -> dict[str, np.ndarray]:
    """{title: test-split embedding}: the learned 2-D embedding itself, PCA-2 and NCA-2 fitted on the training split.

    Parameters
    ----------
    ds : Dataset
        The data; PCA and NCA are fitted on its training split.
    learner : MetricLearner
        Fitted with ``n_components=2``.
    seed : int, default 0
        Of PCA and NCA.

    Returns
    -------
    dict of str to ndarray of shape (n_test, 2)
        The test split in each 2-D embedding.

    Examples
    --------
    >>> from losslab import MetricLearner
    >>> from losslab.data import load
    >>> ds = load("iris")
    >>> learner = MetricLearner(2, max_iter=3, random_state=0).fit(ds.X_train, ds.y_train)
    >>> panels = two_dimensional_panels(ds, learner)
    >>> [(title, xy.shape) for title, xy in panels.items()]
    [('learned (2-D, as trained)', (30, 2)), ('PCA-2', (30, 2)), ('NCA-2 (scikit-learn)', (30, 2))]

    References
    ----------
    Goldberger, Roweis, Hinton & Salakhutdinov, "Neighbourhood Components
    Analysis", NIPS (2004); ``sklearn.neighbors.NeighborhoodComponentsAnalysis``.
    """
    pca = PCA(2, random_state=seed).fit(ds.X_train)
    nca = NeighborhoodComponentsAnalysis(2, random_state=seed).fit(ds.X_train, ds.y_train)
    return {
        "learned (2-D, as trained)": learner.transform(ds.X_test),
        "PCA-2": pca.transform(ds.X_test),
        "NCA-2 (scikit-learn)": nca.transform(ds.X_test),
    }


def embedding_2d_figure(
    panels: Mapping[str, np.ndarray],
    labels: np.ndarray,
    class_names: Sequence[Any],
    path: str | PathLike[str] | None = None,
) -> Figure:
    """One scatter per 2-D embedding, side by side, coloured by class: no projection in between.

    Parameters
    ----------
    panels : mapping of str to ndarray of shape (n, 2)
        Title to embedding, as :func:`two_dimensional_panels` returns.
    labels : int ndarray of shape (n,)
        The class of each row, 0 .. len(class_names) - 1.
    class_names : sequence
        The legend's names, one per class.
    path : str or PathLike, optional
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not attached to pyplot (no window opens).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> panels = {"first": rng.standard_normal((6, 2)), "second": rng.standard_normal((6, 2))}
    >>> fig = embedding_2d_figure(panels, np.array([0, 1, 2, 0, 1, 2]), ["a", "b", "c"])
    >>> [ax.get_title() for ax in fig.axes]
    ['first', 'second']

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020).
    """
    from matplotlib.figure import Figure

    from .. import plots  # matplotlib only when figures are drawn

    fig = Figure(figsize=(5.2 * len(panels), 5.0))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (title, xy) in zip(axes[0], panels.items(), strict=True):
        for k, name in enumerate(class_names):
            mask = labels == k
            ax.scatter(xy[mask, 0], xy[mask, 1], s=8, alpha=0.75, label=str(name))
        ax.set_title(title)
    axes[0, 0].legend(fontsize=7, markerscale=2, ncol=2)
    fig.suptitle("test split in two dimensions")
    if path is not None:
        plots.save_figure(fig, path)
    return fig


def save_embedding_run(
    out: str | PathLike[str],
    ds: Dataset,
    learner: MetricLearner,
    reports: Mapping[str, Any],
    *,
    loss: str | Callable[..., Any],
) -> list[str]:
    """Write metrics.json, model.npz, the embedding figure and, for images, retrieval_examples.png.

    A 2-D embedding is drawn as it is, beside PCA-2 and NCA-2 (embedding_2d.png);
    a wider one through its first two principal components (embedding_pca.png).

    Parameters
    ----------
    out : str or Path
        An existing directory.
    ds : Dataset
        The data the learner was fitted on.
    learner : MetricLearner
        Fitted.
    reports : dict
        :func:`embedding_run`'s reports, written to metrics.json.
    loss : str
        Recorded in the model file's header.

    Returns
    -------
    list of str
        The names of the files written under ``out``.

    Examples
    --------
    >>> import tempfile
    >>> from losslab import MetricLearner
    >>> from losslab.data import load
    >>> ds = load("iris")
    >>> learner = MetricLearner(3, max_iter=2, random_state=0).fit(ds.X_train, ds.y_train)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     save_embedding_run(out, ds, learner, {"learned-3": {}}, loss="triplet")
    ['metrics.json', 'model.npz', 'embedding_pca.png']

    References
    ----------
    Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV (2020).
    """
    from .. import plots  # matplotlib only when figures are drawn

    out = Path(out)
    if learner.n_components == 2:
        panels = two_dimensional_panels(ds, learner, seed=learner.random_state or 0)
        embedding_2d_figure(panels, ds.y_test, ds.class_names, out / "embedding_2d.png")
        figure = "embedding_2d.png"
    else:
        plots.embedding_figure(
            learner.transform(ds.X_test),
            ds.y_test,
            ds.class_names,
            out / "embedding_pca.png",
            f"learned embedding of the test split ({loss})",
        )
        figure = "embedding_pca.png"
    files = ["metrics.json", "model.npz", figure]
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
    header = {"task": "embed", "loss": loss, "normalize": learner.normalize_}
    persist.save(learner.model_, out / "model.npz", extra_header=header)
    return files
