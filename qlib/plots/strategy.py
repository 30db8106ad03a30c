"""Figures of strategy calibration: pure functions of :mod:`qlib.strategy` results."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from qlib.errors import ParameterError
from qlib.plots.data import _LAYOUT
from qlib.strategy.calibrate import IntensityFit

__all__ = ["intensity_fit_figure"]

_EMPIRICAL, _FITTED = "#1f77b4", "#d62728"


def intensity_fit_figure(fit: IntensityFit) -> go.Figure:
    r"""Plot the empirical market-order intensity and the fitted :math:`A e^{-k\delta}`.

    Parameters
    ----------
    fit
        Result of :func:`qlib.strategy.fit_intensity`.

    Returns
    -------
    plotly.graph_objects.Figure
        Markers: :math:`\hat\lambda(\delta)` per distance (hover: order count); line:
        the fitted curve over the fitted range. The y axis is logarithmic, so the fit
        is a straight line of slope :math:`-k`.

    Raises
    ------
    ParameterError
        If ``fit`` is not an :class:`~qlib.strategy.IntensityFit`.
    """
    if not isinstance(fit, IntensityFit):
        raise ParameterError(f"fit must be an IntensityFit, was {type(fit).__name__}")
    grid = np.linspace(0.0, float(fit.deltas.max()), 200)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=fit.deltas, y=fit.rates, mode="markers", name="empirical rate",
        marker={"color": _EMPIRICAL, "size": 7}, customdata=fit.counts,
        hovertemplate="delta %{x:.1f} ticks<br>rate %{y:.4g}/s<br>%{customdata} orders"
                      "<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=grid, y=fit.intensity(grid), mode="lines", name="A exp(-k delta)",
        line={"color": _FITTED, "width": 2},
        hovertemplate="delta %{x:.2f} ticks<br>fitted %{y:.4g}/s<extra></extra>"))
    fig.update_layout(
        **{**_LAYOUT, "hovermode": "closest"},
        title=(f"Market-order intensity ({fit.side}): A = {fit.A:.4g}/s, "
               f"k = {fit.k:.4g} ± {fit.k_stderr:.2g} per tick, R² = {fit.r2:.3f}"),
        xaxis_title="distance from mid δ (ticks)", yaxis_title="λ(δ) (orders per second)",
        yaxis_type="log")
    return fig
