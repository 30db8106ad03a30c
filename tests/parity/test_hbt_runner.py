"""Tests of the hftbacktest reference runner (tests/parity/_hbt.py) used by the engine
parity test and by benchmarks/bench_engine_hbt.py."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("hftbacktest", reason="hftbacktest (2.x) is not installed")

from _hbt import (
    HBT_EVENT_DTYPE,
    run_hbt_replay,
    run_hbt_touch,
    synthetic_l2_stream,
    to_hbt_events,
)

from qlib.book import replay_l2
from qlib.dtypes import empty_events
from qlib.enums import EventKind, Side
from qlib.errors import DataQualityError, ParameterError

N_EVENTS = 60_000
LATENCY_NS = 500_000  # 0.5 ms entry and response
TOUCH = {"entry_latency_ns": LATENCY_NS, "response_latency_ns": LATENCY_NS,
         "order_qty": 100.0, "max_position": 500.0}

EXCH = np.uint64(1 << 31)
LOCAL = np.uint64(1 << 30)


@pytest.fixture(scope="module")
def stream():
    l2, inst = synthetic_l2_stream(N_EVENTS, seed=5)
    return l2, inst, to_hbt_events(l2, inst.tick_size, inst.lot_size)


def test_synthetic_l2_stream_exact_length_and_deterministic():
    a, inst = synthetic_l2_stream(5_000, seed=2)
    b, _ = synthetic_l2_stream(5_000, seed=2)
    assert a.shape == (5_000,) and np.array_equal(a, b)
    assert set(np.unique(a["kind"]).tolist()) <= {EventKind.DEPTH, EventKind.TRADE,
                                                  EventKind.CLEAR}
    assert inst.tick_size == 0.01


def test_to_hbt_events_flags_and_orders(stream):
    l2, inst, h = stream
    assert h.dtype == HBT_EVENT_DTYPE
    ex = (h["ev"] & EXCH) != 0
    lo = (h["ev"] & LOCAL) != 0
    # every L2 row is seen once by each processor, each in its own clock's order
    kept = np.isin(l2["kind"], [EventKind.DEPTH, EventKind.TRADE, EventKind.CLEAR]).sum()
    assert ex.sum() == kept and lo.sum() == kept
    assert (np.diff(h["exch_ts"][ex]) >= 0).all()
    assert (np.diff(h["local_ts"][lo]) >= 0).all()
    # trades: BUY_EVENT = buyer-initiated
    tr = (h["ev"] & np.uint64(0xFF)) == 2
    buy = (h["ev"] & np.uint64(1 << 29)) != 0
    l2tr = l2["kind"] == EventKind.TRADE
    assert (tr & buy & ex).sum() == (l2tr & (l2["side"] == Side.BUY)).sum()
    np.testing.assert_allclose(h["px"][ex & ~tr & ((h["ev"] & np.uint64(0xFF)) == 1)],
                               l2["px_tick"][l2["kind"] == EventKind.DEPTH] * inst.tick_size)


def test_to_hbt_events_reordered_latency_duplicates_rows():
    ev = empty_events(3)
    ev["kind"] = EventKind.DEPTH
    ev["side"] = [1, -1, 1]
    ev["px_tick"] = [99, 101, 98]
    ev["qty"] = 1.0
    ev["ts_exch"] = [10, 20, 30]
    ev["ts_local"] = [50, 25, 60]  # row 1 arrives before row 0
    h = to_hbt_events(ev, 0.01, 1.0)
    ex = (h["ev"] & EXCH) != 0
    lo = (h["ev"] & LOCAL) != 0
    assert ex.sum() == 3 and lo.sum() == 3 and h.shape[0] > 3
    assert (np.diff(h["local_ts"][lo]) >= 0).all() and (np.diff(h["exch_ts"][ex]) >= 0).all()


def test_to_hbt_events_rejects_l3_and_unsorted():
    ev = empty_events(2)
    ev["kind"] = EventKind.ADD
    with pytest.raises(DataQualityError, match="L2 stream"):
        to_hbt_events(ev, 0.01, 1.0)
    ev["kind"] = EventKind.DEPTH
    ev["side"] = 1
    ev["ts_exch"] = [5, 4]
    with pytest.raises(DataQualityError, match="backwards"):
        to_hbt_events(ev, 0.01, 1.0)


def test_run_hbt_replay_processes_every_event(stream):
    l2, inst, h = stream
    r = run_hbt_replay(h, tick_size=inst.tick_size, lot_size=inst.lot_size)
    # every trade reached the local side
    assert r["n_trades_seen"] == int((l2["kind"] == EventKind.TRADE).sum())
    # the last local row was processed
    lo = (h["ev"] & LOCAL) != 0
    assert r["feed_latency"] == (int(h["exch_ts"][lo][-1]), int(h["local_ts"][lo][-1]))
    # the final book is ours
    book = replay_l2(l2)
    assert r["best_bid_tick"] == int(book.bids[0][0]) and r["best_ask_tick"] == int(book.asks[0][0])
    assert r["best_bid_qty"] == float(book.bids[1][0])
    assert r["best_ask_qty"] == float(book.asks[1][0])
    assert r["num_trades"] == 0 and r["position"] == 0.0
    # the same through the hashmap depth and one single elapse
    r2 = run_hbt_replay(h, tick_size=inst.tick_size, lot_size=inst.lot_size, depth="hashmap",
                        interval_ns=None)
    assert r2["n_trades_seen"] == r["n_trades_seen"]
    assert r2["best_bid_tick"] == r["best_bid_tick"]


@pytest.mark.parametrize("queue", ["risk_adverse", "power", "log"])
def test_run_hbt_touch_each_queue_model_fills_and_is_deterministic(stream, queue):
    _, inst, h = stream
    a = run_hbt_touch(h, tick_size=inst.tick_size, lot_size=inst.lot_size, queue=queue, **TOUCH)
    b = run_hbt_touch(h, tick_size=inst.tick_size, lot_size=inst.lot_size, queue=queue, **TOUCH)
    assert a["n_fills"] > 10
    assert a["n_fill_records"] == a["n_fills"]  # no partial fills: one record per execution
    assert a["filled_qty"] == pytest.approx(float(a["fills"]["qty"].sum()))
    assert a["position"] == a["state_position"]
    assert abs(a["position"]) <= TOUCH["max_position"]
    assert a["n_submitted"] > a["n_fills"] and a["n_cancelled"] > 0
    for k in ("n_fills", "filled_qty", "position", "balance", "n_submitted", "n_cancelled",
              "n_trades_seen"):
        assert a[k] == b[k], k
    np.testing.assert_array_equal(a["fills"], b["fills"])
    # fills are at the quoted touch prices: on the tick grid
    np.testing.assert_allclose(np.round(a["fills"]["px"] / inst.tick_size),
                               a["fills"]["px"] / inst.tick_size, atol=1e-6)


def test_run_hbt_touch_queue_models_differ_and_roi_equals_hashmap(stream):
    _, inst, h = stream
    ra = run_hbt_touch(h, tick_size=inst.tick_size, lot_size=inst.lot_size,
                       queue="risk_adverse", **TOUCH)
    pw = run_hbt_touch(h, tick_size=inst.tick_size, lot_size=inst.lot_size, queue="power",
                       **TOUCH)
    hm = run_hbt_touch(h, tick_size=inst.tick_size, lot_size=inst.lot_size,
                       queue="risk_adverse", depth="hashmap", **TOUCH)
    # the probabilistic model advances the queue on cancels too: at least as many fills
    assert pw["n_fills"] >= ra["n_fills"]
    assert hm["n_fills"] == ra["n_fills"] and hm["position"] == ra["position"]


def test_run_hbt_touch_bad_queue_raises(stream):
    _, inst, h = stream
    with pytest.raises(ParameterError, match="queue"):
        run_hbt_touch(h, tick_size=inst.tick_size, lot_size=inst.lot_size, queue="fifo", **TOUCH)
