"""Bad input at the entry of :func:`qlib.engine.backtest` ends in a named QlibError.

Every case here raises before the jitted loop runs (the arguments are checked first),
so the module stays fast; the two runs that check an accepted shorthand share one tiny
simulated day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from qlib.book import to_l2
from qlib.data import simulate
from qlib.engine import backtest
from qlib.engine.backtest import MAX_PX_TICK, MAX_QTY
from qlib.engine.models import ConstantLatency, PowerProbQueue, queue_from_name
from qlib.enums import EventKind
from qlib.errors import DataQualityError, ParameterError
from qlib.strategy import TouchMM

STRATEGY = TouchMM(order_qty=1, max_position=10)


@pytest.fixture(scope="module")
def md():
    return simulate(n_events=3_000, seed=11)


@pytest.fixture(scope="module")
def l2(md):
    return to_l2(md.events)


def _run(md, **kw):
    return backtest(md, STRATEGY, **kw)


# ------------------------------------------------------------------ latency
@pytest.mark.parametrize(("value", "pattern"), [
    (-5, r"latency was -5 .*expected a duration in \[0, "),
    ("1 parsec", r"latency was '1 parsec', expected a latency model .*pandas\.Timedelta"),
    ("-1ms", r"latency was '-1ms' \(-1000000 ns\)"),
    (1.5, r"latency was 1\.5, expected a latency model"),
    (True, r"latency was True, expected"),
    (object, r"latency was <class 'object'>, expected"),
    (np.int64(-5), r"latency was -5 \(-5 ns\), expected a duration"),
    ("NaT", r"latency was 'NaT', expected"),
])
def test_backtest_bad_latency_raises_parameter_error_naming_value(md, value, pattern):
    # Arrange: md and a bad latency
    # Act / Assert
    with pytest.raises(ParameterError, match=pattern):
        _run(md, latency=value)


def test_backtest_latency_error_lists_accepted_forms(md):
    with pytest.raises(ParameterError) as info:
        _run(md, latency="fast")
    msg = str(info.value)
    for form in ("ConstantLatency", "int of ns >= 0", "pandas.Timedelta", "'1ms'"):
        assert form in msg


@pytest.fixture(scope="module")
def run_2ms_string(md):
    return _run(md, latency="2ms", stop=int(md.events["ts_exch"][1_500]))


def test_backtest_latency_string_equals_constant_latency_each_way(md, run_2ms_string):
    # Arrange
    expected = ConstantLatency(entry_ns=2_000_000, response_ns=2_000_000)
    # Act
    res_obj = _run(md, latency=expected, stop=int(md.events["ts_exch"][1_500]))
    # Assert
    assert run_2ms_string.params["latency"] == expected
    assert run_2ms_string.fills_array.tobytes() == res_obj.fills_array.tobytes()
    assert len(res_obj.fills_array) > 0  # the comparison covers real fills
    assert run_2ms_string.equity_array.tobytes() == res_obj.equity_array.tobytes()


@pytest.mark.parametrize("value", [2_000_000, np.int64(2_000_000), pd.Timedelta("2ms"),
                                   dt.timedelta(milliseconds=2)])
def test_backtest_latency_shorthands_build_constant_latency(md, run_2ms_string, value):
    res = _run(md, latency=value, stop=int(md.events["ts_exch"][1_500]))
    assert res.params["latency"] == run_2ms_string.params["latency"]


# ------------------------------------------------------------------ queue
def test_backtest_unknown_queue_name_raises_listing_known_names(md):
    with pytest.raises(ParameterError, match=r"queue model name was 'nosuchqueue', expected "
                                             r"one of \[.*'l3_fifo'.*'risk_adverse'"):
        _run(md, queue="nosuchqueue")


def test_backtest_misspelt_queue_name_suggests_closest(md):
    with pytest.raises(ParameterError, match=r"'powerprob'.*did you mean 'power_prob'"):
        _run(md, queue="powerprob")


@pytest.mark.parametrize("value", [3, 2.0, ConstantLatency(entry_ns=1, response_ns=1)])
def test_backtest_queue_of_wrong_type_raises_naming_value(md, value):
    with pytest.raises(ParameterError, match=r"queue was .*expected a queue model"):
        _run(md, queue=value)


def test_queue_from_name_builds_the_named_model():
    assert queue_from_name("power_prob", n=3) == PowerProbQueue(n=3.0)


# ------------------------------------------------------------------ capital / seed
@pytest.mark.parametrize(("value", "pattern"), [
    ("abc", r"capital must be a number .*was 'abc'"),
    (-1.0, r"capital must be finite and >= 0, was -1\.0"),
    (float("inf"), r"capital must be finite and >= 0, was inf"),
    (float("nan"), r"capital must be finite and >= 0, was nan"),
    (np.float64(-2.5), r"capital must be finite and >= 0, was -2\.5$"),
    (True, r"capital must be a number .*was True"),
])
def test_backtest_bad_capital_raises_parameter_error(md, value, pattern):
    with pytest.raises(ParameterError, match=pattern):
        _run(md, capital=value)


@pytest.mark.parametrize(("value", "pattern"), [
    ("x", r"seed must be an int >= 0, was 'x'"),
    (True, r"seed must be an int >= 0, was True"),
    (1.0, r"seed must be an int >= 0, was 1\.0"),
    (-3, r"seed must be an int >= 0, was -3"),
    (np.int64(-3), r"seed must be an int >= 0, was -3$"),
])
def test_backtest_bad_seed_raises_parameter_error(md, value, pattern):
    with pytest.raises(ParameterError, match=pattern):
        _run(md, seed=value)


# ------------------------------------------------------------------ other keywords
@pytest.mark.parametrize(("kw", "pattern"), [
    ({"risk": "x"}, r"risk must be a qlib\.risk\.RiskConfig or None, was 'x'"),
    ({"fees": 0.1}, r"fees must be a qlib\.engine\.Fees, was 0\.1"),
    ({"feed_latency": "200us"}, r"feed_latency must be a qlib\.engine\.FeedLatency.*'200us'"),
    ({"market_impact": "yes"}, r"market_impact must be True or False, was 'yes'"),
    ({"partial_fills": 1}, r"partial_fills must be True or False, was 1"),
    ({"depth_levels": True}, r"depth_levels must be an int in \[1, 64\], was True"),
    ({"depth_levels": np.int64(65)}, r"depth_levels must be an int in \[1, 64\], was 65$"),
    ({"instrument": "NOPE.NOWHERE"}, r"instrument 'NOPE\.NOWHERE' is not in the registry"),
    ({"instrument": 42}, r"instrument must be a qlib\.instrument\.Instrument.*was 42"),
    ({"start": "garbage"}, r"start must be a timestamp, was 'garbage'"),
    ({"stop": 1.5e18}, r"stop must be a timestamp .*was 1\.5e\+18"),
    ({"start": "NaT"}, r"start must be a timestamp, was 'NaT'"),
    ({"start": "2024-01-02 15:00", "stop": "2024-01-02 14:00"},
     r"start must be before stop, was start='2024-01-02 15:00', stop='2024-01-02 14:00'"),
    ({"session_end": [1]}, r"session_end must be a timestamp, was \[1\]"),
    ({"session_end": "2000-01-01"}, r"session_end must be after the first replayed event .*"
                                    r"was '2000-01-01'"),
    ({"record_interval": "1 fortnight"}, r"record_interval must be a duration, was '1 fortnight'"),
    ({"sigma_halflife": 2**63 - 1},
     r"sigma_halflife must be at most \d+ ns .*was 9223372036854775807"),
    ({"decision_interval": -1}, r"decision_interval must be > 0, was -1"),
])
def test_backtest_bad_keyword_value_raises_parameter_error_naming_it(md, kw, pattern):
    with pytest.raises(ParameterError, match=pattern):
        _run(md, **kw)


def test_backtest_misspelt_keyword_names_closest_parameter(md):
    with pytest.raises(ParameterError, match=r"backtest\(\) has no parameter 'record_every'; "
                                             r"did you mean 'record_interval'\?"):
        _run(md, record_every="1s")


def test_backtest_unrelated_keyword_lists_parameters(md):
    with pytest.raises(ParameterError, match=r"no parameter 'colour' \(parameters: data, "
                                             r"strategy, latency"):
        _run(md, colour="red")


def test_backtest_extra_positional_argument_raises_parameter_error(md):
    with pytest.raises(ParameterError, match=r"backtest\(data, strategy, \*, .*too many "
                                             r"positional arguments"):
        backtest(md, STRATEGY, "1ms")


def test_backtest_missing_strategy_raises_parameter_error(md):
    with pytest.raises(ParameterError, match=r"missing a required argument: 'strategy'"):
        backtest(md)


def test_backtest_signature_still_shows_parameters():
    import inspect

    params = inspect.signature(backtest).parameters
    assert list(params)[:3] == ["data", "strategy", "latency"]


# ------------------------------------------------------------------ events
def _events_with(l2, row, **fields):
    ev = l2.copy()
    for name, value in fields.items():
        ev[name][row] = value
    return ev


def _book_row(l2, kind=EventKind.DEPTH):
    return int(np.flatnonzero(l2["kind"] == kind)[100])


def test_backtest_huge_px_tick_raises_data_quality_error_naming_row(md, l2):
    # Arrange: the probe's case, px_tick = 2**62 (P&L of -1.15e18 before the check)
    row = _book_row(l2)
    ev = _events_with(l2, row, px_tick=2**62)
    # Act / Assert
    with pytest.raises(DataQualityError,
                       match=rf"\[row {row}, field 'px_tick'\] px_tick was {2**62} \(DEPTH\), "
                             rf"expected 1 <= px_tick <= {MAX_PX_TICK:,}") as info:
        backtest(ev, STRATEGY, instrument=md.instrument)
    assert info.value.row == row and info.value.value == 2**62


def test_backtest_px_tick_at_bound_is_accepted_by_the_check(md, l2):
    # a TRADE print at exactly MAX_PX_TICK passes the check; one tick more does not
    row = _book_row(l2, EventKind.TRADE)
    with pytest.raises(DataQualityError, match=rf"row {row}.*px_tick was {MAX_PX_TICK + 1}"):
        backtest(_events_with(l2, row, px_tick=MAX_PX_TICK + 1), STRATEGY,
                 instrument=md.instrument)
    from qlib.engine.backtest import _check_events

    _check_events(_events_with(l2, row, px_tick=MAX_PX_TICK), 0)  # no raise


@pytest.mark.parametrize("px", [0, -7])
def test_backtest_non_positive_price_raises_naming_row_and_value(md, l2, px):
    row = _book_row(l2)
    with pytest.raises(DataQualityError, match=rf"\[row {row}, field 'px_tick'\] px_tick was {px}"):
        backtest(_events_with(l2, row, px_tick=px), STRATEGY, instrument=md.instrument)


def test_backtest_row_in_message_counts_from_the_array_passed_with_start(md, l2):
    row = _book_row(l2)
    ev = _events_with(l2, row, px_tick=-7)
    start = int(ev["ts_exch"][row - 10])
    with pytest.raises(DataQualityError, match=rf"\[row {row}, field 'px_tick'\]"):
        backtest(ev, STRATEGY, instrument=md.instrument, start=start)


@pytest.mark.parametrize(("qty", "shown"), [(float("nan"), "nan"), (float("inf"), "inf"),
                                            (-1.0, "-1.0"), (2.0**60, "1.152921504606847e\\+18")])
def test_backtest_bad_qty_raises_data_quality_error_naming_row(md, l2, qty, shown):
    row = _book_row(l2)
    with pytest.raises(DataQualityError, match=rf"\[row {row}, field 'qty'\] qty was {shown} "
                                               rf"\(DEPTH\), expected a finite quantity in "
                                               rf"\[0, {MAX_QTY:.0f}\]"):
        backtest(_events_with(l2, row, qty=qty), STRATEGY, instrument=md.instrument)


def test_backtest_bad_qty_in_market_data_raises_too(md):
    from qlib.data import MarketData

    ev = md.events.copy()
    row = int(np.flatnonzero(ev["kind"] == EventKind.ADD)[50])
    ev["qty"][row] = -3.0
    bad = MarketData(ev, md.instrument, md.report, md.provenance)
    with pytest.raises(DataQualityError,
                       match=rf"\[row {row}, field 'qty'\] qty was -3\.0 \(ADD\)"):
        backtest(bad, STRATEGY)


def test_backtest_clear_row_without_price_is_accepted_by_the_check(l2):
    from qlib.engine.backtest import _check_events

    clear = np.flatnonzero(l2["kind"] == EventKind.CLEAR)
    assert len(clear) and (l2["px_tick"][clear] == 0).all()
    _check_events(l2, 0)  # no raise: CLEAR carries no price


def test_backtest_unsorted_ts_exch_raises_naming_row(md, l2):
    row = len(l2) // 2
    ev = _events_with(l2, row, ts_exch=int(l2["ts_exch"][row - 1]) - 1_000)
    with pytest.raises(DataQualityError, match=rf"not sorted by ts_exch at row {row} "
                                               rf"\(ts_exch={int(ev['ts_exch'][row])}"):
        backtest(ev, STRATEGY, instrument=md.instrument)


def test_backtest_empty_event_array_raises_parameter_error(md, l2):
    with pytest.raises(ParameterError, match="data has no events"):
        backtest(l2[:0], STRATEGY, instrument=md.instrument)


def _synthetic(n: int = 20_000) -> np.ndarray:
    from qlib.dtypes import empty_events

    ev = empty_events(n)
    ev["kind"] = EventKind.DEPTH
    ev["px_tick"] = 6_000_000
    ev["qty"] = 1.0
    return ev


@pytest.mark.parametrize(("field", "value", "row"), [
    ("px_tick", 0, 19_999), ("px_tick", MAX_PX_TICK + 1, 8_192), ("qty", -1e-300, 12_345),
    ("qty", float("nan"), 8_191),
])
def test_check_events_finds_first_bad_row_in_any_block(field, value, row):
    # Arrange: more rows than one block of the check; a bad value far from the start
    from qlib.engine.backtest import _check_events

    ev = _synthetic()
    ev[field][row] = value
    ev[field][row + 1 if row + 1 < len(ev) else row] = value
    # Act / Assert: the first bad row is named, offset by the caller's first row
    with pytest.raises(DataQualityError, match=rf"^\[row {row + 7}, field '{field}'\]"):
        _check_events(ev, 7)


def test_check_events_accepts_negative_zero_qty_and_subtick_prints():
    from qlib.engine.backtest import _check_events
    from qlib.dtypes import SUBTICK_SCALE

    ev = _synthetic()
    ev["qty"][10] = -0.0
    ev["kind"][11] = EventKind.TRADE_SUBTICK
    ev["px_tick"][11] = MAX_PX_TICK * SUBTICK_SCALE  # the same price bound, in sub-ticks
    ev["kind"][12] = EventKind.CLEAR
    ev["px_tick"][12] = 0
    _check_events(ev, 0)  # no raise
    ev["px_tick"][11] += 1
    with pytest.raises(DataQualityError, match=r"\[row 11, field 'px_tick'\] .*\(TRADE_SUBTICK\)"):
        _check_events(ev, 0)


def test_backtest_strategy_naming_an_unknown_feature_is_refused():
    from qlib.strategy import CustomStrategy, cancel_all, strategy

    with pytest.raises(ParameterError, match=r"unknown feature 'imbalanse5'"):
        @strategy(params={"x": 1.0}, features=("imbalanse5",))
        def wants_imbalance(view, p, state, out):
            return cancel_all(out)

    @strategy(params={"x": 1.0}, features=("imbalance5",))
    def ok(view, p, state, out):
        return cancel_all(out)

    bad = CustomStrategy(ok.fn, name="edited")  # features checked again by the engine
    object.__setattr__(bad, "features", ("imbalance11",))
    with pytest.raises(ParameterError, match=r"imbalance levels must be in 1\.\.10, was 11"):
        backtest(simulate(n_events=2_000, seed=1), bad)
