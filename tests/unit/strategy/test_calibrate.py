"""Intensity calibration: exact counts on a hand-made tape, recovery of a known
exponential decay, the simulated market and a real LOBSTER day, and the figure."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.plots.strategy import intensity_fit_figure
from qlib.strategy import IntensityFit, fit_intensity, trade_depths

S = 1_000_000_000


def _tape(depths: list[int], sides: list[int], *, seconds: float = 100.0,
          executes: bool = False) -> np.ndarray:
    """Book 100 / 101 (mid 100.5), then one market order per depth: a buy reaching
    ``101 + d`` or a sell reaching ``100 - d``; the book does not change."""
    n = 2 + len(depths) + 1
    ev = empty_events(n)
    ev["kind"][:2] = EventKind.DEPTH
    ev["side"][:2] = [Side.BUY, Side.SELL]
    ev["px_tick"][:2] = [100, 101]
    ev["qty"][:2] = 5.0
    for i, (d, s) in enumerate(zip(depths, sides, strict=True)):
        r = 2 + i
        ev["ts_exch"][r] = int((i + 1) * S)
        ev["kind"][r] = EventKind.EXECUTE if executes else EventKind.TRADE
        ev["side"][r] = -s if executes else s
        ev["px_tick"][r] = 101 + d if s == Side.BUY else 100 - d
        ev["qty"][r] = 1.0
    ev["kind"][-1] = EventKind.HALT
    ev["ts_exch"][-1] = int(seconds * S)
    ev["flags"] = EventFlag.LAST
    ev["ts_local"] = ev["ts_exch"]
    return ev


def test_trade_depths_measured_from_prior_mid_per_aggressor_side():
    ev = _tape([0, 2], [Side.BUY, Side.SELL], executes=True)
    td = trade_depths(ev)
    assert td["depth_tick"].tolist() == [0.5, 2.5]
    assert td["side"].tolist() == [Side.BUY, Side.SELL]
    assert td["mid_tick"].tolist() == [100.5, 100.5]


def test_trade_depths_sweep_of_one_order_counts_once_at_deepest_price():
    ev = _tape([0, 1, 2], [Side.BUY] * 3)
    ev["ts_exch"][2:5] = S  # one exchange time, one aggressor side: one sweep
    ev["flags"][2:4] = 0
    td = trade_depths(ev)
    assert len(td) == 1 and td["depth_tick"].iloc[0] == 2.5


def test_fit_intensity_hand_tape_counts_and_rates_exact():
    # depths 0.5 x4, 1.5 x2, 2.5 x1 over 100 s, both sides -> rate = count / 200
    ev = _tape([0, 0, 0, 0, 1, 1, 2], [1, -1, 1, -1, 1, -1, 1])
    fit = fit_intensity(ev)
    frame = fit.to_frame()
    assert frame.index.tolist() == [0.5, 1.5, 2.5]
    assert frame["count"].tolist() == [7, 3, 1]
    assert frame["rate"].tolist() == pytest.approx([7 / 200, 3 / 200, 1 / 200])
    slope, intercept = np.polyfit(fit.deltas, np.log(fit.rates), 1)
    assert fit.k == pytest.approx(-slope) and fit.A == pytest.approx(np.exp(intercept))
    assert 0.0 <= fit.r2 <= 1.0 and fit.k_stderr > 0 and fit.n_orders == 7


def test_fit_intensity_side_filter_counts_one_side_per_second():
    ev = _tape([0, 0, 1, 2, 3], [1, -1, 1, 1, 1])
    fit = fit_intensity(ev, side="buy")
    assert fit.counts.tolist() == [4, 3, 2, 1] and fit.rates[0] == pytest.approx(4 / 100)


def test_fit_intensity_recovers_known_exponential_decay():
    # depth beyond the touch d = j ticks with P(d >= j) = exp(-k j): counts N e^{-k j}
    k, n = 0.6, 20_000
    rng = np.random.default_rng(5)
    d = np.floor(rng.exponential(1 / k, n)).astype(int)
    sides = np.where(rng.random(n) < 0.5, 1, -1)
    fit = fit_intensity(_tape(d.tolist(), sides.tolist(), seconds=n + 10.0), min_orders=30)
    assert fit.k == pytest.approx(k, rel=0.05)
    assert fit.A == pytest.approx(n / (2 * (n + 10.0)) * np.exp(0.5 * k), rel=0.1)
    assert fit.r2 > 0.99


def test_fit_intensity_fewer_than_three_distances_raises():
    with pytest.raises(InsufficientDataError, match="2 distance"):
        fit_intensity(_tape([0, 1, 0], [1, 1, -1]))


def test_fit_intensity_max_delta_and_min_orders_trim_tail():
    ev = _tape([0, 0, 1, 1, 2, 3, 4], [1] * 7)
    assert fit_intensity(ev, max_delta_ticks=3.0).deltas.max() == 2.5
    assert fit_intensity(ev, min_orders=2).deltas.tolist() == [0.5, 1.5, 2.5, 3.5]


@pytest.mark.parametrize("kwargs,field", [({"side": "up"}, "side"),
                                          ({"max_delta_ticks": 0.0}, "max_delta_ticks"),
                                          ({"min_orders": 0}, "min_orders")])
def test_fit_intensity_bad_parameter_raises(kwargs, field):
    with pytest.raises(ParameterError, match=field):
        fit_intensity(_tape([0, 1, 2], [1, 1, 1]), **kwargs)


def test_fit_intensity_not_events_raises_schema_error():
    with pytest.raises(SchemaError):
        fit_intensity(np.zeros(5))


def test_fit_intensity_simulated_market_decays_with_good_fit():
    from qlib.data import simulate

    md = simulate(n_events=60_000, seed=11)
    fit = fit_intensity(md, min_orders=10)
    assert isinstance(fit, IntensityFit)
    assert fit.k > 0.1 and fit.A > 0 and fit.r2 > 0.9
    assert np.all(np.diff(fit.rates) <= 0) and np.all(np.diff(fit.deltas) > 0)
    buy, sell = fit_intensity(md, side="buy", min_orders=10), fit_intensity(md, side="sell",
                                                                            min_orders=10)
    # the simulated market is symmetric: both sides decay alike
    assert buy.k == pytest.approx(sell.k, abs=4 * np.hypot(buy.k_stderr, sell.k_stderr))


@pytest.mark.realdata
def test_fit_intensity_lobster_goog_decays(shared_data):
    from qlib.data import load

    path = shared_data / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
    if not path.exists():
        pytest.skip(f"LOBSTER sample {path.name} is absent")
    fit = fit_intensity(load("lobster", path), min_orders=10)
    assert fit.k > 0 and fit.A > 0 and fit.r2 > 0.5
    assert fit.n_orders > 1000 and fit.seconds > 3600


def test_intensity_fit_figure_log_axis_and_two_traces():
    fit = fit_intensity(_tape([0, 0, 0, 1, 1, 2], [1, -1, 1, -1, 1, -1]))
    fig = intensity_fit_figure(fit)
    assert fig.layout.yaxis.type == "log" and len(fig.data) == 2
    assert list(fig.data[0].y) == pytest.approx(fit.rates.tolist())
    assert fig.data[1].y[0] == pytest.approx(fit.A)


def test_intensity_fit_figure_wrong_input_raises():
    with pytest.raises(ParameterError, match="IntensityFit"):
        intensity_fit_figure({"A": 1.0})


def test_intensity_fit_glft_uses_fitted_a_and_k():
    fit = fit_intensity(_tape([0, 0, 0, 1, 1, 2], [1, -1, 1, -1, 1, -1]))
    spec = fit.glft(gamma=0.1, order_qty=1.0, max_position=5.0)
    assert (spec.A, spec.k) == (fit.A, fit.k)
