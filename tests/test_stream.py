"""Out-of-core training: chunked sources, bounded shuffling, one-pass statistics, partial_fit."""

import json

import numpy as np
import pytest

from losslab import cli, stream
from losslab.estimators import SoftmaxClassifier

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(0)
    X = (3 * rng.standard_normal((12_000, 6)) + 1).astype(np.float32)
    y = (X @ rng.standard_normal((6, 4))).argmax(axis=1)
    arr = np.column_stack([X, y]).astype(np.float32)
    np.save(d / "data.npy", arr)
    pq.write_table(
        pa.table({**{f"x{i}": X[:, i] for i in range(6)}, "label": y}),
        d / "data.parquet",
        row_group_size=2000,
    )
    np.savetxt(
        d / "data.csv",
        arr,
        delimiter=",",
        header=",".join([*(f"x{i}" for i in range(6)), "label"]),
        comments="",
    )
    return {
        "X": X,
        "y": y,
        "npy": d / "data.npy",
        "parquet": d / "data.parquet",
        "csv": d / "data.csv",
    }


@pytest.mark.parametrize("kind", ["npy", "parquet", "csv"])
def test_every_row_once_per_epoch_shuffled_and_memory_bounded(files, kind):
    source = stream.open_source(files[kind], chunk_rows=2000)
    stats = {}
    batches = list(stream.stream(source, 256, buffer_rows=3000, seed=1, stats=stats))
    X = np.concatenate([b[0] for b in batches])
    assert len(X) == len(files["X"])
    assert all(len(b[0]) == 256 for b in batches[:-1])
    order = np.lexsort(X.T)
    np.testing.assert_allclose(X[order], files["X"][np.lexsort(files["X"].T)], rtol=1e-6)
    assert not np.allclose(X[:100], files["X"][:100])  # shuffled
    assert stats["peak_buffer_rows"] <= 3000 + 2000  # buffer + one chunk, never the file


def test_holdout_rows_are_disjoint_and_complete(files):
    source = stream.open_source(files["npy"], chunk_rows=2000)
    train = sum(len(y) for _, y in stream.stream(source, 500, holdout_every=10))
    test = sum(len(y) for _, y in stream.stream(source, 500, holdout_every=10, test=True))
    assert test == 1200 and train + test == 12_000


def test_streaming_statistics_equal_the_in_memory_ones(files):
    stats = stream.streaming_statistics(stream.open_source(files["parquet"]))
    np.testing.assert_allclose(stats.mean, files["X"].mean(axis=0, dtype=np.float64), rtol=1e-9)
    np.testing.assert_allclose(stats.scale, files["X"].std(axis=0, dtype=np.float64), rtol=1e-6)
    assert stats.classes.tolist() == [0, 1, 2, 3] and stats.n_rows == 12_000


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
        SoftmaxClassifier(lr=1e-2, max_iter=3, tol=None, random_state=0)
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


@pytest.mark.parametrize(
    ("name", "match"),
    [("data.txt", "streaming reads .npy, .parquet or .csv"), ("missing.npy", "no such file")],
)
def test_bad_sources_are_clear_errors(tmp_path, name, match):
    if name == "data.txt":
        (tmp_path / name).write_text("1,2\n")
    with pytest.raises(ValueError, match=match):
        stream.open_source(tmp_path / name)


def test_a_text_file_named_npy_is_a_clear_error(tmp_path):
    (tmp_path / "fake.npy").write_text("hello")
    with pytest.raises(ValueError, match=r"not a readable \.npy array"):
        stream.open_source(tmp_path / "fake.npy")


@pytest.mark.parametrize("target", [0, 3, -1, None])
def test_any_npy_column_can_be_the_label(tmp_path, target):
    rng = np.random.default_rng(1)
    arr = rng.standard_normal((700, 5)).astype(np.float32)
    np.save(tmp_path / "d.npy", arr)
    col = 4 if target is None else target % 5
    chunks = list(stream.open_source(tmp_path / "d.npy", target=target, chunk_rows=300).chunks())
    assert [len(c.X) for c in chunks] == [300, 300, 100]
    X = np.concatenate([c.X for c in chunks])
    assert X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, np.delete(arr, col, axis=1))
    np.testing.assert_array_equal(np.concatenate([c.y for c in chunks]), arr[:, col])


def test_the_shuffle_buffer_keeps_the_rows_and_their_labels_together(files):
    source = stream.open_source(files["npy"], chunk_rows=1000)
    Xs, ys = zip(*stream.stream(source, 64, buffer_rows=2500, seed=3), strict=True)
    X, y = np.concatenate(Xs), np.concatenate(ys)
    order = np.lexsort(X.T[::-1])
    expected = np.lexsort(files["X"].T[::-1])
    np.testing.assert_array_equal(X[order], files["X"][expected])
    np.testing.assert_array_equal(y[order], files["y"][expected])
    assert not np.array_equal(X, files["X"])  # shuffled


def test_datasets_stream_opens_a_path(files):
    from losslab import datasets

    batches = list(datasets.stream(files["parquet"], 500, buffer_rows=4000, seed=0))
    assert sum(len(y) for _, y in batches) == 12_000
    assert all(X.dtype == np.float32 and X.shape[1] == 6 for X, _ in batches)
    held = list(datasets.stream(files["npy"], 500, holdout_every=10, test=True, shuffle=False))
    assert sum(len(y) for _, y in held) == 1200
