"""Views: plotly figures of market data and results, pure functions of their inputs."""

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

__all__ = ["DEFAULT_MAX_POINTS", "event_rates", "price_path", "spread_and_sizes",
           "book_heatmap", "intraday_profiles", "kyle_lambda_profile", "markout_curve", "ofi_fit",
           "pin_fit", "spread_depth_profile", "trade_clustering", "vpin",
           "drawdown", "greeks_ladder", "latency_histogram", "stress_bar", "var_backtest",
           "var_comparison"]
