"""Invariants of the built-in strategy kernels on any finite view: our bids stay
below our asks and the book's ask, asks above the book's bid, quantities lie on the
lot grid, the inventory limit holds, flat quotes bracket the mid, and no NaN appears."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.dtypes import INTENT_DTYPE, VIEW_DTYPE
from qlib.enums import OrderType, Side, TimeInForce
from qlib.strategy import GLFT, AvellanedaStoikov, GridMM, ImbalanceMM, TouchMM
from qlib.strategy import _kernels as K

pos_f = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
small_f = st.floats(0.0, 50.0, allow_nan=False, allow_infinity=False)

specs = st.one_of(
    st.builds(AvellanedaStoikov, gamma=pos_f, k=pos_f, order_qty=st.floats(0.01, 100.0),
              max_position=st.floats(0.01, 1e4), min_spread_ticks=small_f),
    st.builds(GLFT, gamma=pos_f, k=pos_f, A=pos_f, order_qty=st.floats(0.01, 100.0),
              max_position=st.floats(0.01, 1e4)),
    st.builds(GridMM, levels=st.integers(1, 16), step_ticks=st.floats(1.0, 20.0),
              offset_ticks=small_f, order_qty=st.floats(0.01, 100.0),
              max_position=st.floats(0.01, 1e4), skew_ticks=small_f,
              anchor=st.sampled_from(["mid", "touch"])),
    st.builds(ImbalanceMM, alpha=st.floats(-3.0, 3.0), half_spread_ticks=st.floats(0.01, 50.0),
              order_qty=st.floats(0.01, 100.0), max_position=st.floats(0.01, 1e4),
              skew_ticks=small_f),
    st.builds(TouchMM, order_qty=st.floats(0.01, 100.0), max_position=st.floats(0.01, 1e4)),
)


@st.composite
def views(draw, flat: bool = False):
    v = np.zeros(1, dtype=VIEW_DTYPE)
    bid = draw(st.integers(1, 10**9))
    ask = bid + draw(st.integers(1, 1000))
    v["bid_px_tick"], v["ask_px_tick"] = bid, ask
    v["mid_tick"] = 0.5 * (bid + ask)
    v["sigma_tick"] = draw(st.floats(0.0, 1e3))
    v["ts_local"] = draw(st.integers(0, 10**13))
    v["ts_end"] = draw(st.integers(0, 10**13))
    v["position"] = 0.0 if flat else draw(st.floats(-1e4, 1e4))
    v["bid_depth"] = draw(st.floats(0.0, 1e9))
    v["ask_depth"] = draw(st.floats(0.0, 1e9))
    v["lot_size"] = draw(st.sampled_from([0.0, 0.001, 0.01, 0.1, 1.0, 5.0]))
    v["tick_size"] = 0.01
    return v


def _run(spec, view) -> np.ndarray:
    out = np.zeros(K.MAX_INTENTS, dtype=INTENT_DTYPE)
    n = spec.kernel(view, spec.params_array(), np.zeros(0), out)
    assert 0 <= n <= K.MAX_INTENTS
    return out[:n]


@settings(max_examples=400, deadline=None)
@given(spec=specs, view=views())
def test_quotes_passive_uncrossed_on_grid_within_limits(spec, view):
    out = _run(spec, view)
    v = view[0]
    bids = out[out["side"] == Side.BUY]
    asks = out[out["side"] == Side.SELL]
    assert len(bids) + len(asks) == len(out)
    # no NaN, positive quantity on the lot grid, post-only limits
    assert np.all(np.isfinite(out["qty"])) and np.all(out["qty"] > 0)
    if v["lot_size"] > 0:
        n_lots = out["qty"] / v["lot_size"]
        assert np.allclose(n_lots, np.round(n_lots), rtol=0, atol=1e-6)
    assert np.all(out["order_type"] == OrderType.LIMIT) and np.all(out["tif"] == TimeInForce.GTX)
    # prices: positive, bids below the book's ask, asks above the book's bid, uncrossed
    assert np.all(out["px_tick"] >= 1)
    assert np.all(bids["px_tick"] < v["ask_px_tick"]) and np.all(asks["px_tick"] > v["bid_px_tick"])
    if len(bids) and len(asks):
        assert bids["px_tick"].max() < asks["px_tick"].min()
    assert len(np.unique(bids["px_tick"])) == len(bids)
    assert len(np.unique(asks["px_tick"])) == len(asks)
    # worst case if every quote of a side fills
    max_pos = spec.max_position * (1 + 1e-9) + 1e-9
    if len(bids):
        assert v["position"] + bids["qty"].sum() <= max_pos
    if len(asks):
        assert v["position"] - asks["qty"].sum() >= -max_pos


@settings(max_examples=300, deadline=None)
@given(spec=specs, view=views(flat=True))
def test_flat_inventory_quotes_bracket_mid(spec, view):
    if isinstance(spec, ImbalanceMM) and spec.alpha != 0.0:
        return  # the imbalance model moves its fair value away from the mid by design
    out = _run(spec, view)
    mid = view[0]["mid_tick"]
    assert np.all(out["px_tick"][out["side"] == Side.BUY] <= mid)
    assert np.all(out["px_tick"][out["side"] == Side.SELL] >= mid)


@settings(max_examples=200, deadline=None)
@given(spec=specs, view=views(), which=st.sampled_from(["bid", "ask", "mid", "killed"]))
def test_unusable_book_cancels_everything(spec, view, which):
    if which == "bid":
        view["bid_px_tick"] = 0
    elif which == "ask":
        view["ask_px_tick"] = 0
    elif which == "mid":
        view["mid_tick"] = 0.0
    else:
        view["killed"] = 1
    assert len(_run(spec, view)) == 0


@settings(max_examples=200, deadline=None)
@given(spec=specs, view=views())
def test_quoting_side_never_grows_beyond_limit_when_already_over(spec, view):
    over = spec.max_position + spec.order_qty
    view["position"] = math.copysign(over, view[0]["position"] or 1.0)
    out = _run(spec, view)
    growing = Side.BUY if view[0]["position"] > 0 else Side.SELL
    assert not np.any(out["side"] == growing)


# ---- a strategy written with @strategy and the public helpers (qlib.strategy.examples) ----

class _Skewed:
    """skewed_mm with the attributes the properties above read."""

    def __init__(self, **params):
        from qlib.strategy.examples import skewed_mm

        self.spec = skewed_mm(**params)
        self.kernel = self.spec.kernel
        self.max_position = params["max_position"]
        self.order_qty = params["qty"]

    def params_array(self):
        return self.spec.params_array()


skewed_specs = st.builds(_Skewed, half_spread=st.floats(0.01, 50.0), skew=small_f,
                         qty=st.floats(0.01, 100.0), max_position=st.floats(0.01, 1e4))


@settings(max_examples=300, deadline=None)
@given(spec=skewed_specs, view=views())
def test_user_strategy_quotes_passive_uncrossed_within_limits(spec, view):
    test_quotes_passive_uncrossed_on_grid_within_limits.hypothesis.inner_test(spec, view)


@settings(max_examples=150, deadline=None)
@given(spec=skewed_specs, view=views(), which=st.sampled_from(["bid", "ask", "mid", "killed"]))
def test_user_strategy_cancels_on_an_unusable_book(spec, view, which):
    test_unusable_book_cancels_everything.hypothesis.inner_test(spec, view, which)


@settings(max_examples=150, deadline=None)
@given(spec=skewed_specs, view=views())
def test_user_strategy_never_grows_beyond_limit(spec, view):
    test_quoting_side_never_grows_beyond_limit_when_already_over.hypothesis.inner_test(spec, view)


@settings(max_examples=300, deadline=None)
@given(side=st.sampled_from([Side.BUY, Side.SELL]), x=st.floats(-1e6, 1e12),
       qty=st.floats(1e-6, 1e6), n=st.integers(0, 3))
def test_quote_is_post_only_rounds_away_from_the_inside_and_stays_in_bounds(side, x, qty, n):
    from qlib.strategy import quote

    out = np.zeros(3, dtype=INTENT_DTYPE)
    m = quote(out, n, side, x, qty)
    if n >= 3 or x < 1.0:
        assert m == n and (out == np.zeros(3, dtype=INTENT_DTYPE)).all()
        return
    assert m == n + 1
    row = out[n]
    assert row["tif"] == TimeInForce.GTX and row["order_type"] == OrderType.LIMIT
    assert row["qty"] == qty and row["side"] == side
    if side == Side.BUY:
        assert x - 1.0 < row["px_tick"] <= x + 1e-9
    else:
        assert x - 1e-9 <= row["px_tick"] < x + 1.0
