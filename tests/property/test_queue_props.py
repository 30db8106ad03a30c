r"""Invariants of the queue-position and latency kernels (hypothesis).

Queue (hftbacktest 2.4 rules, see :mod:`qlib.engine._queue_kernels`):

* ``queue_filled_qty`` returns a non-negative whole number of lots; when it is > 0 the
  front is reset to 0, otherwise the front is above ``-lot/2``. (The front is *not*
  always >= 0 afterwards: a residual of less than half a lot stays, as in hftbacktest.)
* after a depth update the front is never above the level's new quantity;
* while the probabilistic front stays >= 0 (consistent level quantities, no fill resets,
  trades that never exceed the probabilistic front), the risk-adverse front is never
  below the probabilistic one: a decrease moves the prob front by
  :math:`-(1-p)\Delta + \min(B - p\Delta, 0) \le 0` with :math:`p \in [0, 1]`.
  It is *not* a property of arbitrary sequences: a fill reset (0 for one model, a
  residual of -0.4 lot for the other) or a decrease that overdraws the prob front below 0
  (after which a non-integer power gives :math:`p` = NaN and hftbacktest's
  ``NaN.min(new_qty)`` sends the order to the back of the queue) break it; both
  counterexamples are tests below.

Latency: constant latencies are returned exactly; replayed entry latencies lie between
the two bracketing records; a rejection is returned iff a bracketing record is one.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.engine import _latency_kernels as LK
from qlib.engine import _queue_kernels as QK
from qlib.enums import QueueModelKind

RA = int(QueueModelKind.RISK_ADVERSE)
POW = int(QueueModelKind.PROB_POWER)
LOG = int(QueueModelKind.PROB_LOG)

QTY = st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False)
KIND = st.sampled_from([int(k) for k in QueueModelKind])
POWER = st.floats(min_value=0.1, max_value=6.0)
LOT = st.sampled_from([1.0, 0.1, 0.001, 5.0, 0.25])
OPS = st.lists(
    st.tuples(st.sampled_from(["trade", "depth", "fill"]), QTY, LOT), min_size=1, max_size=60
)


@settings(max_examples=300, deadline=None)
@given(kind=KIND, n=POWER, level0=QTY, ops=OPS)
def test_queue_fill_lots_and_depth_cap(kind, n, level0, ops):
    qp = np.array([n])
    qs = np.zeros((2, 2))
    QK.queue_new(kind, qp, qs, 1, level0)
    level = level0
    for op, v, lot in ops:
        if op == "trade":
            QK.queue_on_trade(kind, qp, qs, 1, min(v, 50.0))
        elif op == "depth":
            QK.queue_on_depth(kind, qp, qs, 1, level, v)
            level = v
            assert qs[1, 0] <= v  # never above the level's quantity
        else:
            before = qs[1, 0]
            got = QK.queue_filled_qty(kind, qp, qs, 1, lot)
            k = got / lot
            assert got >= 0.0
            assert abs(k - round(k)) < 1e-9 * max(1.0, k)  # whole lots
            if got > 0.0:
                assert qs[1, 0] == 0.0
                assert before <= -0.5 * lot
            else:
                assert qs[1, 0] == before > -0.5 * lot
        assert np.isfinite(qs[1]).all()
        assert qs[0].tolist() == [0.0, 0.0]  # other slots untouched


@settings(max_examples=300, deadline=None)
@given(
    prob_kind=st.sampled_from([POW, LOG]),
    n=POWER,
    level0=QTY,
    ops=st.lists(
        st.tuples(st.sampled_from(["trade", "depth"]), QTY, st.floats(0.0, 1.0)),
        min_size=1,
        max_size=60,
    ),
)
def test_risk_adverse_front_never_below_prob_front_without_fills(prob_kind, n, level0, ops):
    qp = np.array([n])
    ra = np.zeros((1, 2))
    pb = np.zeros((1, 2))
    QK.queue_new(RA, qp, ra, 0, level0)
    QK.queue_new(prob_kind, qp, pb, 0, level0)
    level = level0
    for op, v, frac in ops:
        if pb[0, 0] < 0.0:
            break  # a decrease overdrew the front (est < 0): the precondition is gone
        if op == "trade":
            q = frac * pb[0, 0]  # at most the prob model's front: both fronts stay >= 0
            QK.queue_on_trade(RA, qp, ra, 0, q)
            QK.queue_on_trade(prob_kind, qp, pb, 0, q)
        else:
            QK.queue_on_depth(RA, qp, ra, 0, level, v)
            QK.queue_on_depth(prob_kind, qp, pb, 0, level, v)
            level = v
        assert ra[0, 0] >= pb[0, 0] - 1e-9 * max(1.0, abs(level))


def test_risk_adverse_front_can_fall_below_prob_front_after_a_fill_reset():
    # the risk-adverse order sits at -0.4 (round(0.4) = 0 lots: no fill), the prob one at
    # -0.6 (round(0.6) = 1 lot: filled, front reset to 0): now RA -0.4 < prob 0.
    qp = np.array([2.0])
    ra = np.array([[-0.4, 0.0]])
    pb = np.array([[-0.6, 0.0]])
    assert QK.queue_filled_qty(RA, qp, ra, 0, 1.0) == 0.0
    assert QK.queue_filled_qty(POW, qp, pb, 0, 1.0) == 1.0
    assert ra[0, 0] == -0.4 < pb[0, 0] == 0.0


def test_risk_adverse_front_can_fall_below_prob_front_after_an_overdrawn_decrease():
    # n = 0.5, both at front 1 of a level 1 -> 3 -> 0 -> 5 -> 2 (no trades):
    # 3 -> 0: chg 3, B = 2, p = sqrt(2)/(sqrt(2) + 1) = 0.5858,
    #   prob est = 1 - 0.4142*3 + min(2 - 1.7574, 0) = -0.2426; RA = min(1, 0) = 0.
    # 0 -> 5: an increase, both only capped. 5 -> 2: prob f(F) = (-0.2426)^0.5 is NaN, so
    #   hftbacktest's NaN.min(new) puts the prob order at new = 2 (the back); RA = min(0, 2) = 0.
    qp = np.array([0.5])
    ra = np.zeros((1, 2))
    pb = np.zeros((1, 2))
    QK.queue_new(RA, qp, ra, 0, 1.0)
    QK.queue_new(POW, qp, pb, 0, 1.0)
    for prev, new in [(1.0, 3.0), (3.0, 0.0), (0.0, 5.0)]:
        QK.queue_on_depth(RA, qp, ra, 0, prev, new)
        QK.queue_on_depth(POW, qp, pb, 0, prev, new)
    assert ra[0, 0] == 0.0
    assert abs(pb[0, 0] + 0.2426) < 1e-4
    QK.queue_on_depth(RA, qp, ra, 0, 5.0, 2.0)
    QK.queue_on_depth(POW, qp, pb, 0, 5.0, 2.0)
    assert ra[0, 0] == 0.0 < pb[0, 0] == 2.0


@settings(max_examples=200, deadline=None)
@given(
    vals=st.lists(st.integers(0, 4 * 10**18), min_size=6, max_size=6),
    action=st.integers(0, 2),
    ts=st.integers(-(2**62), 2**62),
    feed=st.integers(-(10**12), 10**12),
)
def test_constant_latency_exact(vals, action, ts, feed):
    lp = np.array(vals, dtype=np.float64)
    got = LK.order_latency(0, lp, np.zeros((0, 3), dtype=np.int64), action, ts, feed)
    assert got == (int(lp[2 * action]), int(lp[2 * action + 1]))


@settings(max_examples=200, deadline=None)
@given(
    coeffs=st.lists(st.floats(0.0, 100.0), min_size=12, max_size=12),
    action=st.integers(0, 2),
    f1=st.integers(-(10**9), 10**9),
    f2=st.integers(-(10**9), 10**9),
)
def test_feed_proportional_latency_nonnegative_and_monotone(coeffs, action, f1, f2):
    lp = np.array(coeffs)
    empty = np.zeros((0, 3), dtype=np.int64)
    lo, hi = sorted((f1, f2))
    e1, r1 = LK.order_latency(1, lp, empty, action, 0, lo)
    e2, r2 = LK.order_latency(1, lp, empty, action, 0, hi)
    assert 0 <= e1 <= e2 and 0 <= r1 <= r2


@st.composite
def _logs(draw):
    n = draw(st.integers(1, 12))
    ts = sorted(draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)))
    entry = draw(st.lists(st.integers(-1, 10**6), min_size=n, max_size=n))
    resp = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    return np.array([ts, entry, resp], dtype=np.int64).T.copy()


@settings(max_examples=400, deadline=None)
@given(log=_logs(), t=st.integers(-(10**6), 2 * 10**9))
def test_replay_latency_within_bracket(log, t):
    n = log.shape[0]
    lp = np.zeros(1)
    entry, resp = LK.order_latency(2, lp, log, 0, t, 0)
    idx = np.searchsorted(log[:, 0], t, side="right") - 1
    if idx < 0:
        br = [0]
    elif idx >= n - 1:
        br = [n - 1]
    else:
        br = [idx, idx + 1]
    rejected = any(log[k, 1] < 0 for k in br)
    assert (entry < 0) == rejected
    if rejected:
        rts = [log[k, 2] + max(log[k, 1], 0) for k in br]
        assert min(rts) <= resp <= max(rts)
        assert entry == -max(resp, 1)
    else:
        es = [log[k, 1] for k in br]
        assert min(es) <= entry <= max(es)
        ok = log[:, 1] >= 0
        assert log[ok, 2].min() <= resp <= log[ok, 2].max()
