"""load_tardis on the real Tardis sample and on handmade incremental_book_L2 files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qlib.book import bbo, replay_book
from qlib.data.sources import load
from qlib.data.tardis import load_tardis, tardis_kind
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import ParameterError
from qlib.instrument import Instrument

SET = "tardis-binance-futures-btcusdt-2020-02-22"

BOOK_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
T0 = 1_582_329_600_000_000  # 2020-02-22 00:00 UTC in microseconds, as Tardis writes


def _book_csv(tmp_path: Path, rows: list[str], name: str = "book.csv") -> Path:
    p = tmp_path / name
    p.write_text(BOOK_HEADER + "".join(r + "\n" for r in rows))
    return p


def _row(ts: int, loc: int, snap: bool, side: str, px: str, amt: str) -> str:
    """A book row; ``ts`` and ``loc`` are microseconds after :data:`T0`."""
    return (f"binance-futures,BTCUSDT,{T0 + ts},{T0 + loc},{'true' if snap else 'false'},{side},"
            f"{px},{amt}")


@pytest.fixture(scope="module")
def real(shared_data):
    return load_tardis(shared_data / SET)


@pytest.mark.realdata
def test_load_tardis_real_directory_counts_match_provenance(real):
    r = real.report
    assert r.rows_read == 19_998
    assert r.rows_by_kind == {"QUOTE": 19_998, "TRADE": 9_999}
    assert r.crossed_rows == 0 and r.locked_rows == 0 and r.out_of_order_rows == 0
    assert r.rows_dropped == 0
    tr = real.events[real.events["kind"] == EventKind.TRADE]
    assert np.count_nonzero(tr["side"] == Side.BUY) == 5267
    assert np.count_nonzero(tr["side"] == Side.SELL) == 4732
    assert tr["seq"][0] == 42377944 and np.all(np.diff(tr["seq"]) == 1)


@pytest.mark.realdata
def test_load_tardis_real_timestamps_are_ns_and_merged_in_order(real):
    ev = real.events
    assert ev["ts_exch"][0] == 1582329601096000 * 1000
    assert ev["ts_local"][0] == 1582329603502092 * 1000
    assert np.all(np.diff(ev["ts_exch"]) >= 0)
    assert real.report.ts_last == 1582337147728000 * 1000  # 02:05:47.728


@pytest.mark.realdata
def test_load_tardis_real_infers_2020_tick_and_quotes_pair_up(real):
    assert real.instrument.instrument_id == "BTCUSDT-PERP.BINANCE"
    assert real.instrument.tick_size == 0.01
    tick = [i for i in real.report.inferred if i.fact == "tick_size"]
    assert len(tick) == 1 and tick[0].value == 0.01 and "off the registry's tick" in tick[0].basis
    assert real.instrument.lot_size == 0.001 and real.instrument.taker_fee_bps == 5.0
    q = real.events[real.events["kind"] == EventKind.QUOTE]
    assert (q["side"][0::2] == Side.BUY).all() and (q["side"][1::2] == Side.SELL).all()
    assert (q["flags"][1::2] & EventFlag.LAST).all()
    assert real.instrument.to_price(q["px_tick"][:2]).tolist() == [9681.92, 9682.0]
    assert (q["px_tick"][0::2] < q["px_tick"][1::2]).all()


@pytest.mark.realdata
def test_load_tardis_explicit_kinds_equal_directory_load(shared_data, real):
    d = shared_data / SET
    md = load_tardis(trades=d / "tardis_trades.csv", quotes=d / "tardis_quotes.csv")
    np.testing.assert_array_equal(md.events, real.events)
    assert tardis_kind(d / "tardis_trades.csv") == "trades"
    assert load("tardis", d / "tardis_quotes.csv").report.rows_by_kind == {"QUOTE": 19_998}


@pytest.mark.realdata
def test_load_tardis_kind_given_under_wrong_name_raises(shared_data):
    with pytest.raises(ParameterError, match="trades"):
        load_tardis(quotes=shared_data / SET / "tardis_trades.csv")


def test_load_tardis_nothing_given_raises():
    with pytest.raises(ParameterError):
        load_tardis()


def test_load_tardis_book_snapshot_runs_become_clear_and_snapshot(tmp_path):
    rows = [
        _row(1000, 1100, True, "bid", "9680.0", "1.5"), _row(1000, 1100, True, "bid", "9679.5", "2"),
        _row(1000, 1100, True, "ask", "9680.5", "3"),
        _row(2000, 2100, False, "bid", "9680.0", "0"), _row(2000, 2100, False, "ask", "9680.1", "0.2"),
        _row(3000, 3100, False, "ask", "9680.1", "0"),
        _row(4000, 4100, True, "bid", "9700.0", "1"), _row(4000, 4100, True, "ask", "9701.0", "1"),
    ]
    md = load_tardis(_book_csv(tmp_path, rows))
    ev = md.events
    kinds = [EventKind(k).name for k in ev["kind"]]
    assert kinds == ["CLEAR", "SNAPSHOT", "SNAPSHOT", "SNAPSHOT", "DEPTH", "DEPTH", "DEPTH",
                     "CLEAR", "SNAPSHOT", "SNAPSHOT"]
    last = (ev["flags"] & EventFlag.LAST) != 0
    assert np.flatnonzero(last).tolist() == [3, 5, 6, 9]
    assert (ev["flags"][[0, 1, 7]] & EventFlag.SNAPSHOT).all()
    assert ev["ts_exch"][0] == (T0 + 1000) * 1000 and ev["ts_local"][4] == (T0 + 2100) * 1000
    df = bbo(md)
    assert df[["bid_px", "ask_px"]].values.tolist() == [[9680.0, 9680.5], [9679.5, 9680.1],
                                                         [9679.5, 9680.5], [9700.0, 9701.0]]
    assert md.report.crossed_rows == 0
    r = replay_book(ev)
    assert r.bid_levels[0].tolist() == [97000] and md.instrument.tick_size == 0.1


def test_load_tardis_book_crossed_update_is_counted(tmp_path):
    rows = [_row(1000, 1100, True, "bid", "100.0", "1"), _row(1000, 1100, True, "ask", "100.5", "1"),
            _row(2000, 2100, False, "bid", "100.6", "1")]
    md = load_tardis(_book_csv(tmp_path, rows), instrument=Instrument("X.Y", tick_size=0.1))
    assert md.report.crossed_rows == 1


def test_load_tardis_quote_with_empty_side_is_dropped_and_counted(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text("exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\n"
                 f"binance-futures,BTCUSDT,{T0 + 1000},{T0 + 1100},1.0,100.1,100.0,2.0\n"
                 f"binance-futures,BTCUSDT,{T0 + 2000},{T0 + 2100},,,100.0,2.0\n"
                 f"binance-futures,BTCUSDT,{T0 + 3000},{T0 + 3100},1.0,100.0,100.0,2.0\n")
    md = load_tardis(p)
    assert md.report.rows_by_kind == {"QUOTE": 5}
    assert md.report.drops["quote with an empty ask side"].count == 1
    assert md.report.drops["quote with an empty ask side"].examples == [(str(p), 1)]
    assert md.report.locked_rows == 1 and md.report.crossed_rows == 0


def test_load_tardis_exchange_timestamp_out_of_order_is_counted_and_merged(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
                 f"binance-futures,BTCUSDT,{T0 + 2000},{T0 + 3000},1,buy,100.1,1\n"
                 f"binance-futures,BTCUSDT,{T0 + 1000},{T0 + 3001},2,sell,100.0,1\n"
                 f"binance-futures,BTCUSDT,{T0 + 3000},{T0 + 3002},x7,unknown,100.0,1\n")
    md = load_tardis(p)
    assert md.report.out_of_order_rows == 1
    assert md.events["seq"].tolist() == [2, 1, -1]
    assert md.events["side"].tolist() == [Side.SELL, Side.BUY, Side.NONE]
