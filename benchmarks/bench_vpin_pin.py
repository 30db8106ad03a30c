"""Benchmark VPIN, PIN and the microstructure notebook.

Run with ``.venv/bin/python benchmarks/bench_vpin_pin.py [--notebook]``. Prints a
Markdown table: VPIN over the LOBSTER GOOG day (level 10; the tape, then the buckets),
the VPIN kernels jitted vs ``.py_func``, PIN fits (simulated daily counts, the
LOBSTER day's 1-minute counts) and, with ``--notebook``, the papermill wall time of
``notebooks/01_microstructure.ipynb`` on the simulated default, a full simulated
session and LOBSTER level 10 (numba cache warm: each run once before timing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

import qlib.signals as S
from qlib.data.paths import shared_data_dir
from qlib.data.sources import load
from qlib.signals import _vpin_kernels as K
from _common import best_of, cpu_name as _cpu_name  # benchmarks/_common.py

ROOT = Path(__file__).resolve().parents[1]
LOBSTER10 = "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"


def _best_of(fn, repeat=3):
    return best_of(fn, repeat)



def _papermill_seconds(params: dict) -> float:
    import papermill as pm

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.ipynb"
        nb = ROOT / "notebooks" / "01_microstructure.ipynb"
        pm.execute_notebook(str(nb), str(out), parameters=params, progress_bar=False)  # warm
        t0 = time.perf_counter()
        pm.execute_notebook(str(nb), str(out), parameters=params, progress_bar=False)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--notebook", action="store_true", help="also time the notebook (slow)")
    args = ap.parse_args()
    rows: list[tuple[str, str, str]] = []
    shared = shared_data_dir()

    t0 = time.perf_counter()
    sim = load("simulated")
    tape_sim = S.trades(sim)
    S.vpin(tape_sim)
    rows.append(("first vpin call (numba cache load or compile)", f"{time.perf_counter() - t0:.2f} s",
                 "includes simulate(200k) and trades()"))

    if shared is not None and (shared / LOBSTER10).exists():
        data = load("lobster", shared / LOBSTER10)
        tape = S.trades(data)
        t_tape = _best_of(lambda: S.trades(data))
        t_vpin = _best_of(lambda: S.vpin(tape))
        rows.append(("LOBSTER GOOG day L10: trades(data)", f"{t_tape * 1e3:.1f} ms",
                     f"{len(data):,} events -> {len(tape):,} prints"))
        rows.append(("LOBSTER GOOG day L10: vpin(tape), 200 buckets, window 50",
                     f"{t_vpin * 1e3:.1f} ms", "bulk classification"))
        rows.append(("LOBSTER GOOG day L10: trades + vpin", f"{(t_tape + t_vpin) * 1e3:.1f} ms",
                     "target < 1 s"))
        counts = S.pin_counts(tape, "1min")
        t_pin = _best_of(lambda: S.pin(counts))
        r = S.pin(counts)
        rows.append(("PIN fit, LOBSTER GOOG 1-min counts", f"{t_pin * 1e3:.0f} ms",
                     f"{len(counts)} periods, {r.n_starts} starts, PIN {r.pin:.3f}"))

    n = 2_000_000
    rng = np.random.default_rng(0)
    qty = rng.integers(1, 100, n).astype(np.float64)
    px = 100 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], n))
    side = rng.choice(np.array([-1, 1], np.int8), n)
    cap = 10_002

    def fill(fn):
        out = [np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap), np.zeros(cap),
               np.zeros(cap)]
        return fn(qty, px, side, qty.sum() / 10_000, *out)

    t_jit = _best_of(lambda: fill(K.fill_buckets))
    m = 200_000
    qty_s, px_s, side_s = qty[:m], px[:m], side[:m]
    t0 = time.perf_counter()
    K.fill_buckets.py_func(qty_s, px_s, side_s, qty_s.sum() / 1000,
                           np.zeros(1002, np.int64), np.zeros(1002, np.int64), np.zeros(1002),
                           np.zeros(1002), np.zeros(1002))
    t_py = (time.perf_counter() - t0) / m
    per_trade = f"{t_jit / n * 1e9:.1f} / {t_py * 1e9:.0f} ns/trade"
    rows.append(("fill_buckets kernel jitted / .py_func", per_trade,
                 f"ratio {t_py / (t_jit / n):.0f}x"))

    for days in (60, 250):
        c = S.simulate_pin_counts(0.3, 0.5, 80.0, 50.0, 50.0, n=days, seed=1)
        t = _best_of(lambda c=c: S.pin(c))
        rows.append((f"PIN fit, {days} simulated days (rates 50-130/day)", f"{t * 1e3:.0f} ms",
                     "grid of up to 27 starts, SEs included"))
    c = S.simulate_pin_counts(0.3, 0.5, 3000.0, 5000.0, 5000.0, n=250, seed=1)
    rows.append(("PIN fit, 250 days of ~5,000 trades/day", f"{_best_of(lambda: S.pin(c)) * 1e3:.0f} ms",
                 "log-sum-exp: no overflow"))

    if args.notebook:
        rows.append(("notebook: simulated default (200k events)",
                     f"{_papermill_seconds({}):.1f} s", "papermill wall, cache warm"))
        rows.append(("notebook: simulated full session (880k events)",
                     f"{_papermill_seconds({'options': {'n_events': 880_000}}):.1f} s",
                     "the reports/schedule.yml entry"))
        if shared is not None and (shared / LOBSTER10).exists():
            rows.append(("notebook: LOBSTER GOOG level 10",
                         f"{_papermill_seconds({'source': 'lobster', 'path': str(shared / LOBSTER10)}):.1f} s",
                         "papermill wall, cache warm"))

    print(f"CPU: {_cpu_name()} x{len(__import__('os').sched_getaffinity(0))}, Python "
          f"{sys.version.split()[0]}, numba {numba.__version__}, numpy {np.__version__}\n")
    print("| measurement | time | notes |\n|---|---|---|")
    for name, t, note in rows:
        print(f"| {name} | {t} | {note} |")


if __name__ == "__main__":
    main()
