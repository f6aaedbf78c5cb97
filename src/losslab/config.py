"""Run-time switches. ``fast``: use the numba kernels of the ``fast`` extra for the hot losses
and fit's inner loop (batch gathering, Adam, accuracy).

By default (``None``) the fast path is used when numba is installed and the work
is large enough to pay for loading numba (see ``losslab.fast.LOAD_AFTER_ELEMENTS``:
a student's calls on small arrays never load it). The
environment variable ``LOSSLAB_FAST=0`` or ``=1`` forces either path at start-up;
``set_fast(False)`` / ``set_fast(True)`` or the ``fast(...)`` context manager do so
at run time. The NumPy path is the reference: the tests run every loss on both.
The kernels themselves, and which code each stands in for, are in :mod:`losslab.fast`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager

_fast_setting = {"0": False, "1": True}.get(os.environ.get("LOSSLAB_FAST", ""), None)


@functools.cache  # asked on every training step; numba does not come and go
def fast_available() -> bool:
    """Whether numba is installed; finding it does not import it (that costs ~0.5 s and 100 MB)."""
    return importlib.util.find_spec("numba") is not None


def set_fast(value: bool | None) -> None:
    """True: always the numba kernels (error if numba is missing); False: NumPy; None: automatic."""
    global _fast_setting
    if value and not fast_available():
        raise ValueError(
            "fast: the numba kernels need the fast extra (pip install 'losslab[fast]')"
        )
    _fast_setting = value


@contextmanager
def fast(value: bool | None) -> Iterator[None]:
    previous = _fast_setting
    set_fast(value)
    try:
        yield
    finally:
        set_fast(previous)


def fast_on() -> bool:
    """Whether the numba kernels may be used now (asked by :mod:`losslab.fast` on every call)."""
    return _fast_setting is True or (_fast_setting is None and fast_available())


def fast_forced() -> bool:
    """Whether the kernels are used for every call, however small (``set_fast(True)``)."""
    return _fast_setting is True
