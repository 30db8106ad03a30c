r"""Spreads and trading costs: quoted, effective, realized, Roll's implied spread, price impact.

Per-trade measures take the tape (:func:`qlib.signals.trades`) and the quotes
(:func:`qlib.book.bbo`). The mid *prevailing* at a trade is the mid of the book just
before it (matched by event row when both frames carry one, else strictly before the
trade's ``ts_exch``); the mid *after* a horizon :math:`\Delta` is the mid of the last
book state with ``ts_exch <= t + Delta``. The decomposition
``effective = realized + 2 * impact`` holds trade by trade [1]_.

References
----------
.. [1] Bessembinder, H. and Kaufman, H. M. (1997). A comparison of trade execution costs
   for NYSE and NASDAQ-listed stocks. Journal of Financial and Quantitative Analysis,
   32(3), 287-310.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import _kernels as _k
from qlib.signals._grid import freq_ns
from qlib.signals._inputs import Quotes, Tape, as_of, prevailing, quotes_of, tape_of

__all__ = [
    "RollSpread",
    "effective_spread",
    "price_impact",
    "quoted_spread",
    "realized_spread",
    "roll_spread",
]

_UNITS = ("price", "bps", "ticks")


def _scale(x: np.ndarray, m: np.ndarray, unit: str, tick_size: float | None) -> np.ndarray:
    if unit == "price":
        return x
    if unit == "bps":
        return 1e4 * x / m
    if unit == "ticks":
        if tick_size is None or not tick_size > 0:
            raise ParameterError(f"unit='ticks' needs a positive tick_size, was {tick_size!r}")
        return x / tick_size
    raise ParameterError(f"unit must be one of {_UNITS}, was {unit!r}")


def quoted_spread(quotes: pd.DataFrame, *, unit: str = "price",
                  tick_size: float | None = None) -> pd.Series:
    r"""Return the quoted (best ask minus best bid) spread of each book state.

    Parameters
    ----------
    quotes
        bbo or LOBSTER layout.
    unit
        ``"price"`` (currency), ``"bps"`` (of the mid) or ``"ticks"`` (needs ``tick_size``).

    Returns
    -------
    pandas.Series
        ``quoted_spread`` on the index of ``quotes``.

    Notes
    -----
    .. math:: S_t = P^a_t - P^b_t, \qquad S^{bps}_t = 10^4 \, S_t / m_t
    """
    q = quotes_of(quotes, min_rows=0)
    return pd.Series(_scale(q.ask_px - q.bid_px, q.mid, unit, tick_size), index=q.index,
                     name="quoted_spread")


def _signed(t: Tape, q: Quotes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keep mask, sign, prevailing mid) for trades with a prior quote; unknown sides by Lee-Ready."""
    j = prevailing(q, t)
    keep = j >= 0
    m = np.where(keep, q.mid[np.maximum(j, 0)], np.nan)
    d = t.side.astype(np.int8).copy()
    unknown = d == 0
    if unknown.any():
        tick = np.zeros(len(t), np.int8)
        _k.tick_rule(t.price, tick)
        lr = np.zeros(len(t), np.int8)
        _k.lee_ready(t.price, np.where(keep, m, t.price), tick, lr)
        d[unknown] = lr[unknown]
    keep &= d != 0
    return keep, d, m


def _horizon_mid(t: Tape, q: Quotes, horizon: object) -> tuple[np.ndarray, np.ndarray]:
    h = freq_ns(horizon)
    target = t.ts + h
    within = target <= q.ts[-1]
    j = as_of(q, target)
    return within, q.mid[np.maximum(j, 0)]


def _frame(t: Tape, keep: np.ndarray, cols: dict[str, np.ndarray], name: str,
           dropped: dict[str, int]) -> pd.DataFrame:
    if not keep.any():
        raise InsufficientDataError(f"{name}: 0 trades with a quote before them"
                                    f"{' and a quote after the horizon' if 'beyond_horizon' in dropped else ''}"
                                    f" (of {len(t)}), needed at least 1")
    df = pd.DataFrame({"ts_exch": pd.to_datetime(t.ts[keep], unit="ns", utc=True),
                       **{k: v[keep] for k, v in cols.items()}}, index=t.index[keep])
    df.attrs.update(dropped)
    return df


def effective_spread(trades: pd.DataFrame, quotes: pd.DataFrame, *, unit: str = "price",
                     tick_size: float | None = None) -> pd.DataFrame:
    r"""Return the effective spread of each trade.

    Parameters
    ----------
    trades
        Tape frame; trades of unknown side are signed by :func:`lee_ready`.
    quotes
        bbo or LOBSTER layout.
    unit
        ``"price"``, ``"bps"`` (of the prevailing mid) or ``"ticks"``.

    Returns
    -------
    pandas.DataFrame
        Per trade: ``ts_exch``, ``price``, ``side``, ``mid`` (prevailing),
        ``effective_spread``. Trades before the first quote are left out;
        ``attrs["before_first_quote"]`` counts them.

    Raises
    ------
    InsufficientDataError
        No trade has a prior quote.

    Notes
    -----
    .. math:: S^{e}_i = 2 d_i (p_i - m_{i^-})
    """
    t, q = tape_of(trades, min_rows=1), quotes_of(quotes)
    keep, d, m = _signed(t, q)
    es = _scale(2.0 * d * (t.price - m), m, unit, tick_size)
    return _frame(t, keep, {"price": t.price, "side": d, "mid": m, "effective_spread": es},
                  "effective_spread", {"before_first_quote": int(np.count_nonzero(~keep))})


def realized_spread(trades: pd.DataFrame, quotes: pd.DataFrame, horizon: object = "5s", *,
                    unit: str = "price", tick_size: float | None = None) -> pd.DataFrame:
    r"""Return the realized spread of each trade at a horizon.

    Parameters
    ----------
    trades, quotes, unit, tick_size
        As :func:`effective_spread`.
    horizon
        :math:`\Delta`, a fixed pandas offset or Timedelta (``"5s"``, ``"1min"``).

    Returns
    -------
    pandas.DataFrame
        Per trade: ``ts_exch``, ``price``, ``side``, ``mid``, ``mid_after``,
        ``realized_spread``. Trades whose :math:`t + \Delta` is past the last quote are
        left out (``attrs["beyond_horizon"]``), as are those before the first quote.

    Raises
    ------
    InsufficientDataError
        No trade has both a prior quote and a quote at :math:`t + \Delta`.

    Notes
    -----
    The liquidity provider's revenue net of adverse selection:

    .. math:: S^{r}_i = 2 d_i (p_i - m_{t_i + \Delta})
    """
    t, q = tape_of(trades, min_rows=1), quotes_of(quotes)
    keep, d, m = _signed(t, q)
    within, m_after = _horizon_mid(t, q, horizon)
    rs = _scale(2.0 * d * (t.price - m_after), m, unit, tick_size)
    return _frame(t, keep & within, {"price": t.price, "side": d, "mid": m,
                                     "mid_after": m_after, "realized_spread": rs},
                  "realized_spread", {"before_first_quote": int(np.count_nonzero(~keep)),
                                      "beyond_horizon": int(np.count_nonzero(keep & ~within))})


def price_impact(trades: pd.DataFrame, quotes: pd.DataFrame, horizon: object = "5s", *,
                 unit: str = "price", tick_size: float | None = None) -> pd.DataFrame:
    r"""Return the (permanent) price impact of each trade at a horizon.

    Parameters
    ----------
    trades, quotes, horizon, unit, tick_size
        As :func:`realized_spread`.

    Returns
    -------
    pandas.DataFrame
        Per trade: ``ts_exch``, ``price``, ``side``, ``mid``, ``mid_after``,
        ``price_impact``; rows left out as in :func:`realized_spread`.

    Notes
    -----
    The signed move of the mid after the trade, so that
    :math:`S^e_i = S^r_i + 2 I_i`:

    .. math:: I_i = d_i (m_{t_i + \Delta} - m_{i^-})
    """
    t, q = tape_of(trades, min_rows=1), quotes_of(quotes)
    keep, d, m = _signed(t, q)
    within, m_after = _horizon_mid(t, q, horizon)
    pi = _scale(d * (m_after - m), m, unit, tick_size)
    return _frame(t, keep & within, {"price": t.price, "side": d, "mid": m,
                                     "mid_after": m_after, "price_impact": pi},
                  "price_impact", {"before_first_quote": int(np.count_nonzero(~keep)),
                                   "beyond_horizon": int(np.count_nonzero(keep & ~within))})


@dataclass(frozen=True)
class RollSpread:
    """Roll's implied spread and the autocovariance it comes from.

    Attributes
    ----------
    spread : float
        :math:`2\\sqrt{-\\gamma_1}` in price units; 0.0 when ``defined`` is False.
    autocov : float
        :math:`\\gamma_1`, first-order autocovariance of price changes.
    defined : bool
        False when :math:`\\gamma_1 \\ge 0` (no bid-ask bounce; the estimator does not exist).
    nobs : int
        Number of price changes used.
    """

    spread: float
    autocov: float
    defined: bool
    nobs: int


def roll_spread(trades: pd.DataFrame | pd.Series, *, min_nobs: int = 30) -> RollSpread:
    r"""Return Roll's (1984) implied effective spread from serial covariance of price changes.

    Parameters
    ----------
    trades
        Tape frame (``price``) or a Series of trade prices; aggregating sweeps first
        (``qlib.signals.trades(data, aggregate=True)``) avoids zero changes inside one
        aggressive order.
    min_nobs
        Fewest price changes accepted.

    Returns
    -------
    RollSpread
        ``spread`` is 0.0 with ``defined=False`` when the autocovariance is not negative.

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_nobs`` price changes.

    Notes
    -----
    .. math:: \gamma_1 = \operatorname{Cov}(\Delta p_i, \Delta p_{i-1}), \qquad
              S^{Roll} = 2\sqrt{-\gamma_1}

    References
    ----------
    .. [1] Roll, R. (1984). A simple implicit measure of the effective bid-ask spread in
       an efficient market. Journal of Finance, 39(4), 1127-1139.
    """
    px = (trades.to_numpy(dtype=np.float64) if isinstance(trades, pd.Series)
          else tape_of(trades, min_rows=0).price)
    dp = np.diff(px)
    need = max(int(min_nobs), 3)
    if len(dp) < need:
        raise InsufficientDataError(f"roll_spread had {len(dp)} price changes, needed at "
                                    f"least {need}")
    g = float(_k.first_order_autocov(dp))
    ok = g < 0
    return RollSpread(float(2.0 * np.sqrt(-g)) if ok else 0.0, g, bool(ok), len(dp))
