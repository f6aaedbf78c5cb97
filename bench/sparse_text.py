"""Sparse text-like data: losslab's defaults against scikit-learn's, accuracy, time and peak memory.

Run:  python bench/sparse_text.py [--rows 200000] [--splits 1] [--threads 1]

The problem is generated here, seeded, nothing downloaded: --rows documents
over a 100,000-word vocabulary whose background frequencies follow Zipf's law
(p ∝ 1/rank^1.1), 20 classes. Each class has its own 1,000 topic words (drawn
from the vocabulary without its 100 most frequent words) with their own Zipf
weights; a document draws a share of its tokens, uniform in [0, 0.04] and
its own, from its class's topic words and the rest from the background, so
most of each row is noise shared by every class (the share was set once, on
20,000 documents, so that SGDClassifier() scores 0.74 there: learnable, not
trivial; no losslab figure was looked at to set it). The number of tokens a
document draws is set so that a document holds about 100 distinct words (the
expected count under the background distribution), then the counts become
TF-IDF (scikit-learn's smooth idf, computed on the training rows) with
l2-normalised rows, as TfidfVectorizer gives. 70/30 split, stratified.

Every estimator is built with its defaults (nothing tuned on these numbers):
losslab's SoftmaxClassifier() and LinearSVM() on the CSR matrix; the streamed
path, fit_stream(SoftmaxClassifier(), source) from the training rows written
as an svmlight file, with fit_stream's default (one pass) and with the 30
epochs ``losslab train --stream`` runs; scikit-learn's SGDClassifier(),
LogisticRegression(solver="saga") and LinearSVC(). Each fit runs in its own
process: its wall time; its memory as the process's peak resident set during
the fit above its resident set just before (the kernel's high-water mark is
reset before the fit through /proc/self/clear_refs), next to the CSR's size
and the size the same matrix would have dense. BLAS and OpenMP run on
--threads threads in every fit. Reported: mean test accuracy over --splits
seeded splits, median fit time, the time ratio to LogisticRegression(saga).

``--only "fit_smoothed(svm, alpha=1/(2n))"`` also fits LinearSVM()'s objective
by the full-batch hinge solver, called directly (training/smoothing.py's
conjugate-gradient Newton steps on sparse X; solver="auto" trains a sparse
hinge problem by dual coordinate descent). It is not in the default run: it takes tens of
minutes at 20,000 documents.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from _common import machine, today

VOCAB, CLASSES, TOPIC_WORDS, STOP_WORDS, ZIPF = 100_000, 20, 1_000, 100, 1.1
SHARE = (0.0, 0.04)  # the share of a document's tokens drawn from its class's topic words
TARGET_NNZ = 100  # distinct words a document holds, on average
BLOCK = 10_000  # documents generated at a time (bounds the generator's memory)


def zipf(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Probabilities ∝ 1/rank^ZIPF over n items (ranks shuffled when rng is given)."""
    p = 1.0 / np.arange(1, n + 1) ** ZIPF
    if rng is not None:
        p = rng.permutation(p)
    return p / p.sum()


def tokens_for(p: np.ndarray, distinct: float) -> int:
    """The draws from p whose expected number of distinct items is ``distinct`` (bisection)."""
    lo, hi = 1, 1000 * int(distinct)  # wide: short documents of a small vocabulary need more
    while lo < hi:
        mid = (lo + hi) // 2
        if np.sum(-np.expm1(mid * np.log1p(-p))) < distinct:
            lo = mid + 1
        else:
            hi = mid
    return lo


def word_counts(rows: int, seed: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """(counts CSR of shape (rows, VOCAB), labels): the generator of the module's docstring."""
    rng = np.random.default_rng(seed)
    background = np.cumsum(zipf(VOCAB))
    topic_table = np.array(  # (CLASSES, TOPIC_WORDS): each class's topic words
        [
            rng.choice(np.arange(STOP_WORDS, VOCAB), TOPIC_WORDS, replace=False)
            for _ in range(CLASSES)
        ]
    )
    topic_cdf = np.cumsum(zipf(TOPIC_WORDS))
    n_tokens = tokens_for(zipf(VOCAB), TARGET_NNZ)
    y = rng.integers(0, CLASSES, rows)
    blocks = []
    for start in range(0, rows, BLOCK):
        labels = y[start : start + BLOCK]
        words = np.searchsorted(background, rng.random((len(labels), n_tokens)), side="right")
        topical = rng.random((len(labels), n_tokens)) < rng.uniform(*SHARE, (len(labels), 1))
        drawn = np.searchsorted(topic_cdf, rng.random(int(topical.sum())), side="right")
        in_doc = np.nonzero(topical)[0]  # the document of each topical token, in mask order
        words[topical] = topic_table[labels[in_doc], np.minimum(drawn, TOPIC_WORDS - 1)]
        doc = np.repeat(np.arange(len(labels)), n_tokens)
        counts = sp.csr_matrix(
            (np.ones(words.size), (doc, np.minimum(words.ravel(), VOCAB - 1))),
            shape=(len(labels), VOCAB),
        )
        counts.sum_duplicates()
        blocks.append(counts)
    return sp.vstack(blocks, format="csr"), y


def tfidf(train: sp.csr_matrix, test: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """TF-IDF with scikit-learn's smooth idf (from the training rows), rows l2-normalised."""
    n = train.shape[0]
    df = np.bincount(train.indices, minlength=train.shape[1])
    idf = np.log((1 + n) / (1 + df)) + 1
    out = []
    for counts in (train, test):
        X = counts.multiply(idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        out.append(sp.csr_matrix(sp.diags(1 / np.maximum(norms, 1e-12)) @ X))
    return out[0], out[1]


def make_split(rows: int, seed: int, directory: Path) -> dict[str, object]:
    """Generate, split 70/30, write the matrices (and the svmlight training file); their sizes."""
    from sklearn.datasets import dump_svmlight_file
    from sklearn.model_selection import train_test_split

    counts, y = word_counts(rows, seed)
    C_train, C_test, y_train, y_test = train_test_split(
        counts, y, test_size=0.3, random_state=seed, stratify=y
    )
    X_train, X_test = tfidf(C_train, C_test)
    sp.save_npz(directory / "train.npz", X_train)
    sp.save_npz(directory / "test.npz", X_test)
    np.save(directory / "y_train.npy", y_train)
    np.save(directory / "y_test.npy", y_test)
    dump_svmlight_file(X_train, y_train, str(directory / "train.svm"))
    stored = X_train.data.nbytes + X_train.indices.nbytes + X_train.indptr.nbytes
    return {
        "train_rows": X_train.shape[0],
        "nnz_per_row": X_train.nnz / X_train.shape[0],
        "csr_mb": stored / 1e6,
        "dense_mb": X_train.shape[0] * X_train.shape[1] * 8 / 1e6,
        "svm_mb": (directory / "train.svm").stat().st_size / 1e6,
    }


# --- one fit, in its own process -----------------------------------------------------------


LOSSLAB = ("SoftmaxClassifier()", "LinearSVM()")


def _losslab(name):
    from losslab import LinearSVM, SoftmaxClassifier

    return {"SoftmaxClassifier()": SoftmaxClassifier, "LinearSVM()": LinearSVM}[name]()


def _sklearn(name):
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.svm import LinearSVC

    return {
        "SGDClassifier()": SGDClassifier,
        "LogisticRegression(saga)": lambda: LogisticRegression(solver="saga"),
        "LinearSVC()": LinearSVC,
    }[name]()


STREAMED = {"fit_stream, 1 pass": 1, "fit_stream, 30 epochs": 30}
# LinearSVM()'s objective (alpha = 1/(2n)) by the smoothing solver, called directly: the
# estimator's solver="auto" trains a sparse hinge problem by dual coordinate descent; --only
SMOOTHING = "fit_smoothed(svm, alpha=1/(2n))"
# the slowest last, so that a long run reports the others first
FITS = [
    "SGDClassifier()",
    "LogisticRegression(saga)",
    "LinearSVC()",
    "fit_stream, 1 pass",
    "SoftmaxClassifier()",
    "fit_stream, 30 epochs",
    "LinearSVM()",
]


class _Scores:
    """predict() of a linear model's weights: the class of the largest score."""

    def __init__(self, model):
        self.W, self.b = model.params["W"], model.params["b"]

    def predict(self, X):
        return np.argmax(X @ self.W + self.b, axis=1)


def _smoothed_svm(X, y):
    """fit_smoothed on the Weston-Watkins hinge with LinearSVM()'s default alpha, 1/(2n)."""
    from losslab import models
    from losslab.training.smoothing import fit_smoothed

    model = models.Linear(X.shape[1], int(y.max()) + 1, random_state=0)
    fit_smoothed(model, "svm", X, y, reg=1 / (2 * X.shape[0]))
    return _Scores(model)


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


def fit_one(name: str, directory: Path) -> dict[str, float]:
    """Fit ``name`` on the split in ``directory``: seconds, test accuracy, memory growth (MB)."""
    X_test, y_test = sp.load_npz(directory / "test.npz"), np.load(directory / "y_test.npy")
    if name in STREAMED:
        from losslab import SoftmaxClassifier
        from losslab.data.formats import SvmlightSource
        from losslab.scale.stream import fit_stream

        def fit():  # the vocabulary's size is known: a word unseen in training is a column too
            source = SvmlightSource(directory / "train.svm", n_features=VOCAB, zero_based=True)
            return fit_stream(SoftmaxClassifier(), source, epochs=STREAMED[name])[0]
    elif name == SMOOTHING:
        X, y = sp.load_npz(directory / "train.npz"), np.load(directory / "y_train.npy")

        def fit():
            return _smoothed_svm(X, y)
    else:
        X, y = sp.load_npz(directory / "train.npz"), np.load(directory / "y_train.npy")
        estimator = _losslab(name) if name in LOSSLAB else _sklearn(name)

        def fit():
            return estimator.fit(X, y)

    before = _rss_kb("VmRSS:")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set (VmHWM) to the current one
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning is part of a default's result
        fitted = fit()
    seconds = time.perf_counter() - started
    peak = _rss_kb("VmHWM:")
    return {
        "seconds": seconds,
        "accuracy": float(np.mean(fitted.predict(X_test) == y_test)),
        "growth_mb": (peak - before) * 1024 / 1e6,
        "peak_mb": peak * 1024 / 1e6,
    }


def run_in_child(name: str, directory: Path, threads: int) -> dict[str, float]:
    env = dict(os.environ) | {
        var: str(threads) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    out = subprocess.run(
        [sys.executable, __file__, "--fit", name, "--dir", str(directory)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{name}: the fit failed\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def split_in(directory: Path, rows: int, seed: int) -> dict[str, object]:
    """The split's sizes, generating it into ``directory`` unless it is there already."""
    meta = directory / f"split-{rows}-{seed}.json"
    if not meta.is_file():
        started = time.perf_counter()
        sizes = make_split(rows, seed, directory)
        print(f"split {seed}: generated in {time.perf_counter() - started:.0f} s", flush=True)
        meta.write_text(json.dumps(sizes))
    return json.loads(meta.read_text())


def main(args: argparse.Namespace) -> None:
    fits = (
        FITS if args.only is None else [f for f in [*FITS, SMOOTHING] if f in args.only.split(";")]
    )
    results: dict[str, list[dict[str, float]]] = {name: [] for name in fits}
    sizes = []
    for seed in range(args.splits):
        with tempfile.TemporaryDirectory() as tmp:
            where = Path(args.keep) / str(seed) if args.keep else Path(tmp)
            where.mkdir(parents=True, exist_ok=True)
            sizes.append(split_in(where, args.rows, seed))
            print(f"split {seed}: {sizes[-1]}", flush=True)
            for name in fits:
                results[name].append(run_in_child(name, where, args.threads))
                print(f"  {name}: {results[name][-1]}", flush=True)
    report(args, results, sizes)


def report(args, results, sizes):
    size = sizes[0]
    print(
        f"\n{args.rows:,} documents ({size['train_rows']:,} training rows), {VOCAB:,} words, "
        f"{CLASSES} classes, {size['nnz_per_row']:.1f} stored values a row; training CSR "
        f"{size['csr_mb']:.0f} MB (dense float64: {size['dense_mb'] / 1e3:,.0f} GB); svmlight file "
        f"{size['svm_mb']:.0f} MB; {args.splits} split(s); {args.threads} thread(s); "
        f"{machine()}; {today()}\n"
    )
    saga = results.get("LogisticRegression(saga)") or [{"seconds": float("nan")}]
    ref = statistics.median(r["seconds"] for r in saga)
    print(
        "| fit (defaults) | test accuracy | fit s | time / LogisticRegression(saga) | peak RSS growth during fit, MB |"
    )
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        print(
            f"| {name} | {statistics.mean(r['accuracy'] for r in runs):.4f} | {seconds:.1f} | "
            f"{seconds / ref:.2f} | {statistics.median(r['growth_mb'] for r in runs):.0f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="documents (default 200,000)")
    parser.add_argument("--splits", type=int, default=1, help="seeded 70/30 splits (default 1)")
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS/OpenMP threads a fit (default 1)"
    )
    parser.add_argument(
        "--only",
        help="the fits to run, named as in the table, ';'-separated; "
        f"'{SMOOTHING}' (not run by default: tens of minutes at 20,000 rows) only this way",
    )
    parser.add_argument("--keep", help="keep the generated splits in this folder (and reuse them)")
    parser.add_argument("--fit", help=argparse.SUPPRESS)  # the child process: one fit
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit:
        print(json.dumps(fit_one(args.fit, Path(args.dir))))
    else:
        main(args)
