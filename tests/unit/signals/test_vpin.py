"""VPIN: volume buckets, bulk classification, bounds, warm-up, too little data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.signals import _vpin_kernels as _k
from qlib.signals import volume_buckets, vpin


def _tape(px, qty, side=None, start="2024-01-02 14:30"):
    n = len(px)
    ts = pd.date_range(start, periods=n, freq="100ms", tz="UTC")
    return pd.DataFrame({"ts_exch": ts, "price": np.asarray(px, float),
                         "qty": np.asarray(qty, float),
                         "side": np.ones(n, np.int8) if side is None else np.asarray(side, np.int8)})


def _random_tape(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    px = 100 + np.cumsum(rng.choice([-0.01, 0, 0.01], n))
    return _tape(px, rng.integers(1, 20, n), rng.choice([-1, 1], n))


def test_volume_buckets_split_trades_so_every_bucket_holds_v():
    t = _tape([1.0, 1.1, 1.2], [5.0, 7.0, 3.0], [1, -1, 1])
    b = volume_buckets(t, bucket_volume=4.0)
    # 15 units -> 3 complete buckets of 4, partial 3 dropped
    assert len(b) == 3 and np.allclose(b["volume"], 4.0)
    assert b["tape_buy"].tolist() == [4.0, 1.0, 0.0]  # 5 buy -> 4 | 1 buy + 3 sell | 4 sell
    assert b["n_trades"].tolist() == [1, 2, 1]
    assert b["close_px"].tolist() == [1.0, 1.1, 1.1]


def test_volume_buckets_default_uses_n_buckets_of_total_volume():
    b = volume_buckets(_random_tape(), n_buckets=40)
    assert len(b) == 40
    assert np.isclose(b["volume"].sum(), _random_tape()["qty"].sum())


def test_vpin_bulk_is_in_unit_interval_with_documented_warmup():
    v = vpin(_random_tape(), n_buckets=100, window=20)
    assert v["vpin"].iloc[:19].isna().all()
    assert v["vpin"].iloc[19:].notna().all()
    assert v["vpin"].dropna().between(0, 1).all()
    assert np.allclose(v["buy_volume"] + v["sell_volume"], v["volume"])
    assert v.attrs["classify"] == "bulk" and v.attrs["sigma"] > 0


def test_vpin_tape_one_sided_flow_is_one():
    t = _tape(np.linspace(100, 101, 300), np.ones(300), np.ones(300))
    v = vpin(t, n_buckets=30, window=10, classify="tape")
    assert np.allclose(v["vpin"].dropna(), 1.0)


def test_vpin_tape_balanced_flow_is_zero():
    side = np.tile([1, -1], 300)
    t = _tape(np.full(600, 100.0), np.ones(600), side)
    v = vpin(t, bucket_volume=10.0, window=5, classify="tape")
    assert np.allclose(v["vpin"].dropna(), 0.0)


def test_vpin_matches_direct_formula():
    v = vpin(_random_tape(seed=3), n_buckets=60, window=10)
    imb = (v["volume"] - 2 * v["buy_volume"]).abs()
    direct = imb.rolling(10).sum() / v["volume"].rolling(10).sum()
    assert np.allclose(v["vpin"].dropna(), direct.dropna())


def test_vpin_too_few_buckets_raises_with_counts():
    with pytest.raises(InsufficientDataError, match=r"10 complete volume buckets.*needed at least "
                                                    r"window \+ 1 = 51"):
        vpin(_random_tape(), n_buckets=10, window=50)


def test_vpin_constant_price_raises_insufficient():
    t = _tape(np.full(500, 100.0), np.ones(500))
    with pytest.raises(InsufficientDataError, match="sigma of price changes was 0"):
        vpin(t, n_buckets=60, window=10)


def test_vpin_empty_tape_raises_insufficient():
    with pytest.raises(InsufficientDataError, match="had 0 trades"):
        vpin(_tape([], []))


@pytest.mark.parametrize("kwargs", [{"window": 0}, {"classify": "lee"}, {"bucket_volume": -1.0},
                                    {"window": 5, "min_periods": 6}])
def test_vpin_bad_parameters_raise(kwargs):
    with pytest.raises(ParameterError):
        vpin(_random_tape(), **kwargs)


def test_vpin_missing_column_raises_schema_error():
    with pytest.raises(SchemaError, match="qty"):
        vpin(_random_tape().drop(columns="qty"))


def test_vpin_on_simulated_market_is_bounded():
    from qlib.data import simulate
    from qlib.signals import trades
    v = vpin(trades(simulate(n_events=30_000, seed=2)), n_buckets=80, window=20)
    assert v["vpin"].dropna().between(0, 1).all() and len(v) == 80


# ------------------------------------------------------------------ kernels vs py_func
def test_kernels_match_py_func():
    t = _random_tape(800, seed=5)
    args = (t["qty"].to_numpy(), t["price"].to_numpy(), t["side"].to_numpy(np.int8), 37.0)
    outs = [[np.zeros(300, np.int64), np.zeros(300, np.int64), np.zeros(300), np.zeros(300),
             np.zeros(300)] for _ in range(2)]
    k1 = _k.fill_buckets(*args, *outs[0])
    k2 = _k.fill_buckets.py_func(*args, *outs[1])
    assert k1 == k2 and all(np.array_equal(a, b) for a, b in zip(outs[0], outs[1]))
    dp = np.diff(outs[0][4][:k1], prepend=100.0)
    b1, b2 = np.empty(k1), np.empty(k1)
    _k.bulk_classify(dp, 0.02, outs[0][2][:k1], b1)
    _k.bulk_classify.py_func(dp, 0.02, outs[0][2][:k1], b2)
    assert np.allclose(b1, b2, rtol=1e-14)
    r1, r2 = np.empty(k1), np.empty(k1)
    _k.rolling_vpin(b1, outs[0][2][:k1], 7, 3, r1)
    _k.rolling_vpin.py_func(b1, outs[0][2][:k1], 7, 3, r2)
    assert np.allclose(r1, r2, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(qty=st.lists(st.floats(0.5, 50.0), min_size=30, max_size=200),
       side=st.lists(st.sampled_from([-1, 0, 1]), min_size=200, max_size=200),
       window=st.integers(1, 10))
def test_vpin_tape_always_in_unit_interval(qty, side, window):
    n = len(qty)
    t = _tape(100 + np.arange(n) * 0.01, qty, side[:n])
    try:
        v = vpin(t, n_buckets=25, window=window, classify="tape")
    except InsufficientDataError:
        return
    x = v["vpin"].dropna()
    assert ((x >= 0) & (x <= 1)).all()
    assert np.isclose(v["volume"].sum(), sum(qty), rtol=1e-9)
