"""The instrument registry: reference rows, user files, lookups and resolve()."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from qlib.data import instruments as I
from qlib.data.infer import infer_step
from qlib.data.report import ValidationReport
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

HEADER = ",".join(I.COLUMNS)


@pytest.fixture(autouse=True)
def _clean_registry(monkeypatch):
    """Every test starts from the reference file alone and leaves it so."""
    monkeypatch.delenv(I.ENV_VAR, raising=False)
    I.reset()
    yield
    I.reset()


def _csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _facts(report: ValidationReport) -> dict[str, object]:
    return {x.fact: x for x in report.inferred}


def _grid(step: float, n: int, start: float = 100.0):
    """A price grid guess from ``n`` distinct values on ``step`` (as decimal strings)."""
    d = max(0, -int(np.floor(np.log10(step))) + 2)
    vals = [f"{start + k * step:.{d}f}" for k in range(n)]
    return infer_step(np.array([float(v) for v in vals]))


# --------------------------------------------------------------------------- reference rows
def test_reference_every_row_has_a_dated_source():
    t = I.table()
    assert len(t) > 40
    for _, r in t.iterrows():
        assert r["source"], r["key"]
        if r["kind"] != "venue":
            assert re.search(r"(19|20)\d\d", r["source"]), f"{r['key']}: source has no date"


@pytest.mark.parametrize("root", ["ES", "MES", "NQ", "MNQ", "RTY", "M2K", "YM", "MYM", "CL", "MCL",
                                  "NG", "GC", "MGC", "SI", "HG", "ZN", "ZB", "ZF", "ZT", "6E",
                                  "6J", "6B", "ZC", "ZS", "ZW"])
def test_reference_cme_root_listed_with_tick_multiplier_currency(root):
    inst = I.lookup(f"{root}H5.GLBX")
    assert inst is not None
    assert inst.currency == "USD" and inst.tick_size > 0 and inst.multiplier > 0
    assert "cmegroup.com" in I.source_of(f"{root}.GLBX")


@pytest.mark.parametrize("root,tick,mult", [
    ("ES", 0.25, 50), ("MES", 0.25, 5), ("NQ", 0.25, 20), ("MNQ", 0.25, 2), ("RTY", 0.1, 50),
    ("M2K", 0.1, 5), ("YM", 1.0, 5), ("MYM", 1.0, 0.5), ("CL", 0.01, 1000), ("MCL", 0.01, 100),
    ("NG", 0.001, 10_000), ("GC", 0.1, 100), ("MGC", 0.1, 10), ("SI", 0.005, 5000),
    ("HG", 0.0005, 25_000), ("ZN", 1 / 64, 1000), ("ZB", 1 / 32, 1000), ("ZF", 1 / 128, 1000),
    ("ZT", 1 / 256, 2000), ("6E", 0.00005, 125_000), ("6J", 0.0000005, 12_500_000),
    ("6B", 0.0001, 62_500), ("ZC", 0.25, 50), ("ZS", 0.25, 50), ("ZW", 0.25, 50)])
def test_reference_cme_tick_value_matches_the_spec(root, tick, mult):
    # the tick values CME publishes: ES $12.50, ZN $15.625, 6J $6.25, ZC $12.50, ...
    inst = I.get(f"{root}.GLBX")
    assert inst.tick_size == pytest.approx(tick, rel=1e-12)
    assert inst.multiplier == pytest.approx(mult, rel=1e-12)


def test_reference_binance_majors_and_coinm_contract_sizes():
    assert I.get("ETHUSDT.BINANCE").lot_size == 0.0001
    for sym in ("BTC", "ETH", "BNB", "SOL", "XRP"):
        assert I.lookup(f"{sym}USDT-PERP.BINANCE").currency == "USDT"
        f = I.facts(f"{sym}USD_PERP.BINANCE")
        assert f["multiplier"] == (100.0 if sym == "BTC" else 10.0)
        assert f["inverse"] is True and f["lot_size"] == 1.0


def test_reference_eurex_rows():
    fesx = I.get("FESXZ4.XEUR")
    assert (fesx.tick_size, fesx.multiplier, fesx.currency) == (1.0, 10.0, "EUR")
    assert I.get("FGBLH25.XEUR").tick_size == 0.01
    assert I.lookup("FDAXH5.XEUR") is None and I.facts("FDAXH5.XEUR")["multiplier"] == 25.0


# --------------------------------------------------------------------------- lookups
def test_lookup_ignores_case_and_keeps_registry_spelling():
    inst = I.lookup("btcusdt.binance")
    assert inst.instrument_id == "BTCUSDT.BINANCE"
    assert (inst.tick_size, inst.lot_size) == (0.01, 0.00001)


@pytest.mark.parametrize("iid,root", [
    ("ESH4.GLBX", "ES"), ("ESZ25.GLBX", "ES"), ("esm5.glbx", "ES"), ("MESU4.GLBX", "MES"),
    ("6EH24.GLBX", "6E"), ("ZNZ4.GLBX", "ZN"), ("ZFH5.GLBX", "ZF"), ("MNQM25.GLBX", "MNQ"),
    ("ES.GLBX", "ES")])
def test_lookup_futures_contract_matches_its_root(iid, root):
    inst = I.lookup(iid)
    assert inst is not None
    assert inst.instrument_id == iid.upper()
    assert inst.tick_size == I.get(f"{root}.GLBX").tick_size
    assert inst.multiplier == I.get(f"{root}.GLBX").multiplier


@pytest.mark.parametrize("iid", ["ESH4.XNAS", "ESH2024.GLBX", "ESX.GLBX", "ESH.GLBX",
                                 "ESH4-ESM4.GLBX", "UNKNOWNZ4.GLBX", "FOOBAR.BINANCE", "AAPL.XNAS"])
def test_lookup_ids_not_matching_return_none(iid):
    assert I.lookup(iid) is None
    assert I.source_of(iid) is None
    assert I.facts(iid) is None


@pytest.mark.parametrize("bad", ["BTCUSDT", "BRK.B.XNYS", "A.B.C", ".BINANCE", "BTCUSDT.", "", 42])
@pytest.mark.parametrize("fn", [I.lookup, I.get, I.source_of, I.facts])
def test_lookup_malformed_id_raises_parameter_error(fn, bad):
    with pytest.raises(ParameterError, match="SYMBOL.VENUE"):
        fn(bad)


def test_get_unknown_names_the_files_and_how_to_add():
    with pytest.raises(ParameterError) as ei:
        I.get("FOOBAR.BINANCE")
    msg = str(ei.value)
    assert "FOOBAR.BINANCE" in msg and "instruments.csv" in msg and "register" in msg


def test_get_row_without_tick_says_so():
    with pytest.raises(ParameterError, match="without tick_size"):
        I.get("SOLUSD_PERP.BINANCE")


def test_venue_defaults_market_and_case():
    vd = I.venue_defaults("binance", "USDM")
    assert vd.key == "BINANCE:usdm" and (vd.maker_fee_bps, vd.taker_fee_bps) == (2.0, 5.0)
    assert vd.currency == "USDT"
    assert I.venue_defaults("BINANCE") is None  # no market-less default
    assert I.venue_defaults("xnas").currency == "USD"
    assert I.venue_defaults("NOWHERE", "spot") is None


# --------------------------------------------------------------------------- user files
def test_register_csv_adds_rows_and_names_the_file(tmp_path):
    p = _csv(tmp_path / "mine.csv", "instrument,FOO.XYZ,0.5,2,,,EUR,,,,my broker's sheet 2026-01")
    I.register(p)
    inst = I.get("foo.xyz")
    assert (inst.tick_size, inst.lot_size, inst.currency) == (0.5, 2.0, "EUR")
    assert "mine.csv" in I.source_of("FOO.XYZ")
    I.reset()
    assert I.lookup("FOO.XYZ") is None


def test_register_later_files_win(tmp_path):
    a = _csv(tmp_path / "a.csv", "instrument,FOO.XYZ,0.5,1,,,USD,,,,a")
    b = _csv(tmp_path / "b.csv", "instrument,FOO.XYZ,0.25,,,,,,,,b")
    I.register(a)
    I.register(b)
    inst = I.get("FOO.XYZ")
    assert inst.tick_size == 0.25 and inst.lot_size == 1.0  # lot kept from a.csv
    assert I.source_of("FOO.XYZ").startswith("b; ")


def test_register_user_row_overrides_reference_instrument_fact_by_fact(tmp_path):
    I.register(_csv(tmp_path / "vip.csv", "instrument,BTCUSDT.BINANCE,,,,,,7.5,7.5,VIP1,my VIP 1"))
    inst = I.get("BTCUSDT.BINANCE")
    assert (inst.maker_fee_bps, inst.taker_fee_bps) == (7.5, 7.5)
    assert (inst.tick_size, inst.lot_size, inst.currency) == (0.01, 0.00001, "USDT")


def test_register_user_venue_row_overrides_fees_and_keeps_currency(tmp_path):
    I.register(_csv(tmp_path / "fees.csv", "venue,binance:SPOT,,,,,,7.5,7.5,VIP1,my VIP 1"))
    vd = I.venue_defaults("BINANCE", "spot")
    assert (vd.maker_fee_bps, vd.taker_fee_bps, vd.fee_tier) == (7.5, 7.5, "VIP1")
    assert vd.currency == "USDT"  # from the reference row
    assert "my VIP 1" in vd.source and "instruments.csv" in vd.source
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="NEWCOINUSDT.BINANCE", market="spot", report=r,
                     price_grid=_grid(0.001, 50))
    assert inst.maker_fee_bps == 7.5
    assert "VIP1" in _facts(r)["fees"].basis


def test_register_yaml_list_and_mapping_forms(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "- {kind: instrument, key: FOO.XYZ, tick_size: 0.5, inverse: true, source: a 2026}\n")
    (tmp_path / "b.yml").write_text(
        "instruments:\n  - kind: root\n    key: ZZ.XYZ\n    tick_size: 0.1\n    multiplier: 3\n"
        "    source: b 2026\n")
    I.register(tmp_path / "a.yaml")
    I.register(tmp_path / "b.yml")
    assert I.get("FOO.XYZ").inverse is True
    assert I.get("ZZH6.XYZ").multiplier == 3.0


def test_env_var_files_read_on_first_use_later_wins(tmp_path, monkeypatch):
    a = _csv(tmp_path / "a.csv", "instrument,FOO.XYZ,0.5,,,,,,,,a")
    b = _csv(tmp_path / "b.csv", "instrument,FOO.XYZ,0.25,,,,,,,,b")
    monkeypatch.setenv(I.ENV_VAR, os.pathsep.join([str(a), str(b)]))
    I.reset()
    assert I.get("FOO.XYZ").tick_size == 0.25
    monkeypatch.setenv(I.ENV_VAR, str(a))
    assert I.get("FOO.XYZ").tick_size == 0.25  # read once ...
    I.reset()
    assert I.get("FOO.XYZ").tick_size == 0.5  # ... and again after reset()


def test_env_var_missing_file_raises_data_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv(I.ENV_VAR, str(tmp_path / "gone.csv"))
    I.reset()
    with pytest.raises(DataNotFoundError, match="gone.csv"):
        I.lookup("BTCUSDT.BINANCE")


def test_register_missing_file_raises_data_not_found(tmp_path):
    with pytest.raises(DataNotFoundError, match="nope.yaml"):
        I.register(tmp_path / "nope.yaml")
    assert I.lookup("BTCUSDT.BINANCE") is not None  # the registry still works


# each malformed case: (file name, text, row named, field named, value named in the message)
MALFORMED = [
    pytest.param("u.csv", "kind,key,tick,source\ninstrument,FOO.XYZ,0.5,s", 1, "tick", "tick",
                 id="csv-unknown-column"),
    pytest.param("u.yaml", "- {kind: instrument, key: FOO.XYZ, tick: 0.5, source: s}", 0, "tick",
                 "0.5", id="yaml-unknown-field"),
    pytest.param("k.csv", f"{HEADER}\ninstrument,,0.5,,,,,,,,s", 2, "key", None,
                 id="missing-key"),
    pytest.param("s.csv", f"{HEADER}\n# a comment\ninstrument,FOO.XYZ,0.5,,,,,,,,", 3, "source",
                 None, id="missing-source"),
    pytest.param("t.csv", f"{HEADER}\ninstrumnet,FOO.XYZ,0.5,,,,,,,,s", 2, "kind", "instrumnet",
                 id="kind-typo"),
    pytest.param("n.csv", f"{HEADER}\ninstrument,FOO.XYZ,abc,,,,,,,,s", 2, "tick_size", "abc",
                 id="non-numeric-tick"),
    pytest.param("z.csv", f"{HEADER}\n\ninstrument,FOO.XYZ,0,,,,,,,,s", 3, "tick_size", "0",
                 id="zero-tick"),
    pytest.param("nan.csv", f"{HEADER}\ninstrument,FOO.XYZ,nan,,,,,,,,s", 2, "tick_size", "nan",
                 id="nan-tick"),
    pytest.param("l.yaml", "- {kind: root, key: FOO.XYZ, lot_size: -1, source: s}", 0, "lot_size",
                 "-1", id="negative-lot"),
    pytest.param("f.csv", f"{HEADER}\ninstrument,FOO.XYZ,0.5,,,,,inf,,,s", 2, "maker_fee_bps",
                 "inf", id="infinite-fee"),
    pytest.param("i.csv", f"{HEADER}\ninstrument,FOO.XYZ,0.5,,,maybe,,,,,s", 2, "inverse",
                 "maybe", id="bad-inverse"),
    pytest.param("d.csv", f"{HEADER}\ninstrument,BRK.B.XNYS,0.01,,,,,,,,s", 2, "key",
                 "BRK.B.XNYS", id="key-two-dots"),
    pytest.param("v.csv", f"{HEADER}\nvenue,GLBX.X,,,,,USD,,,,s", 2, "key", "GLBX.X",
                 id="venue-key-with-dot"),
    pytest.param("vt.csv", f"{HEADER}\nvenue,FOO,0.01,,,,USD,,,,s", 2, "tick_size", "0.01",
                 id="venue-row-with-tick"),
    pytest.param("x.csv", f"{HEADER}\ninstrument,FOO.XYZ,0.5,,,,,,,,s,extra", 2, None, "extra",
                 id="extra-cells"),
    pytest.param("b.yaml", "- {kind: instrument, key: FOO.XYZ\n- oops", 3, None, None,
                 id="bad-yaml"),
    pytest.param("s.yaml", "just a string", None, None, None, id="yaml-not-a-list"),
    pytest.param("e.yaml", "- [1, 2]", 0, None, "[1, 2]", id="yaml-entry-not-a-mapping"),
]


@pytest.mark.parametrize("name,text,row,field,value", MALFORMED)
def test_register_malformed_raises_naming_file_row_field_value(tmp_path, name, text, row, field,
                                                               value):
    p = tmp_path / name
    p.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(DataQualityError) as ei:
        I.register(p)
    e, msg = ei.value, str(ei.value)
    assert e.file == str(p) and str(p) in msg
    assert e.row == row
    if row is not None:
        assert f"row {row}" in msg
    assert e.field == field
    if field is not None:
        assert repr(field) in msg
    if value is not None:
        assert value in msg
    assert "np." not in msg
    assert I.lookup("FOO.XYZ") is None  # nothing of the bad file was kept


def test_register_bad_row_leaves_earlier_files(tmp_path):
    I.register(_csv(tmp_path / "ok.csv", "instrument,FOO.XYZ,0.5,,,,,,,,ok"))
    with pytest.raises(DataQualityError):
        I.register(_csv(tmp_path / "bad.csv", "instrument,FOO.XYZ,-1,,,,,,,,bad"))
    assert I.get("FOO.XYZ").tick_size == 0.5


# --------------------------------------------------------------------------- resolve
def test_resolve_instrument_is_used_as_is():
    inst = Instrument("X.Y", tick_size=0.3)
    r = ValidationReport("t")
    assert I.resolve(inst, instrument_id="BTCUSDT.BINANCE", report=r) is inst
    assert r.inferred == [] and r.notes == []


def test_resolve_id_string_is_looked_up_and_noted():
    r = ValidationReport("t")
    inst = I.resolve("ESH4.GLBX", instrument_id="whatever.X", report=r)
    assert inst.tick_size == 0.25 and inst.multiplier == 50.0
    assert any("ESH4.GLBX" in n and "instruments.csv" in n for n in r.notes)
    with pytest.raises(ParameterError, match="NOPE.X"):
        I.resolve("NOPE.X", instrument_id="whatever.X", report=r)


def test_resolve_dict_overrides_registry_fact():
    r = ValidationReport("t")
    inst = I.resolve({"taker_fee_bps": 3.0}, instrument_id="BTCUSDT.BINANCE", report=r,
                     price_grid=_grid(0.01, 50, 60000.0))
    assert inst.taker_fee_bps == 3.0 and inst.tick_size == 0.01 and inst.maker_fee_bps == 10.0
    f = _facts(r)["taker_fee_bps"]
    assert (f.value, f.confidence) == (3.0, "certain") and "caller" in f.basis
    assert any("overridden" in n for n in r.notes)


def test_resolve_dict_override_unknown_field_names_it():
    with pytest.raises(ParameterError, match=r"\['tick'\]"):
        I.resolve({"tick": 0.5}, instrument_id="BTCUSDT.BINANCE", report=ValidationReport("t"))


def test_resolve_dict_override_bad_value_raises_parameter_error():
    with pytest.raises(ParameterError, match="tick_size"):
        I.resolve({"tick_size": 0}, instrument_id="BTCUSDT.BINANCE", report=ValidationReport("t"))


def test_resolve_dict_tick_for_unknown_id_needs_no_price_grid():
    r = ValidationReport("t")
    inst = I.resolve({"tick_size": 0.5, "instrument_id": "BAR.XYZ"}, instrument_id="FOO.XYZ",
                     report=r)
    assert inst.instrument_id == "BAR.XYZ" and inst.tick_size == 0.5
    assert _facts(r)["tick_size"].confidence == "certain"


def test_resolve_none_registry_hit_reports_the_row():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="BTCUSDT-PERP.BINANCE", report=r,
                     price_grid=_grid(0.1, 200, 60000.0), lot_grid=_grid(0.001, 40, 0.001))
    assert inst == I.get("BTCUSDT-PERP.BINANCE")
    f = _facts(r)
    assert f["instrument"].confidence == "certain" and "registry" in f["instrument"].basis
    assert "tick_size" not in f and "lot_size" not in f and "fees" not in f


def test_resolve_none_registry_tick_kept_with_few_distinct_prices_on_it():
    # three ES prices: decimal step 0.01 (low confidence), but all lie on the 0.25 tick
    g = infer_step(np.array([4799.0, 4799.25, 4799.5]))
    assert g.step == 0.01 and g.common_step == 0.25
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="ESH4.GLBX", report=r, price_grid=g)
    assert inst.tick_size == 0.25
    assert "tick_size" not in _facts(r)


def test_resolve_none_registry_hit_prices_off_tick_uses_inferred_grid():
    r = ValidationReport("t")
    g = _grid(0.01, 150, 60000.0)  # a USD-M file printing cents: the venue changed the tick
    inst = I.resolve(None, instrument_id="BTCUSDT-PERP.BINANCE", report=r, price_grid=g)
    assert inst.tick_size == 0.01 and inst.lot_size == 0.001
    f = _facts(r)["tick_size"]
    assert f.value == 0.01 and f.confidence == "high"
    assert "off the registry's tick 0.1" in f.basis and "gcd of 150" in f.basis


def test_resolve_none_registry_hit_quantities_off_lot_uses_inferred_lot():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="BTCUSDT.BINANCE", report=r,
                     lot_grid=_grid(0.000001, 30, 0.000001))
    assert inst.lot_size == pytest.approx(1e-6)
    assert "off the registry's lot 1e-05" in _facts(r)["lot_size"].basis


def test_resolve_none_unknown_infers_tick_lot_and_assumes_venue_defaults():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="NEWUSDT-PERP.BINANCE", report=r, market="usdm",
                     price_grid=_grid(0.0001, 120, 1.0), lot_grid=_grid(1.0, 25, 1.0))
    assert inst.tick_size == pytest.approx(0.0001) and inst.lot_size == 1.0
    assert (inst.currency, inst.maker_fee_bps, inst.taker_fee_bps) == ("USDT", 2.0, 5.0)
    f = _facts(r)
    assert (f["tick_size"].value, f["tick_size"].confidence) == (inst.tick_size, "high")
    assert "gcd of 120 distinct prices" in f["tick_size"].basis
    assert (f["lot_size"].value, f["lot_size"].confidence) == (1.0, "medium")
    assert (f["currency"].value, f["currency"].confidence) == ("USDT", "assumed")
    assert "BINANCE usdm default" in f["currency"].basis
    assert f["fees"].value == "maker 2 bps, taker 5 bps" and f["fees"].confidence == "assumed"
    assert "VIP0" in f["fees"].basis
    assert (f["multiplier"].value, f["multiplier"].confidence) == (1.0, "assumed")
    assert "instrument" not in f


def test_resolve_none_unknown_without_venue_default_assumes_usd_and_zero_fees():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="FOO.NOWHERE", report=r, price_grid=_grid(0.5, 30))
    assert (inst.currency, inst.maker_fee_bps, inst.taker_fee_bps) == ("USD", 0.0, 0.0)
    f = _facts(r)
    assert "no default for NOWHERE" in f["currency"].basis
    assert "no fee schedule known for NOWHERE" in f["fees"].basis
    assert (f["lot_size"].value, f["lot_size"].confidence) == (1.0, "assumed")


def test_resolve_none_unknown_without_price_grid_names_fact_and_argument():
    with pytest.raises(ParameterError) as ei:
        I.resolve(None, instrument_id="FOO.XYZ", report=ValidationReport("t"))
    msg = str(ei.value)
    assert "tick_size" in msg and "instrument=" in msg and "FOO.XYZ" in msg


def test_resolve_none_malformed_id_raises():
    with pytest.raises(ParameterError, match="exactly one dot"):
        I.resolve(None, instrument_id="BRK.B.XNYS", report=ValidationReport("t"),
                  price_grid=_grid(0.01, 30))


def test_resolve_known_facts_certain_and_rule_based_high():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="NEWUSD_PERP.BINANCE", report=r, market="coinm",
                     price_grid=_grid(0.001, 30, 5.0),
                     known={"currency": "USD", "inverse": True, "multiplier": 10.0,
                            "multiplier_basis": "COIN-M rule: altcoin contracts are 10 USD"})
    assert (inst.currency, inst.inverse, inst.multiplier) == ("USD", True, 10.0)
    f = _facts(r)
    assert (f["currency"].confidence, f["inverse"].confidence) == ("certain", "certain")
    assert f["multiplier"].confidence == "high" and "COIN-M rule" in f["multiplier"].basis


def test_resolve_known_tick_needs_no_grid_and_is_checked_against_data():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="FOO.XYZ", report=r, known={"tick_size": 0.5})
    assert inst.tick_size == 0.5
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="FOO.XYZ", report=r, known={"tick_size": 0.5},
                     price_grid=_grid(0.25, 40))
    assert inst.tick_size == 0.25
    assert "off the format's tick 0.5" in [x for x in r.inferred if x.fact == "tick_size"][-1].basis


def test_resolve_registry_wins_over_known():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="BTCUSD_PERP.BINANCE", report=r,
                     price_grid=_grid(0.1, 50, 60000.0), known={"multiplier": 5.0})
    assert inst.multiplier == 100.0


def test_resolve_partial_registry_row_infers_the_tick():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="XRPUSD_PERP.BINANCE", report=r, market="coinm",
                     price_grid=_grid(0.0001, 60, 0.5))
    assert inst.tick_size == pytest.approx(0.0001)
    assert (inst.multiplier, inst.inverse, inst.lot_size, inst.currency) == (10.0, True, 1.0, "USD")
    f = _facts(r)
    assert f["instrument"].confidence == "certain"
    assert f["tick_size"].confidence == "medium"  # 60 distinct prices
    assert f["fees"].confidence == "assumed"


def test_resolve_root_contract_with_override():
    r = ValidationReport("t")
    inst = I.resolve({"maker_fee_bps": 0.1}, instrument_id="ESZ25.GLBX", report=r,
                     price_grid=_grid(0.25, 30, 5000.0))
    assert inst.instrument_id == "ESZ25.GLBX"
    assert (inst.tick_size, inst.multiplier, inst.maker_fee_bps) == (0.25, 50.0, 0.1)


def test_resolve_wrong_instrument_type_raises():
    with pytest.raises(ParameterError, match="was int"):
        I.resolve(3, instrument_id="BTCUSDT.BINANCE", report=ValidationReport("t"))


# --------------------------------------------------------------------------- equity rule
@pytest.mark.parametrize("price,tick", [(1.0, 0.01), (580.12, 0.01), (0.9999, 0.0001),
                                        (0.0001, 0.0001), (1e6, 0.01)])
def test_equity_tick_rule_612(price, tick):
    assert I.equity_tick(price, "XNAS") == tick


def test_equity_tick_array_half_penny_and_case():
    out = I.equity_tick(np.array([0.5, 1.0, 25.0]), "xnys")
    assert out.tolist() == [0.0001, 0.01, 0.01]
    assert I.equity_tick(25.0, "XNAS", half_penny=True) == 0.005
    assert I.equity_tick(0.5, "XNAS", half_penny=True) == 0.0001


def test_equity_tick_refuses_other_venues_and_bad_prices():
    with pytest.raises(ParameterError, match="GLBX"):
        I.equity_tick(10.0, "GLBX")
    with pytest.raises(ParameterError, match="price was -1.0"):
        I.equity_tick([1.0, -1.0], "XNAS")
    with pytest.raises(ParameterError, match="nan"):
        I.equity_tick(float("nan"), "XNAS")


def test_resolve_venue_row_without_fees_says_so():
    r = ValidationReport("t")
    inst = I.resolve(None, instrument_id="AAPL.XNAS", report=r, price_grid=_grid(0.01, 300, 180.0))
    assert (inst.tick_size, inst.currency, inst.taker_fee_bps) == (0.01, "USD", 0.0)
    f = _facts(r)
    assert "no bps fee schedule for XNAS" in f["fees"].basis and "per share" in f["fees"].basis
    assert "XNAS default" in f["currency"].basis
    # the inferred grid agrees with Rule 612 for prices at or above $1
    assert inst.tick_size == I.equity_tick(180.0, "XNAS")


def test_resolve_caller_override_beats_known_and_known_numbers_are_plain():
    r = ValidationReport("t")
    inst = I.resolve({"multiplier": 7.0}, instrument_id="FOO.XYZ", report=r,
                     price_grid=_grid(0.5, 30), known={"multiplier": 3.0, "lot_size": np.int64(2)})
    assert inst.multiplier == 7.0 and inst.lot_size == 2.0 and type(inst.lot_size) is float
    mult = [x for x in r.inferred if x.fact == "multiplier"]
    assert [(x.value, x.confidence) for x in mult] == [(7.0, "certain")]
    with pytest.raises(ParameterError, match="known lot_size was 'x'"):
        I.resolve(None, instrument_id="FOO.XYZ", report=r, price_grid=_grid(0.5, 30),
                  known={"lot_size": "x"})


def test_reference_simulated_market_row_equals_the_simulator_instrument():
    from qlib.data.simulate import SIM_INSTRUMENT

    assert I.get("SIM.QLIB") == SIM_INSTRUMENT
