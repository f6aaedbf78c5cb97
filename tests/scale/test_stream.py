"""Out-of-core training: partial_fit on streamed batches, by the library and by the command line."""

import json

import numpy as np
import pytest

from losslab import cli, datasets, stream
from losslab.estimators import LinearClassifier, SoftmaxClassifier, persist
from losslab.scale.stream import standardized
from tests.data.files import write_labelled_files

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_labelled_files(tmp_path_factory.mktemp("stream"))


def test_streamed_training_is_within_half_a_point_of_in_memory_training(files):
    source = stream.open_source(files["npy"], chunk_rows=2000)
    est, stats = stream.fit_stream(
        SoftmaxClassifier(lr=1e-2, random_state=0), source, epochs=3, holdout_every=10
    )
    streamed = stream.score_stream(est, source, stats, holdout_every=10)
    X, y = files["X"], files["y"]
    test = np.arange(len(y)) % 10 == 0
    Xs = (X - X[~test].mean(axis=0)) / X[~test].std(axis=0)
    in_memory = (
        SoftmaxClassifier(solver="sgd", lr=1e-2, max_iter=3, tol=None, random_state=0)
        .fit(Xs[~test], y[~test])
        .score(Xs[test], y[test])
    )
    assert abs(streamed - in_memory) <= 0.005, (streamed, in_memory)


def test_train_stream_command(files, tmp_path, capsys):
    assert (
        cli.main(
            [
                "train",
                "--stream",
                "--data",
                str(files["parquet"]),
                "--epochs",
                "2",
                "--json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["rows_trained"] == 10_800 and metrics["test_accuracy"] > 0.9
    assert (tmp_path / "model.npz").exists()


def _two_class_csv(path, labels):
    """weight,label,height rows whose label is ``labels[0]`` when weight > height, else ``labels[1]``."""
    rng = np.random.default_rng(5)
    w, h = rng.standard_normal((2, 2000))
    rows = [
        f"{a:.6f},{labels[0] if a > b else labels[1]},{b:.6f}" for a, b in zip(w, h, strict=True)
    ]
    path.write_text("\n".join(["weight,label,height", *rows]) + "\n")
    return path


@pytest.mark.parametrize(
    ("labels", "target"), [(("cat", "dog"), "label"), ((1, 0), "label"), ((1, 0), "1")]
)
def test_train_stream_reads_a_csv_label_column_by_name_or_index(tmp_path, capsys, labels, target):
    """The command of the issue: `train --stream --data x.csv --target label`, text or numeric labels."""
    path = _two_class_csv(tmp_path / "x.csv", labels)
    args = ["train", "--stream", "--data", str(path), "--target", target, "--epochs", "10"]
    assert cli.main([*args, "--json", "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["rows_trained"] == 1800 and metrics["test_accuracy"] > 0.9
    model = persist.load_model(tmp_path / "run" / "model.npz")
    in_memory = datasets.load(str(path), target=target)
    assert model.classes_.tolist() == in_memory.class_names == sorted(labels)


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e308])
def test_streaming_names_the_first_row_that_is_not_finite_in_float32(tmp_path, bad):
    X = np.ones((40, 3))
    X[::3, 0] = 2.0
    X[12, 2] = bad
    path = tmp_path / "bad.csv"
    np.savetxt(path, np.c_[X, np.arange(40) % 2], delimiter=",", fmt="%.17g")
    source = datasets.sources.open_source(path)
    with pytest.raises(ValueError, match="data row 13 holds NaN or infinity"):
        datasets.sources.streaming_statistics(source, holdout_every=10)


def _sparse_problem(path, rows=6000, width=200_000, seed=0):
    """A 3-class problem on 200,000 sparse features (20 a row, one of 30 informative), as svmlight."""
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(seed)
    cols = np.sort(rng.integers(30, width, (rows, 20)), axis=1)
    cols[:, 0] = rng.integers(0, 30, rows)  # one informative feature a row
    X = sp.csr_matrix(
        (rng.random(rows * 20), cols.ravel(), np.arange(0, rows * 20 + 1, 20)), (rows, width)
    )
    X.sum_duplicates()
    y = np.asarray(X[:, :30] @ rng.standard_normal((30, 3))).argmax(axis=1)
    dump_svmlight_file(X, y, str(path), zero_based=True)
    return X, y


def test_streaming_an_svmlight_file_never_densifies_a_batch(tmp_path):
    import tracemalloc

    X, _ = _sparse_problem(tmp_path / "d.svm")
    source = stream.open_source(tmp_path / "d.svm", chunk_rows=1000)
    tracemalloc.start()
    stream.fit_stream(SoftmaxClassifier(random_state=0), source, batch_size=1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    dense_batch = 1024 * X.shape[1] * 4  # one float32 batch of 200,000 columns: 819 MB
    # what remains is of the size of the weights (200,000 x 3): the model, Adam's moments, a gradient
    assert peak < dense_batch / 8, (peak, dense_batch)


def test_streamed_sparse_training_is_within_three_points_of_in_memory_training(tmp_path):
    X, y = _sparse_problem(tmp_path / "d.svm")
    source = stream.open_source(tmp_path / "d.svm", chunk_rows=1000)
    estimator = SoftmaxClassifier(lr=1e-2, random_state=0)
    est, stats = stream.fit_stream(estimator, source, epochs=10, batch_size=256, holdout_every=10)
    streamed = stream.score_stream(est, source, stats, holdout_every=10)
    test = np.arange(len(y)) % 10 == 0
    # partial_fit steps through each streamed batch of 256 in the estimator's batches of 64
    in_memory = (
        SoftmaxClassifier(solver="sgd", lr=1e-2, max_iter=10, tol=None, random_state=0)
        .fit(X[~test], y[~test])
        .score(X[test], y[test])
    )
    assert streamed > 0.8 and abs(streamed - in_memory) <= 0.03, (streamed, in_memory)


def _noisy_problem(path, n_rows=400, n_classes=2, seed=0):
    """Noisy linear classes on 4 features, saved as .npy (features, then the label)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, 4))
    scores = X @ rng.standard_normal((4, n_classes)) + 0.3 * rng.standard_normal(
        (n_rows, n_classes)
    )
    y = scores.argmax(axis=1).astype(float)
    np.save(path, np.c_[X, y])
    return X, y


def _training_rows(X, y, stats, holdout_every=10):
    """The rows fit_stream trains on, standardised as it does."""
    train = np.arange(len(y)) % holdout_every != 0
    return standardized(X[train], stats), y[train]


@pytest.mark.parametrize(
    ("loss", "n_classes", "auto"),
    [("softmax", 3, "1 / (2 n)"), ("softmax", 2, "1 / n"), ("hinge", 2, "1 / (2 n)")],
)
@pytest.mark.parametrize("epochs", [1, 3])
def test_the_auto_penalty_of_a_streamed_fit_counts_each_row_once(
    tmp_path, loss, n_classes, auto, epochs
):
    # 360 training rows: "auto" is fit's on them after any number of passes (two columns of a
    # multiclass loss on two classes double it), not 1 / (2 · epochs · 360)
    X, y = _noisy_problem(tmp_path / "d.npy", n_classes=n_classes)
    source = stream.open_source(tmp_path / "d.npy", chunk_rows=100)
    est, stats = stream.fit_stream(
        LinearClassifier(loss, random_state=0), source, epochs=epochs, holdout_every=10
    )
    Xs, ys = _training_rows(X, y, stats)
    in_memory = LinearClassifier(loss, solver="lbfgs").fit(Xs, ys)
    assert stats.n_rows == 360
    assert est.alpha_ == in_memory.alpha_ == {"1 / (2 n)": 1 / 720, "1 / n": 1 / 360}[auto]
    assert est.get_params()["alpha"] == "auto"  # the parameter as the user set it


@pytest.mark.parametrize("epochs", [1, 3])
def test_the_auto_penalty_of_a_streamed_fit_counts_class_weights_once(tmp_path, epochs):
    # the rows weigh 2 (class 0) and 0.5 (class 1): n is their weight total, as fit's
    X, y = _noisy_problem(tmp_path / "d.npy", n_classes=3)
    source = stream.open_source(tmp_path / "d.npy", chunk_rows=100)
    weights = {0: 2.0, 1: 0.5}
    est, stats = stream.fit_stream(
        SoftmaxClassifier(class_weight=weights, random_state=0),
        source,
        epochs=epochs,
        holdout_every=10,
    )
    Xs, ys = _training_rows(X, y, stats)
    in_memory = SoftmaxClassifier(class_weight=weights, solver="lbfgs").fit(Xs, ys)
    total = 2.0 * np.sum(ys == 0) + 0.5 * np.sum(ys == 1) + np.sum(ys == 2)
    assert total != stats.n_rows
    assert est.alpha_ == in_memory.alpha_ == 1 / (2 * total)


def test_a_long_streamed_run_approaches_the_in_memory_minimum_of_the_same_objective(tmp_path):
    # 400 noisy rows: the penalty of 400 rows and that of 200 passes of them have far apart minima
    X, y = _noisy_problem(tmp_path / "d.npy")
    source = stream.open_source(tmp_path / "d.npy", chunk_rows=100)
    epochs = 200
    est, stats = stream.fit_stream(
        SoftmaxClassifier(lr=1e-2, random_state=0), source, epochs=epochs
    )
    Xs = standardized(X, stats)
    exact = SoftmaxClassifier(solver="lbfgs", tol=1e-12, max_iter=5000).fit(Xs, y)
    weaker = SoftmaxClassifier(
        solver="lbfgs", alpha=exact.alpha_ / epochs, tol=1e-12, max_iter=5000
    )
    weaker.fit(Xs, y)

    def distance(reference):
        return np.linalg.norm(est.coef_ - reference.coef_) / np.linalg.norm(reference.coef_)

    assert distance(exact) < 0.05 and distance(weaker) > 0.3, (distance(exact), distance(weaker))


@pytest.mark.parametrize("where", ["callback", "partial_fit"])
def test_a_streamed_fit_that_raises_midway_leaves_alpha_auto(tmp_path, monkeypatch, where):
    # fit_stream sets alpha to one pass's strength while it trains; an error must not leave it so
    _noisy_problem(tmp_path / "d.npy")
    source = stream.open_source(tmp_path / "d.npy", chunk_rows=100)
    est = SoftmaxClassifier(random_state=0)
    alpha_when_raised = []

    def stop(*args, **kwargs):
        alpha_when_raised.append(est.get_params()["alpha"])
        raise RuntimeError("stopped midway")

    if where == "partial_fit":  # the first batch trains, the second raises
        calls = []
        train = est.partial_fit

        def partial_fit(*args, **kwargs):
            calls.append(1)
            return train(*args, **kwargs) if len(calls) == 1 else stop()

        monkeypatch.setattr(est, "partial_fit", partial_fit)
    with pytest.raises(RuntimeError, match="stopped midway"):
        stream.fit_stream(est, source, epochs=2, callback=stop if where == "callback" else None)
    # raised while training at one pass's strength: 400 rows; two classes' softmax columns, 1 / n
    assert alpha_when_raised == [1 / 400]
    assert est.get_params()["alpha"] == "auto"
