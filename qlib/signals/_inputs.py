"""Validation and conversion of the DataFrames the signal functions take.

Quotes come in two layouts, both accepted wherever the top of book is enough:

* the :func:`qlib.book.bbo` layout: ``ts_exch, bid_px, bid_qty, ask_px, ask_qty``;
* the LOBSTER orderbook layout of :func:`qlib.book.depth.depth_snapshots`:
  ``ts_exch, ask_px_1, ask_qty_1, bid_px_1, bid_qty_1, ...`` (an empty level has price
  NaN and quantity 0).

Trades are the tape of :func:`qlib.signals.trades`: ``ts_exch, price, qty, side, row``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qlib.errors import DataQualityError, InsufficientDataError, ParameterError, SchemaError
from qlib.signals._grid import as_ns

__all__ = ["Depth", "Quotes", "Tape", "depth_of", "prevailing", "quotes_of", "tape_of"]


@dataclass(frozen=True)
class Quotes:
    ts: np.ndarray
    bid_px: np.ndarray
    bid_qty: np.ndarray
    ask_px: np.ndarray
    ask_qty: np.ndarray
    index: pd.Index
    rows: np.ndarray | None  # event rows, when the index is the event row

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.bid_px + self.ask_px)


@dataclass(frozen=True)
class Depth:
    ts: np.ndarray
    bid_px: np.ndarray   # (n, levels); NaN for an empty level
    bid_qty: np.ndarray  # (n, levels); 0 for an empty level
    ask_px: np.ndarray
    ask_qty: np.ndarray
    index: pd.Index


@dataclass(frozen=True)
class Tape:
    ts: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    side: np.ndarray
    rows: np.ndarray | None
    index: pd.Index

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def _require_frame(df: object, name: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"{name} must be a pandas DataFrame, was {type(df).__name__}")
    return df


def _col(df: pd.DataFrame, c: str, name: str) -> np.ndarray:
    if c not in df.columns:
        raise SchemaError(f"{name} has no column {c!r} (columns were {list(df.columns)[:8]})")
    return df[c].to_numpy(dtype=np.float64)


def _ts(df: pd.DataFrame, name: str) -> np.ndarray:
    if "ts_exch" in df.columns:
        return as_ns(df["ts_exch"], name=f"{name}.ts_exch")
    if isinstance(df.index, pd.DatetimeIndex):
        return as_ns(df.index, name=f"{name}.index")
    raise SchemaError(f"{name} has no 'ts_exch' column nor a DatetimeIndex")


def _rows(df: pd.DataFrame) -> np.ndarray | None:
    if df.index.name == "row" and np.issubdtype(df.index.dtype, np.integer):
        return df.index.to_numpy(dtype=np.int64)
    return None


def quotes_of(quotes: object, name: str = "quotes", *, min_rows: int = 1) -> Quotes:
    """Top of book of a bbo- or LOBSTER-layout frame; raises on a crossed or empty side."""
    df = _require_frame(quotes, name)
    sfx = "" if "bid_px" in df.columns else "_1"
    q = Quotes(_ts(df, name), _col(df, "bid_px" + sfx, name), _col(df, "bid_qty" + sfx, name),
               _col(df, "ask_px" + sfx, name), _col(df, "ask_qty" + sfx, name), df.index,
               _rows(df))
    if len(q) < min_rows:
        raise InsufficientDataError(f"{name} had {len(q)} rows, needed at least {min_rows}")
    bad = ~(np.isfinite(q.bid_px) & np.isfinite(q.ask_px)) | (q.bid_qty <= 0) | (q.ask_qty <= 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise DataQualityError(f"{name} row {df.index[r]!r} has an empty side (bid {q.bid_px[r]}"
                               f" x {q.bid_qty[r]}, ask {q.ask_px[r]} x {q.ask_qty[r]}); "
                               "use qlib.book.bbo(), which leaves one-sided rows out", row=r)
    return q


def depth_of(depth: object, levels: int | None, name: str = "depth") -> Depth:
    """Levels ``1..levels`` of a LOBSTER-layout frame (all levels present when None)."""
    df = _require_frame(depth, name)
    have = 0
    while f"bid_px_{have + 1}" in df.columns and f"ask_px_{have + 1}" in df.columns:
        have += 1
    if levels is None:
        levels = have
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ParameterError(f"levels must be a positive int, was {levels!r}")
    if have < levels:
        raise SchemaError(f"{name} has {have} level(s) in LOBSTER layout (bid_px_1, ...), "
                          f"{levels} were asked for")
    cols = {c: np.column_stack([_col(df, f"{c}_{j}", name) for j in range(1, levels + 1)])
            for c in ("bid_px", "bid_qty", "ask_px", "ask_qty")}
    return Depth(_ts(df, name), cols["bid_px"], cols["bid_qty"], cols["ask_px"],
                 cols["ask_qty"], df.index)


def tape_of(trades: object, name: str = "trades", *, min_rows: int = 1,
            need_side: bool = False) -> Tape:
    """Arrays of a tape frame (:func:`qlib.signals.trades`)."""
    df = _require_frame(trades, name)
    side = (df["side"].to_numpy().astype(np.int8) if "side" in df.columns
            else np.zeros(len(df), np.int8))
    if need_side and "side" not in df.columns:
        raise SchemaError(f"{name} has no column 'side'")
    rows = df["row"].to_numpy(dtype=np.int64) if "row" in df.columns else None
    t = Tape(_ts(df, name), _col(df, "price", name), _col(df, "qty", name), side, rows,
             df.index)
    if len(t) < min_rows:
        raise InsufficientDataError(f"{name} had {len(t)} trades, needed at least {min_rows}")
    return t


def prevailing(q: Quotes, t: Tape) -> np.ndarray:
    """Index into ``q`` of the quote prevailing just before each trade; -1 when none.

    Matched by event row when both frames carry it (exact: the book after the event
    before the trade), else by time, strictly before the trade's ``ts_exch``.
    """
    if q.rows is not None and t.rows is not None:
        return np.searchsorted(q.rows, t.rows, side="left").astype(np.int64) - 1
    return np.searchsorted(q.ts, t.ts, side="left").astype(np.int64) - 1


def as_of(q: Quotes, ts: np.ndarray) -> np.ndarray:
    """Index into ``q`` of the last quote with ``ts_exch <= ts``; -1 when none."""
    return np.searchsorted(q.ts, ts, side="right").astype(np.int64) - 1
