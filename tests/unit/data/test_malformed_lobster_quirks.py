"""LOBSTER quirks a user expects to load, and bad input that must raise a QlibError.

One case per quirk or bad input (issue 10). Each quirk case asserts the documented
outcome (``load_lobster``'s *Data quirks* table): the count and example row in
``report.kept`` or ``report.drops`` and the events it gives; each bad-input case asserts
the exception class and that the message names the file, row, field and value. Inputs
are written in ``tmp_path`` from the small valid files of ``lobster_dbn_builders``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lobster_dbn_builders import (
    BASE_MESSAGES,
    BASE_ORDERBOOK,
    lobster_name,
    simulate_lobster,
    write_lobster,
)

from qlib.book import replay_book
from qlib.data.lobster import QUIRKS, load_lobster
from qlib.enums import EventFlag, EventKind
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError, QlibError
from qlib.instrument import Instrument

MSG = lobster_name("message")
OB = lobster_name("orderbook")
CENT = Instrument("TEST.NASDAQ", tick_size=0.01)
MIDNIGHT_UTC = int(pd.Timestamp("2012-06-21 04:00", tz="UTC").value)  # EDT


def _replace(rows: list[str], i: int, text: str) -> list[str]:
    out = list(rows)
    out[i] = text
    return out


#: BASE_MESSAGES with the hidden execution (row 4) at half a cent: 100.505.
HALF_CENT = _replace(BASE_MESSAGES, 4, "34203,5,0,10,1005050,1")


def _msgs(md) -> np.ndarray:
    ev = md.events
    return ev[(ev["seq"] >= 0) & ((ev["flags"] & EventFlag.RESYNC) == 0)]


def _kept(md, key: str) -> tuple[int, list]:
    d = md.report.kept[QUIRKS[key]]
    return d.count, d.examples


def _assert_names(exc: QlibError, file_part: str, row: int | None, field: str,
                  value: object = None) -> None:
    text = str(exc)
    assert file_part in str(exc.file) and file_part in text
    assert exc.field == field and repr(field) in text
    if row is not None:
        assert exc.row == row and f"row {row}" in text
    if value is not None:
        assert exc.value == value and str(value) in text
    assert "np." not in text  # plain Python values in messages


# ---------------------------------------------------------------- quirks that load
def test_quirk_time_with_more_than_9_decimals_is_rounded_and_counted(tmp_path):
    msgs = _replace(BASE_MESSAGES, 1, "34200.632812672004,1,2,50,1010000,-1")
    msgs = _replace(msgs, 2, "34201.0000000015,4,1,40,1000000,1")  # half: rounds up
    path = write_lobster(tmp_path, msgs)
    md = load_lobster(path, instrument=CENT)
    m = _msgs(md)
    assert int(m["ts_exch"][1]) == MIDNIGHT_UTC + 34_200_632_812_672
    assert int(m["ts_exch"][2]) == MIDNIGHT_UTC + 34_201_000_000_002
    assert _kept(md, "time_rounded") == (2, [(str(path), 1)])
    assert any("34200.632812672004" in n for n in md.report.notes)


def test_quirk_integer_size_written_as_decimal_is_read_and_counted(tmp_path):
    path = write_lobster(tmp_path, _replace(BASE_MESSAGES, 1, "34200.5,1,2,50.0,1010000,-1"))
    md = load_lobster(path, instrument=CENT)
    assert _msgs(md)["qty"][1] == 50.0
    assert _kept(md, "decimal_form") == (1, [(str(path), 1)])


def test_quirk_integer_prices_written_as_decimal_and_exponent_are_read(tmp_path):
    msgs = _replace(BASE_MESSAGES, 1, "34200.5,1,2,50,1010000.0,-1")
    msgs = _replace(msgs, 3, "34202,3,2,50,1.01e+06,-1")
    path = write_lobster(tmp_path, msgs)
    md = load_lobster(path, instrument=CENT)
    assert _msgs(md)["px_tick"][[1, 3]].tolist() == [10100, 10100]
    assert _kept(md, "decimal_form") == (2, [(str(path), 1)])


def test_quirk_orderbook_sizes_written_as_decimal_are_read(tmp_path):
    obs = _replace(BASE_ORDERBOOK, 0, "1020000,10.0,1000000,100.0")
    obs = _replace(obs, 5, "1020000.0,10,1000000,60")
    path = write_lobster(tmp_path, BASE_MESSAGES, obs)
    md = load_lobster(path, instrument=CENT)
    ob_label = str(path).replace("_message_", "_orderbook_")
    assert _kept(md, "decimal_form") == (2, [(ob_label, 0)])
    assert len(md) == len(load_lobster(write_lobster(tmp_path / "ref"), instrument=CENT))


@pytest.mark.parametrize("part", ["message", "orderbook"])
def test_quirk_header_row_is_skipped_and_rows_still_count_data(tmp_path, part):
    header = ("time,type,order_id,size,price,direction" if part == "message"
              else "ask_price_1,ask_size_1,bid_price_1,bid_size_1")
    msgs = [header] + BASE_MESSAGES if part == "message" else BASE_MESSAGES
    obs = [header] + BASE_ORDERBOOK if part == "orderbook" else BASE_ORDERBOOK
    path = write_lobster(tmp_path, msgs, obs)
    md = load_lobster(path, instrument=CENT)
    ref = load_lobster(write_lobster(tmp_path / "ref"), instrument=CENT)
    assert np.array_equal(md.events, ref.events)
    label = str(path).replace("_message_", f"_{part}_")
    assert _kept(md, "header") == (1, [(label, 0)])
    assert md.report.rows_read == len(BASE_MESSAGES)


def test_quirk_header_row_shifts_the_line_number_in_errors(tmp_path):
    msgs = ["time,type,order_id,size,price,direction"] + _replace(
        BASE_MESSAGES, 2, "34201,4,1,40,abc,1")
    path = write_lobster(tmp_path, msgs)
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, MSG, 2, "price", "abc")
    assert "(line 4)" in str(exc.value)  # header + rows 0, 1, 2


def test_quirk_malformed_first_row_is_not_taken_for_a_header(tmp_path):
    path = write_lobster(tmp_path, _replace(BASE_MESSAGES, 0, "34200.0x,1,1,100,1000000,1"))
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, MSG, 0, "time", "34200.0x")


@pytest.mark.parametrize("header", [False, True])
def test_quirk_utf8_byte_order_mark_on_both_files_is_skipped(tmp_path, header):
    msgs = (["time,type,order_id,size,price,direction"] if header else []) + BASE_MESSAGES
    path = write_lobster(tmp_path, msgs, encoding="utf-8-sig")
    md = load_lobster(path, instrument=CENT)
    ref = load_lobster(write_lobster(tmp_path / "ref"), instrument=CENT)
    assert np.array_equal(md.events, ref.events)
    ob_label = str(path).replace("_message_", "_orderbook_")
    assert _kept(md, "bom") == (2, [(str(path), 0), (ob_label, 0)])
    assert (QUIRKS["header"] in md.report.kept) == header


def test_quirk_crlf_line_ends_load_like_lf(tmp_path):
    path = write_lobster(tmp_path, newline="\r\n")
    md = load_lobster(path, instrument=CENT)
    ref = load_lobster(write_lobster(tmp_path / "ref"), instrument=CENT)
    assert np.array_equal(md.events, ref.events)
    assert _kept(md, "crlf")[0] == 2
    assert md.report.rows_read == len(BASE_MESSAGES)


def test_quirk_repeated_trade_line_is_kept(tmp_path):
    msgs = HALF_CENT[:5] + [HALF_CENT[4]] + HALF_CENT[5:]
    obs = BASE_ORDERBOOK[:5] + [BASE_ORDERBOOK[4]] + BASE_ORDERBOOK[5:]
    path = write_lobster(tmp_path, msgs, obs)
    md = load_lobster(path, instrument=CENT)
    m = _msgs(md)
    assert m["seq"].tolist() == list(range(8))
    assert m["kind"][4] == m["kind"][5] == EventKind.TRADE_SUBTICK
    assert _kept(md, "dup_trade") == (1, [(str(path), 5)])
    assert md.report.rows_dropped == 0


def test_quirk_repeated_book_line_the_orderbook_did_not_apply_is_dropped(tmp_path):
    # row 2 (an execution of 40) written twice, with its orderbook row twice too
    msgs = BASE_MESSAGES[:3] + [BASE_MESSAGES[2]] + BASE_MESSAGES[3:]
    obs = BASE_ORDERBOOK[:3] + [BASE_ORDERBOOK[2]] + BASE_ORDERBOOK[3:]
    path = write_lobster(tmp_path, msgs, obs)
    md = load_lobster(path, instrument=CENT)
    m = _msgs(md)
    assert 3 not in m["seq"].tolist() and len(m) == len(msgs) - 1
    drop = md.report.drops[QUIRKS["dup_dropped"]]
    assert (drop.count, drop.examples) == (1, [(str(path), 3)])
    assert md.report.rows_read == len(msgs)
    # the book after the last message is the orderbook file's (one execution, not two)
    assert replay_book(md.events).bid_levels[1].tolist() == [50.0]


def test_quirk_repeated_book_line_the_orderbook_shows_applied_is_kept(tmp_path):
    # the resting bid of 100 is executed 40 and again 40: the book shows both
    msgs = BASE_MESSAGES[:3] + [BASE_MESSAGES[2]] + BASE_MESSAGES[3:6] + [
        "34205,2,1,10,1000000,1"]
    obs = BASE_ORDERBOOK[:3] + ["1010000,50,1000000,20"] + [
        r.replace(",1000000,60", ",1000000,20") for r in BASE_ORDERBOOK[3:6]] + [
        "1020000,10,1000000,10"]
    path = write_lobster(tmp_path, msgs, obs)
    md = load_lobster(path, instrument=CENT)
    assert len(_msgs(md)) == len(msgs)
    assert _kept(md, "dup_applied") == (1, [(str(path), 3)])
    assert QUIRKS["dup_dropped"] not in md.report.drops
    assert replay_book(md.events).bid_levels[1].tolist() == [10.0]


def test_quirk_repeated_book_line_without_resync_is_kept_unchecked(tmp_path):
    msgs = BASE_MESSAGES[:3] + [BASE_MESSAGES[2]] + BASE_MESSAGES[3:]
    obs = BASE_ORDERBOOK[:3] + [BASE_ORDERBOOK[2]] + BASE_ORDERBOOK[3:]
    path = write_lobster(tmp_path, msgs, obs)
    md = load_lobster(path, instrument=CENT, resync=False)
    assert len(_msgs(md)) == len(msgs)
    assert _kept(md, "dup_unchecked") == (1, [(str(path), 3)])


def test_quirk_sub_tick_hidden_print_is_kept_at_its_true_price(tmp_path):
    path = write_lobster(tmp_path, HALF_CENT)
    md = load_lobster(path, instrument=CENT)
    sub = md.events[md.events["kind"] == EventKind.TRADE_SUBTICK]
    # 100.505 = 10050.5 ticks of 0.01, in millionths of a tick
    assert sub["seq"].tolist() == [4] and sub["px_tick"].tolist() == [10_050_500_000]
    assert sub["side"].tolist() == [-1] and sub["flags"][0] & EventFlag.HIDDEN
    assert _kept(md, "subtick") == (1, [(str(path), 4)])
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path, instrument=CENT, sub_tick_trades="raise")
    _assert_names(exc.value, MSG, 4, "price", 1005050)


def test_quirk_sub_tick_cross_trade_keeps_its_auction_flag(tmp_path):
    msgs = BASE_MESSAGES[:5] + ["34203.5,6,0,300,1005050,-1"] + BASE_MESSAGES[5:]
    obs = BASE_ORDERBOOK[:5] + [BASE_ORDERBOOK[4]] + BASE_ORDERBOOK[5:]
    md = load_lobster(write_lobster(tmp_path, msgs, obs), instrument=CENT)
    sub = md.events[md.events["kind"] == EventKind.TRADE_SUBTICK]
    assert sub["seq"].tolist() == [5] and sub["side"].tolist() == [0]
    assert sub["flags"][0] & EventFlag.AUCTION and sub["qty"][0] == 300.0


def test_quirk_time_at_the_window_end_is_inside(tmp_path):
    msgs = BASE_MESSAGES[:6] + ["57600,2,1,10,1000000,1"]
    md = load_lobster(write_lobster(tmp_path, msgs), instrument=CENT)
    assert int(_msgs(md)["ts_exch"][-1]) == MIDNIGHT_UTC + 57_600 * 10**9


# ---------------------------------------------------------------- bad input that raises
# case -> (messages, orderbook, file part named, row, field, value)
BAD_TEXT = {
    "time_negative": (_replace(BASE_MESSAGES, 0, "-1.5,1,1,100,1000000,1"), None, MSG, 0,
                      "time", "-1.500000000"),
    "time_before_window": (_replace(BASE_MESSAGES, 0, "34199.999999999,1,1,100,1000000,1"),
                           None, MSG, 0, "time", "34199.999999999"),
    "time_after_window": (_replace(BASE_MESSAGES, 6, "57600.000000001,2,1,10,1000000,1"), None,
                          MSG, 6, "time", "57600.000000001"),
    "time_overflows_ns": (_replace(BASE_MESSAGES, 3, "99999999999.5,3,2,50,1010000,-1"), None,
                          MSG, 3, "time", "99999999999.5"),
    # 2**64 ns + 34200.5 s: its low 64 bits are a plausible time that must not pass
    "time_wraps_to_a_plausible_value": (
        _replace(BASE_MESSAGES, 3, "18446778274.2095516,3,2,50,1010000,-1"), None, MSG, 3,
        "time", "18446778274.2095516"),
    "time_not_a_number": (_replace(BASE_MESSAGES, 2, "34201,4,1,40,1000000,1")[:2]
                          + ["nan,4,1,40,1000000,1"] + BASE_MESSAGES[3:], None, MSG, 2, "time",
                          "nan"),
    "size_not_whole": (_replace(BASE_MESSAGES, 2, "34201,4,1,40.5,1000000,1"), None, MSG, 2,
                       "size", "40.5"),
    "type_not_whole": (_replace(BASE_MESSAGES, 2, "34201,4.5,1,40,1000000,1"), None, MSG, 2,
                       "type", "4.5"),
    "size_non_numeric": (_replace(BASE_MESSAGES, 1, "34200.5,1,2,fifty,1010000,-1"), None, MSG,
                         1, "size", "fifty"),
    "direction_non_numeric": (_replace(BASE_MESSAGES, 1, "34200.5,1,2,50,1010000,sell"), None,
                              MSG, 1, "direction", "sell"),
    "order_id_overflows": (_replace(BASE_MESSAGES, 1, "34200.5,1,99999999999999999999,50,"
                                    "1010000,-1"), None, MSG, 1, "order_id",
                           "99999999999999999999"),
    "orderbook_size_not_whole": (None, _replace(BASE_ORDERBOOK, 3, "1020000,10.25,1000000,60"),
                                 OB, 3, "ask_size_1", "10.25"),
    "orderbook_row0_non_numeric": (None, _replace(BASE_ORDERBOOK, 0, "1020000,ten,1000000,100"),
                                   OB, 0, "ask_size_1", "ten"),
    "orderbook_more_rows_than_messages": (None, BASE_ORDERBOOK + [BASE_ORDERBOOK[-1]], OB, 7,
                                          "rows", 8),
    "orderbook_fewer_rows_than_messages": (None, BASE_ORDERBOOK[:5], OB, 5, "rows", 5),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=c) for c in sorted(BAD_TEXT)])
def test_bad_input_raises_naming_file_row_field_value(tmp_path, case):
    msgs, obs, part, row, field, value = BAD_TEXT[case]
    path = write_lobster(tmp_path, msgs, obs)
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, part, row, field, value)


def test_bad_input_time_overflow_says_so(tmp_path):
    path = write_lobster(tmp_path, BAD_TEXT["time_wraps_to_a_plausible_value"][0])
    with pytest.raises(DataQualityError, match="too large to count in int64 nanoseconds"):
        load_lobster(path)


def test_bad_input_off_grid_book_price_against_a_stated_tick(tmp_path):
    path = write_lobster(tmp_path, _replace(BASE_MESSAGES, 1, "34200.5,1,2,50,1010050,-1"))
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path, instrument={"tick_size": 0.01})
    _assert_names(exc.value, MSG, 1, "price", 1010050)
    assert "tick size 0.01" in str(exc.value)
    md = load_lobster(path)  # with nothing stated the data's own grid holds it:
    # 100.00, 101.005 (and the orderbook's 101.00, 102.00): too few for a gcd, so the
    # finest decimal step that writes them
    assert md.instrument.tick_size == 0.001
    assert _msgs(md)["px_tick"][1] == 101_005


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _text(rows: list[str]) -> bytes:
    return "".join(r + "\n" for r in rows).encode()


def test_bad_input_corrupt_zip_raises_naming_file(tmp_path):
    path = tmp_path / "LOBSTER_SampleFile_TEST_2012-06-21_1.zip"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, path.name, None, "file", path.name)


def test_bad_input_zip_with_a_damaged_member_raises_naming_the_member(tmp_path):
    msgs = [f"{34200 + i / 100:.2f},1,{i + 1},1,{1_000_000 + 100 * (i % 50)},1"
            for i in range(5000)]
    path = _zip(tmp_path / "day.zip", {MSG: _text(msgs), OB: _text(["1,1,1,1"] * 5000)})
    raw = bytearray(path.read_bytes())
    start = raw.index(MSG.encode()) + len(MSG) + 200  # inside the deflated data
    raw[start: start + 64] = bytes(64)
    path.write_bytes(bytes(raw))
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    assert MSG in str(exc.value.file) and exc.value.field == "file"
    assert "damaged" in str(exc.value) or "cannot be read" in str(exc.value)


def test_bad_input_zip_without_the_orderbook_member_raises_data_not_found(tmp_path):
    path = _zip(tmp_path / "day.zip", {MSG: _text(BASE_MESSAGES), "ReadMe.txt": b"x"})
    with pytest.raises(DataNotFoundError) as exc:
        load_lobster(path)
    assert OB in str(exc.value) and isinstance(exc.value, QlibError)
    assert len(load_lobster(path, orderbook=False)) == len(BASE_MESSAGES)


def test_bad_input_7z_archive_raises_naming_the_file(tmp_path):
    path = tmp_path / "TEST_2012-06-21_2012-06-21_1.7z"
    path.write_bytes(b"7z\xbc\xaf\x27\x1c" + bytes(32))
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, path.name, None, "file", path.name)
    assert "extract" in str(exc.value)


def test_bad_input_window_in_file_name_must_be_inside_the_day(tmp_path):
    path = write_lobster(tmp_path, window=(57_600_000, 34_200_000))
    with pytest.raises(DataQualityError) as exc:
        load_lobster(path)
    _assert_names(exc.value, path.name, None, "file name", path.name)


# ---------------------------------------------------------------- several days / tickers
def test_several_tickers_in_a_directory_need_ticker(tmp_path):
    write_lobster(tmp_path, ticker="AAA")
    write_lobster(tmp_path, ticker="BBB")
    with pytest.raises(ParameterError) as exc:
        load_lobster(tmp_path)
    assert "['AAA', 'BBB']" in str(exc.value) and "ticker=" in str(exc.value)
    md = load_lobster(tmp_path, ticker="bbb", instrument={"tick_size": 0.01})
    assert md.instrument.instrument_id == "BBB.NASDAQ"
    with pytest.raises(DataNotFoundError, match="CCC"):
        load_lobster(tmp_path, ticker="CCC")


def test_same_day_twice_raises_naming_both(tmp_path):
    path = write_lobster(tmp_path)
    _zip(tmp_path / "copy.zip", {MSG: path.read_bytes(), OB: (tmp_path / OB).read_bytes()})
    with pytest.raises(ParameterError) as exc:
        load_lobster(tmp_path)
    assert "same LOBSTER day twice" in str(exc.value) and "copy.zip" in str(exc.value)


@pytest.mark.parametrize("layout", ["directory_of_csv", "zips_in_a_directory", "one_zip"])
def test_several_days_load_as_sessions_in_date_order(tmp_path, layout):
    days = ["2012-06-22", "2012-06-20", "2012-06-21"]
    msgs, obs = simulate_lobster([(0, 1, k % 5, 3) for k in range(30)], 1)
    src = tmp_path / "src"
    for d in days:
        write_lobster(src, msgs, obs, date=d)
    if layout == "directory_of_csv":
        path = src
    elif layout == "zips_in_a_directory":
        path = tmp_path / "zips"
        path.mkdir()
        for d in days:
            m, o = (lobster_name(p, date=d) for p in ("message", "orderbook"))
            _zip(path / f"{d}.zip", {m: (src / m).read_bytes(), o: (src / o).read_bytes()})
    else:
        path = _zip(tmp_path / "all.zip", {p.name: p.read_bytes() for p in src.iterdir()})
    md = load_lobster(path)
    one = load_lobster(src / lobster_name("message", date="2012-06-20"))
    assert md.sessions["date"].tolist() == sorted(days)
    assert len(md) == 3 * len(one) and md.instrument == one.instrument
    assert np.array_equal(md.events[: len(one)], one.events)
    assert (np.diff(md.events["ts_exch"]) >= 0).all()
    assert md.report.rows_read == 3 * len(msgs)
    assert [i.fact for i in md.report.inferred].count("tick_size") == 1
    picked = load_lobster(path, date="2012-06-21")
    assert picked.provenance["date"] == "2012-06-21"
