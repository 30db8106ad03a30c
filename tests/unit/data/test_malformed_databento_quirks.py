"""Data quirks of Databento files, one case each, with the outcome load_databento documents.

Every raising case asserts the error class and that the message names the file, and
where the problem is inside the data the record number (``row``, 0-based after the
metadata) and the field; counted cases assert the count. Inputs are built in tmp_path.
"""

from __future__ import annotations

import gzip

import databento_dbn as dbn
import pytest
from lobster_dbn_builders import (
    T0,
    dbn_bytes,
    definition,
    mbo,
    mbp,
    trade,
    write_dbn,
)

from qlib.data import _databento_schemas as _s
from qlib.data.databento import load_databento
from qlib.errors import DataQualityError, ParameterError

UNDEF = 2**63 - 1


def _records() -> list[bytes]:
    return [mbo("A", "B", 4800.00, 5, 1, ts=T0, seq=1),
            mbo("A", "A", 4800.25, 3, 2, ts=T0 + 1, seq=2),
            mbo("C", "B", 4800.00, 2, 1, ts=T0 + 2, seq=3),
            mbo("T", "B", 4800.25, 1, 0, ts=T0 + 3, seq=4)]


def _assert_names(exc: DataQualityError, path, row: int | None, field: str) -> None:
    text = str(exc)
    assert path.name in str(exc.file) and path.name in text
    assert exc.field == field and repr(field) in text
    if row is not None:
        assert exc.row == row and f"row {row}" in text


def _with_rtype(rec: bytes, rtype: int) -> bytes:
    b = bytearray(rec)
    b[1] = rtype
    return bytes(b)


# ---------------------------------------------------------------- rtype and decoder errors
def test_unknown_rtype_raises_naming_record_and_rtype(tmp_path):
    recs = _records()
    recs[2] = _with_rtype(recs[2], 0x77)
    bad = write_dbn(tmp_path / "rt.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 2, "rtype")
    assert exc.value.value == 0x77


def test_rtype_of_a_longer_record_raises_instead_of_the_decoder_panic(tmp_path):
    # rtype 0x01 (MBP-1, 80 bytes) on a 56-byte record: the decoder panics on this
    recs = _records()
    recs[1] = _with_rtype(recs[1], 0x01)
    bad = write_dbn(tmp_path / "panic.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 1, "rtype")
    assert "at least 80" in str(exc.value)


def test_zero_length_record_raises_naming_record(tmp_path):
    recs = _records()
    b = bytearray(recs[3])
    b[0] = 0
    recs[3] = bytes(b)
    bad = write_dbn(tmp_path / "len0.mbo.dbn", recs, compress=False)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 3, "rtype")


def test_market_record_of_another_schema_raises_naming_record(tmp_path):
    recs = _records()
    recs.insert(2, mbp("A", "B", 4800.0, 1, [(4800.0, 1)], [], ts=T0, depth10=False))
    bad = write_dbn(tmp_path / "mix.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 2, "rtype")


class _PanicException(BaseException):
    """Stands for pyo3's PanicException (matched by type name)."""


_PanicException.__name__ = "PanicException"


@pytest.mark.parametrize("raised, outcome", [
    pytest.param(_PanicException("boom"), DataQualityError, id="panic_becomes_data_quality"),
    pytest.param(KeyboardInterrupt(), KeyboardInterrupt, id="keyboard_interrupt_passes"),
])
def test_decoder_panic_is_caught_by_name_and_interrupts_pass(tmp_path, monkeypatch, raised,
                                                             outcome):
    good = write_dbn(tmp_path / "p.mbo.dbn.zst", _records())

    class Decoder:
        """Wraps the real decoder; its decode() raises."""

        def __init__(self):
            self._dec = real()

        def write(self, data):
            self._dec.write(data)

        def buffer(self):
            return self._dec.buffer()

        def decode(self):
            raise raised

    real = dbn.DBNDecoder

    monkeypatch.setattr(_s.dbn, "DBNDecoder", Decoder)
    with pytest.raises(outcome) as exc:
        load_databento(good)
    if outcome is DataQualityError:
        _assert_names(exc.value, good, 0, "dbn")
        assert "PanicException" in str(exc.value)


# ---------------------------------------------------------------- prices
def test_non_positive_price_on_an_outright_raises(tmp_path):
    recs = _records()
    recs[2] = mbo("C", "B", 0.0, 2, 1, ts=T0 + 2, seq=3)
    bad = write_dbn(tmp_path / "zero.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 2, "price")
    assert exc.value.value == 0 and "outright" in str(exc.value)


def test_negative_price_on_a_spread_is_kept(tmp_path):
    recs = [definition("ESH4-ESM4", 9, 0.05, instrument_class="S"),
            trade("B", -3.5, 1, ts=T0, instrument_id=9), trade("A", 0.0, 1, ts=T0 + 1,
                                                               instrument_id=9)]
    md = load_databento(write_dbn(tmp_path / "spread.trades.dbn.zst", recs, schema="trades",
                                  symbols=("ESH4-ESM4",), mappings={"ESH4-ESM4": 9}))
    assert md.events["px_tick"].tolist() == [-70, 0]


def test_undef_price_on_a_trade_raises(tmp_path):
    recs = [trade("B", 4800.0, 1, ts=T0), trade("B", 4800.25, 1, ts=T0 + 1)]
    b = bytearray(recs[1])
    b[16:24] = UNDEF.to_bytes(8, "little")
    recs[1] = bytes(b)
    bad = write_dbn(tmp_path / "undef.trades.dbn.zst", recs, schema="trades")
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 1, "price")
    assert "UNDEF_PRICE" in str(exc.value)


def test_undef_price_on_a_level_with_a_size_raises(tmp_path):
    recs = [mbp("A", "B", 4800.0, 1, [(4800.0, 1)], [(4800.25, 1)], ts=T0),
            mbp("A", "B", 4800.0, 1, [(4800.0, 1)], [(4800.25, 1)], ts=T0 + 1)]
    b = bytearray(recs[1])
    b[48 + 8:48 + 16] = UNDEF.to_bytes(8, "little")  # level 0 ask_px
    recs[1] = bytes(b)
    bad = write_dbn(tmp_path / "lv.mbp-10.dbn.zst", recs, schema="mbp-10")
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 1, "price")


def test_undef_price_on_an_empty_level_is_an_empty_level(tmp_path):
    recs = [mbp("A", "B", 4800.0, 1, [(4800.0, 1)], [], ts=T0)]  # 9 bid, 10 ask levels UNDEF/0
    md = load_databento(write_dbn(tmp_path / "e.mbp-10.dbn.zst", recs, schema="mbp-10"))
    assert len(md) == 1 and md.events["px_tick"][0] == 19200


# ---------------------------------------------------------------- files
def test_truncated_plain_dbn_raises_naming_the_record(tmp_path):
    bad = tmp_path / "cut.mbo.dbn"
    bad.write_bytes(dbn_bytes(_records())[:-20])
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 3, "record")


def test_truncated_zstd_raises(tmp_path):
    good = write_dbn(tmp_path / "g.mbo.dbn.zst", _records())
    bad = tmp_path / "cut.mbo.dbn.zst"
    bad.write_bytes(good.read_bytes()[:-9])
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, None, "zstd")


def test_gzip_compression_raises_naming_it(tmp_path):
    bad = tmp_path / "x.mbo.dbn.gz"
    bad.write_bytes(gzip.compress(dbn_bytes(_records())))
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad, 0, "magic")
    assert "gzip" in str(exc.value)


def test_plain_dbn_is_read(tmp_path):
    md = load_databento(write_dbn(tmp_path / "x.mbo.dbn", _records(), compress=False))
    assert len(md) == 4


@pytest.mark.parametrize("schema, hint", [
    pytest.param("ohlcv-1m", "ohlcv-1m", id="ohlcv"),
    pytest.param("definition", "definitions=", id="definition_as_data"),
    pytest.param("statistics", "statistics", id="statistics"),
])
def test_unsupported_schema_raises_parameter_error_naming_it(tmp_path, schema, hint):
    bad = write_dbn(tmp_path / f"x.{schema}.dbn.zst", [], schema=schema)
    with pytest.raises(ParameterError) as exc:
        load_databento(bad)
    assert repr(schema) in str(exc.value) and hint in str(exc.value)
    assert bad.name in str(exc.value)


def test_non_market_records_are_counted_and_dropped(tmp_path):
    sm = bytes(dbn.SymbolMappingMsg(publisher_id=1, instrument_id=17077, ts_event=T0,
                                    stype_in=dbn.SType.RAW_SYMBOL, stype_in_symbol="ESH4",
                                    stype_out=dbn.SType.INSTRUMENT_ID,
                                    stype_out_symbol="ESH4", start_ts=T0, end_ts=T0 + 1))
    recs = _records()
    recs.insert(1, sm)
    md = load_databento(write_dbn(tmp_path / "sm.mbo.dbn.zst", recs))
    assert md.report.drops["non-market record (SymbolMappingMsg)"].count == 1
    assert md.report.rows_read == 5 and len(md) == 4
