"""Numba kernels of the LOBSTER loader: arrays in, status codes out. No pandas, no I/O.

Message blocks to events (:func:`fill_message_events`), level-1 crossed/locked counts,
and the resync (:func:`resync_block`, :func:`merge_corrections`): a small price-level
book of sorted arrays that follows the messages and emits the ``DEPTH | RESYNC``
corrections that make it equal to each orderbook row. The public wrapper is
:func:`qlib.data.lobster.load_lobster`.
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


# --------------------------------------------------------------------------- resync
# A small price-level book: ``keys`` int64 (2, capacity), row 0 bid prices in ticks,
# row 1 negated ask prices, each sorted ascending over its first ``counts[s]``
# entries (best level last); ``qtys`` float64 (2, capacity), always > 0.

#: Indices of the ``state`` array of :func:`resync_block`.
ST_NEXT_EVENT = 0  # next message event to apply
ST_NEXT_DROP = 1  # next dropped (sub-tick) message row
ST_N_CORR = 2  # corrections written
ST_VISIBLE_QTY = 3  # visible level present in the replay with another quantity
ST_VISIBLE_MISSING = 4  # visible level absent from the replay
ST_STALE_INSIDE = 5  # replay level between the file's best and L-th price, not shown
ST_STALE_BETTER = 6  # replay level better than the file's best on its side (crossing too)
ST_STALE_SHORT = 7  # replay level below the last level of a side with fewer than L levels
ST_CLAMPED = 8  # message removals that took a replay level below zero
N_STATE = 9

#: ``col`` returned with ``Status.CAPACITY``: which buffer to grow.
GROW_BOOK = 0
GROW_CORRECTIONS = 1

_F_CORR = int(EventFlag.RESYNC | EventFlag.TS_LOCAL_SYNTH)
_F_LAST = int(EventFlag.LAST)
_F_NOT_LAST = 0xFF ^ _F_LAST
_KEY_MIN = -(1 << 62)


@njit(cache=True)
def _find(keys, s, n, key):
    """First index in ``keys[s, :n]`` whose key is >= ``key``."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[s, mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _set_level(keys, qtys, counts, s, key, qty):
    """Set the quantity at ``key`` on side index ``s``; ``qty <= 0`` removes the level."""
    n = counts[s]
    i = _find(keys, s, n, key)
    found = i < n and keys[s, i] == key
    if qty > 0.0:
        if found:
            qtys[s, i] = qty
        else:
            for j in range(n, i, -1):
                keys[s, j] = keys[s, j - 1]
                qtys[s, j] = qtys[s, j - 1]
            keys[s, i] = key
            qtys[s, i] = qty
            counts[s] = n + 1
    elif found:
        for j in range(i, n - 1):
            keys[s, j] = keys[s, j + 1]
            qtys[s, j] = qtys[s, j + 1]
        counts[s] = n - 1


@njit(cache=True)
def _level_qty(keys, qtys, counts, s, key):
    n = counts[s]
    i = _find(keys, s, n, key)
    if i < n and keys[s, i] == key:
        return qtys[s, i]
    return 0.0


@njit(cache=True)
def _apply_message(keys, qtys, counts, state, kind, side, px_tick, qty):
    """Apply one message event to the book by price aggregation (its own px and qty)."""
    if side == Side.BUY:
        s = 0
        key = px_tick
    elif side == Side.SELL:
        s = 1
        key = -px_tick
    else:
        return
    if kind == EventKind.ADD:
        _set_level(keys, qtys, counts, s, key, _level_qty(keys, qtys, counts, s, key) + qty)
    elif kind == EventKind.CANCEL or kind == EventKind.DELETE or kind == EventKind.EXECUTE:
        left = _level_qty(keys, qtys, counts, s, key) - qty
        if left < 0.0:
            state[ST_CLAMPED] += 1
            left = 0.0
        _set_level(keys, qtys, counts, s, key, left)


@njit(cache=True)
def _check_side(ob, i, levels, pc, empty, px_divisor, rising):
    """Validate one side of orderbook row ``i``; return ``(status, col, visible levels)``.

    ``pc`` is the side's price column in level 1 (0 ask, 2 bid). Prices must be
    positive multiples of ``px_divisor`` with sizes > 0, strictly rising (asks) or
    falling (bids) with the level; the empty-level price (size 0) may only fill the
    deepest levels of a side.
    """
    seen_empty = False
    prev = 0
    n_vis = 0
    for j in range(levels):
        p = ob[i, 4 * j + pc]
        q = ob[i, 4 * j + pc + 1]
        if p == empty:
            if q != 0:
                return Status.NEGATIVE_QTY, 4 * j + pc + 1, n_vis
            seen_empty = True
            continue
        if seen_empty:
            return Status.UNSORTED, 4 * j + pc, n_vis
        if p <= 0 or p % px_divisor != 0:
            return Status.OFF_GRID, 4 * j + pc, n_vis
        if q <= 0:
            return Status.NEGATIVE_QTY, 4 * j + pc + 1, n_vis
        if j > 0 and ((rising and p <= prev) or (not rising and p >= prev)):
            return Status.UNSORTED, 4 * j + pc, n_vis
        prev = p
        n_vis += 1
    return Status.OK, -1, n_vis


@njit(cache=True)
def _emit(corr, corr_after, state, after, ts_exch, ts_local, seq, side, px_tick, qty):
    k = state[ST_N_CORR]
    c = corr[k]
    c["ts_exch"] = ts_exch
    c["ts_local"] = ts_local
    c["seq"] = seq
    c["px_tick"] = px_tick
    c["qty"] = qty
    c["order_id"] = 0
    c["kind"] = EventKind.DEPTH
    c["side"] = side
    c["flags"] = _F_CORR
    corr_after[k] = after
    state[ST_N_CORR] = k + 1


@njit(cache=True)
def _diff_side(ob, i, s, k_vis, levels, px_divisor, keys, qtys, counts, corr, corr_after,
               state, after, ts_exch, ts_local, seq):
    """Emit the corrections of side index ``s`` (0 bid, 1 ask) against orderbook row ``i``."""
    pc = 2 if s == 0 else 0  # bid price column (s 0) or ask price column (s 1)
    side = Side.BUY if s == 0 else Side.SELL
    sign = 1 if s == 0 else -1
    # compare in LOBSTER price units (book key x px_divisor): no division per level
    if k_vis == levels:
        lower = sign * ob[i, 4 * (levels - 1) + pc]
    else:
        lower = _KEY_MIN  # fewer than L levels: the window reaches the end of the side
    best_f = sign * ob[i, pc] if k_vis > 0 else _KEY_MIN
    last_f = sign * ob[i, 4 * (k_vis - 1) + pc] if k_vis > 0 else _KEY_MIN
    bi = counts[s] - 1
    j = 0
    while bi >= 0 or j < k_vis:
        bkey = keys[s, bi] * px_divisor if bi >= 0 else _KEY_MIN
        if j < k_vis:
            fkey = sign * ob[i, 4 * j + pc]
            fq = float(ob[i, 4 * j + pc + 1])
            if bi < 0 or bkey < fkey:
                _emit(corr, corr_after, state, after, ts_exch, ts_local, seq, side,
                      ob[i, 4 * j + pc] // px_divisor, fq)
                state[ST_VISIBLE_MISSING] += 1
                j += 1
                continue
            if bkey == fkey:
                if qtys[s, bi] != fq:
                    _emit(corr, corr_after, state, after, ts_exch, ts_local, seq, side,
                          ob[i, 4 * j + pc] // px_divisor, fq)
                    state[ST_VISIBLE_QTY] += 1
                bi -= 1
                j += 1
                continue
        if bkey < lower:
            break
        _emit(corr, corr_after, state, after, ts_exch, ts_local, seq, side,
              sign * keys[s, bi], 0.0)
        if k_vis == 0:
            state[ST_STALE_SHORT] += 1
        elif bkey > best_f:
            state[ST_STALE_BETTER] += 1
        elif k_vis == levels or bkey >= last_f:
            state[ST_STALE_INSIDE] += 1
        else:
            state[ST_STALE_SHORT] += 1
        bi -= 1


@njit(cache=True)
def resync_block(ob, row0, start, msgs, drop_rows, drop_ts, keys, qtys, counts, corr,
                 corr_after, state, levels, px_divisor, feed_latency_ns, ask_empty, bid_empty):
    """Apply messages and emit L2 corrections against one block of orderbook rows.

    See ``load_lobster`` (``resync``). ``ob`` is the block, int64 ``(n, 4 * levels)``
    in file column order; its row ``i`` is file row ``row0 + i``, the book after
    message ``row0 + i``. ``msgs`` are all message events (one per message row not
    dropped, ``seq`` = row), ``drop_rows``/``drop_ts`` the dropped rows with their
    ``ts_exch``. For each row from ``start``: the row is validated, its message (if
    kept) is applied to the book (``keys``/``qtys``/``counts``) by price
    aggregation, and a ``DEPTH | RESYNC`` record is written to ``corr`` for every
    level where the book differs from the row inside the visible window, with
    ``corr_after`` = the index in ``msgs`` after which it goes (-1: before
    ``msgs[0]``); ``LAST`` moves from the message to its last correction. The
    corrections are then applied to the book. Counters live in ``state`` (``ST_*``).

    Returns ``(status, row, col)``: ``(OK, n, -1)``; ``(CAPACITY, row, GROW_*)``
    before touching ``row`` when a buffer is too small (grow it and call again with
    ``start=row``); a bad row's status with the block row and the column index;
    ``SEQUENCE_GAP`` when ``msgs`` and ``drop_rows`` do not account for a row.
    """
    n = ob.shape[0]
    cap = keys.shape[1]
    n_msgs = msgs.shape[0]
    for i in range(start, n):
        if counts[0] + levels + 1 > cap or counts[1] + levels + 1 > cap:
            return Status.CAPACITY, i, GROW_BOOK
        if state[ST_N_CORR] + counts[0] + counts[1] + 2 * levels + 2 > corr.shape[0]:
            return Status.CAPACITY, i, GROW_CORRECTIONS
        st, col, n_ask = _check_side(ob, i, levels, 0, ask_empty, px_divisor, True)
        if st != Status.OK:
            return st, i, col
        st, col, n_bid = _check_side(ob, i, levels, 2, bid_empty, px_divisor, False)
        if st != Status.OK:
            return st, i, col
        r = row0 + i
        e = state[ST_NEXT_EVENT]
        if e < n_msgs and msgs[e]["seq"] == r:
            ev = msgs[e]
            _apply_message(keys, qtys, counts, state, ev["kind"], ev["side"], ev["px_tick"],
                           ev["qty"])
            after = e
            ts_exch = ev["ts_exch"]
            ts_local = ev["ts_local"]
            state[ST_NEXT_EVENT] = e + 1
        else:
            d = state[ST_NEXT_DROP]
            if d >= drop_rows.shape[0] or drop_rows[d] != r:
                return Status.SEQUENCE_GAP, i, -1
            after = e - 1
            ts_exch = drop_ts[d]
            ts_local = ts_exch + feed_latency_ns
            state[ST_NEXT_DROP] = d + 1
        k0 = state[ST_N_CORR]
        _diff_side(ob, i, 0, n_bid, levels, px_divisor, keys, qtys, counts, corr, corr_after,
                   state, after, ts_exch, ts_local, r)
        _diff_side(ob, i, 1, n_ask, levels, px_divisor, keys, qtys, counts, corr, corr_after,
                   state, after, ts_exch, ts_local, r)
        k1 = state[ST_N_CORR]
        if k1 > k0:
            corr[k1 - 1]["flags"] = _F_CORR | _F_LAST
            if after == e:
                msgs[e]["flags"] = msgs[e]["flags"] & _F_NOT_LAST
            for k in range(k0, k1):
                c = corr[k]
                s = 0 if c["side"] == Side.BUY else 1
                _set_level(keys, qtys, counts, s, c["px_tick"] if s == 0 else -c["px_tick"],
                           c["qty"])
    return Status.OK, n, -1


@njit(cache=True)
def merge_corrections(buf, base, n_msgs, corr, corr_after, n_corr):
    """Interleave corrections with message events in place; see ``load_lobster``.

    ``buf[base: base + n_msgs]`` holds the message events and ``buf`` has room for
    ``n_corr`` more rows after them. Correction ``k`` goes right after message event
    ``corr_after[k]`` (non-decreasing; -1 puts it before the first), keeping the
    corrections' own order. Works from the back, so nothing is overwritten before it
    has been moved.
    """
    w = base + n_msgs + n_corr - 1
    k = n_corr - 1
    for i in range(n_msgs - 1, -2, -1):
        while k >= 0 and corr_after[k] == i:
            buf[w] = corr[k]
            w -= 1
            k -= 1
        if i >= 0:
            if w == base + i:
                break  # no correction before this one: the rest is already in place
            buf[w] = buf[base + i]
            w -= 1
