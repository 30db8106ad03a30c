"""Property tests of the matching engine on random order flow."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.book.l3 import L3Book
from qlib.book.matching import MatchingEngine
from qlib.enums import EventKind, OrderType, Side, StpPolicy, TimeInForce
from qlib.errors import OrderRejected

_SUBMIT = st.tuples(st.just("submit"), st.sampled_from([Side.BUY, Side.SELL]),
                    st.integers(96, 104), st.integers(1, 9),
                    st.sampled_from([OrderType.LIMIT] * 4 + [OrderType.MARKET]),
                    st.sampled_from(list(TimeInForce)), st.integers(0, 3),
                    st.sampled_from([StpPolicy.CANCEL_RESTING, StpPolicy.CANCEL_AGGRESSING,
                                     StpPolicy.DECREMENT_BOTH]))
_CANCEL = st.tuples(st.just("cancel"), st.integers(0, 1000))
_MODIFY = st.tuples(st.just("modify"), st.integers(0, 1000), st.integers(96, 104),
                    st.integers(0, 9))
_FLOW = st.lists(st.one_of(_SUBMIT, _SUBMIT, _SUBMIT, _CANCEL, _MODIFY), max_size=150)


def _resting(book):
    o = book.orders()
    return {int(r["order_id"]): float(r["qty"]) for r in o}


@settings(max_examples=250, deadline=None)
@given(_FLOW, st.sampled_from(["reject", "reprice"]))
def test_matching_random_flow_invariants(flow, post_only):
    eng = MatchingEngine(post_only=post_only, fill_capacity=16, event_capacity=16)
    shadow = L3Book()  # rebuilt from the engine's events alone
    submitted = defaultdict(float)
    filled = defaultdict(float)
    cancelled = defaultdict(float)
    next_id = 1
    for op in flow:
        before = _resting(eng.book)
        if op[0] == "submit":
            _, side, px, qty, otype, tif, owner, stp = op
            oid = next_id
            next_id += 1
            try:
                r = eng.submit(side, qty, px_tick=px, order_type=otype, tif=tif, owner=owner,
                               order_id=oid, stp=stp)
            except OrderRejected:
                assert tif == TimeInForce.GTX and (post_only == "reject" or otype == OrderType.MARKET)
                assert _resting(eng.book) == before
                continue
            submitted[oid] += qty
            cancelled[oid] += r.cancelled
            assert abs(r.filled + r.rested + r.cancelled - qty) < 1e-9
            if tif in (TimeInForce.IOC, TimeInForce.FOK) or otype == OrderType.MARKET:
                assert oid not in eng.book  # IOC, FOK and market orders never rest
            if tif == TimeInForce.FOK:
                assert r.filled in (0.0, float(qty))
            if tif == TimeInForce.GTX:
                assert r.filled == 0.0 and len(r.fills) == 0  # post-only never takes
        else:
            live = sorted(before)
            if not live:
                continue
            oid = live[op[1] % len(live)]
            if op[0] == "cancel":
                r = eng.cancel(oid)
                cancelled[oid] += r.cancelled
            else:
                _, _, px, qty = op
                r = eng.modify(oid, qty, px_tick=px, stp=StpPolicy.CANCEL_RESTING)
                submitted[oid] += max(0.0, qty - before[oid])
                cancelled[oid] += r.cancelled
        # fills: two records per match, never between one owner's orders
        f = r.fills
        assert len(f) % 2 == 0
        assert not ((f["owner"] >= 0) & (f["owner"] == f["contra_owner"])).any()
        for rec in f:
            filled[int(rec["order_id"])] += float(rec["qty"])
        # resting orders cancelled by another order's self-trade prevention
        for e in r.events:
            if e["kind"] in (EventKind.CANCEL, EventKind.DELETE) and int(e["order_id"]) != r.order_id:
                cancelled[int(e["order_id"])] += float(e["qty"])
        # FIFO: the shadow book, fed only the events, sees every execution at a queue head
        shadow.apply(r.events)
        assert shadow.stats["exec_not_head"] == 0
        so, eo = shadow.orders(), eng.book.orders()
        assert (so[["order_id", "px_tick", "qty", "side"]] == eo[["order_id", "px_tick", "qty", "side"]]).all()
        # never crossed or locked, quantities positive
        assert not eng.book.is_crossed()
        assert (eo["qty"] > 0).all()
    resting = _resting(eng.book)
    for oid, s in submitted.items():
        assert abs(s - filled[oid] - resting.get(oid, 0.0) - cancelled[oid]) < 1e-9, oid
    total = sum(submitted.values())
    assert abs(total - sum(filled.values()) - sum(resting.values()) - sum(cancelled.values())) < 1e-6


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 5)), min_size=2,
                max_size=30), st.integers(1, 60))
def test_matching_earliest_order_at_best_price_fills_first(makers, take):
    eng = MatchingEngine()
    ids = []
    for i, (_, q) in enumerate(makers):
        eng.submit(Side.SELL, q, px_tick=100, order_id=i + 1, owner=i + 1)
        ids.append((i + 1, q))
    r = eng.submit(Side.BUY, take, px_tick=100, order_id=999, owner=0)
    got = r.fills[r.fills["liquidity"] == 2]["contra_order_id"].tolist()
    want, left = [], take
    for oid, q in ids:
        if left <= 0:
            break
        want.append(oid)
        left -= q
    assert got == want
    assert np.isclose(r.filled, min(take, sum(q for _, q in ids)))
