"""Unit tests of qlib.book: hand-built L2/L3 sequences, statuses, wrappers, kernel parity."""

from __future__ import annotations

import numpy as np
import pytest
from numba import types
from numba.typed import Dict
from oracle import sorted_book

from qlib.book import BookReplay, bbo, count_crossed, replay_bbo, replay_book
from qlib.data.market_data import MarketData
from qlib.data.report import ValidationReport
from qlib.dtypes import BBO_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import DataQualityError, ParameterError, SchemaError
from qlib.instrument import Instrument

K = EventKind
BUY, SELL, NONE = Side.BUY, Side.SELL, Side.NONE
LAST = EventFlag.LAST


def make(rows: list[tuple]) -> np.ndarray:
    """rows of (kind, side, px_tick, qty[, order_id[, flags]]); LAST by default."""
    ev = empty_events(len(rows))
    for i, r in enumerate(rows):
        ev[i]["kind"], ev[i]["side"], ev[i]["px_tick"], ev[i]["qty"] = r[:4]
        ev[i]["order_id"] = r[4] if len(r) > 4 else 0
        ev[i]["flags"] = r[5] if len(r) > 5 else LAST
        ev[i]["ts_exch"] = 1_000 + i
        ev[i]["seq"] = i
    return ev


def top(b: np.ndarray, i: int = -1) -> tuple:
    r = b[i]
    return int(r["bid_px_tick"]), float(r["bid_qty"]), int(r["ask_px_tick"]), float(r["ask_qty"])


def test_replay_bbo_depth_set_update_remove_tracks_best():
    ev = make([(K.DEPTH, BUY, 99, 2.0), (K.DEPTH, SELL, 101, 3.0), (K.DEPTH, BUY, 100, 1.0),
               (K.DEPTH, BUY, 100, 4.0), (K.DEPTH, BUY, 100, 0.0), (K.DEPTH, SELL, 102, 0.0)])
    b = replay_bbo(ev)
    assert b.dtype == BBO_DTYPE and len(b) == 6
    assert top(b, 0) == (99, 2.0, 0, 0.0)
    assert top(b, 2) == (100, 1.0, 101, 3.0)
    assert top(b, 3) == (100, 4.0, 101, 3.0)
    assert top(b, 4) == (99, 2.0, 101, 3.0)
    assert top(b, 5) == (99, 2.0, 101, 3.0)  # removing an absent level is a no-op
    assert b["ts_exch"].tolist() == ev["ts_exch"].tolist()


def test_replay_book_snapshot_after_clear_replaces_book():
    ev = make([(K.DEPTH, BUY, 50, 1.0), (K.DEPTH, SELL, 60, 1.0),
               (K.CLEAR, NONE, 0, 0.0, 0, EventFlag.SNAPSHOT),
               (K.SNAPSHOT, BUY, 98, 5.0, 0, EventFlag.SNAPSHOT),
               (K.SNAPSHOT, SELL, 103, 6.0, 0, EventFlag.SNAPSHOT | LAST)])
    r = replay_book(ev)
    assert top(r.bbo, 2) == (0, 0.0, 0, 0.0)
    assert top(r.bbo) == (98, 5.0, 103, 6.0)
    assert r.bid_levels[0].tolist() == [98] and r.ask_levels[0].tolist() == [103]


def test_replay_book_clear_one_side_keeps_other():
    ev = make([(K.DEPTH, BUY, 99, 1.0), (K.DEPTH, SELL, 101, 1.0), (K.CLEAR, SELL, 0, 0.0)])
    assert top(replay_bbo(ev)) == (99, 1.0, 0, 0.0)


def test_replay_book_levels_far_from_touch_are_kept_exactly():
    # Binance USD-M: bids at 1,000 and 5,000 USDT beside a mid near 62,000, tick 0.1
    ev = make([(K.DEPTH, BUY, 10_000, 569.567), (K.DEPTH, BUY, 50_000, 2.024),
               (K.DEPTH, BUY, 620_000, 1.0), (K.DEPTH, SELL, 620_001, 1.0),
               (K.DEPTH, SELL, 6_200_000, 3.0), (K.DEPTH, BUY, 620_000, 0.0)])
    r = replay_book(ev)
    assert r.bid_levels[0].tolist() == [50_000, 10_000]
    assert r.ask_levels[0].tolist() == [620_001, 6_200_000]
    assert top(r.bbo) == (50_000, 2.024, 620_001, 1.0)


def test_replay_book_many_levels_grows_capacity_and_stays_sorted():
    n = 5000
    rows = [(K.DEPTH, BUY, int(p), 1.0) for p in np.random.default_rng(1).permutation(n)]
    rows += [(K.DEPTH, SELL, n + 10 + i, 2.0) for i in range(n)]
    r = replay_book(make(rows))
    assert r.bid_levels[0].tolist() == list(range(n - 1, -1, -1))
    assert r.ask_levels[0].tolist() == list(range(n + 10, 2 * n + 10))


def test_replay_book_l3_add_cancel_execute_delete_aggregate_by_price():
    ev = make([(K.ADD, BUY, 100, 5.0, 1), (K.ADD, BUY, 100, 3.0, 2), (K.ADD, SELL, 102, 4.0, 3),
               (K.CANCEL, BUY, 100, 2.0, 1), (K.EXECUTE, BUY, 100, 1.0, 2),
               (K.DELETE, BUY, 100, 0.0, 1), (K.EXECUTE, SELL, 102, 4.0, 3)])
    r = replay_book(ev)
    assert [top(r.bbo, i)[:2] for i in range(7)] == [
        (100, 5.0), (100, 8.0), (100, 8.0), (100, 6.0), (100, 5.0), (100, 2.0), (100, 2.0)]
    assert top(r.bbo)[2:] == (0, 0.0)  # fully executed ask order left the book
    assert r.orders_resting == 1 and r.unknown_orders == 0


def test_replay_book_modify_moves_order_with_absolute_qty():
    ev = make([(K.ADD, SELL, 105, 5.0, 7), (K.ADD, SELL, 104, 1.0, 8), (K.MODIFY, SELL, 103, 2.0, 7)])
    r = replay_book(ev)
    assert r.ask_levels[0].tolist() == [103, 104] and r.ask_levels[1].tolist() == [2.0, 1.0]


def test_replay_book_l3_snapshot_order_is_tracked_for_delete():
    ev = make([(K.CLEAR, NONE, 0, 0.0), (K.SNAPSHOT, BUY, 100, 4.0, 9),
               (K.SNAPSHOT, BUY, 100, 3.0, 10), (K.DELETE, BUY, 0, 0.0, 9)])
    r = replay_book(ev)
    assert top(r.bbo, 2)[:2] == (100, 7.0)
    assert r.bid_levels[1].tolist() == [3.0]
    assert r.orders_resting == 1 and r.unknown_orders == 0


def test_replay_book_unknown_order_after_l2_snapshot_is_subtracted_and_counted():
    # LOBSTER: L2 snapshot levels, then messages for orders not in the snapshot
    ev = make([(K.SNAPSHOT, BUY, 100, 10.0), (K.SNAPSHOT, SELL, 101, 7.0),
               (K.CANCEL, BUY, 100, 3.0, 55), (K.EXECUTE, SELL, 101, 2.0, 56),
               (K.DELETE, SELL, 101, 9.0, 57)])
    r = replay_book(ev)
    assert top(r.bbo, 3) == (100, 7.0, 101, 5.0)
    assert top(r.bbo) == (100, 7.0, 0, 0.0)
    assert r.unknown_orders == 3 and r.clamped_levels == 1


def test_replay_book_trade_quote_halt_leave_book_unchanged():
    ev = make([(K.DEPTH, BUY, 99, 1.0), (K.TRADE, SELL, 99, 1.0), (K.QUOTE, BUY, 90, 9.0),
               (K.HALT, NONE, 0, 0.0), (K.RESUME_TRADING, NONE, 0, 0.0)])
    b = replay_bbo(ev)
    assert all(top(b, i) == (99, 1.0, 0, 0.0) for i in range(5))


@pytest.mark.parametrize("rows, status, field", [
    ([(K.ADD, BUY, 100, 1.0, 1), (K.CANCEL, BUY, 100, 2.0, 1)], Status.NEGATIVE_QTY, "qty"),
    ([(K.DEPTH, BUY, 100, -1.0)], Status.NEGATIVE_QTY, "qty"),
    ([(K.DEPTH, BUY, 100, float("nan"))], Status.NON_FINITE, "qty"),
    ([(K.ADD, BUY, 100, 1.0, 1), (K.ADD, BUY, 101, 1.0, 1)], Status.DUPLICATE_ORDER, "order_id"),
    ([(K.DEPTH, NONE, 100, 1.0)], Status.UNKNOWN_KIND, "kind/side"),
    ([(99, BUY, 100, 1.0)], Status.UNKNOWN_KIND, "kind/side"),
])
def test_replay_book_impossible_event_raises_with_status_row_field(rows, status, field):
    ev = make(rows)
    with pytest.raises(DataQualityError) as ei:
        replay_book(ev)
    assert status.name in str(ei.value)
    assert ei.value.row == len(rows) - 1 and ei.value.field == field
    assert f"row {len(rows) - 1}" in str(ei.value)


def test_replay_bbo_wrong_dtype_raises_schema_error():
    with pytest.raises(SchemaError):
        replay_bbo(np.zeros(3))


def test_count_crossed_counts_only_consistent_rows():
    # inside one diff (no LAST on the first record) the book crosses transiently
    ev = make([(K.DEPTH, BUY, 100, 1.0), (K.DEPTH, SELL, 101, 1.0),
               (K.DEPTH, SELL, 99, 1.0, 0, 0), (K.DEPTH, SELL, 99, 0.0),
               (K.DEPTH, BUY, 101, 1.0), (K.DEPTH, BUY, 102, 1.0)])
    assert count_crossed(ev) == (1, 1)
    assert count_crossed(ev, at_last_only=False) == (2, 1)


def _md(ev: np.ndarray) -> MarketData:
    return MarketData(ev, Instrument("TEST.X", tick_size=0.5), ValidationReport("test"))


def test_bbo_frame_has_float_prices_and_excludes_one_sided_rows():
    ev = make([(K.DEPTH, BUY, 200, 1.0), (K.TRADE, BUY, 0, 1.0), (K.DEPTH, SELL, 203, 2.0),
               (K.DEPTH, BUY, 201, 3.0, 0, 0), (K.DEPTH, BUY, 202, 1.0)])
    df = bbo(_md(ev))
    assert list(df.columns) == ["ts_exch", "bid_px", "bid_qty", "ask_px", "ask_qty"]
    assert df.index.tolist() == [2, 4]
    assert df["bid_px"].tolist() == [100.0, 101.0] and df["ask_px"].tolist() == [101.5, 101.5]
    assert not df.isna().any().any()
    assert df.attrs["rows_one_sided"] == 1
    assert bbo(_md(ev), at_last_only=False).index.tolist() == [2, 3, 4]
    assert str(df["ts_exch"].dtype) == "datetime64[ns, UTC]"


def test_bbo_bad_arguments_raise():
    with pytest.raises(SchemaError):
        bbo(np.zeros(2))
    with pytest.raises(ParameterError):
        bbo(_md(make([])), at_last_only="yes")


def _run(fn, ev, cap=4):
    keys = np.zeros((2, cap), dtype=np.int64)
    qtys = np.zeros((2, cap), dtype=np.float64)
    counts = np.zeros(2, dtype=np.int64)
    stats = np.zeros(sorted_book.N_STATS, dtype=np.int64)
    orders = Dict.empty(key_type=types.uint64,
                        value_type=types.Tuple((types.int64, types.int64, types.float64)))
    out = np.zeros(len(ev), dtype=BBO_DTYPE)
    status, row = fn(ev, 0, keys, qtys, counts, orders, stats, out)
    return int(status), int(row), out, counts.copy(), stats.copy(), dict(orders)


def test_replay_bbo_kernel_jit_matches_py_func():
    ev = make([(K.SNAPSHOT, BUY, 100, 10.0), (K.SNAPSHOT, SELL, 104, 7.0), (K.DEPTH, BUY, 101, 1.5),
               (K.ADD, SELL, 103, 2.0, 4), (K.MODIFY, SELL, 102, 1.0, 4), (K.CANCEL, BUY, 100, 3.0, 77),
               (K.DELETE, SELL, 102, 0.0, 4), (K.DEPTH, SELL, 105, 1.0), (K.DEPTH, SELL, 106, 1.0),
               (K.CLEAR, BUY, 0, 0.0), (K.TRADE, BUY, 104, 1.0)])
    jit = _run(sorted_book.replay_bbo, ev, 3)
    py = _run(sorted_book.replay_bbo.py_func, ev, 3)
    assert jit[:2] == py[:2]
    assert jit[0] == Status.CAPACITY  # 3 ask levels fill capacity 3 before the CLEAR
    np.testing.assert_array_equal(jit[2], py[2])
    np.testing.assert_array_equal(jit[3], py[3])
    np.testing.assert_array_equal(jit[4], py[4])
    assert jit[5] == py[5]
    full_jit, full_py = _run(sorted_book.replay_bbo, ev, 16), _run(sorted_book.replay_bbo.py_func, ev, 16)
    assert full_jit[:2] == full_py[:2] == (Status.OK, len(ev))
    np.testing.assert_array_equal(full_jit[2], full_py[2])


def test_replay_book_returns_bookreplay():
    assert isinstance(replay_book(make([(K.DEPTH, BUY, 1, 1.0)])), BookReplay)
