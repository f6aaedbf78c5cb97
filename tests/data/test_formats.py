"""One reader per file format: its rules, and the same X and y whether read whole or in chunks."""

import numpy as np
import pytest

from losslab.data import formats, sources
from losslab.data.formats import csv as csv_format
from tests.data.files import write_labelled_files

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_labelled_files(tmp_path_factory.mktemp("formats"), n=3000)


def _streamed(path, target=None, chunk_rows=700):
    chunks = list(sources.open_source(path, target, chunk_rows).chunks())
    return np.concatenate([c.X for c in chunks]), np.concatenate([c.y for c in chunks]), chunks


@pytest.mark.parametrize("kind", ["csv", "npy", "parquet"])
@pytest.mark.parametrize("target", [None, 2, -3])
def test_a_file_read_whole_equals_the_file_streamed_in_chunks(files, kind, target):
    X, y, names = formats.read(files[kind], target)
    Xs, ys, _ = _streamed(files[kind], target)
    assert X.dtype == np.float64 and Xs.dtype == np.float32
    np.testing.assert_array_equal(X.astype(np.float32), Xs)
    np.testing.assert_array_equal(y, ys)
    assert y.dtype == ys.dtype and len(names) == X.shape[1] == 6


def test_the_label_column_rule(tmp_path):
    rule = formats.target_column
    assert [rule(t, None, 4, "f") for t in (None, 0, "2", -1)] == [3, 0, 2, 3]
    assert rule("b", ["a", "b", "c"], 3, "f") == 1
    assert rule("2", ["1", "2", "x"], 3, "f") == 1  # a column's name wins over an index
    with pytest.raises(ValueError, match="target: no column named 'label' in f"):
        rule("label", None, 3, "f")
    with pytest.raises(ValueError, match="target: column 3 out of range for 3 columns"):
        rule(3, ["a", "b", "c"], 3, "f")


@pytest.mark.parametrize(
    ("labels", "dtype", "values"),
    [
        (["1", "0", "2.0"], np.int64, [1, 0, 2]),
        (["1", "0.5", "2"], np.float64, [1.0, 0.5, 2.0]),
        (["cat", " dog ", "1"], np.str_, ["cat", "dog", "1"]),
    ],
)
def test_csv_labels_are_whole_numbers_numbers_or_text(tmp_path, labels, dtype, values):
    path = tmp_path / "d.csv"
    path.write_text("\n".join(f"{i},{v}" for i, v in enumerate(labels)))
    _, y, _ = csv_format.read(path)
    assert y.dtype.type is dtype and y.tolist() == values


@pytest.mark.parametrize("late", ["other", "0.5"])
def test_one_late_label_decides_every_chunk_of_a_csv(tmp_path, late):
    """A text (or fractional) label in the last chunk makes all labels text (floats), as in a whole read."""
    path = tmp_path / "late.csv"
    path.write_text("\n".join(["f,label", *(f"{i},{i % 3}" for i in range(40)), f"40,{late}"]))
    X, y, _ = csv_format.read(path)
    Xs, ys, chunks = _streamed(path, "label", chunk_rows=8)
    assert len(chunks) == 6 and {c.y.dtype.kind for c in chunks} == {y.dtype.kind}
    assert y.dtype.kind == ("U" if late == "other" else "f")
    np.testing.assert_array_equal(ys, y)
    np.testing.assert_array_equal(Xs, X.astype(np.float32))


@pytest.mark.parametrize(
    ("text", "target", "header", "column0"),
    [
        ("a,b,label\n1,2,0\n3,4,1\n", None, ["a", "b", "label"], [1.0, 3.0]),
        ("1,2,cat\n3,4,dog\n", None, None, [1.0, 3.0]),  # a text label alone makes no header
        ("cat,1,2\ndog,3,4\n", 0, None, [1.0, 3.0]),  # nor does a text label in front
        ("1,2,label\n3,4,0\n", "label", ["1", "2", "label"], [3.0]),  # the target's name does
    ],
)
def test_csv_header_detection(tmp_path, text, target, header, column0):
    path = tmp_path / "h.csv"
    path.write_text(text)
    source = sources.open_source(path, target)
    assert source.header == header
    X, _, names = csv_format.read(path, target)
    assert X[:, 0].tolist() == column0
    assert names == (
        [h for j, h in enumerate(header) if j != source.column] if header else ["x0", "x1"]
    )


def test_csv_errors_name_the_file_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(["a,b,label", *(f"{i},{i},0" for i in range(10)), "1,oops,0"]))
    with pytest.raises(ValueError, match=r"feature values must be numbers; row 12, b: 'oops'"):
        list(sources.open_source(path, chunk_rows=4).chunks())
    path.write_text("\n".join(["a,b,label", *(f"{i},{i},0" for i in range(10)), "1,2"]))
    with pytest.raises(ValueError, match="row 12 has 2 columns, expected 3"):
        list(sources.open_source(path, chunk_rows=4).chunks())
    path.write_text("\n\n")
    with pytest.raises(ValueError, match="the file is empty"):
        csv_format.read(path)
    path.write_text("1\n2\n")
    with pytest.raises(ValueError, match="expected at least 2 columns"):
        csv_format.read(path)


def test_npy_labels_are_found_by_index_only(tmp_path):
    np.save(tmp_path / "d.npy", np.arange(12.0).reshape(4, 3))
    X, y, names = formats.read(tmp_path / "d.npy", "0")
    assert X.tolist()[0] == [1.0, 2.0] and y.tolist() == [0.0, 3.0, 6.0, 9.0]
    assert names == ["x0", "x1"]
    with pytest.raises(ValueError, match="target: no column named 'label'"):
        formats.read(tmp_path / "d.npy", "label")
    np.save(tmp_path / "s.npy", np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="expected a numeric array"):
        formats.read(tmp_path / "s.npy")


def test_parquet_label_by_name_or_index_and_text_labels(tmp_path):
    path = tmp_path / "d.parquet"
    table = pa.table({"kind": ["cat", "dog", "cat"], "w": [1.0, 2.0, 3.0], "h": [4, 5, 6]})
    pq.write_table(table, path)
    for target in ("kind", 0, "-3"):
        X, y, names = formats.read(path, target)
        assert names == ["w", "h"] and X.tolist() == [[1, 4], [2, 5], [3, 6]]
        assert y.dtype.kind == "U" and y.tolist() == ["cat", "dog", "cat"]
    with pytest.raises(ValueError, match="feature values must be numbers; column 'kind'"):
        formats.read(path, "h")


def test_npz_refuses_a_target_it_has_no_column_for(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.arange(3))
    X, y, names = formats.read(tmp_path / "d.npz")
    assert X.shape == (3, 2) and y.tolist() == [0, 1, 2] and names == ["x0", "x1"]
    with pytest.raises(ValueError, match=r"target: .* holds the labels as their own array"):
        formats.read(tmp_path / "d.npz", "y")


def test_an_unknown_suffix_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"data: expected a \.csv, \.npy, \.parquet, \.npz file"):
        formats.read(tmp_path / "d.txt")
