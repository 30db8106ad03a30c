"""Benchmark qlib.risk performance/VaR metrics against empyrical-reloaded on 1e6 returns.

Run with ``.venv/bin/python benchmarks/bench_metrics.py``. Both sides get the same
float64 ndarray of 1,000,000 returns (Student-t, 3 dof). Each call is timed warm (one
call first, so JIT compilation / numba cache loading is excluded; JIT time is reported
apart), best of ``REPEATS`` with the qlib and empyrical calls interleaved (so each qlib
call starts with the caches as empyrical left them); the ratio is empyrical / qlib in
the same run. Prints a markdown table. The issue's goal is a ratio of at least 5x. The
second table times qlib alone (warm caches), including the expected-shortfall kernel
without its wrapper and the wrapper on a ``pd.Series``: the wrapper's overhead.
"""

from __future__ import annotations

import importlib
import platform
import time

import numba
import numpy as np

REPEATS = 11
N = 1_000_000


def best_of(fn, repeats: int = REPEATS) -> float:
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def best_of_pair(fa, fb, repeats: int = REPEATS) -> tuple[float, float]:
    """Best-of timings of two calls, interleaved so that machine load hits both alike."""
    fa(), fb()
    ta, tb = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        fa()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        fb()
        tb.append(time.perf_counter() - t)
    return min(ta), min(tb)


def main() -> None:
    import empyrical as ep
    import pandas as pd

    from qlib.risk import _metrics_kernels as _k

    t0 = time.perf_counter()
    q = importlib.import_module("qlib.risk")
    x = np.random.default_rng(0).standard_t(3, N) * 0.001
    xs = pd.Series(x)
    small = x[:10]
    for f in (lambda r: q.sharpe_ratio(r, periods_per_year=252), q.max_drawdown, q.tail_ratio):
        f(small)
    t_first = time.perf_counter() - t0

    P = 98_280.0  # 1-minute equity bars
    cases = [
        ("sharpe_ratio", lambda: q.sharpe_ratio(x, 1e-6, periods_per_year=P),
         lambda: ep.sharpe_ratio(x, 1e-6, annualization=P)),
        ("sortino_ratio", lambda: q.sortino_ratio(x, 1e-6, periods_per_year=P),
         lambda: ep.sortino_ratio(x, 1e-6, annualization=P)),
        ("downside_risk", lambda: q.downside_risk(x, periods_per_year=P),
         lambda: ep.downside_risk(x, annualization=P)),
        ("max_drawdown", lambda: q.max_drawdown(x), lambda: ep.max_drawdown(x)),
        ("annual_return", lambda: q.annual_return(x, periods_per_year=P),
         lambda: ep.annual_return(x, annualization=P)),
        ("calmar_ratio", lambda: q.calmar_ratio(x, periods_per_year=P),
         lambda: ep.calmar_ratio(x, annualization=P)),
        ("omega_ratio", lambda: q.omega_ratio(x, 0.0, 0.05, periods_per_year=P),
         lambda: ep.omega_ratio(x, 0.0, 0.05, annualization=P)),
        ("tail_ratio", lambda: q.tail_ratio(x), lambda: ep.tail_ratio(x)),
        ("value_at_risk (historical, 99%)", lambda: q.value_at_risk(x, 0.99),
         lambda: ep.value_at_risk(x, 0.01)),
        ("expected_shortfall (historical, 99%)", lambda: q.expected_shortfall(x, 0.99),
         lambda: ep.conditional_value_at_risk(x, 0.01)),
    ]
    print(f"CPU: {platform.processor() or platform.machine()}; Python {platform.python_version()}, "
          f"numpy {np.__version__}, numba {numba.__version__}, empyrical {ep.__version__}")
    print(f"\nimport + first calls (JIT / cache load): {t_first:.2f} s\n")
    print(f"| metric (n = {N:,}) | qlib | empyrical | speed-up |")
    print("|---|---|---|---|")
    for name, fq, fe in cases:
        a, b = fq(), fe()
        assert np.isclose(a, -b if name.startswith(("value_at", "expected_sh")) else b, rtol=1e-9), name
        tq, te = best_of_pair(fq, fe)
        print(f"| {name} | {tq * 1e3:.2f} ms | {te * 1e3:.2f} ms | {te / tq:.1f}x |")
    other = [("var_estimate normal", lambda: q.var_estimate(x, 0.99, method="normal")),
             ("var_estimate cornish_fisher", lambda: q.var_estimate(x, 0.99, method="cornish_fisher")),
             ("var_estimate monte_carlo (1e5 paths, h=10)",
              lambda: q.var_estimate(x, 0.99, method="monte_carlo", horizon=10)),
             ("var_estimate fhs_ewma (h=1)", lambda: q.var_estimate(x, 0.99, method="fhs_ewma")),
             ("var_estimate fhs_garch (h=1, 1e5 returns)",
              lambda: q.var_estimate(x[:100_000], 0.99, method="fhs_garch")),
             ("backtest_var", lambda: q.backtest_var(x, 0.005, 0.99)),
             # the wrapper's overhead: the ES kernel alone, then the wrapper on a Series
             ("expected_shortfall kernel alone (`lower_tail_stats`, 99%)",
              lambda: _k.lower_tail_stats(x, int((N - 1) * 0.01))),
             ("expected_shortfall (historical, 99%), wrapper, ndarray",
              lambda: q.expected_shortfall(x, 0.99)),
             ("expected_shortfall (historical, 99%), wrapper, pd.Series",
              lambda: q.expected_shortfall(xs, 0.99))]
    print("\n| qlib only (n = 1,000,000 unless stated) | time |\n|---|---|")
    for name, f in other:
        reps = 11 if name.startswith("expected_shortfall") else 3
        print(f"| {name} | {best_of(f, reps) * 1e3:.2f} ms |")


if __name__ == "__main__":
    main()
