"""Tardis CSV quirks and malformed inputs, one case each, with the documented outcome.

Quirks a re-saved or downloaded file carries load to the same events as the plain
file; bad input raises a DataQualityError naming file, row (0-based data row),
field and value; countable oddities land in the report (drops, out-of-order rows).
See the "Data quirks" table of :func:`qlib.data.tardis.load_tardis`.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from qlib.data.tardis import load_tardis, tardis_instrument_id, tardis_kind
from qlib.enums import EventKind
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError

T0 = 1_582_329_600_000_000  # 2020-02-22 00:00 UTC, microseconds
TRADES_H = ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount"]
QUOTES_H = ["exchange", "symbol", "timestamp", "local_timestamp", "ask_amount", "ask_price",
            "bid_price", "bid_amount"]
SNAP_H = (["exchange", "symbol", "timestamp", "local_timestamp"]
          + [f"{s}[{i}].{f}" for i in range(2) for s in ("asks", "bids") for f in ("price", "amount")])


def trade_rows(n: int = 30) -> list[list[str]]:
    return [["binance-futures", "BTCUSDT", str(T0 + 1000 * i), str(T0 + 1000 * i + 150),
             str(500 + i), "buy" if i % 3 else "sell", f"{9680 + 0.37 * i:.2f}", f"{0.001 * (i + 1):.3f}"]
            for i in range(n)]


def csv_text(header: list[str], rows: list[list[str]], sep: str = "\n") -> str:
    return sep.join(",".join(r) for r in [header, *rows]) + sep


def write(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def good(tmp_path: Path, name: str = "good.csv") -> Path:
    return write(tmp_path, csv_text(TRADES_H, trade_rows()), name)


def with_cell(row: int, col: str, value: str, header=TRADES_H, rows=None) -> str:
    rows = [list(r) for r in (rows or trade_rows())]
    rows[row][header.index(col)] = value
    return csv_text(header, rows)


def assert_names(exc: DataQualityError, file: Path, row: int | None, field: str,
                 value: object = None) -> None:
    msg = str(exc)
    assert exc.file == str(file) and f"file {file}" in msg
    assert exc.field == field and repr(field) in msg
    if row is not None:
        assert exc.row == row and f"row {row}" in msg
    if value is not None:
        assert exc.value == value and str(value) in msg
    assert "np." not in msg


# ------------------------------------------------------------------ quirks that load
QUIRKS = [
    pytest.param(lambda t: gzip.compress(t.encode()), "t.csv.gz", id="gzip-csv-gz"),
    pytest.param(lambda t: gzip.compress(t.encode()), "t.csv", id="gzip-content-csv-name"),
    pytest.param(lambda t: t.encode(), "t.csv.gz", id="plain-content-gz-name"),
    pytest.param(lambda t: gzip.compress(t[:300].encode()) + gzip.compress(t[300:].encode()),
                 "t.csv.gz", id="gzip-two-members"),
    pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode(), "t.csv", id="utf8-bom"),
    pytest.param(lambda t: "\n".join(",".join(f'"{c}"' for c in ln.split(","))
                                     for ln in t.splitlines()).encode() + b"\n", "t.csv",
                 id="fully-quoted"),
    pytest.param(lambda t: t.replace("\n", "\r\n").encode(), "t.csv", id="crlf"),
    pytest.param(lambda t: b"\xef\xbb\xbf" + "\r\n".join(
        ",".join(f'"{c}"' for c in ln.split(",")) for ln in t.splitlines()).encode(),
        "t.csv", id="bom-quoted-crlf-no-final-newline"),
    pytest.param(lambda t: gzip.compress(b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode()),
                 "t.csv.gz", id="gzip-bom-crlf"),
]


@pytest.mark.parametrize(("transform", "name"), QUIRKS)
def test_load_tardis_quirk_loads_same_events_as_plain(tmp_path, transform, name):
    plain = load_tardis(good(tmp_path))
    p = write(tmp_path, transform(csv_text(TRADES_H, trade_rows())), name)
    md = load_tardis(p)
    assert md.events.tobytes() == plain.events.tobytes()
    assert md.instrument == plain.instrument
    assert tardis_kind(p) == "trades"


def test_load_tardis_extra_column_is_ignored_and_noted(tmp_path):
    plain = load_tardis(good(tmp_path))
    rows = [r[:6] + ["x"] + r[6:] for r in trade_rows()]
    p = write(tmp_path, csv_text(TRADES_H[:6] + ["venue_flag"] + TRADES_H[6:], rows))
    md = load_tardis(p)
    assert md.events.tobytes() == plain.events.tobytes()
    assert [n for n in md.report.notes if "venue_flag" in n] == [
        f"{p}: column(s) ['venue_flag'] are not part of the Tardis trades format and were ignored"]


def test_load_tardis_reordered_columns_load(tmp_path):
    plain = load_tardis(good(tmp_path))
    order = [7, 6, 5, 4, 3, 2, 1, 0]
    p = write(tmp_path, csv_text([TRADES_H[j] for j in order],
                                 [[r[j] for j in order] for r in trade_rows()]))
    assert load_tardis(p).events.tobytes() == plain.events.tobytes()


# ------------------------------------------------------------------ rows that do not parse
def test_load_tardis_row_with_missing_field_raises_naming_row(tmp_path):
    text = csv_text(TRADES_H, trade_rows()).splitlines()
    text[5] = text[5].rsplit(",", 1)[0]
    p = write(tmp_path, "\n".join(text) + "\n")
    with pytest.raises(DataQualityError, match="7 fields, the header 8") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 4, "amount")


def test_load_tardis_invalid_utf8_raises_naming_row_and_field(tmp_path):
    body = csv_text(TRADES_H, trade_rows()).encode().replace(b",sell,", b",s\xffll,", 1)
    p = write(tmp_path, body)
    with pytest.raises(DataQualityError, match="not valid UTF-8") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 0, "side")


def test_load_tardis_python_style_number_raises_naming_value(tmp_path):
    p = write(tmp_path, with_cell(3, "amount", "1_000"))
    with pytest.raises(DataQualityError, match="expected a number") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 3, "amount", "1_000")


@pytest.mark.parametrize(("col", "value"), [
    pytest.param("timestamp", "1582329600005000.0", id="timestamp-float-text"),
    pytest.param("local_timestamp", "+1582329600005150", id="timestamp-plus-sign"),
    pytest.param("price", "9,680.5", id="price-thousands-comma"),  # splits the row
])
def test_load_tardis_number_pyarrow_refuses_is_named(tmp_path, col, value):
    rows = trade_rows()
    rows[5][TRADES_H.index(col)] = f'"{value}"'
    p = write(tmp_path, csv_text(TRADES_H, rows))
    with pytest.raises(DataQualityError) as ei:
        load_tardis(p)
    assert_names(ei.value, p, 5, col)
    assert value in str(ei.value)


def test_load_tardis_truncated_gzip_raises_with_complete_rows(tmp_path):
    data = gzip.compress(csv_text(TRADES_H, trade_rows(3000)).encode())
    p = write(tmp_path, data[: len(data) // 2], "t.csv.gz")
    with pytest.raises(DataQualityError, match="corrupt or truncated") as ei:
        load_tardis(p)
    assert_names(ei.value, p, None, "gzip")
    assert 0 < ei.value.row < 3000


def test_load_tardis_gzip_trailing_garbage_raises(tmp_path):
    p = write(tmp_path, gzip.compress(csv_text(TRADES_H, trade_rows()).encode()) + b"garbage",
              "t.csv.gz")
    with pytest.raises(DataQualityError, match="corrupt or truncated") as ei:
        load_tardis(p)
    assert_names(ei.value, p, None, "gzip")


def test_load_tardis_empty_file_raises_on_header(tmp_path):
    p = write(tmp_path, b"")
    with pytest.raises(DataQualityError, match="not a Tardis") as ei:
        load_tardis(p)
    assert ei.value.file == str(p) and ei.value.row is None


def test_load_tardis_header_only_file_raises_no_rows(tmp_path):
    p = write(tmp_path, csv_text(TRADES_H, []))
    with pytest.raises(DataQualityError, match="no data rows") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 0, "timestamp")


# ------------------------------------------------------------------ timestamp units
@pytest.mark.parametrize(("col", "value", "unit"), [
    pytest.param("timestamp", str((T0 + 5000) // 1000), "milliseconds", id="timestamp-ms"),
    pytest.param("local_timestamp", str((T0 + 5150) // 1000), "milliseconds", id="local-ms"),
    pytest.param("timestamp", str(T0 // 1_000_000), "seconds", id="timestamp-s"),
    pytest.param("timestamp", str((T0 + 5000) * 1000), "nanoseconds", id="timestamp-ns"),
    pytest.param("timestamp", "0", "not a microsecond", id="timestamp-zero"),
])
def test_load_tardis_timestamp_in_other_unit_raises_naming_unit(tmp_path, col, value, unit):
    p = write(tmp_path, with_cell(5, col, value))
    with pytest.raises(DataQualityError, match=unit) as ei:
        load_tardis(p)
    assert_names(ei.value, p, 5, col, int(value))


def test_load_tardis_whole_file_in_milliseconds_raises_on_first_row(tmp_path):
    rows = [r[:2] + [str(int(r[2]) // 1000), str(int(r[3]) // 1000)] + r[4:] for r in trade_rows()]
    p = write(tmp_path, csv_text(TRADES_H, rows))
    with pytest.raises(DataQualityError, match="milliseconds") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 0, "timestamp", 1582329600000)


# ------------------------------------------------------------------ prices
@pytest.mark.parametrize(("value", "shown"), [
    pytest.param("0", "0.0", id="zero"), pytest.param("-9680.5", "-9680.5", id="negative"),
    pytest.param("nan", "nan", id="nan-text"), pytest.param("inf", "inf", id="inf-text"),
])
def test_load_tardis_trade_price_not_positive_finite_raises(tmp_path, value, shown):
    p = write(tmp_path, with_cell(7, "price", value))
    with pytest.raises(DataQualityError, match="expected a finite number > 0") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 7, "price")
    assert f"price was {shown}" in str(ei.value)


def test_load_tardis_quote_bid_price_zero_raises(tmp_path):
    rows = [["binance-futures", "BTCUSDT", str(T0 + i), str(T0 + i + 9), "1.5", f"{100.5 + i / 100:.2f}",
             f"{100.0 + i / 100:.2f}", "2"] for i in range(5)]
    rows[2][QUOTES_H.index("bid_price")] = "0"
    p = write(tmp_path, csv_text(QUOTES_H, rows))
    with pytest.raises(DataQualityError, match="bid_price was 0.0") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 2, "bid_price", 0.0)


def test_load_tardis_caller_tick_coarser_than_prices_raises_naming_row(tmp_path):
    p = good(tmp_path)
    with pytest.raises(DataQualityError, match="not a multiple of tick_size 0.1") as ei:
        load_tardis(p, instrument={"tick_size": 0.1})
    assert_names(ei.value, p, 1, "price", 9680.37)


def test_load_tardis_instrument_id_string_and_instrument_are_used_as_given(tmp_path):
    p = good(tmp_path)
    md = load_tardis(p, instrument="BTCUSDT.BINANCE")
    assert md.instrument.instrument_id == "BTCUSDT.BINANCE" and md.instrument.tick_size == 0.01
    with pytest.raises(ParameterError, match="NOPE.X"):
        load_tardis(p, instrument="NOPE.X")


# ------------------------------------------------------------------ symbols and exchanges
def test_load_tardis_two_symbols_raise_naming_both(tmp_path):
    p = write(tmp_path, with_cell(9, "symbol", "ETHUSDT"))
    with pytest.raises(DataQualityError, match="'BTCUSDT' to 'ETHUSDT'.*symbol=") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 9, "symbol", "ETHUSDT")


def test_load_tardis_symbol_selects_rows_and_counts_the_others(tmp_path):
    rows = trade_rows()
    for r in rows[::2]:
        r[1] = "ETHUSDT"
    p = write(tmp_path, csv_text(TRADES_H, rows))
    md = load_tardis(p, symbol="ethusdt")
    assert md.instrument.instrument_id == "ETHUSDT-PERP.BINANCE"
    assert md.report.rows_by_kind == {"TRADE": 15}
    drop = md.report.drops["row of another symbol than symbol='ethusdt' (BTCUSDT)"]
    assert drop.count == 15 and drop.examples == [(str(p), 1)]
    assert md.events["seq"].tolist() == [500 + i for i in range(0, 30, 2)]


def test_load_tardis_symbol_absent_raises(tmp_path):
    p = good(tmp_path)
    with pytest.raises(DataQualityError, match="no data rows of symbol 'SOLUSDT'"):
        load_tardis(p, symbol="SOLUSDT")


def test_load_tardis_two_exchanges_raise_naming_both(tmp_path):
    p = write(tmp_path, with_cell(4, "exchange", "bybit"))
    with pytest.raises(DataQualityError, match="'binance-futures' to 'bybit'") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 4, "exchange", "bybit")


def test_load_tardis_files_of_two_symbols_raise(tmp_path):
    a = good(tmp_path, "a.csv")
    rows = [["binance-futures", "ETHUSDT"] + r[2:] for r in trade_rows()]
    b = write(tmp_path, csv_text(TRADES_H, rows), "b.csv")
    with pytest.raises(DataQualityError, match="differs from") as ei:
        load_tardis([a, b])
    assert_names(ei.value, b, 0, "symbol", "ETHUSDT")


# ------------------------------------------------------------------ trade ids and order
def test_load_tardis_duplicated_trade_id_is_counted_and_dropped(tmp_path):
    rows = trade_rows()
    dup = [list(rows[4]), list(rows[10])]
    dup[1][4] = rows[9][4]  # same id as row 9, another print
    rows = rows[:5] + [dup[0]] + rows[5:11] + [dup[1]] + rows[11:]
    for r in rows[5:]:
        r[3] = str(int(r[3]) + 1)  # keep local time non-decreasing
    p = write(tmp_path, csv_text(TRADES_H, rows))
    md = load_tardis(p)
    d = md.report.drops["trade with the id of an earlier trade of the file (a repeated print)"]
    assert d.count == 2 and d.examples == [(str(p), 5)]
    assert md.report.rows_by_kind == {"TRADE": 30} and md.report.rows_read == 32
    assert md.events["seq"].tolist() == list(range(500, 530))


def test_load_tardis_duplicated_text_trade_id_is_dropped_but_empty_ids_are_not(tmp_path):
    rows = trade_rows(6)
    for r, i in zip(rows, ["a1", "", "b2", "a1", "", "c3"]):
        r[4] = i
    p = write(tmp_path, csv_text(TRADES_H, rows))
    md = load_tardis(p)
    assert md.report.rows_dropped == 1
    assert md.report.drops["trade with the id of an earlier trade of the file (a repeated print)"
                           ].examples == [(str(p), 3)]
    assert (md.events["seq"] == -1).all() and md.report.rows_by_kind == {"TRADE": 5}


def test_load_tardis_unsorted_exchange_timestamp_is_counted_and_merged(tmp_path):
    rows = trade_rows()
    rows[6][2] = str(int(rows[2][2]) - 1)
    p = write(tmp_path, csv_text(TRADES_H, rows))
    md = load_tardis(p)
    assert md.report.out_of_order_rows == 1
    assert np.all(np.diff(md.events["ts_exch"]) >= 0)
    assert md.events["seq"][2] == 506


def test_load_tardis_local_timestamp_backwards_raises(tmp_path):
    p = write(tmp_path, with_cell(12, "local_timestamp", str(T0)))
    with pytest.raises(DataQualityError, match="went backwards") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 12, "local_timestamp", T0)


# ------------------------------------------------------------------ book snapshots
def snap_rows() -> list[list[str]]:
    return [["deribit", "BTC-PERPETUAL", str(T0 + 10 * i), str(T0 + 10 * i + 3),
             f"{100.5 + i:.1f}", "10", f"{100.0 + i:.1f}", "20",
             f"{101.0 + i:.1f}", "30", f"{99.5 + i:.1f}", "40"] for i in range(6)]


def test_load_tardis_snapshot_row_becomes_clear_and_levels(tmp_path):
    rows = snap_rows()
    rows[3][8:10] = ["", ""]  # no second ask level on that row
    p = write(tmp_path, csv_text(SNAP_H, rows), "s.csv")
    assert tardis_kind(p) == "book_snapshot_2"
    md = load_tardis(p)
    assert md.instrument.instrument_id == "BTC-PERPETUAL.DERIBIT"
    kinds = [EventKind(k).name for k in md.events["kind"][:5]]
    assert kinds == ["CLEAR", "SNAPSHOT", "SNAPSHOT", "SNAPSHOT", "SNAPSHOT"]
    assert md.report.rows_by_kind == {"CLEAR": 6, "SNAPSHOT": 23}


def test_load_tardis_snapshot_crossed_and_locked_rows_are_dropped_and_counted(tmp_path):
    from qlib.book import bbo, count_crossed

    rows = snap_rows()
    rows[2][6] = rows[2][4]  # bids[0].price == asks[0].price: locked
    rows[4][10] = f"{float(rows[4][4]) + 0.5:.1f}"  # bids[1] above the best ask: crossed
    p = write(tmp_path, csv_text(SNAP_H, rows), "s.csv")
    md = load_tardis(p)
    drops = md.report.drops
    assert drops["book snapshot row crossed (best bid > best ask): the row is left out"
                 ].examples == [(str(p), 4)]
    assert drops["book snapshot row locked (best bid == best ask): the row is left out"
                 ].examples == [(str(p), 2)]
    assert md.report.rows_by_kind == {"CLEAR": 4, "SNAPSHOT": 16}
    assert (md.report.crossed_rows, md.report.locked_rows) == (0, 0)
    assert count_crossed(md.events) == (0, 0) and len(bbo(md)) == 4


def test_load_tardis_incremental_snapshot_run_crossed_raises_naming_first_row(tmp_path):
    hdr = ["exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side", "price",
           "amount"]
    rows = [["bitmex", "XBTUSD", str(T0 + i // 3), str(T0 + i // 3 + 5), s, side, px, "100"]
            for i, (s, side, px) in enumerate([
                ("true", "bid", "100.5"), ("true", "bid", "100.0"), ("true", "ask", "101.0"),
                ("false", "ask", "101.0"), ("false", "bid", "100.5"), ("false", "ask", "100.5"),
                ("true", "bid", "99.0"), ("true", "ask", "99.0"), ("true", "ask", "99.5")])]
    p = write(tmp_path, csv_text(hdr, rows), "b.csv")
    with pytest.raises(DataQualityError, match="crossed or locked") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 6, "price", 99.0)
    md = load_tardis(write(tmp_path, csv_text(hdr, rows[:6]), "ok.csv"))
    assert md.report.locked_rows == 1  # an update that locks the book is counted, not refused


def test_load_tardis_snapshot_level_half_empty_raises(tmp_path):
    rows = snap_rows()
    rows[4][9] = ""  # asks[1].amount empty, asks[1].price not
    p = write(tmp_path, csv_text(SNAP_H, rows), "s.csv")
    with pytest.raises(DataQualityError, match="a missing level has both cells empty") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 4, "asks[1].amount", "")


def test_load_tardis_snapshot_negative_price_raises(tmp_path):
    rows = snap_rows()
    rows[2][10] = "-99.5"
    p = write(tmp_path, csv_text(SNAP_H, rows), "s.csv")
    with pytest.raises(DataQualityError, match="expected a finite number > 0") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 2, "bids[1].price", -99.5)


def test_load_tardis_snapshot_zero_amount_level_is_counted_and_dropped(tmp_path):
    rows = snap_rows()
    rows[1][11] = "0"
    p = write(tmp_path, csv_text(SNAP_H, rows), "s.csv")
    md = load_tardis(p)
    d = md.report.drops["book snapshot level with a zero amount"]
    assert d.count == 1 and d.examples == [(str(p), 1)]
    assert md.report.rows_by_kind == {"CLEAR": 6, "SNAPSHOT": 23}


def test_load_tardis_snapshot_header_missing_level_column_raises(tmp_path):
    hdr = [c for c in SNAP_H if c != "bids[1].amount"]
    p = write(tmp_path, csv_text(hdr, [r[:-1] for r in snap_rows()]), "s.csv")
    with pytest.raises(DataQualityError, match="lacks") as ei:
        load_tardis(p)
    assert ei.value.field == "bids[1].amount" and ei.value.row is None


# ------------------------------------------------------------------ other Tardis kinds
def test_load_tardis_liquidations_file_skipped_in_directory_refused_explicitly(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    good(d, "binance-futures_trades_2020-02-22_BTCUSDT.csv")
    liq = good(d, "binance-futures_liquidations_2020-02-22_BTCUSDT.csv")
    md = load_tardis(d)
    assert md.report.rows_read == 30 and len(md.report.files) == 1
    assert any("liquidations" in n and str(liq) in n for n in md.report.notes)
    with pytest.raises(ParameterError, match="liquidations"):
        load_tardis(liq)


def test_load_tardis_derivative_ticker_skipped_in_directory_refused_explicitly(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    good(d, "trades.csv")
    tick = write(d, "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,"
                    "predicted_funding_rate,open_interest,last_price,index_price,mark_price\n"
                    f"binance-futures,BTCUSDT,{T0},{T0 + 5},,0.0001,,,9680.1,9680.0,9680.2\n",
                 "ticker.csv")
    md = load_tardis(d)
    assert any("unsupported kind" in n and str(tick) in n for n in md.report.notes)
    with pytest.raises(DataQualityError, match="not a Tardis"):
        load_tardis(tick)


def test_load_tardis_directory_without_csv_raises_not_found(tmp_path):
    write(tmp_path, "x", "readme.txt")
    with pytest.raises(DataNotFoundError, match="csv.gz"):
        load_tardis(tmp_path)


def test_tardis_instrument_id_rules():
    assert tardis_instrument_id("binance", "btcusdt") == ("BTCUSDT.BINANCE", "BINANCE", "spot")
    assert tardis_instrument_id("binance-futures", "BTCUSDT_210326")[0] == "BTCUSDT_210326.BINANCE"
    assert tardis_instrument_id("binance-delivery", "BTCUSD_PERP") == (
        "BTCUSD_PERP.BINANCE", "BINANCE", "coinm")
    assert tardis_instrument_id("okex", "BTC-USDT") == ("BTC-USDT.OKX", "OKX", None)
    assert tardis_instrument_id("huobi-dm-swap", "BTC-USD")[0] == "BTC-USD.HUOBI_DM_SWAP"
    assert tardis_instrument_id("kraken", "XBT.USD")[0] == "XBT_USD.KRAKEN"
