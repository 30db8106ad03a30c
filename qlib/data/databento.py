"""Load Databento DBN files (MBO, MBP-1, MBP-10, TBBO, trades) into :class:`~qlib.data.MarketData`.

Decoding is done by the official ``databento_dbn`` package (``DBNDecoder``) after
``zstandard`` decompression (:mod:`qlib.data._databento_schemas`); this module turns the
decoded records into :data:`qlib.dtypes.EVENT_DTYPE` (vectorised, and numba kernels
for the stateful paths in :mod:`qlib.data._databento_kernels`), takes the instrument
from the file, and checks the data. See :func:`load_databento`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

import databento_dbn as dbn
import numpy as np
import pandas as pd

from qlib.data import _databento_kernels as _k
from qlib.data import _databento_schemas as _s
from qlib.data.infer import GridGuess, infer_step_scaled
from qlib.data.instruments import lookup, resolve
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import (
    DataNotFoundError,
    DataQualityError,
    EngineError,
    ParameterError,
)
from qlib.data._databento_schemas import MBO_RECORD_DTYPE
from qlib.instrument import Instrument

__all__ = [
    "FILL_REASON",
    "MBO_RECORD_DTYPE",
    "NONE_ACTION_REASON",
    "OTHER_INSTRUMENT_REASON",
    "default_open_ns",
    "load_databento",
    "load_databento_all",
]

#: Reason under which ``F`` (fill) records are recorded in the report's drops.
FILL_REASON = ("F (fill of one resting order): repeats the volume of the T print it belongs to"
               " and changes no book; the C/M record that follows removes the quantity")
#: Reason under which ``N`` (no action) records are recorded in the report's drops.
NONE_ACTION_REASON = "N (no action): carries no book change and no trade"
#: Reason (prefix) under which records of instruments other than ``symbol=`` are dropped.
OTHER_INSTRUMENT_REASON = "record of another instrument"

_UNDEF_PRICE = np.iinfo(np.int64).max
_PRICE_SCALE = 1_000_000_000  # DBN prices are in units of 1e-9
_F_LAST, _F_SNAPSHOT, _F_BAD_TS_RECV = 0x80, 0x20, 0x08  # DBN flag bits


# --------------------------------------------------------------------------- helpers
def default_open_ns(date: dt.date) -> int:
    """Return 17:00 America/Chicago on ``date`` (the CME Globex daily reopen) in UTC ns."""
    t = dt.datetime(date.year, date.month, date.day, 17, 0, tzinfo=ZoneInfo("America/Chicago"))
    return int(pd.Timestamp(t).tz_convert("UTC").value)


def _open_ns(open_time: object, meta: dbn.Metadata) -> int:
    if open_time is None:
        start = pd.Timestamp(int(meta.start), unit="ns", tz="UTC")
        return default_open_ns(start.date())
    if isinstance(open_time, (int, np.integer)) and not isinstance(open_time, bool):
        return int(open_time)
    try:
        ts = pd.Timestamp(open_time)
    except (ValueError, TypeError):
        raise ParameterError(f"open_time must be a timestamp, str or int ns, was {open_time!r}") from None
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def _row(rows: np.ndarray | None, i: int) -> int:
    """File row (record number after the metadata) of record ``i`` of an instrument's array."""
    return int(rows[i]) if rows is not None else int(i)


def _record_drops(report: ValidationReport, reason: str, label: str, rows: np.ndarray) -> None:
    """Record ``len(rows)`` drops under ``reason`` with the first few rows as examples."""
    n = int(rows.shape[0])
    for j, r in enumerate(rows[:5]):
        report.drop(reason, label, int(r), count=1 if j < 4 or n <= 5 else n - 4)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _file_rows(rows: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(mask)
    return rows[idx] if rows is not None else idx


def _check_ts(arr: np.ndarray, rows: np.ndarray | None, label: str) -> None:
    for name in ("ts_event", "ts_recv"):
        bad = arr[name] >= np.uint64(np.iinfo(np.int64).max)
        if bad.any():
            r = _first_bad(bad)
            raise DataQualityError(f"{name} is undefined or out of range", file=label,
                                   row=_row(rows, r), field=name, value=int(arr[name][r]))


def _check_prices(px: np.ndarray, need: np.ndarray, rows: np.ndarray | None, label: str,
                  what: str, spread: bool, tick_units: int | None) -> None:
    """Raise on the first required price that is UNDEF_PRICE, <= 0 (outright) or off the tick.

    ``px`` and ``need`` are 1-d (one price per record) or 2-d (levels per record; the
    row is the first axis).
    """
    checks = [(need & (px == _UNDEF_PRICE), "undefined (UNDEF_PRICE, the i64 max sentinel)")]
    if not spread:
        checks.append((need & (px <= 0), "not positive on an outright instrument (only"
                       " spreads, instrument_class S/T/M in the definition, may trade <= 0)"))
    if tick_units is not None:
        checks.append((need & (px != _UNDEF_PRICE) & (px % tick_units != 0), None))
    for mask, why in checks:
        flat = mask.reshape(mask.shape[0], -1).any(axis=1) if mask.ndim > 1 else mask
        if flat.any():
            r = _first_bad(flat)
            v = int(px[r][mask[r]][0]) if px.ndim > 1 else int(px[r])
            if why is None:
                why = (f"{v / _PRICE_SCALE} is not a multiple of the tick size"
                       f" {tick_units / _PRICE_SCALE}")
            raise DataQualityError(f"{what} {why}", file=label, row=_row(rows, r),
                                   field="price", value=v)


def _ticks(inst: Instrument) -> int:
    units = inst.tick_size * _PRICE_SCALE
    tick_units = round(units)
    if tick_units < 1 or abs(units - tick_units) > 1e-6:
        raise ParameterError(f"instrument tick_size {inst.tick_size} is not a whole number"
                             " of DBN price units (1e-9)")
    return tick_units


def _required_prices(spec_name: str, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All prices the book and tape need (1-d), for the grid inference."""
    if spec_name == "mbo":
        a = arr["action"].view(np.uint8)
        need = (a != ord("R")) & (a != ord("N"))
        return arr["price"][need], need
    parts = []
    a = arr["action"].view(np.uint8)
    tr = (a == ord("T")) | (a == ord("F")) if spec_name != "trades" else np.ones(len(arr), bool)
    parts.append(arr["price"][tr])
    if spec_name != "trades":
        lv = arr["levels"]
        for p, q in (("bid_px", "bid_sz"), ("ask_px", "ask_sz")):
            px = lv[p]
            parts.append(px[(lv[q] > 0) & (px != _UNDEF_PRICE)].ravel())
    return np.concatenate(parts), tr


def _instrument(instrument: object, dec: _s.Decoded, symbol: str, prices: np.ndarray,
                definition: object | None, report: ValidationReport) -> tuple[Instrument, dict]:
    """Resolve the instrument: the caller's, else definition facts, registry, inferred grid."""
    venue, vbasis = _s.dataset_venue(str(dec.meta.dataset))
    iid = f"{symbol}.{venue}"
    facts = _s.definition_facts(definition) if definition is not None else {}
    if instrument is None:
        report.infer("venue", venue, vbasis, "certain" if "not in" not in vbasis else "high")
    known = {k: facts[k] for k in ("currency", "multiplier", "lot_size") if k in facts}
    if "multiplier" in facts:
        known["multiplier_basis"] = f"definition record {facts['multiplier_from']}"
    p = np.abs(prices[(prices != _UNDEF_PRICE) & (prices != 0)])
    grid = None
    if "tick_units" in facts:
        t, d = facts["tick_units"], 9
        while d > 0 and t % 10 == 0:
            t, d = t // 10, d - 1
        grid = GridGuess(facts["tick_units"] / _PRICE_SCALE, d, int(p.shape[0]), "certain",
                         f"definition record min_price_increment {facts['tick_units']} x 1e-9")
    elif p.shape[0] and not _tick_given(instrument):
        grid = _registry_grid(iid, p, instrument) or infer_step_scaled(
            p, _PRICE_SCALE, what="prices", source=f"{dec.schema} records of {symbol}")
    inst = resolve(instrument, instrument_id=iid, report=report, price_grid=grid, venue=venue,
                   known=known)
    return inst, facts


def _tick_given(instrument: object) -> bool:
    """True when the caller states the tick (an Instrument, an id, or a dict with
    ``tick_size``): :func:`qlib.data.instruments.resolve` then reads no price grid."""
    return isinstance(instrument, (Instrument, str)) or (
        isinstance(instrument, Mapping) and "tick_size" in instrument)


def _registry_grid(iid: str, prices: np.ndarray, instrument: object) -> GridGuess | None:
    """The registry's tick when every price (units of 1e-9) is a whole multiple of it.

    One integer pass instead of the grid inference: when the data agree with the
    registry, :func:`qlib.data.instruments.resolve` keeps the registry's tick, which needs
    no more than that. None (infer from the prices) when the registry has no tick for
    ``iid``, the tick is not a whole number of 1e-9 units, or a price lies off it.
    """
    if isinstance(instrument, Mapping) and "instrument_id" in instrument:
        return None
    row = lookup(iid)  # None also when the row leaves the tick empty
    if row is None:
        return None
    units = round(row.tick_size * _PRICE_SCALE)
    if units <= 0 or abs(units - row.tick_size * _PRICE_SCALE) > 1e-6 * units:
        return None
    if np.any(prices % units):
        return None
    return GridGuess(units / _PRICE_SCALE, 0, 0, "high", f"every price lies on the"
                     f" registry's tick {row.tick_size:g}", common_step=units / _PRICE_SCALE)


def _ids_and_symbols(dec: _s.Decoded) -> tuple[np.ndarray, dict[int, str]]:
    col = dec.records["instrument_id"]
    if col.shape[0] and (col == col[0]).all():  # one instrument: no sort
        ids = col[:1].copy()
    else:
        ids = np.unique(col)
    if ids.shape[0] == 0:
        ids = np.array(sorted(dec.definitions) or [0], dtype=np.uint32)
    return ids, _s.symbols_by_id(dec.meta, ids, dec.definitions, dec.symbol_mappings)


def _definitions(definitions: str | Path | None, dec: _s.Decoded,
                 report: ValidationReport) -> dict[int, object]:
    defs = dict(dec.definitions)
    if definitions is not None:
        dp = Path(definitions)
        if not dp.exists():
            raise DataNotFoundError(f"Databento definition file {str(dp)!r} does not exist")
        extra = _s.decode(dp, str(dp), report, definitions_only=True).definitions
        defs = {**extra, **defs}  # the data file's own definitions win
        report.notes.append(f"{len(extra)} definition record(s) read from {str(dp)!r}")
    return defs


def _check_args(p: Path, label: str, include_fills: object) -> None:
    if not p.exists():
        raise DataNotFoundError(f"Databento file {label!r} does not exist")
    if p.is_dir():
        raise ParameterError(f"path must be a .dbn or .dbn.zst file, was the directory {label!r}")
    if not isinstance(include_fills, bool):
        raise ParameterError(f"include_fills must be a bool, was {include_fills!r}")


# --------------------------------------------------------------------------- API
def load_databento(
    path: str | Path,
    *,
    instrument: Instrument | str | Mapping | None = None,
    symbol: str | None = None,
    definitions: str | Path | None = None,
    open_time: str | pd.Timestamp | int | None = None,
    include_fills: bool = False,
) -> MarketData:
    r"""Load a Databento file (DBN, zstd-compressed or plain) of one instrument as events.

    Schemas: ``mbo`` (L3 order events), ``mbp-1`` and ``tbbo`` (top-of-book L2 levels
    and trades), ``mbp-10`` (ten L2 levels per side and trades), ``trades``.

    Parameters
    ----------
    path
        A ``*.dbn.zst`` or ``*.dbn`` file.
    instrument
        An :class:`~qlib.instrument.Instrument`, a registry id (``"ESH4.GLBX"``), a
        dict of overrides (``{"tick_size": 0.5}``) or None (default): the instrument is
        then taken from the file (see Notes, *Instrument*).
    symbol
        For a file holding several instruments: the raw symbol (or the instrument id
        as a string) to load; the other instruments' records are counted under
        :data:`OTHER_INSTRUMENT_REASON` and dropped. Needed when the file holds more
        than one instrument (or use :func:`load_databento_all`).
    definitions
        A companion DBN file of the ``definition`` schema (InstrumentDefMsg records)
        for the same instruments; definitions inside ``path`` win.
    open_time
        MBO only: the session open splitting the crossed/locked counts into pre-open and
        open (``pd.Timestamp``, ISO string, naive = UTC, or int ns UTC), compared with
        ``ts_exch``. Default: 17:00 America/Chicago on the UTC date of the metadata
        start (the Globex reopen; 23:00 UTC in winter).
    include_fills
        MBO only: also emit ``F`` records, as ``TRADE`` events with the aggressor side
        (opposite the filled resting order). Off by default: see Notes.

    Returns
    -------
    MarketData
        Events in the file's record order (``ts_recv`` order), with a
        :class:`~qlib.data.ValidationReport` (``source="databento"``).

    Raises
    ------
    DataNotFoundError
        If ``path`` (or ``definitions``) does not exist.
    DataQualityError
        See *Data quirks*; every message names the file, the record number ``row``
        (0-based, after the metadata, counting every record type), the field and value.
    ParameterError
        On an unsupported schema (named), a file of several instruments without
        ``symbol=`` (the symbols are listed), an unknown ``symbol``, a bad
        ``open_time``, or an ``instrument`` the registry does not know.
    SchemaError
        If the records ``databento_dbn`` returns no longer match the record dtypes of
        :mod:`qlib.data._databento_schemas`.

    Notes
    -----
    **Decoding.** ``zstandard`` decompresses every frame, 64 KiB of the file at a time
    (a truncated last frame raises; ``stream_reader`` would silently return the
    prefix). A numba pass walks the record headers of each piece first
    (:func:`qlib.data._databento_kernels.scan_records`): an unknown ``rtype`` or a
    length shorter than the rtype's record raises naming the record, before the bytes
    reach ``DBNDecoder`` (which would panic). The decoder's records are turned into
    numpy by their canonical bytes (``bytes(record)``), 16 records of every slice are
    compared field by field with the decoder's attributes, and only one slice of
    record objects is alive at a time.

    **Instrument.** The id is ``SYMBOL.VENUE``: the symbol is the definition's
    ``raw_symbol``, else the metadata symbology (:func:`_databento_schemas.symbols_by_id`);
    the venue comes from the dataset (:data:`_databento_schemas.DATASET_VENUES`,
    ``GLBX.MDP3`` -> ``GLBX``; an unlisted dataset gives its prefix). When the file (or
    ``definitions``) holds the instrument's definition record, its
    ``min_price_increment`` is the tick, ``unit_of_measure_qty`` (else
    ``contract_multiplier``) the multiplier, ``currency`` and ``min_lot_size_round_lot``
    the currency and lot. Then :func:`qlib.data.instruments.resolve` decides: a
    registry row (futures roots such as ``ES.GLBX`` match ``ESH4.GLBX``) wins, except
    that prices off its tick switch to the file's grid; without one, the tick is
    the definition's or is inferred from the prices (``infer_step_scaled(prices,
    10**9)``). Every inferred fact is in ``report.inferred``.

    **Mapping** (all schemas: ``ts_exch = ts_event``, ``ts_local = ts_recv``,
    ``seq = sequence``, ``px_tick = price / (tick_size x 1e9)``, exact or raise; flags
    ``F_LAST -> LAST``, ``F_SNAPSHOT -> SNAPSHOT``, ``F_BAD_TS_RECV -> BAD_TS_LOCAL``).

    *MBO* (L3):

    ======  =====================================================================
    action  event
    ======  =====================================================================
    A       ``ADD`` (side B -> BUY, A -> SELL), ``order_id``, qty = size
    C       ``CANCEL`` (qty = size cancelled), or ``DELETE`` when it removes the
            order's whole remainder (found by tracking orders by id)
    M       ``MODIFY`` (absolute new price and size)
    T       ``TRADE``, side = aggressor as Databento gives it (``N`` -> NONE),
            ``order_id`` 0
    F       dropped and counted under :data:`FILL_REASON` (or ``TRADE`` with
            ``include_fills``)
    R       ``CLEAR`` (side NONE)
    N       dropped and counted under :data:`NONE_ACTION_REASON`
    ======  =====================================================================

    Databento's ``F`` and ``T`` records do not change the book: a fill is followed
    by the ``C``/``M`` that removes the quantity [1]_. ``EventKind.EXECUTE`` would
    remove it a second time, so fills are not EXECUTE. Each fill repeats part of its
    ``T`` print's volume, so emitting both would double count traded volume; the
    ``T`` prints are kept. When a dropped record carries ``F_LAST``, the ``LAST``
    bit moves to the previous kept record, so no event end is lost. A numba kernel
    rebuilds the book order by order and counts crossed/locked event ends before and
    after ``open_time`` (``provenance["book_check"]``, ``report.crossed_rows``).

    *MBP-10, MBP-1, TBBO* (L2, :func:`qlib.data._databento_kernels.mbp_to_events`):
    each record's levels (10 or 1 per side) are the top of the book after the
    record [2]_. The loader emits ``DEPTH`` events that make the book's levels equal
    to them exactly: ``qty = 0`` for a previous level absent from the record, the new
    size for a new or changed level (unchanged levels emit nothing). A level that
    leaves the window (pushed below level 10 by a better one) is removed, because
    the record says nothing more about it: the rebuilt book is always exactly the
    record's levels, never stale deeper levels. This is cheaper than a CLEAR and ten
    SNAPSHOT levels per record (most records change one level) and reproduces the
    same book. An ``R`` record gives ``CLEAR`` first. ``T`` records give a ``TRADE``
    (aggressor side; ``F``, not normally in MBP data, the opposite of the filled
    order's side), before the depth events for MBP (levels are after the event) and
    after them for TBBO (its level is the quote *before* the trade [3]_). ``A``,
    ``C``, ``M``, ``N`` records give only their depth changes. ``LAST`` goes on the
    record's last event (or the previous event when a record changes nothing).

    *Trades*: one ``TRADE`` per record, side = aggressor (``B`` -> BUY, ``A`` -> SELL,
    ``N`` -> NONE).

    **Data quirks** (what happens to each case a real file can hit):

    * several instruments in the file: ``ParameterError`` listing the symbols and
      naming ``symbol=``; with ``symbol=``, the others' records are counted under
      :data:`OTHER_INSTRUMENT_REASON` (with the symbol) and dropped.
    * non-market records (symbol mappings, system, error, status, statistics):
      counted under ``"non-market record (<type>)"`` and dropped; definitions are read.
    * a market record of another schema, an unknown ``rtype``, a record shorter than
      its rtype: ``DataQualityError`` (field ``rtype``, the record number).
    * a decoder error or panic (``pyo3`` ``PanicException``, caught by type name;
      ``KeyboardInterrupt``/``SystemExit`` pass through): ``DataQualityError`` (field
      ``dbn``, the first record of the failing slice).
    * truncated file (inside a zstd frame, inside a record, inside the metadata):
      ``DataQualityError`` (fields ``zstd``, ``record``, ``metadata``).
    * gzip/bzip2 or other non-DBN bytes: ``DataQualityError`` (field ``magic``);
      plain (uncompressed) DBN is read.
    * unsupported schema (``ohlcv-*``, ``bbo-*``, ``cmbp-1``, ``statistics``,
      ``definition``...): ``ParameterError`` naming it.
    * ``UNDEF_PRICE`` (i64 max) where a price is needed (MBO A/C/M/T/F, a trade, an
      MBP level with a size): ``DataQualityError`` (field ``price``). An MBP level
      with size 0 and ``UNDEF_PRICE`` is an empty level, as Databento writes them.
    * a price <= 0 on an outright instrument: ``DataQualityError`` (field ``price``);
      kept for spreads (definition ``instrument_class`` ``S``, ``T`` or ``M``), whose
      negative ``px_tick`` the books handle.
    * a price off the tick: with a registry tick, the file's grid is used and
      reported; off a definition's or the caller's tick: ``DataQualityError``.
    * an unknown action or side: ``DataQualityError`` (fields ``action``, ``side``).
    * ``ts_event``/``ts_recv`` undefined: ``DataQualityError``.
    * ``ts_event`` going backwards: counted (``report.out_of_order_rows``), kept in
      file order.

    References
    ----------
    .. [1] Databento (2024). Market by order (MBO) schema, and the example "State
       management of resting orders". https://databento.com/docs/schemas-and-data-formats/mbo
    .. [2] Databento (2024). Market by price (MBP-10, MBP-1) schemas.
       https://databento.com/docs/schemas-and-data-formats/mbp-10
    .. [3] Databento (2024). Trades and TBBO schemas: "each trade with the BBO
       immediately before the effect of the trade".
       https://databento.com/docs/schemas-and-data-formats/tbbo
    .. [4] CME Group (2023). MDP 3.0 Market by Order (MBO) feed.

    Examples
    --------
    >>> from qlib.data import shared_data_dir
    >>> p = shared_data_dir() / "databento-glbx-esh4-mbo-2023-12-25/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    >>> md = load_databento(p)  # doctest: +SKIP
    >>> md.report.rows_read  # doctest: +SKIP
    68792
    """
    p = Path(path)
    label = str(p)
    _check_args(p, label, include_fills)
    report = ValidationReport("databento")
    report.files = [label]
    dec = _s.decode(p, label, report)
    ids, names = _ids_and_symbols(dec)
    if symbol is None:
        if ids.shape[0] > 1:
            listed = ", ".join(f"{names[i]} ({i})" for i in ids.tolist()[:20])
            raise ParameterError(
                f"Databento file {label!r} holds {ids.shape[0]} instruments: {listed}"
                f"{' ...' if ids.shape[0] > 20 else ''}; pass symbol='...' to load one, or"
                " use load_databento_all(path)")
        iid = int(ids[0])
    else:
        iid = _pick(symbol, ids, names, label)
    defs = _definitions(definitions, dec, report)
    return _load_one(dec, iid, names[iid], ids, names, defs, label, report, instrument,
                     open_time, include_fills, release=True)


def load_databento_all(
    path: str | Path,
    *,
    definitions: str | Path | None = None,
    open_time: str | pd.Timestamp | int | None = None,
    include_fills: bool = False,
) -> dict[str, MarketData]:
    """Load every instrument of a Databento file: ``{symbol: MarketData}``.

    The file is decoded once; each instrument is loaded as
    ``load_databento(path, symbol=...)`` would (instrument from the file), except
    that the other instruments' records are not counted as drops of each report.
    Non-market records are counted in every instrument's report.

    Raises
    ------
    The errors of :func:`load_databento`.
    """
    p = Path(path)
    label = str(p)
    _check_args(p, label, include_fills)
    base = ValidationReport("databento")
    dec = _s.decode(p, label, base)
    ids, names = _ids_and_symbols(dec)
    defs = _definitions(definitions, dec, base)
    out: dict[str, MarketData] = {}
    for iid in ids.tolist():
        report = ValidationReport("databento")
        report.files = [label]
        report.drops = copy.deepcopy(base.drops)
        report.notes = list(base.notes)
        key = names[iid] if names[iid] not in out else f"{names[iid]}#{iid}"
        out[key] = _load_one(dec, iid, names[iid], ids, names, defs, label, report, None,
                             open_time, include_fills, count_others=False)
    return out


def _pick(symbol: str, ids: np.ndarray, names: dict[int, str], label: str) -> int:
    s = str(symbol)
    for i in ids.tolist():
        if names[i].upper() == s.upper() or str(i) == s:
            return int(i)
    listed = ", ".join(f"{names[i]} ({i})" for i in ids.tolist()[:20])
    raise ParameterError(f"symbol {s!r} is not in Databento file {label!r}; it holds {listed}")


def _load_one(dec: _s.Decoded, iid: int, sym: str, ids: np.ndarray, names: dict[int, str],
              defs: dict[int, object], label: str, report: ValidationReport, instrument: object,
              open_time: object, include_fills: bool, count_others: bool = True,
              release: bool = False) -> MarketData:
    """Load instrument ``iid`` of a decoded file. With ``release`` the records are taken
    out of ``dec``, so that they are freed once the events are built, before the MBO
    book check (the peak memory of a first load)."""
    arr, rows = dec.records, dec.rows
    if release:
        dec.records = np.zeros(0, dtype=arr.dtype)
    if ids.shape[0] > 1:
        iids = arr["instrument_id"]
        mine = iids == iid
        if count_others:
            for other in ids.tolist():
                if other != iid:
                    r = np.flatnonzero(iids == other)
                    if rows is not None:
                        r = rows[r]
                    _record_drops(report, f"{OTHER_INSTRUMENT_REASON} ({names[other]})",
                                  label, r)
        idx = np.flatnonzero(mine)
        rows = rows[idx] if rows is not None else idx
        arr = arr[idx]
    report.rows_read = arr.shape[0] + report.rows_dropped
    spec = _s.SCHEMAS[dec.schema]
    definition = defs.get(iid)
    prices, _ = _required_prices(spec.name, arr)
    inst, facts = _instrument(instrument, dec, sym, prices, definition, report)
    del prices
    spread = facts.get("instrument_class", "") in _s.SPREAD_CLASSES
    tick_units = _ticks(inst)
    _check_ts(arr, rows, label)
    provenance = {
        "loader": "qlib.data.databento.load_databento", "path": label,
        "dataset": str(dec.meta.dataset), "schema": dec.schema,
        "dbn_version": int(dec.meta.version), "symbols": list(dec.meta.symbols),
        "symbol": sym, "instrument_id": int(iid), "start_ns": int(dec.meta.start),
        "end_ns": None if dec.meta.end is None else int(dec.meta.end),
        "definition": dict(facts) or None,
    }
    if spec.name == "mbo":
        ev, ev_book, action_counts = _mbo(arr, rows, label, report, tick_units, spread,
                                          include_fills)
        del arr  # the records are freed here when nothing else holds them
        _mbo_book_check(ev, ev_book, action_counts, report, open_time, dec.meta, inst,
                        provenance, include_fills)
    elif spec.name == "trades":
        ev = _trades(arr, rows, label, tick_units, spread)
    else:
        ev = _mbp(arr, rows, label, report, tick_units, spread, spec.name)
    check_events(ev, report)
    report.notes.append("ts_exch = ts_event, ts_local = ts_recv; records kept in file"
                        " (ts_recv) order")
    return MarketData(ev, inst, report, provenance)


def _flags(raw: np.ndarray) -> np.ndarray:
    flags = np.zeros(raw.shape[0], dtype=np.uint8)
    flags[(raw & _F_LAST) != 0] |= int(EventFlag.LAST)
    flags[(raw & _F_SNAPSHOT) != 0] |= int(EventFlag.SNAPSHOT)
    flags[(raw & _F_BAD_TS_RECV) != 0] |= int(EventFlag.BAD_TS_LOCAL)
    return flags


def _sides(arr: np.ndarray, rows: np.ndarray | None, label: str) -> np.ndarray:
    side_of = np.full(256, 2, dtype=np.int8)
    side_of[ord("B")], side_of[ord("A")], side_of[ord("N")] = Side.BUY, Side.SELL, Side.NONE
    side = side_of[arr["side"].view(np.uint8)]
    if (side == 2).any():
        r = _first_bad(side == 2)
        raise DataQualityError(f"side was {arr['side'][r].decode('latin-1')!r}, expected B, A"
                               " or N", file=label, row=_row(rows, r), field="side",
                               value=arr["side"][r].decode("latin-1"))
    return side


def _actions(arr: np.ndarray, rows: np.ndarray | None, label: str, ok: str) -> np.ndarray:
    action = arr["action"].view(np.uint8)
    allowed = np.zeros(256, dtype=np.bool_)
    allowed[np.frombuffer(ok.encode(), dtype=np.uint8)] = True
    bad = ~allowed[action]
    if bad.any():
        r = _first_bad(bad)
        raise DataQualityError(
            f"action was {arr['action'][r].decode('latin-1')!r}, expected one of"
            f" {' '.join(ok)}", file=label, row=_row(rows, r), field="action",
            value=arr["action"][r].decode("latin-1"))
    return action


def _trades(arr: np.ndarray, rows: np.ndarray | None, label: str, tick_units: int,
            spread: bool) -> np.ndarray:
    """Trades schema: one TRADE per record (vectorised; no state between records)."""
    _actions(arr, rows, label, "T")
    side = _sides(arr, rows, label)
    price = arr["price"]
    _check_prices(price, np.ones(price.shape[0], dtype=np.bool_), rows, label,
                  "trade price", spread, tick_units)
    ev = empty_events(arr.shape[0])
    ev["ts_exch"] = arr["ts_event"].astype(np.int64)
    ev["ts_local"] = arr["ts_recv"].astype(np.int64)
    ev["seq"] = arr["sequence"].astype(np.int64)
    ev["kind"] = EventKind.TRADE
    ev["side"] = side
    ev["px_tick"] = price // tick_units
    ev["qty"] = arr["size"].astype(np.float64)
    ev["flags"] = _flags(arr["flags"])
    return ev


def _mbp(arr: np.ndarray, rows: np.ndarray | None, label: str, report: ValidationReport,
         tick_units: int, spread: bool, schema: str) -> np.ndarray:
    """MBP-1 / TBBO / MBP-10 records to L2 DEPTH, CLEAR and TRADE events (numba kernel)."""
    action = _actions(arr, rows, label, "ACMRTFN")
    _sides(arr, rows, label)
    is_trade = (action == ord("T")) | (action == ord("F"))
    _check_prices(arr["price"], is_trade, rows, label, "trade price", spread, None)
    lv = arr["levels"]
    for p, q in (("bid_px", "bid_sz"), ("ask_px", "ask_sz")):
        _check_prices(lv[p], lv[q] > 0, rows, label, f"level {p}", spread, None)
    args = (arr["ts_event"], arr["ts_recv"], arr["sequence"], action,
            arr["side"].view(np.uint8), arr["price"], arr["size"], _flags(arr["flags"]),
            lv["bid_px"], lv["ask_px"], lv["bid_sz"], lv["ask_sz"], np.int64(tick_units),
            schema == "tbbo")
    status, n, row = _k.mbp_to_events(*args, empty_events(0), False)
    if status == _k.MBP_OK:
        ev = empty_events(n)
        status, n, row = _k.mbp_to_events(*args, ev, True)
    if status != _k.MBP_OK:
        r = int(row)
        bad = (lv["bid_px"][r].tolist() + lv["ask_px"][r].tolist() + [int(arr["price"][r])])
        v = next((x for x in bad if x != _UNDEF_PRICE and x % tick_units), bad[0])
        raise DataQualityError(f"price {v / _PRICE_SCALE} is not a multiple of the tick size"
                               f" {tick_units / _PRICE_SCALE}", file=label, row=_row(rows, r),
                               field="price", value=int(v))
    counts = {chr(a): int(k) for a, k in zip(*np.unique(action, return_counts=True))}
    report.notes.append("records by action: " + ", ".join(f"{a} {k:,}"
                                                          for a, k in counts.items()))
    report.notes.append(f"{schema}: the book after each record equals the record's"
                        f" {lv.shape[1]} level(s) per side (DEPTH changes only)")
    return ev


def _mbo(arr: np.ndarray, rows: np.ndarray | None, label: str, report: ValidationReport,
         tick_units: int, spread: bool,
         include_fills: bool) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """MBO records to L3 events: ``(events, book-event mask, records by action)``."""
    n = arr.shape[0]
    # -- actions and sides (lookup tables indexed by the ASCII byte) ----------------
    action = arr["action"].view(np.uint8)
    kind_of = np.zeros(256, dtype=np.uint8)
    for code, kind in ((b"A", EventKind.ADD), (b"C", EventKind.CANCEL), (b"M", EventKind.MODIFY),
                       (b"T", EventKind.TRADE), (b"F", EventKind.TRADE), (b"R", EventKind.CLEAR),
                       (b"N", 255)):
        kind_of[code[0]] = kind
    kind = kind_of[action]
    if (kind == 0).any():
        r = _first_bad(kind == 0)
        a = arr["action"][r].decode("latin-1")
        raise DataQualityError(f"action was {a!r}, expected one of A C M T F R N",
                               file=label, row=_row(rows, r), field="action", value=a)
    side_of = np.full(256, 2, dtype=np.int8)
    side_of[ord("B")], side_of[ord("A")], side_of[ord("N")] = Side.BUY, Side.SELL, Side.NONE
    side = side_of[arr["side"].view(np.uint8)]
    is_book = (kind == EventKind.ADD) | (kind == EventKind.CANCEL) | (kind == EventKind.MODIFY)
    bad_side = (side == 2) | (is_book & (side == Side.NONE))
    if bad_side.any():
        r = _first_bad(bad_side)
        s, a = arr["side"][r].decode("latin-1"), arr["action"][r].decode("latin-1")
        raise DataQualityError(
            f"side was {s!r} on a {a!r} record, expected B or A (or N on T/F/R/N)",
            file=label, row=_row(rows, r), field="side", value=s)
    is_fill = action == ord("F")
    is_none = action == ord("N")

    # -- prices and timestamps ----------------------------------------------------
    price = arr["price"]
    priced = (kind != EventKind.CLEAR) & ~is_none
    _check_prices(price, priced, rows, label, "price", spread, tick_units)

    # -- build events ----------------------------------------------------------------
    keep = ~is_none & (~is_fill if not include_fills else np.ones(n, dtype=np.bool_))
    flags = _flags(arr["flags"])
    kept_rows = np.flatnonzero(keep)
    lost_last = np.flatnonzero(~keep & ((flags & int(EventFlag.LAST)) != 0))
    if lost_last.shape[0]:
        pos = np.searchsorted(kept_rows, lost_last) - 1
        flags[kept_rows[pos[pos >= 0]]] |= int(EventFlag.LAST)
    ev = empty_events(kept_rows.shape[0])
    ev["ts_exch"] = arr["ts_event"][kept_rows].astype(np.int64)
    ev["ts_local"] = arr["ts_recv"][kept_rows].astype(np.int64)
    ev["seq"] = arr["sequence"][kept_rows].astype(np.int64)
    ev["kind"] = kind[kept_rows]
    ev_side = side[kept_rows]
    ev_fill = is_fill[kept_rows]
    ev_side[ev_fill] = -ev_side[ev_fill]  # a fill's side is the resting order's
    ev["side"] = ev_side
    ev["px_tick"] = np.where(priced[kept_rows], price[kept_rows] // tick_units, 0)
    ev["qty"] = arr["size"][kept_rows].astype(np.float64)
    ev_book = is_book[kept_rows]
    ev["order_id"] = np.where(ev_book, arr["order_id"][kept_rows], 0)
    ev["flags"] = flags[kept_rows]
    ev["qty"][ev["kind"] == EventKind.CLEAR] = 0.0

    if is_fill.any() and not include_fills:
        _record_drops(report, FILL_REASON, label, _file_rows(rows, is_fill))
    if is_none.any():
        _record_drops(report, NONE_ACTION_REASON, label, _file_rows(rows, is_none))
    action_counts = {chr(a): int(k) for a, k in zip(*np.unique(action, return_counts=True))}
    return ev, ev_book, action_counts


def _mbo_book_check(ev: np.ndarray, ev_book: np.ndarray, action_counts: dict[str, int],
                    report: ValidationReport, open_time: object, meta: dbn.Metadata,
                    instrument: Instrument, provenance: dict, include_fills: bool) -> None:
    """The order-by-order book check of MBO events, into ``report`` and ``provenance``."""
    open_ns = _open_ns(open_time, meta)
    book_px = ev["px_tick"][ev_book]
    order_idx = np.full(ev.shape[0], -1, dtype=np.int64)
    n_orders = 0
    px_lo, n_px = 0, 1
    if book_px.shape[0]:
        uniq, inv = np.unique(ev["order_id"][ev_book], return_inverse=True)
        order_idx[ev_book] = inv
        n_orders = int(uniq.shape[0])
        px_lo = int(book_px.min())
        n_px = int(book_px.max()) - px_lo + 1
    counts = np.zeros(_k.N_COUNTS, dtype=np.int64)
    status, row = _k.replay_orders(ev, order_idx, px_lo, n_px, max(n_orders, 1), open_ns, counts)
    if status != Status.OK:  # cannot happen for consistent inputs: a bug, not bad data
        raise EngineError(f"order replay failed with {Status(status).name} at event {row}")

    c = counts
    report.crossed_rows = int(c[_k.CNT_CROSSED_PRE] + c[_k.CNT_CROSSED_OPEN])
    report.locked_rows = int(c[_k.CNT_LOCKED_PRE] + c[_k.CNT_LOCKED_OPEN])
    open_txt = pd.Timestamp(open_ns, unit="ns", tz="UTC")
    book_check = {
        "open_ns": open_ns,
        "crossed_pre_open": int(c[_k.CNT_CROSSED_PRE]), "locked_pre_open": int(c[_k.CNT_LOCKED_PRE]),
        "crossed_open": int(c[_k.CNT_CROSSED_OPEN]), "locked_open": int(c[_k.CNT_LOCKED_OPEN]),
        "event_ends_checked_pre_open": int(c[_k.CNT_CHECKED_PRE]),
        "event_ends_checked_open": int(c[_k.CNT_CHECKED_OPEN]),
        "unknown_order_cancels": int(c[_k.CNT_UNKNOWN_CANCEL]),
        "unknown_order_modifies": int(c[_k.CNT_UNKNOWN_MODIFY]),
        "duplicate_adds": int(c[_k.CNT_DUPLICATE_ADD]), "over_cancels": int(c[_k.CNT_OVER_CANCEL]),
        "cancels_as_delete": int(c[_k.CNT_TO_DELETE]),
        "resting_orders_end": int(c[_k.CNT_RESTING_END]),
        "best_bid_end": None if c[_k.CNT_BEST_BID_END] < 0
        else float(c[_k.CNT_BEST_BID_END]) * instrument.tick_size,
        "best_ask_end": None if c[_k.CNT_BEST_ASK_END] < 0
        else float(c[_k.CNT_BEST_ASK_END]) * instrument.tick_size,
    }
    unknown = book_check["unknown_order_cancels"] + book_check["unknown_order_modifies"]
    report.notes += [
        "records by action: " + ", ".join(f"{a} {k:,}" for a, k in action_counts.items()),
        (f"book rebuilt by order id; at LAST records: pre-open (ts_exch < {open_txt})"
         f" {book_check['crossed_pre_open']} crossed / {book_check['locked_pre_open']} locked,"
         f" after the open {book_check['crossed_open']} crossed /"
         f" {book_check['locked_open']} locked"),
        (f"unknown order-id references: {unknown}; duplicate adds:"
         f" {book_check['duplicate_adds']}; over-cancels: {book_check['over_cancels']}"),
        (f"C records removing an order's whole remainder emitted as DELETE:"
         f" {book_check['cancels_as_delete']:,}"),
        (f"end of file: {book_check['resting_orders_end']:,} resting orders, best bid/ask"
         f" {book_check['best_bid_end']} / {book_check['best_ask_end']}"),
    ]
    provenance.update(include_fills=include_fills, action_counts=action_counts,
                      book_check=book_check)
