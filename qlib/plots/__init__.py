"""Views: plotly figures of market data and results, pure functions of their inputs."""

from qlib.plots.data import DEFAULT_MAX_POINTS, event_rates, price_path, spread_and_sizes

__all__ = ["DEFAULT_MAX_POINTS", "event_rates", "price_path", "spread_and_sizes"]
