"""The metric-learning experiment: retrieval tables, nearest training examples, the files of a run."""

import json
from types import SimpleNamespace

import numpy as np

from losslab import datasets
from losslab.diagnostics import retrieval
from losslab.estimators import persist
from losslab.estimators.metric_learning import MetricLearner


def test_retrieval_table_rows_follow_the_reports_and_the_columns():
    reports = {
        "raw features": {
            "recall@1": 0.9,
            "recall@5": 1.0,
            "precision@5": 0.8,
            "mAP": 0.6,
            "MAP@R": 0.5,
            "x": 1,
        },
        "learned-8": {
            "recall@1": 0.7,
            "recall@5": 0.9,
            "precision@5": 0.6,
            "mAP": 0.8,
            "MAP@R": 0.7,
            "x": 2,
        },
    }
    assert retrieval.retrieval_table(reports) == [
        ("raw features", [0.9, 1.0, 0.8, 0.6, 0.5]),
        ("learned-8", [0.7, 0.9, 0.6, 0.8, 0.7]),
    ]
    assert retrieval.retrieval_table(reports, ("mAP",)) == [
        ("raw features", [0.6]),
        ("learned-8", [0.8]),
    ]


def test_nearest_examples_are_the_closest_training_rows_in_the_embedding():
    # the embedding keeps only the first feature: neighbours by it, whatever the second says
    learner = SimpleNamespace(transform=lambda X: X[:, :1])
    ds = SimpleNamespace(
        X_train=np.array([[0.0, 9.0], [10.0, 0.0], [2.0, 0.0], [5.0, -9.0]]),
        X_test=np.array([[1.6, 0.0], [9.0, 0.0], [4.0, 0.0]]),
    )
    nearest = retrieval.nearest_examples(learner, ds, n_queries=2, k=2)
    np.testing.assert_array_equal(nearest, [[2, 0], [1, 3]])


def test_embedding_run_and_its_files(tmp_path):
    ds = datasets.load("digits", random_state=0, standardize=False)
    learner, reports = retrieval.embedding_run(
        ds, n_components=4, model="mlp", loss="triplet", epochs=1, seed=0
    )
    assert list(reports) == ["raw features", "PCA-4", "learned-4 (before training)", "learned-4"]
    files = retrieval.save_embedding_run(tmp_path, ds, learner, reports, loss="triplet")
    assert files == ["metrics.json", "model.npz", "embedding_pca.png", "retrieval_examples.png"]
    assert all((tmp_path / name).is_file() for name in files)
    assert json.loads((tmp_path / "metrics.json").read_text()) == reports
    model = persist.load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(model.params["W1"], learner.model_.params["W1"])


def test_embedding_run_trains_the_estimators_defaults():
    ds = datasets.load("digits", random_state=0, standardize=False)
    learner, reports = retrieval.embedding_run(ds, n_components=3, epochs=2, seed=0)
    defaults = MetricLearner().get_params()
    ours = learner.get_params()
    assert {k: ours[k] for k in ours if k not in ("n_components", "max_iter", "random_state")} == {
        k: defaults[k] for k in defaults if k not in ("n_components", "max_iter", "random_state")
    }
    assert reports["learned-3"]["MAP@R"] > reports["learned-3 (before training)"]["MAP@R"]


def test_a_two_dimensional_run_draws_the_embedding_itself_beside_pca_and_nca(tmp_path):
    from ..cli.helpers import png_ok

    ds = datasets.load("digits", random_state=0, standardize=False)
    ds = SimpleNamespace(  # a small slice keeps NCA quick
        X_train=ds.X_train[:300],
        y_train=ds.y_train[:300],
        X_test=ds.X_test[:100],
        y_test=ds.y_test[:100],
        class_names=ds.class_names,
        image_shape=None,
    )
    learner = MetricLearner(2, max_iter=3, random_state=0).fit(ds.X_train, ds.y_train)
    panels = retrieval.two_dimensional_panels(ds, learner)
    assert list(panels) == ["learned (2-D, as trained)", "PCA-2", "NCA-2 (scikit-learn)"]
    np.testing.assert_array_equal(panels["learned (2-D, as trained)"], learner.transform(ds.X_test))
    files = retrieval.save_embedding_run(tmp_path, ds, learner, {"learned-2": {}}, loss="default")
    assert files == ["metrics.json", "model.npz", "embedding_2d.png"]
    png_ok(tmp_path / "embedding_2d.png")
