"""``MarketData``: an event array with its instrument, provenance and validation report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qlib.data import _kernels
from qlib.data.report import ValidationReport
from qlib.dtypes import EVENT_DTYPE, empty_events, require_dtype
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["MarketData", "check_events", "concat_sessions"]


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

    @property
    def sessions(self) -> pd.DataFrame:
        """Return the sessions (trading days) held, one row each, in time order.

        Columns ``session`` (0-based), ``date`` (the session's label, normally its
        trading date), ``first_row`` and ``rows`` (its slice of :attr:`events`), and
        ``ts_first``/``ts_last`` (UTC). Data loaded as one day is one session;
        :func:`concat_sessions` records several.
        """
        parts = self.provenance.get("sessions")
        if not parts:
            ts = self.events["ts_exch"]
            date = (pd.Timestamp(int(ts[0]), tz="UTC").date().isoformat() if len(ts) else None)
            parts = [{"session": 0, "date": date, "first_row": 0, "rows": len(self)}]
        frame = pd.DataFrame(parts, columns=["session", "date", "first_row", "rows"])
        ts = self.events["ts_exch"]
        first = frame["first_row"].to_numpy(dtype=np.int64)
        last = first + frame["rows"].to_numpy(dtype=np.int64) - 1
        ok = frame["rows"].to_numpy() > 0
        frame["ts_first"] = pd.to_datetime(np.where(ok, ts[np.where(ok, first, 0)] if len(ts) else 0, 0),
                                           unit="ns", utc=True)
        frame["ts_last"] = pd.to_datetime(np.where(ok, ts[np.where(ok, last, 0)] if len(ts) else 0, 0),
                                          unit="ns", utc=True)
        return frame

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


def concat_sessions(parts: list[MarketData], labels: list[str] | None = None) -> MarketData:
    """Return several sessions of one instrument as one :class:`MarketData`, one after the other.

    Each part (a trading day, a recording file) keeps its own events in its own
    order; the parts are put in order of their first exchange timestamp. A session
    that does not open with a ``CLEAR`` gets one (``side = NONE``, flagged ``LAST``,
    at its first timestamp), so no book carries over from one session to the next:
    every loader's day opens with its own snapshot or builds its book from empty.

    Parameters
    ----------
    parts
        One :class:`MarketData` per session, all of the same instrument.
    labels
        Session labels (normally the trading dates); by default the UTC date of
        each part's first event.

    Returns
    -------
    MarketData
        ``provenance["sessions"]`` lists each session's label, first row and row
        count (see :attr:`MarketData.sessions`); the report adds up the parts'
        reports (:meth:`ValidationReport.merge`).

    Raises
    ------
    ParameterError
        If ``parts`` is empty or not all MarketData, if the instruments differ, or
        if ``labels`` does not have one label per part.
    DataQualityError
        If two sessions overlap in time (a later session starts before an earlier
        one ends): the message names both.
    """
    if not isinstance(parts, (list, tuple)) or not parts:
        raise ParameterError(f"parts must be a non-empty list of MarketData, was {parts!r}")
    for i, p in enumerate(parts):
        if not isinstance(p, MarketData):
            raise ParameterError(f"parts[{i}] must be a MarketData, was {type(p).__name__}")
    if labels is not None and len(labels) != len(parts):
        raise ParameterError(f"labels must have one label per part ({len(parts)}), was {len(labels)}")
    inst = parts[0].instrument
    for i, p in enumerate(parts[1:], start=1):
        if p.instrument != inst:
            raise ParameterError(
                f"parts[{i}] is {p.instrument!r}, parts[0] is {inst!r}: sessions of one"
                " instrument only")
    if labels is None:
        labels = [pd.Timestamp(int(p.events["ts_exch"][0]), tz="UTC").date().isoformat()
                  if len(p) else f"session {i}" for i, p in enumerate(parts)]
    order = sorted(range(len(parts)), key=lambda i: (int(parts[i].events["ts_exch"][0])
                                                     if len(parts[i]) else 0, i))
    chunks, sessions, row, prev = [], [], 0, None
    for n, i in enumerate(order):
        ev = parts[i].events
        if len(ev) and prev is not None and prev[1] is not None and int(ev["ts_exch"].min()) < prev[1]:
            raise DataQualityError(
                f"session {labels[i]!r} starts at {pd.Timestamp(int(ev['ts_exch'].min()), tz='UTC')},"
                f" before session {prev[0]!r} ends at {pd.Timestamp(prev[1], tz='UTC')}",
                field="ts_exch", value=int(ev["ts_exch"].min()))
        if len(ev) and not (ev["kind"][0] == EventKind.CLEAR and ev["side"][0] == Side.NONE):
            clear = empty_events(1)
            clear["kind"] = EventKind.CLEAR
            clear["flags"] = EventFlag.LAST | (ev["flags"][0] & EventFlag.TS_LOCAL_SYNTH)
            clear["ts_exch"] = ev["ts_exch"][0]
            clear["ts_local"] = ev["ts_local"][0]
            ev = np.concatenate([clear, ev])
        chunks.append(ev)
        sessions.append({"session": n, "date": labels[i], "first_row": row, "rows": len(ev)})
        row += len(ev)
        if len(ev):
            prev = (labels[i], int(ev["ts_exch"].max()))
    events = np.concatenate(chunks) if chunks else empty_events(0)
    report = ValidationReport.merge([parts[i].report for i in order],
                                    note=f"{len(parts)} sessions, one after the other")
    check_events(events, report)
    provenance = {"sessions": sessions,
                  "parts": [parts[i].provenance for i in order]}
    return MarketData(events, inst, report, provenance)
