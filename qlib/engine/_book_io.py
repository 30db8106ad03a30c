"""How the backtest loop reads and writes the L2 book (kernels only).

On price-level data the engine applies events with :func:`_apply_l2` instead of the
book's replay kernel: numba passes a call's array arguments flattened on the stack (a
push per word: ~130 of them for a replay call, measured ~150 ns a call), so the hot
path, a depth update inside the window, is written out here and inlined into the loop;
the cold paths (a level outside the window, the best removed with nothing near it,
clears and snapshots) call the book's kernels. Same semantics as
:func:`qlib.book._l2_kernels.replay`. The readers (:func:`_best`, :func:`_level`,
:func:`_top`) are compiled without reference counting: a reference-counted kernel taking
the book costs ~50 ns a call in its prologue and epilogue (measured).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book import _l2_kernels as _b
from qlib.engine._consts import (
    _CLEAR,
    _DEPTH,
    _LAST_FLAG,
    _OK,
    _QUOTE,
    _SNAPSHOT,
    _TRADE,
)
from qlib.enums import (
    EventKind,
    Status,
)

_replay = _b.replay
_apply_one = _b.apply_other


@njit(cache=True, _nrt=False)
def _best(book, s):
    """``(px_tick, qty)`` of the best level of side index ``s``; ``(0, 0.0)`` when empty."""
    k = book.hdr[s, _b.H_BEST]
    if k == _b.EMPTY:
        return np.int64(0), 0.0
    q = book.win[s, k & (book.win.shape[1] - 1)]
    return (k if s == 0 else -k), q

@njit(cache=True, _nrt=False)
def _level(book, side, px_tick):
    """Quantity at ``px_tick`` on ``side`` (+1 bid, -1 ask); 0.0 when there is no level."""
    s = 0 if side > 0 else 1
    key = px_tick if side > 0 else -px_tick
    w = book.win.shape[1]
    off = key - book.hdr[s, _b.H_LO]
    if off >= 0 and off < w:
        return book.win[s, key & (w - 1)]
    if off < 0:
        n = book.hdr[s, _b.H_NOVF]
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if book.ovf_key[s, mid] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < n and book.ovf_key[s, lo] == key:
            return book.ovf_qty[s, lo]
    return 0.0

@njit(cache=True, _nrt=False)
def _top(book, s, levels, out_px, out_qty):
    """The ``levels`` best levels of side index ``s`` into ``out_px[0, s]``/``out_qty[0, s]``."""
    win = book.win
    mask = win.shape[1] - 1
    k = book.hdr[s, _b.H_BEST]
    j = 0
    if k != _b.EMPTY:
        lo = book.hdr[s, _b.H_LO]
        sign = 1 if s == 0 else -1
        while j < levels and k >= lo:
            q = win[s, k & mask]
            if q != 0.0:
                out_px[0, s, j] = sign * k
                out_qty[0, s, j] = q
                j += 1
            k -= 1
        i = book.hdr[s, _b.H_NOVF] - 1
        while j < levels and i >= 0:
            out_px[0, s, j] = sign * book.ovf_key[s, i]
            out_qty[0, s, j] = book.ovf_qty[s, i]
            j += 1
            i -= 1
    return j

@njit(cache=True, _nrt=False)
def _mid2(book):
    """Twice the mid in ticks (an integer), or 0 when a side is empty."""
    bb, _ = _best(book, 0)
    ba, _ = _best(book, 1)
    if bb == 0 or ba == 0:
        return np.int64(0)
    return bb + ba

@njit(cache=True, _nrt=False)
def _apply_other_l2(book, kind, side, px_tick, qty, flags):
    """:func:`qlib.book._l2_kernels.apply_other` for price-level kinds only (no order map)."""
    if kind == _TRADE or kind == _QUOTE or kind >= EventKind.HALT:
        if kind > EventKind.RESUME_TRADING:
            return np.int64(Status.UNKNOWN_KIND)
        return np.int64(_OK)
    if not np.isfinite(qty):
        return np.int64(Status.NON_FINITE)
    if qty < 0.0:
        return np.int64(Status.NEGATIVE_QTY)
    if kind == _CLEAR:
        if side == 0:
            _b.clear_side(book, 0)
            _b.clear_side(book, 1)
        elif side == 1:
            _b.clear_side(book, 0)
        elif side == -1:
            _b.clear_side(book, 1)
        else:
            return np.int64(Status.UNKNOWN_KIND)
        return np.int64(_OK)
    if kind == _DEPTH or kind == _SNAPSHOT:
        if side == 1:
            _b.set_level(book, 0, px_tick, qty)
        elif side == -1:
            _b.set_level(book, 1, -px_tick, qty)
        else:
            return np.int64(Status.UNKNOWN_KIND)
        if kind == _SNAPSHOT and (flags & _LAST_FLAG) != 0:
            bb = book.hdr[0, _b.H_BEST]
            ba = book.hdr[1, _b.H_BEST]
            if bb != _b.EMPTY and ba != _b.EMPTY and bb >= -ba:
                return np.int64(Status.CROSSED)
        return np.int64(_OK)
    return np.int64(Status.UNKNOWN_KIND)

@njit(cache=True, _nrt=False, inline="always")
def _apply_l2(book, e):
    """Apply one price-level event to ``book``; return a Status (inlined: see above)."""
    kind = e["kind"]
    if kind == _DEPTH:
        q = e["qty"]
        side = np.int64(e["side"])
        if not ((q >= 0.0) & (q < np.inf) & (side * side == 1)):
            if q < 0.0:
                return np.int64(Status.NEGATIVE_QTY)
            if not (q < np.inf):
                return np.int64(Status.NON_FINITE)
            return np.int64(Status.UNKNOWN_KIND)
        s = (1 - side) >> 1
        key = e["px_tick"] * side
        win = book.win
        hdr = book.hdr
        w = win.shape[1]
        off = key - hdr[s, _b.H_LO]
        best = hdr[s, _b.H_BEST]
        if off >= 0 and off < w:
            win[s, key & (w - 1)] = q
            if key >= best:
                if q > 0.0:
                    if best == _b.EMPTY:
                        _b.set_level(book, s, key, q)  # first level: centre the window
                    else:
                        hdr[s, _b.H_BEST] = key
                elif key == best:
                    lo = hdr[s, _b.H_LO]
                    nb = key - 1
                    while nb >= lo and win[s, nb & (w - 1)] == 0.0:
                        nb -= 1
                    if nb - lo >= (w >> 3):
                        hdr[s, _b.H_BEST] = nb
                    else:
                        _b.set_level(book, s, key, q)  # the cold search of the book
        else:
            _b.set_level(book, s, key, q)
        return np.int64(_OK)
    if kind == _TRADE:
        return np.int64(_OK)
    return _apply_other_l2(book, np.int64(kind), np.int64(e["side"]), e["px_tick"], e["qty"],
                           e["flags"])

@njit(cache=True, _nrt=False, inline="always")
def _apply_range_fast(ev, a, b, book, orders, no_bbo, no_rows, no_px, no_qty):
    """:func:`_apply_range` for price-level data, inline (the L2 variant's ``_apply_range``).

    The caller guarantees overflow room (``_book_room``) for ``b - a`` events.
    """
    for i in range(a, b):
        st = _apply_l2(book, ev[i])
        if st != _OK:
            return st, i
    return np.int64(_OK), b

@njit(cache=True, _nrt=False)
def _book_room(book, extra):
    """True when both overflows can take a full window plus ``extra`` more levels."""
    lim = book.ovf_key.shape[1] - 2 * book.win.shape[1] - 2 - extra
    return book.hdr[0, _b.H_NOVF] <= lim and book.hdr[1, _b.H_NOVF] <= lim

@njit(cache=True)
def _apply_range(ev, a, b, book, orders, no_bbo, no_rows, no_px, no_qty):
    """Apply ``ev[a:b]`` to a book with the flat replay kernel; ``(status, row)``."""
    if b <= a:
        return _OK, b
    st, row, _ = _replay(ev, a, b, book, orders, no_bbo, no_rows, 0, no_px, no_qty)
    return st, row
