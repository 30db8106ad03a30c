"""LOBSTER files we do not hold, built by rewriting the shared GOOG day, load with no instrument.

Each variant rewrites the level-5 GOOG message and orderbook files in ``tmp_path``
(another ticker and date, a stock under $1 on a $0.0001 grid, one that crosses $1,
times written as Python floats, coarser and finer price grids) with exact integer
arithmetic on the prices, so the variant's orderbook file is the true book of the
variant's messages. Loaded with no ``instrument``, the loader must infer the tick the
data implies (and say so in ``report.inferred``), and replaying its events with
:mod:`qlib.book` must give the variant's own orderbook file at every row and every level
(the checker of ``test_lobster_resync.py``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_lobster_resync import _compare

from qlib.data.lobster import ASK_EMPTY, BID_EMPTY, QUIRKS, load_lobster
from qlib.dtypes import SUBTICK_SCALE
from qlib.enums import EventFlag, EventKind

GOOG = "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_5.zip"
L = 5
MSG = f"GOOG_2012-06-21_34200000_57600000_message_{L}.csv"
OB = f"GOOG_2012-06-21_34200000_57600000_orderbook_{L}.csv"
P0 = 5_637_100  # lowest GOOG price of the day (PROVENANCE.md), dollars x 10,000


@pytest.fixture(scope="module")
def goog(shared_data) -> dict:
    """The GOOG level-5 day: message columns (time as text) and the orderbook array."""
    with zipfile.ZipFile(shared_data / GOOG) as zf:
        msg = pd.read_csv(zf.open(MSG), header=None, dtype={0: str})
        ob = pd.read_csv(zf.open(OB), header=None).to_numpy()
    return {"msg": msg, "ob": ob}


def _write(out: Path, ticker: str, date: str, msg: pd.DataFrame, ob: np.ndarray) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{ticker}_{date}_34200000_57600000"
    msg.to_csv(out / f"{stem}_message_{L}.csv", header=False, index=False)
    np.savetxt(out / f"{stem}_orderbook_{L}.csv", ob, fmt="%d", delimiter=",")
    return out / f"{stem}_message_{L}.csv"


def _map_prices(goog: dict, f, size_factor: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Apply the increasing integer map ``f`` to every price (not halts, not empty
    levels) and multiply every size by ``size_factor``."""
    msg = goog["msg"].copy()
    book = msg[1] != 7
    msg.loc[book, 4] = f(msg.loc[book, 4].to_numpy())
    msg[3] = msg[3] * size_factor
    ob = goog["ob"].copy()
    px = ob[:, [4 * j + k for j in range(L) for k in (0, 2)]]
    real = (px != ASK_EMPTY) & (px != BID_EMPTY)
    px[real] = f(px[real])
    ob[:, [4 * j + k for j in range(L) for k in (0, 2)]] = px
    ob[:, [4 * j + k for j in range(L) for k in (1, 3)]] *= size_factor
    return msg, ob


def _check_book(md, ob: np.ndarray) -> None:
    got = _compare(md.events, ob, md.provenance["price_unit_per_tick"])
    assert len(got["bad_rows"]) == 0, got["bad_rows"][:10]
    assert np.array_equal(got["rows"], np.arange(ob.shape[0]))
    assert got["clamped"] == 0


def _tick_fact(md):
    return next(i for i in md.report.inferred if i.fact == "tick_size")


def _subtick(md) -> np.ndarray:
    return md.events[md.events["kind"] == EventKind.TRADE_SUBTICK]


# ---------------------------------------------------------------- (a) ticker and date
@pytest.mark.realdata
@pytest.mark.parametrize("ticker, iid", [("ZZZQ", "ZZZQ.NASDAQ"), ("BRK.B", "BRK-B.NASDAQ")])
def test_variant_other_ticker_and_date_loads_with_the_names_facts(tmp_path, goog, ticker, iid):
    path = _write(tmp_path, ticker, "2013-01-15", goog["msg"], goog["ob"])
    md = load_lobster(path)
    assert md.instrument.instrument_id == iid and md.provenance["ticker"] == ticker
    assert md.instrument.tick_size == 0.01 and _tick_fact(md).confidence == "high"
    # 2013-01-15 is in EST (UTC-5); the GOOG day was in EDT
    first = pd.Timestamp("2013-01-15 09:30:00.015105074", tz="America/New_York")
    assert int(md.events["ts_exch"][0]) == first.value
    assert len(_subtick(md)) == 50
    _check_book(md, goog["ob"])


# ---------------------------------------------------------------- (b) under / across $1
@pytest.mark.realdata
@pytest.mark.parametrize("base, crosses", [(5_000, False), (9_500, True)])
def test_variant_stock_under_one_dollar_gets_the_rule_612_grid(tmp_path, goog, base, crosses):
    # one GOOG cent -> one LOBSTER unit ($0.0001): $0.50-$0.67, or $0.95-$1.12 across $1
    msg, ob = _map_prices(goog, lambda p: base + (p - P0) // 100, size_factor=100)
    path = _write(tmp_path, "PENY", "2012-06-21", msg, ob)
    md = load_lobster(path)
    tick = _tick_fact(md)
    assert md.instrument.tick_size == tick.value == 0.0001
    assert tick.confidence == "high" and "gcd of" in tick.basis
    assert md.provenance["price_unit_per_tick"] == 1
    px = msg.loc[msg[1] <= 4, 4]
    assert (px.min() < 10_000 < px.max()) == crosses
    # the half-cent prints fell on whole units (floor): no print is off this grid
    assert len(_subtick(md)) == 0 and QUIRKS["subtick"] not in md.report.kept
    ev = md.events
    assert ev["qty"][ev["kind"] == EventKind.ADD].min() >= 100  # sizes scaled by 100
    _check_book(md, ob)


# ---------------------------------------------------------------- (c) float-written times
@pytest.mark.realdata
def test_variant_times_written_as_python_floats_round_to_the_original_ns(tmp_path, goog):
    msg = goog["msg"].copy()
    whole = msg[0].str.partition(".")
    ns = whole[0].astype(np.int64) * 10**9 + whole[2].str.ljust(9, "0").astype(np.int64)
    msg[0] = [repr(v * 1e-9) for v in ns.tolist()]  # a writer scaling an integer clock
    long = int((msg[0].str.partition(".")[2].str.len() > 9).sum())
    assert long > 1000  # the rewrite does produce binary-float artifacts
    path = _write(tmp_path, "FLTT", "2012-06-21", msg, goog["ob"])
    md = load_lobster(path)
    count, examples = (md.report.kept[QUIRKS["time_rounded"]].count,
                       md.report.kept[QUIRKS["time_rounded"]].examples)
    assert count == long and examples[0][1] == int(np.flatnonzero(
        msg[0].str.partition(".")[2].str.len().to_numpy() > 9)[0])
    ref = load_lobster(_write(tmp_path / "ref", "FLTT", "2012-06-21", goog["msg"], goog["ob"]))
    assert np.array_equal(md.events, ref.events)  # every time back to its exact ns
    _check_book(md, goog["ob"])


# ---------------------------------------------------------------- (d) other precisions
@pytest.mark.realdata
@pytest.mark.parametrize("name, f, tick, subtick", [
    # every cent step becomes 5 cents: a $0.05 grid; the half-cent prints land on 2.5 cents
    ("NICKL", lambda p: 5_000_000 + (p - P0) * 5, 0.05, 50),
    # every cent step becomes a tenth of a cent: $0.001; half-cent prints on 0.0005
    ("TENTH", lambda p: P0 + (p - P0) // 10, 0.001, 50),
])
def test_variant_other_price_grid_is_inferred_and_prints_stay_off_it(tmp_path, goog, name, f,
                                                                     tick, subtick):
    msg, ob = _map_prices(goog, f)
    path = _write(tmp_path, name, "2012-06-21", msg, ob)
    md = load_lobster(path)
    fact = _tick_fact(md)
    assert md.instrument.tick_size == pytest.approx(tick, rel=1e-12)
    assert fact.value == pytest.approx(tick, rel=1e-12) and fact.confidence == "high"
    sub = _subtick(md)
    assert len(sub) == subtick == md.report.kept[QUIRKS["subtick"]].count
    unit = md.provenance["price_unit_per_tick"]
    assert unit == round(tick * 10_000)
    # each print's true price, in millionths of a tick, from the variant's message file
    prices = msg[4].to_numpy()[sub["seq"]]
    assert np.array_equal(sub["px_tick"], (2 * prices * SUBTICK_SCALE + unit) // (2 * unit))
    assert ((sub["flags"] & EventFlag.HIDDEN) != 0).all()
    _check_book(md, ob)
