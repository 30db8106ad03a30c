"""File and CSV reading helpers of the LOBSTER loader (no numba code, no book logic).

Finds the LOBSTER days under a path (zip, CSV, directory of either; one day is a
message/orderbook pair), sniffs each file's start (UTF-8 byte-order mark, header row,
CRLF line ends), streams a file in ~1 MiB pieces cut at line ends and parses each
piece with ``pyarrow.csv`` into int64 columns. A piece pyarrow's typed parse refuses
(an integer written ``5.0``, a time with more than 9 decimals, a time too large for
int64 nanoseconds) is parsed again as text by
:func:`qlib.data._lobster_kernels.parse_scaled`, which counts those quirks or names
the bad cell. The error builders at the end turn the kernels' status codes into
:class:`~qlib.errors.DataQualityError` naming file, row, field and value; every error
of this module is one. The public wrapper is :func:`qlib.data.lobster.load_lobster`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from qlib.data import _lobster_kernels as _k
from qlib.enums import Status
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError

BLOCK_BYTES = 1 << 20
#: Price LOBSTER writes in an empty ask level of the orderbook file (its size is 0).
ASK_EMPTY = 9_999_999_999
#: Price LOBSTER writes in an empty bid level of the orderbook file (its size is 0).
BID_EMPTY = -9_999_999_999
#: LOBSTER prices are dollars x PRICE_SCALE.
PRICE_SCALE = 10_000
#: Arrow pool for the per-piece parses: the system allocator hands freed pieces back,
#: where Arrow's default mimalloc pool kept ~11 MB more resident on the GOOG L10 day.
POOL = pa.system_memory_pool()
_NAME_RE = re.compile(
    r"^(?P<ticker>[A-Za-z0-9.\-]+?)_(?:(?P<date>\d{4}-\d{2}-\d{2})_)?(?P<start>\d+)_(?P<end>\d+)"
    r"_(?P<part>message|orderbook)_(?P<levels>\d+)\.csv$"
)


# --------------------------------------------------------------------------- files
@dataclass(frozen=True)
class Member:
    """One CSV file, on disk or inside a zip; ``label`` names it in errors."""

    label: str
    name: str
    path: Path
    zip_path: Path | None = None

    def open(self) -> IO[bytes]:
        if self.zip_path is None:
            return open(self.path, "rb")
        zf = open_zip(self.zip_path)
        try:
            fh = zf.open(self.name)
        except KeyError:
            zf.close()
            raise DataNotFoundError(f"zip {str(self.zip_path)!r} has no member {self.name!r}"
                                    ) from None
        except (NotImplementedError, RuntimeError, zipfile.BadZipFile, zlib.error) as exc:
            zf.close()  # unsupported compression method, encrypted member, bad header
            raise DataQualityError(f"zip member cannot be read: {exc}", file=self.label,
                                   field="file", value=self.name) from None
        except BaseException:
            zf.close()
            raise
        return _ZipMemberStream(zf, fh, self.label, self.name)


#: What a damaged zip member raises while it is read (bad CRC, bad deflate data,
#: truncated data).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip archive; a damaged one raises DataQualityError naming it."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise DataQualityError(f"not a readable zip archive: {exc}", file=str(path),
                               field="file", value=path.name) from None


class _ZipMemberStream(io.RawIOBase):
    """A zip member's decompressing stream that closes its archive with it.

    A damaged member (bad CRC, bad compressed data) raises DataQualityError naming
    the member, where :mod:`zipfile` raises ``BadZipFile``/``zlib.error``.
    """

    def __init__(self, zf: zipfile.ZipFile, fh: IO[bytes], label: str, name: str) -> None:
        super().__init__()
        self._zf = zf
        self._fh = fh
        self._label = label
        self._name = name

    def readable(self) -> bool:
        return True

    def _error(self, exc: BaseException) -> DataQualityError:
        return DataQualityError(f"zip member is damaged ({type(exc).__name__}: {exc})",
                                file=self._label, field="file", value=self._name)

    def read(self, size: int = -1) -> bytes:
        try:
            return self._fh.read(size)
        except _ZIP_ERRORS as exc:
            raise self._error(exc) from None

    def readinto(self, buf) -> int:  # pragma: no cover - pyarrow calls read()
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        try:
            return self._fh.readline(-1 if size is None else size)
        except _ZIP_ERRORS as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
            self._zf.close()
        super().close()


@dataclass(frozen=True)
class LobsterFiles:
    message: Member
    orderbook: Member
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


def _pair(message_name: str, m: re.Match[str], make: Callable[[str], Member],
          label: str) -> LobsterFiles:
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
    start, end = int(m["start"]), int(m["end"])
    if not start <= end <= 86_400_000:
        raise DataQualityError(
            f"time window in the file name was {start}_{end} ms after midnight, expected"
            " START <= END <= 86400000", file=label, field="file name",
            value=Path(message_name).name)
    ob = make(ob_name)
    return LobsterFiles(make(message_name), ob, m["ticker"], date, levels, start, end)


def _candidates(path: Path) -> tuple[list[tuple[str, Callable[[str], Member], str]], list[str]]:
    """Message-file candidates under ``path`` (a directory or a zip) and every name seen.

    Each candidate is ``(name, make, label)``: the file name (inside the zip or the
    directory), a function turning a name into a :class:`Member`, and the label of
    the message file. A directory's zips are looked into too.
    """
    out: list[tuple[str, Callable[[str], Member], str]] = []
    seen: list[str] = []

    def add_zip(z: Path) -> None:
        with open_zip(z) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
        seen.extend(f"{z.name}/{n}" for n in names)

        def make(n: str, z: Path = z) -> Member:
            return Member(f"{z}/{n}", n, z, zip_path=z)

        out.extend((n, make, f"{z}/{n}") for n in names)

    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.suffix.lower() == ".csv" and p.is_file():
                seen.append(p.name)
                out.append((str(p), lambda n: Member(n, n, Path(n)), str(p)))
            elif p.suffix.lower() == ".zip" and p.is_file():
                add_zip(p)
            else:
                seen.append(p.name)
    else:
        add_zip(path)
    return out, seen


def find_days(path: Path, levels: int | None, ticker: str | None) -> list[LobsterFiles]:
    """Return the LOBSTER days under ``path``, in date order.

    ``path`` is a message or orderbook CSV, a zip, or a directory of CSVs and zips.
    ``levels`` and ``ticker`` pick among several depths and tickers; several of
    either without the pick is a ParameterError naming them. The same day and
    depth found twice (a zip and its extracted files side by side) is a
    ParameterError naming both.
    """
    if not path.exists():
        raise DataNotFoundError(f"LOBSTER path {str(path)!r} does not exist")
    if path.is_file() and path.suffix.lower() in (".7z", ".rar", ".gz", ".bz2", ".xz", ".zst"):
        raise DataQualityError(
            f"{path.suffix} archives are not read; extract the LOBSTER CSV files (e.g."
            f" 7z x {path.name}) and pass the directory or a message file",
            file=str(path), field="file", value=path.name)
    if path.is_file() and not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".zip":
            raise DataQualityError("not a readable zip archive", file=str(path), field="file",
                                   value=path.name)
        f = _single_csv(path, levels)
        if ticker is not None and f.ticker.upper() != str(ticker).upper():
            raise ParameterError(f"ticker was {ticker!r}, but {path.name!r} is of {f.ticker!r}")
        return [f]
    cands, seen = _candidates(path)
    where = f"{'directory' if path.is_dir() else 'zip'} {str(path)!r}"
    found = []
    for name, make, label in cands:
        m = _NAME_RE.match(Path(name).name)
        if m is not None and m["part"] == "message":
            found.append(_pair(name, m, make, label))
    if not found:
        raise DataNotFoundError(
            f"no LOBSTER message file (TICKER_DATE_START_END_message_L.csv) in {where};"
            f" it holds {sorted(seen)}")
    if levels is not None:
        found = [f for f in found if f.levels == levels]
        if not found:
            raise DataNotFoundError(
                f"no LOBSTER message file with {levels} levels in {where}; it holds"
                f" {sorted(Path(c[0]).name for c in cands)}")
    if ticker is not None:
        found = [f for f in found if f.ticker.upper() == str(ticker).upper()]
        if not found:
            raise DataNotFoundError(f"no LOBSTER message file of ticker {ticker!r} in {where}")
    tickers = sorted({f.ticker for f in found})
    if len(tickers) > 1:
        raise ParameterError(
            f"{where} holds LOBSTER files of several tickers {tickers}; pass ticker= to"
            " load one of them")
    depths = sorted({f.levels for f in found})
    if len(depths) > 1:
        raise ParameterError(
            f"{where} holds LOBSTER message files at several depths {depths}"
            f" ({sorted(Path(f.message.name).name for f in found)}); pass levels= or a"
            " file path")
    by_day: dict[dt.date | None, LobsterFiles] = {}
    for f in found:
        if f.date in by_day:
            raise ParameterError(
                f"{where} holds the same LOBSTER day twice: {by_day[f.date].message.label!r}"
                f" and {f.message.label!r}; pass one of them")
        by_day[f.date] = f
    if len(found) > 1 and None in by_day:
        raise DataQualityError(
            "file name has no date (TICKER_DATE_START_END_message_L.csv), so the days of"
            f" {where} cannot be put in order", file=by_day[None].message.label, field="date",
            value=Path(by_day[None].message.name).name)
    return sorted(found, key=lambda f: f.date or dt.date.min)


def _single_csv(path: Path, levels: int | None) -> LobsterFiles:
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
    return _pair(str(path), m, lambda n: Member(n, n, Path(n)), label)


def member_exists(member: Member) -> bool:
    if member.zip_path is None:
        return member.path.is_file()
    with open_zip(member.zip_path) as zf:
        return member.name in set(zf.namelist())

# --------------------------------------------------------------------------- file start
_BOM = b"\xef\xbb\xbf"
_HEADER_CELL = re.compile(r'^\s*"?[A-Za-z_][A-Za-z0-9_ .()/#-]*"?\s*$')


@dataclass(frozen=True)
class Layout:
    """How a file starts: ``skip`` bytes before the first data row, and why.

    ``line0`` is the 1-based line number of data row 0 (2 after a header row).
    """

    skip: int = 0
    bom: bool = False
    header: str | None = None
    crlf: bool = False

    @property
    def line0(self) -> int:
        return 2 if self.header is not None else 1


def sniff(member: Member) -> Layout:
    """Read the first line: a UTF-8 byte-order mark, a header row of names, CRLF ends.

    A header is a first line whose every cell is a name (starts with a letter or
    ``_``, e.g. ``time,type,order_id,...``); a line with any number in it is data.
    """
    with member.open() as fh:
        first = fh.readline(1 << 20)
    bom = first.startswith(_BOM)
    line = first[3:] if bom else first
    crlf = line.endswith(b"\r\n")
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    cells = text.split(",")
    header = text if text.strip() and all(_HEADER_CELL.match(c) for c in cells) else None
    skip = (3 if bom else 0) + (len(line) if header is not None else 0)
    return Layout(skip, bom, header, crlf)


# --------------------------------------------------------------------------- csv helpers
_ROW_RE = re.compile(r"Row #(\d+)")
_COL_RE = re.compile(r"column #(\d+)")
_NCOL_RE = re.compile(r"Expected (\d+) columns, got (\d+)")


def _arrow_error(exc: Exception, label: str, column_name: Callable[[int], str],
                 bad_rows: list, first_row: int, line0: int) -> DataQualityError:
    """Turn a pyarrow CSV error of the text parse into a DataQualityError.

    The text parse (every column a string) fails only on the shape of a row: a
    wrong number of columns, a blank line. pyarrow numbers rows from 1 within the
    piece it parsed, which starts at data row ``first_row`` of the file.
    """
    text = str(exc)
    row_m = _ROW_RE.search(text)
    num = int(row_m.group(1)) if row_m else None
    if num is None and bad_rows and bad_rows[0].number not in (None, -1):
        num = int(bad_rows[0].number)
    row = None if num is None else num - 1 + first_row
    where = "" if row is None else f" (line {row + line0})"
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
    return DataQualityError(f"{field} could not be read: {text}{where}", file=label, row=row,
                            field=field)


def _pieces(member: Member, skip: int = 0, block_bytes: int = BLOCK_BYTES):
    """Yield ``(piece, first_row)``: the file from byte ``skip`` in ~``block_bytes`` pieces.

    Pieces are cut at line ends. pyarrow's own streaming reader reads ahead many
    blocks from a Python file object (about 12 MiB here), so the blocks are cut
    here instead: memory stays at one piece plus its parsed columns.
    """
    carry = b""
    row = 0
    with member.open() as fh:
        if skip:
            fh.read(skip)
        while data := fh.read(block_bytes):
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


#: Column kinds of :func:`read_blocks`: decimal seconds to int64 ns, or an integer.
NS = "ns"
INT = "int"
#: Quirks :func:`read_blocks` reports through its ``on_quirk`` callback.
QUIRK_DECIMAL_FORM = "decimal_form"
QUIRK_ROUNDED = "rounded"


def _slow_cell(text: str, scale: int, allow_round: bool) -> tuple[int, int, int]:
    """Parse one cell in exponent notation exactly: ``(code, value, quirk bits)``."""
    try:
        d = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        return _k.PARSE_BAD, 0, 0
    if not d.is_finite():
        return _k.PARSE_BAD, 0, 0
    if d.adjusted() + scale > 19:  # |value| >= 1e20 after scaling: beyond int64
        return _k.PARSE_OVERFLOW, 0, 0
    scaled = d.scaleb(scale)
    whole = scaled.to_integral_value(rounding=decimal.ROUND_HALF_UP)
    bits = _k.QUIRK_DECIMAL_FORM if scale == 0 else 0
    if whole != scaled:
        if not allow_round:
            return _k.PARSE_NOT_WHOLE, 0, 0
        bits |= _k.QUIRK_ROUNDED
    v = int(whole)
    if not -(1 << 63) <= v < (1 << 63):
        return _k.PARSE_OVERFLOW, 0, 0
    return _k.PARSE_OK, v, bits


def _text_column(arr: pa.Array, kind: str, label: str, field: str, first_row: int,
                 line0: int, quirk_rows: np.ndarray) -> np.ndarray:
    """Parse a string column into int64 (ns or integers); raise naming the bad cell."""
    arr = arr.cast(pa.string()) if arr.type != pa.string() else arr
    n = len(arr)
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32)
    data = (np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None
            else np.zeros(1, dtype=np.uint8))
    scale, allow_round = (9, True) if kind == NS else (0, False)
    quirk = np.zeros(n, dtype=np.uint8)
    code, row = _k.parse_scaled(data, offsets, arr.offset, n, scale, allow_round, out, quirk)
    for r in np.flatnonzero(quirk & _k.QUIRK_SLOW).tolist():  # exponent notation: rare
        if code != _k.PARSE_OK and r > row:
            break
        code_r, v, bits = _slow_cell(arr[r].as_py(), scale, allow_round)
        if code_r != _k.PARSE_OK:
            code, row = code_r, r
            break
        out[r] = v
        quirk[r] = bits
    if code != _k.PARSE_OK:
        text = arr[int(row)].as_py()
        grow = first_row + int(row)
        where = f" (line {grow + line0})"
        if code == _k.PARSE_BAD:
            blank = " (empty field or blank line)" if text.strip() == "" else ""
            want = "a decimal number of seconds" if kind == NS else "an integer"
            msg = f"{field} was {text!r}{blank}, expected {want}{where}"
        elif code == _k.PARSE_NOT_WHOLE:
            msg = f"{field} was {text!r}, expected a whole number{where}"
        elif kind == NS:
            msg = (f"{field} was {text!r} s: too large to count in int64 nanoseconds"
                   f" (seconds after midnight are below 86400){where}")
        else:
            msg = f"{field} was {text!r}: outside the int64 range{where}"
        raise DataQualityError(msg, file=label, row=grow, field=field, value=text)
    quirk_rows |= quirk
    return out


def read_blocks(member: Member, layout: Layout, names: list[str], kinds: dict[str, str],
                use: list[str], block_bytes: int = BLOCK_BYTES,
                on_quirk: Callable[[str, int, int, str], None] | None = None):
    """Yield ``(columns, first_row)``: the columns ``use`` of each piece as int64 arrays.

    ``names`` are the file's columns in order, ``kinds`` maps each used column to
    :data:`NS` (decimal seconds, parsed exactly to ns) or :data:`INT`. A piece is
    parsed by pyarrow with the typed columns (``decimal128(18, 9)`` for seconds,
    whose unscaled integer is the ns count, so no float rounding); if that fails, or
    a time does not fit int64 ns, the piece is parsed again as text and converted by
    :func:`qlib.data._lobster_kernels.parse_scaled`: integers written ``5.0`` and
    times with more than 9 decimals (rounded half up to the ns) are accepted and
    reported to ``on_quirk(quirk, first_row, count, example_text)``; anything else
    raises DataQualityError naming the file, row, field and value.
    """
    bad_rows: list = []

    def on_invalid(row) -> str:
        bad_rows.append(row)
        return "error"

    def colname(i: int) -> str:
        return names[i] if 0 <= i < len(names) else f"column {i}"

    types = {c: (pa.decimal128(18, 9) if kinds[c] == NS else pa.int64()) for c in use}
    typed = pacsv.ConvertOptions(include_columns=use, column_types=types, null_values=[],
                                 quoted_strings_can_be_null=False)
    as_text = pacsv.ConvertOptions(include_columns=use,
                                   column_types={c: pa.string() for c in use},
                                   null_values=[], quoted_strings_can_be_null=False)
    parse = pacsv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=on_invalid)
    for piece, first_row in _pieces(member, layout.skip, block_bytes):
        read = pacsv.ReadOptions(column_names=names, use_threads=False,
                                 block_size=len(piece) + 1)
        cols = None
        try:
            table = pacsv.read_csv(pa.BufferReader(pa.py_buffer(piece)), read_options=read,
                                   parse_options=parse, convert_options=typed,
                                   memory_pool=POOL)
        except pa.ArrowInvalid:
            bad_rows.clear()
        else:
            cols = []
            for i, c in enumerate(use):
                ch = table.column(i)
                arr = ch.chunk(0) if ch.num_chunks == 1 else ch.combine_chunks()
                if kinds[c] == NS:
                    words = np.frombuffer(arr.buffers()[1], dtype="<i8")
                    lo = words[2 * arr.offset: 2 * (arr.offset + len(arr)): 2]
                    hi = words[2 * arr.offset + 1: 2 * (arr.offset + len(arr)): 2]
                    if np.any(hi != (lo >> 63)):  # beyond int64 ns: pyarrow wraps it
                        cols = None
                        break
                    cols.append(lo)
                else:
                    cols.append(arr.to_numpy(zero_copy_only=True))
        if cols is None:
            try:
                table = pacsv.read_csv(pa.BufferReader(pa.py_buffer(piece)), read_options=read,
                                       parse_options=parse, convert_options=as_text,
                                       memory_pool=POOL)
            except pa.ArrowInvalid as exc:
                raise _arrow_error(exc, member.label, colname, bad_rows, first_row,
                                   layout.line0) from exc
            n = table.num_rows
            quirk_rows = np.zeros(n, dtype=np.uint8)
            cols = [_text_column(table.column(c).combine_chunks(), kinds[c], member.label, c,
                                 first_row, layout.line0, quirk_rows) for c in use]
            if on_quirk is not None:
                for bit, name in ((_k.QUIRK_DECIMAL_FORM, QUIRK_DECIMAL_FORM),
                                  (_k.QUIRK_ROUNDED, QUIRK_ROUNDED)):
                    hit = np.flatnonzero(quirk_rows & bit)
                    if hit.size:
                        r = int(hit[0])
                        example = ",".join(str(table.column(c)[r].as_py()) for c in use)
                        on_quirk(name, first_row + r, int(hit.size), example)
        yield cols, first_row


def count_rows(member: Member, layout: Layout) -> int:
    """Count data rows after the layout's skip (newline-terminated lines, plus an
    unterminated last line)."""
    n = 0
    last = b"\n"
    with member.open() as fh:
        if layout.skip:
            fh.read(layout.skip)
        while chunk := fh.read(BLOCK_BYTES):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


# --------------------------------------------------------------------------- orderbook
ORDERBOOK_FIELDS = ("ask_price", "ask_size", "bid_price", "bid_size")


def ob_colname(i: int) -> str:
    return f"{ORDERBOOK_FIELDS[i % 4]}_{i // 4 + 1}"


def parse_int_cell(text: str) -> tuple[int, bool] | None:
    """One integer cell as LOBSTER writes it (or ``5.0``, ``5.8e+06``): ``(value,
    decimal_form)``, or None when it is not a whole number."""
    t = text.strip()
    try:
        return int(t), False
    except ValueError:
        pass
    code, v, _ = _slow_cell(t, 0, False)
    return (v, True) if code == _k.PARSE_OK else None


def read_orderbook_head(member: Member, layout: Layout, levels: int) -> list[int]:
    """Parse orderbook row 0 (all 4L columns) in Python (the block parse counts its quirks)."""
    with member.open() as fh:
        if layout.skip:
            fh.read(layout.skip)
        line = fh.readline(1 << 20).decode("utf-8", errors="replace").rstrip("\r\n")
    where = f" (line {layout.line0})"
    if line == "":
        raise DataQualityError(f"orderbook file is empty{where}", file=member.label, row=0,
                               field="rows", value=0)
    parts = line.split(",")
    if len(parts) != 4 * levels:
        raise DataQualityError(
            f"row has {len(parts)} columns, expected {4 * levels} (4 x {levels} levels,"
            f" from the file name){where}",
            file=member.label, row=0, field="columns", value=len(parts))
    out = []
    for i, p in enumerate(parts):
        got = parse_int_cell(p)
        if got is None:
            raise DataQualityError(f"{ob_colname(i)} was {p!r}, expected an integer{where}",
                                   file=member.label, row=0, field=ob_colname(i),
                                   value=p) from None
        out.append(got[0])
    return out


# --------------------------------------------------------------------------- errors
def seconds_text(ns_of_day: int) -> str:
    sign = "-" if ns_of_day < 0 else ""
    s, ns = divmod(abs(int(ns_of_day)), 1_000_000_000)
    return f"{sign}{s}.{ns:09d}"


def message_error(status: Status, row: int, col: int, cols: list[np.ndarray], done: int,
                   label: str, line0: int, window: tuple[int, int]) -> DataQualityError:
    field = _k.MESSAGE_COLUMNS[col]
    grow = done + row
    line = f" (line {grow + line0})"
    if col == _k.COL_TIME:
        ns = cols[0]
        value = seconds_text(int(ns[row]))
        if status == Status.UNSORTED:
            prev_text = (seconds_text(int(ns[row - 1])) if row > 0
                         else "the previous block's last time")
            return DataQualityError(
                f"time went backwards: was {value} s, previous row was {prev_text} s{line}",
                file=label, row=grow, field=field, value=value)
        lo, hi = (seconds_text(w).rstrip("0").rstrip(".") for w in window)
        return DataQualityError(
            f"time was {value} s, outside the file's window [{lo}, {hi}] s after midnight"
            f" (START_END in its name){line}", file=label, row=grow, field=field, value=value)
    value = int(cols[col][row])
    typ = int(cols[_k.COL_TYPE][row])
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
    else:
        text = f"price was {value}, expected a positive price (dollars x {PRICE_SCALE})"
    return DataQualityError(text + line, file=label, row=grow, field=field, value=value)


def check_level1(ask_px, ask_sz, bid_px, bid_sz, done: int, label: str, line0: int) -> None:
    """Vectorised checks of one block of level-1 columns; raise on the first bad row."""
    checks = (
        ("ask_price_1", ask_px, (ask_px != ASK_EMPTY) & (ask_px <= 0), "is not positive"),
        ("bid_price_1", bid_px, (bid_px != BID_EMPTY) & (bid_px <= 0), "is not positive"),
        ("ask_size_1", ask_sz, np.where(ask_px == ASK_EMPTY, ask_sz != 0, ask_sz <= 0),
         "is not > 0 (or 0 beside the empty-level price)"),
        ("bid_size_1", bid_sz, np.where(bid_px == BID_EMPTY, bid_sz != 0, bid_sz <= 0),
         "is not > 0 (or 0 beside the empty-level price)"),
    )
    for name, values, bad, why in checks:
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise DataQualityError(f"{name} {int(values[r])} {why} (line {done + r + line0})",
                                   file=label, row=done + r, field=name, value=int(values[r]))


def orderbook_error(status: Status, ob: np.ndarray, row: int, col: int, row0: int,
                     label: str, line0: int, unit: int = 1,
                     tick_size: float | None = None) -> DataQualityError:
    grow = row0 + row
    line = f" (line {grow + line0})"
    if status == Status.SEQUENCE_GAP:
        return DataQualityError(f"orderbook row {grow} has no message row to pair with{line}",
                                file=label, row=grow, field="rows", value=grow)
    name = ob_colname(col)
    value = int(ob[row, col])
    empty = ASK_EMPTY if name.startswith("ask") else BID_EMPTY
    if status == Status.OFF_GRID:
        text = (f"{name} {value} is not a positive multiple of the tick size {tick_size:g}"
                f" (= {unit} price units)" if tick_size is not None
                else f"{name} {value} is not a positive price")
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


def ob_kinds(levels: int) -> tuple[list[str], dict[str, str]]:
    names = [ob_colname(i) for i in range(4 * levels)]
    return names, {n: INT for n in names}


def find_off_grid_row(member: Member, layout: Layout, levels: int, unit: int,
                       tick_size: float) -> DataQualityError:
    """The error naming the first orderbook price off a ``unit``-price-unit grid."""
    names, kinds = ob_kinds(levels)
    for cols, first in read_blocks(member, layout, names, kinds, names):
        ob = np.stack(cols, axis=1)
        px = ob[:, [4 * j + k for j in range(levels) for k in (0, 2)]]
        bad = (px > 0) & (px != ASK_EMPTY) & (px % unit != 0)
        if bad.any():
            r, c = (int(x) for x in np.argwhere(bad)[0])
            col = 4 * (c // 2) + 2 * (c % 2)
            return orderbook_error(Status.OFF_GRID, ob, r, col, first, member.label,
                                    layout.line0, unit, tick_size)
    raise AssertionError("no off-grid price found")  # pragma: no cover - caller checked the gcd
