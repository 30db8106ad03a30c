r"""Trade classification and signed order flow: tick rule, Lee-Ready, bulk volume.

Trades are the tape of :func:`qlib.signals.trades` (``ts_exch, price, qty, side, row``);
quotes are :func:`qlib.book.bbo` (or LOBSTER-layout) frames. Signs are +1 buyer-
initiated, -1 seller-initiated, 0 unknown (int8, never NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import _kernels as _k
from qlib.signals._grid import Grid, aggregate, event_grid, require_nonempty, time_grid
from qlib.signals._inputs import prevailing, quotes_of, tape_of

__all__ = ["bulk_volume", "lee_ready", "signed_flow", "tick_rule", "trade_grid"]


def trade_grid(ts: np.ndarray, freq: object = None, every: int | None = None) -> Grid:
    """Time grid (``freq``) or event grid (``every`` trades) over trade timestamps."""
    if (freq is None) == (every is None):
        raise ParameterError(f"give exactly one of freq and every, was freq={freq!r}, "
                             f"every={every!r}")
    return time_grid(ts, freq) if every is None else event_grid(len(ts), every)


def _check_empty(empty: str, allowed: tuple[str, ...]) -> None:
    if empty not in allowed:
        raise ParameterError(f"empty must be one of {allowed}, was {empty!r}")


def tick_rule(trades: pd.DataFrame | pd.Series) -> pd.Series:
    r"""Classify trades by the tick test.

    Parameters
    ----------
    trades
        A tape frame (its ``price`` column) or a Series of trade prices, in trade order.

    Returns
    -------
    pandas.Series
        ``tick_sign`` (int8) on the input's index: +1 after an uptick, -1 after a
        downtick, the previous sign after a zero tick; 0 for the leading trades before
        the first price change (documented warm-up: no tick to compare with).

    Notes
    -----
    .. math:: d_i = \operatorname{sgn}(p_i - p_{j}), \quad j = \max\{k < i : p_k \ne p_i\}

    References
    ----------
    .. [1] Lee, C. M. C. and Ready, M. J. (1991). Inferring trade direction from
       intraday data. Journal of Finance, 46(2), 733-746.
    """
    if isinstance(trades, pd.Series):
        px, index = trades.to_numpy(dtype=np.float64), trades.index
    else:
        t = tape_of(trades, min_rows=0)
        px, index = t.price, t.index
    out = np.zeros(len(px), np.int8)
    _k.tick_rule(px, out)
    return pd.Series(out, index=index, name="tick_sign")


def lee_ready(trades: pd.DataFrame, quotes: pd.DataFrame) -> pd.Series:
    r"""Classify trades by the Lee-Ready algorithm (quote test, then tick test).

    Parameters
    ----------
    trades
        Tape frame.
    quotes
        Best bid and offer. The quote prevailing *before* each trade is used: matched
        by event row when both frames carry it (``trades.row``, ``quotes.index`` named
        ``row``), otherwise the last quote strictly before the trade's ``ts_exch``
        (LOBSTER and Binance timestamps are the exchange's, so no 5-second lag [1]_).

    Returns
    -------
    pandas.Series
        ``lr_sign`` (int8): +1 above the mid, -1 below; at the mid (or before the first
        quote) the tick-rule sign, 0 only while that is still unknown.

    Notes
    -----
    .. math:: d_i = \begin{cases} +1 & p_i > m_{i^-} \\ -1 & p_i < m_{i^-} \\
              d^{\text{tick}}_i & p_i = m_{i^-} \end{cases}

    References
    ----------
    .. [1] Lee, C. M. C. and Ready, M. J. (1991). Inferring trade direction from
       intraday data. Journal of Finance, 46(2), 733-746.
    """
    t = tape_of(trades, min_rows=0)
    q = quotes_of(quotes, min_rows=0)
    j = prevailing(q, t)
    m = np.where(j >= 0, q.mid[np.maximum(j, 0)], t.price)  # no quote yet: tick test
    tick = np.zeros(len(t), np.int8)
    _k.tick_rule(t.price, tick)
    out = np.zeros(len(t), np.int8)
    _k.lee_ready(t.price, m, tick, out)
    return pd.Series(out, index=t.index, name="lr_sign")


def signed_flow(trades: pd.DataFrame, freq: object = None, *, every: int | None = None,
                sign: pd.Series | np.ndarray | None = None, empty: str = "zero") -> pd.Series:
    r"""Return the signed order flow (buy minus sell volume) per interval.

    Parameters
    ----------
    trades
        Tape frame.
    freq, every
        The interval: a clock-time width (``"1min"``) or a number of trades; exactly
        one. Neither: one value per trade (:math:`d_i q_i`).
    sign
        Trade signs to use instead of ``trades.side`` (e.g. :func:`lee_ready`).
    empty
        Time intervals with no trade: ``"zero"`` (flow 0, the default), ``"drop"``,
        or ``"raise"`` (:class:`InsufficientDataError`).

    Returns
    -------
    pandas.Series
        ``signed_flow``, indexed by interval start (time grid), first trade position
        (event grid), or the trades' index.

    Notes
    -----
    .. math:: x_k = \sum_{i \in k} d_i q_i
    """
    _check_empty(empty, ("zero", "drop", "raise"))
    t = tape_of(trades, min_rows=1)
    d = t.side if sign is None else np.asarray(sign).astype(np.int8)
    if d.shape != t.price.shape:
        raise ParameterError(f"sign has {d.shape[0]} values, trades has {len(t)}")
    x = d * t.qty
    if freq is None and every is None:
        return pd.Series(x, index=t.index, name="signed_flow")
    g = trade_grid(t.ts, freq, every)
    if empty == "raise":
        require_nonempty(g, "trades")
    v = aggregate(g, x, "sum")
    s = pd.Series(v, index=g.labels, name="signed_flow")
    return s[g.counts > 0] if empty == "drop" else s


def bulk_volume(trades: pd.DataFrame, freq: object = "1min", *, every: int | None = None,
                dist: str = "normal", df: float = 0.25, empty: str = "raise") -> pd.DataFrame:
    r"""Split each bar's volume into buy and sell volume by bulk volume classification.

    Parameters
    ----------
    trades
        Tape frame (``price``, ``qty``; sides are not used).
    freq, every
        Bars: clock time (default ``"1min"``) or ``every`` trades (then ``freq`` is ignored).
    dist
        ``"normal"`` or ``"t"`` (Student t with ``df`` degrees of freedom; [2]_ used 0.25).
    df
        Degrees of freedom of the t distribution.
    empty
        A time bar with no trade: ``"raise"`` (:class:`InsufficientDataError`, the
        default) or ``"drop"`` (its price change then joins the next bar).

    Returns
    -------
    pandas.DataFrame
        Per bar: ``volume``, ``buy_volume``, ``sell_volume``, ``dp`` (last price minus
        the previous bar's last price; the first bar's from its first trade), ``z``
        (:math:`\Delta P_k / \sigma_{\Delta P}`). ``attrs["sigma"]`` holds
        :math:`\sigma_{\Delta P}`.

    Raises
    ------
    InsufficientDataError
        Fewer than 2 bars, an empty bar with ``empty="raise"``, or no price change at
        all (:math:`\sigma_{\Delta P} = 0`).

    Notes
    -----
    .. math:: V^B_k = V_k \, F\!\left(\frac{\Delta P_k}{\sigma_{\Delta P}}\right), \qquad
              V^S_k = V_k - V^B_k

    with :math:`F` the standard normal (or t) CDF and :math:`\sigma_{\Delta P}` the
    standard deviation of bar price changes over the sample [1]_.

    References
    ----------
    .. [1] Easley, D., López de Prado, M. M. and O'Hara, M. (2012). Flow toxicity and
       liquidity in a high-frequency world. Review of Financial Studies, 25(5), 1457-1493.
    .. [2] Easley, D., López de Prado, M. M. and O'Hara, M. (2016). Discerning
       information from trade data. Journal of Financial Economics, 120(2), 269-285.
    """
    _check_empty(empty, ("raise", "drop"))
    if dist not in ("normal", "t"):
        raise ParameterError(f"dist must be 'normal' or 't', was {dist!r}")
    t = tape_of(trades, min_rows=2)
    g = trade_grid(t.ts, None if every is not None else freq, every)
    if empty == "raise":
        require_nonempty(g, "trades")
    keep = g.counts > 0
    vol = aggregate(g, t.qty, "sum")[keep]
    last = aggregate(g, t.price, "last")[keep]
    if len(last) < 2:
        raise InsufficientDataError(f"bulk_volume had {len(last)} non-empty bar(s), needed "
                                    "at least 2")
    dp = np.diff(last, prepend=t.price[0])
    sigma = float(np.std(dp, ddof=1))
    if not sigma > 0:
        raise InsufficientDataError(f"bulk_volume: price did not change over {len(dp)} bars "
                                    "(sigma of bar price changes was 0), needed at least 1 change")
    z = dp / sigma
    cdf = stats.norm.cdf(z) if dist == "normal" else stats.t.cdf(z, df)
    buy = vol * cdf
    out = pd.DataFrame({"volume": vol, "buy_volume": buy, "sell_volume": vol - buy,
                        "dp": dp, "z": z}, index=g.labels[keep])
    out.attrs["sigma"] = sigma
    return out
