"""Benchmark the L3 book and the matching engine: ``.venv/bin/python benchmarks/bench_l3.py``.

Prints Markdown tables (best of ``REPEATS`` warm runs; JIT compile or cache load is
timed apart, by the first call):

1. L3 apply (``_l3_kernels.apply_events``, jitted) on the real LOBSTER GOOG L10 day
   (needs ../shared/data) and on ``simulate(n_events=1_000_000)``; rates per event row
   and per book-changing row (``TRADE`` rows cost a compare), against two baselines:
   the same kernel's ``.py_func`` and a plain-Python dict-of-deques L3 book (both on
   the first 20,000 rows), as ratios. Each timed run gets a book made just before
   it (best of ``APPLY_REPEATS``).
2. ``queue_ahead`` (queue position) on the Databento ESH4 book at the end of the file.
3. Matching-engine throughput on a realistic mix (55 % passive GTC limits 0-5 ticks
   behind the touch, 10 % marketable IOC limits, 5 % market orders, 5 % post-only,
   20 % cancels of recent ids, 5 % modifies), driven from a jitted loop, against the
   driver's ``.py_func`` (kernels jitted, the loop in Python) and the Python
   ``MatchingEngine`` API (one call per order).

L3 apply, 2-core AMD EPYC shared with other jobs (numba 0.68.1), before and after the
hot ADD / CANCEL / EXECUTE / DELETE / DEPTH paths of ``apply_events`` were written out
flat in its loop (2026-11-25):

| ns/row (M rows/s), 3 runs | one call per row (borrowed) | flat hot paths |
|---|---|---|
| LOBSTER GOOG L10, 156,219 rows | 83.6-88.3 (11.3-12.0) | 27.9-30.0 (33.3-35.8) |
| simulate(1_000_000), 1,102,721 rows | 76.1-77.0 (13.0-13.1) | 19.8-20.6 (48.6-50.4) |

With the old method (all books made up front, so each run starts with its 4 MiB
id map and 9 MiB pool out of cache) the flat kernel measured 47.9 ns/row
(20.9 M rows/s) on LOBSTER and 21.7 ns/row on simulate, against 106.9 and 78.0.
"""

from __future__ import annotations

import collections
import os
import platform
import sys
import time

import numba
import numpy as np
from numba import njit

from qlib.book import _l3_kernels as K
from qlib.book import _matching_kernels as MK
from qlib.book.l3 import L3Book
from qlib.book.matching import MatchingEngine
from qlib.data import load_databento, load_lobster, simulate
from qlib.data.paths import shared_data_dir
from qlib.enums import EventKind, OrderType, StpPolicy, TimeInForce
from qlib.errors import OrderRejected
from _common import best_of  # benchmarks/_common.py

REPEATS = 5
#: L3 apply runs are short (5-25 ms): more of them, for a stable best on a shared machine.
APPLY_REPEATS = 20
SUBSET = 20_000


def _best(fn, repeat=REPEATS):
    return best_of(fn, repeat)


class DictDequeBook:
    """Baseline: ``{order_id: (side, px, qty)}`` and ``{(side, px): deque of ids}`` in Python."""

    def __init__(self):
        self.orders = {}
        self.levels = collections.defaultdict(collections.deque)

    def apply(self, ev):
        for kind, side, px, qty, oid in zip(ev["kind"].tolist(), ev["side"].tolist(),
                                            ev["px_tick"].tolist(), ev["qty"].tolist(),
                                            ev["order_id"].tolist()):
            if kind in (EventKind.ADD, EventKind.SNAPSHOT):
                self.orders[oid] = [side, px, qty]
                self.levels[(side, px)].append(oid)
            elif kind in (EventKind.CANCEL, EventKind.EXECUTE, EventKind.DELETE):
                o = self.orders.get(oid)
                if o is None:
                    continue
                o[2] -= qty if kind != EventKind.DELETE else o[2]
                if o[2] <= 0:
                    del self.orders[oid]
                    q = self.levels[(o[0], o[1])]
                    q.remove(oid)
                    if not q:
                        del self.levels[(o[0], o[1])]


def bench_apply(name, ev, strict):
    rows = []
    mk = lambda: L3Book(strict=strict, order_capacity=1 << 17, level_capacity=1 << 13)
    t0 = time.perf_counter()
    b = mk()
    K.apply_events(*b.state, ev[:100], 0, 100)
    first = time.perf_counter() - t0
    dt = float("inf")
    for _ in range(APPLY_REPEATS):  # a fresh book made just before each timed run, as in use
        st = mk().state
        t = time.perf_counter()
        K.apply_events(*st, ev, 0, ev.shape[0])
        dt = min(dt, time.perf_counter() - t)
    del st
    n = ev.shape[0]
    n_book = int(np.count_nonzero((ev["kind"] != EventKind.TRADE) & (ev["kind"] != EventKind.QUOTE)))
    sub = ev[:SUBSET]
    bp = mk()
    t = time.perf_counter()
    K.apply_events.py_func(*bp.state, sub, 0, sub.shape[0])
    dt_py = (time.perf_counter() - t) / sub.shape[0]
    dd = DictDequeBook()
    t = time.perf_counter()
    dd.apply(sub)
    dt_dd = (time.perf_counter() - t) / sub.shape[0]
    per = dt / n
    rows.append(f"| L3 apply, {name} | {n:,} rows ({n_book:,} book) | {per * 1e9:.1f} ns/row |"
                f" {n / dt / 1e6:.1f} M rows/s; {n_book / dt / 1e6:.1f} M book msgs/s |"
                f" first call {first:.2f} s |")
    rows.append(f"| .py_func of the same kernel, {name} | first {SUBSET:,} rows |"
                f" {dt_py * 1e9:.0f} ns/row | jit is {dt_py / per:.0f}x faster | |")
    rows.append(f"| dict-of-deques Python L3 book, {name} | first {SUBSET:,} rows |"
                f" {dt_dd * 1e9:.0f} ns/row | jit is {dt_dd / per:.0f}x faster | |")
    return rows


@njit(cache=True)
def _queue_all(pool, levels, keys, slots, hkey, hslot, meta, ids):
    acc = 0.0
    for i in range(ids.shape[0]):
        acc += K.queue_ahead(pool, levels, keys, slots, hkey, hslot, meta, ids[i])[1]
    return acc


def bench_queue(ev):
    b = L3Book().apply(ev)
    o = b.orders()
    ids = o["order_id"].copy()
    _queue_all(*b.state, ids[:10])
    dt = _best(lambda: _queue_all(*b.state, ids))
    mean_idx = float(o["queue_idx"].mean())
    return [(f"| queue_ahead, Databento ESH4 end-of-file book | {len(ids):,} orders (mean"
             f" {mean_idx:.1f} ahead in queue) | {dt / len(ids) * 1e9:.1f} ns/call | walk from"
             " the head | |")]


def make_flow(n, seed=1):
    """Operations as arrays: op (0 submit, 1 cancel, 2 modify), side, offset, qty, type, tif."""
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    op = np.where(u < 0.75, 0, np.where(u < 0.95, 1, 2)).astype(np.int64)
    kind = rng.random(n)
    otype = np.where((kind > 0.55 / 0.75) & (kind < 0.60 / 0.75), OrderType.MARKET,
                     OrderType.LIMIT).astype(np.int64)
    tif = np.full(n, TimeInForce.GTC, dtype=np.int64)
    tif[(kind >= 0.60 / 0.75) & (kind < 0.70 / 0.75)] = TimeInForce.IOC
    tif[kind >= 0.70 / 0.75] = TimeInForce.GTX
    aggressive = (tif == TimeInForce.IOC)
    side = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int64)
    offset = rng.integers(0, 6, n).astype(np.int64)
    offset[aggressive] = -rng.integers(0, 3, int(aggressive.sum()))
    qty = rng.integers(1, 20, n).astype(np.float64)
    back = rng.integers(0, 300, n).astype(np.int64)
    owner = rng.integers(0, 50, n).astype(np.int64)
    return op, side, offset, qty, otype, tif, back, owner


@njit(cache=True)
def drive(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
          op, side, offset, qty, otype, tif, back, owner):
    """Run the flow through the kernels; return (fills, accepted ops)."""
    n_fills = 0
    ok = 0
    for i in range(op.shape[0]):
        counts[MK.C_FILLS] = 0
        counts[MK.C_EVENTS] = 0
        oid = np.uint64(i + 1)
        if op[i] == 0:
            s = side[i]
            ref_side = 0 if s == 1 else 1
            opp = 1 - ref_side
            ref = MK.best_px(pool, levels, keys, slots, hkey, hslot, meta, ref_side)
            if ref == 0:
                ref = MK.best_px(pool, levels, keys, slots, hkey, hslot, meta, opp)
                ref = ref - s if ref != 0 else np.int64(10_000)
            px = ref - s * offset[i]
            r = MK.submit(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events,
                          counts, oid, s, px, qty[i], otype[i], tif[i], StpPolicy.CANCEL_RESTING,
                          False, owner[i], i)
            st = r[0]
        elif op[i] == 1:
            target = np.uint64(max(1, i - back[i]))
            st = MK.cancel(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events,
                           counts, target, i)[0]
        else:
            target = np.uint64(max(1, i - back[i]))
            st = MK.modify(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events,
                           counts, target, np.int64(10_000 + offset[i]), qty[i],
                           StpPolicy.CANCEL_RESTING, False, i)[0]
        if st == 9:  # CAPACITY: the benchmark sizes everything up front
            return -1, i
        if st == 0:
            ok += 1
        n_fills += counts[MK.C_FILLS] // 2
    return n_fills, ok


def bench_matching(n=1_000_000):
    flow = make_flow(n)

    def fresh():
        eng = MatchingEngine(book=L3Book(order_capacity=1 << 20, level_capacity=1 << 12),
                             fill_capacity=1 << 16, event_capacity=1 << 16)
        return eng

    e = fresh()
    t = time.perf_counter()
    drive(*e.state, *(a[:100] for a in flow))
    first = time.perf_counter() - t
    engines = [fresh() for _ in range(REPEATS)]
    it = iter(engines)
    res = {}

    def run():
        eng = next(it)
        res["r"] = drive(*eng.state, *flow)
        res["eng"] = eng
    dt = _best(run)
    n_fills, ok = res["r"]
    assert n_fills >= 0, res["r"]
    m = 20_000
    sub = tuple(a[:m] for a in flow)
    ep = fresh()
    t = time.perf_counter()
    drive.py_func(*ep.state, *sub)
    dt_py = (time.perf_counter() - t) / m
    api = MatchingEngine()
    op, side, offset, qty, otype, tif, back, owner = sub
    t = time.perf_counter()
    for i in range(m):
        try:
            if op[i] == 0:
                bb = api.best(int(side[i]))
                ref = bb[0] if bb else 10_000
                if otype[i] == OrderType.MARKET:
                    api.submit(int(side[i]), float(qty[i]), order_type=OrderType.MARKET,
                               order_id=i + 1, owner=int(owner[i]), ts=i)
                else:
                    api.submit(int(side[i]), float(qty[i]),
                               px_tick=int(ref - side[i] * offset[i]), tif=int(tif[i]),
                               order_id=i + 1, owner=int(owner[i]), ts=i)
            elif op[i] == 1:
                api.cancel(max(1, i - int(back[i])), ts=i)
            else:
                api.modify(max(1, i - int(back[i])), float(qty[i]), ts=i)
        except OrderRejected:  # rejects (unknown ids, post-only crossing) are part of the mix
            continue
    dt_api = (time.perf_counter() - t) / m
    per = dt / n
    resting = len(res["eng"].book)
    return [
        (f"| matching engine, jitted driver | {n:,} ops ({ok:,} accepted, {n_fills:,} matches,"
         f" {resting:,} resting at the end) | {per * 1e9:.0f} ns/op | {n / dt / 1e6:.2f} M ops/s"
         f" | first call {first:.2f} s |"),
        (f"| driver .py_func (kernels jitted) | first {m:,} ops | {dt_py * 1e9:.0f} ns/op |"
         f" jitted loop {dt_py / per:.0f}x faster | |"),
        (f"| Python MatchingEngine API | first {m:,} ops | {dt_api * 1e9:.0f} ns/op |"
         f" jitted loop {dt_api / per:.0f}x faster | |"),
    ]


def main() -> None:
    print(f"CPU: {platform.processor() or platform.machine()} x{os.cpu_count()}, Python"
          f" {sys.version.split()[0]}, numba {numba.__version__}, numpy {np.__version__}\n")
    print("| measurement | input | time | rate / ratio | notes |")
    print("|---|---|---|---|---|")
    d = shared_data_dir()
    if d is not None:
        md = load_lobster(d / "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
        for r in bench_apply("LOBSTER GOOG L10 day", md.events, False):
            print(r)
    sim = simulate(n_events=1_000_000, seed=7)
    for r in bench_apply("simulate(n_events=1_000_000)", sim.events, True):
        print(r)
    if d is not None:
        db = load_databento(d / "databento-glbx-esh4-mbo-2023-12-25/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
        for r in bench_queue(db.events):
            print(r)
    for r in bench_matching():
        print(r)


if __name__ == "__main__":
    main()
