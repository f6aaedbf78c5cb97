"""Forward + backward of the hot loss kernels against PyTorch CPU and the memory-copy floor.

Run:  python bench/losses.py [--rows 262144] [--classes 100] [--repeats 5]
      python bench/losses.py --options [--repeats 3]   # every option: NumPy, automatic, torch
      python bench/losses.py --blocks                  # the NumPy path's block size
(the first is the same suite as ``losslab bench``; see losslab/benchmarks.py for what is timed)

``--options`` times each option combination on the NumPy path (``LOSSLAB_FAST=0``), on the
automatic path (the fused kernel where one covers the options) and in torch (2 threads), one
after the other for each row, so a slow spell of a shared machine hits all three; "torch /
NumPy" >= 1 means the NumPy path is the faster. Focal loss in torch is its formula
under autograd (torch has none); sample weights in torch are ``reduction="none"`` times the
weights.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from _common import machine, median_time, today
from losslab import benchmarks, config, losses
from losslab.losses import _result


def option_cases(x, y, torch):
    """(name, losslab call, torch call) for every option combination of the four losses."""
    n, c = x.shape
    rng = np.random.default_rng(1)
    F = torch.nn.functional
    cw = rng.uniform(0.5, 2, c).astype(x.dtype)
    sw = rng.uniform(0, 2, n).astype(x.dtype)
    y_ign = np.where(rng.uniform(size=n) < 0.1, -100, y)
    q = np.full_like(x, 0.5 / (c - 1))
    q[np.arange(n), y] = 0.5
    y01 = (rng.uniform(size=x.shape) < 0.3).astype(x.dtype)
    pw = rng.uniform(0.5, 3, c).astype(x.dtype)
    xf = np.asfortranarray(x)
    T = torch.from_numpy
    yt, y_ign_t, cw_t, sw_t = T(y), T(y_ign), T(cw), T(sw)

    def focal_t(t, target, weight=None, eps=0.0, alpha=None):
        """The focal loss in torch: of the target's log-probability alone without smoothing
        (as losslab.benchmarks writes it), of every class's with it."""
        logp = F.log_softmax(t, 1)
        keep = (target >= 0).to(t.dtype)
        labels = target.clamp(min=0)
        w_y = keep if weight is None else keep * weight[labels]
        scale = 1.0 if alpha is None else alpha
        if eps == 0:
            logp_y = logp.gather(1, labels[:, None])[:, 0]
            return -(scale * w_y * (1 - logp_y.exp()) ** 2 * logp_y).sum() / w_y.sum()
        a = F.one_hot(labels, c).to(t.dtype) * (1 - eps) + eps / c
        a = a * (1.0 if weight is None else weight) * keep[:, None]
        return -(scale * (1 - logp.exp()) ** 2 * logp * a).sum() / w_y.sum()

    def focal_q(t, weight=None, eps=0.0, row_weight=None):
        """The focal loss of probability targets in torch, over every class."""
        logp = F.log_softmax(t, 1)
        a = T(q) * (1 - eps) + eps / c
        a = a * (1.0 if weight is None else weight)
        a = a if row_weight is None else a * row_weight[:, None]
        total = n if row_weight is None else row_weight.sum()
        return -((1 - logp.exp()) ** 2 * logp * a).sum() / total

    ce, hinge, focal = losses.softmax_cross_entropy, losses.multiclass_hinge, losses.softmax_focal
    bce = losses.sigmoid_binary_cross_entropy
    return [
        ("CE", lambda: ce(x, y), lambda t: F.cross_entropy(t, yt)),
        ("CE class_weight", lambda: ce(x, y, class_weight=cw), lambda t: F.cross_entropy(t, yt, weight=cw_t)),
        ("CE label_smoothing", lambda: ce(x, y, label_smoothing=0.1), lambda t: F.cross_entropy(t, yt, label_smoothing=0.1)),
        ("CE ignore_index", lambda: ce(x, y_ign, ignore_index=-100), lambda t: F.cross_entropy(t, y_ign_t)),
        ("CE sample_weight", lambda: ce(x, y, sample_weight=sw), lambda t: (F.cross_entropy(t, yt, reduction="none") * sw_t).sum() / sw_t.sum()),
        ("CE all options", lambda: ce(x, y_ign, class_weight=cw, label_smoothing=0.1, ignore_index=-100), lambda t: F.cross_entropy(t, y_ign_t, weight=cw_t, label_smoothing=0.1)),
        ("CE probabilities", lambda: ce(x, q), lambda t: F.cross_entropy(t, T(q))),
        ("CE probabilities all options", lambda: ce(x, q, class_weight=cw, label_smoothing=0.1, sample_weight=sw), lambda t: (F.cross_entropy(t, T(q), weight=cw_t, label_smoothing=0.1, reduction="none") * sw_t).sum() / sw_t.sum()),
        ("CE probabilities Fortran order", lambda: ce(xf, np.asfortranarray(q)), lambda t: F.cross_entropy(t, T(q))),
        ("CE Fortran order", lambda: ce(xf, y), lambda t: F.cross_entropy(t, yt)),
        ("WW", lambda: hinge(x, y), lambda t: c * F.multi_margin_loss(t, yt)),
        ("WW class_weight", lambda: hinge(x, y, class_weight=cw), lambda t: c * F.multi_margin_loss(t, yt, weight=cw_t, reduction="sum") / cw_t[yt].sum()),
        ("WW squared", lambda: hinge(x, y, squared=True), lambda t: c * F.multi_margin_loss(t, yt, p=2)),
        ("WW Fortran order", lambda: hinge(xf, y), lambda t: c * F.multi_margin_loss(t, yt)),
        ("focal", lambda: focal(x, y), lambda t: focal_t(t, yt)),
        ("focal class_weight", lambda: focal(x, y, class_weight=cw), lambda t: focal_t(t, yt, weight=cw_t)),
        ("focal label_smoothing", lambda: focal(x, y, label_smoothing=0.1), lambda t: focal_t(t, yt, eps=0.1)),
        ("focal label_smoothing all options", lambda: focal(x, y_ign, class_weight=cw, label_smoothing=0.1, ignore_index=-100, alpha=0.25), lambda t: focal_t(t, y_ign_t, weight=cw_t, eps=0.1, alpha=0.25)),
        ("focal probabilities", lambda: focal(x, q), lambda t: focal_q(t)),
        ("focal probabilities all options", lambda: focal(x, q, class_weight=cw, label_smoothing=0.1, sample_weight=sw), lambda t: focal_q(t, weight=cw_t, eps=0.1, row_weight=sw_t)),
        ("focal ignore_index", lambda: focal(x, y_ign, ignore_index=-100), lambda t: focal_t(t, y_ign_t)),
        ("focal alpha", lambda: focal(x, y, alpha=0.25), lambda t: focal_t(t, yt, alpha=0.25)),
        ("focal Fortran order", lambda: focal(xf, y), lambda t: focal_t(t, yt)),
        ("BCE", lambda: bce(x, y01), lambda t: F.binary_cross_entropy_with_logits(t, T(y01))),
        ("BCE pos_weight", lambda: bce(x, y01, pos_weight=pw), lambda t: F.binary_cross_entropy_with_logits(t, T(y01), pos_weight=T(pw))),
        ("BCE weight", lambda: bce(x, y01, weight=pw), lambda t: F.binary_cross_entropy_with_logits(t, T(y01), weight=T(pw), reduction="sum") / (n * T(pw).sum())),
        ("BCE label_smoothing", lambda: bce(x, y01, label_smoothing=0.1), lambda t: F.binary_cross_entropy_with_logits(t, T(y01 * 0.9 + 0.05))),
        ("BCE Fortran order", lambda: bce(xf, y01), lambda t: F.binary_cross_entropy_with_logits(t, T(y01))),
    ]  # fmt: skip


def options_table(rows, classes, repeats, only=None):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, classes), dtype=np.float32)
    y = rng.integers(0, classes, rows)
    print(
        f"\n## Every option, ({rows}, {classes}) float32, forward + backward; median of {repeats}"
    )
    print("| case | NumPy ms | automatic ms | torch ms | torch / NumPy | torch / automatic |")
    print("|---|---|---|---|---|---|")
    for name, ours, theirs in option_cases(x, y, torch):
        if only and not name.startswith(only):
            continue
        with config.fast(False):
            numpy_s = median_time(ours, repeats)
        with config.fast(config.fast_available() or None):
            auto_s = median_time(ours, repeats)
        torch_s = median_time(benchmarks._torch_call(torch, x, theirs), repeats)
        print(
            f"| {name} | {numpy_s * 1e3:.1f} | {auto_s * 1e3:.1f} | {torch_s * 1e3:.1f} "
            f"| {torch_s / numpy_s:.2f} | {torch_s / auto_s:.2f} |"
        )


def block_sizes(rows, classes, repeats):
    """The NumPy path's cross-entropy at several block sizes, alternating sizes each round."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, classes), dtype=np.float32)
    y = rng.integers(0, classes, rows)
    sizes = [1 << k for k in range(14, 23)]
    times = {size: [] for size in sizes}
    default = _result.BLOCK_BYTES
    with config.fast(False):
        losses.softmax_cross_entropy(x, y)
        for _ in range(repeats):
            for size in sizes:
                _result.BLOCK_BYTES = size
                start = time.perf_counter()
                losses.softmax_cross_entropy(x, y)
                times[size].append(time.perf_counter() - start)
    _result.BLOCK_BYTES = default
    print(
        f"\n## NumPy cross-entropy by block size, ({rows}, {classes}) float32; median of {repeats}"
    )
    print("| block bytes | ms |")
    print("|---|---|")
    for size in sizes:
        mark = " (BLOCK_BYTES)" if size == default else ""
        print(f"| {size // 1024} KiB{mark} | {statistics.median(times[size]) * 1e3:.1f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=262144)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--options", action="store_true", help="every option combination vs torch")
    ap.add_argument("--blocks", action="store_true", help="the NumPy path's block size")
    ap.add_argument("--only", default=None, help="with --options: the cases whose name starts so")
    args = ap.parse_args(argv)
    print(f"# {machine()}; {today()}; fast path available: {config.fast_available()}")
    if args.blocks:
        block_sizes(args.rows, args.classes, args.repeats)
        return
    if args.options:
        options_table(args.rows, args.classes, args.repeats, args.only)
        return
    import torch

    table, floor = benchmarks.kernel_table(args.rows, args.classes, args.repeats, torch)
    print(
        f"# loss kernels, forward+backward, ({args.rows}, {args.classes}) float32; median of {args.repeats}"
    )
    print(f"# torch {torch.__version__} (2 threads)")
    print(
        f"# copy floor (np.copyto): {floor * 1e3:.1f} ms; 'losslab' below is the faster of its two paths"
    )
    print(benchmarks.markdown(table, floor))
    print("\n# one call on a (256, 10) float32 batch (forward + backward); torch on 1 thread")
    print(benchmarks.markdown(benchmarks.small_batch_table(torch), unit=1e6, unit_name="µs"))


if __name__ == "__main__":
    main()
