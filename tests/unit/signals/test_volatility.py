"""Realized volatility and the two-scale estimator on real days and simulated noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.book import bbo
from qlib.data import load
from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import realized_volatility, trades, two_scale_rv


@pytest.fixture(scope="module")
def lobster(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" /
              "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    return bbo(md), trades(md)


def test_realized_volatility_lobster_matches_pandas_resample(lobster):
    q, _ = lobster
    mid = ((q.bid_px + q.ask_px) / 2).set_axis(q.ts_exch.to_numpy())
    t0 = mid.index[0]
    lp = np.log(mid).resample("5min", origin=t0).last().ffill()
    ref = np.sqrt((lp.diff().dropna() ** 2).sum())
    # qlib samples at t0 + k*5min (previous tick), pandas labels bins [t0+k*5m, ...): the
    # value at t0+k*5m is pandas' last of the bin before, so sums agree up to the ends
    got = realized_volatility(mid, "5min")
    assert got == pytest.approx(ref, rel=0.1)
    assert realized_volatility(q, "5min") == got


def test_two_scale_rv_removes_noise_bias_simulated():
    rng = np.random.default_rng(7)
    n, sigma2 = 20_000, 1e-4
    x = np.cumsum(rng.normal(0, np.sqrt(sigma2 / n), n))
    noisy = np.exp(5.0 + x + rng.normal(0, 5e-4, n))
    s = pd.Series(noisy, index=pd.date_range("2024-01-02", periods=n, freq="1s", tz="UTC"))
    naive = np.sum(np.diff(np.log(noisy)) ** 2)
    tsrv = two_scale_rv(s)
    assert naive > 50 * sigma2             # noise dominates tick-by-tick RV
    assert tsrv == pytest.approx(sigma2, rel=0.35)
    assert realized_volatility(s, estimator="two_scale") == pytest.approx(np.sqrt(tsrv))


def test_two_scale_rv_lobster_close_to_sparse_rv(lobster):
    q, t = lobster
    rv5 = realized_volatility(q, "5min") ** 2
    assert two_scale_rv(q) == pytest.approx(rv5, rel=0.5)
    assert two_scale_rv(t) > 0


def test_volatility_too_little_data_raises(lobster):
    q, _ = lobster
    short = q.iloc[:50]
    with pytest.raises(InsufficientDataError, match="needed at least 100"):
        two_scale_rv(short)
    with pytest.raises(InsufficientDataError, match=r"spans 1 grid point\(s\) of 1D, needed at least 2"):
        realized_volatility(q, "1D")
    with pytest.raises(ParameterError):
        realized_volatility(q, estimator="garch")
