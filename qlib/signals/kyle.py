r"""Kyle's lambda: the price impact of signed order flow, by regression.

Per interval :math:`k` (a time grid or every ``N`` trades), the mid-price change is
regressed on the signed order flow :math:`x_k = \sum_{i\in k} d_i q_i`:

.. math:: \Delta m_k = \alpha + \lambda x_k + \varepsilon_k

with statsmodels OLS and Newey-West standard errors, so :math:`\lambda` comes with a
standard error and a confidence interval rather than as a bare covariance ratio
:math:`\operatorname{Cov}(\Delta m, x)/\operatorname{Var}(x)` (the same point estimate).

References
----------
.. [1] Kyle, A. S. (1985). Continuous auctions and insider trading. Econometrica, 53(6),
   1315-1335.
.. [2] Hasbrouck, J. (2007). Empirical Market Microstructure. Oxford University Press, Ch. 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals._grid import aggregate, freq_ns, require_nonempty
from qlib.signals._inputs import prevailing, quotes_of, tape_of
from qlib.signals._regression import RegressionResult, fit_ols
from qlib.signals.classify import trade_grid

__all__ = ["flow_and_mid_changes", "kyle_lambda", "kyle_lambda_profile"]


def flow_and_mid_changes(trades: pd.DataFrame, quotes: pd.DataFrame, freq: object = "1min", *,
                         every: int | None = None, empty: str = "raise") -> pd.DataFrame:
    r"""Return the per-interval inputs of :func:`kyle_lambda`: signed flow and mid change.

    Parameters
    ----------
    trades
        Tape frame (``side`` is the aggressor sign).
    quotes
        Best bid and offer.
    freq, every
        Intervals: clock time (default ``"1min"``) or every ``every`` trades (then
        ``freq`` is ignored).
    empty
        A time interval with no trade: ``"raise"`` (default) or ``"drop"``.

    Returns
    -------
    pandas.DataFrame
        Per interval: ``signed_flow`` :math:`x_k`, ``dmid`` :math:`\Delta m_k`,
        ``n_trades``. For a time grid :math:`\Delta m_k` is the mid just before the
        interval's end minus the mid just before its start; for an event grid, the mid
        prevailing before the next interval's first trade (the last quote for the last
        interval) minus the mid prevailing before this one's first trade.

    Raises
    ------
    InsufficientDataError
        An interval with no trades (``empty="raise"``).
    """
    if empty not in ("raise", "drop"):
        raise ParameterError(f"empty must be 'raise' or 'drop', was {empty!r}")
    t = tape_of(trades, min_rows=1, need_side=True)
    q = quotes_of(quotes)
    g = trade_grid(t.ts, None if every is not None else freq, every)
    if empty == "raise":
        require_nonempty(g, "trades")
    x = aggregate(g, t.side * t.qty, "sum")
    if g.kind == "time":
        edges = g.labels.asi8.astype(np.int64)
        edges = np.append(edges, edges[-1] + g.width)
        j = np.searchsorted(q.ts, edges, side="left") - 1  # strictly before each edge
    else:
        j_tr = prevailing(q, t)
        j = np.append(j_tr[g.starts], len(q) - 1)
    m = q.mid[np.maximum(j, 0)]
    dm = np.diff(m)
    keep = g.counts > 0
    return pd.DataFrame({"signed_flow": x[keep], "dmid": dm[keep], "n_trades": g.counts[keep]},
                        index=g.labels[keep])


def kyle_lambda(trades: pd.DataFrame, quotes: pd.DataFrame, freq: object = "1min", *,
                every: int | None = None, empty: str = "raise", hac: bool = True,
                maxlags: int | None = None, alpha: float = 0.05,
                min_nobs: int = 20) -> RegressionResult:
    r"""Estimate Kyle's lambda by regressing mid changes on signed order flow.

    Parameters
    ----------
    trades, quotes, freq, every, empty
        As :func:`flow_and_mid_changes`.
    hac, maxlags, alpha
        As :func:`qlib.signals.ofi_regression`.
    min_nobs
        Fewest intervals accepted.

    Returns
    -------
    RegressionResult
        ``coefficient`` is :math:`\hat\lambda` (currency per unit of quantity);
        ``data`` holds ``x`` (signed flow) and ``y`` (mid change) per interval.

    Raises
    ------
    InsufficientDataError
        An interval with no trades (``empty="raise"``), fewer than ``min_nobs``
        intervals, or constant signed flow.

    Notes
    -----
    .. math:: \Delta m_k = \alpha + \lambda \sum_{i \in k} d_i q_i + \varepsilon_k

    References
    ----------
    .. [1] Kyle, A. S. (1985). Continuous auctions and insider trading. Econometrica,
       53(6), 1315-1335.
    """
    df = flow_and_mid_changes(trades, quotes, freq, every=every, empty=empty)
    return fit_ols(df["signed_flow"].to_numpy(), df["dmid"].to_numpy(), df.index, hac=hac,
                   maxlags=maxlags, alpha=alpha, min_nobs=min_nobs)


def kyle_lambda_profile(trades: pd.DataFrame, quotes: pd.DataFrame, freq: object = "1min",
                        window: object = "30min", *, step: object = None, empty: str = "raise",
                        hac: bool = True, maxlags: int | None = None, alpha: float = 0.05,
                        min_nobs: int = 10) -> pd.DataFrame:
    r"""Return Kyle's lambda through the day: one regression per (rolling) sub-window.

    Parameters
    ----------
    trades, quotes, freq, empty, hac, maxlags, alpha
        As :func:`kyle_lambda` (time intervals only).
    window
        Sub-window length (``"30min"``): the intervals whose start lies in
        :math:`[w_j, w_j + W)` form regression :math:`j`.
    step
        Distance between window starts; default ``window`` (disjoint sub-windows).
        A smaller step gives a rolling estimate.
    min_nobs
        Fewest intervals per sub-window.

    Returns
    -------
    pandas.DataFrame
        Indexed by window start: ``coefficient``, ``stderr``, ``tvalue``, ``pvalue``,
        ``ci_low``, ``ci_high``, ``rsquared``, ``nobs``. Windows run from the first
        interval while a full window fits in the sample.

    Raises
    ------
    InsufficientDataError
        The sample is shorter than one window (the message gives intervals had and
        needed), or a sub-window has fewer than ``min_nobs`` intervals.
    """
    d = freq_ns(freq)
    w = freq_ns(window)
    s = w if step is None else freq_ns(step)
    if w < d:
        raise ParameterError(f"window ({window!r}) must be at least freq ({freq!r})")
    df = flow_and_mid_changes(trades, quotes, freq, empty=empty)
    starts = df.index.asi8
    per_window = w // d
    span = (starts[-1] + d - starts[0]) // d
    if span < per_window:
        raise InsufficientDataError(f"kyle_lambda_profile: the sample spans {span} interval(s) "
                                    f"of {freq}, needed {per_window} for one {window} window")
    rows, labels = [], []
    w0 = int(starts[0])
    while w0 + w <= starts[-1] + d:
        sel = (starts >= w0) & (starts < w0 + w)
        sub = df[sel]
        r = fit_ols(sub["signed_flow"].to_numpy(), sub["dmid"].to_numpy(), sub.index, hac=hac,
                    maxlags=maxlags, alpha=alpha, min_nobs=min_nobs,
                    what=f"intervals in the window from {pd.Timestamp(w0, tz='UTC')}")
        rows.append((r.coefficient, r.stderr, r.tvalue, r.pvalue, r.ci[0], r.ci[1],
                     r.rsquared, r.nobs))
        labels.append(w0)
        w0 += s
    return pd.DataFrame(rows, columns=["coefficient", "stderr", "tvalue", "pvalue", "ci_low",
                                       "ci_high", "rsquared", "nobs"],
                        index=pd.DatetimeIndex(pd.to_datetime(labels, unit="ns", utc=True),
                                               name="window_start"))

