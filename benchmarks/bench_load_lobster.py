"""Benchmark the LOBSTER and Databento loaders against a naive pandas baseline.

Run with ``.venv/bin/python benchmarks/bench_load_lobster.py``. Prints a markdown
table of: JIT compile time (a subprocess with an empty numba cache), warm load time
(best of 5 after one warm-up call; LOBSTER with ``resync`` on, the default, and off),
a naive baseline (``pandas.read_csv`` of both
LOBSTER files, all columns, then a Python loop building one event row per message),
and the peak memory of one load measured in a fresh subprocess (Linux ``VmHWM`` after
resetting it through ``/proc/self/clear_refs``, plus tracemalloc's and pyarrow's
pool peaks) beside the size of the resulting event array, again with ``resync`` on
and off (the resync pass converts every orderbook column and adds the corrections).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pyarrow as pa

from qlib.data.databento import load_databento
from qlib.data.lobster import load_lobster
from qlib.data.paths import shared_data_dir
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind

REPEATS = 5


def _paths() -> tuple[Path, Path]:
    d = shared_data_dir()
    if d is None:
        sys.exit("shared data (../shared/data or $QLIB_SHARED_DATA) not found")
    return (d / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip",
            d / "databento-glbx-esh4-mbo-2023-12-25" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst")


def best_of(fn, repeats: int = REPEATS) -> float:
    fn()  # warm-up: JIT compile or cache load, OS file cache
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


_KIND = {1: int(EventKind.ADD), 2: int(EventKind.CANCEL), 3: int(EventKind.DELETE),
         4: int(EventKind.EXECUTE), 5: int(EventKind.TRADE), 6: int(EventKind.TRADE)}


def naive_lobster(zip_path: Path) -> np.ndarray:
    """Baseline: pandas.read_csv of both files (all columns) + a Python loop over rows."""
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        msg_name = next(n for n in names if "_message_" in n)
        ob_name = next(n for n in names if "_orderbook_" in n)
        msg = pd.read_csv(zf.open(msg_name), header=None,
                          names=["time", "type", "order_id", "size", "price", "direction"])
        ob = pd.read_csv(zf.open(ob_name), header=None)
    crossed = int((ob[2] > ob[0]).sum())  # level-1 bid > ask
    midnight = int(pd.Timestamp("2012-06-21", tz="America/New_York").tz_convert("UTC").value)
    rows = []
    for t, typ, oid, size, price, d in msg.itertuples(index=False):
        ts = midnight + round(t * 1e9)  # float seconds: not exact to the ns
        kind = _KIND.get(typ, int(EventKind.HALT))
        side = -d if typ == 5 else d
        flags = int(EventFlag.LAST | EventFlag.TS_LOCAL_SYNTH)
        rows.append((ts, ts, len(rows), price // 100, float(size), oid, kind, side, flags))
    out = empty_events(len(rows))
    out[:] = rows
    assert crossed == 0
    return out


_PEAK_CHILD = r"""
import json, sys, tracemalloc
import pyarrow as pa
from qlib.data.lobster import load_lobster
from qlib.data.databento import load_databento
which, path, warm = sys.argv[1], sys.argv[2], sys.argv[3]
kw = {"resync": sys.argv[4] == "1"} if which == "lobster" else {}
load = (lambda p: load_lobster(p, **kw)) if which == "lobster" else load_databento
load(warm)  # import, numba cache load, first-call setup outside the measured window
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
from qlib.data import lobster as _lobster
pool = _lobster._POOL  # the loader parses with the system pool (the default pool stays idle)
pool_before = pool.max_memory()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current RSS
rss0 = status("VmRSS:")
tracemalloc.start()
md = load(path)
_, tm_peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"rss_peak_delta": status("VmHWM:") - rss0, "tracemalloc_peak": tm_peak,
                  "arrow_pool_max": pool.max_memory(), "arrow_pool_max_before": pool_before,
                  "event_bytes": md.events.nbytes, "events": len(md)}))
"""


def peak_memory(which: str, path: Path, warm: Path, resync: bool = True) -> dict:
    out = subprocess.run([sys.executable, "-c", _PEAK_CHILD, which, str(path), str(warm),
                          "1" if resync else "0"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


_COMPILE_CHILD = r"""
import sys, time
t0 = time.perf_counter()
from qlib.data.lobster import load_lobster
from qlib.data.databento import load_databento
t1 = time.perf_counter()
load = load_lobster if sys.argv[1] == "lobster" else load_databento
t = time.perf_counter(); load(sys.argv[2]); first = time.perf_counter() - t
t = time.perf_counter(); load(sys.argv[2]); second = time.perf_counter() - t
print(first, second, t1 - t0)
"""


def compile_time(which: str, path: Path) -> tuple[float, float]:
    """First-call minus second-call time with an empty numba cache, and the import time."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run([sys.executable, "-c", _COMPILE_CHILD, which, str(path)],
                             capture_output=True, text=True, check=True, env=env)
    first, second, imp = map(float, out.stdout.split())
    return first - second, imp


def _warm_lobster_file(tmp: Path) -> Path:
    """A 2-message LOBSTER pair, to warm up the loader in the peak-memory child."""
    (tmp / "W_2012-06-21_34200000_57600000_message_1.csv").write_text(
        "34200,1,1,10,1000000,1\n34201,3,1,10,1000000,1\n")
    (tmp / "W_2012-06-21_34200000_57600000_orderbook_1.csv").write_text(
        "1010000,5,1000000,10\n1010000,5,990000,20\n")
    return tmp / "W_2012-06-21_34200000_57600000_message_1.csv"


def main() -> None:
    lob, dbn_path = _paths()
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f
                    if line.startswith("model name")), platform.processor())
    print(f"CPU: {cpu} x {os.cpu_count()}; Python {platform.python_version()}, numpy"
          f" {np.__version__}, numba {numba.__version__}, pandas {pd.__version__},"
          f" pyarrow {pa.__version__}\n")

    lob_compile, lob_import = compile_time("lobster", lob)
    dbn_compile, _ = compile_time("databento", dbn_path)
    t_lob = best_of(lambda: load_lobster(lob))
    t_lob_off = best_of(lambda: load_lobster(lob, resync=False))
    t_naive = best_of(lambda: naive_lobster(lob), repeats=2)
    t_dbn = best_of(lambda: load_databento(dbn_path))
    md = load_lobster(lob)
    with tempfile.TemporaryDirectory() as tmp:
        warm = _warm_lobster_file(Path(tmp))
        mem_lob = peak_memory("lobster", lob, warm)
        mem_lob_off = peak_memory("lobster", lob, warm, resync=False)
    mem_dbn = peak_memory("databento", dbn_path, dbn_path)

    mb = 1e6
    print("| what | figure |")
    print("|---|---|")
    corr = md.provenance["resync_corrections"]
    print(f"| load_lobster GOOG L10 ({md.report.rows_read:,} messages, {len(md):,} events incl."
          f" {corr['visible_level_corrected'] + corr['stale_level_removed']:,} RESYNC"
          f" corrections), resync on, warm, best of {REPEATS} | {t_lob * 1e3:.1f} ms |")
    print(f"| load_lobster GOOG L10, resync=False (messages only), warm, best of {REPEATS}"
          f" | {t_lob_off * 1e3:.1f} ms |")
    print(f"| naive baseline: pandas.read_csv of both CSVs (all 46 columns) + Python row loop,"
          f" best of 2 | {t_naive * 1e3:.1f} ms |")
    print(f"| speed-up vs naive | {t_naive / t_lob:.1f}x |")
    print(f"| load_lobster JIT compile (first call, empty numba cache, minus warm call)"
          f" | {lob_compile:.2f} s |")
    print(f"| import of qlib.data.lobster + databento (cold process) | {lob_import:.2f} s |")
    for name, m in (("load_lobster L10", mem_lob), ("load_lobster L10 resync=False", mem_lob_off),
                    ("load_databento", mem_dbn)):
        print(f"| {name}: event array | {m['event_bytes'] / mb:.2f} MB ({m['events']:,}"
              f" events) |")
        print(f"| {name}: peak RSS increase while loading (VmHWM) | "
              f"{m['rss_peak_delta'] / mb:.2f} MB = {m['rss_peak_delta'] / m['event_bytes']:.2f}x"
              f" the event array |")
        print(f"| {name}: tracemalloc peak (numpy + Python) | {m['tracemalloc_peak'] / mb:.2f} MB"
              f" = {m['tracemalloc_peak'] / m['event_bytes']:.2f}x |")
        if name.startswith("load_lobster"):
            print(f"| {name}: pyarrow system-pool high-water (process) |"
                  f" {m['arrow_pool_max'] / mb:.2f} MB |")
    print(f"| load_databento ESH4 (68,792 records), warm, best of {REPEATS} | {t_dbn * 1e3:.1f} ms |")
    print(f"| load_databento JIT compile (first call, empty numba cache, minus warm call)"
          f" | {dbn_compile:.2f} s |")


if __name__ == "__main__":
    main()
