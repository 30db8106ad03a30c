"""Tests of qlib.data.lobster.load_lobster on the real GOOG sample and on small files."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lobster_dbn_builders import BASE_MESSAGES, BASE_ORDERBOOK, WHOLE_DAY, write_lobster

from qlib.data import _lobster_kernels as lk
from qlib.data.lobster import ASK_EMPTY, BID_EMPTY, QUIRKS, load_lobster
from qlib.data.sources import load
from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

GOOG = "lobster-goog-2012-06-21"
MSG = "GOOG_2012-06-21_34200000_57600000_message_{L}.csv"
OB = "GOOG_2012-06-21_34200000_57600000_orderbook_{L}.csv"

# Figures from the data set's PROVENANCE.md.
PROVENANCE = {
    1: {"rows": 49_482, "types": {1: 24_368, 2: 7, 3: 13_429, 4: 7_765, 5: 3_913},
        "last": "2012-06-21 19:59:59.320718269"},
    5: {"rows": 112_673, "types": {1: 54_907, 2: 16, 3: 46_072, 4: 7_765, 5: 3_913},
        "last": "2012-06-21 19:59:59.871751084"},
    10: {"rows": 147_916, "types": {1: 71_258, 2: 19, 3: 64_961, 4: 7_765, 5: 3_913},
         "last": "2012-06-21 19:59:59.871751084"},
}
#: DEPTH|RESYNC corrections the loader derives from each GOOG orderbook file, by reason
#: (measured; the proof test below shows they make the replay equal the file).
RESYNC = {
    1: {"visible_qty": 1888, "visible_missing": 3204, "stale_inside": 0, "stale_better": 4540,
        "stale_short": 0},
    5: {"visible_qty": 3059, "visible_missing": 4192, "stale_inside": 5851, "stale_better": 0,
        "stale_short": 0},
    10: {"visible_qty": 1861, "visible_missing": 3123, "stale_inside": 3348, "stale_better": 0,
         "stale_short": 0},
}
FIRST_UTC = "2012-06-21 13:30:00.015105074"  # 09:30:00.015105074 EDT
SUB_TICK_HIDDEN = 50  # type-5 rows at half a cent in every GOOG file (midpoint executions)
REPEATED_HIDDEN = 31  # type-5 rows identical to the line before (measured, every GOOG file)


def _ns(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value)


def _zip(shared_data: Path, levels: int) -> Path:
    return shared_data / GOOG / f"LOBSTER_SampleFile_GOOG_2012-06-21_{levels}.zip"


@pytest.fixture(scope="module")
def goog() -> dict:
    """Loaded GOOG days by level count (module cache)."""
    return {}


def _extract(shared_data: Path, out: Path, levels: int = 1) -> Path:
    with zipfile.ZipFile(_zip(shared_data, levels)) as zf:
        zf.extract(MSG.format(L=levels), out)
        zf.extract(OB.format(L=levels), out)
    return out / MSG.format(L=levels)


def _load(goog: dict, shared_data: Path, levels: int):
    if levels not in goog:
        goog[levels] = load_lobster(_zip(shared_data, levels))
    return goog[levels]


def _is_resync(events: np.ndarray) -> np.ndarray:
    return (events["flags"] & EventFlag.RESYNC) != 0


def _snapshot(md) -> np.ndarray:
    ev = md.events
    n = int(np.argmax(ev["seq"] >= 0))
    return ev[:n]



def _py(kernel):
    """The pure-Python version of a kernel (itself under NUMBA_DISABLE_JIT=1)."""
    return getattr(kernel, "py_func", kernel)

# ---------------------------------------------------------------- real data
@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_real_zip_counts_match_provenance(shared_data, goog, levels):
    md = _load(goog, shared_data, levels)
    want = PROVENANCE[levels]
    rep = md.report
    kinds = rep.rows_by_kind
    assert rep.rows_read == want["rows"]
    assert kinds["ADD"] == want["types"][1]
    assert kinds["CANCEL"] == want["types"][2]
    assert kinds["DELETE"] == want["types"][3]
    assert kinds["EXECUTE"] == want["types"][4]
    # every type-5 row is a HIDDEN trade: on the grid a TRADE, at half a cent a TRADE_SUBTICK
    hidden = int((np.isin(md.events["kind"], [EventKind.TRADE, EventKind.TRADE_SUBTICK])
                  & ((md.events["flags"] & EventFlag.HIDDEN) != 0)).sum())
    assert hidden == kinds["TRADE"] + kinds["TRADE_SUBTICK"] == want["types"][5]
    assert kinds["TRADE_SUBTICK"] == SUB_TICK_HIDDEN
    assert rep.kept[QUIRKS["subtick"]].count == SUB_TICK_HIDDEN
    assert rep.kept[QUIRKS["dup_trade"]].count == REPEATED_HIDDEN
    assert set(rep.kept) == {QUIRKS["subtick"], QUIRKS["dup_trade"]}
    assert rep.rows_dropped == 0
    n_msg_events = int(((md.events["seq"] >= 0) & ~_is_resync(md.events)).sum())
    assert n_msg_events == want["rows"]
    # the corrections: exactly the DEPTH rows, counted by reason in provenance and notes
    corr = RESYNC[levels]
    n_corr = sum(corr.values())
    assert kinds["DEPTH"] == n_corr == int(_is_resync(md.events).sum())
    assert kinds["SNAPSHOT"] + kinds["CLEAR"] + n_corr + n_msg_events == len(md)
    got = md.provenance["resync_corrections"]
    assert {k: got[k] for k in corr} == corr and got["clamped"] == 0
    assert got["visible_level_corrected"] == corr["visible_qty"] + corr["visible_missing"]
    assert got["stale_level_removed"] == n_corr - got["visible_level_corrected"]
    assert any(f"resync: {n_corr} DEPTH|RESYNC corrections" in n for n in rep.notes)


@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_real_zip_timestamps_exact_to_the_ns(shared_data, goog, levels):
    md = _load(goog, shared_data, levels)
    ev = md.events
    assert int(ev["ts_exch"][0]) == _ns(FIRST_UTC)  # the snapshot carries message 0's time
    assert md.report.ts_first == _ns(FIRST_UTC)
    assert int(ev["ts_exch"][-1]) == _ns(PROVENANCE[levels]["last"])
    assert md.report.ts_last == _ns(PROVENANCE[levels]["last"])
    assert md.report.out_of_order_rows == 0
    assert np.array_equal(ev["ts_local"], ev["ts_exch"])
    assert ((ev["flags"] & EventFlag.TS_LOCAL_SYNTH) != 0).all()


@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_real_zip_snapshot_equals_book_before_message0(shared_data, goog, levels):
    md = _load(goog, shared_data, levels)
    with zipfile.ZipFile(_zip(shared_data, levels)) as zf:
        ob0 = [int(x) for x in zf.open(OB.format(L=levels)).readline().decode().split(",")]
        m0 = zf.open(MSG.format(L=levels)).readline().decode().strip().split(",")
    # reference: row 0 is the book after message 0, an execution (type 4) of 4 shares
    assert m0[1] == "4"
    bids = {ob0[4 * k + 2] // 100: ob0[4 * k + 3] for k in range(levels)}
    asks = {ob0[4 * k] // 100: ob0[4 * k + 1] for k in range(levels)}
    side_book = bids if int(m0[5]) == 1 else asks
    side_book[int(m0[4]) // 100] = side_book.get(int(m0[4]) // 100, 0) + int(m0[3])

    snap = _snapshot(md)
    assert snap["kind"][0] == EventKind.CLEAR and snap["side"][0] == Side.NONE
    body = snap[1:]
    assert (body["kind"] == EventKind.SNAPSHOT).all()
    assert ((body["flags"] & EventFlag.SNAPSHOT) != 0).all()
    assert (body["order_id"] == 0).all()
    assert snap["flags"][-1] & EventFlag.LAST and not (snap["flags"][:-1] & EventFlag.LAST).any()
    got_bids = {int(p): int(q) for p, q, s in zip(body["px_tick"], body["qty"], body["side"])
                if s == Side.BUY}
    got_asks = {int(p): int(q) for p, q, s in zip(body["px_tick"], body["qty"], body["side"])
                if s == Side.SELL}
    assert got_bids == bids and got_asks == asks
    assert got_bids[57940] == 500  # 496 after message 0 + the 4 it executed
    bid_px = body["px_tick"][body["side"] == Side.BUY]
    ask_px = body["px_tick"][body["side"] == Side.SELL]
    assert (np.diff(bid_px) < 0).all() and (np.diff(ask_px) > 0).all()  # best first


@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_real_zip_no_crossed_or_locked_rows(shared_data, goog, levels):
    md = _load(goog, shared_data, levels)
    assert md.report.crossed_rows == 0
    assert md.report.locked_rows == 0
    assert md.instrument.instrument_id == "GOOG.NASDAQ"
    assert md.instrument.tick_size == 0.01
    tick = next(i for i in md.report.inferred if i.fact == "tick_size")
    assert tick.value == 0.01 and tick.confidence == "high" and "gcd" in tick.basis


def _replay_level1(events: np.ndarray, ob: np.ndarray) -> dict:
    """Replay snapshot + messages on the best level of each side; compare with ``ob``.

    ``ob`` holds the orderbook file's level-1 columns (ask_px, ask_qty, bid_px,
    bid_qty) in LOBSTER units. The messages cannot tell what lies below an emptied
    best level, so when a removal empties it exactly the side adopts the file's new
    level 1 ("reveal"); anything else must agree on every row.
    """
    ask_px_f, ask_q_f, bid_px_f, bid_q_f = (ob[:, i].tolist() for i in range(4))
    best = {Side.BUY: [None, 0], Side.SELL: [None, 0]}
    stats = {"compared": 0, "mismatch": 0, "reveals": 0, "off_best": 0, "first_mismatch": None}
    kinds = events["kind"].tolist()
    sides = events["side"].tolist()
    pxs = events["px_tick"].tolist()
    qtys = events["qty"].tolist()
    seqs = events["seq"].tolist()
    for k, s, p, q, r in zip(kinds, sides, pxs, qtys, seqs):
        if k == EventKind.SNAPSHOT:
            if best[s][0] is None or (p > best[s][0] if s == Side.BUY else p < best[s][0]):
                best[s] = [p, q]
            continue
        if r < 0:
            continue
        b = best.get(s)
        better = (lambda a, c: a > c) if s == Side.BUY else (lambda a, c: a < c)
        if k == EventKind.ADD:
            if b[0] is None or better(p, b[0]):
                best[s] = [p, q]
            elif p == b[0]:
                b[1] += q
            else:
                stats["off_best"] += 1
        elif k in (EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE):
            if p != b[0]:
                stats["off_best"] += 1
            else:
                b[1] -= q
                if b[1] == 0:
                    stats["reveals"] += 1
                    if s == Side.BUY:
                        best[s] = [bid_px_f[r] // 100, bid_q_f[r]]
                    else:
                        best[s] = [ask_px_f[r] // 100, ask_q_f[r]]
        got = (best[Side.SELL][0], best[Side.SELL][1], best[Side.BUY][0], best[Side.BUY][1])
        want = (ask_px_f[r] // 100, ask_q_f[r], bid_px_f[r] // 100, bid_q_f[r])
        stats["compared"] += 1
        if got != want:
            stats["mismatch"] += 1
            if stats["first_mismatch"] is None:
                stats["first_mismatch"] = (r, got, want)
    return stats


@pytest.mark.realdata
@pytest.mark.parametrize("levels", [1, 5, 10])
def test_load_lobster_real_replay_reproduces_level1_on_every_row(shared_data, goog, levels):
    md = _load(goog, shared_data, levels)
    with zipfile.ZipFile(_zip(shared_data, levels)) as zf:
        ob = pd.read_csv(zf.open(OB.format(L=levels)), header=None, usecols=[0, 1, 2, 3]).to_numpy()
    msgs = md.events[~_is_resync(md.events)]  # the message stream alone (L3 semantics)
    stats = _replay_level1(msgs, ob)
    assert stats["mismatch"] == 0, stats["first_mismatch"]
    assert stats["compared"] == int((msgs["seq"] >= 0).sum())
    if levels == 1:
        # the level-1 file only holds messages at the best price
        assert stats["off_best"] == 0
        assert stats["reveals"] > 0  # emptied best levels: the next one is not in the messages


@pytest.mark.realdata
def test_load_lobster_real_paths_zip_csv_dir_give_same_events(shared_data, goog, tmp_path):
    md = _load(goog, shared_data, 1)
    with zipfile.ZipFile(_zip(shared_data, 1)) as zf:
        zf.extract(MSG.format(L=1), tmp_path)
        zf.extract(OB.format(L=1), tmp_path)
    for p in (tmp_path / MSG.format(L=1), tmp_path / OB.format(L=1), tmp_path):
        other = load_lobster(p)
        assert np.array_equal(other.events, md.events)
        assert other.report.crossed_rows == 0
    via_sources = load("lobster", _zip(shared_data, 1))
    assert np.array_equal(via_sources.events, md.events)


@pytest.mark.realdata
def test_load_lobster_real_finer_tick_has_no_sub_tick_trades(shared_data):
    inst = Instrument("GOOG.NASDAQ", tick_size=0.005)
    md = load_lobster(_zip(shared_data, 1), instrument=inst)
    assert md.instrument is inst
    assert md.report.rows_dropped == 0 and QUIRKS["subtick"] not in md.report.kept
    assert md.report.rows_by_kind["TRADE"] == PROVENANCE[1]["types"][5]
    assert md.report.crossed_rows == 0
    assert md.provenance["price_unit_per_tick"] == 50


@pytest.mark.realdata
def test_load_lobster_real_sub_tick_prints_carry_their_true_price(shared_data, goog):
    md = _load(goog, shared_data, 1)
    with zipfile.ZipFile(_zip(shared_data, 1)) as zf:
        m = pd.read_csv(zf.open(MSG.format(L=1)), header=None)
    off = np.flatnonzero((m[4] % 100 != 0).to_numpy())
    ev = md.events[md.events["kind"] == EventKind.TRADE_SUBTICK]
    assert ev["seq"].tolist() == off.tolist()
    # px_tick in millionths of a 0.01 tick: price (dollars x 10,000) x 10,000
    assert ev["px_tick"].tolist() == (m[4].to_numpy()[off] * 10_000).tolist()
    assert ev["side"].tolist() == (-m[5].to_numpy()[off]).tolist()
    assert ev["qty"].tolist() == m[3].to_numpy()[off].astype(float).tolist()
    assert ((ev["flags"] & EventFlag.HIDDEN) != 0).all()
    assert md.report.kept[QUIRKS["subtick"]].examples[0][1] == off[0]


@pytest.mark.realdata
def test_load_lobster_real_sub_tick_raise_names_first_half_cent_row(shared_data):
    with zipfile.ZipFile(_zip(shared_data, 1)) as zf:
        m = pd.read_csv(zf.open(MSG.format(L=1)), header=None)
    first = int(np.flatnonzero((m[4] % 100 != 0).to_numpy())[0])
    with pytest.raises(DataQualityError) as exc:
        load_lobster(_zip(shared_data, 1), sub_tick_trades="raise")
    assert exc.value.row == first and exc.value.field == "price"
    assert exc.value.value == int(m[4][first])


@pytest.mark.realdata
def test_load_lobster_real_orderbook_false_has_no_snapshot(shared_data, goog):
    full = load_lobster(_zip(shared_data, 5), resync=False)
    md = load_lobster(_zip(shared_data, 5), orderbook=False)
    assert np.array_equal(md.events, full.events[full.events["seq"] >= 0])
    assert not md.provenance["resync"] and "DEPTH" not in md.report.rows_by_kind
    assert md.report.crossed_rows == 0 and len(md.report.files) == 1
    assert any("orderbook=False" in n for n in md.report.notes)


@pytest.mark.realdata
def test_load_lobster_real_directory_of_two_days_gives_two_sessions(shared_data, goog, tmp_path):
    one = _load(goog, shared_data, 1)
    with zipfile.ZipFile(_zip(shared_data, 1)) as zf:
        members = {n: zf.read(n) for n in (MSG.format(L=1), OB.format(L=1))}
    for day in ("2012-06-22", "2012-06-21"):
        with zipfile.ZipFile(tmp_path / f"GOOG_{day}.zip", "w") as zf:
            for n, data in members.items():
                zf.writestr(n.replace("2012-06-21", day), data)
    md = load_lobster(tmp_path)
    assert md.sessions["date"].tolist() == ["2012-06-21", "2012-06-22"]
    assert md.instrument == one.instrument and len(md) == 2 * len(one)
    first, second = md.events[: len(one)], md.events[len(one):]
    assert np.array_equal(first, one.events)
    shift = 86_400 * 10**9
    assert np.array_equal(second["ts_exch"], one.events["ts_exch"] + shift)
    assert np.array_equal(second["px_tick"], one.events["px_tick"])
    assert md.report.kept[QUIRKS["subtick"]].count == 2 * SUB_TICK_HIDDEN
    with pytest.raises(DataNotFoundError, match="ticker 'AAPL'"):
        load_lobster(tmp_path / "GOOG_2012-06-21.zip", ticker="AAPL")
    with pytest.raises(ParameterError, match="ticker was 'AAPL'"):
        load_lobster(_extract(shared_data, tmp_path / "csv"), ticker="AAPL")


# ---------------------------------------------------------------- small files
def test_load_lobster_small_file_maps_every_type(tmp_path):
    md = load_lobster(write_lobster(tmp_path), feed_latency_ns=250,
                      instrument={"tick_size": 0.01})
    ev = md.events
    # snapshot: message 0 added the whole bid level, so only the ask is known
    assert ev["kind"][:2].tolist() == [EventKind.CLEAR, EventKind.SNAPSHOT]
    assert (ev["side"][1], ev["px_tick"][1], ev["qty"][1]) == (Side.SELL, 10200, 10.0)
    msgs = ev[2:]
    assert msgs["seq"].tolist() == list(range(7))
    assert msgs["kind"].tolist() == [EventKind.ADD, EventKind.ADD, EventKind.EXECUTE,
                                     EventKind.DELETE, EventKind.TRADE, EventKind.HALT,
                                     EventKind.CANCEL]
    assert msgs["side"].tolist() == [1, -1, 1, -1, -1, 0, 1]  # hidden: aggressor = -direction
    assert msgs["order_id"].tolist() == [1, 2, 1, 2, 0, 0, 1]
    assert msgs["qty"].tolist() == [100, 50, 40, 50, 10, 0, 10]
    assert msgs["px_tick"].tolist() == [10000, 10100, 10000, 10100, 10050, 0, 10000]
    assert msgs["flags"][4] & EventFlag.HIDDEN
    assert ((msgs["flags"] & EventFlag.LAST) != 0).all()
    assert np.array_equal(ev["ts_local"], ev["ts_exch"] + 250)
    assert int(msgs["ts_exch"][0]) == _ns("2012-06-21 13:30:00.000000001")
    assert int(msgs["ts_exch"][1]) == _ns("2012-06-21 13:30:00.5")
    assert md.instrument.instrument_id == "TEST.NASDAQ"
    assert md.instrument.tick_size == 0.01


def test_load_lobster_small_file_without_instrument_takes_the_decimal_step(tmp_path):
    # book prices 100.00, 101.00, 102.00: three values, so the decimal step (whole
    # dollars), never coarser than what writes them; the 100.50 hidden print is sub-tick
    md = load_lobster(write_lobster(tmp_path))
    tick = next(i for i in md.report.inferred if i.fact == "tick_size")
    assert md.instrument.tick_size == tick.value == 1.0 and tick.confidence == "low"
    assert "decimal step of 2 distinct prices" in tick.basis  # the ADD prices
    msgs = md.events[md.events["seq"] >= 0]
    assert msgs["px_tick"].tolist() == [100, 101, 100, 101, 100_500_000, 0, 100]
    assert msgs["kind"][4] == EventKind.TRADE_SUBTICK
    assert md.report.kept[QUIRKS["subtick"]].count == 1
    assert md.report.kept[QUIRKS["subtick"]].examples == [(str(tmp_path / MSG.replace(
        "GOOG", "TEST").replace("{L}", "1")), 4)]
    assert {i.fact: i.confidence for i in md.report.inferred}["currency"] == "certain"


def test_load_lobster_instrument_from_the_registry_by_id_or_by_the_files_ticker(tmp_path):
    from qlib.data import instruments

    reg = tmp_path / "mine.csv"
    reg.write_text("kind,key,tick_size,lot_size,currency,maker_fee_bps,taker_fee_bps,source\n"
                   "instrument,TEST.NASDAQ,0.01,1,USD,-0.2,0.3,my broker's sheet\n")
    path = write_lobster(tmp_path / "d")
    instruments.register(reg)
    try:
        by_id = load_lobster(path, instrument="TEST.NASDAQ")
        by_name = load_lobster(path)  # no argument: the registry row of TEST.NASDAQ
    finally:
        instruments.reset()
    for md in (by_id, by_name):
        assert (md.instrument.tick_size, md.instrument.taker_fee_bps) == (0.01, 0.3)
        assert md.events["px_tick"][md.events["seq"] == 4].tolist() == [10050]
    assert any(i.fact == "instrument" and i.confidence == "certain"
               for i in by_name.report.inferred)
    assert load_lobster(path).instrument.tick_size == 1.0  # registry reset: inferred again


def test_load_lobster_cross_and_resume_messages_map_to_auction_and_resume(tmp_path):
    msgs = ["34200,6,77,500,1000000,-1", "34201,7,0,0,0,-1", "34202,7,0,0,1,-1"]
    obs = ["1010000,50,1000000,100"] * 3
    md = load_lobster(write_lobster(tmp_path, msgs, obs))
    m = md.events[md.events["seq"] >= 0]
    assert m["kind"].tolist() == [EventKind.TRADE, EventKind.RESUME_QUOTING,
                                  EventKind.RESUME_TRADING]
    assert m["side"][0] == Side.NONE and m["flags"][0] & EventFlag.AUCTION
    assert m["order_id"][0] == 0
    snap = md.events[md.events["seq"] < 0]
    assert len(snap) == 3  # CLEAR + 1 bid + 1 ask: a cross changes no level


def test_load_lobster_delete_of_whole_level_reinserts_it_in_snapshot(tmp_path):
    msgs = ["34200,3,5,30,1000000,1"]
    obs = ["1010000,50,990000,100,1020000,5,980000,7"]  # after: the 100.00 bid level is gone
    md = load_lobster(write_lobster(tmp_path, msgs, obs, levels=2),
                      instrument=Instrument("X.NASDAQ", tick_size=0.01))
    snap = md.events[1:-1]
    bids = [(int(p), int(q)) for p, q, s in zip(snap["px_tick"], snap["qty"], snap["side"]) if s == 1]
    asks = [(int(p), int(q)) for p, q, s in zip(snap["px_tick"], snap["qty"], snap["side"]) if s == -1]
    assert bids == [(10000, 30), (9900, 100), (9800, 7)]  # L + 1 levels: one was re-inserted
    assert asks == [(10100, 50), (10200, 5)]


def test_load_lobster_dummy_levels_are_empty_not_crossed(tmp_path):
    msgs = ["34200,1,1,10,1000000,1", "34201,3,1,10,1000000,1"]
    obs = [f"{ASK_EMPTY},0,1000000,10,{ASK_EMPTY},0,{BID_EMPTY},0",
           f"{ASK_EMPTY},0,{BID_EMPTY},0,{ASK_EMPTY},0,{BID_EMPTY},0"]
    md = load_lobster(write_lobster(tmp_path, msgs, obs, levels=2))
    assert md.report.crossed_rows == 0 and md.report.locked_rows == 0
    assert md.events["kind"][0] == EventKind.CLEAR
    assert (md.events["kind"][1:] != EventKind.SNAPSHOT).all()  # the book was empty


def test_load_lobster_crossed_and_locked_rows_are_counted(tmp_path):
    msgs = ["34200,1,1,10,1000000,1", "34201,1,2,10,1010000,1", "34202,1,3,10,1020000,1"]
    obs = ["1010000,5,1000000,10", "1010000,5,1010000,10", "1010000,5,1020000,10"]
    md = load_lobster(write_lobster(tmp_path, msgs, obs))
    assert (md.report.crossed_rows, md.report.locked_rows) == (1, 1)


@pytest.mark.parametrize(
    "date, seconds, utc",
    [
        ("2012-06-21", 34200, "2012-06-21 13:30:00"),  # EDT
        ("2012-01-03", 34200, "2012-01-03 14:30:00"),  # EST
        ("2012-03-11", 3600, "2012-03-11 06:00:00"),  # before the 02:00 spring-forward: EST
        ("2012-03-11", 36000, "2012-03-11 14:00:00"),  # after it: EDT
        ("2012-11-04", 3600, "2012-11-04 05:00:00"),  # 01:00 EDT, first pass of the fall-back
        ("2012-11-04", 36000, "2012-11-04 15:00:00"),  # 10:00 EST
    ],
)
def test_load_lobster_time_uses_new_york_offset_of_the_date(tmp_path, date, seconds, utc):
    p = write_lobster(tmp_path, [f"{seconds},1,1,10,1000000,1"], date=date, write_orderbook=False,
                      window=WHOLE_DAY)
    md = load_lobster(p, orderbook=False)
    assert int(md.events["ts_exch"][0]) == _ns(utc)


def test_load_lobster_date_parameter_fills_a_name_without_date(tmp_path):
    p = write_lobster(tmp_path, date=None)
    md = load_lobster(p, date="2012-06-21")
    assert int(md.events["ts_exch"][-1]) == _ns("2012-06-21 13:30:05")
    with pytest.raises(ParameterError, match="date"):
        load_lobster(write_lobster(tmp_path / "b"), date="2012-06-22")


def test_load_lobster_directory_with_two_depths_needs_levels(tmp_path):
    write_lobster(tmp_path)
    obs2 = [row + ",1030000,5,990000,200" for row in BASE_ORDERBOOK]
    write_lobster(tmp_path, BASE_MESSAGES, obs2, levels=2)
    with pytest.raises(ParameterError, match="levels"):
        load_lobster(tmp_path)
    md = load_lobster(tmp_path, levels=2)
    assert md.provenance["levels"] == 2
    assert md.provenance["snapshot_levels"] == (1, 2)


@pytest.mark.parametrize("bad", [{"feed_latency_ns": -1}, {"feed_latency_ns": 1.5},
                                 {"levels": 0}, {"sub_tick_trades": "round"},
                                 {"sub_tick_trades": "drop"}, {"ticker": ""},
                                 {"date": "21/06/2012"}, {"instrument": "GOOG"},
                                 {"instrument": 0.01}, {"instrument": {"tick": 0.01}}])
def test_load_lobster_bad_parameters_raise_parameter_error(tmp_path, bad):
    with pytest.raises(ParameterError):
        load_lobster(write_lobster(tmp_path), **bad)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, lk.NS_PER_DAY - 1), min_size=1, max_size=30),
       st.booleans())
def test_load_lobster_time_text_is_parsed_exactly_to_the_ns(ns_values, strip_zeros):
    ns_values = sorted(ns_values)
    lines = []
    for v in ns_values:
        s, frac = divmod(v, 1_000_000_000)
        text = f"{s}.{frac:09d}"
        if strip_zeros:
            text = text.rstrip("0").rstrip(".")
        lines.append(f"{text},1,1,10,1000000,1")
    with tempfile.TemporaryDirectory() as d:
        md = load_lobster(write_lobster(Path(d), lines, write_orderbook=False, window=WHOLE_DAY),
                          orderbook=False)
    midnight_utc = _ns("2012-06-21 04:00:00")  # EDT all day
    assert md.events["ts_exch"].tolist() == [midnight_utc + v for v in ns_values]


# ---------------------------------------------------------------- kernels
def _block(n: int, seed: int):
    rng = np.random.default_rng(seed)
    ns = np.sort(rng.integers(34_200_000_000_000, 57_600_000_000_000, n))
    typ = rng.integers(1, 8, n)
    oid = rng.integers(0, 10**9, n)
    size = rng.integers(1, 1000, n)
    price = rng.integers(5000, 6000, n) * 100
    price[typ == 5] += np.where(rng.random((typ == 5).sum()) < 0.3, 50, 0)  # some half cents
    price[typ == 7] = rng.integers(-1, 2, (typ == 7).sum())
    direction = np.where(rng.random(n) < 0.5, 1, -1)
    return ns, typ, oid, size, price, direction


def _run_fill(fn, args, n):
    out = empty_events(n)
    prev_line = np.zeros(7, dtype=np.int64)
    dups = np.zeros(n, dtype=np.int64)
    res = fn(out, *args, prev_line, dups)
    return tuple(int(x) for x in res), out, dups, prev_line


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mutate", ["none", "type", "direction", "unsorted", "before_window",
                                    "after_window", "duplicate"])
def test_fill_message_events_jit_matches_py_func(seed, mutate):
    n = 300
    ns, typ, oid, size, price, direction = _block(n, seed)
    if mutate == "type":
        typ[150] = 9
    elif mutate == "direction":
        direction[150] = 0
    elif mutate == "unsorted":
        ns[150] = ns[149] - 1
    elif mutate == "before_window":
        ns[150] = 34_200_000_000_000 - 1
    elif mutate == "after_window":
        ns[150:] = 57_600_000_000_000 + 1
    elif mutate == "duplicate":
        for a in (ns, typ, oid, size, price, direction):
            a[151] = a[150]
    tz = (1340251200000000000, 1340251200000000000, 7_200_000_000_000)
    window = (34_200_000_000_000, 57_600_000_000_000)
    args = (ns, typ, oid, size, price, direction, *window, *tz, 7, 1000,
            np.iinfo(np.int64).min)
    res_j, out_j, dup_j, line_j = _run_fill(lk.fill_message_events, args, n)
    res_p, out_p, dup_p, line_p = _run_fill(_py(lk.fill_message_events), args, n)
    assert res_j == res_p
    assert np.array_equal(out_j, out_p) and np.array_equal(dup_j, dup_p)
    assert np.array_equal(line_j, line_p)
    if mutate in ("none", "duplicate"):
        assert res_j[0] == Status.OK
        assert out_j["seq"].tolist() == list(range(1000, 1000 + n))
        # prices stay in LOBSTER units until the tick is known (to_ticks)
        book = typ != 7
        assert np.array_equal(out_j["px_tick"][book], price[book])
        assert line_j.tolist() == [ns[-1], typ[-1], oid[-1], size[-1], price[-1],
                                   direction[-1], 1]
        assert dup_j[:res_j[4]].tolist() == ([151] if mutate == "duplicate" else [])
    else:
        assert res_j[0] != Status.OK and res_j[1] == 150
        assert res_j[2] == {"type": 1, "direction": 5}.get(mutate, 0)


@pytest.mark.parametrize("unit, raise_", [(100, False), (50, False), (100, True), (7, False)])
def test_to_ticks_jit_matches_py_func_and_marks_sub_tick_trades(unit, raise_):
    ev = empty_events(6)
    ev["kind"] = [EventKind.CLEAR, EventKind.ADD, EventKind.TRADE, EventKind.TRADE,
                  EventKind.HALT, EventKind.DEPTH]
    ev["px_tick"] = [0, 5_794_000, 5_795_050, 5_795_100, 1, 5_793_900]
    got = []
    for fn in (lk.to_ticks, _py(lk.to_ticks)):
        e = ev.copy()
        got.append((tuple(int(x) for x in fn(e, unit, 1_000_000, raise_)), e))
    assert got[0][0] == got[1][0] and np.array_equal(got[0][1], got[1][1])
    (status, i), e = got[0]
    if unit == 7:  # 5,794,000 is not a multiple of 7: a book price off the grid
        assert (status, i) == (Status.OFF_GRID, 1)
    elif raise_:
        assert (status, i) == (Status.OFF_GRID, 2)
    else:
        assert (status, i) == (Status.OK, -1)
        assert e["kind"].tolist() == [EventKind.CLEAR, EventKind.ADD,
                                      EventKind.TRADE_SUBTICK if unit == 100 else EventKind.TRADE,
                                      EventKind.TRADE, EventKind.HALT, EventKind.DEPTH]
        assert e["px_tick"][[0, 4]].tolist() == [0, 1]  # untouched
        assert e["px_tick"][1] * unit == 5_794_000 and e["px_tick"][5] * unit == 5_793_900
        assert e["px_tick"][2] == (57_950_500_000 if unit == 100 else 5_795_050 // 50)


@pytest.mark.parametrize("scale, allow_round, cells, want, quirks", [
    (0, False, ["5", " 17 ", "-3", "+4", "5.0", "12.000", "007"], [5, 17, -3, 4, 5, 12, 7],
     [0, 0, 0, 0, 1, 1, 0]),
    (9, True, ["34200", "34200.5", "34200.015105074", "43002.632812672004", "1.0000000005",
               "1.00000000049999", ".5"],
     [34200 * 10**9, 34200500000000, 34200015105074, 43002632812672, 1000000001, 1000000000,
      500000000], [0, 0, 0, 2, 2, 2, 0]),
])
def test_parse_scaled_reads_decimal_text_exactly(scale, allow_round, cells, want, quirks):
    import pyarrow as pa

    arr = pa.array(["pad"] + cells)[1:]  # a non-zero array offset, as a sliced column has
    bufs = arr.buffers()
    for fn in (lk.parse_scaled, _py(lk.parse_scaled)):
        out = np.zeros(len(cells), dtype=np.int64)
        q = np.zeros(len(cells), dtype=np.uint8)
        status, row = fn(np.frombuffer(bufs[2], np.uint8), np.frombuffer(bufs[1], np.int32),
                         arr.offset, len(cells), scale, allow_round, out, q)
        assert (int(status), int(row)) == (lk.PARSE_OK, -1)
        assert out.tolist() == want and q.tolist() == quirks


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**10), st.text("0123456789", max_size=20), st.booleans(),
       st.sampled_from(["", " ", "\r"]))
def test_parse_scaled_time_equals_decimal_rounded_half_up(whole, frac, point, pad):
    import decimal

    import pyarrow as pa

    text = f"{whole}.{frac}" if point or frac else str(whole)
    arr = pa.array([text + pad])
    bufs = arr.buffers()
    out = np.zeros(1, dtype=np.int64)
    q = np.zeros(1, dtype=np.uint8)
    status, _ = lk.parse_scaled(np.frombuffer(bufs[2], np.uint8), np.frombuffer(bufs[1], np.int32),
                                0, 1, 9, True, out, q)
    want = int(decimal.Decimal(text).scaleb(9).to_integral_value(decimal.ROUND_HALF_UP))
    if want >= 2**63:
        assert int(status) == lk.PARSE_OVERFLOW
    else:
        assert int(status) == lk.PARSE_OK and int(out[0]) == want
        assert bool(q[0] & lk.QUIRK_ROUNDED) == (decimal.Decimal(text).scaleb(9) != want)


@pytest.mark.parametrize("scale, allow_round, cell, code", [
    (0, False, "5.5", lk.PARSE_NOT_WHOLE), (0, False, "abc", lk.PARSE_BAD),
    (0, False, "", lk.PARSE_BAD), (0, False, "1.2.3", lk.PARSE_BAD),
    (0, False, "99999999999999999999", lk.PARSE_OVERFLOW),
    (9, True, "99999999999.5", lk.PARSE_OVERFLOW), (9, True, "3420O", lk.PARSE_BAD),
])
def test_parse_scaled_names_the_first_bad_cell(scale, allow_round, cell, code):
    import pyarrow as pa

    arr = pa.array(["1", cell, "2"])
    bufs = arr.buffers()
    out = np.zeros(3, dtype=np.int64)
    q = np.zeros(3, dtype=np.uint8)
    status, row = lk.parse_scaled(np.frombuffer(bufs[2], np.uint8),
                                  np.frombuffer(bufs[1], np.int32), 0, 3, scale, allow_round,
                                  out, q)
    assert (int(status), int(row)) == (code, 1)


def test_count_crossed_locked_jit_matches_py_func():
    rng = np.random.default_rng(3)
    ask = rng.integers(95, 105, 500)
    bid = rng.integers(95, 105, 500)
    ask[::7] = ASK_EMPTY
    bid[::11] = BID_EMPTY
    got = lk.count_crossed_locked(ask, bid, ASK_EMPTY, BID_EMPTY)
    ref = _py(lk.count_crossed_locked)(ask, bid, ASK_EMPTY, BID_EMPTY)
    assert tuple(map(int, got)) == tuple(map(int, ref))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3), st.booleans(), st.booleans()),
                max_size=60))
def test_count_crossed_locked_matches_vectorised_rule(rows):
    ask = np.array([ASK_EMPTY if e else a for a, _, e, _ in rows], dtype=np.int64)
    bid = np.array([BID_EMPTY if e else b for _, b, _, e in rows], dtype=np.int64)
    valid = (ask != ASK_EMPTY) & (bid != BID_EMPTY)
    crossed, locked = lk.count_crossed_locked(ask, bid, ASK_EMPTY, BID_EMPTY)
    assert int(crossed) == int((valid & (bid > ask)).sum())
    assert int(locked) == int((valid & (bid == ask)).sum())


def test_message_columns_match_event_dtype_fields_used():
    assert lk.MESSAGE_COLUMNS == ("time", "type", "order_id", "size", "price", "direction")
    assert {"ts_exch", "ts_local", "seq", "px_tick", "qty", "order_id", "kind", "side",
            "flags"} <= set(EVENT_DTYPE.names)
