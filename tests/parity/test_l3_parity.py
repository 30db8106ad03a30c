"""L3 book and matching kernels against their pure-Python ``.py_func`` (same inputs, same state).

``.py_func`` runs the top-level kernel's body in Python (the helpers it calls stay
jitted); a second test runs whole workloads under ``NUMBA_DISABLE_JIT=1`` in a
subprocess, where every helper is Python too, and compares the results field by field.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from qlib.book import _l3_kernels as K
from qlib.book import _matching_kernels as MK
from qlib.book.l3 import L3Book
from qlib.book.matching import MatchingEngine
from qlib.data import simulate
from qlib.dtypes import BBO_DTYPE, L3_ORDER_DTYPE
from qlib.enums import Side, StpPolicy, TimeInForce

ROOT = Path(__file__).resolve().parents[2]


def _copy(st):
    return K.L3State(*(a.copy() for a in st))


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x.dtype.names:
            for f in x.dtype.names:
                assert np.array_equal(x[f], y[f]), f
        else:
            assert np.array_equal(x, y)


@pytest.fixture(scope="module")
def sim_events():
    return simulate(n_events=4000, seed=11).events


@pytest.mark.parametrize("strict", [True, False])
def test_apply_events_jit_equals_py_func(sim_events, strict):
    a = L3Book(strict=strict, order_capacity=1 << 12, level_capacity=256).state
    b = _copy(a)
    ra = K.apply_events(*a, sim_events, 0, sim_events.shape[0])
    rb = K.apply_events.py_func(*b, sim_events, 0, sim_events.shape[0])
    assert ra == rb
    _same(a, b)


def test_apply_events_bbo_and_reads_jit_equal_py_func(sim_events):
    a = L3Book(order_capacity=1 << 12).state
    b = _copy(a)
    oa = np.zeros(sim_events.shape[0], BBO_DTYPE)
    ob = np.zeros(sim_events.shape[0], BBO_DTYPE)
    assert K.apply_events_bbo(*a, sim_events, 0, oa) == K.apply_events_bbo.py_func(*b, sim_events, 0, ob)
    _same(a, b)
    _same([oa], [ob])
    n = int(a.meta[K.M_NENT0] + a.meta[K.M_NENT0 + 1])
    da, db = np.zeros(n, L3_ORDER_DTYPE), np.zeros(n, L3_ORDER_DTYPE)
    assert K.dump_orders(*a, da) == K.dump_orders.py_func(*b, db)
    _same([da], [db])
    for oid in da["order_id"][:50]:
        assert K.queue_ahead(*a, oid) == K.queue_ahead.py_func(*b, oid)


def _flow(n, seed):
    rng = np.random.default_rng(seed)
    for i in range(n):
        u = rng.random()
        if u < 0.7:
            yield ("submit", np.uint64(i + 1), np.int64(1 if rng.random() < 0.5 else -1),
                   np.int64(rng.integers(95, 106)), float(rng.integers(1, 9)),
                   np.int64(rng.integers(0, 2)), np.int64(rng.integers(0, 4)),
                   np.int64(rng.integers(0, 4)), bool(rng.random() < 0.5),
                   np.int64(rng.integers(0, 3)), np.int64(i))
        elif u < 0.85:
            yield ("cancel", np.uint64(rng.integers(1, i + 2)), np.int64(i))
        else:
            yield ("modify", np.uint64(rng.integers(1, i + 2)), np.int64(rng.integers(95, 106)),
                   float(rng.integers(0, 9)), np.int64(rng.integers(0, 4)), False, np.int64(i))


def test_matching_kernels_jit_equal_py_func():
    ea = MatchingEngine(fill_capacity=4096, event_capacity=4096)
    eb = MatchingEngine(fill_capacity=4096, event_capacity=4096)
    for op in _flow(600, 2):
        fn = getattr(MK, op[0])
        ra = fn(*ea.state, *op[1:])
        rb = fn.py_func(*eb.state, *op[1:])
        assert ra == rb, op
        ea.counts[:2] = 0
        eb.counts[:2] = 0
        if ea.counts[MK.C_SEQ] % 50 == 0:
            _same(ea.state, eb.state)
    _same(ea.state, eb.state)


_SCRIPT = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
from qlib.book.l3 import replay_l3
from qlib.book.matching import MatchingEngine
from qlib.data import simulate
from qlib.enums import Side, StpPolicy, TimeInForce
from qlib.errors import OrderRejected
out = {}
ev = simulate(n_events=3000, seed=3).events
book = replay_l3(ev, order_capacity=16)
out["book"] = book.orders().tolist()
out["stats"] = book.stats
eng = MatchingEngine(fill_capacity=16, event_capacity=16)
rng = np.random.default_rng(5)
res = []
for i in range(300):
    side = Side.BUY if rng.random() < 0.5 else Side.SELL
    try:
        r = eng.submit(side, int(rng.integers(1, 9)), px_tick=int(rng.integers(95, 106)),
                       order_id=i + 1, owner=int(rng.integers(0, 3)),
                       tif=TimeInForce(int(rng.integers(0, 4))),
                       stp=StpPolicy(int(rng.integers(1, 4))))
        res.append([r.fills.tolist(), r.events.tolist(), r.filled, r.rested, r.cancelled])
    except OrderRejected as e:
        res.append(str(e))
out["engine"] = res
out["engine_book"] = eng.book.orders().tolist()
print(json.dumps(out, default=lambda x: x.item() if hasattr(x, "item") else str(x)))
"""


@pytest.mark.slow
def test_whole_workload_without_jit_equals_jitted():
    def run(disable):
        env = {**os.environ, "NUMBA_DISABLE_JIT": "1" if disable else "0"}
        p = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True)
        return json.loads(p.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jit, py = run(False), run(True)
    assert jit == py
    assert len(jit["engine"]) == 300 and any(r[0] for r in jit["engine"] if isinstance(r, list))


def test_borrow_is_identity_in_python():
    a = np.arange(3)
    assert K.borrow(a) is a
    assert Side.BUY == 1 and StpPolicy.NONE == 0 and TimeInForce.GTC == 0


def _flat_vs_reference(events, strict, **caps):
    """``apply_events`` (flat hot paths) against the one-call-per-row :func:`K.apply_event` path."""
    a = L3Book(strict=strict, **caps).state
    b = _copy(a)
    ra = K.apply_events(*a, events, 0, events.shape[0])
    rb = K.apply_events_bbo(*b, events, 0, np.zeros(events.shape[0], BBO_DTYPE))
    assert ra == rb
    _same(a, b)  # byte for byte: the free lists, the map layout and the float residues too


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("seed", [3, 11])
def test_apply_events_flat_paths_equal_per_event_path(strict, seed):
    ev = simulate(n_events=20_000, seed=seed).events
    _flat_vs_reference(ev, strict, order_capacity=1 << 14, level_capacity=1 << 10)
    _flat_vs_reference(ev[:3000], strict, order_capacity=1 << 12, level_capacity=256)


def test_apply_events_flat_paths_equal_per_event_path_on_edge_rows():
    """Duplicates, unknown ids, over-cancels, zero sizes, bad sides, EXECUTE behind the head."""
    ev = simulate(n_events=3000, seed=5).events.copy()
    rng = np.random.default_rng(0)
    idx = rng.choice(ev.shape[0], 600, replace=False)
    ev["order_id"][idx[:150]] = ev["order_id"][rng.integers(0, ev.shape[0], 150)]
    ev["qty"][idx[150:300]] *= rng.choice([0.0, 0.5, 2.0, 1.0 + 1e-12], 150)
    ev["side"][idx[300:350]] = rng.choice([0, 2, -1, 1], 50)
    ev["px_tick"][idx[350:450]] += rng.integers(-40, 40, 100)
    for strict in (True, False):
        for stop in (ev.shape[0], 1000, 100):
            a = L3Book(strict=strict, order_capacity=1 << 12, level_capacity=512).state
            b = _copy(a)
            ra = K.apply_events(*a, ev, 0, stop)
            rb = K.apply_events_bbo(*b, ev[:stop], 0, np.zeros(stop, BBO_DTYPE))
            assert ra == rb
            _same(a, b)


def test_apply_events_flat_paths_equal_per_event_path_deep_in_the_book():
    """Rows at levels deeper than the flat paths' scan (``K._SCAN``) and L2 rows of every kind."""
    from qlib.dtypes import empty_events
    from qlib.enums import EventKind

    rng = np.random.default_rng(7)
    n = 6000
    ev = empty_events(n)
    ev["ts_exch"] = np.arange(n)
    side = rng.choice(np.array([1, -1], np.int8), n)
    ev["side"] = side
    # bids 1..60, asks 61..120: up to 60 levels a side, most rows far from the best
    ev["px_tick"] = np.where(side == 1, rng.integers(1, 61, n), rng.integers(61, 121, n))
    u = rng.random(n)
    kind = np.where(u < 0.5, EventKind.ADD, np.where(u < 0.65, EventKind.DELETE, np.where(
        u < 0.75, EventKind.CANCEL, np.where(u < 0.82, EventKind.EXECUTE, EventKind.DEPTH))))
    ev["kind"] = kind
    ev["qty"] = rng.integers(0, 6, n).astype(np.float64)
    ids = np.arange(1, n + 1, dtype=np.uint64)
    ev["order_id"] = np.where(kind == EventKind.ADD, ids, ids[rng.integers(0, n, n)] // 2 + 1)
    ev["order_id"][kind == EventKind.DEPTH] = 0
    for strict in (False, True):
        a = L3Book(strict=strict, order_capacity=1 << 13, level_capacity=512).state
        b = _copy(a)
        ra = K.apply_events(*a, ev, 0, n)
        rb = K.apply_events_bbo(*b, ev, 0, np.zeros(n, BBO_DTYPE))
        assert ra == rb
        _same(a, b)
        if not strict:
            assert ra[1] == n and a.meta[K.M_NLEV0] > K._SCAN and a.meta[K.M_NLEV0 + 1] > K._SCAN
