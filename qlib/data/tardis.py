"""Load Tardis.dev normalised CSV files: trades, quotes and incremental_book_L2.

Formats (one header row, comma-separated; ``timestamp`` is the exchange time and
``local_timestamp`` Tardis's receive time, both integer microseconds since the epoch):

* trades: ``exchange,symbol,timestamp,local_timestamp,id,side,price,amount``
* quotes: ``exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount``
* incremental_book_L2: ``exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount``

See ``shared/data/tardis-binance-futures-btcusdt-2020-02-22/PROVENANCE.md``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from qlib.data.binance import BINANCE_INSTRUMENTS
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["load_tardis", "tardis_kind", "TARDIS_COLUMNS", "TARDIS_EXCHANGES"]

#: The L2 loaders count crossed/locked rows by replaying their events through the
#: book (``qlib.book``, one layer up). The import is made inside the functions that
#: need it, at call time, so importing the data layer never imports the book layer
#: (which itself imports ``qlib.data.market_data``): no import cycle.
_BOOK_IMPORT_NOTE = "qlib.book is imported at call time"

_BASE = ["exchange", "symbol", "timestamp", "local_timestamp"]
#: Columns of each Tardis file kind, in order.
TARDIS_COLUMNS: dict[str, list[str]] = {
    "trades": _BASE + ["id", "side", "price", "amount"],
    "quotes": _BASE + ["ask_amount", "ask_price", "bid_price", "bid_amount"],
    "book": _BASE + ["is_snapshot", "side", "price", "amount"],
}
#: Tardis exchange id -> market key of :data:`qlib.data.binance.BINANCE_INSTRUMENTS`.
TARDIS_EXCHANGES = {"binance": "spot", "binance-futures": "usdm", "binance-delivery": "coinm"}

_TYPES = {"timestamp": pa.int64(), "local_timestamp": pa.int64(), "price": pa.float64(),
          "amount": pa.float64(), "ask_amount": pa.float64(), "ask_price": pa.float64(),
          "bid_price": pa.float64(), "bid_amount": pa.float64(), "id": pa.string(),
          "side": pa.string(), "is_snapshot": pa.string(), "exchange": pa.string(),
          "symbol": pa.string()}
_US = 1000
_ORDER = ("book", "trades", "quotes")


def tardis_kind(path: str | Path) -> str:
    """Return ``"trades"``, ``"quotes"`` or ``"book"`` from a Tardis CSV's header.

    Raises
    ------
    DataNotFoundError
        If the file does not exist.
    DataQualityError
        If the header matches no known kind; the message names the missing columns
        (``row`` is None: the header is not a data row).
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"Tardis file {p} does not exist")
    with open(p, "rb") as fh:
        header = fh.readline().decode("utf-8", "replace").strip().split(",")
    for kind, cols in TARDIS_COLUMNS.items():
        if header == cols:
            return kind
    best = min(TARDIS_COLUMNS, key=lambda k: len(set(TARDIS_COLUMNS[k]) ^ set(header)))
    missing = [c for c in TARDIS_COLUMNS[best] if c not in header]
    raise DataQualityError(
        f"header {header} is not a Tardis trades, quotes or incremental_book_L2 header;"
        f" closest is {best}, missing {missing}", file=str(p), row=None,
        field=missing[0] if missing else "header", value=",".join(header))


def _read(path: Path, kind: str) -> dict[str, np.ndarray]:
    """Read one file with pyarrow; name the first unparsable cell on failure."""
    cols = TARDIS_COLUMNS[kind]
    types_ = {c: _TYPES[c] for c in cols}
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types=types_, strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        _locate_bad_cell(path, cols, exc)
        raise DataQualityError(f"CSV does not parse: {exc}", file=str(path), row=None,
                               field=None, value=None) from exc
    out = {}
    for c in cols:
        arr = table.column(c)
        if arr.null_count:
            row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
            if c in ("ask_price", "ask_amount", "bid_price", "bid_amount"):
                out[c] = arr.to_numpy(zero_copy_only=False)  # NaN: an empty side, dropped later
                continue
            raise DataQualityError(f"column {c!r} is empty", file=str(path), row=row, field=c,
                                   value=None)
        out[c] = arr.to_numpy(zero_copy_only=False)
    return out


def _locate_bad_cell(path: Path, cols: list[str], exc: Exception) -> None:
    """Re-read as text to raise an error naming the first bad row, column and value."""
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in cols}))
    except pa.ArrowInvalid as exc2:
        raise DataQualityError(f"CSV does not parse: {exc2}", file=str(path), row=None,
                               field=None, value=None) from exc
    for c in cols:
        t = _TYPES[c]
        if t == pa.string():
            continue
        text = table.column(c).to_numpy(zero_copy_only=False)
        for row, v in enumerate(text):
            if v is None or (v == "" and c in ("ask_price", "ask_amount", "bid_price", "bid_amount")):
                continue
            try:
                x = int(v) if t == pa.int64() else float(v)
                if isinstance(x, float) and not math.isfinite(x):
                    raise ValueError
            except (TypeError, ValueError):
                raise DataQualityError(
                    f"{c} was {v!r}, expected {'an integer' if t == pa.int64() else 'a number'}",
                    file=str(path), row=row, field=c, value=v) from exc


def _resolve(path, trades, quotes, book) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    if path is not None:
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix == ".csv")
            if not files:
                raise DataNotFoundError(f"no .csv files in directory {p}")
            found += [(tardis_kind(f), f) for f in files]
        else:
            found.append((tardis_kind(p), p))
    for kind, given in (("trades", trades), ("quotes", quotes), ("book", book)):
        if given is None:
            continue
        k = tardis_kind(given)
        if k != kind:
            raise ParameterError(f"{kind}= was given {given}, whose header is a {k} file")
        found.append((k, Path(given)))
    if not found:
        raise ParameterError("give path= (a file or a directory) or trades=/quotes=/book=")
    return found


def _infer_instrument(exchange: str, symbol: str, prices: np.ndarray,
                      report: ValidationReport) -> Instrument:
    market = TARDIS_EXCHANGES.get(exchange)
    inst = BINANCE_INSTRUMENTS.get((market, symbol.upper())) if market else None
    if inst is None:
        raise ParameterError(f"no known instrument for Tardis exchange {exchange!r} symbol"
                             f" {symbol!r}; pass instrument=Instrument(...)")
    tick = inst.tick_size
    px = prices[np.isfinite(prices)]
    # the venue's tick today, or the coarsest finer power of ten that every price sits on
    while tick > 1e-8 and len(px):
        q = px / tick
        if np.all(np.abs(q - np.rint(q)) <= 1e-6):
            break
        tick = round(tick / 10, 12)
    if tick != inst.tick_size:
        report.notes.append(f"prices are not all on {inst.instrument_id}'s current tick"
                            f" {inst.tick_size}: tick_size {tick} inferred from the data")
        inst = Instrument(inst.instrument_id, tick, inst.lot_size, inst.currency,
                          inst.maker_fee_bps, inst.taker_fee_bps, inst.multiplier, inst.inverse)
    return inst


def _check_local_sorted(ts: np.ndarray, file: str) -> None:
    back = np.flatnonzero(np.diff(ts) < 0)
    if back.size:
        r = int(back[0]) + 1
        raise DataQualityError(f"local_timestamp went backwards: {ts[r]} after {ts[r - 1]}"
                               " (Tardis files are ordered by local_timestamp)",
                               file=file, row=r, field="local_timestamp", value=int(ts[r]))


def _check_amount(q: np.ndarray, file: str, col: str) -> None:
    bad = ~np.isfinite(q) | (q < 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise DataQualityError(f"{col} was {q[r]!r}, expected a finite number >= 0",
                               file=file, row=r, field=col, value=float(q[r]))


def _ticks(inst: Instrument, px: np.ndarray, file: str, col: str) -> np.ndarray:
    try:
        return inst.to_ticks(px, field=col, file=file)
    except DataQualityError as exc:
        raise DataQualityError(str(exc).split("] ", 1)[-1], file=file, row=exc.row, field=col,
                               value=exc.value) from None


def _side(text: np.ndarray, file: str, mapping: dict[str, int]) -> np.ndarray:
    vals, inv = np.unique(text.astype(str), return_inverse=True)
    codes = np.empty(len(vals), dtype=np.int8)
    for i, v in enumerate(vals):
        if v not in mapping:
            r = int(np.flatnonzero(inv == i)[0])
            raise DataQualityError(f"side was {v!r}, expected one of {sorted(mapping)}",
                                   file=file, row=r, field="side", value=v)
        codes[i] = mapping[v]
    return codes[inv]


def load_tardis(path: str | Path | None = None, *, trades: str | Path | None = None,
                quotes: str | Path | None = None, book: str | Path | None = None,
                instrument: Instrument | None = None) -> MarketData:
    """Load Tardis.dev normalised CSV files (trades, quotes, incremental_book_L2) as events.

    Parameters
    ----------
    path
        A CSV file or a directory; each file's kind is told by its header, and a
        directory loads every ``*.csv`` in it.
    trades, quotes, book
        Files of that kind, given explicitly (checked against their header).
    instrument
        The instrument; inferred when None from ``exchange`` and ``symbol``
        (``binance-futures``/``BTCUSDT`` -> ``BTCUSDT-PERP.BINANCE``, ...). When the
        prices do not all sit on the venue's current tick (Binance USD-M quoted 0.01
        in 2020, 0.1 since), the coarsest finer power of ten that fits is used and
        noted in the report.

    Returns
    -------
    MarketData
        Events with ``ts_exch = timestamp * 1000`` and ``ts_local = local_timestamp *
        1000`` (ns):

        * trades: ``TRADE``, ``side`` the aggressor (``buy``/``sell``, ``unknown`` ->
          ``Side.NONE``), ``seq`` the numeric trade id (-1 when not an integer),
          flag ``LAST``.
        * quotes: two ``QUOTE`` per row, bid then ask (``LAST``); a side with an
          empty price is left out and counted in ``report.drops``.
        * incremental_book_L2: ``DEPTH`` rows with absolute ``amount`` (0 removes
          the level); each run of ``is_snapshot=true`` rows becomes a ``CLEAR``
          (``Side.NONE``) and ``SNAPSHOT`` rows flagged ``SNAPSHOT``. ``LAST`` marks
          the final row of each group of consecutive rows sharing ``local_timestamp``
          and ``is_snapshot`` (one Tardis update message).

        Files are merged with a stable sort on exchange ``timestamp`` (ties keep
        book, trades, quotes order, then file order, then row order).

    Raises
    ------
    DataNotFoundError
        A file does not exist; a directory holds no CSV.
    DataQualityError
        Unknown header or missing column, an empty or non-numeric cell, a negative
        or non-finite amount, an unknown side, ``local_timestamp`` going backwards
        inside a file (Tardis orders rows by it), an off-grid price, two symbols.
        The message names file, row (0-based data row), field and value.
    ParameterError
        No input given, a file given under the wrong kind, or no known instrument.

    Notes
    -----
    The report counts quote rows with ``bid > ask`` (crossed) and ``bid == ask``
    (locked), plus the rebuilt L2 book's crossed/locked rows after each ``LAST``
    row, and, as ``out_of_order_rows``, rows whose exchange ``timestamp`` is below
    an earlier row's of the same file: Tardis orders by receive time, so the merge
    moves them into exchange-time order.
    """
    if instrument is not None and not isinstance(instrument, Instrument):
        raise ParameterError(f"instrument must be an Instrument, was {type(instrument).__name__}")
    found = _resolve(path, trades, quotes, book)
    report = ValidationReport("tardis", files=[str(f) for _, f in found])
    tables = []
    exch_sym: tuple[str, str] | None = None
    out_of_order = 0
    for kind, f in found:
        name = str(f)
        t = _read(f, kind)
        n = len(t["timestamp"])
        report.rows_read += n
        if n == 0:
            continue
        _check_local_sorted(t["local_timestamp"], name)
        out_of_order += int(np.count_nonzero(
            t["timestamp"] < np.maximum.accumulate(t["timestamp"])))
        for col in ("exchange", "symbol"):
            vals = np.unique(t[col])
            if len(vals) > 1:
                r = int(np.flatnonzero(t[col] != t[col][0])[0])
                raise DataQualityError(f"{col} changes from {t[col][0]!r} to {t[col][r]!r}:"
                                       " one instrument per load", file=name, row=r, field=col,
                                       value=t[col][r])
        es = (str(t["exchange"][0]), str(t["symbol"][0]))
        if exch_sym is not None and es != exch_sym:
            raise DataQualityError(f"exchange/symbol {es} differs from {exch_sym} of the"
                                   " files before", file=name, row=0, field="symbol", value=es[1])
        exch_sym = es
        tables.append((kind, name, t))
    if not tables:
        raise DataQualityError("no data rows in any file", file=report.files[0], row=0,
                               field="timestamp", value=None)
    if instrument is None:
        allpx = np.concatenate([t[c] for k, _, t in tables for c in
                                (("bid_price", "ask_price") if k == "quotes" else ("price",))])
        instrument = _infer_instrument(exch_sym[0], exch_sym[1], allpx, report)
    inst = instrument

    pieces, prio = [], []
    crossed_q = locked_q = 0
    for kind, name, t in tables:
        ts, loc = t["timestamp"] * _US, t["local_timestamp"] * _US
        if kind == "trades":
            _check_amount(t["amount"], name, "amount")
            ev = empty_events(len(ts))
            ev["kind"], ev["flags"] = EventKind.TRADE, EventFlag.LAST
            ev["ts_exch"], ev["ts_local"] = ts, loc
            ev["px_tick"] = _ticks(inst, t["price"], name, "price")
            ev["qty"] = t["amount"]
            ev["side"] = _side(t["side"], name, {"buy": Side.BUY, "sell": Side.SELL,
                                                 "unknown": Side.NONE})
            ids = np.char.isdigit(t["id"].astype(str))
            ev["seq"] = np.where(ids, np.where(ids, t["id"], "-1").astype(np.int64), -1)
        elif kind == "quotes":
            n = len(ts)
            ev = empty_events(2 * n)
            ev["kind"] = EventKind.QUOTE
            ev["ts_exch"], ev["ts_local"] = np.repeat(ts, 2), np.repeat(loc, 2)
            ev["side"][0::2], ev["side"][1::2] = Side.BUY, Side.SELL
            ev["flags"][1::2] = EventFlag.LAST
            keep = np.ones(2 * n, dtype=bool)
            for k, (pc, qc) in enumerate((("bid_price", "bid_amount"), ("ask_price", "ask_amount"))):
                px, q = t[pc].astype(np.float64), t[qc].astype(np.float64)
                empty = np.isnan(px)
                if empty.any():
                    report.drop(f"quote with an empty {pc[:3]} side", name,
                                int(np.flatnonzero(empty)[0]), int(empty.sum()))
                _check_amount(np.where(empty, 0.0, q), name, qc)
                ev["px_tick"][k::2] = _ticks(inst, np.where(empty, 0.0, px), name, pc)
                ev["qty"][k::2] = np.where(empty, 0.0, q)
                keep[k::2] = ~empty
            both = keep[0::2] & keep[1::2]
            b, a = ev["px_tick"][0::2][both], ev["px_tick"][1::2][both]
            crossed_q += int(np.count_nonzero(b > a))
            locked_q += int(np.count_nonzero(b == a))
            ev = ev[keep]
        else:
            ev = _book_events(t, ts, loc, inst, name)
        pieces.append(ev)
        prio.append(np.full(len(ev), _ORDER.index(kind)))
    allev = np.concatenate(pieces)
    events = allev[np.lexsort((np.arange(len(allev)), np.concatenate(prio), allev["ts_exch"]))]
    check_events(events, report)
    report.out_of_order_rows = out_of_order
    from qlib.book import count_crossed  # noqa: PLC0415 - see _BOOK_IMPORT_NOTE

    crossed_b, locked_b = count_crossed(events)
    report.crossed_rows, report.locked_rows = crossed_q + crossed_b, locked_q + locked_b
    report.notes.append(f"crossed/locked: {crossed_q}/{locked_q} quote rows, {crossed_b}/"
                        f"{locked_b} rows of the rebuilt L2 book")
    if out_of_order:
        report.notes.append(f"{out_of_order} rows had an exchange timestamp below an earlier"
                            " row's in their file and were moved by the merge")
    lat = events["ts_local"] - events["ts_exch"]
    report.notes.append(f"median local minus exchange time: {np.median(lat) / 1e6:.1f} ms")
    provenance = {"loader": "qlib.data.tardis.load_tardis", "files": report.files,
                  "kinds": [k for k, _ in found], "exchange": exch_sym[0], "symbol": exch_sym[1]}
    return MarketData(events, inst, report, provenance)


def _book_events(t: dict, ts: np.ndarray, loc: np.ndarray, inst: Instrument,
                 name: str) -> np.ndarray:
    """DEPTH/SNAPSHOT rows of an incremental_book_L2 file, a CLEAR before each snapshot run."""
    _check_amount(t["amount"], name, "amount")
    snap_txt = np.char.lower(t["is_snapshot"].astype(str))
    bad = ~np.isin(snap_txt, ["true", "false"])
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise DataQualityError(f"is_snapshot was {t['is_snapshot'][r]!r}, expected true/false",
                               file=name, row=r, field="is_snapshot", value=t["is_snapshot"][r])
    snap = snap_txt == "true"
    n = len(ts)
    side = _side(t["side"], name, {"bid": Side.BUY, "ask": Side.SELL})
    px = _ticks(inst, t["price"], name, "price")
    run_start = snap & np.concatenate([[True], ~snap[:-1]])
    # LAST: final row of each group of consecutive rows with equal local time and kind
    new_group = np.concatenate([(loc[1:] != loc[:-1]) | (snap[1:] != snap[:-1]), [True]])
    ev = empty_events(n)
    ev["kind"] = np.where(snap, EventKind.SNAPSHOT, EventKind.DEPTH)
    ev["flags"] = np.where(snap, EventFlag.SNAPSHOT, 0) | np.where(new_group, EventFlag.LAST, 0)
    ev["ts_exch"], ev["ts_local"] = ts, loc
    ev["side"], ev["px_tick"], ev["qty"] = side, px, t["amount"]
    starts = np.flatnonzero(run_start)
    clear = empty_events(len(starts))
    clear["kind"], clear["flags"] = EventKind.CLEAR, EventFlag.SNAPSHOT
    clear["ts_exch"], clear["ts_local"] = ts[starts], loc[starts]
    return np.insert(ev, starts, clear)
