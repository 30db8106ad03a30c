"""Reconciliation: our orders and positions against a venue's report.

:func:`reconcile` lists every *break*, one row each with a reason:

``missing_order``
    We hold an open order (not ``NEW`` and not ``PENDING_NEW``) that the venue does
    not report.
``unknown_order``
    The venue reports an order id we never created.
``status_mismatch``
    Both know the order but the statuses disagree, beyond what a request in flight
    explains (see below).
``qty_mismatch``
    Order quantity or filled quantity differ by more than ``qty_tol``.
``position_mismatch``
    Net position of an instrument differs by more than ``qty_tol`` (an instrument
    absent on one side counts as flat there).

A status is compatible with a request in flight: our ``PENDING_NEW`` matches a venue
``LIVE``, ``PARTIALLY_FILLED``, ``FILLED``, ``REJECTED``, ``EXPIRED`` or an absent order;
``PENDING_CANCEL`` matches ``LIVE``, ``PARTIALLY_FILLED``, ``CANCELLED`` or ``FILLED``;
``PENDING_REPLACE`` matches ``LIVE``, ``PARTIALLY_FILLED`` or ``FILLED``. While a
replace is in flight the order quantity is not compared (either the old or the new
may be the venue's). Terminal orders that the venue no longer reports are not breaks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qlib.enums import OrderStatus
from qlib.errors import ParameterError, SchemaError

__all__ = ["BREAK_COLUMNS", "reconcile"]

#: Columns of the frame :func:`reconcile` returns.
BREAK_COLUMNS = ["break_type", "order_id", "instrument_id", "field", "internal", "venue", "reason"]

S = OrderStatus
_IN_FLIGHT: dict[str, set[str]] = {
    S.PENDING_NEW.name: {S.LIVE.name, S.PARTIALLY_FILLED.name, S.FILLED.name, S.REJECTED.name,
                         S.EXPIRED.name},
    S.PENDING_CANCEL.name: {S.LIVE.name, S.PARTIALLY_FILLED.name, S.CANCELLED.name, S.FILLED.name},
    S.PENDING_REPLACE.name: {S.LIVE.name, S.PARTIALLY_FILLED.name, S.FILLED.name},
}
_TERMINAL = {S.FILLED.name, S.CANCELLED.name, S.REJECTED.name, S.EXPIRED.name}
_ORDER_COLS = ["order_id", "status", "qty", "filled_qty"]
_POS_COLS = ["instrument_id", "qty"]


def _check(df: object, cols: list[str], name: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"{name} must be a pandas DataFrame, was {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SchemaError(f"{name} lacks columns {missing}; it has {list(df.columns)}")
    return df


def _status_names(s: pd.Series, name: str) -> pd.Series:
    """Normalise statuses given as OrderStatus, codes or names to names."""
    def one(v: object) -> str:
        try:
            if isinstance(v, str):
                return S[v.upper()].name
            return S(int(v)).name  # type: ignore[call-overload]
        except (KeyError, ValueError, TypeError):
            raise ParameterError(f"{name}.status has value {v!r}, not an OrderStatus") from None
    return s.map(one)


def reconcile(internal_orders: pd.DataFrame, venue_orders: pd.DataFrame,
              internal_positions: pd.DataFrame, venue_positions: pd.DataFrame, *,
              qty_tol: float = 1e-9) -> pd.DataFrame:
    """Compare our orders and positions with a venue's report and list every break.

    Parameters
    ----------
    internal_orders
        Our orders, columns ``order_id, status, qty, filled_qty`` (as
        :meth:`qlib.oms.OrderTracker.orders_frame` returns; include terminal orders so
        that a venue report of a finished order is not called unknown).
    venue_orders
        The venue's orders, same columns; ``status`` as :class:`OrderStatus` names or codes.
    internal_positions, venue_positions
        Columns ``instrument_id, qty`` (signed), as :meth:`qlib.oms.Portfolio.positions`.
    qty_tol
        Absolute tolerance for quantity comparisons (>= 0).

    Returns
    -------
    pandas.DataFrame
        One row per break, columns :data:`BREAK_COLUMNS`; empty when all agree. Order
        breaks come first (by order id), then position breaks (by instrument).
        ``order_id`` is nullable ``UInt64`` (``<NA>`` on position breaks),
        ``instrument_id`` is missing on order breaks.

    Raises
    ------
    SchemaError
        A frame is not a DataFrame or lacks a column.
    ParameterError
        A status is not an :class:`OrderStatus`, an order id repeats, or ``qty_tol`` is bad.
    """
    if not (np.isfinite(qty_tol) and qty_tol >= 0):
        raise ParameterError(f"qty_tol must be finite and >= 0, was {qty_tol!r}")
    ours = _check(internal_orders, _ORDER_COLS, "internal_orders")[_ORDER_COLS].copy()
    theirs = _check(venue_orders, _ORDER_COLS, "venue_orders")[_ORDER_COLS].copy()
    for df, name in ((ours, "internal_orders"), (theirs, "venue_orders")):
        dup = df["order_id"][df["order_id"].duplicated()]
        if len(dup):
            raise ParameterError(f"{name}.order_id repeats {dup.iloc[0]!r}")
        df["status"] = _status_names(df["status"], name)
    rows: list[dict[str, object]] = []

    def add(kind: str, oid: object, iid: object, field: object, a: object, b: object, why: str) -> None:
        rows.append(dict(zip(BREAK_COLUMNS, (kind, oid, iid, field, a, b, why))))

    m = ours.merge(theirs, on="order_id", how="outer", suffixes=("_int", "_ven"), indicator="presence")
    m = m.sort_values("order_id", kind="stable")
    for r in m.itertuples(index=False):
        oid = r.order_id
        if r.presence == "left_only":
            st = r.status_int
            if st in _TERMINAL or st in (S.NEW.name, S.PENDING_NEW.name):
                continue
            add("missing_order", oid, None, "order_id", st, None,
                f"order {oid} is {st} here but absent from the venue report")
            continue
        if r.presence == "right_only":
            add("unknown_order", oid, None, "order_id", None, r.status_ven,
                f"venue reports order {oid} ({r.status_ven}) that we never created")
            continue
        si, sv = r.status_int, r.status_ven
        if si != sv and sv not in _IN_FLIGHT.get(si, set()):
            add("status_mismatch", oid, None, "status", si, sv,
                f"order {oid} is {si} here, {sv} at the venue")
        if si != S.PENDING_REPLACE.name and abs(r.qty_int - r.qty_ven) > qty_tol:
            add("qty_mismatch", oid, None, "qty", r.qty_int, r.qty_ven,
                f"order {oid} quantity {r.qty_int} here, {r.qty_ven} at the venue")
        if abs(r.filled_qty_int - r.filled_qty_ven) > qty_tol:
            add("qty_mismatch", oid, None, "filled_qty", r.filled_qty_int, r.filled_qty_ven,
                f"order {oid} filled {r.filled_qty_int} here, {r.filled_qty_ven} at the venue")

    pi = _check(internal_positions, _POS_COLS, "internal_positions")
    pv = _check(venue_positions, _POS_COLS, "venue_positions")
    a = pi.groupby("instrument_id")["qty"].sum()
    b = pv.groupby("instrument_id")["qty"].sum()
    both = pd.concat([a.rename("int"), b.rename("ven")], axis=1).fillna(0.0).sort_index()
    for iid, r in both.iterrows():
        if abs(r["int"] - r["ven"]) > qty_tol:
            add("position_mismatch", None, iid, "qty", float(r["int"]), float(r["ven"]),
                f"{iid} position {r['int']} here, {r['ven']} at the venue")
    out = pd.DataFrame(rows, columns=BREAK_COLUMNS)
    out["order_id"] = out["order_id"].astype("UInt64")  # <NA> on position breaks
    return out
