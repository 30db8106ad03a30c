"""Numba kernels of the price-time matching engine: arrays in, status codes out.

The engine runs on an L3 book state (:mod:`qlib.book._l3_kernels`; every kernel
takes its seven arrays ``pool, levels, keys, slots, hkey, hslot, meta`` first) and
writes into output buffers:

* ``fills``: :data:`qlib.dtypes.FILL_DTYPE` ``(cap_fills,)``, two records per match;
* ``out_events``: :data:`qlib.dtypes.EVENT_DTYPE` ``(cap_events,)``, the book events;
* ``counts``: int64 ``(N_COUNTS,)``: records written to each buffer, the next match
  id and the next operation sequence number.

The caller drains the buffers (and resets ``counts[C_FILLS]``/``counts[C_EVENTS]``)
when it likes. Every operation first checks that the book and the buffers can take
its worst case and returns ``CAPACITY`` *before changing anything* when they cannot.
Semantics and policies: :class:`qlib.book.MatchingEngine`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book._l3_kernels import (
    M_NENT0,
    M_NLEV0,
    M_SHIFT,
    add_order,
    borrow,
    map_pos,
    reduce_entry,
    remove_entry,
    room,
)
from qlib.enums import (
    EventFlag,
    EventKind,
    LiquiditySide,
    OrderType,
    RejectReason,
    Status,
    StpPolicy,
    TimeInForce,
)

C_FILLS = 0  #: fill records written
C_EVENTS = 1  #: event records written
C_MATCH = 2  #: next match id
C_SEQ = 3  #: next operation sequence number
N_COUNTS = 4

_LAST = int(EventFlag.LAST)
_SUMMARY = int(EventFlag.SUMMARY)
_EPS = 1e-9
_MAX_PX = np.int64(2**62)


@njit(cache=True, inline="always")
def _tol(x):
    return _EPS * max(1.0, abs(x))


@njit(cache=True)
def _emit(out_events, counts, kind, side, px_tick, qty, oid, ts, flags):
    k = counts[C_EVENTS]
    r = out_events[k]
    r["ts_exch"] = ts
    r["ts_local"] = ts
    r["seq"] = counts[C_SEQ]
    r["px_tick"] = px_tick
    r["qty"] = qty
    r["order_id"] = oid
    r["kind"] = kind
    r["side"] = side
    r["flags"] = flags
    counts[C_EVENTS] = k + 1


@njit(cache=True)
def _fill(fills, counts, ts, oid, coid, owner, cowner, px_tick, qty, side, liq, match_id):
    k = counts[C_FILLS]
    r = fills[k]
    r["ts_exch"] = ts
    r["match_id"] = match_id
    r["order_id"] = oid
    r["contra_order_id"] = coid
    r["owner"] = owner
    r["contra_owner"] = cowner
    r["px_tick"] = px_tick
    r["qty"] = qty
    r["side"] = side
    r["liquidity"] = liq
    counts[C_FILLS] = k + 1


@njit(cache=True)
def _crosses(is_buy, limit, px):
    return px <= limit if is_buy else px >= limit


@njit(cache=True)
def _walk(pool, levels, slots, meta, cs, is_buy, limit, qty, owner, stp, count_entries):
    """Dry run of a match: fillable quantity (FOK) or entries touched (buffer check)."""
    n = meta[M_NLEV0 + cs]
    acc = 0.0
    touched = 0
    for j in range(n - 1, -1, -1):
        lv = levels[slots[cs, j]]
        if not _crosses(is_buy, limit, lv["px_tick"]):
            break
        e = lv["head"]
        while e >= 0:
            o = pool[e]
            touched += 1
            if stp != StpPolicy.NONE and owner >= 0 and o["owner"] == owner:
                if stp == StpPolicy.CANCEL_AGGRESSING:
                    return touched if count_entries else acc
                if stp == StpPolicy.DECREMENT_BOTH:
                    if count_entries:
                        qty -= o["qty"]
                        if qty <= _tol(qty):
                            return touched
                    else:
                        return acc
            else:
                acc += o["qty"]
                if acc >= qty - _tol(qty):
                    return touched if count_entries else acc
            e = o["next"]
    return touched if count_entries else acc


@njit(cache=True)
def _match(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
           oid, side, limit, qty, owner, stp, ts):
    """Match ``qty`` against the opposite side up to ``limit``; return
    ``(filled, stp_cancelled_self, stp_cancelled_resting, stopped_by_stp)``."""
    cs = 1 if side == 1 else 0
    is_buy = side == 1
    rem = qty
    filled = 0.0
    self_cancel = 0.0
    resting_cancel = 0.0
    last_px = np.int64(0)
    while rem > _tol(rem):
        n = meta[M_NLEV0 + cs]
        if n == 0:
            break
        lvl = slots[cs, n - 1]
        px = levels[lvl]["px_tick"]
        if not _crosses(is_buy, limit, px):
            break
        e = levels[lvl]["head"]
        o = pool[e]
        mq = o["qty"]
        moid = o["order_id"]
        mside = o["side"]
        if stp != StpPolicy.NONE and owner >= 0 and o["owner"] == owner:
            if stp == StpPolicy.CANCEL_AGGRESSING:
                return filled, self_cancel, resting_cancel, True
            if stp == StpPolicy.CANCEL_RESTING:
                _emit(out_events, counts, EventKind.DELETE, mside, px, mq, moid, ts, 0)
                resting_cancel += mq
                remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
                continue
            # DECREMENT_BOTH
            d = min(rem, mq)
            if mq - d <= _tol(mq):
                _emit(out_events, counts, EventKind.DELETE, mside, px, mq, moid, ts, 0)
            else:
                _emit(out_events, counts, EventKind.CANCEL, mside, px, d, moid, ts, 0)
            resting_cancel += d
            self_cancel += d
            rem -= d
            reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, d)
            continue
        q = min(rem, mq)
        mid = counts[C_MATCH]
        counts[C_MATCH] = mid + 1
        _fill(fills, counts, ts, oid, moid, owner, o["owner"], px, q, side,
              LiquiditySide.TAKER, mid)
        _fill(fills, counts, ts, moid, oid, o["owner"], owner, px, q, mside,
              LiquiditySide.MAKER, mid)
        _emit(out_events, counts, EventKind.EXECUTE, mside, px, q, moid, ts, 0)
        filled += q
        rem -= q
        last_px = px
        reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, q)
    if filled > 0.0:
        _emit(out_events, counts, EventKind.TRADE, side, last_px, filled, np.uint64(0), ts,
              _SUMMARY)
    return filled, self_cancel, resting_cancel, False


@njit(cache=True)
def _fits(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
          side, limit, qty, owner, stp):
    """True when the book and the output buffers can take this order's worst case."""
    if not room(pool, levels, keys, slots, hkey, hslot, meta, 1, 1, 1):
        return False
    cs = 1 if side == 1 else 0
    room_f = fills.shape[0] - counts[C_FILLS]
    room_e = out_events.shape[0] - counts[C_EVENTS]
    n_contra = meta[M_NENT0 + cs]
    if room_f >= 2 * n_contra and room_e >= n_contra + 3:
        return True
    t = _walk(pool, levels, slots, meta, cs, side == 1, limit, qty, owner, stp, True)
    return room_f >= 2 * t and room_e >= t + 3


@njit(cache=True)
def _submit_core(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
                 oid, side, px_tick, qty, otype, tif, stp, post_reprice, owner, ts):
    """Validated order: post-only, FOK check, match, rest or cancel the remainder."""
    is_buy = side == 1
    cs = 1 if is_buy else 0
    if otype == OrderType.MARKET:
        limit = _MAX_PX if is_buy else -_MAX_PX
    else:
        limit = px_tick
    if tif == TimeInForce.GTX:
        nc = meta[M_NLEV0 + cs]
        if nc > 0:
            best = levels[slots[cs, nc - 1]]["px_tick"]
            if _crosses(is_buy, limit, best):
                if not post_reprice:
                    return Status.REJECTED, RejectReason.POST_ONLY_WOULD_CROSS, 0.0, 0.0, 0.0
                limit = best - 1 if is_buy else best + 1
                if limit <= 0:
                    return Status.REJECTED, RejectReason.BAD_PRICE, 0.0, 0.0, 0.0
        add_order(pool, levels, keys, slots, hkey, hslot, meta, oid, side, limit, qty, owner, ts)
        _emit(out_events, counts, EventKind.ADD, side, limit, qty, oid, ts, 0)
        return Status.OK, RejectReason.NONE, 0.0, qty, 0.0
    if tif == TimeInForce.FOK:
        avail = _walk(pool, levels, slots, meta, cs, is_buy, limit, qty, owner, stp, False)
        if avail < qty - _tol(qty):
            return Status.OK, RejectReason.FOK_NOT_FILLABLE, 0.0, 0.0, qty
    filled, self_cancel, _, stopped = _match(
        pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
        oid, side, limit, qty, owner, stp, ts)
    rem = qty - filled - self_cancel
    reason = RejectReason.SELF_TRADE if (stopped or self_cancel > 0.0) else RejectReason.NONE
    if rem <= _tol(qty):
        return Status.OK, reason, filled, 0.0, self_cancel
    if stopped:
        return Status.OK, RejectReason.SELF_TRADE, filled, 0.0, self_cancel + rem
    if otype == OrderType.MARKET or tif == TimeInForce.IOC or tif == TimeInForce.FOK:
        if reason == RejectReason.NONE:
            reason = RejectReason.IOC_REMAINDER
        return Status.OK, reason, filled, 0.0, self_cancel + rem
    add_order(pool, levels, keys, slots, hkey, hslot, meta, oid, side, limit, rem, owner, ts)
    _emit(out_events, counts, EventKind.ADD, side, limit, rem, oid, ts, 0)
    return Status.OK, reason, filled, rem, self_cancel


@njit(cache=True)
def _mark_last(out_events, counts, e0):
    if counts[C_EVENTS] > e0:
        out_events[counts[C_EVENTS] - 1]["flags"] |= _LAST
    counts[C_SEQ] += 1


@njit(cache=True)
def submit(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
           oid, side, px_tick, qty, otype, tif, stp, post_reprice, owner, ts):
    """Submit a new order; return ``(status, reason, filled, rested, cancelled)``.

    See :meth:`qlib.book.MatchingEngine.submit`. ``status`` is ``OK`` (``reason``
    says why anything was cancelled), ``REJECTED`` (nothing happened; ``reason``
    says why) or ``CAPACITY`` (nothing happened; grow the book or the buffers).
    """
    pool, levels, keys, slots = borrow(pool), borrow(levels), borrow(keys), borrow(slots)
    hkey, hslot, meta = borrow(hkey), borrow(hslot), borrow(meta)
    if side != 1 and side != -1:
        return Status.REJECTED, RejectReason.BAD_SIDE, 0.0, 0.0, 0.0
    if not np.isfinite(qty) or qty <= 0.0:
        return Status.REJECTED, RejectReason.BAD_QTY, 0.0, 0.0, 0.0
    if otype != OrderType.LIMIT and otype != OrderType.MARKET:
        return Status.REJECTED, RejectReason.BAD_TYPE, 0.0, 0.0, 0.0
    if tif < TimeInForce.GTC or tif > TimeInForce.GTX or stp < StpPolicy.NONE \
            or stp > StpPolicy.DECREMENT_BOTH:
        return Status.REJECTED, RejectReason.BAD_TYPE, 0.0, 0.0, 0.0
    if otype == OrderType.MARKET and tif == TimeInForce.GTX:
        return Status.REJECTED, RejectReason.BAD_TYPE, 0.0, 0.0, 0.0
    if otype == OrderType.LIMIT and px_tick <= 0:
        return Status.REJECTED, RejectReason.BAD_PRICE, 0.0, 0.0, 0.0
    if map_pos(hkey, hslot, meta[M_SHIFT], oid) >= 0:
        return Status.REJECTED, RejectReason.DUPLICATE_ORDER, 0.0, 0.0, 0.0
    limit = px_tick if otype == OrderType.LIMIT else (_MAX_PX if side == 1 else -_MAX_PX)
    if not _fits(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
                 side, limit, qty, owner, stp):
        return Status.CAPACITY, RejectReason.NONE, 0.0, 0.0, 0.0
    e0 = counts[C_EVENTS]
    r = _submit_core(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
                     oid, side, px_tick, qty, otype, tif, stp, post_reprice, owner, ts)
    _mark_last(out_events, counts, e0)
    return r


@njit(cache=True)
def cancel(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts, oid, ts):
    """Cancel a resting order; return ``(status, reason, cancelled_qty)``."""
    pool, levels, keys, slots = borrow(pool), borrow(levels), borrow(keys), borrow(slots)
    hkey, hslot, meta = borrow(hkey), borrow(hslot), borrow(meta)
    pos = map_pos(hkey, hslot, meta[M_SHIFT], oid)
    if pos < 0:
        return Status.REJECTED, RejectReason.UNKNOWN_ORDER, 0.0
    if out_events.shape[0] - counts[C_EVENTS] < 1:
        return Status.CAPACITY, RejectReason.NONE, 0.0
    e = hslot[pos]
    o = pool[e]
    q = o["qty"]
    _emit(out_events, counts, EventKind.DELETE, o["side"], o["px_tick"], q, oid, ts, _LAST)
    counts[C_SEQ] += 1
    remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
    return Status.OK, RejectReason.NONE, q


@njit(cache=True)
def modify(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
           oid, px_tick, qty, stp, post_reprice, ts):
    """Modify a resting order to ``(px_tick, qty)`` absolute; return
    ``(status, reason, filled, rested, cancelled)``. See :meth:`qlib.book.MatchingEngine.modify`."""
    pool, levels, keys, slots = borrow(pool), borrow(levels), borrow(keys), borrow(slots)
    hkey, hslot, meta = borrow(hkey), borrow(hslot), borrow(meta)
    pos = map_pos(hkey, hslot, meta[M_SHIFT], oid)
    if pos < 0:
        return Status.REJECTED, RejectReason.UNKNOWN_ORDER, 0.0, 0.0, 0.0
    if not np.isfinite(qty) or qty < 0.0:
        return Status.REJECTED, RejectReason.BAD_QTY, 0.0, 0.0, 0.0
    if px_tick <= 0:
        return Status.REJECTED, RejectReason.BAD_PRICE, 0.0, 0.0, 0.0
    e = hslot[pos]
    o = pool[e]
    rest = o["qty"]
    side = np.int64(o["side"])
    old_px = o["px_tick"]
    owner = o["owner"]
    if out_events.shape[0] - counts[C_EVENTS] < 2:
        return Status.CAPACITY, RejectReason.NONE, 0.0, 0.0, 0.0
    e0 = counts[C_EVENTS]
    if qty <= _tol(rest):
        _emit(out_events, counts, EventKind.DELETE, side, old_px, rest, oid, ts, 0)
        remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
        _mark_last(out_events, counts, e0)
        return Status.OK, RejectReason.NONE, 0.0, 0.0, rest
    if px_tick == old_px and qty <= rest + _tol(rest):
        if qty < rest - _tol(rest):  # size down keeps priority
            _emit(out_events, counts, EventKind.CANCEL, side, old_px, rest - qty, oid, ts, 0)
            reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, rest - qty)
        _mark_last(out_events, counts, e0)
        return Status.OK, RejectReason.NONE, 0.0, qty, rest - qty if qty < rest else 0.0
    # price change or size up: cancel and re-enter at the back (may trade)
    if not _fits(pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
                 side, px_tick, qty, owner, stp):
        return Status.CAPACITY, RejectReason.NONE, 0.0, 0.0, 0.0
    _emit(out_events, counts, EventKind.DELETE, side, old_px, rest, oid, ts, 0)
    remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
    st, reason, filled, rested, cancelled = _submit_core(
        pool, levels, keys, slots, hkey, hslot, meta, fills, out_events, counts,
        oid, side, px_tick, qty, OrderType.LIMIT, TimeInForce.GTC, stp, post_reprice, owner, ts)
    _mark_last(out_events, counts, e0)
    extra = rest - qty if qty < rest else 0.0
    return st, reason, filled, rested, cancelled + extra


@njit(cache=True)
def best_px(pool, levels, keys, slots, hkey, hslot, meta, s):
    """Best price of side index ``s`` (0 when empty)."""
    n = meta[M_NLEV0 + s]
    if n == 0:
        return np.int64(0)
    return levels[slots[s, n - 1]]["px_tick"]
