"""Out-of-core training: partial_fit on streamed batches, by the library and by the command line."""

import json

import numpy as np
import pytest

from losslab import cli, datasets, stream
from losslab.estimators import SoftmaxClassifier, persist
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
