import json
import time
import zipfile

import numpy as np
import pytest

from losslab import models
from losslab.estimators import LinearRegressor, MLPClassifier, SoftmaxClassifier, persist
from losslab.training import files


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    return X, SoftmaxClassifier(max_iter=5, tol=None, random_state=0).fit(X, y)


def test_estimator_round_trip_predicts_the_same(tmp_path, fitted):
    X, est = fitted
    persist.save(est, tmp_path / "m.npz")
    loaded = persist.load_model(tmp_path / "m.npz")
    assert type(loaded) is SoftmaxClassifier
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), est.predict_proba(X))
    assert loaded.get_params() == est.get_params()


def test_mlp_regressor_and_bare_model_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 2))
    mlp = MLPClassifier(hidden_layer_sizes=(5, 4), max_iter=2, tol=None, random_state=0).fit(
        X, X[:, 0] > 0
    )
    persist.save(mlp, tmp_path / "mlp.npz")
    np.testing.assert_array_equal(
        persist.load_model(tmp_path / "mlp.npz").predict(X), mlp.predict(X)
    )
    reg = LinearRegressor().fit(X, X @ [1.0, 2.0])
    persist.save(reg, tmp_path / "reg.npz")
    np.testing.assert_allclose(persist.load_model(tmp_path / "reg.npz").predict(X), reg.predict(X))
    bare = models.Linear(3, 2, random_state=0)
    persist.save(bare, tmp_path / "bare.npz")
    np.testing.assert_array_equal(
        persist.load_model(tmp_path / "bare.npz").params["W"], bare.params["W"]
    )


def test_truncated_file_is_a_clear_error(tmp_path, fitted):
    path = tmp_path / "m.npz"
    persist.save(fitted[1], path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable losslab file"):
        persist.load_model(path)


def test_foreign_npz_and_other_files_are_clear_errors(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, W=np.zeros(3))
    with pytest.raises(ValueError, match="not a losslab file"):
        persist.load_model(foreign)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a readable losslab file"):
        persist.load_model(text)
    with pytest.raises(ValueError, match="no such file"):
        persist.load_model(tmp_path / "missing.npz")


def test_a_pickled_payload_is_refused_not_executed(tmp_path):
    evil = tmp_path / "evil.npz"
    np.savez(
        evil,
        __header__=np.array('{"format": "losslab", "kind": "model"}'),
        W=np.array([object()], dtype=object),
    )
    with pytest.raises(ValueError, match="not a readable losslab file"):
        persist.load_model(evil)


def test_a_checkpoint_is_not_accepted_as_a_model(tmp_path):
    files.save_arrays(tmp_path / "c.npz", {"x": np.zeros(2)}, {"kind": "checkpoint"})
    with pytest.raises(ValueError, match="expected a losslab model file, got a 'checkpoint' file"):
        persist.load_model(tmp_path / "c.npz")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "report.txt"
    files.atomic_write_text(path, "old")

    def failing(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        files.atomic_write_bytes(path, failing)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]
    assert zipfile.is_zipfile(path) is False


def _rewrite_header(path, **changes):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays.pop("__header__")))
    header.update(changes)
    np.savez(path, __header__=np.array(json.dumps(header)), **arrays)


@pytest.mark.parametrize(
    "changes",
    [
        {"n_features": 5000, "n_outputs": 5000},
        {"n_features": 10**7, "n_outputs": 10**7},
        {"n_features": -3},
        {"n_outputs": True},
        {"model": "mlp", "hidden": [10**9]},
        {"hidden": "12"},
        {"dtype": "int64"},
    ],
)
def test_a_model_file_lying_about_its_sizes_is_refused_before_allocating(tmp_path, changes):
    path = tmp_path / "m.npz"
    persist.save(models.Linear(3, 2, random_state=0), path)
    _rewrite_header(path, **changes)
    started = time.perf_counter()
    with pytest.raises(ValueError, match="corrupt losslab model file"):
        persist.load_model(path)
    assert time.perf_counter() - started < 1.0  # was 2.2 s and 471 MB for 5000 x 5000


def test_a_model_file_whose_array_claims_a_huge_shape_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    persist.save(models.Linear(3, 2, random_state=0), path)
    with zipfile.ZipFile(path, "a") as archive, archive.open("param/huge.npy", "w") as f:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**7)}
        np.lib.format.write_array_header_1_0(f, header)
    with pytest.raises(ValueError, match="declares shape"):
        persist.load_model(path)


def half_squared(pred, y):
    """A user's own loss, at the top of a module: a saved model imports it again on load."""
    return 0.5 * (pred - y) ** 2, pred - y


def test_a_users_loss_is_saved_by_where_it_imports_from_and_a_lambda_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    est = LinearRegressor(loss=half_squared).fit(X, y)
    persist.save(est, tmp_path / "own.npz")
    back = persist.load_model(tmp_path / "own.npz")
    assert back.loss == f"{__name__}:half_squared"
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    lam = LinearRegressor(loss=lambda p, t: half_squared(p, t), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="loss: <lambda> cannot be saved"):
        persist.save(lam, tmp_path / "lambda.npz")
    assert not (tmp_path / "lambda.npz").exists()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_parameters_are_refused_and_nothing_is_written(tmp_path, bad):
    X = np.random.default_rng(1).standard_normal((30, 3))
    estimator = SoftmaxClassifier(max_iter=3, tol=None, random_state=0).fit(X, X[:, 0] > 0)
    estimator.model_.params["W"][0, 0] = bad
    path = tmp_path / "model.npz"
    with pytest.raises(ValueError, match="save: parameter W holds 1 non-finite values"):
        persist.save(estimator, path)
    assert not path.exists()
    with pytest.raises(ValueError, match="save: array extra holds 1 non-finite"):
        persist.save(models.Linear(2, 2), path, extra_arrays={"extra": np.array([1.0, bad])})
    assert not path.exists()
