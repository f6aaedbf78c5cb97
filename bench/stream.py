"""Out-of-core training on a generated ~4 GB .npy file: peak memory stays far below the data size.

Run:  python bench/stream.py --make /tmp/big.npy          (writes 4,000,000 × 257 float32, in blocks)
      /usr/bin/time -v python bench/stream.py /tmp/big.npy  (one streamed epoch; read "Maximum resident set size")

The file holds 256 features and a label (10 classes from a noisy linear
teacher). Training streams it in 16,384-row chunks (in shuffled order) through a 16,384-row shuffle
buffer into SoftmaxClassifier.partial_fit, holding out every 10th row for testing.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from losslab import SoftmaxClassifier
from losslab.stream import fit_stream, open_source, score_stream


def make(path, rows=4_000_000, features=256, block=100_000, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((features, 10)).astype(np.float32) / np.sqrt(features)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, features + 1))
    for start in range(0, rows, block):
        X = rng.standard_normal((min(block, rows - start), features), dtype=np.float32)
        y = (4 * (X @ W) + rng.gumbel(size=(len(X), 10))).argmax(axis=1)
        out[start : start + len(X), :features] = X
        out[start : start + len(X), features] = y
    out.flush()
    print(f"wrote {path}: {out.nbytes / 2**30:.2f} GiB")


def train(path):
    source = open_source(path, chunk_rows=16_384)
    start = time.perf_counter()
    est, stats = fit_stream(
        SoftmaxClassifier(lr=1e-2, random_state=0),
        source,
        epochs=1,
        batch_size=1024,
        buffer_rows=32_768,
        holdout_every=10,
    )
    seconds = time.perf_counter() - start
    accuracy = score_stream(est, source, stats, holdout_every=10)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = source.array.nbytes / 2**20
    print(
        f"data {size:.0f} MiB; streamed {stats.n_rows} training rows in {seconds:.1f} s; test accuracy {accuracy:.4f}"
    )
    print(f"peak RSS {peak:.0f} MiB = {peak / size:.3f} × the data")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument(
        "--make", action="store_true", help="generate the file instead of training on it"
    )
    args = ap.parse_args()
    make(args.path) if args.make else train(args.path)
