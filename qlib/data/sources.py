"""One entry point over every data source: ``load(source, path, **options)``.

Notebooks take a ``source`` parameter (``"simulated"``, ``"lobster"``,
``"binance"``, ``"tardis"``, ``"databento"``, ``"store"``) and a ``path``; this module
maps them to the loaders, so a notebook holds no branching of its own. The options
are checked against the loader's own signature before anything is read, so a
misspelt option fails at once, naming the closest one.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
from pathlib import Path
from typing import Any, Callable

from qlib.data.market_data import MarketData
from qlib.errors import DataNotFoundError, ParameterError

__all__ = ["SOURCES", "load"]

#: source name -> (module, function, name of its path argument or None)
SOURCES: dict[str, tuple[str, str, str | None]] = {
    "simulated": ("qlib.data.simulate", "simulate", None),
    "lobster": ("qlib.data.lobster", "load_lobster", "path"),
    "binance": ("qlib.data.binance", "load_binance", "paths"),
    "tardis": ("qlib.data.tardis", "load_tardis", "path"),
    "databento": ("qlib.data.databento", "load_databento", "path"),
    "store": ("qlib.data.store", "load_store", "root"),
}

#: Sources whose loader takes a list of files as well as one file or directory.
_MANY_PATHS = frozenset({"binance"})


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_options(source: str, func: Callable[..., Any], path_arg: str | None,
                   options: dict[str, Any]) -> inspect.Signature:
    """Refuse options the loader does not take (before any file is opened)."""
    sig = inspect.signature(func)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return sig  # the loader takes any keyword: it checks them itself
    known = [n for n, p in sig.parameters.items()
             if n != path_arg and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for name in options:
        if path_arg is not None and name == path_arg:
            raise ParameterError(f"source {source!r}: pass {name} as load's path argument, "
                                 f"load({source!r}, path, ...), not as the option {name}=")
        if name not in known:
            raise ParameterError(
                f"source {source!r} ({func.__module__}.{func.__name__}) has no option "
                f"{name!r}{_did_you_mean(name, known)} (options: {', '.join(known)})")
    return sig


def _check_path(source: str, path: Any) -> None:
    """``path`` is a str/PathLike (or, for several-file loaders, a list of them) that exists."""
    many = source in _MANY_PATHS
    items = list(path) if many and isinstance(path, (list, tuple)) else [path]
    if many and not items:
        raise ParameterError(f"source {source!r} needs at least one path, was {path!r}")
    for item in items:
        if isinstance(item, bytes) or not isinstance(item, (str, os.PathLike)) or str(item) == "":
            forms = "a str or os.PathLike path" + (" or a list of them" if many else "")
            shown = f"{path!r}" if item is path else f"{item!r} in {path!r}"
            raise ParameterError(f"path must be {forms} for source {source!r}, was {shown}")
        if not Path(item).exists():
            raise DataNotFoundError(f"path {str(item)!r} for source {source!r} does not exist")


def load(source: str = "simulated", path: str | Path | list[str | Path] | None = None,
         **options: Any) -> MarketData:
    """Load market data from a named source.

    Parameters
    ----------
    source
        One of :data:`SOURCES`.
    path
        File, files or directory for file-based sources (a list only for
        ``"binance"``); the store's root directory for ``"store"``; must be None for
        ``"simulated"``. ``"tardis"`` may go without when its ``trades``/``quotes``/
        ``book`` options name the files.
    **options
        Passed to the source's loader (see its docstring); checked against its
        signature first. ``instrument=`` goes to every loader (an empty string, a
        notebook's "not given", is left out; for ``"simulated"`` an id string is looked
        up in :mod:`qlib.data.instruments`); for ``"store"`` it is
        required and selects the data set, with ``date="YYYY-MM-DD"`` or
        ``start=``/``end=`` (several days come back as sessions one after the other,
        see :func:`qlib.data.store.load_store`).

    Returns
    -------
    MarketData

    Raises
    ------
    ParameterError
        For an unknown source, an option the loader does not take (the closest one
        is named), a missing path, a path that is not a str/PathLike, or a path given
        to the simulator.
    DataNotFoundError
        If a path does not exist (the message names it).

    Examples
    --------
    >>> md = load("store", "/data/store", instrument="BTCUSDT.BINANCE",
    ...           date="2024-08-08")                                   # doctest: +SKIP
    """
    if not isinstance(source, str) or source not in SOURCES:
        hint = _did_you_mean(source, sorted(SOURCES)) if isinstance(source, str) else ""
        raise ParameterError(f"source must be one of {sorted(SOURCES)}, was {source!r}{hint}")
    module_name, func_name, path_arg = SOURCES[source]
    func = getattr(importlib.import_module(module_name), func_name)
    if "instrument" in options and options["instrument"] in ("", None):
        options.pop("instrument")  # a notebook's empty instrument parameter: not given
    if source == "simulated" and isinstance(options.get("instrument"), str):
        from qlib.data.instruments import get

        options["instrument"] = get(options["instrument"])
    sig = _check_options(source, func, path_arg, options)
    if path_arg is None:
        if path not in (None, ""):
            raise ParameterError(f"source {source!r} takes no path, was {path!r}")
        return func(**options)
    if path is None or (isinstance(path, str) and path == ""):
        if sig.parameters[path_arg].default is None:  # optional: the loader says what it needs
            return func(**options)
        raise ParameterError(f"source {source!r} needs a path, was {path!r}")
    _check_path(source, path)
    return func(path, **options)
