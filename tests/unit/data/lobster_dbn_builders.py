"""Builders of small LOBSTER and Databento inputs for the loader tests (not a test module).

Used by test_lobster.py, test_databento.py and test_malformed_lobster_databento.py;
pytest puts this directory on sys.path, so they import it by name.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from types import SimpleNamespace

import databento_dbn as dbn
import zstandard

LOBSTER_DATE = "2012-06-21"

#: A valid level-1 day: seven messages and the book after each.
#: Before message 0 the visible book is ask 102.00 x 10 (the bid is unknown).
BASE_MESSAGES = [
    "34200.000000001,1,1,100,1000000,1",   # 0 ADD bid 100 @ 100.00 (new best bid)
    "34200.5,1,2,50,1010000,-1",           # 1 ADD ask 50 @ 101.00
    "34201,4,1,40,1000000,1",              # 2 EXECUTE 40 of bid order 1
    "34202,3,2,50,1010000,-1",             # 3 DELETE ask order 2 (level empties)
    "34203,5,0,10,1005000,1",              # 4 hidden execution, buy side resting
    "34204,7,0,0,-1,-1",                   # 5 trading halt
    "34205,2,1,10,1000000,1",              # 6 CANCEL 10 of bid order 1
]
BASE_ORDERBOOK = [
    "1020000,10,1000000,100",
    "1010000,50,1000000,100",
    "1010000,50,1000000,60",
    "1020000,10,1000000,60",
    "1020000,10,1000000,60",
    "1020000,10,1000000,60",
    "1020000,10,1000000,50",
]


#: LOBSTER's usual requested window (ms after midnight): 09:30 to 16:00.
LOBSTER_WINDOW = (34_200_000, 57_600_000)
#: The whole day, for times outside the trading hours.
WHOLE_DAY = (0, 86_400_000)


def lobster_name(part: str, *, ticker: str = "TEST", date: str | None = LOBSTER_DATE,
                 levels: int = 1, window: tuple[int, int] = LOBSTER_WINDOW) -> str:
    """LOBSTER file name for ``part`` in ('message', 'orderbook')."""
    d = f"{date}_" if date else ""
    return f"{ticker}_{d}{window[0]}_{window[1]}_{part}_{levels}.csv"


def write_lobster(directory: Path, messages: list[str] | None = None,
                  orderbook: list[str] | None = None, *, levels: int = 1,
                  date: str | None = LOBSTER_DATE, ticker: str = "TEST",
                  write_orderbook: bool = True, window: tuple[int, int] = LOBSTER_WINDOW,
                  newline: str = "\n", encoding: str = "utf-8") -> Path:
    """Write a message (and orderbook) CSV pair into ``directory``; return the message path.

    ``newline`` ends every line (``"\r\n"`` for Windows files); ``encoding``
    ``"utf-8-sig"`` writes a byte-order mark.
    """
    directory.mkdir(parents=True, exist_ok=True)
    messages = BASE_MESSAGES if messages is None else messages
    orderbook = BASE_ORDERBOOK if orderbook is None else orderbook
    kw = {"ticker": ticker, "date": date, "levels": levels, "window": window}
    msg = directory / lobster_name("message", **kw)
    msg.write_bytes("".join(line + newline for line in messages).encode(encoding))
    if write_orderbook:
        ob = directory / lobster_name("orderbook", **kw)
        ob.write_bytes("".join(line + newline for line in orderbook).encode(encoding))
    return msg


# ----------------------------------------------------------------------------- DBN
ES_ID = 17077
_ACTIONS = {"A": dbn.Action.ADD, "C": dbn.Action.CANCEL, "M": dbn.Action.MODIFY,
            "T": dbn.Action.TRADE, "F": dbn.Action.FILL, "R": dbn.Action.CLEAR,
            "N": dbn.Action.NONE}
_SIDES = {"B": dbn.Side.BID, "A": dbn.Side.ASK, "N": dbn.Side.NONE}
F_LAST = 0x80
F_SNAPSHOT = 0x20
F_BAD_TS_RECV = 0x08
#: Byte offset of ``action`` and ``price`` inside one 56-byte MBO record.
ACTION_OFFSET = 38
SIDE_OFFSET = 39
PRICE_OFFSET = 24
RECORD_SIZE = 56


def mbo(action: str, side: str, price: float, size: int, order_id: int, *, ts: int,
        flags: int = F_LAST, seq: int = 0, ts_recv: int | None = None,
        instrument_id: int = ES_ID) -> bytes:
    """One encoded MBO record (``price`` in index points, ES tick 0.25)."""
    rec = dbn.MBOMsg(
        publisher_id=1, instrument_id=instrument_id, ts_event=ts, order_id=order_id,
        price=2**63 - 1 if math.isnan(price) else round(price * 1e9), size=size,
        action=_ACTIONS[action], side=_SIDES[side], ts_recv=ts if ts_recv is None else ts_recv,
        flags=flags, sequence=seq,
    )
    return bytes(rec)


def dbn_bytes(records: list[bytes], *, symbols: tuple[str, ...] = ("ESH4",),
              start: int = 1_703_462_400_000_000_000, schema: str = "mbo",
              dataset: str = "GLBX.MDP3", mappings: dict[str, int] | None = None) -> bytes:
    """Metadata header + records, uncompressed DBN.

    ``mappings`` (raw symbol -> instrument id) fills the metadata symbology for the
    request day, as Databento writes it for ``stype_in=raw_symbol``.
    """
    day0 = dt.datetime.fromtimestamp(start / 1e9, tz=dt.timezone.utc).date()
    maps = [SimpleNamespace(raw_symbol=sym, intervals=[SimpleNamespace(
        start_date=day0, end_date=day0 + dt.timedelta(days=1), symbol=str(iid))])
        for sym, iid in (mappings or {}).items()]
    meta = dbn.Metadata(dataset=dataset, schema=dbn.Schema.from_str(schema), start=start,
                        stype_in=dbn.SType.RAW_SYMBOL, stype_out=dbn.SType.INSTRUMENT_ID,
                        symbols=list(symbols), end=start + 86_400_000_000_000, mappings=maps)
    return bytes(meta.encode()) + b"".join(records)


def write_dbn(path: Path, records: list[bytes], *, compress: bool = True, **kw) -> Path:
    """Write a (zstd-compressed) DBN file (``kw``: see :func:`dbn_bytes`)."""
    data = dbn_bytes(records, **kw)
    path.write_bytes(zstandard.ZstdCompressor(write_checksum=True).compress(data) if compress
                     else data)
    return path


UNDEF = 2**63 - 1


def levels(bids: list[tuple[float, int]], asks: list[tuple[float, int]], n: int) -> list:
    """``n`` BidAskPair levels from (price, size) lists; missing levels are empty (UNDEF, 0)."""
    out = []
    for j in range(n):
        bp, bs = bids[j] if j < len(bids) else (None, 0)
        ap, az = asks[j] if j < len(asks) else (None, 0)
        out.append(dbn.BidAskPair(
            bid_px=UNDEF if bp is None else round(bp * 1e9), bid_sz=bs, bid_ct=1 if bs else 0,
            ask_px=UNDEF if ap is None else round(ap * 1e9), ask_sz=az, ask_ct=1 if az else 0))
    return out


def mbp(action: str, side: str, price: float, size: int, bids: list, asks: list, *, ts: int,
        depth10: bool = True, flags: int = F_LAST, seq: int = 0, instrument_id: int = ES_ID,
        ) -> bytes:
    """One encoded MBP-10 (or, with ``depth10=False``, MBP-1/TBBO) record."""
    cls, n = (dbn.MBP10Msg, 10) if depth10 else (dbn.MBP1Msg, 1)
    lv = levels(bids, asks, n)
    return bytes(cls(publisher_id=1, instrument_id=instrument_id, ts_event=ts,
                     price=UNDEF if math.isnan(price) else round(price * 1e9), size=size,
                     action=_ACTIONS[action], side=_SIDES[side], depth=0, ts_recv=ts,
                     flags=flags, sequence=seq, levels=lv if depth10 else lv[0]))


def trade(side: str, price: float, size: int, *, ts: int, seq: int = 0, flags: int = F_LAST,
          instrument_id: int = ES_ID) -> bytes:
    """One encoded Trades-schema record."""
    return bytes(dbn.TradeMsg(publisher_id=1, instrument_id=instrument_id, ts_event=ts,
                              price=round(price * 1e9), size=size, action=dbn.Action.TRADE,
                              side=_SIDES[side], depth=0, ts_recv=ts, flags=flags,
                              sequence=seq))


def definition(raw_symbol: str, instrument_id: int, tick: float, *, multiplier: float = 50.0,
               currency: str = "USD", lot: int = 1, instrument_class: str = "F",
               ts: int = 1_703_462_400_000_000_000) -> bytes:
    """One encoded InstrumentDefMsg (DBN v3) with the facts the loader reads."""
    return bytes(dbn.InstrumentDefMsg(
        publisher_id=1, instrument_id=instrument_id, ts_event=ts, ts_recv=ts,
        min_price_increment=round(tick * 1e9), display_factor=1_000_000_000,
        raw_symbol=raw_symbol, asset=raw_symbol[:-2], security_type="FUT",
        instrument_class=dbn.InstrumentClass.from_str(instrument_class),
        security_update_action=dbn.SecurityUpdateAction.ADD, currency=currency,
        unit_of_measure_qty=round(multiplier * 1e9), min_lot_size_round_lot=lot))


T0 = 1_703_545_200_000_000_000  # 2023-12-25 23:00:00 UTC, the default open for that date


def small_session() -> list[bytes]:
    """A tiny valid ES session: adds, a partial and a full cancel, a modify, a trade."""
    return [
        mbo("A", "B", 4800.00, 5, 1, ts=T0 - 10, seq=1),
        mbo("A", "A", 4800.25, 3, 2, ts=T0 - 9, seq=2),
        mbo("C", "B", 4800.00, 2, 1, ts=T0 - 8, seq=3),      # partial: stays CANCEL
        mbo("M", "A", 4800.50, 4, 2, ts=T0 - 7, seq=4),
        mbo("T", "B", 4800.50, 1, 9, ts=T0 + 1, seq=5, flags=0),
        mbo("F", "A", 4800.50, 1, 2, ts=T0 + 1, seq=5, flags=0),
        mbo("M", "A", 4800.50, 3, 2, ts=T0 + 1, seq=6),
        mbo("C", "B", 4800.00, 3, 1, ts=T0 + 2, seq=7),      # full: becomes DELETE
    ]


# ----------------------------------------------------------------------------- LOBSTER, simulated
def simulate_lobster(ops: list[tuple[int, int, int, int]], levels: int, *,
                     ask_empty: int = 9_999_999_999, bid_empty: int = -9_999_999_999
                     ) -> tuple[list[str], list[str]]:
    """Message and orderbook rows that LOBSTER would write for a true L3 book at depth ``levels``.

    ``ops`` are ``(op, side, tick, size)`` draws: op 0 adds ``size`` on ``side`` (+1 bid,
    -1 ask) at ``tick`` ticks from the base price 100.00 (moved off the other side's
    best so that the book never crosses), op 1 deletes the oldest order on that side
    at the ``tick``-th level, op 2 executes ``size`` against the best order of
    ``side``, op 3 cancels ``size`` of the oldest order of ``side``'s best level. As
    in LOBSTER, a change is written (message + the top-``levels`` book after it) only
    when it touches the first ``levels`` levels: adds and deletes deeper down are
    silent, so the loader must resync. The initial book holds ``levels + 2`` levels a
    side, written as silent history. Every change keeps DELETE sizes equal to the
    order's remaining size, as ITCH/LOBSTER do.
    """
    book: dict[int, dict[int, list[list[int]]]] = {1: {}, -1: {}}
    next_id = [1]
    msgs: list[str] = []
    obs: list[str] = []
    t = [34200.0]

    def add(side: int, px: int, size: int) -> int:
        oid = next_id[0]
        next_id[0] += 1
        book[side].setdefault(px, []).append([oid, size])
        return oid

    def prices(side: int) -> list[int]:
        return sorted(book[side], reverse=side == 1)

    def top(side: int) -> list[int]:
        return prices(side)[:levels]

    def row() -> str:
        cols = []
        a, b = prices(-1), prices(1)
        for k in range(levels):
            ap, bp = (a[k] if k < len(a) else None), (b[k] if k < len(b) else None)
            cols += [str(ap * 100) if ap else str(ask_empty),
                     str(sum(q for _, q in book[-1][ap])) if ap else "0",
                     str(bp * 100) if bp else str(bid_empty),
                     str(sum(q for _, q in book[1][bp])) if bp else "0"]
        return ",".join(cols)

    def write(typ: int, oid: int, size: int, px: int, side: int) -> None:
        t[0] += 0.001
        msgs.append(f"{t[0]:.9f},{typ},{oid},{size},{px * 100},{side}")
        obs.append(row())

    for k in range(levels + 2):
        add(1, 10000 - 1 - 2 * k, 10 + k)
        add(-1, 10000 + 1 + 2 * k, 10 + k)
    for op, side, tick, size in ops:
        other = prices(-side)
        if op == 0:
            px = 10000 - side * tick
            if other and (px >= other[0] if side == 1 else px <= other[0]):
                px = other[0] - side
            visible = px in top(side) or len(top(side)) < levels or (
                px > top(side)[-1] if side == 1 else px < top(side)[-1])
            oid = add(side, px, size)
            if visible:
                write(1, oid, size, px, side)
        elif op == 1 and book[side]:
            ps = prices(side)
            px = ps[min(tick, len(ps) - 1)]
            oid, rest = book[side][px].pop(0)
            visible = px in top(side)
            if not book[side][px]:
                del book[side][px]
            if visible:
                write(3, oid, rest, px, side)
        elif op == 2 and book[side]:
            px = prices(side)[0]
            order = book[side][px][0]
            q = min(size, order[1])
            order[1] -= q
            if order[1] == 0:
                book[side][px].pop(0)
                if not book[side][px]:
                    del book[side][px]
            write(4, order[0], q, px, side)
        elif op == 3 and book[side]:
            px = prices(side)[0]
            order = book[side][px][0]
            if size < order[1]:
                order[1] -= size
                write(2, order[0], size, px, side)
    return msgs, obs
