"""Run-time switches. ``fast``: use the numba kernels of the ``fast`` extra for the hot losses
and fit's inner loop (batch gathering, Adam, accuracy).

By default (``None``) the fast path is used when numba is installed. The
environment variable ``LOSSLAB_FAST=0`` or ``=1`` forces either path at start-up;
``set_fast(False)`` / ``set_fast(True)`` or the ``fast(...)`` context manager do so
at run time. The NumPy path is the reference: the tests run every loss on both.
The kernels themselves, and which code each stands in for, are in :mod:`losslab.fast`.
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager

_fast_setting = {"0": False, "1": True}.get(os.environ.get("LOSSLAB_FAST", ""), None)


@functools.cache  # asked on every training step; numba does not come and go
def fast_available():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def set_fast(value):
    """True: always the numba kernels (error if numba is missing); False: NumPy; None: automatic."""
    global _fast_setting
    if value and not fast_available():
        raise ValueError(
            "fast: the numba kernels need the fast extra (pip install 'losslab[fast]')"
        )
    _fast_setting = value


@contextmanager
def fast(value):
    previous = _fast_setting
    set_fast(value)
    try:
        yield
    finally:
        set_fast(previous)


def fast_on():
    """Whether the numba kernels are used now (asked by :mod:`losslab.fast` on every call)."""
    return _fast_setting is True or (_fast_setting is None and fast_available())
