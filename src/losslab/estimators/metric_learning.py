"""Metric learning: an embedding where a query's positives are closer than its negatives (seed 002).

:class:`MetricLearner` (alias :data:`EmbeddingModel`) is a scikit-learn style
transformer: ``fit(X, y)`` learns a linear projection or an MLP to
``n_components`` dimensions with a metric-learning loss; ``transform(X)``
returns the embedding (L2-normalised when ``normalize``). Batches are
class-balanced — P classes × K samples each — so every batch has positives for
every anchor. Training runs through the one loop (``training.loop``), with
early stopping on a held-out part of the training data.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar, Self, cast

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import losses, models, optim
from ..losses import metric
from ..training import loop
from ..training.checks import is_sparse
from ..training.state import History, TrainState
from ..training.stopping import EarlyStopping
from .base import SPARSE_FORMATS, ArrayPair, check_hidden_layer_sizes

LOSSES = (
    "soft_nearest_neighbour",
    "triplet",
    "contrastive",
    "supervised_contrastive",
    "multi_similarity",
    "arcface",
)
# the margin or temperature a loss takes when the learner's is None
DEFAULT_MARGIN = {"triplet": 0.2, "contrastive": 0.2, "arcface": 0.5}
DEFAULT_TEMPERATURE = {"soft_nearest_neighbour": 1.0, "supervised_contrastive": 0.1}
# Adam's learning rate when the learner's is None, chosen on the tuning splits
# (bench/RESULTS.md): for the MLP 3e-3 matched 1e-3's recall@1 in half the
# epochs; for the linear map 1e-2 beat 1e-3
DEFAULT_LR = {"linear": 1e-2, "mlp": 3e-3}
VALIDATION_ROWS = 1024  # the held-out part is scored as one batch: its size bounds the memory


def pk_batches(
    labels: np.ndarray, classes_per_batch: int, samples_per_class: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Index batches of P classes × K samples covering about one epoch of the data.

    Classes with a single sample cannot provide a positive and are left out;
    a class with fewer than K samples is sampled with replacement.

    Parameters
    ----------
    labels : int ndarray of shape (N,)
    classes_per_batch : int
        P.
    samples_per_class : int
        K.
    rng : Generator

    Returns
    -------
    list of int ndarray of shape (P·K,)
        About N / (P·K) batches of row indices.

    Examples
    --------
    >>> batches = pk_batches(np.repeat([0, 1, 2], 10), 2, 4, np.random.default_rng(0))
    >>> len(batches), batches[0].shape
    (3, (8,))

    References
    ----------
    Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person
    Re-Identification" (2017), the P×K batches.
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


def normalize_rows(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(e / ‖e‖ row-wise, the norms) — with a floor so a zero row stays finite.

    Parameters
    ----------
    e : ndarray of shape (N, D)

    Returns
    -------
    unit : ndarray of shape (N, D)
    norms : ndarray of shape (N, 1)

    Examples
    --------
    >>> unit, norms = normalize_rows(np.array([[3.0, 4.0]]))
    >>> unit.tolist(), norms.tolist()
    ([[0.6, 0.8]], [[5.0]])
    """
    norms = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    return e / norms, norms


def held_out_split(
    y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices): about ``fraction`` of each class held out, at least one row kept.

    At least two rows of each class stay in training (a positive pair), and at
    most ``VALIDATION_ROWS`` rows are held out in all.

    Parameters
    ----------
    y : int ndarray of shape (N,)
    fraction : float
        0 holds nothing out.
    rng : Generator

    Returns
    -------
    train, validation : int ndarrays
        Sorted row indices.

    Examples
    --------
    >>> train, val = held_out_split(np.repeat([0, 1], 10), 0.2, np.random.default_rng(0))
    >>> len(train), len(val)
    (16, 4)
    """
    if not fraction:
        return np.arange(len(y)), np.array([], dtype=int)
    per_class = []
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        per_class.append(rows[: min(round(fraction * len(rows)), len(rows) - 2)])
    val = np.sort(np.concatenate(per_class))
    if len(val) > VALIDATION_ROWS:
        val = np.sort(rng.choice(val, VALIDATION_ROWS, replace=False))
    return np.setdiff1d(np.arange(len(y)), val), val


def within_class_scatter(U: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The pooled within-class scatter (1/N) Σ_c Σ_{i ∈ c} (u_i - μ_c)(u_i - μ_c)ᵀ.

    Parameters
    ----------
    U : ndarray of shape (N, m)
    y : ndarray of shape (N,)
        Class labels.

    Returns
    -------
    ndarray of shape (m, m)

    Examples
    --------
    >>> within_class_scatter(np.array([[0.0], [2.0], [10.0], [10.0]]), np.array([0, 0, 1, 1]))
    array([[0.5]])
    """
    scatter = np.zeros((U.shape[1], U.shape[1]))
    for c in np.unique(y):
        centred = U[y == c] - U[y == c].mean(axis=0)
        scatter += centred.T @ centred
    return scatter / len(U)


def shrunk_fisher(
    X: np.ndarray,
    y: np.ndarray,
    n_components: int,
    *,
    n_pca: int | None = None,
    shrinkage: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Fisher's discriminant directions in a PCA subspace, with the within-class scatter shrunk.

    The data are projected on their first ``n_pca`` principal directions
    :math:`V` (:math:`U = (X - \bar x) V`), whitened by the within-class scatter
    shrunk toward its mean eigenvalue,
    :math:`S = S_w + \gamma \, (\operatorname{tr} S_w / m) \, I`, and the embedding
    keeps the ``n_components`` principal directions :math:`Q` of the whitened
    data: :math:`e(x) = (x - \bar x) \, V S^{-1/2} Q`. With no shrinkage these
    are the generalised eigenvectors of the total and within-class scatters,
    LDA's directions; the shrinkage fills the directions beyond LDA's
    C - 1 with the within-class-whitened principal ones. The whitening
    discounts the within-class variation (stroke width or slant in digits),
    which classes never seen share; the map is not fitted further to the
    training classes.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (N, d)
        A sparse X is never densified: its d × d scatter is
        :math:`X^\top X - N \bar x \bar x^\top`.
    y : ndarray of shape (N,)
        Class labels.
    n_components : int
        k, at most min(d, N - 1).
    n_pca : int or None
        m, the principal directions kept first; None: min(2k, d, N - 1).
    shrinkage : float
        γ >= 0.

    Returns
    -------
    W : ndarray of shape (d, k)
    mean : ndarray of shape (d,)
        The embedding is ``(X - mean) @ W``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> W, mean = shrunk_fisher(X, y, 2)
    >>> ((X - mean) @ W).shape
    (150, 2)

    References
    ----------
    Belhumeur, Hespanha & Kriegman, "Eigenfaces vs. Fisherfaces", IEEE TPAMI
    (1997) (PCA before LDA); Friedman, "Regularized Discriminant Analysis", JASA
    (1989) (the shrunk scatter).
    """
    rank = min(X.shape[1], X.shape[0] - 1)
    if n_components > rank:
        raise ValueError(
            f"n_components: the Fisher embedding needs n_components <= "
            f"min(n_features, n_samples - 1) = {rank}"
        )
    m = min(2 * n_components, rank) if n_pca is None else n_pca
    mean = column_means(X)
    V = _top_eigenvectors(centred_gram(X, mean), m)
    U = _centred_times(X, mean, V)
    Sw = within_class_scatter(U, y)
    level = np.trace(Sw) / m or np.trace(U.T @ U) / (m * len(U)) or 1.0  # classes of one point
    eigenvalues, E = np.linalg.eigh(Sw + shrinkage * level * np.eye(m))
    eigenvalues = np.maximum(eigenvalues, 1e-12 * eigenvalues.max())
    whiten = (E / np.sqrt(eigenvalues)) @ E.T
    Q = _top_eigenvectors(whiten @ (U.T @ U) @ whiten, n_components)
    return (V @ whiten @ Q).astype(X.dtype), mean


def _top_eigenvectors(gram, k):
    """The k leading eigenvectors of a symmetric matrix, largest first.

    Principal directions from the d × d scatter, not an SVD of the data: NumPy's
    SVD of a (1000, 64) matrix took 0.3-2.8 s on two loaded cores, this 1 ms.
    """
    _, vectors = np.linalg.eigh(gram)
    return vectors[:, ::-1][:, :k]


def column_means(X: np.ndarray) -> np.ndarray:
    """The mean of each column of a dense or scipy.sparse X, as a 1-D array.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (N, d)

    Returns
    -------
    ndarray of shape (d,)

    Examples
    --------
    >>> import scipy.sparse
    >>> column_means(scipy.sparse.csr_matrix([[1.0, 0.0], [3.0, 4.0]])).tolist()
    [2.0, 2.0]
    """
    return np.asarray(X.mean(axis=0)).ravel()


def centred_gram(X: np.ndarray, mean: np.ndarray) -> np.ndarray:
    r"""The scatter :math:`(X - \bar x)^\top (X - \bar x)`, without a dense copy of a sparse X.

    For a scipy.sparse X it is :math:`X^\top X - N \bar x \bar x^\top`: the
    d × d result is dense, X is not.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (N, d)
    mean : ndarray of shape (d,)
        :math:`\bar x`, X's column means.

    Returns
    -------
    ndarray of shape (d, d)

    Examples
    --------
    >>> import scipy.sparse
    >>> X = np.array([[1.0, 0.0], [3.0, 4.0]])
    >>> bool(np.allclose(centred_gram(scipy.sparse.csr_matrix(X), X.mean(0)),
    ...                  centred_gram(X, X.mean(0))))
    True
    """
    if not is_sparse(X):
        return (X - mean).T @ (X - mean)
    return np.asarray((X.T @ X).todense()) - X.shape[0] * np.outer(mean, mean)


def _centred_times(X, mean, V):
    """(X - mean) @ V; for a sparse X as X @ V - mean @ V, which keeps X sparse."""
    if not is_sparse(X):
        return (X - mean) @ V
    return np.asarray(X @ V) - mean @ V


def _sparse_lda_scalings(X, y, n_components, tol=1e-4):
    """scikit-learn's LDA (svd solver) ``scalings_[:, :n_components]`` for a scipy.sparse X.

    The same steps as ``LinearDiscriminantAnalysis._solve_svd``, with the SVD of
    the standardised within-class deviations (N × d, dense) replaced by the
    eigendecomposition of their d × d scatter: the same directions and
    singular values, X never densified. Columns as :func:`_sign_fixed` leaves them.
    """
    n, classes = X.shape[0], np.unique(y)
    one_hot = (y[:, None] == classes[None, :]).astype(np.float64)
    counts = one_hot.sum(axis=0)
    means = np.asarray(X.T @ one_hot).T / counts[:, None]
    within = np.asarray((X.T @ X).todense()) - (means.T * counts) @ means
    std = np.sqrt(np.maximum(np.diag(within), 0) / n)
    std[std == 0] = 1.0
    eigenvalues, vectors = np.linalg.eigh(within / n / np.outer(std, std))
    order = np.argsort(eigenvalues)[::-1]
    S = np.sqrt(np.maximum(eigenvalues[order], 0))
    rank = int(np.sum(S > tol))
    scalings = (vectors[:, order[:rank]] / std[:, None]) / S[:rank]
    priors = counts / n
    fac = 1.0 / (len(classes) - 1)
    centres = np.sqrt(n * priors * fac)[:, None] * (means - priors @ means)
    _, S, Vt = np.linalg.svd(centres @ scalings, full_matrices=False)
    rank = int(np.sum(S > tol * S[0]))
    return (scalings @ Vt.T[:, :rank])[:, :n_components]


def _sign_fixed(W):
    """W with each column's largest entry (in absolute value) positive: a direction's sign
    is arbitrary, this fixes it so that every way of computing it agrees."""
    biggest = W[np.argmax(np.abs(W), axis=0), np.arange(W.shape[1])]
    return W * np.where(biggest < 0, -1, 1)


def _start_mlp_at(model, W, mean):
    """Make a one-hidden-layer MLP compute x ↦ (x - mean) W exactly, as relu(u) - relu(-u).

    The first 2k hidden units carry ±u; the others keep their random input
    weights and start with zero output weights (their gradient is not zero), so
    training starts from the linear map and grows the non-linear part from there.
    """
    k = W.shape[1]
    if model.n_layers != 2 or model.hidden[0] < 2 * k:
        raise ValueError(
            f"init: starting an MLP from LDA or PCA needs one hidden layer of at least {2 * k} units"
        )
    p = model.params
    p["W1"][:, :k], p["W1"][:, k : 2 * k] = W, -W
    p["b1"][:k], p["b1"][k : 2 * k] = -mean @ W, mean @ W
    p["W2"][...] = 0
    p["W2"][: 2 * k] = np.vstack([np.eye(k), -np.eye(k)])
    p["b2"][...] = 0


class MetricLearner(TransformerMixin, BaseEstimator):
    """Learn an embedding with a metric-learning loss.

    The defaults were chosen once, on digits splits other than those the
    benchmark reports (bench/RESULTS.md, "Metric learning"), by this rule:

    - when the embedding has more dimensions than the C - 1 directions C
      classes can discriminate (``n_components > n_classes - 1``, and at most
      min(n_features, n_samples - 1)) and the loss is the default one, the map
      is :func:`shrunk_fisher`'s closed form, not trained: the labels cannot
      fill the spare dimensions, and a map trained on them spends those
      dimensions on the training classes (at 8 dimensions on four digits never
      seen in fitting, every map trained on six stayed under PCA's recall@1, by
      0.2 to 5.4 points; this one reached it, 0.962 against 0.959, and at 16
      dimensions it beat the MLP on held-out samples, 0.988 against 0.978);
    - otherwise, the objective NCA optimises (the soft nearest-neighbour loss,
      whose temperature a learned map absorbs), a one-hidden-layer ReLU MLP
      (128 units, random start), batches of every class up to 16 × 8 samples
      each, Adam with a constant step, and early stopping on the held-out loss
      of a tenth of each class (patience 10, best epoch kept).

    X may be a scipy.sparse matrix or array of any format, in ``fit`` and
    ``transform``: it is never densified (the first layer's product takes it as
    it is; the LDA, PCA and Fisher maps use its d × d scatter), and gives the
    dense fit's embedding.

    Parameters
    ----------
    n_components : int
        Embedding dimension.
    model : {"auto", "mlp", "linear", "fisher"}
        A ReLU MLP or a linear projection trained with ``loss``, or the
        closed-form :func:`shrunk_fisher` projection (no training: the loss,
        batch, optimiser, stopping, checkpoint and progress parameters are not
        used). "auto" picks
        "fisher" or "mlp" by the rule above.
    hidden_layer_sizes : tuple
        Hidden sizes of the MLP.
    loss : {"soft_nearest_neighbour", "triplet", "contrastive", "supervised_contrastive", \
"multi_similarity", "arcface"}, another name, or callable
        The batch loss (see :mod:`losslab.losses.metric` and :mod:`losslab.losses.ranking`);
        ``arcface`` also learns one weight vector per class (``proxies_``). Registry
        aliases (``"ntxent"``, ``"supcon"``, ...), metric losses added with
        :func:`losslab.losses.register`, and a function ``f(embeddings, labels) ->
        (value, grad)`` work too; these last two take no margin or temperature.
    mining : {"all", "hard", "semihard"}
        Which triplets of each batch the triplet loss uses.
    margin : float or None
        Triplet margin, contrastive negative margin (positives pull to 0) or
        ArcFace's angular margin; None: 0.2, 0.2, 0.5.
    temperature : float or None
        Of the soft nearest-neighbour (None: 1) and supervised contrastive (None: 0.1) losses.
    distance : {"euclidean", "squared_euclidean", "cosine"}
        Of the triplet and contrastive losses.
    normalize : bool or None
        L2-normalise the embedding (then distances live on the unit sphere);
        None: normalise for every loss but the soft nearest-neighbour one,
        whose distances carry its scale.
    init : {"auto", "lda", "pca", "random"}
        Starting weights: LDA's directions, the principal components, or
        random. "auto" starts a linear model from LDA below C dimensions and
        PCA from there (as scikit-learn's NCA), and an MLP random. An MLP
        started from LDA or PCA computes that linear map exactly at first.
    classes_per_batch, samples_per_class : int
        P and K of the class-balanced batches.
    optimizer : str
    lr : float or None
        Learning rate (None: 3e-3 for the MLP, 1e-2 for the linear model).
    max_iter : int
        Most epochs.
    alpha : float
        L2 penalty on the weights.
    validation_fraction : float
        Part of each class held out to stop early on its loss; 0 trains
        ``max_iter`` epochs.
    n_iter_no_change, tol : int, float
        Stop once the held-out loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the weights of the best epoch are kept.
    checkpoint : path or None
        Written after each epoch.
    random_state : int, RandomState instance or None
        Seeds the initial weights, the held-out split and the batches: an int
        gives the same fit every time; a ``numpy.random.RandomState`` is drawn
        from (its generator is shared, so successive fits differ); None draws
        fresh entropy from the operating system.
    verbose : bool
        Show a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``.
    model_ : Linear or MLP
        The trained map from features to the embedding.
    model_type_ : str
        "mlp", "linear" or "fisher": ``model`` with "auto" resolved.
    history_ : History
        Per-step and per-epoch training and held-out losses.
    n_iter_ : int
        Epochs trained.
    proxies_ : ndarray of shape (n_classes, n_components)
        ArcFace's class weight vectors (``loss="arcface"`` only).
    n_features_in_ : int
        Features seen in ``fit``.

    See Also
    --------
    sklearn.neighbors.NeighborhoodComponentsAnalysis : the linear map with NCA's loss.
    losslab.metrics.recall_at_k : how well an embedding retrieves a query's class.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.metrics import recall_at_k
    >>> X, y = load_iris(return_X_y=True)
    >>> embedding = MetricLearner(n_components=2, random_state=0).fit(X, y).transform(X)
    >>> embedding.shape
    (150, 2)
    >>> bool(recall_at_k(embedding, y) > 0.9)
    True

    References
    ----------
    Goldberger, Roweis, Hinton & Salakhutdinov, "Neighbourhood Components Analysis",
    NIPS (2004); Frosst, Papernot & Hinton, "Analyzing and Improving Representations
    with the Soft Nearest Neighbor Loss", ICML (2019); Schroff, Kalenichenko & Philbin,
    "FaceNet", CVPR (2015) (P×K batches and semi-hard mining).
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "model": [StrOptions({"auto", "linear", "mlp", "fisher"})],
        "hidden_layer_sizes": [tuple, list],
        "loss": [str, callable],  # a name of LOSSES, a registered metric loss, or f(z, labels)
        "mining": [StrOptions(set(losses.ranking.MININGS))],
        "margin": [Interval(Real, 0, None, closed="left"), None],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
        "distance": [StrOptions(set(losses.ranking.DISTANCES))],
        "normalize": ["boolean", None],
        "init": [StrOptions({"auto", "lda", "pca", "random"})],
        "classes_per_batch": [Interval(Integral, 2, None, closed="left")],
        "samples_per_class": [Interval(Integral, 2, None, closed="left")],
        "optimizer": [StrOptions(set(optim.OPTIMIZERS))],
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "checkpoint": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components: int = 16,
        *,
        model: str = "auto",
        hidden_layer_sizes: tuple[int, ...] | list[int] = (128,),
        loss: str | Callable[..., Any] = "soft_nearest_neighbour",
        mining: str = "semihard",
        margin: float | None = None,
        temperature: float | None = None,
        distance: str = "euclidean",
        normalize: bool | None = None,
        init: str = "auto",
        classes_per_batch: int = 16,
        samples_per_class: int = 8,
        optimizer: str = "adam",
        lr: float | None = None,
        max_iter: int = 100,
        alpha: float = 0.0,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        checkpoint: str | os.PathLike[str] | None = None,
        random_state: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.n_components = n_components
        self.model = model
        self.hidden_layer_sizes = hidden_layer_sizes
        self.loss = loss
        self.mining = mining
        self.margin = margin
        self.temperature = temperature
        self.distance = distance
        self.normalize = normalize
        self.init = init
        self.classes_per_batch = classes_per_batch
        self.samples_per_class = samples_per_class
        self.optimizer = optimizer
        self.lr = lr
        self.max_iter = max_iter
        self.alpha = alpha
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X fits and transforms without densifying
        return tags

    @property
    def normalize_(self) -> bool:
        """Whether the embedding is L2-normalised (``normalize`` with None resolved).

        Examples
        --------
        >>> MetricLearner().normalize_, MetricLearner(loss="triplet").normalize_
        (False, True)
        """
        if self.normalize is None:
            return self._loss_name() != "soft_nearest_neighbour"
        return bool(self.normalize)

    def _loss_name(self):
        """The name of LOSSES that ``loss`` stands for (aliases resolved), or None for another
        metric loss of the registry or a user's function ``f(embeddings, labels) -> (value, grad)``."""
        if isinstance(self.loss, str) and self.loss in LOSSES:
            return self.loss
        resolved = losses.get(self.loss, task="metric")
        if resolved.task != "metric":
            raise ValueError(
                f"loss: expected a metric loss (embeddings and labels), got {resolved.name!r}, "
                f"a {resolved.task} loss"
            )
        name = "triplet" if resolved.name == "batch_triplet" else resolved.name
        return name if name in LOSSES else None

    def _batch_loss(self, z, labels):
        """(loss, gradient for z, gradient for the class weights or None) of one batch."""
        name = self._loss_name()
        if name is None:  # a registered metric loss or the user's own: called as it is
            r = losses.get(self.loss, task="metric")(z, labels)
            return r[0], r[1], None
        margin = DEFAULT_MARGIN.get(name) if self.margin is None else self.margin
        temperature = self.temperature or DEFAULT_TEMPERATURE.get(name)
        if name == "arcface":
            r = metric.arcface(z, labels, self.proxies_, margin=margin)
            return r.value, r.grad[0], r.grad[1]
        if name == "triplet":
            r = losses.batch_triplet(
                z, labels, margin=margin, mining=self.mining, distance=self.distance
            )
        elif name == "contrastive":
            r = losses.contrastive(z, labels, neg_margin=margin, distance=self.distance)
        elif name == "multi_similarity":
            r = metric.multi_similarity(z, labels)
        else:
            r = getattr(metric, name)(z, labels, temperature=temperature)
        return r.value, r.grad, None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike) -> Self:
        """Learn the embedding from labelled samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array of shape (n_samples,)
            Class labels: at least two classes with two samples or more.

        Returns
        -------
        self : MetricLearner
            Fitted.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> learner = MetricLearner(2, max_iter=5, random_state=0).fit(X, y)
        >>> learner.model_type_, learner.n_iter_
        ('mlp', 5)
        >>> MetricLearner(3).fit(X, y).model_type_  # 3 > C - 1 = 2: the closed form
        'fisher'
        """
        return self._fit(X, y, train=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_start(self, X: ArrayLike, y: ArrayLike) -> Self:
        """Set up the map that ``fit`` starts training from, and train it no further.

        The same starting weights as ``fit`` with the same parameters (LDA, PCA
        or random, see ``init``; the held-out split drawn alike), with
        ``n_iter_ = 0``: the "before training" embedding a trained one is
        compared with. The closed-form ``"fisher"`` map is fitted in full.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array of shape (n_samples,)
            Class labels: at least two classes with two samples or more.

        Returns
        -------
        self : MetricLearner
            Fitted, untrained.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> start = MetricLearner(2, random_state=0).fit_start(X, y)
        >>> start.n_iter_, start.transform(X).shape
        (0, (150, 2))
        """
        return self._fit(X, y, train=False)

    def _fit(self, X, y, *, train):
        """``fit`` (``train``) or ``fit_start``: the checks, the starting map, then the epochs."""
        check_hidden_layer_sizes(self.hidden_layer_sizes, "MetricLearner")
        X, y = cast(
            ArrayPair,
            validate_data(self, X, y, dtype=[np.float64, np.float32], accept_sparse=SPARSE_FORMATS),
        )
        if is_sparse(X):
            X = X.tocsr()  # the batches take rows
        check_classification_targets(y)
        self._loss_name()  # an unknown or non-metric loss fails here, before any training
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y: expected at least two classes, got only one class ({self.classes_[0]!r})"
            )
        self.model_type_ = self._model_type(X.shape, len(self.classes_))
        if self.model_type_ == "fisher":  # closed form: nothing to train
            W, mean = shrunk_fisher(X, y_enc, self.n_components)
            self.model_ = models.Linear(X.shape[1], self.n_components, dtype=X.dtype)
            self.model_.params["W"][...], self.model_.params["b"][...] = W, -mean @ W
            self.history_, self.n_iter_ = History(), 0
            return self
        rng = np.random.default_rng(self.random_state)
        train_rows, val = held_out_split(y_enc, self.validation_fraction, rng)
        self.model_ = self._build_model(X[train_rows], y_enc[train_rows])
        epochs = self.max_iter if train else 0
        self._train(X[train_rows], y_enc[train_rows], X[val], y_enc[val], rng, epochs)
        self.n_iter_ = self.history_.n_epochs
        return self

    def _model_type(self, shape, n_classes):
        """``model`` with "auto" resolved by the rule of the class docstring."""
        if self.model != "auto":
            return self.model
        spare = n_classes - 1 < self.n_components <= min(shape[1], shape[0] - 1)
        return "fisher" if spare and self.loss == "soft_nearest_neighbour" else "mlp"

    def _train(self, X, y, X_val, y_val, rng, epochs):
        """``epochs`` of P×K batches through the one loop, stopped early on the held-out loss."""
        params = dict(self.model_.params)
        if self._loss_name() == "arcface":
            proxies = rng.standard_normal((len(self.classes_), self.n_components))
            self.proxies_ = params["proxies"] = proxies.astype(X.dtype)
        opt = optim.get(self.optimizer)
        state = TrainState(opt, opt.init(params), rng)
        self.history_ = History()
        lr = DEFAULT_LR[self.model_type_] if self.lr is None else self.lr
        stopping = self._stopping(y_val)

        def run_epoch():  # one epoch: as many P×K batches as the data holds
            batches = pk_batches(y, self.classes_per_batch, self.samples_per_class, rng)
            totals = loop.take_steps(
                self._value_and_grads,
                params,
                state,
                ((X[idx], y[idx], None) for idx in batches),
                optim.constant(lr),
                step_loss=self.history_.step_loss,
            )
            state.epoch += 1
            logs = {"epoch": state.epoch, "train_loss": totals.mean_loss, "lr": lr}
            if stopping is not None:
                logs["val_loss"] = self._value_and_grads(X_val, y_val, need_grads=False)
            return logs

        loop.run_epochs(
            run_epoch,
            state,
            self.history_,
            self.model_,
            epochs,
            checkpoint=self.checkpoint,
            stopping=stopping,
            progress=bool(self.verbose),
        )

    def _stopping(self, y_val):
        """Early stopping on the held-out loss, or None when the held-out part cannot score one."""
        _, counts = np.unique(y_val, return_counts=True)
        if np.sum(counts >= 2) < 2:
            return None
        return EarlyStopping(self.tol, self.n_iter_no_change, monitor="val_loss", keep_best=True)

    def _build_model(self, X, y):
        """A linear projection or an MLP started from LDA, PCA or random weights."""
        d = X.shape[1]
        init = self.init
        if init == "auto" and self.model_type_ == "linear":  # scikit-learn NCA's rule
            init = "lda" if self.n_components < min(d, len(np.unique(y))) else "pca"
        if self.model_type_ == "linear":
            model = models.Linear(
                d,
                self.n_components,
                init_scale=1 / np.sqrt(d),  # a random projection: distances stay O(1)
                dtype=X.dtype,
                random_state=self.random_state,
            )
            if init != "random":
                W = self._lda(X, y) if init == "lda" else self._pca(X)
                model.params["W"][...] = W
                model.params["b"][...] = -column_means(X) @ W  # centred: distances unchanged
            return model
        model = models.MLP(
            d,
            tuple(self.hidden_layer_sizes),
            self.n_components,
            output_scale=None,
            dtype=X.dtype,
            random_state=self.random_state,
        )
        if init in ("lda", "pca"):
            W = self._lda(X, y) if init == "lda" else self._pca(X)
            _start_mlp_at(model, W.astype(X.dtype), column_means(X))
        return model

    def _pca(self, X):
        if self.n_components > min(X.shape):
            raise ValueError(
                f"init: 'pca' needs n_components <= min(n_samples, n_features) = {min(X.shape)}"
            )
        return _top_eigenvectors(centred_gram(X, column_means(X)), self.n_components)

    def _lda(self, X, y):
        k = min(X.shape[1], len(np.unique(y)) - 1)
        if self.n_components > k:
            raise ValueError(
                f"init: 'lda' needs n_components <= min(n_features, n_classes - 1) = {k}"
            )
        if is_sparse(X):  # scikit-learn's LDA takes dense X only
            return _sign_fixed(_sparse_lda_scalings(X, y, self.n_components))
        lda = LinearDiscriminantAnalysis(n_components=self.n_components).fit(X, y)
        return _sign_fixed(lda.scalings_[:, : self.n_components])

    def _value_and_grads(self, Xb, yb, weights=None, *, need_grads=True):
        """(loss, gradients, None) of a labelled batch: the embedding, normalised, into the loss."""
        e, cache = self.model_.forward(Xb)
        z, norms = normalize_rows(e) if self.normalize_ else (e, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a P×K batch always has two classes
            value, dz, d_proxies = self._batch_loss(z, yb)
        if not need_grads:
            return value
        if self.normalize_:  # back through z = e/‖e‖: remove the radial part, divide by the norm
            dz = (dz - z * np.einsum("ij,ij->i", dz, z)[:, None]) / norms
        grads, _ = self.model_.backward(cache, dz.astype(e.dtype, copy=False), input_grad=False)
        if self.alpha:
            for name in self.model_.weight_names:
                grads[name] += 2 * self.alpha * self.model_.params[name]
        if d_proxies is not None:
            grads["proxies"] = d_proxies
        return value, grads, None

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Embed samples with the learned map.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            scipy.sparse X (CSR, CSC, COO, ... matrices and arrays) is not densified.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            The embedding, with rows of unit length when ``normalize_``.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> learner = MetricLearner(2, loss="triplet", max_iter=3, random_state=0).fit(X, y)
        >>> embedding = learner.transform(X[:4])
        >>> embedding.shape, np.allclose(np.linalg.norm(embedding, axis=1), 1.0)
        ((4, 2), True)
        """
        check_is_fitted(self)
        X = cast(
            np.ndarray,
            validate_data(
                self, X, dtype=[np.float64, np.float32], reset=False, accept_sparse=SPARSE_FORMATS
            ),
        )
        e = self.model_(
            X.astype(self.model_.params[next(iter(self.model_.params))].dtype, copy=False)
        )
        return normalize_rows(e)[0] if self.normalize_ else e


EmbeddingModel = MetricLearner
