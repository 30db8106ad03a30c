"""Data layer: loaders for real formats, the simulated market, validation and the store.

Loaders return :class:`MarketData` (events in :data:`qlib.dtypes.EVENT_DTYPE`, the
instrument, provenance and a :class:`ValidationReport`). :func:`load` picks one by
name, which is what the notebooks' ``source`` parameter does.
"""

from qlib.data.binance import load_binance
from qlib.data.databento import load_databento, load_databento_all
from qlib.data.lobster import load_lobster
from qlib.data.market_data import MarketData, check_events, concat_sessions
from qlib.data.paths import shared_data_dir
from qlib.data.report import ValidationReport
from qlib.data.simulate import SimParams
from qlib.data.simulate import simulate as simulate
from qlib.data.sources import SOURCES, load
from qlib.data.store import Store
from qlib.data.tardis import load_tardis

__all__ = [
    "SOURCES",
    "MarketData",
    "SimParams",
    "Store",
    "ValidationReport",
    "check_events",
    "concat_sessions",
    "load",
    "load_binance",
    "load_databento",
    "load_databento_all",
    "load_lobster",
    "load_tardis",
    "shared_data_dir",
    "simulate",
]
