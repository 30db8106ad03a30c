"""Jitted market-making decision kernels (see :mod:`qlib.strategy` for the formulas).

Every kernel has the signature ``fn(view, params, state, out) -> int64``: ``view`` is a
1-element :data:`qlib.dtypes.VIEW_DTYPE` array, ``params`` and ``state`` are float64
1-D arrays, ``out`` an :data:`qlib.dtypes.INTENT_DTYPE` array the kernel fills from
row 0. The return value is the number of intents written (``0`` = cancel everything,
``-1`` = keep the working orders; the built-ins never return ``-1``). Nothing here
allocates, raises or calls Python.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from qlib.enums import OrderType, Side, StrategyKind, TimeInForce

#: Rows of the ``out`` intent array the engine passes to a strategy kernel.
MAX_INTENTS = 32

# Parameter layouts: index constants per strategy (the ``*_N`` constant is the length).
AS_GAMMA, AS_K, AS_ORDER_QTY, AS_MAX_POSITION, AS_MIN_SPREAD, AS_N = 0, 1, 2, 3, 4, 5
GLFT_GAMMA, GLFT_K, GLFT_A, GLFT_ORDER_QTY, GLFT_MAX_POSITION, GLFT_N = 0, 1, 2, 3, 4, 5
(GRID_LEVELS, GRID_STEP, GRID_OFFSET, GRID_ORDER_QTY, GRID_MAX_POSITION, GRID_SKEW,
 GRID_ANCHOR, GRID_N) = 0, 1, 2, 3, 4, 5, 6, 7
(IMB_ALPHA, IMB_HALF_SPREAD, IMB_ORDER_QTY, IMB_MAX_POSITION, IMB_SKEW,
 IMB_N) = 0, 1, 2, 3, 4, 5
TOUCH_ORDER_QTY, TOUCH_MAX_POSITION, TOUCH_N = 0, 1, 2

#: ``GRID_ANCHOR`` codes: the grid starts from the mid, or from the best bid / ask.
ANCHOR_MID, ANCHOR_TOUCH = 0.0, 1.0

_EPS_PX = 1e-9  # prices within this of an integer tick count as on it (float noise)
_EPS_QTY = 1e-9  # relative slack of the lot rounding and of the position limit
_PX_MAX = 4.0e18  # largest price (ticks) converted to int64; beyond it a side is not quoted


@njit(cache=True, _nrt=False)
def lots(qty, lot_size):
    """Round ``qty`` down to the lot grid (unchanged when ``lot_size <= 0``)."""
    if lot_size > 0.0:
        return np.floor(qty / lot_size + _EPS_QTY) * lot_size
    return qty


@njit(cache=True, _nrt=False)
def can_buy(position, qty, max_position):
    """True if a fill of ``qty`` more on the buy side keeps ``position <= max_position``."""
    return position + qty <= max_position + _EPS_QTY * max(1.0, abs(max_position))


@njit(cache=True, _nrt=False)
def can_sell(position, qty, max_position):
    """True if a fill of ``qty`` more on the sell side keeps ``position >= -max_position``."""
    return position - qty >= -max_position - _EPS_QTY * max(1.0, abs(max_position))


@njit(cache=True, _nrt=False)
def market_ok(view):
    """True if ``view[0]`` holds a two-sided, uncrossed local book and finite state.

    False when the kill switch is on, a side is empty, the book is crossed or locked,
    ``mid_tick`` is not > 0 and finite, ``position`` is not finite, or ``sigma_tick``
    is not finite and >= 0.
    """
    v = view[0]
    bid = v["bid_px_tick"]
    ask = v["ask_px_tick"]
    mid = v["mid_tick"]
    if v["killed"] != 0 or bid <= 0 or ask <= 0 or bid >= ask:
        return False
    if not (mid > 0.0 and math.isfinite(mid)):
        return False
    sigma = v["sigma_tick"]
    if not (sigma >= 0.0 and math.isfinite(sigma)):
        return False
    return math.isfinite(v["position"])


@njit(cache=True, _nrt=False)
def round_bid(x):
    """Bid price in whole ticks for a model price ``x`` (ticks): ``floor(x)``, away from the inside.

    A value within 1e-9 tick below an integer counts as on it (float noise). Returns an
    int64; 0 when ``x`` is not finite or below 1 tick (a bid that is not sent).
    """
    if not (x >= 1.0 and x < _PX_MAX):
        return np.int64(0)
    return np.int64(np.floor(x + _EPS_PX))


@njit(cache=True, _nrt=False)
def round_ask(x):
    """Ask price in whole ticks for a model price ``x`` (ticks): ``ceil(x)``, away from the inside.

    A value within 1e-9 tick above an integer counts as on it. Returns an int64; 0 when
    ``x`` is not finite or below 1 tick (an ask that is not sent).
    """
    if not (x >= 1.0 and x < _PX_MAX):
        return np.int64(0)
    return np.int64(np.ceil(x - _EPS_PX))


@njit(cache=True, _nrt=False)
def quote(out, n, side, px_tick, qty, tif=TimeInForce.GTX, order_type=OrderType.LIMIT):
    """Write one intent in row ``n`` of ``out``; return the next free row.

    Parameters
    ----------
    out
        The kernel's :data:`qlib.dtypes.INTENT_DTYPE` output array.
    n
        The row to write (the number of intents written so far).
    side
        ``Side.BUY`` or ``Side.SELL``.
    px_tick
        Limit price in ticks. A float is rounded away from the inside, as
        :func:`round_bid` (buy) and :func:`round_ask` (sell) do, so ``mid - 2.5`` is a
        valid bid; an integer is used as is.
    qty
        Quantity (> 0), already on the lot grid (:func:`lots`).
    tif
        Time in force, ``TimeInForce.GTX`` (post-only) unless given: a zeroed intent
        row would be ``LIMIT``/``GTC``, which may cross the book and take liquidity.
    order_type
        ``OrderType.LIMIT`` unless given (``MARKET`` ignores ``px_tick``).

    Returns
    -------
    int
        ``n + 1`` if the row was written; ``n`` (nothing written) when ``out`` is full,
        ``qty`` is not > 0 and finite, ``side`` is not BUY/SELL, or a limit price is
        below 1 tick or not finite.
    """
    if n < 0 or n >= out.shape[0] or not (qty > 0.0 and qty < np.inf):
        return n
    if side != Side.BUY and side != Side.SELL:
        return n
    px = np.int64(0)
    if order_type == OrderType.LIMIT:
        if side == Side.BUY:
            px = round_bid(px_tick)
        else:
            px = round_ask(px_tick)
        if px < 1:
            return n
    out[n]["px_tick"] = px
    out[n]["qty"] = qty
    out[n]["side"] = side
    out[n]["order_type"] = order_type
    out[n]["tif"] = tif
    return n + 1


@njit(cache=True, _nrt=False)
def cancel_all(out):
    """Return 0, the kernel's "no intents: cancel every working order" answer.

    ``return cancel_all(out)`` reads as what it does; ``out`` is left untouched.
    """
    return np.int64(0)


@njit(cache=True, _nrt=False)
def keep_orders(out):
    """Return -1, the kernel's "keep the working orders as they are" answer."""
    return np.int64(-1)


@njit(cache=True, _nrt=False)
def inventory(view, unit):
    """Position in units of ``unit`` (the models' ``q``); 0 when ``unit`` is not > 0."""
    if not unit > 0.0:
        return 0.0
    return view[0]["position"] / unit


@njit(cache=True, _nrt=False)
def write_intent(out, n, px, qty, side):
    """Write a post-only (``LIMIT``/``GTX``) intent in row ``n``; return ``n + 1``."""
    out[n]["px_tick"] = px
    out[n]["qty"] = qty
    out[n]["side"] = side
    out[n]["order_type"] = OrderType.LIMIT
    out[n]["tif"] = TimeInForce.GTX
    return n + 1


@njit(cache=True, _nrt=False)
def quote_ladder(view, out, bid_x, ask_x, step, levels, qty, max_position):
    """Write up to ``levels`` passive quotes per side; see :mod:`qlib.strategy` Notes.

    Bid level ``i`` is ``floor(bid_x - i step)``, ask level ``i`` is
    ``ceil(ask_x + i step)``; bids are capped at ``best_ask - 1`` and asks floored at
    ``best_bid + 1`` (post-only quotes never cross the book); levels of a side are kept
    strictly apart; the asks are kept above our own best bid. Bid level ``i`` is sent
    only if ``position + (i + 1) qty <= max_position`` (asks alike), and only at a
    price >= 1 tick. Returns the number of rows written.
    """
    v = view[0]
    best_bid = v["bid_px_tick"]
    best_ask = v["ask_px_tick"]
    pos = v["position"]
    cap = out.shape[0] // 2
    levels = min(levels, cap)
    n = 0
    top_bid = np.int64(0)
    prev = np.int64(0)
    for i in range(levels):
        if not can_buy(pos, (i + 1) * qty, max_position):
            break
        x = bid_x - i * step
        if not (x >= 1.0 and x < _PX_MAX):
            break
        px = np.int64(np.floor(x + _EPS_PX))
        px = min(px, best_ask - 1)
        if i > 0 and px > prev - 1:
            px = prev - 1
        if px < 1:
            break
        if i == 0:
            top_bid = px
        prev = px
        n = write_intent(out, n, px, qty, Side.BUY)
    for i in range(levels):
        if not can_sell(pos, (i + 1) * qty, max_position):
            break
        x = ask_x + i * step
        if not (x > -_PX_MAX and x < _PX_MAX):
            break
        px = np.int64(np.ceil(x - _EPS_PX))
        px = max(px, best_bid + 1)
        if top_bid > 0 and px < top_bid + 1:
            px = top_bid + 1
        if i > 0 and px < prev + 1:
            px = prev + 1
        prev = px
        n = write_intent(out, n, px, qty, Side.SELL)
    return n


@njit(cache=True, _nrt=False)
def avellaneda_stoikov(view, params, state, out):
    """Avellaneda-Stoikov (2008) quotes; see :class:`qlib.strategy.AvellanedaStoikov`."""
    if not market_ok(view):
        return 0
    v = view[0]
    gamma = params[AS_GAMMA]
    k = params[AS_K]
    unit = params[AS_ORDER_QTY]
    sigma = v["sigma_tick"]
    qty = lots(unit, v["lot_size"])
    if not qty > 0.0:
        return 0
    tau = (v["ts_end"] - v["ts_local"]) * 1e-9
    tau = max(tau, 0.0)
    q = v["position"] / unit
    var_tau = gamma * sigma * sigma * tau
    r = v["mid_tick"] - q * var_tau
    spread = var_tau + 2.0 / gamma * math.log1p(gamma / k)
    spread = max(spread, params[AS_MIN_SPREAD])
    return quote_ladder(view, out, r - 0.5 * spread, r + 0.5 * spread, 1.0, 1, qty,
                        params[AS_MAX_POSITION])


@njit(cache=True, _nrt=False)
def glft_coefficients(gamma, k, a):
    """Return ``(c1, c2)`` of the GLFT asymptotic quotes; see :class:`qlib.strategy.GLFT`."""
    c1 = math.log1p(gamma / k) / gamma
    c2 = math.sqrt(gamma / (2.0 * a * k) * math.exp((1.0 + k / gamma) * math.log1p(gamma / k)))
    return c1, c2


@njit(cache=True, _nrt=False)
def glft(view, params, state, out):
    """Gueant-Lehalle-Fernandez-Tapia (2013) quotes; see :class:`qlib.strategy.GLFT`."""
    if not market_ok(view):
        return 0
    v = view[0]
    unit = params[GLFT_ORDER_QTY]
    sigma = v["sigma_tick"]
    qty = lots(unit, v["lot_size"])
    if not qty > 0.0:
        return 0
    c1, c2 = glft_coefficients(params[GLFT_GAMMA], params[GLFT_K], params[GLFT_A])
    q = v["position"] / unit
    delta_b = c1 + 0.5 * (2.0 * q + 1.0) * c2 * sigma
    delta_a = c1 - 0.5 * (2.0 * q - 1.0) * c2 * sigma
    s = v["mid_tick"]
    return quote_ladder(view, out, s - delta_b, s + delta_a, 1.0, 1, qty,
                        params[GLFT_MAX_POSITION])


@njit(cache=True, _nrt=False)
def grid(view, params, state, out):
    """Grid market maker; see :class:`qlib.strategy.GridMM`."""
    if not market_ok(view):
        return 0
    v = view[0]
    unit = params[GRID_ORDER_QTY]
    qty = lots(unit, v["lot_size"])
    if not qty > 0.0:
        return 0
    levels = np.int64(params[GRID_LEVELS])
    step = params[GRID_STEP]
    offset = params[GRID_OFFSET]
    shift = -params[GRID_SKEW] * v["position"] / unit
    if params[GRID_ANCHOR] == ANCHOR_TOUCH:
        bid_x = v["bid_px_tick"] - offset + shift
        ask_x = v["ask_px_tick"] + offset + shift
    else:
        bid_x = v["mid_tick"] - offset + shift
        ask_x = v["mid_tick"] + offset + shift
    return quote_ladder(view, out, bid_x, ask_x, step, levels, qty, params[GRID_MAX_POSITION])


@njit(cache=True, _nrt=False)
def imbalance_signal(bid_depth, ask_depth):
    """Book imbalance ``(b - a) / (b + a)`` in [-1, 1] (0 when both depths are <= 0)."""
    b = max(0.0, bid_depth)
    a = max(0.0, ask_depth)
    if not (b + a > 0.0 and math.isfinite(b + a)):
        return 0.0
    return (b - a) / (b + a)


@njit(cache=True, _nrt=False)
def imbalance(view, params, state, out):
    """Order-book-imbalance market maker; see :class:`qlib.strategy.ImbalanceMM`."""
    if not market_ok(view):
        return 0
    v = view[0]
    unit = params[IMB_ORDER_QTY]
    qty = lots(unit, v["lot_size"])
    if not qty > 0.0:
        return 0
    i_b = imbalance_signal(v["bid_depth"], v["ask_depth"])
    half_mkt = 0.5 * (v["ask_px_tick"] - v["bid_px_tick"])
    center = (v["mid_tick"] + params[IMB_ALPHA] * i_b * half_mkt
              - params[IMB_SKEW] * v["position"] / unit)
    h = params[IMB_HALF_SPREAD]
    return quote_ladder(view, out, center - h, center + h, 1.0, 1, qty,
                        params[IMB_MAX_POSITION])


@njit(cache=True, _nrt=False)
def touch(view, params, state, out):
    """Join the best bid and ask; see :class:`qlib.strategy.TouchMM`."""
    if not market_ok(view):
        return 0
    v = view[0]
    qty = lots(params[TOUCH_ORDER_QTY], v["lot_size"])
    if not qty > 0.0 or out.shape[0] < 2:
        return 0
    max_position = params[TOUCH_MAX_POSITION]
    n = 0
    if can_buy(v["position"], qty, max_position):
        n = write_intent(out, n, v["bid_px_tick"], qty, Side.BUY)
    if can_sell(v["position"], qty, max_position):
        n = write_intent(out, n, v["ask_px_tick"], qty, Side.SELL)
    return n


@njit(cache=True, _nrt=False)
def decide_builtin(kind, view, params, state, out):
    """Dispatch to the built-in kernel of ``kind`` (:class:`qlib.enums.StrategyKind`).

    Returns the kernel's intent count; 0 (cancel everything) for an unknown kind.
    """
    if kind == StrategyKind.AVELLANEDA_STOIKOV:
        return avellaneda_stoikov(view, params, state, out)
    if kind == StrategyKind.GLFT:
        return glft(view, params, state, out)
    if kind == StrategyKind.GRID:
        return grid(view, params, state, out)
    if kind == StrategyKind.IMBALANCE:
        return imbalance(view, params, state, out)
    if kind == StrategyKind.TOUCH:
        return touch(view, params, state, out)
    return np.int64(0)
