r"""The overfitting lesson: a wiggly polynomial through noisy points, and the straight fit L2 gives.

"Fitting the training data perfectly is not the goal; test performance is."
A few noisy points are drawn from a straight line; a degree-9 polynomial
:math:`f_w(x) = b + \sum_{k=1}^{9} w_k x^k` is fitted to them by ridge
regression,

.. math:: \min_w \; \|y - f_w(x)\|^2 + \lambda \|w\|^2 ,

once with :math:`\lambda = 0` (it passes through every training point: zero
training error, a wiggly curve, a large test error) and once with the
:math:`\lambda` that leave-one-out cross-validation picks on the training
points alone (the test points are never used to choose it). The bias is not
penalised, as everywhere in losslab. The minimiser is computed exactly, as the
least-squares solution of the stacked system :math:`[\Phi;\ \sqrt{\lambda} I] w = [y;\ 0]`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..training.files import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["OverfitLesson", "overfit_figure", "overfit_lesson", "ridge_polynomial"]

LAMBDAS = np.logspace(-8, 2, 41)  # the error-against-λ curve, 4 points a decade


@dataclass
class OverfitLesson:
    """The two fits, their errors, and the errors along the λ grid.

    Attributes
    ----------
    degree : int
        The polynomial's degree.
    x_train, y_train : np.ndarray of shape (n_train,)
        The training points.
    x_test, y_test : np.ndarray of shape (n_test,)
        Fresh points from the same line and noise.
    weights : dict of str to np.ndarray of shape (degree + 1,)
        "no L2" and "L2" to the coefficients, intercept first.
    errors : dict of str to dict
        "no L2" and "L2" to ``{"train": mse, "test": mse}``.
    lam : float
        The λ leave-one-out chose.
    lambdas : np.ndarray of shape (L,)
        The λ grid.
    train_curve, test_curve : np.ndarray of shape (L,)
        The training and test mean squared errors at each λ.
    truth : (float, float)
        The line's intercept and slope.

    Examples
    --------
    >>> lesson = overfit_lesson(3, n_train=6, n_test=20, lambdas=np.logspace(-4, 1, 6))
    >>> lesson.weights["L2"].shape, lesson.train_curve.shape, lesson.truth
    ((4,), (6,), (0.5, 1.0))
    >>> sorted(lesson.as_dict())[:4]
    ['degree', 'errors', 'lambda', 'lambdas']

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning* (2006), section 1.1 (the polynomial
    curve-fitting example).
    """

    degree: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    weights: dict  # "no L2" / "L2" -> (degree + 1,) coefficients, intercept first
    errors: dict  # "no L2" / "L2" -> {"train": mse, "test": mse}
    lam: float  # the λ leave-one-out chose
    lambdas: np.ndarray
    train_curve: np.ndarray  # training MSE at each λ
    test_curve: np.ndarray
    truth: tuple = field(default=(0.5, 1.0))  # the line: intercept, slope

    def as_dict(self) -> dict:
        """Sizes, λ, errors, weights and curves as plain lists and numbers (for JSON)."""
        return {
            "degree": self.degree,
            "n_train": len(self.x_train),
            "n_test": len(self.x_test),
            "lambda": self.lam,
            "errors": self.errors,
            "weights": {k: w.tolist() for k, w in self.weights.items()},
            "lambdas": self.lambdas.tolist(),
            "train_curve": self.train_curve.tolist(),
            "test_curve": self.test_curve.tolist(),
        }


def features(x: ArrayLike, degree: int) -> np.ndarray:
    r"""The (N, degree + 1) polynomial features 1, x, x², ..., x^degree.

    .. math:: \Phi_{ik} = x_i^k, \qquad k = 0, \dots, \text{degree}

    Parameters
    ----------
    x : array_like of shape (N,)
        The inputs.
    degree : int
        The highest power.

    Returns
    -------
    np.ndarray of shape (N, degree + 1)
        The Vandermonde matrix, increasing powers, float64.

    Examples
    --------
    >>> features([2.0, 3.0], 3).tolist()
    [[1.0, 2.0, 4.0, 8.0], [1.0, 3.0, 9.0, 27.0]]

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning* (2006), section 1.1 (the polynomial
    curve-fitting example).
    """
    return np.vander(np.asarray(x, dtype=np.float64), degree + 1, increasing=True)


def ridge_polynomial(x: ArrayLike, y: ArrayLike, degree: int, lam: float) -> np.ndarray:
    r"""Coefficients (intercept first) minimising :math:`\|y - \Phi w\|^2 + \lambda \sum_{k \ge 1} w_k^2`.

    Parameters
    ----------
    x, y : array_like of shape (N,)
        The points.
    degree : int
        The polynomial's degree.
    lam : float
        λ ≥ 0; the intercept is never penalised.

    Returns
    -------
    np.ndarray of shape (degree + 1,)
        The coefficients, intercept first.

    Examples
    --------
    >>> w = ridge_polynomial([0.0, 1.0, 2.0], [1.0, 3.0, 5.0], 1, 0.0)
    >>> np.round(w, 6).tolist()
    [1.0, 2.0]

    References
    ----------
    A. E. Hoerl and R. W. Kennard, "Ridge Regression: Biased Estimation for
    Nonorthogonal Problems", Technometrics 12 (1970).
    """
    phi = features(x, degree)
    penalty = np.sqrt(lam) * np.eye(degree + 1)[1:]  # no row for the intercept
    A = np.vstack([phi, penalty])
    b = np.concatenate([np.asarray(y, dtype=np.float64), np.zeros(degree)])
    return np.linalg.lstsq(A, b, rcond=None)[0]


def _mse(x, y, w) -> float:
    return float(np.mean((features(x, len(w) - 1) @ w - y) ** 2))


def leave_one_out_lambda(
    x: ArrayLike, y: ArrayLike, degree: int, lambdas: Iterable[float] = LAMBDAS
) -> float:
    """The λ of ``lambdas`` with the smallest leave-one-out error on (x, y) alone.

    Each point in turn is left out, the ridge polynomial fitted to the others,
    and its squared error measured; the λ with the smallest mean wins (the
    first of equals).

    Parameters
    ----------
    x, y : array_like of shape (N,)
        The training points, N ≥ 2.
    degree : int
        The polynomial's degree.
    lambdas : iterable of float
        The candidates, each ≥ 0.

    Returns
    -------
    float
        The chosen λ.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 8)
    >>> y = 0.5 + x + 0.3 * np.random.default_rng(0).standard_normal(8)
    >>> leave_one_out_lambda(x, y, 5, [1e-6, 1e-2, 1.0, 100.0])  # a line: strong L2 wins
    1.0

    References
    ----------
    T. Hastie, R. Tibshirani and J. Friedman, *The Elements of Statistical
    Learning*, 2nd ed. (2009), section 7.10 (cross-validation).
    """
    x, y = np.asarray(x), np.asarray(y)
    keep = np.ones(len(x), dtype=bool)

    def loo(lam):
        errors = []
        for i in range(len(x)):
            keep[:] = True
            keep[i] = False
            w = ridge_polynomial(x[keep], y[keep], degree, lam)
            errors.append(_mse(x[i : i + 1], y[i : i + 1], w))
        return np.mean(errors)

    return float(min(lambdas, key=loo))


def overfit_lesson(
    degree: int = 9,
    *,
    n_train: int = 10,
    n_test: int = 200,
    noise: float = 0.3,
    seed: int = 0,
    lambdas: Iterable[float] = LAMBDAS,
) -> OverfitLesson:
    """Fit noisy points of the line y = 0.5 + x by a degree-``degree`` polynomial, without and with L2.

    Parameters
    ----------
    degree : int, default 9
        With ``n_train = degree + 1`` points the unpenalised fit interpolates them.
    n_train, n_test : int
        Training points; fresh test points from the same line and noise.
    noise : float
        Standard deviation of the Gaussian noise on y.
    seed : int
        Seed of the noise and the test points.
    lambdas : array_like
        The λ grid of the error curve and of the leave-one-out choice.

    Returns
    -------
    OverfitLesson
        Both fits, their errors and the error curves.

    Raises
    ------
    ValueError
        If ``degree < 1``, ``n_train < 2``, ``n_test < 1`` or ``noise < 0``.

    Examples
    --------
    >>> lesson = overfit_lesson()
    >>> lesson.errors["no L2"]["train"] < 1e-12 < lesson.errors["L2"]["train"]
    True
    >>> lesson.errors["L2"]["test"] < lesson.errors["no L2"]["test"]
    True

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning* (2006), section 1.1
    (the polynomial curve-fitting example).
    """
    if degree < 1 or n_train < 2 or n_test < 1 or not noise >= 0:
        raise ValueError(
            "degree, n_train, n_test, noise: expected degree >= 1, n_train >= 2, n_test >= 1 "
            f"and noise >= 0, got {degree}, {n_train}, {n_test}, {noise}"
        )
    rng = np.random.default_rng(seed)
    intercept, slope = 0.5, 1.0

    def sample(x):
        return x, intercept + slope * x + noise * rng.standard_normal(len(x))

    # evenly spaced training points (as in the textbook figure), test points anywhere between
    x_train, y_train = sample(np.linspace(-1, 1, n_train))
    x_test, y_test = sample(rng.uniform(-1, 1, n_test))
    lambdas = np.asarray(lambdas, dtype=np.float64)
    lam = leave_one_out_lambda(x_train, y_train, degree, lambdas)
    weights = {
        "no L2": ridge_polynomial(x_train, y_train, degree, 0.0),
        "L2": ridge_polynomial(x_train, y_train, degree, lam),
    }
    errors = {
        k: {"train": _mse(x_train, y_train, w), "test": _mse(x_test, y_test, w)}
        for k, w in weights.items()
    }
    fits = [ridge_polynomial(x_train, y_train, degree, g) for g in lambdas]
    return OverfitLesson(
        degree,
        x_train,
        y_train,
        x_test,
        y_test,
        weights,
        errors,
        lam,
        lambdas,
        np.array([_mse(x_train, y_train, w) for w in fits]),
        np.array([_mse(x_test, y_test, w) for w in fits]),
        (intercept, slope),
    )


def overfit_figure(lesson: OverfitLesson, path: str | Path | None = None) -> Figure:
    """Left: the points, the line, the wiggly and the straight fit; right: error against λ.

    Parameters
    ----------
    lesson : OverfitLesson
        What :func:`overfit_lesson` returned.
    path : str or Path, optional
        Where to write the PNG (atomically).

    Returns
    -------
    matplotlib.figure.Figure
        A figure not attached to pyplot (no window opens).

    Examples
    --------
    >>> lesson = overfit_lesson(3, n_train=6, n_test=20, lambdas=np.logspace(-4, 1, 6))
    >>> [ax.get_title() for ax in overfit_figure(lesson).axes]
    ['degree 3: mean squared errors', 'error against λ']

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning* (2006), section 1.1 (the polynomial
    curve-fitting example).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    grid = np.linspace(-1, 1, 400)
    b, a = lesson.truth
    left.plot(grid, b + a * grid, color="0.6", ls="--", label="the true line")
    for (name, w), color in zip(lesson.weights.items(), ("tab:red", "tab:blue"), strict=True):
        e = lesson.errors[name]
        label = f"{name}: train {e['train']:.3f}, test {e['test']:.3f}"
        left.plot(grid, features(grid, lesson.degree) @ w, color=color, label=label)
    left.scatter(lesson.x_test, lesson.y_test, s=6, color="0.75", label="test points")
    left.scatter(lesson.x_train, lesson.y_train, s=30, color="k", zorder=3, label="training points")
    spread = np.ptp(lesson.y_test)
    left.set_ylim(lesson.y_test.min() - 0.5 * spread, lesson.y_test.max() + 0.5 * spread)
    left.set(xlabel="x", ylabel="y", title=f"degree {lesson.degree}: mean squared errors")
    left.legend(fontsize=8, loc="upper left")
    right.loglog(lesson.lambdas, lesson.train_curve, label="training error")
    right.loglog(lesson.lambdas, lesson.test_curve, label="test error")
    right.axvline(
        lesson.lam, color="tab:blue", ls=":", label=f"λ chosen by leave-one-out ({lesson.lam:.2g})"
    )
    right.set(xlabel="λ (L2 strength)", ylabel="mean squared error", title="error against λ")
    right.legend(fontsize=8)
    if path is not None:
        atomic_write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=110))
    return fig
