"""Helpers shared by the tests: random problems and tolerances per dtype."""

import numpy as np

TOL = {np.float64: 1e-6, np.float32: 1e-4}
DTYPES = [np.float64, np.float32]


def rtol(dtype):
    return TOL[np.dtype(dtype).type]


def scores_and_labels(rng, n=None, c=None, dtype=np.float64, scale=3.0):
    n = n or int(rng.integers(1, 12))
    c = c or int(rng.integers(2, 7))
    return (scale * rng.standard_normal((n, c))).astype(dtype), rng.integers(0, c, n)


def probabilities(rng, shape, dtype=np.float64):
    z = rng.standard_normal(shape)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(dtype)


def assert_close(actual, expected, dtype, scale=1.0):
    """Relative agreement at the dtype's tolerance, with an absolute floor at the data's scale."""
    tol = rtol(dtype)
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64),
        np.asarray(expected, dtype=np.float64),
        rtol=tol,
        atol=tol * scale,
    )
