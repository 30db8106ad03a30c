"""Benchmark every qlib.signals metric over a full LOBSTER day (GOOG 2012-06-21, level 10).

Run with ``.venv/bin/python benchmarks/bench_signals.py``. Inputs (``qlib.book.bbo``,
``depth_snapshots(levels=10)``, ``qlib.signals.trades``) are built once and timed
separately; each signal is then timed warm (best of 3 after one warm-up call, so JIT
compilation or cache loading is excluded). The baseline column is the same computation
by the kernel's ``.py_func`` (pure Python) or by a straightforward pandas
implementation; the ratio is baseline / qlib. Prints a markdown table.
"""

from __future__ import annotations

import platform
import sys
import time

import numba
import numpy as np
import pandas as pd

import qlib.signals as s
from qlib.book import bbo
from qlib.book.depth import depth_snapshots
from qlib.data import load
from qlib.data.paths import shared_data_dir
from qlib.signals import _kernels as _k

REPEATS = 3


def best_of(fn, repeats: int = REPEATS) -> float:
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    d = shared_data_dir()
    if d is None:
        sys.exit("shared data (../shared/data or $QLIB_SHARED_DATA) not found")
    md = load("lobster", d / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    t0 = time.perf_counter(); q = bbo(md); t_bbo = time.perf_counter() - t0
    t0 = time.perf_counter(); ds = depth_snapshots(md, levels=10); t_ds = time.perf_counter() - t0
    t0 = time.perf_counter(); tr = s.trades(md); t_tr = time.perf_counter() - t0
    ta = s.trades(md, aggregate=True)
    bp, bq, ap, aq = (q[c].to_numpy() for c in ("bid_px", "bid_qty", "ask_px", "ask_qty"))
    e = np.empty(len(q))
    lp = np.log((bp + ap) / 2)
    px = tr.price.to_numpy()
    sign = np.zeros(len(px), np.int8)
    mid_tr = np.full(len(px), px.mean())

    def pd_mid():
        return (q.bid_px + q.ask_px) / 2

    def pd_micro():
        i = q.bid_qty / (q.bid_qty + q.ask_qty)
        return i * q.ask_px + (1 - i) * q.bid_px

    def pd_eff():
        qq = q.assign(mid=(q.bid_px + q.ask_px) / 2).reset_index()[["row", "mid"]]
        m = pd.merge_asof(tr.assign(r=tr.row - 1).sort_values("r"), qq, left_on="r",
                          right_on="row", direction="backward")
        return 2 * m.side * (m.price - m.mid)

    def pd_flow():
        return (tr.side * tr.qty).groupby(tr.ts_exch.dt.floor("1min")).sum()

    def pd_vol_profile():
        return tr.qty.groupby(tr.ts_exch.dt.tz_convert("America/New_York").dt.floor("30min")).sum()

    def pd_imb():
        b = ds[[f"bid_qty_{i}" for i in range(1, 11)]].cumsum(axis=1).to_numpy()
        a = ds[[f"ask_qty_{i}" for i in range(1, 11)]].cumsum(axis=1).to_numpy()
        return (b - a) / (b + a)

    rows = [
        ("mid", lambda: s.mid(q), pd_mid, "pandas"),
        ("microprice", lambda: s.microprice(q), pd_micro, "pandas"),
        ("depth_weighted_mid (5 lv)", lambda: s.depth_weighted_mid(ds, 5), None, ""),
        ("book_imbalance (1..10)", lambda: s.book_imbalance(ds, range(1, 11)), pd_imb, "pandas"),
        ("quoted_spread", lambda: s.quoted_spread(q), None, ""),
        ("effective_spread", lambda: s.effective_spread(tr, q), pd_eff, "pandas merge_asof"),
        ("realized_spread (5s)", lambda: s.realized_spread(tr, q, "5s"), None, ""),
        ("price_impact (5s)", lambda: s.price_impact(tr, q, "5s"), None, ""),
        ("roll_spread", lambda: s.roll_spread(ta),
         lambda: _k.first_order_autocov.py_func(np.diff(ta.price.to_numpy())), ".py_func"),
        ("tick_rule", lambda: s.tick_rule(tr), lambda: _k.tick_rule.py_func(px, sign), ".py_func"),
        ("lee_ready", lambda: s.lee_ready(tr, q),
         lambda: _k.lee_ready.py_func(px, mid_tr, sign, sign), ".py_func (kernel only)"),
        ("bulk_volume (1min)", lambda: s.bulk_volume(tr, "1min", empty="drop"), None, ""),
        ("signed_flow (1min)", lambda: s.signed_flow(tr, "1min"), pd_flow, "pandas groupby"),
        ("ofi (per update)", lambda: s.ofi(q), lambda: _k.ofi_events.py_func(bp, bq, ap, aq, e),
         ".py_func"),
        ("ofi (10s)", lambda: s.ofi(q, "10s"), None, ""),
        ("multilevel_ofi (10 lv, 10s)", lambda: s.multilevel_ofi(ds, 10, "10s"), None, ""),
        ("ofi_regression (10s, HAC)", lambda: s.ofi_regression(q, "10s"), None, ""),
        ("kyle_lambda (1min, HAC)", lambda: s.kyle_lambda(tr, q, "1min", empty="drop"), None, ""),
        ("kyle_lambda_profile (30min)",
         lambda: s.kyle_lambda_profile(tr, q, "1min", "30min", empty="drop"), None, ""),
        ("realized_volatility (5min)", lambda: s.realized_volatility(q, "5min"), None, ""),
        ("two_scale_rv (every tick)", lambda: s.two_scale_rv(q),
         lambda: (_k.lagged_sq_sum.py_func(lp, 1), _k.lagged_sq_sum.py_func(lp, 2748)), ".py_func"),
        ("intraday_profile volume", lambda: s.intraday_profile(tr, "volume", tz="America/New_York"),
         pd_vol_profile, "pandas groupby"),
        ("intraday_profile spread", lambda: s.intraday_profile(q, "spread", tz="America/New_York"),
         None, ""),
        ("intraday_profile volatility",
         lambda: s.intraday_profile(q, "volatility", tz="America/New_York"), None, ""),
    ]
    print(f"LOBSTER GOOG 2012-06-21 level 10: {len(md):,} events, {len(q):,} bbo rows, "
          f"{len(tr):,} trades. Inputs: bbo {t_bbo:.2f} s, depth_snapshots(10) {t_ds:.2f} s, "
          f"trades {t_tr:.3f} s (not counted below).")
    print(f"CPU: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"numpy {np.__version__}, numba {numba.__version__}, pandas {pd.__version__}\n")
    print("| signal | first call (s) | warm (s) | baseline (s) | baseline | ratio |")
    print("|---|---:|---:|---:|---|---:|")
    for name, fn, base, how in rows:
        first = once(fn)
        warm = best_of(fn)
        if base is not None:
            b = once(base) if how.startswith(".py_func") else best_of(base)
            print(f"| {name} | {first:.3f} | {warm:.4f} | {b:.4f} | {how} | {b / warm:.1f}x |")
        else:
            print(f"| {name} | {first:.3f} | {warm:.4f} | | | |")


if __name__ == "__main__":
    main()
