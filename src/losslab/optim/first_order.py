"""First-order optimizers and learning-rate schedules.

Every optimizer shares one interface (optax's init/update split, with explicit
state, but updating in place for speed):

    opt = Adam()
    state = opt.init(params)                 # a dict of arrays and counters
    opt.update(params, grads, state, lr)     # params[k] -= ... in place

``params`` and ``grads`` are dicts of arrays with the same keys. ``lr`` is the
learning rate for this step (from a schedule); it is a call argument so one
optimizer object serves any schedule.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import fast
from ..fast import flat_views as flat_views  # public here too: optim.flat_views


class _Optimizer:
    """What every optimizer shares: a repr that shows its settings, e.g. ``Adam(beta1=0.9, ...)``."""

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


class SGD(_Optimizer):
    r"""Plain (stochastic) gradient descent: θ ← θ - α ∇J(θ). GD when the batch is the data.

    .. math::

        θ ← θ - α \, g

    with g the gradient of the mini-batch's loss (of the whole data's for GD,
    which is another name of this class). It has no settings and no state.

    Examples
    --------
    >>> import numpy as np
    >>> opt = SGD()
    >>> params = {"w": np.array([1.0, -2.0])}
    >>> state = opt.init(params)
    >>> opt.update(params, {"w": np.array([0.5, -1.0])}, state, lr=0.1)
    >>> params["w"].tolist()
    [0.95, -1.9]

    References
    ----------
    H. Robbins and S. Monro, "A Stochastic Approximation Method", Annals of
    Mathematical Statistics, 1951. ``torch.optim.SGD`` with no momentum.
    """

    def init(self, params: dict[str, np.ndarray]) -> dict[str, Any]:
        """The optimizer's state for ``params``: none, an empty dict."""
        return {}

    def update(
        self,
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        state: dict[str, Any],
        lr: float,
    ) -> None:
        """One step in place: ``params[k] -= lr * grads[k]`` for every key of ``grads``."""
        for k, g in grads.items():
            params[k] -= lr * g


GD = SGD


class Momentum(_Optimizer):
    r"""Heavy-ball momentum: v ← μ v - α g; θ ← θ + v.

    .. math::

        v ← μ v - α g, \qquad θ ← θ + v

    The velocity v starts at zero and accumulates past gradients, so steps grow
    along directions where the gradient keeps its sign and cancel where it
    oscillates. (torch's ``SGD(momentum=μ)`` accumulates g and multiplies by α
    afterwards: the same steps at a constant learning rate.)

    Parameters
    ----------
    momentum : float
        μ in [0, 1): the fraction of the velocity kept at each step.

    Examples
    --------
    >>> import numpy as np
    >>> opt = Momentum(momentum=0.9)
    >>> params = {"w": np.array([1.0])}
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...     opt.update(params, {"w": np.array([0.5])}, state, lr=0.1)
    >>> round(float(params["w"][0]), 6), round(float(state["v"]["w"][0]), 6)
    (0.855, -0.095)

    References
    ----------
    B. T. Polyak, "Some methods of speeding up the convergence of iteration
    methods", USSR Computational Mathematics and Mathematical Physics, 1964;
    CS231n notes, "Neural Networks Part 3: Parameter updates".
    """

    def __init__(self, momentum: float = 0.9) -> None:
        self.momentum = momentum

    def init(self, params: dict[str, np.ndarray]) -> dict[str, Any]:
        """The optimizer's state for ``params``: a zero velocity ``{"v": {key: array}}``."""
        return {"v": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(
        self,
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        state: dict[str, Any],
        lr: float,
    ) -> None:
        """One step in place: the velocities ``state["v"]``, then ``params``."""
        for k, g in grads.items():
            v = state["v"][k]
            v *= self.momentum
            v -= lr * g
            params[k] += v


class Nesterov(Momentum):
    r"""Nesterov momentum in the CS231n form: θ ← θ - μ v_prev + (1 + μ) v.

    .. math::

        v_{prev} = v, \qquad v ← μ v - α g, \qquad θ ← θ - μ v_{prev} + (1 + μ) v

    The "look-ahead" gradient rewritten so that θ holds the looked-ahead point
    and the gradient is taken where the parameters are.

    Parameters
    ----------
    momentum : float
        μ in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> opt = Nesterov(momentum=0.9)
    >>> params = {"w": np.array([1.0])}
    >>> state = opt.init(params)
    >>> opt.update(params, {"w": np.array([0.5])}, state, lr=0.1)
    >>> round(float(params["w"][0]), 6)  # 1 + 1.9 · (-0.05)
    0.905

    References
    ----------
    Y. Nesterov, "A method of solving a convex programming problem with
    convergence rate O(1/k²)", 1983; I. Sutskever et al., "On the importance of
    initialization and momentum in deep learning", ICML 2013; CS231n notes,
    "Neural Networks Part 3".
    """

    def update(
        self,
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        state: dict[str, Any],
        lr: float,
    ) -> None:
        """One step in place: the velocities ``state["v"]``, then ``params``."""
        mu = self.momentum
        for k, g in grads.items():
            v = state["v"][k]
            params[k] -= mu * v
            v *= mu
            v -= lr * g
            params[k] += (1 + mu) * v


class AdaGrad(_Optimizer):
    r"""Per-coordinate rates shrinking with the accumulated squared gradient.

    .. math::

        c ← c + g^2, \qquad θ ← θ - α \, g / (\sqrt{c} + ε)

    element-wise, with the cache c starting at zero.

    Parameters
    ----------
    eps : float
        ε > 0, keeps the division finite while c is zero.

    Examples
    --------
    >>> import numpy as np
    >>> opt = AdaGrad()
    >>> params = {"w": np.array([1.0, -2.0])}
    >>> state = opt.init(params)
    >>> opt.update(params, {"w": np.array([0.5, -4.0])}, state, lr=0.1)
    >>> params["w"].round(6).tolist()  # the first step has size α in every coordinate
    [0.9, -1.9]

    References
    ----------
    J. Duchi, E. Hazan and Y. Singer, "Adaptive Subgradient Methods for Online
    Learning and Stochastic Optimization", JMLR 2011.
    """

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = eps

    def init(self, params: dict[str, np.ndarray]) -> dict[str, Any]:
        """The optimizer's state for ``params``: a zero cache ``{"cache": {key: array}}``."""
        return {"cache": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(
        self,
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        state: dict[str, Any],
        lr: float,
    ) -> None:
        """One step in place: the caches ``state["cache"]``, then ``params``."""
        for k, g in grads.items():
            cache = state["cache"][k]
            cache += g * g
            params[k] -= lr * g / (np.sqrt(cache) + self.eps)


class RMSProp(_Optimizer):
    r"""AdaGrad with a leaky (exponential moving) average of squared gradients.

    .. math::

        c ← ρ c + (1 - ρ) g^2, \qquad θ ← θ - α \, g / (\sqrt{c} + ε)

    element-wise, with c starting at zero: torch's ``RMSprop(alpha=ρ)``.

    Parameters
    ----------
    decay : float
        ρ in [0, 1): the fraction of the cache kept at each step.
    eps : float
        ε > 0, added to the root of the cache.

    Examples
    --------
    >>> import numpy as np
    >>> opt = RMSProp(decay=0.99)
    >>> params = {"w": np.array([1.0])}
    >>> state = opt.init(params)
    >>> opt.update(params, {"w": np.array([0.5])}, state, lr=0.01)
    >>> round(float(params["w"][0]), 6)  # the first step is α / sqrt(1 - ρ)
    0.9

    References
    ----------
    T. Tieleman and G. Hinton, "Lecture 6.5 - RMSProp", COURSERA: Neural
    Networks for Machine Learning, 2012.
    https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html
    """

    def __init__(self, decay: float = 0.99, eps: float = 1e-8) -> None:
        self.decay, self.eps = decay, eps

    def init(self, params: dict[str, np.ndarray]) -> dict[str, Any]:
        """The optimizer's state for ``params``: a zero cache ``{"cache": {key: array}}``."""
        return {"cache": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(
        self,
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        state: dict[str, Any],
        lr: float,
    ) -> None:
        """One step in place: the caches ``state["cache"]``, then ``params``."""
        for k, g in grads.items():
            cache = state["cache"][k]
            cache *= self.decay
            cache += (1 - self.decay) * g * g
            params[k] -= lr * g / (np.sqrt(cache) + self.eps)


class Adam(_Optimizer):
    r"""Adam (Kingma & Ba 2015): momentum plus RMSProp, with bias correction.

    .. math::

        m ← β_1 m + (1 - β_1) g, \qquad v ← β_2 v + (1 - β_2) g^2, \\
        θ ← θ - α \, \hat m / (\sqrt{\hat v} + ε), \qquad
        \hat m = m / (1 - β_1^t), \quad \hat v = v / (1 - β_2^t)

    element-wise, with t the step count; step for step ``torch.optim.Adam``.
    The update of each array is :func:`adam_step` (fused when numba is there).

    Parameters
    ----------
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float
        Added to the root of the second moment, > 0.

    Examples
    --------
    >>> import numpy as np
    >>> opt = Adam()
    >>> params = {"w": np.array([1.0, -2.0])}
    >>> state = opt.init(params)
    >>> opt.update(params, {"w": np.array([0.5, -40.0])}, state, lr=0.1)
    >>> params["w"].round(6).tolist()  # the first step is α · sign(g), whatever |g|
    [0.9, -1.9]
    >>> state["t"]
    1

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
    """

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def init(self, params: dict[str, np.ndarray]) -> dict[str, Any]:
        """The optimizer's state for ``params``: the step count ``t`` and zero moments ``m``, ``v``."""
        return {
            "t": 0,
            "m": {k: np.zeros_like(p) for k, p in params.items()},
            "v": {k: np.zeros_like(p) for k, p in params.items()},
        }

    def update(
        self,
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        state: dict[str, Any],
        lr: float,
    ) -> None:
        """One step in place: ``state`` (``t``, ``m``, ``v``), then ``params``."""
        state["t"] += 1
        t = state["t"]
        step = lr / (1 - self.beta1**t)  # bias correction of m, folded into the step
        root_bc2 = math.sqrt(1 - self.beta2**t)  # and of v, folded into its square root
        for k, g in grads.items():
            m, v = state["m"][k], state["v"][k]
            adam_step(params[k], g, m, v, self.beta1, self.beta2, step, root_bc2, self.eps)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019), step for step ``torch.optim.AdamW``.

    Each step first shrinks every parameter, then takes Adam's step:

    .. math::

        θ ← θ (1 - α λ), \qquad θ ← θ - α \, \hat m_t / (\sqrt{\hat v_t} + ε)

    The decay does not pass through the moments (as an L2 penalty in the
    loss would, where Adam's scaling weakens it for coordinates with large
    gradients), and it scales with the step's learning rate α, so a schedule
    shapes it too. As in torch, it applies to every array it is given,
    biases included.

    Parameters
    ----------
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float
        Added to the root of the second moment, > 0.
    weight_decay : float
        λ ≥ 0, the fraction of each parameter removed per unit learning rate.

    Examples
    --------
    >>> import numpy as np
    >>> from losslab import optim
    >>> opt = optim.AdamW(weight_decay=0.1)
    >>> opt
    AdamW(beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.1)
    >>> params = {"w": np.array([1.0, -2.0])}
    >>> state = opt.init(params)
    >>> opt.update(params, {"w": np.array([0.5, 0.5])}, state, lr=0.1)
    >>> params["w"].round(6).tolist()
    [0.89, -2.08]

    References
    ----------
    I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
    """

    def __init__(
        self,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(beta1, beta2, eps)
        if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
            raise ValueError(
                f"weight_decay: expected a non-negative number, got {weight_decay!r} instead"
            )
        self.weight_decay = weight_decay

    def update(
        self,
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        state: dict[str, Any],
        lr: float,
    ) -> None:
        """One step in place: every parameter shrinks by ``1 - lr · weight_decay``, then Adam's step."""
        shrink = 1 - lr * self.weight_decay
        for k in grads:
            params[k] *= shrink  # decoupled: before the step, outside the moments
        super().update(params, grads, state, lr)


def clip_grad_norm(grads: dict, max_norm: float) -> float:
    r"""Scale ``grads`` in place so that their global norm is at most ``max_norm``; return the norm before.

    The semantics of ``torch.nn.utils.clip_grad_norm_``: with the total norm
    over every array together,

    .. math::

        \lVert g \rVert = \sqrt{\textstyle\sum_k \lVert g_k \rVert_2^2}, \qquad
        g_k ← g_k \cdot \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}
        \quad\text{when that factor is below 1.}

    The direction of the whole step is kept; only its length is bounded.
    A non-finite norm (a NaN or infinite gradient) leaves ``grads`` as they
    are and is returned, so the caller sees it: scaling by 0 or NaN would hide it.

    Parameters
    ----------
    grads : dict of str to np.ndarray
        Gradients of any shapes, updated in place.
    max_norm : float
        The largest global norm let through, > 0.

    Returns
    -------
    float
        The global norm before clipping (float64, whatever the gradients' dtype).

    Examples
    --------
    >>> import numpy as np
    >>> grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}
    >>> clip_grad_norm(grads, 1.0)
    5.0
    >>> round(float(np.sqrt(sum((g**2).sum() for g in grads.values()))), 6)
    1.0

    References
    ----------
    R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent
    neural networks", ICML 2013.
    https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html
    """
    # squares summed in float64: a float32 sum overflows long before the norm does
    total = math.sqrt(sum(float(np.square(g, dtype=np.float64).sum()) for g in grads.values()))
    factor = max_norm / (total + 1e-6)
    if math.isfinite(total) and factor < 1.0:  # a NaN or inf norm is left for the caller to see
        for g in grads.values():
            g *= factor
    return total


def check_max_norm(max_norm: float | None, name: str = "clip_grad_norm") -> float | None:
    """``max_norm`` as a float if it is None or a positive finite number, else a one-line ValueError.

    Parameters
    ----------
    max_norm : float or None
        The gradient-clipping threshold to check; None means no clipping.
    name : str
        The argument's name in the error message.

    Returns
    -------
    float or None
        ``max_norm`` as a float, or None.

    Raises
    ------
    ValueError
        If ``max_norm`` is not None and not a positive finite number (a bool included).

    Examples
    --------
    >>> check_max_norm(2), check_max_norm(None)
    (2.0, None)
    >>> check_max_norm(-1.0)
    Traceback (most recent call last):
    ...
    ValueError: clip_grad_norm: expected None or a positive number, got -1.0 instead

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html
    """
    if max_norm is None:
        return None
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.floating)):
        raise ValueError(f"{name}: expected None or a positive number, got {max_norm!r} instead")
    if not (math.isfinite(max_norm) and max_norm > 0):
        raise ValueError(f"{name}: expected None or a positive number, got {max_norm!r} instead")
    return float(max_norm)


@fast.fused_by("adam")
def adam_step(
    param: np.ndarray,
    grad: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    beta1: float,
    beta2: float,
    step: float,
    root_bc2: float,
    eps: float,
) -> None:
    r"""One array's Adam update, in place: the moments m and v, then the parameter.

    ``step`` is the learning rate over 1 - β₁ᵗ and ``root_bc2`` is sqrt(1 - β₂ᵗ):

    .. math::

        m ← β_1 m + (1 - β_1) g, \qquad v ← β_2 v + (1 - β_2) g^2, \qquad
        θ ← θ - \text{step} \cdot m / (\sqrt{v} / \text{root\_bc2} + ε)

    which is Algorithm 1 of the paper with both bias corrections folded in. The
    fused kernel of ``fast`` (registered as "adam") replaces it when numba is there.

    Parameters
    ----------
    param : np.ndarray
        The parameter array θ, any shape, updated in place.
    grad : np.ndarray
        Its gradient g, of ``param``'s shape.
    m, v : np.ndarray
        The first and second moment estimates, of ``param``'s shape, updated in place.
    beta1, beta2 : float
        The moments' decay rates.
    step : float
        α / (1 - β₁ᵗ).
    root_bc2 : float
        sqrt(1 - β₂ᵗ).
    eps : float
        ε, added to the corrected root of v.

    Returns
    -------
    None
        Everything is updated in place.

    Examples
    --------
    >>> import numpy as np
    >>> param, m, v = np.array([1.0]), np.zeros(1), np.zeros(1)
    >>> t, lr = 1, 0.1
    >>> adam_step(param, np.array([0.5]), m, v, 0.9, 0.999,
    ...           lr / (1 - 0.9**t), np.sqrt(1 - 0.999**t), 1e-8)
    >>> round(float(param[0]), 6), round(float(m[0]), 6), round(float(v[0]), 6)
    (0.9, 0.05, 0.00025)

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
    Algorithm 1.
    """
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad * grad
    # θ -= α m̂ / (sqrt(v̂) + ε), exactly as Algorithm 1 of the paper (and torch)
    param -= step * m / (np.sqrt(v) / root_bc2 + eps)


OPTIMIZERS = {
    "sgd": SGD,
    "gd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def get(name: Any, **options: Any) -> Any:
    """An optimizer by name: a key of ``OPTIMIZERS`` ("sgd", ..., "adam", "adamw").

    ``options`` go to its constructor; an optimizer object is returned as it is.

    Parameters
    ----------
    name : str or optimizer
        "sgd", "gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam" or
        "adamw" (any case); anything that is not a string is returned unchanged.
    **options
        Keyword arguments of the optimizer's constructor (e.g. ``beta1``).

    Returns
    -------
    optimizer
        An object with ``init(params)`` and ``update(params, grads, state, lr)``.

    Raises
    ------
    ValueError
        If ``name`` is a string that names no optimizer.

    Examples
    --------
    >>> get("Adam", beta1=0.8)
    Adam(beta1=0.8, beta2=0.999, eps=1e-08)
    >>> opt = Momentum(0.5)
    >>> get(opt) is opt
    True

    References
    ----------
    CS231n notes, "Neural Networks Part 3: Parameter updates"; S. Ruder, "An overview of
    gradient descent optimization algorithms", 2016.
    """
    if not isinstance(name, str):
        return name
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(
            f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {name!r} instead"
        )
    return OPTIMIZERS[key](**options)
