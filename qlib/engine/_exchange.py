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
    CAP_MSGS,
    CAP_XBOOK,
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
def _push_local(es, ml, due, kind, slot, px, liq, ts_exch, qty, mid):
    """Queue a response to the strategy (FIFO: never due before the previous one)."""
    cap = ml.shape[0]
    if es["ml_len"] >= cap:
        return False
    due = max(due, es["ml_last"])
    es["ml_last"] = due
    k = (es["ml_head"] + es["ml_len"]) % cap
    ml[k]["due"] = due
    ml[k]["kind"] = kind
    ml[k]["slot"] = slot
    ml[k]["px_tick"] = px
    ml[k]["liquidity"] = liq
    ml[k]["ts_exch"] = ts_exch
    ml[k]["qty"] = qty
    ml[k]["mid_tick"] = mid
    es["ml_len"] += 1
    return True


@njit(cache=True, _nrt=False)
def _push_exch(es, mx, due, kind, slot):
    """Queue a message to the exchange (FIFO, as on one session)."""
    cap = mx.shape[0]
    if es["mx_len"] >= cap:
        return False
    due = max(due, es["mx_last"])
    es["mx_last"] = due
    k = (es["mx_head"] + es["mx_len"]) % cap
    mx[k]["due"] = due
    mx[k]["kind"] = kind
    mx[k]["slot"] = slot
    es["mx_len"] += 1
    es["n_msg_out"] += 1
    return True


@njit(cache=True, _nrt=False)
def _exch_fill(es, oms, slot, px, qty, liq, ts, resp_ns, mid2):
    """Execute ``qty`` of our order ``slot`` at the exchange and report it."""
    orders, oxs = oms.orders, oms.oxs
    oxs[slot]["leaves"] -= qty
    if oxs[slot]["leaves"] <= 1e-9 * orders[slot]["qty"]:
        oxs[slot]["leaves"] = 0.0
        if oxs[slot]["xstate"] == XS_RESTING:
            es["n_resting"] -= 1
        oxs[slot]["xstate"] = XS_DONE
    mid = mid2 * 0.5
    es["edge"] += orders[slot]["side"] * qty * (mid - px) if mid2 > 0 else 0.0
    return _push_local(es, oms.ml, ts + resp_ns, R_FILL, slot, px, liq, ts, qty, mid)


@njit(cache=True, _nrt=False)
def _on_trade(es, cf, oms, qp, aggr_side, px, qty, ts, resp_ns, mid2, l3_ahead_of_slot):
    """A market trade of ``qty`` at ``px`` by an aggressor on ``aggr_side``: our resting
    orders on the other side at a worse price for the aggressor fill fully, those at
    ``px`` advance in their queue (hftbacktest's partial-fill exchange).

    ``l3_ahead_of_slot`` (L3_FIFO only): -1 for an L2 trade print; else the entry
    counter of the L3 order executed, which tells whether it was ahead of ours.
    ``cf["partial"] == 0``: an order the queue model releases fills completely
    (hftbacktest's no-partial-fill exchange) instead of by the released quantity.
    """
    orders, oxs, work = oms.orders, oms.oxs, oms.work
    q_kind = cf["q_kind"]
    lot = cf["lot"]
    partial = cf["partial"]
    ok = True
    for w in range(es["n_work"]):
        slot = work[w]
        if oxs[slot]["xstate"] != XS_RESTING:
            continue
        o = orders[slot]
        if o["side"] != -aggr_side:
            continue
        opx = o["px_tick"]
        through = (aggr_side < 0 and px < opx) or (aggr_side > 0 and px > opx)
        if through:
            ok &= _exch_fill(es, oms, slot, opx, oxs[slot]["leaves"],
                             _MAKER, ts, resp_ns, mid2)
        elif px == opx:
            if q_kind == _L3_FIFO:
                if l3_ahead_of_slot < 0:
                    continue  # a print that is not a visible L3 execution: no queue change
                if l3_ahead_of_slot < oxs[slot]["entry"]:
                    oxs[slot]["front"] = max(oxs[slot]["front"] - qty, 0.0)
                    continue
                # an order behind ours traded: ours would have traded first
                if oxs[slot]["front"] <= 0.0:
                    f = min(qty, oxs[slot]["leaves"])
                    f = np.floor(f / lot + 1e-9) * lot
                    if f > 0.0:
                        ok &= _exch_fill(es, oms, slot, opx, f, _MAKER,
                                         ts, resp_ns, mid2)
            else:
                _q.order_queue_on_trade(q_kind, qp, oxs, slot, qty)
                f = _q.order_queue_filled_qty(q_kind, qp, oxs, slot, lot)
                if f > 0.0:
                    f = min(f, oxs[slot]["leaves"]) if partial != 0 else oxs[slot]["leaves"]
                    ok &= _exch_fill(es, oms, slot, opx, f, _MAKER, ts,
                                     resp_ns, mid2)
    return ok


@njit(cache=True, _nrt=False)
def _on_depth(es, cf, oms, qp, side, px, prev_qty, new_qty):
    """The level ``px`` on ``side`` changed from ``prev_qty`` to ``new_qty``."""
    orders, oxs, work = oms.orders, oms.oxs, oms.work
    q_kind = cf["q_kind"]
    for w in range(es["n_work"]):
        slot = work[w]
        if oxs[slot]["xstate"] != XS_RESTING:
            continue
        o = orders[slot]
        if o["side"] == side and o["px_tick"] == px:
            if q_kind == _L3_FIFO:
                oxs[slot]["front"] = min(oxs[slot]["front"], new_qty)
            else:
                _q.order_queue_on_depth(q_kind, qp, oxs, slot, prev_qty, new_qty)
            oxs[slot]["lvl"] = new_qty


@njit(cache=True, _nrt=False)
def _on_l3_removal(es, oms, side, px, qty, entry):
    """L3_FIFO: ``qty`` left the level ``px`` by a cancel of an order with ``entry``."""
    orders, oxs, work = oms.orders, oms.oxs, oms.work
    for w in range(es["n_work"]):
        slot = work[w]
        if oxs[slot]["xstate"] != XS_RESTING:
            continue
        o = orders[slot]
        if o["side"] == side and o["px_tick"] == px and entry < oxs[slot]["entry"]:
            oxs[slot]["front"] = max(oxs[slot]["front"] - qty, 0.0)


@njit(cache=True, _nrt=False)
def _check_crossed(es, oms, xbook, ts, resp_ns, mid2):
    """Fill our resting orders that the exchange book's opposite best has reached."""
    orders, oxs, work = oms.orders, oms.oxs, oms.work
    bb, _ = _b.best_px(xbook, 1)
    ba, _ = _b.best_px(xbook, -1)
    ok = True
    for w in range(es["n_work"]):
        slot = work[w]
        if oxs[slot]["xstate"] != XS_RESTING:
            continue
        o = orders[slot]
        px = o["px_tick"]
        if (o["side"] > 0 and ba != 0 and ba <= px) or (o["side"] < 0 and bb != 0 and bb >= px):
            ok &= _exch_fill(es, oms, slot, px, oxs[slot]["leaves"],
                             _MAKER, ts, resp_ns, mid2)
    return ok


@njit(cache=True, _nrt=False)
def _arrive_submit(es, cf, oms, xbook, scratch, qp, slot, ts, resp_ns):
    """Our new order reaches the exchange: take liquidity if it crosses, else rest."""
    orders, oxs, ml = oms.orders, oms.oxs, oms.ml
    lvl_px, lvl_qty = scratch.lvl_px, scratch.lvl_qty
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
    oxs[slot]["ts_arrive"] = ts
    oxs[slot]["leaves"] = qty
    if otype == _MARKET and best_opp == 0:
        oxs[slot]["xstate"] = XS_DONE
        oxs[slot]["leaves"] = 0.0
        ok = _push_local(es, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
        return ok & _push_local(es, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
    if crosses and tif == _GTX:
        oxs[slot]["xstate"] = XS_DONE
        oxs[slot]["leaves"] = 0.0
        es["n_reject_venue"] += 1
        return _push_local(es, ml, ts + resp_ns, R_REJECT, slot, 0, 0, ts, 0.0, 0.0)
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
            oxs[slot]["xstate"] = XS_DONE
            oxs[slot]["leaves"] = 0.0
            ok &= _push_local(es, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
            return ok & _push_local(es, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
        ok &= _push_local(es, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
        for j in range(n):
            if oxs[slot]["leaves"] <= 0.0:
                break
            lp = lvl_px[0, opp, j]
            if otype == _LIMIT and ((side > 0 and lp > px) or (side < 0 and lp < px)):
                break
            take = min(oxs[slot]["leaves"], lvl_qty[0, opp, j])
            if take <= 0.0:
                continue
            oxs[slot]["xstate"] = XS_NONE  # not resting while it takes
            ok &= _exch_fill(es, oms, slot, lp, take, _TAKER, ts,
                             resp_ns, mid2)
            if cf["impact"] != 0:
                # lowers or removes an existing level: never needs overflow room
                _b.set_level(xbook, opp, lp if opp == 0 else -lp, lvl_qty[0, opp, j] - take)
        if oxs[slot]["leaves"] <= 0.0:
            oxs[slot]["xstate"] = XS_DONE
            return ok
        if otype == _MARKET or tif == _IOC or tif == _FOK:
            oxs[slot]["xstate"] = XS_DONE
            oxs[slot]["leaves"] = 0.0
            return ok & _push_local(es, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
    else:
        if otype == _LIMIT and (tif == _IOC or tif == _FOK):
            oxs[slot]["xstate"] = XS_DONE
            oxs[slot]["leaves"] = 0.0
            ok &= _push_local(es, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
            return ok & _push_local(es, ml, ts + resp_ns, R_EXPIRE, slot, 0, 0, ts, 0.0, 0.0)
        ok &= _push_local(es, ml, ts + resp_ns, R_ACK, slot, 0, 0, ts, 0.0, 0.0)
    # rest the remainder at px, behind the level's current quantity
    oxs[slot]["xstate"] = XS_RESTING
    es["n_resting"] += 1
    lq = _b.level_qty(xbook, side, px)
    _q.order_queue_new(cf["q_kind"], qp, oxs, slot, lq)
    oxs[slot]["lvl"] = lq
    es["l3_seq"] += 1
    oxs[slot]["entry"] = es["l3_seq"]
    return ok


@njit(cache=True, _nrt=False)
def _arrive_cancel(es, oms, slot, ts, resp_ns):
    """Our cancel reaches the exchange."""
    oxs, ml = oms.oxs, oms.ml
    if oxs[slot]["xstate"] == XS_RESTING:
        oxs[slot]["xstate"] = XS_DONE
        oxs[slot]["leaves"] = 0.0
        es["n_resting"] -= 1
        return _push_local(es, ml, ts + resp_ns, R_CANCEL_ACK, slot, 0, 0, ts, 0.0, 0.0)
    return _push_local(es, ml, ts + resp_ns, R_CANCEL_REJECT, slot, 0, 0, ts, 0.0, 0.0)


@njit(cache=True)
def _exch_event_l3(ev, i, es, cf, models, books, oms):
    """Apply event ``i`` to the exchange book with every hook on our resting orders.

    Order-level data (any event kind, typed-dict order maps, L3 queue positions);
    ``(status, row)``.
    """
    lat_p, lat_log, qp = models.lat_p, models.lat_log, models.qp
    xbook, xorders, l3entry = books.xbook, books.xorders, books.l3entry
    if not _book_room(xbook, 0):
        es["cap_what"] = CAP_XBOOK
        return _CAPACITY, i
    q_kind = cf["q_kind"]
    e = ev[i]
    t_ex = e["ts_exch"]
    kind = np.int64(e["kind"])
    side = np.int64(e["side"])
    px = e["px_tick"]
    qty = e["qty"]
    if es["n_resting"] > 0:
        resp = _lat.response_latency(cf["lat_kind"], lat_p, lat_log, OrderAction.SUBMIT, t_ex,
                                     np.int64(es["feed_lat"]))
        mid2 = _mid2(xbook)
        ok = True
        if kind == _TRADE and (e["flags"] & _SUMMARY) == 0:
            ok = _on_trade(es, cf, oms, qp, side, px, qty, t_ex, resp, mid2, -1)
        elif kind == _EXECUTE:
            ent = np.int64(0)
            if q_kind == _L3_FIFO:
                oid = e["order_id"]
                ent = l3entry[oid] if oid in l3entry else np.int64(0)
            ok = _on_trade(es, cf, oms, qp, -side, px, qty, t_ex, resp, mid2, ent)
        if q_kind == _L3_FIFO and (kind == _CANCEL or kind == _DELETE or kind == _MODIFY):
            oid = e["order_id"]
            if oid in xorders:
                rec = xorders[oid]
                ent = l3entry[oid] if oid in l3entry else np.int64(0)
                gone = rec[2] if kind != _CANCEL else min(qty, rec[2])
                _on_l3_removal(es, oms, rec[0], rec[1], gone, ent)
            elif kind != _MODIFY and side != 0:
                # an order the map does not know (resting before the data's first snapshot,
                # or a level given without ids): it was there before ours, so ahead of us
                _on_l3_removal(es, oms, side, px, qty, np.int64(0))
        track = kind != _TRADE and kind < EventKind.QUOTE and kind != _CLEAR and side != 0
        prev = _b.level_qty(xbook, side, px) if track else 0.0
        st = _b.apply_event(xbook, xorders, e)
        if st != _OK:
            return st, i
        if track:
            _on_depth(es, cf, oms, qp, side, px, prev, _b.level_qty(xbook, side, px))
        elif kind == _CLEAR or kind == _SNAPSHOT:
            _refresh_levels(es, oms, xbook)
        ok &= _check_crossed(es, oms, xbook, t_ex, resp, _mid2(xbook))
        if not ok:
            es["cap_what"] = CAP_MSGS
            return _CAPACITY, i
    else:
        st = _b.apply_event(xbook, xorders, e)
        if st != _OK:
            return st, i
    if q_kind == _L3_FIFO and es["n_resting"] > 0 and e["order_id"] != 0:
        if kind == _ADD or kind == _MODIFY or kind == _SNAPSHOT:
            es["l3_seq"] += 1
            l3entry[e["order_id"]] = es["l3_seq"]
        elif kind == _DELETE and e["order_id"] in l3entry:
            del l3entry[e["order_id"]]
    es["i_ex"] = i + 1
    es["n_exch_events"] += 1
    return _OK, -1


@njit(cache=True, _nrt=False)
def _exch_event_l2(ev, i, es, cf, models, books, oms):
    """:func:`_exch_event_l3` for price-level data: no order maps, the book applied by
    :func:`qlib.engine._book_io._apply_l2`; called by :func:`_exch_run_l2` for the kinds
    that are not depth updates or trades."""
    lat_p, lat_log, qp = models.lat_p, models.lat_log, models.qp
    xbook = books.xbook
    if not _book_room(xbook, 0):
        es["cap_what"] = CAP_XBOOK
        return _CAPACITY, i
    q_kind = cf["q_kind"]
    e = ev[i]
    t_ex = e["ts_exch"]
    kind = np.int64(e["kind"])
    side = np.int64(e["side"])
    px = e["px_tick"]
    qty = e["qty"]
    resp = _lat.response_latency(cf["lat_kind"], lat_p, lat_log, OrderAction.SUBMIT, t_ex,
                                 np.int64(es["feed_lat"]))
    ok = True
    if es["n_resting"] > 0 and kind == _TRADE and (e["flags"] & _SUMMARY) == 0:
        ok = _on_trade(es, cf, oms, qp, side, px, qty, t_ex, resp, _mid2(xbook), -1)
    track = (kind == _DEPTH or kind == _SNAPSHOT) and side != 0
    prev = _b.level_qty(xbook, side, px) if track else 0.0
    st = _apply_l2(xbook, e)
    if st != _OK:
        return st, i
    if es["n_resting"] > 0:
        if track:
            _on_depth(es, cf, oms, qp, side, px, prev, _b.level_qty(xbook, side, px))
        elif kind == _CLEAR:
            _refresh_levels(es, oms, xbook)
        ok &= _check_crossed(es, oms, xbook, t_ex, resp, _mid2(xbook))
    if not ok:
        es["cap_what"] = CAP_MSGS
        return _CAPACITY, i
    es["i_ex"] = i + 1
    es["n_exch_events"] += 1
    return _OK, -1


@njit(cache=True, _nrt=False)
def _refresh_levels(es, oms, xbook):
    """Re-read the level at each resting order's price (after a clear or a snapshot row)."""
    orders, oxs, work = oms.orders, oms.oxs, oms.work
    for w in range(es["n_work"]):
        slot = work[w]
        if oxs[slot]["xstate"] == XS_RESTING:
            o = orders[slot]
            lq = _b.level_qty(xbook, np.int64(o["side"]), o["px_tick"])
            oxs[slot]["front"] = min(oxs[slot]["front"], lq)
            oxs[slot]["lvl"] = lq


@njit(cache=True)
def _exch_run_l3(ev, bound, es, cf, models, books, oms):
    """Order-level events with our orders resting, up to exchange time ``bound``: one
    :func:`_exch_event_l3` per event, until none of ours rests; ``(status, row)``."""
    stop = es["stop"]
    st, row = _OK, -1
    while es["i_ex"] < stop and ev[es["i_ex"]]["ts_exch"] <= bound:
        st, row = _exch_event_l3(ev, es["i_ex"], es, cf, models, books, oms)
        if st != _OK:
            break
        if es["n_resting"] == 0:
            break
    return st, row


@njit(cache=True, _nrt=False, inline="always")
def _exch_run_l2(ev, bound, es, cf, models, books, oms, scratch):
    """Price-level events with our orders resting, up to exchange time ``bound``.

    A depth update at a resting order's price moves its queue estimate from the level
    quantity we last saw there (its ``lvl``) to the new one, with no book access; the
    book itself is updated in runs
    (:func:`qlib.engine._book_io._apply_range_l2`). Only the events that can
    fill an order (a trade at or through its price, an opposite level at or through it)
    and the rare kinds (clear, snapshot) flush the run and take the general path.
    """
    stop = es["stop"]
    lat_p, lat_log, qp = models.lat_p, models.lat_log, models.qp
    xbook, xorders = books.xbook, books.xorders
    orders, oxs, work = oms.orders, oms.oxs, oms.work
    no_bbo, no_rows, no_px, no_qty = scratch.no_bbo, scratch.no_rows, scratch.no_px, \
        scratch.no_qty
    if not _book_room(xbook, _SCAN_MAX):
        es["cap_what"] = CAP_XBOOK
        return _CAPACITY, es["i_ex"]
    q_kind = cf["q_kind"]
    i = es["i_ex"]
    a = i
    end = min(stop, i + _SCAN_MAX)
    n_work = es["n_work"]
    while i < end and es["n_resting"] > 0:
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
                if oxs[slot]["xstate"] != XS_RESTING:
                    continue
                o = orders[slot]
                os_ = o["side"]
                opx = o["px_tick"]
                if os_ == side:
                    if opx == px:
                        _q.order_queue_on_depth(q_kind, qp, oxs, slot, oxs[slot]["lvl"], q)
                        oxs[slot]["lvl"] = q
                elif q > 0.0 and ((os_ > 0 and px <= opx) or (os_ < 0 and px >= opx)):
                    cross = True
            if cross:
                st, row = _apply_range_l2(ev, a, i + 1, xbook, xorders, no_bbo, no_rows, no_px,
                                          no_qty)
                if st != _OK:
                    return st, row
                a = i + 1
                resp = _lat.response_latency(cf["lat_kind"], lat_p, lat_log, OrderAction.SUBMIT,
                                             e["ts_exch"], np.int64(es["feed_lat"]))
                if not _check_crossed(es, oms, xbook, e["ts_exch"], resp, _mid2(xbook)):
                    es["i_ex"] = a
                    es["cap_what"] = CAP_MSGS
                    return _CAPACITY, -1
        elif kind == _TRADE:
            if (e["flags"] & _SUMMARY) == 0:
                aggr = e["side"]
                px = e["px_tick"]
                hit = False
                for w in range(n_work):
                    slot = work[w]
                    if oxs[slot]["xstate"] != XS_RESTING:
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
                    resp = _lat.response_latency(cf["lat_kind"], lat_p, lat_log,
                                                 OrderAction.SUBMIT, e["ts_exch"],
                                                 np.int64(es["feed_lat"]))
                    if not _on_trade(es, cf, oms, qp, aggr, px, e["qty"], e["ts_exch"], resp,
                                     _mid2(xbook), -1):
                        es["i_ex"] = i + 1
                        es["cap_what"] = CAP_MSGS
                        return _CAPACITY, -1
        elif kind == _QUOTE or kind >= EventKind.HALT:
            pass
        else:
            st, row = _apply_range_l2(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
            if st != _OK:
                return st, row
            es["n_exch_events"] += i - es["i_ex"]
            es["i_ex"] = i
            st, row = _exch_event_l2(ev, i, es, cf, models, books, oms)
            if st != _OK:
                return st, row
            a = i + 1
        i += 1
    st, row = _apply_range_l2(ev, a, i, xbook, xorders, no_bbo, no_rows, no_px, no_qty)
    if st != _OK:
        return st, row
    es["n_exch_events"] += i - es["i_ex"]
    es["i_ex"] = i
    return _OK, -1


@njit(cache=True, _nrt=False)
def _exch_end(ev, stop, i, bound):
    """First event index at or after ``i`` whose exchange time is after ``bound``."""
    j = i
    while j < stop and ev[j]["ts_exch"] <= bound:
        j += 1
    return j
