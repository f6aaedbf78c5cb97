"""Shared pytest set-up: doctests see ``np`` like a reader of the docstrings would."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_numpy(doctest_namespace):
    doctest_namespace["np"] = np
