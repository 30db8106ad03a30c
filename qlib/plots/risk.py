"""Figures of risk results: VaR by method, the VaR backtest, drawdown, Greeks ladder,
stress table and the pre-trade check's latency.

Pure functions: results of :mod:`qlib.risk` in, a :class:`plotly.graph_objects.Figure`
out, no I/O. Long series are thinned to at most ``max_points`` points per trace.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qlib.errors import InsufficientDataError, SchemaError
from qlib.plots.data import _LAYOUT

__all__ = ["drawdown", "greeks_ladder", "latency_histogram", "stress_bar", "var_backtest",
           "var_comparison"]

_LOSS, _GAIN, _LINE, _ALT = "#d62728", "#2ca02c", "#1f77b4", "#ff7f0e"


def _nonempty(x: object, name: str) -> None:
    if x is None or len(x) == 0:  # type: ignore[arg-type]
        raise InsufficientDataError(f"{name} had 0 rows, needed at least 1")


def _need(frame: pd.DataFrame, cols: list[str], name: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(f"{name} is missing columns {missing}")


def _x(index: pd.Index) -> object:
    return index.floor("us") if isinstance(index, pd.DatetimeIndex) else index


def _thin(s: pd.Series, max_points: int) -> pd.Series:
    if len(s) <= max_points:
        return s
    return s.iloc[np.linspace(0, len(s) - 1, max_points).astype(np.int64)]


def var_comparison(table: pd.DataFrame) -> go.Figure:
    """Plot VaR and ES by method and confidence as grouped bars.

    Parameters
    ----------
    table
        :func:`qlib.risk.var_by_method` output: index ``method``, columns ``var_<c>`` and
        ``es_<c>`` (positive loss fractions).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar per method and column, in basis points; VaR solid, ES hatched.

    Raises
    ------
    SchemaError
        No ``var_`` column.
    InsufficientDataError
        Empty table.
    """
    _nonempty(table, "VaR table")
    cols = [c for c in table.columns if c.startswith(("var_", "es_"))]
    if not any(c.startswith("var_") for c in cols):
        raise SchemaError("VaR table has no var_<confidence> column")
    fig = go.Figure()
    for c in cols:
        kind, pct = c.split("_", 1)
        fig.add_trace(go.Bar(x=list(table.index), y=table[c].to_numpy(float) * 1e4,
                             name=f"{kind.upper()} {pct.replace('_', '.')}%",
                             marker_pattern_shape="/" if kind == "es" else "",
                             hovertemplate="%{x}<br>%{y:.3g} bps<extra></extra>"))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, barmode="group",
                      title="VaR and expected shortfall by method (one bar, positive loss)",
                      yaxis_title="bps", xaxis_title="method")
    return fig


def var_backtest(returns: pd.Series, var: pd.Series, *, max_points: int = 4_000) -> go.Figure:
    """Plot returns against the negative of a one-step-ahead VaR forecast, exceptions marked.

    Parameters
    ----------
    returns
        Simple per-bar returns; only bars with a forecast are drawn.
    var
        Positive-loss VaR forecast per bar (:func:`qlib.risk.rolling_var`), aligned by
        index with ``returns``.

    Returns
    -------
    plotly.graph_objects.Figure
        Returns as bars, ``-VaR`` as a line, and markers on the exceptions
        (``return < -VaR``), all in basis points.

    Raises
    ------
    InsufficientDataError
        No bar has both a return and a forecast.
    """
    _nonempty(var, "VaR forecast")
    r = pd.Series(returns, dtype=float).reindex(var.index)
    ok = r.notna() & var.notna()
    r, v = r[ok], var[ok]
    _nonempty(r, "returns with a VaR forecast")
    exc = r < -v
    rt, vt = _thin(r, max_points), _thin(v, max_points)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=_x(rt.index), y=rt.to_numpy() * 1e4, name="return",
                         marker_color=_LINE, opacity=0.6))
    fig.add_trace(go.Scatter(x=_x(vt.index), y=-vt.to_numpy() * 1e4, mode="lines", name="-VaR",
                             line={"color": _ALT, "width": 1.5}))
    fig.add_trace(go.Scatter(x=_x(r.index[exc]), y=r[exc].to_numpy() * 1e4, mode="markers",
                             name=f"exception ({int(exc.sum())})",
                             marker={"color": _LOSS, "size": 8, "symbol": "x"}))
    fig.update_layout(**_LAYOUT, title="VaR backtest: returns against the forecast made before "
                      "each bar", yaxis_title="bps", bargap=0)
    return fig


def drawdown(returns: pd.Series, *, max_points: int = 4_000) -> go.Figure:
    """Plot the cumulative wealth of per-bar returns and its drawdown from the high-water mark.

    Returns
    -------
    plotly.graph_objects.Figure
        Two rows: wealth :math:`W_t = \\prod (1 + r_s)` with its running maximum, and
        :math:`W_t / \\max_{s \\le t} W_s - 1` in percent (filled).

    Raises
    ------
    InsufficientDataError
        Empty input.
    """
    _nonempty(returns, "returns")
    r = pd.Series(returns, dtype=float)
    w = (1.0 + r).cumprod()
    hwm = np.maximum(w.cummax(), 1.0)
    dd = w / hwm - 1.0
    w, hwm, dd = _thin(w, max_points), _thin(hwm, max_points), _thin(dd, max_points)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.6, 0.4])
    fig.add_trace(go.Scatter(x=_x(w.index), y=w.to_numpy(), name="wealth",
                             line={"color": _LINE}), row=1, col=1)
    fig.add_trace(go.Scatter(x=_x(hwm.index), y=hwm.to_numpy(), name="high-water mark",
                             line={"color": "#888888", "dash": "dot"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=_x(dd.index), y=dd.to_numpy() * 100, name="drawdown",
                             fill="tozeroy", line={"color": _LOSS}), row=2, col=1)
    fig.update_layout(**_LAYOUT, title="Cumulative wealth and drawdown")
    fig.update_yaxes(title_text="wealth (start 1)", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    return fig


def greeks_ladder(ladder: pd.DataFrame) -> go.Figure:
    """Plot a Greeks ladder: P&L, delta, gamma and vega against the spot shift.

    Parameters
    ----------
    ladder
        :func:`qlib.risk.greeks_ladder` output (index ``(underlying_id, spot_shift)``;
        columns ``pnl``, ``delta``, ``gamma``, ``vega_1pt``).

    Returns
    -------
    plotly.graph_objects.Figure
        Four panels, one line per underlying, x in percent of spot.

    Raises
    ------
    SchemaError
        A required column is missing.
    InsufficientDataError
        Empty ladder.
    """
    _nonempty(ladder, "Greeks ladder")
    cols = ["pnl", "delta", "gamma", "vega_1pt"]
    _need(ladder, cols, "Greeks ladder")
    fig = make_subplots(rows=2, cols=2, subplot_titles=["P&L", "delta", "gamma",
                                                         "vega (per vol point)"])
    flat = ladder.reset_index()
    under = flat["underlying_id"] if "underlying_id" in flat else pd.Series("book", flat.index)
    for k, uid in enumerate(pd.unique(under)):
        sub = flat[under == uid]
        x = sub["spot_shift"].to_numpy(float) * 100
        for j, c in enumerate(cols):
            fig.add_trace(go.Scatter(x=x, y=sub[c].to_numpy(float), mode="lines+markers",
                                     name=str(uid), legendgroup=str(uid), showlegend=j == 0,
                                     line={"color": [_LINE, _ALT, _GAIN, _LOSS][k % 4]}),
                          row=j // 2 + 1, col=j % 2 + 1)
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"},
                      title="Greeks ladder: full BSM revaluation across spot shifts")
    fig.update_xaxes(title_text="spot shift %", row=2)
    return fig


def stress_bar(table: pd.DataFrame) -> go.Figure:
    """Plot the P&L of each stress scenario as horizontal bars, split options / underlyings.

    Parameters
    ----------
    table
        :func:`qlib.risk.stress_test` output (index ``scenario``; columns ``pnl``,
        ``pnl_options``, ``pnl_underlyings``).

    Raises
    ------
    SchemaError
        A required column is missing.
    InsufficientDataError
        Empty table.
    """
    _nonempty(table, "stress table")
    _need(table, ["pnl", "pnl_options", "pnl_underlyings"], "stress table")
    y = [str(s) for s in table.index]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=y, x=table["pnl_options"].to_numpy(float), orientation="h",
                         name="options", marker_color=_LINE))
    fig.add_trace(go.Bar(y=y, x=table["pnl_underlyings"].to_numpy(float), orientation="h",
                         name="underlyings", marker_color=_ALT))
    fig.add_trace(go.Scatter(y=y, x=table["pnl"].to_numpy(float), mode="markers", name="total",
                             marker={"color": "black", "symbol": "diamond", "size": 9}))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, barmode="relative",
                      title="Stress test: P&L by scenario (full revaluation)",
                      xaxis_title="P&L (currency)", yaxis={"autorange": "reversed"})
    return fig


def latency_histogram(latency_ns: pd.Series, *, clip_quantile: float = 0.999,
                      bins: int = 100) -> go.Figure:
    """Plot a histogram of per-call latencies with the median and 99th percentile marked.

    Parameters
    ----------
    latency_ns
        Nanoseconds per call (:func:`qlib.risk.pretrade_latency_sample`).
    clip_quantile
        Calls above this quantile are left out of the bins (their count is in the title),
        so one scheduler pause does not flatten the histogram.
    bins
        Number of bins.

    Raises
    ------
    InsufficientDataError
        Empty input.
    """
    _nonempty(latency_ns, "latency sample")
    x = pd.Series(latency_ns, dtype=float).to_numpy()
    cut = float(np.quantile(x, clip_quantile))
    shown = x[x <= cut]
    p50, p99 = np.percentile(x, [50, 99])
    fig = go.Figure(go.Histogram(x=shown, nbinsx=bins, marker_color=_LINE, name="calls"))
    for v, name, color in ((p50, "p50", _GAIN), (p99, "p99", _LOSS)):
        fig.add_vline(x=float(v), line={"color": color, "dash": "dash"},
                      annotation_text=f"{name} {v:,.0f} ns")
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, showlegend=False,
                      title=f"Pre-trade check latency from Python ({len(x):,} calls, "
                            f"{len(x) - len(shown):,} above the {clip_quantile:.1%} quantile "
                            "not shown)",
                      xaxis_title="ns per call", yaxis_title="calls")
    return fig
