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

from .. import config


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
        b1, b2 = self.beta1, self.beta2
        step = lr / (1 - b1**t)  # bias correction of m, folded into the step
        root_bc2 = math.sqrt(1 - b2**t)
        kernels = config.fast_train_kernels()
        scalars = {}  # per dtype: the kernel's scalars, rounded as NumPy rounds them
        for k, g in grads.items():
            p, m, v = params[k], state["m"][k], state["v"][k]
            if kernels and flat_views(p, g, m, v):
                # one pass instead of nine NumPy calls; same operations, same rounding
                if p.dtype not in scalars:
                    c = p.dtype.type
                    scalars[p.dtype] = tuple(
                        map(c, (b1, 1 - b1, b2, 1 - b2, step, root_bc2, self.eps))
                    )
                flat = (a.reshape(-1) for a in (p, g, m, v))
                kernels.adam_update(*flat, *scalars[p.dtype])
                continue
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            # θ -= α m̂ / (sqrt(v̂) + ε), exactly as Algorithm 1 of the paper (and torch)
            p -= step * m / (np.sqrt(v) / root_bc2 + self.eps)


def flat_views(*arrays):
    """True when numba kernels can update these arrays through flat views: one float dtype,
    all C-contiguous (a flat view of another layout is a copy, and writes to it are lost)."""
    dtype = arrays[0].dtype
    return (
        dtype.kind == "f"
        and all(a.dtype == dtype for a in arrays)
        and all(a.flags.c_contiguous for a in arrays)
    )


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
