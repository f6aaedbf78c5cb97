"""Learning-rate schedules: callables from the (fractional) epoch to the learning rate."""

from __future__ import annotations

import math


def constant(lr):
    return lambda epoch: lr


def step_decay(lr, step_size=10, gamma=0.5):
    """Multiply by ``gamma`` every ``step_size`` epochs."""
    return lambda epoch: lr * gamma ** math.floor(epoch / step_size)


def exponential(lr, gamma=0.95):
    """Multiply by ``gamma`` every epoch, smoothly."""
    return lambda epoch: lr * gamma**epoch


def cosine(lr, total_epochs, min_lr=0.0):
    """Half a cosine from ``lr`` down to ``min_lr`` over ``total_epochs``."""
    return lambda epoch: (
        min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(epoch / total_epochs, 1.0)))
    )


def inverse_scaling(lr, power_t=0.5):
    """scikit-learn's ``invscaling``: lr / (1 + epoch)^power_t."""
    return lambda epoch: lr / (1 + epoch) ** power_t


SCHEDULES = {
    "constant": constant,
    "step": step_decay,
    "exponential": exponential,
    "cosine": cosine,
    "invscaling": inverse_scaling,
    "inverse_scaling": inverse_scaling,
}


def schedule(name, lr, *, epochs=None, **options):
    """A schedule by name; ``epochs`` is needed by (and passed to) ``"cosine"`` only."""
    if callable(name):
        return name
    key = str(name).lower()
    if key not in SCHEDULES:
        raise ValueError(f"schedule: expected one of {', '.join(SCHEDULES)}, got {name!r} instead")
    if key == "cosine":
        return cosine(lr, options.pop("total_epochs", epochs or 1), **options)
    return SCHEDULES[key](lr, **options)
