"""Numba kernels of the LOBSTER loader: arrays in, status codes out. No pandas, no I/O.

The public wrapper is :func:`qlib.data.lobster.load_lobster`.
"""

from __future__ import annotations

from numba import njit

from qlib.enums import EventFlag, EventKind, Side, Status

#: Columns of a LOBSTER message file, in file order. Kernels name a failing
#: column by its index in this tuple.
MESSAGE_COLUMNS = ("time", "type", "order_id", "size", "price", "direction")
COL_TIME = 0
COL_TYPE = 1
COL_ORDER_ID = 2
COL_SIZE = 3
COL_PRICE = 4
COL_DIRECTION = 5

# LOBSTER message types (the file format's codes, see LOBSTER's ReadMe).
LOBSTER_SUBMIT = 1
LOBSTER_CANCEL = 2
LOBSTER_DELETE = 3
LOBSTER_EXECUTE_VISIBLE = 4
LOBSTER_EXECUTE_HIDDEN = 5
LOBSTER_CROSS = 6
LOBSTER_HALT = 7

#: Nanoseconds in a day: ``time`` must lie in ``[0, NS_PER_DAY)``.
NS_PER_DAY = 86_400 * 1_000_000_000

_F_MSG = int(EventFlag.LAST | EventFlag.TS_LOCAL_SYNTH)
_F_HIDDEN = int(EventFlag.HIDDEN)
_F_AUCTION = int(EventFlag.AUCTION)


@njit(cache=True)
def fill_message_events(out, dropped, ns_of_day, msg_type, order_id, size, price, direction,
                        midnight_early_ns, midnight_late_ns, tz_switch_ns, px_divisor,
                        feed_latency_ns, seq0, prev_ts, drop_sub_tick_trades):
    """Convert one block of LOBSTER messages into events; see ``load_lobster``.

    Writes the kept rows to ``out[:n_out]`` in order, and the block row numbers of
    trades (types 5, 6) whose price is off the tick grid to ``dropped[:n_dropped]``
    when ``drop_sub_tick_trades`` (otherwise they are an ``OFF_GRID`` error).
    Returns ``(status, row, column, last_ts, n_out, n_dropped)``: ``status`` is OK,
    or the first bad row's :class:`Status` with its block row and the index of the
    bad column in :data:`MESSAGE_COLUMNS`.
    """
    n = ns_of_day.shape[0]
    j = 0
    n_dropped = 0
    for i in range(n):
        t = ns_of_day[i]
        if t < 0 or t >= NS_PER_DAY:
            return Status.OFF_GRID, i, COL_TIME, prev_ts, j, n_dropped
        typ = msg_type[i]
        if typ < LOBSTER_SUBMIT or typ > LOBSTER_HALT:
            return Status.UNKNOWN_KIND, i, COL_TYPE, prev_ts, j, n_dropped
        d = direction[i]
        if d != 1 and d != -1:
            return Status.UNKNOWN_KIND, i, COL_DIRECTION, prev_ts, j, n_dropped
        if order_id[i] < 0:
            return Status.OFF_GRID, i, COL_ORDER_ID, prev_ts, j, n_dropped
        q = size[i]
        p = price[i]
        keep = True
        if typ == LOBSTER_HALT:
            if q < 0:
                return Status.NEGATIVE_QTY, i, COL_SIZE, prev_ts, j, n_dropped
            if p < -1 or p > 1:
                return Status.OFF_GRID, i, COL_PRICE, prev_ts, j, n_dropped
        else:
            if q <= 0:
                return Status.NEGATIVE_QTY, i, COL_SIZE, prev_ts, j, n_dropped
            if p <= 0:
                return Status.OFF_GRID, i, COL_PRICE, prev_ts, j, n_dropped
            if p % px_divisor != 0:
                if drop_sub_tick_trades and (typ == LOBSTER_EXECUTE_HIDDEN or typ == LOBSTER_CROSS):
                    keep = False
                else:
                    return Status.OFF_GRID, i, COL_PRICE, prev_ts, j, n_dropped
        if t < tz_switch_ns:
            ts = midnight_early_ns + t
        else:
            ts = midnight_late_ns + t
        if ts < prev_ts:
            return Status.UNSORTED, i, COL_TIME, prev_ts, j, n_dropped
        prev_ts = ts
        if not keep:
            dropped[n_dropped] = i
            n_dropped += 1
            continue

        ev = out[j]
        j += 1
        ev["ts_exch"] = ts
        ev["ts_local"] = ts + feed_latency_ns
        ev["seq"] = seq0 + i
        ev["qty"] = q
        flags = _F_MSG
        if typ == LOBSTER_HALT:
            ev["px_tick"] = 0
            ev["order_id"] = 0
            ev["side"] = Side.NONE
            if p == -1:
                ev["kind"] = EventKind.HALT
            elif p == 0:
                ev["kind"] = EventKind.RESUME_QUOTING
            else:
                ev["kind"] = EventKind.RESUME_TRADING
        else:
            ev["px_tick"] = p // px_divisor
            if typ == LOBSTER_EXECUTE_HIDDEN:
                ev["kind"] = EventKind.TRADE
                ev["side"] = -d  # the aggressor is opposite the hidden resting order
                ev["order_id"] = 0
                flags |= _F_HIDDEN
            elif typ == LOBSTER_CROSS:
                ev["kind"] = EventKind.TRADE
                ev["side"] = Side.NONE  # an auction cross has no aggressor
                ev["order_id"] = 0
                flags |= _F_AUCTION
            else:
                if typ == LOBSTER_SUBMIT:
                    ev["kind"] = EventKind.ADD
                elif typ == LOBSTER_CANCEL:
                    ev["kind"] = EventKind.CANCEL
                elif typ == LOBSTER_DELETE:
                    ev["kind"] = EventKind.DELETE
                else:
                    ev["kind"] = EventKind.EXECUTE
                ev["side"] = d
                ev["order_id"] = order_id[i]
        ev["flags"] = flags
    return Status.OK, -1, -1, prev_ts, j, n_dropped


@njit(cache=True)
def count_crossed_locked(ask_px, bid_px, ask_empty, bid_empty):
    """Count level-1 rows with bid > ask and bid == ask; see ``load_lobster``.

    Rows where either side holds the empty-level dummy price are not counted.
    Returns ``(crossed, locked)``.
    """
    crossed = 0
    locked = 0
    for i in range(ask_px.shape[0]):
        a = ask_px[i]
        b = bid_px[i]
        if a == ask_empty or b == bid_empty:
            continue
        if b > a:
            crossed += 1
        elif b == a:
            locked += 1
    return crossed, locked
