"""The OMS kernels called from a jitted loop, as the backtest engine calls them."""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.dtypes import FILL_DTYPE
from qlib.enums import LiquiditySide, OrderEvent, OrderStatus, Side, Status
from qlib.instrument import Instrument
from qlib.oms import TRANSITIONS, OrderTracker, Portfolio
from qlib.oms import _kernels as K

ES = Instrument("ES.CME", tick_size=0.25, multiplier=50.0, maker_fee_bps=-0.5, taker_fee_bps=1.0)


@njit
def _engine_loop(table, orders, journal, jlen, positions, lots_qty, lots_px, cash, slots, fills):
    for k in range(fills.shape[0]):
        f = fills[k]
        st = K.order_event(table, orders, slots[k], OrderEvent.FILL, f["ts_exch"], f["qty"],
                           f["px_tick"], journal, jlen)
        if st != Status.OK:
            return st, k
        st = K.portfolio_fill(positions, lots_qty, lots_px, cash, 0, f["side"], f["qty"],
                              f["px_tick"], f["liquidity"], f["ts_exch"])
        if st != Status.OK:
            return st, k
    return Status.OK, -1


def _fills() -> np.ndarray:
    f = np.zeros(6, dtype=FILL_DTYPE)
    f["ts_exch"] = [1, 2, 3, 4, 5, 6]
    f["order_id"] = [1, 2, 1, 2, 1, 2]
    f["side"] = [Side.BUY, Side.SELL] * 3
    f["qty"] = [1.0, 2.0, 1.0, 1.0, 2.0, 1.0]
    f["px_tick"] = [20_000, 20_004, 19_998, 20_008, 20_000, 20_001]
    f["liquidity"] = [LiquiditySide.MAKER, LiquiditySide.TAKER] * 3
    return f


def _setup() -> tuple[OrderTracker, Portfolio]:
    t = OrderTracker(capacity=4, journal_capacity=32)
    t.new_order(1, Side.BUY, 4.0, px_tick=20_000, ts=0)
    t.new_order(2, Side.SELL, 4.0, px_tick=20_004, ts=0)
    for oid in (1, 2):
        t.submit(oid, ts=0)
        t.ack(oid, ts=0)
    return t, Portfolio([ES], cash=1e6)


def test_kernels_in_jitted_loop_equal_python_wrappers():
    # Arrange
    fills = _fills()
    ta, pa = _setup()
    tb, pb = _setup()
    slots = np.array([ta.slot(i) for i in fills["order_id"]], dtype=np.int64)
    # Act: one jitted loop vs the Python API
    st, row = _engine_loop(TRANSITIONS, ta.orders, ta.journal_buf, ta.jlen, pa.position_state,
                           pa.lots_qty, pa.lots_px, pa.cash, slots, fills)
    tb.apply_fills(fills)
    pb.apply_fills(fills, "ES.CME")
    # Assert
    assert (st, row) == (Status.OK, -1)
    assert ta.state(1) == ta.state(2) == OrderStatus.FILLED
    assert ta.orders.tobytes() == tb.orders.tobytes()
    assert ta.journal().equals(tb.journal())
    assert pa.position_state.tobytes() == pb.position_state.tobytes()
    assert pa.cash[0] == pb.cash[0]
    assert pa.positions()["qty"].iloc[0] == 0.0
