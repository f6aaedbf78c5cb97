"""scikit-learn estimators trained with any losslab loss, and the metric learner."""

from .classifiers import LinearClassifier, LinearSVM, MLPClassifier, SoftmaxClassifier
from .metric_learning import EmbeddingModel, MetricLearner
from .regressor import LinearRegressor

__all__ = [
    "EmbeddingModel",
    "LinearClassifier",
    "LinearRegressor",
    "LinearSVM",
    "MLPClassifier",
    "MetricLearner",
    "SoftmaxClassifier",
]
