"""Time to a first result, each case in a fresh process after the numba caches are warm.

``.venv/bin/python benchmarks/bench_first_result.py [--no-warm] [--repeat 3]``

Issue 11 ("First result in seconds") sets three goals, measured here:

* **(a) built-in**: a new process imports qlib, simulates the default market
  (:func:`qlib.data.simulate`, 200 000 events) and backtests the built-in ``TouchMM`` on
  it (goal <= 3 s);
* **(b) notebook strategy**: a new process defines a strategy with
  :func:`qlib.strategy.strategy` in ``__main__`` (as a notebook cell does) and backtests it
  on the same market (goal <= 5 s);
* **(c) edited strategy**: in that same process, a new definition with edited source (a
  new function object, so numba compiles it again) is backtested (goal <= 3 s).

Each figure is the wall time of the step, measured inside the child with
``time.perf_counter``; "process" is the child's whole run, interpreter start included. The
caches are warmed first with ``python -m qlib.warm`` (what ``make`` runs; it backtests a
custom strategy on L3 and L2 data too, so the custom-strategy loops are cached), unless
``--no-warm``. Each child also counts numba's compilations (``numba:compile`` events,
which numba raises only when no cached machine code was found): after the warm-up, case
(a) must compile nothing, and (b) and (c) only the user's kernel. The best of
``--repeat`` fresh processes is reported (the machine is shared: see the load average
printed with the table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import cpu_name

ROOT = Path(__file__).resolve().parents[1]

#: Starts the child's clock, then counts numba compilations (cache misses) from there on
#: (numba itself is imported after ``t0``, with qlib).
_COUNT_COMPILES = r"""
import json, time
t0 = time.perf_counter()
from numba.core import event as _ev

_compiles = []


class _CompileCounter(_ev.Listener):
    def on_start(self, event):
        fn = getattr(event.data["dispatcher"], "py_func", None)
        _compiles.append(getattr(fn, "__qualname__", "?"))

    def on_end(self, event):
        pass


_ev.register("numba:compile", _CompileCounter())
"""

_BUILTIN = _COUNT_COMPILES + r"""
from qlib.data import simulate
from qlib.engine import backtest
from qlib.strategy import TouchMM
t1 = time.perf_counter()
md = simulate(seed=7)
t2 = time.perf_counter()
res = backtest(md, TouchMM(order_qty=1, max_position=10))
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "simulate_s": t2 - t1, "backtest_s": t3 - t2,
                  "first_result_s": t3 - t0, "fills": int(res.counters["fills"]),
                  "compiled": _compiles}))
"""

_NOTEBOOK = _COUNT_COMPILES + r"""
from qlib.data import simulate
from qlib.engine import backtest
from qlib.strategy import strategy, market_ok, lots, quote, cancel_all, Side
t1 = time.perf_counter()
md = simulate(seed=7)
t2 = time.perf_counter()

@strategy(params={"half_spread": 1.0, "skew": 0.5, "qty": 1.0, "max_position": 10.0})
def skewed(view, p, state, out):
    if not market_ok(view):
        return cancel_all(out)
    v = view[0]
    qty = lots(p.qty, v["lot_size"])
    fair = v["mid_tick"] - p.skew * v["position"] / p.qty
    n = 0
    if v["position"] + qty <= p.max_position:
        n = quote(out, n, Side.BUY, fair - p.half_spread, qty)
    if v["position"] - qty >= -p.max_position:
        n = quote(out, n, Side.SELL, fair + p.half_spread, qty)
    return n

res = backtest(md, skewed)
t3 = time.perf_counter()
compiled_first = list(_compiles)

# the cell edited and run again: a new definition (new source, new function object)
@strategy(params={"half_spread": 1.0, "skew": 1.0, "qty": 1.0, "max_position": 5.0})
def skewed(view, p, state, out):
    if not market_ok(view):
        return cancel_all(out)
    v = view[0]
    qty = lots(p.qty, v["lot_size"])
    fair = v["mid_tick"] - p.skew * v["position"] / p.qty
    n = 0
    if v["position"] + qty <= p.max_position:
        n = quote(out, n, Side.BUY, fair - p.half_spread - 1.0, qty)
    if v["position"] - qty >= -p.max_position:
        n = quote(out, n, Side.SELL, fair + p.half_spread + 1.0, qty)
    return n

res2 = backtest(md, skewed)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "simulate_s": t2 - t1, "define_and_backtest_s": t3 - t2,
                  "first_result_s": t3 - t0, "edit_rerun_s": t4 - t3,
                  "fills": int(res.counters["fills"]), "fills_edited": int(res2.counters["fills"]),
                  "compiled": compiled_first, "compiled_edit": _compiles[len(compiled_first):]}))
"""


def _child(code: str) -> dict:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    d = json.loads(out.stdout.strip().splitlines()[-1])
    d["process_s"] = wall
    return d


def _names(compiled: list[str]) -> str:
    """``0``, or how many compilations and of which functions (``2: skewed, skewed``)."""
    return f"{len(compiled)}: {', '.join(compiled)}" if compiled else "0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-warm", action="store_true", help="do not run python -m qlib.warm")
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per case")
    args = ap.parse_args()
    if not args.no_warm:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qlib.warm"], cwd=ROOT, check=True)
        print(f"python -m qlib.warm: {time.perf_counter() - t:.1f} s")
    a = [_child(_BUILTIN) for _ in range(args.repeat)]
    b = [_child(_NOTEBOOK) for _ in range(args.repeat)]
    best_a = min(a, key=lambda d: d["first_result_s"])
    best_b1 = min(b, key=lambda d: d["first_result_s"])
    best_b2 = min(b, key=lambda d: d["edit_rerun_s"])
    load = os.getloadavg()
    print(f"CPU: {cpu_name()}, python {sys.version.split()[0]}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared machine)")
    print("| case | goal s | first result s (in process) | of which import / simulate / "
          "strategy + backtest s | process wall s | fills | numba compilations |")
    print("|---|---|---|---|---|---|---|")
    print(f"| (a) built-in TouchMM, simulated market | 3 | {best_a['first_result_s']:.2f} | "
          f"{best_a['import_s']:.2f} / {best_a['simulate_s']:.2f} / {best_a['backtest_s']:.2f}"
          f" | {best_a['process_s']:.2f} | {best_a['fills']} | {_names(best_a['compiled'])} |")
    print(f"| (b) @strategy in __main__, first backtest | 5 | {best_b1['first_result_s']:.2f} | "
          f"{best_b1['import_s']:.2f} / {best_b1['simulate_s']:.2f} / "
          f"{best_b1['define_and_backtest_s']:.2f} | {best_b1['process_s']:.2f} | "
          f"{best_b1['fills']} | {_names(best_b1['compiled'])} |")
    print(f"| (c) same cell edited, re-run | 3 | {best_b2['edit_rerun_s']:.2f} | - / - / "
          f"{best_b2['edit_rerun_s']:.2f} | - | {best_b2['fills_edited']} | "
          f"{_names(best_b2['compiled_edit'])} |")
    print(f"best of {args.repeat} fresh processes each; all runs: "
          f"(a) {[round(d['first_result_s'], 2) for d in a]}, "
          f"(b) {[round(d['first_result_s'], 2) for d in b]}, "
          f"(c) {[round(d['edit_rerun_s'], 2) for d in b]}")


if __name__ == "__main__":
    main()
