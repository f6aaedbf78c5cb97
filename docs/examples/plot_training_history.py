"""
What a training run records
===========================

A :class:`~losslab.SoftmaxClassifier` trained by mini-batch SGD on the bundled digits keeps
its :class:`~losslab.History` in ``history_``: the loss of every mini-batch (noisy, because
each batch is a different sample of the data) and, per epoch, the training and validation
loss and accuracy. Comparing the two losses is the first check for over-fitting.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from losslab import SoftmaxClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
clf = SoftmaxClassifier(solver="sgd", max_iter=200, early_stopping=True, random_state=0)
history = clf.fit(X, y).history_

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
steps_per_epoch = len(history.step_loss) / len(history.train_loss)
epochs_of_steps = [(i + 1) / steps_per_epoch for i in range(len(history.step_loss))]
ax_loss.plot(epochs_of_steps, history.step_loss, alpha=0.3, label="each mini-batch")
ax_loss.plot(range(1, len(history.train_loss) + 1), history.train_loss, label="train")
ax_loss.plot(range(1, len(history.val_loss) + 1), history.val_loss, label="validation")
ax_loss.set(xlabel="epoch", ylabel="softmax cross-entropy", yscale="log")
ax_loss.legend()
ax_acc.plot(range(1, len(history.train_accuracy) + 1), history.train_accuracy, label="train")
ax_acc.plot(range(1, len(history.val_accuracy) + 1), history.val_accuracy, label="validation")
ax_acc.set(xlabel="epoch", ylabel="accuracy")
ax_acc.legend()
plt.show()
