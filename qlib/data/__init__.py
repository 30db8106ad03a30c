"""Data layer: loaders for real formats, the simulated market, validation and the store.

Loaders return :class:`MarketData` (events in :data:`qlib.dtypes.EVENT_DTYPE`, the
instrument, provenance and a :class:`ValidationReport`). :func:`load` picks one by
name, which is what the notebooks' ``source`` parameter does.

The public names are imported on first use (:func:`qlib._lazy.lazy_exports`), so a
notebook on the simulated market does not import the Databento, Parquet or LOBSTER
readers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qlib._lazy import lazy_exports, sources

if TYPE_CHECKING:  # what the lazy loading below binds, spelled out for type checkers
    from qlib.data.binance import load_binance
    from qlib.data.databento import load_databento, load_databento_all
    from qlib.data.lobster import load_lobster
    from qlib.data.market_data import MarketData, check_events, concat_sessions
    from qlib.data.paths import shared_data_dir
    from qlib.data.report import ValidationReport
    from qlib.data.simulate import SimParams, simulate
    from qlib.data.sources import SOURCES, load
    from qlib.data.store import Store
    from qlib.data.tardis import load_tardis

#: Submodule -> the public names it defines (imported on first use).
_LAZY: dict[str, tuple[str, ...]] = {
    "qlib.data.binance": ("load_binance",),
    "qlib.data.databento": ("load_databento", "load_databento_all"),
    "qlib.data.lobster": ("load_lobster",),
    "qlib.data.market_data": ("MarketData", "check_events", "concat_sessions"),
    "qlib.data.paths": ("shared_data_dir",),
    "qlib.data.report": ("ValidationReport",),
    "qlib.data.simulate": ("SimParams", "simulate"),
    "qlib.data.sources": ("SOURCES", "load"),
    "qlib.data.store": ("Store",),
    "qlib.data.tardis": ("load_tardis",),
}
_SOURCE = sources(_LAZY)

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

#: ``qlib.data.simulate`` is the function :func:`qlib.data.simulate.simulate`.
_SHADOWED = ("simulate",)
__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, shadowed=_SHADOWED)
