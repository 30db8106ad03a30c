"""Microstructure signals over events and books."""

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
