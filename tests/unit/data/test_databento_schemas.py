"""load_databento on every schema it reads (MBP-10, MBP-1, TBBO, trades, MBO), multi-symbol
files, instruments taken from the file, and the shared MBO day rewritten as MBP-10 and
under other symbols (in tmp_path, never committed)."""

from __future__ import annotations

import databento_dbn as dbn
import numpy as np
import pytest
import zstandard
from lobster_dbn_builders import (
    F_LAST,
    T0,
    dbn_bytes,
    definition,
    mbo,
    mbp,
    trade,
    write_dbn,
)

from qlib.book import depth_snapshots
from qlib.data._databento_schemas import MBP10_RECORD_DTYPE, dataset_venue
from qlib.data.databento import OTHER_INSTRUMENT_REASON, load_databento, load_databento_all
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import ParameterError

ESH4 = "databento-glbx-esh4-mbo-2023-12-25/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
UNDEF = 2**63 - 1


def _book_states(rng, n, base, tick, levels=10):
    """Random distinct books: ``levels`` bids below ``mid`` and asks above it, sizes 1-9."""
    out = []
    for _ in range(n):
        mid = base + tick * int(rng.integers(-5, 6))
        nb, na = int(rng.integers(0, levels + 1)), int(rng.integers(1, levels + 1))
        bid_off = np.sort(rng.choice(np.arange(1, 25), nb, replace=False))
        ask_off = np.sort(rng.choice(np.arange(1, 25), na, replace=False))
        bids = [(mid - tick * int(o), int(rng.integers(1, 10))) for o in bid_off]
        asks = [(mid + tick * int(o), int(rng.integers(1, 10))) for o in ask_off]
        out.append((bids, asks))
    return out


def _top(df, row, side, levels):
    px = df[[f"{side}_px_{j}" for j in range(1, levels + 1)]].to_numpy()[row]
    qty = df[[f"{side}_qty_{j}" for j in range(1, levels + 1)]].to_numpy()[row]
    return [(float(p), float(q)) for p, q in zip(px, qty) if q > 0]


# ---------------------------------------------------------------- MBP-10 / MBP-1 / TBBO
@pytest.mark.parametrize("depth10", [True, False], ids=["mbp-10", "mbp-1"])
def test_mbp_book_equals_every_record_levels(tmp_path, depth10):
    rng = np.random.default_rng(7)
    n_lv = 10 if depth10 else 1
    states = _book_states(rng, 300, 4800.0, 0.25, n_lv)
    recs = [mbp("A", "B", b[0][0] if b else a[0][0], 1, b, a, ts=T0 + i, seq=i,
                depth10=depth10) for i, (b, a) in enumerate(states)]
    p = write_dbn(tmp_path / "x.dbn.zst", recs, schema="mbp-10" if depth10 else "mbp-1",
                  mappings={"ESH4": 17077})
    md = load_databento(p)
    assert md.instrument.instrument_id == "ESH4.GLBX" and md.instrument.multiplier == 50.0
    assert set(np.unique(md.events["kind"]).tolist()) == {EventKind.DEPTH}
    assert int((md.events["flags"] & EventFlag.LAST != 0).sum()) == len(recs)
    df = depth_snapshots(md, n_lv)
    assert len(df) == len(recs)
    for i, (bids, asks) in enumerate(states):
        assert _top(df, i, "bid", n_lv) == [(float(p), float(q)) for p, q in bids[:n_lv]]
        assert _top(df, i, "ask", n_lv) == [(float(p), float(q)) for p, q in asks[:n_lv]]


def test_mbp10_unchanged_levels_emit_nothing_and_a_level_leaving_is_removed(tmp_path):
    b1 = [(4800.0 - 0.25 * j, 1) for j in range(10)]
    a1 = [(4800.25, 5)]
    b2 = [(4800.25, 2)] + b1[:9]  # a better bid pushes 4797.75 out of the window
    recs = [mbp("A", "B", 4800.0, 1, b1, a1, ts=T0), mbp("A", "B", 4800.25, 2, b2, a1, ts=T0 + 1)]
    md = load_databento(write_dbn(tmp_path / "x.dbn.zst", recs, schema="mbp-10"))
    ev = md.events[11:]
    assert sorted((int(e["px_tick"]), float(e["qty"])) for e in ev) == [
        (int(4797.75 * 4), 0.0), (int(4800.25 * 4), 2.0)]


def test_mbp1_trade_comes_before_the_depth_and_tbbo_after(tmp_path):
    b, a = [(4800.0, 3)], [(4800.25, 4)]
    for schema, order in (("mbp-1", [EventKind.TRADE, EventKind.DEPTH, EventKind.DEPTH]),
                          ("tbbo", [EventKind.DEPTH, EventKind.DEPTH, EventKind.TRADE])):
        recs = [mbp("T", "A", 4800.0, 2, b, a, ts=T0, depth10=False)]
        md = load_databento(write_dbn(tmp_path / f"{schema}.dbn", recs, schema=schema,
                                      compress=False))
        assert md.events["kind"].tolist() == order
        tr = md.events[md.events["kind"] == EventKind.TRADE][0]
        assert (int(tr["side"]), int(tr["px_tick"]), float(tr["qty"])) == (Side.SELL, 19200, 2.0)
        assert md.events["flags"].tolist() == [0, 0, int(EventFlag.LAST)]


def test_mbp_clear_record_gives_clear_then_levels(tmp_path):
    b, a = [(4800.0, 3)], [(4800.25, 4)]
    recs = [mbp("A", "B", 4800.0, 3, b, a, ts=T0),
            mbp("R", "N", float("nan"), 0, [(4799.0, 1)], [], ts=T0 + 1)]
    md = load_databento(write_dbn(tmp_path / "r.dbn.zst", recs, schema="mbp-10"))
    kinds = md.events["kind"].tolist()
    assert kinds[2] == EventKind.CLEAR
    df = depth_snapshots(md, 2)
    assert _top(df, len(df) - 1, "bid", 2) == [(4799.0, 1.0)]
    assert _top(df, len(df) - 1, "ask", 2) == []


# ---------------------------------------------------------------- trades
def test_trades_schema_gives_trades_with_aggressor_side(tmp_path):
    recs = [trade("B", 4800.25, 2, ts=T0, seq=1), trade("A", 4800.0, 1, ts=T0 + 1, seq=2),
            trade("N", 4800.5, 3, ts=T0 + 2, seq=3)]
    md = load_databento(write_dbn(tmp_path / "t.dbn.zst", recs, schema="trades"))
    ev = md.events
    assert (ev["kind"] == EventKind.TRADE).all()
    assert ev["side"].tolist() == [Side.BUY, Side.SELL, Side.NONE]
    assert ev["px_tick"].tolist() == [19201, 19200, 19202]
    assert ev["qty"].tolist() == [2.0, 1.0, 3.0] and ev["seq"].tolist() == [1, 2, 3]


# ---------------------------------------------------------------- several instruments, definitions
def _two_instrument_file(tmp_path, *, with_defs=True):
    recs = [definition("ESH4", 17077, 0.25), definition("QXF4", 42, 0.05, multiplier=10.0,
                                                        currency="EUR", lot=2)] if with_defs else []
    for i in range(30):
        recs.append(trade("B", 4800.0 + 0.25 * (i % 7), 1, ts=T0 + 2 * i, instrument_id=17077))
        recs.append(trade("A", 71.0 + 0.05 * (i % 11), 2, ts=T0 + 2 * i + 1, instrument_id=42))
    return write_dbn(tmp_path / "two.trades.dbn.zst", recs, schema="trades",
                     symbols=("ESH4", "QXF4"), mappings={"ESH4": 17077, "QXF4": 42})


def test_multi_instrument_file_needs_symbol_and_lists_the_symbols(tmp_path):
    p = _two_instrument_file(tmp_path)
    with pytest.raises(ParameterError) as exc:
        load_databento(p)
    msg = str(exc.value)
    assert "symbol=" in msg and "ESH4 (17077)" in msg and "QXF4 (42)" in msg and p.name in msg


def test_symbol_option_counts_and_drops_the_others(tmp_path):
    p = _two_instrument_file(tmp_path)
    md = load_databento(p, symbol="QXF4")
    reason = f"{OTHER_INSTRUMENT_REASON} (ESH4)"
    assert md.report.drops[reason].count == 30 and len(md) == 30
    assert md.report.rows_read == 62  # 60 trades + 2 definitions
    assert md.report.drops["non-market record (InstrumentDefMsg)"].count == 2
    inst = md.instrument
    assert (inst.instrument_id, inst.tick_size, inst.multiplier, inst.currency,
            inst.lot_size) == ("QXF4.GLBX", 0.05, 10.0, "EUR", 2.0)
    with pytest.raises(ParameterError, match="'NOPE'"):
        load_databento(p, symbol="NOPE")


def test_load_databento_all_gives_one_market_data_per_instrument(tmp_path):
    out = load_databento_all(_two_instrument_file(tmp_path))
    assert sorted(out) == ["ESH4", "QXF4"]
    es, qx = out["ESH4"], out["QXF4"]
    assert es.instrument.tick_size == 0.25 and es.instrument.multiplier == 50.0
    assert qx.instrument.tick_size == 0.05 and len(es) == len(qx) == 30
    assert (es.events["px_tick"] // 1 == es.events["px_tick"]).all()
    assert qx.to_pandas()["price"].round(2).min() == 71.0


def test_companion_definitions_file_gives_the_tick(tmp_path):
    p = _two_instrument_file(tmp_path, with_defs=False)
    defs = write_dbn(tmp_path / "defs.definition.dbn.zst",
                     [definition("QXF4", 42, 0.01, multiplier=7.0)], schema="definition")
    md = load_databento(p, symbol="QXF4", definitions=defs)
    assert md.instrument.tick_size == 0.01 and md.instrument.multiplier == 7.0
    assert any(i.fact == "tick_size" and "min_price_increment" in i.basis
               for i in md.report.inferred)
    md2 = load_databento(p, symbol="QXF4")  # no definition: 11 distinct prices -> decimal step
    assert md2.instrument.tick_size == 0.01 and md2.instrument.multiplier == 1.0
    assert any(i.fact == "tick_size" and i.confidence == "low" for i in md2.report.inferred)


def test_spread_definition_allows_negative_prices(tmp_path):
    recs = [definition("ESH4-ESM4", 7, 0.05, instrument_class="S")]
    recs += [trade("B", -12.5 + 0.05 * i, 1, ts=T0 + i, instrument_id=7) for i in range(5)]
    md = load_databento(write_dbn(tmp_path / "s.trades.dbn.zst", recs, schema="trades",
                                  symbols=("ESH4-ESM4",), mappings={"ESH4-ESM4": 7}))
    assert md.events["px_tick"][0] == -250
    assert md.provenance["definition"]["instrument_class"] == "S"


def test_dataset_venue_map_and_prefix_fallback():
    assert dataset_venue("GLBX.MDP3")[0] == "GLBX"
    assert dataset_venue("XNAS.ITCH")[0] == "XNAS"
    assert dataset_venue("OPRA.PILLAR")[0] == "OPRA"
    v, basis = dataset_venue("ABCD.NEWFEED")
    assert v == "ABCD" and "prefix" in basis


def test_other_dataset_gives_its_venue(tmp_path):
    recs = [trade("B", 190.01 + 0.01 * i, 100, ts=T0 + i, instrument_id=5) for i in range(25)]
    md = load_databento(write_dbn(tmp_path / "a.trades.dbn.zst", recs, schema="trades",
                                  dataset="XNAS.ITCH", symbols=("AAPL",),
                                  mappings={"AAPL": 5}))
    assert md.instrument.instrument_id == "AAPL.XNAS" and md.instrument.tick_size == 0.01


# ---------------------------------------------------------------- the shared MBO day, rewritten
def _mbo_raw(shared_data):
    p = shared_data / ESH4
    raw = zstandard.ZstdDecompressor().stream_reader(open(p, "rb")).read()
    meta_len = 8 + int.from_bytes(raw[4:8], "little")
    return raw[:meta_len], raw[meta_len:]


@pytest.mark.realdata
def test_mbp10_built_from_the_mbo_day_reproduces_its_top_10_at_every_record(shared_data,
                                                                            tmp_path):
    mbo_md = load_databento(shared_data / ESH4)
    ref = depth_snapshots(mbo_md, 10, at_last_only=False)
    cols = [c for c in ref.columns if c != "ts_exch"]
    vals = ref[cols].to_numpy()
    key = np.nan_to_num(vals, nan=-1.0)
    new = np.ones(len(key), dtype=bool)
    new[1:] = (key[1:] != key[:-1]).any(axis=1)  # records only where the top 10 changed
    vals, rows = vals[new], ref.index.to_numpy()[new]
    ev = mbo_md.events[rows]
    recs = np.zeros(len(rows), dtype=MBP10_RECORD_DTYPE)
    recs["length"], recs["rtype"] = MBP10_RECORD_DTYPE.itemsize // 4, 0x0A
    recs["publisher_id"], recs["instrument_id"] = 1, 17077
    recs["ts_event"], recs["ts_recv"] = ev["ts_exch"], ev["ts_local"]
    recs["sequence"] = ev["seq"]
    recs["price"] = ev["px_tick"] * 250_000_000
    recs["size"] = ev["qty"]
    recs["action"], recs["side"] = b"A", b"B"
    recs["flags"] = F_LAST
    for j in range(10):
        for s in ("ask", "bid"):
            px = vals[:, cols.index(f"{s}_px_{j + 1}")]
            qty = vals[:, cols.index(f"{s}_qty_{j + 1}")]
            lv = recs["levels"][:, j]
            lv[f"{s}_px"] = np.where(qty > 0, np.round(np.nan_to_num(px) * 1e9), 0).astype(
                np.int64)
            lv[f"{s}_px"][qty == 0] = UNDEF
            lv[f"{s}_sz"] = qty
    p = tmp_path / "esh4.mbp-10.dbn.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(
        dbn_bytes([], schema="mbp-10", symbols=("ESH4",), mappings={"ESH4": 17077})
        + recs.tobytes()))
    md = load_databento(p)
    assert md.instrument.instrument_id == "ESH4.GLBX"
    got = depth_snapshots(md, 10)
    assert len(got) == len(rows)
    assert np.array_equal(np.nan_to_num(got[cols].to_numpy(), nan=-1.0),
                          np.nan_to_num(vals, nan=-1.0))


@pytest.mark.parametrize("symbol, tick, mult", [("NQH4", 0.25, 20.0), ("QXH4", 0.25, 1.0)])
@pytest.mark.realdata
def test_shared_mbo_day_under_another_symbol_loads_without_instrument(shared_data, tmp_path,
                                                                     symbol, tick, mult):
    meta_bytes, body = _mbo_raw(shared_data)
    dec = dbn.DBNDecoder()
    dec.write(meta_bytes)
    meta = dec.decode()[0]
    recs = np.frombuffer(body, dtype=np.uint8).reshape(-1, 56).copy()
    recs[:, 4:8] = np.frombuffer((4242).to_bytes(4, "little"), dtype=np.uint8)
    data = dbn_bytes([], schema="mbo", symbols=(symbol,), mappings={symbol: 4242},
                     start=int(meta.start)) + recs.tobytes()
    p = tmp_path / f"{symbol.lower()}.mbo.dbn.zst"
    p.write_bytes(zstandard.ZstdCompressor().compress(data))
    md = load_databento(p)
    src = load_databento(shared_data / ESH4)
    assert md.instrument.instrument_id == f"{symbol}.GLBX"
    assert (md.instrument.tick_size, md.instrument.multiplier) == (tick, mult)
    assert np.array_equal(md.events, src.events)
    assert md.provenance["book_check"] == src.provenance["book_check"]
