"""Ring kernels jitted against their pure-Python ``.py_func`` (whose atomics fall back
to plain numpy element accesses), on the same random operation sequences."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.dtypes import empty_events
from qlib.ring import Ring
from qlib.ring import _kernels as K

OPS = 300


def _script(seed: int) -> list[tuple[str, int]]:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["push", "pop", "push_many", "pop_many"], size=OPS)
    return [(str(k), int(rng.integers(0, 12))) for k in kinds]


def _run(ring: Ring, script, fns) -> list:
    push, pop, push_many_for, pop_many = fns
    src = empty_events(64)
    src["seq"] = np.arange(64)
    src["px_tick"] = np.arange(64) * 7
    seq = 0
    log = []
    for kind, n in script:
        if kind == "push":
            rec = src[seq % 64]
            st = push(ring.state, ring.buf, rec)
            log.append(("push", int(st)))
            seq += int(st == 0)
        elif kind == "pop":
            out = empty_events(1)
            st = pop(ring.state, ring.buf, out)
            log.append(("pop", int(st), out.tolist()))
        elif kind == "push_many":
            recs = np.roll(src, -(seq % 64))[:n].copy()
            k = push_many_for(ring.state, ring.buf, recs, 0)
            log.append(("push_many", int(k)))
            seq += int(k)
        else:
            out = empty_events(n)
            k = pop_many(ring.state, ring.buf, out)
            log.append(("pop_many", int(k), out[:k].tolist()))
    return log


JIT = (K.push, K.pop, K.push_many_for, K.pop_many)
PY = tuple(getattr(f, "py_func", f) for f in JIT)  # plain functions under NUMBA_DISABLE_JIT


@pytest.mark.parametrize("policy", ["block", "drop_oldest", "raise"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ring_kernels_jit_equals_py_func(policy, seed):
    a = Ring(8, policy=policy, timeout=0)
    b = Ring(8, policy=policy, timeout=0)
    script = _script(seed)
    log_a = _run(a, script, JIT)
    log_b = _run(b, script, PY)
    assert log_a == log_b
    assert a.state.tobytes() == b.state.tobytes()
    assert a.buf.tolist() == b.buf.tolist()  # field values; padding bytes may differ


def test_wait_for_space_jit_equals_py_func():
    a = Ring(4, timeout=0)
    a.state[K.HEAD] = 4
    for fn in (K.wait_for_space, getattr(K.wait_for_space, "py_func", K.wait_for_space)):
        assert fn(a.state, 4, 1, 0) == -1
        assert fn(a.state, 4, 1, 1_000_000) == -1  # waits 1 ms, then gives up
        assert fn(a.state, 3, 1, 0) == 0
    assert K.size(a.state) == getattr(K.size, "py_func", K.size)(a.state) == 4
