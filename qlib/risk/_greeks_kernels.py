"""Numba kernels for Black-Scholes-Merton prices, Greeks and implied volatility.

Arrays and scalars in, arrays and status codes out; no pandas, no I/O. Inputs are
assumed validated by :mod:`qlib.risk.greeks` (the public wrappers), except for the
implied-volatility solver, which reports per-option :class:`qlib.enums.IvStatus`
codes. Units: vega per 1.00 of volatility, theta per year (calendar time), rho per
1.00 of rate.
"""

from __future__ import annotations

import math

from numba import njit

from qlib.enums import IvStatus

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

IV_OK = int(IvStatus.OK)
IV_BELOW = int(IvStatus.BELOW_LOWER_BOUND)
IV_ABOVE = int(IvStatus.ABOVE_UPPER_BOUND)
IV_NO_CONV = int(IvStatus.NO_CONVERGENCE)
IV_BAD = int(IvStatus.BAD_INPUT)


@njit(cache=True)
def norm_cdf(x):
    """Standard normal CDF via ``erfc`` (accurate in the far tails)."""
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True)
def norm_pdf(x):
    """Standard normal density."""
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


@njit(cache=True)
def bsm_price_one(s, k, t, r, q, vol, w):
    """One BSM price; see :func:`qlib.risk.greeks.bsm_price`."""
    dq = math.exp(-q * t)
    dr = math.exp(-r * t)
    sd = vol * math.sqrt(t)
    if sd <= 0.0:
        v = w * (s * dq - k * dr)
        return max(0.0, v)
    d1 = (math.log(s / k) + (r - q) * t) / sd + 0.5 * sd
    d2 = d1 - sd
    return w * (s * dq * norm_cdf(w * d1) - k * dr * norm_cdf(w * d2))


@njit(cache=True)
def bsm_greeks(s, k, t, r, q, vol, right, price, delta, gamma, vega, theta, rho):
    """Fill price and Greeks arrays; see :func:`qlib.risk.greeks.bsm_greeks`."""
    n = s.shape[0]
    for i in range(n):
        w = float(right[i])
        ti = t[i]
        si = s[i]
        ki = k[i]
        ri = r[i]
        qi = q[i]
        dq = math.exp(-qi * ti)
        dr = math.exp(-ri * ti)
        sd = vol[i] * math.sqrt(ti)
        if sd <= 0.0:
            # deterministic limit: the option is the discounted forward payoff
            fwd = w * (si * dq - ki * dr)
            if fwd > 0.0:
                price[i] = fwd
                delta[i] = w * dq
                theta[i] = w * (qi * si * dq - ri * ki * dr)
                rho[i] = w * ki * ti * dr
            else:
                price[i] = 0.0
                delta[i] = 0.0
                theta[i] = 0.0
                rho[i] = 0.0
            gamma[i] = 0.0
            vega[i] = 0.0
            continue
        d1 = (math.log(si / ki) + (ri - qi) * ti) / sd + 0.5 * sd
        d2 = d1 - sd
        nd1 = norm_cdf(w * d1)
        nd2 = norm_cdf(w * d2)
        pdf1 = norm_pdf(d1)
        sdq = si * dq
        kdr = ki * dr
        price[i] = w * (sdq * nd1 - kdr * nd2)
        delta[i] = w * dq * nd1
        gamma[i] = dq * pdf1 / (si * sd)
        vega[i] = sdq * pdf1 * math.sqrt(ti)
        theta[i] = -sdq * pdf1 * vol[i] / (2.0 * math.sqrt(ti)) + w * (qi * sdq * nd1 - ri * kdr * nd2)
        rho[i] = w * ki * ti * dr * nd2


@njit(cache=True)
def bsm_prices(s, k, t, r, q, vol, right, price):
    """Fill an array of BSM prices; see :func:`qlib.risk.greeks.bsm_price`."""
    for i in range(s.shape[0]):
        price[i] = bsm_price_one(s[i], k[i], t[i], r[i], q[i], vol[i], float(right[i]))


@njit(cache=True)
def implied_vol_one(p, s, k, t, r, q, w, tol, max_iter):
    """Implied vol of one option; returns ``(vol, IvStatus code, iterations)``.

    An in-the-money option is swapped for its out-of-the-money counterpart by
    put-call parity (same vol, price = time value). Then a safeguarded Newton
    iteration on the log price runs inside a bracket ``[lo, hi]`` with
    ``price(lo) < p < price(hi)``: a step that leaves the bracket, or one larger than
    half the step before it, is replaced by bisection (``rtsafe``).
    """
    if not (
        math.isfinite(p) and math.isfinite(s) and math.isfinite(k) and math.isfinite(t)
        and math.isfinite(r) and math.isfinite(q)
    ):
        return 0.0, IV_BAD, 0
    if s <= 0.0 or k <= 0.0 or t <= 0.0 or (w != 1.0 and w != -1.0):
        return 0.0, IV_BAD, 0
    dq = math.exp(-q * t)
    dr = math.exp(-r * t)
    lower = max(w * (s * dq - k * dr), 0.0)
    upper = s * dq if w > 0.0 else k * dr
    if p <= lower:
        return 0.0, IV_BELOW, 0
    if p >= upper:
        return 0.0, IV_ABOVE, 0
    if lower > 0.0:
        # in the money: the time value is the price of the out-of-the-money twin
        p = p - lower
        w = -w
    sqt = math.sqrt(t)
    # bracket: price is strictly increasing in vol; grow hi until it covers p
    lo = 0.0
    hi = 1.0
    n_grow = 0
    while bsm_price_one(s, k, t, r, q, hi, w) < p:
        lo = hi
        hi *= 2.0
        n_grow += 1
        if n_grow > 12:  # vol > 4096: the price sits at the upper bound in float64
            return 0.0, IV_NO_CONV, n_grow
    # Manaster-Koehler start (inflection point of the price in vol), kept in bracket
    x = math.log(s * dq / (k * dr))
    v = math.sqrt(2.0 * abs(x) / t)
    if not (lo < v < hi):
        v = 0.5 * (lo + hi)
    atol = tol * p
    log_p = math.log(p)
    dx = hi - lo
    dx_old = dx
    for it in range(max_iter):
        sd = v * sqt
        d1 = x / sd + 0.5 * sd
        d2 = d1 - sd
        price = w * (s * dq * norm_cdf(w * d1) - k * dr * norm_cdf(w * d2))
        f = price - p
        if abs(f) <= atol:
            return v, IV_OK, it + 1
        if f > 0.0:
            hi = v
        else:
            lo = v
        if hi - lo <= 1e-15 * hi:
            return v, IV_OK, it + 1
        vega = s * dq * norm_pdf(d1) * sqt
        vn = -1.0
        if price > 0.0 and vega > 0.0:
            vn = v - (math.log(price) - log_p) * price / vega
        # rtsafe rule: bisect when the Newton step leaves the bracket or is not
        # at least halving the previous step
        if not (lo < vn < hi) or abs(vn - v) > 0.5 * dx_old:
            vn = 0.5 * (lo + hi)
        dx_old = dx
        dx = abs(vn - v)
        v = vn
    return v, IV_NO_CONV, max_iter


@njit(cache=True)
def implied_vols(p, s, k, t, r, q, right, tol, max_iter, vol_out, status_out):
    """Fill implied vols and statuses; see :func:`qlib.risk.greeks.implied_vol`."""
    for i in range(p.shape[0]):
        v, st, _ = implied_vol_one(p[i], s[i], k[i], t[i], r[i], q[i], float(right[i]), tol, max_iter)
        vol_out[i] = v
        status_out[i] = st


@njit(cache=True)
def worst_window(logret, length):
    """Start index and sum of the ``length``-long window of ``logret`` with the
    smallest sum; see :func:`qlib.risk.stress.worst_interval`."""
    acc = 0.0
    for i in range(length):
        acc += logret[i]
    best = acc
    best_i = 0
    for i in range(length, logret.shape[0]):
        acc += logret[i] - logret[i - length]
        if acc < best:
            best = acc
            best_i = i - length + 1
    return best_i, best


__all__ = [
    "bsm_greeks",
    "bsm_price_one",
    "bsm_prices",
    "implied_vol_one",
    "implied_vols",
    "norm_cdf",
    "norm_pdf",
    "worst_window",
]
