"""Lazy public names of a package (PEP 562): one implementation for every ``__init__``.

A package lists ``{submodule: names}`` in ``_LAZY`` and binds
``__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)``: importing the package
imports none of its submodules; the first access of a name imports the submodule that
defines it and binds the name on the package, so later lookups are plain attribute reads.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def sources(lazy: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{name: submodule}`` of a ``{submodule: names}`` table."""
    return {name: module for module, names in lazy.items() for name in names}


def lazy_exports(package: str, lazy: Mapping[str, Iterable[str]], public: Iterable[str],
                 shadowed: Iterable[str] = ()
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
    shadowed
        Public functions named like a submodule of the package (``qlib.data.simulate``
        is the function :func:`qlib.data.simulate.simulate`). Importing a submodule makes
        the import system bind it on its package, which would hide the function; the
        package's module type is set to one that ignores exactly that binding.
    """
    if shadowed:
        sys.modules[package].__class__ = _keeps_functions(frozenset(shadowed))
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


def _keeps_functions(names: frozenset[str]) -> type[types.ModuleType]:
    """A module type on which a submodule never replaces a public name in ``names``."""

    class Package(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if name in names and isinstance(value, types.ModuleType):
                return
            super().__setattr__(name, value)

    return Package
