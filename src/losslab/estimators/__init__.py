"""scikit-learn estimators trained with any losslab loss, and the metric learner."""

from .classifiers import (
    LinearClassifier,
    LinearRegressor,
    LinearSVM,
    MLPClassifier,
    SoftmaxClassifier,
)
from .metric_learning import EmbeddingModel, MetricLearner

__all__ = [
    "EmbeddingModel",
    "LinearClassifier",
    "LinearRegressor",
    "LinearSVM",
    "MLPClassifier",
    "MetricLearner",
    "SoftmaxClassifier",
]
