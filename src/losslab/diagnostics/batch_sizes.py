r"""The batch-size lesson: bigger mini-batches give diminishing returns.

On a generated problem large enough for the lesson (200,000 rows by default),
a linear softmax classifier is trained by plain SGD from zero weights until its
training loss reaches a target, at every batch size B with the learning rate
of one fixed grid that gets there in fewest steps. For each B the lesson records

- the **steps** and the **samples seen** (steps × B) to the target, and the wall time;
- the **gradient noise** at the start: :math:`E\|g_B - g\|^2`, the squared distance
  of a mini-batch gradient :math:`g_B` from the full gradient :math:`g`, measured
  over random batches. For batches drawn without replacement from N rows it is

  .. math:: E\|g_B - g\|^2 = \frac{\sigma^2}{B}\,\frac{N - B}{N - 1},
     \qquad \sigma^2 = \frac1N \sum_i \|g_i - g\|^2 ,

  which falls as 1/B (the second factor is 0.92 at B = 16,384 of 200,000); σ²
  is computed exactly from the per-example gradients and printed beside it.

Small batches take many cheap, noisy steps: doubling B halves the noise and
nearly halves the steps. Once the noise is small next to the gradient itself
(B above the *noise scale* :math:`B_{noise} = \sigma^2 / \|g\|^2`, McCandlish
et al., 2018) a step cannot get better by averaging more samples: the steps
stop falling and every doubling of B doubles the samples seen for nothing.

References
----------
S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import models, optim
from ..training import Diverged, Objective, TrainState, take_steps
from ..training.files import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_SIZES",
    "BatchSizeLesson",
    "BatchSizeRow",
    "batch_size_figure",
    "batch_size_lesson",
    "generated_problem",
    "gradient_noise",
]

DEFAULT_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
EVAL_ROWS = 4096  # the training loss is watched on a fixed sample of this many rows
CONDITION = 10.0  # the largest feature scale over the smallest
LEARNING_RATES = tuple(
    0.0125 * 2.0**k for k in range(12)
)  # 0.0125 to 25.6, the same for every size


@dataclass
class BatchSizeRow:
    """One batch size: the cost to the target and the noise of its gradient.

    Attributes
    ----------
    batch_size : int
        B, the rows per mini-batch.
    steps : int or None
        SGD steps to the target loss; None if no learning rate of the grid got
        there within ``max_steps``.
    samples : int or None
        Samples seen to the target, steps × B.
    lr : float or None
        The learning rate of the grid that needed fewest steps.
    seconds : float
        Wall time of that run.
    noise : float
        The measured gradient noise E‖g_B − g‖² at the start.
    predicted_noise : float
        Its prediction σ²/B · (N − B)/(N − 1).

    Examples
    --------
    >>> row = BatchSizeRow(64, steps=100, samples=6400, lr=0.1, seconds=0.5,
    ...                    noise=0.05, predicted_noise=0.05)
    >>> row.samples == row.steps * row.batch_size
    True

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """

    batch_size: int
    steps: int | None  # None: not reached within max_steps at any learning rate
    samples: int | None  # steps × batch size
    lr: float | None  # the learning rate of the grid that needed fewest steps
    seconds: float  # wall time of that run
    noise: float  # measured E‖g_B − g‖² at the start
    predicted_noise: float  # σ²/B · (N − B)/(N − 1)


@dataclass
class BatchSizeLesson:
    """The batch-size lesson's result: one row per batch size and the problem's constants.

    Attributes
    ----------
    rows : list of BatchSizeRow
        One row per batch size, smallest first.
    n_rows : int
        N, the rows of the generated problem.
    target : float
        The training loss each size had to reach.
    initial_loss : float
        The loss at zero weights, ln C.
    true_loss : float
        The loss of the weights that generated the labels.
    sigma2 : float
        σ², the variance of the per-example gradients at the start.
    noise_scale : float
        σ² / ‖g‖², the batch size at which the noise equals the squared gradient.

    Examples
    --------
    >>> lesson = batch_size_lesson((32, 128), n_rows=1000, lrs=(0.8, 1.6, 3.2),
    ...                            target_fraction=0.5, max_steps=200, n_batches=4)
    >>> [row.batch_size for row in lesson.rows], round(lesson.initial_loss, 4)  # ln 4
    ([32, 128], 1.3863)
    >>> sorted(lesson.as_dict())
    ['initial_loss', 'n_rows', 'noise_scale', 'rows', 'sigma2', 'target', 'true_loss']

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """

    rows: list
    n_rows: int
    target: float  # the training loss to reach
    initial_loss: float  # ln C at zero weights
    true_loss: float  # the loss of the weights that generated the labels
    sigma2: float  # per-example gradient variance σ² at the start
    noise_scale: float  # σ² / ‖g‖²: the batch size where noise equals the gradient

    def as_dict(self) -> dict:
        """The lesson as plain dicts and numbers, the rows included (for JSON)."""
        return {**asdict(self), "rows": [asdict(r) for r in self.rows]}


def generated_problem(
    n_rows: int, n_features: int = 16, n_classes: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, W) with labels drawn from softmax(X W): a problem with label noise, so loss > 0.

    The features' scales fall from 1 to ``1/CONDITION`` and every feature
    carries the same signal (its weights grow as its scale falls), so the
    objective is ill-conditioned like real data: the largest stable step is
    set by the large features, the number of steps by the small ones.

    Parameters
    ----------
    n_rows : int
        N, the rows.
    n_features : int
        D, the features.
    n_classes : int
        C, the classes.
    seed : int
        Seed of the features, weights and labels.

    Returns
    -------
    X : np.ndarray of shape (N, D)
        Gaussian features with scales from 1 down to ``1/CONDITION``.
    y : np.ndarray of shape (N,)
        Labels drawn from softmax(X W).
    W : np.ndarray of shape (D, C)
        The generating weights.

    Examples
    --------
    >>> X, y, W = generated_problem(1000)
    >>> X.shape, y.shape, W.shape, int(y.max())
    ((1000, 16), (1000,), (16, 4), 3)

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """
    rng = np.random.default_rng(seed)
    scales = np.logspace(0, -np.log10(CONDITION), n_features)
    X = rng.standard_normal((n_rows, n_features)) * scales
    W = 0.5 * rng.standard_normal((n_features, n_classes)) / scales[:, None]
    scores = X @ W
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (p.cumsum(axis=1) > rng.random((n_rows, 1))).argmax(axis=1)
    return X, y, W


def _zero_model(n_features, n_classes):
    model = models.Linear(n_features, n_classes)
    for p in model.params.values():
        p[...] = 0.0
    return model


def _flat_grad(objective, X, y):
    _, grads, _ = objective.value_and_grads(X, y)
    return np.concatenate([g.ravel() for g in grads.values()])


def per_example_variance(objective: Objective, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(σ², ‖g‖²): the variance of the per-example gradients of a linear model, and the full one.

    For scores s = x W + b the gradient of example i is :math:`x_i \\otimes d_i`
    and :math:`d_i` (W and b), with :math:`d_i = \\partial l_i / \\partial s_i`,
    so :math:`\\|g_i\\|^2 = (\\|x_i\\|^2 + 1)\\,\\|d_i\\|^2`, and

    .. math:: \\sigma^2 = \\frac1N \\sum_i \\|g_i\\|^2 - \\|g\\|^2 ,

    with no per-example gradient ever formed.

    Parameters
    ----------
    objective : Objective
        A linear model (``models.Linear``) with its loss, unregularised.
    X : np.ndarray of shape (N, D)
        The features.
    y : np.ndarray of shape (N,)
        The labels.

    Returns
    -------
    sigma2 : float
        :math:`\\frac1N \\sum_i \\|g_i - g\\|^2`.
    g2 : float
        :math:`\\|g\\|^2`, the squared norm of the full-batch gradient.

    Examples
    --------
    >>> X, y, _ = generated_problem(50)
    >>> objective = Objective(_zero_model(16, 4), "softmax")
    >>> G = np.array([  # every example's gradient, the slow way
    ...     np.concatenate([g.ravel() for g in objective.value_and_grads(X[i : i + 1], y[i : i + 1])[1].values()])
    ...     for i in range(50)
    ... ])
    >>> sigma2, g2 = per_example_variance(objective, X, y)
    >>> bool(np.isclose(sigma2, ((G - G.mean(axis=0)) ** 2).sum(axis=1).mean()))
    True
    >>> bool(np.isclose(g2, G.mean(axis=0) @ G.mean(axis=0)))
    True

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """
    scores, _ = objective.model.forward(X)
    d = objective.loss(scores, y, reduction="none").grad
    g = _flat_grad(objective, X, y)
    mean_sq = float(np.mean((np.einsum("ij,ij->i", X, X) + 1.0) * np.einsum("ij,ij->i", d, d)))
    g2 = float(g @ g)
    return mean_sq - g2, g2


def gradient_noise(
    objective: Objective,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    n_batches: int = 32,
    seed: int = 0,
) -> float:
    """Mean of ‖g_B − g‖² over ``n_batches`` random batches of ``batch_size`` rows (no replacement).

    For batches drawn without replacement it should be close to
    σ²/B · (N − B)/(N − 1) (see :func:`per_example_variance`).

    Parameters
    ----------
    objective : Objective
        The model and loss whose gradient is measured.
    X : np.ndarray of shape (N, D)
        The features.
    y : np.ndarray of shape (N,)
        The labels.
    batch_size : int
        B, at most N.
    n_batches : int
        Random batches averaged.
    seed : int
        Seed of the batches.

    Returns
    -------
    float
        The mean squared distance of a batch gradient from the full gradient.

    Examples
    --------
    >>> X, y, _ = generated_problem(20000)
    >>> objective = Objective(_zero_model(16, 4), "softmax")
    >>> ratio = gradient_noise(objective, X, y, 16) / gradient_noise(objective, X, y, 256)
    >>> 12 < ratio < 20
    True

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """
    rng = np.random.default_rng(seed)
    full = _flat_grad(objective, X, y)
    total = 0.0
    for _ in range(n_batches):
        idx = rng.choice(len(X), batch_size, replace=False)
        diff = _flat_grad(objective, X[idx], y[idx]) - full
        total += float(diff @ diff)
    return total / n_batches


def steps_to_target(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    lr: float,
    target: float,
    max_steps: int,
    seed: int = 0,
    eval_rows: int = EVAL_ROWS,
) -> tuple[int | None, float]:
    """(steps, seconds): plain SGD from zero weights until the loss on the first rows is <= target.

    The loss is checked every ``max(1, 128 // batch_size)`` steps (every 128
    samples or more), so the count of a small batch is rounded up to that.
    Steps run through the one training loop (:func:`~losslab.training.take_steps`).

    Parameters
    ----------
    X : np.ndarray of shape (N, D)
        The features.
    y : np.ndarray of shape (N,)
        Integer labels 0 .. C - 1.
    batch_size : int
        Rows per step.
    lr : float
        The constant learning rate.
    target : float
        The softmax loss to reach, on the first ``eval_rows`` rows.
    max_steps : int
        Steps allowed.
    seed : int
        Seed of the shuffling.
    eval_rows : int
        Rows on which the loss is watched.

    Returns
    -------
    steps : int or None
        Steps taken to the target; None if not reached (or the run diverged).
    seconds : float
        Wall time of the run.

    Examples
    --------
    >>> X, y, _ = generated_problem(1000)
    >>> steps, seconds = steps_to_target(X, y, 64, lr=1.6, target=1.2, max_steps=200)
    >>> 0 < steps < 200
    True
    >>> steps_to_target(X, y, 64, lr=1.6, target=0.0, max_steps=20)[0] is None  # unreachable
    True

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """
    n_classes = int(y.max()) + 1
    objective = Objective(_zero_model(X.shape[1], n_classes), "softmax")
    opt = optim.get("sgd")
    state = TrainState(opt, opt.init(objective.model.params), np.random.default_rng(seed))
    X_eval, y_eval = X[:eval_rows], y[:eval_rows]
    every = max(1, 128 // batch_size)
    reached = []

    def batches():
        while state.step < max_steps:
            order = state.shuffle_rng.permutation(len(X))
            for start in range(0, len(X) - batch_size + 1, batch_size):
                idx = order[start : start + batch_size]
                yield X[idx], y[idx], None
                done = state.step + 1  # take_steps counts the step after using the batch
                if done % every == 0 and objective.value_and_grads(X_eval, y_eval)[0] <= target:
                    reached.append(done)
                    return
                if done >= max_steps:
                    return

    started = time.perf_counter()
    try:
        take_steps(
            lambda Xb, yb, w: objective.value_and_grads(Xb, yb),
            objective.model.params,
            state,
            batches(),
            lambda epoch: lr,
        )
    except Diverged:  # too large a step for this batch size: it never reaches the target
        return None, time.perf_counter() - started
    return (reached[0] if reached else None), time.perf_counter() - started


def fewest_steps(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    lrs: Sequence[float],
    target: float,
    max_steps: int,
    seed: int = 0,
    start_lr: float | None = None,
) -> tuple[int | None, float | None, float]:
    """(steps, lr, seconds) of the learning rate in ``lrs`` that reaches ``target`` in fewest steps.

    The rates are tried from ``start_lr`` (default: the smallest) upwards; a
    run may take no more steps than the best so far, and the search stops at
    the first larger rate that does not beat it (steps against the rate have
    one minimum). A larger batch is never slower at the rate that suited a
    smaller one, so each size starts from the previous size's best rate.

    Parameters
    ----------
    X : np.ndarray of shape (N, D)
        The features.
    y : np.ndarray of shape (N,)
        Integer labels.
    batch_size : int
        Rows per step.
    lrs : sequence of float
        The learning rates to try.
    target : float
        The loss to reach (see :func:`steps_to_target`).
    max_steps : int
        Steps allowed to the first rate that reaches the target.
    seed : int
        Seed of the shuffling.
    start_lr : float, optional
        The smallest rate tried.

    Returns
    -------
    steps : int or None
        The fewest steps to the target; None if no rate reached it.
    lr : float or None
        The rate that took them.
    seconds : float
        That run's wall time.

    Examples
    --------
    >>> X, y, _ = generated_problem(1000)
    >>> steps, lr, _ = fewest_steps(X, y, 64, lrs=(0.8, 1.6, 3.2), target=1.1, max_steps=200)
    >>> steps < steps_to_target(X, y, 64, lr=0.8, target=1.1, max_steps=200)[0], lr > 0.8
    (True, True)

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """
    best: tuple[int | None, float | None, float] = (None, None, 0.0)
    for lr in sorted(r for r in lrs if start_lr is None or r >= start_lr):
        cap = max_steps if best[0] is None else best[0] - 1
        steps, seconds = steps_to_target(
            X, y, batch_size, lr=lr, target=target, max_steps=cap, seed=seed
        )
        if steps is not None:
            best = (steps, lr, seconds)
        elif best[0] is not None:
            break
    return best


def batch_size_lesson(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    n_rows: int = 200_000,
    lrs: Sequence[float] = LEARNING_RATES,
    target_fraction: float = 0.02,
    max_steps: int = 20_000,
    n_batches: int = 32,
    seed: int = 0,
    on_size: Callable[[BatchSizeRow], object] | None = None,
) -> BatchSizeLesson:
    """Steps, samples, time and gradient noise for each batch size on one generated problem.

    Parameters
    ----------
    sizes : sequence of int
        Batch sizes, each at most ``n_rows``.
    n_rows : int, default 200,000
        Rows of the generated problem (16 features, 4 classes).
    lrs : sequence of float
        The plain-SGD learning rates (default: 0.0125 to 25.6 by factors of 2);
        each size keeps the one that reaches the target in fewest steps
        (McCandlish et al. compare batch sizes each at its best rate, too).
    target_fraction : float, default 0.02
        The target loss lies this fraction of the way from the loss of the
        generating weights up to the initial loss ln C.
    max_steps : int
        A size that has not reached the target by then is reported as None.
    n_batches : int
        Batches averaged for each noise measurement.
    seed : int
        Seed of the shuffling and of the noise batches (the problem is fixed).
    on_size : callable, optional
        Called with each :class:`BatchSizeRow` as it is done (a progress bar).

    Returns
    -------
    BatchSizeLesson
        One row per size, and σ², the noise scale and the losses.

    Raises
    ------
    ValueError
        If a size is below 1 or above ``n_rows``.

    Examples
    --------
    >>> lesson = batch_size_lesson((32, 128), n_rows=1000, lrs=(0.8, 1.6, 3.2),
    ...                            target_fraction=0.5, max_steps=200, n_batches=4)
    >>> small, large = lesson.rows
    >>> large.steps < small.steps, large.samples > small.samples  # fewer steps, more samples
    (True, True)
    >>> small.noise > large.noise
    True

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """
    sizes = _checked_sizes(sizes, n_rows)
    X, y, W = generated_problem(n_rows)
    start = Objective(_zero_model(X.shape[1], W.shape[1]), "softmax")
    truth = Objective(_zero_model(X.shape[1], W.shape[1]), "softmax")
    truth.model.params["W"][...] = W
    initial = float(start.value_and_grads(X[:EVAL_ROWS], y[:EVAL_ROWS])[0])
    true_loss = float(truth.value_and_grads(X[:EVAL_ROWS], y[:EVAL_ROWS])[0])
    target = true_loss + target_fraction * (initial - true_loss)
    sigma2, g2 = per_example_variance(start, X, y)
    rows, start_lr = [], None
    for b in sizes:
        steps, lr, seconds = fewest_steps(
            X, y, b, lrs=lrs, target=target, max_steps=max_steps, seed=seed, start_lr=start_lr
        )
        start_lr = lr or start_lr
        row = BatchSizeRow(
            b,
            steps,
            None if steps is None else steps * b,
            lr,
            seconds,
            gradient_noise(start, X, y, b, n_batches, seed),
            sigma2 / b * (n_rows - b) / (n_rows - 1),
        )
        rows.append(row)
        if on_size is not None:
            on_size(row)
    return BatchSizeLesson(rows, n_rows, target, initial, true_loss, sigma2, sigma2 / g2)


def _checked_sizes(sizes, n_rows):
    sizes = [int(b) for b in sizes]
    if not sizes or any(b < 1 or b > n_rows for b in sizes):
        raise ValueError(f"sizes: expected batch sizes between 1 and {n_rows}, got {sizes}")
    return sorted(set(sizes))


def batch_size_figure(lesson: BatchSizeLesson, path: str | Path | None = None) -> Figure:
    """Three panels against the batch size: steps to the target, samples seen, gradient noise.

    Parameters
    ----------
    lesson : BatchSizeLesson
        What :func:`batch_size_lesson` returned.
    path : str or Path, optional
        Where to write the PNG (atomically).

    Returns
    -------
    matplotlib.figure.Figure
        A figure not attached to pyplot (no window opens).

    Examples
    --------
    >>> lesson = batch_size_lesson((32, 128), n_rows=1000, lrs=(0.8, 1.6, 3.2),
    ...                            target_fraction=0.5, max_steps=200, n_batches=4)
    >>> fig = batch_size_figure(lesson)
    >>> [ax.get_title() for ax in fig.axes]
    ['steps to the target loss', 'samples to the target loss', 'gradient noise falls as 1/B']

    References
    ----------
    S. McCandlish, J. Kaplan, D. Amodei, "An Empirical Model of Large-Batch Training", 2018.
    """
    from matplotlib.figure import Figure

    rows = lesson.rows
    b = np.array([r.batch_size for r in rows], dtype=float)
    steps = np.array([np.nan if r.steps is None else r.steps for r in rows])
    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_steps, ax_samples, ax_noise = fig.subplots(1, 3)
    ax_steps.loglog(b, steps, "o-", label="measured")
    ax_steps.loglog(b, steps[0] * b[0] / b, ":", color="0.5", label="perfect scaling (steps ∝ 1/B)")
    ax_steps.set(xlabel="batch size B", ylabel="steps", title="steps to the target loss")
    ax_samples.loglog(b, steps * b, "o-", color="tab:orange")
    ax_samples.set(
        xlabel="batch size B", ylabel="samples seen (steps × B)", title="samples to the target loss"
    )
    ax_noise.loglog(b, [r.noise for r in rows], "o", label="measured E‖g_B − g‖²")
    ax_noise.loglog(
        b, [r.predicted_noise for r in rows], "-", color="0.5", label="σ²/B · (N − B)/(N − 1)"
    )
    ax_noise.set(
        xlabel="batch size B", ylabel="gradient noise", title="gradient noise falls as 1/B"
    )
    for ax in (ax_steps, ax_samples, ax_noise):
        ax.axvline(
            lesson.noise_scale,
            color="tab:red",
            ls="--",
            lw=1,
            label=f"noise scale at the start σ²/‖g‖² = {lesson.noise_scale:.0f}",
        )
        ax.legend(fontsize=8)
    fig.suptitle(
        f"plain SGD at each size's best learning rate, {lesson.n_rows:,} rows: "
        f"training loss from {lesson.initial_loss:.3f} to {lesson.target:.3f}"
    )
    if path is not None:
        atomic_write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=110))
    return fig
