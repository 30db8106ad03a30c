"""Jitted kernels of the risk and performance metrics: arrays and scalars in, scalars out.

No pandas, no I/O. Each kernel's docstring names the public wrapper that documents the
formula (:mod:`qlib.risk.performance` and :mod:`qlib.risk.var`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def mean_std(x, shift):
    """Mean and sample std (ddof=1) of ``x - shift``; see :func:`qlib.risk.sharpe_ratio`.

    One pass over data shifted by its first value (sum and sum of squares, four
    independent accumulators so the loop is not bound by add latency); non-finite input
    propagates to the result, which the wrapper checks.
    """
    n = x.shape[0]
    c = x[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    q0 = 0.0
    q1 = 0.0
    q2 = 0.0
    q3 = 0.0
    m4 = n - n % 4
    for i in range(0, m4, 4):
        d0 = x[i] - c
        d1 = x[i + 1] - c
        d2 = x[i + 2] - c
        d3 = x[i + 3] - c
        s0 += d0
        s1 += d1
        s2 += d2
        s3 += d3
        q0 += d0 * d0
        q1 += d1 * d1
        q2 += d2 * d2
        q3 += d3 * d3
    for i in range(m4, n):
        d = x[i] - c
        s0 += d
        q0 += d * d
    s = (s0 + s1) + (s2 + s3)
    q = (q0 + q1) + (q2 + q3)
    m = s / n
    var = (q - s * m) / (n - 1)
    var = max(var, 0.0)
    return m + c - shift, np.sqrt(var)


@njit(cache=True)
def mean_downside(x, required):
    """Mean of ``x - required`` and root mean square of its negative part; see sortino_ratio.

    Branch-free, two accumulators per sum; non-finite input propagates to the result.
    """
    n = x.shape[0]
    s0 = 0.0
    s1 = 0.0
    q0 = 0.0
    q1 = 0.0
    m2 = n - n % 2
    for i in range(0, m2, 2):
        d0 = x[i] - required
        d1 = x[i + 1] - required
        s0 += d0
        s1 += d1
        e0 = min(d0, 0.0)
        e1 = min(d1, 0.0)
        q0 += e0 * e0
        q1 += e1 * e1
    if m2 < n:
        d = x[n - 1] - required
        s0 += d
        e = min(d, 0.0)
        q0 += e * e
    return (s0 + s1) / n, np.sqrt((q0 + q1) / n)


@njit(cache=True)
def drawdown_stats(x):
    """Max drawdown, its peak/trough rows, longest underwater run; see :func:`max_drawdown`.

    Wealth starts at 1 before row 0. Returns ``(mdd, peak, trough, dur, dur_start)``: ``peak``
    is the row whose close set the high-water mark (-1 for the start), ``dur`` the longest
    number of consecutive rows below the high-water mark and ``dur_start`` its first row.
    """
    w = 1.0
    hwm = 1.0
    hwm_row = -1
    mdd = 0.0
    peak = -1
    trough = -1
    run = 0
    dur = 0
    dur_start = -1
    for i in range(x.shape[0]):
        w = w * (1.0 + x[i])
        if w >= hwm:
            hwm = w
            hwm_row = i
            run = 0
        else:
            run += 1
            if run > dur:
                dur = run
                dur_start = i - run + 1
            dd = (w - hwm) / hwm
            if dd < mdd:
                mdd = dd
                peak = hwm_row
                trough = i
    return mdd, peak, trough, dur, dur_start


@njit(cache=True)
def growth(x):
    """Product of ``1 + x`` (four partial products); see :func:`qlib.risk.annual_return`."""
    n = x.shape[0]
    w0 = 1.0
    w1 = 1.0
    w2 = 1.0
    w3 = 1.0
    m4 = n - n % 4
    for i in range(0, m4, 4):
        w0 *= 1.0 + x[i]
        w1 *= 1.0 + x[i + 1]
        w2 *= 1.0 + x[i + 2]
        w3 *= 1.0 + x[i + 3]
    for i in range(m4, n):
        w0 *= 1.0 + x[i]
    return (w0 * w1) * (w2 * w3)


@njit(cache=True)
def gain_loss(x, threshold):
    """Sums of the positive part and of minus the negative part of ``x - threshold``; omega.

    Branch-free; a NaN anywhere makes both sums NaN.
    """
    g0 = 0.0
    g1 = 0.0
    l0 = 0.0
    l1 = 0.0
    n = x.shape[0]
    m2 = n - n % 2
    for i in range(0, m2, 2):
        d0 = x[i] - threshold
        d1 = x[i + 1] - threshold
        g0 += max(d0, 0.0)
        g1 += max(d1, 0.0)
        l0 -= min(d0, 0.0)
        l1 -= min(d1, 0.0)
    if m2 < n:
        d = x[n - 1] - threshold
        g0 += max(d, 0.0)
        l0 -= min(d, 0.0)
    return g0 + g1, l0 + l1


@njit(cache=True)
def hit_counts(x):
    """Counts of positive and of non-zero values (branch-free); see :func:`qlib.risk.hit_rate`."""
    pos = 0
    nz = 0
    for i in range(x.shape[0]):
        pos += x[i] > 0.0
        nz += x[i] != 0.0
    return pos, nz


@njit(cache=True)
def abs_change_sum(w):
    """Sum of ``|w[i] - w[i-1]|`` with ``w[-1] = 0`` (the opening trade counts); turnover."""
    s = 0.0
    prev = 0.0
    for i in range(w.shape[0]):
        s += abs(w[i] - prev)
        prev = w[i]
    return s


@njit(cache=True)
def order_stats(x, k):
    """``(x_(k), x_(k+1), sum of the k+1 smallest)`` of ``x`` (0-based order statistics).

    ``x_(k+1)`` is ``x_(k)`` when ``k = n - 1``. Floyd-Rivest style: the k-th value of a
    strided sample of about ``n**(2/3)`` values, widened by a safety margin, brackets the
    answer; one pass counts and sums the values below the bracket and keeps those inside
    it; only those are partitioned. When the bracket misses (it cannot on random-order data of
    any size we met, but an adversarial order can defeat a strided sample) the kernel
    falls back to sorting a copy, so the result is always exact.
    """
    n = x.shape[0]
    k1 = min(k + 1, n - 1)
    if n > 4096:
        step = max(1, int(n ** (1.0 / 3.0)))
        smp = x[::step].copy()
        m = smp.shape[0]
        r = int(k * m / n)
        pk = min(max(k / n, 1.0 / m), 1.0 - 1.0 / m)
        margin = int(5.0 * np.sqrt(m * pk * (1.0 - pk))) + 8  # 5 sd of the sample rank
        lo = -np.inf
        hi = np.inf
        if r - margin > 0:
            lo = np.partition(smp, r - margin)[r - margin]
        if r + margin < m - 1:
            hi = np.partition(smp, r + margin)[r + margin]
        buf = np.empty(n)
        nb = 0
        below = 0
        s_below = 0.0
        for i in range(n):
            v = x[i]
            if v < lo:
                below += 1
                s_below += v
            elif v <= hi:
                buf[nb] = v
                nb += 1
        if below <= k and k1 < below + nb:
            j = k - below
            b = np.partition(buf[:nb], j)
            s = s_below
            for i in range(j + 1):
                s += b[i]
            v1 = b[j]
            if k1 > k:
                v1 = b[j + 1]
                for i in range(j + 2, nb):
                    v1 = min(v1, b[i])
            return b[j], v1, s
    a = np.sort(x)
    s = 0.0
    for i in range(k + 1):
        s += a[i]
    return a[k], a[k1], s


@njit(cache=True)
def quantile(x, q):
    """Linear-interpolation quantile (numpy's default method) at ``q`` in [0, 1]; tail_ratio, VaR."""
    n = x.shape[0]
    h = (n - 1) * q
    k = int(np.floor(h))
    k = min(k, n - 1)
    v0, v1, _ = order_stats(x, k)
    return v0 + (v1 - v0) * (h - k)


@njit(cache=True)
def lower_tail_mean(x, k):
    """Mean of the ``k + 1`` smallest values of ``x``; see :func:`qlib.risk.expected_shortfall`."""
    return order_stats(x, k)[2] / (k + 1)


@njit(cache=True)
def ewma_variance(x, lam, var0):
    """EWMA (RiskMetrics) variance path: out[t] is the forecast for row t; see var.py.

    ``out[0] = var0`` and ``out[t] = lam * out[t-1] + (1 - lam) * x[t-1]**2``; the last
    element of the returned array (length ``n + 1``) is the forecast for the next row.
    """
    n = x.shape[0]
    out = np.empty(n + 1)
    out[0] = var0
    for t in range(1, n + 1):
        out[t] = lam * out[t - 1] + (1.0 - lam) * x[t - 1] * x[t - 1]
    return out


@njit(cache=True)
def simulate_normal_paths(mu, sigma, horizon, n_sims, seed):
    """Compounded ``horizon``-step returns of iid normal one-step returns; see monte_carlo var."""
    np.random.seed(seed)
    out = np.empty(n_sims)
    for s in range(n_sims):
        w = 1.0
        for _ in range(horizon):
            w *= 1.0 + mu + sigma * np.random.standard_normal()
        out[s] = w - 1.0
    return out


@njit(cache=True)
def bootstrap_fhs_paths(z, sigma_next, mu, omega, alpha, beta, horizon, n_sims, seed):
    """Filtered historical simulation paths; see :func:`qlib.risk.value_at_risk` (fhs_*).

    Each path draws standardised residuals from ``z`` with replacement; a step return is
    ``mu + e`` with ``e = sigma_t z``, and the variance follows the GARCH(1,1) recursion
    ``omega + alpha e**2 + beta sigma_t**2`` (EWMA: ``omega = 0, alpha = 1 - lam,
    beta = lam``). Returns the compounded horizon return of each path.
    """
    np.random.seed(seed)
    m = z.shape[0]
    out = np.empty(n_sims)
    for s in range(n_sims):
        var = sigma_next * sigma_next
        w = 1.0
        for _ in range(horizon):
            e = np.sqrt(var) * z[np.random.randint(0, m)]
            w *= 1.0 + mu + e
            var = omega + alpha * e * e + beta * var
        out[s] = w - 1.0
    return out


@njit(cache=True)
def violation_transitions(hits):
    """Counts n00, n01, n10, n11 of consecutive pairs of a 0/1 exception series; Christoffersen."""
    n00 = 0
    n01 = 0
    n10 = 0
    n11 = 0
    for i in range(1, hits.shape[0]):
        a = hits[i - 1]
        b = hits[i]
        if a == 0 and b == 0:
            n00 += 1
        elif a == 0:
            n01 += 1
        elif b == 0:
            n10 += 1
        else:
            n11 += 1
    return n00, n01, n10, n11


@njit(cache=True, inline="always")
def _sample_bracket(smp, r, margin):
    """``(lo, hi)``: sample order statistics ``r - margin`` and ``r + margin`` (``-inf``/``inf`` beyond)."""
    m = smp.shape[0]
    lo = -np.inf
    hi = np.inf
    if r - margin > 0:
        lo = np.partition(smp, r - margin)[r - margin]
    if r + margin < m - 1:
        hi = np.partition(smp, r + margin)[r + margin]
    return lo, hi


@njit(cache=True, inline="always")
def _sample_margin(k, n, m):
    """Sample rank of order statistic ``k`` of ``n`` and its 5-sd safety margin (order_stats)."""
    r = int(k * m / n)
    pk = min(max(k / n, 1.0 / m), 1.0 - 1.0 / m)
    return r, int(5.0 * np.sqrt(m * pk * (1.0 - pk))) + 8


@njit(cache=True, inline="always")
def _kth_and_next(b, j, nb):
    """``(b_(j), b_(j+1))`` of ``b[:nb]`` after ``np.partition`` at ``j``; ``b`` partitioned in place."""
    p = np.partition(b[:nb], j)
    v1 = p[j]
    if j + 1 < nb:
        v1 = p[j + 1]
        for i in range(j + 2, nb):
            v1 = min(v1, p[i])
    return p, p[j], v1


@njit(cache=True)
def select_copy(src, n, j, w1, w2):
    """Return the ``j``-th smallest value (0-based) of ``src[:n]`` (no NaN); ``src`` is not changed.

    Quickselect with a median-of-three pivot whose passes are branch-free and out of
    place: each pass writes every value to both ends of a scratch array (``w1``, ``w2``,
    at least ``n`` long, used in turn) and advances only the matching end, so its cost
    depends neither on mispredicted branches nor, as an in-place swap would, on
    reloading the value just stored. A pass splits off the values below the pivot; when
    the answer is not among them a second pass splits off the values equal to it, so
    ties cannot make the search quadratic. After a bounded number of rounds (an
    adversarial order can defeat median-of-three) the rest is left to ``np.partition``.
    Used by :func:`lower_tail_stats`.
    """
    cur = src
    which = 0  # 0: reading src, 1: w1, 2: w2
    lo = 0
    hi = n
    rounds = 0
    limit = 8
    m = n
    while m > 1:
        limit += 2
        m >>= 1
    while hi - lo > 16:
        rounds += 1
        if rounds > limit:
            return np.partition(cur[lo:hi], j - lo)[j - lo]
        u = cur[lo]
        v = cur[(lo + hi) >> 1]
        w = cur[hi - 1]
        if u > v:
            u, v = v, u
        p = max(u, min(v, w))  # median of the three
        dst = w2 if which == 1 else w1
        a = lo
        b = hi - 1
        for i in range(lo, hi):
            x = cur[i]
            dst[a] = x
            dst[b] = x
            lt = x < p
            a += lt
            b -= 1 - lt
        cur = dst
        which = 2 if which == 1 else 1
        if j < a:
            hi = a
            continue
        # cur[a:hi] holds the values >= p: split off those == p
        dst = w2 if which == 1 else w1
        e = a
        b = hi - 1
        for i in range(a, hi):
            x = cur[i]
            dst[e] = x
            dst[b] = x
            eq = x <= p
            e += eq
            b -= 1 - eq
        cur = dst
        which = 2 if which == 1 else 1
        if j < e:
            return p
        lo = e
    # a short range: insertion sort into a scratch array
    dst = w2 if which == 1 else w1
    for i in range(lo, hi):
        v = cur[i]
        t = i - 1
        while t >= lo and dst[t] > v:
            dst[t + 1] = dst[t]
            t -= 1
        dst[t + 1] = v
    return dst[j]


@njit(cache=True)
def _gather_at_most(x, hi, buf):
    """Copy the values ``<= hi`` of ``x`` into ``buf`` in their order (as many as fit).

    Return ``(count, sum of x)``: blocks of four values are summed (four accumulators)
    and tested together, so the rarely taken branch is one per block; the sum lets the
    wrapper skip its own finiteness pass over ``x`` (a NaN or inf makes it non-finite).
    """
    cap = buf.shape[0]
    n = x.shape[0]
    nb = 0
    t0 = 0.0
    t1 = 0.0
    t2 = 0.0
    t3 = 0.0
    n4 = n - n % 4
    for i in range(0, n4, 4):
        v0 = x[i]
        v1 = x[i + 1]
        v2 = x[i + 2]
        v3 = x[i + 3]
        t0 += v0
        t1 += v1
        t2 += v2
        t3 += v3
        if (v0 <= hi) | (v1 <= hi) | (v2 <= hi) | (v3 <= hi):
            for j in range(i, i + 4):
                v = x[j]
                if v <= hi:
                    if nb < cap:
                        buf[nb] = v
                    nb += 1
    for j in range(n4, n):
        v = x[j]
        t0 += v
        if v <= hi:
            if nb < cap:
                buf[nb] = v
            nb += 1
    return nb, (t0 + t1) + (t2 + t3)


@njit(cache=True)
def _tail_from_kth(b, nb, v0, k):
    """``(b_(k+1), sum of the k + 1 smallest)`` of ``b[:nb]`` given its ``k``-th smallest ``v0``.

    One branch-free pass: the values ``< v0`` summed one after the other in their order
    in ``b`` (adding ``0.0`` for the others changes no bit), their count ``c``, the count
    of values ``<= v0`` and the smallest value above ``v0``; the sum then adds ``v0``
    once for each of the ``k + 1 - c`` remaining places. The result depends only on the
    values and their order, so a buffer that keeps the order of ``x`` gives the same bits
    as ``x`` itself. ``b_(k+1)`` is ``v0`` when ``k = nb - 1``.
    """
    s = 0.0
    c = 0
    le = 0
    up = np.inf
    for i in range(nb):
        a = b[i]
        s += a if a < v0 else 0.0
        c += int(a < v0)
        le += int(a <= v0)
        up = min(up, a if a > v0 else np.inf)
    for _ in range(k + 1 - c):
        s += v0
    v1 = v0 if (le >= k + 2 or k + 1 >= nb) else up
    return v1, s


@njit(cache=True)
def lower_tail_stats(x, k):
    """:func:`lower_order_stats` and the sum of ``x``: ``(x_(k), x_(k+1), tail sum, sum)``.

    The sum of ``x`` is not finite exactly when ``x`` holds a NaN or inf (or the sum
    overflows); then the other three results are meaningless and the caller must raise
    (:func:`qlib.risk.expected_shortfall` checks finiteness this way, in the same pass).

    Selects only the lower tail: one pass keeps the values at or below ``hi``, the upper
    end of the strided-sample bracket of ``x_(k+1)``, in a small buffer (in the order of
    ``x``; no lower bound and no running tail sum: one rarely taken branch per block of
    four values), then selects ``x_(k)`` from that buffer with the branch-free
    :func:`select_copy` (``np.partition`` mispredicts a branch on about every other
    value). The tail sum adds the values below ``x_(k)`` in their order in ``x``, then
    ``x_(k)`` for the ties (:func:`_tail_from_kth`), so it does not depend on the
    selection, the sample or the bracket.
    The buffer holds about ``k`` plus the margin values. A miss (fewer than ``k + 2``
    values at or below ``hi``), a small ``x`` or a ``k`` in the upper half falls back to
    :func:`order_stats` for ``x_(k)`` and ``x_(k+1)`` (the same tail sum), so the result
    is always exact.
    """
    n = x.shape[0]
    k1 = min(k + 1, n - 1)
    if n > 4096 and 2 * k < n:
        step = max(1, int(n ** (1.0 / 3.0)))
        smp = x[::step].copy()
        m = smp.shape[0]
        r, margin = _sample_margin(k1, n, m)
        hi = np.inf
        if r + margin < m - 1:
            w = np.empty(2 * m)
            hi = select_copy(smp, m, r + margin, w[:m], w[m:])
        cap = min(n, 2 * (k1 + 1) + 4 * margin * step + 64)
        buf = np.empty(cap)
        nb, total = _gather_at_most(x, hi, buf)
        if not np.isfinite(total):
            return np.nan, np.nan, np.nan, total
        if k1 < nb <= cap:
            w = np.empty(2 * nb)
            v0 = select_copy(buf, nb, k, w[:nb], w[nb:])
            v1, s = _tail_from_kth(buf, nb, v0, k)
            return v0, v1, s, total
    total = 0.0
    for i in range(n):
        total += x[i]
    if not np.isfinite(total):
        return np.nan, np.nan, np.nan, total
    v0, v1, _ = order_stats(x, k)
    return v0, v1, _tail_from_kth(x, n, v0, k)[1], total


@njit(cache=True)
def lower_order_stats(x, k):
    """As :func:`order_stats` (same three results) for a lower-tail ``k``: see lower_tail_stats.

    Finite input (the wrappers check).
    """
    v0, v1, s, _ = lower_tail_stats(x, k)
    return v0, v1, s


@njit(cache=True)
def two_quantiles(x, qa, qb):
    """Linear-interpolation quantiles (numpy's default) at ``qa <= qb``; see tail_ratio.

    The same values as two :func:`quantile` calls from one strided sample and one pass
    over ``x``: the (branch-free) pass copies the values inside the bracket of ``qa`` and
    of ``qb`` and counts the values below each bracket; only the two small
    brackets are partitioned. Overlapping brackets, a miss or a small ``x`` fall back to
    :func:`quantile` (exact either way). Finite input (the wrappers check).
    """
    n = x.shape[0]
    ha = (n - 1) * qa
    hb = (n - 1) * qb
    ka = min(int(np.floor(ha)), n - 1)
    kb = min(int(np.floor(hb)), n - 1)
    ka1 = min(ka + 1, n - 1)
    kb1 = min(kb + 1, n - 1)
    if n > 4096:
        step = max(1, int(n ** (1.0 / 3.0)))
        smp = x[::step].copy()
        m = smp.shape[0]
        ra, ma = _sample_margin(ka, n, m)
        rb, mb = _sample_margin(kb, n, m)
        lo_a, hi_a = _sample_bracket(smp, ra, ma)
        lo_b, hi_b = _sample_bracket(smp, rb, mb)
        if hi_a < lo_b:
            buf_a = np.empty(n + 1)
            buf_b = np.empty(n + 1)
            na = 0
            nb = 0
            below_a = 0
            below_b = 0
            for i in range(n):  # branch-free: the brackets hold too many values to predict
                v = x[i]
                buf_a[na] = v
                na += (v >= lo_a) & (v <= hi_a)
                buf_b[nb] = v
                nb += (v >= lo_b) & (v <= hi_b)
                below_a += v < lo_a
                below_b += v < lo_b
            if below_a <= ka and ka1 < below_a + na and below_b <= kb and kb1 < below_b + nb:
                _, a0, a1 = _kth_and_next(buf_a, ka - below_a, na)
                _, b0, b1 = _kth_and_next(buf_b, kb - below_b, nb)
                if ka1 == ka:
                    a1 = a0
                if kb1 == kb:
                    b1 = b0
                return a0 + (a1 - a0) * (ha - ka), b0 + (b1 - b0) * (hb - kb)
    return quantile(x, qa), quantile(x, qb)
