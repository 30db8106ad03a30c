r"""An order-level (L3) book: every resting order, its price level and its place in the queue.

:class:`L3Book` applies :data:`qlib.dtypes.EVENT_DTYPE` arrays (LOBSTER, Databento MBO,
the simulated market) order by order and answers "how much is ahead of order X" in
one call. The kernels are in :mod:`qlib.book._l3_kernels` (applying events) over
:mod:`qlib.book._l3_store` (the layout, order-id map, levels and queues; re-exported by
``_l3_kernels``); the matching engine (:mod:`qlib.book.matching`) runs on the same state.

Data structure
--------------
* **Order pool** (:data:`qlib.dtypes.L3_SLOT_DTYPE`): fixed-capacity slots, each a
  queue entry with ``next``/``prev`` links forming an intrusive doubly linked FIFO
  list per price level; unused slots form a free list. Removing any order is
  :math:`O(1)` once its slot is known.
* **Order-id map**: open addressing with linear probing in two power-of-two int
  arrays (Fibonacci hashing, backward-shift deletion, load <= 1/2): about 2-3 probes
  a lookup, no typed ``Dict`` in the hot path.
* **Price levels** (:data:`qlib.dtypes.L3_LEVEL_DTYPE`): slots holding head, tail,
  entry count, total and anonymous quantity; per side a sorted key array (best
  last, as in :mod:`qlib.book.replay`) maps price to level slot. A lookup gallops
  from the best end (1, 2, 4, ... levels back), then bisects, so an event at the touch
  costs one or two comparisons and a far level :math:`O(\log n)`; inserting or
  removing a level shifts only the levels between it and the touch. Memory follows
  the number of levels, not the price range.
* **Queue position** walks the level's list from its head to the order,
  :math:`O(k)` in the entries ahead. Cumulative counters would make the read
  :math:`O(1)` but every removal :math:`O(k)` (each entry behind it changes), and
  removals are most of the messages; ``benchmarks/bench_l3.py`` measures the walk.

Event semantics (:class:`qlib.enums.EventKind`)
-----------------------------------------------
* ``ADD`` and ``SNAPSHOT`` with ``order_id != 0``: a new order at the tail of its level.
* ``CANCEL`` (``qty`` removed), ``EXECUTE`` (``qty`` traded), ``DELETE`` (the whole
  remainder). An ``EXECUTE`` of an order that is not first in its queue first moves
  it to the front (price-time priority says everything ahead of it is gone), counted
  in ``stats["exec_not_head"]``; 0 on the Databento, LOBSTER and simulated data.
* ``MODIFY`` (absolute price and remaining quantity, Databento ``M``): quantity down
  at the same price keeps the order's place; a price change or a quantity increase
  sends it to the back of the (new) level, as CME and Databento define it.
* ``DEPTH`` and ``SNAPSHOT`` with ``order_id == 0`` (L2): see *Unknown liquidity*.
* ``CLEAR`` empties one side (both for ``Side.NONE``); ``TRADE``, ``QUOTE``, ``HALT``
  and ``RESUME_*`` change nothing (a LOBSTER hidden execution, type 5, is a ``TRADE``
  and touches no visible order; a halt leaves the book as it is).

Unknown liquidity (LOBSTER)
---------------------------
LOBSTER gives the day's first book as L2 levels (``SNAPSHOT`` with ``order_id`` 0) and
adds ``DEPTH | RESYNC`` corrections for changes its ``L``-level message file omits.
The book holds such liquidity as **anonymous blocks**: queue entries with
``order_id`` 0 and ``anonymous == 1`` that take their place in the FIFO like orders:

* an L2 snapshot level or a ``DEPTH`` that *raises* a level's total appends the rise
  as an anonymous block at the **tail** (merged with a tail block). LOBSTER omits
  only messages at levels outside the top ``L``; while a level is inside the window
  every add there is in the file, so liquidity discovered later was added later
  than every identified order of that level;
* a ``DEPTH`` that *lowers* a total takes the difference from the tail backwards
  (anonymous blocks and identified orders alike; an identified order removed or cut
  this way is counted in ``stats["trimmed"]``); ``qty == 0`` removes the level;
* a ``CANCEL``/``DELETE`` naming an unknown id takes its quantity from the last
  anonymous block of its price, an ``EXECUTE`` from the first (the oldest trades
  first); then, if the blocks hold too little, from identified orders at the tail;
  quantity not found at all is counted in ``stats["clamped"]``;
* a ``CANCEL``/``EXECUTE``/``DELETE`` of a known order that names more than it holds
  takes the excess the same way; a ``DELETE`` naming less leaves the difference as
  anonymous quantity at the tail.

So every level total follows the price-aggregation rule the loader's resync uses,
and replaying LOBSTER's events gives the orderbook file's totals at every level
(``tests/unit/book/test_l3_realdata.py``). Queue positions: with no anonymous
quantity at the level (Databento, the simulator, the matching engine) they are
**exact**. On LOBSTER data ``queue_position(x).ahead`` is an **upper bound** on the
quantity truly ahead of ``x`` (everything older than ``x`` is ahead of it in the list;
what the list puts ahead of it but might be gone or younger is only ever anonymous
quantity that was placed pessimistically, or identified orders cancelled beyond
the file's window), and ``ahead - ahead_anonymous`` is the identified part of it.

These lenient rules apply only when the book is not ``strict``. A strict book (the
default for L3 sources) refuses an unknown order id (``UNKNOWN_ORDER``) and a cancel
or execution of more than an order holds (``NEGATIVE_QTY``).

Errors
------
Kernels return a :class:`qlib.enums.Status`; :meth:`L3Book.apply` raises
:class:`qlib.errors.DataQualityError` naming the event row: ``UNKNOWN_ORDER``,
``NEGATIVE_QTY`` (a negative event quantity, or a strict over-cancel), ``NON_FINITE``,
``DUPLICATE_ORDER``, ``UNKNOWN_KIND`` (also a book event whose side is not
``BUY``/``SELL``) and ``CROSSED``: after the ``LAST`` record of a snapshot
(``EventFlag.SNAPSHOT``) the best bid is above the best ask.

References
----------
.. [1] Huang, R. and Polak, T. (2011). LOBSTER: Limit Order Book Reconstruction
   System. SSRN 1977207.
.. [2] Databento (2024). Market by order (MBO) schema; "Order book actions".
   Databento documentation.
.. [3] Knuth, D. E. (1998). The Art of Computer Programming, vol. 3, 2nd ed., sec. 6.4
   (open addressing with linear probing; deletion without tombstones, Algorithm R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qlib.book import _l3_kernels as _k
from qlib.dtypes import (
    BBO_DTYPE,
    EVENT_DTYPE,
    L3_LEVEL_DTYPE,
    L3_ORDER_DTYPE,
    L3_SLOT_DTYPE,
    require_dtype,
)
from qlib.enums import EventKind, Side, Status  # noqa: F401 (Side: doctest)
from qlib.errors import DataQualityError, ParameterError

__all__ = ["L3Book", "QueuePosition", "replay_l3", "replay_l3_bbo"]

_STATS = {
    "unknown_orders": _k.S_UNKNOWN,
    "clamped": _k.S_CLAMPED,
    "trimmed": _k.S_TRIMMED,
    "exec_not_head": _k.S_EXEC_NOT_HEAD,
    "anonymous_added": _k.S_ANON_ADDED,
}


@dataclass(frozen=True)
class QueuePosition:
    """Where a resting order stands in its level's FIFO queue.

    Attributes
    ----------
    order_id, side, px_tick, qty
        The order.
    ahead
        Quantity ahead of it (exact, or an upper bound where ``ahead_anonymous > 0``;
        see :mod:`qlib.book.l3`).
    ahead_anonymous
        The part of ``ahead`` held by anonymous blocks.
    level_qty
        Total quantity of its level.
    """

    order_id: int
    side: int
    px_tick: int
    qty: float
    ahead: float
    ahead_anonymous: float
    level_qty: float

    @property
    def behind(self) -> float:
        """Quantity behind the order in its level."""
        return max(0.0, self.level_qty - self.ahead - self.qty)


def new_state(order_capacity: int, level_capacity: int, strict: bool) -> _k.L3State:
    """Return an empty :class:`~qlib.book._l3_kernels.L3State` with the given capacities."""
    oc = max(16, int(order_capacity))
    lc = max(8, int(level_capacity))
    pool = np.zeros(oc, dtype=L3_SLOT_DTYPE)
    pool["next"] = np.arange(1, oc + 1)
    pool["next"][-1] = -1
    levels = np.zeros(lc, dtype=L3_LEVEL_DTYPE)
    levels["head"] = np.arange(1, lc + 1)
    levels["head"][-1] = -1
    hcap = _hash_capacity(oc)
    meta = np.zeros(_k.N_META, dtype=np.int64)
    meta[_k.M_FREE_SLOT] = 0
    meta[_k.M_FREE_LEVEL] = 0
    meta[_k.M_SHIFT] = 64 - (hcap.bit_length() - 1)
    meta[_k.M_STRICT] = 1 if strict else 0
    return _k.L3State(pool, levels, np.zeros((2, lc), dtype=np.int64),
                      np.zeros((2, lc), dtype=np.int64), np.zeros(hcap, dtype=np.uint64),
                      np.full(hcap, -1, dtype=np.int64), meta)


def _hash_capacity(order_capacity: int) -> int:
    return 1 << max(5, (2 * int(order_capacity) - 1).bit_length())


def grow_state(st: _k.L3State) -> _k.L3State:
    """Return a copy of ``st`` with twice the capacity where the book is at least half full."""
    pool, levels, keys, slots, hkey, hslot, meta = st
    meta = meta.copy()
    oc = pool.shape[0]
    if meta[_k.M_NUSED] + 2 > oc // 2:
        new = np.zeros(2 * oc, dtype=L3_SLOT_DTYPE)
        new[:oc] = pool
        new["next"][oc:] = np.arange(oc + 1, 2 * oc + 1)
        new["next"][-1] = meta[_k.M_FREE_SLOT]
        meta[_k.M_FREE_SLOT] = oc
        pool = new
    lc = levels.shape[0]
    if meta[_k.M_NLEVELS] + 2 > lc // 2:
        new = np.zeros(2 * lc, dtype=L3_LEVEL_DTYPE)
        new[:lc] = levels
        new["head"][lc:] = np.arange(lc + 1, 2 * lc + 1)
        new["head"][-1] = meta[_k.M_FREE_LEVEL]
        meta[_k.M_FREE_LEVEL] = lc
        levels = new
        k2 = np.zeros((2, 2 * lc), dtype=np.int64)
        s2 = np.zeros((2, 2 * lc), dtype=np.int64)
        k2[:, :lc] = keys
        s2[:, :lc] = slots
        keys, slots = k2, s2
    hcap = _hash_capacity(pool.shape[0])
    if hcap > hslot.shape[0]:
        k2 = np.zeros(hcap, dtype=np.uint64)
        s2 = np.full(hcap, -1, dtype=np.int64)
        shift = 64 - (hcap.bit_length() - 1)
        _k.rehash(hkey, hslot, k2, s2, shift)
        meta[_k.M_SHIFT] = shift
        hkey, hslot = k2, s2
    return _k.L3State(pool, levels, keys, slots, hkey, hslot, meta)


def _kind_name(k: int) -> str:
    try:
        return EventKind(int(k)).name
    except ValueError:
        return str(int(k))


def event_error(status: int, events: np.ndarray, row: int, what: str = "L3 book") -> DataQualityError:
    """The :class:`DataQualityError` for a kernel status at ``events[row]``."""
    ev = events[row]
    st = Status(int(status))
    field = {Status.NEGATIVE_QTY: "qty", Status.NON_FINITE: "qty",
             Status.UNKNOWN_ORDER: "order_id", Status.DUPLICATE_ORDER: "order_id",
             Status.CROSSED: "px_tick"}.get(st, "kind/side")
    value = (float(ev["qty"]) if field == "qty" else int(ev["order_id"]) if field == "order_id"
             else int(ev["px_tick"]) if field == "px_tick" else (int(ev["kind"]), int(ev["side"])))
    why = {
        Status.UNKNOWN_ORDER: "order id is not resting in the book",
        Status.NEGATIVE_QTY: "negative quantity, or more than the order has left",
        Status.DUPLICATE_ORDER: "order id is already resting",
        Status.CROSSED: "book crossed (best bid above best ask) after a snapshot",
        Status.NON_FINITE: "quantity is not finite",
        Status.UNKNOWN_KIND: "unknown kind, or a book event without side BUY/SELL",
    }.get(st, "")
    return DataQualityError(
        f"{what} stopped with {st.name} ({why}) at events[{row}]: kind={_kind_name(ev['kind'])},"
        f" side={int(ev['side'])}, px_tick={int(ev['px_tick'])}, qty={float(ev['qty'])!r},"
        f" order_id={int(ev['order_id'])}, seq={int(ev['seq'])}, ts_exch={int(ev['ts_exch'])}",
        row=int(row), field=field, value=value)


def _has_l2(events: np.ndarray) -> bool:
    k = events["kind"]
    return bool(np.any(k == EventKind.DEPTH)
                or np.any((k == EventKind.SNAPSHOT) & (events["order_id"] == 0)))


class L3Book:
    """An order-level book of one instrument; see :mod:`qlib.book.l3` for the rules.

    Parameters
    ----------
    strict
        Refuse events naming an unknown order id and over-cancels (default). Set
        False for sources whose messages start from, or mix with, L2 liquidity
        (LOBSTER): such events then follow the *unknown liquidity* rules.
    order_capacity, level_capacity
        Initial capacities; the arrays double when full.

    Examples
    --------
    >>> from qlib.dtypes import empty_events
    >>> ev = empty_events(3)
    >>> ev["kind"] = EventKind.ADD; ev["side"] = Side.BUY; ev["px_tick"] = 100
    >>> ev["qty"] = [5.0, 3.0, 2.0]; ev["order_id"] = [1, 2, 3]
    >>> book = L3Book().apply(ev)
    >>> book.queue_position(3).ahead
    8.0
    """

    def __init__(self, *, strict: bool = True, order_capacity: int = 4096,
                 level_capacity: int = 512) -> None:
        for name, v in (("order_capacity", order_capacity), ("level_capacity", level_capacity)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ParameterError(f"{name} must be an int >= 1, was {v!r}")
        if not isinstance(strict, (bool, np.bool_)):
            raise ParameterError(f"strict must be a bool, was {strict!r}")
        self.state = new_state(order_capacity, level_capacity, bool(strict))

    # ------------------------------------------------------------------ applying
    @property
    def strict(self) -> bool:
        """Whether unknown order ids and over-cancels are errors (see the class)."""
        return bool(self.state.meta[_k.M_STRICT])

    @strict.setter
    def strict(self, value: bool) -> None:
        self.state.meta[_k.M_STRICT] = 1 if value else 0

    def apply(self, events: np.ndarray, *, start: int = 0, stop: int | None = None) -> L3Book:
        """Apply ``events[start:stop]`` in order; return the book itself.

        Raises
        ------
        SchemaError
            If ``events`` is not an EVENT_DTYPE array.
        DataQualityError
            At the first event the book refuses, naming its row (events before it
            stay applied).
        """
        require_dtype(events, EVENT_DTYPE, name="events")
        stop = events.shape[0] if stop is None else int(stop)
        row = int(start)
        while True:
            status, row = _k.apply_events(*self.state, events, row, stop)
            if status != Status.CAPACITY:
                break
            self.state = grow_state(self.state)
        if status != Status.OK:
            raise event_error(status, events, row)
        return self

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        """Identified orders resting (anonymous blocks not counted)."""
        return int(self.state.meta[_k.M_NORDERS])

    def __contains__(self, order_id: int) -> bool:
        return _k.map_pos(self.state.hkey, self.state.hslot, self.state.meta[_k.M_SHIFT],
                          np.uint64(order_id)) >= 0

    @property
    def n_levels(self) -> tuple[int, int]:
        """``(bid levels, ask levels)``."""
        m = self.state.meta
        return int(m[_k.M_NLEV0]), int(m[_k.M_NLEV0 + 1])

    @property
    def stats(self) -> dict[str, int]:
        """Counters of the lenient and L2 rules (see the module notes)."""
        return {name: int(self.state.meta[i]) for name, i in _STATS.items()}

    def best(self, side: int) -> tuple[int, float] | None:
        """``(px_tick, qty)`` of the best level of ``side``, or None when it is empty."""
        s = _side_index(side)
        if self.state.meta[_k.M_NLEV0 + s] == 0:
            return None
        px, q = _k.best(*self.state, s)
        return int(px), float(q)

    def is_crossed(self) -> bool:
        """True when both sides are present and the best bid >= the best ask."""
        return bool(_k.is_crossed(*self.state))

    def depth(self, levels: int = 10) -> dict[str, np.ndarray]:
        """Top ``levels`` of each side, best first: ``bid_px_tick``, ``bid_qty``, ``ask_px_tick``,
        ``ask_qty``; missing levels are ``(0, 0.0)``."""
        out = {}
        for s, name in ((0, "bid"), (1, "ask")):
            px = np.zeros(levels, dtype=np.int64)
            q = np.zeros(levels, dtype=np.float64)
            _k.depth(*self.state, s, px, q)
            out[f"{name}_px_tick"], out[f"{name}_qty"] = px, q
        return out

    def level_totals(self) -> dict[tuple[int, int], float]:
        """Every level as ``{(side, px_tick): total qty}`` (for checks)."""
        st = self.state
        out = {}
        for s in range(2):
            for j in range(int(st.meta[_k.M_NLEV0 + s])):
                lv = st.levels[st.slots[s, j]]
                out[(int(lv["side"]), int(lv["px_tick"]))] = float(lv["qty"])
        return out

    def orders(self) -> np.ndarray:
        """Every queue entry as :data:`qlib.dtypes.L3_ORDER_DTYPE`: bids best level first,
        then asks, each level in FIFO order (anonymous blocks included)."""
        m = self.state.meta
        out = np.zeros(int(m[_k.M_NENT0] + m[_k.M_NENT0 + 1]), dtype=L3_ORDER_DTYPE)
        _k.dump_orders(*self.state, out)
        return out

    def to_pandas(self) -> pd.DataFrame:
        """:meth:`orders` as a DataFrame (``ts_entry`` as UTC timestamps)."""
        o = self.orders()
        df = pd.DataFrame({name: o[name] for name in o.dtype.names})
        df["ts_entry"] = pd.to_datetime(df["ts_entry"], unit="ns", utc=True)
        return df

    def queue_position(self, order_id: int) -> QueuePosition:
        """Return where order ``order_id`` stands in its level's queue.

        Raises
        ------
        DataQualityError
            If the order is not resting.
        """
        st = self.state
        status, ahead, anon = _k.queue_ahead(*st, np.uint64(order_id))
        if status != Status.OK:
            raise DataQualityError(f"order {order_id} is not resting in the book",
                                   field="order_id", value=order_id)
        e = st.hslot[_k.map_pos(st.hkey, st.hslot, st.meta[_k.M_SHIFT], np.uint64(order_id))]
        o = st.pool[e]
        return QueuePosition(int(order_id), int(o["side"]), int(o["px_tick"]), float(o["qty"]),
                             float(ahead), float(anon), float(st.levels[o["level"]]["qty"]))


def _side_index(side: int) -> int:
    s = _k.side_index(int(side))
    if s < 0:
        raise ParameterError(f"side must be Side.BUY (1) or Side.SELL (-1), was {side!r}")
    return s


def replay_l3(events: np.ndarray, *, strict: bool | None = None,
              order_capacity: int = 4096) -> L3Book:
    """Replay events into a new :class:`L3Book` and return it.

    Parameters
    ----------
    events
        :data:`qlib.dtypes.EVENT_DTYPE` array in venue order.
    strict
        As :class:`L3Book`; None (default) means strict unless the events carry L2
        liquidity (a ``DEPTH`` or an L2 ``SNAPSHOT``, as LOBSTER's do).
    order_capacity
        Initial order capacity (doubled as needed).

    Raises
    ------
    SchemaError, DataQualityError
        As :meth:`L3Book.apply`.
    """
    require_dtype(events, EVENT_DTYPE, name="events")
    if strict is None:
        strict = not _has_l2(events)
    return L3Book(strict=strict, order_capacity=order_capacity).apply(events)


def replay_l3_bbo(events: np.ndarray, *, strict: bool | None = None) -> tuple[L3Book, np.ndarray]:
    """Replay events into a new :class:`L3Book`; return it and the BBO after every event.

    Returns
    -------
    tuple
        ``(book, bbo)``: the final book and a :data:`qlib.dtypes.BBO_DTYPE` array with one
        row per event (as :func:`qlib.book.replay_bbo`).

    Raises
    ------
    SchemaError, DataQualityError
        As :meth:`L3Book.apply`.
    """
    require_dtype(events, EVENT_DTYPE, name="events")
    if strict is None:
        strict = not _has_l2(events)
    book = L3Book(strict=strict)
    out = np.zeros(events.shape[0], dtype=BBO_DTYPE)
    row = 0
    while True:
        status, row = _k.apply_events_bbo(*book.state, events, row, out)
        if status != Status.CAPACITY:
            break
        book.state = grow_state(book.state)
    if status != Status.OK:
        raise event_error(status, events, row)
    return book, out
