"""load_binance on every real session in shared/data/binance-* (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qlib.book import bbo, replay_book
from qlib.data.binance import (binance_instrument_id, bookticker_agreement,
                               coinm_contract_size, load_binance)
from qlib.data.sources import load
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import ParameterError
from qlib.instrument import Instrument

pytestmark = pytest.mark.realdata

# Figures from each set's PROVENANCE.md: lines per channel per file, diffs applied after
# the snapshot, and the "Rebuilt book at the end" line.
SESSIONS = {
    "spot": dict(
        dir="binance-spot-btcusdt-hftbacktest", files=["btcusdt_20240808.gz", "btcusdt_20240809.gz"],
        channels={"btcusdt_20240808.gz": {"depth@100ms": 3451, "bookTicker": 28040, "trade": 9757, "snapshot": 1},
                  "btcusdt_20240809.gz": {"depth@100ms": 3044, "bookTicker": 45134, "trade": 10147}},
        applied=6493, levels=(1971, 2962), best=(61602.01, 61602.02), id="BTCUSDT.BINANCE"),
    "coinm": dict(
        dir="binance-coinm-btcusd-perp-hftbacktest", files=["btcusd_perp_20240808.gz", "btcusd_perp_20240809.gz"],
        channels={"btcusd_perp_20240808.gz": {"depth@0ms": 26847, "bookTicker": 19136, "trade": 2286, "snapshot": 1},
                  "btcusd_perp_20240809.gz": {"bookTicker": 29219, "depth@0ms": 17948, "trade": 2949}},
        applied=44772, levels=(1510, 1733), best=(61600.0, 61600.1), id="BTCUSD_PERP.BINANCE"),
    "usdm-0718": dict(
        dir="binance-usdm-btcusdt-hftbacktest", files=["btcusdt_20240718.gz", "btcusdt_20240719.gz"],
        channels={"btcusdt_20240718.gz": {"depth@0ms": 3326, "bookTicker": 7113, "snapshot": 1, "trade": 974},
                  "btcusdt_20240719.gz": {"depth@0ms": 5696, "bookTicker": 45147, "trade": 9727}},
        applied=9017, levels=(5276, 5156), best=(63867.4, 63867.5), id="BTCUSDT-PERP.BINANCE"),
    "usdm-0808": dict(
        dir="binance-usdm-btcusdt-hftbacktest", files=["btcusdt_20240808.gz"],
        channels={"btcusdt_20240808.gz": {"depth@0ms": 6551, "bookTicker": 66089, "trade": 21313, "snapshot": 1}},
        applied=6547, levels=(5018, 4578), best=(61659.7, 61659.8), id="BTCUSDT-PERP.BINANCE"),
}

_CACHE: dict[str, object] = {}


def _session(shared_data: Path, name: str):
    if name not in _CACHE:
        s = SESSIONS[name]
        _CACHE[name] = load_binance([shared_data / s["dir"] / f for f in s["files"]])
    return _CACHE[name]


@pytest.fixture(params=sorted(SESSIONS))
def session(request, shared_data):
    return request.param, SESSIONS[request.param], _session(shared_data, request.param)


def test_load_binance_real_session_line_counts_match_provenance(session):
    _, s, md = session
    assert md.provenance["lines_per_channel"] == s["channels"]
    assert md.report.rows_read == sum(sum(c.values()) for c in s["channels"].values())
    assert md.provenance["diffs_applied"] == s["applied"]


def test_load_binance_real_session_has_no_gap_and_never_crosses(session):
    _, _, md = session
    assert md.report.gaps == []
    assert md.report.crossed_rows == 0 and md.report.locked_rows == 0
    assert any("bridged by diff" in n for n in md.report.notes)


def test_load_binance_real_session_final_book_matches_provenance(session):
    _, s, md = session
    r = replay_book(md.events)
    assert (len(r.bid_levels[0]), len(r.ask_levels[0])) == s["levels"]
    bid, ask = md.instrument.to_price([r.bid_levels[0][0], r.ask_levels[0][0]])
    assert (bid, ask) == s["best"]
    df = bbo(md)
    assert (df["bid_px"].iloc[-1], df["ask_px"].iloc[-1]) == s["best"]
    assert not df.isna().any().any() and (df["bid_px"] < df["ask_px"]).all()


def test_load_binance_real_session_events_are_well_formed(session):
    _, s, md = session
    ev = md.events
    assert md.instrument.instrument_id == s["id"]
    counts = md.report.rows_by_kind
    assert counts["CLEAR"] == 1 and counts["SNAPSHOT"] == 2000  # 1000 levels a side
    n_trades = sum(c.get("trade", 0) for c in s["channels"].values())
    n_tickers = sum(c.get("bookTicker", 0) for c in s["channels"].values())
    assert counts["TRADE"] == n_trades and counts["QUOTE"] == 2 * n_tickers
    diffs_last = np.count_nonzero((ev["kind"] == EventKind.DEPTH) & (ev["flags"] & EventFlag.LAST != 0))
    assert diffs_last <= s["applied"]  # a diff with empty b and a yields no event
    assert md.report.out_of_order_rows == 0
    assert md.report.rows == len(ev)
    trades = ev[ev["kind"] == EventKind.TRADE]
    assert set(np.unique(trades["side"])) <= {Side.BUY, Side.SELL}
    assert np.all(np.diff(trades["seq"]) > 0)  # trade ids stay in order after the merge
    book = ev[(ev["kind"] == EventKind.DEPTH)]
    assert np.all(np.diff(book["seq"]) >= 0)  # diffs stay in update-id order


def test_load_binance_real_session_clock_offset_is_noted(session):
    _, _, md = session
    off = md.provenance["clock_offset_ns"]
    assert -1.6e9 < off < -1.2e9  # PROVENANCE: local is ~1.27 s / 1.52 s behind E
    assert any("median local minus exchange" in n for n in md.report.notes)


def test_bookticker_agreement_real_session_exact_update_ids_all_agree(session):
    name, _, md = session
    a = bookticker_agreement(md)
    # A bookTicker whose u equals a diff's final u shows the same book: all must agree.
    assert a["exact"] > 500 and a["exact_agree"] == a["exact"]
    # Against the last diff at or before u, prices agree most of the time; the misses are
    # updates between that diff's u and the bookTicker's u that moved the touch (and
    # nearly always its quantity), not errors of the rebuild.
    assert a["agree_px_frac"] > 0.45
    print(name, a)


def test_load_binance_midnight_split_continues_the_session(shared_data):
    d = shared_data / "binance-spot-btcusdt-hftbacktest"
    both = _session(shared_data, "spot")
    second = load_binance(d / "btcusdt_20240809.gz")
    assert any("no REST snapshot" in n for n in second.report.notes)
    assert second.report.rows_by_kind.get("SNAPSHOT", 0) == 0
    # the first diff of the second file carries on the first file's sequence: no gap
    assert both.report.gaps == []
    first_local_2 = second.events["ts_local"][second.events["kind"] == EventKind.DEPTH].min()
    assert np.any(both.events["ts_local"] == first_local_2)
    midnight = np.datetime64("2024-08-09T00:00:00", "ns").astype(np.int64)
    assert both.events["ts_exch"].min() < midnight < both.events["ts_exch"].max()


def test_load_binance_directory_loads_files_in_name_order(shared_data):
    md = load_binance(shared_data / "binance-coinm-btcusd-perp-hftbacktest")
    ref = _session(shared_data, "coinm")
    np.testing.assert_array_equal(md.events, ref.events)


def test_load_binance_directory_with_two_sessions_starts_a_new_book(shared_data):
    md = load_binance(shared_data / "binance-usdm-btcusdt-hftbacktest")
    assert md.report.rows_by_kind["CLEAR"] == 2
    assert md.report.gaps == [] and md.report.crossed_rows == 0


def test_load_source_binance_dispatches(shared_data):
    f = shared_data / "binance-usdm-btcusdt-hftbacktest" / "btcusdt_20240808.gz"
    md = load("binance", f)
    assert md.instrument.instrument_id == "BTCUSDT-PERP.BINANCE"


def test_load_binance_given_instrument_is_used(shared_data):
    f = shared_data / "binance-usdm-btcusdt-hftbacktest" / "btcusdt_20240808.gz"
    inst = Instrument("BTCUSDT-PERP.BINANCE", tick_size=0.01, lot_size=0.001, currency="USDT")
    md = load_binance(f, instrument=inst)
    ref = _session(shared_data, "usdm-0808")
    assert md.instrument is inst
    np.testing.assert_array_equal(md.events["px_tick"], ref.events["px_tick"] * 10)


def test_binance_instrument_ids_of_the_shared_sets_are_registry_rows():
    from qlib.data import instruments
    assert instruments.get(binance_instrument_id("coinm", "btcusd_perp")).inverse
    assert instruments.get(binance_instrument_id("coinm", "BTCUSD_PERP")).multiplier == 100
    assert instruments.get(binance_instrument_id("usdm", "BTCUSDT")).lot_size == 0.001
    with pytest.raises(ParameterError, match="market"):
        binance_instrument_id("options", "BTCUSDT")


@pytest.mark.parametrize("market, symbol, iid", [
    ("spot", "ethusdt", "ETHUSDT.BINANCE"), ("usdm", "ETHUSDT", "ETHUSDT-PERP.BINANCE"),
    ("usdm", "BTCUSDT_240927", "BTCUSDT_240927.BINANCE"), ("coinm", "ETHUSD_PERP", "ETHUSD_PERP.BINANCE"),
    ("coinm", "btcusd_240927", "BTCUSD_240927.BINANCE")])
def test_binance_instrument_id_by_market(market, symbol, iid):
    assert binance_instrument_id(market, symbol) == iid


@pytest.mark.parametrize("symbol, usd", [("BTCUSD_PERP", 100.0), ("BTCUSD_240927", 100.0),
                                         ("ETHUSD_PERP", 10.0), ("1000SHIBUSD_PERP", 10.0)])
def test_coinm_contract_size_follows_binance_rule(symbol, usd):
    assert coinm_contract_size(symbol)[0] == usd


def test_coinm_contract_size_unknown_pattern_names_fact_and_argument():
    with pytest.raises(ParameterError, match=r"contract size.*instrument=\{'multiplier'"):
        coinm_contract_size("BTCUSDT_PERP")


def _parse(lines: list[bytes], names=(b"btcusdt@depth@0ms", b"btcusdt@trade", b"btcusdt@bookTicker"),
           jit=True):
    """Run parse_lines (or its py_func) over ``lines``; return the result and the arrays."""
    from qlib.data import _binance_kernels as bk
    text = b"\n".join(lines) + b"\n"
    buf = np.zeros(len(text) + bk.PAD, np.uint8)
    buf[:len(text)] = np.frombuffer(text, np.uint8)
    tab = np.zeros((bk.MAX_NAMES, bk.MAX_NAME_LEN), np.uint8)
    name_len, name_ch = np.zeros(bk.MAX_NAMES, np.int64), np.zeros(bk.MAX_NAMES, np.int64)
    for s, nm in enumerate(names):
        tab[s, :len(nm)] = np.frombuffer(nm, np.uint8)
        name_len[s], name_ch[s] = len(nm), s
    cap = len(lines) + 1
    i8, f8, u1 = (lambda: np.zeros(cap, np.int64)), (lambda: np.zeros(cap * 8)), (lambda: np.zeros(cap, np.uint8))
    d = [i8() for _ in range(6)] + [u1(), u1(), i8(), i8()]
    lv = [f8(), f8()]
    t = [i8() for _ in range(4)] + [f8(), f8(), u1(), u1()]
    q = [i8() for _ in range(4)] + [u1(), u1()] + [f8() for _ in range(4)]
    fn = bk.parse_lines if jit else bk.parse_lines.py_func
    res = fn(buf, 0, len(text), 0, -1, tab, name_len, name_ch, np.zeros(bk.MAX_NAMES, np.int64),
             np.full(bk.MAX_NAMES, -1, np.int64), len(names), *d, 0, *lv, 0, *t, 0, *q, 0)
    return tuple(map(int, res)), d + lv + t + q


_D = b'1723161256172216566 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161257440,"U":5,"u":9,"pu":4,'


@pytest.mark.parametrize("line, ok", [
    (_D + b'"b":[["61773.6","1001"],["1000.00","569.567"]],"a":[]}}', True),
    (_D + b'"b":[],"a":[["0.00000001","0"]],"x":[1]}}', False),  # a list in an unknown field
    (_D + b'"b":[],"a":[["0.00000001","0"]],"x":{"y":1}}}', False),  # an object
    (_D + b'"b":[],"a":[["0.00000001","0"]],"x":-1.5e3,"y":null,"z":"s"}}', True),  # skipped
    (_D + b'"b":[["61773.6","1001"]],"a":[["61800.1","-2"]]}}', False),  # sign: general path
    (_D + b'"b":[["6.1e4","1"]],"a":[]}}', False),  # exponent: general path
    (_D + b'"b":[["1234567890123456","2"]],"a":[]}}', False),  # > 15 digits: general path
    (_D + b'"b":[["1","2"]], "a":[]}}', False),  # whitespace: general path
    (_D + b'"a":[],"b":[["1","2"]]}}', False),  # asks before bids: general path
    (_D + b'"b":[["1","2"]],"a":[],"u":10}}', False),  # repeated field: general path
    (_D.replace(b'"u":9,', b"") + b'"b":[["1","2"]],"a":[]}}', False),  # missing u
    (_D.replace(b'"U":5', b'"U":05') + b'"b":[],"a":[]}}', False),  # leading zero: invalid JSON
    (_D + b'"b":[["1",""]],"a":[]}}', False),  # empty number
    (_D + b'"b":[["1","2"]],"a":[]}', False),  # truncated
    (_D.replace(b'"s', b'"\\u0073', 1) + b'"b":[],"a":[]}}', False),  # escape
])
def test_parse_lines_kernel_jit_matches_py_func_and_float(line, ok):
    from qlib.enums import Status
    rj, aj = _parse([line])
    rp, ap = _parse([line], jit=False)
    assert rj == rp
    for x, y in zip(aj, ap):
        np.testing.assert_array_equal(x, y)
    assert (rj[0] == Status.OK) == ok
    if ok:
        import re
        assert rj[4] == 1 and (aj[2][0], aj[3][0], aj[4][0], aj[5][0]) == (1723161257440, 5, 9, 4)
        levels = re.search(rb'"b":(.*),"a":(\[.*?\]\]|\[\])', line)
        want = [float(x) for x in re.findall(rb'"([0-9.]+)"', levels.group(0))]
        k = rj[5]
        got = np.column_stack((aj[10][:k], aj[11][:k])).ravel().tolist()
        assert got == want  # bit-identical to float(str)
    else:
        assert rj[:2] == (Status.UNKNOWN_KIND, 0) and rj[4] == 0


def test_parse_lines_trade_and_ticker_and_stops():
    from qlib.enums import Status
    lines = [(b'1 {"stream":"btcusdt@trade","data":{"e":"trade","E":2,"s":"BTCUSDT","t":7,'
              b'"p":"61837.63000000","q":"0.02000000","T":3,"m":true,"M":true}}'),
             (b'2 {"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT",'
              b'"b":"61837.63","B":"3.78826000","a":"61837.64","A":"1.54698000"}}'),
             b'3 {"lastUpdateId":1,"bids":[],"asks":[]}']
    res, arrs = _parse(lines)
    assert res[:4] == (Status.UNKNOWN_KIND, len(lines[0]) + len(lines[1]) + 2, 2, 2)  # stops at the snapshot
    assert res[6:] == (1, 1)
    t_T, t_t, t_p, t_q, t_m, t_x = (a[0] for a in arrs[14:20])
    assert (t_T, t_t, t_p, t_q, t_m, t_x) == (3, 7, 61837.63, 0.02, 1, 0)
    q_u, _, q_hasE, q_ps, q_b, q_B, q_a, q_A = (a[0] for a in arrs[22:30])
    assert (q_u, q_hasE, q_ps, q_b, q_B, q_a, q_A) == (50093239212, 0, 0, 61837.63, 3.78826, 61837.64, 1.54698)
    res, _ = _parse([b'5 {"stream":"btcusdt@trade","data":{}}', lines[0]])
    assert res[:3] == (Status.UNKNOWN_KIND, 0, 0)
    res, _ = _parse([lines[1], lines[0]])
    assert res[:4] == (Status.UNSORTED, len(lines[1]) + 1, 1, 2)  # local time went back
    res, _ = _parse([lines[0]], names=(b"btcusdt@depth@0ms",))
    assert res[:2] == (Status.UNKNOWN_KIND, 0)  # a stream name it was not given


def _general_path():
    """Stand-in for parse_lines that reads nothing: every line takes the Python path."""
    import inspect

    from qlib.data import _binance_kernels as bk
    from qlib.enums import Status
    sig = inspect.signature(bk.parse_lines.py_func)

    def parse_nothing(*args):
        a = sig.bind(*args).arguments
        status = Status.UNKNOWN_KIND if a["pos"] < a["n"] else Status.OK
        return status, a["pos"], a["row"], a["last_local"], a["nd"], a["k"], a["nt"], a["nq"]
    return parse_nothing


def test_load_binance_fast_line_parser_equals_general_path(shared_data, monkeypatch):
    from qlib.data import _binance_kernels as bk
    ref = _session(shared_data, "usdm-0718")
    monkeypatch.setattr(bk, "parse_lines", _general_path())
    s = SESSIONS["usdm-0718"]
    slow = load_binance([shared_data / s["dir"] / f for f in s["files"]])
    np.testing.assert_array_equal(slow.events, ref.events)
    assert slow.report == ref.report and slow.provenance == ref.provenance


def test_load_binance_small_chunks_equal_one_chunk(shared_data, monkeypatch):
    from qlib.data import _binance_io
    ref = _session(shared_data, "spot")
    monkeypatch.setattr(_binance_io, "_CHUNK", 5000)  # shorter than the snapshot line (~60 KB)
    s = SESSIONS["spot"]
    small = load_binance([shared_data / s["dir"] / f for f in s["files"]])
    assert small.events.tobytes() == ref.events.tobytes()
    assert small.report == ref.report and small.provenance == ref.provenance
