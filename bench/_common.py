"""Timing helpers shared by the benchmarks: medians of repeated runs and a machine line."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time


def median_time(fn, repeats=5, warmup=1):
    """Median wall time of fn() over `repeats` runs after `warmup` runs, and all the times."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def today():
    return datetime.date.today().isoformat()
