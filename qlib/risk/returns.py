"""Return series, rolling VaR forecasts and sample books for risk reports.

Small building blocks used by ``notebooks/03_risk.ipynb`` so that the notebook holds no
logic: mid-price returns per bar from market data, a one-step-ahead rolling VaR forecast
for :func:`qlib.risk.backtest_var`, VaR and ES side by side by method, a table of
performance metrics, a sample options book with stress scenarios, and a latency sample
of :meth:`qlib.risk.PreTradeRisk.check` timed from Python.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError
from qlib.risk.greeks import OptionContract, portfolio_greeks
from qlib.risk.performance import (
    calmar_ratio,
    hit_rate,
    max_drawdown,
    max_drawdown_duration,
    omega_ratio,
    sharpe_ratio,
    sortino_ratio,
    tail_ratio,
)
from qlib.risk.stress import Scenario, worst_interval
from qlib.risk.var import var_estimate
from qlib.signals.availability import Unavailable

__all__ = [
    "VAR_METHODS",
    "metric_table",
    "pretrade_latency_sample",
    "returns_from_mid",
    "rolling_var",
    "sample_options_book",
    "sample_scenarios",
    "var_by_method",
]

#: Methods compared side by side by :func:`var_by_method` (fast ones; ``fhs_garch`` is opt-in).
VAR_METHODS: tuple[str, ...] = ("historical", "normal", "cornish_fisher", "monte_carlo",
                                "fhs_ewma")


def returns_from_mid(data: Any, freq: str | pd.Timedelta = "1min", *,
                     kind: str = "simple") -> pd.Series:
    """Return mid-price returns per ``freq`` bar.

    Parameters
    ----------
    data
        :class:`qlib.data.MarketData` (its book is rebuilt with :func:`qlib.book.bbo`) or
        a bbo frame with ``ts_exch``, ``bid_px`` and ``ask_px``.
    freq
        Bar length (``"1min"``, ``"10s"``, a Timedelta). The mid of a bar is the last mid
        with both sides of the book present at or before the bar's end (carried forward
        over bars without quotes).
    kind
        ``"simple"`` (:math:`m_t / m_{t-1} - 1`, what :mod:`qlib.risk` metrics take) or
        ``"log"`` (:math:`\\ln(m_t / m_{t-1})`).

    Returns
    -------
    pandas.Series
        Float returns named ``return``, indexed by the bar's end (UTC), oldest first;
        the first bar (no previous mid) is dropped.

    Raises
    ------
    ParameterError
        Unknown ``kind``, or a non-positive ``freq``.
    InsufficientDataError
        Fewer than 2 returns.
    """
    if kind not in ("simple", "log"):
        raise ParameterError(f"kind must be 'simple' or 'log', got {kind!r}")
    step = pd.Timedelta(freq)
    if step <= pd.Timedelta(0):
        raise ParameterError(f"freq must be positive, got {freq!r}")
    if isinstance(data, pd.DataFrame):
        bbo = data
    else:
        import qlib.book  # local: the book module is heavier than the risk package
        bbo = qlib.book.bbo(data)
    bid = bbo["bid_px"].to_numpy(float)
    ask = bbo["ask_px"].to_numpy(float)
    mid = (bid + ask) / 2.0
    ok = np.isfinite(mid) & (mid > 0)
    ts = pd.DatetimeIndex(pd.to_datetime(bbo["ts_exch"].to_numpy()[ok], utc=True))
    s = pd.Series(mid[ok], index=ts)
    bars = s.resample(step, label="right", closed="right").last().ffill().dropna()
    out = np.log(bars).diff() if kind == "log" else bars.pct_change()
    out = out.iloc[1:].rename("return")
    if len(out) < 2:
        raise InsufficientDataError(f"mid returns per {step} had {len(out)} bars, needed at least 2")
    return out


def rolling_var(returns: pd.Series, window: int = 250, confidence: float = 0.99,
                method: str = "historical", **kwargs: Any) -> pd.Series:
    """Return the one-step-ahead rolling VaR forecast of each bar after the first ``window``.

    The forecast for bar :math:`t` uses bars :math:`t - w, \\dots, t - 1` only, so it can be
    passed straight to :func:`qlib.risk.backtest_var` with ``returns.iloc[window:]``.

    Parameters
    ----------
    returns
        Simple per-bar returns, oldest first.
    window
        Estimation window :math:`w` in bars (>= 2).
    confidence, method, kwargs
        As :func:`qlib.risk.var_estimate` (one bar horizon).

    Returns
    -------
    pandas.Series
        Positive-loss VaR named ``var``, indexed like ``returns.iloc[window:]``.

    Raises
    ------
    ParameterError
        ``window < 2``.
    InsufficientDataError
        ``len(returns) <= window`` (had, needed ``window + 1``).
    """
    if window < 2:
        raise ParameterError(f"window must be >= 2, got {window}")
    r = pd.Series(returns, dtype=float)
    if len(r) <= window:
        raise InsufficientDataError(
            f"rolling VaR had {len(r)} returns, needed at least {window + 1} (window + 1)")
    x = r.to_numpy()
    out = np.empty(len(r) - window)
    for t in range(window, len(r)):
        out[t - window] = var_estimate(x[t - window:t], confidence, method=method, **kwargs).var
    return pd.Series(out, index=r.index[window:], name="var")


def var_by_method(returns: pd.Series, confidence: Sequence[float] = (0.95, 0.99),
                  methods: Sequence[str] = VAR_METHODS) -> pd.DataFrame:
    """Return VaR and ES of ``returns`` for every method and confidence level.

    Parameters
    ----------
    returns
        Simple per-bar returns, oldest first.
    confidence
        Confidence levels in (0, 1); the columns follow them in ascending order.
    methods
        Methods of :func:`qlib.risk.var_estimate`.

    Returns
    -------
    pandas.DataFrame
        Index ``method`` (in the given order); columns ``var_<c>`` and ``es_<c>`` per
        confidence :math:`c` in percent (e.g. ``var_99``, ``es_99``; ``var_97_5`` for
        0.975), positive loss fractions over one bar.
    """
    rows = {}
    for m in methods:
        row = {}
        for c in sorted(confidence):
            est = var_estimate(returns, float(c), method=m)
            row[f"var_{_pct(c)}"] = est.var
            row[f"es_{_pct(c)}"] = est.es
        rows[m] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


def _pct(c: float) -> str:
    return f"{100 * c:g}".replace(".", "_")


def metric_table(returns: pd.Series, *, calendar: str = "equity") -> pd.Series:
    """Return the performance metrics of per-bar returns as one Series.

    Sharpe, Sortino, Calmar and Omega are annualised with the bars per year inferred from
    the DatetimeIndex (:func:`qlib.risk.periods_per_year`). A metric the data cannot
    support (e.g. Calmar without a drawdown) is an :class:`qlib.signals.Unavailable`
    carrying the reason, never a silent NaN, so the rest of the table still shows.
    """
    fns = {
        "sharpe_ratio": lambda r: sharpe_ratio(r, calendar=calendar),
        "sortino_ratio": lambda r: sortino_ratio(r, calendar=calendar),
        "calmar_ratio": lambda r: calmar_ratio(r, calendar=calendar),
        "omega_ratio": lambda r: omega_ratio(r, calendar=calendar),
        "max_drawdown": max_drawdown,
        "max_drawdown_duration": max_drawdown_duration,
        "tail_ratio": tail_ratio,
        "hit_rate": hit_rate,
    }
    out: dict[str, object] = {"bars": len(returns)}
    for name, fn in fns.items():
        try:
            out[name] = fn(returns)
        except InsufficientDataError as exc:
            out[name] = Unavailable(f"{name}: {exc}")
    return pd.Series(out, name="metric", dtype=object)


def sample_options_book(spot: float, asof: Any, *, underlying_id: str = "SIM.QLIB",
                        vol: float = 0.3, expiry_days: float = 30.0, rate: float = 0.0,
                        ) -> tuple[pd.DataFrame, dict[str, OptionContract]]:
    """Return a small delta-hedged options book on one underlying, for examples and reports.

    The book: long 10 at-the-money calls, short 20 calls 5 % out of the money, long 15 puts
    5 % out of the money and short 5 at-the-money puts, all European with ``expiry_days``
    to expiry and flat ``vol``, plus the underlying position that brings the book's delta
    (at ``spot``, ``rate``, ``asof``) to the nearest whole unit of zero. Strikes are
    rounded to 1 % of ``spot``'s order of magnitude.

    Returns
    -------
    (positions, contracts)
        ``positions`` with ``instrument_id``, ``qty``, ``vol`` (NaN for the underlying)
        and ``contracts`` (``instrument_id -> OptionContract``), ready for
        :func:`qlib.risk.portfolio_greeks`, :func:`qlib.risk.greeks_ladder` and
        :func:`qlib.risk.stress_test` with ``spot={underlying_id: spot}``.

    Raises
    ------
    ParameterError
        Non-positive or non-finite ``spot``, ``vol`` or ``expiry_days``.
    """
    for name, v in (("spot", spot), ("vol", vol), ("expiry_days", expiry_days)):
        if not np.isfinite(v) or v <= 0:
            raise ParameterError(f"{name} must be positive and finite, got {v}")
    asof_ts = pd.Timestamp(asof)
    asof_ts = asof_ts.tz_localize("UTC") if asof_ts.tzinfo is None else asof_ts
    expiry = asof_ts + pd.Timedelta(days=expiry_days)
    unit = 10.0 ** (np.floor(np.log10(spot)) - 2)
    legs = [("call", 1.00, 10.0), ("call", 1.05, -20.0), ("put", 0.95, 15.0), ("put", 1.00, -5.0)]
    contracts: dict[str, OptionContract] = {}
    rows = []
    for right, moneyness, qty in legs:
        strike = float(np.round(spot * moneyness / unit) * unit)
        oid = f"{underlying_id}-{right[0].upper()}{strike:g}"
        contracts[oid] = OptionContract(underlying_id, strike, expiry, right)
        rows.append({"instrument_id": oid, "qty": qty, "vol": vol})
    book = pd.DataFrame(rows)
    delta = portfolio_greeks(book, contracts, {underlying_id: spot}, rate=rate,
                             asof=asof_ts)["delta"].sum()
    hedge = {"instrument_id": underlying_id, "qty": -float(np.round(delta)), "vol": np.nan}
    return pd.concat([book, pd.DataFrame([hedge])], ignore_index=True), contracts


def sample_scenarios(returns: pd.Series | None = None, lengths: Sequence[int] = (1, 10),
                     ) -> list[Scenario]:
    """Return standard stress scenarios, plus the worst historical moves of ``returns``.

    Standard: spot -10 % with vol +10 points, spot -5 %, spot +5 %, spot +10 % with vol
    -5 points, vol x 1.5, and one day of time decay. With ``returns``, one scenario per
    window length in ``lengths`` replays the worst compounded move over that many bars
    (:func:`qlib.risk.worst_interval`); lengths longer than the series are skipped.
    """
    out = [
        Scenario("crash -10%, vol +10", spot_shock=-0.10, vol_shift=0.10),
        Scenario("spot -5%", spot_shock=-0.05),
        Scenario("spot +5%", spot_shock=0.05),
        Scenario("rally +10%, vol -5", spot_shock=0.10, vol_shift=-0.05),
        Scenario("vol x1.5", vol_scale=1.5),
        Scenario("1 day decay", days=1.0),
    ]
    if returns is not None:
        for n in lengths:
            if len(returns) >= n:
                out.append(worst_interval(returns, n, name=f"worst {n} bar(s) of data"))
    return out


def pretrade_latency_sample(n: int = 10_000, *, warmup: int = 1_000) -> pd.Series:
    """Time ``n`` calls of :meth:`qlib.risk.PreTradeRisk.check` from Python.

    A one-instrument account with order size, notional, price collar, position and gross
    limits; limit orders alternate buy and sell at the reference price with increasing
    decision times. Each call is timed with :func:`time.perf_counter_ns`, so the figure
    includes the Python call overhead and the timer's own cost. ``warmup`` untimed calls
    first (JIT compilation and caches).

    Returns
    -------
    pandas.Series
        int64 nanoseconds per call, named ``latency_ns``, length ``n``.

    Raises
    ------
    ParameterError
        ``n < 1`` or ``warmup < 0``.
    """
    if n < 1 or warmup < 0:
        raise ParameterError(f"n must be >= 1 and warmup >= 0, got n={n}, warmup={warmup}")
    from qlib.instrument import Instrument
    from qlib.risk.config import RiskConfig
    from qlib.risk.pretrade import PreTradeRisk

    inst = Instrument("LAT.QLIB", tick_size=0.01)
    risk = PreTradeRisk(RiskConfig(max_order_qty=100.0, max_order_notional=1e6, collar_bps=50.0,
                                   max_position_qty=1e9, max_gross_notional=1e12), [inst])
    ref = 10_000
    risk.on_market_data(0, ts_ns=0, ref_px_tick=ref)
    check = risk.check
    for k in range(warmup):
        check(0, 1 if k % 2 == 0 else -1, ref, 1.0, k + 1, 0)
    out = np.empty(n, dtype=np.int64)
    clock = time.perf_counter_ns
    base = warmup + 1
    for k in range(n):
        side = 1 if k % 2 == 0 else -1
        t0 = clock()
        check(0, side, ref, 1.0, base + k, 0)
        out[k] = clock() - t0
    return pd.Series(out, name="latency_ns")

