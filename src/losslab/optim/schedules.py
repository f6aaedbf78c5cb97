"""Learning-rate schedules: callables from the (fractional) epoch to the learning rate.

The training loop asks ``schedule(epoch)`` before every step, with the epoch
counted in fractions (step k of an epoch of n steps is at ``epoch + k / n``).
A schedule that follows the training instead of the clock (``plateau``) also
has ``observe(loss)``, which the loop calls with the monitored loss after each
epoch, and ``reset()``, after which the loop replays a resumed run's history.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class _Schedule:
    """A schedule function with a readable repr, e.g. ``step_decay(lr=0.1, step_size=10, gamma=0.5)``."""

    def __init__(self, name: str, rule: Callable[[float], float], **settings: float) -> None:
        self.name, self.rule, self.settings = name, rule, settings

    def __call__(self, epoch: float) -> float:
        return self.rule(epoch)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"{self.name}({settings})"


def constant(lr: float) -> Callable[[float], float]:
    """The same rate every step.

    Parameters
    ----------
    lr : float
        The learning rate.

    Returns
    -------
    callable
        ``schedule(epoch) -> lr`` for any fractional epoch.

    Examples
    --------
    >>> sched = constant(0.1)
    >>> sched
    constant(lr=0.1)
    >>> [sched(e) for e in (0, 2.5, 100)]
    [0.1, 0.1, 0.1]

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ConstantLR.html (a factor
    of 1).
    """
    return _Schedule("constant", lambda epoch: lr, lr=lr)


def step_decay(lr: float, step_size: float = 10, gamma: float = 0.5) -> Callable[[float], float]:
    r"""Multiply by ``gamma`` every ``step_size`` epochs.

    .. math::

        α(e) = α_0 \, γ^{\lfloor e / s \rfloor}

    with e the fractional epoch and s = ``step_size``: torch's ``StepLR`` with the
    step counted in epochs.

    Parameters
    ----------
    lr : float
        The starting learning rate :math:`α_0`.
    step_size : float
        Epochs between two reductions.
    gamma : float
        What each reduction multiplies the rate by.

    Returns
    -------
    callable
        ``schedule(epoch) -> float``.

    Examples
    --------
    >>> sched = step_decay(0.1, step_size=2)
    >>> [round(sched(e), 4) for e in (0, 1.5, 2, 4)]
    [0.1, 0.1, 0.05, 0.025]

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.StepLR.html
    """
    rule = lambda epoch: lr * gamma ** math.floor(epoch / step_size)  # noqa: E731
    return _Schedule("step_decay", rule, lr=lr, step_size=step_size, gamma=gamma)


def exponential(lr: float, gamma: float = 0.95) -> Callable[[float], float]:
    r"""Multiply by ``gamma`` every epoch, smoothly.

    .. math::

        α(e) = α_0 \, γ^{e}

    with e the fractional epoch: torch's ``ExponentialLR``, interpolated between epochs.

    Parameters
    ----------
    lr : float
        The starting learning rate :math:`α_0`.
    gamma : float
        The factor per epoch.

    Returns
    -------
    callable
        ``schedule(epoch) -> float``.

    Examples
    --------
    >>> sched = exponential(0.1, gamma=0.5)
    >>> [round(sched(e), 4) for e in (0, 1, 2.5)]
    [0.1, 0.05, 0.0177]

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ExponentialLR.html
    """
    return _Schedule("exponential", lambda epoch: lr * gamma**epoch, lr=lr, gamma=gamma)


def cosine(lr: float, total_epochs: float, min_lr: float = 0.0) -> Callable[[float], float]:
    r"""Half a cosine from ``lr`` down to ``min_lr`` over ``total_epochs``.

    .. math::

        α(e) = α_{min} + \tfrac12 (α_0 - α_{min})
            \left(1 + \cos\left(π \min(e / E, 1)\right)\right)

    with e the fractional epoch and E = ``total_epochs``; after the run the rate
    stays at ``min_lr``. It is torch's ``CosineAnnealingLR`` with ``T_max = E``.

    Parameters
    ----------
    lr : float
        The starting learning rate :math:`α_0`.
    total_epochs : float
        Length of the decay E, in epochs.
    min_lr : float
        The rate at the end, :math:`α_{min}`.

    Returns
    -------
    callable
        ``schedule(epoch) -> float``.

    Examples
    --------
    >>> sched = cosine(0.1, total_epochs=10)
    >>> [round(sched(e), 4) for e in (0, 5, 10, 12)]
    [0.1, 0.05, 0.0, 0.0]

    References
    ----------
    I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.
    """
    rule = lambda epoch: (  # noqa: E731
        min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(epoch / total_epochs, 1.0)))
    )
    return _Schedule("cosine", rule, lr=lr, total_epochs=total_epochs, min_lr=min_lr)


def inverse_scaling(lr: float, power_t: float = 0.5) -> Callable[[float], float]:
    r"""scikit-learn's ``invscaling``: lr / (1 + epoch)^power_t.

    .. math::

        α(e) = \frac{α_0}{(1 + e)^{p}}

    scikit-learn's ``SGDClassifier(learning_rate="invscaling")`` counts t in
    samples seen; here e is the fractional epoch.

    Parameters
    ----------
    lr : float
        The starting learning rate :math:`α_0`.
    power_t : float
        The exponent p.

    Returns
    -------
    callable
        ``schedule(epoch) -> float``.

    Examples
    --------
    >>> sched = inverse_scaling(0.1)
    >>> [round(sched(e), 4) for e in (0, 3)]
    [0.1, 0.05]

    References
    ----------
    https://scikit-learn.org/stable/modules/sgd.html (learning rate "invscaling").
    """
    rule = lambda epoch: lr / (1 + epoch) ** power_t  # noqa: E731
    return _Schedule("inverse_scaling", rule, lr=lr, power_t=power_t)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}: expected a positive number, got {value!r} instead")


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name}: expected a non-negative number, got {value!r} instead")


@dataclass(frozen=True)
class WarmupCosine:
    r"""Linear warm-up from ``start_factor · lr`` to ``lr``, then half a cosine down to ``min_lr``.

    With e the fractional epoch, w = ``warmup_epochs`` and E = ``total_epochs``:

    .. math::

        α(e) = \begin{cases}
            α_0 \left(s + (1 - s) \, e / w\right) & e < w \\
            α_{min} + \tfrac12 (α_0 - α_{min})
                \left(1 + \cos\left(π \, \min\left(\frac{e - w}{E - w}, 1\right)\right)\right)
                & e \ge w
        \end{cases}

    Step for step this is torch's ``SequentialLR`` of ``LinearLR(start_factor=s,
    total_iters=W)`` and ``CosineAnnealingLR(T_max=T - W, eta_min=min_lr)``
    with W and T counted in steps (w and E times the steps per epoch). Warm-up
    keeps the first steps small while Adam's moment estimates and the scale of
    the scores settle; the default starts from 0 as the transformers library
    does (torch's ``LinearLR`` needs s > 0). Build it with :func:`warmup_cosine`,
    which checks the arguments.

    Attributes
    ----------
    lr : float
        The peak rate :math:`α_0`, reached at the end of the warm-up.
    total_epochs : float
        Length of the whole run E, in epochs.
    warmup_epochs : float
        Length of the warm-up w, shorter than the run.
    start_factor : float
        The first rate as a fraction s of ``lr``.
    min_lr : float
        The rate at the end of the run, :math:`α_{min}`.

    Examples
    --------
    >>> sched = WarmupCosine(lr=0.1, total_epochs=10, warmup_epochs=2)
    >>> [round(sched(e), 4) for e in (0, 1, 2, 6, 10)]
    [0.0, 0.05, 0.1, 0.05, 0.0]

    References
    ----------
    P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017
    (warm-up); I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.
    """

    lr: float
    total_epochs: float
    warmup_epochs: float
    start_factor: float = 0.0
    min_lr: float = 0.0

    def __call__(self, epoch: float) -> float:
        if epoch < self.warmup_epochs:
            s = self.start_factor
            return self.lr * (s + (1 - s) * epoch / self.warmup_epochs)
        done = min((epoch - self.warmup_epochs) / (self.total_epochs - self.warmup_epochs), 1.0)
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * done))


def warmup_cosine(
    lr: float,
    total_epochs: float,
    *,
    warmup_epochs: float | None = None,
    start_factor: float = 0.0,
    min_lr: float = 0.0,
) -> WarmupCosine:
    """Linear warm-up, then cosine decay: the schedule of :class:`WarmupCosine`.

    Parameters
    ----------
    lr : float
        The peak learning rate, reached at the end of the warm-up.
    total_epochs : float
        Length of the whole run, in epochs (``fit`` passes its ``epochs``).
    warmup_epochs : float, optional
        Length of the warm-up, shorter than the run; default a tenth of it.
    start_factor : float
        The first step's learning rate as a fraction of ``lr``, in [0, 1].
    min_lr : float
        The learning rate at the end of the run, ≥ 0.

    Returns
    -------
    WarmupCosine
        A callable of the fractional epoch.

    Examples
    --------
    >>> sched = warmup_cosine(0.1, 10, warmup_epochs=2)
    >>> [round(sched(e), 4) for e in (0, 1, 2, 6, 10)]
    [0.0, 0.05, 0.1, 0.05, 0.0]

    References
    ----------
    P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017 (warm-up);
    I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
    """
    _check_positive("lr", lr)
    _check_positive("total_epochs", total_epochs)
    warmup_epochs = 0.1 * total_epochs if warmup_epochs is None else warmup_epochs
    _check_positive("warmup_epochs", warmup_epochs)
    if warmup_epochs >= total_epochs:
        raise ValueError(
            f"warmup_epochs: expected fewer than the run's {total_epochs} epochs, "
            f"got {warmup_epochs} instead"
        )
    if isinstance(start_factor, bool) or not 0 <= start_factor <= 1:
        raise ValueError(f"start_factor: expected a number in [0, 1], got {start_factor!r} instead")
    _check_non_negative("min_lr", min_lr)
    return WarmupCosine(lr, total_epochs, warmup_epochs, start_factor, min_lr)


ANNEALING = {
    "cos": lambda start, end, pct: end + (start - end) / 2 * (math.cos(math.pi * pct) + 1),
    "linear": lambda start, end, pct: (end - start) * pct + start,
}


@dataclass(frozen=True)
class OneCycle:
    """torch's ``OneCycleLR``: up from ``lr / div_factor`` to ``lr``, then down to ``lr / div_factor / final_div_factor``.

    The rise takes ``pct_start`` of the run's T steps (it ends at step
    ``pct_start · T - 1``), the fall the rest (it ends at step T - 1), each by
    ``anneal`` ("cos" or "linear") between its end points; after the run the
    final rate stays. Steps are ``epoch · steps_per_epoch``. Momentum is not
    cycled (torch's ``cycle_momentum=False``): losslab's optimizers keep theirs.
    Build it with :func:`onecycle`, which checks the arguments.

    Attributes
    ----------
    lr : float
        The peak rate (torch's ``max_lr``).
    total_epochs : float
        Length of the run, in epochs.
    steps_per_epoch : int
        Optimizer steps per epoch; T = ``total_epochs · steps_per_epoch``.
    pct_start : float
        Part of the run spent rising, in (0, 1).
    div_factor : float
        The first rate is ``lr / div_factor``.
    final_div_factor : float
        The last rate is the first over ``final_div_factor``.
    anneal : {"cos", "linear"}
        How each phase moves between its end points (a key of ``ANNEALING``).

    Examples
    --------
    >>> sched = OneCycle(lr=0.1, total_epochs=10)
    >>> [f"{sched(e):.3g}" for e in (0, 2, 9)]  # start, peak, end
    ['0.004', '0.1', '4e-07']

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html
    """

    lr: float
    total_epochs: float
    steps_per_epoch: int = 1
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    anneal: str = "cos"

    def __call__(self, epoch: float) -> float:
        total = self.total_epochs * self.steps_per_epoch
        step = min(epoch * self.steps_per_epoch, total - 1)
        initial = self.lr / self.div_factor
        peak_step = self.pct_start * total - 1
        if step <= peak_step:
            start, end, first, last = initial, self.lr, 0.0, peak_step
        else:
            start, end, first, last = self.lr, initial / self.final_div_factor, peak_step, total - 1
        pct = (step - first) / (last - first) if last != first else 1.0
        return ANNEALING[self.anneal](start, end, pct)


def onecycle(
    lr: float,
    total_epochs: float,
    *,
    steps_per_epoch: int = 1,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal: str = "cos",
) -> OneCycle:
    """The one-cycle policy with torch's ``OneCycleLR`` defaults: the schedule of :class:`OneCycle`.

    Parameters
    ----------
    lr : float
        The peak learning rate (torch's ``max_lr``).
    total_epochs : float
        Length of the run, in epochs (``fit`` passes its ``epochs``).
    steps_per_epoch : int
        Optimizer steps per epoch (``fit`` passes its number of mini-batches).
    pct_start : float
        Part of the run spent rising, in (0, 1).
    div_factor : float
        The first rate is ``lr / div_factor``, > 0.
    final_div_factor : float
        The last rate is the first over ``final_div_factor``, > 0.
    anneal : {"cos", "linear"}
        How each phase moves between its end points.

    Returns
    -------
    OneCycle
        A callable of the fractional epoch.

    Examples
    --------
    >>> sched = onecycle(0.1, 10)
    >>> [f"{sched(e):.3g}" for e in (0, 2, 9)]  # start, peak at 30% of the run, end
    ['0.004', '0.1', '4e-07']

    References
    ----------
    L. N. Smith and N. Topin, "Super-Convergence: Very Fast Training of Neural
    Networks Using Large Learning Rates", 2018.
    https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html
    """
    _check_positive("lr", lr)
    _check_positive("total_epochs", total_epochs)
    if (
        isinstance(steps_per_epoch, bool)
        or not isinstance(steps_per_epoch, int)
        or steps_per_epoch < 1
    ):
        raise ValueError(
            f"steps_per_epoch: expected a positive integer, got {steps_per_epoch!r} instead"
        )
    if isinstance(pct_start, bool) or not 0 < pct_start < 1:
        raise ValueError(f"pct_start: expected a number in (0, 1), got {pct_start!r} instead")
    _check_positive("div_factor", div_factor)
    _check_positive("final_div_factor", final_div_factor)
    if anneal not in ANNEALING:
        raise ValueError(f"anneal: expected 'cos' or 'linear', got {anneal!r} instead")
    return OneCycle(
        lr, total_epochs, steps_per_epoch, pct_start, div_factor, final_div_factor, anneal
    )


@dataclass
class Plateau:
    """torch's ``ReduceLROnPlateau`` (mode "min", threshold mode "rel"): a lower rate when the loss stalls.

    After each epoch the loop calls :meth:`observe` with the monitored loss.
    A loss below ``best · (1 - threshold)`` is an improvement; after more than
    ``patience`` epochs in a row without one, the rate is multiplied by
    ``factor`` (not below ``min_lr``; a change smaller than ``eps`` is not
    made), and the next ``cooldown`` epochs count no epoch as bad. Build it
    with :func:`plateau`, which checks the arguments.

    Attributes
    ----------
    lr : float
        The starting rate.
    factor : float
        What a reduction multiplies the rate by.
    patience : int
        Epochs without improvement tolerated before a reduction.
    threshold : float
        The relative improvement that counts.
    cooldown : int
        Epochs after a reduction during which none counts as bad.
    min_lr : float
        The floor of the rate.
    eps : float
        A reduction smaller than this is not made.
    current : float
        The rate now (what a call returns).
    best : float
        The best loss seen so far (inf before the first).
    bad_epochs : int
        Epochs in a row without improvement.
    cooldown_left : int
        Epochs of cooldown still to run.

    Examples
    --------
    >>> sched = Plateau(lr=0.1, patience=0)
    >>> for loss in (1.0, 1.0):  # the second epoch does not improve
    ...     sched.observe(loss)
    >>> round(sched(2), 4), sched.best
    (0.01, 1.0)
    >>> sched.reset()
    >>> sched.current, sched.best
    (0.1, inf)

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html
    """

    lr: float
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    cooldown: int = 0
    min_lr: float = 0.0
    eps: float = 1e-8
    # where the run stands: the current rate, the best loss, and the two counters
    current: float = field(init=False, repr=False)
    best: float = field(init=False, repr=False)
    bad_epochs: int = field(init=False, repr=False)
    cooldown_left: int = field(init=False, repr=False)

    def __post_init__(self):
        self.reset()

    def __call__(self, epoch: float) -> float:
        return self.current

    def reset(self) -> None:
        """Back to the start of a run: the base rate, no best loss yet."""
        self.current, self.best, self.bad_epochs, self.cooldown_left = self.lr, math.inf, 0, 0

    def observe(self, loss: float) -> None:
        """Take one epoch's monitored loss (a NaN counts as no improvement, as in torch)."""
        if loss < self.best * (1 - self.threshold):
            self.best, self.bad_epochs = loss, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            reduced = max(self.current * self.factor, self.min_lr)
            if self.current - reduced > self.eps:
                self.current = reduced
            self.cooldown_left, self.bad_epochs = self.cooldown, 0


def plateau(
    lr: float,
    *,
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> Plateau:
    """Reduce the learning rate on a plateau of the monitored loss: the schedule of :class:`Plateau`.

    ``fit`` monitors the validation loss when it has a validation set, else
    the epoch's training loss. The defaults are torch's.

    Parameters
    ----------
    lr : float
        The starting learning rate.
    factor : float
        What a reduction multiplies the rate by, in (0, 1).
    patience : int
        Epochs without improvement tolerated before a reduction, ≥ 0.
    threshold : float
        The relative improvement that counts, ≥ 0.
    cooldown : int
        Epochs after a reduction during which none counts as bad, ≥ 0.
    min_lr : float
        The rate never goes below this, ≥ 0.
    eps : float
        A reduction smaller than this is not made, ≥ 0.

    Returns
    -------
    Plateau
        A callable of the epoch with ``observe(loss)`` and ``reset()``.

    Examples
    --------
    >>> sched = plateau(0.1, patience=1)
    >>> for loss in (1.0, 0.5, 0.5, 0.5):
    ...     sched.observe(loss)
    >>> round(sched(4), 6)
    0.01

    References
    ----------
    https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html
    """
    _check_positive("lr", lr)
    if isinstance(factor, bool) or not 0 < factor < 1:
        raise ValueError(f"factor: expected a number in (0, 1), got {factor!r} instead")
    for name, value in (("patience", patience), ("cooldown", cooldown)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name}: expected a non-negative integer, got {value!r} instead")
    for name, number in (("threshold", threshold), ("min_lr", min_lr), ("eps", eps)):
        _check_non_negative(name, number)
    return Plateau(lr, factor, patience, threshold, cooldown, min_lr, eps)


SCHEDULES: dict[str, Callable[..., Callable[[float], float]]] = {
    "constant": constant,
    "step": step_decay,
    "exponential": exponential,
    "cosine": cosine,
    "invscaling": inverse_scaling,
    "inverse_scaling": inverse_scaling,
    "warmup_cosine": warmup_cosine,
    "onecycle": onecycle,
    "plateau": plateau,
}

# the schedules that need the length of the run, and the one that needs the steps per epoch
RUN_LENGTH = ("cosine", "warmup_cosine", "onecycle")


def schedule(
    name: str | Callable[[float], float],
    lr: float,
    *,
    epochs: float | None = None,
    steps_per_epoch: int | None = None,
    **options: Any,
) -> Callable[[float], float]:
    """A schedule by name (a key of ``SCHEDULES``); a callable is returned as it is.

    ``epochs`` is the run's length, passed to the schedules of ``RUN_LENGTH``
    (1 if not given); ``steps_per_epoch`` is passed to ``"onecycle"``.
    ``options`` go to the schedule's function.

    Parameters
    ----------
    name : str or callable
        A key of ``SCHEDULES`` (any case): "constant", "step", "exponential",
        "cosine", "invscaling", "inverse_scaling", "warmup_cosine", "onecycle",
        "plateau"; or a callable of the epoch, returned unchanged.
    lr : float
        The base learning rate, the schedule's first argument.
    epochs : float, optional
        The run's length, for "cosine", "warmup_cosine" and "onecycle".
    steps_per_epoch : int, optional
        Optimizer steps per epoch, for "onecycle".
    **options
        Further keyword arguments of the schedule's function (e.g. ``gamma``).

    Returns
    -------
    callable
        ``schedule(epoch) -> float``.

    Raises
    ------
    ValueError
        If ``name`` is not a known schedule.

    Examples
    --------
    >>> sched = schedule("cosine", 0.1, epochs=10)
    >>> sched
    cosine(lr=0.1, total_epochs=10, min_lr=0.0)
    >>> round(sched(5), 4)
    0.05
    >>> schedule("step", 0.1, step_size=1, gamma=0.1)(2) < 0.0011
    True

    References
    ----------
    torch's learning-rate schedulers:
    https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate
    """
    if callable(name):
        return name
    key = str(name).lower()
    if key not in SCHEDULES:
        raise ValueError(f"schedule: expected one of {', '.join(SCHEDULES)}, got {name!r} instead")
    if key in RUN_LENGTH:
        options.setdefault("total_epochs", epochs or 1)
    if key == "onecycle" and steps_per_epoch is not None:
        options.setdefault("steps_per_epoch", steps_per_epoch)
    return SCHEDULES[key](lr, **options)
