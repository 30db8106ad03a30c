r"""Run hftbacktest (2.x, Rust core) on qlib event streams: the reference half of the parity
test and of the speed benchmark.

This is the one place the hftbacktest glue lives. ``tests/parity/test_hbt_runner.py`` and
``tests/parity/test_engine_hftbacktest.py`` import it as ``tests.parity._hbt`` (or
``_hbt`` with ``tests/parity`` on ``sys.path``); ``benchmarks/bench_engine_hbt.py`` puts
``tests/parity`` on ``sys.path`` and imports ``_hbt``. It needs only numpy, numba and
``hftbacktest`` (installed ``--no-deps``: none of its polars/holoviews utilities are used).

Contents
--------
* :func:`synthetic_l2_stream`: a deterministic L2 stream of exactly ``n_events`` rows
  (:func:`qlib.data.simulate` then :func:`qlib.book.to_l2`).
* :func:`to_hbt_events`: an L2 :data:`qlib.dtypes.EVENT_DTYPE` array to hftbacktest's
  ``event_dtype``.
* :func:`run_hbt_touch`: the quoting strategy (cancel/replace at the touch every
  ``interval_ns``) on ``ROIVectorMarketDepthBacktest`` or ``HashMapMarketDepthBacktest``.
* :func:`run_hbt_replay`: the same backtest with no orders (feed replay only).

hftbacktest semantics this relies on (read in hftbacktest 2.x sources, repository
``nkaz001/hftbacktest``: ``py-hftbacktest/hftbacktest/{types,order,binding}.py`` as
installed, ``hftbacktest/src/backtest/proc/{partialfillexchange,local}.rs``,
``hftbacktest/src/backtest/models/queue.rs``, ``.../data/validation.py``):

* **Event rows.** ``ev`` is a bit set: ``EXCH_EVENT`` (1 << 31) = the exchange processor
  applies the row at ``exch_ts``; ``LOCAL_EVENT`` (1 << 30) = the local (strategy) processor
  applies it at ``local_ts``; ``BUY_EVENT``/``SELL_EVENT`` = bid/ask side for depth rows,
  *initiator* (aggressor) side for trade rows; low bits the kind (``DEPTH_EVENT`` = 1,
  ``TRADE_EVENT`` = 2, ``DEPTH_CLEAR_EVENT`` = 3, ``DEPTH_SNAPSHOT_EVENT`` = 4). Each
  processor scans forward for the next row carrying its flag, so the ``EXCH_EVENT`` rows
  must be in ``exch_ts`` order and the ``LOCAL_EVENT`` rows in ``local_ts`` order. When
  feed latency reorders events (lognormal latency does), a row is written twice, once
  with each flag, as hftbacktest's ``correct_event_order`` does; otherwise once with both.
* **Depth** rows carry the absolute quantity at ``px`` (0 removes); trades do not change
  the depth (an L2 feed publishes the depth change separately): hence ``to_l2`` writes the
  trade *before* the depth update it causes.
* **Latency** (``constant_order_latency(entry, response)``): a request made at local time
  ``t`` reaches the exchange at ``t + entry``; every exchange response (ack, GTX expiry,
  fill, cancel ack, cancel reject) reaches the local side ``response`` ns after the
  exchange timestamp of the event that produced it; the local position changes when a
  ``FILLED`` response arrives.
* **GTX**: at arrival, a buy with ``price_tick >= best_ask_tick`` (a sell with
  ``price_tick <= best_bid_tick``) is answered ``EXPIRED``; otherwise it rests with queue
  ahead = the level's quantity at arrival (every queue model's ``new_order``).
* **Fills of a resting order** (no-partial-fill exchange, the whole order at its own
  price, maker): (a) a trade *through* it (buy order: a seller-initiated trade at a lower
  price; sell order: a buyer-initiated trade at a higher price); (b) a trade *at* its price
  from the other side, after ``queue.trade`` lowers the queue ahead by the trade quantity,
  when ``is_filled`` > 0, i.e. ``round(ahead / lot) < 0`` and ``floor(-ahead / lot) >= 1``:
  the prints must exceed the queue ahead by at least one lot; (c) a depth update that
  moves the opposite best to or through its price (only on a best *change*). Depth
  updates at its price call ``queue.depth(prev, new)``: risk-averse ``ahead = min(ahead,
  new)``; power/log ``ProbQueueModel`` spreads the decrease net of the trades seen since
  the last update by ``p = f(back) / (f(back) + f(ahead))``.
* **Order ids** must be unique among the orders in hftbacktest's local map
  (``OrderIdExist`` otherwise; ``clear_inactive_orders`` drops dead ones); a cancel of an
  order with a request in flight is refused (``OrderRequestInProcess``); a cancel reaching
  the exchange after the order is gone comes back as a rejected request.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from numba import njit, types
from numba.typed import Dict, List

from qlib.dtypes import EVENT_DTYPE, require_dtype
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, EngineError, ParameterError

try:  # the module imports without hftbacktest so that pytest can skip with a reason
    import hftbacktest as _hbt
    from hftbacktest import (
        BUY_EVENT,
        DEPTH_CLEAR_EVENT,
        DEPTH_EVENT,
        GTX,
        LIMIT,
        SELL_EVENT,
        TRADE_EVENT,
        BacktestAsset,
        HashMapMarketDepthBacktest,
        ROIVectorMarketDepthBacktest,
    )
    from hftbacktest.binding import event_dtype as HBT_EVENT_DTYPE
except ImportError:  # pragma: no cover - exercised only without hftbacktest
    _hbt = None
    HBT_EVENT_DTYPE = None

__all__ = [
    "HBT_EVENT_DTYPE",
    "run_hbt_replay",
    "run_hbt_touch",
    "synthetic_l2_stream",
    "to_hbt_events",
]

#: L2 rows per simulated model event with the default SimParams (measured: 1.05); used
#: only to size the first simulation.
_L2_PER_MODEL_EVENT = 1.04

# hftbacktest order status / request codes (hftbacktest/order.py)
_ST_NEW = 1
_ST_FILLED = 3
_ST_PARTIAL = 5
_REQ_NONE = 0
_REQ_NEW = 1


def _require_hbt() -> None:
    if _hbt is None:
        raise EngineError("hftbacktest is not importable; install hftbacktest==2.4.4")


# ----------------------------------------------------------------------------- streams
def synthetic_l2_stream(n_events: int, seed: int = 7) -> tuple[np.ndarray, Any]:
    """Return ``(l2_events, instrument)``: exactly ``n_events`` L2 rows of the simulated market.

    :func:`qlib.data.simulate` (default :class:`qlib.data.SimParams`, ``seed``) is sized
    so that :func:`qlib.book.to_l2` gives at least ``n_events`` rows, then the
    stream is cut to ``n_events`` (the last exchange event may be cut). The
    ``TS_LOCAL_SYNTH`` flag is cleared: ``ts_local`` (``simulate``'s lognormal feed
    latency) is the local clock both engines use. The same ``(n_events, seed)`` gives the
    same bytes.
    """
    from qlib.data import simulate
    from qlib.book import to_l2

    if n_events < 1:
        raise ParameterError(f"n_events must be >= 1, was {n_events!r}")
    n_model = max(1000, math.ceil(n_events / _L2_PER_MODEL_EVENT))
    while True:
        md = simulate(n_events=n_model, seed=seed)
        l2 = to_l2(md.events, instrument=md.instrument)
        if l2.shape[0] >= n_events:
            out = l2[:n_events].copy()
            # simulate() marks ts_local as derived (TS_LOCAL_SYNTH), and qlib's engine
            # re-samples such local times; the parity runs must share one local clock, so
            # this stream declares simulate()'s sampled ts_local as the real one.
            out["flags"] &= np.uint8(0xFF ^ int(EventFlag.TS_LOCAL_SYNTH))
            return out, md.instrument
        n_model = int(n_model * 1.1) + 1000


@njit(cache=True)
def _merge_exch_local(src, local_order, out):
    """Write ``src`` rows (in exch order) into ``out`` so that EXCH rows follow ``src``
    order and LOCAL rows follow ``local_order``; a row at the same place in both orders is
    written once with both flags. Returns the number of rows written."""
    n = src.shape[0]
    i = 0
    j = 0
    k = 0
    exch = np.uint64(EXCH_EVENT_V)
    local = np.uint64(LOCAL_EVENT_V)
    while i < n or j < n:
        if i < n and j < n and local_order[j] == i:
            out[k] = src[i]
            out[k]["ev"] = src[i]["ev"] | exch | local
            i += 1
            j += 1
        elif i < n and (j >= n or src[i]["exch_ts"] <= src[local_order[j]]["exch_ts"]):
            out[k] = src[i]
            out[k]["ev"] = src[i]["ev"] | exch
            i += 1
        else:
            r = local_order[j]
            out[k] = src[r]
            out[k]["ev"] = src[r]["ev"] | local
            j += 1
        k += 1
    return k


#: hftbacktest's EXCH_EVENT / LOCAL_EVENT bits (hftbacktest/types.py), as plain ints so
#: that the kernel compiles without hftbacktest imported.
EXCH_EVENT_V = 1 << 31
LOCAL_EVENT_V = 1 << 30


def to_hbt_events(l2_events: np.ndarray, tick_size: float, lot_size: float) -> np.ndarray:
    """Convert an L2 stream into hftbacktest's ``event_dtype`` array.

    Parameters
    ----------
    l2_events
        :data:`qlib.dtypes.EVENT_DTYPE` of kinds ``DEPTH``, ``TRADE``, ``CLEAR`` (and
        ``QUOTE``/``HALT``/``RESUME_*``, which are dropped), ``ts_exch`` non-decreasing, as
        :func:`qlib.book.to_l2` returns.
    tick_size, lot_size
        The instrument's grid: ``px = px_tick * tick_size``; ``lot_size`` is checked only.

    Returns
    -------
    numpy.ndarray
        ``event_dtype`` rows: ``DEPTH_EVENT`` with ``BUY_EVENT`` (bid) / ``SELL_EVENT``
        (ask) and the absolute level quantity; ``TRADE_EVENT`` with ``BUY_EVENT`` /
        ``SELL_EVENT`` for the aggressor (a trade with ``Side.NONE`` gets neither flag,
        so hftbacktest's exchange ignores it for fills); ``DEPTH_CLEAR_EVENT`` (both
        sides for ``Side.NONE``; for one side, ``px`` is the farthest price of the
        stream on that side, so the whole side is cleared). ``EXCH_EVENT`` and
        ``LOCAL_EVENT`` are set so that EXCH rows are in ``exch_ts`` order and LOCAL rows
        in (stable) ``local_ts`` order, duplicating rows that latency reorders.
        ``order_id``, ``ival`` and ``fval`` are 0.

    Raises
    ------
    SchemaError
        If ``l2_events`` is not an EVENT_DTYPE array.
    DataQualityError
        For an L3 kind, a ``ts_exch`` that goes backwards, or a bad tick/lot size.
    """
    _require_hbt()
    require_dtype(l2_events, EVENT_DTYPE, name="l2_events")
    if not (tick_size > 0 and math.isfinite(tick_size) and lot_size > 0
            and math.isfinite(lot_size)):
        raise ParameterError(f"tick_size and lot_size must be > 0, were {tick_size!r}, "
                             f"{lot_size!r}")
    kind = l2_events["kind"]
    l3 = np.isin(kind, [EventKind.ADD, EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE,
                        EventKind.MODIFY, EventKind.SNAPSHOT])
    if l3.any():
        row = int(np.flatnonzero(l3)[0])
        raise DataQualityError(f"to_hbt_events needs an L2 stream (qlib.book.to_l2);"
                               f" kind was {EventKind(int(kind[row])).name}", row=row,
                               field="kind", value=int(kind[row]))
    keep = np.isin(kind, [EventKind.DEPTH, EventKind.TRADE, EventKind.CLEAR])
    ev = l2_events[keep]
    back = np.flatnonzero(np.diff(ev["ts_exch"]) < 0)
    if back.size:
        r = int(back[0]) + 1
        raise DataQualityError(f"ts_exch goes backwards: {int(ev['ts_exch'][r])} after "
                               f"{int(ev['ts_exch'][r - 1])}", row=r, field="ts_exch")
    n = ev.shape[0]
    src = np.zeros(n, dtype=HBT_EVENT_DTYPE)
    k = ev["kind"]
    s = ev["side"]
    code = np.zeros(n, dtype=np.uint64)
    code[k == EventKind.DEPTH] = DEPTH_EVENT
    code[k == EventKind.TRADE] = TRADE_EVENT
    code[k == EventKind.CLEAR] = DEPTH_CLEAR_EVENT
    code[s == Side.BUY] |= np.uint64(BUY_EVENT)
    code[s == Side.SELL] |= np.uint64(SELL_EVENT)
    src["ev"] = code
    src["exch_ts"] = ev["ts_exch"]
    src["local_ts"] = ev["ts_local"]
    src["px"] = ev["px_tick"].astype(np.float64) * tick_size
    src["qty"] = ev["qty"]
    clear = k == EventKind.CLEAR
    if clear.any():
        depth = k == EventKind.DEPTH
        lo = ev["px_tick"][depth].min() if depth.any() else 0
        hi = ev["px_tick"][depth].max() if depth.any() else 0
        src["px"][clear & (s == Side.BUY)] = lo * tick_size
        src["px"][clear & (s == Side.SELL)] = hi * tick_size
        src["px"][clear & (s == Side.NONE)] = 0.0
        src["qty"][clear] = 0.0
    local_order = np.argsort(ev["ts_local"], kind="stable").astype(np.int64)
    out = np.zeros(2 * n, dtype=HBT_EVENT_DTYPE)
    m = _merge_exch_local(src, local_order, out)
    return out[:m].copy()


# ----------------------------------------------------------------------------- backtests
def _build(hbt_events, *, tick_size, lot_size, entry_latency_ns, response_latency_ns, queue,
           power_n, maker_fee, taker_fee, partial_fill, depth, roi, last_trades_capacity):
    _require_hbt()
    require_dtype(hbt_events, HBT_EVENT_DTYPE, name="hbt_events")
    asset = (BacktestAsset()
             .data(hbt_events)
             .linear_asset(1.0)
             .constant_order_latency(int(entry_latency_ns), int(response_latency_ns)))
    if queue == "risk_adverse":
        asset = asset.risk_adverse_queue_model()
    elif queue == "power":
        asset = asset.power_prob_queue_model(float(power_n))
    elif queue == "log":
        asset = asset.log_prob_queue_model()
    else:
        raise ParameterError(f"queue must be 'risk_adverse', 'power' or 'log', was {queue!r}")
    asset = asset.partial_fill_exchange() if partial_fill else asset.no_partial_fill_exchange()
    asset = (asset.trading_value_fee_model(float(maker_fee), float(taker_fee))
             .tick_size(float(tick_size)).lot_size(float(lot_size))
             .last_trades_capacity(int(last_trades_capacity)))
    if depth == "roi":
        if roi is None:
            px = hbt_events["px"][(hbt_events["ev"] & np.uint64(0xFF)) == DEPTH_EVENT]
            lo, hi = float(px.min()), float(px.max())
            pad = max(100 * tick_size, 0.1 * (hi - lo))
            roi = (max(tick_size, lo - pad), hi + pad)
        asset = asset.roi_lb(float(roi[0])).roi_ub(float(roi[1]))
        return ROIVectorMarketDepthBacktest([asset])
    if depth == "hashmap":
        return HashMapMarketDepthBacktest([asset])
    raise ParameterError(f"depth must be 'roi' or 'hashmap', was {depth!r}")


@njit
def _record_fills(hbt, seen, tick_size, fill_ts, fill_side, fill_px, fill_qty):
    """Append the executions of local orders since the last call (see :func:`run_hbt_touch`)."""
    values = hbt.orders(0).values()
    while values.has_next():
        o = values.get()
        oid = o.order_id
        done = o.qty - o.leaves_qty
        prev = seen.get(oid, 0.0)
        if done > prev + 1e-12 and o.status != 0:
            fill_ts.append(o.exch_timestamp)
            fill_side.append(np.int8(o.side))
            fill_px.append(o.exec_price_tick * tick_size)
            fill_qty.append(done - prev)
            seen[oid] = done


@njit
def _touch_loop(hbt, interval_ns, order_qty, max_position, count_working, tick_size, fill_ts,
                fill_side, fill_px, fill_qty, counters):
    """Quote GTX at the touch every ``interval_ns``; see :func:`run_hbt_touch`."""
    seen = Dict.empty(key_type=types.uint64, value_type=types.float64)
    next_id = np.uint64(1)
    n_submit = 0
    n_cancel = 0
    n_trades_seen = 0
    rc = 0
    while True:
        rc = hbt.elapse(interval_ns)
        if rc != 0:
            break
        n_trades_seen += len(hbt.last_trades(0))
        hbt.clear_last_trades(0)
        _record_fills(hbt, seen, tick_size, fill_ts, fill_side, fill_px, fill_qty)
        depth = hbt.depth(0)
        bid = depth.best_bid_tick
        ask = depth.best_ask_tick
        pos = hbt.position(0)
        valid = bid > -(1 << 62) and ask < (1 << 62) and bid < ask
        # live quantity per side (orders NEW / PARTIALLY_FILLED or with a new-order request
        # in flight, including those being cancelled): used by count_working only
        buy_live = 0.0
        sell_live = 0.0
        if count_working:
            values = hbt.orders(0).values()
            while values.has_next():
                o = values.get()
                if o.status == _ST_NEW or o.status == _ST_PARTIAL or o.req == _REQ_NEW:
                    if o.side == 1:
                        buy_live += o.leaves_qty
                    else:
                        sell_live += o.leaves_qty
        want_buy = valid and pos + order_qty <= max_position + 1e-9
        want_sell = valid and pos - order_qty >= -max_position - 1e-9
        have_bid = False
        have_ask = False
        values = hbt.orders(0).values()
        while values.has_next():
            o = values.get()
            oid = o.order_id
            live = (o.status == _ST_NEW or o.status == _ST_PARTIAL or o.req == _REQ_NEW)
            if not live:
                if oid in seen and o.status != _ST_PARTIAL:
                    seen.pop(oid)
                continue
            if o.req != _REQ_NONE and o.req != _REQ_NEW:
                continue  # a cancel in flight
            if o.side == 1:
                if want_buy and o.price_tick == bid and o.qty == order_qty and not have_bid:
                    have_bid = True
                elif o.cancellable:
                    hbt.cancel(0, oid, False)
                    n_cancel += 1
            else:
                if want_sell and o.price_tick == ask and o.qty == order_qty and not have_ask:
                    have_ask = True
                elif o.cancellable:
                    hbt.cancel(0, oid, False)
                    n_cancel += 1
        if count_working:
            want_buy = want_buy and pos + buy_live + order_qty <= max_position + 1e-9
            want_sell = want_sell and -pos + sell_live + order_qty <= max_position + 1e-9
        if want_buy and not have_bid:
            hbt.submit_buy_order(0, next_id, bid * tick_size, order_qty, GTX, LIMIT, False)
            next_id += np.uint64(1)
            n_submit += 1
        if want_sell and not have_ask:
            hbt.submit_sell_order(0, next_id, ask * tick_size, order_qty, GTX, LIMIT, False)
            next_id += np.uint64(1)
            n_submit += 1
        hbt.clear_inactive_orders(0)
    # fills that arrived with the last elapse
    _record_fills(hbt, seen, tick_size, fill_ts, fill_side, fill_px, fill_qty)
    n_trades_seen += len(hbt.last_trades(0))
    counters[0] = n_submit
    counters[1] = n_cancel
    counters[2] = n_trades_seen
    counters[3] = rc
    return rc


@njit
def _replay_loop(hbt, interval_ns, counters):
    """Elapse through every event with no orders; see :func:`run_hbt_replay`."""
    n_trades_seen = 0
    rc = 0
    while True:
        rc = hbt.elapse(interval_ns)
        n_trades_seen += len(hbt.last_trades(0))
        hbt.clear_last_trades(0)
        if rc != 0:
            break
    counters[2] = n_trades_seen
    counters[3] = rc
    return rc


def _state(hbt) -> dict[str, Any]:
    sv = hbt.state_values(0)
    depth = hbt.depth(0)
    bid, ask = int(depth.best_bid_tick), int(depth.best_ask_tick)
    tick = float(depth.tick_size)
    mid = 0.5 * (bid + ask) * tick if -(1 << 62) < bid < ask < (1 << 62) else float("nan")
    pos = float(sv.position)
    bal = float(sv.balance)
    return {
        "position": pos,
        "balance": bal,
        "fee": float(sv.fee),
        "equity": bal + pos * mid,
        "num_trades": int(sv.num_trades),
        "trading_volume": float(sv.trading_volume),
        "trading_value": float(sv.trading_value),
        "best_bid_tick": bid,
        "best_ask_tick": ask,
        # ROIVectorMarketDepth.best_bid_qty/best_ask_qty return the *price* in 2.4.4's
        # binding.py (they call roivecdepth_best_bid/ask): read the level instead.
        "best_bid_qty": float(depth.bid_qty_at_tick(bid)) if bid > -(1 << 62) else 0.0,
        "best_ask_qty": float(depth.ask_qty_at_tick(ask)) if ask < (1 << 62) else 0.0,
        "mid": mid,
    }


def run_hbt_touch(
    hbt_events: np.ndarray,
    *,
    tick_size: float,
    lot_size: float,
    entry_latency_ns: int,
    response_latency_ns: int,
    queue: str = "risk_adverse",
    power_n: float = 2.0,
    order_qty: float = 1.0,
    max_position: float = 10.0,
    interval_ns: int = 100_000_000,
    maker_fee: float = 0.0,
    taker_fee: float = 0.0,
    partial_fill: bool = False,
    depth: str = "roi",
    roi: tuple[float, float] | None = None,
    count_working: bool = False,
) -> dict[str, Any]:
    """Run the touch-quoting strategy on hftbacktest; return counts, state and fills.

    Strategy (a jitted loop over ``hbt.elapse(interval_ns)``), written to be
    :class:`qlib.strategy.TouchMM` under qlib's engine (intents = target set of working
    orders). After each step:

    1. record the executions of local orders since the last step (see Returns, ``fills``);
    2. the targets: a buy of ``order_qty`` at the best bid if the book is two-sided and not
       crossed and ``position + order_qty <= max_position``; a sell at the best ask if
       ``position - order_qty >= -max_position``; ``position`` is hftbacktest's local
       (response-latency delayed) filled position;
    3. keep one working order per target (same side, price and quantity; an order with a
       new-order request in flight counts as working); cancel every other working order
       (an order with a cancel in flight is left alone);
    4. submit a GTX (post-only) ``LIMIT`` for each target no working order matches.

    With ``count_working=True`` a side is also skipped when ``position`` plus the
    ``leaves_qty`` of that side's live orders (``NEW``/``PARTIALLY_FILLED``, new or cancel
    requests in flight) plus ``order_qty`` would exceed ``max_position`` (a stricter limit
    that counts in-flight orders; not what ``TouchMM`` does).

    Order ids run 1, 2, 3, ... and are never reused (hftbacktest refuses an id still in
    its local order map). ``clear_inactive_orders`` runs after every step.

    Parameters
    ----------
    hbt_events
        ``event_dtype`` array from :func:`to_hbt_events` (kept alive during the run).
    tick_size, lot_size
        Instrument grid.
    entry_latency_ns, response_latency_ns
        ``constant_order_latency``: a request reaches the exchange ``entry`` ns after
        the local call; the exchange's response (ack, fill, cancel, GTX expiry) reaches
        the local side ``response`` ns after the exchange timestamp of the event.
    queue
        ``"risk_adverse"`` (``risk_adverse_queue_model``), ``"power"``
        (``power_prob_queue_model(power_n)``) or ``"log"`` (``log_prob_queue_model``).
    order_qty, max_position
        Quote size and position limit, in the instrument's quantity unit.
    interval_ns
        Strategy step.
    maker_fee, taker_fee
        ``trading_value_fee_model`` rates (fraction of traded value; negative = rebate).
    partial_fill
        ``partial_fill_exchange()`` or ``no_partial_fill_exchange()`` (default). hftbacktest
        2.4.4's ``PartialFillExchange`` is not usable for parity: a queue fill that exactly
        exhausts an order leaves it in the exchange's map with status ``FILLED`` and the
        next trade at its price stops the run with ``InvalidOrderStatus`` (``elapse`` returns
        14; nkaz001/hftbacktest issues #301, #312), and its local processor applies fills to
        ``state_values`` only on ``FILLED`` responses, crediting just the last chunk
        (issues #299, #316). With ``partial_fill=True`` the run raises ``EngineError`` when
        that happens; ``position``/``fills`` below come from our own order tracking.
    depth, roi
        ``"roi"``: ``ROIVectorMarketDepthBacktest`` with ``roi = (lo_px, hi_px)``
        (default: the stream's depth price range padded by 10 % or 100 ticks);
        ``"hashmap"``: ``HashMapMarketDepthBacktest``.

    Returns
    -------
    dict
        ``n_fills`` (hftbacktest's ``state_values.num_trades``: executions applied to the
        local state), ``filled_qty`` (``trading_volume``), ``n_fill_records`` and
        ``fills`` (structured array ``ts`` (exchange ns of the order's last execution),
        ``side`` (+1/-1), ``px``, ``qty``: executions aggregated per order per step, sorted by ``ts``, since
        hftbacktest's local order keeps only its last execution; with the default
        no-partial-fill exchange one record is one execution), ``position`` (signed sum
        of ``fills``; ``state_position`` is hftbacktest's ``state_values.position``, equal
        to it without partial fills), ``balance``, ``fee``, ``equity`` (balance +
        ``state_position`` x final mid), ``n_submitted``,
        ``n_cancelled`` (requests sent), ``n_trades_seen`` (market trades delivered to the
        local side), ``n_events`` (rows of ``hbt_events``), ``wall_s`` (the jitted loop,
        JIT compilation included on the first call of a process), ``build_s``,
        ``events_per_s`` (``n_events / wall_s``), and the final depth's BBO.
    """
    if not (order_qty > 0 and max_position >= 0 and interval_ns > 0):
        raise ParameterError(f"need order_qty > 0, max_position >= 0, interval_ns > 0; were "
                             f"{order_qty!r}, {max_position!r}, {interval_ns!r}")
    t0 = time.perf_counter()
    hbt = _build(hbt_events, tick_size=tick_size, lot_size=lot_size,
                 entry_latency_ns=entry_latency_ns, response_latency_ns=response_latency_ns,
                 queue=queue, power_n=power_n, maker_fee=maker_fee, taker_fee=taker_fee,
                 partial_fill=partial_fill, depth=depth, roi=roi, last_trades_capacity=4096)
    build_s = time.perf_counter() - t0
    fill_ts = List.empty_list(types.int64)
    fill_side = List.empty_list(types.int8)
    fill_px = List.empty_list(types.float64)
    fill_qty = List.empty_list(types.float64)
    counters = np.zeros(4, dtype=np.int64)
    t0 = time.perf_counter()
    _touch_loop(hbt, np.uint64(interval_ns), float(order_qty), float(max_position),
                bool(count_working), float(tick_size), fill_ts, fill_side, fill_px, fill_qty, counters)
    wall = time.perf_counter() - t0
    if counters[3] != 1:
        why = (" (InvalidOrderStatus: the known PartialFillExchange bug, hftbacktest issues"
               " #301/#312; use partial_fill=False)" if counters[3] == 14 else "")
        raise EngineError(f"hftbacktest elapse() returned {int(counters[3])} (1 = end of data)"
                          f"{why}")
    fills = np.zeros(len(fill_ts), dtype=[("ts", "i8"), ("side", "i1"), ("px", "f8"),
                                          ("qty", "f8")])
    if len(fill_ts):
        fills["ts"] = np.asarray(fill_ts)
        fills["side"] = np.asarray(fill_side)
        fills["px"] = np.asarray(fill_px)
        fills["qty"] = np.asarray(fill_qty)
    # within one step the local order map is iterated in Rust HashMap order (randomly
    # seeded per process): sort so that the records are deterministic
    fills = fills[np.lexsort((fills["qty"], fills["px"], fills["side"], fills["ts"]))]
    res = _state(hbt)
    hbt.close()
    res["state_position"] = res["position"]
    res["position"] = float(np.sum(fills["side"] * fills["qty"]))
    res.update(
        n_fills=res["num_trades"], filled_qty=res["trading_volume"],
        n_fill_records=int(fills.shape[0]), fills=fills,
        n_submitted=int(counters[0]), n_cancelled=int(counters[1]),
        n_trades_seen=int(counters[2]), n_events=int(hbt_events.shape[0]),
        wall_s=wall, build_s=build_s, events_per_s=hbt_events.shape[0] / wall,
    )
    return res


def run_hbt_replay(
    hbt_events: np.ndarray,
    *,
    tick_size: float,
    lot_size: float,
    interval_ns: int | None = 100_000_000,
    queue: str = "risk_adverse",
    depth: str = "roi",
    roi: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Replay ``hbt_events`` through hftbacktest with no orders ("replay with no orders").

    The same backtest as :func:`run_hbt_touch` (zero latency models; no order is sent),
    elapsing ``interval_ns`` per step, or to the end in one call when ``interval_ns`` is
    None. Returns the final state and BBO, ``n_trades_seen`` (market trades delivered to
    the local side: every ``TRADE_EVENT`` row with ``LOCAL_EVENT``, as a check that each
    event was processed), ``feed_latency`` (``(exch_ts, local_ts)`` of the last local
    row), ``n_events``, ``wall_s``, ``build_s`` and ``events_per_s``.
    """
    t0 = time.perf_counter()
    hbt = _build(hbt_events, tick_size=tick_size, lot_size=lot_size, entry_latency_ns=0,
                 response_latency_ns=0, queue=queue, power_n=2.0, maker_fee=0.0,
                 taker_fee=0.0, partial_fill=False, depth=depth, roi=roi,
                 last_trades_capacity=1 << 20)
    build_s = time.perf_counter() - t0
    if interval_ns is None:
        span = int(hbt_events["local_ts"].max()) - int(hbt_events["exch_ts"].min())
        interval_ns = span + 1_000_000_000
    counters = np.zeros(4, dtype=np.int64)
    t0 = time.perf_counter()
    _replay_loop(hbt, np.uint64(interval_ns), counters)
    wall = time.perf_counter() - t0
    if counters[3] != 1:
        raise EngineError(f"hftbacktest elapse() returned {int(counters[3])} (1 = end of data)")
    res = _state(hbt)
    res["feed_latency"] = hbt.feed_latency(0)
    hbt.close()
    res.update(n_trades_seen=int(counters[2]), n_events=int(hbt_events.shape[0]),
               wall_s=wall, build_s=build_s, events_per_s=hbt_events.shape[0] / wall)
    return res
