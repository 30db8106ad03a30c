"""Public jitted API of the strategy layer, for other packages and for user kernels.

Other layers (the engine, the paper/live runtime) and strategies written in a notebook
import jitted strategy helpers from here, never from :mod:`qlib.strategy._kernels`
(issue 11, review point 3: a package never imports another package's private module).
Every function here is ``@njit`` and callable from inside another ``@njit`` function.

Contract of a decision kernel: ``fn(view, params, state, out) -> int64`` where ``view``
is a 1-element :data:`qlib.dtypes.VIEW_DTYPE` array, ``params`` and ``state`` float64
1-D arrays and ``out`` an :data:`qlib.dtypes.INTENT_DTYPE` array filled from row 0; the
return value is the number of intents written (0 cancels every working order, -1 keeps
them).

A kernel made by :func:`qlib.strategy.strategy` is compiled for exactly
:data:`KERNEL_SIGNATURE`; an engine loop taking its strategy as an argument of type
:data:`KERNEL_TYPE` (``numba.types.FunctionType(KERNEL_SIGNATURE)``) is compiled once for
every such kernel and can be cached on disk.
"""

from __future__ import annotations

from qlib.enums import OrderType, Side, TimeInForce
from qlib.strategy._kernels import (
    MAX_INTENTS,
    avellaneda_stoikov,
    can_buy,
    can_sell,
    cancel_all,
    decide_builtin,
    glft,
    glft_coefficients,
    grid,
    imbalance,
    imbalance_signal,
    inventory,
    keep_orders,
    lots,
    market_ok,
    quote,
    quote_ladder,
    round_ask,
    round_bid,
    touch,
    write_intent,
)
from qlib.strategy._signature import (
    INTENT_ARRAY_TYPE,
    KERNEL_SIGNATURE,
    KERNEL_TYPE,
    VIEW_ARRAY_TYPE,
)

#: Short alias of :class:`qlib.enums.TimeInForce`.
Tif = TimeInForce

__all__ = [
    "INTENT_ARRAY_TYPE",
    "KERNEL_SIGNATURE",
    "KERNEL_TYPE",
    "MAX_INTENTS",
    "OrderType",
    "Side",
    "Tif",
    "TimeInForce",
    "VIEW_ARRAY_TYPE",
    "cancel_all",
    "inventory",
    "keep_orders",
    "quote",
    "round_ask",
    "round_bid",
    "avellaneda_stoikov",
    "can_buy",
    "can_sell",
    "decide_builtin",
    "glft",
    "glft_coefficients",
    "grid",
    "imbalance",
    "imbalance_signal",
    "lots",
    "market_ok",
    "quote_ladder",
    "touch",
    "write_intent",
]
