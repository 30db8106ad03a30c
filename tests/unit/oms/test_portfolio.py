"""Portfolio: positions, average-cost and FIFO P&L, fees and rebates, cash."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.book.matching import MatchingEngine
from qlib.dtypes import FILL_DTYPE
from qlib.enums import LiquiditySide as L
from qlib.enums import Side
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument
from qlib.oms import Portfolio

ES = Instrument("ES.CME", tick_size=0.25, multiplier=50.0, maker_fee_bps=-0.5, taker_fee_bps=1.0)
BTC_INV = Instrument("BTCUSD_PERP.BINANCE", tick_size=0.1, multiplier=100.0, currency="BTC",
                     inverse=True, maker_fee_bps=0.0, taker_fee_bps=5.0)


def test_portfolio_scale_in_then_reduce_average_and_fifo_hand_computed():
    # Arrange
    pf = Portfolio([ES], cash=100_000.0, lot_capacity=1)
    # Act: buy 2 @ 5000, buy 2 @ 5002 (taker), sell 3 @ 5004 (maker), mark 5001
    pf.apply_fill("ES.CME", Side.BUY, 2, px=5000.0, liquidity=L.TAKER, ts=1)
    pf.apply_fill("ES.CME", Side.BUY, 2, px=5002.0, liquidity=L.TAKER, ts=2)
    pf.apply_fill("ES.CME", Side.SELL, 3, px=5004.0, liquidity=L.MAKER, ts=3)
    pf.mark("ES.CME", px=5001.0)
    # Assert
    row = pf.positions().iloc[0]
    assert row["qty"] == 1.0 and row["avg_px"] == pytest.approx(5001.0)
    assert row["realized_pnl"] == pytest.approx(3 * 3 * 50)  # (5004 - 5001) x 3 x 50
    assert row["realized_pnl_fifo"] == pytest.approx(2 * 4 * 50 + 1 * 2 * 50)
    assert row["unrealized_pnl"] == pytest.approx(0.0)
    assert row["unrealized_pnl_fifo"] == pytest.approx(-1 * 50)  # lot 1 @ 5002 marked 5001
    fees = (2 * 5000 + 2 * 5002) * 50 * 1e-4 - 3 * 5004 * 50 * 0.5e-4  # the maker leg is a rebate
    assert row["fees"] == pytest.approx(fees)
    assert pf.equity() == pytest.approx(100_000.0 + 450.0 - fees)
    assert pf.summary()["total_pnl"] == pytest.approx(450.0 - fees)


def test_portfolio_flip_long_to_short_reopens_at_fill_price():
    pf = Portfolio([ES])
    pf.apply_fill("ES.CME", Side.BUY, 1, px=100.0, ts=1)
    pf.apply_fill("ES.CME", Side.SELL, 3, px=110.0, ts=2)
    row = pf.positions().iloc[0]
    assert row["qty"] == -2.0 and row["avg_px"] == 110.0
    assert row["realized_pnl"] == pytest.approx(10 * 50) == row["realized_pnl_fifo"]


def test_portfolio_round_trip_flat_clears_average_and_lots():
    pf = Portfolio([ES])
    pf.apply_fill("ES.CME", Side.SELL, 2, px=100.0, ts=1)
    pf.apply_fill("ES.CME", Side.BUY, 2, px=99.0, ts=2)
    row = pf.positions().iloc[0]
    assert row["qty"] == 0.0 and np.isnan(row["avg_px"])
    assert pf.position_state["lot_len"][0] == 0
    assert row["realized_pnl"] == pytest.approx(100.0) == row["realized_pnl_fifo"]


def test_portfolio_maker_rebate_raises_cash():
    pf = Portfolio([ES], cash=0.0)
    pf.apply_fill("ES.CME", Side.BUY, 1, px=4000.0, liquidity=L.MAKER, ts=1)
    assert pf.cash[0] == pytest.approx(-4000 * 50 + 4000 * 50 * 0.5e-4)
    assert pf.positions()["fees"].iloc[0] < 0


def test_portfolio_inverse_long_pnl_in_coin_matches_formula():
    # Arrange: long 1000 contracts of 100 USD at 50000, marked at 55000
    pf = Portfolio([BTC_INV], cash=1.0)
    pf.apply_fill(BTC_INV.instrument_id, Side.BUY, 1000, px=50_000.0, ts=1)
    pf.mark(BTC_INV.instrument_id, px=55_000.0)
    row = pf.positions().iloc[0]
    # Assert: contracts x multiplier x (1/p0 - 1/p1), fee 5 bps of qty x m / p0
    pnl = 1000 * 100 * (1 / 50_000 - 1 / 55_000)
    fee = 1000 * 100 / 50_000 * 5e-4
    assert row["qty"] == 1000.0 and row["avg_px"] == pytest.approx(50_000.0)
    assert row["unrealized_pnl"] == pytest.approx(pnl) and row["fees"] == pytest.approx(fee)
    assert pf.equity() == pytest.approx(1.0 + pnl - fee)
    # Act: close at the mark realizes the same amount
    pf.apply_fill(BTC_INV.instrument_id, Side.SELL, 1000, px=55_000.0, ts=2)
    row = pf.positions().iloc[0]
    assert row["realized_pnl"] == pytest.approx(pnl) == row["realized_pnl_fifo"]


def test_portfolio_inverse_average_entry_is_harmonic():
    pf = Portfolio([BTC_INV])
    pf.apply_fill(BTC_INV.instrument_id, Side.BUY, 1, px=40_000.0, ts=1)
    pf.apply_fill(BTC_INV.instrument_id, Side.BUY, 1, px=60_000.0, ts=2)
    assert pf.positions()["avg_px"].iloc[0] == pytest.approx(2 / (1 / 40_000 + 1 / 60_000))


def test_portfolio_lot_ring_grows_and_keeps_fifo_order():
    pf = Portfolio([ES], lot_capacity=2)
    for k, px in enumerate([100.0, 101.0, 102.0, 103.0, 104.0]):
        pf.apply_fill("ES.CME", Side.BUY, 1, px=px, ts=k)
    pf.apply_fill("ES.CME", Side.SELL, 2, px=110.0, ts=9)  # closes the 100 and 101 lots
    assert pf.positions()["realized_pnl_fifo"].iloc[0] == pytest.approx((10 + 9) * 50)
    assert pf.lots_qty.shape[1] >= 5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"side": 0, "qty": 1.0, "px_tick": 4}, "BAD_SIDE"),
     ({"side": 1, "qty": 0.0, "px_tick": 4}, "NEGATIVE_QTY"),
     ({"side": 1, "qty": np.nan, "px_tick": 4}, "NON_FINITE"),
     ({"side": 1, "qty": 1.0, "px_tick": 0}, "BAD_PRICE"),
     ({"side": 1, "qty": 1.0, "px_tick": 4, "liquidity": 0}, "BAD_SIDE")],
)
def test_apply_fill_bad_values_raise_and_book_nothing(kwargs, match):
    pf = Portfolio([ES], cash=5.0)
    with pytest.raises(DataQualityError, match=match):
        pf.apply_fill("ES.CME", ts=0, **kwargs)
    assert pf.cash[0] == 5.0 and pf.position_state["n_fills"][0] == 0


def test_apply_fill_time_going_back_raises_unsorted():
    pf = Portfolio([ES])
    pf.apply_fill("ES.CME", Side.BUY, 1, px_tick=400, ts=10)
    with pytest.raises(DataQualityError, match="UNSORTED"):
        pf.apply_fill("ES.CME", Side.BUY, 1, px_tick=400, ts=9)


def test_portfolio_bad_construction_and_lookup_raise_parameter_error():
    with pytest.raises(ParameterError, match="currency"):
        Portfolio([ES, Instrument("X.Y", tick_size=1.0, currency="EUR")])
    with pytest.raises(ParameterError, match="unique"):
        Portfolio([ES, ES])
    with pytest.raises(ParameterError, match="cash"):
        Portfolio([ES], cash=float("nan"))
    with pytest.raises(ParameterError, match="NQ.CME"):
        Portfolio([ES]).mark("NQ.CME", px=1.0)
    with pytest.raises(ParameterError, match="px and px_tick"):
        Portfolio([ES]).apply_fill("ES.CME", Side.BUY, 1, ts=0)


def test_apply_fills_from_matching_engine_books_owner_records():
    eng = MatchingEngine(ES)
    pf = Portfolio([ES])
    eng.submit(Side.SELL, 2.0, px=5000.0, owner=7, order_id=1, ts=1)
    res = eng.submit(Side.BUY, 3.0, px=5000.25, owner=8, order_id=2, ts=2)  # takes 2, rests 1
    n = pf.apply_fills(res.fills, "ES.CME", owner=8)
    row = pf.positions().iloc[0]
    assert n == 1 and row["qty"] == 2.0 and row["avg_px"] == 5000.0
    assert row["fees"] == pytest.approx(2 * 5000 * 50 * 1e-4)  # owner 8 was the taker


def test_apply_fills_batch_grows_lot_ring_without_double_booking():
    # Arrange: five buys at rising prices, one lot slot to start with
    fills = np.zeros(5, dtype=FILL_DTYPE)
    fills["ts_exch"] = np.arange(5)
    fills["side"] = Side.BUY
    fills["qty"] = 1.0
    fills["px_tick"] = 400 + np.arange(5)
    fills["liquidity"] = L.TAKER
    pf = Portfolio([ES], lot_capacity=1)
    # Act
    n = pf.apply_fills(fills, "ES.CME")
    pf.apply_fill("ES.CME", Side.SELL, 5, px_tick=410, ts=9)
    # Assert: each fill booked once; FIFO closes all five lots at their own prices
    row = pf.positions().iloc[0]
    assert n == 5 and row["n_fills"] == 6 and row["qty"] == 0.0
    assert row["realized_pnl_fifo"] == pytest.approx(sum(410 - p for p in range(400, 405)) * 0.25 * 50)
