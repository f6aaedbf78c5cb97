"""A rich progress bar over epochs, or nothing."""

from __future__ import annotations


class progress_bar:
    """A rich progress bar over epochs showing loss and validation accuracy, or nothing."""

    def __init__(self, enabled, epochs, done):
        self.enabled, self.epochs, self.done = enabled, epochs, done

    def __enter__(self):
        if not self.enabled:
            return lambda logs: None
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
        self.task = self.progress.add_task(
            "train", total=self.epochs, completed=self.done, status=""
        )

        def update(logs):
            status = f"loss {logs['train_loss']:.4f}"
            if logs.get("val_accuracy") is not None:
                status += f"  val acc {logs['val_accuracy']:.3f}"
            self.progress.update(self.task, advance=1, status=status)

        return update

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.__exit__(*exc)
        return False
