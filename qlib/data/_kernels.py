"""Numba kernels of the data layer: arrays in, status codes out. No pandas, no I/O."""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.enums import EventKind, Side, Status

_MAX_KIND = 14  # highest EventKind value; checked against the enum in tests


@njit(cache=True)
def scan_events(events, kind_counts):
    """Check and count events; see :func:`qlib.data.market_data.check_events`.

    Returns ``(status, row, out_of_order)``: the first bad row and its status, or
    ``(OK, -1, n)`` with ``n`` rows whose ``ts_exch`` is below the running maximum.
    ``kind_counts`` (length 14, int64) is filled with counts by kind.
    """
    out_of_order = 0
    ts_max = np.iinfo(np.int64).min
    for i in range(events.shape[0]):
        ev = events[i]
        k = ev["kind"]
        if k < 1 or k > _MAX_KIND:
            return Status.UNKNOWN_KIND, i, out_of_order
        if ev["side"] < Side.SELL or ev["side"] > Side.BUY:
            return Status.UNKNOWN_KIND, i, out_of_order
        q = ev["qty"]
        if not np.isfinite(q):
            return Status.NON_FINITE, i, out_of_order
        if q < 0.0:
            return Status.NEGATIVE_QTY, i, out_of_order
        kind_counts[k] += 1
        if ev["ts_exch"] < ts_max:
            out_of_order += 1
        else:
            ts_max = ev["ts_exch"]
    return Status.OK, -1, out_of_order
