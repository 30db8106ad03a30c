"""Ring FIFO order, no loss within capacity, and the counters, against a deque.

Random interleavings of push and pop counts, for each full-ring policy, through the
Python API (which runs the jitted batch kernels) and through the single-record
kernels called one record at a time.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.dtypes import empty_events
from qlib.enums import Status
from qlib.ring import Ring, RingFullError, RingTimeoutError
from qlib.ring import _kernels as K

CAPACITIES = st.sampled_from([2, 4, 8, 16])
OPS = st.lists(st.tuples(st.sampled_from(["push", "pop"]), st.integers(0, 40)),
               min_size=1, max_size=60)


def _batch(start: int, n: int) -> np.ndarray:
    ev = empty_events(n)
    ev["seq"] = np.arange(start, start + n)
    ev["px_tick"] = ev["seq"] * 3 + 1
    return ev


def _check(ring: Ring, ref: deque, pushed: int, popped: int, dropped: int) -> None:
    c = ring.counters()
    assert (c.pushed, c.popped, c.dropped, c.size) == (pushed, popped, dropped, len(ref))
    assert c.pushed == c.popped + c.dropped + c.size


@settings(max_examples=150, deadline=None)
@given(cap=CAPACITIES, ops=OPS, policy=st.sampled_from(["block", "drop_oldest", "raise"]))
def test_ring_python_api_matches_deque(cap, ops, policy):
    ring = Ring(cap, policy=policy, timeout=0)
    ref: deque = deque()
    seq = pushed = popped = dropped = 0
    for op, n in ops:
        if op == "push":
            recs = _batch(seq, n)
            if policy == "drop_oldest":
                assert ring.push(recs) == n
                for s in recs["seq"]:
                    if len(ref) == cap:
                        ref.popleft()
                        dropped += 1
                    ref.append(int(s))
                k = n
            elif policy == "raise":
                if n > cap - len(ref):
                    try:
                        ring.push(recs)
                        raise AssertionError("expected RingFullError")
                    except RingFullError:
                        k = 0
                else:
                    assert ring.push(recs) == n
                    k = n
                ref.extend(int(s) for s in recs["seq"][:k])
            else:
                k = min(n, cap - len(ref))
                try:
                    assert ring.push(recs, timeout=0) == n
                except RingTimeoutError:
                    assert k < n
                ref.extend(int(s) for s in recs["seq"][:k])
            seq += k
            pushed += k
        else:
            got = ring.pop(n)
            want = [ref.popleft() for _ in range(min(n, len(ref)))]
            assert got["seq"].tolist() == want  # FIFO, nothing lost
            assert (got["px_tick"] == got["seq"] * 3 + 1).all()  # records intact
            popped += len(want)
        _check(ring, ref, pushed, popped, dropped)


@settings(max_examples=100, deadline=None)
@given(cap=CAPACITIES, ops=OPS, policy=st.sampled_from(["block", "drop_oldest", "raise"]))
def test_ring_single_record_kernels_match_deque(cap, ops, policy):
    ring = Ring(cap, policy=policy, timeout=0)
    ref: deque = deque()
    seq = dropped = 0
    out = empty_events(1)
    for op, n in ops:
        for _ in range(n):
            if op == "push":
                status = K.push(ring.state, ring.buf, _batch(seq, 1)[0])
                if len(ref) < cap:
                    assert status == Status.OK
                    ref.append(seq)
                    seq += 1
                elif policy == "drop_oldest":
                    assert status == Status.OK
                    ref.popleft()
                    ref.append(seq)
                    seq += 1
                    dropped += 1
                else:
                    want = Status.RING_TIMEOUT if policy == "block" else Status.RING_FULL
                    assert status == want
            else:
                status = K.pop(ring.state, ring.buf, out)
                if ref:
                    assert status == Status.OK and int(out[0]["seq"]) == ref.popleft()
                else:
                    assert status == Status.RING_EMPTY
        c = ring.counters()
        assert (c.pushed, c.dropped, c.size) == (seq, dropped, len(ref))
