"""The LOBSTER resync (``load_lobster(resync=True)``): replaying the events gives LOBSTER's book.

The proof: for L = 1, 5 and 10, replaying the loader's events with the price-level
book of :mod:`qlib.book` (its own ``apply_event`` kernel, read at every ``LAST``
record) gives exactly LOBSTER's orderbook file at every row and every level, and
:func:`qlib.book.bbo` gives the file's level 1; with ``resync=False`` the same
comparison fails, so the test cannot pass vacuously.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lobster_dbn_builders import simulate_lobster, write_lobster
from numba import njit
from oracle import sorted_book as book_kernels

from qlib.book import bbo, new_l2_book, replay_book
from qlib.book.replay import _new_orders
from qlib.data import _lobster_book as lobster_book
from qlib.data import _lobster_kernels as lk
from qlib.data.lobster import ASK_EMPTY, BID_EMPTY, load_lobster
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import ParameterError

GOOG = "lobster-goog-2012-06-21"
OB = "GOOG_2012-06-21_34200000_57600000_orderbook_{L}.csv"
_LAST = int(EventFlag.LAST)
#: The small hand-written files below state prices in whole ticks of 0.01.
CENT = {"tick_size": 0.01}


def _zip(shared_data: Path, levels: int) -> Path:
    return shared_data / GOOG / f"LOBSTER_SampleFile_GOOG_2012-06-21_{levels}.zip"


@njit
def _replay_depth(events, levels, keys, qtys, counts, orders, stats, out_px, out_qty, out_row):
    """Apply events with qlib.book's kernel; after each LAST record with seq >= 0, write
    the top ``levels`` of each side (index 0 bid, 1 ask; missing levels (0, 0))."""
    n_last = 0
    for i in range(events.shape[0]):
        ev = events[i]
        st = book_kernels.apply_event(keys, qtys, counts, orders, stats, ev["kind"], ev["side"],
                                      ev["px_tick"], ev["qty"], ev["order_id"])
        if st != 0:
            return st, i, n_last
        if ev["seq"] >= 0 and (ev["flags"] & _LAST) != 0:
            for s in range(2):
                n = counts[s]
                for j in range(levels):
                    if j < n:
                        k = keys[s, n - 1 - j]
                        out_px[n_last, s, j] = k if s == 0 else -k
                        out_qty[n_last, s, j] = qtys[s, n - 1 - j]
                    else:
                        out_px[n_last, s, j] = 0
                        out_qty[n_last, s, j] = 0.0
            out_row[n_last] = ev["seq"]
            n_last += 1
    return 0, -1, n_last


def _file_depth(ob: np.ndarray, px_divisor: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Orderbook rows as ``(px (n, 2, L), qty (n, 2, L))``, bid index 0, empty levels (0, 0)."""
    n, cols = ob.shape
    levels = cols // 4
    px = np.zeros((n, 2, levels), dtype=np.int64)
    qty = np.zeros((n, 2, levels), dtype=np.float64)
    for s, pc, empty in ((0, 2, BID_EMPTY), (1, 0, ASK_EMPTY)):
        p = ob[:, pc::4]
        q = ob[:, pc + 1::4]
        real = p != empty
        px[:, s] = np.where(real, p // px_divisor, 0)
        qty[:, s] = np.where(real, q, 0)
    return px, qty


def _compare(events: np.ndarray, ob: np.ndarray, unit: int = 100) -> dict:
    """Replay ``events`` through qlib.book and compare every LAST state with ``ob``.

    ``unit`` is the tick in LOBSTER price units (``md.provenance["price_unit_per_tick"]``).
    """
    levels = ob.shape[1] // 4
    n = events.shape[0]
    cap = 1 << 16
    keys = np.zeros((2, cap), dtype=np.int64)
    qtys = np.zeros((2, cap), dtype=np.float64)
    counts = np.zeros(2, dtype=np.int64)
    stats = np.zeros(book_kernels.N_STATS, dtype=np.int64)
    out_px = np.zeros((n, 2, levels), dtype=np.int64)
    out_qty = np.zeros((n, 2, levels), dtype=np.float64)
    out_row = np.zeros(n, dtype=np.int64)
    status, row, n_last = _replay_depth(events, levels, keys, qtys, counts, _new_orders(),
                                        stats, out_px, out_qty, out_row)
    assert status == Status.OK, (status, row)
    rows = out_row[:n_last]
    want_px, want_qty = _file_depth(ob, unit)
    bad = ((out_px[:n_last] != want_px[rows]) | (out_qty[:n_last] != want_qty[rows]))
    bad_rows = rows[bad.reshape(n_last, -1).any(axis=1)]
    return {"rows": rows, "bad_rows": bad_rows, "clamped": int(stats[book_kernels.STAT_CLAMPED])}


def _read_ob(path: Path, levels: int) -> np.ndarray:
    with zipfile.ZipFile(path) as zf:
        return pd.read_csv(zf.open(OB.format(L=levels)), header=None).to_numpy()


# ---------------------------------------------------------------- the proof, on GOOG
@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_resync_replay_equals_orderbook_file_every_row_every_level(shared_data,
                                                                                  levels):
    # Arrange
    path = _zip(shared_data, levels)
    md = load_lobster(path)
    ob = _read_ob(path, levels)
    # Act
    got = _compare(md.events, ob, md.provenance["price_unit_per_tick"])
    # Assert: one LAST state per message row (sub-tick prints included), each equal to
    # the file at all L levels
    assert md.report.rows_dropped == 0
    assert len(got["bad_rows"]) == 0, got["bad_rows"][:10]
    assert np.array_equal(got["rows"], np.arange(ob.shape[0]))
    assert got["clamped"] == 0
    # the final book of replay_book holds the last row's L levels at its top
    final = replay_book(md.events)
    want_px, want_qty = _file_depth(ob[-1:])
    assert np.array_equal(final.bid_levels[0][:levels], want_px[0, 0])
    assert np.array_equal(final.bid_levels[1][:levels], want_qty[0, 0])
    assert np.array_equal(final.ask_levels[0][:levels], want_px[0, 1])
    assert np.array_equal(final.ask_levels[1][:levels], want_qty[0, 1])


@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_resync_bbo_equals_file_level1_on_every_row(shared_data, levels):
    path = _zip(shared_data, levels)
    md = load_lobster(path)
    ob = _read_ob(path, levels)
    b = bbo(md)
    assert b.attrs["rows_one_sided"] == 0
    b = b[md.events["seq"][b.index.to_numpy()] >= 0]  # leave out the initial snapshot's row
    seq = md.events["seq"][b.index.to_numpy()]
    assert np.array_equal(np.round(b["ask_px"].to_numpy() * 10_000).astype(np.int64), ob[seq, 0])
    assert np.array_equal(b["ask_qty"].to_numpy(), ob[seq, 1])
    assert np.array_equal(np.round(b["bid_px"].to_numpy() * 10_000).astype(np.int64), ob[seq, 2])
    assert np.array_equal(b["bid_qty"].to_numpy(), ob[seq, 3])
    assert (b["bid_px"] < b["ask_px"]).all()
    # every book-changing message row has its row in bbo(); the others are trades
    book_rows = np.unique(md.events["seq"][np.isin(md.events["kind"], [
        EventKind.ADD, EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE, EventKind.DEPTH])])
    assert np.array_equal(np.sort(seq), book_rows)


@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_without_resync_replay_drifts_from_the_file(shared_data, levels):
    path = _zip(shared_data, levels)
    md = load_lobster(path, resync=False)
    got = _compare(md.events, _read_ob(path, levels), md.provenance["price_unit_per_tick"])
    assert "DEPTH" not in md.report.rows_by_kind
    assert len(got["bad_rows"]) > 0.9 * len(got["rows"])  # it drifts almost at once
    assert any("resync=False" in n for n in md.report.notes)
    if levels == 10:  # the crossed book of the task statement
        b = bbo(md)
        assert int((b["bid_px"] > b["ask_px"]).sum()) == 130_425
        assert (b["bid_px"].iloc[-1], b["ask_px"].iloc[-1]) == (575.82, 564.23)


@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 10])
def test_load_lobster_resync_keeps_l3_events_and_moves_last_to_corrections(shared_data, levels):
    path = _zip(shared_data, levels)
    on = load_lobster(path).events
    off = load_lobster(path, resync=False).events
    corr = (on["flags"] & EventFlag.RESYNC) != 0
    # L3 meaning intact: the same records in the same order, only the LAST bit moved
    keep = on[~corr]
    fields = [f for f in on.dtype.names if f != "flags"]
    assert all(np.array_equal(keep[f], off[f]) for f in fields)
    not_last = np.uint8(0xFF ^ _LAST)
    assert np.array_equal(keep["flags"] & not_last, off["flags"] & not_last)
    # the corrections: DEPTH, L2 (order_id 0), the ts/seq of their message, TS_LOCAL_SYNTH
    c = on[corr]
    assert (c["kind"] == EventKind.DEPTH).all() and (c["order_id"] == 0).all()
    assert np.isin(c["side"], [Side.BUY, Side.SELL]).all() and (c["qty"] >= 0).all()
    assert ((c["flags"] & EventFlag.TS_LOCAL_SYNTH) != 0).all()
    idx = np.flatnonzero(corr)
    prev_msg = np.maximum.accumulate(np.where(~corr, np.arange(len(on)), 0))[idx]
    assert np.array_equal(on["seq"][prev_msg], c["seq"])
    assert np.array_equal(on["ts_exch"][prev_msg], c["ts_exch"])
    # exactly one LAST per message row, on its final record
    msg = on[on["seq"] >= 0]
    is_last = (msg["flags"] & _LAST) != 0
    final_of_seq = np.r_[msg["seq"][1:] != msg["seq"][:-1], True]
    assert np.array_equal(is_last, final_of_seq)


# ---------------------------------------------------------------- small files
def test_load_lobster_resync_level_entering_from_below_gets_depth(tmp_path):
    # L=2. Before message 0: bids 100.00 x 10, 99.00 x 5 (98.00 x 7 rests unseen below).
    msgs = ["34200,1,1,10,1010000,-1",  # 0 ADD ask 101.00 x 10
            "34201,3,9,10,1000000,1",   # 1 DELETE the 100.00 bid: 98.00 enters the window
            "34202,1,2,3,1020000,-1"]   # 2 ADD ask 102.00 x 3
    obs = ["1010000,10,1000000,10,1030000,4,990000,5",
           "1010000,10,990000,5,1030000,4,980000,7",
           "1010000,10,990000,5,1020000,3,980000,7"]
    md = load_lobster(write_lobster(tmp_path, msgs, obs, levels=2), instrument=CENT)
    ev = md.events[md.events["seq"] >= 0]
    assert ev["kind"].tolist() == [EventKind.ADD, EventKind.DELETE, EventKind.DEPTH,
                                   EventKind.ADD]
    d = ev[2]
    assert (d["side"], d["px_tick"], d["qty"], d["seq"], d["order_id"]) == (Side.BUY, 9800,
                                                                              7.0, 1, 0)
    assert d["flags"] & EventFlag.RESYNC and d["flags"] & EventFlag.LAST
    assert not ev["flags"][1] & EventFlag.LAST  # LAST moved to the correction
    # 103.00 x 4 stays (beyond the 2nd visible ask after message 2: unknown, left alone)
    assert md.provenance["resync_corrections"]["visible_missing"] == 1
    assert md.provenance["resync_corrections"]["stale_level_removed"] == 0
    final = replay_book(md.events)
    assert final.ask_levels[0].tolist() == [10100, 10200, 10300]


def test_load_lobster_resync_stale_level_inside_window_is_removed(tmp_path):
    # L=2: the 99.00 bid is cancelled while deep (no message); later it is inside the window
    msgs = ["34200,1,1,10,1010000,-1",
            "34201,1,2,4,995000,1"]  # ADD bid 99.50 x 4: between 100.00 and the gone 99.00
    obs = ["1010000,10,1000000,10,1030000,4,990000,5",
           "1010000,10,1000000,10,1030000,4,995000,4"]
    md = load_lobster(write_lobster(tmp_path, msgs, obs, levels=2), instrument=CENT)
    c = md.events[(md.events["flags"] & EventFlag.RESYNC) != 0]
    assert [(int(s), int(p), float(q)) for s, p, q in zip(c["side"], c["px_tick"], c["qty"])] \
        == []  # 99.00 is below the 2nd visible bid (99.50): unknown, kept
    msgs.append("34202,3,2,4,995000,1")  # DELETE 99.50: the file shows 98.00, not 99.00
    obs.append("1010000,10,1000000,10,1030000,4,980000,2")
    md = load_lobster(write_lobster(tmp_path / "b", msgs, obs, levels=2), instrument=CENT)
    c = md.events[(md.events["flags"] & EventFlag.RESYNC) != 0]
    assert sorted((int(p), float(q)) for p, q in zip(c["px_tick"], c["qty"])) == [
        (9800, 2.0), (9900, 0.0)]
    r = md.provenance["resync_corrections"]
    assert (r["stale_inside"], r["visible_missing"]) == (1, 1)


def test_load_lobster_resync_dummy_levels_remove_everything_deeper(tmp_path):
    # L=3; the ask side shows one level then dummies: every deeper ask is stale
    e = f"{ASK_EMPTY},0"
    msgs = ["34200,1,1,10,1000000,1", "34201,3,7,10,1010000,-1"]
    obs = ["1010000,10,1000000,10,1020000,5,990000,5,1030000,5,980000,5",
           f"1020000,5,1000000,10,{e},990000,5,{e},980000,5"]
    md = load_lobster(write_lobster(tmp_path, msgs, obs, levels=3), instrument=CENT)
    c = md.events[(md.events["flags"] & EventFlag.RESYNC) != 0]
    assert [(int(s), int(p), float(q)) for s, p, q in zip(c["side"], c["px_tick"], c["qty"])] \
        == [(Side.SELL, 10300, 0.0)]
    assert md.provenance["resync_corrections"]["stale_short"] == 1
    assert replay_book(md.events).ask_levels[0].tolist() == [10200]


def test_load_lobster_resync_must_be_bool(tmp_path):
    with pytest.raises(ParameterError, match="resync"):
        load_lobster(write_lobster(tmp_path), resync="yes")


def test_load_lobster_resync_with_orderbook_false_is_noted_not_applied(tmp_path):
    md = load_lobster(write_lobster(tmp_path), orderbook=False)
    assert not md.provenance["resync"]
    assert any("no resync" in n for n in md.report.notes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4),
       st.lists(st.tuples(st.integers(0, 3), st.sampled_from([1, -1]), st.integers(0, 8),
                          st.integers(1, 30)), min_size=1, max_size=80))
def test_load_lobster_resync_replay_equals_simulated_lobster_files(levels, ops):
    msgs, obs = simulate_lobster(ops, levels)
    assume(msgs)
    with tempfile.TemporaryDirectory() as d:
        on = load_lobster(write_lobster(Path(d), msgs, obs, levels=levels))
    ob = np.array([[int(x) for x in r.split(",")] for r in obs], dtype=np.int64)
    unit = on.provenance["price_unit_per_tick"]
    assert on.instrument.tick_size == pytest.approx(unit / 10_000)
    got = _compare(on.events, ob, unit)
    assert len(got["bad_rows"]) == 0, got["bad_rows"]
    assert np.array_equal(got["rows"], np.arange(len(msgs)))
    assert int(((on.events["flags"] & EventFlag.RESYNC) != 0).sum()) == \
        on.provenance["resync_corrections"]["visible_level_corrected"] + \
        on.provenance["resync_corrections"]["stale_level_removed"]


# ---------------------------------------------------------------- kernels
def _py(kernel):
    return getattr(kernel, "py_func", kernel)


def _resync_inputs(seed: int, levels: int = 3):
    rng = np.random.default_rng(seed)
    ops = [(int(rng.integers(0, 4)), int(rng.choice([1, -1])), int(rng.integers(0, 9)),
            int(rng.integers(1, 30))) for _ in range(120)]
    msgs, obs = simulate_lobster(ops, levels)
    return msgs, obs


def _book(window: int = 1 << 16, capacity: int | None = None, bids=(), asks=()):
    """A resync book (qlib.book's L2 book on a grid of 1: keys in LOBSTER units) and its
    state array."""
    book = new_l2_book(window, 2 * window + 256 if capacity is None else capacity)
    state = np.zeros(lk.N_STATE, dtype=np.int64)
    state[lk.ST_GRID] = 1
    for s, levels in ((0, bids), (1, asks)):
        for px, qty in levels:
            lk.set_book_level(book, state, s, np.int64(px if s == 0 else -px), float(qty))
    return book, state


def _run_resync(fn, seed: int, levels: int = 3, corr_cap: int = 4096, window: int = 1 << 16,
                capacity: int | None = None):
    msgs, obs = _resync_inputs(seed, levels)
    ob = np.array([[int(x) for x in r.split(",")] for r in obs], dtype=np.int64)
    n = len(msgs)
    ev = empty_events(n)
    kinds = {1: EventKind.ADD, 2: EventKind.CANCEL, 3: EventKind.DELETE, 4: EventKind.EXECUTE}
    for i, m in enumerate(msgs):
        _, typ, oid, size, px, d = m.split(",")
        ev[i] = (i * 1000, i * 1000, i, int(px), float(size), int(oid), kinds[int(typ)],
                 int(d), int(EventFlag.LAST | EventFlag.TS_LOCAL_SYNTH))
    book, state = _book(window, capacity)
    corr = empty_events(corr_cap)
    after = np.zeros(corr_cap, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    prev = np.zeros(4 * levels, dtype=np.int64)
    res = fn(ob, 0, 0, ev, none, none.copy(), prev, book, corr, after, state,
             levels, ASK_EMPTY, BID_EMPTY)
    sides = [np.concatenate(book.levels(side)) for side in (Side.BUY, Side.SELL)]
    return tuple(int(x) for x in res), ev, *sides, corr, after, state, prev, ob


# 16 LOBSTER units: every level but the best lies in the overflow (the tick is 100 units)
@pytest.mark.parametrize("window", [16, 1 << 16])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_resync_block_jit_matches_py_func(seed, window):
    a = _run_resync(lk.resync_block, seed, window=window)
    b = _run_resync(_py(lk.resync_block), seed, window=window)
    assert a[0] == b[0] and a[0][0] == Status.OK
    for x, y in zip(a[1:], b[1:]):
        assert np.array_equal(x, y)
    state, prev, ob = a[6], a[7], a[8]
    assert state[lk.ST_N_CORR] > 0  # the inputs do need corrections
    px = ob[:, [4 * j + k for j in range(3) for k in (0, 2)]]
    assert state[lk.ST_PRICE_GCD] == np.gcd.reduce(px[(px > 0) & (px != ASK_EMPTY)])
    assert np.array_equal(prev, ob[-1])  # the last row, for the next block
    # the level counts the kernel keeps are the book's
    assert state[lk.ST_LEVELS_BID] == a[2].size // 2
    assert state[lk.ST_LEVELS_ASK] == a[3].size // 2


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_resync_block_same_corrections_whatever_the_window(seed):
    narrow = _run_resync(lk.resync_block, seed, window=16)
    wide = _run_resync(lk.resync_block, seed)
    for x, y in zip(narrow, wide):
        assert np.array_equal(x, y)


def test_resync_block_asks_to_grow_small_buffers_before_touching_a_row():
    res, *_ = _run_resync(lk.resync_block, 0, corr_cap=4)
    assert res[0] == Status.CAPACITY and res[2] == lk.GROW_CORRECTIONS
    # an overflow without room for a whole window more
    res, *_ = _run_resync(lk.resync_block, 0, window=64, capacity=128)
    assert res[0] == Status.CAPACITY and res[2] == lk.GROW_BOOK and res[1] == 0


def _l2_args(ob: np.ndarray, ev: np.ndarray, dup_rows=(), prev=None, bids=(), asks=()):
    dup = np.array(dup_rows, dtype=np.int64)
    prev = np.zeros(ob.shape[1], np.int64) if prev is None else prev
    book, state = _book(bids=bids, asks=asks)
    return (ob, 0, 0, ev, dup, np.zeros(dup.shape[0], np.int64), prev, book,
            empty_events(64), np.zeros(64, np.int64), state, 2, ASK_EMPTY, BID_EMPTY)


@pytest.mark.parametrize("bad, status, col", [
    ((0, 0, -1010000), Status.OFF_GRID, 0),         # ask_price_1 not positive
    ((0, 4, 1005000), Status.UNSORTED, 4),          # ask_price_2 below ask_price_1
    ((0, 7, 0), Status.NEGATIVE_QTY, 7),            # bid_size_2 zero
    ((0, 4, ASK_EMPTY), Status.NEGATIVE_QTY, 5),    # empty ask level with a size
])
def test_resync_block_bad_row_returns_status_and_column(bad, status, col):
    ob = np.array([[1010000, 10, 1000000, 10, 1020000, 5, 990000, 5]], dtype=np.int64)
    row, c, v = bad
    ob[row, c] = v
    ev = empty_events(1)
    ev[0] = (0, 0, 0, 1000000, 1.0, 1, EventKind.ADD, 1, _LAST)
    for fn in (lk.resync_block, _py(lk.resync_block)):
        res = fn(*_l2_args(ob, ev.copy()))
        assert (int(res[0]), int(res[1]), int(res[2])) == (status, 0, col)


def test_resync_block_repeated_line_is_removed_only_where_the_book_did_not_change():
    # rows 1 and 2 repeat row 0's ADD; the file shows row 1 applied (10 -> 20) and row 2 not
    ob = np.array([[1010000, 10, 1000000, 10, 1020000, 5, 990000, 5],
                   [1010000, 10, 1000000, 20, 1020000, 5, 990000, 5],
                   [1010000, 10, 1000000, 20, 1020000, 5, 990000, 5]], dtype=np.int64)
    ev = empty_events(3)
    for i in range(3):
        ev[i] = (0, 0, i, 1000000, 10.0, 7, EventKind.ADD, 1, _LAST)
    for fn in (lk.resync_block, _py(lk.resync_block)):
        e = ev.copy()
        # the book before row 0: bid 100.00 empty, the rest as in row 0
        args = _l2_args(ob, e, dup_rows=[1, 2], bids=[(990000, 5)],
                        asks=[(1020000, 5), (1010000, 10)])
        res = fn(*args)
        assert int(res[0]) == Status.OK
        assert args[5].tolist() == [1, 2]  # fate: row 1 applied, row 2 removed
        assert e["kind"].tolist() == [EventKind.ADD, EventKind.ADD, lk.KIND_REMOVED]
        assert int(args[10][lk.ST_N_CORR]) == 0  # nothing to correct either way


@pytest.mark.parametrize("after", [[], [-1, -1, 0], [2, 2, 2], [0, 1, 1, 2], [-1, 2]])
def test_merge_corrections_jit_matches_py_func_and_places_rows(after):
    n_msgs, n_corr = 3, len(after)
    corr = empty_events(max(n_corr, 1))
    corr["seq"][:n_corr] = 100 + np.arange(n_corr)
    results = []
    for fn in (lk.merge_corrections, _py(lk.merge_corrections)):
        buf = empty_events(2 + n_msgs + n_corr)
        buf["seq"][2: 2 + n_msgs] = np.arange(n_msgs)
        fn(buf, 2, n_msgs, corr, np.array(after, dtype=np.int64), n_corr)
        results.append(buf["seq"][2:].tolist())
    want = [100 + k for k, a in enumerate(after) if a == -1]
    for i in range(n_msgs):
        want += [i] + [100 + k for k, a in enumerate(after) if a == i]
    assert results[0] == results[1] == want


@pytest.mark.parametrize("snapshot", [
    ([], []),  # no level yet: the grid is taken from the first row
    ([(990300, 4), (960000, 7)], [(1020300, 3), (1200000, 9)]),  # levels on a grid of 300
])
@pytest.mark.parametrize("seed", [0, 1])
def test_resync_regrid_gives_the_corrections_of_a_grid_of_one_unit(seed, snapshot):
    """The wrapper's book is keyed on the gcd of the prices (the grid moves from 0 or 300
    units to 100 with the first row); a book keyed in LOBSTER units (grid 1) gives the
    same corrections and the same final book."""
    bids, asks = snapshot
    msgs, obs = _resync_inputs(seed)
    ob = np.array([[int(x) for x in r.split(",")] for r in obs], dtype=np.int64)
    _, ev, *_ = _run_resync(lambda *a: (0, 0, 0), seed)  # the message events only
    rs = lobster_book.Resync(ev.copy(), np.zeros(0, np.int64), bids, asks, 3)
    assert int(rs.state[lk.ST_GRID]) == (300 if bids else 0)
    rs.run(ob, 0, "test", 1)
    assert int(rs.state[lk.ST_GRID]) == 100
    args = _l2_args(ob, ev.copy(), bids=bids, asks=asks)
    args = (*args[:8], empty_events(4096), np.zeros(4096, np.int64), args[10], 3, *args[12:])
    res = lk.resync_block(*args)
    assert int(res[0]) == Status.OK
    n = rs.n_corr
    assert n == int(args[10][lk.ST_N_CORR]) > 0
    assert np.array_equal(rs.corr[:n], args[8][:n])
    assert np.array_equal(rs.corr_after[:n], args[9][:n])
    for side in (Side.BUY, Side.SELL):
        px, qty = rs.book.levels(side)
        want_px, want_qty = args[7].levels(side)
        assert np.array_equal(px * 100, want_px) and np.array_equal(qty, want_qty)
