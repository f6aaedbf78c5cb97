"""Metric learning: mining selects exactly the defined triplets; the estimator and the retrieval metrics."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.utils._param_validation import InvalidParameterError

from losslab import losses, metrics
from losslab.diagnostics import check_gradient
from losslab.estimators.metric_learning import (
    EmbeddingModel,
    MetricLearner,
    pk_batches,
    shrunk_fisher,
    within_class_scatter,
)

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


def test_map_at_r_and_r_precision_on_a_hand_built_example():
    # on a line, classes 0 0 0 | 1 1 1 at 0, 1, 2 | 1.5, 5, 6; each query has R = 2 others of its class.
    # Nearest two (ties by index): q0 [same, diff], q1 and q2 [diff, same], q3 [diff, diff],
    # q4 and q5 [same, diff]
    e = np.array([[0.0], [1.0], [2.0], [1.5], [5.0], [6.0]])
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert metrics.r_precision(e, labels) == pytest.approx((0.5 + 0.5 + 0.5 + 0 + 0.5 + 0.5) / 6)
    # MAP@R = (1/R) Σ_{i<=R} P@i [i relevant]: 1/2, (1/2)(1/2), (1/2)(1/2), 0, 1/2, 1/2
    assert metrics.map_at_r(e, labels) == pytest.approx((0.5 + 0.25 + 0.25 + 0 + 0.5 + 0.5) / 6)
    # against a gallery R is the number of gallery items of the query's class
    gallery, gallery_labels = np.array([[0.0], [0.2], [9.0]]), np.array([0, 0, 1])
    kw = {"gallery": gallery, "gallery_labels": gallery_labels}
    query, query_labels = np.array([[0.1], [8.0]]), np.array([0, 1])
    assert metrics.map_at_r(query, query_labels, **kw) == 1.0
    # a query of class 0 at 9: R = 2, its two nearest are [class 1, class 0]
    assert metrics.r_precision(np.array([[9.0]]), np.array([0]), **kw) == 0.5
    report = metrics.retrieval_report(e, labels)
    assert report["MAP@R"] == metrics.map_at_r(e, labels)
    assert report["R-precision"] == metrics.r_precision(e, labels)


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
    linear = {"model": "linear", "init": "random", "validation_fraction": 0, "random_state": 0}
    before = metrics.triplet_violation_rate(
        MetricLearner(8, loss=loss, **linear).fit_start(X, y).transform(X), y
    )
    model = MetricLearner(8, loss=loss, mining=mining, lr=1e-2, max_iter=15, **linear).fit(X, y)
    after = metrics.triplet_violation_rate(model.transform(X), y)
    assert after < before / 2, (before, after)
    assert model.transform(X).shape == (len(X), 8)
    np.testing.assert_allclose(np.linalg.norm(model.transform(X[:5]), axis=1), 1.0)


def test_embedding_model_alias_and_errors(digits_seen):
    X, y = digits_seen
    assert EmbeddingModel is MetricLearner
    with pytest.raises(ValueError, match="only one class"):
        MetricLearner().fit(X[:10], np.zeros(10))
    with pytest.raises(ValueError, match="loss: expected a metric loss"):
        MetricLearner(loss="softmax").fit(X, y)
    model = MetricLearner(4, max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.transform(np.zeros((2, 3)))


def test_pca_init_starts_from_pcas_distances_and_training_refines_them(digits_seen):
    from sklearn.decomposition import PCA

    X, y = digits_seen
    start = MetricLearner(
        8, model="linear", init="pca", normalize=False, validation_fraction=0
    ).fit_start(X, y)
    pca = PCA(8).fit(X)
    d_ours = losses.pairwise_distances(start.transform(X[:50]))
    d_pca = losses.pairwise_distances(pca.transform(X[:50]))
    np.testing.assert_allclose(d_ours, d_pca, atol=1e-8)  # the same geometry (signs may differ)
    mlp = MetricLearner(8, model="mlp", init="pca", validation_fraction=0).fit_start(X, y)
    np.testing.assert_allclose(  # an MLP from PCA computes PCA exactly: relu(u) - relu(-u) = u
        losses.pairwise_distances(mlp.transform(X[:50])), d_pca, atol=1e-8
    )
    trained = MetricLearner(
        8,
        model="linear",
        init="pca",
        loss="triplet",
        normalize=False,
        margin=0.5,
        lr=1e-3,
        max_iter=5,
        validation_fraction=0,
        random_state=0,
    ).fit(X, y)
    before = metrics.triplet_violation_rate(start.transform(X), y)
    after = metrics.triplet_violation_rate(trained.transform(X), y)
    assert after < before
    with pytest.raises(ValueError, match="one hidden layer of at least 16 units"):
        MetricLearner(8, init="pca", model="mlp", hidden_layer_sizes=(10,)).fit(X, y)
    with pytest.raises(ValueError, match="n_components <= "):
        MetricLearner(100, model="linear", init="pca").fit(X, y)
    with pytest.raises(ValueError, match=r"init: 'lda' needs n_components <= .* = 9"):
        MetricLearner(10, model="linear", init="lda").fit(X, y)
    with pytest.raises(ValueError, match="The 'init' parameter of MetricLearner must be"):
        MetricLearner(init="nca").fit(X, y)


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


def test_lda_init_is_sklearns_lda_and_auto_picks_it_below_c_minus_1_dimensions(digits_seen):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    X, y = digits_seen
    lda = LinearDiscriminantAnalysis(n_components=4).fit(X, y)
    for init in ("lda", "auto"):
        ours = MetricLearner(4, model="linear", init=init, validation_fraction=0)
        d_ours = losses.pairwise_distances(ours.fit_start(X, y).transform(X[:40]))
        d_lda = losses.pairwise_distances(X[:40] @ lda.scalings_[:, :4])
        np.testing.assert_allclose(d_ours, d_lda, atol=1e-8)


@pytest.mark.parametrize(
    "loss", ["soft_nearest_neighbour", "supervised_contrastive", "multi_similarity", "arcface"]
)
def test_every_loss_trains_and_improves_held_out_retrieval(digits_seen, loss):
    X, y = digits_seen
    X_tr, y_tr, X_te, y_te = X[::2], y[::2], X[1::2], y[1::2]

    def map_at_r(model):
        kw = {"gallery": model.transform(X_tr), "gallery_labels": y_tr}
        return metrics.map_at_r(model.transform(X_te), y_te, **kw)

    settings = {"model": "linear", "init": "random", "random_state": 0}
    before = map_at_r(MetricLearner(8, loss=loss, **settings).fit_start(X_tr, y_tr))
    model = MetricLearner(8, loss=loss, lr=1e-2, max_iter=10, **settings).fit(X_tr, y_tr)
    assert map_at_r(model) > before + 0.1, (before, map_at_r(model))
    if loss == "arcface":
        assert model.proxies_.shape == (10, 8)


def test_early_stopping_on_held_out_rows_keeps_the_best_epoch(digits_seen, tmp_path):
    X, y = digits_seen
    model = MetricLearner(
        4, max_iter=200, n_iter_no_change=3, checkpoint=tmp_path / "ckpt.npz", random_state=0
    ).fit(X, y)
    history = model.history_
    assert model.n_iter_ < 200 and history.converged
    assert all(v is not None for v in history.val_loss)
    assert min(history.val_loss) == history.val_loss[history.best_epoch - 1]
    assert (tmp_path / "ckpt.npz").is_file()
    no_holdout = MetricLearner(4, max_iter=3, validation_fraction=0, random_state=0).fit(X, y)
    assert no_holdout.n_iter_ == 3 and no_holdout.history_.val_loss == [None] * 3


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("n_components", 0, "'n_components' parameter of MetricLearner must be an int"),
        ("temperature", -1.0, "'temperature' parameter of MetricLearner must be"),
        ("validation_fraction", 1.0, "'validation_fraction' parameter"),
        ("model", "cnn", "'model' parameter of MetricLearner must be a str among"),
        ("classes_per_batch", 1, "'classes_per_batch' parameter"),
        ("max_iter", 0, "'max_iter' parameter of MetricLearner must be an int in the range"),
        ("margin", -0.1, "'margin' parameter of MetricLearner must be"),
        ("temperature", np.inf, "'temperature' parameter of MetricLearner must be"),
        ("lr", 0.0, "'lr' parameter of MetricLearner must be"),
        ("alpha", np.nan, "'alpha' parameter of MetricLearner must be"),
        ("tol", -1.0, "'tol' parameter of MetricLearner must be"),
        ("hidden_layer_sizes", (0,), "'hidden_layer_sizes' parameter of MetricLearner must be"),
        ("hidden_layer_sizes", (2.5,), "'hidden_layer_sizes' parameter of MetricLearner must be"),
        ("hidden_layer_sizes", (True,), "'hidden_layer_sizes' parameter of MetricLearner must be"),
    ],
)
def test_parameters_are_validated_at_fit_with_one_error_naming_the_parameter(
    digits_seen, param, value, message
):
    X, y = digits_seen
    learner = MetricLearner(**{param: value})  # construction accepts anything, as scikit-learn
    with pytest.raises(InvalidParameterError, match=message):
        learner.fit(X, y)
    with pytest.raises(InvalidParameterError, match=message):
        learner.fit_start(X, y)


def test_fit_start_is_the_map_fit_starts_from(digits_seen):
    X, y = digits_seen
    settings = {"model": "linear", "init": "random", "validation_fraction": 0, "random_state": 0}
    start = MetricLearner(8, **settings).fit_start(X, y)
    assert start.n_iter_ == 0 and start.history_.n_epochs == 0
    # an epoch of steps too small to change a weight leaves fit where it started
    still = MetricLearner(8, max_iter=1, lr=1e-300, **settings).fit(X, y)
    assert still.n_iter_ == 1
    np.testing.assert_array_equal(start.transform(X), still.transform(X))
    trained = MetricLearner(8, max_iter=1, **settings).fit(X, y)
    assert not np.allclose(start.transform(X[:5]), trained.transform(X[:5]))
    again = MetricLearner(8, **settings).fit_start(X, y)
    np.testing.assert_array_equal(start.transform(X), again.transform(X))


def test_defaults_beat_pca_on_held_out_digits_at_dimension_2(digits_seen):
    from sklearn.decomposition import PCA

    X, y = digits_seen
    X_tr, y_tr, X_te, y_te = X[::2], y[::2], X[1::2], y[1::2]

    def recall(transform):
        kw = {"gallery": transform(X_tr), "gallery_labels": y_tr}
        return metrics.recall_at_k(transform(X_te), y_te, 1, **kw)

    learned = recall(MetricLearner(2, random_state=0).fit(X_tr, y_tr).transform)
    assert learned > recall(PCA(2).fit(X_tr).transform) + 0.15


def test_registry_aliases_and_a_users_metric_loss_train(digits_seen):
    X, y = digits_seen
    settings = {"model": "linear", "init": "random", "random_state": 0, "max_iter": 2}
    by_alias = MetricLearner(4, loss="ntxent", **settings).fit(X, y)
    by_name = MetricLearner(4, loss="supervised_contrastive", **settings).fit(X, y)
    np.testing.assert_array_equal(by_alias.transform(X), by_name.transform(X))
    calls = []

    def centre_pull(z, labels):  # the user's own: pull each embedding towards its class mean
        calls.append(z.shape)
        means = np.stack([z[labels == c].mean(axis=0) for c in labels])
        diff = z - means
        value = 0.5 * np.sum(diff**2) / len(z)
        # d/dz of the mean over samples, the class means depending on z too
        grad = diff / len(z)
        for c in np.unique(labels):
            rows = labels == c
            grad[rows] -= diff[rows].sum(axis=0) / (rows.sum() * len(z))
        return value, grad

    z0, labels0 = np.random.default_rng(0).normal(size=(6, 3)), np.array([0, 0, 1, 1, 2, 2])
    assert check_gradient(lambda z: centre_pull(z, labels0), z0).ok
    own = MetricLearner(4, loss=centre_pull, **settings).fit(X, y)
    assert calls and own.transform(X).shape == (len(X), 4)


def test_a_loss_that_is_not_a_metric_loss_is_refused_before_training(digits_seen):
    X, y = digits_seen
    with pytest.raises(ValueError, match="loss: expected a metric loss"):
        MetricLearner(4, loss="softmax_cross_entropy").fit(X, y)
    with pytest.raises(ValueError, match="loss: expected one of"):
        MetricLearner(4, loss="no_such_loss").fit(X, y)


def test_shrunk_fisher_without_shrinkage_takes_ldas_directions_in_ldas_order():
    from scipy.linalg import subspace_angles
    from sklearn.datasets import load_iris
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    X, y = load_iris(return_X_y=True)
    W, mean = shrunk_fisher(X, y, 2, n_pca=4, shrinkage=0.0)
    lda = LinearDiscriminantAnalysis(solver="eigen").fit(X, y)
    for j in range(2):  # each direction is LDA's of the same rank (up to scale and sign)
        assert subspace_angles(W[:, [j]], lda.scalings_[:, [j]])[0] < 1e-6
    np.testing.assert_allclose(mean, X.mean(axis=0))
    # all four directions: the within-class scatter of the embedding is the identity
    W4, _ = shrunk_fisher(X, y, 4, n_pca=4, shrinkage=0.0)
    np.testing.assert_allclose(within_class_scatter((X - mean) @ W4, y), np.eye(4), atol=1e-8)


def test_shrunk_fisher_with_large_shrinkage_is_pca(digits_seen):
    from scipy.linalg import subspace_angles
    from sklearn.decomposition import PCA

    X, y = digits_seen
    W, _ = shrunk_fisher(X, y, 8, shrinkage=1e9)
    assert np.max(subspace_angles(W, PCA(8).fit(X).components_.T)) < 1e-4
    W_d, _ = shrunk_fisher(X[:, :3], y, 3)  # m is capped by the features
    assert W_d.shape == (3, 3)
    with pytest.raises(ValueError, match=r"n_components: .* = 64"):
        shrunk_fisher(X, y, 65)


def test_auto_model_is_the_fisher_map_above_c_minus_1_dimensions_with_the_default_loss(
    digits_seen,
):
    X, y = digits_seen
    six = y < 6
    fisher = MetricLearner(8, random_state=0).fit(X[six], y[six])
    assert fisher.model_type_ == "fisher" and fisher.n_iter_ == 0 and fisher.history_.n_epochs == 0
    W, mean = shrunk_fisher(X[six], y[six], 8)
    np.testing.assert_allclose(fisher.transform(X[:5]), (X[:5] - mean) @ W, atol=1e-10)
    assert MetricLearner(8, model="fisher").fit(X, y).model_type_ == "fisher"
    # at or below C - 1, with another loss, or beyond the data's rank: the trained MLP
    for learner, data in [
        (MetricLearner(5, max_iter=1), (X[six], y[six])),
        (MetricLearner(8, loss="triplet", max_iter=1), (X[six], y[six])),
        (MetricLearner(70, max_iter=1), (X[six], y[six])),
        (MetricLearner(8, max_iter=1), (X, y)),
    ]:
        assert learner.fit(*data).model_type_ == "mlp" and learner.n_iter_ == 1
    with pytest.raises(ValueError, match="n_components: the Fisher embedding needs"):
        MetricLearner(70, model="fisher").fit(X, y)


def test_on_digits_never_seen_the_defaults_stay_near_pca_where_a_trained_map_falls(digits_seen):
    # bench/embedding.py measures this over several draws; one draw here guards the mechanism:
    # a map trained on six digits loses on the other four, the closed form does not
    from sklearn.decomposition import PCA

    X, y = digits_seen
    seen = np.isin(y, [0, 2, 4, 6, 7, 9])

    def unseen_recall(est):
        return metrics.recall_at_k(est.fit(X[seen], y[seen]).transform(X[~seen]), y[~seen], 1)

    defaults = unseen_recall(MetricLearner(8, random_state=0))
    trained = unseen_recall(MetricLearner(8, model="mlp", random_state=0))
    assert defaults > trained + 0.03 and defaults > unseen_recall(PCA(8)) - 0.02


@pytest.mark.parametrize(
    ("settings", "fmt"),
    [
        ({"n_components": 4, "max_iter": 3}, "csr_matrix"),  # the default MLP, random start
        ({"n_components": 4, "max_iter": 3}, "coo_array"),
        ({"n_components": 4, "model": "linear", "max_iter": 3}, "csc_matrix"),  # from LDA
        ({"n_components": 12, "model": "linear", "max_iter": 3}, "csr_array"),  # from PCA
        ({"n_components": 4, "init": "lda", "max_iter": 3}, "coo_matrix"),  # an MLP from LDA
        ({"n_components": 12}, "csr_matrix"),  # the closed-form Fisher map
        ({"n_components": 4, "loss": "arcface", "max_iter": 2}, "csr_matrix"),
    ],
)
def test_a_sparse_fit_is_the_dense_fit(digits_seen, settings, fmt):
    import scipy.sparse

    X, y = digits_seen
    to_sparse = getattr(scipy.sparse, fmt)
    dense = MetricLearner(random_state=0, **settings).fit(X, y)
    sparse = MetricLearner(random_state=0, **settings).fit(to_sparse(X), y)
    assert sparse.model_type_ == dense.model_type_ and sparse.n_iter_ == dense.n_iter_
    expected = dense.transform(X)
    for sparse_X in (to_sparse(X), scipy.sparse.csr_matrix(X), scipy.sparse.csc_array(X)):
        np.testing.assert_allclose(sparse.transform(sparse_X), expected, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(dense.transform(sparse_X), expected, rtol=1e-12, atol=1e-12)
    start = MetricLearner(random_state=0, **settings).fit_start(to_sparse(X), y)
    np.testing.assert_allclose(
        start.transform(X),
        MetricLearner(random_state=0, **settings).fit_start(X, y).transform(X),
        rtol=1e-8,
        atol=1e-8,
    )


@pytest.mark.parametrize(
    "check",
    ["check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimator_sparse_tag"],
)
def test_scikit_learns_sparse_checks_pass(check):
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("MetricLearner", MetricLearner(2, max_iter=2, random_state=0))


def test_sparse_lda_is_sklearns_lda_up_to_sign():
    import scipy.sparse
    from sklearn.datasets import load_wine
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from losslab.estimators.metric_learning import _sparse_lda_scalings

    X, y = load_wine(return_X_y=True)
    X[X < np.median(X, axis=0)] = 0  # half the entries zero: a sparse problem
    ours = _sparse_lda_scalings(scipy.sparse.csr_matrix(X), y, 2)
    theirs = LinearDiscriminantAnalysis(n_components=2).fit(X, y).scalings_[:, :2]
    signs = np.sign(np.sum(ours * theirs, axis=0))
    np.testing.assert_allclose(ours * signs, theirs, rtol=1e-7, atol=1e-10)


def test_sparse_X_is_never_densified():
    import tracemalloc

    import scipy.sparse

    n_rows, width = 400, 100_000  # dense: 320 MB
    X = scipy.sparse.random(n_rows, width, density=1e-4, format="csr", random_state=0)
    X = X + scipy.sparse.csr_matrix(  # a class signal in the first columns
        (np.ones(n_rows), (np.arange(n_rows), np.arange(n_rows) % 4)), shape=(n_rows, width)
    )
    y = np.arange(n_rows) % 4
    settings = {"model": "linear", "init": "random", "max_iter": 2, "random_state": 0}
    tracemalloc.start()
    learner = MetricLearner(2, **settings).fit(X, y)
    embedding = learner.transform(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert embedding.shape == (n_rows, 2) and np.isfinite(embedding).all()
    assert peak < 40e6, peak  # the weights (1.6 MB) and the optimiser's state, never X dense
