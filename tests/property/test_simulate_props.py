"""Invariants of the simulated market over seeds and parameters (hypothesis).

Each run is replayed through a plain-Python L3 book (per-level FIFO lists); the
replay is the oracle, so these loops are test code, not library code.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from qlib.data.simulate import SimParams, simulate
from qlib.enums import EventFlag, EventKind, Side


@hs.composite
def sim_params(draw) -> SimParams:
    depth = draw(hs.integers(1, 8))
    rate = hs.floats(0.05, 5.0)
    lam = draw(hs.lists(rate, min_size=depth, max_size=depth))
    theta = draw(hs.lists(hs.floats(0.05, 3.0), min_size=depth, max_size=depth))
    n_s = draw(hs.integers(2, 6))
    inside = draw(hs.none() | hs.lists(hs.floats(0.0, 5.0), min_size=n_s, max_size=n_s)
                  .filter(lambda v: sum(v[1:]) > 0.0))
    table = hs.lists(hs.floats(0.0, 1.0), min_size=2, max_size=6).map(sorted).filter(
        lambda q: q[-1] > 0.0)
    n_b = draw(hs.integers(1, 4))
    best = draw(hs.none() | hs.lists(hs.floats(0.05, 3.0), min_size=n_b, max_size=n_b))
    edges = tuple(float(30 * (k + 1)) for k in range(n_b - 1)) if best is not None else ()
    fraction = draw(hs.none() | table)
    over: float | tuple[float, ...] = 0.0 if fraction is None else draw(hs.floats(0.0, 1.0))
    market_edges: tuple[float, ...] = ()
    if fraction is not None and draw(hs.booleans()):  # queue-binned market order sizes
        market_edges = (float(draw(hs.integers(1, 150))),)
        other = sorted(draw(hs.lists(hs.floats(0.0, 1.0), min_size=len(fraction),
                                     max_size=len(fraction))))
        fraction = [tuple(fraction), tuple(other[:-1]) + (max(other[-1], 0.5),)]
        over = (float(over), draw(hs.floats(0.0, 1.0)))
    n_rows, n_knots = draw(hs.integers(1, 4)), draw(hs.integers(1, 6))
    sizes = draw(hs.none() | hs.lists(
        hs.lists(hs.floats(0.5, 300.0), min_size=n_knots, max_size=n_knots).map(sorted)
        .map(tuple), min_size=n_rows, max_size=n_rows).map(tuple))
    n_sp = draw(hs.integers(1, 5))
    by_spread = draw(hs.none() | hs.lists(
        hs.lists(hs.floats(0.0, 5.0), min_size=depth, max_size=depth).map(tuple),
        min_size=n_sp, max_size=n_sp).map(tuple))
    return SimParams(
        limit_rate=tuple(lam),
        cancel_rate=tuple(theta),
        market_rate=draw(hs.floats(0.0, 5.0)),
        limit_size_median=draw(hs.floats(1.0, 200.0)),
        limit_size_sigma=draw(hs.floats(0.0, 1.5)),
        market_size_median=draw(hs.floats(1.0, 400.0)),
        market_size_sigma=draw(hs.floats(0.0, 1.5)),
        inside_rate=None if inside is None else tuple(inside),
        inside_position=None if inside is None else tuple(draw(table)),
        cancel_rate_best=None if best is None else tuple(best),
        best_queue_edges=edges,
        market_rate_spread=draw(hs.none() | hs.lists(hs.floats(0.0, 5.0), min_size=1,
                                                     max_size=6).map(tuple)),
        market_fraction=None if fraction is None else tuple(fraction),
        market_overflow_prob=over,
        market_queue_edges=market_edges,
        limit_size_table=sizes,
        limit_rate_spread=by_spread,
        reference="own" if inside is not None and draw(hs.booleans()) else "opposite",
        window_ticks=draw(hs.none() | hs.integers(depth, 3 * depth + 2)),
        queue_capacity=4096,
    )


def _replay(ev: np.ndarray) -> None:
    """Replay events through a reference L3 book, asserting every invariant."""
    book = {Side.BUY: {}, Side.SELL: {}}  # side -> px -> deque of order ids (FIFO)
    live: dict[int, list] = {}  # order id -> [side, px, remaining qty]
    added: dict[int, float] = {}
    removed: dict[int, float] = {}

    def best(side):
        lv = book[side]
        return (max(lv) if side == Side.BUY else min(lv)) if lv else None

    def take(oid, qty):
        side, px, left = live[oid]
        assert qty > 0.0 and qty <= left, (oid, qty, left)
        removed[oid] = removed.get(oid, 0.0) + qty
        live[oid][2] = left - qty
        if live[oid][2] == 0.0:
            book[side][px].remove(oid)
            if not book[side][px]:
                del book[side][px]
            del live[oid]

    for row in range(ev.shape[0]):
        kind, side, px = int(ev["kind"][row]), int(ev["side"][row]), int(ev["px_tick"][row])
        qty, oid = float(ev["qty"][row]), int(ev["order_id"][row])
        assert qty >= 0.0
        if kind == EventKind.CLEAR:
            assert row == 0
        elif kind in (EventKind.SNAPSHOT, EventKind.ADD):
            assert oid != 0 and oid not in added, f"order id {oid} reused at row {row}"
            assert qty >= 1.0
            book[Side(side)].setdefault(px, deque()).append(oid)
            live[oid] = [Side(side), px, qty]
            added[oid] = qty
        elif kind == EventKind.DELETE:
            assert oid in live, f"DELETE of dead order {oid} at row {row}"
            assert live[oid][:2] == [Side(side), px]
            assert qty == live[oid][2]  # a delete reports what the order had left
            take(oid, qty)
        elif kind == EventKind.EXECUTE:
            assert oid in live, f"EXECUTE of dead order {oid} at row {row}"
            assert live[oid][:2] == [Side(side), px]
            assert px == best(Side(side)), "executions happen at the best price"
            assert book[Side(side)][px][0] == oid, "FIFO: the oldest order trades first"
            take(oid, qty)
        elif kind == EventKind.TRADE:
            assert ev["flags"][row] & EventFlag.SUMMARY and oid == 0
        else:
            raise AssertionError(f"unexpected kind {kind} at row {row}")
        if ev["flags"][row] & EventFlag.LAST:
            b, a = best(Side.BUY), best(Side.SELL)
            assert b is not None and a is not None, f"a book side is empty after row {row}"
            assert b < a, f"crossed or locked book after row {row}: bid {b} ask {a}"
    # conservation per order: added = executed + cancelled + resting
    for oid, q in added.items():
        resting = live[oid][2] if oid in live else 0.0
        assert abs(q - removed.get(oid, 0.0) - resting) < 1e-9, oid
    for lv in book.values():
        for px, queue in lv.items():
            assert all(live[o][1] == px for o in queue)


@settings(max_examples=25, deadline=None)
@given(params=sim_params(), seed=hs.integers(0, 2**63 - 1))
def test_simulate_any_params_book_invariants_hold(params, seed):
    md = simulate(n_events=1_500, seed=seed, params=params, warmup_events=200)
    _replay(md.events)
    assert (np.diff(md.events["seq"]) == 1).all()
    assert (np.diff(md.events["ts_exch"]) >= 0).all()


@settings(max_examples=10, deadline=None)
@given(seed=hs.integers(0, 2**32))
def test_simulate_default_params_any_seed_deterministic_and_valid(seed):
    a = simulate(n_events=800, seed=seed, warmup_events=100)
    b = simulate(n_events=800, seed=seed, warmup_events=100)
    assert a.events.tobytes() == b.events.tobytes()
    _replay(a.events)
