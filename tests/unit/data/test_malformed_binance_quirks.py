"""Quirks and bad input of Binance recorder files: each case asserts its documented outcome.

The outcomes are listed in the "Data quirks" section of :func:`qlib.data.binance.load_binance`:
raise (DataQualityError naming file, row, field and value), count-and-keep
(``report.kept``) or count-and-drop (``report.drops``). Files are written in tmp_path.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import orjson
import pytest

from qlib.data._binance_io import BLANK_LINE, LOCAL_BACKWARDS, TORN_LAST_LINE, TRUNCATED_GZIP
from qlib.data.binance import load_binance
from qlib.enums import EventKind
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument

T0 = 1_723_161_254_000_000_000  # local ns
E0 = 1_723_161_255_270  # exchange ms


def snapshot(last_id=100, bids=(("100.00", "1.0"),), asks=(("100.05", "1.0"),)) -> dict:
    return {"lastUpdateId": last_id, "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}


def diff(U, u, b=(("100.01", "2.0"),), a=()) -> dict:
    return {"stream": "btcusdt@depth@100ms", "data": {"e": "depthUpdate", "E": E0, "s": "BTCUSDT",
            "U": U, "u": u, "b": [list(x) for x in b], "a": [list(x) for x in a]}}


def trade(t=1, p="100.01", q="0.5", m=True) -> dict:
    return {"stream": "btcusdt@trade", "data": {"e": "trade", "E": E0, "s": "BTCUSDT", "t": t,
            "p": p, "q": q, "T": E0, "m": m, "M": True}}


def ticker(u=104, b="100.01", a="100.05") -> dict:
    return {"stream": "btcusdt@bookTicker", "data": {"u": u, "s": "BTCUSDT", "b": b, "B": "2.0",
            "a": a, "A": "1.0"}}


def session() -> list:
    return [diff(95, 99), snapshot(100), diff(100, 103), trade(1), ticker(104),
            diff(104, 106, b=(("100.02", "1.0"),), a=(("100.05", "0"), ("100.04", "3.0"))),
            trade(2, p="100.02")]


def lines_of(msgs: list) -> list[bytes]:
    return [f"{T0 + i * 1_000_000} ".encode() + orjson.dumps(m) for i, m in enumerate(msgs)]


def write(tmp_path: Path, lines: list[bytes], name="btcusdt_20240808.gz", newline=True,
          compress=True) -> Path:
    text = b"\n".join(lines) + (b"\n" if newline else b"")
    p = tmp_path / name
    p.write_bytes(gzip.compress(text) if compress else text)
    return p


def assert_names(exc: DataQualityError, file: Path, row: int, field: str, value_text: str) -> None:
    msg = str(exc)
    assert exc.file == str(file) and exc.row == row and exc.field == field
    assert f"file {file}" in msg and f"row {row}" in msg and repr(field) in msg
    assert value_text in msg
    assert "np." not in msg and "numpy" not in msg  # plain values, no numpy reprs


def load_raising(p: Path, **kw) -> DataQualityError:
    with pytest.raises(DataQualityError) as ei:
        load_binance(p, **kw)
    return ei.value


def reference(tmp_path: Path) -> np.ndarray:
    return load_binance(write(tmp_path, lines_of(session()), "ref.gz")).events


# ---------------------------------------------------------------------- prices and quantities
@pytest.mark.parametrize("msg_row, msg, field, text", [
    pytest.param(2, diff(100, 103, b=(("0", "2.0"),)), "b/a price", "price was 0.0", id="depth-price-zero"),
    pytest.param(2, diff(100, 103, b=(("0.00000000", "2.0"),)), "b/a price", "price was 0.0",
                 id="depth-price-zero-decimals"),
    pytest.param(2, diff(100, 103, a=(("-100.05", "2.0"),)), "b/a price", "price was -100.05",
                 id="depth-price-negative"),
    pytest.param(3, trade(p="0.00"), "p", "price was 0.0", id="trade-price-zero"),
    pytest.param(4, ticker(b="0.00"), "b", "price was 0.0", id="ticker-price-zero"),
])
def test_load_binance_non_positive_price_raises(tmp_path, msg_row, msg, field, text):
    msgs = session()
    msgs[msg_row] = msg
    p = write(tmp_path, lines_of(msgs))
    exc = load_raising(p)
    assert_names(exc, p, msg_row, field, text)
    assert "expected a number > 0" in str(exc)


@pytest.mark.parametrize("given", [False, True], ids=["inferred-instrument", "given-instrument"])
@pytest.mark.parametrize("msg_row, msg, field", [
    pytest.param(3, trade(p="1e300"), "p", id="trade"),
    pytest.param(2, diff(100, 103, b=(("1e300", "2.0"),)), "b/a price", id="depth"),
    pytest.param(2, diff(100, 103, b=(("1" + "0" * 300, "2.0"),)), "b/a price", id="depth-301-digits"),
])
def test_load_binance_huge_price_overflow_raises(tmp_path, msg_row, msg, field, given):
    msgs = session()
    msgs[msg_row] = msg
    p = write(tmp_path, lines_of(msgs))
    inst = Instrument("BTCUSDT.BINANCE", tick_size=0.01) if given else None
    exc = load_raising(p, instrument=inst)
    assert_names(exc, p, msg_row, field, "price was 1e+300")
    assert "overflow" in str(exc) and exc.value == 1e300


@pytest.mark.parametrize("msg_row, msg, field, text", [
    pytest.param(2, diff(100, 103, b=(("NaN", "2.0"),)), "b/a price", "price was nan", id="depth-price-nan"),
    pytest.param(2, diff(100, 103, b=(("Infinity", "2.0"),)), "b/a price", "price was inf", id="depth-price-inf"),
    pytest.param(3, trade(p="nan"), "p", "price was nan", id="trade-price-nan"),
    pytest.param(4, ticker(a="-inf"), "a", "price was -inf", id="ticker-price-minus-inf"),
    pytest.param(2, diff(100, 103, b=(("100.01", "NaN"),)), "b/a qty", "quantity was nan", id="depth-qty-nan"),
    pytest.param(3, trade(q="inf"), "q", "quantity was inf", id="trade-qty-inf"),
])
def test_load_binance_non_finite_value_raises_without_numpy_repr(tmp_path, msg_row, msg, field, text):
    msgs = session()
    msgs[msg_row] = msg
    p = write(tmp_path, lines_of(msgs))
    exc = load_raising(p)
    assert_names(exc, p, msg_row, field, text)
    assert "empty" not in str(exc)


def test_load_binance_crossed_snapshot_message_has_plain_values(tmp_path):
    msgs = session()
    msgs[1] = snapshot(100, bids=(("100.10", "1"),), asks=(("100.05", "1"),))
    p = write(tmp_path, lines_of(msgs))
    exc = load_raising(p)
    assert_names(exc, p, 1, "bids/asks", "best bid 100.1 >= best ask 100.05")
    assert exc.value == (100.1, 100.05)


# ---------------------------------------------------------------------- trades
@pytest.mark.parametrize("value", ['"yes"', "1", '"true"', "null"])
def test_load_binance_trade_m_not_json_bool_raises(tmp_path, value):
    lines = lines_of(session())
    lines[3] = lines[3].replace(b'"m":true', b'"m":' + value.encode())
    p = write(tmp_path, lines)
    exc = load_raising(p)
    assert_names(exc, p, 3, "m", f"field 'm' was {orjson.loads(value)!r}")
    assert "true or false" in str(exc)


def test_load_binance_duplicated_trade_id_is_counted_and_dropped(tmp_path):
    msgs = session()
    msgs.insert(4, trade(1))  # the same trade id 1 again (a recorder reconnect replays it)
    msgs.append(trade(1))
    md = load_binance(write(tmp_path, lines_of(msgs)))
    (drop,) = [d for d in md.report.drops.values() if "duplicate trade id" in d.reason]
    assert drop.count == 2 and [r for _, r in drop.examples] == [4, 8]
    tr = md.events[md.events["kind"] == EventKind.TRADE]
    assert tr["seq"].tolist() == [1, 2]
    ref = reference(tmp_path)
    cols = ["kind", "side", "px_tick", "qty", "seq"]  # the inserted lines shift the times
    np.testing.assert_array_equal(md.events[cols], ref[cols])


# ---------------------------------------------------------------------- lines
@pytest.mark.parametrize("cut", [
    pytest.param(lambda ln: ln[:ln.index(b'"q":"0.5') + 7], id="mid-number"),  # "q":"0.  (like "0.07 cut)
    pytest.param(lambda ln: ln[:ln.index(b'"q":"0.5') + 8], id="number-without-quote"),
    pytest.param(lambda ln: ln[:-1], id="last-brace"),
    pytest.param(lambda ln: ln[:12], id="mid-timestamp"),
    pytest.param(lambda ln: ln[:ln.index(b" ") + 1], id="after-timestamp"),
    pytest.param(lambda ln: ln[:ln.index(b" ") + 5], id="mid-wrapper"),
])
def test_load_binance_torn_last_line_is_counted_and_dropped(tmp_path, cut):
    lines = lines_of(session())
    full = lines[-1]
    lines[-1] = cut(full)
    md = load_binance(write(tmp_path, lines, newline=False))
    assert md.report.drops[TORN_LAST_LINE].count == 1
    assert md.report.drops[TORN_LAST_LINE].examples == [(str(tmp_path / "btcusdt_20240808.gz"), 6)]
    ref = load_binance(write(tmp_path, lines_of(session()[:-1]), "ref.gz")).events
    np.testing.assert_array_equal(md.events, ref)


def test_load_binance_complete_last_line_without_newline_is_read(tmp_path):
    md = load_binance(write(tmp_path, lines_of(session()), newline=False))
    assert md.report.drops.keys() == {"diff before the REST snapshot (u <= lastUpdateId)"}
    np.testing.assert_array_equal(md.events, reference(tmp_path))


def test_load_binance_torn_line_in_the_middle_raises(tmp_path):
    lines = lines_of(session())
    lines[3] = lines[3][:lines[3].index(b'"q":"0.5') + 7]
    p = write(tmp_path, lines)
    exc = load_raising(p)
    assert_names(exc, p, 3, "json", "invalid JSON")


def test_load_binance_torn_last_line_with_a_final_newline_raises(tmp_path):
    lines = lines_of(session())
    lines[-1] = lines[-1][:-5]  # a line break after it: written whole, so it is malformed
    p = write(tmp_path, lines)
    assert_names(load_raising(p), p, 6, "json", "invalid JSON")


def test_load_binance_garbage_last_line_without_newline_raises(tmp_path):
    lines = lines_of(session()) + [b"hello"]  # not the beginning of any recorder line
    p = write(tmp_path, lines, newline=False)
    assert_names(load_raising(p), p, 7, "local_ts", "does not start with")


def test_load_binance_gzip_stream_cut_while_written_loads_complete_lines(tmp_path):
    lines = lines_of(session() + [trade(t) for t in range(3, 2000)])
    p = write(tmp_path, lines)
    data = p.read_bytes()
    p.write_bytes(data[:len(data) * 2 // 3])  # no gzip trailer: the recorder is still writing
    md = load_binance(p)
    kept = md.report.kept[TRUNCATED_GZIP]
    assert kept.count == 1
    n_trades = int((md.events["kind"] == EventKind.TRADE).sum())
    assert 100 < n_trades < 2000
    complete = kept.examples[0][1]  # complete lines read: the torn one after them is dropped
    assert md.report.drops[TORN_LAST_LINE].examples == [(str(p), complete)]
    assert n_trades == complete - 5  # lines 3 and 6 and the trades after line 6 are trades


def test_load_binance_local_time_backwards_is_counted_and_kept(tmp_path):
    lines = lines_of(session())
    lines[4] = f"{T0 + 2_500_000} ".encode() + lines[4].split(b" ", 1)[1]  # line 3 is at T0 + 3 ms
    md = load_binance(write(tmp_path, lines))
    k = md.report.kept[LOCAL_BACKWARDS]
    assert k.count == 1 and k.examples[0][1] == 4
    q = md.events[md.events["kind"] == EventKind.QUOTE]
    assert (q["ts_local"] == T0 + 2_500_000).all()
    assert len(md.events) == len(reference(tmp_path))


def test_load_binance_local_time_backwards_on_the_fast_path_is_counted_once(tmp_path):
    # every regular line after the first few goes through the kernel; a new stream name is
    # registered and retried: the backwards line must still be counted once
    msgs = session() + [trade(t) for t in range(3, 50)]
    lines = lines_of(msgs)
    lines[20] = f"{T0} ".encode() + lines[20].split(b" ", 1)[1]
    lines[4] = f"{T0 + 2_500_000} ".encode() + lines[4].split(b" ", 1)[1]  # bookTicker's first line
    md = load_binance(write(tmp_path, lines))
    k = md.report.kept[LOCAL_BACKWARDS]
    assert k.count == 2 and [r for _, r in k.examples] == [4, 20]


def test_load_binance_blank_lines_are_counted_and_skipped(tmp_path):
    lines = lines_of(session())
    lines[3:3] = [b"", b"  "]
    md = load_binance(write(tmp_path, lines))
    k = md.report.kept[BLANK_LINE]
    assert k.count == 2 and [r for _, r in k.examples] == [3, 4]
    np.testing.assert_array_equal(md.events, reference(tmp_path))


@pytest.mark.parametrize("name", ["btcusdt_20240808.gz", "btcusdt_20240808.txt", "btcusdt_20240808"])
def test_load_binance_already_gunzipped_file_loads(tmp_path, name):
    p = write(tmp_path, lines_of(session()), name, compress=False)
    md = load_binance(p)
    np.testing.assert_array_equal(md.events, reference(tmp_path))
    assert md.report.rows_read == len(session())


def test_load_binance_neither_gzip_nor_text_raises(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(b"PK\x03\x04" + b"\0" * 40)  # a zip file
    exc = load_raising(p)
    assert_names(exc, p, 0, "gzip", "neither gzip")


def test_load_binance_diff_before_snapshot_is_dropped_and_documented(tmp_path):
    md = load_binance(write(tmp_path, lines_of(session())))
    (d,) = md.report.drops.values()
    assert d.count == 1 and d.examples == [(str(tmp_path / "btcusdt_20240808.gz"), 0)]
    assert "diff before the REST snapshot" in d.reason
    doc = " ".join(load_binance.__doc__.split())
    assert "Data quirks" in doc and "before the REST snapshot" in doc


# ---------------------------------------------------------------------- book ticker
def test_load_binance_crossed_and_locked_bookticker_are_counted_and_kept(tmp_path):
    msgs = session()
    msgs[4] = ticker(104, b="100.06", a="100.05")
    msgs.append(ticker(107, b="100.05", a="100.05"))
    md = load_binance(write(tmp_path, lines_of(msgs)))
    kept = {k.split(" (")[0]: v for k, v in md.report.kept.items()}
    assert kept["crossed bookTicker"].count == 1 and kept["crossed bookTicker"].examples[0][1] == 4
    assert kept["locked bookTicker"].count == 1 and kept["locked bookTicker"].examples[0][1] == 7
    q = md.events[md.events["kind"] == EventKind.QUOTE]
    assert len(q) == 4  # kept as sent


# ---------------------------------------------------------------------- instrument
def coinm_lines(symbol: str) -> list[bytes]:
    sym = symbol.lower()
    snap = {"lastUpdateId": 100, "E": E0, "T": E0, "symbol": symbol, "pair": symbol.split("_")[0],
            "bids": [["100.0", "10"]], "asks": [["100.1", "3"]]}
    d = {"stream": f"{sym}@depth@0ms", "data": {"e": "depthUpdate", "E": E0, "T": E0, "s": symbol,
         "ps": symbol.split("_")[0], "U": 95, "u": 103, "pu": 94, "b": [["100.0", "12"]], "a": []}}
    return lines_of([snap, d])


def test_load_binance_coinm_symbol_off_pattern_needs_contract_size(tmp_path):
    p = write(tmp_path, coinm_lines("QLIBUSD_NEXT"))
    with pytest.raises(ParameterError, match=r"contract size.*instrument=\{'multiplier'"):
        load_binance(p)
    md = load_binance(p, instrument={"multiplier": 25.0})
    assert md.instrument.multiplier == 25.0 and md.instrument.inverse
    assert md.instrument.instrument_id == "QLIBUSD_NEXT.BINANCE"


@pytest.mark.parametrize("symbol, usd", [("QLIBUSD_PERP", 10.0), ("QLIBUSD_250328", 10.0)])
def test_load_binance_coinm_contract_size_from_the_rule(tmp_path, symbol, usd):
    md = load_binance(write(tmp_path, coinm_lines(symbol)))
    assert md.instrument.multiplier == usd and md.instrument.inverse
    inferred = {i.fact: i for i in md.report.inferred}
    assert inferred["market"].value == "coinm"
    assert inferred["multiplier"].value == usd and "contract specifications" in inferred["multiplier"].basis


def test_load_binance_instrument_of_wrong_type_raises(tmp_path):
    with pytest.raises(ParameterError, match="instrument"):
        load_binance(write(tmp_path, lines_of(session())), instrument=3)
