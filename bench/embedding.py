"""Retrieval with a learned embedding against raw pixels and PCA of the same dimension, on digits.

Run:  python bench/embedding.py [--dim 32] [--epochs 100]

The embedding is trained on digits 0-6 only (70% of their samples). Held-out
samples: the other 30% of 0-6 query the training images. Held-out classes:
digits 7-9, never seen in training, each querying all the others (leave-one-out).
Pixels are scaled to [0, 1]. Prints recall@1 and mean average precision.
"""

from __future__ import annotations

import argparse

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from _common import machine, today
from losslab import metrics
from losslab.embedding import MetricLearner


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=100)
    args = ap.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    seen = y < 7
    X_train, X_test, y_train, y_test = train_test_split(
        X[seen], y[seen], test_size=0.3, random_state=0, stratify=y[seen]
    )
    X_new, y_new = X[~seen], y[~seen]
    learner = MetricLearner(
        args.dim,
        model="mlp",
        hidden_layer_sizes=(256,),
        alpha=1e-4,
        margin=0.1,
        max_iter=args.epochs,
        random_state=0,
    ).fit(X_train, y_train)
    pca = PCA(args.dim, random_state=0).fit(X_train)
    features = {
        "raw pixels (64)": lambda A: A,
        f"PCA-{args.dim}": pca.transform,
        f"learned-{args.dim} (triplet, semihard)": learner.transform,
    }
    print(f"# digits retrieval; {machine()}; {today()}")
    print("| features | held-out samples recall@1 | mAP | held-out classes recall@1 | mAP |")
    print("|---|---|---|---|---|")
    for name, f in features.items():
        gallery = {"gallery": f(X_train), "gallery_labels": y_train}
        cells = [
            metrics.recall_at_k(f(X_test), y_test, 1, **gallery),
            metrics.mean_average_precision(f(X_test), y_test, **gallery),
            metrics.recall_at_k(f(X_new), y_new, 1),
            metrics.mean_average_precision(f(X_new), y_new),
        ]
        print(f"| {name} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
