"""Load Tardis.dev normalised CSV files: trades, quotes, incremental_book_L2 and book snapshots.

Tardis's "downloadable CSV files" are one file per data type, exchange, day and
symbol, gzip-compressed (``.csv.gz``), with one header row. Every kind starts with
``exchange,symbol,timestamp,local_timestamp``: the Tardis exchange id, the
exchange's symbol (upper case), the exchange time and Tardis's receive time, both
integer **microseconds** since the Unix epoch. Then, per kind:

* ``trades``: ``id,side,price,amount`` (``side`` the taker's: buy, sell, unknown);
* ``quotes``: ``ask_amount,ask_price,bid_price,bid_amount`` (a side may be empty);
* ``incremental_book_L2``: ``is_snapshot,side,price,amount`` (absolute amounts);
* ``book_snapshot_25`` / ``book_snapshot_5``: ``asks[0].price,asks[0].amount,
  bids[0].price,bids[0].amount,asks[1].price,...`` up to 25 or 5 levels (any depth
  ``N`` of this layout is read); a missing level is a pair of empty cells.

References
----------
.. [1] Tardis.dev documentation, "Downloadable CSV files" (data types and columns),
   https://docs.tardis.dev/downloadable-csv-files.
.. [2] NautilusTrader, ``crates/adapters/tardis/src/csv/record.rs``: the same column
   names and order for ``book_snapshot_5``/``book_snapshot_25``.

See ``shared/data/tardis-binance-futures-btcusdt-2020-02-22/PROVENANCE.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qlib.data import _tardis_io as _io
from qlib.data._tardis_io import TARDIS_COLUMNS, Table
from qlib.data.binance import binance_instrument_id, coinm_contract_size
from qlib.data.infer import GridGuess, infer_step
from qlib.data.instruments import resolve
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["load_tardis", "tardis_kind", "tardis_instrument_id", "TARDIS_COLUMNS",
           "TARDIS_VENUES"]

#: The L2 loaders count crossed/locked rows by replaying their events through the
#: book (``qlib.book``, one layer up). The import is made inside the functions that
#: need it, at call time, so importing the data layer never imports the book layer
#: (which itself imports ``qlib.data.market_data``): no import cycle.
_BOOK_IMPORT_NOTE = "qlib.book is imported at call time"

#: Tardis exchange id -> (venue of the instrument id, Binance market for the venue's
#: default fees). The Binance ids give the ids of :func:`qlib.data.load_binance`
#: (spot ``BTCUSDT.BINANCE``, USD-M perpetual ``BTCUSDT-PERP.BINANCE``, COIN-M
#: ``BTCUSD_PERP.BINANCE``); ``okex*`` is the venue OKX (OKEx renamed itself OKX in
#: 2022; Tardis kept the old id). Any other exchange id ``x`` gives the venue
#: ``x.upper()`` with ``-`` -> ``_`` (``bybit`` -> ``BYBIT``, ``bybit-spot`` ->
#: ``BYBIT_SPOT``, ``deribit`` -> ``DERIBIT``): markets of one exchange whose symbols
#: could collide keep distinct venues.
TARDIS_VENUES: dict[str, tuple[str, str | None]] = {
    "binance": ("BINANCE", "spot"),
    "binance-futures": ("BINANCE", "usdm"),
    "binance-delivery": ("BINANCE", "coinm"),
    "okex": ("OKX", None),
    "okex-futures": ("OKX", None),
    "okex-swap": ("OKX", None),
    "okex-options": ("OKX", None),
}

#: Valid µs epoch timestamps: from 1e14 (1973-03-03) up to what int64 ns can hold
#: (2262-04-11). Tardis data starts in 2019.
_US_MIN, _US_MAX = 10**14, (2**63 - 1) // 1000
_US = 1000
_BOOK, _TRADES, _QUOTES = 0, 1, 2  # merge priority at equal exchange time
_TRADE_SIDES = {"buy": Side.BUY, "sell": Side.SELL, "unknown": Side.NONE}
_BOOK_SIDES = {"bid": Side.BUY, "ask": Side.SELL}


# --------------------------------------------------------------------------- kinds and ids
def tardis_kind(path: str | Path) -> str:
    """Return a Tardis CSV's kind from its header.

    Returns
    -------
    str
        ``"trades"``, ``"quotes"``, ``"book"`` (incremental_book_L2) or
        ``"book_snapshot_N"`` (``N`` levels per side). Plain or gzip text (told by
        the magic bytes); a BOM, quoted names, CRLF and extra columns are allowed.

    Raises
    ------
    DataNotFoundError
        If the file does not exist.
    DataQualityError
        If the header matches no supported kind; the message names the missing
        columns (``row`` is None: the header is not a data row).
    """
    p = Path(path)
    return _io.header_kind(_io.read_header(p), str(p))


def tardis_instrument_id(exchange: str, symbol: str) -> tuple[str, str, str | None]:
    """Return ``(instrument_id, venue, market)`` for a Tardis exchange id and symbol.

    ``binance-futures`` perpetuals (no ``_`` in the symbol) get ``-PERP``, as in
    :func:`qlib.data.load_binance`; dated USD-M futures (``BTCUSDT_210326``) and
    COIN-M symbols (``BTCUSD_PERP``) keep the exchange's symbol. The venue comes
    from :data:`TARDIS_VENUES` or the generic rule there; ``market`` is the Binance
    market (``"spot"``, ``"usdm"``, ``"coinm"``) or None. A ``.`` in a symbol
    becomes ``_`` (an id has one dot).

    Examples
    --------
    >>> tardis_instrument_id("binance-futures", "btcusdt")
    ('BTCUSDT-PERP.BINANCE', 'BINANCE', 'usdm')
    >>> tardis_instrument_id("bybit-spot", "ETHUSDT")
    ('ETHUSDT.BYBIT_SPOT', 'BYBIT_SPOT', None)
    """
    ex = exchange.strip().lower()
    sym = symbol.strip().upper().replace(".", "_")
    venue, market = TARDIS_VENUES.get(ex, (ex.upper().replace("-", "_"), None))
    if venue == "BINANCE" and market is not None:
        return binance_instrument_id(market, sym), venue, market
    return f"{sym}.{venue}", venue, market


# --------------------------------------------------------------------------- files
def _files_of(path: str | Path | Sequence[str | Path] | None, trades, quotes,
              book) -> tuple[list[tuple[str, Path, list[str]]], list[str]]:
    """``(kind, path, header)`` of every file to load, and notes on skipped files."""
    found: list[tuple[str, Path, list[str]]] = []
    skipped: list[str] = []

    def add(p: Path, in_dir: bool) -> None:
        header = _io.read_header(p)
        if "_liquidations_" in p.name.lower():  # same header as trades: told by the name only
            if in_dir:
                skipped.append(f"{p}: a Tardis liquidations file (by its name), not loaded")
                return
            raise ParameterError(f"{p} is a Tardis liquidations file (by its name); its rows"
                                 " are not trades and are not loaded")
        try:
            kind = _io.header_kind(header, str(p))
        except DataQualityError as exc:
            if in_dir and set(_io.BASE_COLUMNS) <= set(header):
                skipped.append(f"{p}: a Tardis file of an unsupported kind, not loaded ({exc})")
                return
            raise
        found.append((kind, p, header))

    if path is not None:
        paths = [Path(x) for x in path] if isinstance(path, (list, tuple)) else [Path(path)]
        if not paths:
            raise ParameterError("path= was an empty list")
        for p in paths:
            if p.is_dir():
                files = sorted(f for f in p.iterdir() if f.is_file()
                               and f.name.lower().endswith((".csv", ".csv.gz")))
                if not files:
                    raise DataNotFoundError(f"no .csv or .csv.gz files in directory {p}")
                for f in files:
                    add(f, True)
            else:
                add(p, False)
    for want, given in (("trades", trades), ("quotes", quotes), ("book", book)):
        if given is None:
            continue
        p = Path(given)
        add(p, False)
        k = found[-1][0]
        if k != want and not (want == "book" and k.startswith("book_snapshot_")):
            raise ParameterError(f"{want}= was given {p}, whose header is a {k} file")
    if not found:
        if skipped:
            raise DataNotFoundError("no loadable Tardis file: " + "; ".join(skipped))
        raise ParameterError("give path= (a file, a directory or a list of files) or"
                             " trades=/quotes=/book=")
    return found, skipped


# --------------------------------------------------------------------------- checks
def _err(t: Table, r: int, msg: str, col: str, value: Any) -> DataQualityError:
    return DataQualityError(msg, file=t.file, row=int(t.rows[r]), field=col, value=value)


def _check_epoch_us(t: Table, col: str) -> None:
    ts = t.num[col]
    if ts.min() >= _US_MIN and ts.max() <= _US_MAX:
        return
    r = int(np.flatnonzero((ts < _US_MIN) | (ts > _US_MAX))[0])
    v = int(ts[r])
    if 10**11 <= v < _US_MIN:
        unit = "the unit looks like milliseconds (Tardis writes microseconds)"
    elif 10**8 <= v < 10**11:
        unit = "the unit looks like seconds (Tardis writes microseconds)"
    elif v > _US_MAX and v >= 10**17:
        unit = "the unit looks like nanoseconds (Tardis writes microseconds)"
    else:
        unit = "not a microsecond epoch timestamp"
    raise _err(t, r, f"{col} was {v}, outside 1973-03-03..2262-04-11 in microseconds: {unit}",
               col, v)


def _check_local_sorted(t: Table) -> None:
    loc = t.num["local_timestamp"]
    back = np.flatnonzero(loc[1:] < loc[:-1])
    if back.size:
        r = int(back[0]) + 1
        raise _err(t, r, f"local_timestamp went backwards: {int(loc[r])} after {int(loc[r - 1])}"
                   " (Tardis writes rows in receive order)", "local_timestamp", int(loc[r]))


def _check_px(t: Table, col: str, present: np.ndarray | None = None) -> None:
    px = t.num[col]
    bad = ~(px > 0) if present is None else present & ~(px > 0)
    bad |= np.isinf(px)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise _err(t, r, f"{col} was {float(px[r])!r}, expected a finite number > 0", col,
                   float(px[r]))


def _check_amount(t: Table, col: str, present: np.ndarray | None = None) -> None:
    q = t.num[col]
    bad = ~(np.isfinite(q) & (q >= 0))
    if present is not None:
        bad &= present
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        v = "" if col in t.null and t.null[col][r] else float(q[r])
        raise _err(t, r, f"{col} was {v!r}, expected a finite number >= 0", col, v)


def _codes(t: Table, col: str, mapping: Mapping[str, int]) -> np.ndarray:
    codes, values = t.cat[col]
    lut = np.zeros(len(values), dtype=np.int8)
    for i, v in enumerate(values):
        key = v.strip().lower()
        if key not in mapping:
            r = int(np.flatnonzero(codes == i)[0])
            raise _err(t, r, f"{col} was {v!r}, expected one of {sorted(mapping)}", col, v)
        lut[i] = mapping[key]
    return lut[codes]


def _one_value(t: Table, col: str, symbol: str | None, report: ValidationReport) -> str:
    """The single exchange (or symbol) of a file; ``symbol=`` selects one of several."""
    codes, values = t.cat[col]
    used = np.unique(codes)
    if col == "symbol" and symbol is not None:
        want = [i for i, v in enumerate(values) if v.strip().upper() == symbol.strip().upper()]
        keep = np.isin(codes, want)
        if not keep.all():
            others = sorted({values[i] for i in used} - {values[i] for i in want})
            r = int(np.flatnonzero(~keep)[0])
            report.drop(f"row of another symbol than symbol={symbol!r} ({', '.join(others)})",
                        t.file, int(t.rows[r]), int(np.count_nonzero(~keep)))
            t.take(keep)
        return symbol.strip().upper()
    if len(used) > 1:
        first = values[codes[0]]
        r = int(np.flatnonzero(codes != codes[0])[0])
        hint = " (pass symbol= to load one of them)" if col == "symbol" else ""
        raise _err(t, r, f"{col} changes from {first!r} to {values[codes[r]]!r}: one instrument"
                   f" per load{hint}", col, values[codes[r]])
    return values[codes[0]].strip()


def _validate(t: Table, report: ValidationReport) -> None:
    """Check a file's cells (raise on bad values, count-and-drop duplicates)."""
    _check_epoch_us(t, "timestamp")
    _check_epoch_us(t, "local_timestamp")
    _check_local_sorted(t)
    if t.kind in ("trades", "book"):
        _check_px(t, "price")
        _check_amount(t, "amount")
        t.num["side"] = _codes(t, "side", _TRADE_SIDES if t.kind == "trades" else _BOOK_SIDES)
    if t.kind == "trades":
        t.num["seq"] = _io.numeric_ids(t.ids)
        dup = _io.duplicated_ids(t.ids, t.num["seq"])
        if dup.any():
            report.drop("trade with the id of an earlier trade of the file (a repeated print)",
                        t.file, int(t.rows[np.flatnonzero(dup)[0]]), int(dup.sum()))
            t.take(~dup)
    elif t.kind == "quotes":
        for pc_, qc in (("bid_price", "bid_amount"), ("ask_price", "ask_amount")):
            present = ~t.null.get(pc_, np.zeros(t.n, dtype=bool))
            _check_px(t, pc_, present)
            _check_amount(t, qc, present)
    elif t.kind == "book":
        snap = _codes(t, "is_snapshot", {"true": 1, "false": 0})
        t.num["is_snapshot"] = snap.astype(bool)
    else:
        for c in _io.columns_of(t.kind)[4::2]:  # the price column of each level
            a = c.replace(".price", ".amount")
            pnull = t.null.get(c, np.zeros(t.n, dtype=bool))
            anull = t.null.get(a, np.zeros(t.n, dtype=bool))
            odd = pnull != anull
            if odd.any():
                r = int(np.flatnonzero(odd)[0])
                col = a if anull[r] else c
                raise _err(t, r, f"{col} is empty but {c if col == a else a} is not: a missing"
                           " level has both cells empty", col, "")
            _check_px(t, c, ~pnull)
            _check_amount(t, a, ~pnull)


# --------------------------------------------------------------------------- instrument
def _grids(tables: list[Table]) -> tuple[GridGuess | None, GridGuess | None]:
    px, qty = [], []
    for t in tables:
        if t.kind in ("trades", "book"):
            px.append(t.num["price"])
            qty.append(t.num["amount"])
        else:
            cols = _io.columns_of(t.kind)[4:]
            for c in cols:
                v = t.num[c]
                (px if c.endswith("price") else qty).append(v[~np.isnan(v)])
    src = "the Tardis files"
    out = []
    for vals, what in ((px, "prices"), (qty, "amounts")):
        v = np.unique(np.concatenate(vals)) if vals else np.zeros(0)
        v = v[v > 0]
        out.append(infer_step(v, what=what, source=src) if len(v) else None)
    return out[0], out[1]


def _instrument(instrument, tables: list[Table], exch: str, sym: str,
                report: ValidationReport) -> Instrument:
    iid, venue, market = tardis_instrument_id(exch, sym)
    pg = lg = None
    if not isinstance(instrument, (Instrument, str)):
        try:
            pg, lg = _grids(tables)
        except DataQualityError as exc:
            raise DataQualityError(str(exc), file=tables[0].file, field=exc.field,
                                   value=exc.value) from None
    known: dict[str, Any] = {}
    if market is not None:
        report.infer("market", market, f"Tardis exchange id {exch!r}", "certain")
    if market == "coinm":
        usd, basis = coinm_contract_size(sym)
        known = {"currency": "USD", "inverse": True, "multiplier": usd,
                 "inverse_basis": "Binance COIN-M contracts are coin-margined (inverse)",
                 "multiplier_basis": basis}
    return resolve(instrument, instrument_id=iid, report=report, price_grid=pg, lot_grid=lg,
                   venue=venue, market=market, known=known)


def _ticks(inst: Instrument, t: Table, px: np.ndarray, col: str) -> np.ndarray:
    try:
        return inst.to_ticks(px, field=col, file=t.file)
    except DataQualityError as exc:
        r = exc.row if exc.row is not None else 0
        v = float(px[r])
        raise _err(t, r, f"{col} {v!r} is not a multiple of tick_size {inst.tick_size:g} of"
                   f" {inst.instrument_id}", col, v) from None


# --------------------------------------------------------------------------- events
def _trade_events(t: Table, inst: Instrument) -> np.ndarray:
    ev = empty_events(t.n)
    ev["kind"], ev["flags"] = EventKind.TRADE, EventFlag.LAST
    ev["ts_exch"], ev["ts_local"] = t.num["timestamp"] * _US, t.num["local_timestamp"] * _US
    ev["px_tick"] = _ticks(inst, t, t.num["price"], "price")
    ev["qty"], ev["side"], ev["seq"] = t.num["amount"], t.num["side"], t.num["seq"]
    return ev


def _quote_events(t: Table, inst: Instrument, report: ValidationReport) -> tuple[np.ndarray, int, int]:
    n = t.n
    ev = empty_events(2 * n)
    ev["kind"] = EventKind.QUOTE
    ev["ts_exch"] = np.repeat(t.num["timestamp"] * _US, 2)
    ev["ts_local"] = np.repeat(t.num["local_timestamp"] * _US, 2)
    ev["side"][0::2], ev["side"][1::2] = Side.BUY, Side.SELL
    ev["flags"][1::2] = EventFlag.LAST
    keep = np.ones(2 * n, dtype=bool)
    for k, (pc_, qc) in enumerate((("bid_price", "bid_amount"), ("ask_price", "ask_amount"))):
        empty = t.null.get(pc_, np.zeros(n, dtype=bool))
        if empty.any():
            report.drop(f"quote with an empty {pc_[:3]} side", t.file,
                        int(t.rows[np.flatnonzero(empty)[0]]), int(empty.sum()))
        ev["px_tick"][k::2] = _ticks(inst, t, np.where(empty, inst.tick_size, t.num[pc_]), pc_)
        ev["qty"][k::2] = np.where(empty, 0.0, t.num[qc])
        keep[k::2] = ~empty
    both = keep[0::2] & keep[1::2]
    b, a = ev["px_tick"][0::2][both], ev["px_tick"][1::2][both]
    ev["flags"][0::2] |= np.where(keep[1::2], 0, EventFlag.LAST).astype(ev["flags"].dtype)
    return ev[keep], int(np.count_nonzero(b > a)), int(np.count_nonzero(b == a))


def _book_events(t: Table, inst: Instrument) -> np.ndarray:
    """DEPTH/SNAPSHOT rows of an incremental_book_L2 file, a CLEAR before each snapshot run."""
    ts, loc = t.num["timestamp"] * _US, t.num["local_timestamp"] * _US
    snap = t.num["is_snapshot"]
    n = t.n
    run_start = snap & np.concatenate([[True], ~snap[:-1]])
    # LAST: final row of each group of consecutive rows with equal local time and kind
    new_group = np.concatenate([(loc[1:] != loc[:-1]) | (snap[1:] != snap[:-1]), [True]])
    ev = empty_events(n)
    ev["kind"] = np.where(snap, EventKind.SNAPSHOT, EventKind.DEPTH)
    ev["flags"] = np.where(snap, EventFlag.SNAPSHOT, 0) | np.where(new_group, EventFlag.LAST, 0)
    ev["ts_exch"], ev["ts_local"] = ts, loc
    ev["side"], ev["qty"] = t.num["side"], t.num["amount"]
    ev["px_tick"] = _ticks(inst, t, t.num["price"], "price")
    _check_snapshot_runs(t, run_start, snap, ev["px_tick"], inst.tick_size)
    starts = np.flatnonzero(run_start)
    clear = empty_events(len(starts))
    clear["kind"], clear["flags"] = EventKind.CLEAR, EventFlag.SNAPSHOT
    clear["ts_exch"], clear["ts_local"] = ts[starts], loc[starts]
    return np.insert(ev, starts, clear)


def _snapshot_events(t: Table, inst: Instrument, report: ValidationReport) -> np.ndarray:
    """Per row: a CLEAR, then its bid levels best first, then its ask levels (LAST on the last).

    The events are laid out with one vectorised pass per level column (memory
    O(rows), not O(rows x levels x event size)). A row whose highest bid is at or
    above its lowest ask (crossed or locked) is left out and counted: the book
    refuses a snapshot that leaves it crossed (:mod:`qlib.book`), and each row is a
    whole book, so leaving one out keeps the previous row's book until the next.
    """
    n = t.n
    depth = int(t.kind.rsplit("_", 1)[1])
    cols = [(f"{s}[{i}].price", f"{s}[{i}].amount", side)
            for s, side in (("bids", Side.BUY), ("asks", Side.SELL)) for i in range(depth)]
    use = []
    for pc_, qc, side in cols:
        present = ~t.null.get(pc_, np.zeros(n, dtype=bool))
        zero = present & (t.num[qc] == 0)
        if zero.any():
            report.drop("book snapshot level with a zero amount", t.file,
                        int(t.rows[np.flatnonzero(zero)[0]]), int(zero.sum()))
            present &= ~zero
        use.append(present)
    per_row = 1 + np.sum(use, axis=0, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(per_row)[:-1]])
    ev = empty_events(int(per_row.sum()))
    ev["kind"], ev["flags"] = EventKind.SNAPSHOT, EventFlag.SNAPSHOT
    ev["kind"][start] = EventKind.CLEAR
    ev["ts_exch"] = np.repeat(t.num["timestamp"] * _US, per_row)
    ev["ts_local"] = np.repeat(t.num["local_timestamp"] * _US, per_row)
    pos = start + 1
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    best = {Side.BUY: np.full(n, lo), Side.SELL: np.full(n, hi)}
    for (pc_, qc, side), present in zip(cols, use):
        at = pos[present]
        tick = _ticks(inst, t, np.where(present, t.num[pc_], inst.tick_size), pc_)
        ev["side"][at] = side
        ev["px_tick"][at] = tick[present]
        ev["qty"][at] = t.num[qc][present]
        pos = pos + present
        pick = np.maximum if side == Side.BUY else np.minimum
        best[side] = np.where(present, pick(best[side], tick), best[side])
    last = start + per_row - 1
    ev["flags"][last] = ev["flags"][last] | np.uint8(EventFlag.LAST)
    bid, ask = best[Side.BUY], best[Side.SELL]
    both = (bid != lo) & (ask != hi)
    bad = both & (bid >= ask)
    for what, m in (("crossed (best bid > best ask)", both & (bid > ask)),
                    ("locked (best bid == best ask)", both & (bid == ask))):
        if m.any():
            report.drop(f"book snapshot row {what}: the row is left out", t.file,
                        int(t.rows[np.flatnonzero(m)[0]]), int(m.sum()))
    return ev[~np.repeat(bad, per_row)] if bad.any() else ev


def _check_snapshot_runs(t: Table, run_start: np.ndarray, snap: np.ndarray,
                         tick: np.ndarray, tick_size: float) -> None:
    """Raise when a snapshot run of an incremental_book_L2 file crosses or locks its book."""
    rows = np.flatnonzero(snap)
    if not rows.size:
        return
    run_id = np.cumsum(run_start)[rows] - 1
    side = t.num["side"][rows]
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    nrun = int(run_id[-1]) + 1
    bid, ask = np.full(nrun, lo), np.full(nrun, hi)
    np.maximum.at(bid, run_id[side == Side.BUY], tick[rows][side == Side.BUY])
    np.minimum.at(ask, run_id[side == Side.SELL], tick[rows][side == Side.SELL])
    bad = np.flatnonzero((bid != lo) & (ask != hi) & (bid >= ask))
    if bad.size:
        k = int(bad[0])
        r = int(rows[run_id == k][0])
        b, a = round(float(bid[k]) * tick_size, 12), round(float(ask[k]) * tick_size, 12)
        raise _err(t, r, f"the snapshot starting at price {float(t.num['price'][r])!r} leaves the"
                   f" book crossed or locked: best bid {b!r} >= best ask {a!r}", "price",
                   float(t.num["price"][r]))


# --------------------------------------------------------------------------- loader
def load_tardis(path: str | Path | Sequence[str | Path] | None = None, *,
                trades: str | Path | None = None, quotes: str | Path | None = None,
                book: str | Path | None = None,
                instrument: Instrument | str | Mapping[str, Any] | None = None,
                symbol: str | None = None) -> MarketData:
    """Load Tardis.dev normalised CSV files (trades, quotes, incremental_book_L2, book snapshots).

    Parameters
    ----------
    path
        A CSV file (plain or gzip, told by the magic bytes, not the name), a
        directory (every ``*.csv`` and ``*.csv.gz`` in it) or a list of files. Each
        file's kind is told by its header (:func:`tardis_kind`).
    trades, quotes, book
        Files of that kind, given explicitly (checked against their header);
        ``book`` takes an incremental_book_L2 or a book_snapshot file.
    instrument
        An :class:`Instrument`, a registry id (``"BTCUSDT-PERP.BINANCE"``), a dict of
        overrides (``{"tick_size": 0.5}``) or None: then the id comes from the
        ``exchange`` and ``symbol`` columns (:func:`tardis_instrument_id`) and
        :func:`qlib.data.instruments.resolve` completes it: registry facts when it
        knows the id (its tick replaced by the data's grid when prices lie off it:
        Binance USD-M BTCUSDT quoted 0.01 in 2020, 0.1 since), else the tick and lot
        inferred from the distinct prices and amounts
        (:func:`qlib.data.infer.infer_step`), and the venue's default fees
        (assumed). Binance markets come from the exchange id (``binance`` spot,
        ``binance-futures`` USD-M, ``binance-delivery`` COIN-M: inverse, USD, a
        contract of 100 USD for BTC and 10 USD for other coins). Everything
        inferred is in ``report.inferred``.
    symbol
        Load only this symbol's rows of files that hold several (Tardis's grouped
        downloads); the other rows are counted in ``report.drops``.

    Returns
    -------
    MarketData
        Events with ``ts_exch = timestamp * 1000`` and ``ts_local = local_timestamp *
        1000`` (ns):

        * trades: ``TRADE``, ``side`` the aggressor (``buy``/``sell``, ``unknown`` ->
          ``Side.NONE``), ``seq`` the numeric trade id (-1 when not an integer of
          at most 18 digits), flag ``LAST``.
        * quotes: two ``QUOTE`` per row, bid then ask (``LAST`` on the row's last);
          a side with an empty price is left out and counted in ``report.drops``.
        * incremental_book_L2: ``DEPTH`` rows with absolute ``amount`` (0 removes
          the level); each run of ``is_snapshot=true`` rows becomes a ``CLEAR``
          (``Side.NONE``) and ``SNAPSHOT`` rows flagged ``SNAPSHOT``. ``LAST`` marks
          the final row of each group of consecutive rows sharing ``local_timestamp``
          and ``is_snapshot`` (one Tardis update message).
        * book_snapshot_N: per row (one whole top-N book), a ``CLEAR`` (``Side.NONE``)
          and one ``SNAPSHOT`` per present level, bids best first then asks best
          first, all flagged ``SNAPSHOT``, the row's last flagged ``LAST``: the
          rebuilt book after each row is exactly that row.

        Files are merged with a stable sort on exchange ``timestamp`` (ties keep
        book, trades, quotes order, then file order, then row order).

    Raises
    ------
    DataNotFoundError
        A file does not exist; a directory holds no ``.csv``/``.csv.gz``, or only
        files of kinds not loaded (liquidations, derivative_ticker, ...).
    DataQualityError
        The message names file, row (0-based data row after the header), field and
        value: an unknown header or missing column; a row that does not parse
        (wrong field count, invalid UTF-8, a non-numeric or empty number); a
        corrupt or truncated gzip stream (row = complete rows before it); see
        "Data quirks" for the rest.
    ParameterError
        No input given, a file given under the wrong kind, a liquidations file
        given explicitly, an unknown registry id or override field.

    Notes
    -----
    **Data quirks** (what happens to each; nothing is dropped silently):

    ==================================================  ======================================
    case                                                outcome
    ==================================================  ======================================
    gzip file (any name), plain CSV (any name)          loaded (magic bytes ``1f 8b`` decide)
    UTF-8 BOM; fully quoted fields; CRLF line ends      loaded (pyarrow's reader handles them)
    extra column not in the format                      ignored; named in ``report.notes``
    columns in another order                            loaded (read by name)
    timestamp below 1e14 (before 1973 in µs)            raise: names the unit it looks like
                                                        (ms, s); above 2262 in µs: raise (ns?)
    price <= 0, ``nan``, ``inf``                        raise
    amount < 0 or non-finite                            raise
    two exchanges in one load                           raise, naming both
    two symbols in a file (or across files)             raise naming both, unless ``symbol=``:
                                                        other symbols' rows counted, dropped
    trade id equal to an earlier trade's in the file    counted and dropped (``report.drops``)
    ``local_timestamp`` going backwards in a file       raise (Tardis writes receive order)
    exchange ``timestamp`` below an earlier row's       kept; counted in ``out_of_order_rows``;
                                                        the merge moves it into time order
    quote side with an empty price                      that side dropped and counted
    snapshot level: both cells empty                    no level (a shallower book)
    snapshot level: one of price/amount empty           raise
    snapshot level with a zero amount                   that level dropped and counted
    snapshot row crossed or locked (bid >= ask)         that row dropped and counted (the book
                                                        refuses such a snapshot)
    incremental_book_L2 snapshot run crossed/locked     raise (later updates build on it)
    crossed or locked quote / incremental update        kept; counted (``crossed_rows``, ...)
    ``*_liquidations_*`` file (trades' header)          skipped in a directory (noted); raise
                                                        when given explicitly
    other Tardis kind (derivative_ticker, ...)          skipped in a directory (noted); raise
                                                        when given explicitly
    ==================================================  ======================================

    The report counts quote rows with ``bid > ask`` (crossed) and ``bid == ask``
    (locked), plus the rebuilt L2 book's crossed/locked rows after each ``LAST``
    row. Millisecond timestamps are refused rather than converted: a file whose
    unit is not the format's is not a Tardis file, and a guess would be silent
    when only some rows are affected.
    """
    found, skipped = _files_of(path, trades, quotes, book)
    report = ValidationReport("tardis", files=[str(f) for _, f, _ in found])
    report.notes += skipped
    tables: list[Table] = []
    exch_sym: tuple[str, str] | None = None
    for kind, f, header in found:
        t = _io.read_table(f, kind, header)
        report.rows_read += t.n
        if t.extra:
            report.notes.append(f"{t.file}: column(s) {t.extra} are not part of the Tardis"
                                f" {kind} format and were ignored")
        if t.n == 0:
            continue
        es = (_one_value(t, "exchange", None, report), _one_value(t, "symbol", symbol, report))
        if t.n == 0:
            continue
        if exch_sym is not None and es != exch_sym:
            col = "exchange" if es[0] != exch_sym[0] else "symbol"
            v = es[0] if col == "exchange" else es[1]
            raise DataQualityError(f"{col} {v!r} differs from {exch_sym} of the files before:"
                                   " one instrument per load", file=t.file, row=int(t.rows[0]),
                                   field=col, value=v)
        exch_sym = es
        _validate(t, report)
        tables.append(t)
    if not tables:
        what = f" of symbol {symbol!r}" if symbol is not None else ""
        raise DataQualityError(f"no data rows{what} in any file", file=report.files[0], row=0,
                               field="symbol" if symbol is not None else "timestamp", value=None)
    inst = _instrument(instrument, tables, exch_sym[0], exch_sym[1], report)

    pieces, prio = [], []
    crossed_q = locked_q = out_of_order = 0
    for t in tables:
        ts = t.num["timestamp"]
        out_of_order += int(np.count_nonzero(ts < np.maximum.accumulate(ts)))
        if t.kind == "trades":
            ev, p = _trade_events(t, inst), _TRADES
        elif t.kind == "quotes":
            ev, c, lk = _quote_events(t, inst, report)
            crossed_q, locked_q, p = crossed_q + c, locked_q + lk, _QUOTES
        elif t.kind == "book":
            ev, p = _book_events(t, inst), _BOOK
        else:
            ev, p = _snapshot_events(t, inst, report), _BOOK
        pieces.append(ev)
        prio.append(np.full(len(ev), p, dtype=np.int8))
    allev = np.concatenate(pieces)
    order = np.lexsort((np.concatenate(prio), allev["ts_exch"])) if len(pieces) > 1 \
        else np.argsort(allev["ts_exch"], kind="stable")
    events = empty_events(len(allev))  # zeroed padding: equal loads are equal byte for byte
    for name in events.dtype.names:
        events[name] = allev[name][order]
    check_events(events, report)
    report.out_of_order_rows = out_of_order
    if any(t.kind == "book" for t in tables):  # incremental updates: rebuild the book
        from qlib.book import count_crossed  # noqa: PLC0415 - see _BOOK_IMPORT_NOTE

        crossed_b, locked_b = count_crossed(events)
    else:  # snapshot rows only: each a whole book, crossed/locked ones left out above
        crossed_b = locked_b = 0
    report.crossed_rows, report.locked_rows = crossed_q + crossed_b, locked_q + locked_b
    report.notes.append(f"crossed/locked: {crossed_q}/{locked_q} quote rows, {crossed_b}/"
                        f"{locked_b} rows of the rebuilt L2 book")
    if out_of_order:
        report.notes.append(f"{out_of_order} rows had an exchange timestamp below an earlier"
                            " row's in their file and were moved by the merge")
    lat = events["ts_local"] - events["ts_exch"]
    report.notes.append(f"median local minus exchange time: {np.median(lat) / 1e6:.1f} ms")
    provenance = {"loader": "qlib.data.tardis.load_tardis", "files": report.files,
                  "kinds": [k for k, _, _ in found], "exchange": exch_sym[0],
                  "symbol": exch_sym[1], "instrument_id": inst.instrument_id}
    return MarketData(events, inst, report, provenance)
