"""``MarketData``: an event array with its instrument, provenance and validation report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qlib.data import _kernels
from qlib.data.report import ValidationReport
from qlib.dtypes import EVENT_DTYPE, require_dtype
from qlib.enums import EventKind, Side, Status
from qlib.errors import DataQualityError
from qlib.instrument import Instrument

__all__ = ["MarketData", "check_events"]


def check_events(events: np.ndarray, report: ValidationReport | None = None) -> ValidationReport:
    """Check an event array and fill the counting fields of a report.

    Checks every row for a known ``kind``, a valid ``side``, and a finite,
    non-negative ``qty``; counts events by kind and the rows whose ``ts_exch`` is
    below an earlier row's.

    Parameters
    ----------
    events
        Array of :data:`qlib.dtypes.EVENT_DTYPE`.
    report
        Report to fill; a new one (source ``"events"``) when None.

    Returns
    -------
    ValidationReport
        The filled report (``rows``, ``rows_by_kind``, ``ts_first``, ``ts_last``,
        ``out_of_order_rows``).

    Raises
    ------
    SchemaError
        If ``events`` is not an EVENT_DTYPE array.
    DataQualityError
        On the first row with an unknown kind or side or a bad quantity.
    """
    require_dtype(events, EVENT_DTYPE, name="events")
    report = report if report is not None else ValidationReport("events")
    counts = np.zeros(16, dtype=np.int64)
    status, row, out_of_order = _kernels.scan_events(events, counts)
    if status != Status.OK:
        ev = events[row]
        field_name = {Status.NON_FINITE: "qty", Status.NEGATIVE_QTY: "qty"}.get(
            Status(status), "kind/side"
        )
        raise DataQualityError(
            f"{Status(status).name}: kind={int(ev['kind'])}, side={int(ev['side'])},"
            f" qty={float(ev['qty'])!r}",
            row=int(row), field=field_name, value=ev[field_name.split("/")[0]],
        )
    report.rows = int(events.shape[0])
    report.rows_by_kind = {
        EventKind(k).name: int(counts[k]) for k in range(16) if counts[k] and k in EventKind._value2member_map_
    }
    report.out_of_order_rows = int(out_of_order)
    if events.shape[0]:
        report.ts_first = int(events["ts_exch"].min())
        report.ts_last = int(events["ts_exch"].max())
    return report


@dataclass
class MarketData:
    """Events of one instrument, with where they came from and what was found in them.

    Parameters
    ----------
    events
        1-D array of :data:`qlib.dtypes.EVENT_DTYPE`, in the venue's sequence order.
    instrument
        The instrument the events belong to (tick size converts ``px_tick``).
    report
        The loader's :class:`ValidationReport`.
    provenance
        Source description: loader, files, parameters, anything needed to reproduce.
    """

    events: np.ndarray
    instrument: Instrument
    report: ValidationReport
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_dtype(self.events, EVENT_DTYPE, name="events")

    def __len__(self) -> int:
        return int(self.events.shape[0])

    def __repr__(self) -> str:
        span = ""
        if len(self):
            t0 = pd.Timestamp(int(self.events["ts_exch"][0]), tz="UTC")
            t1 = pd.Timestamp(int(self.events["ts_exch"][-1]), tz="UTC")
            span = f", {t0} to {t1}"
        return (f"MarketData({self.instrument.instrument_id}, {len(self):,} events"
                f"{span}, source={self.report.source})")

    def to_pandas(self) -> pd.DataFrame:
        """Return the events as a DataFrame with UTC timestamps and float prices.

        Columns: ``ts_exch``, ``ts_local`` (``datetime64[ns, UTC]``), ``kind``
        (categorical of :class:`EventKind` names), ``side`` (int8), ``price``
        (float, in the instrument's currency), ``px_tick``, ``qty``, ``order_id``,
        ``seq``, ``flags``.
        """
        ev = self.events
        kind_names = [k.name for k in EventKind]
        kind = pd.Categorical.from_codes(
            np.searchsorted([int(k) for k in EventKind], ev["kind"]), categories=kind_names
        ) if len(ev) else pd.Categorical([], categories=kind_names)
        return pd.DataFrame(
            {
                "ts_exch": pd.to_datetime(ev["ts_exch"], unit="ns", utc=True),
                "ts_local": pd.to_datetime(ev["ts_local"], unit="ns", utc=True),
                "kind": kind,
                "side": ev["side"],
                "price": self.instrument.to_price(ev["px_tick"]),
                "px_tick": ev["px_tick"],
                "qty": ev["qty"],
                "order_id": ev["order_id"],
                "seq": ev["seq"],
                "flags": ev["flags"],
            }
        )

    def between(self, start: int | pd.Timestamp | None = None, stop: int | pd.Timestamp | None = None) -> "MarketData":
        """Return the events with ``start <= ts_exch < stop`` (ns ints or Timestamps)."""
        ts = self.events["ts_exch"]
        lo = 0 if start is None else int(np.searchsorted(ts, _to_ns(start), side="left"))
        hi = len(ts) if stop is None else int(np.searchsorted(ts, _to_ns(stop), side="left"))
        return MarketData(self.events[lo:hi], self.instrument, self.report,
                          {**self.provenance, "between": (start, stop)})


def _to_ns(t: int | pd.Timestamp) -> int:
    if isinstance(t, (int, np.integer)):
        return int(t)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)
