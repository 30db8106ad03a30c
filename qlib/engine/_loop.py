r"""The jitted backtest loop (kernels only: arrays and scalars in, status codes out).

Public wrapper: :func:`qlib.engine.backtest`. The design is in :mod:`qlib.engine.backtest`;
the state arrays' columns are named in :mod:`qlib.engine._state`.

One loop advances five clocks in time order, with this priority on equal times:

1. an event at exchange time ``ts_exch`` is applied to the *exchange* book, and to our
   resting orders (queue position, fills);
2. a message of ours reaches the exchange (a new order, a cancel);
3. an event at local time ``ts_local`` is applied to the *local* book;
4. a response reaches the strategy (ack, reject, fill, cancel ack, expiry) and goes
   through the order state machine and the portfolio;
5. the strategy's timer fires: it sees the local view and returns intents, which pass
   the pre-trade risk kernel and become messages to the exchange;

and an interval record is written on its own timer. The strategy only ever reads the
local book and local order states, so it cannot see an event before its local time.

The sides only meet through messages, so each advances in runs: the exchange book up
to the next message arrival or decision (a decision can send a message, never one due
before it), lagging entirely while nothing of ours is there or on its way; the local
book up to the decision or record that reads it; the messages due together, and the
responses due before the next decision, in one step each. The result equals the
event-by-event order above (the parity and no-look-ahead tests check it).

On price-level data :mod:`qlib.engine._variants` compiles a copy of :func:`run_loop`
without reference counting whose books are applied inline (:func:`_apply_l2`); on
order-level data this module's loop runs as written (typed-dict order maps).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book import _l2_kernels as _b
from qlib.engine import _latency_kernels as _lat
from qlib.engine import _queue_kernels as _q
from qlib.engine._state import (
    C_DEC_INTERVAL,
    C_DEPTH_LEVELS,
    C_FEED_HL,
    C_IMPACT,
    C_L2_ONLY,
    C_LAT_KIND,
    C_PARTIAL,
    C_Q_KIND,
    C_REC_INTERVAL,
    C_SIGMA_HL,
    C_STRATEGY,
    CAP_FILLS,
    CAP_JOURNAL,
    CAP_LBOOK,
    CAP_LOTS,
    CAP_MSGS,
    CAP_ORDERS,
    CAP_RECORDS,
    CAP_WORK,
    CAP_XBOOK,
    F_EDGE,
    F_FEED_LAT,
    F_FEES,
    F_LAST_MID,
    F_MAKER_QTY,
    F_PREV_MID,
    F_SIG_A,
    F_SIG_DT,
    F_SIGMA2,
    F_TAKER_QTY,
    F_TRADED_QTY,
    G_CAPITAL,
    G_FEE_PER_QTY,
    G_LOT,
    G_TICK_SIZE,
    G_TICK_VALUE,
    I_CAP_WHAT,
    I_EX,
    I_KILL_SEEN,
    I_L3_SEQ,
    I_LAST_MD_TS,
    I_LAST_REC_TS,
    I_LO,
    I_ML_HEAD,
    I_ML_LAST,
    I_ML_LEN,
    I_MX_HEAD,
    I_MX_LAST,
    I_MX_LEN,
    I_N_CANCEL,
    I_N_DEC,
    I_N_EXCH_EVENTS,
    I_N_FILLS,
    I_N_MSG_OUT,
    I_N_ORDERS,
    I_N_REC,
    I_N_REJECT_RISK,
    I_N_REJECT_VENUE,
    I_N_RESTING,
    I_N_SUBMIT,
    I_N_WORK,
    I_NEXT_DEC,
    I_NEXT_REC,
    I_PREV_DEC_TS,
    I_STOP,
    I_TS_END,
    I_TS_START,
    M_CANCEL,
    M_SUBMIT,
    ML_DUE,
    ML_KIND,
    ML_LIQ,
    ML_PX,
    ML_SLOT,
    ML_TS_EXCH,
    MLF_MID,
    MLF_QTY,
    MX_DUE,
    MX_KIND,
    MX_SLOT,
    OQ_CUM,
    OQ_FRONT,
    OQ_LEAVES,
    OQ_LVL,
    OX_ENTRY,
    OX_TS_ARRIVE,
    OX_TS_SENT,
    OX_XSTATE,
    R_ACK,
    R_CANCEL_ACK,
    R_CANCEL_REJECT,
    R_EXPIRE,
    R_FILL,
    R_REJECT,
    WALK_LEVELS,
    XS_DONE,
    XS_NONE,
    XS_RESTING,
)
from qlib.enums import (
    EventFlag,
    EventKind,
    LiquiditySide,
    OrderAction,
    OrderEvent,
    OrderStatus,
    OrderType,
    QueueModelKind,
    Status,
    TimeInForce,
)
from qlib.oms import _kernels as _oms
from qlib.risk import _pretrade_kernels as _risk
from qlib.strategy._kernels import decide_builtin

_INF_TS = np.iinfo(np.int64).max
_LN2 = float(np.log(2.0))
_replay = _b.replay
_apply_one = _b.apply_other
_L3_FIFO = int(QueueModelKind.L3_FIFO)
_ADD = int(EventKind.ADD)
_CANCEL = int(EventKind.CANCEL)
_DELETE = int(EventKind.DELETE)
_EXECUTE = int(EventKind.EXECUTE)
_MODIFY = int(EventKind.MODIFY)
_TRADE = int(EventKind.TRADE)
_DEPTH = int(EventKind.DEPTH)
_SNAPSHOT = int(EventKind.SNAPSHOT)
_CLEAR = int(EventKind.CLEAR)
_QUOTE = int(EventKind.QUOTE)
_SUMMARY = np.uint8(EventFlag.SUMMARY)
_GTX = int(TimeInForce.GTX)
_IOC = int(TimeInForce.IOC)
_FOK = int(TimeInForce.FOK)
_GTC = int(TimeInForce.GTC)
_LIMIT = int(OrderType.LIMIT)
_MARKET = int(OrderType.MARKET)
_MAKER = int(LiquiditySide.MAKER)
_TAKER = int(LiquiditySide.TAKER)
_APPROVED = _risk.APPROVED
_OK = int(Status.OK)
_CAPACITY = int(Status.CAPACITY)

_PN = int(OrderStatus.PENDING_NEW)
_LIVE = int(OrderStatus.LIVE)
_PF = int(OrderStatus.PARTIALLY_FILLED)
_PC = int(OrderStatus.PENDING_CANCEL)
_PR = int(OrderStatus.PENDING_REPLACE)


@njit(cache=True, _nrt=False)
def decide(kind, view, params, state, out):
    """The strategy call of the cached loop: the built-in kernels (see :mod:`qlib.strategy`)."""
    return decide_builtin(kind, view, params, state, out)



# ------------------------------------------------------------------ book readers
# The engine's own readers of the L2 book, compiled without reference counting: a
# reference-counted kernel taking the book costs ~50 ns a call in its prologue and
# epilogue (measured), these cost nothing beyond their loads. Same semantics as
# qlib.book._l2_kernels.best_px / level_qty / top_levels.
@njit(cache=True, _nrt=False)
def _best(book, s):
    """``(px_tick, qty)`` of the best level of side index ``s``; ``(0, 0.0)`` when empty."""
    k = book.hdr[s, _b.H_BEST]
    if k == _b.EMPTY:
        return np.int64(0), 0.0
    q = book.win[s, k & (book.win.shape[1] - 1)]
    return (k if s == 0 else -k), q


@njit(cache=True, _nrt=False)
def _level(book, side, px_tick):
    """Quantity at ``px_tick`` on ``side`` (+1 bid, -1 ask); 0.0 when there is no level."""
    s = 0 if side > 0 else 1
    key = px_tick if side > 0 else -px_tick
    w = book.win.shape[1]
    off = key - book.hdr[s, _b.H_LO]
    if off >= 0 and off < w:
        return book.win[s, key & (w - 1)]
    if off < 0:
        n = book.hdr[s, _b.H_NOVF]
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if book.ovf_key[s, mid] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < n and book.ovf_key[s, lo] == key:
            return book.ovf_qty[s, lo]
    return 0.0


@njit(cache=True, _nrt=False)
def _top(book, s, levels, out_px, out_qty):
    """The ``levels`` best levels of side index ``s`` into ``out_px[0, s]``/``out_qty[0, s]``."""
    win = book.win
    mask = win.shape[1] - 1
    k = book.hdr[s, _b.H_BEST]
    j = 0
    if k != _b.EMPTY:
        lo = book.hdr[s, _b.H_LO]
        sign = 1 if s == 0 else -1
        while j < levels and k >= lo:
            q = win[s, k & mask]
            if q != 0.0:
                out_px[0, s, j] = sign * k
                out_qty[0, s, j] = q
                j += 1
            k -= 1
        i = book.hdr[s, _b.H_NOVF] - 1
        while j < levels and i >= 0:
            out_px[0, s, j] = sign * book.ovf_key[s, i]
            out_qty[0, s, j] = book.ovf_qty[s, i]
            j += 1
            i -= 1
    return j

# ------------------------------------------------------------------ small helpers
@njit(cache=True, _nrt=False, inline="always")
def _is_working(state):
    return state == _PN or state == _LIVE or state == _PF or state == _PC or state == _PR


@njit(cache=True, _nrt=False)
def _mid2(book):
    """Twice the mid in ticks (an integer), or 0 when a side is empty."""
    bb, _ = _best(book, 0)
    ba, _ = _best(book, 1)
    if bb == 0 or ba == 0:
        return np.int64(0)
    return bb + ba


@njit(cache=True, _nrt=False)
def _push_local(ist, mli, mlf, due, kind, slot, px, liq, ts_exch, qty, mid):
    """Queue a response to the strategy (FIFO: never due before the previous one)."""
    cap = mli.shape[0]
    if ist[I_ML_LEN] >= cap:
        return False
    due = max(due, ist[I_ML_LAST])
    ist[I_ML_LAST] = due
    k = (ist[I_ML_HEAD] + ist[I_ML_LEN]) % cap
    mli[k, ML_DUE] = due
    mli[k, ML_KIND] = kind
    mli[k, ML_SLOT] = slot
    mli[k, ML_PX] = px
    mli[k, ML_LIQ] = liq
    mli[k, ML_TS_EXCH] = ts_exch
    mlf[k, MLF_QTY] = qty
    mlf[k, MLF_MID] = mid
    ist[I_ML_LEN] += 1
    return True


@njit(cache=True, _nrt=False)
def _push_exch(ist, mxi, due, kind, slot):
    """Queue a message to the exchange (FIFO, as on one session)."""
    cap = mxi.shape[0]
    if ist[I_MX_LEN] >= cap:
        return False
    due = max(due, ist[I_MX_LAST])
    ist[I_MX_LAST] = due
    k = (ist[I_MX_HEAD] + ist[I_MX_LEN]) % cap
    mxi[k, MX_DUE] = due
    mxi[k, MX_KIND] = kind
    mxi[k, MX_SLOT] = slot
    ist[I_MX_LEN] += 1
    ist[I_N_MSG_OUT] += 1
    return True


# ------------------------------------------------------------------ exchange side
@njit(cache=True, _nrt=False)
def _exch_fill(ist, fst, orders, oq, ox, mli, mlf, slot, px, qty, liq, ts, resp_ns, mid2):
    """Execute ``qty`` of our order ``slot`` at the exchange and report it."""
    oq[slot, OQ_LEAVES] -= qty
    if oq[slot, OQ_LEAVES] <= 1e-9 * orders[slot]["qty"]:
        oq[slot, OQ_LEAVES] = 0.0
        if ox[slot, OX_XSTATE] == XS_RESTING:
            ist[I_N_RESTING] -= 1
        ox[slot, OX_XSTATE] = XS_DONE
    mid = mid2 * 0.5
    fst[F_EDGE] += orders[slot]["side"] * qty * (mid - px) if mid2 > 0 else 0.0
    return _push_local(ist, mli, mlf, ts + resp_ns, R_FILL, slot, px, liq, ts, qty, mid)


@njit(cache=True, _nrt=False)
def _on_trade(ist, fst, orders, oq, ox, work, mli, mlf, q_kind, qp, lot, aggr_side, px, qty,
              ts, resp_ns, mid2, l3_ahead_of_slot, partial):
    """A market trade of ``qty`` at ``px`` by an aggressor on ``aggr_side``: our resting
    orders on the other side at a worse price for the aggressor fill fully, those at
    ``px`` advance in their queue (hftbacktest's partial-fill exchange).

    ``l3_ahead_of_slot`` (L3_FIFO only): -1 for an L2 trade print; else the entry
    counter of the L3 order executed, which tells whether it was ahead of ours.
    ``partial == 0``: an order the queue model releases fills completely (hftbacktest's
    no-partial-fill exchange) instead of by the released quantity.
    """
    ok = True
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        if ox[slot, OX_XSTATE] != XS_RESTING:
            continue
        o = orders[slot]
        if o["side"] != -aggr_side:
            continue
        opx = o["px_tick"]
        through = (aggr_side < 0 and px < opx) or (aggr_side > 0 and px > opx)
        if through:
            ok &= _exch_fill(ist, fst, orders, oq, ox, mli, mlf, slot, opx, oq[slot, OQ_LEAVES],
                             _MAKER, ts, resp_ns, mid2)
        elif px == opx:
            if q_kind == _L3_FIFO:
                if l3_ahead_of_slot < 0:
                    continue  # a print that is not a visible L3 execution: no queue change
                if l3_ahead_of_slot < ox[slot, OX_ENTRY]:
                    oq[slot, OQ_FRONT] = max(oq[slot, OQ_FRONT] - qty, 0.0)
                    continue
                # an order behind ours traded: ours would have traded first
                if oq[slot, OQ_FRONT] <= 0.0:
                    f = min(qty, oq[slot, OQ_LEAVES])
                    f = np.floor(f / lot + 1e-9) * lot
                    if f > 0.0:
                        ok &= _exch_fill(ist, fst, orders, oq, ox, mli, mlf, slot, opx, f, _MAKER,
                                         ts, resp_ns, mid2)
            else:
                _q.queue_on_trade(q_kind, qp, oq, slot, qty)
                f = _q.queue_filled_qty(q_kind, qp, oq, slot, lot)
                if f > 0.0:
                    f = min(f, oq[slot, OQ_LEAVES]) if partial != 0 else oq[slot, OQ_LEAVES]
                    ok &= _exch_fill(ist, fst, orders, oq, ox, mli, mlf, slot, opx, f, _MAKER, ts,
                                     resp_ns, mid2)
    return ok


@njit(cache=True, _nrt=False)
def _on_depth(ist, orders, oq, ox, work, q_kind, qp, side, px, prev_qty, new_qty):
    """The level ``px`` on ``side`` changed from ``prev_qty`` to ``new_qty``."""
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        if ox[slot, OX_XSTATE] != XS_RESTING:
            continue
        o = orders[slot]
        if o["side"] == side and o["px_tick"] == px:
            if q_kind == _L3_FIFO:
                oq[slot, OQ_FRONT] = min(oq[slot, OQ_FRONT], new_qty)
            else:
                _q.queue_on_depth(q_kind, qp, oq, slot, prev_qty, new_qty)
            oq[slot, OQ_LVL] = new_qty


@njit(cache=True, _nrt=False)
def _on_l3_removal(ist, orders, oq, ox, work, side, px, qty, entry):
    """L3_FIFO: ``qty`` left the level ``px`` by a cancel of an order with ``entry``."""
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        if ox[slot, OX_XSTATE] != XS_RESTING:
            continue
        o = orders[slot]
        if o["side"] == side and o["px_tick"] == px and entry < ox[slot, OX_ENTRY]:
            oq[slot, OQ_FRONT] = max(oq[slot, OQ_FRONT] - qty, 0.0)


@njit(cache=True, _nrt=False)
def _check_crossed(ist, fst, orders, oq, ox, work, xbook, mli, mlf, ts, resp_ns, mid2):
    """Fill our resting orders that the exchange book's opposite best has reached."""
    bb, _ = _best(xbook, 0)
    ba, _ = _best(xbook, 1)
    ok = True
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        if ox[slot, OX_XSTATE] != XS_RESTING:
            continue
        o = orders[slot]
        px = o["px_tick"]
        if (o["side"] > 0 and ba != 0 and ba <= px) or (o["side"] < 0 and bb != 0 and bb >= px):
            ok &= _exch_fill(ist, fst, orders, oq, ox, mli, mlf, slot, px, oq[slot, OQ_LEAVES],
                             _MAKER, ts, resp_ns, mid2)
    return ok


@njit(cache=True, _nrt=False)
def _arrive_submit(ist, fst, icfg, orders, oq, ox, xbook, mli, mlf, lvl_px, lvl_qty, qp, slot,
                   ts, resp_ns, lot):
    """Our new order reaches the exchange: take liquidity if it crosses, else rest."""
    o = orders[slot]
    side = np.int64(o["side"])
    px = o["px_tick"]
    qty = o["qty"]
    tif = np.int64(o["tif"])
    otype = np.int64(o["order_type"])
    s = 0 if side > 0 else 1  # our side index
    opp = 1 - s
    best_opp, _ = _best(xbook, opp)
    mid2 = _mid2(xbook)
    crosses = best_opp != 0 and (otype == _MARKET or (side > 0 and px >= best_opp)
                                 or (side < 0 and px <= best_opp))
    ox[slot, OX_TS_ARRIVE] = ts
    oq[slot, OQ_LEAVES] = qty
    if otype == _MARKET and best_opp == 0:
        ox[slot, OX_XSTATE] = XS_DONE
        oq[slot, OQ_LEAVES] = 0.0
        ok = _push_local(ist, mli, mlf, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
        return ok & _push_local(ist, mli, mlf, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
    if crosses and tif == _GTX:
        ox[slot, OX_XSTATE] = XS_DONE
        oq[slot, OQ_LEAVES] = 0.0
        ist[I_N_REJECT_VENUE] += 1
        return _push_local(ist, mli, mlf, ts + resp_ns, R_REJECT, slot, 0, 0, ts, 0.0, 0.0)
    ok = True
    if crosses:
        n = _top(xbook, opp, WALK_LEVELS, lvl_px, lvl_qty)
        avail = 0.0
        for j in range(n):
            lp = lvl_px[0, opp, j]
            if otype == _LIMIT and ((side > 0 and lp > px) or (side < 0 and lp < px)):
                break
            avail += lvl_qty[0, opp, j]
        if tif == _FOK and avail < qty - 1e-9 * qty:
            ox[slot, OX_XSTATE] = XS_DONE
            oq[slot, OQ_LEAVES] = 0.0
            ok &= _push_local(ist, mli, mlf, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
            return ok & _push_local(ist, mli, mlf, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
        ok &= _push_local(ist, mli, mlf, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
        for j in range(n):
            if oq[slot, OQ_LEAVES] <= 0.0:
                break
            lp = lvl_px[0, opp, j]
            if otype == _LIMIT and ((side > 0 and lp > px) or (side < 0 and lp < px)):
                break
            take = min(oq[slot, OQ_LEAVES], lvl_qty[0, opp, j])
            if take <= 0.0:
                continue
            ox[slot, OX_XSTATE] = XS_NONE  # not resting while it takes
            ok &= _exch_fill(ist, fst, orders, oq, ox, mli, mlf, slot, lp, take, _TAKER, ts,
                             resp_ns, mid2)
            if icfg[C_IMPACT] != 0:
                st = _b.set_level(xbook, opp, lp if opp == 0 else -lp, lvl_qty[0, opp, j] - take)
                if st != _OK:
                    ok = False
        if oq[slot, OQ_LEAVES] <= 0.0:
            ox[slot, OX_XSTATE] = XS_DONE
            return ok
        if otype == _MARKET or tif == _IOC or tif == _FOK:
            ox[slot, OX_XSTATE] = XS_DONE
            oq[slot, OQ_LEAVES] = 0.0
            return ok & _push_local(ist, mli, mlf, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
    else:
        if otype == _LIMIT and (tif == _IOC or tif == _FOK):
            ox[slot, OX_XSTATE] = XS_DONE
            oq[slot, OQ_LEAVES] = 0.0
            ok &= _push_local(ist, mli, mlf, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
            return ok & _push_local(ist, mli, mlf, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
        ok &= _push_local(ist, mli, mlf, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
    # rest the remainder at px, behind the level's current quantity
    ox[slot, OX_XSTATE] = XS_RESTING
    ist[I_N_RESTING] += 1
    lq = _level(xbook, side, px)
    _q.queue_new(icfg[C_Q_KIND], qp, oq, slot, lq)
    oq[slot, OQ_LVL] = lq
    ist[I_L3_SEQ] += 1
    ox[slot, OX_ENTRY] = ist[I_L3_SEQ]
    return ok


@njit(cache=True, _nrt=False)
def _arrive_cancel(ist, orders, oq, ox, mli, mlf, slot, ts, resp_ns):
    """Our cancel reaches the exchange."""
    if ox[slot, OX_XSTATE] == XS_RESTING:
        ox[slot, OX_XSTATE] = XS_DONE
        oq[slot, OQ_LEAVES] = 0.0
        ist[I_N_RESTING] -= 1
        return _push_local(ist, mli, mlf, ts + resp_ns, R_CANCEL_ACK, slot, 0, 0, ts, 0.0, 0.0)
    return _push_local(ist, mli, mlf, ts + resp_ns, R_CANCEL_REJECT, slot, 0, 0, ts, 0.0, 0.0)



# ------------------------------------------------------------------ the L2 book, inline
# On price-level data the engine applies events with these instead of the book's replay
# kernel: numba passes a call's array arguments flattened on the stack (a push per word:
# ~130 of them for a replay call, measured ~150 ns a call), so the hot path, a depth
# update inside the window, is written out here and inlined into the loop; the cold
# paths (a level outside the window, the best removed with nothing near it, clears and
# snapshots) call the book's kernels. Same semantics as qlib.book._l2_kernels.replay.
_LAST_FLAG = np.uint8(EventFlag.LAST)


@njit(cache=True, _nrt=False)
def _apply_other_l2(book, kind, side, px_tick, qty, flags):
    """:func:`qlib.book._l2_kernels.apply_other` for price-level kinds only (no order map)."""
    if kind == _TRADE or kind == _QUOTE or kind >= EventKind.HALT:
        if kind > EventKind.RESUME_TRADING:
            return np.int64(Status.UNKNOWN_KIND)
        return np.int64(_OK)
    if not np.isfinite(qty):
        return np.int64(Status.NON_FINITE)
    if qty < 0.0:
        return np.int64(Status.NEGATIVE_QTY)
    if kind == _CLEAR:
        if side == 0:
            _b.clear_side(book, 0)
            _b.clear_side(book, 1)
        elif side == 1:
            _b.clear_side(book, 0)
        elif side == -1:
            _b.clear_side(book, 1)
        else:
            return np.int64(Status.UNKNOWN_KIND)
        return np.int64(_OK)
    if kind == _DEPTH or kind == _SNAPSHOT:
        if side == 1:
            _b.set_level(book, 0, px_tick, qty)
        elif side == -1:
            _b.set_level(book, 1, -px_tick, qty)
        else:
            return np.int64(Status.UNKNOWN_KIND)
        if kind == _SNAPSHOT and (flags & _LAST_FLAG) != 0:
            bb = book.hdr[0, _b.H_BEST]
            ba = book.hdr[1, _b.H_BEST]
            if bb != _b.EMPTY and ba != _b.EMPTY and bb >= -ba:
                return np.int64(Status.CROSSED)
        return np.int64(_OK)
    return np.int64(Status.UNKNOWN_KIND)


@njit(cache=True, _nrt=False, inline="always")
def _apply_l2(book, e):
    """Apply one price-level event to ``book``; return a Status (inlined: see above)."""
    kind = e["kind"]
    if kind == _DEPTH:
        q = e["qty"]
        side = np.int64(e["side"])
        if not ((q >= 0.0) & (q < np.inf) & (side * side == 1)):
            if q < 0.0:
                return np.int64(Status.NEGATIVE_QTY)
            if not (q < np.inf):
                return np.int64(Status.NON_FINITE)
            return np.int64(Status.UNKNOWN_KIND)
        s = (1 - side) >> 1
        key = e["px_tick"] * side
        win = book.win
        hdr = book.hdr
        w = win.shape[1]
        off = key - hdr[s, _b.H_LO]
        best = hdr[s, _b.H_BEST]
        if off >= 0 and off < w:
            win[s, key & (w - 1)] = q
            if key >= best:
                if q > 0.0:
                    if best == _b.EMPTY:
                        _b.set_level(book, s, key, q)  # first level: centre the window
                    else:
                        hdr[s, _b.H_BEST] = key
                elif key == best:
                    lo = hdr[s, _b.H_LO]
                    nb = key - 1
                    while nb >= lo and win[s, nb & (w - 1)] == 0.0:
                        nb -= 1
                    if nb - lo >= (w >> 3):
                        hdr[s, _b.H_BEST] = nb
                    else:
                        _b.set_level(book, s, key, q)  # the cold search of the book
        else:
            _b.set_level(book, s, key, q)
        return np.int64(_OK)
    if kind == _TRADE:
        return np.int64(_OK)
    return _apply_other_l2(book, np.int64(kind), np.int64(e["side"]), e["px_tick"], e["qty"],
                           e["flags"])


@njit(cache=True, _nrt=False, inline="always")
def _apply_range_fast(ev, a, b, book, orders, no_bbo, no_rows, no_px, no_qty):
    """:func:`_apply_range` for price-level data, inline (the L2 variant's ``_apply_range``).

    The caller guarantees overflow room (``_book_room``) for ``b - a`` events.
    """
    for i in range(a, b):
        st = _apply_l2(book, ev[i])
        if st != _OK:
            return st, i
    return np.int64(_OK), b


@njit(cache=True, _nrt=False, inline="always")
def _local_to_fast(ev, ts_loc, stop, bound, ist, fst, feed_a, lbook, lorders, view, no_bbo,
                   no_rows, no_px, no_qty):
    """:func:`_local_to` for price-level data, inline (the L2 variant's ``_local_to``)."""
    j = ist[I_LO]
    if j >= stop or ts_loc[j] > bound:
        return np.int64(_OK), np.int64(-1)
    last_trade = np.int64(0)
    lat = fst[F_FEED_LAT]
    st = np.int64(_OK)
    row = np.int64(-1)
    while j < stop and ts_loc[j] <= bound:
        if not _book_room(lbook, _SCAN_MAX):
            ist[I_CAP_WHAT] = CAP_LBOOK
            st = np.int64(_CAPACITY)
            row = j
            break
        end = min(stop, j + _SCAN_MAX)
        while j < end and ts_loc[j] <= bound:
            e = ev[j]
            s2 = _apply_l2(lbook, e)
            if s2 != _OK:
                st = s2
                row = j
                break
            if e["kind"] == _TRADE:
                last_trade = e["px_tick"]
            lat += feed_a * ((ts_loc[j] - e["ts_exch"]) - lat)
            j += 1
        if st != _OK:
            break
    if j > ist[I_LO]:
        fst[F_FEED_LAT] = lat
        ist[I_LAST_MD_TS] = ts_loc[j - 1]
        if last_trade != 0:
            vr = view[0]
            vr["last_trade_px_tick"] = last_trade
    ist[I_LO] = j
    return st, row


# ------------------------------------------------------------------ advancing the books
#: Events scanned per call of the L2 fast path (bounds what one overflow check covers).
_SCAN_MAX = 4096


@njit(cache=True, _nrt=False)
def _book_room(book, extra):
    """True when both overflows can take a full window plus ``extra`` more levels."""
    lim = book.ovf_key.shape[1] - 2 * book.win.shape[1] - 2 - extra
    return book.hdr[0, _b.H_NOVF] <= lim and book.hdr[1, _b.H_NOVF] <= lim


@njit(cache=True)
def _apply_range(ev, a, b, book, orders, no_bbo, no_rows, no_px, no_qty):
    """Apply ``ev[a:b]`` to a book with the flat replay kernel; ``(status, row)``."""
    if b <= a:
        return _OK, b
    st, row, _ = _replay(ev, a, b, book, orders, no_bbo, no_rows, 0, no_px, no_qty)
    return st, row


@njit(cache=True)
def _exch_event(ev, i, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders, l3entry, orders, oq,
                ox, work, mli, mlf, lot):
    """Apply event ``i`` to the exchange book with every hook on our resting orders.

    The general path (any event kind, L3 queue positions); ``(status, row)``.
    """
    if not _book_room(xbook, 0):
        ist[I_CAP_WHAT] = CAP_XBOOK
        return _CAPACITY, i
    q_kind = icfg[C_Q_KIND]
    e = ev[i]
    t_ex = e["ts_exch"]
    kind = np.int64(e["kind"])
    side = np.int64(e["side"])
    px = e["px_tick"]
    qty = e["qty"]
    if ist[I_N_RESTING] > 0:
        resp = _lat.response_latency(icfg[C_LAT_KIND], lat_p, lat_log, OrderAction.SUBMIT, t_ex,
                                     np.int64(fst[F_FEED_LAT]))
        mid2 = _mid2(xbook)
        ok = True
        if kind == _TRADE and (e["flags"] & _SUMMARY) == 0:
            ok = _on_trade(ist, fst, orders, oq, ox, work, mli, mlf, q_kind, qp, lot, side, px, qty,
                           t_ex, resp, mid2, -1, icfg[C_PARTIAL])
        elif kind == _EXECUTE:
            ent = np.int64(0)
            if q_kind == _L3_FIFO:
                oid = e["order_id"]
                ent = l3entry[oid] if oid in l3entry else np.int64(0)
            ok = _on_trade(ist, fst, orders, oq, ox, work, mli, mlf, q_kind, qp, lot, -side, px,
                           qty, t_ex, resp, mid2, ent, icfg[C_PARTIAL])
        if q_kind == _L3_FIFO and (kind == _CANCEL or kind == _DELETE or kind == _MODIFY):
            oid = e["order_id"]
            if oid in xorders:
                rec = xorders[oid]
                ent = l3entry[oid] if oid in l3entry else np.int64(0)
                gone = rec[2] if kind != _CANCEL else min(qty, rec[2])
                _on_l3_removal(ist, orders, oq, ox, work, rec[0], rec[1], gone, ent)
            elif kind != _MODIFY and side != 0:
                # an order the map does not know (resting before the data's first snapshot,
                # or a level given without ids): it was there before ours, so ahead of us
                _on_l3_removal(ist, orders, oq, ox, work, side, px, qty, np.int64(0))
        track = kind != _TRADE and kind < EventKind.QUOTE and kind != _CLEAR and side != 0
        prev = _level(xbook, side, px) if track else 0.0
        st = _b.apply_event(xbook, xorders, e)
        if st != _OK:
            return st, i
        if track:
            _on_depth(ist, orders, oq, ox, work, q_kind, qp, side, px, prev,
                      _level(xbook, side, px))
        elif kind == _CLEAR or kind == _SNAPSHOT:
            _refresh_levels(ist, orders, oq, ox, work, xbook)
        ok &= _check_crossed(ist, fst, orders, oq, ox, work, xbook, mli, mlf, t_ex, resp,
                             _mid2(xbook))
        if not ok:
            ist[I_CAP_WHAT] = CAP_MSGS
            return _CAPACITY, i
    else:
        st = _b.apply_event(xbook, xorders, e)
        if st != _OK:
            return st, i
    if q_kind == _L3_FIFO and ist[I_N_RESTING] > 0 and e["order_id"] != 0:
        if kind == _ADD or kind == _MODIFY or kind == _SNAPSHOT:
            ist[I_L3_SEQ] += 1
            l3entry[e["order_id"]] = ist[I_L3_SEQ]
        elif kind == _DELETE and e["order_id"] in l3entry:
            del l3entry[e["order_id"]]
    ist[I_EX] = i + 1
    ist[I_N_EXCH_EVENTS] += 1
    return _OK, -1


def _exch_event_l2_body(ev, i, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders, l3entry,
                        orders, oq, ox, work, mli, mlf, lot):
    """:func:`_exch_event` for price-level data (no order maps): compiled only as the
    L2 variant's ``_exch_event`` (:mod:`qlib.engine._variants`), where ``_apply_one``
    is the map-free ``apply_other``."""
    if not _book_room(xbook, 0):
        ist[I_CAP_WHAT] = CAP_XBOOK
        return _CAPACITY, i
    q_kind = icfg[C_Q_KIND]
    e = ev[i]
    t_ex = e["ts_exch"]
    kind = np.int64(e["kind"])
    side = np.int64(e["side"])
    px = e["px_tick"]
    qty = e["qty"]
    resp = _lat.response_latency(icfg[C_LAT_KIND], lat_p, lat_log, OrderAction.SUBMIT, t_ex,
                                 np.int64(fst[F_FEED_LAT]))
    ok = True
    if ist[I_N_RESTING] > 0 and kind == _TRADE and (e["flags"] & _SUMMARY) == 0:
        ok = _on_trade(ist, fst, orders, oq, ox, work, mli, mlf, q_kind, qp, lot, side, px, qty,
                       t_ex, resp, _mid2(xbook), -1, icfg[C_PARTIAL])
    track = (kind == _DEPTH or kind == _SNAPSHOT) and side != 0
    prev = _level(xbook, side, px) if track else 0.0
    st = _apply_one(xbook, xorders, kind, e["side"], px, qty, e["order_id"], e["flags"])
    if st != _OK:
        return st, i
    if ist[I_N_RESTING] > 0:
        if track:
            _on_depth(ist, orders, oq, ox, work, q_kind, qp, side, px, prev,
                      _level(xbook, side, px))
        elif kind == _CLEAR:
            _refresh_levels(ist, orders, oq, ox, work, xbook)
        ok &= _check_crossed(ist, fst, orders, oq, ox, work, xbook, mli, mlf, t_ex, resp,
                             _mid2(xbook))
    if not ok:
        ist[I_CAP_WHAT] = CAP_MSGS
        return _CAPACITY, i
    ist[I_EX] = i + 1
    ist[I_N_EXCH_EVENTS] += 1
    return _OK, -1



@njit(cache=True, _nrt=False)
def _refresh_levels(ist, orders, oq, ox, work, xbook):
    """Re-read the level at each resting order's price (after a clear or a snapshot row)."""
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        if ox[slot, OX_XSTATE] == XS_RESTING:
            o = orders[slot]
            lq = _level(xbook, np.int64(o["side"]), o["px_tick"])
            oq[slot, OQ_FRONT] = min(oq[slot, OQ_FRONT], lq)
            oq[slot, OQ_LVL] = lq


@njit(cache=True)
def _exch_scan_l2(ev, stop, bound, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders, l3entry,
                  orders, oq, ox, work, mli, mlf, lot, no_bbo, no_rows, no_px, no_qty):
    """L2 events with our orders resting: the fast path.

    A depth update at a resting order's price moves its queue estimate from the level
    quantity we last saw there (``OQ_LVL``) to the new one, with no book access; the
    book itself is updated in runs by the flat replay kernel. Only the events that can
    fill an order (a trade at or through its price, an opposite level at or through it)
    and the rare kinds (clear, snapshot) flush the run and take the general path.
    """
    if not _book_room(xbook, _SCAN_MAX):
        ist[I_CAP_WHAT] = CAP_XBOOK
        return _CAPACITY, ist[I_EX]
    q_kind = icfg[C_Q_KIND]
    i = ist[I_EX]
    a = i
    end = min(stop, i + _SCAN_MAX)
    n_work = ist[I_N_WORK]
    while i < end and ist[I_N_RESTING] > 0:
        e = ev[i]
        if e["ts_exch"] > bound:
            break
        kind = e["kind"]
        if kind == _DEPTH:
            side = e["side"]
            px = e["px_tick"]
            q = e["qty"]
            cross = False
            for w in range(n_work):
                slot = work[w]
                if ox[slot, OX_XSTATE] != XS_RESTING:
                    continue
                o = orders[slot]
                os_ = o["side"]
                opx = o["px_tick"]
                if os_ == side:
                    if opx == px:
                        _q.queue_on_depth(q_kind, qp, oq, slot, oq[slot, OQ_LVL], q)
                        oq[slot, OQ_LVL] = q
                elif q > 0.0 and ((os_ > 0 and px <= opx) or (os_ < 0 and px >= opx)):
                    cross = True
            if cross:
                st, row = _apply_range(ev, a, i + 1, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
                if st != _OK:
                    return st, row
                a = i + 1
                resp = _lat.response_latency(icfg[C_LAT_KIND], lat_p, lat_log, OrderAction.SUBMIT,
                                             e["ts_exch"], np.int64(fst[F_FEED_LAT]))
                if not _check_crossed(ist, fst, orders, oq, ox, work, xbook, mli, mlf, e["ts_exch"],
                                      resp, _mid2(xbook)):
                    ist[I_EX] = a
                    ist[I_CAP_WHAT] = CAP_MSGS
                    return _CAPACITY, -1
        elif kind == _TRADE:
            if (e["flags"] & _SUMMARY) == 0:
                aggr = e["side"]
                px = e["px_tick"]
                hit = False
                for w in range(n_work):
                    slot = work[w]
                    if ox[slot, OX_XSTATE] != XS_RESTING:
                        continue
                    o = orders[slot]
                    if o["side"] == -aggr and ((aggr < 0 and px <= o["px_tick"])
                                               or (aggr > 0 and px >= o["px_tick"])):
                        hit = True
                if hit:
                    st, row = _apply_range(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
                    if st != _OK:
                        return st, row
                    a = i  # a trade print leaves the book as it is
                    resp = _lat.response_latency(icfg[C_LAT_KIND], lat_p, lat_log,
                                                 OrderAction.SUBMIT, e["ts_exch"],
                                                 np.int64(fst[F_FEED_LAT]))
                    if not _on_trade(ist, fst, orders, oq, ox, work, mli, mlf, q_kind, qp, lot, aggr,
                                     px, e["qty"], e["ts_exch"], resp, _mid2(xbook), -1,
                                     icfg[C_PARTIAL]):
                        ist[I_EX] = i + 1
                        ist[I_CAP_WHAT] = CAP_MSGS
                        return _CAPACITY, -1
        elif kind == _QUOTE or kind >= EventKind.HALT:
            pass
        else:
            st, row = _apply_range(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
            if st != _OK:
                return st, row
            ist[I_N_EXCH_EVENTS] += i - ist[I_EX]
            ist[I_EX] = i
            st, row = _exch_event(ev, i, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders,
                                  l3entry, orders, oq, ox, work, mli, mlf, lot)
            if st != _OK:
                return st, row
            a = i + 1
        i += 1
    st, row = _apply_range(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
    if st != _OK:
        return st, row
    ist[I_N_EXCH_EVENTS] += i - ist[I_EX]
    ist[I_EX] = i
    return _OK, -1


@njit(cache=True, _nrt=False)
def _local_end(ts_loc, stop, i, bound):
    """First event index at or after ``i`` whose local time is after ``bound``."""
    j = i
    while j < stop and ts_loc[j] <= bound:
        j += 1
    return j


@njit(cache=True, _nrt=False)
def _local_seen(ev, ts_loc, i, j, ist, fst, feed_a, view):
    """Bookkeeping of the local events ``i..j-1`` once applied: feed latency, last trade."""
    last_trade = np.int64(0)
    lat = fst[F_FEED_LAT]
    for r in range(i, j):
        e = ev[r]
        k = e["kind"]
        if k == _TRADE or k == _EXECUTE:
            last_trade = e["px_tick"]
        lat += feed_a * ((ts_loc[r] - e["ts_exch"]) - lat)
    if j > i:
        fst[F_FEED_LAT] = lat
        ist[I_LAST_MD_TS] = ts_loc[j - 1]
        if last_trade != 0:
            vr = view[0]
            vr["last_trade_px_tick"] = last_trade
    ist[I_LO] = j


@njit(cache=True, _nrt=False)
def _exch_end(ev, stop, i, bound):
    """First event index at or after ``i`` whose exchange time is after ``bound``."""
    j = i
    while j < stop and ev[j]["ts_exch"] <= bound:
        j += 1
    return j


@njit(cache=True)
def _local_to(ev, ts_loc, stop, bound, ist, fst, feed_a, lbook, lorders, view, no_bbo, no_rows,
              no_px, no_qty):
    """Apply the events whose local time is ``<= bound`` to the local book; ``(status, row)``.

    On ``CAPACITY`` the rows before ``row`` are applied and accounted for.
    """
    i = ist[I_LO]
    j = _local_end(ts_loc, stop, i, bound)
    if j == i:
        return _OK, -1
    st, row, _ = _replay(ev, i, j, lbook, lorders, no_bbo, no_rows, 0, no_px, no_qty)
    if st != _OK:
        if st != _CAPACITY:
            return st, row
        ist[I_CAP_WHAT] = CAP_LBOOK
        _local_seen(ev, ts_loc, i, row, ist, fst, feed_a, view)
        return st, row
    _local_seen(ev, ts_loc, i, j, ist, fst, feed_a, view)
    return _OK, -1


# ------------------------------------------------------------------ local side
@njit(cache=True, _nrt=False)
def _sync_risk(ist, orders, work, r_ist, r_fst):
    """Give the pre-trade risk state the OMS's view of our working orders."""
    n_open = 0
    ob = 0.0
    os_ = 0.0
    own_bid = _risk.NO_BID
    own_ask = _risk.NO_ASK
    for w in range(ist[I_N_WORK]):
        o = orders[work[w]]
        if not _is_working(o["state"]):
            continue
        n_open += 1
        leaves = o["qty"] - o["filled_qty"]
        # an order whose cancel is in flight still counts as open quantity, but is not
        # a self-trade risk for new orders (the strategy has already replaced it)
        stp = o["order_type"] == _LIMIT and o["state"] != _PC
        if o["side"] > 0:
            ob += leaves
            if stp and o["px_tick"] > own_bid:
                own_bid = o["px_tick"]
        else:
            os_ += leaves
            if stp and o["px_tick"] < own_ask:
                own_ask = o["px_tick"]
    _risk.sync_orders(r_ist, r_fst, 0, n_open, ob, os_, own_bid, own_ask)


@njit(cache=True, _nrt=False)
def _compact_work(ist, orders, work):
    """Drop orders in a terminal state from the working list (order kept)."""
    k = 0
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        if _is_working(orders[slot]["state"]):
            work[k] = slot
            k += 1
    ist[I_N_WORK] = k


@njit(cache=True, _nrt=False)
def _on_response(ist, fst, fcfg, orders, table, journal, jlen, mli, mlf, k, positions, lots_qty,
                 lots_px, cash, fills, r_ist, r_fst, r_journal, ts):
    """Apply one response to the order state machine and the portfolio; return a Status."""
    kind = mli[k, ML_KIND]
    slot = mli[k, ML_SLOT]
    st = _OK
    if kind == R_ACK:
        st = _oms.order_event(table, orders, slot, OrderEvent.ACK, ts, 0.0, 0, journal, jlen)
        _risk.observe_latency(r_ist, r_journal, ts, ts - orders[slot]["ts_created"])
    elif kind == R_REJECT:
        st = _oms.order_event(table, orders, slot, OrderEvent.REJECT, ts, 0.0, 0, journal, jlen)
    elif kind == R_CANCEL_ACK:
        st = _oms.order_event(table, orders, slot, OrderEvent.CANCEL_ACK, ts, 0.0, 0, journal, jlen)
    elif kind == R_CANCEL_REJECT:
        st = _oms.order_event(table, orders, slot, OrderEvent.CANCEL_REJECT, ts, 0.0, 0, journal,
                              jlen)
    elif kind == R_EXPIRE:
        st = _oms.order_event(table, orders, slot, OrderEvent.EXPIRE, ts, 0.0, 0, journal, jlen)
    elif kind == R_FILL:
        qty = mlf[k, MLF_QTY]
        px = mli[k, ML_PX]
        liq = mli[k, ML_LIQ]
        side = orders[slot]["side"]
        st = _oms.order_event(table, orders, slot, OrderEvent.FILL, ts, qty, px, journal, jlen)
        if st != _OK:
            return st
        fees0 = positions[0]["fees"]
        st = _oms.portfolio_fill(positions, lots_qty, lots_px, cash, 0, side, qty, px, liq, ts)
        if st != _OK:
            return st
        fee = positions[0]["fees"] - fees0
        extra = qty * fcfg[G_FEE_PER_QTY]
        if extra != 0.0:
            cash[0] -= extra
            positions[0]["fees"] += extra
            fee += extra
        fst[F_FEES] += fee
        fst[F_TRADED_QTY] += qty
        if liq == _MAKER:
            fst[F_MAKER_QTY] += qty
        else:
            fst[F_TAKER_QTY] += qty
        n = ist[I_N_FILLS]
        f = fills[n]
        f["ts_exch"] = mli[k, ML_TS_EXCH]
        f["ts_local"] = ts
        f["order_id"] = orders[slot]["order_id"]
        f["px_tick"] = px
        f["qty"] = qty
        f["fee"] = fee
        f["mid_tick"] = mlf[k, MLF_MID]
        f["position"] = positions[0]["qty"]
        f["side"] = side
        f["liquidity"] = liq
        ist[I_N_FILLS] = n + 1
        _risk.set_position(r_ist, r_fst, 0, positions[0]["qty"])
    return st


@njit(cache=True, _nrt=False)
def _equity(fcfg, positions, cash, mid_tick):
    return cash[0] + positions[0]["qty"] * mid_tick * fcfg[G_TICK_VALUE]


@njit(cache=True, _nrt=False, inline="always")
def _fill_view(ist, fst, icfg, fcfg, lbook, lvl_px, lvl_qty, positions, cash, orders, work, view,
               r_ist, ts):
    """Write the strategy's local view at ``ts``."""
    v = view[0]
    v["ts_local"] = ts
    v["ts_start"] = ist[I_TS_START]
    v["ts_end"] = ist[I_TS_END]
    bb, bq = _best(lbook, 0)
    ba, aq = _best(lbook, 1)
    v["bid_px_tick"] = bb
    v["ask_px_tick"] = ba
    v["bid_qty"] = bq
    v["ask_qty"] = aq
    nl = icfg[C_DEPTH_LEVELS]
    db = bq
    da = aq
    if nl > 1:
        # depth within nl ticks of each best (inclusive): a bounded walk of the ring
        if bb != 0:
            for d in range(1, nl):
                db += _level(lbook, 1, bb - d)
        if ba != 0:
            for d in range(1, nl):
                da += _level(lbook, -1, ba + d)
    v["bid_depth"] = db
    v["ask_depth"] = da
    if bb != 0 and ba != 0:
        fst[F_LAST_MID] = 0.5 * (bb + ba)
    mid = fst[F_LAST_MID]
    v["mid_tick"] = mid
    # sigma: EWMA of squared mid changes per second between decisions
    prev_ts = ist[I_PREV_DEC_TS]
    if prev_ts > 0 and ts > prev_ts and mid > 0.0 and fst[F_PREV_MID] > 0.0:
        dt = (ts - prev_ts) * 1e-9
        if fst[F_SIG_DT] != dt:  # decisions are periodic: the weight is computed once
            fst[F_SIG_DT] = dt
            fst[F_SIG_A] = 1.0 - np.exp(-_LN2 * (ts - prev_ts) / icfg[C_SIGMA_HL])
        a = fst[F_SIG_A]
        dm = mid - fst[F_PREV_MID]
        fst[F_SIGMA2] = (1.0 - a) * fst[F_SIGMA2] + a * dm * dm / dt
    ist[I_PREV_DEC_TS] = ts
    fst[F_PREV_MID] = mid
    v["sigma_tick"] = np.sqrt(fst[F_SIGMA2])
    v["position"] = positions[0]["qty"]
    v["cash"] = cash[0]
    v["equity"] = _equity(fcfg, positions, cash, mid)
    ob = 0.0
    os_ = 0.0
    n_open = 0
    for w in range(ist[I_N_WORK]):
        o = orders[work[w]]
        if _is_working(o["state"]):
            n_open += 1
            if o["side"] > 0:
                ob += o["qty"] - o["filled_qty"]
            else:
                os_ += o["qty"] - o["filled_qty"]
    v["open_buy_qty"] = ob
    v["open_sell_qty"] = os_
    v["n_open"] = n_open
    v["tick_size"] = fcfg[G_TICK_SIZE]
    v["lot_size"] = fcfg[G_LOT]
    v["killed"] = r_ist[_risk.I_KILLED]


@njit(cache=True, _nrt=False)
def _new_order(ist, orders, ox, oq, slot, oid, side, px, qty, otype, tif, ts):
    o = orders[slot]
    o["order_id"] = oid
    o["instrument"] = 0
    o["px_tick"] = px if otype == _LIMIT else 0
    o["qty"] = qty
    o["filled_qty"] = 0.0
    o["filled_notional_tick"] = 0.0
    o["pending_px_tick"] = 0
    o["pending_qty"] = 0.0
    o["ts_created"] = ts
    o["ts_last"] = ts
    o["side"] = side
    o["order_type"] = otype
    o["tif"] = tif
    o["state"] = OrderStatus.NEW
    o["resume_state"] = OrderStatus.NEW
    ox[slot, OX_XSTATE] = XS_NONE
    ox[slot, OX_TS_SENT] = ts
    ox[slot, OX_ENTRY] = 0
    ox[slot, OX_TS_ARRIVE] = 0
    oq[slot, OQ_FRONT] = 0.0
    oq[slot, OQ_CUM] = 0.0
    oq[slot, OQ_LEAVES] = 0.0


@njit(cache=True, _nrt=False)
def _send_cancel(ist, icfg, orders, ox, table, journal, jlen, mxi, lat_p, lat_log, fst, slot,
                 r_ist, ts):
    """Send a cancel for ``slot`` if the message throttle allows; return a Status."""
    if _risk.throttle_message(r_ist, ts) != _APPROVED:
        return _OK  # throttled: keep the order, try again at the next decision
    entry, _ = _lat.order_latency(icfg[C_LAT_KIND], lat_p, lat_log, OrderAction.CANCEL, ts,
                                  np.int64(fst[F_FEED_LAT]))
    st = _oms.order_event(table, orders, slot, OrderEvent.CANCEL_REQUEST, ts, 0.0, 0, journal,
                          jlen)
    if st != _OK:
        return st
    ox[slot, OX_TS_SENT] = ts
    ist[I_N_CANCEL] += 1
    entry = max(entry, 0)  # a cancel is never refused by the latency log
    if not _push_exch(ist, mxi, ts + entry, M_CANCEL, slot):
        return _CAPACITY
    return _OK


@njit(cache=True, _nrt=False)
def _reconcile(ist, fst, icfg, orders, ox, oq, work, table, journal, jlen, mxi, mli, mlf,
               lat_p, lat_log, intents, n, used, r_ist, r_fst, r_journal, ts):
    """Turn the strategy's intents into cancels and new orders; return a Status."""
    for j in range(n):
        used[j] = False
    # keep the working orders an intent asks for, cancel the others
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        o = orders[slot]
        stt = o["state"]
        if not (stt == _PN or stt == _LIVE or stt == _PF):
            continue
        keep = False
        for j in range(n):
            it = intents[j]
            if used[j] or it["order_type"] != _LIMIT or not (it["tif"] == _GTC or it["tif"] == _GTX):
                continue
            if it["side"] == o["side"] and it["px_tick"] == o["px_tick"] and it["qty"] == o["qty"]:
                used[j] = True
                keep = True
                break
        if not keep:
            st = _send_cancel(ist, icfg, orders, ox, table, journal, jlen, mxi, lat_p, lat_log,
                              fst, slot, r_ist, ts)
            if st != _OK:
                return st
    _sync_risk(ist, orders, work, r_ist, r_fst)
    # send what no working order covers
    for j in range(n):
        if used[j]:
            continue
        it = intents[j]
        side = np.int64(it["side"])
        px = it["px_tick"]
        qty = it["qty"]
        otype = np.int64(it["order_type"])
        tif = np.int64(it["tif"])
        slot = ist[I_N_ORDERS]
        ist[I_N_ORDERS] = slot + 1
        _new_order(ist, orders, ox, oq, slot, np.uint64(slot + 1), side, px, qty, otype, tif, ts)
        rc = _risk.pretrade_check_inline(r_ist, r_fst, r_journal, 0, side, px, qty, ts, otype)
        if rc != _APPROVED:
            ist[I_N_REJECT_RISK] += 1
            st = _oms.order_event(table, orders, slot, OrderEvent.REJECT, ts, 0.0, 0, journal, jlen)
            if st != _OK:
                return st
            continue
        st = _oms.order_event(table, orders, slot, OrderEvent.SUBMIT, ts, 0.0, 0, journal, jlen)
        if st != _OK:
            return st
        if ist[I_N_WORK] >= work.shape[0]:
            ist[I_CAP_WHAT] = CAP_WORK
            return _CAPACITY
        work[ist[I_N_WORK]] = slot
        ist[I_N_WORK] += 1
        ist[I_N_SUBMIT] += 1
        entry, resp = _lat.order_latency(icfg[C_LAT_KIND], lat_p, lat_log, OrderAction.SUBMIT, ts,
                                         np.int64(fst[F_FEED_LAT]))
        if entry < 0:  # the latency log says the venue refused it
            ist[I_N_REJECT_VENUE] += 1
            ox[slot, OX_XSTATE] = XS_DONE
            if not _push_local(ist, mli, mlf, ts + resp, R_REJECT, slot, 0, 0, ts, 0.0, 0.0):
                return _CAPACITY
            continue
        if not _push_exch(ist, mxi, ts + entry, M_SUBMIT, slot):
            return _CAPACITY
    return _OK


@njit(cache=True, _nrt=False)
def _cancel_all(ist, icfg, orders, ox, work, table, journal, jlen, mxi, lat_p, lat_log, fst,
                r_ist, ts):
    """Kill switch: cancel every working order (ignores the message throttle)."""
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        stt = orders[slot]["state"]
        if stt == _PN or stt == _LIVE or stt == _PF or stt == _PR:
            entry, _ = _lat.order_latency(icfg[C_LAT_KIND], lat_p, lat_log, OrderAction.CANCEL, ts,
                                          np.int64(fst[F_FEED_LAT]))
            st = _oms.order_event(table, orders, slot, OrderEvent.CANCEL_REQUEST, ts, 0.0, 0,
                                  journal, jlen)
            if st != _OK:
                return st
            ist[I_N_CANCEL] += 1
            if not _push_exch(ist, mxi, ts + max(entry, 0), M_CANCEL, slot):
                return _CAPACITY
    return _OK


@njit(cache=True, _nrt=False)
def _record(ist, fst, fcfg, recs, positions, cash, orders, work, lbook, ts):
    n = ist[I_N_REC]
    r = recs[n]
    mid = fst[F_LAST_MID]
    r["ts"] = ts
    r["position"] = positions[0]["qty"]
    r["cash"] = cash[0]
    r["equity"] = _equity(fcfg, positions, cash, mid)
    r["mid_tick"] = mid
    bb, _ = _best(lbook, 0)
    ba, _ = _best(lbook, 1)
    r["spread_tick"] = (ba - bb) if (bb != 0 and ba != 0) else np.nan
    r["fees"] = fst[F_FEES]
    r["traded_qty"] = fst[F_TRADED_QTY]
    qb = np.int64(0)
    qa = np.int64(0)
    n_open = 0
    for w in range(ist[I_N_WORK]):
        o = orders[work[w]]
        if _is_working(o["state"]):
            n_open += 1
            if o["side"] > 0 and o["px_tick"] > qb:
                qb = o["px_tick"]
            elif o["side"] < 0 and (qa == 0 or o["px_tick"] < qa):
                qa = o["px_tick"]
    r["bid_quote_tick"] = qb
    r["ask_quote_tick"] = qa
    r["n_open"] = n_open
    r["n_fills"] = ist[I_N_FILLS]
    ist[I_N_REC] = n + 1
    ist[I_LAST_REC_TS] = ts


# ------------------------------------------------------------------ input preparation
@njit(cache=True, _nrt=False)
def scan_events(ev, synth_flag):
    """One pass over the events for the wrapper: ``(first row whose ts_exch is before the
    previous one or -1, rows of order-level kinds, rows flagged ``synth_flag``)``."""
    bad = -1
    n_l3 = 0
    n_synth = 0
    prev = ev[0]["ts_exch"] if ev.shape[0] > 0 else 0
    for i in range(ev.shape[0]):
        e = ev[i]
        t = e["ts_exch"]
        if t < prev and bad < 0:
            bad = i
        prev = t
        k = e["kind"]
        if k >= _ADD and k <= _MODIFY:
            n_l3 += 1
        if (e["flags"] & synth_flag) != 0:
            n_synth += 1
    return bad, n_l3, n_synth


@njit(cache=True, _nrt=False)
def local_clock(ev, ts_loc):
    """Make ``ts_loc`` a feed's clock in place: at least ``ts_exch``, never decreasing.

    Returns how many rows arrived before the previous one (raised to its time).
    """
    n = 0
    run = np.iinfo(np.int64).min
    for i in range(ts_loc.shape[0]):
        t = max(ts_loc[i], ev[i]["ts_exch"])
        if t < run:
            n += 1
            t = run
        run = t
        ts_loc[i] = t
    return n


# ------------------------------------------------------------------ the loop
@njit(cache=True)
def run_loop(ev, ts_loc, xbook, xorders, lbook, lorders, l3entry, ist, fst, icfg, fcfg,
             lat_p, lat_log, qp, s_params, s_state, view, intents, used,
             orders, table, journal, jlen, ox, oq, work, mxi, mli, mlf,
             positions, lots_qty, lots_px, cash, r_ist, r_fst, r_journal,
             fills, recs, lvl_px, lvl_qty, no_bbo, no_rows, no_px, no_qty):
    """Run the backtest from where ``ist`` says until the end or a full buffer.

    Returns ``(status, row)``: ``OK`` at the end; ``CAPACITY`` with ``ist[I_CAP_WHAT]``
    naming the buffer to grow (nothing half-done: call again after growing); another
    Status with the event row for bad data. See :func:`qlib.engine.backtest`.
    """
    stop = ist[I_STOP]
    lot = fcfg[G_LOT]
    dec_iv = icfg[C_DEC_INTERVAL]
    rec_iv = icfg[C_REC_INTERVAL]
    feed_a = 1.0 - np.exp(-_LN2 / max(icfg[C_FEED_HL], 1))  # per market-data event
    n_int = intents.shape[0]
    while True:
        # room for one more step of every kind
        if jlen[0] + 4 * n_int + 4 * work.shape[0] + 16 > journal.shape[0]:
            ist[I_CAP_WHAT] = CAP_JOURNAL
            return _CAPACITY, -1
        if ist[I_N_ORDERS] + n_int + 1 > orders.shape[0]:
            ist[I_CAP_WHAT] = CAP_ORDERS
            return _CAPACITY, -1
        if ist[I_N_FILLS] + 1 > fills.shape[0]:
            ist[I_CAP_WHAT] = CAP_FILLS
            return _CAPACITY, -1
        if ist[I_N_REC] + 2 > recs.shape[0]:
            ist[I_CAP_WHAT] = CAP_RECORDS
            return _CAPACITY, -1
        if positions[0]["lot_len"] + 2 > lots_qty.shape[1]:
            ist[I_CAP_WHAT] = CAP_LOTS
            return _CAPACITY, -1
        if ist[I_MX_LEN] + n_int + work.shape[0] > mxi.shape[0] or \
                ist[I_ML_LEN] + 4 * WALK_LEVELS + 4 * work.shape[0] > mli.shape[0]:
            ist[I_CAP_WHAT] = CAP_MSGS
            return _CAPACITY, -1
        i_ex = ist[I_EX]
        i_lo = ist[I_LO]
        # the exchange book is only read when an order of ours rests there or is on its
        # way: while neither is the case it lags, and catches up (the same events, in
        # the same order) before the next message reaches it
        idle_x = ist[I_N_RESTING] == 0 and ist[I_MX_LEN] == 0
        if i_lo >= stop and (i_ex >= stop or idle_x):
            break
        t_ex = ev[i_ex]["ts_exch"] if (i_ex < stop and not idle_x) else _INF_TS
        t_mx = mxi[ist[I_MX_HEAD], MX_DUE] if ist[I_MX_LEN] > 0 else _INF_TS
        t_ml = mli[ist[I_ML_HEAD], ML_DUE] if ist[I_ML_LEN] > 0 else _INF_TS
        t_dec = ist[I_NEXT_DEC]
        t_rec = ist[I_NEXT_REC]
        if t_ex <= t_mx and t_ex <= t_dec:
            # 1. the exchange book up to the next time our orders can change, with our
            #    resting orders' queue positions and fills
            bound = min(t_mx, t_dec)
            if ist[I_N_RESTING] == 0:
                # nothing of ours rests: one replay call for the whole run
                j = _exch_end(ev, stop, i_ex, bound)
                st, row = _OK, -1
                if j > i_ex:
                    st, row = _apply_range(ev, i_ex, j, xbook, xorders, no_bbo, no_rows, no_px,
                                           no_qty)
                if st != _OK:
                    ist[I_EX] = row
                    if st == _CAPACITY:
                        ist[I_CAP_WHAT] = CAP_XBOOK
                else:
                    ist[I_N_EXCH_EVENTS] += j - i_ex
                    ist[I_EX] = j
            elif icfg[C_L2_ONLY] != 0:
                st, row = _exch_scan_l2(ev, stop, bound, ist, fst, icfg, lat_p, lat_log, qp,
                                        xbook, xorders, l3entry, orders, oq, ox, work, mli, mlf, lot,
                                        no_bbo, no_rows, no_px, no_qty)
            else:
                st, row = _OK, -1
                while ist[I_EX] < stop and ev[ist[I_EX]]["ts_exch"] <= bound:
                    st, row = _exch_event(ev, ist[I_EX], ist, fst, icfg, lat_p, lat_log, qp,
                                          xbook, xorders, l3entry, orders, oq, ox, work, mli,
                                          mlf, lot)
                    if st != _OK:
                        break
                    if ist[I_N_RESTING] == 0:
                        break
            if st != _OK:
                return st, row
        elif t_mx <= t_ml and t_mx <= t_dec and t_mx <= t_rec:
            # 3. messages of ours reach the exchange: every one due before the next
            #    exchange event (they do not touch the local side, which only sees
            #    their responses, due later)
            while True:
                h = ist[I_MX_HEAD]
                mkind = mxi[h, MX_KIND]
                slot = mxi[h, MX_SLOT]
                t_m = mxi[h, MX_DUE]
                ist[I_MX_HEAD] = (h + 1) % mxi.shape[0]
                ist[I_MX_LEN] -= 1
                action = OrderAction.SUBMIT if mkind == M_SUBMIT else OrderAction.CANCEL
                resp = _lat.response_latency(icfg[C_LAT_KIND], lat_p, lat_log, action, t_m,
                                             np.int64(fst[F_FEED_LAT]))
                if mkind == M_SUBMIT:
                    ok = _arrive_submit(ist, fst, icfg, orders, oq, ox, xbook, mli, mlf, lvl_px,
                                        lvl_qty, qp, slot, t_m, resp, lot)
                else:
                    ok = _arrive_cancel(ist, orders, oq, ox, mli, mlf, slot, t_m, resp)
                if not ok:
                    ist[I_CAP_WHAT] = CAP_MSGS
                    return _CAPACITY, -1
                if ist[I_MX_LEN] == 0 or mxi[ist[I_MX_HEAD], MX_DUE] >= t_ex \
                        or ist[I_ML_LEN] + 2 * WALK_LEVELS + 8 > mli.shape[0]:
                    break
        elif t_ml <= t_dec and t_ml <= t_rec:
            # 4. responses reach the strategy: every one due up to the next decision or
            #    record (nothing else reads what they change)
            bound = min(t_dec, t_rec)
            while True:
                h = ist[I_ML_HEAD]
                t_r = mli[h, ML_DUE]
                ist[I_ML_HEAD] = (h + 1) % mli.shape[0]
                ist[I_ML_LEN] -= 1
                st = _on_response(ist, fst, fcfg, orders, table, journal, jlen, mli, mlf, h,
                                  positions, lots_qty, lots_px, cash, fills, r_ist, r_fst,
                                  r_journal, t_r)
                if st != _OK:
                    return st, -1
                if ist[I_ML_LEN] == 0 or mli[ist[I_ML_HEAD], ML_DUE] > bound \
                        or ist[I_N_FILLS] + 1 > fills.shape[0] \
                        or jlen[0] + 8 > journal.shape[0] \
                        or positions[0]["lot_len"] + 2 > lots_qty.shape[1]:
                    break
            _compact_work(ist, orders, work)
            _sync_risk(ist, orders, work, r_ist, r_fst)
        elif t_dec <= t_rec:
            # 5. the strategy decides, on the local book of every event seen by t_dec
            st, row = _local_to(ev, ts_loc, stop, t_dec, ist, fst, feed_a, lbook, lorders, view,
                                no_bbo, no_rows, no_px, no_qty)
            if st != _OK:
                return st, row
            if ist[I_LO] >= stop and (ist[I_EX] >= stop or idle_x):
                break  # the data ended before this decision
            ist[I_NEXT_DEC] = t_dec + dec_iv
            _fill_view(ist, fst, icfg, fcfg, lbook, lvl_px, lvl_qty, positions, cash, orders,
                       work, view, r_ist, t_dec)
            mid = fst[F_LAST_MID]
            if mid > 0.0:
                _risk.update_reference(r_ist, r_fst, 0, ist[I_LAST_MD_TS], np.int64(np.round(mid)))
                _risk.mark_pnl(r_ist, r_fst, r_journal, t_dec,
                               _equity(fcfg, positions, cash, mid) - fcfg[G_CAPITAL])
            if r_ist[_risk.I_KILLED] != 0:
                if ist[I_KILL_SEEN] == 0:
                    ist[I_KILL_SEEN] = 1
                    st = _cancel_all(ist, icfg, orders, ox, work, table, journal, jlen, mxi, lat_p,
                                     lat_log, fst, r_ist, t_dec)
                    if st != _OK:
                        return st, -1
            else:
                ist[I_KILL_SEEN] = 0
                ist[I_N_DEC] += 1
                n = decide(icfg[C_STRATEGY], view, s_params, s_state, intents)
                n = min(n, n_int)
                if n > 0 or (n == 0 and ist[I_N_WORK] > 0):  # 0 with nothing working: no-op
                    st = _reconcile(ist, fst, icfg, orders, ox, oq, work, table, journal, jlen, mxi,
                                    mli, mlf, lat_p, lat_log, intents, n, used, r_ist, r_fst,
                                    r_journal, t_dec)
                    if st != _OK:
                        return st, -1
                    _sync_risk(ist, orders, work, r_ist, r_fst)
        else:
            # 6. an interval record
            st, row = _local_to(ev, ts_loc, stop, t_rec, ist, fst, feed_a, lbook, lorders, view,
                                no_bbo, no_rows, no_px, no_qty)
            if st != _OK:
                return st, row
            if ist[I_LO] >= stop and (ist[I_EX] >= stop or idle_x):
                break
            ist[I_NEXT_REC] = t_rec + rec_iv
            _record(ist, fst, fcfg, recs, positions, cash, orders, work, lbook, t_rec)
    # the final record, at the last local event
    last = ts_loc[stop - 1] if stop > 0 else 0
    if ist[I_LAST_REC_TS] < last:
        _record(ist, fst, fcfg, recs, positions, cash, orders, work, lbook, last)
    return _OK, -1
