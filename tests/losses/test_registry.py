import numpy as np
import pytest

from losslab import losses


def test_aliases_resolve_to_the_catalogue():
    assert losses.get("svm").fn is losses.multiclass_hinge
    assert losses.get("softmax").fn is losses.softmax_cross_entropy
    assert losses.get("SVM").name == "multiclass_hinge"
    assert losses.get("crammer-singer").options == {"kind": "crammer_singer"}
    for alias, name in losses.ALIASES.items():
        assert losses.get(alias).name == name


def test_options_are_bound_and_can_be_overridden_per_call():
    focal = losses.get("focal", gamma=1.0)
    s, y = np.array([[2.0, 0.0, -1.0]]), np.array([1])
    assert focal(s, y).value == losses.softmax_focal(s, y, gamma=1.0).value
    assert focal(s, y, gamma=0.0).value == pytest.approx(losses.softmax_cross_entropy(s, y).value)


def test_every_catalogue_entry_is_a_public_loss_with_a_task():
    for name in losses.available():
        loss = losses.get(name)
        assert loss.task in ("multiclass", "binary", "regression", "ranking", "metric")
        assert getattr(losses, loss.fn.__name__) is loss.fn


def test_unknown_name_lists_the_known_names():
    with pytest.raises(ValueError, match=r"loss: expected one of .*svm.*; got 'hnige'"):
        losses.get("hnige")


def test_probabilistic_flag_marks_losses_that_define_probabilities():
    assert losses.get("softmax").probabilistic
    assert not losses.get("svm").probabilistic
