"""Sparse hinge problems: dual coordinate descent against the smoothing solver, at their defaults.

Run:  python bench/hinge_solvers.py [--timeout 120] [--only NAME]

What ``solver="auto"`` should pick for LinearSVM() on sparse X
(:func:`losslab.training.spec.auto_solver`). Every problem is generated here,
seeded (seed 11, unlike bench/sparse_text.py's), nothing downloaded:

- ``text``: documents over a vocabulary of D words with Zipf background
  frequencies (p ∝ 1/rank^1.1) and K classes, each with D/100 topic words; a
  document draws a share of its tokens, uniform in [0, 0.1], from its class's
  topic words, and about s distinct words in all; TF-IDF, rows l2-normalised;
- ``gauss``: scikit-learn's make_classification (D features, half of them
  informative, K classes), of which each row keeps s entries at random
  places: the values of standardised dense features, stored sparse.

Each (problem, solver) pair is fitted by ``LinearSVM(solver=...)`` with every
other parameter at its default (alpha="auto", tol, max_iter), in its own
process after a small fit of the same solver there (numba's kernels loaded),
on one thread. Reported: wall time of the fit (">T" when it ran past
--timeout seconds), whether it converged (no ConvergenceWarning), and the
training objective (mean hinge + alpha·‖W‖²) of both, relative to the lower.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

from _common import machine, today
from sparse_text import tokens_for, zipf  # the text benchmark's Zipf draws

SEED = 11
# (family, rows, stored values a row, features, classes)
PROBLEMS = [
    ("text", 500, 30, 5_000, 2),
    ("text", 2_000, 100, 20_000, 5),
    ("text", 5_000, 100, 100_000, 20),
    ("text", 10_000, 300, 100_000, 20),
    ("text", 20_000, 50, 50_000, 10),
    ("text", 50_000, 10, 20_000, 2),
    ("text", 1_000, 50, 10_000, 5),
    ("text", 3_000, 30, 30_000, 3),
    ("text", 1_000, 100, 20_000, 10),
    ("gauss", 500, 50, 50, 2),
    ("gauss", 1_500, 30, 64, 10),
    ("gauss", 2_000, 300, 1_000, 20),
    ("gauss", 5_000, 100, 200, 5),
    ("gauss", 20_000, 20, 100, 3),
    ("gauss", 50_000, 50, 500, 2),
    ("gauss", 1_000, 100, 100, 5),
    ("gauss", 4_000, 25, 50, 2),
    ("gauss", 2_000, 50, 200, 10),
]
SOLVERS = ("dual_cd", "smoothing")


def name_of(problem: tuple) -> str:
    family, n, s, d, k = problem
    return f"{family} {n}x{d} s={s} K={k}"


def text(n: int, s: int, d: int, k: int, rng: np.random.Generator):
    """(TF-IDF CSR (n, d), labels): the ``text`` family of the module's docstring."""
    background, topics = np.cumsum(zipf(d)), max(d // 100, 10)
    table = np.array([rng.choice(np.arange(10, d), topics, replace=False) for _ in range(k)])
    topic_cdf, tokens = np.cumsum(zipf(topics)), tokens_for(zipf(d), s)
    y = rng.integers(0, k, n)
    words = np.searchsorted(background, rng.random((n, tokens)), side="right")
    topical = rng.random((n, tokens)) < rng.uniform(0.0, 0.1, (n, 1))
    drawn = np.minimum(np.searchsorted(topic_cdf, rng.random(int(topical.sum()))), topics - 1)
    words[topical] = table[y[np.nonzero(topical)[0]], drawn]
    counts = sp.csr_matrix(
        (np.ones(words.size), (np.repeat(np.arange(n), tokens), np.minimum(words.ravel(), d - 1))),
        shape=(n, d),
    )
    counts.sum_duplicates()
    idf = np.log((1 + n) / (1 + np.bincount(counts.indices, minlength=d))) + 1
    X = counts.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1 / np.maximum(norms, 1e-12)) @ X), y


def gauss(n: int, s: int, d: int, k: int, rng: np.random.Generator):
    """(CSR (n, d) with s stored values a row, labels): the ``gauss`` family."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n, d, n_informative=d // 2, n_redundant=0, n_classes=k, random_state=SEED
    )
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    cols = np.argsort(rng.random((n, d)), axis=1)[:, :s]  # s distinct places a row
    rows = np.repeat(np.arange(n), s)
    return sp.csr_matrix((X[rows, cols.ravel()], (rows, cols.ravel())), shape=(n, d)), y


def make(problem: tuple):
    family, n, s, d, k = problem
    return (text if family == "text" else gauss)(n, s, d, k, np.random.default_rng(SEED))


def fit_one(index: int, solver: str) -> dict:
    """Fit problem ``index`` by ``solver`` (after a small warm-up fit): time, convergence, objective."""
    from sklearn.exceptions import ConvergenceWarning

    from losslab import LinearSVM, config
    from losslab.training.objective import Objective, encode_targets, evaluate

    X, y = make(PROBLEMS[index])
    with config.fast(True):  # loads the kernels (as a session that has fitted before has them)
        LinearSVM(solver=solver, max_iter=2).fit(X[:50], np.arange(50) % 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        svm = LinearSVM(solver=solver).fit(X, y)
        seconds = time.perf_counter() - start
    spec = svm.training_spec(X.shape[0])
    objective = Objective(svm.model_, spec.loss, reg=svm.alpha_, penalty="l2")
    target = encode_targets(spec.loss, np.searchsorted(svm.classes_, y), svm.model_.n_outputs)
    return {
        "seconds": seconds,
        "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
        "objective": evaluate(objective, X, target)["val_loss"],
        "iterations": int(svm.n_iter_),
        "nnz": int(X.nnz),
    }


def run_in_child(index: int, solver: str, timeout: float) -> dict | None:
    """fit_one in a fresh single-threaded process; None when it ran past ``timeout``."""
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}
    command = [sys.executable, __file__, "--child", str(index), solver]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **threads}
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def cell(result: dict | None, best: float, timeout: float) -> str:
    if result is None:
        return f"> {timeout:.0f} s | - | -"
    flag = "" if result["converged"] else " (not converged)"
    excess = result["objective"] / best - 1
    return f"{result['seconds']:.2f} s{flag} | {result['iterations']} | {excess:.1e}"


def main(args: argparse.Namespace) -> None:
    print(f"{machine()}, {today()}; one thread a fit, timeout {args.timeout:.0f} s\n")
    print(
        "| problem | stored values | dual_cd time | epochs | objective excess "
        "| smoothing time | Newton steps | objective excess |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for index, problem in enumerate(PROBLEMS):
        if args.only and args.only not in name_of(problem):
            continue
        results = [run_in_child(index, solver, args.timeout) for solver in SOLVERS]
        best = min(r["objective"] for r in results if r is not None)
        nnz = next(r["nnz"] for r in results if r is not None)
        cells = " | ".join(cell(r, best, args.timeout) for r in results)
        print(
            f"| {name_of(problem)} | {nnz:,} ({nnz / problem[1]:.0f} a row) | {cells} |", flush=True
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(fit_one(int(sys.argv[2]), sys.argv[3])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a fit may take")
    parser.add_argument("--only", default="", help="run the problems whose name holds this")
    main(parser.parse_args())
