"""Structured dtypes for the hot path, and the check every public entry point runs.

This is the only module that defines field names of arrays passed to kernels.
"""

from __future__ import annotations

import numpy as np

from qlib.errors import SchemaError

__all__ = [
    "BBO_DTYPE",
    "BT_FILL_DTYPE",
    "BT_RECORD_DTYPE",
    "ENGINE_CONFIG_DTYPE",
    "ENGINE_MSG_TO_EXCH_DTYPE",
    "ENGINE_MSG_TO_LOCAL_DTYPE",
    "ENGINE_ORDER_STATE_DTYPE",
    "ENGINE_STATE_DTYPE",
    "EVENT_DTYPE",
    "EVENT_FIELDS",
    "FILL_DTYPE",
    "INTENT_DTYPE",
    "L3_LEVEL_DTYPE",
    "L3_ORDER_DTYPE",
    "L3_SLOT_DTYPE",
    "ORDER_DTYPE",
    "ORDER_JOURNAL_DTYPE",
    "POSITION_DTYPE",
    "SUBTICK_SCALE",
    "VIEW_DTYPE",
    "VIEW_FEATURE_FIELDS",
    "VIEW_LEVELS",
    "empty_events",
    "require_dtype",
]

EVENT_DTYPE = np.dtype(
    [
        ("ts_exch", "i8"),
        ("ts_local", "i8"),
        ("seq", "i8"),
        ("px_tick", "i8"),
        ("qty", "f8"),
        ("order_id", "u8"),
        ("kind", "u1"),
        ("side", "i1"),
        ("flags", "u1"),
    ],
    align=True,
)
"""One market-data event: 56 bytes, naturally aligned.

Fields
------
ts_exch : int64
    Exchange timestamp, nanoseconds since the Unix epoch, UTC.
ts_local : int64
    Local receive timestamp, nanoseconds since the Unix epoch, UTC. Where the
    source has none (LOBSTER), it is derived and the ``TS_LOCAL_SYNTH`` flag is set.
seq : int64
    The venue's sequence or update id (Binance final update id ``u``, trade id for
    trades; CME MDP sequence; LOBSTER message row). ``-1`` when the source has none.
px_tick : int64
    Price in integer ticks of the instrument (``price = px_tick * tick_size``);
    for ``TRADE_SUBTICK`` prints, in millionths of a tick (:data:`SUBTICK_SCALE`).
qty : float64
    Quantity in the instrument's quantity unit (shares, contracts, base asset);
    its meaning per kind is given in :class:`qlib.enums.EventKind`.
order_id : uint64
    Venue order id for L3 kinds, 0 otherwise.
kind : uint8
    :class:`qlib.enums.EventKind`.
side : int8
    :class:`qlib.enums.Side` (+1 bid/buy, -1 ask/sell, 0 none).
flags : uint8
    :class:`qlib.enums.EventFlag` bits.
"""

#: Field names of :data:`EVENT_DTYPE` with their units, for docs and ``to_pandas``.
EVENT_FIELDS: dict[str, str] = {
    "ts_exch": "int64 ns since epoch, UTC (exchange clock)",
    "ts_local": "int64 ns since epoch, UTC (receive clock)",
    "seq": "venue sequence / update id, -1 if none",
    "px_tick": "int64 price in ticks",
    "qty": "float64 quantity in the instrument's unit",
    "order_id": "uint64 venue order id (L3), 0 otherwise",
    "kind": "uint8 EventKind",
    "side": "int8 Side",
    "flags": "uint8 EventFlag bits",
}

#: Sub-tick price unit of :attr:`qlib.enums.EventKind.TRADE_SUBTICK` events: their
#: ``px_tick`` counts ``tick_size / SUBTICK_SCALE`` (a millionth of a tick), so a print
#: at a price with up to six decimals below the tick keeps its true price exactly
#: (LOBSTER's half-cent GOOG prints: ``0.005 / 0.01 * 10**6 = 500_000`` units past the
#: tick below). int64 holds prices up to 9.2e12 ticks in this unit.
SUBTICK_SCALE = 1_000_000

assert EVENT_DTYPE.itemsize <= 64  # contract in DESIGN.md; a code invariant, not user input

BBO_DTYPE = np.dtype(
    [
        ("ts_exch", "i8"),
        ("ts_local", "i8"),
        ("seq", "i8"),
        ("bid_px_tick", "i8"),
        ("ask_px_tick", "i8"),
        ("bid_qty", "f8"),
        ("ask_qty", "f8"),
    ],
    align=True,
)
"""Best bid and offer of a reconstructed book after one event (see :func:`qlib.book.replay_bbo`).

Fields
------
ts_exch, ts_local, seq : int64
    Copied from the event after which the book was read.
bid_px_tick, ask_px_tick : int64
    Best bid / best ask price in ticks; 0 when that side is empty.
bid_qty, ask_qty : float64
    Quantity resting at the best bid / ask; 0.0 exactly when that side is empty
    (a level with quantity 0 does not exist, so 0.0 is unambiguous).
"""

FILL_DTYPE = np.dtype(
    [
        ("ts_exch", "i8"),
        ("match_id", "i8"),
        ("order_id", "u8"),
        ("contra_order_id", "u8"),
        ("owner", "i8"),
        ("contra_owner", "i8"),
        ("px_tick", "i8"),
        ("qty", "f8"),
        ("side", "i1"),
        ("liquidity", "u1"),
    ],
    align=True,
)
"""One party's side of one match in :class:`qlib.book.MatchingEngine`: 72 bytes, aligned.

Every match writes two records with the same ``match_id``, the taker's
(``liquidity == TAKER``) first, then the maker's, so an order management system
reads its own executions by ``owner`` and either party's view is one filter away.

Fields
------
ts_exch : int64
    Engine time of the match (the time of the incoming order), ns since the epoch, UTC.
match_id : int64
    Sequence number of the match in the engine, from 0; shared by its two records.
order_id : uint64
    This party's order id (``0`` for anonymous resting liquidity, see :mod:`qlib.book.l3`).
contra_order_id : uint64
    The other party's order id.
owner, contra_owner : int64
    Owner (account) ids of this party and of the other; ``-1`` for market-data orders.
px_tick : int64
    Match price in ticks: the resting (maker) order's price.
qty : float64
    Matched quantity (> 0).
side : int8
    :class:`qlib.enums.Side` of *this party's* order (the taker's side is the aggressor side).
liquidity : uint8
    :class:`qlib.enums.LiquiditySide`, ``MAKER`` or ``TAKER``.
"""

L3_ORDER_DTYPE = np.dtype(
    [
        ("order_id", "u8"),
        ("px_tick", "i8"),
        ("qty", "f8"),
        ("ahead_qty", "f8"),
        ("owner", "i8"),
        ("ts_entry", "i8"),
        ("queue_idx", "i8"),
        ("side", "i1"),
        ("anonymous", "u1"),
    ],
    align=True,
)
"""One queue entry of an order-level book, as :meth:`qlib.book.L3Book.orders` lists them.

Fields
------
order_id : uint64
    Venue order id; ``0`` for an anonymous block (liquidity known only by its total,
    see :mod:`qlib.book.l3`).
px_tick : int64
    Price level in ticks.
qty : float64
    Remaining quantity (> 0).
ahead_qty : float64
    Quantity ahead of this entry in its level's FIFO queue (its queue position).
owner : int64
    Owner id (``-1`` for market-data orders and anonymous blocks).
ts_entry : int64
    Time the entry took its place in the queue (ns, UTC): the ``ts_exch`` of its
    ``ADD`` or of the last modify that lost priority.
queue_idx : int64
    0-based place in the level's queue (0 = first to trade).
side : int8
    :class:`qlib.enums.Side`.
anonymous : uint8
    1 for an anonymous block, 0 for an identified order.
"""

L3_SLOT_DTYPE = np.dtype(
    [
        ("order_id", "u8"),
        ("px_tick", "i8"),
        ("qty", "f8"),
        ("next", "i8"),
        ("prev", "i8"),
        ("level", "i8"),
        ("owner", "i8"),
        ("ts_entry", "i8"),
        ("side", "i1"),
        ("flags", "u1"),
    ],
    align=True,
)
"""One slot of the order pool of :class:`qlib.book.L3Book` (kernel state, 72 bytes).

Fields
------
order_id, px_tick, qty, owner, ts_entry, side
    As in :data:`L3_ORDER_DTYPE`.
next, prev : int64
    Pool slots of the neighbours in the level's FIFO queue (``-1`` at the ends);
    ``next`` links the free list while the slot is unused.
level : int64
    Slot of the entry's level in :data:`L3_LEVEL_DTYPE` state.
flags : uint8
    Bit 1: slot in use; bit 2: anonymous block (not in the order-id map).
"""

L3_LEVEL_DTYPE = np.dtype(
    [
        ("px_tick", "i8"),
        ("head", "i8"),
        ("tail", "i8"),
        ("n", "i8"),
        ("qty", "f8"),
        ("anon_qty", "f8"),
        ("side", "i1"),
    ],
    align=True,
)
"""One price level of :class:`qlib.book.L3Book` (kernel state, 56 bytes).

Fields
------
px_tick : int64
    Price in ticks.
head, tail : int64
    Pool slots of the first (oldest, next to trade) and last entry of the FIFO queue;
    ``head`` links the free list while the level is unused.
n : int64
    Entries in the queue (orders and anonymous blocks).
qty, anon_qty : float64
    Total quantity of the level, and the part of it in anonymous blocks.
side : int8
    :class:`qlib.enums.Side`.
"""


ORDER_DTYPE = np.dtype(
    [
        ("order_id", "u8"),
        ("instrument", "i8"),
        ("px_tick", "i8"),
        ("qty", "f8"),
        ("filled_qty", "f8"),
        ("filled_notional_tick", "f8"),
        ("pending_px_tick", "i8"),
        ("pending_qty", "f8"),
        ("ts_created", "i8"),
        ("ts_last", "i8"),
        ("side", "i1"),
        ("order_type", "u1"),
        ("tif", "u1"),
        ("state", "u1"),
        ("resume_state", "u1"),
    ],
    align=True,
)
"""One order of :class:`qlib.oms.OrderTracker` (kernel state, one slot per order).

Fields
------
order_id : uint64
    Client order id (unique within a tracker).
instrument : int64
    Index of the instrument in the owning :class:`qlib.oms.Portfolio` (0 if unused).
px_tick : int64
    Limit price in ticks (0 for market orders).
qty : float64
    Order quantity (> 0); changed by a ``REPLACE_ACK``.
filled_qty : float64
    Cumulative filled quantity, ``0 <= filled_qty <= qty``.
filled_notional_tick : float64
    Sum of fill ``qty * px_tick`` (average fill price = this / ``filled_qty``, in ticks).
pending_px_tick, pending_qty : int64, float64
    Price and quantity of the replace request in flight (meaningful in ``PENDING_REPLACE``).
ts_created, ts_last : int64
    Time the order was created and time of its last applied transition, ns since epoch, UTC.
side : int8
    :class:`qlib.enums.Side`.
order_type, tif : uint8
    :class:`qlib.enums.OrderType`, :class:`qlib.enums.TimeInForce`.
state : uint8
    :class:`qlib.enums.OrderStatus`.
resume_state : uint8
    The working state (``LIVE`` or ``PARTIALLY_FILLED``) a pending cancel/replace
    returns to when the venue refuses (or, for a replace, confirms) it.
"""

ORDER_JOURNAL_DTYPE = np.dtype(
    [
        ("order_id", "u8"),
        ("ts", "i8"),
        ("qty", "f8"),
        ("px_tick", "i8"),
        ("from_state", "i1"),
        ("event", "i1"),
        ("to_state", "i1"),
        ("status", "u1"),
    ],
    align=True,
)
"""One attempted transition of the order state machine (:mod:`qlib.oms.orders`).

Refused attempts are journaled too (``status != OK``, ``to_state == -1``).

Fields
------
order_id : uint64
    Client order id.
ts : int64
    Time of the event, ns since epoch, UTC.
qty, px_tick : float64, int64
    Fill quantity and price for fills; new quantity and price for replace requests; 0 otherwise.
from_state, to_state : int8
    :class:`qlib.enums.OrderStatus` before and after; ``to_state`` is -1 when refused.
event : int8
    :class:`qlib.enums.OrderEvent` (for fills: the one the kernel derived from quantities).
status : uint8
    :class:`qlib.enums.Status` of the attempt (``OK`` when applied).
"""

POSITION_DTYPE = np.dtype(
    [
        ("qty", "f8"),
        ("avg_px", "f8"),
        ("mark_px", "f8"),
        ("realized_pnl", "f8"),
        ("realized_pnl_fifo", "f8"),
        ("fees", "f8"),
        ("traded_qty", "f8"),
        ("tick_size", "f8"),
        ("multiplier", "f8"),
        ("maker_fee_bps", "f8"),
        ("taker_fee_bps", "f8"),
        ("lot_head", "i8"),
        ("lot_len", "i8"),
        ("n_fills", "i8"),
        ("ts_last", "i8"),
        ("inverse", "u1"),
    ],
    align=True,
)
"""One instrument's position in :class:`qlib.oms.Portfolio` (kernel state).

Prices inside are in *pricing units*: the price in currency for linear instruments
and its reciprocal ``1 / price`` for inverse ones, where the position is also held
with the opposite sign (see :mod:`qlib.oms.portfolio`), so one set of linear formulas
serves both.

Fields
------
qty : float64
    Signed position in pricing units (contracts; for inverse instruments, minus contracts).
avg_px : float64
    Average-cost entry price, pricing units (0 when flat).
mark_px : float64
    Last mark price, pricing units (0 before the first mark or fill).
realized_pnl, realized_pnl_fifo : float64
    Realized P&L by average cost and by FIFO lots, settlement currency, before fees.
fees : float64
    Fees paid (negative: rebates received), settlement currency.
traded_qty : float64
    Sum of absolute fill quantities.
tick_size, multiplier, maker_fee_bps, taker_fee_bps : float64
    Copied from the :class:`qlib.instrument.Instrument`.
lot_head, lot_len : int64
    First slot and number of open FIFO lots in the portfolio's lot ring for this instrument.
n_fills, ts_last : int64
    Number of fills applied and time of the last one (ns since epoch, UTC).
inverse : uint8
    1 for an inverse (coin-margined) instrument.
"""


BT_FILL_DTYPE = np.dtype(
    [
        ("ts_exch", "i8"),
        ("ts_local", "i8"),
        ("order_id", "u8"),
        ("px_tick", "i8"),
        ("qty", "f8"),
        ("fee", "f8"),
        ("mid_tick", "f8"),
        ("position", "f8"),
        ("side", "i1"),
        ("liquidity", "u1"),
    ],
    align=True,
)
"""One of our executions in a backtest (:class:`qlib.engine.BacktestResult.fills`).

Fields
------
ts_exch : int64
    Time the simulated exchange executed it, ns since the epoch, UTC.
ts_local : int64
    Time its report reached the strategy (``ts_exch`` + response latency), ns.
order_id : uint64
    Our client order id.
px_tick : int64
    Execution price in ticks.
qty : float64
    Executed quantity.
fee : float64
    Fee paid for it in quote currency (negative: a rebate received).
mid_tick : float64
    The exchange book's mid at the execution, in ticks (the reference of the spread
    capture and of the mark-outs).
position : float64
    Our position after the report was applied locally.
side : int8
    :class:`qlib.enums.Side` of our order.
liquidity : uint8
    :class:`qlib.enums.LiquiditySide`.
"""

BT_RECORD_DTYPE = np.dtype(
    [
        ("ts", "i8"),
        ("position", "f8"),
        ("cash", "f8"),
        ("equity", "f8"),
        ("mid_tick", "f8"),
        ("spread_tick", "f8"),
        ("fees", "f8"),
        ("traded_qty", "f8"),
        ("bid_quote_tick", "i8"),
        ("ask_quote_tick", "i8"),
        ("n_open", "i8"),
        ("n_fills", "i8"),
    ],
    align=True,
)
"""The state of a backtest at the end of one recording interval (local clock).

Fields
------
ts : int64
    Local time of the record, ns since the epoch, UTC.
position, cash, equity : float64
    Position, cash and equity (cash + position x mid x tick value), quote currency.
mid_tick, spread_tick : float64
    Local book's mid and spread in ticks (the last two-sided values).
fees, traded_qty : float64
    Cumulative fees (quote currency) and traded quantity.
bid_quote_tick, ask_quote_tick : int64
    Price of our best working buy / sell order in ticks (0: none).
n_open, n_fills : int64
    Our working orders, and the cumulative number of fills.
"""


#: Book levels per side a strategy's view carries (:data:`VIEW_DTYPE` ``*_l`` fields).
VIEW_LEVELS = 10

VIEW_DTYPE = np.dtype(
    [
        ("ts_local", "i8"),
        ("ts_start", "i8"),
        ("ts_end", "i8"),
        ("bid_px_tick", "i8"),
        ("ask_px_tick", "i8"),
        ("bid_qty", "f8"),
        ("ask_qty", "f8"),
        ("bid_depth", "f8"),
        ("ask_depth", "f8"),
        ("mid_tick", "f8"),
        ("sigma_tick", "f8"),
        ("last_trade_px_tick", "i8"),
        ("position", "f8"),
        ("cash", "f8"),
        ("equity", "f8"),
        ("open_buy_qty", "f8"),
        ("open_sell_qty", "f8"),
        ("n_open", "i8"),
        ("tick_size", "f8"),
        ("lot_size", "f8"),
        ("killed", "i8"),
        ("bid_px_l", "i8", (VIEW_LEVELS,)),
        ("ask_px_l", "i8", (VIEW_LEVELS,)),
        ("bid_qty_l", "f8", (VIEW_LEVELS,)),
        ("ask_qty_l", "f8", (VIEW_LEVELS,)),
        ("imbalance", "f8"),
        ("microprice_tick", "f8"),
        ("ofi", "f8"),
        ("volatility_tick", "f8"),
        ("trade_flow", "f8"),
    ],
    align=True,
)
"""What a strategy kernel sees at one decision: the *local* view (one record).

The backtest engine (and later the paper/live runtime) fills one record of this dtype
before each call of a strategy kernel ``fn(view, params, state, out) -> int``
(:mod:`qlib.strategy`). Everything in it is known at ``ts_local``: the book is the one
rebuilt from events whose local receive time is ``<= ts_local``, the position and
orders are those whose confirmations have reached the strategy.

Fields
------
ts_local : int64
    Local time of the decision, ns since the epoch, UTC.
ts_start, ts_end : int64
    Start and end of the backtest or trading session, ns (the horizon ``T`` of
    finite-horizon models such as Avellaneda-Stoikov).
bid_px_tick, ask_px_tick : int64
    Best bid / ask in ticks of the local book; 0 when that side is empty.
bid_qty, ask_qty : float64
    Quantity at the best bid / ask (0.0 when empty).
bid_depth, ask_depth : float64
    Quantity resting within ``depth_levels`` ticks of each side's best price, the best
    included (the engine's ``depth_levels`` option; 1: the best level only), the input
    of book-imbalance signals.
mid_tick : float64
    ``(bid_px_tick + ask_px_tick) / 2`` in ticks; the last valid mid while a side is
    empty; 0.0 before the first two-sided book.
sigma_tick : float64
    Volatility of the mid in ticks per square-root second: an exponentially weighted
    estimate over mid changes (the engine's ``sigma_halflife_ns``); 0.0 until warm.
last_trade_px_tick : int64
    Price of the last market trade seen locally (0 before the first).
position : float64
    Signed filled position in the instrument's quantity unit.
cash, equity : float64
    Cash and equity (cash + position x mid x tick value) in quote currency.
open_buy_qty, open_sell_qty : float64
    Unfilled quantity of our working buy / sell orders, as known locally.
n_open : int64
    Number of our working orders, as known locally.
tick_size, lot_size : float64
    The instrument's price and quantity grid.
killed : int64
    1 while the pre-trade kill switch is tripped (no order will be approved).
bid_px_l, ask_px_l : int64[VIEW_LEVELS]
    Prices in ticks of the local book's first :data:`VIEW_LEVELS` non-empty levels per
    side, best first (bids descending, asks ascending); 0 past the last level. Filled
    when the strategy requests the ``levels`` feature (or ``imbalanceN``); else 0.
bid_qty_l, ask_qty_l : float64[VIEW_LEVELS]
    Resting quantity at those levels (0.0 past the last level); NaN when the levels are
    not requested.
imbalance, microprice_tick, ofi, volatility_tick, trade_flow : float64
    The named features the strategy requested (``features=`` of
    :func:`qlib.strategy.strategy`; the table in :mod:`qlib.signals.nb` gives each
    formula). A feature not requested holds NaN.
"""

#: The :data:`VIEW_DTYPE` fields of the named features (NaN when not requested).
VIEW_FEATURE_FIELDS = ("imbalance", "microprice_tick", "ofi", "volatility_tick", "trade_flow")

INTENT_DTYPE = np.dtype(
    [
        ("px_tick", "i8"),
        ("qty", "f8"),
        ("side", "i1"),
        ("order_type", "u1"),
        ("tif", "u1"),
    ],
    align=True,
)
"""One order a strategy kernel wants (its output rows, see :mod:`qlib.strategy`).

The resting intents (``LIMIT`` with ``GTC`` or ``GTX``) are the strategy's *target*
set of working orders: the engine keeps a working order whose side, price and
quantity match one, cancels the working orders no intent matches, and sends the
intents no working order matches (so an unchanged quote keeps its queue position).
``IOC``/``FOK`` limit intents and ``MARKET`` intents are sent once, as written.

Fields
------
px_tick : int64
    Limit price in ticks (ignored for ``MARKET``).
qty : float64
    Quantity (> 0), a multiple of the lot size.
side : int8
    :class:`qlib.enums.Side` (``BUY`` = 1, ``SELL`` = -1).
order_type : uint8
    :class:`qlib.enums.OrderType`.
tif : uint8
    :class:`qlib.enums.TimeInForce`.
"""


def empty_events(n: int) -> np.ndarray:
    """Return a zero-filled event array of length ``n`` with ``seq`` set to -1."""
    out = np.zeros(n, dtype=EVENT_DTYPE)
    out["seq"] = -1
    return out


def require_dtype(arr: object, dtype: np.dtype, *, name: str) -> np.ndarray:
    """Check that ``arr`` is a 1-D numpy array of exactly ``dtype``.

    Parameters
    ----------
    arr
        The object to check.
    dtype
        The required structured dtype (for example :data:`EVENT_DTYPE`).
    name
        The argument name, used in the error message.

    Returns
    -------
    numpy.ndarray
        ``arr`` itself, unchanged.

    Raises
    ------
    SchemaError
        If ``arr`` is not an ndarray, is not 1-D, or its dtype differs.
    """
    if not isinstance(arr, np.ndarray):
        raise SchemaError(f"{name} must be a numpy structured array, was {type(arr).__name__}")
    if arr.ndim != 1:
        raise SchemaError(f"{name} must be 1-D, was {arr.ndim}-D with shape {arr.shape}")
    if arr.dtype != dtype:
        raise SchemaError(f"{name} must have dtype {dtype}, was {arr.dtype}")
    return arr


# ----------------------------------------------------------------------------------------
# Engine state (qlib.engine, issue 11). Owned by the engine; other helpers: add nothing here.
# ----------------------------------------------------------------------------------------

ENGINE_MSG_TO_EXCH_DTYPE = np.dtype(
    [
        ("due", "i8"),
        ("kind", "i8"),
        ("slot", "i8"),
    ],
    align=True,
)
"""A message of ours on its way to the simulated exchange: one row of the backtest loop's
to-exchange ring (FIFO, as on one session).

Fields
------
due : int64
    Exchange time it arrives, ns since the epoch, UTC.
kind : int64
    ``M_SUBMIT`` (0, a new order) or ``M_CANCEL`` (1) (:mod:`qlib.engine._state`).
slot : int64
    Row of the order in the loop's order arrays.
"""

ENGINE_MSG_TO_LOCAL_DTYPE = np.dtype(
    [
        ("due", "i8"),
        ("kind", "i8"),
        ("slot", "i8"),
        ("px_tick", "i8"),
        ("liquidity", "i8"),
        ("ts_exch", "i8"),
        ("qty", "f8"),
        ("mid_tick", "f8"),
    ],
    align=True,
)
"""A response of the simulated exchange on its way to the strategy: one row of the
backtest loop's to-local ring.

Fields
------
due : int64
    Local time it arrives, ns since the epoch, UTC.
kind : int64
    ``R_ACK``, ``R_REJECT``, ``R_FILL``, ``R_CANCEL_ACK``, ``R_CANCEL_REJECT`` or
    ``R_EXPIRE`` (:mod:`qlib.engine._state`).
slot : int64
    Row of the order in the loop's order arrays.
px_tick : int64
    Fill price in ticks (fills only).
liquidity : int64
    :class:`qlib.enums.LiquiditySide` of a fill.
ts_exch : int64
    Exchange time the response was made (of the fill, for a fill), ns since the epoch.
qty : float64
    Filled quantity (fills only).
mid_tick : float64
    Exchange mid at the fill, in ticks (0.0 when a side was empty).
"""

ENGINE_ORDER_STATE_DTYPE = np.dtype(
    [
        ("xstate", "i8"),
        ("ts_sent", "i8"),
        ("entry", "i8"),
        ("ts_arrive", "i8"),
        ("front", "f8"),
        ("cum", "f8"),
        ("leaves", "f8"),
        ("lvl", "f8"),
    ],
    align=True,
)
"""The simulated exchange's side of one of our orders: one row per order slot of the
backtest loop, aligned with its ``ORDER_DTYPE`` rows (row ``i`` is the order in
``orders[i]``), grown with them. 64 bytes.

Fields
------
xstate : int64
    Where the order is at the exchange: ``XS_NONE`` (0, not there yet or taking
    liquidity), ``XS_RESTING`` (1, in the queue of its price level) or ``XS_DONE`` (2,
    filled, cancelled, expired or refused) (:mod:`qlib.engine._state`).
ts_sent : int64
    Local time the last request for this order (new order or cancel) was sent, ns since
    the epoch, UTC.
entry : int64
    ``L3_FIFO`` only: the exchange's entry counter when the order came to rest (its
    priority against the data's orders at the same price); 0 otherwise.
ts_arrive : int64
    Exchange time the new order reached the exchange, ns since the epoch, UTC (0 before).
front : float64
    The queue model's estimate of the quantity ahead of the order at its price, in
    quantity units (:mod:`qlib.engine._queue_kernels`; may be slightly negative there).
cum : float64
    The probabilistic queue models' market-trade quantity at the order's price since
    the last depth update, quantity units (0.0 for the others).
leaves : float64
    Quantity still open at the exchange, quantity units (0.0 once done).
lvl : float64
    Last quantity of the exchange level at the order's price that the loop saw (the L2
    fast path reads the previous quantity of a depth update from it).
"""

ENGINE_STATE_DTYPE = np.dtype(
    [
        ("i_ex", "i8"),
        ("i_lo", "i8"),
        ("stop", "i8"),
        ("next_dec", "i8"),
        ("next_rec", "i8"),
        ("n_orders", "i8"),
        ("n_fills", "i8"),
        ("n_rec", "i8"),
        ("n_work", "i8"),
        ("n_resting", "i8"),
        ("mx_head", "i8"),
        ("mx_len", "i8"),
        ("mx_last", "i8"),
        ("ml_head", "i8"),
        ("ml_len", "i8"),
        ("ml_last", "i8"),
        ("cap_what", "i8"),
        ("last_md_ts", "i8"),
        ("l3_seq", "i8"),
        ("kill_seen", "i8"),
        ("prev_dec_ts", "i8"),
        ("last_rec_ts", "i8"),
        ("ts_start", "i8"),
        ("ts_end", "i8"),
        ("n_dec", "i8"),
        ("n_msg_out", "i8"),
        ("n_submit", "i8"),
        ("n_cancel", "i8"),
        ("n_reject_risk", "i8"),
        ("n_reject_venue", "i8"),
        ("n_exch_events", "i8"),
        ("sigma2", "f8"),
        ("prev_mid", "f8"),
        ("sig_dt", "f8"),
        ("sig_a", "f8"),
        ("feed_lat", "f8"),
        ("last_mid", "f8"),
        ("fees", "f8"),
        ("edge", "f8"),
        ("traded_qty", "f8"),
        ("maker_qty", "f8"),
        ("taker_qty", "f8"),
    ],
    align=True,
)
"""The backtest loop's registers: one row that holds everything the loop needs to resume,
so that the Python wrapper can stop it on a full buffer, grow the buffer and call it again
where it stopped (:func:`qlib.engine.backtest`). The loop writes it through a record
view of row 0.

Fields
------
i_ex : int64
    Next event row to apply to the exchange book.
i_lo : int64
    Next event row to apply to the local book.
stop : int64
    Rows ``events[:stop]`` are replayed.
next_dec : int64
    Local time of the next strategy decision, ns since the epoch, UTC.
next_rec : int64
    Local time of the next interval record, ns since the epoch, UTC.
n_orders : int64
    Order slots used (rows of the order arrays).
n_fills : int64
    Fill rows written.
n_rec : int64
    Interval records written.
n_work : int64
    Entries of the working list (slots of orders not yet terminal).
n_resting : int64
    Our orders resting at the exchange (``xstate == XS_RESTING``).
mx_head, mx_len : int64
    To-exchange message ring (``ENGINE_MSG_TO_EXCH_DTYPE``): first row and length.
mx_last : int64
    Due time of the last message queued to the exchange, ns (the ring is FIFO, as one
    session is).
ml_head, ml_len : int64
    To-local response ring (``ENGINE_MSG_TO_LOCAL_DTYPE``): first row and length.
ml_last : int64
    Due time of the last response queued to the strategy, ns.
cap_what : int64
    Which buffer stopped the loop with ``Status.CAPACITY`` (``CAP_*`` of
    :mod:`qlib.engine._state`; ``CAP_NONE`` = 0 otherwise).
last_md_ts : int64
    Local time of the last market-data event applied to the local book, ns.
l3_seq : int64
    Entry counter of orders at the exchange (queue priority; ``L3_FIFO`` only).
kill_seen : int64
    1 once the kill switch's cancel-all went out, 0 while it is not tripped.
prev_dec_ts : int64
    Local time of the previous decision, ns (the sigma estimate's interval).
last_rec_ts : int64
    Time of the last interval record written, ns.
ts_start : int64
    Local time of the first replayed event, ns (the view's ``ts_start``).
ts_end : int64
    Session end, ns (the view's ``ts_end``).
n_dec : int64
    Strategy calls.
n_msg_out : int64
    Messages sent to the exchange.
n_submit : int64
    New orders sent.
n_cancel : int64
    Cancels sent.
n_reject_risk : int64
    Intents refused by the pre-trade risk check.
n_reject_venue : int64
    Orders refused by the simulated venue (post-only that would cross) or by the
    latency log.
n_exch_events : int64
    Events applied to the exchange book.
sigma2 : float64
    EWMA variance rate of the local mid, ticks**2 per second:
    :math:`\\sigma^2 \\leftarrow (1 - a)\\sigma^2 + a\\,\\Delta m^2 / \\Delta t`, with
    :math:`a = 1 - 2^{-\\Delta t / h}` for the half-life ``h`` (``sigma_hl``).
prev_mid : float64
    Local mid at the previous decision, ticks.
sig_dt : float64
    Decision interval, seconds, that ``sig_a`` was computed for.
sig_a : float64
    The sigma EWMA weight :math:`a` for ``sig_dt``.
feed_lat : float64
    EWMA of ``ts_local - ts_exch`` of the market data, ns.
last_mid : float64
    Last two-sided local mid, ticks (0.0 before the book is two-sided).
fees : float64
    Fees paid, quote currency (negative: rebates).
edge : float64
    Spread capture in ticks times quantity:
    :math:`\\sum \\text{side} \\cdot q \\cdot (m_{exch} - p)` over our fills, with
    :math:`m_{exch}` the exchange mid at the fill (multiply by ``tick_value`` for quote
    currency).
traded_qty : float64
    Quantity filled, quantity units.
maker_qty : float64
    Quantity filled as maker.
taker_qty : float64
    Quantity filled as taker.
"""

ENGINE_CONFIG_DTYPE = np.dtype(
    [
        ("dec_interval", "i8"),
        ("rec_interval", "i8"),
        ("depth_levels", "i8"),
        ("impact", "i8"),
        ("partial", "i8"),
        ("strategy", "i8"),
        ("lat_kind", "i8"),
        ("q_kind", "i8"),
        ("sigma_hl", "i8"),
        ("feed_hl", "i8"),
        ("tick_size", "f8"),
        ("tick_value", "f8"),
        ("lot", "f8"),
        ("fee_per_qty", "f8"),
        ("capital", "f8"),
        ("view_levels", "i8"),
        ("feat_mask", "i8"),
        ("feat_imb", "i8"),
    ],
    align=True,
)
"""The backtest loop's configuration: one row, written by the Python wrapper
(:func:`qlib.engine.backtest`) and only read by the loop.

Fields
------
dec_interval : int64
    Time between strategy decisions, ns.
rec_interval : int64
    Time between interval records, ns.
depth_levels : int64
    Price levels (ticks from each best, inclusive) summed into the view's ``bid_depth``
    and ``ask_depth``.
impact : int64
    1: our aggressive fills remove the liquidity they took from the exchange book.
partial : int64
    1: a resting order fills by the quantity the queue model releases; 0: a released
    order fills completely (hftbacktest's no-partial-fill exchange).
strategy : int64
    :class:`qlib.enums.StrategyKind` of a built-in strategy (``CUSTOM`` for a kernel).
lat_kind : int64
    :class:`qlib.enums.LatencyModelKind`.
q_kind : int64
    :class:`qlib.enums.QueueModelKind`.
sigma_hl : int64
    Half-life of the sigma EWMA, ns.
feed_hl : int64
    Half-life of the feed-latency EWMA, in market-data events.
tick_size : float64
    Price of one tick, quote currency per unit.
tick_value : float64
    Quote currency per tick per unit of quantity (``tick_size * multiplier``).
lot : float64
    Lot size, quantity units.
fee_per_qty : float64
    Fixed fee per unit of quantity filled, quote currency.
capital : float64
    Starting capital, quote currency.
view_levels : int64
    1: the view's book levels (``bid_px_l`` ...) are written at each decision (the
    strategy requested the ``levels`` or an ``imbalanceN`` feature); 0: they are not
    (prices 0, quantities NaN).
feat_mask : int64
    The named features the strategy requested, as bits of
    :data:`qlib.engine._view.FEATURE_BITS` (0: none; the feature fields stay NaN).
feat_imb : int64
    Levels of the ``imbalanceN`` feature (0 when not requested).
"""
