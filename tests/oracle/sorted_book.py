"""First-version price-level book (sorted arrays per side): the test oracle of the L2 book.

Was ``qlib.book._kernels``. The library runs on :mod:`qlib.book._l2_kernels` (through
:mod:`qlib.book.nb` and :mod:`qlib.book.replay`); this book is kept, outside the library,
as the independent reference the L2 book is tested against
(``tests/parity/test_l2_parity.py``, ``tests/unit/book/test_l2.py``,
``tests/unit/data/test_lobster_resync.py``) and measured against
(``benchmarks/bench_l2.py``). Arrays in, status codes out. No pandas, no I/O.

Layout of the book state (see :mod:`qlib.book.replay` for the reasons):

* ``keys``: int64 ``(2, capacity)``; row 0 holds bid prices in ticks, row 1 holds the
  *negated* ask prices in ticks. Each row is sorted ascending over its first
  ``counts[side]`` entries, so the best level of either side is the last entry and the
  levels near the touch sit at the cheap-to-shift end of the array.
* ``qtys``: float64 ``(2, capacity)``, the quantity at each key (always > 0).
* ``counts``: int64 ``(2,)``, levels in use per side.
* ``orders``: numba typed ``Dict[uint64, (int64 side, int64 px_tick, float64 qty)]`` of
  the L3 orders resting in the book.
* ``stats``: int64 ``(_N_STATS,)`` counters (unknown order ids, clamped levels).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.enums import EventKind, Side, Status

#: Index of the unknown-order-id counter in ``stats``.
STAT_UNKNOWN_ORDER = 0
#: Index of the counter of levels clamped at zero by an unknown order's removal.
STAT_CLAMPED = 1
#: Length of ``stats``.
N_STATS = 2

#: Relative tolerance under which a level quantity counts as zero (float residue of
#: ``a - b`` on decimal quantities).
QTY_REL_EPS = 1e-9


@njit(cache=True, inline="always")
def _side_index(side):
    """0 for the bid side, 1 for the ask side, -1 for anything else."""
    if side == Side.BUY:
        return 0
    if side == Side.SELL:
        return 1
    return -1


@njit(cache=True, inline="always")
def _key(s, px_tick):
    """Sort key of a price on side index ``s`` (bids ascending, asks negated)."""
    return px_tick if s == 0 else -px_tick


@njit(cache=True)
def _lower_bound(keys, s, n, key):
    """First index in ``keys[s, :n]`` whose key is >= ``key``."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[s, mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _remove_at(keys, qtys, counts, s, i):
    n = counts[s]
    for j in range(i, n - 1):
        keys[s, j] = keys[s, j + 1]
        qtys[s, j] = qtys[s, j + 1]
    counts[s] = n - 1


@njit(cache=True)
def _insert_at(keys, qtys, counts, s, i, key, qty):
    n = counts[s]
    for j in range(n, i, -1):
        keys[s, j] = keys[s, j - 1]
        qtys[s, j] = qtys[s, j - 1]
    keys[s, i] = key
    qtys[s, i] = qty
    counts[s] = n + 1


@njit(cache=True)
def set_level(keys, qtys, counts, s, px_tick, qty):
    """Set the absolute quantity at ``px_tick`` on side index ``s``; ``qty <= 0`` removes it."""
    key = _key(s, px_tick)
    n = counts[s]
    i = _lower_bound(keys, s, n, key)
    found = i < n and keys[s, i] == key
    if qty > 0.0:
        if found:
            qtys[s, i] = qty
        else:
            _insert_at(keys, qtys, counts, s, i, key, qty)
    elif found:
        _remove_at(keys, qtys, counts, s, i)


@njit(cache=True)
def add_level(keys, qtys, counts, s, px_tick, dq, clamp, stats):
    """Add ``dq`` (may be negative) at ``px_tick``; return a Status.

    A result within ``QTY_REL_EPS`` of zero removes the level. A negative result is
    ``NEGATIVE_QTY`` unless ``clamp`` is true, when the level is removed and
    ``stats[STAT_CLAMPED]`` counts it.
    """
    key = _key(s, px_tick)
    n = counts[s]
    i = _lower_bound(keys, s, n, key)
    found = i < n and keys[s, i] == key
    old = qtys[s, i] if found else 0.0
    new = old + dq
    tol = QTY_REL_EPS * max(1.0, abs(old), abs(dq))
    if new < -tol:
        if not clamp:
            return Status.NEGATIVE_QTY
        stats[STAT_CLAMPED] += 1
        new = 0.0
    if new <= tol:
        if found:
            _remove_at(keys, qtys, counts, s, i)
    elif found:
        qtys[s, i] = new
    else:
        _insert_at(keys, qtys, counts, s, i, key, new)
    return Status.OK


@njit(cache=True)
def clear_side(counts, orders, s):
    """Empty side index ``s`` (both sides when ``s == -1``), with its L3 orders."""
    if s < 0:
        counts[0] = 0
        counts[1] = 0
        if len(orders) > 0:
            stale = [k for k in orders.keys()]
            for k in stale:
                orders.pop(k)
        return
    counts[s] = 0
    if len(orders) > 0:
        side = Side.BUY if s == 0 else Side.SELL
        stale = [k for k, v in orders.items() if v[0] == side]
        for k in stale:
            orders.pop(k)


@njit(cache=True)
def _remove_order_qty(keys, qtys, counts, orders, stats, oid, side, px_tick, qty, whole):
    """Take ``qty`` (or, when ``whole``, all that is left) off order ``oid``."""
    if oid in orders:
        o = orders[oid]
        s = _side_index(o[0])
        rest = o[2]
        take = rest if whole else qty
        tol = QTY_REL_EPS * max(1.0, rest)
        if take > rest + tol:
            return Status.NEGATIVE_QTY
        # Once an unknown id has been seen (an L2 snapshot under L3 messages, as in a
        # LOBSTER file that omits messages beyond its L levels) level totals are only
        # approximate: clamp and count instead of failing.
        st = add_level(keys, qtys, counts, s, o[1], -take,
                       stats[STAT_UNKNOWN_ORDER] > 0, stats)
        if st != Status.OK:
            return st
        left = rest - take
        if whole or left <= tol:
            orders.pop(oid)
        else:
            orders[oid] = (o[0], o[1], left)
        return Status.OK
    # Unknown id (an order resting before an L2 snapshot, as in LOBSTER): the event's
    # own price and quantity say what leaves the level.
    stats[STAT_UNKNOWN_ORDER] += 1
    s = _side_index(side)
    if s < 0:
        return Status.UNKNOWN_KIND
    if qty > 0.0:
        return add_level(keys, qtys, counts, s, px_tick, -qty, True, stats)
    return Status.OK


@njit(cache=True)
def apply_event(keys, qtys, counts, orders, stats, kind, side, px_tick, qty, oid):
    """Apply one event to the book; return a Status. See :func:`qlib.book.replay_bbo`."""
    if kind == EventKind.TRADE or kind == EventKind.QUOTE or kind >= EventKind.HALT:
        if kind > EventKind.TRADE_SUBTICK:
            return Status.UNKNOWN_KIND
        return Status.OK
    if not np.isfinite(qty):
        return Status.NON_FINITE
    if qty < 0.0:
        return Status.NEGATIVE_QTY
    if kind == EventKind.CLEAR:
        if side == Side.NONE:
            clear_side(counts, orders, -1)
        else:
            s = _side_index(side)
            if s < 0:
                return Status.UNKNOWN_KIND
            clear_side(counts, orders, s)
        return Status.OK
    s = _side_index(side)
    if kind == EventKind.DEPTH or (kind == EventKind.SNAPSHOT and oid == 0):
        if s < 0:
            return Status.UNKNOWN_KIND
        set_level(keys, qtys, counts, s, px_tick, qty)
        return Status.OK
    if kind == EventKind.ADD or kind == EventKind.SNAPSHOT:
        if s < 0:
            return Status.UNKNOWN_KIND
        if oid in orders:
            return Status.DUPLICATE_ORDER
        if qty > 0.0:
            orders[oid] = (np.int64(side), px_tick, qty)
            return add_level(keys, qtys, counts, s, px_tick, qty, False, stats)
        return Status.OK
    if kind == EventKind.CANCEL or kind == EventKind.EXECUTE:
        return _remove_order_qty(keys, qtys, counts, orders, stats, oid, side, px_tick, qty, False)
    if kind == EventKind.DELETE:
        return _remove_order_qty(keys, qtys, counts, orders, stats, oid, side, px_tick, qty, True)
    if kind == EventKind.MODIFY:
        if oid in orders:
            o = orders[oid]
            st = _remove_order_qty(keys, qtys, counts, orders, stats, oid, o[0], o[1], 0.0, True)
            if st != Status.OK:
                return st
            new_side = o[0] if s < 0 else np.int64(side)
        else:
            stats[STAT_UNKNOWN_ORDER] += 1
            if s < 0:
                return Status.UNKNOWN_KIND
            new_side = np.int64(side)
        if qty > 0.0:
            orders[oid] = (new_side, px_tick, qty)
            return add_level(keys, qtys, counts, _side_index(new_side), px_tick, qty, False, stats)
        return Status.OK
    return Status.UNKNOWN_KIND


@njit(cache=True)
def replay_bbo(events, start, keys, qtys, counts, orders, stats, out):
    """Replay ``events[start:]`` into the book, writing the BBO after each event into ``out``.

    See :func:`qlib.book.replay_bbo`. Returns ``(status, row)``: ``(OK, n)`` when every
    event was applied, else the first row not applied and why. ``CAPACITY`` means a
    side's arrays are full *before* ``row`` was touched: grow them and call again
    with ``start=row``.
    """
    cap = keys.shape[1]
    n = events.shape[0]
    for i in range(start, n):
        if counts[0] >= cap or counts[1] >= cap:
            return Status.CAPACITY, i
        ev = events[i]
        st = apply_event(keys, qtys, counts, orders, stats, ev["kind"], ev["side"],
                         ev["px_tick"], ev["qty"], ev["order_id"])
        if st != Status.OK:
            return st, i
        o = out[i]
        o["ts_exch"] = ev["ts_exch"]
        o["ts_local"] = ev["ts_local"]
        o["seq"] = ev["seq"]
        nb = counts[0]
        na = counts[1]
        if nb > 0:
            o["bid_px_tick"] = keys[0, nb - 1]
            o["bid_qty"] = qtys[0, nb - 1]
        else:
            o["bid_px_tick"] = 0
            o["bid_qty"] = 0.0
        if na > 0:
            o["ask_px_tick"] = -keys[1, na - 1]
            o["ask_qty"] = qtys[1, na - 1]
        else:
            o["ask_px_tick"] = 0
            o["ask_qty"] = 0.0
    return Status.OK, n
