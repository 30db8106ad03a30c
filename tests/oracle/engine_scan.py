"""The engine's first event scan (two passes: this, then ``local_clock``): the test oracle
of :func:`qlib.engine._loop.scan_events_clock`, which does both in one pass.

Was ``qlib.engine._loop.scan_events``; kept outside the library as the independent
reference ``tests/unit/engine/test_prepare_fast.py`` checks the fused pass against.
"""

from __future__ import annotations

from numba import njit

from qlib.dtypes import SUBTICK_SCALE
from qlib.engine._consts import _ADD, _MODIFY, _TRADE_SUBTICK, MAX_PX_TICK, MAX_QTY, PRICED_LUT


@njit(cache=True)
def scan_events(ev, synth_flag):
    """One pass over the events for the wrapper, before the loop runs.

    Returns ``(bad_order, n_l3, n_synth, bad_value)``: the first row whose ``ts_exch``
    is before the previous one (-1: none), the rows of order-level kinds, the rows
    flagged ``synth_flag``, and the first row whose price or quantity the engine cannot
    compute with (-1: none): ``qty`` outside ``[0, MAX_QTY]`` or NaN, ``|px_tick|`` above
    ``MAX_PX_TICK`` (``MAX_PX_TICK * SUBTICK_SCALE`` for ``TRADE_SUBTICK``), or
    ``px_tick < 1`` on a kind of ``PRICED_KINDS`` (see :mod:`qlib.engine._consts`).
    The common row (``1 <= px_tick <= MAX_PX_TICK``, ``0 <= qty <= MAX_QTY``) takes one
    test; only the others get the exact rule.
    """
    bad = -1
    bad_value = -1
    n_l3 = 0
    n_synth = 0
    prev = ev[0]["ts_exch"] if ev.shape[0] > 0 else 0
    for i in range(ev.shape[0]):
        e = ev[i]
        t = e["ts_exch"]
        if t < prev and bad < 0:
            bad = i
        prev = t
        k = e["kind"]
        if k >= _ADD and k <= _MODIFY:
            n_l3 += 1
        if (e["flags"] & synth_flag) != 0:
            n_synth += 1
        px = e["px_tick"]
        q = e["qty"]
        if not ((px >= 1) & (px <= MAX_PX_TICK) & (q >= 0.0) & (q <= MAX_QTY)) \
                and bad_value < 0:
            lim = MAX_PX_TICK * SUBTICK_SCALE if k == _TRADE_SUBTICK else MAX_PX_TICK
            if px > lim or px < -lim or (PRICED_LUT[k] and px < 1) \
                    or not ((q >= 0.0) and (q <= MAX_QTY)):
                bad_value = i
    return bad, n_l3, n_synth, bad_value
