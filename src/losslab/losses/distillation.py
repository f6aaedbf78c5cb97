"""Knowledge distillation: the student's softened softmax against the teacher's probabilities."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import validation as v
from ._result import LossResult, in_output_dtype, reduce
from .classification import log_softmax


@in_output_dtype
def kl_divergence(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    temperature: float = 1.0,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> LossResult:
    r"""Distillation loss: KL divergence from the teacher's q to the student's softmax at temperature T.

    .. math::

        l_i = T^2 \sum_c q_{ic}\big(\log q_{ic} - \log p_{ic}\big), \quad
        p_i = \operatorname{softmax}(s_i / T), \qquad
        \frac{\partial l_i}{\partial s_{ic}} = T\Big(p_{ic}\sum_k q_{ik} - q_{ic}\Big)

    Terms with :math:`q_{ic} = 0` are 0. The factor :math:`T^2` keeps the
    gradient's scale independent of T (Hinton et al.). "mean" averages over
    samples (torch's ``reduction="batchmean"``, by the total ``sample_weight``
    with one), so at T = 1 the loss is
    ``kl_div(log_softmax(s), q, reduction="batchmean")``.

    Parameters
    ----------
    logits : array (N, C)
        The student's scores s.
    target : float array (N, C) of probabilities q (the teacher's softmax at
        temperature T), or int array (N,) of labels (one-hot q: then T² × cross-entropy)
    temperature : float > 0
    sample_weight : array (N,), optional
    reduction : {"mean", "sum", "none"}
        "none" returns one loss per sample.

    Returns
    -------
    LossResult
        The loss and its gradient with respect to ``logits``.

    Examples
    --------
    >>> s = np.array([[2.0, 0.0]])
    >>> round(kl_divergence(s, np.array([[0.5, 0.5]]), temperature=2.0).value, 4)
    0.4805

    References
    ----------
    Hinton, Vinyals, Dean. Distilling the Knowledge in a Neural Network. 2015.
    """
    v.check_reduction(reduction)
    s = v.as_output(logits, "logits", ndim=2)
    n = len(s)
    t = v.check_scalar(temperature, "temperature", low=0, low_open=True)
    q = _teacher(target, s)
    logp = log_softmax(s / s.dtype.type(t))
    # 0 log 0 = 0, and a class the teacher rules out adds 0 even where log p = -inf
    terms = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1)) - logp), 0)
    losses = (t * t) * terms.sum(axis=1)
    grad = np.exp(logp) * q.sum(axis=1, keepdims=True) - q
    grad *= s.dtype.type(t)
    sw = v.as_sample_weight(sample_weight, n, s.dtype)
    if sw is None:
        return reduce(losses.astype(s.dtype, copy=False), grad, reduction)
    losses, grad = losses * sw, grad * sw[:, None]
    return reduce(losses.astype(s.dtype, copy=False), grad, reduction, sw.sum(dtype=np.float64))


def _teacher(target, s):
    """The teacher's probabilities (N, C): as given, or one-hot from integer labels."""
    n, c = s.shape
    if v.is_integer_array(target):
        q = np.zeros_like(s)
        q[np.arange(n), v.as_labels(target, n, c)] = 1
        return q
    q = v.as_values(target, "target", s.dtype)
    if q.shape != s.shape:
        raise ValueError(
            f"target: expected probabilities of shape {s.shape} (or labels of shape ({n},)), "
            f"got shape {q.shape} instead"
        )
    v.check_range(q, "target", 0, 1)
    return q
