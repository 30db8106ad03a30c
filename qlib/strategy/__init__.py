"""Market-making strategies: jitted decision kernels, their specs, and intensity calibration.

A strategy is a pure jitted decision kernel ``fn(view, params, state, out) -> int``
(:mod:`qlib.strategy.specs` has the contract and the conventions of the built-ins);
engines only move data. Write one as a plain function with named parameters with
:func:`strategy` and the helpers exported here (all usable inside ``@njit``):
:func:`quote` (post-only ``GTX`` unless ``tif=`` says otherwise), :func:`cancel_all`,
:func:`lots`, :func:`market_ok`, :func:`quote_ladder`, :func:`round_bid`,
:func:`round_ask`, :func:`can_buy`, :func:`can_sell`, :func:`inventory`, and the enums
:class:`Side`, :class:`Tif` (= :class:`TimeInForce`) and :class:`OrderType`.
:data:`STRATEGIES` is the registry of named strategies. Other packages import the jitted
functions from :mod:`qlib.strategy.nb`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qlib._lazy import lazy_exports, sources

from qlib.enums import OrderType, Side, TimeInForce

if TYPE_CHECKING:  # what the lazy loading below binds, spelled out for type checkers
    from qlib.strategy._kernels import (
        can_buy,
        can_sell,
        cancel_all,
        decide_builtin,
        inventory,
        keep_orders,
        lots,
        market_ok,
        quote,
        quote_ladder,
        round_ask,
        round_bid,
    )
    from qlib.strategy.calibrate import IntensityFit, fit_intensity, trade_depths
    from qlib.strategy.define import strategy
    from qlib.strategy.registry import STRATEGIES, strategy_from_name, strategy_parameters
    from qlib.strategy.specs import (
        GLFT,
        MAX_INTENTS,
        AvellanedaStoikov,
        DEFAULT_AS_GAMMA,
        CustomStrategy,
        GridMM,
        ImbalanceMM,
        Strategy,
        TouchMM,
        decide,
        make_view,
    )

#: Submodule -> the public names it defines. They are imported on first use (PEP 562
#: ``__getattr__``), so importing this package does not import every dependency of every
#: submodule (scipy, plotly, ...). ``tests/unit/test_lazy_imports.py`` keeps this table,
#: the ``TYPE_CHECKING`` imports and ``__all__`` in step.
_LAZY: dict[str, tuple[str, ...]] = {
    "qlib.strategy._kernels": (
        "can_buy",
        "can_sell",
        "cancel_all",
        "decide_builtin",
        "inventory",
        "keep_orders",
        "lots",
        "market_ok",
        "quote",
        "quote_ladder",
        "round_ask",
        "round_bid",
    ),
    "qlib.strategy.calibrate": ("IntensityFit", "fit_intensity", "trade_depths"),
    "qlib.strategy.define": ("strategy",),
    "qlib.strategy.registry": ("STRATEGIES", "strategy_from_name", "strategy_parameters"),
    "qlib.strategy.specs": (
        "GLFT",
        "MAX_INTENTS",
        "AvellanedaStoikov",
        "DEFAULT_AS_GAMMA",
        "CustomStrategy",
        "GridMM",
        "ImbalanceMM",
        "Strategy",
        "TouchMM",
        "decide",
        "make_view",
    ),
}
_SOURCE = sources(_LAZY)

Tif = TimeInForce

__all__ = [
    "GLFT",
    "MAX_INTENTS",
    "STRATEGIES",
    "AvellanedaStoikov",
    "CustomStrategy",
    "DEFAULT_AS_GAMMA",
    "GridMM",
    "ImbalanceMM",
    "IntensityFit",
    "OrderType",
    "Side",
    "Strategy",
    "Tif",
    "TimeInForce",
    "TouchMM",
    "can_buy",
    "can_sell",
    "cancel_all",
    "decide",
    "decide_builtin",
    "fit_intensity",
    "inventory",
    "keep_orders",
    "lots",
    "make_view",
    "market_ok",
    "quote",
    "quote_ladder",
    "round_ask",
    "round_bid",
    "strategy",
    "strategy_from_name",
    "strategy_parameters",
    "trade_depths",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
