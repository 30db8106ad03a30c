"""Malformed inputs for load_binance and load_tardis, generated in tmp_path.

Each case asserts the error class and that the message names file, row and field.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from qlib.data.binance import load_binance
from qlib.data.tardis import load_tardis
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError

T0 = 1_723_161_254_000_000_000  # local ns
E0 = 1_723_161_255_270  # exchange ms


def snapshot(last_id=100, bids=(("100.00", "1.0"),), asks=(("100.05", "1.0"),)) -> dict:
    return {"lastUpdateId": last_id, "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}


def diff(U, u, b=(("100.01", "2.0"),), a=(), sym="btcusdt", E=E0) -> dict:
    return {"stream": f"{sym}@depth@100ms", "data": {"e": "depthUpdate", "E": E, "s": sym.upper(),
            "U": U, "u": u, "b": [list(x) for x in b], "a": [list(x) for x in a]}}


def trade(t=1, p="100.01", q="0.5", m=True) -> dict:
    return {"stream": "btcusdt@trade", "data": {"e": "trade", "E": E0, "s": "BTCUSDT", "t": t,
            "p": p, "q": q, "T": E0, "m": m, "M": True}}


def ticker(u=102, b="100.01", a="100.05") -> dict:
    return {"stream": "btcusdt@bookTicker", "data": {"u": u, "s": "BTCUSDT", "b": b, "B": "2.0",
            "a": a, "A": "1.0"}}


def good_session() -> list:
    return [diff(95, 99), snapshot(100), diff(100, 103), trade(), ticker(104),
            diff(104, 106, b=(("100.02", "1.0"),), a=(("100.05", "0"), ("100.04", "3.0")))]


def write(tmp_path: Path, msgs: list, name="btcusdt_20240808.gz", raw_lines=None) -> Path:
    lines = raw_lines if raw_lines is not None else [
        f"{T0 + i * 1_000_000} ".encode() + orjson.dumps(m) for i, m in enumerate(msgs)]
    p = tmp_path / name
    p.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return p


def assert_names(exc: DataQualityError, file: Path, row: int | None, field: str) -> None:
    msg = str(exc)
    assert exc.file == str(file) and f"file {file}" in msg
    assert exc.field == field and repr(field) in msg
    if row is not None:
        assert exc.row == row and f"row {row}" in msg


def test_load_binance_synthetic_good_session_loads(tmp_path):
    md = load_binance(write(tmp_path, good_session()))
    r = md.report
    assert r.gaps == [] and r.crossed_rows == 0 and r.rows_dropped == 1
    assert r.rows_by_kind == {"CLEAR": 1, "SNAPSHOT": 2, "DEPTH": 4, "TRADE": 1, "QUOTE": 2}
    assert md.instrument.instrument_id == "BTCUSDT.BINANCE"


def test_load_binance_not_gzip_raises_naming_file(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(b"hello world\n")
    with pytest.raises(DataQualityError) as ei:
        load_binance(p)
    assert_names(ei.value, p, 0, "gzip")


def test_load_binance_corrupt_gzip_raises_with_complete_line_count(tmp_path):
    # a cut gzip stream is a file still being written (test_malformed_binance_quirks.py);
    # damaged deflate data is corrupt
    p = write(tmp_path, good_session() * 50)
    data = bytearray(p.read_bytes())
    data[len(data) // 2:len(data) // 2 + 64] = b"\xff" * 64
    p.write_bytes(bytes(data))
    with pytest.raises(DataQualityError, match="corrupt") as ei:
        load_binance(p)
    assert_names(ei.value, p, None, "gzip")
    assert ei.value.row >= 0


def test_load_binance_truncated_json_line_raises(tmp_path):
    lines = [f"{T0 + i} ".encode() + orjson.dumps(m) for i, m in enumerate(good_session())]
    lines[2] = lines[2][:-10]
    p = write(tmp_path, [], raw_lines=lines)
    with pytest.raises(DataQualityError, match="invalid JSON") as ei:
        load_binance(p)
    assert_names(ei.value, p, 2, "json")


def test_load_binance_line_without_timestamp_raises(tmp_path):
    lines = [f"{T0 + i} ".encode() + orjson.dumps(m) for i, m in enumerate(good_session())]
    lines[3] = orjson.dumps(trade())
    p = write(tmp_path, [], raw_lines=lines)
    with pytest.raises(DataQualityError, match="local_ts_ns") as ei:
        load_binance(p)
    assert_names(ei.value, p, 3, "local_ts")


def test_load_binance_non_numeric_price_raises(tmp_path):
    msgs = good_session()
    msgs[2] = diff(100, 103, b=(("abc", "2.0"),))
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="abc") as ei:
        load_binance(p)
    assert_names(ei.value, p, 2, "b")


def test_load_binance_non_numeric_trade_price_raises(tmp_path):
    msgs = good_session()
    msgs[3] = trade(p="1O0.01")
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="1O0.01") as ei:
        load_binance(p)
    assert_names(ei.value, p, 3, "p")


def test_load_binance_missing_field_raises(tmp_path):
    msgs = good_session()
    del msgs[4]["data"]["u"]
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="missing") as ei:
        load_binance(p)
    assert_names(ei.value, p, 4, "u")


def test_load_binance_files_out_of_date_order_raise(tmp_path):
    a = write(tmp_path, good_session(), "btcusdt_20240808.gz")
    later = [diff(107, 110)]
    lines = [f"{T0 - 10} ".encode() + orjson.dumps(later[0])]
    b = write(tmp_path, [], "btcusdt_20240809.gz", raw_lines=lines)
    with pytest.raises(DataQualityError, match="date order") as ei:
        load_binance([a, b])
    assert_names(ei.value, b, 0, "local_ts")


def test_load_binance_missing_file_raises_not_found(tmp_path):
    with pytest.raises(DataNotFoundError, match="nope.gz"):
        load_binance(tmp_path / "nope.gz")
    with pytest.raises(DataNotFoundError):
        load_binance(tmp_path)  # empty directory


def test_load_binance_unknown_stream_raises(tmp_path):
    msgs = good_session()
    msgs[3] = {"stream": "btcusdt@markPrice", "data": {"p": "1"}}
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="markPrice") as ei:
        load_binance(p)
    assert_names(ei.value, p, 3, "stream")


def test_load_binance_second_symbol_raises(tmp_path):
    msgs = good_session()
    msgs[5] = diff(104, 106, sym="ethusdt")
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="ETHUSDT") as ei:
        load_binance(p)
    assert_names(ei.value, p, 5, "stream")


def test_load_binance_sequence_gap_is_reported_not_raised(tmp_path):
    msgs = good_session()
    msgs[5] = diff(105, 106)  # spot rule: U must be previous u + 1 = 104
    p = write(tmp_path, msgs)
    md = load_binance(p)
    assert len(md.report.gaps) == 1
    g = md.report.gaps[0]
    assert (g.file, g.row, g.field, g.expected, g.was) == (str(p), 5, "U", 104, 105)
    assert any("on_gap='mark'" in n for n in md.report.notes)
    with pytest.raises(DataQualityError, match="sequence gap") as ei:
        load_binance(p, on_gap="raise")
    assert_names(ei.value, p, 5, "U")


def test_load_binance_snapshot_not_bridged_is_a_gap(tmp_path):
    msgs = [snapshot(100), diff(103, 105), diff(106, 107)]  # first applied must have U <= 101
    md = load_binance(write(tmp_path, msgs))
    assert [(g.field, g.expected, g.was) for g in md.report.gaps] == [("U", 101, 103)]


def test_load_binance_negative_qty_raises(tmp_path):
    msgs = good_session()
    msgs[2] = diff(100, 103, b=(("100.01", "-2.0"),))
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="-2.0") as ei:
        load_binance(p)
    assert_names(ei.value, p, 2, "b/a qty")


def test_load_binance_off_grid_price_raises(tmp_path):
    from qlib.instrument import Instrument
    msgs = good_session()
    msgs[2] = diff(100, 103, b=(("100.015", "2.0"),))
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="tick_size") as ei:
        load_binance(p, instrument=Instrument("BTCUSDT.BINANCE", tick_size=0.01))
    assert_names(ei.value, p, 2, "b/a price")
    # with no instrument, prices off the registry's tick make the loader use their grid
    md = load_binance(p)
    assert md.instrument.tick_size == 0.001
    assert any(i.fact == "tick_size" and "off the registry" in i.basis for i in md.report.inferred)


def test_load_binance_crossed_snapshot_raises(tmp_path):
    msgs = good_session()
    msgs[1] = snapshot(100, bids=(("100.10", "1"),), asks=(("100.05", "1"),))
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="crossed") as ei:
        load_binance(p)
    assert_names(ei.value, p, 1, "bids/asks")


def test_load_binance_gzip_members_and_zero_padding_load_as_one_stream(tmp_path):
    lines = [f"{T0 + i * 1_000_000} ".encode() + orjson.dumps(m) for i, m in enumerate(good_session())]
    one = write(tmp_path, good_session(), "one.gz")
    two = tmp_path / "two.gz"
    two.write_bytes(gzip.compress(b"\n".join(lines[:3]) + b"\n") + b"\0" * 10
                    + gzip.compress(b"\n".join(lines[3:]) + b"\n"))
    a, b = load_binance(one), load_binance(two)
    assert a.events.tobytes() == b.events.tobytes()
    bad = tmp_path / "bad.gz"
    bad.write_bytes(two.read_bytes() + b"xyz")
    with pytest.raises(DataQualityError, match="trailing garbage") as ei:
        load_binance(bad)
    assert_names(ei.value, bad, len(lines), "gzip")


def test_load_binance_irregular_but_valid_json_equals_compact(tmp_path):
    import json
    compact = load_binance(write(tmp_path, good_session(), "a.gz"))
    def loose_json(m: dict) -> bytes:  # spaces after separators, fields in reverse order
        if "stream" not in m:
            return json.dumps(m).encode()
        data = json.dumps(dict(reversed(m["data"].items())))
        return f'{{"stream":"{m["stream"]}","data":{data}}}'.encode()
    loose = [f"{T0 + i * 1_000_000} ".encode() + loose_json(m) for i, m in enumerate(good_session())]
    md = load_binance(write(tmp_path, [], "b.gz", raw_lines=loose))
    assert md.events.tobytes() == compact.events.tobytes()
    assert [n.replace("b.gz", "a.gz") for n in md.report.notes] == compact.report.notes


def futures_session(pu_first=True) -> list:
    snap = {"lastUpdateId": 100, "E": E0, "T": E0, "bids": [["100.00", "1.0"]],
            "asks": [["100.05", "1.0"]]}
    d1 = diff(95, 103, sym="btcusdt")
    d1["data"]["pu"] = 94
    d2 = diff(104, 106, sym="btcusdt")
    d2["data"]["pu"] = 103
    return [snap, d1, d2] if pu_first else [snap, d2, d1]


def test_load_binance_futures_diff_without_pu_raises(tmp_path):
    msgs = futures_session()
    del msgs[2]["data"]["pu"]
    p = write(tmp_path, msgs)
    with pytest.raises(DataQualityError, match="missing") as ei:
        load_binance(p)
    assert_names(ei.value, p, 2, "pu")


def test_load_binance_bad_pu_raises_on_futures_and_is_ignored_on_spot(tmp_path):
    msgs = futures_session()
    msgs[2]["data"]["pu"] = "x"
    p = write(tmp_path, msgs, "f.gz")
    with pytest.raises(DataQualityError, match="'x'") as ei:
        load_binance(p)
    assert_names(ei.value, p, 2, "pu")
    spot = good_session()
    spot[2]["data"]["pu"] = "x"  # spot never reads pu; it is not the first diff either
    md = load_binance(write(tmp_path, spot, "s.gz"))
    assert md.report.gaps == [] and md.instrument.instrument_id == "BTCUSDT.BINANCE"


def test_load_binance_bad_parameters_raise(tmp_path):
    p = write(tmp_path, good_session())
    with pytest.raises(ParameterError, match="on_gap"):
        load_binance(p, on_gap="ignore")
    with pytest.raises(ParameterError):
        load_binance([])


# ------------------------------------------------------------------------------ Tardis
TRADES = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"


def tcsv(tmp_path: Path, body: str, header: str = TRADES, name="t.csv") -> Path:
    p = tmp_path / name
    p.write_text(header + body)
    return p


TT = 1_582_329_600_000_000  # 2020-02-22 00:00 UTC in microseconds, as Tardis writes
GOOD = (f"binance-futures,BTCUSDT,{TT + 1000},{TT + 1100},1,buy,100.1,1\n"
        f"binance-futures,BTCUSDT,{TT + 2000},{TT + 2100},2,sell,100.0,0.5\n"
        f"binance-futures,BTCUSDT,{TT + 3000},{TT + 3100},3,sell,100.0,0.5\n")


def test_load_tardis_missing_column_raises(tmp_path):
    p = tcsv(tmp_path, f"binance-futures,BTCUSDT,{TT + 1000},{TT + 1100},1,buy,100.1\n",
             header="exchange,symbol,timestamp,local_timestamp,id,side,price\n")
    with pytest.raises(DataQualityError, match="missing \\['amount'\\]") as ei:
        load_tardis(p)
    assert_names(ei.value, p, None, "amount")
    assert "header" in str(ei.value)


def test_load_tardis_non_numeric_amount_raises(tmp_path):
    p = tcsv(tmp_path, GOOD.replace("0.5\n", "half\n", 1))
    with pytest.raises(DataQualityError, match="half") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 1, "amount")


def test_load_tardis_non_numeric_timestamp_raises(tmp_path):
    p = tcsv(tmp_path, GOOD.replace(f",{TT + 3000},", ",3e3x,"))
    with pytest.raises(DataQualityError, match="3e3x") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 2, "timestamp")


def test_load_tardis_unsorted_local_timestamp_raises(tmp_path):
    p = tcsv(tmp_path, GOOD.replace(f",{TT + 3100},", f",{TT + 1050},"))
    with pytest.raises(DataQualityError, match="backwards") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 2, "local_timestamp")


def test_load_tardis_unknown_side_raises(tmp_path):
    p = tcsv(tmp_path, GOOD.replace("sell", "short", 1))
    with pytest.raises(DataQualityError, match="short") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 1, "side")


def test_load_tardis_empty_cell_raises(tmp_path):
    p = tcsv(tmp_path, GOOD.replace(",100.0,0.5", ",,0.5", 1))
    with pytest.raises(DataQualityError, match="empty") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 1, "price")


def test_load_tardis_negative_amount_raises(tmp_path):
    p = tcsv(tmp_path, GOOD.replace(",0.5\n", ",-0.5\n", 1))
    with pytest.raises(DataQualityError, match="-0.5") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 1, "amount")


def test_load_tardis_two_symbols_raise(tmp_path):
    p = tcsv(tmp_path, GOOD.replace(f"BTCUSDT,{TT + 3000}", f"ETHUSDT,{TT + 3000}"))
    with pytest.raises(DataQualityError, match="ETHUSDT") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 2, "symbol")


def test_load_tardis_bad_is_snapshot_raises(tmp_path):
    header = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
    p = tcsv(tmp_path, f"binance-futures,BTCUSDT,{TT + 1000},{TT + 1100},maybe,bid,100.0,1\n",
             header=header)
    with pytest.raises(DataQualityError, match="maybe") as ei:
        load_tardis(p)
    assert_names(ei.value, p, 0, "is_snapshot")


def test_load_tardis_missing_file_or_empty_dir_raises_not_found(tmp_path):
    with pytest.raises(DataNotFoundError):
        load_tardis(tmp_path / "nope.csv")
    with pytest.raises(DataNotFoundError):
        load_tardis(tmp_path)
