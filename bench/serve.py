"""The playground server under load: N clients × M requests on 127.0.0.1, as the page's "run" button.

Run:  python bench/serve.py                    (20 clients × 200 requests; at most --limit seconds)

Starts ``losslab serve`` itself on a free port of 127.0.0.1, waits for it, and
lets each client (a thread with one keep-alive connection) do what the page
does while "run" is held: 5 training steps, then an evaluation (scores, grid,
the selected point's comparison), carrying the new parameters and optimizer
state forward. 75 points in 3 classes, a linear model, softmax loss, Adam.
Prints throughput, latency percentiles and errors (any answer but a 200, or
none within 30 s), then stops the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np

from _common import machine, today
from losslab.web import playground


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port, wait=60.0):
    cmd = [sys.executable, "-m", "losslab", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start within {wait} s")


def client(port, n_requests, stop_at, latencies, errors):
    """One page holding "run": step 5, evaluate, and again, until n_requests or the time limit."""
    state = {**playground.make_points("blobs", 3, 25, seed=0), "optimizer": "adam", "lr": 0.03}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for k in range(n_requests):
        if time.monotonic() > stop_at:
            errors.append("time limit")
            continue
        path, body = (
            ("/api/step", {"state": state, "steps": 5})
            if k % 2 == 0
            else ("/api/evaluate", {"state": state, "selected": 0})
        )
        started = time.perf_counter()
        try:
            conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
            reply = conn.getresponse()
            payload = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
        if reply.status != 200:
            errors.append(reply.status)
            continue
        result = json.loads(payload)
        if path == "/api/step":
            state.update(
                params=result["params"],
                opt_state=result["opt_state"],
                step_count=result["step_count"],
            )
    conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds for the whole load")
    args = parser.parse_args()
    port = free_port()
    server = start_server(port)
    try:
        client(port, 4, time.monotonic() + 60, [], [])  # compile the kernels before the clock
        latencies, errors = [], []
        stop_at = time.monotonic() + args.limit
        threads = [
            threading.Thread(target=client, args=(port, args.requests, stop_at, latencies, errors))
            for _ in range(args.clients)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = np.percentile(latencies, [50, 99]) * 1e3 if latencies else [float("nan")] * 2
    total = args.clients * args.requests
    print(f"machine: {machine()} (nproc {os.cpu_count()}); date: {today()}")
    print(f"{args.clients} clients × {args.requests} requests (step 5 / evaluate, alternating)")
    print(
        f"answered {len(latencies)} of {total} in {elapsed:.2f} s: "
        f"{len(latencies) / elapsed:.0f} requests/s; latency p50 {ms[0]:.1f} ms, "
        f"p99 {ms[1]:.1f} ms, max {max(latencies, default=0) * 1e3:.1f} ms; "
        f"errors: {len(errors)} {sorted(set(map(str, errors)))}"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
