"""Invariants of the portfolio and the order state machine, for any input sequence.

* cash + sum(position x mark x multiplier) = cash0 + realized + unrealized - fees,
  after every fill and mark (linear and inverse instruments);
* average cost and FIFO give the same total P&L (realized + unrealized);
* the state machine never overfills, never leaves a terminal state, changes nothing
  on a refused event, and journals every attempt.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.enums import LiquiditySide, OrderEvent, OrderStatus, Side
from qlib.instrument import Instrument
from qlib.oms import TERMINAL_STATES, OrderStateError, OrderTracker, Portfolio

LINEAR = [
    Instrument("ES.CME", tick_size=0.25, multiplier=50.0, maker_fee_bps=-0.2, taker_fee_bps=0.9),
    Instrument("AAPL.XNAS", tick_size=0.01, multiplier=1.0, maker_fee_bps=0.0, taker_fee_bps=3.0),
]
INVERSE = [
    Instrument("BTCUSD_PERP.BINANCE", tick_size=0.1, multiplier=100.0, currency="BTC", inverse=True,
               maker_fee_bps=-1.0, taker_fee_bps=5.0),
    Instrument("ETHUSD_PERP.BINANCE", tick_size=0.01, multiplier=10.0, currency="BTC", inverse=True,
               maker_fee_bps=0.0, taker_fee_bps=5.0),
]

steps = st.lists(
    st.tuples(
        st.sampled_from(["fill", "fill", "mark"]),
        st.integers(0, 1),  # instrument
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 50),  # qty in lots
        st.integers(1_000, 200_000),  # px in ticks
        st.sampled_from([LiquiditySide.MAKER, LiquiditySide.TAKER]),
    ),
    min_size=1,
    max_size=60,
)


def _check(pf: Portfolio) -> None:
    df = pf.positions()
    scale = 1.0 + float((pf.position_state["traded_qty"] * pf.position_state["multiplier"]
                         * np.abs(pf.position_state["avg_px"] + pf.position_state["mark_px"])).sum())
    equity = pf.initial_cash + (df["realized_pnl"] + df["unrealized_pnl"] - df["fees"]).sum()
    assert pf.equity() == pytest.approx(equity, rel=1e-9, abs=1e-9 * scale)
    total_avg = df["realized_pnl"] + df["unrealized_pnl"]
    total_fifo = df["realized_pnl_fifo"] + df["unrealized_pnl_fifo"]
    np.testing.assert_allclose(total_avg, total_fifo, rtol=1e-9, atol=1e-9 * scale)


def _run(instruments: list[Instrument], script) -> Portfolio:
    pf = Portfolio(instruments, cash=1_000.0, lot_capacity=2)
    for ts, (kind, k, side, qty, px_tick, liq) in enumerate(script):
        iid = instruments[k].instrument_id
        if kind == "fill":
            pf.apply_fill(iid, side, float(qty), px_tick=px_tick, liquidity=liq, ts=ts)
        else:
            pf.mark(iid, px_tick=px_tick)
        _check(pf)
    return pf


@settings(max_examples=150, deadline=None)
@given(steps)
def test_portfolio_equity_identity_and_avg_fifo_total_linear(script):
    _run(LINEAR, script)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_portfolio_equity_identity_and_avg_fifo_total_inverse(script):
    _run(INVERSE, script)


@settings(max_examples=100, deadline=None)
@given(steps)
def test_portfolio_position_is_signed_sum_of_fills(script):
    pf = _run(LINEAR, script)
    expected = np.zeros(2)
    for kind, k, side, qty, _, _ in script:
        if kind == "fill":
            expected[k] += int(side) * qty
    np.testing.assert_allclose(pf.positions()["qty"], expected, atol=1e-9)


events = st.lists(
    st.tuples(st.sampled_from(list(OrderEvent)), st.integers(0, 3), st.floats(0.25, 3.0),
              st.integers(0, 5)),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(events)
def test_order_tracker_random_events_keep_invariants(script):
    # Arrange: four orders of quantity 4
    t = OrderTracker(capacity=2, journal_capacity=4)
    for oid in range(4):
        t.new_order(oid, Side.BUY, 4.0, px_tick=100, ts=0)
    ts = 0
    for n, (event, oid, qty, dt) in enumerate(script, start=1):
        ts += dt
        before = t.orders.copy()
        # Act
        try:
            t.apply(oid, event, ts=ts, qty=qty, px_tick=101)
            refused = False
        except OrderStateError:
            refused = True
        # Assert
        o, b = t.orders[oid], before[oid]
        if refused:
            np.testing.assert_array_equal(t.orders, before)
        elif OrderStatus(int(b["state"])) in TERMINAL_STATES:
            assert o["state"] == b["state"]
        assert 0.0 <= o["filled_qty"] <= o["qty"] + 1e-12
        assert (o["state"] == OrderStatus.FILLED) == (o["filled_qty"] >= o["qty"] - 1e-9 * o["qty"])
        assert len(t.journal()) == n
