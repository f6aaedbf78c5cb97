"""Shared pytest set-up: doctests see ``np`` like a reader of the docstrings would.

Under pytest-xdist every worker uses one BLAS thread: the workers already fill the
cores, and OpenBLAS's spinning threads on an oversubscribed machine made some
full-batch fits 8-25x slower.
"""

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

if os.environ.get("PYTEST_XDIST_WORKER"):
    threadpool_limits(1, user_api="blas")


@pytest.fixture(autouse=True)
def _doctest_numpy(doctest_namespace):
    doctest_namespace["np"] = np
