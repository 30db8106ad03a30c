"""Tests for qlib.plots.data: traces, axis titles, bounded point counts, input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import qlib.plots
from qlib.enums import EventKind
from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.plots import event_rates, price_path, spread_and_sizes

T0 = pd.Timestamp("2024-01-02 14:30", tz="UTC")
KINDS = [k.name for k in EventKind]


def events_frame(n: int, *, seconds: float = 60.0, seed: int = 1,
                 kinds=("ADD", "DELETE", "EXECUTE", "TRADE")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = T0.value + np.sort(rng.integers(0, int(seconds * 1e9), n))
    return pd.DataFrame({
        "ts_exch": pd.to_datetime(ts, unit="ns", utc=True),
        "ts_local": pd.to_datetime(ts + 1000, unit="ns", utc=True),
        "kind": pd.Categorical(rng.choice(list(kinds), n), categories=KINDS),
        "side": rng.choice([-1, 1], n).astype("i1"),
        "price": 100 + rng.integers(0, 50, n) * 0.01,
        "px_tick": rng.integers(10_000, 10_050, n),
        "qty": rng.integers(1, 100, n).astype(float),
        "order_id": np.arange(n, dtype=np.uint64),
        "seq": np.arange(n, dtype=np.int64),
        "flags": np.ones(n, dtype=np.uint8),
    })


def bbo_frame(n: int, *, seconds: float = 60.0, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = T0.value + np.sort(rng.integers(0, int(seconds * 1e9), n))
    bid = 100 + np.round(np.cumsum(rng.choice([-1, 0, 1], n)), 0) * 0.01
    return pd.DataFrame({
        "ts_exch": pd.to_datetime(ts, unit="ns", utc=True),
        "bid_px": bid, "bid_qty": rng.random(n) * 100,
        "ask_px": bid + 0.01 * rng.integers(1, 4, n), "ask_qty": rng.random(n) * 100,
    })


def n_points(fig: go.Figure) -> int:
    return sum(len(t.x) for t in fig.data)


def test_plots_package_exports_public_functions():
    assert {"DEFAULT_MAX_POINTS", "event_rates", "price_path", "spread_and_sizes"} <= set(
        qlib.plots.__all__)
    assert len(set(qlib.plots.__all__)) == len(qlib.plots.__all__)
    for name in qlib.plots.__all__:
        assert hasattr(qlib.plots, name), name


# ------------------------------------------------------------------ event_rates
def test_event_rates_one_trace_per_present_kind_with_axis_titles():
    fig = event_rates(events_frame(2_000))
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["ADD", "DELETE", "EXECUTE", "TRADE"]
    assert fig.layout.xaxis.title.text == "time (UTC)"
    assert fig.layout.yaxis.title.text == "events per second"


def test_event_rates_fixed_freq_sums_to_event_count():
    frame = events_frame(3_000, seconds=60)
    fig = event_rates(frame, freq="1s")
    total = sum(float(np.sum(t.y)) for t in fig.data)  # rate x 1 s = count
    assert total == pytest.approx(len(frame))
    assert all(len(t.x) in (60, 61) for t in fig.data)
    assert "1s bins" in fig.layout.title.text


def test_event_rates_rate_scales_with_bin_width():
    frame = events_frame(3_000, seconds=60)
    fig = event_rates(frame, freq="10s")
    total = sum(float(np.sum(t.y)) * 10 for t in fig.data)
    assert total == pytest.approx(len(frame))


def test_event_rates_million_events_stays_within_max_points():
    fig = event_rates(events_frame(1_000_000, seconds=6.5 * 3600))
    assert 100 <= n_points(fig) <= qlib.plots.DEFAULT_MAX_POINTS
    assert len(fig.to_json()) < 1_000_000


def test_event_rates_too_fine_freq_raises_naming_freq():
    with pytest.raises(ParameterError, match=r"freq='1us'.*bins"):
        event_rates(events_frame(1_000, seconds=60), freq="1us")


@pytest.mark.parametrize("freq", ["soon", "-1s", "0s"])
def test_event_rates_bad_freq_raises_parameter_error(freq):
    with pytest.raises(ParameterError, match="freq"):
        event_rates(events_frame(100), freq=freq)


def test_event_rates_missing_kind_column_raises_schema_error():
    with pytest.raises(SchemaError, match="'kind'"):
        event_rates(events_frame(100).drop(columns="kind"))


def test_event_rates_empty_frame_raises_insufficient_data():
    with pytest.raises(InsufficientDataError, match="0 rows"):
        event_rates(events_frame(10).iloc[:0])


def test_event_rates_float_timestamps_raise_schema_error():
    frame = events_frame(10)
    frame["ts_exch"] = 1.5
    with pytest.raises(SchemaError, match="ts_exch"):
        event_rates(frame)


# ------------------------------------------------------------------ price_path
def test_price_path_bid_ask_mid_and_trade_sides():
    fig = price_path(bbo_frame(500), events_frame(500))
    names = [t.name for t in fig.data]
    assert names[:3] == ["bid", "ask", "mid"]
    assert set(names[3:]) == {"trades: buys", "trades: sells"}
    assert fig.layout.yaxis.title.text == "price"
    assert fig.layout.xaxis.title.text == "time (UTC)"


def test_price_path_small_input_keeps_every_quote():
    bbo = bbo_frame(200)
    fig = price_path(bbo)
    assert len(fig.data) == 3
    np.testing.assert_allclose(fig.data[2].y, (bbo["bid_px"] + bbo["ask_px"]) / 2)


def test_price_path_execute_rows_use_opposite_aggressor_side():
    events = events_frame(50, kinds=("EXECUTE",))
    events["side"] = np.int8(1)  # resting bids executed: sell aggressors
    fig = price_path(bbo_frame(50), events)
    assert [t.name for t in fig.data][3:] == ["trades: sells"]


def test_price_path_trades_without_side_form_one_trace():
    trades = events_frame(100)[["ts_exch", "price", "qty"]]
    fig = price_path(bbo_frame(100), trades)
    assert [t.name for t in fig.data][3:] == ["trades: all"]


def test_price_path_million_quotes_and_trades_stay_within_max_points():
    fig = price_path(bbo_frame(1_000_000, seconds=6.5 * 3600),
                     events_frame(1_000_000, seconds=6.5 * 3600))
    assert n_points(fig) <= qlib.plots.DEFAULT_MAX_POINTS
    assert len(fig.data) == 5


def test_price_path_aggregated_mid_is_last_quote_of_each_bin():
    bbo = bbo_frame(20_000, seconds=3600)
    fig = price_path(bbo, max_points=300)
    mid = (bbo["bid_px"] + bbo["ask_px"]).to_numpy() / 2
    assert fig.data[2].y[-1] == mid[-1]
    assert n_points(fig) <= 300


def test_price_path_missing_ask_column_raises_schema_error():
    with pytest.raises(SchemaError, match="'ask_px'"):
        price_path(bbo_frame(10).drop(columns="ask_px"))


def test_price_path_trades_missing_price_raises_schema_error():
    with pytest.raises(SchemaError, match=r"trades has no column 'price'"):
        price_path(bbo_frame(10), events_frame(10).drop(columns="price"))


def test_price_path_not_a_frame_raises_schema_error():
    with pytest.raises(SchemaError, match="DataFrame"):
        price_path({"ts_exch": []})


# ------------------------------------------------------------------ spread_and_sizes
def test_spread_and_sizes_two_panels_three_traces_in_ticks():
    bbo = bbo_frame(300)
    fig = spread_and_sizes(bbo, tick_size=0.01)
    assert [t.name for t in fig.data] == ["spread", "bid size", "ask size"]
    assert fig.layout.yaxis.title.text == "spread (ticks)"
    assert fig.layout.yaxis2.title.text == "quantity"
    assert fig.layout.xaxis2.title.text == "time (UTC)"
    np.testing.assert_allclose(fig.data[0].y, (bbo["ask_px"] - bbo["bid_px"]) / 0.01)


def test_spread_and_sizes_without_tick_size_uses_price_units():
    fig = spread_and_sizes(bbo_frame(50))
    assert fig.layout.yaxis.title.text == "spread (price)"


def test_spread_and_sizes_million_quotes_bounded_and_time_weighted():
    bbo = bbo_frame(1_000_000, seconds=6.5 * 3600)
    bbo["ask_px"] = bbo["bid_px"] + 0.02  # constant two-tick spread
    fig = spread_and_sizes(bbo, tick_size=0.01)
    assert n_points(fig) <= qlib.plots.DEFAULT_MAX_POINTS
    np.testing.assert_allclose(fig.data[0].y, 2.0)


def test_spread_and_sizes_empty_side_stays_nan_not_zero():
    bbo = bbo_frame(10_000, seconds=3600)
    bbo.loc[bbo.index[:5_000], "ask_px"] = np.nan
    fig = spread_and_sizes(bbo, max_points=300)
    y = np.asarray(fig.data[0].y, dtype=float)
    assert np.isnan(y[0]) and np.isfinite(y[-1])


@pytest.mark.parametrize("tick", [0, -0.01, float("nan"), True, "0.01"])
def test_spread_and_sizes_bad_tick_size_raises_parameter_error(tick):
    with pytest.raises(ParameterError, match="tick_size"):
        spread_and_sizes(bbo_frame(10), tick_size=tick)


def test_spread_and_sizes_missing_bid_qty_raises_schema_error():
    with pytest.raises(SchemaError, match="'bid_qty'"):
        spread_and_sizes(bbo_frame(10).drop(columns="bid_qty"))


def test_spread_and_sizes_small_max_points_raises_parameter_error():
    with pytest.raises(ParameterError, match="max_points"):
        spread_and_sizes(bbo_frame(10), max_points=3)
