"""Kyle's lambda agrees with statsmodels on the same aggregated inputs; through the day."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from qlib.book import bbo
from qlib.data import load
from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import kyle_lambda, kyle_lambda_profile, trades
from qlib.signals.kyle import flow_and_mid_changes


@pytest.fixture(scope="module")
def lobster(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" /
              "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    return bbo(md), trades(md)


@pytest.fixture(scope="module")
def binance(shared_data):
    md = load("binance", shared_data / "binance-spot-btcusdt-hftbacktest" / "btcusdt_20240808.gz")
    return bbo(md), trades(md)


def test_flow_and_mid_changes_lobster_reference(lobster):
    q, t = lobster
    df = flow_and_mid_changes(t, q, "5min")
    ref = (t.side * t.qty).groupby(t.ts_exch.dt.floor("5min")).sum()
    assert np.allclose(df.signed_flow.to_numpy(), ref.to_numpy())
    mid = ((q.bid_px + q.ask_px) / 2).set_axis(q.ts_exch.to_numpy())
    k = 3
    lo, hi = df.index[k], df.index[k] + np.timedelta64(5, "m")
    m0 = mid[mid.index < lo].iloc[-1]
    m1 = mid[mid.index < hi].iloc[-1]
    assert df.dmid.iloc[k] == pytest.approx(m1 - m0)


@pytest.mark.parametrize("fixture,freq", [("lobster", "5min"), ("binance", "5s")])
def test_kyle_lambda_agrees_with_statsmodels(fixture, freq, request):
    q, t = request.getfixturevalue(fixture)
    res = kyle_lambda(t, q, freq)
    df = flow_and_mid_changes(t, q, freq)
    X = sm.add_constant(df.signed_flow.to_numpy())
    ref = sm.OLS(df.dmid.to_numpy(), X).fit(cov_type="HAC", cov_kwds={"maxlags": res.maxlags})
    assert res.coefficient == pytest.approx(ref.params[1])
    assert res.stderr == pytest.approx(ref.bse[1])
    assert res.ci == pytest.approx(tuple(ref.conf_int(alpha=0.05)[1]))
    assert res.rsquared == pytest.approx(ref.rsquared) and res.nobs == len(df)
    assert res.coefficient > 0          # buying pushes the price up
    assert res.ci[0] < res.coefficient < res.ci[1]
    plain = kyle_lambda(t, q, freq, hac=False)
    assert plain.coefficient == pytest.approx(res.coefficient) and plain.cov_type == "nonrobust"


def test_kyle_lambda_interval_without_trades_raises(lobster):
    q, t = lobster
    with pytest.raises(InsufficientDataError, match="had 0 trades, needed 1"):
        kyle_lambda(t, q, "1min")
    assert kyle_lambda(t, q, "1min", empty="drop").nobs > 300
    assert kyle_lambda(t, q, every=50).nobs == -(-len(t) // 50)


def test_kyle_lambda_profile_lobster_through_the_day(lobster):
    q, t = lobster
    prof = kyle_lambda_profile(t, q, "1min", "60min", empty="drop")
    assert len(prof) == 6 and (prof.nobs >= 55).all()
    assert (prof.ci_low < prof.coefficient).all() and (prof.coefficient < prof.ci_high).all()
    rolling = kyle_lambda_profile(t, q, "1min", "60min", step="30min", empty="drop")
    assert len(rolling) == 12


def test_kyle_lambda_profile_day_shorter_than_window_raises(binance):
    q, t = binance
    with pytest.raises(InsufficientDataError, match=r"spans \d+ interval\(s\) of 1s, needed 3600"):
        kyle_lambda_profile(t, q, "1s", "1h", empty="drop")
    with pytest.raises(ParameterError):
        kyle_lambda_profile(t, q, "1min", "1s")
