"""One module per file format; each owns its rules (header, label column, labels, dtype).

A format's whole-file read (used by :func:`losslab.data.load` and ``read_xy``)
is its chunked reader (used by streaming) read to the end, so a file gives the
same X and y either way. Every format with columns finds the label by one rule,
:func:`target_column`. Adding a format: a module here with a
:class:`Source` subclass and ``read(path, target)``, then an entry below.

========  =========================================  ==============
suffix    label column                               chunks
========  =========================================  ==============
.csv      header name or index (last by default)      chunk_rows lines
.npy      index (last by default)                     chunk_rows rows, memory-mapped
.parquet  column name or index (last by default)      row groups
.npz      its own array y                             (whole file only)
.svm      the first field of each line                chunk_rows lines, as CSR
========  =========================================  ==============

``.svm`` (also ``.svmlight`` and ``.libsvm``) is sparse: its chunks and its
whole-file read (:func:`read_svmlight`) are scipy.sparse CSR matrices, so it is
a streaming source but not one of :data:`READERS` (whose X is dense).
"""

from pathlib import Path

import numpy as np

from . import csv, npy, npz, parquet
from .base import WHOLE_FILE, Chunk, Source, StrPath, Target, target_column
from .cifar import load_cifar10
from .csv import CsvSource
from .npy import NpySource
from .npz import read_npz
from .parquet import ParquetSource
from .svmlight import SvmlightSource
from .svmlight import read as read_svmlight

SOURCES: dict[str, type[CsvSource | NpySource | ParquetSource | SvmlightSource]] = {
    ".csv": CsvSource,
    ".npy": NpySource,
    ".parquet": ParquetSource,
    ".svm": SvmlightSource,
    ".svmlight": SvmlightSource,
    ".libsvm": SvmlightSource,
}
READERS = {".csv": csv.read, ".npy": npy.read, ".parquet": parquet.read, ".npz": npz.read}

__all__ = [
    "READERS",
    "SOURCES",
    "WHOLE_FILE",
    "Chunk",
    "CsvSource",
    "NpySource",
    "ParquetSource",
    "Source",
    "SvmlightSource",
    "load_cifar10",
    "read",
    "read_npz",
    "read_svmlight",
    "target_column",
]


def read(path: StrPath, target: Target = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X float64, y, feature_names) of a whole ``.csv``, ``.npy``, ``.parquet`` or ``.npz`` file.

    The reader is chosen by the suffix; each applies its format's rules.

    Parameters
    ----------
    path : str or PathLike
        A ``.csv``, ``.npy``, ``.parquet`` or ``.npz`` file.
    target : str, int or None
        The label column (default: the last).

    Returns
    -------
    X : ndarray of shape (n, D), float64
        The features.
    y : ndarray of shape (n,)
        The labels, as the format's rules read them.
    feature_names : list of str
        The features' names.

    Raises
    ------
    ValueError
        For another suffix, or a file its format's rules reject.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "small.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("a,b,label\\n1,2,0\\n3,4,1\\n")
    ...     X, y, names = read(path)
    >>> X.tolist(), y.tolist(), names
    ([[1.0, 2.0], [3.0, 4.0]], [0, 1], ['a', 'b'])
    """
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise ValueError(f"data: expected a {', '.join(READERS)} file, got {path}")
    return READERS[suffix](path, target)
