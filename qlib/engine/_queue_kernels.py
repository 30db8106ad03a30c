r"""Numba kernels of the L2 queue-position models (jitted code only).

No pandas, no I/O, no allocation. The model is written once, on scalars
(:func:`front_on_trade`, :func:`front_on_depth`, :func:`front_filled_qty`), and applied
to two layouts of the per-order state: the engine's records
(:data:`qlib.dtypes.ENGINE_ORDER_STATE_DTYPE`, fields ``front`` and ``cum``; the
``order_queue_*`` functions), and ``qstate``, a float64 array of shape ``(n_slots, k)``,
``k >= 2``, of which the ``queue_*`` functions read and write the first two columns:

* ``qstate[slot, 0]`` -- *front*: the quantity ahead of our order in the queue of the
  level at our price;
* ``qstate[slot, 1]`` -- *cum_trade*: the market-trade quantity at our price
  accumulated since the last depth update (probabilistic models only).

``qp`` is a float64 1-D array of model parameters (``PROB_POWER``: ``qp[0]`` is the
power :math:`n`; unused otherwise). ``kind`` is a :class:`qlib.enums.QueueModelKind`
code; ``L3_FIFO`` (handled by the engine itself from order-level data) is treated
here as ``RISK_ADVERSE``, and so is any unknown code. ``slot`` must index a row of
``qstate`` (numba does not bounds-check); the engine owns the slots.

The public, validated configuration objects are in :mod:`qlib.engine.models`
(:class:`~qlib.engine.models.RiskAdverseQueue`,
:class:`~qlib.engine.models.PowerProbQueue`, :class:`~qlib.engine.models.LogProbQueue`,
:class:`~qlib.engine.models.L3FifoQueue`).

Notes
-----
These kernels reproduce ``RiskAdverseQueueModel`` and ``ProbQueueModel`` (with
``PowerProbQueueFunc`` and ``LogProbQueueFunc``) of hftbacktest 2.4.x [1]_, file
``hftbacktest/src/backtest/models/queue.rs`` (nkaz001/hftbacktest, commit
``f5e5f06f22925e670a16da1e4e8152590e0308da``; the Python wheel 2.4.4 wraps it),
operation for operation, in IEEE double arithmetic:

* new order: :math:`F \leftarrow Q` (the book's quantity at our price, our own
  orders excluded), :math:`C \leftarrow 0`.
* trade of :math:`q` at our price: :math:`F \leftarrow F - q`; the probabilistic
  models also accumulate :math:`C \leftarrow C + q`.
* depth update :math:`Q_{prev} \to Q_{new}`:

  - risk-adverse: :math:`F \leftarrow \min(F, Q_{new})`;
  - probabilistic: :math:`\Delta = Q_{prev} - Q_{new} - C`, then :math:`C \leftarrow 0`.
    If :math:`\Delta < 0` (an increase), :math:`F \leftarrow \min(F, Q_{new})`.
    Otherwise, with :math:`B = Q_{prev} - F` (the quantity behind us) and

    .. math::

       p = \frac{f(B)}{f(B) + f(F)}, \qquad f(x) = x^n \;\text{(power)}, \quad
       f(x) = \ln(1 + x) \;\text{(log)},

    :math:`p \leftarrow 1` when :math:`p = \pm\infty`, and

    .. math::

       F \leftarrow \min\bigl(F - (1 - p)\Delta + \min(B - p\Delta, 0),\; Q_{new}\bigr).

* executable quantity (``is_filled``): :math:`k = \operatorname{round}(-F / L)` with
  Rust's ``f64::round`` (half away from zero; **round, not floor**: a front of
  :math:`-0.5L` already fills one lot), cast to ``i64``; if :math:`k > 0`,
  :math:`F \leftarrow 0` and the result is :math:`kL`, else 0 and :math:`F` unchanged.
  (hftbacktest 1.x and early 2.x tested ``round(F/L) < 0`` and returned
  ``floor(-F/L)·L`` without resetting :math:`F`; 2.4 rounds and resets.) So the front can
  stay slightly negative (above :math:`-L/2`) after a check that fills nothing, and a
  probabilistic depth decrease can leave it negative too (:math:`\min(\text{est},
  Q_{new})` with est < 0).

Non-finite intermediates, reproduced without ever storing a NaN: Rust's
``f64::min(a, b)`` returns the other argument when one is NaN. So when :math:`p` is
NaN (:math:`f(B) = f(F) = 0`, e.g. :math:`F = B = 0`; a negative base with a
non-integer power; :math:`\ln` of a number below 0; :math:`\infty/\infty` after an
overflow of :math:`x^n`), :math:`F - (1-p)\Delta` is NaN, and the final
``est_front.min(new_qty)`` yields :math:`F \leftarrow Q_{new}`. A zero denominator with
a non-zero numerator gives :math:`p = \pm\infty`, hence :math:`p = 1`. These kernels take
the same branches explicitly (numba's Python error model would raise on ``0.0/0.0``),
and compute :math:`x^n` with libm ``pow`` and :math:`\ln` with libm ``log`` as Rust does
(``np.power`` may differ in the last bit). A consequence worth knowing: with a
non-integer :math:`n`, a front that a decrease has overdrawn below 0 makes :math:`f(F)`
NaN at the next decrease, which puts the order at the back (:math:`F = Q_{new}`).

``tests/parity/test_engine_models_parity.py`` checks the depth rule bit for bit against a
line-by-line transliteration of the Rust code, and the fill event of a resting order
against hftbacktest 2.4.4 itself (``no_partial_fill_exchange``, each model).

References
----------
.. [1] Kim, N. (nkaz001) (2025). hftbacktest 2.4: a high-frequency trading and
   market-making backtesting tool, ``hftbacktest/src/backtest/models/queue.rs``.
   https://github.com/nkaz001/hftbacktest
.. [2] Rigtorp, E. (2013). Estimating order queue position.
   https://rigtorp.se/2013/06/08/estimating-order-queue-position.html
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from qlib.enums import QueueModelKind

#: Column of ``qstate`` holding the quantity ahead of our order.
FRONT = 0
#: Column of ``qstate`` holding the trade quantity since the last depth update.
CUM_TRADE = 1

_LN_DBL_MAX = 709.782712893384  # ln(DBL_MAX)


@njit(cache=True, _nrt=False)
def _is_prob(kind):
    """True for the probabilistic models (``PROB_POWER``, ``PROB_LOG``)."""
    return kind == QueueModelKind.PROB_POWER or kind == QueueModelKind.PROB_LOG


@njit(cache=True, _nrt=False)
def _rust_min(a, b):
    """Rust ``f64::min``: the other argument when one is NaN, else the smaller."""
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return min(a, b)


@njit(cache=True, _nrt=False)
def _f_power(x, n):
    """``x.powf(n)`` (C ``pow``) with NaN for a negative base and a non-integer power."""
    if x < 0.0 and n != math.floor(n):
        return np.nan
    if x == 0.0:
        if n > 0.0:
            return 0.0
        if n == 0.0:
            return 1.0
        return np.inf
    ax = math.fabs(x)
    if ax > 1.0 and n * math.log(ax) > _LN_DBL_MAX:
        # overflows to +-inf (as C pow does); decided up front because Python's math.pow
        # raises OverflowError where numba's returns inf
        odd = n - 2.0 * math.floor(0.5 * n) != 0.0  # n is an integer when x < 0
        return -np.inf if (x < 0.0 and odd) else np.inf
    return math.pow(x, n)  # glibc pow, as Rust's powf (np.power may differ in the last bit)


@njit(cache=True, _nrt=False)
def _f_log(x):
    """``(1.0 + x).ln()``: NaN below 0, ``-inf`` at 0."""
    y = 1.0 + x
    if y < 0.0 or math.isnan(y):
        return np.nan
    if y == 0.0:
        return -np.inf
    return math.log(y)


@njit(cache=True, _nrt=False)
def _f(kind, qp, x):
    """The probability function of a probabilistic ``kind``."""
    if kind == QueueModelKind.PROB_POWER:
        return _f_power(x, qp[0])
    return _f_log(x)


@njit(cache=True, _nrt=False)
def front_on_trade(kind, front, cum, trade_qty):
    """``(front, cum)`` after a market trade of ``trade_qty`` at our price (hftbacktest
    ``trade``): the model itself, on scalars; see :func:`queue_on_trade`."""
    front = front - trade_qty
    if _is_prob(kind):
        cum = cum + trade_qty
    return front, cum


@njit(cache=True, _nrt=False)
def front_on_depth(kind, qp, front, cum, prev_qty, new_qty):
    """``(front, cum)`` after the level change ``prev_qty -> new_qty`` at our price
    (hftbacktest ``depth``): the model itself, on scalars; see :func:`queue_on_depth`."""
    if not _is_prob(kind):
        return _rust_min(front, new_qty), cum
    chg = prev_qty - new_qty
    chg = chg - cum
    if chg < 0.0:
        return _rust_min(front, new_qty), 0.0
    back = prev_qty - front
    fb = _f(kind, qp, back)
    ff = _f(kind, qp, front)
    den = fb + ff
    nan_prob = False
    prob = 0.0
    if math.isnan(fb) or math.isnan(ff) or math.isnan(den):
        nan_prob = True
    elif den == 0.0:
        if fb == 0.0:
            nan_prob = True  # 0/0
        else:
            prob = 1.0  # +-inf, which hftbacktest maps to 1
    elif math.isinf(fb) and math.isinf(den):
        nan_prob = True  # inf/inf
    else:
        prob = fb / den
        if math.isinf(prob):
            prob = 1.0
    if nan_prob:
        # est_front is NaN; Rust's NaN.min(new_qty) is new_qty.
        return new_qty, 0.0
    est_front = front - (1.0 - prob) * chg + _rust_min(back - prob * chg, 0.0)
    return _rust_min(est_front, new_qty), 0.0


@njit(cache=True, _nrt=False)
def _round_half_away(v):
    """Rust ``f64::round`` for ``v >= 0`` (exact: no ``floor(v + 0.5)`` double rounding)."""
    t = math.floor(v)
    if v - t >= 0.5:
        t += 1.0
    return t


@njit(cache=True, _nrt=False)
def front_filled_qty(front, lot_size):
    """``(qty, front)``: the quantity executable now and the front after it (hftbacktest
    ``is_filled``), on scalars; see :func:`queue_filled_qty`."""
    if not (lot_size > 0.0):
        return 0.0, front
    v = -front / lot_size
    if not (v >= 0.5):  # round half away from zero gives exec <= 0 (or v is NaN -> 0)
        return 0.0, front
    if math.isinf(v) or v >= 9.223372036854775807e18:
        k = 9.223372036854775807e18  # i64::MAX after Rust's saturating cast
    else:
        k = _round_half_away(v)
    return k * lot_size, 0.0


@njit(cache=True, _nrt=False)
def queue_new(kind, qp, qstate, slot, level_qty):
    """Start the queue estimate of ``slot`` behind ``level_qty``; see :mod:`qlib.engine.models`."""
    qstate[slot, FRONT] = level_qty
    qstate[slot, CUM_TRADE] = 0.0


@njit(cache=True, _nrt=False)
def queue_on_trade(kind, qp, qstate, slot, trade_qty):
    """Advance ``slot`` by a market trade of ``trade_qty`` at our price (hftbacktest ``trade``)."""
    qstate[slot, FRONT], qstate[slot, CUM_TRADE] = front_on_trade(
        kind, qstate[slot, FRONT], qstate[slot, CUM_TRADE], trade_qty)


@njit(cache=True, _nrt=False)
def queue_on_depth(kind, qp, qstate, slot, prev_qty, new_qty):
    """Apply the level change ``prev_qty -> new_qty`` at our price (hftbacktest ``depth``)."""
    qstate[slot, FRONT], qstate[slot, CUM_TRADE] = front_on_depth(
        kind, qp, qstate[slot, FRONT], qstate[slot, CUM_TRADE], prev_qty, new_qty)


@njit(cache=True, _nrt=False)
def queue_filled_qty(kind, qp, qstate, slot, lot_size):
    """Quantity executable for ``slot`` now, a multiple of ``lot_size`` (hftbacktest ``is_filled``).

    Resets the front to 0 when the result is > 0. Returns 0.0 for ``lot_size <= 0``
    (the public layer validates the lot size).
    """
    qty, qstate[slot, FRONT] = front_filled_qty(qstate[slot, FRONT], lot_size)
    return qty


@njit(cache=True, _nrt=False)
def order_queue_new(kind, qp, oxs, slot, level_qty):
    """:func:`queue_new` on the engine's per-order records
    (:data:`qlib.dtypes.ENGINE_ORDER_STATE_DTYPE`: ``front``, ``cum``)."""
    r = oxs[slot]
    r["front"] = level_qty
    r["cum"] = 0.0


@njit(cache=True, _nrt=False)
def order_queue_on_trade(kind, qp, oxs, slot, trade_qty):
    """:func:`queue_on_trade` on the engine's per-order records."""
    r = oxs[slot]
    r["front"], r["cum"] = front_on_trade(kind, r["front"], r["cum"], trade_qty)


@njit(cache=True, _nrt=False)
def order_queue_on_depth(kind, qp, oxs, slot, prev_qty, new_qty):
    """:func:`queue_on_depth` on the engine's per-order records."""
    r = oxs[slot]
    r["front"], r["cum"] = front_on_depth(kind, qp, r["front"], r["cum"], prev_qty, new_qty)


@njit(cache=True, _nrt=False)
def order_queue_filled_qty(kind, qp, oxs, slot, lot_size):
    """:func:`queue_filled_qty` on the engine's per-order records."""
    r = oxs[slot]
    qty, r["front"] = front_filled_qty(r["front"], lot_size)
    return qty
