"""The validation report every loader returns beside its events.

Nothing a loader reads is dropped silently: every dropped row is counted here under
its reason (with the first few row numbers as examples), every sequence gap is
listed, and the book states seen (crossed, locked) are counted.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["ValidationReport", "Gap", "Drop"]

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
    notes: list[str] = field(default_factory=list)

    # -- recording -------------------------------------------------------------
    def drop(self, reason: str, file: str, row: int, count: int = 1) -> None:
        """Record ``count`` rows left out for ``reason``, with ``(file, row)`` as example."""
        entry = self.drops.setdefault(reason, Drop(reason))
        entry.count += count
        if len(entry.examples) < _EXAMPLES:
            entry.examples.append((file, int(row)))

    def gap(self, file: str, row: int, field_name: str, expected: int, was: int) -> None:
        """Record a sequence gap."""
        self.gaps.append(Gap(file, int(row), field_name, int(expected), int(was)))

    @property
    def rows_dropped(self) -> int:
        """Total rows left out, over all reasons."""
        return sum(d.count for d in self.drops.values())

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
            **{f"events {k}": v for k, v in sorted(self.rows_by_kind.items())},
        }

    def to_frame(self) -> pd.DataFrame:
        """Return the headline figures as a one-column DataFrame."""
        return pd.DataFrame({"value": pd.Series(self.summary(), dtype=object)})

    def drops_frame(self) -> pd.DataFrame:
        """Return the dropped rows by reason, with example locations."""
        return pd.DataFrame(
            [
                {"reason": d.reason, "count": d.count,
                 "examples": "; ".join(f"{f}:{r}" for f, r in d.examples)}
                for d in self.drops.values()
            ],
            columns=["reason", "count", "examples"],
        )

    def gaps_frame(self) -> pd.DataFrame:
        """Return the sequence gaps as a DataFrame."""
        return pd.DataFrame(
            [vars(g) for g in self.gaps], columns=["file", "row", "field", "expected", "was"]
        )

    def __str__(self) -> str:
        lines = [f"ValidationReport({self.source})"]
        lines += [f"  {k}: {v}" for k, v in self.summary().items()]
        lines += [f"  dropped {d.count} x {d.reason}" for d in self.drops.values()]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [f"<b>Validation report: {html.escape(self.source)}</b>", self.to_frame().to_html()]
        if self.drops:
            parts.append(self.drops_frame().to_html(index=False))
        if self.gaps:
            parts.append(self.gaps_frame().head(20).to_html(index=False))
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        return "\n".join(parts)
