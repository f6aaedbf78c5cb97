"""Bad input raises ValueError/TypeError naming the argument, the expectation and what was got."""

import numpy as np
import pytest

from losslab import losses

S = np.zeros((3, 4))
Y = np.array([0, 1, 3])


def test_wrong_score_shape_names_scores_and_the_shape():
    with pytest.raises(ValueError, match=r"scores: expected a 2-D array, got shape \(4,\)"):
        losses.softmax_cross_entropy(np.zeros(4), Y)


def test_wrong_label_shape_names_target_and_both_shapes():
    with pytest.raises(ValueError, match=r"target: expected shape \(3,\), got shape \(2,\)"):
        losses.multiclass_hinge(S, np.array([0, 1]))


def test_probability_target_of_wrong_shape_explains_the_two_encodings():
    with pytest.raises(ValueError, match=r"target: float targets are class probabilities"):
        losses.softmax_cross_entropy(S, np.array([0.0, 1.0, 2.0]))


def test_label_out_of_range_names_the_label():
    with pytest.raises(ValueError, match=r"target: expected labels in \[0, 4\), got label 7"):
        losses.softmax_cross_entropy(S, np.array([0, 7, 1]))
    with pytest.raises(ValueError, match=r"got label -1"):
        losses.multiclass_hinge(S, np.array([0, -1, 1]))


def test_negative_weights_are_rejected():
    with pytest.raises(
        ValueError, match=r"sample_weight: expected finite non-negative weights, got weight -1"
    ):
        losses.softmax_cross_entropy(S, Y, sample_weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"class_weight: expected finite non-negative"):
        losses.multiclass_hinge(S, Y, class_weight=[1.0, 1.0, -2.0, 1.0])
    with pytest.raises(ValueError, match=r"weight: expected finite non-negative"):
        losses.squared_error(np.zeros(3), np.zeros(3), weight=[1.0, np.inf, 1.0])


def test_unknown_reduction_lists_the_choices():
    with pytest.raises(
        ValueError, match=r"reduction: expected one of 'mean', 'sum', 'none', got 'avg'"
    ):
        losses.softmax_cross_entropy(S, Y, reduction="avg")


def test_string_arrays_are_type_errors():
    with pytest.raises(TypeError, match=r"scores: expected a numeric array, got dtype <U1"):
        losses.softmax_cross_entropy(np.array([["a", "b"]]), np.array([0]))
    with pytest.raises(TypeError, match=r"target: expected integer class labels, got dtype <U3"):
        losses.multiclass_hinge(S, np.array(["cat", "car", "dog"]))
    with pytest.raises(TypeError, match=r"target: expected a numeric array, got dtype <U1"):
        losses.squared_error(np.zeros(2), np.array(["a", "b"]))


def test_mismatched_shapes_in_elementwise_losses():
    with pytest.raises(
        ValueError, match=r"target: expected the shape of logits \(3,\), got shape \(4,\)"
    ):
        losses.sigmoid_binary_cross_entropy(np.zeros(3), np.zeros(4))


def test_values_out_of_range():
    with pytest.raises(ValueError, match=r"probs: expected values in \[0, 1\], got 1.5"):
        losses.binary_cross_entropy(np.array([1.5]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"target: expected labels in \{-1, \+1\}"):
        losses.hinge(np.zeros(2), np.array([1, 2]))
    with pytest.raises(ValueError, match=r"label_smoothing: expected a number <= 1, got 2"):
        losses.softmax_cross_entropy(S, Y, label_smoothing=2.0)
    with pytest.raises(ValueError, match=r"gamma: expected a number >= 0, got -1"):
        losses.softmax_focal(S, Y, gamma=-1.0)


def test_unknown_options():
    with pytest.raises(ValueError, match=r"kind: expected one of .*, got 'ovr'"):
        losses.multiclass_hinge(S, Y, kind="ovr")
    with pytest.raises(ValueError, match=r"mining: expected one of .*, got 'easy'"):
        losses.batch_triplet(np.zeros((3, 2)), np.array([0, 0, 1]), mining="easy")
    with pytest.raises(ValueError, match=r"distance: expected one of .*, got 'l3'"):
        losses.contrastive(np.zeros((3, 2)), np.array([0, 0, 1]), distance="l3")


def test_single_class_batch_warns_and_gives_zero():
    with pytest.warns(UserWarning, match="single class"):
        r = losses.batch_triplet(np.random.default_rng(0).standard_normal((4, 2)), np.zeros(4, int))
    assert r.value == 0.0 and not r.grad.any()


def test_class_weights_helper_rejects_missing_classes_and_unknown_kinds():
    with pytest.raises(ValueError, match="got no sample of class 2"):
        losses.class_weights(np.array([0, 1, 1]), 3)
    with pytest.raises(ValueError, match="kind: expected 'balanced' or 'inverse_frequency'"):
        losses.class_weights(np.array([0, 1]), 2, kind="sqrt")


@pytest.mark.parametrize("ignore_index", ["a", 1.5, [1], True, np.array(1)])
def test_ignore_index_must_be_an_integer_label(ignore_index):
    with pytest.raises(TypeError, match=r"ignore_index: expected an integer label or None, got "):
        losses.softmax_cross_entropy(S, Y, ignore_index=ignore_index)


def test_ignore_index_takes_numpy_and_negative_integers():
    a = losses.softmax_cross_entropy(S, Y, ignore_index=np.int64(3))
    assert a.value == losses.softmax_cross_entropy(S[:2], Y[:2]).value
    assert losses.softmax_cross_entropy(S, Y, ignore_index=-100).value == pytest.approx(np.log(4))


@pytest.mark.parametrize(("eps", "error"), [(np.nan, "a finite number"), (-1, "a number >= 0")])
def test_triplet_margin_eps_must_be_finite_and_non_negative(eps, error):
    a = np.zeros((2, 3))
    with pytest.raises(ValueError, match=f"eps: expected {error}"):
        losses.triplet_margin(a, a + 1, a - 1, eps=eps)


def test_margin_ranking_sample_weight_on_scalars_is_a_clear_error():
    """It raised IndexError (a scalar has no sample axis)."""
    with pytest.raises(ValueError, match="sample_weight: expected an output with a sample axis"):
        losses.margin_ranking(1.0, 2.0, 1.0, sample_weight=[1.0])
    assert losses.margin_ranking(1.0, 2.0, 1.0).value == 1.0


def test_margin_ranking_sample_weight_weights_rows():
    x1, x2, y = np.array([[1.0], [3.0]]), np.array([[2.0], [2.0]]), np.ones((2, 1))
    result = losses.margin_ranking(x1, x2, y, margin=2.0, sample_weight=[1.0, 3.0])
    assert result.value == pytest.approx((1 * 3 + 3 * 1) / 4)
    np.testing.assert_allclose(result.grad[0], [[-0.25], [-0.75]])
