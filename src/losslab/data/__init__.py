"""Data: bundled and generated data sets, and the readers of each file format.

One module per format in :mod:`losslab.data.formats` reads a file whole (for
:func:`load`) or in chunks (for streaming, :mod:`losslab.data.sources`) by
the same rules. Also reachable as ``losslab.datasets`` (its name in the first releases).
"""

from .datasets import (
    BUNDLED,
    GENERATED,
    TRAJECTORY_TRUTH,
    Dataset,
    available,
    generate,
    load,
    load_cifar10,
    read_csv,
    read_npz,
    read_xy,
    spiral,
    stream,
    trajectory,
)

__all__ = [
    "BUNDLED",
    "GENERATED",
    "TRAJECTORY_TRUTH",
    "Dataset",
    "available",
    "generate",
    "load",
    "load_cifar10",
    "read_csv",
    "read_npz",
    "read_xy",
    "spiral",
    "stream",
    "trajectory",
]
