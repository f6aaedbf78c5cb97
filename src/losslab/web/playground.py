"""What the browser playground shows, computed by the library from a JSON-able state.

The page keeps the whole state (points, model parameters, loss and its
options, optimizer and its state) and sends it with each request; these
functions validate it, compute with losslab's own losses, models and
optimizers, and return plain lists. The server (``losslab.web``) only moves
JSON; no loss is re-implemented in JavaScript.
"""

from __future__ import annotations

import math
import reprlib
import time
from typing import Any

import numpy as np

from .. import losses, models, optim
from ..diagnostics.compare import robustness_experiment
from ..training import loop
from ..training.objective import Objective
from ..training.state import History, TrainState

MAX_POINTS = 1000
MAX_STEPS = 500
LOSSES = {  # playground name -> (registry name, options the page can set)
    "svm": ("multiclass_hinge", ("margin",)),
    "crammer_singer": ("crammer_singer", ("margin",)),
    "squared_hinge": ("squared_hinge", ("margin",)),
    "softmax": ("softmax_cross_entropy", ()),
    "focal": ("softmax_focal", ("gamma",)),
}
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
DATASETS = ("blobs", "moons", "circles", "spiral")
BOX = 3.0  # the page shows [-BOX, BOX]²
MAX_SEED = 2**32 - 1
MAX_COUNT = 10**9  # step counters, Adam's t
NON_NEGATIVE = {"adam": ("v",), "adagrad": ("cache",), "rmsprop": ("cache",)}  # squared gradients
_SHOW = reprlib.Repr()  # a hostile value is shown briefly in an error, never whole
_SHOW.maxlevel, _SHOW.maxstring, _SHOW.maxother, _SHOW.maxlong = 2, 40, 40, 40


class StateError(ValueError):
    """A request whose state is malformed: reported to the page as a 4xx with this message."""


def catalogue() -> dict[str, Any]:
    return {
        "losses": {name: list(opts) for name, (_, opts) in LOSSES.items()},
        "optimizers": list(OPTIMIZERS),
        "datasets": list(DATASETS),
        "max_points": MAX_POINTS,
        "max_steps": MAX_STEPS,
        "box": BOX,
    }


def make_points(
    kind: str = "blobs", n_classes: int = 3, n_per_class: int = 30, seed: int = 0
) -> dict[str, Any]:
    """A 2-D dataset scaled into the page's box, as [[x, y, label], ...]."""
    from .. import data as datasets

    _choice(kind, "dataset", DATASETS)
    n_classes = _int(n_classes, "n_classes", 2, 5)
    n_per_class = _int(n_per_class, "n_per_class", 1, MAX_POINTS // n_classes)
    if kind in ("moons", "circles"):
        n_classes = 2  # these shapes have two classes by construction
    seed = _int(seed, "seed", 0, MAX_SEED)
    X, y = datasets.generate(
        kind, n_samples=n_classes * n_per_class, n_classes=n_classes, random_state=seed
    )
    X = X - X.mean(axis=0)
    X = X * (0.8 * BOX / np.abs(X).max())
    return {
        "points": [
            [round(float(a), 4), round(float(b), 4), int(c)] for (a, b), c in zip(X, y, strict=True)
        ],
        "n_classes": n_classes,
    }


def evaluate(
    state: dict[str, Any], *, grid: int = 40, selected: int | None = None
) -> dict[str, Any]:
    """Scores, per-point losses, data/regularization/total loss, accuracy, and the background grid."""
    X, y, n_classes = _points(state)
    loss = _loss(state)
    model = _model(state, n_classes)
    reg, penalty = _reg(state)
    if selected is not None:
        selected = _int(selected, "selected", -MAX_COUNT, MAX_COUNT)
    objective = Objective(model, loss, reg=reg, penalty=penalty)
    with np.errstate(all="ignore"):  # overflow is reported below, naming the field
        scores = model(X) if len(X) else np.zeros((0, n_classes))
        per_point = loss(scores, y, reduction="none").value if len(X) else np.zeros(0)
        reg_loss = float(objective.penalty_value_and_grads()[0])
        background = _grid(model, loss, grid)
    _finite(scores, per_point, reg_loss, background["confidence"])
    data_loss = float(per_point.mean()) if len(X) else 0.0
    result = {
        "scores": scores.round(6).tolist(),
        "per_point_loss": np.asarray(per_point).round(6).tolist(),
        "data_loss": data_loss,
        "reg_loss": reg_loss,
        "total_loss": data_loss + reg_loss,
        "predicted": scores.argmax(axis=1).tolist() if len(X) else [],
        "accuracy": float(np.mean(scores.argmax(axis=1) == y)) if len(X) else 0.0,
        "grid": background,
        "params": _params_out(model),
    }
    if selected is not None and 0 <= selected < len(X):
        rows = robustness_experiment(
            scores[selected], int(y[selected]), nudges=(0.0, 0.1, 0.3, 0.5, 1.0)
        )
        result["comparison"] = [
            {"nudge": n, "scores": s, "svm": v, "softmax": w} for n, s, v, w in rows
        ]
    return result


def _finite(*values):
    """Refuse parameters (or points) so large that what the page would be shown overflows."""
    if not all(np.all(np.isfinite(v)) for v in values):
        raise StateError(
            "params: the scores overflow for these parameters and points; "
            "randomize the parameters or use smaller ones"
        )


def step(
    state: dict[str, Any], n_steps: int = 1, *, time_budget: float | None = None
) -> dict[str, Any]:
    """``n_steps`` optimizer steps on mini-batches of the points; returns the new params, state and curve.

    With ``time_budget`` (seconds), no step starts after the budget is spent: the
    reply then holds the steps taken (at least one), its ``step_count`` and
    ``curve`` say how many, and ``note`` says why.
    """
    X, y, n_classes = _points(state)
    if len(X) == 0:
        raise StateError("points: add at least one point before training")
    n_steps = _int(n_steps, "steps", 1, MAX_STEPS)
    model = _model(state, n_classes)
    reg, penalty = _reg(state)
    objective = Objective(model, _loss(state), reg=reg, penalty=penalty)
    opt, opt_state = _optimizer(state, model)
    lr = _float(state.get("lr", 0.1), "lr", 0.0, 10.0)
    counter = _int(state.get("step_count", 0), "step_count", 0, MAX_COUNT)
    seed = _int(state.get("seed", 0), "seed", 0, MAX_SEED)
    batch = _int(state.get("batch_size") or 0, "batch_size", 0, MAX_COUNT)
    train_state = TrainState(opt, opt_state, np.random.default_rng([seed, counter]))
    history = History()
    deadline = None if time_budget is None else time.monotonic() + time_budget

    def run_epoch():  # the page's request is one "epoch" of n_steps steps
        totals = loop.take_steps(
            lambda X_b, y_b, _: objective.value_and_grads(X_b, y_b),
            model.params,
            train_state,
            _batches(X, y, batch, n_steps, train_state.shuffle_rng, deadline),
            optim.constant(lr),
            step_loss=history.step_loss,
        )
        train_state.epoch += 1
        return {"epoch": 1, "train_loss": totals.mean_loss, "lr": lr}

    with np.errstate(all="ignore"):  # a loss that overflows is caught by the loop (Diverged)
        loop.run_epochs(run_epoch, train_state, history, model, epochs=1)
    done = len(history.step_loss)
    if not all(np.all(np.isfinite(p)) for p in model.params.values()):
        raise StateError("lr: training diverged in the last step; lower the learning rate")
    result = {
        "params": _params_out(model),
        "opt_state": _opt_state_out(opt_state),
        "step_count": counter + done,
        "curve": history.step_loss,
    }
    if done < n_steps:
        result["note"] = (
            f"steps: {done} of {n_steps} done within the time budget of {time_budget} s"
        )
    return result


def _optimizer(state, model):
    """The page's optimizer and its state (fresh unless the page's state fits the model)."""
    name = _choice(state.get("optimizer", "sgd"), "optimizer", OPTIMIZERS)
    opt = optim.get(name)
    return opt, _opt_state_in(state.get("opt_state"), opt.init(model.params), name)


def _batches(X, y, batch, n_steps, rng, deadline):
    """Up to ``n_steps`` mini-batches (X, y, None) of ``batch`` rows, each drawn without replacement.

    The first is always given; no other once ``deadline`` (``time.monotonic()``) has passed.
    """
    for k in range(n_steps):
        if k and deadline is not None and time.monotonic() > deadline:
            return
        if 0 < batch < len(X):
            idx = rng.choice(len(X), size=batch, replace=False)
            yield X[idx], y[idx], None
        else:
            yield X, y, None


def random_params(state: dict[str, Any]) -> dict[str, Any]:
    """Fresh small random parameters for the state's model (seeded by the state's seed and step count)."""
    _, _, n_classes = _points(state, allow_empty=True)
    seed = [
        _int(state.get("seed", 0), "seed", 0, MAX_SEED),
        _int(state.get("step_count", 0), "step_count", 0, MAX_COUNT),
    ]
    model = _build(state, n_classes, random_state=np.random.SeedSequence(seed), init_scale=0.5)
    return {"params": _params_out(model)}


# --- validation and conversion --------------------------------------------------------------


def _points(state, allow_empty=True):
    if not isinstance(state, dict):
        raise StateError("state: expected a JSON object")
    n_classes = _int(state.get("n_classes", 3), "n_classes", 2, 5)
    points = state.get("points", [])
    if not isinstance(points, list):
        raise StateError("points: expected a list of [x, y, label]")
    if len(points) > MAX_POINTS:
        raise StateError(f"points: at most {MAX_POINTS} points, got {len(points)}")
    if not all(isinstance(p, list) and len(p) == 3 for p in points):
        raise StateError("points: expected a list of [x, y, label] numbers")
    arr = _numbers(points, "points") if points else np.zeros((0, 3))
    labels = arr[:, 2]
    if np.any(labels != np.round(labels)) or np.any(labels < 0) or np.any(labels >= n_classes):
        raise StateError(f"points: labels must be integers in [0, {n_classes})")
    return arr[:, :2], labels.astype(np.intp), n_classes


def _loss(state):
    name = _choice(state.get("loss", "softmax"), "loss", LOSSES)
    registry_name, option_names = LOSSES[name]
    options = {}
    if "margin" in option_names:
        options["margin"] = _float(state.get("margin", 1.0), "margin", 0.0, 10.0)
    if "gamma" in option_names:
        options["gamma"] = _float(state.get("gamma", 2.0), "gamma", 0.0, 10.0)
    return losses.get(registry_name, **options)


def _reg(state):
    penalty = _choice(state.get("penalty", "l2"), "penalty", ("l2", "l1"))
    return _float(state.get("reg", 0.0), "reg", 0.0, 10.0), penalty


def _build(state, n_classes, random_state=0, init_scale=1e-3):
    kind = _choice(state.get("model", "linear"), "model", ("linear", "mlp"))
    if kind == "linear":
        return models.Linear(2, n_classes, init_scale=init_scale, random_state=random_state)
    hidden = _int(state.get("hidden", 16), "hidden", 1, 256)
    return models.MLP(2, (hidden,), n_classes, output_scale=None, random_state=random_state)


def _model(state, n_classes):
    model = _build(state, n_classes)
    params = state.get("params")
    if params is None:
        return model
    if not isinstance(params, dict):
        raise StateError("params: expected an object of arrays")
    for name, p in model.params.items():
        if name not in params:
            raise StateError(f"params: missing {name} for this model")
        value = _numbers(params[name], f"params: {name}")
        if value.shape != p.shape:
            raise StateError(
                f"params: {name} must have shape {list(p.shape)}, got {list(value.shape)}"
            )
        p[...] = value
    return model


def _grid(model, loss, size):
    size = _int(size, "grid", 4, 100)
    axis = np.linspace(-BOX, BOX, size)
    gx, gy = np.meshgrid(axis, axis)
    scores = model(np.c_[gx.ravel(), gy.ravel()])
    if loss.probabilistic:
        probs = np.exp(losses.log_softmax(scores))
        confidence = probs.max(axis=1)
    else:  # margin between the best and the runner-up score, squashed to [0, 1]
        top2 = np.sort(scores, axis=1)[:, -2:]
        confidence = 1 - np.exp(-(top2[:, 1] - top2[:, 0]))
    return {
        "axis": axis.round(4).tolist(),
        "label": scores.argmax(axis=1).reshape(size, size).tolist(),
        "confidence": confidence.reshape(size, size).round(3).tolist(),
    }


def _params_out(model):
    return {k: p.tolist() for k, p in model.params.items()}


def _opt_state_out(state):
    return {
        k: ({n: a.tolist() for n, a in v.items()} if isinstance(v, dict) else v)
        for k, v in state.items()
    }


def _opt_state_in(saved, fresh, name):
    """The page's optimizer state if it is ``name``'s for this model, else ``fresh``.

    Another optimizer's or model's state (other keys or shapes) starts afresh, as
    after the page switches; one that fits but holds bad values is refused.
    """
    if saved is None:
        return fresh
    if not isinstance(saved, dict):
        raise StateError("opt_state: expected an object (or null for a fresh state)")
    if set(saved) != set(fresh):
        return fresh
    arrays = {}
    for key, value in fresh.items():
        if not isinstance(value, dict):
            continue
        incoming = saved[key]
        if not isinstance(incoming, dict) or set(incoming) != set(value):
            return fresh
        for part, arr in value.items():
            got = _numbers(incoming[part], f"opt_state.{key}.{part}")
            if got.shape != arr.shape:
                return fresh
            if key in NON_NEGATIVE.get(name, ()) and np.any(got < 0):
                raise StateError(f"opt_state.{key}.{part}: expected numbers >= 0")
            arrays[key, part] = got
    for key, value in fresh.items():
        if isinstance(value, dict):
            for part, arr in value.items():
                arr[...] = arrays[key, part]
        else:  # a step counter (Adam's t): its bias correction needs t >= 0
            fresh[key] = _int(saved[key], f"opt_state.{key}", 0, MAX_COUNT)
    return fresh


def _shown(value):
    return _SHOW.repr(value)


def _choice(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise StateError(f"{name}: expected one of {', '.join(options)}, got {_shown(value)}")
    return value


def _numbers(value, name):
    """``value`` (nested lists) as a float64 array of finite numbers, or a StateError naming it."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        arr = None
    if arr is None or arr.dtype.kind not in "iuf" or _any_bool(value, arr):
        raise StateError(f"{name}: expected numbers in nested lists of equal lengths")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise StateError(f"{name}: expected finite numbers")
    return arr


def _any_bool(value, arr):
    """Whether nested lists that NumPy read as numbers hold a true/false (which it reads as 1/0)."""
    return arr.size > 0 and any(type(x) is bool for x in np.asarray(value, dtype=object).flat)


def _int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StateError(f"{name}: expected an integer, got {_shown(value)}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise StateError(f"{name}: expected an integer, got {value!r}")
    if not low <= value <= high:
        raise StateError(f"{name}: expected an integer in [{low}, {high}], got {_shown(value)}")
    return int(value)


def _float(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StateError(f"{name}: expected a number, got {_shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise StateError(f"{name}: expected a finite number, got {value!r}")
    if not low <= value <= high:
        raise StateError(f"{name}: expected a number in [{low}, {high}], got {_shown(value)}")
    return float(value)
