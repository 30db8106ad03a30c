"""Orders and portfolio: the order state machine, positions and P&L, reconciliation.

* :class:`OrderTracker` — orders and their transitions (:mod:`qlib.oms.orders`).
* :class:`Portfolio` — positions, average-cost and FIFO P&L, fees, cash
  (:mod:`qlib.oms.portfolio`).
* :func:`reconcile` — breaks between our books and a venue's report
  (:mod:`qlib.oms.reconcile`).

Jitted loops call the kernels in :mod:`qlib.oms._kernels` on the same state arrays.
"""

from __future__ import annotations

from qlib.oms.orders import (
    TERMINAL_STATES,
    TRANSITIONS,
    OrderStateError,
    OrderTracker,
    build_transition_table,
)
from qlib.oms.portfolio import Portfolio
from qlib.oms.reconcile import BREAK_COLUMNS, reconcile

__all__ = [
    "BREAK_COLUMNS",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "OrderStateError",
    "OrderTracker",
    "Portfolio",
    "build_transition_table",
    "reconcile",
]
