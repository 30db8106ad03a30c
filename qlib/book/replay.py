r"""Replay events into a price-level book and read its best bid and offer.

One kernel (:func:`qlib.book._l2_kernels.replay`) applies an
:data:`qlib.dtypes.EVENT_DTYPE` array to the L2 book of :mod:`qlib.book.l2` and records
the best bid and ask after every event; :func:`replay_book`, :func:`replay_bbo`,
:func:`count_crossed` and :func:`bbo` wrap it. The book semantics below are shared by
:func:`qlib.book.replay_l2` and :func:`qlib.book.depth_snapshots`.

Book semantics by :class:`qlib.enums.EventKind`
-----------------------------------------------
* ``DEPTH`` and ``SNAPSHOT`` with ``order_id == 0`` (L2): set the absolute quantity at
  ``px_tick`` on ``side``; ``qty == 0`` removes the level (also when it is absent).
* ``CLEAR``: empty ``side`` and its L3 orders (both sides and every order for ``Side.NONE``).
* ``ADD`` and ``SNAPSHOT`` with ``order_id != 0`` (L3): a new order, its ``qty`` added to
  its level and remembered in an order map ``order_id -> (side, px_tick, qty)``.
* ``CANCEL`` / ``EXECUTE``: ``qty`` leaves the order and its level.
* ``DELETE``: the order's remaining quantity leaves its level (the event's own ``qty``
  is not needed for a known order).
* ``MODIFY``: the order's remaining quantity leaves its old level; it now rests at the
  event's ``px_tick`` with the event's absolute ``qty`` (Databento ``M``).
* ``TRADE``, ``QUOTE``, ``HALT``, ``RESUME_*``: no change to the book.

An L3 event naming an order id the map does not hold (LOBSTER: orders resting before
the L2 start-of-day snapshot) is counted as an *unknown order* and applied through the
event's own side, price and quantity: ``CANCEL``/``EXECUTE``/``DELETE`` subtract
``qty`` at ``px_tick``, clamping the level at zero (the clamps are counted too), and
``MODIFY`` adds the order. Neither is an error; both counts are returned by
:func:`replay_book`.

Impossible input stops the replay with a :class:`qlib.enums.Status`, raised by the
wrappers as :class:`qlib.errors.DataQualityError` naming the row:

* ``NEGATIVE_QTY``: a negative event ``qty``, or a known order losing more than it
  has (beyond a relative tolerance of :math:`10^{-9}`, under which a level counts as
  empty);
* ``NON_FINITE``: a NaN or infinite ``qty``;
* ``DUPLICATE_ORDER``: ``ADD`` of an order id already resting;
* ``UNKNOWN_KIND``: an unknown kind, or a book-changing event whose ``side`` is not
  ``BUY``/``SELL`` (``CLEAR`` alone may use ``Side.NONE``).

Snapshots: a ``SNAPSHOT`` record flagged ``EventFlag.LAST`` ends a snapshot; if the
book is then crossed or locked (best bid >= best ask, both sides present) the replay
stops with ``CROSSED``.

Data structure
--------------
Since the "jitted order books" work these wrappers run on the windowed L2 book of
:mod:`qlib.book.l2` (a dense ring of ``W`` ticks around the touch per side, the far
levels in a sorted overflow; its docstring has the design and the measurements). The
first version's sorted array per side is kept as the test oracle
``tests/oracle/sorted_book.py`` (it measured 171 ns/event on the Binance COIN-M session;
``benchmarks/bench_l2.py`` compares the two). Results are identical: same levels,
same statuses, same counters.

References
----------
.. [1] Binance (2024). How to manage a local order book correctly. Binance Spot and
   Derivatives API documentation, "Diff. Depth Stream".
.. [2] Huang, R. and Polak, T. (2011). LOBSTER: Limit Order Book Reconstruction
   System. SSRN 1977207.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qlib.book import _l2_kernels as _k
from qlib.book.l2 import DEFAULT_WINDOW, grow, new_l2_book, new_orders, raise_status
from qlib.data.market_data import MarketData
from qlib.dtypes import BBO_DTYPE, EVENT_DTYPE, require_dtype
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import ParameterError, SchemaError

__all__ = ["BOOK_KINDS", "BookReplay", "bbo", "count_crossed", "replay_bbo", "replay_book"]

#: Kinds that can change a price-level book (all others leave it as it is).
BOOK_KINDS = np.array(
    [EventKind.ADD, EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE, EventKind.MODIFY,
     EventKind.DEPTH, EventKind.SNAPSHOT, EventKind.CLEAR],
    dtype=np.uint8,
)


@dataclass
class BookReplay:
    """What :func:`replay_book` returns.

    Attributes
    ----------
    bbo
        :data:`qlib.dtypes.BBO_DTYPE` array, one row per event: the book after it.
    bid_levels, ask_levels
        Final book: ``(px_tick int64, qty float64)`` arrays, best level first.
    orders_resting
        L3 orders resting at the end.
    unknown_orders
        L3 events naming an order id that was not resting (applied by their own
        price and quantity; see the module notes).
    clamped_levels
        Levels an unknown order's removal would have taken below zero (set to zero).
    """

    bbo: np.ndarray
    bid_levels: tuple[np.ndarray, np.ndarray]
    ask_levels: tuple[np.ndarray, np.ndarray]
    orders_resting: int
    unknown_orders: int
    clamped_levels: int


_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_PX = np.zeros((0, 2, 1), dtype=np.int64)
_NO_QTY = np.zeros((0, 2, 1), dtype=np.float64)


def _new_orders():
    """Empty L3 order map (kept for callers of the first-version kernels)."""
    return new_orders()


def replay_book(events: np.ndarray, *, window: int = DEFAULT_WINDOW) -> BookReplay:
    """Replay events into a price-level book; return the BBO after each and the final book.

    Parameters
    ----------
    events
        :data:`qlib.dtypes.EVENT_DTYPE` array in venue sequence order.
    window
        Width in ticks of the L2 book's dense window (:mod:`qlib.book.l2`); tuning
        only, the result does not depend on it.

    Returns
    -------
    BookReplay

    Raises
    ------
    SchemaError
        If ``events`` is not an EVENT_DTYPE array.
    DataQualityError
        On the first impossible event (see the module notes for the statuses).
    """
    require_dtype(events, EVENT_DTYPE, name="events")
    n = int(events.shape[0])
    book = new_l2_book(window)
    orders = new_orders()
    out = np.zeros(n, dtype=BBO_DTYPE)
    row = 0
    while True:
        status, row, _ = _k.replay(events, row, n, book, orders, out, _NO_ROWS, 0, _NO_PX,
                                   _NO_QTY)
        if status != Status.CAPACITY:
            break
        book = grow(book)
    if status != Status.OK:
        raise_status(events, status, row)
    return BookReplay(
        bbo=out,
        bid_levels=book.levels(Side.BUY),
        ask_levels=book.levels(Side.SELL),
        orders_resting=len(orders),
        unknown_orders=int(book.stats[_k.STAT_UNKNOWN_ORDER]),
        clamped_levels=int(book.stats[_k.STAT_CLAMPED]),
    )


def replay_bbo(events: np.ndarray) -> np.ndarray:
    """Replay events into a price-level book and return the BBO after every event.

    Parameters
    ----------
    events
        :data:`qlib.dtypes.EVENT_DTYPE` array in venue sequence order.

    Returns
    -------
    numpy.ndarray
        :data:`qlib.dtypes.BBO_DTYPE` array of the same length as ``events``: row
        ``i`` is the book after ``events[i]``, prices in ticks; an empty side has
        ``qty == 0`` and ``px_tick == 0``. Rows inside a multi-record exchange event
        (before its ``EventFlag.LAST`` record) show a partly applied book.

    Raises
    ------
    SchemaError, DataQualityError
        As :func:`replay_book`.

    Examples
    --------
    >>> from qlib.dtypes import empty_events
    >>> ev = empty_events(2)
    >>> ev["kind"] = EventKind.DEPTH; ev["side"] = [1, -1]; ev["px_tick"] = [99, 101]
    >>> ev["qty"] = [2.0, 3.0]
    >>> b = replay_bbo(ev)
    >>> int(b["bid_px_tick"][-1]), int(b["ask_px_tick"][-1])
    (99, 101)
    """
    return replay_book(events).bbo


def _consistent_rows(events: np.ndarray, at_last_only: bool) -> np.ndarray:
    """Mask of rows after which the book is a consistent venue state."""
    mask = np.isin(events["kind"], BOOK_KINDS)
    if at_last_only:
        mask &= (events["flags"] & EventFlag.LAST) != 0
    return mask


def count_crossed(events: np.ndarray, *, at_last_only: bool = True) -> tuple[int, int]:
    """Count the rows after which the rebuilt book is crossed or locked.

    Parameters
    ----------
    events
        :data:`qlib.dtypes.EVENT_DTYPE` array in venue sequence order.
    at_last_only
        Count only after book-changing events flagged ``EventFlag.LAST`` (the end
        of an exchange event; inside a Binance diff the book can cross transiently).
        When False, after every book-changing event.

    Returns
    -------
    tuple of int
        ``(crossed, locked)``: rows with both sides present and best bid > best
        ask, and with best bid == best ask.

    Raises
    ------
    SchemaError, DataQualityError
        As :func:`replay_book`.
    """
    b = replay_bbo(events)[_consistent_rows(events, at_last_only)]
    both = (b["bid_qty"] > 0) & (b["ask_qty"] > 0)
    crossed = int(np.count_nonzero(both & (b["bid_px_tick"] > b["ask_px_tick"])))
    locked = int(np.count_nonzero(both & (b["bid_px_tick"] == b["ask_px_tick"])))
    return crossed, locked


def bbo(data: MarketData, *, at_last_only: bool = True, source: str = "auto") -> pd.DataFrame:
    """Return the best bid and offer of the rebuilt book after each book change.

    Parameters
    ----------
    data
        Market data (its instrument converts ticks to prices).
    at_last_only
        Keep only rows after book-changing events flagged ``EventFlag.LAST`` (a
        consistent book); when False, a row after every book-changing event.

    Returns
    -------
    pandas.DataFrame
        Columns ``ts_exch`` (``datetime64[ns, UTC]``), ``bid_px``, ``bid_qty``,
        ``ask_px``, ``ask_qty`` (float64, prices in the instrument's currency),
        indexed by the event row. NaN-free: rows where either side of the book is
        empty (before both sides exist, after a ``CLEAR``) are left out, and their
        number is in ``df.attrs["rows_one_sided"]``.

    Raises
    ------
    SchemaError
        If ``data`` is not a MarketData.
    DataQualityError
        As :func:`replay_book`.
    """
    if not isinstance(data, MarketData):
        raise SchemaError(f"data must be a MarketData, was {type(data).__name__}")
    if not isinstance(at_last_only, (bool, np.bool_)):
        raise ParameterError(f"at_last_only must be a bool, was {at_last_only!r}")
    if source not in ("auto", "book", "quotes"):
        raise ParameterError(f"source must be 'auto', 'book' or 'quotes', was {source!r}")
    ev = data.events
    if source == "quotes" or (source == "auto" and not np.isin(ev["kind"], BOOK_KINDS).any()):
        rows, b = _bbo_from_quotes(ev, bool(at_last_only))
    else:
        rows = np.flatnonzero(_consistent_rows(ev, bool(at_last_only)))
        b = replay_bbo(ev)[rows]
    both = (b["bid_qty"] > 0) & (b["ask_qty"] > 0)
    b, rows = b[both], rows[both]
    inst = data.instrument
    df = pd.DataFrame(
        {
            "ts_exch": pd.to_datetime(b["ts_exch"], unit="ns", utc=True),
            "bid_px": inst.to_price(b["bid_px_tick"]),
            "bid_qty": b["bid_qty"],
            "ask_px": inst.to_price(b["ask_px_tick"]),
            "ask_qty": b["ask_qty"],
        },
        index=pd.Index(rows, name="row"),
    )
    df.attrs["rows_one_sided"] = int(np.count_nonzero(~both))
    return df


def _bbo_from_quotes(events: np.ndarray, at_last_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Best bid/offer from ``QUOTE`` events, each side carried forward; see :func:`bbo`."""
    is_quote = events["kind"] == EventKind.QUOTE
    rows = np.flatnonzero(is_quote)
    q = events[rows]
    out = np.zeros(len(rows), dtype=BBO_DTYPE)
    out["ts_exch"], out["ts_local"], out["seq"] = q["ts_exch"], q["ts_local"], q["seq"]
    for side, px_col, qty_col in ((Side.BUY, "bid_px_tick", "bid_qty"),
                                  (Side.SELL, "ask_px_tick", "ask_qty")):
        mine = q["side"] == side
        # index of the latest quote of this side at or before each row (-1: none yet)
        last = np.maximum.accumulate(np.where(mine, np.arange(len(q)), -1)) if len(q) else mine
        seen = last >= 0
        out[px_col][seen] = q["px_tick"][last[seen]]
        out[qty_col][seen] = q["qty"][last[seen]]
    if at_last_only:
        keep = (q["flags"] & EventFlag.LAST) != 0
        rows, out = rows[keep], out[keep]
    return rows, out
