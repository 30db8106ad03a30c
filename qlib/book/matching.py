r"""A price-time priority matching engine on the order-level book.

:class:`MatchingEngine` is the exchange of the backtest and of the simulated venue:
a long-lived state (an :class:`qlib.book.L3Book` state plus output buffers, all
plain arrays) and kernels in :mod:`qlib.book._matching_kernels` that jitted loops
call directly, wrapped here for Python with validation and exceptions.

Orders
------
* **Types**: ``LIMIT`` and ``MARKET`` (:class:`qlib.enums.OrderType`). A market
  order trades at any price and never rests.
* **Time in force** (:class:`qlib.enums.TimeInForce`): ``GTC`` rests the remainder;
  ``IOC`` cancels it; ``FOK`` trades the whole quantity or nothing (checked by a dry
  run before anything changes); ``GTX`` is post-only.
* **Post-only** (``GTX``) never takes liquidity. If it would cross on entry, the
  engine's ``post_only`` policy decides: ``"reject"`` (default; raises
  :class:`qlib.errors.OrderRejected` with ``POST_ONLY_WOULD_CROSS``) or ``"reprice"``
  (the order rests one tick behind the opposite best: a buy at ``best_ask - 1``).
* **Cancel** removes the whole remainder. **Modify** sets price and remaining
  quantity (absolute): a smaller quantity at the same price keeps the order's place;
  a price change or a larger quantity cancels it and re-enters it at the back of the
  new level as a ``GTC`` limit order, which may trade if it now crosses.
* **Matching**: the best opposite level first, each level in FIFO order (oldest
  first), at the resting order's price; partial fills leave the remainder in place.
  Anonymous liquidity of the book (:mod:`qlib.book.l3`) trades like any order, with
  ``order_id`` 0 and owner ``-1``.

Self-trade prevention
---------------------
Each order carries an ``owner`` (account) id; owners ``< 0`` (market data) are never
checked. When an incoming order meets a resting order of the same owner, the
incoming order's :class:`qlib.enums.StpPolicy` applies (the engine's default unless
the call gives one): ``CANCEL_RESTING`` (default) cancels the resting order and keeps
matching; ``CANCEL_AGGRESSING`` cancels the incoming remainder; ``DECREMENT_BOTH``
reduces both by the smaller quantity without a fill. None of them ever produces a
fill between one owner's orders. For ``FOK`` the dry run skips the owner's orders
under ``CANCEL_RESTING`` and stops at the first one under the two other policies.

Output
------
Each call returns an :class:`OrderResult` with the fills (:data:`qlib.dtypes.FILL_DTYPE`,
two records per match: taker, then maker) and the book events it produced in
:data:`qlib.dtypes.EVENT_DTYPE`, so an L2 or L3 view can follow the engine:
``ADD`` (an order rests), ``EXECUTE`` per match (side and id of the resting order),
one ``TRADE`` flagged ``SUMMARY`` per incoming order that traded (aggressor side,
last price, total quantity), ``CANCEL`` (quantity removed: modify down, decrement),
``DELETE`` (cancel, STP cancel, the old order of a priority-losing modify).
``EventFlag.LAST`` marks the last record of each call and ``seq`` numbers the calls.
Replaying the events into a fresh :class:`~qlib.book.L3Book` rebuilds the engine's
book, queue order included (``tests/property/test_matching_props.py``).

Quantity accounting, per order and in total: submitted = filled + resting +
cancelled, where a modify that raises the quantity submits the difference and one
that lowers it cancels the difference.

References
----------
.. [1] CME Group (2023). Self-Match Prevention; Order Types and Time in Force for
   CME Globex. CME Globex Reference Guide.
.. [2] Binance (2024). Spot API: Self Trade Prevention (STP) FAQ; Post-only
   (``LIMIT_MAKER``/``GTX``) orders.
.. [3] Harris, L. (2003). Trading and Exchanges: Market Microstructure for
   Practitioners, ch. 6 (order precedence rules). Oxford University Press.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qlib.book import _l3_kernels as _lk
from qlib.book import _matching_kernels as _mk
from qlib.book.l3 import L3Book, grow_state
from qlib.dtypes import EVENT_DTYPE, FILL_DTYPE, empty_events, require_dtype
from qlib.enums import OrderType, RejectReason, Side, Status, StpPolicy, TimeInForce
from qlib.errors import OrderRejected, ParameterError
from qlib.instrument import Instrument

__all__ = ["MatchingEngine", "OrderResult"]

_POST_ONLY = ("reject", "reprice")


@dataclass(frozen=True)
class OrderResult:
    """What one engine call did.

    Attributes
    ----------
    order_id
        The order.
    filled, rested, cancelled
        Quantity traded, left resting, and cancelled (IOC/market remainder, a FOK
        kill, self-trade prevention, a modify down); for a new order
        ``filled + rested + cancelled == qty``.
    reason
        :class:`qlib.enums.RejectReason` of the cancelled part (``NONE`` when nothing
        was cancelled, or for a plain cancel/modify).
    px_tick
        Price the order rests at (after a post-only reprice), or its limit price.
    fills
        :data:`qlib.dtypes.FILL_DTYPE` records of this call.
    events
        :data:`qlib.dtypes.EVENT_DTYPE` book events of this call.
    """

    order_id: int
    filled: float
    rested: float
    cancelled: float
    reason: RejectReason
    px_tick: int
    fills: np.ndarray = field(repr=False)
    events: np.ndarray = field(repr=False)


def _check_enum(name: str, value: object, enum: type) -> int:
    try:
        return int(enum(value))
    except ValueError:
        raise ParameterError(f"{name} must be a {enum.__name__}, was {value!r}") from None


class MatchingEngine:
    """A price-time priority matching engine for one instrument.

    Parameters
    ----------
    instrument
        Converts float prices (``px=``) to ticks; a price off its tick grid is refused.
        Optional when every price is given in ticks.
    post_only
        ``"reject"`` (default) or ``"reprice"``: what a post-only (``GTX``) order that
        would cross does (see the module notes).
    stp
        Default :class:`qlib.enums.StpPolicy` (``CANCEL_RESTING``).
    book
        An existing :class:`~qlib.book.L3Book` to run on (e.g. rebuilt from market
        data); a new strict one when None. The engine then owns its state.
    fill_capacity, event_capacity
        Initial sizes of the output buffers (doubled as needed).

    Examples
    --------
    >>> eng = MatchingEngine()
    >>> _ = eng.submit(Side.SELL, 10, px_tick=101, order_id=1, owner=7)
    >>> r = eng.submit(Side.BUY, 4, px_tick=101, order_id=2, owner=8)
    >>> r.filled, r.fills["liquidity"].tolist()
    (4.0, [2, 1])
    """

    def __init__(self, instrument: Instrument | None = None, *, post_only: str = "reject",
                 stp: StpPolicy | int = StpPolicy.CANCEL_RESTING, book: L3Book | None = None,
                 fill_capacity: int = 1024, event_capacity: int = 1024) -> None:
        if instrument is not None and not isinstance(instrument, Instrument):
            raise ParameterError(f"instrument must be an Instrument, was {type(instrument).__name__}")
        if post_only not in _POST_ONLY:
            raise ParameterError(f"post_only must be 'reject' or 'reprice', was {post_only!r}")
        self.instrument = instrument
        self.post_only = post_only
        self.stp = StpPolicy(_check_enum("stp", stp, StpPolicy))
        self.book = book if book is not None else L3Book()
        self.fills = np.zeros(max(16, int(fill_capacity)), dtype=FILL_DTYPE)
        self.out_events = empty_events(max(16, int(event_capacity)))
        self.counts = np.zeros(_mk.N_COUNTS, dtype=np.int64)
        self._next_id = 1 << 62

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> tuple:
        """The arrays the kernels take: book state (7 arrays), fills, events, counts."""
        return (*self.book.state, self.fills, self.out_events, self.counts)

    def _grow(self) -> None:
        st = self.book.state
        if not _lk.room(*st, 2, 2, 2):
            self.book.state = grow_state(st)
        need_f = 2 * int(st.meta[_lk.M_NENT0] + st.meta[_lk.M_NENT0 + 1]) + 2
        if self.fills.shape[0] - self.counts[_mk.C_FILLS] < need_f:
            new = np.zeros(max(2 * self.fills.shape[0], self.counts[_mk.C_FILLS] + need_f),
                           dtype=FILL_DTYPE)
            new[: self.fills.shape[0]] = self.fills
            self.fills = new
        need_e = need_f // 2 + 4
        if self.out_events.shape[0] - self.counts[_mk.C_EVENTS] < need_e:
            new = empty_events(max(2 * self.out_events.shape[0],
                                   self.counts[_mk.C_EVENTS] + need_e))
            new[: self.out_events.shape[0]] = self.out_events
            self.out_events = new

    def _drain(self, f0: int, e0: int) -> tuple[np.ndarray, np.ndarray]:
        f = self.fills[f0: self.counts[_mk.C_FILLS]].copy()
        e = self.out_events[e0: self.counts[_mk.C_EVENTS]].copy()
        self.counts[_mk.C_FILLS] = 0
        self.counts[_mk.C_EVENTS] = 0
        return f, e

    def _px(self, px: float | None, px_tick: int | None, required: bool) -> int:
        if px is not None and px_tick is not None:
            raise ParameterError("give px or px_tick, not both")
        if px_tick is not None:
            if isinstance(px_tick, bool) or not isinstance(px_tick, (int, np.integer)):
                raise ParameterError(f"px_tick must be an int, was {px_tick!r}")
            return int(px_tick)
        if px is not None:
            if self.instrument is None:
                raise ParameterError("px needs an instrument to convert it; give px_tick")
            try:
                return int(self.instrument.to_ticks(float(px), field="px"))
            except ValueError as exc:
                raise OrderRejected(f"order refused: BAD_PRICE: {exc}") from exc
        if required:
            raise ParameterError("a limit order needs px or px_tick")
        return 0

    # ------------------------------------------------------------------ orders
    def submit(self, side: Side | int, qty: float, *, px: float | None = None,
               px_tick: int | None = None, order_type: OrderType | int = OrderType.LIMIT,
               tif: TimeInForce | int = TimeInForce.GTC, owner: int = -1,
               order_id: int | None = None, stp: StpPolicy | int | None = None,
               ts: int = 0) -> OrderResult:
        """Submit a new order and match it.

        Parameters
        ----------
        side
            ``Side.BUY`` or ``Side.SELL``.
        qty
            Quantity (> 0, finite).
        px, px_tick
            Limit price in currency (needs the engine's instrument; must lie on its
            tick grid) or in ticks; not for market orders.
        order_type, tif
            :class:`qlib.enums.OrderType`, :class:`qlib.enums.TimeInForce`.
        owner
            Owner (account) id for self-trade prevention (>= 0 to take part).
        order_id
            Unique among resting orders; the engine numbers it from ``2**62`` when None.
        stp
            Self-trade prevention policy of this order (engine default when None).
        ts
            Engine time, ns since the epoch (stamps fills and events).

        Returns
        -------
        OrderResult

        Raises
        ------
        OrderRejected
            If the order is refused (bad side, quantity or price, duplicate id,
            post-only that would cross under the ``"reject"`` policy); the message
            names the :class:`qlib.enums.RejectReason` and the value. Nothing changed.
        ParameterError
            On an unknown order type, time in force or policy code.
        """
        otype = _check_enum("order_type", order_type, OrderType)
        tif_ = _check_enum("tif", tif, TimeInForce)
        stp_ = int(self.stp) if stp is None else _check_enum("stp", stp, StpPolicy)
        p = self._px(px, px_tick, otype == OrderType.LIMIT)
        if order_id is None:
            order_id = self._next_id
            self._next_id += 1
        f0, e0 = int(self.counts[_mk.C_FILLS]), int(self.counts[_mk.C_EVENTS])
        while True:
            status, reason, filled, rested, cancelled = _mk.submit(
                *self.state, np.uint64(order_id), np.int64(side), np.int64(p), float(qty),
                np.int64(otype), np.int64(tif_), np.int64(stp_), self.post_only == "reprice",
                np.int64(owner), np.int64(ts))
            if status != Status.CAPACITY:
                break
            self._grow()
        if status == Status.REJECTED:
            raise _rejected(RejectReason(reason), order_id, side, qty, p)
        fills, events = self._drain(f0, e0)
        rest_px = p
        if rested > 0 and len(events) and events[-1]["kind"] == 1:
            rest_px = int(events[-1]["px_tick"])
        return OrderResult(int(order_id), float(filled), float(rested), float(cancelled),
                           RejectReason(reason), rest_px, fills, events)

    def cancel(self, order_id: int, *, ts: int = 0) -> OrderResult:
        """Cancel a resting order's whole remainder.

        Raises
        ------
        OrderRejected
            ``UNKNOWN_ORDER`` if the id is not resting.
        """
        while True:
            status, reason, q = _mk.cancel(*self.state, np.uint64(order_id), np.int64(ts))
            if status != Status.CAPACITY:
                break
            self._grow()
        if status == Status.REJECTED:
            raise _rejected(RejectReason(reason), order_id, None, None, None)
        fills, events = self._drain(0, 0)
        return OrderResult(int(order_id), 0.0, 0.0, float(q), RejectReason.NONE,
                           int(events[0]["px_tick"]), fills, events)

    def modify(self, order_id: int, qty: float, *, px: float | None = None,
               px_tick: int | None = None, stp: StpPolicy | int | None = None,
               ts: int = 0) -> OrderResult:
        """Set a resting order's remaining quantity and (optionally) price.

        Less quantity at the same price keeps its place in the queue; a price change
        or more quantity sends it to the back (and it may trade). ``qty == 0``
        cancels it. The price stays when neither ``px`` nor ``px_tick`` is given.

        Raises
        ------
        OrderRejected
            ``UNKNOWN_ORDER``, ``BAD_QTY`` or ``BAD_PRICE``; nothing changed.
        """
        stp_ = int(self.stp) if stp is None else _check_enum("stp", stp, StpPolicy)
        if px is None and px_tick is None:
            st = self.book.state
            pos = _lk.map_pos(st.hkey, st.hslot, st.meta[_lk.M_SHIFT], np.uint64(order_id))
            p = int(st.pool[st.hslot[pos]]["px_tick"]) if pos >= 0 else 1
        else:
            p = self._px(px, px_tick, True)
        while True:
            status, reason, filled, rested, cancelled = _mk.modify(
                *self.state, np.uint64(order_id), np.int64(p), float(qty), np.int64(stp_),
                self.post_only == "reprice", np.int64(ts))
            if status != Status.CAPACITY:
                break
            self._grow()
        if status == Status.REJECTED:
            raise _rejected(RejectReason(reason), order_id, None, qty, p)
        fills, events = self._drain(0, 0)
        return OrderResult(int(order_id), float(filled), float(rested), float(cancelled),
                           RejectReason(reason), p, fills, events)

    # ------------------------------------------------------------------ market data
    def apply(self, events: np.ndarray) -> None:
        """Apply market-data events to the engine's book (see :meth:`L3Book.apply`)."""
        require_dtype(events, EVENT_DTYPE, name="events")
        self.book.apply(events)

    def best(self, side: Side | int) -> tuple[int, float] | None:
        """``(px_tick, qty)`` of the best level of ``side``, or None."""
        return self.book.best(side)


def _rejected(reason: RejectReason, order_id: int, side, qty, px_tick) -> OrderRejected:
    what = {
        RejectReason.BAD_SIDE: f"side was {side!r}, expected Side.BUY or Side.SELL",
        RejectReason.BAD_QTY: f"qty was {qty!r}, expected a finite number > 0"
                              " (>= 0 on a modify)",
        RejectReason.BAD_PRICE: f"px_tick was {px_tick!r}, expected a positive number of ticks",
        RejectReason.BAD_TYPE: "order type and time in force do not go together"
                               " (a market order cannot be post-only)",
        RejectReason.DUPLICATE_ORDER: f"order_id {order_id} is already resting",
        RejectReason.UNKNOWN_ORDER: f"order_id {order_id} is not resting",
        RejectReason.POST_ONLY_WOULD_CROSS: f"post-only order at px_tick {px_tick} would"
                                            " take liquidity",
    }.get(reason, "")
    err = OrderRejected(f"order {order_id} refused: {reason.name}: {what}")
    err.reason = reason  # type: ignore[attr-defined]
    err.order_id = order_id  # type: ignore[attr-defined]
    return err
