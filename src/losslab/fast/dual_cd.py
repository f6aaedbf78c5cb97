"""numba kernel of the hinge losses' dual coordinate descent: one pass over the rows.

Computes what ``losslab.training.dual_cd.hinge_dual_epoch`` (the NumPy
reference, a Python loop over rows) computes, in the same order: the same
numbers up to the order of each row's sums.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def hinge_dual_epoch(
    data,
    indices,
    indptr,
    dense,
    labels,
    signs,
    box,
    squares,
    W,
    bias,
    beta,
    h,
    rho,
    margin,
    order,
    slack,
):  # pragma: no cover - compiled; the reference's tests run it against the NumPy code
    K = W.shape[1]
    multiclass = labels.shape[0] > 0
    scores = np.empty(K)
    worst = 0.0
    for i in order:
        start, end = indptr[i], indptr[i + 1]
        for k in range(K):
            scores[k] = bias[k] + rho * h[k]
        for p in range(start, end):
            col = indices[p - start] if dense else indices[p]
            v = data[p]
            for k in range(K):
                scores[k] += v * W[col, k]
        y = labels[i] if multiclass else -1
        q = squares[i]
        row_slack = np.inf
        for j in range(K):
            if j == y:
                continue
            t = 1.0 if multiclass else signs[i, j]
            z = margin + scores[j] - scores[y] if multiclass else margin - t * scores[j]
            old = beta[i, j]
            pg = max(z, 0.0) if old <= 0.0 else (min(z, 0.0) if old >= box[i] else z)
            row_slack = min(row_slack, -z if old <= 0.0 else (z if old >= box[i] else -np.inf))
            worst = max(worst, abs(pg))
            if pg == 0.0:
                continue
            new = min(max(old + z / (2 * q if multiclass else q), 0.0), box[i])
            delta = new - old
            if delta == 0.0:
                continue
            beta[i, j] = new
            for p in range(start, end):
                col = indices[p - start] if dense else indices[p]
                step = delta * data[p]
                if multiclass:
                    W[col, j] -= step
                    W[col, y] += step
                else:
                    W[col, j] += t * step
            if multiclass:
                h[j] -= delta
                h[y] += delta
                scores[j] -= delta * q
                scores[y] += delta * q
            else:
                h[j] += t * delta
                scores[j] += t * delta * q
        slack[i] = row_slack
    return worst
