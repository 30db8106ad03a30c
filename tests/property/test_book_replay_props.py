"""Property tests of qlib.book replay against a dict-based Python reference book."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.book import replay_book
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side

_QTY = st.sampled_from([0.0, 0.0, 0.001, 0.5, 1.0, 2.25, 100.0])
# prices clustered near a touch plus rare far levels (~600k ticks away, as on Binance)
_PX = st.one_of(st.integers(990, 1010), st.integers(990, 1010), st.integers(0, 2_000_000))


def _events(rows) -> np.ndarray:
    ev = empty_events(len(rows))
    if rows:
        kind, side, px, qty = zip(*rows)
        ev["kind"], ev["side"], ev["px_tick"], ev["qty"] = kind, side, px, qty
    ev["flags"] = EventFlag.LAST
    return ev


def _reference(rows):
    """Best bid/ask after each event from a plain dict book."""
    book = {Side.BUY: {}, Side.SELL: {}}
    out = []
    for kind, side, px, qty in rows:
        if kind == EventKind.CLEAR:
            for s in ((Side.BUY, Side.SELL) if side == Side.NONE else (side,)):
                book[s].clear()
        elif qty > 0:
            book[side][px] = qty
        else:
            book[side].pop(px, None)
        bids, asks = book[Side.BUY], book[Side.SELL]
        bb = max(bids) if bids else None
        ba = min(asks) if asks else None
        out.append((bb, bids.get(bb, 0.0), ba, asks.get(ba, 0.0)))
    return out, book


_DEPTH_ROW = st.tuples(st.just(EventKind.DEPTH), st.sampled_from([Side.BUY, Side.SELL]), _PX, _QTY)
_CLEAR_ROW = st.tuples(st.just(EventKind.CLEAR), st.sampled_from([Side.BUY, Side.SELL, Side.NONE]),
                       st.just(0), st.just(0.0))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_DEPTH_ROW, _DEPTH_ROW, _DEPTH_ROW, _DEPTH_ROW, _CLEAR_ROW), max_size=300))
def test_replay_book_random_depth_stream_matches_dict_reference(rows):
    r = replay_book(_events(rows))
    ref, book = _reference(rows)
    b = r.bbo
    for i, (bb, bq, ba, aq) in enumerate(ref):
        assert (int(b["bid_px_tick"][i]) if b["bid_qty"][i] > 0 else None) == bb
        assert (int(b["ask_px_tick"][i]) if b["ask_qty"][i] > 0 else None) == ba
        assert b["bid_qty"][i] == bq and b["ask_qty"][i] == aq
    assert r.bid_levels[0].tolist() == sorted(book[Side.BUY], reverse=True)
    assert r.ask_levels[0].tolist() == sorted(book[Side.SELL])
    assert (r.bid_levels[1] > 0).all() and (r.ask_levels[1] > 0).all()
    assert (b["bid_qty"] >= 0).all() and (b["ask_qty"] >= 0).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(95, 105),
                          st.integers(1, 50), st.floats(0.0, 1.0)), max_size=120))
def test_replay_book_random_l3_adds_and_partial_cancels_never_negative(orders):
    # ADD each order, then cancel a fraction of it, then DELETE it: the book ends empty
    ev = empty_events(3 * len(orders))
    for i, (side, px, qty, frac) in enumerate(orders):
        part = float(np.floor((qty - 1) * frac))  # the order keeps >= 1
        for j, (kind, q) in enumerate(((EventKind.ADD, qty), (EventKind.CANCEL, part),
                                       (EventKind.DELETE, 0.0))):
            ev[3 * i + j] = (0, 0, -1, px, q, i + 1, kind, side, EventFlag.LAST)
    # interleave: all adds first, then cancels, then deletes
    ev = np.concatenate([ev[0::3], ev[1::3], ev[2::3]])
    r = replay_book(ev)
    assert (r.bbo["bid_qty"] >= 0).all() and (r.bbo["ask_qty"] >= 0).all()
    assert len(r.bid_levels[0]) == 0 and len(r.ask_levels[0]) == 0
    assert r.orders_resting == 0 and r.unknown_orders == 0
