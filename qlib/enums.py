"""Enumerations shared by every layer of qlib.

This is the only module that defines code values. All enums are
:class:`enum.IntEnum`, so numba kernels can use them as integer constants
(``EventKind.ADD`` compiles to the literal 1) and structured arrays store them in
small integer fields.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = [
    "EventFlag",
    "EventKind",
    "IvStatus",
    "KillEvent",
    "KillReason",
    "LatencyModelKind",
    "LiquiditySide",
    "OptionRight",
    "OrderEvent",
    "OrderStatus",
    "OrderAction",
    "OrderType",
    "PreTradeReject",
    "QueueModelKind",
    "RejectReason",
    "RingPolicy",
    "Side",
    "Status",
    "StpPolicy",
    "StrategyKind",
    "TimeInForce",
]


class EventKind(IntEnum):
    """What a row of :data:`qlib.dtypes.EVENT_DTYPE` describes.

    Order-level (L3) kinds carry an ``order_id``; price-level (L2) kinds carry the
    absolute quantity resting at ``px_tick``.

    Attributes
    ----------
    ADD
        L3: a new visible limit order ``order_id`` rests at ``px_tick`` with ``qty``.
    CANCEL
        L3: partial cancel; ``qty`` is the quantity *removed* from ``order_id``.
    DELETE
        L3: ``order_id`` leaves the book entirely (``qty`` is what it had left,
        when the source says so).
    EXECUTE
        L3: the resting visible order ``order_id`` traded ``qty`` at ``px_tick``;
        ``side`` is the resting order's side, so the aggressor is ``-side``.
    MODIFY
        L3: ``order_id`` now rests at ``px_tick`` with remaining ``qty``
        (absolute values, as Databento's ``M`` action).
    TRADE
        A trade print that does not by itself change the book: an L2 venue's trade
        stream, an execution against hidden liquidity, an auction cross. ``side`` is
        the aggressor's side (``Side.NONE`` when unknown).
    DEPTH
        L2: the absolute quantity resting at ``px_tick`` on ``side`` is now ``qty``;
        ``qty == 0`` removes the level.
    SNAPSHOT
        L2 or L3 snapshot level/order (absolute quantity). A snapshot is preceded by
        a ``CLEAR`` of the side(s) it replaces.
    CLEAR
        Remove every level/order on ``side`` (both sides when ``Side.NONE``).
    QUOTE
        Best bid or offer published by the venue (``side`` says which); it does not
        change a reconstructed book and serves as a cross-check.
    HALT
        Trading halted (LOBSTER type 7 with price -1).
    RESUME_QUOTING
        Quoting resumes, trading not yet (LOBSTER type 7 with price 0).
    RESUME_TRADING
        Trading resumes (LOBSTER type 7 with price 1).
    TRADE_SUBTICK
        A trade print at a price *off* the instrument's tick grid: a hidden
        mid-point or sub-penny execution (LOBSTER's half-cent type 5 rows, for
        example). It never changes a book, a queue or a level. Its ``px_tick``
        is in units of ``tick_size / SUBTICK_SCALE`` (:data:`qlib.dtypes.SUBTICK_SCALE`),
        so the true price is ``px_tick * tick_size / SUBTICK_SCALE`` exactly for
        any price with up to six more decimals than the tick; ``side`` is the
        aggressor's side as for ``TRADE``.
    """

    ADD = 1
    CANCEL = 2
    DELETE = 3
    EXECUTE = 4
    MODIFY = 5
    TRADE = 6
    DEPTH = 7
    SNAPSHOT = 8
    CLEAR = 9
    QUOTE = 10
    HALT = 11
    RESUME_QUOTING = 12
    RESUME_TRADING = 13
    TRADE_SUBTICK = 14


class Side(IntEnum):
    """Book side or aggressor side; ``BUY`` is the bid side."""

    SELL = -1
    NONE = 0
    BUY = 1


class EventFlag(IntFlag):
    """Bit flags in the ``flags`` field of an event.

    Attributes
    ----------
    LAST
        Last record of one exchange event (a message, a diff, a CME packet event):
        the book is consistent only after a record carrying this bit.
    SNAPSHOT
        The record belongs to an initial or recovery snapshot.
    HIDDEN
        Execution against hidden (non-displayed) liquidity.
    AUCTION
        Auction or cross trade.
    TS_LOCAL_SYNTH
        ``ts_local`` was not in the source and was derived (set equal to
        ``ts_exch`` plus any configured feed latency).
    BAD_TS_LOCAL
        The source marks the receive time as unreliable (Databento
        ``F_BAD_TS_RECV``).
    SUMMARY
        A ``TRADE`` print that summarises the ``EXECUTE`` records of the same
        exchange event (one print per aggressive order, as the simulated market
        emits): its quantity is already in those records, so count volume from
        one or the other, never both.
    RESYNC
        An L2 correction (``DEPTH`` with the absolute level quantity) that the loader
        derived from a source's own book view for a change its message stream omits
        (a LOBSTER file holds only messages that touch its first L levels, so orders
        moving in from deeper levels appear in the orderbook file only).
    """

    NONE = 0
    LAST = 1
    SNAPSHOT = 2
    HIDDEN = 4
    AUCTION = 8
    TS_LOCAL_SYNTH = 16
    BAD_TS_LOCAL = 32
    SUMMARY = 64
    RESYNC = 128


class Status(IntEnum):
    """Return codes of numba kernels; the Python wrapper turns them into errors."""

    OK = 0
    UNSORTED = 1
    NON_FINITE = 2
    NEGATIVE_QTY = 3
    CROSSED = 4
    UNKNOWN_ORDER = 5
    DUPLICATE_ORDER = 6
    UNKNOWN_KIND = 7
    OFF_GRID = 8
    CAPACITY = 9
    SEQUENCE_GAP = 10
    #: An order was refused by the matching engine; a :class:`RejectReason` says why.
    REJECTED = 11
    #: Ring buffers (:mod:`qlib.ring`), codes 20-29: the ring was full under the
    #: ``RAISE`` policy (nothing written).
    RING_FULL = 20
    #: A non-blocking pop found the ring empty (nothing read).
    RING_EMPTY = 21
    #: A ``BLOCK``-policy push waited for its timeout and the ring stayed full.
    RING_TIMEOUT = 22
    #: Orders and portfolio (:mod:`qlib.oms`), codes 30-39: the order state machine
    #: has no edge for this (state, event) pair; nothing was applied.
    ILLEGAL_TRANSITION = 30
    #: A fill would take an order's filled quantity above its order quantity, or a
    #: replace would set the order quantity at or below what has already filled.
    OVERFILL = 31
    #: An instrument index outside the portfolio.
    UNKNOWN_INSTRUMENT = 32
    #: A side that is not ``BUY`` or ``SELL`` (or a liquidity that is not ``MAKER``/``TAKER``).
    BAD_SIDE = 33
    #: A price that is not a positive number of ticks.
    BAD_PRICE = 34
    #: A price too large for int64 ticks (the conversion would overflow).
    PRICE_OVERFLOW = 35


class OrderType(IntEnum):
    """Order type accepted by the matching engine (:mod:`qlib.book.matching`).

    Attributes
    ----------
    LIMIT
        Trades at ``px_tick`` or better; any remainder follows the time in force.
    MARKET
        Trades at any price against the resting book; a remainder is cancelled
        (a market order never rests), whatever the time in force says, except that
        ``FOK`` still means all or nothing.
    """

    LIMIT = 0
    MARKET = 1


class TimeInForce(IntEnum):
    """How long an order's unfilled remainder lives.

    Attributes
    ----------
    GTC
        Good till cancelled: the remainder rests in the book.
    IOC
        Immediate or cancel: trade what can be traded now, cancel the rest; never rests.
    FOK
        Fill or kill: trade the whole quantity now or nothing at all.
    GTX
        Post-only (Binance's "good till crossing"): the order may only add liquidity.
        If it would trade on entry the engine rejects it or reprices it one tick
        behind the opposite best, as the engine's ``post_only`` policy says.
    """

    GTC = 0
    IOC = 1
    FOK = 2
    GTX = 3


class LiquiditySide(IntEnum):
    """Whether a fill added (``MAKER``) or took (``TAKER``) liquidity."""

    NONE = 0
    MAKER = 1
    TAKER = 2


class StpPolicy(IntEnum):
    """Self-trade prevention: what the engine does when an incoming order would
    trade with a resting order of the same owner (owner ids >= 0 only).

    Attributes
    ----------
    NONE
        No prevention: orders of one owner may trade with each other.
    CANCEL_RESTING
        Cancel the resting order (its whole remainder) and keep matching
        (CME "cancel resting", Binance ``EXPIRE_MAKER``).
    CANCEL_AGGRESSING
        Cancel the incoming order's remainder and stop (Binance ``EXPIRE_TAKER``).
    DECREMENT_BOTH
        Reduce both orders by the smaller remaining quantity, without a fill, and
        keep matching (Coinbase/FIX "decrement and cancel").
    """

    NONE = 0
    CANCEL_RESTING = 1
    CANCEL_AGGRESSING = 2
    DECREMENT_BOTH = 3


class RejectReason(IntEnum):
    """Why the matching engine refused an order, or cancelled part of it.

    Attributes
    ----------
    NONE
        Nothing was refused or cancelled by the engine.
    BAD_SIDE
        ``side`` was not ``BUY`` or ``SELL``.
    BAD_QTY
        Quantity not finite and > 0 (or, on a modify, not finite and >= 0).
    BAD_PRICE
        Limit price not a positive number of ticks (off the tick grid at the API edge).
    BAD_TYPE
        Unknown :class:`OrderType`, :class:`TimeInForce` or :class:`StpPolicy` code.
    DUPLICATE_ORDER
        The order id is already resting.
    UNKNOWN_ORDER
        Cancel or modify of an order id that is not resting.
    POST_ONLY_WOULD_CROSS
        A ``GTX`` order would have traded on entry (reject policy).
    FOK_NOT_FILLABLE
        A ``FOK`` order could not be filled in full; nothing traded (a kill).
    SELF_TRADE
        Self-trade prevention cancelled (part of) the order.
    IOC_REMAINDER
        The unfilled remainder of an ``IOC`` or market order was cancelled.
    """

    NONE = 0
    BAD_SIDE = 1
    BAD_QTY = 2
    BAD_PRICE = 3
    BAD_TYPE = 4
    DUPLICATE_ORDER = 5
    UNKNOWN_ORDER = 6
    POST_ONLY_WOULD_CROSS = 7
    FOK_NOT_FILLABLE = 8
    SELF_TRADE = 9
    IOC_REMAINDER = 10


class OptionRight(IntEnum):
    """Right of an option; the value is the payoff sign :math:`\\omega` of
    :math:`\\max(\\omega (S - K), 0)` used by the Black-Scholes-Merton kernels."""

    PUT = -1
    CALL = 1


class IvStatus(IntEnum):
    """Per-option outcome of the implied-volatility solver (:mod:`qlib.risk.greeks`).

    Attributes
    ----------
    OK
        Converged: the model price at the returned vol matches the input price.
    BELOW_LOWER_BOUND
        Price at or below the no-arbitrage lower bound (discounted intrinsic value of
        the forward): no positive volatility reproduces it.
    ABOVE_UPPER_BOUND
        Price at or above the no-arbitrage upper bound (:math:`S e^{-qT}` for a call,
        :math:`K e^{-rT}` for a put).
    NO_CONVERGENCE
        The safeguarded Newton/bisection iteration hit its iteration limit.
    BAD_INPUT
        A non-finite or out-of-domain input (price, spot, strike, time, right).
    """

    OK = 0
    BELOW_LOWER_BOUND = 1
    ABOVE_UPPER_BOUND = 2
    NO_CONVERGENCE = 3
    BAD_INPUT = 4


class OrderStatus(IntEnum):
    """State of an order in the order state machine (:mod:`qlib.oms.orders`).

    Attributes
    ----------
    NEW
        Created locally, not yet sent.
    PENDING_NEW
        Sent to the venue, not yet acknowledged.
    LIVE
        Acknowledged and working, nothing filled.
    PARTIALLY_FILLED
        Working, with ``0 < filled < qty``.
    FILLED
        Completely filled (terminal).
    PENDING_CANCEL
        A cancel request is in flight.
    CANCELLED
        Cancelled by the venue (terminal).
    PENDING_REPLACE
        A cancel/replace (modify) request is in flight.
    REJECTED
        Refused before it worked, by pre-trade risk or by the venue (terminal).
    EXPIRED
        Remainder ended by its time in force (IOC, FOK, day) (terminal).
    """

    NEW = 0
    PENDING_NEW = 1
    LIVE = 2
    PARTIALLY_FILLED = 3
    FILLED = 4
    PENDING_CANCEL = 5
    CANCELLED = 6
    PENDING_REPLACE = 7
    REJECTED = 8
    EXPIRED = 9


class OrderEvent(IntEnum):
    """Events that move an order through :class:`OrderStatus` (:mod:`qlib.oms.orders`).

    Attributes
    ----------
    SUBMIT
        The order is sent to the venue.
    ACK
        The venue accepted the new order.
    REJECT
        The new order was refused (pre-trade risk or venue).
    PARTIAL_FILL
        An execution that leaves part of the order open.
    FILL
        An execution that completes the order.
    CANCEL_REQUEST, CANCEL_ACK, CANCEL_REJECT
        A cancel is sent, confirmed, or refused by the venue.
    REPLACE_REQUEST, REPLACE_ACK, REPLACE_REJECT
        A cancel/replace (new price and/or quantity) is sent, confirmed, or refused.
    EXPIRE
        The venue ended the remainder by time in force.
    """

    SUBMIT = 0
    ACK = 1
    REJECT = 2
    PARTIAL_FILL = 3
    FILL = 4
    CANCEL_REQUEST = 5
    CANCEL_ACK = 6
    CANCEL_REJECT = 7
    REPLACE_REQUEST = 8
    REPLACE_ACK = 9
    REPLACE_REJECT = 10
    EXPIRE = 11


class RingPolicy(IntEnum):
    """What a ring buffer's producer does when the ring is full (:mod:`qlib.ring`).

    Attributes
    ----------
    BLOCK
        Wait (spin with ``pause``, then ``sched_yield``) until the consumer frees a
        slot, or until the ring's timeout; then the push returns ``RING_TIMEOUT``.
    DROP_OLDEST
        Overwrite the oldest unread record; the consumer detects the overrun and
        counts the lost records in ``dropped``. A push never fails or waits.
    RAISE
        Refuse the record: the kernel returns ``RING_FULL``, the Python wrapper
        raises :class:`qlib.ring.RingFullError`.
    """

    BLOCK = 0
    DROP_OLDEST = 1
    RAISE = 2


class PreTradeReject(IntEnum):
    """Verdict of the pre-trade risk kernel (:mod:`qlib.risk.pretrade`): ``APPROVED``
    or the first check that refused the order, in the order the kernel runs them.

    Attributes
    ----------
    APPROVED
        Every enabled check passed; the throttles were charged and the order reserved.
    KILL_SWITCH
        The kill switch is tripped: nothing is approved until an explicit reset.
    BAD_INTENT
        Unknown instrument index or order type, side not ``BUY``/``SELL``, quantity
        not finite and > 0, or a limit price not > 0 ticks.
    STALE_MARKET_DATA
        The instrument's reference price is older than ``max_md_age_ns``; trips the
        kill switch.
    DAILY_LOSS
        The day's P&L loss exceeds ``max_daily_loss``; trips the kill switch.
    DRAWDOWN
        The P&L drawdown from its high-water mark exceeds ``max_drawdown``; trips
        the kill switch.
    MAX_ORDER_QTY
        Order quantity above ``max_order_qty``.
    NO_REFERENCE_PRICE
        No reference price (<= 0 ticks) for the instrument: collar, notional and
        exposure checks cannot be computed.
    PRICE_COLLAR
        Limit price further than ``collar_bps`` from the reference price (fat finger).
    MAX_ORDER_NOTIONAL
        Order notional above ``max_order_notional``.
    POSITION_NET
        Worst-case net position of the instrument above its ``max_position_qty``.
    POSITION_GROSS
        Gross exposure across instruments above ``max_gross_notional``.
    CONCENTRATION
        The instrument's exposure above ``max_concentration`` times equity.
    MARGIN
        Margin required by the gross exposure above equity (buying power).
    MAX_OPEN_ORDERS
        Open orders already at ``max_open_orders``.
    SELF_TRADE
        The order would trade against one of our own resting orders.
    ORDER_RATE
        The order-rate token bucket is empty.
    MESSAGE_RATE
        The message-rate token bucket is empty.
    """

    APPROVED = 0
    KILL_SWITCH = 1
    BAD_INTENT = 2
    STALE_MARKET_DATA = 3
    DAILY_LOSS = 4
    DRAWDOWN = 5
    MAX_ORDER_QTY = 6
    NO_REFERENCE_PRICE = 7
    PRICE_COLLAR = 8
    MAX_ORDER_NOTIONAL = 9
    POSITION_NET = 10
    POSITION_GROSS = 11
    CONCENTRATION = 12
    MARGIN = 13
    MAX_OPEN_ORDERS = 14
    SELF_TRADE = 15
    ORDER_RATE = 16
    MESSAGE_RATE = 17


class KillReason(IntEnum):
    """Why the kill switch was tripped or reset (:mod:`qlib.risk.pretrade`).

    Attributes
    ----------
    NONE
        Not tripped.
    MANUAL
        Tripped or reset by hand (Python call, dashboard button).
    DAILY_LOSS
        Automatic: the day's loss exceeded ``max_daily_loss``.
    DRAWDOWN
        Automatic: the drawdown exceeded ``max_drawdown``.
    REJECT_STORM
        Automatic: more than ``max_rejects`` rejects within ``reject_window_ns``.
    STALE_MARKET_DATA
        Automatic: an order was checked against a reference price older than
        ``max_md_age_ns``.
    LATENCY_SPIKE
        Automatic: an observed latency exceeded ``max_latency_ns``.
    """

    NONE = 0
    MANUAL = 1
    DAILY_LOSS = 2
    DRAWDOWN = 3
    REJECT_STORM = 4
    STALE_MARKET_DATA = 5
    LATENCY_SPIKE = 6


class KillEvent(IntEnum):
    """Kind of a kill-switch journal entry: the switch was tripped or reset."""

    TRIP = 1
    RESET = 2


class StrategyKind(IntEnum):
    """Built-in strategy kernels of :mod:`qlib.strategy` (dispatched inside the engine loop).

    Attributes
    ----------
    CUSTOM
        A user's jitted kernel passed as a function (compiled per process, not cached).
    AVELLANEDA_STOIKOV
        Avellaneda and Stoikov (2008): inventory-skewed reservation price, optimal spread.
    GLFT
        Gueant, Lehalle and Fernandez-Tapia (2013): closed-form infinite-horizon quotes.
    GRID
        A grid market maker: ``levels`` quotes per side ``step`` ticks apart.
    IMBALANCE
        Quotes around a fair value shifted by the book-imbalance signal.
    TOUCH
        Joins the best bid and ask with a fixed size (the parity and benchmark strategy).
    """

    CUSTOM = 0
    AVELLANEDA_STOIKOV = 1
    GLFT = 2
    GRID = 3
    IMBALANCE = 4
    TOUCH = 5


class QueueModelKind(IntEnum):
    r"""How the backtest estimates our place in a price level's queue (:mod:`qlib.engine.models`).

    Attributes
    ----------
    RISK_ADVERSE
        Conservative: only trades at our price advance us; cancellations never do
        (the quantity ahead is only capped at the level's size).
    PROB_POWER
        Probabilistic: a decrease of the level is split between ahead and behind with
        probability :math:`f(\text{behind}) / (f(\text{behind}) + f(\text{ahead}))`,
        :math:`f(x) = x^n`.
    PROB_LOG
        As ``PROB_POWER`` with :math:`f(x) = \log(1 + x)`.
    L3_FIFO
        Exact FIFO position from order-level (L3) data.
    """

    RISK_ADVERSE = 0
    PROB_POWER = 1
    PROB_LOG = 2
    L3_FIFO = 3


class LatencyModelKind(IntEnum):
    """How the backtest delays our orders (:mod:`qlib.engine.models`).

    Attributes
    ----------
    CONSTANT
        A fixed entry (local to exchange) and response (exchange to local) latency per action.
    FEED_PROPORTIONAL
        ``a * feed_latency + b`` per action, ``feed_latency`` the recent average of the
        data's ``ts_local - ts_exch``.
    REPLAY
        Interpolated from a log of measured order round trips; a record may say "rejected".
    """

    CONSTANT = 0
    FEED_PROPORTIONAL = 1
    REPLAY = 2


class OrderAction(IntEnum):
    """What a message to the venue asks: the key of per-action latencies."""

    SUBMIT = 0
    MODIFY = 1
    CANCEL = 2
