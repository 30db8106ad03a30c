"""One entry point over every data source: ``load(source, path, **options)``.

Notebooks take a ``source`` parameter (``"simulated"``, ``"lobster"``,
``"binance"``, ``"tardis"``, ``"databento"``) and a ``path``; this module maps them
to the loaders, so a notebook holds no branching of its own.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from qlib.data.market_data import MarketData
from qlib.errors import ParameterError

__all__ = ["SOURCES", "load"]

#: source name -> (module, function, name of its path argument or None)
SOURCES: dict[str, tuple[str, str, str | None]] = {
    "simulated": ("qlib.data.simulate", "simulate", None),
    "lobster": ("qlib.data.lobster", "load_lobster", "path"),
    "binance": ("qlib.data.binance", "load_binance", "paths"),
    "tardis": ("qlib.data.tardis", "load_tardis", "path"),
    "databento": ("qlib.data.databento", "load_databento", "path"),
}


def load(source: str = "simulated", path: str | Path | list[str | Path] | None = None,
         **options: Any) -> MarketData:
    """Load market data from a named source.

    Parameters
    ----------
    source
        One of :data:`SOURCES`.
    path
        File, files or directory for file-based sources; must be None for
        ``"simulated"``.
    **options
        Passed to the source's loader (see its docstring).

    Returns
    -------
    MarketData

    Raises
    ------
    ParameterError
        For an unknown source, a missing path, or a path given to the simulator.
    """
    if source not in SOURCES:
        raise ParameterError(f"source must be one of {sorted(SOURCES)}, was {source!r}")
    module_name, func_name, path_arg = SOURCES[source]
    if path_arg is None and path not in (None, ""):
        raise ParameterError(f"source {source!r} takes no path, was {path!r}")
    if path_arg is not None and path in (None, ""):
        raise ParameterError(f"source {source!r} needs a path, was {path!r}")
    func = getattr(importlib.import_module(module_name), func_name)
    return func(**options) if path_arg is None else func(path, **options)
