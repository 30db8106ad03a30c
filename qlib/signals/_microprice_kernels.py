"""Jitted kernels of :mod:`qlib.signals.microprice` (arrays in, arrays out; no pandas, no I/O)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def count_transitions(bucket, spread, mid2, n_imbalance, max_spread, max_dm2,
                      q_count, t_count, r_count, n_obs):
    """Count symmetrised (I, S) transitions; see :func:`qlib.signals.fit_microprice`.

    ``bucket`` (0..n-1), ``spread`` (ticks) and ``mid2`` (mid in half ticks) are the
    sampled states. State index is ``(S - 1) * n_imbalance + bucket``. Each kept
    transition x -> y with mid change k (half ticks) is added once as observed and once
    mirrored, ``(n - 1 - b, S, -k)``. ``q_count`` (x, y) counts unchanged-mid moves,
    ``t_count`` (x, y) mid-moving moves, ``r_count`` (x, j) mid moves by
    ``K[j]`` where ``K = (-max_dm2, ..., -1, 1, ..., max_dm2)`` half ticks; ``n_obs`` (x)
    counts the observed (unmirrored) transitions leaving x. A transition is dropped
    when either end has a spread outside ``1..max_spread`` or ``|k| > max_dm2``.
    Returns the number of dropped transitions.
    """
    n = bucket.shape[0]
    dropped = 0
    for i in range(n - 1):
        s0 = spread[i]
        s1 = spread[i + 1]
        k = mid2[i + 1] - mid2[i]
        if s0 < 1 or s0 > max_spread or s1 < 1 or s1 > max_spread or abs(k) > max_dm2:
            dropped += 1
            continue
        b0 = bucket[i]
        b1 = bucket[i + 1]
        x = (s0 - 1) * n_imbalance + b0
        y = (s1 - 1) * n_imbalance + b1
        xm = (s0 - 1) * n_imbalance + (n_imbalance - 1 - b0)
        ym = (s1 - 1) * n_imbalance + (n_imbalance - 1 - b1)
        n_obs[x] += 1
        if k == 0:
            q_count[x, y] += 1
            q_count[xm, ym] += 1
        else:
            t_count[x, y] += 1
            t_count[xm, ym] += 1
            j = k + max_dm2 if k < 0 else k + max_dm2 - 1
            jm = -k + max_dm2 if k > 0 else -k + max_dm2 - 1
            r_count[x, j] += 1
            r_count[xm, jm] += 1
    return dropped


@njit(cache=True)
def lookup_adjustment(bucket, spread, table, n_imbalance, max_spread, out):
    """``out[i] = table[(S-1) * n + b]`` per row; see :meth:`MicropriceModel.adjust`.

    Rows whose spread is outside ``1..max_spread`` get 0. Returns the first such row,
    or -1 when every row is in the state space.
    """
    first = -1
    for i in range(bucket.shape[0]):
        s = spread[i]
        if s < 1 or s > max_spread:
            out[i] = 0.0
            if first < 0:
                first = i
        else:
            out[i] = table[(s - 1) * n_imbalance + bucket[i]]
    return first
