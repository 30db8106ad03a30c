"""Invariances of the risk/performance metrics (empyrical-style), on ndarray and Series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qlib.risk import (
    backtest_var,
    hit_rate,
    max_drawdown,
    omega_ratio,
    sharpe_ratio,
    sortino_ratio,
    tail_ratio,
    value_at_risk,
    var_estimate,
)

RET = arrays(np.float64, st.integers(5, 300),
             elements=st.floats(-0.2, 0.2, allow_nan=False, allow_subnormal=False))
WRAP = [np.asarray, pd.Series]
SET = settings(max_examples=60, deadline=None)


def _spread_ok(x):
    return np.std(x) > 1e-6 * (np.abs(x).max() + 1e-12) and np.std(x) > 1e-9


@pytest.mark.parametrize("wrap", WRAP)
@SET
@given(x=RET, shift=st.floats(-0.05, 0.05), rf=st.floats(-0.01, 0.01))
def test_sharpe_ratio_shift_of_returns_and_risk_free_together_unchanged(wrap, x, shift, rf):
    assume(_spread_ok(x))
    a = sharpe_ratio(wrap(x), rf, periods_per_year=252)
    b = sharpe_ratio(wrap(x + shift), rf + shift, periods_per_year=252)
    assert b == pytest.approx(a, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("wrap", WRAP)
@SET
@given(x=RET, c=st.floats(0.01, 100.0), rf=st.floats(-0.01, 0.01))
def test_sharpe_ratio_positive_scaling_unchanged(wrap, x, c, rf):
    assume(_spread_ok(x))
    a = sharpe_ratio(wrap(x), rf, periods_per_year=252)
    b = sharpe_ratio(wrap(x * c), rf * c, periods_per_year=252)
    assert b == pytest.approx(a, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("wrap", WRAP)
@SET
@given(x=RET, c=st.floats(0.01, 100.0))
def test_sortino_ratio_positive_scaling_unchanged(wrap, x, c):
    assume(np.sum(np.minimum(x, 0.0) ** 2) > 1e-200)  # shortfalls that do not underflow
    a = sortino_ratio(wrap(x), periods_per_year=252)
    assert sortino_ratio(wrap(x * c), periods_per_year=252) == pytest.approx(a, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("wrap", WRAP)
@SET
@given(x=RET, c=st.floats(0.01, 100.0))
def test_omega_and_tail_ratio_positive_scaling_unchanged(wrap, x, c):
    assume((x < 0).any())
    assert omega_ratio(wrap(x * c)) == pytest.approx(omega_ratio(wrap(x)), rel=1e-9)
    assume(np.percentile(x, 5) != 0)
    assert tail_ratio(wrap(x * c)) == pytest.approx(tail_ratio(wrap(x)), rel=1e-9)


@pytest.mark.parametrize("wrap", WRAP)
@SET
@given(x=RET)
def test_max_drawdown_bounded_and_never_better_with_an_added_loss(wrap, x):
    m = max_drawdown(wrap(x))
    assert -1.0 <= m <= 0.0
    assert max_drawdown(wrap(np.append(x, -0.1))) <= m
    assert 0.0 <= hit_rate(wrap(np.append(x, 0.01))) <= 1.0


@SET
@given(x=RET, c1=st.floats(0.80, 0.97), dc=st.floats(0.005, 0.02))
def test_var_monotone_in_confidence_and_es_at_least_var(x, c1, dc):
    assume(_spread_ok(x))
    for method in ("historical", "normal"):
        lo = var_estimate(x, c1, method=method)
        hi = var_estimate(x, c1 + dc, method=method)
        assert hi.var >= lo.var - 1e-12
        assert lo.es >= lo.var - 1e-12


@SET
@given(x=RET, perm_seed=st.integers(0, 2**32 - 1))
def test_historical_var_permutation_invariant(x, perm_seed):
    y = np.random.default_rng(perm_seed).permutation(x)
    assert value_at_risk(y, 0.95) == value_at_risk(x, 0.95)


@SET
@given(x=RET, v=st.floats(0.0, 0.3))
def test_backtest_statistics_nonnegative_and_pvalues_in_unit_interval(x, v):
    bt = backtest_var(x, v, 0.95)
    assert bt.exceptions == int((x < -v).sum())
    for s, p in [(bt.pof_statistic, bt.pof_pvalue), (bt.ind_statistic, bt.ind_pvalue),
                 (bt.cc_statistic, bt.cc_pvalue)]:
        assert s >= 0.0 and 0.0 <= p <= 1.0
