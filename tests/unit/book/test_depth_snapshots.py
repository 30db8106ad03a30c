"""Unit tests of qlib.book.depth.depth_snapshots: layout, empty levels, rows, sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.book.depth import depth_columns, depth_snapshots
from qlib.data.market_data import MarketData
from qlib.data.report import ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, ParameterError, SchemaError
from qlib.instrument import Instrument

K = EventKind
BUY, SELL = Side.BUY, Side.SELL
LAST = EventFlag.LAST


def _md(rows, ts=None) -> MarketData:
    ev = empty_events(len(rows))
    for i, r in enumerate(rows):
        ev[i]["kind"], ev[i]["side"], ev[i]["px_tick"], ev[i]["qty"] = r[:4]
        ev[i]["flags"] = r[4] if len(r) > 4 else LAST
        ev[i]["ts_exch"] = ts[i] if ts is not None else 1_000_000_000 * (i + 1)
    return MarketData(ev, Instrument("TEST.X", tick_size=0.5), ValidationReport("test"))


def test_depth_snapshots_lobster_layout_and_prices():
    md = _md([(K.DEPTH, BUY, 200, 1.0), (K.DEPTH, SELL, 203, 2.0), (K.DEPTH, BUY, 199, 3.0),
              (K.DEPTH, SELL, 204, 4.0)])
    df = depth_snapshots(md, levels=2)
    assert list(df.columns) == ["ts_exch"] + depth_columns(2)
    assert depth_columns(2) == ["ask_px_1", "ask_qty_1", "bid_px_1", "bid_qty_1",
                                "ask_px_2", "ask_qty_2", "bid_px_2", "bid_qty_2"]
    assert df.index.name == "row" and df.index.tolist() == [0, 1, 2, 3]
    assert df.iloc[-1, 1:].tolist() == [101.5, 2.0, 100.0, 1.0, 102.0, 4.0, 99.5, 3.0]
    assert str(df["ts_exch"].dtype) == "datetime64[ns, UTC]"


def test_depth_snapshots_empty_levels_are_nan_price_zero_qty():
    df = depth_snapshots(_md([(K.DEPTH, BUY, 200, 1.0)]), levels=2)
    row = df.iloc[0]
    assert np.isnan(row["ask_px_1"]) and row["ask_qty_1"] == 0.0
    assert row["bid_px_1"] == 100.0 and np.isnan(row["bid_px_2"]) and row["bid_qty_2"] == 0.0
    assert df.attrs["rows_short"] == 1
    # quantities are never NaN, prices NaN exactly where the quantity is 0
    q = df.filter(like="_qty_").to_numpy()
    p = df.filter(like="_px_").to_numpy()
    assert not np.isnan(q).any() and np.array_equal(np.isnan(p), q == 0)


def test_depth_snapshots_rows_only_at_last_by_default():
    md = _md([(K.DEPTH, BUY, 200, 1.0, 0), (K.DEPTH, SELL, 199, 1.0, 0), (K.DEPTH, SELL, 199, 0.0),
              (K.TRADE, BUY, 0, 1.0), (K.DEPTH, SELL, 201, 1.0)])
    assert depth_snapshots(md, levels=1).index.tolist() == [2, 4]
    every = depth_snapshots(md, levels=1, at_last_only=False)
    assert every.index.tolist() == [0, 1, 2, 4]  # the trade does not change the book
    assert every.loc[1, "ask_px_1"] == 99.5  # transiently crossed inside the exchange event


def test_depth_snapshots_every_samples_book_as_of_grid_time():
    s = 1_000_000_000
    md = _md([(K.DEPTH, BUY, 200, 1.0), (K.DEPTH, SELL, 203, 2.0), (K.DEPTH, BUY, 201, 1.0),
              (K.DEPTH, BUY, 202, 5.0)], ts=[10 * s + 1, 10 * s + 2, 12 * s + 500, 15 * s])
    df = depth_snapshots(md, levels=1, every="1s")
    assert df["ts_exch"].tolist() == [pd.Timestamp((10 + k) * s, tz="UTC") for k in range(1, 6)]
    assert df["bid_px_1"].tolist() == [100.0, 100.0, 100.5, 100.5, 101.0]
    assert df.index.tolist() == [1, 1, 2, 2, 3]
    same = depth_snapshots(md, levels=1, every=pd.Timedelta("1s"))
    pd.testing.assert_frame_equal(df, same)


@pytest.mark.parametrize("kw", [{"levels": 0}, {"levels": 1.5}, {"levels": True},
                                {"every": "1M"}, {"every": "0s"}, {"every": "abc"},
                                {"at_last_only": "yes"}])
def test_depth_snapshots_bad_parameters_raise(kw):
    with pytest.raises(ParameterError):
        depth_snapshots(_md([(K.DEPTH, BUY, 200, 1.0)]), **kw)


def test_depth_snapshots_bad_data_raise():
    with pytest.raises(SchemaError):
        depth_snapshots(np.zeros(3))
    with pytest.raises(DataQualityError, match="NEGATIVE_QTY") as ei:
        depth_snapshots(_md([(K.DEPTH, BUY, 200, 1.0), (K.DEPTH, SELL, 201, -2.0)]))
    assert ei.value.row == 1


def test_depth_snapshots_empty_data_gives_empty_frame():
    df = depth_snapshots(_md([]), levels=3)
    assert len(df) == 0 and list(df.columns) == ["ts_exch"] + depth_columns(3)
    assert len(depth_snapshots(_md([]), levels=1, every="1s")) == 0
