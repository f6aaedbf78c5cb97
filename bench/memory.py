"""Peak memory of fitting on a 1,000,000 × 256 float32 array (1 GB): no hidden float64 or shuffled copy.

Run:  /usr/bin/time -v python bench/memory.py     (read "Maximum resident set size")

Prints two measures:
- the process's peak resident set size (getrusage; the same figure as /usr/bin/time -v)
  against the data size: data, the interpreter and every imported library
  (scikit-learn alone brings SciPy, and pandas and pyarrow when installed), and fit;
- tracemalloc's peak of traced allocations during fit (NumPy reports its arrays
  to it) against the data size: X itself plus whatever fit allocates at its worst
  moment — the measure of hidden copies, whatever the libraries around it weigh.
"""

from __future__ import annotations

import resource
import sys
import tracemalloc

import numpy as np

from losslab import SoftmaxClassifier


def balanced_labels(X, classes=10, block=65536):
    """10 balanced classes from a random projection of 10 features, block by block
    (a whole-column product would make X-sized temporaries the fit is not to blame for)."""
    w = np.random.default_rng(1).standard_normal(10).astype(np.float32)
    z = np.concatenate([X[i : i + block, :10] @ w for i in range(0, len(X), block)])
    return (z.argsort().argsort() * classes // len(X)).astype(np.intp)


def main(rows=1_000_000, features=256):
    tracemalloc.start()
    X = np.random.default_rng(0).standard_normal((rows, features), dtype=np.float32)
    y = balanced_labels(X)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.reset_peak()
    SoftmaxClassifier(max_iter=1, tol=None, batch_size=512, random_state=0).fit(X, y)
    traced_peak = tracemalloc.get_traced_memory()[1]
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"data {X.nbytes / 2**30:.2f} GiB ({X.nbytes // 1024:,} kB)")
    print(
        f"peak RSS {rss_peak // 1024:,} kB = {rss_peak / X.nbytes:.2f} × data "
        f"(before fit {rss_before / X.nbytes:.2f} ×; growth during fit "
        f"{(rss_peak - rss_before) / X.nbytes:.2f} ×)"
    )
    print(f"peak traced allocations during fit = {traced_peak / X.nbytes:.3f} × data")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
