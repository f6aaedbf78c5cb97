"""The training doctor: plain-language diagnoses of a training run, each with its evidence.

Each rule reads numbers a run already records (the loss of every step, the
training and validation loss of every epoch, the learning rate) and returns a
:class:`Diagnosis`, or None when the run looks healthy in that respect:

- the initial loss far from its value at zero scores (ln C, C - 1, ...): labels or initialisation;
- the loss rising or oscillating: the learning rate is too high (with the step it happened);
- the loss flat: the learning rate is too low;
- the validation loss far above the training loss, or rising while it falls: overfitting;
- probabilities passed where a loss expects raw scores (every row in [0, 1] summing to 1).

Each diagnosis is a warning category (a subclass of :class:`DoctorWarning`),
so users filter them as usual: ``warnings.simplefilter("ignore", OverfittingWarning)``.
:class:`TrainingDoctor` is a ``fit`` callback that issues them while training;
:func:`diagnose` reads a finished run's :class:`~losslab.training.state.History`.
The rules live here, in the training layer, so the loop's callbacks can use them;
``losslab doctor RUN_DIR`` (``losslab.diagnostics.doctor``) reads a run directory.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .. import losses

# the loss functions warn of probabilities themselves, so the categories live beside them
from ..losses.validation import DoctorWarning, ProbabilitiesAsScoresWarning, probability_rows

if TYPE_CHECKING:
    from ..models import Model
    from .state import History

__all__ = [
    "Diagnosis",
    "DoctorWarning",
    "InitialLossWarning",
    "LearningRateTooHighWarning",
    "LearningRateTooLowWarning",
    "OverfittingWarning",
    "ProbabilitiesAsScoresWarning",
    "TrainingDoctor",
    "check_scores",
    "diagnose",
]


class InitialLossWarning(DoctorWarning):
    """The first loss is far from its value at zero scores: wrong labels or large initial weights.

    Issued by :func:`initial_loss_rule`. Like every :class:`DoctorWarning` it is a
    ``UserWarning``, filtered as usual.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", InitialLossWarning)
    ...     initial_loss_rule(5.0, 2.303).warn()  # silenced
    >>> issubclass(InitialLossWarning, UserWarning)
    True
    """


class LearningRateTooHighWarning(DoctorWarning):
    """The training loss rose or oscillated: the steps overshoot.

    Issued by :func:`rising_rule` and :func:`oscillation_rule`.

    Examples
    --------
    >>> rising_rule([1.0, 1.2, 3.0, 5.0, 8.0]).category is LearningRateTooHighWarning
    True
    """


class LearningRateTooLowWarning(DoctorWarning):
    """The training loss barely moved: the steps are too small to make progress.

    Issued by :func:`flat_rule`.

    Examples
    --------
    >>> flat_rule([2.3, 2.3, 2.299, 2.299, 2.298]).category is LearningRateTooLowWarning
    True
    """


class OverfittingWarning(DoctorWarning):
    """The validation loss is far above the training loss, or rose while it fell.

    Issued by :func:`overfitting_rule`.

    Examples
    --------
    >>> overfitting_rule([0.9, 0.5, 0.2, 0.1], [1.0, 0.8, 0.9, 1.1]).category is OverfittingWarning
    True
    """


@dataclass(frozen=True)
class Diagnosis:
    """One finding: its warning category, a plain-language message, and the numbers behind it.

    ``str(d)`` is the message.

    Attributes
    ----------
    category : type of DoctorWarning
        What was found (:class:`OverfittingWarning`, ...); the warning :meth:`warn` issues.
    message : str
        The finding and the advice, in plain language.
    evidence : dict
        The numbers the rule read (losses, the step or epoch where it happened, ...).

    Examples
    --------
    >>> d = overfitting_rule([0.9, 0.5, 0.2, 0.1], [1.0, 0.8, 0.9, 1.1])
    >>> d.name, d.evidence["best_epoch"]
    ('OverfittingWarning', 2)
    >>> str(d).startswith("overfitting: the validation loss rose from 0.8 (epoch 2) to 1.1")
    True
    """

    category: type[DoctorWarning]
    message: str
    evidence: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The category's class name, e.g. ``"OverfittingWarning"``."""
        return self.category.__name__

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict:
        """``{"diagnosis": name, "message": ..., "evidence": {...}}``, for JSON.

        Returns
        -------
        dict
            The category's name, the message and the evidence.

        Examples
        --------
        >>> flat_rule([2.3, 2.3, 2.3]).as_dict()["diagnosis"]
        'LearningRateTooLowWarning'
        """
        return {"diagnosis": self.name, "message": self.message, "evidence": self.evidence}

    def warn(self, stacklevel: int = 3) -> None:
        """Issue the message as a warning of its category.

        Parameters
        ----------
        stacklevel : int, default 3
            As for :func:`warnings.warn`: 3 points at the caller of the function
            that calls ``warn``.

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     flat_rule([2.3, 2.3, 2.3]).warn()
        >>> caught[0].category.__name__
        'LearningRateTooLowWarning'
        """
        warnings.warn(self.message, self.category, stacklevel=stacklevel)


# How far is "far": the rules fire on gross problems, not on the noise of a healthy run.
INITIAL_TOLERANCE = 0.25  # relative distance of the first loss from its expected value
RISE_FACTOR = 2.0  # the smoothed loss above twice its start: the steps overshoot
FLAT_DROP = 0.01  # the loss fell by less than 1 % of its start: the steps are too small
JUMP = 0.10  # an epoch that raises the training loss by more than 10 %
OVERFIT_RATIO = 2.0  # validation loss at least twice the training loss ...
OVERFIT_GAP = (
    0.5  # ... and above it by 0.5 (nats for cross-entropy): not the small gap of a fit model
)
OVERFIT_RISE = 0.10  # validation loss 10 % above its best while the training loss kept falling


def initial_loss_rule(measured: float | None, expected: float | None) -> Diagnosis | None:
    """InitialLossWarning when the first loss is more than 25 % (and 0.1) from ``expected``.

    With tiny initial weights every score is about 0, so the first loss is known
    in advance: ln C for softmax cross-entropy on C classes, C - 1 for the
    multiclass hinge. Far from it, the labels or the initialisation are wrong.

    Parameters
    ----------
    measured : float or None
        The loss before the first update.
    expected : float or None
        Its value at zero scores.

    Returns
    -------
    Diagnosis or None
        None when either is unknown, ``measured`` is not finite, or they are close.

    Examples
    --------
    >>> initial_loss_rule(5.0, 2.303).evidence
    {'initial_loss': 5.0, 'expected': 2.303}
    >>> initial_loss_rule(2.31, 2.303) is None
    True

    References
    ----------
    CS231n, "Neural Networks Part 3: Learning and Evaluation" (sanity checks;
    babysitting the learning process); Karpathy, "A Recipe for Training Neural
    Networks" (2019).
    """
    if measured is None or expected is None or not math.isfinite(measured):
        return None
    if abs(measured - expected) <= max(INITIAL_TOLERANCE * abs(expected), 0.1):
        return None
    return Diagnosis(
        InitialLossWarning,
        f"the initial loss is {measured:.4g}, far from the {expected:.4g} that tiny initial "
        "weights give (all scores about 0): check that the labels are 0..C-1 and match the "
        "rows, and that the initial weights are small",
        {"initial_loss": measured, "expected": expected},
    )


def rising_rule(
    curve: Sequence[float], start: float | None = None, unit: str = "step"
) -> Diagnosis | None:
    """LearningRateTooHighWarning when the loss becomes non-finite, doubles, or ends above its start.

    ``curve`` is the loss of each step (or epoch, ``unit``); ``start`` the loss
    before the first update (default: the first entry). The curve is smoothed
    by a running median so that one unlucky mini-batch does not count.

    Parameters
    ----------
    curve : sequence of float, length T
        The loss of each step or epoch.
    start : float, optional
        The loss before the first update.
    unit : {"step", "epoch"}, default "step"
        What one entry of ``curve`` is, for the message and the evidence.

    Returns
    -------
    Diagnosis or None
        The evidence names the ``start`` and the ``unit`` (1-based) where the
        smoothed loss first passed twice the start (and start + 0.5), or became
        non-finite; or the end, when it ended over 10 % above the start.

    Examples
    --------
    >>> rising_rule([1.0, 1.2, 3.0, 5.0, 8.0]).evidence
    {'start': 1.0, 'step': 4}
    >>> rising_rule([1.0, 0.9, float("nan")]).evidence
    {'start': 1.0, 'step': 3}
    >>> rising_rule([1.0, 0.8, 0.6, 0.5]) is None
    True

    References
    ----------
    CS231n, "Neural Networks Part 3: Learning and Evaluation" (sanity checks;
    babysitting the learning process); Karpathy, "A Recipe for Training Neural
    Networks" (2019).
    """
    values = np.asarray(curve, dtype=np.float64)
    if values.size == 0:
        return None
    start = float(values[0]) if start is None else float(start)
    bad = ~np.isfinite(values)
    if bad.any():
        at = int(np.argmax(bad)) + 1
        return _too_high(f"the training loss became {values[at - 1]} at {unit} {at}", start, at)
    smooth = running_median(values)
    above = smooth > max(RISE_FACTOR * start, start + 0.5)
    if above.any():
        at = int(np.argmax(above)) + 1
        return _too_high(
            f"the training loss rose from {start:.4g} to {values[at - 1]:.4g} by {unit} {at} "
            f"and ended near {smooth[-1]:.4g}",
            start,
            at,
            unit,
        )
    if values.size >= 3 and smooth[-1] > 1.1 * start + 1e-3:
        return _too_high(
            f"the training loss ended at {smooth[-1]:.4g}, above the {start:.4g} it started from",
            start,
            int(values.size),
            unit,
        )
    return None


def _too_high(what, start, at, unit="step"):
    return Diagnosis(
        LearningRateTooHighWarning,
        f"learning rate too high: {what}; each step overshoots the minimum. "
        "Try a learning rate 10 to 100 times lower (or standardise the features)",
        {"start": start, unit: at},
    )


def oscillation_rule(epoch_loss: Sequence[float]) -> Diagnosis | None:
    """LearningRateTooHighWarning when at least a quarter of the epochs raise the loss by > 10 %.

    Parameters
    ----------
    epoch_loss : sequence of float or None
        The training loss of each epoch (None entries are skipped); at least 5
        are needed, and two rises at least.

    Returns
    -------
    Diagnosis or None
        The evidence lists the epochs whose loss rose (``rising_epochs``) and the
        first (``epoch``).

    Examples
    --------
    >>> oscillation_rule([1.0, 0.8, 1.0, 0.7, 0.9, 0.6]).evidence
    {'rising_epochs': [3, 5], 'epoch': 3}
    >>> oscillation_rule([1.0, 0.8, 0.7, 0.6, 0.55, 0.5]) is None
    True

    References
    ----------
    CS231n, "Neural Networks Part 3: Learning and Evaluation" (sanity checks;
    babysitting the learning process); Karpathy, "A Recipe for Training Neural
    Networks" (2019).
    """
    values = np.asarray([v for v in epoch_loss if v is not None], dtype=np.float64)
    if values.size < 5 or not np.isfinite(values).all():
        return None
    jumps = np.flatnonzero(np.diff(values) > JUMP * np.abs(values[:-1]))
    if len(jumps) < max(2, (values.size - 1) / 4):
        return None
    first = int(jumps[0]) + 2  # epochs count from 1; the jump lands on the next epoch
    return Diagnosis(
        LearningRateTooHighWarning,
        f"learning rate too high: the training loss oscillates; {len(jumps)} of "
        f"{values.size - 1} epochs raised it by more than {JUMP:.0%}, first in epoch {first} "
        f"({values[first - 2]:.4g} -> {values[first - 1]:.4g}). Try a learning rate 3 to 10 "
        "times lower, or a decaying schedule",
        {"rising_epochs": [int(j) + 2 for j in jumps], "epoch": first},
    )


def flat_rule(
    curve: Sequence[float],
    start: float | None = None,
    unit: str = "step",
    lr: float | None = None,
) -> Diagnosis | None:
    """LearningRateTooLowWarning when the loss fell by less than 1 % of its start over the run.

    Needs at least 3 entries; a loss already near 0 is not flat but finished.
    The start and end are means of the first and last tenth of the curve.

    Parameters
    ----------
    curve : sequence of float
        The loss of each step or epoch.
    start : float, optional
        The loss before the first update (default: the mean of the first tenth).
    unit : {"step", "epoch"}, default "step"
        What one entry is, for the message and the evidence.
    lr : float, optional
        The run's learning rate, quoted in the message.

    Returns
    -------
    Diagnosis or None
        The evidence holds ``start``, ``end``, the number of entries and ``lr``.

    Examples
    --------
    >>> d = flat_rule([2.3, 2.3, 2.299, 2.299, 2.298], lr=1e-7)
    >>> d.evidence["steps"], d.evidence["end"]
    (5, 2.298)
    >>> flat_rule([2.3, 1.5, 0.9]) is None
    True

    References
    ----------
    CS231n, "Neural Networks Part 3: Learning and Evaluation" (sanity checks;
    babysitting the learning process); Karpathy, "A Recipe for Training Neural
    Networks" (2019).
    """
    values = np.asarray(curve, dtype=np.float64)
    if values.size < 3 or not np.isfinite(values).all():
        return None
    k = max(1, values.size // 10)
    first = float(np.mean(values[:k])) if start is None else float(start)
    last = float(np.mean(values[-k:]))
    if last < 1e-3 or first <= 0 or (first - last) >= FLAT_DROP * first:
        return None
    rate = "" if lr is None else f" (lr={lr:g})"
    return Diagnosis(
        LearningRateTooLowWarning,
        f"learning rate too low{rate}: the training loss barely moved, from {first:.4g} to "
        f"{last:.4g} ({(last - first) / first:+.2%}) over {values.size} {unit}s. "
        "Try a learning rate 10 times higher",
        {"start": first, "end": last, unit + "s": int(values.size), "lr": lr},
    )


def overfitting_rule(
    train_loss: Sequence[float], val_loss: Sequence[float], reg: float | None = None
) -> Diagnosis | None:
    """OverfittingWarning when validation ends twice the training loss, or rose while it fell.

    Fires when the last validation loss is at least twice the training loss and
    above it by 0.5, or 10 % (and 0.01) above its best epoch's while the training
    loss kept falling since that epoch.

    Parameters
    ----------
    train_loss, val_loss : sequence of float or None
        Per epoch; epochs where either is None are skipped (at least 2 are needed).
    reg : float, optional
        The run's weight-penalty strength; the advice then suggests 10 times it.

    Returns
    -------
    Diagnosis or None
        The evidence holds the last ``train_loss`` and ``val_loss`` and the
        ``best_epoch`` of the validation loss.

    Examples
    --------
    >>> overfitting_rule([0.9, 0.5, 0.2, 0.1], [1.0, 0.8, 0.9, 1.1], reg=1e-3).evidence
    {'train_loss': 0.1, 'val_loss': 1.1, 'best_epoch': 2}
    >>> overfitting_rule([0.9, 0.5, 0.3], [1.0, 0.6, 0.4]) is None
    True

    References
    ----------
    Goodfellow, Bengio & Courville, *Deep Learning* (2016), section 7.8 (early stopping);
    CS231n, "Neural Networks Part 3: Learning and Evaluation" (train/val accuracy).
    """
    # a run without validation has no val_loss at all: zip stops at the shorter list
    pairs = [
        (t, v)
        for t, v in zip(train_loss, val_loss, strict=False)
        if t is not None and v is not None
    ]
    if len(pairs) < 2:
        return None
    train, val = (np.asarray(x, dtype=np.float64) for x in zip(*pairs, strict=True))
    if not (np.isfinite(train).all() and np.isfinite(val).all()):
        return None
    best = int(np.argmin(val))
    rose = val[-1] > (1 + OVERFIT_RISE) * val[best] + 0.01 and train[-1] < train[best]
    far = val[-1] >= OVERFIT_RATIO * train[-1] and val[-1] - train[-1] > OVERFIT_GAP
    if not (rose or far):
        return None
    what = (
        f"the validation loss rose from {val[best]:.4g} (epoch {best + 1}) to {val[-1]:.4g} "
        f"while the training loss fell to {train[-1]:.4g}"
        if rose
        else f"the validation loss {val[-1]:.4g} is {val[-1] / train[-1]:.1f} times the "
        f"training loss {train[-1]:.4g}"
    )
    stronger = "" if not reg else f" (reg={10 * reg:g} instead of {reg:g})"
    return Diagnosis(
        OverfittingWarning,
        f"overfitting: {what}. The model fits the training data better than it generalises: "
        f"try more regularization{stronger}, early stopping, a smaller model or more data",
        {"train_loss": float(train[-1]), "val_loss": float(val[-1]), "best_epoch": best + 1},
    )


def check_scores(
    scores: ArrayLike, target: ArrayLike | None = None, *, loss: str = "softmax_cross_entropy"
) -> Diagnosis | None:
    """ProbabilitiesAsScoresWarning when every row of ``scores`` lies in [0, 1] and sums to 1.

    Softmax cross-entropy, the hinge losses and focal loss take raw scores
    (logits) and normalise them themselves; probabilities passed instead give
    a plausible but wrong number. With integer ``target`` the evidence shows
    both values. The first rows are screened first, so real logits cost O(C).

    Parameters
    ----------
    scores : array_like, shape (N, C)
        What is about to be passed to the loss.
    target : array_like of int, shape (N,), optional
        The labels, to show the loss as given against the right cross-entropy.
    loss : str, default "softmax_cross_entropy"
        The loss that expects scores (any registry name).

    Returns
    -------
    Diagnosis or None
        None unless every row is a probability vector (C >= 2, floating point).

    Examples
    --------
    >>> d = check_scores([[0.1, 0.2, 0.7]], [2])
    >>> d.name, round(d.evidence["loss_as_given"], 3), round(d.evidence["cross_entropy"], 3)
    ('ProbabilitiesAsScoresWarning', 0.768, 0.357)
    >>> check_scores([[-2.85, 0.86, 0.28]], [2]) is None
    True
    """
    s = np.asarray(scores)
    if s.ndim != 2 or s.shape[1] < 2 or len(s) == 0 or s.dtype.kind != "f":
        return None
    if not (probability_rows(s[:8]) and probability_rows(s)):
        return None
    evidence: dict[str, Any] = {"rows": len(s)}
    example = ""
    if target is not None and np.asarray(target).dtype.kind in "iu":
        with warnings.catch_warnings():  # the Diagnosis returned is the one report of it
            warnings.simplefilter("ignore", ProbabilitiesAsScoresWarning)
            given = float(losses.get(loss)(s, np.asarray(target)).value)
        right = float(losses.categorical_cross_entropy(s, np.asarray(target)).value)
        evidence.update(loss_as_given=given, cross_entropy=right)
        example = (
            f" ({loss} gives {given:.4g}; the cross-entropy of these probabilities is {right:.4g})"
        )
    return Diagnosis(
        ProbabilitiesAsScoresWarning,
        f"scores: every row lies in [0, 1] and sums to 1, so these look like probabilities, "
        f"but {loss} expects raw scores (logits) and normalises them itself{example}. Pass "
        "the scores before softmax, or categorical_cross_entropy for probabilities",
        evidence,
    )


def running_median(values: np.ndarray, window: int | None = None) -> np.ndarray:
    """Trailing running median (window: a twentieth of the curve, 3 to 25 points).

    Entry t is the median of entries t - w + 1 .. t; the first w - 1 entries are
    padded with the first value, so the result has the input's length.

    Parameters
    ----------
    values : array of shape (T,)
        A loss curve.
    window : int, optional
        The points in each median, w (default: T // 20, clipped to 3..25).

    Returns
    -------
    ndarray of shape (T,) float64
        The smoothed curve.

    Examples
    --------
    >>> running_median(np.array([1.0, 5.0, 2.0, 8.0, 3.0]), window=3).tolist()
    [1.0, 1.0, 2.0, 5.0, 3.0]
    """
    values = np.asarray(values, dtype=np.float64)
    w = window or int(np.clip(values.size // 20, 3, 25))
    if w == 1:
        return values
    padded = np.concatenate([np.full(w - 1, values[0]), values])
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, w), axis=1)


def diagnose(
    history: History | Mapping[str, Any],
    *,
    initial_loss: float | None = None,
    expected_initial_loss: float | None = None,
    reg: float | None = None,
) -> list[Diagnosis]:
    """Every diagnosis of a run: a list of :class:`Diagnosis`, empty for a healthy run.

    Parameters
    ----------
    history : History or mapping
        A run's record: ``step_loss`` (one loss per step; may be empty),
        ``train_loss``, ``val_loss`` and ``lr`` (one per epoch).
    initial_loss, expected_initial_loss : float, optional
        The loss before training and its value at zero scores (the sanity
        check's ``measured`` and ``expected``); the loss curves start from it.
    reg : float, optional
        The run's weight-penalty strength, for the advice against overfitting.

    Returns
    -------
    list of Diagnosis
        At most one per warning category, in the order of the list above.

    Examples
    --------
    >>> run = {"step_loss": [1.1, 40.0, 900.0, 7.7e5], "train_loss": [7.7e5], "val_loss": [None]}
    >>> [d.name for d in diagnose(run)]
    ['LearningRateTooHighWarning']
    >>> diagnose({"step_loss": [1.1, 0.8, 0.5, 0.4], "train_loss": [0.7]})
    []
    """
    get = history.get if isinstance(history, dict) else lambda k, d=None: getattr(history, k, d)
    epoch_loss = list(get("train_loss", []) or [])
    steps = list(get("step_loss", []) or [])
    curve, unit = (steps, "step") if steps else (epoch_loss, "epoch")
    lr = next((r for r in reversed(get("lr", []) or []) if r is not None), None)
    found = [
        initial_loss_rule(initial_loss, expected_initial_loss),
        rising_rule(curve, initial_loss, unit) or oscillation_rule(epoch_loss),
    ]
    if found[-1] is None:  # a loss that overshoots says nothing about small steps or generalising
        found.append(flat_rule(curve, initial_loss, unit, lr))
        found.append(overfitting_rule(epoch_loss, list(get("val_loss", []) or []), reg))
    return [d for d in found if d is not None]


class TrainingDoctor:
    """A ``fit`` callback: diagnoses the run after every epoch and reports each finding once.

    Pass it in ``callbacks``: ``fit(..., callbacks=[TrainingDoctor()])``. It
    never stops training. Each new diagnosis goes to ``on_diagnosis(d)``, or
    is issued as a warning of its category when that is None.

    Parameters
    ----------
    history : History, optional
        The run's History (``fit(..., history=h)``); its per-step losses then
        give the exact step a problem began. Without it, epochs are counted.
    initial_loss, expected_initial_loss, reg : float, optional
        As for :func:`diagnose`.
    on_diagnosis : callable, optional
        ``on_diagnosis(d)`` is called with each new :class:`Diagnosis`; None
        issues it as a warning of its category.

    Attributes
    ----------
    diagnoses : list of Diagnosis
        What was found so far.

    Examples
    --------
    >>> import warnings
    >>> doctor = TrainingDoctor(initial_loss=1.1, on_diagnosis=lambda d: print(d.name))
    >>> doctor(1, {"train_loss": 2065.2, "lr": 1e4}, model=None)
    LearningRateTooHighWarning
    False
    """

    def __init__(
        self,
        *,
        history: History | None = None,
        initial_loss: float | None = None,
        expected_initial_loss: float | None = None,
        reg: float | None = None,
        on_diagnosis: Callable[[Diagnosis], object] | None = None,
    ) -> None:
        self.history = history
        self.initial_loss = initial_loss
        self.expected_initial_loss = expected_initial_loss
        self.reg = reg
        self.on_diagnosis = on_diagnosis
        # floats, or None where an epoch lacks a value; step_loss is the History's own list
        self.epochs: dict[str, list[Any]] = {
            "train_loss": [],
            "val_loss": [],
            "lr": [],
            "step_loss": [],
        }
        self.found: dict[type, Diagnosis] = {}

    def __call__(self, epoch: int, logs: Mapping[str, Any], model: Model | None) -> bool:
        """Record an epoch's ``logs`` and report what is newly found; False (never stops)."""
        for key in ("train_loss", "val_loss", "lr"):
            self.epochs[key].append(logs.get(key))
        if self.history is not None:
            self.epochs["step_loss"] = self.history.step_loss
        for d in diagnose(
            self.epochs,
            initial_loss=self.initial_loss,
            expected_initial_loss=self.expected_initial_loss,
            reg=self.reg,
        ):
            if d.category not in self.found:
                self.found[d.category] = d
                self.on_diagnosis(d) if self.on_diagnosis else d.warn()
        return False

    @property
    def diagnoses(self) -> list[Diagnosis]:
        """What was found so far, in the order it was found."""
        return list(self.found.values())
