"""``qlib.data.load``: options checked against the loader, paths checked, and the Store
as a named data source (``load("store", root, instrument=..., date=...)``)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qlib.data import load
from qlib.data.market_data import MarketData
from qlib.data.store import Store, load_store
from qlib.enums import EventKind, Side
from qlib.errors import DataNotFoundError, ParameterError
from qlib.instrument import Instrument

sys.path.insert(0, str(Path(__file__).parent))
from test_store import INSTRUMENT, MIDNIGHT, NS, assert_events_identical, make_data  # noqa: E402

DAY = 86_400 * NS
ID = "BTCUSDT.BINANCE"


# ------------------------------------------------------------------ options and paths
@pytest.mark.parametrize(("source", "path", "option", "closest"), [
    ("binance", "x.gz", "on_gapp", "on_gap"),
    ("lobster", "x.csv", "level", "levels"),
    ("databento", "x.dbn", "include_fill", "include_fills"),
    ("simulated", None, "n_event", "n_events"),
    ("store", ".", "dates", "date"),
])
def test_load_misspelt_option_raises_naming_it_and_closest(source, path, option, closest):
    # Arrange: the option check runs before the path is looked at
    # Act / Assert
    with pytest.raises(ParameterError, match=rf"source '{source}' .* has no option '{option}'; "
                                             rf"did you mean '{closest}'\?"):
        load(source, path, **{option: 1})


def test_load_unrelated_option_lists_the_loader_options():
    with pytest.raises(ParameterError, match=r"no option 'colour' \(options: instrument, on_gap\)"):
        load("binance", "x.gz", colour="red")


def test_load_path_given_as_option_raises_parameter_error():
    with pytest.raises(ParameterError, match=r"pass paths as load's path argument"):
        load("binance", paths="x.gz")


@pytest.mark.parametrize(("source", "path", "shown"), [
    ("lobster", 42, "42"),
    ("databento", b"/tmp/x.dbn", r"b'/tmp/x\.dbn'"),
    ("lobster", ["a.csv"], r"\['a\.csv'\]"),
    ("binance", ["/tmp", 3], r"3 in \['/tmp', 3\]"),
    ("store", 1.5, r"1\.5"),
])
def test_load_non_path_raises_parameter_error_naming_value(source, path, shown):
    with pytest.raises(ParameterError, match=rf"path must be a str or os\.PathLike path.* for "
                                             rf"source '{source}', was {shown}$"):
        load(source, path)


def test_load_empty_path_list_raises_parameter_error():
    with pytest.raises(ParameterError, match=r"source 'binance' needs at least one path, was \[\]"):
        load("binance", [])


@pytest.mark.parametrize("source", ["lobster", "binance", "databento", "tardis", "store"])
def test_load_missing_path_raises_data_not_found_naming_it(tmp_path, source):
    missing = tmp_path / "nope" / "file.bin"
    with pytest.raises(DataNotFoundError, match=rf"path '{missing}' for source '{source}' does "
                                                r"not exist"):
        load(source, missing)


def test_load_unknown_source_suggests_closest():
    with pytest.raises(ParameterError, match=r"was 'stor'; did you mean 'store'\?"):
        load("stor", "x")


def test_load_simulated_with_path_raises():
    with pytest.raises(ParameterError, match=r"source 'simulated' takes no path, was 'x'"):
        load("simulated", "x")


def test_load_passes_instrument_option_through_to_loader():
    inst = Instrument("ABC.XYZ", tick_size=0.05)
    md = load("simulated", instrument=inst, n_events=500, warmup_events=100)
    assert md.instrument == inst


# ------------------------------------------------------------------ the store as a source
@pytest.fixture
def store3(tmp_path):
    """Days 08-08 and 08-09 from one write (it crosses midnight), 08-10 written alone."""
    store = Store(tmp_path / "store")
    a = make_data(n=2_000)  # 2024-08-08 23:59:50 .. 2024-08-09 00:00:10
    b = make_data(n=600, t0=MIDNIGHT + DAY + 5 * NS, seed=3)  # 2024-08-10
    store.write(a)
    store.write(b)
    return store, a, b


def test_load_store_date_returns_that_day_as_read(store3):
    # Arrange
    store, a, _ = store3
    # Act
    md = load("store", store.root, instrument=ID, date="2024-08-08")
    # Assert
    expected = store.read(ID, start="2024-08-08", end="2024-08-08")
    assert_events_identical(md.events, expected.events)
    assert len(md) == int((a.events["ts_exch"] < MIDNIGHT).sum()) > 0
    assert md.instrument == INSTRUMENT


def test_load_store_date_as_datetime_date_equals_string(store3):
    store, _, _ = store3
    a = load("store", store.root, instrument=ID, date=dt.date(2024, 8, 10))
    b = load("store", store.root, instrument=ID, date="2024-08-10")
    assert_events_identical(a.events, b.events)


def test_load_store_range_returns_sessions_one_after_the_other(store3):
    # Arrange
    store, a, b = store3
    # Act
    md = load("store", str(store.root), instrument=ID, start="2024-08-08", end="2024-08-10")
    # Assert: the midnight-crossing write is one session, the separate day another
    sessions = md.sessions
    assert list(sessions["date"]) == ["2024-08-08/2024-08-09", "2024-08-10"]
    first, second = (md.events[int(r.first_row): int(r.first_row) + int(r.rows)]
                     for r in sessions.itertuples())
    assert len(first) + len(second) == len(md)
    for part, src in ((first, a), (second, b)):
        assert src.events["kind"][0] != EventKind.CLEAR  # so concat_sessions opened with one
        assert part["kind"][0] == EventKind.CLEAR and part["side"][0] == Side.NONE
        assert_events_identical(np.ascontiguousarray(part[1:]), src.events)
    assert md.instrument == INSTRUMENT


def test_load_store_range_of_one_write_equals_store_read(store3):
    store, a, _ = store3
    md = load("store", store.root, instrument=ID, start="2024-08-08", end="2024-08-09")
    assert_events_identical(md.events, a.events)
    assert md.provenance["store_dates"] == ["2024-08-08", "2024-08-09"]


def test_load_store_without_bounds_returns_every_day(store3):
    store, a, b = store3
    md = load("store", store.root, instrument=ID)
    assert len(md.sessions) == 2
    assert len(md) == len(a) + len(b) + 2  # one CLEAR opens each session


def test_load_store_instrument_object_selects_and_replaces_fees(store3):
    store, _, _ = store3
    inst = Instrument(ID, tick_size=INSTRUMENT.tick_size, lot_size=INSTRUMENT.lot_size,
                      currency="USDT", maker_fee_bps=0.0, taker_fee_bps=1.0)
    md = load("store", store.root, instrument=inst, date="2024-08-10")
    assert md.instrument == inst and len(md) == 600


def test_load_store_instrument_with_other_tick_size_raises(store3):
    store, _, _ = store3
    inst = Instrument(ID, tick_size=0.1)
    with pytest.raises(ParameterError, match=r"instrument tick_size was 0\.1, the store's "
                                             r"BTCUSDT\.BINANCE has 0\.01"):
        load("store", store.root, instrument=inst, date="2024-08-10")


def test_load_store_without_instrument_lists_stored_ids(store3):
    store, _, _ = store3
    with pytest.raises(ParameterError, match=r"instrument is required .*was None; store .* has "
                                             r"\['BTCUSDT\.BINANCE'\]"):
        load("store", store.root, date="2024-08-08")


@pytest.mark.parametrize(("kw", "pattern"), [
    ({"date": "2024-08-08", "start": "2024-08-08"}, r"pass date or start/end, not both; was "
                                                    r"date='2024-08-08', start='2024-08-08'"),
    ({"date": "2024-08-08 10:00"}, r"date must be a 'YYYY-MM-DD' string or a datetime\.date, "
                                   r"was '2024-08-08 10:00'"),
    ({"date": 20240808}, r"date must be .* was 20240808"),
    ({"start": "garbage"}, r"start must be a time or a date, was 'garbage'"),
    ({"instrument": 5}, r"instrument must be an Instrument or a 'SYMBOL\.VENUE' string, was 5"),
    ({"instrument": "BTCUSDT"}, r"instrument_id must be 'SYMBOL\.VENUE', was 'BTCUSDT'"),
])
def test_load_store_bad_selection_raises_parameter_error(store3, kw, pattern):
    store, _, _ = store3
    kw = {"instrument": ID, **kw}
    with pytest.raises(ParameterError, match=pattern):
        load("store", store.root, **kw)


def test_load_store_day_not_stored_raises_listing_dates(store3):
    store, _, _ = store3
    with pytest.raises(DataNotFoundError, match=r"no partitions between '2024-09-01' and "
                                                r"'2024-09-01' .* it has dates \['2024-08-08', "
                                                r"'2024-08-09', '2024-08-10'\]"):
        load("store", store.root, instrument=ID, date="2024-09-01")


def test_load_store_unknown_instrument_raises_data_not_found(store3):
    store, _, _ = store3
    with pytest.raises(DataNotFoundError, match=r"instrument_id 'ETHUSDT\.BINANCE' has no "
                                                r"partitions"):
        load("store", store.root, instrument="ETHUSDT.BINANCE")


def test_store_read_sessions_splits_by_write(store3):
    store, a, b = store3
    parts = store.read_sessions(ID)
    assert [p.provenance["store_dates"] for p in parts] == [["2024-08-08", "2024-08-09"],
                                                             ["2024-08-10"]]
    assert_events_identical(parts[0].events, a.events)
    assert_events_identical(parts[1].events, b.events)


def test_load_store_sessions_backtestable_as_one_market_data(store3):
    # the concatenated sessions are one valid MarketData (ts_exch sorted across days)
    store, _, _ = store3
    md = load("store", store.root, instrument=ID)
    assert isinstance(md, MarketData)
    assert (np.diff(md.events["ts_exch"]) >= 0).all()
    assert pd.Timestamp(int(md.events["ts_exch"][-1]), tz="UTC").date() == dt.date(2024, 8, 10)


def test_load_store_function_equals_load_store_source(store3):
    store, _, _ = store3
    a = load_store(store.root, instrument=ID, date="2024-08-09")
    b = load("store", store.root, instrument=ID, date="2024-08-09")
    assert_events_identical(a.events, b.events)
