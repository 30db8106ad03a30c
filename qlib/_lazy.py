"""Lazy public names of a package (PEP 562): one implementation for every ``__init__``.

A package lists ``{submodule: names}`` in ``_LAZY`` and binds
``__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)``: importing the package
imports none of its submodules; the first access of a name imports the submodule that
defines it and binds the name on the package, so later lookups are plain attribute reads.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def sources(lazy: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{name: submodule}`` of a ``{submodule: names}`` table."""
    return {name: module for module, names in lazy.items() for name in names}


def lazy_exports(package: str, lazy: Mapping[str, Iterable[str]], public: Iterable[str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the module-level ``__getattr__`` and ``__dir__`` of ``package``.

    Parameters
    ----------
    package
        The package's ``__name__`` (its module must already be in ``sys.modules``, as it is
        while its ``__init__`` runs).
    lazy
        ``{submodule: names it defines}``.
    public
        The package's ``__all__``.
    """
    source = sources(lazy)
    names = frozenset(public)
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = source.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups find it without calling __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | names)

    return __getattr__, __dir__
