"""Warm numba's on-disk caches: ``python -m qlib.warm`` (run by the set-up command).

Every hot path of qlib is an ``@njit(cache=True)`` kernel. The first process that calls
one compiles it (seconds to minutes for the backtest loop) and writes the machine code
to ``__pycache__``; later processes load it. Without a warm-up, the first notebook, the
first report and every dask worker of the first sweep pay that compile. This module
calls each group of kernels the notebooks use once, through the public API, on a tiny
simulated market, so that the caches are filled by ``make`` instead:

========== ==============================================================================
group      what runs
========== ==============================================================================
simulate   ``qlib.data.simulate`` (the order-level simulator) and ``qlib.book.to_l2``
book       ``qlib.book.bbo`` and ``depth_snapshots`` (book replay; the L2 replay runs in
           the backtest group)
signals    trades, OFI regression, Kyle's lambda, VPIN, realised volatility, mark-outs,
           trade clustering (notebook 01; PIN is a scipy fit with no numba kernel, left out)
risk       returns, VaR by method, rolling VaR and its backtest, metrics, greeks ladder,
           stress test, pre-trade check latency sample (notebook 03)
backtest   ``qlib.engine.backtest`` of the built-in strategies notebook 02 runs, with each
           queue model, on the L3 market and on its L2 conversion
sweep      ``qlib.sweep.sweep`` of ``qlib.engine.tasks.backtest_task`` in-process
========== ==============================================================================

The same argument types as the notebooks are used (numba caches one machine code per
signature), so the notebooks load what is written here. Running it again only loads the
caches (idempotent; a few seconds). Each group prints one line with its time; a group
that raises makes the command exit with status 1 after the others ran.

Numba's cache is keyed by the source file's modification time and the function's
bytecode: an edited module is recompiled on its next use (by this command or later).
Reference: numba documentation, "Notes on caching",
https://numba.readthedocs.io/en/stable/developer/caching.html
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["GROUPS", "main", "warm"]

#: Events of the tiny simulated market: enough for every kernel path (trades, cancels,
#: fills of our quotes) and for the fits the notebooks make, small enough to run in
#: well under a second once compiled.
N_EVENTS = 20_000
SEED = 7
#: Strategies the notebooks run, with the parameters notebook 02 gives them.
_STRATEGY_PARAMS: dict[str, dict[str, Any]] = {
    "avellaneda_stoikov": {"gamma": 1e-5, "order_qty": 100.0, "max_position": 1000.0},
    "glft": {"gamma": 0.1, "order_qty": 100.0, "max_position": 1000.0},
    "grid": {"levels": 3, "step_ticks": 1.0, "offset_ticks": 1.0, "skew_ticks": 0.5,
             "order_qty": 100.0, "max_position": 1000.0},
}
#: The engine's custom-strategy loops (one per data kind) take any kernel of
#: ``qlib.strategy.nb.KERNEL_SIGNATURE`` and are cached on disk: one run of the example
#: ``@strategy`` kernel on L3 and on L2 data warms them for every later user kernel.
_QUEUES = ("risk_adverse", "power", "log")


def _market() -> Any:
    from qlib.data.sources import load

    return load("simulated", "", n_events=N_EVENTS, seed=SEED)


def _simulate() -> str:
    from qlib.book import to_l2

    data = _market()
    l2 = to_l2(data)
    return f"{len(data)} L3 events, {len(l2)} L2 events"


def _book() -> str:
    import qlib.book

    data = _market()
    bbo = qlib.book.bbo(data)
    depth = qlib.book.depth_snapshots(data, levels=5, every="1s")
    return f"{len(bbo)} bbo rows, {len(depth)} depth snapshots"


def _signals() -> str:
    import qlib.book
    import qlib.signals as sg

    data = _market()
    tape, bbo = sg.trades(data), qlib.book.bbo(data)
    sg.ofi_regression(bbo, "1s")
    sg.kyle_lambda_profile(tape, bbo, "1s", "5min", empty="drop")
    sg.vpin(tape, n_buckets=20, window=5)
    sg.realized_volatility(bbo, "5min")
    sg.realized_volatility(bbo, estimator="two_scale")
    sg.markout_curve(sg.markouts(tape, bbo, tick_size=data.instrument.tick_size))
    sg.trade_clustering(sg.trades(data, aggregate=True), "1s")
    return f"{len(tape)} trades"


def _risk() -> str:
    import qlib.book
    import qlib.risk as rk
    import qlib.signals as sg

    data = _market()
    bbo = qlib.book.bbo(data)
    returns = rk.returns_from_mid(bbo, "1s")
    rk.var_by_method(returns, [0.95, 0.99])
    window = min(250, len(returns) // 2)
    forecast = rk.rolling_var(returns, window, 0.99, "historical")
    rk.backtest_var(returns.iloc[window:], forecast, 0.99)
    rk.metric_table(returns)
    underlying = data.instrument.instrument_id
    spot = {underlying: sg.mid(bbo).dropna().iloc[-1]}
    asof = bbo["ts_exch"].iloc[-1]
    positions, contracts = rk.sample_options_book(spot[underlying], asof,
                                                  underlying_id=underlying)
    rk.greeks_ladder(positions, contracts, spot, rate=0.0, asof=asof)
    rk.stress_test(positions, contracts, spot, rk.sample_scenarios(returns), rate=0.0,
                   asof=asof)
    rk.pretrade_latency_sample(100)
    return f"{len(returns)} returns"


def _backtest() -> str:
    from qlib.book import to_l2
    from qlib.engine import ConstantLatency, backtest
    from qlib.engine.tasks import build_queue, build_strategy
    from qlib.strategy.examples import skewed_mm

    data = _market()
    l2 = to_l2(data)
    latency = ConstantLatency(entry_ns=1_000_000, response_ns=1_000_000)
    fills = runs = 0
    for events, instrument in ((data, None), (l2, data.instrument)):
        for name, params in _STRATEGY_PARAMS.items():
            for queue in _QUEUES:
                result = backtest(events, build_strategy(name, data, **params),
                                  latency=latency, queue=build_queue(queue),
                                  decision_interval="100ms", instrument=instrument)
                result.stats()
                fills += int(result.counters["fills"])
                runs += 1
        custom = backtest(events, skewed_mm(), latency=latency, queue=build_queue("power"),
                          decision_interval="100ms", instrument=instrument)
        fills += int(custom.counters["fills"])
        runs += 1
    return f"{runs} runs (L3 and L2, {len(_STRATEGY_PARAMS)} strategies x {len(_QUEUES)}" \
           f" queues, and a custom @strategy kernel), {fills} fills"


def _sweep() -> str:
    from qlib.engine.tasks import backtest_task
    from qlib.sweep import sweep

    grid = [{"strategy": "grid", **_STRATEGY_PARAMS["grid"], "latency_ms": ms}
            for ms in (1.0, 5.0)]
    result = sweep(backtest_task, grid, days=[SEED], scheduler="sync", progress=False,
                   fixed={"n_events": N_EVENTS, "queue": "power", "decision_interval": "100ms"})
    if len(result.failed):
        raise RuntimeError(f"sweep task failed: {result.failed['error'].tolist()[0]}")
    return f"{len(result.frame)} tasks"


#: (name, function) in the order they run; each returns a short description.
GROUPS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("simulate", _simulate),
    ("book", _book),
    ("signals", _signals),
    ("risk", _risk),
    ("backtest", _backtest),
    ("sweep", _sweep),
)


def warm(groups: list[str] | None = None, echo: Callable[[str], Any] = print) -> list[str]:
    """Run the warm-up groups; return the names of the groups that failed.

    Parameters
    ----------
    groups
        Names from :data:`GROUPS` (default: all, in order).
    echo
        Called with one line per group: ``"warm <group>  <seconds> s  <what ran>"`` or
        ``"warm <group>  FAILED  <error>"`` (the traceback follows on stderr).
    """
    known = dict(GROUPS)
    names = list(known) if groups is None else list(groups)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown warm-up group(s) {unknown}; known: {list(known)}")
    failed = []
    for name in names:
        t0 = time.perf_counter()
        try:
            what = known[name]()
        except Exception as exc:  # noqa: BLE001 - report every group, then fail loudly
            failed.append(name)
            echo(f"warm {name:<9} FAILED  {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
            continue
        echo(f"warm {name:<9} {time.perf_counter() - t0:7.1f} s  {what}")
    return failed


def main(argv: list[str] | None = None) -> int:
    """``python -m qlib.warm [GROUP ...]``: exit 0 when every group ran, 1 otherwise."""
    args = sys.argv[1:] if argv is None else argv
    t0 = time.perf_counter()
    try:
        failed = warm(args or None)
    except ValueError as exc:
        print(f"python -m qlib.warm: {exc}", file=sys.stderr)
        return 2
    total = time.perf_counter() - t0
    if failed:
        print(f"warm: {len(failed)} group(s) failed: {', '.join(failed)} ({total:.1f} s)",
              file=sys.stderr)
        return 1
    print(f"warm: numba caches ready ({total:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
