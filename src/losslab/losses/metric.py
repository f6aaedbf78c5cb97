"""Metric-learning losses over a labelled batch of embeddings, as pytorch-metric-learning users know them.

Each takes ``embeddings`` (N, D) and integer ``labels`` (N,) and returns
``LossResult(value, grad)`` with the gradient with respect to the embeddings
(``arcface`` also learns one weight vector per class and returns both
gradients). "mean" averages over the anchors that have a term, "sum" adds
them, "none" returns one loss per sample (0 for a sample that is no anchor)
with the gradient of their sum; a batch without an anchor has mean 0 and a
zero gradient.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, in_output_dtype, reduce
from .ranking import _distance_matrix, _embedding_inputs


def _normalized(e):
    """(e / ‖e‖ row-wise, ‖e‖) with a floor, and the map from dL/d(unit) back to dL/de."""
    norm = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12).astype(e.dtype)
    unit = e / norm

    def back(g_unit):
        return (g_unit - unit * np.einsum("ij,ij->i", g_unit, unit)[:, None]) / norm

    return unit, back


def _masks(labels):
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~np.eye(len(labels), dtype=np.bool_)
    return same & off_diagonal, ~same


def _softmax_rows(logits, mask):
    """Row-wise softmax of ``logits`` over ``mask`` (zero elsewhere), and its log-normaliser."""
    masked = np.where(mask, logits, -np.inf)
    top = masked.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    ex = np.where(mask, np.exp(masked - top), 0.0)
    total = ex.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty row: p = 0, log-normaliser -inf
        return np.where(total > 0, ex / total, 0.0), (np.log(total) + top)[:, 0]


def _reduced(per_anchor, grad, reduction, n_anchors, dtype):
    """Reduce per-anchor losses (float64) whose summed gradient is ``grad``, in ``dtype``."""
    if isinstance(grad, tuple):
        grad = tuple(g.astype(dtype, copy=False) for g in grad)
    else:
        grad = grad.astype(dtype, copy=False)
    if reduction == "none":
        return LossResult(per_anchor.astype(dtype), grad)
    # the sum in float64 before the cast: the mean is as accurate as before for float32
    total = float(np.sum(per_anchor))
    return reduce(np.array([total]), grad, reduction, n_anchors)


@in_output_dtype
def soft_nearest_neighbour(
    embeddings: ArrayLike, labels: ArrayLike, *, temperature: float = 1.0, reduction: str = "mean"
) -> LossResult:
    r"""Soft nearest-neighbour loss: NCA's objective on a batch (Goldberger et al. 2004; Frosst et al. 2019).

    .. math::

        L = -\frac{1}{|A|}\sum_{i \in A} \log
        \frac{\sum_{j \ne i,\, y_j = y_i} e^{-\lVert e_i - e_j \rVert^2 / T}}
             {\sum_{k \ne i} e^{-\lVert e_i - e_k \rVert^2 / T}}

    over the anchors A that have a positive: the log-probability that a
    stochastic nearest neighbour of each point has its class.

    Parameters
    ----------
    embeddings : array (N, D)
    labels : int array (N,)
    temperature : float > 0
    reduction : {"mean", "sum", "none"}
        "mean" over the anchors that have a term, "none" one loss per sample.

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``embeddings``.

    Examples
    --------
    >>> e = np.array([[0.0], [0.1], [3.0]])
    >>> round(soft_nearest_neighbour(e, np.array([0, 0, 1])).value, 4)
    0.0002

    References
    ----------
    Goldberger, Roweis, Hinton, Salakhutdinov. Neighbourhood Components Analysis. NIPS 2004.
    Frosst, Papernot, Hinton. Analyzing and Improving Representations with the Soft
    Nearest Neighbor Loss. ICML 2019.
    """
    v.check_reduction(reduction)
    e, labels = _embedding_inputs(embeddings, labels, "squared_euclidean")
    temperature = v.check_scalar(temperature, "temperature", low=0, low_open=True)
    sq, back = _distance_matrix(e.astype(np.float64), "squared_euclidean")
    positive, _ = _masks(labels)
    off_diagonal = ~np.eye(len(labels), dtype=np.bool_)
    p, log_all = _softmax_rows(-sq / temperature, off_diagonal)
    q, log_pos = _softmax_rows(-sq / temperature, positive)
    anchors = positive.any(axis=1)
    per_anchor = np.where(anchors, log_all - log_pos, 0.0)
    # dL_i/dlogit_ij = p_ij - q_ij; logit = -D/T
    g_sq = -(p - q) * anchors[:, None] / temperature
    return _reduced(per_anchor, back(g_sq), reduction, anchors.sum(), e.dtype)


@in_output_dtype
def supervised_contrastive(
    embeddings: ArrayLike, labels: ArrayLike, *, temperature: float = 0.1, reduction: str = "mean"
) -> LossResult:
    r"""Supervised contrastive loss (Khosla et al., NeurIPS 2020), pytorch-metric-learning's ``SupConLoss``.

    .. math::

        L = \frac{1}{|A|}\sum_{i \in A} \frac{-1}{|P_i|}\sum_{p \in P_i}
        \log \frac{e^{s_{ip}/\tau}}{\sum_{k \ne i} e^{s_{ik}/\tau}}

    with :math:`s_{ij}` the cosine similarity (the normalisation is part of
    the gradient), :math:`P_i` the other samples of i's class and A the anchors
    with a positive; no anchor gives 0 and a zero gradient. With two views of
    each instance labelled by instance it is NT-Xent/InfoNCE (SimCLR; alias
    ``ntxent``).

    Parameters
    ----------
    embeddings : array (N, D)
    labels : int array (N,)
    temperature : float > 0
    reduction : {"mean", "sum", "none"}
        "mean" over the anchors that have a term, "none" one loss per sample.

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``embeddings``.

    Examples
    --------
    >>> e = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    >>> round(supervised_contrastive(e, np.array([0, 0, 1])).value, 4)
    0.0001

    References
    ----------
    Khosla et al. Supervised Contrastive Learning. NeurIPS 2020.
    Chen, Kornblith, Norouzi, Hinton. A Simple Framework for Contrastive Learning of
    Visual Representations (NT-Xent). ICML 2020.
    """
    v.check_reduction(reduction)
    e, labels = _embedding_inputs(embeddings, labels, "cosine")
    temperature = v.check_scalar(temperature, "temperature", low=0, low_open=True)
    unit, back = _normalized(e.astype(np.float64))
    logits = unit @ unit.T / temperature
    positive, _ = _masks(labels)
    p, log_all = _softmax_rows(logits, ~np.eye(len(labels), dtype=np.bool_))
    n_pos = positive.sum(axis=1)
    anchors = n_pos > 0
    mean_pos = np.where(positive, logits, 0.0).sum(axis=1) / np.maximum(n_pos, 1)
    per_anchor = np.where(anchors, log_all - mean_pos, 0.0)
    g_logits = (p - positive / np.maximum(n_pos, 1)[:, None]) * anchors[:, None]
    g_unit = (g_logits + g_logits.T) @ unit / temperature
    return _reduced(per_anchor, back(g_unit), reduction, anchors.sum(), e.dtype)


@in_output_dtype
def multi_similarity(
    embeddings: ArrayLike,
    labels: ArrayLike,
    *,
    alpha: float = 2.0,
    beta: float = 50.0,
    base: float = 0.5,
    reduction: str = "mean",
) -> LossResult:
    r"""Multi-similarity loss (Wang et al., CVPR 2019), pytorch-metric-learning's defaults.

    .. math::

        L = \frac{1}{N}\sum_i \Big[\frac{1}{\alpha}\log\big(1 + \sum_{p \in P_i}
        e^{-\alpha (s_{ip} - \lambda)}\big) + \frac{1}{\beta}\log\big(1 +
        \sum_{n \in N_i} e^{\beta (s_{in} - \lambda)}\big)\Big]

    with :math:`s` the cosine similarity and :math:`\lambda` = ``base``
    (without the paper's pair mining, as the loss of pytorch-metric-learning).

    Parameters
    ----------
    embeddings : array (N, D)
    labels : int array (N,)
    alpha, beta : float > 0
        The scales of the positive and negative terms.
    base : float
        The similarity offset λ.
    reduction : {"mean", "sum", "none"}
        "mean" over the anchors that have a term, "none" one loss per sample.

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``embeddings``.

    Examples
    --------
    >>> e = np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    >>> round(multi_similarity(e, np.array([0, 0, 1])).value, 4)
    0.1044

    References
    ----------
    Wang, Han, Huang, Dong, Scott. Multi-Similarity Loss with General Pair Weighting for
    Deep Metric Learning. CVPR 2019.
    """
    v.check_reduction(reduction)
    e, labels = _embedding_inputs(embeddings, labels, "cosine")
    alpha = v.check_scalar(alpha, "alpha", low=0, low_open=True)
    beta = v.check_scalar(beta, "beta", low=0, low_open=True)
    base = v.check_scalar(base, "base")
    unit, back = _normalized(e.astype(np.float64))
    s = unit @ unit.T
    positive, negative = _masks(labels)
    g_s = np.zeros_like(s)
    per_anchor = np.zeros(len(labels))
    for mask, scale in ((positive, -alpha), (negative, beta)):
        # (1/|scale|) log(1 + Σ exp(scale (s - λ))): a softmax with a zero logit added
        logits = np.where(mask, scale * (s - base), -np.inf)
        top = np.maximum(logits.max(axis=1, keepdims=True), 0.0)
        ex = np.where(mask, np.exp(logits - top), 0.0)
        total = ex.sum(axis=1, keepdims=True) + np.exp(-top)
        per_anchor += (np.log(total) + top)[:, 0] / abs(scale)
        g_s += np.sign(scale) * ex / total
    g_unit = (g_s + g_s.T) @ unit
    return _reduced(per_anchor, back(g_unit), reduction, len(labels), e.dtype)


@in_output_dtype
def arcface(
    embeddings: ArrayLike,
    labels: ArrayLike,
    weights: ArrayLike,
    *,
    margin: float = 0.5,
    scale: float = 64.0,
    reduction: str = "mean",
) -> LossResult:
    r"""Additive angular margin loss, ArcFace (Deng et al., CVPR 2019).

    .. math::

        L = \frac{1}{N}\sum_i -\log \frac{e^{s \cos(\theta_{i y_i} + m)}}
        {e^{s \cos(\theta_{i y_i} + m)} + \sum_{c \ne y_i} e^{s \cos \theta_{ic}}}

    with :math:`\cos \theta_{ic}` the cosine between embedding i and the
    weight vector of class c (``weights`` (C, D)), clipped to
    :math:`[-1 + 10^{-7}, 1 - 10^{-7}]` before the arccosine (a clipped
    cosine passes no gradient). ``labels`` index the rows of ``weights``.
    Returns ``LossResult(value, (grad_embeddings, grad_weights))``.

    Parameters
    ----------
    embeddings : array (N, D)
    labels : int array (N,)
    weights : array (C, D)
        One weight vector (proxy) per class.
    margin : float
        The additive angular margin m.
    scale : float > 0
    reduction : {"mean", "sum", "none"}
        "mean" over the anchors that have a term, "none" one loss per sample.

    Returns
    -------
    LossResult
        ``LossResult(value, (grad_embeddings, grad_weights))``.

    Examples
    --------
    >>> w = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(arcface(np.array([[1.0, 0.0]]), np.array([0]), w, scale=4.0).value, 4)
    0.0295

    References
    ----------
    Deng, Guo, Xue, Zafeiriou. ArcFace: Additive Angular Margin Loss for Deep Face
    Recognition. CVPR 2019.
    """
    v.check_reduction(reduction)
    e, labels = _embedding_inputs(embeddings, labels, "cosine")
    w = v.as_values(weights, "weights", e.dtype)
    if w.ndim != 2 or w.shape[1] != e.shape[1] or labels.max(initial=0) >= len(w):
        raise ValueError(
            f"weights: expected shape (C, {e.shape[1]}) with C above every label, got {w.shape}"
        )
    margin = v.check_scalar(margin, "margin")
    scale = v.check_scalar(scale, "scale", low=0, low_open=True)
    unit, back_e = _normalized(e.astype(np.float64))
    w_unit, back_w = _normalized(w.astype(np.float64))
    raw = unit @ w_unit.T
    eps = 1e-7
    cos = np.clip(raw, -1 + eps, 1 - eps)
    rows = np.arange(len(labels))
    theta = np.arccos(cos[rows, labels])
    logits = scale * cos
    logits[rows, labels] = scale * np.cos(theta + margin)
    p, log_z = _softmax_rows(logits, np.ones_like(logits, dtype=bool))
    per_sample = log_z - logits[rows, labels]
    g_logits = p
    g_logits[rows, labels] -= 1
    g_cos = scale * g_logits
    # d cos(θ + m)/d cos θ = sin(θ + m) / sin θ
    g_cos[rows, labels] *= np.sin(theta + margin) / np.sin(theta)
    g_cos *= (raw >= -1 + eps) & (raw <= 1 - eps)
    grads = (back_e(g_cos @ w_unit), back_w(g_cos.T @ unit))
    return _reduced(per_sample, grads, reduction, len(labels), e.dtype)
