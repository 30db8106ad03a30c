r"""Incremental jitted feature kernels (see :mod:`qlib.signals.nb` for the contract).

Each kernel reads the book levels or the trade seen so far and, for stateful features, a
small float64 ``state`` array it updates in place: O(1) per event (O(N) in the levels),
no allocation, no exception. A stateful feature has an ``*_update`` kernel the engine
calls at each event in local-time order and a ``*_value`` kernel it calls at a decision.
"""

from __future__ import annotations

import math

from numba import njit

_LN2 = math.log(2.0)

# state layouts (``*_N`` is the length the engine allocates, zeros)
OFI_BID_PX, OFI_BID_QTY, OFI_ASK_PX, OFI_ASK_QTY, OFI_SUM, OFI_READY, OFI_N = range(7)
VOL_SUM, VOL_LAST_TS, VOL_LAST_MID, VOL_READY, VOL_N = range(5)
FLOW_SUM, FLOW_LAST_TS, FLOW_N = range(3)


@njit(cache=True, _nrt=False)
def imbalance_levels(bid_qty, ask_qty, n_levels):
    r"""Order-book imbalance of the first ``n_levels`` levels, in [-1, 1].

    :math:`\rho^{(N)} = (\sum_{i<N} q^b_i - \sum_{i<N} q^a_i) / (\sum_{i<N} q^b_i +
    \sum_{i<N} q^a_i)`, 0 when both sums are 0; negative or non-finite quantities count
    as 0. Same formula as :func:`qlib.signals.book_imbalance` (Cartea, Donnelly and
    Jaimungal 2018; Xu, Gould and Howison 2018). ``n_levels`` is clipped to the arrays.
    """
    m = min(n_levels, bid_qty.shape[0], ask_qty.shape[0])
    b = 0.0
    a = 0.0
    for i in range(m):
        x = bid_qty[i]
        if x > 0.0 and x < math.inf:
            b += x
        y = ask_qty[i]
        if y > 0.0 and y < math.inf:
            a += y
    if not b + a > 0.0:
        return 0.0
    return (b - a) / (b + a)


@njit(cache=True, _nrt=False)
def weighted_mid(bid_px, bid_qty, ask_px, ask_qty):
    r"""Stoikov's (2018, Sec. 2) weighted mid, the first-order micro-price, in price units.

    :math:`I = q^b / (q^b + q^a)`, :math:`P^\mu = I P^a + (1 - I) P^b`: pulled toward the
    side with less resting quantity. The plain mid when both quantities are 0; NaN when a
    side has no price (<= 0). Same formula as :func:`qlib.signals.microprice`.
    """
    if not (bid_px > 0 and ask_px > 0):
        return math.nan
    b = max(bid_qty, 0.0)
    a = max(ask_qty, 0.0)
    if not b + a > 0.0:
        return 0.5 * (bid_px + ask_px)
    i = b / (b + a)
    return i * ask_px + (1.0 - i) * bid_px


@njit(cache=True, _nrt=False)
def ofi_update(state, bid_px, bid_qty, ask_px, ask_qty):
    r"""Add the Cont-Kukanov-Stoikov order-flow contribution of one best-level change.

    With the previous best bid/ask :math:`(P^b, q^b), (P^a, q^a)` kept in ``state``:

    .. math:: e_n = \mathbb 1\{P^b_n \ge P^b_{n-1}\} q^b_n - \mathbb 1\{P^b_n \le P^b_{n-1}\}
                    q^b_{n-1} - \mathbb 1\{P^a_n \le P^a_{n-1}\} q^a_n
                    + \mathbb 1\{P^a_n \ge P^a_{n-1}\} q^a_{n-1}

    (Cont, Kukanov and Stoikov 2014, eq. 4, as :func:`qlib.signals.ofi`), added to
    ``state[OFI_SUM]``; the first call only records the book. Returns :math:`e_n`.
    """
    e = 0.0
    if state[OFI_READY] != 0.0:
        pb = state[OFI_BID_PX]
        pa = state[OFI_ASK_PX]
        if bid_px >= pb:
            e += bid_qty
        if bid_px <= pb:
            e -= state[OFI_BID_QTY]
        if ask_px <= pa:
            e -= ask_qty
        if ask_px >= pa:
            e += state[OFI_ASK_QTY]
        state[OFI_SUM] += e
    state[OFI_BID_PX] = bid_px
    state[OFI_BID_QTY] = bid_qty
    state[OFI_ASK_PX] = ask_px
    state[OFI_ASK_QTY] = ask_qty
    state[OFI_READY] = 1.0
    return e


@njit(cache=True, _nrt=False)
def ofi_take(state):
    """Return the OFI summed since the last call (the decision's interval) and reset it."""
    x = state[OFI_SUM]
    state[OFI_SUM] = 0.0
    return x


@njit(cache=True, _nrt=False)
def ewma_vol_update(state, ts_ns, mid, halflife_ns):
    r"""Update the EWMA realised variance of mid changes at a new mid (ticks) at ``ts_ns``.

    :math:`S \leftarrow S\,2^{-\Delta t / H} + (\Delta m)^2` at each mid change, with
    :math:`\Delta t` the time since the previous change and :math:`H` the half-life, so
    :math:`E[S] \approx \sigma^2 H / \ln 2` for a martingale mid of variance rate
    :math:`\sigma^2` per second (the exponentially weighted realised variance of
    RiskMetrics, J.P. Morgan 1996, in event time with time decay). Returns nothing.
    """
    if not (mid > 0.0 and mid < math.inf):
        return
    if state[VOL_READY] == 0.0:
        state[VOL_LAST_MID] = mid
        state[VOL_LAST_TS] = ts_ns
        state[VOL_READY] = 1.0
        return
    dm = mid - state[VOL_LAST_MID]
    if dm == 0.0:
        return
    dt = max(ts_ns - state[VOL_LAST_TS], 0.0)
    state[VOL_SUM] = state[VOL_SUM] * math.exp(-_LN2 * dt / halflife_ns) + dm * dm
    state[VOL_LAST_TS] = ts_ns
    state[VOL_LAST_MID] = mid


@njit(cache=True, _nrt=False)
def ewma_vol_value(state, ts_ns, halflife_ns):
    r"""Return the volatility :math:`\sqrt{S\,2^{-(t - t_{last})/H} \ln 2 / H}` at ``ts_ns``.

    In mid units (ticks when the mids are in ticks) per square-root second; 0 before the
    second mid.
    """
    dt = max(ts_ns - state[VOL_LAST_TS], 0.0)
    s = state[VOL_SUM] * math.exp(-_LN2 * dt / halflife_ns)
    return math.sqrt(max(s, 0.0) * _LN2 / (halflife_ns * 1e-9))


@njit(cache=True, _nrt=False)
def trade_flow_update(state, ts_ns, side, qty, halflife_ns):
    r"""Add a trade to the exponentially decayed signed trade flow.

    :math:`F \leftarrow F\,2^{-\Delta t / H} + s\,q`, with :math:`s` the aggressor's side
    (+1 buy, -1 sell, 0 unknown) and :math:`q` its quantity: the order-flow sign whose
    persistence and price impact Kyle (1985) and Hasbrouck (1991) study, as an EWMA.
    """
    dt = max(ts_ns - state[FLOW_LAST_TS], 0.0)
    s = 0.0
    if side > 0:
        s = 1.0
    elif side < 0:
        s = -1.0
    if qty > 0.0 and qty < math.inf:
        state[FLOW_SUM] = state[FLOW_SUM] * math.exp(-_LN2 * dt / halflife_ns) + s * qty
        state[FLOW_LAST_TS] = ts_ns


@njit(cache=True, _nrt=False)
def trade_flow_value(state, ts_ns, halflife_ns):
    """Return the signed trade flow decayed to ``ts_ns`` (quantity units)."""
    dt = max(ts_ns - state[FLOW_LAST_TS], 0.0)
    return state[FLOW_SUM] * math.exp(-_LN2 * dt / halflife_ns)


# one state array for every stateful feature of a view: [OFI | volatility | trade flow]
FS_OFI = 0
FS_VOL = FS_OFI + OFI_N
FS_FLOW = FS_VOL + VOL_N
FEATURE_STATE_N = FS_FLOW + FLOW_N


@njit(cache=True, _nrt=False)
def features_on_book(fstate, ts_ns, bid_px, bid_qty, ask_px, ask_qty, halflife_ns):
    """Update the book-driven features after a change of the best levels (local time).

    ``fstate`` is a float64 array of :data:`FEATURE_STATE_N` zeros at the start: the OFI
    state (:func:`ofi_update`) and the volatility state (:func:`ewma_vol_update`, on the
    mid in ticks) live in its slices. A book with an empty side (price <= 0) updates
    neither (OFI resumes from the next two-sided book).
    """
    if not (bid_px > 0 and ask_px > 0):
        return
    ofi_update(fstate[FS_OFI:FS_VOL], bid_px, bid_qty, ask_px, ask_qty)
    ewma_vol_update(fstate[FS_VOL:FS_FLOW], ts_ns, 0.5 * (bid_px + ask_px), halflife_ns)


@njit(cache=True, _nrt=False)
def features_on_trade(fstate, ts_ns, side, qty, halflife_ns):
    """Update the trade-driven feature (:func:`trade_flow_update`) with one market trade."""
    trade_flow_update(fstate[FS_FLOW:FEATURE_STATE_N], ts_ns, side, qty, halflife_ns)


@njit(cache=True, _nrt=False)
def features_at_decision(fstate, ts_ns, halflife_ns):
    """Return ``(ofi, volatility, trade_flow)`` at a decision; the OFI sum restarts.

    ``ofi`` is the sum of :math:`e_n` since the previous decision (:func:`ofi_take`),
    ``volatility`` :func:`ewma_vol_value` and ``trade_flow`` :func:`trade_flow_value`, both
    decayed to ``ts_ns``.
    """
    return (ofi_take(fstate[FS_OFI:FS_VOL]),
            ewma_vol_value(fstate[FS_VOL:FS_FLOW], ts_ns, halflife_ns),
            trade_flow_value(fstate[FS_FLOW:FEATURE_STATE_N], ts_ns, halflife_ns))
