"""scikit-learn estimators trained with any losslab loss.

``LinearClassifier(loss=...)``, ``LinearSVM``, ``SoftmaxClassifier``,
``MLPClassifier`` and ``LinearRegressor(loss=...)`` follow scikit-learn's
contract (``__init__`` only stores arguments, validation happens in ``fit``,
fitted attributes end in ``_``) and pass ``check_estimator``. Training is
:func:`losslab.train.fit`; these classes only translate between scikit-learn's
conventions (arbitrary class labels, ``sample_weight``, ``class_weight``,
``partial_fit``, ``warm_start``) and the library.

The objective is the weighted mean loss plus ``alpha`` × penalty(W) (biases
are not penalised), with the CS231n L2 convention ``alpha * ΣW²``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import losses, models
from ..losses.binary import sigmoid
from ..losses.classification import log_softmax
from ..scale.dask_data import is_dask
from ..training import FULL_BATCH_METHODS, History, fit, fit_full_batch, n_outputs

_DTYPES = [np.float64, np.float32]
# what a classifier's fit checks through scikit-learn; finiteness is left to losslab's
# training loop, which checks it anyway (checking twice cost 4 ms of a 85 ms fit)
_TRAINING_INPUT = {"dtype": _DTYPES, "ensure_all_finite": False}


class _Trained(BaseEstimator):
    """What classifiers and regressors share: building the model and running the loop."""

    _model_kind = "linear"

    def _loss(self):
        return losses.get(self.loss, **(self.loss_options or {}))

    def _build(self, n_features, n_outputs, dtype):
        """The model, optimizer state and history to train: the previous ones under warm_start."""
        warm = (
            self.warm_start
            and hasattr(self, "model_")
            and self.model_.n_features == n_features
            and self.model_.n_outputs == n_outputs
        )
        if warm:
            return self.model_, self._state, self.history_
        hidden = getattr(self, "hidden_layer_sizes", (100,))
        model = models.build(
            self._model_kind,
            n_features,
            n_outputs,
            hidden=hidden,
            dtype=dtype,
            random_state=self.random_state,
        )
        return model, None, None

    def _train(
        self,
        X,
        target,
        sample_weight,
        class_weight,
        epochs,
        state=None,
        history=None,
        tol="default",
    ):
        history = fit(
            self.model_,
            self._loss(),
            X,
            target,
            optimizer=self.optimizer,
            lr=self.lr,
            schedule=self.schedule,
            batch_size=self.batch_size,
            epochs=epochs,
            reg=self.alpha,
            penalty=self.penalty,
            l1_ratio=self.l1_ratio,
            sample_weight=sample_weight,
            class_weight=class_weight,
            early_stopping=self.early_stopping,
            validation_fraction=self.validation_fraction if self.early_stopping else 0.0,
            patience=self.n_iter_no_change,
            tol=self.tol if tol == "default" else tol,
            random_state=self.random_state,
            progress=self.verbose,
            state=state,
            history=history,
        )
        self._state = history.state
        self.history_ = history
        return history

    def _train_full_batch(self, X, target, sample_weight, class_weight, method):
        """L-BFGS or steepest descent on the whole-data objective (solver "lbfgs" / "gd")."""
        self.history_ = fit_full_batch(
            self.model_,
            self._loss(),
            X,
            target,
            method=method,
            reg=self.alpha,
            penalty=self.penalty,
            l1_ratio=self.l1_ratio,
            sample_weight=sample_weight,
            class_weight=class_weight,
            max_iter=self.max_iter,
            tol=self.tol if self.tol is not None else 0.0,
        )
        self._state = None
        return self.history_

    def _warn_if_not_converged(self, history):
        if self.tol is not None and not history.converged and not history.stopped_by_callback:
            warnings.warn(
                f"{type(self).__name__}: reached max_iter={self.max_iter} epochs before the loss "
                f"stopped improving by tol={self.tol}; consider raising max_iter or lr",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _scores(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=_DTYPES, reset=False)
        return self.model_(
            X.astype(self.model_.params[next(iter(self.model_.params))].dtype, copy=False)
        )

    @property
    def coef_(self):
        """Weights of shape (n_outputs, n_features) (a view: writing to it changes the model)."""
        check_is_fitted(self)
        if isinstance(self.model_, models.MLP):
            raise AttributeError("coef_: an MLP has several weight matrices; see coefs_")
        return self.model_.params["W"].T

    @property
    def intercept_(self):
        check_is_fitted(self)
        if isinstance(self.model_, models.MLP):
            raise AttributeError("intercept_: an MLP has several bias vectors; see intercepts_")
        return self.model_.params["b"]


SOLVERS = ("sgd", *FULL_BATCH_METHODS)


def _check_solver(solver):
    if solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {SOLVERS}, got {solver!r}")
    return solver


def _check_weights(sample_weight, X, dtype):
    if sample_weight is None:
        return None
    w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if not np.any(w > 0):
        raise ValueError("sample_weight: every weight is zero; at least one must be non-zero")
    return w


class _Classifier(ClassifierMixin, _Trained):
    """fit / partial_fit / predict / predict_proba for any classification loss."""

    def _n_outputs(self, n_classes):
        return n_outputs(self._loss(), n_classes)

    def _class_weight_array(self, y_enc, n_classes):
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str) and self.class_weight != "balanced":
            raise ValueError(
                f"class_weight: expected None, a dict or 'balanced', got {self.class_weight!r}"
            )
        y_orig = self.classes_[y_enc]
        return compute_class_weight(self.class_weight, classes=self.classes_, y=y_orig)

    def fit(self, X, y, sample_weight=None):
        """Train for up to ``max_iter`` epochs on (X, y); Dask arrays train on the cluster."""
        if is_dask(X):
            from ..scale import distributed

            return distributed.fit(self, X, y, sample_weight)
        solver = _check_solver(getattr(self, "solver", "sgd"))
        X, y = validate_data(self, X, y, reset=True, **_TRAINING_INPUT)
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y: expected at least two classes, got only one class ({classes[0]!r})"
            )
        sample_weight = _check_weights(sample_weight, X, X.dtype)
        if sample_weight is not None and np.unique(y_enc[sample_weight > 0]).size < 2:
            raise ValueError(
                "sample_weight: only one class has non-zero weight; need at least two classes"
            )
        if hasattr(self, "classes_") and not np.array_equal(classes, self.classes_):
            self.__dict__.pop("model_", None)  # other classes: warm_start cannot continue
        self.classes_ = classes
        self.model_, state, history = self._build(
            X.shape[1], self._n_outputs(len(classes)), X.dtype
        )
        cw = self._class_weight_array(y_enc, len(classes))
        if solver != "sgd":
            history = self._train_full_batch(X, y_enc, sample_weight, cw, solver)
        else:
            epochs = self.max_iter + (state.epoch if state is not None else 0)
            history = self._train(X, y_enc, sample_weight, cw, epochs, state, history)
        self.n_iter_ = max(1, history.n_epochs)
        self._warn_if_not_converged(history)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y); ``classes`` must be given on the first call."""
        first = not hasattr(self, "model_")
        X, y = validate_data(self, X, y, reset=first, **_TRAINING_INPUT)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes: must be given on the first call to partial_fit")
            self.classes_ = np.unique(classes)
            if len(self.classes_) < 2:
                raise ValueError("classes: expected at least two classes")
            self.model_ = models.build(
                self._model_kind,
                X.shape[1],
                self._n_outputs(len(self.classes_)),
                hidden=getattr(self, "hidden_layer_sizes", (100,)),
                dtype=X.dtype,
                random_state=self.random_state,
            )
            self._state, self.history_ = None, History()
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes: expected {self.classes_.tolist()} as on the first call")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y: labels {unseen.tolist()} are not in classes {self.classes_.tolist()}"
            )
        y_enc = np.searchsorted(self.classes_, y)
        sample_weight = _check_weights(sample_weight, X, X.dtype)
        cw = (
            None
            if self.class_weight is None
            else _fixed_class_weight(self.class_weight, self.classes_)
        )
        epochs = 1 + (self._state.epoch if self._state is not None else 0)
        history = self._train(
            X, y_enc, sample_weight, cw, epochs, self._state, self.history_, tol=None
        )
        self.n_iter_ = history.n_epochs
        return self

    def decision_function(self, X):
        """Scores: (N,) for two classes (positive favours ``classes_[1]``), else (N, C)."""
        scores = self._scores(X)
        if scores.shape[1] == 1:
            return scores[:, 0]
        if len(self.classes_) == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X):
        if is_dask(X):
            from ..scale import distributed

            return distributed.predict(self, X)
        scores = self._scores(X)
        labels = (
            scores.argmax(axis=1) if scores.shape[1] > 1 else (scores[:, 0] > 0).astype(np.intp)
        )
        return self.classes_[labels]

    def _has_probabilities(self):
        return self._loss().probabilistic

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities: softmax of the scores, or the sigmoid of binary logits."""
        scores = self._scores(X)
        if self._loss().task == "multiclass":
            return np.exp(log_softmax(scores))
        p = sigmoid(scores)
        if p.shape[1] == 1:
            return np.hstack([1 - p, p])
        return p / p.sum(axis=1, keepdims=True)  # one-vs-rest sigmoids, normalised

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        if self._loss().task == "multiclass":
            return log_softmax(self._scores(X))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def _fixed_class_weight(class_weight, classes):
    if class_weight == "balanced":
        raise ValueError(
            "class_weight: 'balanced' needs the whole data; use fit, or a dict with partial_fit"
        )
    return np.array([class_weight.get(c, 1.0) for c in classes], dtype=np.float64)


class LinearClassifier(_Classifier):
    """A linear classifier (scores = X Wᵀ + b) trained with any classification loss.

    Parameters
    ----------
    loss : str
        Any multiclass or binary loss of the registry: "softmax", "svm",
        "crammer_singer", "squared_hinge", "focal", "hinge", "logistic",
        "modified_huber", "perceptron", "sigmoid_focal", ...
        Binary losses on more than two classes train one-vs-rest.
    loss_options : dict, optional
        Options bound to the loss, e.g. ``{"gamma": 1.0}`` for focal or ``{"margin": 2.0}``.
    solver : {"sgd", "lbfgs", "gd"}
        "sgd": the mini-batch training loop (``optimizer``, ``lr``, ...); "lbfgs"
        or "gd": full-batch L-BFGS or steepest descent with a line search on the
        whole-data objective (no learning rate; ``max_iter`` iterations, ``tol``
        on the gradient). With Dask arrays the same solvers run on the cluster
        (:mod:`losslab.distributed`; "sgd" becomes local SGD with averaging).
    penalty : {"l2", "l1", "elasticnet"}
    alpha : float
        Penalty strength (the CS231n ``reg``): objective = mean loss + alpha · R(W).
    l1_ratio : float
        Mix of L1 in the elastic net.
    optimizer : {"adam", "sgd", "momentum", "nesterov", "adagrad", "rmsprop"}
    lr : float
        Base learning rate.
    schedule : {"constant", "step", "exponential", "cosine", "invscaling"}
    batch_size : int
        Mini-batch size; larger than the data means full-batch gradient descent.
    max_iter : int
        Maximum number of epochs.
    tol : float or None
        Stop when the epoch loss has not improved by tol for ``n_iter_no_change``
        epochs; None trains for exactly max_iter epochs.
    n_iter_no_change : int
    early_stopping : bool
        Hold out ``validation_fraction`` of the data, monitor its loss, keep the best weights.
    validation_fraction : float
    class_weight : None, dict or "balanced"
    warm_start : bool
        Continue from the previous fit's weights and optimizer state.
    random_state : int or None
        Seeds initialisation and shuffling: the same seed gives identical weights.
    verbose : bool
        Show a progress bar.

    Attributes
    ----------
    coef_ : (n_outputs, n_features); intercept_ : (n_outputs,); classes_;
    history_ : losslab.train.History; n_iter_ : epochs run.
    """

    def __init__(
        self,
        loss="softmax",
        *,
        loss_options=None,
        solver="sgd",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        optimizer="adam",
        lr=1e-3,
        schedule="constant",
        batch_size=64,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=False,
    ):
        self.loss = loss
        self.loss_options = loss_options
        self.solver = solver
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.optimizer = optimizer
        self.lr = lr
        self.schedule = schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose


class SoftmaxClassifier(LinearClassifier):
    """Linear softmax (multinomial logistic) regression: ``LinearClassifier(loss="softmax")``.

    Takes the same parameters as :class:`LinearClassifier`; ``loss`` defaults to "softmax".
    """


class LinearSVM(LinearClassifier):
    """Multiclass linear SVM (Weston-Watkins hinge): ``LinearClassifier(loss="svm")``.

    Takes the same parameters as :class:`LinearClassifier`; ``loss`` defaults to
    "svm" (use "crammer_singer" or "squared_hinge" for the variants).
    """

    def __init__(
        self,
        loss="svm",
        *,
        loss_options=None,
        solver="sgd",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        optimizer="adam",
        lr=1e-3,
        schedule="constant",
        batch_size=64,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=False,
    ):
        super().__init__(
            loss,
            loss_options=loss_options,
            solver=solver,
            penalty=penalty,
            alpha=alpha,
            l1_ratio=l1_ratio,
            optimizer=optimizer,
            lr=lr,
            schedule=schedule,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            class_weight=class_weight,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )


class MLPClassifier(_Classifier):
    """A ReLU network classifier trained with any classification loss.

    ``hidden_layer_sizes`` sets the hidden layers (He initialisation); the other
    parameters are those of :class:`LinearClassifier` (with a longer patience). Fitted weights are in ``coefs_`` and ``intercepts_``.
    """

    _model_kind = "mlp"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        loss="softmax",
        loss_options=None,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        optimizer="adam",
        lr=1e-3,
        schedule="constant",
        batch_size=64,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.loss = loss
        self.loss_options = loss_options
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.optimizer = optimizer
        self.lr = lr
        self.schedule = schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @property
    def coefs_(self):
        check_is_fitted(self)
        return [self.model_.params[f"W{k}"].T for k in range(1, self.model_.n_layers + 1)]

    @property
    def intercepts_(self):
        check_is_fitted(self)
        return [self.model_.params[f"b{k}"] for k in range(1, self.model_.n_layers + 1)]


class LinearRegressor(RegressorMixin, _Trained):
    """Linear regression with any regression loss: least squares, L1, Huber, log-cosh.

    ``solver="normal"`` solves ridge regression in closed form (squared error
    with an L2 penalty only); ``"lbfgs"`` (or ``"gd"``) minimises the full-data
    objective with L-BFGS (or steepest descent); any smooth loss, ``max_iter``
    iterations, ``tol`` on the gradient; ``"sgd"`` runs the mini-batch training loop; ``"auto"`` picks "normal" where
    it applies, else "sgd". The objective is the (weighted) mean loss plus
    ``alpha · ΣW²``, so every solver minimises the same function. Dask arrays
    train on the cluster (:mod:`losslab.distributed`; "auto" and "normal" use
    L-BFGS there).
    Other parameters are those of :class:`LinearClassifier`.
    """

    def __init__(
        self,
        loss="squared_error",
        *,
        loss_options=None,
        solver="auto",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        optimizer="adam",
        lr=1e-3,
        schedule="constant",
        batch_size=64,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        random_state=None,
        verbose=False,
    ):
        self.loss = loss
        self.loss_options = loss_options
        self.solver = solver
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.optimizer = optimizer
        self.lr = lr
        self.schedule = schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (N, K) trains K outputs
        return tags

    def _solver(self):
        closed_form = self._loss().name == "squared_error" and self.penalty == "l2"
        if self.solver not in ("auto", "normal", *SOLVERS):
            raise ValueError(
                f"solver: expected 'auto', 'normal', 'lbfgs', 'gd' or 'sgd', got {self.solver!r}"
            )
        if self.solver == "normal" and not closed_form:
            raise ValueError("solver: 'normal' solves squared_error with an l2 penalty only")
        if self.solver == "auto":
            return "normal" if closed_form else "sgd"
        return self.solver

    def fit(self, X, y, sample_weight=None):
        if is_dask(X):
            from ..scale import distributed

            return distributed.fit(self, X, y, sample_weight)
        X, y = validate_data(
            self, X, y, dtype=_DTYPES, y_numeric=True, multi_output=True, reset=True
        )
        if self._loss().task != "regression":
            raise ValueError(f"loss: {self._loss().name} is not a regression loss")
        sample_weight = _check_weights(sample_weight, X, X.dtype)
        y2 = y.reshape(len(y), -1).astype(X.dtype)
        self._single_output = y.ndim == 1
        self.model_, state, history = self._build(X.shape[1], y2.shape[1], X.dtype)
        solver = self._solver()
        if solver == "normal":
            ridge_normal_equations(self.model_, X, y2, self.alpha, sample_weight)
            self.n_iter_ = 1
            self._state, self.history_ = None, History()
            return self
        target = y2[:, 0] if self._single_output else y2
        if solver in ("lbfgs", "gd"):
            self._train_full_batch(X, target, sample_weight, None, solver)
            self.n_iter_ = max(1, self.history_.n_epochs)
            self._warn_if_not_converged(self.history_)
            return self
        epochs = self.max_iter + (state.epoch if state is not None else 0)
        history = self._train(X, target, sample_weight, None, epochs, state, history)
        self.n_iter_ = history.n_epochs
        self._warn_if_not_converged(history)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of the training loop over (X, y)."""
        first = not hasattr(self, "model_")
        X, y = validate_data(
            self, X, y, dtype=_DTYPES, y_numeric=True, multi_output=True, reset=first
        )
        y2 = y.reshape(len(y), -1).astype(X.dtype)
        if first:
            self._single_output = y.ndim == 1
            self.model_ = models.build(
                "linear", X.shape[1], y2.shape[1], dtype=X.dtype, random_state=self.random_state
            )
            self._state, self.history_ = None, History()
        elif y2.shape[1] != self.model_.n_outputs:
            raise ValueError(f"y: expected {self.model_.n_outputs} outputs, got {y2.shape[1]}")
        sample_weight = _check_weights(sample_weight, X, X.dtype)
        target = y2[:, 0] if self._single_output else y2
        epochs = 1 + (self._state.epoch if self._state is not None else 0)
        history = self._train(
            X, target, sample_weight, None, epochs, self._state, self.history_, tol=None
        )
        self.n_iter_ = history.n_epochs
        return self

    def predict(self, X):
        if is_dask(X):
            from ..scale import distributed

            return distributed.predict(self, X)
        scores = self._scores(X)
        return scores[:, 0] if self._single_output else scores


def ridge_normal_equations(model, X, Y, alpha, sample_weight=None):
    """Set a Linear model to the minimiser of the squared-error objective, in closed form.

    The objective is the weighted mean over all N·K elements of (XW + b - Y)²
    plus alpha ΣW² (the same function the iterative solvers minimise). Setting
    its gradient to zero gives ``(Xcᵀ D Xc + alpha·K·Σw·I) W = Xcᵀ D Yc`` with X
    and Y centred at their weighted means (which gives the intercept) and D the
    diagonal of sample weights.
    """
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = w.sum()
    x_mean = (w @ X) / total
    y_mean = (w @ Y) / total
    Xc, Yc = X - x_mean, Y - y_mean
    A = Xc.T @ (Xc * w[:, None]) + alpha * total * Y.shape[1] * np.eye(X.shape[1])
    W = np.linalg.lstsq(A, Xc.T @ (Yc * w[:, None]), rcond=None)[0]
    model.params["W"][...] = W
    model.params["b"][...] = y_mean - x_mean @ W
