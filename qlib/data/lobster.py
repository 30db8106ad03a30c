"""Load LOBSTER message + orderbook files into a :class:`~qlib.data.MarketData`.

LOBSTER (Limit Order Book System - The Efficient Reconstructor) publishes NASDAQ
TotalView-ITCH days as two headerless CSV files per ticker, day and depth ``L``:

* ``TICKER_DATE_START_END_message_L.csv``: one row per event that changed the book
  within its first ``L`` price levels (``time, type, order_id, size, price, direction``);
* ``TICKER_DATE_START_END_orderbook_L.csv``: row ``i`` is the book after message ``i``,
  ``4L`` columns ``ask_price_k, ask_size_k, bid_price_k, bid_size_k`` for ``k = 1..L``.

Both files are streamed in blocks through ``pyarrow.csv`` (never materialised as
whole tables), and a numba kernel turns each block into events; see
:func:`load_lobster`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from qlib.data import _lobster_kernels as _k
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

_BLOCK_BYTES = 1 << 20
#: Arrow pool for the per-piece parses: the system allocator hands freed pieces back,
#: where Arrow's default mimalloc pool kept ~11 MB more resident on the GOOG L10 day.
_POOL = pa.system_memory_pool()
_ORDERBOOK_FIELDS = ("ask_price", "ask_size", "bid_price", "bid_size")
_NAME_RE = re.compile(
    r"^(?P<ticker>[A-Za-z0-9.\-]+?)_(?:(?P<date>\d{4}-\d{2}-\d{2})_)?(?P<start>\d+)_(?P<end>\d+)"
    r"_(?P<part>message|orderbook)_(?P<levels>\d+)\.csv$"
)
_MSG_TYPES = {"time": pa.decimal128(18, 9), **{c: pa.int64() for c in _k.MESSAGE_COLUMNS[1:]}}


# --------------------------------------------------------------------------- files
@dataclass(frozen=True)
class _Member:
    """One CSV file, on disk or inside a zip; ``label`` names it in errors."""

    label: str
    name: str
    path: Path
    zip_path: Path | None = None

    def open(self) -> IO[bytes]:
        if self.zip_path is None:
            return open(self.path, "rb")
        zf = zipfile.ZipFile(self.zip_path)
        try:
            return _ZipMemberStream(zf, zf.open(self.name))
        except BaseException:
            zf.close()
            raise


class _ZipMemberStream(io.RawIOBase):
    """A zip member's decompressing stream that closes its archive with it."""

    def __init__(self, zf: zipfile.ZipFile, fh: IO[bytes]) -> None:
        super().__init__()
        self._zf = zf
        self._fh = fh

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._fh.read(size)

    def readinto(self, buf) -> int:  # pragma: no cover - pyarrow calls read()
        data = self._fh.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._fh.readline(-1 if size is None else size)

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
            self._zf.close()
        super().close()


@dataclass(frozen=True)
class _LobsterFiles:
    message: _Member
    orderbook: _Member
    ticker: str
    date: dt.date | None
    levels: int
    start_ms: int
    end_ms: int


def _parse_name(name: str, label: str) -> re.Match[str]:
    m = _NAME_RE.match(Path(name).name)
    if m is None:
        raise DataQualityError(
            f"file name {Path(name).name!r} does not follow LOBSTER's"
            " TICKER_DATE_START_END_message_L.csv / ..._orderbook_L.csv naming",
            file=label, field="file name", value=Path(name).name,
        )
    return m


def _pair(message_name: str, m: re.Match[str], make: Callable[[str], _Member],
          label: str) -> _LobsterFiles:
    levels = int(m["levels"])
    if levels < 1:
        raise DataQualityError(f"level count in the file name was {levels}, expected >= 1",
                               file=label, field="file name", value=Path(message_name).name)
    ob_name = message_name[: len(message_name) - len(Path(message_name).name)] + (
        Path(message_name).name.replace(f"_message_{levels}.csv", f"_orderbook_{levels}.csv")
    )
    date = None
    if m["date"] is not None:
        try:
            date = dt.date.fromisoformat(m["date"])
        except ValueError:
            raise DataQualityError(f"date {m['date']!r} in the file name is not a calendar date",
                                   file=label, field="date", value=m["date"]) from None
    ob = make(ob_name)
    return _LobsterFiles(make(message_name), ob, m["ticker"], date, levels,
                         int(m["start"]), int(m["end"]))


def _choose(candidates: list[str], levels: int | None, where: str) -> str:
    """Pick the one message file among ``candidates`` (names), by ``levels`` if given."""
    matches = [(c, _NAME_RE.match(Path(c).name)) for c in candidates]
    msgs = [(c, m) for c, m in matches if m is not None and m["part"] == "message"]
    if levels is not None:
        msgs = [(c, m) for c, m in msgs if int(m["levels"]) == levels]
    if not msgs:
        want = f" with {levels} levels" if levels is not None else ""
        raise DataNotFoundError(
            f"no LOBSTER message file (TICKER_DATE_START_END_message_L.csv){want} in {where};"
            f" it holds {sorted(Path(c).name for c in candidates)}"
        )
    if len(msgs) > 1:
        raise ParameterError(
            f"{where} holds several LOBSTER message files"
            f" {sorted(Path(c).name for c, _ in msgs)}; pass levels= or a file path"
        )
    return msgs[0][0]


def _resolve(path: Path, levels: int | None) -> _LobsterFiles:
    if not path.exists():
        raise DataNotFoundError(f"LOBSTER path {str(path)!r} does not exist")
    if path.is_dir():
        csvs = sorted(str(p) for p in path.iterdir() if p.suffix.lower() == ".csv")
        name = _choose(csvs, levels, f"directory {str(path)!r}")
        m = _parse_name(name, name)
        return _pair(name, m, lambda n: _Member(n, n, Path(n)), name)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
        name = _choose(names, levels, f"zip {str(path)!r}")
        label = f"{path}/{name}"
        m = _parse_name(name, label)

        def make(n: str) -> _Member:
            return _Member(f"{path}/{n}", n, path, zip_path=path)

        return _pair(name, m, make, label)
    if path.suffix.lower() == ".zip":
        raise DataQualityError("not a readable zip archive", file=str(path), field="file",
                               value=path.name)
    label = str(path)
    m = _parse_name(path.name, label)
    if m["part"] == "orderbook":  # accept the orderbook path too: load its message file
        path = path.with_name(path.name.replace("_orderbook_", "_message_"))
        label = str(path)
        m = _parse_name(path.name, label)
        if not path.exists():
            raise DataNotFoundError(f"LOBSTER message file {label!r} does not exist")
    if levels is not None and int(m["levels"]) != levels:
        raise ParameterError(f"levels was {levels}, but {path.name!r} has {m['levels']} levels")
    return _pair(str(path), m, lambda n: _Member(n, n, Path(n)), label)


def _member_exists(member: _Member) -> bool:
    if member.zip_path is None:
        return member.path.is_file()
    with zipfile.ZipFile(member.zip_path) as zf:
        return member.name in set(zf.namelist())


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


# --------------------------------------------------------------------------- csv helpers
_ROW_RE = re.compile(r"Row #(\d+)")
_COL_RE = re.compile(r"column #(\d+)")
_NCOL_RE = re.compile(r"Expected (\d+) columns, got (\d+)")
_VALUE_RES = (re.compile(r"invalid value '(.*)'\s*$"),
              re.compile(r"The string '(.*)' is not a valid"))


def _arrow_error(exc: Exception, label: str, column_name: Callable[[int], str],
                 bad_rows: list, first_row: int) -> DataQualityError:
    """Turn a pyarrow CSV error into a DataQualityError naming file, row and field.

    pyarrow numbers rows from 1 within the piece it parsed, which starts at data
    row ``first_row`` of the file.
    """
    text = str(exc)
    row_m = _ROW_RE.search(text)
    line = int(row_m.group(1)) if row_m else None
    if line is None and bad_rows and bad_rows[0].number not in (None, -1):
        line = int(bad_rows[0].number)
    if line is not None:
        line += first_row
    row = None if line is None else line - 1
    where = "" if line is None else f" (line {line})"
    ncol = _NCOL_RE.search(text)
    if ncol is not None:
        got = int(ncol.group(2))
        snippet = bad_rows[0].text if bad_rows else ""
        if got == 1 and snippet == "":
            return DataQualityError(f"row is empty{where}, expected {ncol.group(1)} columns",
                                    file=label, row=row, field="columns", value=got)
        return DataQualityError(
            f"row has {got} columns, expected {ncol.group(1)}{where}"
            f" (truncated or malformed row: {snippet[:80]!r})",
            file=label, row=row, field="columns", value=got,
        )
    col_m = _COL_RE.search(text)
    field = column_name(int(col_m.group(1))) if col_m else "unknown"
    value = None
    for rx in _VALUE_RES:
        vm = rx.search(text)
        if vm:
            value = vm.group(1)
            break
    if "Rescaling Decimal" in text:
        return DataQualityError(
            f"{field} has more than 9 decimals (finer than 1 ns){where}",
            file=label, row=row, field=field, value=value,
        )
    if value is None and "Empty string" in text:
        value = ""
    expected = "a decimal number of seconds" if field == "time" else "an integer"
    blank = " (empty field or blank line)" if value == "" else ""
    return DataQualityError(f"{field} was {value!r}{blank}, expected {expected}{where}",
                            file=label, row=row, field=field, value=value)


def _pieces(member: _Member):
    """Yield ``(piece, first_row)``: the file in ~1 MiB pieces cut at line ends.

    pyarrow's own streaming reader reads ahead many blocks from a Python file
    object (about 12 MiB here), so the blocks are cut here instead: memory stays
    at one piece plus its parsed columns.
    """
    carry = b""
    row = 0
    with member.open() as fh:
        while data := fh.read(_BLOCK_BYTES):
            if carry:
                data = carry + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            piece = memoryview(data)[:cut]
            carry = data[cut:]
            yield piece, row
            row += data.count(b"\n", 0, cut)
    if carry:
        yield memoryview(carry), row


def _csv_batches(member: _Member, names: list[str], conv: pacsv.ConvertOptions,
                 column_name: Callable[[int], str]):
    """Yield ``(batch, first_row)`` over the whole file; raise DataQualityError on bad rows."""
    bad_rows: list = []

    def on_invalid(row) -> str:
        bad_rows.append(row)
        return "error"

    parse = pacsv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=on_invalid)
    for piece, first_row in _pieces(member):
        read = pacsv.ReadOptions(column_names=names, use_threads=False,
                                 block_size=len(piece) + 1)
        try:
            table = pacsv.read_csv(pa.BufferReader(pa.py_buffer(piece)), read_options=read,
                                   parse_options=parse, convert_options=conv,
                                   memory_pool=_POOL)
        except pa.ArrowInvalid as exc:
            raise _arrow_error(exc, member.label, column_name, bad_rows, first_row) from exc
        for batch in table.to_batches():
            yield batch, first_row
            first_row += batch.num_rows


def _count_rows(member: _Member) -> int:
    """Count data rows (newline-terminated lines, plus an unterminated last line)."""
    n = 0
    last = b"\n"
    with member.open() as fh:
        while chunk := fh.read(_BLOCK_BYTES):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _int_column(batch: pa.RecordBatch, i: int) -> np.ndarray:
    return batch.column(i).to_numpy(zero_copy_only=True)


def _decimal_ns(arr: pa.Array) -> np.ndarray:
    """Unscaled values of a decimal128(18, 9) array: the exact ns as int64."""
    words = np.frombuffer(arr.buffers()[1], dtype="<i8")
    return words[2 * arr.offset: 2 * (arr.offset + len(arr)): 2]


# --------------------------------------------------------------------------- passes
#: Reason under which sub-tick trades are recorded in the report's drops.
SUB_TICK_REASON = ("trade (type 5/6) at a price off the instrument's tick grid (e.g. a hidden"
                   " midpoint execution at half a cent): not representable in px_tick")


def _read_messages(member: _Member, out: np.ndarray, tz: tuple[int, int, int],
                   px_divisor: int, feed_latency_ns: int, tick_size: float,
                   drop_sub_tick: bool, report: ValidationReport) -> tuple[int, int, bool]:
    """Stream the message file into ``out``; return ``(n_events, ts_exch_row0, row0_kept)``.

    Sub-tick trades left out are recorded with ``report.drop``; anything else that is
    wrong raises.
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
    for batch, first_row in _csv_batches(member, list(_k.MESSAGE_COLUMNS), conv, colname):
        n = batch.num_rows
        if done + n > out.shape[0]:
            raise DataQualityError(  # the file changed between the two passes
                f"file has more rows than the {out.shape[0]} counted",
                file=member.label, row=out.shape[0], field="rows", value=done + n)
        if dropped.shape[0] < n:
            dropped = np.empty(n, dtype=np.int64)
        ns = _decimal_ns(batch.column(0))
        status, row, col, prev_ts, n_out, n_drop = _k.fill_message_events(
            out[written: written + n], dropped, ns, _int_column(batch, 1),
            _int_column(batch, 2), _int_column(batch, 3), _int_column(batch, 4),
            _int_column(batch, 5), tz[0], tz[1], tz[2], px_divisor, feed_latency_ns,
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
        if n_drop and done == 0 and int(dropped[0]) == 0:
            row0_kept = False
        done += n
        written += int(n_out)
    if done != out.shape[0]:
        raise DataQualityError(f"parsed {done} rows but counted {out.shape[0]} lines",
                               file=member.label, row=done, field="rows", value=done)
    return written, ts_row0, row0_kept


def _message_error(status: Status, row: int, col: int, batch: pa.RecordBatch, done: int,
                   label: str, px_divisor: int, tick_size: float, out: np.ndarray,
                   written: int, n_out: int) -> DataQualityError:
    field = _k.MESSAGE_COLUMNS[col]
    grow = done + row
    line = f" (line {grow + 1})"
    if col == _k.COL_TIME:
        ns = int(_decimal_ns(batch.column(0))[row])
        value = _seconds_text(ns)
        if status == Status.UNSORTED:
            prev = row - 1
            prev_text = (_seconds_text(int(_decimal_ns(batch.column(0))[prev])) if prev >= 0
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


def _ob_colname(i: int) -> str:
    return f"{_ORDERBOOK_FIELDS[i % 4]}_{i // 4 + 1}"


def _read_orderbook_head(member: _Member, levels: int) -> list[int]:
    """Parse orderbook row 0 (all 4L columns) in Python: it is one line."""
    with member.open() as fh:
        line = fh.readline(1 << 20).decode("ascii", errors="replace").rstrip("\r\n")
    if line == "":
        raise DataQualityError("orderbook file is empty", file=member.label, row=0,
                               field="rows", value=0)
    parts = line.split(",")
    if len(parts) != 4 * levels:
        raise DataQualityError(
            f"row has {len(parts)} columns, expected {4 * levels} (4 x {levels} levels,"
            " from the file name) (line 1)",
            file=member.label, row=0, field="columns", value=len(parts))
    out = []
    for i, p in enumerate(parts):
        try:
            out.append(int(p))
        except ValueError:
            raise DataQualityError(f"{_ob_colname(i)} was {p!r}, expected an integer (line 1)",
                                   file=member.label, row=0, field=_ob_colname(i),
                                   value=p) from None
    return out


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


def _scan_orderbook(member: _Member, levels: int, px_divisor: int,
                    tick_size: float) -> tuple[int, int, int]:
    """Stream the level-1 columns: return ``(rows, crossed, locked)``; raise on bad rows."""
    names = [_ob_colname(i) for i in range(4 * levels)]
    conv = pacsv.ConvertOptions(include_columns=names[:4],
                                column_types={n: pa.int64() for n in names[:4]},
                                null_values=[], quoted_strings_can_be_null=False)
    rows = crossed = locked = 0
    for batch, _ in _csv_batches(member, names, conv,
                                 lambda i: names[i] if i < len(names) else f"column {i}"):
        ask_px, ask_sz, bid_px, bid_sz = (_int_column(batch, i) for i in range(4))
        _check_level1(ask_px, ask_sz, bid_px, bid_sz, rows, member.label, px_divisor, tick_size)
        c, lk = _k.count_crossed_locked(ask_px, bid_px, ASK_EMPTY, BID_EMPTY)
        crossed += int(c)
        locked += int(lk)
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

    Returns
    -------
    MarketData
        Events in file order, preceded (when ``orderbook``) by a ``CLEAR`` and one
        ``SNAPSHOT`` per known level giving the book *before* message 0, and a
        :class:`~qlib.data.ValidationReport` (``source="lobster"``).

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

    **EventFlag.LAST** is set on every message: LOBSTER's orderbook file gives the
    book after each message, so each is a consistent state, including the several
    rows one sweeping order produces at one timestamp (ITCH publishes them as
    separate messages too).

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
    crossed. Timestamps must not decrease. The orderbook is streamed in 1 MiB blocks
    reading only its level-1 columns (row 0 is parsed whole), so memory stays near
    the size of the event array.

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
    if sub_tick_trades not in ("drop", "raise"):
        raise ParameterError(f"sub_tick_trades must be 'drop' or 'raise', was {sub_tick_trades!r}")
    if isinstance(feed_latency_ns, bool) or not isinstance(feed_latency_ns, (int, np.integer)) \
            or feed_latency_ns < 0:
        raise ParameterError(f"feed_latency_ns must be an int >= 0, was {feed_latency_ns!r}")
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, (int, np.integer))
                               or levels < 1):
        raise ParameterError(f"levels must be an int >= 1 or None, was {levels!r}")
    want_date = _as_date(date)
    files = _resolve(Path(path), None if levels is None else int(levels))
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
    if orderbook and not _member_exists(files.orderbook):
        raise DataNotFoundError(
            f"LOBSTER orderbook file {files.orderbook.label!r} (beside the message file) does"
            " not exist; pass orderbook=False to load the messages alone")
    tz = _midnight_utc_ns(day, LOBSTER_TIMEZONE)

    n_msg = _count_rows(files.message)
    if n_msg == 0:
        raise DataQualityError("message file is empty", file=files.message.label, row=0,
                               field="rows", value=0)
    head = 2 * files.levels + 2 if orderbook else 0  # CLEAR + at most 2L + 1 levels
    buf = empty_events(head + n_msg)
    report = ValidationReport("lobster")
    report.files = [files.message.label]
    report.rows_read = n_msg
    n_events, ts_row0, row0_kept = _read_messages(
        files.message, buf[head:], tz, px_divisor, int(feed_latency_ns), instrument.tick_size,
        sub_tick_trades == "drop", report)
    msg_events = buf[head: head + n_events]
    provenance: dict = {
        "loader": "qlib.data.lobster.load_lobster", "path": str(path),
        "message_file": files.message.label, "ticker": files.ticker, "date": day.isoformat(),
        "levels": files.levels, "window_ms": (files.start_ms, files.end_ms),
        "timezone": LOBSTER_TIMEZONE, "feed_latency_ns": int(feed_latency_ns),
        "orderbook": orderbook,
    }
    if orderbook:
        row0 = _read_orderbook_head(files.orderbook, files.levels)
        n_ob, crossed, locked = _scan_orderbook(files.orderbook, files.levels, px_divisor,
                                                instrument.tick_size)
        if n_ob != n_msg:
            raise DataQualityError(
                f"orderbook file has {n_ob} rows but the message file has {n_msg};"
                " row i of the orderbook must be the book after message i",
                file=files.orderbook.label, row=min(n_ob, n_msg), field="rows", value=n_ob)
        first = msg_events[0] if row0_kept and n_events else None
        bids, asks = _book_before_first_message(row0, files.levels, first, px_divisor,
                                                files.orderbook.label, instrument.tick_size)
        k = 1 + len(bids) + len(asks)
        events = buf[head - k: head + n_events]
        _write_snapshot(events[:k], bids, asks, ts_row0, ts_row0 + int(feed_latency_ns))
        report.files.append(files.orderbook.label)
        report.crossed_rows = crossed
        report.locked_rows = locked
        report.notes.append(
            f"orderbook rows read: {n_ob} (level-1 columns checked; crossed/locked counted"
            " there)")
        report.notes.append(
            f"initial snapshot: CLEAR + {len(bids)} bid and {len(asks)} ask levels, the book"
            " before message 0 (orderbook row 0 with message 0 undone); deeper levels unknown")
        provenance["orderbook_file"] = files.orderbook.label
        provenance["snapshot_levels"] = (len(bids), len(asks))
    else:
        events = buf[:n_events]
        report.notes.append(
            "orderbook=False: orderbook file not read; no initial snapshot (the book before"
            " message 0 is unknown), no row-count or crossed/locked check")
    report.notes.append(
        f"ts_exch from seconds after midnight {LOBSTER_TIMEZONE} on {day}; ts_local ="
        f" ts_exch + {int(feed_latency_ns)} ns (TS_LOCAL_SYNTH); LAST set on every message")
    check_events(events, report)
    return MarketData(events, instrument, report, provenance)
