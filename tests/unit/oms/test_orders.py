"""Order state machine: every legal edge walked, every illegal pair refused."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from qlib.book.matching import MatchingEngine
from qlib.dtypes import FILL_DTYPE
from qlib.enums import OrderEvent as E
from qlib.enums import OrderStatus as S
from qlib.enums import Side, Status
from qlib.errors import ParameterError, QlibError
from qlib.oms import TERMINAL_STATES, TRANSITIONS, OrderStateError, OrderTracker

QTY = 4.0
PX = 100

# The design's edges, written out independently of build_transition_table.
# "resume" edges return to the working state the order came from; from the paths
# below that is LIVE (see the resume tests for PARTIALLY_FILLED).
LEGAL: dict[tuple[S, E], S] = {
    (S.NEW, E.SUBMIT): S.PENDING_NEW,
    (S.NEW, E.REJECT): S.REJECTED,
    (S.PENDING_NEW, E.ACK): S.LIVE,
    (S.PENDING_NEW, E.REJECT): S.REJECTED,
    (S.PENDING_NEW, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PENDING_NEW, E.FILL): S.FILLED,
    (S.PENDING_NEW, E.EXPIRE): S.EXPIRED,
    (S.LIVE, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.LIVE, E.FILL): S.FILLED,
    (S.LIVE, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.LIVE, E.REPLACE_REQUEST): S.PENDING_REPLACE,
    (S.LIVE, E.EXPIRE): S.EXPIRED,
    (S.PARTIALLY_FILLED, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, E.FILL): S.FILLED,
    (S.PARTIALLY_FILLED, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, E.REPLACE_REQUEST): S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, E.EXPIRE): S.EXPIRED,
    (S.PENDING_CANCEL, E.CANCEL_ACK): S.CANCELLED,
    (S.PENDING_CANCEL, E.CANCEL_REJECT): S.LIVE,
    (S.PENDING_CANCEL, E.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.FILL): S.FILLED,
    (S.PENDING_CANCEL, E.EXPIRE): S.EXPIRED,
    (S.PENDING_REPLACE, E.REPLACE_ACK): S.LIVE,
    (S.PENDING_REPLACE, E.REPLACE_REJECT): S.LIVE,
    (S.PENDING_REPLACE, E.PARTIAL_FILL): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, E.FILL): S.FILLED,
    (S.PENDING_REPLACE, E.EXPIRE): S.EXPIRED,
    (S.FILLED, E.CANCEL_REJECT): S.FILLED,
    (S.FILLED, E.REPLACE_REJECT): S.FILLED,
}

# Events that lead from NEW to each state, with their (qty, px_tick).
PATHS: dict[S, list[tuple[E, float, int]]] = {
    S.NEW: [],
    S.PENDING_NEW: [(E.SUBMIT, 0, 0)],
    S.LIVE: [(E.SUBMIT, 0, 0), (E.ACK, 0, 0)],
    S.PARTIALLY_FILLED: [(E.SUBMIT, 0, 0), (E.ACK, 0, 0), (E.FILL, 1.0, PX)],
    S.FILLED: [(E.SUBMIT, 0, 0), (E.ACK, 0, 0), (E.FILL, QTY, PX)],
    S.PENDING_CANCEL: [(E.SUBMIT, 0, 0), (E.ACK, 0, 0), (E.CANCEL_REQUEST, 0, 0)],
    S.CANCELLED: [(E.SUBMIT, 0, 0), (E.ACK, 0, 0), (E.CANCEL_REQUEST, 0, 0), (E.CANCEL_ACK, 0, 0)],
    S.PENDING_REPLACE: [(E.SUBMIT, 0, 0), (E.ACK, 0, 0), (E.REPLACE_REQUEST, 6.0, PX + 1)],
    S.REJECTED: [(E.SUBMIT, 0, 0), (E.REJECT, 0, 0)],
    S.EXPIRED: [(E.SUBMIT, 0, 0), (E.ACK, 0, 0), (E.EXPIRE, 0, 0)],
}


def _tracker_in(state: S) -> OrderTracker:
    t = OrderTracker(capacity=2, journal_capacity=2)
    t.new_order(1, Side.BUY, QTY, px_tick=PX, ts=0)
    for k, (ev, qty, px) in enumerate(PATHS[state]):
        t.apply(1, ev, ts=10 * (k + 1), qty=qty, px_tick=px)
    assert t.state(1) == state
    return t


def _args(t: OrderTracker, event: E) -> tuple[float, int]:
    o = t.orders[t.slot(1)]
    if event == E.PARTIAL_FILL:
        return 1.0, PX
    if event == E.FILL:
        return float(o["qty"] - o["filled_qty"]), PX
    if event == E.REPLACE_REQUEST:
        return 3.0, PX - 1
    return 0.0, 0


def test_transition_table_matches_design_edges_exactly():
    # Arrange: the design's table with resume edges as the -2 sentinel
    expected = np.full((len(S), len(E)), -1, dtype=np.int8)
    for (s, e), to in LEGAL.items():
        resume = (s, e) in {(S.PENDING_CANCEL, E.CANCEL_REJECT), (S.PENDING_REPLACE, E.REPLACE_ACK),
                            (S.PENDING_REPLACE, E.REPLACE_REJECT)}
        expected[s, e] = -2 if resume else to
    # Act / Assert
    np.testing.assert_array_equal(TRANSITIONS, expected)
    assert TRANSITIONS.dtype == np.int8 and not TRANSITIONS.flags.writeable


@pytest.mark.parametrize(("state", "event"), sorted(LEGAL), ids=lambda x: x.name)
def test_order_event_legal_edge_reaches_design_state(state, event):
    t = _tracker_in(state)
    qty, px = _args(t, event)
    out = t.apply(1, event, ts=1000, qty=qty, px_tick=px)
    assert out == LEGAL[(state, event)]
    last = t.journal().iloc[-1]
    assert (last["from_state"], last["to_state"], last["status"]) == (state.name, out.name, "OK")
    assert last["ts_ns"] == 1000 and t.orders[0]["ts_last"] == 1000


ILLEGAL = [(s, e) for s, e in itertools.product(S, E) if (s, e) not in LEGAL]


@pytest.mark.parametrize(("state", "event"), ILLEGAL, ids=lambda x: x.name)
def test_order_event_illegal_pair_refused_and_not_applied(state, event):
    t = _tracker_in(state)
    before = t.orders.copy()
    qty, px = _args(t, event)
    with pytest.raises(OrderStateError) as err:
        t.apply(1, event, ts=1000, qty=qty, px_tick=px)
    assert err.value.status == Status.ILLEGAL_TRANSITION and isinstance(err.value, QlibError)
    assert state.name in str(err.value) and event.name in str(err.value)
    np.testing.assert_array_equal(t.orders, before)
    last = t.journal().iloc[-1]
    assert last["status"] == "ILLEGAL_TRANSITION" and pd.isna(last["to_state"])
    assert last["from_state"] == state.name and last["ts_ns"] == 1000


def test_transition_table_terminal_states_have_no_exit():
    for s in TERMINAL_STATES:
        nxt = TRANSITIONS[s]
        assert set(nxt[nxt != -1].tolist()) <= {int(s)}


def test_cancel_reject_after_partial_fill_returns_partially_filled():
    t = _tracker_in(S.PARTIALLY_FILLED)
    t.request_cancel(1, ts=100)
    assert t.cancel_reject(1, ts=101) == S.PARTIALLY_FILLED


def test_fill_while_pending_cancel_stays_pending_then_reject_resumes_partially_filled():
    t = _tracker_in(S.PENDING_CANCEL)
    assert t.fill(1, 1.0, px_tick=PX, ts=100) == S.PENDING_CANCEL
    assert t.cancel_reject(1, ts=101) == S.PARTIALLY_FILLED
    assert t.orders[0]["filled_qty"] == 1.0


def test_fill_completing_while_pending_cancel_fills_then_late_reject_keeps_filled():
    t = _tracker_in(S.PENDING_CANCEL)
    t.fill(1, 1.5, px_tick=PX, ts=100)
    assert t.fill(1, 2.5, px_tick=PX + 2, ts=101) == S.FILLED
    assert t.cancel_reject(1, ts=102) == S.FILLED
    with pytest.raises(OrderStateError):
        t.cancel_ack(1, ts=103)
    assert t.orders_frame()["avg_fill_px_tick"].iloc[0] == pytest.approx((1.5 * PX + 2.5 * (PX + 2)) / 4)


def test_replace_ack_sets_new_qty_and_price_reject_keeps_old():
    t = _tracker_in(S.LIVE)
    t.request_replace(1, 6.0, px_tick=PX + 3, ts=100)
    assert t.replace_ack(1, ts=101) == S.LIVE
    o = t.orders[0]
    assert (o["qty"], o["px_tick"]) == (6.0, PX + 3)
    t.request_replace(1, 2.0, px_tick=PX - 3, ts=102)
    assert t.replace_reject(1, ts=103) == S.LIVE
    o = t.orders[0]
    assert (o["qty"], o["px_tick"]) == (6.0, PX + 3)


def test_replace_request_below_filled_qty_refused_overfill():
    t = _tracker_in(S.PARTIALLY_FILLED)  # 1 of 4 filled
    with pytest.raises(OrderStateError) as err:
        t.request_replace(1, 1.0, px_tick=PX, ts=100)
    assert err.value.status == Status.OVERFILL and t.state(1) == S.PARTIALLY_FILLED


def test_replace_ack_after_fills_reached_new_qty_refused_overfill():
    t = _tracker_in(S.PARTIALLY_FILLED)
    t.request_replace(1, 2.0, px_tick=PX, ts=100)
    t.fill(1, 1.0, px_tick=PX, ts=101)  # 2 of 4 filled while the replace to 2 is in flight
    with pytest.raises(OrderStateError) as err:
        t.replace_ack(1, ts=102)
    assert err.value.status == Status.OVERFILL
    assert t.replace_reject(1, ts=103) == S.PARTIALLY_FILLED


@pytest.mark.parametrize(("qty", "status"), [(4.5, Status.OVERFILL), (0.0, Status.NEGATIVE_QTY),
                                             (-1.0, Status.NEGATIVE_QTY), (np.nan, Status.NON_FINITE)])
def test_fill_bad_qty_refused_with_status(qty, status):
    t = _tracker_in(S.LIVE)
    with pytest.raises(OrderStateError) as err:
        t.fill(1, qty, px_tick=PX, ts=100)
    assert err.value.status == status and t.orders[0]["filled_qty"] == 0.0


def test_event_before_last_transition_refused_unsorted():
    t = _tracker_in(S.LIVE)  # last transition at ts=20
    with pytest.raises(OrderStateError) as err:
        t.request_cancel(1, ts=19)
    assert err.value.status == Status.UNSORTED and t.state(1) == S.LIVE


def test_tracker_grows_orders_and_journal_beyond_capacity():
    t = OrderTracker(capacity=1, journal_capacity=1)
    for oid in range(5):
        t.new_order(oid, Side.SELL, 1.0, px_tick=PX, ts=0)
        t.submit(oid, ts=1)
        t.ack(oid, ts=2)
    assert len(t.orders_frame()) == 5 and len(t.journal()) == 10
    assert (t.orders_frame()["status"] == "LIVE").all()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"order_id": 1, "side": Side.BUY, "qty": 1.0, "px_tick": PX}, "already exists"),
     ({"order_id": 2, "side": Side.NONE, "qty": 1.0, "px_tick": PX}, "side"),
     ({"order_id": 2, "side": Side.BUY, "qty": np.inf, "px_tick": PX}, "qty"),
     ({"order_id": 2, "side": Side.BUY, "qty": 1.0, "px_tick": 0}, "px_tick"),
     ({"order_id": 2, "side": Side.BUY, "qty": 1.0, "px_tick": PX, "tif": 9}, "tif")],
)
def test_new_order_bad_input_raises_parameter_error_naming_field(kwargs, field):
    t = _tracker_in(S.NEW)
    with pytest.raises(ParameterError, match=field):
        t.new_order(**kwargs)


def test_apply_unknown_order_raises_parameter_error():
    with pytest.raises(ParameterError, match="order_id 9"):
        OrderTracker().ack(9, ts=0)


def test_apply_fills_from_matching_engine_fills_own_orders_only():
    # Arrange: a resting sell of ours (owner 1), then a market participant takes it in two goes
    eng = MatchingEngine()
    t = OrderTracker()
    t.new_order(11, Side.SELL, 3.0, px_tick=PX, ts=0)
    t.submit(11, ts=1)
    res = eng.submit(Side.SELL, 3.0, px_tick=PX, owner=1, order_id=11, ts=2)
    t.ack(11, ts=2)
    r1 = eng.submit(Side.BUY, 1.0, px_tick=PX, owner=2, order_id=21, ts=3)
    r2 = eng.submit(Side.BUY, 2.0, px_tick=PX, owner=2, order_id=22, ts=4)
    fills = np.concatenate([res.fills, r1.fills, r2.fills])
    # Act
    n = t.apply_fills(fills, owner=1)
    # Assert: only our (maker) records applied; taker records of owner 2 skipped
    assert n == 2 and t.state(11) == S.FILLED
    j = t.journal()
    assert j["event"].tolist()[-2:] == ["PARTIAL_FILL", "FILL"]


def test_apply_fills_overfill_raises_naming_row():
    eng = MatchingEngine()
    t = OrderTracker()
    t.new_order(11, Side.SELL, 1.0, px_tick=PX, ts=0)
    t.submit(11, ts=1)
    t.ack(11, ts=1)
    eng.submit(Side.SELL, 5.0, px_tick=PX, owner=1, order_id=11, ts=2)
    fills = eng.submit(Side.BUY, 2.0, px_tick=PX, owner=2, order_id=21, ts=3).fills
    with pytest.raises(OrderStateError, match=r"OVERFILL.*fills\[1\]"):
        t.apply_fills(fills, owner=1)


def test_apply_fills_batch_grows_journal_without_double_applying():
    t = OrderTracker(capacity=1, journal_capacity=1)
    t.new_order(5, Side.BUY, 10.0, px_tick=PX, ts=0)
    t.submit(5, ts=0)  # the journal is now full; fills imply the ack
    fills = np.zeros(4, dtype=FILL_DTYPE)
    fills["order_id"] = 5
    fills["ts_exch"] = [1, 2, 3, 4]
    fills["qty"] = [1.0, 2.0, 3.0, 4.0]
    fills["px_tick"] = PX
    assert t.apply_fills(fills) == 4
    assert t.state(5) == S.FILLED and t.orders[0]["filled_qty"] == 10.0
    assert t.journal()["event"].tolist() == ["SUBMIT"] + ["PARTIAL_FILL"] * 3 + ["FILL"]
