"""Jitted kernels of the simulated market against their pure-Python ``.py_func``."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.data import _sim_fit_kernels as F
from qlib.data import _sim_kernels as K
from qlib.data.calibrate import book_stats
from qlib.data.simulate import SimParams, _Book, seed_state, simulate
from qlib.dtypes import empty_events

CST = SimParams(queue_capacity=64)
#: Every extension on (spread- and queue-reactive rates, own-best reference).
PARAMS = SimParams(
    inside_rate=(0.0, 1.5, 1.0, 0.8, 0.7, 0.6, 0.5, 0.5, 0.4, 0.4),
    inside_position=(0.0, 0.1, 0.3, 0.6, 1.0),
    cancel_rate_best=(1.5, 0.6, 0.3), best_queue_edges=(50.0, 200.0),
    market_rate_spread=(1.5, 1.0, 0.8, 0.5),
    market_fraction=((1.0, 1.0, 1.0), (0.1, 0.5, 1.0), (0.05, 0.2, 0.6)),
    market_overflow_prob=(0.2, 0.1, 0.0), market_queue_edges=(20.0, 150.0),
    limit_size_table=((100.0, 100.0, 100.0, 300.0), (5.0, 50.0, 100.0, 100.0),
                      (2.0, 10.0, 40.0, 100.0)),
    limit_rate_spread=(tuple(0.5 * x for x in SimParams().limit_rate), SimParams().limit_rate,
                       tuple(2.0 * x for x in SimParams().limit_rate)),
    reference="own", queue_capacity=64,
)


def _fresh_book(seed: int, params: SimParams = PARAMS) -> _Book:
    book = _Book(params, seed)
    book.st[K._ST_NEXT_ID] = 1
    return book


def _init(book: _Book, fn) -> int:
    return fn(book.st, book.rng, book.q_id, book.q_qty, book.q_n, book.lam, book.theta_init,
              book.lim[0], book.lim[1], 10_000)


def _state(book: _Book) -> tuple:
    return (book.st.tobytes(), book.rng.tobytes(), book.q_id.tobytes(), book.q_qty.tobytes(),
            book.q_n.tobytes())


def test_next_u64_and_uniform_jit_equals_py_func():
    a, b = seed_state(3), seed_state(3)
    with np.errstate(over="ignore"):
        for _ in range(200):
            assert K.next_u64(a) == K.next_u64.py_func(b)
            assert K.uniform(a) == K.uniform.py_func(b)
    assert a.tobytes() == b.tobytes()


def test_init_book_jit_equals_py_func():
    a, b = _fresh_book(5), _fresh_book(5)
    with np.errstate(over="ignore"):
        assert _init(a, K.init_book) == _init(b, K.init_book.py_func)
    assert _state(a) == _state(b)


def test_write_snapshot_jit_equals_py_func():
    a = _fresh_book(6)
    with np.errstate(over="ignore"):
        _init(a, K.init_book)
    out_a, out_b = empty_events(a.n_orders + 1), empty_events(a.n_orders + 1)
    st_b = a.st.copy()
    n_a = K.write_snapshot(out_a, 0, a.st, a.q_id, a.q_qty, a.q_n, PARAMS.window)
    n_b = K.write_snapshot.py_func(out_b, 0, st_b, a.q_id, a.q_qty, a.q_n, PARAMS.window)
    assert n_a == n_b == a.n_orders + 1
    assert out_a.tobytes() == out_b.tobytes() and a.st.tobytes() == st_b.tobytes()


@pytest.mark.parametrize("params", [PARAMS, CST], ids=["reactive", "cst"])
@pytest.mark.parametrize("capacity", [60, 20_000])  # 60 rows: pauses for growth
def test_simulate_events_jit_equals_py_func(capacity, params):
    a, b = _fresh_book(8, params), _fresh_book(8, params)
    with np.errstate(over="ignore"):
        _init(a, K.init_book)
        _init(b, K.init_book)
        out_a, n_a = a.run(empty_events(capacity), 0, 1_500, (2e4, 0.5))
        out_b, n_b = b.run(empty_events(capacity), 0, 1_500, (2e4, 0.5),
                           kernel=K.simulate_events.py_func)
    assert n_a == n_b
    assert out_a[:n_a].tobytes() == out_b[:n_b].tobytes()
    assert _state(a) == _state(b)


def test_fit_scan_jit_equals_py_func():
    md = simulate(n_events=3_000, seed=4, params=PARAMS)
    ev = md.events
    depth = 10
    lo = int(ev["px_tick"][ev["px_tick"] > 0].min()) - depth - 1
    n_px = int(ev["px_tick"].max()) - lo + depth + 2

    n_ev = ev.shape[0]
    d1, s1, q1 = depth + 1, 4 * depth + 2, 4097

    def arrays():
        i8, f8 = np.int64, np.float64
        return (np.zeros(n_px), np.zeros(n_px),
                np.zeros(d1, i8), np.zeros(d1, i8), np.zeros(d1), np.zeros(d1, i8),  # add..n_cancel
                np.zeros(d1), np.zeros(d1),  # cancel_qty, exposure
                np.zeros(s1), np.zeros(s1, i8), np.zeros(s1, i8),  # by spread
                np.zeros(q1, i8), np.zeros(q1), np.zeros(q1), np.zeros(q1),  # by best queue
                np.zeros(depth, i8), np.zeros(depth, i8), np.zeros(depth), np.zeros(depth),  # own
                np.zeros(n_ev, i8), np.zeros(n_ev, i8), np.zeros(n_ev, f8), np.zeros(n_ev, f8),
                np.full(n_ev, -2, i8), np.zeros((s1, depth), i8))  # add_k, n_add_own_s

    xa, xb = arrays(), arrays()
    ra = F.fit_scan(ev, lo, xa[0], xa[1], 1.0, *xa[2:])
    rb = F.fit_scan.py_func(ev, lo, xb[0], xb[1], 1.0, *xb[2:])
    assert ra[0] == rb[0] and ra[1] == rb[1]
    assert tuple(ra[2]) == tuple(rb[2])
    for u, v in zip(xa, xb):
        np.testing.assert_array_equal(u, v)
    # and the wrapper agrees with what the kernel counted
    assert book_stats(md, max_depth=depth).market_orders == ra[2][5]
