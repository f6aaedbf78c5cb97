"""
A learned 2-D embedding of the digits
=====================================

:class:`~losslab.MetricLearner` learns a map from the 64 pixels of a digit to a few numbers
such that digits of one class land near each other: by default an MLP trained with the soft
nearest-neighbour loss (NCA's objective) on class-balanced batches. Here it maps to two
dimensions, fitted on 70% of the digits and drawn for the held-out 30%, beside PCA's two
principal components of the same data. Recall@1, the fraction of held-out digits whose
nearest held-out neighbour has the same label, measures the difference.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from losslab import MetricLearner
from losslab.metrics import recall_at_k

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

embeddings = {
    "MetricLearner(n_components=2)": MetricLearner(n_components=2, random_state=0)
    .fit(X_train, y_train)
    .transform(X_test),
    "PCA, 2 components": PCA(n_components=2).fit(X_train).transform(X_test),
}

fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for ax, (name, points) in zip(axes, embeddings.items(), strict=True):
    recall = recall_at_k(points, y_test, k=1)
    ax.scatter(points[:, 0], points[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set(title=f"{name}: recall@1 {recall:.3f}", xticks=[], yticks=[])
plt.show()
