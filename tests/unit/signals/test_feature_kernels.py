"""Incremental feature kernels of qlib.signals.nb: parity with .py_func and the batch signals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qlib.errors import ParameterError
from qlib.signals import book_imbalance, microprice, ofi
from qlib.signals import nb as fnb

HL = 1_000_000_000  # 1 s


def _random_book(rng, n, levels=5):
    """Random LOBSTER-layout books: strictly monotone prices, positive quantities."""
    best_bid = 1000 + np.cumsum(rng.integers(-1, 2, n))
    spread = rng.integers(1, 3, n)
    cols = {"ts_exch": pd.to_datetime(np.arange(n) * 1_000_000, utc=True)}
    for i in range(1, levels + 1):
        cols[f"ask_px_{i}"] = (best_bid + spread + i - 1).astype(float)
        cols[f"ask_qty_{i}"] = rng.integers(1, 50, n).astype(float)
        cols[f"bid_px_{i}"] = (best_bid - i + 1).astype(float)
        cols[f"bid_qty_{i}"] = rng.integers(1, 50, n).astype(float)
    return pd.DataFrame(cols)


def _levels(df, side, what, levels):
    return np.column_stack([df[f"{side}_{what}_{i}"].to_numpy() for i in range(1, levels + 1)])


@pytest.mark.parametrize("n_levels", [1, 3, 5])
def test_imbalance_matches_book_imbalance_and_py_func(n_levels):
    df = _random_book(np.random.default_rng(n_levels), 300)
    bq, aq = _levels(df, "bid", "qty", 5), _levels(df, "ask", "qty", 5)
    got = np.array([fnb.imbalance_levels(bq[i], aq[i], n_levels) for i in range(len(df))])
    py = np.array([fnb.imbalance_levels.py_func(bq[i], aq[i], n_levels) for i in range(len(df))])
    want = book_imbalance(df, n_levels).to_numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(got, py)


def test_imbalance_edge_cases():
    z = np.zeros(3)
    assert fnb.imbalance_levels(z, z, 3) == 0.0
    # NaN and negative quantities count as 0: (2 - 2) / 4
    assert fnb.imbalance_levels(np.array([np.nan, 2.0]), np.array([-1.0, 2.0]), 2) == 0.0
    assert fnb.imbalance_levels(np.array([4.0, 9.0]), np.array([1.0, 0.0]), 1) == 0.6
    assert fnb.imbalance_levels(np.array([4.0]), np.array([1.0]), 10) == 0.6  # clipped


def test_microprice_matches_the_batch_weighted_mid_and_py_func():
    df = _random_book(np.random.default_rng(3), 200, levels=1)
    q = df.rename(columns={"bid_px_1": "bid_px", "bid_qty_1": "bid_qty", "ask_px_1": "ask_px",
                           "ask_qty_1": "ask_qty"})
    want = microprice(q).to_numpy()
    args = [tuple(r) for r in q[["bid_px", "bid_qty", "ask_px", "ask_qty"]].to_numpy()]
    got = np.array([fnb.weighted_mid(*a) for a in args])
    np.testing.assert_allclose(got, want, rtol=1e-15)
    np.testing.assert_array_equal(got, [fnb.weighted_mid.py_func(*a) for a in args])
    assert fnb.weighted_mid(99.0, 0.0, 101.0, 0.0) == 100.0
    assert math.isnan(fnb.weighted_mid(0.0, 1.0, 101.0, 1.0))


@pytest.mark.parametrize("every", [1, 7, 25])
def test_ofi_summed_between_decisions_matches_batch_ofi(every):
    df = _random_book(np.random.default_rng(every), 400, levels=1)
    q = df.rename(columns={"bid_px_1": "bid_px", "bid_qty_1": "bid_qty", "ask_px_1": "ask_px",
                           "ask_qty_1": "ask_qty"})
    want = ofi(q, every=every).to_numpy()
    for impl in (fnb.ofi_update, fnb.ofi_update.py_func):
        take = fnb.ofi_take if impl is fnb.ofi_update else fnb.ofi_take.py_func
        st = np.zeros(fnb.OFI_N)
        got = []
        rows = q[["bid_px", "bid_qty", "ask_px", "ask_qty"]].to_numpy()
        for i, r in enumerate(rows):
            impl(st, *r)
            if (i + 1) % every == 0 or i == len(rows) - 1:  # a decision after every-th update
                got.append(take(st))
        np.testing.assert_allclose(got[:len(want)], want, rtol=0, atol=1e-9)


def test_ofi_first_update_only_records_the_book():
    st = np.zeros(fnb.OFI_N)
    assert fnb.ofi_update(st, 100.0, 5.0, 101.0, 7.0) == 0.0
    # bid up: + the new bid's 3; ask up: + the old ask's 7 (it left the best)
    assert fnb.ofi_update(st, 101.0, 3.0, 101.5, 9.0) == 3.0 + 7.0
    # bid and ask unchanged: + new bid qty - old bid qty - new ask qty + old ask qty
    assert fnb.ofi_update(st, 101.0, 4.0, 101.5, 6.0) == (4.0 - 3.0) - (6.0 - 9.0)
    assert fnb.ofi_take(st) == 14.0 and fnb.ofi_take(st) == 0.0


def _ewma_reference(ts, mids, t_eval, hl):
    s, last_t, last_m, ready = 0.0, 0.0, 0.0, False
    for t, m in zip(ts, mids):
        if not ready:
            last_t, last_m, ready = t, m, True
            continue
        if m != last_m:
            s = s * 2.0 ** (-(t - last_t) / hl) + (m - last_m) ** 2
            last_t, last_m = t, m
    return math.sqrt(s * 2.0 ** (-(t_eval - last_t) / hl) * math.log(2) / (hl * 1e-9))


def test_ewma_volatility_matches_a_reference_and_py_func():
    rng = np.random.default_rng(5)
    ts = np.cumsum(rng.integers(1, 50_000_000, 500)).astype(float)
    mids = 1000 + np.cumsum(rng.choice([-0.5, 0.0, 0.5], 500))
    a, b = np.zeros(fnb.VOL_N), np.zeros(fnb.VOL_N)
    for t, m in zip(ts, mids):
        fnb.ewma_vol_update(a, t, m, HL)
        fnb.ewma_vol_update.py_func(b, t, m, HL)
    t_eval = ts[-1] + 3e8
    want = _ewma_reference(ts, mids, t_eval, HL)
    assert fnb.ewma_vol_value(a, t_eval, HL) == pytest.approx(want, rel=1e-12)
    assert fnb.ewma_vol_value.py_func(b, t_eval, HL) == pytest.approx(want, rel=1e-12)


def test_ewma_volatility_estimates_a_random_walks_rate():
    rng = np.random.default_rng(11)
    # one +-1 tick step every 10 ms: variance rate 100 ticks^2 per s, sigma 10
    n = 200_000
    ts = np.arange(1, n + 1) * 10_000_000.0
    mids = 1e6 + np.cumsum(rng.choice([-1.0, 1.0], n))
    st = np.zeros(fnb.VOL_N)
    est = []
    for i, (t, m) in enumerate(zip(ts, mids)):
        fnb.ewma_vol_update(st, t, m, 20 * HL)
        if i > 10_000 and i % 1000 == 0:
            est.append(fnb.ewma_vol_value(st, t, 20 * HL))
    assert np.mean(est) == pytest.approx(10.0, rel=0.05)


def test_trade_flow_matches_a_closed_form_and_py_func():
    rng = np.random.default_rng(9)
    ts = np.cumsum(rng.integers(1, 300_000_000, 300)).astype(float)
    side = rng.choice([-1, 0, 1], 300)
    qty = rng.integers(1, 20, 300).astype(float)
    a, b = np.zeros(fnb.FLOW_N), np.zeros(fnb.FLOW_N)
    for t, s, q in zip(ts, side, qty):
        fnb.trade_flow_update(a, t, s, q, HL)
        fnb.trade_flow_update.py_func(b, t, s, q, HL)
    t_eval = ts[-1] + 5e8
    want = float(np.sum(np.sign(side) * qty * 2.0 ** (-(t_eval - ts) / HL)))
    assert fnb.trade_flow_value(a, t_eval, HL) == pytest.approx(want, rel=1e-9)
    assert fnb.trade_flow_value.py_func(b, t_eval, HL) == pytest.approx(want, rel=1e-9)


def test_features_see_no_future_event():
    """A value read at a decision depends only on the updates before it."""
    rng = np.random.default_rng(2)
    ts = np.cumsum(rng.integers(1, 50_000_000, 100)).astype(float)
    mids = 1000 + np.cumsum(rng.choice([-1.0, 1.0], 100))
    full, cut = np.zeros(fnb.VOL_N), np.zeros(fnb.VOL_N)
    for t, m in zip(ts, mids):
        fnb.ewma_vol_update(full, t, m, HL)
    for t, m in zip(ts[:60], mids[:60]):
        fnb.ewma_vol_update(cut, t, m, HL)
    partial = np.zeros(fnb.VOL_N)
    for t, m in zip(ts[:60], mids[:60]):
        fnb.ewma_vol_update(partial, t, m, HL)
    assert fnb.ewma_vol_value(cut, ts[59], HL) == fnb.ewma_vol_value(partial, ts[59], HL)
    assert fnb.ewma_vol_value(cut, ts[59], HL) != fnb.ewma_vol_value(full, ts[59], HL)


@pytest.mark.parametrize("names, fields", [(("imbalance1",), ["imbalance"]),
                                           (("imbalance10", "microprice", "ofi", "volatility",
                                             "trade_flow"),
                                            ["imbalance", "microprice_tick", "ofi",
                                             "volatility_tick", "trade_flow"])])
def test_feature_names(names, fields):
    assert fnb.check_features(names) == names
    assert [fnb.feature_field(n)[0] for n in names] == fields


@pytest.mark.parametrize("names, needle", [(("imbalance0",), "unknown feature"),
                                           (("imbalance11",), "1..10, was 11"),
                                           (("imbalance1", "imbalance5"), "twice"),
                                           (("ofi", "ofi"), "twice"),
                                           ("ofi", "not the string|the string"),
                                           (("OFI",), "unknown feature 'OFI'")])
def test_bad_feature_names(names, needle):
    with pytest.raises(ParameterError, match=needle):
        fnb.check_features(names)


def test_combined_feature_state_equals_the_separate_kernels():
    rng = np.random.default_rng(21)
    n = 300
    ts = np.cumsum(rng.integers(1, 20_000_000, n)).astype(float)
    bid = 1000 + np.cumsum(rng.integers(-1, 2, n)).astype(float)
    ask = bid + rng.integers(1, 3, n)
    bq, aq = rng.integers(1, 9, n).astype(float), rng.integers(1, 9, n).astype(float)
    bid[17] = 0.0  # one book with an empty side: skipped by both
    is_trade = rng.random(n) < 0.3
    side, qty = rng.choice([-1, 1], n), rng.integers(1, 5, n).astype(float)
    fs, fs_py = np.zeros(fnb.FEATURE_STATE_N), np.zeros(fnb.FEATURE_STATE_N)
    o, v, f = np.zeros(fnb.OFI_N), np.zeros(fnb.VOL_N), np.zeros(fnb.FLOW_N)
    for i in range(n):
        if is_trade[i]:
            fnb.features_on_trade(fs, ts[i], side[i], qty[i], HL)
            fnb.features_on_trade.py_func(fs_py, ts[i], side[i], qty[i], HL)
            fnb.trade_flow_update(f, ts[i], side[i], qty[i], HL)
        else:
            fnb.features_on_book(fs, ts[i], bid[i], bq[i], ask[i], aq[i], HL)
            fnb.features_on_book.py_func(fs_py, ts[i], bid[i], bq[i], ask[i], aq[i], HL)
            if bid[i] > 0:
                fnb.ofi_update(o, bid[i], bq[i], ask[i], aq[i])
                fnb.ewma_vol_update(v, ts[i], 0.5 * (bid[i] + ask[i]), HL)
        if i % 50 == 49:
            got = fnb.features_at_decision(fs, ts[i] + 1e6, HL)
            want = (fnb.ofi_take(o), fnb.ewma_vol_value(v, ts[i] + 1e6, HL),
                    fnb.trade_flow_value(f, ts[i] + 1e6, HL))
            assert got == want
            assert fnb.features_at_decision.py_func(fs_py, ts[i] + 1e6, HL) == got
            assert got[0] != 0.0 or got[2] != 0.0  # the features moved
