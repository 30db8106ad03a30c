"""Load LOBSTER message + orderbook files into a :class:`~qlib.data.MarketData`.

LOBSTER (Limit Order Book System - The Efficient Reconstructor) publishes NASDAQ
TotalView-ITCH days as two headerless CSV files per ticker, day and depth ``L``:

* ``TICKER_DATE_START_END_message_L.csv``: one row per event that changed the book
  within its first ``L`` price levels (``time, type, order_id, size, price, direction``);
* ``TICKER_DATE_START_END_orderbook_L.csv``: row ``i`` is the book after message ``i``,
  ``4L`` columns ``ask_price_k, ask_size_k, bid_price_k, bid_size_k`` for ``k = 1..L``.

Both files are streamed in blocks through ``pyarrow.csv`` (never materialised as
whole tables, file handling in :mod:`qlib.data._lobster_io`), and numba kernels turn
each block into events and, from the orderbook file, into the L2 corrections that
keep a replay of the events equal to LOBSTER's book. Prices stay in LOBSTER's unit
($0.0001) until every price has been seen; then the tick is inferred (or taken from
the caller or the registry) and one pass turns them into ticks. Several days load
as one :class:`~qlib.data.MarketData` with one session each; see :func:`load_lobster`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from qlib.data import _lobster_kernels as _k
from qlib.data._lobster_book import (
    Resync,
    book_before_first_message,
    gcd_of,
    note_resync,
    scan_orderbook,
    write_snapshot,
)
from qlib.data._lobster_io import (
    ASK_EMPTY,
    BID_EMPTY,
    PRICE_SCALE,
    INT,
    NS,
    QUIRK_ROUNDED,
    Layout,
    LobsterFiles,
    Member,
    count_rows,
    find_days,
    find_off_grid_row,
    member_exists,
    message_error,
    read_blocks,
    read_orderbook_head,
    sniff,
)
from qlib.data.infer import GridGuess, infer_step_scaled
from qlib.data.instruments import resolve as resolve_instrument
from qlib.data.market_data import MarketData, check_events, concat_sessions
from qlib.data.report import ValidationReport
from qlib.dtypes import SUBTICK_SCALE, empty_events
from qlib.enums import EventFlag, EventKind, Status
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["ASK_EMPTY", "BID_EMPTY", "LOBSTER_TIMEZONE", "LOBSTER_VENUE", "QUIRKS",
           "load_lobster"]

#: Time zone of LOBSTER's ``time`` column (seconds after midnight, NASDAQ local time).
LOBSTER_TIMEZONE = "America/New_York"
#: Venue of the instrument id ``TICKER.NASDAQ`` the loader gives LOBSTER data.
LOBSTER_VENUE = "NASDAQ"
#: ISO 10383 MIC of the Nasdaq Stock Market, whose registry row gives the venue defaults.
LOBSTER_MIC = "XNAS"
#: Facts the format states (LOBSTER's ReadMe: prices in dollars x 10,000, sizes in shares).
_KNOWN = {"currency": "USD", "lot_size": 1.0, "multiplier": 1.0,
          "multiplier_basis": "LOBSTER sizes are shares of a NASDAQ stock: one share a unit",
          "lot_size_basis": "LOBSTER sizes are whole shares (NASDAQ accepts odd lots)"}

#: Report reasons (``report.kept`` / ``report.drops``) of the data quirks, by key;
#: the loader docstring's *Data quirks* section gives each outcome.
QUIRKS = {
    "subtick": ("trade (type 5/6) at a price off the tick grid (a hidden midpoint execution"
                " at half a cent, ...): kept as TRADE_SUBTICK at its true price"),
    "time_rounded": ("time with more than 9 decimals (a binary float written in full, e.g."
                     " 43002.632812672004): rounded half up to the nanosecond"),
    "decimal_form": "integer written in decimal notation (5.0, 5.8e+06): read as the integer",
    "bom": "UTF-8 byte-order mark at the start of the file: skipped",
    "header": "header row of column names: skipped (rows count from the first data line)",
    "crlf": "CRLF (Windows) line ends: read like LF",
    "dup_trade": ("trade or halt message (type 5-7) identical to the line before it: kept"
                  " (two hidden executions of one size at one time are real)"),
    "dup_applied": ("book message (type 1-4) identical to the line before it: kept, the"
                    " orderbook file shows it changed the book"),
    "dup_unchecked": ("book message (type 1-4) identical to the line before it: kept"
                      " unchecked (no resync against the orderbook file)"),
    "dup_dropped": ("book message (type 1-4) identical to the line before it while the"
                    " orderbook row is identical too: a repeated line, left out"),
}

_MSG_KINDS = {"time": NS, **{c: INT for c in _k.MESSAGE_COLUMNS[1:]}}
_LOBSTER_TYPE = {int(EventKind.ADD): 1, int(EventKind.CANCEL): 2, int(EventKind.DELETE): 3,
                 int(EventKind.EXECUTE): 4}


# --------------------------------------------------------------------------- time
def _midnight_utc_ns(date: dt.date, tz_name: str) -> tuple[int, int, int]:
    """Return ``(midnight_early, midnight_late, switch)`` in ns for ``date`` in ``tz_name``.

    A wall-clock time ``t`` after local midnight is ``midnight_early + t`` in UTC ns
    when ``t < switch`` and ``midnight_late + t`` otherwise: ``early`` uses the UTC
    offset in force at 00:00 local, ``late`` the one at 12:00 local, and ``switch``
    is 02:00, when US daylight-saving changes happen. On ordinary days the two
    offsets are equal.
    """
    tz = ZoneInfo(tz_name)
    day_ns = (date - dt.date(1970, 1, 1)).days * _k.NS_PER_DAY
    off0 = dt.datetime(date.year, date.month, date.day, 0, 0, tzinfo=tz).utcoffset()
    off12 = dt.datetime(date.year, date.month, date.day, 12, 0, tzinfo=tz).utcoffset()
    assert off0 is not None and off12 is not None  # ZoneInfo always gives an offset
    to_ns = 1_000_000_000
    return (day_ns - int(off0.total_seconds()) * to_ns,
            day_ns - int(off12.total_seconds()) * to_ns,
            2 * 3600 * to_ns)


def _quirk_recorder(report: ValidationReport, label: str, examples: dict):
    """``on_quirk`` callback of :func:`read_blocks`: count kept quirks in ``report``."""
    def on_quirk(quirk: str, row: int, count: int, example: str) -> None:
        key = "time_rounded" if quirk == QUIRK_ROUNDED else "decimal_form"
        report.keep(QUIRKS[key], label, row, count)
        examples.setdefault((key, label), (row, example))
    return on_quirk


def _note_layout(report: ValidationReport, label: str, layout: Layout) -> None:
    if layout.bom:
        report.keep(QUIRKS["bom"], label, 0)
    if layout.header is not None:
        report.keep(QUIRKS["header"], label, 0)
        report.notes.append(f"{label}: header row skipped: {layout.header[:120]!r}")
    if layout.crlf:
        report.keep(QUIRKS["crlf"], label, 0)


# --------------------------------------------------------------------------- passes
def _read_messages(member: Member, layout: Layout, out: np.ndarray, tz: tuple[int, int, int],
                   window: tuple[int, int], feed_latency_ns: int, report: ValidationReport,
                   examples: dict) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stream the message file into ``out`` (one event per row, prices in LOBSTER units).

    Returns ``(ts_exch_row0, dup_rows, dup_types, book_prices, trade_prices)``: the
    rows identical to the line before them with their message types, and the
    distinct prices of the book messages (types 1-4) and of the trades (5, 6).
    Anything wrong raises.
    """
    names = list(_k.MESSAGE_COLUMNS)
    done = 0
    ts_row0 = 0
    prev_ts = np.iinfo(np.int64).min
    prev_line = np.zeros(7, dtype=np.int64)
    dup_buf = np.empty(0, dtype=np.int64)
    dups: list[np.ndarray] = []
    dup_types: list[np.ndarray] = []
    book_px: list[np.ndarray] = []
    trade_px: list[np.ndarray] = []
    t_lo, t_hi = window
    for cols, first_row in read_blocks(member, layout, names, _MSG_KINDS, names,
                                       on_quirk=_quirk_recorder(report, member.label, examples)):
        ns, typ, oid, size, price, direction = cols
        n = ns.shape[0]
        if done + n > out.shape[0]:
            raise DataQualityError(  # the file changed between the two passes
                f"file has more rows than the {out.shape[0]} counted",
                file=member.label, row=out.shape[0], field="rows", value=done + n)
        if dup_buf.shape[0] < n:
            dup_buf = np.empty(n, dtype=np.int64)
        status, row, col, prev_ts, n_dup = _k.fill_message_events(
            out[done: done + n], ns, typ, oid, size, price, direction, t_lo, t_hi,
            tz[0], tz[1], tz[2], feed_latency_ns, done, prev_ts, prev_line, dup_buf)
        if status != Status.OK:
            raise message_error(Status(status), int(row), int(col), cols, done,
                                 member.label, layout.line0, window)
        if done == 0 and n:
            t0 = int(ns[0])
            ts_row0 = (tz[0] if t0 < tz[2] else tz[1]) + t0
        if n_dup:
            r = dup_buf[:n_dup]
            dups.append(r + done)
            dup_types.append(typ[r].copy())
        book_px.append(np.unique(price[typ <= 4]))
        trade_px.append(np.unique(price[(typ == 5) | (typ == 6)]))
        done += n
    if done != out.shape[0]:
        raise DataQualityError(f"parsed {done} rows but counted {out.shape[0]} lines",
                               file=member.label, row=done, field="rows", value=done)

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return (ts_row0, cat(dups), cat(dup_types), np.unique(cat(book_px)),
            np.unique(cat(trade_px)))


# --------------------------------------------------------------------------- API
def _px_divisor(instrument: Instrument) -> int:
    units = instrument.tick_size * PRICE_SCALE
    div = round(units)
    if div < 1 or abs(units - div) > 1e-9 * max(1.0, units):
        raise ParameterError(
            f"instrument tick_size {instrument.tick_size} is not a whole multiple of LOBSTER's"
            f" price unit 1/{PRICE_SCALE} dollar"
        )
    return div


def _as_date(date: str | dt.date | None) -> dt.date | None:
    if date is None or isinstance(date, dt.date):
        return date.date() if isinstance(date, dt.datetime) else date
    try:
        return dt.date.fromisoformat(str(date))
    except ValueError:
        raise ParameterError(f"date must be 'YYYY-MM-DD' or a datetime.date, was {date!r}") from None


def load_lobster(
    path: str | Path,
    *,
    levels: int | None = None,
    ticker: str | None = None,
    instrument: Instrument | str | Mapping | None = None,
    date: str | dt.date | None = None,
    feed_latency_ns: int = 0,
    orderbook: bool = True,
    sub_tick_trades: str = "keep",
    resync: bool = True,
) -> MarketData:
    r"""Load LOBSTER days (message file, plus its orderbook file) as events.

    Parameters
    ----------
    path
        A LOBSTER zip (e.g. ``LOBSTER_SampleFile_GOOG_2012-06-21_10.zip``), a message
        CSV ``TICKER_DATE_START_END_message_L.csv`` (its orderbook file
        ``..._orderbook_L.csv`` is looked up beside it; an orderbook path is accepted
        too), or a directory holding such pairs and/or zips. Ticker, date, time
        window and ``L`` come from the file names. Several days of one ticker and
        depth (in one zip, several zips, or a directory) load as one
        :class:`~qlib.data.MarketData`, one session per day in date order
        (:func:`~qlib.data.market_data.concat_sessions`).
    levels
        Book depth ``L`` to pick when the path holds several; when given with a file
        path it must equal the ``L`` in the name.
    ticker
        Ticker to pick when the path holds several (case-insensitive).
    instrument
        The instrument: an :class:`~qlib.instrument.Instrument` (used as it is), a
        registry id ``"SYMBOL.VENUE"``, a dict of facts overriding what would be
        inferred (``{"tick_size": 0.01}``), or None (default): the registry is asked
        for ``TICKER.NASDAQ`` (a dot in the ticker becomes ``-``: ``BRK-B.NASDAQ``)
        and, where it is silent, the tick is inferred from the
        prices (*Prices* below), currency USD and one share a lot are the format's,
        the fees the XNAS venue row's (:mod:`qlib.data.instruments`). Its tick size
        must be a whole number of LOBSTER price units ($0.0001).
    date
        Trading date, ``'YYYY-MM-DD'``; needed only when the file name has none, and
        must agree with the name otherwise. With several days, it picks one.
    feed_latency_ns
        Added to ``ts_exch`` to make ``ts_local`` (>= 0). LOBSTER has no receive clock,
        so every event carries ``EventFlag.TS_LOCAL_SYNTH``.
    orderbook
        Read the orderbook file (default). ``False`` skips it: no row-count,
        crossed/locked or level-1 checks, and no initial snapshot (the events then
        start from an unknown book).
    sub_tick_trades
        What to do with a trade (type 5 hidden execution, type 6 cross) whose price
        is off the tick grid, such as a midpoint execution at half a cent:
        ``"keep"`` (default) emits it as ``EventKind.TRADE_SUBTICK`` at its true
        price (``px_tick`` in millionths of a tick, see *Prices*), counted in
        ``report.kept``; ``"raise"`` raises. Book-changing messages (types 1-4) off
        the tick always raise.
    resync
        Add L2 corrections from the orderbook file after each message (default), so
        that replaying the events gives LOBSTER's own top-``L`` book after every
        message; see *Resync* below. ``False`` gives the message stream alone, whose
        price-level replay drifts away from the file. Needs the orderbook file: with
        ``orderbook=False`` no correction is made (the report notes it).

    Returns
    -------
    MarketData
        Events in file order, preceded (when ``orderbook``) by a ``CLEAR`` and one
        ``SNAPSHOT`` per known level giving the book *before* message 0, each
        message's event followed (when ``resync``) by its ``DEPTH | RESYNC``
        corrections, and a :class:`~qlib.data.ValidationReport`
        (``source="lobster"``; kept quirks in ``report.kept``, the instrument facts
        in ``report.inferred``); ``provenance["resync_corrections"]`` counts the
        corrections by reason, ``provenance["price_unit_per_tick"]`` is the tick in
        LOBSTER price units. Several days: one session each (``md.sessions``).

    Raises
    ------
    DataNotFoundError
        If the path, the message file or (with ``orderbook=True``) the orderbook
        file does not exist, or a zip or directory holds no LOBSTER message file
        (of the ``levels``/``ticker`` asked for).
    DataQualityError
        On a damaged zip (or a zip member that cannot be read), a bad file name, an
        empty file, a row with the wrong number of columns, a non-numeric field, a
        non-integer size, price, type, order id or direction, an unknown message
        type or direction, a non-positive size or price, a book price off the tick,
        a time outside the file's window or too large for int64 ns, time going
        backwards, message and orderbook row counts that differ, or an orderbook
        row 0 that message 0 cannot have produced. The error names the file, the
        0-based data ``row`` (the message adds the 1-based ``line``), the field and
        the value.
    ParameterError
        On a bad ``levels``, ``ticker``, ``date``, ``feed_latency_ns``,
        ``sub_tick_trades`` or ``instrument``, when the path holds several tickers
        or depths and ``ticker``/``levels`` does not pick one, or the same day twice
        (a zip beside its extracted files).

    Notes
    -----
    **Data quirks** (reasons in :data:`QUIRKS`; "kept" = counted in
    ``report.kept`` with an example row, "dropped" = in ``report.drops``):

    ======================================  ============================================
    quirk                                   outcome
    ======================================  ============================================
    half-cent hidden execution (type 5/6    kept as ``TRADE_SUBTICK`` at its true price;
    off the tick grid; 50 on the GOOG day)  never touches a book
    time with more than 9 decimals          kept, rounded half up to the nanosecond
    (``43002.632812672004``: a float
    written in full by LOBSTER's writer)
    integer written ``5.0`` / ``5.8e+06``   kept, read as the integer (``5.5`` raises)
    header row of column names (either      kept: skipped; ``row`` still counts data
    file)                                   rows, the message's ``line`` the file's
    UTF-8 byte-order mark (either file)     kept: skipped
    CRLF line ends                          kept: read like LF
    trade/halt line (type 5-7) identical    kept: two hidden executions of one size at
    to the line before (31 on GOOG)         one time are real, and they move no book
    book line (type 1-4) identical to the   the orderbook file decides: if its row is
    line before                             identical too, the message did not change
                                            the book (every other type 1-4 row does:
                                            on GOOG none leaves its row unchanged), so
                                            the line is a repeat and is **dropped**;
                                            otherwise it is kept (a real second
                                            execution of one size). Without
                                            ``resync`` kept unchecked. Applying a
                                            repeated ADD twice would put one order id
                                            in the L3 book twice
    time outside the file's window, not     raises (``field='time'``)
    a number, negative, or beyond int64 ns
    orderbook rows != message rows          raises (``field='rows'``)
    damaged zip, zip without the members    raises DataQualityError /
                                            DataNotFoundError naming the file
    ======================================  ============================================

    **Time.** ``time`` is decimal seconds after midnight, NASDAQ local time, with up
    to 9 decimals. It is parsed as ``decimal128(18, 9)``, whose unscaled integer *is*
    the nanosecond count, so no float rounding occurs
    (``57599.871751084 * 1e9`` in float64 would not be exact); a piece that does not
    parse that way is read as text by an exact decimal parser (see *Data quirks*).
    Every time must lie in the window ``[START, END]`` of the file name (ms after
    midnight). With :math:`D` the
    date's midnight in UTC ns and :math:`o(t)` the America/New_York UTC offset in
    force (the 00:00 offset before 02:00 local, the 12:00 offset after),

    .. math:: ts_{exch} = D + t_{ns} - o(t), \qquad ts_{local} = ts_{exch} + \text{feed\_latency\_ns}.

    **Prices.** LOBSTER prices are dollars x 10 000 (integers). With no tick stated
    (no ``instrument``, no registry row) the tick is inferred from the data with
    :func:`qlib.data.infer.infer_step_scaled` over the distinct prices of the book
    messages (types 1-4) and the orderbook prices (folded into a running gcd as the
    file streams, added as one more value when they refine the messages' gcd): the
    gcd of the prices from 20 distinct values on, else the finest decimal step that
    writes them; both divide every book price, so the books are exact. Trades are
    left out, since a trade may print off the grid. The GOOG day gives $0.01 (gcd
    of 1,573 distinct prices, confidence high); a stock under $1 gives $0.0001, the
    finest increment SEC Reg NMS Rule 612 allows below $1.00 (17 CFR 242.612), also
    for a day that crosses $1. With :math:`u` = tick x 10 000 (LOBSTER units per
    tick), ``px_tick = price / u``, which must divide exactly for every book price.
    NASDAQ executes hidden midpoint orders at half cents (the GOOG sample has 50
    such type-5 rows): a trade off the grid is a ``TRADE_SUBTICK`` with
    ``px_tick = round(price x SUBTICK_SCALE / u)`` (half up), its true price in
    millionths of a tick (:data:`qlib.dtypes.SUBTICK_SCALE`), which
    :func:`qlib.signals.trades` reports (column ``subtick``) and every book ignores.

    **Message types** (``seq`` = 0-based message row):

    ====  ===========================  ================================  ===========
    type  meaning                      kind                              side
    ====  ===========================  ================================  ===========
    1     new limit order              ``ADD``                           direction
    2     partial cancel               ``CANCEL`` (qty removed)          direction
    3     full delete                  ``DELETE``                        direction
    4     visible execution            ``EXECUTE``                       direction (resting)
    5     hidden execution             ``TRADE`` + ``HIDDEN`` (off the   -direction (aggressor)
                                       tick: ``TRADE_SUBTICK``)
    6     cross (auction) trade        ``TRADE`` + ``AUCTION`` (off the  ``NONE``
                                       tick: ``TRADE_SUBTICK``)
    7     halt, price -1 / 0 / 1       ``HALT`` / ``RESUME_QUOTING`` /   ``NONE``
                                       ``RESUME_TRADING``
    ====  ===========================  ================================  ===========

    ``order_id`` is kept for the L3 kinds (1-4) and is 0 for the others, as
    :data:`qlib.dtypes.EVENT_DTYPE` requires.

    **EventFlag.LAST** marks the last record of every message: LOBSTER's orderbook
    file gives the book after each message, so each is a consistent state, including
    the several rows one sweeping order produces at one timestamp (ITCH publishes
    them as separate messages too). It sits on the message's own event when no
    correction follows it, else on its last correction.

    **Resync.** An ``L``-level message file holds only the messages that touch the
    first ``L`` price levels: an order resting deeper that is cancelled there leaves
    no row, and when the book moves, levels enter the top ``L`` from below without
    one. Replayed alone, the messages drift (on the GOOG level-10 day the rebuilt
    best bid ends 11.59 USD above the best ask). With ``resync`` the loader keeps a
    price-level book (the library's :class:`qlib.book.L2Book`, keyed in steps of the
    gcd of the prices seen), applies each message to it by price aggregation
    (``ADD`` adds ``qty`` at ``px_tick``; ``CANCEL``/``DELETE``/``EXECUTE`` remove
    it; a removal below zero is taken to zero and counted), compares it with the
    orderbook row of that message, and after the message's event emits one
    correction per difference, for each side separately:

    * a visible level (price and size in the row) that the book lacks or holds with
      another quantity: ``DEPTH`` with the file's quantity (reason *visible level
      corrected*);
    * a book level the row does not show, at or above the side's ``L``-th visible
      price (bids; at or below it for asks), so inside the visible window or better
      than the row's best, which covers a level crossing the other side: ``DEPTH``
      with ``qty`` 0 (reason *stale level removed*). When a side shows fewer than
      ``L`` levels (dummy prices beyond them) the window reaches the end of that
      side and every deeper level goes too. Levels beyond the ``L``-th visible
      price are unknown and left alone.

    A correction is ``kind=DEPTH``, ``side``, ``px_tick``, ``qty`` = the absolute
    level quantity (0 removes the level), ``order_id=0``, the message's ``ts_exch``,
    ``ts_local`` and ``seq``, flags ``RESYNC | TS_LOCAL_SYNTH`` (plus ``LAST`` on a
    message's last record); bids come before asks, best level first. So a consumer
    that applies every record and reads the book at ``LAST`` records sees LOBSTER's
    top-``L`` view exactly, at every message (``tests/unit/data/test_lobster_resync.py``
    checks every row and level of the GOOG files with :mod:`qlib.book`). A repeated
    book line found by the resync (*Data quirks*) is not applied and leaves no
    event; its row's book equals the previous one, so it needs no correction.

    The L3 records are untouched: every ``ADD``/``CANCEL``/``DELETE``/``EXECUTE``
    keeps its order id, price and quantity, and only the ``LAST`` bit moves; the
    corrections are extra L2 rows. An L3 consumer tracking orders by id agrees with
    the price aggregation above as long as each ``DELETE`` carries the order's
    remaining size, which holds on every GOOG ``DELETE``. What the corrections
    cannot give is L3 detail beyond the ``L``-th level: which orders make up a
    level that entered from below, their priority, and the queue position of an
    order behind them are unknowable from LOBSTER data (a ``DEPTH`` on a level moves
    its total, not its orders).

    **Initial snapshot.** The messages do not contain the book that existed before
    message 0. It is rebuilt from orderbook row 0 by undoing message 0 (type 1:
    subtract; types 2, 3, 4: add back, re-creating a level it emptied; types 5, 6, 7:
    no change) and emitted as ``CLEAR`` (side ``NONE``) followed by one ``SNAPSHOT``
    per level (L2: px, aggregate qty, ``order_id`` 0, flags ``SNAPSHOT``, ``LAST`` on
    the last), bids best first, then asks, stamped with message 0's time. Levels
    beyond those shown in row 0 are unknown, so the snapshot has at most ``L`` levels
    per side (``L + 1`` on the side where message 0 emptied a level).

    **Checks.** Crossed (best bid > best ask) and locked (equal) rows are counted from
    the orderbook file's level-1 columns; the dummy prices ``9999999999`` (ask) /
    ``-9999999999`` (bid) with size 0 mark an empty level and are never counted as
    crossed. Timestamps must not decrease. The orderbook is streamed in blocks (row
    0 is parsed whole): 1 MiB reading only the level-1 columns without ``resync``;
    256 KiB reading every column with it, where each row must also have positive
    on-grid prices with sizes > 0, asks rising and bids falling with the level, and
    dummy levels only at the end of a side. The corrections are collected apart and
    merged into the event array in place, so the peak memory of a load stays within
    3x the final event array (2.8x on GOOG L10 with resync, 2.3x without;
    ``benchmarks/bench_load_lobster.py``).

    References
    ----------
    .. [1] Huang, R. and Polak, T. (2011). LOBSTER: Limit Order Book Reconstruction
       System. SSRN working paper 1977207.
    .. [2] NASDAQ (2010). NASDAQ TotalView-ITCH 4.1 specification.

    Examples
    --------
    >>> from qlib.data import shared_data_dir
    >>> d = shared_data_dir()
    >>> md = load_lobster(d / "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_1.zip")  # doctest: +SKIP
    >>> md.report.rows_read  # doctest: +SKIP
    49482
    >>> md.instrument.tick_size, md.report.rows_by_kind["TRADE_SUBTICK"]  # doctest: +SKIP
    (0.01, 50)
    """
    if not isinstance(resync, (bool, np.bool_)):
        raise ParameterError(f"resync must be a bool, was {resync!r}")
    if sub_tick_trades not in ("keep", "raise"):
        raise ParameterError(f"sub_tick_trades must be 'keep' or 'raise', was {sub_tick_trades!r}")
    if isinstance(feed_latency_ns, bool) or not isinstance(feed_latency_ns, (int, np.integer)) \
            or feed_latency_ns < 0:
        raise ParameterError(f"feed_latency_ns must be an int >= 0, was {feed_latency_ns!r}")
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, (int, np.integer))
                               or levels < 1):
        raise ParameterError(f"levels must be an int >= 1 or None, was {levels!r}")
    if ticker is not None and (not isinstance(ticker, str) or not ticker):
        raise ParameterError(f"ticker must be a non-empty str or None, was {ticker!r}")
    if instrument is not None and not isinstance(instrument, (Instrument, str, Mapping)):
        raise ParameterError("instrument must be an Instrument, an id 'SYMBOL.VENUE', a dict of"
                             f" overrides or None, was {type(instrument).__name__}")
    want_date = _as_date(date)
    days = find_days(Path(path), None if levels is None else int(levels), ticker)
    days = _pick_date(days, want_date)
    raw = [_load_day(f, f.date or want_date, int(feed_latency_ns), orderbook, bool(resync),
                     str(path)) for f in days]
    target = raw[0].report if len(raw) == 1 else ValidationReport("lobster")
    symbol = days[0].ticker.replace(".", "-")  # an id holds one dot: BRK.B -> BRK-B.NASDAQ
    if symbol != days[0].ticker:
        target.notes.append(f"ticker {days[0].ticker!r} written {symbol!r} in the instrument id"
                            " (SYMBOL.VENUE holds one dot)")
    inst = resolve_instrument(
        instrument, instrument_id=f"{symbol}.{LOBSTER_VENUE}", report=target,
        price_grid=_price_grid(raw), venue=LOBSTER_MIC, known=_KNOWN)
    unit = _px_divisor(inst)
    parts = [_finish_day(d, inst, unit, sub_tick_trades == "raise") for d in raw]
    if len(parts) == 1:
        return parts[0]
    md = concat_sessions(parts, labels=[d.files.date.isoformat() for d in raw])
    md.report.inferred[:0] = target.inferred
    md.report.notes[:0] = target.notes
    return md


def _pick_date(days: list[LobsterFiles], want: dt.date | None) -> list[LobsterFiles]:
    """The days to load: all of them, or the one of ``want``."""
    if want is None:
        return days
    if len(days) == 1:
        if days[0].date is not None and days[0].date != want:
            raise ParameterError(f"date was {want}, but the file name says {days[0].date}")
        return days
    picked = [f for f in days if f.date == want]
    if not picked:
        raise ParameterError(f"date was {want}, but the files hold the days"
                             f" {[f.date.isoformat() for f in days if f.date]}")
    return picked


@dataclass
class _Day:
    """One day read in LOBSTER price units, before the tick is known."""

    files: LobsterFiles
    events: np.ndarray
    report: ValidationReport
    provenance: dict
    book_prices: np.ndarray
    trade_prices: np.ndarray
    ob_gcd: int
    msg_layout: Layout
    ob_layout: Layout | None


def _price_grid(days: list[_Day]) -> GridGuess | None:
    """The price grid of the days: :func:`infer_step_scaled` over the book prices.

    The values are the distinct prices of the book messages (types 1-4) and, when
    the orderbook gcd is not a multiple of their gcd, that gcd (the orderbook's
    prices are folded into a running gcd while it is streamed, see
    ``resync_block``): the step found divides every book price of the files.
    Trades (types 5, 6) are left out, since a trade may print off the grid; they
    are used only when the files hold no book price at all.
    """
    book = np.unique(np.concatenate([d.book_prices for d in days]))
    book = book[book > 0]
    g_ob = 0
    for d in days:
        g_ob = int(np.gcd(g_ob, d.ob_gcd))
    source = "LOBSTER message types 1-4"
    values = book
    if g_ob and (book.size == 0 or g_ob % int(np.gcd.reduce(book))):
        values = np.append(book, g_ob)
        source += " and the gcd of the orderbook prices"
    elif g_ob:
        source += "; the orderbook prices lie on their grid"
    if values.size == 0:
        values = np.unique(np.concatenate([d.trade_prices for d in days]))
        values = values[values > 0]
        source = "LOBSTER trade prices (types 5, 6): the files hold no book price"
    if values.size == 0:
        return None
    return infer_step_scaled(values, PRICE_SCALE, what="prices", source=source)


def _load_day(files: LobsterFiles, day: dt.date | None, feed_latency_ns: int, orderbook: bool,
              resync: bool, path: str) -> _Day:
    """Read one day's files into events with prices in LOBSTER units; see load_lobster."""
    if day is None:
        raise DataQualityError(
            "file name has no date (TICKER_DATE_START_END_message_L.csv); pass date=",
            file=files.message.label, field="date", value=Path(files.message.name).name)
    if orderbook and not member_exists(files.orderbook):
        raise DataNotFoundError(
            f"LOBSTER orderbook file {files.orderbook.label!r} (beside the message file) does"
            " not exist; pass orderbook=False to load the messages alone")
    tz = _midnight_utc_ns(day, LOBSTER_TIMEZONE)
    window = (files.start_ms * 1_000_000, files.end_ms * 1_000_000)
    report = ValidationReport("lobster")
    report.files = [files.message.label]
    examples: dict = {}
    msg_layout = sniff(files.message)
    _note_layout(report, files.message.label, msg_layout)
    n_msg = count_rows(files.message, msg_layout)
    if n_msg == 0:
        raise DataQualityError("message file is empty", file=files.message.label, row=0,
                               field="rows", value=0)
    head = 2 * files.levels + 2 if orderbook else 0  # CLEAR + at most 2L + 1 levels
    buf = empty_events(head + n_msg)
    report.rows_read = n_msg
    ts_row0, dup_rows, dup_types, book_px, trade_px = _read_messages(
        files.message, msg_layout, buf[head:], tz, window, feed_latency_ns, report, examples)
    provenance: dict = {
        "loader": "qlib.data.lobster.load_lobster", "path": path,
        "message_file": files.message.label, "ticker": files.ticker, "date": day.isoformat(),
        "levels": files.levels, "window_ms": (files.start_ms, files.end_ms),
        "timezone": LOBSTER_TIMEZONE, "feed_latency_ns": feed_latency_ns,
        "orderbook": orderbook, "resync": bool(orderbook and resync),
    }
    book_dups = dup_rows[dup_types <= 4]
    trade_dups = dup_rows[dup_types > 4]
    if trade_dups.size:
        report.keep(QUIRKS["dup_trade"], files.message.label, int(trade_dups[0]),
                    int(trade_dups.size))
    last_note = "LAST set on every message"
    g_ob = 0
    ob_layout = None
    if orderbook:
        ob_layout = sniff(files.orderbook)
        _note_layout(report, files.orderbook.label, ob_layout)
        row0 = read_orderbook_head(files.orderbook, ob_layout, files.levels)
        g_ob = gcd_of(np.array(row0, dtype=np.int64)[[4 * j + k for j in range(files.levels)
                                                        for k in (0, 2)]])
        bids, asks = book_before_first_message(row0, files.levels, buf[head],
                                                files.orderbook.label, ob_layout.line0)
        k = 1 + len(bids) + len(asks)
        write_snapshot(buf[head - k: head], bids, asks, ts_row0, ts_row0 + feed_latency_ns)
        rs = Resync(buf[head: head + n_msg], book_dups, bids, asks, files.levels) \
            if resync else None
        n_ob, crossed, locked, g_scan = scan_orderbook(
            files.orderbook, ob_layout, files.levels, n_msg, rs,
            _quirk_recorder(report, files.orderbook.label, examples))
        g_ob = int(np.gcd(g_ob, g_scan))
        if n_ob != n_msg:
            raise DataQualityError(
                f"orderbook file has {n_ob} rows but the message file has {n_msg};"
                " row i of the orderbook must be the book after message i",
                file=files.orderbook.label, row=min(n_ob, n_msg), field="rows", value=n_ob)
        n_corr = 0
        state = None
        if rs is not None:
            n_corr = rs.n_corr
            corr, corr_after, state, fate = rs.corr, rs.corr_after, rs.state, rs.dup_fate
            rs = None  # no view of buf may outlive the resize (realloc, in place when it can)
            buf.resize(head + n_msg + n_corr, refcheck=False)
            _k.merge_corrections(buf, head, n_msg, corr, corr_after, n_corr)
            del corr, corr_after
            last_note = ("LAST set on the last record of every message (the message itself,"
                         " or its last RESYNC correction)")
            for key, hit in (("dup_applied", book_dups[fate == 1]),
                             ("dup_dropped", book_dups[fate == 2])):
                if hit.size:
                    (report.drop if key == "dup_dropped" else report.keep)(
                        QUIRKS[key], files.message.label, int(hit[0]), int(hit.size))
        elif book_dups.size:
            report.keep(QUIRKS["dup_unchecked"], files.message.label, int(book_dups[0]),
                        int(book_dups.size))
        events = buf[head - k: head + n_msg + n_corr]
        report.files.append(files.orderbook.label)
        report.crossed_rows = crossed
        report.locked_rows = locked
        cols = "all columns checked" if resync else "level-1 columns checked"
        report.notes.append(
            f"orderbook rows read: {n_ob} ({cols}; crossed/locked counted on level 1)")
        report.notes.append(
            f"initial snapshot: CLEAR + {len(bids)} bid and {len(asks)} ask levels, the book"
            " before message 0 (orderbook row 0 with message 0 undone); deeper levels unknown")
        if state is None:
            report.notes.append(
                "resync=False: no L2 corrections; replaying these events drifts from LOBSTER's"
                " book (levels entering the top L from below and cancels deeper than L are"
                " not in the message file)")
        else:
            note_resync(report, provenance, state, files.levels)
        provenance["orderbook_file"] = files.orderbook.label
        provenance["snapshot_levels"] = (len(bids), len(asks))
    else:
        events = buf[:n_msg]
        if book_dups.size:
            report.keep(QUIRKS["dup_unchecked"], files.message.label, int(book_dups[0]),
                        int(book_dups.size))
        report.notes.append(
            "orderbook=False: orderbook file not read; no initial snapshot (the book before"
            " message 0 is unknown), no row-count or crossed/locked check, no resync")
    for (key, label), (row, text) in examples.items():
        report.notes.append(f"{label}: {QUIRKS[key].split(':')[0]}, first at row {row}: {text}")
    report.notes.append(
        f"ts_exch from seconds after midnight {LOBSTER_TIMEZONE} on {day}; ts_local ="
        f" ts_exch + {feed_latency_ns} ns (TS_LOCAL_SYNTH); {last_note}")
    return _Day(files, events, report, provenance, book_px, trade_px, g_ob, msg_layout,
                ob_layout)


def _finish_day(d: _Day, inst: Instrument, unit: int, subtick_raise: bool) -> MarketData:
    """Prices to ticks of ``unit`` LOBSTER units; the day's MarketData."""
    events, files = d.events, d.files
    if d.ob_gcd % unit:
        raise find_off_grid_row(files.orderbook, d.ob_layout, files.levels, unit,
                                 inst.tick_size)
    status, i = _k.to_ticks(events, unit, SUBTICK_SCALE, subtick_raise)
    if status != Status.OK:
        ev = events[int(i)]
        if int(ev["seq"]) < 0 or int(ev["flags"]) & EventFlag.RESYNC:  # pragma: no cover
            raise find_off_grid_row(files.orderbook, d.ob_layout, files.levels, unit,
                                     inst.tick_size)
        kind = int(ev["kind"])
        typ = _LOBSTER_TYPE.get(kind, 5 if int(ev["flags"]) & EventFlag.HIDDEN else 6)
        value = int(ev["px_tick"])
        why = "" if kind != EventKind.TRADE else " (sub_tick_trades='raise')"
        raise DataQualityError(
            f"price {value} (dollars x {PRICE_SCALE}) is not a multiple of the tick size"
            f" {inst.tick_size:g} (= {unit} price units) in a type {typ} message{why}"
            f" (line {int(ev['seq']) + d.msg_layout.line0})",
            file=files.message.label, row=int(ev["seq"]), field="price", value=value)
    removed = events["kind"] == _k.KIND_REMOVED
    if removed.any():
        events = events[~removed]
    sub = np.flatnonzero(events["kind"] == EventKind.TRADE_SUBTICK)
    if sub.size:
        d.report.keep(QUIRKS["subtick"], files.message.label, int(events["seq"][sub[0]]),
                      int(sub.size))
    d.provenance["price_unit_per_tick"] = unit
    check_events(events, d.report)
    return MarketData(events, inst, d.report, d.provenance)

