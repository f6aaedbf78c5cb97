"""The objective training minimises (mean data loss + weight penalty) and the target encodings."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import fast, losses, models, regularizers
from ..losses import validation as v
from ..losses._registry import Loss
from ..models import Model, Params


class Objective:
    """The function fit minimises on a batch: mean data loss plus the weight penalty.

    ``value_and_grads(X, target, sample_weight)`` returns the total loss, the
    gradients of every parameter and the batch scores (for accuracy). It is also
    what ``check_gradient`` checks for a whole model.
    """

    def __init__(
        self,
        model: Model,
        loss: str | Loss,
        *,
        reg: float = 0.0,
        penalty: str = "l2",
        l1_ratio: float = 0.5,
    ) -> None:
        self.model = model
        self.loss = losses.get(loss)
        self.reg = v.check_scalar(reg, "strength", low=0)
        if penalty not in regularizers.UNCHECKED:
            raise ValueError(
                f"penalty: expected one of {', '.join(regularizers.PENALTIES)}, got {penalty!r} instead"
            )
        self.penalty = penalty
        self.l1_ratio = v.check_scalar(l1_ratio, "l1_ratio", 0, 1)
        self._fused_loss = losses.fused_mean(self.loss)  # the fast path is decided here, once

    def penalty_value_and_grads(self) -> tuple[float, Params]:
        """The weight penalty and its gradient per weight array (biases are never penalised)."""
        if self.reg == 0:
            return 0.0, {}
        penalty = regularizers.UNCHECKED[self.penalty]
        extra = (self.l1_ratio,) if self.penalty in ("elasticnet", "elastic_net") else ()
        total, grads = 0.0, {}
        for name in self.model.weight_names:
            r = penalty(self.model.params[name], self.reg, *extra)
            total += r.value
            grads[name] = r.grad
        return total, grads

    def value_and_grads(
        self, X: np.ndarray, target: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, Params, np.ndarray]:
        """(data loss + penalty, the gradient of every parameter, the batch scores)."""
        return self._value_and_grads(X, target, self.loss, sample_weight=sample_weight)

    def batch_value_and_grads(
        self, X: np.ndarray, target: np.ndarray
    ) -> tuple[float, Params, np.ndarray]:
        """:meth:`value_and_grads` of an unweighted mini-batch whose targets ``fit`` has checked.

        Calls the loss's fused kernel directly when it has one (see :func:`losses.fused_mean`).
        """
        return self._value_and_grads(X, target, self._fused_loss or self.loss)

    def _value_and_grads(self, X, target, loss, **loss_options):
        scores, cache = self.model.forward(X)
        out = scores[:, 0] if target.ndim == 1 and self.loss.task != "multiclass" else scores
        data = loss(out, target, **loss_options)
        dscores = data.grad.reshape(scores.shape)
        grads, _ = self.model.backward(cache, dscores, input_grad=False)
        return data.value + self._add_penalty(grads), grads, scores

    def _add_penalty(self, grads):
        """Add the penalty's gradient into ``grads`` (in place); return the penalty's value."""
        if self.reg == 0:
            return 0.0
        if self.penalty == "l2":  # one pass per weight array, fused where there is a kernel
            params, total = self.model.params, 0.0
            for name in self.model.weight_names:
                total += add_l2(params[name], self.reg, grads[name])
            return total
        penalty, penalty_grads = self.penalty_value_and_grads()
        for name, g in penalty_grads.items():
            grads[name] += g
        return penalty


@fast.fused_by("add_l2")
def add_l2(W: np.ndarray, strength: float, grad: np.ndarray) -> float:
    """Add the gradient of ``strength``·ΣW² into ``grad`` (in place); return ``strength``·ΣW²."""
    r = regularizers.UNCHECKED["l2"](W, strength)
    grad += r.grad
    return r.value


def n_outputs(loss: str | Loss, n_classes: int) -> int:
    """Score columns a classification loss needs: one per class, or one for a binary loss on two classes."""
    loss = losses.get(loss)
    if loss.task == "multiclass":
        return n_classes
    if loss.task == "binary":
        return 1 if n_classes == 2 else n_classes  # one score, or one-vs-rest
    raise ValueError(f"loss: {loss.name} is a {loss.task} loss, not a classification loss")


def build_classifier(
    kind: str,
    n_features: int,
    loss: str | Loss,
    n_classes: int,
    *,
    hidden: tuple[int, ...] = (100,),
    random_state: int | np.random.Generator | None = None,
) -> models.Linear | models.MLP:
    """A ``"linear"`` or ``"mlp"`` model with the score columns ``loss`` needs for ``n_classes``."""

    return models.build(
        kind, n_features, n_outputs(loss, n_classes), hidden=hidden, random_state=random_state
    )


def encode_targets(loss: Loss, y: Any, n_outputs: int) -> np.ndarray:
    """The target array the loss expects, from labels 0..C-1 (or regression values).

    multiclass losses take the labels; binary losses take 0/1 for one output or
    a one-vs-rest 0/1 matrix for several (hinge-type losses read 0 as -1);
    regression losses take the values.
    """
    if loss.task == "multiclass":
        return np.asarray(y, dtype=np.intp)
    if loss.task == "binary":
        y = np.asarray(y, dtype=np.intp)
        if n_outputs == 1:
            return y.astype(np.float64)
        return (y[:, None] == np.arange(n_outputs)).astype(np.float64)
    if loss.task == "regression":
        return np.asarray(y, dtype=np.float64)
    raise ValueError(
        f"loss: {loss.name} is a {loss.task} loss; fit trains classifiers and regressors "
        "(multiclass, binary and regression losses)"
    )


def predict_labels(loss: Loss, scores: np.ndarray) -> np.ndarray:
    """Class predictions from scores: argmax, or the sign of a single binary score."""
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(-1) > 0).astype(np.intp)


def evaluate(
    objective: Objective,
    X: np.ndarray,
    target: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Loss (data + penalty) and accuracy of the current model on a held-out set."""
    scores = objective.model(X)
    out = scores[:, 0] if target.ndim == 1 and objective.loss.task != "multiclass" else scores
    value = objective.loss(out, target, sample_weight=sample_weight).value
    value += objective.penalty_value_and_grads()[0]
    result = {"val_loss": float(value)}
    if objective.loss.task != "regression":
        result["val_accuracy"] = n_correct(objective.loss, scores, target) / X.shape[0]
    return result


def n_correct(loss: Loss, scores: np.ndarray, target: np.ndarray) -> int:
    """How many rows the scores classify right (0 for a regression loss)."""
    if loss.task == "regression":
        return 0
    labels = target if target.ndim == 1 and loss.task == "multiclass" else labels_of(target)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return argmax_hits(scores, labels)
    return int(np.count_nonzero(predict_labels(loss, scores) == labels))


@fast.fused_by("argmax_hits")
def argmax_hits(scores: np.ndarray, labels: np.ndarray) -> int:
    """How many rows of ``scores`` have their label as ``argmax`` (the first maximum)."""
    return int(np.count_nonzero(scores.argmax(axis=1) == labels))


def labels_of(target: np.ndarray) -> np.ndarray:
    """Labels from a binary target: the argmax of a one-vs-rest matrix, or 0/1 of a vector."""
    return target.argmax(axis=1) if target.ndim == 2 else (target > 0.5).astype(np.intp)
