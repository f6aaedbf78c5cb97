"""Input checks done once per fit: finite values are told from NaN and infinity without overflow."""

import numpy as np
import pytest

from losslab import models
from losslab.training.checks import all_finite, check_X


@pytest.mark.parametrize(("dtype", "big"), [(np.float64, 1e308), (np.float32, 3e38)])
def test_finite_values_whose_sum_overflows_are_finite(dtype, big):
    X = np.full((10, 3), big, dtype=dtype)
    with np.errstate(over="raise"):
        assert all_finite(X)
        assert all_finite(X, block=3)  # several blocks


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinity_are_found_when_the_sum_overflows_too(bad):
    X = np.full((10, 3), 1e308)
    X[7, 2] = bad
    assert not all_finite(X, block=3)
    X[:] = 1.0
    X[7, 2] = bad
    assert not all_finite(X)


def test_opposite_infinities_are_not_finite():
    assert not all_finite(np.array([[np.inf, -np.inf]]))


def test_check_X_accepts_1e308_and_names_nan():
    model = models.Linear(2, 2, random_state=0)
    X = np.array([[1e308, 1.0], [1e308, -1e308]])
    assert check_X(X, model) is not None
    X[0, 1] = np.nan
    with pytest.raises(ValueError, match="X: expected finite values, got NaN or infinity"):
        check_X(X, model)
