r"""Convert event streams between book granularities: order-level (L3) to price-level (L2).

:func:`to_l2` turns any :data:`qlib.dtypes.EVENT_DTYPE` array (L3 messages, an L2
stream, or a mix) into an L2 stream: ``DEPTH`` events carrying the absolute quantity
of each price level an event changes, and ``TRADE`` prints. It is what an L2-only
consumer (hftbacktest's L2 exchange models, an L2 venue simulator) needs from an L3
source such as LOBSTER, Databento MBO or :func:`qlib.data.simulate`.

Output rules, per input event (``ts_exch``/``ts_local``/``seq`` copied unchanged):

* ``ADD`` / ``CANCEL`` / ``DELETE`` / ``EXECUTE`` / ``MODIFY`` / ``DEPTH`` / ``SNAPSHOT``:
  one ``DEPTH`` event per price level whose quantity changed, with the level's new
  absolute quantity (``0.0`` when the level is gone). A ``MODIFY`` that moves an
  order can change two levels: the old level is written first, then the new one.
  An event that changes no level (a ``DEPTH`` repeating the current quantity, a zero
  ``qty`` ``ADD``) writes nothing.
* ``EXECUTE``: first a ``TRADE`` (``side`` = aggressor = minus the resting order's
  side, ``qty`` and ``px_tick`` of the execution), *then* the ``DEPTH`` update the
  execution causes. This is the order an L2 venue publishes (trade print, then the
  depth diff) and the order hftbacktest's queue models expect: the trade advances the
  queue position, and the following depth decrease is not counted twice
  (``ProbQueueModel`` subtracts the trade quantity it has seen at the level).
* ``TRADE``: passed through, except prints flagged ``EventFlag.SUMMARY`` (their
  quantity is already in the ``EXECUTE`` records of the same exchange event, which
  become ``TRADE`` events here): they are dropped unless ``keep_summary=True``. So
  the trade count and volume of the output equal those of the ``EXECUTE`` records
  plus the non-summary ``TRADE`` prints of the input.
* ``CLEAR``: passed through as ``CLEAR`` (same side); a ``SNAPSHOT`` becomes
  ``DEPTH`` (with the ``EventFlag.SNAPSHOT`` bit kept).
* ``QUOTE``, ``HALT``, ``RESUME_QUOTING``, ``RESUME_TRADING``: passed through (they do
  not change a book).

Flags are copied from the input event without ``EventFlag.LAST``; ``LAST`` is set on
the last output row of an input event that had it, or, when that event wrote no row
(a dropped summary print), on the previous output row if it does not already end an
exchange event. So replaying the output and reading the book at ``LAST`` rows gives
the book of the input at its ``LAST`` rows.

Unknown L3 order ids (orders resting before an L2 snapshot, as in LOBSTER) follow the
book semantics of :mod:`qlib.book.replay`: the level change is read from the book
before and after the event, so clamped levels come out as the quantity the L2 book
actually holds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book import _l2_kernels as _k
from qlib.book.l2 import DEFAULT_WINDOW, grow, new_l2_book, new_orders, raise_status
from qlib.dtypes import EVENT_DTYPE, require_dtype
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import DataQualityError, SchemaError
from qlib.instrument import Instrument

__all__ = ["to_l2"]

_LAST = np.uint8(EventFlag.LAST)
_NOT_LAST = np.uint8(0xFF ^ int(EventFlag.LAST))
_SUMMARY = np.uint8(EventFlag.SUMMARY)
_SNAP = np.uint8(EventFlag.SNAPSHOT)


@njit(cache=True)
def _put(out, n, ev, kind, side, px_tick, qty, flags):
    o = out[n]
    o["ts_exch"] = ev["ts_exch"]
    o["ts_local"] = ev["ts_local"]
    o["seq"] = ev["seq"]
    o["px_tick"] = px_tick
    o["qty"] = qty
    o["order_id"] = 0
    o["kind"] = kind
    o["side"] = side
    o["flags"] = flags


@njit(cache=True)
def _to_l2_kernel(events, start, book, orders, out, n_out, src_end, keep_summary):
    """Convert ``events[start:]`` into ``out[n_out:]``; see :func:`qlib.book.convert.to_l2`.

    Returns ``(status, row, n_out)``. ``CAPACITY``: the book's overflow needs growing
    before ``row`` (nothing of it applied); grow and call again from ``row``.
    ``src_end[i]`` receives the output length after input row ``i``.
    """
    lim = book.ovf_key.shape[1] - book.win.shape[1] - 2
    for i in range(start, events.shape[0]):
        if book.hdr[0, _k.H_NOVF] > lim or book.hdr[1, _k.H_NOVF] > lim:
            return Status.CAPACITY, i, n_out
        ev = events[i]
        kind = ev["kind"]
        side = ev["side"]
        px = ev["px_tick"]
        qty = ev["qty"]
        oid = ev["order_id"]
        flags = ev["flags"]
        fl = flags & _NOT_LAST
        n0 = n_out
        if kind == EventKind.TRADE:
            if keep_summary or (flags & _SUMMARY) == 0:
                _put(out, n_out, ev, EventKind.TRADE, side, px, qty, fl)
                n_out += 1
        elif kind == EventKind.QUOTE or (kind >= EventKind.HALT
                                          and kind <= EventKind.TRADE_SUBTICK):
            o = out[n_out]
            o["ts_exch"] = ev["ts_exch"]
            o["ts_local"] = ev["ts_local"]
            o["seq"] = ev["seq"]
            o["px_tick"] = px
            o["qty"] = qty
            o["order_id"] = 0
            o["kind"] = kind
            o["side"] = side
            o["flags"] = fl
            n_out += 1
        elif kind == EventKind.CLEAR:
            st = _k.apply_event(book, orders, ev)
            if st != Status.OK:
                return st, i, n_out
            _put(out, n_out, ev, EventKind.CLEAR, side, 0, 0.0, fl)
            n_out += 1
        else:
            # candidate levels: (side a, px a) always, (side b, px b) for a moving MODIFY
            sa = np.int64(side)
            pa = px
            sb = np.int64(0)
            pb = np.int64(0)
            known = (kind == EventKind.CANCEL or kind == EventKind.EXECUTE
                     or kind == EventKind.DELETE or kind == EventKind.MODIFY) and oid in orders
            if known:
                o3 = orders[oid]
                sa = o3[0]
                pa = o3[1]
                if kind == EventKind.MODIFY:
                    sb = sa if side == Side.NONE else np.int64(side)
                    pb = px
                    if sb == sa and pb == pa:
                        sb = 0
            elif kind == EventKind.MODIFY and side == Side.NONE:
                sa = 0  # apply_event rejects it below
            qa0 = _k.level_qty(book, sa, pa)
            qb0 = _k.level_qty(book, sb, pb)
            st = _k.apply_event(book, orders, ev)
            if st != Status.OK:
                return st, i, n_out
            if kind == EventKind.EXECUTE and qty > 0.0:
                _put(out, n_out, ev, EventKind.TRADE, -sa, pa, qty, fl)
                n_out += 1
            fd = fl
            if kind == EventKind.SNAPSHOT:
                fd = fl | _SNAP
            if sa != 0:
                qa1 = _k.level_qty(book, sa, pa)
                if qa1 != qa0:
                    _put(out, n_out, ev, EventKind.DEPTH, sa, pa, qa1, fd)
                    n_out += 1
            if sb != 0:
                qb1 = _k.level_qty(book, sb, pb)
                if qb1 != qb0:
                    _put(out, n_out, ev, EventKind.DEPTH, sb, pb, qb1, fd)
                    n_out += 1
        # LAST on this event's last row, else on the previous row if it ends no event yet
        if (flags & _LAST) != 0 and (
                n_out > n0 or (n_out > 0 and (out[n_out - 1]["flags"] & _LAST) == 0)):
            out[n_out - 1]["flags"] |= _LAST
        src_end[i] = n_out
    return Status.OK, events.shape[0], n_out


def _max_rows(events: np.ndarray) -> int:
    """Upper bound of output rows: one per input row, two for EXECUTE and MODIFY."""
    kind = events["kind"]
    extra = np.count_nonzero((kind == EventKind.EXECUTE) | (kind == EventKind.MODIFY))
    return int(events.shape[0] + extra)


def to_l2(
    events: np.ndarray,
    *,
    instrument: Instrument | None = None,
    keep_summary: bool = False,
    return_index: bool = False,
    window: int = DEFAULT_WINDOW,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Convert an event array (L3, L2 or mixed) into an L2 stream of DEPTH and TRADE events.

    Parameters
    ----------
    events
        :data:`qlib.dtypes.EVENT_DTYPE` array in venue sequence order (or a
        :class:`qlib.data.MarketData`, whose ``events`` are used).
    instrument
        The events' instrument; only named in error messages (``MarketData`` brings its own).
    keep_summary
        Keep ``TRADE`` prints flagged ``EventFlag.SUMMARY`` (default: drop them, as the
        ``EXECUTE`` records they summarise already become trades; keeping both counts
        the volume twice).
    return_index
        Also return ``src_end`` (int64, one per input row): the output length after the
        input row was converted, so the book after ``events[i]`` is the book after
        ``out[src_end[i] - 1]`` (the empty book when ``src_end[i] == 0``).
    window
        Window width of the internal :class:`qlib.book.L2Book` (a tuning knob only).

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        The L2 stream (:data:`qlib.dtypes.EVENT_DTYPE`; kinds ``DEPTH``, ``TRADE``,
        ``CLEAR`` and the passed-through ``QUOTE``/``HALT``/``RESUME_*``;
        ``order_id == 0``), and ``src_end`` when ``return_index``. The rules, including
        the order "trade before the depth update it causes", are in the module docstring.

    Raises
    ------
    SchemaError
        If ``events`` is not an EVENT_DTYPE array.
    DataQualityError
        On the first event the book cannot apply (negative or non-finite quantity, a
        duplicate L3 order id, an unknown kind or side, a crossed snapshot); the
        message names the row and the instrument.

    Examples
    --------
    >>> from qlib.dtypes import empty_events
    >>> ev = empty_events(3)
    >>> ev["kind"] = [EventKind.ADD, EventKind.ADD, EventKind.EXECUTE]
    >>> ev["side"] = [1, 1, 1]; ev["px_tick"] = 100; ev["qty"] = [5.0, 3.0, 2.0]
    >>> ev["order_id"] = [1, 2, 1]
    >>> l2 = to_l2(ev)
    >>> [(EventKind(k).name, int(s), float(q)) for k, s, q in l2[["kind", "side", "qty"]]]
    [('DEPTH', 1, 5.0), ('DEPTH', 1, 8.0), ('TRADE', -1, 2.0), ('DEPTH', 1, 6.0)]
    """
    md_events = getattr(events, "events", None)
    if md_events is not None and not isinstance(events, np.ndarray):
        instrument = instrument if instrument is not None else getattr(events, "instrument", None)
        events = md_events
    require_dtype(events, EVENT_DTYPE, name="events")
    if instrument is not None and not isinstance(instrument, Instrument):
        raise SchemaError(f"instrument must be a qlib Instrument or None, was "
                          f"{type(instrument).__name__}")
    events = np.ascontiguousarray(events)
    out = np.zeros(_max_rows(events), dtype=EVENT_DTYPE)
    src_end = np.zeros(events.shape[0], dtype=np.int64)
    book = new_l2_book(window)
    orders = new_orders()
    row, n_out = 0, 0
    while True:
        status, row, n_out = _to_l2_kernel(events, row, book, orders, out, n_out, src_end,
                                           bool(keep_summary))
        if status != Status.CAPACITY:
            break
        book = grow(book)
    if status != Status.OK:
        try:
            raise_status(events, status, row)
        except DataQualityError as exc:
            where = f" ({instrument.instrument_id})" if instrument is not None else ""
            raise DataQualityError(f"to_l2{where}: {exc}", row=int(row)) from None
    l2 = out[:n_out].copy()
    if return_index:
        return l2, src_end
    return l2
