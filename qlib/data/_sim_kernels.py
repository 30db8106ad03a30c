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


@njit(cache=True)
def _limit_lots(s, size_q, k, log_median, sigma):
    # size of a limit order k ticks behind its own best (k < 0: in front of it): the
    # empirical quantile row size_q[c] (c = 0 in front, 1 + k behind, the last row
    # deeper) at a uniform index, or the lognormal law when size_q has no rows
    rows = size_q.shape[0]
    if rows == 0:
        return _lots(s, log_median, sigma)
    c = 0 if k < 0 else (k + 1 if k + 1 < rows else rows - 1)
    kk = size_q.shape[1]
    j = int(uniform(s) * kk)
    if j >= kk:
        j = kk - 1
    v = math.floor(size_q[c, j] + 0.5)
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
def simulate_events(out, n, n_events, st, rng, q_id, q_qty, q_n, lam_cum_s, lam_in_s, pos_q,
                    theta, theta_best_q, best_edges, mu_s, lim_log_median, lim_sigma, size_q,
                    mkt_log_median, mkt_sigma, mkt_frac_q, mkt_over_p, mkt_edges,
                    latency_median_ns, latency_sigma, window, own):
    """Run the model clock; see :func:`qlib.data.simulate.simulate`.

    Arrays ending in ``_s`` are indexed by the spread in ticks, their last entry
    serving wider spreads: ``lam_cum_s`` the cumulative per-side limit order rates
    (row ``lam_cum``, one entry per tick; one row when they ignore the spread),
    ``lam_in_s`` the per-side quote-improving rate (with
    ``pos_q`` the quantile table of its relative position; an empty ``pos_q``
    means CST's ``lam_cum`` inside the spread too) and ``mu_s`` the per-side market
    order rate. ``theta_best_q[b]`` is the per-order cancel rate at a best level
    holding ``q`` lots with ``b`` the number of ``best_edges`` at or below ``q``
    (empty: ``theta`` at the best too). ``size_q[c]`` is the empirical quantile row
    of limit order sizes (lots) for arrivals in front of their own best (``c = 0``)
    or ``k = c - 1`` ticks behind it (the last row: deeper too); with no rows, sizes
    are lognormal (``lim_log_median``, ``lim_sigma``). ``mkt_frac_q[b]`` and
    ``mkt_over_p[b]`` are the market order fraction table and overflow probability
    for an opposite best queue of ``q`` lots, ``b`` the number of ``mkt_edges`` at
    or below ``q``; ``mkt_frac_q`` with no rows means lognormal market order sizes
    independent of the book. With ``own`` true,
    ``lam_cum`` and ``theta`` are indexed by the ticks ``k >= 0`` behind the
    order's own best (and ``pos_q`` must be given); otherwise by the distance
    ``i`` from the opposite best (CST).

    Writes records to ``out`` from row ``n`` and returns ``(status, n, done)``:
    the new row count and the model events completed. It stops early with
    ``Status.OK`` when ``out`` might not hold the next event (the caller grows
    ``out`` and calls again: the state lives in ``st``, ``rng`` and the book), and
    with ``Status.CAPACITY`` when a level's queue is full (nothing of that event
    is written).
    """
    mask = q_n.shape[0] - 1
    cap = q_id.shape[1]
    depth = lam_cum_s.shape[1]
    n_lam_s = lam_cum_s.shape[0]
    n_in_s = lam_in_s.shape[0]
    n_tb = theta_best_q.shape[0]
    n_mu_s = mu_s.shape[0]
    qr_inside = pos_q.shape[0] > 1
    qr_market = mkt_frac_q.shape[0] > 0
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
        lam_cum = lam_cum_s[spread if spread < n_lam_s else n_lam_s - 1]
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
            qty = _limit_lots(rng, size_q, dist - spread, lim_log_median, lim_sigma)
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
                b = 0
                while b < mkt_edges.shape[0] and mkt_edges[b] <= q_best:
                    b += 1
                if uniform(rng) < mkt_over_p[b]:
                    rem = q_best + _lots(rng, mkt_log_median, mkt_sigma)
                else:
                    rem = math.floor(_table(rng, mkt_frac_q[b]) * q_best + 0.5)
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
                qty = _limit_lots(rng, size_q, 0, lim_log_median, lim_sigma)
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
                    qty = _limit_lots(rng, size_q, 0, lim_log_median, lim_sigma)
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
