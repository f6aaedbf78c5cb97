"""Every worked example and property of SEEDS.md, one named test each."""

import numpy as np
import pytest

from losslab import info, losses
from losslab.examples import (
    BAG_GUESS,
    BAG_TRUE,
    CAT_CAR_FROG_LABELS,
    CAT_CAR_FROG_SCORES,
    SEED001_SCORES,
    worked_examples,
)

SVM = losses.multiclass_hinge


def svm_per_image(scores=CAT_CAR_FROG_SCORES, labels=CAT_CAR_FROG_LABELS, **kw):
    return SVM(scores, labels, reduction="none", **kw).value


def test_cat_image_svm_loss_is_2_9():
    assert svm_per_image()[0] == pytest.approx(2.9)


def test_car_image_svm_loss_is_0():
    assert svm_per_image()[1] == pytest.approx(0.0)


def test_frog_image_svm_loss_is_12_9():
    assert svm_per_image()[2] == pytest.approx(12.9)


def test_cat_car_frog_mean_svm_loss_is_5_27():
    assert SVM(CAT_CAR_FROG_SCORES, CAT_CAR_FROG_LABELS).value == pytest.approx(5.27, abs=5e-3)


def test_seed004_car_example_with_airplane_class_is_0():
    assert SVM(np.array([[1.3, 4.9, 2.0]]), np.array([1])).value == 0.0


def test_seed001_svm_example_is_1_58():
    assert SVM(SEED001_SCORES, np.array([2])).value == pytest.approx(1.58)


def test_seed001_softmax_probabilities():
    p = np.exp(losses.log_softmax(SEED001_SCORES))[0]
    np.testing.assert_allclose(p, [0.0154, 0.631, 0.353], atol=5e-4)


def test_seed001_softmax_loss_is_1_040_nats_and_0_452_in_base_10():
    value = losses.softmax_cross_entropy(SEED001_SCORES, np.array([2])).value
    assert value == pytest.approx(1.040, abs=5e-4)
    assert value / np.log(10) == pytest.approx(0.452, abs=5e-4)


def test_seed001_bag_entropy_and_cross_entropy():
    assert info.entropy(BAG_TRUE) == pytest.approx(0.639, abs=5e-4)
    assert info.entropy(BAG_TRUE, base=2) == pytest.approx(0.922, abs=5e-4)
    assert info.cross_entropy(BAG_TRUE, BAG_GUESS) == pytest.approx(1.500, abs=5e-4)
    assert info.cross_entropy(BAG_TRUE, BAG_GUESS, base=2) == pytest.approx(2.163, abs=5e-4)


def test_entropy_of_a_pure_box_is_zero_and_of_a_50_50_box_is_maximal():
    assert info.entropy([1.0, 0.0]) == 0.0
    assert info.entropy([0.5, 0.5], base=2) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    for p in rng.dirichlet([1, 1], 20):
        assert info.entropy(p) <= info.entropy([0.5, 0.5]) + 1e-12


def test_iris_example_cross_entropy_is_0_693():
    p = np.array([[0.2, 0.3, 0.5]])
    assert losses.categorical_cross_entropy(p, np.array([2])).value == pytest.approx(
        0.693, abs=5e-4
    )
    one_hot = np.array([[0.0, 0.0, 1.0]])
    assert losses.categorical_cross_entropy(p, one_hot).value == pytest.approx(0.693, abs=5e-4)


def test_seed003_dog_cat_lion_cross_entropy_is_1_204_although_prediction_does_not_sum_to_1():
    p = np.array([[0.5, 0.1, 0.3]])
    assert p.sum() != 1
    assert losses.categorical_cross_entropy(p, np.array([2])).value == pytest.approx(
        1.204, abs=5e-4
    )


def small_initial_scores(n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 50))
    W = 1e-3 * rng.standard_normal((50, n_classes))
    return X @ W, rng.integers(0, n_classes, 200)


@pytest.mark.parametrize("n_classes", [3, 10])
def test_q3_initial_svm_loss_is_c_minus_1(n_classes):
    assert SVM(*small_initial_scores(n_classes)).value == pytest.approx(n_classes - 1, rel=0.01)


@pytest.mark.parametrize("n_classes", [3, 10])
def test_initial_softmax_loss_is_ln_c(n_classes):
    value = losses.softmax_cross_entropy(*small_initial_scores(n_classes)).value
    assert value == pytest.approx(np.log(n_classes), rel=0.01)


def test_q1_small_changes_of_the_car_scores_leave_the_car_loss_at_zero():
    rng = np.random.default_rng(1)
    car = np.array([[1.3, 4.9, 2.0]])
    for _ in range(50):
        nudged = car + rng.uniform(-0.5, 0.5, car.shape)
        assert SVM(nudged, np.array([1])).value == 0.0


def test_q2_svm_loss_is_at_least_0_and_unbounded_above():
    rng = np.random.default_rng(2)
    for _ in range(20):
        s, y = rng.standard_normal((5, 4)) * 10, rng.integers(0, 4, 5)
        assert SVM(s, y).value >= 0
    s = np.array([[0.0, 1.0]])
    assert SVM(s * 1e6, np.array([0])).value > 1e5


def test_q4_including_the_correct_class_in_the_sum_adds_exactly_1():
    rng = np.random.default_rng(3)
    s, y = rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    per = SVM(s, y, reduction="none").value
    all_classes = np.maximum(0, s - s[np.arange(8), y][:, None] + 1).sum(axis=1)
    np.testing.assert_allclose(all_classes, per + 1)


def test_q5_mean_over_classes_instead_of_sum_only_rescales():
    rng = np.random.default_rng(4)
    s, y = rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    summed = SVM(s, y, reduction="none").value
    torch_style_mean = summed / 5  # multi_margin_loss divides by C
    np.testing.assert_allclose(torch_style_mean * 5, summed)
    # rescaling by a constant does not move the minimiser: same argmin over candidate scores
    cands = [rng.standard_normal((8, 5)) for _ in range(30)]
    vals = [SVM(c, y).value for c in cands]
    assert np.argmin(vals) == np.argmin(np.array(vals) / 5)


def test_q6_squared_hinge_is_a_different_loss_not_a_rescaling():
    rng = np.random.default_rng(5)
    s, y = rng.standard_normal((30, 4)) * 2, rng.integers(0, 4, 30)
    plain = SVM(s, y, reduction="none").value
    squared = SVM(s, y, squared=True, reduction="none").value
    positive = plain > 0
    ratios = squared[positive] / plain[positive]
    assert ratios.std() > 0.1  # no constant c with squared = c * plain
    # and different minimisers: two candidate score sets ranked differently
    a = np.array([[0.0, 0.5, 0.5, 0.5]])  # three violations of 1.5: plain 4.5, squared 6.75
    b = np.array([[0.0, 1.9, -5.0, -5.0]])  # one violation of 2.9: plain 2.9, squared 8.41
    y0 = np.array([0])
    assert SVM(a, y0).value > SVM(b, y0).value
    assert SVM(a, y0, squared=True).value < SVM(b, y0, squared=True).value


def test_zero_loss_weights_are_not_unique_2w_also_has_zero_loss():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((40, 3))
    W = rng.standard_normal((3, 4))
    y = (X @ W).argmax(axis=1)
    scale = 1.0
    while SVM(X @ (scale * W), y).value > 0:  # find a W with zero loss by scaling up
        scale *= 2
    assert SVM(X @ (scale * W), y).value == 0
    assert SVM(X @ (2 * scale * W), y).value == 0


def test_svm_ignores_score_changes_once_margins_are_met_but_softmax_does_not():
    s = np.array([[10.0, -2.0, 3.0]])
    y = np.array([0])
    nudged = s + np.array([[1.0, -1.0, 0.5]])
    assert SVM(s, y).value == SVM(nudged, y).value == 0
    ce = losses.softmax_cross_entropy
    assert ce(s, y).value != ce(nudged, y).value


def test_binary_softmax_is_the_sigmoid_of_the_score_difference():
    s = np.array([[1.7, -0.4]])
    p0 = np.exp(losses.log_softmax(s))[0, 0]
    assert p0 == pytest.approx(losses.sigmoid(s[0, 0] - s[0, 1]))


def test_balanced_cross_entropy_weights_each_class_by_inverse_frequency():
    y = np.array([0, 0, 0, 1])
    w = losses.class_weights(y, 2, kind="inverse_frequency")
    np.testing.assert_allclose(w, [1 / 0.75, 1 / 0.25])
    s = np.zeros((4, 2))
    per = losses.softmax_cross_entropy(s, y, class_weight=w, reduction="none").value
    np.testing.assert_allclose(per, -np.log(0.5) * w[y])


def test_every_worked_example_in_the_examples_module_matches_the_notes():
    for ex in worked_examples():
        assert ex.computed == pytest.approx(ex.expected, abs=0.01 * max(1, abs(ex.expected))), ex
