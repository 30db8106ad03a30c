"""Load Binance depth, trade and bookTicker recordings (hftbacktest collector format).

The recorder writes gzip text, one message per line: ``<local_ts_ns> <json>``, where the
JSON is a combined-stream wrapper ``{"stream": "<symbol>@<channel>", "data": {...}}`` or,
once per session, a REST depth snapshot ``{"lastUpdateId": ..., "bids": [...], ...}``.
See ``shared/data/binance-*/PROVENANCE.md`` for the three markets recorded.
"""

from __future__ import annotations

import gc
import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from qlib.book import count_crossed, replay_bbo
from qlib.data import _binance_kernels
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["load_binance", "binance_instrument", "bookticker_agreement", "BINANCE_INSTRUMENTS"]

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

_CH_DEPTH, _CH_TRADE, _CH_TICKER = 0, 1, 2
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
def _resolve(paths: Any) -> list[Path]:
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.name.endswith(".gz"))
            if not files:
                raise DataNotFoundError(f"no .gz files in directory {p}")
            return files
        items = [p]
    elif isinstance(paths, (list, tuple)) and paths:
        items = [Path(x) for x in paths]
    else:
        raise ParameterError(f"paths must be a file, a directory or a non-empty list, was {paths!r}")
    for f in items:
        if not f.is_file():
            raise DataNotFoundError(f"Binance recording {f} does not exist")
    return items


def _read_lines(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        raise DataQualityError("not a gzip file (magic bytes were %r)" % raw[:2],
                               file=str(path), row=0, field="gzip", value=raw[:2])
    try:
        text = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        partial = zlib.decompressobj(wbits=31)
        try:
            got = partial.decompress(raw)
        except zlib.error:
            got = b""
        row = got.count(b"\n")
        raise DataQualityError(f"gzip stream is corrupt or truncated after {row} complete lines"
                               f" ({exc})", file=str(path), row=row, field="gzip",
                               value=type(exc).__name__) from exc
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


@dataclass
class _Parsed:
    """Messages of every file, by channel, before any sequencing."""

    files: list[str] = field(default_factory=list)
    symbol: str | None = None
    # per channel: lists of (file index, row, local ts, json body)
    fidx: tuple[list[int], list[int], list[int]] = ([], [], [])
    rows: tuple[list[int], list[int], list[int]] = ([], [], [])
    local: tuple[list[int], list[int], list[int]] = ([], [], [])
    body: tuple[list[bytes], list[bytes], list[bytes]] = ([], [], [])
    snapshots: list[tuple[int, int, int, bytes]] = field(default_factory=list)
    channels: dict[str, dict[str, int]] = field(default_factory=dict)
    lines: int = 0


def _classify(stream: bytes, path: str, row: int, line: bytes) -> tuple[str, int, str]:
    text = stream.decode("ascii", "replace")
    sym, _, ch = text.partition("@")
    if ch.startswith("depth") and not ch[5:6].isdigit():
        return sym.upper(), _CH_DEPTH, ch
    if ch == "trade":
        return sym.upper(), _CH_TRADE, ch
    if ch == "bookTicker":
        return sym.upper(), _CH_TICKER, ch
    raise DataQualityError(f"unknown stream {text!r}: expected <symbol>@depth..., @trade or"
                           " @bookTicker", file=path, row=row, field="stream", value=text)


def _scan(files: list[Path]) -> _Parsed:
    """Split every line into local time and body, by channel; check local time order.

    Works on whole files with list comprehensions and numpy (no per-line statements).
    """
    out = _Parsed(fidx=([], [], []), rows=([], [], []), local=([], [], []), body=([], [], []))
    last_ts, last_where = -1, None
    kinds: dict[bytes, tuple[str, int, str]] = {}
    for fi, path in enumerate(files):
        name = str(path)
        out.files.append(name)
        lines = _read_lines(path)
        out.lines += len(lines)
        sps = np.array([ln.find(b" ", 0, 32) for ln in lines], dtype=np.int64)
        heads = np.array([ln[:sp] for ln, sp in zip(lines, sps.tolist())], dtype=bytes)
        bad = sps <= 0
        if len(lines):
            bad |= ~np.char.isdigit(heads)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataQualityError(
                f"line does not start with '<local_ts_ns> ': began {lines[row][:40]!r}",
                file=name, row=row, field="local_ts", value=lines[row][:20])
        local_all = heads.astype(np.int64) if len(lines) else np.zeros(0, dtype=np.int64)
        bodies = [ln[sp + 1:] for ln, sp in zip(lines, sps.tolist())]
        streams = [bd[11:bd.find(b'"', 11)] if bd.startswith(b'{"stream":"') else
                   (b"" if bd.startswith(b'{"lastUpdateId"') else None) for bd in bodies]
        codes = np.empty(len(lines), dtype=np.int64)
        counts: dict[str, int] = {}
        for st in sorted(set(streams), key=streams.index):  # first-seen order: deterministic
            rows_st = [i for i, x in enumerate(streams) if x == st] if len(set(streams)) > 1 else \
                list(range(len(streams)))
            row = rows_st[0]
            if st is None:
                raise DataQualityError(
                    "message is neither a stream wrapper nor a REST depth snapshot: began"
                    f" {bodies[row][:40]!r}", file=name, row=row, field="json",
                    value=bodies[row][:40])
            if st == b"":
                codes[rows_st] = -1
                counts["snapshot"] = len(rows_st)
                continue
            kind = kinds.get(st)
            if kind is None:
                kind = kinds[st] = _classify(st, name, row, lines[row])
            if out.symbol is None:
                out.symbol = kind[0]
            elif out.symbol != kind[0]:
                raise DataQualityError(
                    f"stream symbol {kind[0]!r} differs from {out.symbol!r} seen before:"
                    " one instrument per load", file=name, row=row, field="stream",
                    value=st.decode())
            codes[rows_st] = kind[1]
            counts[kind[2]] = len(rows_st)
        for ch in (_CH_DEPTH, _CH_TRADE, _CH_TICKER):
            idx = np.flatnonzero(codes == ch).tolist()
            out.fidx[ch].extend([fi] * len(idx))
            out.rows[ch].extend(idx)
            out.local[ch].extend(local_all[idx].tolist())
            out.body[ch].extend([bodies[i] for i in idx])
        for i in np.flatnonzero(codes == -1).tolist():
            out.snapshots.append((fi, i, int(local_all[i]), bodies[i]))
        if len(local_all):
            back = np.flatnonzero(np.diff(local_all) < 0)
            if back.size:
                r = int(back[0]) + 1
                raise DataQualityError(
                    f"local timestamp went backwards: {local_all[r]} after {local_all[r - 1]}",
                    file=name, row=r, field="local_ts", value=int(local_all[r]))
            if local_all[0] < last_ts:
                raise DataQualityError(
                    f"first local timestamp {local_all[0]} is before the last one of"
                    f" {last_where} ({last_ts}): files must be given in date order",
                    file=name, row=0, field="local_ts", value=int(local_all[0]))
            last_ts, last_where = int(local_all[-1]), name
        out.channels[path.name] = counts
    return out


def _loads(bodies: list[bytes], files: list[str], fidx: list[int], rows: list[int],
           unwrap: bool) -> list[dict]:
    """Parse JSON bodies with orjson (gc paused: it only builds acyclic objects)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            objs = [orjson.loads(b) for b in bodies]
        except orjson.JSONDecodeError:
            for i, b in enumerate(bodies):
                try:
                    orjson.loads(b)
                except orjson.JSONDecodeError as exc:
                    raise DataQualityError(f"invalid JSON ({exc})", file=files[fidx[i]],
                                           row=rows[i], field="json", value=b[:60]) from exc
            raise
        if unwrap:
            try:
                objs = [o["data"] for o in objs]
            except (KeyError, TypeError):
                for i, o in enumerate(objs):
                    if not isinstance(o, dict) or not isinstance(o.get("data"), dict):
                        raise DataQualityError("stream message has no 'data' object",
                                               file=files[fidx[i]], row=rows[i],
                                               field="data", value=str(o)[:60]) from None
                raise
        return objs
    finally:
        if enabled:
            gc.enable()


def _column(objs: list[dict], key: str, dtype: Any, files: list[str], fidx: list[int],
            rows: list[int]) -> np.ndarray:
    """One field of every message as an array, or an error naming the first bad message."""
    try:
        return np.array([o[key] for o in objs], dtype=dtype)
    except (KeyError, TypeError, ValueError):
        for i, o in enumerate(objs):
            try:
                np.array([o[key]], dtype=dtype)
            except (KeyError, TypeError, ValueError):
                raise DataQualityError(
                    f"field {key!r} was {o.get(key, '<missing>')!r}, expected"
                    f" {np.dtype(dtype).name}", file=files[fidx[i]], row=rows[i], field=key,
                    value=o.get(key)) from None
        raise


def _levels(objs: list[dict], keys: tuple[str, ...], files: list[str], fidx: list[int],
            rows: list[int]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Flatten the ``[price, qty]`` lists of ``keys`` of every message.

    Returns the (L, 2) float array, the message index of each level and, per key, the
    number of levels each message holds.
    """
    flat: list = []
    counts = [np.zeros(len(objs), dtype=np.int64) for _ in keys]
    try:
        for i, o in enumerate(objs):
            for k, key in enumerate(keys):
                lv = o[key]
                counts[k][i] = len(lv)
                flat += lv
        arr = np.array(flat, dtype=np.float64).reshape(-1, 2)
        if arr.shape[0] != len(flat):
            raise ValueError("levels are not [price, qty] pairs")
    except (KeyError, TypeError, ValueError):
        for i, o in enumerate(objs):
            for key in keys:
                lv = o.get(key) if isinstance(o, dict) else None
                try:
                    a = np.array(lv, dtype=np.float64)
                    if a.ndim != 2 or a.shape[1] != 2:
                        raise ValueError
                except (TypeError, ValueError):
                    if isinstance(lv, list) and len(lv) == 0:
                        continue
                    raise DataQualityError(
                        f"levels {key!r} were {str(lv)[:80]}, expected a list of [price, qty]"
                        " decimal strings", file=files[fidx[i]], row=rows[i], field=key,
                        value=str(lv)[:80]) from None
        raise
    total = sum(counts)
    owner = np.repeat(np.arange(len(objs)), total)
    return arr, owner, counts


def _check_qty(qty: np.ndarray, owner: np.ndarray, files: list[str], fidx: np.ndarray,
               rows: np.ndarray, field_name: str) -> None:
    bad = ~np.isfinite(qty) | (qty < 0)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        m = int(owner[j])
        raise DataQualityError(f"quantity was {qty[j]!r}, expected a finite number >= 0",
                               file=files[fidx[m]], row=int(rows[m]), field=field_name,
                               value=float(qty[j]))


def _ticks(inst: Instrument, px: np.ndarray, owner: np.ndarray, files: list[str],
           fidx: np.ndarray, rows: np.ndarray, field_name: str) -> np.ndarray:
    try:
        return inst.to_ticks(px, field=field_name)
    except DataQualityError as exc:
        m = int(owner[exc.row]) if exc.row is not None and len(owner) else 0
        raise DataQualityError(str(exc).split("] ", 1)[-1], file=files[int(fidx[m])],
                               row=int(rows[m]), field=field_name, value=exc.value) from None


# --------------------------------------------------------------------------- building
def _depth(p: _Parsed) -> tuple[list[dict], np.ndarray, np.ndarray, list[np.ndarray]]:
    """Depth messages: header dicts, (L, 2) levels, owner per level, bid/ask counts.

    Fast path: each body is cut at ``,"b":[``; orjson parses the short head and
    :func:`qlib.data._binance_kernels.parse_levels` reads the level lists from the bytes.
    Any message not in that exact shape sends all of them down the general path
    (orjson on whole messages), which also names the bad file/row/field.
    """
    D = _CH_DEPTH
    bodies = p.body[D]
    heads, tails = [], []
    for b in bodies:
        c = b.find(b',"b":[')
        if c < 0:
            break
        heads.append(b[:c] + b"}}")
        tails.append(b[c + 5:])
    if len(heads) == len(bodies):
        joined = b"\n".join(tails)
        buf = np.frombuffer(joined + b"\0" * _binance_kernels.PAD, dtype=np.uint8)
        cap = len(joined) // 9 + 1
        px, qty = np.empty(cap), np.empty(cap)
        nbid = np.zeros(len(bodies), dtype=np.int64)
        nask = np.zeros(len(bodies), dtype=np.int64)
        status, lines, k = _binance_kernels.parse_levels(buf, len(joined), px, qty, nbid, nask)
        if status == Status.OK and lines == len(bodies):
            dobj = _loads(heads, p.files, p.fidx[D], p.rows[D], True)
            owner = np.repeat(np.arange(len(bodies)), nbid + nask)
            return dobj, np.column_stack((px[:k], qty[:k])), owner, [nbid, nask]
    dobj = _loads(bodies, p.files, p.fidx[D], p.rows[D], True)
    lv, owner, counts = _levels(dobj, ("b", "a"), p.files, p.fidx[D], p.rows[D])
    return dobj, lv, owner, counts


def _market(p: _Parsed, dobj: list, tobj: list, qobj: list, snaps: list) -> str:
    if p.symbol is None:
        raise DataQualityError("no stream messages (depth, trade or bookTicker) in any file",
                               file=p.files[0], row=0, field="stream", value=None)
    futures = bool((dobj and "pu" in dobj[0]) or (qobj and "E" in qobj[0])
                   or (tobj and "X" in tobj[0]) or (snaps and "E" in snaps[0][3]))
    if not futures:
        return "spot"
    return "coinm" if "_" in p.symbol else "usdm"


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
    owner = np.zeros(len(lv), dtype=np.int64)
    r = np.array([row])
    _check_qty(lv[:, 1], owner, [name], np.zeros(1, dtype=np.int64), r, "bids/asks qty")
    ev["px_tick"][1:] = _ticks(inst, lv[:, 0], owner, [name], np.zeros(1, dtype=np.int64), r,
                               "bids/asks price")
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
    p = _scan(files)
    names = p.files
    report = ValidationReport("binance", files=names, rows_read=p.lines)
    D, T, Q = _CH_DEPTH, _CH_TRADE, _CH_TICKER
    dobj, lv, owner, (nbid, nask) = _depth(p)
    tobj = _loads(p.body[T], names, p.fidx[T], p.rows[T], True)
    qobj = _loads(p.body[Q], names, p.fidx[Q], p.rows[Q], True)
    snaps = [(fi, row, ts, _loads([b], names, [fi], [row], False)[0])
             for fi, row, ts, b in p.snapshots]
    market = _market(p, dobj, tobj, qobj, snaps)
    futures = market != "spot"
    inst = instrument if instrument is not None else binance_instrument(market, p.symbol)
    report.notes.append(f"market {market}, stream symbol {p.symbol}, instrument"
                        f" {inst.instrument_id} ({'given' if instrument else 'inferred'})")

    # ---- depth diffs: arrays per diff and per level
    dfi, drow = np.array(p.fidx[D], dtype=np.int64), np.array(p.rows[D], dtype=np.int64)
    dloc = np.array(p.local[D], dtype=np.int64)
    col = lambda objs, ch, key, dt=np.int64: _column(objs, key, dt, names, p.fidx[ch], p.rows[ch])  # noqa: E731
    nd = len(dobj)
    E = col(dobj, D, "E") * _MS
    U, u = col(dobj, D, "U"), col(dobj, D, "u")
    pu = col(dobj, D, "pu") if futures else None
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

    # ---- book stream: snapshot events and applied diff levels, epoch by epoch
    nlev = nbid + nask
    off = np.concatenate([[0], np.cumsum(nlev)])
    pos = np.arange(len(lv)) - off[owner]
    dev = _events(len(lv), EventKind.DEPTH)
    dev["side"] = np.where(pos < nbid[owner], Side.BUY, Side.SELL)
    dev["flags"] = np.where(pos == nlev[owner] - 1, EventFlag.LAST, 0)
    _check_qty(lv[:, 1], owner, names, dfi, drow, "b/a qty")
    dev["px_tick"] = _ticks(inst, lv[:, 0], owner, names, dfi, drow, "b/a price")
    dev["qty"] = lv[:, 1]
    dev["seq"] = u[owner]
    dev["ts_exch"] = E[owner]
    dev["ts_local"] = dloc[owner]
    pieces = []
    for k, a, b in epochs:
        if k is not None:
            fi, row, ts_loc, snap = snaps[k]
            if futures:
                ts_ex = int(_column([snap], "T", np.int64, names, [fi], [row])[0]) * _MS
            elif a < b:
                ts_ex = int(E[a])
            else:
                ts_ex = ts_loc + (-offset if offset is not None else 0)
            pieces.append(_snapshot_events(inst, snap, names[fi], row, ts_loc, ts_ex))
        pieces.append(dev[off[a]:off[b]])
    book = np.concatenate(pieces) if pieces else empty_events(0)

    # ---- trades
    tfi, trow = np.array(p.fidx[T], dtype=np.int64), np.array(p.rows[T], dtype=np.int64)
    tev = _events(len(tobj), EventKind.TRADE, EventFlag.LAST)
    if len(tobj):
        tev["ts_exch"] = col(tobj, T, "T") * _MS
        tev["ts_local"] = np.array(p.local[T], dtype=np.int64)
        tev["seq"] = col(tobj, T, "t")
        own = np.arange(len(tobj))
        tev["px_tick"] = _ticks(inst, col(tobj, T, "p", np.float64), own, names, tfi, trow, "p")
        q = col(tobj, T, "q", np.float64)
        _check_qty(q, own, names, tfi, trow, "q")
        tev["qty"] = q
        tev["side"] = np.where(col(tobj, T, "m", bool), Side.SELL, Side.BUY)

    # ---- bookTicker: bid then ask per message
    qfi, qrow = np.array(p.fidx[Q], dtype=np.int64), np.array(p.rows[Q], dtype=np.int64)
    nq = len(qobj)
    qev = _events(2 * nq, EventKind.QUOTE)
    if nq:
        qloc = np.array(p.local[Q], dtype=np.int64)
        if futures:
            qts = col(qobj, Q, "E") * _MS
        else:
            est = offset if offset is not None else _median_offset(tev["ts_local"], tev["ts_exch"])
            qts = qloc - (est or 0)
            report.notes.append("spot bookTicker has no exchange time: ts_exch = local time minus"
                                f" the median local-minus-exchange offset ({(est or 0) / 1e6:.1f} ms)")
        own = np.arange(nq)
        bpx = _ticks(inst, col(qobj, Q, "b", np.float64), own, names, qfi, qrow, "b")
        apx = _ticks(inst, col(qobj, Q, "a", np.float64), own, names, qfi, qrow, "a")
        bq, aq = col(qobj, Q, "B", np.float64), col(qobj, Q, "A", np.float64)
        _check_qty(bq, own, names, qfi, qrow, "B")
        _check_qty(aq, own, names, qfi, qrow, "A")
        qev["side"][0::2], qev["side"][1::2] = Side.BUY, Side.SELL
        qev["px_tick"][0::2], qev["px_tick"][1::2] = bpx, apx
        qev["qty"][0::2], qev["qty"][1::2] = bq, aq
        qev["flags"][1::2] = EventFlag.LAST
        qev["seq"] = np.repeat(col(qobj, Q, "u"), 2)
        qev["ts_exch"] = np.repeat(qts, 2)
        qev["ts_local"] = np.repeat(qloc, 2)

    # ---- merge the three streams (see the docstring)
    streams = (book, tev, qev)
    allev = np.concatenate(streams)
    t_key = np.concatenate([np.maximum.accumulate(s["ts_exch"]) if len(s) else s["ts_exch"]
                            for s in streams])
    prio = np.concatenate([np.full(len(book), 1), np.zeros(len(tev)), np.full(len(qev), 1)])
    seq_key = np.concatenate([book["seq"], np.zeros(len(tev), dtype=np.int64), qev["seq"]])
    stream_id = np.concatenate([np.full(len(s), i) for i, s in enumerate(streams)])
    within = np.concatenate([np.arange(len(s)) for s in streams])
    events = allev[np.lexsort((within, stream_id, seq_key, prio, t_key))]

    check_events(events, report)
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
        "diffs_applied": int(applied.sum()),
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
