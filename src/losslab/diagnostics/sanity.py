r"""The CS231n sanity checks before a long training run, each a PASS/FAIL line with numbers.

1. **Initial loss.** With tiny weights every score is about 0, so every class
   is equally likely and the loss has a value fixed by the loss alone:

   - softmax cross-entropy: :math:`-\log(1/C) = \ln C`;
   - Weston-Watkins hinge: each of the C-1 wrong classes has margin
     :math:`0 - 0 + \Delta`, so :math:`(C-1)\Delta` (:math:`(C-1)\Delta^2` squared);
   - Crammer-Singer hinge: one margin, :math:`\Delta` (:math:`\Delta^2` squared);
   - softmax focal: :math:`(1 - 1/C)^\gamma \ln C` times α;
   - one-vs-rest sigmoid cross-entropy: :math:`\ln 2` per output; binary hinge:
     :math:`\Delta` per output; modified Huber: 1; perceptron: 0; sigmoid focal:
     :math:`(1/2)^\gamma \ln 2` times α_t.

   :func:`expected_initial_loss` evaluates the loss at all-zero scores, which is
   each of these formulas (the tests check the closed forms).
2. **Regularization.** Adding the weight penalty to the same initial model must
   raise the loss, more for larger strengths.
3. **Overfitting a tiny subset.** With no regularization, 20 samples must be
   fitted perfectly: accuracy 100% and the loss driven toward 0. A model that
   cannot do this has a bug (or no capacity). A linear model that separates the
   samples gets there only as its weights grow, so the check also scales the
   final scores (:func:`scaled_loss`) and says when larger weights alone suffice.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import losses
from ..losses._registry import Loss
from ..models import Model
from ..training import n_outputs as classifier_outputs

__all__ = ["SanityCheck", "SanityReport", "expected_initial_loss", "sanity_check"]


@dataclass
class SanityCheck:
    """One check's verdict: PASS or FAIL with the numbers behind it.

    Attributes
    ----------
    name : str
        "initial loss", "loss rises with regularization" or "overfit a tiny subset".
    ok : bool
        Whether the check passed.
    detail : str
        The measured and expected values in words.
    expected, measured : float or None
        The numbers compared, where there are two.

    Examples
    --------
    >>> check = SanityCheck("initial loss", True, "1.0985, expected 1.0986", 1.0986, 1.0985)
    >>> print(check)
    PASS  initial loss: 1.0985, expected 1.0986

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck
    """

    name: str
    ok: bool
    detail: str
    expected: float | None = None
    measured: float | None = None

    def __str__(self):
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


@dataclass
class SanityReport:
    """The checks of :func:`sanity_check`; ``str(report)`` is one PASS/FAIL line each.

    Attributes
    ----------
    checks : list of SanityCheck
        In the order they ran.
    ok : bool
        Every check passed.

    Examples
    --------
    >>> report = SanityReport([SanityCheck("initial loss", True, "1.0985, expected 1.0986"),
    ...                        SanityCheck("overfit a tiny subset", False, "accuracy 90%")])
    >>> report.ok
    False
    >>> print(report)
    PASS  initial loss: 1.0985, expected 1.0986
    FAIL  overfit a tiny subset: accuracy 90%
    >>> [row["name"] for row in report.as_dict()]
    ['initial loss', 'overfit a tiny subset']

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck
    """

    checks: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(c.ok for c in self.checks)

    def __str__(self):
        return "\n".join(str(c) for c in self.checks)

    def as_dict(self) -> list[dict[str, Any]]:
        """The checks as a list of plain dicts (for JSON)."""
        return [c.__dict__ for c in self.checks]


def expected_initial_loss(loss: str | Loss, n_classes: int) -> tuple[float, str]:
    r"""(value, formula) of the loss at all-zero scores: what tiny initial weights give.

    .. math::

        \text{softmax: } \ln C, \qquad
        \text{Weston-Watkins hinge: } (C - 1)\Delta^p, \qquad
        \text{Crammer-Singer hinge: } \Delta^p

    in closed form; any other loss (a registered one included) is evaluated at
    zero scores with every class as the target in turn.

    Parameters
    ----------
    loss : str, Loss or callable
        A name of the registry (with its options bound) or a loss.
    n_classes : int
        C.

    Returns
    -------
    value : float
        The loss at all-zero scores.
    formula : str
        How the value arises, e.g. ``"ln C = ln 10"``.

    Examples
    --------
    >>> expected_initial_loss("softmax", 10)
    (2.302585092994046, 'ln C = ln 10')
    >>> expected_initial_loss("svm", 10)
    (9.0, '(C - 1)·Δ = 9·1')

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck
    """
    loss = losses.get(loss)
    c = n_classes
    margin = loss.options.get("margin", 1.0)
    power = 2 if loss.options.get("squared") else 1
    if loss.name == "softmax_cross_entropy" and not loss.options:
        return math.log(c), f"ln C = ln {c}"
    if loss.fn is losses.multiclass_hinge:
        if loss.options.get("kind", "weston_watkins") == "weston_watkins":
            return (
                c - 1
            ) * margin**power, f"(C - 1)·Δ{'²' if power == 2 else ''} = {c - 1}·{margin:g}"
        return margin**power, f"Δ{'²' if power == 2 else ''} = {margin:g}"
    return float(_at_zero_scores(loss, c).value), f"{loss.name} at zero scores"


def _at_zero_scores(loss, n_classes, reduction="mean", jitter=0.0):
    """The loss (and gradient) at all-zero scores, with every class as the target in turn."""
    from ..training import encode_targets

    n_outputs = classifier_outputs(loss, n_classes)
    labels = np.arange(n_classes).repeat(8)
    target = encode_targets(loss, labels, n_outputs)
    scores = jitter * np.random.default_rng(0).standard_normal((len(labels), n_outputs))
    return loss(scores[:, 0] if n_outputs == 1 else scores, target, reduction=reduction)


def _slope_at_zero(loss, n_classes):
    """Mean ‖∂lᵢ/∂sᵢ‖₁ just off zero scores (off any kink there, e.g. the perceptron's)."""
    grad = _at_zero_scores(loss, n_classes, reduction="none", jitter=1e-6).grad
    return float(np.abs(grad.reshape(len(grad), -1)).sum(axis=1).mean())


def initial_loss_check(
    model: Model, loss: str | Loss, X: np.ndarray, y: np.ndarray, tolerance: float = 0.01
) -> SanityCheck:
    """The loss of the untrained model against :func:`expected_initial_loss`.

    Scores that are small but not zero move the loss by about ‖∂l/∂s‖₁ per unit
    of score, so the check allows that much beyond ``tolerance``; scores larger
    than 1 fail it (the initial weights are not small).

    Parameters
    ----------
    model : Linear or MLP
        The model as initialised, before training.
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    X : array of shape (N, D)
        The features.
    y : int array of shape (N,)
        The labels 0 .. C - 1.
    tolerance : float, default 0.01
        Relative.

    Returns
    -------
    SanityCheck
        "initial loss", with the expected and measured values.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> initial_loss_check(Linear(4, 3, random_state=0), "svm", X, y).ok
    True

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck
    """
    from ..training import Objective, encode_targets, evaluate

    loss = losses.get(loss)
    target = encode_targets(loss, y, model.n_outputs)
    measured = evaluate(Objective(model, loss), X, target)["val_loss"]
    n_classes = model.n_outputs if model.n_outputs > 1 else 2
    expected, formula = expected_initial_loss(loss, n_classes)
    # small but non-zero scores move the loss by about ‖∂l/∂s‖₁ per unit of score (2× for curvature)
    score_size = float(np.abs(model(X)).max(axis=-1).mean()) if len(X) else 0.0
    slope = _slope_at_zero(loss, n_classes)
    allowed = tolerance * abs(expected) + 1e-3 + 2 * slope * score_size
    small_scores = score_size <= 1.0  # the check is only meaningful when the scores start near 0
    ok = small_scores and abs(measured - expected) <= allowed
    detail = f"{measured:.4f}, expected {expected:.4f} ({formula}; allowed ±{allowed:.2g})"
    if not ok:
        detail += f"; mean largest |score| {score_size:.3g}: are the initial weights small?"
    return SanityCheck("initial loss", ok, detail, expected, measured)


def regularization_check(
    model: Model,
    loss: str | Loss,
    X: np.ndarray,
    y: np.ndarray,
    strengths: Sequence[float] = (0.0, 0.001, 0.01, 0.1, 1.0),
) -> SanityCheck:
    """The objective of the same model must rise with the regularization strength.

    Parameters
    ----------
    model : Linear or MLP
        The model as initialised (not modified).
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    X : array of shape (N, D)
        The features.
    y : int array of shape (N,)
        The labels 0 .. C - 1.
    strengths : sequence of float
        Increasing.

    Returns
    -------
    SanityCheck
        "loss rises with regularization", with the rise at each strength.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> regularization_check(Linear(4, 3, random_state=0), "softmax", X, y).ok
    True

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck
    """
    from ..training import Objective, encode_targets, evaluate

    loss = losses.get(loss)
    target = encode_targets(loss, y, model.n_outputs)
    values = [evaluate(Objective(model, loss, reg=r), X, target)["val_loss"] for r in strengths]
    ok = all(b > a for a, b in itertools.pairwise(values))
    pairs = f"reg 0: {values[0]:.6g}; " + ", ".join(
        f"reg {r:g}: +{v - values[0]:.3g}" for r, v in zip(strengths[1:], values[1:], strict=True)
    )
    return SanityCheck("loss rises with regularization", ok, pairs)


def overfit_check(
    model_factory: Callable[[], Model],
    loss: str | Loss,
    X: np.ndarray,
    y: np.ndarray,
    n_samples: int = 20,
    epochs: int = 500,
    seed: int = 0,
) -> SanityCheck:
    """Train a fresh model on n_samples with reg=0; it must reach 100% accuracy and near-zero loss.

    Full-batch Adam (lr 1e-2) for up to ``epochs`` epochs, stopping once the
    training accuracy is 100% and the loss below 1e-3. It passes with 100%
    accuracy and the loss at most max(0.01, 1% of where it started).

    Parameters
    ----------
    model_factory : callable
        ``model_factory() -> model``, a fresh one.
    loss : str, Loss or callable
        The classification loss.
    X : array of shape (N, D)
        The features.
    y : int array of shape (N,)
        The labels.
    n_samples : int, default 20
        Samples to overfit (all of them if there are fewer).
    epochs : int, default 500
        The most full-batch epochs.
    seed : int, default 0
        Chooses the samples.

    Returns
    -------
    SanityCheck
        "overfit a tiny subset", with the loss reached as ``measured``; when the
        scores only need larger weights, the loss of the scaled scores
        (:func:`scaled_loss`).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> check = overfit_check(lambda: Linear(4, 3, random_state=0), "softmax", X, y,
    ...                       n_samples=10, epochs=200)
    >>> check.ok, check.measured <= 0.01
    (True, True)

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck
    """
    from ..training import fit

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X), size=min(n_samples, len(X)), replace=False)
    model = model_factory()
    history = fit(
        model,
        loss,
        X[idx],
        y[idx],
        optimizer="adam",
        lr=1e-2,
        epochs=epochs,
        batch_size=len(idx),
        reg=0.0,
        random_state=seed,
        callbacks=[
            lambda epoch, logs, m: logs["train_accuracy"] == 1.0 and logs["train_loss"] < 1e-3
        ],
    )
    first, last = history.step_loss[0], history.train_loss[-1]
    accuracy = history.train_accuracy[-1]
    # the epoch's accuracy is measured before its update, so confirm on the final weights
    from ..training import predict_labels

    scores = model(X[idx])
    accuracy = float(np.mean(predict_labels(losses.get(loss), scores) == y[idx]))
    target = max(0.01, 0.01 * first)
    detail = (
        f"{len(idx)} samples, {history.n_epochs} epochs: loss {first:.4g} → {last:.4g}, "
        f"training accuracy {accuracy:.0%}"
    )
    if accuracy == 1.0 and last > target:
        scale, scaled = scaled_loss(loss, scores, y[idx], target)
        if scaled <= target:
            detail += f"; the scores ×{scale:g} give loss {scaled:.3g} (only larger weights needed)"
            last = scaled
    ok = accuracy == 1.0 and last <= target
    return SanityCheck("overfit a tiny subset", ok, detail, 0.0, last)


def scaled_loss(
    loss: str | Loss, scores: np.ndarray, y: np.ndarray, target: float
) -> tuple[float, float]:
    """The loss of the scores scaled by 2, 4, ..., 2**20, stopping once it is at most ``target``.

    A linear model that separates its samples reaches zero loss only as its
    weights grow without bound (the margin losses are zero past a margin, the
    softmax loss tends to zero), so slow progress toward zero is not a bug.
    Scaling the last layer scales the scores exactly, so this shows the loss the
    same model reaches with larger weights.

    Parameters
    ----------
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    scores : array of shape (N, C)
        The trained model's scores.
    y : int array of shape (N,)
        The labels 0 .. C - 1.
    target : float
        Stop at the first scale whose loss is at most this.

    Returns
    -------
    (scale, loss) : tuple of float
        The last scale tried and its mean loss.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> scale, value = scaled_loss("softmax", scores, np.array([0, 1]), target=1e-3)
    >>> scale, round(value, 6)
    (8.0, 0.000335)

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck
    """
    fn = losses.get(loss)
    scale, value = 1.0, math.inf
    while scale < 2.0**20 and value > target:
        scale *= 2.0
        value = float(fn(scale * scores, y).value)
    return scale, value


def sanity_check(
    model: Model,
    loss: str | Loss,
    X: np.ndarray,
    y: np.ndarray,
    *,
    model_factory: Callable[[], Model] | None = None,
    n_overfit: int = 20,
    seed: int = 0,
) -> SanityReport:
    """Run the three checks on ``model`` (not modified) and return a :class:`SanityReport`.

    The initial loss against :func:`expected_initial_loss` (allowing for scores
    that are small but not zero), the loss rising with the regularization
    strength, and a fresh model overfitting ``n_overfit`` samples (100% training
    accuracy and the loss below 1% of where it started).

    Parameters
    ----------
    model : Linear or MLP
        The model as initialised, before training.
    loss : str, Loss or callable
        A loss name of the registry, a Loss, or your own function.
    X : array of shape (N, D)
        The features.
    y : int array of shape (N,)
        The labels 0 .. C - 1.
    model_factory : callable, optional
        ``model_factory()`` builds a fresh model of the same kind for the overfit
        check (default: a copy of ``model``).
    n_overfit : int, default 20
        Samples of the overfit check.
    seed : int, default 0
        Chooses them.

    Returns
    -------
    SanityReport
        The three checks; ``report.ok`` when all pass.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from losslab.models import Linear
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> report = sanity_check(Linear(4, 3, random_state=0), "softmax", X, y)
    >>> print(report.checks[0])
    PASS  initial loss: 1.0985, expected 1.0986 (ln C = ln 3; allowed ±0.014)

    References
    ----------
    CS231n, "Neural Networks Part 3", sanity checks:
    https://cs231n.github.io/neural-networks-3/#sanitycheck; Karpathy, "A Recipe for
    Training Neural Networks" (2019): https://karpathy.github.io/2019/04/25/recipe/
    """
    import copy

    factory = model_factory or (lambda: copy.deepcopy(model))
    return SanityReport(
        [
            initial_loss_check(model, loss, X, y),
            regularization_check(model, loss, X, y),
            overfit_check(factory, loss, X, y, n_samples=n_overfit, seed=seed),
        ]
    )
