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

Ratios of intraday P&L (:meth:`BacktestResult.stats`)
-----------------------------------------------------
Sharpe and Sortino are computed on the per-record P&L increments (or returns on
capital) and scaled by :math:`\sqrt{P}` with :math:`P` the records in the chosen period:

* ``"day"`` (default): one trading day of the calendar convention of
  :mod:`qlib.risk` (``"equity"``: 6.5 h; ``"crypto"``: 24 h), so with 1 s records
  :math:`P = 23\,400` (equity). This is the ratio of a day's P&L to its dispersion,
  assuming independent increments; it is :math:`\sqrt{252}` (equity) smaller than the
  annualised ratio.
* ``"session"``: the records of the run itself (:math:`P = n`), the ratio of the whole
  run's P&L to its dispersion.
* ``"year"``: annualised (:math:`P` records per year, :func:`qlib.risk.periods_per_year`),
  as :func:`qlib.risk.sharpe_ratio` does by default. From 1 s records this gives values
  in the hundreds for a market maker, which are correct but hard to read.

The convention used is written into the ``stats()`` Series itself (entry
``ratio_basis``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qlib.enums import LiquiditySide, OrderEvent, OrderStatus, OrderType, Side, Status, TimeInForce
from qlib.errors import InsufficientDataError, ParameterError
from qlib.instrument import Instrument

__all__ = ["RATIO_PERIODS", "BacktestResult"]

#: Periods :meth:`BacktestResult.stats` can express Sharpe and Sortino in.
RATIO_PERIODS: tuple[str, ...] = ("day", "session", "year")

_DAY = pd.Timedelta("1D")


def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(ns, dtype=np.int64), unit="ns", utc=True)


def _names(enum: Any, codes: np.ndarray) -> pd.Series:
    """Enum codes as their names (unknown codes as NaN)."""
    return pd.Series(codes).map({m.value: m.name for m in enum})


@dataclass(kw_only=True)
class BacktestResult:
    r"""The outcome of :func:`qlib.engine.backtest` (arrays inside, DataFrames outside).

    Naming rule
    -----------
    Every table of the run has two names and only two:

    * ``<table>_array``: the raw numpy array as the kernels wrote it (prices in ticks,
      times in int ns since the epoch, enums as codes). Fields of the dataclass, except
      ``kill_journal_array`` which the risk layer holds.
    * ``<table>``: a read-only property returning the same rows for a person to read
      (a DataFrame; prices in quote currency, times as UTC timestamps, enums by name).

    The tables are ``fills``, ``orders``, ``exch_leaves`` (a Series: per order), ``equity``
    (the interval records), ``journal`` (order state transitions), ``positions``,
    ``kill_journal`` and ``events`` (the market data replayed). No other attribute ends
    in ``_array`` and no other property returns pandas; analyses that take arguments
    are methods (:meth:`attribution`, :meth:`markouts`, :meth:`returns`, :meth:`stats`).

    Attributes
    ----------
    instrument, strategy
        What was traded and how.
    fills_array
        Our executions, :data:`qlib.dtypes.BT_FILL_DTYPE`.
    orders_array
        Every order, :data:`qlib.dtypes.ORDER_DTYPE`.
    exch_leaves_array
        Quantity still resting at the exchange per order (float64, aligned with
        ``orders_array``).
    equity_array
        The interval records, :data:`qlib.dtypes.BT_RECORD_DTYPE`.
    journal_array
        Every attempted order state transition, :data:`qlib.dtypes.ORDER_JOURNAL_DTYPE`.
    positions_array
        Final position state, :data:`qlib.dtypes.POSITION_DTYPE` (one row).
    events_array
        The events replayed, :data:`qlib.dtypes.EVENT_DTYPE` (``None``: not kept).
    risk
        The :class:`qlib.risk.PreTradeRisk` after the run (its kill-switch journal).
    cash, capital
        Final cash and the starting capital, quote currency.
    counters
        Events replayed, decisions, orders, cancels, rejects (by risk and by the venue),
        fills, and how many local timestamps had to be reordered.
    params
        The latency, queue, fee and risk models and the engine options used.
    final_mid_tick
        The exchange mid at the end, ticks (the final mark).
    edge
        Spread capture the engine kept while running, :math:`\sum_k s_k q_k (m_k - p_k) v`
        (quote currency; fills against a one-sided book count 0).
    timings
        Wall time of the run: ``prepare_s`` (validation, local clock, state) and
        ``loop_s`` (the jitted loop, including any buffer growth).
    strategy_state_array
        The strategy kernel's ``state`` array at the end of the run (float64; what the
        kernel kept between decisions).
    view_array
        The view of the last decision, :data:`qlib.dtypes.VIEW_DTYPE` (one row).
    """

    instrument: Instrument
    strategy: Any
    fills_array: np.ndarray = field(repr=False)
    orders_array: np.ndarray = field(repr=False)
    exch_leaves_array: np.ndarray = field(repr=False)
    equity_array: np.ndarray = field(repr=False)
    journal_array: np.ndarray = field(repr=False)
    positions_array: np.ndarray = field(repr=False)
    events_array: np.ndarray | None = field(default=None, repr=False)
    risk: Any = field(default=None, repr=False)
    cash: float = 0.0
    capital: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    final_mid_tick: float = 0.0
    edge: float = 0.0
    timings: dict[str, float] = field(default_factory=dict, repr=False)
    strategy_state_array: np.ndarray | None = field(default=None, repr=False)
    view_array: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ basics
    @property
    def tick_value(self) -> float:
        """Quote currency per tick per unit of quantity."""
        return self.instrument.tick_size * self.instrument.multiplier

    @property
    def position(self) -> float:
        """Final position."""
        return float(self.positions_array[0]["qty"])

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
        """Our executions (:attr:`fills_array`), one row each, with the spread captured
        (``edge``, quote currency) against the exchange mid at the fill."""
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
        """Every order (:attr:`orders_array`): its terms, final state, filled quantity,
        quantity still resting at the exchange and timestamps."""
        o = self.orders_array
        return pd.DataFrame({
            "order_id": o["order_id"].astype(np.int64),
            "side": _names(Side, o["side"]),
            "order_type": _names(OrderType, o["order_type"]),
            "tif": _names(TimeInForce, o["tif"]),
            "px": o["px_tick"] * self.instrument.tick_size,
            "qty": o["qty"],
            "filled_qty": o["filled_qty"],
            "exch_leaves": np.asarray(self.exch_leaves_array, dtype=np.float64)[: len(o)],
            "state": _names(OrderStatus, o["state"]),
            "ts_created": _utc(o["ts_created"]),
            "ts_last": _utc(o["ts_last"]),
        })

    @property
    def exch_leaves(self) -> pd.Series:
        """Quantity still resting at the exchange (:attr:`exch_leaves_array`), by order id."""
        return pd.Series(np.asarray(self.exch_leaves_array, dtype=np.float64),
                         index=pd.Index(self.orders_array["order_id"].astype(np.int64),
                                        name="order_id"),
                         name="exch_leaves")

    @property
    def strategy_state(self) -> pd.Series:
        """The strategy kernel's ``state`` at the end (:attr:`strategy_state_array`), by
        index."""
        a = self.strategy_state_array if self.strategy_state_array is not None else np.zeros(0)
        return pd.Series(np.asarray(a, dtype=np.float64), name="strategy_state")

    @property
    def view(self) -> pd.Series:
        """The last decision's view (:attr:`view_array`), one value per field (the book
        level arrays as lists)."""
        if self.view_array is None or len(self.view_array) == 0:
            return pd.Series(dtype=object, name="view")
        v = self.view_array[0]
        return pd.Series({n: (v[n].tolist() if v[n].ndim else v[n].item())
                          for n in self.view_array.dtype.names}, name="view", dtype=object)

    @property
    def equity(self) -> pd.DataFrame:
        """The interval records (:attr:`equity_array`): position, cash, equity, P&L, mid,
        spread, fees, traded quantity, our best quotes, working orders and fills."""
        r = self.equity_array
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
    def journal(self) -> pd.DataFrame:
        """Every attempted order state transition (:attr:`journal_array`), refusals
        included, in order."""
        j = self.journal_array
        return pd.DataFrame({
            "ts": _utc(j["ts"]),
            "order_id": j["order_id"].astype(np.int64),
            "event": _names(OrderEvent, j["event"]),
            "from_state": _names(OrderStatus, j["from_state"]),
            "to_state": _names(OrderStatus, j["to_state"]),
            "qty": j["qty"],
            "px_tick": j["px_tick"],
            "status": _names(Status, j["status"]),
        })

    @property
    def positions(self) -> pd.DataFrame:
        """Final position (:attr:`positions_array`), one row per instrument: signed
        quantity, average entry and last mark price (quote currency, NaN when flat or
        never marked), realized P&L (average cost and FIFO), fees, traded quantity, fills
        and the time of the last fill."""
        p = self.positions_array

        def px(u: np.ndarray) -> np.ndarray:
            return np.where(u != 0, u, np.nan)

        return pd.DataFrame({
            "qty": p["qty"] + 0.0,
            "avg_px": px(p["avg_px"]),
            "mark_px": px(p["mark_px"]),
            "realized_pnl": p["realized_pnl"],
            "realized_pnl_fifo": p["realized_pnl_fifo"],
            "fees": p["fees"],
            "traded_qty": p["traded_qty"],
            "n_fills": p["n_fills"],
            "ts_last": _utc(p["ts_last"]),
        }, index=pd.Index([self.instrument.instrument_id] * len(p), name="instrument_id"))

    @property
    def kill_journal_array(self) -> np.ndarray:
        """Kill-switch trips and resets as the risk kernel wrote them: int64 rows of
        ``(ts, event, reason)`` codes (:attr:`qlib.risk.PreTradeRisk.journal_array`, the
        rows in use)."""
        return self.risk.journal_array[: len(self.risk.journal)]

    @property
    def kill_journal(self) -> pd.DataFrame:
        """Kill-switch trips and resets during the run (:attr:`kill_journal_array`), with
        their reasons by name."""
        return self.risk.journal

    @property
    def events(self) -> pd.DataFrame:
        """The events replayed (:attr:`events_array`), as
        :meth:`qlib.data.MarketData.to_pandas` shows them.

        Raises
        ------
        InsufficientDataError
            If the result carries no events.
        """
        from qlib.data import MarketData, ValidationReport

        if self.events_array is None:
            raise InsufficientDataError("this result carries no events (events_array is None)")
        return MarketData(self.events_array, self.instrument,
                          ValidationReport(source="backtest")).to_pandas()

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

        if self.events_array is None:
            raise InsufficientDataError("this result carries no events to mark fills out against")
        b = replay_bbo(self.events_array)
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

    def ratio_periods(self, per: str = "day", calendar: str = "equity") -> tuple[float, str]:
        r"""Records per ``per`` (:math:`P` of the Sharpe and Sortino ratios) and its description.

        Parameters
        ----------
        per
            ``"day"``, ``"session"`` or ``"year"`` (see the module docstring).
        calendar
            ``"equity"`` (252 days of 6.5 h) or ``"crypto"`` (365 days of 24 h), the
            convention of :func:`qlib.risk.periods_per_year`; unused for ``"session"``.

        Returns
        -------
        (float, str)
            :math:`P`, and the convention in words, e.g. ``"per day (equity calendar:
            6.5 h), from 1 s records, not annualised"``.

        Raises
        ------
        ParameterError
            Unknown ``per`` or ``calendar``.
        InsufficientDataError
            Fewer than two records.
        """
        from qlib.risk import periods_per_year

        if per not in RATIO_PERIODS:
            raise ParameterError(f"per was {per!r}, expected one of {list(RATIO_PERIODS)}")
        idx = _utc(self.equity_array["ts"])
        if len(idx) < 2:
            raise InsufficientDataError(f"ratios need at least 2 records, had {len(idx)}")
        step = pd.Timedelta(int(np.median(np.diff(idx.asi8)[np.diff(idx.asi8) > 0]))
                            if np.any(np.diff(idx.asi8) > 0) else 0)
        src = f"from {_span(step)} records"
        if per == "session":
            n = float(len(idx) - 1)
            return n, f"per session ({int(n)} record intervals), {src}, not annualised"
        p_year = periods_per_year(idx, calendar)  # ParameterError on an unknown calendar
        if per == "year":
            return p_year, f"annualised ({calendar} calendar), {src}"
        # days per year of the same convention: its count of one-day bars
        days = periods_per_year(pd.DatetimeIndex([0, _DAY.value], tz="UTC"), calendar)
        hours = p_year / days * step.total_seconds() / 3600.0
        return p_year / days, (f"per day ({calendar} calendar: {hours:g} h), {src}, "
                               "not annualised")

    def stats(self, *, per: str = "day", calendar: str = "equity") -> pd.Series:
        """Headline numbers and the risk metrics of :mod:`qlib.risk` on the equity curve.

        Parameters
        ----------
        per
            Period of the Sharpe and Sortino ratios: ``"day"`` (default), ``"session"``
            (the whole run) or ``"year"`` (annualised); the convention is in the module
            docstring and is written into the result as ``ratio_basis``.
        calendar
            ``"equity"`` (trading day of 6.5 h, 252 a year) or ``"crypto"`` (24 h, 365).

        Returns
        -------
        pandas.Series (object)
            P&L and its attribution, fills, traded quantity, maker share, final and
            largest absolute position, the run's counters, ``max_drawdown_ccy``, then
            ``ratio_basis`` (the convention of the ratios, in words), ``bars`` and the
            ratios. With ``capital > 0``: the metrics of :func:`qlib.risk.metric_table` on
            the per-record returns on capital, with Sharpe and Sortino per ``per``
            (Calmar and Omega stay annualised). Without capital the per-record P&L
            increments are not returns, so only the scale-free ratios are given (Sharpe,
            Sortino per ``per``; Omega, tail ratio, hit rate) and the drawdown is
            ``max_drawdown_ccy`` (currency). A metric the run cannot support is reported
            as :class:`qlib.signals.Unavailable` with the reason.

        Raises
        ------
        ParameterError
            Unknown ``per`` or ``calendar``.
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

        if per not in RATIO_PERIODS:
            raise ParameterError(f"per was {per!r}, expected one of {list(RATIO_PERIODS)}")
        if calendar not in ("equity", "crypto"):
            raise ParameterError(f"calendar was {calendar!r}, expected 'equity' or 'crypto'")
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
            "max_abs_position": (float(np.max(np.abs(self.equity_array["position"])))
                                 if len(self.equity_array) else 0.0),
        }
        head.update({k: v for k, v in self.counters.items() if k != "kernel_calls"})
        eq = self.equity["equity"]
        dd = eq - eq.cummax()
        head["max_drawdown_ccy"] = float(dd.min()) if len(dd) else 0.0
        rets = self.returns()
        try:
            p, basis = self.ratio_periods(per, calendar)
        except InsufficientDataError as exc:
            p, basis = None, Unavailable(f"ratio_basis: {exc}")
        out: dict[str, object] = {"ratio_basis": basis}
        ratios = {"sharpe_ratio": lambda r: sharpe_ratio(r, periods_per_year=p),
                  "sortino_ratio": lambda r: sortino_ratio(r, periods_per_year=p)}
        if self.capital > 0:
            try:
                table = metric_table(rets, calendar=calendar)
            except (InsufficientDataError, ParameterError) as exc:
                table = pd.Series({"metrics": Unavailable(str(exc))})
            out.update(table.to_dict())
        else:
            # P&L increments are not returns: only the scale-free ratios apply, and the
            # drawdown is the one in currency above
            out["bars"] = len(rets)
            for name, fn in {"omega_ratio": omega_ratio, "tail_ratio": tail_ratio,
                             "hit_rate": hit_rate}.items():
                try:
                    out[name] = fn(rets)
                except (InsufficientDataError, ParameterError) as exc:
                    out[name] = Unavailable(f"{name}: {exc}")
        for name, fn in ratios.items():
            if p is None:
                out[name] = Unavailable(f"{name}: {basis}")
                continue
            try:
                out[name] = fn(rets)
            except (InsufficientDataError, ParameterError) as exc:
                out[name] = Unavailable(f"{name}: {exc}")
        order = ["ratio_basis", "bars", "sharpe_ratio", "sortino_ratio"]
        metrics = {k: out[k] for k in order if k in out}
        metrics.update({k: v for k, v in out.items() if k not in metrics})
        return pd.concat([pd.Series(head, dtype=object), pd.Series(metrics, dtype=object)])


def _span(step: pd.Timedelta) -> str:
    """A record interval in words: ``1 s``, ``100 ms``, ``1 min``."""
    ns = int(step.value)
    for unit, size in (("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9), ("ms", 10**6),
                       ("us", 10**3)):
        if ns >= size and ns % size == 0:
            return f"{ns // size} {unit}"
    return f"{ns} ns"
