"""Chunked sources, bounded shuffling and one-pass statistics (losslab.data.sources)."""

import numpy as np
import pytest

from losslab import datasets, stream
from tests.data.files import write_labelled_files

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_labelled_files(tmp_path_factory.mktemp("sources"))


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


def test_the_shuffle_buffer_keeps_text_labels_whole_when_later_ones_are_longer(tmp_path):
    path = tmp_path / "pets.csv"
    labels = ["cat"] * 40 + ["hippopotamus"] * 40  # the first chunks hold only the short label
    path.write_text("\n".join(["w,label", *(f"{i},{s}" for i, s in enumerate(labels))]))
    source = stream.open_source(path, target="label", chunk_rows=10)
    y = np.concatenate([y for _, y in stream.stream(source, 8, buffer_rows=16, seed=0)])
    assert sorted(y.tolist()) == sorted(labels)


def test_streaming_statistics_find_text_classes_in_every_chunk(tmp_path):
    path = tmp_path / "late.csv"
    rows = [f"{i},{i % 2}" for i in range(50)] + ["50,other"]  # one text label, in the last chunk
    path.write_text("\n".join(["f,label", *rows]))
    stats = stream.streaming_statistics(stream.open_source(path, target="label", chunk_rows=8))
    assert stats.classes.tolist() == ["0", "1", "other"] and stats.n_rows == 51


def test_datasets_stream_opens_a_path(files):
    batches = list(datasets.stream(files["parquet"], 500, buffer_rows=4000, seed=0))
    assert sum(len(y) for _, y in batches) == 12_000
    assert all(X.dtype == np.float32 and X.shape[1] == 6 for X, _ in batches)
    held = list(datasets.stream(files["npy"], 500, holdout_every=10, test=True, shuffle=False))
    assert sum(len(y) for _, y in held) == 1200


def _svmlight_file(path, rows=3000, width=5000, seed=0):
    """A sparse 3-class problem written as svmlight; (path, X CSR float32, y)."""
    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file

    X = sp.random(rows, width, density=0.004, format="csr", random_state=seed, dtype=np.float32)
    y = np.asarray(X @ np.random.default_rng(seed).standard_normal((width, 3))).argmax(axis=1)
    dump_svmlight_file(X, y, str(path), zero_based=True)
    return path, X, y


def test_a_sparse_source_streams_shuffled_csr_batches_holding_every_row_once(tmp_path):
    import scipy.sparse as sp

    path, X, y = _svmlight_file(tmp_path / "d.svm")
    source = stream.open_source(path, chunk_rows=700)
    info = {}
    batches = list(stream.stream(source, 256, buffer_rows=1000, seed=3, stats=info))
    assert all(sp.issparse(b) and b.dtype == np.float32 for b, _ in batches)
    assert [b.shape[0] for b, _ in batches[:-1]] == [256] * (len(batches) - 1)
    assert info["peak_buffer_rows"] <= 1000 + 700
    got = sp.vstack([b for b, _ in batches]).toarray()
    labels = np.concatenate([t for _, t in batches])
    order, expected = np.lexsort(got.T[::-1]), np.lexsort(X.toarray().T[::-1])
    np.testing.assert_array_equal(got[order], X.toarray()[expected])
    np.testing.assert_array_equal(labels[order], y[expected])
    held = list(stream.stream(source, 500, holdout_every=10, test=True, shuffle=False))
    assert sum(t.shape[0] for t, _ in held) == 300


def test_streaming_statistics_of_sparse_rows_leave_them_as_they_are(tmp_path):
    path, _, y = _svmlight_file(tmp_path / "d.svm")
    stats = stream.streaming_statistics(stream.open_source(path, chunk_rows=700), holdout_every=10)
    assert stats.n_rows == 2700 and stats.classes.tolist() == sorted(set(y.tolist()))
    assert not stats.mean.any() and np.all(stats.scale == 1.0) and len(stats.mean) == 5000
