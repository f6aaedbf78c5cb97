"""Peak memory of fitting on a 1,000,000 × 256 float32 array (1 GB): no hidden float64 or shuffled copy.

Run:  /usr/bin/time -v python bench/memory.py     (read "Maximum resident set size")
The script also prints its own peak RSS (from resource.getrusage) and the ratio to the data size.
"""

from __future__ import annotations

import resource
import sys

import numpy as np

from losslab import SoftmaxClassifier


def main(rows=1_000_000, features=256):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, features), dtype=np.float32)
    y = (
        (X[:, :10] @ rng.standard_normal(10)).argsort().argsort() * 10 // rows
    )  # 10 balanced classes
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    SoftmaxClassifier(max_iter=1, tol=None, batch_size=512, random_state=0).fit(X, y)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"data {X.nbytes / 2**30:.2f} GiB; peak RSS before fit {baseline / 2**30:.2f} GiB, after {peak / 2**30:.2f} GiB"
    )
    print(
        f"peak / data = {peak / X.nbytes:.2f}; growth during fit = {(peak - baseline) / X.nbytes:.2f} × data"
    )


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
