"""Figures of raw market data: event rates, the price path, spread and top-of-book sizes.

Pure functions: a DataFrame in, a :class:`plotly.graph_objects.Figure` out, no I/O.
Large inputs are aggregated onto a regular time grid first, so the figure of a
day with a million events holds at most ``max_points`` points (a few thousand by
default) and stays small in a notebook or an HTML report.

Inputs
------
events frame
    :meth:`qlib.data.MarketData.to_pandas` output: ``ts_exch`` (datetime64 UTC),
    ``kind`` (categorical of :class:`~qlib.enums.EventKind` names), ``side``,
    ``price``, ``qty`` and the other event fields.
bbo frame
    :func:`qlib.book.bbo` output: ``ts_exch``, ``bid_px``, ``bid_qty``, ``ask_px``,
    ``ask_qty`` (floats; NaN where a side of the book is empty).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qlib.errors import InsufficientDataError, ParameterError, SchemaError

__all__ = ["event_rates", "price_path", "spread_and_sizes", "DEFAULT_MAX_POINTS"]

#: Default upper bound on the number of plotted points in one figure.
DEFAULT_MAX_POINTS = 4_000

#: Candidate grid steps for automatic aggregation, shortest first.
_NICE_STEPS = [pd.Timedelta(s) for s in (
    "1us", "10us", "100us", "1ms", "5ms", "10ms", "50ms", "100ms", "250ms", "500ms", "1s",
    "2s", "5s", "10s", "15s", "30s", "1min", "2min", "5min", "10min", "15min", "30min",
    "1h", "2h", "6h", "12h", "1D", "7D")]
_TRADE_KINDS = ("TRADE", "EXECUTE")
_LAYOUT = dict(template="plotly_white", hovermode="x unified",
               legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0.0),
               margin=dict(l=60, r=20, t=70, b=50))


# --------------------------------------------------------------------------- public
def event_rates(events: pd.DataFrame, freq: str | pd.Timedelta | None = None, *,
                max_points: int = DEFAULT_MAX_POINTS) -> go.Figure:
    """Plot events per second by kind over time.

    Parameters
    ----------
    events
        Events frame (:meth:`MarketData.to_pandas`); needs ``ts_exch`` and ``kind``.
    freq
        Width of a time bin (``"1s"``, ``"100ms"``, a Timedelta). None (default)
        picks the shortest round step that keeps the figure within ``max_points``.
    max_points
        Upper bound on the points of all traces together.

    Returns
    -------
    plotly.graph_objects.Figure
        One line per event kind present, in events per second (count in the bin
        divided by the bin width in seconds); empty bins are zero.

    Raises
    ------
    SchemaError
        If a required column is missing or ``ts_exch`` is not a time column.
    InsufficientDataError
        If ``events`` has no rows.
    ParameterError
        If ``freq`` is not a positive duration, or gives more bins than ``max_points``.
    """
    _require_columns(events, ["ts_exch", "kind"], "events")
    _require_max_points(max_points)
    ts = _ts_ns(events["ts_exch"], "events")
    kinds = events["kind"].astype("category")
    present = [c for c in kinds.cat.categories if (kinds == c).any()]
    n_traces = max(1, len(present))
    step = _grid_step(ts, freq, max_points // n_traces, "freq")
    t0 = _floor(ts.min(), step)
    n_bins = int((ts.max() - t0) // step) + 1
    bins = (ts - t0) // step
    x = pd.to_datetime(t0 + np.arange(n_bins, dtype=np.int64) * step, unit="ns", utc=True)
    seconds = step / 1e9
    codes = kinds.cat.codes.to_numpy()
    fig = go.Figure()
    for name in present:
        code = list(kinds.cat.categories).index(name)
        counts = np.bincount(bins[codes == code], minlength=n_bins)
        fig.add_trace(go.Scatter(x=x, y=counts / seconds, mode="lines", name=str(name),
                                 line_shape="hv"))
    fig.update_layout(title=f"Event rates by kind ({_fmt_step(step)} bins)",
                      xaxis_title="time (UTC)", yaxis_title="events per second", **_LAYOUT)
    return fig


def price_path(bbo: pd.DataFrame, trades: pd.DataFrame | None = None, *,
               max_points: int = DEFAULT_MAX_POINTS) -> go.Figure:
    """Plot bid, ask and mid over the session, with trades as markers.

    Parameters
    ----------
    bbo
        Best bid and offer frame; needs ``ts_exch``, ``bid_px``, ``ask_px``.
    trades
        Optional trades: a frame with ``ts_exch``, ``price`` and ``qty`` (and
        ``side``, the aggressor side, to split buys from sells). An events frame is
        accepted: its ``TRADE`` and ``EXECUTE`` rows are used (for ``EXECUTE``, whose
        ``side`` is the resting order's, the aggressor is the opposite side).
    max_points
        Upper bound on the points of all traces together.

    Returns
    -------
    plotly.graph_objects.Figure
        Step lines for bid, ask and mid (the book as it stood at the end of each
        grid bin when the input is larger than the budget), and trade markers: the
        volume-weighted price per bin and aggressor side, sized by traded quantity.

    Raises
    ------
    SchemaError
        If a required column is missing.
    InsufficientDataError
        If ``bbo`` has no rows.
    """
    _require_columns(bbo, ["ts_exch", "bid_px", "ask_px"], "bbo")
    _require_max_points(max_points)
    ts = _ts_ns(bbo["ts_exch"], "bbo")
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    bid = _float_column(bbo, "bid_px", "bbo")[order]
    ask = _float_column(bbo, "ask_px", "bbo")[order]
    mid = (bid + ask) / 2.0

    trade_parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    if trades is not None:
        trade_parts = _split_trades(trades)
    line_budget = max_points // 2 if trade_parts else max_points
    x, (bid_s, ask_s, mid_s) = _last_per_bin(ts, [bid, ask, mid], line_budget // 3)

    fig = go.Figure()
    for name, y, color, width in (("bid", bid_s, "#1f77b4", 1), ("ask", ask_s, "#d62728", 1),
                                  ("mid", mid_s, "#7f7f7f", 1.5)):
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line_shape="hv",
                                 line=dict(color=color, width=width)))
    if trade_parts:
        per_side = max(1, (max_points - 3 * len(x)) // len(trade_parts))
        for name, t_ts, t_px, t_qty in trade_parts:
            tx, vwap, vol = _vwap_per_bin(t_ts, t_px, t_qty, per_side)
            size = 4 + 10 * np.sqrt(vol / vol.max()) if len(vol) and vol.max() > 0 else 6
            color = {"buys": "#2ca02c", "sells": "#ff7f0e"}.get(name, "#9467bd")
            fig.add_trace(go.Scatter(
                x=tx, y=vwap, mode="markers", name=f"trades: {name}",
                marker=dict(size=size, color=color, opacity=0.6, line=dict(width=0)),
                customdata=vol, hovertemplate="%{y} x %{customdata:.6g}<extra></extra>"))
    fig.update_layout(title="Price path: bid, ask, mid and trades", xaxis_title="time (UTC)",
                      yaxis_title="price", **_LAYOUT)
    return fig


def spread_and_sizes(bbo: pd.DataFrame, tick_size: float | None = None, *,
                     max_points: int = DEFAULT_MAX_POINTS) -> go.Figure:
    """Plot the quoted spread and the top-of-book sizes over time.

    Parameters
    ----------
    bbo
        Best bid and offer frame with ``ts_exch``, ``bid_px``, ``bid_qty``,
        ``ask_px``, ``ask_qty``.
    tick_size
        When given, the spread is shown in ticks (``(ask_px - bid_px) / tick_size``);
        otherwise in price units.
    max_points
        Upper bound on the points of all traces together.

    Returns
    -------
    plotly.graph_objects.Figure
        Two stacked panels sharing the time axis: the spread (top) and the bid and
        ask sizes at the touch (bottom). Above ``max_points``, each grid bin shows
        the time-weighted mean of the quotes that began in it (each weighted by
        how long it stood); bins without a quote repeat the previous value.

    Raises
    ------
    SchemaError
        If a required column is missing.
    InsufficientDataError
        If ``bbo`` has no rows.
    ParameterError
        If ``tick_size`` is given and is not a positive finite number.
    """
    _require_columns(bbo, ["ts_exch", "bid_px", "bid_qty", "ask_px", "ask_qty"], "bbo")
    _require_max_points(max_points)
    if tick_size is not None and not (
            isinstance(tick_size, (int, float)) and not isinstance(tick_size, bool)
            and np.isfinite(tick_size) and tick_size > 0):
        raise ParameterError(f"tick_size must be a positive finite number, was {tick_size!r}")
    ts = _ts_ns(bbo["ts_exch"], "bbo")
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    cols = [_float_column(bbo, c, "bbo")[order] for c in ("bid_px", "ask_px", "bid_qty", "ask_qty")]
    spread = cols[1] - cols[0]
    if tick_size is not None:
        spread = spread / float(tick_size)
    x, (spread_s, bid_qty_s, ask_qty_s) = _time_weighted_per_bin(
        ts, [spread, cols[2], cols[3]], max_points // 3)

    unit = "ticks" if tick_size is not None else "price"
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.45, 0.55],
                        subplot_titles=(f"spread ({unit})", "size at the touch"))
    fig.add_trace(go.Scatter(x=x, y=spread_s, mode="lines", name="spread", line_shape="hv",
                             line=dict(color="#7f7f7f")), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=bid_qty_s, mode="lines", name="bid size", line_shape="hv",
                             line=dict(color="#1f77b4")), row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=ask_qty_s, mode="lines", name="ask size", line_shape="hv",
                             line=dict(color="#d62728")), row=2, col=1)
    fig.update_layout(title="Spread and top-of-book sizes", **_LAYOUT)
    fig.update_yaxes(title_text=f"spread ({unit})", row=1, col=1)
    fig.update_yaxes(title_text="quantity", row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    return fig


# --------------------------------------------------------------------------- validation
def _require_columns(frame: object, columns: Iterable[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{name} must be a pandas DataFrame, was {type(frame).__name__}")
    for col in columns:
        if col not in frame.columns:
            raise SchemaError(
                f"{name} has no column {col!r}; columns were {list(map(str, frame.columns))}")
    if len(frame) == 0:
        raise InsufficientDataError(f"{name} has 0 rows; needed at least 1 to plot")


def _require_max_points(max_points: object) -> None:
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) \
            or max_points < 30:
        raise ParameterError(f"max_points must be an int >= 30, was {max_points!r}")


def _ts_ns(col: pd.Series, name: str) -> np.ndarray:
    """Return a time column as int64 ns UTC (naive times are taken as UTC)."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        idx = pd.DatetimeIndex(col)
        if idx.hasnans:
            row = int(np.flatnonzero(idx.isna())[0])
            raise SchemaError(f"{name}['ts_exch'] at row {row} was NaT, expected a time")
        return idx.as_unit("ns").asi8.copy()
    if pd.api.types.is_integer_dtype(col.dtype):
        return col.to_numpy(dtype=np.int64)
    raise SchemaError(
        f"{name}['ts_exch'] must be datetime64 (UTC) or int64 ns, was {col.dtype}")


def _float_column(frame: pd.DataFrame, col: str, name: str) -> np.ndarray:
    try:
        return frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{name}[{col!r}] must be numeric, was {frame[col].dtype}") from exc


# --------------------------------------------------------------------------- grid
def _grid_step(ts: np.ndarray, freq: str | pd.Timedelta | None, max_bins: int,
               name: str) -> int:
    """Bin width in ns: ``freq`` if given (checked), else the shortest nice step that fits."""
    span = int(ts.max() - ts.min())
    if freq is not None:
        try:
            step = int(pd.Timedelta(freq).value)
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"{name} must be a duration like '1s', was {freq!r}") from exc
        if step <= 0:
            raise ParameterError(f"{name} must be a positive duration, was {freq!r}")
        bins = span // step + 2
        if bins > max_bins:
            auto = _fmt_step(_grid_step(ts, None, max_bins, name))
            raise ParameterError(
                f"{name}={freq!r} gives {bins:,} bins over {pd.Timedelta(span, unit='ns')},"
                f" above the {max_bins:,} allowed; use {auto!r} or more (or freq=None)")
        return step
    for cand in _NICE_STEPS:
        step = int(cand.value)
        if span // step + 2 <= max_bins:
            return step
    return int(-(-span // max(1, max_bins - 2)))  # longer than a week: an exact fit


def _floor(t: int, step: int) -> int:
    return int(t // step * step)


def _fmt_step(step: int) -> str:
    """Format a bin width in ns as a pandas-style duration string (``"500ms"``, ``"1min"``)."""
    for unit, ns in (("D", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9),
                     ("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if step % ns == 0:
            return f"{step // ns}{unit}"
    return f"{step}ns"


def _as_time(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(ns, unit="ns", utc=True)


def _last_per_bin(ts: np.ndarray, columns: list[np.ndarray], max_bins: int
                  ) -> tuple[pd.DatetimeIndex, list[np.ndarray]]:
    """Sample sorted series at the end of each grid bin (the state as it then stood).

    Inputs that already fit are returned unchanged.
    """
    if len(ts) <= max_bins:
        return _as_time(ts), columns
    step = _grid_step(ts, None, max_bins, "freq")
    t0 = _floor(ts[0], step)
    bins = (ts - t0) // step
    last = np.flatnonzero(np.r_[bins[1:] != bins[:-1], True])  # last row of each occupied bin
    return _as_time(t0 + bins[last] * step + step), [c[last] for c in columns]


def _time_weighted_per_bin(ts: np.ndarray, columns: list[np.ndarray], max_bins: int
                           ) -> tuple[pd.DatetimeIndex, list[np.ndarray]]:
    """Time-weighted mean per grid bin of quotes that began in it (NaN-aware)."""
    if len(ts) <= max_bins:
        return _as_time(ts), columns
    step = _grid_step(ts, None, max_bins, "freq")
    t0 = _floor(ts[0], step)
    bins = (ts - t0) // step
    n_bins = int(bins[-1]) + 1
    dur = np.diff(ts, append=ts[-1]).astype(np.float64)
    dur[-1] = max(float(np.median(dur[:-1])) if len(dur) > 1 else 1.0, 1.0)
    dur = np.maximum(dur, 1.0)  # same-ns updates still count a little
    occupied = np.bincount(bins, minlength=n_bins) > 0
    # for a bin without a quote, the book stood as the last quote before it left it
    state_row = np.searchsorted(bins, np.arange(n_bins), side="right") - 1
    out = []
    for c in columns:
        ok = np.isfinite(c)
        w = np.bincount(bins[ok], weights=dur[ok], minlength=n_bins)
        s = np.bincount(bins[ok], weights=(c * dur)[ok], minlength=n_bins)
        mean = np.full(n_bins, np.nan)
        np.divide(s, w, out=mean, where=w > 0)
        out.append(np.where(occupied, mean, c[state_row]))
    return _as_time(t0 + np.arange(n_bins, dtype=np.int64) * step), out


def _vwap_per_bin(ts: np.ndarray, px: np.ndarray, qty: np.ndarray, max_bins: int
                  ) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Volume-weighted price and total quantity per occupied grid bin."""
    if len(ts) <= max_bins:
        return _as_time(ts), px, qty
    step = _grid_step(ts, None, max_bins, "freq")
    t0 = _floor(int(ts.min()), step)
    bins = (ts - t0) // step
    uniq, inv = np.unique(bins, return_inverse=True)
    vol = np.bincount(inv, weights=qty)
    notional = np.bincount(inv, weights=px * qty)
    count = np.bincount(inv)
    mean_px = np.bincount(inv, weights=px) / count
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(vol > 0, notional / np.where(vol > 0, vol, 1.0), mean_px)
    return _as_time(t0 + uniq * step + step // 2), vwap, vol


def _split_trades(trades: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """Return ``(label, ts, price, qty)`` per aggressor side present in ``trades``."""
    _require_columns(trades, ["ts_exch", "price", "qty"], "trades")
    frame = trades
    aggressor = None
    if "kind" in frame.columns:
        kind = frame["kind"].astype(str)
        frame = frame[kind.isin(_TRADE_KINDS).to_numpy()]
        if "side" in frame.columns:
            flip = np.where(frame["kind"].astype(str).to_numpy() == "EXECUTE", -1, 1)
            aggressor = frame["side"].to_numpy(dtype=np.int64) * flip
    elif "side" in frame.columns:
        aggressor = frame["side"].to_numpy(dtype=np.int64)
    if len(frame) == 0:
        return []
    ts = _ts_ns(frame["ts_exch"], "trades")
    px = _float_column(frame, "price", "trades")
    qty = _float_column(frame, "qty", "trades")
    if aggressor is None:
        return [("all", ts, px, qty)]
    parts = []
    for label, sel in (("buys", aggressor > 0), ("sells", aggressor < 0),
                       ("unknown side", aggressor == 0)):
        if sel.any():
            parts.append((label, ts[sel], px[sel], qty[sel]))
    return parts
