"""File and CSV reading helpers of the LOBSTER loader (no numba, no book logic).

Resolves a LOBSTER path (zip, CSV, directory) to its message/orderbook pair, streams
a file in ~1 MiB pieces cut at line ends, parses each piece with ``pyarrow.csv`` and
turns pyarrow's parse errors into :class:`~qlib.errors.DataQualityError` naming file,
row and field. The public wrapper is :func:`qlib.data.lobster.load_lobster`.
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

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from qlib.errors import DataNotFoundError, DataQualityError, ParameterError

BLOCK_BYTES = 1 << 20
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
    ob = make(ob_name)
    return LobsterFiles(make(message_name), ob, m["ticker"], date, levels,
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


def resolve(path: Path, levels: int | None) -> LobsterFiles:
    if not path.exists():
        raise DataNotFoundError(f"LOBSTER path {str(path)!r} does not exist")
    if path.is_dir():
        csvs = sorted(str(p) for p in path.iterdir() if p.suffix.lower() == ".csv")
        name = _choose(csvs, levels, f"directory {str(path)!r}")
        m = _parse_name(name, name)
        return _pair(name, m, lambda n: Member(n, n, Path(n)), name)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
        name = _choose(names, levels, f"zip {str(path)!r}")
        label = f"{path}/{name}"
        m = _parse_name(name, label)

        def make(n: str) -> Member:
            return Member(f"{path}/{n}", n, path, zip_path=path)

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
    return _pair(str(path), m, lambda n: Member(n, n, Path(n)), label)


def member_exists(member: Member) -> bool:
    if member.zip_path is None:
        return member.path.is_file()
    with zipfile.ZipFile(member.zip_path) as zf:
        return member.name in set(zf.namelist())

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


def _pieces(member: Member, block_bytes: int = BLOCK_BYTES):
    """Yield ``(piece, first_row)``: the file in pieces of ~``block_bytes`` cut at line ends.

    pyarrow's own streaming reader reads ahead many blocks from a Python file
    object (about 12 MiB here), so the blocks are cut here instead: memory stays
    at one piece plus its parsed columns.
    """
    carry = b""
    row = 0
    with member.open() as fh:
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


def csv_batches(member: Member, names: list[str], conv: pacsv.ConvertOptions,
                column_name: Callable[[int], str], block_bytes: int = BLOCK_BYTES):
    """Yield ``(batch, first_row)`` over the whole file; raise DataQualityError on bad rows."""
    bad_rows: list = []

    def on_invalid(row) -> str:
        bad_rows.append(row)
        return "error"

    parse = pacsv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=on_invalid)
    for piece, first_row in _pieces(member, block_bytes):
        read = pacsv.ReadOptions(column_names=names, use_threads=False,
                                 block_size=len(piece) + 1)
        try:
            table = pacsv.read_csv(pa.BufferReader(pa.py_buffer(piece)), read_options=read,
                                   parse_options=parse, convert_options=conv,
                                   memory_pool=POOL)
        except pa.ArrowInvalid as exc:
            raise _arrow_error(exc, member.label, column_name, bad_rows, first_row) from exc
        for batch in table.to_batches():
            yield batch, first_row
            first_row += batch.num_rows


def count_rows(member: Member) -> int:
    """Count data rows (newline-terminated lines, plus an unterminated last line)."""
    n = 0
    last = b"\n"
    with member.open() as fh:
        while chunk := fh.read(BLOCK_BYTES):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def int_column(batch: pa.RecordBatch, i: int) -> np.ndarray:
    return batch.column(i).to_numpy(zero_copy_only=True)


def decimal_ns(arr: pa.Array) -> np.ndarray:
    """Unscaled values of a decimal128(18, 9) array: the exact ns as int64."""
    words = np.frombuffer(arr.buffers()[1], dtype="<i8")
    return words[2 * arr.offset: 2 * (arr.offset + len(arr)): 2]


# --------------------------------------------------------------------------- orderbook
ORDERBOOK_FIELDS = ("ask_price", "ask_size", "bid_price", "bid_size")


def ob_colname(i: int) -> str:
    return f"{ORDERBOOK_FIELDS[i % 4]}_{i // 4 + 1}"


def read_orderbook_head(member: Member, levels: int) -> list[int]:
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
            raise DataQualityError(f"{ob_colname(i)} was {p!r}, expected an integer (line 1)",
                                   file=member.label, row=0, field=ob_colname(i),
                                   value=p) from None
    return out
