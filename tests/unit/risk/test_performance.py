"""Unit tests of qlib.risk.performance and qlib.risk._frequency: hand-computed values, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.errors import DataQualityError, InsufficientDataError, ParameterError, SchemaError
from qlib.risk import (
    annual_return,
    calmar_ratio,
    downside_risk,
    hit_rate,
    max_drawdown,
    max_drawdown_duration,
    omega_ratio,
    periods_per_year,
    sharpe_ratio,
    sortino_ratio,
    tail_ratio,
    turnover,
)

R = [0.01, -0.02, 0.03, -0.01, 0.02]  # mean 0.006, sample std 0.0207364...


def _both(values, index=None):
    """The same returns as ndarray and as Series (the suite runs on both)."""
    return [np.asarray(values, float), pd.Series(values, index=index, dtype=float)]


@pytest.mark.parametrize("kind", [0, 1])
@pytest.mark.parametrize(
    ("rf", "ppy", "expected"),
    [(0.0, 252, 0.006 / np.std(R, ddof=1) * np.sqrt(252)),
     (0.001, 252, 0.005 / np.std(R, ddof=1) * np.sqrt(252)),
     (0.0, 1, 0.006 / np.std(R, ddof=1))],
)
def test_sharpe_ratio_known_series_matches_formula(kind, rf, ppy, expected):
    assert sharpe_ratio(_both(R)[kind], rf, periods_per_year=ppy) == pytest.approx(expected, 1e-12)


@pytest.mark.parametrize("kind", [0, 1])
def test_sortino_ratio_known_series_matches_hand_value(kind):
    # shortfalls -0.02, -0.01 over n=5: dd = sqrt((4e-4 + 1e-4) / 5) = 0.01
    assert sortino_ratio(_both(R)[kind], periods_per_year=252) == pytest.approx(
        0.006 * 252 / (0.01 * np.sqrt(252)), 1e-12)
    assert downside_risk(_both(R)[kind], periods_per_year=252) == pytest.approx(
        0.01 * np.sqrt(252), 1e-12)


@pytest.mark.parametrize(
    ("returns", "expected"),
    [([0.1, -0.5, 0.2], -0.5), ([-0.1, 0.05], -0.1), ([0.1, 0.2], 0.0),
     ([0.5, -0.2, -0.25, 1.0], 1.5 * 0.8 * 0.75 / 1.5 - 1)],
)
def test_max_drawdown_known_paths_match(returns, expected):
    assert max_drawdown(returns) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    ("returns", "expected"),
    [([0.1, -0.1, -0.1, 0.5, -0.01], 2), ([-0.1, 0.0, 0.0, 0.2], 3), ([0.1, 0.2], 0),
     ([0.1, -0.05, 0.2, -0.01, -0.01, -0.01], 3)],
)
def test_max_drawdown_duration_bars_match(returns, expected):
    assert max_drawdown_duration(returns) == expected


def test_max_drawdown_duration_datetime_index_returns_timedelta():
    idx = pd.date_range("2024-01-02 09:30", periods=5, freq="1min")
    s = pd.Series([0.1, -0.1, -0.1, 0.5, -0.01], index=idx)
    # peak at 09:30, recovered at 09:33
    assert max_drawdown_duration(s) == pd.Timedelta(minutes=3)


def test_calmar_ratio_known_series_matches_definition():
    r = np.array([0.02, -0.1, 0.05, 0.03])
    ann = np.prod(1 + r) ** (12 / 4) - 1
    assert calmar_ratio(r, periods_per_year=12) == pytest.approx(ann / 0.1, 1e-12)
    assert annual_return(r, periods_per_year=12) == pytest.approx(ann, 1e-12)


def test_calmar_ratio_no_drawdown_raises_insufficient():
    with pytest.raises(InsufficientDataError, match="had 0 drawdowns"):
        calmar_ratio([0.01, 0.02], periods_per_year=252)


@pytest.mark.parametrize(
    ("rf", "req", "expected"),
    [(0.0, 0.0, 0.06 / 0.03), (0.01, 0.0, (0.0 + 0.02 + 0.01) / (0.03 + 0.02)),
     (0.0, 0.1, None)],
)
def test_omega_ratio_known_series_matches(rf, req, expected):
    if expected is None:
        t = 1.1 ** (1 / 252) - 1
        x = np.array(R) - t
        expected = x[x > 0].sum() / -x[x < 0].sum()
    assert omega_ratio(R, rf, req, periods_per_year=252) == pytest.approx(expected, 1e-12)


def test_omega_ratio_nonzero_required_return_without_frequency_raises():
    with pytest.raises(ParameterError, match="periods_per_year"):
        omega_ratio(R, 0.0, 0.1)


def test_tail_ratio_matches_numpy_percentiles():
    x = np.random.default_rng(3).standard_t(3, 1001)
    exp = abs(np.percentile(x, 95)) / abs(np.percentile(x, 5))
    assert tail_ratio(x) == pytest.approx(exp, 1e-14)


@pytest.mark.parametrize(("returns", "expected"),
                         [([0.1, -0.1, 0.0, 0.2], 2 / 3), ([-1e-9], 0.0), ([0.0, 3.0], 1.0)])
def test_hit_rate_ignores_flat_bars(returns, expected):
    assert hit_rate(returns) == pytest.approx(expected)


def test_hit_rate_all_flat_raises():
    with pytest.raises(InsufficientDataError, match="had 0 non-zero"):
        hit_rate([0.0, 0.0])


def test_turnover_counts_opening_trade_and_annualises():
    w = [1.0, 1.0, -1.0, 0.0]  # |1| + 0 + 2 + 1 = 4 over 4 bars
    assert turnover(w) == 1.0
    assert turnover(w, per="year", periods_per_year=252) == 252.0
    idx = pd.bdate_range("2024-01-01", periods=4)
    assert turnover(pd.Series(w, index=idx), per="year") == 252.0


@pytest.mark.parametrize(
    ("index", "calendar", "expected"),
    [(pd.date_range("2024-01-02 09:30", periods=390, freq="1min"), "equity", 252 * 390),
     (pd.date_range("2024-01-02 09:30", periods=50, freq="5s"), "equity", 252 * 6.5 * 720),
     (pd.bdate_range("2024-01-01", periods=40), "equity", 252),
     (pd.date_range("2024-01-01", periods=40, freq="D"), "crypto", 365),
     (pd.date_range("2024-01-01", periods=40, freq="W"), "equity", 36),
     (pd.date_range("2024-01-01", periods=40, freq="1h"), "crypto", 8760)],
)
def test_periods_per_year_index_matches_convention(index, calendar, expected):
    assert periods_per_year(index, calendar) == pytest.approx(expected)


def test_periods_per_year_two_sessions_uses_median_spacing():
    a = pd.date_range("2024-01-02 09:30", periods=390, freq="1min")
    b = pd.date_range("2024-01-03 09:30", periods=390, freq="1min")
    assert periods_per_year(a.append(b)) == pytest.approx(252 * 390)


def test_periods_per_year_irregular_ticks_uses_median():
    ns = np.cumsum(np.array([0, 100, 200, 100, 100, 5_000, 100])) * 1_000_000  # ms gaps
    idx = pd.DatetimeIndex(ns + 1_700_000_000 * 10**9)
    assert periods_per_year(idx, "crypto") == pytest.approx(365 * 86400 / 0.1)


def test_sharpe_ratio_infers_frequency_from_index():
    idx = pd.date_range("2024-01-01", periods=5, freq="1h")
    s = pd.Series(R, index=idx)
    assert sharpe_ratio(s, calendar="crypto") == pytest.approx(
        sharpe_ratio(R, periods_per_year=8760), 1e-12)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [(lambda: sharpe_ratio([0.01], periods_per_year=252), InsufficientDataError, "had 1 values, needed at least 2"),
     (lambda: sharpe_ratio([0.01, 0.01], periods_per_year=252), InsufficientDataError, "zero dispersion"),
     (lambda: sharpe_ratio(R), ParameterError, "periods_per_year"),
     (lambda: sharpe_ratio(R, periods_per_year=-1), ParameterError, "positive"),
     (lambda: sharpe_ratio([0.1, np.nan, 0.2], periods_per_year=1), DataQualityError, "row 1"),
     (lambda: sharpe_ratio(np.ones((3, 2)), periods_per_year=1), SchemaError, "1-D"),
     (lambda: sortino_ratio([0.01, 0.02], periods_per_year=1), InsufficientDataError, "below"),
     (lambda: max_drawdown([]), InsufficientDataError, "had 0 values"),
     (lambda: tail_ratio([0.0, 0.0]), InsufficientDataError, "5th percentile"),
     (lambda: omega_ratio([0.01, 0.02]), InsufficientDataError, "below the threshold"),
     (lambda: omega_ratio(R, 0.0, -1.0), ParameterError, "> -1"),
     (lambda: turnover([1.0], per="day"), ParameterError, "per"),
     (lambda: periods_per_year(pd.DatetimeIndex(["2024-01-01"] * 3)), InsufficientDataError, "had 1"),
     (lambda: periods_per_year(pd.bdate_range("2024-01-01", periods=3), "fx"), ParameterError, "calendar")],
)
def test_metrics_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    "metric",
    [lambda r: sharpe_ratio(r, periods_per_year=252), lambda r: sortino_ratio(r, periods_per_year=252),
     lambda r: downside_risk(r, periods_per_year=252), lambda r: annual_return(r, periods_per_year=252),
     lambda r: calmar_ratio(r, periods_per_year=252), lambda r: omega_ratio(r), max_drawdown,
     max_drawdown_duration, tail_ratio, hit_rate, turnover],
)
def test_metrics_non_finite_value_raises_naming_row(metric, bad):
    x = np.random.default_rng(0).normal(0, 0.01, 5_001)
    x[4_321] = bad
    with pytest.raises(DataQualityError, match="row 4321"):
        metric(x)


@pytest.mark.parametrize(("hours", "expected"), [(24.0, 252 * 24 * 60), (8.0, 252 * 8 * 60)])
def test_periods_per_year_session_hours_override(hours, expected):
    idx = pd.date_range("2024-01-02 00:00", periods=100, freq="1min")
    assert periods_per_year(idx, "equity", session_hours=hours) == pytest.approx(expected)


@pytest.mark.parametrize("hours", [0.0, 25.0, float("nan")])
def test_periods_per_year_bad_session_hours_raises(hours):
    with pytest.raises(ParameterError, match="session_hours"):
        periods_per_year(pd.bdate_range("2024-01-01", periods=3), session_hours=hours)
