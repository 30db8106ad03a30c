"""Constants shared by the backtest loop's modules: event kinds, order states and
status codes as plain ints (numba folds them), and two tuning values."""

from __future__ import annotations

import numpy as np

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
from qlib.risk import _pretrade_kernels as _risk

_INF_TS = np.iinfo(np.int64).max
_LN2 = float(np.log(2.0))
_L3_FIFO = int(QueueModelKind.L3_FIFO)
_ADD = int(EventKind.ADD)
_CANCEL = int(EventKind.CANCEL)
_DELETE = int(EventKind.DELETE)
_EXECUTE = int(EventKind.EXECUTE)
_MODIFY = int(EventKind.MODIFY)
_TRADE = int(EventKind.TRADE)
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
