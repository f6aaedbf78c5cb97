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
    it steals a core from whatever runs next. The median, not the mean, so one
    call slowed by another process does not move the result.

    Parameters
    ----------
    fn : callable
        Called with no arguments; what it returns is ignored.
    repeats : int, default 5
        The number of timed calls.
    warmup : int, default 1
        Untimed calls first (caches, numba's compilation, PyTorch's allocator).
    settle : float, default 0.2
        Seconds to sleep before the first call.

    Returns
    -------
    float
        The median of the ``repeats`` wall times, in seconds.

    See Also
    --------
    per_call : for calls of a few microseconds, where one call is too short to time.

    Examples
    --------
    >>> seconds = median_time(lambda: time.sleep(0.002), repeats=3, settle=0.0)
    >>> 0.002 <= seconds < 0.1
    True
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
    """Seconds per call of a fast ``fn``: the best of 5 runs of ``number`` calls each.

    For calls of microseconds (a training step's loss on a (256, 10) batch), where
    Python's overhead is what is measured. The minimum over the runs is the time
    with the least interference from other processes (see :mod:`timeit`).

    Parameters
    ----------
    fn : callable
        Called with no arguments, once untimed first.
    number : int, default 2000
        Calls per timed run.

    Returns
    -------
    float
        The fastest run's time divided by ``number``, in seconds.

    Examples
    --------
    >>> per_call(lambda: sum(range(10)), number=100) < 1e-3
    True
    """
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
    """Time each hot loss's forward + backward on a large float32 matrix.

    Four losses (softmax cross-entropy, the Weston-Watkins hinge, softmax focal with
    γ = 2, sigmoid binary cross-entropy) on a seeded (rows, classes) matrix, each on
    the NumPy path, the fused numba path (when numba is installed) and PyTorch's
    forward + autograd backward (when ``torch`` is given, with every core). Each time
    is a :func:`median_time`, so each costs at least its 0.2 s settling pause.

    Parameters
    ----------
    rows : int, default 262144
        N, the batch's rows.
    classes : int, default 100
        C, the scores per row.
    repeats : int, default 5
        Timed calls per entry; the median is kept.
    torch : module or None
        The ``torch`` module to compare with; None leaves that column empty.

    Returns
    -------
    table : list of dict
        One row per loss: ``{"loss": name, "numpy": s, "fast": s or None, "torch": s or
        None}``, times in seconds.
    floor : float
        The median time of ``np.copyto`` of the same matrix: no loss can pass over
        its input faster than that.

    See Also
    --------
    markdown : the table as text, with the ratios.

    Examples
    --------
    >>> table, floor = kernel_table(rows=64, classes=4, repeats=1)  # about 2 s: the pauses
    >>> [row["loss"] for row in table][:2], floor > 0
    (['softmax_cross_entropy', 'multiclass_hinge (WW)'], True)
    >>> all(row["numpy"] > 0 and row["torch"] is None for row in table)
    True
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, classes), dtype=np.float32)
    y = rng.integers(0, classes, rows)
    out = np.empty_like(x)
    floor = median_time(lambda: np.copyto(out, x), repeats)
    if torch is not None:
        torch.set_num_threads(os.cpu_count() or 1)
    return _timings(x, y, torch, lambda fn: median_time(fn, repeats)), floor


def small_batch_table(torch: Any = None, number: int = 2000) -> list[dict[str, Any]]:
    """Time the same four losses per call on a (256, 10) float32 training-step batch.

    At this size Python's overhead, not arithmetic, decides: this is what a training
    step pays per loss call. Each time is a :func:`per_call`; PyTorch, when given,
    runs on one thread.

    Parameters
    ----------
    torch : module or None
        The ``torch`` module to compare with; None leaves that column empty.
    number : int, default 2000
        Calls per timed run.

    Returns
    -------
    list of dict
        One row per loss, as :func:`kernel_table`'s, times in seconds per call.

    Examples
    --------
    >>> table = small_batch_table(number=5)
    >>> len(table), all(0 < row["numpy"] < 0.01 for row in table)
    (4, True)
    """
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
    """The table as markdown, with torch / best-losslab and losslab / floor ratios.

    Parameters
    ----------
    table : list of dict
        Rows as :func:`kernel_table` or :func:`small_batch_table` return them; a
        missing time (None) prints as ``-``.
    floor : float or None
        The copy floor in seconds; given, a last column divides the faster losslab
        path's time by it.
    unit : float, default 1e3
        Seconds are multiplied by this before printing (1e3: milliseconds).
    unit_name : str, default "ms"
        The unit in the column headers.

    Returns
    -------
    str
        A markdown table, one line per row after the header; ratios above 1 in
        "torch / losslab" mean losslab is faster.

    Examples
    --------
    >>> row = {"loss": "softmax_cross_entropy", "numpy": 0.004, "fast": 0.002, "torch": 0.003}
    >>> print(markdown([row], floor=0.001))
    | loss | NumPy ms | fast ms | torch ms | torch / losslab | losslab / floor |
    |---|---|---|---|---|---|
    | softmax_cross_entropy | 4.0 | 2.0 | 3.0 | 1.50 | 2.00 |
    """
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
