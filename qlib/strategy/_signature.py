"""The one fixed numba signature of a compiled strategy kernel.

An engine loop that takes the strategy as a first-class function argument of type
:data:`KERNEL_TYPE` is compiled once for every strategy (and can be cached on disk with
``cache=True``), because the argument's type is the signature, not the function.
"""

from __future__ import annotations

import numba
from numba import types

from qlib.dtypes import INTENT_DTYPE, VIEW_DTYPE

__all__ = ["INTENT_ARRAY_TYPE", "KERNEL_SIGNATURE", "KERNEL_TYPE", "VIEW_ARRAY_TYPE"]

#: ``VIEW_DTYPE[::1]``: the 1-element view array (C-contiguous).
VIEW_ARRAY_TYPE = types.Array(numba.from_dtype(VIEW_DTYPE), 1, "C")
#: ``INTENT_DTYPE[::1]``: the output intent array (C-contiguous).
INTENT_ARRAY_TYPE = types.Array(numba.from_dtype(INTENT_DTYPE), 1, "C")
#: ``int64(VIEW_DTYPE[::1], float64[::1], float64[::1], INTENT_DTYPE[::1])``.
KERNEL_SIGNATURE = types.int64(VIEW_ARRAY_TYPE, types.float64[::1], types.float64[::1],
                               INTENT_ARRAY_TYPE)
#: ``types.FunctionType(KERNEL_SIGNATURE)``: the type of the strategy argument of a loop.
KERNEL_TYPE = types.FunctionType(KERNEL_SIGNATURE)
