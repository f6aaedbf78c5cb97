"""Compare an analytic gradient with centred finite differences (CS231n's gradient check).

:func:`check_gradient` checks any scalar function; :func:`check_loss_gradient` checks a named
loss at random inputs of the kinds it expects (:func:`gradcheck_inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import losses
from ..losses import LossResult


@dataclass
class GradientReport:
    """Per-coordinate comparison of analytic and numerical gradients."""

    indices: list  # the checked coordinates (tuples into x)
    analytic: np.ndarray
    numerical: np.ndarray
    rel_error: np.ndarray
    eps: float
    tolerance: float

    @property
    def max_rel_error(self):
        return float(self.rel_error.max()) if self.rel_error.size else 0.0

    @property
    def worst_index(self):
        return self.indices[int(self.rel_error.argmax())] if self.rel_error.size else None

    @property
    def ok(self):
        return self.max_rel_error <= self.tolerance

    def __str__(self):
        verdict = "PASS" if self.ok else "FAIL"
        worst = self.worst_index
        lines = [
            f"gradient check {verdict}: max relative error {self.max_rel_error:.2e} "
            f"(tolerance {self.tolerance:.0e}) over {len(self.indices)} coordinates, step {self.eps:.1e}",
        ]
        if worst is not None:
            k = int(self.rel_error.argmax())
            lines.append(
                f"  worst at {worst}: analytic {self.analytic[k]:.6g}, numerical {self.numerical[k]:.6g}"
            )
        return "\n".join(lines)


def check_gradient(f, x, *, analytic=None, eps=None, n_checks=None, seed=0, tolerance=None):
    """Check the gradient of the scalar function ``f`` at ``x`` by centred differences.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a scalar or a ``LossResult`` (whose ``grad`` is then the
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
    tolerance : float, optional
        ``ok`` when the largest relative error is at most this
        (default 1e-5 in float64, 2e-2 in float32).

    The relative error per coordinate is ``|a - n| / max(|a| + |n|, tiny)``,
    where ``tiny`` is the larger of ``sqrt(machine eps) * max(1, max|a|)`` and the
    rounding noise of the centred difference (``10 eps |f| / h``) over the
    tolerance, so coordinates whose gradient is zero up to rounding do not read
    as large errors.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"x: expected a float array, got dtype {x.dtype} instead")
    if analytic is None:
        out = f(x)
        if not isinstance(out, LossResult):
            raise ValueError(
                "analytic: expected a gradient, or f returning LossResult(value, grad)"
            )
        analytic = out.grad
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
    return GradientReport(indices, a, n, rel, float(np.median(steps)) if len(steps) else 0.0, tol)


def _value(out):
    return float(out.value if isinstance(out, LossResult) else out)


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


def gradcheck_inputs(loss, shape=(8, 5), *, dtype="float64", seed=0):
    """Random inputs at which to check a loss's gradient: ``(output, [targets...])``.

    ``output`` has ``shape`` (N, C) and ``dtype``; the targets are what the loss's task
    expects: class labels, 0/1 targets, real targets, a second input and ±1 labels
    (margin ranking), positives and negatives (triplet margin) or embedding labels.
    Probability inputs (categorical and binary cross-entropy) stay away from 0 and 1.
    """
    loss = losses.get(loss)
    n, c = shape
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    output = rng.standard_normal((n, c)).astype(dtype)
    if loss.task == "multiclass":
        if loss.name == "categorical_cross_entropy":
            output = rng.uniform(0.05, 1.0, (n, c)).astype(dtype)
        return output, [rng.integers(0, c, n)]
    if loss.task == "binary":
        if loss.name == "binary_cross_entropy":
            output = rng.uniform(0.05, 0.95, (n, c)).astype(dtype)
        return output, [rng.integers(0, 2, (n, c)).astype(dtype)]
    if loss.task == "regression":
        return output, [rng.standard_normal((n, c)).astype(dtype)]
    if loss.name == "margin_ranking":
        return output, [
            rng.standard_normal((n, c)).astype(dtype),
            rng.choice([-1.0, 1.0], (n, c)).astype(dtype),
        ]
    if loss.name == "triplet_margin":
        return output, [rng.standard_normal((n, c)).astype(dtype) for _ in range(2)]
    return output, [rng.integers(0, 3, n)]  # batch_triplet, contrastive: labels of the embeddings


def check_loss_gradient(loss, shape=(8, 5), *, dtype="float64", n_checks=None, seed=0):
    """Check a loss's analytic gradient against centred differences at :func:`gradcheck_inputs`.

    Every input the loss returns a gradient for is checked: the output, and for ranking
    losses the other embeddings too (not labels). ``seed`` draws the inputs; ``n_checks``
    as in :func:`check_gradient`. Returns ``[(input name, input, GradientReport), ...]``
    with names "output", "input 2", "input 3".
    """
    loss = losses.get(loss)
    output, targets = gradcheck_inputs(loss, shape, dtype=dtype, seed=seed)
    inputs = [output, *targets]
    grad = loss(*inputs).grad
    grads = grad if isinstance(grad, tuple) else (grad,)
    checks = []
    for k, analytic in enumerate(grads):

        def f(x, k=k):
            return loss(*inputs[:k], x, *inputs[k + 1 :]).value

        report = check_gradient(f, inputs[k].copy(), analytic=analytic, n_checks=n_checks)
        checks.append(("output" if k == 0 else f"input {k + 1}", inputs[k], report))
    return checks
