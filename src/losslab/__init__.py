"""losslab: loss functions with exact gradients, and the optimization that minimises them.

The core (losses, info, regularizers, optim, models, train) needs only NumPy;
the estimators, datasets and plots (scikit-learn, matplotlib) load on first use.
"""

from importlib import import_module

from . import info, losses, lsq, models, optim, regularizers
from .curvefit import curve_fit
from .diagnostics import GradientReport, check_gradient
from .losses import LossResult
from .persist import load_model, save
from .train import History, fit

__version__ = "0.1.0"

_LAZY = {
    "EmbeddingModel": "embedding",
    "MetricLearner": "embedding",
    "metrics": None,
    "LinearClassifier": "estimators",
    "LinearRegressor": "estimators",
    "LinearSVM": "estimators",
    "MLPClassifier": "estimators",
    "SoftmaxClassifier": "estimators",
    "datasets": None,
    "estimators": None,
    "plots": None,
    "runs": None,
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'losslab' has no attribute {name!r}")
    module = import_module(f".{_LAZY[name] or name}", __name__)
    return module if _LAZY[name] is None else getattr(module, name)


__all__ = [
    "EmbeddingModel",
    "GradientReport",
    "History",
    "LinearClassifier",
    "LinearRegressor",
    "LinearSVM",
    "LossResult",
    "MLPClassifier",
    "MetricLearner",
    "SoftmaxClassifier",
    "__version__",
    "check_gradient",
    "curve_fit",
    "datasets",
    "estimators",
    "fit",
    "info",
    "load_model",
    "losses",
    "lsq",
    "metrics",
    "models",
    "optim",
    "regularizers",
    "save",
]
