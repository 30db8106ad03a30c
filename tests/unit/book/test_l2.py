"""Unit tests of qlib.book.l2: the windowed L2 book, replay_l2, level_qty, statuses."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from qlib.book import _l2_kernels as K
from qlib.book.l2 import L2Book, L2Replay, grow, level_qty, new_l2_book, new_orders, replay_l2
from qlib.book.replay import replay_book
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, ParameterError, SchemaError

K_ = EventKind
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


def test_replay_l2_depth_levels_sorted_best_first():
    ev = make([(K_.DEPTH, BUY, 99, 2.0), (K_.DEPTH, BUY, 97, 1.0), (K_.DEPTH, SELL, 101, 3.0),
               (K_.DEPTH, SELL, 104, 4.0), (K_.DEPTH, BUY, 98, 5.0), (K_.DEPTH, BUY, 97, 0.0)])
    r = replay_l2(ev)
    assert isinstance(r, L2Replay) and isinstance(r.book, L2Book)
    assert r.bids[0].tolist() == [99, 98] and r.bids[1].tolist() == [2.0, 5.0]
    assert r.asks[0].tolist() == [101, 104] and r.asks[1].tolist() == [3.0, 4.0]
    assert r.book.best(BUY) == (99, 2.0) and r.book.best(SELL) == (101, 3.0)
    assert r.book.level_qty(SELL, 104) == 4.0 and r.book.level_qty(BUY, 97) == 0.0


def test_replay_l2_binance_far_levels_kept_exactly():
    # Binance USD-M: bids at 1,000 and 5,000 USDT beside a mid near 62,000, tick 0.1
    ev = make([(K_.DEPTH, BUY, 10_000, 569.567), (K_.DEPTH, BUY, 50_000, 2.024),
               (K_.DEPTH, BUY, 620_000, 1.0), (K_.DEPTH, SELL, 620_001, 1.0),
               (K_.DEPTH, SELL, 6_200_000, 3.0), (K_.DEPTH, BUY, 620_000, 0.0)])
    for window in (16, 4096, 65536):
        r = replay_l2(ev, window=window)
        assert r.bids[0].tolist() == [50_000, 10_000]
        assert r.bids[1].tolist() == [2.024, 569.567]
        assert r.asks[0].tolist() == [620_001, 6_200_000]


def test_window_moves_up_and_down_keep_every_level():
    # window 16: the touch walks 1,000 ticks up, then the levels above 400 are removed
    # from the top and every odd one below
    rows = [(K_.DEPTH, BUY, p, 1.0 + p % 7) for p in range(0, 1000, 3)]
    rows += [(K_.DEPTH, BUY, p, 0.0) for p in range(999, -1, -1)
             if p % 3 == 0 and (p > 400 or p % 2)]
    ev = make(rows)
    r = replay_l2(ev, window=16)
    want = sorted((p for p in range(0, 401, 3) if p % 2 == 0), reverse=True)
    assert r.bids[0].tolist() == want
    assert r.bids[1].tolist() == [1.0 + p % 7 for p in want]
    assert r.book.stats[K.STAT_RECENTRE_UP] > 0 and r.book.stats[K.STAT_RECENTRE_DOWN] > 0
    assert r.book.hdr[0, K.H_LO] <= want[0] < r.book.hdr[0, K.H_LO] + 16  # best in window


def test_best_removed_falls_back_to_far_overflow_level():
    ev = make([(K_.DEPTH, SELL, 100, 1.0), (K_.DEPTH, SELL, 700_100, 2.0),
               (K_.DEPTH, SELL, 100, 0.0)])
    r = replay_l2(ev, window=16)
    assert r.book.best(SELL) == (700_100, 2.0)
    assert r.asks[0].tolist() == [700_100]


def test_overflow_capacity_grows_and_resumes():
    book = new_l2_book(16, capacity=80)
    ev = make([(K_.DEPTH, BUY, 1_000_000, 1.0)] + [(K_.DEPTH, BUY, p, 1.0) for p in range(500)])
    st, row = K.apply_events(ev, 0, book, new_orders())
    assert st == K.Status.CAPACITY and 0 < row < len(ev)
    book = grow(book)
    assert book.ovf_key.shape[1] == 160
    from qlib.book.l2 import apply
    book = apply(ev, book, new_orders(), start=int(row))
    assert book.levels(BUY)[0].tolist() == [1_000_000] + list(range(499, -1, -1))


def test_clear_one_side_and_both_sides():
    ev = make([(K_.DEPTH, BUY, 99, 1.0), (K_.DEPTH, SELL, 101, 1.0), (K_.DEPTH, BUY, 5, 1.0),
               (K_.CLEAR, BUY, 0, 0.0)])
    r = replay_l2(ev, window=16)
    assert r.bids[0].tolist() == [] and r.asks[0].tolist() == [101]
    r = replay_l2(make([(K_.DEPTH, BUY, 99, 1.0), (K_.ADD, SELL, 101, 1.0, 7),
                        (K_.CLEAR, NONE, 0, 0.0), (K_.DEPTH, BUY, 50, 2.0)]))
    assert r.bids[0].tolist() == [50] and r.asks[0].tolist() == [] and r.orders_resting == 0


def test_l3_events_aggregate_into_levels():
    ev = make([(K_.ADD, BUY, 100, 5.0, 1), (K_.ADD, BUY, 100, 3.0, 2), (K_.ADD, SELL, 102, 4.0, 3),
               (K_.CANCEL, BUY, 100, 2.0, 1), (K_.EXECUTE, BUY, 100, 1.0, 2),
               (K_.MODIFY, SELL, 103, 6.0, 3)])
    r = replay_l2(ev)
    assert (r.bids[0].tolist(), r.bids[1].tolist()) == ([100], [5.0])
    assert (r.asks[0].tolist(), r.asks[1].tolist()) == ([103], [6.0])
    assert r.orders_resting == 3 and r.unknown_orders == 0


def test_level_qty_is_callable_inside_njit():
    @njit
    def touch_qty(book, px):
        return level_qty(book, 1, px) + level_qty(book, -1, px + 2) + level_qty(book, 0, px)

    r = replay_l2(make([(K_.DEPTH, BUY, 100, 1.5), (K_.DEPTH, SELL, 102, 2.5)]))
    assert touch_qty(r.book, 100) == 4.0


@pytest.mark.parametrize("rows, status, field", [
    ([(K_.DEPTH, BUY, 100, -1.0)], "NEGATIVE_QTY", "qty"),
    ([(K_.DEPTH, BUY, 100, float("nan"))], "NON_FINITE", "qty"),
    ([(K_.DEPTH, SELL, 100, float("inf"))], "NON_FINITE", "qty"),
    ([(K_.SNAPSHOT, BUY, 100, 1.0, 0, 0), (K_.SNAPSHOT, SELL, 99, 1.0)], "CROSSED", "px_tick"),
    ([(K_.SNAPSHOT, BUY, 100, 1.0, 0, 0), (K_.SNAPSHOT, SELL, 100, 1.0)], "CROSSED", "px_tick"),
    ([(K_.DEPTH, 3, 100, 1.0)], "UNKNOWN_KIND", "kind/side"),
    ([(K_.ADD, BUY, 100, 1.0, 1), (K_.ADD, BUY, 101, 1.0, 1)], "DUPLICATE_ORDER", "order_id"),
])
def test_replay_l2_bad_event_raises_naming_the_row(rows, status, field):
    ev = make(rows)
    with pytest.raises(DataQualityError) as ei:
        replay_l2(ev)
    assert status in str(ei.value) and ei.value.field == field
    assert ei.value.row == len(rows) - 1 and f"row {len(rows) - 1}" in str(ei.value)


def test_crossed_book_from_depth_is_not_an_error_but_snapshot_is():
    # an L2 diff may leave the book crossed transiently; only a snapshot is checked
    ev = make([(K_.DEPTH, BUY, 100, 1.0), (K_.DEPTH, SELL, 99, 1.0)])
    assert replay_l2(ev).bids[0].tolist() == [100]
    snap_ok = make([(K_.CLEAR, NONE, 0, 0.0, 0, 2), (K_.SNAPSHOT, BUY, 99, 1.0, 0, 2),
                    (K_.SNAPSHOT, SELL, 100, 1.0, 0, 2 | LAST)])
    assert replay_l2(snap_ok).asks[0].tolist() == [100]


def test_new_l2_book_bad_window_raises():
    with pytest.raises(ParameterError, match="power of two"):
        new_l2_book(1000)
    with pytest.raises(ParameterError):
        new_l2_book(8)
    with pytest.raises(ParameterError, match="side"):
        new_l2_book(16).levels(0)


def test_replay_l2_wrong_dtype_raises_schema_error():
    with pytest.raises(SchemaError):
        replay_l2(np.zeros(3))


@pytest.mark.parametrize("window", [16, 64, 65536])
def test_replay_l2_equals_first_version_book_on_mixed_stream(window):
    rng = np.random.default_rng(7)
    rows = []
    for _ in range(3000):
        side = BUY if rng.random() < 0.5 else SELL
        base = 10_000 if side == BUY else 10_001
        px = base - int(rng.geometric(0.05)) if side == BUY else base + int(rng.geometric(0.05))
        if rng.random() < 0.02:
            px = int(rng.integers(0, 2_000_000))
        rows.append((K_.DEPTH, side, px, 0.0 if rng.random() < 0.35 else float(rng.integers(1, 9))))
    ev = make(rows)
    new = replay_book(ev, window=window)
    old_bids, old_asks = _old_final(ev)
    assert np.array_equal(new.bid_levels[0], old_bids[0])
    assert np.array_equal(new.ask_levels[1], old_asks[1])


def _old_final(ev):
    from oracle import sorted_book as old
    from qlib.dtypes import BBO_DTYPE

    keys = np.zeros((2, 1 << 14), dtype=np.int64)
    qtys = np.zeros((2, 1 << 14), dtype=np.float64)
    counts = np.zeros(2, dtype=np.int64)
    stats = np.zeros(old.N_STATS, dtype=np.int64)
    out = np.zeros(len(ev), dtype=BBO_DTYPE)
    st, _ = old.replay_bbo(ev, 0, keys, qtys, counts, new_orders(), stats, out)
    assert st == 0
    nb, na = counts
    return ((keys[0, :nb][::-1], qtys[0, :nb][::-1]), (-keys[1, :na][::-1], qtys[1, :na][::-1]))


@njit
def _row_move_jit(a, s, dst, src, count):
    K._row_move(a, s, dst, src, count)


@pytest.mark.parametrize("dst,src,count", [(3, 2, 5), (2, 3, 5), (0, 1, 9), (1, 0, 9), (4, 4, 3),
                                           (5, 2, 0)])
def test_row_move_memmove_matches_python_on_overlapping_ranges(dst, src, count):
    a = np.arange(20, dtype=np.float64).reshape(2, 10)
    b = a.copy()
    c = np.arange(20, dtype=np.int64).reshape(2, 10)
    K._row_move(a, 1, dst, src, count)
    _row_move_jit(b, 1, dst, src, count)
    _row_move_jit(c, 1, dst, src, count)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c.astype(np.float64))
    np.testing.assert_array_equal(a[0], np.arange(10.0))  # the other row is untouched


def test_overflow_inserts_removals_and_updates_in_the_loop_match_a_dict():
    # window 16: nearly every level lives in the overflow; the inline bisection, memmove
    # inserts/removals and in-place updates against a plain dict of levels
    rng = np.random.default_rng(7)
    rows = [(K_.DEPTH, BUY, 10_000, 1.0), (K_.DEPTH, SELL, 10_001, 1.0)]
    ref = {(BUY, 10_000): 1.0, (SELL, 10_001): 1.0}
    for _ in range(3000):
        side = BUY if rng.random() < 0.5 else SELL
        d = int(rng.integers(20, 400))
        px = 10_000 - d if side == BUY else 10_001 + d
        q = 0.0 if rng.random() < 0.4 else float(rng.integers(1, 9))
        rows.append((K_.DEPTH, side, px, q))
        ref[(side, px)] = q
    r = replay_l2(make(rows), window=16)
    want_b = sorted(((p, q) for (s, p), q in ref.items() if s == BUY and q > 0), reverse=True)
    want_a = sorted((p, q) for (s, p), q in ref.items() if s == SELL and q > 0)
    assert r.bids[0].tolist() == [p for p, _ in want_b]
    assert r.bids[1].tolist() == [q for _, q in want_b]
    assert r.asks[0].tolist() == [p for p, _ in want_a]
    assert r.asks[1].tolist() == [q for _, q in want_a]
