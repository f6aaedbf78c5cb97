"""What a training run leaves behind: its History, and the TrainState that continues it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """What happened during training: the noisy per-step curve and per-epoch summaries."""

    step_loss: list = field(default_factory=list)  # total loss of each mini-batch
    epoch: list = field(default_factory=list)  # 1, 2, ...
    train_loss: list = field(default_factory=list)  # mean batch loss over the epoch
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    converged: bool = False  # stopped because the monitored loss stopped improving by tol
    stopped_by_callback: bool = False
    best_epoch: int = 0
    state: object = field(default=None, repr=False, compare=False)  # TrainState, to continue

    @property
    def n_epochs(self):
        return len(self.epoch)

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "state"}


@dataclass
class TrainState:
    """Everything needed to continue training exactly where it stopped."""

    optimizer: object
    opt_state: dict
    shuffle_rng: np.random.Generator
    epoch: int = 0
    step: int = 0
