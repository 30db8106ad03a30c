"""Jitted kernels of :mod:`qlib.signals.vpin` (arrays in, arrays out; no pandas, no I/O)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def fill_buckets(qty, px, side, bucket_volume, first, last, volume, tape_buy, close_px):
    """Fill equal-volume buckets from trades; see :func:`qlib.signals.vpin.volume_buckets`.

    A trade that overflows the current bucket is split: the part that completes it
    stays, the rest opens the next bucket(s). Writes, per complete bucket, the index of
    its first and last (partly) contributing trade, its volume, its buyer-initiated
    volume by the tape's side (unknown side counted half) and the price of its last
    trade. Returns the number of complete buckets (the partial last one is dropped).
    """
    n = qty.shape[0]
    k = 0
    cap = first.shape[0]
    filled = 0.0
    buy = 0.0
    start = 0
    eps = bucket_volume * 1e-12
    for i in range(n):
        q = qty[i]
        if filled == 0.0:
            start = i
        while q > 0.0 and k < cap:
            room = bucket_volume - filled
            take = min(room, q)
            filled += take
            if side[i] > 0:
                buy += take
            elif side[i] == 0:
                buy += 0.5 * take
            q -= take
            if filled >= bucket_volume - eps:
                first[k] = start
                last[k] = i
                volume[k] = filled
                tape_buy[k] = buy
                close_px[k] = px[i]
                k += 1
                filled = 0.0
                buy = 0.0
                start = i
    return k


@njit(cache=True)
def bulk_classify(dp, sigma, volume, out_buy):
    r"""Buy volume :math:`V\,\Phi(\Delta P / \sigma)` per bucket; see :func:`qlib.signals.vpin`."""
    root2 = math.sqrt(2.0)
    for k in range(dp.shape[0]):
        out_buy[k] = volume[k] * 0.5 * (1.0 + math.erf(dp[k] / (sigma * root2)))


@njit(cache=True)
def rolling_vpin(buy, volume, window, min_periods, out):
    """Rolling sum of ``|2 buy - volume|`` over rolling volume; NaN before ``min_periods``."""
    n = buy.shape[0]
    s_imb = 0.0
    s_vol = 0.0
    for k in range(n):
        s_imb += abs(2.0 * buy[k] - volume[k])
        s_vol += volume[k]
        if k >= window:
            s_imb -= abs(2.0 * buy[k - window] - volume[k - window])
            s_vol -= volume[k - window]
        m = min(window, k + 1)
        if m < min_periods or s_vol <= 0.0:
            out[k] = np.nan
        else:
            v = s_imb / s_vol
            out[k] = 0.0 if v < 0.0 else (min(v, 1.0))
