"""The loss card: the lecture's questions answered by evaluating the loss, never by its name."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from losslab import losses
from losslab.diagnostics import Card, card


@pytest.fixture(scope="module")
def svm():
    return card("svm", classes=10)


@pytest.fixture(scope="module")
def softmax():
    return card("softmax", classes=10)


def test_svm_card_answers_the_lecture(svm):
    assert svm["zero_scores"].evidence["form"] == "C − 1"
    assert svm["zero_scores"].evidence["values"]["10"] == 9.0
    assert svm["range"].answer.startswith("min 0, reached once the margin is 1;")
    assert svm["range"].evidence["unbounded"]
    assert svm["q1_nudge"].evidence["invariant"] and svm["q1_nudge"].evidence["loss"] == 0.0
    assert svm["q4_count_correct"].evidence["additive"]
    assert svm["q4_count_correct"].evidence["adds"] == pytest.approx(1.0)  # the margin Δ
    assert svm["q5_mean_over_classes"].evidence["only_rescales"]
    assert svm["q5_mean_over_classes"].evidence["factor"] == pytest.approx(1 / 9)
    q6 = svm["q6_squared"].evidence
    assert q6["changes_minimiser"] and not q6["only_rescales"] and q6["variant"] == "squared=True"
    # the demo's objective by hand: (2·9·max(0, 1 - w) + 9·max(0, 2 + w)) / 3 is least at w = 1;
    # squared, 2(1 - w)² + (2 + w)² is least at w = 0
    assert q6["minimiser"] == pytest.approx((1.0, 1.0)) and q6["variant_minimiser"] == (0.0, 0.0)


def test_svm_2w_has_the_same_zero_loss_softmax_keeps_falling(svm, softmax):
    w = svm["scale_w"].evidence
    assert w["loss_W"] == w["loss_2W"] == 0.0 and w["grad_norm_2W"] == 0.0
    s = softmax["scale_w"].evidence
    assert 0 < s["loss_2W"] < s["loss_W"] and s["descent_grows_W"]


def test_softmax_card_states_ln_c_and_no_nudge_invariance(softmax):
    assert softmax["zero_scores"].evidence["form"] == "ln C"
    assert softmax["zero_scores"].evidence["values"]["10"] == pytest.approx(math.log(10))
    assert not softmax["q1_nudge"].evidence["invariant"]
    assert softmax["q1_nudge"].evidence["largest_change"] > 1e-3
    assert softmax["range"].answer.startswith("infimum 0")  # approached, never reached
    assert not softmax["q4_count_correct"].evidence["additive"]
    assert "does not apply" in softmax["q5_mean_over_classes"].answer


def test_optimal_scores_match_the_closed_forms(svm, softmax):
    p = np.asarray(softmax.curves["probability"])
    # softmax/logistic: t* = log(p / (1 - p)), so it is calibrated
    np.testing.assert_allclose(softmax.curves["optimal_score"], np.log(p / (1 - p)), atol=1e-3)
    assert softmax["calibration"].evidence["calibrated"]
    # hinge: the expected loss is piecewise linear, least at t* = sign(2p - 1) (Bayes-consistent)
    np.testing.assert_allclose(svm.curves["optimal_score"], np.sign(2 * p - 1), atol=1e-9)
    assert not svm["calibration"].evidence["calibrated"]
    assert svm["calibration"].evidence["picks_likelier_class"]


def test_focal_card_matches_its_closed_form_and_is_not_calibrated():
    focal = card("focal", classes=5)
    assert focal["zero_scores"].evidence["form"] == "(1 − 1/C)²·ln C"  # gamma = 2
    assert card("focal", loss_options={"gamma": 1.0})["zero_scores"].evidence["form"] == (
        "(1 − 1/C)·ln C"
    )
    assert not focal["calibration"].evidence["calibrated"]
    assert focal["range"].answer.startswith("infimum 0")


def _pairwise_logistic_per_sample(scores, target):
    """A user's loss: sum over j != y of log(1 + e^(s_j - s_y)), per sample, and its gradient."""
    rows = np.arange(len(target))
    d = scores - scores[rows, target][:, None]
    d[rows, target] = -np.inf  # drop j = y
    g = expit(d)
    g[rows, target] = -g.sum(axis=1)
    return np.logaddexp(0, d).sum(axis=1), g


def _pairwise_logistic(scores, target):
    """The same loss as a mean, without a reduction argument."""
    values, grad = _pairwise_logistic_per_sample(scores, target)
    return losses.LossResult(float(values.mean()), grad / len(target))


def test_a_custom_loss_gets_a_card_computed_from_its_values():
    custom = losses.Loss("pairwise_logistic", _pairwise_logistic, "multiclass")
    c = card(custom, classes=4)
    assert c.loss == "pairwise_logistic"
    assert c["zero_scores"].evidence["form"] == "0.6931·(C − 1)"  # ln 2 per wrong class
    assert c["q4_count_correct"].evidence["additive"]
    assert c["q4_count_correct"].evidence["adds"] == pytest.approx(math.log(2))
    assert c["q5_mean_over_classes"].evidence["only_rescales"]
    assert c["q6_squared"].evidence["variant"] == "each example's loss squared"
    assert c["calibration"].evidence["picks_likelier_class"]
    assert not c["q1_nudge"].evidence["invariant"]


def test_a_plain_function_and_a_registered_loss_get_the_same_card():
    plain = card(_pairwise_logistic_per_sample, classes=4)
    assert plain.loss == "_pairwise_logistic_per_sample"
    losses.register("pairwise_logistic", _pairwise_logistic_per_sample, task="multiclass")
    try:
        registered = card("pairwise_logistic", classes=4)
    finally:
        losses.unregister("pairwise_logistic")
    assert registered.loss == "pairwise_logistic"
    assert {k: a.answer for k, a in plain.answers.items()} == {
        k: a.answer for k, a in registered.answers.items()
    }
    assert registered["q4_count_correct"].evidence["adds"] == pytest.approx(math.log(2))


def test_binary_losses_are_cards_too():
    c = card("hinge", classes=2)  # one score: the binary margin
    assert c["zero_scores"].evidence["form"] == "the same for every C (1)"
    assert c["range"].answer.startswith("min 0, reached once the margin is 1;")
    assert c["q4_count_correct"].answer == "needs C ≥ 3 to tell"
    assert card("logistic", classes=3)["calibration"].evidence["calibrated"]


@settings(max_examples=4, deadline=None)
@given(
    margin=st.floats(0.25, 4.0).map(lambda m: round(m, 2)),
    classes=st.integers(3, 12),
)
def test_svm_margin_option_is_read_from_the_values(margin, classes):
    c = card("svm", classes=classes, loss_options={"margin": margin})
    zero = c["zero_scores"].evidence
    assert zero["values"][str(classes)] == pytest.approx((classes - 1) * margin)
    assert zero["form"] == ("C − 1" if margin == 1 else f"{margin:.4g}·(C − 1)")
    assert c["q4_count_correct"].evidence["adds"] == pytest.approx(margin)
    assert c["range"].answer.startswith(f"min 0, reached once the margin is {margin:.3g};")


def test_the_card_reads_as_a_table_writes_json_and_draws(svm):
    text = str(svm)
    assert text.splitlines()[0] == "loss card: multiclass_hinge, C = 10"
    for answer in svm.answers.values():
        assert answer.question in text and answer.answer in text
    assert repr(svm) == text
    data = json.loads(svm.to_json())
    assert data["loss"] == "multiclass_hinge" and set(data["answers"]) == set(svm.answers)
    assert len(data["curves"]["margin"]) == len(data["curves"]["loss"]) == 601
    fig = svm.plot()
    assert len(fig.axes) == 3 and fig.axes[0].get_lines()


def test_the_margin_curve_is_the_loss_and_its_gradient(softmax):
    m = np.asarray(softmax.curves["margin"])
    # correct score m/2, the nine others -m/2: l = log(1 + 9 e^-m), dl/ds_y = -9 e^-m / (1 + 9 e^-m)
    np.testing.assert_allclose(softmax.curves["loss"], np.log1p(9 * np.exp(-m)), rtol=1e-12)
    np.testing.assert_allclose(softmax.curves["grad"], -9 / (np.exp(m) + 9), rtol=1e-12)


def test_bad_arguments_are_one_line_errors_naming_them():
    with pytest.raises(ValueError, match="loss: expected a classification loss"):
        card("mse")
    with pytest.raises(ValueError, match="classes: expected an integer >= 2"):
        card("svm", classes=1)
    with pytest.raises(ValueError, match="loss: expected one of"):
        card("hnige")
    # a loss on probabilities cannot be read at scores: said so, with the loss's own reason
    with pytest.raises(ValueError, match=r"loss: the card evaluates raw scores.*probs: expected"):
        card("categorical_cross_entropy")


def test_plot_cards_stacks_one_row_per_card(svm, softmax):
    from losslab.diagnostics import plot_cards

    fig = plot_cards([svm, softmax])
    assert len(fig.axes) == 6
    assert isinstance(svm, Card)
