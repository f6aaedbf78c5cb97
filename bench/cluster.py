"""Training on a Dask cluster: losslab against dask_ml's LogisticRegression, same cluster, same data.

Run:  pip install -e ".[bench]" && python bench/cluster.py [--rows 400000] [--repeats 3]

Starts distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True),
generates a binary problem on the workers (noisy linear teacher, float64,
400,000 × 64 by default, last 20 % for testing), persists it, and fits each
contender on the same Dask arrays. Times are medians over ``--repeats`` fits;
the ratio is dask_ml lbfgs's time over the contender's. dask_ml's
LogisticRegression (dask-glm) is binary only and penalises C·Σloss + ½‖β‖²;
losslab's alpha is set to the same penalty per mean loss (alpha = 1 / (2·C·N)).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from _common import machine, today


def make_data(rows, features, seed=0):
    import dask.array as da

    rs = da.random.RandomState(seed)
    X = rs.standard_normal((rows, features), chunks=(rows // 8, features))
    w = np.random.default_rng(seed).standard_normal(features) / np.sqrt(features)
    y = ((X @ w + 0.5 * rs.standard_normal(rows, chunks=rows // 8)) > 0).astype(np.int64)
    split = int(rows * 0.8)
    parts = [X[:split], y[:split], X[split:], y[split:]]
    return [p.rechunk({0: rows // 8}).persist() for p in parts]


def timed(fit, repeats):
    times, model = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from dask_ml.linear_model import LogisticRegression as DaskLogistic
    from distributed import Client, LocalCluster

    from losslab import LinearClassifier

    C = 1.0
    alpha = 1 / (2 * C * args.rows * 0.8)
    contenders = {
        "dask_ml LogisticRegression(solver='lbfgs')": lambda: DaskLogistic(solver="lbfgs", C=C),
        "dask_ml LogisticRegression(solver='admm')": lambda: DaskLogistic(solver="admm", C=C),
        "losslab LinearClassifier('logistic', solver='lbfgs')": lambda: LinearClassifier(
            "logistic", solver="lbfgs", alpha=alpha, tol=1e-6, max_iter=100
        ),
        "losslab LinearClassifier('logistic') local SGD, 2 epochs": lambda: LinearClassifier(
            "logistic", lr=1e-2, batch_size=256, max_iter=2, tol=None, alpha=alpha, random_state=0
        ),
    }
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        X, y, X_test, y_test = make_data(args.rows, args.features)
        y_true = y_test.compute()
        rows = []
        for name, make in contenders.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seconds, model = timed(lambda make=make: make().fit(X, y), args.repeats)
                accuracy = float((np.asarray(model.predict(X_test).compute()) == y_true).mean())
            rows.append((name, seconds, accuracy))
            print(f"{name}: {seconds:.2f} s, test accuracy {accuracy:.4f}", flush=True)
        workers = len(client.scheduler_info()["workers"])
    reference = rows[0][1]
    print()
    print(
        f"{args.rows:,} × {args.features} float64, binary, {workers} worker processes; "
        f"median of {args.repeats}; {machine()}; {today()}"
    )
    print()
    print("| contender | time (s) | dask_ml lbfgs time / this | test accuracy |")
    print("|---|---:|---:|---:|")
    for name, seconds, accuracy in rows:
        print(f"| {name} | {seconds:.2f} | {reference / seconds:.2f}× | {accuracy:.4f} |")


if __name__ == "__main__":
    main()
