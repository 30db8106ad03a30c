"""Malformed-input corpus for the LOBSTER and Databento loaders.

Every case asserts the error class and that the error names the file, and (where the
problem is inside the data) the 0-based row and the field, both as attributes and in
the message text. Inputs are generated in ``tmp_path`` from small valid files.
"""

from __future__ import annotations

import pytest
import zstandard
from lobster_dbn_builders import (
    ACTION_OFFSET,
    BASE_MESSAGES,
    BASE_ORDERBOOK,
    PRICE_OFFSET,
    T0,
    dbn_bytes,
    lobster_name,
    mbo,
    small_session,
    write_dbn,
    write_lobster,
)

from qlib.data.databento import load_databento
from qlib.data.lobster import load_lobster
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError, QlibError
from qlib.instrument import Instrument


def _replace(rows: list[str], i: int, text: str) -> list[str]:
    out = list(rows)
    out[i] = text
    return out


def _assert_names(exc: DataQualityError, file_part: str, row: int | None, field: str) -> None:
    text = str(exc)
    assert file_part in str(exc.file) and file_part in text
    assert exc.field == field and repr(field) in text
    if row is not None:
        assert exc.row == row and f"row {row}" in text


# ------------------------------------------------------------------ LOBSTER
MSG = lobster_name("message")
OB = lobster_name("orderbook")

# case id -> (messages, orderbook, file part named, row, field)
LOBSTER_CASES = {
    "truncated_row": (_replace(BASE_MESSAGES, 3, "34202,3,2,50"), None, MSG, 3, "columns"),
    "non_numeric_price": (_replace(BASE_MESSAGES, 2, "34201,4,1,40,abc,1"), None, MSG, 2,
                          "price"),
    "non_numeric_time": (_replace(BASE_MESSAGES, 1, "34200.5x,1,2,50,1010000,-1"), None, MSG,
                         1, "time"),
    "empty_order_id": (_replace(BASE_MESSAGES, 2, "34201,4,,40,1000000,1"), None, MSG, 2,
                       "order_id"),
    "unknown_message_type": (_replace(BASE_MESSAGES, 4, "34203,9,0,10,1005000,1"), None, MSG,
                             4, "type"),
    "time_going_backwards": (_replace(BASE_MESSAGES, 3, "34200.1,3,2,50,1010000,-1"), None,
                             MSG, 3, "time"),
    "time_beyond_the_day": (_replace(BASE_MESSAGES, 6, "86400,2,1,10,1000000,1"), None, MSG, 6,
                            "time"),
    "off_grid_add_price": (_replace(BASE_MESSAGES, 1, "34200.5,1,2,50,1010050,-1"), None, MSG,
                           1, "price"),
    "bad_direction": (_replace(BASE_MESSAGES, 2, "34201,4,1,40,1000000,0"), None, MSG, 2,
                      "direction"),
    "negative_size": (_replace(BASE_MESSAGES, 2, "34201,4,1,-40,1000000,1"), None, MSG, 2,
                      "size"),
    "halt_with_bad_price": (_replace(BASE_MESSAGES, 5, "34204,7,0,0,5,-1"), None, MSG, 5,
                            "price"),
    # pyarrow reads a blank line as a row whose first field is empty
    "blank_line": (BASE_MESSAGES[:3] + [""] + BASE_MESSAGES[3:], None, MSG, 3, "time"),
    "empty_message_file": ([], BASE_ORDERBOOK, MSG, 0, "rows"),
    "row_count_mismatch": (None, BASE_ORDERBOOK[:-1], OB, 6, "rows"),
    "orderbook_row0_wrong_column_count": (None, _replace(BASE_ORDERBOOK, 0, "1020000,10,1000000"),
                                          OB, 0, "columns"),
    "orderbook_later_row_wrong_column_count": (
        None, _replace(BASE_ORDERBOOK, 4, "1020000,10,1000000,60,5"), OB, 4, "columns"),
    "orderbook_non_numeric": (None, _replace(BASE_ORDERBOOK, 5, "1020000,10,x,60"), OB, 5,
                              "bid_price_1"),
    "orderbook_off_grid_price": (None, _replace(BASE_ORDERBOOK, 2, "1010050,50,1000000,60"), OB,
                                 2, "ask_price_1"),
    "orderbook_row0_contradicts_message0": (
        None, _replace(BASE_ORDERBOOK, 0, "1020000,10,1000000,40"), OB, 0, "bid_size_1"),
    "empty_orderbook_file": (None, [], OB, 0, "rows"),
}


#: The small files state prices in ticks of 0.01: the off-grid cases need that tick
#: stated (with no instrument the loader infers a finer grid from the data itself).
CENT = Instrument("TEST.NASDAQ", tick_size=0.01)


@pytest.mark.parametrize("case", sorted(LOBSTER_CASES))
def test_load_lobster_malformed_input_raises_naming_file_row_field(tmp_path, case):
    msgs, obs, file_part, row, field = LOBSTER_CASES[case]
    path = write_lobster(tmp_path, msgs, obs)
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path, instrument=CENT)
    _assert_names(exc.value, file_part, row, field)


#: Level-2 files for the checks of the deeper orderbook levels (resync reads every column).
L2_MESSAGES = ["34200,1,1,10,1000000,1", "34201,1,2,5,1010000,-1", "34202,3,1,10,1000000,1"]
L2_ORDERBOOK = ["1020000,5,1000000,10,1030000,5,990000,5",
                "1010000,5,1000000,10,1020000,5,990000,5",
                "1010000,5,990000,5,1020000,5,980000,5"]
OB2 = lobster_name("orderbook", levels=2)
_E = 9_999_999_999
# case id -> (row, replacement orderbook row, field named)
LOBSTER_L2_CASES = {
    "deep_price_off_grid": (1, "1010000,5,1000000,10,1020050,5,990000,5", "ask_price_2"),
    "deep_ask_not_rising": (2, "1010000,5,990000,5,1005000,5,980000,5", "ask_price_2"),
    "deep_bid_not_falling": (1, "1010000,5,1000000,10,1020000,5,1000000,5", "bid_price_2"),
    "deep_size_zero": (2, "1010000,5,990000,5,1020000,5,980000,0", "bid_size_2"),
    "deep_empty_level_with_size": (1, f"1010000,5,1000000,10,{_E},3,990000,5", "ask_size_2"),
    "level_after_empty_level": (2, f"{_E},0,990000,5,1020000,5,980000,5", "ask_price_2"),
}


@pytest.mark.parametrize("case", sorted(LOBSTER_L2_CASES))
def test_load_lobster_malformed_deep_orderbook_level_raises_under_resync(tmp_path, case):
    row, text, field = LOBSTER_L2_CASES[case]
    path = write_lobster(tmp_path, L2_MESSAGES, _replace(L2_ORDERBOOK, row, text), levels=2)
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path, instrument=CENT)
    _assert_names(exc.value, OB2, row, field)
    assert f"line {row + 1}" in str(exc.value)
    load_lobster(path, resync=False)  # only level 1 is checked without resync


def test_load_lobster_l2_base_files_load_with_resync(tmp_path):
    md = load_lobster(write_lobster(tmp_path, L2_MESSAGES, L2_ORDERBOOK, levels=2))
    assert md.report.rows_read == 3 and md.provenance["resync"]


def test_load_lobster_missing_file_raises_data_not_found(tmp_path):
    missing = tmp_path / "LOBSTER_SampleFile_X_2012-06-21_1.zip"
    with pytest.raises(DataNotFoundError) as exc:
        load_lobster(missing)
    assert missing.name in str(exc.value)
    assert isinstance(exc.value, QlibError) and isinstance(exc.value, FileNotFoundError)


def test_load_lobster_missing_orderbook_file_raises_data_not_found(tmp_path):
    path = write_lobster(tmp_path, write_orderbook=False)
    with pytest.raises(DataNotFoundError) as exc:
        load_lobster(path)
    assert OB in str(exc.value)
    assert load_lobster(path, orderbook=False).report.rows_read == len(BASE_MESSAGES)


def test_load_lobster_name_without_date_raises_naming_field_date(tmp_path):
    path = write_lobster(tmp_path, date=None)
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, path.name, None, "date")


def test_load_lobster_file_name_not_lobster_raises_naming_file_name(tmp_path):
    path = tmp_path / "messages.csv"
    path.write_text("\n".join(BASE_MESSAGES) + "\n")
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, "messages.csv", None, "file name")


def test_load_lobster_corrupt_zip_raises_naming_file(tmp_path):
    path = tmp_path / "LOBSTER_SampleFile_X_2012-06-21_1.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, path.name, None, "file")


def test_load_lobster_zip_without_message_file_raises_data_not_found(tmp_path):
    import zipfile

    path = tmp_path / "LOBSTER_SampleFile_X_2012-06-21_1.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.txt", "nothing here")
    with pytest.raises(DataNotFoundError) as exc:
        load_lobster(path)
    assert path.name in str(exc.value) and "README.txt" in str(exc.value)


def test_load_lobster_malformed_row_in_a_later_block_names_its_global_row(tmp_path):
    n = 60_000  # > 1 MiB of text: the bad row sits in the second pyarrow block
    msgs = [f"{34200 + i / 1000:.9f},1,{i + 1},1,1000000,1" for i in range(n)]
    msgs[n - 5] = msgs[n - 5].rsplit(",", 2)[0] + ",12x34,1"
    path = write_lobster(tmp_path, msgs, write_orderbook=False)
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path, orderbook=False)
    _assert_names(exc.value, MSG, n - 5, "price")
    assert f"line {n - 4}" in str(exc.value)


# ------------------------------------------------------------------ Databento
def _records() -> list[bytes]:
    return small_session()


def _patch(records: list[bytes], i: int, offset: int, data: bytes) -> list[bytes]:
    out = list(records)
    rec = bytearray(out[i])
    rec[offset: offset + len(data)] = data
    out[i] = bytes(rec)
    return out


def test_load_databento_missing_file_raises_data_not_found(tmp_path):
    missing = tmp_path / "nope.mbo.dbn.zst"
    with pytest.raises(DataNotFoundError) as exc:
        load_databento(missing)
    assert missing.name in str(exc.value)


def test_load_databento_truncated_zst_raises_naming_file(tmp_path):
    good = write_dbn(tmp_path / "good.mbo.dbn.zst", _records())
    bad = tmp_path / "cut.mbo.dbn.zst"
    bad.write_bytes(good.read_bytes()[:-15])
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad.name, None, "zstd")
    assert "truncated" in str(exc.value)


def test_load_databento_corrupt_zst_raises_naming_file(tmp_path):
    good = write_dbn(tmp_path / "good.mbo.dbn.zst", _records())
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "flip.mbo.dbn.zst"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad.name, None, "zstd")


def test_load_databento_dbn_ending_inside_a_record_raises_naming_row(tmp_path):
    data = dbn_bytes(_records())[:-20]
    bad = tmp_path / "cut.mbo.dbn"
    bad.write_bytes(data)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad.name, len(_records()) - 1, "record")


def test_load_databento_truncated_metadata_raises_naming_file(tmp_path):
    bad = tmp_path / "meta.mbo.dbn.zst"
    bad.write_bytes(zstandard.ZstdCompressor().compress(dbn_bytes([])[:40]))
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    assert bad.name in str(exc.value) and exc.value.field in ("metadata", "dbn")


@pytest.mark.parametrize("content, field", [(b"", "file"), (b"GARBAGE-NOT-DBN" * 4, "magic")])
def test_load_databento_empty_or_foreign_file_raises_naming_field(tmp_path, content, field):
    bad = tmp_path / "x.mbo.dbn.zst"
    bad.write_bytes(content)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad.name, 0, field)


def test_load_databento_unknown_action_raises_naming_row_and_field(tmp_path):
    recs = _patch(_records(), 3, ACTION_OFFSET, b"Z")
    bad = write_dbn(tmp_path / "act.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad.name, 3, "action")


def test_load_databento_off_grid_price_raises_naming_row_and_field(tmp_path):
    recs = _records()
    recs[2] = mbo("C", "B", 4800.10, 2, 1, ts=T0 - 8, seq=3)
    bad = write_dbn(tmp_path / "px.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad, instrument=Instrument("ESH4.GLBX", tick_size=0.25, multiplier=50.0))
    _assert_names(exc.value, bad.name, 2, "price")
    assert exc.value.value == 4_800_100_000_000


def test_load_databento_price_off_the_registry_tick_uses_the_file_grid(tmp_path):
    recs = _records()
    recs[2] = mbo("C", "B", 4800.10, 2, 1, ts=T0 - 8, seq=3)
    md = load_databento(write_dbn(tmp_path / "px.mbo.dbn.zst", recs))
    tick = [i for i in md.report.inferred if i.fact == "tick_size"]
    assert tick and "off the registry's tick 0.25" in tick[0].basis
    assert md.instrument.tick_size < 0.25


def test_load_databento_undefined_price_on_add_raises(tmp_path):
    recs = _patch(_records(), 1, PRICE_OFFSET, (2**63 - 1).to_bytes(8, "little"))
    bad = write_dbn(tmp_path / "undef.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad.name, 1, "price")


def test_load_databento_add_without_side_raises_naming_row_and_field(tmp_path):
    recs = _records()
    recs[1] = mbo("A", "N", 4800.25, 3, 2, ts=T0 - 9, seq=2)
    bad = write_dbn(tmp_path / "side.mbo.dbn.zst", recs)
    with pytest.raises(DataQualityError) as exc:
        load_databento(bad)
    _assert_names(exc.value, bad.name, 1, "side")


def test_load_databento_two_instruments_raise_naming_the_symbol_option(tmp_path):
    recs = _records()
    recs[4] = mbo("T", "B", 4800.50, 1, 9, ts=T0 + 1, seq=5, flags=0, instrument_id=1)
    bad = write_dbn(tmp_path / "two.mbo.dbn.zst", recs, symbols=("ESH4", "ESM4"),
                    mappings={"ESH4": 17077, "ESM4": 1})
    with pytest.raises(ParameterError) as exc:
        load_databento(bad)
    assert bad.name in str(exc.value) and "symbol=" in str(exc.value)
    assert "ESH4 (17077)" in str(exc.value) and "ESM4 (1)" in str(exc.value)
