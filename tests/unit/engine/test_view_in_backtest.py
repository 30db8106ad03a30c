"""The engine fills the view's book levels and named features at each decision.

The kernels themselves (:mod:`qlib.engine._view`) are checked against the batch signals
in ``test_view.py``; here the wiring: every decision of a backtest sees the levels and
features of the local book made of exactly the events whose local time is at or before
the decision (on L3 and on L2 data), events after it change nothing (no look-ahead), and
what a strategy does not ask for is not filled.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from qlib.book import nb as bnb
from qlib.book import to_l2
from qlib.book.l2 import grow, new_l2_book, new_orders
from qlib.data import simulate
from qlib.dtypes import VIEW_DTYPE, VIEW_FEATURE_FIELDS
from qlib.engine import _view as V
from qlib.engine import FeedLatency, backtest
from qlib.engine import _loop
from qlib.enums import Status
from qlib.strategy import TouchMM, strategy

#: The feed latency every run here uses (explicit, so the reference can sample the same).
FEED = FeedLatency()
FEATURES = ("imbalance4", "microprice", "ofi", "volatility", "trade_flow", "levels")
N_LOG = 400
W = 9  # logged values per decision


@njit(cache=True)
def _log_view(view, params, state, out):
    """Log ts, the five features and three level values of each decision; never trade."""
    v = view[0]
    n = int(state[0])
    if n < N_LOG:
        b = 1 + W * n
        state[b] = v["ts_local"]
        state[b + 1] = v["imbalance"]
        state[b + 2] = v["microprice_tick"]
        state[b + 3] = v["ofi"]
        state[b + 4] = v["volatility_tick"]
        state[b + 5] = v["trade_flow"]
        state[b + 6] = v["bid_px_l"][2]
        state[b + 7] = v["ask_qty_l"][1]
        state[b + 8] = v["ask_px_l"][9]
        state[0] = n + 1
    return 0


def _logger(features):
    return strategy(_log_view, params={}, state_size=1 + W * N_LOG, features=features,
                    name="view logger")


def _logged(res) -> np.ndarray:
    st = res.strategy_state_array
    return st[1:1 + W * int(st[0])].reshape(-1, W)


def _local_times(ev: np.ndarray) -> np.ndarray:
    """The engine's local clock for ``ev`` under :data:`FEED` and seed 0: the sampled
    receive times, raised to ``ts_exch`` and never decreasing."""
    ts = FEED.sample(ev["ts_exch"], 0)
    _loop.local_clock(ev, ts)
    return ts


def _reference(ev: np.ndarray, dec_ts: np.ndarray, features) -> np.ndarray:
    """The same nine values from a book replayed event by event in local-time order."""
    ts = _local_times(ev)
    order = np.argsort(ts, kind="stable")
    mask, n_imb = V.feature_plan(features)
    book, orders, fs = new_l2_book(1024), new_orders(), V.new_feature_state()
    view = np.zeros(1, dtype=VIEW_DTYPE)
    lvl_px = np.zeros((1, 2, 64), dtype=np.int64)
    lvl_qty = np.zeros((1, 2, 64), dtype=np.float64)
    out = np.zeros((len(dec_ts), W))
    i = 0
    for k, t in enumerate(dec_ts):
        while i < len(order) and ts[order[i]] <= t:
            r = order[i]
            assert r == i, "the local clock keeps the rows' order"
            while not bnb.overflow_room(book, 1):
                book = grow(book)
            assert bnb.apply_event(book, orders, ev[r]) == Status.OK
            V.on_event(ev, ts, r, book, fs, mask)
            i += 1
        V.fill_levels(book, view, lvl_px, lvl_qty)
        V.at_decision(view, book, fs, mask, n_imb, np.int64(t))
        v = view[0]
        out[k] = (t, v["imbalance"], v["microprice_tick"], v["ofi"], v["volatility_tick"],
                  v["trade_flow"], v["bid_px_l"][2], v["ask_qty_l"][1], v["ask_px_l"][9])
    return out


@pytest.fixture(scope="module")
def market():
    md = simulate(n_events=40_000, seed=11, warmup_events=5_000)
    return md


@pytest.mark.parametrize("level", ["l3", "l2"])
def test_each_decision_sees_the_features_of_the_events_before_it(market, level):
    ev = market.events if level == "l3" else to_l2(market.events, instrument=market.instrument)
    res = backtest(ev, _logger(FEATURES), instrument=market.instrument,
                   decision_interval=250_000_000, feed_latency=FEED, seed=0)
    got = _logged(res)
    assert len(got) > 50
    want = _reference(ev, got[:, 0].astype(np.int64), FEATURES)
    np.testing.assert_array_equal(got[:, 0], want[:, 0])
    np.testing.assert_allclose(got[:, 1:], want[:, 1:], rtol=1e-12, atol=1e-9)
    assert np.isfinite(got[:, 1:]).all()  # a two-sided book from the start: all defined
    assert np.abs(got[:, 5]).max() > 0  # trades moved the flow


def test_events_after_a_decision_do_not_change_it(market):
    ev = to_l2(market.events, instrument=market.instrument)
    full = _logged(backtest(ev, _logger(FEATURES), instrument=market.instrument,
                            decision_interval=250_000_000, session_end=2 * 10**18,
                            feed_latency=FEED, seed=0))
    cut_ts = int(full[len(full) // 2, 0])
    keep = ev["ts_exch"] <= cut_ts  # every event seen locally by cut_ts, and no later one
    part = _logged(backtest(ev[keep], _logger(FEATURES), instrument=market.instrument,
                            decision_interval=250_000_000, session_end=2 * 10**18,
                            feed_latency=FEED, seed=0))
    k = int(np.searchsorted(full[:, 0], cut_ts, side="right"))
    assert len(part) >= k - 1 > 10
    n = min(len(part), k)
    np.testing.assert_array_equal(part[:n], full[:n])


def test_a_strategy_asking_for_levels_only_sees_levels_and_nan_features(market):
    res = backtest(market.events, _logger(("levels",)), instrument=market.instrument,
                   decision_interval=1_000_000_000, feed_latency=FEED, seed=0)
    got = _logged(res)
    assert np.isnan(got[:, 1:6]).all()
    want = _reference(market.events, got[:, 0].astype(np.int64), ())
    np.testing.assert_array_equal(got[:, 6:], want[:, 6:])
    assert (got[:, 6] > 0).mean() > 0.9
    v = res.view_array[0]
    assert v["bid_px_l"][0] == v["bid_px_tick"] and v["ask_qty_l"][0] == v["ask_qty"]


def test_levels_not_requested_read_zero_prices_and_nan_quantities(market):
    res = backtest(market.events, _logger(("ofi",)), instrument=market.instrument,
                   decision_interval=1_000_000_000, feed_latency=FEED, seed=0)
    got = _logged(res)
    assert (got[:, 6] == 0).all() and np.isnan(got[:, 7]).all()
    assert np.isfinite(got[:, 3]).all() and np.isnan(got[:, [1, 2, 4, 5]]).all()


def test_builtin_strategies_get_no_levels_and_nan_features(market):
    res = backtest(market.events, TouchMM(order_qty=1.0, max_position=5.0),
                   instrument=market.instrument, decision_interval=1_000_000_000,
                   feed_latency=FEED, seed=0)
    v = res.view_array[0]
    assert (v["bid_px_l"] == 0).all() and np.isnan(v["ask_qty_l"]).all()
    assert all(np.isnan(v[f]) for f in VIEW_FEATURE_FIELDS)
    assert v["bid_px_tick"] > 0
