"""Views: plotly figures of market data and results, pure functions of their inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qlib._lazy import lazy_exports, sources

if TYPE_CHECKING:  # what the lazy loading below binds, spelled out for type checkers
    from qlib.plots.backtest import (
                                           attribution_figure,
                                           equity_figure,
                                           fills_figure,
                                           latency_effect_figure,
                                           markout_figure,
                                           queue_effect_figure,
    )
    from qlib.plots.data import DEFAULT_MAX_POINTS, event_rates, price_path, spread_and_sizes
    from qlib.plots.microstructure import (
                                           book_heatmap,
                                           intraday_profiles,
                                           kyle_lambda_profile,
                                           markout_curve,
                                           ofi_fit,
                                           pin_fit,
                                           spread_depth_profile,
                                           trade_clustering,
                                           vpin,
    )
    from qlib.plots.risk import (
                                           drawdown,
                                           greeks_ladder,
                                           latency_histogram,
                                           stress_bar,
                                           var_backtest,
                                           var_comparison,
    )
    from qlib.plots.strategy import intensity_fit_figure
    from qlib.plots.sweep import sweep_heatmap

#: Submodule -> the public names it defines. They are imported on first use (PEP 562
#: ``__getattr__``), so importing this package does not import every dependency of every
#: submodule (scipy, plotly, ...). ``tests/unit/test_lazy_imports.py`` keeps this table,
#: the ``TYPE_CHECKING`` imports and ``__all__`` in step.
_LAZY: dict[str, tuple[str, ...]] = {
    "qlib.plots.backtest": (
        "attribution_figure",
        "equity_figure",
        "fills_figure",
        "latency_effect_figure",
        "markout_figure",
        "queue_effect_figure",
    ),
    "qlib.plots.data": ("DEFAULT_MAX_POINTS", "event_rates", "price_path", "spread_and_sizes"),
    "qlib.plots.microstructure": (
        "book_heatmap",
        "intraday_profiles",
        "kyle_lambda_profile",
        "markout_curve",
        "ofi_fit",
        "pin_fit",
        "spread_depth_profile",
        "trade_clustering",
        "vpin",
    ),
    "qlib.plots.risk": (
        "drawdown",
        "greeks_ladder",
        "latency_histogram",
        "stress_bar",
        "var_backtest",
        "var_comparison",
    ),
    "qlib.plots.strategy": ("intensity_fit_figure",),
    "qlib.plots.sweep": ("sweep_heatmap",),
}
_SOURCE = sources(_LAZY)

__all__ = [
                                       "DEFAULT_MAX_POINTS",
                                       "attribution_figure",
                                       "book_heatmap",
                                       "drawdown",
                                       "equity_figure",
                                       "event_rates",
                                       "fills_figure",
                                       "greeks_ladder",
                                       "intensity_fit_figure",
                                       "intraday_profiles",
                                       "kyle_lambda_profile",
                                       "latency_effect_figure",
                                       "latency_histogram",
                                       "markout_curve",
                                       "markout_figure",
                                       "ofi_fit",
                                       "pin_fit",
                                       "price_path",
                                       "queue_effect_figure",
                                       "spread_and_sizes",
                                       "spread_depth_profile",
                                       "stress_bar",
                                       "sweep_heatmap",
                                       "trade_clustering",
                                       "var_backtest",
                                       "var_comparison",
                                       "vpin",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
