"""First-order optimizers and learning-rate schedules.

Every optimizer shares one interface (optax's init/update split, with explicit
state, but updating in place for speed):

    opt = Adam()
    state = opt.init(params)                 # a dict of arrays and counters
    opt.update(params, grads, state, lr)     # params[k] -= ... in place

``params`` and ``grads`` are dicts of arrays with the same keys. ``lr`` is the
learning rate for this step (from a schedule); it is a call argument so one
optimizer object serves any schedule.
"""

from __future__ import annotations

import math

import numpy as np

from .. import fast
from ..fast import flat_views as flat_views  # public here too: optim.flat_views


class SGD:
    """Plain (stochastic) gradient descent: θ ← θ - α ∇J(θ). GD when the batch is the data."""

    def init(self, params):
        return {}

    def update(self, params, grads, state, lr):
        for k, g in grads.items():
            params[k] -= lr * g


GD = SGD


class Momentum:
    """Heavy-ball momentum: v ← μ v - α g; θ ← θ + v."""

    def __init__(self, momentum=0.9):
        self.momentum = momentum

    def init(self, params):
        return {"v": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(self, params, grads, state, lr):
        for k, g in grads.items():
            v = state["v"][k]
            v *= self.momentum
            v -= lr * g
            params[k] += v


class Nesterov(Momentum):
    """Nesterov momentum in the CS231n form: θ ← θ - μ v_prev + (1 + μ) v."""

    def update(self, params, grads, state, lr):
        mu = self.momentum
        for k, g in grads.items():
            v = state["v"][k]
            params[k] -= mu * v
            v *= mu
            v -= lr * g
            params[k] += (1 + mu) * v


class AdaGrad:
    """Per-coordinate rates shrinking with the accumulated squared gradient."""

    def __init__(self, eps=1e-8):
        self.eps = eps

    def init(self, params):
        return {"cache": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(self, params, grads, state, lr):
        for k, g in grads.items():
            cache = state["cache"][k]
            cache += g * g
            params[k] -= lr * g / (np.sqrt(cache) + self.eps)


class RMSProp:
    """AdaGrad with a leaky (exponential moving) average of squared gradients."""

    def __init__(self, decay=0.99, eps=1e-8):
        self.decay, self.eps = decay, eps

    def init(self, params):
        return {"cache": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(self, params, grads, state, lr):
        for k, g in grads.items():
            cache = state["cache"][k]
            cache *= self.decay
            cache += (1 - self.decay) * g * g
            params[k] -= lr * g / (np.sqrt(cache) + self.eps)


class Adam:
    """Adam (Kingma & Ba 2015): momentum plus RMSProp, with bias correction."""

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def init(self, params):
        return {
            "t": 0,
            "m": {k: np.zeros_like(p) for k, p in params.items()},
            "v": {k: np.zeros_like(p) for k, p in params.items()},
        }

    def update(self, params, grads, state, lr):
        state["t"] += 1
        t = state["t"]
        step = lr / (1 - self.beta1**t)  # bias correction of m, folded into the step
        root_bc2 = math.sqrt(1 - self.beta2**t)  # and of v, folded into its square root
        for k, g in grads.items():
            m, v = state["m"][k], state["v"][k]
            adam_step(params[k], g, m, v, self.beta1, self.beta2, step, root_bc2, self.eps)


@fast.fused_by("adam")
def adam_step(param, grad, m, v, beta1, beta2, step, root_bc2, eps):
    """One array's Adam update, in place: the moments m and v, then the parameter.

    ``step`` is the learning rate over 1 - β₁ᵗ and ``root_bc2`` is sqrt(1 - β₂ᵗ).
    """
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad * grad
    # θ -= α m̂ / (sqrt(v̂) + ε), exactly as Algorithm 1 of the paper (and torch)
    param -= step * m / (np.sqrt(v) / root_bc2 + eps)


OPTIMIZERS = {
    "sgd": SGD,
    "gd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def get(name, **options):
    """An optimizer by name (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``)."""
    if not isinstance(name, str):
        return name
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(
            f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {name!r} instead"
        )
    return OPTIMIZERS[key](**options)
