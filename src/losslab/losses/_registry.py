"""Losses by name: ``losses.get("svm")``, ``losses.get("focal", gamma=1.0)``.

Each entry binds a loss function to default options and says what task it
serves, so training code can pick the right target encoding and know whether
the loss defines probabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import (
    binary,
    classification,
    counts,
    distillation,
    margins,
    metric,
    poly,
    quantile,
    ranking,
    regression,
)

TASKS = ("multiclass", "binary", "regression", "ranking", "metric")


@dataclass(frozen=True)
class Loss:
    """A named loss with bound options; calling it calls the function."""

    name: str
    fn: Callable
    task: str
    options: dict = field(default_factory=dict)
    probabilistic: bool = False  # defines class probabilities (predict_proba)

    def __call__(self, output, *targets, **kwargs):
        return self.fn(output, *targets, **{**self.options, **kwargs})

    def with_options(self, **options):
        return Loss(self.name, self.fn, self.task, {**self.options, **options}, self.probabilistic)

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Loss({self.name!r}{', ' if opts else ''}{opts})"


def _entry(fn, task, probabilistic=False, **options):
    return (fn, task, probabilistic, options)


# canonical name -> (function, task, probabilistic, default options)
_CATALOGUE = {
    "multiclass_hinge": _entry(classification.multiclass_hinge, "multiclass"),
    "crammer_singer": _entry(classification.multiclass_hinge, "multiclass", kind="crammer_singer"),
    "squared_hinge": _entry(classification.multiclass_hinge, "multiclass", squared=True),
    "softmax_cross_entropy": _entry(classification.softmax_cross_entropy, "multiclass", True),
    "categorical_cross_entropy": _entry(classification.categorical_cross_entropy, "multiclass"),
    "softmax_focal": _entry(classification.softmax_focal, "multiclass", True),
    "poly1_cross_entropy": _entry(poly.poly1_cross_entropy, "multiclass", True),
    "kl_divergence": _entry(distillation.kl_divergence, "multiclass", True),
    "sigmoid_binary_cross_entropy": _entry(binary.sigmoid_binary_cross_entropy, "binary", True),
    "binary_cross_entropy": _entry(binary.binary_cross_entropy, "binary"),
    "sigmoid_focal": _entry(binary.sigmoid_focal, "binary", True),
    "hinge": _entry(binary.hinge, "binary"),
    "binary_squared_hinge": _entry(binary.hinge, "binary", squared=True),
    "modified_huber": _entry(binary.modified_huber, "binary"),
    "perceptron": _entry(binary.perceptron, "binary"),
    "soft_margin": _entry(margins.soft_margin, "binary"),
    "multilabel_soft_margin": _entry(margins.multilabel_soft_margin, "binary"),
    "squared_error": _entry(regression.squared_error, "regression"),
    "absolute_error": _entry(regression.absolute_error, "regression"),
    "huber": _entry(regression.huber, "regression"),
    "smooth_l1": _entry(regression.smooth_l1, "regression"),
    "log_cosh": _entry(regression.log_cosh, "regression"),
    "pinball": _entry(quantile.pinball, "regression"),
    "epsilon_insensitive": _entry(quantile.epsilon_insensitive, "regression"),
    "squared_epsilon_insensitive": _entry(quantile.epsilon_insensitive, "regression", squared=True),
    "poisson_nll": _entry(counts.poisson_nll, "regression"),
    "gaussian_nll": _entry(counts.gaussian_nll, "regression"),
    "tweedie_deviance": _entry(counts.tweedie_deviance, "regression"),
    "margin_ranking": _entry(ranking.margin_ranking, "ranking"),
    "triplet_margin": _entry(ranking.triplet_margin, "ranking"),
    "cosine_embedding": _entry(margins.cosine_embedding, "ranking"),
    "hinge_embedding": _entry(margins.hinge_embedding, "ranking"),
    "batch_triplet": _entry(ranking.batch_triplet, "metric"),
    "contrastive": _entry(ranking.contrastive, "metric"),
    "soft_nearest_neighbour": _entry(metric.soft_nearest_neighbour, "metric"),
    "supervised_contrastive": _entry(metric.supervised_contrastive, "metric"),
    "multi_similarity": _entry(metric.multi_similarity, "metric"),
    # embeddings, labels and one weight vector per class (the proxies it learns)
    "arcface": _entry(metric.arcface, "metric"),
}

ALIASES = {
    "svm": "multiclass_hinge",
    "hinge_multiclass": "multiclass_hinge",
    "weston_watkins": "multiclass_hinge",
    "ww": "multiclass_hinge",
    "cs": "crammer_singer",
    "svm_squared": "squared_hinge",
    "softmax": "softmax_cross_entropy",
    "cross_entropy": "softmax_cross_entropy",
    "ce": "softmax_cross_entropy",
    "log_loss": "softmax_cross_entropy",
    "nll": "categorical_cross_entropy",
    "focal": "softmax_focal",
    "bce_with_logits": "sigmoid_binary_cross_entropy",
    "logistic": "sigmoid_binary_cross_entropy",
    "bce": "binary_cross_entropy",
    "binary_hinge": "hinge",
    "mse": "squared_error",
    "l2": "squared_error",
    "mae": "absolute_error",
    "l1": "absolute_error",
    "ranking": "margin_ranking",
    "triplet": "batch_triplet",
    "pairwise": "contrastive",
    "poly1": "poly1_cross_entropy",
    "polyloss": "poly1_cross_entropy",
    "kl": "kl_divergence",
    "kl_div": "kl_divergence",
    "distillation": "kl_divergence",
    "soft_margin_loss": "soft_margin",
    "multilabel_soft_margin_loss": "multilabel_soft_margin",
    "quantile": "pinball",
    "pinball_loss": "pinball",
    "svr": "epsilon_insensitive",
    "poisson": "poisson_nll",
    "gaussian": "gaussian_nll",
    "tweedie": "tweedie_deviance",
    "cosine_embedding_loss": "cosine_embedding",
    "hinge_embedding_loss": "hinge_embedding",
    "soft_nearest_neighbor": "soft_nearest_neighbour",
    "snn": "soft_nearest_neighbour",
    "supcon": "supervised_contrastive",
    "ntxent": "supervised_contrastive",
    "nt_xent": "supervised_contrastive",
    "infonce": "supervised_contrastive",
    "ms": "multi_similarity",
    "angular_margin": "arcface",
}


def available():
    """Canonical loss names, in catalogue order."""
    return list(_CATALOGUE)


def canonical_name(name):
    key = str(name).lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in _CATALOGUE:
        known = ", ".join(sorted(set(_CATALOGUE) | set(ALIASES)))
        raise ValueError(f"loss: expected one of {known}; got {name!r} instead")
    return key


def get(name, **options):
    """The loss called ``name`` (a canonical name or an alias) with ``options`` bound.

    >>> get("focal", gamma=1.0)
    Loss('softmax_focal', gamma=1.0)
    """
    if isinstance(name, Loss):
        return name.with_options(**options)
    key = canonical_name(name)
    fn, task, probabilistic, defaults = _CATALOGUE[key]
    return Loss(key, fn, task, {**defaults, **options}, probabilistic)
