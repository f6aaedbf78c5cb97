"""Input checks done once per fit: finite values are told from NaN and infinity without overflow."""

import numpy as np
import pytest

from losslab import fit, losses, models
from losslab.training.checks import all_finite, check_class_weights, check_X, sample_weights


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


@pytest.mark.parametrize(
    ("class_weight", "message"),
    [
        ([1.0, -0.5, 1.0], r"got -0\.5 for class 1"),
        ([np.nan, 1.0, 1.0], r"got nan for class 0"),
        ([1.0, 1.0, np.inf], r"got inf for class 2"),
        ([0, 0, 0], r"every class weighs zero"),
    ],
)
def test_bad_class_weight_arrays_are_named_as_class_weight(class_weight, message):
    # they were blamed on sample_weight (the per-row weights they become), or all-zero trained
    X, y = np.random.default_rng(0).standard_normal((12, 2)), np.arange(12) % 3
    softmax = losses.get("softmax")
    with pytest.raises(ValueError, match=rf"^class_weight: .*{message}"):
        check_class_weights(class_weight)
    with pytest.raises(ValueError, match=rf"^class_weight: .*{message}"):
        sample_weights(None, class_weight, y, softmax, 12)
    with pytest.raises(ValueError, match=rf"^class_weight: .*{message}"):
        fit(models.Linear(2, 3), softmax, X, y, class_weight=class_weight, epochs=1)


def test_good_class_weights_pass_and_name_the_label():
    assert check_class_weights([2, 0, 0.5]).tolist() == [2.0, 0.0, 0.5]
    with pytest.raises(ValueError, match=r"got -1\.0 for class 'dog'$"):
        check_class_weights([1.0, -1.0], classes=np.array(["cat", "dog"]))
