"""How the backtest loop reads and writes the L2 book (kernels only).

On price-level data the engine applies events with :func:`_apply_l2` instead of the
book's replay kernel, so that the hot path, a depth update, is inlined into the loop
(:func:`qlib.book.nb.set_level_inline`); the other kinds call the book's kernels. Same
semantics as :func:`qlib.book.nb.replay`. The book is only touched through
:mod:`qlib.book.nb`. Why inlining pays: ``benchmarks/RESULTS.md``, issue 11.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book import nb as _b
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
    """The book's ``apply_other`` for price-level kinds only (no order map)."""
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
        if kind == _SNAPSHOT and (flags & _LAST_FLAG) != 0 and _b.is_crossed(book):
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
        _b.set_level_inline(book, (1 - side) >> 1, e["px_tick"] * side, q)
        return np.int64(_OK)
    if kind == _TRADE:
        return np.int64(_OK)
    return _apply_other_l2(book, np.int64(kind), np.int64(e["side"]), e["px_tick"], e["qty"],
                           e["flags"])


@njit(cache=True, _nrt=False, inline="always")
def _apply_range_l2(ev, a, b, book, orders, no_bbo, no_rows, no_px, no_qty):
    """Apply ``ev[a:b]`` (price-level kinds only) to a book, inline; ``(status, row)``.

    The L2 loop's replay (:func:`qlib.engine._loop.make_loop`).
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
    return _b.overflow_room(book, extra)


@njit(cache=True)
def _apply_range_l3(ev, a, b, book, orders, no_bbo, no_rows, no_px, no_qty):
    """Apply ``ev[a:b]`` (any kind; ``orders`` is the order map) to a book with the book's
    replay kernel; ``(status, row)``. The L3 loop's replay."""
    if b <= a:
        return _OK, b
    st, row, _ = _b.replay(ev, a, b, book, orders, no_bbo, no_rows, 0, no_px, no_qty)
    return st, row
