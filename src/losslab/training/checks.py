"""Input checks done once per fit, so the mini-batches need none."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..losses import validation as v
from ..losses._registry import Loss
from ..models import Model
from .objective import encode_targets, labels_of

# losses on probabilities need an output layer a linear score model does not have
NEEDS_PROBABILITIES = {"binary_cross_entropy", "categorical_cross_entropy"}


def is_sparse(X: Any) -> bool:
    """True for a scipy.sparse matrix or array (recognised without importing scipy)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def check_X(X: ArrayLike, model: Model) -> np.ndarray:
    """X as an array of the model's dtype, after checking its shape and that it is finite.

    A scipy.sparse X stays sparse (CSR, whose rows the mini-batches take): only
    its stored values are checked and cast, X is never densified.
    """
    if is_sparse(X):
        return _check_sparse(X, model)
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X: expected a numeric array, got dtype {X.dtype} instead")
    if X.ndim != 2 or X.shape[1] != model.n_features:
        raise ValueError(
            f"X: expected shape (N, {model.n_features}) for this model, got shape {X.shape} instead"
        )
    if len(X) == 0:
        raise ValueError("X: expected at least one sample, got 0")
    if not all_finite(X):
        raise ValueError("X: expected finite values, got NaN or infinity")
    dtype = model.params[next(iter(model.params))].dtype
    return X.astype(dtype, copy=False)


def _check_sparse(X, model):
    """check_X for a scipy.sparse X: CSR of the model's dtype, its stored values finite."""
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X: expected a numeric sparse matrix, got dtype {X.dtype} instead")
    if X.ndim != 2 or X.shape[1] != model.n_features:
        raise ValueError(
            f"X: expected shape (N, {model.n_features}) for this model, got shape {X.shape} instead"
        )
    if X.shape[0] == 0:
        raise ValueError("X: expected at least one sample, got 0")
    X = X.tocsr()
    if not all_finite(X.data):
        raise ValueError("X: expected finite values, got NaN or infinity")
    dtype = model.params[next(iter(model.params))].dtype
    return X.astype(dtype, copy=False)


def all_finite(X: np.ndarray, block: int = 65536) -> bool:
    """True when X has no NaN or infinity, without an X-sized temporary.

    The sum is finite exactly when every entry is, unless finite values
    overflow it; only then are the rows checked block by block. It is taken in
    X's own dtype: a float64 sum of float32 data converts every element and
    took 3x as long (12 ms instead of 4 on 80,000 x 256).
    """
    with np.errstate(
        over="ignore", invalid="ignore"
    ):  # an overflowing sum is the case handled below
        total = np.sum(X)
    if np.isfinite(total):
        return True
    return all(np.isfinite(X[i : i + block]).all() for i in range(0, len(X), block))


def sample_weights(
    sample_weight: ArrayLike | None,
    class_weight: ArrayLike | None,
    target: np.ndarray,
    loss: Loss,
    n: int,
) -> np.ndarray | None:
    """Per-sample weights combining sample_weight and class_weight[y], or None."""
    w = None if sample_weight is None else v.as_sample_weight(sample_weight, n, np.float64)
    if class_weight is not None:
        if loss.task == "regression":
            raise ValueError("class_weight: applies to classification losses only")
        labels = target if target.ndim == 1 and loss.task == "multiclass" else labels_of(target)
        cw = np.asarray(class_weight, dtype=np.float64)
        w = cw[labels] if w is None else w * cw[labels]
    return w


def split_validation(
    X: Any,
    target: np.ndarray,
    weights: np.ndarray | None,
    validation: tuple[ArrayLike, ArrayLike] | None,
    fraction: float,
    seed: int | np.random.Generator | None,
    loss: Loss,
    model: Model,
) -> tuple[Any, np.ndarray, np.ndarray | None, tuple[Any, ...] | None]:
    """(X, target, weights, validation set): ``validation`` checked, or ``fraction`` of the rows held out."""
    if validation is not None:
        X_val, y_val = validation
        X_val = check_X(X_val, model)
        return X, target, weights, (X_val, encode_targets(loss, y_val, model.n_outputs))
    if not fraction:
        return X, target, weights, None
    fraction = v.check_scalar(fraction, "validation_fraction", 0, 1)
    n = X.shape[0]
    n_val = round(fraction * n)
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"validation_fraction: {fraction} of {n} samples leaves no training or no validation data"
        )
    order = np.random.default_rng(seed).permutation(n)
    val_idx, train_idx = order[:n_val], order[n_val:]
    val_w = None if weights is None else weights[val_idx]
    train_w = None if weights is None else weights[train_idx]
    return X[train_idx], target[train_idx], train_w, (X[val_idx], target[val_idx], val_w)
