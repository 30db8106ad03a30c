"""qlib.engine.tasks: the sweep task builds a backtest from names and returns numbers only."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pandas as pd
import pytest

import qlib.data
import qlib.engine.tasks as tasks_module
from qlib.engine import QUEUE_MODELS, LogProbQueue, PowerProbQueue, RiskAdverseQueue, backtest
from qlib.engine.models import ConstantLatency
from qlib.engine.tasks import METRICS, backtest_task, build_queue, build_strategy, metrics_of
from qlib.errors import ParameterError
from qlib.signals import Unavailable
from qlib.strategy import GLFT, STRATEGIES, CustomStrategy, GridMM, fit_intensity

N_EVENTS = 20_000
GRID = {"strategy": "grid", "levels": 2, "step_ticks": 1.0, "offset_ticks": 1.0,
        "order_qty": 100.0, "max_position": 500.0}


@pytest.fixture(scope="module")
def data():
    return qlib.data.simulate(n_events=N_EVENTS, seed=3)


def test_backtest_task_grid_returns_finite_metrics_only():
    row = backtest_task(3, n_events=N_EVENTS, **GRID)
    assert set(row) <= set(METRICS)
    assert {"pnl", "fills", "spread_capture", "inventory_pnl", "fees", "max_abs_position",
            "max_drawdown_ccy"} <= set(row)
    assert all(isinstance(v, float) and math.isfinite(v) for v in row.values())
    assert row["fills"] > 0
    assert row["pnl"] == pytest.approx(row["spread_capture"] + row["inventory_pnl"] - row["fees"],
                                       abs=1e-6)


def test_backtest_task_matches_a_direct_backtest(data):
    # Arrange
    spec = GridMM(levels=2, step_ticks=1.0, offset_ticks=1.0, order_qty=100.0, max_position=500.0)
    lat = ConstantLatency(entry_ns=5_000_000, response_ns=5_000_000)
    # Act
    direct = backtest(data, spec, latency=lat, queue=RiskAdverseQueue(), decision_interval="200ms")
    row = backtest_task(3, n_events=N_EVENTS, latency_ms=5, queue="risk_adverse",
                        decision_interval="200ms", **GRID)
    # Assert
    assert row["pnl"] == pytest.approx(direct.pnl)
    assert row["fills"] == direct.counters["fills"]


def test_backtest_task_glft_fits_missing_intensity_like_the_notebook(data):
    fit = fit_intensity(data)
    common = {"strategy": "glft", "gamma": 0.1, "order_qty": 100.0, "max_position": 500.0,
              "n_events": N_EVENTS}
    fitted = backtest_task(3, **common)
    given = backtest_task(3, k=fit.k, A=fit.A, **common)
    assert fitted == given


def test_backtest_task_unknown_parameter_raises_listing_allowed():
    with pytest.raises(ParameterError, match="gama.*strategy parameters: gamma, k"):
        backtest_task(3, strategy="avellaneda_stoikov", gama=0.1, n_events=N_EVENTS)


def test_backtest_task_parameter_of_another_strategy_raises():
    with pytest.raises(ParameterError, match="levels"):
        backtest_task(3, strategy="glft", gamma=0.1, levels=3, order_qty=1, max_position=5,
                      n_events=N_EVENTS)


@pytest.mark.parametrize("kw, match", [
    ({"strategy": "nope"}, "expected a name of qlib.strategy.STRATEGIES"),
    ({"latency_ms": -1.0}, "latency_ms"),
    ({"latency_ms": float("nan")}, "latency_ms"),
    ({"n_events": 0}, "n_events"),
    ({"queue": "fifo-ish"}, "queue model name"),
])
def test_backtest_task_bad_engine_value_raises(kw, match):
    params = {**GRID, "n_events": N_EVENTS, **kw}
    with pytest.raises(ParameterError, match=match):
        backtest_task(3, **params)


@pytest.mark.parametrize("day", [-1, 1.5, "7", True, ("lobster",)])
def test_backtest_task_bad_day_raises(day):
    with pytest.raises(ParameterError, match="day"):
        backtest_task(day, n_events=N_EVENTS, **GRID)


@pytest.mark.parametrize("name, cls", [("power", PowerProbQueue), ("log", LogProbQueue),
                                       ("risk_adverse", RiskAdverseQueue),
                                       ("risk_averse", RiskAdverseQueue),
                                       ("power_prob", PowerProbQueue)])
def test_build_queue_names(name, cls):
    assert isinstance(build_queue(name), cls)


@pytest.mark.parametrize("name", QUEUE_MODELS.names())
def test_build_queue_accepts_every_name_of_the_one_registry(name):
    assert type(build_queue(name)) is QUEUE_MODELS[name]


def test_build_queue_unknown_name_lists_the_registry_names():
    with pytest.raises(ParameterError, match="power_prob") as err:
        build_queue("powr")
    assert "did you mean 'power'" in str(err.value)


def test_build_queue_power_keeps_n():
    assert build_queue("power", 3.0).n == 3.0


def test_build_strategy_fits_only_what_is_missing(data):
    spec = build_strategy("glft", data, gamma=0.1, k=2.0, order_qty=1.0, max_position=5.0)
    assert isinstance(spec, GLFT)
    assert spec.k == 2.0
    assert spec.A == pytest.approx(fit_intensity(data).A)


def test_build_strategy_mean_reversion_is_custom(data):
    spec = build_strategy("mean_reversion", data, order_qty=10.0, max_position=50.0)
    assert isinstance(spec, CustomStrategy)
    assert spec.name == "mean_reversion_mm"


def test_metrics_of_drops_unavailable_and_nan():
    stats = pd.Series({"pnl": 1.5, "fills": 3, "sharpe_ratio": Unavailable("no variance"),
                       "sortino_ratio": float("nan"), "bars": 10, "maker_share": True},
                      dtype=object)
    assert metrics_of(stats) == {"pnl": 1.5, "fills": 3.0}


def test_backtest_task_runs_in_a_sync_sweep_without_failures():
    sweep = pytest.importorskip("qlib.sweep").sweep
    res = sweep(backtest_task, {"latency_ms": [0.5, 10.0], "queue": ["power", "risk_adverse"]},
                days=[3], fixed={**GRID, "n_events": N_EVENTS}, scheduler="sync", progress=False)
    assert len(res.frame) == 4
    assert len(res.failed) == 0
    assert res.frame["fills"].gt(0).all()


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_build_strategy_accepts_every_registered_strategy(name, data):
    from qlib.strategy import strategy_parameters

    allowed = set(strategy_parameters(name))
    params = {k: v for k, v in {"gamma": 0.1, "order_qty": 1.0, "max_position": 5.0,
                                "levels": 2, "step_ticks": 1.0, "offset_ticks": 1.0}.items()
              if k in allowed}
    try:
        spec = build_strategy(name, data, **params)
    except ParameterError as exc:  # a strategy with other required fields: named in the message
        assert "missing" in str(exc) or "required" in str(exc), str(exc)
        return
    assert spec is not None


def test_tasks_module_uses_public_apis_only():
    """No private module imported, no private name read from another module."""
    tree = ast.parse(Path(tasks_module.__file__).read_text())
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            private += [node.module for p in parts if p.startswith("_") and p != "__future__"]
            private += [a.name for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            private += [a.name for a in node.names
                        if any(p.startswith("_") for p in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            private.append(node.attr)
    assert private == []
