"""Numba kernel of the simulated market's calibration: one scan of a day's events.

Arrays and scalars in, arrays and status codes out; no pandas, no I/O. The public
wrappers are :func:`qlib.data.calibrate.book_stats` and
:func:`qlib.data.calibrate.fit_params`; their docstrings give the estimators. Split
from :mod:`qlib.data._sim_kernels` (the simulation itself).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from qlib.enums import EventFlag, EventKind, Side, Status

# EventFlag bits as plain ints (numba types IntEnum members, not IntFlag ones)
_LAST = int(EventFlag.LAST)
_SNAPSHOT = int(EventFlag.SNAPSHOT)


# -- calibration ---------------------------------------------------------------------
@njit(cache=True)
def _wipe(q, lo, hi):
    # zero q[lo..hi] and return the quantity removed
    tot = 0.0
    for x in range(lo, hi + 1):
        tot += q[x]
        q[x] = 0.0
    return tot


@njit(cache=True)
def _next_down(q, x):
    # highest index <= x with positive quantity, -1 if none
    while x >= 0 and q[x] <= 0.0:
        x -= 1
    return x


@njit(cache=True)
def _next_up(q, x):
    # lowest index >= x with positive quantity, len(q) if none
    n = q.shape[0]
    while x < n and q[x] <= 0.0:
        x += 1
    return x


@njit(cache=True)
def _set_best(q, x, qty, best, is_bid):
    # put absolute quantity qty at index x of one side; return that side's new best
    q[x] = qty
    if is_bid:
        if qty > 0.0 and x > best:
            return x
        if qty <= 0.0 and x == best:
            return _next_down(q, x)
    else:
        if qty > 0.0 and x < best:
            return x
        if qty <= 0.0 and x == best:
            return _next_up(q, x)
    return best


@njit(cache=True)
def fit_scan(events, px_lo, bid_q, ask_q, lot, n_add, n_add_in, t_in, n_cancel, cancel_qty,
             exposure, t_spread, n_in_spread, n_mo_spread, n_cancel_best, cancel_qty_best,
             exposure_best, t_best, n_add_own, n_cancel_own, cancel_qty_own, exposure_own, ins_s,
             ins_j, mo_q, mo_v, add_k, n_add_own_s):
    """Accumulate the counts :func:`qlib.data.calibrate.fit_params` needs.

    Tracks an L2 book by price aggregation (``bid_q``/``ask_q`` indexed by
    ``px_tick - px_lo``; SNAPSHOT and ADD add, CANCEL/DELETE/EXECUTE subtract,
    clamped at zero, DEPTH sets the level's quantity) and, with distances measured
    from the opposite best *before* each record, fills per distance ``i = 1..D``
    (index ``i``): ``n_add`` (ADDs), ``n_add_in`` (ADDs inside the spread,
    ``i < spread``), ``t_in`` (seconds with ``spread > i``), ``n_cancel`` and
    ``cancel_qty`` (CANCEL/DELETE count and lots), ``exposure`` (lots x seconds
    resting at distance i). Per spread ``s`` before the record (index
    ``min(s, len - 1)``): ``t_spread`` (two-sided seconds), ``n_in_spread``
    (quote-improving ADDs), ``n_mo_spread`` (market orders). Per whole lots ``q``
    resting at a side's best level (index ``min(int(q), len - 1)``): CANCEL/DELETE
    count and lots there, lots x seconds and side-seconds (``*_best``). Per tick
    ``k = 0..D-1`` behind the record's own side's best (``*_own``): ADDs,
    CANCEL/DELETE count and lots, lots x seconds; ``n_add_own_s[s, k]`` the ADDs
    there while the spread was ``s`` (row ``min(s, len - 1)``). Per
    quote-improving ADD: ``ins_s`` (spread) and ``ins_j`` (ticks in front of its
    own best). Per ADD record, in order: ``add_k``, the ticks ``k >= 0`` behind its
    own side's best, ``-1`` in front of it (inside the spread), ``-2`` when the
    book was one-sided or the ADD at or through the opposite best. Per market
    order: ``mo_q`` (lots at the level of its first EXECUTE,
    before it) and ``mo_v`` (lots executed). DEPTH records (absolute level
    quantities, such as a loader's RESYNC corrections) change the book but are
    counted neither as ADDs nor as cancels.

    Returns ``(status, row, totals)`` with ``totals`` a tuple, in order: seconds
    spanned, seconds two-sided, integral of the spread (ticks x s), sum of spread
    after LAST records and their count, market orders, quote-improving ADDs, ADDs
    within depth, sum and sum of squares of their log sizes, ADD / CANCEL+DELETE /
    EXECUTE / DEPTH records after the snapshot, quantity clamped at zero, and stale
    quantity wiped.

    The source may miss messages (a LOBSTER level-L file has none for orders
    beyond level L), so tracked levels can go stale. Two rules keep the tracked
    book uncrossed: an ADD at or through the opposite best wipes the opposite
    levels it crosses, and an EXECUTE behind its side's tracked best wipes the
    levels in front of it (executions happen at the best).
    """
    depth = n_add.shape[0] - 1
    s_cap = t_spread.shape[0] - 1
    q_cap = t_best.shape[0] - 1
    n_px = bid_q.shape[0]
    bid = -1  # index into bid_q; -1: side empty
    ask = n_px  # n_px: side empty
    t_first = np.int64(0)
    t_prev = np.int64(0)
    started = False
    t_two = 0.0
    spread_int = 0.0
    spread_ev = 0.0
    n_spread_ev = 0
    n_mkt = 0
    n_ins = 0
    n_lim = 0
    lim_sum = 0.0
    lim_sq = 0.0
    cnt_add = 0
    cnt_cancel = 0
    cnt_exec = 0
    cnt_depth = 0
    clamped = 0.0
    stale = 0.0
    grp_open = False
    grp_ts = np.int64(0)
    grp_side = 0
    grp_qty = 0.0
    grp_q0 = 0.0
    grp_s = -1
    zero = (0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0, 0.0, 0.0, 0, 0, 0, 0, 0.0, 0.0)
    for r in range(events.shape[0]):
        ev = events[r]
        kind = ev["kind"]
        side = ev["side"]
        ts = ev["ts_exch"]
        qty = ev["qty"] / lot
        flags = ev["flags"]
        if not started:
            t_first = ts
            t_prev = ts
            started = True
        if ts < t_prev:
            return Status.UNSORTED, r, zero
        # integrate the book held over (t_prev, ts)
        if ts > t_prev and bid >= 0 and ask < n_px:
            dt = (ts - t_prev) * 1e-9
            t_two += dt
            i0 = ask - bid
            spread_int += dt * i0
            sk = i0 if i0 < s_cap else s_cap
            t_spread[sk] += dt
            e = (bid_q[bid] + ask_q[ask]) * dt
            for qb in (bid_q[bid], ask_q[ask]):
                b = int(qb) if qb < q_cap else q_cap
                exposure_best[b] += qb * dt
                t_best[b] += dt
            if i0 < 1:
                i0 = 1
            for i in range(1, i0 if i0 <= depth else depth + 1):
                t_in[i] += dt
            if i0 <= depth:
                exposure[i0] += e
            for k in range(depth):
                e = 0.0
                if bid - k >= 0:
                    e += bid_q[bid - k]
                if ask + k < n_px:
                    e += ask_q[ask + k]
                exposure_own[k] += e * dt
            for i in range(i0 + 1, depth + 1):
                pb = ask - i
                pa = bid + i
                e = 0.0
                if pb >= 0:
                    e += bid_q[pb]
                if pa < n_px:
                    e += ask_q[pa]
                exposure[i] += e * dt
        t_prev = ts
        is_exec = kind == EventKind.EXECUTE
        # close a market-order group: consecutive EXECUTEs with one ts and side
        if grp_open and not (is_exec and ts == grp_ts and side == grp_side):
            if grp_qty > 0.0:
                mo_q[n_mkt] = grp_q0
                mo_v[n_mkt] = grp_qty
                n_mkt += 1
                if grp_s >= 0:
                    n_mo_spread[grp_s if grp_s < s_cap else s_cap] += 1
            grp_open = False
        if kind == EventKind.SNAPSHOT or kind == EventKind.ADD:
            if side != Side.BUY and side != Side.SELL:
                return Status.UNKNOWN_KIND, r, zero
            x = ev["px_tick"] - px_lo
            if x < 0 or x >= n_px:
                return Status.OFF_GRID, r, zero
            if kind == EventKind.ADD:
                add_k[cnt_add] = -2
                cnt_add += 1
                if bid >= 0 and ask < n_px:
                    s = ask - bid
                    dist = ask - x if side == Side.BUY else x - bid
                    if dist >= 1:
                        add_k[cnt_add - 1] = dist - s if dist >= s else -1
                    if 1 <= dist < s:
                        n_in_spread[s if s < s_cap else s_cap] += 1
                        ins_s[n_ins] = s
                        ins_j[n_ins] = s - dist
                        n_ins += 1
                    k = dist - s
                    if 0 <= k < depth:
                        n_add_own[k] += 1
                        n_add_own_s[s if s < s_cap else s_cap, k] += 1
                    if 1 <= dist <= depth:
                        n_add[dist] += 1
                        if dist < s:
                            n_add_in[dist] += 1
                        if qty > 0.0:
                            lg = math.log(qty)
                            n_lim += 1
                            lim_sum += lg
                            lim_sq += lg * lg
            if side == Side.BUY:
                if x >= ask and ask < n_px:
                    # the true book is never crossed: asks at or below x are stale
                    stale += _wipe(ask_q, ask, x)
                    ask = _next_up(ask_q, x + 1)
                bid_q[x] += qty
                if x > bid:
                    bid = x
            else:
                if x <= bid and bid >= 0:
                    stale += _wipe(bid_q, x, bid)
                    bid = _next_down(bid_q, x - 1)
                ask_q[x] += qty
                if x < ask:
                    ask = x
        elif kind == EventKind.CANCEL or kind == EventKind.DELETE or is_exec:
            if side != Side.BUY and side != Side.SELL:
                return Status.UNKNOWN_KIND, r, zero
            x = ev["px_tick"] - px_lo
            if x < 0 or x >= n_px:
                return Status.OFF_GRID, r, zero
            if is_exec:
                # executions happen at the best: levels better than x are stale
                if side == Side.BUY and x < bid:
                    stale += _wipe(bid_q, x + 1, bid)
                    bid = _next_down(bid_q, x)
                elif side == Side.SELL and x > ask:
                    stale += _wipe(ask_q, ask, x - 1)
                    ask = _next_up(ask_q, x)
                cnt_exec += 1
                if grp_open:
                    grp_qty += qty
                else:
                    grp_open = True
                    grp_ts = ts
                    grp_side = side
                    grp_qty = qty
                    grp_q0 = bid_q[x] if side == Side.BUY else ask_q[x]
                    grp_s = ask - bid if bid >= 0 and ask < n_px else -1
            else:
                cnt_cancel += 1
                if bid >= 0 and ask < n_px:
                    dist = ask - x if side == Side.BUY else x - bid
                    if 1 <= dist <= depth:
                        n_cancel[dist] += 1
                        cancel_qty[dist] += qty
                    k = dist - (ask - bid)
                    if 0 <= k < depth:
                        n_cancel_own[k] += 1
                        cancel_qty_own[k] += qty
                    if x == (bid if side == Side.BUY else ask):
                        qb = bid_q[x] if side == Side.BUY else ask_q[x]
                        b = int(qb) if qb < q_cap else q_cap
                        n_cancel_best[b] += 1
                        cancel_qty_best[b] += qty
            if side == Side.BUY:
                left = bid_q[x] - qty
                if left < 0.0:
                    clamped -= left
                    left = 0.0
                bid_q[x] = left
                if left == 0.0 and x == bid:
                    bid = _next_down(bid_q, x)
            else:
                left = ask_q[x] - qty
                if left < 0.0:
                    clamped -= left
                    left = 0.0
                ask_q[x] = left
                if left == 0.0 and x == ask:
                    ask = _next_up(ask_q, x)
        elif kind == EventKind.DEPTH:
            if side != Side.BUY and side != Side.SELL:
                return Status.UNKNOWN_KIND, r, zero
            x = ev["px_tick"] - px_lo
            if x < 0 or x >= n_px:
                return Status.OFF_GRID, r, zero
            cnt_depth += 1
            if side == Side.BUY:
                if qty > 0.0 and x >= ask and ask < n_px:
                    stale += _wipe(ask_q, ask, x)
                    ask = _next_up(ask_q, x + 1)
                bid = _set_best(bid_q, x, qty, bid, True)
            else:
                if qty > 0.0 and x <= bid and bid >= 0:
                    stale += _wipe(bid_q, x, bid)
                    bid = _next_down(bid_q, x - 1)
                ask = _set_best(ask_q, x, qty, ask, False)
        elif kind == EventKind.CLEAR:
            if side != Side.SELL:
                bid_q[:] = 0.0
                bid = -1
            if side != Side.BUY:
                ask_q[:] = 0.0
                ask = n_px
        elif kind == EventKind.MODIFY:
            return Status.UNKNOWN_KIND, r, zero
        if (flags & _LAST) and bid >= 0 and ask < n_px and not (flags & _SNAPSHOT):
            spread_ev += ask - bid
            n_spread_ev += 1
    if grp_open and grp_qty > 0.0:
        mo_q[n_mkt] = grp_q0
        mo_v[n_mkt] = grp_qty
        n_mkt += 1
        if grp_s >= 0:
            n_mo_spread[grp_s if grp_s < s_cap else s_cap] += 1
    span = (t_prev - t_first) * 1e-9
    return Status.OK, -1, (span, t_two, spread_int, spread_ev, n_spread_ev, n_mkt, n_ins, n_lim,
                           lim_sum, lim_sq, cnt_add, cnt_cancel, cnt_exec, cnt_depth, clamped,
                           stale)
