"""Builders of small LOBSTER and Databento inputs for the loader tests (not a test module).

Used by test_lobster.py, test_databento.py and test_malformed_lobster_databento.py;
pytest puts this directory on sys.path, so they import it by name.
"""

from __future__ import annotations

import math
from pathlib import Path

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


def lobster_name(part: str, *, ticker: str = "TEST", date: str | None = LOBSTER_DATE,
                 levels: int = 1) -> str:
    """LOBSTER file name for ``part`` in ('message', 'orderbook')."""
    d = f"{date}_" if date else ""
    return f"{ticker}_{d}34200000_57600000_{part}_{levels}.csv"


def write_lobster(directory: Path, messages: list[str] | None = None,
                  orderbook: list[str] | None = None, *, levels: int = 1,
                  date: str | None = LOBSTER_DATE, ticker: str = "TEST",
                  write_orderbook: bool = True) -> Path:
    """Write a message (and orderbook) CSV pair into ``directory``; return the message path."""
    directory.mkdir(parents=True, exist_ok=True)
    messages = BASE_MESSAGES if messages is None else messages
    orderbook = BASE_ORDERBOOK if orderbook is None else orderbook
    msg = directory / lobster_name("message", ticker=ticker, date=date, levels=levels)
    msg.write_text("".join(line + "\n" for line in messages))
    if write_orderbook:
        ob = directory / lobster_name("orderbook", ticker=ticker, date=date, levels=levels)
        ob.write_text("".join(line + "\n" for line in orderbook))
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
              start: int = 1_703_462_400_000_000_000) -> bytes:
    """Metadata header + records, uncompressed DBN."""
    meta = dbn.Metadata(dataset="GLBX.MDP3", schema=dbn.Schema.MBO, start=start,
                        stype_in=dbn.SType.RAW_SYMBOL, stype_out=dbn.SType.INSTRUMENT_ID,
                        symbols=list(symbols), end=start + 86_400_000_000_000)
    return bytes(meta.encode()) + b"".join(records)


def write_dbn(path: Path, records: list[bytes], *, compress: bool = True, **kw) -> Path:
    """Write a (zstd-compressed) DBN MBO file."""
    data = dbn_bytes(records, **kw)
    path.write_bytes(zstandard.ZstdCompressor(write_checksum=True).compress(data) if compress
                     else data)
    return path


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
