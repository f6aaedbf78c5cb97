"""L-BFGS fits of SoftmaxClassifier against LogisticRegression: time, iterations, and why.

Run:  cd bench && python lbfgs_speed.py [--splits 10] [--rows 50000] [--repeats 3] [--tables sets,iterations,blocks,big]

Both sides minimise the same objective where they can: LogisticRegression() (C=1,
lbfgs) against SoftmaxClassifier(solver="lbfgs", alpha=1/(2n)), n training rows,
which is scikit-learn's multinomial objective divided by C·n (for two classes
scikit-learn fits one binomial vector; the softmax's two columns make that
objective at alpha = 1/n, shown in its own column). BLAS on one thread; fits
timed by CPU time (the machine is shared; see bench/estimators.py --cpu-time).

Tables:

- sets: the four bundled sets on --splits stratified 70/30 splits (standardised),
  median CPU time of each fit, its ratio, and the iterations of each.
- iterations: losslab's L-BFGS (optim.lbfgs) against SciPy's L-BFGS-B, which
  LogisticRegression runs, on the same softmax objective and gradient, the same
  gtol (1e-4 on the largest gradient entry), ftol = 64 machine epsilons as
  scikit-learn sets it: objective evaluations per fit, mean over the splits.
- blocks: the two products of a linear model over 40,000 float32 rows (X W and
  Xᵀ G, C columns) as one call each, and cut into blocks of b rows; the time of
  the blocks over the time of the two calls. Shapes other than the big table's.
- big: synthetic 50,000 × 256 float32, 10 classes (bench/train.py's teacher):
  median fit time of --repeats, test accuracy, iterations.
- growing (tried, not adopted): a growing-sample schedule (Byrd, Chin, Nocedal &
  Wu 2012): L-BFGS on a random n/8 of the rows, warm-started on twice as many, ...,
  the full data last to the same gtol (1e-4); the curvature pairs carried from
  stage to stage or not, each stage's gtol 1e-4·n/m or 1e-4·√(n/m) on m rows.
  Passes over X (rows evaluated / n) and CPU time against plain L-BFGS on the
  same problem, on the teacher's other seeds and shapes (not the big table's).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.optimize
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from _common import machine, today
from estimators import SETS, splits
from losslab import models
from losslab.estimators import SoftmaxClassifier
from losslab.optim import quasi_newton
from losslab.optim.quasi_newton import lbfgs
from losslab.training.objective import Objective
from train import synthetic


def cpu_fit(make, X, y):
    """(CPU seconds of one fit, the fitted estimator)."""
    est = make()
    start = time.process_time()
    est.fit(X, y)
    return time.process_time() - start, est


def iterations_of(est):
    return int(np.max(est.n_iter_))


def median_fit(make, X, y, repeats):
    runs = [cpu_fit(make, X, y) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), runs[-1][1]


def sets_table(n_splits, repeats):
    print(
        "| data | softmax, alpha = 1/(2n) | LogisticRegression() | time ratio "
        "| iterations (softmax / LR) | softmax at alpha = 1/n: ratio, iterations |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for data, load in SETS.items():
        rows = []
        for X_train, _, y_train, _ in splits(load, n_splits):
            n = len(X_train)
            ours = median_fit(lambda n=n: softmax(1 / (2 * n)), X_train, y_train, repeats)
            ref = median_fit(LogisticRegression, X_train, y_train, repeats)
            if data == "breast cancer":  # two classes: scikit-learn's binomial objective
                ref = (ref, median_fit(lambda n=n: softmax(1 / n), X_train, y_train, repeats))
            rows.append((ours, *(ref if data == "breast cancer" else (ref,))))
        t_ours, t_ref = (statistics.median(r[k][0] for r in rows) for k in range(2))
        i_ours, i_ref = (np.mean([iterations_of(r[k][1]) for r in rows]) for k in range(2))
        binary = "—"
        if data == "breast cancer":
            t_bin = statistics.median(r[2][0] for r in rows)
            binary = f"{t_bin / t_ref:.2f}, {np.mean([iterations_of(r[2][1]) for r in rows]):.1f}"
        print(
            f"| {data} | {t_ours * 1e3:.2f} ms | {t_ref * 1e3:.2f} ms | {t_ours / t_ref:.2f} "
            f"| {i_ours:.1f} / {i_ref:.1f} | {binary} |",
            flush=True,
        )


def softmax(alpha):
    return SoftmaxClassifier(solver="lbfgs", alpha=alpha)


def softmax_objective(X, y):
    """(value_and_grad(theta), theta0) of the softmax objective at alpha = 1/(2n)."""
    n, d = X.shape
    c = int(y.max()) + 1
    model = models.Linear(d, c, random_state=0)
    objective = Objective(model, "softmax", reg=1 / (2 * n))

    def value_and_grad(theta):
        model.params["W"][...] = theta[: d * c].reshape(d, c)
        model.params["b"][...] = theta[d * c :]
        value, grads, _ = objective.value_and_grads(X, y)
        return float(value), np.concatenate([grads["W"].ravel(), grads["b"]])

    return value_and_grad, np.concatenate([model.params["W"].ravel(), model.params["b"]])


def iterations_table(n_splits):
    print(
        "| data | losslab lbfgs: evaluations | SciPy L-BFGS-B: evaluations | objective, relative difference |"
    )
    print("|---|---:|---:|---:|")
    for data, load in SETS.items():
        ours, scipys, gaps = [], [], []
        for X_train, _, y_train, _ in splits(load, n_splits):
            value_and_grad, x0 = softmax_objective(X_train, y_train)
            res = lbfgs(value_and_grad, x0.copy(), gtol=1e-4)
            ref = scipy.optimize.minimize(
                value_and_grad,
                x0.copy(),
                jac=True,
                method="L-BFGS-B",
                options={
                    "maxiter": 500,
                    "maxls": 50,
                    "gtol": 1e-4,
                    "ftol": 64 * np.finfo(float).eps,
                },
            )
            ours.append(res.nfev)
            scipys.append(ref.nfev)
            gaps.append((res.cost - ref.fun) / ref.fun)
        print(
            f"| {data} | {np.mean(ours):.1f} | {np.mean(scipys):.1f} "
            f"| {min(gaps):+.1e} to {max(gaps):+.1e} |",
            flush=True,
        )


def blocks_table():
    print(
        "| D, C | one call each (ms) | blocks of 10⁶/(D·C) rows | b = 64 | 256 | 1024 | 2·10⁶/(D·C) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    n = 40_000
    for d, c in [(64, 10), (128, 3), (256, 20), (512, 10), (784, 10), (100, 5)]:
        X = rng.standard_normal((n, d), dtype=np.float32)
        W = rng.standard_normal((d, c)).astype(np.float32)
        G = rng.standard_normal((n, c)).astype(np.float32)
        whole = best_of(lambda X=X, W=W, G=G: (X @ W, X.T @ G))
        rule = 10**6 // (d * c)
        ratios = [
            best_of(blocked_products(X, W, G, b)) / whole for b in (rule, 64, 256, 1024, 2 * rule)
        ]
        cells = " | ".join(f"{r:.2f}" for r in ratios)
        print(f"| {d}, {c} | {whole * 1e3:.1f} | {cells} |", flush=True)


def blocked_products(X, W, G, rows):
    scores = np.empty((len(X), W.shape[1]), X.dtype)
    part = np.empty((X.shape[1], W.shape[1]), X.dtype)

    def run():
        for start in range(0, len(X), rows):
            np.matmul(X[start : start + rows], W, out=scores[start : start + rows])
        total = np.zeros_like(part)
        for start in range(0, len(X), rows):
            total += np.matmul(X[start : start + rows].T, G[start : start + rows], out=part)

    return run


def best_of(fn, repeats=5, number=5):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(number):
            fn()
        times.append((time.process_time() - start) / number)
    return min(times)


def big_table(rows, repeats):
    X, y = synthetic(rows + rows // 4, 256, 10)
    X_train, X_test, y_train, y_test = X[:rows], X[rows:], y[:rows], y[rows:]
    print(
        f"| {rows:,} × 256 float32, 10 classes | CPU time (median of {repeats}) | ratio | test accuracy | iterations |"
    )
    print("|---|---:|---:|---:|---:|")
    results = {}
    for name, make in [
        ("LogisticRegression()", LogisticRegression),
        ("softmax, alpha = 1/(2n)", lambda: softmax(1 / (2 * rows))),
    ]:
        seconds, est = median_fit(make, X_train, y_train, repeats)
        results[name] = (seconds, est.score(X_test, y_test), iterations_of(est))
    reference = results["LogisticRegression()"][0]
    for name, (seconds, accuracy, nit) in results.items():
        print(
            f"| `{name}` | {seconds:.3f} s | {seconds / reference:.2f} | {accuracy:.4f} | {nit} |"
        )


def growing_table():
    print(
        "| rows × features, classes (seed) | plain: passes, CPU s | schedule "
        "| passes | CPU time / plain | objective, relative difference |"
    )
    print("|---|---:|---|---:|---:|---:|")
    for rows, d, c, seed in [(50_000, 256, 10, 1), (50_000, 256, 10, 2), (40_000, 100, 5, 3)]:
        X, y = synthetic(rows, d, c, seed=seed)
        plain = grow(X, y, c, 1.0, False, None)
        print(f"| {rows:,} × {d}, {c} ({seed}) | {plain[1]:.1f}, {plain[2]:.2f} | | | | |")
        for carry in (False, True):
            for rule_name, rule in [
                ("n/m", lambda m, n: n / m),
                ("√(n/m)", lambda m, n: (n / m) ** 0.5),
            ]:
                value, passes, seconds = grow(X, y, c, 1 / 8, carry, rule)
                schedule = f"from n/8, pairs {'carried' if carry else 'dropped'}, gtol·{rule_name}"
                print(
                    f"| | | {schedule} | {passes:.1f} | {seconds / plain[2]:.2f} "
                    f"| {(value - plain[0]) / plain[0]:+.1e} |",
                    flush=True,
                )


def grow(X, y, c, start, carry, rule, gtol=1e-4):
    """(objective, passes over X, CPU seconds) of L-BFGS on growing samples, the full data last."""
    n, d = X.shape
    passes = [0]
    order = np.random.default_rng(0).permutation(n)
    theta = np.concatenate([1e-3 * np.random.default_rng(0).standard_normal(d * c), np.zeros(c)])
    pairs = quasi_newton._CurvaturePairs(10, theta.size)
    m = int(n * start)
    began = time.process_time()
    while True:
        rows = np.sort(order[:m]) if m < n else slice(None)
        value_and_grad = counted_objective(X[rows], y[rows], c, 1 / (2 * n), passes, n)
        if not carry:
            pairs = quasi_newton._CurvaturePairs(10, theta.size)
        theta, value = lbfgs_with(pairs, value_and_grad, theta, gtol * (rule(m, n) if m < n else 1))
        if m == n:
            return value, passes[0], time.process_time() - began
        m = min(2 * m, n)


def counted_objective(X, y, c, alpha, passes, n):
    model = models.Linear(X.shape[1], c, dtype=X.dtype)
    objective = Objective(model, "softmax", reg=alpha)
    d = X.shape[1]

    def value_and_grad(theta):
        passes[0] += len(X) / n
        model.params["W"][...] = theta[: d * c].reshape(d, c)
        model.params["b"][...] = theta[d * c :]
        value, grads, _ = objective.value_and_grads(X, y)
        return float(value), np.concatenate([grads["W"].ravel(), grads["b"]]).astype(np.float64)

    return value_and_grad


def lbfgs_with(pairs, value_and_grad, theta, gtol, max_iter=500):
    """losslab's L-BFGS loop (optim.quasi_newton) starting from the given curvature pairs."""
    value, g = value_and_grad(theta)
    step = None
    for _ in range(max_iter):
        if np.abs(g).max() < gtol:
            break
        direction = quasi_newton._search_direction(g, pairs)
        step = quasi_newton._first_step_length(step, direction, pairs, 10)
        step, new_value, new_g = quasi_newton._line_search(
            value_and_grad, theta, value, g, direction, step
        )
        s = step * direction
        pairs.remember(s, new_g - g)
        fall = value - new_value
        theta, value, g = theta + s, new_value, new_g
        if fall <= 1e-12 * abs(value):
            break
    return theta, value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--tables", default="sets,iterations,blocks,big")
    args = ap.parse_args(argv)
    tables = args.tables.split(",")
    print(f"# {machine()}; BLAS on one thread; CPU time; {today()}\n")
    with threadpool_limits(1):
        if "sets" in tables:
            sets_table(args.splits, args.repeats)
            print()
        if "iterations" in tables:
            iterations_table(args.splits)
            print()
        if "blocks" in tables:
            blocks_table()
            print()
        if "big" in tables:
            big_table(args.rows, args.repeats)
        if "growing" in tables:
            print()
            growing_table()


if __name__ == "__main__":
    main()
