"""Numba kernels of the Databento loader: arrays in, status codes out. No pandas, no I/O.

The public wrapper is :func:`qlib.data.databento.load_databento`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.enums import EventFlag, EventKind, Side, Status

# Slots of the ``counts`` array filled by :func:`replay_orders`.
CNT_CROSSED_PRE = 0  # event ends with best bid > best ask before the open
CNT_LOCKED_PRE = 1  # ... best bid == best ask before the open
CNT_CROSSED_OPEN = 2  # ... best bid > best ask at or after the open
CNT_LOCKED_OPEN = 3  # ... best bid == best ask at or after the open
CNT_CHECKED_PRE = 4  # event ends (LAST) with both sides present, before the open
CNT_CHECKED_OPEN = 5  # ... at or after the open
CNT_UNKNOWN_CANCEL = 6  # CANCEL of an order id not resting (ignored)
CNT_UNKNOWN_MODIFY = 7  # MODIFY of an order id not resting (inserted as new)
CNT_DUPLICATE_ADD = 8  # ADD of an order id already resting (replaces it)
CNT_OVER_CANCEL = 9  # CANCEL of more than the order had left (clamped)
CNT_TO_DELETE = 10  # CANCELs that removed the whole remainder, rewritten as DELETE
CNT_RESTING_END = 11  # orders resting after the last event
CNT_BEST_BID_END = 12  # best bid px_tick after the last event (or -1 if none)
CNT_BEST_ASK_END = 13  # best ask px_tick after the last event (or -1 if none)
N_COUNTS = 14

_F_LAST = int(EventFlag.LAST)


@njit(cache=True)
def _level_add(bid_qty, ask_qty, side, p, q, best_bid, best_ask):
    """Add ``q`` at level index ``p`` of ``side``; return the new ``(best_bid, best_ask)``."""
    if side == Side.BUY:
        bid_qty[p] += q
        best_bid = max(best_bid, p)
    else:
        ask_qty[p] += q
        best_ask = min(best_ask, p)
    return best_bid, best_ask


@njit(cache=True)
def _level_remove(bid_qty, ask_qty, side, p, q, best_bid, best_ask):
    """Remove ``q`` at level index ``p``; return ``(ok, best_bid, best_ask)``."""
    n_px = bid_qty.shape[0]
    if side == Side.BUY:
        bid_qty[p] -= q
        if bid_qty[p] < 0:
            return False, best_bid, best_ask
        if bid_qty[p] == 0 and p == best_bid:
            while best_bid >= 0 and bid_qty[best_bid] == 0:
                best_bid -= 1
    else:
        ask_qty[p] -= q
        if ask_qty[p] < 0:
            return False, best_bid, best_ask
        if ask_qty[p] == 0 and p == best_ask:
            while best_ask < n_px and ask_qty[best_ask] == 0:
                best_ask += 1
    return True, best_bid, best_ask


@njit(cache=True)
def replay_orders(events, order_idx, px_lo, n_px, n_orders, open_ns, counts):
    """Rebuild the book order by order and count crossed/locked event ends; see ``load_databento``.

    ``order_idx[i]`` is a dense index (``0..n_orders-1``) of ``events[i].order_id``
    for ADD/CANCEL/MODIFY rows; level ``j`` of the dense price arrays is
    ``px_tick = px_lo + j`` (``n_px`` levels). CANCELs that remove an order's whole
    remainder are rewritten in place as DELETE. ``counts`` (length ``N_COUNTS``) is
    filled as described by the ``CNT_*`` constants. Returns ``(status, row)``:
    ``(OK, -1)`` or ``(NEGATIVE_QTY, i)`` if a level would go negative (an internal
    inconsistency) and ``(CAPACITY, i)`` if a price or order index lies out of range.
    """
    bid_qty = np.zeros(n_px, dtype=np.int64)
    ask_qty = np.zeros(n_px, dtype=np.int64)
    alive = np.zeros(n_orders, dtype=np.bool_)
    o_side = np.zeros(n_orders, dtype=np.int8)
    o_px = np.zeros(n_orders, dtype=np.int64)
    o_qty = np.zeros(n_orders, dtype=np.int64)
    best_bid = -1
    best_ask = n_px
    resting = 0
    for c in range(counts.shape[0]):
        counts[c] = 0
    for i in range(events.shape[0]):
        ev = events[i]
        k = ev["kind"]
        if k == EventKind.ADD or k == EventKind.CANCEL or k == EventKind.MODIFY:
            o = order_idx[i]
            p = ev["px_tick"] - px_lo
            if o < 0 or o >= n_orders or p < 0 or p >= n_px:
                return Status.CAPACITY, i
            q = np.int64(ev["qty"])
            if k == EventKind.ADD:
                if alive[o]:
                    counts[CNT_DUPLICATE_ADD] += 1
                    ok, best_bid, best_ask = _level_remove(bid_qty, ask_qty, o_side[o], o_px[o],
                                                           o_qty[o], best_bid, best_ask)
                    if not ok:
                        return Status.NEGATIVE_QTY, i
                    resting -= 1
                alive[o] = True
                resting += 1
                o_side[o] = ev["side"]
                o_px[o] = p
                o_qty[o] = q
                best_bid, best_ask = _level_add(bid_qty, ask_qty, o_side[o], p, q,
                                                best_bid, best_ask)
            elif k == EventKind.CANCEL:
                if not alive[o]:
                    counts[CNT_UNKNOWN_CANCEL] += 1
                else:
                    if q > o_qty[o]:
                        counts[CNT_OVER_CANCEL] += 1
                        q = o_qty[o]
                    ok, best_bid, best_ask = _level_remove(bid_qty, ask_qty, o_side[o], o_px[o],
                                                           q, best_bid, best_ask)
                    if not ok:
                        return Status.NEGATIVE_QTY, i
                    o_qty[o] -= q
                    if o_qty[o] == 0:
                        alive[o] = False
                        resting -= 1
                        ev["kind"] = EventKind.DELETE
                        counts[CNT_TO_DELETE] += 1
            else:  # MODIFY: absolute new price and remaining size
                if alive[o]:
                    ok, best_bid, best_ask = _level_remove(bid_qty, ask_qty, o_side[o], o_px[o],
                                                           o_qty[o], best_bid, best_ask)
                    if not ok:
                        return Status.NEGATIVE_QTY, i
                else:
                    counts[CNT_UNKNOWN_MODIFY] += 1
                    alive[o] = True
                    resting += 1
                    o_side[o] = ev["side"]
                o_px[o] = p
                o_qty[o] = q
                if q > 0:
                    best_bid, best_ask = _level_add(bid_qty, ask_qty, o_side[o], p, q,
                                                    best_bid, best_ask)
                else:
                    alive[o] = False
                    resting -= 1
        elif k == EventKind.CLEAR:
            bid_qty[:] = 0
            ask_qty[:] = 0
            alive[:] = False
            resting = 0
            best_bid = -1
            best_ask = n_px
        if (ev["flags"] & _F_LAST) != 0 and best_bid >= 0 and best_ask < n_px:
            if ev["ts_exch"] < open_ns:
                counts[CNT_CHECKED_PRE] += 1
                if best_bid > best_ask:
                    counts[CNT_CROSSED_PRE] += 1
                elif best_bid == best_ask:
                    counts[CNT_LOCKED_PRE] += 1
            else:
                counts[CNT_CHECKED_OPEN] += 1
                if best_bid > best_ask:
                    counts[CNT_CROSSED_OPEN] += 1
                elif best_bid == best_ask:
                    counts[CNT_LOCKED_OPEN] += 1
    counts[CNT_RESTING_END] = resting
    counts[CNT_BEST_BID_END] = px_lo + best_bid if best_bid >= 0 else -1
    counts[CNT_BEST_ASK_END] = px_lo + best_ask if best_ask < n_px else -1
    return Status.OK, -1
