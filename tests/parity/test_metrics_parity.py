"""Risk/performance metrics: every kernel vs its .py_func, and the public API vs empyrical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.risk import _metrics_kernels as _k
from qlib.risk import (
    annual_return,
    calmar_ratio,
    downside_risk,
    expected_shortfall,
    max_drawdown,
    omega_ratio,
    sharpe_ratio,
    sortino_ratio,
    tail_ratio,
    value_at_risk,
)


def _series():
    rng = np.random.default_rng(2024)
    out = {
        "normal": rng.normal(0.0004, 0.01, 2_000),
        "student_t": rng.standard_t(3, 1_500) * 0.008,
        "skewed": np.expm1(rng.normal(-0.0002, 0.02, 999)),
        "short": np.array([0.01, -0.02, 0.03, -0.01, 0.02]),
        "ties": np.round(rng.normal(0, 0.01, 800), 3),
        "intraday": rng.normal(0.0, 0.0005, 5_000),
    }
    return out


SERIES = _series()
NAMES = sorted(SERIES)


# ----------------------------------------------------------------------- jit vs py_func

@pytest.mark.parametrize("name", NAMES)
def test_scalar_kernels_jit_vs_py_func_parity(name):
    x = SERIES[name]
    for kern, args in [(_k.mean_std, (x, 0.001)), (_k.mean_downside, (x, 0.0)),
                       (_k.drawdown_stats, (x,)), (_k.growth, (x,)), (_k.gain_loss, (x, 0.0)),
                       (_k.hit_counts, (x,)), (_k.abs_change_sum, (np.cumsum(x),)),
                       (_k.quantile, (x, 0.05)), (_k.quantile, (x, 0.95)),
                       (_k.order_stats, (x, len(x) // 3)),
                       (_k.lower_tail_mean, (x, int((len(x) - 1) * 0.05)))]:
        a, b = kern(*args), kern.py_func(*args)
        np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-13, atol=0,
                                   err_msg=kern.__name__)


@pytest.mark.parametrize("name", NAMES)
def test_array_kernels_jit_vs_py_func_parity(name):
    x = SERIES[name]
    np.testing.assert_allclose(_k.ewma_variance(x, 0.94, 1e-4),
                               _k.ewma_variance.py_func(x, 0.94, 1e-4), rtol=1e-13)
    hits = (x < np.percentile(x, 10)).astype(np.int8)
    assert _k.violation_transitions(hits) == _k.violation_transitions.py_func(hits)


@pytest.mark.parametrize("name", NAMES)
def test_quantile_kernel_matches_numpy_percentile_on_every_quantile(name):
    x = SERIES[name]
    for q in np.linspace(0, 1, 41):
        assert _k.quantile(x, q) == pytest.approx(np.percentile(x, 100 * q), rel=1e-13, abs=1e-18)


def _adversarial(n):
    """The strided sample (every n**(1/3)-th value) holds the largest values, so the
    sample's bracket misses and order_stats must fall back to a full sort."""
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1, n)
    step = max(1, int(n ** (1.0 / 3.0)))
    x[::step] = 100 + rng.random(x[::step].size)
    return x


@pytest.mark.parametrize("n", [1, 2, 17, 4096, 4097, 20_000, 200_001])
@pytest.mark.parametrize("data", ["random", "sorted", "reversed", "adversarial", "constant"])
def test_order_stats_kernel_matches_full_sort(n, data):
    x = np.random.default_rng(n).standard_t(3, n)
    if data == "sorted":
        x = np.sort(x)
    elif data == "reversed":
        x = np.sort(x)[::-1].copy()
    elif data == "adversarial":
        x = _adversarial(n)
    elif data == "constant":
        x = np.full(n, 0.25)
    srt = np.sort(x)
    for k in sorted({0, n // 100, n // 20, n // 2, n - 1}):
        v0, v1, s = _k.order_stats(x, k)
        assert v0 == srt[k] and v1 == srt[min(k + 1, n - 1)]
        scale = np.abs(srt[: k + 1]).sum()  # summation order differs from numpy's pairwise sum
        assert s == pytest.approx(srt[: k + 1].sum(), rel=0, abs=1e-13 * scale + 1e-300)
        w0, w1, t = _k.order_stats.py_func(x, k)
        assert (w0, w1) == (v0, v1) and t == pytest.approx(s, rel=0, abs=1e-13 * scale + 1e-300)


def test_simulation_kernels_jit_vs_py_func_same_seed_same_paths():
    # numba's np.random and numpy's legacy global generator share the MT19937 algorithm
    # and seeding, and standard_normal/randint draw the same sequence.
    a = _k.simulate_normal_paths(0.0, 0.01, 3, 500, 42)
    b = _k.simulate_normal_paths.py_func(0.0, 0.01, 3, 500, 42)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    z = SERIES["normal"] / 0.01
    a = _k.bootstrap_fhs_paths(z, 0.01, 0.0, 1e-6, 0.05, 0.9, 4, 500, 7)
    b = _k.bootstrap_fhs_paths.py_func(z, 0.01, 0.0, 1e-6, 0.05, 0.9, 4, 500, 7)
    np.testing.assert_allclose(a, b, rtol=1e-12)


# ----------------------------------------------------------------------- vs empyrical

ep = pytest.importorskip("empyrical")


@pytest.mark.parametrize("as_series", [False, True])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ppy", [252, 98_280, 8_760])
@pytest.mark.parametrize("rf", [0.0, 0.0001])
def test_ratios_equal_empyrical(name, ppy, rf, as_series):
    x = SERIES[name]
    r = pd.Series(x) if as_series else x
    assert sharpe_ratio(r, rf, periods_per_year=ppy) == pytest.approx(
        ep.sharpe_ratio(x, rf, annualization=ppy), rel=1e-12)
    assert sortino_ratio(r, rf, periods_per_year=ppy) == pytest.approx(
        ep.sortino_ratio(x, rf, annualization=ppy), rel=1e-12)
    assert downside_risk(r, rf, periods_per_year=ppy) == pytest.approx(
        ep.downside_risk(x, rf, annualization=ppy), rel=1e-12)
    assert omega_ratio(r, rf, 0.05, periods_per_year=ppy) == pytest.approx(
        ep.omega_ratio(x, rf, 0.05, annualization=ppy), rel=1e-12)


@pytest.mark.parametrize("as_series", [False, True])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ppy", [252, 98_280])
def test_drawdown_metrics_equal_empyrical(name, ppy, as_series):
    x = SERIES[name]
    r = pd.Series(x) if as_series else x
    assert max_drawdown(r) == pytest.approx(ep.max_drawdown(x), rel=1e-12)
    assert annual_return(r, periods_per_year=ppy) == pytest.approx(
        ep.annual_return(x, annualization=ppy), rel=1e-10)
    assert calmar_ratio(r, periods_per_year=ppy) == pytest.approx(
        ep.calmar_ratio(x, annualization=ppy), rel=1e-10)
    assert tail_ratio(r) == pytest.approx(ep.tail_ratio(x), rel=1e-13)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("conf", [0.9, 0.95, 0.99, 0.999])
def test_historical_var_es_equal_minus_empyrical(name, conf):
    x = SERIES[name]
    assert value_at_risk(x, conf) == pytest.approx(-ep.value_at_risk(x, 1 - conf), rel=1e-13)
    assert expected_shortfall(x, conf) == pytest.approx(
        -ep.conditional_value_at_risk(x, 1 - conf), rel=1e-13)


def test_sharpe_infers_daily_frequency_like_empyrical_daily_period():
    x = SERIES["normal"]
    s = pd.Series(x, index=pd.bdate_range("2015-01-01", periods=len(x)))
    assert sharpe_ratio(s) == pytest.approx(ep.sharpe_ratio(x, period="daily"), rel=1e-12)


@pytest.mark.parametrize("n", [1, 2, 17, 4096, 4097, 20_000, 200_001])
@pytest.mark.parametrize("data", ["random", "sorted", "reversed", "adversarial", "constant"])
def test_lower_order_stats_and_two_quantiles_match_full_sort(n, data):
    x = np.random.default_rng(n + 1).standard_t(3, n)
    if data == "sorted":
        x = np.sort(x)
    elif data == "reversed":
        x = np.sort(x)[::-1].copy()
    elif data == "adversarial":
        x = _adversarial(n)
    elif data == "constant":
        x = np.full(n, 0.25)
    srt = np.sort(x)
    for k in sorted({0, n // 1000, n // 100, n // 20, n // 2, n - 1}):
        v0, v1, s = _k.lower_order_stats(x, k)
        assert v0 == srt[k] and v1 == srt[min(k + 1, n - 1)]
        scale = np.abs(srt[: k + 1]).sum()
        assert s == pytest.approx(srt[: k + 1].sum(), rel=0, abs=1e-13 * scale + 1e-300)
        w0, w1, t = _k.lower_order_stats.py_func(x, k)
        assert (w0, w1) == (v0, v1) and t == pytest.approx(s, rel=0, abs=1e-13 * scale + 1e-300)
    for qa, qb in [(0.05, 0.95), (0.01, 0.99), (0.0, 1.0), (0.3, 0.7), (0.5, 0.5)]:
        a, b = _k.two_quantiles(x, qa, qb)
        assert (a, b) == (_k.quantile(x, qa), _k.quantile(x, qb))
        assert (a, b) == _k.two_quantiles.py_func(x, qa, qb)
        assert a == pytest.approx(np.percentile(x, 100 * qa), rel=1e-13, abs=1e-18)
        assert b == pytest.approx(np.percentile(x, 100 * qb), rel=1e-13, abs=1e-18)


def _select_inputs(n, data):
    rng = np.random.default_rng(n + 7)
    x = rng.standard_t(3, n)
    if data == "sorted":
        x = np.sort(x)
    elif data == "reversed":
        x = np.sort(x)[::-1].copy()
    elif data == "organ_pipe":
        s = np.sort(x)
        x = np.concatenate([s[::2], s[1::2][::-1]])
    elif data == "ties":
        x = np.round(x, 1)
    elif data == "two_values":
        x = rng.choice([-1.0, 2.0], n)
    elif data == "constant":
        x = np.full(n, 0.25)
    return x


@pytest.mark.parametrize("n", [1, 2, 16, 17, 100, 5_000, 40_001])
@pytest.mark.parametrize("data", ["random", "sorted", "reversed", "organ_pipe", "ties", "two_values",
                                  "constant"])
def test_select_copy_matches_partition_and_leaves_source(n, data):
    x = _select_inputs(n, data)
    src = x.copy()
    srt = np.sort(x)
    w = np.empty(2 * n)
    for j in sorted({0, n // 100, n // 3, n // 2, n - 2, n - 1} - {-1}):
        assert _k.select_copy(src, n, j, w[:n], w[n:]) == srt[j]
        assert _k.select_copy.py_func(src, n, j, w[:n], w[n:]) == srt[j]
        np.testing.assert_array_equal(src, x)  # the source is read only


@pytest.mark.parametrize("n", [1, 5, 1_000, 20_001])
@pytest.mark.parametrize("data", ["random", "ties", "two_values", "constant"])
def test_tail_from_kth_matches_sort_and_sums_in_data_order(n, data):
    x = _select_inputs(n, data)
    srt = np.sort(x)
    for k in sorted({0, n // 100, n // 2, n - 1}):
        v1, s = _k._tail_from_kth(x, n, srt[k], k)
        assert v1 == srt[min(k + 1, n - 1)]
        below = x[x < srt[k]]
        expect = 0.0
        for v in below:  # the values below x_(k) one after the other in data order
            expect += float(v)
        for _ in range(k + 1 - below.size):
            expect += float(srt[k])
        assert s == expect
        scale = np.abs(srt[: k + 1]).sum()
        assert s == pytest.approx(srt[: k + 1].sum(), rel=0, abs=1e-13 * scale + 1e-300)
        assert (v1, s) == _k._tail_from_kth.py_func(x, n, srt[k], k)


@pytest.mark.parametrize("data", ["random", "adversarial", "ties"])
def test_lower_tail_sum_does_not_depend_on_the_selection_path(data):
    # the bracketed selection and the full-sort fallback give the same bits
    n = 50_000
    x = _adversarial(n) if data == "adversarial" else _select_inputs(n, data)
    for k in (0, n // 100, n // 20):
        v0, v1, s, total = _k.lower_tail_stats(x, k)
        w1, s_ref = _k._tail_from_kth(x, n, v0, k)
        assert (v1, s) == (w1, s_ref)
        assert np.isfinite(total)
