"""Unit tests of the matching engine (qlib.book.matching)."""

from __future__ import annotations

import pytest

from qlib.book.l3 import L3Book
from qlib.book.matching import MatchingEngine
from qlib.enums import (
    EventKind,
    LiquiditySide,
    OrderType,
    RejectReason,
    Side,
    StpPolicy,
    TimeInForce,
)
from qlib.errors import OrderRejected, ParameterError
from qlib.instrument import Instrument

B, S = Side.BUY, Side.SELL


def book_ids(eng, side, px):
    o = eng.book.orders()
    return o[(o["side"] == side) & (o["px_tick"] == px)]["order_id"].tolist()


@pytest.fixture
def eng():
    e = MatchingEngine()
    e.submit(S, 5, px_tick=101, order_id=1, owner=1)
    e.submit(S, 5, px_tick=101, order_id=2, owner=2)
    e.submit(S, 5, px_tick=102, order_id=3, owner=3)
    e.submit(B, 5, px_tick=99, order_id=4, owner=4)
    return e


def test_matching_limit_sweeps_levels_in_price_time_order(eng):
    r = eng.submit(B, 12, px_tick=102, order_id=10, owner=9)
    assert (r.filled, r.rested, r.cancelled) == (12.0, 0.0, 0.0)
    taker = r.fills[r.fills["liquidity"] == LiquiditySide.TAKER]
    assert taker["contra_order_id"].tolist() == [1, 2, 3]
    assert taker["px_tick"].tolist() == [101, 101, 102] and taker["qty"].tolist() == [5, 5, 2]
    maker = r.fills[r.fills["liquidity"] == LiquiditySide.MAKER]
    assert maker["owner"].tolist() == [1, 2, 3] and (maker["contra_owner"] == 9).all()
    kinds = r.events["kind"].tolist()
    assert kinds == [EventKind.EXECUTE] * 3 + [EventKind.TRADE]
    assert eng.best(S) == (102, 3.0)


def test_matching_gtc_remainder_rests_and_ioc_remainder_is_cancelled(eng):
    r = eng.submit(B, 7, px_tick=101, order_id=10, tif=TimeInForce.GTC)
    assert (r.filled, r.rested) == (7.0, 0.0)
    r = eng.submit(B, 7, px_tick=101, order_id=11, tif=TimeInForce.GTC)
    assert (r.filled, r.rested) == (3.0, 4.0) and eng.best(B) == (101, 4.0)
    r = eng.submit(S, 10, px_tick=101, order_id=12, tif=TimeInForce.IOC)
    assert (r.filled, r.rested, r.cancelled) == (4.0, 0.0, 6.0)
    assert r.reason == RejectReason.IOC_REMAINDER and 12 not in eng.book


def test_matching_fok_fills_fully_or_not_at_all(eng):
    r = eng.submit(B, 16, px_tick=102, order_id=10, tif=TimeInForce.FOK)
    assert (r.filled, r.cancelled, r.reason) == (0.0, 16.0, RejectReason.FOK_NOT_FILLABLE)
    assert len(r.fills) == 0 and eng.best(S) == (101, 10.0)
    r = eng.submit(B, 15, px_tick=102, order_id=11, tif=TimeInForce.FOK)
    assert r.filled == 15.0 and eng.best(S) is None


def test_matching_market_order_takes_any_price_and_never_rests(eng):
    r = eng.submit(S, 8, order_type=OrderType.MARKET, order_id=10)
    assert (r.filled, r.rested, r.cancelled) == (5.0, 0.0, 3.0) and eng.best(B) is None
    with pytest.raises(OrderRejected, match="BAD_TYPE"):
        eng.submit(S, 1, order_type=OrderType.MARKET, tif=TimeInForce.GTX, order_id=11)


def test_matching_post_only_reject_or_reprice(eng):
    with pytest.raises(OrderRejected, match="POST_ONLY_WOULD_CROSS") as info:
        eng.submit(B, 1, px_tick=101, order_id=10, tif=TimeInForce.GTX)
    assert info.value.reason == RejectReason.POST_ONLY_WOULD_CROSS and 10 not in eng.book
    r = eng.submit(B, 1, px_tick=100, order_id=11, tif=TimeInForce.GTX)
    assert r.rested == 1.0 and r.filled == 0.0
    rep = MatchingEngine(post_only="reprice")
    rep.submit(S, 1, px_tick=101, order_id=1)
    r = rep.submit(B, 2, px_tick=105, order_id=2, tif=TimeInForce.GTX)
    assert (r.filled, r.rested, r.px_tick) == (0.0, 2.0, 100) and rep.best(B) == (100, 2.0)


@pytest.mark.parametrize("stp, filled, rested, cancelled, resting_left", [
    (StpPolicy.CANCEL_RESTING, 5.0, 0.0, 0.0, []),        # own order 1 cancelled, fills 2
    (StpPolicy.CANCEL_AGGRESSING, 0.0, 0.0, 5.0, [1, 2]),  # stops at own order 1
    (StpPolicy.DECREMENT_BOTH, 0.0, 0.0, 5.0, [2]),        # 5 vs 5: both decremented away
])
def test_matching_self_trade_prevention_policies(eng, stp, filled, rested, cancelled, resting_left):
    r = eng.submit(B, 5, px_tick=101, order_id=10, owner=1, stp=stp)
    assert (r.filled, r.rested, r.cancelled) == (filled, rested, cancelled)
    assert not ((r.fills["owner"] == r.fills["contra_owner"]).any())
    assert book_ids(eng, S, 101) == resting_left


def test_matching_decrement_both_partial_keeps_matching():
    e = MatchingEngine(stp=StpPolicy.DECREMENT_BOTH)
    e.submit(S, 2, px_tick=101, order_id=1, owner=1)
    e.submit(S, 5, px_tick=101, order_id=2, owner=2)
    r = e.submit(B, 5, px_tick=101, order_id=3, owner=1)
    assert (r.filled, r.cancelled, r.reason) == (3.0, 2.0, RejectReason.SELF_TRADE)
    assert e.best(S) == (101, 2.0)


def test_matching_modify_priority_rules(eng):
    eng.modify(1, 3)                         # down: keeps place
    assert book_ids(eng, S, 101) == [1, 2]
    r = eng.modify(1, 4)                     # up: to the back
    assert book_ids(eng, S, 101) == [2, 1] and r.rested == 4.0
    r = eng.modify(2, 5, px_tick=99)         # crosses the bid at 99: trades
    assert r.filled == 5.0 and eng.best(B) is None
    r = eng.modify(1, 0)
    assert r.cancelled == 4.0 and 1 not in eng.book


def test_matching_cancel_and_unknown_ids(eng):
    r = eng.cancel(4)
    assert r.cancelled == 5.0 and r.events["kind"].tolist() == [EventKind.DELETE]
    with pytest.raises(OrderRejected, match="UNKNOWN_ORDER"):
        eng.cancel(4)
    with pytest.raises(OrderRejected, match="UNKNOWN_ORDER"):
        eng.modify(4, 1)


@pytest.mark.parametrize("kw, reason", [
    ({"side": 0, "qty": 1, "px_tick": 100}, "BAD_SIDE"),
    ({"side": B, "qty": 0, "px_tick": 100}, "BAD_QTY"),
    ({"side": B, "qty": float("nan"), "px_tick": 100}, "BAD_QTY"),
    ({"side": B, "qty": 1, "px_tick": 0}, "BAD_PRICE"),
    ({"side": B, "qty": 1, "px_tick": 100, "order_id": 1}, "DUPLICATE_ORDER"),
])
def test_matching_bad_orders_are_rejected_with_reason(eng, kw, reason):
    before = eng.book.orders()
    with pytest.raises(OrderRejected, match=reason):
        eng.submit(**{"order_id": 50, **kw})
    assert (eng.book.orders() == before).all()


def test_matching_float_price_off_grid_is_rejected():
    e = MatchingEngine(Instrument("ES.GLBX", tick_size=0.25))
    assert e.submit(B, 1, px=4810.25, order_id=1).px_tick == 19241
    with pytest.raises(OrderRejected, match="BAD_PRICE"):
        e.submit(B, 1, px=4810.1, order_id=2)
    with pytest.raises(ParameterError):
        e.submit(B, 1, order_id=3)
    with pytest.raises(ParameterError):
        MatchingEngine(post_only="slide")


def test_matching_runs_on_a_market_data_book_with_anonymous_liquidity():
    from qlib.dtypes import empty_events
    e = empty_events(1)
    e["kind"], e["side"], e["px_tick"], e["qty"] = EventKind.DEPTH, S, 101, 7.0
    eng = MatchingEngine(book=L3Book(strict=False).apply(e))
    r = eng.submit(B, 10, px_tick=101, order_id=1, owner=1)
    assert (r.filled, r.rested) == (7.0, 3.0)
    assert r.fills["contra_order_id"].tolist()[0] == 0


def test_matching_grows_buffers_and_book():
    eng = MatchingEngine(fill_capacity=16, event_capacity=16)
    for i in range(300):
        eng.submit(S, 1, px_tick=200 + i % 50, order_id=i + 1)
    r = eng.submit(B, 300, px_tick=1000, order_id=999)
    assert r.filled == 300.0 and len(r.fills) == 600 and eng.best(S) is None
