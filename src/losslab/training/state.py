"""What a training run leaves behind: its History, and the TrainState that continues it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class History:
    """What happened during training: the noisy per-step curve and per-epoch summaries.

    Its repr fits on one screen (the number of epochs and steps, how training stopped,
    and the first, last and best value of each recorded curve); :meth:`as_dict` has
    every list, and :meth:`plot` draws them.
    """

    step_loss: list[float] = field(default_factory=list)  # total loss of each mini-batch
    epoch: list[int] = field(default_factory=list)  # 1, 2, ...
    train_loss: list[float] = field(default_factory=list)  # mean batch loss over the epoch
    train_accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float | None] = field(default_factory=list)
    seconds: list[float | None] = field(default_factory=list)
    converged: bool = False  # stopped because the monitored loss stopped improving by tol
    stopped_by_callback: bool = False
    best_epoch: int = 0
    state: Any = field(default=None, repr=False, compare=False)  # TrainState, to continue

    @property
    def n_epochs(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict[str, Any]:
        """Every field but ``state`` (the lists in full), for JSON."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "state"}

    def plot(self, title: str = "training") -> Figure:
        """The loss per step and per epoch, with accuracy beside it when it was recorded.

        Parameters
        ----------
        title : str, default "training"
            The start of each panel's title.

        Returns
        -------
        matplotlib.figure.Figure
            Shown inline as a cell's last value in a notebook; ``fig.savefig(path)``
            writes it (:func:`losslab.plots.loss_curve` writes it atomically).
        """
        from .figures import loss_curve_figure  # matplotlib only when drawn

        return loss_curve_figure(self, title)

    def __repr__(self) -> str:
        stopped = (
            "converged"
            if self.converged
            else "stopped by a callback"
            if self.stopped_by_callback
            else "ran every epoch"
        )
        best_epoch = f", best epoch {self.best_epoch}" if self.best_epoch else ""
        lines = [
            f"History({self.n_epochs} epochs, {len(self.step_loss)} steps, {stopped}{best_epoch})"
        ]
        for name, best in _CURVES:
            summary = _summary(getattr(self, name), best)
            if summary:
                lines.append(f"  {name:<15}{summary}")
        return "\n".join(lines)


# the per-epoch curves the repr summarises, and which end of each is best
_CURVES = (("train_loss", min), ("val_loss", min), ("train_accuracy", max), ("val_accuracy", max))


def _summary(values: list[float | None], best: Any) -> str:
    """'first 2.303  last 0.4127  best 0.4102 (epoch 19)' over the recorded values, or ''."""
    recorded = [(e, v) for e, v in enumerate(values, start=1) if v is not None]
    if not recorded:
        return ""
    epoch, value = best(recorded, key=lambda ev: ev[1])
    return (
        f"first {recorded[0][1]:.4g}  last {recorded[-1][1]:.4g}  best {value:.4g} (epoch {epoch})"
    )


@dataclass
class TrainState:
    """Everything needed to continue training exactly where it stopped."""

    optimizer: Any
    opt_state: dict[str, Any]
    shuffle_rng: np.random.Generator
    epoch: int = 0
    step: int = 0
