"""Tests of qlib.data.databento.load_databento on the real ESH4 file and small DBN files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lobster_dbn_builders import (
    F_BAD_TS_RECV,
    F_LAST,
    F_SNAPSHOT,
    T0,
    mbo,
    small_session,
    write_dbn,
)

from qlib.data import _databento_kernels as dk
from qlib.data.databento import FILL_REASON, NONE_ACTION_REASON, default_open_ns, load_databento
from qlib.data.sources import load
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import ParameterError
from qlib.instrument import Instrument

ESH4 = "databento-glbx-esh4-mbo-2023-12-25/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
# Figures from the data set's PROVENANCE.md.
ACTIONS = {"A": 29_216, "C": 17_999, "M": 12_233, "F": 6_371, "T": 2_973}
RECORDS = 68_792
SNAPSHOT_RECORDS = 8_725


@pytest.fixture(scope="module")
def esh4(shared_data):
    return load_databento(shared_data / ESH4)



def _py(kernel):
    """The pure-Python version of a kernel (itself under NUMBA_DISABLE_JIT=1)."""
    return getattr(kernel, "py_func", kernel)

# ---------------------------------------------------------------- real data
@pytest.mark.realdata
def test_load_databento_real_counts_by_action_match_provenance(esh4):
    rep = esh4.report
    assert rep.rows_read == RECORDS
    assert esh4.provenance["action_counts"] == ACTIONS
    kinds = rep.rows_by_kind
    assert kinds["ADD"] == ACTIONS["A"]
    assert kinds.get("CANCEL", 0) + kinds["DELETE"] == ACTIONS["C"]
    assert kinds["MODIFY"] == ACTIONS["M"]
    assert kinds["TRADE"] == ACTIONS["T"]
    assert rep.drops[FILL_REASON].count == ACTIONS["F"] == rep.rows_dropped
    assert len(esh4) == RECORDS - ACTIONS["F"]


@pytest.mark.realdata
def test_load_databento_real_book_check_matches_provenance(esh4):
    bc = esh4.provenance["book_check"]
    assert bc["open_ns"] == int(pd.Timestamp("2023-12-25 23:00", tz="UTC").value)
    assert bc["crossed_pre_open"] + bc["locked_pre_open"] == 891
    assert bc["crossed_open"] == 0 and bc["locked_open"] == 0
    assert esh4.report.crossed_rows + esh4.report.locked_rows == 891
    assert bc["unknown_order_cancels"] == bc["unknown_order_modifies"] == 0
    assert bc["resting_orders_end"] == 11_217
    assert (bc["best_bid_end"], bc["best_ask_end"]) == (4810.00, 4810.25)


@pytest.mark.realdata
def test_load_databento_real_open_time_moves_the_split(shared_data):
    md = load_databento(shared_data / ESH4, open_time="2023-12-25 22:00")
    bc = md.provenance["book_check"]
    assert bc["crossed_pre_open"] + bc["locked_pre_open"] == 0
    assert bc["crossed_open"] + bc["locked_open"] == 891


@pytest.mark.realdata
def test_load_databento_real_fields_and_clocks(esh4):
    ev = esh4.events
    snap = ev[:SNAPSHOT_RECORDS]
    assert (snap["kind"] == EventKind.ADD).all()
    assert ((snap["flags"] & EventFlag.SNAPSHOT) != 0).all()
    assert ((snap["flags"] & EventFlag.BAD_TS_LOCAL) != 0).all()
    assert not ((ev[SNAPSHOT_RECORDS:]["flags"] & EventFlag.SNAPSHOT) != 0).any()
    # head of the file, from PROVENANCE.md
    assert (int(ev["ts_local"][0]), int(ev["ts_exch"][0])) == (1703462400000000000,
                                                              1703422805243925307)
    assert (int(ev["px_tick"][0]), float(ev["qty"][0]), int(ev["order_id"][0])) == (
        19196, 2.0, 6412777162812)
    assert (int(ev["seq"][0]), int(ev["side"][0])) == (682, Side.BUY)
    live = ev[SNAPSHOT_RECORDS]
    assert (int(live["ts_local"]), int(live["ts_exch"]), int(live["seq"])) == (
        1703541600181198464, 1703541600180087113, 4957)
    assert live["flags"] & EventFlag.LAST
    assert (np.diff(ev["ts_local"]) >= 0).all()  # file order is ts_recv order
    assert esh4.report.out_of_order_rows == 0  # ts_event never goes back in this file
    trades = ev[ev["kind"] == EventKind.TRADE]
    assert float(trades["qty"].sum()) == 9_892
    assert (trades["order_id"] == 0).all()
    px = esh4.instrument.to_price(trades["px_tick"])
    assert (px.min(), px.max()) == (4800.25, 4811.75)
    first_trade = pd.Timestamp("2023-12-25 23:00:00.106", tz="UTC").value  # rounded to 1 ms
    assert abs(int(trades["ts_local"][0]) - first_trade) < 500_000
    assert esh4.instrument == Instrument("ESH4.GLBX", tick_size=0.25, multiplier=50.0)
    df = esh4.to_pandas()
    assert df["price"].iloc[-1] * 4 == df["px_tick"].iloc[-1]  # quarter points survive


@pytest.mark.realdata
def test_load_databento_real_include_fills_emits_them_as_trades(shared_data, esh4):
    md = load_databento(shared_data / ESH4, include_fills=True)
    assert md.report.rows_dropped == 0
    assert md.report.rows_by_kind["TRADE"] == ACTIONS["T"] + ACTIONS["F"]
    assert md.report.crossed_rows == esh4.report.crossed_rows  # fills change no book


@pytest.mark.realdata
def test_load_databento_real_via_sources_dispatch(shared_data, esh4):
    md = load("databento", shared_data / ESH4)
    assert np.array_equal(md.events, esh4.events)


# ---------------------------------------------------------------- small files
def test_load_databento_small_session_maps_actions(tmp_path):
    md = load_databento(write_dbn(tmp_path / "s.mbo.dbn.zst", small_session()))
    ev = md.events
    assert ev["kind"].tolist() == [EventKind.ADD, EventKind.ADD, EventKind.CANCEL,
                                   EventKind.MODIFY, EventKind.TRADE, EventKind.MODIFY,
                                   EventKind.DELETE]
    assert ev["side"].tolist() == [1, -1, 1, -1, 1, -1, 1]
    assert ev["px_tick"].tolist() == [19200, 19201, 19200, 19202, 19202, 19202, 19200]
    assert ev["qty"].tolist() == [5, 3, 2, 4, 1, 3, 3]
    assert ev["order_id"].tolist() == [1, 2, 1, 2, 0, 2, 1]
    assert ev["seq"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert md.report.drops[FILL_REASON].count == 1
    bc = md.provenance["book_check"]
    assert bc["cancels_as_delete"] == 1 and bc["resting_orders_end"] == 1
    assert bc["best_bid_end"] is None and bc["best_ask_end"] == 4800.5


def test_load_databento_dropped_fill_with_f_last_moves_last_to_previous(tmp_path):
    recs = [
        mbo("A", "A", 4800.25, 3, 2, ts=T0, seq=1),
        mbo("T", "B", 4800.25, 1, 9, ts=T0 + 1, seq=2, flags=0),
        mbo("F", "A", 4800.25, 1, 2, ts=T0 + 1, seq=2, flags=F_LAST),
        mbo("N", "N", float("nan"), 0, 0, ts=T0 + 2, seq=3, flags=F_LAST),
    ]
    md = load_databento(write_dbn(tmp_path / "f.mbo.dbn.zst", recs))
    assert md.events["kind"].tolist() == [EventKind.ADD, EventKind.TRADE]
    assert md.events["flags"][1] & EventFlag.LAST
    assert md.report.drops[NONE_ACTION_REASON].count == 1


def test_load_databento_include_fills_gives_aggressor_side(tmp_path):
    recs = [mbo("A", "A", 4800.25, 3, 2, ts=T0, seq=1),
            mbo("F", "A", 4800.25, 1, 2, ts=T0 + 1, seq=2)]
    md = load_databento(write_dbn(tmp_path / "f.mbo.dbn.zst", recs), include_fills=True)
    assert md.events["kind"][1] == EventKind.TRADE
    assert md.events["side"][1] == Side.BUY  # a resting ask was filled by a buyer
    assert md.events["order_id"][1] == 0


def test_load_databento_clear_unknown_ids_and_crossed_counts(tmp_path):
    recs = [
        mbo("A", "B", 4801.00, 1, 1, ts=T0 - 5, flags=F_SNAPSHOT | F_BAD_TS_RECV),
        mbo("A", "A", 4800.00, 1, 2, ts=T0 - 4),  # crossed at this LAST (pre-open)
        mbo("R", "N", float("nan"), 0, 0, ts=T0 - 3),
        mbo("C", "B", 4801.00, 1, 1, ts=T0 - 2),  # order 1 was cleared: unknown id
        mbo("M", "A", 4800.00, 2, 7, ts=T0 - 1),  # unknown: inserted
        mbo("A", "B", 4800.00, 1, 3, ts=T0 + 1),  # locked after the open
    ]
    md = load_databento(write_dbn(tmp_path / "r.mbo.dbn", recs, compress=False))
    bc = md.provenance["book_check"]
    assert md.events["kind"][2] == EventKind.CLEAR and md.events["side"][2] == Side.NONE
    assert md.events["px_tick"][2] == 0 and md.events["qty"][2] == 0
    assert (bc["crossed_pre_open"], bc["locked_pre_open"]) == (1, 0)
    assert (bc["crossed_open"], bc["locked_open"]) == (0, 1)
    assert bc["unknown_order_cancels"] == 1 and bc["unknown_order_modifies"] == 1
    assert md.report.crossed_rows == 1 and md.report.locked_rows == 1


def test_load_databento_unknown_root_infers_the_tick_from_the_prices(tmp_path):
    p = write_dbn(tmp_path / "x.mbo.dbn.zst", [mbo("A", "B", 100.0, 1, 1, ts=T0)],
                  symbols=("QXH4",))  # a root the registry does not list
    md = load_databento(p)
    assert md.instrument.instrument_id == "QXH4.GLBX"
    facts = {i.fact: i for i in md.report.inferred}
    assert facts["tick_size"].confidence == "low" and facts["venue"].value == "GLBX"
    assert md.events["px_tick"][0] * md.instrument.tick_size == 100.0
    md = load_databento(p, instrument=Instrument("QXH4.GLBX", tick_size=1 / 64))
    assert md.events["px_tick"][0] == 6400


def test_default_open_ns_is_17_chicago():
    assert default_open_ns(pd.Timestamp("2023-12-25").date()) == int(
        pd.Timestamp("2023-12-25 23:00", tz="UTC").value)
    assert default_open_ns(pd.Timestamp("2023-07-03").date()) == int(
        pd.Timestamp("2023-07-03 22:00", tz="UTC").value)


# ---------------------------------------------------------------- kernel
def _events(rows):
    """rows: (kind, side, px_tick, qty, order_id, last, ts) tuples."""
    ev = empty_events(len(rows))
    for i, (k, s, p, q, o, last, ts) in enumerate(rows):
        ev[i] = (ts, ts, i, p, q, o, k, s, int(EventFlag.LAST) if last else 0)
    return ev


def _prepare(ev):
    book = np.isin(ev["kind"], [EventKind.ADD, EventKind.CANCEL, EventKind.MODIFY])
    idx = np.full(len(ev), -1, dtype=np.int64)
    uniq, inv = np.unique(ev["order_id"][book], return_inverse=True)
    idx[book] = inv
    px = ev["px_tick"][book]
    lo = int(px.min()) if px.size else 0
    n_px = int(px.max()) - lo + 1 if px.size else 1
    return idx, lo, n_px, max(len(uniq), 1)


_ORDER_OPS = st.lists(
    st.tuples(st.sampled_from(["A", "C", "M", "R", "T"]), st.integers(0, 7),
              st.sampled_from([1, -1]), st.integers(95, 105), st.integers(1, 5), st.booleans()),
    max_size=80,
)


def _from_ops(ops):
    kinds = {"A": EventKind.ADD, "C": EventKind.CANCEL, "M": EventKind.MODIFY,
             "R": EventKind.CLEAR, "T": EventKind.TRADE}
    return _events([(kinds[a], s, p, q, o if a in "ACM" else 0, last, 100 + i)
                    for i, (a, o, s, p, q, last) in enumerate(ops)])


@settings(max_examples=80, deadline=None)
@given(_ORDER_OPS)
def test_replay_orders_jit_matches_py_func(ops):
    ev = _from_ops(ops)
    idx, lo, n_px, n_orders = _prepare(ev)
    ev_j, ev_p = ev.copy(), ev.copy()
    c_j = np.zeros(dk.N_COUNTS, dtype=np.int64)
    c_p = np.zeros(dk.N_COUNTS, dtype=np.int64)
    r_j = dk.replay_orders(ev_j, idx, lo, n_px, n_orders, 103, c_j)
    r_p = _py(dk.replay_orders)(ev_p, idx, lo, n_px, n_orders, 103, c_p)
    assert tuple(map(int, r_j)) == tuple(map(int, r_p))
    assert np.array_equal(c_j, c_p) and np.array_equal(ev_j, ev_p)


@settings(max_examples=80, deadline=None)
@given(_ORDER_OPS)
def test_replay_orders_matches_dict_reference(ops):
    ev = _from_ops(ops)
    idx, lo, n_px, n_orders = _prepare(ev)
    counts = np.zeros(dk.N_COUNTS, dtype=np.int64)
    status, _ = dk.replay_orders(ev, idx, lo, n_px, n_orders, 103, counts)
    assert status == Status.OK
    # reference: a dict of orders, best prices by max/min over resting orders
    orders: dict[int, list] = {}
    crossed = locked = deletes = unknown = 0
    for (a, o, s, p, q, last), e in zip(ops, ev):
        if a == "A":
            orders[o] = [s, p, q]
        elif a == "C":
            if o not in orders:
                unknown += 1
            else:
                orders[o][2] -= min(q, orders[o][2])
                if orders[o][2] == 0:
                    del orders[o]
                    deletes += 1
                    assert e["kind"] == EventKind.DELETE
        elif a == "M":
            if o not in orders:
                unknown += 1
                orders[o] = [s, p, q]
            else:
                orders[o][1:] = [p, q]
        elif a == "R":
            orders.clear()
        bids = [v[1] for v in orders.values() if v[0] == 1]
        asks = [v[1] for v in orders.values() if v[0] == -1]
        if last and bids and asks:
            crossed += max(bids) > min(asks)
            locked += max(bids) == min(asks)
    assert counts[dk.CNT_CROSSED_PRE] + counts[dk.CNT_CROSSED_OPEN] == crossed
    assert counts[dk.CNT_LOCKED_PRE] + counts[dk.CNT_LOCKED_OPEN] == locked
    assert counts[dk.CNT_TO_DELETE] == deletes
    assert counts[dk.CNT_UNKNOWN_CANCEL] + counts[dk.CNT_UNKNOWN_MODIFY] == unknown
    assert counts[dk.CNT_RESTING_END] == len(orders)
    bids = [v[1] for v in orders.values() if v[0] == 1]
    asks = [v[1] for v in orders.values() if v[0] == -1]
    assert counts[dk.CNT_BEST_BID_END] == (max(bids) if bids else -1)
    assert counts[dk.CNT_BEST_ASK_END] == (min(asks) if asks else -1)


def test_replay_orders_out_of_range_price_returns_capacity():
    ev = _events([(EventKind.ADD, 1, 100, 1, 1, True, 1)])
    counts = np.zeros(dk.N_COUNTS, dtype=np.int64)
    status, row = dk.replay_orders(ev, np.array([0]), 200, 5, 1, 0, counts)
    assert (status, row) == (Status.CAPACITY, 0)
