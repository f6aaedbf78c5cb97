"""
Optimizers racing on the Rosenbrock valley
==========================================

The Rosenbrock function ``(1 - x)² + 100 (y - x²)²`` has its minimum at (1, 1) at the bottom
of a long, narrow, curved valley: easy to find, slow to reach. Every optimizer of
:mod:`losslab.optim` starts from the same point and takes the same number of steps; plain
gradient descent crawls along the valley floor, momentum overshoots and recovers, the
adaptive methods rescale each coordinate, and Newton's method uses the curvature.
"""

import matplotlib.pyplot as plt
import numpy as np

from losslab.diagnostics.surfaces import SURFACES, race

surface = SURFACES["rosenbrock"]
paths = race(surface, steps=300)

xmin, xmax, ymin, ymax = surface.box
x, y = np.meshgrid(np.linspace(xmin, xmax, 200), np.linspace(ymin, ymax, 200))
z = surface.f(np.stack([x, y]))

fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
ax.contour(x, y, np.log1p(z), levels=25, cmap="Greys", linewidths=0.6)
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], ".-", markersize=2, linewidth=1, label=name)
ax.plot(*surface.minimum, "k*", markersize=12)
ax.set(xlim=(xmin, xmax), ylim=(ymin, ymax), xlabel="x", ylabel="y")
ax.legend(fontsize="small", loc="lower right")
plt.show()
