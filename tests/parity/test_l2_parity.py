"""Each kernel of qlib.book._l2_kernels agrees with its ``.py_func`` on the same inputs,
and the L2 book agrees with the first-version sorted-array book (tests/oracle/sorted_book.py)."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import sorted_book as OLD
from qlib.book import _l2_kernels as K
from qlib.book.l2 import new_l2_book, new_orders
from qlib.dtypes import BBO_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side, Status

N = 4


def _stream(seed: int, n: int = 400) -> np.ndarray:
    """Mixed L2 + L3 stream: DEPTH near a wandering touch, far levels, ADD/CANCEL/DELETE/
    MODIFY/EXECUTE of known and unknown orders, trades, quotes, clears and a snapshot."""
    rng = np.random.default_rng(seed)
    ev = empty_events(n)
    mid = 50_000
    live: list[int] = []
    for i in range(n):
        r = rng.random()
        side = 1 if rng.random() < 0.5 else -1
        mid += int(rng.integers(-3, 4))
        px = mid - int(rng.geometric(0.1)) if side == 1 else mid + int(rng.geometric(0.1))
        if rng.random() < 0.03:
            px = int(rng.integers(0, 1_500_000))
        kind, qty, oid = EventKind.DEPTH, 0.0 if rng.random() < 0.3 else float(rng.integers(1, 50)), 0
        if r < 0.25:
            kind, oid, qty = EventKind.ADD, 1000 + i, float(rng.integers(1, 20))
            live.append(oid)
        elif r < 0.35 and live:
            kind, oid, qty = EventKind.DELETE, live.pop(int(rng.integers(len(live)))), 0.0
        elif r < 0.40:
            kind, oid, qty = EventKind.CANCEL, 10**9 + i, 1.0  # unknown id
        elif r < 0.43 and live:
            kind, oid, qty = EventKind.MODIFY, live[int(rng.integers(len(live)))], 3.0
        elif r < 0.48:
            kind = EventKind.TRADE
        elif r < 0.50:
            kind = EventKind.QUOTE
        elif r < 0.505:
            kind, side, qty, live = EventKind.CLEAR, 0, 0.0, []
        ev[i]["kind"], ev[i]["side"], ev[i]["px_tick"], ev[i]["qty"] = kind, side, px, qty
        ev[i]["order_id"], ev[i]["flags"], ev[i]["ts_exch"], ev[i]["seq"] = oid, EventFlag.LAST, i, i
    return ev


def _run_replay(fn, ev, window, rows, capacity=None):
    n = len(ev)
    book = new_l2_book(window, capacity=capacity or window + 64)
    orders = new_orders()
    bbo = np.zeros(n, dtype=BBO_DTYPE)
    px = np.zeros((len(rows), 2, N), dtype=np.int64)
    qty = np.zeros((len(rows), 2, N), dtype=np.float64)
    res = fn(ev, 0, n, book, orders, bbo, rows, 0, px, qty)
    return tuple(int(x) for x in res), book, dict(orders), bbo, px, qty


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("window", [16, 1024])
def test_replay_jit_matches_py_func(seed, window):
    ev = _stream(seed)
    rows = np.arange(0, len(ev), 3, dtype=np.int64)
    a = _run_replay(K.replay, ev, window, rows, 4096)
    b = _run_replay(K.replay.py_func, ev, window, rows, 4096)
    assert a[0] == (Status.OK, len(ev), len(rows))
    assert a[0] == b[0]
    for x, y in zip(a[1], b[1]):
        np.testing.assert_array_equal(x, y)
    assert a[2] == b[2]
    for x, y in zip(a[3:], b[3:]):
        np.testing.assert_array_equal(x, y)


def test_replay_capacity_status_jit_matches_py_func():
    ev = empty_events(300)
    ev["kind"], ev["side"], ev["qty"] = EventKind.DEPTH, 1, 1.0
    ev["px_tick"] = np.r_[10_000, np.arange(299) * 2]
    rows = np.zeros(0, dtype=np.int64)
    a = _run_replay(K.replay, ev, 16, rows)
    b = _run_replay(K.replay.py_func, ev, 16, rows)
    assert a[0] == b[0] and a[0][0] == Status.CAPACITY
    np.testing.assert_array_equal(a[1].ovf_key, b[1].ovf_key)


@pytest.mark.parametrize("seed", [3, 4])
def test_replay_bbo_equals_first_version_book(seed):
    ev = _stream(seed, 800)
    st, book, _, bbo, _, _ = _run_replay(K.replay, ev, 16, np.zeros(0, np.int64), 4096)
    assert st[0] == Status.OK
    cap = 4096
    keys = np.zeros((2, cap), dtype=np.int64)
    qtys = np.zeros((2, cap), dtype=np.float64)
    counts = np.zeros(2, dtype=np.int64)
    stats = np.zeros(OLD.N_STATS, dtype=np.int64)
    out = np.zeros(len(ev), dtype=BBO_DTYPE)
    st_old, _ = OLD.replay_bbo(ev, 0, keys, qtys, counts, new_orders(), stats, out)
    assert st_old == Status.OK
    np.testing.assert_array_equal(bbo, out)
    assert book.stats[K.STAT_UNKNOWN_ORDER] == stats[OLD.STAT_UNKNOWN_ORDER]
    assert book.stats[K.STAT_CLAMPED] == stats[OLD.STAT_CLAMPED]


def _filled_book(window=16):
    ev = _stream(5)
    book = new_l2_book(window, capacity=4096)
    st, _ = K.apply_events(ev, 0, book, new_orders())
    assert st == Status.OK
    return book


def _copy(book):
    return type(book)(*(a.copy() for a in book))


@pytest.mark.parametrize("name, args", [
    ("set_level", (0, 49_990, 7.0)), ("set_level", (1, -50_020, 0.0)),
    ("set_level", (0, 10, 2.0)), ("set_level", (1, -2_000_000, 1.0)),
    ("add_level", (0, 49_990, -1.0, True)), ("add_level", (1, -50_005, 2.5, False)),
    ("clear_side", (0,)), ("clear_side", (1,)),
    ("_set_outside", (0, 5, 3.0)), ("_ovf_set", (1, -1_400_000, 2.0)),
])
def test_mutating_kernel_jit_matches_py_func(name, args):
    fn = getattr(K, name)
    a, b = _copy(_filled_book()), _copy(_filled_book())
    ra = fn(a, *args)
    rb = fn.py_func(b, *args)
    assert ra == rb
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name, args", [
    ("level_qty", (Side.BUY, 49_990)), ("level_qty", (Side.SELL, 50_010)),
    ("level_qty", (Side.NONE, 1)), ("best_px", (Side.BUY,)), ("best_px", (Side.SELL,)),
    ("n_levels", (0,)), ("n_levels", (1,)), ("get_level", (1, -1_000_000)),
])
def test_reading_kernel_jit_matches_py_func(name, args):
    fn = getattr(K, name)
    book = _filled_book()
    assert fn(book, *args) == fn.py_func(book, *args)


@pytest.mark.parametrize("s", [0, 1])
def test_level_readers_jit_match_py_func(s):
    book = _filled_book()
    n = int(K.n_levels(book, s))
    outs = []
    for fn in (K.side_levels, K.side_levels.py_func):
        px, qty = np.zeros(n, np.int64), np.zeros(n)
        assert fn(book, s, px, qty) == n
        outs.append((px, qty))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    tops = []
    for fn in (K.top_levels, K.top_levels.py_func):
        px, qty = np.zeros((1, 2, 50), np.int64), np.zeros((1, 2, 50))
        got = fn(book, s, 50, px, qty, 0)
        tops.append((got, px, qty))
    assert tops[0][0] == tops[1][0] == min(50, n)
    np.testing.assert_array_equal(tops[0][1], tops[1][1])
    np.testing.assert_array_equal(tops[0][1][0, s, : min(50, n)], outs[0][0][:50])


def test_apply_other_and_apply_events_jit_match_py_func():
    ev = _stream(6)
    results = []
    for fn in (K.apply_events, K.apply_events.py_func):
        book = new_l2_book(16, capacity=4096)
        orders = new_orders()
        results.append((tuple(int(x) for x in fn(ev, 0, book, orders)), book, dict(orders)))
    assert results[0][0] == results[1][0]
    for x, y in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(x, y)
    assert results[0][2] == results[1][2]
    snap = (EventKind.SNAPSHOT, 1, 60_000, 1.0, 0, int(EventFlag.LAST))
    a, b = _copy(_filled_book()), _copy(_filled_book())
    assert K.apply_other(a, new_orders(), *snap) == K.apply_other.py_func(b, new_orders(), *snap) \
        == Status.CROSSED
