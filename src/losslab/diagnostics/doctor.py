"""``losslab doctor RUN_DIR``: the training doctor's diagnoses of a finished run directory.

The rules and the warning categories are :mod:`losslab.training.doctor` (the
training loop's callbacks use them while training); this module reads what
``losslab train --out DIR`` left there -- ``config.json``, ``metrics.json`` (the
initial-loss sanity check) and the checkpoint's history, one loss per step --
and hands them to :func:`~losslab.training.doctor.diagnose`.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .. import optim
from ..runs import load_config
from ..training import TrainState, files
from ..training.doctor import (
    Diagnosis,
    DoctorWarning,
    InitialLossWarning,
    LearningRateTooHighWarning,
    LearningRateTooLowWarning,
    OverfittingWarning,
    ProbabilitiesAsScoresWarning,
    TrainingDoctor,
    check_scores,
    diagnose,
)

__all__ = [
    "Diagnosis",
    "DoctorWarning",
    "InitialLossWarning",
    "LearningRateTooHighWarning",
    "LearningRateTooLowWarning",
    "OverfittingWarning",
    "ProbabilitiesAsScoresWarning",
    "RunDiagnosis",
    "TrainingDoctor",
    "check_scores",
    "diagnose",
    "diagnose_run",
]


class RunDiagnosis(SimpleNamespace):
    """What ``diagnose_run`` found: ``diagnoses`` (a list), ``steps`` and ``epochs`` read, ``notes``.

    Attributes
    ----------
    run_dir : Path
        The run directory read.
    diagnoses : list of Diagnosis
        What the rules found; empty for a healthy run.
    steps : int
        Training steps in the history read.
    epochs : int
        Epochs in it.
    notes : list of str
        What could not be read, and why.

    Examples
    --------
    >>> found = RunDiagnosis(run_dir="runs/a", diagnoses=[], steps=30, epochs=3, notes=[])
    >>> found.as_dict()
    {'run': 'runs/a', 'steps': 30, 'epochs': 3, 'notes': [], 'diagnoses': []}
    """

    def as_dict(self) -> dict:
        """The run, counts, notes and diagnoses as plain dicts and strings (for JSON)."""
        return {
            "run": str(self.run_dir),
            "steps": self.steps,
            "epochs": self.epochs,
            "notes": self.notes,
            "diagnoses": [d.as_dict() for d in self.diagnoses],
        }


def diagnose_run(run_dir: str | Path) -> RunDiagnosis:
    """Diagnose the training run saved in ``run_dir`` (``losslab train --out run_dir``).

    Parameters
    ----------
    run_dir : str or Path
        A run directory holding ``config.json`` and, for mini-batch runs,
        ``checkpoint.npz`` with its history; ``metrics.json`` when the run finished.

    Returns
    -------
    RunDiagnosis
        ``diagnoses``: :class:`Diagnosis` list (empty for a healthy run);
        ``notes``: what could not be read (a full-batch run keeps no step history).

    Examples
    --------
    >>> import tempfile
    >>> from losslab.runs import TrainConfig, run_training
    >>> with tempfile.TemporaryDirectory() as out:
    ...     _ = run_training(TrainConfig(data="iris", lr=100.0, epochs=3, solver="sgd"), out=out)
    ...     [d.name for d in diagnose_run(out).diagnoses]
    ['LearningRateTooHighWarning']

    References
    ----------
    A. Karpathy, "A Recipe for Training Neural Networks" (2019):
    https://karpathy.github.io/2019/04/25/recipe/
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"run_dir: {run_dir} is not a directory")
    config = load_config(run_dir)
    notes: list[str] = []
    metrics = _metrics(run_dir, notes)
    sanity = metrics.get("sanity")
    sanity = sanity if isinstance(sanity, dict) else {}
    history = _history(run_dir, config, notes)
    # reg "auto" depends on the training rows: the finished run's metrics record its value
    reg = metrics.get("reg") if config.reg == "auto" else config.reg
    found = diagnose(
        history,
        initial_loss=sanity.get("measured"),
        expected_initial_loss=sanity.get("expected"),
        reg=reg if isinstance(reg, (int, float)) else None,
    )
    return RunDiagnosis(
        run_dir=run_dir,
        diagnoses=found,
        steps=len(history["step_loss"]),
        epochs=len(history["train_loss"]),
        notes=notes,
    )


def _metrics(run_dir, notes):
    """What metrics.json recorded (the initial-loss check among it), or {} with a note why not."""
    path = run_dir / "metrics.json"
    if not path.is_file():
        notes.append("no metrics.json (the run did not finish): the initial loss is not checked")
        return {}
    try:
        metrics = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the run's metrics ({exc})") from None
    return metrics if isinstance(metrics, dict) else {}


def _history(run_dir, config, notes):
    """The per-step and per-epoch losses the run's checkpoint recorded."""
    path = run_dir / "checkpoint.npz"
    empty = {"step_loss": [], "train_loss": [], "val_loss": [], "lr": []}
    if not path.is_file():
        notes.append(
            f"no checkpoint.npz, so no loss history: the run (solver {config.solver}) used a "
            "full-batch solver, or stopped before its first epoch ended"
        )
        return empty
    arrays, _ = files.load_arrays(path, "checkpoint")
    # the checkpoint is read into a stand-in model of its own shapes: the data need not be loaded
    params = {k.removeprefix("param/"): np.empty_like(a) for k, a in arrays.items()}
    model = SimpleNamespace(params={k: a for k, a in params.items() if "/" not in k})
    opt = optim.get(config.optimizer)
    state = TrainState(opt, opt.init(model.params), np.random.default_rng())
    _, history = files.load_checkpoint(path, model, state)
    return {k: getattr(history, k) for k in empty}
