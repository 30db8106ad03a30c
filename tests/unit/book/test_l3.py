"""Unit tests of the order-level book (qlib.book.l3)."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.book.l3 import L3Book, replay_l3
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, ParameterError, SchemaError

A, C, D, X, M = EventKind.ADD, EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE, EventKind.MODIFY
DEPTH, SNAP, CLEAR = EventKind.DEPTH, EventKind.SNAPSHOT, EventKind.CLEAR
B, S = Side.BUY, Side.SELL


def ev(*rows, flags=EventFlag.LAST):
    """rows of (kind, side, px_tick, qty, order_id)."""
    e = empty_events(len(rows))
    for i, (k, sd, px, q, oid) in enumerate(rows):
        e[i]["kind"], e[i]["side"], e[i]["px_tick"], e[i]["qty"], e[i]["order_id"] = k, sd, px, q, oid
        e[i]["ts_exch"] = i
    e["flags"] = flags
    return e


def ids(book, side, px):
    o = book.orders()
    return o[(o["side"] == side) & (o["px_tick"] == px)]["order_id"].tolist()


def test_l3_adds_queue_fifo_and_queue_position_is_quantity_ahead():
    book = L3Book().apply(ev((A, B, 100, 5, 1), (A, B, 100, 3, 2), (A, B, 100, 2, 3), (A, S, 101, 1, 4)))
    assert ids(book, B, 100) == [1, 2, 3]
    q = book.queue_position(3)
    assert (q.ahead, q.qty, q.level_qty, q.behind) == (8.0, 2.0, 10.0, 0.0)
    assert book.best(B) == (100, 10.0) and book.best(S) == (101, 1.0)
    assert len(book) == 4 and 2 in book and 9 not in book


def test_l3_cancel_execute_delete_update_queue():
    book = L3Book().apply(ev((A, B, 100, 5, 1), (A, B, 100, 3, 2), (A, B, 100, 2, 3),
                             (C, B, 100, 1, 2), (X, B, 100, 5, 1), (D, B, 100, 0, 3)))
    assert ids(book, B, 100) == [2]
    assert book.queue_position(2).ahead == 0.0 and book.best(B) == (100, 2.0)


def test_l3_modify_down_keeps_priority_up_or_price_change_loses_it():
    book = L3Book().apply(ev((A, B, 100, 5, 1), (A, B, 100, 3, 2), (M, B, 100, 4, 1)))
    assert ids(book, B, 100) == [1, 2]
    book.apply(ev((M, B, 100, 6, 1)))
    assert ids(book, B, 100) == [2, 1]
    book.apply(ev((M, B, 99, 6, 2)))
    assert ids(book, B, 100) == [1] and ids(book, B, 99) == [2]
    book.apply(ev((M, B, 99, 0, 2)))
    assert 2 not in book and book.n_levels == (1, 0)


def test_l3_execute_of_order_behind_moves_it_to_the_front():
    book = L3Book().apply(ev((A, S, 100, 5, 1), (A, S, 100, 3, 2), (X, S, 100, 1, 2)))
    assert ids(book, S, 100) == [2, 1] and book.stats["exec_not_head"] == 1


def test_l3_levels_emptied_are_removed_and_best_follows():
    book = L3Book().apply(ev((A, B, 100, 1, 1), (A, B, 99, 1, 2), (A, S, 102, 1, 3),
                             (A, S, 105, 1, 4), (D, B, 100, 1, 1), (X, S, 102, 1, 3)))
    assert book.best(B) == (99, 1.0) and book.best(S) == (105, 1.0)
    assert book.depth(2)["bid_px_tick"].tolist() == [99, 0]


@pytest.mark.parametrize("rows, status", [
    (((C, B, 100, 1, 7),), "UNKNOWN_ORDER"),
    (((A, B, 100, 1, 7), (C, B, 100, 2, 7)), "NEGATIVE_QTY"),
    (((A, B, 100, 1, 7), (A, B, 100, 1, 7)), "DUPLICATE_ORDER"),
    (((A, B, 100, -1, 7),), "NEGATIVE_QTY"),
    (((A, B, 100, np.nan, 7),), "NON_FINITE"),
    (((A, 0, 100, 1, 7),), "UNKNOWN_KIND"),
    (((99, B, 100, 1, 7),), "UNKNOWN_KIND"),
])
def test_l3_strict_bad_input_raises_naming_the_row(rows, status):
    e = ev(*rows)
    with pytest.raises(DataQualityError, match=status) as info:
        L3Book().apply(e)
    assert info.value.row == len(rows) - 1
    assert f"events[{len(rows) - 1}]" in str(info.value)


def test_l3_crossed_snapshot_raises_at_its_last_row():
    e = ev((CLEAR, 0, 0, 0, 0), (SNAP, B, 101, 1, 1), (SNAP, S, 100, 1, 2),
           flags=EventFlag.SNAPSHOT)
    e["flags"][-1] |= EventFlag.LAST
    with pytest.raises(DataQualityError, match="CROSSED") as info:
        L3Book().apply(e)
    assert info.value.row == 2


def test_l3_crossed_book_outside_a_snapshot_is_allowed():
    book = L3Book().apply(ev((A, B, 101, 1, 1), (A, S, 100, 1, 2)))
    assert book.is_crossed()


def test_l3_l2_snapshot_and_depth_make_anonymous_blocks_at_the_tail():
    book = L3Book(strict=False).apply(ev((SNAP, B, 100, 10, 0), (A, B, 100, 2, 1),
                                         (DEPTH, B, 100, 15, 0)))
    o = book.orders()
    assert o["order_id"].tolist() == [0, 1, 0]
    assert o["anonymous"].tolist() == [1, 0, 1]
    q = book.queue_position(1)
    assert q.ahead == 10.0 and q.ahead_anonymous == 10.0 and q.level_qty == 15.0
    # a fall is taken from the tail: the tail block first, then the order itself
    book.apply(ev((DEPTH, B, 100, 11, 0)))
    assert book.orders()["qty"].tolist() == [10.0, 1.0] and book.stats["trimmed"] == 1
    book.apply(ev((DEPTH, B, 100, 0, 0)))
    assert book.n_levels == (0, 0) and 1 not in book


def test_l3_lenient_unknown_ids_take_from_anonymous_blocks():
    book = L3Book(strict=False).apply(ev((SNAP, S, 100, 10, 0), (A, S, 100, 2, 1),
                                         (DEPTH, S, 100, 15, 0)))
    book.apply(ev((X, S, 100, 4, 99)))   # execution: from the first block
    assert book.orders()["qty"].tolist() == [6.0, 2.0, 3.0]
    book.apply(ev((C, S, 100, 2, 98)))   # cancel: from the last block
    assert book.orders()["qty"].tolist() == [6.0, 2.0, 1.0]
    book.apply(ev((D, S, 100, 9, 97)))   # more than the blocks hold: then the tail order
    assert book.orders()["qty"].tolist() == [] or book.best(S) is None
    assert book.stats["unknown_orders"] == 3


def test_l3_lenient_over_cancel_of_known_order_clamps_and_counts():
    book = L3Book(strict=False).apply(ev((SNAP, B, 100, 5, 0), (A, B, 100, 2, 1), (C, B, 100, 3, 1)))
    assert book.best(B) == (100, 4.0) and book.stats["clamped"] == 1


def test_l3_clear_side_removes_orders():
    book = L3Book().apply(ev((A, B, 100, 1, 1), (A, S, 101, 1, 2), (CLEAR, S, 0, 0, 0)))
    assert book.best(S) is None and 2 not in book and 1 in book
    book.apply(ev((CLEAR, 0, 0, 0, 0)))
    assert len(book) == 0 and book.n_levels == (0, 0)


def test_l3_grows_past_initial_capacity():
    n = 5000
    e = empty_events(n)
    e["kind"] = A
    e["side"] = np.where(np.arange(n) % 2 == 0, B, S)
    e["px_tick"] = np.where(e["side"] == B, 1000 - np.arange(n) % 700, 2000 + np.arange(n) % 700)
    e["qty"] = 1.0
    e["order_id"] = np.arange(1, n + 1)
    book = L3Book(order_capacity=16, level_capacity=8).apply(e)
    assert len(book) == n and sum(book.n_levels) == 700
    assert book.queue_position(n).ahead >= 0.0


def test_l3_trade_quote_halt_change_nothing():
    book = L3Book().apply(ev((A, B, 100, 1, 1), (EventKind.TRADE, S, 100, 1, 0),
                             (EventKind.HALT, 0, 0, 0, 0), (EventKind.QUOTE, B, 100, 9, 0)))
    assert book.best(B) == (100, 1.0)


def test_l3_replay_l3_auto_strictness_and_errors():
    assert replay_l3(ev((A, B, 100, 1, 1))).strict
    assert not replay_l3(ev((DEPTH, B, 100, 1, 0))).strict
    with pytest.raises(SchemaError):
        replay_l3(np.zeros(3))
    with pytest.raises(ParameterError):
        L3Book(order_capacity=0)
    with pytest.raises(DataQualityError, match="not resting"):
        L3Book().queue_position(5)


def test_l3_to_pandas_has_utc_entry_times():
    df = L3Book().apply(ev((A, B, 100, 1, 1))).to_pandas()
    assert str(df["ts_entry"].dt.tz) == "UTC" and df["order_id"].tolist() == [1]
