"""Test accuracy of losslab's estimators (defaults) against scikit-learn's, on the same splits.

Run:  python bench/accuracy.py [--splits 5]

digits: SoftmaxClassifier() vs LogisticRegression(), LinearSVM() vs LinearSVC(),
on stratified 75/25 splits (seeds 0..splits-1) of the raw pixel features.
spiral (900 points, 3 arms): MLPClassifier vs both linear models (standardised),
where a linear model cannot separate the classes.
Prints a markdown table. The user guide's accuracy table (docs/guide/training.md,
"Accuracy against scikit-learn") comes from bench/estimators.py instead: four data
sets, 10 splits, fit times.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from losslab import datasets
from losslab.estimators import LinearSVM, MLPClassifier, SoftmaxClassifier


def scores(make, splits):
    out = []
    for X_train, X_test, y_train, y_test in splits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            out.append(make().fit(X_train, y_train).score(X_test, y_test))
    return np.array(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=5)
    args = ap.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    splits = [
        train_test_split(X, y, test_size=0.25, random_state=s, stratify=y)
        for s in range(args.splits)
    ]
    rows = [
        (
            "digits",
            "SoftmaxClassifier()",
            lambda: SoftmaxClassifier(random_state=0),
            "LogisticRegression()",
            LogisticRegression,
        ),
        ("digits", "LinearSVM()", lambda: LinearSVM(random_state=0), "LinearSVC()", LinearSVC),
    ]
    print(
        f"| data | losslab | accuracy (mean over {args.splits} splits) | scikit-learn | accuracy | difference (min .. max) |"
    )
    print("|---|---|---|---|---|---|")
    for data, ours_name, ours, ref_name, ref in rows:
        a, b = scores(ours, splits), scores(ref, splits)
        d = a - b
        print(
            f"| {data} | {ours_name} | {a.mean():.4f} | {ref_name} | {b.mean():.4f} | {d.mean():+.4f} ({d.min():+.4f} .. {d.max():+.4f}) |"
        )
    spiral = [
        (ds.X_train, ds.X_test, ds.y_train, ds.y_test)
        for ds in (
            datasets.load("spiral", random_state=s, n_samples=900) for s in range(args.splits)
        )
    ]
    mlp = scores(lambda: MLPClassifier(hidden_layer_sizes=(100,), lr=1e-2, random_state=0), spiral)
    for name, make in [
        ("SoftmaxClassifier(lr=1e-2)", lambda: SoftmaxClassifier(lr=1e-2, random_state=0)),
        ("LinearSVM(lr=1e-2)", lambda: LinearSVM(lr=1e-2, random_state=0)),
    ]:
        lin = scores(make, spiral)
        print(
            f"| spiral | MLPClassifier((100,), lr=1e-2) | {mlp.mean():.4f} | losslab {name} | {lin.mean():.4f} | {(mlp - lin).mean():+.4f} |"
        )


if __name__ == "__main__":
    main()
