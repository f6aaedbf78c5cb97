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
    """Whether numba is installed; finding it does not import it (that costs ~0.5 s and 100 MB).

    Returns
    -------
    bool
        True when the ``fast`` extra's numba can be imported. The answer is cached:
        numba does not come and go while the process runs.

    See Also
    --------
    fast_on : whether the kernels may be used now (this, and the setting).

    Examples
    --------
    >>> fast_available()  # the dev and fast extras install numba
    True
    """
    return importlib.util.find_spec("numba") is not None


def set_fast(value: bool | None) -> None:
    """Choose the numba kernels or the NumPy path for the rest of the run.

    Parameters
    ----------
    value : bool or None
        True: always the numba kernels, however small the call; False: always NumPy
        (the reference); None: automatic, the kernels once numba is installed and the
        work is large enough (``losslab.fast.LOAD_AFTER_ELEMENTS``).

    Raises
    ------
    ValueError
        If ``value`` is true and numba is not installed.

    See Also
    --------
    fast : the same as a context manager, which restores the previous setting.

    Examples
    --------
    >>> with fast(None):  # restores the setting on exit
    ...     set_fast(False)
    ...     fast_on()
    False
    """
    global _fast_setting
    if value and not fast_available():
        raise ValueError(
            "fast: the numba kernels need the fast extra (pip install 'losslab[fast]')"
        )
    _fast_setting = value


@contextmanager
def fast(value: bool | None) -> Iterator[None]:
    """Use the numba kernels (True), NumPy (False) or the automatic choice (None) in a block.

    Parameters
    ----------
    value : bool or None
        As for :func:`set_fast`; the previous setting comes back when the block exits,
        also on an exception.

    Yields
    ------
    None

    Raises
    ------
    ValueError
        If ``value`` is true and numba is not installed.

    Examples
    --------
    >>> with fast(False):
    ...     fast_on()
    False
    >>> with fast(True):
    ...     fast_forced()
    True
    """
    previous = _fast_setting
    set_fast(value)
    try:
        yield
    finally:
        set_fast(previous)


def fast_on() -> bool:
    """Whether the numba kernels may be used now (asked by :mod:`losslab.fast` on every call).

    Returns
    -------
    bool
        True when the kernels are forced, or automatic and numba is installed (each
        kernel then still checks that the work is large enough); False when NumPy is
        forced or numba is missing.

    Examples
    --------
    >>> with fast(False):
    ...     fast_on()
    False
    >>> with fast(None):
    ...     fast_on() == fast_available()
    True
    """
    return _fast_setting is True or (_fast_setting is None and fast_available())


def fast_forced() -> bool:
    """Whether the kernels are used for every call, however small (``set_fast(True)``).

    Returns
    -------
    bool
        True only when the kernels were forced; in automatic mode small calls stay on
        NumPy, so that a student's small arrays never load numba.

    Examples
    --------
    >>> with fast(None):
    ...     fast_forced()
    False
    >>> with fast(True):
    ...     fast_forced()
    True
    """
    return _fast_setting is True
