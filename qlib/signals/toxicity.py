r"""Toxic flow: mark-outs of fills at horizons, and how trades cluster in time.

Both take a table of executions with ``ts_exch`` (or ``ts``), ``price``, ``qty`` and
``side``: the market tape (:func:`qlib.signals.trades`, side = aggressor) today, our
own fills (side = our side) once strategies trade.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.signals._grid import time_grid
from qlib.signals._inputs import Tape, as_of, prevailing, quotes_of, tape_of

__all__ = [
    "DEFAULT_HORIZONS",
    "ClusteringResult",
    "markout_curve",
    "markouts",
    "trade_clustering",
    "trade_durations",
]

#: Default mark-out horizons.
DEFAULT_HORIZONS = ("0s", "1s", "5s", "30s", "60s")


def _fills_of(fills: object, name: str = "fills", min_rows: int = 1) -> Tape:
    if isinstance(fills, pd.DataFrame) and "ts_exch" not in fills.columns and "ts" in fills.columns:
        fills = fills.rename(columns={"ts": "ts_exch"})
    return tape_of(fills, name, min_rows=min_rows, need_side=True)


def _horizon_ns(h: object) -> int:
    try:
        ns = int(pd.Timedelta(h).value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"horizon must be a Timedelta, offset string or ns int, was {h!r}") from exc
    if ns < 0:
        raise ParameterError(f"horizon must be >= 0, was {h!r}")
    return ns


def markouts(fills: pd.DataFrame, quotes: pd.DataFrame, horizons: Sequence[object] = DEFAULT_HORIZONS,
             *, tick_size: float) -> pd.DataFrame:
    r"""Return the mark-out of every fill at every horizon.

    Parameters
    ----------
    fills
        Executions: ``ts_exch`` (or ``ts``), ``price``, ``qty``, ``side`` (+1 bought, -1
        sold; for the tape, the aggressor). Rows with side 0 are left out.
    quotes
        Best bid and offer over time (:func:`qlib.book.bbo`, or a LOBSTER-layout depth
        frame).
    horizons
        Offsets :math:`h \ge 0` (``"1s"``, ``pd.Timedelta``, ns int).
    tick_size
        Tick size of the instrument, for the ``markout_ticks`` column.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per (fill, horizon) whose mid is known: ``fill``
        (position of the fill in ``fills``), ``ts_exch``, ``horizon``
        (``timedelta64``), ``side``, ``qty``, ``price``, ``mid`` (at
        :math:`t + h`), ``markout`` (currency), ``markout_ticks``, ``markout_bps``.
        Fills whose :math:`t + h` lies before the first or after the last quote are
        left out; ``attrs["dropped"]`` counts them per horizon.

    Raises
    ------
    InsufficientDataError
        If no fill with a known side has a mark-out at any horizon.
    ParameterError
        For a negative horizon or a non-positive tick size.
    SchemaError
        If a column is missing.

    Notes
    -----
    For a fill of side :math:`s_i` at price :math:`p_i` and time :math:`t_i`,

    .. math:: M_i(h) = s_i \left( m_{t_i + h} - p_i \right), \qquad
              M^{\mathrm{bps}}_i(h) = 10^4 \, M_i(h) / p_i,

    with :math:`m_t` the last mid at or before :math:`t` for :math:`h > 0`, and for
    :math:`h = 0` the mid prevailing just before the fill (matched by event row when
    both frames carry one, else the last quote strictly before :math:`t_i`). Positive: the price moved in
    the fill's favour. At :math:`h = 0` it is minus the effective half-spread paid;
    a liquidity provider filled against informed flow sees :math:`M(h)` fall with
    :math:`h` (adverse selection) [1]_ [2]_. For the tape (side = aggressor) the
    passive side's mark-out is the negative.

    References
    ----------
    .. [1] Glosten, L. R. and Milgrom, P. R. (1985). Bid, ask and transaction prices
       in a specialist market with heterogeneously informed traders. Journal of
       Financial Economics, 14(1), 71-100.
    .. [2] Cartea, Á., Jaimungal, S. and Penalva, J. (2015). Algorithmic and
       High-Frequency Trading, ch. 4. Cambridge University Press.
    """
    if not (isinstance(tick_size, (int, float, np.floating)) and tick_size > 0):
        raise ParameterError(f"tick_size must be positive, was {tick_size!r}")
    f = _fills_of(fills)
    q = quotes_of(quotes)
    hs = [_horizon_ns(h) for h in horizons]
    if not hs:
        raise ParameterError("horizons must not be empty")
    known = np.flatnonzero(f.side != 0)
    mid = q.mid
    parts, dropped = [], {}
    pre = prevailing(q, f)[known]
    for h in hs:
        t = f.ts[known] + h
        idx = as_of(q, t) if h > 0 else pre
        ok = (idx >= 0) & (t <= q.ts[-1])
        sel = known[ok]
        m = mid[idx[ok]]
        side = f.side[sel].astype(np.float64)
        mk = side * (m - f.price[sel])
        dropped[pd.Timedelta(h, unit="ns")] = int(np.count_nonzero(~ok))
        parts.append(pd.DataFrame({
            "fill": sel, "ts_exch": f.ts[sel], "horizon": np.full(len(sel), h, np.int64),
            "side": f.side[sel], "qty": f.qty[sel], "price": f.price[sel], "mid": m,
            "markout": mk, "markout_ticks": mk / tick_size, "markout_bps": 1e4 * mk / f.price[sel],
        }))
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        raise InsufficientDataError(
            f"markouts: {len(known)} fills with a known side, 0 with a quote at t + h for "
            f"any horizon (quotes cover {len(q)} rows), needed at least 1")
    out["ts_exch"] = pd.to_datetime(out["ts_exch"], unit="ns", utc=True)
    out["horizon"] = pd.to_timedelta(out["horizon"], unit="ns")
    out.attrs["dropped"] = dropped
    return out


def markout_curve(marks: pd.DataFrame, *, weight: str | None = None) -> pd.DataFrame:
    r"""Average mark-out per horizon, with its standard error.

    Parameters
    ----------
    marks
        :func:`markouts` output.
    weight
        None (each fill counts once) or ``"qty"`` (quantity-weighted means; the
        standard error then uses the effective sample size
        :math:`(\sum w)^2 / \sum w^2`).

    Returns
    -------
    pandas.DataFrame
        Index ``horizon``; columns ``n``, ``mean_ticks``, ``se_ticks``, ``mean_bps``,
        ``se_bps``, ``share_positive`` (fraction of mark-outs > 0). Horizons with
        fewer than 2 mark-outs are left out.

    Raises
    ------
    InsufficientDataError
        If no horizon has at least 2 mark-outs.
    """
    if not isinstance(marks, pd.DataFrame):
        raise SchemaError(f"marks must be a DataFrame, was {type(marks).__name__}")
    for c in ("horizon", "markout_ticks", "markout_bps", "qty"):
        if c not in marks.columns:
            raise SchemaError(f"marks has no column {c!r}")
    if weight not in (None, "qty"):
        raise ParameterError(f"weight must be None or 'qty', was {weight!r}")
    rows = {}
    for h, g in marks.groupby("horizon", sort=True):
        if len(g) < 2:
            continue
        w = g["qty"].to_numpy(float) if weight == "qty" else np.ones(len(g))
        n_eff = w.sum() ** 2 / (w**2).sum()
        row = {"n": len(g)}
        for unit in ("ticks", "bps"):
            x = g[f"markout_{unit}"].to_numpy(float)
            mean = float(np.average(x, weights=w))
            var = float(np.average((x - mean) ** 2, weights=w)) * n_eff / max(n_eff - 1, 1)
            row[f"mean_{unit}"] = mean
            row[f"se_{unit}"] = math.sqrt(var / n_eff)
        row["share_positive"] = float(np.average(g["markout_ticks"].to_numpy() > 0, weights=w))
        rows[h] = row
    if not rows:
        raise InsufficientDataError("markout_curve: no horizon had 2 or more mark-outs, needed 2")
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.TimedeltaIndex(out.index, name="horizon")
    return out


def trade_durations(trades: pd.DataFrame) -> pd.Series:
    """Return the time between consecutive trades, in seconds.

    Parameters
    ----------
    trades
        Tape (or fills) with ``ts_exch`` (or ``ts``), in time order.

    Returns
    -------
    pandas.Series
        float64 seconds, ``len(trades) - 1`` values, indexed by the later trade's
        ``ts_exch``. Prints sharing a timestamp give 0.

    Raises
    ------
    InsufficientDataError
        With fewer than 2 trades.
    """
    df = trades.rename(columns={"ts": "ts_exch"}) if (
        isinstance(trades, pd.DataFrame) and "ts_exch" not in trades.columns) else trades
    t = tape_of(df, min_rows=2)
    d = np.diff(t.ts) / 1e9
    return pd.Series(d, index=pd.to_datetime(t.ts[1:], unit="ns", utc=True), name="duration_s")


@dataclass
class ClusteringResult:
    r"""What :func:`trade_clustering` returns.

    Attributes
    ----------
    n_trades, n_intervals
        Trades counted, intervals of width ``freq`` between the first and last trade.
    freq
        Interval width.
    mean_count, var_count
        Mean and variance (ddof 1) of trades per interval.
    dispersion_index
        :math:`D = s^2 / \bar N`: 1 for a Poisson process, above 1 when trades cluster.
    chi2, p_value
        :math:`(K - 1) D`, :math:`\chi^2_{K-1}` under Poisson arrivals, and its upper
        tail probability (small: more clustered than Poisson).
    duration_mean_s, duration_median_s, duration_cv
        Inter-trade durations: mean, median (seconds) and coefficient of variation
        (1 for exponential durations, above 1 when trades cluster).
    share_simultaneous
        Fraction of durations equal to zero (prints with the same timestamp).
    counts
        Trades per interval (Series indexed by the interval's left edge).
    durations
        Inter-trade durations in seconds (:func:`trade_durations`).
    """

    n_trades: int
    n_intervals: int
    freq: str
    mean_count: float
    var_count: float
    dispersion_index: float
    chi2: float
    p_value: float
    duration_mean_s: float
    duration_median_s: float
    duration_cv: float
    share_simultaneous: float
    counts: pd.Series
    durations: pd.Series

    def summary(self) -> pd.Series:
        """The scalar statistics as a Series."""
        names = ["n_trades", "n_intervals", "freq", "mean_count", "var_count",
                 "dispersion_index", "chi2", "p_value", "duration_mean_s",
                 "duration_median_s", "duration_cv", "share_simultaneous"]
        return pd.Series({n: getattr(self, n) for n in names}, name="trade_clustering")

    def _repr_html_(self) -> str:
        return ("<p><b>Trade clustering</b> (Poisson: dispersion index 1, duration CV 1)</p>"
                + self.summary().to_frame().to_html(float_format=lambda x: f"{x:.4g}"))

    def __repr__(self) -> str:
        return (f"ClusteringResult(n_trades={self.n_trades}, freq={self.freq!r}, "
                f"dispersion_index={self.dispersion_index:.3f}, duration_cv={self.duration_cv:.3f})")


def trade_clustering(trades: pd.DataFrame, freq: object = "1s", *,
                     min_intervals: int = 10) -> ClusteringResult:
    r"""Measure how trades cluster in time, without fitting a model.

    Parameters
    ----------
    trades
        Tape or fills with ``ts_exch`` (or ``ts``). Use
        ``qlib.signals.trades(data, aggregate=True)`` to count one aggressive order
        walking several levels as one trade.
    freq
        Width of the counting intervals.
    min_intervals
        Fewest intervals accepted.

    Returns
    -------
    ClusteringResult

    Raises
    ------
    InsufficientDataError
        With fewer than 2 trades, fewer than ``min_intervals`` intervals, or durations
        that are all zero.

    Notes
    -----
    With :math:`N_k` trades in interval :math:`k = 1..K`,

    .. math:: D = \frac{s^2_N}{\bar N}, \qquad (K-1) D \sim \chi^2_{K-1}
              \text{ under a homogeneous Poisson process [1]_.}

    and for durations :math:`\tau_i`, :math:`\mathrm{CV} = s_\tau / \bar\tau` (1 for
    exponential durations) [2]_. Intraday seasonality alone raises both above 1; a
    Hawkes or ACD fit separates it from self-excitation.

    References
    ----------
    .. [1] Cox, D. R. and Lewis, P. A. W. (1966). The Statistical Analysis of Series
       of Events. Methuen, ch. 2.
    .. [2] Engle, R. F. and Russell, J. R. (1998). Autoregressive conditional
       duration: a new model for irregularly spaced transaction data. Econometrica,
       66(5), 1127-1162.
    """
    df = trades.rename(columns={"ts": "ts_exch"}) if (
        isinstance(trades, pd.DataFrame) and "ts_exch" not in trades.columns) else trades
    t = tape_of(df, min_rows=2)
    g = time_grid(t.ts, freq)
    k = g.n_bins
    if k < min_intervals:
        raise InsufficientDataError(f"trade_clustering: {len(t)} trades span {k} interval(s) of "
                                    f"{freq}, needed at least {min_intervals}")
    counts = g.counts.astype(np.float64)
    mean = float(counts.mean())
    var = float(counts.var(ddof=1))
    disp = var / mean
    chi2 = (k - 1) * disp
    p = float(stats.chi2.sf(chi2, k - 1))
    dur = trade_durations(df)
    d = dur.to_numpy()
    dmean = float(d.mean())
    if not dmean > 0:
        raise InsufficientDataError(f"trade_clustering: all {len(d)} inter-trade durations were 0,"
                                    " needed at least 1 positive")
    return ClusteringResult(
        n_trades=len(t), n_intervals=k, freq=str(freq), mean_count=mean, var_count=var,
        dispersion_index=disp, chi2=float(chi2), p_value=p, duration_mean_s=dmean,
        duration_median_s=float(np.median(d)), duration_cv=float(d.std(ddof=1) / dmean),
        share_simultaneous=float(np.mean(d == 0)),
        counts=pd.Series(g.counts, index=g.labels, name="trades"), durations=dur)
