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
"""

from __future__ import annotations

from qlib.strategy._kernels import (
    MAX_INTENTS,
    avellaneda_stoikov,
    can_buy,
    can_sell,
    decide_builtin,
    glft,
    glft_coefficients,
    grid,
    imbalance,
    imbalance_signal,
    lots,
    market_ok,
    quote_ladder,
    touch,
    write_intent,
)

__all__ = [
    "MAX_INTENTS",
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
