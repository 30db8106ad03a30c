"""Figures of parameter sweeps: a heatmap of one result over two parameters.

Pure functions: a :class:`qlib.sweep.SweepResult` (or its ``frame``) in, a table or a
:class:`plotly.graph_objects.Figure` out. Only rows with ``status == "ok"`` are used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qlib.errors import InsufficientDataError, ParameterError, SchemaError

__all__ = ["sweep_heatmap", "sweep_table"]

Agg = str | Callable[[pd.Series], Any]


def _frame_of(result_or_frame: Any) -> pd.DataFrame:
    frame = getattr(result_or_frame, "frame", result_or_frame)
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"result_or_frame was {type(result_or_frame).__name__}, expected a SweepResult "
            "or its DataFrame")
    return frame


def sweep_table(
    result_or_frame: Any,
    value: str,
    index: str | Sequence[str],
    columns: str | Sequence[str],
    aggfunc: Agg = "mean",
) -> pd.DataFrame:
    """Aggregate one result column of a sweep over two sets of columns.

    Parameters
    ----------
    result_or_frame
        A :class:`qlib.sweep.SweepResult` or its ``frame``.
    value
        The result column to aggregate, e.g. ``"sharpe"``.
    index, columns
        Parameter columns (or ``"day"``) for the rows and the columns of the table.
    aggfunc
        How the rows that fall into one cell (typically one per day) are combined: any
        ``aggfunc`` of :func:`pandas.pivot_table`. Default ``"mean"``.

    Returns
    -------
    pandas.DataFrame
        Rows are the sorted values of ``index``, columns the sorted values of ``columns``;
        cells without an ok row are NaN.

    Raises
    ------
    ParameterError
        If ``value``, ``index`` or ``columns`` names no column of the frame.
    InsufficientDataError
        If no task finished with status "ok".
    """
    frame = _frame_of(result_or_frame)
    wanted = {"value": [value],
              "index": [index] if isinstance(index, str) else list(index),
              "columns": [columns] if isinstance(columns, str) else list(columns)}
    for role, names in wanted.items():
        for name in names:
            if name not in frame.columns:
                raise ParameterError(
                    f"{role} {name!r} is not a column of the sweep frame; columns are "
                    f"{list(frame.columns)}")
    ok = frame[frame["status"] == "ok"] if "status" in frame.columns else frame
    if len(ok) == 0:
        raise InsufficientDataError(
            f"the sweep had 0 ok rows of {len(frame)}, needed at least 1 to tabulate {value!r}")
    return pd.pivot_table(ok, values=value, index=index, columns=columns, aggfunc=aggfunc,
                          sort=True)


def _labels(idx: pd.Index) -> list[str]:
    return [", ".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in idx]


def sweep_heatmap(
    result_or_frame: Any,
    value: str,
    x: str,
    y: str,
    aggfunc: Agg = "mean",
) -> go.Figure:
    """Plot one result of a sweep as a heatmap over two parameters.

    Parameters
    ----------
    result_or_frame
        A :class:`qlib.sweep.SweepResult` or its ``frame``.
    value
        The result column shown as colour, e.g. ``"pnl"``.
    x, y
        Parameter columns (or ``"day"``) on the horizontal and vertical axes.
    aggfunc
        How rows that share an ``(x, y)`` cell are combined (usually the days); see
        :func:`sweep_table`.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` trace; category axes (one evenly sized cell per parameter value)
        titled ``x`` and ``y``; hover text gives both parameters, the value and the number
        of ok rows in the cell.

    Raises
    ------
    ParameterError
        If a name is not a column of the frame.
    InsufficientDataError
        If no task finished with status "ok".
    """
    table = sweep_table(result_or_frame, value, index=y, columns=x, aggfunc=aggfunc)
    counts = sweep_table(result_or_frame, value, index=y, columns=x, aggfunc="count")
    counts = counts.reindex(index=table.index, columns=table.columns).fillna(0)
    z = table.to_numpy(dtype=np.float64)
    xs, ys = _labels(table.columns), _labels(table.index)
    agg_name = aggfunc if isinstance(aggfunc, str) else getattr(aggfunc, "__name__", "agg")
    fig = go.Figure(go.Heatmap(
        z=z, x=xs, y=ys, customdata=counts.to_numpy(dtype=np.int64),
        colorscale="RdBu", zmid=0.0 if np.nanmin(z) < 0 < np.nanmax(z) else None,
        colorbar={"title": {"text": value}},
        hovertemplate=(f"{x}=%{{x}}<br>{y}=%{{y}}<br>{value} ({agg_name})=%{{z:.6g}}"
                       "<br>ok rows=%{customdata}<extra></extra>"),
    ))
    fig.update_layout(template="plotly_white", title=f"{value} ({agg_name}) by {x} and {y}",
                      margin={"l": 70, "r": 20, "t": 60, "b": 50})
    fig.update_xaxes(title_text=x, type="category")
    fig.update_yaxes(title_text=y, type="category")
    return fig
