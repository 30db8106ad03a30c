"""Exact L3 queue positions on the real LOBSTER GOOG day: the engine vs a Python reference.

A custom kernel joins the best bid and the best ask with 100 shares (post-only) at every
decision (every 10 s); the engine keeps an unchanged quote and cancels the one whose
price moved. The orders, their send times and their cancel requests are taken from the
engine's own order journal; a slow pure-Python replay of the same events then decides
independently when each of them fills, with per-order FIFO bookkeeping:

* an order arrives ``entry`` ns after it was sent, after every event with
  ``ts_exch <=`` its arrival; if the opposite best is at or through its price it is
  refused (post-only), otherwise it rests behind the whole level (quantity ahead ``A``);
* an ``EXECUTE`` at our price of an order added before our arrival (or unknown: the
  opening snapshot) reduces ``A``; of an order added after it (behind us), it fills ours
  by the executed quantity, up to what is left;
* a ``CANCEL``/``DELETE`` of an order ahead of us at our price reduces ``A`` by the
  quantity removed; an absolute ``DEPTH`` correction caps ``A`` at the level;
* an execution or trade print at a price through ours (better for the aggressor), or
  the opposite best reaching our price, fills what is left;
* a cancel arriving while the order rests ends it.

The engine's maker fills (time, price, quantity, order) must equal the reference's.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from qlib.data.lobster import load_lobster
from qlib.engine import backtest
from qlib.engine.models import ConstantLatency, L3FifoQueue
from qlib.enums import (
    EventFlag,
    EventKind,
    LiquiditySide,
    OrderEvent,
    OrderType,
    TimeInForce,
)
from qlib.strategy import CustomStrategy

pytestmark = pytest.mark.realdata

GOOG_ZIP = "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
ENTRY_NS = 5_000_000
RESPONSE_NS = 3_000_000
QTY = 100.0

_LIMIT = np.uint8(OrderType.LIMIT)
_GTX = np.uint8(TimeInForce.GTX)


@njit
def join_touch(view, params, state, out):
    """Post-only bid and ask of ``params[0]`` at the local best bid and ask."""
    v = view[0]
    bid = v["bid_px_tick"]
    ask = v["ask_px_tick"]
    if bid <= 0 or ask <= 0 or ask <= bid:
        return -1
    out[0]["side"] = 1
    out[0]["px_tick"] = bid
    out[0]["qty"] = params[0]
    out[0]["order_type"] = _LIMIT
    out[0]["tif"] = _GTX
    out[1]["side"] = -1
    out[1]["px_tick"] = ask
    out[1]["qty"] = params[0]
    out[1]["order_type"] = _LIMIT
    out[1]["tif"] = _GTX
    return 2


@pytest.fixture(scope="module")
def goog_run(shared_data: Path):
    path = shared_data / GOOG_ZIP
    if not path.exists():
        pytest.skip(f"LOBSTER GOOG sample {path} is absent")
    md = load_lobster(path)
    res = backtest(md, CustomStrategy(join_touch, params=(QTY,), name="join_touch"),
                   queue=L3FifoQueue(), decision_interval="10s",
                   latency=ConstantLatency(entry_ns=ENTRY_NS, response_ns=RESPONSE_NS))
    return md, res


# ------------------------------------------------------------------ the reference
class _Ours:
    __slots__ = ("ahead", "arrive_idx", "leaves", "oid", "px", "side", "state")

    def __init__(self, oid, side, px, qty):
        self.oid, self.side, self.px, self.leaves = oid, side, px, qty
        self.ahead, self.arrive_idx, self.state = 0.0, -1, "pending"


def _messages(res) -> list[tuple[int, int, str, int]]:
    """Our messages to the exchange ``(due, seq, kind, order_id)`` from the order journal."""
    out = []
    prev = np.iinfo(np.int64).min
    for seq, r in enumerate(res.journal_array):
        ev = int(r["event"])
        if ev == OrderEvent.SUBMIT:
            kind = "new"
        elif ev == OrderEvent.CANCEL_REQUEST:
            kind = "cancel"
        else:
            continue
        due = max(int(r["ts"]) + ENTRY_NS, prev)  # one session: never before the previous
        prev = due
        out.append((due, seq, kind, int(r["order_id"])))
    return out


def reference_fills(events: np.ndarray, res) -> tuple[list[tuple], dict[int, str]]:
    """Replay ``events`` with our orders (from ``res``'s journal); return (fills, states)."""
    orders = {int(o["order_id"]): o for o in res.orders_array}
    msgs = _messages(res)
    ours: dict[int, _Ours] = {}
    resting: list[_Ours] = []
    levels = (defaultdict(float), defaultdict(float))  # bids, asks: px -> qty
    book: dict[int, tuple[int, int, float]] = {}  # L3 order id -> (side, px, qty)
    added_at: dict[int, int] = {}  # L3 order id -> event index of its ADD
    fills: list[tuple] = []

    def lv(side):
        return levels[0 if side > 0 else 1]

    def best(side):
        d = lv(side)
        if not d:
            return 0
        return max(d) if side > 0 else min(d)

    def set_level(side, px, q):
        d = lv(side)
        if q > 1e-9:
            d[px] = q
        else:
            d.pop(px, None)

    def fill(o, q, ts):
        q = min(q, o.leaves)
        if q <= 0:
            return
        o.leaves -= q
        fills.append((ts, o.oid, o.px, q))
        if o.leaves <= 1e-9 * QTY:
            o.leaves = 0.0
            o.state = "filled"

    def arrive(kind, oid, i):
        if kind == "new":
            r = orders[oid]
            o = _Ours(oid, int(r["side"]), int(r["px_tick"]), float(r["qty"]))
            ours[oid] = o
            opp = best(-o.side)
            if opp != 0 and ((o.side > 0 and opp <= o.px) or (o.side < 0 and opp >= o.px)):
                o.state = "rejected"  # post-only would cross
                return
            o.state = "resting"
            o.ahead = lv(o.side).get(o.px, 0.0)
            o.arrive_idx = i
            resting.append(o)
        else:
            o = ours[oid]
            if o.state == "resting":
                o.state = "cancelled"
                o.leaves = 0.0

    k = 0
    n = len(events)
    kinds = events["kind"]
    for i in range(n):
        e = events[i]
        t = int(e["ts_exch"])
        while k < len(msgs) and msgs[k][0] < t:
            arrive(msgs[k][2], msgs[k][3], i)
            k += 1
        resting = [o for o in resting if o.state == "resting"]
        kind = int(kinds[i])
        side = int(e["side"])
        px = int(e["px_tick"])
        qty = float(e["qty"])
        oid = int(e["order_id"])
        if resting:
            if kind == EventKind.EXECUTE:
                for o in resting:
                    if o.side != side:
                        continue
                    through = px < o.px if side > 0 else px > o.px
                    if through:
                        fill(o, o.leaves, t)
                    elif px == o.px:
                        if added_at.get(oid, -1) < o.arrive_idx:
                            o.ahead = max(o.ahead - qty, 0.0)
                        else:
                            fill(o, qty, t)  # an order behind ours traded: ours first
            elif kind == EventKind.TRADE and (int(e["flags"]) & EventFlag.SUMMARY) == 0:
                for o in resting:
                    if o.side != -side:
                        continue
                    if (side < 0 and px < o.px) or (side > 0 and px > o.px):
                        fill(o, o.leaves, t)
            elif kind in (EventKind.CANCEL, EventKind.DELETE):
                if oid in book:
                    s0, p0, q0 = book[oid]
                    gone = min(qty, q0) if kind == EventKind.CANCEL else q0
                else:  # an order the stream never added (snapshot, resync): always ahead
                    s0, p0, gone = side, px, qty
                for o in resting:
                    if o.side == s0 and o.px == p0 and added_at.get(oid, -1) < o.arrive_idx:
                        o.ahead = max(o.ahead - gone, 0.0)
        # apply the event to the reference book
        if kind == EventKind.ADD:
            book[oid] = (side, px, qty)
            added_at[oid] = i
            set_level(side, px, lv(side).get(px, 0.0) + qty)
        elif kind in (EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE):
            if oid in book:
                s0, p0, q0 = book[oid]
                gone = q0 if kind == EventKind.DELETE else min(qty, q0)
                left = q0 - gone
                if left > 1e-9:
                    book[oid] = (s0, p0, left)
                else:
                    del book[oid]
                set_level(s0, p0, lv(s0).get(p0, 0.0) - gone)
            else:
                set_level(side, px, lv(side).get(px, 0.0) - qty)
        elif kind in (EventKind.DEPTH, EventKind.SNAPSHOT):
            set_level(side, px, qty)
            for o in resting:
                if o.side == side and o.px == px:
                    o.ahead = min(o.ahead, qty)
        elif kind == EventKind.CLEAR:
            if side >= 0:
                levels[0].clear()
            if side <= 0:
                levels[1].clear()
        if resting:
            bb, ba = best(1), best(-1)
            for o in resting:
                if o.state != "resting":
                    continue
                if (o.side > 0 and ba != 0 and ba <= o.px) or (o.side < 0 and bb != 0 and bb >= o.px):
                    fill(o, o.leaves, t)
    while k < len(msgs):
        arrive(msgs[k][2], msgs[k][3], n)
        k += 1
    return fills, {oid: o.state for oid, o in ours.items()}


# ------------------------------------------------------------------ tests
def test_l3_fifo_goog_join_touch_trades(goog_run):
    _, res = goog_run
    f = res.fills_array
    assert res.counters["orders_submitted"] > 1000
    assert np.sum(f["liquidity"] == LiquiditySide.MAKER) > 100
    assert np.all(f["liquidity"] == LiquiditySide.MAKER), "post-only quotes never take"


def test_l3_fifo_goog_maker_fills_equal_python_fifo_reference(goog_run):
    _, res = goog_run
    ref, _ = reference_fills(res.events_array, res)
    f = res.fills_array
    eng = [(int(r["ts_exch"]), int(r["order_id"]), int(r["px_tick"]), float(r["qty"])) for r in f]
    eng_s, ref_s = sorted(eng), sorted(ref)
    if eng_s != ref_s:
        e_set, r_set = set(eng_s), set(ref_s)
        only_e = sorted(e_set - r_set)[:10]
        only_r = sorted(r_set - e_set)[:10]
        pytest.fail(f"engine {len(eng_s)} fills vs reference {len(ref_s)}; first only in the "
                    f"engine: {only_e}; first only in the reference: {only_r}")
