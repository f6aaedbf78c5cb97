"""What the browser playground shows, computed by the library from a JSON-able state.

The page keeps the whole state (points, model parameters, loss and its
options, optimizer and its state) and sends it with each request; these
functions validate it, compute with losslab's own losses, models and
optimizers, and return plain lists. The server (``losslab.web``) only moves
JSON; no loss is re-implemented in JavaScript.
"""

from __future__ import annotations

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
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
DATASETS = ("blobs", "moons", "circles", "spiral")
BOX = 3.0  # the page shows [-BOX, BOX]²


class StateError(ValueError):
    """A request whose state is malformed: reported to the page as a 4xx with this message."""


def catalogue():
    return {
        "losses": {name: list(opts) for name, (_, opts) in LOSSES.items()},
        "optimizers": list(OPTIMIZERS),
        "datasets": list(DATASETS),
        "max_points": MAX_POINTS,
        "max_steps": MAX_STEPS,
        "box": BOX,
    }


def make_points(kind="blobs", n_classes=3, n_per_class=30, seed=0):
    """A 2-D dataset scaled into the page's box, as [[x, y, label], ...]."""
    from .. import data as datasets

    if kind not in DATASETS:
        raise StateError(f"dataset: expected one of {', '.join(DATASETS)}, got {kind!r}")
    n_classes = _int(n_classes, "n_classes", 2, 5)
    n_per_class = _int(n_per_class, "n_per_class", 1, MAX_POINTS // n_classes)
    if kind in ("moons", "circles"):
        n_classes = 2  # these shapes have two classes by construction
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


def evaluate(state, *, grid=40, selected=None):
    """Scores, per-point losses, data/regularization/total loss, accuracy, and the background grid."""
    X, y, n_classes = _points(state)
    loss = _loss(state)
    model = _model(state, n_classes)
    reg, penalty = _reg(state)
    objective = Objective(model, loss, reg=reg, penalty=penalty)
    scores = model(X) if len(X) else np.zeros((0, n_classes))
    per_point = loss(scores, y, reduction="none").value if len(X) else np.zeros(0)
    data_loss = float(per_point.mean()) if len(X) else 0.0
    reg_loss = float(objective.penalty_value_and_grads()[0])
    result = {
        "scores": scores.round(6).tolist(),
        "per_point_loss": np.asarray(per_point).round(6).tolist(),
        "data_loss": data_loss,
        "reg_loss": reg_loss,
        "total_loss": data_loss + reg_loss,
        "predicted": scores.argmax(axis=1).tolist() if len(X) else [],
        "accuracy": float(np.mean(scores.argmax(axis=1) == y)) if len(X) else 0.0,
        "grid": _grid(model, loss, grid),
        "params": _params_out(model),
    }
    if selected is not None and 0 <= int(selected) < len(X):
        rows = robustness_experiment(
            scores[int(selected)], int(y[int(selected)]), nudges=(0.0, 0.1, 0.3, 0.5, 1.0)
        )
        result["comparison"] = [
            {"nudge": n, "scores": s, "svm": v, "softmax": w} for n, s, v, w in rows
        ]
    return result


def step(state, n_steps=1):
    """``n_steps`` optimizer steps on mini-batches of the points; returns the new params, state and curve."""
    X, y, n_classes = _points(state)
    if len(X) == 0:
        raise StateError("points: add at least one point before training")
    n_steps = _int(n_steps, "steps", 1, MAX_STEPS)
    model = _model(state, n_classes)
    reg, penalty = _reg(state)
    objective = Objective(model, _loss(state), reg=reg, penalty=penalty)
    opt, opt_state = _optimizer(state, model)
    lr = _float(state.get("lr", 0.1), "lr", 0.0, 10.0)
    counter = _int(state.get("step_count", 0), "step_count", 0, 10**9)
    train_state = TrainState(
        opt, opt_state, np.random.default_rng([int(state.get("seed", 0)), counter])
    )
    history = History()

    def run_epoch():  # the page's request is one "epoch" of n_steps steps
        totals = loop.take_steps(
            lambda X_b, y_b, _: objective.value_and_grads(X_b, y_b),
            model.params,
            train_state,
            _batches(state, X, y, n_steps, train_state.shuffle_rng),
            optim.constant(lr),
            step_loss=history.step_loss,
        )
        train_state.epoch += 1
        return {"epoch": 1, "train_loss": totals.mean_loss, "lr": lr}

    loop.run_epochs(run_epoch, train_state, history, model, epochs=1)
    return {
        "params": _params_out(model),
        "opt_state": _opt_state_out(opt_state),
        "step_count": counter + n_steps,
        "curve": history.step_loss,
    }


def _optimizer(state, model):
    """The page's optimizer and its state (fresh unless the page's state fits the model)."""
    name = str(state.get("optimizer", "sgd"))
    if name not in OPTIMIZERS:
        raise StateError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {name!r}")
    opt = optim.get(name)
    return opt, _opt_state_in(state.get("opt_state"), opt.init(model.params))


def _batches(state, X, y, n_steps, rng):
    """``n_steps`` mini-batches (X, y, None) of the page's batch size, each drawn without replacement."""
    batch = int(state.get("batch_size", 0) or 0)
    for _ in range(n_steps):
        if 0 < batch < len(X):
            idx = rng.choice(len(X), size=batch, replace=False)
            yield X[idx], y[idx], None
        else:
            yield X, y, None


def random_params(state):
    """Fresh small random parameters for the state's model (seeded by the state's seed and step count)."""
    _, _, n_classes = _points(state, allow_empty=True)
    seed = [int(state.get("seed", 0)), _int(state.get("step_count", 0), "step_count", 0, 10**9)]
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
    try:
        arr = (
            np.array(points, dtype=np.float64).reshape(len(points), 3)
            if points
            else np.zeros((0, 3))
        )
    except (TypeError, ValueError):
        raise StateError("points: expected a list of [x, y, label] numbers") from None
    if not np.all(np.isfinite(arr)):
        raise StateError("points: expected finite coordinates")
    labels = arr[:, 2]
    if np.any(labels != np.round(labels)) or np.any(labels < 0) or np.any(labels >= n_classes):
        raise StateError(f"points: labels must be integers in [0, {n_classes})")
    return arr[:, :2], labels.astype(np.intp), n_classes


def _loss(state):
    name = str(state.get("loss", "softmax"))
    if name not in LOSSES:
        raise StateError(f"loss: expected one of {', '.join(LOSSES)}, got {name!r}")
    registry_name, option_names = LOSSES[name]
    options = {}
    if "margin" in option_names:
        options["margin"] = _float(state.get("margin", 1.0), "margin", 0.0, 10.0)
    if "gamma" in option_names:
        options["gamma"] = _float(state.get("gamma", 2.0), "gamma", 0.0, 10.0)
    return losses.get(registry_name, **options)


def _reg(state):
    penalty = str(state.get("penalty", "l2"))
    if penalty not in ("l2", "l1"):
        raise StateError(f"penalty: expected 'l2' or 'l1', got {penalty!r}")
    return _float(state.get("reg", 0.0), "reg", 0.0, 10.0), penalty


def _build(state, n_classes, random_state=0, init_scale=1e-3):
    kind = str(state.get("model", "linear"))
    if kind == "linear":
        return models.Linear(2, n_classes, init_scale=init_scale, random_state=random_state)
    if kind == "mlp":
        hidden = _int(state.get("hidden", 16), "hidden", 1, 256)
        return models.MLP(2, (hidden,), n_classes, output_scale=None, random_state=random_state)
    raise StateError(f"model: expected 'linear' or 'mlp', got {kind!r}")


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
        try:
            value = np.asarray(params[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise StateError(f"params: {name} must be numbers") from None
        if value.shape != p.shape:
            raise StateError(
                f"params: {name} must have shape {list(p.shape)}, got {list(value.shape)}"
            )
        if not np.all(np.isfinite(value)):
            raise StateError(f"params: {name} must be finite")
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


def _opt_state_in(saved, fresh):
    """The page's optimizer state, if it matches the optimizer and model; else a fresh one."""
    if not isinstance(saved, dict):
        return fresh
    try:
        for key, value in fresh.items():
            if isinstance(value, dict):
                for name, arr in value.items():
                    incoming = np.asarray(saved[key][name], dtype=np.float64)
                    if incoming.shape != arr.shape:
                        return fresh
                    arr[...] = incoming
            else:
                fresh[key] = type(value)(saved[key])
    except (KeyError, TypeError, ValueError):
        return fresh
    return fresh


def _int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise StateError(f"{name}: expected an integer, got {value!r}")
    if not low <= value <= high:
        raise StateError(f"{name}: expected an integer in [{low}, {high}], got {value}")
    return int(value)


def _float(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise StateError(f"{name}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise StateError(f"{name}: expected a number in [{low}, {high}], got {value}")
    return float(value)
