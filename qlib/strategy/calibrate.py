r"""Calibrate the fill intensity :math:`\lambda(\delta) = A e^{-k\delta}` from market trades.

:func:`fit_intensity` measures, for each distance :math:`\delta` from the mid, the rate
at which market orders reach at least that far into the book, and fits the
exponential decay the Avellaneda-Stoikov and GLFT models assume
(:class:`qlib.strategy.AvellanedaStoikov`, :class:`qlib.strategy.GLFT`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qlib.book import replay_bbo
from qlib.data.market_data import MarketData
from qlib.dtypes import EVENT_DTYPE, require_dtype
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import InsufficientDataError, ParameterError
from qlib.strategy.specs import GLFT

__all__ = ["IntensityFit", "fit_intensity", "trade_depths"]

#: Fewest distances with trades that a fit needs.
MIN_DISTANCES = 3
#: Distances are measured on a grid of half ticks (the mid lies on one).
DELTA_GRID = 0.5


@dataclass(frozen=True)
class IntensityFit:
    r"""Result of :func:`fit_intensity`: :math:`\lambda(\delta) = A e^{-k\delta}`.

    Attributes
    ----------
    A : float
        Fitted intensity at :math:`\delta = 0`, market orders per second (per side when
        ``side == "both"``, see :func:`fit_intensity`).
    k : float
        Fitted decay, per tick.
    r2 : float
        :math:`R^2` of the regression of :math:`\ln\lambda` on :math:`\delta`.
    k_stderr, log_A_stderr : float
        Standard errors of :math:`k` and of :math:`\ln A` (OLS, homoskedastic).
    deltas : numpy.ndarray
        Distances (ticks) used in the fit, increasing.
    rates : numpy.ndarray
        Empirical :math:`\hat\lambda(\delta)` at ``deltas``, per second.
    counts : numpy.ndarray
        Market orders reaching at least each distance.
    seconds : float
        Length of the sample, seconds.
    n_orders : int
        Market orders measured (after dropping those without a two-sided mid).
    side : str
        ``"both"``, ``"buy"`` or ``"sell"`` (aggressor side).
    result
        The statsmodels ``RegressionResults`` of the fit.
    """

    A: float
    k: float
    r2: float
    k_stderr: float
    log_A_stderr: float
    deltas: np.ndarray = field(repr=False)
    rates: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    seconds: float
    n_orders: int
    side: str
    result: Any = field(repr=False, compare=False)

    def intensity(self, delta: float | np.ndarray) -> np.ndarray:
        r"""Return the fitted :math:`A e^{-k\delta}` at ``delta`` (ticks)."""
        return self.A * np.exp(-self.k * np.asarray(delta, dtype=np.float64))

    def glft(self, gamma: float, order_qty: float, max_position: float) -> GLFT:
        """Return a :class:`~qlib.strategy.GLFT` spec with this fit's ``A`` and ``k``.

        Raises
        ------
        ParameterError
            As :class:`~qlib.strategy.GLFT` (also when the fit's ``k`` is not > 0).
        """
        return GLFT(gamma=gamma, k=self.k, A=self.A, order_qty=order_qty,
                    max_position=max_position)

    def to_frame(self) -> pd.DataFrame:
        """Return a frame indexed by ``delta_tick``: ``count``, ``rate``, ``fitted``."""
        return pd.DataFrame(
            {"count": self.counts, "rate": self.rates, "fitted": self.intensity(self.deltas)},
            index=pd.Index(self.deltas, name="delta_tick"))


def _events_of(data: MarketData | np.ndarray) -> np.ndarray:
    if isinstance(data, MarketData):
        return data.events
    return require_dtype(data, EVENT_DTYPE, name="events")


def trade_depths(data: MarketData | np.ndarray) -> pd.DataFrame:
    r"""Return the depth each market order reached, measured from the mid before it.

    Trade records are ``TRADE`` (``side`` = aggressor) and ``EXECUTE`` (``side`` = resting
    side, so the aggressor is ``-side``) events with a known aggressor. Records with the
    same ``ts_exch`` and aggressor that follow each other among the trade records are one
    market order (a sweep writes one ``EXECUTE`` per resting order, plus a ``SUMMARY``
    print in the simulated market). Its depth is

    .. math:: \delta = \max_j\ \epsilon\,(p_j - m),

    with :math:`\epsilon = \pm 1` the aggressor side, :math:`p_j` the prices of its records
    and :math:`m` the mid of the last consistent book (after a record flagged
    ``EventFlag.LAST``, or any record when the data has no such flags) before its first
    record. Orders without a two-sided mid before them are dropped.

    Parameters
    ----------
    data
        :class:`~qlib.data.market_data.MarketData` or an EVENT_DTYPE array.

    Returns
    -------
    pandas.DataFrame
        One row per market order: ``ts_exch`` (int64 ns), ``side`` (aggressor),
        ``mid_tick``, ``depth_tick``.

    Raises
    ------
    SchemaError, DataQualityError
        As :func:`qlib.book.replay_bbo`.
    """
    ev = _events_of(data)
    kind = ev["kind"]
    is_trade = (kind == EventKind.TRADE) | (kind == EventKind.EXECUTE)
    agg = np.where(kind == EventKind.EXECUTE, -ev["side"].astype(np.int64),
                   ev["side"].astype(np.int64))
    rows = np.flatnonzero(is_trade & (agg != Side.NONE))
    cols = {"ts_exch": np.zeros(0, np.int64), "side": np.zeros(0, np.int8),
            "mid_tick": np.zeros(0), "depth_tick": np.zeros(0)}
    if rows.size == 0:
        return pd.DataFrame(cols)
    bbo = replay_bbo(ev)
    last = (ev["flags"] & EventFlag.LAST) != 0
    consistent = np.flatnonzero(last) if last.any() else np.arange(ev.shape[0])
    ts = ev["ts_exch"][rows]
    a = agg[rows]
    new = np.ones(rows.size, dtype=bool)
    new[1:] = (ts[1:] != ts[:-1]) | (a[1:] != a[:-1])
    starts = np.flatnonzero(new)
    first = rows[starts]
    j = np.searchsorted(consistent, first, side="left") - 1
    ok = j >= 0
    jj = consistent[np.where(ok, j, 0)]
    bid = bbo["bid_px_tick"][jj]
    ask = bbo["ask_px_tick"][jj]
    ok &= (bid > 0) & (ask > 0)
    mid = 0.5 * (bid + ask)
    group = np.cumsum(new) - 1
    depth_rec = a * (ev["px_tick"][rows] - mid[group])
    depth = np.maximum.reduceat(depth_rec, starts)
    cols = {"ts_exch": ts[starts][ok], "side": a[starts][ok].astype(np.int8),
            "mid_tick": mid[ok], "depth_tick": depth[ok]}
    return pd.DataFrame(cols)


def fit_intensity(data: MarketData | np.ndarray, *, side: str = "both",
                  max_delta_ticks: float | None = None, min_orders: int = 1) -> IntensityFit:
    r"""Fit the market-order intensity :math:`\lambda(\delta) = A e^{-k\delta}` by least squares.

    Parameters
    ----------
    data
        :class:`~qlib.data.market_data.MarketData` or an EVENT_DTYPE array (with the
        book events, so the mid can be replayed, and the trades).
    side
        Aggressor side counted: ``"buy"`` (fills of our asks), ``"sell"`` (fills of our
        bids) or ``"both"`` (the mean of the two sides' intensities).
    max_delta_ticks
        Largest distance (ticks, > 0) kept in the fit; all when None.
    min_orders
        Fewest market orders (>= 1) a distance needs to enter the fit (the rare
        deepest sweeps make a noisy tail).

    Returns
    -------
    IntensityFit

    Raises
    ------
    ParameterError
        For a bad ``side``, ``max_delta_ticks`` or ``min_orders``.
    InsufficientDataError
        If the sample spans no time, or fewer than 3 distances have ``min_orders``
        market orders.

    Notes
    -----
    Each market order's depth :math:`\delta_i` (ticks from the prior mid to its
    furthest fill, :func:`trade_depths`) is rounded to the half-tick grid; for every
    distinct depth :math:`\delta > 0` the empirical intensity over the sample's
    :math:`T` seconds (first to last event, exchange clock) is

    .. math::
        \hat\lambda(\delta) = \frac{\#\{i : \delta_i \ge \delta\}}{n_s T},

    :math:`n_s = 2` for ``"both"`` and 1 otherwise: a resting quote at distance
    :math:`\delta` is reached by those orders, queue position aside (the estimator of
    [1]_, [2]_ and the hftbacktest GLFT tutorial [3]_). Then

    .. math:: \ln\hat\lambda(\delta) = \ln A - k\,\delta + \varepsilon

    is fitted by OLS (statsmodels) over the distances with at least ``min_orders``
    orders, :math:`A = e^{\widehat{\ln A}}`.

    References
    ----------
    .. [1] Avellaneda, M. and Stoikov, S. (2008). High-frequency trading in a limit
       order book. Quantitative Finance, 8(3), 217-224.
    .. [2] Gueant, O. (2016). The Financial Mathematics of Market Liquidity: From
       Optimal Execution to Market Making. Chapman and Hall/CRC.
    .. [3] hftbacktest documentation (2023). Gueant-Lehalle-Fernandez-Tapia market
       making model and grid trading (tutorial notebook).
    """
    import statsmodels.api as sm

    if side not in ("both", "buy", "sell"):
        raise ParameterError(f"side must be 'both', 'buy' or 'sell', was {side!r}")
    if max_delta_ticks is not None and not (
            isinstance(max_delta_ticks, (int, float)) and not isinstance(max_delta_ticks, bool)
            and math.isfinite(max_delta_ticks) and max_delta_ticks > 0):
        raise ParameterError(f"max_delta_ticks must be a finite number > 0 or None, "
                             f"was {max_delta_ticks!r}")
    if isinstance(min_orders, bool) or not isinstance(min_orders, (int, np.integer)) \
            or min_orders < 1:
        raise ParameterError(f"min_orders must be an integer >= 1, was {min_orders!r}")
    ev = _events_of(data)
    if ev.shape[0] < 2:
        raise InsufficientDataError(f"intensity fit had {ev.shape[0]} events, needed at least 2")
    seconds = float(ev["ts_exch"].max() - ev["ts_exch"].min()) * 1e-9
    if not seconds > 0.0:
        raise InsufficientDataError("intensity fit had a sample of 0 seconds, needed > 0")
    td = trade_depths(ev)
    if side == "buy":
        td = td[td["side"] == Side.BUY]
    elif side == "sell":
        td = td[td["side"] == Side.SELL]
    n_sides = 2.0 if side == "both" else 1.0
    depth = np.round(td["depth_tick"].to_numpy() / DELTA_GRID) * DELTA_GRID
    depth = depth[depth > 0.0]
    deltas = np.unique(depth)
    if max_delta_ticks is not None:
        deltas = deltas[deltas <= max_delta_ticks]
    srt = np.sort(depth)
    counts = (srt.size - np.searchsorted(srt, deltas, side="left")).astype(np.int64)
    keep = counts >= int(min_orders)
    deltas, counts = deltas[keep], counts[keep]
    if deltas.size < MIN_DISTANCES:
        raise InsufficientDataError(
            f"intensity fit had {deltas.size} distance(s) with >= {min_orders} market "
            f"order(s) ({len(td)} orders, side {side!r}), needed at least {MIN_DISTANCES}")
    rates = counts / (n_sides * seconds)
    res = sm.OLS(np.log(rates), sm.add_constant(deltas, has_constant="add")).fit()
    log_a, slope = float(res.params[0]), float(res.params[1])
    return IntensityFit(A=math.exp(log_a), k=-slope, r2=float(res.rsquared),
                        k_stderr=float(res.bse[1]), log_A_stderr=float(res.bse[0]),
                        deltas=deltas, rates=rates, counts=counts, seconds=seconds,
                        n_orders=len(td), side=side, result=res)
