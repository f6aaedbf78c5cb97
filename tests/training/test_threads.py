"""The BLAS thread limit, checked against threadpoolctl's own view of the loaded libraries."""

import numpy as np
import scipy.linalg  # noqa: F401  (loads SciPy's BLAS too, as the controller does)
from threadpoolctl import threadpool_info, threadpool_limits

from losslab.training.threads import blas_on_one_openblas_thread, one_blas_thread


def _blas():
    """(library path, internal API, threads) of every BLAS library loaded, as threadpoolctl sees it."""
    return [
        (lib["filepath"], lib["internal_api"], lib["num_threads"])
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    ]


def test_every_blas_library_runs_on_one_thread_inside_and_on_its_own_count_after():
    # two threads first, so that "back to the previous count" differs from one thread
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas()
        assert before, "no BLAS library loaded"
        with one_blas_thread():
            inside = _blas()
            assert np.ones((3, 3)) @ np.ones(3) @ np.ones(3) == 9.0  # BLAS works while limited
        after = _blas()
    assert [threads for _, _, threads in inside] == [1] * len(before)
    assert after == before


def test_one_blas_thread_false_changes_nothing():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas()
        with one_blas_thread(False):
            assert _blas() == before
        assert _blas() == before


def test_one_openblas_thread_is_reported_exactly_when_every_blas_library_is_openblas():
    with one_blas_thread():
        all_openblas = all(api == "openblas" for _, api, _ in _blas())
        assert blas_on_one_openblas_thread() == all_openblas


def test_more_than_one_thread_is_not_reported_as_one():
    with threadpool_limits(limits=2, user_api="blas"):
        libraries = _blas()
        on_one_openblas = all(api == "openblas" and threads == 1 for _, api, threads in libraries)
        assert blas_on_one_openblas_thread() == on_one_openblas
