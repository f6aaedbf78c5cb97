"""TrainSpec and the one class-weighting rule shared by in-memory and distributed training."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from losslab import losses, models
from losslab.training.spec import TrainSpec, check_solver, class_weight_vector


def test_balanced_is_scikit_learns_rule_from_the_class_counts():
    y = np.array(["a", "b", "b", "c", "c", "c"])
    classes, counts = np.unique(y, return_counts=True)
    np.testing.assert_array_equal(
        class_weight_vector("balanced", classes, counts),
        compute_class_weight("balanced", classes=classes, y=y),
    )
    with pytest.raises(ValueError, match="'balanced' needs the whole data"):
        class_weight_vector("balanced", classes)


def test_a_dict_names_some_classes_and_the_others_weigh_one():
    classes = np.array([0, 1, 2])
    assert class_weight_vector({1: 5.0}, classes).tolist() == [1.0, 5.0, 1.0]
    np.testing.assert_array_equal(
        class_weight_vector({1: 5.0}, classes),
        compute_class_weight({1: 5.0}, classes=classes, y=[0, 1, 2]),
    )
    assert class_weight_vector({0: 2.0, 1: 3.0, 2: 4.0, 7: 9.0}, classes).tolist() == [2, 3, 4]
    with pytest.raises(ValueError, match=r"class_weight: labels \[7\] are not among the classes"):
        class_weight_vector({1: 5.0, 7: 2.0}, classes)
    assert class_weight_vector(None, classes) is None
    with pytest.raises(ValueError, match="class_weight: expected None, a dict or 'balanced'"):
        class_weight_vector("even", classes)


def test_build_model_continues_init_only_when_its_shape_fits():
    init = models.Linear(3, 2, random_state=0)
    spec = TrainSpec(loss=losses.get("softmax"), init=init, random_state=1)
    assert spec.build_model(3, 2, np.float64) is init
    fresh = spec.build_model(4, 2, np.float32)
    assert fresh is not init and fresh.n_features == 4
    assert fresh.params["W"].dtype == np.float32
    mlp = TrainSpec(loss=losses.get("softmax"), model="mlp", hidden=(5,)).build_model(
        3, 2, np.float64
    )
    assert isinstance(mlp, models.MLP) and mlp.hidden == (5,)


def test_the_spec_is_frozen_and_names_bad_solvers():
    spec = TrainSpec(loss=losses.get("svm"))
    with pytest.raises(AttributeError):
        spec.lr = 1.0
    assert spec.n_outputs(4) == 4 and TrainSpec(loss=losses.get("hinge")).n_outputs(2) == 1
    assert check_solver("lbfgs") == "lbfgs"
    with pytest.raises(ValueError, match="solver: expected one of"):
        check_solver("newton")
