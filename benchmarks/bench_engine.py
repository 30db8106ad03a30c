"""The engine alone: JIT compile time (numba cache cold and warm) and peak memory.

``.venv/bin/python benchmarks/bench_engine.py [--events 1e7]``

Each measurement runs in its own process so that nothing else is resident:

* **compile**: the package's numba cache files deleted (``qlib/**/__pycache__/*.nbi``,
  ``*.nbc``: cold, every kernel compiled), then a new process (warm: loaded from disk);
  the time of the first
  ``backtest()`` call minus the time of the second one in the same process, for the
  built-in touch strategy on L2 data, on L3 data, and for a custom ``@njit`` kernel
  (since issue 11 the kernel is an argument of the one cached custom loop: warm, only the
  small kernel itself is compiled);
* **memory**: a first process writes the synthetic L2 stream of ``--events`` events to
  a ``.npy`` file; a second one loads it, runs a small backtest (so everything is
  imported and compiled), resets its high-water mark (``/proc/self/clear_refs``) and
  runs one touch-quoting backtest on all of it (decisions every 100 ms): ``VmHWM``
  over the run against the event array's size, and the growth over the RSS before it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import cpu_name

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import gc, json, sys, time
sys.path.insert(0, {parity!r})
import numpy as np
from numba import njit
mode, n = sys.argv[1], int(float(sys.argv[2]))

def status_kib(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1])
    return 0

from qlib.engine import ConstantLatency, backtest
from qlib.instrument import Instrument
from qlib.strategy import CustomStrategy, TouchMM

@njit
def hold(view, params, state, out):
    return -1

lat = ConstantLatency(1_000_000, 1_000_000)
if mode == "write":
    import _hbt
    ev, inst = _hbt.synthetic_l2_stream(n, seed=7)
    np.save(sys.argv[3], ev)
    print(json.dumps({{"rows": int(len(ev))}}))
elif mode == "memory":
    ev = np.load(sys.argv[3])
    inst = Instrument("SIM.QLIB", tick_size=0.01)  # the synthetic stream's instrument
    small = ev[:20_000].copy()
    backtest(small, TouchMM(order_qty=100, max_position=1000), instrument=inst, latency=lat)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    rss0 = status_kib("VmRSS:")
    res = backtest(ev, TouchMM(order_qty=100, max_position=1000), instrument=inst, latency=lat)
    peak = status_kib("VmHWM:")
    print(json.dumps({{"event_mib": ev.nbytes / 2**20, "rss_before_mib": rss0 / 1024,
                      "peak_mib": peak / 1024, "fills": int(len(res.fills_array)),
                      "records": int(len(res.equity_array))}}))
else:
    import _hbt
    from qlib.data import simulate
    md = simulate(n_events=20_000, seed=3)
    l2, inst = _hbt.synthetic_l2_stream(20_000, seed=3)
    out = {{}}
    for name, data, strat in (
        ("touch_l2", l2, TouchMM(order_qty=100, max_position=1000)),
        ("touch_l3", md.events, TouchMM(order_qty=100, max_position=1000)),
        ("custom_l2", l2, CustomStrategy(hold)),
    ):
        t0 = time.perf_counter()
        backtest(data, strat, instrument=inst if name != "touch_l3" else md.instrument, latency=lat)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        backtest(data, strat, instrument=inst if name != "touch_l3" else md.instrument, latency=lat)
        second = time.perf_counter() - t0
        out[name] = first - second
    print(json.dumps(out))
"""


def _child(mode: str, n: float, env: dict[str, str], path: str = "") -> dict:
    code = _CHILD.format(parity=str(ROOT / "tests" / "parity"))
    r = subprocess.run([sys.executable, "-c", code, mode, str(n), path], env=env,
                       capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", default="1e7", help="events of the memory run")
    args = ap.parse_args()
    print(f"CPU: {cpu_name()}")
    for f in list((ROOT / "qlib").rglob("__pycache__/*.nb[ic]")):
        f.unlink()
    env = dict(os.environ)
    cold = _child("compile", 0, env)
    warm = _child("compile", 0, env)
    print("| workload | compile, cold cache s | compile, warm cache s |")
    print("|---|---|---|")
    for k in cold:
        print(f"| {k} | {cold[k]:.1f} | {warm[k]:.2f} |")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "events.npy")
        _child("write", float(args.events), env, path)
        m = _child("memory", float(args.events), env, path)
    print(f"memory, {float(args.events):,.0f} events: event array {m['event_mib']:,.0f} MiB, "
          f"RSS before the run {m['rss_before_mib']:,.0f} MiB, peak during it "
          f"{m['peak_mib']:,.0f} MiB = {m['peak_mib'] / m['event_mib']:.2f}x the event array; "
          f"growth during the run {m['peak_mib'] - m['rss_before_mib']:,.0f} MiB = "
          f"{(m['peak_mib'] - m['rss_before_mib']) / m['event_mib']:.2f}x "
          f"(fills {m['fills']:,}, records {m['records']:,})")


if __name__ == "__main__":
    main()
