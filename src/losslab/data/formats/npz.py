"""``.npz``: arrays named X and y, read whole and without pickle.

The labels are their own array, so there is no label column to choose:
``target`` is refused rather than ignored.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ...training.files import check_declared_sizes
from .base import StrPath, Target


def read_npz(path: StrPath) -> tuple[np.ndarray, np.ndarray]:
    """(X float64, y) from a ``.npz`` archive holding numeric arrays X and y.

    Read with ``allow_pickle=False``: an archive holding objects, or one whose
    declared sizes do not match, is a ValueError, never code execution.

    Parameters
    ----------
    path : str or PathLike
        The archive.

    Returns
    -------
    X : ndarray of shape (n, D), float64
        The array X.
    y : ndarray of shape (n,)
        The array y, as stored.

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "xy.npz")
    >>> np.savez(path, X=np.ones((3, 2)), y=np.array([0, 1, 0]))
    >>> X, y = read_npz(path)
    >>> X.shape, y.tolist()
    ((3, 2), [0, 1, 0])
    >>> tmp.cleanup()

    References
    ----------
    ``numpy.savez``: https://numpy.org/doc/stable/reference/generated/numpy.savez.html
    """
    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a .npz archive")
    try:
        check_declared_sizes(path)
        with np.load(path, allow_pickle=False) as data:
            if "X" not in data.files or "y" not in data.files:
                raise ValueError(f"{path}: expected arrays named X and y, found {data.files}")
            X, y = data["X"], data["y"]
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: cannot read as .npz ({exc})") from None
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(
                f"{path}: holds pickled objects; only numeric arrays are read"
            ) from None
        raise
    for name, array in (("X", X), ("y", y)):
        if array.dtype.kind == "c":
            raise ValueError(f"{path}: {name} holds complex numbers; expected real ones")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: X has dtype {X.dtype}; expected numbers")
    return X.astype(np.float64), y


def read(path: StrPath, target: Target = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X float64, y, feature_names) of a whole ``.npz`` file.

    The arrays X and y are the data (``target`` cannot choose another).

    Parameters
    ----------
    path : str or PathLike
        A ``.npz`` file with arrays X and y.
    target : None
        Must be None: the labels are the array y.

    Returns
    -------
    X : ndarray of shape (n, D), float64
        The features.
    y : ndarray of shape (n,)
        The labels.
    feature_names : list of str
        x0, x1, ...

    Raises
    ------
    ValueError
        If ``target`` is given, or the file's arrays are not usable data.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.npz")
    ...     np.savez(path, X=np.array([[1, 2], [3, 4]]), y=np.array([0, 1]))
    ...     X, y, names = read(path)
    >>> X.dtype.name, y.tolist(), names
    ('float64', [0, 1], ['x0', 'x1'])

    References
    ----------
    ``numpy.savez``: https://numpy.org/doc/stable/reference/generated/numpy.savez.html
    """
    if target is not None:
        raise ValueError(
            f"target: {path} holds the labels as their own array y; there is no column to choose"
        )
    X, y = read_npz(path)
    return X, y, [f"x{i}" for i in range(X.shape[1] if X.ndim == 2 else 0)]
