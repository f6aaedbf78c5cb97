"""Every loss with its exact analytic gradient.

Each function is ``name(output, target, *, options, sample_weight=None,
reduction="mean") -> LossResult(value, grad)``; ``grad`` is the gradient with
respect to ``output`` and has its shape and dtype. See DESIGN.md for the
conventions and docs/guide/losses.md for the table of formulas. A few have a fused numba
kernel (losslab.fast) for their plain case; :func:`fused_mean` is that kernel as
fit's unchecked per-batch call.
"""

from ._fused import fused_mean
from ._registry import (
    ALIASES,
    Loss,
    available,
    canonical_name,
    get,
    register,
    unregister,
)
from ._result import LossResult
from .binary import (
    binary_cross_entropy,
    hinge,
    modified_huber,
    perceptron,
    sigmoid,
    sigmoid_binary_cross_entropy,
    sigmoid_focal,
    softplus,
)
from .classification import (
    categorical_cross_entropy,
    class_weights,
    log_softmax,
    multiclass_hinge,
    softmax_cross_entropy,
    softmax_focal,
)
from .counts import gaussian_nll, poisson_nll, tweedie_deviance
from .distillation import kl_divergence
from .margins import cosine_embedding, hinge_embedding, multilabel_soft_margin, soft_margin
from .metric import arcface, multi_similarity, soft_nearest_neighbour, supervised_contrastive
from .poly import poly1_cross_entropy
from .quantile import epsilon_insensitive, pinball
from .ranking import (
    batch_triplet,
    contrastive,
    margin_ranking,
    mine_triplets,
    pairwise_distances,
    triplet_margin,
)
from .regression import absolute_error, huber, log_cosh, smooth_l1, squared_error

__all__ = [
    "ALIASES",
    "Loss",
    "LossResult",
    "absolute_error",
    "arcface",
    "available",
    "batch_triplet",
    "binary_cross_entropy",
    "canonical_name",
    "categorical_cross_entropy",
    "class_weights",
    "contrastive",
    "cosine_embedding",
    "epsilon_insensitive",
    "fused_mean",
    "gaussian_nll",
    "get",
    "hinge",
    "hinge_embedding",
    "huber",
    "kl_divergence",
    "log_cosh",
    "log_softmax",
    "margin_ranking",
    "mine_triplets",
    "modified_huber",
    "multi_similarity",
    "multiclass_hinge",
    "multilabel_soft_margin",
    "pairwise_distances",
    "perceptron",
    "pinball",
    "poisson_nll",
    "poly1_cross_entropy",
    "register",
    "sigmoid",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal",
    "smooth_l1",
    "soft_margin",
    "soft_nearest_neighbour",
    "softmax_cross_entropy",
    "softmax_focal",
    "softplus",
    "squared_error",
    "supervised_contrastive",
    "triplet_margin",
    "tweedie_deviance",
    "unregister",
]
