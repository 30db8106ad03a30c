"""Benchmark the backtest engine against hftbacktest: ``.venv/bin/python benchmarks/bench_engine_hbt.py``.

Workloads, on the same synthetic L2 stream (``synthetic_l2_stream``: the simulated market
of :func:`qlib.data.simulate` converted by :func:`qlib.book.to_l2`, cut to exactly
``n`` events) for ``n`` in 1e6 and 1e7:

* **touch**: a quoting strategy that every 100 ms cancels its orders not at the touch and
  re-quotes one GTX order of 100 at the best bid and one at the best ask (position limit
  1000; constant order latency 1 ms entry + 1 ms response; risk-averse queue model;
  no-partial-fill exchange);
* **replay**: the same backtest with no orders (feed replay only).

hftbacktest runs ``ROIVectorMarketDepthBacktest`` (its fastest depth) through the runner in
``tests/parity/_hbt.py`` (put on ``sys.path`` below). Times are the jitted loop only, best
of ``--repeat`` runs, after a warm-up run on a small stream (numba compilation of the
strategy loop is reported separately); the build of the backtest (copying the event array
into the Rust reader) is reported apart. Peak RSS is the process's ``VmHWM`` during the
run, reset before it through ``/proc/self/clear_refs`` (Linux), so it includes the event
arrays already resident.

Our engine's columns come from :func:`our_engine_timing` (the hook the engine author keeps
in step with the API: it returns ``None``, printed "n/a", when ``qlib.engine`` is absent).
Its time is the whole ``backtest()`` call (validation, loop, result), best of ``--repeat``.

Last run (AMD EPYC x2, Python 3.11.7, numba 0.68.1, numpy 2.4.6, hftbacktest 2.4.4;
``--sizes 1e6,1e7 --repeat 3``; 1e7 rows are best of 1; machine shared with other jobs):

| events | workload | hftbacktest events/s | peak RSS MiB | ours events/s | ours / hftbacktest |
|---|---|---|---|---|---|
| 1,000,000 | touch | 6,005,717 | 514 | 1,142,797 | 0.19x |
| 1,000,000 | replay | 21,653,038 | 573 | 1,502,536 | 0.07x |
| 10,000,000 | touch | 5,924,570 | 1,752 | 1,101,617 | 0.19x |
| 10,000,000 | replay | 21,103,431 | 1,763 | 1,297,954 | 0.06x |

(touch, 1e7: hftbacktest 207,576 whole-order fills, ours 282,665 partial fills; the fill
models differ, see ``tests/parity/test_engine_hftbacktest.py``.)
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np
from _common import cpu_name as _cpu_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "parity"))
import _hbt

INTERVAL_NS = 100_000_000
LATENCY_NS = 1_000_000
ORDER_QTY = 100.0
MAX_POSITION = 1000.0


# ----------------------------------------------------------------------------- hooks
def our_engine_timing(l2_events: np.ndarray, instrument: Any, *, mode: str,
                      repeat: int) -> dict[str, Any] | None:
    """HOOK (engine author): time :func:`qlib.engine.backtest` on the same workload.

    Returns ``None`` when the engine is not importable, else a dict with ``wall_s`` (best
    of ``repeat`` whole ``backtest()`` calls: validation, the jitted loop and building the
    result; compilation excluded by a warm-up call), ``n_fills`` and ``position``.
    ``mode`` is ``"touch"`` (:class:`qlib.strategy.TouchMM` of ``ORDER_QTY`` with
    ``MAX_POSITION``, decisions every ``INTERVAL_NS``, ``ConstantLatency(LATENCY_NS,
    LATENCY_NS)``, ``RiskAdverseQueue()``) or ``"replay"`` (a custom kernel that never
    quotes). Engine author: adjust the call here if the API changes.
    """
    try:
        from qlib.engine import ConstantLatency, RiskAdverseQueue, backtest
        from qlib.strategy import CustomStrategy, TouchMM
    except ImportError:
        return None
    if mode == "touch":
        strategy = TouchMM(order_qty=ORDER_QTY, max_position=MAX_POSITION)
    else:
        strategy = CustomStrategy(_no_orders, name="no orders")

    def run(ev: np.ndarray) -> Any:
        return backtest(ev, strategy, instrument=instrument,
                        latency=ConstantLatency(LATENCY_NS, LATENCY_NS),
                        queue=RiskAdverseQueue(), decision_interval=INTERVAL_NS, seed=0,
                        partial_fills=False)

    run(l2_events[:20_000])  # compile
    best, best_loop, res, peak = float("inf"), float("inf"), None, 0.0
    for _ in range(repeat):
        gc.collect()
        _reset_peak_rss()
        t0 = time.perf_counter()
        res = run(l2_events)
        best = min(best, time.perf_counter() - t0)
        best_loop = min(best_loop, res.timings["loop_s"])
        peak = max(peak, _peak_rss_mib())
    st = res.stats()
    return {"wall_s": best, "loop_s": best_loop, "n_fills": int(st["fills"]),
            "position": float(st["final_position"]), "traded_qty": float(st["traded_qty"]),
            "peak_rss_mib": peak}


@numba.njit
def _no_orders(view, params, state, out):
    """Strategy kernel that never quotes (the "replay with no orders" workload)."""
    return 0


# ----------------------------------------------------------------------------- helpers
def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_hbt(h: np.ndarray, inst: Any, mode: str) -> dict[str, Any]:
    if mode == "touch":
        return _hbt.run_hbt_touch(h, tick_size=inst.tick_size, lot_size=inst.lot_size,
                                  entry_latency_ns=LATENCY_NS, response_latency_ns=LATENCY_NS,
                                  queue="risk_adverse", order_qty=ORDER_QTY,
                                  max_position=MAX_POSITION, interval_ns=INTERVAL_NS,
                                  depth="roi")
    return _hbt.run_hbt_replay(h, tick_size=inst.tick_size, lot_size=inst.lot_size,
                               interval_ns=INTERVAL_NS, depth="roi")


def _time_hbt(h: np.ndarray, inst: Any, mode: str, repeat: int) -> dict[str, Any]:
    best: dict[str, Any] | None = None
    peak = 0.0
    for _ in range(repeat):
        gc.collect()
        _reset_peak_rss()
        r = _run_hbt(h, inst, mode)
        peak = max(peak, _peak_rss_mib())
        if best is None or r["wall_s"] < best["wall_s"]:
            best = r
    assert best is not None
    best["peak_rss_mib"] = peak
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1e6,1e7", help="comma-separated event counts")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best of)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    sizes = [int(float(x)) for x in args.sizes.split(",")]

    # warm-up: compile the strategy loops (and the converters) on a small stream
    t0 = time.perf_counter()
    l2, inst = _hbt.synthetic_l2_stream(20_000, seed=args.seed)
    h = _hbt.to_hbt_events(l2, inst.tick_size, inst.lot_size)
    _run_hbt(h, inst, "touch")
    _run_hbt(h, inst, "replay")
    compile_s = time.perf_counter() - t0

    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        l2, inst = _hbt.synthetic_l2_stream(n, seed=args.seed)
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        h = _hbt.to_hbt_events(l2, inst.tick_size, inst.lot_size)
        conv_s = time.perf_counter() - t0
        rep = 1 if n >= 5_000_000 else args.repeat
        for mode in ("touch", "replay"):
            r = _time_hbt(h, inst, mode, rep)
            ours = our_engine_timing(l2, inst, mode=mode, repeat=rep)
            rows.append((n, mode, r, ours, gen_s, conv_s, h.shape[0], rep))
        del l2, h
        gc.collect()

    import hftbacktest
    print(f"CPU: {_cpu_name()} ({platform.machine()}), python {sys.version.split()[0]},"
          f" numba {numba.__version__}, numpy {np.__version__},"
          f" hftbacktest {hftbacktest.__version__}")
    print(f"warm-up incl. numba compilation of both loops: {compile_s:.2f} s")
    print("| events | workload | hftbacktest loop s | hftbacktest events/s | hbt peak RSS MiB |"
          " fills / submitted / cancelled | ours loop s | ours whole call s | ours events/s (loop) |"
          " ours / hftbacktest (loop) | ours / hftbacktest (whole call) | ours peak RSS MiB | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, mode, r, ours, gen_s, conv_s, n_rows, rep in rows:
        fills = (f"{r['n_fills']:,} / {r['n_submitted']:,} / {r['n_cancelled']:,}"
                 if mode == "touch" else "-")
        if ours is not None and mode == "touch":
            fills += f" (ours: {ours['n_fills']:,} fills, position {ours['position']:+,.0f})"
        if ours is None:
            o_s = o_w = o_eps = o_rss = ratio = ratio_w = "n/a"
        else:
            o_s = f"{ours['loop_s']:.3f}"
            o_w = f"{ours['wall_s']:.3f}"
            o_eps = f"{n / ours['loop_s']:,.0f}"
            o_rss = f"{ours['peak_rss_mib']:,.0f}"
            ratio = f"{r['wall_s'] / ours['loop_s']:.2f}x"
            ratio_w = f"{r['wall_s'] / ours['wall_s']:.2f}x"
        notes = (f"best of {rep}; {n_rows:,} hbt rows; build {r['build_s']:.2f} s;"
                 f" stream gen {gen_s:.1f} s + to_hbt {conv_s:.1f} s;"
                 f" event array {n * 56 / 2**20:,.0f} MiB")
        print(f"| {n:,} | {mode} | {r['wall_s']:.3f} | {n / r['wall_s']:,.0f} |"
              f" {r['peak_rss_mib']:,.0f} | {fills} | {o_s} | {o_w} | {o_eps} | {ratio} |"
              f" {ratio_w} | {o_rss} | {notes} |")

if __name__ == "__main__":
    main()
