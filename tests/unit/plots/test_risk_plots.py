"""Risk figures: traces present and in the stated units, empty or malformed inputs raise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import qlib.plots as P
import qlib.risk as R
from qlib.errors import InsufficientDataError, SchemaError

T0 = pd.Timestamp("2024-01-02 14:30", tz="UTC")


@pytest.fixture(scope="module")
def returns() -> pd.Series:
    r = np.random.default_rng(5).standard_t(4, 300) * 1e-3
    return pd.Series(r, index=pd.date_range(T0, periods=300, freq="10s"), name="return")


@pytest.fixture(scope="module")
def book():
    positions, contracts = R.sample_options_book(100.0, T0, underlying_id="X.Y")
    return positions, contracts, {"X.Y": 100.0}


def test_var_comparison_bars_per_column_in_bps(returns):
    table = R.var_by_method(returns, (0.95, 0.99))
    fig = P.var_comparison(table)
    assert [t.name for t in fig.data] == ["VAR 95%", "ES 95%", "VAR 99%", "ES 99%"]
    assert all(isinstance(t, go.Bar) for t in fig.data)
    np.testing.assert_allclose(fig.data[2].y, table["var_99"].to_numpy() * 1e4)


def test_var_comparison_bad_input_raises():
    with pytest.raises(InsufficientDataError):
        P.var_comparison(pd.DataFrame(columns=["var_95"]))
    with pytest.raises(SchemaError):
        P.var_comparison(pd.DataFrame({"x": [1.0]}, index=["normal"]))


def test_var_backtest_marks_every_exception(returns):
    forecast = R.rolling_var(returns, 100, 0.95)
    fig = P.var_backtest(returns, forecast)
    exc = returns.iloc[100:] < -forecast
    assert len(fig.data) == 3
    assert len(fig.data[2].x) == int(exc.sum()) > 0
    assert fig.data[2].name == f"exception ({int(exc.sum())})"
    np.testing.assert_allclose(fig.data[1].y, -forecast.to_numpy() * 1e4)


def test_var_backtest_thins_long_series(returns):
    forecast = R.rolling_var(returns, 100, 0.95)
    fig = P.var_backtest(returns, forecast, max_points=50)
    assert len(fig.data[0].x) == 50 and len(fig.data[1].x) == 50


def test_var_backtest_empty_raises(returns):
    with pytest.raises(InsufficientDataError):
        P.var_backtest(returns, pd.Series([], dtype=float, name="var"))


def test_drawdown_panel_minimum_is_max_drawdown(returns):
    fig = P.drawdown(returns)
    assert [t.name for t in fig.data] == ["wealth", "high-water mark", "drawdown"]
    assert min(fig.data[2].y) == pytest.approx(R.max_drawdown(returns) * 100)
    assert max(fig.data[2].y) <= 0


def test_drawdown_empty_raises():
    with pytest.raises(InsufficientDataError):
        P.drawdown(pd.Series([], dtype=float))


def test_greeks_ladder_four_panels_one_line_per_underlying(book):
    positions, contracts, spot = book
    ladder = R.greeks_ladder(positions, contracts, spot, rate=0.0, asof=T0)
    fig = P.greeks_ladder(ladder)
    assert len(fig.data) == 4
    np.testing.assert_allclose(fig.data[0].x, ladder.index.get_level_values("spot_shift") * 100)
    np.testing.assert_allclose(fig.data[0].y, ladder["pnl"].to_numpy())


def test_greeks_ladder_missing_column_raises(book):
    positions, contracts, spot = book
    ladder = R.greeks_ladder(positions, contracts, spot, rate=0.0, asof=T0)
    with pytest.raises(SchemaError, match="vega_1pt"):
        P.greeks_ladder(ladder.drop(columns="vega_1pt"))


def test_stress_bar_split_and_total(book, returns):
    positions, contracts, spot = book
    table = R.stress_test(positions, contracts, spot, R.sample_scenarios(returns), rate=0.0,
                          asof=T0)
    fig = P.stress_bar(table)
    assert [t.name for t in fig.data] == ["options", "underlyings", "total"]
    assert list(fig.data[2].y) == list(table.index)
    np.testing.assert_allclose(fig.data[2].x, table["pnl"].to_numpy())


def test_stress_bar_bad_input_raises():
    with pytest.raises(SchemaError):
        P.stress_bar(pd.DataFrame({"pnl": [1.0]}, index=["a"]))
    with pytest.raises(InsufficientDataError):
        P.stress_bar(pd.DataFrame(columns=["pnl", "pnl_options", "pnl_underlyings"]))


def test_latency_histogram_clips_tail_and_marks_percentiles():
    lat = pd.Series(np.r_[np.full(999, 300), 1_000_000], name="latency_ns")
    fig = P.latency_histogram(lat, clip_quantile=0.99)
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Histogram)
    assert max(fig.data[0].x) == 300  # the outlier is left out of the bins
    assert "1 above" in fig.layout.title.text
    assert len(fig.layout.shapes) == 2  # p50 and p99 lines


def test_latency_histogram_empty_raises():
    with pytest.raises(InsufficientDataError):
        P.latency_histogram(pd.Series([], dtype="int64"))
