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

    A check improves when its loss is below ``best - tol``, where ``best`` is the
    lowest loss checked so far; ``patience`` checks in a row without improving stop
    training. This is the rule of scikit-learn's ``SGDClassifier`` (``tol``,
    ``n_iter_no_change``) and ``MLPClassifier``.

    Parameters
    ----------
    tol : float
        The improvement that counts, in loss units.
    patience : int
        Checks without improvement before stopping.
    monitor : {"train_loss", "val_loss"}, default "train_loss"
        The :class:`~losslab.training.state.History` field to follow.
    window : int, default 1
        Check every ``window`` epochs, on the mean of the last ``window`` values.
    keep_best : bool, default False
        Keep a copy of the weights at each improving check, for :meth:`restore_best`.

    Attributes
    ----------
    best : float
        The lowest monitored loss checked so far (``inf`` before the first check).
    stale : int
        Checks in a row without improvement.
    best_params : dict of str to ndarray or None
        The weights of the best check (with ``keep_best``).

    Examples
    --------
    >>> from losslab.training.state import History
    >>> stopping = EarlyStopping(tol=0.01, patience=2)
    >>> history = History()
    >>> model = None  # only read with keep_best
    >>> for epoch, loss in enumerate([1.0, 0.5, 0.495, 0.49, 0.2], start=1):
    ...     history.epoch.append(epoch)
    ...     history.train_loss.append(loss)
    ...     if stopping.should_stop(history, model):
    ...         break
    >>> epoch, history.best_epoch, stopping.best
    (4, 2, 0.49)

    References
    ----------
    scikit-learn, ``sklearn.linear_model.SGDClassifier`` (``tol``, ``n_iter_no_change``);
    Prechelt, "Early Stopping - But When?", *Neural Networks: Tricks of the Trade* (1998).
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
        """Track the monitored loss after an epoch; True once it stopped improving.

        Parameters
        ----------
        history : History
            The run so far; its last epoch is the one just finished. An improving
            check sets ``history.best_epoch``.
        model : Model
            Its weights are copied at an improving check when ``keep_best``.

        Returns
        -------
        bool
            True once ``patience`` checks in a row did not improve by ``tol``.
        """
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
        """Put the best check's weights back into ``model`` (with ``keep_best``; else nothing).

        Parameters
        ----------
        model : Model
            Its parameters are overwritten in place.
        """
        if self.best_params is not None:
            for k, p in self.best_params.items():
                model.params[k][...] = p
