"""The in-process Ring: validation, policies, counters, and the kernels in a jitted loop."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import RingPolicy, Status
from qlib.errors import ParameterError, QlibError, SchemaError
from qlib.ring import (
    Ring,
    RingFullError,
    RingTimeoutError,
    pop,
    pop_many,
    push,
    push_many,
)
from qlib.ring import _kernels as K


def _events(n: int, start: int = 0) -> np.ndarray:
    ev = empty_events(n)
    ev["seq"] = np.arange(start, start + n)
    ev["px_tick"] = 100 + np.arange(n)
    return ev


@pytest.mark.parametrize("capacity", [0, 1, 3, 1000, -8, 2.0, True])
def test_ring_bad_capacity_raises_parameter_error(capacity):
    with pytest.raises(ParameterError, match="capacity"):
        Ring(capacity)


def test_ring_bad_policy_and_timeout_raise_parameter_error():
    with pytest.raises(ParameterError, match="policy"):
        Ring(8, policy="newest")
    with pytest.raises(ParameterError, match="timeout"):
        Ring(8, timeout=-1.0)


@pytest.mark.parametrize("dtype", [np.int64, np.dtype([("o", object)])])
def test_ring_bad_dtype_raises_schema_error(dtype):
    with pytest.raises(SchemaError):
        Ring(8, dtype=dtype)


def test_ring_layout_is_cache_line_aligned():
    ring = Ring(16)
    assert ring.state.ctypes.data % 64 == 0 and ring.buf.ctypes.data % 64 == 0
    assert ring.state.shape == (K.STATE_LEN,) and ring.buf.shape == (16,)
    assert ring.buf.dtype == EVENT_DTYPE
    # producer-written and consumer-written counters on different 64-byte lines
    assert {K.HEAD // 8, K.TAIL_CACHE // 8, K.LOW // 8, K.FULL_EVENTS // 8} == {0}
    assert {K.TAIL // 8, K.HEAD_CACHE // 8, K.DROPPED // 8} == {1}


@pytest.mark.parametrize("policy", ["block", "drop_oldest", "raise"])
def test_ring_push_pop_within_capacity_keeps_fifo(policy):
    ring = Ring(8, policy=policy)
    assert ring.push(_events(5)) == 5
    assert len(ring) == 5
    assert ring.pop(2)["seq"].tolist() == [0, 1]
    ring.push(_events(5, start=5))
    got = ring.pop()
    assert got["seq"].tolist() == list(range(2, 10))
    assert (got["px_tick"] == 100 + np.r_[2:5, 0:5]).all()
    c = ring.counters()
    assert (c.pushed, c.popped, c.dropped, c.size) == (10, 10, 0, 0)
    assert ring.pop_one() is None
    assert ring.pop().shape == (0,)


def test_ring_raise_policy_refuses_whole_batch():
    ring = Ring(4, policy="raise")
    ring.push(_events(3))
    with pytest.raises(RingFullError, match="nothing was written") as info:
        ring.push(_events(2, start=3))
    assert isinstance(info.value, QlibError)
    assert ring.counters().pushed == 3 and ring.counters().full_events == 1
    ring.push(_events(1, start=3)[0])  # one record still fits
    assert ring.pop()["seq"].tolist() == [0, 1, 2, 3]


def test_ring_block_policy_times_out_with_partial_push():
    ring = Ring(4, policy="block", timeout=0.02)
    with pytest.raises(RingTimeoutError, match="pushed 4 of 6"):
        ring.push(_events(6))
    assert ring.pop()["seq"].tolist() == [0, 1, 2, 3]
    assert ring.push(_events(2), timeout=0) == 2


def test_ring_drop_oldest_counts_overwritten_records():
    ring = Ring(4, policy="drop_oldest")
    ring.push(_events(10))
    c = ring.counters()
    assert (c.pushed, c.dropped, c.size) == (10, 6, 4)
    assert ring.pop()["seq"].tolist() == [6, 7, 8, 9]
    c = ring.counters()
    assert (c.popped, c.dropped, c.size) == (4, 6, 0)


def test_ring_push_wrong_dtype_raises_schema_error():
    ring = Ring(4)
    with pytest.raises(SchemaError, match="dtype"):
        ring.push(np.zeros(2, dtype=[("a", "i8")]))
    with pytest.raises(SchemaError):
        ring.push([1, 2])


@njit(cache=True)
def _roundtrip(state, buf, src, out):
    """Push each record then pop it, one at a time, then in batches."""
    n = src.shape[0]
    bad = 0
    for i in range(n):
        if push(state, buf, src[i]) != Status.OK:
            bad += 1
        if pop(state, buf, out[i:i + 1]) != Status.OK:
            bad += 1
    k = push_many(state, buf, src)
    m = pop_many(state, buf, out)
    return bad, k, m


def test_kernels_inside_jitted_loop_roundtrip():
    ring = Ring(64)
    src = _events(50)
    out = empty_events(50)
    bad, k, m = _roundtrip(ring.state, ring.buf, src, out)
    assert (bad, k, m) == (0, 50, 50)
    assert (out == src).all()
    assert ring.counters().pushed == 100


def test_kernels_status_codes_full_and_empty():
    ring = Ring(2, policy="raise")
    src = _events(3)
    out = empty_events(1)
    assert pop(ring.state, ring.buf, out) == Status.RING_EMPTY
    assert push(ring.state, ring.buf, src[0]) == Status.OK
    assert push(ring.state, ring.buf, src[1]) == Status.OK
    assert push(ring.state, ring.buf, src[2]) == Status.RING_FULL
    blocking = Ring(2, policy=RingPolicy.BLOCK, timeout=0.001)
    push_many(blocking.state, blocking.buf, src[:2])
    assert push(blocking.state, blocking.buf, src[2]) == Status.RING_TIMEOUT
