"""Invariances of the microstructure signals (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qlib.signals import (
    book_imbalance,
    depth_weighted_mid,
    microprice,
    ofi,
    quoted_spread,
    realized_volatility,
    tick_rule,
    two_scale_rv,
)

N = st.integers(min_value=2, max_value=60)


@st.composite
def quotes(draw):
    n = draw(N)
    bid_t = draw(arrays(np.int64, n, elements=st.integers(9_000, 10_000)))
    spread = draw(arrays(np.int64, n, elements=st.integers(1, 20)))
    bq = draw(arrays(np.float64, n, elements=st.floats(0.5, 1e4)))
    aq = draw(arrays(np.float64, n, elements=st.floats(0.5, 1e4)))
    ts = np.cumsum(draw(arrays(np.int64, n, elements=st.integers(0, 2 * 10**9))))
    return pd.DataFrame({"ts_exch": pd.to_datetime(ts, unit="ns", utc=True),
                         "bid_px": bid_t * 0.01, "bid_qty": bq,
                         "ask_px": (bid_t + spread) * 0.01, "ask_qty": aq})


def _swap(q: pd.DataFrame) -> pd.DataFrame:
    """Mirror the book: bids become asks at negated prices."""
    return pd.DataFrame({"ts_exch": q.ts_exch, "bid_px": -q.ask_px, "bid_qty": q.ask_qty,
                         "ask_px": -q.bid_px, "ask_qty": q.bid_qty})


@settings(max_examples=60, deadline=None)
@given(quotes())
def test_ofi_sign_flips_when_bid_and_ask_are_swapped(q):
    assert np.allclose(ofi(_swap(q)).to_numpy(), -ofi(q).to_numpy())
    assert np.allclose(ofi(_swap(q), "1s").to_numpy(), -ofi(q, "1s").to_numpy())


@settings(max_examples=60, deadline=None)
@given(quotes())
def test_microprice_within_spread_and_mirrors(q):
    mp = microprice(q)
    assert ((mp >= q.bid_px - 1e-9) & (mp <= q.ask_px + 1e-9)).all()
    assert np.allclose(microprice(_swap(q)).to_numpy(), -mp.to_numpy())
    assert np.allclose(book_imbalance(_swap(q)).to_numpy(), -book_imbalance(q).to_numpy())


@settings(max_examples=60, deadline=None)
@given(quotes(), st.floats(-100, 100), st.floats(0.1, 10))
def test_ofi_and_spread_invariant_to_price_shift_scale_quantity(q, shift, scale):
    moved = q.assign(bid_px=q.bid_px + shift + 200, ask_px=q.ask_px + shift + 200)
    assert np.allclose(ofi(moved).to_numpy(), ofi(q).to_numpy())
    assert np.allclose(quoted_spread(moved).to_numpy(), quoted_spread(q).to_numpy())
    scaled = q.assign(bid_qty=q.bid_qty * scale, ask_qty=q.ask_qty * scale)
    assert np.allclose(ofi(scaled).to_numpy(), scale * ofi(q).to_numpy())
    assert np.allclose(microprice(scaled).to_numpy(), microprice(q).to_numpy())


@settings(max_examples=40, deadline=None)
@given(quotes())
def test_depth_weighted_mid_of_one_level_is_mid(q):
    lob = pd.DataFrame({"ts_exch": q.ts_exch, "ask_px_1": q.ask_px, "ask_qty_1": q.ask_qty,
                        "bid_px_1": q.bid_px, "bid_qty_1": q.bid_qty})
    assert np.allclose(depth_weighted_mid(lob, 1).to_numpy(), ((q.bid_px + q.ask_px) / 2).to_numpy())


@settings(max_examples=40, deadline=None)
@given(arrays(np.int64, st.integers(3, 80), elements=st.integers(1, 10_000)),
       st.sampled_from([0.25, 0.5, 2.0, 8.0, 100.0]))
def test_tick_rule_invariant_to_positive_affine_price_maps(px_tick, a):
    # Prices on a tick grid and exactly representable maps: a float affine map of
    # arbitrary floats may merge two prices one ulp apart, which is rounding, not a
    # failure of the tick rule's invariance.
    px = px_tick.astype(np.float64)
    assert (tick_rule(pd.Series(px * a + 3.0)).to_numpy() == tick_rule(pd.Series(px)).to_numpy()).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.1, 1000))
def test_volatility_invariant_to_price_scale(seed, scale):
    rng = np.random.default_rng(seed)
    px = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, 400)))
    s = pd.Series(px, index=pd.date_range("2024-01-02", periods=400, freq="1s", tz="UTC"))
    assert np.isclose(realized_volatility(s * scale, "10s"), realized_volatility(s, "10s"))
    assert np.isclose(two_scale_rv(s * scale), two_scale_rv(s), rtol=1e-6, atol=1e-15)
