"""Microstructure figures: traces present, fall-backs without depth, empty inputs raise."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import qlib.plots as P
import qlib.signals as S
from qlib.book import bbo
from qlib.book.depth import depth_snapshots
from qlib.data import simulate
from qlib.errors import InsufficientDataError, SchemaError


@pytest.fixture(scope="module")
def sim():
    data = simulate(n_events=40_000, seed=3)
    return data, S.trades(data), bbo(data)


def test_book_heatmap_with_depth_shows_levels(sim):
    data, tape, quotes = sim
    depth = depth_snapshots(data, levels=5, every="1s")
    fig = P.book_heatmap(quotes, tape, depth, max_time_bins=50, max_price_bins=40)
    assert isinstance(fig.data[0], go.Heatmap)
    z = np.asarray(fig.data[0].z, float)
    assert z.shape[0] == 40 and z.shape[1] <= 50
    assert np.nanmax(z) > 0 and np.nanmin(z) < 0  # bids positive, asks negative
    assert "5 levels" in fig.layout.title.text
    assert [t.name for t in fig.data[1:]] == ["bid", "ask", "trades"]


def test_book_heatmap_without_depth_falls_back_to_touch(sim):
    _, _, quotes = sim
    fig = P.book_heatmap(quotes, None, S.Unavailable("no depth"))
    assert "touch only" in fig.layout.title.text and len(fig.data) == 3


def test_book_heatmap_empty_bbo_raises(sim):
    with pytest.raises(InsufficientDataError):
        P.book_heatmap(sim[2].iloc[:0])


def test_spread_depth_profile_two_panels(sim):
    _, _, quotes = sim
    fig = P.spread_depth_profile(quotes, None, bucket="5min")
    assert len(fig.data) == 2 and "touch" in fig.layout.annotations[1].text


def test_intraday_profiles_rejects_bad_input():
    with pytest.raises(InsufficientDataError):
        P.intraday_profiles({})
    with pytest.raises(SchemaError):
        P.intraday_profiles({"x": [1, 2]})


def test_ofi_fit_and_kyle_profile(sim):
    _, tape, quotes = sim
    fit = S.ofi_regression(quotes, "10s")
    fig = P.ofi_fit(fit)
    assert len(fig.data) == 2 and "slope" in fig.layout.title.text
    prof = S.kyle_lambda_profile(tape, quotes, "10s", "10min", empty="drop")
    assert len(P.kyle_lambda_profile(prof).data) == 3
    with pytest.raises(SchemaError):
        P.ofi_fit(object())


def test_vpin_figure(sim):
    v = S.vpin(sim[1], n_buckets=60, window=10)
    fig = P.vpin(v)
    assert [t.type for t in fig.data] == ["bar", "scatter"]
    assert tuple(fig.layout.yaxis.range) == (0, 1)


def test_pin_fit_figure():
    c = S.simulate_pin_counts(0.4, 0.5, 60.0, 40.0, 40.0, n=100, seed=1)
    fig = P.pin_fit(c, S.pin(c))
    assert [t.name for t in fig.data] == ["periods", "no news", "good news", "bad news"]


def test_markout_and_clustering_figures(sim):
    data, tape, quotes = sim
    curve = S.markout_curve(S.markouts(tape, quotes, tick_size=data.instrument.tick_size))
    fig = P.markout_curve(curve, unit="ticks")
    assert len(fig.data[0].x) == len(curve)
    r = S.trade_clustering(tape)
    fig = P.trade_clustering(r)
    assert [t.type for t in fig.data] == ["bar", "scatter"]
    assert fig.layout.xaxis.type == "log"
