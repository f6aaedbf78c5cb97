r"""A loss's card: the lecture's questions about a classification loss, answered by computation.

CS231n asks of the multiclass SVM loss: what is it at zero scores (C − 1)? Its
minimum and maximum (0 and ∞)? Does nudging the scores of an example already
classified with room to spare change it (Q1)? What does counting j = y add (Q4)?
Does a mean over classes instead of a sum matter (Q5)? Is the squared hinge a
different loss (Q6)? And since 2W has the same zero loss as W, why regularize?
:func:`card` answers each of them for any classification loss, a user's own
included, by evaluating it: nothing is looked up by the loss's name.

Conventions. One example's loss is what the loss returns for it (a one-vs-rest
binary loss: the mean over its outputs, as training reports it). The margin of an
example is ``m = s_y - max_{j≠y} s_j``; the margin curve puts the correct score at
``m/2`` and every other score at ``-m/2`` (a single binary score at ``m``), so a
one-vs-rest loss sees every output's own margin grow with it.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .. import losses
from ..training import encode_targets, n_outputs

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Answer", "Card", "card", "plot_cards"]

# seed 004's car example (cat 1.3, car 4.9, frog 2.0; correct = car), the start of Q1's example
_CAR_EXAMPLE = (1.3, 4.9, 2.0)
_CLASS_COUNTS = (2, 3, 4, 5, 10, 20, 100)
# closed forms tried for the value at zero scores, simplest first: (name, f(C))
_CLOSED_FORMS = (
    ("C − 1", lambda c: c - 1.0),
    ("ln C", math.log),
    ("1 − 1/C", lambda c: 1 - 1 / c),
    ("(1 − 1/C)·ln C", lambda c: (1 - 1 / c) * math.log(c)),
    ("(1 − 1/C)²·ln C", lambda c: (1 - 1 / c) ** 2 * math.log(c)),
)


@dataclass
class Answer:
    """One question of the card, its short answer and the numbers that show it.

    Attributes
    ----------
    question : str
        The question, as the card's table prints it.
    answer : str
        The short answer, computed.
    evidence : dict
        The numbers behind it (values at several C, the loss before and after, ...).

    Examples
    --------
    >>> answer = card("svm", classes=3)["zero_scores"]
    >>> answer.question, answer.answer
    ('value at zero scores (small initial W)', '2 at C = 3: C − 1')
    >>> answer.evidence["values"]["10"]  # (C − 1) at C = 10
    9.0
    """

    question: str
    answer: str
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The question, answer and evidence as a plain dict."""
        return {"question": self.question, "answer": self.answer, "evidence": self.evidence}


@dataclass
class Card:
    """The computed answers for one loss, with the curves to draw them.

    ``answers`` maps a key ("zero_scores", "range", "q1_nudge",
    "q4_count_correct", "q5_mean_over_classes", "q6_squared", "scale_w",
    "calibration") to an :class:`Answer`; ``curves`` holds the margin curve
    (``margin``, ``loss``, ``grad``) and the calibration curve
    (``probability``, ``optimal_score``, ``implied_probability``).

    Attributes
    ----------
    loss : str
        The loss's registered name.
    classes : int
        C, the number of classes.
    options : dict
        The options bound to the loss.
    answers : dict of str to Answer
        The answers, by key as above; ``card[key]`` is one.
    curves : dict of str to np.ndarray
        The curves to draw, by name as above.

    Examples
    --------
    >>> c = card("svm", classes=3)
    >>> c.loss, c.classes, list(c.answers)[:3]
    ('multiclass_hinge', 3, ['zero_scores', 'range', 'q1_nudge'])
    >>> print(str(c).splitlines()[0])
    loss card: multiclass_hinge, C = 3
    >>> sorted(c.to_dict())
    ['answers', 'classes', 'curves', 'loss', 'options']

    References
    ----------
    Stanford CS231n, lecture 3 (loss functions and optimization).
    """

    loss: str
    classes: int
    options: dict
    answers: dict
    curves: dict

    def __getitem__(self, key: str) -> Answer:
        return self.answers[key]

    def __str__(self) -> str:
        width = max(len(a.question) for a in self.answers.values())
        title = f"loss card: {self.loss}{_options_text(self.options)}, C = {self.classes}"
        lines = [title, "=" * len(title)]
        for a in self.answers.values():
            lines.append(f"{a.question.ljust(width)}  {a.answer}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready numbers and strings (curves as lists)."""
        return {
            "loss": self.loss,
            "classes": self.classes,
            "options": _jsonable(self.options),
            "answers": {k: _finite(a.to_dict()) for k, a in self.answers.items()},
            "curves": {k: _finite(np.asarray(v).tolist()) for k, v in self.curves.items()},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def plot(self, axes: Sequence[Axes] | None = None) -> Figure:
        """The loss and its gradient against the margin, and the optimal score's probability.

        Parameters
        ----------
        axes : sequence of three matplotlib Axes, optional
            Where to draw; by default a new Figure (no pyplot, so no backend is chosen).

        Returns
        -------
        matplotlib.figure.Figure
            The figure the axes belong to.
        """
        if axes is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(13.5, 3.9), layout="constrained")
            axes = fig.subplots(1, 3)
            fig.suptitle(f"loss card: {self.loss}{_options_text(self.options)}, C = {self.classes}")
        _draw(self, axes)
        return cast("Figure", axes[0].figure)  # a SubFigure only if the caller drew in one


def _options_text(options):
    return f" ({', '.join(f'{k}={v!r}' for k, v in options.items())})" if options else ""


def _finite(value):
    """JSON has no inf or NaN: those numbers become the strings "inf", "-inf", "nan"."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _jsonable(options):
    return {
        k: (v if isinstance(v, (int, float, str, bool)) else repr(v)) for k, v in options.items()
    }


class _Examples:
    """One example's loss and its gradient for many score vectors at once.

    ``scores`` is (N, K) with K the score columns the loss needs for C classes
    (one for a binary loss on two classes); ``labels`` are class indices.
    """

    def __init__(self, loss, classes):
        self.loss, self.classes = loss, classes
        self.outputs = n_outputs(loss, classes)

    def __call__(self, scores, labels):
        scores = np.asarray(scores, dtype=np.float64)
        target = encode_targets(self.loss, np.asarray(labels), self.outputs)
        out = scores[:, 0] if self.outputs == 1 else scores
        values, grads = _per_example(self.loss, out, target)
        values, grads = np.asarray(values, dtype=np.float64), np.asarray(grads, dtype=np.float64)
        if values.ndim == 2:  # a one-vs-rest binary loss: the mean over its outputs
            values, grads = values.mean(axis=1), grads / values.shape[1]
        return values, grads.reshape(len(scores), -1)

    def values(self, scores, labels):
        return self(scores, labels)[0]

    def at_margin(self, margins, label=1):
        """Scores with margin m: the correct one at m/2, the others at -m/2 (one score: m)."""
        margins = np.asarray(margins, dtype=np.float64)
        if self.outputs == 1:
            return margins[:, None].copy(), np.full(len(margins), label)
        scores = np.repeat(-margins[:, None] / 2, self.outputs, axis=1)
        scores[:, label] = margins / 2
        return scores, np.full(len(margins), label)


def _per_example(loss, out, target):
    """(values, grads) per example; a loss without ``reduction`` is called one row at a time."""
    try:
        result = loss(out, target, reduction="none")
    except TypeError:
        rows = [loss(out[i : i + 1], target[i : i + 1]) for i in range(len(out))]
        return np.array([float(r[0]) for r in rows]), np.concatenate([r[1] for r in rows])
    return result[0], result[1]


def card(
    loss: str | losses.Loss | Callable,
    *,
    classes: int = 10,
    loss_options: dict[str, Any] | None = None,
    seed: int = 0,
) -> Card:
    r"""Answer the lecture's questions about a classification loss by evaluating it.

    For the loss with ``classes`` classes: the value at zero scores against C and
    the closed form it matches (C − 1, ln C, ...); the minimum and maximum over
    constructed and random scores, with the infimum named where no finite score
    attains it; Q1 (nudging the scores of an example correct with room to spare);
    Q4 (counting j = y); Q5 (mean instead of sum over classes); Q6 (the squared
    variant: another minimiser, or only a rescaling, on a computed example);
    scaling W by 2 on separated data (loss and gradient); and the optimal score
    for a class probability p (calibrated when the softmax of it gives back p).

    Parameters
    ----------
    loss : str, Loss or callable
        Anything :func:`losslab.losses.get` accepts; a multiclass or binary loss.
        A plain function ``f(scores, labels) -> (value, grad)`` is read as a
        multiclass loss: scores of shape (N, C), integer labels of shape (N,).
    classes : int, default 10
        The number of classes C (at least 2).
    loss_options : dict, optional
        Options bound to the loss (``{"margin": 2.0}``).
    seed : int, default 0
        Seed of the random scores and data.

    Returns
    -------
    Card
        ``str(card)`` is a plain-text table, ``card.to_dict()`` JSON-ready,
        ``card.plot()`` a matplotlib Figure; ``card["q1_nudge"]`` one answer.

    Examples
    --------
    >>> c = card("svm", classes=10)
    >>> c["zero_scores"].answer
    '9 at C = 10: C − 1'
    >>> c["q1_nudge"].evidence["invariant"], card("softmax")["q1_nudge"].evidence["invariant"]
    (True, False)

    References
    ----------
    Stanford CS231n, lecture 3 (loss functions and optimization), and its notes
    "Linear classification: SVM / softmax".
    """
    classes = _check_classes(classes)
    loss = _resolve(loss, loss_options, classes)
    rng = np.random.default_rng(seed)
    ex = _Examples(loss, classes)
    answers = {
        "zero_scores": _zero_scores(loss, classes),
        "range": _range(ex, rng),
        "q1_nudge": _nudge(ex, rng),
    }
    answers["q4_count_correct"], additive = _count_correct(ex, rng)
    answers["q5_mean_over_classes"] = _mean_over_classes(ex, additive)
    answers["q6_squared"] = _squared_variant(loss, classes)
    answers["scale_w"] = _scale_w(ex, rng)
    answers["calibration"], calibration_curve = _calibration(loss)
    margins = np.linspace(-3, 3, 601)
    values, grads = ex(*ex.at_margin(margins))
    curves = {"margin": margins, "loss": values, "grad": grads[:, _column(ex)]}
    curves.update(calibration_curve)
    return Card(loss.name, classes, dict(loss.options), answers, curves)


def _resolve(loss: Any, loss_options: dict[str, Any] | None, classes: int) -> losses.Loss:
    # a plain function has no task: on a card it scores C classes against integer labels
    loss = losses.get(loss, **(loss_options or {})).for_task("multiclass")
    if loss.task not in ("multiclass", "binary"):
        raise ValueError(
            f"loss: expected a classification loss (multiclass or binary), "
            f"got {loss.name}, a {loss.task} loss, instead"
        )
    for c in (2, classes):  # the card scores two classes (calibration) and C
        ex = _Examples(loss, c)
        try:
            ex(2.5 * np.eye(c, ex.outputs) - 1, np.arange(c))
        except ValueError as exc:  # e.g. a loss on probabilities, not scores
            raise ValueError(
                f"loss: the card evaluates raw scores for 2 and {classes} classes; "
                f"{loss.name} rejected them ({exc})"
            ) from None
    return loss


def _check_classes(classes):
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"classes: expected an integer >= 2, got {classes!r} instead")
    return int(classes)


def _column(ex, label=1):
    return 0 if ex.outputs == 1 else label


def _zero_scores(loss, classes):
    """The loss at all-zero scores (every class the target in turn) against C, and its closed form."""
    counts = sorted({*_CLASS_COUNTS, classes})
    values = {}
    for c in counts:
        ex = _Examples(loss, c)
        labels = np.arange(c)
        values[c] = float(ex.values(np.zeros((c, ex.outputs)), labels).mean())
    form = _closed_form(values)
    text = f"{values[classes]:.4g} at C = {classes}: {form}"
    question = "value at zero scores (small initial W)"
    return Answer(question, text, {"values": {str(c): v for c, v in values.items()}, "form": form})


def _closed_form(values):
    """The first of _CLOSED_FORMS that k·f(C) fits to 1e-9 for every C (k = 1 written bare)."""
    v = np.array(list(values.values()))
    scale = max(np.abs(v).max(), 1e-300)
    if np.ptp(v) <= 1e-9 * scale:
        return f"the same for every C ({v[0]:.4g})"
    for name, f in _CLOSED_FORMS:
        fc = np.array([f(c) for c in values])
        k = float(fc @ v / (fc @ fc))
        if np.abs(k * fc - v).max() <= 1e-9 * scale:
            return name if abs(k - 1) <= 1e-9 else f"{k:.4g}·({name})"
    return "no closed form among " + ", ".join(name for name, _ in _CLOSED_FORMS)


def _range(ex, rng):
    """Minimum and maximum over margins from -1000 to 1000 and random scores of four sizes."""
    far = np.array([10.0, 100.0, 1000.0])
    # k/100 exactly (as near as floats go), so a margin option such as 0.26 is on the grid
    margins = np.concatenate([np.arange(-500, 5001) / 100, far, -far])
    values, grads = ex(*ex.at_margin(margins))
    sampled = np.concatenate([_random_values(ex, rng, size) for size in (0.1, 1, 10, 100)])
    lowest, limit = float(min(values.min(), sampled.min())), float(values[-4]) + 0.0
    text = _minimum_text(margins, values, grads, lowest, limit)
    behind = values[-3:]  # margins -10, -100, -1000
    growing = (
        behind[2] > behind[1] > behind[0] and behind[2] - behind[1] >= (behind[1] - behind[0]) / 2
    )
    if growing:
        power = math.log(behind[2] / behind[1]) / math.log(10) if behind[1] > 0 else float("nan")
        text += f"; max ∞ (grows like |m|^{power:.2g} as m → −∞)"
    else:
        text += f"; max {max(values.max(), sampled.max()):.4g} (bounded)"
    evidence = {"lowest": lowest, "limit_margin_1000": limit, "unbounded": bool(growing)}
    evidence["value_at_margin_-1000"] = float(behind[2])
    return Answer("min and max (Q2)", text, evidence)


def _random_values(ex, rng, size, n=200):
    scores = size * rng.standard_normal((n, ex.outputs))
    return ex.values(scores, rng.integers(0, ex.classes, n))


def _minimum_text(margins, values, grads, lowest, limit):
    """Where the minimum is reached: a margin from which the loss is flat at its limit, or none.

    Flat means the limit's value with a zero gradient, and reached from a loss
    still above 1e-8 of its value at margin 0 one unit of margin before: the
    hinge falls from 9 to 0 by margin 1, while softmax's log(1 + 9e^-m) only
    rounds to 0.0 (float64) near margin 38, from below 1e-15.
    """
    if lowest < limit - 1e-9 * max(1.0, abs(limit)):
        return f"min ≤ {lowest:.4g} (at random scores; lower than along the margin)"
    flat = (values[:-6] == limit) & ~np.any(grads[:-6], axis=1)
    if flat.any():
        start = margins[np.argmax(flat)]
        before = values[np.argmin(np.abs(margins - (start - 1)))]
        at_zero = values[np.argmin(np.abs(margins))]
        if before - limit >= 1e-8 * abs(at_zero - limit):
            return f"min {limit:.4g}, reached once the margin is {start:.3g}"
    return f"infimum {limit:.3g} (its value at m = 1000), never reached"


def _nudge(ex, rng, n=200, size=0.5):
    """Q1: the largest change of the loss when every score of the car example moves by up to ±size."""
    scores = _car_example(ex, rng)
    label = 1
    base = float(ex.values(scores[None], [label])[0])
    nudged = scores + rng.uniform(-size, size, (n, scores.size))
    change = float(np.abs(ex.values(nudged, np.full(n, label)) - base).max())
    invariant = change <= 1e-12 * max(1.0, abs(base))
    verdict = "unchanged: only margins matter" if invariant else f"changes by up to {change:.3g}"
    text = f"loss {base:.4g}; {verdict}"
    evidence = {"scores": scores.tolist(), "loss": base, "largest_change": change}
    evidence["invariant"] = bool(invariant)
    return Answer(f"Q1 nudge a correct example's scores by ±{size:g}", text, evidence)


def _car_example(ex, rng):
    """Seed 004's car example (car = class 1, margin 2.9), other classes in [-2, 2]."""
    if ex.outputs == 1:
        return np.array([_CAR_EXAMPLE[1] - _CAR_EXAMPLE[0]])
    scores = np.array(_CAR_EXAMPLE[: ex.outputs], dtype=np.float64)
    return np.concatenate([scores, rng.uniform(-2, 2, ex.outputs - scores.size)])


def _count_correct(ex, rng):
    """Q4: is the loss a sum of one term per wrong class, φ(s_j - s_y)? Then j = y adds φ(0).

    Tested, not assumed: moving two wrong scores together changes the loss by the
    sum of the two changes apart (no interaction), and adding a constant to every
    score changes nothing (only differences count).
    """
    if ex.outputs < 3:
        note = "needs C ≥ 3 to tell"
        return Answer("Q4 count j = y in the sum", note, {"additive": None}), False
    interaction, shift = _structure(ex, rng)
    additive = interaction <= 1e-9 and shift <= 1e-9
    evidence = {"interaction": interaction, "shift_change": shift, "additive": bool(additive)}
    if not additive:
        what = "classes interact" if interaction > 1e-9 else "the scores' level matters"
        text = f"does not apply: not a sum over wrong classes of φ(s_j − s_y) ({what})"
        return Answer("Q4 count j = y in the sum", text, evidence), False
    zeros = np.zeros((1, ex.outputs))
    phi0 = float(ex.values(zeros, [1])[0]) / (ex.outputs - 1)
    evidence["adds"] = phi0
    text = f"adds φ(0) = {phi0:.4g} to every loss: same gradient and minimiser, minimum raised by {phi0:.4g}"
    return Answer("Q4 count j = y in the sum", text, evidence), True


def _structure(ex, rng, n=100):
    """Largest interaction of two wrong classes and largest change under a common shift."""
    scores = 2 * rng.standard_normal((n, ex.outputs))
    labels = rng.integers(0, ex.outputs, n)
    a, b = np.zeros_like(scores), np.zeros_like(scores)
    for row, y in enumerate(labels):
        j, i = rng.choice(np.delete(np.arange(ex.outputs), y), 2, replace=False)
        a[row, j], b[row, i] = rng.uniform(-2, 2, 2)

    def f(s):
        return ex.values(s, labels)

    base = f(scores)
    interaction = f(scores + a + b) - f(scores + a) - f(scores + b) + base
    shift = f(scores + rng.uniform(-3, 3, (n, 1))) - base
    scale = max(1.0, float(np.abs(base).max()))
    return float(np.abs(interaction).max() / scale), float(np.abs(shift).max() / scale)


# Q5/Q6's example: three examples whose margins pull one weight w two ways,
# m = (w, w, -w - 1), so no w gives every example a zero loss
_DEMO_W = np.linspace(-4, 4, 8001)


def _demo_objective(values_at_margins):
    """Mean loss of the three examples over the grid of w, given a margins -> losses function."""
    margins = np.stack([_DEMO_W, _DEMO_W, -_DEMO_W - 1], axis=1)
    return values_at_margins(margins.ravel()).reshape(margins.shape).mean(axis=1)


def _compare(base, variant):
    """Minimisers (the grid interval within 1e-9 of the minimum) and whether variant/base is constant."""

    def argmin_interval(j):
        near = np.flatnonzero(j <= j.min() + 1e-9 * max(1.0, abs(j.min())))
        return float(_DEMO_W[near[0]]), float(_DEMO_W[near[-1]])

    positive = base > 1e-12 * max(1.0, base.max())
    ratio = variant[positive] / base[positive]
    rescale = bool(ratio.size and np.ptp(ratio) <= 1e-9 * max(1.0, abs(ratio).max()))
    return {
        "minimiser": argmin_interval(base),
        "variant_minimiser": argmin_interval(variant),
        "only_rescales": rescale,
        "factor": float(ratio.mean()) if rescale else None,
    }


def _interval_text(lo, hi):
    return f"w = {lo:.3g}" if hi - lo < 2.5e-3 else f"w in [{lo:.3g}, {hi:.3g}]"


def _mean_over_classes(ex, additive):
    """Q5: the mean over the C - 1 wrong classes instead of the sum, on the three-example demo."""
    question = "Q5 mean instead of sum over classes"
    if not additive:
        return Answer(question, "does not apply: not a sum over classes (see Q4)", {})

    def base(m):
        return ex.values(*ex.at_margin(m))

    j = _demo_objective(base)
    found = _compare(j, j / (ex.outputs - 1))
    text = (
        f"only rescales (×{found['factor']:.3g}): the same minimiser "
        f"{_interval_text(*found['minimiser'])} in the demo"
        if found["only_rescales"] and found["minimiser"] == found["variant_minimiser"]
        else "changes the minimiser"
    )
    return Answer(question, text, found)


def _squared_variant(loss, classes):
    """Q6: the squared variant (the loss's own ``squared`` option, else each loss squared)."""
    ex = _Examples(loss, classes)
    if _has_option(loss, "squared"):
        squared = bool(loss.options.get("squared", False))
        other = _Examples(loss.with_options(squared=not squared), classes)
        name = f"squared={not squared}"
    else:
        other, name = None, "each example's loss squared"

    def base(m):
        return ex.values(*ex.at_margin(m))

    def variant(m):
        return other.values(*other.at_margin(m)) if other else base(m) ** 2

    found = _compare(_demo_objective(base), _demo_objective(variant))
    found["variant"] = name
    before, after = found["minimiser"], found["variant_minimiser"]
    same = abs(before[0] - after[0]) < 2.5e-3 and abs(before[1] - after[1]) < 2.5e-3
    if found["only_rescales"]:
        verdict = f"only rescales (×{found['factor']:.3g})"
    elif same:
        verdict = "a different loss with the same minimiser in the demo"
    else:
        verdict = (
            f"a different loss: minimiser {_interval_text(*before)} → {_interval_text(*after)}"
        )
    found["changes_minimiser"] = not same
    return Answer(f"Q6 squared variant ({name})", verdict, found)


def _has_option(loss, name):
    if name in loss.options:
        return True
    try:
        return name in inspect.signature(loss.fn).parameters
    except (TypeError, ValueError):
        return False


def _scale_w(ex, rng, n_per_class=20):
    """Loss and gradient norm at W and 2W on separated data (every margin above 1).

    Features are ±1.5 one-hot codes of the class with noise up to 0.25, and W
    the identity, so the correct score leads every other by at least 2.5.
    """
    labels = np.repeat(np.arange(ex.classes), n_per_class)
    X = 3 * (labels[:, None] == np.arange(ex.classes)) - 1.5
    X = X + rng.uniform(-0.25, 0.25, X.shape)
    W = np.eye(ex.classes) if ex.outputs > 1 else np.array([[-0.5, 0.5]])
    rows = []
    for factor in (1.0, 2.0):
        values, grads = ex(X @ (factor * W).T, labels)
        grad_w = grads.T @ X / len(X)
        rows.append((float(values.mean()), float(np.linalg.norm(grad_w)), grad_w))
    (l1, g1, grad1), (l2, g2, _) = rows
    grows = float(-np.sum(grad1 * W)) > 0  # descent moves W outward
    if l1 == l2:
        text = f"2W has the same loss {l1:.3g} (gradient {g2:.3g}): the data cannot choose; a penalty can"
    else:
        text = f"loss {l1:.3g} → {l2:.3g}, gradient {g1:.3g} → {g2:.3g}"
        text += ": the weights grow without end unless regularized" if grows else ""
    evidence = {"loss_W": l1, "loss_2W": l2, "grad_norm_W": g1, "grad_norm_2W": g2}
    evidence["descent_grows_W"] = bool(grows)
    return Answer("scale W by 2 on separated data", text, evidence)


_PROBABILITIES = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95])


def _calibration(loss):
    """The score t minimising p·l(t, class 1) + (1 - p)·l(t, class 0), two classes.

    Calibrated when the sigmoid of t* (the softmax of the two scores) gives back p
    within 0.01; the sign of t* says whether the likelier class wins.
    """
    ex = _Examples(loss, 2)
    t = np.linspace(-15, 15, 30001)
    positive = ex.values(*ex.at_margin(t, label=1))
    if ex.outputs == 1:
        negative = ex.values(t[:, None], np.zeros(len(t), dtype=int))
    else:
        negative = ex.values(np.stack([np.zeros_like(t), t], axis=1), np.zeros(len(t), dtype=int))
    optimal = []
    for p in _PROBABILITIES:
        expected = p * positive + (1 - p) * negative
        near = np.flatnonzero(expected <= expected.min() + 1e-12 * max(1.0, expected.min()))
        optimal.append((t[near[0]] + t[near[-1]]) / 2)
    optimal = np.array(optimal)
    implied = 1 / (1 + np.exp(-optimal))
    error = float(np.abs(implied - _PROBABILITIES).max())
    picks = bool(np.all(np.sign(optimal) == np.sign(_PROBABILITIES - 0.5)))
    if error <= 0.01:
        text = f"calibrated: sigmoid(optimal score) = p within {error:.1g}"
    else:
        text = f"not calibrated: sigmoid(optimal score) is off p by up to {error:.2f}"
    text += (
        "; the likelier class wins"
        if picks
        else "; the optimal score does not pick the likelier class"
    )
    curve = {
        "probability": _PROBABILITIES,
        "optimal_score": optimal,
        "implied_probability": implied,
    }
    evidence = {"max_error": error, "calibrated": error <= 0.01, "picks_likelier_class": picks}
    evidence["optimal_score"] = optimal.tolist()
    return Answer("optimal score for class probability p", text, evidence), curve


def _draw(card, axes):
    c = card.curves
    ax = axes[0]
    ax.plot(c["margin"], c["loss"], color="tab:blue")
    ax.set_title("loss against the margin")
    ax.set_xlabel("margin m = s_y − (largest other score)")
    ax.set_ylabel("loss of one example")
    ax = axes[1]
    ax.plot(c["margin"], c["grad"], color="tab:red")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_title("gradient ∂l/∂s_y against the margin")
    ax.set_xlabel("margin m")
    ax = axes[2]
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="calibrated")
    ax.plot(c["probability"], c["implied_probability"], "o-", color="tab:green", label="optimal")
    ax.set_title("sigmoid of the optimal score against p")
    ax.set_xlabel("probability p of the class (two classes)")
    ax.legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)


def plot_cards(cards: Sequence[Card]) -> Figure:
    """One row of :meth:`Card.plot` panels per card, in one matplotlib Figure.

    Parameters
    ----------
    cards : sequence of Card
        The cards, one row each (the figure of docs/guide/understanding.md,
        "A loss's card": SVM, softmax, focal).

    Returns
    -------
    matplotlib.figure.Figure
        Three panels per card, not attached to pyplot (no window opens).

    Examples
    --------
    >>> fig = plot_cards([card("svm", classes=3), card("softmax", classes=3)])
    >>> len(fig.axes)
    6
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.5, 3.3 * len(cards)), layout="constrained")
    rows = fig.subplots(len(cards), 3, squeeze=False)
    for row, one in zip(rows, cards, strict=True):
        one.plot(row)
        row[0].set_ylabel(f"{one.loss}{_options_text(one.options)}\nloss of one example")
    return fig
