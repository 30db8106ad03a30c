r"""The order state machine and :class:`OrderTracker`, its Python manager.

States are :class:`qlib.enums.OrderStatus`, events :class:`qlib.enums.OrderEvent`.
The machine is a table ``TRANSITIONS[state, event] -> next state`` (int8, built once
by :func:`build_transition_table`), where ``-1`` means "no such edge" and ``-2``
means "back to the working state the order was in" (its ``resume_state``: ``LIVE``,
or ``PARTIALLY_FILLED`` once anything filled). The kernel
:func:`qlib.oms._kernels.order_event` looks the pair up; an illegal pair is refused
with :attr:`Status.ILLEGAL_TRANSITION` and never applied. Every attempt, applied or
refused, is journaled with its nanosecond timestamp
(:data:`qlib.dtypes.ORDER_JOURNAL_DTYPE`).

Edges
-----
=====================  ===============  =====================================
from                   event            to
=====================  ===============  =====================================
NEW                    SUBMIT           PENDING_NEW
NEW                    REJECT           REJECTED (pre-trade risk refused it)
PENDING_NEW            ACK              LIVE
PENDING_NEW            REJECT           REJECTED
PENDING_NEW            PARTIAL_FILL     PARTIALLY_FILLED (fill implies the ack)
PENDING_NEW            FILL             FILLED (fill implies the ack)
PENDING_NEW            EXPIRE           EXPIRED (IOC/FOK killed before an ack)
LIVE, PARTIALLY_FILLED PARTIAL_FILL     PARTIALLY_FILLED
LIVE, PARTIALLY_FILLED FILL             FILLED
LIVE, PARTIALLY_FILLED CANCEL_REQUEST   PENDING_CANCEL
LIVE, PARTIALLY_FILLED REPLACE_REQUEST  PENDING_REPLACE
LIVE, PARTIALLY_FILLED EXPIRE           EXPIRED
PENDING_CANCEL         CANCEL_ACK       CANCELLED
PENDING_CANCEL         CANCEL_REJECT    resume state (LIVE or PARTIALLY_FILLED)
PENDING_CANCEL         PARTIAL_FILL     PENDING_CANCEL (the cancel/fill race)
PENDING_CANCEL         FILL             FILLED (the race lost: nothing to cancel)
PENDING_CANCEL         EXPIRE           EXPIRED
PENDING_REPLACE        REPLACE_ACK      resume state, with the new price/qty
PENDING_REPLACE        REPLACE_REJECT   resume state, price/qty unchanged
PENDING_REPLACE        PARTIAL_FILL     PENDING_REPLACE
PENDING_REPLACE        FILL             FILLED
PENDING_REPLACE        EXPIRE           EXPIRED
FILLED                 CANCEL_REJECT    FILLED ("too late to cancel" after a race)
FILLED                 REPLACE_REJECT   FILLED (same, for a replace)
=====================  ===============  =====================================

Every other pair is illegal. ``FILLED``, ``CANCELLED``, ``REJECTED`` and ``EXPIRED``
are terminal: no edge leaves them (the two self-loops on ``FILLED`` absorb the venue's
late refusal of a request that crossed a completing fill). A rejected order is not
sent again: a resubmission is a new order id. A partial fill in a pending state
updates the resume state to ``PARTIALLY_FILLED``, so a refused cancel returns the
order to where its fills put it. A fill is one event: the kernel decides between
``PARTIAL_FILL`` and ``FILL`` from the cumulative quantity (within ``1e-9`` of the
order quantity counts as complete) and refuses one that would overfill
(:attr:`Status.OVERFILL`); a replace to a quantity at or below what already filled
is refused the same way. Timestamps must not go back in time per order
(:attr:`Status.UNSORTED`). The pair's legality is checked before any quantity, so an
event the machine has no edge for is always ``ILLEGAL_TRANSITION``.

References
----------
.. [1] FIX Trading Community (2003). FIX 4.4 Specification, Volume 4, Appendix D:
   Order State Change Matrices (OrdStatus, ExecType, pending cancel and replace).
.. [2] NautilusTrader developer documentation: Orders, order status flow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from qlib.dtypes import FILL_DTYPE, ORDER_DTYPE, ORDER_JOURNAL_DTYPE, require_dtype
from qlib.enums import OrderEvent, OrderStatus, OrderType, Side, Status, TimeInForce
from qlib.errors import ParameterError, QlibError
from qlib.oms import _kernels as _k

__all__ = [
    "TERMINAL_STATES",
    "TRANSITIONS",
    "OrderStateError",
    "OrderTracker",
    "build_transition_table",
]

S = OrderStatus
E = OrderEvent

#: States no order leaves.
TERMINAL_STATES: frozenset[OrderStatus] = frozenset({S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED})

_WORKING = (S.LIVE, S.PARTIALLY_FILLED)
_PENDING = (S.PENDING_CANCEL, S.PENDING_REPLACE)


def build_transition_table() -> np.ndarray:
    """Return the order state machine as an int8 array ``[OrderStatus, OrderEvent]``.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(OrderStatus), len(OrderEvent))``; entries are the next
        :class:`OrderStatus`, ``-1`` (illegal) or ``-2`` (back to the resume state).
        The edges are listed in the module docstring.
    """
    t = np.full((len(S), len(E)), _k.ILLEGAL, dtype=np.int8)
    t[S.NEW, E.SUBMIT] = S.PENDING_NEW
    t[S.NEW, E.REJECT] = S.REJECTED
    t[S.PENDING_NEW, E.ACK] = S.LIVE
    t[S.PENDING_NEW, E.REJECT] = S.REJECTED
    t[S.PENDING_NEW, E.PARTIAL_FILL] = S.PARTIALLY_FILLED
    t[S.PENDING_NEW, E.FILL] = S.FILLED
    t[S.PENDING_NEW, E.EXPIRE] = S.EXPIRED
    for s in _WORKING:
        t[s, E.PARTIAL_FILL] = S.PARTIALLY_FILLED
        t[s, E.FILL] = S.FILLED
        t[s, E.CANCEL_REQUEST] = S.PENDING_CANCEL
        t[s, E.REPLACE_REQUEST] = S.PENDING_REPLACE
        t[s, E.EXPIRE] = S.EXPIRED
    for s in _PENDING:
        t[s, E.PARTIAL_FILL] = s
        t[s, E.FILL] = S.FILLED
        t[s, E.EXPIRE] = S.EXPIRED
    t[S.PENDING_CANCEL, E.CANCEL_ACK] = S.CANCELLED
    t[S.PENDING_CANCEL, E.CANCEL_REJECT] = _k.RESUME
    t[S.PENDING_REPLACE, E.REPLACE_ACK] = _k.RESUME
    t[S.PENDING_REPLACE, E.REPLACE_REJECT] = _k.RESUME
    t[S.FILLED, E.CANCEL_REJECT] = S.FILLED
    t[S.FILLED, E.REPLACE_REJECT] = S.FILLED
    t.setflags(write=False)
    return t


#: The table every tracker uses (read-only).
TRANSITIONS: np.ndarray = build_transition_table()


class OrderStateError(QlibError, ValueError):
    """An order event was refused by the state machine or its checks.

    Attributes
    ----------
    status
        The kernel's :class:`qlib.enums.Status`.
    order_id, state, event
        The order, its state when the event arrived, and the event.
    """

    def __init__(self, status: Status, order_id: int, state: OrderStatus, event: OrderEvent,
                 detail: str = "") -> None:
        self.status, self.order_id, self.state, self.event = status, order_id, state, event
        super().__init__(
            f"{Status(status).name}: order_id {order_id} in state {OrderStatus(state).name}"
            f" refused event {OrderEvent(event).name}{detail}"
        )


def _enum(name: str, value: Any, enum: type) -> int:
    try:
        return int(enum(value))
    except (ValueError, TypeError):
        raise ParameterError(f"{name} must be a {enum.__name__}, was {value!r}") from None


class OrderTracker:
    """Orders and their transitions: a Python front for the state-machine kernel.

    State is two arrays, ``orders`` (:data:`ORDER_DTYPE`, one slot per order, in
    creation order) and ``journal`` (:data:`ORDER_JOURNAL_DTYPE`), grown by doubling
    outside the kernels. A jitted loop passes ``TRANSITIONS``, ``orders``, a slot,
    ``journal`` and ``jlen`` (int64 array of length 1) to
    :func:`qlib.oms._kernels.order_event` directly.

    Parameters
    ----------
    capacity, journal_capacity
        Initial number of order slots and journal records (> 0).

    Examples
    --------
    >>> from qlib.enums import Side
    >>> t = OrderTracker()
    >>> t.new_order(7, Side.BUY, 2.0, px_tick=100, ts=1)
    >>> t.submit(7, ts=2).name
    'PENDING_NEW'
    >>> t.ack(7, ts=3).name
    'LIVE'
    >>> t.fill(7, 0.5, px_tick=100, ts=4).name
    'PARTIALLY_FILLED'
    >>> t.request_cancel(7, ts=5).name, t.cancel_reject(7, ts=6).name
    ('PENDING_CANCEL', 'PARTIALLY_FILLED')
    """

    def __init__(self, capacity: int = 1024, journal_capacity: int = 8192) -> None:
        for name, v in (("capacity", capacity), ("journal_capacity", journal_capacity)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ParameterError(f"{name} must be a positive int, was {v!r}")
        self.orders = np.zeros(int(capacity), dtype=ORDER_DTYPE)
        self.journal_buf = np.zeros(int(journal_capacity), dtype=ORDER_JOURNAL_DTYPE)
        self.jlen = np.zeros(1, dtype=np.int64)
        self.n = 0
        self._slot: dict[int, int] = {}

    # ---------------------------------------------------------------- creation
    def new_order(self, order_id: int, side: Side | int, qty: float, *, px_tick: int = 0,
                  order_type: OrderType | int = OrderType.LIMIT,
                  tif: TimeInForce | int = TimeInForce.GTC, instrument: int = 0,
                  ts: int = 0) -> None:
        """Create order ``order_id`` in state ``NEW``.

        Parameters
        ----------
        order_id
            Client order id (>= 0, unique in this tracker; the matching engine's
            ``order_id`` when the fills come from :class:`qlib.book.MatchingEngine`).
        side
            ``Side.BUY`` or ``Side.SELL``.
        qty
            Order quantity (finite, > 0).
        px_tick
            Limit price in ticks (> 0 for limit orders; ignored for market orders).
        order_type, tif
            :class:`OrderType`, :class:`TimeInForce` (stored; the machine accepts
            ``EXPIRE`` whatever the time in force, since day and GTD orders expire too).
        instrument
            Index of the instrument in the :class:`qlib.oms.Portfolio` (kept for the caller).
        ts
            Creation time, int64 ns since epoch, UTC.

        Raises
        ------
        ParameterError
            Duplicate or negative id, side not BUY/SELL, qty not finite and > 0, a limit
            order without a positive ``px_tick``, unknown type or time in force.
        """
        oid = int(order_id)
        if oid < 0:
            raise ParameterError(f"order_id must be >= 0, was {order_id!r}")
        if oid in self._slot:
            raise ParameterError(f"order_id {oid} already exists")
        side_i = _enum("side", side, Side)
        if side_i == Side.NONE:
            raise ParameterError(f"side must be BUY or SELL, was {Side(side_i).name}")
        if not (np.isfinite(qty) and qty > 0):
            raise ParameterError(f"qty must be finite and > 0, was {qty!r}")
        ot = _enum("order_type", order_type, OrderType)
        if ot == OrderType.LIMIT and int(px_tick) <= 0:
            raise ParameterError(f"px_tick of a limit order must be > 0, was {px_tick!r}")
        tif_i = _enum("tif", tif, TimeInForce)
        if self.n == self.orders.shape[0]:
            grown = np.zeros(2 * self.n, dtype=ORDER_DTYPE)
            grown[: self.n] = self.orders
            self.orders = grown
        o = self.orders[self.n]
        o["order_id"], o["instrument"], o["px_tick"], o["qty"] = oid, instrument, px_tick, qty
        o["ts_created"] = o["ts_last"] = ts
        o["side"], o["order_type"], o["tif"] = side_i, ot, tif_i
        o["state"], o["resume_state"] = S.NEW, S.LIVE
        self._slot[oid] = self.n
        self.n += 1

    # ---------------------------------------------------------------- events
    def slot(self, order_id: int) -> int:
        """Return the slot of ``order_id`` in :attr:`orders`; raise ``ParameterError`` if unknown."""
        try:
            return self._slot[int(order_id)]
        except KeyError:
            raise ParameterError(f"order_id {order_id!r} is unknown") from None

    def apply(self, order_id: int, event: OrderEvent | int, *, ts: int, qty: float = 0.0,
              px_tick: int = 0) -> OrderStatus:
        """Apply one event to ``order_id`` and return the new state.

        Parameters
        ----------
        order_id
            A known client order id.
        event
            :class:`OrderEvent`. ``PARTIAL_FILL`` and ``FILL`` both mean "a fill of
            ``qty`` at ``px_tick``"; the kernel picks the right one from quantities.
        ts
            Event time, int64 ns since epoch, UTC; not before the order's last transition.
        qty, px_tick
            Fill quantity and price, or the new quantity and price of a ``REPLACE_REQUEST``.

        Raises
        ------
        OrderStateError
            The machine has no such edge (``ILLEGAL_TRANSITION``), or a check failed
            (``OVERFILL``, ``UNSORTED``, ``NEGATIVE_QTY``, ``NON_FINITE``, ``BAD_PRICE``).
            The order is unchanged; the attempt is in the journal.
        """
        s = self.slot(order_id)
        ev = _enum("event", event, OrderEvent)
        state = OrderStatus(int(self.orders["state"][s]))
        while True:
            st = _k.order_event(TRANSITIONS, self.orders, s, ev, int(ts), float(qty), int(px_tick),
                                self.journal_buf, self.jlen)
            if st != Status.CAPACITY:
                break
            self._grow_journal()
        if st != Status.OK:
            raise OrderStateError(Status(st), int(order_id), state, OrderEvent(ev),
                                  f" (ts={ts}, qty={qty}, px_tick={px_tick})")
        return OrderStatus(int(self.orders["state"][s]))

    def _grow_journal(self) -> None:
        grown = np.zeros(2 * self.journal_buf.shape[0], dtype=ORDER_JOURNAL_DTYPE)
        grown[: self.jlen[0]] = self.journal_buf[: self.jlen[0]]
        self.journal_buf = grown

    def submit(self, order_id: int, *, ts: int) -> OrderStatus:
        """Send the order (``NEW -> PENDING_NEW``)."""
        return self.apply(order_id, E.SUBMIT, ts=ts)

    def ack(self, order_id: int, *, ts: int) -> OrderStatus:
        """The venue accepted the order (``PENDING_NEW -> LIVE``)."""
        return self.apply(order_id, E.ACK, ts=ts)

    def reject(self, order_id: int, *, ts: int) -> OrderStatus:
        """The order was refused (``NEW/PENDING_NEW -> REJECTED``)."""
        return self.apply(order_id, E.REJECT, ts=ts)

    def fill(self, order_id: int, qty: float, *, px_tick: int, ts: int) -> OrderStatus:
        """Apply an execution of ``qty`` at ``px_tick``."""
        return self.apply(order_id, E.FILL, ts=ts, qty=qty, px_tick=px_tick)

    def request_cancel(self, order_id: int, *, ts: int) -> OrderStatus:
        """Send a cancel (``LIVE/PARTIALLY_FILLED -> PENDING_CANCEL``)."""
        return self.apply(order_id, E.CANCEL_REQUEST, ts=ts)

    def cancel_ack(self, order_id: int, *, ts: int) -> OrderStatus:
        """The venue cancelled the order (``PENDING_CANCEL -> CANCELLED``)."""
        return self.apply(order_id, E.CANCEL_ACK, ts=ts)

    def cancel_reject(self, order_id: int, *, ts: int) -> OrderStatus:
        """The venue refused the cancel (back to ``LIVE``/``PARTIALLY_FILLED``)."""
        return self.apply(order_id, E.CANCEL_REJECT, ts=ts)

    def request_replace(self, order_id: int, qty: float, *, px_tick: int, ts: int) -> OrderStatus:
        """Send a cancel/replace to total quantity ``qty`` at ``px_tick``."""
        return self.apply(order_id, E.REPLACE_REQUEST, ts=ts, qty=qty, px_tick=px_tick)

    def replace_ack(self, order_id: int, *, ts: int) -> OrderStatus:
        """The venue confirmed the replace: the new price and quantity take effect."""
        return self.apply(order_id, E.REPLACE_ACK, ts=ts)

    def replace_reject(self, order_id: int, *, ts: int) -> OrderStatus:
        """The venue refused the replace: price and quantity stay."""
        return self.apply(order_id, E.REPLACE_REJECT, ts=ts)

    def expire(self, order_id: int, *, ts: int) -> OrderStatus:
        """The venue ended the remainder by time in force (IOC/FOK/day)."""
        return self.apply(order_id, E.EXPIRE, ts=ts)

    def apply_fills(self, fills: np.ndarray, *, owner: int | None = None) -> int:
        """Apply the matching engine's fills that belong to this tracker's orders.

        Parameters
        ----------
        fills
            :data:`qlib.dtypes.FILL_DTYPE` records (for example ``OrderResult.fills``).
        owner
            If given, only records with this ``owner`` are considered; records whose
            ``order_id`` is not a tracked order are skipped in any case.

        Returns
        -------
        int
            Number of fills applied.

        Raises
        ------
        OrderStateError
            At the first refused fill (those before it are applied).
        """
        require_dtype(fills, FILL_DTYPE, name="fills")
        slots = self._slots_of(fills["order_id"])
        if owner is not None:
            slots[fills["owner"] != int(owner)] = -1
        n_applied = int((slots >= 0).sum())
        todo = slots.copy()
        while True:
            st, row = _k.order_apply_fills(TRANSITIONS, self.orders, todo, fills,
                                           self.journal_buf, self.jlen)
            if st != Status.CAPACITY:
                break
            todo[:row] = -1  # rows before the full journal were applied
            self._grow_journal()
        if st != Status.OK:
            f = fills[row]
            jr = self.journal_buf[self.jlen[0] - 1]
            raise OrderStateError(Status(st), int(f["order_id"]), OrderStatus(int(jr["from_state"])),
                                  E.FILL, f" at fills[{row}] (qty={f['qty']}, px_tick={f['px_tick']},"
                                  f" ts={f['ts_exch']})")
        return n_applied

    def _slots_of(self, order_ids: np.ndarray) -> np.ndarray:
        """Map order ids to slots (-1 for unknown ids), vectorised."""
        if self.n == 0:
            return np.full(len(order_ids), -1, dtype=np.int64)
        ids = self.orders["order_id"][: self.n]
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        pos = np.minimum(np.searchsorted(sorted_ids, order_ids), self.n - 1)
        found = sorted_ids[pos] == order_ids
        return np.where(found, order[pos], -1).astype(np.int64)

    # ---------------------------------------------------------------- views
    def state(self, order_id: int) -> OrderStatus:
        """Return the current state of ``order_id``."""
        return OrderStatus(int(self.orders["state"][self.slot(order_id)]))

    def orders_frame(self, *, open_only: bool = False) -> pd.DataFrame:
        """Return the orders as a DataFrame (one row per order, enums as names).

        Columns: ``order_id, instrument, side, order_type, tif, px_tick, qty, filled_qty,
        leaves_qty, avg_fill_px_tick, status, ts_created, ts_last`` (times as UTC Timestamps).
        ``open_only`` keeps non-terminal orders.
        """
        o = self.orders[: self.n]
        filled = o["filled_qty"]
        with np.errstate(invalid="ignore", divide="ignore"):
            avg = np.where(filled > 0, o["filled_notional_tick"] / np.where(filled > 0, filled, 1), np.nan)
        df = pd.DataFrame({
            "order_id": o["order_id"],
            "instrument": o["instrument"],
            "side": [Side(int(v)).name for v in o["side"]],
            "order_type": [OrderType(int(v)).name for v in o["order_type"]],
            "tif": [TimeInForce(int(v)).name for v in o["tif"]],
            "px_tick": o["px_tick"],
            "qty": o["qty"],
            "filled_qty": filled,
            "leaves_qty": o["qty"] - filled,
            "avg_fill_px_tick": avg,
            "status": [OrderStatus(int(v)).name for v in o["state"]],
            "ts_created": pd.to_datetime(o["ts_created"], unit="ns", utc=True),
            "ts_last": pd.to_datetime(o["ts_last"], unit="ns", utc=True),
        })
        if open_only:
            terminal = {s.name for s in TERMINAL_STATES}
            df = df[~df["status"].isin(terminal)].reset_index(drop=True)
        return df

    def open_orders(self) -> pd.DataFrame:
        """Return the non-terminal orders (see :meth:`orders_frame`)."""
        return self.orders_frame(open_only=True)

    def journal(self) -> pd.DataFrame:
        """Return every attempted transition, refused ones included, in order.

        Columns: ``order_id, ts`` (UTC Timestamp), ``ts_ns, event, from_state, to_state``
        (names; ``to_state`` is missing (NA) when refused), ``status`` (name), ``qty, px_tick``.
        """
        j = self.journal_buf[: self.jlen[0]]
        return pd.DataFrame({
            "order_id": j["order_id"],
            "ts": pd.to_datetime(j["ts"], unit="ns", utc=True),
            "ts_ns": j["ts"],
            "event": [OrderEvent(int(v)).name for v in j["event"]],
            "from_state": [OrderStatus(int(v)).name for v in j["from_state"]],
            "to_state": [OrderStatus(int(v)).name if v >= 0 else None for v in j["to_state"]],
            "status": [Status(int(v)).name for v in j["status"]],
            "qty": j["qty"],
            "px_tick": j["px_tick"],
        })
