"""Figures of microstructure results: the book over time, profiles, OFI, Kyle, VPIN, PIN, toxicity.

Pure functions: results of :mod:`qlib.signals` (or the book frames of :mod:`qlib.book`)
in, a :class:`plotly.graph_objects.Figure` out, no I/O. Inputs larger than a figure
needs are aggregated onto a coarse grid first, so every figure stays small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qlib.errors import InsufficientDataError, SchemaError
from qlib.plots.data import _LAYOUT, _NICE_STEPS, _fmt_step, _require_columns, _ts_ns

__all__ = [
    "book_heatmap",
    "intraday_profiles",
    "kyle_lambda_profile",
    "markout_curve",
    "ofi_fit",
    "pin_fit",
    "spread_depth_profile",
    "trade_clustering",
    "vpin",
]

_DAY = 86_400 * 10**9
_BUY, _SELL, _MID = "#1f77b4", "#d62728", "#444444"


def _auto_step(span_ns: int, max_bins: int, divides_day: bool = False) -> int:
    for cand in _NICE_STEPS:
        ns = int(cand.value)
        if divides_day and _DAY % ns:
            continue
        if span_ns // ns + 1 <= max_bins:
            return ns
    return int(_NICE_STEPS[-1].value)


def _us(x: object) -> object:
    """Timestamps floored to microseconds (plotly drops nanoseconds with a warning)."""
    if isinstance(x, pd.Series) and isinstance(x.dtype, pd.DatetimeTZDtype):
        return x.dt.floor("us")
    if isinstance(x, pd.DatetimeIndex):
        return x.floor("us")
    return x


def _empty_check(frame: object, name: str, columns: list[str]) -> pd.DataFrame:
    _require_columns(frame, columns, name)
    if len(frame) == 0:
        raise InsufficientDataError(f"{name} had 0 rows, needed at least 1")
    return frame


# ------------------------------------------------------------------ the book
def book_heatmap(bbo: pd.DataFrame, trades: pd.DataFrame | None = None,
                 depth: object = None, *, max_time_bins: int = 300,
                 max_price_bins: int = 120) -> go.Figure:
    """Plot the book over the session as a heatmap of resting quantity by price and time.

    Parameters
    ----------
    bbo
        Best bid and offer (:func:`qlib.book.bbo`): ``ts_exch``, ``bid_px``,
        ``bid_qty``, ``ask_px``, ``ask_qty``. Always drawn (bid and ask lines).
    trades
        Optional tape (``ts_exch``, ``price``, ``qty``, ``side``): trade markers.
    depth
        Depth snapshots (:func:`qlib.book.depth_snapshots`, LOBSTER layout) or anything
        else (None, a :class:`qlib.signals.Unavailable`). With snapshots, the heatmap
        shows every level; without, it shows the quantity at the touch only and the
        title says so. The caller need not branch.
    max_time_bins, max_price_bins
        Size of the heatmap grid.

    Returns
    -------
    plotly.graph_objects.Figure
        Heatmap of the last snapshot in each time bin: bid quantity as
        positive, ask quantity as negative values (diverging colours), with bid and ask
        lines and trade markers.

    Raises
    ------
    SchemaError
        If a required column is missing.
    InsufficientDataError
        If ``bbo`` has no rows.
    """
    _empty_check(bbo, "bbo", ["ts_exch", "bid_px", "bid_qty", "ask_px", "ask_qty"])
    if isinstance(depth, pd.DataFrame) and len(depth) and "bid_px_1" in depth.columns:
        levels = 0
        while f"bid_px_{levels + 1}" in depth.columns:
            levels += 1
        src = depth
        px_cols = ([f"bid_px_{j}" for j in range(1, levels + 1)],
                   [f"ask_px_{j}" for j in range(1, levels + 1)])
        note = f"{levels} levels per side from depth snapshots"
    else:
        src = bbo
        levels = 1
        px_cols = (["bid_px"], ["ask_px"])
        note = "touch only: depth snapshots not available for this data"
    ts = _ts_ns(src["ts_exch"], "book")
    span = int(ts[-1] - ts[0])
    step = _auto_step(span, max_time_bins)
    tb = (ts - ts[0] // step * step) // step
    n_t = int(tb[-1]) + 1
    last = np.flatnonzero(np.append(tb[1:] != tb[:-1], True))  # last row per occupied bin
    sub = src.iloc[last]
    px_b = sub[px_cols[0]].to_numpy(float)
    px_a = sub[px_cols[1]].to_numpy(float)
    qty_b = sub[[c.replace("_px", "_qty") for c in px_cols[0]]].to_numpy(float)
    qty_a = sub[[c.replace("_px", "_qty") for c in px_cols[1]]].to_numpy(float)
    allpx = np.concatenate([px_b[np.isfinite(px_b)], px_a[np.isfinite(px_a)]])
    lo, hi = float(allpx.min()), float(allpx.max())
    n_p = max_price_bins if hi > lo else 1
    width = (hi - lo) / n_p if hi > lo else 1.0
    z = np.zeros((n_p, n_t))
    cols = np.repeat(tb[last], px_b.shape[1])
    for px, qty, sign in ((px_b, qty_b, 1.0), (px_a, qty_a, -1.0)):
        p, q = px.ravel(), qty.ravel()
        ok = np.isfinite(p) & (q > 0)
        rows = np.minimum(((p[ok] - lo) / width).astype(np.int64), n_p - 1)
        np.add.at(z, (rows, cols[ok]), sign * q[ok])
    x = pd.to_datetime(ts[0] // step * step + np.arange(n_t, dtype=np.int64) * step,
                       unit="ns", utc=True)
    y = lo + (np.arange(n_p) + 0.5) * width
    zmax = float(np.quantile(np.abs(z[z != 0]), 0.98)) if (z != 0).any() else 1.0
    fig = go.Figure(go.Heatmap(x=x, y=y, z=np.where(z == 0, np.nan, z), zmid=0, zmin=-zmax,
                               zmax=zmax, colorscale="RdBu", colorbar={"title": "bid + / ask -"},
                               hovertemplate="%{x}<br>%{y:.4f}<br>qty %{z:.4g}<extra></extra>"))
    bt = _ts_ns(bbo["ts_exch"], "bbo")
    bb = (bt - ts[0] // step * step) // step
    lastb = np.flatnonzero(np.append(bb[1:] != bb[:-1], True))
    xb = _us(pd.to_datetime(bt[lastb], unit="ns", utc=True))
    fig.add_trace(go.Scatter(x=xb, y=bbo["bid_px"].to_numpy()[lastb], mode="lines", name="bid",
                             line={"color": _BUY, "width": 1, "shape": "hv"}))
    fig.add_trace(go.Scatter(x=xb, y=bbo["ask_px"].to_numpy()[lastb], mode="lines", name="ask",
                             line={"color": _SELL, "width": 1, "shape": "hv"}))
    if trades is not None and len(trades):
        _require_columns(trades, ["ts_exch", "price", "qty"], "trades")
        tr = trades
        if len(tr) > 2000:
            tr = tr.iloc[np.linspace(0, len(tr) - 1, 2000).astype(np.int64)]
        side = tr["side"].to_numpy() if "side" in tr.columns else np.zeros(len(tr))
        fig.add_trace(go.Scatter(x=_us(tr["ts_exch"]), y=tr["price"], mode="markers", name="trades",
                                 marker={"size": 3, "color": np.where(side > 0, _BUY, np.where(
                                     side < 0, _SELL, _MID)), "opacity": 0.5}))
    fig.update_layout(title=f"Book over the session ({note}; {_fmt_step(step)} bins)",
                      xaxis_title="time (UTC)", yaxis_title="price", **_LAYOUT)
    return fig


def spread_depth_profile(bbo: pd.DataFrame, depth: object = None, *, bucket: object = None,
                         tz: str = "UTC", max_buckets: int = 30) -> go.Figure:
    """Plot the quoted spread and the displayed depth by time of day.

    Parameters
    ----------
    bbo
        Best bid and offer (:func:`qlib.book.bbo`).
    depth
        Depth snapshots (LOBSTER layout), or anything else (None, an
        :class:`qlib.signals.Unavailable`): then the depth panel shows the touch only.
    bucket
        Time-of-day bucket (a divisor of a day); None picks the shortest round one
        that gives at most ``max_buckets`` over the session.
    tz
        Clock of the time-of-day axis.
    max_buckets
        Upper bound on buckets when ``bucket`` is None.

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels: the time-weighted mean quoted spread
        (:func:`qlib.signals.intraday_profile`, metric ``"spread"``) and the
        time-weighted mean displayed quantity (bid + ask, over the levels shown),
        both sampled previous-tick every second.

    Raises
    ------
    InsufficientDataError
        As :func:`qlib.signals.intraday_profile` (an empty bucket, no rows).
    """
    from qlib.signals import intraday_profile

    _empty_check(bbo, "bbo", ["ts_exch", "bid_px", "ask_px", "bid_qty", "ask_qty"])
    ts = _ts_ns(bbo["ts_exch"], "bbo")
    b = (_auto_step(int(ts[-1] - ts[0]), max_buckets, divides_day=True) if bucket is None
         else int(pd.Timedelta(bucket).value))
    spread = intraday_profile(bbo, "spread", b, tz=tz)
    if isinstance(depth, pd.DataFrame) and len(depth) and "bid_qty_1" in depth.columns:
        qcols = [c for c in depth.columns if c.startswith(("bid_qty_", "ask_qty_"))]
        src, label = depth, f"displayed depth, {len(qcols) // 2} levels (bid + ask)"
        shown = depth[qcols].to_numpy(float).sum(axis=1)
    else:
        src, label = bbo, "quantity at the touch (bid + ask; no depth snapshots)"
        shown = (bbo["bid_qty"] + bbo["ask_qty"]).to_numpy(float)
    st = _ts_ns(src["ts_exch"], "depth")
    grid = np.arange(st[0], st[-1] + 1, 10**9, dtype=np.int64)
    val = shown[np.searchsorted(st, grid, side="right") - 1]
    local = pd.to_datetime(grid, unit="ns", utc=True).tz_convert(tz)
    tod = (local - local.normalize()).asi8 // b * b
    prof = pd.Series(val).groupby(tod).mean()
    prof.index = [(pd.Timestamp(0) + pd.Timedelta(int(k), unit="ns")).time() for k in prof.index]
    return intraday_profiles({"mean quoted spread": spread, label: prof},
                             title=f"Spread and depth by time of day ({tz}, {_fmt_step(b)} buckets)")


def intraday_profiles(profiles: dict[str, pd.Series], *, title: str = "Intraday profiles"
                      ) -> go.Figure:
    """Plot time-of-day profiles one above the other, sharing the clock axis.

    Parameters
    ----------
    profiles
        Name -> Series indexed by time of day (``datetime.time``, as
        :func:`qlib.signals.intraday_profile` returns) or by timestamps.
    title
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One panel per profile (step lines).

    Raises
    ------
    InsufficientDataError
        If ``profiles`` is empty or a profile has no values.
    """
    if not isinstance(profiles, dict) or not profiles:
        raise InsufficientDataError("intraday_profiles: 0 profiles given, needed at least 1")
    fig = make_subplots(rows=len(profiles), cols=1, shared_xaxes=True,
                        subplot_titles=list(profiles), vertical_spacing=0.08)
    for i, (name, s) in enumerate(profiles.items(), start=1):
        if not isinstance(s, pd.Series):
            raise SchemaError(f"profile {name!r} must be a Series, was {type(s).__name__}")
        if len(s) == 0:
            raise InsufficientDataError(f"profile {name!r} had 0 values, needed at least 1")
        x = [str(v) for v in s.index]
        fig.add_trace(go.Scatter(x=x, y=s.to_numpy(float), mode="lines+markers", name=name,
                                 line_shape="hv"), row=i, col=1)
    fig.update_layout(title=title, height=260 * len(profiles) + 80, showlegend=False,
                      **{k: v for k, v in _LAYOUT.items() if k != "hovermode"})
    fig.update_xaxes(title_text="time of day", row=len(profiles), col=1)
    return fig


# ------------------------------------------------------------------ regressions
def ofi_fit(result: object, *, max_points: int = 3000, xlabel: str = "order flow imbalance",
            ylabel: str = "mid change") -> go.Figure:
    """Plot the intervals of a one-regressor fit (OFI or Kyle) with the fitted line.

    Parameters
    ----------
    result
        A :class:`qlib.signals.RegressionResult` (its ``data`` has ``x`` and ``y``).
    max_points
        Most scatter points drawn (evenly thinned).
    xlabel, ylabel
        Axis titles.

    Returns
    -------
    plotly.graph_objects.Figure
        Scatter of ``y`` against ``x`` and the line :math:`\\hat\\alpha + \\hat\\beta x`;
        the title gives the slope, its standard error and :math:`R^2`.
    """
    data = getattr(result, "data", None)
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"result must be a RegressionResult, was {type(result).__name__}")
    _empty_check(data, "result.data", ["x", "y"])
    d = data if len(data) <= max_points else data.iloc[
        np.linspace(0, len(data) - 1, max_points).astype(np.int64)]
    x = data["x"].to_numpy(float)
    xs = np.array([x.min(), x.max()])
    fig = go.Figure([
        go.Scatter(x=d["x"], y=d["y"], mode="markers", name="intervals",
                   marker={"size": 4, "opacity": 0.5, "color": _MID}),
        go.Scatter(x=xs, y=result.intercept + result.coefficient * xs, mode="lines",
                   name="fit", line={"color": _SELL}),
    ])
    fig.update_layout(title=(f"slope {result.coefficient:.4g} (se {result.stderr:.2g}, "
                             f"{result.cov_type}), R² {result.rsquared:.3f}, "
                             f"{result.nobs} intervals"),
                      xaxis_title=xlabel, yaxis_title=ylabel,
                      **{k: v for k, v in _LAYOUT.items() if k != "hovermode"})
    return fig


def kyle_lambda_profile(profile: pd.DataFrame) -> go.Figure:
    """Plot Kyle's lambda through the day with its confidence band.

    Parameters
    ----------
    profile
        :func:`qlib.signals.kyle_lambda_profile` output (``coefficient``, ``ci_low``,
        ``ci_high``, indexed by window start).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    _empty_check(profile, "profile", ["coefficient", "ci_low", "ci_high"])
    x = _us(profile.index)
    fig = go.Figure([
        go.Scatter(x=x, y=profile["ci_high"], mode="lines", line={"width": 0},
                   showlegend=False, hoverinfo="skip"),
        go.Scatter(x=x, y=profile["ci_low"], mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor="rgba(31,119,180,0.2)", name="confidence interval"),
        go.Scatter(x=x, y=profile["coefficient"], mode="lines+markers", name="lambda",
                   line={"color": _BUY}),
    ])
    fig.add_hline(y=0, line={"color": _MID, "width": 1, "dash": "dot"})
    fig.update_layout(title="Kyle's lambda by window (mid change per unit of signed flow)",
                      xaxis_title="window start (UTC)", yaxis_title="lambda", **_LAYOUT)
    return fig


# ------------------------------------------------------------------ informed trading
def vpin(buckets: pd.DataFrame) -> go.Figure:
    """Plot VPIN and the bucket order imbalance through the session.

    Parameters
    ----------
    buckets
        :func:`qlib.signals.vpin` output.

    Returns
    -------
    plotly.graph_objects.Figure
        VPIN (line, at each bucket's end time) over the per-bucket imbalance (bars).
    """
    _empty_check(buckets, "buckets", ["ts_end", "imbalance", "vpin"])
    v = buckets
    fig = go.Figure([
        go.Bar(x=_us(v["ts_end"]), y=v["imbalance"], name="bucket imbalance |V_S - V_B| / V",
               marker_color="rgba(120,120,120,0.4)"),
        go.Scatter(x=_us(v["ts_end"]), y=v["vpin"], mode="lines", name="VPIN",
                   line={"color": _SELL, "width": 2}),
    ])
    window = v.attrs.get("window", "?")
    bv = v.attrs.get("bucket_volume", float("nan"))
    fig.update_layout(title=(f"VPIN: {len(v)} buckets of {bv:.4g}, window {window}, "
                             f"{v.attrs.get('classify', '')} classification"),
                      xaxis_title="bucket end (UTC)", yaxis_title="share of volume",
                      yaxis_range=[0, 1], bargap=0, **_LAYOUT)
    return fig


def pin_fit(counts: pd.DataFrame, result: object) -> go.Figure:
    """Plot buy against sell counts per period, with the fitted regimes' centres.

    Parameters
    ----------
    counts
        ``buys`` and ``sells`` per period (:func:`qlib.signals.pin_counts`).
    result
        :class:`qlib.signals.PINResult` fitted on them.

    Returns
    -------
    plotly.graph_objects.Figure
        Scatter of periods and the three Poisson means: no news
        :math:`(\\epsilon_b, \\epsilon_s)`, good news :math:`(\\mu+\\epsilon_b, \\epsilon_s)`,
        bad news :math:`(\\epsilon_b, \\mu+\\epsilon_s)`.
    """
    _empty_check(counts, "counts", ["buys", "sells"])
    r = result
    centres = {"no news": (r.eps_b, r.eps_s), "good news": (r.mu + r.eps_b, r.eps_s),
               "bad news": (r.eps_b, r.mu + r.eps_s)}
    fig = go.Figure(go.Scatter(x=counts["buys"], y=counts["sells"], mode="markers",
                               name="periods", marker={"size": 5, "opacity": 0.6, "color": _MID}))
    for (name, (b, s)), color in zip(centres.items(), ("#2ca02c", _BUY, _SELL)):
        fig.add_trace(go.Scatter(x=[b], y=[s], mode="markers", name=name,
                                 marker={"size": 14, "symbol": "x", "color": color}))
    fig.update_layout(title=f"PIN {r.pin:.3f} (alpha {r.alpha:.2f}, delta {r.delta:.2f}), "
                            f"{r.n_periods} periods",
                      xaxis_title="buyer-initiated trades per period",
                      yaxis_title="seller-initiated trades per period",
                      **{k: v for k, v in _LAYOUT.items() if k != "hovermode"})
    return fig


# ------------------------------------------------------------------ toxicity
def markout_curve(curve: pd.DataFrame, *, unit: str = "bps") -> go.Figure:
    """Plot the mean mark-out by horizon with two-standard-error bars.

    Parameters
    ----------
    curve
        :func:`qlib.signals.markout_curve` output.
    unit
        ``"bps"`` or ``"ticks"``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if unit not in ("bps", "ticks"):
        from qlib.errors import ParameterError
        raise ParameterError(f"unit must be 'bps' or 'ticks', was {unit!r}")
    _empty_check(curve, "curve", [f"mean_{unit}", f"se_{unit}", "n"])
    x = [str(pd.Timedelta(h)).replace("0 days ", "") for h in curve.index]
    fig = go.Figure(go.Scatter(x=x, y=curve[f"mean_{unit}"], mode="lines+markers",
                               name="mean mark-out",
                               error_y={"type": "data", "array": 2 * curve[f"se_{unit}"]}))
    fig.add_hline(y=0, line={"color": _MID, "width": 1, "dash": "dot"})
    fig.update_layout(title=f"Mark-outs by horizon ({unit}; positive = in the fill's favour)",
                      xaxis_title="horizon", yaxis_title=f"mark-out ({unit})",
                      **{k: v for k, v in _LAYOUT.items() if k != "hovermode"})
    return fig


def trade_clustering(result: object, *, bins: int = 60) -> go.Figure:
    """Plot the inter-trade duration histogram against the exponential of the same mean.

    Parameters
    ----------
    result
        :class:`qlib.signals.ClusteringResult`.
    bins
        Histogram bins (log-spaced over the positive durations).

    Returns
    -------
    plotly.graph_objects.Figure
        Density of durations (log x axis) and the exponential density a Poisson
        process with the same rate would give; the title gives the dispersion index.
    """
    d = getattr(result, "durations", None)
    if not isinstance(d, pd.Series):
        raise SchemaError(f"result must be a ClusteringResult, was {type(result).__name__}")
    pos = d.to_numpy(float)
    pos = pos[pos > 0]
    if len(pos) < 2:
        raise InsufficientDataError(f"trade_clustering plot: {len(pos)} positive durations, "
                                    "needed at least 2")
    edges = np.geomspace(pos.min(), pos.max() * 1.0001, bins + 1)
    hist, _ = np.histogram(pos, bins=edges, density=True)
    mids = np.sqrt(edges[1:] * edges[:-1])
    mean = result.duration_mean_s
    fig = go.Figure([
        go.Bar(x=mids, y=hist, width=np.diff(edges), name="observed", marker_color=_BUY,
               opacity=0.6),
        go.Scatter(x=mids, y=np.exp(-mids / mean) / mean, mode="lines",
                   name="exponential (Poisson arrivals)", line={"color": _SELL}),
    ])
    fig.update_layout(title=(f"Inter-trade durations: CV {result.duration_cv:.2f}, dispersion "
                             f"index {result.dispersion_index:.2f} per {result.freq} (Poisson: 1)"),
                      xaxis_title="duration (s)", yaxis_title="density", xaxis_type="log",
                      yaxis_type="log", bargap=0,
                      **{k: v for k, v in _LAYOUT.items() if k != "hovermode"})
    return fig
