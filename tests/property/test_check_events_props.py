"""Properties of check_events over arbitrary valid event arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qlib.data import check_events
from qlib.dtypes import EVENT_DTYPE
from qlib.enums import EventKind

KINDS = [int(k) for k in EventKind]

valid_events = arrays(
    EVENT_DTYPE,
    st.integers(0, 60),
    elements=st.fixed_dictionaries(
        {
            "ts_exch": st.integers(0, 10**18),
            "ts_local": st.integers(0, 10**18),
            "seq": st.integers(-1, 10**12),
            "px_tick": st.integers(-(10**9), 10**9),
            "qty": st.floats(0, 1e9, allow_nan=False),
            "order_id": st.integers(0, 2**63),
            "kind": st.sampled_from(KINDS),
            "side": st.sampled_from([-1, 0, 1]),
            "flags": st.integers(0, 63),
        }
    ).map(lambda d: tuple(d[n] for n in EVENT_DTYPE.names)),
)


@settings(max_examples=150, deadline=None)
@given(valid_events)
def test_check_events_counts_match_python_reference(ev):
    rep = check_events(ev)
    assert rep.rows == len(ev)
    assert sum(rep.rows_by_kind.values()) == len(ev)
    expected = {EventKind(k).name: int((ev["kind"] == k).sum()) for k in KINDS if (ev["kind"] == k).any()}
    assert rep.rows_by_kind == expected
    if len(ev) == 0:
        assert rep.out_of_order_rows == 0 and rep.ts_first is None
        return
    running = np.maximum.accumulate(ev["ts_exch"])
    assert rep.out_of_order_rows == int((ev["ts_exch"][1:] < running[:-1]).sum())
