"""Load Binance depth, trade and bookTicker recordings (hftbacktest collector format).

The recorder writes gzip text, one message per line: ``<local_ts_ns> <json>``, where the
JSON is a combined-stream wrapper ``{"stream": "<symbol>@<channel>", "data": {...}}`` or,
once per session, a REST depth snapshot ``{"lastUpdateId": ..., "bids": [...], ...}``.
See ``shared/data/binance-*/PROVENANCE.md`` for the three markets recorded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qlib.data import _binance_kernels as _bk
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
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["load_binance", "binance_instrument", "bookticker_agreement", "BINANCE_INSTRUMENTS"]

#: The L2 loaders count crossed/locked rows by replaying their events through the
#: book (``qlib.book``, one layer up). The import is made inside the functions that
#: need it, at call time, so importing the data layer never imports the book layer
#: (which itself imports ``qlib.data.market_data``): no import cycle.
_BOOK_IMPORT_NOTE = "qlib.book is imported at call time"

#: Known instruments by ``(market, SYMBOL)``; market is ``"spot"``, ``"usdm"`` or ``"coinm"``.
#: Fees are the VIP 0 schedule in basis points (2024).
BINANCE_INSTRUMENTS: dict[tuple[str, str], Instrument] = {
    ("spot", "BTCUSDT"): Instrument("BTCUSDT.BINANCE", tick_size=0.01, lot_size=1e-5,
                                    currency="USDT", maker_fee_bps=10.0, taker_fee_bps=10.0),
    ("usdm", "BTCUSDT"): Instrument("BTCUSDT-PERP.BINANCE", tick_size=0.1, lot_size=0.001,
                                    currency="USDT", maker_fee_bps=2.0, taker_fee_bps=5.0),
    ("coinm", "BTCUSD_PERP"): Instrument("BTCUSD_PERP.BINANCE", tick_size=0.1, lot_size=1.0,
                                         currency="USD", maker_fee_bps=1.0, taker_fee_bps=5.0,
                                         multiplier=100.0, inverse=True),
}

_CH_DEPTH, _CH_TICKER = _bk.CH_DEPTH, _bk.CH_TICKER
_ON_GAP = ("mark", "raise")
_MS = 1_000_000




def binance_instrument(market: str, symbol: str) -> Instrument:
    """Return the known :class:`Instrument` of a Binance ``market`` and ``symbol``.

    Raises
    ------
    ParameterError
        If the pair is not in :data:`BINANCE_INSTRUMENTS` (pass ``instrument=`` then).
    """
    key = (market, symbol.upper())
    if key not in BINANCE_INSTRUMENTS:
        raise ParameterError(
            f"no known instrument for Binance market {market!r} symbol {symbol!r}; known:"
            f" {sorted(BINANCE_INSTRUMENTS)}; pass instrument=Instrument(...)")
    return BINANCE_INSTRUMENTS[key]


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
        raise DataQualityError(f"REST snapshot is crossed: best bid {lv[0, 0]} >= best ask"
                               f" {lv[nb, 0]}", file=name, row=row, field="bids/asks",
                               value=(lv[0, 0], lv[nb, 0]))
    return ev


def _median_offset(a: np.ndarray, b: np.ndarray) -> int | None:
    return int(np.median(a - b)) if len(a) else None


def _market(p: _Parsed) -> str:
    if p.symbol is None:
        raise DataQualityError("no stream messages (depth, trade or bookTicker) in any file",
                               file=p.files[0], row=0, field="stream", value=None)
    d, t, q = p.depth, p.trade, p.ticker
    futures = bool((len(d["row"]) and d["has_pu"][0]) or (len(q["row"]) and q["has_E"][0])
                   or (len(t["row"]) and t["has_X"][0])
                   or (p.snapshots and "E" in p.snapshots[0][3]))
    if not futures:
        return "spot"
    return "coinm" if "_" in p.symbol else "usdm"


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


def load_binance(paths: str | Path | list[str | Path], *, instrument: Instrument | None = None,
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
        The instrument; inferred from the stream symbol and market when None
        (:data:`BINANCE_INSTRUMENTS`). Spot, USD-M or COIN-M is told by the messages:
        futures diffs carry ``pu``, a ``_`` in the symbol means COIN-M.
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
        Corrupt gzip, a line without ``<local_ts_ns> ``, invalid JSON, an unknown
        stream, a second symbol, a missing or non-numeric field, local time going
        backwards, an off-grid price, a crossed REST snapshot; a gap with
        ``on_gap="raise"``. The message names file, row (0-based line), field and value.
    ParameterError
        Bad ``paths``/``on_gap``, or no known instrument for the symbol.

    Notes
    -----
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
    if instrument is not None and not isinstance(instrument, Instrument):
        raise ParameterError(f"instrument must be an Instrument, was {type(instrument).__name__}")
    files = _resolve(paths)
    p = _Reader().read(files)
    names = p.files
    report = ValidationReport("binance", files=names, rows_read=p.lines)
    market = _market(p)
    futures = market != "spot"
    if futures:
        _require(p, _CH_DEPTH, "pu")
    snaps = p.snapshots
    inst = instrument if instrument is not None else binance_instrument(market, p.symbol)
    report.notes.append(f"market {market}, stream symbol {p.symbol}, instrument"
                        f" {inst.instrument_id} ({'given' if instrument else 'inferred'})")

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
