"""BacktestResult's public API: one naming rule, a plain constructor, ratios per day."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import qlib.data
from qlib.dtypes import (
    BT_FILL_DTYPE,
    BT_RECORD_DTYPE,
    ORDER_DTYPE,
    ORDER_JOURNAL_DTYPE,
    POSITION_DTYPE,
)
from qlib.engine import BacktestResult, ConstantLatency, backtest
from qlib.engine.result import RATIO_PERIODS
from qlib.errors import ParameterError
from qlib.instrument import Instrument
from qlib.strategy import TouchMM

SUFFIX = "_array"


@pytest.fixture(scope="module")
def res() -> BacktestResult:
    data = qlib.data.simulate(n_events=20_000, seed=5)
    return backtest(data, TouchMM(order_qty=100, max_position=500),
                    latency=ConstantLatency(entry_ns=1_000_000, response_ns=1_000_000))


def _public(obj) -> dict[str, object]:
    """Every public non-callable attribute of ``obj`` (properties evaluated)."""
    out = {}
    for name in dir(obj):
        if name.startswith("_"):
            continue
        value = getattr(obj, name)
        if not callable(value):
            out[name] = value
    return out


# ------------------------------------------------------------------ naming rule
def test_every_table_has_a_frame_and_an_array_twin_and_nothing_else(res):
    attrs = _public(res)
    frames = {n for n, v in attrs.items() if isinstance(v, (pd.DataFrame, pd.Series))}
    arrays = {n for n, v in attrs.items() if isinstance(v, np.ndarray)}
    assert res.fills_array.size > 0 and res.equity_array.size > 0  # a run with content
    # every raw array is named <table>_array, and every frame's twin is one of them
    assert all(n.endswith(SUFFIX) for n in arrays), sorted(arrays)
    assert {n[: -len(SUFFIX)] for n in arrays} == frames
    assert frames == {"fills", "orders", "exch_leaves", "equity", "journal", "positions",
                      "kill_journal", "events", "strategy_state", "view"}


def test_frame_and_array_twins_have_the_same_rows(res):
    for name in ("fills", "orders", "exch_leaves", "equity", "journal", "positions",
                 "kill_journal", "events"):
        assert len(getattr(res, name)) == len(getattr(res, name + SUFFIX)), name


def test_no_array_field_without_suffix():
    for f in dataclasses.fields(BacktestResult):
        if "ndarray" in str(f.type):
            assert f.name.endswith(SUFFIX), f.name


def test_frames_translate_units(res):
    f, fa = res.fills, res.fills_array
    assert np.allclose(f["px"], fa["px_tick"] * res.instrument.tick_size)
    assert isinstance(res.equity.index, pd.DatetimeIndex) and str(res.equity.index.tz) == "UTC"
    assert res.journal["event"].notna().all() and res.journal["status"].notna().all()
    assert res.orders["exch_leaves"].tolist() == res.exch_leaves.tolist()
    assert res.positions["qty"].iloc[0] == res.position


def test_engine_edge_is_kept_and_equals_the_spread_capture(res):
    assert res.edge == pytest.approx(res.attribution()["spread_capture"], rel=1e-9, abs=1e-9)
    assert res.edge != 0.0


# ------------------------------------------------------------------ constructor
def _minimal(**over) -> dict:
    kw = dict(
        instrument=Instrument("T.X", tick_size=0.01),
        strategy=TouchMM(order_qty=1, max_position=5),
        fills_array=np.zeros(0, BT_FILL_DTYPE),
        orders_array=np.zeros(0, ORDER_DTYPE),
        exch_leaves_array=np.zeros(0),
        equity_array=np.zeros(0, BT_RECORD_DTYPE),
        journal_array=np.zeros(0, ORDER_JOURNAL_DTYPE),
        positions_array=np.zeros(1, POSITION_DTYPE),
        risk=None,
    )
    kw.update(over)
    return kw


def test_constructor_refuses_an_unknown_argument():
    BacktestResult(**_minimal())  # the minimal set is accepted
    with pytest.raises(TypeError, match="edgy"):
        BacktestResult(**_minimal(edgy=1.0))


def test_constructor_is_keyword_only_and_keeps_edge():
    with pytest.raises(TypeError):
        BacktestResult(Instrument("T.X", tick_size=0.01))  # type: ignore[misc]
    assert BacktestResult(**_minimal(edge=2.5)).edge == 2.5


# ------------------------------------------------------------------ ratios per day
def _path_result(increments: np.ndarray, step_ns: int = 10**9) -> BacktestResult:
    """A result whose equity curve takes the given P&L increments every ``step_ns``."""
    rec = np.zeros(len(increments) + 1, BT_RECORD_DTYPE)
    rec["ts"] = 1_700_000_000 * 10**9 + step_ns * np.arange(len(rec))
    rec["equity"] = np.concatenate([[0.0], np.cumsum(increments)])
    rec["cash"] = rec["equity"]
    return BacktestResult(**_minimal(equity_array=rec))


# a known P&L path: +3, -1 repeated, so mean 1, sample standard deviation 2 sqrt(n/(n-1))
N = 200
PATH = np.tile([3.0, -1.0], N // 2)
SD = 2.0 * math.sqrt(N / (N - 1))
DOWN = math.sqrt(0.5)  # root mean square of min(x, 0): half the bars at -1


def test_sharpe_and_sortino_are_per_day_by_default_with_the_convention_stated():
    st = _path_result(PATH).stats()
    bars_per_day = 6.5 * 3600  # equity calendar, 1 s records
    assert st["sharpe_ratio"] == pytest.approx(1.0 / SD * math.sqrt(bars_per_day))
    assert st["sortino_ratio"] == pytest.approx(1.0 / DOWN * math.sqrt(bars_per_day))
    basis = st["ratio_basis"]
    assert "per day" in basis and "1 s records" in basis and "not annualised" in basis
    assert "6.5 h" in basis


def test_ratio_periods_year_session_and_crypto_day():
    r = _path_result(PATH)
    day = r.stats()["sharpe_ratio"]
    assert r.stats(per="year")["sharpe_ratio"] == pytest.approx(day * math.sqrt(252))
    assert "annualised" in r.stats(per="year")["ratio_basis"]
    assert r.stats(per="session")["sharpe_ratio"] == pytest.approx(1.0 / SD * math.sqrt(N))
    assert r.stats(calendar="crypto")["sharpe_ratio"] == pytest.approx(
        1.0 / SD * math.sqrt(86_400))


def test_per_day_ratio_does_not_depend_on_the_record_interval_unit():
    # the same path on 100 ms records: 10x more bars per day
    r = _path_result(PATH, step_ns=100_000_000)
    assert r.stats()["sharpe_ratio"] == pytest.approx(1.0 / SD * math.sqrt(6.5 * 36_000))
    assert "100 ms records" in r.stats()["ratio_basis"]


def test_ratios_with_capital_use_the_same_period():
    r = _path_result(PATH)
    r.capital = 1e6
    r.equity_array["equity"] += 1e6
    st = r.stats()
    rets = np.diff(r.equity_array["equity"]) / r.equity_array["equity"][:-1]
    expected = rets.mean() / rets.std(ddof=1) * math.sqrt(6.5 * 3600)
    assert st["sharpe_ratio"] == pytest.approx(expected)
    assert "per day" in st["ratio_basis"]


@pytest.mark.parametrize("kw", [{"per": "week"}, {"calendar": "forex"}])
def test_bad_ratio_option_raises(kw):
    with pytest.raises(ParameterError):
        _path_result(PATH).stats(**kw)


def test_ratio_periods_are_the_documented_ones():
    assert RATIO_PERIODS == ("day", "session", "year")
