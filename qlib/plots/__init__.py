"""Views: plotly figures of market data and results, pure functions of their inputs."""

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
