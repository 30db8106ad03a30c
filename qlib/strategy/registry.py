"""The strategy registry: one read-only mapping of name to spec class, aliases resolved here.

:data:`STRATEGIES` maps each canonical name to what builds the spec from keyword
parameters: a spec class for the built-ins, the factory for the example custom strategy
(:func:`qlib.strategy.examples.mean_reversion`). Lookups are case-insensitive and resolve
the aliases of :data:`ALIASES`; iteration yields the canonical names only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from types import MappingProxyType
from typing import Any

from qlib.errors import ParameterError
from qlib.strategy.examples import mean_reversion
from qlib.strategy.specs import GLFT, AvellanedaStoikov, GridMM, ImbalanceMM, Strategy, TouchMM

__all__ = ["ALIASES", "STRATEGIES", "strategy_from_name", "strategy_parameters"]

#: Other accepted spellings -> canonical name.
ALIASES: Mapping[str, str] = MappingProxyType({
    "as": "avellaneda_stoikov", "avellaneda-stoikov": "avellaneda_stoikov",
    "gridmm": "grid", "imbalancemm": "imbalance", "touchmm": "touch",
    "mean_reversion_mm": "mean_reversion",
})


class _Registry(Mapping[str, Callable[..., Strategy]]):
    """Read-only, case-insensitive, alias-resolving mapping name -> spec class or factory."""

    def __init__(self, entries: dict[str, Callable[..., Strategy]]) -> None:
        self._entries = MappingProxyType(dict(entries))

    def resolve(self, name: str) -> str:
        """Return the canonical name of ``name`` (an alias or a canonical name).

        Raises
        ------
        ParameterError
            For a name that is not a string or not registered.
        """
        if not isinstance(name, str):
            raise ParameterError(f"strategy name must be a string, was {name!r}")
        key = name.strip().lower()
        key = ALIASES.get(key, key)
        if key not in self._entries:
            raise ParameterError(f"unknown strategy name {name!r}; known: "
                                 f"{', '.join(sorted(self._entries))}")
        return key

    def __getitem__(self, name: str) -> Callable[..., Strategy]:
        try:
            return self._entries[self.resolve(name)]
        except ParameterError as exc:
            raise KeyError(str(exc)) from None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.strip().lower()
        return ALIASES.get(key, key) in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def classes(self) -> Mapping[str, type[Strategy]]:
        """The built-in spec classes only (the entries that are dataclasses)."""
        return MappingProxyType({k: v for k, v in self._entries.items()
                                 if isinstance(v, type) and is_dataclass(v)})

    def __repr__(self) -> str:
        return f"STRATEGIES({', '.join(self._entries)})"


#: The one strategy registry: canonical name -> spec class (or factory).
STRATEGIES = _Registry({
    "avellaneda_stoikov": AvellanedaStoikov,
    "glft": GLFT,
    "grid": GridMM,
    "imbalance": ImbalanceMM,
    "touch": TouchMM,
    "mean_reversion": mean_reversion,
})


def strategy_parameters(name: str) -> list[str]:
    """Return the keyword parameters of strategy ``name`` (fields or factory arguments).

    Raises
    ------
    ParameterError
        For an unknown name.
    """
    entry = STRATEGIES[STRATEGIES.resolve(name)]
    if isinstance(entry, type) and is_dataclass(entry):
        return [f.name for f in fields(entry)]
    return list(inspect.signature(entry).parameters)


def strategy_from_name(name: str, **params: Any) -> Strategy:
    """Build a registered strategy's spec from its name and keyword parameters.

    Parameters
    ----------
    name
        A name of :data:`STRATEGIES` or an alias of :data:`ALIASES` (case-insensitive):
        ``"avellaneda_stoikov"`` (``"as"``), ``"glft"``, ``"grid"``, ``"imbalance"``,
        ``"touch"``, ``"mean_reversion"``.
    **params
        The spec's fields (see each class) or the factory's arguments.

    Returns
    -------
    Strategy

    Raises
    ------
    ParameterError
        For an unknown name, an unknown or missing parameter (named), or a bad value.

    Examples
    --------
    >>> strategy_from_name("touch", order_qty=1, max_position=5)
    TouchMM(order_qty=1, max_position=5)
    """
    key = STRATEGIES.resolve(name)
    allowed = strategy_parameters(key)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for strategy "
                             f"{key!r}; allowed: {', '.join(allowed)}")
    entry = STRATEGIES[key]
    if isinstance(entry, type) and is_dataclass(entry):
        required = [f.name for f in fields(entry)
                    if f.init and _no_default(f) and f.name not in params]
        if required:
            raise ParameterError(f"strategy {key!r}: missing parameter(s) "
                                 f"{', '.join(required)}")
    return entry(**params)


def _no_default(f: Any) -> bool:
    from dataclasses import MISSING

    return f.default is MISSING and f.default_factory is MISSING
