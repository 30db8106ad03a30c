"""Several sessions in one MarketData, and the report's kept rows and inferred facts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qlib.book import bbo
from qlib.data import MarketData, check_events
from qlib.data.market_data import concat_sessions
from qlib.data.report import Inferred, ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument

INST = Instrument("T.SIM", tick_size=0.01)
DAY = 86_400 * 10**9


def _day(t0: int, bid: int, ask: int, label: str = "d") -> MarketData:
    ev = empty_events(3)
    ev[0] = (t0, t0, 0, bid, 5.0, 0, EventKind.DEPTH, Side.BUY, EventFlag.LAST)
    ev[1] = (t0 + 1, t0 + 1, 1, ask, 7.0, 0, EventKind.DEPTH, Side.SELL, EventFlag.LAST)
    ev[2] = (t0 + 2, t0 + 2, 2, ask, 1.0, 0, EventKind.TRADE, Side.BUY, EventFlag.LAST)
    report = check_events(ev, ValidationReport("test"))
    report.drop("a reason", label, 1)
    report.keep("a quirk", label, 2)
    report.infer("tick_size", 0.01, "test", "high")
    return MarketData(ev, INST, report, {"label": label})


def test_concat_sessions_orders_days_and_clears_the_book_between_them():
    day1, day2 = _day(0, 100, 101, "one"), _day(DAY, 200, 202, "two")

    md = concat_sessions([day2, day1])

    assert md.sessions["date"].tolist() == ["1970-01-01", "1970-01-02"]
    assert md.sessions["first_row"].tolist() == [0, 4]
    assert md.sessions["rows"].tolist() == [4, 4]
    assert len(md) == 8 and md.events["kind"][4] == EventKind.CLEAR
    b = bbo(md)
    assert b["bid_px"].iloc[-1] == 2.0 and b["ask_px"].iloc[-1] == 2.02
    # day two's book holds none of day one's levels
    assert b.loc[b.index >= 4, "bid_px"].min() == 2.0


def test_concat_sessions_merges_reports_keeps_counts():
    md = concat_sessions([_day(0, 100, 101, "one"), _day(DAY, 200, 202, "two")])

    assert md.report.drops["a reason"].count == 2
    assert md.report.kept["a quirk"].count == 2
    assert [i.fact for i in md.report.inferred] == ["tick_size", "tick_size"]
    assert md.report.rows == 8 and md.report.rows_by_kind["CLEAR"] == 2


def test_concat_sessions_overlapping_days_raise_naming_both():
    with pytest.raises(DataQualityError, match=r"session 'b' starts .* before session 'a' ends"):
        concat_sessions([_day(0, 100, 101), _day(1, 100, 101)], labels=["a", "b"])


def test_concat_sessions_other_instrument_raises_parameter_error():
    other = _day(DAY, 200, 202)
    other = MarketData(other.events, Instrument("U.SIM", tick_size=0.01), other.report)

    with pytest.raises(ParameterError, match=r"parts\[1\].*U\.SIM"):
        concat_sessions([_day(0, 100, 101), other])


@pytest.mark.parametrize("parts", [[], None, [object()]])
def test_concat_sessions_bad_parts_raise_parameter_error(parts):
    with pytest.raises(ParameterError, match="parts"):
        concat_sessions(parts)


def test_single_day_has_one_session():
    md = _day(0, 100, 101)

    s = md.sessions

    assert s["rows"].tolist() == [3] and s["first_row"].tolist() == [0]


def test_report_json_round_trip_keeps_kept_and_inferred():
    r = _day(0, 100, 101).report
    r.infer("multiplier", np.float64(100.0), "Binance rule", "high")

    back = ValidationReport.from_json(json.loads(json.dumps(r.to_json())))

    assert back == ValidationReport.from_json(r.to_json())
    assert back.kept["a quirk"].examples == [("d", 2)]
    assert back.inferred[-1] == Inferred("multiplier", 100.0, "Binance rule", "high")
    assert type(back.inferred[-1].value) is float


def test_report_from_json_of_an_older_write_without_kept_or_inferred():
    old = ValidationReport("x").to_json()
    del old["kept"], old["inferred"]

    back = ValidationReport.from_json(old)

    assert back.kept == {} and back.inferred == []


def test_report_infer_unknown_confidence_raises():
    with pytest.raises(ValueError, match="confidence"):
        ValidationReport("x").infer("tick_size", 0.01, "b", "pretty sure")


def test_report_text_and_html_show_kept_and_inferred():
    r = _day(0, 100, 101).report

    text, page = str(r), r._repr_html_()

    assert "kept 1 x a quirk" in text and "inferred tick_size = 0.01 (high)" in text
    assert "a quirk" in page and "tick_size" in page
