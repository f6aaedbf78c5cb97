"""losslab: loss functions with exact gradients, and the optimization that minimises them.

The core (losses, info, regularizers, optim, models, training) needs only NumPy;
the estimators, datasets and plots (scikit-learn, matplotlib) load on first use.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from . import info, losses, lsq, models, optim, regularizers
from .diagnostics import GradientReport, check_gradient, sanity_check
from .losses import LossResult
from .optim.curvefit import curve_fit
from .training import History, fit

try:  # pyproject.toml holds the one literal; the installed metadata carries it here
    __version__ = version("losslab")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "unknown"

# loaded on first use: they need scikit-learn or matplotlib
_MODULES = {
    "data": ".data",
    "datasets": ".data",  # the first releases' name of losslab.data
    "estimators": ".estimators",
    "metrics": ".metrics",
    "plots": ".plots",
    "runs": ".runs",
}
_NAMES = {
    "EmbeddingModel": ".estimators",
    "LinearClassifier": ".estimators",
    "LinearRegressor": ".estimators",
    "LinearSVM": ".estimators",
    "MLPClassifier": ".estimators",
    "MetricLearner": ".estimators",
    "SoftmaxClassifier": ".estimators",
    "load_model": ".estimators.persist",
    "save": ".estimators.persist",
}


def __getattr__(name):
    if name in _MODULES:
        return import_module(_MODULES[name], __name__)
    if name in _NAMES:
        return getattr(import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'losslab' has no attribute {name!r}")


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
    "sanity_check",
    "save",
]
