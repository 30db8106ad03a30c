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
keep a replay of the events equal to LOBSTER's book; see :func:`load_lobster`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from qlib.data import _lobster_kernels as _k
from qlib.data._lobster_io import (
    BLOCK_BYTES,
    POOL,
    Member,
    count_rows,
    csv_batches,
    decimal_ns,
    int_column,
    member_exists,
    ob_colname,
    read_orderbook_head,
    resolve,
)
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["ASK_EMPTY", "BID_EMPTY", "LOBSTER_TIMEZONE", "SUB_TICK_REASON", "load_lobster"]

#: Time zone of LOBSTER's ``time`` column (seconds after midnight, NASDAQ local time).
LOBSTER_TIMEZONE = "America/New_York"
#: Price LOBSTER writes in an empty ask level of the orderbook file (its size is 0).
ASK_EMPTY = 9_999_999_999
#: Price LOBSTER writes in an empty bid level of the orderbook file (its size is 0).
BID_EMPTY = -9_999_999_999
#: LOBSTER prices are dollars x PRICE_SCALE.
PRICE_SCALE = 10_000

_MSG_TYPES = {"time": pa.decimal128(18, 9), **{c: pa.int64() for c in _k.MESSAGE_COLUMNS[1:]}}
#: Arrow pool of the per-piece parses (see :mod:`qlib.data._lobster_io`).
_POOL = POOL


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


def _seconds_text(ns_of_day: int) -> str:
    sign = "-" if ns_of_day < 0 else ""
    s, ns = divmod(abs(int(ns_of_day)), 1_000_000_000)
    return f"{sign}{s}.{ns:09d}"



# --------------------------------------------------------------------------- passes
#: Reason under which sub-tick trades are recorded in the report's drops.
SUB_TICK_REASON = ("trade (type 5/6) at a price off the instrument's tick grid (e.g. a hidden"
                   " midpoint execution at half a cent): not representable in px_tick")


def _read_messages(member: Member, out: np.ndarray, tz: tuple[int, int, int],
                   px_divisor: int, feed_latency_ns: int, tick_size: float,
                   drop_sub_tick: bool, report: ValidationReport
                   ) -> tuple[int, int, bool, np.ndarray, np.ndarray]:
    """Stream the message file into ``out``.

    Returns ``(n_events, ts_exch_row0, row0_kept, drop_rows, drop_ts)``: the last two
    give the rows of the sub-tick trades left out (recorded with ``report.drop``) and
    their ``ts_exch``. Anything else that is wrong raises.
    """
    conv = pacsv.ConvertOptions(column_types=_MSG_TYPES, null_values=[],
                                quoted_strings_can_be_null=False)

    def colname(i: int) -> str:
        return _k.MESSAGE_COLUMNS[i] if 0 <= i < len(_k.MESSAGE_COLUMNS) else f"column {i}"

    done = 0  # message rows read
    written = 0  # events written
    ts_row0 = 0
    row0_kept = True
    prev_ts = np.iinfo(np.int64).min
    dropped = np.empty(0, dtype=np.int64)
    drop_rows: list[int] = []
    drop_ts: list[int] = []
    for batch, first_row in csv_batches(member, list(_k.MESSAGE_COLUMNS), conv, colname):
        n = batch.num_rows
        if done + n > out.shape[0]:
            raise DataQualityError(  # the file changed between the two passes
                f"file has more rows than the {out.shape[0]} counted",
                file=member.label, row=out.shape[0], field="rows", value=done + n)
        if dropped.shape[0] < n:
            dropped = np.empty(n, dtype=np.int64)
        ns = decimal_ns(batch.column(0))
        status, row, col, prev_ts, n_out, n_drop = _k.fill_message_events(
            out[written: written + n], dropped, ns, int_column(batch, 1),
            int_column(batch, 2), int_column(batch, 3), int_column(batch, 4),
            int_column(batch, 5), tz[0], tz[1], tz[2], px_divisor, feed_latency_ns,
            done, prev_ts, drop_sub_tick,
        )
        if status != Status.OK:
            raise _message_error(Status(status), int(row), int(col), batch, done,
                                 member.label, px_divisor, tick_size, out, written, int(n_out))
        if done == 0 and n:
            t0 = int(ns[0])
            ts_row0 = (tz[0] if t0 < tz[2] else tz[1]) + t0
        for r in dropped[:n_drop]:
            report.drop(SUB_TICK_REASON, member.label, done + int(r))
            t_r = int(ns[int(r)])
            drop_rows.append(done + int(r))
            drop_ts.append((tz[0] if t_r < tz[2] else tz[1]) + t_r)
        if n_drop and done == 0 and int(dropped[0]) == 0:
            row0_kept = False
        done += n
        written += int(n_out)
    if done != out.shape[0]:
        raise DataQualityError(f"parsed {done} rows but counted {out.shape[0]} lines",
                               file=member.label, row=done, field="rows", value=done)
    return (written, ts_row0, row0_kept, np.array(drop_rows, dtype=np.int64),
            np.array(drop_ts, dtype=np.int64))


def _message_error(status: Status, row: int, col: int, batch: pa.RecordBatch, done: int,
                   label: str, px_divisor: int, tick_size: float, out: np.ndarray,
                   written: int, n_out: int) -> DataQualityError:
    field = _k.MESSAGE_COLUMNS[col]
    grow = done + row
    line = f" (line {grow + 1})"
    if col == _k.COL_TIME:
        ns = int(decimal_ns(batch.column(0))[row])
        value = _seconds_text(ns)
        if status == Status.UNSORTED:
            prev = row - 1
            prev_text = (_seconds_text(int(decimal_ns(batch.column(0))[prev])) if prev >= 0
                         else "the previous block's last time")
            return DataQualityError(
                f"time went backwards: was {value} s, previous row was {prev_text} s{line}",
                file=label, row=grow, field=field, value=value)
        return DataQualityError(f"time was {value} s, expected seconds after midnight in"
                                f" [0, 86400){line}", file=label, row=grow, field=field,
                                value=value)
    value = int(batch.column(col)[row].as_py())
    typ = int(batch.column(_k.COL_TYPE)[row].as_py())
    if col == _k.COL_TYPE:
        text = f"unknown message type {value}, expected 1..7"
    elif col == _k.COL_DIRECTION:
        text = f"direction was {value}, expected 1 (buy) or -1 (sell)"
    elif col == _k.COL_ORDER_ID:
        text = f"order_id was {value}, expected >= 0"
    elif col == _k.COL_SIZE:
        text = (f"size was {value}, expected >= 0 for a type 7 message" if typ == 7
                else f"size was {value}, expected > 0 for a type {typ} message")
    elif typ == 7:
        text = f"price was {value} in a type 7 (halt) message, expected -1, 0 or 1"
    elif value <= 0:
        text = f"price was {value}, expected a positive price (dollars x {PRICE_SCALE})"
    else:
        text = (f"price {value} (dollars x {PRICE_SCALE}) is not a multiple of the tick size"
                f" {tick_size} (= {px_divisor} price units) in a type {typ} message")
    return DataQualityError(text + line, file=label, row=grow, field=field, value=value)



def _check_level1(ask_px, ask_sz, bid_px, bid_sz, done: int, label: str, px_divisor: int,
                  tick_size: float) -> None:
    """Vectorised checks of one block of level-1 columns; raise on the first bad row."""
    checks = (
        ("ask_price_1", ask_px, (ask_px != ASK_EMPTY) & ((ask_px <= 0) | (ask_px % px_divisor != 0)),
         f"is not a positive multiple of the tick size {tick_size} (= {px_divisor} price units)"),
        ("bid_price_1", bid_px, (bid_px != BID_EMPTY) & ((bid_px <= 0) | (bid_px % px_divisor != 0)),
         f"is not a positive multiple of the tick size {tick_size} (= {px_divisor} price units)"),
        ("ask_size_1", ask_sz, np.where(ask_px == ASK_EMPTY, ask_sz != 0, ask_sz <= 0),
         "is not > 0 (or 0 beside the empty-level price)"),
        ("bid_size_1", bid_sz, np.where(bid_px == BID_EMPTY, bid_sz != 0, bid_sz <= 0),
         "is not > 0 (or 0 beside the empty-level price)"),
    )
    for name, values, bad, why in checks:
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise DataQualityError(f"{name} {int(values[r])} {why} (line {done + r + 1})",
                                   file=label, row=done + r, field=name, value=int(values[r]))


class _Resync:
    """State of the resync pass of :func:`load_lobster`.

    Holds the kernel's price-level book, the corrections written so far, where each
    goes, and the counters by reason; grows the buffers when the kernel asks.
    """

    def __init__(self, msgs: np.ndarray, drop_rows: np.ndarray, drop_ts: np.ndarray,
                 bids: list, asks: list, levels: int, px_divisor: int,
                 feed_latency_ns: int) -> None:
        self.msgs, self.drop_rows, self.drop_ts = msgs, drop_rows, drop_ts
        self.levels, self.px_divisor, self.feed_latency_ns = levels, px_divisor, feed_latency_ns
        cap = max(256, 4 * (len(bids) + len(asks) + levels))
        self.keys = np.zeros((2, cap), dtype=np.int64)
        self.qtys = np.zeros((2, cap), dtype=np.float64)
        self.counts = np.array([len(bids), len(asks)], dtype=np.int64)
        for s, lv in ((0, sorted(bids)), (1, sorted(asks, reverse=True))):
            for i, (px, qty) in enumerate(lv):  # ascending keys: bids by px, asks by -px
                self.keys[s, i] = px if s == 0 else -px
                self.qtys[s, i] = qty
        n_corr = max(1024, msgs.shape[0] // 16)  # doubled on demand
        self.corr = empty_events(n_corr)
        self.corr_after = np.zeros(n_corr, dtype=np.int64)
        self.state = np.zeros(_k.N_STATE, dtype=np.int64)

    @property
    def n_corr(self) -> int:
        return int(self.state[_k.ST_N_CORR])

    def run(self, ob: np.ndarray, row0: int, label: str, tick_size: float) -> None:
        """Resync the book against orderbook rows ``row0 ..``; raise on a bad row."""
        start = 0
        while True:
            status, row, col = _k.resync_block(
                ob, row0, start, self.msgs, self.drop_rows, self.drop_ts, self.keys,
                self.qtys, self.counts, self.corr, self.corr_after, self.state, self.levels,
                self.px_divisor, self.feed_latency_ns, ASK_EMPTY, BID_EMPTY)
            if status != Status.CAPACITY:
                break
            start = int(row)
            if col == _k.GROW_BOOK:
                self.keys = _grow2(self.keys)
                self.qtys = _grow2(self.qtys)
            else:
                n = self.corr.shape[0] * 2
                self.corr = np.concatenate([self.corr, empty_events(n - self.corr.shape[0])])
                self.corr_after = np.concatenate(
                    [self.corr_after, np.zeros(n - self.corr_after.shape[0], dtype=np.int64)])
        if status != Status.OK:
            raise _orderbook_error(Status(status), ob, int(row), int(col), row0, label,
                                   self.px_divisor, tick_size)


def _grow2(a: np.ndarray) -> np.ndarray:
    b = np.zeros((2, 2 * a.shape[1]), dtype=a.dtype)
    b[:, : a.shape[1]] = a
    return b


def _orderbook_error(status: Status, ob: np.ndarray, row: int, col: int, row0: int,
                     label: str, px_divisor: int, tick_size: float) -> DataQualityError:
    grow = row0 + row
    line = f" (line {grow + 1})"
    if status == Status.SEQUENCE_GAP:
        return DataQualityError(f"orderbook row {grow} has no message row to pair with{line}",
                                file=label, row=grow, field="rows", value=grow)
    name = ob_colname(col)
    value = int(ob[row, col])
    empty = ASK_EMPTY if name.startswith("ask") else BID_EMPTY
    if status == Status.OFF_GRID:
        text = (f"{name} {value} is not a positive multiple of the tick size {tick_size}"
                f" (= {px_divisor} price units)")
    elif status == Status.NEGATIVE_QTY:
        px = int(ob[row, col - 1])
        text = (f"{name} was {value} beside the empty-level price {px}, expected 0"
                if px == empty else f"{name} was {value}, expected > 0")
    else:  # UNSORTED: compare with the level above
        prev_name = ob_colname(col - 4)
        prev = int(ob[row, col - 4])
        if prev == empty:
            text = (f"{name} {value} follows an empty level ({prev_name} = {prev}): empty"
                    " levels must be the deepest of their side")
        elif name.startswith("ask"):
            text = f"{name} {value} is not above {prev_name} {prev}: ask prices rise with the level"
        else:
            text = f"{name} {value} is not below {prev_name} {prev}: bid prices fall with the level"
    return DataQualityError(text + line, file=label, row=grow, field=name, value=value)


def _scan_orderbook(member: Member, levels: int, px_divisor: int, tick_size: float,
                    n_msg: int, resync: _Resync | None) -> tuple[int, int, int]:
    """Stream the orderbook file: return ``(rows, crossed, locked)``; raise on bad rows.

    Without ``resync`` only the level-1 columns are converted; with it every column
    is, and each block goes through :meth:`_Resync.run` (rows beyond ``n_msg`` are
    only counted, for the row-count error).
    """
    names = [ob_colname(i) for i in range(4 * levels)]
    use = names if resync is not None else names[:4]
    conv = pacsv.ConvertOptions(include_columns=use, column_types={n: pa.int64() for n in use},
                                null_values=[], quoted_strings_can_be_null=False)
    rows = crossed = locked = 0
    # every column is converted under resync: quarter-size pieces keep the parsed
    # columns (8 bytes a field) small; on GOOG L10, 1 MiB pieces raised the peak RSS
    # of the load from 2.5x to 3.6x the event array, 256 KiB cost ~10 ms
    block = BLOCK_BYTES if resync is None else BLOCK_BYTES // 4
    for batch, _ in csv_batches(member, names, conv,
                                lambda i: names[i] if i < len(names) else f"column {i}", block):
        ask_px, ask_sz, bid_px, bid_sz = (int_column(batch, i) for i in range(4))
        _check_level1(ask_px, ask_sz, bid_px, bid_sz, rows, member.label, px_divisor, tick_size)
        c, lk = _k.count_crossed_locked(ask_px, bid_px, ASK_EMPTY, BID_EMPTY)
        crossed += int(c)
        locked += int(lk)
        usable = min(batch.num_rows, n_msg - rows)
        if resync is not None and usable > 0:
            ob = np.empty((usable, 4 * levels), dtype=np.int64)
            for i in range(4 * levels):
                ob[:, i] = int_column(batch, i)[:usable]
            resync.run(ob, rows, member.label, tick_size)
        rows += batch.num_rows
    return rows, crossed, locked


# --------------------------------------------------------------------------- snapshot
def _book_before_first_message(row0: list[int], levels: int, first: np.void | None,
                               px_divisor: int,
                               label: str, tick_size: float) -> tuple[list, list]:
    """Return ``(bids, asks)`` as ``[(px_tick, qty)]``, best first, before message 0.

    Starts from orderbook row 0 (the book *after* message 0) and undoes message 0:
    an ADD is subtracted, a CANCEL/DELETE/EXECUTE is added back (re-creating a
    level it emptied); TRADE and halt messages change nothing. ``first`` is None when
    message 0 was a dropped sub-tick trade (which changes nothing either).
    """
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    level_of: dict[tuple[int, int], int] = {}  # (side, px_tick) -> 1-based level in row 0
    for lvl in range(levels):
        ap, asz, bp, bsz = row0[4 * lvl: 4 * lvl + 4]
        for book, px, sz, empty, name in ((asks, ap, asz, ASK_EMPTY, "ask"),
                                          (bids, bp, bsz, BID_EMPTY, "bid")):
            if px == empty:
                if sz != 0:
                    raise DataQualityError(
                        f"{name}_size_{lvl + 1} was {sz} beside the empty-level price {px},"
                        " expected 0 (line 1)",
                        file=label, row=0, field=f"{name}_size_{lvl + 1}", value=sz)
                continue
            if px <= 0 or px % px_divisor:
                raise DataQualityError(
                    f"{name}_price_{lvl + 1} {px} is not a positive multiple of the tick size"
                    f" {tick_size} (= {px_divisor} price units) (line 1)",
                    file=label, row=0, field=f"{name}_price_{lvl + 1}", value=px)
            if sz <= 0:
                raise DataQualityError(f"{name}_size_{lvl + 1} was {sz}, expected > 0 (line 1)",
                                       file=label, row=0, field=f"{name}_size_{lvl + 1}",
                                       value=sz)
            book[px // px_divisor] = book.get(px // px_divisor, 0) + sz
            level_of[(Side.BUY if name == "bid" else Side.SELL, px // px_divisor)] = lvl + 1
    if first is None:
        return sorted(bids.items(), reverse=True), sorted(asks.items())
    kind = int(first["kind"])
    side = int(first["side"])
    px = int(first["px_tick"])
    qty = int(first["qty"])
    book = bids if side == Side.BUY else asks
    if kind == EventKind.ADD:
        have = book.get(px, 0)
        if have < qty:
            name = "bid" if side == Side.BUY else "ask"
            lvl = level_of.get((side, px))
            raise DataQualityError(
                f"orderbook row 0 shows {have} shares at {px * tick_size:.6g} on the {name}"
                f" side, but message 0 added {qty} there; the files do not belong together"
                " (line 1)",
                file=label, row=0, field=f"{name}_size_{lvl}" if lvl else f"{name}_price_1",
                value=have)
        if have == qty:
            del book[px]
        else:
            book[px] = have - qty
    elif kind in (EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE):
        book[px] = book.get(px, 0) + qty
    return sorted(bids.items(), reverse=True), sorted(asks.items())


def _write_snapshot(out: np.ndarray, bids: list, asks: list, ts_exch: int, ts_local: int) -> None:
    """Write CLEAR then one SNAPSHOT per level into ``out`` (length 1 + levels)."""
    out["ts_exch"] = ts_exch
    out["ts_local"] = ts_local
    out["seq"] = -1
    out["order_id"] = 0
    out["flags"] = int(EventFlag.SNAPSHOT | EventFlag.TS_LOCAL_SYNTH)
    out["kind"][0] = EventKind.CLEAR
    out["side"][0] = Side.NONE
    out["px_tick"][0] = 0
    out["qty"][0] = 0.0
    i = 1
    for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
        for px, qty in levels:
            out["kind"][i] = EventKind.SNAPSHOT
            out["side"][i] = side
            out["px_tick"][i] = px
            out["qty"][i] = qty
            i += 1
    out["flags"][-1] |= int(EventFlag.LAST)


def _note_resync(report: ValidationReport, provenance: dict, state: np.ndarray,
                 levels: int) -> None:
    """Record the resync corrections by reason in the report notes and provenance."""
    c = {name: int(state[i]) for name, i in (
        ("visible_qty", _k.ST_VISIBLE_QTY), ("visible_missing", _k.ST_VISIBLE_MISSING),
        ("stale_inside", _k.ST_STALE_INSIDE), ("stale_better", _k.ST_STALE_BETTER),
        ("stale_short", _k.ST_STALE_SHORT), ("clamped", _k.ST_CLAMPED))}
    visible = c["visible_qty"] + c["visible_missing"]
    stale = c["stale_inside"] + c["stale_better"] + c["stale_short"]
    provenance["resync_corrections"] = {"visible_level_corrected": visible,
                                        "stale_level_removed": stale, **c}
    report.notes.append(
        f"resync: {visible + stale} DEPTH|RESYNC corrections from the orderbook file"
        f" (visible level corrected: {visible} = {c['visible_qty']} quantity differed +"
        f" {c['visible_missing']} level missing; stale level removed: {stale} ="
        f" {c['stale_inside']} inside the top-{levels} window + {c['stale_better']} better"
        f" than the file's best + {c['stale_short']} on a side showing fewer than"
        f" {levels} levels)")
    if c["clamped"]:
        report.notes.append(
            f"resync: {c['clamped']} messages removed more than the book held at their"
            " price (level taken to 0, then set from the orderbook row)")


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
    instrument: Instrument | None = None,
    date: str | dt.date | None = None,
    feed_latency_ns: int = 0,
    orderbook: bool = True,
    sub_tick_trades: str = "drop",
    resync: bool = True,
) -> MarketData:
    r"""Load one LOBSTER day (message file, plus its orderbook file) as events.

    Parameters
    ----------
    path
        A LOBSTER zip (e.g. ``LOBSTER_SampleFile_GOOG_2012-06-21_10.zip``), a message
        CSV ``TICKER_DATE_START_END_message_L.csv`` (its orderbook file
        ``..._orderbook_L.csv`` is looked up beside it; an orderbook path is accepted
        too), or a directory holding such a pair. Ticker, date and ``L`` come from the
        file name.
    levels
        Book depth ``L`` to pick when the zip or directory holds several; when given
        with a file path it must equal the ``L`` in the name.
    instrument
        Instrument of the events; default ``TICKER.NASDAQ`` with tick 0.01 USD, lot 1.
        Its tick size must be a whole number of LOBSTER price units ($0.0001).
    date
        Trading date, ``'YYYY-MM-DD'``; needed only when the file name has none, and
        must agree with the name otherwise.
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
        ``"drop"`` (default) leaves it out and records it in the report's drops under
        :data:`SUB_TICK_REASON`; ``"raise"`` raises. Book-changing messages (types
        1-4) off the grid always raise. Pass an instrument with a finer tick (0.005)
        to keep such trades.
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
        (``source="lobster"``); ``provenance["resync_corrections"]`` counts the
        corrections by reason.

    Raises
    ------
    DataNotFoundError
        If the path, the message file or (with ``orderbook=True``) the orderbook
        file does not exist.
    DataQualityError
        On a bad file name, an empty file, a row with the wrong number of columns, a
        non-numeric field, an unknown message type or direction, a non-positive size,
        an off-grid price, time going backwards, message and orderbook row counts that
        differ, or an orderbook row 0 that message 0 cannot have produced. The error
        names the file, the 0-based data ``row`` (the message adds the 1-based
        ``line``), the field and the value.
    ParameterError
        On a bad ``levels``, ``date``, ``feed_latency_ns`` or tick size, or when the
        path holds several message files and ``levels`` does not pick one.

    Notes
    -----
    **Time.** ``time`` is decimal seconds after midnight, NASDAQ local time, with up
    to 9 decimals. It is parsed as ``decimal128(18, 9)``, whose unscaled integer *is*
    the nanosecond count, so no float rounding occurs
    (``57599.871751084 * 1e9`` in float64 would not be exact). With :math:`D` the
    date's midnight in UTC ns and :math:`o(t)` the America/New_York UTC offset in
    force (the 00:00 offset before 02:00 local, the 12:00 offset after),

    .. math:: ts_{exch} = D + t_{ns} - o(t), \qquad ts_{local} = ts_{exch} + \text{feed\_latency\_ns}.

    **Prices.** LOBSTER prices are dollars x 10 000; ``px_tick = price / (tick_size x
    10 000)``, which must divide exactly for every book-changing message and every
    level-1 orderbook price. NASDAQ executes hidden midpoint orders at half cents
    (the GOOG sample has 50 such type-5 rows), so trades off the grid follow
    ``sub_tick_trades``.

    **Message types** (``seq`` = 0-based message row):

    ====  ===========================  ================================  ===========
    type  meaning                      kind                              side
    ====  ===========================  ================================  ===========
    1     new limit order              ``ADD``                           direction
    2     partial cancel               ``CANCEL`` (qty removed)          direction
    3     full delete                  ``DELETE``                        direction
    4     visible execution            ``EXECUTE``                       direction (resting)
    5     hidden execution             ``TRADE`` + ``HIDDEN``            -direction (aggressor)
    6     cross (auction) trade        ``TRADE`` + ``AUCTION``           ``NONE``
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
    price-level book of its own, applies each message to it by price aggregation
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
    checks every row and level of the GOOG files with :mod:`qlib.book`). A dropped
    sub-tick trade leaves the book unchanged, so it needs no correction; were one
    needed, it would carry the dropped row's ``seq`` and time.

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
    """
    if not isinstance(resync, (bool, np.bool_)):
        raise ParameterError(f"resync must be a bool, was {resync!r}")
    if sub_tick_trades not in ("drop", "raise"):
        raise ParameterError(f"sub_tick_trades must be 'drop' or 'raise', was {sub_tick_trades!r}")
    if isinstance(feed_latency_ns, bool) or not isinstance(feed_latency_ns, (int, np.integer)) \
            or feed_latency_ns < 0:
        raise ParameterError(f"feed_latency_ns must be an int >= 0, was {feed_latency_ns!r}")
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, (int, np.integer))
                               or levels < 1):
        raise ParameterError(f"levels must be an int >= 1 or None, was {levels!r}")
    want_date = _as_date(date)
    files = resolve(Path(path), None if levels is None else int(levels))
    if files.date is not None and want_date is not None and files.date != want_date:
        raise ParameterError(f"date was {want_date}, but the file name says {files.date}")
    day = files.date or want_date
    if day is None:
        raise DataQualityError(
            "file name has no date (TICKER_DATE_START_END_message_L.csv); pass date=",
            file=files.message.label, field="date", value=Path(files.message.name).name)
    if instrument is None:
        instrument = Instrument(f"{files.ticker}.NASDAQ", tick_size=0.01, lot_size=1.0,
                                currency="USD")
    elif not isinstance(instrument, Instrument):
        raise ParameterError(f"instrument must be an Instrument, was {type(instrument).__name__}")
    px_divisor = _px_divisor(instrument)
    if orderbook and not member_exists(files.orderbook):
        raise DataNotFoundError(
            f"LOBSTER orderbook file {files.orderbook.label!r} (beside the message file) does"
            " not exist; pass orderbook=False to load the messages alone")
    tz = _midnight_utc_ns(day, LOBSTER_TIMEZONE)

    n_msg = count_rows(files.message)
    if n_msg == 0:
        raise DataQualityError("message file is empty", file=files.message.label, row=0,
                               field="rows", value=0)
    head = 2 * files.levels + 2 if orderbook else 0  # CLEAR + at most 2L + 1 levels
    buf = empty_events(head + n_msg)
    report = ValidationReport("lobster")
    report.files = [files.message.label]
    report.rows_read = n_msg
    n_events, ts_row0, row0_kept, drop_rows, drop_ts = _read_messages(
        files.message, buf[head:], tz, px_divisor, int(feed_latency_ns), instrument.tick_size,
        sub_tick_trades == "drop", report)
    provenance: dict = {
        "loader": "qlib.data.lobster.load_lobster", "path": str(path),
        "message_file": files.message.label, "ticker": files.ticker, "date": day.isoformat(),
        "levels": files.levels, "window_ms": (files.start_ms, files.end_ms),
        "timezone": LOBSTER_TIMEZONE, "feed_latency_ns": int(feed_latency_ns),
        "orderbook": orderbook, "resync": bool(orderbook and resync),
    }
    last_note = "LAST set on every message"
    if orderbook:
        row0 = read_orderbook_head(files.orderbook, files.levels)
        first = buf[head: head + 1].copy()[0] if row0_kept and n_events else None
        bids, asks = _book_before_first_message(row0, files.levels, first, px_divisor,
                                                files.orderbook.label, instrument.tick_size)
        k = 1 + len(bids) + len(asks)
        _write_snapshot(buf[head - k: head], bids, asks, ts_row0, ts_row0 + int(feed_latency_ns))
        rs = None
        if resync:
            rs = _Resync(buf[head: head + n_events], drop_rows, drop_ts, bids, asks,
                         files.levels, px_divisor, int(feed_latency_ns))
        n_ob, crossed, locked = _scan_orderbook(files.orderbook, files.levels, px_divisor,
                                                instrument.tick_size, n_msg, rs)
        if n_ob != n_msg:
            raise DataQualityError(
                f"orderbook file has {n_ob} rows but the message file has {n_msg};"
                " row i of the orderbook must be the book after message i",
                file=files.orderbook.label, row=min(n_ob, n_msg), field="rows", value=n_ob)
        n_corr = 0
        state = None
        if rs is not None:
            n_corr = rs.n_corr
            corr, corr_after, state = rs.corr, rs.corr_after, rs.state
            rs = None  # no view of buf may outlive the resize (realloc, in place when it can)
            buf.resize(head + n_events + n_corr, refcheck=False)
            _k.merge_corrections(buf, head, n_events, corr, corr_after, n_corr)
            del corr, corr_after
            last_note = ("LAST set on the last record of every message (the message itself,"
                         " or its last RESYNC correction)")
        events = buf[head - k: head + n_events + n_corr]
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
        if state is not None:
            _note_resync(report, provenance, state, files.levels)
        provenance["orderbook_file"] = files.orderbook.label
        provenance["snapshot_levels"] = (len(bids), len(asks))
    else:
        events = buf[:n_events]
        report.notes.append(
            "orderbook=False: orderbook file not read; no initial snapshot (the book before"
            " message 0 is unknown), no row-count or crossed/locked check, no resync")
    report.notes.append(
        f"ts_exch from seconds after midnight {LOBSTER_TIMEZONE} on {day}; ts_local ="
        f" ts_exch + {int(feed_latency_ns)} ns (TS_LOCAL_SYNTH); {last_note}")
    check_events(events, report)
    return MarketData(events, instrument, report, provenance)
