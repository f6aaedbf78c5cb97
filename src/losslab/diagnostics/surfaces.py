"""Optimizers racing on classic 2-D surfaces: seed 004's challenges made visible.

- ``saddle``: f = x² - y² + y⁴/4 has a saddle point at the origin and minima at
  (0, ±√2); started on the ridge, plain GD lingers at the saddle.
- ``rosenbrock``: a narrow, curved valley; the minimum (1, 1) is easy to find
  and slow to reach.
- ``beale``: flat plateaus and steep walls; minimum (3, 0.5).
- ``abs``: f = |x| + 0.1 y², non-differentiable on the line x = 0: the
  (sub)gradient never shrinks, so fixed-step methods oscillate across the kink.

:func:`race` runs every optimizer of :mod:`losslab.optim` (plus SGD with
gradient noise and Newton's method) from the same start with the same number
of steps and returns their paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import optim
from ..optim.linalg import positive_definite_solve


@dataclass(frozen=True)
class Surface:
    """A 2-D test function with its derivatives and a race's settings.

    Attributes
    ----------
    name : str
        Its key in ``SURFACES``.
    f : callable
        ``f(p) -> float`` for p of shape (2,) (or a stack of grids of shape (2, ...)).
    grad : callable
        ``grad(p) -> ndarray of shape (2,)``.
    hess : callable
        ``hess(p) -> ndarray of shape (2, 2)``.
    start : tuple of float
        Where every racer starts.
    minimum : tuple of float
        One minimum (the saddle surface's other one is its mirror image).
    box : tuple of float
        (xmin, xmax, ymin, ymax) for plotting.
    lr : float
        A step size that suits the surface for the first-order methods.

    Examples
    --------
    >>> float(SURFACES["rosenbrock"].f(np.array([1.0, 1.0])))
    0.0

    References
    ----------
    S. Ruder, "An overview of gradient descent optimization algorithms", 2016; CS231n notes,
    "Neural Networks Part 3: Parameter updates".
    """

    name: str
    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    hess: Callable[[np.ndarray], np.ndarray]
    start: tuple
    minimum: tuple  # one minimum (the saddle surface's other one is its mirror image)
    box: tuple  # (xmin, xmax, ymin, ymax) for plotting
    lr: float  # a step size that suits the surface for the first-order methods


def _rosenbrock(p):
    x, y = p
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(p):
    x, y = p
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _beale_grad(p):
    x, y = p
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return np.array(
        [
            2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1),
            2 * a * x + 4 * b * x * y + 6 * c * x * y**2,
        ]
    )


def _beale_hess(p, eps=1e-6):
    return np.stack(
        [(_beale_grad(p + eps * e) - _beale_grad(p - eps * e)) / (2 * eps) for e in np.eye(2)],
        axis=1,
    )


SURFACES = {
    "saddle": Surface(
        "saddle",
        lambda p: p[0] ** 2 - p[1] ** 2 + p[1] ** 4 / 4,
        lambda p: np.array([2 * p[0], -2 * p[1] + p[1] ** 3]),
        lambda p: np.array([[2.0, 0.0], [0.0, -2 + 3 * p[1] ** 2]]),
        (-1.5, 1e-3),
        (0.0, np.sqrt(2)),
        (-2, 2, -2, 2),
        0.05,
    ),
    "rosenbrock": Surface(
        "rosenbrock",
        _rosenbrock,
        lambda p: np.array(
            [-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2), 200 * (p[1] - p[0] ** 2)]
        ),
        lambda p: np.array([[2 - 400 * (p[1] - 3 * p[0] ** 2), -400 * p[0]], [-400 * p[0], 200.0]]),
        (-1.5, 2.0),
        (1.0, 1.0),
        (-2, 2, -1, 3),
        1e-3,
    ),
    "beale": Surface(
        "beale", _beale, _beale_grad, _beale_hess, (1.0, 1.4), (3.0, 0.5), (-1, 4, -1.5, 2), 0.01
    ),
    "abs": Surface(
        "abs",
        lambda p: abs(p[0]) + 0.1 * p[1] ** 2,
        lambda p: np.array([np.sign(p[0]), 0.2 * p[1]]),
        lambda p: np.array([[0.0, 0.0], [0.0, 0.2]]),
        (1.7, 1.8),
        (0.0, 0.0),
        (-2, 2, -2, 2),
        0.1,
    ),
}

RACERS = (
    "GD",
    "SGD (noisy gradient)",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "Newton",
)


def race(
    surface: Surface, steps: int = 200, seed: int = 0, noise: float = 0.5
) -> dict[str, np.ndarray]:
    """Paths (steps+1, 2) of every racer from the surface's start, keyed by name.

    The racers are the optimizers of :mod:`losslab.optim` (GD, SGD with gradient
    noise, Momentum, Nesterov, AdaGrad, RMSProp, Adam), each at a step size that
    suits it, and damped Newton.

    Parameters
    ----------
    surface : str or Surface
        "saddle", "rosenbrock", "beale", "abs", or a :class:`Surface`.
    steps : int, default 200
        Steps of every racer.
    seed : int, default 0
        Seeds the gradient noise.
    noise : float, default 0.5
        The noisy SGD's noise, relative to the gradient's largest entry.

    Returns
    -------
    dict of str to ndarray of shape (steps + 1, 2)
        Each racer's path, the start included.

    Examples
    --------
    >>> paths = race("rosenbrock", steps=50)
    >>> list(paths)
    ['GD', 'SGD (noisy gradient)', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSProp', 'Adam', 'Newton']
    >>> paths["Adam"].shape
    (51, 2)

    References
    ----------
    Rosenbrock, "An Automatic Method for Finding the Greatest or Least Value of a
    Function", The Computer Journal 3 (1960); Beale, "On an Iterative Method for
    Finding a Local Minimum of a Function of More than One Variable" (1958);
    Ruder, "An overview of gradient descent optimization algorithms" (2016).
    """
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    rng = np.random.default_rng(seed)
    makers: dict[str, tuple[Any, float, float]] = {  # (optimizer, lr, gradient noise)
        "GD": (optim.SGD(), surface.lr, 0.0),
        "SGD (noisy gradient)": (optim.SGD(), surface.lr, noise),
        "Momentum": (optim.Momentum(0.9), surface.lr, 0.0),
        "Nesterov": (optim.Nesterov(0.9), surface.lr, 0.0),
        "AdaGrad": (optim.AdaGrad(), 0.5 if surface.name != "rosenbrock" else 0.3, 0.0),
        "RMSProp": (optim.RMSProp(0.9), 0.02, 0.0),
        "Adam": (optim.Adam(), 0.05, 0.0),
    }
    paths = {}
    for name, (opt, lr, sigma) in makers.items():
        params = {"p": np.array(surface.start, dtype=float)}
        state = opt.init(params)
        path = [params["p"].copy()]
        for _ in range(steps):
            g = (
                surface.grad(params["p"])
                + sigma * rng.standard_normal(2) * np.abs(surface.grad(params["p"])).max()
            )
            opt.update(params, {"p": g}, state, lr)
            params["p"] = np.clip(params["p"], -1e3, 1e3)  # keep diverging runs plottable
            path.append(params["p"].copy())
        paths[name] = np.array(path)
    paths["Newton"] = _newton_path(surface, steps)
    return paths


def _newton_path(surface, steps):
    """Damped Newton: the step solves (H + τI) d = -g with τ making H positive definite, halved until f falls."""
    p = np.array(surface.start, dtype=float)
    path = [p.copy()]
    for _ in range(steps):
        g = surface.grad(p)
        step = positive_definite_solve(surface.hess(p), -g)
        t = 1.0
        while surface.f(p + t * step) > surface.f(p) and t > 1e-8:
            t *= 0.5
        p = p + t * step
        path.append(p.copy())
    return np.array(path)


def summary(surface: Surface, paths: Mapping[str, np.ndarray]) -> list[tuple[str, float, float]]:
    """Final value and distance to the (nearest) minimum for each racer.

    Parameters
    ----------
    surface : str or Surface
        A name of ``SURFACES`` ("saddle", "rosenbrock", ...) or a :class:`Surface`.
    paths : dict of str to ndarray of shape (T, 2)
        What :func:`race` returned.

    Returns
    -------
    list of (str, float, float)
        (racer, final value, distance to the nearest minimum), in the paths' order.

    Examples
    --------
    >>> summary("rosenbrock", race("rosenbrock", steps=500))[-1]
    ('Newton', 0.0, 0.0)

    References
    ----------
    S. Ruder, "An overview of gradient descent optimization algorithms", 2016; CS231n notes,
    "Neural Networks Part 3: Parameter updates".
    """
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    minima = [np.array(surface.minimum, dtype=float)]
    if surface.name == "saddle":
        minima.append(-minima[0])  # (0, -√2) is a minimum too
    rows = []
    for name, path in paths.items():
        final = path[-1]
        distance = min(np.linalg.norm(final - m) for m in minima)
        rows.append((name, float(surface.f(final)), float(distance)))
    return rows
