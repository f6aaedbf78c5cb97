r"""Information measures over the last axis: entropy, cross-entropy, KL divergence.

``base=None`` gives nats, ``base=2`` bits, ``base=10`` the decimal logs in which
seed 001 writes its softmax loss (0.452). :math:`0 \log 0 = 0` throughout.

The first argument ``p`` is the true distribution, the second ``q`` the model's:
:math:`H(p, q) = -\sum_x p(x)\log q(x)`. With ``return_grad=True`` each function
returns ``LossResult(value, grad)``; the gradient is with respect to ``q`` for
cross-entropy and KL (what a model changes), with respect to ``p`` for entropy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .losses import LossResult
from .losses import validation as v


def entropy(
    p: ArrayLike, *, base: float | None = None, return_grad: bool = False
) -> float | np.ndarray | LossResult:
    r"""Entropy :math:`H(p) = -\sum_x p(x) \log p(x)`; gradient :math:`-(\log p + 1)`.

    .. math::

        H(p) = -\sum_x p(x) \log p(x), \qquad
        \frac{\partial H}{\partial p(x)} = -(\log p(x) + 1)

    with :math:`0 \log 0 = 0`: the average surprise of an outcome drawn from p, the
    fewest nats (or bits) per outcome any code can reach.

    Parameters
    ----------
    p : array of shape (..., K)
        Probabilities over the last axis (non-negative; used as given, not
        renormalised).
    base : float, optional
        The logarithm's base: None for nats, 2 for bits, 10 for decimal digits
        (any number > 0 other than 1).
    return_grad : bool, default False
        Also return the gradient, as ``LossResult(value, grad)``.

    Returns
    -------
    float, ndarray of shape (...) or LossResult
        One entropy per distribution (a float for a single one); with
        ``return_grad``, ``(value, grad)`` with grad of p's shape.

    Raises
    ------
    ValueError
        If a probability is negative, an input is a scalar, shapes differ, or
        ``base`` is not > 0 or is 1.

    Examples
    --------
    A box of all-blue balls has entropy 0; a 50/50 box has the most (1 bit):

    >>> entropy([1, 0]), entropy([0.5, 0.5], base=2)
    (0.0, 1.0)

    Seed 001's bag of marbles, (0.8, 0.1, 0.1), in nats:

    >>> round(entropy([0.8, 0.1, 0.1]), 3)
    0.639

    References
    ----------
    Shannon, "A Mathematical Theory of Communication", Bell System Technical
    Journal 27 (1948); Cover & Thomas, *Elements of Information Theory* (2006), ch. 2.
    """
    p = _distribution(p, "p")
    log_p = _log(p)
    # 0.0 - sum, not -sum: a certain outcome has entropy 0.0, and -(0.0) would print -0.0
    value = 0.0 - np.sum(_xlogy_safe(p, log_p), axis=-1)
    grad = -(log_p + 1)
    return _finish(value, grad, base, return_grad)


def cross_entropy(
    p: ArrayLike, q: ArrayLike, *, base: float | None = None, return_grad: bool = False
) -> float | np.ndarray | LossResult:
    r"""Cross-entropy :math:`H(p, q) = -\sum_x p(x) \log q(x)`; gradient :math:`-p/q`.

    .. math::

        H(p, q) = -\sum_x p(x) \log q(x) = H(p) + D(p \,\|\, q), \qquad
        \frac{\partial H}{\partial q(x)} = -\frac{p(x)}{q(x)}

    The average surprise of outcomes drawn from p under the model q; with a
    one-hot p it is the softmax loss :math:`-\log q_y`. An outcome with
    :math:`p(x) > 0 = q(x)` gives infinity (the model called it impossible).

    Parameters
    ----------
    p : array of shape (..., K)
        The true distribution over the last axis (non-negative).
    q : array of p's shape
        The model's distribution (non-negative).
    base : float, optional
        The logarithm's base: None for nats, 2 for bits, 10 for decimal digits
        (any number > 0 other than 1).
    return_grad : bool, default False
        Also return the gradient, as ``LossResult(value, grad)``.

    Returns
    -------
    float, ndarray of shape (...) or LossResult
        One cross-entropy per distribution; with ``return_grad``, the gradient with
        respect to q (0 where p = 0).

    Raises
    ------
    ValueError
        If a probability is negative, an input is a scalar, shapes differ, or
        ``base`` is not > 0 or is 1.

    See Also
    --------
    losslab.losses.categorical_cross_entropy : the loss on a batch of predictions.

    Examples
    --------
    Seed 001's bag: true (0.8, 0.1, 0.1), guess (0.2, 0.2, 0.6):

    >>> round(cross_entropy([0.8, 0.1, 0.1], [0.2, 0.2, 0.6]), 3)
    1.5
    >>> result = cross_entropy([0.8, 0.1, 0.1], [0.2, 0.2, 0.6], base=2, return_grad=True)
    >>> round(result.value, 3)
    2.163

    References
    ----------
    Cover & Thomas, *Elements of Information Theory* (2006), ch. 2; CS231n,
    "Linear classification": https://cs231n.github.io/linear-classify/
    """
    p, q = _pair(p, q)
    log_q = _log(q)
    value = 0.0 - np.sum(_xlogy_safe(p, log_q), axis=-1)  # 0.0, not -0.0, when q = p is certain
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.where(p > 0, -p / q, 0)
    return _finish(value, grad, base, return_grad)


def kl_divergence(
    p: ArrayLike, q: ArrayLike, *, base: float | None = None, return_grad: bool = False
) -> float | np.ndarray | LossResult:
    r"""Kullback-Leibler divergence :math:`D(p\|q) = H(p, q) - H(p) \ge 0`; gradient :math:`-p/q`.

    .. math::

        D(p \,\|\, q) = \sum_x p(x) \log \frac{p(x)}{q(x)}, \qquad
        \frac{\partial D}{\partial q(x)} = -\frac{p(x)}{q(x)}

    The extra nats (or bits) an outcome costs when coded for q while drawn from p;
    0 exactly when q = p, and not symmetric. Its gradient in q is cross-entropy's,
    since H(p) does not depend on q.

    Parameters
    ----------
    p : array of shape (..., K)
        The true distribution over the last axis (non-negative).
    q : array of p's shape
        The model's distribution (non-negative).
    base : float, optional
        The logarithm's base: None for nats, 2 for bits, 10 for decimal digits
        (any number > 0 other than 1).
    return_grad : bool, default False
        Also return the gradient, as ``LossResult(value, grad)``.

    Returns
    -------
    float, ndarray of shape (...) or LossResult
        One divergence per distribution; with ``return_grad``, the gradient with
        respect to q (0 where p = 0).

    Raises
    ------
    ValueError
        If a probability is negative, an input is a scalar, shapes differ, or
        ``base`` is not > 0 or is 1.

    See Also
    --------
    losslab.losses.kl_divergence : the distillation loss on scores.

    Examples
    --------
    >>> round(kl_divergence([0.8, 0.1, 0.1], [0.2, 0.2, 0.6]), 3)
    0.861
    >>> p, q = [0.8, 0.1, 0.1], [0.2, 0.2, 0.6]
    >>> bool(np.isclose(kl_divergence(p, q), cross_entropy(p, q) - entropy(p)))
    True

    References
    ----------
    Kullback & Leibler, "On Information and Sufficiency", Annals of Mathematical
    Statistics 22 (1951).
    """
    p, q = _pair(p, q)
    with np.errstate(invalid="ignore"):  # p = q = 0: -inf - (-inf), and 0 log 0 = 0 drops it
        log_ratio = _log(p) - _log(q)
    value = np.sum(_xlogy_safe(p, log_ratio), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.where(p > 0, -p / q, 0)
    return _finish(value, grad, base, return_grad)


def _distribution(x: ArrayLike, name: str) -> np.ndarray:
    a = v.as_output(x, name)
    if a.ndim == 0:
        raise ValueError(f"{name}: expected an array over outcomes, got a scalar instead")
    v.check_range(a, name, 0, np.inf)
    return a


def _pair(p: ArrayLike, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p, q = _distribution(p, "p"), _distribution(q, "q")
    v.check_same_shape(p, q, "p", "q")
    return p, q.astype(p.dtype, copy=False)


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _xlogy_safe(x, log_y):
    """x * log_y with 0 * log 0 taken as 0 (and 0 * log of anything as 0)."""
    return x * np.where(x > 0, log_y, 0)


def _finish(value, grad, base, return_grad):
    if base is not None:
        base = v.check_scalar(base, "base", low=0, low_open=True)
        if base == 1:
            raise ValueError(f"base: expected a number > 0 other than 1, got {base} instead")
        scale = 1 / np.log(base)
        value, grad = value * scale, grad * scale
    value = float(value) if np.ndim(value) == 0 else value
    return LossResult(value, grad) if return_grad else value
