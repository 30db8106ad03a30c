r"""Numba kernels of the pre-trade risk check and the kill switch: arrays and scalars
in, :class:`qlib.enums.PreTradeReject` codes out. No pandas, no I/O, no allocation.
Public wrapper: :class:`qlib.risk.pretrade.PreTradeRisk`.

State layout
------------
The whole risk state is two flat arrays, so a check passes three arrays and six
scalars (cheap to call from Python as well as from a jitted loop):

``fstate`` (float64): the header entries ``F_*`` below, then, for ``n`` instruments,
blocks of ``n`` entries: block ``k`` of instrument ``i`` is at ``F_HDR + k * n + i``.

=====================  =========================================================
``F_MAX_ORDER_QTY``     max order quantity (``inf``: check off)
``F_MAX_ORDER_NOTIONAL`` max order notional, quote currency (``inf``: off)
``F_MAX_GROSS``         max gross exposure, quote currency (``inf``: off)
``F_COLLAR``            price collar as a fraction of the reference (``inf``: off)
``F_MAX_OPEN``          max open orders (``inf``: off)
``F_MAX_DAILY_LOSS``    daily-loss circuit breaker (``inf``: off)
``F_MAX_DRAWDOWN``      drawdown circuit breaker (``inf``: off)
``F_MAX_CONC``          max exposure of one instrument / equity (``inf``: off)
``F_CAPITAL``           starting capital; equity = capital + P&L
``F_MARGIN_RATE``       margin per unit of gross exposure (``0``: off)
``F_PNL``               current P&L (realised + unrealised)
``F_PNL_HWM``           high-water mark of ``F_PNL``
``F_PNL_DAY``           ``F_PNL`` at the start of the day
``F_GROSS``             gross exposure :math:`\sum_j e_j` of block ``B_EXPO``, kept
                        incrementally (the check reads it in O(1)); set_position and
                        sync_orders re-sum it exactly, update_reference and an approval
                        add the change of one ``e_i``
``F_PNL_FLOOR``         derived: a P&L below which a circuit breaker may trip,
                        :math:`\max(\phi(L_\text{day}, D), \phi(L_\text{hwm}, W))` with
                        :math:`\phi(b, l) = b - l + 10^{-12}(|b| + |l|)` (``-inf`` for
                        ``l = inf``), at or above every P&L that trips either breaker
                        (the margin exceeds the rounding); kept by ``mark_pnl``,
                        ``start_day`` and set-up (:func:`refresh_pnl_floor`)
block ``B_POS``         signed filled position, per instrument
block ``B_OPEN_BUY``    open buy quantity, per instrument
block ``B_OPEN_SELL``   open sell quantity, per instrument
block ``B_MAX_POS``     max worst-case net position (``inf``: off)
block ``B_TICK_VALUE``  quote currency per tick per unit of quantity
block ``B_EXPO``        exposure :math:`e_i = (|x_i| + b_i + a_i) r_i v_i` (quote currency),
                        recomputed whenever one of its inputs changes
=====================  =========================================================

``istate`` (int64): header ``I_*`` then per-instrument blocks ``J_*`` at
``I_HDR + k * n + i``.

=====================  =========================================================
``I_N``                 number of instruments ``n``
``I_KILLED``            1 while the kill switch is tripped
``I_KILL_REASON``       :class:`qlib.enums.KillReason` of the current trip
``I_KILL_TS``           ts of the current trip (ns)
``I_ORD_*``             order token bucket: credit, last refill ts, rate, cap
``I_MSG_*``             message token bucket: credit, last refill ts, rate, cap
``I_N_OPEN``            open orders, all instruments
``I_REJ_START``         start of the current reject-storm window (ns)
``I_REJ_COUNT``         rejects in that window
``I_REJ_WINDOW``        reject-storm window (ns)
``I_MAX_REJECTS``       rejects allowed in a window (``-1``: off)
``I_MAX_MD_AGE``        max age of the reference price (ns; int64 max: off)
``I_MAX_LATENCY``       max observed latency (ns; int64 max: off)
``I_JOURNAL_N``         entries written to the journal
``I_JOURNAL_LOST``      entries that did not fit (the wrapper keeps this at 0)
``I_*_FULL_NS``         ``cap // rate + 1``: a gap after which a bucket is full
                        (precomputed: no integer division in the check)
``I_MAX_OPEN``          derived: ``ceil(F_MAX_OPEN)`` as an integer (int64 max: off)
block ``J_REF_PX``      reference price, ticks (``<= 0``: none yet)
block ``J_MD_TS``       ts of the reference price (ns)
block ``J_OWN_BID``     best price of our resting buys (``NO_BID``: none)
block ``J_OWN_ASK``     best price of our resting sells (``NO_ASK``: none)
block ``J_N_OPEN``      open orders of the instrument
block ``J_PX_LO``       derived collar band: with ``b = floor(F_COLLAR * ref)``,
block ``J_PX_HI``       ``ref - b`` and ``ref + b``; a limit price outside is exactly one
                        that fails the collar. Collar off: int64 min/max (no price
                        outside); no reference or a band of ``2**52`` ticks or more:
                        empty (max/min, every price takes the exact float test). Kept
                        by ``update_reference`` and set-up (:func:`refresh_derived`)
=====================  =========================================================

The derived entries exist for speed only: the check uses ``F_PNL_FLOOR`` and the
collar band as one-compare filters and re-tests the exact formula of the class docs
when a filter fires (``I_MAX_OPEN`` is exact as it is), so the codes and their order
are those of the formulas. Whoever writes a limit or
``F_PNL_DAY``/``F_PNL_HWM``/``J_REF_PX`` directly (not through the kernels or
:class:`~qlib.risk.PreTradeRisk`) must call :func:`refresh_derived` afterwards;
``F_PNL`` itself may be written directly (the check reads it).

``journal`` (int64, shape ``(capacity, 3)``): one row per kill-switch trip or reset,
columns ``JC_TS`` (ns), ``JC_EVENT`` (:class:`qlib.enums.KillEvent`) and ``JC_REASON``
(:class:`qlib.enums.KillReason`); ``istate[I_JOURNAL_N]`` rows are used. A plain int64
array rather than a structured one because numba's dispatcher unboxes a record
array about 150 ns slower per call from Python (measured in
``benchmarks/bench_pretrade.py``'s history), which the 300 ns budget cannot afford.

Every kernel is compiled with ``_nrt=False``: no reference counting inside, and the
compiler refuses any allocation. The small helpers are inlined (``inline="always"``).

Performance notes
-----------------
``benchmarks/bench_pretrade.py``, a full approved check with every limit on,
``pretrade_check_inline`` inlined into an ``_nrt=False`` loop (AMD EPYC, shared 2-core
VM, +-0.2 ns between runs): 7.9-8.3 ns before the changes below and 7.1-7.4 ns after
(three alternating runs each on the loaded machine; 7.0-7.1 ns after in quieter runs).
The check is bound by instruction throughput and by loop-carried chains through the
state (each approval's stores are the next check's loads); removing every approval
write leaves about 4.7 ns (measured midway, before the bucket and self-trade
changes), so the 5 ns goal is not met. Measured, one change at a
time (the effects interact through register allocation and are not additive):

* helped: the P&L floor (one compare for checks 4 and 5 instead of four loads, two
  subtractions and two compares: no change measured on its own, but putting the two
  tests back into the final version costs 0.9 ns); the integer collar band (0.2 ns:
  no int-to-float conversion, multiply and ``abs``); ``I_MAX_OPEN`` as an integer
  (0.15 ns); refilling the bucket as ``min(credit + (refill - TOKEN), cap - TOKEN)``
  and storing the refill time with a conditional store of ``ts_ns`` instead of
  ``max(stored, ts_ns)`` (0.3 ns: the stored max made each check's refill wait for
  the previous store to forward); the self-trade test as one compare with the exact
  test behind it (0.2 ns);
* no measurable effect: a branch-free refill (``min(max(dt, 0), full)``); the own
  best price updated with an unconditional ``max``/``min`` store instead of a
  conditional one; a per-instrument stale deadline ``md_ts + max_md_age`` (one
  compare instead of a subtraction and a header load); the concentration and margin
  limits stored as NaN when off so their guards go (although deleting the guards
  outright measured 0.3 ns each);
* slower: the self-trade test split by order type (+0.8 ns) or written as one signed
  compare (+1 ns); ``_unlikely`` on the non-finite guard of ``F_GROSS`` (+0.4 ns);
  the instrument range as one unsigned compare (+3 ns: numba's mixed-sign compare).
  Small edits move the register allocation, so every change was measured, not
  assumed;
* not done: an interleaved per-instrument block (the blocks' layout is public, so it
  would be a second copy written on every approval: the approval stores are already
  the costliest part, ~2.4 ns); ``F_GROSS`` or ``B_EXPO`` updated with one multiply
  (the exposure must stay bit-equal to its formula, ``(|x| + b + a) r v`` evaluated
  left to right); position headrooms (the net check is two-sided, so a headroom is
  two compares as well, and it would add stores on approval). A float value stored
  and re-loaded by the next check costs about 2.9 ns of latency per iteration
  (store-to-load forwarding of an XMM register plus the add, measured alone), which
  puts a floor of about 3 ns under a loop of approvals (``F_GROSS`` is read and
  written by every one).

Token buckets are integers: credit is in nano-tokens (one order costs
``TOKEN = 10**9``), the rate is in tokens per second, so refilling ``dt`` ns adds
exactly ``dt * rate`` nano-tokens and the bucket never drifts by rounding.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir as _ir
from numba import njit
from numba.core import types as _nt
from numba.extending import intrinsic, overload

from qlib.enums import KillEvent, KillReason, OrderType, PreTradeReject

# --- fstate header ---------------------------------------------------------------
F_MAX_ORDER_QTY = 0
F_MAX_ORDER_NOTIONAL = 1
F_MAX_GROSS = 2
F_COLLAR = 3
F_MAX_OPEN = 4
F_MAX_DAILY_LOSS = 5
F_MAX_DRAWDOWN = 6
F_MAX_CONC = 7
F_CAPITAL = 8
F_MARGIN_RATE = 9
F_PNL = 10
F_PNL_HWM = 11
F_PNL_DAY = 12
F_GROSS = 13
F_PNL_FLOOR = 14
F_HDR = 16
B_POS = 0
B_OPEN_BUY = 1
B_OPEN_SELL = 2
B_MAX_POS = 3
B_TICK_VALUE = 4
B_EXPO = 5
F_BLOCKS = 6

# --- istate header ---------------------------------------------------------------
I_N = 0
I_KILLED = 1
I_KILL_REASON = 2
I_KILL_TS = 3
I_ORD_CREDIT = 4
I_ORD_TS = 5
I_ORD_RATE = 6
I_ORD_CAP = 7
I_MSG_CREDIT = 8
I_MSG_TS = 9
I_MSG_RATE = 10
I_MSG_CAP = 11
I_N_OPEN = 12
I_REJ_START = 13
I_REJ_COUNT = 14
I_REJ_WINDOW = 15
I_MAX_REJECTS = 16
I_MAX_MD_AGE = 17
I_MAX_LATENCY = 18
I_JOURNAL_N = 19
I_JOURNAL_LOST = 20
I_ORD_FULL_NS = 21
I_MSG_FULL_NS = 22
I_MAX_OPEN = 23
I_HDR = 24
J_REF_PX = 0
J_MD_TS = 1
J_OWN_BID = 2
J_OWN_ASK = 3
J_N_OPEN = 4
J_PX_LO = 5
J_PX_HI = 6
I_BLOCKS = 7

# journal columns (int64 array of shape (capacity, 3))
JC_TS = 0
JC_EVENT = 1
JC_REASON = 2

TOKEN = 1_000_000_000
NO_BID = -(1 << 62)
NO_ASK = 1 << 62
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min
#: A collar band below this many ticks (< 2**53) is exact as an integer (see
#: ``_set_collar_band``).
_BAND_EXACT = 2.0**52
#: Largest finite float64. ``qty <= DBL_MAX`` tests ``qty < inf`` as one comparison: LLVM
#: turns ``qty > 0.0 and qty < inf`` into a float-class test on the bits (about 12
#: instructions, 0.7 ns of the check).
DBL_MAX = float(np.finfo(np.float64).max)

# Codes, taken from qlib.enums (the only place code values are defined) as plain ints,
# which numba folds into the kernels as compile-time constants.
# PreTradeReject
APPROVED = int(PreTradeReject.APPROVED)
KILL_SWITCH = int(PreTradeReject.KILL_SWITCH)
BAD_INTENT = int(PreTradeReject.BAD_INTENT)
STALE_MARKET_DATA = int(PreTradeReject.STALE_MARKET_DATA)
DAILY_LOSS = int(PreTradeReject.DAILY_LOSS)
DRAWDOWN = int(PreTradeReject.DRAWDOWN)
MAX_ORDER_QTY = int(PreTradeReject.MAX_ORDER_QTY)
NO_REFERENCE_PRICE = int(PreTradeReject.NO_REFERENCE_PRICE)
PRICE_COLLAR = int(PreTradeReject.PRICE_COLLAR)
MAX_ORDER_NOTIONAL = int(PreTradeReject.MAX_ORDER_NOTIONAL)
POSITION_NET = int(PreTradeReject.POSITION_NET)
POSITION_GROSS = int(PreTradeReject.POSITION_GROSS)
CONCENTRATION = int(PreTradeReject.CONCENTRATION)
MARGIN = int(PreTradeReject.MARGIN)
MAX_OPEN_ORDERS = int(PreTradeReject.MAX_OPEN_ORDERS)
SELF_TRADE = int(PreTradeReject.SELF_TRADE)
ORDER_RATE = int(PreTradeReject.ORDER_RATE)
MESSAGE_RATE = int(PreTradeReject.MESSAGE_RATE)
# KillReason
KR_MANUAL = int(KillReason.MANUAL)
KR_DAILY_LOSS = int(KillReason.DAILY_LOSS)
KR_DRAWDOWN = int(KillReason.DRAWDOWN)
KR_REJECT_STORM = int(KillReason.REJECT_STORM)
KR_STALE_MARKET_DATA = int(KillReason.STALE_MARKET_DATA)
KR_LATENCY_SPIKE = int(KillReason.LATENCY_SPIKE)
# KillEvent
EV_TRIP = int(KillEvent.TRIP)
EV_RESET = int(KillEvent.RESET)
# OrderType
LIMIT = int(OrderType.LIMIT)
MARKET = int(OrderType.MARKET)


def _unlikely(cond):
    """Return ``cond``. In jitted code, also tell LLVM that it is almost always false.

    ``pretrade_check`` wraps each reject condition in it: LLVM then lays the approval
    path out as straight-line code with the rejects out of line, instead of jumping
    over each reject block (one taken branch per check; 0.4 ns of the inlined check).
    Plain Python (``py_func``, ``NUMBA_DISABLE_JIT``) runs this function as it is.
    """
    return cond


@intrinsic
def _expect_false(typingctx, cond):
    """``llvm.expect(cond, false)``: the branch weight behind :func:`_unlikely`."""

    def codegen(context, builder, signature, args):
        i1 = _ir.IntType(1)
        fn = builder.module.declare_intrinsic("llvm.expect", [i1], _ir.FunctionType(i1, [i1, i1]))
        return builder.call(fn, [args[0], _ir.Constant(i1, 0)])

    return _nt.boolean(_nt.boolean), codegen


@overload(_unlikely, inline="always")
def _unlikely_jit(cond):
    def impl(cond):
        return _expect_false(cond)

    return impl


@njit(cache=True, _nrt=False, inline="always")
def _journal(istate, journal, ts_ns, event, reason):
    """Append one kill-switch journal entry (see :class:`qlib.risk.PreTradeRisk`)."""
    k = istate[I_JOURNAL_N]
    if k < journal.shape[0]:
        journal[k, JC_TS] = ts_ns
        journal[k, JC_EVENT] = event
        journal[k, JC_REASON] = reason
        istate[I_JOURNAL_N] = k + 1
    else:
        istate[I_JOURNAL_LOST] += 1


@njit(cache=True, _nrt=False)
def trip_kill(istate, journal, ts_ns, reason):
    """Trip the kill switch; return 1 if it was armed, 0 if already tripped.

    See :meth:`qlib.risk.PreTradeRisk.trip`.
    """
    if istate[I_KILLED] != 0:
        return 0
    istate[I_KILLED] = 1
    istate[I_KILL_REASON] = reason
    istate[I_KILL_TS] = ts_ns
    _journal(istate, journal, ts_ns, EV_TRIP, reason)
    return 1


@njit(cache=True, _nrt=False)
def reset_kill(istate, journal, ts_ns, reason):
    """Reset the kill switch and the reject-storm window; return 1 if it was tripped.

    See :meth:`qlib.risk.PreTradeRisk.reset`.
    """
    if istate[I_KILLED] == 0:
        return 0
    istate[I_KILLED] = 0
    istate[I_KILL_REASON] = 0
    istate[I_KILL_TS] = 0
    istate[I_REJ_START] = ts_ns
    istate[I_REJ_COUNT] = 0
    _journal(istate, journal, ts_ns, EV_RESET, reason)
    return 1


@njit(cache=True, _nrt=False, inline="always")
def _reject(istate, journal, ts_ns, code):
    """Count a reject in the reject-storm window (tripping on a storm); return ``code``."""
    max_rej = istate[I_MAX_REJECTS]
    if max_rej >= 0:
        start = istate[I_REJ_START]
        if istate[I_REJ_COUNT] == 0 or ts_ns < start or ts_ns - start > istate[I_REJ_WINDOW]:
            istate[I_REJ_START] = ts_ns
            istate[I_REJ_COUNT] = 0
        c = istate[I_REJ_COUNT] + 1
        istate[I_REJ_COUNT] = c
        if c > max_rej:
            trip_kill(istate, journal, ts_ns, KR_REJECT_STORM)
    return code


@njit(cache=True, _nrt=False, inline="always")
def _credit(istate, k_credit, k_ts, k_rate, k_cap, k_full, ts_ns):
    """Return the bucket's credit (nano-tokens) refilled up to ``ts_ns``; no write."""
    credit = istate[k_credit]
    dt = ts_ns - istate[k_ts]
    if dt <= 0:
        return credit
    rate = istate[k_rate]
    cap = istate[k_cap]
    if dt > istate[k_full]:  # cap // rate + 1: bounds dt * rate by cap + rate, no overflow
        return cap
    c = credit + dt * rate
    return min(c, cap)


@njit(cache=True, _nrt=False, inline="always")
def _left(istate, k_credit, k_ts, k_rate, k_cap, k_full, ts_ns):
    """The bucket's credit refilled up to ``ts_ns`` minus one token (< 0: no token); no write.

    ``_credit(...) - TOKEN``, arranged so that the chain from the stored credit to the
    credit stored on approval is one add and one min (``cap - TOKEN`` and the refill
    minus a token do not depend on the stored credit).
    """
    credit = istate[k_credit]
    dt = ts_ns - istate[k_ts]
    if dt <= 0:
        return credit - TOKEN
    dt = min(dt, istate[k_full])  # see _credit
    return min(credit + (dt * istate[k_rate] - TOKEN), istate[k_cap] - TOKEN)


@njit(cache=True, _nrt=False, inline="always")
def _charge(istate, k_credit, k_ts, credit, ts_ns):
    """Take one token from a bucket whose refilled credit is ``credit``."""
    istate[k_credit] = credit - TOKEN
    istate[k_ts] = max(istate[k_ts], ts_ns)


@njit(cache=True, _nrt=False, inline="always")
def _exposure(istate, fstate, n, inst):
    """Exposure ``e_i`` of one instrument from its current state (the check's formula)."""
    fi = F_HDR + inst
    return (
        (abs(fstate[fi + B_POS * n]) + fstate[fi + B_OPEN_BUY * n] + fstate[fi + B_OPEN_SELL * n])
        * istate[I_HDR + inst + J_REF_PX * n]
        * fstate[fi + B_TICK_VALUE * n]
    )


@njit(cache=True, _nrt=False, inline="always")
def _resum_gross(istate, fstate, n, inst):
    """Recompute ``e_inst`` and re-sum ``F_GROSS`` exactly over ``B_EXPO`` (O(n))."""
    fstate[F_HDR + inst + B_EXPO * n] = _exposure(istate, fstate, n, inst)
    g = 0.0
    for j in range(n):
        g += fstate[F_HDR + j + B_EXPO * n]
    fstate[F_GROSS] = g


@njit(cache=True, _nrt=False, inline="always")
def _add_gross(fstate, n, k, e_old, e_new):
    """Set ``B_EXPO`` entry ``k`` to ``e_new`` and add the change to ``F_GROSS`` (O(1)).

    A non-finite result (an infinite exposure makes ``inf - inf``) re-sums instead, so
    ``F_GROSS`` is never a NaN that would pass the gross and margin checks.
    """
    fstate[k] = e_new
    g = fstate[F_GROSS] + (e_new - e_old)
    if g - g != 0.0:
        g = 0.0
        for j in range(n):
            g += fstate[F_HDR + j + B_EXPO * n]
    fstate[F_GROSS] = g


@njit(cache=True, _nrt=False, inline="always")
def _update_gross(istate, fstate, n, inst):
    """Recompute ``e_inst`` and add its change to ``F_GROSS`` (O(1))."""
    k = F_HDR + inst + B_EXPO * n
    _add_gross(fstate, n, k, fstate[k], _exposure(istate, fstate, n, inst))


@njit(cache=True, _nrt=False, inline="always")
def _breaker_floor(base, limit):
    """A float at or above every P&L ``p`` with ``base - p > limit`` (``-inf``: none).

    ``base - limit`` plus a margin of ``1e-12 (|base| + |limit|)``, far more than the
    rounding of ``base - p`` and of ``base - limit`` (a few ulps), so the one compare
    ``p < floor`` never misses a P&L that the exact test would trip on.
    """
    if not (limit < np.inf):
        return -np.inf
    return (base - limit) + 1e-12 * (abs(base) + abs(limit))


@njit(cache=True, _nrt=False)
def refresh_pnl_floor(fstate):
    """Recompute ``F_PNL_FLOOR`` from the P&L marks and the breaker limits.

    Called wherever ``F_PNL_DAY``, ``F_PNL_HWM`` or the limits change (``mark_pnl``,
    :meth:`qlib.risk.PreTradeRisk.start_day` and ``__init__``).
    """
    fstate[F_PNL_FLOOR] = max(_breaker_floor(fstate[F_PNL_DAY], fstate[F_MAX_DAILY_LOSS]),
                              _breaker_floor(fstate[F_PNL_HWM], fstate[F_MAX_DRAWDOWN]))


@njit(cache=True, _nrt=False)
def gross_exposure_sum(istate, fstate):
    r"""Gross exposure recomputed from the positions, open quantities and references.

    The reference for ``fstate[F_GROSS]`` (tests): :math:`\sum_j (|x_j| + b_j + a_j) r_j v_j`.
    """
    n = istate[I_N]
    g = 0.0
    for j in range(n):
        g += _exposure(istate, fstate, n, j)
    return g


@njit(cache=True, _nrt=False)
def pretrade_check(istate, fstate, journal, inst, side, px_tick, qty, ts_ns, order_type):
    """Check one new-order intent; return a ``PreTradeReject`` code.

    See :meth:`qlib.risk.PreTradeRisk.check` for the checks, their order and formulas.
    """
    if _unlikely(istate[I_KILLED] != 0):
        return KILL_SWITCH
    n = istate[I_N]
    if _unlikely(
        inst < 0
        or inst >= n
        or (side != 1 and side != -1)
        or not (qty > 0.0)
        or not (qty <= DBL_MAX)  # qty < inf (NaN failed qty > 0)
        or (order_type != LIMIT and order_type != MARKET)
        or (order_type == LIMIT and px_tick <= 0)
    ):
        return _reject(istate, journal, ts_ns, BAD_INTENT)
    ii = I_HDR + inst
    if _unlikely(ts_ns - istate[ii + J_MD_TS * n] > istate[I_MAX_MD_AGE]):
        trip_kill(istate, journal, ts_ns, KR_STALE_MARKET_DATA)
        return STALE_MARKET_DATA
    pnl = fstate[F_PNL]
    # one compare: F_PNL_FLOOR is at or above both breakers' thresholds, so only a P&L
    # under it can trip one; the exact tests below then decide (and may pass)
    if _unlikely(pnl < fstate[F_PNL_FLOOR]):
        if fstate[F_PNL_DAY] - pnl > fstate[F_MAX_DAILY_LOSS]:
            trip_kill(istate, journal, ts_ns, KR_DAILY_LOSS)
            return DAILY_LOSS
        if fstate[F_PNL_HWM] - pnl > fstate[F_MAX_DRAWDOWN]:
            trip_kill(istate, journal, ts_ns, KR_DRAWDOWN)
            return DRAWDOWN
    if _unlikely(qty > fstate[F_MAX_ORDER_QTY]):
        return _reject(istate, journal, ts_ns, MAX_ORDER_QTY)
    ref = istate[ii + J_REF_PX * n]
    if _unlikely(ref <= 0):
        return _reject(istate, journal, ts_ns, NO_REFERENCE_PRICE)
    px = ref
    if order_type == LIMIT:
        px = px_tick
        # two integer compares against the band kept by update_reference; a price
        # outside it (or any price while the band is not exact) takes the exact test
        if _unlikely(px_tick < istate[ii + J_PX_LO * n] or px_tick > istate[ii + J_PX_HI * n]):
            if abs(px_tick - ref) > fstate[F_COLLAR] * ref:
                return _reject(istate, journal, ts_ns, PRICE_COLLAR)
    fi = F_HDR + inst
    tick_value = fstate[fi + B_TICK_VALUE * n]
    notional = qty * px * tick_value
    if _unlikely(notional > fstate[F_MAX_ORDER_NOTIONAL]):
        return _reject(istate, journal, ts_ns, MAX_ORDER_NOTIONAL)
    pos = fstate[fi + B_POS * n]
    open_buy = fstate[fi + B_OPEN_BUY * n]
    open_sell = fstate[fi + B_OPEN_SELL * n]
    if side == 1:
        worst = pos + open_buy + qty
    else:
        worst = pos - open_sell - qty
    if _unlikely(abs(worst) > fstate[fi + B_MAX_POS * n]):
        return _reject(istate, journal, ts_ns, POSITION_NET)
    # O(1): F_GROSS and B_EXPO are kept up to date wherever their inputs change
    gross = notional + fstate[F_GROSS]
    inst_e = fstate[fi + B_EXPO * n]
    inst_exposure = notional + inst_e
    if _unlikely(gross > fstate[F_MAX_GROSS]):
        return _reject(istate, journal, ts_ns, POSITION_GROSS)
    equity = fstate[F_CAPITAL] + pnl
    max_conc = fstate[F_MAX_CONC]
    if _unlikely(max_conc < np.inf and inst_exposure > max_conc * equity):
        return _reject(istate, journal, ts_ns, CONCENTRATION)
    margin_rate = fstate[F_MARGIN_RATE]
    if _unlikely(margin_rate > 0.0 and gross * margin_rate > equity):
        return _reject(istate, journal, ts_ns, MARGIN)
    if _unlikely(istate[I_N_OPEN] >= istate[I_MAX_OPEN]):
        return _reject(istate, journal, ts_ns, MAX_OPEN_ORDERS)
    # a limit price on our side of the own quote passes on one compare (NO_ASK/NO_BID
    # are beyond any price); a crossing price or a market order takes the exact test
    if side == 1:
        own_ask = istate[ii + J_OWN_ASK * n]
        if _unlikely(px_tick >= own_ask or order_type != LIMIT):
            if own_ask != NO_ASK and (order_type == MARKET or px_tick >= own_ask):
                return _reject(istate, journal, ts_ns, SELF_TRADE)
    else:
        own_bid = istate[ii + J_OWN_BID * n]
        if _unlikely(px_tick <= own_bid or order_type != LIMIT):
            if own_bid != NO_BID and (order_type == MARKET or px_tick <= own_bid):
                return _reject(istate, journal, ts_ns, SELF_TRADE)
    ord_on = istate[I_ORD_RATE] > 0
    ord_left = 0
    if ord_on:
        ord_left = _left(istate, I_ORD_CREDIT, I_ORD_TS, I_ORD_RATE, I_ORD_CAP, I_ORD_FULL_NS, ts_ns)
        if _unlikely(ord_left < 0):
            return _reject(istate, journal, ts_ns, ORDER_RATE)
    msg_on = istate[I_MSG_RATE] > 0
    msg_left = 0
    if msg_on:
        msg_left = _left(istate, I_MSG_CREDIT, I_MSG_TS, I_MSG_RATE, I_MSG_CAP, I_MSG_FULL_NS, ts_ns)
        if _unlikely(msg_left < 0):
            return _reject(istate, journal, ts_ns, MESSAGE_RATE)
    # approved: charge the throttles and reserve the order (the OMS syncs later)
    # the refill time becomes max(last, ts_ns): a conditional store of ts_ns rather
    # than a stored max, which would chain each check's refill to the last one's
    if ord_on:
        istate[I_ORD_CREDIT] = ord_left
        if ts_ns > istate[I_ORD_TS]:
            istate[I_ORD_TS] = ts_ns
    if msg_on:
        istate[I_MSG_CREDIT] = msg_left
        if ts_ns > istate[I_MSG_TS]:
            istate[I_MSG_TS] = ts_ns
    istate[I_N_OPEN] += 1
    istate[ii + J_N_OPEN * n] += 1
    if side == 1:
        open_buy += qty
        fstate[fi + B_OPEN_BUY * n] = open_buy
        if order_type == LIMIT and px_tick > istate[ii + J_OWN_BID * n]:
            istate[ii + J_OWN_BID * n] = px_tick
    else:
        open_sell += qty
        fstate[fi + B_OPEN_SELL * n] = open_sell
        if order_type == LIMIT and px_tick < istate[ii + J_OWN_ASK * n]:
            istate[ii + J_OWN_ASK * n] = px_tick
    # the exposure's new value from the loaded inputs (the same formula as _exposure)
    e_new = (abs(pos) + open_buy + open_sell) * ref * tick_value
    _add_gross(fstate, n, fi + B_EXPO * n, inst_e, e_new)
    return APPROVED


#: :func:`pretrade_check` for jitted engine loops compiled with ``_nrt=False``: numba
#: inlines it at the IR level, so the call and its argument passing disappear (see
#: the per-check times in ``benchmarks/bench_pretrade.py``). Do not call it from
#: a loop compiled with reference counting (numba's default): the inlined body then
#: increfs and decrefs the state arrays on every branch, and the check costs 30+ ns;
#: call :func:`pretrade_check` there.
pretrade_check_inline = njit(_nrt=False, inline="always")(getattr(pretrade_check, "py_func", pretrade_check))


@njit(cache=True, _nrt=False)
def throttle_message(istate, ts_ns):
    """Charge one non-order message (cancel, modify) to the message bucket.

    Return ``APPROVED`` or ``MESSAGE_RATE``. See :meth:`qlib.risk.PreTradeRisk.message`.
    """
    if istate[I_MSG_RATE] <= 0:
        return APPROVED
    credit = _credit(istate, I_MSG_CREDIT, I_MSG_TS, I_MSG_RATE, I_MSG_CAP, I_MSG_FULL_NS, ts_ns)
    if credit < TOKEN:
        return MESSAGE_RATE
    _charge(istate, I_MSG_CREDIT, I_MSG_TS, credit, ts_ns)
    return APPROVED


@njit(cache=True, _nrt=False)
def cancel_all(istate, out):
    """Write the indices of instruments with open orders into ``out``; return how many.

    See :meth:`qlib.risk.PreTradeRisk.cancel_all_intents`.
    """
    n = istate[I_N]
    k = 0
    for i in range(n):
        if istate[I_HDR + J_N_OPEN * n + i] > 0 and k < out.shape[0]:
            out[k] = i
            k += 1
    return k


@njit(cache=True, _nrt=False, inline="always")
def _set_collar_band(istate, fstate, n, inst, ref):
    """Set ``J_PX_LO``/``J_PX_HI`` of one instrument from its reference ``ref``.

    With ``b = floor(collar * ref)`` (the check's float product), an integer price
    ``p`` has ``|p - ref| > collar * ref`` exactly when ``p < ref - b`` or ``p > ref + b``
    while ``b`` and ``ref`` are exact float64 integers; the check then needs two integer
    compares. Otherwise (no reference yet, or a band of ``2**52`` ticks or more) the
    band is empty (``lo = INT64_MAX``, ``hi = INT64_MIN``) so every price takes the exact
    test; with the collar off (``inf``) it is everything (no price leaves it).
    """
    collar = fstate[F_COLLAR]
    lo = INT64_MAX
    hi = INT64_MIN
    if not (collar < np.inf):
        lo = INT64_MIN
        hi = INT64_MAX
    elif ref > 0 and ref < _BAND_EXACT:
        band = collar * ref
        if band < _BAND_EXACT:
            b = np.int64(band)  # band >= 0: truncation is the floor
            lo = ref - b
            hi = ref + b
    istate[I_HDR + inst + J_PX_LO * n] = lo
    istate[I_HDR + inst + J_PX_HI * n] = hi


@njit(cache=True, _nrt=False)
def refresh_derived(istate, fstate):
    """Recompute every derived entry from the limits and the state (set-up).

    ``F_PNL_FLOOR``, ``I_MAX_OPEN`` and each instrument's collar band; the kernels keep
    them up to date afterwards (the limits do not change after set-up).
    """
    n = istate[I_N]
    refresh_pnl_floor(fstate)
    m = fstate[F_MAX_OPEN]
    # n_open >= m  <=>  n_open >= ceil(m) for an integer count
    istate[I_MAX_OPEN] = np.int64(np.ceil(m)) if m < 2.0**62 else INT64_MAX
    for i in range(n):
        _set_collar_band(istate, fstate, n, i, istate[I_HDR + i + J_REF_PX * n])


@njit(cache=True, _nrt=False)
def update_reference(istate, fstate, inst, ts_ns, ref_px_tick):
    """Set an instrument's reference price and its timestamp (and its exposure, O(1)).

    See :meth:`qlib.risk.PreTradeRisk.on_market_data`.
    """
    n = istate[I_N]
    istate[I_HDR + J_REF_PX * n + inst] = ref_px_tick
    istate[I_HDR + J_MD_TS * n + inst] = ts_ns
    _set_collar_band(istate, fstate, n, inst, ref_px_tick)
    _update_gross(istate, fstate, n, inst)


@njit(cache=True, _nrt=False)
def mark_pnl(istate, fstate, journal, ts_ns, pnl):
    """Record the P&L, raise its high-water mark and trip the circuit breakers.

    Return ``APPROVED``, ``DAILY_LOSS`` or ``DRAWDOWN``. See
    :meth:`qlib.risk.PreTradeRisk.mark_pnl`.
    """
    fstate[F_PNL] = pnl
    fstate[F_PNL_HWM] = max(fstate[F_PNL_HWM], pnl)
    refresh_pnl_floor(fstate)
    if fstate[F_PNL_DAY] - pnl > fstate[F_MAX_DAILY_LOSS]:
        trip_kill(istate, journal, ts_ns, KR_DAILY_LOSS)
        return DAILY_LOSS
    if fstate[F_PNL_HWM] - pnl > fstate[F_MAX_DRAWDOWN]:
        trip_kill(istate, journal, ts_ns, KR_DRAWDOWN)
        return DRAWDOWN
    return APPROVED


@njit(cache=True, _nrt=False)
def observe_latency(istate, journal, ts_ns, latency_ns):
    """Trip the kill switch when ``latency_ns`` exceeds the limit; return 1 if it did.

    See :meth:`qlib.risk.PreTradeRisk.observe_latency`.
    """
    if latency_ns > istate[I_MAX_LATENCY]:
        return trip_kill(istate, journal, ts_ns, KR_LATENCY_SPIKE)
    return 0


@njit(cache=True, _nrt=False)
def sync_orders(istate, fstate, inst, n_open, open_buy_qty, open_sell_qty, own_bid, own_ask):
    """Overwrite one instrument's open-order state with the OMS's view.

    See :meth:`qlib.risk.PreTradeRisk.sync_orders`.
    """
    n = istate[I_N]
    ii = I_HDR + inst
    istate[I_N_OPEN] += n_open - istate[ii + J_N_OPEN * n]
    istate[ii + J_N_OPEN * n] = n_open
    istate[ii + J_OWN_BID * n] = own_bid
    istate[ii + J_OWN_ASK * n] = own_ask
    fstate[F_HDR + inst + B_OPEN_BUY * n] = open_buy_qty
    fstate[F_HDR + inst + B_OPEN_SELL * n] = open_sell_qty
    _resum_gross(istate, fstate, n, inst)


@njit(cache=True, _nrt=False)
def set_position(istate, fstate, inst, pos_qty):
    """Set one instrument's signed filled position. See :meth:`PreTradeRisk.set_position`."""
    n = istate[I_N]
    fstate[F_HDR + inst + B_POS * n] = pos_qty
    _resum_gross(istate, fstate, n, inst)
