"""Reading layer of :mod:`qlib.data.tardis`: file kinds, decompression, typed columns, errors.

Files are read by pyarrow's multi-threaded CSV reader on the normal path. Only when
pyarrow refuses a file does :func:`diagnose` re-read it line by line in Python to
name the first bad row, field and value (the slow path runs on failure only).

pyarrow's reader already accepts what a user's re-saved Tardis file may carry
(checked against pyarrow 26): a UTF-8 byte-order mark before the header, fully
quoted fields, CRLF line ends, and extra columns (only the needed ones are
converted, via ``include_columns``).
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from qlib.errors import DataNotFoundError, DataQualityError

#: Columns every Tardis CSV kind starts with.
BASE_COLUMNS = ["exchange", "symbol", "timestamp", "local_timestamp"]
#: Required columns of each fixed-layout Tardis file kind, in Tardis's order.
TARDIS_COLUMNS: dict[str, list[str]] = {
    "trades": BASE_COLUMNS + ["id", "side", "price", "amount"],
    "quotes": BASE_COLUMNS + ["ask_amount", "ask_price", "bid_price", "bid_amount"],
    "book": BASE_COLUMNS + ["is_snapshot", "side", "price", "amount"],
}
#: A level column of a ``book_snapshot_N`` file: ``asks[0].price``, ``bids[24].amount``.
SNAPSHOT_COLUMN = re.compile(r"(asks|bids)\[(\d+)\]\.(price|amount)")
#: The two bytes every gzip member starts with (RFC 1952, section 2.3.1).
GZIP_MAGIC = b"\x1f\x8b"
#: Columns read as dictionary-encoded strings (few distinct values).
_CATEGORICAL = ("exchange", "symbol", "side", "is_snapshot")
#: Float columns in which an empty cell is allowed (an empty side or level).
_NULLABLE = ("ask_amount", "ask_price", "bid_price", "bid_amount")
_DICT = pa.dictionary(pa.int32(), pa.string())
_VALUE_CHARS = 200
_INT = re.compile(r"\s*-?[0-9]+\s*")  # what pyarrow 26 reads as int64 (no "+")


def snapshot_columns(depth: int) -> list[str]:
    """Columns of a ``book_snapshot_{depth}`` file in Tardis's order (ask then bid, per level)."""
    return BASE_COLUMNS + [f"{s}[{i}].{f}" for i in range(depth) for s in ("asks", "bids")
                    for f in ("price", "amount")]


def columns_of(kind: str) -> list[str]:
    """Required columns of ``kind`` (``"trades"``, ``"quotes"``, ``"book"``, ``"book_snapshot_N"``)."""
    if kind.startswith("book_snapshot_"):
        return snapshot_columns(int(kind.rsplit("_", 1)[1]))
    return TARDIS_COLUMNS[kind]


def _type_of(col: str) -> pa.DataType:
    if col in ("timestamp", "local_timestamp"):
        return pa.int64()
    if col in _CATEGORICAL:
        return _DICT
    if col == "id":
        return pa.string()
    return pa.float64()


def _nullable(col: str) -> bool:
    return col in _NULLABLE or SNAPSHOT_COLUMN.fullmatch(col) is not None


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def read_header(path: Path) -> list[str]:
    """Return the header's column names (BOM, quotes and CR removed; gzip read through)."""
    if not path.is_file():
        raise DataNotFoundError(f"Tardis file {path} does not exist")
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            line = fh.readline()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataQualityError(f"gzip stream is corrupt or truncated before the header: {exc}",
                               file=str(path), row=None, field="gzip", value=None) from None
    text = line.decode("utf-8-sig", "replace").rstrip("\r\n")
    return next(csv.reader([text]), [])


def header_kind(header: list[str], file: str) -> str:
    """Return the kind of a Tardis file from its header; extra columns are allowed.

    Raises
    ------
    DataQualityError
        If the header holds no supported kind's columns; the message names the
        missing columns of the closest kind (``row`` is None: not a data row).
    """
    have = set(header)
    levels = [SNAPSHOT_COLUMN.fullmatch(c) for c in header]
    idx = [int(m.group(2)) for m in levels if m]
    if idx:
        kind = f"book_snapshot_{max(idx) + 1}"
        missing = [c for c in columns_of(kind) if c not in have]
        if not missing:
            return kind
        raise DataQualityError(
            f"header has book snapshot level columns but lacks {missing[:8]} (a"
            f" {kind} file has asks[i].price, asks[i].amount, bids[i].price, bids[i].amount"
            " for every level i)", file=file, row=None, field=missing[0], value=",".join(header))
    fits = [k for k, cols in TARDIS_COLUMNS.items() if have.issuperset(cols)]
    if len(fits) == 1:
        return fits[0]
    if len(fits) > 1:
        raise DataQualityError(f"header {header} holds the columns of several kinds {fits}",
                               file=file, row=None, field="header", value=",".join(header))
    best = min(TARDIS_COLUMNS, key=lambda k: len(set(TARDIS_COLUMNS[k]) ^ have))
    missing = [c for c in TARDIS_COLUMNS[best] if c not in have]
    raise DataQualityError(
        f"header {header} is not a Tardis trades, quotes, incremental_book_L2 or"
        f" book_snapshot header; closest is {best}, missing {missing}", file=file, row=None,
        field=missing[0] if missing else "header", value=",".join(header))


@dataclass
class Table:
    """One file's columns: numbers as numpy arrays, strings dictionary-coded.

    Attributes
    ----------
    file, kind
        Path (as text) and file kind.
    n
        Data rows read.
    num
        Numeric columns (int64 timestamps, float64 prices and amounts; an empty
        cell of a nullable column is NaN and marked in ``null``).
    null
        Null masks of the nullable columns that hold an empty cell.
    cat
        Categorical columns as ``(codes int32, values list[str])``.
    ids
        The trade ``id`` column (pyarrow), for trades.
    rows
        Source data row (0-based, after the header) of each kept row.
    extra
        Columns of the file not in its kind's format (ignored).
    """

    file: str
    kind: str
    n: int
    num: dict[str, np.ndarray] = field(default_factory=dict)
    null: dict[str, np.ndarray] = field(default_factory=dict)
    cat: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)
    ids: pa.ChunkedArray | None = None
    rows: np.ndarray | None = None
    extra: list[str] = field(default_factory=list)

    def take(self, keep: np.ndarray) -> None:
        """Keep only the rows where ``keep`` is True (source row numbers follow)."""
        self.num = {k: v[keep] for k, v in self.num.items()}
        self.null = {k: v[keep] for k, v in self.null.items()}
        self.cat = {k: (c[keep], vals) for k, (c, vals) in self.cat.items()}
        if self.ids is not None:
            self.ids = pa.chunked_array([self.ids.combine_chunks().filter(pa.array(keep))])
        self.rows = self.rows[keep]
        self.n = int(self.rows.shape[0])


def _categorical(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Codes into one value list for a dictionary column read in several chunks."""
    index: dict[str, int] = {}
    parts = []
    for chunk in col.chunks:
        remap = np.array([index.setdefault(v, len(index)) for v in chunk.dictionary.to_pylist()],
                         dtype=np.int32)
        parts.append(remap[chunk.indices.to_numpy(zero_copy_only=False)])
    codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    return codes.astype(np.int32, copy=False), list(index)


def read_table(path: Path, kind: str, header: list[str]) -> Table:
    """Read one Tardis file with pyarrow (gzip told by magic bytes, not by name).

    Raises
    ------
    DataQualityError
        On any unreadable content: the first bad row, field and value are named
        (found by :func:`diagnose`), or a corrupt/truncated gzip stream.
    """
    name = str(path)
    cols = columns_of(kind)
    types_ = {c: _type_of(c) for c in cols}
    gz = is_gzip(path)
    try:
        stream = pa.input_stream(name, compression="gzip" if gz else None)
        table = pacsv.read_csv(stream, convert_options=pacsv.ConvertOptions(
            column_types=types_, include_columns=cols, null_values=[""],
            strings_can_be_null=False))
    except (pa.ArrowException, OSError, EOFError, ValueError) as exc:
        diagnose(path, header, cols, gz)
        raise DataQualityError(f"CSV does not parse: {exc}", file=name, row=None,
                               field=None, value=None) from None
    out = Table(name, kind, table.num_rows, extra=[c for c in header if c not in set(cols)])
    out.rows = np.arange(out.n, dtype=np.int64)
    for c in cols:
        arr = table.column(c)
        t = types_[c]
        if t == _DICT:
            out.cat[c] = _categorical(arr)
            continue
        if c == "id":
            out.ids = arr
            continue
        if arr.null_count:
            mask = arr.is_null().to_numpy(zero_copy_only=False)
            if not _nullable(c):
                row = int(np.flatnonzero(mask)[0])
                raise DataQualityError(f"{c} is empty, expected a number", file=name, row=row,
                                       field=c, value="")
            out.null[c] = mask
            out.num[c] = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        else:
            out.num[c] = arr.to_numpy()
    return out


def _short(text: str) -> str:
    return text if len(text) <= _VALUE_CHARS else text[:_VALUE_CHARS] + "..."


def diagnose(path: Path, header: list[str], cols: list[str], gz: bool) -> None:
    """Re-read a file that pyarrow refused, line by line, and raise naming the first bad cell.

    Returns without raising only when no bad line is found (the caller then raises
    with pyarrow's own message).
    """
    name = str(path)
    pos = {c: header.index(c) for c in cols}
    opener = gzip.open if gz else open
    row = -1
    try:
        with opener(path, "rb") as fh:
            for i, raw in enumerate(fh):
                if i == 0:
                    continue
                row = i - 1
                _check_line(raw, row, name, header, pos)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataQualityError(
            f"gzip stream is corrupt or truncated after {max(row, 0):,} complete data rows:"
            f" {exc}", file=name, row=max(row, 0), field="gzip", value=None) from None


def _check_line(raw: bytes, row: int, name: str, header: list[str], pos: dict[str, int]) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")
        cells = next(csv.reader([text.rstrip("\r\n")]), [])
        j = next((k for k, v in enumerate(cells) if "\ufffd" in v), 0)
        col = header[j] if j < len(header) else f"column {j}"
        bad = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
        raise DataQualityError(f"{col} is not valid UTF-8: {_short(bad)!r}", file=name, row=row,
                               field=col, value=_short(bad)) from None
    line = text.rstrip("\r\n")
    cells = next(csv.reader([line]), [])
    if len(cells) != len(header):
        col = header[min(len(cells), len(header) - 1)]
        raise DataQualityError(f"row has {len(cells)} fields, the header {len(header)}:"
                               f" {_short(line)!r}", file=name, row=row, field=col,
                               value=_short(line))
    for c, j in pos.items():
        v = cells[j]
        t = _type_of(c)
        if t == _DICT or c == "id":
            continue
        if v == "":
            if _nullable(c):
                continue
            raise DataQualityError(f"{c} is empty, expected a number", file=name, row=row,
                                   field=c, value="")
        try:
            if t == pa.int64():
                if not _INT.fullmatch(v):
                    raise ValueError
            else:
                float(v)
                if "_" in v:  # Python accepts 1_000, pyarrow does not
                    raise ValueError
        except ValueError:
            what = "an integer" if t == pa.int64() else "a number"
            raise DataQualityError(f"{c} was {_short(v)!r}, expected {what}", file=name,
                                   row=row, field=c, value=_short(v)) from None


def numeric_ids(ids: pa.ChunkedArray) -> np.ndarray:
    """Trade ids as int64 (-1 where an id is not a plain non-negative integer)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    digit = pc.fill_null(pc.utf8_is_digit(ids), False)
    digit = pc.and_(digit, pc.less_equal(pc.utf8_length(ids), 18))  # fits int64
    text = pc.if_else(digit, ids, pa.scalar("-1"))
    return pc.cast(text, pa.int64()).to_numpy()


def duplicated_ids(ids: pa.ChunkedArray, seq: np.ndarray) -> np.ndarray:
    """Mask of rows whose non-empty trade id equals an earlier row's."""
    n = len(seq)
    if n < 2:
        return np.zeros(n, dtype=bool)
    if (seq >= 0).all():
        if (np.diff(seq) > 0).all():  # the usual case: increasing integer ids
            return np.zeros(n, dtype=bool)
        _, first = np.unique(seq, return_index=True)
    else:
        import pandas as pd  # hashing strings; only for non-integer ids

        s = pd.Series(ids.to_numpy(zero_copy_only=False))
        dup = s.duplicated(keep="first").to_numpy() & (s != "").to_numpy()
        return dup
    dup = np.ones(n, dtype=bool)
    dup[first] = False
    return dup
