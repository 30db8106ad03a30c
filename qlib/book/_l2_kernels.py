"""Numba kernels of the windowed price-level (L2) book. No pandas, no I/O.

Public wrappers: :mod:`qlib.book.l2` (the book, :func:`qlib.book.replay_l2`,
:func:`qlib.book.level_qty`), :mod:`qlib.book.depth` (:func:`qlib.book.depth_snapshots`)
and :mod:`qlib.book.replay` (:func:`qlib.book.replay_bbo` and friends). The design and
its measurements are in the :mod:`qlib.book.l2` module docstring.

State (:class:`qlib.book.l2.L2Book`, a NamedTuple of arrays, so kernels take it as one
argument). Prices are handled as *keys*: ``key = px_tick`` on the bid side (index 0)
and ``key = -px_tick`` on the ask side (index 1), so on both sides a larger key is a
better price and the best level is the largest key.

* ``win``: float64 ``(2, W)``, ``W`` a power of two: a dense ring of level quantities
  for the keys ``lo <= key < lo + W`` of each side, slot ``key & (W - 1)``; 0.0 means
  "no level".
* ``ovf_key`` / ``ovf_qty``: int64 / float64 ``(2, cap)``: the levels below the window
  (``key < lo``), sorted ascending over the first ``hdr[s, H_NOVF]`` entries, so the
  level nearest the window is last.
* ``hdr``: int64 ``(2, N_HDR)``: ``H_LO`` (window start key), ``H_BEST`` (best key;
  ``EMPTY`` when the side is empty), ``H_NOVF`` (overflow levels in use).
* ``stats``: int64 ``(N_STATS,)`` counters.

Invariants: a non-empty side has its best level inside the window; no level lies
above the window (it would be better than the best); every level below the window is
in the overflow; a stored quantity is > 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from qlib.dtypes import BBO_DTYPE
from qlib.enums import EventFlag, EventKind, Side, Status

#: Header columns.
H_LO = 0
H_BEST = 1
H_NOVF = 2
N_HDR = 3

#: Best key of an empty side.
EMPTY = np.iinfo(np.int64).min

#: ``stats`` indexes: unknown L3 order ids; levels clamped at zero by an unknown
#: order's removal; window moves toward better prices; window moves toward worse prices.
STAT_UNKNOWN_ORDER = 0
STAT_CLAMPED = 1
STAT_RECENTRE_UP = 2
STAT_RECENTRE_DOWN = 3
N_STATS = 4

#: Relative tolerance under which an L3-aggregated level counts as empty (float
#: residue of ``a - b`` on decimal quantities); same as the test oracle ``tests/oracle/sorted_book.py``.
QTY_REL_EPS = 1e-9

_LAST = np.uint8(EventFlag.LAST)
_INF = np.inf


# ------------------------------------------------------------------ window geometry
@njit(cache=True, inline="always")
def _room_above(w):
    """Empty keys kept above the best after a re-centre (W/8)."""
    return w >> 3


@njit(cache=True, inline="always")
def _low_mark(w):
    """A best this close to the window start moves the window down (W/8)."""
    return w >> 3


# ------------------------------------------------------------------ overflow (sorted)
def _row_move(a, s, dst, src, count):
    """Move ``a[s, src:src + count]`` to ``a[s, dst:dst + count]`` (ranges may overlap).

    Plain Python (``.py_func``, ``NUMBA_DISABLE_JIT=1``) copies through numpy; jitted code
    gets one ``llvm.memmove`` (the overload below): an element-by-element shift loop is
    not vectorised by LLVM (0.44 ns per element per array; memmove runs at cache bandwidth).
    """
    if count > 0:
        a[s, dst:dst + count] = a[s, src:src + count].copy()


@intrinsic
def _memmove_row(typingctx, a, s, dst, src, count):
    if not (isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C"):
        return None
    sig = types.none(a, s, dst, src, count)

    def codegen(context, builder, sig, args):
        aty = sig.args[0]
        ary = context.make_array(aty)(context, builder, value=args[0])
        shape = cgutils.unpack_tuple(builder, ary.shape)
        strides = cgutils.unpack_tuple(builder, ary.strides)
        si, di, ri, ci = [context.cast(builder, v, t, types.intp)
                          for v, t in zip(args[1:], sig.args[1:])]
        pd = cgutils.get_item_pointer2(context, builder, ary.data, shape, strides,
                                       aty.layout, [si, di])
        ps = cgutils.get_item_pointer2(context, builder, ary.data, shape, strides,
                                       aty.layout, [si, ri])
        cgutils.raw_memmove(builder, pd, ps, ci, context.get_abi_sizeof(
            context.get_data_type(aty.dtype)))
        return context.get_dummy_value()

    return sig, codegen


@overload(_row_move, inline="always")
def _row_move_jit(a, s, dst, src, count):
    def impl(a, s, dst, src, count):
        if count > 0:
            _memmove_row(a, s, dst, src, count)
    return impl

@njit(cache=True, _nrt=False)
def _ovf_find(ovf_key, s, n, key):
    """First index in ``ovf_key[s, :n]`` whose key is >= ``key`` (bisection)."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if ovf_key[s, mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, _nrt=False)
def _ovf_get(book, s, key):
    n = book.hdr[s, H_NOVF]
    i = _ovf_find(book.ovf_key, s, n, key)
    if i < n and book.ovf_key[s, i] == key:
        return book.ovf_qty[s, i]
    return 0.0


@njit(cache=True)
def _ovf_set(book, s, key, q):
    """Set the quantity of a level below the window; ``q == 0`` removes it."""
    ok = book.ovf_key
    oq = book.ovf_qty
    n = book.hdr[s, H_NOVF]
    i = _ovf_find(ok, s, n, key)
    found = i < n and ok[s, i] == key
    if q > 0.0:
        if found:
            oq[s, i] = q
        else:
            _row_move(ok, s, i + 1, i, n - i)
            _row_move(oq, s, i + 1, i, n - i)
            ok[s, i] = key
            oq[s, i] = q
            book.hdr[s, H_NOVF] = n + 1
    elif found:
        _row_move(ok, s, i, i + 1, n - 1 - i)
        _row_move(oq, s, i, i + 1, n - 1 - i)
        book.hdr[s, H_NOVF] = n - 1


# ------------------------------------------------------------------ window moves
@njit(cache=True)
def _move_up(book, s, new_lo):
    """Move the window of side ``s`` to start at ``new_lo > lo``; levels left below go to
    the overflow (they are above every overflow level, so they are appended in order)."""
    win = book.win
    w = win.shape[1]
    mask = w - 1
    lo = book.hdr[s, H_LO]
    stop = min(new_lo, lo + w)
    n = book.hdr[s, H_NOVF]
    best = book.hdr[s, H_BEST]
    if best != EMPTY:
        top = min(stop, best + 1)  # no level lies above the best
        for k in range(lo, top):
            slot = k & mask
            q = win[s, slot]
            if q != 0.0:
                book.ovf_key[s, n] = k
                book.ovf_qty[s, n] = q
                n += 1
                win[s, slot] = 0.0
    book.hdr[s, H_NOVF] = n
    book.hdr[s, H_LO] = new_lo
    book.stats[STAT_RECENTRE_UP] += 1


@njit(cache=True)
def _move_down(book, s, new_lo):
    """Move the window of side ``s`` to start at ``new_lo < lo``; the overflow levels
    now inside it (the last ones) move into the ring. The keys the window gives up at
    its top hold no level (they are above the best)."""
    win = book.win
    mask = win.shape[1] - 1
    n = book.hdr[s, H_NOVF]
    while n > 0 and book.ovf_key[s, n - 1] >= new_lo:
        n -= 1
        win[s, book.ovf_key[s, n] & mask] = book.ovf_qty[s, n]
    book.hdr[s, H_NOVF] = n
    book.hdr[s, H_LO] = new_lo
    book.stats[STAT_RECENTRE_DOWN] += 1


@njit(cache=True)
def _insert_outside(book, s, key, q):
    """Cold path of :func:`set_level`: a level ``q > 0`` at a key outside the window."""
    w = book.win.shape[1]
    lo = book.hdr[s, H_LO]
    best = book.hdr[s, H_BEST]
    if key < lo and best != EMPTY:
        _ovf_set(book, s, key, q)
        return
    # above the window, or the side is empty: the new level is the new best
    target = w - 1 - _room_above(w)
    new_lo = key - target
    if best == EMPTY:
        book.hdr[s, H_LO] = new_lo
    elif new_lo > lo:
        _move_up(book, s, new_lo)
    book.win[s, key & (w - 1)] = q
    book.hdr[s, H_BEST] = key


@njit(cache=True)
def _set_outside(book, s, key, q):
    """Cold path: set a level whose key lies outside the window."""
    if q > 0.0:
        _insert_outside(book, s, key, q)
    elif key < book.hdr[s, H_LO]:
        _ovf_set(book, s, key, 0.0)


@njit(cache=True)
def _best_removed(book, s, key):
    """Cold path of :func:`set_level`: the best level ``key`` was removed; find the next."""
    win = book.win
    w = win.shape[1]
    mask = w - 1
    lo = book.hdr[s, H_LO]
    k = key - 1
    while k >= lo and win[s, k & mask] == 0.0:
        k -= 1
    n = book.hdr[s, H_NOVF]
    if k < lo:
        if n == 0:
            book.hdr[s, H_BEST] = EMPTY
            return
        k = book.ovf_key[s, n - 1]
    book.hdr[s, H_BEST] = k
    if k - lo < _low_mark(w) and n > 0:
        _move_down(book, s, k - (w - 1 - _room_above(w)))


# ------------------------------------------------------------------ level access
@njit(cache=True)
def set_level(book, s, key, q):
    """Set the absolute quantity ``q >= 0`` at ``key`` on side index ``s``; 0 removes.

    The replay loop (:func:`replay`) repeats the in-window branch inline; this is
    the version the other event kinds call.
    """
    win = book.win
    hdr = book.hdr
    w = win.shape[1]
    off = key - hdr[s, H_LO]
    if off >= 0 and off < w:
        win[s, key & (w - 1)] = q
        best = hdr[s, H_BEST]
        if q > 0.0:
            if key > best:
                if best == EMPTY:
                    _insert_outside(book, s, key, q)  # first level: centre the window
                else:
                    hdr[s, H_BEST] = key
        elif key == best:
            _best_removed(book, s, key)
    elif q > 0.0:
        _insert_outside(book, s, key, q)
    elif off < 0:
        _ovf_set(book, s, key, 0.0)


@njit(cache=True, _nrt=False)
def get_level(book, s, key):
    """Quantity at ``key`` on side index ``s`` (0.0 when there is no level)."""
    w = book.win.shape[1]
    off = key - book.hdr[s, H_LO]
    if off >= 0 and off < w:
        return book.win[s, key & (w - 1)]
    if off < 0:
        return _ovf_get(book, s, key)
    return 0.0


@njit(cache=True)
def add_level(book, s, key, dq, clamp):
    """Add ``dq`` (may be negative) at ``key``; return a Status.

    A result within ``QTY_REL_EPS`` of zero removes the level. A negative result is
    ``NEGATIVE_QTY`` unless ``clamp`` is true, when the level is removed and
    ``stats[STAT_CLAMPED]`` counts it.
    """
    old = get_level(book, s, key)
    new = old + dq
    tol = QTY_REL_EPS * max(1.0, abs(old), abs(dq))
    if new < -tol:
        if not clamp:
            return Status.NEGATIVE_QTY
        book.stats[STAT_CLAMPED] += 1
        new = 0.0
    if new <= tol:
        new = 0.0
    set_level(book, s, key, new)
    return Status.OK


@njit(cache=True)
def clear_side(book, s):
    """Empty side index ``s`` of the price levels."""
    best = book.hdr[s, H_BEST]
    if best != EMPTY:
        win = book.win
        mask = win.shape[1] - 1
        for k in range(book.hdr[s, H_LO], best + 1):
            win[s, k & mask] = 0.0
    book.hdr[s, H_BEST] = EMPTY
    book.hdr[s, H_NOVF] = 0


@njit(cache=True)
def reset(book):
    """Empty both sides and zero the counters (a new book without allocating)."""
    book.win[:] = 0.0
    book.hdr[:, H_LO] = 0
    book.hdr[:, H_BEST] = EMPTY
    book.hdr[:, H_NOVF] = 0
    book.stats[:] = 0


@njit(cache=True, _nrt=False)
def level_qty(book, side, px_tick):
    """Quantity resting at ``px_tick`` on ``side`` (``Side.BUY``/``SELL``); 0.0 if none.

    See :func:`qlib.book.level_qty`.
    """
    if side == Side.BUY:
        return get_level(book, 0, px_tick)
    if side == Side.SELL:
        return get_level(book, 1, -px_tick)
    return 0.0


@njit(cache=True, _nrt=False)
def best_px(book, side):
    """``(px_tick, qty)`` of the best level of ``side``; ``(0, 0.0)`` when empty."""
    s = 0 if side == Side.BUY else 1
    k = book.hdr[s, H_BEST]
    if k == EMPTY:
        return np.int64(0), 0.0
    q = book.win[s, k & (book.win.shape[1] - 1)]
    return (k if s == 0 else -k), q


@njit(cache=True)
def n_levels(book, s):
    """Number of levels on side index ``s``."""
    best = book.hdr[s, H_BEST]
    n = book.hdr[s, H_NOVF]
    if best == EMPTY:
        return n
    win = book.win
    mask = win.shape[1] - 1
    for k in range(book.hdr[s, H_LO], best + 1):
        if win[s, k & mask] != 0.0:
            n += 1
    return n


@njit(cache=True, _nrt=False)
def top_levels(book, s, levels, out_px, out_qty, row):
    """Write the ``levels`` best levels of side ``s`` into ``out_px[row, s, :]`` and
    ``out_qty[row, s, :]`` (prices in ticks); missing levels are ``(0, 0.0)``.
    Returns the number of levels written."""
    win = book.win
    mask = win.shape[1] - 1
    k = book.hdr[s, H_BEST]
    j = 0
    if k != EMPTY:
        lo = book.hdr[s, H_LO]
        sign = 1 if s == 0 else -1
        while j < levels and k >= lo:
            q = win[s, k & mask]
            if q != 0.0:
                out_px[row, s, j] = sign * k
                out_qty[row, s, j] = q
                j += 1
            k -= 1
        i = book.hdr[s, H_NOVF] - 1
        while j < levels and i >= 0:
            out_px[row, s, j] = sign * book.ovf_key[s, i]
            out_qty[row, s, j] = book.ovf_qty[s, i]
            j += 1
            i -= 1
    got = j
    while j < levels:
        out_px[row, s, j] = 0
        out_qty[row, s, j] = 0.0
        j += 1
    return got


@njit(cache=True)
def side_levels(book, s, out_px, out_qty):
    """Every level of side index ``s``, best first, into ``out_px``/``out_qty`` (sized by
    :func:`n_levels`); prices in ticks. Returns the count."""
    win = book.win
    mask = win.shape[1] - 1
    k = book.hdr[s, H_BEST]
    sign = 1 if s == 0 else -1
    j = 0
    if k != EMPTY:
        lo = book.hdr[s, H_LO]
        while k >= lo:
            q = win[s, k & mask]
            if q != 0.0:
                out_px[j] = sign * k
                out_qty[j] = q
                j += 1
            k -= 1
        for i in range(book.hdr[s, H_NOVF] - 1, -1, -1):
            out_px[j] = sign * book.ovf_key[s, i]
            out_qty[j] = book.ovf_qty[s, i]
            j += 1
    return j


# ------------------------------------------------------------------ events
@njit(cache=True)
def clear_orders(orders, side):
    """Drop the L3 orders of ``side`` (every order for ``Side.NONE``)."""
    if len(orders) == 0:
        return
    if side == Side.NONE:
        stale = [k for k in orders]
    else:
        stale = [k for k, v in orders.items() if v[0] == side]
    for k in stale:
        orders.pop(k)


@njit(cache=True)
def _remove_order_qty(book, orders, oid, side, px_tick, qty, whole):
    """Take ``qty`` (or, when ``whole``, all that is left) off L3 order ``oid``."""
    if oid in orders:
        o = orders[oid]
        s = 0 if o[0] == Side.BUY else 1
        key = o[1] if s == 0 else -o[1]
        rest = o[2]
        take = rest if whole else qty
        tol = QTY_REL_EPS * max(1.0, rest)
        if take > rest + tol:
            return Status.NEGATIVE_QTY
        # Once an unknown id has been seen (an L2 snapshot under L3 messages, as in a
        # LOBSTER file) level totals are only approximate: clamp and count.
        st = add_level(book, s, key, -take, book.stats[STAT_UNKNOWN_ORDER] > 0)
        if st != Status.OK:
            return st
        left = rest - take
        if whole or left <= tol:
            orders.pop(oid)
        else:
            orders[oid] = (o[0], o[1], left)
        return Status.OK
    # Unknown id (an order resting before an L2 snapshot): the event's own side, price
    # and quantity say what leaves the level.
    book.stats[STAT_UNKNOWN_ORDER] += 1
    if side == Side.BUY:
        s = 0
    elif side == Side.SELL:
        s = 1
    else:
        return Status.UNKNOWN_KIND
    if qty > 0.0:
        return add_level(book, s, px_tick if s == 0 else -px_tick, -qty, True)
    return Status.OK


@njit(cache=True)
def apply_other(book, orders, kind, side, px_tick, qty, oid, flags):
    """Apply one event of any kind (:func:`replay` writes the in-window ``DEPTH``
    update inline and calls this for the rest); return a Status. Semantics: :mod:`qlib.book.replay`."""
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
            clear_side(book, 0)
            clear_side(book, 1)
        elif side == Side.BUY:
            clear_side(book, 0)
        elif side == Side.SELL:
            clear_side(book, 1)
        else:
            return Status.UNKNOWN_KIND
        clear_orders(orders, side)
        return Status.OK
    if side == Side.BUY:
        s = 0
        key = px_tick
    elif side == Side.SELL:
        s = 1
        key = -px_tick
    else:
        s = -1
        key = 0
    st = Status.OK
    if kind == EventKind.DEPTH or (kind == EventKind.SNAPSHOT and oid == 0):
        if s < 0:
            return Status.UNKNOWN_KIND
        set_level(book, s, key, qty)
    elif kind == EventKind.ADD or kind == EventKind.SNAPSHOT:
        if s < 0:
            return Status.UNKNOWN_KIND
        if oid in orders:
            return Status.DUPLICATE_ORDER
        if qty > 0.0:
            st = add_level(book, s, key, qty, False)
            if st == Status.OK:
                orders[oid] = (np.int64(side), px_tick, qty)
    elif kind == EventKind.CANCEL or kind == EventKind.EXECUTE:
        st = _remove_order_qty(book, orders, oid, side, px_tick, qty, False)
    elif kind == EventKind.DELETE:
        st = _remove_order_qty(book, orders, oid, side, px_tick, qty, True)
    elif kind == EventKind.MODIFY:
        if oid in orders:
            o = orders[oid]
            st = _remove_order_qty(book, orders, oid, o[0], o[1], 0.0, True)
            if st != Status.OK:
                return st
            new_side = o[0] if s < 0 else np.int64(side)
        else:
            book.stats[STAT_UNKNOWN_ORDER] += 1
            if s < 0:
                return Status.UNKNOWN_KIND
            new_side = np.int64(side)
        if qty > 0.0:
            ns = 0 if new_side == Side.BUY else 1
            st = add_level(book, ns, px_tick if ns == 0 else -px_tick, qty, False)
            if st == Status.OK:
                orders[oid] = (new_side, px_tick, qty)
    else:
        return Status.UNKNOWN_KIND
    if st == Status.OK and kind == EventKind.SNAPSHOT and (flags & _LAST) != 0:
        bb = book.hdr[0, H_BEST]
        ba = book.hdr[1, H_BEST]
        if bb != EMPTY and ba != EMPTY and bb >= -ba:
            return Status.CROSSED
    return st


@njit(cache=True)
def apply_event(book, orders, ev):
    """Apply one event record ``ev`` (any kind); return a Status."""
    return apply_other(book, orders, ev["kind"], ev["side"], ev["px_tick"], ev["qty"],
                       ev["order_id"], ev["flags"])


@njit(cache=True)
def replay(events, start, stop, book, orders, out_bbo, rows, k, out_px, out_qty):
    """Apply ``events[start:stop]``; the one per-event loop of the L2 book.

    ``out_bbo`` (:data:`qlib.dtypes.BBO_DTYPE`, length ``len(events)`` or 0): when not
    empty, the BBO after each event goes to ``out_bbo[i]``. ``rows`` (sorted, unique
    event indexes) with ``out_px``/``out_qty`` ``(len(rows), 2, N)``: after event
    ``rows[k]`` the top ``N`` levels per side (index 0 bid, 1 ask; prices in ticks;
    missing levels ``(0, 0.0)``) go to ``out_px[k]``/``out_qty[k]`` and ``k`` advances.

    Returns ``(status, row, k)``: ``(OK, stop, k)`` when every event was applied,
    else the first row not applied (or, for a data error, the row that failed) and
    why. ``CAPACITY`` means an overflow lacks room for a full window *before* ``row``
    was touched: grow it (:func:`qlib.book.l2.grow`) and call again from ``row``.

    Performance: the ``DEPTH`` update inside the window and below it (the overflow)
    is written out flat here. A jitted helper taking the book (or its arrays) inlined
    into this loop costs a reference-count pair per array per event (measured
    18-55 ns/event against 1.5 ns flat); the cold paths are ordinary calls, paid only
    when taken. ``CAPACITY`` is tested only on the paths that can grow an overflow.
    """
    win = book.win
    hdr = book.hdr
    okey = book.ovf_key
    oqty = book.ovf_qty
    w = win.shape[1]
    mask = w - 1
    lim = okey.shape[1] - w - 2
    low = _low_mark(w)
    write_bbo = out_bbo.shape[0] > 0
    m = rows.shape[0]
    nxt = rows[k] if k < m else -1
    # one predictable compare per event for both outputs: nothing to write before ``gate``
    gate = -1 if write_bbo else (nxt if nxt >= 0 else stop)
    for i in range(start, stop):
        ev = events[i]
        kind = ev["kind"]
        if kind == EventKind.DEPTH:
            q = ev["qty"]
            side = ev["side"]
            # one branch for every check (bitwise, not short-circuit: measured 1 ns/event
            # less than three branches)
            if not ((q >= 0.0) & (q < _INF) & (side * side == 1)):
                if q < 0.0:
                    return Status.NEGATIVE_QTY, i, k
                if not (q < _INF):
                    return Status.NON_FINITE, i, k
                return Status.UNKNOWN_KIND, i, k
            # branch-free side: BUY (1) -> index 0, key px; SELL (-1) -> index 1, key -px
            # (sides alternate unpredictably in a diff stream: a branch here mispredicts)
            s = (1 - side) >> 1
            key = ev["px_tick"] * side
            off = key - hdr[s, H_LO]
            best = hdr[s, H_BEST]
            if off >= 0 and off < w:  # LLVM folds this into one unsigned compare
                win[s, key & mask] = q
                if key >= best:  # rare: at or above the best level
                    # (a branch, not a select: storing the best on every event makes a
                    # store-to-load chain across events, measured 1.6 ns/event slower)
                    if q > 0.0:
                        if best == EMPTY:
                            _insert_outside(book, s, key, q)  # first level: centre the window
                        else:
                            hdr[s, H_BEST] = key
                    elif key == best:
                        # the best emptied: scan the ring down inline (a call costs
                        # ~60 ns); the cold helper handles "none left in the window"
                        # and the move of a window whose best got too near its start
                        lo = hdr[s, H_LO]
                        nb = key - 1
                        while nb >= lo and win[s, nb & mask] == 0.0:
                            nb -= 1
                        if nb - lo >= low:
                            hdr[s, H_BEST] = nb
                        else:
                            _best_removed(book, s, key)
            elif off < 0 and best != EMPTY:
                # below the window: the sorted overflow, written out here (a call
                # passing the book costs ~60 ns). Branch-free lower bound: the first
                # index whose key is >= key.
                n = hdr[s, H_NOVF]
                base = 0
                length = n
                while length > 1:
                    half = length >> 1
                    base = base + half if okey[s, base + half] < key else base
                    length -= half
                j = base
                if n > 0 and okey[s, j] < key:
                    j += 1
                if j < n and okey[s, j] == key:
                    if q > 0.0:
                        oqty[s, j] = q
                    else:
                        _row_move(okey, s, j, j + 1, n - 1 - j)
                        _row_move(oqty, s, j, j + 1, n - 1 - j)
                        hdr[s, H_NOVF] = n - 1
                elif q > 0.0:
                    if n > lim:
                        return Status.CAPACITY, i, k
                    _row_move(okey, s, j + 1, j, n - j)
                    _row_move(oqty, s, j + 1, j, n - j)
                    okey[s, j] = key
                    oqty[s, j] = q
                    hdr[s, H_NOVF] = n + 1
            else:
                if hdr[s, H_NOVF] > lim:
                    return Status.CAPACITY, i, k
                _set_outside(book, s, key, q)
        elif kind == EventKind.TRADE or kind == EventKind.QUOTE or (
                kind >= EventKind.HALT and kind <= EventKind.TRADE_SUBTICK):
            pass  # no change to the book (written here: a call costs ~60 ns, see above)
        else:
            if hdr[0, H_NOVF] > lim or hdr[1, H_NOVF] > lim:
                return Status.CAPACITY, i, k
            st = apply_other(book, orders, kind, ev["side"], ev["px_tick"], ev["qty"],
                             ev["order_id"], ev["flags"])
            if st != Status.OK:
                return st, i, k
        if i >= gate and write_bbo:
            o = out_bbo[i]
            o["ts_exch"] = ev["ts_exch"]
            o["ts_local"] = ev["ts_local"]
            o["seq"] = ev["seq"]
            kb = hdr[0, H_BEST]
            ka = hdr[1, H_BEST]
            if kb != EMPTY:
                o["bid_px_tick"] = kb
                o["bid_qty"] = win[0, kb & mask]
            else:
                o["bid_px_tick"] = 0
                o["bid_qty"] = 0.0
            if ka != EMPTY:
                o["ask_px_tick"] = -ka
                o["ask_qty"] = win[1, ka & mask]
            else:
                o["ask_px_tick"] = 0
                o["ask_qty"] = 0.0
        if i >= gate and i == nxt:
            top_levels(book, 0, out_px.shape[2], out_px, out_qty, k)
            top_levels(book, 1, out_px.shape[2], out_px, out_qty, k)
            k += 1
            nxt = rows[k] if k < m else -1
            gate = -1 if write_bbo else (nxt if nxt >= 0 else stop)
    return Status.OK, stop, k


_BBO = BBO_DTYPE


@njit(cache=True)
def apply_events(events, start, book, orders):
    """Apply ``events[start:]`` with no per-event output; ``(status, row)`` as
    :func:`replay`. See :func:`qlib.book.replay_l2`."""
    st, row, _ = replay(events, start, events.shape[0], book, orders, np.empty(0, dtype=_BBO),
                        np.empty(0, dtype=np.int64), 0, np.empty((0, 2, 1), dtype=np.int64),
                        np.empty((0, 2, 1), dtype=np.float64))
    return st, row


# ------------------------------------------------------------------ for other layers' loops
# Re-exported by :mod:`qlib.book.nb`: what a loop outside this package (the backtest
# engine) needs to update and read the book without touching ``hdr`` or ``win`` itself.


@njit(cache=True, _nrt=False, inline="always")
def set_level_inline(book, s, key, q):
    """:func:`set_level` with its common case written out, for inlining into a hot loop.

    Same result as :func:`set_level`. The in-window update, and the removal of the best
    level when another level lies within the top eighth of the window below it, are done
    here; everything else (a key outside the window, the first level of a side, the
    best removed with no level near it) calls :func:`set_level`.
    """
    win = book.win
    hdr = book.hdr
    w = win.shape[1]
    off = key - hdr[s, H_LO]
    best = hdr[s, H_BEST]
    if off >= 0 and off < w:
        win[s, key & (w - 1)] = q
        if key >= best:
            if q > 0.0:
                if best == EMPTY:
                    set_level(book, s, key, q)  # first level: centre the window
                else:
                    hdr[s, H_BEST] = key
            elif key == best:
                lo = hdr[s, H_LO]
                nb = key - 1
                while nb >= lo and win[s, nb & (w - 1)] == 0.0:
                    nb -= 1
                if nb - lo >= (w >> 3):
                    hdr[s, H_BEST] = nb
                else:
                    set_level(book, s, key, q)  # the cold search of the book
    else:
        set_level(book, s, key, q)


@njit(cache=True, _nrt=False)
def overflow_room(book, extra):
    """True when both sides' overflows can take a full window plus ``extra`` more levels."""
    lim = book.ovf_key.shape[1] - 2 * book.win.shape[1] - 2 - extra
    return book.hdr[0, H_NOVF] <= lim and book.hdr[1, H_NOVF] <= lim


@njit(cache=True, _nrt=False)
def is_crossed(book):
    """True when both sides hold a level and the best bid is at or above the best ask."""
    bb = book.hdr[0, H_BEST]
    ba = book.hdr[1, H_BEST]
    return bb != EMPTY and ba != EMPTY and bb >= -ba


@njit(cache=True, _nrt=False, inline="always")
def level_below(book, s, key, floor):
    """``(key, qty)`` of the best level of side index ``s`` with ``floor <= key' < key``.

    Walks a side level by level from the touch outward: start from the best key
    (``px_tick`` of :func:`best_px` on the bid, ``-px_tick`` on the ask) and pass each
    returned key back in; ``floor`` bounds the walk (the deepest key of interest, or
    :data:`EMPTY` for the whole side). Returns ``(EMPTY, 0.0)`` when there is no such
    level. In the window the walk reads one slot per key down to ``floor``; below the
    window it is one bisection of the overflow. Inlined: a call passing the book costs
    more than a short walk.
    """
    best = book.hdr[s, H_BEST]
    if best == EMPTY:
        return EMPTY, 0.0
    win = book.win
    mask = win.shape[1] - 1
    lo = book.hdr[s, H_LO]
    k = key - 1
    if k > best:
        k = best
    stop = max(lo, floor)
    while k >= stop:
        q = win[s, k & mask]
        if q != 0.0:
            return k, q
        k -= 1
    if k >= lo:  # stopped at the floor, inside the window
        return EMPTY, 0.0
    n = book.hdr[s, H_NOVF]
    i = _ovf_find(book.ovf_key, s, n, min(key, lo)) - 1
    if i >= 0 and book.ovf_key[s, i] >= floor:
        return book.ovf_key[s, i], book.ovf_qty[s, i]
    return EMPTY, 0.0
