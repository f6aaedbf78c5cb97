"""
A loss landscape, and what L2 does to it
========================================

A linear softmax classifier is trained on iris with Adam, its weights recorded after every
epoch. The objective (data loss + regularization) is then evaluated on a plane through the
trained weights spanned by the path's two principal directions, with the path drawn on it
(left). On the right, one random plane through the same point without and with L2
regularization: the data loss alone has flat directions (scaling the separated weights up
keeps lowering it), and the penalty turns the valley into a bowl with one minimum.
"""

import matplotlib.pyplot as plt

from losslab.data import load
from losslab.diagnostics.landscape import train_and_slice

data = load("iris", random_state=0)
with_path, plain, ridge = train_and_slice(data, "softmax", epochs=20, lr=0.05, resolution=31)

fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
panels = [(with_path, "the training path (PCA plane)"), (plain, "no penalty"), (ridge, "L2, 0.1")]
for ax, (slice_, title) in zip(axes, panels, strict=True):
    contours = ax.contourf(slice_.alphas, slice_.betas, slice_.values, levels=30, cmap="viridis")
    fig.colorbar(contours, ax=ax)
    if slice_.path is not None:
        ax.plot(slice_.path[:, 0], slice_.path[:, 1], "w.-")
    ax.set(title=title, xlabel="α", ylabel="β")
plt.show()
