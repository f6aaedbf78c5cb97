"""Compare an analytic gradient with centred finite differences (CS231n's gradient check).

:func:`check_gradient` checks any scalar function; :func:`check_loss_gradient` checks a named
loss at random inputs of the kinds it expects (:func:`gradcheck_inputs`). A point on a kink
(the hinge at zero margin: the seeds' "non-differentiable points") is reported as a
:class:`Kink` with its one-sided slopes, not as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import losses


@dataclass
class Kink:
    """A coordinate where f is not twice differentiable, and the analytic value a subgradient.

    ``kind`` is "slope" where the one-sided slopes differ (a hinge at zero margin),
    "near" where such a kink lies within the step but off the point, and
    "curvature" where the slopes meet but the second derivative jumps (the squared
    hinge at zero margin): there the centred difference is only first-order accurate.

    Attributes
    ----------
    index : tuple of int
        The coordinate of x.
    analytic : float
        The analytic gradient there, a subgradient: it lies between the slopes.
    left : float
        The backward difference (f(x) − f(x − h)) / h.
    right : float
        The forward difference (f(x + h) − f(x)) / h.
    kind : {"slope", "near", "curvature"}
        What kind of kink, as above.

    Examples
    --------
    The hinge max(0, 1 + s₀ − s₁) with its margin exactly 0:

    >>> from losslab import losses
    >>> scores, y = np.array([[0.0, 1.0, -5.0]]), np.array([1])
    >>> kink = check_gradient(lambda s: losses.multiclass_hinge(s, y), scores).kinks[0]
    >>> kink.index, kink.kind, round(kink.left, 4), round(kink.right, 4), kink.analytic
    ((0, 0), 'slope', 0.0, 1.0, 0.0)

    References
    ----------
    CS231n notes, "Neural Networks Part 3: gradient checks" (kinks in the objective).
    """

    index: tuple
    analytic: float
    left: float  # the backward difference (f(x) - f(x - h)) / h
    right: float  # the forward difference (f(x + h) - f(x)) / h
    kind: str = "slope"

    def __str__(self):
        slopes = f"one-sided slopes {self.left:.6g} and {self.right:.6g}"
        if self.kind == "slope":
            what = f"not differentiable here: {slopes}"
        elif self.kind == "near":
            what = f"not differentiable within the step ({slopes}; a smaller step agrees)"
        else:
            what = f"the curvature jumps here ({slopes}, apart by O(step))"
        return f"  kink at {self.index}: {what}; analytic {self.analytic:.6g}"


@dataclass
class GradientReport:
    """Per-coordinate comparison of analytic and numerical gradients.

    Coordinates listed in ``kinks`` sit on (or within a step of) a kink: their
    centred difference mixes two different one-sided slopes, so their relative
    error is kept in ``rel_error`` but not counted in ``max_rel_error`` or ``ok``.

    Attributes
    ----------
    indices : list of tuple
        The checked coordinates of x.
    analytic : np.ndarray of shape (k,)
        The analytic gradient at each, float64.
    numerical : np.ndarray of shape (k,)
        The centred difference at each.
    rel_error : np.ndarray of shape (k,)
        ``|a − n| / max(|a| + |n|, tiny)`` at each (see :func:`check_gradient`).
    eps : float
        The step (the median one when it varies by coordinate).
    tolerance : float
        The largest relative error that passes.
    kinks : list of Kink
        The coordinates on or near a kink, not counted.
    max_rel_error : float
        The largest relative error over the other coordinates.
    worst_index : tuple or None
        Where it is.
    ok : bool
        Whether ``max_rel_error <= tolerance``.

    Examples
    --------
    >>> report = check_gradient(lambda x: float(x @ x), np.array([1.0, 2.0]),
    ...                         analytic=np.array([2.0, 5.0]))  # the second entry is wrong
    >>> report.ok, report.worst_index, round(report.max_rel_error, 4)
    (False, (1,), 0.1111)
    >>> print(report)
    gradient check FAIL: max relative error 1.11e-01 (tolerance 1e-05) over 2 coordinates, step 9.1e-06
      worst at (1,): analytic 5, numerical 4

    References
    ----------
    CS231n notes, "Neural Networks Part 3: gradient checks".
    """

    indices: list  # the checked coordinates (tuples into x)
    analytic: np.ndarray
    numerical: np.ndarray
    rel_error: np.ndarray
    eps: float
    tolerance: float
    kinks: list = field(default_factory=list)  # Kink per non-differentiable coordinate

    @property
    def _counted(self):
        """Relative errors of the differentiable coordinates (kinks read as -1)."""
        at_kink = {k.index for k in self.kinks}
        mask = np.array([i in at_kink for i in self.indices], dtype=bool)
        return np.where(mask, -1.0, self.rel_error) if self.kinks else self.rel_error

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over the differentiable coordinates."""
        return max(float(self._counted.max()), 0.0) if self.rel_error.size else 0.0

    @property
    def worst_index(self) -> tuple[int, ...] | None:
        """The differentiable coordinate with the largest relative error (None if none)."""
        counted = self._counted
        if not counted.size or counted.max() < 0:
            return None
        return self.indices[int(counted.argmax())]

    @property
    def ok(self) -> bool:
        """Whether every differentiable coordinate is within the tolerance."""
        return self.max_rel_error <= self.tolerance

    def __str__(self):
        verdict = "PASS" if self.ok else "FAIL"
        worst = self.worst_index
        lines = [
            f"gradient check {verdict}: max relative error {self.max_rel_error:.2e} "
            f"(tolerance {self.tolerance:.0e}) over {len(self.indices)} coordinates, step {self.eps:.1e}",
        ]
        if worst is not None:
            k = int(self._counted.argmax())
            lines.append(
                f"  worst at {worst}: analytic {self.analytic[k]:.6g}, numerical {self.numerical[k]:.6g}"
            )
        if self.kinks:
            lines.append(f"  {len(self.kinks)} coordinate(s) at a kink, not counted as failures:")
            lines.extend(str(kink) for kink in self.kinks)
        return "\n".join(lines)


def check_gradient(
    f: Callable[[np.ndarray], Any],
    x: ArrayLike,
    *,
    analytic: ArrayLike | None = None,
    eps: float | None = None,
    n_checks: int | None = None,
    seed: int = 0,
    tolerance: float | None = None,
) -> GradientReport:
    r"""Check the gradient of the scalar function ``f`` at ``x`` by centred differences.

    .. math::

        n_i = \frac{f(x + h e_i) - f(x - h e_i)}{2h}, \qquad
        \text{error}_i = \frac{|a_i - n_i|}{\max(|a_i| + |n_i|, \text{tiny})}

    The relative error per coordinate is ``|a - n| / max(|a| + |n|, tiny)``,
    where ``tiny`` is the larger of ``sqrt(machine eps) * max(1, max|a|)`` and the
    rounding noise of the centred difference (``10 eps |f| / h``) over the
    tolerance, so coordinates whose gradient is zero up to rounding do not read
    as large errors.

    A coordinate that fails only because ``x`` sits on a kink (a hinge at exactly
    zero margin) is reported in ``kinks``, with its two one-sided slopes, and not
    counted as a failure: its one-sided differences disagree beyond the tolerance
    at step h and at h/4 (a jump in slope, not curvature), and the analytic value
    lies between them (a subgradient). Any other disagreement still fails.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a scalar, or a ``LossResult`` or any pair ``(value, grad)``
        such as your own loss returns (whose ``grad`` is then the
        analytic gradient unless ``analytic`` is given).
    x : ndarray
        The point; perturbed in place and restored.
    analytic : ndarray, optional
        The analytic gradient at ``x``.
    eps : float, optional
        The step; by default ``cbrt(machine epsilon) * max(1, |x_i|)`` for x's
        dtype (about 6e-6 in float64, 5e-3 in float32), the step that balances
        truncation against rounding for centred differences.
    n_checks : int, optional
        Check this many random coordinates (CS231n's ``grad_check_sparse``)
        instead of all of them.
    seed : int, default 0
        Seeds the choice of those coordinates.
    tolerance : float, optional
        ``ok`` when the largest relative error is at most this
        (default 1e-5 in float64, 2e-2 in float32).

    Returns
    -------
    GradientReport
        ``ok``, ``max_rel_error`` and ``worst_index`` over the differentiable
        coordinates; ``kinks`` for the others.

    Raises
    ------
    TypeError
        If ``x`` is not a float array.
    ValueError
        If there is no analytic gradient, or it is not of x's shape.

    Examples
    --------
    The Weston-Watkins hinge with the first wrong class exactly at the margin:

    >>> from losslab import losses
    >>> scores, y = np.array([[0.0, 1.0, -5.0]]), np.array([1])
    >>> report = check_gradient(lambda s: losses.multiclass_hinge(s, y), scores)
    >>> report.ok, [k.index for k in report.kinks]
    (True, [(0, 0), (0, 1)])

    References
    ----------
    CS231n notes, "Neural Networks Part 3: gradient checks"; W. H. Press et al.,
    *Numerical Recipes*, 3rd ed. (2007), section 5.7 (the step that balances
    truncation and rounding).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"x: expected a float array, got dtype {x.dtype} instead")
    if analytic is None:
        out = f(x)
        if not _is_pair(out):
            raise ValueError(
                "analytic: expected a gradient, or f returning LossResult(value, grad)"
            )
        analytic = out[1]
    analytic = np.asarray(analytic)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic: expected shape {x.shape}, got shape {analytic.shape} instead")
    finfo = np.finfo(x.dtype)
    indices = _coordinates(x.shape, n_checks, seed)
    a = np.array([analytic[i] for i in indices], dtype=np.float64)
    steps = np.array(
        [
            eps if eps is not None else np.cbrt(finfo.eps) * max(1.0, abs(float(x[i])))
            for i in indices
        ]
    )
    n = np.array([_centred_difference(f, x, i, h) for i, h in zip(indices, steps, strict=True)])
    tol = tolerance if tolerance is not None else (1e-5 if finfo.bits == 64 else 2e-2)
    # a centred difference carries rounding noise of about eps·|f|/h: below that, a gradient
    # of ~0 cannot be told from noise, so relative errors are measured against this floor
    noise = 10 * finfo.eps * max(1.0, abs(_value(f(x)))) / steps
    tiny = np.maximum(np.sqrt(finfo.eps) * max(1.0, float(np.abs(a).max(initial=0))), noise / tol)
    rel = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), tiny)
    kinks = [
        kink
        for k in np.flatnonzero(rel > tol)
        if (kink := _kink(f, x, indices[k], steps[k], a[k], tol, tiny[k])) is not None
    ]
    eps_used = float(np.median(steps)) if len(steps) else 0.0
    return GradientReport(indices, a, n, rel, eps_used, tol, kinks)


def _is_pair(out):
    return isinstance(out, tuple) and len(out) == 2


def _value(out):
    """The checked scalar: f's value, or the sum of per-sample values (their gradient's)."""
    return float(np.sum(out[0], dtype=np.float64)) if _is_pair(out) else float(out)


def _kink(f, x, index, h, analytic, tol, tiny):
    """A :class:`Kink` if a kink at or near ``x[index]`` explains the failure, else None.

    The analytic value must lie between the one-sided slopes (else it is simply
    wrong). A jump in slope at x: the slopes disagree beyond the tolerance at step
    h and still at h/4 (a smooth function's disagreement is h·f'' and shrinks
    with the step). Otherwise the centred difference must move toward the
    analytic value as the step shrinks (a wrong gradient's error stays): by 2 to 8
    times with a disagreement shrinking with the step, the slope is continuous but
    the curvature jumps (the squared hinge at zero margin; a smooth function's
    error would shrink 16 times); with any other disagreement, a kink lies within
    the step, off x.
    """
    left, right = _one_sided_differences(f, x, index, h)
    scale = max(abs(left) + abs(right), tiny)
    if not min(left, right) - tol * scale <= analytic <= max(left, right) + tol * scale:
        return None
    small_left, small_right = _one_sided_differences(f, x, index, h / 4)
    jump, small_jump = abs(right - left), abs(small_right - small_left)
    if jump > tol * scale and small_jump >= jump / 2:
        return Kink(index, float(analytic), float(left), float(right))
    error = abs((left + right) / 2 - analytic)
    small_error = abs((small_left + small_right) / 2 - analytic)
    if small_error > error / 2:
        return None
    if 3 * small_jump <= jump <= 5 * small_jump:  # disagreement in proportion to the step
        curvature = error <= 8 * small_error
        return (
            Kink(index, float(analytic), float(left), float(right), "curvature")
            if curvature
            else None
        )
    return Kink(index, float(analytic), float(left), float(right), "near")


def _one_sided_differences(f, x, index, h):
    """(backward, forward) differences of f along coordinate ``index`` with step h."""
    old = x[index]
    centre = _value(f(x))
    x[index] = old + h
    plus, up = _value(f(x)), float(x[index]) - float(old)
    x[index] = old - h
    minus, down = _value(f(x)), float(old) - float(x[index])
    x[index] = old
    return (centre - minus) / down, (plus - centre) / up


def _centred_difference(f, x, index, h):
    old = x[index]
    x[index] = old + h
    plus = _value(f(x))
    x[index] = old - h
    minus = _value(f(x))
    x[index] = old
    # divide by the step actually taken, which rounding in x's dtype may change
    return (plus - minus) / (float(old + x.dtype.type(h)) - float(old - x.dtype.type(h)))


def _coordinates(shape, n_checks, seed):
    size = int(np.prod(shape))
    if n_checks is None or n_checks >= size:
        return list(np.ndindex(*shape))
    flat = np.random.default_rng(seed).choice(size, size=n_checks, replace=False)
    return [tuple(int(k) for k in np.unravel_index(i, shape)) for i in flat]


def gradcheck_inputs(
    loss: str | Callable[..., Any],
    shape: tuple[int, int] = (8, 5),
    *,
    dtype: DTypeLike = "float64",
    seed: int = 0,
    on_kinks: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Random inputs at which to check a loss's gradient: ``(output, [targets...])``.

    ``output`` has ``shape`` (N, C) and ``dtype``; the targets are what the loss's task
    expects: class labels, 0/1 targets, real targets, a second input and ±1 labels
    (margin ranking), positives and negatives (triplet margin) or embedding labels.
    Probability inputs (categorical and binary cross-entropy) stay away from 0 and 1.
    With ``on_kinks`` the output (and real targets) are integers in [-2, 2]: score
    differences of exactly 1 and residuals of exactly 0 put hinge-type losses and
    L1 on their non-differentiable points.

    Parameters
    ----------
    loss : str or callable
        A registered loss name, or a loss from ``losses.get(f, task=...)``.
    shape : (int, int)
        (N, C), the shape of the output.
    dtype : dtype
        The floating dtype of the output and real targets.
    seed : int
        Seed of the draws.
    on_kinks : bool
        Draw integers in [-2, 2] instead of normal values.

    Returns
    -------
    output : np.ndarray of shape (N, C)
        The loss's first input.
    targets : list of np.ndarray
        Its further inputs, in order.

    Raises
    ------
    ValueError
        If the loss's task is unknown.

    Examples
    --------
    >>> output, (labels,) = gradcheck_inputs("softmax", (4, 3))
    >>> output.shape, output.dtype.name, labels.tolist()
    ((4, 3), 'float64', [1, 2, 1, 0])
    >>> output, (target,) = gradcheck_inputs("huber", (4, 3), on_kinks=True)
    >>> bool(np.all(output == np.round(output))), bool(np.abs(output).max() <= 2)
    (True, True)

    References
    ----------
    CS231n notes, "Neural Networks Part 3: gradient checks" (kinks in the objective).
    """
    loss = losses.get(loss)
    if loss.task is None:
        raise ValueError(
            f"loss: {loss.name} is a plain function of unknown task; "
            "pass losses.get(f, task=...) or a registered name"
        )
    n, c = shape
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)

    def real(size):
        if on_kinks:
            return rng.integers(-2, 3, size).astype(dtype)
        return rng.standard_normal(size).astype(dtype)

    output = real((n, c))
    if loss.task == "multiclass":
        if loss.name == "categorical_cross_entropy":
            output = rng.uniform(0.05, 0.95, (n, c)).astype(dtype)
        return output, [rng.integers(0, c, n)]
    if loss.task == "binary":
        if loss.name == "binary_cross_entropy":
            output = rng.uniform(0.05, 0.95, (n, c)).astype(dtype)
        return output, [rng.integers(0, 2, (n, c)).astype(dtype)]
    if loss.task == "regression":
        return _regression_inputs(loss.name, output, real, rng, dtype)
    if loss.name == "margin_ranking":
        return output, [
            rng.standard_normal((n, c)).astype(dtype),
            rng.choice([-1.0, 1.0], (n, c)).astype(dtype),
        ]
    if loss.name == "triplet_margin":
        return output, [rng.standard_normal((n, c)).astype(dtype) for _ in range(2)]
    if loss.name == "cosine_embedding":
        return output, [real((n, c)), rng.choice([-1.0, 1.0], n).astype(dtype)]
    if loss.name == "hinge_embedding":
        return output, [rng.choice([-1.0, 1.0], (n, c)).astype(dtype)]
    if loss.name == "arcface":  # labels and one weight vector per class
        return output, [rng.integers(0, 3, n), rng.standard_normal((3, c)).astype(dtype)]
    return output, [rng.integers(0, 3, n)]  # batch_triplet, contrastive: labels of the embeddings


def _regression_inputs(name, output, real, rng, dtype):
    """Regression inputs in each loss's domain: counts, positive means, variances."""
    shape = output.shape
    if name == "poisson_nll":
        return output, [rng.poisson(2.0, shape).astype(dtype)]
    if name == "tweedie_deviance":  # the mean is positive
        return rng.uniform(0.5, 2.0, shape).astype(dtype), [rng.poisson(2.0, shape).astype(dtype)]
    if name == "gaussian_nll":
        return output, [real(shape), rng.uniform(0.5, 2.0, shape).astype(dtype)]
    return output, [real(shape)]


# the inputs a loss's gradients belong to, where they are not the first ones in order
GRADIENT_INPUTS = {"gaussian_nll": (0, 2), "arcface": (0, 2)}


def check_loss_gradient(
    loss: str | Callable[..., Any],
    shape: tuple[int, int] = (8, 5),
    *,
    dtype: DTypeLike = "float64",
    n_checks: int | None = None,
    seed: int = 0,
    on_kinks: bool = False,
) -> list[tuple[str, np.ndarray, GradientReport]]:
    """Check a loss's analytic gradient against centred differences at :func:`gradcheck_inputs`.

    Every input the loss returns a gradient for is checked: the output, and for ranking
    losses the other embeddings too (not labels). ``seed`` draws the inputs; ``n_checks``
    as in :func:`check_gradient`; ``on_kinks`` as in :func:`gradcheck_inputs`.

    Parameters
    ----------
    loss : str or callable
        A registered loss name, or a loss from ``losses.get(f, task=...)``.
    shape : (int, int)
        (N, C), the shape of the output.
    dtype : dtype
        The floating dtype of the inputs.
    n_checks : int, optional
        Random coordinates checked per input; all by default.
    seed : int
        Seed of the inputs.
    on_kinks : bool
        Put the inputs on the losses' non-differentiable points.

    Returns
    -------
    list of (str, np.ndarray, GradientReport)
        ``[(input name, input, report), ...]`` with names "output", "input 2", "input 3".

    Examples
    --------
    >>> [(name, report.ok) for name, _, report in check_loss_gradient("softmax", (4, 3))]
    [('output', True)]
    >>> [name for name, _, _ in check_loss_gradient("triplet_margin", (4, 3))]
    ['output', 'input 2', 'input 3']

    References
    ----------
    CS231n notes, "Neural Networks Part 3: gradient checks".
    """
    loss = losses.get(loss)
    output, targets = gradcheck_inputs(loss, shape, dtype=dtype, seed=seed, on_kinks=on_kinks)
    inputs = [output, *targets]
    grad = loss(*inputs).grad
    grads = grad if isinstance(grad, tuple) else (grad,)
    checks = []
    for k, analytic in zip(GRADIENT_INPUTS.get(loss.name, range(len(grads))), grads, strict=True):

        def f(x, k=k):
            return loss(*inputs[:k], x, *inputs[k + 1 :]).value

        report = check_gradient(f, inputs[k].copy(), analytic=analytic, n_checks=n_checks)
        checks.append(("output" if k == 0 else f"input {k + 1}", inputs[k], report))
    return checks
