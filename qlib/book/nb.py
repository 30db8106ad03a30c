"""Public jitted API of the book layer, for loops in other layers.

What another package (the backtest engine, the paper/live runtime) may call from inside
its own ``@njit`` loop on a :class:`qlib.book.L2Book` (a NamedTuple of arrays, passed as
one argument). Everything here is ``@njit`` and returns status codes or plain values;
callers never read the book's arrays (``hdr``, ``win``, the overflow) themselves, so
the book's layout can change behind these names. The Python API is :mod:`qlib.book`.

* Updating: :func:`apply_event` (one event of any kind, L2 or L3 order map),
  :func:`replay` (a range of events, optional BBO/depth output), :func:`set_level_inline`
  (one price level, written to be inlined into a hot loop), :func:`set_level`,
  :func:`clear_side`.
* Reading: :func:`best_px`, :func:`level_qty`, :func:`top_levels`, :func:`level_below`
  (walk a side level by level from the touch), :func:`is_crossed`, :func:`overflow_room`.

Sides are given as an index ``s`` (0 bid, 1 ask) with a *key* (``px_tick`` on the bid,
``-px_tick`` on the ask) for :func:`set_level`, :func:`set_level_inline`,
:func:`clear_side`, :func:`top_levels` and :func:`level_below`, and as
:class:`qlib.enums.Side` with a ``px_tick`` for :func:`best_px` and :func:`level_qty`
(see :mod:`qlib.book._l2_kernels`).
"""

from __future__ import annotations

from qlib.book._l2_kernels import (
    apply_event,
    best_px,
    clear_side,
    is_crossed,
    level_below,
    level_qty,
    overflow_room,
    replay,
    set_level,
    set_level_inline,
    top_levels,
)

__all__ = [
    "apply_event",
    "best_px",
    "clear_side",
    "is_crossed",
    "level_below",
    "level_qty",
    "overflow_room",
    "replay",
    "set_level",
    "set_level_inline",
    "top_levels",
]
