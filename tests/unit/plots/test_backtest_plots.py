"""Backtest figures: traces and units as stated, downsampling said in the title, bad input raises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import qlib.data
import qlib.plots.backtest as B
from qlib.engine import PowerProbQueue, backtest
from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.strategy import GLFT, GridMM


@pytest.fixture(scope="module")
def results():
    data = qlib.data.simulate(n_events=20_000, seed=5)
    q = PowerProbQueue()
    return {
        "glft": backtest(data, GLFT(gamma=0.1, k=0.7, A=1.0, order_qty=100, max_position=500),
                         queue=q),
        "grid": backtest(data, GridMM(levels=2, step_ticks=1, offset_ticks=1, order_qty=100,
                                      max_position=500), queue=q),
        # quotes far from the book: never fills
        "idle": backtest(data, GridMM(levels=1, step_ticks=1, offset_ticks=5_000, order_qty=100,
                                      max_position=500), queue=q),
    }


def test_equity_figure_pnl_and_position_rows_per_strategy(results):
    sub = {k: results[k] for k in ("glft", "grid")}
    fig = B.equity_figure(sub)
    assert [t.name for t in fig.data] == ["glft", "glft", "grid", "grid"]
    pnl, pos = fig.data[0], fig.data[1]
    eq = results["glft"].equity
    np.testing.assert_allclose(pnl.y, eq["pnl"].to_numpy())
    np.testing.assert_allclose(pos.y, eq["position"].to_numpy())
    assert pnl.yaxis == "y" and pos.yaxis == "y2"  # two rows
    assert "USD" in fig.layout.yaxis.title.text
    assert "position" in fig.layout.yaxis2.title.text


def test_equity_figure_thins_long_series(results):
    fig = B.equity_figure({"glft": results["glft"]}, max_points=50)
    assert all(len(t.y) <= 50 for t in fig.data)


@pytest.mark.parametrize("bad, exc", [([], ParameterError), ({}, InsufficientDataError),
                                      ({"x": object()}, ParameterError)])
def test_equity_and_attribution_bad_input_raises(bad, exc):
    with pytest.raises(exc):
        B.equity_figure(bad)
    with pytest.raises(exc):
        B.attribution_figure(bad)


def test_fills_figure_all_fills_when_they_fit(results):
    r = results["grid"]
    n = len(r.fills)
    fig = B.fills_figure(r, max_points=n + 10_000)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.x) for t in markers) == n
    assert f"{n:,} fills" in fig.layout.title.text and "showing" not in fig.layout.title.text
    assert {t.name for t in fig.data} >= {"mid", "our bid", "our ask"}
    buys = [t for t in markers if t.name.startswith("buy")]
    assert all(t.marker.symbol.startswith("triangle-up") for t in buys)


def test_fills_figure_downsampled_says_so(results):
    r = results["grid"]
    n = len(r.fills)
    assert n > 40
    fig = B.fills_figure(r, max_points=40)
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.x) for t in markers) <= 40
    assert f"of {n:,} fills" in fig.layout.title.text
    assert all(len(t.y) <= 40 for t in fig.data)


def test_fills_figure_without_fills_draws_prices_only(results):
    fig = B.fills_figure(results["idle"])
    assert [t.name for t in fig.data] == ["mid", "our bid", "our ask"]
    assert "0 fills" in fig.layout.title.text


def test_fills_figure_bad_max_points_raises(results):
    with pytest.raises(ParameterError, match="max_points"):
        B.fills_figure(results["grid"], max_points=1)
    with pytest.raises(ParameterError):
        B.fills_figure("not a result")


def test_attribution_figure_components_add_up_to_total(results):
    fig = B.attribution_figure(results)
    assert all(isinstance(t, go.Bar) for t in fig.data)
    by = {t.name: np.asarray(t.y, float) for t in fig.data}
    total = by.pop("total")
    np.testing.assert_allclose(sum(by.values()), total, atol=1e-6)
    assert list(fig.data[0].x) == ["glft", "grid", "idle"]
    fees = by["fees (paid, negative)"]
    assert (fees <= 0).all() or (fees >= 0).all()


def test_markout_figure_means_and_ci_by_side(results):
    r = results["grid"]
    fig = B.markout_figure(r, ("1s", "10s"))
    marks = r.markouts(("1s", "10s"))
    buys = marks[r.fills["side"].to_numpy() == 1]
    trace = next(t for t in fig.data if t.name.startswith("buys"))
    np.testing.assert_allclose(trace.y, buys.mean().to_numpy())
    half = 1.959963984540054 * buys.std(ddof=1).to_numpy() / np.sqrt(len(buys))
    np.testing.assert_allclose(trace.error_y.array, half)
    assert list(trace.x) == ["1s", "10s"]
    assert "USD per fill" in fig.layout.yaxis.title.text


def test_markout_figure_without_fills_raises(results):
    with pytest.raises(InsufficientDataError, match="0 fills"):
        B.markout_figure(results["idle"])
    with pytest.raises(ParameterError, match="horizons"):
        B.markout_figure(results["grid"], [])


@pytest.fixture
def sweep_frame():
    rows = []
    for day in (1, 2):
        for s in ("a", "b"):
            for ms in (0.1, 1.0, 10.0):
                for q in ("risk_adverse", "power"):
                    rows.append({"strategy": s, "latency_ms": ms, "queue": q, "day": day,
                                 "pnl": ms * (1 if s == "a" else 2) + day, "status": "ok"})
    rows.append({"strategy": "a", "latency_ms": 0.1, "queue": "power", "day": 3,
                 "pnl": np.nan, "status": "error"})
    return pd.DataFrame(rows)


def test_latency_effect_figure_means_over_days_and_skips_failed_rows(sweep_frame):
    fig = B.latency_effect_figure(sweep_frame)
    assert [t.name for t in fig.data] == ["a", "b"]
    a = fig.data[0]
    np.testing.assert_allclose(a.x, [0.1, 1.0, 10.0])
    np.testing.assert_allclose(a.y, [0.1 + 1.5, 1.0 + 1.5, 10.0 + 1.5])
    assert a.error_y.visible and (np.asarray(a.error_y.array) > 0).all()
    assert fig.layout.xaxis.type == "log"
    assert "ms" in fig.layout.xaxis.title.text


def test_queue_effect_figure_keeps_first_seen_order(sweep_frame):
    fig = B.queue_effect_figure(sweep_frame)
    assert all(isinstance(t, go.Bar) for t in fig.data)
    assert list(fig.data[0].x) == ["risk_adverse", "power"]


def test_sweep_figures_accept_a_sweep_result_like_object(sweep_frame):
    class Res:
        frame = sweep_frame

    assert len(B.queue_effect_figure(Res(), color=None).data) == 1


def test_sweep_figures_bad_input_raises(sweep_frame):
    with pytest.raises(SchemaError, match="latency_ms"):
        B.latency_effect_figure(sweep_frame.drop(columns="latency_ms"))
    with pytest.raises(InsufficientDataError):
        B.queue_effect_figure(sweep_frame[sweep_frame["status"] == "error"])
    with pytest.raises(ParameterError):
        B.latency_effect_figure([1, 2, 3])
