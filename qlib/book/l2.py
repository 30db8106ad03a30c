r"""The jitted price-level (L2) book: a dense window around the touch, a sorted overflow.

:class:`L2Book` holds, per side, every price level of a book (absolute quantity at a
price). :func:`replay_l2` applies an :data:`qlib.dtypes.EVENT_DTYPE` array to one and
returns every level per side; :func:`level_qty` reads one level, from Python or from
inside another ``@njit`` kernel. :func:`qlib.book.depth_snapshots`,
:func:`qlib.book.replay_bbo`, :func:`qlib.book.bbo` and :func:`qlib.book.count_crossed`
all run on this book. Event semantics (``DEPTH``/``SNAPSHOT``/``CLEAR`` and the L3 kinds
aggregated by price) are those of :mod:`qlib.book.replay`.

Data structure
--------------
Prices become *keys*, ``key = px_tick`` for bids and ``-px_tick`` for asks, so on both
sides the best level is the largest key. Each side keeps

* a **window**: a dense ring of ``W`` float64 quantities (``W`` a power of two,
  65,536 by default: 512 KiB a side) for the keys ``lo <= key < lo + W``, slot
  ``key & (W - 1)``, 0.0 meaning "no level"; the best key is stored beside it;
* an **overflow**: the levels below the window (further from the touch), a sorted
  array searched by bisection, the level nearest the window last.

Invariants: the best level of a non-empty side is in its window, so no level lies
above the window, and every level below it is in the overflow. A ``DEPTH`` update
inside the window (the common case) is one store plus a compare with the best:
:math:`O(1)`, no search, no shift. The window moves only when the touch leaves it:

* a new best above the window moves the window up so the best sits ``W/8`` below its
  top (the levels it leaves go to the end of the overflow, in order: :math:`O(d)` for a
  move of ``d`` keys, at most once per ``W/8`` ticks of touch movement);
* when the best level is removed, the next one is found by scanning the ring
  downwards (then the overflow's last entry); if it lies within ``W/8`` of the window
  start, the window moves down to put it ``W/8`` below the top again, taking the
  overflow levels it now covers (they are at the overflow's end: :math:`O(1)` each).

Levels far from the touch (the 1,000 USDT bid beside a 62,000 USDT mid with a 0.1 tick,
600,000 ticks away) cost one overflow entry, whatever the price range. An update to
one costs a branch-free bisection; an insert or removal also moves the overflow
entries between it and the window (one ``llvm.memmove`` per array).
The overflow is allocated with room for ``W`` more levels beyond those in use; a
kernel returns ``CAPACITY`` *before* touching an event when that room would run out,
and the wrapper doubles it and resumes: the kernels never allocate.

Reading the top ``N`` levels walks the ring from the best key down (skipping empty
ticks), then the overflow from its end; reading the BBO is two loads.

Measured alternatives (``benchmarks/bench_l2.py``; the table is in
``benchmarks/RESULTS.md``): the first-version sorted array per side
(``tests/oracle/sorted_book.py``, kept as the test oracle; 171 ns/event on the
COIN-M session), a typed-dict book with best tracking and a rescan when the best
empties (42 ns), a dense array over the whole observed price range (3 ns, but its
memory grows with the range: gigabytes for a spot book with a 0.01 tick), and this
book for ``W`` from 4,096 to 262,144. On the Binance sessions a narrow window sends
many updates to the overflow (Binance diffs touch all 1,000 snapshot levels; p90 of
the distance to the touch ~6,000 ticks on USD-M, more on spot's 0.01 tick), whose
inserts and removals shift entries: at ``W = 4096`` 26-170 ns/event, at ``W = 65536``
6-19 ns/event. 65,536 is the default: 1 MiB for both rings, near-touch updates stay
in cache, and the rare far updates (the 1,000 USDT bid) still cost only an overflow
entry.

Performance notes (measured while building it): a jitted helper taking the book,
or its arrays, *inlined* into the per-event loop cost 18-55 ns/event in reference
counting; the in-window ``DEPTH`` update is therefore written out flat in
:func:`qlib.book._l2_kernels.replay`, the side is decoded branch-free (a branch on an
unpredictable side mispredicts), and ``TRADE``/``QUOTE`` rows are skipped in the loop
itself (a call per row cost ~65 ns). Cold paths (a key above the window, the best
removed with no level left near it) are ordinary calls, paid only when taken.

Second round (counted per path with ``benchmarks/bench_l2.py``): on the Binance
sessions only 1-5 % of the events reach the overflow, but they cost ~270 ns each
(a call through the book, a branchy bisection, and an element-by-element shift of
~100-220 entries that LLVM does not vectorise: 0.44 ns per entry per array), i.e.
more than half the time on spot and USD-M. The overflow update is now written out in
the loop too, with a branch-free bisection and ``llvm.memmove`` for the shift (~90 ns
each). In the window path the three validity branches became one (bitwise tests,
-1 ns/event), the two per-event output tests one compare against the next row to
write, and the ``CAPACITY`` test moved from every event to the paths that can grow
the overflow (an insert below the window, a move up, the other kinds). Storing the
best with a select on every event instead of the "at or above the best" branch was
measured 1.6 ns/event *slower* (a store-to-load chain across events).

References
----------
.. [1] Gould, M. D., Porter, M. A., Williams, S., McDonald, M., Fenn, D. J. and
   Howison, S. D. (2013). Limit order books. Quantitative Finance, 13(11), 1709-1742.
.. [2] Nakagawa, K. (2024). hftbacktest: ``HashMapMarketDepth`` and ``ROIVectorMarketDepth``
   (a dense vector over a range of interest). https://github.com/nkaz001/hftbacktest
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.typed import Dict

from qlib.book import _l2_kernels as _k
from qlib.dtypes import EVENT_DTYPE, require_dtype
from qlib.enums import EventKind, Side, Status
from qlib.errors import DataQualityError, ParameterError

__all__ = ["DEFAULT_WINDOW", "L2Book", "L2Replay", "level_qty", "new_l2_book", "replay_l2"]

#: Default window width in ticks (a power of two).
DEFAULT_WINDOW = 65536

_ORDER_VALUE = types.Tuple((types.int64, types.int64, types.float64))

#: The jitted reader, usable inside other ``@njit`` kernels: ``level_qty(book, side, px_tick)``.
level_qty = _k.level_qty


class L2Book(NamedTuple):
    """State of a price-level book: a NamedTuple of arrays, passed whole to kernels.

    Build it with :func:`new_l2_book`. Fields (side index 0 = bids, 1 = asks):

    Attributes
    ----------
    win
        float64 ``(2, W)``: the ring of level quantities around the touch.
    ovf_key, ovf_qty
        int64 / float64 ``(2, cap)``: levels below the window, keys ascending.
    hdr
        int64 ``(2, 3)``: window start key, best key, overflow levels in use.
    stats
        int64 ``(4,)``: unknown L3 orders, clamped levels, window moves up, down.

    Notes
    -----
    Inside a kernel read it with :func:`level_qty` and the helpers of
    :mod:`qlib.book._l2_kernels` (``best_px``, ``top_levels``); from Python with the
    methods below.
    """

    win: np.ndarray
    ovf_key: np.ndarray
    ovf_qty: np.ndarray
    hdr: np.ndarray
    stats: np.ndarray

    @property
    def window(self) -> int:
        """Window width ``W`` in ticks."""
        return int(self.win.shape[1])

    def levels(self, side: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(px_tick int64, qty float64)`` of every level of ``side``, best first."""
        s = _side_index(side)
        n = int(_k.n_levels(self, s))
        px = np.empty(n, dtype=np.int64)
        qty = np.empty(n, dtype=np.float64)
        _k.side_levels(self, s, px, qty)
        return px, qty

    def level_qty(self, side: int, px_tick: int) -> float:
        """Return the quantity at ``px_tick`` on ``side`` (0.0 when there is no level)."""
        _side_index(side)
        return float(_k.level_qty(self, np.int64(side), np.int64(px_tick)))

    def best(self, side: int) -> tuple[int, float]:
        """Return ``(px_tick, qty)`` of the best level of ``side``; ``(0, 0.0)`` if empty."""
        _side_index(side)
        px, q = _k.best_px(self, np.int64(side))
        return int(px), float(q)


def _side_index(side: int) -> int:
    if side == Side.BUY:
        return 0
    if side == Side.SELL:
        return 1
    raise ParameterError(f"side must be Side.BUY (1) or Side.SELL (-1), was {side!r}")


def new_l2_book(window: int = DEFAULT_WINDOW, capacity: int | None = None) -> L2Book:
    """Return an empty :class:`L2Book`.

    Parameters
    ----------
    window
        Width ``W`` of the dense window in ticks; a power of two >= 16.
    capacity
        Initial overflow capacity per side (levels); grown on demand. At least
        ``window + 64``; default ``2 * window``.

    Raises
    ------
    ParameterError
        If ``window`` is not a power of two >= 16.
    """
    if not isinstance(window, (int, np.integer)) or window < 16 or window & (window - 1):
        raise ParameterError(f"window must be a power of two >= 16, was {window!r}")
    cap = max(int(capacity or 2 * window), int(window) + 64)
    hdr = np.zeros((2, _k.N_HDR), dtype=np.int64)
    hdr[:, _k.H_BEST] = _k.EMPTY
    return L2Book(
        win=np.zeros((2, int(window)), dtype=np.float64),
        ovf_key=np.zeros((2, cap), dtype=np.int64),
        ovf_qty=np.zeros((2, cap), dtype=np.float64),
        hdr=hdr,
        stats=np.zeros(_k.N_STATS, dtype=np.int64),
    )


def grow(book: L2Book) -> L2Book:
    """Return ``book`` with its overflow capacity doubled (the same levels)."""
    cap = 2 * book.ovf_key.shape[1]
    key = np.zeros((2, cap), dtype=np.int64)
    qty = np.zeros((2, cap), dtype=np.float64)
    key[:, : book.ovf_key.shape[1]] = book.ovf_key
    qty[:, : book.ovf_qty.shape[1]] = book.ovf_qty
    return book._replace(ovf_key=key, ovf_qty=qty)


@njit(cache=True)
def _empty_orders():
    return Dict.empty(key_type=types.uint64, value_type=_ORDER_VALUE)


def new_orders() -> Dict:
    """Empty L3 order map ``order_id -> (side, px_tick, qty)`` for the L3 kinds.

    Made by a cached jitted factory: ``Dict.empty`` called from Python compiles numba's
    dictionary helpers again in every process (about 0.2 s of a first backtest measured
    on this project's 2-core Xeon), the factory loads them from the disk cache.
    """
    return _empty_orders()


def raise_status(events: np.ndarray, status: int, row: int) -> None:
    """Raise the :class:`DataQualityError` of a kernel's ``(status, row)``."""
    ev = events[row]
    status = Status(int(status))
    if status in (Status.NEGATIVE_QTY, Status.NON_FINITE):
        field, value = "qty", float(ev["qty"])
    elif status == Status.DUPLICATE_ORDER:
        field, value = "order_id", int(ev["order_id"])
    elif status == Status.CROSSED:
        field, value = "px_tick", int(ev["px_tick"])
    else:
        field, value = "kind/side", (int(ev["kind"]), int(ev["side"]))
    what = " (snapshot leaves best bid >= best ask)" if status == Status.CROSSED else ""
    raise DataQualityError(
        f"book replay stopped with {status.name}{what}: kind={_kind_name(ev['kind'])},"
        f" side={int(ev['side'])}, px_tick={int(ev['px_tick'])}, qty={float(ev['qty'])!r},"
        f" order_id={int(ev['order_id'])}, seq={int(ev['seq'])}, ts_exch={int(ev['ts_exch'])}",
        row=int(row), field=field, value=value,
    )


def _kind_name(k: int) -> str:
    try:
        return EventKind(int(k)).name
    except ValueError:
        return str(int(k))


@dataclass
class L2Replay:
    """What :func:`replay_l2` returns.

    Attributes
    ----------
    bids, asks
        Every level of the final book: ``(px_tick int64, qty float64)``, best first.
    book
        The final :class:`L2Book` (for :func:`level_qty` and further events).
    orders_resting
        L3 orders resting at the end (0 for a pure L2 stream).
    unknown_orders, clamped_levels
        As in :class:`qlib.book.BookReplay`.
    """

    bids: tuple[np.ndarray, np.ndarray]
    asks: tuple[np.ndarray, np.ndarray]
    book: L2Book
    orders_resting: int
    unknown_orders: int
    clamped_levels: int


def apply(events: np.ndarray, book: L2Book, orders: Dict, start: int = 0) -> L2Book:
    """Apply ``events[start:]`` to ``book`` in place (growing it if needed); return it.

    Raises
    ------
    DataQualityError
        On the first impossible event (see :mod:`qlib.book.replay`).
    """
    row = start
    while True:
        status, row = _k.apply_events(events, row, book, orders)
        if status != Status.CAPACITY:
            break
        book = grow(book)
    if status != Status.OK:
        raise_status(events, status, row)
    return book


def replay_l2(events: np.ndarray, *, window: int = DEFAULT_WINDOW) -> L2Replay:
    """Replay events into an L2 book; return every level per side at the end.

    Parameters
    ----------
    events
        :data:`qlib.dtypes.EVENT_DTYPE` array in venue sequence order. L2 kinds set
        levels; L3 kinds are aggregated by price (see :mod:`qlib.book.replay`).
    window
        Width of the dense window in ticks (a power of two); a tuning knob only, the
        result does not depend on it.

    Returns
    -------
    L2Replay
        ``bids``/``asks`` as ``(px_tick, qty)`` arrays, best first, and the book.

    Raises
    ------
    SchemaError
        If ``events`` is not an EVENT_DTYPE array.
    DataQualityError
        On the first impossible event: negative or non-finite quantity, a snapshot
        that leaves the book crossed or locked (``CROSSED``), an unknown kind or side,
        a duplicate L3 order id. The error names the row.

    Examples
    --------
    >>> from qlib.dtypes import empty_events
    >>> ev = empty_events(3)
    >>> ev["kind"] = EventKind.DEPTH; ev["side"] = [1, 1, -1]
    >>> ev["px_tick"] = [99, 10, 101]; ev["qty"] = [2.0, 5.0, 3.0]
    >>> r = replay_l2(ev)
    >>> r.bids[0].tolist(), r.asks[0].tolist(), level_qty(r.book, 1, 10)
    ([99, 10], [101], 5.0)
    """
    require_dtype(events, EVENT_DTYPE, name="events")
    book = new_l2_book(window)
    orders = new_orders()
    book = apply(events, book, orders)
    return L2Replay(
        bids=book.levels(Side.BUY),
        asks=book.levels(Side.SELL),
        book=book,
        orders_resting=len(orders),
        unknown_orders=int(book.stats[_k.STAT_UNKNOWN_ORDER]),
        clamped_levels=int(book.stats[_k.STAT_CLAMPED]),
    )
