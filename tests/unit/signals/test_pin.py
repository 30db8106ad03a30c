"""PIN: recovery of simulated parameters, stable likelihood, counts, too little data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.signals import _pin_kernels as _pk
from qlib.signals import pin, pin_counts, simulate_pin_counts
from qlib.signals.pin import pin_loglik


@pytest.mark.parametrize(
    "truth",
    [
        (0.4, 0.5, 60.0, 40.0, 40.0),
        (0.3, 0.3, 500.0, 1000.0, 800.0),  # thousands of trades per period
        (0.25, 0.7, 25.0, 6.0, 9.0),
    ],
)
def test_pin_recovers_simulated_parameters(truth):
    alpha, delta, mu, eb, es = truth
    counts = simulate_pin_counts(*truth, n=400, seed=11)
    r = pin(counts)
    assert abs(r.alpha - alpha) < 0.08
    assert abs(r.delta - delta) < 0.15
    assert abs(r.mu / mu - 1) < 0.1
    assert abs(r.eps_b / eb - 1) < 0.05 and abs(r.eps_s / es - 1) < 0.05
    true_pin = alpha * mu / (alpha * mu + eb + es)
    assert abs(r.pin - true_pin) < 4 * r.se["pin"] + 0.01
    assert set(r.se) == {"alpha", "delta", "mu", "eps_b", "eps_s", "pin"}
    assert r.n_converged >= 1 and r.n_periods == 400


def test_pin_standard_errors_shrink_with_more_periods():
    small = pin(simulate_pin_counts(0.4, 0.5, 60.0, 40.0, 40.0, n=100, seed=1))
    large = pin(simulate_pin_counts(0.4, 0.5, 60.0, 40.0, 40.0, n=1600, seed=1))
    assert large.se["alpha"] < small.se["alpha"] and large.se["pin"] < small.se["pin"]


def test_pin_loglik_matches_scipy_poisson_mixture():
    counts = simulate_pin_counts(0.3, 0.4, 30.0, 20.0, 25.0, n=30, seed=2)
    b, s = counts["buys"].to_numpy(), counts["sells"].to_numpy()
    th = (0.3, 0.4, 30.0, 20.0, 25.0)
    direct = np.log(0.7 * poisson.pmf(b, 20) * poisson.pmf(s, 25)
                    + 0.3 * 0.4 * poisson.pmf(b, 20) * poisson.pmf(s, 55)
                    + 0.3 * 0.6 * poisson.pmf(b, 50) * poisson.pmf(s, 25)).sum()
    assert np.isclose(pin_loglik(th, b, s), direct, rtol=1e-10)


def test_pin_loglik_finite_for_huge_counts():
    # naive products underflow to 0 here: exp(-50000) * 50000**50000 / 50000!
    ll = pin_loglik((0.2, 0.5, 5000.0, 50_000.0, 50_000.0), [50_100, 55_000], [49_900, 50_000])
    assert np.isfinite(ll)


def test_pin_kernel_matches_py_func_and_finite_differences():
    counts = simulate_pin_counts(0.3, 0.4, 30.0, 20.0, 25.0, n=50, seed=4)
    b, s = counts["buys"].to_numpy(float), counts["sells"].to_numpy(float)
    from scipy.special import gammaln
    cb, cs = gammaln(b + 1), gammaln(s + 1)
    th = np.array([0.35, 0.45, 28.0, 21.0, 24.0])
    g1, g2 = np.empty(5), np.empty(5)
    f1 = _pk.negll_grad(th, b, s, cb, cs, g1)
    f2 = _pk.negll_grad.py_func(th, b, s, cb, cs, g2)
    assert np.isclose(f1, f2, rtol=1e-13) and np.allclose(g1, g2, rtol=1e-12)
    assert np.isclose(-f1, pin_loglik(th, b, s), rtol=1e-12)
    for i in range(5):
        h = 1e-6 * max(th[i], 1.0)
        tp, tm = th.copy(), th.copy()
        tp[i] += h
        tm[i] -= h
        fd = (_pk.negll_grad(tp, b, s, cb, cs, np.empty(5))
              - _pk.negll_grad(tm, b, s, cb, cs, np.empty(5))) / (2 * h)
        assert np.isclose(g1[i], fd, rtol=1e-4, atol=1e-4)


def test_pin_from_tape_counts_per_interval():
    ts = pd.date_range("2024-01-02 14:30", periods=3000, freq="1s", tz="UTC")
    rng = np.random.default_rng(0)
    tape = pd.DataFrame({"ts_exch": ts, "price": 100.0, "qty": 1.0,
                         "side": rng.choice([-1, 1], len(ts)).astype(np.int8)})
    c = pin_counts(tape, "1min")
    assert len(c) == 48  # 50 minutes, first and last dropped
    assert (c["buys"] + c["sells"] == 60).all()
    assert len(pin_counts(tape, "1min", edges="keep")) == 50
    r = pin(tape, "1min")
    assert r.freq == "1min" and 0 <= r.pin <= 1 and r.n_periods == 48


def test_pin_too_few_periods_raises_with_counts():
    counts = simulate_pin_counts(0.3, 0.5, 20.0, 10.0, 10.0, n=7, seed=0)
    with pytest.raises(InsufficientDataError, match="7 periods of counts, needed at least 10"):
        pin(counts)


def test_pin_no_sells_raises_insufficient():
    with pytest.raises(InsufficientDataError, match="0 sells"):
        pin(pd.DataFrame({"buys": np.arange(1, 21), "sells": np.zeros(20, int)}))


def test_pin_counts_without_known_side_raise_insufficient():
    tape = pd.DataFrame({"ts_exch": pd.date_range("2024", periods=5, freq="1s", tz="UTC"),
                         "price": 1.0, "qty": 1.0, "side": np.zeros(5, np.int8)})
    with pytest.raises(InsufficientDataError, match="0 with a known aggressor side"):
        pin_counts(tape)


@pytest.mark.parametrize("bad", [[-1] * 12, [1.5] * 12])
def test_pin_bad_counts_raise_parameter_error(bad):
    with pytest.raises(ParameterError, match="buys"):
        pin(pd.DataFrame({"buys": bad, "sells": [3] * 12}))


def test_pin_rejects_non_frame_and_freq_with_counts():
    with pytest.raises(SchemaError):
        pin([1, 2, 3])
    with pytest.raises(ParameterError, match="freq"):
        pin(simulate_pin_counts(0.3, 0.5, 20.0, 10.0, 10.0, n=20), "1min")


def test_simulate_pin_counts_is_deterministic_and_follows_regimes():
    a = simulate_pin_counts(0.5, 0.5, 100.0, 10.0, 10.0, n=300, seed=9)
    assert a.equals(simulate_pin_counts(0.5, 0.5, 100.0, 10.0, 10.0, n=300, seed=9))
    good, bad = a[a["regime"] == 1], a[a["regime"] == -1]
    assert good["buys"].mean() > 80 and bad["sells"].mean() > 80


def test_pin_result_frame_and_html():
    r = pin(simulate_pin_counts(0.4, 0.5, 60.0, 40.0, 40.0, n=200, seed=3))
    f = r.to_frame()
    assert list(f.index) == ["alpha", "delta", "mu", "eps_b", "eps_s", "pin"]
    assert "std_err" in f.columns and "PIN (EKOP 1996)" in r._repr_html_()
