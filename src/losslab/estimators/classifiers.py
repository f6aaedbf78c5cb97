"""scikit-learn classifiers trained with any losslab classification loss.

``LinearClassifier(loss=...)``, ``LinearSVM``, ``SoftmaxClassifier`` and
``MLPClassifier`` follow scikit-learn's contract (``__init__`` only stores
arguments, validation happens in ``fit``, fitted attributes end in ``_``) and
pass ``check_estimator``. Training is :func:`losslab.fit` (or, for Dask
arrays, :func:`losslab.scale.distributed.train`); these classes only translate
between scikit-learn's conventions (arbitrary class labels, ``sample_weight``,
``class_weight``, ``partial_fit``, ``warm_start``) and the library.

The objective is the weighted mean loss plus ``alpha`` × penalty(W) (biases
are not penalised), with the CS231n L2 convention ``alpha * ΣW²``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Self, cast

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import models
from ..losses.binary import sigmoid
from ..losses.classification import log_softmax
from ..scale import distributed
from ..scale.dask_data import is_dask
from ..training.spec import TrainResult, class_weight_vector, weight_total
from .base import (
    DTYPES,
    SPARSE_FORMATS,
    ArrayPair,
    TrainedEstimator,
    check_hidden_layer_sizes,
    check_sample_weight,
    estimator_dataclass,
)

# what a classifier's fit checks through scikit-learn; finiteness is left to losslab's
# training loop, which checks it anyway (checking twice cost 4 ms of a 85 ms fit); scipy.sparse
# X is taken as CSR or CSC, never densified
_TRAINING_INPUT = {"dtype": DTYPES, "ensure_all_finite": False, "accept_sparse": SPARSE_FORMATS}


@dataclass(eq=False, repr=False, kw_only=True)
class _Classifier(ClassifierMixin, TrainedEstimator):
    """fit / partial_fit / predict / predict_proba for any classification loss."""

    class_weight: dict | str | None = None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X trains and predicts without densifying
        return tags

    def set_trained(self, result: TrainResult) -> Self:
        """Set the fitted attributes (``classes_`` among them) from a TrainResult."""
        super().set_trained(result)
        self.classes_ = cast(np.ndarray, result.classes)  # a classifier's result has classes
        return self

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Self:
        """Train on (X, y) with the solver ``solver_`` records; Dask arrays train on the cluster."""
        self._validate_params()
        if is_dask(X):
            return distributed.fit(self, X, y, sample_weight)
        # validate_data gives arrays (or a scipy.sparse X, with the same shape and dtype)
        X, y = cast(ArrayPair, validate_data(self, X, y, reset=True, **_TRAINING_INPUT))
        check_classification_targets(y)
        classes, y_enc, counts = np.unique(y, return_inverse=True, return_counts=True)
        if len(classes) < 2:
            raise ValueError(
                f"y: expected at least two classes, got only one class ({classes[0]!r})"
            )
        sample_weight = check_sample_weight(sample_weight, X)
        if sample_weight is not None and np.unique(y_enc[sample_weight > 0]).size < 2:
            raise ValueError(
                "sample_weight: only one class has non-zero weight; need at least two classes"
            )
        class_weight = class_weight_vector(self.class_weight, classes, counts)
        total = weight_total(X.shape[0], sample_weight, class_weight, y_enc)
        if not total > 0:  # each weight valid, but every row's product is zero
            raise ValueError(
                "class_weight: the classes with non-zero sample_weight all weigh zero; "
                "no row is left to train on"
            )
        spec = self.training_spec(total, len(classes))
        if hasattr(self, "classes_") and not np.array_equal(classes, self.classes_):
            spec = replace(spec, init=None)  # other classes: warm_start cannot continue
        n_outputs = spec.n_outputs(len(classes))
        result = self._fit_arrays(spec, X, y_enc, n_outputs, sample_weight, class_weight)
        result.classes, result.weight_seen = classes, total
        self.set_trained(result)
        self._warn_if_not_converged(result.history)
        return self

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> Self:
        """One epoch over (X, y); ``classes`` must be given on the first call."""
        first = not hasattr(self, "model_")
        if first:
            self._validate_params()
        X, y = cast(ArrayPair, validate_data(self, X, y, reset=first, **_TRAINING_INPUT))
        check_classification_targets(y)
        if first and classes is None:
            raise ValueError("classes: must be given on the first call to partial_fit")
        known = np.unique(np.asarray(classes)) if first else self.classes_
        if first and len(known) < 2:
            raise ValueError("classes: expected at least two classes")
        if not first and classes is not None and not np.array_equal(np.unique(classes), known):
            raise ValueError(f"classes: expected {known.tolist()} as on the first call")
        unseen = np.setdiff1d(np.unique(y), known)
        if unseen.size:
            raise ValueError(f"y: labels {unseen.tolist()} are not in classes {known.tolist()}")
        y_enc = np.searchsorted(known, y)
        sample_weight = check_sample_weight(sample_weight, X)
        class_weight = class_weight_vector(self.class_weight, known)
        total = weight_total(X.shape[0], sample_weight, class_weight, y_enc)
        spec = self._partial_spec(total, first, len(known))
        if first:
            self.classes_ = known
            self._start_partial(spec, X.shape[1], spec.n_outputs(len(known)), X.dtype)
        self._partial_epoch(spec, X, y_enc, sample_weight, class_weight)
        return self

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Scores: (N,) for two classes (positive favours ``classes_[1]``), else (N, C)."""
        scores = self._scores(X)
        if scores.shape[1] == 1:
            return scores[:, 0]
        if len(self.classes_) == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X: ArrayLike) -> Any:  # an ndarray; a Dask array for a Dask X
        """The class of each row of X, from ``classes_``: the largest score (or its sign)."""
        if is_dask(X):
            return distributed.predict(self, X)
        scores = self._scores(X)
        labels = (
            scores.argmax(axis=1) if scores.shape[1] > 1 else (scores[:, 0] > 0).astype(np.intp)
        )
        return self.classes_[labels]

    def _has_probabilities(self):
        loss = self._loss()
        return loss.probabilistic or loss.name == "modified_huber"

    @available_if(_has_probabilities)
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, (N, n_classes).

        Softmax of the scores; the sigmoid of binary logits (one-vs-rest sigmoids
        normalised to sum to 1); for ``modified_huber``, scikit-learn's
        ``SGDClassifier`` estimate ``(clip(s, -1, 1) + 1) / 2`` of each score,
        normalised across the classes of a one-vs-rest model (uniform where every
        class has 0).
        """
        scores = self._scores(X)
        loss = self._loss()
        if loss.task == "multiclass":
            return np.exp(log_softmax(scores))
        p = modified_huber_proba(scores) if loss.name == "modified_huber" else sigmoid(scores)
        if p.shape[1] == 1:
            return np.hstack([1 - p, p])
        total = p.sum(axis=1, keepdims=True)
        none = total[:, 0] == 0  # only modified_huber gives 0 to every class
        p[none], total[none] = 1.0, p.shape[1]
        return p / total  # one-vs-rest estimates, normalised

    @available_if(_has_probabilities)
    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """The logarithm of :meth:`predict_proba` (-inf where a probability is 0)."""
        if self._loss().task == "multiclass":
            return log_softmax(self._scores(X))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def modified_huber_proba(scores: np.ndarray) -> np.ndarray:
    r"""The probability of each one-vs-rest score under the modified Huber loss: (clip(s, -1, 1) + 1) / 2.

    .. math:: p(s) = \tfrac12 \left(\operatorname{clip}(s, -1, 1) + 1\right)

    Parameters
    ----------
    scores : np.ndarray of any shape
        One-vs-rest scores.

    Returns
    -------
    np.ndarray of the scores' shape
        Probabilities in [0, 1], not normalised across classes.

    Examples
    --------
    >>> modified_huber_proba(np.array([[-3.0, 0.0, 0.5, 2.0]])).tolist()
    [[0.0, 0.5, 0.75, 1.0]]

    References
    ----------
    T. Zhang, "Solving large scale linear prediction problems using stochastic
    gradient descent algorithms", ICML 2004; scikit-learn's
    ``SGDClassifier.predict_proba`` for ``loss="modified_huber"``.
    """
    return (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0


@estimator_dataclass
class LinearClassifier(_Classifier):
    """A linear classifier (scores = X Wᵀ + b) trained with any classification loss.

    Parameters
    ----------
    loss : str or callable
        Any multiclass or binary loss of the registry: "softmax", "svm",
        "crammer_singer", "squared_hinge", "focal", "hinge", "logistic",
        "modified_huber", "perceptron", "sigmoid_focal", ...
        Binary losses on more than two classes train one-vs-rest. Or your own
        function ``f(scores, labels) -> (value, grad)`` (a multiclass loss unless
        registered otherwise with ``losses.register``).
    loss_options : dict, optional
        Options bound to the loss, e.g. ``{"gamma": 1.0}`` for focal or ``{"margin": 2.0}``.
    solver : {"auto", "sgd", "lbfgs", "gd", "smoothing", "dual_cd"}
        "auto" (the default) picks by the data and the loss, and ``solver_``
        records its choice: full batch for data up to 2**26 rows × features
        ("lbfgs" for a smooth loss, OWL-QN with an L1 or elastic-net penalty;
        for the hinge losses "smoothing" on dense X and on small sparse X of
        dense-ish rows, "dual_cd" on other sparse X), else "sgd"; the other
        non-smooth losses, and the hinge with an L1 part, train by "sgd"
        (:func:`losslab.training.spec.auto_solver`).
        "sgd": the mini-batch training loop (``optimizer``, ``lr``, ...); "lbfgs"
        or "gd": full-batch L-BFGS or steepest descent with a line search on the
        whole-data objective (no learning rate; ``max_iter`` iterations, ``tol``
        on the gradient); "smoothing": Newton steps on a smoothed hinge, warm
        started down to the exact hinge; "dual_cd": dual coordinate descent, as
        liblinear's (``max_iter`` epochs, from zero: ``warm_start`` does not apply;
        both the hinge losses with an L2 penalty, "dual_cd" with alpha > 0).
        With Dask arrays the solvers run on the cluster (:mod:`losslab.distributed`;
        "sgd" becomes local SGD with averaging, "auto" is "lbfgs" or local SGD).
    penalty : {"l2", "l1", "elasticnet"}
        The weight penalty R(W); biases are never penalised.
    alpha : float or "auto"
        Penalty strength (the CS231n ``reg``): objective = mean loss + alpha · R(W).
        "auto" (the default) is ``1 / (2 · n_samples)`` (with sample weights, their
        total; twice that for a multiclass loss on two classes), the penalty of
        scikit-learn's ``LogisticRegression()`` (``C=1``, the same objective for
        softmax): a fixed ½‖w‖² on the summed loss, which the data outweigh as they
        grow (:func:`~losslab.training.spec.penalty_strength`; ``alpha_`` records the
        value). ``MLPClassifier`` keeps ``alpha=1e-4``, as scikit-learn's.
    l1_ratio : float
        Mix of L1 in the elastic net.
    optimizer : {"adam", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adamw"}
        The mini-batch optimizer (``losslab.optim``).
    lr : float
        Base learning rate.
    schedule : str or callable
        The learning-rate schedule: "constant", "step", "exponential", "cosine",
        "invscaling", "warmup_cosine", "onecycle", "plateau" (``losslab.optim.schedule``),
        or a function of the epoch.
    batch_size : int
        Mini-batch size; larger than the data means full-batch gradient descent.
    max_iter : int
        Maximum number of epochs (of "sgd") or iterations (of a full-batch solver).
    tol : float or None
        "sgd": stop when the epoch loss has not improved by tol for
        ``n_iter_no_change`` epochs; full batch: stop when the gradient's largest
        entry is below tol ("smoothing": when Newton's predicted decrease is
        below tol·1e-4 of the objective; "dual_cd": when the duality gap is below
        tol of the objective). None trains for exactly max_iter.
    n_iter_no_change : int
        Epochs without improvement before "sgd" stops.
    early_stopping : bool
        Hold out ``validation_fraction`` of the data, monitor its loss, keep the best
        weights: an epoch-by-epoch rule, so with it "auto" trains by "sgd", and a
        full-batch solver is an error rather than ignoring it.
    validation_fraction : float
        The part of the data held out for early stopping, in (0, 1).
    class_weight : None, dict or "balanced"
        Weights of the classes in the loss; "balanced" is N / (C · count). A dict's
        weights must be finite and non-negative, and not all zero.
    warm_start : bool
        Continue from the previous fit's weights and optimizer state.
    random_state : int or None
        Seeds initialisation and shuffling: the same seed gives identical weights.
    verbose : bool
        Show a progress bar.

    clip_grad_norm : float or None
        Before each mini-batch step, scale the gradients to at most this global norm.

    Attributes
    ----------
    coef_ : np.ndarray of shape (n_outputs, n_features)
        The weights (one output for a binary loss on two classes).
    intercept_ : np.ndarray of shape (n_outputs,)
        The biases.
    classes_ : np.ndarray of shape (n_classes,)
        The class labels, sorted.
    history_ : History
        The training history (losses per step and per epoch).
    n_iter_ : int
        Epochs or iterations run.
    solver_ : str
        The solver that trained the model ("auto" resolved).
    alpha_ : float
        The penalty strength it minimised with ("auto" resolved).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> clf = LinearClassifier(loss="svm").fit(X, y)
    >>> clf.solver_, clf.coef_.shape, clf.classes_.tolist()
    ('smoothing', (3, 4), [0, 1, 2])
    >>> round(clf.score(X, y), 2)
    0.97

    References
    ----------
    CS231n notes, "Linear classification"; scikit-learn's ``SGDClassifier`` and
    ``LogisticRegression``, whose contract these estimators follow.
    """

    loss: str = "softmax"
    solver: str = field(default="auto", kw_only=True)
    alpha: float | str = field(default="auto", kw_only=True)


class SoftmaxClassifier(LinearClassifier):
    """Linear softmax (multinomial logistic) regression: ``LinearClassifier(loss="softmax")``.

    Takes the same parameters as :class:`LinearClassifier`; ``loss`` defaults to "softmax".

    Parameters
    ----------
    loss : str or callable, default "softmax"
        As :class:`LinearClassifier`'s, like every other parameter.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> clf = SoftmaxClassifier(random_state=0).fit(X, y)
    >>> proba = clf.predict_proba(X[:2])
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((2, 3), True)

    References
    ----------
    CS231n notes, "Linear classification: softmax classifier"; scikit-learn's
    ``LogisticRegression``.
    """


@estimator_dataclass
class LinearSVM(LinearClassifier):
    """Multiclass linear SVM (Weston-Watkins hinge): ``LinearClassifier(loss="svm")``.

    Takes the same parameters as :class:`LinearClassifier`; ``loss`` defaults to
    "svm" (use "crammer_singer" or "squared_hinge" for the variants).

    Parameters
    ----------
    loss : str or callable, default "svm"
        As :class:`LinearClassifier`'s, like every other parameter.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> svm = LinearSVM().fit(X, y)
    >>> svm.decision_function(X[:2]).shape, svm.predict(X[:2]).tolist()
    ((2, 3), [0, 0])

    References
    ----------
    J. Weston and C. Watkins, "Support Vector Machines for Multi-Class Pattern
    Recognition", ESANN 1999; CS231n notes, "Linear classification: multiclass SVM".
    """

    loss: str = "svm"


@estimator_dataclass
class MLPClassifier(_Classifier):
    """A ReLU network classifier trained with any classification loss.

    ``hidden_layer_sizes`` sets the hidden layers (He initialisation); the other
    parameters are those of :class:`LinearClassifier` (with a longer patience, and
    no ``solver``: an MLP trains by mini-batches). Fitted weights are in
    ``coefs_`` and ``intercepts_``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        The width of each hidden layer (integers > 0). With ``warm_start``, a
        change of widths starts a new network, as a change of features does.
    loss : str or callable, default "softmax"
        As :class:`LinearClassifier`'s.
    n_iter_no_change : int, default 10
        Epochs without improvement before training stops.

    Attributes
    ----------
    coefs_ : list of np.ndarray
        The weight matrix of each layer, of shape (fan_out, fan_in).
    intercepts_ : list of np.ndarray
        The bias vector of each layer.
    classes_ : np.ndarray of shape (n_classes,)
        The class labels, sorted.
    history_ : History
        The training history.
    n_iter_ : int
        Epochs run.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> mlp = MLPClassifier((8,), max_iter=20, tol=None, random_state=0).fit(X, y)
    >>> [w.shape for w in mlp.coefs_], [b.shape for b in mlp.intercepts_]
    ([(8, 4), (3, 8)], [(8,), (3,)])
    >>> mlp.n_iter_
    20

    References
    ----------
    K. He et al., "Delving Deep into Rectifiers", ICCV 2015 (the initialisation);
    scikit-learn's ``MLPClassifier``.
    """

    hidden_layer_sizes: tuple = (100,)
    loss: str = field(default="softmax", kw_only=True)
    n_iter_no_change: int = field(default=10, kw_only=True)

    _model_kind = "mlp"

    def _validate_params(self) -> None:
        """scikit-learn's parameter checks, then each hidden layer's width (an integer > 0)."""
        super()._validate_params()
        check_hidden_layer_sizes(self.hidden_layer_sizes, type(self).__name__)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Each layer's weights, of shape (fan_out, fan_in) as scikit-learn's transposed."""
        check_is_fitted(self)
        mlp = cast(models.MLP, self.model_)
        return [mlp.params[f"W{k}"].T for k in range(1, mlp.n_layers + 1)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Each layer's biases, of shape (fan_out,)."""
        check_is_fitted(self)
        mlp = cast(models.MLP, self.model_)
        return [mlp.params[f"b{k}"] for k in range(1, mlp.n_layers + 1)]
