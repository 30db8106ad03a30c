"""MarketData, check_events, the ValidationReport and the source dispatch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.data import MarketData, ValidationReport, check_events
from qlib.data import _kernels
from qlib.data.sources import SOURCES, load
from qlib.dtypes import empty_events
from qlib.enums import EventKind, Side
from qlib.errors import DataQualityError, ParameterError, SchemaError
from qlib.instrument import Instrument

INST = Instrument("TEST.SIM", tick_size=0.01)


def _events(n: int = 5) -> np.ndarray:
    ev = empty_events(n)
    ev["ts_exch"] = np.arange(n) * 1_000_000 + 1_700_000_000_000_000_000
    ev["ts_local"] = ev["ts_exch"] + 500
    ev["kind"] = EventKind.DEPTH
    ev["side"] = np.where(np.arange(n) % 2 == 0, Side.BUY, Side.SELL)
    ev["px_tick"] = 10_000 + np.arange(n)
    ev["qty"] = 1.5
    return ev


def test_check_events_counts_kinds_span_and_out_of_order():
    ev = _events(6)
    ev["kind"][:2] = EventKind.TRADE
    ev["ts_exch"][3] = ev["ts_exch"][0] - 1  # goes backwards once
    rep = check_events(ev, ValidationReport("t"))
    assert rep.rows == 6
    assert rep.rows_by_kind == {"TRADE": 2, "DEPTH": 4}
    assert rep.out_of_order_rows == 1
    assert rep.ts_first == ev["ts_exch"].min() and rep.ts_last == ev["ts_exch"].max()


@pytest.mark.parametrize(
    "field, value, fragment",
    [("qty", np.nan, "NON_FINITE"), ("qty", -1.0, "NEGATIVE_QTY"),
     ("kind", 0, "UNKNOWN_KIND"), ("kind", 200, "UNKNOWN_KIND"), ("side", 3, "UNKNOWN_KIND")],
)
def test_check_events_bad_row_raises_naming_row(field, value, fragment):
    ev = _events(4)
    ev[field][2] = value
    with pytest.raises(DataQualityError, match=rf"row 2.*{fragment}"):
        check_events(ev)


def test_scan_events_kernel_matches_py_func():
    ev = _events(50)
    ev["ts_exch"][[7, 30]] -= 10_000_000
    c1, c2 = np.zeros(16, np.int64), np.zeros(16, np.int64)
    assert _kernels.scan_events(ev, c1) == _kernels.scan_events.py_func(ev, c2)
    np.testing.assert_array_equal(c1, c2)


def test_max_kind_constant_matches_enum():
    assert _kernels._MAX_KIND == max(int(k) for k in EventKind)


def test_market_data_to_pandas_converts_units():
    md = MarketData(_events(3), INST, check_events(_events(3)))
    df = md.to_pandas()
    assert str(df["ts_exch"].dtype) == "datetime64[ns, UTC]"
    assert df["price"].tolist() == [100.0, 100.01, 100.02]
    assert list(df["kind"].astype(str)) == ["DEPTH"] * 3
    assert len(md) == 3 and "TEST.SIM" in repr(md)


def test_market_data_between_selects_half_open_interval():
    ev = _events(10)
    md = MarketData(ev, INST, check_events(ev))
    sub = md.between(int(ev["ts_exch"][2]), pd.Timestamp(int(ev["ts_exch"][5]), tz="UTC"))
    assert sub.events["ts_exch"].tolist() == ev["ts_exch"][2:5].tolist()


def test_market_data_wrong_dtype_raises_schema_error():
    with pytest.raises(SchemaError):
        MarketData(np.zeros(3), INST, ValidationReport("x"))


def test_validation_report_records_drops_and_gaps_in_frames():
    rep = ValidationReport("x")
    for row in range(7):
        rep.drop("before snapshot", "f.gz", row)
    rep.gap("f.gz", 10, "pu", expected=5, was=9)
    assert rep.rows_dropped == 7
    assert rep.drops_frame()["count"].tolist() == [7]
    assert rep.drops_frame()["examples"][0].count("f.gz:") == 5
    assert rep.gaps_frame().iloc[0].to_dict() == {
        "file": "f.gz", "row": 10, "field": "pu", "expected": 5, "was": 9}
    assert "before snapshot" in rep._repr_html_() and "dropped 7" in str(rep)


def test_load_unknown_source_raises_parameter_error_listing_sources():
    with pytest.raises(ParameterError, match="lobster"):
        load("bloomberg", "x")


def test_load_file_source_without_path_raises():
    with pytest.raises(ParameterError, match="needs a path"):
        load("lobster")


def test_sources_cover_every_loader_of_the_issue():
    assert set(SOURCES) == {"simulated", "lobster", "binance", "tardis", "databento", "store"}
