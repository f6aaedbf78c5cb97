"""The start-up tax of the fast extra: a fresh interpreter's first small calls, and the threshold.

Run:  python bench/startup.py [--repeats 7]

Part 1 runs ``import losslab`` and two 3 × 3 losses in fresh interpreters, alternating the
automatic mode (the default) with ``LOSSLAB_FAST=0`` and ``LOSSLAB_FAST=1`` (kernels from the
first call), and reports medians of wall time and peak RSS and the differences to
``LOSSLAB_FAST=0``. Part 2 measures what ``losslab.fast.LOAD_AFTER_ELEMENTS`` is derived from:
the cost L of loading numba and the cached kernels (a forced first call in a fresh process
minus a NumPy one) and the saving s per element of the fused cross-entropy over the NumPy
path on (262144, 100) float32; a single input of L / s elements pays for the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np

from _common import machine, median_time, today
from losslab import config, fast, losses

FIRST_CALLS = """
import json, resource, sys, time
start = time.perf_counter()
import numpy as np
import losslab
from losslab import losses
s = np.random.default_rng(0).normal(size=(3, 3))
y = np.array([0, 1, 2])
losses.softmax_cross_entropy(s, y)
losses.multiclass_hinge(s, y)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "mb": rss, "numba": "numba" in sys.modules}))
"""
MODES = {"LOSSLAB_FAST=0": "0", "automatic (default)": "", "LOSSLAB_FAST=1": "1"}


def fresh(setting):
    env = {**os.environ, "LOSSLAB_FAST": setting}
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALLS], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def first_calls(repeats):
    runs = {mode: [] for mode in MODES}
    for _ in range(repeats):  # alternating, so a slow spell hits every mode
        for mode, setting in MODES.items():
            runs[mode].append(fresh(setting))
    base = runs["LOSSLAB_FAST=0"]
    base_s = statistics.median(r["seconds"] for r in base)
    base_mb = statistics.median(r["mb"] for r in base)
    print(f"\n## import losslab + two 3 × 3 losses, fresh interpreter (median of {repeats})")
    print("| mode | seconds | peak RSS MB | − LOSSLAB_FAST=0 s | − MB | numba imported |")
    print("|---|---|---|---|---|---|")
    for mode, rows in runs.items():
        s = statistics.median(r["seconds"] for r in rows)
        mb = statistics.median(r["mb"] for r in rows)
        print(
            f"| {mode} | {s:.3f} | {mb:.0f} | {s - base_s:+.3f} | {mb - base_mb:+.0f} "
            f"| {all(r['numba'] for r in rows)} |"
        )


LOAD_COST = """
import time
import numpy as np
from losslab import config, losses
s = np.random.default_rng(0).normal(size=(3, 3)); y = np.array([0, 1, 2])
with config.fast(False):
    losses.softmax_cross_entropy(s, y)  # NumPy's own first call, not counted
start = time.perf_counter()
with config.fast({forced}):
    losses.softmax_cross_entropy(s, y)
print(time.perf_counter() - start)
"""


def load_cost(repeats):
    """Median seconds of a forced first call minus a NumPy first call, in fresh processes."""
    differences = []
    for _ in range(repeats):
        times = {}
        for forced in (True, False):
            code = LOAD_COST.format(forced=forced)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            times[forced] = float(out.stdout)
        differences.append(times[True] - times[False])
    return statistics.median(differences)


def saving_per_element(repeats, shape=(262144, 100)):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    y = rng.integers(0, shape[1], shape[0])
    timings = {}
    for on in (False, True):
        with config.fast(on):
            timings[on] = median_time(lambda: losses.softmax_cross_entropy(x, y), repeats)
    return (timings[False] - timings[True]) / x.size, timings


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    print(f"# start-up tax; {machine()}; {today()}")
    first_calls(args.repeats)
    if not config.fast_available():
        print("\nnumba is not installed: no threshold to measure")
        return
    cost = load_cost(args.repeats)
    saving, timings = saving_per_element(args.repeats)
    print("\n## The threshold (losslab.fast.LOAD_AFTER_ELEMENTS)")
    print(f"load cost L (forced first call − NumPy first call): {cost:.3f} s")
    print(
        f"cross-entropy (262144, 100) float32: NumPy {timings[False] * 1e3:.1f} ms, "
        f"fused {timings[True] * 1e3:.1f} ms; saving s = {saving * 1e9:.2f} ns per element"
    )
    print(
        f"L / s = {cost / saving:.3g} elements; "
        f"LOAD_AFTER_ELEMENTS = {fast.LOAD_AFTER_ELEMENTS:.3g}"
    )


if __name__ == "__main__":
    main()
