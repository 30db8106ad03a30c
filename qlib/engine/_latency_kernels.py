r"""Numba kernels of the order-latency models (jitted code only).

No pandas, no I/O, no allocation. ``kind`` is a :class:`qlib.enums.LatencyModelKind`
code, ``action`` an :class:`qlib.enums.OrderAction` code (``SUBMIT``, ``MODIFY``,
``CANCEL``; 0..2, validated by the public layer: numba does not bounds-check ``lp``),
``lp`` a float64 1-D parameter array and ``log`` an int64 array of shape
``(n, 3)`` (``REPLAY`` only; the engine passes a ``(0, 3)`` array otherwise). All times
are int64 nanoseconds. The public, validated configuration objects are in
:mod:`qlib.engine.models` (:class:`~qlib.engine.models.ConstantLatency`,
:class:`~qlib.engine.models.FeedProportionalLatency`,
:class:`~qlib.engine.models.ReplayLatency`); their ``to_arrays()`` build ``lp`` and ``log``.

Parameter layouts
-----------------
* ``CONSTANT``: ``lp[2*action]`` = entry, ``lp[2*action + 1]`` = response (ns).
* ``FEED_PROPORTIONAL``: ``lp[4*action : 4*action + 4]`` = ``(a_entry, b_entry, a_resp,
  b_resp)``; latency :math:`= \max(a \cdot \ell_{feed} + b, 0)`, rounded half up to an
  integer ns, :math:`\ell_{feed}` the engine's recent average of ``ts_local - ts_exch``
  of market data (``feed_latency_ns``).
* ``REPLAY``: ``log[:, 0]`` = ``ts_local`` of the request (non-decreasing),
  ``log[:, 1]`` = ``entry_ns`` (request to exchange processing), ``log[:, 2]`` =
  ``resp_ns`` (exchange response to local receipt). A record with ``entry_ns < 0``
  is a **rejection** by the venue (hftbacktest's "exchange timestamp 0"): its
  ``resp_ns`` is then the whole round trip, from the request to the local receipt of
  the reject. ``action`` does not select anything for ``REPLAY``.

Replay interpolation (hftbacktest ``IntpOrderLatency``)
-------------------------------------------------------
Reproduces ``IntpOrderLatency::entry`` and ``::response`` of hftbacktest 2.4.x [1]_
(``hftbacktest/src/backtest/models/latency.rs``, nkaz001/hftbacktest commit
``c76d8e73c3be9eeb7a851054d7ce849da8371c07``), statelessly (binary search instead of
its forward-only cursor; identical for non-decreasing query times). Its interpolant is

.. math:: \operatorname{intp}(x; x_1, y_1, x_2, y_2) =
          \operatorname{trunc}\!\Bigl(\frac{y_2 - y_1}{x_2 - x_1}\,(x - x_1)\Bigr) + y_1

with the quotient, product and truncation toward zero in float64, exactly as its
``(... as f64 / ... as f64 * ... as f64) as i64 + y1``.

*Entry* at ``ts_local`` :math:`t`: the bracket is the last record :math:`i` with
:math:`t_i \le t` and :math:`j = i + 1` (so :math:`t_i \le t < t_j`). Before the first
record the first record's value is used, at or after the last record the last one's
(clamped). Within a bracket of two accepted records, ``entry = intp(t; t_i, e_i, t_j,
e_j)``.

*Rejection* (the convention the engine relies on): if either bracketing record (or the
single clamped record) is a rejection, the request is rejected. With the round trips
:math:`r_k = r^{resp}_k` for a rejection record and :math:`r_k = e_k + r^{resp}_k`
otherwise (hftbacktest's ``resp_ts - req_ts``), :math:`R = \operatorname{intp}(t; t_i,
r_i, t_j, r_j)` (or the clamped record's :math:`r_k`) and the kernel returns
``entry_ns = -max(R, 1)`` (always < 0) and ``resp_ns = R`` (>= 0): the engine must not
send the request to the exchange and must deliver the reject locally at
``ts_local + resp_ns``. hftbacktest returns ``-R`` as the entry latency and delivers the
reject at ``ts_local + R``, the same time; it would treat ``R == 0`` as accepted and, at a
clamped end whose record is a rejection, returns ``exch_ts - req_ts = -req_ts`` (an
artefact of its zero exchange timestamp); we reject with ``R`` there instead.

*Response* at exchange time :math:`\tau`: interpolated along the exchange-time axis
:math:`x_k = t_k + e_k` of the accepted records with :math:`y_k = r^{resp}_k`,
bracket :math:`x_i \le \tau < x_j` between consecutive accepted records, clamped at the
ends, as ``IntpOrderLatency::response``. Rejection records are skipped (hftbacktest would
place them at exchange time 0). When the axis is not non-decreasing (latency falling
faster than requests arrive) the bracket is the one found scanning back from the last
request sent at or before :math:`\tau`, and the weight is clamped to :math:`[0, 1]`.
:func:`order_latency` evaluates it at :math:`\tau = t + \text{entry}`, the time the
exchange processes (and acknowledges) the request; use :func:`response_latency` for a
later response such as a fill.

``tests/parity/test_engine_models_parity.py`` runs ``intp_order_latency`` of hftbacktest
2.4.4 on a log with rejection records: the exchange and response timestamps of every
accepted order, and the arrival time of every reject, equal ours.

References
----------
.. [1] Kim, N. (nkaz001) (2025). hftbacktest 2.4, ``hftbacktest/src/backtest/models/
   latency.rs`` (``ConstantLatency``, ``IntpOrderLatency``) and
   ``hftbacktest/src/backtest/proc/local.rs`` (negative entry latency = rejection).
   https://github.com/nkaz001/hftbacktest
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from qlib.enums import LatencyModelKind

#: Columns of the replay log.
TS_LOCAL = 0
ENTRY_NS = 1
RESP_NS = 2

_I64_CAP = 4.0e18  # latencies beyond ~127 years are capped before the int cast


@njit(cache=True, _nrt=False)
def _intp(x, x1, y1, x2, y2):
    """hftbacktest's ``intp``: float64 slope times offset, truncated toward zero, plus y1."""
    v = np.float64(y2 - y1) / np.float64(x2 - x1) * np.float64(x - x1)
    return np.int64(v) + y1


@njit(cache=True, _nrt=False)
def _linear_ns(a, b, feed_latency_ns):
    """``max(a * feed + b, 0)`` rounded half up to int64 ns (capped at 4e18)."""
    v = a * np.float64(feed_latency_ns) + b
    if not (v > 0.0):  # also maps a NaN (unvalidated lp) to 0
        return np.int64(0)
    v = min(v, _I64_CAP)
    return np.int64(math.floor(v + 0.5))


@njit(cache=True, _nrt=False)
def _bracket(log, t):
    """Index of the last record with ``ts <= t`` (-1 when ``t`` is before the first)."""
    lo = 0
    hi = log.shape[0]
    while lo < hi:  # first index with ts > t
        mid = (lo + hi) // 2
        if log[mid, TS_LOCAL] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


@njit(cache=True, _nrt=False)
def _round_trip(log, k):
    """Request-to-local-receipt time of record ``k`` (hftbacktest ``resp_ts - req_ts``)."""
    e = log[k, ENTRY_NS]
    if e < 0:
        return log[k, RESP_NS]
    return e + log[k, RESP_NS]


@njit(cache=True, _nrt=False)
def _replay_entry(log, t):
    """Entry latency at request time ``t``; negative for a rejection (see module notes)."""
    n = log.shape[0]
    if n == 0:
        return np.int64(0), np.int64(-1)
    i = _bracket(log, t)
    if i < 0 or i >= n - 1:
        k = 0 if i < 0 else n - 1
        if log[k, ENTRY_NS] < 0:
            rt = _round_trip(log, k)
            return -max(rt, np.int64(1)), rt
        return log[k, ENTRY_NS], np.int64(-1)
    j = i + 1
    if log[i, ENTRY_NS] < 0 or log[j, ENTRY_NS] < 0:
        rt = _intp(t, log[i, TS_LOCAL], _round_trip(log, i), log[j, TS_LOCAL], _round_trip(log, j))
        if rt < 0:
            rt = np.int64(0)
        return -max(rt, np.int64(1)), rt
    e = _intp(t, log[i, TS_LOCAL], log[i, ENTRY_NS], log[j, TS_LOCAL], log[j, ENTRY_NS])
    return e, np.int64(-1)


@njit(cache=True, _nrt=False)
def _replay_response(log, tau):
    """Response latency at exchange time ``tau`` along the accepted records' exchange axis."""
    n = log.shape[0]
    # last accepted record whose exchange time is <= tau, scanning back from the last
    # request sent at or before tau (entry >= 0, so later requests reach it later).
    i = _bracket(log, tau)
    while i >= 0 and (log[i, ENTRY_NS] < 0 or log[i, TS_LOCAL] + log[i, ENTRY_NS] > tau):
        i -= 1
    if i < 0:
        # before the first accepted record's exchange time: clamp to the first accepted
        for k in range(n):
            if log[k, ENTRY_NS] >= 0:
                return log[k, RESP_NS]
        return np.int64(0)  # no accepted record at all: nothing ever reaches the venue
    j = i + 1
    while j < n and log[j, ENTRY_NS] < 0:
        j += 1
    if j >= n:
        return log[i, RESP_NS]
    x1 = log[i, TS_LOCAL] + log[i, ENTRY_NS]
    x2 = log[j, TS_LOCAL] + log[j, ENTRY_NS]
    y1 = log[i, RESP_NS]
    y2 = log[j, RESP_NS]
    if x2 <= x1:
        return y1 if tau < x2 else y2
    if tau >= x2:
        return y2
    r = _intp(tau, x1, y1, x2, y2)
    if r < 0:
        r = np.int64(0)
    return r


@njit(cache=True, _nrt=False)
def response_latency(kind, lp, log, action, ts_exch, feed_latency_ns):
    """Response latency (ns) of a message the exchange sends at ``ts_exch``.

    See :mod:`qlib.engine._latency_kernels` for the per-kind rules; >= 0.
    """
    if kind == LatencyModelKind.REPLAY:
        return _replay_response(log, ts_exch)
    if kind == LatencyModelKind.FEED_PROPORTIONAL:
        return _linear_ns(lp[4 * action + 2], lp[4 * action + 3], feed_latency_ns)
    v = lp[2 * action + 1]
    if not (v > 0.0):
        return np.int64(0)
    return np.int64(min(v, _I64_CAP))


@njit(cache=True, _nrt=False)
def order_latency(kind, lp, log, action, ts_local, feed_latency_ns):
    """Return ``(entry_ns, resp_ns)`` for a request sent at ``ts_local``.

    ``entry_ns < 0`` means the venue rejects the request and the reject reaches us
    ``resp_ns`` after ``ts_local`` (``REPLAY`` only). Otherwise ``resp_ns`` is the
    latency of the exchange's response at ``ts_local + entry_ns``. See the module notes
    and :mod:`qlib.engine.models` for the public wrappers.
    """
    if kind == LatencyModelKind.REPLAY:
        e, rt = _replay_entry(log, ts_local)
        if e < 0:
            return e, rt
        return e, _replay_response(log, ts_local + e)
    if kind == LatencyModelKind.FEED_PROPORTIONAL:
        base = 4 * action
        e = _linear_ns(lp[base], lp[base + 1], feed_latency_ns)
        r = _linear_ns(lp[base + 2], lp[base + 3], feed_latency_ns)
        return e, r
    ve = lp[2 * action]
    vr = lp[2 * action + 1]
    e = np.int64(0) if not (ve > 0.0) else np.int64(min(ve, _I64_CAP))
    r = np.int64(0) if not (vr > 0.0) else np.int64(min(vr, _I64_CAP))
    return e, r
