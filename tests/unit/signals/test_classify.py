"""Tick rule, Lee-Ready, bulk volume classification and signed flow on real tapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.book import bbo
from qlib.data import load
from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import bulk_volume, lee_ready, signed_flow, tick_rule, trades


@pytest.fixture(scope="module")
def lobster(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" /
              "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    return bbo(md), trades(md, aggregate=True)


@pytest.fixture(scope="module")
def binance(shared_data):
    md = load("binance", shared_data / "binance-spot-btcusdt-hftbacktest" / "btcusdt_20240808.gz")
    return bbo(md), trades(md, aggregate=True)


def test_tick_rule_small_sequence():
    s = tick_rule(pd.Series([10.0, 10.0, 11.0, 11.0, 10.5, 10.5, 12.0]))
    assert s.tolist() == [0, 0, 1, 1, -1, -1, 1] and s.dtype == np.int8


def test_tick_rule_matches_pandas_reference_lobster(lobster):
    _, t = lobster
    d = np.sign(t["price"].diff()).replace(0, np.nan).ffill().fillna(0).astype(np.int8)
    assert (tick_rule(t).to_numpy() == d.to_numpy()).all()


@pytest.mark.parametrize("fixture", ["lobster", "binance"])
def test_lee_ready_agrees_with_exchange_aggressor_mostly(fixture, request):
    q, t = request.getfixturevalue(fixture)
    lr = lee_ready(t, q)
    assert set(np.unique(lr)) <= {-1, 0, 1}
    accuracy = float((lr.to_numpy() == t["side"].to_numpy()).mean())
    assert accuracy > 0.85   # the literature reports ~85-95 % on modern data


def test_lee_ready_quote_test_then_tick_test():
    q = pd.DataFrame({"bid_px": [99.0, 99.0], "bid_qty": [1.0, 1.0], "ask_px": [101.0, 101.0],
                      "ask_qty": [1.0, 1.0]}, index=pd.Index([0, 2], name="row"))
    q["ts_exch"] = pd.to_datetime([0, 2], utc=True)
    t = pd.DataFrame({"ts_exch": pd.to_datetime([1, 3, 4], utc=True),
                      "price": [101.0, 100.0, 99.5], "qty": 1.0, "side": 0, "row": [1, 3, 4]})
    # 101 > mid -> buy; 100 at mid -> tick test (downtick) -> sell; 99.5 below mid -> sell
    assert lee_ready(t, q).tolist() == [1, -1, -1]


def test_bulk_volume_binance_splits_volume_and_tracks_aggressor(binance):
    _, t = binance
    bv = bulk_volume(t, "10s")
    assert np.allclose(bv.buy_volume + bv.sell_volume, bv.volume)
    assert bv.volume.sum() == pytest.approx(t.qty.sum())
    true_buy = t.qty.where(t.side > 0, 0.0).groupby(t.ts_exch.dt.floor("10s")).sum()
    assert np.corrcoef(bv.buy_volume / bv.volume,
                       true_buy.reindex(bv.index).to_numpy() / bv.volume)[0, 1] > 0.3
    bt = bulk_volume(t, "10s", dist="t", df=0.25)
    assert bt.attrs["sigma"] == bv.attrs["sigma"]


def test_bulk_volume_empty_bar_raises_with_counts(lobster):
    _, t = lobster
    with pytest.raises(InsufficientDataError, match="had 0 trades, needed 1"):
        bulk_volume(t, "10s")
    assert len(bulk_volume(t, "10s", empty="drop")) > 100
    assert len(bulk_volume(t, every=100)) == -(-len(t) // 100)


def test_signed_flow_lobster_matches_groupby(lobster):
    _, t = lobster
    sf = signed_flow(t, "1min")
    ref = (t.side * t.qty).groupby(t.ts_exch.dt.floor("1min")).sum()
    assert np.allclose(sf.reindex(ref.index).to_numpy(), ref.to_numpy())
    assert (sf.drop(ref.index) == 0).all()          # empty minutes: flow 0
    with pytest.raises(InsufficientDataError):
        signed_flow(t, "1min", empty="raise")
    assert len(signed_flow(t)) == len(t)
    with pytest.raises(ParameterError):
        signed_flow(t, "1min", every=10)
