"""Sweep tasks: one backtest from names and scalars, returning a flat dict of numbers.

:func:`backtest_task` is the function a parameter sweep (:func:`qlib.sweep.sweep`) sends
to its workers: it lives in the package, so a worker process can import it, and takes
only picklable scalars. It builds the day's data, the strategy, the latency and the
queue model from names and numbers, runs :func:`qlib.engine.backtest` and returns the
numeric headline of :meth:`BacktestResult.stats`.

Examples
--------
>>> from qlib.engine.tasks import backtest_task
>>> row = backtest_task(7, strategy="grid", levels=2, step_ticks=1, offset_ticks=1,
...                     order_qty=100, max_position=500, n_events=20_000)  # doctest: +SKIP
>>> sorted(row)[:3]  # doctest: +SKIP
['fees', 'fills', 'final_position']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable
from functools import lru_cache
from typing import Any

from qlib.errors import ParameterError

__all__ = ["ENGINE_PARAMETERS", "FITTED_PARAMETERS", "METRICS", "backtest_task", "build_queue",
           "build_strategy", "metrics_of"]

#: Parameters of :func:`backtest_task` that are not strategy fields, with their defaults.
ENGINE_PARAMETERS: dict[str, Any] = {
    "strategy": "glft",          # a name of qlib.strategy.STRATEGIES
    "n_events": 100_000,         # events of the simulated market, when day is a seed
    "latency_ms": 1.0,           # order latency each way (entry and response), ms
    "queue": "power",            # a name of qlib.engine.QUEUE_MODELS: risk_adverse, power, log, ...
    "queue_n": 2.0,              # power of the power queue model
    "decision_interval": "100ms",
    "record_interval": "1s",
    "maker_bps": None,           # None: the instrument's fee schedule
    "taker_bps": None,
    "market_impact": False,
    "capital": 0.0,
}

#: Numbers returned by :func:`backtest_task` (those the run can compute; see its Returns).
METRICS: tuple[str, ...] = (
    "pnl", "spread_capture", "inventory_pnl", "fees", "fills", "traded_qty", "maker_share",
    "final_position", "max_abs_position", "max_drawdown_ccy", "orders_submitted",
    "sharpe_ratio", "sortino_ratio", "hit_rate",
)

#: Strategy parameters fitted on the day (:func:`qlib.strategy.fit_intensity`) when the
#: strategy has them and they are not given: the order-arrival intensity ``A e^{-k d}``.
FITTED_PARAMETERS: tuple[str, ...] = ("k", "A")


def _strategy_fields(name: Any) -> list[str]:
    """Return the parameter names of strategy ``name`` (:data:`qlib.strategy.STRATEGIES`)."""
    from qlib.strategy import STRATEGIES, strategy_parameters

    if not isinstance(name, str) or name not in STRATEGIES:
        raise ParameterError(f"strategy was {name!r}, expected a name of qlib.strategy.STRATEGIES: "
                             f"{', '.join(sorted(STRATEGIES))}")
    return list(strategy_parameters(name))


def build_queue(name: str, n: float = 2.0) -> Any:
    """Return the queue model named ``name`` (:data:`qlib.engine.QUEUE_MODELS`, aliases
    such as ``"power"`` and ``"log"`` included); ``n`` is the power of a model that has one.

    Raises
    ------
    ParameterError
        For an unknown name or a bad ``n``.
    """
    from qlib.engine import QUEUE_MODELS

    cls = QUEUE_MODELS[QUEUE_MODELS.canonical(name)]  # ParameterError naming the known names
    has_n = "n" in {f.name for f in dataclasses.fields(cls)}
    return QUEUE_MODELS.build(name, **({"n": n} if has_n else {}))


def build_strategy(name: str, data: Any, **params: Any) -> Any:
    """Return the strategy spec ``name`` with ``params``; a missing ``k``/``A`` is fitted.

    ``name`` is a name of :data:`qlib.strategy.STRATEGIES`. For a strategy with the
    intensity parameters of :data:`FITTED_PARAMETERS` (Avellaneda-Stoikov, GLFT), one not
    given is taken from :func:`qlib.strategy.fit_intensity` on ``data``.

    Raises
    ------
    ParameterError
        For an unknown name or parameter, or a bad value.
    InsufficientDataError
        If a fit is needed and the data cannot support it.
    """
    from qlib.strategy import fit_intensity, strategy_from_name

    allowed = _strategy_fields(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for strategy {name!r}; "
                             f"allowed: {', '.join(allowed)}")
    missing = [p for p in FITTED_PARAMETERS if p in allowed and p not in params]
    if missing:
        fit = fit_intensity(data)
        params = {**{p: getattr(fit, p) for p in missing}, **params}
    return strategy_from_name(name, **params)


@lru_cache(maxsize=4)
def _data_for(day: Hashable, n_events: int) -> Any:
    import qlib.data

    if isinstance(day, (int,)) and not isinstance(day, bool):
        return qlib.data.simulate(n_events=n_events, seed=day)
    if isinstance(day, tuple) and len(day) == 2 and all(isinstance(x, str) for x in day):
        return qlib.data.load(day[0], day[1])
    raise ParameterError(f"day must be a seed (int >= 0) of the simulated market or a "
                         f"(source, path) tuple, was {day!r}")


def _day_key(day: Any) -> Hashable:
    import numpy as np

    if isinstance(day, np.integer):
        day = int(day)
    if isinstance(day, list):
        day = tuple(day)
    if isinstance(day, int) and not isinstance(day, bool) and day < 0:
        raise ParameterError(f"day must be a seed >= 0, was {day!r}")
    if not isinstance(day, (int, tuple)) or isinstance(day, bool):
        raise ParameterError(f"day must be a seed (int >= 0) of the simulated market or a "
                             f"(source, path) tuple, was {day!r}")
    return day


def backtest_task(day: Any = 7, **params: Any) -> dict[str, float]:
    """Run one backtest of a named strategy on one day; return its numbers.

    Parameters
    ----------
    day
        An int: the seed of the simulated market (:func:`qlib.data.simulate` with
        ``n_events`` events); or a ``(source, path)`` tuple for :func:`qlib.data.load`.
        The data of the last few days is cached in the process, so a sweep over many
        parameters of one day builds it once per worker.
    **params
        The engine parameters of :data:`ENGINE_PARAMETERS` (``strategy``, ``n_events``,
        ``latency_ms``, ``queue``, ``queue_n``, ``decision_interval``,
        ``record_interval``, ``maker_bps``, ``taker_bps``, ``market_impact``,
        ``capital``) and the strategy's own fields (``gamma``, ``k``, ``A``,
        ``order_qty``, ``max_position``, ``levels``, ...: see the spec classes of
        :mod:`qlib.strategy`, or :func:`qlib.strategy.examples.mean_reversion` for
        ``strategy="mean_reversion"``). ``k`` and ``A`` of Avellaneda-Stoikov and GLFT
        are fitted on the day (:func:`qlib.strategy.fit_intensity`) when not given.

    Returns
    -------
    dict of str to float
        The entries of :data:`METRICS` taken from :meth:`BacktestResult.stats`, as
        floats: P&L, its attribution (``spread_capture``, ``inventory_pnl``, ``fees``),
        fills, traded quantity, maker share, final and largest absolute position,
        maximum drawdown (currency), orders sent, and Sharpe and Sortino per day (the
        default of :meth:`BacktestResult.stats`) and hit rate of the per-record P&L
        increments. A metric the run cannot support (e.g. a Sharpe
        ratio of a run without fills, whose P&L never moved) is **left out** of the
        dict rather than given as NaN, so a sweep frame shows it as missing.

    Raises
    ------
    ParameterError
        For an unknown parameter (the message lists the allowed ones), a bad day or a
        bad value.
    InsufficientDataError
        If ``k``/``A`` must be fitted and the day cannot support the fit.
    """
    from qlib.engine import backtest
    from qlib.engine.fees import Fees
    from qlib.engine.models import ConstantLatency

    name = params.pop("strategy", ENGINE_PARAMETERS["strategy"])
    allowed = _strategy_fields(name)
    engine = {k: params.pop(k) for k in list(params) if k in ENGINE_PARAMETERS}
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)} for backtest_task with strategy "
            f"{name!r}; engine parameters: "
            f"{', '.join(k for k in ENGINE_PARAMETERS if k != 'strategy')}"
            f"; strategy parameters: {', '.join(allowed)}")
    opts = {**ENGINE_PARAMETERS, **engine}
    n_events = opts["n_events"]
    if isinstance(n_events, bool) or not isinstance(n_events, int) or n_events < 1:
        raise ParameterError(f"n_events must be an int >= 1, was {n_events!r}")
    lat = opts["latency_ms"]
    if isinstance(lat, bool) or not isinstance(lat, (int, float)) or not math.isfinite(lat) \
            or lat < 0:
        raise ParameterError(f"latency_ms must be a finite number >= 0, was {lat!r}")
    data = _data_for(_day_key(day), n_events)
    spec = build_strategy(name, data, **params)
    latency_ns = round(float(lat) * 1e6)
    fees = None
    if opts["maker_bps"] is not None or opts["taker_bps"] is not None:
        inst = data.instrument
        fees = Fees(maker_bps=float(inst.maker_fee_bps if opts["maker_bps"] is None
                                    else opts["maker_bps"]),
                    taker_bps=float(inst.taker_fee_bps if opts["taker_bps"] is None
                                    else opts["taker_bps"]))
    res = backtest(data, spec,
                   latency=ConstantLatency(entry_ns=latency_ns, response_ns=latency_ns),
                   queue=build_queue(opts["queue"], opts["queue_n"]), fees=fees,
                   decision_interval=opts["decision_interval"],
                   record_interval=opts["record_interval"],
                   market_impact=bool(opts["market_impact"]), capital=float(opts["capital"]))
    return metrics_of(res.stats())


def metrics_of(stats: Any) -> dict[str, float]:
    """Return the :data:`METRICS` of a ``stats()`` Series as floats, leaving out the rest.

    Entries that are not finite real numbers (``Unavailable`` metrics, NaN) are left out.
    """
    import numpy as np

    out: dict[str, float] = {}
    for name in METRICS:
        value = stats.get(name)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            continue
        x = float(value)
        if math.isfinite(x):
            out[name] = x
    return out
