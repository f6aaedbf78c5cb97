"""Seconds of SoftmaxClassifier's two-epoch fit on bench/train.py's synthetic problem, seed by seed.

The body of bench/train.py's ``run_losslab`` without the search for the target accuracy:
for comparing two trees of losslab, run it once per tree with ``PYTHONPATH=<tree>/src``,
alternating. Prints the seconds of each seed and the last fit's test accuracy.
"""

import argparse
import time

from losslab import SoftmaxClassifier
from train import ALPHA, split, synthetic


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--label", default="", help="printed first, e.g. the tree's name")
    args = ap.parse_args(argv)
    X_train, X_test, y_train, y_test = split(*synthetic(100_000, 256, 10))
    SoftmaxClassifier(max_iter=1, tol=None).fit(X_train[:1000], y_train[:1000])  # load kernels
    seconds = []
    for seed in range(args.seeds):
        est = SoftmaxClassifier(
            solver="sgd",
            batch_size=512,
            lr=1e-2,
            schedule="cosine",
            alpha=ALPHA,
            max_iter=2,
            tol=None,
            random_state=seed,
        )
        start = time.perf_counter()
        est.fit(X_train, y_train)
        seconds.append(time.perf_counter() - start)
    print(args.label, " ".join(f"{s:.3f}" for s in seconds), f"acc {est.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
