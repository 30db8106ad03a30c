"""Primitives: the event dtype, enums, errors, Instrument."""

from __future__ import annotations

import numpy as np
import pytest

import qlib
from qlib.dtypes import EVENT_DTYPE, EVENT_FIELDS, empty_events, require_dtype
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, ParameterError, QlibError, SchemaError
from qlib.instrument import Instrument


def test_event_dtype_size_at_most_64_bytes_and_aligned():
    assert EVENT_DTYPE.itemsize <= 64
    assert EVENT_DTYPE.isalignedstruct
    for name in EVENT_DTYPE.names:
        dt, offset = EVENT_DTYPE.fields[name][:2]
        assert offset % dt.alignment == 0, name


def test_event_fields_documented_for_every_field():
    assert list(EVENT_FIELDS) == list(EVENT_DTYPE.names)


def test_empty_events_seq_defaults_to_minus_one():
    ev = empty_events(4)
    assert ev.dtype == EVENT_DTYPE and (ev["seq"] == -1).all() and (ev["qty"] == 0).all()


@pytest.mark.parametrize(
    "arr, fragment",
    [
        ([1, 2], "was list"),
        (np.zeros((2, 2), dtype=EVENT_DTYPE), "1-D"),
        (np.zeros(3, dtype=np.float64), "dtype"),
    ],
)
def test_require_dtype_wrong_input_raises_schema_error(arr, fragment):
    with pytest.raises(SchemaError, match=fragment):
        require_dtype(arr, EVENT_DTYPE, name="events")


def test_enums_side_values_match_book_convention():
    assert (Side.BUY, Side.SELL, Side.NONE) == (1, -1, 0)
    assert len({int(k) for k in EventKind}) == len(EventKind)
    assert all(0 < int(k) < 256 for k in EventKind)
    assert all(int(f) < 256 for f in EventFlag)


def test_errors_all_derive_from_qlib_error_and_builtin():
    for cls in (qlib.SchemaError, qlib.DataQualityError, qlib.DataNotFoundError,
                qlib.InsufficientDataError, qlib.ParameterError, qlib.EngineError):
        assert issubclass(cls, QlibError)
    assert issubclass(qlib.DataQualityError, ValueError)
    assert issubclass(qlib.DataNotFoundError, FileNotFoundError)


def test_data_quality_error_message_names_file_row_field():
    err = DataQualityError("price was 'x'", file="a.csv", row=3, field="price", value="x")
    assert "a.csv" in str(err) and "row 3" in str(err) and "'price'" in str(err)
    assert (err.file, err.row, err.field, err.value) == ("a.csv", 3, "price", "x")


def test_instrument_to_ticks_round_trips_prices_on_grid():
    inst = Instrument("BTCUSDT.BINANCE", tick_size=0.01, lot_size=0.00001, currency="USDT")
    px = np.array([61602.01, 61602.02, 1000.0, 0.01])
    ticks = inst.to_ticks(px)
    assert ticks.tolist() == [6160201, 6160202, 100000, 1]
    np.testing.assert_array_equal(inst.to_price(ticks), px)
    assert (inst.symbol, inst.venue, inst.price_decimals) == ("BTCUSDT", "BINANCE", 2)


def test_instrument_to_ticks_off_grid_raises_naming_row():
    inst = Instrument("ESH4.GLBX", tick_size=0.25)
    with pytest.raises(DataQualityError, match=r"row 1.*not a multiple of tick_size 0.25"):
        inst.to_ticks(np.array([4800.0, 4800.1]), file="f.dbn")


def test_instrument_to_ticks_non_finite_raises():
    inst = Instrument("ESH4.GLBX", tick_size=0.25)
    with pytest.raises(DataQualityError, match="finite"):
        inst.to_ticks(np.array([4800.0, np.nan]))


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"instrument_id": "BTCUSDT", "tick_size": 0.1}, "SYMBOL.VENUE"),
        ({"instrument_id": "A.B.C", "tick_size": 0.1}, "SYMBOL.VENUE"),
        ({"instrument_id": "A.B", "tick_size": 0.0}, "tick_size"),
        ({"instrument_id": "A.B", "tick_size": float("nan")}, "tick_size"),
        ({"instrument_id": "A.B", "tick_size": 0.1, "lot_size": -1}, "lot_size"),
        ({"instrument_id": "A.B", "tick_size": 0.1, "taker_fee_bps": float("inf")}, "taker_fee_bps"),
    ],
)
def test_instrument_bad_terms_raise_parameter_error(kwargs, fragment):
    with pytest.raises(ParameterError, match=fragment):
        Instrument(**kwargs)
