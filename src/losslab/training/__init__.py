"""Training: the objective, the one mini-batch loop, full-batch solvers, checks and checkpoints.

``losslab.fit`` is :func:`losslab.training.minibatch.fit`; everything that trains a model
(the estimators, metric learning, local SGD on Dask, the playground) runs its
steps through :mod:`losslab.training.loop`.
"""

from .doctor import (
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
from .full_batch import FULL_BATCH_METHODS, fit_full_batch, minimise_full_batch
from .loop import Diverged, run_epochs, take_steps
from .minibatch import fit
from .objective import (
    Objective,
    build_classifier,
    encode_targets,
    evaluate,
    n_outputs,
    predict_labels,
)
from .spec import TrainResult, TrainSpec, class_weight_vector
from .state import History, TrainState

__all__ = [
    "FULL_BATCH_METHODS",
    "Diagnosis",
    "Diverged",
    "DoctorWarning",
    "History",
    "InitialLossWarning",
    "LearningRateTooHighWarning",
    "LearningRateTooLowWarning",
    "Objective",
    "OverfittingWarning",
    "ProbabilitiesAsScoresWarning",
    "TrainResult",
    "TrainSpec",
    "TrainState",
    "TrainingDoctor",
    "build_classifier",
    "check_scores",
    "class_weight_vector",
    "diagnose",
    "encode_targets",
    "evaluate",
    "fit",
    "fit_full_batch",
    "minimise_full_batch",
    "n_outputs",
    "predict_labels",
    "run_epochs",
    "take_steps",
]
