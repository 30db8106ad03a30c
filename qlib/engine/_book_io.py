"""How the backtest loop reads and writes the L2 book (kernels only).

On price-level data the engine applies events with :func:`_apply_l2` instead of the
book's replay kernel: numba passes a call's array arguments flattened on the stack (a
push per word: ~130 of them for a replay call, measured ~150 ns a call), so the hot
path, a depth update inside the window, is written out here and inlined into the loop;
the cold paths (a level outside the window, the best removed with nothing near it,
clears and snapshots) call the book's kernels. Same semantics as
:func:`qlib.book._l2_kernels.replay`. The engine reads the book with the book's own
readers (``best_px``, ``level_qty``, ``top_levels``), compiled without reference counting
for this: a reference-counted kernel taking the book costs ~50 ns a call in its prologue
and epilogue (measured).
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


@njit(cache=True, _nrt=False)
def _mid2(book):
    """Twice the mid in ticks (an integer), or 0 when a side is empty."""
    bb, _ = _b.best_px(book, 1)
    ba, _ = _b.best_px(book, -1)
    if bb == 0 or ba == 0:
        return np.int64(0)
    return bb + ba


@njit(cache=True, _nrt=False)
def _apply_other_l2(book, kind, side, px_tick, qty, flags):
    """:func:`qlib.book._l2_kernels.apply_other` for price-level kinds only (no order map)."""
    if kind == _TRADE or kind == _QUOTE or kind >= EventKind.HALT:
        if kind > EventKind.TRADE_SUBTICK:
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
