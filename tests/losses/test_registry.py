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


def test_an_unknown_option_is_one_error_naming_loss_options_and_the_options_it_takes():
    message = (
        r"^loss_options: softmax_cross_entropy has no option 'zzz'; its options: class_weight, "
        r"label_smoothing, ignore_index, sample_weight, reduction$"
    )
    with pytest.raises(ValueError, match=message):
        losses.get("softmax", zzz=1)
    with pytest.raises(ValueError, match=r"^--loss-option: softmax_focal has no option 'margin'"):
        losses.get("focal").bind({"margin": 2.0}, "--loss-option")
    with pytest.raises(ValueError, match=r"^loss_options: multiclass_hinge has no option 'gamma'"):
        losses.get("svm").with_options(gamma=1.0)
    assert losses.get("svm").bind({"margin": 2.0}).options == {"margin": 2.0}


def test_a_plain_functions_options_are_its_keyword_parameters():
    def scaled(p, y, scale=1.0):
        return scale * (p - y) ** 2, 2 * scale * (p - y)

    def takes_any(p, y, **options):
        return (p - y) ** 2, 2 * (p - y)

    assert losses.get(scaled, scale=2.0).options == {"scale": 2.0}
    with pytest.raises(
        ValueError, match=r"^loss_options: scaled has no option 'zzz'; its options: scale$"
    ):
        losses.get(scaled, zzz=1)
    with pytest.raises(ValueError, match=r"^loss_options: .* it takes no options$"):
        losses.get(lambda p, y: ((p - y) ** 2, 2 * (p - y)), zzz=1)
    assert losses.get(takes_any, zzz=1).options == {"zzz": 1}


@pytest.mark.parametrize("make", ["LinearClassifier", "SoftmaxClassifier", "MLPClassifier"])
def test_an_estimators_unknown_loss_option_names_loss_options(make):
    import losslab

    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    estimator = getattr(losslab, make)(loss_options={"zzz": 1}, max_iter=2)
    with pytest.raises(ValueError, match=r"^loss_options: .* has no option 'zzz'; its options: "):
        estimator.fit(X, y)
