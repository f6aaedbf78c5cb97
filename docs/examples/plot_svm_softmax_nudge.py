"""
Nudging a correct score: the SVM loss stays put, softmax moves
==============================================================

The lecture's question: a sample is already classified correctly with a margin to spare.
What happens to the loss if its correct score changes a little? The multiclass SVM loss
only asks that the correct score beat the others by the margin, so once it does, the loss
is exactly zero and a nudge changes nothing. Softmax cross-entropy always wants the correct
class more probable, so its loss keeps falling as the correct score grows, and rises when it
shrinks. Here the car image of the lecture (scores 1.3, 4.9, 2.0, correct class "car") has
its car score moved from 2 to 8.
"""

import matplotlib.pyplot as plt
import numpy as np

from losslab import losses

car_scores = np.array([1.3, 4.9, 2.0])
label = np.array([1])
nudged = np.linspace(2.0, 8.0, 241)
scores = np.tile(car_scores, (nudged.size, 1))
scores[:, 1] = nudged
labels = np.repeat(label, nudged.size)

svm, _ = losses.multiclass_hinge(scores, labels, reduction="none")
softmax, _ = losses.softmax_cross_entropy(scores, labels, reduction="none")

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.plot(nudged, svm, label="multiclass SVM (Weston-Watkins)")
ax.plot(nudged, softmax, label="softmax cross-entropy")
ax.axvline(car_scores[1], color="grey", linestyle=":", label="the lecture's score, 4.9")
ax.set(xlabel="score of the correct class (car)", ylabel="loss of the car image")
ax.legend()
plt.show()

# %%
# Past a score of 3.0 (the largest other score, 2.0, plus the margin of 1) the SVM loss is
# zero and flat; softmax's loss and gradient are never exactly zero.
print(f"SVM loss at 4.9: {losses.multiclass_hinge(car_scores[None], label).value:.3f}")
print(f"softmax loss at 4.9: {losses.softmax_cross_entropy(car_scores[None], label).value:.3f}")
