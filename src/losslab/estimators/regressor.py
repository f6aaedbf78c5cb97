"""A scikit-learn regressor trained with any losslab regression loss, and closed-form ridge."""

from __future__ import annotations

from dataclasses import field, replace
from typing import Any, Self, cast

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from .. import models
from ..scale import distributed
from ..scale.dask_data import is_dask
from ..training import Diverged, History
from ..training.checks import is_sparse
from ..training.spec import SOLVERS, TrainResult, weight_total
from .base import (
    DTYPES,
    SPARSE_FORMATS,
    ArrayPair,
    TrainedEstimator,
    check_sample_weight,
    estimator_dataclass,
)

# what fit and partial_fit accept: real dtypes, y of one or several outputs, sparse X kept sparse
_TRAINING_INPUT = {
    "dtype": DTYPES,
    "y_numeric": True,
    "multi_output": True,
    "accept_sparse": SPARSE_FORMATS,
}


@estimator_dataclass
class LinearRegressor(RegressorMixin, TrainedEstimator):
    """Linear regression with any regression loss: least squares, L1, Huber, log-cosh.

    ``solver="normal"`` solves ridge regression in closed form (squared error
    with an L2 penalty only); ``"lbfgs"`` (or ``"gd"``) minimises the full-data
    objective with L-BFGS (or steepest descent); any smooth loss, ``max_iter``
    iterations, ``tol`` on the gradient; ``"sgd"`` runs the mini-batch training loop; ``"auto"`` picks "normal" where
    it applies (not with ``early_stopping`` or ``clip_grad_norm``, which train by
    "sgd"), else the classifiers' rule ("lbfgs" for a smooth loss and data up to
    2**26 rows × features, OWL-QN with an L1 or elastic-net penalty: the lasso,
    else "sgd"); ``solver_`` records the choice. The objective is the (weighted)
    mean loss plus ``alpha`` times the penalty, so every solver minimises the same function. Dask arrays
    train on the cluster (:mod:`losslab.distributed`; "auto" and "normal" use
    L-BFGS there). ``loss`` is a regression loss's name or your own function
    ``f(prediction, target) -> (value, grad)``.
    Other parameters are those of :class:`LinearClassifier`.

    Parameters
    ----------
    loss : str or callable
        A regression loss of the registry ("squared_error", "absolute_error",
        "huber", "log_cosh", ...) or your own function.
    solver : {"auto", "normal", "sgd", "lbfgs", "gd"}
        As above. The other parameters (``alpha``, ``lr``, ``max_iter``, ...) are
        :class:`~losslab.estimators.base.TrainedEstimator`'s, documented on
        :class:`LinearClassifier`.

    Attributes
    ----------
    coef_ : np.ndarray of shape (n_outputs, n_features)
        The weights.
    intercept_ : np.ndarray of shape (n_outputs,)
        The biases.
    history_ : History
        The training history (empty for "normal").
    n_iter_ : int
        Epochs or iterations run.
    solver_ : str
        The solver that trained the model ("auto" resolved).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 3 + 0.1 * rng.standard_normal(50)
    >>> reg = LinearRegressor(alpha=0.01).fit(X, y)
    >>> reg.solver_, reg.coef_.round(2).tolist(), reg.intercept_.round(2).tolist()
    ('normal', [[1.01, -1.98, 0.5]], [2.99])
    >>> ridge = Ridge(alpha=0.01 * len(X)).fit(X, y)  # scikit-learn's alpha scales a sum
    >>> bool(np.allclose(reg.coef_[0], ridge.coef_)), reg.predict(X[:2]).shape
    (True, (2,))

    References
    ----------
    A. E. Hoerl and R. W. Kennard, "Ridge Regression: Biased Estimation for
    Nonorthogonal Problems", Technometrics 12 (1970); ``sklearn.linear_model.Ridge``.
    """

    loss: str = "squared_error"
    solver: str = field(default="auto", kw_only=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (N, K) trains K outputs
        tags.input_tags.sparse = True  # scipy.sparse X, never densified (not by "normal")
        return tags

    def set_trained(self, result: TrainResult) -> Self:
        """Set the fitted attributes from a TrainResult (whether y was 1-D among them)."""
        super().set_trained(result)
        self._single_output = result.single_output
        return self

    def _solver(self, loss, X, needs_mini_batches=False):
        closed_form = loss.name == "squared_error" and self.penalty == "l2"
        if self.solver == "normal" and not closed_form:
            raise ValueError("solver: 'normal' solves squared_error with an l2 penalty only")
        if self.solver == "normal" and is_sparse(X):
            raise ValueError("solver: 'normal' centres X, which densifies a sparse X; use 'auto'")
        if self.solver == "auto" and closed_form and not is_sparse(X) and not needs_mini_batches:
            return "normal"
        return self.solver

    @property
    def _parameter_constraints(self):
        constraints = super()._parameter_constraints
        return constraints | {"solver": [StrOptions({"auto", "normal", *SOLVERS})]}

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Self:
        """Train on X of shape (N, D) and y of shape (N,) or (N, K); Dask arrays train on the cluster."""
        self._validate_params()
        if is_dask(X):
            return distributed.fit(self, X, y, sample_weight)
        X, y = cast(ArrayPair, validate_data(self, X, y, reset=True, **_TRAINING_INPUT))
        sample_weight = check_sample_weight(sample_weight, X)
        total = weight_total(X.shape[0], sample_weight)
        spec = self.training_spec(total)
        if spec.loss.task != "regression":
            raise ValueError(f"loss: {spec.loss.name} is not a regression loss")
        Y = y.reshape(len(y), -1).astype(X.dtype)
        spec = replace(spec, solver=self._solver(spec.loss, X, spec.needs_mini_batches))
        if spec.solver == "normal":
            model = spec.build_model(X.shape[1], Y.shape[1], X.dtype)
            ridge_normal_equations(model, X, Y, spec.reg, sample_weight)
            result = TrainResult(model, History(), 1, solver="normal", reg=spec.reg)
        else:
            target = Y[:, 0] if y.ndim == 1 else Y
            result = self._fit_arrays(spec, X, target, Y.shape[1], sample_weight, None)
        result.single_output, result.weight_seen = y.ndim == 1, total
        self.set_trained(result)
        if spec.solver != "normal":
            self._warn_if_not_converged(result.history)
        return self

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """One epoch of the training loop over (X, y)."""
        first = not hasattr(self, "model_")
        if first:
            self._validate_params()
        X, y = cast(ArrayPair, validate_data(self, X, y, reset=first, **_TRAINING_INPUT))
        Y = y.reshape(len(y), -1).astype(X.dtype)
        if not first and Y.shape[1] != self.model_.n_outputs:
            raise ValueError(f"y: expected {self.model_.n_outputs} outputs, got {Y.shape[1]}")
        sample_weight = check_sample_weight(sample_weight, X)
        spec = self._partial_spec(weight_total(X.shape[0], sample_weight), first)
        if first:
            self._single_output = y.ndim == 1
            self._start_partial(spec, X.shape[1], Y.shape[1], X.dtype)
        target = Y[:, 0] if self._single_output else Y
        self._partial_epoch(spec, X, target, sample_weight, None)
        return self

    def predict(self, X: ArrayLike) -> Any:  # an ndarray; a Dask array for a Dask X
        """Predictions of shape (N,) (or (N, K) when trained on K outputs)."""
        if is_dask(X):
            return distributed.predict(self, X)
        scores = self._scores(X)
        return scores[:, 0] if self._single_output else scores


def ridge_normal_equations(
    model: models.Model,
    X: np.ndarray,
    Y: np.ndarray,
    alpha: float,
    sample_weight: ArrayLike | None = None,
) -> None:
    r"""Set a Linear model to the minimiser of the squared-error objective, in closed form.

    The objective is the weighted mean over all N·K elements of (XW + b - Y)²
    plus alpha ΣW² (the same function the iterative solvers minimise). Setting
    its gradient to zero gives ``(Xcᵀ D Xc + alpha·K·Σw·I) W = Xcᵀ D Yc`` with X
    and Y centred at their weighted means (which gives the intercept) and D the
    diagonal of sample weights.

    .. math::

        \bar x = \frac{\sum_i w_i x_i}{\sum_i w_i}, \qquad
        W = (X_c^T D X_c + α K \textstyle\sum_i w_i \, I)^{+} X_c^T D Y_c, \qquad
        b = \bar y - \bar x W

    Parameters
    ----------
    model : Linear
        Its ``W`` (D, K) and ``b`` (K,) are overwritten.
    X : np.ndarray of shape (N, D)
        The features (dense).
    Y : np.ndarray of shape (N, K)
        The targets.
    alpha : float
        The L2 strength α ≥ 0.
    sample_weight : array_like of shape (N,), optional
        One weight per row.

    Returns
    -------
    None
        The model is set in place.

    Raises
    ------
    Diverged
        ``Xcᵀ D Xc`` (features past about 1e154), ``Xcᵀ D Yc`` or the penalty
        overflows float64: the message says which, before LAPACK is handed the
        non-finite matrix; the model is left as it was.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from losslab.models import Linear
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 3
    >>> model = Linear(3, 1)
    >>> ridge_normal_equations(model, X, y[:, None], alpha=0.01)
    >>> ridge = Ridge(alpha=0.01 * 50).fit(X, y)  # the same objective times N
    >>> bool(np.allclose(model.params["W"][:, 0], ridge.coef_))
    True
    >>> bool(np.isclose(model.params["b"][0], ridge.intercept_))
    True

    References
    ----------
    A. E. Hoerl and R. W. Kennard, "Ridge Regression", Technometrics 12 (1970);
    ``sklearn.linear_model.Ridge``.
    """
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        x_mean = (w @ X) / total
        y_mean = (w @ Y) / total
        Xc, Yc = X - x_mean, Y - y_mean
        ridge = alpha * total * Y.shape[1]
        A = Xc.T @ (Xc * w[:, None]) + ridge * np.eye(X.shape[1])
        B = Xc.T @ (Yc * w[:, None])
    # LAPACK given a non-finite matrix fails ("SVD did not converge") and writes to stderr
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise Diverged(_overflow_message(X, Y, alpha, ridge, A))
    W = np.linalg.lstsq(A, B, rcond=None)[0]
    model.params["W"][...] = W
    model.params["b"][...] = y_mean - x_mean @ W


def _overflow_message(X, Y, alpha, ridge, A):
    """Why the normal equations overflowed: the penalty, the features or the targets."""
    start = "training diverged: the normal equations overflow float64"
    if not np.isfinite(ridge):
        return f"{start} (alpha·Σw = {ridge}): alpha={alpha:.3g} is too large; lower it."
    largest = f"the features reach {np.abs(X).max():.3g}, the targets {np.abs(Y).max():.3g}"
    product = "XᵀX" if not np.isfinite(A).all() else "XᵀY"
    return f"{start} ({product} is not finite: {largest}). Standardise the features and targets."
