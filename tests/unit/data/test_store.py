"""Tests for qlib.data.store: layout, lossless round trip, atomic writes, SQL."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qlib.data import MarketData, ValidationReport
from qlib.data.market_data import check_events
from qlib.data.store import PARTITION_FILE, Store
from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import (
    DataNotFoundError,
    DataQualityError,
    InsufficientDataError,
    ParameterError,
    QlibError,
)
from qlib.instrument import Instrument

NS = 1_000_000_000
MIDNIGHT = int(pd.Timestamp("2024-08-09", tz="UTC").value)
INSTRUMENT = Instrument("BTCUSDT.BINANCE", tick_size=0.01, lot_size=0.00001, currency="USDT",
                        maker_fee_bps=-0.5, taker_fee_bps=4.0)


def make_data(n: int = 1_000, *, t0: int = MIDNIGHT - 10 * NS, span_s: float = 20.0,
              seed: int = 7, instrument: Instrument = INSTRUMENT) -> MarketData:
    """Synthetic events covering every field (extreme values included)."""
    rng = np.random.default_rng(seed)
    ev = empty_events(n)
    ev["ts_exch"] = t0 + np.sort(rng.integers(0, int(span_s * NS), n))
    ev["ts_local"] = ev["ts_exch"] + rng.integers(1_000, 50_000, n)
    ev["seq"] = np.arange(n) * 3 - 1
    ev["px_tick"] = 6_000_000 + rng.integers(-500, 500, n)
    ev["qty"] = rng.random(n) * 2.0
    ev["qty"][:3] = [0.0, 5e-324, 1.7976931348623157e308]  # zero, subnormal, max double
    ev["order_id"] = rng.integers(0, 2**63, n, dtype=np.uint64) * 2 + 1
    ev["order_id"][0] = np.iinfo(np.uint64).max
    ev["kind"] = rng.choice([k.value for k in (EventKind.DEPTH, EventKind.TRADE,
                                                EventKind.ADD)], n)
    ev["side"] = rng.choice([Side.SELL, Side.NONE, Side.BUY], n)
    ev["flags"] = rng.choice([EventFlag.LAST, EventFlag.LAST | EventFlag.SNAPSHOT, 0], n)
    report = check_events(ev, ValidationReport("synthetic", files=["day1.csv", "day2.csv"],
                                               rows_read=n + 2))
    report.drop("non-numeric price", "day1.csv", 17)
    report.drop("non-numeric price", "day2.csv", 3)
    report.gap("day1.csv", 42, "pu", expected=100, was=103)
    report.crossed_rows = 2
    report.notes.append("clock offset 1.5 ms applied")
    provenance = {
        "loader": "synthetic", "seed": seed, "path": Path("/data/day1.csv"),
        "window": (pd.Timestamp("2024-08-08", tz="UTC"), None), "scale": np.float64(0.25),
        "levels": [1, 2.5, "x", {"nested": True}], "tz": dt.date(2024, 8, 8),
        "nan": float("nan"),
    }
    return MarketData(ev, instrument, report, provenance)


def assert_events_identical(a: np.ndarray, b: np.ndarray) -> None:
    """Compare field by field as raw bits (catches -0.0, NaN payloads, dtype drift)."""
    assert a.dtype == b.dtype == EVENT_DTYPE
    assert a.shape == b.shape
    for name in EVENT_DTYPE.names:
        width = EVENT_DTYPE.fields[name][0].itemsize
        raw = np.dtype(f"u{width}")
        assert np.array_equal(a[name].view(raw), b[name].view(raw)), name


def assert_provenance_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, float) and np.isnan(va):
            assert isinstance(vb, float) and np.isnan(vb), k
        else:
            assert va == vb and type(va) is type(vb), k


# ------------------------------------------------------------------ layout
def test_store_write_midnight_span_creates_two_date_partitions(tmp_path):
    data = make_data()
    written = Store(tmp_path).write(data)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "venue=BINANCE/symbol=BTCUSDT/date=2024-08-08",
        "venue=BINANCE/symbol=BTCUSDT/date=2024-08-09",
    ]
    assert all((p / PARTITION_FILE).is_file() for p in written)


def test_store_list_partitions_counts_rows_and_span(tmp_path):
    data = make_data()
    store = Store(tmp_path)
    store.write(data)
    listing = store.list()
    assert list(listing["date"]) == ["2024-08-08", "2024-08-09"]
    assert listing["rows"].sum() == len(data)
    assert set(listing["instrument_id"]) == {"BTCUSDT.BINANCE"}
    assert (listing["ts_first"] <= listing["ts_last"]).all()
    midnight = pd.Timestamp(MIDNIGHT, tz="UTC")
    assert listing["ts_last"].iloc[0] < midnight <= listing["ts_first"].iloc[1]
    assert (listing["source"] == "synthetic").all()


def test_store_list_empty_store_returns_empty_frame(tmp_path):
    listing = Store(tmp_path / "none").list()
    assert listing.empty and "instrument_id" in listing.columns


# ------------------------------------------------------------------ round trip
def test_store_read_after_write_is_lossless(tmp_path):
    data = make_data()
    store = Store(tmp_path)
    store.write(data)
    back = store.read("BTCUSDT.BINANCE")
    assert_events_identical(back.events, data.events)
    assert back.instrument == data.instrument
    assert back.report == data.report
    assert_provenance_equal(back.provenance, data.provenance)


def test_store_read_out_of_order_across_midnight_keeps_venue_order(tmp_path):
    data = make_data(n=50, seed=3)
    ev = data.events.copy()
    ev["ts_exch"][20], ev["ts_exch"][21] = MIDNIGHT + 5, MIDNIGHT - 5  # steps back over midnight
    data = MarketData(ev, data.instrument, data.report, data.provenance)
    store = Store(tmp_path)
    store.write(data)
    assert_events_identical(store.read("BTCUSDT.BINANCE").events, data.events)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-08-09", None),
        (None, "2024-08-08"),
        (pd.Timestamp(MIDNIGHT - 3 * NS, tz="UTC"), pd.Timestamp(MIDNIGHT + 4 * NS, tz="UTC")),
        (MIDNIGHT - 3 * NS, MIDNIGHT + 4 * NS),
        (dt.date(2024, 8, 8), dt.date(2024, 8, 9)),
        ("2024-08-08 23:59:55", "2024-08-09T00:00:05Z"),
    ],
)
def test_store_read_bounds_select_rows_in_range(tmp_path, start, end):
    data = make_data()
    store = Store(tmp_path)
    store.write(data)
    back = store.read("BTCUSDT.BINANCE", start=start, end=end)
    ts = data.events["ts_exch"]
    expected = data.events
    if start is not None:
        lo = _expected_ns(start, end=False)
        expected = expected[expected["ts_exch"] >= lo]
    if end is not None:
        hi = _expected_ns(end, end=True)
        expected = expected[expected["ts_exch"] < hi]
    assert 0 < len(back) < len(ts) or (start, end) == (dt.date(2024, 8, 8), dt.date(2024, 8, 9))
    assert_events_identical(back.events, expected.copy())
    assert back.provenance["between"] == (start, end)


def _expected_ns(value, *, end):
    if isinstance(value, int):
        return value
    bare = isinstance(value, dt.date) and not isinstance(value, dt.datetime) or (
        isinstance(value, str) and len(value) == 10)
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return int((ts + pd.Timedelta(days=1 if bare and end else 0)).value)


def test_store_read_two_writes_merges_reports_in_date_order(tmp_path):
    day1 = make_data(n=100, t0=MIDNIGHT - 100 * NS, span_s=50)
    day2 = make_data(n=80, t0=MIDNIGHT + 100 * NS, span_s=50, seed=9)
    store = Store(tmp_path)
    store.write(day2)
    store.write(day1)
    back = store.read("BTCUSDT.BINANCE")
    assert_events_identical(back.events, np.concatenate([day1.events, day2.events]))
    assert back.report.rows == 180
    assert back.report.drops["non-numeric price"].count == 4
    assert len(back.provenance["writes"]) == 2


def test_store_sql_events_view_has_price_and_hive_columns(tmp_path):
    data = make_data()
    store = Store(tmp_path)
    store.write(data)
    out = store.sql(
        "select instrument_id, date, kind_name, count(*) as n, sum(price) as px_sum,"
        " min(ts) as ts_min from events group by all order by date, kind_name"
    )
    assert set(out["instrument_id"]) == {"BTCUSDT.BINANCE"}
    assert out["n"].sum() == len(data)
    frame = data.to_pandas()
    assert out["px_sum"].sum() == pytest.approx(frame["price"].sum(), rel=1e-12)
    assert set(out["kind_name"]) == set(frame["kind"].astype(str))
    exact = store.sql("select price, px_tick from events order by write_row limit 5")
    np.testing.assert_array_equal(exact["price"], frame["price"][:5])


def test_store_sql_with_params_filters_rows(tmp_path):
    store = Store(tmp_path)
    store.write(make_data())
    out = store.sql("select count(*) as n from events where date = ?::DATE", ["2024-08-09"])
    assert 0 < int(out["n"][0]) < 1_000


def test_store_sql_empty_store_has_empty_events_view(tmp_path):
    out = Store(tmp_path).sql("select count(*) as n, sum(price) as s from events")
    assert int(out["n"][0]) == 0


def test_store_sql_bad_query_raises_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="no_such_column"):
        Store(tmp_path).sql("select no_such_column from events")


# ------------------------------------------------------------------ errors
def test_store_write_existing_partition_raises_naming_partition(tmp_path):
    store = Store(tmp_path)
    store.write(make_data())
    with pytest.raises(QlibError, match=r"venue=BINANCE/symbol=BTCUSDT/date=2024-08-08"):
        store.write(make_data(seed=8))


def test_store_write_overwrite_replaces_partition(tmp_path):
    store = Store(tmp_path)
    store.write(make_data())
    new = make_data(seed=8)
    store.write(new, overwrite=True)
    assert_events_identical(store.read("BTCUSDT.BINANCE").events, new.events)
    assert len(list(tmp_path.glob(".tmp-*"))) == 0


def test_store_write_empty_data_raises_insufficient_data(tmp_path):
    empty = MarketData(empty_events(0), INSTRUMENT, ValidationReport("synthetic"))
    with pytest.raises(InsufficientDataError, match="0 events"):
        Store(tmp_path).write(empty)


def test_store_write_unstorable_provenance_raises_naming_key(tmp_path):
    data = make_data(n=10)
    data.provenance["callback"] = object()
    with pytest.raises(ParameterError, match=r"provenance\['callback'\]"):
        Store(tmp_path).write(data)
    assert Store(tmp_path).list().empty


def test_store_read_unknown_instrument_raises_data_not_found(tmp_path):
    store = Store(tmp_path)
    store.write(make_data())
    with pytest.raises(DataNotFoundError, match="ETHUSDT.BINANCE"):
        store.read("ETHUSDT.BINANCE")


def test_store_read_range_without_partitions_lists_dates(tmp_path):
    store = Store(tmp_path)
    store.write(make_data())
    with pytest.raises(DataNotFoundError, match="2024-08-09"):
        store.read("BTCUSDT.BINANCE", start="2025-01-01")


@pytest.mark.parametrize("bad", ["BTCUSDT", "A.B.C", ".BINANCE", 12])
def test_store_read_malformed_id_raises_parameter_error(tmp_path, bad):
    with pytest.raises(ParameterError, match="instrument_id"):
        Store(tmp_path).read(bad)


def test_store_read_start_after_end_raises_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="start"):
        Store(tmp_path).read("BTCUSDT.BINANCE", start="2024-08-09", end="2024-08-08")


def test_store_read_unparseable_bound_raises_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="end must be a time"):
        Store(tmp_path).read("BTCUSDT.BINANCE", end="yesterday-ish")


# ------------------------------------------------------------------ atomicity
def test_store_write_crash_in_writer_leaves_no_partition(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    real_write = pq.write_table
    calls = []

    def crash_half_way(table, where, **kwargs):
        calls.append(where)
        if len(calls) == 1:  # first partition written completely, second one breaks
            return real_write(table, where, **kwargs)
        with open(where, "wb") as fh:
            fh.write(b"PAR1" + b"\0" * 100)  # a torn file
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(pq, "write_table", crash_half_way)
    store = Store(tmp_path)
    with pytest.raises(OSError, match="disk full"):
        store.write(make_data())
    monkeypatch.undo()

    assert store.list().empty
    assert list(tmp_path.glob("venue=*/symbol=*/date=*")) == []
    assert list(tmp_path.glob(".tmp-*")) == []
    with pytest.raises(DataNotFoundError):
        store.read("BTCUSDT.BINANCE")
    store.write(make_data())
    assert len(store.list()) == 2


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pyarrow.parquet as pq
    sys.path.insert(0, {tests_dir!r})
    from test_store import make_data
    from qlib.data.store import Store

    real_write = pq.write_table
    def slow_write(table, where, **kwargs):
        half = table.slice(0, table.num_rows // 2)
        with pq.ParquetWriter(where, table.schema) as writer:
            writer.write_table(half)
            Path({marker!r}).write_text(str(where))
            time.sleep(120)  # killed here, half a file on disk
    pq.write_table = slow_write
    Store({root!r}).write(make_data(n=5_000))
    """
)


def test_store_write_killed_mid_write_leaves_no_partial_partition(tmp_path):
    root, marker = tmp_path / "store", tmp_path / "marker"
    script = _KILL_SCRIPT.format(tests_dir=str(Path(__file__).parent), marker=str(marker),
                                 root=str(root))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"writer exited early: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("writer never reached the middle of its write")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    leftovers = list(root.glob(".tmp-*"))
    assert leftovers, "expected the killed writer's temp dir to remain"
    store = Store(root)
    assert store.list().empty
    assert int(store.sql("select count(*) as n from events")["n"][0]) == 0
    with pytest.raises(DataNotFoundError):
        store.read("BTCUSDT.BINANCE")

    data = make_data(n=5_000)
    store.write(data)
    assert not any(p.exists() for p in leftovers)
    assert_events_identical(store.read("BTCUSDT.BINANCE").events, data.events)


# ------------------------------------------------------------------ real data sets
def _spot_dir(d: Path) -> Path:
    return d / "binance-spot-btcusdt-hftbacktest"


REAL_SETS = [
    pytest.param("lobster", lambda d: d / "lobster-goog-2012-06-21"
                 / "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip", {}, id="lobster-level1"),
    pytest.param("binance", _spot_dir, {}, id="binance-spot"),
    pytest.param("tardis", lambda d: d / "tardis-binance-futures-btcusdt-2020-02-22", {},
                 id="tardis"),
    pytest.param("databento", lambda d: d / "databento-glbx-esh4-mbo-2023-12-25"
                 / "esh4-glbx-mdp3-20231225.mbo.dbn.zst", {}, id="databento"),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("source", "where", "options"), REAL_SETS)
def test_store_round_trip_real_data_set_is_lossless(tmp_path, shared_data, source, where,
                                                    options):
    from qlib.data.sources import SOURCES, load

    _require_loader(SOURCES[source][0])
    data = load(source, where(shared_data), **options)
    store = Store(tmp_path)
    store.write(data)
    back = store.read(data.instrument.instrument_id)
    assert_events_identical(back.events, data.events)
    assert back.instrument == data.instrument
    assert back.report == data.report
    assert_provenance_equal(back.provenance, data.provenance)
    assert store.list()["rows"].sum() == len(data)


def test_store_round_trip_simulated_market_is_lossless(tmp_path):
    from qlib.data.sources import load

    _require_loader("qlib.data.simulate")
    data = load("simulated", n_events=2_000)
    store = Store(tmp_path)
    store.write(data)
    back = store.read(data.instrument.instrument_id)
    assert_events_identical(back.events, data.events)
    assert back.instrument == data.instrument
    assert back.report == data.report
    assert_provenance_equal(back.provenance, data.provenance)


def _require_loader(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"loader module {module} does not exist yet")
    pytest.importorskip(module, reason=f"loader module {module} is not importable")


# ------------------------------------------------------------------ damaged partitions
def _damage(path: Path, how: str) -> None:
    """Damage a partition file as a crash, a bad disk or a stray tool would."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = path.read_bytes()
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "random_bytes":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, len(raw), dtype=np.uint8)
                         .tobytes())
    elif how == "overwritten_pages":  # footer intact: only the page CRC-32 can tell
        b = bytearray(raw)
        b[64:1064] = np.random.default_rng(1).integers(0, 256, 1000, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(b))
    elif how == "garbage_metadata":
        table = pq.read_table(path)
        pq.write_table(table.replace_schema_metadata({b"qlib": b"{not json"}), path)
    elif how == "metadata_missing_key":
        table = pq.read_table(path)
        import json

        meta = json.loads(table.schema.metadata[b"qlib"])
        del meta["write_id"]
        pq.write_table(table.replace_schema_metadata({b"qlib": json.dumps(meta).encode()}), path)
    elif how == "foreign_parquet":
        pq.write_table(pa.table({"a": [1, 2, 3]}), path)
    elif how == "column_wrong_type":
        table = pq.read_table(path)
        i = table.schema.get_field_index("qty")
        table = table.set_column(i, pa.field("qty", pa.string()),
                                 pa.array(["x"] * table.num_rows))
        pq.write_table(table, path)
    else:
        raise AssertionError(how)


DAMAGE = {
    "truncated": r"not a readable Parquet file .*ArrowInvalid: Parquet magic bytes",
    "random_bytes": r"not a readable Parquet file",
    "overwritten_pages": r"not a readable Parquet file .*CRC",
    "garbage_metadata": r"its 'qlib' metadata is not JSON",
    "metadata_missing_key": r"its 'qlib' metadata field 'write_id' was '<missing>'",
    "foreign_parquet": r"its Parquet schema has no 'qlib' metadata",
    "column_wrong_type": r"column 'qty' was string, expected double",
}


@pytest.fixture
def damaged_store(tmp_path):
    store = Store(tmp_path)
    written = store.write(make_data())
    return store, written[0] / PARTITION_FILE


@pytest.mark.parametrize("how", list(DAMAGE))
def test_store_read_damaged_partition_raises_data_quality_naming_file(damaged_store, how):
    # Arrange
    store, path = damaged_store
    _damage(path, how)
    # Act / Assert
    with pytest.raises(DataQualityError, match=rf"^\[file {re.escape(str(path))}\] damaged "
                                               rf"store partition: {DAMAGE[how]}") as info:
        store.read("BTCUSDT.BINANCE")
    assert info.value.file == str(path)


@pytest.mark.parametrize("how", [h for h in DAMAGE if h != "overwritten_pages"])
def test_store_list_damaged_partition_raises_data_quality_naming_file(damaged_store, how):
    store, path = damaged_store
    _damage(path, how)
    with pytest.raises(DataQualityError, match=rf"\[file {re.escape(str(path))}\] .*"
                                               rf"{DAMAGE[how]}"):
        store.list()


@pytest.mark.parametrize("how", ["truncated", "random_bytes", "foreign_parquet"])
def test_store_sql_damaged_partition_raises_data_quality_naming_file(damaged_store, how):
    store, path = damaged_store
    _damage(path, how)
    with pytest.raises(DataQualityError, match=rf"\[file {re.escape(str(path))}\] .*"
                                               rf"{DAMAGE[how]}"):
        store.sql("select count(*) as n from events")


def test_store_sql_bad_query_on_sound_store_stays_parameter_error(damaged_store):
    store, _ = damaged_store
    with pytest.raises(ParameterError, match=r"query 'select nosuchcolumn from events' failed"):
        store.sql("select nosuchcolumn from events")


def test_store_read_other_days_of_damaged_store_still_work(damaged_store):
    store, path = damaged_store
    _damage(path, "truncated")  # 2024-08-08
    back = store.read("BTCUSDT.BINANCE", start="2024-08-09")
    assert len(back) > 0 and (back.events["ts_exch"] >= MIDNIGHT).all()


def test_store_read_ts_exch_outside_partition_date_raises_naming_row(damaged_store):
    # a partition written without page checksums whose data was changed in place
    import pyarrow as pa
    import pyarrow.parquet as pq

    store, path = damaged_store
    table = pq.read_table(path)
    ts = table.column("ts_exch").to_numpy().copy()
    ts[5] = MIDNIGHT + 3 * 86_400 * NS
    table = table.set_column(table.schema.get_field_index("ts_exch"),
                             table.schema.field("ts_exch"), pa.array(ts))
    pq.write_table(table, path)
    with pytest.raises(DataQualityError, match=rf"\[file .*, row 5, field 'ts_exch'\] ts_exch was "
                                               rf"{int(ts[5])} .* outside the partition's date "
                                               r"2024-08-08"):
        store.read("BTCUSDT.BINANCE")


def test_store_read_metadata_naming_non_numpy_type_raises(damaged_store):
    # "__np__" may only name a numpy scalar type (never an arbitrary numpy function)
    import json

    import pyarrow.parquet as pq

    store, path = damaged_store
    for p in sorted(store.root.glob("venue=*/symbol=*/date=*/events.parquet")):
        table = pq.read_table(p)
        meta = json.loads(table.schema.metadata[b"qlib"])
        meta["provenance"]["scale"] = {"__np__": "save", "v": 1.0}
        pq.write_table(table.replace_schema_metadata({b"qlib": json.dumps(meta).encode()}), p)
    with pytest.raises(DataQualityError, match=r"metadata 'provenance/report' is garbage .*"
                                               r"__np__ was 'save'"):
        store.read("BTCUSDT.BINANCE")
