"""Numba kernels of the simulated market and of its calibration.

Arrays and scalars in, arrays and status codes out; no pandas, no I/O. The public
wrappers are :func:`qlib.data.simulate.simulate` and
:func:`qlib.data.calibrate.fit_params`; their docstrings give the model.

Book layout (fixed arrays, allocated once by the wrapper)
----------------------------------------------------------
``q_id[G, C]`` (uint64), ``q_qty[G, C]`` (float64, lots), ``q_n[G]`` (int64):
price ``p`` (ticks) lives in slot ``p & (G - 1)``; ``q_id[slot, :q_n[slot]]`` is the
FIFO queue of that level, oldest first. The model keeps every resting order within
``window`` ticks of the opposite best, so with ``G > 2 * window`` two live prices
never share a slot.

``st`` (int64) is the state vector carried from call to call (so a run can pause
when the output is full and resume bit-identically): see the ``_ST_*`` offsets.
``rng`` (uint64[4]) is the xoshiro256** state, so the jitted kernel and its
``.py_func`` draw the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from qlib.enums import EventFlag, EventKind, Side, Status

# Offsets into the int64 state vector ``st`` (private layout of these kernels).
_ST_BID = 0          # best bid, ticks
_ST_ASK = 1          # best ask, ticks
_ST_NEXT_ID = 2      # next order id
_ST_TS = 3           # exchange clock, ns since epoch
_ST_TS_LOCAL = 4     # receive clock of the last event, ns since epoch
_ST_SEQ = 5          # seq of the next record
_ST_N_ORDERS = 6     # resting orders, both sides
STATE_LEN = 7

_U1 = np.uint64(1)
_U5 = np.uint64(5)
_U7 = np.uint64(7)
_U9 = np.uint64(9)
_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U64 = np.uint64(64)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53
_TWO_PI = 2.0 * math.pi

# EventFlag bits as plain ints (numba types IntEnum members, not IntFlag ones)
_LAST = int(EventFlag.LAST)
_SNAPSHOT = int(EventFlag.SNAPSHOT)
_SUMMARY = int(EventFlag.SUMMARY)
_REC_FLAGS = int(EventFlag.TS_LOCAL_SYNTH)  # every simulated record has a modelled ts_local


# -- random numbers: xoshiro256** (Blackman & Vigna 2018) ---------------------------
@njit(cache=True)
def _rotl(x, k):
    return (x << k) | (x >> (_U64 - k))


@njit(cache=True)
def next_u64(s):
    """Advance the xoshiro256** state ``s`` (uint64[4]) and return 64 random bits."""
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    result = _rotl(s1 * _U5, _U7) * _U9
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _U45)
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
    return result


@njit(cache=True)
def uniform(s):
    """Return a uniform draw in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> _U11) * _TWO_M53


@njit(cache=True)
def _exponential(s):
    return -math.log(1.0 - uniform(s))


@njit(cache=True)
def _normal(s):
    # Box-Muller, one of the pair kept: 2 uniforms per draw
    u1 = 1.0 - uniform(s)
    u2 = uniform(s)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True)
def _lots(s, log_median, sigma):
    # lognormal size rounded to whole lots, at least one lot
    v = math.floor(math.exp(log_median + sigma * _normal(s)) + 0.5)
    return v if v >= 1.0 else 1.0


# -- book primitives -------------------------------------------------------------
@njit(cache=True)
def _put(out, n, ts, ts_local, seq, px, qty, oid, kind, side, flags):
    rec = out[n]
    rec["ts_exch"] = ts
    rec["ts_local"] = ts_local
    rec["seq"] = seq
    rec["px_tick"] = px
    rec["qty"] = qty
    rec["order_id"] = oid
    rec["kind"] = kind
    rec["side"] = side
    rec["flags"] = flags


@njit(cache=True)
def _remove(q_id, q_qty, q_n, slot, k):
    # remove element k of the level's FIFO queue, keeping the others in order
    n = q_n[slot]
    for j in range(k, n - 1):
        q_id[slot, j] = q_id[slot, j + 1]
        q_qty[slot, j] = q_qty[slot, j + 1]
    q_n[slot] = n - 1


@njit(cache=True)
def _scan(q_n, mask, start, stop, step):
    # first occupied price from start towards stop (inclusive); (False, start) if none
    p = start
    while (step > 0 and p <= stop) or (step < 0 and p >= stop):
        if q_n[p & mask] > 0:
            return True, p
        p += step
    return False, start


@njit(cache=True)
def _delete_levels(out, n, ts, tl, seq, q_id, q_qty, q_n, mask, lo, hi, side):
    # delete every order at prices lo..hi (truncation of the window); returns (n, seq, removed)
    removed = 0
    for p in range(lo, hi + 1):
        slot = p & mask
        for k in range(q_n[slot]):
            _put(out, n, ts, tl, seq, p, q_qty[slot, k], q_id[slot, k],
                 EventKind.DELETE, side, _REC_FLAGS)
            n += 1
            seq += 1
        removed += q_n[slot]
        q_n[slot] = 0
    return n, seq, removed


@njit(cache=True)
def _table(s, q):
    # draw from a quantile table q[0..K] at probabilities k/K, linear between knots
    kk = q.shape[0] - 1
    u = uniform(s) * kk
    k = int(u)
    if k >= kk:
        k = kk - 1
    return q[k] + (u - k) * (q[k + 1] - q[k])


@njit(cache=True)
def _bucket(q_qty, slot, cnt, edges):
    # number of edges at or below the lots resting in one level
    q = 0.0
    for k in range(cnt):
        q += q_qty[slot, k]
    b = 0
    while b < edges.shape[0] and edges[b] <= q:
        b += 1
    return b


# -- the simulation ----------------------------------------------------------------
@njit(cache=True)
def init_book(st, rng, q_id, q_qty, q_n, lam, theta, lim_log_median, lim_sigma, p0):
    """Fill an empty book around ``p0``; see :func:`qlib.data.simulate.simulate`.

    Best bid ``p0``, best ask ``p0 + 1``; level ``j`` ticks behind each best holds
    ``Poisson(lam[j] / theta[j])`` orders (at least one at the best), the
    stationary mean of an M/M/inf queue fed at ``lam`` and emptied at ``theta``.
    Returns the number of orders placed.
    """
    mask = q_n.shape[0] - 1
    cap = q_id.shape[1]
    depth = lam.shape[0]
    oid = st[_ST_NEXT_ID]
    placed = 0
    for side in (Side.BUY, Side.SELL):
        for j in range(depth):
            p = p0 - j if side == Side.BUY else p0 + 1 + j
            mean = lam[j] / theta[j + 1]
            # Poisson by counting unit-rate exponential arrivals within `mean`
            cnt = 0
            acc = _exponential(rng)
            while acc < mean and cnt < cap:
                cnt += 1
                acc += _exponential(rng)
            if j == 0 and cnt == 0:
                cnt = 1
            slot = p & mask
            for _ in range(cnt):
                k = q_n[slot]
                q_id[slot, k] = np.uint64(oid)
                q_qty[slot, k] = _lots(rng, lim_log_median, lim_sigma)
                q_n[slot] = k + 1
                oid += 1
                placed += 1
    st[_ST_BID] = p0
    st[_ST_ASK] = p0 + 1
    st[_ST_NEXT_ID] = oid
    st[_ST_N_ORDERS] = placed
    return placed


@njit(cache=True)
def write_snapshot(out, n, st, q_id, q_qty, q_n, window):
    """Write CLEAR and the L3 snapshot of the book at ``st``'s clocks; return the new row count."""
    mask = q_n.shape[0] - 1
    bid = st[_ST_BID]
    ask = st[_ST_ASK]
    ts = st[_ST_TS]
    tl = st[_ST_TS_LOCAL]
    seq = st[_ST_SEQ]
    fl = _SNAPSHOT | _REC_FLAGS
    _put(out, n, ts, tl, seq, 0, 0.0, np.uint64(0), EventKind.CLEAR, Side.NONE, fl)
    n += 1
    seq += 1
    for p in range(bid, ask - window - 1, -1):
        slot = p & mask
        for k in range(q_n[slot]):
            _put(out, n, ts, tl, seq, p, q_qty[slot, k], q_id[slot, k],
                 EventKind.SNAPSHOT, Side.BUY, fl)
            n += 1
            seq += 1
    for p in range(ask, bid + window + 1):
        slot = p & mask
        for k in range(q_n[slot]):
            _put(out, n, ts, tl, seq, p, q_qty[slot, k], q_id[slot, k],
                 EventKind.SNAPSHOT, Side.SELL, fl)
            n += 1
            seq += 1
    out[n - 1]["flags"] = out[n - 1]["flags"] | _LAST
    st[_ST_SEQ] = seq
    return n


@njit(cache=True)
def simulate_events(out, n, n_events, st, rng, q_id, q_qty, q_n, lam_cum, lam_in_s, pos_q,
                    theta, theta_best_q, best_edges, mu_s, lim_log_median, lim_sigma, mkt_log_median,
                    mkt_sigma, mkt_frac_q, mkt_over_p, latency_median_ns, latency_sigma, window,
                    own):
    """Run the model clock; see :func:`qlib.data.simulate.simulate`.

    Arrays ending in ``_s`` are indexed by the spread in ticks, their last entry
    serving wider spreads: ``lam_in_s`` the per-side quote-improving rate (with
    ``pos_q`` the quantile table of its relative position; an empty ``pos_q``
    means CST's ``lam_cum`` inside the spread too), ``theta_best_s`` the per-order
    ``mu_s`` the per-side market order rate. ``theta_best_q[b]`` is the per-order
    cancel rate at a best level holding ``q`` lots with ``b`` the number of
    ``best_edges`` at or below ``q`` (empty: ``theta`` at the best too). An empty ``mkt_frac_q`` means lognormal market
    order sizes independent of the book. With ``own`` true, ``lam_cum`` and
    ``theta`` are indexed by the ticks ``k >= 0`` behind the order's own best
    (and ``pos_q`` must be given); otherwise by the distance ``i`` from the
    opposite best (CST).

    Writes records to ``out`` from row ``n`` and returns ``(status, n, done)``:
    the new row count and the model events completed. It stops early with
    ``Status.OK`` when ``out`` might not hold the next event (the caller grows
    ``out`` and calls again: the state lives in ``st``, ``rng`` and the book), and
    with ``Status.CAPACITY`` when a level's queue is full (nothing of that event
    is written).
    """
    mask = q_n.shape[0] - 1
    cap = q_id.shape[1]
    depth = lam_cum.shape[0]
    n_in_s = lam_in_s.shape[0]
    n_tb = theta_best_q.shape[0]
    n_mu_s = mu_s.shape[0]
    qr_inside = pos_q.shape[0] > 1
    qr_market = mkt_frac_q.shape[0] > 1
    bid = st[_ST_BID]
    ask = st[_ST_ASK]
    oid = st[_ST_NEXT_ID]
    ts = st[_ST_TS]
    tl = st[_ST_TS_LOCAL]
    seq = st[_ST_SEQ]
    n_orders = st[_ST_N_ORDERS]
    status = Status.OK
    done = 0
    while done < n_events:
        if out.shape[0] - n < n_orders + 8:
            break
        # total cancellation intensity of each side: sum over levels of theta(i) * orders
        spread = ask - bid
        nb0 = q_n[bid & mask]
        na0 = q_n[ask & mask]
        if n_tb > 0:
            th_bid = theta_best_q[_bucket(q_qty, bid & mask, nb0, best_edges)]
            th_ask = theta_best_q[_bucket(q_qty, ask & mask, na0, best_edges)]
        else:
            th_bid = theta[0] if own else theta[spread]
            th_ask = th_bid
        rc_bid = th_bid * nb0
        rc_ask = th_ask * na0
        t0 = 0 if own else spread  # theta index of the best level
        for k in range(1, window - spread + 1):
            nb = q_n[(bid - k) & mask]
            na = q_n[(ask + k) & mask]
            if nb > 0:
                rc_bid += theta[t0 + k] * nb
            if na > 0:
                rc_ask += theta[t0 + k] * na
        # limit arrivals per side: a_in inside the spread, lambda behind the quotes
        if own:
            kin = 0
            base = 0.0
            n_behind = window - spread + 1  # ticks 0..window - spread behind the own best
            if n_behind > depth:
                n_behind = depth
            top = lam_cum[n_behind - 1]
        else:
            kin = spread - 1 if spread - 1 < depth else depth
            base = lam_cum[kin - 1] if kin > 0 else 0.0
            n_behind = depth
            top = lam_cum[depth - 1]
        if qr_inside:
            a_in = lam_in_s[spread if spread < n_in_s else n_in_s - 1] if spread > 1 else 0.0
        else:
            a_in = base
        lam_side = a_in + top - base
        mu = mu_s[spread if spread < n_mu_s else n_mu_s - 1]
        rate = 2.0 * lam_side + 2.0 * mu + rc_bid + rc_ask
        ts += np.int64(math.floor(_exponential(rng) / rate * 1e9 + 0.5))
        lat = np.int64(math.floor(latency_median_ns * math.exp(latency_sigma * _normal(rng)) + 0.5))
        if ts + lat > tl:
            tl = ts + lat
        u = uniform(rng) * rate
        old_bid = bid
        old_ask = ask
        if u < 2.0 * lam_side:
            # limit order at distance i >= 1 from the opposite best
            side = Side.BUY if u < lam_side else Side.SELL
            v = u if side == Side.BUY else u - lam_side
            if v < a_in and qr_inside:
                # quote-improving order j ticks in front of its own best, j / (s - 1) ~ pos_q
                j = np.int64(math.ceil(_table(rng, pos_q) * (spread - 1)))
                if j < 1:
                    j = 1
                if j > spread - 1:
                    j = spread - 1
                i = spread - j - 1
            elif v < a_in:
                i = np.searchsorted(lam_cum, v, side="right")
                if i > kin - 1:
                    i = kin - 1
            elif own:
                # k ticks behind the own best, k ~ lam_cum over 0..n_behind - 1
                k = np.searchsorted(lam_cum, v - a_in, side="right")
                if k > n_behind - 1:
                    k = n_behind - 1
                i = spread + k - 1
            else:
                i = np.searchsorted(lam_cum, v - a_in + base, side="right")
                if i < kin:
                    i = kin
                if i > depth - 1:
                    i = depth - 1
            dist = i + 1
            p = ask - dist if side == Side.BUY else bid + dist
            slot = p & mask
            k = q_n[slot]
            if k >= cap:
                status = Status.CAPACITY
                break
            qty = _lots(rng, lim_log_median, lim_sigma)
            q_id[slot, k] = np.uint64(oid)
            q_qty[slot, k] = qty
            q_n[slot] = k + 1
            n_orders += 1
            _put(out, n, ts, tl, seq, p, qty, np.uint64(oid), EventKind.ADD, side, _REC_FLAGS)
            n += 1
            seq += 1
            oid += 1
            if side == Side.BUY and p > bid:
                bid = p
            elif side == Side.SELL and p < ask:
                ask = p
        elif u < 2.0 * lam_side + 2.0 * mu:
            # market order: walks the opposite side's FIFO queues from the best
            aggressor = Side.BUY if u < 2.0 * lam_side + mu else Side.SELL
            rest_side = -aggressor
            px = ask if aggressor == Side.BUY else bid
            if qr_market:
                # sized to the opposite best queue: a fraction f ~ mkt_frac_q of it, or
                # (probability mkt_over_p) all of it plus a lognormal remainder
                slot = px & mask
                q_best = 0.0
                for k in range(q_n[slot]):
                    q_best += q_qty[slot, k]
                if uniform(rng) < mkt_over_p:
                    rem = q_best + _lots(rng, mkt_log_median, mkt_sigma)
                else:
                    rem = math.floor(_table(rng, mkt_frac_q) * q_best + 0.5)
                    if rem < 1.0:
                        rem = 1.0
            else:
                rem = _lots(rng, mkt_log_median, mkt_sigma)
            filled = 0.0
            last_px = px
            empty = False
            while rem > 0.0:
                slot = px & mask
                q = q_qty[slot, 0]
                f = q if q < rem else rem
                _put(out, n, ts, tl, seq, px, f, q_id[slot, 0], EventKind.EXECUTE,
                     rest_side, _REC_FLAGS)
                n += 1
                seq += 1
                rem -= f
                filled += f
                last_px = px
                if f >= q:
                    _remove(q_id, q_qty, q_n, slot, 0)
                    n_orders -= 1
                    if q_n[slot] == 0:
                        if aggressor == Side.BUY:
                            found, px = _scan(q_n, mask, px + 1, bid + window, 1)
                        else:
                            found, px = _scan(q_n, mask, px - 1, ask - window, -1)
                        if not found:
                            empty = True
                            break
                else:
                    q_qty[slot, 0] = q - f
            _put(out, n, ts, tl, seq, last_px, filled, np.uint64(0), EventKind.TRADE,
                 aggressor, _REC_FLAGS | _SUMMARY)
            n += 1
            seq += 1
            if aggressor == Side.BUY:
                ask = px
            else:
                bid = px
            if empty:
                # boundary condition: refill the emptied side at `depth` ticks
                p = bid + depth if aggressor == Side.BUY else ask - depth
                qty = _lots(rng, lim_log_median, lim_sigma)
                slot = p & mask
                q_id[slot, 0] = np.uint64(oid)
                q_qty[slot, 0] = qty
                q_n[slot] = 1
                n_orders += 1
                _put(out, n, ts, tl, seq, p, qty, np.uint64(oid), EventKind.ADD,
                     rest_side, _REC_FLAGS)
                n += 1
                seq += 1
                oid += 1
                if aggressor == Side.BUY:
                    ask = p
                else:
                    bid = p
        else:
            # cancellation of one resting order, chosen with probability theta(i) / total
            v = u - 2.0 * lam_side - 2.0 * mu
            side = Side.BUY if v < rc_bid else Side.SELL
            if side == Side.SELL:
                v -= rc_bid
            acc = 0.0
            p = bid if side == Side.BUY else ask
            for k in range(0, window - spread + 1):
                pi = bid - k if side == Side.BUY else ask + k
                c = q_n[pi & mask]
                if c > 0:
                    p = pi
                    if k == 0:
                        acc += (th_bid if side == Side.BUY else th_ask) * c
                    else:
                        acc += theta[t0 + k] * c
                    if acc > v:
                        break
            slot = p & mask
            c = q_n[slot]
            k = int(uniform(rng) * c)
            if k >= c:
                k = c - 1
            _put(out, n, ts, tl, seq, p, q_qty[slot, k], q_id[slot, k], EventKind.DELETE,
                 side, _REC_FLAGS)
            n += 1
            seq += 1
            _remove(q_id, q_qty, q_n, slot, k)
            n_orders -= 1
            if c == 1 and p == (bid if side == Side.BUY else ask):
                if side == Side.BUY:
                    found, p2 = _scan(q_n, mask, p - 1, ask - window, -1)
                else:
                    found, p2 = _scan(q_n, mask, p + 1, bid + window, 1)
                if not found:
                    # boundary condition: the last order of a side is replaced at `depth`
                    p2 = ask - depth if side == Side.BUY else bid + depth
                    qty = _lots(rng, lim_log_median, lim_sigma)
                    s2 = p2 & mask
                    q_id[s2, 0] = np.uint64(oid)
                    q_qty[s2, 0] = qty
                    q_n[s2] = 1
                    n_orders += 1
                    _put(out, n, ts, tl, seq, p2, qty, np.uint64(oid), EventKind.ADD,
                         side, _REC_FLAGS)
                    n += 1
                    seq += 1
                    oid += 1
                if side == Side.BUY:
                    bid = p2
                else:
                    ask = p2
        # window truncation: orders more than `window` ticks from the opposite best leave
        if ask > old_ask:
            n, seq, removed = _delete_levels(out, n, ts, tl, seq, q_id, q_qty, q_n, mask,
                                             old_ask - window, ask - window - 1, Side.BUY)
            n_orders -= removed
        if bid < old_bid:
            n, seq, removed = _delete_levels(out, n, ts, tl, seq, q_id, q_qty, q_n, mask,
                                             bid + window + 1, old_bid + window, Side.SELL)
            n_orders -= removed
        out[n - 1]["flags"] = out[n - 1]["flags"] | _LAST
        done += 1
    st[_ST_BID] = bid
    st[_ST_ASK] = ask
    st[_ST_NEXT_ID] = oid
    st[_ST_TS] = ts
    st[_ST_TS_LOCAL] = tl
    st[_ST_SEQ] = seq
    st[_ST_N_ORDERS] = n_orders
    return status, n, done


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
             ins_j, mo_q, mo_v):
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
    count and lots there, lots x seconds and side-seconds (``*_best``). Per tick ``k = 0..D-1`` behind the record's own
    side's best (``*_own``): ADDs, CANCEL/DELETE count and lots, lots x seconds. Per
    quote-improving ADD: ``ins_s`` (spread) and ``ins_j`` (ticks in front of its
    own best). Per market order: ``mo_q`` (lots at the level of its first EXECUTE,
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
                cnt_add += 1
                if bid >= 0 and ask < n_px:
                    s = ask - bid
                    dist = ask - x if side == Side.BUY else x - bid
                    if 1 <= dist < s:
                        n_in_spread[s if s < s_cap else s_cap] += 1
                        ins_s[n_ins] = s
                        ins_j[n_ins] = s - dist
                        n_ins += 1
                    k = dist - s
                    if 0 <= k < depth:
                        n_add_own[k] += 1
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
