"""The orderbook-file pass of the LOBSTER loader: the book before message 0 and the resync.

:func:`book_before_first_message` undoes message 0 on orderbook row 0 (the snapshot the
events start from, written by :func:`write_snapshot`); :func:`scan_orderbook` streams the
orderbook file, checks its level 1 and, under ``resync``, runs :class:`Resync`: the
library's L2 book (:class:`qlib.book.L2Book`, updated by
:func:`qlib.data._lobster_kernels.resync_block` through :mod:`qlib.book.nb`) follows the
messages and the kernel writes the ``DEPTH | RESYNC`` corrections that keep it equal to
each orderbook row; :func:`note_resync` counts them in the report. The public wrapper is
:func:`qlib.data.lobster.load_lobster`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qlib.book.l2 import L2Book, grow, new_l2_book
from qlib.data import _lobster_kernels as _k
from qlib.data._lobster_io import (
    ASK_EMPTY,
    BID_EMPTY,
    BLOCK_BYTES,
    PRICE_SCALE,
    Layout,
    Member,
    check_level1,
    ob_kinds,
    orderbook_error,
    read_blocks,
)
from qlib.data.report import ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import DataQualityError

#: Window of the resync book in keys (steps of the price grid: 40.96 dollars at a
#: one-cent grid) around the touch, held densely; the levels further away are in its
#: sorted overflow.
RESYNC_WINDOW = 4096

_BOOK_KINDS = {int(EventKind.ADD), int(EventKind.CANCEL), int(EventKind.DELETE),
               int(EventKind.EXECUTE)}


def gcd_of(prices: np.ndarray, g: int = 0) -> int:
    """gcd of ``g`` and the positive prices (empty-level prices left out)."""
    v = prices[(prices > 0) & (prices != ASK_EMPTY)]
    return int(np.gcd.reduce(np.append(v, g))) if v.size else g


class Resync:
    """State of the resync pass of :func:`qlib.data.lobster.load_lobster`.

    Holds the replayed book (a :class:`qlib.book.L2Book` whose keys are steps of the
    price grid ``state[ST_GRID]``, in LOBSTER units), the corrections written so far,
    where each goes, and the counters by reason; grows the buffers and re-keys the book
    on a finer grid when the kernel asks.
    """

    def __init__(self, msgs: np.ndarray, dup_rows: np.ndarray, bids: list, asks: list,
                 levels: int) -> None:
        self.msgs, self.dup_rows, self.levels = msgs, dup_rows, levels
        self.dup_fate = np.zeros(dup_rows.shape[0], dtype=np.int64)
        self.prev_row = np.zeros(4 * levels, dtype=np.int64)
        self.state = np.zeros(_k.N_STATE, dtype=np.int64)
        grid = gcd_of(np.array([px for px, _ in (*bids, *asks)], dtype=np.int64))
        self.book = self._new_book(len(bids) + len(asks))
        self._fill(grid, [(px, qty) for px, qty in bids], [(px, qty) for px, qty in asks])
        n_corr = max(1024, msgs.shape[0] // 16)  # doubled on demand
        self.corr = empty_events(n_corr)
        self.corr_after = np.zeros(n_corr, dtype=np.int64)

    @property
    def n_corr(self) -> int:
        return int(self.state[_k.ST_N_CORR])

    def _new_book(self, n_levels: int) -> L2Book:
        # room for a window moved into the overflow, the levels and a row's new ones
        cap = 2 * RESYNC_WINDOW + 256 + 4 * (n_levels + self.levels)
        return new_l2_book(RESYNC_WINDOW, cap)

    def _fill(self, grid: int, bids: list, asks: list) -> None:
        """Set the levels ``[(price, qty)]`` (LOBSTER units) on keys of ``grid`` units."""
        self.state[_k.ST_GRID] = grid
        for s, lv in ((0, bids), (1, asks)):
            for px, qty in lv:
                key = px // grid
                _k.set_book_level(self.book, self.state, s, np.int64(key if s == 0 else -key),
                                  float(qty))

    def _regrid(self, ob_row: np.ndarray, ev: np.void) -> None:
        """Re-key the book on the gcd of its grid and the prices of a row and its message."""
        old = int(self.state[_k.ST_GRID])
        prices = ob_row[0::2]  # every ask and bid price of the row
        if int(ev["kind"]) in _BOOK_KINDS:
            prices = np.append(prices, ev["px_tick"])
        grid = gcd_of(prices, old)  # leaves out the empty-level prices
        levels = [self.book.levels(side) for side in (Side.BUY, Side.SELL)]
        self.state[_k.ST_LEVELS_BID:_k.ST_LEVELS_ASK + 1] = 0
        self.book = self._new_book(sum(px.size for px, _ in levels))
        self._fill(grid, *[list(zip((px * old).tolist(), qty.tolist())) for px, qty in levels])

    def run(self, ob: np.ndarray, row0: int, label: str, line0: int) -> None:
        """Resync the book against orderbook rows ``row0 ..``; raise on a bad row."""
        start = 0
        while True:
            status, row, col = _k.resync_block(
                ob, row0, start, self.msgs, self.dup_rows, self.dup_fate, self.prev_row,
                self.book, self.corr, self.corr_after, self.state, self.levels, ASK_EMPTY,
                BID_EMPTY)
            if status != Status.CAPACITY:
                break
            start = int(row)
            if col == _k.REGRID:
                self._regrid(ob[int(row)], self.msgs[int(self.state[_k.ST_NEXT_EVENT])])
            elif col == _k.GROW_BOOK:
                self.book = grow(self.book)
            else:
                n = self.corr.shape[0] * 2
                self.corr = np.concatenate([self.corr, empty_events(n - self.corr.shape[0])])
                self.corr_after = np.concatenate(
                    [self.corr_after, np.zeros(n - self.corr_after.shape[0], dtype=np.int64)])
        if status != Status.OK:
            raise orderbook_error(Status(status), ob, int(row), int(col), row0, label, line0)


def scan_orderbook(member: Member, layout: Layout, levels: int, n_msg: int,
                   resync: Resync | None,
                   on_quirk: Callable[[str, int, int, str], None]
                   ) -> tuple[int, int, int, int]:
    """Stream the orderbook file: return ``(rows, crossed, locked, price_gcd)``.

    Without ``resync`` only the level-1 columns are converted; with it every column
    is, and each block goes through :meth:`Resync.run` (rows beyond ``n_msg`` are
    only counted, for the row-count error). Raises on bad rows.
    """
    names, kinds = ob_kinds(levels)
    use = names if resync is not None else names[:4]
    rows = crossed = locked = 0
    g = 0
    # every column is converted under resync: quarter-size pieces keep the parsed
    # columns (8 bytes a field) small; on GOOG L10, 1 MiB pieces raised the peak RSS
    # of the load from 2.5x to 3.6x the event array, 256 KiB cost ~10 ms
    block = BLOCK_BYTES if resync is None else BLOCK_BYTES // 4
    for cols, _ in read_blocks(member, layout, names, kinds, use, block,
                               on_quirk=on_quirk):
        ask_px, ask_sz, bid_px, bid_sz = cols[:4]
        check_level1(ask_px, ask_sz, bid_px, bid_sz, rows, member.label, layout.line0)
        c, lk = _k.count_crossed_locked(ask_px, bid_px, ASK_EMPTY, BID_EMPTY)
        crossed += int(c)
        locked += int(lk)
        n = ask_px.shape[0]
        usable = min(n, n_msg - rows)
        if resync is not None and usable > 0:
            ob = np.empty((usable, 4 * levels), dtype=np.int64)
            for i in range(4 * levels):
                ob[:, i] = cols[i][:usable]
            resync.run(ob, rows, member.label, layout.line0)
        elif resync is None:
            g = gcd_of(bid_px, gcd_of(ask_px, g))
        rows += n
    if resync is not None:
        g = int(resync.state[_k.ST_PRICE_GCD])
    return rows, crossed, locked, g


# --------------------------------------------------------------------------- snapshot
def book_before_first_message(row0: list[int], levels: int, first: np.void, label: str,
                               line0: int) -> tuple[list, list]:
    """Return ``(bids, asks)`` as ``[(price, qty)]`` in LOBSTER units, best first, before message 0.

    Starts from orderbook row 0 (the book *after* message 0) and undoes message 0:
    an ADD is subtracted, a CANCEL/DELETE/EXECUTE is added back (re-creating a
    level it emptied); TRADE and halt messages change nothing.
    """
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    level_of: dict[tuple[int, int], int] = {}  # (side, price) -> 1-based level in row 0
    where = f" (line {line0})"
    for lvl in range(levels):
        ap, asz, bp, bsz = row0[4 * lvl: 4 * lvl + 4]
        for book, px, sz, empty, name in ((asks, ap, asz, ASK_EMPTY, "ask"),
                                          (bids, bp, bsz, BID_EMPTY, "bid")):
            if px == empty:
                if sz != 0:
                    raise DataQualityError(
                        f"{name}_size_{lvl + 1} was {sz} beside the empty-level price {px},"
                        f" expected 0{where}",
                        file=label, row=0, field=f"{name}_size_{lvl + 1}", value=sz)
                continue
            if px <= 0:
                raise DataQualityError(
                    f"{name}_price_{lvl + 1} {px} is not a positive price{where}",
                    file=label, row=0, field=f"{name}_price_{lvl + 1}", value=px)
            if sz <= 0:
                raise DataQualityError(f"{name}_size_{lvl + 1} was {sz}, expected > 0{where}",
                                       file=label, row=0, field=f"{name}_size_{lvl + 1}",
                                       value=sz)
            book[px] = book.get(px, 0) + sz
            level_of[(Side.BUY if name == "bid" else Side.SELL, px)] = lvl + 1
    kind = int(first["kind"])
    side = int(first["side"])
    px = int(first["px_tick"])
    qty = int(first["qty"])
    book = bids if side == Side.BUY else asks
    if kind == EventKind.ADD:
        have = book.get(px, 0)
        if have < qty:
            name = "bid" if side == Side.BUY else "ask"
            lvl = level_of.get((side, px))
            raise DataQualityError(
                f"orderbook row 0 shows {have} shares at {px / PRICE_SCALE:.6g} on the {name}"
                f" side, but message 0 added {qty} there; the files do not belong together"
                f"{where}",
                file=label, row=0, field=f"{name}_size_{lvl}" if lvl else f"{name}_price_1",
                value=have)
        if have == qty:
            del book[px]
        else:
            book[px] = have - qty
    elif kind in (EventKind.CANCEL, EventKind.DELETE, EventKind.EXECUTE):
        book[px] = book.get(px, 0) + qty
    return sorted(bids.items(), reverse=True), sorted(asks.items())


def write_snapshot(out: np.ndarray, bids: list, asks: list, ts_exch: int, ts_local: int) -> None:
    """Write CLEAR then one SNAPSHOT per level into ``out`` (length 1 + levels)."""
    out["ts_exch"] = ts_exch
    out["ts_local"] = ts_local
    out["seq"] = -1
    out["order_id"] = 0
    out["flags"] = int(EventFlag.SNAPSHOT | EventFlag.TS_LOCAL_SYNTH)
    out["kind"][0] = EventKind.CLEAR
    out["side"][0] = Side.NONE
    out["px_tick"][0] = 0
    out["qty"][0] = 0.0
    i = 1
    for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
        for px, qty in levels:
            out["kind"][i] = EventKind.SNAPSHOT
            out["side"][i] = side
            out["px_tick"][i] = px
            out["qty"][i] = qty
            i += 1
    out["flags"][-1] |= int(EventFlag.LAST)


def note_resync(report: ValidationReport, provenance: dict, state: np.ndarray,
                 levels: int) -> None:
    """Record the resync corrections by reason in the report notes and provenance."""
    c = {name: int(state[i]) for name, i in (
        ("visible_qty", _k.ST_VISIBLE_QTY), ("visible_missing", _k.ST_VISIBLE_MISSING),
        ("stale_inside", _k.ST_STALE_INSIDE), ("stale_better", _k.ST_STALE_BETTER),
        ("stale_short", _k.ST_STALE_SHORT), ("clamped", _k.ST_CLAMPED))}
    visible = c["visible_qty"] + c["visible_missing"]
    stale = c["stale_inside"] + c["stale_better"] + c["stale_short"]
    provenance["resync_corrections"] = {"visible_level_corrected": visible,
                                        "stale_level_removed": stale, **c}
    report.notes.append(
        f"resync: {visible + stale} DEPTH|RESYNC corrections from the orderbook file"
        f" (visible level corrected: {visible} = {c['visible_qty']} quantity differed +"
        f" {c['visible_missing']} level missing; stale level removed: {stale} ="
        f" {c['stale_inside']} inside the top-{levels} window + {c['stale_better']} better"
        f" than the file's best + {c['stale_short']} on a side showing fewer than"
        f" {levels} levels)")
    if c["clamped"]:
        report.notes.append(
            f"resync: {c['clamped']} messages removed more than the book held at their"
            " price (level taken to 0, then set from the orderbook row)")


