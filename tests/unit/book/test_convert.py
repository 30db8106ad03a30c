"""Tests of qlib.book.to_l2: the L2 stream rebuilds the same book as its L3 input."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.book import replay_bbo, replay_l2, to_l2
from qlib.data import simulate
from qlib.data.lobster import load_lobster
from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, SchemaError

BBO_FIELDS = ["bid_px_tick", "ask_px_tick", "bid_qty", "ask_qty"]
GOOG = "lobster-goog-2012-06-21"


def _assert_same_book_at_every_event(l3: np.ndarray) -> np.ndarray:
    l2, src_end = to_l2(l3, return_index=True)
    b3 = replay_bbo(l3)
    b2 = replay_bbo(l2)
    has = src_end > 0
    np.testing.assert_array_equal(b3[has][BBO_FIELDS], b2[src_end[has] - 1][BBO_FIELDS])
    # rows before the first output row: the empty book
    assert (b3[~has]["bid_qty"] == 0).all() and (b3[~has]["ask_qty"] == 0).all()
    r3, r2 = replay_l2(l3), replay_l2(l2)
    for a, b in zip(r3.bids + r3.asks, r2.bids + r2.asks):
        np.testing.assert_array_equal(a, b)
    return l2


def _trades(ev: np.ndarray) -> tuple[int, float]:
    k = ev["kind"]
    summary = (ev["flags"] & EventFlag.SUMMARY) != 0
    sel = (k == EventKind.EXECUTE) | ((k == EventKind.TRADE) & ~summary)
    return int(sel.sum()), float(ev["qty"][sel].sum())


def _events(rows: list[tuple]) -> np.ndarray:
    ev = empty_events(len(rows))
    for i, (kind, side, px, qty, oid) in enumerate(rows):
        ev[i]["kind"], ev[i]["side"], ev[i]["px_tick"] = kind, side, px
        ev[i]["qty"], ev[i]["order_id"] = qty, oid
        ev[i]["ts_exch"] = ev[i]["ts_local"] = 1000 + i
        ev[i]["seq"] = i
        ev[i]["flags"] = EventFlag.LAST
    return ev


# ---------------------------------------------------------------- small cases
def test_to_l2_execute_writes_trade_before_depth_with_aggressor_side():
    ev = _events([(EventKind.ADD, Side.SELL, 101, 5.0, 7),
                  (EventKind.EXECUTE, Side.SELL, 101, 2.0, 7)])
    l2 = to_l2(ev)
    assert l2["kind"].tolist() == [EventKind.DEPTH, EventKind.TRADE, EventKind.DEPTH]
    assert l2["side"].tolist() == [Side.SELL, Side.BUY, Side.SELL]
    assert l2["qty"].tolist() == [5.0, 2.0, 3.0]
    assert l2["px_tick"].tolist() == [101, 101, 101]
    assert (l2["order_id"] == 0).all()
    # LAST only on the last row of each input event
    assert (l2["flags"] & EventFlag.LAST).tolist() == [1, 0, 1]


def test_to_l2_modify_moving_order_writes_old_level_then_new_level():
    ev = _events([(EventKind.ADD, Side.BUY, 99, 5.0, 1),
                  (EventKind.ADD, Side.BUY, 99, 1.0, 2),
                  (EventKind.MODIFY, Side.BUY, 98, 4.0, 1)])
    l2 = to_l2(ev)
    assert [(int(p), float(q)) for p, q in l2[["px_tick", "qty"]][2:]] == [(99, 1.0), (98, 4.0)]


def test_to_l2_delete_of_last_order_writes_zero_and_unchanged_depth_writes_nothing():
    ev = _events([(EventKind.ADD, Side.BUY, 99, 5.0, 1),
                  (EventKind.DEPTH, Side.BUY, 99, 5.0, 0),
                  (EventKind.DELETE, Side.BUY, 99, 0.0, 1)])
    l2, src_end = to_l2(ev, return_index=True)
    assert l2["qty"].tolist() == [5.0, 0.0]
    assert src_end.tolist() == [1, 1, 2]


def test_to_l2_summary_trades_dropped_by_default_kept_on_request():
    ev = _events([(EventKind.ADD, Side.SELL, 101, 5.0, 7),
                  (EventKind.EXECUTE, Side.SELL, 101, 5.0, 7),
                  (EventKind.TRADE, Side.BUY, 101, 5.0, 0),
                  (EventKind.TRADE, Side.SELL, 100, 1.0, 0)])
    ev["flags"][1] = 0
    ev["flags"][2] = EventFlag.SUMMARY | EventFlag.LAST
    l2 = to_l2(ev)
    assert (l2["kind"] == EventKind.TRADE).sum() == 2  # the EXECUTE and the plain print
    # the dropped summary print's LAST moves to the previous row (the depth update)
    assert l2["flags"][2] & EventFlag.LAST
    assert (to_l2(ev, keep_summary=True)["kind"] == EventKind.TRADE).sum() == 3


def test_to_l2_clear_and_snapshot_become_clear_and_depth():
    ev = _events([(EventKind.CLEAR, Side.NONE, 0, 0.0, 0),
                  (EventKind.SNAPSHOT, Side.BUY, 99, 3.0, 0),
                  (EventKind.SNAPSHOT, Side.SELL, 101, 2.0, 5)])
    ev["flags"][1:] |= np.uint8(EventFlag.SNAPSHOT)
    l2 = to_l2(ev)
    assert l2["kind"].tolist() == [EventKind.CLEAR, EventKind.DEPTH, EventKind.DEPTH]
    assert (l2["flags"][1:] & EventFlag.SNAPSHOT).all()


def test_to_l2_wrong_dtype_raises_schema_error():
    with pytest.raises(SchemaError, match="events must have dtype"):
        to_l2(np.zeros(3, dtype=[("a", "i8")]))


def test_to_l2_negative_qty_raises_data_quality_error_naming_row():
    ev = _events([(EventKind.ADD, Side.BUY, 99, 5.0, 1), (EventKind.ADD, Side.BUY, 99, -1.0, 2)])
    with pytest.raises(DataQualityError, match="NEGATIVE_QTY") as exc:
        to_l2(ev)
    assert exc.value.row == 1


def test_to_l2_empty_input_gives_empty_output():
    out = to_l2(np.zeros(0, dtype=EVENT_DTYPE))
    assert out.dtype == EVENT_DTYPE and out.shape == (0,)


# ---------------------------------------------------------------- simulated day
@pytest.fixture(scope="module")
def sim_day():
    return simulate(n_events=300_000, seed=11)


def test_to_l2_simulated_day_same_book_at_every_event(sim_day):
    _assert_same_book_at_every_event(sim_day.events)


def test_to_l2_simulated_day_trade_counts_and_volumes_equal(sim_day):
    l2 = to_l2(sim_day)
    tr = l2["kind"] == EventKind.TRADE
    n, vol = _trades(sim_day.events)
    assert (int(tr.sum()), float(l2["qty"][tr].sum())) == (n, vol)
    # aggressor side: executions against bids are sells
    ex = sim_day.events["kind"] == EventKind.EXECUTE
    assert (l2["side"][tr] == -1).sum() == (sim_day.events["side"][ex] == Side.BUY).sum()


def test_to_l2_simulated_day_last_rows_and_timestamps_preserved(sim_day):
    l2 = to_l2(sim_day)
    ev = sim_day.events
    assert ((l2["flags"] & EventFlag.LAST) != 0).sum() == ((ev["flags"] & EventFlag.LAST) != 0).sum()
    assert (np.diff(l2["ts_exch"]) >= 0).all()
    assert np.isin(l2["seq"], ev["seq"]).all()


def test_to_l2_is_deterministic_and_idempotent_on_l2(sim_day):
    a = to_l2(sim_day)
    assert np.array_equal(a, to_l2(sim_day))
    np.testing.assert_array_equal(to_l2(a), a)  # an L2 stream converts to itself


# ---------------------------------------------------------------- real LOBSTER day
@pytest.mark.parametrize("levels", [1, 10])
def test_to_l2_lobster_goog_same_book_at_every_event(shared_data, levels):
    path = shared_data / GOOG / f"LOBSTER_SampleFile_GOOG_2012-06-21_{levels}.zip"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    md = load_lobster(path)
    l2 = _assert_same_book_at_every_event(md.events)
    tr = l2["kind"] == EventKind.TRADE
    n, vol = _trades(md.events)
    assert (int(tr.sum()), float(l2["qty"][tr].sum())) == (n, vol)
