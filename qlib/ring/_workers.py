"""Jitted producer and consumer processes over a :class:`~qlib.ring.SharedRing`.

Used by the two-process stress test and by ``benchmarks/bench_ring.py``; run as

    python -m qlib.ring._workers produce NAME N [--batch B] [--gap-ns G]
    python -m qlib.ring._workers consume NAME N [--batch B] [--deadline-s S]

Each prints one JSON line. The producer writes records whose ``seq`` field counts
0, 1, 2, ... and whose ``ts_local`` is ``CLOCK_MONOTONIC`` at the push; the consumer
checks that ``seq`` arrives complete and in order and histograms the one-way latency
(pop time minus ``ts_local``) in 10 ns bins.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from numba import njit

from qlib.dtypes import EVENT_DTYPE
from qlib.ring._atomics import cpu_relax, monotonic_ns, sched_yield
from qlib.ring._kernels import pop_many, push, push_many

#: Latency histogram: bin width and number of bins (the last bin collects overflow).
LAT_BIN_NS = 10
LAT_BINS = 1_000_000  # 10 ms


@njit(cache=True)
def produce_records(state, buf, n, batch, gap_ns):
    """Push records ``seq = 0..n-1``; one by one when ``batch == 1``. Returns the pushed."""
    scratch = np.zeros(max(batch, 1), dtype=buf.dtype)
    i = 0
    next_t = 0
    while i < n:
        if gap_ns > 0:
            while monotonic_ns() < next_t:
                cpu_relax()
        k = min(batch, n - i)
        now = monotonic_ns()
        for j in range(k):
            scratch[j]["seq"] = i + j
            scratch[j]["ts_local"] = now
        if batch == 1:
            if push(state, buf, scratch[0]) != 0:
                return i
            i += 1
        else:
            done = push_many(state, buf, scratch[:k])
            i += done
            if done < k:
                return i
        if gap_ns > 0:
            next_t = now + gap_ns
    return i


@njit(cache=True)
def consume_records(state, buf, n, batch, deadline_ns, hist):
    """Pop until ``n`` records arrived or ``deadline_ns``; check ``seq`` order, fill ``hist``.

    Returns ``(received, first_bad, t_first_ns, t_last_ns)``; ``first_bad`` is the index
    of the first record whose ``seq`` was not its index (-1: none).
    """
    out = np.zeros(max(batch, 1), dtype=buf.dtype)
    got = 0
    first_bad = -1
    t_first = 0
    t_last = 0
    polls = 0
    nbins = hist.shape[0]
    while got < n:
        k = pop_many(state, buf, out)
        if k == 0:
            # spin, then yield: on an oversubscribed machine a spinning consumer
            # would otherwise hold the core its producer needs
            if polls < 1024:
                cpu_relax()
            else:
                sched_yield()
            polls += 1
            if (polls & 0x3FF) == 0 and monotonic_ns() > deadline_ns:
                break
            continue
        polls = 0
        now = monotonic_ns()
        if got == 0:
            t_first = now
        for j in range(k):
            if out[j]["seq"] != got + j and first_bad < 0:
                first_bad = got + j
            b = (now - out[j]["ts_local"]) // LAT_BIN_NS
            if b < 0:
                b = 0
            elif b >= nbins:
                b = nbins - 1
            hist[b] += 1
        got += k
        t_last = now
    return got, first_bad, t_first, t_last


def percentile_ns(hist: np.ndarray, q: float) -> float:
    """The ``q``-quantile (0..1) of a latency histogram, in ns (upper bin edge)."""
    c = np.cumsum(hist)
    if c[-1] == 0:
        return float("nan")
    return float((np.searchsorted(c, q * c[-1]) + 1) * LAT_BIN_NS)


def main(argv: list[str] | None = None) -> int:
    from qlib.ring.shm import SharedRing

    p = argparse.ArgumentParser(prog="python -m qlib.ring._workers")
    p.add_argument("role", choices=["produce", "consume"])
    p.add_argument("name")
    p.add_argument("n", type=int)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--gap-ns", type=int, default=0)
    p.add_argument("--deadline-s", type=float, default=60.0)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    ring = SharedRing.attach(a.name, dtype=EVENT_DTYPE)
    if a.role == "produce":
        t1 = time.perf_counter()
        pushed = produce_records(ring.state, ring.buf, a.n, a.batch, a.gap_ns)
        t2 = time.perf_counter()
        res = {"role": "produce", "pushed": int(pushed), "seconds": t2 - t1,
               "startup_s": t1 - t0}
    else:
        hist = np.zeros(LAT_BINS, dtype=np.int64)
        deadline = time.monotonic_ns() + int(a.deadline_s * 1e9)
        t1 = time.perf_counter()
        got, bad, tf, tl = consume_records(ring.state, ring.buf, a.n, a.batch, deadline, hist)
        res = {"role": "consume", "received": int(got), "first_bad": int(bad),
               "seconds": (tl - tf) / 1e9, "wall_s": time.perf_counter() - t1,
               "startup_s": t1 - t0, "p50_ns": percentile_ns(hist, 0.5),
               "p99_ns": percentile_ns(hist, 0.99), "p999_ns": percentile_ns(hist, 0.999),
               "dropped": ring.dropped}
    ring.close()
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
