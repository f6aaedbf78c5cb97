"""``losslab bench``, ``losslab serve`` and ``losslab examples``: speed, the playground, the seed's numbers."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from .common import Subparsers, UsageError, add_json_option, console_for, positive_int, print_json


def add_parsers(sub: Subparsers) -> None:
    p = sub.add_parser(
        "bench", help="time the loss kernels against the copy floor (and PyTorch, if installed)"
    )
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    add_json_option(
        p,
        {
            "rows": "rows of the large batch (its shape is (rows, 100), float32)",
            "torch": "whether PyTorch was timed",
            "copy_floor_seconds": "np.copyto of the batch: the floor no kernel beats",
            "large_batch": "one object per loss: loss, numpy, fast, torch (median seconds; "
            "null where that path is absent)",
            "small_batch": "the same for one call on a (256, 10) batch (seconds per call)",
        },
    )
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("serve", help="the browser playground (opens nothing; prints the URL)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: 127.0.0.1, this machine only)",
    )
    p.add_argument("--port", type=port_number, default=8765, help="port (default: 8765)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("examples", help="print the seed notes' worked examples computed by losslab")
    add_json_option(
        p,
        {
            "ok": "true when every example agrees with the notes within 1%",
            "examples": "one object per example: source, description, expected, computed, ok",
        },
    )
    p.set_defaults(func=cmd_examples)


def cmd_bench(args: argparse.Namespace) -> None:
    from .. import benchmarks

    torch = _torch()
    rows = 16384 if args.quick else 262144
    console = console_for(args)
    console.print(
        f"[bold]losslab bench[/]: ({rows}, 100) float32; torch: {'yes' if torch else 'not installed'}"
    )
    table, floor = benchmarks.kernel_table(rows, 100, 3 if args.quick else 5, torch)
    console.print(f"copy floor (np.copyto): {floor * 1e3:.2f} ms")
    console.print(benchmarks.markdown(table, floor), markup=False)
    console.print("one call on a (256, 10) batch:")
    small = benchmarks.small_batch_table(torch, 200 if args.quick else 2000)
    console.print(benchmarks.markdown(small, unit=1e6, unit_name="µs"), markup=False)
    summary = {"rows": rows, "torch": torch is not None, "copy_floor_seconds": floor}
    print_json(args, summary | {"large_batch": table, "small_batch": small})


def _torch() -> Any:
    """PyTorch if it is installed (the benchmark's competitor), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1 to 65535."""
    port = positive_int(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return port


def cmd_serve(args: argparse.Namespace) -> None:
    try:
        from ..web.app import listen, serve
    except ImportError as exc:
        raise UsageError(
            f"the playground needs the web extra: pip install 'losslab[web]' ({exc})"
        ) from None
    sock = listen(args.host, args.port)  # a busy port or unusable host: one line, exit 2
    print(f"losslab playground at http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    serve(args.host, args.port, sock=sock)


def cmd_examples(args: argparse.Namespace) -> None:
    from ..examples import worked_examples

    table = Table(title="The seed notes' worked examples, computed by losslab")
    for col in ("seed", "example", "notes say", "losslab", ""):
        table.add_column(col, justify="right" if col in ("notes say", "losslab") else "left")
    rows = []
    for ex in worked_examples():
        ok = bool(abs(ex.computed - ex.expected) <= 0.01 * max(1.0, abs(ex.expected)))
        rows.append(
            {
                "source": ex.source,
                "description": ex.description,
                "expected": float(ex.expected),
                "computed": float(ex.computed),
                "ok": ok,
            }
        )
        table.add_row(
            ex.source,
            ex.description,
            f"{ex.expected:g}",
            f"{ex.computed:.4f}",
            "[green]✓[/]" if ok else "[red]✗[/]",
        )
    console_for(args).print(table)
    print_json(args, {"ok": all(r["ok"] for r in rows), "examples": rows})
