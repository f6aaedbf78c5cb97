"""Every analytic gradient against centred finite differences (float64).

Includes the losses with no torch counterpart (Crammer-Singer, modified Huber,
batch triplet, contrastive, log-cosh) and the information measures.
"""

import numpy as np
import pytest

from losslab import check_gradient, info, losses, regularizers

RNG = np.random.default_rng(12345)


def _labels(n, c):
    return RNG.integers(0, c, n)


def _away_from_kinks(x, kinks, gap=1e-3):
    """Nudge values that sit within `gap` of a kink so differences do not straddle it."""
    for k in kinks:
        close = np.abs(x - k) < gap
        x[close] += 2 * gap
    return x


S = 2.0 * RNG.standard_normal((7, 5))
Y = _labels(7, 5)
SIGNED = RNG.choice([-1.0, 1.0], 9)
BIN_X = 2.0 * RNG.standard_normal((6, 3))
BIN_Y = RNG.uniform(0, 1, (6, 3))
PRED = 2.0 * RNG.standard_normal((5, 4))
TARGET = 2.0 * RNG.standard_normal((5, 4))
EMB = RNG.standard_normal((10, 3))
EMB_LABELS = _labels(10, 3)

CASES = {
    "ww_hinge": (lambda s: losses.multiclass_hinge(s, Y), S),
    "ww_squared_margin": (lambda s: losses.multiclass_hinge(s, Y, squared=True, margin=0.3), S),
    "crammer_singer": (lambda s: losses.multiclass_hinge(s, Y, kind="crammer_singer"), S),
    "crammer_singer_squared": (
        lambda s: losses.multiclass_hinge(s, Y, kind="crammer_singer", squared=True),
        S,
    ),
    "softmax_ce": (lambda s: losses.softmax_cross_entropy(s, Y), S),
    "softmax_ce_all_options": (
        lambda s: losses.softmax_cross_entropy(
            s,
            Y,
            class_weight=np.arange(1.0, 6.0),
            label_smoothing=0.2,
            ignore_index=int(Y[0]),
            sample_weight=np.linspace(0.1, 1, 7),
        ),
        S,
    ),
    "softmax_ce_probs": (
        lambda s: losses.softmax_cross_entropy(s, np.full((7, 5), 0.2)),
        S,
    ),
    "categorical_ce": (
        lambda p: losses.categorical_cross_entropy(p, Y),
        RNG.uniform(0.05, 1, (7, 5)),
    ),
    "softmax_focal_g2": (lambda s: losses.softmax_focal(s, Y, gamma=2.0, alpha=0.5), S),
    "softmax_focal_g05": (lambda s: losses.softmax_focal(s, Y, gamma=0.5), S),
    "sigmoid_bce": (
        lambda x: losses.sigmoid_binary_cross_entropy(x, BIN_Y, pos_weight=np.array([1, 2, 3.0])),
        BIN_X,
    ),
    "bce": (lambda p: losses.binary_cross_entropy(p, BIN_Y), RNG.uniform(0.05, 0.95, (6, 3))),
    "sigmoid_focal": (lambda x: losses.sigmoid_focal(x, BIN_Y, gamma=1.5), BIN_X),
    "hinge": (lambda s: losses.hinge(s, SIGNED), _away_from_kinks(RNG.standard_normal(9), [1, -1])),
    "squared_hinge": (lambda s: losses.hinge(s, SIGNED, squared=True), RNG.standard_normal(9)),
    "modified_huber": (
        lambda s: losses.modified_huber(s, SIGNED),
        _away_from_kinks(2 * RNG.standard_normal(9), [1, -1]),
    ),
    "perceptron": (
        lambda s: losses.perceptron(s, SIGNED),
        _away_from_kinks(RNG.standard_normal(9), [0]),
    ),
    "squared_error": (lambda p: losses.squared_error(p, TARGET, weight=np.arange(1.0, 5.0)), PRED),
    "absolute_error": (lambda p: losses.absolute_error(p, TARGET), PRED),
    "huber": (lambda p: losses.huber(p, TARGET, delta=0.8), PRED),
    "smooth_l1": (lambda p: losses.smooth_l1(p, TARGET, beta=0.6), PRED),
    "log_cosh": (lambda p: losses.log_cosh(p, TARGET), PRED),
    "batch_triplet_all": (lambda e: losses.batch_triplet(e, EMB_LABELS, margin=0.5), EMB),
    "batch_triplet_hard_cosine": (
        lambda e: losses.batch_triplet(e, EMB_LABELS, mining="hard", distance="cosine"),
        EMB,
    ),
    "batch_triplet_semihard_sq": (
        lambda e: losses.batch_triplet(
            e, EMB_LABELS, mining="semihard", distance="squared_euclidean"
        ),
        EMB,
    ),
    "contrastive": (lambda e: losses.contrastive(e, EMB_LABELS, neg_margin=2.0), EMB),
    "contrastive_cosine": (
        lambda e: losses.contrastive(
            e, EMB_LABELS, pos_margin=0.1, neg_margin=0.8, distance="cosine"
        ),
        EMB,
    ),
    "l2": (lambda w: regularizers.l2(w, 0.3), PRED),
    "l1": (lambda w: regularizers.l1(w, 0.3), PRED),
    "elastic_net": (lambda w: regularizers.elastic_net(w, 0.3, 0.4), PRED),
    "entropy": (lambda p: info.entropy(p, return_grad=True), RNG.uniform(0.1, 1, 4)),
    "info_cross_entropy": (
        lambda q: info.cross_entropy(np.array([0.8, 0.1, 0.1]), q, base=2, return_grad=True),
        np.array([0.2, 0.2, 0.6]),
    ),
    "kl_divergence": (
        lambda q: info.kl_divergence(np.array([0.5, 0.3, 0.2]), q, return_grad=True),
        np.array([0.2, 0.5, 0.3]),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_analytic_gradient_matches_finite_differences(name):
    f, x = CASES[name]
    report = check_gradient(f, x.copy())
    assert report.ok, f"{name}: {report}"


def test_margin_ranking_and_triplet_margin_grads_per_input():
    x1, x2 = RNG.standard_normal((2, 6))
    y = RNG.choice([-1.0, 1.0], 6)
    g1, g2 = losses.margin_ranking(x1, x2, y, margin=0.3).grad
    assert check_gradient(
        lambda a: losses.margin_ranking(a, x2, y, margin=0.3).value, x1, analytic=g1
    ).ok
    assert check_gradient(
        lambda b: losses.margin_ranking(x1, b, y, margin=0.3).value, x2, analytic=g2
    ).ok
    a, p, n = RNG.standard_normal((3, 5, 4))
    ga, gp, gn = losses.triplet_margin(a, p, n, p=3, swap=True).grad
    f = losses.triplet_margin
    assert check_gradient(lambda z: f(z, p, n, p=3, swap=True).value, a, analytic=ga).ok
    assert check_gradient(lambda z: f(a, z, n, p=3, swap=True).value, p, analytic=gp).ok
    assert check_gradient(lambda z: f(a, p, z, p=3, swap=True).value, n, analytic=gn).ok
