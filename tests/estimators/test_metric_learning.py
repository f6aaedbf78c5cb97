"""Metric learning: mining selects exactly the defined triplets; the estimator and the retrieval metrics."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from losslab import losses, metrics
from losslab.estimators.metric_learning import EmbeddingModel, MetricLearner, pk_batches

# a hand-built batch on a line: class 0 at 0 and 1, class 1 at 1.5 and 5
E = np.array([[0.0], [1.0], [1.5], [5.0]])
LABELS = np.array([0, 0, 1, 1])


def mined(mining, embeddings=E, labels=LABELS):
    d = losses.pairwise_distances(embeddings)
    return {tuple(t) for t in losses.mine_triplets(labels, d, mining).tolist()}


def test_all_mining_is_every_valid_triplet():
    expected = {
        (a, p, n)
        for a in range(4)
        for p in range(4)
        for n in range(4)
        if a != p and LABELS[a] == LABELS[p] and LABELS[n] != LABELS[a]
    }
    assert mined("all") == expected
    assert len(expected) == 8


def test_hard_mining_takes_the_farthest_positive_and_nearest_negative_per_anchor():
    # anchor 0: positive 1 (only one), nearest negative 2 (1.5 < 5); anchor 1: negative 2 (0.5)
    # anchor 2: positive 3, nearest negative 1 (0.5 < 1.5); anchor 3: positive 2, nearest negative 1 (4 < 5)
    assert mined("hard") == {(0, 1, 2), (1, 0, 2), (2, 3, 1), (3, 2, 1)}


def test_semihard_mining_takes_the_nearest_negative_beyond_the_positive_else_the_farthest():
    # (0,1): d_ap = 1; negatives at 1.5 and 5 -> nearest beyond 1 is 2
    # (1,0): d_ap = 1; negatives at 0.5 and 4 -> nearest beyond 1 is 3
    # (2,3): d_ap = 3.5; negatives at 1.5 and 0.5 -> none beyond: the farthest, 0
    # (3,2): d_ap = 3.5; negatives at 5 and 4 -> nearest beyond 3.5 is 1 (4)
    assert mined("semihard") == {(0, 1, 2), (1, 0, 3), (2, 3, 0), (3, 2, 1)}


def test_a_batch_without_valid_triplets_is_zero_not_nan():
    e = np.random.default_rng(0).standard_normal((3, 2))
    for mining in ("all", "hard", "semihard"):
        r = losses.batch_triplet(e, np.array([0, 1, 2]), mining=mining)  # no positives
        assert r.value == 0.0 and not r.grad.any() and np.all(np.isfinite(r.grad))


def test_pk_batches_are_class_balanced():
    labels = np.repeat(np.arange(5), 20)
    batches = pk_batches(labels, 4, 3, np.random.default_rng(0))
    for b in batches:
        counts = np.unique(labels[b], return_counts=True)[1]
        assert len(counts) == 4 and np.all(counts == 3)
    with pytest.raises(ValueError, match="two classes with two or more samples"):
        pk_batches(np.array([0, 1, 2]), 2, 2, np.random.default_rng(0))


def test_retrieval_metrics_on_a_hand_built_example():
    # leave-one-out rankings on the line (labels 0 0 1 1 at 0, 1, 1.5, 5):
    # query 0 -> [1 same, 2, 3]; query 1 -> [2, 0 same, 3]; query 2 -> [1, 0, 3 same]; query 3 -> [2 same, 1, 0]
    assert metrics.recall_at_k(E, LABELS, 1) == 0.5
    assert metrics.recall_at_k(E, LABELS, 2) == 0.75
    assert metrics.recall_at_k(E, LABELS, 3) == 1.0
    assert metrics.precision_at_k(E, LABELS, 2) == pytest.approx((0.5 + 0.5 + 0.0 + 0.5) / 4)
    assert metrics.mean_average_precision(E, LABELS) == pytest.approx((1 + 1 / 2 + 1 / 3 + 1) / 4)
    assert metrics.nearest_neighbour_accuracy(E, LABELS) == 0.5
    gallery = np.array([[0.1], [4.9]])
    assert (
        metrics.recall_at_k(E, LABELS, 1, gallery=gallery, gallery_labels=np.array([0, 1])) == 0.75
    )


def test_triplet_violation_rate_is_zero_for_separated_clusters_and_high_for_shuffled_ones():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    clustered = rng.normal(0, 0.1, (90, 2)) + 10 * labels[:, None]
    assert metrics.triplet_violation_rate(clustered, labels) == 0.0
    assert metrics.triplet_violation_rate(clustered, rng.permutation(labels)) > 0.3


@pytest.fixture(scope="module")
def digits_seen():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.mark.parametrize(
    ("loss", "mining"),
    [("triplet", "semihard"), ("triplet", "hard"), ("triplet", "all"), ("contrastive", "all")],
)
def test_training_reduces_triplet_violations(digits_seen, loss, mining):
    X, y = digits_seen
    before = metrics.triplet_violation_rate(
        MetricLearner(8, max_iter=0, random_state=0).fit(X, y).transform(X), y
    )
    model = MetricLearner(8, loss=loss, mining=mining, lr=1e-2, max_iter=15, random_state=0).fit(
        X, y
    )
    after = metrics.triplet_violation_rate(model.transform(X), y)
    assert after < before / 2, (before, after)
    assert model.transform(X).shape == (len(X), 8)
    np.testing.assert_allclose(np.linalg.norm(model.transform(X[:5]), axis=1), 1.0)


def test_embedding_model_alias_and_errors(digits_seen):
    X, y = digits_seen
    assert EmbeddingModel is MetricLearner
    with pytest.raises(ValueError, match="only one class"):
        MetricLearner().fit(X[:10], np.zeros(10))
    with pytest.raises(ValueError, match="loss: expected 'triplet' or 'contrastive'"):
        MetricLearner(loss="arcface").fit(X, y)
    model = MetricLearner(4, max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.transform(np.zeros((2, 3)))


def test_pca_init_starts_from_pcas_distances_and_training_refines_them(digits_seen):
    from sklearn.decomposition import PCA

    X, y = digits_seen
    start = MetricLearner(8, init="pca", normalize=False, max_iter=0).fit(X, y)
    pca = PCA(8).fit(X)
    d_ours = losses.pairwise_distances(start.transform(X[:50]))
    d_pca = losses.pairwise_distances(pca.transform(X[:50]))
    np.testing.assert_allclose(d_ours, d_pca, atol=1e-8)  # the same geometry (signs may differ)
    trained = MetricLearner(
        8, init="pca", normalize=False, margin=0.5, lr=1e-3, max_iter=5, random_state=0
    ).fit(X, y)
    before = metrics.triplet_violation_rate(start.transform(X), y)
    after = metrics.triplet_violation_rate(trained.transform(X), y)
    assert after < before
    with pytest.raises(ValueError, match="init: 'pca' initialises a linear model"):
        MetricLearner(init="pca", model="mlp").fit(X, y)
    with pytest.raises(ValueError, match="n_components <= "):
        MetricLearner(100, init="pca").fit(X, y)
    with pytest.raises(ValueError, match="init: expected 'random' or 'pca'"):
        MetricLearner(init="lda").fit(X, y)


def test_same_seed_same_embedding(digits_seen):
    X, y = digits_seen
    a = MetricLearner(4, max_iter=2, random_state=3).fit(X, y).transform(X[:10])
    b = MetricLearner(4, max_iter=2, random_state=3).fit(X, y).transform(X[:10])
    np.testing.assert_array_equal(a, b)


def test_train_task_embed_command_writes_metrics_and_figures(tmp_path, capsys):
    from losslab import cli

    from ..cli.helpers import png_ok

    args = [
        "train",
        "--task",
        "embed",
        "--data",
        "digits",
        "--loss",
        "triplet",
        "--mining",
        "semihard",
        "--model",
        "mlp",
        "--dim",
        "8",
        "--epochs",
        "3",
        "--lr",
        "1e-3",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "raw features" in out and "PCA-8" in out and "learned-8" in out
    import json

    reports = json.loads((tmp_path / "metrics.json").read_text())
    assert reports["learned-8"]["mAP"] > reports["learned-8 (before training)"]["mAP"]
    png_ok(tmp_path / "embedding_pca.png")
    png_ok(tmp_path / "retrieval_examples.png", (200, 400))
    assert cli.main(["train", "--task", "embed", "--loss", "softmax"]) == 2
