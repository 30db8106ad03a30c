"""Intraday profiles of spread, volume and volatility on a real day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from qlib.book import bbo
from qlib.data import load
from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import intraday_profile, trades


@pytest.fixture(scope="module")
def lobster(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" /
              "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    return bbo(md), trades(md)


def test_intraday_volume_profile_lobster_matches_groupby(lobster):
    _, t = lobster
    prof = intraday_profile(t, "volume", "30min", tz="America/New_York")
    assert prof.index[0] == dt.time(9, 30) and prof.index[-1] == dt.time(15, 30)
    assert len(prof) == 13 and prof.attrs["days"] == 1
    ref = t.qty.groupby(t.ts_exch.dt.tz_convert("America/New_York").dt.floor("30min")).sum()
    assert np.allclose(prof.to_numpy(), ref.to_numpy())
    assert intraday_profile(t, "trades", "30min", tz="America/New_York").sum() == len(t)


def test_intraday_spread_profile_lobster_u_shape(lobster):
    q, _ = lobster
    prof = intraday_profile(q, "spread", "30min", tz="America/New_York")
    assert (prof > 0).all()
    assert prof.iloc[0] > prof.iloc[5]          # wider at the open than at midday


def test_intraday_volatility_profile_lobster(lobster):
    q, _ = lobster
    prof = intraday_profile(q, "volatility", "1h", tz="America/New_York")
    assert (prof > 0).all() and prof.index[0] == dt.time(9, 0)


def test_intraday_profile_empty_bucket_raises(lobster):
    q, _ = lobster
    with pytest.raises(InsufficientDataError, match="needed 2"):
        intraday_profile(q, "volatility", "1min", tz="America/New_York", sample="1min")
    with pytest.raises(ParameterError):
        intraday_profile(q, "depth")
    with pytest.raises(ParameterError):
        intraday_profile(q, "spread", "7min")
