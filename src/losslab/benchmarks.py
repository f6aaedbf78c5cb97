"""Benchmarks of the hot loss kernels, shared by ``losslab bench`` and ``bench/losses.py``.

Times forward + backward of each loss on a float32 (rows, classes) matrix on the
NumPy reference path and the fused numba path, against the memory-copy floor
(``np.copyto`` of the same matrix) and, when PyTorch is installed, against
torch's forward + autograd backward with the same thread count. Also the
per-call time on a (256, 10) training-step batch, where Python overhead rules.
"""

from __future__ import annotations

import os
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

from . import config, losses


def median_time(
    fn: Callable[[], object], repeats: int = 5, warmup: int = 1, settle: float = 0.2
) -> float:
    """Median wall time of ``fn`` after ``warmup`` calls.

    It first sleeps ``settle`` seconds: the previous contender's thread pool
    (PyTorch's OpenMP threads spin after a parallel region) must go idle, or
    it steals a core from whatever runs next.
    """
    time.sleep(settle)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_call(fn: Callable[[], object], number: int = 2000) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def _cases(x, y, torch=None):
    """(name, losslab call, torch call or None) with the same inputs."""
    c = x.shape[1]
    y_float = (y[:, None] == np.arange(c)).astype(x.dtype)
    ours = [
        ("softmax_cross_entropy", lambda: losses.softmax_cross_entropy(x, y)),
        ("multiclass_hinge (WW)", lambda: losses.multiclass_hinge(x, y)),
        ("softmax_focal (γ=2)", lambda: losses.softmax_focal(x, y, gamma=2.0)),
        ("sigmoid_binary_cross_entropy", lambda: losses.sigmoid_binary_cross_entropy(x, y_float)),
    ]
    if torch is None:
        return [(name, fn, None) for name, fn in ours]
    F = torch.nn.functional
    y_t, y_float_t = torch.from_numpy(y), torch.from_numpy(y_float)

    def focal(t):
        logp = F.log_softmax(t, 1).gather(1, y_t[:, None])
        return (-((1 - logp.exp()) ** 2) * logp).mean()

    theirs = [
        lambda t: F.cross_entropy(t, y_t),
        lambda t: c * F.multi_margin_loss(t, y_t),  # our WW hinge is C × multi_margin_loss
        focal,
        lambda t: F.binary_cross_entropy_with_logits(t, y_float_t),
    ]
    return [(name, fn, other) for (name, fn), other in zip(ours, theirs, strict=True)]


def _torch_call(torch, x, fn):
    t = torch.from_numpy(x).requires_grad_(True)

    def run():
        t.grad = None
        fn(t).backward()

    return run


def kernel_table(
    rows: int = 262144, classes: int = 100, repeats: int = 5, torch: Any = None
) -> tuple[list[dict[str, Any]], float]:
    """Rows of the large-matrix table and the copy floor in seconds."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, classes), dtype=np.float32)
    y = rng.integers(0, classes, rows)
    out = np.empty_like(x)
    floor = median_time(lambda: np.copyto(out, x), repeats)
    if torch is not None:
        torch.set_num_threads(os.cpu_count() or 1)
    return _timings(x, y, torch, lambda fn: median_time(fn, repeats)), floor


def small_batch_table(torch: Any = None, number: int = 2000) -> list[dict[str, Any]]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 10), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    if torch is not None:
        torch.set_num_threads(1)
    return _timings(x, y, torch, lambda fn: per_call(fn, number))


def _timings(x, y, torch, timer):
    """One row per loss: ``timer`` of the NumPy path, the fast path and torch (None if absent)."""
    table = []
    for name, ours, theirs in _cases(x, y, torch):
        row = {"loss": name, "numpy": None, "fast": None, "torch": None}
        with config.fast(False):
            row["numpy"] = timer(ours)
        if config.fast_available():
            with config.fast(True):
                row["fast"] = timer(ours)
        if torch is not None:
            row["torch"] = timer(_torch_call(torch, x, theirs))
        table.append(row)
    return table


def markdown(
    table: list[dict[str, Any]],
    floor: float | None = None,
    unit: float = 1e3,
    unit_name: str = "ms",
) -> str:
    """The table as markdown, with torch / best-losslab and losslab / floor ratios."""
    head = f"| loss | NumPy {unit_name} | fast {unit_name} | torch {unit_name} | torch / losslab |"
    if floor is not None:
        head += " losslab / floor |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    fmt = lambda v: "-" if v is None else f"{v * unit:.1f}"  # noqa: E731
    for row in table:
        best = min(v for v in (row["numpy"], row["fast"]) if v is not None)
        ratio = "-" if row["torch"] is None else f"{row['torch'] / best:.2f}"
        line = f"| {row['loss']} | {fmt(row['numpy'])} | {fmt(row['fast'])} | {fmt(row['torch'])} | {ratio} |"
        if floor is not None:
            line += f" {best / floor:.2f} |"
        lines.append(line)
    return "\n".join(lines)
