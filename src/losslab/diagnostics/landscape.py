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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import losses
from ..losses._registry import Loss
from ..models import Model, Params
from ..training import Objective, build_classifier, encode_targets, evaluate, fit

if TYPE_CHECKING:
    from ..data.datasets import Dataset


@dataclass
class Landscape:
    """The objective on a 2-D slice, the line through its center, and a projected path.

    Attributes
    ----------
    alphas : ndarray of shape (A,)
        Coordinates along the first direction.
    betas : ndarray of shape (B,)
        Coordinates along the second.
    values : ndarray of shape (B, A)
        The objective (data loss + reg·penalty) at each point of the grid.
    line : ndarray of shape (A,)
        The objective along the first direction (β = 0): the 1-D slice.
    path : ndarray of shape (T, 2) or None
        The optimizer's path projected onto the plane.
    path_values : ndarray of shape (T,) or None
        The objective at the projected path's points.
    reg : float
        The regularization strength of the objective.
    directions : str
        "random", "pca" or "chosen".
    center_value : float
        The objective at the center (α = β = 0).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> slice_ = landscape(Linear(4, 3, random_state=0), "softmax", X, y, resolution=5)
    >>> slice_.alphas.tolist(), slice_.values.shape, slice_.directions
    ([-1.0, -0.5, 0.0, 0.5, 1.0], (5, 5), 'random')
    >>> bool(np.allclose(slice_.line, slice_.values[2]))  # the row at β = 0
    True
    >>> round(slice_.center_value, 3)  # ln 3 at small initial weights
    1.099

    References
    ----------
    H. Li, Z. Xu, G. Taylor, C. Studer and T. Goldstein, "Visualizing the Loss
    Landscape of Neural Nets", NeurIPS 2018.
    """

    alphas: np.ndarray
    betas: np.ndarray
    values: np.ndarray  # (len(betas), len(alphas)) objective on the 2-D slice
    line: np.ndarray  # objective along d1 (β = 0)
    path: np.ndarray | None  # (T, 2) coordinates of the optimizer's path in the plane
    path_values: np.ndarray | None
    reg: float
    directions: str

    @property
    def center_value(self) -> float:
        """The objective at the slice's center (α = β = 0): the trained point."""
        return float(self.values[len(self.betas) // 2, len(self.alphas) // 2])


def random_direction(
    params: Params, rng: np.random.Generator, filter_normalize: bool = True
) -> Params:
    """A random direction in parameter space, filter-normalised against ``params``.

    Parameters
    ----------
    params : dict of str to ndarray
        A model's parameters (``model.params``).
    rng : Generator
        Draws the direction's entries (standard normal).
    filter_normalize : bool, default True
        Rescale each column of a weight matrix's direction to the norm of that
        column of the weights; biases (1-D parameters) get a zero direction.

    Returns
    -------
    dict of str to ndarray
        One array per parameter, of its shape.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> model = Linear(4, 3, random_state=0)
    >>> d = random_direction(model.params, np.random.default_rng(0))
    >>> d["b"].tolist()
    [0.0, 0.0, 0.0]
    >>> np.allclose(np.linalg.norm(d["W"], axis=0), np.linalg.norm(model.params["W"], axis=0))
    True

    References
    ----------
    Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural
    Nets", NeurIPS (2018).
    """
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


def pca_directions(center: Params, path: Sequence[Params]) -> tuple[Params, Params]:
    """The two principal directions of the path's deviations from the center, as parameter dicts.

    The first is scaled so that α = ±1 spans the path.

    Parameters
    ----------
    center : dict of str to ndarray
        The slice's center (usually the trained parameters).
    path : list of dict of str to ndarray
        Parameters along the optimizer's path, at least two.

    Returns
    -------
    d1, d2 : dict of str to ndarray
        The first two principal directions of the path's offsets from the
        center, both scaled so that α = ±1 spans the path along the first.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> model = Linear(4, 3, random_state=0)
    >>> path = training_path(model, "softmax", X, y, epochs=5)
    >>> d1, d2 = pca_directions(model.params, path)
    >>> sorted(d1)
    ['W', 'b']

    References
    ----------
    Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural
    Nets", NeurIPS (2018).
    """
    deltas = np.stack([_flat(p) - _flat(center) for p in path])
    _, _, vt = np.linalg.svd(deltas - deltas.mean(axis=0), full_matrices=False)
    first, second = vt[0], vt[1] if len(vt) > 1 else np.zeros_like(vt[0])
    scale = np.abs(deltas @ first).max() or 1.0  # so α = ±1 spans the path
    return _unflat(first * scale, center), _unflat(second * scale, center)


def landscape(
    model: Model,
    loss: str | Loss,
    X: np.ndarray,
    y: np.ndarray,
    *,
    reg: float = 0.0,
    penalty: str = "l2",
    directions: str | tuple[Params, Params] = "random",
    path: Sequence[Params] | None = None,
    span: float = 1.0,
    resolution: int = 25,
    seed: int = 0,
    max_samples: int = 2000,
) -> Landscape:
    r"""Evaluate the objective (data loss + reg·penalty) on a 2-D slice around ``model.params``.

    .. math::

        f(\alpha, \beta) = L(\theta^* + \alpha d_1 + \beta d_2) + \lambda R(\theta^* + \alpha d_1 + \beta d_2)

    The model's parameters are restored afterwards.

    Parameters
    ----------
    model : Linear or MLP
        Its parameters are the center :math:`\theta^*`.
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    X : array of shape (N, D)
        The features.
    y : array of shape (N,)
        The labels (or targets).
    reg : float, default 0.0
        :math:`\lambda`.
    penalty : {"l2", "l1", "elasticnet"}, default "l2"
        The weight penalty R(θ) of the objective.
    directions : {"random", "pca"} or (dict, dict), default "random"
        "pca" needs ``path``.
    path : list of dict, optional
        Parameter dicts (e.g. one per epoch) to project onto the slice.
    span : float, default 1.0
        α and β run over [-span, span].
    resolution : int, default 25
        Grid points along each direction.
    seed : int, default 0
        Seeds the random directions and the subsample.
    max_samples : int, default 2000
        Evaluate on at most this many samples (a random subset).

    Returns
    -------
    Landscape
        The objective on the grid, its 1-D slice and the projected path.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> model = Linear(4, 3, random_state=0)
    >>> path = training_path(model, "softmax", X, y, epochs=5)
    >>> slice_ = landscape(model, "softmax", X, y, directions="pca", path=path, resolution=5)
    >>> slice_.values.shape, slice_.path.shape
    ((5, 5), (6, 2))

    References
    ----------
    Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural
    Nets", NeurIPS (2018).
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


def project(path: Sequence[Params], center: Params, d1: Params, d2: Params) -> np.ndarray:
    """(α, β) of each point of the path: least squares in the plane spanned by d1, d2.

    Parameters
    ----------
    path : list of dict of str to ndarray
        Parameters along the optimizer's path.
    center : dict of str to ndarray
        The plane's origin.
    d1, d2 : dict of str to ndarray
        The plane's directions.

    Returns
    -------
    ndarray of shape (T, 2)
        The least-squares coordinates (α, β) of each point of the path
        in the plane.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> model = Linear(4, 3, random_state=0)
    >>> path = training_path(model, "softmax", X, y, epochs=5)
    >>> d1, d2 = pca_directions(model.params, path)
    >>> project(path, model.params, d1, d2)[-1].round(6).tolist()  # the path ends at the center
    [0.0, 0.0]

    References
    ----------
    H. Li, Z. Xu, G. Taylor, C. Studer and T. Goldstein, "Visualizing the Loss Landscape of
    Neural Nets", NeurIPS 2018.
    """
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
    ds: Dataset,
    loss: str | Loss,
    *,
    model: str = "linear",
    hidden: tuple[int, ...] = (100,),
    reg: float = 0.0,
    compare_reg: float = 0.1,
    epochs: int = 20,
    lr: float = 0.01,
    directions: str = "pca",
    resolution: int = 25,
    span: float = 1.0,
    seed: int = 0,
) -> tuple[Landscape, Landscape, Landscape]:
    """Train a model, recording its parameters after every epoch, then slice the landscape around the result.

    Parameters
    ----------
    ds : Dataset
        From :func:`losslab.data.load`; the slices use its training split.
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    model : {"linear", "mlp"}, default "linear"
        The model to train.
    hidden : tuple of int, default (100,)
        The MLP's hidden layers.
    reg : float, default 0.0
        The training's (and the first slice's) regularization strength.
    compare_reg : float, default 0.1
        The third slice's strength.
    epochs, lr : int and float
        Adam's training run.
    directions : {"pca", "random"}, default "pca"
        Of the first slice.
    resolution : int, default 25
        Grid points along each direction.
    span : float, default 1.0
        α and β run over [-span, span].
    seed : int, default 0
        Seeds the model, the training and the random directions.

    Returns
    -------
    with_path, plain, regularized : Landscape
        The slice with the path; then one random plane without regularization and
        with ``compare_reg``, sharing directions, for seed 002's ridge figure.

    Examples
    --------
    >>> from losslab.data import load
    >>> main, plain, ridge = train_and_slice(load("iris"), "softmax", epochs=5, resolution=5)
    >>> main.directions, plain.reg, ridge.reg
    ('pca', 0.0, 0.1)

    References
    ----------
    Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural
    Nets", NeurIPS (2018).
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


def training_path(
    model: Model,
    loss: str | Loss,
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr: float = 0.01,
    reg: float = 0.0,
    epochs: int = 20,
    seed: int = 0,
) -> list[Params]:
    """Train ``model`` in place with Adam; its parameters before training and after every epoch.

    Parameters
    ----------
    model : Linear or MLP
        Trained in place from its current weights.
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    X : array of shape (N, D)
        The features.
    y : array of shape (N,)
        The labels (or targets).
    lr : float, default 1e-2
        Adam's learning rate.
    reg : float, default 0.0
        The L2 strength.
    epochs : int, default 20
        Epochs of :func:`losslab.fit` (mini-batches of 64).
    seed : int, default 0
        Seeds the shuffling.

    Returns
    -------
    list of dict of str to ndarray
        ``epochs + 1`` copies of the parameters (fewer if training stopped early).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> model = Linear(4, 3, random_state=0)
    >>> len(training_path(model, "softmax", X, y, epochs=5))
    6

    References
    ----------
    H. Li, Z. Xu, G. Taylor, C. Studer and T. Goldstein, "Visualizing the Loss Landscape of
    Neural Nets", NeurIPS 2018.
    """
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
