"""Constants shared by the backtest loop's modules: event kinds, order states and
status codes as plain ints (numba folds them), and two tuning values."""

from __future__ import annotations

import numpy as np

from qlib.dtypes import SUBTICK_SCALE
from qlib.enums import (
    EventFlag,
    EventKind,
    LiquiditySide,
    OrderStatus,
    OrderType,
    QueueModelKind,
    Status,
    TimeInForce,
)
from qlib.risk import nb as _risk

_INF_TS = np.iinfo(np.int64).max
_LN2 = float(np.log(2.0))
_L3_FIFO = int(QueueModelKind.L3_FIFO)
_ADD = int(EventKind.ADD)
_CANCEL = int(EventKind.CANCEL)
_DELETE = int(EventKind.DELETE)
_EXECUTE = int(EventKind.EXECUTE)
_MODIFY = int(EventKind.MODIFY)
_TRADE = int(EventKind.TRADE)
_TRADE_SUBTICK = int(EventKind.TRADE_SUBTICK)
_DEPTH = int(EventKind.DEPTH)
_SNAPSHOT = int(EventKind.SNAPSHOT)
_CLEAR = int(EventKind.CLEAR)
_QUOTE = int(EventKind.QUOTE)
_SUMMARY = np.uint8(EventFlag.SUMMARY)
_GTX = int(TimeInForce.GTX)
_IOC = int(TimeInForce.IOC)
_FOK = int(TimeInForce.FOK)
_GTC = int(TimeInForce.GTC)
_LIMIT = int(OrderType.LIMIT)
_MARKET = int(OrderType.MARKET)
_MAKER = int(LiquiditySide.MAKER)
_TAKER = int(LiquiditySide.TAKER)
_APPROVED = _risk.APPROVED
_OK = int(Status.OK)
_CAPACITY = int(Status.CAPACITY)
_PN = int(OrderStatus.PENDING_NEW)
_LIVE = int(OrderStatus.LIVE)
_PF = int(OrderStatus.PARTIALLY_FILLED)
_PC = int(OrderStatus.PENDING_CANCEL)
_PR = int(OrderStatus.PENDING_REPLACE)
_LAST_FLAG = np.uint8(EventFlag.LAST)
_SCAN_MAX = 4096

#: Largest ``px_tick`` the backtest accepts (``2**53 // SUBTICK_SCALE`` = 9,007,199,254
#: ticks; ``TRADE_SUBTICK`` rows, in millionths of a tick, up to ``2**53``). Below it a
#: price is exact in float64 even in sub-ticks (``px_tick * SUBTICK_SCALE <= 2**53``), so
#: the float fill prices, notionals and P&L are computed from exact prices, and the int64
#: sums the engine and the strategies form (``bid + ask``, ``px +/- k`` ticks, window
#: offsets) stay 2**30 below int64's range. No market comes near: a tick is rarely finer
#: than 1e-7 of the price (BTCUSDT at 0.01 USDT is 6e6 ticks, LOBSTER's GOOG 6e4).
MAX_PX_TICK = 2**53 // SUBTICK_SCALE

#: Largest event ``qty`` the backtest accepts (2**53, exact as a float64 integer): with
#: prices below :data:`MAX_PX_TICK` a notional ``px_tick * qty`` stays below 2**86, far
#: from float64 overflow, and sums of level quantities keep their integer part exact.
MAX_QTY = float(2**53)

#: Kinds whose ``px_tick`` must be a price (>= 1 tick): everything the book applies or
#: our orders match against. ``CLEAR``, ``HALT`` and ``RESUME_*`` carry no price, and
#: ``QUOTE`` rows are a venue cross-check the engine does not read (the bound still holds).
PRICED_KINDS = np.array([EventKind.ADD, EventKind.CANCEL, EventKind.DELETE,
                          EventKind.EXECUTE, EventKind.MODIFY, EventKind.TRADE,
                          EventKind.DEPTH, EventKind.SNAPSHOT, EventKind.TRADE_SUBTICK],
                         dtype=np.uint8)
PRICED_LUT = np.zeros(256, dtype=bool)
PRICED_LUT[PRICED_KINDS] = True
