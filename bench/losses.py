"""Forward + backward of the big loss kernels against PyTorch CPU and the copy floor.

Run:  python bench/losses.py [--rows 262144] [--classes 100] [--repeats 5]

For each loss it times losslab (value and gradient) and the same loss in torch
(forward and autograd backward), both on the same float32 (N, C) scores, with
torch limited to 1 thread (NumPy's element-wise kernels use one) and again with
all cores. The floor is `np.copyto` of the same matrix: a kernel that reads the
scores once and writes the gradient once cannot beat it by much.
"""

from __future__ import annotations

import argparse

import numpy as np

from _common import machine, median_time, today  # bench/ is on sys.path when run as a script
from losslab import losses


def torch_cases(torch, x, y):
    F = torch.nn.functional
    c = x.shape[1]
    y_float = (y[:, None] == np.arange(c)).astype(np.float32)
    return {
        "softmax_cross_entropy": (lambda t: F.cross_entropy(t, torch.from_numpy(y))),
        "multiclass_hinge": (lambda t: c * F.multi_margin_loss(t, torch.from_numpy(y))),
        "softmax_focal": (
            lambda t: (
                -((1 - F.log_softmax(t, 1).gather(1, torch.from_numpy(y)[:, None]).exp()) ** 2)
                * F.log_softmax(t, 1).gather(1, torch.from_numpy(y)[:, None])
            ).mean()
        ),
        "sigmoid_binary_cross_entropy": (
            lambda t: F.binary_cross_entropy_with_logits(t, torch.from_numpy(y_float))
        ),
    }, y_float


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=262144)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.rows, args.classes), dtype=np.float32)
    y = rng.integers(0, args.classes, args.rows)
    out = np.empty_like(x)
    floor, _ = median_time(lambda: np.copyto(out, x), args.repeats)
    cases, y_float = torch_cases(torch, x, y)
    ours = {
        "softmax_cross_entropy": lambda: losses.softmax_cross_entropy(x, y),
        "multiclass_hinge": lambda: losses.multiclass_hinge(x, y),
        "softmax_focal": lambda: losses.softmax_focal(x, y, gamma=2.0),
        "sigmoid_binary_cross_entropy": lambda: losses.sigmoid_binary_cross_entropy(x, y_float),
    }
    print(f"# loss kernels, forward+backward, ({args.rows}, {args.classes}) float32")
    print(f"# {machine()}; {today()}; torch {torch.__version__}; numpy {np.__version__}")
    print(f"# copy floor (np.copyto): {floor * 1e3:.1f} ms; median of {args.repeats}")
    header = "| loss | losslab ms | torch 1 thread ms | torch all cores ms | torch1/losslab | torchN/losslab | losslab/floor |"
    print(header)
    print("|" + "---|" * 7)
    for name, fn in ours.items():
        t_ours, _ = median_time(fn, args.repeats)
        t_torch = {}
        for threads in (1, torch.get_num_threads() if torch.get_num_threads() > 1 else 1):
            torch.set_num_threads(threads)
            t = torch.from_numpy(x).requires_grad_(True)

            def run(t=t, f=cases[name]):
                t.grad = None
                f(t).backward()

            t_torch[threads], _ = median_time(run, args.repeats)
        t1, tn = t_torch[1], t_torch[max(t_torch)]
        torch.set_num_threads(max(t_torch))
        print(
            f"| {name} | {t_ours * 1e3:.1f} | {t1 * 1e3:.1f} | {tn * 1e3:.1f} | "
            f"{t1 / t_ours:.2f} | {tn / t_ours:.2f} | {t_ours / floor:.1f} |"
        )


if __name__ == "__main__":
    main()
