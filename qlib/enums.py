"""Enumerations shared by every layer of qlib.

This is the only module that defines code values. All enums are
:class:`enum.IntEnum`, so numba kernels can use them as integer constants
(``EventKind.ADD`` compiles to the literal 1) and structured arrays store them in
small integer fields.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = ["EventKind", "Side", "EventFlag", "Status"]


class EventKind(IntEnum):
    """What a row of :data:`qlib.dtypes.EVENT_DTYPE` describes.

    Order-level (L3) kinds carry an ``order_id``; price-level (L2) kinds carry the
    absolute quantity resting at ``px_tick``.

    Attributes
    ----------
    ADD
        L3: a new visible limit order ``order_id`` rests at ``px_tick`` with ``qty``.
    CANCEL
        L3: partial cancel; ``qty`` is the quantity *removed* from ``order_id``.
    DELETE
        L3: ``order_id`` leaves the book entirely (``qty`` is what it had left,
        when the source says so).
    EXECUTE
        L3: the resting visible order ``order_id`` traded ``qty`` at ``px_tick``;
        ``side`` is the resting order's side, so the aggressor is ``-side``.
    MODIFY
        L3: ``order_id`` now rests at ``px_tick`` with remaining ``qty``
        (absolute values, as Databento's ``M`` action).
    TRADE
        A trade print that does not by itself change the book: an L2 venue's trade
        stream, an execution against hidden liquidity, an auction cross. ``side`` is
        the aggressor's side (``Side.NONE`` when unknown).
    DEPTH
        L2: the absolute quantity resting at ``px_tick`` on ``side`` is now ``qty``;
        ``qty == 0`` removes the level.
    SNAPSHOT
        L2 or L3 snapshot level/order (absolute quantity). A snapshot is preceded by
        a ``CLEAR`` of the side(s) it replaces.
    CLEAR
        Remove every level/order on ``side`` (both sides when ``Side.NONE``).
    QUOTE
        Best bid or offer published by the venue (``side`` says which); it does not
        change a reconstructed book and serves as a cross-check.
    HALT
        Trading halted (LOBSTER type 7 with price -1).
    RESUME_QUOTING
        Quoting resumes, trading not yet (LOBSTER type 7 with price 0).
    RESUME_TRADING
        Trading resumes (LOBSTER type 7 with price 1).
    """

    ADD = 1
    CANCEL = 2
    DELETE = 3
    EXECUTE = 4
    MODIFY = 5
    TRADE = 6
    DEPTH = 7
    SNAPSHOT = 8
    CLEAR = 9
    QUOTE = 10
    HALT = 11
    RESUME_QUOTING = 12
    RESUME_TRADING = 13


class Side(IntEnum):
    """Book side or aggressor side; ``BUY`` is the bid side."""

    SELL = -1
    NONE = 0
    BUY = 1


class EventFlag(IntFlag):
    """Bit flags in the ``flags`` field of an event.

    Attributes
    ----------
    LAST
        Last record of one exchange event (a message, a diff, a CME packet event):
        the book is consistent only after a record carrying this bit.
    SNAPSHOT
        The record belongs to an initial or recovery snapshot.
    HIDDEN
        Execution against hidden (non-displayed) liquidity.
    AUCTION
        Auction or cross trade.
    TS_LOCAL_SYNTH
        ``ts_local`` was not in the source and was derived (set equal to
        ``ts_exch`` plus any configured feed latency).
    BAD_TS_LOCAL
        The source marks the receive time as unreliable (Databento
        ``F_BAD_TS_RECV``).
    SUMMARY
        A ``TRADE`` print that summarises the ``EXECUTE`` records of the same
        exchange event (one print per aggressive order, as the simulated market
        emits): its quantity is already in those records, so count volume from
        one or the other, never both.
    RESYNC
        An L2 correction (``DEPTH`` with the absolute level quantity) that the loader
        derived from a source's own book view for a change its message stream omits
        (a LOBSTER file holds only messages that touch its first L levels, so orders
        moving in from deeper levels appear in the orderbook file only).
    """

    NONE = 0
    LAST = 1
    SNAPSHOT = 2
    HIDDEN = 4
    AUCTION = 8
    TS_LOCAL_SYNTH = 16
    BAD_TS_LOCAL = 32
    SUMMARY = 64
    RESYNC = 128


class Status(IntEnum):
    """Return codes of numba kernels; the Python wrapper turns them into errors."""

    OK = 0
    UNSORTED = 1
    NON_FINITE = 2
    NEGATIVE_QTY = 3
    CROSSED = 4
    UNKNOWN_ORDER = 5
    DUPLICATE_ORDER = 6
    UNKNOWN_KIND = 7
    OFF_GRID = 8
    CAPACITY = 9
    SEQUENCE_GAP = 10
