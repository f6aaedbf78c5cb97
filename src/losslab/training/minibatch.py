"""``losslab.fit``: mini-batch gradient descent on data loss + weight penalty, through the one loop.

``batch_size >= N`` is full-batch gradient descent. Everything random comes
from ``random_state``, so the same seed gives bit-identical weights, and a
checkpoint (written atomically after every epoch) resumes to the same result.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import fast, losses, optim
from ..losses import validation as v
from ..models import Model
from ..optim.first_order import check_max_norm
from . import fused, loop
from .batches import gathered
from .checks import NEEDS_PROBABILITIES, check_X, sample_weights, split_validation
from .files import StrPath, load_checkpoint
from .objective import Objective, encode_targets, evaluate, n_correct
from .state import History, TrainState
from .stopping import EarlyStopping


def fit(
    model: Model,
    loss: str | Callable[..., Any],
    X: ArrayLike,
    y: ArrayLike,
    *,
    optimizer: Any = "sgd",
    lr: float = 1e-2,
    schedule: str | Callable[[float], float] = "constant",
    batch_size: int = 64,
    epochs: int = 10,
    reg: float = 0.0,
    penalty: str = "l2",
    l1_ratio: float = 0.5,
    sample_weight: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    validation_fraction: float = 0.0,
    early_stopping: bool = False,
    patience: int = 5,
    tol: float | None = None,
    random_state: int | None = None,
    callbacks: Sequence[loop.Callback] = (),
    progress: bool = False,
    checkpoint: StrPath | None = None,
    resume: bool = False,
    state: TrainState | None = None,
    history: History | None = None,
    clip_grad_norm: float | None = None,
) -> History:
    r"""Train ``model`` on (X, y) by mini-batch gradient descent; returns a :class:`History`.

    Each epoch shuffles the rows and takes one optimizer step per mini-batch B on

    .. math::

        J_B(\theta) = \frac{1}{\sum_{i \in B} w_i} \sum_{i \in B} w_i \,
        L\big(f(x_i; \theta), y_i\big) + \lambda R(W),
        \qquad \theta \leftarrow \theta - \alpha_t \nabla J_B(\theta)

    (the update is the optimizer's: plain SGD as written, Adam, ...), with
    :math:`\alpha_t` the learning rate at step t. Biases are never penalised.

    Parameters
    ----------
    model : models.Linear or models.MLP
        Updated in place.
    loss : str, losses.Loss or callable
        Any registry name ("softmax", "svm", "focal", "hinge", "mse", ...), or your
        own function ``f(output, target) -> (value, grad)`` (see ``losses.register``);
        a function's task is inferred: integer ``y`` is "multiclass" for a model of
        several outputs and "binary" for one, float ``y`` is "regression".
    X : array-like of shape (N, D), or scipy.sparse matrix
        The features; its dtype (float32 or float64) is kept.
    y : array-like of shape (N,)
        Int labels 0..C-1 for classification, values for regression ((N, K) for K
        outputs).
    optimizer : str or optimizer object, default "sgd"
        "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", or an
        object from :mod:`losslab.optim`.
    lr : float, default 1e-2
        The base learning rate, > 0.
    schedule : str or callable, default "constant"
        Shapes ``lr``: "constant", "step", "exponential", "cosine", "invscaling",
        "warmup_cosine", "onecycle", "plateau", or a callable of the fractional epoch.
        "plateau" follows the validation loss when there is a validation set, else
        the epoch's training loss.
    batch_size : int, default 64
        Samples per step, at least 1; ``>= N`` gives full-batch gradient descent.
    epochs : int, default 10
        Passes over the data (counted from the start of the first run when
        continuing one).
    reg : float, default 0.0
        :math:`\lambda`, the weight penalty's strength.
    penalty : {"l2", "l1", "elasticnet"}, default "l2"
        R.
    l1_ratio : float, default 0.5
        The elastic net's share of L1.
    sample_weight : array-like of shape (N,), optional
        Non-negative weight of each row.
    class_weight : array-like of shape (C,), optional
        Weight of each class, multiplied into the sample weights.
    validation : (X_val, y_val), optional
        A validation set, evaluated after every epoch.
    validation_fraction : float, default 0.0
        Without ``validation``: the share of the rows held out as one.
    early_stopping : bool, default False
        Monitor a validation set (``validation_fraction`` of the data, 0.1 unless
        given) and restore the weights of its best epoch.
    patience : int, default 5
        Epochs without improvement by ``tol`` before stopping.
    tol : float or None, default None
        Stop when the monitored loss (validation if any, else the epoch's training
        loss) has not improved by ``tol`` for ``patience`` epochs (scikit-learn's
        rule); ``History.converged`` is then True. None: run all epochs (1e-4 with
        ``early_stopping``).
    random_state : int or None
        Seeds the shuffling and the validation split: the same seed gives
        bit-identical weights.
    callbacks : sequence of callable
        ``cb(epoch, logs, model)`` after every epoch; returning True stops training.
    progress : bool, default False
        Show a progress bar.
    checkpoint : str or os.PathLike, optional
        A checkpoint written atomically after every epoch; with ``resume=True``
        training continues from it.
    resume : bool, default False
        Continue from ``checkpoint`` when it exists.
    state, history : TrainState, History, optional
        Continue a previous run (``History.state``), e.g. for partial_fit.
    clip_grad_norm : float, optional
        Before each step, scale the gradients so that their global norm is at most
        this (torch's ``clip_grad_norm_``).

    Returns
    -------
    History
        The loss of every step and each epoch's losses, accuracies and learning
        rate; ``History.state`` continues the run.

    Raises
    ------
    ValueError
        Bad input, naming the argument (``lr`` <= 0 or not finite, ``batch_size``,
        ``epochs`` or ``patience`` not a positive integer, a negative ``reg`` or
        ``tol``, ...); a loss that stops being finite or explodes
        stops training with :class:`~losslab.training.loop.Diverged` (a ValueError),
        the weights of the last finished epoch restored.
    TypeError
        Non-numeric X.

    Examples
    --------
    >>> import numpy as np, losslab
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = losslab.models.Linear(2, 2, random_state=0)
    >>> history = losslab.fit(model, "softmax", X, y, lr=0.5, batch_size=16, epochs=10,
    ...                       validation_fraction=0.25, random_state=0)
    >>> history.n_epochs, len(history.step_loss)  # 45 training rows: 3 steps an epoch
    (10, 30)
    >>> history.train_loss[-1] < history.train_loss[0], history.val_accuracy[-1]
    (True, 1.0)
    >>> again = losslab.models.Linear(2, 2, random_state=0)
    >>> _ = losslab.fit(again, "softmax", X, y, lr=0.5, batch_size=16, epochs=10,
    ...                 validation_fraction=0.25, random_state=0)
    >>> bool(np.array_equal(again.params["W"], model.params["W"]))  # same seed, same weights
    True

    References
    ----------
    Bottou, "Stochastic Gradient Descent Tricks", *Neural Networks: Tricks of the
    Trade* (2012); CS231n, "Optimization: Stochastic Gradient Descent".
    """
    _check_arguments(lr, batch_size, epochs, reg, tol, patience, random_state)
    # a new name: mypy keeps the parameter's type (str or callable) for ``loss``
    trainee: losses.Loss = _trainable(loss).for_task(inferred_task(model, y))
    clip_grad_norm = check_max_norm(clip_grad_norm)
    if early_stopping and validation is None and not validation_fraction:
        validation_fraction = 0.1  # early stopping monitors held-out data
    split_seed, shuffle_seed = np.random.SeedSequence(random_state).spawn(2)
    checked = _training_data(model, trainee, X, y, sample_weight, class_weight)
    *data, val = split_validation(
        *checked, validation, validation_fraction, split_seed, trainee, model
    )
    if early_stopping and tol is None:
        tol = 1e-4
    objective = Objective(model, trainee, reg=reg, penalty=penalty, l1_ratio=l1_ratio)
    if state is None:
        opt = optim.get(optimizer)
        state = TrainState(opt, opt.init(model.params), np.random.default_rng(shuffle_seed))
    history = history if history is not None else History()
    if resume and checkpoint is not None:
        state, history = load_checkpoint(checkpoint, model, state)
    batch_size = min(int(batch_size), data[0].shape[0])
    steps_per_epoch = -(-data[0].shape[0] // batch_size)
    lr_at = optim.schedule(schedule, lr, epochs=epochs, steps_per_epoch=steps_per_epoch)
    epoch = _Epoch(objective, state, history, data, val, batch_size, lr_at, clip_grad_norm)
    stopping = None
    if tol is not None:
        monitor = "train_loss" if val is None else "val_loss"
        keep_best = early_stopping and val is not None
        stopping = EarlyStopping(tol, patience, monitor=monitor, keep_best=keep_best)
    return loop.run_epochs(
        epoch,
        state,
        history,
        model,
        epochs,
        checkpoint=checkpoint,
        callbacks=callbacks,
        stopping=stopping,
        progress=progress,
        schedule=lr_at,
    )


def _check_arguments(lr, batch_size, epochs, reg, tol, patience, random_state):
    """One ValueError naming the first of fit's numeric arguments out of its range."""
    v.check_scalar(lr, "lr", low=0, low_open=True)
    v.check_scalar(reg, "reg", low=0)
    if tol is not None:
        v.check_scalar(tol, "tol", low=0)
    for name, value in (("batch_size", batch_size), ("epochs", epochs), ("patience", patience)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r} instead")
    if isinstance(random_state, Integral) and random_state < 0:
        raise ValueError(
            f"random_state: expected None or a non-negative integer, got {random_state!r} instead"
        )


def _trainable(loss: str | Callable[..., Any]) -> losses.Loss:
    loss = losses.get(loss)
    if loss.name in NEEDS_PROBABILITIES:
        raise ValueError(
            f"loss: {loss.name} takes probabilities, not scores; train with its logit form "
            "(softmax_cross_entropy or sigmoid_binary_cross_entropy)"
        )
    extra = _extra_inputs(loss.fn)
    if extra:
        raise ValueError(
            f"loss: {loss.name} takes {', '.join(extra)} beside the output and the target; "
            "fit trains losses of (output, target) only"
        )
    return loss


def _extra_inputs(fn):
    """The required positional inputs of ``fn`` after (output, target), e.g. gaussian_nll's var."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: let the call tell
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p.name for p in parameters if p.kind in positional and p.default is p.empty]
    return required[2:]


def inferred_task(model: Model, y: ArrayLike) -> str:
    """The task of a plain-function loss trained on ``y``: labels for classes, else values.

    Parameters
    ----------
    model : Model
        Its number of outputs tells multiclass (several) from binary (one).
    y : array-like
        The targets: integer or bool for classes, float for values.

    Returns
    -------
    {"multiclass", "binary", "regression"}
        The task the loss is trained for.

    Examples
    --------
    >>> from losslab import models
    >>> labels = np.array([0, 1, 1])
    >>> inferred_task(models.Linear(2, 2), labels), inferred_task(models.Linear(2, 1), labels)
    ('multiclass', 'binary')
    >>> inferred_task(models.Linear(2, 1), np.array([0.5, 1.2, -3.0]))
    'regression'
    """
    if np.asarray(y).dtype.kind in "iub":
        return "multiclass" if model.n_outputs > 1 else "binary"
    return "regression"


def _training_data(
    model: Model,
    loss: losses.Loss,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: ArrayLike | None,
    class_weight: ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(X, target, weights), checked once so the mini-batches need no check."""
    X = check_X(X, model)
    n = X.shape[0]  # len() is not defined for a sparse X
    target = encode_targets(loss, y, model.n_outputs)
    if len(target) != n:
        raise ValueError(f"y: expected {n} targets (one per row of X), got {len(target)} instead")
    if loss.task == "multiclass":
        v.as_labels(target, n, model.n_outputs)
    return X, target, sample_weights(sample_weight, class_weight, target, loss, n)


@dataclass
class _Epoch:
    """One pass over the shuffled training set, then the validation set: ``fit``'s epoch."""

    objective: Objective
    state: TrainState
    history: History
    data: list  # [X, target, weights or None]
    val: tuple | None  # (X, target[, weights]) or None
    batch_size: int  # between 1 and the rows of X
    lr_at: object
    clip_grad_norm: float | None = None

    def __call__(self):
        X, target, weights = self.data
        batch_size = self.batch_size
        order = self.state.shuffle_rng.permutation(X.shape[0])
        batches = (batch[1:] for batch in gathered(X, target, weights, order, batch_size))
        loss = self.objective.loss
        counter = None if loss.task == "regression" else lambda s, t: n_correct(loss, s, t)
        # an overflow is not worth a warning: the loop stops on the non-finite loss it leaves
        with np.errstate(over="ignore", invalid="ignore"):
            totals = loop.take_steps(
                self._batch_value_and_grads,
                self.objective.model.params,
                self.state,
                batches,
                self.lr_at,
                steps_per_epoch=-(-X.shape[0] // batch_size),
                step_loss=self.history.step_loss,
                count_correct=counter,
                clip_grad_norm=self.clip_grad_norm,
                fused=self._fused_steps(order),
            )
        if not all(np.isfinite(p).all() for p in self.objective.model.params.values()):
            # the last step can overflow the weights with no loss left in the epoch to show it
            raise loop.Diverged(f"the weights stopped being finite at step {self.state.step}")
        self.state.epoch += 1
        logs = {"epoch": self.state.epoch, "train_loss": totals.mean_loss, "lr": totals.lr}
        if counter is not None:
            logs["train_accuracy"] = totals.correct / totals.rows
        if self.val is not None:
            logs.update(evaluate(self.objective, *self.val))
        return logs

    def _fused_steps(self, order):
        """The epoch's steps in one kernel call where fit's case allows (training/fused.py), or None."""
        X, target, weights = self.data
        objective, clip = self.objective, self.clip_grad_norm
        case = fused.linear_case(objective, self.state, X, target, weights, clip, self.batch_size)
        kernel = None if case is None else fast.kernel("linear_epoch", X.size)
        if kernel is None:
            return None
        return fused.LinearSteps(kernel, case, self.state, order, self.batch_size)

    def _batch_value_and_grads(self, X, target, weights):
        if weights is None:  # the fused per-batch kernel, on targets fit has checked
            return self.objective.batch_value_and_grads(X, target)
        return self.objective.value_and_grads(X, target, weights)
