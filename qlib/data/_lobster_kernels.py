"""Numba kernels of the LOBSTER loader: arrays in, status codes out. No pandas, no I/O.

Decimal text to integers (:func:`parse_scaled`, for cells pyarrow's typed parse
refuses), message blocks to events (:func:`fill_message_events`), level-1
crossed/locked counts, the resync (:func:`resync_block`, :func:`merge_corrections`):
the library's L2 book (:class:`qlib.book.L2Book`, through :mod:`qlib.book.nb`)
follows the messages, and the kernel emits the ``DEPTH | RESYNC`` corrections that
make it equal to each orderbook row; and the final pass from LOBSTER price units to
ticks (:func:`to_ticks`). Every kernel works in LOBSTER's own price unit (1/10,000
dollar) until :func:`to_ticks`, because the tick size is inferred from all the prices
of the file. The public wrapper is :func:`qlib.data.lobster.load_lobster`.
"""

from __future__ import annotations

from numba import njit

from qlib.book.nb import level_below, level_qty, overflow_room, set_level
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

#: Nanoseconds in a day.
NS_PER_DAY = 86_400 * 1_000_000_000
#: Largest int64.
_I64_MAX = (1 << 63) - 1

_F_MSG = int(EventFlag.LAST | EventFlag.TS_LOCAL_SYNTH)
_F_HIDDEN = int(EventFlag.HIDDEN)
_F_AUCTION = int(EventFlag.AUCTION)

# Return codes of parse_scaled (per cell).
PARSE_OK = 0
PARSE_BAD = 1  # not a decimal number
PARSE_NOT_WHOLE = 2  # digits beyond the scale that are not zero, where rounding is not allowed
PARSE_OVERFLOW = 3  # the scaled value does not fit int64
PARSE_SLOW = 4  # exponent notation: left to the Python wrapper (exact, rare)

# Bits of the ``quirk`` row flags written by parse_scaled.
QUIRK_DECIMAL_FORM = 1  # an integer written with a decimal point (``5.0``)
QUIRK_ROUNDED = 2  # more than ``scale`` decimals, rounded half up
QUIRK_SLOW = 4  # exponent notation: the caller parses the cell


@njit(cache=True)
def parse_scaled(data, offsets, arr_offset, n, scale, allow_round, out, quirk):
    """Parse decimal text cells into int64 ``value x 10**scale``.

    ``data``/``offsets`` are the byte and offset buffers of an Arrow string array
    (``offsets`` int32, ``arr_offset`` the array's offset into them); cell ``i`` is
    ``data[offsets[arr_offset + i]: offsets[arr_offset + i + 1]]``. A cell is
    ``[spaces][+|-]digits[.digits][spaces]`` (digits on at least one side of the
    point). Digits beyond ``scale`` decimals are rounded half up when
    ``allow_round`` (bit :data:`QUIRK_ROUNDED` set in ``quirk[i]``), else they must
    be zeros (an integer written ``5.0`` sets :data:`QUIRK_DECIMAL_FORM`). A cell
    with an exponent (``5.8e+06``) is left to the caller, who parses it exactly;
    ``out[i]`` holds the value otherwise.

    Returns ``(status, row)``: :data:`PARSE_OK` and -1, or the first bad cell's
    code (:data:`PARSE_BAD`, :data:`PARSE_NOT_WHOLE`, :data:`PARSE_OVERFLOW`) and
    row. Cells with an exponent are marked :data:`QUIRK_SLOW` in ``quirk``.
    """
    for i in range(n):
        a = offsets[arr_offset + i]
        b = offsets[arr_offset + i + 1]
        while a < b and (data[a] == 32 or data[a] == 9):
            a += 1
        while b > a and (data[b - 1] == 32 or data[b - 1] == 9 or data[b - 1] == 13):
            b -= 1
        neg = False
        if a < b and (data[a] == 43 or data[a] == 45):
            neg = data[a] == 45
            a += 1
        v = 0
        n_int = 0
        n_frac = 0
        point = False
        round_up = False
        extra_nonzero = False
        status = PARSE_OK
        j = a
        while j < b:
            c = data[j]
            if c >= 48 and c <= 57:
                d = int(c) - 48
                if point:
                    n_frac += 1
                    if n_frac > scale:
                        if n_frac == scale + 1:
                            round_up = d >= 5
                        if d != 0:
                            extra_nonzero = True
                        j += 1
                        continue
                else:
                    n_int += 1
                if v > (_I64_MAX - d) // 10:
                    status = PARSE_OVERFLOW
                    break
                v = v * 10 + d
            elif c == 46 and not point:
                point = True
            elif c == 101 or c == 69:
                status = PARSE_SLOW
                break
            else:
                status = PARSE_BAD
                break
            j += 1
        if status == PARSE_OK and n_int + n_frac == 0:
            status = PARSE_BAD
        if status == PARSE_SLOW:
            quirk[i] |= QUIRK_SLOW
            out[i] = 0
            continue
        if status != PARSE_OK:
            return status, i
        for _ in range(min(n_frac, scale), scale):
            if v > _I64_MAX // 10:
                return PARSE_OVERFLOW, i
            v *= 10
        if n_frac > scale and extra_nonzero:
            if not allow_round:
                return PARSE_NOT_WHOLE, i
            quirk[i] |= QUIRK_ROUNDED
            if round_up:
                if v == _I64_MAX:
                    return PARSE_OVERFLOW, i
                v += 1
        if point and scale == 0:
            quirk[i] |= QUIRK_DECIMAL_FORM
        out[i] = -v if neg else v
    return PARSE_OK, -1


@njit(cache=True)
def fill_message_events(out, ns_of_day, msg_type, order_id, size, price, direction,
                        t_lo, t_hi, midnight_early_ns, midnight_late_ns, tz_switch_ns,
                        feed_latency_ns, seq0, prev_ts, prev_line, dup_rows):
    """Convert one block of LOBSTER messages into events; see ``load_lobster``.

    Writes one event per row to ``out[:n]``, prices left in LOBSTER units
    (dollars x 10,000; :func:`to_ticks` divides them once the tick is known).
    ``t_lo``/``t_hi`` bound the time of day (ns, from the file name's window).
    ``prev_line`` (int64[7]) holds the previous row's six fields and, at index 6,
    1 when there is one; a row equal to it in every field is written to
    ``dup_rows`` (block row numbers). Returns ``(status, row, column, last_ts,
    n_dup)``: ``status`` is OK, or the first bad row's :class:`Status` with its
    block row and the index of the bad column in :data:`MESSAGE_COLUMNS`.
    """
    n = ns_of_day.shape[0]
    n_dup = 0
    for i in range(n):
        t = ns_of_day[i]
        if t < t_lo or t > t_hi:
            return Status.OFF_GRID, i, COL_TIME, prev_ts, n_dup
        typ = msg_type[i]
        if typ < LOBSTER_SUBMIT or typ > LOBSTER_HALT:
            return Status.UNKNOWN_KIND, i, COL_TYPE, prev_ts, n_dup
        d = direction[i]
        if d != 1 and d != -1:
            return Status.UNKNOWN_KIND, i, COL_DIRECTION, prev_ts, n_dup
        if order_id[i] < 0:
            return Status.OFF_GRID, i, COL_ORDER_ID, prev_ts, n_dup
        q = size[i]
        p = price[i]
        if typ == LOBSTER_HALT:
            if q < 0:
                return Status.NEGATIVE_QTY, i, COL_SIZE, prev_ts, n_dup
            if p < -1 or p > 1:
                return Status.OFF_GRID, i, COL_PRICE, prev_ts, n_dup
        else:
            if q <= 0:
                return Status.NEGATIVE_QTY, i, COL_SIZE, prev_ts, n_dup
            if p <= 0:
                return Status.OFF_GRID, i, COL_PRICE, prev_ts, n_dup
        if t < tz_switch_ns:
            ts = midnight_early_ns + t
        else:
            ts = midnight_late_ns + t
        if ts < prev_ts:
            return Status.UNSORTED, i, COL_TIME, prev_ts, n_dup
        prev_ts = ts
        if (prev_line[6] == 1 and prev_line[0] == t and prev_line[1] == typ
                and prev_line[2] == order_id[i] and prev_line[3] == q and prev_line[4] == p
                and prev_line[5] == d):
            dup_rows[n_dup] = i
            n_dup += 1
        prev_line[0] = t
        prev_line[1] = typ
        prev_line[2] = order_id[i]
        prev_line[3] = q
        prev_line[4] = p
        prev_line[5] = d
        prev_line[6] = 1

        ev = out[i]
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
            ev["px_tick"] = p
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
    return Status.OK, -1, -1, prev_ts, n_dup


#: ``kind`` given to a message event the resync found to be a duplicated line
#: (see ``load_lobster``); the wrapper removes these rows.
KIND_REMOVED = 255


@njit(cache=True)
def to_ticks(events, unit, subtick_scale, subtick_raise):
    """Turn prices in LOBSTER units into ticks of ``unit`` LOBSTER units, in place.

    Book kinds (``ADD``/``CANCEL``/``DELETE``/``EXECUTE``/``DEPTH``/``SNAPSHOT``)
    must lie on the grid. A ``TRADE`` off the grid becomes ``TRADE_SUBTICK`` with
    ``px_tick = round(price / unit * subtick_scale)`` (half up), or is an error
    when ``subtick_raise``. Returns ``(status, index)``: ``(OK, -1)`` or
    ``(OFF_GRID, i)`` for the first event that cannot be converted (its price is
    left in LOBSTER units).
    """
    for i in range(events.shape[0]):
        k = events[i]["kind"]
        if k == EventKind.CLEAR or k == EventKind.HALT or k == EventKind.RESUME_QUOTING \
                or k == EventKind.RESUME_TRADING or k == KIND_REMOVED:
            continue
        p = events[i]["px_tick"]
        if p % unit == 0:
            events[i]["px_tick"] = p // unit
        elif k == EventKind.TRADE and not subtick_raise:
            events[i]["kind"] = EventKind.TRADE_SUBTICK
            events[i]["px_tick"] = (2 * p * subtick_scale + unit) // (2 * unit)
        else:
            return Status.OFF_GRID, i
    return Status.OK, -1


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
# The replayed book is a :class:`qlib.book.L2Book` (the library's one L2 book, through
# :mod:`qlib.book.nb`). Its keys count steps of ``state[ST_GRID]`` LOBSTER price units
# (key = price / grid on the bid, side index 0; -price / grid on the ask, 1): the grid is
# the gcd of every price the book has been given, so in the book a price level is one
# key, as in a book kept in ticks, not one per 1/10,000 dollar. A row bringing a price
# off the grid is not touched: the kernel returns ``REGRID`` and the wrapper re-keys the
# book on the finer grid (:func:`qlib.data._lobster_book.Resync.run`).

#: Indices of the ``state`` array of :func:`resync_block`.
ST_NEXT_EVENT = 0  # next message event to apply
ST_NEXT_DUP = 1  # next duplicated-line candidate of dup_rows
ST_N_CORR = 2  # corrections written
ST_VISIBLE_QTY = 3  # visible level present in the replay with another quantity
ST_VISIBLE_MISSING = 4  # visible level absent from the replay
ST_STALE_INSIDE = 5  # replay level between the file's best and L-th price, not shown
ST_STALE_BETTER = 6  # replay level better than the file's best on its side (crossing too)
ST_STALE_SHORT = 7  # replay level below the last level of a side with fewer than L levels
ST_CLAMPED = 8  # message removals that took a replay level below zero
ST_PRICE_GCD = 9  # gcd of every orderbook price seen (LOBSTER units; 0 before the first)
ST_GRID = 10  # LOBSTER units per key of the replayed book (0: not set yet)
ST_LEVELS_BID = 11  # levels of the replayed book, bid side (index 0)
ST_LEVELS_ASK = 12  # levels of the replayed book, ask side (index 1)
N_STATE = 13

#: ``col`` returned with ``Status.CAPACITY``: which buffer to grow, or ``REGRID``: the
#: row holds a price off ``state[ST_GRID]`` (re-key the book on a finer grid).
GROW_BOOK = 0
GROW_CORRECTIONS = 1
REGRID = 2

_F_CORR = int(EventFlag.RESYNC | EventFlag.TS_LOCAL_SYNTH)
_F_LAST = int(EventFlag.LAST)
_F_NOT_LAST = 0xFF ^ _F_LAST
_KEY_MIN = -(1 << 62)
_KEY_TOP = 1 << 62


@njit(cache=True, _nrt=False)
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@njit(cache=True, _nrt=False, inline="always")
def _level_qty(book, s, key):
    """Quantity of the replayed book at ``key`` on side index ``s`` (0.0: no level)."""
    if s == 0:
        return level_qty(book, Side.BUY, key)
    return level_qty(book, Side.SELL, -key)


@njit(cache=True, _nrt=False)
def set_book_level(book, state, s, key, qty):
    """Set ``qty`` at ``key`` on side index ``s`` of the replayed book (``qty <= 0``
    removes the level), keeping the level counts of ``state``."""
    _set_book_level(book, state, s, key, qty, _level_qty(book, s, key))


@njit(cache=True, _nrt=False, inline="always")
def _set_book_level(book, state, s, key, qty, old):
    """:func:`set_book_level` where the caller has read the level's quantity ``old``."""
    if qty > 0.0:
        set_level(book, s, key, qty)
        if old == 0.0:
            state[ST_LEVELS_BID + s] += 1
    elif old != 0.0:
        set_level(book, s, key, 0.0)
        state[ST_LEVELS_BID + s] -= 1


@njit(cache=True, _nrt=False)
def _apply_message(book, state, kind, side, px_tick, qty):
    """Apply one message event to the book by price aggregation (its own px and qty)."""
    if side == Side.BUY:
        s = 0
        key = px_tick // state[ST_GRID]
    elif side == Side.SELL:
        s = 1
        key = -(px_tick // state[ST_GRID])
    else:
        return
    old = _level_qty(book, s, key)
    if kind == EventKind.ADD:
        _set_book_level(book, state, s, key, old + qty, old)
    elif kind == EventKind.CANCEL or kind == EventKind.DELETE or kind == EventKind.EXECUTE:
        left = old - qty
        if left < 0.0:
            state[ST_CLAMPED] += 1
            left = 0.0
        _set_book_level(book, state, s, key, left, old)


@njit(cache=True, _nrt=False, inline="always")
def _off_grid(ev, grid, price_gcd):
    """True when the price of the message ``ev`` (a book kind), or a price of the row whose
    prices are folded into ``price_gcd`` (the gcd of every orderbook price so far, all of
    them on ``grid`` before this row), is not a multiple of ``grid``."""
    k = ev["kind"]
    if k == EventKind.ADD or k == EventKind.CANCEL or k == EventKind.DELETE \
            or k == EventKind.EXECUTE:
        if grid == 0 or ev["px_tick"] % grid != 0:
            return True
    if price_gcd == 0:
        return False  # no price yet
    return grid == 0 or price_gcd % grid != 0


@njit(cache=True, _nrt=False)
def _check_side(ob, i, levels, pc, empty, rising, state):
    """Validate one side of orderbook row ``i``; return ``(status, col, visible levels)``.

    ``pc`` is the side's price column in level 1 (0 ask, 2 bid). Prices must be
    positive with sizes > 0, strictly rising (asks) or falling (bids) with the
    level; the empty-level price (size 0) may only fill the deepest levels of a
    side. Every price is folded into the gcd ``state[ST_PRICE_GCD]``.
    """
    seen_empty = False
    prev = 0
    n_vis = 0
    g = state[ST_PRICE_GCD]
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
        if p <= 0:
            return Status.OFF_GRID, 4 * j + pc, n_vis
        if q <= 0:
            return Status.NEGATIVE_QTY, 4 * j + pc + 1, n_vis
        if j > 0 and ((rising and p <= prev) or (not rising and p >= prev)):
            return Status.UNSORTED, 4 * j + pc, n_vis
        if g == 0 or p % g != 0:
            g = _gcd(p, g)
        prev = p
        n_vis += 1
    state[ST_PRICE_GCD] = g
    return Status.OK, -1, n_vis


@njit(cache=True, _nrt=False, inline="always")
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


@njit(cache=True, _nrt=False)
def _diff_side(ob, i, s, k_vis, levels, book, corr, corr_after, state, after, ts_exch,
               ts_local, seq):
    """Emit the corrections of side index ``s`` (0 bid, 1 ask) against orderbook row ``i``.

    Walks the replayed side from its best level down (a merge with the file's levels,
    best first), so the corrections come out in that order.
    """
    pc = 2 if s == 0 else 0  # bid price column (s 0) or ask price column (s 1)
    side = Side.BUY if s == 0 else Side.SELL
    sign = 1 if s == 0 else -1
    # book keys are file prices over the grid (bids) or their negation (asks); every
    # price of the row is on the grid (``_off_grid``)
    g = state[ST_GRID]
    if k_vis == levels:
        lower = sign * (ob[i, 4 * (levels - 1) + pc] // g)
    else:
        lower = _KEY_MIN  # fewer than L levels: the window reaches the end of the side
    best_f = sign * (ob[i, pc] // g) if k_vis > 0 else _KEY_MIN
    last_f = sign * (ob[i, 4 * (k_vis - 1) + pc] // g) if k_vis > 0 else _KEY_MIN
    # the best level at or above ``lower`` (a best below it is not needed: every file
    # level is at or above ``lower`` and would be emitted as missing either way)
    bkey, bq = level_below(book, s, _KEY_TOP, lower)
    has_b = bq != 0.0
    j = 0
    while has_b or j < k_vis:
        if j < k_vis:
            fkey = sign * (ob[i, 4 * j + pc] // g)
            fq = float(ob[i, 4 * j + pc + 1])
            if not has_b or bkey < fkey:
                _emit(corr, corr_after, state, after, ts_exch, ts_local, seq, side,
                      ob[i, 4 * j + pc], fq)
                state[ST_VISIBLE_MISSING] += 1
                j += 1
                continue
            if bkey == fkey:
                if bq != fq:
                    _emit(corr, corr_after, state, after, ts_exch, ts_local, seq, side,
                          ob[i, 4 * j + pc], fq)
                    state[ST_VISIBLE_QTY] += 1
                bkey, bq = level_below(book, s, bkey, lower)
                has_b = bq != 0.0
                j += 1
                continue
        if bkey < lower:
            break
        _emit(corr, corr_after, state, after, ts_exch, ts_local, seq, side, sign * bkey * g,
              0.0)
        if k_vis == 0:
            state[ST_STALE_SHORT] += 1
        elif bkey > best_f:
            state[ST_STALE_BETTER] += 1
        elif k_vis == levels or bkey >= last_f:
            state[ST_STALE_INSIDE] += 1
        else:
            state[ST_STALE_SHORT] += 1
        bkey, bq = level_below(book, s, bkey, lower)
        has_b = bq != 0.0


@njit(cache=True, _nrt=False)
def _same_row(ob, i, prev_row):
    """True when orderbook row ``i`` equals the row before it (``prev_row`` for ``i == 0``)."""
    for c in range(ob.shape[1]):
        before = ob[i - 1, c] if i > 0 else prev_row[c]
        if ob[i, c] != before:
            return False
    return True


@njit(cache=True, _nrt=False)
def resync_block(ob, row0, start, msgs, dup_rows, dup_fate, prev_row, book, corr, corr_after,
                 state, levels, ask_empty, bid_empty):
    """Apply messages and emit L2 corrections against one block of orderbook rows.

    See ``load_lobster`` (``resync``). ``ob`` is the block, int64 ``(n, 4 * levels)``
    in file column order; its row ``i`` is file row ``row0 + i``, the book after
    message ``row0 + i``; ``prev_row`` is file row ``row0 - 1`` (updated here to
    the block's last row). ``msgs`` are all message events (one per message row,
    ``seq`` = row, prices in LOBSTER units). For each row from ``start``: the row is
    validated, its message is applied to ``book`` (a :class:`qlib.book.L2Book` keyed
    in steps of ``state[ST_GRID]`` LOBSTER units, its level counts in ``state``) by price
    aggregation, and a ``DEPTH | RESYNC`` record is written to ``corr`` for every
    level where the book differs from the row inside the visible window, with
    ``corr_after`` = the index in ``msgs`` after which it goes (-1: before
    ``msgs[0]``); ``LAST`` moves from the message to its last correction. The
    corrections are then applied to the book. Counters live in ``state`` (``ST_*``).

    ``dup_rows`` lists the book-changing message rows identical to the line before
    them (sorted). Such a row whose orderbook row equals the previous one did not
    change the book, so it is a repeated line: it is not applied, its event's
    ``kind`` becomes :data:`KIND_REMOVED` and ``dup_fate[d]`` 2; otherwise it is
    applied and ``dup_fate[d]`` is 1.

    Returns ``(status, row, col)``: ``(OK, n, -1)``; ``(CAPACITY, row, GROW_*)``
    before touching ``row`` when a buffer is too small (grow it: the book's overflow
    with :func:`qlib.book.l2.grow`; and call again with ``start=row``), or
    ``(CAPACITY, row, REGRID)`` before touching a valid ``row`` holding a price off the
    grid (re-key the book on the gcd of the grid and the row's prices and call again);
    a bad row's
    status with the block row and the column index; ``SEQUENCE_GAP`` when ``msgs``
    has no event for a row.
    """
    n = ob.shape[0]
    n_msgs = msgs.shape[0]
    for i in range(start, n):
        # a row sets at most one level per message and ``levels`` per side by correction
        if not overflow_room(book, levels + 1):
            return Status.CAPACITY, i, GROW_BOOK
        if (state[ST_N_CORR] + state[ST_LEVELS_BID] + state[ST_LEVELS_ASK] + 2 * levels + 2
                > corr.shape[0]):
            return Status.CAPACITY, i, GROW_CORRECTIONS
        st, col, n_ask = _check_side(ob, i, levels, 0, ask_empty, True, state)
        if st != Status.OK:
            return st, i, col
        st, col, n_bid = _check_side(ob, i, levels, 2, bid_empty, False, state)
        if st != Status.OK:
            return st, i, col
        r = row0 + i
        e = state[ST_NEXT_EVENT]
        if e >= n_msgs or msgs[e]["seq"] != r:
            return Status.SEQUENCE_GAP, i, -1
        ev = msgs[e]
        if _off_grid(ev, state[ST_GRID], state[ST_PRICE_GCD]):
            return Status.CAPACITY, i, REGRID
        d = state[ST_NEXT_DUP]
        apply = True
        if d < dup_rows.shape[0] and dup_rows[d] == r:
            state[ST_NEXT_DUP] = d + 1
            if r > 0 and _same_row(ob, i, prev_row):
                apply = False
                ev["kind"] = KIND_REMOVED
                dup_fate[d] = 2
            else:
                dup_fate[d] = 1
        if apply:
            _apply_message(book, state, ev["kind"], ev["side"], ev["px_tick"], ev["qty"])
        after = e
        ts_exch = ev["ts_exch"]
        ts_local = ev["ts_local"]
        state[ST_NEXT_EVENT] = e + 1
        k0 = state[ST_N_CORR]
        _diff_side(ob, i, 0, n_bid, levels, book, corr, corr_after, state, after, ts_exch,
                   ts_local, r)
        _diff_side(ob, i, 1, n_ask, levels, book, corr, corr_after, state, after, ts_exch,
                   ts_local, r)
        k1 = state[ST_N_CORR]
        if k1 > k0:
            corr[k1 - 1]["flags"] = _F_CORR | _F_LAST
            msgs[e]["flags"] = msgs[e]["flags"] & _F_NOT_LAST
            for k in range(k0, k1):
                c = corr[k]
                s = 0 if c["side"] == Side.BUY else 1
                key = c["px_tick"] // state[ST_GRID]
                set_book_level(book, state, s, key if s == 0 else -key, c["qty"])
    if n > 0:
        for c in range(ob.shape[1]):
            prev_row[c] = ob[n - 1, c]
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
