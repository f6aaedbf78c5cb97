"""What to train, as one small value, and what training hands back.

An estimator turns its own parameters into a :class:`TrainSpec` (the loss, the
model to build, the penalty, the solver and its settings, the class-weighting
rule); whatever trains it (the in-memory loop, or :mod:`losslab.scale.distributed`
on a Dask cluster) reads only the spec and the data, and returns a
:class:`TrainResult` from which the estimator sets its fitted attributes. The
trainer never looks inside the estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import losses, models
from .full_batch import FULL_BATCH_METHODS
from .objective import Objective, n_outputs
from .smoothing import is_hinge
from .state import History, TrainState

SOLVERS = ("sgd", *FULL_BATCH_METHODS, "smoothing")

# "auto" trains by mini-batches above this many rows × features (float32: 256 MiB of X):
# a full-batch iteration then costs as much as an epoch of mini-batches, which has
# usually gone most of the way
FULL_BATCH_LIMIT = 2**26

# losses with a continuous gradient, which L-BFGS minimises to its tolerance
SMOOTH_LOSSES = frozenset(
    {
        "softmax_cross_entropy",
        "softmax_focal",
        "sigmoid_binary_cross_entropy",
        "sigmoid_focal",
        "modified_huber",
        "squared_error",
        "huber",
        "smooth_l1",
        "log_cosh",
        "poly1_cross_entropy",
        "kl_divergence",
        "soft_margin",
        "multilabel_soft_margin",
        "poisson_nll",
        "squared_epsilon_insensitive",
    }
)


def check_clipping(clip_grad_norm: float | None, solver: str) -> float | None:
    """``clip_grad_norm`` if the solver takes steps to clip ("auto" or "sgd"), else a clear error."""
    if clip_grad_norm is not None and solver not in ("auto", "sgd"):
        raise ValueError(
            f"clip_grad_norm: clips the mini-batch steps of solver='sgd'; solver={solver!r} "
            "takes none (leave it None, or use solver='sgd')"
        )
    return clip_grad_norm


def check_solver(solver: str) -> str:
    """``solver`` if it names a training solver ("sgd", "lbfgs", "gd", "smoothing"), else a clear error."""
    if solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {SOLVERS}, got {solver!r}")
    return solver


def is_smooth(loss: str | losses.Loss) -> bool:
    """True when the loss has a continuous gradient (the squared hinges among them)."""
    loss = losses.get(loss)
    if loss.name in ("squared_hinge", "binary_squared_hinge", "multiclass_hinge", "hinge"):
        weston_watkins = loss.options.get("kind", "weston_watkins") == "weston_watkins"
        return bool(loss.options.get("squared")) and weston_watkins
    return loss.name in SMOOTH_LOSSES


def auto_solver(
    loss: str | losses.Loss,
    penalty: str,
    model: str,
    n_rows: int,
    n_features: int,
    *,
    in_memory: bool = True,
) -> str:
    """The solver ``solver="auto"`` picks for this problem.

    - mini-batches ("sgd") for an MLP, for data over ``FULL_BATCH_LIMIT``
      rows × features, and for what the full-batch solvers do not minimise
      exactly (an L1 or elastic-net penalty, the perceptron, Crammer-Singer, ...);
    - "lbfgs" for a smooth loss with an L2 penalty;
    - "smoothing" (Newton steps on a smoothed hinge, down to the exact hinge)
      for the hinge losses with an L2 penalty, in memory; on Dask they train by
      local SGD.
    """
    if model != "linear" or n_rows * n_features > FULL_BATCH_LIMIT or penalty != "l2":
        return "sgd"
    if is_smooth(loss):
        return "lbfgs"
    if in_memory and is_hinge(loss):
        return "smoothing"
    return "sgd"


@dataclass(frozen=True)
class TrainSpec:
    """Everything a trainer needs to know besides the data.

    ``loss`` is a resolved :class:`losslab.losses.Loss`. ``classifier`` says
    whether the targets are class labels (their sorted unique values become
    ``classes``) or values to regress. ``init`` is a model to continue from
    (warm start); it is used when its shape fits the data, else a new model is
    built. ``solver`` is "auto" (see :func:`auto_solver` and :meth:`solver_for`),
    "sgd", "lbfgs", "gd" or "smoothing", or for a regressor "normal"
    (closed-form ridge). ``clip_grad_norm`` bounds the global norm of each
    mini-batch step's gradients; with it, "auto" is "sgd".
    """

    loss: losses.Loss
    classifier: bool = True
    # the model to build: "linear" or "mlp" with these hidden layers, seeded by random_state
    model: str = "linear"
    hidden: tuple[int, ...] = ()
    init: models.Model | None = None
    # the penalty: reg * R(W), R in "l2", "l1", "elasticnet"
    reg: float = 1e-4
    penalty: str = "l2"
    l1_ratio: float = 0.15
    # the solver and its settings (max_iter counts epochs, or iterations of a full-batch solver)
    solver: str = "sgd"
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "constant"
    batch_size: int = 64
    max_iter: int = 200
    tol: float | None = 1e-4
    patience: int = 5
    early_stopping: bool = False
    validation_fraction: float = 0.1
    random_state: int | None = None
    progress: bool = False
    # None, "balanced" or {label: weight}; see class_weight_vector
    class_weight: str | dict[Any, float] | None = None
    # None, or the largest global norm of a mini-batch step's gradients
    clip_grad_norm: float | None = None

    def solver_for(self, n_rows: int, n_features: int, *, in_memory: bool = True) -> str:
        """The solver that trains this spec on data of this shape ("auto" resolved)."""
        if self.solver != "auto":
            return self.solver
        if self.clip_grad_norm is not None:
            return "sgd"  # clipping is a step of the mini-batch loop
        return auto_solver(
            self.loss, self.penalty, self.model, n_rows, n_features, in_memory=in_memory
        )

    def n_outputs(self, n_classes: int) -> int:
        """Score columns the loss needs for ``n_classes`` classes."""
        return n_outputs(self.loss, n_classes)

    def build_model(self, n_features: int, n_outputs: int, dtype: DTypeLike) -> models.Model:
        """``init`` when its shape fits (training continues it in place), else a new model."""
        init = self.init
        if init is not None and (init.n_features, init.n_outputs) == (n_features, n_outputs):
            return init
        return models.build(
            self.model,
            n_features,
            n_outputs,
            hidden=self.hidden,
            dtype=dtype,
            random_state=self.random_state,
        )

    def objective(self, model: models.Model) -> Objective:
        """The function training minimises for ``model``: mean loss + reg * penalty."""
        return Objective(
            model, self.loss, reg=self.reg, penalty=self.penalty, l1_ratio=self.l1_ratio
        )

    def class_weights(
        self, classes: np.ndarray, counts: ArrayLike | None = None
    ) -> np.ndarray | None:
        """Per-class weights for ``classes`` by this spec's rule (see class_weight_vector)."""
        return class_weight_vector(self.class_weight, classes, counts)


@dataclass
class TrainResult:
    """What training hands back: the trained model and how it got there.

    ``n_iter`` counts epochs (or full-batch iterations); ``classes`` are the
    sorted labels of a classifier (None for a regressor); ``single_output``
    says that the regression targets were 1-D; ``state`` is the TrainState
    that continues the run (None where training cannot be continued);
    ``solver`` is the solver that ran ("auto" resolved).
    """

    model: models.Model
    history: History | None
    n_iter: int
    classes: np.ndarray | None = None
    single_output: bool = True
    state: TrainState | None = None
    solver: str | None = None


def class_weight_vector(
    rule: str | dict[Any, float] | None, classes: np.ndarray, counts: ArrayLike | None = None
) -> np.ndarray | None:
    """The weight of each of ``classes`` (float64) under a class-weighting rule, or None.

    The one rule for in-memory and distributed training alike:

    - None: no class weights.
    - "balanced": scikit-learn's ``n / (C * n_c)``, from the count ``n_c`` of
      each class; it needs the whole data's ``counts`` (not one batch's).
    - a dict ``{label: weight}``: that weight for the labels it names, 1 for the
      others; as in scikit-learn, naming a label that is not a class is an
      error while some class is left unnamed.

    >>> class_weight_vector("balanced", np.array([0, 1]), np.array([3, 1])).tolist()
    [0.6666666666666666, 2.0]
    """
    if rule is None:
        return None
    if isinstance(rule, str) and rule == "balanced":
        if counts is None:
            raise ValueError(
                "class_weight: 'balanced' needs the whole data; use fit, or a dict with partial_fit"
            )
        counts = np.asarray(counts, dtype=np.float64)
        return counts.sum() / (len(classes) * counts)
    if not isinstance(rule, dict):
        raise ValueError(f"class_weight: expected None, a dict or 'balanced', got {rule!r}")
    named = [c for c in classes if c in rule]
    if len(named) < len(classes) and len(named) != len(rule):
        unknown = [k for k in rule if k not in set(named)]
        raise ValueError(
            f"class_weight: labels {unknown} are not among the classes "
            f"{np.asarray(classes).tolist()}"
        )
    return np.array([rule.get(c, 1.0) for c in classes], dtype=np.float64)
