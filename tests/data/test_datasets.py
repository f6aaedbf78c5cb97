import pickle

import numpy as np
import pytest

from losslab import datasets


@pytest.mark.parametrize("name", datasets.available())
def test_every_named_dataset_loads_split_and_standardised_on_train(name):
    ds = datasets.load(name, random_state=0)
    assert ds.n_classes >= 2
    assert len(ds.X_train) > len(ds.X_test) > 0
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-9)
    assert set(np.unique(ds.y_train)) == set(range(ds.n_classes))
    total = len(ds.X_train) + len(ds.X_val) + len(ds.X_test)
    assert len(ds.X_test) == pytest.approx(0.2 * total, abs=2)


def test_splits_are_deterministic_and_depend_on_the_seed():
    a, b, c = (datasets.load("iris", random_state=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)


def test_standardisation_uses_training_statistics_only():
    ds = datasets.load("wine", random_state=0)
    raw = datasets.load("wine", random_state=0, standardize=False)
    np.testing.assert_allclose(ds.mean, raw.X_train.mean(axis=0))
    np.testing.assert_allclose(ds.X_test, (raw.X_test - ds.mean) / ds.scale)


def test_generated_datasets_depend_on_the_seed():
    X0, _ = datasets.generate("spiral", random_state=0)
    X1, _ = datasets.generate("spiral", random_state=1)
    assert not np.array_equal(X0, X1)


def test_csv_with_header_string_labels_and_a_chosen_target_column(tmp_path):
    path = tmp_path / "animals.csv"
    rows = ["weight,label,height"] + [f"{i},{'cat' if i % 2 else 'dog'},{i * 2}" for i in range(30)]
    path.write_text("\n".join(rows))
    ds = datasets.load(str(path), target="label")
    assert ds.class_names == ["cat", "dog"]
    assert ds.feature_names == ["weight", "height"]
    ds_idx = datasets.load(str(path), target=1)
    assert ds_idx.n_features == 2


def test_csv_without_header_uses_the_last_column(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("\n".join(f"{i},{i % 3}" for i in range(30)))
    ds = datasets.load(str(path))
    assert ds.n_classes == 3 and ds.n_features == 1


def test_npz_is_read_without_pickle(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, X=np.random.default_rng(0).standard_normal((30, 2)), y=np.arange(30) % 2)
    assert datasets.load(str(good)).n_classes == 2
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.array([object()], dtype=object), y=np.arange(1))
    with pytest.raises(ValueError, match="only numeric arrays are read"):
        datasets.load(str(bad))


def test_cifar10_directory_is_read_with_a_restricted_unpickler(tmp_path):
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, 4)],
        }
        (tmp_path / name).write_bytes(pickle.dumps(batch))
    X, y = datasets.load_cifar10(tmp_path)
    assert X.shape == (24, 3072) and y.shape == (24,)
    (tmp_path / "test_batch").write_bytes(
        pickle.dumps({b"data": print})
    )  # a global other than numpy's
    with pytest.raises(ValueError, match=r"refusing to load builtins\.print"):
        datasets.load_cifar10(tmp_path)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("mnist", "data: expected one of iris, digits"),
        ("/nonexistent/file.csv", "cannot read"),
        ("cifar10:/nonexistent", "expected data_batch_1..5"),
    ],
)
def test_unknown_or_unreadable_data_is_a_clear_error(name, match):
    with pytest.raises(ValueError, match=match):
        datasets.load(name)


def test_ragged_or_non_numeric_csv_is_a_clear_error(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("1,2,0\n3,1\n")
    with pytest.raises(ValueError, match="row 2 has 2 columns, expected 3"):
        datasets.load(str(ragged))
    words = tmp_path / "words.csv"
    words.write_text("a,b,label\n1,x,0\n2,y,1\n3,z,0\n")
    with pytest.raises(ValueError, match="feature values must be numbers"):
        datasets.load(str(words))


@pytest.mark.parametrize("suffix", [".npy", ".parquet"])
def test_npy_and_parquet_files_load_like_csv(tmp_path, suffix):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = np.arange(60) % 3
    csv_path = tmp_path / "d.csv"
    np.savetxt(csv_path, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    path = tmp_path / f"d{suffix}"
    if suffix == ".npy":
        np.save(path, np.column_stack([X, y]))
    else:
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        pq.write_table(pa.table({"x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2], "y": y}), path)
    ds, ref = datasets.load(str(path)), datasets.load(str(csv_path))
    np.testing.assert_array_equal(ds.X_train, ref.X_train)
    np.testing.assert_array_equal(ds.y_test, ref.y_test)
    assert ds.class_names == ref.class_names == [0, 1, 2] and ds.n_features == 3


def test_csv_label_in_front_without_header_keeps_its_first_row(tmp_path):
    path = tmp_path / "front.csv"
    path.write_text("\n".join(f"{'ab'[i % 2]},{i},{i * 2}" for i in range(30)))
    ds = datasets.load(str(path), target=0, val_size=0)
    assert len(ds.X_train) + len(ds.X_test) == 30 and ds.class_names == ["a", "b"]


def test_read_xy_takes_x_from_the_first_column_and_y_from_the_target(tmp_path):
    path = tmp_path / "xy.csv"
    path.write_text("t,h,note\n0,1.5,3\n1,2.5,4\n")
    x, y = datasets.read_xy(path, target="h")
    assert x.tolist() == [0.0, 1.0] and y.tolist() == [1.5, 2.5]
    x, y = datasets.read_xy(path)
    assert y.tolist() == [3.0, 4.0] and y.dtype == np.float64


def test_features_near_the_float64_limit_are_standardised_not_overflowed(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 1.0, (60, 3))
    X[:, 0] *= 1e308
    X[:, 2] = 1e308  # constant
    path = tmp_path / "huge.npz"
    np.savez(path, X=X, y=np.arange(60) % 2)
    ds = datasets.load(path, val_size=0.0)
    assert np.isfinite(ds.X_train).all() and np.isfinite(ds.X_test).all()
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train[:, :2].std(axis=0), 1, rtol=1e-12)
    assert np.all(ds.X_train[:, 2] == 0) and ds.scale[2] == 1.0
    assert np.isfinite(ds.mean).all() and np.isfinite(ds.scale).all()
    # the same rule as ordinary data: the statistics are those of X / 1e308, scaled back
    small = datasets.load(_npz(tmp_path / "small.npz", X / 1e308), val_size=0.0)
    np.testing.assert_allclose(ds.X_train[:, 0], small.X_train[:, 0], rtol=1e-9, atol=1e-12)


def _npz(path, X):
    np.savez(path, X=X, y=np.arange(len(X)) % 2)
    return path


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.ones((20, 3)) * (1 + 1j), "X holds complex numbers"),
        (np.ones((20, 0)), "at least 1 feature column"),
        (np.array(["a"] * 20).reshape(20, 1), "expected numbers"),
    ],
)
def test_npz_with_complex_text_or_no_features_is_refused(tmp_path, X, match):
    with pytest.raises(ValueError, match=match):
        datasets.load(_npz(tmp_path / "bad.npz", X))


def test_read_xy_names_the_row_holding_infinity(tmp_path):
    path = tmp_path / "xy.csv"
    path.write_text("x,y\n1,2\n2,3\ninf,4\n")
    with pytest.raises(ValueError, match="x of data row 3 is inf"):
        datasets.read_xy(path)
    path.write_text("x,y\n1,2\n2,nan\n")
    with pytest.raises(ValueError, match="y of data row 2 is nan"):
        datasets.read_xy(path)


def test_split_rows_keeps_sparse_rows_sparse_and_refuses_files_too_small_to_split():
    import scipy.sparse as sp

    from losslab.data.datasets import split_rows

    X = sp.random(50, 30, density=0.1, format="csr", random_state=0)
    y = np.arange(50) % 2
    X_train, y_train, X_test, y_test = split_rows(X, y, test_size=0.2, random_state=0, source="a")
    assert sp.issparse(X_train) and X_train.shape == (40, 30) and X_test.shape == (10, 30)
    assert set(y_train) == set(y_test) == {0, 1}  # stratified
    with pytest.raises(ValueError, match=r"too few rows per class.*at least 6 rows"):
        split_rows(X[:4], y[:4], test_size=0.2, random_state=0, source="tiny.svm")
    with pytest.raises(ValueError, match="expected at least 2 classes"):
        split_rows(X, np.zeros(50), test_size=0.2, random_state=0, source="a")
