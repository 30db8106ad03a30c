"""Codes of the backtest loop's state (see :mod:`qlib.engine._loop`): which buffer
stopped the loop, where an order is at the exchange, the kinds of the message rings, and
two capacities.

The state itself is in records whose fields are documented in :mod:`qlib.dtypes`:
:data:`~qlib.dtypes.ENGINE_STATE_DTYPE` (the loop's registers),
:data:`~qlib.dtypes.ENGINE_CONFIG_DTYPE` (its configuration),
:data:`~qlib.dtypes.ENGINE_ORDER_STATE_DTYPE` (per order, the exchange side),
:data:`~qlib.dtypes.ENGINE_MSG_TO_EXCH_DTYPE` and
:data:`~qlib.dtypes.ENGINE_MSG_TO_LOCAL_DTYPE` (the message rings).
"""

from __future__ import annotations

# --- which buffer is full (ENGINE_STATE_DTYPE "cap_what") --------------------------
CAP_NONE = 0
CAP_ORDERS = 1
CAP_JOURNAL = 2
CAP_FILLS = 3
CAP_RECORDS = 4
CAP_XBOOK = 5
CAP_LBOOK = 6
CAP_LOTS = 7
CAP_MSGS = 8
CAP_WORK = 9

# --- where an order of ours is at the exchange (ENGINE_ORDER_STATE_DTYPE "xstate") -----
XS_NONE = 0  # not at the exchange yet (or taking liquidity)
XS_RESTING = 1
XS_DONE = 2

# --- message rings ----------------------------------------------------------------
# to exchange: mx, qlib.dtypes.ENGINE_MSG_TO_EXCH_DTYPE rows; its kinds:
M_SUBMIT = 0
M_CANCEL = 1
# to local: ml, qlib.dtypes.ENGINE_MSG_TO_LOCAL_DTYPE rows; its kinds:
R_ACK = 0
R_REJECT = 1
R_FILL = 2
R_CANCEL_ACK = 3
R_CANCEL_REJECT = 4
R_EXPIRE = 5

#: Rows of the strategy's output array.
MAX_INTENTS = 32
#: Levels read when an aggressive order walks the book.
WALK_LEVELS = 64
