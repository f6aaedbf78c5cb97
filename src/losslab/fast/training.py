"""numba kernels for fit's inner loop (the ``fast`` extra): batch gathering, Adam, L2, accuracy,
and a whole epoch of a linear classifier in one call.

Each replaces a handful of NumPy calls whose fixed cost (a few microseconds
each) dominates at training-size batches, and takes the arguments of the NumPy
reference it stands in for (see ``losslab.fast.KERNELS``). They compute exactly
what that NumPy code computes, in the same order and precision (no fastmath;
scalars are rounded to the arrays' dtype as NumPy rounds them), so both paths
give the same numbers; the tests compare them. :func:`linear_epoch` strings
them together with the two matrix products (BLAS, through ``np.dot``), so the
whole step costs no Python call; its sums differ from NumPy's only in order.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .losses import _FLAGS, _NAMESPACES, _copy, _nan_slopes, _row_blocks, weston_watkins_row

PREFETCH_ROWS = 4  # rows requested ahead of the copy (2, 4, 8, 16 measured; 4 was best)


@intrinsic
def _prefetch(typingctx, array, row, col):
    """Ask the CPU to start loading ``array[row, col]``'s cache line (LLVM's prefetch hint)."""
    sig = types.void(array, row, col)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, value=args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1], args[2]])
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read access, keep in all cache levels, data cache
        builder.call(fn, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, nogil=True, boundscheck=False)
def _prefetch_row(X, r):
    for j in range(0, X.shape[1], 16):  # one hint per 64-byte line of float32 (two of float64)
        _prefetch(X, r, j)


@njit(cache=True, nogil=True, boundscheck=False)
def gather_rows(X, idx, out):
    """out[:len(idx)] = X[idx] for a C-contiguous X, asking for rows a few ahead of the copy.

    Random rows of a large X come from main memory; the hints keep several rows'
    loads in flight instead of one (about 30 % faster than ``X[idx]`` for 1 KB rows).
    """
    n = idx.shape[0]
    for i in range(min(PREFETCH_ROWS, n)):
        _prefetch_row(X, idx[i])
    for i in range(n):
        if i + PREFETCH_ROWS < n:
            _prefetch_row(X, idx[i + PREFETCH_ROWS])
        r = idx[i]
        for j in range(X.shape[1]):
            out[i, j] = X[r, j]


# error_model="numpy": a division is IEEE division (no zero check), which lets LLVM vectorise it
@njit(cache=True, nogil=True, error_model="numpy")
def adam_step(param, grad, m, v, beta1, beta2, step, root_bc2, eps):
    """optim's per-array Adam update in one pass, in its order of operations.

    The arrays are C-contiguous of one float dtype (updated through flat views);
    the scalars are rounded to that dtype first, as NumPy does with Python floats.
    """
    real = param.dtype.type
    b1, one_minus_b1, b2, one_minus_b2 = (
        real(beta1),
        real(1.0 - beta1),
        real(beta2),
        real(1.0 - beta2),
    )
    step, root_bc2, eps = real(step), real(root_bc2), real(eps)
    p, g, m, v = param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1)
    for i in range(p.shape[0]):
        gi = g[i]
        m[i] = m[i] * b1 + one_minus_b1 * gi
        v[i] = v[i] * b2 + one_minus_b2 * gi * gi
        p[i] -= step * m[i] / (np.sqrt(v[i]) / root_bc2 + eps)


@njit(cache=True, nogil=True)
def argmax_hits(scores, labels):
    """How many rows' ``argmax`` (the first maximum; the first NaN, as in NumPy) is their label.

    Compares each row's labelled score with the others instead of finding the
    maximum: strictly above those before it, at least those after it.
    """
    count = 0
    for i in range(scores.shape[0]):
        t = labels[i]
        s_t = scores[i, t]
        correct = True
        if s_t != s_t:  # NaN: argmax is the first NaN
            for j in range(t):
                correct &= scores[i, j] == scores[i, j]
        else:  # a NaN elsewhere fails its comparison, as it would win argmax
            for j in range(t):
                correct &= scores[i, j] < s_t
            for j in range(t + 1, scores.shape[1]):
                correct &= scores[i, j] <= s_t
        count += correct
    return count


@njit(cache=True, nogil=True)
def add_l2(W, strength, grad):
    """grad += 2λ·W in place and return λ·ΣW² (summed in float64): the L2 penalty in one pass.

    W and grad are C-contiguous of one float dtype; 2λ is rounded to it first, as NumPy does.
    """
    w, g = W.reshape(-1), grad.reshape(-1)
    two_strength = W.dtype.type(2.0 * strength)
    total = 0.0
    for i in range(w.shape[0]):
        wi = w[i]
        total += np.float64(wi) * np.float64(wi)
        g[i] += two_strength * wi
    return strength * total


def row_taker(X, batch_size):
    """A function idx -> X[idx] for batches of at most ``batch_size`` rows of a C-contiguous X.

    It gathers into one reused buffer with :func:`gather_rows`, so each batch must
    be finished with before the next is taken.
    """
    buffer = np.empty((min(batch_size, len(X)), X.shape[1]), dtype=X.dtype)

    def take(idx):
        rows = buffer[: len(idx)]
        gather_rows(X, idx, rows)
        return rows

    return take


# --- one epoch of a linear classifier: the steps of training.loop.take_steps, in one call -----

SGD, MOMENTUM, ADAM = 0, 1, 2  # the update rules linear_epoch takes
# the names the loss rows call, as in losses.py: each build of _linear_steps rebinds them to one
# precision's versions (_REAL, the element type; the float32 exponentials are SIMD polynomials)
_softmax_rows, _log_ge1 = _NAMESPACES["f64"]["_softmax_rows"], _NAMESPACES["f64"]["_log_ge1"]
_REAL = np.float64


def _cross_entropy_rows(scores, labels, scale, grad, losses, scratch):
    """Softmax cross-entropy of a batch, unweighted: what ``losses.softmax_focal_rows`` computes
    with γ = 0 and no weights (serially, with its exponentials): grad = scale (p - onehot)."""
    n, c = scores.shape
    bits, maxes, totals, log_totals = scratch
    rows, n_blocks = _row_blocks(n, c)
    for block in range(n_blocks):
        r0, r1 = block * rows, min(n, (block + 1) * rows)
        _softmax_rows(scores, grad, r0, r1, maxes, totals, bits)
        _log_ge1(totals, log_totals, bits, r1 - r0)
        for i in range(r0, r1):
            row, g, y = scores[i], grad[i], labels[i]
            losses[i] = -(row[y] - maxes[i - r0] - log_totals[i - r0])
            k = _REAL(scale / totals[i - r0])
            for j in range(c):
                g[j] *= k
            g[y] -= scale


@njit(fastmath=_FLAGS, cache=True, nogil=True)  # losses.weston_watkins' flags
def _hinge_rows(scores, labels, margin, squared, scale, grad, losses):
    """The Weston-Watkins hinge of a batch, unweighted: ``losses.weston_watkins`` with no
    row weights, serially (the same arithmetic, so the same numbers)."""
    n = scores.shape[0]
    for i in range(n):
        # as the kernel's scale times a row weight of 1.0, the loss times that weight
        losses[i] = (
            weston_watkins_row(scores[i], grad[i], labels[i], margin, squared, scale * 1.0) * 1.0
        )
    for i in range(n):
        if losses[i] != losses[i]:
            _nan_slopes(scores[i], grad[i], labels[i], margin)


def _linear_steps(
    X,
    labels,
    order,
    batch_size,
    W,
    b,
    reg,
    hinge,
    margin,
    squared,
    rule,
    hyper,
    t,
    a,
    c,
    lrs,
    step_losses,
    hits,
):
    """The epoch's steps; returns how many were taken (fewer: the next one's loss is not finite).

    Each step: gather the batch, scores = X_b W + b, the loss and dL/ds, the
    gradients X_bᵀ dL/ds and Σ rows, the L2 term, then the update rule (0: SGD,
    1: momentum with velocities ``a``, 2: Adam with moments ``a`` and ``c``;
    ``hyper`` its constants, ``t`` Adam's step count before the epoch). Over 60
    lines: one loop body, the order of take_steps' operations kept visible.
    """
    n, d = X.shape
    n_out = W.shape[1]
    cap = min(batch_size, n)
    xb, yb = np.empty((cap, d), X.dtype), np.empty(cap, labels.dtype)
    grad, losses = np.empty((cap, n_out), X.dtype), np.empty(cap, X.dtype)
    ones = np.ones(cap, X.dtype)
    block = _row_blocks(cap, n_out)[0]
    scratch = (
        np.empty(block * n_out, np.int32),
        np.empty(block, X.dtype),
        np.empty(block),
        np.empty(block),
    )
    for k in range(lrs.shape[0]):
        start = k * batch_size
        rows = min(n - start, batch_size)
        idx = order[start : start + rows]
        gather_rows(X, idx, xb)
        for i in range(rows):
            yb[i] = labels[idx[i]]
        for r in order[start + rows : start + rows + batch_size]:  # the next batch's rows: they
            _prefetch_row(X, r)  # come from memory while this step computes
        x, g, y = xb[:rows], grad[:rows], yb[:rows]
        scores = np.dot(x, W)
        for i in range(rows):
            for j in range(n_out):
                scores[i, j] += b[j]
        scale = 1.0 / rows
        if hinge:
            _hinge_rows(scores, y, _REAL(margin), squared, _REAL(scale), g, losses)
        else:
            _cross_entropy_rows(scores, y, _REAL(scale), g, losses, scratch)
        total = 0.0
        for i in range(rows):
            total += losses[i]
        value = total * scale
        grad_W = np.dot(x.T, g)
        gb = np.dot(ones[:rows], g)  # models.column_sums: the same BLAS sum, to the bit
        if reg != 0:
            value += add_l2(W, reg, grad_W)
        if not math.isfinite(value):
            step_losses[k] = value
            return k
        step_losses[k] = value
        hits[k] = argmax_hits(scores, y)
        _update(rule, hyper, t + k + 1, lrs[k], W, grad_W, a[0], c[0])
        _update(rule, hyper, t + k + 1, lrs[k], b, gb, a[1], c[1])
    return lrs.shape[0]


@njit(cache=True, nogil=True)
def _update(rule, hyper, t, lr, p, g, first, second):
    """One array's step of the update rule, as optim's SGD, Momentum and Adam take it
    (scalars rounded to the array's dtype as NumPy rounds Python floats)."""
    real = p.dtype.type
    if rule == ADAM:
        step = lr / (1 - math.pow(hyper[0], t))  # as Adam.update, in float64
        root_bc2 = math.sqrt(1 - math.pow(hyper[1], t))
        adam_step(p, g, first, second, hyper[0], hyper[1], step, root_bc2, hyper[2])
        return
    pf, gf, vf = p.reshape(-1), g.reshape(-1), first.reshape(-1)
    rate = real(lr)
    if rule == MOMENTUM:  # v ← μv − αg; θ ← θ + v
        mu = real(hyper[0])
        for i in range(pf.shape[0]):
            vf[i] = vf[i] * mu - rate * gf[i]
            pf[i] += vf[i]
    else:
        for i in range(pf.shape[0]):
            pf[i] -= rate * gf[i]


def _build(precision):
    """_linear_steps with one precision's exponentials (see losses._NAMESPACES).

    numba's disk cache knows only this file: after a change to the helpers these
    builds take from losses.py, delete the cached ``_linear_steps_*`` files (or
    touch this file) so that they are compiled again.
    """
    namespace = dict(_NAMESPACES[precision])
    rows = _copy(_cross_entropy_rows, f"_{precision}", namespace)
    namespace["_cross_entropy_rows"] = njit(fastmath=_FLAGS, cache=True, nogil=True)(rows)
    return njit(cache=True, nogil=True)(_copy(_linear_steps, f"_{precision}", namespace))


_STEPS = {"f32": _build("f32"), "f64": _build("f64")}
RULES = {"sgd": SGD, "momentum": MOMENTUM, "adam": ADAM}


def linear_epoch(X, labels, order, batch_size, W, b, reg, loss, rule, lrs, step_losses, hits):
    """One epoch of a linear classifier on the mini-batches of ``order``; returns the steps taken.

    What ``training.loop.take_steps`` does with fit's objective for scores
    X W + b, a mean loss of integer ``labels`` (``loss``: ("softmax_cross_entropy",),
    or ("multiclass_hinge", margin, squared) for the Weston-Watkins hinge), the L2
    penalty ``reg``·ΣW² and the update ``rule``: (name, constants, t, first
    moments, second moments) with name "sgd" (no moments), "momentum" (μ; the
    velocities of W and b) or "adam" (β₁, β₂, ε; Adam's step count before the
    epoch; m and v of W and b). Step k uses learning rate ``lrs[k]``, writes its
    loss to ``step_losses[k]`` and its correct predictions to ``hits[k]``.
    W, b and the moments are updated in place. Fewer steps than ``len(lrs)``
    means the next step's loss (in ``step_losses``) was not finite: that step
    was not taken.
    """
    name, hyper, t, first, second = rule
    none = (np.empty((0, 0), W.dtype), np.empty(0, W.dtype))  # one compiled case per dtype
    constants = tuple(float(h) for h in hyper) + (0.0,) * (3 - len(hyper))
    hinge = loss[0] == "multiclass_hinge"
    margin, squared = loss[1:] if hinge else (1.0, False)
    steps = _STEPS["f32" if X.dtype == np.float32 else "f64"]
    return steps(
        X,
        labels,
        order,
        batch_size,
        W,
        b,
        float(reg),
        hinge,
        float(margin),
        bool(squared),
        RULES[name],
        constants,
        int(t),
        first or none,
        second or none,
        lrs,
        step_losses,
        hits,
    )
