"""Microstructure signals over events and books."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qlib._lazy import lazy_exports, sources

if TYPE_CHECKING:  # what the lazy loading below binds, spelled out for type checkers
    from qlib.signals._regression import RegressionResult
    from qlib.signals.availability import Unavailable, attempt
    from qlib.signals.classify import bulk_volume, lee_ready, signed_flow, tick_rule
    from qlib.signals.kyle import kyle_lambda, kyle_lambda_profile
    from qlib.signals.microprice import MicropriceModel, fit_microprice, stoikov_microprice
    from qlib.signals.ofi import multilevel_ofi, ofi, ofi_regression
    from qlib.signals.pin import PINResult, pin, pin_counts, simulate_pin_counts
    from qlib.signals.prices import book_imbalance, depth_weighted_mid, microprice, mid
    from qlib.signals.seasonality import intraday_profile
    from qlib.signals.spreads import (
                                      RollSpread,
                                      effective_spread,
                                      price_impact,
                                      quoted_spread,
                                      realized_spread,
                                      roll_spread,
    )
    from qlib.signals.tape import trades
    from qlib.signals.toxicity import (
                                      ClusteringResult,
                                      markout_curve,
                                      markouts,
                                      trade_clustering,
                                      trade_durations,
    )
    from qlib.signals.volatility import realized_volatility, two_scale_rv
    from qlib.signals.vpin import volume_buckets, vpin

#: Submodule -> the public names it defines. They are imported on first use (PEP 562
#: ``__getattr__``), so importing this package does not import every dependency of every
#: submodule (scipy, plotly, ...). ``tests/unit/test_lazy_imports.py`` keeps this table,
#: the ``TYPE_CHECKING`` imports and ``__all__`` in step.
_LAZY: dict[str, tuple[str, ...]] = {
    "qlib.signals._regression": ("RegressionResult",),
    "qlib.signals.availability": ("Unavailable", "attempt"),
    "qlib.signals.classify": ("bulk_volume", "lee_ready", "signed_flow", "tick_rule"),
    "qlib.signals.kyle": ("kyle_lambda", "kyle_lambda_profile"),
    "qlib.signals.microprice": ("MicropriceModel", "fit_microprice", "stoikov_microprice"),
    "qlib.signals.ofi": ("multilevel_ofi", "ofi", "ofi_regression"),
    "qlib.signals.pin": ("PINResult", "pin", "pin_counts", "simulate_pin_counts"),
    "qlib.signals.prices": ("book_imbalance", "depth_weighted_mid", "microprice", "mid"),
    "qlib.signals.seasonality": ("intraday_profile",),
    "qlib.signals.spreads": (
        "RollSpread",
        "effective_spread",
        "price_impact",
        "quoted_spread",
        "realized_spread",
        "roll_spread",
    ),
    "qlib.signals.tape": ("trades",),
    "qlib.signals.toxicity": (
        "ClusteringResult",
        "markout_curve",
        "markouts",
        "trade_clustering",
        "trade_durations",
    ),
    "qlib.signals.volatility": ("realized_volatility", "two_scale_rv"),
    "qlib.signals.vpin": ("volume_buckets", "vpin"),
}
_SOURCE = sources(_LAZY)

__all__ = [
    "RegressionResult", "RollSpread", "book_imbalance", "bulk_volume", "depth_weighted_mid",
    "effective_spread", "intraday_profile", "kyle_lambda", "kyle_lambda_profile", "lee_ready",
    "microprice", "mid", "multilevel_ofi", "ofi", "ofi_regression", "price_impact",
    "quoted_spread", "realized_spread", "realized_volatility", "roll_spread", "signed_flow",
    "tick_rule", "two_scale_rv",
    "trades",
    "Unavailable", "attempt", "PINResult", "pin", "pin_counts", "simulate_pin_counts",
    "ClusteringResult", "markout_curve", "markouts", "trade_clustering", "trade_durations",
    "volume_buckets", "vpin",
    "MicropriceModel", "fit_microprice", "stoikov_microprice"]


#: Public functions named like a submodule (``qlib.signals.ofi`` is the function
#: :func:`qlib.signals.ofi.ofi`, as it was when this package imported everything at once).
_SHADOWED = ("microprice", "ofi", "pin", "vpin")
__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, shadowed=_SHADOWED)
