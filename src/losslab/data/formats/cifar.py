"""CIFAR-10's python batches, as a user already has them on disk (nothing is downloaded)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .base import StrPath

IMAGE_SHAPE = (3, 32, 32)  # a row is three 32x32 channel planes


class _CifarUnpickler(pickle.Unpickler):
    """Reads CIFAR-10's python batches, refusing every global but numpy array rebuilding."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def load_cifar10(directory: StrPath) -> tuple[np.ndarray, np.ndarray]:
    """The CIFAR-10 python version (data_batch_1..5 and test_batch) from ``directory``.

    Returns all 60,000 images as (N, 3072) floats in [0, 255] and their labels;
    ``load`` then makes its own split. Only numpy arrays are unpickled. Nothing
    is downloaded: the batches must already be on disk.

    Parameters
    ----------
    directory : str or PathLike
        Holding ``data_batch_1`` to ``data_batch_5`` and ``test_batch``.

    Returns
    -------
    X : ndarray of shape (60000, 3072), float64
        Each row an image, channel-major (1024 red, 1024 green, 1024 blue).
    y : int ndarray of shape (60000,)
        The class of each, 0 to 9.

    Raises
    ------
    ValueError
        If a batch is missing or is not a CIFAR-10 python batch.

    Examples
    --------
    Six tiny batches of the same layout (two images each):

    >>> import os, pickle, tempfile
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]:
    ...         batch = {b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [0, 1]}
    ...         with open(os.path.join(tmp, name), "wb") as f:
    ...             pickle.dump(batch, f)
    ...     X, y = load_cifar10(tmp)
    >>> X.shape, X.dtype.name, y[:4].tolist()
    ((12, 3072), 'float64', [0, 1, 0, 1])

    References
    ----------
    Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", technical
    report, University of Toronto (2009); https://www.cs.toronto.edu/~kriz/cifar.html
    """
    d = Path(directory)
    files = [*sorted(d.glob("data_batch_*")), d / "test_batch"]
    if not d.is_dir() or not files[:-1] or not files[-1].is_file():
        raise ValueError(f"cifar10: expected data_batch_1..5 and test_batch in {d}")
    X, y = [], []
    for f in files:
        try:
            with open(f, "rb") as fh:
                batch = _CifarUnpickler(fh, encoding="bytes").load()
            X.append(np.asarray(batch[b"data"], dtype=np.float64))
            y.append(np.asarray(batch[b"labels"]))
        except (OSError, pickle.UnpicklingError, KeyError, EOFError, TypeError) as exc:
            raise ValueError(f"{f}: not a CIFAR-10 python batch ({exc})") from None
    return np.concatenate(X), np.concatenate(y)
