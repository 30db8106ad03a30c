"""The validation report every loader returns beside its events.

Nothing a loader reads is dropped silently: every dropped row is counted here under
its reason (with the first few row numbers as examples), every sequence gap is
listed, and the book states seen (crossed, locked) are counted.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["ValidationReport", "Gap", "Drop", "Inferred"]

def _jsonable(value: object) -> object:
    """Plain Python for numpy scalars (an inferred tick of ``np.float64(0.01)`` -> ``0.01``)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _count(store: dict[str, Drop], reason: str, file: str, row: int, count: int) -> None:
    """Add ``count`` rows under ``reason`` in ``store`` (drops or kept), keeping a few examples."""
    entry = store.setdefault(reason, Drop(reason))
    entry.count += count
    if len(entry.examples) < _EXAMPLES:
        entry.examples.append((file, int(row)))


def _reasons_frame(store: dict[str, Drop]) -> pd.DataFrame:
    """Rows counted by reason (drops or kept) as a DataFrame with example locations."""
    return pd.DataFrame(
        [{"reason": d.reason, "count": d.count,
          "examples": "; ".join(f"{f}:{r}" for f, r in d.examples)} for d in store.values()],
        columns=["reason", "count", "examples"],
    )


#: How many example row numbers are kept per drop reason.
_EXAMPLES = 5


@dataclass
class Gap:
    """A break in a venue's sequence numbers.

    Attributes
    ----------
    file
        File in which the gap was seen.
    row
        0-based line/row in that file of the first message after the gap.
    field
        The sequence field checked (for example ``"pu"`` or ``"U"``).
    expected, was
        The value the rule required and the value found.
    """

    file: str
    row: int
    field: str
    expected: int
    was: int


@dataclass
class Drop:
    """Rows left out of the events for one reason."""

    reason: str
    count: int = 0
    examples: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Inferred:
    """A fact about the instrument or the data that the loader inferred, not was told.

    Attributes
    ----------
    fact
        What was inferred (``"tick_size"``, ``"lot_size"``, ``"market"``,
        ``"fees"``, ``"multiplier"``, ...).
    value
        The value used.
    basis
        What it was inferred from, in words (``"finest step of 1,234 distinct
        prices in the add messages"``).
    confidence
        ``"certain"`` (the source states it), ``"high"``, ``"medium"``, ``"low"``
        or ``"assumed"`` (a documented default, not evidence from the data).
    """

    fact: str
    value: object
    basis: str
    confidence: str


#: Allowed :attr:`Inferred.confidence` values, most to least sure.
CONFIDENCE = ("certain", "high", "medium", "low", "assumed")


@dataclass
class ValidationReport:
    """What a loader saw: rows, span, gaps, book states and dropped rows.

    Attributes
    ----------
    source
        Loader name (``"lobster"``, ``"binance"``, ``"tardis"``, ``"databento"``,
        ``"simulated"``).
    files
        Files read, in order.
    rows_read
        Source rows or lines read (before any drop).
    rows
        Events produced.
    rows_by_kind
        Event counts by :class:`qlib.enums.EventKind` name.
    ts_first, ts_last
        First and last exchange timestamps (int64 ns UTC), or None when empty.
    gaps
        Sequence gaps found (the loader's docstring gives the rule).
    crossed_rows, locked_rows
        Number of rows after which the book (as the source or a rebuild shows it)
        had best bid > best ask, or best bid == best ask.
    out_of_order_rows
        Rows whose exchange timestamp is below the previous row's, kept in venue
        sequence order (the loader's docstring says when that can happen).
    drops
        Rows left out, by reason.
    kept
        Rows kept although unusual, by reason (a quirk of the source that is not
        an error: a time rounded to the nanosecond, a duplicated line, ...), counted
        with example rows the same way as drops.
    inferred
        Facts the loader inferred instead of being told (:class:`Inferred`): the
        price grid, the lot, the market, the fees; with their basis and confidence.
    notes
        Free-text remarks (clock offsets, snapshot bridging, and so on).
    """

    source: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows: int = 0
    rows_by_kind: dict[str, int] = field(default_factory=dict)
    ts_first: int | None = None
    ts_last: int | None = None
    gaps: list[Gap] = field(default_factory=list)
    crossed_rows: int = 0
    locked_rows: int = 0
    out_of_order_rows: int = 0
    drops: dict[str, Drop] = field(default_factory=dict)
    kept: dict[str, Drop] = field(default_factory=dict)
    inferred: list[Inferred] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # -- recording -------------------------------------------------------------
    def drop(self, reason: str, file: str, row: int, count: int = 1) -> None:
        """Record ``count`` rows left out for ``reason``, with ``(file, row)`` as example."""
        _count(self.drops, reason, file, row, count)

    def keep(self, reason: str, file: str, row: int, count: int = 1) -> None:
        """Record ``count`` unusual rows kept for ``reason``, with ``(file, row)`` as example."""
        _count(self.kept, reason, file, row, count)

    def infer(self, fact: str, value: object, basis: str, confidence: str) -> None:
        """Record an inferred fact (see :class:`Inferred`); ``confidence`` from :data:`CONFIDENCE`."""
        if confidence not in CONFIDENCE:
            raise ValueError(f"confidence must be one of {CONFIDENCE}, was {confidence!r}")
        self.inferred.append(Inferred(fact, value, basis, confidence))

    def gap(self, file: str, row: int, field_name: str, expected: int, was: int) -> None:
        """Record a sequence gap."""
        self.gaps.append(Gap(file, int(row), field_name, int(expected), int(was)))

    @property
    def rows_dropped(self) -> int:
        """Total rows left out, over all reasons."""
        return sum(d.count for d in self.drops.values())

    # -- combining and serialising ---------------------------------------------
    @classmethod
    def merge(cls, reports: list["ValidationReport"], note: str | None = None) -> "ValidationReport":
        """Return one report adding up ``reports`` (files, counts, drops, kept rows, gaps).

        Spans take the earliest first and latest last timestamp; inferred facts and
        notes are concatenated; examples keep the first few over all reports.
        """
        sources = list(dict.fromkeys(r.source for r in reports))
        out = cls("+".join(sources))
        for r in reports:
            out.files += r.files
            out.rows_read += r.rows_read
            out.rows += r.rows
            for k, v in r.rows_by_kind.items():
                out.rows_by_kind[k] = out.rows_by_kind.get(k, 0) + v
            firsts = [t for t in (out.ts_first, r.ts_first) if t is not None]
            lasts = [t for t in (out.ts_last, r.ts_last) if t is not None]
            out.ts_first = min(firsts) if firsts else None
            out.ts_last = max(lasts) if lasts else None
            out.gaps += r.gaps
            out.crossed_rows += r.crossed_rows
            out.locked_rows += r.locked_rows
            out.out_of_order_rows += r.out_of_order_rows
            for mine, theirs in ((out.drops, r.drops), (out.kept, r.kept)):
                for reason, drop in theirs.items():
                    entry = mine.setdefault(reason, Drop(reason))
                    entry.count += drop.count
                    entry.examples = (entry.examples + drop.examples)[:_EXAMPLES]
            out.inferred += r.inferred
            out.notes += r.notes
        if note:
            out.notes.append(note)
        return out

    def to_json(self) -> dict[str, object]:
        """Return the report as plain JSON-able data (:meth:`from_json` reads it back)."""
        def reasons(d: dict[str, Drop]) -> list[dict[str, object]]:
            return [{"reason": x.reason, "count": x.count, "examples": [list(e) for e in x.examples]}
                    for x in d.values()]
        return {
            "source": self.source, "files": list(self.files), "rows_read": self.rows_read,
            "rows": self.rows, "rows_by_kind": dict(self.rows_by_kind),
            "ts_first": self.ts_first, "ts_last": self.ts_last,
            "gaps": [vars(g) for g in self.gaps],
            "crossed_rows": self.crossed_rows, "locked_rows": self.locked_rows,
            "out_of_order_rows": self.out_of_order_rows,
            "drops": reasons(self.drops), "kept": reasons(self.kept),
            "inferred": [{**vars(i), "value": _jsonable(i.value)} for i in self.inferred],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, d: dict[str, object]) -> "ValidationReport":
        """Rebuild a report written by :meth:`to_json` (older writes lack ``kept``/``inferred``)."""
        d = dict(d)

        def reasons(items: object) -> dict[str, Drop]:
            return {x["reason"]: Drop(x["reason"], x["count"], [tuple(e) for e in x["examples"]])
                    for x in (items or [])}  # type: ignore[union-attr]
        d["gaps"] = [Gap(**g) for g in d.get("gaps", [])]  # type: ignore[union-attr]
        d["drops"] = reasons(d.get("drops"))
        d["kept"] = reasons(d.get("kept"))
        d["inferred"] = [Inferred(**i) for i in d.get("inferred", [])]  # type: ignore[union-attr]
        return cls(**d)  # type: ignore[arg-type]

    # -- views -----------------------------------------------------------------
    def summary(self) -> dict[str, object]:
        """Return the report as a flat dict of headline figures."""
        span = None
        if self.ts_first is not None and self.ts_last is not None:
            span = pd.Timedelta(self.ts_last - self.ts_first, unit="ns")
        return {
            "source": self.source,
            "files": ", ".join(self.files),
            "rows_read": self.rows_read,
            "events": self.rows,
            "first (UTC)": None if self.ts_first is None else pd.Timestamp(self.ts_first, tz="UTC"),
            "last (UTC)": None if self.ts_last is None else pd.Timestamp(self.ts_last, tz="UTC"),
            "span": span,
            "sequence gaps": len(self.gaps),
            "crossed rows": self.crossed_rows,
            "locked rows": self.locked_rows,
            "out-of-order rows": self.out_of_order_rows,
            "rows dropped": self.rows_dropped,
            "rows kept with a quirk": sum(d.count for d in self.kept.values()),
            **{f"events {k}": v for k, v in sorted(self.rows_by_kind.items())},
        }

    def to_frame(self) -> pd.DataFrame:
        """Return the headline figures as a one-column DataFrame."""
        return pd.DataFrame({"value": pd.Series(self.summary(), dtype=object)})

    def drops_frame(self) -> pd.DataFrame:
        """Return the dropped rows by reason, with example locations."""
        return _reasons_frame(self.drops)

    def kept_frame(self) -> pd.DataFrame:
        """Return the rows kept with a quirk, by reason, with example locations."""
        return _reasons_frame(self.kept)

    def inferred_frame(self) -> pd.DataFrame:
        """Return the inferred facts (fact, value, basis, confidence)."""
        return pd.DataFrame([vars(i) for i in self.inferred],
                            columns=["fact", "value", "basis", "confidence"])

    def gaps_frame(self) -> pd.DataFrame:
        """Return the sequence gaps as a DataFrame."""
        return pd.DataFrame(
            [vars(g) for g in self.gaps], columns=["file", "row", "field", "expected", "was"]
        )

    def __str__(self) -> str:
        lines = [f"ValidationReport({self.source})"]
        lines += [f"  {k}: {v}" for k, v in self.summary().items()]
        lines += [f"  dropped {d.count} x {d.reason}" for d in self.drops.values()]
        lines += [f"  kept {d.count} x {d.reason}" for d in self.kept.values()]
        lines += [f"  inferred {i.fact} = {i.value} ({i.confidence}): {i.basis}"
                  for i in self.inferred]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [f"<b>Validation report: {html.escape(self.source)}</b>", self.to_frame().to_html()]
        if self.drops:
            parts.append(self.drops_frame().to_html(index=False))
        if self.kept:
            parts.append(self.kept_frame().to_html(index=False))
        if self.inferred:
            parts.append(self.inferred_frame().to_html(index=False))
        if self.gaps:
            parts.append(self.gaps_frame().head(20).to_html(index=False))
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        return "\n".join(parts)
