"""Quoted, effective, realized and Roll spreads and price impact on real days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.book import bbo
from qlib.data import load
from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import (
    effective_spread,
    price_impact,
    quoted_spread,
    realized_spread,
    roll_spread,
    trades,
)


@pytest.fixture(scope="module")
def lobster(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" /
              "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    return md, bbo(md), trades(md)


@pytest.fixture(scope="module")
def binance(shared_data):
    md = load("binance", shared_data / "binance-spot-btcusdt-hftbacktest" / "btcusdt_20240808.gz")
    return md, bbo(md), trades(md)


def test_quoted_spread_units_lobster(lobster):
    md, q, _ = lobster
    s = quoted_spread(q)
    assert (s > 0).all()
    assert np.allclose(quoted_spread(q, unit="bps"), 1e4 * s / ((q.bid_px + q.ask_px) / 2))
    ticks = quoted_spread(q, unit="ticks", tick_size=md.instrument.tick_size)
    assert np.allclose(ticks, np.round(ticks))
    with pytest.raises(ParameterError):
        quoted_spread(q, unit="ticks")


def test_effective_spread_uses_prevailing_mid_lobster(lobster):
    _, q, t = lobster
    es = effective_spread(t, q)
    # reference: the last bbo row strictly before the trade's event row
    r = t["row"].iloc[100]
    m = q.loc[q.index < r].iloc[-1]
    d = t["side"].iloc[100]
    ref = 2 * d * (t["price"].iloc[100] - (m.bid_px + m.ask_px) / 2)
    assert es["effective_spread"].loc[t.index[100]] == pytest.approx(ref)
    # trades at or inside the quotes: effective spread at most the quoted spread, mostly
    assert es["effective_spread"].median() > 0


@pytest.mark.parametrize("fixture", ["lobster", "binance"])
def test_spread_decomposition_effective_equals_realized_plus_impact(fixture, request):
    _, q, t = request.getfixturevalue(fixture)
    es = effective_spread(t, q)
    rs = realized_spread(t, q, "5s")
    pi = price_impact(t, q, "5s")
    joined = es.join(rs[["realized_spread"]], how="inner").join(pi[["price_impact"]])
    assert len(joined) == len(rs) > 0
    assert np.allclose(joined.effective_spread, joined.realized_spread + 2 * joined.price_impact)
    assert rs.attrs["beyond_horizon"] >= 0


def test_realized_spread_horizon_past_the_day_raises(binance):
    _, q, t = binance
    with pytest.raises(InsufficientDataError, match="needed at least 1"):
        realized_spread(t, q, "1D")


def test_roll_spread_lobster_positive_and_matches_pandas(lobster):
    md, _, _ = lobster
    ta = trades(md, aggregate=True)
    r = roll_spread(ta)
    dp = ta["price"].diff().dropna()
    g = dp.autocorr(lag=1) * dp.var()
    assert r.defined and r.nobs == len(dp)
    assert r.autocov == pytest.approx(g, rel=1e-3)
    assert r.spread == pytest.approx(2 * np.sqrt(-r.autocov))


def test_roll_spread_trending_prices_undefined_and_short_raises():
    r = roll_spread(pd.Series(100 + np.cumsum(np.arange(80.0))))  # accelerating: no bounce
    assert not r.defined and r.spread == 0.0
    with pytest.raises(InsufficientDataError, match="had 4 price changes, needed at least 30"):
        roll_spread(pd.Series([1.0, 2.0, 1.0, 2.0, 1.0]))
