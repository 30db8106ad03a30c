r"""What a backtest returns: fills, orders, the equity curve, statistics and P&L attribution.

P&L attribution (:meth:`BacktestResult.attribution`) splits the change of equity into

.. math::

   \Delta E = \underbrace{\sum_k s_k q_k (m_k - p_k) v}_{\text{spread capture}}
            + \underbrace{\sum_k x_{k-1} (m_k - m_{k-1}) v + x_N (m_\text{end} - m_N) v}_{\text{inventory}}
            - \underbrace{\sum_k f_k}_{\text{fees}}

over our fills :math:`k = 1..N` (side :math:`s_k`, quantity :math:`q_k`, price
:math:`p_k` in ticks, fee :math:`f_k`), with :math:`m_k` the exchange mid at fill
:math:`k`, :math:`x_k` the position after it, :math:`m_\text{end}` the final mark and
:math:`v` the tick value. The identity is exact (it telescopes to
:math:`-\sum s_k q_k p_k v - \sum f_k + x_N m_\text{end} v`), so comparing the sum with
the equity the engine kept checks the engine's cash and position accounting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qlib.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from qlib.errors import InsufficientDataError, ParameterError
from qlib.instrument import Instrument

__all__ = ["BacktestResult"]


def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(ns, dtype=np.int64), unit="ns", utc=True)


@dataclass
class BacktestResult:
    """The outcome of :func:`qlib.engine.backtest` (arrays inside, DataFrames outside).

    Attributes
    ----------
    instrument, strategy
        What was traded and how.
    counters
        Events replayed, decisions, orders, cancels, rejects (by risk and by the venue),
        fills, and how many local timestamps had to be reordered.
    params
        The latency, queue, fee and risk models and the engine options used.
    risk
        The :class:`qlib.risk.PreTradeRisk` after the run (its kill-switch journal).
    """

    instrument: Instrument
    strategy: Any
    fills_array: np.ndarray = field(repr=False)
    records: np.ndarray = field(repr=False)
    orders_array: np.ndarray = field(repr=False)
    exch_leaves: np.ndarray = field(repr=False)
    journal: np.ndarray = field(repr=False)
    risk: Any = field(repr=False)
    positions: np.ndarray = field(repr=False)
    cash: float = 0.0
    capital: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    events: np.ndarray | None = field(default=None, repr=False)
    final_mid_tick: float = 0.0

    def __init__(self, *, instrument, strategy, fills, records, orders, exch_leaves, journal, risk,
                 positions, cash, capital, counters, params, events, final_mid_tick,
                 timings=None, **_: Any):
        self.instrument = instrument
        self.strategy = strategy
        self.fills_array = fills
        self.records = records
        self.orders_array = orders
        self.exch_leaves = exch_leaves
        self.journal = journal
        self.risk = risk
        self.positions = positions
        self.cash = cash
        self.capital = capital
        self.counters = counters
        self.params = params
        self.events = events
        self.final_mid_tick = final_mid_tick
        #: Wall time of the run: ``prepare_s`` (validation, local clock, state) and
        #: ``loop_s`` (the jitted loop, including any buffer growth).
        self.timings = dict(timings or {})

    # ------------------------------------------------------------------ basics
    @property
    def tick_value(self) -> float:
        """Quote currency per tick per unit of quantity."""
        return self.instrument.tick_size * self.instrument.multiplier

    @property
    def position(self) -> float:
        """Final position."""
        return float(self.positions[0]["qty"])

    @property
    def final_equity(self) -> float:
        """Cash + position x final mid x tick value."""
        return self.cash + self.position * self.final_mid_tick * self.tick_value

    @property
    def pnl(self) -> float:
        """Final equity minus the starting capital."""
        return self.final_equity - self.capital

    def __repr__(self) -> str:
        c = self.counters
        return (f"BacktestResult({self.instrument.instrument_id}, {self.strategy.name}, "
                f"{c.get('events', 0):,} events, {c.get('fills', 0):,} fills, "
                f"position {self.position:g}, P&L {self.pnl:,.2f} {self.instrument.currency})")

    # ------------------------------------------------------------------ tables
    @property
    def fills(self) -> pd.DataFrame:
        """Our executions, one row each, with their mark-outs (see :meth:`markouts`)."""
        f = self.fills_array
        ts = self.instrument.tick_size
        df = pd.DataFrame({
            "ts_exch": _utc(f["ts_exch"]),
            "ts_local": _utc(f["ts_local"]),
            "order_id": f["order_id"].astype(np.int64),
            "side": f["side"].astype(np.int8),
            "px": f["px_tick"] * ts,
            "px_tick": f["px_tick"],
            "qty": f["qty"],
            "fee": f["fee"],
            "liquidity": pd.Categorical.from_codes(
                f["liquidity"].astype(np.int8), categories=[m.name for m in LiquiditySide]),
            "mid": f["mid_tick"] * ts,
            "position": f["position"],
        })
        df["edge"] = df["side"] * df["qty"] * (f["mid_tick"] - f["px_tick"]) * self.tick_value
        return df

    @property
    def orders(self) -> pd.DataFrame:
        """Every order: its terms, final state, filled quantity and timestamps."""
        o = self.orders_array
        return pd.DataFrame({
            "order_id": o["order_id"].astype(np.int64),
            "side": pd.Series(o["side"]).map({Side.BUY.value: "BUY", Side.SELL.value: "SELL"}),
            "order_type": pd.Series(o["order_type"]).map({m.value: m.name for m in OrderType}),
            "tif": pd.Series(o["tif"]).map({m.value: m.name for m in TimeInForce}),
            "px": o["px_tick"] * self.instrument.tick_size,
            "qty": o["qty"],
            "filled_qty": o["filled_qty"],
            "state": pd.Series(o["state"]).map({m.value: m.name for m in OrderStatus}),
            "ts_created": _utc(o["ts_created"]),
            "ts_last": _utc(o["ts_last"]),
        })

    @property
    def equity(self) -> pd.DataFrame:
        """The interval records: position, cash, equity, P&L, mid, spread, our quotes."""
        r = self.records
        ts = self.instrument.tick_size
        df = pd.DataFrame({
            "position": r["position"],
            "cash": r["cash"],
            "equity": r["equity"],
            "pnl": r["equity"] - self.capital,
            "mid": r["mid_tick"] * ts,
            "spread": r["spread_tick"] * ts,
            "fees": r["fees"],
            "traded_qty": r["traded_qty"],
            "bid_quote": np.where(r["bid_quote_tick"] > 0, r["bid_quote_tick"] * ts, np.nan),
            "ask_quote": np.where(r["ask_quote_tick"] > 0, r["ask_quote_tick"] * ts, np.nan),
            "n_open": r["n_open"],
            "n_fills": r["n_fills"],
        }, index=_utc(r["ts"]))
        df.index.name = "ts"
        return df

    @property
    def order_journal(self) -> pd.DataFrame:
        """Every attempted order state transition (refusals included), in order."""
        j = self.journal
        names = {m.value: m.name for m in OrderStatus}
        from qlib.enums import OrderEvent, Status

        return pd.DataFrame({
            "ts": _utc(j["ts"]),
            "order_id": j["order_id"].astype(np.int64),
            "event": pd.Series(j["event"]).map({m.value: m.name for m in OrderEvent}),
            "from_state": pd.Series(j["from_state"]).map(names),
            "to_state": pd.Series(j["to_state"]).map(names),
            "qty": j["qty"],
            "px_tick": j["px_tick"],
            "status": pd.Series(j["status"]).map({m.value: m.name for m in Status}),
        })

    @property
    def kill_journal(self) -> pd.DataFrame:
        """Kill-switch trips and resets during the run (with their reasons)."""
        return self.risk.journal

    # ------------------------------------------------------------------ analysis
    def attribution(self) -> pd.Series:
        """P&L split into spread capture, inventory and fees (see the module docstring).

        Returns
        -------
        pandas.Series
            ``spread_capture``, ``inventory``, ``fees`` (paid, positive), ``total``
            (their sum, spread + inventory - fees) and ``equity_change`` (the engine's
            own final equity minus the capital); the last two agree to rounding.
        """
        f = self.fills_array
        v = self.tick_value
        side = f["side"].astype(np.float64)
        mids = f["mid_tick"]
        spread = float(np.sum(side * f["qty"] * (mids - f["px_tick"])) * v)
        pos_before = np.concatenate([[0.0], np.cumsum(side * f["qty"])[:-1]]) if len(f) else np.zeros(0)
        inv = float(np.sum(pos_before[1:] * np.diff(mids)) * v) if len(f) > 1 else 0.0
        pos_end = float(np.sum(side * f["qty"])) if len(f) else 0.0
        if len(f):
            inv += pos_end * (self.final_mid_tick - mids[-1]) * v
        fees = float(np.sum(f["fee"]))
        return pd.Series({
            "spread_capture": spread,
            "inventory": inv,
            "fees": fees,
            "total": spread + inv - fees,
            "equity_change": self.pnl,
        }, name="pnl")

    def _mid_series(self) -> tuple[np.ndarray, np.ndarray]:
        from qlib.book import replay_bbo

        if self.events is None:
            raise InsufficientDataError("this result carries no events to mark fills out against")
        b = replay_bbo(self.events)
        ok = (b["bid_px_tick"] != 0) & (b["ask_px_tick"] != 0)
        return b["ts_exch"][ok], 0.5 * (b["bid_px_tick"][ok] + b["ask_px_tick"][ok])

    def markouts(self, horizons: tuple[Any, ...] = ("100ms", "1s", "10s", "60s")) -> pd.DataFrame:
        r"""Mark-out of every fill: :math:`s (m_{t + h} - p) v q`, quote currency.

        :math:`m_{t+h}` is the exchange mid at the fill time plus ``h`` (the last mid at
        or before it; the last mid of the data beyond its end). Positive: the fill
        earned money against the later mid.
        """
        hs = [pd.Timedelta(h) for h in horizons]
        f = self.fills_array
        out = pd.DataFrame(index=pd.RangeIndex(len(f)))
        if len(f) == 0:
            for h in hs:
                out[f"markout_{h}"] = np.zeros(0)
            return out
        t_mid, mid = self._mid_series()
        if len(mid) == 0:
            raise InsufficientDataError("the events never show a two-sided book")
        for h, name in zip(hs, horizons):
            k = np.searchsorted(t_mid, f["ts_exch"] + h.value, side="right") - 1
            k = np.clip(k, 0, len(mid) - 1)
            out[f"markout_{name}"] = f["side"] * (mid[k] - f["px_tick"]) * self.tick_value * f["qty"]
        return out

    def returns(self) -> pd.Series:
        """Per-record P&L increments (quote currency), or returns on capital when it is > 0."""
        eq = self.equity["equity"]
        d = eq.diff().iloc[1:]
        if self.capital > 0:
            d = d / eq.shift(1).iloc[1:]
        d.name = "returns" if self.capital > 0 else "pnl_increment"
        return d

    def stats(self) -> pd.Series:
        """Headline numbers and the risk metrics of :mod:`qlib.risk` on the equity curve.

        With ``capital > 0`` the metrics of :func:`qlib.risk.metric_table` on the
        per-record returns on capital (annualised from the record interval). Without
        capital the per-record P&L increments are not returns, so only the scale-free
        ratios are given (Sharpe, Sortino, Omega, tail ratio, hit rate, annualised from
        the record interval) and the drawdown is ``max_drawdown_ccy`` (currency). A
        metric the run cannot support is reported as unavailable with the reason.
        """
        from qlib.risk.performance import (
            hit_rate,
            omega_ratio,
            sharpe_ratio,
            sortino_ratio,
            tail_ratio,
        )
        from qlib.risk.returns import metric_table
        from qlib.signals import Unavailable

        fl = self.fills_array
        att = self.attribution()
        head = {
            "pnl": self.pnl,
            "spread_capture": att["spread_capture"],
            "inventory_pnl": att["inventory"],
            "fees": att["fees"],
            "final_position": self.position,
            "fills": len(fl),
            "traded_qty": float(np.sum(fl["qty"])),
            "maker_share": (float(np.sum(fl["qty"][fl["liquidity"] == LiquiditySide.MAKER]))
                            / max(float(np.sum(fl["qty"])), 1e-300)) if len(fl) else 0.0,
            "max_abs_position": float(np.max(np.abs(self.records["position"]))) if len(self.records) else 0.0,
        }
        head.update({k: v for k, v in self.counters.items() if k != "kernel_calls"})
        eq = self.equity["equity"]
        dd = eq - eq.cummax()
        head["max_drawdown_ccy"] = float(dd.min()) if len(dd) else 0.0
        rets = self.returns()
        if self.capital > 0:
            try:
                metrics = metric_table(rets)
            except (InsufficientDataError, ParameterError) as exc:
                metrics = pd.Series({"metrics": Unavailable(str(exc))})
        else:
            # P&L increments are not returns: only the scale-free ratios apply, and the
            # drawdown is the one in currency above
            fns = {"sharpe_ratio": sharpe_ratio, "sortino_ratio": sortino_ratio,
                   "omega_ratio": omega_ratio, "tail_ratio": tail_ratio, "hit_rate": hit_rate}
            out: dict[str, object] = {"bars": len(rets)}
            for name, fn in fns.items():
                try:
                    out[name] = fn(rets)
                except (InsufficientDataError, ParameterError) as exc:
                    out[name] = Unavailable(f"{name}: {exc}")
            metrics = pd.Series(out, dtype=object)
        return pd.concat([pd.Series(head, dtype=object), metrics.astype(object)])
