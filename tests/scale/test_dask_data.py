"""Dask arrays of scipy.sparse chunks: read from svmlight, sharded as CSR, trained by every solver."""

import numpy as np
import pytest
import scipy.sparse as sp

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn.datasets import dump_svmlight_file  # noqa: E402

from losslab import LinearSVM, SoftmaxClassifier  # noqa: E402
from losslab import distributed as ld  # noqa: E402
from losslab.scale import dask_data, local_sgd  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    """3,000 rows over 2,000 sparse features (1 %), 3 classes, also written as svmlight."""
    rng = np.random.default_rng(0)
    X = sp.random(3000, 2000, density=0.01, format="csr", random_state=1, dtype=np.float32)
    y = np.asarray(X @ rng.standard_normal((2000, 3))).argmax(axis=1)
    path = tmp_path_factory.mktemp("sparse") / "d.svm"
    dump_svmlight_file(X, y, str(path), zero_based=True)
    return X, y, path


def test_read_makes_an_svmlight_file_a_dask_array_of_csr_chunks(client, problem):
    X, y, path = problem
    Xd, yd = ld.read(path, chunk_rows=700)
    assert Xd.chunks[0] == (700, 700, 700, 700, 200) and Xd.shape == X.shape
    assert isinstance(Xd._meta, sp.csr_matrix)
    block = Xd.blocks[1].compute()
    assert sp.issparse(block)
    np.testing.assert_array_equal(block.toarray(), X[700:1400].toarray())
    np.testing.assert_array_equal(yd.compute(), y)


def test_full_batch_lbfgs_on_csr_chunks_equals_the_in_memory_fit(client, problem):
    X, y, _ = problem
    X = X.astype(np.float64)  # float64 weights: agreement to 1e-6, beyond float32's precision
    Xd, yd = da.from_array(X, chunks=(700, -1), asarray=False), da.from_array(y, chunks=700)
    kw = {"solver": "lbfgs", "alpha": 1e-3, "tol": 1e-9, "max_iter": 300, "random_state": 0}
    local = SoftmaxClassifier(**kw).fit(X, y)
    dist = SoftmaxClassifier(**kw).fit(Xd, yd)
    assert dist.history_.converged
    np.testing.assert_allclose(dist.coef_, local.coef_, atol=1e-6)
    np.testing.assert_allclose(
        dist.history_.train_loss[:10], local.history_.train_loss[:10], rtol=1e-5
    )


def test_local_sgd_trains_the_hinge_on_csr_shards_and_predicts_chunk_by_chunk(client, problem):
    X, y, _ = problem
    Xd = da.from_array(X, chunks=(750, -1), asarray=False)  # CSR chunks made by Dask itself
    est = LinearSVM(random_state=0).fit(Xd, da.from_array(y, chunks=750))
    assert est.solver_ == "sgd"
    in_memory = LinearSVM(solver="sgd", random_state=0).fit(X, y).score(X, y)
    assert est.score(X, y) > in_memory - 0.05, (est.score(X, y), in_memory)
    np.testing.assert_array_equal(ld.predict(est, Xd).compute(), est.predict(X))


def test_a_csr_shard_stays_sparse_and_its_batches_are_csr(problem):
    X, y, _ = problem
    from losslab import losses

    shard = dask_data._make_shard(
        X[:500], y[:500], None, losses.get("softmax"), 3, np.arange(3), np.float64
    )
    assert sp.isspmatrix_csr(shard.X) and shard.X.dtype == np.float64
    batches = list(local_sgd._shard_batches([shard], 4, 64, np.random.default_rng(0)))
    assert all(sp.issparse(b) and b.shape == (64, 2000) for b, _, _ in batches)
    bad = X[:500].copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="X: expected finite values"):
        dask_data._make_shard(
            bad, y[:500], None, losses.get("softmax"), 3, np.arange(3), np.float64
        )
