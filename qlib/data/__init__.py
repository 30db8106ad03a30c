"""Data layer: loaders for real formats, the simulated market, validation and the store."""

from qlib.data.market_data import MarketData, check_events
from qlib.data.paths import shared_data_dir
from qlib.data.report import ValidationReport

__all__ = ["MarketData", "ValidationReport", "check_events", "shared_data_dir"]
