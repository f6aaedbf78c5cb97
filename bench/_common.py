"""Helpers shared by the benchmarks: the machine line, the date, and losslab's median timer."""

from __future__ import annotations

import datetime
import os
import platform

from losslab.benchmarks import median_time

__all__ = ["machine", "median_time", "today"]


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
