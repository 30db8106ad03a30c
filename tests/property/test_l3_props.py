"""Property tests of the order-level book against a plain-Python FIFO reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.book.l3 import L3Book
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side

try:  # the L2 helper's book, when present
    from qlib.book.l2 import replay_l2
except ImportError:  # pragma: no cover
    replay_l2 = None

_OPS = st.lists(st.tuples(st.sampled_from(["add", "add", "add", "cancel", "delete", "execute",
                                           "modify"]),
                          st.integers(0, 10_000), st.sampled_from([Side.BUY, Side.SELL]),
                          st.integers(95, 105), st.integers(1, 9)),
                max_size=250)


def _build(ops):
    """Turn abstract ops into a valid L3 event stream and the reference book after it."""
    ref: dict[tuple[int, int], list[list[int]]] = {}  # (side, px) -> FIFO of [oid, qty]
    where: dict[int, tuple[int, int]] = {}
    rows = []
    next_id = 1
    for op, pick, side, px, q in ops:
        live = sorted(where)
        if op == "add" or not live:
            oid = next_id
            next_id += 1
            ref.setdefault((side, px), []).append([oid, q])
            where[oid] = (side, px)
            rows.append((EventKind.ADD, side, px, q, oid))
            continue
        oid = live[pick % len(live)]
        s, p = where[oid]
        queue = ref[(s, p)]
        i = next(k for k, e in enumerate(queue) if e[0] == oid)
        have = queue[i][1]
        if op == "delete" or (op in ("cancel", "execute") and q >= have):
            kind = EventKind.DELETE if op == "delete" else (
                EventKind.CANCEL if op == "cancel" else EventKind.EXECUTE)
            if kind == EventKind.EXECUTE:
                queue.insert(0, queue.pop(i))  # an execution trades the order first
                i = 0
            rows.append((kind, s, p, have, oid))
            queue.pop(i)
            del where[oid]
        elif op in ("cancel", "execute"):
            kind = EventKind.CANCEL if op == "cancel" else EventKind.EXECUTE
            if kind == EventKind.EXECUTE:
                queue.insert(0, queue.pop(i))
                i = 0
            rows.append((kind, s, p, q, oid))
            queue[i][1] -= q
        else:  # modify to (px, q): same px and q <= have keeps place
            rows.append((EventKind.MODIFY, s, px, q, oid))
            if px == p and q <= have:
                queue[i][1] = q
            else:
                queue.pop(i)
                ref.setdefault((s, px), []).append([oid, q])
                where[oid] = (s, px)
        if not queue:
            del ref[(s, p)]
    ev = empty_events(len(rows))
    for j, (k, s, p, q, oid) in enumerate(rows):
        ev[j]["kind"], ev[j]["side"], ev[j]["px_tick"], ev[j]["qty"], ev[j]["order_id"] = k, s, p, q, oid
    ev["flags"] = EventFlag.LAST
    return ev, {key: v for key, v in ref.items() if v}


@settings(max_examples=300, deadline=None)
@given(_OPS)
def test_l3_random_stream_matches_fifo_reference(ops):
    ev, ref = _build(ops)
    book = L3Book(order_capacity=16, level_capacity=8).apply(ev)
    o = book.orders()
    # every order, its quantity and its place in the queue
    got: dict[tuple[int, int], list[list[int]]] = {}
    for r in o:
        got.setdefault((int(r["side"]), int(r["px_tick"])), []).append([int(r["order_id"]), r["qty"]])
    assert got == ref
    assert (o["qty"] > 0).all() and not o["anonymous"].any()
    # queue position = quantity of the entries before it in the reference queue
    for queue in ref.values():
        ahead = 0
        for oid, q in queue:
            assert book.queue_position(oid).ahead == ahead
            ahead += q
    assert len(book) == sum(len(v) for v in ref.values())


@settings(max_examples=200, deadline=None)
@given(_OPS)
def test_l3_level_totals_equal_independent_l2_aggregation(ops):
    ev, ref = _build(ops)
    book = L3Book().apply(ev)
    totals = {k: float(sum(q for _, q in v)) for k, v in ref.items()}
    assert book.level_totals() == totals
    if replay_l2 is not None:
        r = replay_l2(ev)
        l2 = {(1, int(p)): float(q) for p, q in zip(*r.bids)}
        l2.update({(-1, int(p)): float(q) for p, q in zip(*r.asks)})
        assert l2 == totals


_L2 = st.lists(st.tuples(st.sampled_from(["depth", "add", "unknown_cancel", "unknown_exec",
                                          "delete"]),
                         st.sampled_from([Side.BUY, Side.SELL]), st.integers(98, 102),
                         st.integers(0, 12), st.integers(0, 1000)),
               max_size=200)


@settings(max_examples=300, deadline=None)
@given(_L2)
def test_l3_lenient_mixed_l2_l3_follows_price_aggregation_rule(rows):
    """With L2 corrections and unknown ids, totals follow the loader's aggregation rule
    (ADD +q, removals -q clamped at 0, DEPTH sets), quantities stay > 0."""
    ev = empty_events(len(rows))
    agg: dict[tuple[int, int], float] = {}
    live: list[tuple[int, int, int, int]] = []
    next_id = 1
    for j, (op, s, p, q, pick) in enumerate(rows):
        r = ev[j]
        r["side"], r["px_tick"] = s, p
        if op == "depth":
            r["kind"], r["qty"] = EventKind.DEPTH, q
            agg[(s, p)] = float(q)
            live = [x for x in live if (x[1], x[2]) != (s, p)] if q == 0 else live
        elif op == "add" and q > 0:
            r["kind"], r["qty"], r["order_id"] = EventKind.ADD, q, next_id
            live.append((next_id, s, p, q))
            next_id += 1
            agg[(s, p)] = agg.get((s, p), 0.0) + q
        elif op == "delete" and live:
            oid, s2, p2, q2 = live.pop(pick % len(live))
            r["kind"], r["side"], r["px_tick"], r["qty"], r["order_id"] = EventKind.DELETE, s2, p2, q2, oid
            agg[(s2, p2)] = max(0.0, agg.get((s2, p2), 0.0) - q2)
        else:
            r["kind"] = EventKind.EXECUTE if op == "unknown_exec" else EventKind.CANCEL
            r["qty"], r["order_id"] = max(q, 1), 10_000 + j
            agg[(s, p)] = max(0.0, agg.get((s, p), 0.0) - max(q, 1))
    book = L3Book(strict=False, order_capacity=16, level_capacity=8).apply(ev)
    want = {k: v for k, v in agg.items() if v > 0}
    assert book.level_totals() == want
    o = book.orders()
    assert (o["qty"] > 0).all()
    for (s, p), total in want.items():  # queue positions never exceed the level
        sel = o[(o["side"] == s) & (o["px_tick"] == p)]
        assert np.isclose(sel["ahead_qty"][-1] + sel["qty"][-1], total)
