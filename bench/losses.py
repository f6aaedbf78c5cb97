"""Forward + backward of the hot loss kernels against PyTorch CPU and the memory-copy floor.

Run:  python bench/losses.py [--rows 262144] [--classes 100] [--repeats 5]
(the same suite as ``losslab bench``; see losslab/benchmarks.py for what is timed)
"""

from __future__ import annotations

import argparse

from _common import machine, today
from losslab import benchmarks, config


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=262144)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    import torch

    table, floor = benchmarks.kernel_table(args.rows, args.classes, args.repeats, torch)
    print(
        f"# loss kernels, forward+backward, ({args.rows}, {args.classes}) float32; median of {args.repeats}"
    )
    print(
        f"# {machine()}; {today()}; torch {torch.__version__} (2 threads); fast path: {config.fast_available()}"
    )
    print(
        f"# copy floor (np.copyto): {floor * 1e3:.1f} ms; 'losslab' below is the faster of its two paths"
    )
    print(benchmarks.markdown(table, floor))
    print("\n# one call on a (256, 10) float32 batch (forward + backward); torch on 1 thread")
    print(benchmarks.markdown(benchmarks.small_batch_table(torch), unit=1e6, unit_name="µs"))


if __name__ == "__main__":
    main()
