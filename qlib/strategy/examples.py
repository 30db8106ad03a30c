r"""Example custom strategies: one jitted decision kernel each, and a spec factory.

:func:`skewed` is a strategy as a notebook user writes it: a plain function
``(view, p, state, out)`` with named parameters ``p.<name>``, the helpers of
:mod:`qlib.strategy` (``market_ok``, ``lots``, ``quote`` post-only by default,
``cancel_all``, ``Side``), made a :class:`~qlib.strategy.CustomStrategy` by
:func:`qlib.strategy.strategy` (:func:`skewed_mm`). :func:`mean_reversion_mm` is the
older positional form: a jitted ``fn(view, params, state, out)`` indexing a float64
``params`` array, wrapped by :func:`mean_reversion`. The helpers give both the
conventions of the built-ins: post-only quotes, rounding away from the inside, lot
rounding and the inventory limit.

Examples
--------
>>> from qlib.strategy.examples import mean_reversion
>>> spec = mean_reversion(half_spread_ticks=2, halflife_decisions=50, pull=0.5,
...                       skew_ticks=0.5, order_qty=100, max_position=500)
>>> spec.name, spec.state_size
('mean_reversion_mm', 2)
"""

from __future__ import annotations

import math

from numba import njit

from qlib.enums import Side
from qlib.errors import ParameterError
from qlib.strategy import _kernels as _k
from qlib.strategy._kernels import cancel_all, lots, market_ok, quote
from qlib.strategy.define import strategy
from qlib.strategy.specs import CustomStrategy

__all__ = ["MR_N", "SKEWED_PARAMS", "mean_reversion", "mean_reversion_mm", "skewed", "skewed_mm"]

# parameter layout of mean_reversion_mm
(MR_HALF_SPREAD, MR_ALPHA, MR_PULL, MR_SKEW, MR_ORDER_QTY, MR_MAX_POSITION,
 MR_N) = 0, 1, 2, 3, 4, 5, 6
# state layout: the EWMA of the mid (ticks) and whether it has been started
_ST_EWMA, _ST_READY, _ST_N = 0, 1, 2


@njit(cache=True)
def mean_reversion_mm(view, params, state, out):
    r"""Quote around the mid pulled toward its EWMA; see :func:`mean_reversion`."""
    if not _k.market_ok(view):
        return 0
    v = view[0]
    mid = v["mid_tick"]
    if state[_ST_READY] == 0.0:
        state[_ST_EWMA] = mid
        state[_ST_READY] = 1.0
    else:
        state[_ST_EWMA] += params[MR_ALPHA] * (mid - state[_ST_EWMA])
    qty = _k.lots(params[MR_ORDER_QTY], v["lot_size"])
    if not qty > 0.0:
        return 0
    q = v["position"] / qty
    fair = mid + params[MR_PULL] * (state[_ST_EWMA] - mid) - params[MR_SKEW] * q
    h = params[MR_HALF_SPREAD]
    return _k.quote_ladder(view, out, fair - h, fair + h, 1.0, 1, qty, params[MR_MAX_POSITION])


def mean_reversion(half_spread_ticks: float = 2.0, halflife_decisions: float = 50.0,
                   pull: float = 0.5, skew_ticks: float = 0.5, order_qty: float = 100.0,
                   max_position: float = 500.0) -> CustomStrategy:
    r"""Return the mean-reverting market maker as a :class:`~qlib.strategy.CustomStrategy`.

    Parameters
    ----------
    half_spread_ticks
        Half of the quoted spread (> 0 ticks) around the fair value.
    halflife_decisions
        Half-life (> 0) of the EWMA of the mid, in strategy decisions (one decision per
        ``decision_interval`` of the backtest).
    pull
        Weight in [0, 1] of the EWMA in the fair value: 0 quotes around the mid, 1
        around the EWMA (a bet that the mid reverts to it).
    skew_ticks
        Inventory skew (>= 0), ticks per order of inventory.
    order_qty
        Size of each quote (> 0); also the unit of the inventory ``q``.
    max_position
        Largest absolute position (> 0) the quotes may lead to.

    Returns
    -------
    CustomStrategy
        Named ``"mean_reversion_mm"``, kernel :func:`mean_reversion_mm`, two state slots.

    Raises
    ------
    ParameterError
        For a value outside the ranges above.

    Notes
    -----
    With mid :math:`s_t`, EWMA :math:`\bar s_t = \bar s_{t-1} + \alpha (s_t - \bar s_{t-1})`,
    :math:`\alpha = 1 - 2^{-1/H}` (``H`` the half-life in decisions), pull :math:`w`,
    skew :math:`\kappa`, inventory :math:`q` and half spread :math:`h`:

    .. math::
        f_t = s_t + w(\bar s_t - s_t) - \kappa q, \qquad p^{b,a} = f_t \mp h,

    bids rounded down and asks up, post-only, one quote per side, each sent only while
    its fill keeps :math:`|\text{position}|` within ``max_position`` (the conventions of
    :mod:`qlib.strategy.specs`). After a rise of the mid the EWMA lags below it, so the
    quotes lean down: the strategy sells rallies and buys dips.
    """
    checks = {"half_spread_ticks": (half_spread_ticks, 0.0, math.inf, True),
              "halflife_decisions": (halflife_decisions, 0.0, math.inf, True),
              "pull": (pull, 0.0, 1.0, False),
              "skew_ticks": (skew_ticks, 0.0, math.inf, False),
              "order_qty": (order_qty, 0.0, math.inf, True),
              "max_position": (max_position, 0.0, math.inf, True)}
    for name, (value, low, high, strict) in checks.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or (value <= low if strict else value < low) \
                or value > high:
            bound = f"{'>' if strict else '>='} {low:g}" + (f" and <= {high:g}"
                                                             if math.isfinite(high) else "")
            raise ParameterError(f"{name} must be a finite number {bound}, was {value!r}")
    params = [0.0] * MR_N
    params[MR_HALF_SPREAD] = float(half_spread_ticks)
    params[MR_ALPHA] = 1.0 - 2.0 ** (-1.0 / float(halflife_decisions))
    params[MR_PULL] = float(pull)
    params[MR_SKEW] = float(skew_ticks)
    params[MR_ORDER_QTY] = float(order_qty)
    params[MR_MAX_POSITION] = float(max_position)
    return CustomStrategy(mean_reversion_mm, params=tuple(params), state_size=_ST_N,
                          name="mean_reversion_mm")


#: Parameters of :func:`skewed_mm` and their defaults.
SKEWED_PARAMS = {"half_spread": 2.0, "skew": 0.5, "qty": 100.0, "max_position": 500.0}


def skewed(view, p, state, out):  # the user code: 14 lines with the decorator line
    """Quote ``half_spread`` ticks around the mid shifted by ``-skew`` ticks per order held."""
    if not market_ok(view):
        return cancel_all(out)
    v = view[0]
    qty = lots(p.qty, v["lot_size"])
    fair = v["mid_tick"] - p.skew * v["position"] / p.qty
    n = 0
    if v["position"] + qty <= p.max_position:
        n = quote(out, n, Side.BUY, min(fair - p.half_spread, v["ask_px_tick"] - 1.0), qty)
    if v["position"] - qty >= -p.max_position:
        n = quote(out, n, Side.SELL, max(fair + p.half_spread, v["bid_px_tick"] + 1.0), qty)
    return n


_SKEWED: list[CustomStrategy] = []


def skewed_mm(**params: float) -> CustomStrategy:
    r"""Return the skewed quoting market maker :func:`skewed` as a :class:`~qlib.strategy.CustomStrategy`.

    :func:`skewed` is the size target of issue 11: with the helpers of
    :mod:`qlib.strategy` and :func:`qlib.strategy.strategy` it is 14 lines, as a notebook
    user writes it (``@strategy(params=SKEWED_PARAMS)`` above ``def skewed``). It is
    compiled on the first call of this function (not at import), once per process;
    parameters given here override :data:`SKEWED_PARAMS` without recompiling.

    Parameters
    ----------
    **params
        ``half_spread`` (ticks), ``skew`` (ticks per order of inventory), ``qty`` (order
        size, also the unit of inventory), ``max_position``.

    Raises
    ------
    ParameterError
        For an unknown name or a non-finite value.

    Notes
    -----
    With mid :math:`s`, position :math:`x`, order size :math:`Q`, skew :math:`\kappa` and
    half spread :math:`h`, the fair value is :math:`f = s - \kappa x / Q`; the quotes are
    post-only at :math:`\lfloor f - h \rfloor` (capped at ``ask - 1``) and
    :math:`\lceil f + h \rceil` (floored at ``bid + 1``), each side sent only while its
    fill keeps :math:`|x| \le` ``max_position``.
    """
    if not _SKEWED:
        _SKEWED.append(strategy(skewed, params=SKEWED_PARAMS, name="skewed_mm"))
    return _SKEWED[0].with_params(**params) if params else _SKEWED[0]
