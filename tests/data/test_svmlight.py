"""svmlight/libsvm files: the CSR read equals scikit-learn's load_svmlight_file; chunks; clear errors."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from losslab.data import formats, sources
from losslab.data.formats import SvmlightSource, read_svmlight


def _problem(rows=500, width=300, density=0.05, seed=0):
    X = sp.random(rows, width, density=density, format="csr", random_state=seed)
    y = np.random.default_rng(seed).integers(0, 4, rows)
    return X, y


def _assert_same_csr(A, B):
    assert A.shape == B.shape
    A, B = sp.csr_matrix(A), sp.csr_matrix(B)
    np.testing.assert_array_equal(A.indptr, B.indptr)
    np.testing.assert_array_equal(A.indices, B.indices)
    np.testing.assert_array_equal(A.data, B.data)


@pytest.mark.parametrize("zero_based", [True, False])
def test_the_csr_read_equals_scikit_learns(tmp_path, zero_based):
    X, y = _problem()
    path = tmp_path / "d.svm"
    dump_svmlight_file(X, y, str(path), zero_based=zero_based, comment="written by scikit-learn")
    A, labels, names = read_svmlight(path)
    B, expected = load_svmlight_file(str(path))
    _assert_same_csr(A, B)
    np.testing.assert_array_equal(labels, expected)
    assert labels.dtype == np.int64 and A.dtype == np.float64 and len(names) == B.shape[1]


def test_comments_blank_lines_qid_and_signs_read_as_scikit_learn_does(tmp_path):
    path = tmp_path / "d.libsvm"
    path.write_text(
        "# a header comment\n+1 qid:3 1:0.5 7:-2e-3  # trailing\n\n-1 qid:3 2:1.5\n"
        "0.25 3:0 4:4\n\t-1\t1:1\t5:2\n"
    )
    A, labels, _ = read_svmlight(path)
    B, expected = load_svmlight_file(str(path))
    _assert_same_csr(A, B)  # the explicit zero (3:0) is stored by both
    np.testing.assert_array_equal(labels, expected)
    assert labels.dtype == np.float64  # 0.25 is not whole: every label is float64


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(1, 40),
    width=st.integers(1, 30),
    density=st.floats(0.0, 1.0),
    zero_based=st.booleans(),
    chunk_rows=st.integers(1, 50),
    seed=st.integers(0, 1000),
)
def test_any_file_read_whole_or_in_chunks_in_any_order_equals_scikit_learns(
    tmp_path, rows, width, density, zero_based, chunk_rows, seed
):
    X, y = _problem(rows, width, density, seed)
    X.data = np.round(X.data * 1000 - 500, 3)  # signs, and values that print exactly
    path = tmp_path / f"h{seed}_{rows}_{width}.svm"
    dump_svmlight_file(X, y, str(path), zero_based=zero_based)
    B, expected = load_svmlight_file(str(path))
    A, labels, _ = read_svmlight(path)
    _assert_same_csr(A, B)
    np.testing.assert_array_equal(labels, expected)
    source = SvmlightSource(path, chunk_rows=chunk_rows, dtype=np.float64)
    assert sum(source.chunk_sizes()) == rows
    order = np.random.default_rng(seed).permutation(source.n_chunks())
    for chunk in source.chunks(order):
        _assert_same_csr(chunk.X, B[chunk.index])
        np.testing.assert_array_equal(chunk.y, expected[chunk.index])


def test_streamed_chunks_are_float32_csr_and_join_to_the_whole_file(tmp_path):
    X, y = _problem(1000)
    path = tmp_path / "d.svm"
    dump_svmlight_file(X, y, str(path))
    source = sources.open_source(path, chunk_rows=300)
    chunks = list(source.chunks())
    assert [c.X.shape[0] for c in chunks] == [300, 300, 300, 100]
    assert all(sp.issparse(c.X) and c.X.dtype == np.float32 for c in chunks)
    whole, labels = source.read()
    B, _ = load_svmlight_file(str(path), dtype=np.float32)
    _assert_same_csr(whole, B)
    np.testing.assert_array_equal(labels, y)


def test_n_features_given_and_the_index_base_stated(tmp_path):
    path = tmp_path / "d.svm"
    path.write_text("1 1:1 3:2\n0 2:5\n")  # 1-based by the auto rule: 3 features
    assert read_svmlight(path)[0].shape == (2, 3)
    A = read_svmlight(path, n_features=10)[0]
    _assert_same_csr(A, load_svmlight_file(str(path), n_features=10)[0])
    A = read_svmlight(path, zero_based=True)[0]
    _assert_same_csr(A, load_svmlight_file(str(path), zero_based=True)[0])
    with pytest.raises(
        ValueError, match=r"n_features: 2 given, but line 1 .* holds feature index 3"
    ):
        read_svmlight(path, n_features=2)
    path.write_text("1 0:1 3:2\n0 2:5\n")
    assert read_svmlight(path)[0].shape == (2, 4)  # index 0 present: 0-based
    with pytest.raises(ValueError, match="line 1 holds index 0, but zero_based=False"):
        read_svmlight(path, zero_based=False)
    with pytest.raises(ValueError, match="zero_based: expected True, False or 'auto'"):
        read_svmlight(path, zero_based="yes")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "1 1:2\n\n# c\n2 3:1 2:5\n",
            r"line 4: indices must increase along a line; '2:5' follows index 3",
        ),
        ("1 1:2 1:3\n", "line 1: indices must increase"),
        ("1 1:2\n1,2 3:4\n", r"line 2: multilabel lines \(1,2\) are not read"),
        ("1 1:2\nx 1:2\n", "line 2: the label 'x' is not a finite number"),
        ("nan 1:2\n", "line 1: the label 'nan' is not a finite number"),
        ("1 1:abc\n", "line 1: the value in '1:abc' is not a finite number"),
        ("1 1:2\n1 2:inf\n", "line 2: the value in '2:inf' is not a finite number"),
        ("1 1:2:3\n", "line 1: expected index:value, got '1:2:3'"),
        ("1 5\n", "line 1: expected index:value, got '5'"),
        ("1 -1:2\n", "line 1: the index in '-1:2' is not a non-negative integer"),
        ("1 1.5:2\n", "line 1: the index in '1.5:2' is not a non-negative integer"),
        ("1 1: 2\n", "line 1: the value in '1:' is not a finite number"),
        ("1 1:1e40\n", r"line 1: the value 1e\+40 is beyond float32"),
        ("\n# only a comment\n", "no data lines"),
    ],
)
def test_a_malformed_line_is_a_one_line_error_naming_it(tmp_path, text, message):
    path = tmp_path / "bad.svm"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        SvmlightSource(path, chunk_rows=1).read()  # float32, one line a chunk
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_label_column_is_refused_and_the_format_is_registered(tmp_path):
    path = tmp_path / "d.svmlight"
    path.write_text("1 1:2\n")
    with pytest.raises(ValueError, match="target: an svmlight file's label is the first field"):
        read_svmlight(path, target=0)
    for suffix in (".svm", ".svmlight", ".libsvm", ".SVM"):
        assert sources.is_sparse_file("x" + suffix)
        assert formats.SOURCES[suffix.lower()] is SvmlightSource
    assert not sources.is_sparse_file("x.csv")
    assert isinstance(sources.open_source(path), SvmlightSource)


def test_a_chunk_parsed_in_pieces_equals_scikit_learns_and_errors_name_later_lines(
    tmp_path, monkeypatch
):
    from losslab.data.formats import svmlight

    monkeypatch.setattr(svmlight, "PARSE_ROWS", 7)  # a chunk of 100 rows parsed 7 rows at a time
    X, y = _problem(250, 40, 0.2, seed=4)
    path = tmp_path / "d.svm"
    dump_svmlight_file(X, y, str(path))
    B, expected = load_svmlight_file(str(path))
    for chunk in SvmlightSource(path, chunk_rows=100, dtype=np.float64).chunks([2, 0, 1]):
        _assert_same_csr(chunk.X, B[chunk.index])
        np.testing.assert_array_equal(chunk.y, expected[chunk.index])
    lines = path.read_text().splitlines()
    lines[60] = "1 3:1 2:1"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 61: indices must increase"):
        SvmlightSource(path, chunk_rows=100)


def test_loading_an_svmlight_file_as_a_dense_dataset_points_to_the_sparse_readers(tmp_path):
    from losslab import data

    path = tmp_path / "d.svm"
    path.write_text("1 1:2\n0 2:1\n1 1:1\n")
    with pytest.raises(
        ValueError, match=r"d\.svm is sparse \(svmlight\); read it with .*read_svmlight"
    ):
        data.load(path)
