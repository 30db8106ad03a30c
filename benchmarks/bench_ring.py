"""Benchmark the ring buffers: run with ``.venv/bin/python benchmarks/bench_ring.py``.

Prints a Markdown table:

* push+pop pairs per second inside one jitted loop (``Ring``, each policy), against
  a bare jitted loop copying the same records array to array;
* two processes over a ``SharedRing``: messages per second (first to last record
  seen by the consumer), single-record ``push`` and batched ``push_many``, and the
  one-way latency (``ts_local`` stamped with ``CLOCK_MONOTONIC`` at the push, read
  again after the pop), saturated and paced;
* the cost of the clocks readable from numba (``monotonic_ns``: libc
  ``clock_gettime(CLOCK_MONOTONIC)``, a vDSO call; ``rdtsc``: ``llvm.readcyclecounter``).

Best of ``--repeat`` runs. Results from a shared 2-core machine vary with the
other load on it (the process-pair numbers most).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import uuid
from pathlib import Path

import numba
import numpy as np
from numba import njit

from qlib.dtypes import empty_events
from qlib.ring import Ring, SharedRing, monotonic_ns, pop, pop_many, push, push_many, rdtsc
from _common import best_of as _best, cpu_name as _cpu  # benchmarks/_common.py

ROOT = Path(__file__).resolve().parents[1]


@njit(cache=True)
def _pairs(state, buf, src, out, n):
    s = 0
    m = src.shape[0] - 1
    for k in range(n):
        s += push(state, buf, src[k & m])
        s += pop(state, buf, out)
    return s


@njit(cache=True)
def _batches(state, buf, src, out, n):
    b = src.shape[0]
    s = 0
    for _ in range(n // b):
        s += push_many(state, buf, src)
        s += pop_many(state, buf, out)
    return s


@njit(cache=True)
def _bare_copy(src, out, n):
    m = src.shape[0] - 1
    for k in range(n):
        out[k & m] = src[k & m]
    return out[0]["seq"]


@njit(cache=True)
def _clock_loop(n, which):
    s = 0
    for _ in range(n):
        s += monotonic_ns() if which == 0 else rdtsc()
    return s




def _pair_run(n: int, pbatch: int, cbatch: int, gap_ns: int = 0) -> tuple[dict, dict]:
    name = f"qlib_bench_{uuid.uuid4().hex[:10]}"
    cmd = [sys.executable, "-m", "qlib.ring._workers"]
    with SharedRing.create(name, 1 << 16, policy="block", timeout=30.0):
        c = subprocess.Popen(cmd + ["consume", name, str(n), "--batch", str(cbatch)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
        p = subprocess.Popen(cmd + ["produce", name, str(n), "--batch", str(pbatch),
                                    "--gap-ns", str(gap_ns)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
        po, _ = p.communicate(timeout=300)
        co, _ = c.communicate(timeout=300)
    prod, cons = json.loads(po), json.loads(co)
    assert cons["received"] == n and cons["first_bad"] == -1, cons
    return prod, cons


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=100_000_000)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    n = a.pairs
    rows: list[tuple[str, str, str]] = []

    src = empty_events(1024)
    src["seq"] = np.arange(1024)
    out1 = empty_events(1)
    _bare_copy(src, empty_events(1024), 10)
    base = n / _best(lambda: _bare_copy(src, empty_events(1024), n), a.repeat)
    rows.append(("bare jitted loop copying records array to array (baseline)",
                 f"{base / 1e6:,.0f} M records/s", "1.00x"))
    for policy in ("block", "raise", "drop_oldest"):
        ring = Ring(1024, policy=policy)
        _pairs(ring.state, ring.buf, src, out1, 10)
        r = n / _best(lambda ring=ring: _pairs(ring.state, ring.buf, src, out1, n), a.repeat)
        rows.append((f"Ring push+pop pair in a jitted loop, policy {policy!r}",
                     f"{r / 1e6:,.0f} M pairs/s", f"{r / base:.2f}x of baseline"))
    ring = Ring(1024, policy="block")
    batch = src[:64].copy()
    outb = empty_events(64)
    _batches(ring.state, ring.buf, batch, outb, 64)
    r = n / _best(lambda: _batches(ring.state, ring.buf, batch, outb, n), a.repeat)
    rows.append(("Ring push_many+pop_many, batches of 64, policy 'block'",
                 f"{r / 1e6:,.0f} M records/s", f"{r / base:.2f}x of baseline"))

    m = a.messages
    for label, pb, cb in (("push one by one, pop_many(256)", 1, 256),
                          ("push_many(64), pop_many(64)", 64, 64)):
        best = None
        for _ in range(a.repeat):
            _, cons = _pair_run(m, pb, cb)
            if best is None or cons["seconds"] < best["seconds"]:
                best = cons
        rate = m / best["seconds"]
        rows.append((f"SharedRing, 2 processes, {label}, {m:,} msgs",
                     f"{rate / 1e6:,.1f} M msgs/s",
                     (f"latency p50 {best['p50_ns'] / 1e3:,.0f} us / p99 "
                      f"{best['p99_ns'] / 1e3:,.0f} us (saturated: queueing in a full ring)")))
    for gap in (1_000, 10_000):
        k = min(m, 200_000 if gap == 1_000 else 50_000)
        best = None
        for _ in range(a.repeat):
            _, cons = _pair_run(k, 1, 1, gap_ns=gap)
            if best is None or cons["p50_ns"] < best["p50_ns"]:
                best = cons
        rows.append((f"SharedRing one-way latency, paced 1 msg / {gap // 1000} us, {k:,} msgs",
                     f"p50 {best['p50_ns']:,.0f} ns",
                     f"p99 {best['p99_ns']:,.0f} ns, p99.9 {best['p999_ns']:,.0f} ns"))

    _clock_loop(10, 0)
    _clock_loop(10, 1)
    k = 10_000_000
    for which, label in ((0, "monotonic_ns() = clock_gettime(CLOCK_MONOTONIC), vDSO"),
                         (1, "rdtsc() = llvm.readcyclecounter")):
        t = _best(lambda which=which: _clock_loop(k, which), a.repeat)
        rows.append((f"clock cost in jitted code: {label}", f"{t / k * 1e9:.1f} ns/call", ""))

    print(f"CPU: {_cpu()} x{os.cpu_count()}, Python {platform.python_version()}, "
          f"numba {numba.__version__}, numpy {np.__version__}\n")
    print("| measurement | rate | ratio / notes |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
