"""Report helpers of qlib.risk.returns: mid returns per bar, rolling VaR, VaR by method,
metric table, the sample options book and scenarios, and the pre-trade latency sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.signals.availability import Unavailable

from qlib.errors import InsufficientDataError, ParameterError
from qlib.risk import (
    VAR_METHODS,
    metric_table,
    portfolio_greeks,
    pretrade_latency_sample,
    returns_from_mid,
    rolling_var,
    sample_options_book,
    sample_scenarios,
    stress_test,
    var_by_method,
    var_estimate,
)

T0 = pd.Timestamp("2024-01-02 14:30", tz="UTC")


def _bbo(mids: list[float], seconds: list[float]) -> pd.DataFrame:
    ts = T0 + pd.to_timedelta(seconds, unit="s")
    m = np.asarray(mids, float)
    return pd.DataFrame({"ts_exch": ts, "bid_px": m - 0.01, "bid_qty": 1.0, "ask_px": m + 0.01,
                         "ask_qty": 1.0})


def _returns(n: int = 400, seed: int = 0) -> pd.Series:
    r = np.random.default_rng(seed).standard_t(4, n) * 1e-3
    return pd.Series(r, index=pd.date_range(T0, periods=n, freq="1min"), name="return")


@pytest.mark.parametrize("kind", ["simple", "log"])
def test_returns_from_mid_last_mid_per_bar_carried_forward(kind: str) -> None:
    # mids 100 at 0-30 s, 101 at 59 s, nothing in the 2nd minute, 99 at 150 s
    quotes = _bbo([100.0, 100.0, 101.0, 99.0], [0, 30, 59, 150])
    out = returns_from_mid(quotes, "1min", kind=kind)
    bars = np.array([101.0, 101.0, 99.0])  # ends 14:31, 14:32 (carried), 14:33
    prev = np.array([100.0, 101.0, 101.0])  # first bar ends 14:30 (mid 100)
    expected = np.log(bars / prev) if kind == "log" else bars / prev - 1
    np.testing.assert_allclose(out.to_numpy(), expected)
    assert out.name == "return"
    assert list(out.index) == list(pd.date_range(T0 + pd.Timedelta("1min"), periods=3,
                                                 freq="1min"))


def test_returns_from_mid_skips_one_sided_book() -> None:
    quotes = _bbo([100.0, 100.0, 102.0, 103.0], [0, 60, 90, 120])
    quotes.loc[2, "ask_px"] = np.nan  # one-sided: no mid
    out = returns_from_mid(quotes, "1min")
    np.testing.assert_allclose(out.to_numpy(), [0.0, 0.03])


def test_returns_from_mid_accepts_market_data() -> None:
    from qlib.data import simulate
    out = returns_from_mid(simulate(n_events=20_000, seed=1), "10s")
    assert len(out) > 10 and np.isfinite(out).all()
    assert out.index.is_monotonic_increasing


def test_returns_from_mid_too_short_raises() -> None:
    with pytest.raises(InsufficientDataError, match="needed at least 2"):
        returns_from_mid(_bbo([100.0, 101.0], [0, 30]), "1min")


@pytest.mark.parametrize("kwargs", [{"kind": "pct"}, {"freq": "0s"}])
def test_returns_from_mid_bad_parameters_raise(kwargs: dict) -> None:
    with pytest.raises(ParameterError):
        returns_from_mid(_bbo([100.0, 101.0, 102.0], [0, 60, 120]), **kwargs)


@pytest.mark.parametrize("method", ["historical", "normal", "fhs_ewma"])
def test_rolling_var_uses_only_previous_window(method: str) -> None:
    r = _returns(60)
    out = rolling_var(r, 20, 0.95, method)
    assert len(out) == 40 and out.name == "var"
    assert out.index.equals(r.index[20:])
    for t in (20, 41, 59):
        assert out.loc[r.index[t]] == var_estimate(r.iloc[t - 20:t].to_numpy(), 0.95,
                                                   method=method).var


def test_rolling_var_too_short_raises_and_small_window_rejected() -> None:
    with pytest.raises(InsufficientDataError, match="needed at least 21"):
        rolling_var(_returns(20), 20)
    with pytest.raises(ParameterError):
        rolling_var(_returns(20), 1)


def test_var_by_method_columns_and_invariants() -> None:
    table = var_by_method(_returns(), (0.99, 0.95))  # columns in ascending confidence
    assert list(table.index) == list(VAR_METHODS)
    assert list(table.columns) == ["var_95", "es_95", "var_99", "es_99"]
    assert (table["var_99"] >= table["var_95"]).all()
    assert (table["es_95"] >= table["var_95"]).all() and (table["es_99"] >= table["var_99"]).all()
    assert list(var_by_method(_returns(), [0.975], ["normal"]).columns) == ["var_97_5", "es_97_5"]


def test_metric_table_values_and_unavailable_when_not_computable() -> None:
    r = _returns()
    table = metric_table(r)
    assert table["bars"] == len(r)
    assert table["max_drawdown"] <= 0
    assert 0 <= table["hit_rate"] <= 1
    rising = pd.Series([0.001] * 10, index=pd.date_range(T0, periods=10, freq="1min"))
    flat = metric_table(rising)
    assert isinstance(flat["calmar_ratio"], Unavailable) and "calmar_ratio" in flat["calmar_ratio"].reason
    assert flat["max_drawdown"] == 0


def test_sample_options_book_is_delta_hedged() -> None:
    positions, contracts = sample_options_book(100.0, T0, underlying_id="X.Y")
    assert list(positions.columns) == ["instrument_id", "qty", "vol"]
    assert len(contracts) == 4 and set(positions["instrument_id"]) == {*contracts, "X.Y"}
    assert sorted(c.strike for c in contracts.values()) == [95.0, 100.0, 100.0, 105.0]
    greeks = portfolio_greeks(positions, contracts, {"X.Y": 100.0}, rate=0.0, asof=T0)
    assert abs(greeks["delta"].sum()) <= 0.5


@pytest.mark.parametrize("spot", [0.0, -1.0, np.nan])
def test_sample_options_book_bad_spot_raises(spot: float) -> None:
    with pytest.raises(ParameterError):
        sample_options_book(spot, T0)


def test_sample_scenarios_with_history_run_through_stress_test() -> None:
    r = _returns(30)
    scen = sample_scenarios(r, lengths=(1, 10, 100))  # 100 > 30 bars: skipped
    assert len(scen) == 8 and len({s.name for s in scen}) == 8
    assert len(sample_scenarios()) == 6
    positions, contracts = sample_options_book(100.0, T0, underlying_id="X.Y")
    table = stress_test(positions, contracts, {"X.Y": 100.0}, scen, rate=0.0, asof=T0)
    assert list(table.index) == [s.name for s in scen]
    assert table.loc["spot -5%", "pnl_underlyings"] == pytest.approx(
        positions["qty"].iloc[-1] * 100.0 * -0.05)


def test_pretrade_latency_sample_shape_and_positive() -> None:
    out = pretrade_latency_sample(500, warmup=10)
    assert len(out) == 500 and out.name == "latency_ns"
    assert out.dtype == np.int64 and (out > 0).all()


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 10, "warmup": -1}])
def test_pretrade_latency_sample_bad_parameters_raise(kwargs: dict) -> None:
    with pytest.raises(ParameterError):
        pretrade_latency_sample(**kwargs)
