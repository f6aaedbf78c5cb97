"""
Second-order methods on a thrown stone
======================================

Seed 002 frames learning as parameter estimation: fit the height of a thrown stone,
``f(t) = a t² + b t + c``, to noisy measurements. With three parameters, methods that use
the curvature (Gauss-Newton, Levenberg-Marquardt, Newton) reach the minimum in a handful of
evaluations, where gradient descent and Adam need thousands. Every method starts from
(1, 1, 1); the cost is ``½‖r‖²`` and an evaluation is one residual or Jacobian evaluation.
"""

import matplotlib.pyplot as plt

from losslab.data import trajectory
from losslab.optim.compare import compare_model

t, height = trajectory()  # the bundled throw: noise and a few gross outliers
runs, start = compare_model("poly2", t, height)

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for run in runs:
    evaluations = [row["nfev"] for row in run.history]
    cost = [row["cost"] for row in run.history]
    ax.plot(evaluations, cost, label=f"{run.name} ({run.evaluations:,} evaluations)")
ax.set(xscale="log", yscale="log", xlabel="evaluations", ylabel="cost ½‖r‖²")
ax.legend()
plt.show()

# %%
# The evaluations each method needed to come within 1e-6 of the best cost:
for run in runs:
    print(f"{run.name:20s} {run.to_best}")
