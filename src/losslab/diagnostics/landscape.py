r"""Loss landscapes: the training objective on 1-D and 2-D slices through parameter space.

Around a point :math:`\theta^*` (usually the trained weights) the objective is
evaluated at :math:`\theta^* + \alpha d_1 + \beta d_2`. Directions are

- ``"random"``: Gaussian, *filter-normalised* (Li et al., "Visualizing the Loss
  Landscape of Neural Nets", 2018): each column of a direction (the weights into
  one output unit) is rescaled to the norm of the same column of θ*, so that
  slices of differently scaled layers are comparable; biases get no direction;
- ``"pca"``: the first two principal directions of the optimizer's path
  θ₀, θ₁, ... − θ*, which show the path itself (random directions in a
  high-dimensional space are nearly orthogonal to it);
- or two parameter dicts chosen by the caller.

The path is projected onto the slice's plane by least squares.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import losses
from ..training import Objective, build_classifier, encode_targets, evaluate, fit


@dataclass
class Landscape:
    alphas: np.ndarray
    betas: np.ndarray
    values: np.ndarray  # (len(betas), len(alphas)) objective on the 2-D slice
    line: np.ndarray  # objective along d1 (β = 0)
    path: np.ndarray | None  # (T, 2) coordinates of the optimizer's path in the plane
    path_values: np.ndarray | None
    reg: float
    directions: str

    @property
    def center_value(self):
        """The objective at the slice's center (α = β = 0): the trained point."""
        return float(self.values[len(self.betas) // 2, len(self.alphas) // 2])


def random_direction(params, rng, filter_normalize=True):
    """A random direction in parameter space, filter-normalised against ``params``."""
    direction = {}
    for name, p in params.items():
        d = rng.standard_normal(p.shape)
        if p.ndim == 1:
            d[:] = 0.0  # biases: no direction (Li et al.)
        elif filter_normalize:
            d *= np.linalg.norm(p, axis=0, keepdims=True) / np.maximum(
                np.linalg.norm(d, axis=0, keepdims=True), 1e-12
            )
        direction[name] = d
    return direction


def pca_directions(center, path):
    """The two principal directions of the path's deviations from the center, as parameter dicts."""
    deltas = np.stack([_flat(p) - _flat(center) for p in path])
    _, _, vt = np.linalg.svd(deltas - deltas.mean(axis=0), full_matrices=False)
    first, second = vt[0], vt[1] if len(vt) > 1 else np.zeros_like(vt[0])
    scale = np.abs(deltas @ first).max() or 1.0  # so α = ±1 spans the path
    return _unflat(first * scale, center), _unflat(second * scale, center)


def landscape(
    model,
    loss,
    X,
    y,
    *,
    reg=0.0,
    penalty="l2",
    directions="random",
    path=None,
    span=1.0,
    resolution=25,
    seed=0,
    max_samples=2000,
):
    """Evaluate the objective (data loss + reg·penalty) on a 2-D slice around ``model.params``.

    ``path`` is a list of parameter dicts (e.g. one per epoch) to project onto
    the slice. The model's parameters are restored afterwards.
    """
    loss = losses.get(loss)
    rng = np.random.default_rng(seed)
    if len(X) > max_samples:  # the shape of the landscape does not need every sample
        idx = rng.choice(len(X), max_samples, replace=False)
        X, y = X[idx], np.asarray(y)[idx]
    target = encode_targets(loss, y, model.n_outputs)
    center = {k: p.copy() for k, p in model.params.items()}
    d1, d2 = _directions(directions, center, path, rng)
    objective = Objective(model, loss, reg=reg, penalty=penalty)
    try:
        alphas, betas, values, line, coords, path_values = _evaluate_slice(
            objective, center, d1, d2, X, target, path, span, resolution
        )
    finally:
        for k, p in center.items():
            model.params[k][...] = p
    name = directions if isinstance(directions, str) else "chosen"
    return Landscape(alphas, betas, values, line, coords, path_values, reg, name)


def _directions(directions, center, path, rng):
    """The slice's two directions: "pca" of the path, "random", or the pair given."""
    if directions == "pca":
        if not path or len(path) < 2:
            raise ValueError("directions: 'pca' needs the optimizer's path (at least two points)")
        return pca_directions(center, path)
    if directions == "random":
        return random_direction(center, rng), random_direction(center, rng)
    return directions


def _evaluate_slice(objective, center, d1, d2, X, target, path, span, resolution):
    """The grid, the line β = 0 and the projected path's values; leaves the model's parameters moved."""
    alphas = np.linspace(-span, span, resolution)
    betas = np.linspace(-span, span, resolution)

    def at(a, b):
        return _value_at(objective, center, d1, d2, a, b, X, target)

    values = np.array([[at(a, b) for a in alphas] for b in betas])
    line = np.array([at(a, 0.0) for a in alphas])
    coords = path_values = None
    if path:
        coords = project(path, center, d1, d2)
        path_values = np.array([at(a, b) for a, b in coords])
    return alphas, betas, values, line, coords, path_values


def project(path, center, d1, d2):
    """(α, β) of each point of the path: least squares in the plane spanned by d1, d2."""
    basis = np.stack([_flat(d1), _flat(d2)], axis=1)
    deltas = np.stack([_flat(p) - _flat(center) for p in path], axis=1)
    coords, *_ = np.linalg.lstsq(basis, deltas, rcond=None)
    return coords.T


def _value_at(objective, center, d1, d2, a, b, X, target):
    for k, p in center.items():
        objective.model.params[k][...] = p + a * d1[k] + b * d2[k]
    return evaluate(objective, X, target)["val_loss"]


def _flat(params):
    return np.concatenate([np.ravel(params[k]) for k in sorted(params)])


def _unflat(vector, like):
    out, start = {}, 0
    for k in sorted(like):
        size = like[k].size
        out[k] = vector[start : start + size].reshape(like[k].shape)
        start += size
    return out


def train_and_slice(
    ds,
    loss,
    *,
    model="linear",
    hidden=(100,),
    reg=0.0,
    compare_reg=0.1,
    epochs=20,
    lr=1e-2,
    directions="pca",
    resolution=25,
    span=1.0,
    seed=0,
):
    """Train a model, recording its parameters after every epoch, then slice the landscape around the result.

    Returns (landscape with the path, landscape without reg, landscape with
    ``compare_reg``) — the last two share directions, for seed 002's ridge figure.
    """
    loss = losses.get(loss)
    net = build_classifier(
        model, ds.n_features, loss, ds.n_classes, hidden=hidden, random_state=seed
    )
    path = training_path(
        net, loss, ds.X_train, ds.y_train, lr=lr, reg=reg, epochs=epochs, seed=seed
    )
    around = functools.partial(
        landscape, net, loss, ds.X_train, ds.y_train, span=span, resolution=resolution, seed=seed
    )
    main = around(reg=reg, directions=directions, path=path)
    rng = np.random.default_rng(seed + 1)
    shared = (random_direction(net.params, rng), random_direction(net.params, rng))
    return main, around(reg=0.0, directions=shared), around(reg=compare_reg, directions=shared)


def training_path(model, loss, X, y, *, lr=1e-2, reg=0.0, epochs=20, seed=0):
    """Train ``model`` in place with Adam; its parameters before training and after every epoch."""
    path = [{k: p.copy() for k, p in model.params.items()}]

    def record(epoch, logs, m):
        path.append({k: p.copy() for k, p in m.params.items()})
        return False

    fit(
        model,
        loss,
        X,
        y,
        optimizer="adam",
        lr=lr,
        reg=reg,
        epochs=epochs,
        random_state=seed,
        callbacks=[record],
    )
    return path
