"""Invariants of BSM Greeks, the implied-vol solver and the worst-interval search."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qlib.enums import IvStatus
from qlib.risk import bsm_greeks, bsm_price, implied_vol_with_status, worst_interval

spot = st.floats(10.0, 1000.0)
moneyness = st.floats(0.5, 2.0)
time = st.floats(1 / 365, 5.0)
rate = st.floats(-0.02, 0.15)
yld = st.floats(0.0, 0.10)
vol = st.floats(0.01, 2.0)


@settings(max_examples=200, deadline=None)
@given(spot, moneyness, time, rate, yld, vol)
def test_put_call_parity_and_delta_gap_hold(s, m, t, r, q, v):
    k = s * m
    g = bsm_greeks(s, k, t, r, q, v, [1, -1])
    c, p = g.iloc[0], g.iloc[1]
    scale = max(s, k)
    assert abs((c["price"] - p["price"]) - (s * np.exp(-q * t) - k * np.exp(-r * t))) <= 1e-12 * scale
    assert abs((c["delta"] - p["delta"]) - np.exp(-q * t)) <= 1e-12
    assert abs(c["gamma"] - p["gamma"]) <= 1e-12 * max(1.0, c["gamma"])
    assert abs(c["vega"] - p["vega"]) <= 1e-12 * max(1.0, c["vega"])
    assert abs((c["rho"] - p["rho"]) - k * t * np.exp(-r * t)) <= 1e-10 * max(1.0, k * t)


@settings(max_examples=200, deadline=None)
@given(spot, moneyness, time, rate, yld, vol, st.sampled_from([1, -1]))
def test_price_is_within_no_arbitrage_bounds_and_increasing_in_vol(s, m, t, r, q, v, w):
    k = s * m
    px = bsm_price(s, k, t, r, q, [v, v * 1.1], w)
    lower = max(w * (s * np.exp(-q * t) - k * np.exp(-r * t)), 0.0)
    upper = s * np.exp(-q * t) if w == 1 else k * np.exp(-r * t)
    tol = 1e-12 * max(s, k)
    assert lower - tol <= px[0] <= upper + tol
    assert px[1] >= px[0] - tol


@settings(max_examples=300, deadline=None)
@given(spot, moneyness, time, rate, yld, vol, st.sampled_from([1, -1]))
def test_implied_vol_inverts_price(s, m, t, r, q, v, w):
    k = s * m
    g = bsm_greeks(s, k, t, r, q, v, w).iloc[0]
    lower = max(w * (s * np.exp(-q * t) - k * np.exp(-r * t)), 0.0)
    # the time value must carry information about vol at float64 precision
    assume(g["price"] - lower > 1e-9 * max(s, k) and g["vega"] * v > 1e-6 * g["price"])
    iv, status = implied_vol_with_status(g["price"], s, k, t, r, q, w)
    assert status[0] == IvStatus.OK
    assert abs(iv[0] - v) <= 1e-7 * v


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-0.2, 0.2), min_size=1, max_size=60), st.integers(1, 60))
def test_worst_interval_equals_brute_force(rets, length):
    assume(length <= len(rets))
    r = np.array(rets)
    sc = worst_interval(pd.Series(r), length)
    moves = [np.prod(1 + r[i:i + length]) - 1 for i in range(len(r) - length + 1)]
    assert abs(sc.spot_shock - min(moves)) <= 1e-12
