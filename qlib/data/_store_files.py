"""Partition files of the store: the Parquet table, its JSON sidecar, checks and fsync.

Private to :mod:`qlib.data.store`, whose module docstring describes the layout, the
sidecar and the checks: the event columns as an Arrow table (:func:`to_table`), the
JSON encoding of the instrument, provenance and report (:func:`encode_json`,
:func:`decode_json`), reading a partition back with the checks that name a damaged
file (:func:`read_partition`, :func:`check_footer`, :func:`damaged_among`), and the
small id, bound, SQL and fsync helpers of :class:`qlib.data.store.Store`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qlib.dtypes import EVENT_DTYPE
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError, QlibError

#: Schema-metadata key holding the JSON sidecar.
META_KEY = b"qlib"
#: Version of the JSON sidecar layout.
FORMAT_VERSION = 1
TMP_PREFIX = ".tmp-"
NS_PER_DAY = 86_400 * 1_000_000_000
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Characters refused in a venue or symbol, because they would break the path layout.
BAD_PART = re.compile(r"[/\\=\x00]|^\.|^$")

ARROW_TYPES = {
    "ts_exch": pa.int64(), "ts_local": pa.int64(), "seq": pa.int64(), "px_tick": pa.int64(),
    "qty": pa.float64(), "order_id": pa.uint64(), "kind": pa.uint8(), "side": pa.int8(),
    "flags": pa.uint8(),
}
assert set(ARROW_TYPES) == set(EVENT_DTYPE.names)  # code invariant: one column per field


# --------------------------------------------------------------------------- JSON
def encode_json(value: Any, where: str) -> Any:
    """Turn a provenance value into tagged JSON that :func:`decode_json` inverts exactly."""
    if isinstance(value, (np.integer, np.bool_)):
        return {"__np__": type(value).__name__, "v": value.item()}
    if isinstance(value, np.floating):
        v = float(value)
        return {"__np__": type(value).__name__, "v": v if math.isfinite(v) else repr(v)}
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_json(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not any(k.startswith("__") for k in value):
            return {k: encode_json(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {"__dict__": [[encode_json(k, f"{where} key"), encode_json(v, f"{where}[{k!r}]")]
                             for k, v in value.items()]}
    if isinstance(value, Path):
        return {"__path__": str(value)}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, pd.Timedelta):
        return {"__timedelta_ns__": int(value.value)}
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    raise ParameterError(
        f"provenance value {where} was {value!r} of type {type(value).__name__}; the store keeps"
        " JSON-like values (str, int, float, bool, None, list, tuple, dict, Path, date,"
        " datetime, pandas Timestamp/Timedelta, numpy scalars)"
    )


def decode_json(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode_json(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {decode_json(k): decode_json(v) for k, v in value["__dict__"]}
    if "__float__" in value:
        return float(value["__float__"])
    if "__np__" in value:
        v = value["v"]
        kind = getattr(np, str(value["__np__"]), None)
        if not (isinstance(kind, type) and issubclass(kind, np.generic)):
            raise ValueError(f"__np__ was {value['__np__']!r}, not a numpy scalar type")
        return kind(float(v) if isinstance(v, str) else v)
    if "__path__" in value:
        return Path(value["__path__"])
    if "__timestamp__" in value:
        return pd.Timestamp(value["__timestamp__"])
    if "__timedelta_ns__" in value:
        return pd.Timedelta(value["__timedelta_ns__"], unit="ns")
    if "__datetime__" in value:
        return dt.datetime.fromisoformat(value["__datetime__"])
    if "__date__" in value:
        return dt.date.fromisoformat(value["__date__"])
    return {k: decode_json(v) for k, v in value.items()}



DUCK_TYPES = {"ts_exch": "BIGINT", "ts_local": "BIGINT", "seq": "BIGINT", "px_tick": "BIGINT",
               "qty": "DOUBLE", "order_id": "UBIGINT", "kind": "UTINYINT", "side": "TINYINT",
               "flags": "UTINYINT"}


def to_table(events: np.ndarray, price: np.ndarray, rows: np.ndarray, meta: bytes) -> pa.Table:
    arrays = [pa.array(np.ascontiguousarray(events[n]), type=t) for n, t in ARROW_TYPES.items()]
    arrays.append(pa.array(price, type=pa.float64()))
    arrays.append(pa.array(rows.astype(np.int64), type=pa.int64()))
    names = [*ARROW_TYPES, "price", "write_row"]
    schema = pa.schema([pa.field(n, a.type, nullable=False) for n, a in zip(names, arrays)],
                       metadata={META_KEY: meta})
    return pa.Table.from_arrays(arrays, schema=schema)


#: Keys of the JSON sidecar a read needs, with their JSON types.
META_FIELDS = {"format_version": int, "write_id": str, "written_at": str, "instrument": dict,
                "provenance": object, "report": dict}


def damaged(path: Path, what: str, exc: BaseException | None = None) -> DataQualityError:
    """The error for a partition file that cannot be read as a store partition."""
    first_line = str(exc).splitlines()[0] if exc is not None and str(exc) else ""
    detail = f" ({type(exc).__name__}: {first_line})" if exc is not None else ""
    return DataQualityError(
        f"damaged store partition: {what}{detail}; restore the file from its source, or"
        " delete its date= directory and write the day again", file=str(path))


@contextlib.contextmanager
def bad_metadata(path: Path, field: str) -> Iterator[None]:
    """Turn an error raised while decoding the sidecar's ``field`` into DataQualityError."""
    try:
        yield
    except QlibError as exc:
        raise damaged(path, f"its metadata {field!r} was refused", exc) from exc
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise damaged(path, f"its metadata {field!r} is garbage", exc) from exc


def unreadable(path: Path, exc: BaseException) -> Exception:
    """The error for a partition file Arrow cannot read: gone, or damaged."""
    if isinstance(exc, FileNotFoundError):
        return DataNotFoundError(f"store partition {str(path)!r} disappeared while reading")
    return damaged(path, "not a readable Parquet file (truncated or overwritten?)", exc)


def read_footer(path: Path) -> pq.FileMetaData:
    """The Parquet footer of a partition file, or DataQualityError naming the file."""
    try:
        return pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, exc) from exc


def read_meta(path: Path, schema: pa.Schema) -> dict[str, Any]:
    """The JSON sidecar of a partition (schema metadata key ``qlib``), checked."""
    raw = (schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise damaged(path, "its Parquet schema has no 'qlib' metadata (not written by"
                       " qlib.data.Store)")
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise damaged(path, "its 'qlib' metadata is not JSON", exc) from exc
    if not isinstance(meta, dict):
        raise damaged(path, f"its 'qlib' metadata was a JSON {type(meta).__name__},"
                       " expected an object")
    for key, kind in META_FIELDS.items():
        if key not in meta or not isinstance(meta[key], kind):
            raise damaged(path, f"its 'qlib' metadata field {key!r} was "
                           f"{meta.get(key, '<missing>')!r:.80}, expected a JSON "
                           f"{ {int: 'number', str: 'string', dict: 'object'}.get(kind, 'value')}")
    if meta["format_version"] > FORMAT_VERSION:
        raise damaged(path, f"its format_version was {meta['format_version']}, this qlib reads"
                       f" up to {FORMAT_VERSION}: upgrade qlib")
    return meta


def read_partition(path: Path, date: str) -> tuple[pa.Table, dict[str, Any]]:
    """Read and check one partition file: its table and its JSON sidecar.

    Checked: the file is Parquet (pages verified against their CRC-32 when written with
    one), the sidecar, every event column with its exact type and no nulls, and that
    each ``ts_exch`` lies in the partition's UTC ``date`` (which catches most damage in
    files written before page checksums).
    """
    try:
        table = pq.ParquetFile(path, page_checksum_verification=True).read()
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, exc) from exc
    meta = read_meta(path, table.schema)
    for name, kind in {**ARROW_TYPES, "write_row": pa.int64()}.items():
        idx = table.schema.get_field_index(name)
        if idx < 0:
            raise damaged(path, f"column {name!r} is missing")
        if table.schema.field(idx).type != kind:
            raise damaged(path, f"column {name!r} was {table.schema.field(idx).type},"
                           f" expected {kind}")
        if table.column(idx).null_count:
            raise damaged(path, f"column {name!r} has {table.column(idx).null_count} nulls")
    if table.num_rows:
        day = int(pd.Timestamp(date).value) // NS_PER_DAY
        ts = table.column("ts_exch").to_numpy()
        off = np.flatnonzero(ts // NS_PER_DAY != day)
        if len(off):
            row = int(off[0])
            raise DataQualityError(
                f"ts_exch was {int(ts[row])} ({pd.Timestamp(int(ts[row]), tz='UTC')}), outside"
                f" the partition's date {date}: the partition is damaged",
                file=str(path), row=row, field="ts_exch", value=int(ts[row]))
    return table, meta


def check_footer(path: Path) -> pq.FileMetaData:
    """The footer of a partition file, its sidecar and its column types checked."""
    md = read_footer(path)
    schema = md.schema.to_arrow_schema()
    read_meta(path, schema)
    for name, kind in {**ARROW_TYPES, "write_row": pa.int64()}.items():
        idx = schema.get_field_index(name)
        if idx < 0:
            raise damaged(path, f"column {name!r} is missing")
        if schema.field(idx).type != kind:
            raise damaged(path, f"column {name!r} was {schema.field(idx).type}, expected {kind}")
    return md


def damaged_among(files: list[Path], context: str) -> DataQualityError | None:
    """The error of the first damaged file of ``files`` (footers only), or None."""
    for path in sorted(files, key=lambda f: str(f) not in context):  # the named one first
        try:
            check_footer(path)
        except DataQualityError as exc:
            return exc
    return None


def split_id(instrument_id: Any) -> tuple[str, str]:
    if not isinstance(instrument_id, str):
        raise ParameterError(
            f"instrument_id must be a 'SYMBOL.VENUE' string, was {instrument_id!r}")
    parts = instrument_id.split(".")
    if len(parts) != 2 or not all(parts) or any(BAD_PART.search(p) for p in parts):
        raise ParameterError(f"instrument_id must be 'SYMBOL.VENUE', was {instrument_id!r}")
    return parts[0], parts[1]


def bound_ns(value: Any, name: str, *, end: bool) -> int:
    """Convert a read bound to int ns UTC; a bare date as ``end`` means the day after."""
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be a time or a date, was {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    bare_date = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and bool(DATE_RE.match(value.strip())))
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{name} must be a time or a date, was {value!r}") from exc
    if ts is pd.NaT:
        raise ParameterError(f"{name} must be a time or a date, was {value!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if bare_date and end:
        ts = ts + pd.Timedelta(days=1)
    return int(ts.as_unit("ns").value)


def day_to_str(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


def column_min_max(md: pq.FileMetaData, column: str) -> tuple[int | None, int | None]:
    idx = md.schema.to_arrow_schema().get_field_index(column)
    lo = hi = None
    for g in range(md.num_row_groups):
        stats = md.row_group(g).column(idx).statistics
        if stats is None or not stats.has_min_max:
            continue
        lo = stats.min if lo is None else min(lo, stats.min)
        hi = stats.max if hi is None else max(hi, stats.max)
    return lo, hi


def sql_quote(text: str) -> str:
    return text.replace("'", "''")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
