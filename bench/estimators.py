"""losslab's estimators with their defaults against scikit-learn's with theirs.

Run:  python bench/estimators.py [--splits 10] [--threads 0] [--why-softmax] [--svm-only] [--cpu-time]
      python bench/estimators.py --penalty-check

The four bundled sets (iris, wine, breast cancer, digits), each on --splits
stratified 70/30 splits (seeds 0..splits-1), features standardised on the
training part, as a new user would: SoftmaxClassifier() vs LogisticRegression(),
LinearSVM() vs LinearSVC(), MLPClassifier() vs scikit-learn's MLPClassifier()
(both (100,) hidden units). Every constructor is called without arguments: the
defaults are the product, nothing is tuned on these numbers. Reported: mean test
accuracy of each, their difference, and the ratio of the median fit times
(losslab / scikit-learn; below 1 means losslab is faster).

Then a synthetic float32 problem (50,000 training rows × 256 features, 10 classes,
the noisy linear teacher of bench/train.py, 12,500 test rows): SoftmaxClassifier()
against LogisticRegression(), median of --repeats fits, both in one run.
BLAS runs on --threads threads for both libraries: 0 (the default) leaves the
libraries' own setting, every core, as a user gets it; --threads 1 makes the
timings independent of how busy the machine's other cores are.

--svm-only runs the LinearSVM() against LinearSVC() rows alone. --l1 runs
SoftmaxClassifier(penalty="l1") (full-batch OWL-QN) against LogisticRegression with
an L1 penalty by saga (its default lbfgs refuses L1), each at its default strength. --cpu-time times
each fit by the process's CPU time instead of the wall clock: on a machine shared
with other jobs, a fit longer than the scheduler's slice is preempted again and
again while a 1 ms fit often runs within one, so wall-clock ratios of short fits
measure the load as much as the work (BLAS on one thread keeps CPU time = work).

--penalty-check: the default alpha="auto" was checked on problems the bundled
sets are not (36 make_classification shapes, 5 seeds each): mean test accuracy
of both linear models at alpha=1e-4 and at "auto".

--why-softmax explains how the penalty moves the accuracy instead: on the same
splits, SoftmaxClassifier() (alpha="auto" = 1/(2n): LogisticRegression's C=1 on
the summed loss, the same objective; both penalise every class's weights and no
intercept), once more with a gradient tolerance 1e4 times finer, once at the
fixed alpha=1e-4 (the default before alpha="auto"), and LogisticRegression() at
C=1 and at that same 1e-4 (C = 1/(2·1e-4·n)). If the accuracy follows the
penalty and not the tolerance, each library is at its objective's minimum.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from _common import machine, today
from losslab.estimators import LinearSVM, MLPClassifier, SoftmaxClassifier
from train import synthetic  # bench/train.py's noisy linear teacher

SETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast cancer": load_breast_cancer,
    "digits": load_digits,
}
PAIRS = [
    ("SoftmaxClassifier()", SoftmaxClassifier, "LogisticRegression()", LogisticRegression),
    ("LinearSVM()", LinearSVM, "LinearSVC()", LinearSVC),
    ("MLPClassifier()", MLPClassifier, "MLPClassifier()", SkMLPClassifier),
]
# an L1 penalty: each library's default strength; LogisticRegression's default solver (lbfgs)
# refuses L1, so saga is the user's choice there
L1_PAIRS = [
    (
        'SoftmaxClassifier(penalty="l1")',
        functools.partial(SoftmaxClassifier, penalty="l1"),
        'LogisticRegression(l1_ratio=1, solver="saga")',
        functools.partial(LogisticRegression, l1_ratio=1.0, solver="saga"),
    ),
]


def splits(load, n_splits):
    X, y = load(return_X_y=True)
    for seed in range(n_splits):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, random_state=seed, stratify=y
        )
        scaler = StandardScaler().fit(X_train)
        yield scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


CLOCK = [time.perf_counter]  # or time.process_time (--cpu-time)


def fit_and_score(make, X_train, X_test, y_train, y_test):
    """(test accuracy, fit seconds, the fitted estimator) of a default estimator."""
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = CLOCK[0]()
        est.fit(X_train, y_train)
        seconds = CLOCK[0]() - start
    return est.score(X_test, y_test), seconds, est


def compare_on_sets(n_splits, pairs=PAIRS):
    print(
        f"| data | losslab | accuracy (mean of {n_splits}) | scikit-learn | accuracy | "
        "difference | fit time ratio (median) | losslab solver |"
    )
    print("|---|---|---:|---|---:|---:|---:|---|")
    for data, load in SETS.items():
        parts = list(splits(load, n_splits))
        for ours_name, ours, ref_name, ref in pairs:
            # the two libraries alternate split by split: a busy spell of the machine hits both
            a, b = zip(
                *[(fit_and_score(ours, *p), fit_and_score(ref, *p)) for p in parts], strict=True
            )
            acc_a, acc_b = np.mean([r[0] for r in a]), np.mean([r[0] for r in b])
            ratio = statistics.median(r[1] for r in a) / statistics.median(r[1] for r in b)
            solver = a[-1][2].solver_
            print(
                f"| {data} | `{ours_name}` | {acc_a:.4f} | `{ref_name}` | {acc_b:.4f} | "
                f"{acc_a - acc_b:+.4f} | {ratio:.2f} | {solver} |",
                flush=True,
            )


def compare_synthetic(rows, repeats):
    X, y = synthetic(rows + rows // 4, 256, 10)
    X_train, X_test, y_train, y_test = X[:rows], X[rows:], y[:rows], y[rows:]
    print(
        f"\n| {rows:,} × 256 float32, 10 classes | test accuracy | fit time (median of "
        f"{repeats}) | time / LogisticRegression's | solver |"
    )
    print("|---|---:|---:|---:|---|")
    results = {}
    for name, make in [
        ("LogisticRegression()", LogisticRegression),
        ("SoftmaxClassifier()", SoftmaxClassifier),
    ]:
        runs = [fit_and_score(make, X_train, X_test, y_train, y_test) for _ in range(repeats)]
        results[name] = (runs[-1][0], statistics.median(r[1] for r in runs), runs[-1][2])
    reference = results["LogisticRegression()"][1]
    for name, (acc, seconds, est) in results.items():
        solver = getattr(est, "solver_", "lbfgs")
        print(f"| `{name}` | {acc:.4f} | {seconds:.3f} s | {seconds / reference:.2f} | {solver} |")


def why_softmax(n_splits):
    """Mean test accuracy of both models at both penalty strengths, and at a finer tolerance."""
    print(f"Mean test accuracy over {n_splits} splits (n: training rows)\n")
    print(
        "| data | `SoftmaxClassifier()` | same, tol=1e-8 | same, alpha = 1e-4 "
        "| `LogisticRegression()` | LogisticRegression, C = 1/(2·1e-4·n) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for data, load in SETS.items():
        columns = [[] for _ in range(5)]
        for X_train, X_test, y_train, y_test in splits(load, n_splits):
            n = len(X_train)
            makers = [
                SoftmaxClassifier,
                lambda: SoftmaxClassifier(tol=1e-8, max_iter=10_000),
                lambda: SoftmaxClassifier(alpha=1e-4),
                LogisticRegression,
                lambda n=n: LogisticRegression(C=1 / (2 * 1e-4 * n), max_iter=10_000),
            ]
            for column, make in zip(columns, makers, strict=True):
                column.append(fit_and_score(make, X_train, X_test, y_train, y_test)[0])
        means = " | ".join(f"{np.mean(c):.4f}" for c in columns)
        print(f"| {data} | {means} |", flush=True)


def generated_problems(seeds=5):
    """36 make_classification problems (rows × features × classes), each on `seeds` seeds."""
    for n, d, k in itertools.product((60, 150, 400, 1500), (4, 20, 60), (2, 3, 6)):
        informative = max(3, d // 3)
        parts = []
        for seed in range(seeds):
            X, y = make_classification(
                n_samples=int(n / 0.7) + 1,
                n_features=d,
                n_informative=informative,
                n_redundant=min(d // 4, d - informative),
                n_classes=k,
                n_clusters_per_class=1,
                flip_y=0.05,
                random_state=1000 + seed,
            )
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.3, random_state=seed, stratify=y
            )
            scaler = StandardScaler().fit(X_train)
            parts.append((scaler.transform(X_train), scaler.transform(X_test), y_train, y_test))
        yield (n, d, k), parts


def penalty_check():
    """Mean test accuracy at alpha=1e-4 and at alpha="auto" on problems the benchmark never sees.

    The check behind the default alpha="auto": 36 generated problems (70/30
    splits, 5 seeds each), none of them the bundled sets above.
    """
    makers = {
        "softmax 1e-4": lambda: SoftmaxClassifier(alpha=1e-4),
        "softmax auto": SoftmaxClassifier,
        "svm 1e-4": lambda: LinearSVM(alpha=1e-4),
        "svm auto": LinearSVM,
    }
    print("| rows | features | classes | " + " | ".join(makers) + " |")
    print("|---:|---:|---:|" + "---:|" * len(makers))
    table = []
    for shape, parts in generated_problems():
        row = [np.mean([fit_and_score(m, *p)[0] for p in parts]) for m in makers.values()]
        table.append(row)
        print(
            "| " + " | ".join(map(str, shape)) + " | " + " | ".join(f"{a:.4f}" for a in row) + " |"
        )
    a = np.array(table)
    print("| mean | | | " + " | ".join(f"{m:.4f}" for m in a.mean(axis=0)) + " |")
    for name, old, new in (("softmax", 0, 1), ("svm", 2, 3)):
        better, worse = int((a[:, new] > a[:, old]).sum()), int((a[:, new] < a[:, old]).sum())
        print(f"\n{name}: auto better on {better} problems, worse on {worse}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="BLAS threads (0: the libraries' own)")
    ap.add_argument("--why-softmax", action="store_true", help="explain the softmax gap only")
    ap.add_argument("--svm-only", action="store_true", help="LinearSVM against LinearSVC only")
    ap.add_argument("--cpu-time", action="store_true", help="time fits by CPU, not wall clock")
    ap.add_argument("--l1", action="store_true", help="an L1 penalty: OWL-QN against saga")
    ap.add_argument(
        "--penalty-check",
        action="store_true",
        help="alpha=1e-4 against alpha='auto' on generated problems, not the bundled sets",
    )
    args = ap.parse_args(argv)
    if args.cpu_time:
        CLOCK[0] = time.process_time
    clock = "CPU time" if args.cpu_time else "wall clock"
    print(
        f"# defaults against defaults; {machine()}; BLAS threads {args.threads or 'default'}; "
        f"fits timed by {clock}; {today()}\n"
    )
    if args.why_softmax:
        with threadpool_limits(args.threads or None):
            why_softmax(args.splits)
        return
    if args.penalty_check:
        with threadpool_limits(args.threads or None):
            penalty_check()
        return
    with threadpool_limits(args.threads or None):
        if args.svm_only:
            compare_on_sets(args.splits, [p for p in PAIRS if p[1] is LinearSVM])
            return
        if args.l1:
            compare_on_sets(args.splits, L1_PAIRS)
            return
        compare_on_sets(args.splits)
        compare_synthetic(args.rows, args.repeats)


if __name__ == "__main__":
    main()
