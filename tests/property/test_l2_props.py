"""Property tests of the L2 book (qlib.book.l2) against a dict-based Python reference.

Valid streams are generated *from* a consistent reference book: each step picks a side
and a price on the correct side of the other side's best, so the reference is never
crossed; the L2 book must then never be crossed either, never hold a negative quantity,
and show the same N best levels as the reference after every event, whatever the
window width (16 ticks forces re-centring constantly) and however far prices jump.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.book import _l2_kernels as K
from qlib.book.l2 import new_l2_book, new_orders, replay_l2
from qlib.dtypes import BBO_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side, Status

N = 5


def _build(ops, far):
    """Turn abstract ops into (kind, side, px, qty) rows valid against a reference book.

    ``ops``: (side_bit, distance, qty_or_remove, jump) tuples; ``far`` scales jumps.
    Returns the rows and the reference top-N after each row.
    """
    bids: dict[int, float] = {}
    asks: dict[int, float] = {}
    mid = 1_000_000
    rows, tops = [], []
    for side_bit, dist, q, jump in ops:
        if jump:
            mid += jump * far  # the touch moves far away (600k ticks when far=600_000)
        side = Side.BUY if side_bit else Side.SELL
        book = bids if side_bit else asks
        if q < 0 and book:  # remove an existing level
            px = sorted(book)[dist % len(book)]
            q = 0.0
        else:
            q = abs(q) or 1.0
            if side_bit:
                limit = min(asks) - 1 if asks else mid
                px = min(limit, mid) - dist
            else:
                limit = max(bids) + 1 if bids else mid + 1
                px = max(limit, mid + 1) + dist
        if q > 0:
            book[px] = q
        else:
            book.pop(px, None)
        rows.append((EventKind.DEPTH, side, px, q))
        tb = sorted(bids.items(), reverse=True)[:N]
        ta = sorted(asks.items())[:N]
        tops.append((tb, ta))
        assert not (bids and asks) or max(bids) < min(asks)
    return rows, tops, bids, asks


def _events(rows) -> np.ndarray:
    ev = empty_events(len(rows))
    if rows:
        kind, side, px, qty = zip(*rows)
        ev["kind"], ev["side"], ev["px_tick"], ev["qty"] = kind, side, px, qty
    ev["flags"] = EventFlag.LAST
    return ev


def _replay_tops(ev, window):
    n = len(ev)
    rows = np.arange(n, dtype=np.int64)
    px = np.zeros((n, 2, N), dtype=np.int64)
    qty = np.zeros((n, 2, N), dtype=np.float64)
    bbo = np.zeros(n, dtype=BBO_DTYPE)
    book = new_l2_book(window, capacity=window + 64)
    r, k = 0, 0
    while True:
        status, r, k = K.replay(ev, r, n, book, new_orders(), bbo, rows, k, px, qty)
        if status != Status.CAPACITY:
            break
        from qlib.book.l2 import grow
        book = grow(book)
    assert status == Status.OK
    return px, qty, bbo, book


_OP = st.tuples(st.booleans(), st.integers(0, 40),
                st.sampled_from([-1.0, -1.0, 0.001, 0.5, 1.0, 2.25, 100.0]),
                st.sampled_from([0, 0, 0, 0, 0, 0, 0, 0, 1, -1]))


@settings(max_examples=150, deadline=None)
@given(st.lists(_OP, max_size=250), st.sampled_from([16, 64, 4096]),
       st.sampled_from([3, 50, 600_000]))
def test_l2_book_matches_dict_reference_top_n_after_every_event(ops, window, far):
    rows, tops, bids, asks = _build(ops, far)
    ev = _events(rows)
    px, qty, bbo, _ = _replay_tops(ev, window)
    for i, (tb, ta) in enumerate(tops):
        for s, ref in ((0, tb), (1, ta)):
            n = len(ref)
            assert px[i, s, :n].tolist() == [p for p, _ in ref]
            assert qty[i, s, :n].tolist() == [q for _, q in ref]
            assert (qty[i, s, n:] == 0).all()
    # never crossed, never negative
    both = (bbo["bid_qty"] > 0) & (bbo["ask_qty"] > 0)
    assert (bbo["bid_px_tick"][both] < bbo["ask_px_tick"][both]).all()
    assert (qty >= 0).all() and (bbo["bid_qty"] >= 0).all() and (bbo["ask_qty"] >= 0).all()
    # the full book at the end holds every level, none lost by window moves
    r = replay_l2(ev, window=window)
    assert r.bids[0].tolist() == sorted(bids, reverse=True)
    assert r.asks[0].tolist() == sorted(asks)
    assert r.bids[1].tolist() == [bids[p] for p in sorted(bids, reverse=True)]
    assert (r.bids[1] > 0).all() and (r.asks[1] > 0).all()
    for p, q in list(bids.items())[:20]:
        assert K.level_qty(r.book, Side.BUY, p) == q


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-700_000, 700_000),
                          st.sampled_from([0.0, 0.0, 1.0, 3.5])), max_size=200),
       st.sampled_from([16, 256]))
def test_l2_window_recentring_never_loses_a_level(raw, window):
    # unconstrained prices (the book may cross: sides are independent) jumping
    # hundreds of thousands of ticks; the final book equals a dict per side
    rows = [(EventKind.DEPTH, Side.BUY if b else Side.SELL, 1_000_000 + d, q) for b, d, q in raw]
    ref = {Side.BUY: {}, Side.SELL: {}}
    for _, side, px, q in rows:
        if q > 0:
            ref[side][px] = q
        else:
            ref[side].pop(px, None)
    r = replay_l2(_events(rows), window=window)
    assert r.bids[0].tolist() == sorted(ref[Side.BUY], reverse=True)
    assert r.asks[0].tolist() == sorted(ref[Side.SELL])
    assert r.asks[1].tolist() == [ref[Side.SELL][p] for p in sorted(ref[Side.SELL])]
