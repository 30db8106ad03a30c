"""Market-making strategies: jitted decision kernels, their specs, and intensity calibration.

A strategy is a pure jitted decision kernel ``fn(view, params, state, out) -> int``
(:mod:`qlib.strategy.specs` has the contract and the conventions of the built-ins);
engines only move data. The built-ins are dispatched by :func:`decide_builtin`, one
cached ``@njit`` function the engine calls as a global.
"""

from qlib.strategy._kernels import decide_builtin
from qlib.strategy.calibrate import IntensityFit, fit_intensity, trade_depths
from qlib.strategy.specs import (
    GLFT,
    MAX_INTENTS,
    AvellanedaStoikov,
    CustomStrategy,
    GridMM,
    ImbalanceMM,
    Strategy,
    TouchMM,
    decide,
    make_view,
    strategy_from_name,
)

__all__ = [
    "GLFT",
    "MAX_INTENTS",
    "AvellanedaStoikov",
    "CustomStrategy",
    "GridMM",
    "ImbalanceMM",
    "IntensityFit",
    "Strategy",
    "TouchMM",
    "decide",
    "decide_builtin",
    "fit_intensity",
    "make_view",
    "strategy_from_name",
    "trade_depths",
]
