"""OFI against a slow, obviously-correct reference on real days; the CKS regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from qlib.book import bbo
from qlib.book.depth import depth_snapshots
from qlib.data import load
from qlib.errors import InsufficientDataError
from qlib.signals import multilevel_ofi, ofi, ofi_regression


@pytest.fixture(scope="module")
def lobster(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" /
              "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    return bbo(md), depth_snapshots(md, levels=10)


@pytest.fixture(scope="module")
def binance(shared_data):
    md = load("binance", shared_data / "binance-spot-btcusdt-hftbacktest" / "btcusdt_20240808.gz")
    return bbo(md)


def slow_ofi(bid_px, bid_qty, ask_px, ask_qty):
    """CKS (2014) eq. 2, case by case, one update at a time."""
    out = [0.0]
    for n in range(1, len(bid_px)):
        if bid_px[n] > bid_px[n - 1]:
            bid_flow = bid_qty[n]
        elif bid_px[n] == bid_px[n - 1]:
            bid_flow = bid_qty[n] - bid_qty[n - 1]
        else:
            bid_flow = -bid_qty[n - 1]
        if ask_px[n] < ask_px[n - 1]:
            ask_flow = ask_qty[n]
        elif ask_px[n] == ask_px[n - 1]:
            ask_flow = ask_qty[n] - ask_qty[n - 1]
        else:
            ask_flow = -ask_qty[n - 1]
        out.append(bid_flow - ask_flow)
    return out


@pytest.mark.parametrize("fixture", ["binance", "lobster"])
def test_ofi_matches_slow_reference_real_day(fixture, request):
    q = request.getfixturevalue(fixture)
    q = q[0] if isinstance(q, tuple) else q
    e = slow_ofi(*(q[c].tolist() for c in ("bid_px", "bid_qty", "ask_px", "ask_qty")))
    got = ofi(q)
    assert np.allclose(got.to_numpy(), e)
    ref = pd.Series(e, index=q["ts_exch"].to_numpy()).resample("1s").sum()
    per_s = ofi(q, "1s")
    assert len(per_s) == len(ref)
    assert np.allclose(per_s.to_numpy(), ref.to_numpy())


def test_ofi_event_grid_sums_every_n_updates(binance):
    e = ofi(binance).to_numpy()
    got = ofi(binance, every=50)
    assert np.allclose(got.to_numpy(), np.add.reduceat(e, np.arange(0, len(e), 50)))


def test_multilevel_ofi_level_one_equals_ofi_lobster(lobster):
    q, ds = lobster
    m = multilevel_ofi(ds, 10, "10s")
    assert list(m.columns) == [f"ofi_{i}" for i in range(1, 11)]
    assert np.allclose(m["ofi_1"].to_numpy(), ofi(q, "10s").to_numpy())
    lvl3 = ds[["bid_px_3", "bid_qty_3", "ask_px_3", "ask_qty_3"]]
    e3 = slow_ofi(lvl3.bid_px_3.fillna(-np.inf).tolist(), lvl3.bid_qty_3.tolist(),
                  lvl3.ask_px_3.fillna(np.inf).tolist(), lvl3.ask_qty_3.tolist())
    assert np.allclose(multilevel_ofi(ds, 3)["ofi_3"].to_numpy(), e3)


@pytest.mark.parametrize("fixture", ["binance", "lobster"])
def test_ofi_regression_agrees_with_statsmodels(fixture, request):
    q = request.getfixturevalue(fixture)
    q = q[0] if isinstance(q, tuple) else q
    res = ofi_regression(q, "5s")
    x, y = res.data["x"].to_numpy(), res.data["y"].to_numpy()
    assert np.allclose(x, ofi(q, "5s").to_numpy())
    # y: mid at the end of each interval minus at the end of the previous one
    mids = ((q.bid_px + q.ask_px) / 2).set_axis(q.ts_exch.to_numpy()).resample("5s").last().ffill()
    assert np.allclose(y, np.diff(mids.to_numpy(), prepend=(q.bid_px.iloc[0] + q.ask_px.iloc[0]) / 2))
    ref = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": res.maxlags})
    assert res.coefficient == pytest.approx(ref.params[1])
    assert res.tvalue == pytest.approx(ref.tvalues[1])
    assert res.rsquared == pytest.approx(ref.rsquared)
    assert res.ci == pytest.approx(tuple(ref.conf_int()[1]))
    assert res.coefficient > 0 and res.nobs == len(x)
    assert "OLS Regression Results" in str(res.summary())


def test_ofi_regression_day_shorter_than_window_raises(binance):
    with pytest.raises(InsufficientDataError, match=r"had \d+ intervals, needed at least 30"):
        ofi_regression(binance, "1min")
