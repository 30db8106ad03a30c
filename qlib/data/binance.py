"""Load Binance depth, trade and bookTicker recordings (hftbacktest collector format).

The recorder writes gzip text, one message per line: ``<local_ts_ns> <json>``, where the
JSON is a combined-stream wrapper ``{"stream": "<symbol>@<channel>", "data": {...}}`` or,
once per session, a REST depth snapshot ``{"lastUpdateId": ..., "bids": [...], ...}``.
See ``shared/data/binance-*/PROVENANCE.md`` for the three markets recorded.
"""

from __future__ import annotations


import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qlib.data import _binance_kernels as _bk
from qlib.data import instruments as _registry
from qlib.data._binance_grid import GRID_MAX as _GRID_MAX
from qlib.data._binance_grid import grid_from_sample, stated_grid
from qlib.data._binance_io import (
    _resolve,
    _Parsed,
    _Reader,
    _require,
    _column,
    _levels,
    _check_qty,
    _ticks,
    _at,
)
from qlib.data.infer import GridGuess, infer_step
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["load_binance", "binance_instrument_id", "bookticker_agreement", "coinm_contract_size"]

#: The L2 loaders count crossed/locked rows by replaying their events through the
#: book (``qlib.book``, one layer up). The import is made inside the functions that
#: need it, at call time, so importing the data layer never imports the book layer
#: (which itself imports ``qlib.data.market_data``): no import cycle.
_BOOK_IMPORT_NOTE = "qlib.book is imported at call time"

_CH_DEPTH, _CH_TICKER = _bk.CH_DEPTH, _bk.CH_TICKER
_ON_GAP = ("mark", "raise")
_MS = 1_000_000
#: A COIN-M contract symbol: ``<BASE>USD_PERP`` or ``<BASE>USD_<YYMMDD>`` (delivery).
_COINM_SYMBOL = re.compile(r"([A-Z0-9]+)USD_(PERP|\d{6})")
#: COIN-M contract sizes in USD by base coin; every other base: :data:`_COINM_OTHER_USD`.
_COINM_USD = {"BTC": 100.0}
_COINM_OTHER_USD = 10.0


def binance_instrument_id(market: str, symbol: str) -> str:
    """Return the instrument id of a Binance ``market`` symbol.

    Spot ``SYMBOL.BINANCE``; a USD-M perpetual ``SYMBOL-PERP.BINANCE`` (Binance
    names USD-M perpetuals by the pair alone, ``BTCUSDT``, the same as the spot
    pair); a USD-M delivery contract (``BTCUSDT_240927``) and every COIN-M contract
    (``BTCUSD_PERP``, ``ETHUSD_240927``) ``SYMBOL.BINANCE``: their symbols are
    already unique.

    Raises
    ------
    ParameterError
        If ``market`` is not ``"spot"``, ``"usdm"`` or ``"coinm"``.
    """
    sym = symbol.upper()
    if market == "usdm":
        return f"{sym}.BINANCE" if "_" in sym else f"{sym}-PERP.BINANCE"
    if market in ("spot", "coinm"):
        return f"{sym}.BINANCE"
    raise ParameterError(f"market must be 'spot', 'usdm' or 'coinm', was {market!r}")


def coinm_contract_size(symbol: str) -> tuple[float, str]:
    """Return the USD face value of one Binance COIN-M contract and the rule behind it.

    Binance's COIN-M contract specifications [1]_: a BTC contract (``BTCUSD_PERP``,
    ``BTCUSD_240927``) is worth 100 USD, every other COIN-M contract
    (``ETHUSD_PERP``, ``SOLUSD_240927``, ...) 10 USD. Quantities are numbers of
    contracts; a contract of face value :math:`F` at price :math:`P` is worth
    :math:`F / P` of the base coin (an inverse contract).

    Parameters
    ----------
    symbol
        A COIN-M symbol, ``<BASE>USD_PERP`` or ``<BASE>USD_<YYMMDD>``.

    Returns
    -------
    (float, str)
        The face value in USD and a one-line basis for the validation report.

    Raises
    ------
    ParameterError
        If the symbol does not follow that pattern: the contract size is then not
        known; pass it with ``instrument={'multiplier': ...}``.

    References
    ----------
    .. [1] Binance (2024). COIN-M Futures contract specifications
       (binance.com/en/futures/trading-rules/quarterly): "Contract size: 100 USD"
       for BTCUSD perpetual and quarterly contracts, "10 USD" for the others.
    """
    m = _COINM_SYMBOL.fullmatch(symbol.upper())
    if m is None:
        raise ParameterError(
            f"contract size of Binance COIN-M symbol {symbol!r} is not known: the rule (BTC"
            f" 100 USD, other coins 10 USD) covers <BASE>USD_PERP and <BASE>USD_<YYMMDD>;"
            " pass it with instrument={'multiplier': <USD per contract>}")
    base = m.group(1)
    usd = _COINM_USD.get(base, _COINM_OTHER_USD)
    return usd, (f"Binance COIN-M contract specifications: {'BTC' if base in _COINM_USD else 'non-BTC'}"
                 f" contracts are {usd:g} USD each ({symbol.upper()})")


# --------------------------------------------------------------------------- reading

def _events(n: int, kind: int, flags: int = 0) -> np.ndarray:
    ev = empty_events(n)
    ev["kind"] = kind
    ev["flags"] = flags
    return ev


def _snapshot_events(inst: Instrument, snap: dict, name: str, row: int, ts_local: int,
                     ts_exch: int) -> np.ndarray:
    one = [0]
    bids = _levels([snap], ("bids",), [name], one, [row])[0]
    asks = _levels([snap], ("asks",), [name], one, [row])[0]
    nb, na = len(bids), len(asks)
    ev = _events(1 + nb + na, EventKind.SNAPSHOT, EventFlag.SNAPSHOT)
    ev["kind"][0] = EventKind.CLEAR
    ev["side"][1:1 + nb] = Side.BUY
    ev["side"][1 + nb:] = Side.SELL
    lv = np.concatenate([bids, asks])
    _check_qty(lv[:, 1], lambda j: (name, row), "bids/asks qty")
    ev["px_tick"][1:] = _ticks(inst, lv[:, 0], lambda j: (name, row), "bids/asks price")
    ev["qty"][1:] = lv[:, 1]
    ev["flags"][-1] |= EventFlag.LAST
    ev["seq"] = int(snap["lastUpdateId"])
    ev["ts_exch"] = ts_exch
    ev["ts_local"] = ts_local
    if nb and na and lv[0, 0] >= lv[nb, 0]:  # snapshots list best levels first
        bid, ask = float(lv[0, 0]), float(lv[nb, 0])
        raise DataQualityError(f"REST snapshot is crossed: best bid {bid} >= best ask {ask}",
                               file=name, row=row, field="bids/asks", value=(bid, ask))
    return ev


def _median_offset(a: np.ndarray, b: np.ndarray) -> int | None:
    return int(np.median(a - b)) if len(a) else None


def _market(p: _Parsed) -> tuple[str, str]:
    """Return the market (``spot``, ``usdm``, ``coinm``) the messages come from, and why.

    Read off the first message of each stream. Futures messages carry fields spot
    ones never do: diffs ``pu`` (the previous
    diff's final update id), bookTickers ``E``, trades ``X`` (execution type) and
    snapshots ``E``/``T`` [1]_ [2]_ of :func:`load_binance`. COIN-M diffs and
    bookTickers carry ``ps`` (the pair, ``BTCUSD``), its snapshots ``pair``, and its
    symbols are ``<BASE>USD_PERP`` or ``<BASE>USD_<YYMMDD>``; USD-M ones have none of
    these (a USD-M delivery symbol is ``<BASE>USDT_<YYMMDD>``).
    """
    if p.symbol is None:
        raise DataQualityError("no stream messages (depth, trade or bookTicker) in any file",
                               file=p.files[0], row=0, field="stream", value=None)
    d, t, q = p.depth, p.trade, p.ticker
    snap = p.snapshots[0][3] if p.snapshots else {}

    def first(cols: dict[str, np.ndarray], key: str) -> bool:  # the stream's first message
        return bool(len(cols[key]) and cols[key][0])

    seen = [name for name, hit in (
        ("diff field pu", first(d, "has_pu")), ("bookTicker field E", first(q, "has_E")),
        ("trade field X", first(t, "has_X")), ("snapshot field E", "E" in snap)) if hit]
    if not seen:
        return "spot", ("no futures-only field in any message (diff pu, bookTicker E, trade X,"
                        " snapshot E)")
    coin = [name for name, hit in (
        ("diff field ps", first(d, "has_ps")), ("bookTicker field ps", first(q, "has_ps")),
        ("snapshot field pair", "pair" in snap),
        ("symbol <BASE>USD_<PERP|YYMMDD>", _COINM_SYMBOL.fullmatch(p.symbol) is not None)) if hit]
    if coin:
        return "coinm", f"futures ({', '.join(seen)}); COIN-M ({', '.join(coin)})"
    return "usdm", (f"futures ({', '.join(seen)}); USD-M (no ps/pair field, symbol not"
                    " <BASE>USD_<PERP|YYMMDD>)")


def _record(add: Callable[..., None], reason: str, names: list[str], fi: np.ndarray,
            rows: np.ndarray) -> None:
    """Record rows ``fi``/``rows`` under ``reason`` with ``add`` (report.keep or .drop)."""
    n = len(rows)
    for j in range(min(n, 5)):
        add(reason, names[int(fi[j])], int(rows[j]))
    if n > 5:
        add(reason, names[int(fi[5])], int(rows[5]), count=n - 5)


def _sources(p: _Parsed, names: list[str], kind: str) -> list[tuple[str, np.ndarray, Callable]]:
    """The price (``kind="px"``) or quantity columns of every stream, with their locators."""
    d, lv, t, q = p.depth, p.levels, p.trade, p.ticker
    lv_off = np.concatenate([[0], np.cumsum(d["nb"] + d["na"])])
    at_lv, at_t, at_q = _at(names, d, lv_off), _at(names, t), _at(names, q)
    out = []
    for k, (fi, row, _, snap) in enumerate(p.snapshots):
        arr = _levels([snap], ("bids", "asks"), [names[fi]], [0], [row])[0]
        out.append(("bids/asks price" if kind == "px" else "bids/asks qty",
                    np.ascontiguousarray(arr[:, 0 if kind == "px" else 1]),
                    lambda j, f=names[fi], r=row: (f, r)))
    if kind == "px":
        out += [("b/a price", lv["px"], at_lv), ("p", t["p"], at_t), ("b", q["b"], at_q),
                ("a", q["a"], at_q)]
    else:
        out += [("b/a qty", lv["qty"], at_lv), ("q", t["q"], at_t), ("B", q["B"], at_q),
                ("A", q["A"], at_q)]
    return out


def _grid(p: _Parsed, names: list[str], kind: str) -> GridGuess | None:
    """Infer the price (``"px"``) or lot (``"qty"``) grid from the distinct parsed values.

    :func:`qlib.data.infer.infer_step` on the union of each column's ``np.unique``
    (no second pass over the text). Values that are not finite or not above zero
    are left to the checks that name their row; ``None`` when no value is left.
    """
    srcs = _sources(p, names, kind)
    what = "prices" if kind == "px" else "quantities"
    quick = grid_from_sample(srcs, what)
    if quick is not None:
        return quick
    uniq = [np.unique(a) for _, a, _ in srcs]
    vals = np.unique(np.concatenate(uniq)) if uniq else np.zeros(0)
    vals = vals[(vals > 0) & (vals <= _GRID_MAX)]
    if not len(vals):
        return None
    try:
        return infer_step(vals, what=what,
                          source="snapshot, depth, trade and bookTicker " + what)
    except DataQualityError as exc:  # locate the value that fits no decimal grid
        v = float(exc.value) if exc.value is not None else float("nan")
        for field_name, a, where in srcs:
            hit = np.flatnonzero(a == v)
            if hit.size:
                file, row = where(int(hit[0]))
                raise DataQualityError(
                    f"{field_name} was {v!r}: the {what} fit no decimal grid of at most 12"
                    " decimals (not a decimal string of the venue)", file=file, row=row,
                    field=field_name, value=v) from None
        raise


def _dedupe_trades(p: _Parsed, names: list[str], report: ValidationReport) -> None:
    """Drop every trade whose id ``t`` was seen before (Binance trade ids are unique per symbol)."""
    t = p.trade["t"]
    if len(t) < 2 or bool(np.all(t[1:] > t[:-1])):
        return
    _, first = np.unique(t, return_index=True)
    keep = np.zeros(len(t), dtype=bool)
    keep[first] = True
    dup = np.flatnonzero(~keep)
    _record(report.drop, "duplicate trade id t (Binance trade ids are unique per symbol):"
            " the later copy is dropped", names, p.trade["fi"][dup], p.trade["row"][dup])
    p.trade = {k: v[keep] for k, v in p.trade.items()}


def _running_max(ts: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(ts) if len(ts) else ts


def _merge(p: _Parsed, inst: Instrument, epochs: list[tuple[int | None, int, int]],
           futures: bool, offset: int | None, report: ValidationReport) -> np.ndarray:
    """Build the events of :func:`load_binance` from the sequenced messages.

    Prices become ticks in place; the three streams are ordered by message (the sort
    key is the same for every row of a message) and written once into the result.
    The per-message arrays of ``p`` are released.
    """
    names, snaps = p.files, p.snapshots
    dcol, lvl = p.depth, p.levels
    E, u, dloc = dcol["E"], dcol["u"], dcol["local"]
    # ---- book stream: snapshot blocks and applied diffs (with levels), epoch by epoch
    nlev = dcol["nb"] + dcol["na"]
    lv_off = np.concatenate([[0], np.cumsum(nlev)])
    at_level = _at(names, dcol, lv_off)
    _check_qty(lvl["qty"], at_level, "b/a qty")
    lv_tick = _ticks(inst, lvl["px"], at_level, "b/a price", out=lvl["px"].view(np.int64))
    blocks, book_ref = [], []
    for k, a, b in epochs:
        if k is not None:
            fi, row, ts_loc, snap = snaps[k]
            if futures:
                ts_ex = int(_column([snap], "T", np.int64, names, [fi], [row])[0]) * _MS
            elif a < b:
                ts_ex = int(E[a])
            else:
                ts_ex = ts_loc + (-offset if offset is not None else 0)
            book_ref.append(-1 - len(blocks))
            blocks.append(_snapshot_events(inst, snap, names[fi], row, ts_loc, ts_ex))
        book_ref.append(a + np.flatnonzero(nlev[a:b]))  # a diff with no level adds no row
    snap_off = np.concatenate([[0], np.cumsum([len(x) for x in blocks], dtype=np.int64)])
    snap_ev = empty_events(int(snap_off[-1]))  # zeroed: np.concatenate leaves padding unset
    for x, block in enumerate(blocks):
        snap_ev[snap_off[x]:snap_off[x + 1]] = block
    book_ref = np.concatenate([np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in book_ref]) \
        if book_ref else np.zeros(0, dtype=np.int64)
    b_ts, b_seq, b_rows = (np.empty(len(book_ref), dtype=np.int64) for _ in range(3))
    dm = book_ref >= 0
    dj, sj = book_ref[dm], -1 - book_ref[~dm]
    b_ts[dm], b_seq[dm], b_rows[dm] = E[dj], u[dj], nlev[dj]
    b_ts[~dm], b_seq[~dm] = snap_ev["ts_exch"][snap_off[sj]], snap_ev["seq"][snap_off[sj]]
    b_rows[~dm] = np.diff(snap_off)[sj]

    # ---- trades
    tcol = p.trade
    nt = len(tcol["row"])
    at_trade = _at(names, tcol)
    tcol["T"] *= _MS
    t_ts = tcol["T"]
    t_px = _ticks(inst, tcol["p"], at_trade, "p", out=tcol["p"].view(np.int64))
    _check_qty(tcol["q"], at_trade, "q")
    t_side = np.where(tcol["m"] != 0, Side.SELL, Side.BUY).astype(np.int8)

    # ---- bookTicker: bid then ask per message
    qcol = p.ticker
    nq = len(qcol["row"])
    qloc = qcol["local"]
    if nq:
        if futures:
            _require(p, _CH_TICKER, "E")
            qcol["E"] *= _MS
            qts = qcol["E"]
        else:
            est = offset if offset is not None else _median_offset(tcol["local"], t_ts)
            qts = qloc - (est or 0)
            report.notes.append("spot bookTicker has no exchange time: ts_exch = local time minus"
                                f" the median local-minus-exchange offset ({(est or 0) / 1e6:.1f} ms)")
    else:
        qts = np.zeros(0, dtype=np.int64)
    at_tick = _at(names, qcol)
    bpx = _ticks(inst, qcol["b"], at_tick, "b", out=qcol["b"].view(np.int64))
    apx = _ticks(inst, qcol["a"], at_tick, "a", out=qcol["a"].view(np.int64))
    _check_qty(qcol["B"], at_tick, "B")
    _check_qty(qcol["A"], at_tick, "A")
    for reason, hit in (("crossed bookTicker (bid > ask): kept as sent", bpx > apx),
                        ("locked bookTicker (bid == ask): kept as sent", bpx == apx)):
        rows = np.flatnonzero(hit)
        if rows.size:
            _record(report.keep, reason, names, qcol["fi"][rows], qcol["row"][rows])

    # ---- merge the three streams (see the docstring): the sort key is the same for
    # every row of a message, so messages are ordered and their rows written in turn
    counts = (len(book_ref), nt, nq)
    t_key = np.concatenate([_running_max(b_ts), _running_max(t_ts), _running_max(qts)])
    prio = np.concatenate([np.ones(counts[0], np.int8), np.zeros(nt, np.int8),
                           np.ones(nq, np.int8)])
    seq_key = np.concatenate([b_seq, np.zeros(nt, dtype=np.int64), qcol["u"]])
    stream_id = np.repeat(np.arange(3, dtype=np.int8), counts)
    within = np.concatenate([np.arange(c) for c in counts])
    order = np.lexsort((within, stream_id, seq_key, prio, t_key))
    del t_key, prio, seq_key, stream_id, within
    events = np.zeros(int(b_rows.sum()) + nt + 2 * nq, dtype=EVENT_DTYPE)
    n = _bk.fill_events(events, order, book_ref, snap_ev, snap_off, lv_off, dcol["nb"], nlev,
                        lv_tick, lvl["qty"], u, E, dloc, t_ts, tcol["local"], tcol["t"], t_px,
                        tcol["q"], t_side, qts, qloc, qcol["u"], bpx, qcol["B"], apx, qcol["A"])
    assert n == len(events)  # every row of every message written exactly once
    p.depth = p.levels = p.trade = p.ticker = {}  # release the per-message arrays
    return events


def _instrument(instrument: Instrument | str | Mapping[str, Any] | None, market: str,
                p: _Parsed, names: list[str], report: ValidationReport) -> Instrument:
    """The instrument of :func:`load_binance`: given, from the registry, or from the data."""
    if isinstance(instrument, (Instrument, str)):
        return _registry.resolve(instrument, instrument_id=binance_instrument_id(market, p.symbol),
                                 report=report)
    iid = binance_instrument_id(market, p.symbol)
    known: dict[str, Any] = {}
    if market == "coinm":
        known = {"inverse": True, "currency": "USD",
                 "inverse_basis": "Binance COIN-M contracts are inverse (margined and settled in"
                                  " the base coin, quoted in USD)"}
        given = isinstance(instrument, Mapping) and "multiplier" in instrument
        if not given and _registry.lookup(iid) is None:
            usd, why = coinm_contract_size(p.symbol)
            known.update(multiplier=usd, multiplier_basis=why)
    over = instrument if isinstance(instrument, Mapping) else {}
    row = _registry.facts(iid) if "instrument_id" not in over else None
    grids = []
    for kind, fact in (("px", "tick_size"), ("qty", "lot_size")):
        if fact in over:  # the caller's value wins: no grid is read (see resolve)
            grids.append(None)
            continue
        stated = row.get(fact) if row is not None else None  # None: the row leaves it empty
        grids.append((stated is not None and stated_grid(_sources(p, names, kind), kind,
                                                         float(stated)))
                     or _grid(p, names, kind))
    return _registry.resolve(instrument, instrument_id=iid, report=report,
                             price_grid=grids[0], lot_grid=grids[1],
                             venue="BINANCE", market=market, known=known)


def load_binance(paths: str | Path | list[str | Path], *,
                 instrument: Instrument | str | Mapping[str, Any] | None = None,
                 on_gap: str = "mark") -> MarketData:
    """Load one Binance recording session (depth diffs, trades, bookTicker) as events.

    Parameters
    ----------
    paths
        A ``.gz`` file, a list of files of one session in date order (a file split at
        00:00 UTC continues the session of the one before; only the first holds the
        REST snapshot), or a directory (its ``*.gz`` files in name order; a file with
        a snapshot starts a new session).
    instrument
        An :class:`Instrument` (used as is), an id ``"SYMBOL.VENUE"`` (from the
        registry, :mod:`qlib.data.instruments`), a dict of fields overriding what
        would be used (``{"tick_size": 0.01}``), or None: see *Instrument* below.
    on_gap
        ``"mark"`` (default): a sequence gap is recorded in ``report.gaps`` and the
        diffs after it are still applied (levels the missed diffs changed stay stale
        until touched again; the crossed/locked counts show the damage). ``"raise"``:
        the first gap raises :class:`DataQualityError`.

    Returns
    -------
    MarketData
        Events, in this order of rows:

        * REST snapshot: ``CLEAR`` (``Side.NONE``) and one ``SNAPSHOT`` per level (bids,
          then asks), all flagged ``SNAPSHOT``, ``LAST`` on the final one; ``seq`` =
          ``lastUpdateId``; ``ts_exch`` = the snapshot's ``T`` (futures) or, on spot
          (no time in the snapshot), the ``E`` of the first diff applied after it.
        * ``DEPTH`` per ``[price, qty]`` of each applied diff, bids then asks, ``LAST``
          on the diff's final level; ``seq = u``, ``ts_exch = E``.
        * ``TRADE`` per trade: ``side`` is the aggressor (``m`` true -> ``SELL``),
          ``seq`` = trade id ``t``, ``ts_exch = T``, flag ``LAST``.
        * ``QUOTE`` pair per bookTicker: bid then ask (``LAST``), ``seq = u``,
          ``ts_exch = E`` on futures; spot bookTicker carries no time, so ``ts_exch``
          is the line's local time plus the session's median ``E - local`` of the
          diffs (an estimate, noted in the report).

        ``ts_local`` is always the line's local receive time. The three streams are
        merged by exchange time with a stable sort on ``(t, priority, seq)``: ``t`` is
        the running maximum of ``ts_exch`` within each stream (so a stream is never
        reordered internally), on equal ``t`` trades come first (the trade stream
        runs ahead of the depth stream: a diff published in the same millisecond
        already contains the trade's effect), then diffs and bookTickers by update id
        (the two share Binance's sequence, a diff before a bookTicker with the same
        ``u``). Rows whose ``ts_exch`` is below an earlier row's are counted in
        ``report.out_of_order_rows``.

    Raises
    ------
    DataNotFoundError
        A file does not exist, or a directory holds no ``.gz`` file.
    DataQualityError
        Corrupt gzip, a line without ``<local_ts_ns> ``, invalid JSON (other than a
        torn last line), an unknown stream, a second symbol, a missing or
        non-numeric field, a file's first line before the previous file's last one,
        a bad price or quantity, a crossed REST snapshot (see *Data quirks*); a gap
        with ``on_gap="raise"``. The message names file, row (0-based line), field
        and value.
    ParameterError
        Bad ``paths``/``on_gap``/``instrument``; a COIN-M symbol off the
        ``<BASE>USD_<PERP|YYMMDD>`` pattern with no registry row and no
        ``instrument={'multiplier': ...}`` (its contract size is not known).

    Notes
    -----
    **Instrument.** With no ``instrument``, the market is read off the messages
    (:func:`_market`, recorded as ``report.inferred`` ``"market"``): futures diffs
    carry ``pu`` (and futures bookTickers ``E``, trades ``X``, snapshots ``E``/``T``),
    spot ones never do; COIN-M diffs and bookTickers carry ``ps``, its snapshots
    ``pair``, and its symbols are ``<BASE>USD_PERP`` / ``<BASE>USD_<YYMMDD>``. The id is
    :func:`binance_instrument_id` (spot ``ETHUSDT.BINANCE``, USD-M perpetual
    ``ETHUSDT-PERP.BINANCE``, COIN-M ``ETHUSD_PERP.BINANCE``). Then
    :func:`qlib.data.instruments.resolve`: a registry row wins (unless the prices lie
    off its tick); otherwise the tick is the grid of the distinct prices of the
    snapshots, diffs, trades and bookTickers (:func:`qlib.data.infer.infer_step` on
    ``np.unique`` of the parsed floats: the gcd of the values, or their finest decimal
    step when fewer than 20 are distinct), the lot the same on the quantities, the
    fees and currency the venue market's default row (``BINANCE:spot|usdm|coinm``,
    reported as *assumed*). A COIN-M contract is inverse, quoted in USD, and worth
    100 USD (BTC) or 10 USD (any other coin) per contract (:func:`coinm_contract_size`).

    **Data quirks.** What a real file can hold, and what the loader does with it:

    ========================================  ======================================
    case                                      outcome
    ========================================  ======================================
    diff before the REST snapshot             dropped, counted in ``report.drops``
                                              ("diff before the REST snapshot")
    sequence gap (``U``/``pu`` chain breaks)  ``report.gaps``, later diffs applied
                                              (``on_gap="mark"``) or raise
    torn last line: the file's final line     dropped, counted ("torn last line"):
    has no line break and is a cut prefix     a live recorder file ends mid-line
    of a line (mid-number, mid-JSON, mid-
    timestamp)
    torn line anywhere else (a line break     raise (invalid JSON, naming the row)
    follows it)
    gzip stream without its end marker (a     the complete lines are read; counted in
    file still being written, or cut)         ``report.kept``; its torn last line
                                              dropped as above
    corrupt gzip data                         raise
    file already gunzipped (plain text,       read as is (no gzip magic bytes and a
    any name)                                 first byte that is a digit)
    blank line                                skipped, counted in ``report.kept``
    local time lower than the line before     kept in file order, counted in
                                              ``report.kept`` (recorder clock steps)
    first line of a file before the last      raise (files out of date order)
    line of the file before it
    duplicated trade id ``t``                 the later copy dropped, counted
                                              (ids are unique per symbol)
    bookTicker with bid > ask (bid == ask)    kept as sent, counted in
                                              ``report.kept`` as crossed (locked)
    price <= 0 (a level at price 0 too)       raise
    price or quantity NaN or infinite         raise
    price beyond 2**62 ticks (``1e300``)      raise (it would overflow int64)
    price off the tick grid                   raise
    quantity < 0                              raise
    trade ``m`` not JSON true/false           raise (``"yes"``, ``1``, ``null``)
    crossed REST snapshot                     raise
    ========================================  ======================================

    The crossed/locked counts of the *rebuilt* book are ``report.crossed_rows`` and
    ``report.locked_rows`` (below).

    Sequence rules [1]_ [2]_, checked on the diffs in arrival order: spot drops diffs
    with :math:`u \\le L` (``L`` = ``lastUpdateId``), the first applied diff must have
    :math:`U \\le L + 1 \\le u`, then :math:`U_k = u_{k-1} + 1`; futures drop
    :math:`u < L`, bridge with :math:`U \\le L \\le u`, then :math:`pu_k = u_{k-1}`. Diffs
    before the bridging one are dropped and counted in ``report.drops``. A bridge or
    chain failure is a gap (``report.gaps``). A session with no snapshot (a later file
    loaded alone) is applied from an empty book and noted.

    The report holds rows, span, gaps, drops, the crossed/locked counts of the book
    rebuilt by :func:`qlib.book.count_crossed` after every diff, and the median
    local-minus-exchange clock offset.

    **Reading.** Each file is decompressed 1 MiB at a time; a numba kernel
    (:func:`qlib.data._binance_kernels.parse_lines`) reads every regular depthUpdate,
    trade and bookTicker line of the piece straight into per-stream arrays (fields
    in any order; decimal strings of up to 15 significant digits give the same float
    as ``float(text)``), and any other line (a REST snapshot, a new stream name, an
    exponent, a sign, whitespace, an escape, a missing field, a malformed line) is
    read with orjson, which also names the bad file/row/field. No Python object is
    built per regular message, and the text of one piece only is held; the events
    are written once, in merged order. Peak memory is about 2.3x the event array
    (``benchmarks/bench_load_binance.py``), most of it the book rebuilt for the
    crossed/locked counts.

    References
    ----------
    .. [1] Binance (2024). Spot API: How to manage a local order book correctly.
    .. [2] Binance (2024). USD-M / COIN-M Futures API: How to manage a local order book
       correctly.
    """
    if on_gap not in _ON_GAP:
        raise ParameterError(f"on_gap must be one of {_ON_GAP}, was {on_gap!r}")
    if instrument is not None and not isinstance(instrument, (Instrument, str, Mapping)):
        raise ParameterError("instrument must be an Instrument, an id 'SYMBOL.VENUE', a dict of"
                             f" overrides or None, was {type(instrument).__name__}")
    files = _resolve(paths)
    p = _Reader().read(files)
    names = p.files
    report = ValidationReport("binance", files=names, rows_read=p.lines)
    for reason, file, row in p.kept:
        report.keep(reason, file, row)
    for reason, file, row in p.dropped:
        report.drop(reason, file, row)
    market, basis = _market(p)
    report.infer("market", market, basis, "certain")
    futures = market != "spot"
    if futures:
        _require(p, _CH_DEPTH, "pu")
    snaps = p.snapshots
    _dedupe_trades(p, names, report)
    inst = _instrument(instrument, market, p, names, report)
    report.notes.append(f"market {market}, stream symbol {p.symbol}, instrument"
                        f" {inst.instrument_id} ({'given' if instrument is not None else 'inferred'})")

    # ---- depth diffs: arrays per diff and per level
    dcol = p.depth
    dfi, drow, dloc = dcol["fi"], dcol["row"], dcol["local"]
    nd = len(drow)
    dcol["E"] *= _MS
    E = dcol["E"]
    U, u = dcol["U"], dcol["u"]
    pu = dcol["pu"] if futures else None
    offset = _median_offset(dloc, E)
    if offset is not None:
        report.notes.append(f"clock: median local minus exchange time (E of diffs) is"
                            f" {offset / 1e6:.1f} ms (recorder clock offset plus latency)")

    # ---- sessions and epochs (one epoch per snapshot)
    has_snap = np.zeros(len(names), dtype=bool)
    for fi, *_ in snaps:
        has_snap[fi] = True
    sess_of_file = np.maximum(np.cumsum(has_snap) - (1 if has_snap[0] else 0), 0)
    dsess = sess_of_file[dfi] if nd else np.zeros(0, dtype=np.int64)
    epochs: list[tuple[int | None, int, int]] = []
    for s in range(int(sess_of_file[-1]) + 1):
        lo, hi = int(np.searchsorted(dsess, s, "left")), int(np.searchsorted(dsess, s, "right"))
        ss = [k for k, sn in enumerate(snaps) if sess_of_file[sn[0]] == s]
        if not ss:
            epochs.append((None, lo, hi))
            report.notes.append(f"no REST snapshot in the session starting at"
                                f" {Path(names[int(np.flatnonzero(sess_of_file == s)[0])]).name}:"
                                " its diffs are applied to an empty book")
            continue
        starts, prev = [], lo
        for k in ss:
            last_id = int(snaps[k][3]["lastUpdateId"])
            reach = np.flatnonzero(u[prev:hi] >= (last_id if futures else last_id + 1))
            prev = prev + int(reach[0]) if reach.size else hi
            starts.append(prev)
        first_id = int(snaps[ss[0]][3]["lastUpdateId"])
        reason = (f"diff before the REST snapshot (u {'<' if futures else '<='} lastUpdateId)")
        for j in range(lo, starts[0]):
            report.drop(reason, names[dfi[j]], int(drow[j]))
        if starts[0] > lo:
            report.notes.append(f"{starts[0] - lo} diffs before snapshot lastUpdateId={first_id}"
                                " dropped")
        for e, k in enumerate(ss):
            epochs.append((k, starts[e], starts[e + 1] if e + 1 < len(ss) else hi))

    # ---- sequence checks
    applied = np.zeros(nd, dtype=bool)
    for k, a, b in epochs:
        applied[a:b] = True
        if k is not None and a < b:
            last_id = int(snaps[k][3]["lastUpdateId"])
            need = last_id if futures else last_id + 1
            fi, row = snaps[k][0], snaps[k][1]
            if U[a] <= need <= u[a]:
                report.notes.append(
                    f"snapshot lastUpdateId={last_id} ({Path(names[fi]).name}:{row}) bridged by"
                    f" diff U={U[a]} u={u[a]} ({Path(names[dfi[a]]).name}:{drow[a]})")
            else:
                report.gap(names[dfi[a]], int(drow[a]), "U", need, int(U[a]))
        if b - a > 1:
            if futures:
                bad = np.flatnonzero(pu[a + 1:b] != u[a:b - 1]) + a + 1
                for j in bad:
                    report.gap(names[dfi[j]], int(drow[j]), "pu", int(u[j - 1]), int(pu[j]))
            else:
                bad = np.flatnonzero(U[a + 1:b] != u[a:b - 1] + 1) + a + 1
                for j in bad:
                    report.gap(names[dfi[j]], int(drow[j]), "U", int(u[j - 1]) + 1, int(U[j]))
    if report.gaps and on_gap == "raise":
        g = report.gaps[0]
        raise DataQualityError(f"sequence gap: {g.field} was {g.was}, expected {g.expected}",
                               file=g.file, row=g.row, field=g.field, value=g.was)
    if report.gaps:
        report.notes.append(f"{len(report.gaps)} sequence gaps: diffs after each gap were still"
                            " applied (on_gap='mark')")

    diffs_applied = int(applied.sum())
    del dcol, dfi, drow, dloc, E, U, u, pu, applied
    events = _merge(p, inst, epochs, futures, offset, report)

    check_events(events, report)
    from qlib.book import count_crossed  # noqa: PLC0415 - see _BOOK_IMPORT_NOTE

    report.crossed_rows, report.locked_rows = count_crossed(events)
    report.notes.append("crossed/locked rows counted on the rebuilt book after every diff"
                        " and snapshot (rows flagged LAST)")
    provenance = {
        "loader": "qlib.data.binance.load_binance",
        "files": names,
        "market": market,
        "symbol": p.symbol,
        "on_gap": on_gap,
        "lines_per_channel": p.channels,
        "snapshot_last_update_ids": [int(s[3]["lastUpdateId"]) for s in snaps],
        "diffs_applied": diffs_applied,
        "clock_offset_ns": offset,
    }
    return MarketData(events, inst, report, provenance)


def bookticker_agreement(data: MarketData) -> dict[str, float | int]:
    """Compare the rebuilt book with Binance's own bookTicker quotes.

    Each bookTicker (``QUOTE`` pair, ``seq = u``) is compared with the rebuilt book
    after the last diff whose final update id is ``<= u`` (the diffs have *reached*
    it when some diff's ``u`` is ``>= u``; later bookTickers are not compared).
    Between that diff and the bookTicker lie the updates ``(u_diff, u]``; when one of
    them changes the top of the book, the two disagree without either being wrong.

    Parameters
    ----------
    data
        Output of :func:`load_binance`.

    Returns
    -------
    dict
        ``compared``; ``agree`` (bid and ask price and quantity equal) and
        ``agree_px`` (prices equal) with their fractions ``agree_frac`` and
        ``agree_px_frac``; ``exact`` (bookTickers whose ``u`` equals a diff's ``u``)
        and ``exact_agree``.
    """
    ev = data.events
    from qlib.book import replay_bbo  # noqa: PLC0415 - see _BOOK_IMPORT_NOTE

    bbo_rows = replay_bbo(ev)
    is_book = ((ev["kind"] == EventKind.DEPTH) | (ev["kind"] == EventKind.SNAPSHOT)) & (
        (ev["flags"] & EventFlag.LAST) != 0)
    bk = bbo_rows[is_book]
    qb = np.flatnonzero((ev["kind"] == EventKind.QUOTE) & (ev["side"] == Side.BUY))
    qa = qb + 1
    if not len(bk) or not len(qb):
        return {"compared": 0, "agree": 0, "agree_px": 0, "agree_frac": float("nan"),
                "agree_px_frac": float("nan"), "exact": 0, "exact_agree": 0}
    order = np.argsort(bk["seq"], kind="stable")
    bseq = bk["seq"][order]
    qseq = ev["seq"][qb]
    j = np.searchsorted(bseq, qseq, side="right") - 1
    ok = (j >= 0) & (qseq <= bseq[-1])
    j, qb, qa, qseq = j[ok], qb[ok], qa[ok], qseq[ok]
    st = bk[order][j]
    px = (st["bid_px_tick"] == ev["px_tick"][qb]) & (st["ask_px_tick"] == ev["px_tick"][qa])
    both = px & (st["bid_qty"] == ev["qty"][qb]) & (st["ask_qty"] == ev["qty"][qa])
    exact = bseq[j] == qseq
    n = int(len(j))
    return {"compared": n, "agree": int(both.sum()), "agree_px": int(px.sum()),
            "agree_frac": float(both.mean()) if n else float("nan"),
            "agree_px_frac": float(px.mean()) if n else float("nan"),
            "exact": int(exact.sum()), "exact_agree": int((both & exact).sum())}
