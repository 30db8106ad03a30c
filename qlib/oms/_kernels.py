"""Numba kernels of the order state machine and the portfolio (jitted code only).

No pandas, no I/O, no allocation in the per-transition or per-fill path: state lives
in preallocated arrays (:data:`qlib.dtypes.ORDER_DTYPE`,
:data:`qlib.dtypes.ORDER_JOURNAL_DTYPE`, :data:`qlib.dtypes.POSITION_DTYPE` and the
FIFO lot ring), and every kernel returns a :class:`qlib.enums.Status` code. The
public wrappers are :class:`qlib.oms.OrderTracker` and :class:`qlib.oms.Portfolio`;
a backtest loop calls these kernels directly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.enums import LiquiditySide, OrderEvent, OrderStatus, OrderType, Side, Status

#: Table entry meaning "no such edge".
ILLEGAL = -1
#: Table entry meaning "return to the order's ``resume_state``" (Live or PartiallyFilled).
RESUME = -2


@njit(cache=True, _nrt=False)
def _journal_write(journal, jlen, order_id, ts, qty, px_tick, frm, event, to, status):
    """Append one record to the transition journal (capacity checked by the caller)."""
    k = jlen[0]
    r = journal[k]
    r["order_id"] = order_id
    r["ts"] = ts
    r["qty"] = qty
    r["px_tick"] = px_tick
    r["from_state"] = frm
    r["event"] = event
    r["to_state"] = to
    r["status"] = status
    jlen[0] = k + 1


@njit(cache=True, _nrt=False)
def order_event(table, orders, slot, event, ts, qty, px_tick, journal, jlen):
    """Apply one event to order ``slot``; see :meth:`qlib.oms.OrderTracker.apply`.

    Returns a :class:`Status`; anything but ``OK`` left the order untouched. Every
    attempt with a valid slot and journal room is journaled (refusals with
    ``to_state == -1``).
    """
    if slot < 0 or slot >= orders.shape[0]:
        return Status.UNKNOWN_ORDER
    if jlen[0] >= journal.shape[0]:
        return Status.CAPACITY
    o = orders[slot]
    frm = np.int64(o["state"])
    ev = np.int64(event)
    st = Status.OK
    tol = 1e-9 * o["qty"]
    new_filled = o["filled_qty"]
    is_fill = ev == OrderEvent.PARTIAL_FILL or ev == OrderEvent.FILL
    if ev < 0 or ev >= table.shape[1]:
        st = Status.UNKNOWN_KIND
    elif ts < o["ts_last"]:
        st = Status.UNSORTED
    elif is_fill and (table[frm, OrderEvent.PARTIAL_FILL] == ILLEGAL
                      and table[frm, OrderEvent.FILL] == ILLEGAL):
        st = Status.ILLEGAL_TRANSITION  # refused before any quantity check
    elif not is_fill and table[frm, ev] == ILLEGAL:
        st = Status.ILLEGAL_TRANSITION
    elif is_fill:
        if not np.isfinite(qty):
            st = Status.NON_FINITE
        elif qty <= 0.0:
            st = Status.NEGATIVE_QTY
        elif px_tick <= 0 and o["order_type"] == OrderType.LIMIT:
            st = Status.BAD_PRICE
        else:
            new_filled = o["filled_qty"] + qty
            if new_filled > o["qty"] + tol:
                st = Status.OVERFILL
            elif new_filled >= o["qty"] - tol:
                ev = OrderEvent.FILL
            else:
                ev = OrderEvent.PARTIAL_FILL
    elif ev == OrderEvent.REPLACE_REQUEST:
        if not np.isfinite(qty):
            st = Status.NON_FINITE
        elif qty <= 0.0:
            st = Status.NEGATIVE_QTY
        elif px_tick <= 0 and o["order_type"] == OrderType.LIMIT:
            st = Status.BAD_PRICE
        elif qty <= o["filled_qty"] + tol:
            st = Status.OVERFILL
    elif ev == OrderEvent.REPLACE_ACK and o["pending_qty"] <= o["filled_qty"] + tol:
        st = Status.OVERFILL  # fills in flight reached the new quantity: the venue must reject
    nxt = np.int64(ILLEGAL)
    if st == Status.OK:
        nxt = np.int64(table[frm, ev])
        if nxt == RESUME:
            nxt = np.int64(o["resume_state"])
        elif nxt == ILLEGAL:
            st = Status.ILLEGAL_TRANSITION
    if st != Status.OK:
        _journal_write(journal, jlen, o["order_id"], ts, qty, px_tick, frm, event, -1, st)
        return st
    if ev == OrderEvent.PARTIAL_FILL or ev == OrderEvent.FILL:
        o["filled_qty"] = o["qty"] if ev == OrderEvent.FILL else new_filled
        o["filled_notional_tick"] += qty * px_tick
        if ev == OrderEvent.PARTIAL_FILL:
            o["resume_state"] = OrderStatus.PARTIALLY_FILLED
    elif ev == OrderEvent.CANCEL_REQUEST:
        o["resume_state"] = frm
    elif ev == OrderEvent.REPLACE_REQUEST:
        o["resume_state"] = frm
        o["pending_qty"] = qty
        o["pending_px_tick"] = px_tick
    elif ev == OrderEvent.REPLACE_ACK and frm == OrderStatus.PENDING_REPLACE:
        o["qty"] = o["pending_qty"]
        o["px_tick"] = o["pending_px_tick"]
        qty = o["pending_qty"]
        px_tick = o["pending_px_tick"]
    elif ev == OrderEvent.ACK:
        o["resume_state"] = OrderStatus.LIVE
    o["state"] = nxt
    o["ts_last"] = ts
    _journal_write(journal, jlen, o["order_id"], ts, qty, px_tick, frm, ev, nxt, Status.OK)
    return Status.OK


@njit(cache=True)
def order_apply_fills(table, orders, slots, fills, journal, jlen):
    """Apply fills (:data:`FILL_DTYPE`) to order slots ``slots[k]`` (``-1``: skip row k).

    Returns ``(status, row)``: ``(OK, -1)``, or the first refused row; rows before it
    are applied. See :meth:`qlib.oms.OrderTracker.apply_fills`.
    """
    for k in range(fills.shape[0]):
        s = slots[k]
        if s < 0:
            continue
        f = fills[k]
        st = order_event(table, orders, s, OrderEvent.FILL, f["ts_exch"], f["qty"], f["px_tick"],
                         journal, jlen)
        if st != Status.OK:
            return st, k
    return Status.OK, -1


@njit(cache=True, _nrt=False)
def _sign(x):
    """Return -1.0, 0.0 or 1.0."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return 0.0


@njit(cache=True, _nrt=False)
def portfolio_fill(positions, lots_qty, lots_px, cash, i, side, qty, px_tick, liquidity, ts):
    """Apply one of our fills to instrument ``i``; see :meth:`qlib.oms.Portfolio.apply_fill`.

    ``cash`` is a float64 array of length 1 (updated in place). Returns a :class:`Status`;
    anything but ``OK`` changed nothing.
    """
    if i < 0 or i >= positions.shape[0]:
        return Status.UNKNOWN_INSTRUMENT
    if side != Side.BUY and side != Side.SELL:
        return Status.BAD_SIDE
    if liquidity != LiquiditySide.MAKER and liquidity != LiquiditySide.TAKER:
        return Status.BAD_SIDE
    if not np.isfinite(qty):
        return Status.NON_FINITE
    if qty <= 0.0:
        return Status.NEGATIVE_QTY
    if px_tick <= 0:
        return Status.BAD_PRICE
    p = positions[i]
    if ts < p["ts_last"]:
        return Status.UNSORTED
    cap = lots_qty.shape[1]
    px = px_tick * p["tick_size"]
    if p["inverse"]:
        u = 1.0 / px
        dq = -side * qty
    else:
        u = px
        dq = side * qty
    m = p["multiplier"]
    pos = p["qty"]
    eps = 1e-12 * max(abs(pos), qty)
    adds = pos == 0.0 or _sign(pos) == _sign(dq)
    if adds and p["lot_len"] >= cap:
        return Status.CAPACITY
    bps = p["maker_fee_bps"] if liquidity == LiquiditySide.MAKER else p["taker_fee_bps"]
    fee = qty * m * u * bps * 1e-4
    cash[0] -= dq * u * m + fee
    # average cost
    new = pos + dq
    if abs(new) <= eps:
        new = 0.0
    if adds:
        p["avg_px"] = (pos * p["avg_px"] + dq * u) / new
    else:
        close = min(qty, abs(pos))
        p["realized_pnl"] += close * (u - p["avg_px"]) * _sign(pos) * m
        if new == 0.0:
            p["avg_px"] = 0.0
        elif _sign(new) != _sign(pos):
            p["avg_px"] = u
    p["qty"] = new
    # FIFO lots: a ring of signed quantities, all of one sign
    rem = dq
    while rem != 0.0 and p["lot_len"] > 0:
        h = p["lot_head"]
        lq = lots_qty[i, h]
        if _sign(lq) == _sign(rem):
            break
        take = min(abs(rem), abs(lq))
        s = _sign(lq)
        p["realized_pnl_fifo"] += take * (u - lots_px[i, h]) * s * m
        lq -= s * take
        rem += s * take
        if abs(rem) <= eps:
            rem = 0.0
        if abs(lq) <= eps:
            p["lot_head"] = (h + 1) % cap
            p["lot_len"] -= 1
        else:
            lots_qty[i, h] = lq
    if rem != 0.0:
        t = (p["lot_head"] + p["lot_len"]) % cap
        lots_qty[i, t] = rem
        lots_px[i, t] = u
        p["lot_len"] += 1
    if p["lot_len"] == 0:
        p["lot_head"] = 0
    p["fees"] += fee
    p["traded_qty"] += qty
    p["n_fills"] += 1
    p["ts_last"] = ts
    if p["mark_px"] == 0.0:
        p["mark_px"] = u
    return Status.OK


@njit(cache=True)
def portfolio_apply_fills(positions, lots_qty, lots_px, cash, instr, fills):
    """Apply fills (:data:`FILL_DTYPE`) to instruments ``instr[k]`` (``-1``: skip row k).

    Returns ``(status, row)`` as :func:`order_apply_fills`.
    """
    for k in range(fills.shape[0]):
        i = instr[k]
        if i < 0:
            continue
        f = fills[k]
        st = portfolio_fill(positions, lots_qty, lots_px, cash, i, f["side"], f["qty"], f["px_tick"],
                            f["liquidity"], f["ts_exch"])
        if st != Status.OK:
            return st, k
    return Status.OK, -1


@njit(cache=True)
def portfolio_mark(positions, i, px_tick):
    """Set the mark of instrument ``i`` from a price in ticks; see :meth:`Portfolio.mark`."""
    if i < 0 or i >= positions.shape[0]:
        return Status.UNKNOWN_INSTRUMENT
    if px_tick <= 0:
        return Status.BAD_PRICE
    p = positions[i]
    px = px_tick * p["tick_size"]
    p["mark_px"] = 1.0 / px if p["inverse"] else px
    return Status.OK


@njit(cache=True)
def portfolio_unrealized(positions, lots_qty, lots_px, out_avg, out_fifo):
    """Write each instrument's unrealized P&L at its mark, by average cost and by FIFO."""
    cap = lots_qty.shape[1]
    for i in range(positions.shape[0]):
        p = positions[i]
        out_avg[i] = p["qty"] * (p["mark_px"] - p["avg_px"]) * p["multiplier"]
        acc = 0.0
        for j in range(p["lot_len"]):
            h = (p["lot_head"] + j) % cap
            acc += lots_qty[i, h] * (p["mark_px"] - lots_px[i, h])
        out_fifo[i] = acc * p["multiplier"]


@njit(cache=True)
def portfolio_equity(positions, cash):
    """Return ``cash + sum(qty * mark * multiplier)`` in pricing units (see :mod:`qlib.oms.portfolio`)."""
    eq = cash[0]
    for i in range(positions.shape[0]):
        p = positions[i]
        eq += p["qty"] * p["mark_px"] * p["multiplier"]
    return eq
