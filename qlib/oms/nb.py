"""Public jitted API of the order state machine and the portfolio, for loops in other
layers.

What another package (the backtest engine, the paper/live runtime) may call from inside
its own ``@njit`` loop. The state is preallocated arrays of named dtypes:
:data:`qlib.dtypes.ORDER_DTYPE` rows, the :data:`qlib.dtypes.ORDER_JOURNAL_DTYPE`
journal with its length ``jlen`` (a 1-element int64 array),
:data:`qlib.dtypes.POSITION_DTYPE` rows with their FIFO lot ring, and the cash array.
The transition table is :data:`qlib.oms.orders.TRANSITIONS`. Every function returns a
:class:`qlib.enums.Status` code.

* :func:`order_event`: one :class:`qlib.enums.OrderEvent` applied to one order slot
  through the transition table, journalled.
* :func:`portfolio_fill`: one fill applied to one instrument's position, lots and cash.
* :func:`portfolio_mark`, :func:`portfolio_equity`: marking and equity.

The Python wrappers are :class:`qlib.oms.OrderTracker` and :class:`qlib.oms.Portfolio`.
"""

from __future__ import annotations

from qlib.oms._kernels import order_event, portfolio_equity, portfolio_fill, portfolio_mark

__all__ = ["order_event", "portfolio_equity", "portfolio_fill", "portfolio_mark"]
