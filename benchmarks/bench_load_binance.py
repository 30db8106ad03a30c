"""Benchmark load_binance on every Binance session, and the book replay structure.

Run: ``.venv/bin/python benchmarks/bench_load_binance.py`` (needs ../shared/data).

Prints Markdown tables:

1. ``load_binance`` per session (a file with a REST snapshot and its continuations):
   JIT compile time (first minus second call on a tiny synthetic session in a fresh
   process with an empty numba cache), warm time (best of 3 after one warm-up call),
   a naive baseline (stdlib ``json`` per line, one Python dict per event,
   ``pandas.DataFrame`` at the end; no sequencing, no validation) best of 3 and the
   ratio; peak memory of one load against the event array's size, measured two
   ways, each in a fresh subprocess after a warm-up load of a tiny synthetic session
   (numba cache load and first-call setup outside the window): the Linux RSS
   high-water mark (``VmHWM`` after resetting it through ``/proc/self/clear_refs``)
   minus the RSS before the load, and, in a separate process so its bookkeeping is
   not in the RSS figure, tracemalloc's peak (numpy and Python allocations; numba's
   own allocations inside kernels are not traced, the RSS figure has them).
2. Book replay on the largest session: ``qlib.book.replay_book`` (sorted arrays per
   side) against two alternatives kept here only for the measurement: a typed-dict
   book tracking the best level with a rescan when it empties, and a dense
   tick-indexed array over the whole observed price range.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
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

REPEATS = 3


def sessions(root: Path) -> list[list[Path]]:
    """Every session: a file holding a REST snapshot and the files continuing it."""
    out: list[list[Path]] = []
    for d in sorted(root.glob("binance-*")):
        for f in sorted(d.glob("*.gz")):
            with gzip.open(f, "rb") as fh:
                head = fh.read(1 << 20)
            if b'{"lastUpdateId"' in head or not out or out[-1][0].parent != d:
                out.append([f])
            else:
                out[-1].append(f)
    return out


#: A tiny spot and a tiny USD-M session: warm-up loads that touch every code path.
_WARM_SPOT = b"""\
1723161253937085768 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":90,"u":99,"b":[["100.00","1.0"]],"a":[]}}
1723161253937085769 {"lastUpdateId":100,"bids":[["100.00","1.0"]],"asks":[["100.05","1.0"]]}
1723161253937085770 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255209,"s":"BTCUSDT","U":100,"u":103,"b":[["100.01","2.0"]],"a":[]}}
1723161253937085771 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255210,"s":"BTCUSDT","t":1,"p":"100.01","q":"0.5","T":1723161255210,"m":true,"M":true}}
1723161253937085772 {"stream":"btcusdt@bookTicker","data":{"u":104,"s":"BTCUSDT","b":"100.01","B":"2.0","a":"100.05","A":"1.0"}}
"""
_WARM_USDM = b"""\
1723161253937085768 {"lastUpdateId":100,"E":1723161255200,"T":1723161255200,"bids":[["100.00","1.000"]],"asks":[["100.10","1.000"]]}
1723161253937085769 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161255208,"T":1723161255208,"s":"BTCUSDT","U":95,"u":103,"pu":94,"b":[["100.00","2.000"]],"a":[]}}
1723161253937085770 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255210,"T":1723161255210,"s":"BTCUSDT","t":1,"p":"100.10","q":"0.500","X":"MARKET","m":false}}
1723161253937085771 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":104,"s":"BTCUSDT","b":"100.00","B":"2.000","a":"100.10","A":"1.000","T":1723161255211,"E":1723161255211}}
"""


def write_warmup(tmp: Path) -> list[Path]:
    """Write the two warm-up sessions into ``tmp``; return their paths."""
    (tmp / "spot").mkdir()
    (tmp / "usdm").mkdir()
    a, b = tmp / "spot" / "btcusdt_20240808.gz", tmp / "usdm" / "btcusdt_20240808.gz"
    a.write_bytes(gzip.compress(_WARM_SPOT))
    b.write_bytes(gzip.compress(_WARM_USDM))
    return [a, b]


_PEAK_CHILD = r"""
import json, sys, tracemalloc
from qlib.data.binance import load_binance
how, files, warm = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
for w in warm:
    load_binance(w)  # numba cache load and first-call setup outside the measured window
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
if how == "rss":
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    rss0 = status("VmRSS:")
    md = load_binance(files)
    peak = status("VmHWM:") - rss0
else:
    tracemalloc.start()
    md = load_binance(files)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
print(json.dumps({"peak": peak, "event_bytes": md.events.nbytes, "events": len(md)}))
"""


def peak_memory(how: str, files: list[Path], warm: list[Path]) -> dict:
    """Peak memory of one load in a fresh process: ``how`` is ``"rss"`` or ``"tracemalloc"``."""
    out = subprocess.run([sys.executable, "-c", _PEAK_CHILD, how, ",".join(map(str, files)),
                          ",".join(map(str, warm))], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


_COMPILE_CHILD = r"""
import sys, time
from qlib.data.binance import load_binance
t = time.perf_counter(); [load_binance(w) for w in sys.argv[1:]]; first = time.perf_counter() - t
t = time.perf_counter(); [load_binance(w) for w in sys.argv[1:]]; second = time.perf_counter() - t
print(first, second)
"""


def compile_time(warm: list[Path]) -> float:
    """First-call minus second-call time of the warm-up loads with an empty numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run([sys.executable, "-c", _COMPILE_CHILD, *map(str, warm)],
                             capture_output=True, text=True, check=True, env=env)
    first, second = map(float, out.stdout.split())
    return first - second


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


def best_of(fn, n=REPEATS):
    fn()  # warm-up: JIT cache load, OS file cache
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
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f
                    if line.startswith("model name")), platform.processor())
    print(f"CPU: {cpu} x {os.cpu_count()}; Python {platform.python_version()},"
          f" numba {numba.__version__}, numpy {np.__version__}, pandas {pd.__version__}\n")
    all_sessions = sessions(root)
    with tempfile.TemporaryDirectory() as tmp:
        warm = write_warmup(Path(tmp))
        print(f"load_binance JIT compile (first minus second call, empty numba cache):"
              f" {compile_time(warm):.2f} s\n")
        print("| session | MB gzip | events (MB) | warm, best of 3 | M events/s | naive, best of 3"
              " | speed-up | peak RSS increase (VmHWM) | tracemalloc peak |")
        print("|---|---|---|---|---|---|---|---|---|")
        for files in all_sessions:
            name = f"{files[0].parent.name}/" + "+".join(f.name for f in files)
            mb = sum(f.stat().st_size for f in files) / 1e6
            md = load_binance(files)
            warm_t = best_of(lambda f=files: load_binance(f))
            naive_t = best_of(lambda f=files: naive_load(f))
            rss = peak_memory("rss", files, warm)
            tm = peak_memory("tracemalloc", files, warm)
            ev_mb = md.events.nbytes / 1e6
            print(f"| {name} | {mb:.2f} | {len(md.events):,} ({ev_mb:.1f}) | {warm_t:.3f} s"
                  f" | {len(md.events) / warm_t / 1e6:.2f} | {naive_t:.3f} s | {naive_t / warm_t:.1f}x"
                  f" | {rss['peak'] / 1e6:.1f} MB = {rss['peak'] / md.events.nbytes:.2f}x"
                  f" | {tm['peak'] / 1e6:.1f} MB = {tm['peak'] / md.events.nbytes:.2f}x |")

    files = max(all_sessions, key=lambda s: sum(f.stat().st_size for f in s))
    md = load_binance(files)
    ev = md.events
    out = np.zeros((len(ev), 2), dtype=np.int64)
    rows = []
    replay_book(ev)
    t_sorted = best_of(lambda: replay_book(ev))
    rows.append(("qlib.book L2 (dense window + sorted overflow)", t_sorted, "2 x 65,536 x 8 B window + levels x 16 B"))
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
    print(f"\nBook replay over the {len(ev):,} events of {files[0].parent.name} (warm, best of 3; the qlib kernel also"
          " writes the 7-field BBO record and handles L3 kinds):\n")
    print("| structure | time | ns/event | memory |\n|---|---|---|---|")
    for name, tm, memo in rows:
        print(f"| {name} | {tm * 1e3:.1f} ms | {tm / len(ev) * 1e9:.0f} | {memo} |")


if __name__ == "__main__":
    main()
