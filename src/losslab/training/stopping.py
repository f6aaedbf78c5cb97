"""When to stop: scikit-learn's rule of ``tol`` and ``patience`` on a monitored loss."""

from __future__ import annotations

import numpy as np

from ..models import Model, Params
from .state import History


class EarlyStopping:
    """Stop once the monitored loss has not improved by ``tol`` for ``patience`` checks.

    ``monitor`` is ``"val_loss"`` or ``"train_loss"``; the loss is checked every
    ``window`` epochs, as the mean of those epochs (local SGD checks once per
    pass over the data, ``window`` rounds). With ``keep_best`` the weights of the
    best check are kept and :meth:`restore_best` puts them back.
    """

    def __init__(
        self,
        tol: float,
        patience: int,
        *,
        monitor: str = "train_loss",
        window: int = 1,
        keep_best: bool = False,
    ) -> None:
        self.tol, self.patience, self.monitor = tol, patience, monitor
        self.window, self.keep_best = window, keep_best
        self.best, self.stale = np.inf, 0
        self.best_params: Params | None = None

    def should_stop(self, history: History, model: Model) -> bool:
        """Track the monitored loss after an epoch; True once it stopped improving."""
        if history.epoch[-1] % self.window:
            return False
        current = float(np.mean(getattr(history, self.monitor)[-self.window :]))
        if current < self.best - self.tol:
            self.stale = 0
            history.best_epoch = history.epoch[-1]
            if self.keep_best:
                self.best_params = {k: p.copy() for k, p in model.params.items()}
        else:
            self.stale += 1
        self.best = min(self.best, current)
        return self.stale >= self.patience

    def restore_best(self, model: Model) -> None:
        """Put the best check's weights back into ``model`` (with ``keep_best``; else nothing)."""
        if self.best_params is not None:
            for k, p in self.best_params.items():
                model.params[k][...] = p
