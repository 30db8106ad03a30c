"""Reconciliation against a venue report: every break type, with a reason."""

from __future__ import annotations

import pandas as pd
import pytest

from qlib.enums import OrderStatus, Side
from qlib.errors import ParameterError, SchemaError
from qlib.instrument import Instrument
from qlib.oms import BREAK_COLUMNS, OrderTracker, Portfolio, reconcile

ES = Instrument("ES.CME", tick_size=0.25, multiplier=50.0)
NQ = Instrument("NQ.CME", tick_size=0.25, multiplier=20.0)


def _ours() -> tuple[OrderTracker, Portfolio]:
    t = OrderTracker()
    for oid in (1, 2, 3, 4, 5):
        t.new_order(oid, Side.BUY, 4.0, px_tick=100, ts=0)
        t.submit(oid, ts=1)
    for oid in (1, 2, 3, 4):
        t.ack(oid, ts=2)
    t.fill(2, 1.0, px_tick=100, ts=3)  # 2: PARTIALLY_FILLED 1/4
    t.request_cancel(3, ts=3)  # 3: PENDING_CANCEL
    t.fill(4, 4.0, px_tick=100, ts=3)  # 4: FILLED; 5: PENDING_NEW
    pf = Portfolio([ES, NQ])
    pf.apply_fill("ES.CME", Side.BUY, 5.0, px_tick=400, ts=3)
    return t, pf


def _venue(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["order_id", "status", "qty", "filled_qty"])


AGREEING = [(1, "LIVE", 4.0, 0.0), (2, "PARTIALLY_FILLED", 4.0, 1.0), (3, "CANCELLED", 4.0, 0.0)]


def test_reconcile_agreeing_reports_have_no_breaks():
    # in-flight states are not breaks: 3 is PENDING_CANCEL here and CANCELLED there;
    # 4 (FILLED) and 5 (PENDING_NEW) are absent from the venue report
    t, pf = _ours()
    venue_pos = pd.DataFrame({"instrument_id": ["ES.CME"], "qty": [5.0]})
    out = reconcile(t.orders_frame(), _venue(AGREEING), pf.positions(), venue_pos)
    assert out.empty and list(out.columns) == BREAK_COLUMNS


def test_reconcile_lists_every_break_with_reason():
    # Arrange: 1 missing, 2 filled qty differs, 3 status beyond in-flight, 9 unknown,
    # ES position differs, NQ held only at the venue
    t, pf = _ours()
    venue = _venue([(2, OrderStatus.PARTIALLY_FILLED, 4.0, 2.0), (3, int(OrderStatus.FILLED), 4.0, 4.0),
                    (9, "live", 1.0, 0.0)])
    venue_pos = pd.DataFrame({"instrument_id": ["ES.CME", "NQ.CME"], "qty": [4.0, -1.0]})
    # Act
    out = reconcile(t.orders_frame(), venue, pf.positions(), venue_pos)
    # Assert
    def col(name):
        return [None if pd.isna(v) else v for v in out[name]]

    got = list(zip(col("break_type"), col("order_id"), col("instrument_id"), col("field")))
    assert got == [
        ("missing_order", 1, None, "order_id"),
        ("qty_mismatch", 2, None, "filled_qty"),
        ("qty_mismatch", 3, None, "filled_qty"),
        ("unknown_order", 9, None, "order_id"),
        ("position_mismatch", None, "ES.CME", "qty"),
        ("position_mismatch", None, "NQ.CME", "qty"),
    ]
    assert out["reason"].str.len().min() > 10
    assert "absent from the venue" in out["reason"].iloc[0]


def test_reconcile_status_mismatch_when_not_explained_by_request_in_flight():
    t, pf = _ours()
    venue = _venue([(1, "CANCELLED", 4.0, 0.0), (2, "PARTIALLY_FILLED", 4.0, 1.0),
                    (3, "CANCELLED", 4.0, 0.0)])
    out = reconcile(t.orders_frame(), venue, pf.positions(), pf.positions())
    assert out[["break_type", "order_id", "internal", "venue"]].astype(object).values.tolist() == [
        ["status_mismatch", 1, "LIVE", "CANCELLED"]]


def test_reconcile_order_qty_mismatch_reported():
    t, pf = _ours()
    venue = _venue([(1, "LIVE", 5.0, 0.0)] + AGREEING[1:])
    out = reconcile(t.orders_frame(), venue, pf.positions(), pf.positions())
    assert out[["break_type", "order_id", "field", "internal", "venue"]].astype(object).values.tolist() == [
        ["qty_mismatch", 1, "qty", 4.0, 5.0]]


def test_reconcile_bad_inputs_raise():
    t, pf = _ours()
    with pytest.raises(SchemaError, match="filled_qty"):
        reconcile(t.orders_frame(), _venue(AGREEING).drop(columns="filled_qty"), pf.positions(), pf.positions())
    with pytest.raises(ParameterError, match="'DONE'"):
        reconcile(t.orders_frame(), _venue([(1, "DONE", 4.0, 0.0)]), pf.positions(), pf.positions())
    with pytest.raises(ParameterError, match="repeats"):
        reconcile(t.orders_frame(), _venue(AGREEING + AGREEING[:1]), pf.positions(), pf.positions())
