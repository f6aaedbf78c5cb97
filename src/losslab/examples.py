"""The worked examples of the seed notes, computed by losslab.

``worked_examples()`` returns each example with the value the notes give and
the value losslab computes, so the user guide (docs/guide/understanding.md,
"The seed notes, checked"), the CLI (``losslab examples``) and the tests all
show the same numbers from one place.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np

from . import info, losses

# CS231n lecture 3: rows are the cat, car and frog images; columns their scores
# for the classes cat, car, frog.
CAT_CAR_FROG_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
CAT_CAR_FROG_LABELS = np.array([0, 1, 2])
SEED001_SCORES = np.array([[-2.85, 0.86, 0.28]])  # correct class: the third
BAG_TRUE = np.array([0.8, 0.1, 0.1])
BAG_GUESS = np.array([0.2, 0.2, 0.6])


class Example(NamedTuple):
    """One worked example of the seed notes: the value they give and the value losslab computes.

    Attributes
    ----------
    source : str
        The seed note it comes from, e.g. ``"000"`` (the SVM loss of CS231n lecture 3).
    description : str
        What is computed, in words, with the inputs.
    expected : float
        The value printed in the notes (rounded as they round it).
    computed : float
        losslab's value, unrounded; it agrees with ``expected`` to the notes' digits.

    Examples
    --------
    >>> first = worked_examples()[0]
    >>> first.description, first.expected, round(float(first.computed), 4)
    ('SVM loss, cat image (3.2, 5.1, -1.7)', 2.9, 2.9)
    """

    source: str
    description: str
    expected: float
    computed: float


def worked_examples() -> list[Example]:
    """Every numeric example of SEEDS.md as (source, description, expected, computed).

    The multiclass SVM losses of the cat, car and frog images (2.9, 0, 12.9; mean
    5.27), the SVM and softmax losses of one image (1.58; 1.040 nats, 0.452 in base 10),
    the entropy and cross-entropy of the bag of marbles (nats and bits), the iris and
    dog/cat/lion cross-entropies, and the initial losses ln C (softmax) and C − 1 (SVM)
    of a linear model with tiny weights.

    Returns
    -------
    list of Example
        In the notes' order; ``computed`` agrees with ``expected`` to the digits the
        notes print (``tests/test_seeds.py`` checks each).

    Examples
    --------
    >>> rows = worked_examples()
    >>> [(r.expected, round(float(r.computed), 2)) for r in rows[:4]]
    [(2.9, 2.9), (0.0, 0.0), (12.9, 12.9), (5.27, 5.27)]
    >>> all(abs(r.computed - r.expected) < 0.005 for r in rows)  # the notes' rounding
    True

    References
    ----------
    CS231n, *Linear classification* (lecture 3 notes), Stanford University.
    """
    # info's entropies are floats without return_grad; the casts below say so to mypy
    per_image = losses.multiclass_hinge(
        CAT_CAR_FROG_SCORES, CAT_CAR_FROG_LABELS, reduction="none"
    ).value
    svm_mean = losses.multiclass_hinge(CAT_CAR_FROG_SCORES, CAT_CAR_FROG_LABELS).value
    ce_001 = losses.softmax_cross_entropy(SEED001_SCORES, np.array([2])).value
    return [
        Example("000", "SVM loss, cat image (3.2, 5.1, -1.7)", 2.9, per_image[0]),
        Example("000", "SVM loss, car image (1.3, 4.9, 2.0)", 0.0, per_image[1]),
        Example("000", "SVM loss, frog image (2.2, 2.5, -3.1)", 12.9, per_image[2]),
        Example("000", "SVM loss, mean over the three images", 5.27, svm_mean),
        Example(
            "001",
            "SVM loss, scores (-2.85, 0.86, 0.28), third class correct",
            1.58,
            losses.multiclass_hinge(SEED001_SCORES, np.array([2])).value,
        ),
        Example("001", "softmax loss of the same scores (nats)", 1.040, ce_001),
        Example("001", "softmax loss of the same scores (log base 10)", 0.452, ce_001 / np.log(10)),
        Example(
            "001",
            "bag entropy H(q), q = (0.8, 0.1, 0.1), nats",
            0.639,
            cast(float, info.entropy(BAG_TRUE)),
        ),
        Example(
            "001", "bag entropy H(q) in bits", 0.922, cast(float, info.entropy(BAG_TRUE, base=2))
        ),
        Example(
            "001",
            "bag cross-entropy H(q, p), p = (0.2, 0.2, 0.6), nats",
            1.500,
            cast(float, info.cross_entropy(BAG_TRUE, BAG_GUESS)),
        ),
        Example(
            "001",
            "bag cross-entropy H(q, p) in bits",
            2.163,
            cast(float, info.cross_entropy(BAG_TRUE, BAG_GUESS, base=2)),
        ),
        Example(
            "001",
            "iris: p = (0.2, 0.3, 0.5), truth (0, 0, 1)",
            0.693,
            losses.categorical_cross_entropy(np.array([[0.2, 0.3, 0.5]]), np.array([2])).value,
        ),
        Example(
            "003",
            "dog/cat/lion: predicted (0.5, 0.1, 0.3), truth lion",
            1.204,
            losses.categorical_cross_entropy(np.array([[0.5, 0.1, 0.3]]), np.array([2])).value,
        ),
        Example("004", "initial softmax loss, 3 classes: ln 3", 1.0986, _initial_softmax(3)),
        Example("004", "initial softmax loss, 10 classes: ln 10", 2.303, _initial_softmax(10)),
        Example("000", "initial SVM loss, 10 classes: C - 1", 9.0, _initial_svm(10)),
    ]


def _small_scores(n_classes, n=500, seed=0):
    """Scores of a linear model with tiny weights: all close to zero."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20))
    W = 1e-4 * rng.standard_normal((20, n_classes))
    return X @ W, rng.integers(0, n_classes, n)


def _initial_softmax(n_classes):
    return losses.softmax_cross_entropy(*_small_scores(n_classes)).value


def _initial_svm(n_classes):
    return losses.multiclass_hinge(*_small_scores(n_classes)).value
