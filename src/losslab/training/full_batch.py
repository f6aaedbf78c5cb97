"""Full-batch training: deterministic L-BFGS or steepest descent on the whole-data objective."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import losses
from ..losses._registry import Loss
from ..models import Linear, Model, Params, column_sums
from ..optim import orthant_wise, quasi_newton
from ..regularizers import split_penalty
from .checks import check_X, is_sparse, sample_weights
from .loop import EXPLOSION, Diverged
from .objective import Objective, encode_targets
from .state import History
from .threads import blas_on_one_openblas_thread

FULL_BATCH_METHODS = ("lbfgs", "gd")
# callback(iteration, value, model) after each iteration; True stops
Callback = Callable[[int, float, Model], bool | None]
_ADVICE = (
    "Standardise the features, and check that alpha is not huge: either overflows the objective."
)
# features past this are not standardised: advice to standardise them fits a divergence
UNSCALED_FEATURES = 1e3
# OpenBLAS multiplies without packing its operands (its "small matrix" kernels) when
# M·N·K <= 10**6; a linear model's two products over all rows, cut into blocks of that
# size, take 0.39-0.68 of their time as two calls, BLAS on one thread (RESULTS.md, shapes
# other than the benchmark's)
SMALL_PRODUCT = 10**6
MIN_BLOCK_ROWS = 64  # smaller blocks would pay Python's per-call cost for nothing


def fit_full_batch(
    model: Model,
    loss: str | Loss,
    X: ArrayLike,
    y: ArrayLike,
    *,
    method: str = "lbfgs",
    reg: float = 0.0,
    penalty: str = "l2",
    l1_ratio: float = 0.5,
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,  # a weight per class
    max_iter: int = 500,
    tol: float = 1e-8,
    callback: Callback | None = None,
) -> History:
    r"""Minimise the whole-data objective (mean loss + penalty); returns a History.

    .. math::

        \min_\theta \; \frac{1}{\sum_i w_i} \sum_{i=1}^N w_i \, L\big(f(x_i; \theta), y_i\big)
        + \lambda R(W)

    The deterministic alternative to :func:`fit` for smooth losses on data that
    fits in memory: one step per iteration over all samples, no learning rate.
    ``method`` is "lbfgs" or "gd" (steepest descent with a line search).
    ``History.step_loss`` holds the objective after each iteration. With
    OpenBLAS on one thread, a dense linear model's products X W and Xᵀ G run a
    block of 10⁶ / (D·C) rows at a time when that cuts X into two blocks or more
    (its small-matrix kernels: 0.39-0.68 of the time of one call each; the same
    sums up to rounding).
    Plain softmax cross-entropy on a linear model's two scores, L2-penalised,
    is solved as the binomial problem it is: half the unknowns, the same
    objective at every iterate, the columns ±w/2 of the minimum.

    Parameters
    ----------
    model : Model
        Updated in place to the minimiser.
    loss : str or losses.Loss
        A smooth loss (a registry name or a Loss); the task encodes ``y``.
    X : array-like of shape (N, D)
        The features.
    y : array-like of shape (N,)
        Labels 0..C-1, or values for regression.
    method : {"lbfgs", "gd"}, default "lbfgs"
        L-BFGS, or steepest descent with a line search.
    reg : float, default 0.0
        :math:`\lambda`, the penalty's strength.
    penalty : {"l2", "l1", "elasticnet"}, default "l2"
        R. An L1 part is not smooth: it is minimised by OWL-QN (L-BFGS within
        one orthant at a time, see :func:`~losslab.regularizers.split_penalty`), which sets weights
        exactly to 0.
    l1_ratio : float, default 0.5
        The elastic net's share of L1.
    sample_weight : array-like of shape (N,), optional
        :math:`w_i`.
    class_weight : array-like of shape (C,), optional
        A weight per class, multiplied into :math:`w_i`.
    max_iter : int, default 500
        The most iterations.
    tol : float, default 1e-8
        Stop when the gradient's largest entry is below it.
    callback : callable, optional
        ``callback(iteration, value, model)`` after each iteration; True stops.

    Returns
    -------
    History
        ``step_loss`` is the objective at the start and after each iteration,
        ``train_loss`` after each iteration (one "epoch" per iteration);
        ``converged`` says the gradient test was met.

    Raises
    ------
    Diverged
        The objective or its gradient is not finite at the start, or at every
        step of a line search (see :func:`minimise_full_batch`); the message
        names the iteration and what to change (:func:`overflow_advice`).

    Examples
    --------
    Least squares with an intercept, against NumPy's solver:

    >>> from losslab import models
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=30)
    >>> model = models.Linear(3, 1, random_state=0)
    >>> history = fit_full_batch(model, "mse", X, y)
    >>> reference = np.linalg.lstsq(np.c_[X, np.ones(30)], y, rcond=None)[0]
    >>> history.converged, bool(np.allclose(model.params["W"].ravel(), reference[:3], atol=1e-6))
    (True, True)

    References
    ----------
    Nocedal & Wright, *Numerical Optimization* (2006), chapters 3 and 7 (line
    search, L-BFGS); scikit-learn's ``LogisticRegression(solver="lbfgs")`` solves the
    same problem for softmax with ``reg = 1 / (2 C N)`` (``1 / (C N)`` for two
    classes, where it fits one binomial vector w = W₁ − W₀).
    """
    loss = losses.get(loss)
    X = check_X(X, model)
    target = encode_targets(loss, y, model.n_outputs)
    weights = sample_weights(sample_weight, class_weight, target, loss, X.shape[0])
    solver = {"method": method, "max_iter": max_iter, "tol": tol}
    if _is_two_class_softmax(model, loss, penalty):
        return _fit_two_class_softmax(model, X, target, weights, reg, callback, solver)
    l2_strength, l1_strength = split_penalty(reg, penalty, l1_ratio)
    objective = Objective(_row_blocked(model, X), loss, reg=l2_strength, penalty="l2")

    def value_and_grads():
        value, grads, _ = objective.value_and_grads(X, target, weights)
        return value, grads

    return minimise_full_batch(
        model,
        value_and_grads,
        method=method,
        max_iter=max_iter,
        tol=tol,
        callback=callback,
        advice=_advice(objective, X, l1_strength),
        l1=l1_strength,
    )


def minimise_full_batch(
    model: Model,
    value_and_grads: Callable[[], tuple[float, Params]],
    *,
    method: str = "lbfgs",
    max_iter: int = 500,
    tol: float = 1e-8,
    callback: Callback | None = None,
    advice: Callable[[], str] | None = None,
    l1: float = 0.0,
) -> History:
    """Minimise ``value_and_grads()`` (evaluated at the current ``model.params``) over the params.

    The one optimisation step shared by in-memory full-batch training and the
    distributed version, which sums the gradient from per-chunk gradients.
    ``callback(iteration, value, model)`` runs after each iteration with the
    model holding the new parameters; returning True stops. Returns a History.

    The line search never steps to a point where the objective or its
    gradient is not finite. An objective or gradient that is not finite at the
    start, or a line search whose every step, down to the shortest, gives one
    that is not finite or that explodes (grows by over ``EXPLOSION`` times its
    size, or 1), raises :class:`Diverged` (a ValueError) naming the iteration,
    with the weights of the last iterate in ``model``. A line search that fails
    otherwise (no decrease at float64 precision) ends the run, not ``converged``.

    Parameters
    ----------
    model : Model
        Its ``params`` are the variables; updated in place.
    value_and_grads : callable
        ``value_and_grads() -> (value, grads)``, the objective at the current
        ``model.params`` and its gradient for each (a dict of arrays of their shapes).
    method : {"lbfgs", "gd"}, default "lbfgs"
        L-BFGS, or steepest descent with a line search.
    max_iter : int, default 500
        The most iterations.
    tol : float, default 1e-8
        Stop when the gradient's largest entry is below it.
    callback : callable, optional
        ``callback(iteration, value, model)`` after each iteration; True stops.
    advice : callable, optional
        ``advice() -> str``, what to change, judged at the weights ``model`` holds,
        ending the message of a divergence; by default to standardise the features
        or lower a huge penalty.
    l1 : float, default 0.0
        λ₁ of an L1 penalty λ₁·Σ|W| on the model's weights (``model.weight_names``)
        added to the objective: minimised by OWL-QN, whose pseudo-gradient's
        largest entry is then the stopping test ("gd" is its steepest descent).

    Returns
    -------
    History
        As :func:`fit_full_batch` returns it.

    Raises
    ------
    ValueError
        An unknown ``method``; :class:`Diverged` for an objective or gradient that is
        not finite at the start or along a whole line search.

    Examples
    --------
    >>> from losslab import models
    >>> model = models.Linear(1, 1, random_state=0)
    >>> def value_and_grads():  # (w - 3)² + b², minimised at w = 3, b = 0
    ...     w, b = model.params["W"], model.params["b"]
    ...     return float((w[0, 0] - 3) ** 2 + b[0] ** 2), {"W": 2 * (w - 3), "b": 2 * b}
    >>> history = minimise_full_batch(model, value_and_grads, method="gd")
    >>> round(float(model.params["W"][0, 0]), 6), history.converged
    (3.0, True)
    """

    if method not in FULL_BATCH_METHODS:
        raise ValueError(f"method: expected one of {FULL_BATCH_METHODS}, got {method!r}")
    advice = advice or (lambda: _ADVICE)
    flat = _FlatParams(model)

    def value_and_grad(theta):
        flat.unpack(theta)
        value, grads = value_and_grads()
        return float(value), flat.pack(grads)

    def after_iteration(iteration, theta, value):
        flat.unpack(theta)
        return callback(iteration, value, model)

    start = flat.pack(model.params)
    minimiser = _minimiser(method, flat.weights_mask(model.weight_names) * l1 if l1 else None)
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite value is caught below
        first = value_and_grad(start)
        kinks = l1 * float(flat.weights_mask(model.weight_names) @ np.abs(start)) if l1 else 0.0
        if not _is_finite(first[0] + kinks, first[1]):
            flat.unpack(start)
            what = "objective" if np.isfinite(first[0]) else f"objective ({first[0]})"
            raise Diverged(
                f"training diverged at the starting weights (iteration 0): the {what} or its "
                f"gradient is not finite. {advice()}"
            )
        last = _LastTrial(_reusing_first(value_and_grad, start, first))
        result = minimiser(
            last,
            start,
            gtol=tol,
            max_iter=max_iter,
            callback=None if callback is None else after_iteration,
        )
    flat.unpack(result.x)  # the last iterate: the line search never takes a non-finite one
    if result.status == -1 and last.overflowed(result.cost):
        kept = "starting weights" if result.nit == 1 else f"weights of iteration {result.nit - 1}"
        raise Diverged(
            f"training diverged in iteration {result.nit}: the objective {last.describe()} at "
            f"every step the line search tried; the {kept} were kept. {advice()}"
        )
    return _history(result)


def _is_finite(value, grad):
    return bool(np.isfinite(value) and np.isfinite(grad).all())


class _LastTrial:
    """``value_and_grad``, remembering the last point it was asked about: after a failed line
    search, its shortest step."""

    def __init__(self, value_and_grad):
        self.value_and_grad = value_and_grad
        self.value, self.finite = 0.0, True

    def __call__(self, theta):
        value, grad = self.value_and_grad(theta)
        self.value, self.finite = value, _is_finite(value, grad)
        return value, grad

    def overflowed(self, cost):
        """Whether that step's value or gradient was not finite, or the value exploded from ``cost``
        (grew by over ``EXPLOSION`` times its size, or 1)."""
        return not self.finite or self.value - cost > EXPLOSION * max(abs(cost), 1.0)

    def describe(self):
        if not np.isfinite(self.value):
            return f"was {self.value}"
        if not self.finite:
            return "had a gradient that was not finite"
        return f"grew to {self.value:.3g}"


def _advice(objective, X, l1=0.0):
    """``advice()`` for a divergence of ``objective`` (plus ``l1``·Σ|W|) on X, judged at the
    weights the model holds."""

    def advice():
        model = objective.model
        with np.errstate(over="ignore", invalid="ignore"):
            penalty, grads = objective.penalty_value_and_grads()
            penalty += l1 * sum(float(np.abs(model.params[k]).sum()) for k in model.weight_names)
        overflows = not all(_is_finite(penalty, g) for g in grads.values())
        weights = max(float(np.abs(w).max(initial=0.0)) for w in model.params.values())
        return overflow_advice(objective.reg + l1, overflows, X, weights)

    return advice


def overflow_advice(reg: float, penalty_overflows: bool, X: Any, weights: float) -> str:
    """What to change after a full-batch solver overflowed, judged by what overflows.

    The penalty, when it or its gradient is not finite at the weights; else the
    features' scale, when they are not standardised (past ``UNSCALED_FEATURES``);
    else, with weights under 1, the penalty's scale (a huge one squeezes them
    below float64's resolution), and with larger weights their size, which a
    larger penalty bounds.

    Parameters
    ----------
    reg : float
        The penalty's strength.
    penalty_overflows : bool
        Whether reg·‖W‖² or its gradient is not finite at the weights.
    X : ndarray of shape (N, D), or scipy.sparse matrix
        The features.
    weights : float
        The largest weight, in absolute value.

    Returns
    -------
    str
        One or two sentences of advice.

    Examples
    --------
    >>> overflow_advice(1e308, True, np.ones((2, 2)), 0.1)
    "The penalty's strength 1e+308 is too large: reg·‖W‖² or its gradient overflows. Lower alpha."
    >>> overflow_advice(1e-4, False, np.array([[1e200, 0.0]]), 0.1)
    'Standardise the features: they reach 1e+200.'
    >>> overflow_advice(1e200, False, np.ones((2, 2)), 3e-17)
    "The penalty's strength 1e+200 scales the objective past float64's range at weights up to 3e-17. Lower alpha."

    References
    ----------
    IEEE 754-2019, binary64: finite values end at about 1.8e308; D. Goldberg, "What every
    computer scientist should know about floating-point arithmetic", ACM Computing
    Surveys 23 (1991).
    """
    if penalty_overflows or not np.isfinite(2.0 * reg):
        return (
            f"The penalty's strength {reg:.3g} is too large: reg·‖W‖² or its gradient "
            "overflows. Lower alpha."
        )
    largest = float(np.abs(X.data if is_sparse(X) else np.asarray(X)).max(initial=0.0))
    if largest > UNSCALED_FEATURES:
        return f"Standardise the features: they reach {largest:.3g}."
    if weights < 1.0:  # small weights did not overflow the loss: the penalty's scale did
        return (
            f"The penalty's strength {reg:.3g} scales the objective past float64's range "
            f"at weights up to {weights:.3g}. Lower alpha."
        )
    return (
        f"The loss overflows at weights up to {weights:.3g} on features up to {largest:.3g}; "
        f"a larger alpha (now {reg:.3g}) keeps the weights smaller."
    )


def _minimiser(method, l1_weights):
    """L-BFGS or steepest descent; orthant-wise (OWL-QN) where L1 weights are given."""
    if l1_weights is None:
        return quasi_newton.lbfgs if method == "lbfgs" else quasi_newton.steepest_descent
    memory = 10 if method == "lbfgs" else 0  # no curvature pairs: steepest descent
    return functools.partial(orthant_wise.owlqn, l1=l1_weights, memory=memory)


class _FlatParams:
    """A model's parameters as one float64 vector, and back."""

    def __init__(self, model):
        self.params = model.params
        self.names = list(model.params)
        self.bounds = np.cumsum([0] + [model.params[k].size for k in self.names])

    def pack(self, arrays):
        return np.concatenate([np.ravel(arrays[k]) for k in self.names]).astype(np.float64)

    def weights_mask(self, weight_names):
        """1.0 on the entries of the named (penalised) arrays, 0.0 on the rest (the biases)."""
        return self.pack(
            {k: np.full(v.shape, float(k in weight_names)) for k, v in self.params.items()}
        )

    def unpack(self, theta):
        for k, a, b in zip(self.names, self.bounds[:-1], self.bounds[1:], strict=True):
            self.params[k][...] = theta[a:b].reshape(self.params[k].shape)


def _reusing_first(value_and_grad, start, first):
    """``value_and_grad`` that answers its first call at ``start`` with ``first`` (already computed)."""
    saved = {"first": first}

    def once(theta):
        if saved and np.array_equal(theta, start):
            return saved.pop("first")
        return value_and_grad(theta)

    return once


def _history(result):
    history = History(step_loss=[row["cost"] for row in result.history])
    history.train_loss = history.step_loss[1:]  # one row per step taken
    history.epoch = list(range(1, len(history.train_loss) + 1))
    history.converged = result.success
    history.stopped_by_callback = result.status == -2
    return history


def _row_blocked(model, X):
    """``model``, or for a :class:`~losslab.models.Linear` model on a dense X whose products are
    worth cutting (see :data:`SMALL_PRODUCT`), the same model computing them a block of rows at a time."""
    if type(model) is not Linear or not isinstance(X, np.ndarray):
        return model
    rows = SMALL_PRODUCT // max(1, model.n_features * model.n_outputs)
    if not MIN_BLOCK_ROWS <= rows <= len(X) // 2 or not blas_on_one_openblas_thread():
        return model
    return _RowBlockedLinear(model, rows)


class _RowBlockedLinear:
    """A Linear model's forward and backward pass with X W and Xᵀ G computed ``rows`` rows at
    a time: the same numbers up to the order of the sums, in OpenBLAS's small-matrix kernels."""

    def __init__(self, model, rows):
        self.rows = rows
        self.params, self.weight_names = model.params, model.weight_names  # the model's own

    def _blocks(self, n):
        return [slice(start, start + self.rows) for start in range(0, n, self.rows)]

    def forward(self, X):
        W, b = self.params["W"], self.params["b"]
        scores = np.empty((len(X), W.shape[1]), np.result_type(X, W))
        for block in self._blocks(len(X)):
            np.matmul(X[block], W, out=scores[block])
        scores += b
        return scores, X

    def backward(self, cache, dscores, input_grad=True):
        X = cache
        grad_W = np.zeros((X.shape[1], dscores.shape[1]), np.result_type(X, dscores))
        part = np.empty_like(grad_W)
        for block in self._blocks(len(X)):
            grad_W += np.matmul(X[block].T, dscores[block], out=part)
        grads = {"W": grad_W, "b": column_sums(dscores)}
        return grads, dscores @ self.params["W"].T if input_grad else None


def _is_two_class_softmax(model, loss, penalty):
    """Whether this is plain softmax cross-entropy on a linear model's two scores, L2-penalised."""
    plain = loss.name == "softmax_cross_entropy" and not loss.options
    return plain and type(model) is Linear and model.n_outputs == 2 and penalty == "l2"


def _fit_two_class_softmax(model, X, labels, weights, reg, callback, solver):
    r"""Train a two-class softmax as the binomial problem it is; returns the History.

    Its loss depends on the score difference only, :math:`x^\top w + \beta` with
    :math:`w = W_1 - W_0`, :math:`\beta = b_1 - b_0`, and at the minimum of
    :math:`\lambda(\lVert W_0\rVert^2 + \lVert W_1\rVert^2)` for a given w the
    columns are :math:`\pm w/2`: the objective is the mean logistic loss of
    :math:`x^\top w + \beta` plus :math:`\tfrac{\lambda}{2}\lVert w\rVert^2`, the same
    values at every iterate, half the unknowns (LogisticRegression's binomial
    problem: on breast cancer its iterations, 18-20 instead of 20-23). Without a
    penalty the columns' mean W₀ + W₁ has no gradient and keeps its start, as the
    two-column solver leaves it; b₀ + b₁ always does. ``model`` gets the columns
    after each iteration (for ``callback``) and at the end, diverged or not.
    """
    W, b = model.params["W"], model.params["b"]
    half = Linear(W.shape[0], 1, dtype=W.dtype)
    half.params["W"][:, 0], half.params["b"][0] = W[:, 1] - W[:, 0], b[1] - b[0]
    mean_W = (W[:, 0] + W[:, 1]) / 2 if reg == 0 else np.zeros(W.shape[0], W.dtype)
    mean_b = (b[0] + b[1]) / 2

    def to_columns():
        w, beta = half.params["W"][:, 0], half.params["b"][0]
        W[:, 0], W[:, 1] = mean_W - w / 2, mean_W + w / 2
        b[0], b[1] = mean_b - beta / 2, mean_b + beta / 2

    binomial = losses.get("sigmoid_binary_cross_entropy")
    objective = Objective(_row_blocked(half, X), binomial, reg=reg / 2)
    target = (labels == 1).astype(X.dtype)

    def value_and_grads():
        value, grads, _ = objective.value_and_grads(X, target, weights)
        return value, grads

    def after_iteration(iteration, value, _):
        to_columns()
        return callback(iteration, value, model)

    try:
        return minimise_full_batch(
            half,
            value_and_grads,
            callback=callback and after_iteration,
            advice=_advice(objective, X),
            **solver,
        )
    finally:
        to_columns()
