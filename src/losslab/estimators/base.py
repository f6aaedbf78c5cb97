"""What every losslab estimator shares: its parameters, its training spec, and training in memory.

Each estimator class is a dataclass whose fields are its parameters: the
dataclass writes its ``__init__`` (store the keyword arguments, nothing else,
as scikit-learn's contract asks) with the explicit signature that
scikit-learn's ``get_params`` and ``clone`` read. The parameters every
estimator has are written once, on :class:`TrainedEstimator`; a subclass
redefines a field to change its default or to make it positional, and adds the
fields only it has.

An estimator trains by handing a :class:`~losslab.training.spec.TrainSpec`
built from its parameters to a trainer (the in-memory loop here, or
:func:`losslab.scale.distributed.train` for Dask arrays) and setting its
fitted attributes from the :class:`~losslab.training.spec.TrainResult` that
comes back (:meth:`TrainedEstimator.set_trained`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any, Literal, Self

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import losses, models, optim
from ..training import FULL_BATCH_METHODS, History, TrainState, fit, fit_full_batch
from ..training.checks import is_sparse, split_validation
from ..training.dual_cd import fit_dual_cd
from ..training.smoothing import fit_smoothed
from ..training.spec import (
    SOLVERS,
    TrainResult,
    TrainSpec,
    check_clipping,
    check_early_stopping,
    is_smooth,
    iterations_done,
    penalty_strength,
)

DTYPES = [np.float64, np.float32]
# scipy.sparse input the linear models take as it is (other formats are converted to CSR)
SPARSE_FORMATS = ("csr", "csc")

# what every shared parameter may be, checked by scikit-learn at fit (one error naming it);
# loss, optimizer, schedule and class_weight are strings the library checks by name (in
# training_spec and class_weight_vector, so at fit too)
PARAMETER_CONSTRAINTS = {
    "loss": [str, callable],  # a name, or your own f(output, target) -> (value, grad)
    "loss_options": [dict, None],
    "penalty": [StrOptions({"l2", "l1", "elasticnet", "elastic_net"})],
    "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    "optimizer": [str],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "schedule": [str, callable],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "warm_start": ["boolean"],
    "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both"), None],
    "verbose": ["verbose"],
    "solver": [StrOptions({"auto", *SOLVERS})],
    "class_weight": [dict, str, None],
    "hidden_layer_sizes": [tuple, list],
    "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
}

# X and y as scikit-learn's validate_data hands them back (X may be a scipy.sparse matrix)
ArrayPair = tuple[np.ndarray, np.ndarray]

# eq=False, repr=False: estimators compare by identity and print through scikit-learn's repr
estimator_dataclass = dataclass(eq=False, repr=False)


@dataclass(eq=False, repr=False, kw_only=True)
class TrainedEstimator(BaseEstimator):
    """The parameters every estimator shares (documented on LinearClassifier), and its training.

    ``clip_grad_norm`` (None, or a positive number): before each mini-batch
    step, the gradients are scaled so that their global norm is at most this
    (torch's ``clip_grad_norm_``); with it, ``solver="auto"`` is "sgd", and a
    full-batch solver is an error.

    A subclass defines ``loss`` (its default) and may set ``_model_kind``.

    Parameters
    ----------
    loss_options : dict, optional
        Options bound to the loss.
    penalty : {"l2", "l1", "elasticnet"}
        The weight penalty R(W).
    alpha : float or "auto"
        Its strength: objective = mean loss + alpha · R(W); "auto" is
        ``1 / (2 · n_samples)`` (:func:`~losslab.training.spec.penalty_strength`).
    l1_ratio : float
        The share of L1 in the elastic net.
    optimizer : str
        A name of ``losslab.optim.OPTIMIZERS`` ("adam", "sgd", ...).
    lr : float
        The base learning rate.
    schedule : str or callable
        A name of ``losslab.optim.SCHEDULES`` or a function of the epoch.
    batch_size : int
        Rows per mini-batch.
    max_iter : int
        Epochs of "sgd", iterations of a full-batch solver.
    tol : float or None
        The stopping tolerance; None runs exactly ``max_iter``.
    n_iter_no_change : int
        Epochs without improvement before "sgd" stops.
    early_stopping : bool
        Monitor a held-out part of the data and keep the best weights.
    validation_fraction : float
        The part held out for early stopping.
    warm_start : bool
        Continue from the previous fit.
    random_state : int or None
        Seeds initialisation and shuffling.
    verbose : bool
        Show a progress bar.
    clip_grad_norm : float or None
        The largest global gradient norm of a mini-batch step.

    Examples
    --------
    >>> from losslab import LinearRegressor
    >>> est = LinearRegressor(solver="sgd", lr=0.05, max_iter=5)
    >>> isinstance(est, TrainedEstimator), est.get_params()["optimizer"]
    (True, 'adam')
    >>> spec = est.training_spec()  # what the trainer receives
    >>> spec.lr, spec.max_iter, spec.solver
    (0.05, 5, 'sgd')

    References
    ----------
    scikit-learn developers' guide, "Developing scikit-learn estimators":
    https://scikit-learn.org/stable/developers/develop.html
    """

    loss_options: dict | None = None
    penalty: str = "l2"
    alpha: float | str = 1e-4
    l1_ratio: float = 0.15
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "constant"
    batch_size: int = 64
    max_iter: int = 200
    tol: float | None = 1e-4
    n_iter_no_change: int = 5
    early_stopping: bool = False
    validation_fraction: float = 0.1
    warm_start: bool = False
    random_state: int | None = None
    verbose: bool = False
    # None, or the largest global norm of a mini-batch step's gradients (solver "sgd")
    clip_grad_norm: float | None = None

    _model_kind = "linear"  # a class attribute, not a parameter: "linear" or "mlp"

    @property
    def _parameter_constraints(self):
        """scikit-learn's constraints for this class's parameters (checked by ``_validate_params``)."""
        names = set(self._get_param_names())  # once: it inspects the signature (~40 µs)
        return {k: c for k, c in PARAMETER_CONSTRAINTS.items() if k in names}

    def _loss(self):
        # a plain function takes the estimator's task: class labels, or values to regress
        task = "multiclass" if is_classifier(self) else "regression"
        return losses.get(self.loss, **(self.loss_options or {})).for_task(task)

    def training_spec(
        self, n_samples: float | None = None, n_classes: int | None = None
    ) -> TrainSpec:
        """What to train on ``n_samples`` rows, from this estimator's parameters (a frozen TrainSpec).

        Under ``warm_start`` the spec's ``init`` is the fitted model, so training
        continues from it when its shape fits the data. The optimizer and the
        schedule are checked by name whichever solver runs, so a misspelt one is
        an error at once; ``clip_grad_norm`` and ``early_stopping`` with a
        full-batch solver are errors (it would ignore them).
        ``n_samples`` (rows, or their total weight) and ``n_classes`` set the
        penalty of ``alpha="auto"`` (:func:`~losslab.training.spec.penalty_strength`).
        """
        optim.get(self.optimizer)
        optim.schedule(self.schedule, self.lr)  # a name is looked up; a callable is kept
        solver = getattr(self, "solver", "sgd")  # an MLP trains by mini-batches
        check_clipping(self.clip_grad_norm, solver)
        check_early_stopping(self.early_stopping, solver)
        loss = self._loss()
        two_columns = n_classes == 2 and loss.task == "multiclass"
        return TrainSpec(
            loss=loss,
            classifier=is_classifier(self),
            model=self._model_kind,
            hidden=getattr(self, "hidden_layer_sizes", ()),
            init=self.model_ if self.warm_start and hasattr(self, "model_") else None,
            reg=penalty_strength(self.alpha, n_samples, two_column_binary=two_columns),
            penalty=self.penalty,
            l1_ratio=self.l1_ratio,
            solver=solver,
            optimizer=self.optimizer,
            lr=self.lr,
            schedule=self.schedule,
            batch_size=self.batch_size,
            max_iter=self.max_iter,
            tol=self.tol,
            patience=self.n_iter_no_change,
            early_stopping=self.early_stopping,
            validation_fraction=self.validation_fraction,
            random_state=self.random_state,
            progress=self.verbose,
            class_weight=getattr(self, "class_weight", None),
            clip_grad_norm=self.clip_grad_norm,
        )

    def set_trained(self, result: TrainResult) -> Self:
        """Set the fitted attributes from a TrainResult; returns the estimator."""
        self.model_ = result.model
        self.n_features_in_ = result.model.n_features
        self.history_ = result.history
        self.n_iter_ = result.n_iter
        self.solver_ = result.solver or "sgd"
        # a model read from a file has no record of its penalty unless the file held one
        self.alpha_ = result.reg if result.reg is not None else self.alpha
        self._weight_seen = result.weight_seen
        self._state = result.state  # the TrainState that warm_start and partial_fit continue
        return self

    # --- training on arrays in memory ---------------------------------------------------------

    def _fit_arrays(self, spec, X, target, n_outputs, sample_weight, class_weight):
        """Train with the spec's solver ("auto" chosen by the data's shape); returns the TrainResult."""
        spec = replace(spec, solver=_solver_for(spec, X))
        model = spec.build_model(X.shape[1], n_outputs, X.dtype)
        full_batch = {
            "reg": spec.reg,
            "penalty": spec.penalty,
            "sample_weight": sample_weight,
            "class_weight": class_weight,
            "max_iter": spec.max_iter,
            "tol": spec.tol if spec.tol is not None else 0.0,
        }
        if spec.solver == "smoothing":
            history = fit_smoothed(model, spec.loss, X, target, **full_batch)
        elif spec.solver == "dual_cd":
            history = fit_dual_cd(
                model, spec.loss, X, target, random_state=spec.random_state, **full_batch
            )
        elif spec.solver in FULL_BATCH_METHODS:
            history = fit_full_batch(
                model,
                spec.loss,
                X,
                target,
                method=spec.solver,
                l1_ratio=spec.l1_ratio,
                **full_batch,
            )
        else:
            if spec.early_stopping and self.alpha == "auto":
                weighing = (target, sample_weight, class_weight)
                spec = _auto_penalty_on_trained_rows(spec, n_outputs, *weighing)
            # warm start continues the optimizer state and the history as well as the weights
            state, history = (self._state, self.history_) if model is spec.init else (None, None)
            state = state if getattr(self, "solver_", "sgd") == "sgd" else None
            history = history if state is not None else None
            epochs = spec.max_iter + (state.epoch if state is not None else 0)
            history = train_epochs(
                spec, model, X, target, sample_weight, class_weight, epochs, state, history
            )
        n_iter = iterations_done(spec.solver, history)  # 0 where no step was taken
        return TrainResult(
            model, history, n_iter, state=history.state, solver=spec.solver, reg=spec.reg
        )

    def _partial_spec(self, total: float, first: bool, n_classes: int | None = None) -> TrainSpec:
        """The spec of one partial_fit call whose rows weigh ``total`` (their count, unweighted).

        ``alpha="auto"`` counts every row seen since the first partial_fit call
        or the last fit: the penalty is ½‖w‖² on the summed loss of all of them,
        as fit's on the whole data (one pass of a stream ends at fit's objective).
        """
        seen = None if first else getattr(self, "_weight_seen", None)
        self._weight_seen = (seen or 0.0) + total
        return self.training_spec(self._weight_seen, n_classes)

    def _start_partial(self, spec, n_features, n_outputs, dtype):
        """A new model and history for the first call to partial_fit."""
        self.model_ = spec.build_model(n_features, n_outputs, dtype)
        self._state, self.history_ = None, History()

    def _partial_epoch(self, spec, X, target, sample_weight, class_weight):
        """One more epoch of the training loop, continuing the earlier calls' optimizer state."""
        epochs = 1 + (self._state.epoch if self._state is not None else 0)
        history = train_epochs(
            spec,
            self.model_,
            X,
            target,
            sample_weight,
            class_weight,
            epochs,
            self._state,
            self.history_,
            tol=None,
        )
        self._state, self.history_, self.n_iter_ = history.state, history, history.n_epochs
        self.solver_, self.alpha_ = "sgd", spec.reg

    def _warn_if_not_converged(self, history):
        if self.tol is not None and not history.converged and not history.stopped_by_callback:
            unit, advice = {
                "sgd": ("epochs", "max_iter or lr"),
                "dual_cd": ("epochs", "max_iter"),
            }.get(self.solver_, ("iterations", "max_iter"))
            reason = (
                f"reached max_iter={self.max_iter} {unit} of the {self.solver_} solver before it "
                f"converged to tol={self.tol}; consider raising {advice}"
            )
            if self.solver_ in FULL_BATCH_METHODS and self.n_iter_ < self.max_iter:
                reason = self._line_search_stall()
            warnings.warn(f"{type(self).__name__}: {reason}", ConvergenceWarning, stacklevel=3)

    def _line_search_stall(self):
        """Why an L-BFGS or gradient-descent run stopped before max_iter without converging."""
        why = (
            "L-BFGS and gradient descent need a smooth loss; solver='auto' picks one for this loss"
            if not is_smooth(self._loss())
            else "Near a minimum, tol is tighter than float64 resolves on this objective; "
            "elsewhere the problem is badly scaled (unstandardised features, or an extreme alpha)"
        )
        return (
            f"the {self.solver_} solver stopped after {self.n_iter_} iterations (max_iter="
            f"{self.max_iter}), short of tol={self.tol}: its line search found no step that "
            f"decreases the objective at float64 precision. {why}"
        )

    # --- fitted model ---------------------------------------------------------------------------

    def _scores(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=DTYPES, reset=False, accept_sparse=SPARSE_FORMATS)
        return self.model_(
            X.astype(self.model_.params[next(iter(self.model_.params))].dtype, copy=False)
        )

    @property
    def coef_(self) -> np.ndarray:
        """Weights of shape (n_outputs, n_features) (a view: writing to it changes the model)."""
        check_is_fitted(self)
        if isinstance(self.model_, models.MLP):
            raise AttributeError("coef_: an MLP has several weight matrices; see coefs_")
        return self.model_.params["W"].T

    @property
    def intercept_(self) -> np.ndarray:
        """Biases of shape (n_outputs,) (a view: writing to it changes the model)."""
        check_is_fitted(self)
        if isinstance(self.model_, models.MLP):
            raise AttributeError("intercept_: an MLP has several bias vectors; see intercepts_")
        return self.model_.params["b"]


def _auto_penalty_on_trained_rows(spec, n_outputs, target, sample_weight, class_weight):
    """The spec whose alpha="auto" counts only the rows left after early stopping's split.

    :func:`~losslab.training.fit` holds out ``validation_fraction`` of the rows,
    drawn from the first seed its ``random_state`` spawns; the same draw here gives
    the training rows' weight total (the penalty is ½‖w‖² on their summed loss).
    """
    if spec.random_state is None:  # a seed, so that this draw and fit's are one draw
        spec = replace(spec, random_state=int(np.random.SeedSequence().generate_state(1)[0]))
    weights = np.ones(len(target)) if sample_weight is None else sample_weight
    if class_weight is not None:
        weights = weights * class_weight[target]
    split_seed = np.random.SeedSequence(spec.random_state).spawn(2)[0]
    trained = split_validation(
        weights, weights, None, None, spec.validation_fraction, split_seed, spec.loss, None
    )[0]
    if not trained.sum() > 0:
        raise ValueError(
            "sample_weight: the rows early_stopping trains on (those not held out) weigh nothing"
        )
    # a multiclass loss scores two classes with two columns: "auto" doubles (penalty_strength)
    two_columns = spec.classifier and spec.loss.task == "multiclass" and n_outputs == 2
    return replace(spec, reg=penalty_strength("auto", trained.sum(), two_column_binary=two_columns))


def _solver_for(spec, X):
    """The spec's solver for X ("auto" resolved by the data's size and sparsity)."""
    # a sparse X's full-batch iteration costs its stored values, not rows × features
    n_rows, n_features = X.shape
    if is_sparse(X):
        return spec.solver_for(n_rows, X.nnz / n_rows, sparse=True, n_columns=n_features)
    return spec.solver_for(n_rows, n_features)


def train_epochs(
    spec: TrainSpec,
    model: models.Model,
    X: Any,
    target: np.ndarray,
    sample_weight: np.ndarray | None,
    class_weight: np.ndarray | None,
    epochs: int,
    state: TrainState | None,
    history: History | None,
    tol: float | Literal["spec"] | None = "spec",
) -> History:
    """The mini-batch training loop on in-memory arrays, run as ``spec`` says, up to ``epochs``.

    ``state`` and ``history`` continue an earlier run; ``tol`` overrides the
    spec's (None: no stopping rule, as partial_fit runs exactly one epoch).

    Parameters
    ----------
    spec : TrainSpec
        The loss, optimizer, schedule, batch size, penalty and stopping rule.
    model : Model
        The model to train, in place.
    X : np.ndarray or scipy.sparse matrix of shape (N, D)
        The features.
    target : np.ndarray of shape (N,) or (N, K)
        Encoded labels or regression targets.
    sample_weight : np.ndarray of shape (N,) or None
        One weight per row.
    class_weight : np.ndarray of shape (C,) or None
        One weight per class.
    epochs : int
        The epoch count to stop at (counting an earlier run's).
    state : TrainState or None
        The optimizer state of an earlier run, to continue it.
    history : History or None
        Its history, continued.
    tol : float, None or "spec"
        The stopping tolerance; "spec" takes the spec's.

    Returns
    -------
    History
        Losses per step and per epoch; its ``state`` continues the run.

    Examples
    --------
    >>> from losslab import LinearRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5])
    >>> spec = LinearRegressor(solver="sgd", lr=0.05, max_iter=5, random_state=0).training_spec()
    >>> model = spec.build_model(3, 1, np.float64)
    >>> history = train_epochs(spec, model, X, y, None, None, 5, None, None)
    >>> history.n_epochs, history.train_loss[-1] < history.train_loss[0]
    (5, True)

    References
    ----------
    scikit-learn's ``partial_fit`` and ``warm_start`` conventions:
    https://scikit-learn.org/stable/glossary.html
    """
    return fit(
        model,
        spec.loss,
        X,
        target,
        optimizer=spec.optimizer,
        lr=spec.lr,
        schedule=spec.schedule,
        batch_size=spec.batch_size,
        epochs=epochs,
        reg=spec.reg,
        penalty=spec.penalty,
        l1_ratio=spec.l1_ratio,
        sample_weight=sample_weight,
        class_weight=class_weight,
        early_stopping=spec.early_stopping,
        validation_fraction=spec.validation_fraction if spec.early_stopping else 0.0,
        patience=spec.patience,
        tol=spec.tol if tol == "spec" else tol,
        random_state=spec.random_state,
        progress=spec.progress,
        state=state,
        history=history,
        clip_grad_norm=spec.clip_grad_norm,
    )


def check_hidden_layer_sizes(sizes: Any, owner: str) -> tuple[int, ...]:
    """The hidden layer widths as a tuple if each is an integer > 0, else one error naming them.

    scikit-learn's ``MLPClassifier`` refuses widths <= 0 ("hidden_layer_sizes
    must be > 0"); a width that is not an integer (2.5, "a", True) is refused
    here too rather than failing later inside NumPy. No hidden layer, ``()``,
    is a linear model, as in scikit-learn.

    Parameters
    ----------
    sizes : tuple or list
        The estimator's ``hidden_layer_sizes`` (its type already checked).
    owner : str
        The estimator's class name, for the message.

    Returns
    -------
    tuple of int
        The widths.

    Raises
    ------
    InvalidParameterError
        A ValueError (and TypeError) naming ``hidden_layer_sizes``, as scikit-learn's
        parameter validation raises.

    Examples
    --------
    >>> check_hidden_layer_sizes([64, np.int64(32)], "MLPClassifier")
    (64, 32)
    >>> check_hidden_layer_sizes((0,), "MLPClassifier")
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: The 'hidden_layer_sizes' parameter of MLPClassifier must be a tuple of integers > 0. Got (0,) instead.
    """
    if all(isinstance(s, Integral) and not isinstance(s, bool) and int(s) > 0 for s in sizes):
        return tuple(int(s) for s in sizes)
    raise InvalidParameterError(
        f"The 'hidden_layer_sizes' parameter of {owner} must be a tuple of integers > 0. "
        f"Got {sizes!r} instead."
    )


def check_sample_weight(sample_weight: ArrayLike | None, X: Any) -> np.ndarray | None:
    """Non-negative float64 weights, one per row of X, not all zero; None stays None.

    Parameters
    ----------
    sample_weight : array_like of shape (N,), scalar or None
        The weights; a scalar gives every row that weight.
    X : array_like or sparse matrix of shape (N, D)
        The data they weigh (only its number of rows is used).

    Returns
    -------
    np.ndarray of shape (N,) or None
        The weights as float64.

    Raises
    ------
    ValueError
        If a weight is negative, the count differs from N, or every weight is zero.

    Examples
    --------
    >>> check_sample_weight([1, 2, 0], np.zeros((3, 2))).tolist()
    [1.0, 2.0, 0.0]
    >>> check_sample_weight(None, np.zeros((3, 2))) is None
    True

    References
    ----------
    ``sklearn.utils.validation._check_sample_weight``.
    """
    if sample_weight is None:
        return None
    w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not np.any(w > 0):
        raise ValueError("sample_weight: every weight is zero; at least one must be non-zero")
    return w
