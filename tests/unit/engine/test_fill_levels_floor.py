"""The engine's bounded level walk (:func:`qlib.engine._local._fill_levels`) writes the same
view levels as :func:`qlib.engine._view.fill_levels` (the book's ``top_levels``), on random
books with sparse sides, emptied sides and levels pushed below the window (overflow), and
it is fast on a side with fewer than ``VIEW_LEVELS`` levels, where ``top_levels`` reads
the whole window."""

from __future__ import annotations

import time

import numpy as np
import pytest

from qlib.book import l2 as _l2
from qlib.book import nb as _b
from qlib.dtypes import EVENT_DTYPE, VIEW_DTYPE, VIEW_LEVELS
from qlib.engine import _view
from numba import njit

from qlib.dtypes import ENGINE_STATE_DTYPE
from qlib.engine._alloc import Books, Market
from qlib.engine._consts import _CAPACITY
from qlib.engine._local import _NO_FLOOR, _NO_LEVEL, _fill_levels, _local_to_l2
from qlib.enums import EventKind

FIELDS = ("bid_px_l", "bid_qty_l", "ask_px_l", "ask_qty_l")


@njit
def _local_step(market, bound, state, books, view, fstate, floor):
    """The loop's call of ``_local_to_l2`` (its ``es`` is a record view of ``state``)."""
    return _local_to_l2(market, bound, state[0], 0.001, books, view, 0, fstate, floor)


def _reference(book: _l2.L2Book) -> np.ndarray:
    view = np.zeros(1, dtype=VIEW_DTYPE)
    _view.fill_levels(book, view, np.zeros((1, 2, 16), np.int64), np.zeros((1, 2, 16)))
    return view


def _random_events(rng: np.random.Generator, n: int, *, jump_every: int) -> np.ndarray:
    """DEPTH events around a wandering mid, few levels per side, with rare jumps of
    thousands of ticks (they move the window and push levels into the overflow) and a
    CLEAR now and then (an empty side)."""
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    mid = 100_000
    for i in range(n):
        if i % jump_every == jump_every - 1:
            mid += int(rng.choice([-1, 1])) * int(rng.integers(2_000, 9_000))
        mid += int(rng.integers(-2, 3))
        ev[i]["ts_exch"] = ev[i]["ts_local"] = 1_000 + i
        if rng.random() < 0.004:
            ev[i]["kind"] = EventKind.CLEAR
            ev[i]["side"] = int(rng.choice([-1, 0, 1]))
            continue
        side = 1 if rng.random() < 0.5 else -1
        dist = int(rng.integers(1, 25))
        ev[i]["kind"] = EventKind.DEPTH
        ev[i]["side"] = side
        ev[i]["px_tick"] = mid - dist if side == 1 else mid + dist
        ev[i]["qty"] = 0.0 if rng.random() < 0.55 else float(rng.integers(1, 50))
    return ev


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fill_levels_equals_top_levels_through_local_to_l2(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ev = _random_events(rng, 6_000, jump_every=700)
    ts_loc = ev["ts_local"].astype(np.int64)
    book = _l2.new_l2_book(window=256)
    books = Books(book, np.zeros(1, np.int64), book, np.zeros(1, np.int64),
                  np.zeros(1, np.int64))
    es = np.zeros(1, dtype=ENGINE_STATE_DTYPE)
    es[0]["stop"] = len(ev)
    view = np.zeros(1, dtype=VIEW_DTYPE)
    fstate = _view.new_feature_state()
    floor = np.full(2, _NO_LEVEL, dtype=np.int64)
    market = Market(ev, ts_loc)
    t = int(ts_loc[0])
    n_checked = n_overflow = n_short = 0
    while es[0]["i_lo"] < len(ev):
        t += int(rng.integers(1, 12))
        st, row = _local_step(market, t, es, books, view, fstate, floor)
        if st == _CAPACITY:  #: the overflow is full; grow it like the loop's wrapper
            book = _l2.grow(book)
            books = books._replace(xbook=book, lbook=book)
            continue
        assert st == 0, (st, row)
        got = np.zeros(1, dtype=VIEW_DTYPE)
        _fill_levels(book, got, floor)
        ref = _reference(book)
        for f in FIELDS:
            np.testing.assert_array_equal(got[f], ref[f], err_msg=f"{f} at row {es[0]['i_lo']}")
        n_checked += 1
        n_overflow += int(book.hdr[0, 2] + book.hdr[1, 2] > 0)
        n_short += int((ref["ask_qty_l"][0] == 0.0).sum() > 0 or
                       (ref["bid_qty_l"][0] == 0.0).sum() > 0)
    # the cases the bound matters for were exercised
    assert n_checked > 500 and n_overflow > 50 and n_short > 50


def test_untracked_floor_walks_the_whole_side() -> None:
    """L3 books are not tracked (``_NO_FLOOR``): the walk is the book's, and the floor
    stays untracked."""
    book = _l2.new_l2_book(window=64)
    for px in (1000, 998, 10, 5_000_000):
        _b.set_level(book, 0, px, 1.0)
    for px in (1001, 1003):
        _b.set_level(book, 1, -px, 2.0)
    floor = np.full(2, _NO_FLOOR, dtype=np.int64)
    got = np.zeros(1, dtype=VIEW_DTYPE)
    _fill_levels(book, got, floor)
    ref = _reference(book)
    for f in FIELDS:
        np.testing.assert_array_equal(got[f], ref[f])
    assert got["bid_px_l"][0][:4].tolist() == [5_000_000, 1000, 998, 10]
    assert floor.tolist() == [_NO_FLOOR, _NO_FLOOR]


def test_floor_is_raised_to_the_deepest_level_and_an_empty_side_resets() -> None:
    book = _l2.new_l2_book()
    for px in (1000, 990, 950):
        _b.set_level(book, 0, px, 1.0)
    floor = np.array([500, _NO_LEVEL], dtype=np.int64)  # loose bid floor, empty ask
    got = np.zeros(1, dtype=VIEW_DTYPE)
    _fill_levels(book, got, floor)
    assert got["bid_px_l"][0][:4].tolist() == [1000, 990, 950, 0]
    assert floor.tolist() == [950, _NO_LEVEL]


def test_sparse_side_is_not_a_window_scan() -> None:
    """One level per side in the default 65,536-tick window: the bounded walk reads a
    few slots, the book's top_levels the whole window (a ratio, not a time, is asserted:
    both run on the same machine in the same second)."""
    book = _l2.new_l2_book()
    _b.set_level(book, 0, 100_000, 1.0)
    _b.set_level(book, 1, -100_002, 1.0)
    floor = np.array([100_000, -100_002], dtype=np.int64)
    view = np.zeros(1, dtype=VIEW_DTYPE)
    lp, lq = np.zeros((1, 2, 16), np.int64), np.zeros((1, 2, 16))
    _fill_levels(book, view, floor)
    _view.fill_levels(book, view, lp, lq)

    def best_of(fn, *args):
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(200):
                fn(*args)
            best = min(best, time.perf_counter() - t0)
        return best

    ours = best_of(_fill_levels, book, view, floor)
    ref = best_of(_view.fill_levels, book, view, lp, lq)
    assert ours * 20 < ref, (ours, ref)
