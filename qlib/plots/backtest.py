"""Figures of backtest results: P&L and inventory, fills on the price, attribution,
mark-outs, and the effect of latency and of the queue model across a sweep.

Pure functions: :class:`qlib.engine.BacktestResult` objects (or a sweep's result frame)
in, a :class:`plotly.graph_objects.Figure` out, no I/O. Long series are thinned to at
most ``max_points`` points per trace, and a figure that shows fewer fills than the run
had says so in its title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.plots.data import _LAYOUT, DEFAULT_MAX_POINTS

__all__ = [
    "attribution_figure",
    "equity_figure",
    "fills_figure",
    "latency_effect_figure",
    "markout_figure",
    "queue_effect_figure",
]

_BUY, _SELL, _MID, _QUOTE = "#2ca02c", "#d62728", "#7f7f7f", "#1f77b4"
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f")
_COMPONENTS = (("spread_capture", "spread capture", "#2ca02c"),
               ("inventory", "inventory", "#1f77b4"),
               ("fees", "fees (paid, negative)", "#d62728"),
               ("total", "total", "#444444"))
_Z95 = 1.959963984540054


def _check_result(result: object, name: str = "result") -> None:
    if not all(hasattr(result, a) for a in ("equity", "fills", "attribution", "instrument")):
        raise ParameterError(f"{name} must be a qlib.engine.BacktestResult, was "
                             f"{type(result).__name__}")


def _check_results(results: object) -> dict[str, Any]:
    if not isinstance(results, Mapping):
        raise ParameterError(f"results must be a mapping of name -> BacktestResult, was "
                             f"{type(results).__name__}")
    if len(results) == 0:
        raise InsufficientDataError("results had 0 entries, needed at least 1")
    for k, r in results.items():
        _check_result(r, f"results[{k!r}]")
    return {str(k): r for k, r in results.items()}


def _check_max_points(max_points: object) -> int:
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) \
            or max_points < 2:
        raise ParameterError(f"max_points must be an int >= 2, was {max_points!r}")
    return int(max_points)


def _thin_index(n: int, max_points: int) -> np.ndarray:
    """Evenly spaced row numbers (first and last included), all rows when ``n`` fits."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))


def _x(index: pd.Index) -> pd.Index:
    return index.floor("us") if isinstance(index, pd.DatetimeIndex) else index


def _ccy(results: Mapping[str, Any]) -> str:
    cur = {r.instrument.currency for r in results.values()}
    return cur.pop() if len(cur) == 1 else "quote currency"


# --------------------------------------------------------------------------- results
def equity_figure(results: Mapping[str, Any], *,
                  max_points: int = DEFAULT_MAX_POINTS) -> go.Figure:
    """Plot P&L over time (top) and inventory (bottom) of one or more backtests.

    Parameters
    ----------
    results
        Strategy label -> :class:`~qlib.engine.BacktestResult`.
    max_points
        Upper bound on the points of each trace (records are thinned evenly).

    Returns
    -------
    plotly.graph_objects.Figure
        Two rows sharing the time axis: P&L (equity minus the starting capital, in the
        quote currency, marked at the record times) and the position (step lines),
        one colour per strategy.

    Raises
    ------
    ParameterError
        If ``results`` is not a mapping of BacktestResult, or ``max_points`` < 2.
    InsufficientDataError
        If ``results`` is empty or a result has no records.
    """
    res = _check_results(results)
    max_points = _check_max_points(max_points)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.62, 0.38])
    for i, (name, r) in enumerate(res.items()):
        eq = r.equity
        if len(eq) == 0:
            raise InsufficientDataError(f"results[{name!r}] had 0 records, needed at least 1")
        eq = eq.iloc[_thin_index(len(eq), max_points)]
        color = _PALETTE[i % len(_PALETTE)]
        x = _x(eq.index)
        fig.add_trace(go.Scatter(x=x, y=eq["pnl"], mode="lines", name=name, legendgroup=name,
                                 line={"color": color, "width": 1.5},
                                 hovertemplate=f"{name}<br>P&L %{{y:,.2f}}<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=eq["position"], mode="lines", name=name,
                                 legendgroup=name, showlegend=False, line_shape="hv",
                                 line={"color": color, "width": 1},
                                 hovertemplate=f"{name}<br>position %{{y:,.4g}}<extra></extra>"),
                      row=2, col=1)
    fig.add_hline(y=0, line={"color": _MID, "width": 1, "dash": "dot"}, row=2, col=1)
    fig.update_layout(**_LAYOUT, title="P&L and inventory over the session")
    fig.update_yaxes(title_text=f"P&L ({_ccy(res)})", row=1, col=1)
    fig.update_yaxes(title_text="position (qty)", row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    return fig


def fills_figure(result: Any, *, max_points: int = DEFAULT_MAX_POINTS) -> go.Figure:
    """Plot the mid and our quotes over time with our fills as markers.

    Parameters
    ----------
    result
        A :class:`~qlib.engine.BacktestResult`.
    max_points
        Upper bound on the points of each price trace and on the fills shown. When the
        run had more fills, every fill is kept in an evenly spaced subsample (by fill
        number, so busy periods keep their share) and the title says how many of how
        many are shown.

    Returns
    -------
    plotly.graph_objects.Figure
        The mid at the record times (grey), our best bid and ask quotes (step lines,
        gaps where we had no quote on a side), buy fills as upward and sell fills as
        downward triangles at the fill price; filled symbols are maker (passive) fills,
        open symbols taker (aggressive) fills.

    Raises
    ------
    ParameterError
        If ``result`` is not a BacktestResult, or ``max_points`` < 2.
    InsufficientDataError
        If the result has no records.
    """
    _check_result(result)
    max_points = _check_max_points(max_points)
    eq = result.equity
    if len(eq) == 0:
        raise InsufficientDataError("result had 0 records, needed at least 1")
    rec_thinned = len(eq) > max_points
    eq = eq.iloc[_thin_index(len(eq), max_points)]
    x = _x(eq.index)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=eq["mid"], mode="lines", name="mid",
                             line={"color": _MID, "width": 1},
                             hovertemplate="mid %{y:.6g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=eq["bid_quote"], mode="lines", name="our bid",
                             line={"color": _BUY, "width": 1, "dash": "dot"}, line_shape="hv",
                             hovertemplate="our bid %{y:.6g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=eq["ask_quote"], mode="lines", name="our ask",
                             line={"color": _SELL, "width": 1, "dash": "dot"}, line_shape="hv",
                             hovertemplate="our ask %{y:.6g}<extra></extra>"))
    fills = result.fills
    n_all = len(fills)
    fills = fills.iloc[_thin_index(n_all, max_points)]
    for side, label, color, symbol in ((1, "buy", _BUY, "triangle-up"),
                                       (-1, "sell", _SELL, "triangle-down")):
        for liq, suffix in (("MAKER", ""), ("TAKER", "-open")):
            f = fills[(fills["side"] == side) & (fills["liquidity"].astype(str) == liq)]
            if len(f) == 0:
                continue
            fig.add_trace(go.Scatter(
                x=_x(pd.DatetimeIndex(f["ts_exch"])), y=f["px"], mode="markers",
                name=f"{label} fill ({liq.lower()})",
                marker={"color": color, "symbol": symbol + suffix, "size": 7,
                        "line": {"width": 1, "color": color}},
                customdata=np.column_stack([f["qty"].to_numpy(), f["position"].to_numpy()]),
                hovertemplate=(f"{label} {liq.lower()} %{{customdata[0]:,.4g}} @ %{{y:.6g}}"
                               "<br>position %{customdata[1]:,.4g}<extra></extra>")))
    title = f"Fills of {getattr(result.strategy, 'name', 'strategy')} on the price"
    notes = []
    if len(fills) < n_all:
        notes.append(f"showing {len(fills):,} of {n_all:,} fills, evenly subsampled")
    else:
        notes.append(f"{n_all:,} fills")
    if rec_thinned:
        notes.append(f"prices at {len(eq):,} evenly spaced records")
    fig.update_layout(**_LAYOUT, title=f"{title} ({'; '.join(notes)})",
                      xaxis_title="time (UTC)",
                      yaxis_title=f"price ({result.instrument.currency})")
    return fig


def attribution_figure(results: Mapping[str, Any]) -> go.Figure:
    """Plot each strategy's P&L split into spread capture, inventory and fees.

    Parameters
    ----------
    results
        Strategy label -> :class:`~qlib.engine.BacktestResult`.

    Returns
    -------
    plotly.graph_objects.Figure
        Grouped bars per strategy: spread capture, inventory, fees (as a negative
        number: paid) and the total, which is their sum
        (:meth:`~qlib.engine.BacktestResult.attribution`), in the quote currency.

    Raises
    ------
    ParameterError, InsufficientDataError
        As :func:`equity_figure`.
    """
    res = _check_results(results)
    att = pd.DataFrame({name: r.attribution() for name, r in res.items()}).T
    fig = go.Figure()
    for key, label, color in _COMPONENTS:
        y = -att[key] if key == "fees" else att[key]
        fig.add_trace(go.Bar(x=list(att.index), y=y.to_numpy(float), name=label,
                             marker_color=color,
                             hovertemplate=f"%{{x}}<br>{label} %{{y:,.2f}}<extra></extra>"))
    fig.add_hline(y=0, line={"color": _MID, "width": 1})
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, barmode="group",
                      title="P&L attribution: spread capture + inventory - fees = total",
                      xaxis_title="strategy", yaxis_title=f"P&L ({_ccy(res)})")
    return fig


def markout_figure(result: Any,
                   horizons: Sequence[Any] = ("100ms", "1s", "10s", "60s")) -> go.Figure:
    r"""Plot the mean mark-out of our fills by horizon, buys and sells apart, with 95 % CIs.

    Parameters
    ----------
    result
        A :class:`~qlib.engine.BacktestResult`.
    horizons
        Horizons passed to :meth:`~qlib.engine.BacktestResult.markouts` (strings or
        Timedeltas).

    Returns
    -------
    plotly.graph_objects.Figure
        One line per side: the mean of :math:`s (m_{t+h} - p) v q` over the side's
        fills (quote currency per fill; positive: the fill earned against the later
        mid), with error bars :math:`\pm 1.96\, s / \sqrt{n}` (normal approximation;
        fills close in time are not independent, so the bars are optimistic).

    Raises
    ------
    ParameterError
        If ``result`` is not a BacktestResult or ``horizons`` is empty.
    InsufficientDataError
        If the run had no fills.
    """
    _check_result(result)
    if isinstance(horizons, (str, bytes)) or len(horizons) == 0:
        raise ParameterError(f"horizons must be a non-empty sequence of durations, "
                             f"was {horizons!r}")
    fills = result.fills
    if len(fills) == 0:
        raise InsufficientDataError("mark-outs: the run had 0 fills, needed at least 1")
    marks = result.markouts(tuple(horizons))
    labels = [str(h) for h in horizons]
    fig = go.Figure()
    for side, label, color in ((1, "buys", _BUY), (-1, "sells", _SELL)):
        m = marks[fills["side"].to_numpy() == side]
        if len(m) == 0:
            continue
        mean = m.mean().to_numpy(float)
        n = len(m)
        half = (_Z95 * m.std(ddof=1).to_numpy(float) / np.sqrt(n)) if n > 1 \
            else np.zeros(len(labels))
        fig.add_trace(go.Scatter(
            x=labels, y=mean, mode="lines+markers", name=f"{label} ({n:,} fills)",
            line={"color": color}, error_y={"type": "data", "array": half, "visible": True},
            hovertemplate=f"{label}<br>%{{x}}: %{{y:,.4g}} ± %{{error_y.array:,.3g}}"
                          "<extra></extra>"))
    fig.add_hline(y=0, line={"color": _MID, "width": 1, "dash": "dot"})
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"},
                      title="Mark-outs of our fills by horizon (mean, 95 % CI; positive = "
                            "in the fill's favour)",
                      xaxis_title="horizon after the fill",
                      yaxis_title=f"mark-out ({result.instrument.currency} per fill)")
    return fig


# --------------------------------------------------------------------------- sweeps
def _sweep_frame(frame: object, cols: Sequence[str]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        frame = getattr(frame, "frame", frame)  # a SweepResult
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a DataFrame or a SweepResult, was "
                             f"{type(frame).__name__}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(f"frame is missing columns {missing}; it has {list(frame.columns)}")
    if "status" in frame.columns:
        frame = frame[frame["status"] == "ok"]
    frame = frame.dropna(subset=list(cols))
    if len(frame) == 0:
        raise InsufficientDataError("frame had 0 successful rows with those columns, "
                                    "needed at least 1")
    return frame


def _summary(frame: pd.DataFrame, x: str, y: str, color: str | None) -> pd.DataFrame:
    keys = [color, x] if color else [x]
    g = frame.groupby(keys, sort=True, observed=True)[y]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["half"] = np.where(out["count"] > 1,
                           _Z95 * out["std"].fillna(0.0) / np.sqrt(out["count"]), 0.0)
    return out


def latency_effect_figure(frame: Any, x: str = "latency_ms", y: str = "pnl",
                          color: str | None = "strategy", *, log_x: bool = True) -> go.Figure:
    """Plot a sweep's result against the order latency, one line per ``color`` group.

    Parameters
    ----------
    frame
        A sweep's result frame (:attr:`qlib.sweep.SweepResult.frame`, or the result
        itself): one row per task, with columns ``x``, ``y`` and ``color``. Rows whose
        ``status`` is not ``"ok"`` are left out.
    x, y
        Columns of the latency (ms) and of the result.
    color
        Column that splits the lines (None: one line).
    log_x
        Logarithmic latency axis (latencies usually span decades).

    Returns
    -------
    plotly.graph_objects.Figure
        Lines with markers of the mean of ``y`` per ``x``; with several rows per point
        (several days), error bars of a 95 % CI of the mean.

    Raises
    ------
    ParameterError
        If ``frame`` is not a DataFrame or SweepResult.
    SchemaError
        If a column is missing.
    InsufficientDataError
        If no successful row has the columns.
    """
    df = _sweep_frame(frame, [x, y] + ([color] if color else []))
    s = _summary(df, x, y, color)
    groups = s.groupby(color, sort=True) if color else [("all", s)]
    fig = go.Figure()
    for i, (name, g) in enumerate(groups):
        fig.add_trace(go.Scatter(
            x=g[x], y=g["mean"], mode="lines+markers", name=str(name),
            line={"color": _PALETTE[i % len(_PALETTE)]},
            error_y={"type": "data", "array": g["half"].to_numpy(float),
                     "visible": bool((g["count"] > 1).any())},
            hovertemplate=f"{name}<br>{x} %{{x}}<br>{y} %{{y:,.4g}}<extra></extra>"))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"},
                      title=f"Effect of order latency on {y}",
                      xaxis_title="order latency each way (ms)" if x == "latency_ms" else x,
                      yaxis_title=y, xaxis_type="log" if log_x else "linear")
    return fig


def queue_effect_figure(frame: Any, x: str = "queue", y: str = "pnl",
                        color: str | None = "strategy") -> go.Figure:
    """Plot a sweep's result by queue model as grouped bars, one colour per ``color`` group.

    Parameters
    ----------
    frame
        A sweep's result frame or the result itself (see :func:`latency_effect_figure`).
    x, y
        Columns of the queue model name and of the result.
    color
        Column of the bar groups (None: one group).

    Returns
    -------
    plotly.graph_objects.Figure
        The mean of ``y`` per queue model in the order of first appearance, with 95 %
        CI error bars when there are several rows per bar.

    Raises
    ------
    ParameterError, SchemaError, InsufficientDataError
        As :func:`latency_effect_figure`.
    """
    df = _sweep_frame(frame, [x, y] + ([color] if color else []))
    order = list(pd.unique(df[x]))
    s = _summary(df, x, y, color)
    groups = s.groupby(color, sort=True) if color else [("all", s)]
    fig = go.Figure()
    for i, (name, g) in enumerate(groups):
        g = g.set_index(x).reindex(order)
        fig.add_trace(go.Bar(
            x=[str(o) for o in order], y=g["mean"], name=str(name),
            marker_color=_PALETTE[i % len(_PALETTE)],
            error_y={"type": "data", "array": g["half"].fillna(0.0).to_numpy(float),
                     "visible": bool((g["count"] > 1).any())},
            hovertemplate=f"{name}<br>%{{x}}<br>{y} %{{y:,.4g}}<extra></extra>"))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, barmode="group",
                      title=f"Effect of the queue-position model on {y}",
                      xaxis_title="queue model" if x == "queue" else x, yaxis_title=y)
    return fig
