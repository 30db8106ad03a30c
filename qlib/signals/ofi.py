r"""Order-flow imbalance (Cont, Kukanov and Stoikov 2014), best level and multi-level.

The book's order flow between consecutive states :math:`n-1, n` of the best bid
:math:`(P^b, q^b)` and best ask :math:`(P^a, q^a)` is

.. math:: e_n = \mathbb 1\{P^b_n \ge P^b_{n-1}\} q^b_n - \mathbb 1\{P^b_n \le P^b_{n-1}\} q^b_{n-1}
                - \mathbb 1\{P^a_n \le P^a_{n-1}\} q^a_n + \mathbb 1\{P^a_n \ge P^a_{n-1}\} q^a_{n-1}

and the OFI of an interval is :math:`\mathrm{OFI}_k = \sum_{n \in k} e_n` ([1]_, eq. 4).
The multi-level OFI applies the same formula to level :math:`m` ([2]_). Intervals come
from :mod:`qlib.signals._grid`: a time grid (``freq``) or an event grid (``every`` book
updates); an interval in which the book did not change has OFI 0.

References
----------
.. [1] Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book
   events. Journal of Financial Econometrics, 12(1), 47-88.
.. [2] Xu, K., Gould, M. D. and Howison, S. D. (2018). Multi-level order-flow imbalance
   in a limit order book. arXiv:1907.06230.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qlib.errors import ParameterError
from qlib.signals import _kernels as _k
from qlib.signals._grid import Grid, aggregate, event_grid, time_grid
from qlib.signals._inputs import depth_of, quotes_of
from qlib.signals._regression import RegressionResult, fit_ols

__all__ = ["multilevel_ofi", "ofi", "ofi_regression"]


def _grid(ts: np.ndarray, freq: object, every: int | None) -> Grid | None:
    if freq is not None and every is not None:
        raise ParameterError(f"give at most one of freq and every, was freq={freq!r}, "
                             f"every={every!r}")
    if freq is not None:
        return time_grid(ts, freq)
    if every is not None:
        return event_grid(len(ts), every)
    return None


def ofi(quotes: pd.DataFrame, freq: object = None, *, every: int | None = None) -> pd.Series:
    r"""Return the best-level order-flow imbalance per book update or per interval.

    Parameters
    ----------
    quotes
        Best bid and offer after each book change (:func:`qlib.book.bbo`, or LOBSTER
        layout), in time order.
    freq
        Interval width (``"1s"``, ``"10s"``): sum :math:`e_n` over a time grid.
    every
        Alternatively, sum over every ``every`` book updates.

    Returns
    -------
    pandas.Series
        ``ofi``: per update :math:`e_n` (on the quotes' index; :math:`e_0 = 0`) when
        neither ``freq`` nor ``every`` is given, else per interval (indexed by the
        interval's start), in the instrument's quantity unit.

    Raises
    ------
    SchemaError, DataQualityError
        Bad quotes; :class:`InsufficientDataError` when there are none.

    Notes
    -----
    See the module docstring for :math:`e_n`. OFI is odd under swapping the two sides
    of the book (bid :math:`\leftrightarrow` ask with prices negated): its sign flips.

    References
    ----------
    .. [1] Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book
       events. Journal of Financial Econometrics, 12(1), 47-88.
    """
    q = quotes_of(quotes)
    e = np.empty(len(q))
    _k.ofi_events(q.bid_px, q.bid_qty, q.ask_px, q.ask_qty, e)
    g = _grid(q.ts, freq, every)
    if g is None:
        return pd.Series(e, index=q.index, name="ofi")
    return pd.Series(aggregate(g, e, "sum"), index=g.labels, name="ofi")


def multilevel_ofi(depth: pd.DataFrame, levels: int = 10, freq: object = None, *,
                   every: int | None = None) -> pd.DataFrame:
    r"""Return the order-flow imbalance at each of the first ``levels`` book levels.

    Parameters
    ----------
    depth
        LOBSTER-layout book (:func:`qlib.book.depth.depth_snapshots`). An empty level
        (price NaN, quantity 0) counts as a bid at :math:`-\infty` / an ask at
        :math:`+\infty`, so a level appearing contributes its full quantity.
    levels
        Number of levels, ``M >= 1``.
    freq, every
        As :func:`ofi`.

    Returns
    -------
    pandas.DataFrame
        Columns ``ofi_1 .. ofi_M``; ``ofi_1`` equals :func:`ofi` of the same book.

    Notes
    -----
    .. math:: \mathrm{OFI}^m_k = \sum_{n \in k} e^m_n

    with :math:`e^m_n` the formula of :func:`ofi` on level :math:`m` prices and
    quantities.

    References
    ----------
    .. [1] Xu, K., Gould, M. D. and Howison, S. D. (2018). Multi-level order-flow
       imbalance in a limit order book. arXiv:1907.06230.
    """
    d = depth_of(depth, levels)
    bp = np.where(np.isnan(d.bid_px), -np.inf, d.bid_px)
    ap = np.where(np.isnan(d.ask_px), np.inf, d.ask_px)
    e = np.empty(bp.shape)
    _k.multilevel_ofi_events(bp, d.bid_qty, ap, d.ask_qty, e)
    cols = [f"ofi_{m}" for m in range(1, levels + 1)]
    g = _grid(d.ts, freq, every)
    if g is None:
        return pd.DataFrame(e, index=d.index, columns=cols)
    return pd.DataFrame({c: aggregate(g, e[:, j], "sum") for j, c in enumerate(cols)},
                        index=g.labels)


def ofi_regression(quotes: pd.DataFrame, freq: object = "10s", *, every: int | None = None,
                   hac: bool = True, maxlags: int | None = None, alpha: float = 0.05,
                   min_nobs: int = 30) -> RegressionResult:
    r"""Regress mid-price changes on contemporaneous OFI over intervals (CKS 2014).

    Parameters
    ----------
    quotes
        Best bid and offer after each book change.
    freq, every
        Intervals: a time grid (default ``"10s"``) or every ``every`` book updates
        (then ``freq`` is ignored).
    hac
        Newey-West (HAC) standard errors (default) or the classical ones.
    maxlags
        HAC lags; default :math:`\lfloor 4 (K/100)^{2/9} \rfloor`.
    alpha
        1 - confidence level of ``ci``.
    min_nobs
        Fewest intervals accepted.

    Returns
    -------
    RegressionResult
        ``coefficient`` is the price impact coefficient :math:`\hat\beta` (currency
        per unit of quantity); ``data`` holds ``x = OFI_k`` and ``y = \Delta m_k``.

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_nobs`` intervals (a day shorter than ``min_nobs * freq``), or
        OFI constant.

    Notes
    -----
    .. math:: \Delta m_k = \alpha + \beta \, \mathrm{OFI}_k + \varepsilon_k

    :math:`\Delta m_k` is the mid after the last update of interval :math:`k` minus
    the mid after the last update before it (the first quote's mid for the first
    interval), so each :math:`e_n` and each mid change falls in the same interval.

    References
    ----------
    .. [1] Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book
       events. Journal of Financial Econometrics, 12(1), 47-88.
    .. [2] Newey, W. K. and West, K. D. (1987). A simple, positive semi-definite,
       heteroskedasticity and autocorrelation consistent covariance matrix.
       Econometrica, 55(3), 703-708.
    """
    q = quotes_of(quotes)
    e = np.empty(len(q))
    _k.ofi_events(q.bid_px, q.bid_qty, q.ask_px, q.ask_qty, e)
    g = event_grid(len(q), every) if every is not None else time_grid(q.ts, freq)
    x = aggregate(g, e, "sum")
    # mid at the end of each interval: the last update's, carried through empty ones
    last_idx = np.maximum.accumulate(np.where(g.counts > 0, g.ends - 1, 0))
    m_end = q.mid[last_idx]
    y = np.diff(m_end, prepend=q.mid[0])
    return fit_ols(x, y, g.labels, hac=hac, maxlags=maxlags, alpha=alpha, min_nobs=min_nobs)
