"""The engine runtime: the jitted tick-by-tick backtest (:func:`backtest`) and its models.

:func:`backtest` replays a day of events through a simulated exchange with order
latency, queue position and fees, calls a strategy kernel (:mod:`qlib.strategy`) on a
timer, sends every intent through the pre-trade risk kernel (:mod:`qlib.risk`) and the
order state machine (:mod:`qlib.oms`), and returns a :class:`BacktestResult`.
"""

from qlib.engine.backtest import FeedLatency, backtest
from qlib.engine.fees import Fees
from qlib.engine.models import (
    LATENCY_MODELS,
    QUEUE_MODELS,
    ConstantLatency,
    FeedProportionalLatency,
    L3FifoQueue,
    LogProbQueue,
    ModelRegistry,
    PowerProbQueue,
    ReplayLatency,
    RiskAdverseQueue,
    latency_from_name,
    queue_from_name,
)
from qlib.engine.result import BacktestResult

__all__ = [
    "LATENCY_MODELS",
    "QUEUE_MODELS",
    "BacktestResult",
    "ConstantLatency",
    "FeedLatency",
    "FeedProportionalLatency",
    "Fees",
    "L3FifoQueue",
    "LogProbQueue",
    "ModelRegistry",
    "PowerProbQueue",
    "ReplayLatency",
    "RiskAdverseQueue",
    "backtest",
    "latency_from_name",
    "queue_from_name",
]
