"""Specialised copies of the backtest loop, made by swapping the globals it calls.

numba compiles a function per set of argument types, but two things cannot be argument
types here without a cost:

* **The strategy.** numba does not cache a function that takes another jitted
  function as an argument, so the loop calls the global ``decide`` (the built-in
  strategies, cached on disk); a custom kernel gets a copy of the loop whose ``decide``
  calls it (compiled once per process).
* **Reference counting.** The general loop holds typed dicts (the L3 order maps), so it
  is compiled with numba's reference counting, which costs an atomic increment and
  decrement per array argument around many calls (measured ~50 ns a call with a book).
  On price-level (L2) data no dict is needed: :func:`loop_for` then returns a copy
  compiled with ``_nrt=False`` that applies events to the books inline
  (:func:`qlib.engine._book_io._apply_l2`, no order map), and which is passed placeholder
  arrays in the dicts' places.

A copy is ``types.FunctionType(code, new_globals)`` with its own ``__qualname__``, so
its on-disk cache entry is its own.
"""

from __future__ import annotations

import types as _pytypes
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from qlib.engine import _book_io as B
from qlib.engine import _exchange as X
from qlib.engine import _local as LO
from qlib.engine import _loop as L

__all__ = ["loop_for"]


def _clone(fn: Any, name: str, mapping: dict[str, Any]) -> Callable:
    py = getattr(fn, "py_func", fn)
    g = dict(py.__globals__)
    g.update(mapping)
    out = _pytypes.FunctionType(py.__code__, g, name, py.__defaults__, py.__closure__)
    out.__qualname__ = name
    out.__doc__ = py.__doc__
    return out


#: The L2 variant's helpers: the book applied inline (:func:`qlib.engine._book_io._apply_l2`).
_apply_range_l2 = B._apply_range_fast
_exch_event_l2 = X._exch_event_l2
_exch_scan_l2_nodict = njit(cache=True, _nrt=False, inline="always")(
    _clone(X._exch_scan_l2, "_exch_scan_l2_nodict",
           {"_apply_range": _apply_range_l2, "_exch_event": _exch_event_l2}))
_L2_GLOBALS = {"_apply_range": _apply_range_l2, "_exch_event": _exch_event_l2,
               "_exch_scan_l2": _exch_scan_l2_nodict, "_local_to": LO._local_to_fast}
#: The loop for L2 data and the built-in strategies: no reference counting, cached.
run_loop_l2 = njit(cache=True, _nrt=False)(_clone(L.run_loop, "run_loop_l2", _L2_GLOBALS))

_CUSTOM: dict[tuple[int, bool], Callable] = {}


def _without_refcounts(fn: Callable, params: np.ndarray, state_size: int) -> Callable:
    """``fn`` recompiled with ``_nrt=False`` when it allows it (a kernel that allocates
    does not), else ``fn`` itself.

    A user's kernel compiled with numba's default reference counting pays ~40 ns per
    call in its prologue and epilogue (its four array arguments); the loop calls it at
    every decision. The test call runs the kernel once on a zeroed view (kernels are
    pure by contract: their output goes to ``out`` and ``state``, both scratch copies
    of the run's own sizes here).
    """
    from numba.core.errors import NumbaError

    from qlib.dtypes import INTENT_DTYPE, VIEW_DTYPE

    py = getattr(fn, "py_func", None)
    if py is None:
        return fn
    fast = njit(_nrt=False)(py)
    try:
        fast(np.zeros(1, VIEW_DTYPE), params.copy(), np.zeros(max(state_size, 1)),
             np.zeros(32, INTENT_DTYPE))
    except NumbaError:
        return fn
    except Exception:  # noqa: BLE001 - the kernel itself raised on the zero view: keep fn
        return fn
    return fast


def loop_for(custom_fn: Callable | None, l2_only: bool, params: np.ndarray | None = None,
             state_size: int = 1) -> Callable:
    """The loop to run: cached for built-in strategies, one copy per custom kernel."""
    if custom_fn is None:
        return run_loop_l2 if l2_only else L.run_loop
    key = (id(custom_fn), l2_only)
    if key not in _CUSTOM:
        fn = _without_refcounts(custom_fn, np.zeros(1) if params is None else params,
                                state_size)

        @njit(_nrt=False, inline="always")
        def decide(kind, view, params, state, out):
            return fn(view, params, state, out)

        mapping: dict[str, Any] = {"decide": decide}
        if l2_only:
            mapping.update(_L2_GLOBALS)
            _CUSTOM[key] = njit(_nrt=False)(_clone(L.run_loop, "run_loop_custom_l2", mapping))
        else:
            _CUSTOM[key] = njit(_clone(L.run_loop, "run_loop_custom", mapping))
    return _CUSTOM[key]
