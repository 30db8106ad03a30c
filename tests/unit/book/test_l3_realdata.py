"""The L3 book on real data: Databento CME MBO (exact) and LOBSTER GOOG (with its L2 parts).

* Databento ESH4 2023-12-25: rebuilt order by order (strict: no unknown id, no
  over-cancel), the book is never crossed or locked at an event end after the
  23:00 UTC open (891 times before it, as PROVENANCE.md says), and ends with 11,217
  resting orders and best bid/ask 4810.00 / 4810.25.
* LOBSTER GOOG 2012-06-21, L = 1, 5, 10: the L3 book's level totals equal the
  orderbook file at every row and every level 1..L, with the anonymous-block rules
  of :mod:`qlib.book.l3` for the snapshot and the resync corrections.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numba import njit

from qlib.book import _l3_kernels as K
from qlib.book.l3 import L3Book, replay_l3, replay_l3_bbo
from qlib.data import load_databento, load_lobster
from qlib.data.lobster import ASK_EMPTY, BID_EMPTY
from qlib.dtypes import BBO_DTYPE as _BBO
from qlib.enums import EventFlag

DBN = "databento-glbx-esh4-mbo-2023-12-25/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
GOOG = "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_{L}.zip"
OB = "GOOG_2012-06-21_34200000_57600000_orderbook_{L}.csv"
OPEN_NS = 1703545200 * 10**9  # 2023-12-25 23:00 UTC
_LAST = int(EventFlag.LAST)


@pytest.fixture(scope="module")
def databento(shared_data: Path):
    return load_databento(shared_data / DBN)


@pytest.mark.realdata
def test_l3_databento_rebuild_ends_with_provenance_book(databento):
    # Act
    book, _ = replay_l3_bbo(databento.events)
    # Assert
    assert book.strict
    assert len(book) == 11_217
    assert book.best(1)[0] * 0.25 == 4810.00
    assert book.best(-1)[0] * 0.25 == 4810.25
    assert book.stats == {"unknown_orders": 0, "clamped": 0, "trimmed": 0,
                          "exec_not_head": 0, "anonymous_added": 0}


@pytest.mark.realdata
def test_l3_databento_never_crossed_after_the_open(databento):
    ev = databento.events
    _, b = replay_l3_bbo(ev)
    last = (ev["flags"] & _LAST) != 0
    both = (b["bid_qty"] > 0) & (b["ask_qty"] > 0)
    bad = last & both & (b["bid_px_tick"] >= b["ask_px_tick"])
    assert int(np.count_nonzero(bad & (ev["ts_exch"] >= OPEN_NS))) == 0
    assert int(np.count_nonzero(bad & (ev["ts_exch"] < OPEN_NS))) == 891


@pytest.mark.realdata
def test_l3_databento_queue_positions_sum_to_level_totals(databento):
    book = replay_l3(databento.events)
    o = book.orders()
    # per level, ahead of the last order + its qty = level total; and ahead is a prefix sum
    for side in (1, -1):
        px, qty = book.best(side)
        lvl = o[(o["side"] == side) & (o["px_tick"] == px)]
        assert np.allclose(lvl["ahead_qty"], np.concatenate([[0.0], np.cumsum(lvl["qty"])[:-1]]))
        q = book.queue_position(int(lvl["order_id"][-1]))
        assert q.ahead + q.qty == qty and q.ahead_anonymous == 0.0


@njit
def _replay_depth(pool, levels, keys, slots, hkey, hslot, meta, events, n_lev,
                  out_px, out_qty, out_row):
    px = np.zeros(n_lev, np.int64)
    q = np.zeros(n_lev)
    n_last = 0
    for i in range(events.shape[0]):
        if not K.room(pool, levels, keys, slots, hkey, hslot, meta, 2, 2, 1):
            return 9, i, n_last
        ev = events[i]
        r = K.apply_event(pool, levels, keys, slots, hkey, hslot, meta, ev["kind"], ev["side"],
                          ev["px_tick"], ev["qty"], ev["order_id"], ev["ts_exch"], ev["flags"])
        if r != 0:
            return r, i, n_last
        if ev["seq"] >= 0 and (ev["flags"] & _LAST) != 0:
            for s in range(2):
                K.depth(pool, levels, keys, slots, hkey, hslot, meta, s, px, q)
                out_px[n_last, s] = px
                out_qty[n_last, s] = q
            out_row[n_last] = ev["seq"]
            n_last += 1
    return 0, -1, n_last


def _file_depth(ob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, cols = ob.shape
    px = np.zeros((n, 2, cols // 4), dtype=np.int64)
    qty = np.zeros((n, 2, cols // 4))
    for s, pc, empty in ((0, 2, BID_EMPTY), (1, 0, ASK_EMPTY)):
        p, q = ob[:, pc::4], ob[:, pc + 1::4]
        px[:, s] = np.where(p != empty, p // 100, 0)
        qty[:, s] = np.where(p != empty, q, 0)
    return px, qty


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_l3_lobster_level_totals_equal_orderbook_file_every_row(shared_data, levels):
    # Arrange
    path = shared_data / GOOG.format(L=levels)
    ev = load_lobster(path).events
    with zipfile.ZipFile(path) as zf:
        ob = pd.read_csv(zf.open(OB.format(L=levels)), header=None).to_numpy()
    book = L3Book(strict=False, order_capacity=1 << 16, level_capacity=1 << 14)
    n = ev.shape[0]
    out_px = np.zeros((n, 2, levels), np.int64)
    out_qty = np.zeros((n, 2, levels))
    out_row = np.zeros(n, np.int64)
    # Act
    status, row, n_last = _replay_depth(*book.state, ev, levels, out_px, out_qty, out_row)
    # Assert: every message row is compared (sub-tick trades are kept as TRADE_SUBTICK)
    assert status == 0, (status, row)
    assert n_last == ob.shape[0]
    want_px, want_qty = _file_depth(ob)
    rows = out_row[:n_last]
    assert np.array_equal(out_px[:n_last], want_px[rows])
    assert np.array_equal(out_qty[:n_last], want_qty[rows])
    o = book.orders()
    assert (o["qty"] > 0).all()
    assert book.stats["unknown_orders"] > 0 and book.stats["anonymous_added"] > 0


@pytest.mark.realdata
def test_l3_lobster_replay_is_lenient_by_default_and_queue_bounds_hold(shared_data):
    ev = load_lobster(shared_data / GOOG.format(L=10)).events
    book = replay_l3(ev)
    assert not book.strict
    for r in book.orders()[:50]:
        if r["anonymous"]:
            continue
        q = book.queue_position(int(r["order_id"]))
        assert q.ahead == r["ahead_qty"] and 0.0 <= q.ahead_anonymous <= q.ahead


@pytest.mark.realdata
def test_l3_flat_apply_events_equals_per_event_path_on_real_data(shared_data, databento):
    """The flat hot paths of ``apply_events`` leave the same state, byte for byte, as
    one :func:`K.apply_event` call per row (``apply_events_bbo``), on both files."""
    for ev, strict in ((load_lobster(shared_data / GOOG.format(L=10)).events, False),
                       (databento.events, True)):
        a = L3Book(strict=strict, order_capacity=1 << 17, level_capacity=1 << 13).state
        b = K.L3State(*(x.copy() for x in a))
        ra = K.apply_events(*a, ev, 0, ev.shape[0])
        rb = K.apply_events_bbo(*b, ev, 0, np.zeros(ev.shape[0], _BBO))
        assert ra == rb
        for x, y in zip(a, b):
            for f in (x.dtype.names or (None,)):
                assert np.array_equal(x if f is None else x[f], y if f is None else y[f]), f
