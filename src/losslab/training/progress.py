"""The progress bar over epochs: rich's in a terminal or a notebook, one rewritten line otherwise.

rich draws its bar in Jupyter through ipywidgets; a notebook without them (rich would
only warn and show nothing until the end) gets a plain line that each epoch rewrites
with a carriage return, which notebooks render in place as terminals do.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from typing import Any, TextIO

Update = Callable[[dict[str, Any]], None]


class progress_bar:
    """A progress bar over epochs showing loss and validation accuracy, or nothing.

    ``with progress_bar(True, 10, 0) as update:`` gives ``update(logs)``, called once an
    epoch with the epoch's logs (``train_loss``, ``val_accuracy`` or None).
    In a terminal, or a notebook with ipywidgets, it is rich's bar; in a notebook
    without ipywidgets, a plain line rewritten with a carriage return.

    Parameters
    ----------
    enabled : bool
        False: the context gives an update that does nothing.
    epochs : int
        The epoch the run ends at.
    done : int
        Epochs already done (a resumed run starts there).

    Examples
    --------
    >>> with progress_bar(False, 3, 0) as update:  # fit(progress=False): nothing is shown
    ...     for loss in (0.9, 0.6, 0.5):
    ...         update({"train_loss": loss})
    """

    def __init__(self, enabled: bool, epochs: int, done: int) -> None:
        self.enabled, self.epochs, self.done = enabled, epochs, done
        self.progress: Any = None
        self.line: TextIO | None = None

    def __enter__(self) -> Update:
        if not self.enabled:
            return lambda logs: None
        if in_notebook() and importlib.util.find_spec("ipywidgets") is None:
            return self._plain_line(sys.stdout)
        return self._rich_bar()

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)
        if self.line is not None:
            self.line.write("\n")
            self.line.flush()

    def _rich_bar(self) -> Update:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
            transient=False,
        )
        self.progress.__enter__()
        task = self.progress.add_task("train", total=self.epochs, completed=self.done, status="")

        def update(logs: dict[str, Any]) -> None:
            self.progress.update(task, advance=1, status=status(logs))

        return update

    def _plain_line(self, stream: TextIO) -> Update:
        self.line = stream
        count = [self.done]

        def update(logs: dict[str, Any]) -> None:
            count[0] += 1
            stream.write(f"\rtraining {count[0]}/{self.epochs}  {status(logs)}")
            stream.flush()

        return update


def status(logs: dict[str, Any]) -> str:
    """'loss 0.4127  val acc 0.912': what the bar shows after an epoch.

    Parameters
    ----------
    logs : dict
        An epoch's logs: ``train_loss`` (float) and, optionally, ``val_accuracy``.

    Returns
    -------
    str
        The loss to 4 decimals, and the validation accuracy to 3 when there is one.

    Examples
    --------
    >>> status({"train_loss": 0.41268, "val_accuracy": 0.9123})
    'loss 0.4127  val acc 0.912'
    >>> status({"train_loss": 2.0, "val_accuracy": None})
    'loss 2.0000'
    """
    text = f"loss {logs['train_loss']:.4f}"
    if logs.get("val_accuracy") is not None:
        text += f"  val acc {logs['val_accuracy']:.3f}"
    return text


def in_notebook() -> bool:
    """True inside a Jupyter kernel (rich's test: IPython's shell is a ZMQInteractiveShell).

    Returns
    -------
    bool
        False in a terminal, a script, or a test run.

    Examples
    --------
    >>> in_notebook()
    False
    """
    from rich.console import Console

    return Console().is_jupyter
