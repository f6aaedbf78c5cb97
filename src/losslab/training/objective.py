"""The objective training minimises (mean data loss + weight penalty) and the target encodings."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import fast, losses, models, regularizers
from ..losses import validation as v
from ..losses._registry import Loss
from ..models import Model, Params


class Objective:
    r"""The function fit minimises on a batch: mean data loss plus the weight penalty.

    .. math::

        J(\theta) = \frac{1}{\sum_i w_i} \sum_i w_i \, L\big(f(x_i; \theta), y_i\big)
        + \lambda R(W)

    with f the model, L the loss, :math:`w_i` the sample weights (1 without them),
    and R the penalty of every weight array W (never the biases).
    ``value_and_grads(X, target, sample_weight)`` returns the total loss, the
    gradients of every parameter and the batch scores (for accuracy). It is also
    what ``check_gradient`` checks for a whole model.

    Parameters
    ----------
    model : Model
        A :class:`~losslab.models.Linear` or :class:`~losslab.models.MLP`; read, never
        updated here.
    loss : str or losses.Loss
        A registry name ("softmax", "svm", "mse", ...) or a Loss.
    reg : float, default 0.0
        :math:`\lambda \ge 0`, the penalty's strength.
    penalty : {"l2", "l1", "elasticnet"}, default "l2"
        R (see :mod:`losslab.regularizers`).
    l1_ratio : float in [0, 1], default 0.5
        The elastic net's share of L1.

    Attributes
    ----------
    model, loss, reg, penalty, l1_ratio
        As given (``loss`` as a :class:`~losslab.losses.Loss`).

    Examples
    --------
    >>> from losslab import losses, models
    >>> model = models.Linear(2, 3, random_state=0)
    >>> objective = Objective(model, "softmax", reg=0.1)
    >>> X, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([0, 2])
    >>> value, grads, scores = objective.value_and_grads(X, y)
    >>> data = losses.softmax_cross_entropy(scores, y).value
    >>> bool(np.isclose(value, data + 0.1 * np.sum(model.params["W"] ** 2)))
    True
    >>> W, h = model.params["W"], 1e-6  # the gradient against a central difference
    >>> W[0, 1] += h
    >>> up = objective.value_and_grads(X, y)[0]
    >>> W[0, 1] -= 2 * h
    >>> down = objective.value_and_grads(X, y)[0]
    >>> W[0, 1] += h
    >>> bool(np.isclose(grads["W"][0, 1], (up - down) / (2 * h), rtol=1e-5))
    True

    References
    ----------
    CS231n, "Linear classification: loss function" (data loss plus regularization loss).
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
        r"""The weight penalty and its gradient per weight array (biases are never penalised).

        Returns
        -------
        value : float
            :math:`\lambda \sum_W R(W)` over the model's weight arrays (0.0 when ``reg`` is 0).
        grads : dict of str to ndarray
            The penalty's gradient for each weight array, of its shape (empty when
            ``reg`` is 0).

        Examples
        --------
        >>> from losslab import models
        >>> model = models.Linear(2, 1)
        >>> model.params["W"][...] = [[1.0], [-2.0]]
        >>> value, grads = Objective(model, "mse", reg=0.5).penalty_value_and_grads()
        >>> value, grads["W"].ravel().tolist(), sorted(grads)
        (2.5, [1.0, -2.0], ['W'])
        """
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
        r"""(data loss + penalty, the gradient of every parameter, the batch scores).

        Parameters
        ----------
        X : ndarray of shape (B, D)
            A batch of rows.
        target : ndarray of shape (B,) or (B, C)
            Its encoded targets (:func:`encode_targets`).
        sample_weight : ndarray of shape (B,), optional
            One weight per row; the data loss is their weighted mean.

        Returns
        -------
        value : float
            :math:`J(\theta)` on the batch.
        grads : dict of str to ndarray
            The gradient of ``value`` for every parameter, of its shape.
        scores : ndarray of shape (B, C)
            The model's output on the batch.

        Examples
        --------
        >>> from losslab import models
        >>> objective = Objective(models.Linear(2, 1, random_state=0), "mse")
        >>> value, grads, scores = objective.value_and_grads(np.ones((3, 2)), np.zeros(3))
        >>> sorted(grads), grads["W"].shape, scores.shape
        (['W', 'b'], (2, 1), (3, 1))
        """
        return self._value_and_grads(X, target, self.loss, sample_weight=sample_weight)

    def batch_value_and_grads(
        self, X: np.ndarray, target: np.ndarray
    ) -> tuple[float, Params, np.ndarray]:
        """:meth:`value_and_grads` of an unweighted mini-batch whose targets ``fit`` has checked.

        Calls the loss's fused kernel directly when it has one (see :func:`losses.fused_mean`).

        Parameters
        ----------
        X : ndarray of shape (B, D)
            A batch of rows.
        target : ndarray of shape (B,) or (B, C)
            Its encoded targets, already checked.

        Returns
        -------
        tuple
            ``(value, grads, scores)``, as :meth:`value_and_grads` returns them.

        Examples
        --------
        >>> from losslab import models
        >>> objective = Objective(models.Linear(2, 3, random_state=0), "softmax", reg=0.1)
        >>> X, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([0, 2])
        >>> fused, plain = objective.batch_value_and_grads(X, y), objective.value_and_grads(X, y)
        >>> bool(np.isclose(fused[0], plain[0])), bool(np.allclose(fused[1]["W"], plain[1]["W"]))
        (True, True)
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
    r"""Add the gradient of ``strength``·ΣW² into ``grad`` (in place); return ``strength``·ΣW².

    .. math::

        g \leftarrow g + 2\lambda W, \qquad \text{returns } \lambda \sum_k W_k^2

    The NumPy reference; a fused kernel does it in one pass over W when the fast
    path is on (:func:`losslab.regularizers.l2` is the penalty).

    Parameters
    ----------
    W : ndarray of any shape
        A weight array.
    strength : float
        :math:`\lambda \ge 0`.
    grad : ndarray of W's shape
        The gradient so far; updated in place.

    Returns
    -------
    float
        The penalty's value.

    Examples
    --------
    >>> W, grad = np.array([[1.0, -2.0]]), np.zeros((1, 2))
    >>> add_l2(W, 0.5, grad), grad.tolist()
    (2.5, [[1.0, -2.0]])
    """
    r = regularizers.UNCHECKED["l2"](W, strength)
    grad += r.grad
    return r.value


def n_outputs(loss: str | Loss, n_classes: int) -> int:
    """Score columns a classification loss needs: one per class, or one for a binary loss on two classes.

    Parameters
    ----------
    loss : str or losses.Loss
        A multiclass or binary loss.
    n_classes : int
        C, the number of classes.

    Returns
    -------
    int
        C for a multiclass loss; 1 for a binary loss on two classes, else C
        (one-vs-rest).

    Raises
    ------
    ValueError
        ``loss`` is not a classification loss.

    Examples
    --------
    >>> n_outputs("softmax", 3), n_outputs("hinge", 2), n_outputs("hinge", 3)
    (3, 1, 3)
    """
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
    """A ``"linear"`` or ``"mlp"`` model with the score columns ``loss`` needs for ``n_classes``.

    Parameters
    ----------
    kind : {"linear", "mlp"}
        The model (see :func:`losslab.models.build`).
    n_features : int
        D, the input features.
    loss : str or losses.Loss
        The classification loss it will be trained with (:func:`n_outputs`).
    n_classes : int
        C, the number of classes.
    hidden : tuple of int, default (100,)
        The MLP's hidden layer widths.
    random_state : int, Generator or None
        Seeds the initial weights.

    Returns
    -------
    models.Linear or models.MLP
        A model of D inputs and ``n_outputs(loss, n_classes)`` outputs.

    Examples
    --------
    >>> build_classifier("linear", 4, "hinge", 2, random_state=0).params["W"].shape
    (4, 1)
    >>> build_classifier("mlp", 4, "softmax", 3, hidden=(5,), random_state=0).n_outputs
    3
    """

    return models.build(
        kind, n_features, n_outputs(loss, n_classes), hidden=hidden, random_state=random_state
    )


def encode_targets(loss: Loss, y: Any, n_outputs: int) -> np.ndarray:
    """The target array the loss expects, from labels 0..C-1 (or regression values).

    multiclass losses take the labels; binary losses take 0/1 for one output or
    a one-vs-rest 0/1 matrix for several (hinge-type losses read 0 as -1);
    regression losses take the values.

    Parameters
    ----------
    loss : losses.Loss
        The loss trained; its ``task`` picks the encoding.
    y : array-like of shape (N,)
        Labels 0..C-1, or values for regression.
    n_outputs : int
        The model's score columns.

    Returns
    -------
    ndarray
        Shape (N,) of int for multiclass, (N,) or (N, n_outputs) of 0.0/1.0 for
        binary, (N,) or y's shape of float64 for regression.

    Raises
    ------
    ValueError
        ``loss`` is neither a classification nor a regression loss.

    Examples
    --------
    >>> from losslab import losses
    >>> encode_targets(losses.get("hinge"), [0, 2, 1], 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    >>> encode_targets(losses.get("hinge"), [0, 1, 1], 1).tolist()
    [0.0, 1.0, 1.0]
    >>> encode_targets(losses.get("softmax"), [0, 2, 1], 3).tolist()
    [0, 2, 1]
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
    """Class predictions from scores: argmax, or the sign of a single binary score.

    Parameters
    ----------
    loss : losses.Loss
        The loss the scores were trained with (the rule is the same for all).
    scores : ndarray of shape (N, C) or (N, 1) or (N,)
        The model's output.

    Returns
    -------
    ndarray of int of shape (N,)
        The argmax (first maximum) of each row for several columns; 1 where a single
        score is positive, else 0.

    Examples
    --------
    >>> from losslab import losses
    >>> predict_labels(losses.get("softmax"), np.array([[1.0, 3.0], [2.0, 0.0]])).tolist()
    [1, 0]
    >>> predict_labels(losses.get("hinge"), np.array([[0.5], [-1.0]])).tolist()
    [1, 0]
    """
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(-1) > 0).astype(np.intp)


def evaluate(
    objective: Objective,
    X: np.ndarray,
    target: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> dict[str, float]:
    """Loss (data + penalty) and accuracy of the current model on a held-out set.

    Parameters
    ----------
    objective : Objective
        The model, loss and penalty trained.
    X : ndarray of shape (N, D)
        The held-out rows.
    target : ndarray of shape (N,) or (N, C)
        Their encoded targets.
    sample_weight : ndarray of shape (N,), optional
        One weight per row for the loss (accuracy counts rows).

    Returns
    -------
    dict of str to float
        ``"val_loss"``, and ``"val_accuracy"`` (the share of rows classified right)
        for a classification loss.

    Examples
    --------
    >>> from losslab import models
    >>> objective = Objective(models.Linear(2, 3, random_state=0), "softmax")
    >>> result = evaluate(objective, np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([0, 2]))
    >>> round(result["val_loss"], 2), sorted(result)  # about ln 3 at the start
    (1.1, ['val_accuracy', 'val_loss'])
    """
    scores = objective.model(X)
    out = scores[:, 0] if target.ndim == 1 and objective.loss.task != "multiclass" else scores
    value = objective.loss(out, target, sample_weight=sample_weight).value
    value += objective.penalty_value_and_grads()[0]
    result = {"val_loss": float(value)}
    if objective.loss.task != "regression":
        result["val_accuracy"] = n_correct(objective.loss, scores, target) / X.shape[0]
    return result


def n_correct(loss: Loss, scores: np.ndarray, target: np.ndarray) -> int:
    """How many rows the scores classify right (0 for a regression loss).

    Parameters
    ----------
    loss : losses.Loss
        The loss trained; its task says how to read ``target``.
    scores : ndarray of shape (N, C) or (N, 1)
        The model's output.
    target : ndarray of shape (N,) or (N, C)
        The encoded targets (labels, or 0/1 for a binary loss).

    Returns
    -------
    int
        Rows whose predicted label (:func:`predict_labels`) is the true one.

    Examples
    --------
    >>> from losslab import losses
    >>> n_correct(losses.get("softmax"), np.array([[1.0, 3.0], [2.0, 0.0]]), np.array([1, 1]))
    1
    """
    if loss.task == "regression":
        return 0
    labels = target if target.ndim == 1 and loss.task == "multiclass" else labels_of(target)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return argmax_hits(scores, labels)
    return int(np.count_nonzero(predict_labels(loss, scores) == labels))


@fast.fused_by("argmax_hits")
def argmax_hits(scores: np.ndarray, labels: np.ndarray) -> int:
    """How many rows of ``scores`` have their label as ``argmax`` (the first maximum).

    The NumPy reference; a fused kernel counts without the argmax array when the
    fast path is on.

    Parameters
    ----------
    scores : ndarray of shape (N, C)
        Scores, one column per class.
    labels : ndarray of int of shape (N,)
        The true classes.

    Returns
    -------
    int
        The number of rows classified right; a tie goes to the first maximum.

    Examples
    --------
    >>> argmax_hits(np.array([[1.0, 3.0], [2.0, 0.0], [1.0, 1.0]]), np.array([1, 1, 0]))
    2
    """
    return int(np.count_nonzero(scores.argmax(axis=1) == labels))


def labels_of(target: np.ndarray) -> np.ndarray:
    """Labels from a binary target: the argmax of a one-vs-rest matrix, or 0/1 of a vector.

    Parameters
    ----------
    target : ndarray of shape (N, C) or (N,)
        A one-vs-rest 0/1 matrix, or a 0/1 (or -1/1) vector.

    Returns
    -------
    ndarray of int of shape (N,)
        The class of each row (a vector's entries above 0.5 are 1).

    Examples
    --------
    >>> labels_of(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])).tolist()
    [1, 0]
    >>> labels_of(np.array([1.0, 0.0, -1.0])).tolist()
    [1, 0, 0]
    """
    return target.argmax(axis=1) if target.ndim == 2 else (target > 0.5).astype(np.intp)
