"""Benchmark the windowed L2 book (qlib.book.l2) against a bare loop and the alternatives.

Run: ``.venv/bin/python benchmarks/bench_l2.py`` (the Binance and LOBSTER parts need
../shared/data). Prints Markdown tables, every time the best of ``REPEATS`` warm runs
(JIT compile and cache load excluded by a warm-up call; fresh book per run, its pages
touched before timing):

1. A realistic synthetic ``DEPTH`` stream (10 M events, generated from a consistent
   reference book: updates at a geometric distance from the touch, 45 % removals, the
   touch wandering): the bare baseline (a numba loop that reads the same event array
   and stores each quantity into a fixed 2 x 4096 array of levels, nothing else), the
   L2 apply (``_l2_kernels.apply_events``), the same with the BBO written per event,
   and the ratio bare/L2 (1.0 = as fast as the bare loop).
2. Every real Binance session (all events: snapshot, diffs, trades, bookTickers): the
   same bare loop, the L2 apply for several window widths, the L2 book writing the BBO
   per event (``replay_book``), and the alternatives: the first-version sorted arrays
   (``tests/oracle/sorted_book.py``), a typed-dict book and a dense array over the whole price
   range (both from ``bench_load_binance.py``, writing best bid/ask per event).
3. ``depth_snapshots`` of the LOBSTER GOOG day at levels 1, 5, 10.

Before each table a ``paths`` line counts the events by the path they take in the L2
apply (``path_counts``): DEPTH in the window (and how many at or above the best),
below it (the sorted overflow), above it, TRADE/QUOTE rows, other kinds.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from numba import njit, types
from numba.typed import Dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load_binance import _dense_book, _dict_book, sessions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from oracle import sorted_book as OLD  # the first-version book, kept as the tests' oracle

from qlib.book import _l2_kernels as K
from qlib.book.depth import depth_snapshots
from qlib.book.l2 import DEFAULT_WINDOW, new_l2_book, new_orders
from qlib.data.binance import load_binance
from qlib.data.lobster import load_lobster
from qlib.data.paths import shared_data_dir
from qlib.dtypes import BBO_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind

REPEATS = 7
WINDOWS = (4096, 16384, DEFAULT_WINDOW, 262144)


@njit(cache=True)
def bare_loop(events, lv):
    """The baseline: read each event, store its qty into a fixed array of levels."""
    mask = lv.shape[1] - 1
    for i in range(events.shape[0]):
        ev = events[i]
        s = 0 if ev["side"] == 1 else 1
        lv[s, ev["px_tick"] & mask] = ev["qty"]
    return 0


@njit(cache=True)
def _synth_fill(px_out, side_out, qty_out, seed):
    """Generate DEPTH updates from a consistent dense reference book (never crossed)."""
    np.random.seed(seed)
    r = 1 << 22
    bq = np.zeros(r)
    aq = np.zeros(r)
    mid = r // 2
    bb = mid
    ba = mid + 1
    for d in range(200):
        bq[bb - d] = 1.0 + d % 5
        aq[ba + d] = 1.0 + d % 7
    for i in range(px_out.shape[0]):
        buy = np.random.random() < 0.5
        d = np.random.geometric(0.08) - 1
        if buy:
            px = ba - 1 - d
            px = min(px, bb + 1)  # improve by at most one tick
            old = bq[px]
            q = 0.0 if (old > 0.0 and np.random.random() < 0.45) else float(np.random.randint(1, 500)) * 0.001
            if q == 0.0 and px == bb:
                k = bb - 1
                while bq[k] == 0.0:
                    k -= 1
                if bb - k > 50:  # keep the book dense enough near the touch
                    q = old
                else:
                    bb = k
            if q > 0.0 and px > bb:
                bb = px
            bq[px] = q
        else:
            px = bb + 1 + d
            px = max(px, ba - 1)
            old = aq[px]
            q = 0.0 if (old > 0.0 and np.random.random() < 0.45) else float(np.random.randint(1, 500)) * 0.001
            if q == 0.0 and px == ba:
                k = ba + 1
                while aq[k] == 0.0:
                    k += 1
                if k - ba > 50:
                    q = old
                else:
                    ba = k
            if q > 0.0 and px < ba:
                ba = px
            aq[px] = q
        px_out[i] = px
        side_out[i] = 1 if buy else -1
        qty_out[i] = q


def synthetic(n: int = 10_000_000, seed: int = 1) -> np.ndarray:
    px = np.zeros(n, np.int64)
    side = np.zeros(n, np.int8)
    qty = np.zeros(n)
    _synth_fill(px, side, qty, seed)
    ev = empty_events(n)
    ev["kind"], ev["side"], ev["px_tick"], ev["qty"] = EventKind.DEPTH, side, px + 5_000_000, qty
    ev["flags"] = EventFlag.LAST
    ev["ts_exch"] = np.arange(n)
    return ev


@njit(cache=True)
def path_counts(events, book, orders, out):
    """Count the events of each path of the L2 apply, replaying them one at a time:
    ``out`` = [DEPTH in the window, DEPTH at/above the best (in the window), DEPTH below
    the window (the sorted overflow), DEPTH above the window, TRADE/QUOTE/status rows,
    other kinds (SNAPSHOT, CLEAR, L3)]."""
    w = book.win.shape[1]
    for i in range(events.shape[0]):
        e = events[i]
        kind = e["kind"]
        if kind == EventKind.DEPTH:
            s = 0 if e["side"] == 1 else 1
            key = e["px_tick"] if s == 0 else -e["px_tick"]
            off = key - book.hdr[s, K.H_LO]
            if off >= 0 and off < w:
                out[0] += 1
                if key >= book.hdr[s, K.H_BEST]:
                    out[1] += 1
            elif off < 0:
                out[2] += 1
            else:
                out[3] += 1
        elif kind == EventKind.TRADE or kind == EventKind.QUOTE or kind >= EventKind.HALT:
            out[4] += 1
        else:
            out[5] += 1
        K.apply_event(book, orders, e)


def paths(ev, window=DEFAULT_WINDOW) -> str:
    out = np.zeros(6, np.int64)
    path_counts(ev, new_l2_book(window, capacity=1 << 20), new_orders(), out)
    n = len(ev)
    names = ("DEPTH in window", "of which at/above best", "DEPTH below window (overflow)",
             "DEPTH above window", "TRADE/QUOTE", "other kinds")
    return f"paths (W={window}): " + ", ".join(
        f"{a} {c:,} ({100 * c / n:.1f} %)" for a, c in zip(names, out))


def best_of(fn, setup=lambda: (), repeats: int = REPEATS) -> float:
    fn(*setup())
    times = []
    for _ in range(repeats):
        args = setup()
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return min(times)


def _book(window: int):
    b = new_l2_book(window, capacity=max(1 << 16, 4 * window))
    b.win[:] = 0.0  # touch the pages: page faults are not the kernel's cost
    b.ovf_key[:] = 0
    b.ovf_qty[:] = 0.0
    return b


def _l2_apply(ev, window):
    def run(b, o):
        st, _ = K.apply_events(ev, 0, b, o)
        assert st == 0
    return best_of(run, lambda: (_book(window), new_orders()))


def _l2_bbo(ev, window):
    out = np.zeros(len(ev), dtype=BBO_DTYPE)
    rows = np.zeros(0, np.int64)
    px, qty = np.zeros((0, 2, 1), np.int64), np.zeros((0, 2, 1))

    def run(b, o):
        st, _, _ = K.replay(ev, 0, len(ev), b, o, out, rows, 0, px, qty)
        assert st == 0
    return best_of(run, lambda: (_book(window), new_orders()))


def _old_sorted(ev):
    out = np.zeros(len(ev), dtype=BBO_DTYPE)

    def setup():
        return (np.zeros((2, 1 << 15), np.int64), np.zeros((2, 1 << 15)), np.zeros(2, np.int64),
                new_orders(), np.zeros(OLD.N_STATS, np.int64))

    def run(keys, qtys, counts, orders, stats):
        st, _ = OLD.replay_bbo(ev, 0, keys, qtys, counts, orders, stats, out)
        assert st == 0
    return best_of(run, setup)


def _row(name, t, n, bare_t, memo=""):
    return (f"| {name} | {t * 1e3:.1f} ms | {t / n * 1e9:.1f} | {n / t / 1e6:.0f} |"
            f" {bare_t / t:.2f} | {memo} |")


def main() -> None:
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f
                    if line.startswith("model name")), platform.processor())
    print(f"CPU: {cpu} x {os.cpu_count()}; Python {platform.python_version()},"
          f" numba {numba.__version__}, numpy {np.__version__}, pandas {pd.__version__}\n")
    head = ("| kernel | time | ns/event | M events/s | bare/this (>= 0.6 wanted) | notes |\n"
            "|---|---|---|---|---|---|")
    lv = np.zeros((2, 4096))

    ev = synthetic()
    print(f"### Synthetic DEPTH stream near the touch: {len(ev):,} events\n\n{paths(ev)}\n\n{head}")
    bare_t = best_of(lambda: bare_loop(ev, lv))
    print(_row("bare loop (read event, store qty in a fixed 2x4096 array)", bare_t, len(ev), bare_t))
    for w in WINDOWS:
        t = _l2_apply(ev, w)
        print(_row(f"L2 apply, W={w}", t, len(ev), bare_t,
                   "default" if w == DEFAULT_WINDOW else ""))
    t = _l2_bbo(ev, DEFAULT_WINDOW)
    print(_row(f"L2 apply + BBO record per event, W={DEFAULT_WINDOW}", t, len(ev), bare_t))
    del ev

    root = shared_data_dir()
    if root is None:
        print("\n(shared data absent: real-data tables skipped)")
        return
    for files in sessions(root):
        md = load_binance(files)
        ev = md.events
        n = len(ev)
        name = f"{files[0].parent.name}/" + "+".join(f.name for f in files)
        print(f"\n### {name}: {n:,} events (snapshot, diffs, trades, bookTickers)\n\n{paths(ev)}"
              f"\n\n{head}")
        bare_t = best_of(lambda ev=ev: bare_loop(ev, lv))
        print(_row("bare loop", bare_t, n, bare_t))
        for w in WINDOWS:
            t = _l2_apply(ev, w)
            print(_row(f"L2 apply, W={w}", t, n, bare_t, "default" if w == DEFAULT_WINDOW else ""))
        t = _l2_bbo(ev, DEFAULT_WINDOW)
        print(_row(f"L2 + BBO record per event, W={DEFAULT_WINDOW}", t, n, bare_t))
        t = _old_sorted(ev)
        print(_row("first-version sorted arrays + BBO (tests/oracle/sorted_book.py)", t, n, bare_t))
        out = np.zeros((n, 2), dtype=np.int64)
        t = best_of(lambda ev=ev, out=out: _dict_book(
            ev, Dict.empty(types.int64, types.float64), Dict.empty(types.int64, types.float64), out))
        print(_row("typed dict + best tracking + best/ask per event", t, n, bare_t))
        bk = ev["px_tick"][np.isin(ev["kind"], [EventKind.DEPTH, EventKind.SNAPSHOT])]
        lo, span = int(bk.min()), int(bk.max() - bk.min() + 1)
        t = best_of(lambda ev=ev, lo=lo, span=span, out=out: _dense_book(
            ev, lo, np.zeros(span), np.zeros(span), out))
        print(_row("dense array over the whole range + best/ask per event", t, n, bare_t,
                   f"{2 * span * 8 / 1e6:.0f} MB for {span:,} ticks"))

    print("\n### depth_snapshots on the LOBSTER GOOG day (rows at every LAST book event)\n")
    print("| levels | rows | time (best of 7) |\n|---|---|---|")
    for lev in (1, 5, 10):
        md = load_lobster(root / "lobster-goog-2012-06-21"
                          / f"LOBSTER_SampleFile_GOOG_2012-06-21_{lev}.zip")
        rows = len(depth_snapshots(md, levels=lev))
        t = best_of(lambda md=md, lev=lev: depth_snapshots(md, levels=lev))
        print(f"| {lev} | {rows:,} ({len(md.events):,} events) | {t * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
