"""End-to-end tests of :func:`qlib.engine.backtest` on small simulated days.

Determinism, no look-ahead, conservation of order quantity, accounting, latency, queue
models, order types, the kill-switch wiring and bad input. One scripted ``@njit``
kernel (:func:`scripted`, its behaviour chosen by ``params[0]``) drives every custom
scenario, so the engine's per-kernel loop compiles once per process.

Tests marked ``ENGINE BUG`` fail on purpose: they pin a defect found while writing
them (the assertion message says what is wrong and where).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from numba import njit

from qlib.book import to_l2
from qlib.data import simulate
from qlib.engine import backtest
from qlib.engine.fees import Fees
from qlib.engine.models import (
    ConstantLatency,
    L3FifoQueue,
    PowerProbQueue,
    ReplayLatency,
    RiskAdverseQueue,
)
from qlib.enums import (
    EventKind,
    KillReason,
    LiquiditySide,
    OrderEvent,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from qlib.errors import DataQualityError, ParameterError
from qlib.oms.orders import TRANSITIONS
from qlib.risk.config import RiskConfig
from qlib.strategy import GLFT, AvellanedaStoikov, CustomStrategy, GridMM, ImbalanceMM, TouchMM

MS = 1_000_000
SEC = 1_000_000_000
LAT = ConstantLatency(entry_ns=5 * MS, response_ns=3 * MS)

# ------------------------------------------------------------------ scripted kernel
M_MARKET = 0.0  # params[2] MARKET buys of params[1] at the first decision, then keep
#                (with params[3] > 0: then an IOC buy at the bid every decision, which
#                keeps the exchange book replayed)
M_IOC = 1.0  # LIMIT IOC buy at the bid (below the ask); once, or every decision if params[2] > 0
M_FOK = 2.0  # LIMIT FOK buy of params[1] at ask + 2 (more than is visible), once
M_GTX = 3.0  # LIMIT GTX buy at the ask, once
M_BUY_EVERY = 4.0  # MARKET buy of params[1] every decision, plus a GTC bid 5 ticks below
M_TOUCH_TAKE = 5.0  # GTC quotes at the touch; every params[2]-th decision only a MARKET to flat

_LIMIT = np.uint8(OrderType.LIMIT)
_MARKET = np.uint8(OrderType.MARKET)
_GTC = np.uint8(TimeInForce.GTC)
_IOC = np.uint8(TimeInForce.IOC)
_FOK = np.uint8(TimeInForce.FOK)
_GTX = np.uint8(TimeInForce.GTX)


@njit
def _put(out, j, side, px, qty, otype, tif):
    out[j]["side"] = side
    out[j]["px_tick"] = px
    out[j]["qty"] = qty
    out[j]["order_type"] = otype
    out[j]["tif"] = tif


@njit
def scripted(view, params, state, out):
    v = view[0]
    bid = v["bid_px_tick"]
    ask = v["ask_px_tick"]
    if bid <= 0 or ask <= 0 or ask <= bid:
        return -1
    k = state[0]
    state[0] = k + 1.0
    mode = params[0]
    qty = params[1]
    if mode == 0.0:
        if k > 0:
            if params[3] > 0.0:
                _put(out, 0, 1, bid, 1.0, _LIMIT, _IOC)
                return 1
            return -1
        n = int(params[2])
        for j in range(n):
            _put(out, j, 1, 0, qty, _MARKET, _GTC)
        return n
    if mode == 1.0:
        if k > 0 and params[2] <= 0.0:
            return -1
        _put(out, 0, 1, bid, qty, _LIMIT, _IOC)
        return 1
    if mode == 2.0:
        if k > 0:
            return -1
        _put(out, 0, 1, ask + 2, qty, _LIMIT, _FOK)
        return 1
    if mode == 3.0:
        if k > 0:
            return -1
        _put(out, 0, 1, ask, qty, _LIMIT, _GTX)
        return 1
    if mode == 4.0:
        # no quote on the ask: the pre-trade self-trade check would refuse the market buy
        _put(out, 0, 1, bid - 5, qty, _LIMIT, _GTC)
        _put(out, 1, 1, 0, qty, _MARKET, _GTC)
        return 2
    if mode == 5.0:
        pos = v["position"]
        every = int(params[2])
        if every > 0 and int(k) % every == every - 1 and pos != 0.0:
            # the market order alone: the quotes are cancelled first, so the self-trade
            # check does not see them (a cancel in flight is no self-trade risk)
            _put(out, 0, -1 if pos > 0 else 1, 0, abs(pos), _MARKET, _GTC)
            return 1
        _put(out, 0, 1, bid, qty, _LIMIT, _GTC)
        _put(out, 1, -1, ask, qty, _LIMIT, _GTC)
        return 2
    return -1


def _scripted(mode: float, qty: float = 100.0, arg: float = 0.0, arg2: float = 0.0
              ) -> CustomStrategy:
    return CustomStrategy(scripted, params=(mode, qty, arg, arg2), state_size=1, name="scripted")


# ------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def day():
    """An L3 simulated day and its L2 conversion (same instrument)."""
    md = simulate(n_events=30_000, seed=1)
    return md, to_l2(md.events)


@pytest.fixture(scope="module")
def other_day():
    return simulate(n_events=30_000, seed=2)


def _run(data, strategy, md, **kw):
    if isinstance(data, np.ndarray):
        kw.setdefault("instrument", md.instrument)
    return backtest(data, strategy, **kw)


def _data(day, level):
    md, l2 = day
    return (md, md) if level == "L3" else (l2, md)


def _same_records(x: np.ndarray, y: np.ndarray) -> bool:
    """Field-by-field bit identity of two structured arrays (padding bytes excluded)."""
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    return all(np.ascontiguousarray(x[n]).tobytes() == np.ascontiguousarray(y[n]).tobytes()
               for n in x.dtype.names)


def _journal_by_order(res):
    j = res.journal_array
    out = defaultdict(list)
    for r in j:
        out[int(r["order_id"])].append(r)
    return out


def _final_states(res):
    return res.orders_array["state"].astype(int)


WORKING = {OrderStatus.PENDING_NEW, OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED,
           OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE}
TERMINAL = {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}

BUILTINS = {
    "touch": TouchMM(order_qty=100, max_position=1000),
    "avellaneda_stoikov": AvellanedaStoikov(gamma=0.1, k=1.5, order_qty=100, max_position=1000),
    "glft": GLFT(gamma=0.1, k=1.5, A=1.0, order_qty=100, max_position=1000),
    "grid": GridMM(levels=3, step_ticks=1, offset_ticks=1, order_qty=100, max_position=1000),
    "imbalance": ImbalanceMM(alpha=2.0, half_spread_ticks=1, order_qty=100, max_position=1000),
}


# ------------------------------------------------------------------ 1. determinism
@pytest.mark.parametrize("level", ["L3", "L2"])
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_backtest_same_inputs_twice_bit_identical(day, level, name):
    data, md = _data(day, level)
    a = _run(data, BUILTINS[name], md, latency=LAT)
    b = _run(data, BUILTINS[name], md, latency=LAT)
    for attr in ("fills_array", "orders_array", "equity_array", "journal_array",
                 "exch_leaves_array"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert x.dtype == y.dtype and x.shape == y.shape, attr
        if x.dtype.names:
            assert _same_records(x, y), f"{attr} differs between two identical runs"
        else:
            assert x.tobytes() == y.tobytes(), f"{attr} differs between two identical runs"
    assert a.counters == b.counters
    assert a.cash == b.cash and a.final_mid_tick == b.final_mid_tick
    assert a.counters["orders_submitted"] > 0


def test_backtest_custom_kernel_twice_bit_identical(day):
    md, _ = day
    a = _run(md, _scripted(M_TOUCH_TAKE, 100, 20), md, latency=LAT)
    b = _run(md, _scripted(M_TOUCH_TAKE, 100, 20), md, latency=LAT)
    for attr in ("fills_array", "orders_array", "equity_array", "journal_array"):
        assert _same_records(getattr(a, attr), getattr(b, attr)), attr


def test_backtest_result_arrays_bytes_identical_including_padding(day):
    md, _ = day
    strat = TouchMM(order_qty=100, max_position=1000)
    a = _run(md, strat, md, latency=LAT)
    b = _run(md, strat, md, latency=LAT)
    for attr in ("fills_array", "orders_array", "equity_array", "journal_array"):
        assert getattr(a, attr).tobytes() == getattr(b, attr).tobytes(), attr


# ------------------------------------------------------------------ 2. no look-ahead
def _retimed_tail(t: int, ev: np.ndarray, src: np.ndarray, id_offset: int) -> np.ndarray:
    """``ev`` up to ``t`` (inclusive), then a CLEAR and ``src`` re-timed to start after ``t``."""
    head = ev[ev["ts_exch"] <= t]
    tail = src.copy()
    shift = t + 1 - int(tail["ts_exch"][0])
    tail["ts_exch"] += shift
    tail["ts_local"] += shift
    nz = tail["order_id"] != 0
    tail["order_id"][nz] += np.uint64(id_offset)
    if tail["kind"][0] != EventKind.CLEAR:
        clear = np.zeros(1, dtype=ev.dtype)
        clear[0] = tail[0]
        clear["kind"] = EventKind.CLEAR
        clear["side"] = 0
        clear["px_tick"] = 0
        clear["qty"] = 0.0
        clear["order_id"] = 0
        tail = np.concatenate([clear, tail])
    out = np.concatenate([head, tail])
    out["seq"] = np.arange(len(out))
    return out


def _assert_prefix_equal(a, b, t):
    ja, jb = a.journal_array, b.journal_array
    pa, pb = ja[ja["ts"] <= t], jb[jb["ts"] <= t]
    assert len(pa) > 10, "the prefix should hold some order activity"
    assert _same_records(pa, pb), "order journal rows at ts <= t differ"
    fa, fb = a.fills_array, b.fills_array
    qa, qb = fa[fa["ts_local"] <= t], fb[fb["ts_local"] <= t]
    assert _same_records(qa, qb), "fills known locally at ts <= t differ"
    ra, rb = a.equity_array, b.equity_array
    assert _same_records(ra[ra["ts"] <= t], rb[rb["ts"] <= t]), "records at ts <= t differ"


@pytest.mark.parametrize("level", ["L3", "L2"])
def test_backtest_future_replaced_by_other_day_prefix_identical(day, other_day, level):
    md, l2 = day
    ev = md.events if level == "L3" else l2
    src = other_day.events if level == "L3" else to_l2(other_day.events)
    t = int(ev["ts_exch"][len(ev) // 2])
    alt = _retimed_tail(t, ev, src, id_offset=10_000_000)
    strat = TouchMM(order_qty=100, max_position=1000)
    a = backtest(ev, strat, instrument=md.instrument, latency=LAT)
    b = backtest(alt, strat, instrument=md.instrument, latency=LAT)
    _assert_prefix_equal(a, b, t)
    assert not _same_records(a.fills_array, b.fills_array), "the futures should differ"


def test_backtest_l2_future_depth_perturbed_prefix_identical(day):
    _, l2 = day
    md = day[0]
    t = int(l2["ts_exch"][len(l2) // 2])
    alt = l2.copy()
    late = (alt["ts_exch"] > t) & (alt["kind"] == EventKind.DEPTH) & (alt["qty"] > 0)
    alt["qty"][late] = alt["qty"][late] * 3.0 + 7.0
    strat = TouchMM(order_qty=100, max_position=1000)
    a = backtest(l2, strat, instrument=md.instrument, latency=LAT)
    b = backtest(alt, strat, instrument=md.instrument, latency=LAT)
    _assert_prefix_equal(a, b, t)


def test_backtest_avellaneda_stoikov_prefix_independent_of_data_end(day):
    md, l2 = day
    t = int(l2["ts_exch"][len(l2) // 2])
    cut = l2[l2["ts_exch"] <= t + 60 * SEC]  # the same events, ending 60 s after t
    strat = BUILTINS["avellaneda_stoikov"]
    a = backtest(l2, strat, instrument=md.instrument, latency=LAT)
    b = backtest(cut, strat, instrument=md.instrument, latency=LAT)
    _assert_prefix_equal(a, b, t)


# ------------------------------------------------------------------ 3. conservation
@pytest.mark.parametrize("level", ["L3", "L2"])
@pytest.mark.parametrize("strategy", [TouchMM(order_qty=100, max_position=500),
                                      _scripted(M_TOUCH_TAKE, 100, 20)],
                         ids=["touch", "touch_take"])
def test_backtest_order_quantities_conserved(day, level, strategy):
    data, md = _data(day, level)
    res = _run(data, strategy, md, latency=LAT)
    o = res.orders_array
    states = _final_states(res)
    valid = {int(s) for s in WORKING | TERMINAL}
    assert set(states.tolist()) <= valid, f"illegal final states {set(states.tolist()) - valid}"
    # fills per order == filled_qty
    f = res.fills_array
    per = defaultdict(float)
    for r in f:
        per[int(r["order_id"])] += float(r["qty"])
    for r in o:
        assert per.get(int(r["order_id"]), 0.0) == pytest.approx(float(r["filled_qty"]), abs=1e-9)
    qty, filled, leaves = o["qty"], o["filled_qty"], res.exch_leaves_array
    assert np.all(filled <= qty + 1e-9)
    assert np.all(leaves >= 0.0)
    filled_st = states == OrderStatus.FILLED
    assert np.allclose(filled[filled_st], qty[filled_st])
    term = np.isin(states, [int(s) for s in TERMINAL])
    assert np.all(leaves[term] == 0.0), "a terminal order still rests at the exchange"
    # working orders: what rests + what filled never exceeds the order
    assert np.all(leaves[~term] + filled[~term] <= qty[~term] + 1e-9)
    # qty = filled + cancelled/expired/rejected remainder + working remainder (per order)
    cancelled = np.where(np.isin(states, [OrderStatus.CANCELLED, OrderStatus.EXPIRED,
                                          OrderStatus.REJECTED]), qty - filled, 0.0)
    working = np.where(~term, qty - filled, 0.0)
    assert np.allclose(filled + cancelled + working, qty)
    # aggregate
    c = res.counters
    n_submit = int(np.sum(res.journal_array["event"] == OrderEvent.SUBMIT))
    assert c["orders_submitted"] == n_submit
    assert len(o) == c["orders_submitted"] + c["rejected_by_risk"]
    assert c["fills"] == len(f)
    assert int(np.sum(term)) + int(np.sum(~term)) == len(o)
    assert float(np.sum(f["qty"])) == pytest.approx(float(np.sum(filled)))


@pytest.mark.parametrize("level", ["L3", "L2"])
def test_backtest_journal_transitions_all_legal(day, level):
    data, md = _data(day, level)
    res = _run(data, _scripted(M_TOUCH_TAKE, 100, 20), md, latency=LAT)
    j = res.journal_array
    assert np.all(j["status"] == 0), "the engine attempted an illegal transition"
    assert np.all(np.diff(j["ts"]) >= 0), "the journal is written in local time order"
    for r in j:
        nxt = int(TRANSITIONS[int(r["from_state"]), int(r["event"])])
        assert nxt != -1, f"illegal edge journaled: {r}"
    # the last to_state of each order is its final state
    last = {}
    for r in j:
        last[int(r["order_id"])] = int(r["to_state"])
    for r in res.orders_array:
        assert last[int(r["order_id"])] == int(r["state"])


# ------------------------------------------------------------------ 4. accounting
FEES = Fees(maker_bps=-1.0, taker_bps=5.0, per_qty=0.001)


@pytest.fixture(scope="module", params=["L3", "L2"])
def acct_run(request, day):
    data, md = _data(day, request.param)
    return _run(data, _scripted(M_TOUCH_TAKE, 100, 20), md, latency=LAT, fees=FEES,
                capital=100_000.0)


def test_backtest_attribution_total_equals_equity_change(acct_run):
    att = acct_run.attribution()
    assert att["total"] == pytest.approx(att["equity_change"], rel=1e-9, abs=1e-9)
    assert acct_run.counters["fills"] > 10


def test_backtest_position_after_each_fill_is_cumsum(acct_run):
    f = acct_run.fills_array
    cum = np.cumsum(f["side"].astype(np.float64) * f["qty"])
    assert np.array_equal(f["position"], cum)
    assert acct_run.position == (cum[-1] if len(cum) else 0.0)


def test_backtest_final_equity_recomputed_from_fills(acct_run):
    r = acct_run
    f = r.fills_array
    tv = r.tick_value
    cash = r.capital - float(np.sum(f["side"] * f["qty"] * f["px_tick"] * tv)) - float(np.sum(f["fee"]))
    assert cash == pytest.approx(r.cash, rel=1e-12, abs=1e-9)
    pos = float(np.sum(f["side"] * f["qty"]))
    eq = cash + pos * r.final_mid_tick * tv
    assert eq == pytest.approx(r.final_equity, rel=1e-12, abs=1e-9)


def test_backtest_fees_maker_and_taker_rates(acct_run):
    f = acct_run.fills_array
    tv = acct_run.tick_value
    liq = f["liquidity"]
    assert np.any(liq == LiquiditySide.MAKER) and np.any(liq == LiquiditySide.TAKER)
    rate = np.where(liq == LiquiditySide.MAKER, FEES.maker_bps, FEES.taker_bps)
    expect = f["qty"] * f["px_tick"] * tv * rate / 1e4 + f["qty"] * FEES.per_qty
    np.testing.assert_allclose(f["fee"], expect, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ 5. latency
@pytest.mark.parametrize("level", ["L3", "L2"])
def test_backtest_constant_latency_ack_and_fill_times(day, level):
    data, md = _data(day, level)
    E, R = 5 * MS, 3 * MS
    res = _run(data, _scripted(M_TOUCH_TAKE, 100, 20), md,
               latency=ConstantLatency(entry_ns=E, response_ns=R))
    by = _journal_by_order(res)
    sent = {}
    for oid, rows in by.items():
        first = rows[0]
        if first["event"] == OrderEvent.REJECT and first["from_state"] == OrderStatus.NEW:
            continue  # refused by pre-trade risk: never sent
        assert first["event"] == OrderEvent.SUBMIT, f"order {oid} starts with {first['event']}"
        t0 = int(first["ts"])
        sent[oid] = t0
        for r in rows:
            if r["event"] == OrderEvent.ACK:
                assert int(r["ts"]) >= t0 + E + R
    for rows in by.values():
        asked = [int(r["ts"]) for r in rows if r["event"] == OrderEvent.CANCEL_REQUEST]
        acked = [int(r["ts"]) for r in rows if r["event"] == OrderEvent.CANCEL_ACK]
        if acked:
            assert acked[0] >= asked[0] + E + R
    f = res.fills_array
    assert len(f) > 0
    assert np.all(f["ts_local"] - f["ts_exch"] == R)
    for r in f:
        assert int(r["ts_exch"]) >= sent[int(r["order_id"])] + E


def test_backtest_replay_latency_rejection_record_rejects(day):
    md, l2 = day
    ev = l2
    t0, t1 = int(ev["ts_exch"][0]), int(ev["ts_exch"][-1])
    mid = (t0 + t1) // 2
    log = np.array([[t0, MS, MS],
                    [mid - 10 * SEC, MS, MS],
                    [mid, -1, 2 * MS],
                    [mid + 10 * SEC, MS, MS],
                    [t1, MS, MS]], dtype=np.int64)
    res = backtest(ev, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument,
                   latency=ReplayLatency(log))
    assert res.counters["rejected_by_venue"] > 0
    o = res.orders_array
    created = o["ts_created"]
    in_bracket = (created > mid - 10 * SEC) & (created < mid + 10 * SEC)
    assert np.any(in_bracket)
    assert np.all(o["state"][in_bracket] == OrderStatus.REJECTED)
    assert np.all(o["filled_qty"][in_bracket] == 0.0)
    outside = (created < mid - 10 * SEC) | (created >= mid + 10 * SEC)
    assert not np.any(o["state"][outside] == OrderStatus.REJECTED)
    # rejected orders: SUBMIT then REJECT at send + the interpolated round trip
    by = _journal_by_order(res)
    for r in o[in_bracket]:
        rows = by[int(r["order_id"])]
        assert [int(x["event"]) for x in rows] == [OrderEvent.SUBMIT, OrderEvent.REJECT]
        assert int(rows[1]["ts"]) > int(rows[0]["ts"])


# ------------------------------------------------------------------ 6. queue models
def _maker_fills(res):
    f = res.fills_array
    return int(np.sum(f["liquidity"] == LiquiditySide.MAKER)), float(
        np.sum(f["qty"][f["liquidity"] == LiquiditySide.MAKER]))


def test_backtest_risk_adverse_queue_fills_no_more_than_power_prob():
    """RiskAdverseQueue only advances on trades at our price; PowerProbQueue(n=2) also on
    cancels in front of us, so each order reaches the front no later. With a strategy
    that does not react to its fills (fixed quotes that never run into a position limit)
    that gives ``maker qty (risk adverse) <= maker qty (power prob)``. A position-bounded
    strategy (TouchMM) can break it: different fills change later quotes. Checked on
    several seeds with large position limits."""
    for seed in (1, 3, 5):
        md = simulate(n_events=30_000, seed=seed)
        l2 = to_l2(md.events)
        strat = TouchMM(order_qty=100, max_position=1e9)
        ra = backtest(l2, strat, instrument=md.instrument, latency=LAT, queue=RiskAdverseQueue())
        pp = backtest(l2, strat, instrument=md.instrument, latency=LAT, queue=PowerProbQueue(n=2))
        _, q_ra = _maker_fills(ra)
        n_pp, q_pp = _maker_fills(pp)
        assert q_ra <= q_pp, f"seed {seed}: risk adverse {q_ra} > power prob {q_pp}"
        assert n_pp > 0


def _l3_events(rows: list[tuple]) -> np.ndarray:
    """EVENT_DTYPE rows from ``(ts_exch, kind, side, px_tick, qty, order_id)``."""
    from qlib.dtypes import EVENT_DTYPE
    from qlib.enums import EventFlag

    ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for i, (ts, kind, side, px, qty, oid) in enumerate(rows):
        ev[i] = (ts, ts, i, px, qty, oid, kind, side, EventFlag.LAST)
    return ev


T0 = 1_704_205_800_000_000_000


def test_backtest_l3_fifo_behind_order_executes_after_ahead_cleared_fills_ours(day):
    """Control: every order ahead of ours is a known L3 order; once it is deleted, an
    execution of an order that joined behind ours fills ours (by its quantity)."""
    md, _ = day
    K = EventKind
    ev = _l3_events([
        (T0, K.ADD, 1, 10000, 100.0, 99),  # ahead of us
        (T0, K.ADD, -1, 10002, 100.0, 98),
        (T0 + 1 * SEC, K.ADD, 1, 10000, 50.0, 7),  # behind us
        (T0 + 2 * SEC, K.DELETE, 1, 10000, 100.0, 99),  # the order ahead leaves
        (T0 + 3 * SEC, K.EXECUTE, 1, 10000, 50.0, 7),  # the order behind trades
        (T0 + 5 * SEC, K.ADD, -1, 10005, 10.0, 97),
    ])
    res = backtest(ev, _scripted(M_TOUCH_TAKE, 100, 0), instrument=md.instrument,
                   latency=LAT, queue=L3FifoQueue())
    f = res.fills_array
    bid = res.orders_array[res.orders_array["side"] == 1][0]
    got = [(int(r["ts_exch"]), int(r["order_id"]), int(r["px_tick"]), float(r["qty"])) for r in f]
    assert got == [(T0 + 3 * SEC, int(bid["order_id"]), 10000, 50.0)]


def test_backtest_l3_fifo_unknown_order_delete_clears_queue_ahead(day):
    """As the control above, but the quantity ahead of us is an anonymous snapshot level
    (LOBSTER's opening book) whose order is then deleted by id."""
    md, _ = day
    K = EventKind
    ev = _l3_events([
        (T0, K.CLEAR, 0, 0, 0.0, 0),
        (T0, K.SNAPSHOT, 1, 10000, 100.0, 0),  # ahead of us, no order id
        (T0, K.SNAPSHOT, -1, 10002, 100.0, 0),
        (T0 + 1 * SEC, K.ADD, 1, 10000, 50.0, 7),  # behind us
        (T0 + 2 * SEC, K.DELETE, 1, 10000, 100.0, 99),  # the snapshot order leaves (by id)
        (T0 + 3 * SEC, K.EXECUTE, 1, 10000, 50.0, 7),  # the order behind trades
        (T0 + 5 * SEC, K.ADD, -1, 10005, 10.0, 97),
    ])
    res = backtest(ev, _scripted(M_TOUCH_TAKE, 100, 0), instrument=md.instrument,
                   latency=LAT, queue=L3FifoQueue())
    f = res.fills_array
    bid = res.orders_array[res.orders_array["side"] == 1][0]
    got = [(int(r["ts_exch"]), int(r["order_id"]), int(r["px_tick"]), float(r["qty"])) for r in f]
    assert got == [(T0 + 3 * SEC, int(bid["order_id"]), 10000, 50.0)]


def test_backtest_l3_fifo_queue_on_l2_raises(day):
    md, l2 = day
    with pytest.raises(ParameterError, match="L3"):
        backtest(l2, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument,
                 queue=L3FifoQueue())


# ------------------------------------------------------------------ 7. order types
def _book_at(l2: np.ndarray, t: int) -> tuple[dict, dict]:
    """Pure-Python L2 book after every event with ``ts_exch <= t`` (bids, asks: px -> qty)."""
    bids: dict[int, float] = {}
    asks: dict[int, float] = {}
    for e in l2[l2["ts_exch"] <= t]:
        k = int(e["kind"])
        side = int(e["side"])
        book = bids if side > 0 else asks
        if k in (EventKind.DEPTH, EventKind.SNAPSHOT):
            if e["qty"] > 0:
                book[int(e["px_tick"])] = float(e["qty"])
            else:
                book.pop(int(e["px_tick"]), None)
        elif k == EventKind.CLEAR:
            if side >= 0:
                bids.clear()
            if side <= 0:
                asks.clear()
    return bids, asks


def _walk(asks: dict, qty: float) -> list[tuple[int, float]]:
    out = []
    for px in sorted(asks):
        if qty <= 0:
            break
        take = min(qty, asks[px])
        out.append((px, take))
        qty -= take
    return out


@pytest.mark.parametrize("level", ["L3", "L2"])
def test_backtest_market_buy_walks_exchange_levels_at_arrival(day, level):
    data, md = _data(day, level)
    l2 = day[1]  # the expected book comes from the L2 view of the same events
    res = _run(data, _scripted(M_MARKET, 600, 1), md, latency=LAT)
    o = res.orders_array
    assert len(o) == 1 and o[0]["order_type"] == OrderType.MARKET
    arrival = int(o[0]["ts_created"]) + LAT.entry_ns
    _, asks = _book_at(l2, arrival)
    expect = _walk(asks, 600.0)
    f = res.fills_array
    assert len(expect) >= 2, "pick a size that walks more than one level"
    assert np.all(f["liquidity"] == LiquiditySide.TAKER)
    assert np.all(f["ts_exch"] == arrival)
    assert [(int(r["px_tick"]), float(r["qty"])) for r in f] == expect
    assert o[0]["state"] == OrderStatus.FILLED


def test_backtest_ioc_below_ask_expires_unfilled(day):
    md, l2 = day
    res = backtest(l2, _scripted(M_IOC, 100), instrument=md.instrument, latency=LAT)
    o = res.orders_array
    assert len(o) == 1
    assert o[0]["state"] == OrderStatus.EXPIRED and o[0]["filled_qty"] == 0.0
    assert len(res.fills_array) == 0


def test_backtest_fok_larger_than_visible_expires_unfilled(day):
    md, l2 = day
    res = backtest(l2, _scripted(M_FOK, 1e6), instrument=md.instrument, latency=LAT)
    o = res.orders_array
    assert len(o) == 1
    assert o[0]["state"] == OrderStatus.EXPIRED and o[0]["filled_qty"] == 0.0
    assert len(res.fills_array) == 0


def test_backtest_gtx_at_ask_rejected_by_venue(day):
    md, l2 = day
    res = backtest(l2, _scripted(M_GTX, 100), instrument=md.instrument, latency=LAT)
    o = res.orders_array
    arrival = int(o[0]["ts_created"]) + LAT.entry_ns
    _, asks = _book_at(l2, arrival)
    assert o[0]["px_tick"] >= min(asks), "the ask must not have moved away (fixed seed)"
    assert o[0]["state"] == OrderStatus.REJECTED
    assert res.counters["rejected_by_venue"] == 1
    assert len(res.fills_array) == 0


def _avg_px(f, oid):
    m = f["order_id"] == oid
    return float(np.sum(f["px_tick"][m] * f["qty"][m]) / np.sum(f["qty"][m]))


def test_backtest_market_impact_on_l3_data_raises_parameter_error(day):
    """Impact edits price levels; on order-level data the book is the sum of its orders,
    so the engine refuses it (it once drove a level negative, NEGATIVE_QTY, on the next
    DELETE of an order whose quantity the impact had taken)."""
    data, md = _data(day, "L3")
    with pytest.raises(ParameterError, match="market_impact"):
        _run(data, _scripted(M_MARKET, 300, 2, 1), md, latency=LAT, market_impact=True)


@pytest.mark.parametrize("level", ["L2"])
def test_backtest_market_impact_second_order_pays_worse_or_equal(day, level):
    data, md = _data(day, level)
    # two MARKET buys sent together, then IOCs that never fill but make the engine
    # replay the exchange book after the impact (it lags while nothing of ours is there)
    strat = _scripted(M_MARKET, 300, 2, 1)
    with_imp = _run(data, strat, md, latency=LAT, market_impact=True)
    no_imp = _run(data, strat, md, latency=LAT, market_impact=False)
    fw, fn = with_imp.fills_array, no_imp.fills_array
    # first order: same fills either way
    assert _same_records(fw[fw["order_id"] == 1], fn[fn["order_id"] == 1])
    # without impact both orders see the same book
    assert _avg_px(fn, 1) == _avg_px(fn, 2)
    assert _avg_px(fw, 2) >= _avg_px(fn, 2)
    assert _avg_px(fw, 2) > _avg_px(fw, 1), "300 shares twice should walk deeper the second time"


# ------------------------------------------------------------------ 8. kill switch
def _kill_rows(res) -> pd.DataFrame:
    return res.kill_journal


def test_backtest_kill_journal_property_returns_frame(day):
    """ENGINE BUG: BacktestResult.kill_journal (qlib/engine/result.py:203) calls
    ``self.risk.journal()`` but ``PreTradeRisk.journal`` (qlib/risk/pretrade.py:415) is a
    property returning a DataFrame, so ``res.kill_journal`` raises
    ``TypeError: 'DataFrame' object is not callable``."""
    md, l2 = day
    res = backtest(l2, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument)
    kj = res.kill_journal
    assert isinstance(kj, pd.DataFrame)
    assert list(kj.columns) == ["ts", "event", "reason"]


def _assert_trip_stops_and_cancels(res, reason: str):
    kj = _kill_rows(res)
    trips = kj[kj["event"] == "TRIP"]
    assert len(trips) >= 1, f"no trip in {kj}"
    assert trips["reason"].iloc[0] == reason
    t_trip = int(trips["ts"].iloc[0].value)
    j = res.journal_array
    late_submits = j[(j["event"] == OrderEvent.SUBMIT) & (j["ts"] > t_trip)]
    assert len(late_submits) == 0, "an order was submitted after the kill switch tripped"
    # every order working at the trip got a cancel request at or after it
    by = _journal_by_order(res)
    n_working = 0
    for oid, rows in by.items():
        before = [r for r in rows if int(r["ts"]) < t_trip]
        if not before or int(before[-1]["to_state"]) not in (OrderStatus.PENDING_NEW,
                                                            OrderStatus.LIVE,
                                                            OrderStatus.PARTIALLY_FILLED):
            continue
        later = [r for r in rows if int(r["ts"]) >= t_trip]
        ended = any(int(r["to_state"]) in (OrderStatus.FILLED, OrderStatus.EXPIRED,
                                           OrderStatus.REJECTED) for r in later)
        asked = any(int(r["event"]) == OrderEvent.CANCEL_REQUEST for r in later)
        if int(before[-1]["to_state"]) == OrderStatus.PENDING_NEW and ended:
            continue
        n_working += 1
        assert asked or ended, f"order {oid} working at the trip got no cancel request"
    states = _final_states(res)
    assert not np.any(np.isin(states, [OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED])), \
        "orders still live at the end after a trip"
    return t_trip, n_working


def test_backtest_daily_loss_trips_and_cancels_working_orders(day):
    md, l2 = day
    res = backtest(l2, _scripted(M_BUY_EVERY, 100), instrument=md.instrument, latency=LAT,
                   risk=RiskConfig(max_daily_loss=20.0))
    _, n_working = _assert_trip_stops_and_cancels(res, KillReason.DAILY_LOSS.name)
    assert n_working > 0, "quotes 5 ticks away should be working at the trip"
    assert res.counters["decisions"] < 8000


def test_backtest_drawdown_trips(day):
    md, l2 = day
    res = backtest(l2, _scripted(M_BUY_EVERY, 100), instrument=md.instrument, latency=LAT,
                   risk=RiskConfig(max_drawdown=20.0))
    _assert_trip_stops_and_cancels(res, KillReason.DRAWDOWN.name)


def test_backtest_latency_spike_trips(day):
    md, l2 = day
    res = backtest(l2, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument,
                   latency=ConstantLatency(entry_ns=MS, response_ns=MS),
                   risk=RiskConfig(max_latency_ns=1))
    _assert_trip_stops_and_cancels(res, KillReason.LATENCY_SPIKE.name)


def _with_gap(ev: np.ndarray, at: int, gap_ns: int) -> np.ndarray:
    out = ev.copy()
    late = out["ts_exch"] > at
    out["ts_exch"][late] += gap_ns
    out["ts_local"][late] += gap_ns
    return out


def test_backtest_stale_market_data_trips_in_a_gap(day):
    md, l2 = day
    at = int(l2["ts_exch"][len(l2) // 2])
    gapped = _with_gap(l2, at, 30 * SEC)
    risk = RiskConfig(max_md_age_ns=10 * SEC)
    strat = _scripted(M_IOC, 100, 1)  # an IOC every decision: every decision is checked
    ok = backtest(l2, strat, instrument=md.instrument, latency=LAT, risk=risk,
                  decision_interval="1s")
    assert len(_kill_rows(ok)) == 0, "no gap: no stale trip"
    res = backtest(gapped, strat, instrument=md.instrument, latency=LAT, risk=risk,
                   decision_interval="1s")
    t_trip, _ = _assert_trip_stops_and_cancels(res, KillReason.STALE_MARKET_DATA.name)
    assert at + 10 * SEC < t_trip <= at + 30 * SEC + 2 * SEC


def test_backtest_max_open_orders_rejects_by_risk(day):
    md, l2 = day
    res = backtest(l2, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument,
                   latency=LAT, risk=RiskConfig(max_open_orders=1))
    assert res.counters["rejected_by_risk"] > 0
    st = res.orders_array["state"]
    assert np.sum(st == OrderStatus.REJECTED) >= res.counters["rejected_by_risk"]
    j = res.journal_array
    rej = j[(j["event"] == OrderEvent.REJECT) & (j["from_state"] == OrderStatus.NEW)]
    assert len(rej) == res.counters["rejected_by_risk"]


# ------------------------------------------------------------------ 9. bad input
def test_backtest_unsorted_ts_exch_raises_naming_row(day):
    md, l2 = day
    ev = l2.copy()
    i = len(ev) // 2
    ev["ts_exch"][i] = ev["ts_exch"][i - 1] - 1_000
    with pytest.raises(DataQualityError, match=f"row {i}"):
        backtest(ev, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument)


def test_backtest_unknown_strategy_object_raises(day):
    md, l2 = day
    with pytest.raises(ParameterError):
        backtest(l2, object(), instrument=md.instrument)


def test_backtest_strategy_name_string_raises(day):
    md, l2 = day
    with pytest.raises(ParameterError, match="strategy_from_name"):
        backtest(l2, "touch", instrument=md.instrument)


@pytest.mark.parametrize("value", [0, "abc", -5, True, 1.5])
def test_backtest_bad_decision_interval_raises(day, value):
    md, l2 = day
    with pytest.raises(ParameterError, match="decision_interval"):
        backtest(l2, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument,
                 decision_interval=value)


@pytest.mark.parametrize("value", [0, 65, -1, 2.0])
def test_backtest_bad_depth_levels_raises(day, value):
    md, l2 = day
    with pytest.raises(ParameterError, match="depth_levels"):
        backtest(l2, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument,
                 depth_levels=value)


def test_backtest_start_stop_without_events_raises(day):
    md, l2 = day
    t_end = pd.Timestamp(int(l2["ts_exch"][-1]), unit="ns", tz="UTC")
    with pytest.raises(ParameterError, match="no events"):
        backtest(l2, TouchMM(order_qty=100, max_position=1000), instrument=md.instrument,
                 start=t_end + pd.Timedelta("1h"), stop=t_end + pd.Timedelta("2h"))


def test_backtest_event_array_without_instrument_raises(day):
    _, l2 = day
    with pytest.raises(ParameterError, match="instrument"):
        backtest(l2, TouchMM(order_qty=100, max_position=1000))


def test_backtest_response_slower_than_decisions_never_cancels_unacked_orders():
    """Acks due after the next decision: the order is still PENDING_NEW there, which has
    no cancel edge; the engine keeps it and cancels it at a later decision (a
    hypothesis example found the loop stopping with ILLEGAL_TRANSITION here)."""
    md = simulate(n_events=4000, seed=0)
    l2 = to_l2(md.events)
    res = backtest(l2, TouchMM(order_qty=1, max_position=1), instrument=md.instrument,
                   latency=ConstantLatency(entry_ns=0, response_ns=10_000_001),
                   decision_interval=10_000_000)
    j = res.journal_array
    cancels = j[j["event"] == OrderEvent.CANCEL_REQUEST]
    assert len(cancels) > 0
    assert not np.any(cancels["from_state"] == OrderStatus.PENDING_NEW)
    assert np.all(j["status"] == 0)
