"""Every loss test runs twice: on the NumPy reference path and on the fused numba path (when installed)."""

import pytest

from losslab import config

PATHS = ["numpy", "fast"] if config.fast_available() else ["numpy"]


@pytest.fixture(autouse=True, params=PATHS)
def loss_path(request):
    with config.fast(request.param == "fast"):
        yield request.param
