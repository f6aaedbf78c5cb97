"""Ranking and metric-learning losses: only the order of distances matters.

``margin_ranking`` and ``triplet_margin`` take explicit pairs/triplets and return
one gradient per input. ``batch_triplet`` and ``contrastive`` form every
pair/triplet inside a labelled batch of embeddings and return the gradient with
respect to the embeddings.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, in_output_dtype, reduce

MININGS = ("all", "hard", "semihard")
DISTANCES = ("euclidean", "squared_euclidean", "cosine")


@in_output_dtype
def margin_ranking(
    x1: ArrayLike,
    x2: ArrayLike,
    target: ArrayLike,
    *,
    margin: float = 0.0,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Margin ranking loss, torch's ``margin_ranking_loss``.

    .. math::

        l = \max(0, -y(x_1 - x_2) + \Delta), \qquad
        \frac{\partial l}{\partial x_1} = -y\,[l > 0], \quad
        \frac{\partial l}{\partial x_2} = y\,[l > 0]

    ``target`` y = +1 means x1 should rank higher than x2, -1 the opposite.

    Parameters
    ----------
    x1, x2 : arrays of the same shape, e.g. (N,)
        The two scores of each pair; the gradients are with respect to both.
    target : array of x1's shape, values in {-1, +1}
        Which of the two should rank higher.
    margin : float, default 0.0
        The margin :math:`\Delta` by which the right one must win.
    sample_weight : array of shape (N,), optional
    reduction : {"mean", "sum", "none"}
        "mean" divides by the total weight (the number of pairs without weights).

    Returns
    -------
    LossResult
        ``(value, (grad_x1, grad_x2))``, each gradient of its input's shape and dtype.

    Examples
    --------
    >>> margin_ranking(np.array([1.0]), np.array([2.0]), np.array([1.0])).value
    1.0

    References
    ----------
    torch.nn.functional.margin_ranking_loss; Herbrich, Graepel & Obermayer, "Large
    Margin Rank Boundaries for Ordinal Regression" (2000).
    """
    v.check_reduction(reduction)
    a = v.as_output(x1, "x1")
    b = v.as_values(x2, "x2", a.dtype)
    y = v.as_values(target, "target", a.dtype)
    v.check_same_shape(a, b, "x1", "x2")
    v.check_same_shape(a, y, "x1", "target")
    if not np.all(np.abs(y) == 1):
        raise ValueError("target: expected values in {-1, +1}, got other values instead")
    margin = v.check_scalar(margin, "margin")
    w = v.element_weight(a, None, sample_weight)  # a scalar has no sample axis: a clear error
    losses = np.maximum(margin - y * (a - b), 0)
    g1 = -y * np.sign(losses)  # 1, 0, or NaN where an input is NaN
    if w is None:
        return reduce(losses, (g1, -g1), reduction)
    return reduce(losses * w, (g1 * w, -g1 * w), reduction, w.sum(dtype=np.float64))


@in_output_dtype
def triplet_margin(
    anchor: ArrayLike,
    positive: ArrayLike,
    negative: ArrayLike,
    *,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Triplet margin loss, torch's ``triplet_margin_loss``.

    .. math::

        l_i = \max(d(a_i, p_i) - d(a_i, n_i) + \Delta, 0), \qquad
        d(x, y) = \lVert x - y + \epsilon \rVert_p

    (the ``eps`` inside the norm is torch's ``pairwise_distance``). With ``swap``
    the negative distance is :math:`\min(d(a, n), d(p, n))` (Balntas et al. 2016).
    Gradient of the distance: :math:`\partial d / \partial x = \operatorname{sign}(u)|u|^{p-1} / d^{p-1}`
    with :math:`u = x - y + \epsilon`.

    Parameters
    ----------
    anchor, positive, negative : arrays of shape (N, D)
        The embeddings of each triplet; the gradients are with respect to all three.
    margin : float, default 1.0
        :math:`\Delta`: how much nearer the positive must be than the negative.
    p : float, default 2
        The norm's degree (:math:`p \ge 1`).
    eps : float, default 1e-6
        Added to each difference before the norm, as torch does.
    swap : bool, default False
        Use the nearer of :math:`d(a, n)` and :math:`d(p, n)` as the negative distance.
    sample_weight : array of shape (N,), optional
    reduction : {"mean", "sum", "none"}
        "mean" divides by the total weight (N without weights).

    Returns
    -------
    LossResult
        ``(value, (g_anchor, g_positive, g_negative))``, each of shape (N, D).

    Examples
    --------
    >>> a, pos, neg = np.zeros((1, 2)), np.array([[3.0, 4.0]]), np.array([[1.0, 0.0]])
    >>> round(triplet_margin(a, pos, neg, eps=0.0).value, 6)
    5.0

    References
    ----------
    Schroff, Kalenichenko & Philbin, "FaceNet", CVPR (2015); Balntas, Riba, Ponsa &
    Mikolajczyk, "Learning local feature descriptors with triplets and shallow
    convolutional neural networks", BMVC (2016); torch.nn.functional.triplet_margin_loss.
    """
    v.check_reduction(reduction)
    a = v.as_output(anchor, "anchor", ndim=2)
    pos = v.as_values(positive, "positive", a.dtype)
    neg = v.as_values(negative, "negative", a.dtype)
    v.check_same_shape(a, pos, "anchor", "positive")
    v.check_same_shape(a, neg, "anchor", "negative")
    margin = v.check_scalar(margin, "margin")
    p = v.check_scalar(p, "p", low=1)
    eps = v.check_scalar(eps, "eps", low=0)
    d_ap, g_ap = _p_distance(a, pos, p, eps)
    d_an, g_an = _p_distance(a, neg, p, eps)
    ga, gp, gn = g_ap.copy(), -g_ap, np.zeros_like(a)
    if swap:
        d_pn, g_pn = _p_distance(pos, neg, p, eps)
        use_pn = d_pn < d_an
        d_neg = np.where(use_pn, d_pn, d_an)
        ga -= np.where(use_pn[:, None], 0, g_an)
        gp -= np.where(use_pn[:, None], g_pn, 0)
        gn += np.where(use_pn[:, None], g_pn, g_an)
    else:
        d_neg = d_an
        ga -= g_an
        gn += g_an
    losses = np.maximum(d_ap - d_neg + margin, 0)
    active = np.sign(losses)[:, None]  # 1, 0, or NaN where an input is NaN
    grads = tuple(g * active for g in (ga, gp, gn))
    if sample_weight is None:
        return reduce(losses, grads, reduction)
    w = v.as_sample_weight(sample_weight, len(a), a.dtype)
    grads = tuple(g * w[:, None] for g in grads)
    return reduce(losses * w, grads, reduction, w.sum(dtype=np.float64))


def _p_distance(x, y, p, eps):
    """Row-wise ||x - y + eps||_p and its gradient with respect to x."""
    u = x - y + eps
    if p == 2:
        d = np.sqrt(np.einsum("ij,ij->i", u, u))
        with np.errstate(invalid="ignore", divide="ignore"):
            g = np.where(d[:, None] > 0, u / d[:, None], 0)
        return d, g.astype(x.dtype, copy=False)
    au = np.abs(u)
    d = (au**p).sum(axis=1) ** (1 / p)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.sign(u) * au ** (p - 1) / d[:, None] ** (p - 1)
    g = np.where(d[:, None] > 0, g, 0)
    return d, g.astype(x.dtype, copy=False)


def pairwise_distances(embeddings: ArrayLike, distance: str = "euclidean") -> np.ndarray:
    """The (N, N) matrix of distances between the rows of ``embeddings``.

    Parameters
    ----------
    embeddings : array of shape (N, D)
    distance : {"euclidean", "squared_euclidean", "cosine"}
        "cosine" is 1 minus the cosine similarity.

    Returns
    -------
    ndarray of shape (N, N)
        Symmetric, with a zero diagonal for the Euclidean distances.

    Examples
    --------
    >>> pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]])).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    >>> pairwise_distances(np.array([[1.0, 0.0], [0.0, 2.0]]), "cosine").tolist()
    [[0.0, 1.0], [1.0, 0.0]]

    References
    ----------
    scikit-learn's ``sklearn.metrics.pairwise_distances`` (the same values).
    """
    d, _ = _distance_matrix(embeddings, distance)
    return d


def _distance_matrix(e, distance):
    """Distances D (N, N) and a function mapping dL/dD to dL/de."""
    if distance == "cosine":
        norm = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12).astype(e.dtype)
        unit = e / norm
        d = 1 - unit @ unit.T

        def back(g_d):
            g_unit = -(g_d + g_d.T) @ unit
            radial = np.einsum("ij,ij->i", g_unit, unit)[:, None]
            return (g_unit - unit * radial) / norm

        return d, back
    sq_norm = np.einsum("ij,ij->i", e, e)
    sq = np.maximum(sq_norm[:, None] + sq_norm[None, :] - 2 * (e @ e.T), 0)
    np.fill_diagonal(sq, 0)

    def back_squared(g_sq):
        g_sym = g_sq + g_sq.T
        return 2 * (g_sym.sum(axis=1)[:, None] * e - g_sym @ e)

    if distance == "squared_euclidean":
        return sq, back_squared
    d = np.sqrt(sq)

    def back_euclidean(g_d):
        # d sqrt(s)/ds = 1/(2 sqrt(s)); a zero distance gets the zero subgradient
        with np.errstate(divide="ignore", invalid="ignore"):
            g_sq = np.where(d > 0, g_d / (2 * d), 0)
        return back_squared(g_sq.astype(e.dtype, copy=False))

    return d, back_euclidean


def mine_triplets(labels: np.ndarray, dist: np.ndarray, mining: str = "all") -> np.ndarray:
    """Indices (T, 3) of the (anchor, positive, negative) triplets a mining rule selects.

    - "all": every (a, p, n) with a != p, label[p] == label[a], label[n] != label[a].
    - "hard": for each anchor with a positive and a negative, its farthest positive
      and its nearest negative (batch-hard, Hermans et al. 2017).
    - "semihard": for each positive pair (a, p), the nearest negative farther than
      p, i.e. ``d(a, n) > d(a, p)``; if there is none, the farthest negative
      (FaceNet, Schroff et al. 2015, as in TensorFlow Addons).

    Parameters
    ----------
    labels : int array of shape (N,)
    dist : array of shape (N, N)
        The distances between the batch's samples (:func:`pairwise_distances`).
    mining : {"all", "hard", "semihard"}

    Returns
    -------
    ndarray of shape (T, 3)
        One row (anchor, positive, negative) of sample indices per selected triplet.

    Examples
    --------
    >>> labels = np.array([0, 0, 1])
    >>> dist = pairwise_distances(np.array([[0.0], [1.0], [3.0]]))
    >>> mine_triplets(labels, dist).tolist()
    [[0, 1, 2], [1, 0, 2]]

    References
    ----------
    Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person
    Re-Identification" (2017); Schroff, Kalenichenko & Philbin, "FaceNet", CVPR (2015).
    """
    if len(labels) == 0:  # an empty batch has no triplet (argmax of nothing would raise)
        return np.empty((0, 3), dtype=np.intp)
    same = labels[:, None] == labels[None, :]
    positive = same & ~np.eye(len(labels), dtype=bool)
    negative = ~same
    if mining == "hard":
        anchors = np.flatnonzero(positive.any(1) & negative.any(1))
        far_pos = np.where(positive, dist, -np.inf)[anchors].argmax(1)
        near_neg = np.where(negative, dist, np.inf)[anchors].argmin(1)
        return np.stack([anchors, far_pos, near_neg], axis=1)
    a_idx, p_idx = np.nonzero(positive & negative.any(1)[:, None])
    if mining == "all":
        n_mask = negative[a_idx]
        rep = n_mask.sum(1)
        n_idx = np.nonzero(n_mask)[1]
        return np.stack([np.repeat(a_idx, rep), np.repeat(p_idx, rep), n_idx], axis=1)
    d_an = dist[a_idx]
    is_neg = negative[a_idx]
    outside = np.where(is_neg & (d_an > dist[a_idx, p_idx][:, None]), d_an, np.inf)
    farthest = np.where(is_neg, d_an, -np.inf).argmax(1)
    chosen = np.where(np.isfinite(outside).any(1), outside.argmin(1), farthest)
    return np.stack([a_idx, p_idx, chosen], axis=1)


@in_output_dtype
def batch_triplet(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    margin: float = 0.2,
    mining: str = "all",
    distance: str = "euclidean",
    reduction: str = "mean",
) -> LossResult:
    r"""Triplet loss over the triplets mined inside a labelled batch.

    .. math::

        L = \frac{1}{T}\sum_{(a,p,n)} \max(0, D_{ap} - D_{an} + \Delta)

    over the T triplets selected by ``mining`` (see :func:`mine_triplets`), with
    ``distance`` one of "euclidean", "squared_euclidean", "cosine" (1 - cosine
    similarity). "none" returns one loss per mined triplet, and ``grad`` is then
    the gradient of their sum (a triplet moves three rows). A batch with no
    valid triplet has loss 0 and a zero gradient; a single-class batch warns.

    Parameters
    ----------
    embeddings : array of shape (N, D)
        The batch's embeddings; the gradient is with respect to them.
    labels : int array of shape (N,)
    margin : float, default 0.2
        :math:`\Delta`.
    mining : {"all", "hard", "semihard"}
    distance : {"euclidean", "squared_euclidean", "cosine"}
    reduction : {"mean", "sum", "none"}
        "mean" divides by the number of mined triplets T.

    Returns
    -------
    LossResult
        ``(value, grad)`` with ``grad`` of shape (N, D); for "none" the value has shape (T,).

    Examples
    --------
    >>> e = np.array([[0.0, 0.0], [0.0, 1.0], [0.5, 0.0]])
    >>> batch_triplet(e, np.array([0, 0, 1]), margin=1.0, reduction="none").value.round(3).tolist()
    [1.5, 0.882]

    References
    ----------
    Schroff, Kalenichenko & Philbin, "FaceNet: A Unified Embedding for Face Recognition
    and Clustering", CVPR (2015); Hermans, Beyer & Leibe (2017).
    """
    v.check_reduction(reduction)
    e, labels = _embedding_inputs(embeddings, labels, distance)
    if mining not in MININGS:
        raise ValueError(f"mining: expected one of {MININGS}, got {mining!r} instead")
    margin = v.check_scalar(margin, "margin")
    dist, back = _distance_matrix(e, distance)
    t = mine_triplets(labels, dist, mining)
    a, p, n = t.T
    losses = np.maximum(dist[a, p] - dist[a, n] + margin, 0).astype(e.dtype)
    active = np.sign(losses)  # 1, 0, or NaN where an embedding is NaN
    g_d = np.zeros_like(dist)
    np.add.at(g_d, (a, p), active)
    np.add.at(g_d, (a, n), -active)
    return _pairwise_result(losses, g_d, back, reduction)


@in_output_dtype
def contrastive(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    pos_margin: float = 0.0,
    neg_margin: float = 1.0,
    distance: str = "euclidean",
    reduction: str = "mean",
) -> LossResult:
    r"""Contrastive (pairwise) loss over every pair i < j of a labelled batch.

    .. math::

        L = \frac{1}{P}\sum_{i<j} \begin{cases} \max(0, D_{ij} - m_+) & y_i = y_j \\
        \max(0, m_- - D_{ij}) & y_i \ne y_j \end{cases}

    Positives are pulled within ``pos_margin``, negatives pushed beyond
    ``neg_margin`` (Hadsell, Chopra, LeCun 2006, in the unsquared form of
    pytorch-metric-learning). "none" returns one loss per pair (row-major over
    i < j) and the gradient of their sum.

    Parameters
    ----------
    embeddings : array of shape (N, D)
        The batch's embeddings; the gradient is with respect to them.
    labels : int array of shape (N,)
    pos_margin : float, default 0.0
        :math:`m_+`: same-class pairs closer than this cost nothing.
    neg_margin : float, default 1.0
        :math:`m_-`: other-class pairs farther than this cost nothing.
    distance : {"euclidean", "squared_euclidean", "cosine"}
    reduction : {"mean", "sum", "none"}
        "mean" divides by the number of pairs P = N(N - 1)/2.

    Returns
    -------
    LossResult
        ``(value, grad)`` with ``grad`` of shape (N, D); for "none" the value has shape (P,).

    Examples
    --------
    >>> e = np.array([[0.0, 0.0], [0.0, 0.5], [3.0, 0.0]])
    >>> contrastive(e, np.array([0, 1, 1]), neg_margin=1.0, reduction="none").value.round(3).tolist()
    [0.5, 0.0, 3.041]

    References
    ----------
    Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an Invariant
    Mapping", CVPR (2006); pytorch-metric-learning's ``ContrastiveLoss``.
    """
    v.check_reduction(reduction)
    e, labels = _embedding_inputs(embeddings, labels, distance)
    pos_margin = v.check_scalar(pos_margin, "pos_margin")
    neg_margin = v.check_scalar(neg_margin, "neg_margin")
    dist, back = _distance_matrix(e, distance)
    i, j = np.triu_indices(len(labels), k=1)
    same = labels[i] == labels[j]
    d = dist[i, j]
    losses = np.where(same, np.maximum(d - pos_margin, 0), np.maximum(neg_margin - d, 0))
    losses = losses.astype(e.dtype)
    slope = np.where(same, 1, -1) * np.sign(losses)  # NaN stays NaN
    g_d = np.zeros_like(dist)
    g_d[i, j] = slope
    return _pairwise_result(losses, g_d, back, reduction)


def _embedding_inputs(
    embeddings: ArrayLike, labels: ArrayLike, distance: str
) -> tuple[np.ndarray, np.ndarray]:
    e = v.as_output(embeddings, "embeddings", ndim=2)
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iub":
        raise TypeError(f"labels: expected integer labels, got dtype {labels.dtype} instead")
    if labels.shape != (len(e),):
        raise ValueError(f"labels: expected shape ({len(e)},), got shape {labels.shape} instead")
    if distance not in DISTANCES:
        raise ValueError(f"distance: expected one of {DISTANCES}, got {distance!r} instead")
    if len(labels) > 1 and np.all(labels == labels[0]):
        warnings.warn(
            "labels: the batch holds a single class, so it has no negatives and the loss is 0",
            stacklevel=3,
        )
    return e, labels


def _pairwise_result(losses, g_dist, back, reduction):
    """Reduce per-triplet/per-pair losses; grad is that of the reduced value (or the sum)."""
    grad = back(g_dist).astype(g_dist.dtype, copy=False)
    if reduction == "none":
        return LossResult(losses, grad)
    return reduce(losses, grad, reduction)
