"""Unit tests of qlib.risk.var: VaR/ES methods, horizons, seeding, and the VaR backtests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.risk import (
    backtest_var,
    christoffersen_independence,
    expected_shortfall,
    kupiec_pof,
    value_at_risk,
    var_estimate,
)

METHODS = ["historical", "normal", "cornish_fisher", "monte_carlo", "fhs_ewma", "fhs_garch"]


@pytest.fixture(scope="module")
def normal_returns():
    return np.random.default_rng(7).normal(0.0005, 0.01, 5_000)


@pytest.mark.parametrize("kind", ["ndarray", "series"])
@pytest.mark.parametrize(
    ("returns", "conf", "var", "es"),
    [([-0.03, -0.01, 0.0, 0.01, 0.02], 0.8, 0.014, 0.03),   # q_.2 = -0.03 + 0.8*0.02; k=0
     ([-0.03, -0.01, 0.0, 0.01, 0.02], 0.5, 0.0, 0.04 / 3),  # median 0; k=2 -> mean(-.03,-.01,0)
     (list(np.arange(1, 101) / -100.0), 0.95, 0.9505, 0.975)],  # k=4: mean(-1..-.96)... see below
)
def test_historical_var_es_known_values(kind, returns, conf, var, es):
    r = np.asarray(returns) if kind == "ndarray" else pd.Series(returns)
    if len(returns) == 100:  # -1.00..-0.01: q_.05 at h=4.95 -> -0.9505; k=4 -> mean of 5 smallest
        es = np.mean(np.arange(96, 101) / 100.0)
    e = var_estimate(r, conf, method="historical")
    assert e.var == pytest.approx(var, abs=1e-12)
    assert e.es == pytest.approx(es, abs=1e-12)


@pytest.mark.parametrize("conf", [0.95, 0.99])
@pytest.mark.parametrize("h", [1, 10])
def test_normal_var_matches_closed_form(normal_returns, conf, h):
    mu, sd = normal_returns.mean(), normal_returns.std(ddof=1)
    z = stats.norm.ppf(1 - conf)
    e = var_estimate(normal_returns, conf, method="normal", horizon=h)
    assert e.var == pytest.approx(-(h * mu + z * np.sqrt(h) * sd), 1e-12)
    assert e.es == pytest.approx(-(h * mu - np.sqrt(h) * sd * stats.norm.pdf(z) / (1 - conf)), 1e-12)


def test_cornish_fisher_zero_skew_and_kurtosis_is_the_normal_quantile():
    from qlib.risk.var import _cf_quantile
    p = np.array([0.001, 0.01, 0.05])
    assert np.allclose(_cf_quantile(p, 0.0, 0.0), stats.norm.ppf(p), rtol=0, atol=1e-15)


@pytest.mark.parametrize(("s", "k"), [(-0.5, 0.0), (0.0, 3.0), (-0.3, 2.0)])
def test_cornish_fisher_quantile_matches_expansion(s, k):
    from qlib.risk.var import _cf_quantile
    z = stats.norm.ppf(0.01)
    exp = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    assert float(_cf_quantile(0.01, s, k)) == pytest.approx(exp, 1e-14)


def test_cornish_fisher_fat_tails_raise_var_above_normal():
    x = np.random.default_rng(2).standard_t(4, 20_000) * 0.01
    cf = var_estimate(x, 0.995, method="cornish_fisher")
    n = var_estimate(x, 0.995, method="normal")
    assert cf.var > n.var and cf.es > cf.var


@pytest.mark.parametrize("method", ["normal", "cornish_fisher", "monte_carlo", "fhs_ewma",
                                    "fhs_garch", "historical"])
def test_methods_on_gaussian_data_agree_with_normal_within_tolerance(normal_returns, method):
    ref = var_estimate(normal_returns, 0.99, method="normal")
    e = var_estimate(normal_returns, 0.99, method=method, n_sims=50_000)
    assert e.var == pytest.approx(ref.var, rel=0.12)
    assert e.es == pytest.approx(ref.es, rel=0.12)
    assert e.es >= e.var


@pytest.mark.parametrize("method", ["monte_carlo", "fhs_ewma", "fhs_garch"])
def test_simulation_same_seed_is_bit_identical_and_seed_matters(normal_returns, method):
    a = var_estimate(normal_returns, 0.99, method=method, horizon=5, n_sims=5_000, seed=1)
    b = var_estimate(normal_returns, 0.99, method=method, horizon=5, n_sims=5_000, seed=1)
    c = var_estimate(normal_returns, 0.99, method=method, horizon=5, n_sims=5_000, seed=2)
    assert a == b
    assert a.var != c.var


@pytest.mark.parametrize("method", ["historical", "normal", "monte_carlo", "fhs_ewma"])
def test_longer_horizon_has_larger_var(normal_returns, method):
    v1 = value_at_risk(normal_returns, 0.99, method=method, n_sims=20_000)
    v10 = value_at_risk(normal_returns, 0.99, method=method, horizon=10, n_sims=20_000)
    assert 2.0 < v10 / v1 < 4.5  # about sqrt(10) minus drift


def test_historical_horizon_uses_overlapping_compounded_returns():
    r = np.array([0.1, -0.2, 0.05, -0.1])
    h2 = np.array([1.1 * 0.8, 0.8 * 1.05, 1.05 * 0.9]) - 1
    assert var_estimate(r, 0.5, horizon=2).var == pytest.approx(-np.percentile(h2, 50), 1e-12)


def test_fhs_ewma_scales_with_recent_volatility():
    rng = np.random.default_rng(5)
    calm_then_wild = np.concatenate([rng.normal(0, 0.005, 1000), rng.normal(0, 0.03, 100)])
    assert value_at_risk(calm_then_wild, 0.99, method="fhs_ewma") > \
        value_at_risk(calm_then_wild, 0.99, method="historical")


def test_expected_shortfall_equals_estimate_es(normal_returns):
    assert expected_shortfall(normal_returns, 0.975, method="normal") == \
        var_estimate(normal_returns, 0.975, method="normal").es


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [({"method": "delta"}, ParameterError, "method"),
     ({"confidence": 1.0}, ParameterError, "confidence"),
     ({"horizon": 0}, ParameterError, "horizon"),
     ({"method": "monte_carlo", "n_sims": 0}, ParameterError, "n_sims"),
     ({"method": "fhs_ewma", "ewma_lambda": 1.0}, ParameterError, "ewma_lambda"),
     ({"method": "fhs_garch", "returns": np.ones(50) * 0.01}, InsufficientDataError, "needed at least 100"),
     ({"method": "historical", "horizon": 5, "returns": [0.1, 0.2]}, InsufficientDataError, "had 2")],
)
def test_var_estimate_bad_input_raises(kwargs, exc, match):
    r = kwargs.pop("returns", [0.01, -0.02, 0.03, -0.01])
    with pytest.raises(exc, match=match):
        var_estimate(r, **kwargs)


@pytest.mark.parametrize(
    ("x", "n", "p", "expected"),
    [(5, 250, 0.01, None), (0, 250, 0.01, 2 * 250 * -np.log(0.99)), (2, 100, 0.02, 0.0)],
)
def test_kupiec_pof_matches_likelihood_ratio(x, n, p, expected):
    hits = np.zeros(n, np.int8)
    hits[:x] = 1
    if expected is None:
        ph = x / n
        expected = -2 * ((n - x) * np.log(1 - p) + x * np.log(p)
                         - (n - x) * np.log(1 - ph) - x * np.log(ph))
    lr, pv = kupiec_pof(hits, 1 - p)
    assert lr == pytest.approx(expected, abs=1e-10)
    assert pv == pytest.approx(stats.chi2.sf(expected, 1), abs=1e-12)


def test_christoffersen_clustered_exceptions_reject_independence():
    hits = np.zeros(500, np.int8)
    hits[100:110] = 1  # one cluster of 10
    lr, pv = christoffersen_independence(hits)
    n00, n01, n10, n11 = 488, 1, 1, 9  # 499 consecutive pairs
    pi01, pi11, pi = n01 / (n00 + n01), n11 / (n10 + n11), 10 / 499
    exp = -2 * ((n00 + n10) * np.log(1 - pi) + (n01 + n11) * np.log(pi)
                - n00 * np.log(1 - pi01) - n01 * np.log(pi01)
                - n10 * np.log(1 - pi11) - n11 * np.log(pi11))
    assert lr == pytest.approx(exp, 1e-12)
    assert pv < 1e-6


def test_christoffersen_no_exceptions_gives_zero_statistic():
    assert christoffersen_independence(np.zeros(50, bool)) == (0.0, 1.0)


def test_backtest_var_counts_exceptions_and_combines_tests():
    r = pd.Series([0.0, -0.05, 0.01, -0.02, -0.03, 0.0])
    var = np.array([0.01, 0.04, 0.04, 0.01, 0.05, 0.01])
    bt = backtest_var(r, var, 0.9)
    assert bt.exceptions == 2 and bt.n == 6 and bt.exception_rate == pytest.approx(1 / 3)
    assert bt.expected_exceptions == pytest.approx(0.6)
    pof, _ = kupiec_pof([0, 1, 0, 1, 0, 0], 0.9)
    ind, _ = christoffersen_independence([0, 1, 0, 1, 0, 0])
    assert bt.pof_statistic == pof and bt.ind_statistic == ind
    assert bt.cc_statistic == pytest.approx(pof + ind)
    assert bt.cc_pvalue == pytest.approx(stats.chi2.sf(pof + ind, 2))


def test_backtest_var_calibrated_forecast_is_not_rejected(normal_returns):
    v = var_estimate(normal_returns, 0.99, method="normal").var
    bt = backtest_var(normal_returns, v, 0.99)
    assert bt.pof_pvalue > 0.01 and bt.ind_pvalue > 0.01


@pytest.mark.parametrize(
    ("call", "exc"),
    [(lambda: backtest_var([0.1, 0.2], [0.1], 0.99), SchemaError),
     (lambda: kupiec_pof([0, 2], 0.99), SchemaError),
     (lambda: kupiec_pof([], 0.99), InsufficientDataError),
     (lambda: christoffersen_independence([1]), InsufficientDataError)],
)
def test_backtests_bad_input_raise(call, exc):
    with pytest.raises(exc):
        call()


@pytest.mark.parametrize("method", METHODS)
def test_var_estimate_non_finite_return_raises_naming_row(method):
    from qlib.errors import DataQualityError
    x = np.random.default_rng(1).normal(0, 0.01, 300)
    x[123] = np.nan
    with pytest.raises(DataQualityError, match="row 123"):
        var_estimate(x, 0.99, method=method)
