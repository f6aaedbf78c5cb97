"""
Binary losses against the margin
================================

Every binary classification loss is a function of the margin ``y s``: how far on the right
side of the boundary a sample's score lies. Plotting each loss and its gradient against the
margin shows what each one asks of the model: the hinge stops caring once the margin passes
1, the logistic loss never quite stops, the perceptron is satisfied by any correct side, and
the squared hinge and modified Huber loss punish a wrong side quadratically or linearly.
The values and gradients are losslab's own.
"""

import matplotlib.pyplot as plt
import numpy as np

from losslab import losses

margin = np.linspace(-3, 3, 601)
target = np.ones_like(margin)  # y = +1, so the score is the margin
curves = {
    "hinge": losses.hinge(margin, target, reduction="none"),
    "squared hinge": losses.hinge(margin, target, squared=True, reduction="none"),
    "logistic": losses.sigmoid_binary_cross_entropy(margin, target, reduction="none"),
    "modified Huber": losses.modified_huber(margin, target, reduction="none"),
    "perceptron": losses.perceptron(margin, target, reduction="none"),
}

fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for name, (value, grad) in curves.items():
    ax_loss.plot(margin, value, label=name)
    ax_grad.plot(margin, grad, label=name)
ax_loss.set(xlabel="margin y·s", ylabel="loss", ylim=(-0.2, 5), title="loss")
ax_grad.set(xlabel="margin y·s", ylabel="d loss / d s", ylim=(-4.5, 0.5), title="gradient")
ax_loss.legend()
plt.show()
