"""How many threads the BLAS libraries run on, asked and set through threadpoolctl.

NumPy and SciPy each load their own OpenBLAS, each with its own pool of
threads that spin for a while after a call. A solver that alternates NumPy's
products with SciPy's factorisations on a two-core machine keeps both pools
spinning against the Python thread: the hinge solver's fit on digits took
2.0 s on two threads against 0.54 s on one (2 cores AMD EPYC, Zen 4,
2026-11-30; `python bench/estimators.py --svm-only --threads 0`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

_BLAS: list[Any] = []  # threadpoolctl's controller of the BLAS libraries, made on first use (~3 ms)


def _controller():
    if not _BLAS:
        import scipy.linalg  # noqa: F401  (loads SciPy's own BLAS, so that the controller sees it)
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController().select(user_api="blas"))
    return _BLAS[0]


def blas_on_one_openblas_thread() -> bool:
    """Whether every BLAS library loaded is OpenBLAS running on one thread.

    Returns
    -------
    bool

    Examples
    --------
    >>> with one_blas_thread():
    ...     blas_on_one_openblas_thread() in (True, False)  # False under MKL or BLIS
    True
    """
    libraries = _controller().lib_controllers
    return bool(libraries) and all(
        lib.internal_api == "openblas" and lib.num_threads == 1 for lib in libraries
    )


def one_blas_thread(when: bool = True) -> AbstractContextManager[Any]:
    """A context in which every BLAS library runs on one thread (``when`` is False: no change).

    Costs about 20 µs to enter and leave.

    Parameters
    ----------
    when : bool, default True
        Whether to limit the threads at all.

    Returns
    -------
    context manager

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    return _controller().limit(limits=1) if when else nullcontext()
