"""Jitted kernels of :mod:`qlib.signals`: arrays in, arrays out; no pandas, no I/O.

Each kernel's docstring names the public wrapper that documents the formula.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def ofi_events(bid_px, bid_qty, ask_px, ask_qty, out):
    """Per-update order-flow contribution e_n into ``out``; see :func:`qlib.signals.ofi`."""
    n = bid_px.shape[0]
    if n == 0:
        return
    out[0] = 0.0
    for i in range(1, n):
        e = 0.0
        if bid_px[i] >= bid_px[i - 1]:
            e += bid_qty[i]
        if bid_px[i] <= bid_px[i - 1]:
            e -= bid_qty[i - 1]
        if ask_px[i] <= ask_px[i - 1]:
            e -= ask_qty[i]
        if ask_px[i] >= ask_px[i - 1]:
            e += ask_qty[i - 1]
        out[i] = e


@njit(cache=True)
def multilevel_ofi_events(bid_px, bid_qty, ask_px, ask_qty, out):
    """Per-update, per-level e_n^m (2-D, rows x levels); see :func:`qlib.signals.multilevel_ofi`."""
    n, m = bid_px.shape
    for j in range(m):
        if n:
            out[0, j] = 0.0
    for i in range(1, n):
        for j in range(m):
            e = 0.0
            if bid_px[i, j] >= bid_px[i - 1, j]:
                e += bid_qty[i, j]
            if bid_px[i, j] <= bid_px[i - 1, j]:
                e -= bid_qty[i - 1, j]
            if ask_px[i, j] <= ask_px[i - 1, j]:
                e -= ask_qty[i, j]
            if ask_px[i, j] >= ask_px[i - 1, j]:
                e += ask_qty[i - 1, j]
            out[i, j] = e


@njit(cache=True)
def tick_rule(px, out):
    """Tick-rule sign of each trade into ``out`` (int8); see :func:`qlib.signals.tick_rule`."""
    last = 0
    n = px.shape[0]
    for i in range(n):
        if i > 0:
            if px[i] > px[i - 1]:
                last = 1
            elif px[i] < px[i - 1]:
                last = -1
        out[i] = last


@njit(cache=True)
def lee_ready(px, mid, tick_sign, out):
    """Lee-Ready sign: quote test, tick test at the mid; see :func:`qlib.signals.lee_ready`."""
    for i in range(px.shape[0]):
        if px[i] > mid[i]:
            out[i] = 1
        elif px[i] < mid[i]:
            out[i] = -1
        else:
            out[i] = tick_sign[i]


@njit(cache=True)
def lagged_sq_sum(x, lag):
    """Sum of (x[i] - x[i - lag])**2 for i >= lag; see :func:`qlib.signals.two_scale_rv`."""
    s = 0.0
    for i in range(lag, x.shape[0]):
        d = x[i] - x[i - lag]
        s += d * d
    return s


@njit(cache=True)
def first_order_autocov(dp):
    """Sample first-order autocovariance of ``dp`` (mean removed); see :func:`qlib.signals.roll_spread`."""
    n = dp.shape[0]
    mu = 0.0
    for i in range(n):
        mu += dp[i]
    mu /= n
    s = 0.0
    for i in range(1, n):
        s += (dp[i] - mu) * (dp[i - 1] - mu)
    return s / (n - 1)


@njit(cache=True)
def previous_tick(ts, values, grid_ts, out):
    """Last ``values[i]`` with ``ts[i] <= grid_ts[k]`` into ``out[k]``; -1 index when none.

    Returns the number of leading grid points with no observation. See
    :func:`qlib.signals.realized_volatility` (previous-tick sampling).
    """
    n = ts.shape[0]
    i = -1
    lead = 0
    for k in range(grid_ts.shape[0]):
        while i + 1 < n and ts[i + 1] <= grid_ts[k]:
            i += 1
        if i < 0:
            lead += 1
            out[k] = 0.0
        else:
            out[k] = values[i]
    return lead
