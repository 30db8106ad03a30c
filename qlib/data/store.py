"""Market data at rest: partitioned Parquet files, queried with DuckDB.

Layout under the store root, one Parquet file per partition::

    <root>/venue=<VENUE>/symbol=<SYMBOL>/date=<YYYY-MM-DD>/events.parquet

``date`` is the UTC date of each event's ``ts_exch``, so a :class:`MarketData`
spanning midnight is written as two partitions. Each file holds the event fields
with their exact types (``ts_exch`` ... ``flags``), plus

* ``price`` (float64): ``px_tick * tick_size`` rounded to the instrument's
  decimals, exactly as :meth:`MarketData.to_pandas` gives it, for SQL users;
* ``write_row`` (int64): the row's position in the written :class:`MarketData`, so
  a read restores the venue's order even where ``ts_exch`` steps back across
  midnight.

The instrument, the provenance dict and the :class:`ValidationReport` travel as JSON
in the Parquet schema metadata (key ``qlib``), so ``store.read`` gives back what
``store.write`` was given, bit for bit.

Writes are atomic per partition: the file is written and fsync'd inside a
temporary directory ``<root>/.tmp-<pid>-<hex>/`` and then renamed into place (a new
partition: ``os.rename`` of its directory; an overwrite: ``os.replace`` of the
file). A crash leaves either the old partition or the new one, never half a file.
Readers never look inside ``.tmp-*`` directories; the next write removes those whose
process is gone.

Reads check what they read: a partition that is not Parquet (truncated, overwritten),
whose pages fail their CRC-32 (written since page checksums were added, Parquet's
``PageHeader.crc``), whose ``qlib`` sidecar is missing or garbage, whose columns lack a
field or have another type, or whose ``ts_exch`` leave its date raises
:class:`~qlib.errors.DataQualityError` naming the file, from :meth:`Store.read`,
:meth:`Store.list` and :meth:`Store.sql` alike (DuckDB does not verify page checksums:
damage inside the pages of a file with an intact footer reaches ``sql`` unnoticed).

:func:`load_store` (``qlib.data.load("store", root, instrument=..., date=...)``) lets a
notebook name a stored data set instead of a file path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from qlib.data._store_files import (
    ARROW_TYPES,
    BAD_PART,
    DATE_RE,
    DUCK_TYPES,
    FORMAT_VERSION,
    NS_PER_DAY,
    TMP_PREFIX,
    bad_metadata,
    bound_ns,
    check_footer,
    column_min_max,
    damaged,
    damaged_among,
    day_to_str,
    decode_json,
    encode_json,
    fsync_dir,
    fsync_file,
    pid_alive,
    read_footer,
    read_meta,
    read_partition,
    split_id,
    sql_quote,
    to_table,
)
from qlib.data.market_data import MarketData
from qlib.data.report import ValidationReport
from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import EventKind
from qlib.errors import (
    DataNotFoundError,
    DataQualityError,
    InsufficientDataError,
    ParameterError,
)
from qlib.instrument import Instrument

__all__ = ["Store", "PARTITION_FILE", "load_store"]

#: Name of the single Parquet file inside each partition directory.
PARTITION_FILE = "events.parquet"


# --------------------------------------------------------------------------- store
@dataclasses.dataclass(frozen=True)
class _Partition:
    venue: str
    symbol: str
    date: str

    @property
    def rel(self) -> Path:
        return Path(f"venue={self.venue}") / f"symbol={self.symbol}" / f"date={self.date}"

    def __str__(self) -> str:
        return self.rel.as_posix()


class Store:
    """A directory of partitioned Parquet event files with a DuckDB SQL view.

    Parameters
    ----------
    root
        Store directory; created on the first write.

    Notes
    -----
    ``store.sql(query)`` runs DuckDB over a view ``events`` with every partition: the
    stored columns (``ts_exch``, ``ts_local``, ``seq``, ``px_tick``, ``qty``,
    ``order_id``, ``kind``, ``side``, ``flags``, ``price``, ``write_row``), the hive
    columns ``venue``, ``symbol`` (VARCHAR) and ``date`` (DATE), and the derived
    ``instrument_id`` (``SYMBOL.VENUE``), ``ts`` (``TIMESTAMP_NS`` of ``ts_exch``,
    UTC) and ``kind_name`` (the :class:`~qlib.enums.EventKind` name). ``price`` is
    the float price in the instrument's currency, so
    ``select avg(price) from events where kind_name = 'TRADE'`` works directly.

    Examples
    --------
    >>> store = Store("/tmp/qlib-store")                       # doctest: +SKIP
    >>> store.write(data)                                      # doctest: +SKIP
    >>> store.read("BTCUSDT.BINANCE", start="2024-08-08")      # doctest: +SKIP
    >>> store.sql("select kind_name, count(*) from events group by 1")  # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        if not isinstance(root, (str, os.PathLike)) or str(root) == "":
            raise ParameterError(f"root must be a directory path, was {root!r}")
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ParameterError(f"root must be a directory, was the file {str(self.root)!r}")

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # ------------------------------------------------------------------ write
    def write(self, data: MarketData, *, overwrite: bool = False) -> list[Path]:
        """Write market data as one partition per UTC date of ``ts_exch``.

        Parameters
        ----------
        data
            The events with their instrument, provenance and report.
        overwrite
            Replace partitions that already exist. When False (default), nothing is
            written if any target partition exists.

        Returns
        -------
        list of pathlib.Path
            The partition directories written, by date.

        Raises
        ------
        ParameterError
            If ``data`` is not a MarketData, a partition exists and ``overwrite`` is
            False (the message names it), the venue or symbol cannot be a directory
            name, or a provenance value cannot be stored.
        InsufficientDataError
            If ``data`` has no events.
        """
        if not isinstance(data, MarketData):
            raise ParameterError(f"data must be a MarketData, was {type(data).__name__}")
        if not isinstance(overwrite, bool):
            raise ParameterError(f"overwrite must be a bool, was {overwrite!r}")
        events = data.events
        if len(events) == 0:
            raise InsufficientDataError(
                f"data for {data.instrument.instrument_id} has 0 events; nothing to write"
            )
        inst = data.instrument
        for name, value in (("venue", inst.venue), ("symbol", inst.symbol)):
            if BAD_PART.search(value):
                raise ParameterError(
                    f"instrument {name} {value!r} cannot be a partition directory name"
                    " (no '/', '\\', '=', leading '.')"
                )

        day = events["ts_exch"] // NS_PER_DAY  # floor division: UTC day number
        days = np.unique(day)
        parts = {int(d): _Partition(inst.venue, inst.symbol, day_to_str(int(d))) for d in days}
        if not overwrite:
            existing = [str(p) for p in parts.values() if (self.root / p.rel).exists()]
            if existing:
                raise ParameterError(
                    f"partition {existing[0]} already exists in store {str(self.root)!r}"
                    + (f" (and {len(existing) - 1} more)" if len(existing) > 1 else "")
                    + "; pass overwrite=True to replace it"
                )

        meta = json.dumps({
            "format_version": FORMAT_VERSION,
            "write_id": uuid.uuid4().hex,
            "written_at": pd.Timestamp.now(tz="UTC").isoformat(),
            "instrument": dataclasses.asdict(inst),
            "provenance": encode_json(data.provenance, "provenance"),
            "report": data.report.to_json(),
        }, allow_nan=False).encode()

        self.root.mkdir(parents=True, exist_ok=True)
        self._clean_temp_dirs()
        tmp = self.root / f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
        written: list[Path] = []
        try:
            staged: list[tuple[_Partition, Path]] = []
            price = inst.to_price(events["px_tick"])
            for d, part in sorted(parts.items(), key=lambda kv: kv[0]):
                rows = np.flatnonzero(day == d)
                table = to_table(events[rows], price[rows], rows, meta)
                stage_dir = tmp / part.rel
                stage_dir.mkdir(parents=True)
                path = stage_dir / PARTITION_FILE
                pq.write_table(table, path, compression="zstd", write_page_checksum=True)
                fsync_file(path)
                staged.append((part, stage_dir))
            for part, stage_dir in staged:
                final = self.root / part.rel
                if final.exists():  # only when overwrite=True (checked above)
                    os.replace(stage_dir / PARTITION_FILE, final / PARTITION_FILE)
                else:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        os.rename(stage_dir, final)
                    except OSError as exc:  # a concurrent writer got there first
                        raise ParameterError(
                            f"partition {part} appeared in store {str(self.root)!r} during"
                            f" the write ({exc}); pass overwrite=True to replace it"
                        ) from exc
                fsync_dir(final.parent)
                written.append(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return written

    # ------------------------------------------------------------------ read
    def read(self, instrument_id: str, start: Any = None, end: Any = None) -> MarketData:
        """Read an instrument's events back, optionally between two times.

        Parameters
        ----------
        instrument_id
            ``"SYMBOL.VENUE"``.
        start, end
            Bounds on ``ts_exch``: int ns, ``pandas.Timestamp``, ``datetime``,
            ``datetime.date`` or a string. ``start`` is inclusive and ``end`` exclusive,
            except that a bare date (``datetime.date`` or ``"YYYY-MM-DD"``) as ``end``
            includes that whole UTC day. Naive times are UTC.

        Returns
        -------
        MarketData
            Without bounds, and when every partition came from one write, the events,
            instrument, provenance and report exactly as written. With bounds,
            provenance gains ``"between": (start, end)``. When partitions came from
            several writes, provenance is ``{"store": root, "writes": [...]}`` and the
            report merges the writes' reports.

        Raises
        ------
        ParameterError
            For a malformed id or bound, or an empty range (``start`` not before ``end``).
        DataNotFoundError
            If the store has no partition of the instrument in the range; the message
            lists the dates it has.
        DataQualityError
            If partitions of one instrument disagree on the instrument's terms.
        """
        base, chosen, lo, hi = self._choose(instrument_id, start, end)
        return self._read_dates(instrument_id, base, chosen, lo, hi, start, end)

    def read_sessions(self, instrument_id: str, start: Any = None,
                      end: Any = None) -> list[MarketData]:
        """Read an instrument's events as sessions: one :class:`MarketData` per write.

        The partitions in the range are taken in date order; a run of consecutive
        dates written by one :meth:`write` (a recording that crossed midnight) is one
        session, read as :meth:`read` reads it; each other write starts a new session.
        :func:`qlib.data.market_data.concat_sessions` puts them back into one
        MarketData, and ``qlib.data.load("store", root, ...)`` does both.

        Parameters
        ----------
        instrument_id, start, end
            As :meth:`read`.

        Returns
        -------
        list of MarketData
            In date order; each has ``provenance["store_dates"]``, the partition
            dates it was read from.

        Raises
        ------
        ParameterError, DataNotFoundError, DataQualityError
            As :meth:`read`.
        """
        base, chosen, lo, hi = self._choose(instrument_id, start, end)
        runs: list[list[str]] = []
        last_write = None
        for d in chosen:
            path = base / f"date={d}" / PARTITION_FILE
            write_id = read_meta(path, read_footer(path).schema.to_arrow_schema())["write_id"]
            if runs and write_id == last_write:
                runs[-1].append(d)
            else:
                runs.append([d])
            last_write = write_id
        out = []
        for dates in runs:
            md = self._read_dates(instrument_id, base, dates, lo, hi, start, end)
            md.provenance = {**md.provenance, "store_dates": list(dates)}
            out.append(md)
        return out

    def _choose(self, instrument_id: str, start: Any,
                end: Any) -> tuple[Path, list[str], int | None, int | None]:
        """The partition directory of the instrument, its dates in range and the bounds."""
        symbol, venue = split_id(instrument_id)
        lo = None if start is None else bound_ns(start, "start", end=False)
        hi = None if end is None else bound_ns(end, "end", end=True)
        if lo is not None and hi is not None and lo >= hi:
            raise ParameterError(f"start {start!r} must be before end {end!r}")
        base = self.root / f"venue={venue}" / f"symbol={symbol}"
        dates = sorted(p.name[5:] for p in base.glob("date=*")
                       if DATE_RE.match(p.name[5:]) and (p / PARTITION_FILE).is_file())
        if not dates:
            raise DataNotFoundError(
                f"instrument_id {instrument_id!r} has no partitions in store {str(self.root)!r}"
            )
        first_day = None if lo is None else day_to_str(lo // NS_PER_DAY)
        last_day = None if hi is None else day_to_str((hi - 1) // NS_PER_DAY)
        chosen = [d for d in dates if (first_day is None or d >= first_day)
                  and (last_day is None or d <= last_day)]
        if not chosen:
            raise DataNotFoundError(
                f"instrument_id {instrument_id!r} has no partitions between {start!r} and"
                f" {end!r} in store {str(self.root)!r}; it has dates {dates}"
            )
        return base, chosen, lo, hi

    def _read_dates(self, instrument_id: str, base: Path, chosen: list[str], lo: int | None,
                    hi: int | None, start: Any, end: Any) -> MarketData:
        """:meth:`read` of the partitions ``chosen`` (dates) under ``base``."""
        # read each partition; group by write (in date order of first appearance)
        writes: dict[str, dict[str, Any]] = {}
        for d in chosen:
            path = base / f"date={d}" / PARTITION_FILE
            table, meta = read_partition(path, d)
            w = writes.setdefault(meta["write_id"], {"meta": meta, "tables": [], "paths": []})
            w["tables"].append(table)
            w["paths"].append(path)
        # within a write, restore the written row order; then fill a fresh array field
        # by field (fresh: zeroed padding bytes, no dependence on numpy's copy of them)
        columns: dict[str, list[np.ndarray]] = {n: [] for n in EVENT_DTYPE.names}
        for w in writes.values():
            write_row = np.concatenate([t.column("write_row").to_numpy() for t in w["tables"]])
            order = np.argsort(write_row, kind="stable")
            dup = np.flatnonzero(np.diff(write_row[order]) == 0)
            if len(dup):
                value = int(write_row[order][dup[0]])
                raise DataQualityError(
                    f"write_row {value} appears twice in the partitions "
                    f"{[str(x) for x in w['paths']]}"
                    " of one write: a partition was damaged or copied from another write",
                    file=str(w["paths"][0]), field="write_row", value=value)
            for name in EVENT_DTYPE.names:
                col = np.concatenate([t.column(name).to_numpy() for t in w["tables"]])
                columns[name].append(col[order])
        ts = np.concatenate(columns["ts_exch"])
        keep = np.ones(len(ts), dtype=bool)
        if lo is not None:
            keep &= ts >= lo
        if hi is not None:
            keep &= ts < hi
        events = empty_events(int(keep.sum()))
        for name in EVENT_DTYPE.names:
            events[name] = np.concatenate(columns[name])[keep]

        metas = [w["meta"] for w in writes.values()]
        instruments = {json.dumps(m["instrument"], sort_keys=True) for m in metas}
        if len(instruments) > 1:
            raise DataQualityError(
                f"partitions of {instrument_id} in store {str(self.root)!r} disagree on the"
                f" instrument: {sorted(instruments)}; rewrite them with one instrument",
                field="instrument",
            )
        first_path = next(iter(writes.values()))["paths"][0]
        with bad_metadata(first_path, "instrument"):
            instrument = Instrument(**metas[0]["instrument"])
        with bad_metadata(first_path, "provenance/report"):
            if len(metas) == 1:
                provenance = decode_json(metas[0]["provenance"])
                report = ValidationReport.from_json(metas[0]["report"])
            else:
                provenance = {"store": str(self.root),
                              "writes": [decode_json(m["provenance"]) for m in metas]}
                report = ValidationReport.merge(
                    [ValidationReport.from_json(m["report"]) for m in metas],
                    note=f"merged from {len(metas)} store writes")
        if start is not None or end is not None:
            provenance = {**provenance, "between": (start, end)}
        return MarketData(events, instrument, report, provenance)

    # ------------------------------------------------------------------ list / sql
    def list(self) -> pd.DataFrame:
        """Return one row per partition, read from the Parquet footers only.

        Returns
        -------
        pandas.DataFrame
            Columns ``instrument_id``, ``venue``, ``symbol``, ``date`` (str,
            ``YYYY-MM-DD``), ``rows``, ``ts_first``, ``ts_last`` (UTC Timestamps),
            ``source`` (the loader), ``bytes``, ``written_at`` and ``path``, sorted by
            instrument and date. Temporary directories of unfinished writes are not
            listed.
        """
        records = []
        for path in self._partition_files():
            part = path.parent
            md = check_footer(path)
            meta = read_meta(path, md.schema.to_arrow_schema())
            venue = part.parent.parent.name[len("venue="):]
            symbol = part.parent.name[len("symbol="):]
            ts_min, ts_max = column_min_max(md, "ts_exch")
            with bad_metadata(path, "written_at"):
                written_at = pd.Timestamp(meta["written_at"])
            records.append({
                "instrument_id": f"{symbol}.{venue}", "venue": venue, "symbol": symbol,
                "date": part.name[len("date="):], "rows": md.num_rows,
                "ts_first": pd.Timestamp(ts_min, tz="UTC") if ts_min is not None else pd.NaT,
                "ts_last": pd.Timestamp(ts_max, tz="UTC") if ts_max is not None else pd.NaT,
                "source": meta["report"].get("source") if isinstance(meta["report"], dict)
                else None, "bytes": path.stat().st_size,
                "written_at": written_at, "path": str(part),
            })
        columns = ["instrument_id", "venue", "symbol", "date", "rows", "ts_first", "ts_last",
                   "source", "bytes", "written_at", "path"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        return frame.sort_values(["instrument_id", "date"], ignore_index=True)

    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run a DuckDB query over the view ``events`` (see the class Notes).

        Parameters
        ----------
        query
            SQL text, e.g. ``"select date, count(*) from events group by date"``.
        params
            Optional prepared-statement parameters (``?`` or ``$name``).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ParameterError
            If the query is not a string or DuckDB rejects it (the message quotes
            DuckDB's error).
        DataQualityError
            If a partition file cannot be read (truncated, overwritten, not written by
            the store): the message names it.
        """
        import duckdb

        if not isinstance(query, str) or not query.strip():
            raise ParameterError(f"query must be a non-empty SQL string, was {query!r}")
        kind_case = " ".join(f"WHEN {int(k)} THEN '{k.name}'" for k in EventKind)
        derived = (f"symbol || '.' || venue AS instrument_id, make_timestamp_ns(ts_exch) AS ts,"
                   f" CASE kind {kind_case} END AS kind_name")
        con = duckdb.connect()
        files = self._partition_files()
        try:
            if files:
                glob = (self.root / "venue=*" / "symbol=*" / "date=*" / PARTITION_FILE).as_posix()
                source = (f"read_parquet('{sql_quote(glob)}', hive_partitioning=true,"
                          " hive_types={'venue': VARCHAR, 'symbol': VARCHAR, 'date': DATE})")
            else:  # an empty store still has the view, with no rows
                cols = ", ".join(f"NULL::{DUCK_TYPES[n]} AS {n}" for n in ARROW_TYPES)
                source = (f"(SELECT {cols}, NULL::DOUBLE AS price, NULL::BIGINT AS write_row,"
                          " NULL::VARCHAR AS venue, NULL::VARCHAR AS symbol, NULL::DATE AS date"
                          " WHERE false)")
            try:
                con.execute(f"CREATE VIEW events AS SELECT *, {derived} FROM {source}")
            except duckdb.Error as exc:  # our own SQL: the files are at fault
                raise (damaged_among(files, str(exc)) or DataQualityError(
                    f"store {str(self.root)!r} cannot be read by DuckDB: {exc}")) from exc
            try:
                rel = con.execute(query, params) if params is not None else con.execute(query)
                return rel.df()
            except duckdb.Error as exc:
                file_error = isinstance(exc, (duckdb.IOException, duckdb.InvalidInputException))
                named = [f for f in files if str(f) in str(exc) or f.as_posix() in str(exc)]
                if named or file_error:
                    damaged = damaged_among(named or files, str(exc))
                    if damaged is not None:
                        raise damaged from exc
                    if named:
                        raise damaged(named[0], "DuckDB cannot read it", exc) from exc
                raise ParameterError(f"query {query!r} failed in DuckDB: {exc}") from exc
        finally:
            con.close()

    # ------------------------------------------------------------------ helpers
    def _partition_files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob(f"venue=*/symbol=*/date=*/{PARTITION_FILE}"))

    def _clean_temp_dirs(self) -> None:
        """Remove ``.tmp-<pid>-*`` directories left by processes that no longer run."""
        for tmp in self.root.glob(f"{TMP_PREFIX}*"):
            pid_text = tmp.name[len(TMP_PREFIX):].split("-", 1)[0]
            if pid_text.isdigit() and (int(pid_text) == os.getpid() or pid_alive(int(pid_text))):
                continue  # a write in progress (ours in another thread, or another process)
            shutil.rmtree(tmp, ignore_errors=True)


def load_store(root: str | os.PathLike[str], *, instrument: Instrument | str | None = None,
               date: str | dt.date | None = None, start: Any = None,
               end: Any = None) -> MarketData:
    """Load a stored data set by name: one day, or several days as sessions one after the other.

    This is ``qlib.data.load("store", root, instrument=..., date=...)``: a notebook
    names a data set in a :class:`Store` instead of a file path.

    Parameters
    ----------
    root
        The store directory.
    instrument
        ``"SYMBOL.VENUE"`` (e.g. ``"BTCUSDT.BINANCE"``) or an :class:`Instrument`: it
        selects the partitions. An Instrument must have the stored tick size (the
        stored ``px_tick`` count it) and is returned as the data's instrument, so its
        fees can differ from the stored ones.
    date
        One UTC day (``"YYYY-MM-DD"`` or ``datetime.date``). Not with ``start``/``end``.
    start, end
        A range, as :meth:`Store.read` takes it (a bare date as ``end`` includes that
        day); either may be None (open). Neither nor ``date``: every stored day.

    Returns
    -------
    MarketData
        One session (one day, or one write that crossed midnight): exactly what
        :meth:`Store.read` returns. Several sessions (the days were written
        separately): :func:`qlib.data.market_data.concat_sessions` of
        :meth:`Store.read_sessions`, so ``provenance["sessions"]`` (and
        :attr:`MarketData.sessions`) lists each session's date(s), first row and row
        count, and no book carries over from one day into the next.

    Raises
    ------
    ParameterError
        No instrument, ``date`` together with ``start``/``end``, a malformed date or
        bound, an Instrument whose tick size differs from the stored one.
    DataNotFoundError
        The store, the instrument or the days do not exist (the message lists what
        the store has).
    DataQualityError
        A partition is damaged (the message names the file).

    Examples
    --------
    >>> md = load_store("/data/store", instrument="BTCUSDT.BINANCE",
    ...                 start="2024-08-08", end="2024-08-09")   # doctest: +SKIP
    >>> md.sessions[["date", "rows"]]                             # doctest: +SKIP
    """
    from qlib.data.market_data import concat_sessions

    store = Store(root)
    if not store.root.is_dir():
        raise DataNotFoundError(f"store root {str(store.root)!r} does not exist")
    if instrument is None:
        have = sorted({f"{p.parent.name[len('symbol='):]}.{p.parent.parent.name[len('venue='):]}"
                       for p in store.root.glob("venue=*/symbol=*/date=*")})
        raise ParameterError(f"instrument is required to load from a store, was None; store "
                             f"{str(store.root)!r} has {have}")
    if isinstance(instrument, Instrument):
        instrument_id = instrument.instrument_id
    elif isinstance(instrument, str):
        instrument_id = instrument
    else:
        raise ParameterError(f"instrument must be an Instrument or a 'SYMBOL.VENUE' string, "
                             f"was {instrument!r}")
    if date is not None:
        if start is not None or end is not None:
            raise ParameterError(f"pass date or start/end, not both; was date={date!r}, "
                                 f"start={start!r}, end={end!r}")
        is_day = (isinstance(date, dt.date) and not isinstance(date, dt.datetime)) or (
            isinstance(date, str) and bool(DATE_RE.match(date.strip())))
        if not is_day:
            raise ParameterError(f"date must be a 'YYYY-MM-DD' string or a datetime.date, "
                                 f"was {date!r}")
        start = end = date
    sessions = store.read_sessions(instrument_id, start, end)
    if len(sessions) == 1:
        data = sessions[0]
    else:
        labels = [d[0] if len(d) == 1 else f"{d[0]}/{d[-1]}"
                  for d in (m.provenance["store_dates"] for m in sessions)]
        data = concat_sessions(sessions, labels)
        data.provenance = {**data.provenance, "store": str(store.root),
                           "between": (start, end)}
    if isinstance(instrument, Instrument) and instrument != data.instrument:
        if instrument.tick_size != data.instrument.tick_size:
            raise ParameterError(
                f"instrument tick_size was {instrument.tick_size!r}, the store's "
                f"{instrument_id} has {data.instrument.tick_size!r} (its px_tick count it)")
        data = MarketData(data.events, instrument, data.report, data.provenance)
    return data
