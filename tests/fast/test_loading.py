"""numba is loaded only when the work is large enough to pay for it (fast.LOAD_AFTER_ELEMENTS)."""

import os
import subprocess
import sys

import pytest

from losslab import config, fast

needs_numba = pytest.mark.skipif(
    not config.fast_available(), reason="the fast extra (numba) is not installed"
)
SMALL_CALLS = """
import sys
import numpy as np
from losslab import losses
from losslab.estimators import SoftmaxClassifier
s = np.random.default_rng(0).normal(size=(3, 3))
y = np.array([0, 1, 2])
losses.softmax_cross_entropy(s, y)
losses.multiclass_hinge(s, y)
losses.sigmoid_binary_cross_entropy(s, (s > 0).astype(float))
SoftmaxClassifier(max_iter=3, tol=None).fit(np.vstack([s] * 10), np.tile(y, 10))
"""


def run(code, **env):
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_finding_numba_does_not_import_it():
    code = "import sys; from losslab import config; config.fast_available(); print('numba' in sys.modules)"
    assert run(code) == "False"


@needs_numba
def test_small_calls_and_a_small_fit_never_load_numba():
    assert run(SMALL_CALLS + "print('numba' in sys.modules)", LOSSLAB_FAST="") == "False"


@needs_numba
def test_losslab_fast_1_loads_the_kernels_at_the_first_call():
    assert run(SMALL_CALLS + "print('numba' in sys.modules)", LOSSLAB_FAST="1") == "True"


@needs_numba
def test_the_kernels_are_loaded_once_enough_elements_were_walked():
    code = """
import numpy as np
from losslab import fast, losses
fast.LOAD_AFTER_ELEMENTS = 1000
s, y = np.zeros((40, 10)), np.zeros(40, dtype=int)
losses.softmax_cross_entropy(s, y)  # 400 elements walked
print(fast.loaded())
losses.softmax_cross_entropy(s, y)  # 800
print(fast.loaded())
losses.softmax_cross_entropy(s, y)  # 1200: this call loads them
print(fast.loaded())
"""
    assert run(code, LOSSLAB_FAST="").split() == ["False", "False", "True"]


def test_forced_calls_use_the_kernels_and_off_never_does():
    with config.fast(False):
        assert fast.kernel("softmax_cross_entropy", 10**12) is None
    if config.fast_available():
        with config.fast(True):
            assert fast.worth_loading(0)
            assert fast.kernel("softmax_cross_entropy") is not None
