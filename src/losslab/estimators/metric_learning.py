"""Metric learning: an embedding where a query's positives are closer than its negatives (seed 002).

:class:`MetricLearner` (alias :data:`EmbeddingModel`) is a scikit-learn style
transformer: ``fit(X, y)`` learns a linear projection or an MLP to
``n_components`` dimensions with ``batch_triplet`` (all / hard / semihard
mining) or ``contrastive`` loss; ``transform(X)`` returns the embedding
(L2-normalised when ``normalize``). Batches are class-balanced — P classes ×
K samples each — so every batch has positives for every anchor.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import losses, models, optim
from ..training import loop
from ..training.state import History, TrainState

_LOSSES = ("triplet", "batch_triplet", "contrastive")


def pk_batches(labels, classes_per_batch, samples_per_class, rng):
    """Index batches of P classes × K samples covering about one epoch of the data.

    Classes with a single sample cannot provide a positive and are left out;
    a class with fewer than K samples is sampled with replacement.
    """
    classes, counts = np.unique(labels, return_counts=True)
    usable = classes[counts >= 2]
    if len(usable) < 2:
        raise ValueError(
            "y: metric learning needs at least two classes with two or more samples each"
        )
    by_class = {c: np.flatnonzero(labels == c) for c in usable}
    p = min(classes_per_batch, len(usable))
    n_batches = max(1, len(labels) // (p * samples_per_class))
    batches = []
    for _ in range(n_batches):
        chosen = rng.choice(usable, size=p, replace=False)
        idx = [
            rng.choice(
                by_class[c], size=samples_per_class, replace=len(by_class[c]) < samples_per_class
            )
            for c in chosen
        ]
        batches.append(np.concatenate(idx))
    return batches


def normalize_rows(e):
    """(e / ‖e‖ row-wise, the norms) — with a floor so a zero row stays finite."""
    norms = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    return e / norms, norms


class MetricLearner(TransformerMixin, BaseEstimator):
    """Learn an embedding with a ranking loss.

    Parameters
    ----------
    n_components : int
        Embedding dimension.
    model : {"linear", "mlp"}
        A linear projection (initialised as a random projection) or a ReLU MLP.
    hidden_layer_sizes : tuple
        Hidden sizes of the MLP.
    loss : {"triplet", "contrastive"}
    mining : {"all", "hard", "semihard"}
        Which triplets of each batch the triplet loss uses.
    margin : float
        Triplet margin; for contrastive loss the negative margin (positives pull to 0).
    distance : {"euclidean", "squared_euclidean", "cosine"}
    normalize : bool
        L2-normalise the embedding (then distances live on the unit sphere).
    init : {"random", "pca"}
        Starting weights of a linear model: a random projection, or the data's
        principal components (training then refines PCA's geometry).
    classes_per_batch, samples_per_class : int
        P and K of the class-balanced batches.
    optimizer, lr, max_iter (epochs), alpha (L2 on the weights), random_state, verbose
    """

    def __init__(
        self,
        n_components=16,
        *,
        model="linear",
        hidden_layer_sizes=(128,),
        loss="triplet",
        mining="semihard",
        margin=0.2,
        distance="euclidean",
        normalize=True,
        init="random",
        classes_per_batch=8,
        samples_per_class=8,
        optimizer="adam",
        lr=1e-3,
        max_iter=50,
        alpha=0.0,
        random_state=None,
        verbose=False,
    ):
        self.n_components = n_components
        self.model = model
        self.hidden_layer_sizes = hidden_layer_sizes
        self.loss = loss
        self.mining = mining
        self.margin = margin
        self.distance = distance
        self.normalize = normalize
        self.init = init
        self.classes_per_batch = classes_per_batch
        self.samples_per_class = samples_per_class
        self.optimizer = optimizer
        self.lr = lr
        self.max_iter = max_iter
        self.alpha = alpha
        self.random_state = random_state
        self.verbose = verbose

    def _batch_loss(self, embeddings, labels):
        if self.loss == "contrastive":
            return losses.contrastive(
                embeddings, labels, neg_margin=self.margin, distance=self.distance
            )
        return losses.batch_triplet(
            embeddings, labels, margin=self.margin, mining=self.mining, distance=self.distance
        )

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        if self.loss not in _LOSSES:
            raise ValueError(
                f"loss: expected 'triplet' or 'contrastive', got {self.loss!r} instead"
            )
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y: expected at least two classes, got only one class ({self.classes_[0]!r})"
            )
        if self.init not in ("random", "pca"):
            raise ValueError(f"init: expected 'random' or 'pca', got {self.init!r} instead")
        rng = np.random.default_rng(self.random_state)
        self.model_ = self._build_model(X)
        opt = optim.get(self.optimizer)
        state = TrainState(opt, opt.init(self.model_.params), rng)
        self.history_ = History()

        def run_epoch():  # one epoch: as many P×K batches as the data holds
            batches = pk_batches(y_enc, self.classes_per_batch, self.samples_per_class, rng)
            totals = loop.take_steps(
                self._value_and_grads,
                self.model_.params,
                state,
                ((X[idx], y_enc[idx], None) for idx in batches),
                optim.constant(self.lr),
                step_loss=self.history_.step_loss,
            )
            state.epoch += 1
            return {"epoch": state.epoch, "train_loss": totals.mean_loss, "lr": self.lr}

        loop.run_epochs(run_epoch, state, self.history_, self.model_, self.max_iter)
        self.n_iter_ = self.max_iter
        return self

    def _build_model(self, X):
        """A linear projection (random or PCA) or an MLP, from the data's width and dtype."""
        d = X.shape[1]
        if self.model == "linear":
            model = models.Linear(
                d,
                self.n_components,
                init_scale=1 / np.sqrt(d),  # a random projection: distances stay O(1)
                dtype=X.dtype,
                random_state=self.random_state,
            )
            if self.init == "pca":  # start from PCA: training can only refine that geometry
                self._init_pca(X, model)
            return model
        if self.init == "pca":
            raise ValueError("init: 'pca' initialises a linear model; use init='random' for an MLP")
        return models.MLP(
            d,
            tuple(self.hidden_layer_sizes),
            self.n_components,
            output_scale=None,
            dtype=X.dtype,
            random_state=self.random_state,
        )

    def _init_pca(self, X, model):
        if self.n_components > min(X.shape):
            raise ValueError(
                f"init: 'pca' needs n_components <= min(n_samples, n_features) = {min(X.shape)}"
            )
        mean = X.mean(axis=0)
        _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
        W = Vt[: self.n_components].T
        model.params["W"][...] = W
        model.params["b"][...] = -mean @ W

    def _value_and_grads(self, Xb, yb, weights=None):
        """(loss, gradients, None) of a labelled batch: the embedding, normalised, into the ranking loss."""
        e, cache = self.model_.forward(Xb)
        z, norms = normalize_rows(e) if self.normalize else (e, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a P×K batch always has two classes
            result = self._batch_loss(z, yb)
        dz = result.grad
        if self.normalize:  # back through z = e/‖e‖: remove the radial part, divide by the norm
            dz = (dz - z * np.einsum("ij,ij->i", dz, z)[:, None]) / norms
        grads, _ = self.model_.backward(cache, dz.astype(e.dtype, copy=False), input_grad=False)
        if self.alpha:
            for name in self.model_.weight_names:
                grads[name] += 2 * self.alpha * self.model_.params[name]
        return result.value, grads, None

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        e = self.model_(
            X.astype(self.model_.params[next(iter(self.model_.params))].dtype, copy=False)
        )
        return normalize_rows(e)[0] if self.normalize else e


EmbeddingModel = MetricLearner
