"""fit's epoch of a linear classifier in one compiled call: the loop's steps, fused.

:func:`losslab.training.loop.take_steps` with fit's objective is the reference:
each step gathers a mini-batch, computes the scores X W + b, the loss and its
gradient, the gradients of W and b, the L2 penalty, and updates the
parameters. For the common case the kernel ``linear_epoch`` of
:mod:`losslab.fast` takes the same steps, in the same order, for a whole epoch
in one call: a step then costs no Python call, which at batches of 64-256 rows
is most of what a step costs (about 35 µs against 10-20 µs of arithmetic).
fit hands them to ``take_steps`` as a :class:`LinearSteps`, and the loop keeps
its bookkeeping: learning rates per step, step losses, the step count, accuracy
and the error on a loss that is not finite.

The case: a :class:`~losslab.models.Linear` model; softmax cross-entropy or the
Weston-Watkins hinge (squared or not) without weights, smoothing or
``ignore_index``, mean reduction; an L2 penalty or none; plain SGD, momentum or
Adam; no sample weights and no gradient clipping; X a dense C-contiguous array
of the parameters' float dtype. Everything else, and everything when the fast
path is off (:mod:`losslab.config`) or the batches have over :data:`MAX_BATCH`
rows, runs the loop's own steps. The results agree to
rounding: the sums of the matrix products run in another order (another BLAS
call), so weights after a few epochs agree to about 1e-12 in float64 and 1e-5
in float32 (``tests/training/test_fused.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .. import fast, models, optim
from . import loop
from .objective import Objective
from .state import TrainState

fast.declare("linear_epoch", loop.take_steps)  # the kernel takes take_steps' steps for fit's case

_RULES = {optim.SGD: "sgd", optim.Momentum: "momentum", optim.Adam: "adam"}  # exact classes only
# Larger batches take the loop: a step's Python calls are then a small part of it, and numba's
# np.dot runs on scipy's OpenBLAS, not NumPy's: one thread, its X_bᵀG was 1.3-1.5x slower at
# batches of 512-4096; two threads on a loaded machine, epochs at batch 512 took 2-3x the
# loop's (one path per process, alternating: 3462/1144, 920/433, 759/386 ms), while at 64-256
# they took 0.5-1.0x (2 cores, AMD EPYC, load 5-6; `bench/train.py --epoch-only` for the tables).
MAX_BATCH = 256


@dataclass
class LinearCase:
    """What the fused epoch needs beside the batches, as the kernel takes it.

    Attributes
    ----------
    X : np.ndarray of shape (N, D)
        The training rows, C-contiguous, of the parameters' float dtype.
    labels : np.ndarray of shape (N,)
        Integer labels 0..C-1 (intp).
    W, b : np.ndarray of shapes (D, C) and (C,)
        The model's parameters, updated in place.
    reg : float
        The L2 strength λ of the penalty λ·ΣW² (0: none).
    loss : tuple
        ``("softmax_cross_entropy",)`` or ``("multiclass_hinge", margin, squared)``.
    rule : tuple
        The update rule: ``(name, constants, t, first moments, second moments)``.

    Examples
    --------
    >>> import numpy as np
    >>> from losslab import models, optim
    >>> from losslab.training import Objective, TrainState
    >>> model = models.Linear(3, 2, random_state=0)
    >>> opt = optim.SGD()
    >>> state = TrainState(opt, opt.init(model.params), np.random.default_rng(0))
    >>> X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    >>> case = linear_case(Objective(model, "svm", reg=0.1), state, X, y, None, None, 32)
    >>> case.loss, case.rule[0], case.reg
    (('multiclass_hinge', 1.0, False), 'sgd', 0.1)
    """

    X: np.ndarray
    labels: np.ndarray
    W: np.ndarray
    b: np.ndarray
    reg: float
    loss: tuple
    rule: tuple


def linear_case(
    objective: Objective,
    state: TrainState,
    X: Any,
    target: np.ndarray,
    weights: np.ndarray | None,
    clip_grad_norm: float | None,
    batch_size: int,
) -> LinearCase | None:
    """The fused epoch's arguments for this fit, or None where only the loop's ``take_steps`` applies.

    Parameters
    ----------
    objective : Objective
        fit's objective: the model, the loss and the penalty.
    state : TrainState
        The optimizer and its state.
    X : np.ndarray of shape (N, D), or a scipy.sparse matrix
        The training rows.
    target : np.ndarray of shape (N,)
        The encoded targets (integer labels for the multiclass losses).
    weights : np.ndarray of shape (N,) or None
        Per-row weights; any weights mean the loop.
    clip_grad_norm : float or None
        Gradient clipping; any clipping means the loop.
    batch_size : int
        Rows per step; over :data:`MAX_BATCH`, the loop.

    Returns
    -------
    LinearCase or None
        None unless the model, loss, penalty, optimizer and arrays are the
        kernel's case (see the module's description).

    Examples
    --------
    >>> import numpy as np
    >>> from losslab import models, optim
    >>> from losslab.training import Objective, TrainState
    >>> model = models.Linear(3, 2, random_state=0)
    >>> opt = optim.RMSProp()
    >>> state = TrainState(opt, opt.init(model.params), np.random.default_rng(0))
    >>> X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    >>> linear_case(Objective(model, "softmax"), state, X, y, None, None, 32) is None  # RMSProp
    True
    """
    model = objective.model
    if weights is not None or clip_grad_norm is not None or type(model) is not models.Linear:
        return None
    if batch_size > MAX_BATCH:
        return None
    if objective.reg != 0 and objective.penalty != "l2":
        return None
    loss, rule = _loss_case(objective.loss), _rule(state.optimizer, state.opt_state)
    if loss is None or rule is None or target.ndim != 1 or target.dtype != np.intp:
        return None
    W, b = model.params["W"], model.params["b"]
    if not isinstance(X, np.ndarray) or W.shape[1] < 2:  # a sparse X indexes rows itself
        return None
    case = LinearCase(X, target, W, b, float(objective.reg), loss, rule)
    takes = cast(Callable[..., bool], fast.KERNELS["linear_epoch"][1])  # the kernel's own check
    return case if takes(X, target, None, 1, W, b, case.reg, loss, rule) else None


def _loss_case(loss):
    """The kernel's loss: ("softmax_cross_entropy",) or ("multiclass_hinge", margin, squared)
    for those losses' options the kernel covers (no weights, no smoothing), else None."""
    spec = getattr(loss.fn, "fused", None)
    if spec is None or spec.kernel not in ("softmax_cross_entropy", "multiclass_hinge"):
        return None
    options = {**spec.defaults, **loss.options}
    if options.pop("reduction", "mean") != "mean" or options.keys() != spec.defaults.keys():
        return None
    try:
        extra = spec.case(**options)
    except (TypeError, ValueError):  # the loss reports it, on the reference path
        return None
    if extra is None or extra[-1] is not None:  # weights or smoothing: an options object
        return None
    if spec.kernel == "multiclass_hinge":  # (margin, squared, kind): the epoch has WW only
        margin, squared, kind = extra[:-1]
        return (spec.kernel, margin, squared) if kind == "weston_watkins" else None
    return (spec.kernel, *extra[:-1])


def _rule(optimizer, opt_state):
    """The kernel's update rule: (name, constants, t, first moments, second moments), or None."""
    name = _RULES.get(type(optimizer))
    if name == "adam":
        m, v = opt_state["m"], opt_state["v"]
        constants = (optimizer.beta1, optimizer.beta2, optimizer.eps)
        return name, constants, opt_state["t"], (m["W"], m["b"]), (v["W"], v["b"])
    if name == "momentum":
        v = opt_state["v"]
        return name, (optimizer.momentum,), 0, (v["W"], v["b"]), None
    return None if name is None else (name, (), 0, None, None)


class LinearSteps:
    """The fused kernel's steps over the batches of ``order``: a
    :class:`~losslab.training.loop.FusedSteps` for :func:`losslab.training.loop.take_steps`.

    Parameters
    ----------
    kernel : callable
        ``losslab.fast.kernel("linear_epoch")``.
    case : LinearCase
        From :func:`linear_case`, for this epoch (it holds Adam's step count).
    state : TrainState
        Adam's count in its optimizer state is advanced by the steps taken.
    order : np.ndarray of shape (N,)
        The epoch's permutation of the rows; consecutive slices of ``batch_size`` are the batches.
    batch_size : int
        Rows per step (the last batch may be shorter).

    Attributes
    ----------
    rows : np.ndarray of shape (steps,)
        The rows of each step's batch.

    Examples
    --------
    >>> import numpy as np
    >>> from losslab import config, fast, models, optim
    >>> from losslab.training import Objective, TrainState, take_steps
    >>> X = np.random.default_rng(0).standard_normal((100, 3))
    >>> y = (X[:, 0] > 0).astype(np.intp)
    >>> model = models.Linear(3, 2, random_state=0)
    >>> opt = optim.Adam()
    >>> state = TrainState(opt, opt.init(model.params), np.random.default_rng(0))
    >>> case = linear_case(Objective(model, "softmax"), state, X, y, None, None, 32)
    >>> with config.fast(True):
    ...     kernel = fast.kernel("linear_epoch")
    >>> steps = LinearSteps(kernel, case, state, np.arange(100), 32)
    >>> steps.rows.tolist()
    [32, 32, 32, 4]
    >>> totals = take_steps(None, model.params, state, [], lambda epoch: 0.1, fused=steps)
    >>> state.step, state.opt_state["t"], totals.rows, round(totals.mean_loss, 2)
    (4, 4, 100, 0.62)
    """

    def __init__(
        self,
        kernel: Callable[..., int],
        case: LinearCase,
        state: TrainState,
        order: np.ndarray,
        batch_size: int,
    ) -> None:
        self.kernel, self.case, self.state = kernel, case, state
        self.order, self.batch_size = order, batch_size
        n = len(order)
        self.rows = np.minimum(batch_size, n - np.arange(0, n, batch_size))

    def __call__(self, lrs: np.ndarray, values: np.ndarray, hits: np.ndarray) -> int:
        """Take the steps at learning rates ``lrs``; returns how many were taken."""
        case = self.case
        arrays = (case.X, case.labels, self.order, self.batch_size, case.W, case.b)
        done = self.kernel(*arrays, case.reg, case.loss, case.rule, lrs, values, hits)
        if case.rule[0] == "adam":
            self.state.opt_state["t"] += done
        return done
