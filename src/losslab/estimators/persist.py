"""Model files: a fitted estimator or a bare model as ``.npz`` plus a JSON header, without pickle."""

from __future__ import annotations

import importlib
import json
from typing import Any

import numpy as np

from .. import models
from ..training.files import StrPath, check_finite_arrays, load_arrays, save_arrays
from ..training.spec import TrainResult
from .base import TrainedEstimator
from .classifiers import LinearClassifier, LinearSVM, MLPClassifier, SoftmaxClassifier
from .regressor import LinearRegressor

_ESTIMATORS = {
    cls.__name__: cls
    for cls in (LinearClassifier, SoftmaxClassifier, LinearSVM, MLPClassifier, LinearRegressor)
}


def save(
    obj: Any,
    path: StrPath,
    *,
    extra_arrays: dict[str, Any] | None = None,
    extra_header: dict[str, Any] | None = None,
) -> None:
    """Save a fitted estimator or a bare ``Linear``/``MLP`` model to ``path`` (.npz, no pickle).

    The JSON header records the format version, the model's kind and sizes, and
    for an estimator its class, parameters, loss and classes. The file is written
    atomically (to a temporary name, then renamed), so an interrupted save never
    leaves half a file. Parameters (or extra arrays) holding NaN or inf are
    refused: nothing is written.

    Parameters
    ----------
    obj : fitted estimator, Linear or MLP
        What to save; an estimator's model is ``obj.model_``.
    path : str or Path
        The ``.npz`` file to write.
    extra_arrays : dict of str to ndarray, optional
        More arrays to store beside the parameters.
    extra_header : dict, optional
        More JSON-serialisable header entries.

    Raises
    ------
    TypeError
        ``obj`` is neither a fitted estimator nor a model.
    ValueError
        A parameter or extra array holds NaN or inf (named in the message).

    Examples
    --------
    >>> import os, tempfile
    >>> from losslab.models import Linear
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> save(Linear(4, 3, random_state=0), path)
    >>> load_model(path)
    Linear(n_features=4, n_outputs=3, dtype=float64)
    >>> broken = Linear(4, 3, random_state=0)
    >>> broken.params["b"][1] = np.nan
    >>> save(broken, path)
    Traceback (most recent call last):
    ...
    ValueError: save: parameter b holds 1 non-finite values (NaN or inf); a model file keeps only finite numbers

    References
    ----------
    ``numpy.savez`` and ``numpy.load(allow_pickle=False)``: arrays and text only, so
    loading a file never runs code.
    """
    model = getattr(obj, "model_", obj)
    if not isinstance(model, (models.Linear, models.MLP)):
        raise TypeError(
            f"save: expected a fitted losslab estimator or model, got {type(obj).__name__}"
        )
    header = {
        "kind": "model",
        "model": "mlp" if isinstance(model, models.MLP) else "linear",
        "hidden": list(getattr(model, "hidden", ())),
        "n_features": model.n_features,
        "n_outputs": model.n_outputs,
        "dtype": str(model.params[next(iter(model.params))].dtype),
        **(extra_header or {}),
    }
    if model is not obj:
        header["estimator"] = type(obj).__name__
        params = {**obj.get_params(), "loss": _saved_loss(obj.get_params().get("loss"))}
        header["params"] = {k: v for k, v in params.items() if _is_json_value(v)}
        classes = getattr(obj, "classes_", None)
        if classes is not None:
            header["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
        header["single_output"] = getattr(obj, "_single_output", True)
        # the penalty it trained with and the rows it saw: where partial_fit's alpha="auto" goes on
        for key, value in (("reg", "alpha_"), ("weight_seen", "_weight_seen")):
            if isinstance(getattr(obj, value, None), (int, float)):
                header[key] = float(getattr(obj, value))
    arrays = {f"param/{k}": p for k, p in model.params.items()}
    arrays.update(extra_arrays or {})
    check_finite_arrays(arrays, "save", "a model file")
    save_arrays(path, arrays, header)


def load_model(path: StrPath) -> models.Linear | models.MLP | TrainedEstimator:
    """Load what :func:`save` wrote: the estimator (fitted) or the bare model.

    The header's sizes are checked against the saved arrays before a model is
    built, so a file that lies about them is refused without allocating. Nothing
    is unpickled: a foreign or corrupt file is a one-line ``ValueError``.

    Parameters
    ----------
    path : str or Path
        A file :func:`save` wrote.

    Returns
    -------
    estimator, Linear or MLP
        The estimator, fitted (``predict`` works at once), or the bare model.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from losslab import SoftmaxClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxClassifier(random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "iris.npz")
    >>> save(clf, path)
    >>> bool((load_model(path).predict(X) == clf.predict(X)).all())
    True

    References
    ----------
    ``numpy.load(allow_pickle=False)``.
    """
    arrays, header = load_arrays(path, "model")
    try:
        shapes = _declared_shapes(header)
        for k, shape in shapes.items():
            saved = arrays.get(f"param/{k}")
            if saved is None or saved.shape != shape:
                found = "missing" if saved is None else f"shape {saved.shape}"
                raise ValueError(f"parameter {k} is {found}, the header declares {shape}")
        dtype = np.dtype(header["dtype"])
        if dtype.kind != "f":
            raise ValueError(f"dtype {dtype} is not a floating-point type")
        model = models.build(
            header["model"],
            header["n_features"],
            header["n_outputs"],
            hidden=header["hidden"],
            dtype=dtype,
        )
        for k, p in model.params.items():
            p[...] = arrays[f"param/{k}"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: corrupt losslab model file ({exc})") from None
    name = header.get("estimator")
    if name is None:
        return model
    if name not in _ESTIMATORS:
        raise ValueError(f"{path}: unknown estimator {name!r}")
    classes = np.asarray(header["classes"]) if "classes" in header else None
    result = TrainResult(model, None, 0, classes, header.get("single_output", True))
    result.reg, result.weight_seen = (_number(header.get(k)) for k in ("reg", "weight_seen"))
    return _ESTIMATORS[name](**header.get("params", {})).set_trained(result)


def _number(value):
    """A header's number as a float, None for anything else (an older file has none)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def _declared_shapes(header):
    """{parameter name: shape} of the model the header describes."""
    kind, hidden = header["model"], header["hidden"]
    sizes = [header["n_features"], *(hidden if kind == "mlp" else ()), header["n_outputs"]]
    if kind not in ("linear", "mlp") or not isinstance(hidden, list):
        raise ValueError(f"model {kind!r} with hidden {hidden!r}")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes):
        raise ValueError(f"layer sizes {sizes} are not positive integers")
    if kind == "linear":
        return {"W": tuple(sizes), "b": (sizes[1],)}
    shapes = {}
    for k in range(1, len(sizes)):
        shapes[f"W{k}"], shapes[f"b{k}"] = (sizes[k - 1], sizes[k]), (sizes[k],)
    return shapes


def _saved_loss(loss):
    """The loss as the file keeps it: a name as it is; the user's function as "module:name".

    The file holds no code, so a function is saved by where it can be imported
    from again; a lambda, a nested function or one of ``__main__`` cannot be.
    """
    if loss is None or isinstance(loss, str) or not callable(loss):
        return loss
    module, name = getattr(loss, "__module__", None), getattr(loss, "__qualname__", "")
    importable = module not in (None, "__main__") and "<" not in name
    if importable and getattr(importlib.import_module(module), name.split(".")[0], None):
        return f"{module}:{name}"
    raise ValueError(
        f"loss: {getattr(loss, '__name__', repr(loss))} cannot be saved: the file keeps no code, "
        "only where a function "
        "can be imported from; define it at the top of a module (not __main__) or register it "
        "with losses.register and pass its name"
    )


def _is_json_value(v):
    return (
        v is None
        or isinstance(v, (bool, int, float, str))
        or (
            isinstance(v, (list, tuple, dict)) and json.dumps(v, default=lambda _: None) is not None
        )
    )
