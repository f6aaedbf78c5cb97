"""numba kernels for fit's inner loop (the ``fast`` extra): batch gathering, Adam, L2, accuracy.

Each replaces a handful of NumPy calls whose fixed cost (a few microseconds
each) dominates at training-size batches, and takes the arguments of the NumPy
reference it stands in for (see ``losslab.fast.KERNELS``). They compute exactly
what that NumPy code computes, in the same order and precision (no fastmath;
scalars are rounded to the arrays' dtype as NumPy rounds them), so both paths
give the same numbers; the tests compare them.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

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
