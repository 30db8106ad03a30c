"""Numba kernels of the order-level (L3) book: applying events, and the whole kernel set.

The L3 kernel set is two private modules: :mod:`qlib.book._l3_store` holds the layout
(an :class:`L3State` of seven arrays), the order-id map, the price levels with their
FIFO queues, and the reads; this module applies events to it (one event, a range of
events, a range with BBO output) and dumps the resting orders. Every name of the store
is re-exported here, so the loaders, the matching engine and the wrappers import one
module (``from qlib.book import _l3_kernels``). Arrays in, status codes out. No
pandas, no I/O. The public wrapper and the reasons behind the layout are in
:mod:`qlib.book.l3`.

Kernels here never allocate: a wrapper checks :func:`room` (or the loops return
``CAPACITY`` before touching a row) and grows the arrays outside.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book._l3_store import (  # noqa: F401  (re-exported: the one import of the L3 set)
    F_ANON,
    F_USED,
    M_FREE_LEVEL,
    M_FREE_SLOT,
    M_NENT0,
    M_NLEV0,
    M_NLEVELS,
    M_NORDERS,
    M_NUSED,
    M_SHIFT,
    M_STRICT,
    N_META,
    QTY_REL_EPS,
    S_ANON_ADDED,
    S_CLAMPED,
    S_EXEC_NOT_HEAD,
    S_TRIMMED,
    S_UNKNOWN,
    _FLAG_LAST,
    _FLAG_SNAPSHOT,
    _GOLD,
    _INF,
    L3State,
    _add_anon,
    _clear_level,
    _drop_level,
    _get_level,
    _hpos,
    _key,
    _lower_bound,
    _move_to_head,
    _new_entry,
    _take_unknown,
    _tol,
    _trim_tail,
    _unlink,
    add_order,
    best,
    borrow,
    clear_side,
    depth,
    find_level,
    is_crossed,
    map_insert,
    map_pos,
    map_remove_at,
    queue_ahead,
    reduce_entry,
    rehash,
    remove_entry,
    room,
    set_level_total,
    side_index,
)
from qlib.enums import EventKind, Side, Status


# ----------------------------------------------------------------------------- events
@njit(cache=True)
def apply_event(pool, levels, keys, slots, hkey, hslot, meta, kind, side, px_tick, qty, oid, ts, flags):
    """Apply one event to the book; return a Status. See :meth:`qlib.book.L3Book.apply`."""
    if kind == EventKind.TRADE or kind == EventKind.QUOTE or (
            kind >= EventKind.HALT and kind <= EventKind.TRADE_SUBTICK):
        return Status.OK
    if kind < EventKind.ADD or kind > EventKind.TRADE_SUBTICK:
        return Status.UNKNOWN_KIND
    if not np.isfinite(qty):
        return Status.NON_FINITE
    if qty < 0.0:
        return Status.NEGATIVE_QTY
    st_ = Status.OK
    if kind == EventKind.CLEAR:
        if side == Side.NONE:
            clear_side(pool, levels, keys, slots, hkey, hslot, meta, 0)
            clear_side(pool, levels, keys, slots, hkey, hslot, meta, 1)
        else:
            s = side_index(side)
            if s < 0:
                return Status.UNKNOWN_KIND
            clear_side(pool, levels, keys, slots, hkey, hslot, meta, s)
    else:
        s = side_index(side)
        if kind == EventKind.DEPTH or (kind == EventKind.SNAPSHOT and oid == 0):
            if s < 0:
                return Status.UNKNOWN_KIND
            set_level_total(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick, qty, ts)
        elif kind == EventKind.ADD or kind == EventKind.SNAPSHOT:
            if s < 0:
                return Status.UNKNOWN_KIND
            if map_pos(hkey, hslot, meta[M_SHIFT], oid) >= 0:
                return Status.DUPLICATE_ORDER
            if qty > 0.0:
                add_order(pool, levels, keys, slots, hkey, hslot, meta, oid, side, px_tick, qty, -1, ts)
        else:
            st_ = _apply_order_event(pool, levels, keys, slots, hkey, hslot, meta, kind, s, side, px_tick, qty, oid, ts)
    if st_ == Status.OK and (flags & _FLAG_SNAPSHOT) and (flags & _FLAG_LAST):
        nb = meta[M_NLEV0]
        na = meta[M_NLEV0 + 1]
        if nb > 0 and na > 0 and keys[0, nb - 1] > -keys[1, na - 1]:
            return Status.CROSSED
    return st_


@njit(cache=True)
def _apply_order_event(pool, levels, keys, slots, hkey, hslot, meta, kind, s, side, px_tick, qty, oid, ts):
    """CANCEL / EXECUTE / DELETE / MODIFY of an order id."""
    strict = meta[M_STRICT] != 0
    pos = map_pos(hkey, hslot, meta[M_SHIFT], oid)
    if pos < 0:
        if strict:
            return Status.UNKNOWN_ORDER
        meta[S_UNKNOWN] += 1
        if s < 0:
            return Status.UNKNOWN_KIND
        if kind == EventKind.MODIFY:
            if qty > 0.0:
                add_order(pool, levels, keys, slots, hkey, hslot, meta, oid, side, px_tick, qty, -1, ts)
        else:
            _take_unknown(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick, qty, kind == EventKind.EXECUTE)
        return Status.OK
    e = hslot[pos]
    o = pool[e]
    rest = o["qty"]
    if kind == EventKind.MODIFY:
        new_side = o["side"] if s < 0 else side
        if qty <= 0.0:
            remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
        elif new_side == o["side"] and px_tick == o["px_tick"] and qty <= rest + _tol(rest):
            if qty < rest - _tol(rest):
                reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, rest - qty)  # size down: keeps its place
        else:  # price change, size up or side change: to the back of the new level
            owner = o["owner"]
            remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
            add_order(pool, levels, keys, slots, hkey, hslot, meta, oid, new_side, px_tick, qty, owner, ts)
        return Status.OK
    o_s = 0 if o["side"] == 1 else 1
    o_px = o["px_tick"]
    if kind == EventKind.EXECUTE and levels[o["level"]]["head"] != e:
        meta[S_EXEC_NOT_HEAD] += 1
        _move_to_head(pool, levels, keys, slots, hkey, hslot, meta, e)
    if kind == EventKind.DELETE:
        remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
        if not strict and qty > 0.0:
            if qty > rest + _tol(rest):
                meta[S_CLAMPED] += 1
                _take_unknown(pool, levels, keys, slots, hkey, hslot, meta, o_s, o_px, qty - rest, False)
            elif qty < rest - _tol(rest):
                # the event removes less than the order held (the L2 rule subtracts
                # the event's qty): what is left becomes anonymous quantity at the tail
                lvl = _get_level(pool, levels, keys, slots, hkey, hslot, meta, o_s, o_px)
                _add_anon(pool, levels, keys, slots, hkey, hslot, meta, lvl, rest - qty, ts)
        return Status.OK
    # CANCEL or EXECUTE of qty
    if qty > rest + _tol(rest):
        if strict:
            return Status.NEGATIVE_QTY
        meta[S_CLAMPED] += 1
        remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
        _take_unknown(pool, levels, keys, slots, hkey, hslot, meta, o_s, o_px, qty - rest, kind == EventKind.EXECUTE)
        return Status.OK
    reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, min(qty, rest))
    return Status.OK


#: Levels the flat paths of :func:`apply_events` scan from the best before they call
#: :func:`_get_level` / :func:`_drop_level` (which gallop).
_SCAN = 16


@njit(cache=True)
def apply_events(pool, levels, keys, slots, hkey, hslot, meta, events, start, stop):
    """Apply ``events[start:stop]``; return ``(status, row)``.

    ``(OK, stop)`` when every event was applied, else the first row not applied (for
    ``CROSSED``, the snapshot row after which the book was crossed) and why.
    ``CAPACITY`` is returned *before* touching the row: grow and call again from it.

    Performance: the common rows are written out flat in this loop, as the DEPTH path
    of :func:`qlib.book._l2_kernels.replay`; each is decided before anything is
    written, and every other row goes to :func:`apply_event` unchanged:

    * ADD of a new id: id probe (the empty slot it stops at is where the id goes),
      append at the level tail; a new level within ``_SCAN`` of the best is inserted
      in ``keys``/``slots`` here (deeper: :func:`_get_level`).
    * CANCEL / EXECUTE (of the head) / DELETE of a known id with a consistent
      quantity: reduce, or unlink, backward-shift delete of the id, and removal of a
      level that empties within ``_SCAN`` of the best (deeper: :func:`_drop_level`).
    * DEPTH within ``_SCAN`` of the best that raises a level (anonymous quantity at
      the tail), creates one, leaves it, or clears it (``qty == 0``).

    Left as calls: duplicate or unknown ids and the lenient rules, over-cancels,
    EXECUTE behind the head, DEPTH falls (tail trimming), MODIFY, SNAPSHOT, CLEAR,
    the snapshot-end cross check and errors. A call passing the seven state arrays
    costs roughly 20 ns even with borrowed arrays (no NRT atomics, but ~50 arguments
    and no inlining; the all-calls loop ran 80-105 ns/row at 3-5 calls a row); the
    flat rows make none. The state left is byte for byte that of
    one :func:`apply_event` per row (``tests/parity/test_l3_parity.py``).
    """
    pool, levels, keys, slots = borrow(pool), borrow(levels), borrow(keys), borrow(slots)
    hkey, hslot, meta = borrow(hkey), borrow(hslot), borrow(meta)
    n_pool = pool.shape[0]
    n_lev = levels.shape[0]
    n_map = hslot.shape[0]
    mask = n_map - 1
    shift = meta[M_SHIFT]  # the map is not resized inside a call
    strict = meta[M_STRICT] != 0
    for i in range(start, stop):
        ev = events[i]
        k = ev["kind"]
        if k == EventKind.TRADE or k == EventKind.QUOTE:  # no call for rows that change nothing
            continue
        if (meta[M_NUSED] + 2 > n_pool or meta[M_NLEVELS] + 2 > n_lev
                or 2 * (meta[M_NORDERS] + 1) > n_map):
            return Status.CAPACITY, i  # as room(..., 2, 2, 1)
        side = ev["side"]
        qty = ev["qty"]
        fl = ev["flags"]
        slow = True
        if ((side == 1 or side == -1) and qty >= 0.0 and qty < _INF
                and not ((fl & _FLAG_SNAPSHOT) and (fl & _FLAG_LAST))):
            if k == EventKind.ADD or k == EventKind.DEPTH:
                px = ev["px_tick"]
                s = 0 if side == 1 else 1
                key = px if s == 0 else -px
                nl = meta[M_NLEV0 + s]
                lo = max(nl - _SCAN, 0)
                j = nl - 1
                while j >= lo and keys[s, j] > key:
                    j -= 1
                found = j >= lo and keys[s, j] == key
                near = j >= lo or j < 0  # else deeper in the book than the scan
                h = -1
                oid = ev["order_id"]
                q = qty  # quantity of the new entry (ADD) or the new anonymous quantity (DEPTH)
                if k == EventKind.ADD:
                    h = _hpos(oid, shift)
                    while hslot[h] >= 0 and hkey[h] != oid:
                        h = (h + 1) & mask
                    slow = hslot[h] >= 0 or qty <= 0.0  # duplicate id, or nothing to add
                elif found:  # DEPTH at an existing level: as set_level_total
                    lvl = slots[s, j]
                    lv = levels[lvl]
                    if qty <= 0.0:
                        slow = False  # every entry leaves: as _clear_level
                        while True:
                            e = lv["head"]
                            o = pool[e]
                            anon = o["flags"] & F_ANON
                            if not anon:
                                meta[S_TRIMMED] += 1
                            p = o["prev"]
                            nx = o["next"]
                            if p >= 0:
                                pool[p]["next"] = nx
                            else:
                                lv["head"] = nx
                            if nx >= 0:
                                pool[nx]["prev"] = p
                            else:
                                lv["tail"] = p
                            lv["n"] -= 1
                            lv["qty"] -= o["qty"]
                            if anon:
                                lv["anon_qty"] -= o["qty"]
                            else:
                                pos = map_pos(hkey, hslot, shift, o["order_id"])
                                map_remove_at(hkey, hslot, shift, pos)
                                meta[M_NORDERS] -= 1
                            meta[M_NENT0 + (0 if o["side"] == 1 else 1)] -= 1
                            o["flags"] = 0
                            o["next"] = meta[M_FREE_SLOT]
                            meta[M_FREE_SLOT] = e
                            meta[M_NUSED] -= 1
                            if lv["n"] == 0:
                                break
                        for m in range(j, nl - 1):  # as _drop_level (the level is at j)
                            keys[s, m] = keys[s, m + 1]
                            slots[s, m] = slots[s, m + 1]
                        meta[M_NLEV0 + s] = nl - 1
                        lv["head"] = meta[M_FREE_LEVEL]
                        lv["n"] = 0
                        meta[M_FREE_LEVEL] = lvl
                        meta[M_NLEVELS] -= 1
                        q = 0.0
                    else:
                        q = qty - lv["qty"]
                        tol = _tol(qty)
                        slow = q < -tol  # a fall: _trim_tail, by the call
                        if q <= tol:
                            q = 0.0  # within tolerance: nothing to do
                else:  # DEPTH at a level not in the book: a new level with one anonymous block
                    slow = not near  # (a level deeper than the scan may exist: the call finds it)
                    if qty <= 0.0:
                        q = 0.0  # nothing to remove
                if not slow and q > 0.0:
                    if not found:
                        if near:  # a new level at j + 1: as _get_level
                            lvl = meta[M_FREE_LEVEL]
                            lv = levels[lvl]
                            meta[M_FREE_LEVEL] = lv["head"]
                            meta[M_NLEVELS] += 1
                            lv["px_tick"] = px
                            lv["head"] = -1
                            lv["tail"] = -1
                            lv["n"] = 0
                            lv["qty"] = 0.0
                            lv["anon_qty"] = 0.0
                            lv["side"] = side
                            for m in range(nl, j + 1, -1):
                                keys[s, m] = keys[s, m - 1]
                                slots[s, m] = slots[s, m - 1]
                            keys[s, j + 1] = key
                            slots[s, j + 1] = lvl
                            meta[M_NLEV0 + s] = nl + 1
                        else:  # (ADD only) deeper in the book than the scan
                            lvl = _get_level(pool, levels, keys, slots, hkey, hslot, meta, s, px)
                    else:
                        lvl = slots[s, j]
                    lv = levels[lvl]
                    is_add = k == EventKind.ADD
                    t = lv["tail"]
                    if not is_add:
                        meta[S_ANON_ADDED] += 1
                    if not is_add and t >= 0 and pool[t]["flags"] & F_ANON:  # as _add_anon: merge
                        pool[t]["qty"] += q
                        lv["qty"] += q
                        lv["anon_qty"] += q
                    else:  # as _new_entry: append at the tail
                        e = meta[M_FREE_SLOT]
                        o = pool[e]
                        meta[M_FREE_SLOT] = o["next"]
                        meta[M_NUSED] += 1
                        o["order_id"] = oid if is_add else np.uint64(0)
                        o["px_tick"] = px
                        o["qty"] = q
                        o["owner"] = -1
                        o["ts_entry"] = ev["ts_exch"]
                        o["side"] = side
                        o["level"] = lvl
                        o["flags"] = F_USED if is_add else F_USED | F_ANON
                        o["prev"] = t
                        o["next"] = -1
                        if t >= 0:
                            pool[t]["next"] = e
                        else:
                            lv["head"] = e
                        lv["tail"] = e
                        lv["n"] += 1
                        lv["qty"] += q
                        if is_add:
                            hkey[h] = oid
                            hslot[h] = e
                            meta[M_NORDERS] += 1
                        else:
                            lv["anon_qty"] += q
                        meta[M_NENT0 + s] += 1
            elif k == EventKind.CANCEL or k == EventKind.EXECUTE or k == EventKind.DELETE:
                oid = ev["order_id"]
                h = _hpos(oid, shift)
                while hslot[h] >= 0 and hkey[h] != oid:
                    h = (h + 1) & mask
                if hslot[h] >= 0:
                    e = hslot[h]
                    o = pool[e]
                    rest = o["qty"]
                    tr = _tol(rest)
                    lvl = o["level"]
                    lv = levels[lvl]
                    if k == EventKind.DELETE:
                        slow = not (strict or qty <= 0.0 or (qty <= rest + tr and qty >= rest - tr))
                        remove = True
                    else:
                        slow = qty > rest + tr or (k == EventKind.EXECUTE and lv["head"] != e)
                        remove = False
                        if not slow:  # as reduce_entry (an identified order: not anonymous)
                            q = min(qty, rest)
                            left = rest - q
                            if left <= tr:
                                remove = True
                            else:
                                o["qty"] = left
                                lv["qty"] -= q
                    if not slow and remove:  # as remove_entry
                        p = o["prev"]
                        nx = o["next"]
                        if p >= 0:
                            pool[p]["next"] = nx
                        else:
                            lv["head"] = nx
                        if nx >= 0:
                            pool[nx]["prev"] = p
                        else:
                            lv["tail"] = p
                        lv["n"] -= 1
                        lv["qty"] -= rest
                        # backward-shift deletion at h, as map_remove_at
                        a = h
                        b = h
                        while True:
                            b = (b + 1) & mask
                            if hslot[b] < 0:
                                break
                            home = _hpos(hkey[b], shift)
                            if a <= b:
                                if a < home <= b:
                                    continue
                            elif home > a or home <= b:
                                continue
                            hkey[a] = hkey[b]
                            hslot[a] = hslot[b]
                            a = b
                        hslot[a] = -1
                        meta[M_NORDERS] -= 1
                        meta[M_NENT0 + (0 if o["side"] == 1 else 1)] -= 1
                        o["flags"] = 0
                        o["next"] = meta[M_FREE_SLOT]
                        meta[M_FREE_SLOT] = e
                        meta[M_NUSED] -= 1
                        if lv["n"] == 0:  # the level emptied: as _drop_level
                            s = 0 if lv["side"] == 1 else 1
                            key = lv["px_tick"] if s == 0 else -lv["px_tick"]
                            nl = meta[M_NLEV0 + s]
                            lo = max(nl - _SCAN, 0)
                            j = nl - 1
                            while j >= lo and keys[s, j] != key:
                                j -= 1
                            if j >= lo:
                                for m in range(j, nl - 1):
                                    keys[s, m] = keys[s, m + 1]
                                    slots[s, m] = slots[s, m + 1]
                                meta[M_NLEV0 + s] = nl - 1
                                lv["head"] = meta[M_FREE_LEVEL]
                                lv["n"] = 0
                                meta[M_FREE_LEVEL] = lvl
                                meta[M_NLEVELS] -= 1
                            else:  # deeper in the book than the scan
                                _drop_level(pool, levels, keys, slots, hkey, hslot, meta, lvl)
        if slow:
            r = apply_event(pool, levels, keys, slots, hkey, hslot, meta, k, side, ev["px_tick"], qty,
                            ev["order_id"], ev["ts_exch"], fl)
            if r != Status.OK:
                return r, i
    return Status.OK, stop


@njit(cache=True)
def apply_events_bbo(pool, levels, keys, slots, hkey, hslot, meta, events, start, out):
    """As :func:`apply_events` over ``events[start:]``, writing the BBO after each row into ``out``."""
    pool, levels, keys, slots = borrow(pool), borrow(levels), borrow(keys), borrow(slots)
    hkey, hslot, meta = borrow(hkey), borrow(hslot), borrow(meta)
    n = events.shape[0]
    for i in range(start, n):
        if not room(pool, levels, keys, slots, hkey, hslot, meta, 2, 2, 1):
            return Status.CAPACITY, i
        ev = events[i]
        r = apply_event(pool, levels, keys, slots, hkey, hslot, meta, ev["kind"], ev["side"], ev["px_tick"], ev["qty"], ev["order_id"],
                        ev["ts_exch"], ev["flags"])
        if r != Status.OK:
            return r, i
        o = out[i]
        o["ts_exch"] = ev["ts_exch"]
        o["ts_local"] = ev["ts_local"]
        o["seq"] = ev["seq"]
        px, q = best(pool, levels, keys, slots, hkey, hslot, meta, 0)
        o["bid_px_tick"] = px
        o["bid_qty"] = q
        px, q = best(pool, levels, keys, slots, hkey, hslot, meta, 1)
        o["ask_px_tick"] = px
        o["ask_qty"] = q
    return Status.OK, n


@njit(cache=True)
def dump_orders(pool, levels, keys, slots, hkey, hslot, meta, out):
    """Write every queue entry into ``out`` (L3_ORDER_DTYPE): bids best first, then asks, FIFO."""
    k = 0
    for s in range(2):
        n = meta[M_NLEV0 + s]
        for j in range(n - 1, -1, -1):
            lv = levels[slots[s, j]]
            e = lv["head"]
            ahead = 0.0
            idx = 0
            while e >= 0:
                o = pool[e]
                r = out[k]
                r["order_id"] = o["order_id"]
                r["px_tick"] = o["px_tick"]
                r["qty"] = o["qty"]
                r["ahead_qty"] = ahead
                r["owner"] = o["owner"]
                r["ts_entry"] = o["ts_entry"]
                r["queue_idx"] = idx
                r["side"] = o["side"]
                r["anonymous"] = 1 if o["flags"] & F_ANON else 0
                ahead += o["qty"]
                idx += 1
                k += 1
                e = o["next"]
    return k
