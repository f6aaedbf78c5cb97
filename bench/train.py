"""Time to reach scikit-learn LogisticRegression's test accuracy (minus 0.5 point).

Run:  python bench/train.py [--rows 100000] [--features 256] [--classes 10] [--repeats 3]

Also times one training epoch against the epoch's two matrix products
(X @ W and X.T @ G over the whole data) in the same run, with and without the
fused epoch (``--epoch-only`` for that table alone, ``--batch-sizes`` for several rows).

Problems: a synthetic float32 problem (rows × features, 10 classes, a noisy
linear teacher) and scikit-learn's digits, both standardised. For each,
LogisticRegression() (lbfgs) is fitted first; its test accuracy minus 0.5 point
is the target. Each contender is then trained from scratch with a budget of
E epochs for E = 1, 2, 3, 5, 8, 13, 20, 30; the first budget whose final test
accuracy reaches the target gives the reported fit time (evaluation not timed):

- losslab SoftmaxClassifier: Adam, mini-batches, cosine decay over the budget;
- scikit-learn SGDClassifier(loss="log_loss"): its default "optimal" schedule;
- PyTorch nn.Linear + Adam with the same mini-batches, cosine decay and L2 (weight_decay).

The median over --repeats seeds is reported with "time / losslab time"
(higher means losslab is faster). PyTorch runs with 1 thread, like NumPy's
element-wise kernels, in a process of its own (loading its OpenMP runtime slows
NumPy code in the same process); scikit-learn and NumPy's BLAS use the machine's cores.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import statistics
import time
import warnings
from unittest import mock

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from _common import machine, today
from losslab import config
from losslab.estimators import SoftmaxClassifier
from losslab.training import fused

BUDGETS = (1, 2, 3, 5, 8, 13, 20, 30)
# losslab's default L2 strength (alpha·ΣW²); torch gets the same through weight_decay=2·ALPHA
ALPHA = 1e-4


def synthetic(rows, features, classes, seed=0):
    """A linear teacher with label noise: y = argmax(X W* + Gumbel noise)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features), dtype=np.float32)
    W = rng.standard_normal((features, classes)).astype(np.float32) / np.sqrt(features)
    logits = 4.0 * (X @ W) + rng.gumbel(size=(rows, classes)).astype(np.float32)
    return X, logits.argmax(axis=1)


def digits():
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), y


def split(X, y):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return (
        scaler.transform(X_train).astype(np.float32),
        scaler.transform(X_test).astype(np.float32),
        y_train,
        y_test,
    )


def time_to_target(train, target):
    """(seconds, epochs, accuracy) of the first budget whose accuracy reaches target.

    ``train(E) -> (seconds, accuracy)``. When no budget reaches it, seconds is inf
    and the last budget's time and accuracy are returned as (inf, seconds, accuracy).
    """
    for epochs in BUDGETS:
        seconds, accuracy = train(epochs)
        if accuracy >= target:
            return seconds, epochs, accuracy
    return float("inf"), seconds, accuracy


def timed(fit, score):
    start = time.perf_counter()
    fit()
    seconds = time.perf_counter() - start
    return seconds, score()


def warm_up(X_train, y_train):
    """Load the compiled kernels (numba's cache) before anything is timed.

    The automatic mode loads them only after enough work (losslab.fast.LOAD_AFTER_ELEMENTS;
    bench/startup.py measures that tax); these figures are for a process that has them.
    """
    with config.fast(config.fast_available() or None):
        SoftmaxClassifier(max_iter=1, tol=None).fit(X_train[:1000], y_train[:1000])


def run_losslab(data, target, batch_size, lr, seed):
    X_train, X_test, y_train, y_test = data
    warm_up(X_train, y_train)

    def train(epochs):
        est = SoftmaxClassifier(
            batch_size=batch_size,
            lr=lr,
            schedule="cosine",
            alpha=ALPHA,
            max_iter=epochs,
            tol=None,
            random_state=seed,
        )
        return timed(lambda: est.fit(X_train, y_train), lambda: est.score(X_test, y_test))

    return time_to_target(train, target)


def run_sgdclassifier(data, target, seed):
    X_train, X_test, y_train, y_test = data

    def train(epochs):
        est = SGDClassifier(loss="log_loss", max_iter=epochs, tol=None, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return timed(lambda: est.fit(X_train, y_train), lambda: est.score(X_test, y_test))

    return time_to_target(train, target)


def run_torch(data, target, batch_size, lr, seed):
    import torch

    torch.set_num_threads(1)  # NumPy's element-wise work and this loop's small products: one core

    X_train, X_test, y_train, y_test = data
    Xt, yt = torch.from_numpy(X_train), torch.from_numpy(y_train.astype(np.int64))
    Xv = torch.from_numpy(X_test)

    warm = torch.nn.Linear(X_train.shape[1], int(y_train.max()) + 1)  # warm-up, not timed
    torch.nn.functional.cross_entropy(warm(Xt[:512]), yt[:512]).backward()

    def train(epochs):
        torch.manual_seed(seed)
        model = torch.nn.Linear(X_train.shape[1], int(y_train.max()) + 1)
        groups = [{"params": [model.weight], "weight_decay": 2 * ALPHA}, {"params": [model.bias]}]
        opt = torch.optim.Adam(groups, lr=lr)
        steps = epochs * math.ceil(len(Xt) / batch_size)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        gen = torch.Generator().manual_seed(seed)

        def fit():
            for _ in range(epochs):
                order = torch.randperm(len(Xt), generator=gen)
                for start in range(0, len(Xt), batch_size):
                    idx = order[start : start + batch_size]
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
                    opt.step()
                    sched.step()

        def score():
            with torch.no_grad():
                return float((model(Xv).argmax(1).numpy() == y_test).mean())

        return timed(fit, score)

    return time_to_target(train, target)


def in_fresh_process(fn, *args):
    """fn(*args) in a new Python process: PyTorch's OpenMP runtime, once loaded, slows
    NumPy/numba code in the same process by about 25 % here, so it gets its own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def median_of(fn, repeats):
    runs = [fn(seed) for seed in range(repeats)]
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))


def bench_problem(name, data, repeats, batch_size, lr):
    X_train, X_test, y_train, y_test = data
    times = []
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            lr_model = LogisticRegression().fit(X_train, y_train)
            times.append(time.perf_counter() - start)
    reference = lr_model.score(X_test, y_test)
    target = reference - 0.005
    results = {
        "LogisticRegression(lbfgs)": (statistics.median(times), None, reference),
        "losslab SoftmaxClassifier": median_of(
            lambda s: run_losslab(data, target, batch_size, lr, s), repeats
        ),
        'SGDClassifier(loss="log_loss")': median_of(
            lambda s: run_sgdclassifier(data, target, s), repeats
        ),
        "PyTorch nn.Linear + Adam": median_of(
            lambda s: in_fresh_process(run_torch, data, target, batch_size, lr, s), repeats
        ),
    }
    ours = results["losslab SoftmaxClassifier"][0]
    print(f"\n## {name}: {len(X_train)} train / {len(X_test)} test, {X_train.shape[1]} features")
    print(f"LogisticRegression test accuracy {reference:.4f}; target {target:.4f}")
    print(
        f"losslab and PyTorch: Adam lr={lr}, batch {batch_size}, cosine decay, L2 {ALPHA}; SGDClassifier: defaults"
    )
    print("| method | seconds to target (median) | epochs | test accuracy | time / losslab time |")
    print("|---|---|---|---|---|")
    for method, (seconds, epochs, accuracy) in results.items():
        if np.isfinite(seconds):
            shown = "-" if epochs is None else f"{epochs:g}"
            ratio = f"{seconds / ours:.1f}×" if np.isfinite(ours) else "n/a"
            print(f"| {method} | {seconds:.3f} | {shown} | {accuracy:.4f} | {ratio} |")
        else:  # never reached: epochs holds the time of the largest budget
            ratio = f">{epochs / ours:.0f}×" if np.isfinite(ours) else "n/a"
            print(
                f"| {method} | not reached in {BUDGETS[-1]} epochs ({epochs:.2f} s) | >{BUDGETS[-1]} "
                f"| {accuracy:.4f} | {ratio} |"
            )


def epoch_against_products(data, batch_size, lr, repeats, header=True, pairs=3):
    """One training epoch against the epoch's two matrix products over the whole data.

    The products are X @ W (scores) and X.T @ G (the weight gradient) with
    float32 W (D, C) and G (N, C): the arithmetic no implementation can skip.
    Two paths: the defaults, which take the fused epoch of training/fused.py up
    to its MAX_BATCH, and the loop's per-step path (the fused epoch turned off,
    as before it existed). Each runs in processes of its own, ``pairs`` of them
    alternating: the fused epoch's BLAS is scipy's OpenBLAS (numba's np.dot),
    whose threads and NumPy's, both busy in one process, slowed whichever ran
    second on two cores. In each process the products and an epoch are timed in
    turn, so a slow spell of this noisy machine hits both; each ratio reported is
    the median of the per-round ratios over all of a path's processes.
    """
    X_train = data[0]
    rounds = max(repeats, 5)
    runs = {"loop": [], "fused": []}
    for _ in range(pairs):
        for name in runs:
            runs[name] += in_fresh_process(
                timed_epochs, data, batch_size, lr, rounds, name == "fused"
            )
    if header:
        print(
            f"\n## One epoch against its two matrix products ({len(X_train)} × {X_train.shape[1]})"
        )
        print(
            f"{pairs} processes per path, alternating, {rounds} rounds each; products = X @ W and "
            "X.T @ G over the whole data; medians, and the medians of the per-round ratios"
        )
        print(
            "| batch | products ms | per-step loop: epoch ms | × products "
            f"| default (fused up to batch {fused.MAX_BATCH}): epoch ms | × products |"
        )
        print("|---|---|---|---|---|---|")
    products = [p for name in runs for p, _ in runs[name]]
    cells = [f"{statistics.median(products) * 1e3:.1f}"]
    for name in ("loop", "fused"):
        ratio = statistics.median(e / p for p, e in runs[name])
        cells += [f"{statistics.median(e for _, e in runs[name]) * 1e3:.1f}", f"{ratio:.2f}×"]
    print(f"| {batch_size} | " + " | ".join(cells) + " |")


def timed_epochs(data, batch_size, lr, rounds, fused_on):
    """[(products seconds, epoch seconds)] of ``rounds`` rounds, in this process."""
    X_train, _, y_train, _ = data
    classes = np.unique(y_train)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((X_train.shape[1], len(classes)), dtype=np.float32)
    G = rng.standard_normal((len(X_train), len(classes)), dtype=np.float32)
    warm_up(X_train, y_train)
    est = SoftmaxClassifier(batch_size=batch_size, lr=lr, alpha=ALPHA, tol=None)
    pairs = []
    with fused_epoch(fused_on):
        est.partial_fit(X_train, y_train, classes=classes)  # warm-up: page faults
        for _ in range(rounds):
            start = time.perf_counter()
            X_train @ W, X_train.T @ G
            products = time.perf_counter() - start
            est.partial_fit(X_train, y_train)
            pairs.append(
                (products, est.history_.seconds[-1])
            )  # the epoch, not partial_fit's checks
    return pairs


@contextlib.contextmanager
def fused_epoch(on):
    """fit with (True) or without (False) the fused epoch: without, training/fused.py finds no
    case and every step runs through the loop's per-step path, which the fused epoch replaced."""
    if on:
        yield
        return
    with mock.patch.object(fused, "linear_case", return_value=None):
        yield


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=256)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument(
        "--epoch-only", action="store_true", help="only the epoch-against-products table"
    )
    ap.add_argument(
        "--batch-sizes",
        default=None,
        help="with --epoch-only: comma-separated batch sizes, one row each (e.g. 64,512,4096)",
    )
    args = ap.parse_args(argv)
    print(f"# time to LogisticRegression accuracy - 0.5 pt; {machine()}; {today()}")
    X, y = synthetic(args.rows, args.features, args.classes)
    data = split(X, y)
    if args.epoch_only:
        sizes = [args.batch_size]
        if args.batch_sizes:
            sizes = [int(b) for b in args.batch_sizes.split(",")]
        for i, size in enumerate(sizes):
            epoch_against_products(data, size, args.lr, args.repeats, header=i == 0)
        return
    bench_problem("synthetic", data, args.repeats, args.batch_size, args.lr)
    epoch_against_products(data, args.batch_size, args.lr, args.repeats)
    bench_problem("digits", split(*digits()), args.repeats, 64, args.lr)


if __name__ == "__main__":
    main()
