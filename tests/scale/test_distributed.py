"""Distributed training on a real Dask cluster: two worker processes on this machine."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn.datasets import make_classification, make_regression  # noqa: E402

from losslab import (  # noqa: E402
    LinearClassifier,
    LinearRegressor,
    MLPClassifier,
    SoftmaxClassifier,
    losses,
    models,
)
from losslab import distributed as ld  # noqa: E402
from losslab.cli import main  # noqa: E402
from losslab.training import fit_full_batch  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",  # a test cluster listens on this machine only
        dashboard_address=None,
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def problem():
    X, y = make_classification(
        4000, 12, n_informative=8, n_classes=3, class_sep=1.5, random_state=0
    )
    return X[:3000], y[:3000], X[3000:], y[3000:]


def chunked(*arrays, rows=500):
    return [da.from_array(a, chunks=(rows,) + (-1,) * (a.ndim - 1)) for a in arrays]


def full_batch(solver="lbfgs", **kw):
    return SoftmaxClassifier(
        solver=solver, alpha=1e-3, tol=1e-9, max_iter=kw.pop("max_iter", 300), random_state=0, **kw
    )


def test_full_batch_lbfgs_equals_single_process(client, problem):
    X, y, _, _ = problem
    local = full_batch().fit(X, y)
    dist = full_batch().fit(*chunked(X, y))
    assert dist.history_.converged
    np.testing.assert_allclose(dist.coef_, local.coef_, atol=1e-6)
    np.testing.assert_allclose(dist.intercept_, local.intercept_, atol=1e-6)
    # the same objective values at every iteration, summed from 6 chunks on 2 workers
    np.testing.assert_allclose(dist.history_.train_loss[:20], local.history_.train_loss[:20])


def test_an_l1_penalty_trains_by_owlqn_on_dask_as_in_memory(client, problem):
    X, y, _, _ = problem
    options = {"penalty": "l1", "alpha": 1e-2, "tol": 1e-7, "max_iter": 1000, "random_state": 0}
    local = SoftmaxClassifier(**options).fit(X, y)
    dist = SoftmaxClassifier(**options).fit(*chunked(X, y))
    assert dist.solver_ == local.solver_ == "lbfgs" and dist.history_.converged
    np.testing.assert_allclose(dist.coef_, local.coef_, atol=1e-6)
    assert np.array_equal(dist.coef_ == 0, local.coef_ == 0)  # the same exact zeros


def test_early_stopping_is_refused_on_dask(client, problem):
    X, y, _, _ = problem  # local SGD holds no rows out: there would be nothing to monitor
    for estimator in (SoftmaxClassifier(early_stopping=True), LinearRegressor(early_stopping=True)):
        with pytest.raises(ValueError, match=r"^early_stopping: holds out rows of data in memory"):
            estimator.fit(*chunked(X, y.astype(float)))
    # clipping is a step of local SGD: a regressor's "auto" trains by it then, as a classifier's
    clipped = LinearRegressor(clip_grad_norm=1.0, max_iter=1).fit(*chunked(X, y.astype(float)))
    assert clipped.solver_ == "sgd"


def test_full_batch_gradient_descent_equals_single_process(client, problem):
    X, y, _, _ = problem
    local = full_batch("gd", max_iter=40).fit(X, y)
    dist = full_batch("gd", max_iter=40).fit(*chunked(X, y))
    np.testing.assert_allclose(dist.coef_, local.coef_, atol=1e-6)
    assert dist.history_.train_loss[-1] < dist.history_.train_loss[0]


def test_weights_and_class_weight_are_summed_like_in_memory(client, problem):
    X, y, _, _ = problem
    w = np.random.default_rng(1).uniform(0.1, 2.0, len(X))
    kw = {"class_weight": "balanced"}
    local = full_batch(**kw).fit(X[:2500], y[:2500], sample_weight=w[:2500])
    dist = full_batch(**kw).fit(*chunked(X[:2500], y[:2500]), sample_weight=da.from_array(w[:2500]))
    np.testing.assert_allclose(dist.coef_, local.coef_, atol=1e-6)


def test_binary_one_vs_rest_and_float32(client, problem):
    X, y, _, _ = problem
    X32 = X.astype(np.float32)
    local = LinearClassifier("logistic", solver="lbfgs", alpha=1e-3, tol=1e-7).fit(X32, y)
    dist = LinearClassifier("logistic", solver="lbfgs", alpha=1e-3, tol=1e-7)
    dist.fit(*chunked(X32, y))
    assert dist.coef_.dtype == np.float32 and dist.coef_.shape == (3, 12)
    np.testing.assert_allclose(dist.coef_, local.coef_, atol=2e-3)
    assert np.mean(dist.predict(X32) == local.predict(X32)) > 0.99


def test_regression_full_batch_matches_the_normal_equations(client):
    X, y = make_regression(3000, 8, noise=5.0, random_state=0)
    local = LinearRegressor(solver="normal", alpha=1e-3).fit(X, y)
    dist = LinearRegressor(solver="lbfgs", alpha=1e-3, tol=1e-10, max_iter=500)
    dist.fit(*chunked(X, y))
    np.testing.assert_allclose(dist.coef_, local.coef_, rtol=1e-6, atol=1e-6)
    prediction = dist.predict(da.from_array(X, chunks=700))
    assert isinstance(prediction, da.Array)
    np.testing.assert_allclose(prediction.compute(), local.predict(X), rtol=1e-6, atol=1e-4)


def test_a_spec_trains_on_dask_with_no_estimator_involved(client, problem):
    X, y, _, _ = problem
    options = {"reg": 1e-3, "tol": 1e-9, "max_iter": 300}
    spec = ld.TrainSpec(
        loss=losses.get("softmax"),
        solver="lbfgs",
        random_state=0,
        class_weight="balanced",
        **options,
    )
    result = ld.train(spec, *chunked(X, y))
    assert isinstance(result, ld.TrainResult) and result.history.converged
    assert result.classes.tolist() == [0, 1, 2] and result.n_iter == result.history.n_epochs
    local = models.build("linear", 12, 3, random_state=0)
    weights = losses.class_weights(y, 3, kind="balanced")
    fit_full_batch(local, "softmax", X, y, method="lbfgs", class_weight=weights, **options)
    np.testing.assert_allclose(result.model.params["W"], local.params["W"], atol=1e-6)
    sgd = ld.train(
        ld.TrainSpec(loss=losses.get("hinge"), lr=1e-2, max_iter=2, tol=None, random_state=0),
        *chunked(X, y),
    )
    assert sgd.n_iter == 2 and sgd.model.n_outputs == 3  # one-vs-rest hinge, by local SGD
    assert sgd.history.train_loss[-1] < sgd.history.train_loss[0]


def test_local_sgd_is_within_half_a_point_of_in_memory_training(client, problem):
    X, y, X_test, y_test = problem
    options = {
        "solver": "sgd",
        "lr": 1e-2,
        "max_iter": 15,
        "tol": None,
        "random_state": 0,
        "alpha": 1e-4,
    }
    local = SoftmaxClassifier(**options).fit(X, y)
    dist = SoftmaxClassifier(**options).fit(*chunked(X, y))
    assert len(dist.history_.train_loss) >= 15  # one history row per averaging round
    assert dist.history_.train_loss[-1] < dist.history_.train_loss[0]
    gap = abs(dist.score(X_test, y_test) - local.score(X_test, y_test))
    assert gap <= 0.005, (dist.score(X_test, y_test), local.score(X_test, y_test))
    labels = dist.predict(da.from_array(X_test, chunks=300)).compute()
    np.testing.assert_array_equal(labels, dist.predict(X_test))


def test_an_mlp_trains_by_local_sgd(client, problem):
    X, y, X_test, y_test = problem
    mlp = MLPClassifier((32,), lr=3e-3, max_iter=8, tol=None, random_state=0)
    mlp.fit(*chunked(X, y))
    assert mlp.score(X_test, y_test) > 0.8


def _worker_pids(client):
    return client.run(os.getpid)


def test_killing_a_worker_mid_fit_still_gives_the_right_answer(client, problem):
    X, y, _, _ = problem
    local = full_batch().fit(X, y)
    killed = []

    def kill_a_worker(round_, logs, model):
        if round_ == 3 and not killed:
            address, pid = sorted(_worker_pids(client).items())[0]
            os.kill(pid, signal.SIGKILL)  # no goodbye: the process just dies
            killed.append(address)

    est = full_batch()
    ld.fit(est, *chunked(X, y), callbacks=(kill_a_worker,))
    assert killed
    np.testing.assert_allclose(est.coef_, local.coef_, atol=1e-6)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next tests


def test_local_sgd_survives_a_killed_worker(client, problem):
    X, y, X_test, y_test = problem
    killed = []

    def kill_a_worker(round_, logs, model):
        if round_ == 4 and not killed:
            os.kill(sorted(_worker_pids(client).items())[-1][1], signal.SIGKILL)
            killed.append(round_)

    est = SoftmaxClassifier(solver="sgd", lr=1e-2, max_iter=6, tol=None, random_state=0)
    ld.fit(est, *chunked(X, y), callbacks=(kill_a_worker,))
    assert killed and est.score(X_test, y_test) > 0.8
    client.wait_for_workers(2, timeout=60)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_an_interrupted_run_resumes_from_its_checkpoint(client, problem, tmp_path, solver):
    X, y, _, _ = problem
    path = tmp_path / "checkpoint.npz"
    options = {"solver": solver, "alpha": 1e-3, "random_state": 0, "lr": 1e-2}
    options |= {"tol": 1e-9, "max_iter": 300} if solver == "lbfgs" else {"tol": None, "max_iter": 6}

    def stop_at_round_4(round_, logs, model):
        if round_ == 4:
            raise Interrupt

    with pytest.raises(Interrupt):
        ld.fit(
            SoftmaxClassifier(**options),
            *chunked(X, y),
            checkpoint=path,
            callbacks=(stop_at_round_4,),
        )
    assert path.is_file()
    resumed = ld.fit(SoftmaxClassifier(**options), *chunked(X, y), checkpoint=path, resume=True)
    whole = ld.fit(SoftmaxClassifier(**options), *chunked(X, y))
    if solver == "lbfgs":  # the same minimum (L-BFGS restarts its memory at the checkpoint)
        np.testing.assert_allclose(resumed.coef_, whole.coef_, atol=1e-5)
    else:  # the same rounds, seeded by the checkpointed generator: the same weights
        assert resumed.history_.epoch == whole.history_.epoch
        np.testing.assert_allclose(resumed.coef_, whole.coef_, rtol=1e-10, atol=1e-12)


def test_bad_input_is_a_clear_error(client, problem):
    X, y, _, _ = problem
    Xd, yd = chunked(X, y)
    with pytest.raises(ValueError, match="y: expected 3000 rows"):
        SoftmaxClassifier().fit(Xd, yd[:2000])
    with pytest.raises(ValueError, match="at least two classes"):
        SoftmaxClassifier().fit(Xd, da.zeros(3000, chunks=500, dtype=int))
    bad = X.copy()
    bad[2500, 3] = np.nan
    with pytest.raises(ValueError, match="X: expected finite values"):
        SoftmaxClassifier(solver="lbfgs").fit(*chunked(bad, y))
    with pytest.raises(ValueError, match="solver"):
        SoftmaxClassifier(solver="newton").fit(Xd, yd)
    with pytest.raises(TypeError, match="Dask array"):
        ld.fit(SoftmaxClassifier(), X, yd)


@pytest.mark.parametrize("solver", ["smoothing", "dual_cd"])
def test_a_solver_that_trains_in_memory_is_refused_on_dask(client, problem, solver):
    # both take the hinge loss in memory only; the message names the ones that run on the cluster
    X, y, _, _ = problem
    message = f"solver: '{solver}' trains in memory; use 'auto' or 'sgd' on Dask"
    with pytest.raises(ValueError, match=message):
        LinearClassifier("hinge", solver=solver, alpha=1e-3).fit(*chunked(X, y))


def test_no_client_is_a_clear_error():
    code = (
        "import dask.array as da\n"
        "from losslab import SoftmaxClassifier\n"
        "try:\n"
        "    SoftmaxClassifier().fit(da.ones((10, 2), chunks=5), da.arange(10, chunks=5) % 2)\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "no Dask client is running" in out.stdout, out.stderr


def test_read_builds_dask_arrays_from_npy_and_parquet(tmp_path, client):
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.standard_normal((1000, 4)), rng.integers(0, 2, 1000)])
    np.save(tmp_path / "d.npy", data)
    X, y = ld.read(tmp_path / "d.npy", chunk_rows=300)
    assert X.chunks[0] == (300, 300, 300, 100)
    np.testing.assert_allclose(X.compute(), data[:, :4].astype(np.float32))
    np.testing.assert_array_equal(y.compute(), data[:, 4])
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({f"x{i}": data[:, i] for i in range(4)} | {"label": data[:, 4]})
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=400)
    X, y = ld.read(tmp_path / "d.parquet")
    assert X.chunks[0] == (400, 400, 200)
    np.testing.assert_allclose(X.compute(), data[:, :4].astype(np.float32), rtol=1e-6)
    with pytest.raises(ValueError, match=r"\.npy or \.parquet"):
        (tmp_path / "d.csv").write_text("1,2\n")
        ld.read(tmp_path / "d.csv")


def test_cli_trains_on_a_scheduler_address_and_resumes(client, tmp_path, capsys):
    address = client.scheduler.address
    out = tmp_path / "run"
    rc = main(["train", "--scheduler", address, "--epochs", "3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "dashboard" in printed and "test accuracy" in printed
    for name in ("config.json", "checkpoint.npz", "metrics.json", "model.npz", "loss_curve.png"):
        assert (out / name).is_file()
    assert main(["train", "--resume", str(out), "--scheduler", address, "--quiet"]) == 0


def test_cli_reads_an_npy_file_on_the_cluster(client, tmp_path, capsys):
    X, y = make_classification(2000, 6, random_state=0)
    np.save(tmp_path / "big.npy", np.column_stack([X * 50 + 7, y]))
    rc = main(
        [
            "train",
            "--scheduler",
            client.scheduler.address,
            "--data",
            str(tmp_path / "big.npy"),
            "--solver",
            "lbfgs",
            "--epochs",
            "100",
            "--json",
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0
    metrics = json.loads(printed)
    assert metrics["train_rows"] == 2000 and metrics["train_accuracy"] > 0.85


def test_the_readmes_three_commands_scheduler_worker_train(tmp_path):
    """`dask scheduler`, `dask worker ADDRESS`, `losslab train --scheduler ADDRESS`, as separate processes."""
    bin_dir = Path(sys.executable).parent
    info = tmp_path / "scheduler.json"
    procs = [
        subprocess.Popen(
            [
                bin_dir / "dask",
                "scheduler",
                "--scheduler-file",
                info,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--dashboard-address",
                "127.0.0.1:0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.time() + 60
        while not info.is_file() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [
                    bin_dir / "dask",
                    "worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        with distributed.Client(address) as c:
            c.wait_for_workers(2, timeout=60)
        result = subprocess.run(
            [
                bin_dir / "losslab",
                "train",
                "--scheduler",
                address,
                "--solver",
                "lbfgs",
                "--epochs",
                "50",
                "--out",
                tmp_path / "run",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert "connected: 2 workers" in result.stdout and "test accuracy" in result.stdout
        assert json.loads((tmp_path / "run" / "metrics.json").read_text())["test_accuracy"] > 0.93
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)


def test_local_sgd_clips_every_workers_step_and_refuses_a_loss_following_schedule(client, problem):
    X, y, _, _ = problem
    options = {"solver": "sgd", "optimizer": "sgd", "lr": 0.1, "max_iter": 2, "random_state": 0}
    free = SoftmaxClassifier(**options).fit(*chunked(X, y))
    clipped = SoftmaxClassifier(clip_grad_norm=1e-6, **options).fit(*chunked(X, y))
    # in memory from the same first weights, clipped too: steps of norm <= 1e-7 keep both near them
    near_start = SoftmaxClassifier(clip_grad_norm=1e-6, **options).fit(X, y)
    moved = np.linalg.norm(clipped.coef_ - near_start.coef_)
    assert moved < 1e-4 and np.linalg.norm(free.coef_ - near_start.coef_) > 0.1, moved
    with pytest.raises(ValueError, match="schedule: 'plateau' follows each epoch's loss"):
        SoftmaxClassifier(schedule="plateau", **options).fit(*chunked(X, y))
