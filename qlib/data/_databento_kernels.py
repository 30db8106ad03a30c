"""Numba kernels of the Databento loader: arrays in, status codes out. No pandas, no I/O.

Order replay of MBO events, the DBN record-header walk, and MBP records to L2 events.

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


# --------------------------------------------------------------------------- record headers
SCAN_OK = 0
SCAN_BAD_RTYPE = 1  # an rtype no DBN version defines
SCAN_BAD_LENGTH = 2  # a length shorter than the rtype's record


@njit(cache=True)
def scan_records(buf, pos, min_len):
    """Walk DBN record headers in ``buf`` from ``pos``; return ``(status, pos, n)``.

    A record starts with ``length`` (u8, in 4-byte words) and ``rtype`` (u8).
    ``min_len[rtype]`` is the shortest valid length in bytes (0 for an unknown rtype).
    On success ``pos`` is the start of the first incomplete record (the rest is
    carried to the next piece) and ``n`` the whole records walked; otherwise ``pos``
    is the bad record's offset and ``n`` the records before it.
    """
    n = 0
    end = buf.shape[0]
    while pos + 2 <= end:
        length = np.int64(buf[pos]) * 4
        rtype = buf[pos + 1]
        need = min_len[rtype]
        if need == 0:
            return SCAN_BAD_RTYPE, pos, n
        if length < need:
            return SCAN_BAD_LENGTH, pos, n
        if pos + length > end:
            break
        pos += length
        n += 1
    return SCAN_OK, pos, n


# --------------------------------------------------------------------------- MBP records
MBP_OK = 0
MBP_UNDEF_LEVEL_PRICE = 1  # a level with a size but the UNDEF_PRICE sentinel
MBP_OFF_GRID = 2  # a level or trade price not a multiple of the tick

_UNDEF_PRICE = np.int64(9223372036854775807)
_A_T = np.uint8(ord("T"))
_A_F = np.uint8(ord("F"))
_A_R = np.uint8(ord("R"))
_S_B = np.uint8(ord("B"))
_S_A = np.uint8(ord("A"))


@njit(cache=True)
def _emit(out, k, write, ts_e, ts_r, seq, kind, side, px, qty, flags):
    if write:
        e = out[k]
        e["ts_exch"] = ts_e
        e["ts_local"] = ts_r
        e["seq"] = seq
        e["kind"] = kind
        e["side"] = side
        e["px_tick"] = px
        e["qty"] = qty
        e["order_id"] = 0
        e["flags"] = flags
    return k + 1


@njit(cache=True)
def _diff_side(out, k, write, ts_e, ts_r, seq, flags, side, prev_px, prev_sz, n_prev,
               new_px, new_sz, n_new):
    """Emit DEPTH events turning the ``n_prev`` previous levels into the ``n_new`` new ones."""
    for a in range(n_prev):
        found = False
        for b in range(n_new):
            if new_px[b] == prev_px[a]:
                found = True
                break
        if not found:
            k = _emit(out, k, write, ts_e, ts_r, seq, EventKind.DEPTH, side, prev_px[a], 0.0,
                      flags)
    for b in range(n_new):
        same = False
        for a in range(n_prev):
            if prev_px[a] == new_px[b]:
                same = prev_sz[a] == new_sz[b]
                break
        if not same:
            k = _emit(out, k, write, ts_e, ts_r, seq, EventKind.DEPTH, side, new_px[b],
                      np.float64(new_sz[b]), flags)
    return k


@njit(cache=True)
def mbp_to_events(ts_event, ts_recv, seq, action, side, price, size, rflags, bid_px, ask_px,
                  bid_sz, ask_sz, tick_units, trade_after, out, write):
    """Turn MBP-1 / TBBO / MBP-10 records into L2 events; see ``load_databento``.

    Each record's ``L`` levels per side (``bid_px[i, :]`` ... in units of 1e-9; a level
    with size 0 or price UNDEF_PRICE is empty) are the top of the book: the events
    make the book's levels equal to them exactly (DEPTH ``qty = 0`` for a previous
    level no longer among them, DEPTH with the new size for a new or changed level).
    A ``T`` or ``F`` record also gives a TRADE (side: the aggressor; for ``F`` the
    opposite of the filled order's side), before the depth events or, with
    ``trade_after`` (TBBO, whose levels are the quote before the trade), after them.
    An ``R`` record first gives a CLEAR. ``rflags`` are the qlib flags of each record
    (``LAST`` already mapped); LAST goes to the record's last event, or to the
    previous event when the record gives none.

    With ``write`` False nothing is written and the count is returned, so the caller can
    size ``out``. Returns ``(status, n_events, row)``; ``row`` is the first bad record
    (``MBP_UNDEF_LEVEL_PRICE`` or ``MBP_OFF_GRID``), or -1.
    """
    n = ts_event.shape[0]
    n_lv = bid_px.shape[1]
    prev_px = np.zeros((2, n_lv), dtype=np.int64)
    prev_sz = np.zeros((2, n_lv), dtype=np.int64)
    n_prev = np.zeros(2, dtype=np.int64)
    new_px = np.zeros((2, n_lv), dtype=np.int64)
    new_sz = np.zeros((2, n_lv), dtype=np.int64)
    n_new = np.zeros(2, dtype=np.int64)
    last = np.uint8(_F_LAST)
    k = 0
    for i in range(n):
        te = np.int64(ts_event[i])
        tr = np.int64(ts_recv[i])
        sq = np.int64(seq[i])
        fl = rflags[i] & ~last
        for s in range(2):
            m = 0
            for j in range(n_lv):
                px = bid_px[i, j] if s == 0 else ask_px[i, j]
                sz = np.int64(bid_sz[i, j] if s == 0 else ask_sz[i, j])
                if sz == 0 or px == _UNDEF_PRICE:
                    if sz != 0:
                        return MBP_UNDEF_LEVEL_PRICE, k, i
                    continue
                if px % tick_units != 0:
                    return MBP_OFF_GRID, k, i
                new_px[s, m] = px // tick_units
                new_sz[s, m] = sz
                m += 1
            n_new[s] = m
        a = action[i]
        is_trade = a == _A_T or a == _A_F
        tside = 0
        if is_trade:
            if price[i] % tick_units != 0:
                return MBP_OFF_GRID, k, i
            if side[i] == _S_B:
                tside = Side.BUY
            elif side[i] == _S_A:
                tside = Side.SELL
            if a == _A_F:
                tside = -tside
        if is_trade and not trade_after:
            k = _emit(out, k, write, te, tr, sq, EventKind.TRADE, tside, price[i] // tick_units,
                      np.float64(size[i]), fl)
        if a == _A_R:
            k = _emit(out, k, write, te, tr, sq, EventKind.CLEAR, Side.NONE, 0, 0.0, fl)
            n_prev[0] = 0
            n_prev[1] = 0
        k = _diff_side(out, k, write, te, tr, sq, fl, Side.BUY, prev_px[0], prev_sz[0],
                       n_prev[0], new_px[0], new_sz[0], n_new[0])
        k = _diff_side(out, k, write, te, tr, sq, fl, Side.SELL, prev_px[1], prev_sz[1],
                       n_prev[1], new_px[1], new_sz[1], n_new[1])
        if is_trade and trade_after:
            k = _emit(out, k, write, te, tr, sq, EventKind.TRADE, tside, price[i] // tick_units,
                      np.float64(size[i]), fl)
        for s in range(2):
            for j in range(n_new[s]):
                prev_px[s, j] = new_px[s, j]
                prev_sz[s, j] = new_sz[s, j]
            n_prev[s] = n_new[s]
        if write and (rflags[i] & last) != 0 and k > 0:
            out[k - 1]["flags"] |= last
    return MBP_OK, k, -1
