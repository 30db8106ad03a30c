"""The simulated exchange side of the backtest loop (kernels only): our orders arriving,
resting in the exchange book's queues, filled by trades and by the book moving through
them, cancelled; and the responses queued back to the strategy. See
:mod:`qlib.engine._loop` for the clocks and :mod:`qlib.engine.backtest` for the rules.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book import nb as _b
from qlib.engine import _latency_kernels as _lat
from qlib.engine import _queue_kernels as _q
from qlib.engine._book_io import (
    _apply_l2,
    _apply_range_l2,
    _book_room,
    _mid2,
)
from qlib.engine._consts import (
    _ADD,
    _CANCEL,
    _CAPACITY,
    _CLEAR,
    _DELETE,
    _DEPTH,
    _EXECUTE,
    _FOK,
    _GTX,
    _IOC,
    _L3_FIFO,
    _LIMIT,
    _MAKER,
    _MARKET,
    _MODIFY,
    _OK,
    _QUOTE,
    _SCAN_MAX,
    _SNAPSHOT,
    _SUMMARY,
    _TAKER,
    _TRADE,
)
from qlib.engine._state import (
    C_IMPACT,
    C_LAT_KIND,
    C_PARTIAL,
    C_Q_KIND,
    CAP_MSGS,
    CAP_XBOOK,
    F_EDGE,
    F_FEED_LAT,
    I_CAP_WHAT,
    I_EX,
    I_L3_SEQ,
    I_ML_HEAD,
    I_ML_LAST,
    I_ML_LEN,
    I_MX_HEAD,
    I_MX_LAST,
    I_MX_LEN,
    I_N_EXCH_EVENTS,
    I_N_MSG_OUT,
    I_N_REJECT_VENUE,
    I_N_RESTING,
    I_N_WORK,
    OQ_FRONT,
    OQ_LEAVES,
    OQ_LVL,
    OX_ENTRY,
    OX_TS_ARRIVE,
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
    EventKind,
    OrderAction,
)


@njit(cache=True, _nrt=False)
def _push_local(ist, ml, due, kind, slot, px, liq, ts_exch, qty, mid):
    """Queue a response to the strategy (FIFO: never due before the previous one)."""
    cap = ml.shape[0]
    if ist[I_ML_LEN] >= cap:
        return False
    due = max(due, ist[I_ML_LAST])
    ist[I_ML_LAST] = due
    k = (ist[I_ML_HEAD] + ist[I_ML_LEN]) % cap
    ml[k]["due"] = due
    ml[k]["kind"] = kind
    ml[k]["slot"] = slot
    ml[k]["px_tick"] = px
    ml[k]["liquidity"] = liq
    ml[k]["ts_exch"] = ts_exch
    ml[k]["qty"] = qty
    ml[k]["mid_tick"] = mid
    ist[I_ML_LEN] += 1
    return True


@njit(cache=True, _nrt=False)
def _push_exch(ist, mx, due, kind, slot):
    """Queue a message to the exchange (FIFO, as on one session)."""
    cap = mx.shape[0]
    if ist[I_MX_LEN] >= cap:
        return False
    due = max(due, ist[I_MX_LAST])
    ist[I_MX_LAST] = due
    k = (ist[I_MX_HEAD] + ist[I_MX_LEN]) % cap
    mx[k]["due"] = due
    mx[k]["kind"] = kind
    mx[k]["slot"] = slot
    ist[I_MX_LEN] += 1
    ist[I_N_MSG_OUT] += 1
    return True


@njit(cache=True, _nrt=False)
def _exch_fill(ist, fst, orders, oq, ox, ml, slot, px, qty, liq, ts, resp_ns, mid2):
    """Execute ``qty`` of our order ``slot`` at the exchange and report it."""
    oq[slot, OQ_LEAVES] -= qty
    if oq[slot, OQ_LEAVES] <= 1e-9 * orders[slot]["qty"]:
        oq[slot, OQ_LEAVES] = 0.0
        if ox[slot, OX_XSTATE] == XS_RESTING:
            ist[I_N_RESTING] -= 1
        ox[slot, OX_XSTATE] = XS_DONE
    mid = mid2 * 0.5
    fst[F_EDGE] += orders[slot]["side"] * qty * (mid - px) if mid2 > 0 else 0.0
    return _push_local(ist, ml, ts + resp_ns, R_FILL, slot, px, liq, ts, qty, mid)


@njit(cache=True, _nrt=False)
def _on_trade(ist, fst, orders, oq, ox, work, ml, q_kind, qp, lot, aggr_side, px, qty,
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
            ok &= _exch_fill(ist, fst, orders, oq, ox, ml, slot, opx, oq[slot, OQ_LEAVES],
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
                        ok &= _exch_fill(ist, fst, orders, oq, ox, ml, slot, opx, f, _MAKER,
                                         ts, resp_ns, mid2)
            else:
                _q.queue_on_trade(q_kind, qp, oq, slot, qty)
                f = _q.queue_filled_qty(q_kind, qp, oq, slot, lot)
                if f > 0.0:
                    f = min(f, oq[slot, OQ_LEAVES]) if partial != 0 else oq[slot, OQ_LEAVES]
                    ok &= _exch_fill(ist, fst, orders, oq, ox, ml, slot, opx, f, _MAKER, ts,
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
def _check_crossed(ist, fst, orders, oq, ox, work, xbook, ml, ts, resp_ns, mid2):
    """Fill our resting orders that the exchange book's opposite best has reached."""
    bb, _ = _b.best_px(xbook, 1)
    ba, _ = _b.best_px(xbook, -1)
    ok = True
    for w in range(ist[I_N_WORK]):
        slot = work[w]
        if ox[slot, OX_XSTATE] != XS_RESTING:
            continue
        o = orders[slot]
        px = o["px_tick"]
        if (o["side"] > 0 and ba != 0 and ba <= px) or (o["side"] < 0 and bb != 0 and bb >= px):
            ok &= _exch_fill(ist, fst, orders, oq, ox, ml, slot, px, oq[slot, OQ_LEAVES],
                             _MAKER, ts, resp_ns, mid2)
    return ok


@njit(cache=True, _nrt=False)
def _arrive_submit(ist, fst, icfg, orders, oq, ox, xbook, ml, lvl_px, lvl_qty, qp, slot,
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
    best_opp, _ = _b.best_px(xbook, -side)
    mid2 = _mid2(xbook)
    crosses = best_opp != 0 and (otype == _MARKET or (side > 0 and px >= best_opp)
                                 or (side < 0 and px <= best_opp))
    ox[slot, OX_TS_ARRIVE] = ts
    oq[slot, OQ_LEAVES] = qty
    if otype == _MARKET and best_opp == 0:
        ox[slot, OX_XSTATE] = XS_DONE
        oq[slot, OQ_LEAVES] = 0.0
        ok = _push_local(ist, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
        return ok & _push_local(ist, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
    if crosses and tif == _GTX:
        ox[slot, OX_XSTATE] = XS_DONE
        oq[slot, OQ_LEAVES] = 0.0
        ist[I_N_REJECT_VENUE] += 1
        return _push_local(ist, ml, ts + resp_ns, R_REJECT, slot, 0, 0, ts, 0.0, 0.0)
    ok = True
    if crosses:
        n = _b.top_levels(xbook, opp, WALK_LEVELS, lvl_px, lvl_qty, 0)
        avail = 0.0
        for j in range(n):
            lp = lvl_px[0, opp, j]
            if otype == _LIMIT and ((side > 0 and lp > px) or (side < 0 and lp < px)):
                break
            avail += lvl_qty[0, opp, j]
        if tif == _FOK and avail < qty - 1e-9 * qty:
            ox[slot, OX_XSTATE] = XS_DONE
            oq[slot, OQ_LEAVES] = 0.0
            ok &= _push_local(ist, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
            return ok & _push_local(ist, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
        ok &= _push_local(ist, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
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
            ok &= _exch_fill(ist, fst, orders, oq, ox, ml, slot, lp, take, _TAKER, ts,
                             resp_ns, mid2)
            if icfg[C_IMPACT] != 0:
                # lowers or removes an existing level: never needs overflow room
                _b.set_level(xbook, opp, lp if opp == 0 else -lp, lvl_qty[0, opp, j] - take)
        if oq[slot, OQ_LEAVES] <= 0.0:
            ox[slot, OX_XSTATE] = XS_DONE
            return ok
        if otype == _MARKET or tif == _IOC or tif == _FOK:
            ox[slot, OX_XSTATE] = XS_DONE
            oq[slot, OQ_LEAVES] = 0.0
            return ok & _push_local(ist, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
    else:
        if otype == _LIMIT and (tif == _IOC or tif == _FOK):
            ox[slot, OX_XSTATE] = XS_DONE
            oq[slot, OQ_LEAVES] = 0.0
            ok &= _push_local(ist, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
            return ok & _push_local(ist, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
        ok &= _push_local(ist, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
    # rest the remainder at px, behind the level's current quantity
    ox[slot, OX_XSTATE] = XS_RESTING
    ist[I_N_RESTING] += 1
    lq = _b.level_qty(xbook, side, px)
    _q.queue_new(icfg[C_Q_KIND], qp, oq, slot, lq)
    oq[slot, OQ_LVL] = lq
    ist[I_L3_SEQ] += 1
    ox[slot, OX_ENTRY] = ist[I_L3_SEQ]
    return ok


@njit(cache=True, _nrt=False)
def _arrive_cancel(ist, orders, oq, ox, ml, slot, ts, resp_ns):
    """Our cancel reaches the exchange."""
    if ox[slot, OX_XSTATE] == XS_RESTING:
        ox[slot, OX_XSTATE] = XS_DONE
        oq[slot, OQ_LEAVES] = 0.0
        ist[I_N_RESTING] -= 1
        return _push_local(ist, ml, ts + resp_ns, R_CANCEL_ACK, slot, 0, 0, ts, 0.0, 0.0)
    return _push_local(ist, ml, ts + resp_ns, R_CANCEL_REJECT, slot, 0, 0, ts, 0.0, 0.0)


@njit(cache=True)
def _exch_event_l3(ev, i, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders, l3entry, orders,
                   oq, ox, work, ml, lot):
    """Apply event ``i`` to the exchange book with every hook on our resting orders.

    Order-level data (any event kind, typed-dict order maps, L3 queue positions);
    ``(status, row)``.
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
            ok = _on_trade(ist, fst, orders, oq, ox, work, ml, q_kind, qp, lot, side, px, qty,
                           t_ex, resp, mid2, -1, icfg[C_PARTIAL])
        elif kind == _EXECUTE:
            ent = np.int64(0)
            if q_kind == _L3_FIFO:
                oid = e["order_id"]
                ent = l3entry[oid] if oid in l3entry else np.int64(0)
            ok = _on_trade(ist, fst, orders, oq, ox, work, ml, q_kind, qp, lot, -side, px,
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
        prev = _b.level_qty(xbook, side, px) if track else 0.0
        st = _b.apply_event(xbook, xorders, e)
        if st != _OK:
            return st, i
        if track:
            _on_depth(ist, orders, oq, ox, work, q_kind, qp, side, px, prev,
                      _b.level_qty(xbook, side, px))
        elif kind == _CLEAR or kind == _SNAPSHOT:
            _refresh_levels(ist, orders, oq, ox, work, xbook)
        ok &= _check_crossed(ist, fst, orders, oq, ox, work, xbook, ml, t_ex, resp,
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


@njit(cache=True, _nrt=False)
def _exch_event_l2(ev, i, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders, l3entry,
                   orders, oq, ox, work, ml, lot):
    """:func:`_exch_event_l3` for price-level data: no order maps, the book applied by
    :func:`qlib.engine._book_io._apply_l2`; called by :func:`_exch_run_l2` for the kinds
    that are not depth updates or trades."""
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
        ok = _on_trade(ist, fst, orders, oq, ox, work, ml, q_kind, qp, lot, side, px, qty,
                       t_ex, resp, _mid2(xbook), -1, icfg[C_PARTIAL])
    track = (kind == _DEPTH or kind == _SNAPSHOT) and side != 0
    prev = _b.level_qty(xbook, side, px) if track else 0.0
    st = _apply_l2(xbook, e)
    if st != _OK:
        return st, i
    if ist[I_N_RESTING] > 0:
        if track:
            _on_depth(ist, orders, oq, ox, work, q_kind, qp, side, px, prev,
                      _b.level_qty(xbook, side, px))
        elif kind == _CLEAR:
            _refresh_levels(ist, orders, oq, ox, work, xbook)
        ok &= _check_crossed(ist, fst, orders, oq, ox, work, xbook, ml, t_ex, resp,
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
            lq = _b.level_qty(xbook, np.int64(o["side"]), o["px_tick"])
            oq[slot, OQ_FRONT] = min(oq[slot, OQ_FRONT], lq)
            oq[slot, OQ_LVL] = lq


@njit(cache=True)
def _exch_run_l3(ev, stop, bound, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders, l3entry,
                 orders, oq, ox, work, ml, lot, no_bbo, no_rows, no_px, no_qty):
    """Order-level events with our orders resting, up to exchange time ``bound``: one
    :func:`_exch_event_l3` per event, until none of ours rests; ``(status, row)``."""
    st, row = _OK, -1
    while ist[I_EX] < stop and ev[ist[I_EX]]["ts_exch"] <= bound:
        st, row = _exch_event_l3(ev, ist[I_EX], ist, fst, icfg, lat_p, lat_log, qp, xbook,
                                 xorders, l3entry, orders, oq, ox, work, ml, lot)
        if st != _OK:
            break
        if ist[I_N_RESTING] == 0:
            break
    return st, row


@njit(cache=True, _nrt=False, inline="always")
def _exch_run_l2(ev, stop, bound, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders, l3entry,
                 orders, oq, ox, work, ml, lot, no_bbo, no_rows, no_px, no_qty):
    """Price-level events with our orders resting, up to exchange time ``bound``.

    A depth update at a resting order's price moves its queue estimate from the level
    quantity we last saw there (``OQ_LVL``) to the new one, with no book access; the
    book itself is updated in runs
    (:func:`qlib.engine._book_io._apply_range_l2`). Only the events that can
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
                st, row = _apply_range_l2(ev, a, i + 1, xbook, xorders, no_bbo, no_rows, no_px,
                                          no_qty)
                if st != _OK:
                    return st, row
                a = i + 1
                resp = _lat.response_latency(icfg[C_LAT_KIND], lat_p, lat_log, OrderAction.SUBMIT,
                                             e["ts_exch"], np.int64(fst[F_FEED_LAT]))
                if not _check_crossed(ist, fst, orders, oq, ox, work, xbook, ml, e["ts_exch"],
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
                    st, row = _apply_range_l2(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px,
                                              no_qty)
                    if st != _OK:
                        return st, row
                    a = i  # a trade print leaves the book as it is
                    resp = _lat.response_latency(icfg[C_LAT_KIND], lat_p, lat_log,
                                                 OrderAction.SUBMIT, e["ts_exch"],
                                                 np.int64(fst[F_FEED_LAT]))
                    if not _on_trade(ist, fst, orders, oq, ox, work, ml, q_kind, qp, lot, aggr,
                                     px, e["qty"], e["ts_exch"], resp, _mid2(xbook), -1,
                                     icfg[C_PARTIAL]):
                        ist[I_EX] = i + 1
                        ist[I_CAP_WHAT] = CAP_MSGS
                        return _CAPACITY, -1
        elif kind == _QUOTE or kind >= EventKind.HALT:
            pass
        else:
            st, row = _apply_range_l2(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
            if st != _OK:
                return st, row
            ist[I_N_EXCH_EVENTS] += i - ist[I_EX]
            ist[I_EX] = i
            st, row = _exch_event_l2(ev, i, ist, fst, icfg, lat_p, lat_log, qp, xbook, xorders,
                                     l3entry, orders, oq, ox, work, ml, lot)
            if st != _OK:
                return st, row
            a = i + 1
        i += 1
    st, row = _apply_range_l2(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
    if st != _OK:
        return st, row
    ist[I_N_EXCH_EVENTS] += i - ist[I_EX]
    ist[I_EX] = i
    return _OK, -1


@njit(cache=True, _nrt=False)
def _exch_end(ev, stop, i, bound):
    """First event index at or after ``i`` whose exchange time is after ``bound``."""
    j = i
    while j < stop and ev[j]["ts_exch"] <= bound:
        j += 1
    return j
