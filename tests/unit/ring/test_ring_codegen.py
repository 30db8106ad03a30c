"""The generated code: push/pop inlined (no call, no refcounting) and counters atomic."""

from __future__ import annotations

import re
import uuid

import numba
import pytest
from numba import njit, typeof

from qlib.dtypes import empty_events
from qlib.ring import Ring, SharedRing, pop, push

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT,
                                reason="inspects generated code; NUMBA_DISABLE_JIT is set")


@njit
def _pairs(state, buf, src, out, n):
    s = 0
    m = src.shape[0] - 1
    for k in range(n):
        s += push(state, buf, src[k & m])
        s += pop(state, buf, out)
    return s


def _loop_ir(ring) -> tuple[str, str]:
    src = empty_events(16)
    out = empty_events(1)
    args = (ring.state, ring.buf, src, out, 4)
    _pairs(*args)
    sig = tuple(typeof(x) for x in args)
    ll = _pairs.inspect_llvm(sig)
    asm = _pairs.inspect_asm(sig)
    start = ll.index("@_ZN") if "@_ZN" in ll else 0
    name = re.search(r"define [^@]*(@_ZN[^(]*_pairs[^(]*)\(", ll[start - 200:]).group(1)
    body = ll[ll.index(name + "("):]
    body = body[:body.index("\n}\n")]
    return body, asm


@pytest.fixture(params=["ring", "shared"])
def ring(request):
    if request.param == "ring":
        yield Ring(64, policy="block")
        return
    name = f"qlib_test_{uuid.uuid4().hex[:12]}"
    with SharedRing.create(name, 64, policy="block") as r:
        yield r


def test_jitted_loop_inlines_push_and_pop_without_refcounting(ring):
    body, asm = _loop_ir(ring)
    assert not re.search(r"call .*_kernels[0-9]*(push|pop)", body)
    assert "NRT_incref" not in body and "NRT_decref" not in body
    assert not re.search(r"call.*(push|pop)", asm)


def test_jitted_loop_orders_counter_accesses(ring):
    body, _ = _loop_ir(ring)
    assert re.search(r"load atomic i64, ptr %[\w.]+ acquire, align 8", body)
    assert re.search(r"store atomic i64 %[\w.]+, ptr %[\w.]+ release, align 8", body)
    # each slot copy is 7 relaxed 8-byte words (56-byte EVENT_DTYPE) each way
    assert len(re.findall(r"load atomic i64, ptr %[\w.]+ monotonic", body)) >= 14


def test_drop_oldest_path_has_fences():
    ring = Ring(64, policy="drop_oldest")
    body, _ = _loop_ir(ring)
    # fence release (producer) and fence acquire (consumer) are in the inlined code
    # even though this ring's policy is chosen at run time
    assert "fence release" in body and "fence acquire" in body
