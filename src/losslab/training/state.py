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
    every list, and :meth:`plot` draws them. The per-epoch lists all have one entry
    per epoch; an epoch that did not measure a column (no validation set, a loss
    without accuracy) records None there.

    Attributes
    ----------
    step_loss : list of float
        The total loss (data loss + penalty) of each mini-batch, in step order.
    epoch : list of int
        The epoch numbers, 1, 2, ... (continuing the count after a resume).
    train_loss : list of float
        The mean mini-batch loss over each epoch.
    train_accuracy, val_loss, val_accuracy : list of float or None
        Per epoch; None where not measured (accuracy only for classification,
        the validation columns only with a validation set).
    lr : list of float or None
        The learning rate of each epoch's last step; None where the loop did not
        report it.
    seconds : list of float or None
        Wall-clock seconds of each epoch; None where not timed.
    converged : bool
        True when training stopped because the monitored loss stopped improving by
        ``tol`` (see :class:`~losslab.training.stopping.EarlyStopping`).
    stopped_by_callback : bool
        True when a callback asked to stop.
    best_epoch : int
        The epoch of the best monitored loss (0 when not tracked).
    state : TrainState or None
        What continues the run (``losslab.fit(..., state=history.state)``); not
        compared nor shown.

    Examples
    --------
    >>> import numpy as np, losslab
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = losslab.models.Linear(3, 2, random_state=0)
    >>> history = losslab.fit(model, "softmax", X, y, lr=0.1, batch_size=10, epochs=3,
    ...                       random_state=0)
    >>> history.n_epochs, len(history.step_loss), history.lr
    (3, 12, [0.1, 0.1, 0.1])
    >>> history.train_loss[-1] < history.train_loss[0], history.val_loss
    (True, [None, None, None])
    >>> print(history)  # doctest: +ELLIPSIS
    History(3 epochs, 12 steps, ran every epoch)
      train_loss     first ...  last ...  best ... (epoch 3)
      train_accuracy first ...  last ...  best ... (epoch ...)
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
        """The number of epochs recorded, ``len(self.epoch)``."""
        return len(self.epoch)

    def as_dict(self) -> dict[str, Any]:
        """Every field but ``state`` (the lists in full), for JSON.

        Returns
        -------
        dict of str to list, bool or int
            The fields by name, in their declared order.

        Examples
        --------
        >>> History(step_loss=[0.7, 0.5], epoch=[1], train_loss=[0.6]).as_dict()["train_loss"]
        [0.6]
        >>> "state" in History().as_dict()
        False
        """
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

        Examples
        --------
        >>> history = History(step_loss=[0.9, 0.7, 0.6, 0.5], epoch=[1, 2],
        ...                   train_loss=[0.8, 0.55], train_accuracy=[None, None])
        >>> fig = history.plot()
        >>> len(fig.axes)  # a plain Figure: nothing to close, no backend chosen
        1
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
    """Everything needed to continue training exactly where it stopped.

    ``losslab.fit`` leaves one in ``History.state``; passing it back as
    ``state=`` continues with the same optimizer moments and shuffling stream
    (``epochs`` then counts from the start of the first run), so a run of 2
    epochs continued to 4 gives the weights of one run of 4, bit for bit.
    Checkpoints (:func:`~losslab.training.files.save_checkpoint`) store it.

    Attributes
    ----------
    optimizer : optimizer object
        The optimizer (``optim.SGD()``, ``optim.Adam()``, ...), with its settings.
    opt_state : dict
        The optimizer's state (``optimizer.init(params)``): for each kind of state
        a dict of arrays keyed by parameter name (Adam's ``"m"`` and ``"v"``), and
        scalars (Adam's step count ``"t"``).
    shuffle_rng : numpy.random.Generator
        The generator that draws each epoch's order of the rows.
    epoch : int, default 0
        Epochs completed.
    step : int, default 0
        Mini-batch steps completed.

    Examples
    --------
    >>> import numpy as np, losslab
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 2)), np.arange(20) % 2
    >>> def trained(epochs_reached):
    ...     model, state = losslab.models.Linear(2, 2, random_state=0), None
    ...     for epochs in epochs_reached:
    ...         history = losslab.fit(model, "softmax", X, y, optimizer="adam", epochs=epochs,
    ...                               batch_size=5, random_state=0, state=state)
    ...         state = history.state
    ...     return model.params["W"], state
    >>> W_once, state = trained([4])
    >>> W_twice, _ = trained([2, 4])
    >>> state.epoch, state.step, bool(np.array_equal(W_once, W_twice))
    (4, 16, True)
    """

    optimizer: Any
    opt_state: dict[str, Any]
    shuffle_rng: np.random.Generator
    epoch: int = 0
    step: int = 0
