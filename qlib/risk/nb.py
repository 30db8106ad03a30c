"""Public jitted API of the pre-trade risk layer, for loops in other layers.

What another package (the backtest engine, the paper/live runtime) may call from inside
its own ``@njit`` loop on the risk state of a :class:`qlib.risk.PreTradeRisk`
(``istate`` int64, ``fstate`` float64 and the risk ``journal``, all built by
:meth:`qlib.risk.PreTradeRisk.to_arrays`-style set-up in :mod:`qlib.risk.pretrade`).
Callers never index those arrays themselves: the accessors below read what they need.

* The check: :func:`pretrade_check` (a call) and :func:`pretrade_check_inline` (the same
  check, to be inlined into an ``_nrt=False`` loop); both return a
  :class:`qlib.enums.PreTradeReject` code, :data:`APPROVED` when the order may go out.
* Messages: :func:`throttle_message` (the message-rate bucket for a cancel).
* Feeding the state: :func:`update_reference` (reference price for the collar),
  :func:`mark_pnl` (P&L; may trip the circuit breakers), :func:`observe_latency`,
  :func:`sync_orders` (open orders and own best quotes), :func:`set_position`.
* Reading the state: :func:`kill_switch_tripped`.
* Constants: :data:`APPROVED`, :data:`NO_BID` / :data:`NO_ASK` (no own quote on a side,
  for :func:`sync_orders`).
"""

from __future__ import annotations

from numba import njit

from qlib.risk._pretrade_kernels import (
    APPROVED,
    I_KILLED,
    NO_ASK,
    NO_BID,
    mark_pnl,
    observe_latency,
    pretrade_check,
    pretrade_check_inline,
    set_position,
    sync_orders,
    throttle_message,
    update_reference,
)

__all__ = [
    "APPROVED",
    "NO_ASK",
    "NO_BID",
    "kill_switch_tripped",
    "mark_pnl",
    "observe_latency",
    "pretrade_check",
    "pretrade_check_inline",
    "set_position",
    "sync_orders",
    "throttle_message",
    "update_reference",
]


@njit(cache=True, _nrt=False, inline="always")
def kill_switch_tripped(istate):
    """1 while the kill switch of the risk state ``istate`` is tripped, else 0 (int64)."""
    return istate[I_KILLED]
