"""The strategy side of the backtest loop (kernels only): the local book, the view, the
responses through the order state machine and the portfolio, the intents through the
pre-trade risk kernel, and the interval records. See :mod:`qlib.engine._loop`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.book import nb as _b
from qlib.engine import _latency_kernels as _lat
from qlib.engine import _view
from qlib.engine._book_io import (
    _apply_l2,
    _book_room,
)
from qlib.engine._consts import (
    _APPROVED,
    _CAPACITY,
    _EXECUTE,
    _GTC,
    _GTX,
    _LIMIT,
    _LIVE,
    _LN2,
    _MAKER,
    _OK,
    _PC,
    _PF,
    _PN,
    _PR,
    _DEPTH,
    _SCAN_MAX,
    _SNAPSHOT,
    _TRADE,
)
from qlib.dtypes import VIEW_LEVELS
from qlib.engine._exchange import (
    _push_exch,
    _push_local,
)
from qlib.engine._state import (
    CAP_LBOOK,
    CAP_WORK,
    M_CANCEL,
    M_SUBMIT,
    R_ACK,
    R_CANCEL_ACK,
    R_CANCEL_REJECT,
    R_EXPIRE,
    R_FILL,
    R_REJECT,
    XS_DONE,
    XS_NONE,
)
from qlib.enums import (
    OrderAction,
    OrderEvent,
    OrderStatus,
)
from qlib.oms import nb as _oms
from qlib.risk import nb as _risk


@njit(cache=True, _nrt=False, inline="always")
def _is_working(state):
    return state == _PN or state == _LIVE or state == _PF or state == _PC or state == _PR


@njit(cache=True, _nrt=False)
def _local_end(ts_loc, stop, i, bound):
    """First event index at or after ``i`` whose local time is after ``bound``."""
    j = i
    while j < stop and ts_loc[j] <= bound:
        j += 1
    return j


@njit(cache=True, _nrt=False)
def _local_seen(ev, ts_loc, i, j, es, feed_a, view):
    """Bookkeeping of the local events ``i..j-1`` once applied: feed latency, last trade."""
    last_trade = np.int64(0)
    lat = es["feed_lat"]
    for r in range(i, j):
        e = ev[r]
        k = e["kind"]
        if k == _TRADE or k == _EXECUTE:
            last_trade = e["px_tick"]
        lat += feed_a * ((ts_loc[r] - e["ts_exch"]) - lat)
    if j > i:
        es["feed_lat"] = lat
        es["last_md_ts"] = ts_loc[j - 1]
        if last_trade != 0:
            vr = view[0]
            vr["last_trade_px_tick"] = last_trade
    es["i_lo"] = j


@njit(cache=True)
def _local_to_l3(market, bound, es, feed_a, books, view, scratch, fmask, fstate):
    """Apply the events whose local time is ``<= bound`` to the local book (order-level
    data: the book's replay kernel with its order map); ``(status, row)``.

    On ``CAPACITY`` the rows before ``row`` are applied and accounted for. With named
    features requested (``fmask != 0``) the events are applied one at a time and each
    updates the feature state ``fstate`` (:func:`qlib.engine._view.on_event_outlined`).
    """
    ev, ts_loc, stop = market.ev, market.ts_loc, es["stop"]
    lbook, lorders = books.lbook, books.lorders
    no_bbo, no_rows, no_px, no_qty = scratch.no_bbo, scratch.no_rows, scratch.no_px, \
        scratch.no_qty
    i = es["i_lo"]
    j = _local_end(ts_loc, stop, i, bound)
    if j == i:
        return _OK, -1
    if fmask == 0:
        st, row, _ = _b.replay(ev, i, j, lbook, lorders, no_bbo, no_rows, 0, no_px, no_qty)
    else:
        st, row = _OK, -1
        for r in range(i, j):
            st, row, _ = _b.replay(ev, r, r + 1, lbook, lorders, no_bbo, no_rows, 0, no_px,
                                   no_qty)
            if st != _OK:
                break
            _view.on_event_outlined(ev, ts_loc, r, lbook, fstate, fmask)
    if st != _OK:
        if st != _CAPACITY:
            return st, row
        es["cap_what"] = CAP_LBOOK
        _local_seen(ev, ts_loc, i, row, es, feed_a, view)
        return st, row
    _local_seen(ev, ts_loc, i, j, es, feed_a, view)
    return _OK, -1


@njit(cache=True, _nrt=False, inline="always")
def _local_to_l2(market, bound, es, feed_a, books, view, fmask, fstate, lv_floor):
    """:func:`_local_to_l3` for price-level data, inline: no order map, each event applied
    by :func:`qlib.engine._book_io._apply_l2` (and, with named features requested, passed
    to :func:`qlib.engine._view.on_event`).

    ``lv_floor`` (int64, 2) is lowered to the key (``px_tick`` on the bid, ``-px_tick`` on
    the ask) of every level a ``DEPTH`` or ``SNAPSHOT`` event sets, so that no level of
    the local book lies below it (:func:`_fill_levels`); left alone when it holds
    ``_NO_FLOOR`` (the view shows no levels)."""
    ev, ts_loc, stop = market.ev, market.ts_loc, es["stop"]
    lbook = books.lbook
    fl_b = lv_floor[0]
    fl_a = lv_floor[1]
    track = fl_b != _NO_FLOOR  # levels tracked: the view shows them (_alloc.allocate)
    j = es["i_lo"]
    if j >= stop or ts_loc[j] > bound:
        return np.int64(_OK), np.int64(-1)
    last_trade = np.int64(0)
    lat = es["feed_lat"]
    st = np.int64(_OK)
    row = np.int64(-1)
    while j < stop and ts_loc[j] <= bound:
        if not _book_room(lbook, _SCAN_MAX):
            es["cap_what"] = CAP_LBOOK
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
            if fmask != 0:
                _view.on_event(ev, ts_loc, j, lbook, fstate, fmask)
            kind = e["kind"]
            if kind == _TRADE:
                last_trade = e["px_tick"]
            elif track and (kind == _DEPTH or kind == _SNAPSHOT) and e["qty"] > 0.0:
                sd = e["side"]
                if sd == 1:
                    fl_b = min(fl_b, e["px_tick"])
                elif sd == -1:
                    fl_a = min(fl_a, -e["px_tick"])
            lat += feed_a * ((ts_loc[j] - e["ts_exch"]) - lat)
            j += 1
        if st != _OK:
            break
    lv_floor[0] = fl_b
    lv_floor[1] = fl_a
    if j > es["i_lo"]:
        es["feed_lat"] = lat
        es["last_md_ts"] = ts_loc[j - 1]
        if last_trade != 0:
            vr = view[0]
            vr["last_trade_px_tick"] = last_trade
    es["i_lo"] = j
    return st, row


_NO_FLOOR = np.iinfo(np.int64).min  # lv_floor of a book whose levels are not tracked
_NO_LEVEL = np.iinfo(np.int64).max  # lv_floor of a side with no level


@njit(cache=True, _nrt=False)
def _fill_levels(book, view, lv_floor):
    r"""Write the local book's first :data:`~qlib.dtypes.VIEW_LEVELS` non-empty levels per
    side to the view; same result as :func:`qlib.engine._view.fill_levels`.

    Parameters
    ----------
    book : qlib.book.L2Book
        The local book (read through :func:`qlib.book.nb.level_below` only).
    view : numpy.ndarray
        One-record :data:`~qlib.dtypes.VIEW_DTYPE` array: ``bid_px_l``/``bid_qty_l`` get
        the bids best first, ``ask_px_l``/``ask_qty_l`` the asks, ``0``/``0.0`` past the
        last level.
    lv_floor : numpy.ndarray
        int64 ``(2,)``: per side index, a key at or below every level's key (``px_tick``
        on the bid, ``-px_tick`` on the ask), kept by :func:`_local_to_l2`;
        ``_NO_FLOOR`` (untracked: the walk goes to the end of the side) or
        ``_NO_LEVEL`` (no level set since the side was last found empty).

    Notes
    -----
    :func:`qlib.book.nb.top_levels` reads one window slot per tick from the best down to
    the window's start when a side holds fewer than ``VIEW_LEVELS`` levels: with the
    default 65,536-tick window that is ~57,000 reads per side per decision (~0.12 ms
    measured: the no-order replay of 1e6 synthetic events of
    ``benchmarks/bench_engine_hbt.py``, 231,275 decisions, whose ask side often holds 8
    levels, took 27.6 s against 0.04 s without levels). Here the
    walk stops at ``lv_floor``: every level of the side was set by an event whose key is
    at or above it, and levels below the window (the book's overflow) keep their keys,
    so nothing is skipped. When the walk reaches the end of a tracked side, the floor is
    raised to the deepest level found (the exact bound until a deeper level is set), so
    the next walk reads only the slots between the best and the deepest level.
    """
    v = view[0]
    for s in range(2):
        if s == 0:
            out_px = v["bid_px_l"]
            out_q = v["bid_qty_l"]
            sign = 1
        else:
            out_px = v["ask_px_l"]
            out_q = v["ask_qty_l"]
            sign = -1
        floor = lv_floor[s]
        key = _NO_LEVEL
        j = 0
        while j < VIEW_LEVELS:
            k, q = _b.level_below(book, s, key, floor)
            if q == 0.0:
                break
            out_px[j] = sign * k
            out_q[j] = q
            key = k
            j += 1
        if j < VIEW_LEVELS and floor != _NO_FLOOR:
            lv_floor[s] = key  # the deepest level (_NO_LEVEL when the side is empty)
        for m in range(j, VIEW_LEVELS):
            out_px[m] = 0
            out_q[m] = 0.0


@njit(cache=True, _nrt=False)
def _sync_risk(es, oms, risk):
    """Give the pre-trade risk state the OMS's view of our working orders."""
    orders, work = oms.orders, oms.work
    n_open = 0
    ob = 0.0
    os_ = 0.0
    own_bid = _risk.NO_BID
    own_ask = _risk.NO_ASK
    for w in range(es["n_work"]):
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
    _risk.sync_orders(risk.istate, risk.fstate, 0, n_open, ob, os_, own_bid, own_ask)


@njit(cache=True, _nrt=False)
def _compact_work(es, oms):
    """Drop orders in a terminal state from the working list (order kept)."""
    orders, work = oms.orders, oms.work
    k = 0
    for w in range(es["n_work"]):
        slot = work[w]
        if _is_working(orders[slot]["state"]):
            work[k] = slot
            k += 1
    es["n_work"] = k


@njit(cache=True, _nrt=False)
def _on_response(es, cf, oms, pf, risk, fills, k, ts):
    """Apply the response in row ``k`` of the to-local ring to the order state machine and
    the portfolio; return a Status."""
    orders, table, journal, jlen, ml = oms.orders, oms.table, oms.journal, oms.jlen, oms.ml
    positions, lots_qty, lots_px, cash = pf.positions, pf.lots_qty, pf.lots_px, pf.cash
    r_ist, r_fst, r_journal = risk.istate, risk.fstate, risk.journal
    kind = ml[k]["kind"]
    slot = ml[k]["slot"]
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
        qty = ml[k]["qty"]
        px = ml[k]["px_tick"]
        liq = ml[k]["liquidity"]
        side = orders[slot]["side"]
        st = _oms.order_event(table, orders, slot, OrderEvent.FILL, ts, qty, px, journal, jlen)
        if st != _OK:
            return st
        fees0 = positions[0]["fees"]
        st = _oms.portfolio_fill(positions, lots_qty, lots_px, cash, 0, side, qty, px, liq, ts)
        if st != _OK:
            return st
        fee = positions[0]["fees"] - fees0
        extra = qty * cf["fee_per_qty"]
        if extra != 0.0:
            cash[0] -= extra
            positions[0]["fees"] += extra
            fee += extra
        es["fees"] += fee
        es["traded_qty"] += qty
        if liq == _MAKER:
            es["maker_qty"] += qty
        else:
            es["taker_qty"] += qty
        n = es["n_fills"]
        f = fills[n]
        f["ts_exch"] = ml[k]["ts_exch"]
        f["ts_local"] = ts
        f["order_id"] = orders[slot]["order_id"]
        f["px_tick"] = px
        f["qty"] = qty
        f["fee"] = fee
        f["mid_tick"] = ml[k]["mid_tick"]
        f["position"] = positions[0]["qty"]
        f["side"] = side
        f["liquidity"] = liq
        es["n_fills"] = n + 1
        _risk.set_position(r_ist, r_fst, 0, positions[0]["qty"])
    return st


@njit(cache=True, _nrt=False)
def _equity(cf, pf, mid_tick):
    """Cash plus the position marked at ``mid_tick``, quote currency."""
    return pf.cash[0] + pf.positions[0]["qty"] * mid_tick * cf["tick_value"]


@njit(cache=True, _nrt=False, inline="always")
def _fill_view(es, cf, lbook, pf, oms, view, risk, ts, fstate, scratch):
    """Write the strategy's local view at ``ts``: the best levels, depth, mid, sigma, the
    position and orders, and (per ``cf``) the book levels and the named features
    (:func:`qlib.engine._view.fill_levels`, :func:`qlib.engine._view.at_decision`)."""
    positions, cash = pf.positions, pf.cash
    orders, work = oms.orders, oms.work
    v = view[0]
    v["ts_local"] = ts
    v["ts_start"] = es["ts_start"]
    v["ts_end"] = es["ts_end"]
    bb, bq = _b.best_px(lbook, 1)
    ba, aq = _b.best_px(lbook, -1)
    v["bid_px_tick"] = bb
    v["ask_px_tick"] = ba
    v["bid_qty"] = bq
    v["ask_qty"] = aq
    nl = cf["depth_levels"]
    db = bq
    da = aq
    if nl > 1:
        # depth within nl ticks of each best (inclusive): a bounded walk of the ring
        if bb != 0:
            for d in range(1, nl):
                db += _b.level_qty(lbook, 1, bb - d)
        if ba != 0:
            for d in range(1, nl):
                da += _b.level_qty(lbook, -1, ba + d)
    v["bid_depth"] = db
    v["ask_depth"] = da
    if bb != 0 and ba != 0:
        es["last_mid"] = 0.5 * (bb + ba)
    mid = es["last_mid"]
    v["mid_tick"] = mid
    # sigma: EWMA of squared mid changes per second between decisions
    prev_ts = es["prev_dec_ts"]
    if prev_ts > 0 and ts > prev_ts and mid > 0.0 and es["prev_mid"] > 0.0:
        dt = (ts - prev_ts) * 1e-9
        if es["sig_dt"] != dt:  # decisions are periodic: the weight is computed once
            es["sig_dt"] = dt
            es["sig_a"] = 1.0 - np.exp(-_LN2 * (ts - prev_ts) / cf["sigma_hl"])
        a = es["sig_a"]
        dm = mid - es["prev_mid"]
        es["sigma2"] = (1.0 - a) * es["sigma2"] + a * dm * dm / dt
    es["prev_dec_ts"] = ts
    es["prev_mid"] = mid
    v["sigma_tick"] = np.sqrt(es["sigma2"])
    v["position"] = positions[0]["qty"]
    v["cash"] = cash[0]
    v["equity"] = _equity(cf, pf, mid)
    ob = 0.0
    os_ = 0.0
    n_open = 0
    for w in range(es["n_work"]):
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
    v["tick_size"] = cf["tick_size"]
    v["lot_size"] = cf["lot"]
    v["killed"] = _risk.kill_switch_tripped(risk.istate)
    if cf["view_levels"] != 0:
        _fill_levels(lbook, view, scratch.lv_floor)
    if cf["feat_mask"] != 0:
        _view.at_decision(view, lbook, fstate, cf["feat_mask"], cf["feat_imb"], ts)


@njit(cache=True, _nrt=False)
def _new_order(orders, oxs, slot, oid, side, px, qty, otype, tif, ts):
    """Write a new order into ``slot`` (state ``NEW``) and reset its exchange side."""
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
    oxs[slot]["xstate"] = XS_NONE
    oxs[slot]["ts_sent"] = ts
    oxs[slot]["entry"] = 0
    oxs[slot]["ts_arrive"] = 0
    oxs[slot]["front"] = 0.0
    oxs[slot]["cum"] = 0.0
    oxs[slot]["leaves"] = 0.0


@njit(cache=True, _nrt=False)
def _send_cancel(es, cf, oms, models, risk, slot, ts):
    """Send a cancel for ``slot`` if the message throttle allows; return a Status."""
    orders, oxs, table, journal, jlen, mx = oms.orders, oms.oxs, oms.table, oms.journal, \
        oms.jlen, oms.mx
    lat_p, lat_log, r_ist = models.lat_p, models.lat_log, risk.istate
    if _risk.throttle_message(r_ist, ts) != _APPROVED:
        return _OK  # throttled: keep the order, try again at the next decision
    entry, _ = _lat.order_latency(cf["lat_kind"], lat_p, lat_log, OrderAction.CANCEL, ts,
                                  np.int64(es["feed_lat"]))
    st = _oms.order_event(table, orders, slot, OrderEvent.CANCEL_REQUEST, ts, 0.0, 0, journal,
                          jlen)
    if st != _OK:
        return st
    oxs[slot]["ts_sent"] = ts
    es["n_cancel"] += 1
    entry = max(entry, 0)  # a cancel is never refused by the latency log
    if not _push_exch(es, mx, ts + entry, M_CANCEL, slot):
        return _CAPACITY
    return _OK


@njit(cache=True, _nrt=False)
def _reconcile(es, cf, oms, models, strat, n, risk, ts):
    """Turn the strategy's first ``n`` intents into cancels and new orders; return a
    Status."""
    orders, oxs, work, table = oms.orders, oms.oxs, oms.work, oms.table
    journal, jlen, mx, ml = oms.journal, oms.jlen, oms.mx, oms.ml
    lat_p, lat_log = models.lat_p, models.lat_log
    intents, used = strat.intents, strat.used
    r_ist, r_fst, r_journal = risk.istate, risk.fstate, risk.journal
    for j in range(n):
        used[j] = False
    # keep the working orders an intent asks for, cancel the others
    for w in range(es["n_work"]):
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
        if not keep and stt != _PN:  # no cancel before the venue's ack: retried next time
            st = _send_cancel(es, cf, oms, models, risk, slot, ts)
            if st != _OK:
                return st
    _sync_risk(es, oms, risk)
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
        slot = es["n_orders"]
        es["n_orders"] = slot + 1
        _new_order(orders, oxs, slot, np.uint64(slot + 1), side, px, qty, otype, tif, ts)
        rc = _risk.pretrade_check_inline(r_ist, r_fst, r_journal, 0, side, px, qty, ts, otype)
        if rc != _APPROVED:
            es["n_reject_risk"] += 1
            st = _oms.order_event(table, orders, slot, OrderEvent.REJECT, ts, 0.0, 0, journal, jlen)
            if st != _OK:
                return st
            continue
        st = _oms.order_event(table, orders, slot, OrderEvent.SUBMIT, ts, 0.0, 0, journal, jlen)
        if st != _OK:
            return st
        if es["n_work"] >= work.shape[0]:
            es["cap_what"] = CAP_WORK
            return _CAPACITY
        work[es["n_work"]] = slot
        es["n_work"] += 1
        es["n_submit"] += 1
        entry, resp = _lat.order_latency(cf["lat_kind"], lat_p, lat_log, OrderAction.SUBMIT, ts,
                                         np.int64(es["feed_lat"]))
        if entry < 0:  # the latency log says the venue refused it
            es["n_reject_venue"] += 1
            oxs[slot]["xstate"] = XS_DONE
            if not _push_local(es, ml, ts + resp, R_REJECT, slot, 0, 0, ts, 0.0, 0.0):
                return _CAPACITY
            continue
        if not _push_exch(es, mx, ts + entry, M_SUBMIT, slot):
            return _CAPACITY
    return _OK


@njit(cache=True, _nrt=False)
def _cancel_all(es, cf, oms, models, ts):
    """Kill switch: cancel every working order (ignores the message throttle).

    Orders still waiting for their ack, or with a request in flight, cannot take a
    cancel yet (the order state machine has no such edge); the loop calls this at every
    decision while the switch is tripped, so they are cancelled once acknowledged.
    """
    orders, work, table, journal, jlen, mx = oms.orders, oms.work, oms.table, oms.journal, \
        oms.jlen, oms.mx
    lat_p, lat_log = models.lat_p, models.lat_log
    for w in range(es["n_work"]):
        slot = work[w]
        stt = orders[slot]["state"]
        if stt == _LIVE or stt == _PF:
            entry, _ = _lat.order_latency(cf["lat_kind"], lat_p, lat_log, OrderAction.CANCEL, ts,
                                          np.int64(es["feed_lat"]))
            st = _oms.order_event(table, orders, slot, OrderEvent.CANCEL_REQUEST, ts, 0.0, 0,
                                  journal, jlen)
            if st != _OK:
                return st
            es["n_cancel"] += 1
            if not _push_exch(es, mx, ts + max(entry, 0), M_CANCEL, slot):
                return _CAPACITY
    return _OK


@njit(cache=True, _nrt=False)
def _record(es, cf, recs, pf, oms, lbook, ts):
    """Write the interval record at ``ts``."""
    positions, cash = pf.positions, pf.cash
    orders, work = oms.orders, oms.work
    n = es["n_rec"]
    r = recs[n]
    mid = es["last_mid"]
    r["ts"] = ts
    r["position"] = positions[0]["qty"]
    r["cash"] = cash[0]
    r["equity"] = _equity(cf, pf, mid)
    r["mid_tick"] = mid
    bb, _ = _b.best_px(lbook, 1)
    ba, _ = _b.best_px(lbook, -1)
    r["spread_tick"] = (ba - bb) if (bb != 0 and ba != 0) else np.nan
    r["fees"] = es["fees"]
    r["traded_qty"] = es["traded_qty"]
    qb = np.int64(0)
    qa = np.int64(0)
    n_open = 0
    for w in range(es["n_work"]):
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
    r["n_fills"] = es["n_fills"]
    es["n_rec"] = n + 1
    es["last_rec_ts"] = ts
