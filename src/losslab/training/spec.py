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
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import losses, models
from .checks import check_class_weights
from .full_batch import FULL_BATCH_METHODS
from .objective import Objective, n_outputs
from .smoothing import is_hinge
from .state import History, TrainState

SOLVERS = ("sgd", *FULL_BATCH_METHODS, "smoothing", "dual_cd")

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
    """``clip_grad_norm`` if the solver takes steps to clip ("auto" or "sgd"), else a clear error.

    Parameters
    ----------
    clip_grad_norm : float or None
        The largest global gradient norm of a mini-batch step, or None.
    solver : str
        The estimator's ``solver``.

    Returns
    -------
    float or None
        ``clip_grad_norm``, unchanged.

    Raises
    ------
    ValueError
        A norm given with a full-batch solver, which takes no mini-batch steps.

    Examples
    --------
    >>> check_clipping(1.0, "auto"), check_clipping(None, "lbfgs")
    (1.0, None)
    >>> check_clipping(1.0, "lbfgs")
    Traceback (most recent call last):
    ...
    ValueError: clip_grad_norm: clips the mini-batch steps of solver='sgd'; solver='lbfgs' takes none (leave it None, or use solver='sgd')
    """
    if clip_grad_norm is not None and solver not in ("auto", "sgd"):
        raise ValueError(
            f"clip_grad_norm: clips the mini-batch steps of solver='sgd'; solver={solver!r} "
            "takes none (leave it None, or use solver='sgd')"
        )
    return clip_grad_norm


def check_early_stopping(early_stopping: bool, solver: str) -> bool:
    """``early_stopping`` if the solver has epochs to pick from ("auto" or "sgd"), else a clear error.

    Early stopping holds out ``validation_fraction`` of the rows and keeps the
    epoch whose held-out loss was best; a full-batch solver would silently
    train on every row and keep its last iterate, so it is refused there
    rather than ignored ("auto" trains by mini-batches with it, see
    :meth:`TrainSpec.solver_for`).

    Parameters
    ----------
    early_stopping : bool
        The estimator's ``early_stopping``.
    solver : str
        The estimator's ``solver``.

    Returns
    -------
    bool
        ``early_stopping``, unchanged.

    Raises
    ------
    ValueError
        ``early_stopping=True`` with a full-batch solver.

    Examples
    --------
    >>> check_early_stopping(True, "auto"), check_early_stopping(False, "lbfgs")
    (True, False)
    >>> check_early_stopping(True, "lbfgs")
    Traceback (most recent call last):
    ...
    ValueError: early_stopping: holds out rows and keeps the best epoch of solver='sgd'; solver='lbfgs' trains on every row and has no epochs to pick from (leave it False, or use solver='sgd' or 'auto')
    """
    if early_stopping and solver not in ("auto", "sgd"):
        raise ValueError(
            "early_stopping: holds out rows and keeps the best epoch of solver='sgd'; "
            f"solver={solver!r} trains on every row and has no epochs to pick from "
            "(leave it False, or use solver='sgd' or 'auto')"
        )
    return early_stopping


def check_solver(solver: str) -> str:
    """``solver`` if it names a training solver ("sgd", "lbfgs", "gd", "smoothing", "dual_cd"), else
    a clear error.

    Parameters
    ----------
    solver : str
        The name to check ("auto" is resolved before, by :func:`auto_solver`).

    Returns
    -------
    str
        ``solver``, unchanged.

    Raises
    ------
    ValueError
        Any other name.

    Examples
    --------
    >>> check_solver("lbfgs")
    'lbfgs'
    >>> check_solver("adam")
    Traceback (most recent call last):
    ...
    ValueError: solver: expected one of ('sgd', 'lbfgs', 'gd', 'smoothing', 'dual_cd'), got 'adam'
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {SOLVERS}, got {solver!r}")
    return solver


def iterations_done(solver: str, history: History) -> int:
    """What ``n_iter_`` counts for a run of ``solver``: its epochs (sgd, dual_cd), iterations
    (lbfgs, gd) or Newton steps of every stage (smoothing).

    The smoothing and dual solvers record the count so far in ``history.epoch`` at
    each check (a stage's end, every few epochs); the others add one entry an epoch.

    Parameters
    ----------
    solver : str
        The solver that ran.
    history : History
        Its history.

    Returns
    -------
    int

    Examples
    --------
    >>> iterations_done("dual_cd", History(train_loss=[0.5, 0.4], epoch=[5, 10]))
    10
    >>> iterations_done("lbfgs", History(train_loss=[0.5, 0.4], epoch=[1, 2]))
    2
    """
    counted = solver in ("smoothing", "dual_cd") and history.epoch
    return int(history.epoch[-1]) if counted else history.n_epochs


def is_smooth(loss: str | losses.Loss) -> bool:
    """True when the loss has a continuous gradient (the squared hinges among them).

    Such a loss is minimised to its tolerance by L-BFGS; the hinge, absolute error
    and the other losses with a kink are not.

    Parameters
    ----------
    loss : str or losses.Loss
        A registry name or a Loss (its options count: ``squared=True`` smooths a hinge).

    Returns
    -------
    bool
        Whether the loss's gradient is continuous.

    Examples
    --------
    >>> is_smooth("softmax"), is_smooth("hinge"), is_smooth("squared_hinge")
    (True, False, True)
    """
    loss = losses.get(loss)
    if loss.name in ("squared_hinge", "binary_squared_hinge", "multiclass_hinge", "hinge"):
        weston_watkins = loss.options.get("kind", "weston_watkins") == "weston_watkins"
        return bool(loss.options.get("squared")) and weston_watkins
    return loss.name in SMOOTH_LOSSES


# "auto" trains a penalised hinge loss on sparse X by the smoothing solver when its rows are
# dense-ish (each holds at least DENSE_ROWS of the columns) and it has at most
# SPARSE_SMOOTHING_LIMIT stored values (rows × stored values a row); else by dual coordinate
# descent. Measured at the solvers' defaults on 18 generated problems that no other benchmark
# uses (bench/hinge_solvers.py, bench/RESULTS.md "Sparse hinge problems: which solver"): on
# TF-IDF text (rows holding 0.1-1% of the columns) dual_cd converged within 200 epochs every
# time, in 0.01-11 s, 7-300x faster than smoothing (0.07-51 s, or over 60 s); on dense-ish rows
# (25-100% of the columns) with many more rows than columns it had not converged after 200
# epochs at any size (6e-4 to 0.2 above the minimum), where smoothing found the exact minimum in
# 0.6-19 s (16 s at most up to 100,000 stored values, but one problem over 60 s). Digits as CSR
# (1,797 x 64, 55,000 values, rows holding half the columns; dual_cd at 43x the minimum after
# 200 epochs) goes to smoothing.
SPARSE_SMOOTHING_LIMIT = 100_000
DENSE_ROWS = 0.1


def auto_solver(
    loss: str | losses.Loss,
    penalty: str,
    model: str,
    n_rows: int,
    n_features: int,
    *,
    in_memory: bool = True,
    sparse: bool = False,
    penalised: bool = True,
    n_columns: int | None = None,
) -> str:
    """The solver ``solver="auto"`` picks for this problem.

    - mini-batches ("sgd") for an MLP, for data over ``FULL_BATCH_LIMIT``
      rows × features, and for what the full-batch solvers do not minimise
      exactly (the perceptron, Crammer-Singer, a hinge loss with an L1 part, ...);
    - "lbfgs" for a smooth loss: L-BFGS with an L2 penalty, OWL-QN (L-BFGS
      within one orthant at a time) with an L1 or elastic-net one;
    - "smoothing" (Newton steps on a smoothed hinge, then the exact hinge's
      minimum from its KKT conditions) for the hinge losses with an L2
      penalty on dense data in memory;
    - for them on sparse X in memory, when penalised (unpenalised, they
      train by mini-batches): "dual_cd" (dual coordinate descent, liblinear's
      method; its box needs a penalty), which on TF-IDF text converges in
      tens of epochs where the smoothing solver's conjugate-gradient Newton
      steps take 7-300x as long (700 s on 20,000 documents); but "smoothing"
      when the rows are dense-ish (each holds at least ``DENSE_ROWS``, 10%, of
      the ``n_columns``) and the problem has at most ``SPARSE_SMOOTHING_LIMIT``
      (100,000) stored values: there dual_cd can stop at ``max_iter`` epochs
      unconverged where smoothing finds the exact minimum in seconds. Larger
      dense-ish problems go to dual_cd: pass ``solver="smoothing"`` if it warns
      (bench/RESULTS.md, "Sparse hinge problems: which solver").
      On Dask the hinge losses train by mini-batches.

    Parameters
    ----------
    loss : str or losses.Loss
        The loss trained.
    penalty : str
        The weight penalty ("l2", "l1", "elasticnet").
    model : {"linear", "mlp"}
        The model trained.
    n_rows, n_features : int
        The data's shape (for sparse data, the stored values per row as features).
    in_memory : bool, default True
        False for data on Dask, where the smoothing solver does not run.
    sparse : bool, default False
        True for scipy.sparse X.
    penalised : bool, default True
        False when the penalty's strength is 0.
    n_columns : int, optional
        A sparse X's number of columns (``n_features`` is then the stored values
        a row); unknown, its rows count as dense-ish.

    Returns
    -------
    {"sgd", "lbfgs", "smoothing", "dual_cd"}
        The solver's name.

    Examples
    --------
    >>> auto_solver("softmax", "l2", "linear", 150, 4), auto_solver("svm", "l2", "linear", 150, 4)
    ('lbfgs', 'smoothing')
    >>> auto_solver("softmax", "l1", "linear", 150, 4), auto_solver("softmax", "l2", "mlp", 150, 4)
    ('lbfgs', 'sgd')
    >>> auto_solver("softmax", "l2", "linear", 10**6, 100)  # over FULL_BATCH_LIMIT
    'sgd'
    >>> auto_solver("svm", "l2", "linear", 1797, 30.4, sparse=True, n_columns=64)  # digits as CSR
    'smoothing'
    >>> auto_solver("svm", "l2", "linear", 1000, 102.8, sparse=True, n_columns=200)  # 102,800 values
    'dual_cd'
    >>> auto_solver("svm", "l2", "linear", 1000, 50, sparse=True, n_columns=10_000)  # TF-IDF
    'dual_cd'
    >>> auto_solver("hinge", "l2", "linear", 150, 4, sparse=True, penalised=False)
    'sgd'
    """
    if model != "linear" or n_rows * n_features > FULL_BATCH_LIMIT:
        return "sgd"
    if is_smooth(loss):
        return "lbfgs"  # with an L1 part, orthant-wise (OWL-QN)
    if penalty != "l2":
        return "sgd"
    if in_memory and is_hinge(loss) and not sparse:
        return "smoothing"
    if in_memory and is_hinge(loss) and penalised:
        dense_ish = n_columns is None or n_features >= DENSE_ROWS * n_columns
        small = n_rows * n_features <= SPARSE_SMOOTHING_LIMIT
        return "smoothing" if dense_ish and small else "dual_cd"
    return "sgd"


@dataclass(frozen=True)
class TrainSpec:
    """Everything a trainer needs to know besides the data.

    ``loss`` is a resolved :class:`losslab.losses.Loss`. ``classifier`` says
    whether the targets are class labels (their sorted unique values become
    ``classes``) or values to regress. ``init`` is a model to continue from
    (warm start); it is used when its shape fits the data, else a new model is
    built. ``solver`` is "auto" (see :func:`auto_solver` and :meth:`solver_for`),
    "sgd", "lbfgs", "gd", "smoothing" or "dual_cd", or for a regressor "normal"
    (closed-form ridge). ``clip_grad_norm`` bounds the global norm of each
    mini-batch step's gradients; with it, or with ``early_stopping``, "auto" is
    "sgd" (:attr:`needs_mini_batches`).

    Attributes
    ----------
    loss : losses.Loss
        The loss trained.
    classifier : bool, default True
        Class labels (True) or values to regress (False).
    model : {"linear", "mlp"}, default "linear"
        The model to build.
    hidden : tuple of int, default ()
        The MLP's hidden layer widths.
    init : Model or None
        A model to continue from (warm start), when its shape fits.
    reg : float, default 1e-4
        The penalty's strength.
    penalty : {"l2", "l1", "elasticnet"}, default "l2"
        The weight penalty.
    l1_ratio : float, default 0.15
        The elastic net's share of L1.
    solver : {"auto", "sgd", "lbfgs", "gd", "smoothing", "dual_cd", "normal"}, default "sgd"
        How to train.
    optimizer, lr, schedule, batch_size : str, float, str, int
        The mini-batch solver's settings (see :func:`losslab.fit`).
    max_iter : int, default 200
        Epochs, or iterations of a full-batch solver.
    tol : float or None, default 1e-4
        The stopping rule's tolerance (None: run ``max_iter``).
    patience : int, default 5
        Checks without improvement before stopping.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data and keep its best epoch.
    validation_fraction : float, default 0.1
        The share held out with ``early_stopping``.
    random_state : int or None
        Seeds the model, the shuffling and the split.
    progress : bool, default False
        Show a progress bar.
    class_weight : None, "balanced" or dict
        The class-weighting rule (:func:`class_weight_vector`).
    clip_grad_norm : float or None
        The largest global gradient norm of a mini-batch step.

    Examples
    --------
    >>> from losslab import losses
    >>> spec = TrainSpec(losses.get("softmax"), solver="auto", random_state=0)
    >>> spec.solver_for(150, 4), spec.n_outputs(3)
    ('lbfgs', 3)
    >>> model = spec.build_model(4, 3, np.float32)
    >>> type(model).__name__, model.params["W"].dtype, spec.objective(model).reg
    ('Linear', dtype('float32'), 0.0001)
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

    def solver_for(
        self,
        n_rows: int,
        n_features: int,
        *,
        in_memory: bool = True,
        sparse: bool = False,
        n_columns: int | None = None,
    ) -> str:
        """The solver that trains this spec on data of this shape ("auto" resolved).

        Parameters
        ----------
        n_rows, n_features : int
            The data's shape.
        in_memory : bool, default True
            False for data on Dask.
        sparse : bool, default False
            True for scipy.sparse X.
        n_columns : int, optional
            A sparse X's columns (``n_features`` is then its stored values a row).

        Returns
        -------
        str
            ``solver`` unless it is "auto"; then "sgd" when :attr:`needs_mini_batches`,
            else :func:`auto_solver`'s choice.

        Examples
        --------
        >>> from losslab import losses
        >>> TrainSpec(losses.get("hinge"), solver="auto", clip_grad_norm=1.0).solver_for(150, 4)
        'sgd'
        >>> TrainSpec(losses.get("softmax"), solver="auto", early_stopping=True).solver_for(150, 4)
        'sgd'
        """
        if self.solver != "auto":
            return self.solver
        if self.needs_mini_batches:
            return "sgd"
        return auto_solver(
            self.loss,
            self.penalty,
            self.model,
            n_rows,
            n_features,
            in_memory=in_memory,
            sparse=sparse,
            penalised=not (isinstance(self.reg, Real) and self.reg <= 0),
            n_columns=n_columns,
        )

    @property
    def needs_mini_batches(self) -> bool:
        """True when a setting only the mini-batch loop honours is on: "auto" is then "sgd".

        Clipping (``clip_grad_norm``) is a step of the mini-batch loop, and early
        stopping keeps the best of its epochs on held-out rows; a full-batch
        solver would ignore either (an explicit one refuses them:
        :func:`check_clipping`, :func:`check_early_stopping`).

        Examples
        --------
        >>> from losslab import losses
        >>> TrainSpec(losses.get("softmax")).needs_mini_batches
        False
        >>> TrainSpec(losses.get("softmax"), early_stopping=True).needs_mini_batches
        True
        """
        return self.clip_grad_norm is not None or bool(self.early_stopping)

    def n_outputs(self, n_classes: int) -> int:
        """Score columns the loss needs for ``n_classes`` classes.

        Parameters
        ----------
        n_classes : int
            C.

        Returns
        -------
        int
            See :func:`~losslab.training.objective.n_outputs`.

        Examples
        --------
        >>> from losslab import losses
        >>> TrainSpec(losses.get("hinge")).n_outputs(2)
        1
        """
        return n_outputs(self.loss, n_classes)

    def build_model(self, n_features: int, n_outputs: int, dtype: DTypeLike) -> models.Model:
        """``init`` when its architecture fits (training continues it in place), else a new model.

        The architecture is the model kind, its inputs and score columns, and an
        MLP's hidden layer widths: a warm start after ``hidden_layer_sizes``
        changed starts the new network, as a changed number of features does.

        Parameters
        ----------
        n_features, n_outputs : int
            The model's inputs and score columns.
        dtype : dtype
            The new model's parameter dtype (float32 or float64).

        Returns
        -------
        Model
            ``init`` itself, or a new ``model`` ("linear" or "mlp" with ``hidden``)
            seeded by ``random_state``.

        Examples
        --------
        >>> from losslab import losses, models
        >>> warm = models.Linear(4, 3)
        >>> spec = TrainSpec(losses.get("softmax"), init=warm)
        >>> spec.build_model(4, 3, np.float64) is warm, spec.build_model(5, 3, np.float64) is warm
        (True, False)
        >>> net = models.MLP(4, (8,), 3)
        >>> wider = TrainSpec(losses.get("softmax"), model="mlp", hidden=(16,), init=net)
        >>> wider.build_model(4, 3, np.float64).hidden
        (16,)
        """
        init = self.init
        if init is not None and self._continues(init, n_features, n_outputs):
            return init
        return models.build(
            self.model,
            n_features,
            n_outputs,
            hidden=self.hidden,
            dtype=dtype,
            random_state=self.random_state,
        )

    def _continues(self, init: models.Model, n_features: int, n_outputs: int) -> bool:
        """Whether ``init`` is the model this spec builds for this shape (kind, sizes, widths)."""
        if (init.n_features, init.n_outputs) != (n_features, n_outputs):
            return False
        if self.model == "mlp":
            return isinstance(init, models.MLP) and init.hidden == tuple(self.hidden)
        return not isinstance(init, models.MLP)

    def objective(self, model: models.Model) -> Objective:
        """The function training minimises for ``model``: mean loss + reg * penalty.

        Parameters
        ----------
        model : Model
            The model trained.

        Returns
        -------
        Objective
            With this spec's loss, ``reg``, ``penalty`` and ``l1_ratio``.

        Examples
        --------
        >>> from losslab import losses, models
        >>> objective = TrainSpec(losses.get("mse"), reg=0.5).objective(models.Linear(2, 1))
        >>> objective.loss.name, objective.reg, objective.penalty
        ('squared_error', 0.5, 'l2')
        """
        return Objective(
            model, self.loss, reg=self.reg, penalty=self.penalty, l1_ratio=self.l1_ratio
        )

    def class_weights(
        self, classes: np.ndarray, counts: ArrayLike | None = None
    ) -> np.ndarray | None:
        """Per-class weights for ``classes`` by this spec's rule (see class_weight_vector).

        Parameters
        ----------
        classes : ndarray of shape (C,)
            The sorted class labels.
        counts : array-like of shape (C,), optional
            Rows per class in the whole data ("balanced" needs them).

        Returns
        -------
        ndarray of shape (C,) float64, or None
            None without a rule.

        Examples
        --------
        >>> from losslab import losses
        >>> spec = TrainSpec(losses.get("hinge"), class_weight={0: 2.0})
        >>> spec.class_weights(np.array([0, 1])).tolist()
        [2.0, 1.0]
        """
        return class_weight_vector(self.class_weight, classes, counts)


@dataclass
class TrainResult:
    """What training hands back: the trained model and how it got there.

    ``n_iter`` counts epochs (or full-batch iterations); ``classes`` are the
    sorted labels of a classifier (None for a regressor); ``single_output``
    says that the regression targets were 1-D; ``state`` is the TrainState
    that continues the run (None where training cannot be continued);
    ``solver`` is the solver that ran ("auto" resolved), ``reg`` the penalty strength.

    Attributes
    ----------
    model : Model
        The trained model.
    history : History or None
        The run's record (None for a model read from a file).
    n_iter : int
        Epochs, or full-batch iterations.
    classes : ndarray of shape (C,) or None
        A classifier's sorted labels.
    single_output : bool, default True
        The regression targets were 1-D.
    state : TrainState or None
        What continues the run.
    solver : str or None
        The solver that ran.
    reg : float or None
        The penalty strength it minimised with (an estimator's ``alpha="auto"`` resolved).
    weight_seen : float or None
        The rows it trained on (their total weight): where partial_fit's "auto" continues.

    Examples
    --------
    >>> from losslab import losses
    >>> from losslab.training.full_batch import fit_full_batch
    >>> spec = TrainSpec(losses.get("mse"), classifier=False, solver="lbfgs", random_state=0)
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> model = spec.build_model(2, 1, np.float64)
    >>> history = fit_full_batch(model, spec.loss, X, X @ [1.0, 2.0], reg=spec.reg)
    >>> result = TrainResult(model, history, history.n_epochs, solver=spec.solver)
    >>> result.n_iter > 0, result.history.converged, result.classes
    (True, True, None)
    """

    model: models.Model
    history: History | None
    n_iter: int
    classes: np.ndarray | None = None
    single_output: bool = True
    state: TrainState | None = None
    solver: str | None = None
    reg: float | None = None
    weight_seen: float | None = None


def penalty_strength(
    alpha: float | str, n_samples: float | None, *, two_column_binary: bool = False
) -> float:
    """The penalty strength ``alpha`` means on ``n_samples`` rows: "auto" is 1 / (2 · n_samples).

    "auto" puts a fixed penalty ½‖w‖² on the *summed* loss, so the data
    outweigh it as they grow (a Gaussian prior of unit variance on each weight,
    for the softmax loss). It is scikit-learn's ``C=1`` (of ``LogisticRegression``,
    and the scale of ``LinearSVC``'s and ``SVC``'s): their objective ½‖w‖² + C·Σ loss,
    divided by ``n``, is losslab's mean loss + alpha·ΣW² with alpha = 1 / (2·C·n).
    With sample weights ``n_samples`` is their total (the mean loss's denominator),
    so weights act as repeated rows. On two classes a multiclass loss (softmax,
    Weston-Watkins) keeps two score columns, ±w/2 at the minimum, whose penalty
    is half that of their difference w, scikit-learn's one weight vector:
    ``two_column_binary`` doubles "auto" there, to 1 / n_samples, so that it is
    still ``C=1``. A fixed alpha on the mean loss instead keeps the prior's
    weight equal to the data's at every size (too strong on small sets, where
    the data should speak).

    Parameters
    ----------
    alpha : float or "auto"
        An estimator's ``alpha``.
    n_samples : float or None
        The rows training has seen (fit's, or all partial_fit calls' so far), or
        their total sample weight; needed for "auto".
    two_column_binary : bool, default False
        Two classes scored by two columns (a multiclass loss).

    Returns
    -------
    float
        The strength the objective uses.

    Raises
    ------
    ValueError
        "auto" without ``n_samples``.

    Examples
    --------
    >>> penalty_strength("auto", 500), penalty_strength(0.01, 500)
    (0.001, 0.01)
    >>> penalty_strength("auto", 500, two_column_binary=True)
    0.002

    References
    ----------
    scikit-learn's ``LogisticRegression`` (parameter ``C``) and user guide, "Logistic
    regression": https://scikit-learn.org/stable/modules/linear_model.html
    """
    if alpha != "auto":
        return float(alpha)
    if not n_samples:
        raise ValueError("alpha: 'auto' needs the number of training rows (n_samples)")
    return (2.0 if two_column_binary else 1.0) / (2.0 * n_samples)


def weight_total(
    n_rows: int,
    sample_weight: np.ndarray | None = None,
    class_weight: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> float:
    """The total weight of the rows, Σ sample_weight · class_weight[label]: ``n_rows`` without weights.

    Parameters
    ----------
    n_rows : int
        The rows.
    sample_weight : ndarray of shape (n_rows,), optional
        A weight per row.
    class_weight : ndarray of shape (C,), optional
        A weight per class, with ``labels`` (0..C-1) giving each row's.
    labels : ndarray of shape (n_rows,), optional
        Each row's class.

    Returns
    -------
    float
        The mean loss's denominator (the "n" of :func:`penalty_strength`).

    Examples
    --------
    >>> weight_total(3), weight_total(3, np.array([1.0, 2.0, 0.5]))
    (3.0, 3.5)
    >>> weight_total(3, None, np.array([1.0, 4.0]), np.array([0, 1, 1]))
    9.0
    """
    if sample_weight is None and class_weight is None:
        return float(n_rows)
    w = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if class_weight is not None:
        w = w * np.asarray(class_weight)[labels]
    return float(w.sum())


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

    Parameters
    ----------
    rule : None, "balanced" or dict
        The class-weighting rule.
    classes : ndarray of shape (C,)
        The sorted class labels.
    counts : array-like of shape (C,), optional
        Rows of each class in the whole data, for "balanced".

    Returns
    -------
    ndarray of shape (C,) float64, or None
        The weight of each class, in the order of ``classes``; None without a rule.

    Raises
    ------
    ValueError
        "balanced" without counts, an unknown rule, a dict naming labels that are
        not classes, or weights that are negative, NaN, infinite or all zero
        (:func:`~losslab.training.checks.check_class_weights`).
    TypeError
        Weights that are not numbers.

    Examples
    --------
    >>> class_weight_vector({0: 2.0}, np.array([0, 1, 2])).tolist()
    [2.0, 1.0, 1.0]
    >>> class_weight_vector("balanced", np.array([0, 1]), np.array([3, 1])).tolist()
    [0.6666666666666666, 2.0]
    >>> class_weight_vector({0: -0.5}, np.array([0, 1]))
    Traceback (most recent call last):
    ...
    ValueError: class_weight: expected finite non-negative weights, got -0.5 for class 0

    References
    ----------
    scikit-learn, ``sklearn.utils.class_weight.compute_class_weight``.
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
    return check_class_weights([rule.get(c, 1.0) for c in classes], classes)
