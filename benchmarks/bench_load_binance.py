"""Benchmark load_binance on the largest Binance session, and the book replay structure.

Run: ``.venv/bin/python benchmarks/bench_load_binance.py`` (needs ../shared/data).

Prints Markdown tables:

1. ``load_binance``: first call (JIT compile or cache load included), then warm best
   of 3, against a naive baseline (stdlib ``json`` per line, one Python dict per
   event, ``pandas.DataFrame`` at the end; no sequencing, no validation) and the
   ratio; peak traced memory (tracemalloc) against the event array's size.
2. Book replay: ``qlib.book.replay_book`` (sorted arrays per side) against two
   alternatives kept here only for the measurement: a typed-dict book tracking the
   best level with a rescan when it empties, and a dense tick-indexed array over the
   whole observed price range.
"""

from __future__ import annotations

import gzip
import json
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from numba import njit, types
from numba.typed import Dict

from qlib.book import replay_book
from qlib.data.binance import load_binance
from qlib.data.paths import shared_data_dir
from qlib.enums import EventKind


def largest_session(root: Path) -> list[Path]:
    """The session (a snapshot file and its continuations) with the most bytes."""
    sessions: list[list[Path]] = []
    for d in sorted(root.glob("binance-*")):
        for f in sorted(d.glob("*.gz")):
            with gzip.open(f, "rb") as fh:
                head = fh.read(1 << 20)
            if b'{"lastUpdateId"' in head or not sessions or sessions[-1][0].parent != d:
                sessions.append([f])
            else:
                sessions[-1].append(f)
    return max(sessions, key=lambda s: sum(f.stat().st_size for f in s))


def naive_load(files: list[Path]) -> pd.DataFrame:
    rows = []
    for f in files:
        with gzip.open(f, "rt") as fh:
            for line in fh:
                ts, body = line.split(" ", 1)
                msg = json.loads(body)
                if "lastUpdateId" in msg:
                    for side, key in ((1, "bids"), (-1, "asks")):
                        for px, qty in msg[key]:
                            rows.append({"ts_local": int(ts), "kind": "snapshot", "side": side,
                                         "price": float(px), "qty": float(qty)})
                    continue
                d = msg["data"]
                ch = msg["stream"].split("@", 1)[1]
                if ch.startswith("depth"):
                    for side, key in ((1, "b"), (-1, "a")):
                        for px, qty in d[key]:
                            rows.append({"ts_local": int(ts), "ts_exch": d["E"], "kind": "depth",
                                         "side": side, "price": float(px), "qty": float(qty),
                                         "seq": d["u"]})
                elif ch == "trade":
                    rows.append({"ts_local": int(ts), "ts_exch": d["T"], "kind": "trade",
                                 "side": -1 if d["m"] else 1, "price": float(d["p"]),
                                 "qty": float(d["q"]), "seq": d["t"]})
                else:
                    for side, pk, qk in ((1, "b", "B"), (-1, "a", "A")):
                        rows.append({"ts_local": int(ts), "ts_exch": d.get("E"), "kind": "quote",
                                     "side": side, "price": float(d[pk]), "qty": float(d[qk]),
                                     "seq": d["u"]})
    return pd.DataFrame(rows)


@njit(cache=True)
def _dict_book(ev, bids, asks, out):
    bb = np.int64(-(1 << 62))
    ba = np.int64(1 << 62)
    for i in range(ev.shape[0]):
        k, s, px, q = ev[i]["kind"], ev[i]["side"], ev[i]["px_tick"], ev[i]["qty"]
        if k == EventKind.CLEAR:
            bids.clear()
            asks.clear()
            bb, ba = np.int64(-(1 << 62)), np.int64(1 << 62)
        elif k == EventKind.DEPTH or k == EventKind.SNAPSHOT:
            book = bids if s == 1 else asks
            if q > 0:
                book[px] = q
                if s == 1 and px > bb:
                    bb = px
                if s == -1 and px < ba:
                    ba = px
            elif px in book:
                book.pop(px)
                if s == 1 and px == bb:
                    bb = -(1 << 62)
                    for p in bids.keys():
                        bb = max(bb, p)
                if s == -1 and px == ba:
                    ba = 1 << 62
                    for p in asks.keys():
                        ba = min(ba, p)
        out[i, 0], out[i, 1] = bb, ba


@njit(cache=True)
def _dense_book(ev, lo, bq, aq, out):
    n = bq.shape[0]
    bb, ba = -1, n
    for i in range(ev.shape[0]):
        k, s, j, q = ev[i]["kind"], ev[i]["side"], ev[i]["px_tick"] - lo, ev[i]["qty"]
        if k == EventKind.CLEAR:
            bq[:] = 0.0
            aq[:] = 0.0
            bb, ba = -1, n
        elif k == EventKind.DEPTH or k == EventKind.SNAPSHOT:
            if s == 1:
                bq[j] = q
                if q > 0 and j > bb:
                    bb = j
                while bb >= 0 and bq[bb] == 0.0:
                    bb -= 1
            else:
                aq[j] = q
                if q > 0 and j < ba:
                    ba = j
                while ba < n and aq[ba] == 0.0:
                    ba += 1
        out[i, 0], out[i, 1] = bb + lo, ba + lo


def best_of(fn, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    root = shared_data_dir()
    if root is None:
        sys.exit("shared data is absent: set QLIB_SHARED_DATA")
    files = largest_session(root)
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"CPU: {platform.processor() or platform.machine()}, Python {platform.python_version()},"
          f" numba {numba.__version__}, numpy {np.__version__}, pandas {pd.__version__}\n")
    print(f"Session: {', '.join(f'{f.parent.name}/{f.name}' for f in files)} ({mb:.2f} MB gzip)\n")

    t = time.perf_counter()
    md = load_binance(files)
    first = time.perf_counter() - t
    warm = best_of(lambda: load_binance(files))
    naive = best_of(lambda: naive_load(files))
    n_naive = len(naive_load(files))
    tracemalloc.start()
    md = load_binance(files)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    ev_mb = md.events.nbytes / 1e6
    print("| measure | value |\n|---|---|")
    print(f"| events | {len(md.events):,} ({ev_mb:.1f} MB, {md.events.itemsize} B each) |")
    print(f"| load_binance first call (JIT compile / cache load incl.) | {first:.3f} s |")
    print(f"| load_binance warm, best of 3 | {warm:.3f} s ({len(md.events) / warm / 1e6:.2f} M events/s) |")
    print(f"| naive json + dict rows + pandas, best of 3 ({n_naive:,} rows) | {naive:.3f} s |")
    print(f"| speed-up over naive | {naive / warm:.1f}x |")
    print(f"| peak traced memory of load_binance | {peak / 1e6:.1f} MB ({peak / 1e6 / ev_mb:.1f}x the event array) |")

    ev = md.events
    out = np.zeros((len(ev), 2), dtype=np.int64)
    rows = []
    replay_book(ev)
    t_sorted = best_of(lambda: replay_book(ev))
    rows.append(("sorted arrays per side (qlib.book)", t_sorted, "levels x 16 B"))
    mk = lambda: (Dict.empty(types.int64, types.float64), Dict.empty(types.int64, types.float64))  # noqa: E731
    _dict_book(ev, *mk(), out)
    t_dict = best_of(lambda: _dict_book(ev, *mk(), out))
    rows.append(("typed dict + best tracking, rescan when best empties", t_dict, "levels x ~40 B"))
    book_px = ev["px_tick"][np.isin(ev["kind"], [EventKind.DEPTH, EventKind.SNAPSHOT])]
    lo, hi = int(book_px.min()), int(book_px.max())
    span = hi - lo + 1
    mkd = lambda: (np.zeros(span), np.zeros(span))  # noqa: E731
    _dense_book(ev, lo, *mkd(), out)
    t_dense = best_of(lambda: _dense_book(ev, lo, *mkd(), out))
    rows.append(("dense array over the whole price range", t_dense, f"{2 * span * 8 / 1e6:.0f} MB ({span:,} ticks)"))
    print(f"\nBook replay over the same {len(ev):,} events (warm, best of 3; the qlib kernel also"
          " writes the 7-field BBO record and handles L3 kinds):\n")
    print("| structure | time | ns/event | memory |\n|---|---|---|---|")
    for name, tm, memo in rows:
        print(f"| {name} | {tm * 1e3:.1f} ms | {tm / len(ev) * 1e9:.0f} | {memo} |")


if __name__ == "__main__":
    main()
