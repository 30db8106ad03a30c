r"""Tick-by-tick backtest: :func:`backtest` runs a strategy kernel over a day of events.

The whole event loop is one jitted kernel (built by :func:`qlib.engine._loop.make_loop`).
:func:`backtest` is four steps: :func:`_configure` checks the inputs and cuts the
replayed slice, :func:`_allocate` makes the loop's state, :func:`_run_until_done` calls
the kernel, growing a buffer when the kernel says it is full and calling it again where
it stopped, and :func:`_wrap` makes the :class:`~qlib.engine.result.BacktestResult`.

Two books are replayed from the same events: the **exchange** book at ``ts_exch``,
against which our orders are matched, and the **local** book at ``ts_local``, the only
one the strategy sees. Our messages travel between them with the order latency model
(:mod:`qlib.engine.models`): a new order reaches the exchange ``entry`` ns after the
strategy sent it, its acknowledgement and fills come back ``response`` ns after the
exchange produced them. Messages on the session keep their order (a message is never
due before the one sent ahead of it), as on one TCP connection.

Matching (after hftbacktest's partial-fill exchange [1]_):

* an order that crosses the exchange book on arrival takes liquidity level by level up
  to its limit (taker fills at each level's price); ``GTX`` (post-only) is refused
  instead, ``FOK`` trades all or nothing, ``IOC``/``MARKET`` remainders expire, a
  ``GTC`` remainder rests;
* a resting order fills completely when a trade prints through its price or the
  opposite best reaches it, and partly by what the queue model releases when trades
  print at its price (:mod:`qlib.engine.models`); with ``L3FifoQueue`` on order-level
  data its position is exact: the orders ahead of it are the ones at its price when it
  arrived, and an execution of an order behind it fills it first;
* with ``market_impact=True`` our aggressive fills remove the quantity they took from
  the exchange book's levels until the data next updates those levels.

Every intent passes the pre-trade risk kernel (:mod:`qlib.risk`) before it becomes an
order, and every order moves through the order state machine (:mod:`qlib.oms`) at
local time. The automatic kill-switch triggers are live: the daily-loss and drawdown
breakers are marked at every decision, round-trip latencies are observed on every
acknowledgement, a reject storm trips in the check itself, and stale market data
trips when the local book has not updated for ``max_md_age_ns``. Once tripped, the
engine cancels every working order and stops calling the strategy until reset.

References
----------
.. [1] Nakagawa, K. hftbacktest (v2.4), ``PartialFillExchange`` and the queue models,
   https://github.com/nkaz001/hftbacktest
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import functools
import inspect
import math
import numbers
import time
from typing import Any, Callable

import numpy as np
import pandas as pd

from qlib.book import l2 as _l2
from qlib.data.market_data import MarketData
from qlib.dtypes import (
    EVENT_DTYPE,
    SUBTICK_SCALE,
    require_dtype,
)
from qlib.engine import _alloc, _loop
from qlib.engine._alloc import LoopArgs, compact
from qlib.engine._consts import MAX_PX_TICK, MAX_QTY, PRICED_LUT
from qlib.engine.fees import Fees
from qlib.engine.models import (
    ConstantLatency,
    FeedProportionalLatency,
    L3FifoQueue,
    LogProbQueue,
    PowerProbQueue,
    ReplayLatency,
    RiskAdverseQueue,
    queue_from_name,
)
from qlib.engine.result import BacktestResult
from qlib.enums import EventFlag, EventKind, QueueModelKind, Status, StrategyKind
from qlib.errors import DataQualityError, EngineError, ParameterError
from qlib.instrument import Instrument
from qlib.risk.config import RiskConfig

__all__ = ["DEFAULT_LATENCY", "MAX_PX_TICK", "MAX_QTY", "FeedLatency", "backtest"]

#: The order latency when none is given: 1 ms from us to the exchange and 1 ms back.
DEFAULT_LATENCY = ConstantLatency(entry_ns=1_000_000, response_ns=1_000_000)

_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def _show(value: Any) -> str:
    """``repr`` of a parameter value for a message, numpy scalars as plain Python values."""
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


def _ns(value: Any, name: str, *, positive: bool = True) -> int:
    """An int64 duration in ns from an int (ns), a pandas Timedelta or a string ('100ms')."""
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be a duration, was {_show(value)}")
    if isinstance(value, (int, np.integer)):
        out = int(value)
    elif isinstance(value, (str, pd.Timedelta)):
        try:
            out = int(pd.Timedelta(value).value)
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"{name} must be a duration, was {_show(value)}") from exc
    else:
        raise ParameterError(f"{name} must be an int (ns), a Timedelta or a string, "
                             f"was {_show(value)}")
    if positive and out <= 0:
        raise ParameterError(f"{name} must be > 0, was {_show(value)}")
    if not positive and out < 0:
        raise ParameterError(f"{name} must be >= 0, was {_show(value)}")
    if out > _MAX_DURATION_NS:
        raise ParameterError(f"{name} must be at most {_MAX_DURATION_NS} ns (about 146 years), "
                             f"was {_show(value)}")
    return out


#: The clock argument of :func:`qlib.engine._loop.scan_events_clock` when it only counts.
_NO_CLOCK = np.empty(0, dtype=np.int64)

#: Longest duration a parameter may take: a quarter of the int64 ns range, so that
#: ``t + d`` on the engine's int64 clocks cannot overflow for any time before 2200.
_MAX_DURATION_NS = 2**62



def _check_events(ev: np.ndarray, row0: int) -> None:
    """Refuse prices and quantities the engine cannot compute with (see :data:`MAX_PX_TICK`).

    ``row0`` is the row of ``ev[0]`` in the array the caller passed, so messages name it.
    :func:`backtest` does not call this: it reads the same row from its one
    :func:`qlib.engine._loop.scan_events_clock` pass over the events.
    """
    bad_value = _loop.scan_events_clock(ev, np.uint8(0), np.empty(0, dtype=np.int64))[3]
    if bad_value >= 0:
        _refuse_flagged(ev, np.array([bad_value]), row0)


def _refuse_flagged(ev: np.ndarray, flagged: np.ndarray, row0: int) -> None:
    """Raise a :class:`DataQualityError` for the first of the rows ``flagged`` whose price or
    quantity the engine cannot compute with (the rule of
    :func:`qlib.engine._loop.scan_events_clock`, which finds the row; see :data:`MAX_PX_TICK`); ``row0`` is the row of ``ev[0]`` in the
    array the caller passed, so the message names it."""
    kind, px, qty = ev["kind"][flagged], ev["px_tick"][flagged], ev["qty"][flagged]
    limit = np.where(kind == EventKind.TRADE_SUBTICK, MAX_PX_TICK * SUBTICK_SCALE, MAX_PX_TICK)
    priced = PRICED_LUT[kind]
    bad_px = (px > limit) | (px < -limit) | (priced & (px < 1))
    bad_qty = ~((qty >= 0.0) & (qty <= MAX_QTY))  # NaN fails both comparisons
    where = np.flatnonzero(bad_px | bad_qty)
    if len(where) == 0:
        return
    j = int(where[0])
    row = row0 + int(flagged[j])
    k = int(kind[j])
    kname = EventKind(k).name if k in EventKind._value2member_map_ else str(k)
    if bad_px[j]:
        value = int(px[j])
        lim = int(limit[j])
        why = (f"expected 1 <= px_tick <= {lim:,} for {kname} rows" if priced[j]
               else f"expected |px_tick| <= {lim:,}")
        because = (" (qlib.engine.backtest.MAX_PX_TICK: larger prices lose float precision"
                   " or overflow the int64 tick arithmetic)" if abs(value) > lim else
                   " (a price is at least one tick; the engine reads 0 as an empty side)")
        raise DataQualityError(f"px_tick was {value} ({kname}), {why}{because}", row=row,
                               field="px_tick", value=value)
    value = float(qty[j])
    raise DataQualityError(f"qty was {value!r} ({kname}), expected a finite quantity in "
                           f"[0, {MAX_QTY:.0f}]", row=row, field="qty", value=value)


_LATENCY_FORMS = ("a latency model (ConstantLatency(...), FeedProportionalLatency(...), "
                  "ReplayLatency(...)), an int of ns >= 0, a pandas.Timedelta or "
                  "datetime.timedelta, or a duration string parsed by pandas.Timedelta "
                  "such as '1ms' (one number: the same latency each way)")


def _latency_model(latency: Any) -> Any:
    """The order latency model of ``backtest(latency=...)`` (see its docstring)."""
    if latency is None:
        return DEFAULT_LATENCY
    if isinstance(latency, (ConstantLatency, FeedProportionalLatency, ReplayLatency)):
        return latency
    if isinstance(latency, bool) or not isinstance(
            latency, (numbers.Integral, str, pd.Timedelta, _dt.timedelta, np.timedelta64)):
        raise ParameterError(f"latency was {_show(latency)}, expected {_LATENCY_FORMS}")
    if isinstance(latency, numbers.Integral):
        ns = int(latency)
    else:
        try:
            td = pd.Timedelta(latency)
        except (ValueError, TypeError, OverflowError):
            raise ParameterError(
                f"latency was {_show(latency)}, expected {_LATENCY_FORMS}") from None
        if td is pd.NaT:
            raise ParameterError(f"latency was {_show(latency)}, expected {_LATENCY_FORMS}")
        ns = int(td.value)
    if ns < 0 or ns > _MAX_DURATION_NS:
        raise ParameterError(f"latency was {_show(latency)} ({ns} ns), expected a duration in "
                             f"[0, {_MAX_DURATION_NS}] ns")
    return ConstantLatency(entry_ns=ns, response_ns=ns)


def _queue_model(queue: Any) -> Any:
    """The queue model of ``backtest(queue=...)``: a model object or its name."""
    if queue is None:
        return RiskAdverseQueue()
    if isinstance(queue, (RiskAdverseQueue, PowerProbQueue, LogProbQueue, L3FifoQueue)):
        return queue
    if isinstance(queue, str):
        return queue_from_name(queue)  # ParameterError naming the known names
    raise ParameterError(f"queue was {_show(queue)}, expected a queue model (RiskAdverseQueue(), "
                         "PowerProbQueue(n), LogProbQueue(), L3FifoQueue()) or its name "
                         "('risk_adverse', 'power_prob', 'log_prob', 'l3_fifo')")


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be True or False, was {_show(value)}")
    return bool(value)


def _check_capital(capital: Any) -> float:
    if isinstance(capital, (bool, np.bool_)) or not isinstance(capital, numbers.Real):
        raise ParameterError(f"capital must be a number (quote currency), was {_show(capital)}")
    value = float(capital)
    if not math.isfinite(value) or value < 0.0:
        raise ParameterError(f"capital must be finite and >= 0, was {_show(value)}")
    return value


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ParameterError(f"seed must be an int >= 0, was {_show(seed)}")
    if int(seed) < 0:
        raise ParameterError(f"seed must be an int >= 0, was {int(seed)}")
    return int(seed)


def _checked_keywords(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a call that does not fit ``func``'s signature into a :class:`ParameterError`.

    A misspelt keyword (``record_every=``) names the closest parameter (difflib); a
    missing or extra positional argument names the signature. The signature itself
    stays ``func``'s (``functools.wraps``), so ``help()`` and tab completion show it.
    """
    sig = inspect.signature(func)
    names = list(sig.parameters)
    shown: list[str] = []
    for prm in sig.parameters.values():
        if prm.kind is prm.KEYWORD_ONLY and "*" not in shown:
            shown.append("*")
        shown.append(prm.name)
    short = f"{func.__name__}({', '.join(shown)})"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        unknown = [k for k in kwargs if k not in sig.parameters]
        if unknown:
            close = difflib.get_close_matches(unknown[0], names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ParameterError(f"{func.__name__}() has no parameter {unknown[0]!r}{hint} "
                                 f"(parameters: {', '.join(names)})")
        try:
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise ParameterError(f"{short}: {exc}") from None
        return func(*args, **kwargs)

    return wrapper


class FeedLatency:
    r"""A seeded lognormal market-data latency for data without receive times (LOBSTER).

    ``ts_local = ts_exch + d``, :math:`d = m \, e^{\sigma Z}`, :math:`Z \sim N(0, 1)`,
    then made non-decreasing (a feed delivers in order).

    Parameters
    ----------
    median
        Median latency :math:`m` (ns, Timedelta or string).
    sigma
        Log-scale dispersion :math:`\sigma \ge 0` (0: constant).
    """

    def __init__(self, median: Any = "200us", sigma: float = 0.5) -> None:
        self.median_ns = _ns(median, "FeedLatency.median", positive=False)
        if not np.isfinite(sigma) or sigma < 0:
            raise ParameterError(f"FeedLatency.sigma must be finite and >= 0, was {_show(sigma)}")
        self.sigma = float(sigma)

    def sample(self, ts_exch: np.ndarray, seed: int) -> np.ndarray:
        """Local times for ``ts_exch`` (deterministic in ``seed``)."""
        rng = np.random.default_rng(seed)
        d = self.median_ns * np.exp(self.sigma * rng.standard_normal(ts_exch.shape[0]))
        return ts_exch + d.astype(np.int64)

    def __repr__(self) -> str:
        return f"FeedLatency(median={self.median_ns}ns, sigma={self.sigma})"


def _resolve_data(data: Any, instrument: Instrument | str | None) -> tuple[np.ndarray, Instrument]:
    if isinstance(instrument, str):
        from qlib.data.instruments import get

        instrument = get(instrument)  # an id of the registry; ParameterError when unknown
    if instrument is not None and not isinstance(instrument, Instrument):
        raise ParameterError(f"instrument must be a qlib.instrument.Instrument (its tick size "
                             f"converts prices), a registry id 'SYMBOL.VENUE' or None,"
                             f" was {instrument!r}")
    if isinstance(data, MarketData):
        return data.events, instrument or data.instrument
    if isinstance(data, np.ndarray):
        if instrument is None:
            raise ParameterError("instrument is required when data is an event array")
        return require_dtype(data, EVENT_DTYPE, name="events"), instrument
    raise ParameterError(f"data must be MarketData or an EVENT_DTYPE array, was {type(data).__name__}")


def _strategy_spec(strategy: Any) -> Any:
    from qlib.strategy import CustomStrategy

    if isinstance(strategy, str):
        raise ParameterError(f"strategy was the name {strategy!r}: build its spec with "
                             "qlib.strategy.strategy_from_name(name, **params)")
    if hasattr(strategy, "kind") and hasattr(strategy, "params_array"):
        return strategy
    if callable(strategy):
        return CustomStrategy(strategy)
    raise ParameterError(f"strategy must be a qlib.strategy spec, a name or an @njit kernel, was {strategy!r}")


@_checked_keywords
def backtest(
    data: MarketData | np.ndarray,
    strategy: Any,
    *,
    latency: Any = None,
    queue: Any = None,
    fees: Fees | None = None,
    risk: RiskConfig | None = None,
    start: Any = None,
    stop: Any = None,
    seed: int = 0,
    instrument: Instrument | None = None,
    decision_interval: Any = "100ms",
    record_interval: Any = "1s",
    depth_levels: int = 5,
    market_impact: bool = False,
    partial_fills: bool = True,
    feed_latency: FeedLatency | None = None,
    sigma_halflife: Any = "60s",
    capital: float = 0.0,
    session_end: Any = None,
) -> BacktestResult:
    r"""Backtest ``strategy`` on ``data``, tick by tick, with latency, queue and fees.

    Parameters
    ----------
    data
        :class:`qlib.data.MarketData`, or an :data:`qlib.dtypes.EVENT_DTYPE` array with
        ``instrument``. L2 (depth and trades) or L3 (order-level) events.
    strategy
        A strategy spec from :mod:`qlib.strategy` (``AvellanedaStoikov(...)``,
        ``GLFT(...)``, ``GridMM(...)``, ``ImbalanceMM(...)``, ``TouchMM(...)``,
        ``CustomStrategy(fn, ...)``), or an ``@njit`` kernel
        ``fn(view, params, state, out) -> int``.
    latency
        Order latency model (:mod:`qlib.engine.models`); default :data:`DEFAULT_LATENCY`
        (1 ms each way). As a shorthand for ``ConstantLatency(entry_ns=d,
        response_ns=d)``, one duration ``d`` the same each way: an int of ns >= 0, a
        ``pandas.Timedelta``/``datetime.timedelta``, or a string parsed by
        ``pandas.Timedelta`` (``"1ms"``, ``"250us"``).
    queue
        Queue position model; default ``RiskAdverseQueue()`` (conservative).
        ``L3FifoQueue()`` needs order-level data. A model's name (``"risk_adverse"``,
        ``"power_prob"``, ``"log_prob"``, ``"l3_fifo"``) builds it with its defaults
        (:func:`qlib.engine.queue_from_name`).
    fees
        :class:`Fees`; default the instrument's maker/taker schedule.
    risk
        :class:`qlib.risk.RiskConfig` for the pre-trade check and the kill switch;
        default no limits (every check still runs).
    start, stop
        Replay only events with ``start <= ts_exch < stop`` (int ns, Timestamp,
        datetime or string; naive times are UTC); ``start`` before ``stop``.
    seed
        Seed of the feed-latency sample (``feed_latency``), an int >= 0; the engine is
        otherwise deterministic, and equal inputs give bit-identical results.
    decision_interval
        Time between strategy decisions on the local clock (default 100 ms).
    record_interval
        Time between interval records (default 1 s).
    depth_levels
        Ticks from each best price (the best included) whose quantity is summed into
        the view's ``bid_depth``/``ask_depth`` (a price range, so reading it is bounded).
    market_impact
        Our aggressive fills remove the liquidity they took from the exchange book
        until the data next updates the level.
    partial_fills
        True (default): a resting order fills by what the queue model releases at its
        price. False: it fills completely once released (hftbacktest's no-partial-fill
        exchange, for comparisons with it).
    feed_latency
        :class:`FeedLatency` giving local times to data without them (LOBSTER's
        ``TS_LOCAL_SYNTH`` rows get it automatically, with the default model).
    sigma_halflife
        Half-life of the mid-volatility estimate in the view.
    capital
        Starting cash, quote currency (equity starts here); finite and >= 0.
    session_end
        End of the horizon of finite-horizon strategies (the view's ``ts_end``, e.g. the
        close); default ``stop`` when given, else the midnight UTC after the first event.
        Never taken from the data's last event, which would tell every decision when
        the data ends.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ParameterError
        An unknown (misspelt: the closest name is suggested), ill-typed or out-of-range
        parameter, an inverse instrument, L3 queue on L2 data. Raised before any event
        is replayed.
    DataQualityError
        The events cannot be replayed (the row and the reason are named): ``ts_exch``
        not sorted, a ``qty`` that is negative, NaN, infinite or above :data:`MAX_QTY`,
        or a ``px_tick`` below 1 tick (kinds that carry a price) or above
        :data:`MAX_PX_TICK` (the bound that keeps prices exact in float64 and the
        int64 tick arithmetic far from overflow).
    """
    cfg = _configure(data, strategy, latency=latency, queue=queue, fees=fees, risk=risk,
                     start=start, stop=stop, seed=seed, instrument=instrument,
                     decision_interval=decision_interval, record_interval=record_interval,
                     depth_levels=depth_levels, market_impact=market_impact,
                     partial_fills=partial_fills, feed_latency=feed_latency,
                     sigma_halflife=sigma_halflife, capital=capital, session_end=session_end)
    state = _allocate(cfg)
    n_calls, t_loop0, t_loop = _run_until_done(cfg, state)
    return _wrap(cfg, state, n_calls, t_loop0, t_loop)


@dataclasses.dataclass(frozen=True)
class _Config:
    """What :func:`_configure` settles before anything is allocated: the checked
    parameters, the replayed slice of events and its local clock."""

    t_start: float  # perf_counter at the call
    inst: Instrument
    spec: Any  # the strategy spec
    latency: Any
    queue: Any
    fees: Fees
    risk: RiskConfig
    seed: int
    capital: float
    dec_iv: int  # ns between decisions
    rec_iv: int  # ns between interval records
    sigma_hl: int  # ns
    depth_levels: int
    market_impact: bool
    partial_fills: bool
    lat_kind: int  # LatencyModelKind
    lat_p: np.ndarray  # latency model parameters
    lat_log: np.ndarray  # replayed latency log (ReplayLatency)
    q_kind: int  # QueueModelKind
    qp: np.ndarray  # queue model parameters
    ev: np.ndarray  # the replayed events (EVENT_DTYPE, contiguous)
    ts_loc: np.ndarray  # their local times (int64 ns, non-decreasing)
    is_l3: bool  # the events hold order-level kinds
    feed_desc: str  # where the local clock came from
    n_reordered: int  # local times raised to keep the feed in order
    start: Any
    stop: Any
    ts_end: int  # session end, ns


def _configure(data: Any, strategy: Any, *, latency: Any, queue: Any, fees: Any, risk: Any,
               start: Any, stop: Any, seed: Any, instrument: Any, decision_interval: Any,
               record_interval: Any, depth_levels: Any, market_impact: Any,
               partial_fills: Any, feed_latency: Any, sigma_halflife: Any, capital: Any,
               session_end: Any) -> _Config:
    """Check every parameter, cut the replayed slice, scan it once (order, kinds, values)
    and make its local clock; raise before anything is allocated."""
    t_start = time.perf_counter()
    events, inst = _resolve_data(data, instrument)
    if inst.inverse:
        raise ParameterError("inverse instruments are not supported by the backtest yet "
                             f"(instrument {inst.instrument_id})")
    spec = _strategy_spec(strategy)
    latency = _latency_model(latency)
    queue = _queue_model(queue)
    fees = Fees.from_instrument(inst) if fees is None else fees
    if not isinstance(fees, Fees):
        raise ParameterError(f"fees must be a qlib.engine.Fees, was {fees!r}")
    risk = RiskConfig() if risk is None else risk
    if not isinstance(risk, RiskConfig):
        raise ParameterError(f"risk must be a qlib.risk.RiskConfig or None, was {risk!r}")
    if isinstance(depth_levels, (bool, np.bool_)) or not isinstance(
            depth_levels, (int, np.integer)) or not 1 <= depth_levels <= 64:
        raise ParameterError(f"depth_levels must be an int in [1, 64], was {_show(depth_levels)}")
    dec_iv = _ns(decision_interval, "decision_interval")
    rec_iv = _ns(record_interval, "record_interval")
    sigma_hl = _ns(sigma_halflife, "sigma_halflife")
    capital = _check_capital(capital)
    seed = _check_seed(seed)
    market_impact = _check_bool(market_impact, "market_impact")
    partial_fills = _check_bool(partial_fills, "partial_fills")
    if feed_latency is not None and not isinstance(feed_latency, FeedLatency):
        raise ParameterError(f"feed_latency must be a qlib.engine.FeedLatency(median, sigma) "
                             f"or None, was {feed_latency!r}")
    lat_kind, lat_p, lat_log = latency.to_arrays()
    q_kind, qp = queue.to_arrays()

    # the replayed slice
    ts_exch = events["ts_exch"]
    t_lo = None if start is None else _ts(start, "start")
    t_hi = None if stop is None else _ts(stop, "stop")
    if t_lo is not None and t_hi is not None and t_lo >= t_hi:
        raise ParameterError(f"start must be before stop, was start={_show(start)}, "
                             f"stop={_show(stop)}")
    lo = 0 if t_lo is None else int(np.searchsorted(ts_exch, t_lo, "left"))
    hi = len(events) if t_hi is None else int(np.searchsorted(ts_exch, t_hi, "left"))
    ev = np.ascontiguousarray(events[lo:hi])
    if len(events) == 0:
        raise ParameterError("data has no events")
    if len(ev) == 0:
        raise ParameterError(f"no events between start={_show(start)} and stop={_show(stop)}")
    # one pass: order, kinds and values checked, and whether the data's own ts_local is
    # a feed's clock (a local time is never before its exchange time, and a feed delivers
    # in order); when it is, the loop reads the column in place (no copy)
    bad_row, n_l3, n_synth, bad_value, n_reordered, n_changed = _loop.scan_events_clock(
        ev, np.uint8(EventFlag.TS_LOCAL_SYNTH), _NO_CLOCK)
    if bad_row >= 0:
        raise DataQualityError(f"events are not sorted by ts_exch at row {lo + bad_row} "
                               f"(ts_exch={int(ev['ts_exch'][bad_row])}, after "
                               f"{int(ev['ts_exch'][bad_row - 1])})")
    if bad_value >= 0:
        _refuse_flagged(ev, np.array([bad_value]), lo)
    is_l3 = n_l3 > 0
    if q_kind == QueueModelKind.L3_FIFO and not is_l3:
        raise ParameterError("queue=L3FifoQueue() needs order-level (L3) events; these are L2")
    if market_impact and is_l3:
        raise ParameterError(
            "market_impact=True needs price-level (L2) events: on order-level data the book "
            "is the sum of its orders, and taking quantity from a level would leave orders "
            "the data later cancels or executes; convert with qlib.book.to_l2(events)")
    if feed_latency is not None or n_synth == len(ev):
        fl = feed_latency or FeedLatency()
        ts_loc = fl.sample(ev["ts_exch"], seed)
        feed_desc = repr(fl)
        n_reordered = int(_loop.local_clock(ev, ts_loc))
    elif n_changed == 0:
        ts_loc = ev["ts_local"]  # a view: the loop reads the column in place
        feed_desc = "data ts_local"
        n_reordered = 0
    else:
        ts_loc = np.empty(len(ev), dtype=np.int64)
        ts_loc[:] = ev["ts_local"]
        feed_desc = "data ts_local"
        n_reordered = int(_loop.local_clock(ev, ts_loc))
    if risk.capital == 0.0 and capital != 0.0:
        risk = dataclasses.replace(risk, capital=float(capital))
    return _Config(
        t_start=t_start, inst=inst, spec=spec, latency=latency, queue=queue, fees=fees,
        risk=risk, seed=seed, capital=capital, dec_iv=dec_iv, rec_iv=rec_iv,
        sigma_hl=sigma_hl, depth_levels=int(depth_levels), market_impact=market_impact,
        partial_fills=partial_fills, lat_kind=int(lat_kind), lat_p=lat_p, lat_log=lat_log,
        q_kind=int(q_kind), qp=qp, ev=ev, ts_loc=ts_loc, is_l3=is_l3, feed_desc=feed_desc,
        n_reordered=n_reordered, start=start, stop=stop,
        ts_end=_session_end(session_end, stop, int(ts_loc[0])))


def _allocate(cfg: _Config) -> LoopArgs:
    """The loop's registers, configuration, books and first-size buffers
    (:func:`qlib.engine._alloc.allocate`)."""
    return _alloc.allocate(cfg)


def _run_until_done(cfg: _Config, s: LoopArgs) -> tuple[int, float, float]:
    """Call the loop until it reports the end, growing the buffer it names each time it
    stops on a full one; ``(calls, perf_counter at the start, seconds)``."""
    spec = cfg.spec
    custom = spec.kind == StrategyKind.CUSTOM
    run = _loop.loop_for(custom, not cfg.is_l3)
    kern = _loop.as_kernel(spec.fn, spec.name) if custom else None
    n_calls = 0
    t_loop0 = time.perf_counter()
    while True:
        n_calls += 1
        status, row = run(*s.loop_args(), kern)
        if status == Status.OK:
            break
        if status != Status.CAPACITY:
            if row >= 0:
                _l2.raise_status(s.market.ev, int(status), int(row))
            raise EngineError(f"backtest loop stopped with {Status(int(status)).name}"
                              + _last_refusal(s.oms.journal[: s.oms.jlen[0]]))
        _alloc.grow(s)
    return n_calls, t_loop0, time.perf_counter() - t_loop0


def _wrap(cfg: _Config, s: LoopArgs, n_calls: int, t_loop0: float, t_loop: float
          ) -> BacktestResult:
    """The result: the used rows of every buffer, counters, timings and parameters."""
    r, c = s.state[0], s.config[0]
    ev, fills, recs = s.market.ev, s.out.fills, s.out.recs
    orders, oxs, journal, jlen = s.oms.orders, s.oms.oxs, s.oms.journal, s.oms.jlen
    inst, spec, prt, positions, cash = cfg.inst, cfg.spec, s.prt, s.pf.positions, s.pf.cash
    capital, n_reordered, t_start = cfg.capital, cfg.n_reordered, cfg.t_start
    latency, queue, fees, risk, seed = cfg.latency, cfg.queue, cfg.fees, cfg.risk, cfg.seed
    dec_iv, rec_iv, feed_desc, start, stop = (cfg.dec_iv, cfg.rec_iv, cfg.feed_desc, cfg.start,
                                              cfg.stop)
    return BacktestResult(
        instrument=inst,
        strategy=spec,
        fills_array=compact(fills, int(r["n_fills"])),
        equity_array=compact(recs, int(r["n_rec"])),
        orders_array=compact(orders, int(r["n_orders"])),
        exch_leaves_array=oxs["leaves"][: int(r["n_orders"])].copy(),
        journal_array=compact(journal, int(jlen[0])),
        risk=prt,
        positions_array=positions.copy(),
        cash=float(cash[0]),
        capital=float(capital),
        counters={
            "events": len(ev),
            "decisions": int(r["n_dec"]),
            "orders_submitted": int(r["n_submit"]),
            "cancels_sent": int(r["n_cancel"]),
            "rejected_by_risk": int(r["n_reject_risk"]),
            "rejected_by_venue": int(r["n_reject_venue"]),
            "fills": int(r["n_fills"]),
            "local_ts_reordered": n_reordered,
            "kernel_calls": n_calls,
        },
        timings={"prepare_s": t_loop0 - t_start, "loop_s": t_loop},
        params={
            "latency": latency, "queue": queue, "fees": fees, "risk": risk, "seed": seed,
            "decision_interval_ns": dec_iv, "record_interval_ns": rec_iv,
            "depth_levels": cfg.depth_levels, "market_impact": cfg.market_impact,
            "partial_fills": cfg.partial_fills,
            "feed_latency": feed_desc, "start": start, "stop": stop,
            "session_end_ns": int(r["ts_end"]),
        },
        events_array=ev,
        final_mid_tick=float(r["last_mid"]),
        edge=float(r["edge"]) * float(c["tick_value"]),
        strategy_state_array=s.strat.state.copy(),
        view_array=s.strat.view_row.copy(),
    )


def _last_refusal(journal: np.ndarray) -> str:
    """The last transition the order state machine refused, for an engine error message."""
    from qlib.enums import OrderEvent, OrderStatus

    bad = np.flatnonzero(journal["status"] != Status.OK)
    if len(bad) == 0:
        return ""
    r = journal[bad[-1]]
    return (f": order {int(r['order_id'])} refused {OrderEvent(int(r['event'])).name} in "
            f"{OrderStatus(int(r['from_state'])).name} at ts={int(r['ts'])}")


def _session_end(session_end: Any, stop: Any, ts_first: int) -> int:
    """The view's ``ts_end``: explicit, else ``stop``, else the next midnight UTC."""
    if session_end is not None:
        ts_end = _ts(session_end, "session_end")
        if ts_end <= ts_first:
            raise ParameterError(
                f"session_end must be after the first replayed event "
                f"({pd.Timestamp(ts_first, tz='UTC')}), was {_show(session_end)}")
        return ts_end
    if stop is not None:
        return _ts(stop, "stop")
    day = pd.Timestamp(ts_first, tz="UTC").normalize() + pd.Timedelta(days=1)
    return int(day.value)


def _ts(value: Any, name: str) -> int:
    """Int ns UTC from an int (ns), a Timestamp, a datetime or a string; naive is UTC."""
    if isinstance(value, (bool, np.bool_, float, np.floating)):
        raise ParameterError(f"{name} must be a timestamp (int ns, Timestamp, datetime or "
                             f"string), was {_show(value)}")
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ParameterError(f"{name} must be a timestamp, was {_show(value)}") from exc
    if t is pd.NaT:
        raise ParameterError(f"{name} must be a timestamp, was {_show(value)} (NaT)")
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    return int(t.value)
