"""Benchmark the simulated market: run with ``.venv/bin/python benchmarks/bench_simulate.py``.

Prints a Markdown table: compile time (first call in a fresh process, or the load
from numba's on-disk cache), ``simulate(n_events=1_000_000)`` warm (best of 3),
the event kernel jitted vs its pure-Python ``.py_func`` per model event, and
``fit_params`` on the LOBSTER GOOG day when ../shared/data is present, and the
simulation and kernel with the GOOG-fitted (spread- and queue-reactive) parameters.

Last run (AMD EPYC x2, Python 3.11.7, numba 0.68.1, numpy 2.4.6):

| measurement | time | notes |
|---|---|---|
| compile: first simulate + fit_params, empty numba cache | 5.19 s | fresh process |
| first call with numba's on-disk cache warm | 0.22 s | import + cache load |
| simulate(n_events=1,000,000) warm, best of 3 | 0.176 s | 1,102,721 rows; 176 ns/event |
| simulate_events kernel, jitted | 141 ns/event | n=1,000,000 |
| simulate_events.py_func (pure Python loop) | 39660 ns/event | n=20,000; 281x |
| fit_params(LOBSTER GOOG 2012-06-21, max_depth=60) | 0.171 s | 156,219 events |
| simulate(n_events=1,000,000, GOOG-fitted params) warm | 0.390 s | 1,081,074 rows; D=60 |
| simulate_events kernel, GOOG-fitted, jitted / .py_func | 353 / 59341 ns/event | 168x |
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

from qlib.data import _sim_kernels as K
from qlib.data.paths import shared_data_dir
from _common import best_of as _best_of, cpu_name as _cpu_name  # benchmarks/_common.py




def _cold_compile_seconds() -> float:
    """First simulate() + fit_params() call in a fresh process with an empty numba cache."""
    code = (
        "import time; t=time.perf_counter();"
        "from qlib.data.simulate import simulate; from qlib.data.calibrate import fit_params;"
        "fit_params(simulate(n_events=3000, seed=1, warmup_events=10), max_depth=5);"
        "print(time.perf_counter()-t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        res = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True)
    return float(res.stdout.strip().splitlines()[-1])


def _kernel_seconds(kernel, n_events: int, params=None) -> float:
    from qlib.data.simulate import SimParams, _Book
    from qlib.dtypes import empty_events

    book = _Book(SimParams() if params is None else params, 1)
    book.st[K._ST_NEXT_ID] = 1
    K.init_book(book.st, book.rng, book.q_id, book.q_qty, book.q_n, book.lam, book.theta_init,
                book.lim[0], book.lim[1], 100_000)
    out = empty_events(3 * n_events + 4096)
    with np.errstate(over="ignore"):
        t0 = time.perf_counter()
        book.run(out, 0, n_events, (2e4, 0.5), kernel=kernel)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-events", type=int, default=1_000_000)
    ap.add_argument("--py-events", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from qlib.data.simulate import simulate

    simulate(n_events=10, seed=1, warmup_events=10)  # compiles, or loads the cache
    first_call = time.perf_counter() - t0

    rows: list[tuple[str, str, str]] = []
    rows.append(("compile: first simulate + fit_params, empty numba cache",
                 f"{_cold_compile_seconds():.2f} s", "fresh process, NUMBA_CACHE_DIR empty"))
    rows.append(("first call with numba's on-disk cache warm", f"{first_call:.2f} s",
                 "import + cache load"))
    warm = _best_of(lambda: simulate(n_events=args.n_events, seed=7), args.repeat)
    n_rows = len(simulate(n_events=args.n_events, seed=7))
    rows.append((f"simulate(n_events={args.n_events:,}) warm, best of {args.repeat}",
                 f"{warm:.3f} s",
                 f"{n_rows:,} rows; {warm / args.n_events * 1e9:.0f} ns/model event"))

    jit = _kernel_seconds(K.simulate_events, args.n_events) / args.n_events
    py = _kernel_seconds(K.simulate_events.py_func, args.py_events) / args.py_events
    rows.append(("simulate_events kernel, jitted", f"{jit * 1e9:.0f} ns/event",
                 f"n={args.n_events:,}"))
    rows.append(("simulate_events.py_func (pure Python loop)", f"{py * 1e9:.0f} ns/event",
                 f"n={args.py_events:,}; helpers stay jitted; ratio {py / jit:.0f}x"))

    data = shared_data_dir()
    if data is not None:
        from qlib.data.calibrate import fit_params
        from qlib.data.lobster import load_lobster

        path = data / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
        day = load_lobster(path)
        params = fit_params(day, max_depth=60)  # compile / cache load
        fit = _best_of(lambda: fit_params(day, max_depth=60), args.repeat)
        rows.append((f"fit_params(LOBSTER GOOG 2012-06-21, max_depth=60), best of {args.repeat}",
                     f"{fit:.3f} s", f"{len(day):,} events; every extension fitted"))
        run = lambda: simulate(n_events=args.n_events, seed=7, params=params,
                               start_price=580.0)
        warm = _best_of(run, args.repeat)
        n_rows = len(run())
        label = (f"simulate(n_events={args.n_events:,}, GOOG-fitted reactive params) warm,"
                 f" best of {args.repeat}")
        note = f"{n_rows:,} rows; {warm / args.n_events * 1e9:.0f} ns/model event; D=60, H=120"
        rows.append((label, f"{warm:.3f} s", note))
        jit = _kernel_seconds(K.simulate_events, args.n_events, params) / args.n_events
        py = _kernel_seconds(K.simulate_events.py_func, args.py_events, params) / args.py_events
        rows.append(("simulate_events kernel, GOOG-fitted params, jitted / .py_func",
                     f"{jit * 1e9:.0f} / {py * 1e9:.0f} ns/event", f"ratio {py / jit:.0f}x"))
    else:
        rows.append(("fit_params on LOBSTER GOOG", "skipped", "../shared/data absent"))

    print(f"CPU: {_cpu_name()} x{os.cpu_count()},"
          f" Python {platform.python_version()}, numba {numba.__version__},"
          f" numpy {np.__version__}\n")
    print("| measurement | time | notes |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
