"""Strategy specs: validation names the bad field, params arrays follow the kernel
layouts, names resolve, and a user's @njit kernel runs through CustomStrategy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from qlib.dtypes import VIEW_DTYPE
from qlib.enums import Side, StrategyKind
from qlib.errors import ParameterError, QlibError, SchemaError
from qlib.strategy import (
    GLFT,
    AvellanedaStoikov,
    CustomStrategy,
    GridMM,
    ImbalanceMM,
    TouchMM,
    decide,
    make_view,
    strategy_from_name,
)
from qlib.strategy import _kernels as K


@njit(cache=False)
def _bid_one_below(view, params, state, out):
    """A user's kernel: one bid ``params[0]`` ticks below the best bid; counts calls."""
    v = view[0]
    state[0] += 1.0
    if v["bid_px_tick"] <= 0:
        return 0
    out[0]["px_tick"] = v["bid_px_tick"] - np.int64(params[0])
    out[0]["qty"] = params[1]
    out[0]["side"] = 1
    out[0]["order_type"] = 0
    out[0]["tif"] = 3
    return 1


@njit(cache=False)
def _bad_return(view, params, state, out):
    return 99


@njit(cache=False)
def _raises(view, params, state, out):
    if view[0]["bid_px_tick"] > 0:
        raise ValueError("no quotes today")
    return 0


def _plain_python(view, params, state, out):
    return 0


@pytest.mark.parametrize("cls,kwargs,field", [
    (AvellanedaStoikov, {"gamma": 0.0, "k": 1.0, "order_qty": 1.0, "max_position": 1.0}, "gamma"),
    (AvellanedaStoikov, {"gamma": 0.1, "k": -1.0, "order_qty": 1.0, "max_position": 1.0}, "k"),
    (AvellanedaStoikov, {"gamma": 0.1, "k": 1.0, "order_qty": math.nan, "max_position": 1.0},
     "order_qty"),
    (AvellanedaStoikov, {"gamma": 0.1, "k": 1.0, "order_qty": 1.0, "max_position": 1.0,
                             "min_spread_ticks": -1.0}, "min_spread_ticks"),
    (GLFT, {"gamma": 0.1, "k": 1.0, "A": 0.0, "order_qty": 1.0, "max_position": 1.0}, "A"),
    (GLFT, {"gamma": 0.1, "k": 1.0, "A": 1.0, "order_qty": 1.0, "max_position": math.inf},
     "max_position"),
    (GridMM, {"levels": 0, "step_ticks": 1, "offset_ticks": 0, "order_qty": 1, "max_position": 1}, "levels"),
    (GridMM, {"levels": 17, "step_ticks": 1, "offset_ticks": 0, "order_qty": 1, "max_position": 1},
     "levels"),
    (GridMM, {"levels": 2.0, "step_ticks": 1, "offset_ticks": 0, "order_qty": 1, "max_position": 1},
     "levels"),
    (GridMM, {"levels": 2, "step_ticks": 0.5, "offset_ticks": 0, "order_qty": 1, "max_position": 1},
     "step_ticks"),
    (GridMM, {"levels": 2, "step_ticks": 1, "offset_ticks": -1, "order_qty": 1, "max_position": 1},
     "offset_ticks"),
    (GridMM, {"levels": 2, "step_ticks": 1, "offset_ticks": 0, "order_qty": 1, "max_position": 1,
                  "anchor": "best"}, "anchor"),
    (ImbalanceMM, {"alpha": math.nan, "half_spread_ticks": 1, "order_qty": 1, "max_position": 1},
     "alpha"),
    (ImbalanceMM, {"alpha": 1, "half_spread_ticks": 0, "order_qty": 1, "max_position": 1},
     "half_spread_ticks"),
    (ImbalanceMM, {"alpha": 1, "half_spread_ticks": 1, "order_qty": 1, "max_position": 1,
                       "skew_ticks": -0.1}, "skew_ticks"),
    (TouchMM, {"order_qty": True, "max_position": 1}, "order_qty"),
    (TouchMM, {"order_qty": "1", "max_position": 1}, "order_qty"),
    (TouchMM, {"order_qty": 1, "max_position": 0}, "max_position"),
])
def test_spec_bad_value_raises_parameter_error_naming_field(cls, kwargs, field):
    with pytest.raises(ParameterError, match=field) as exc:
        cls(**kwargs)
    assert isinstance(exc.value, QlibError) and isinstance(exc.value, ValueError)


@pytest.mark.parametrize("spec,expected", [
    (AvellanedaStoikov(0.1, 0.5, 2.0, 8.0, 3.0), {K.AS_GAMMA: 0.1, K.AS_K: 0.5,
                                                  K.AS_ORDER_QTY: 2.0, K.AS_MAX_POSITION: 8.0,
                                                  K.AS_MIN_SPREAD: 3.0}),
    (GLFT(0.1, 0.5, 3.0, 2.0, 8.0), {K.GLFT_GAMMA: 0.1, K.GLFT_K: 0.5, K.GLFT_A: 3.0,
                                     K.GLFT_ORDER_QTY: 2.0, K.GLFT_MAX_POSITION: 8.0}),
    (GridMM(4, 2.0, 1.0, 3.0, 9.0, 0.5, "touch"),
     {K.GRID_LEVELS: 4, K.GRID_STEP: 2.0, K.GRID_OFFSET: 1.0, K.GRID_ORDER_QTY: 3.0,
      K.GRID_MAX_POSITION: 9.0, K.GRID_SKEW: 0.5, K.GRID_ANCHOR: K.ANCHOR_TOUCH}),
    (ImbalanceMM(-0.5, 2.0, 1.0, 4.0, 0.25), {K.IMB_ALPHA: -0.5, K.IMB_HALF_SPREAD: 2.0,
                                              K.IMB_ORDER_QTY: 1.0, K.IMB_MAX_POSITION: 4.0,
                                              K.IMB_SKEW: 0.25}),
    (TouchMM(1.0, 4.0), {K.TOUCH_ORDER_QTY: 1.0, K.TOUCH_MAX_POSITION: 4.0}),
])
def test_spec_params_array_follows_kernel_layout(spec, expected):
    p = spec.params_array()
    assert p.dtype == np.float64 and p.shape == (len(expected),)
    assert {i: p[i] for i in expected} == expected
    assert spec.state_size == 0


@pytest.mark.parametrize("name,kind", [("avellaneda_stoikov", StrategyKind.AVELLANEDA_STOIKOV),
                                       ("AS", StrategyKind.AVELLANEDA_STOIKOV),
                                       ("glft", StrategyKind.GLFT), ("Grid", StrategyKind.GRID),
                                       ("imbalance", StrategyKind.IMBALANCE),
                                       ("touch", StrategyKind.TOUCH)])
def test_strategy_from_name_known_name_builds_spec(name, kind):
    params = {
        StrategyKind.AVELLANEDA_STOIKOV: {"gamma": 0.1, "k": 0.5, "order_qty": 1, "max_position": 5},
        StrategyKind.GLFT: {"gamma": 0.1, "k": 0.5, "A": 1.0, "order_qty": 1, "max_position": 5},
        StrategyKind.GRID: {"levels": 2, "step_ticks": 1, "offset_ticks": 0, "order_qty": 1,
                                "max_position": 5},
        StrategyKind.IMBALANCE: {"alpha": 1, "half_spread_ticks": 1, "order_qty": 1, "max_position": 5},
        StrategyKind.TOUCH: {"order_qty": 1, "max_position": 5},
    }[kind]
    spec = strategy_from_name(name, **params)
    assert spec.kind == kind


def test_strategy_from_name_unknown_name_raises():
    with pytest.raises(ParameterError, match="'nope'"):
        strategy_from_name("nope", order_qty=1)


def test_strategy_from_name_unknown_parameter_raises_naming_it():
    with pytest.raises(ParameterError, match="gama"):
        strategy_from_name("glft", gama=0.1, k=0.5, A=1.0, order_qty=1, max_position=5)


def test_strategy_from_name_missing_parameter_raises():
    with pytest.raises(ParameterError, match="max_position"):
        strategy_from_name("touch", order_qty=1)


def test_custom_strategy_njit_kernel_validates_and_runs():
    # Arrange
    spec = CustomStrategy(_bid_one_below, params=(2, 0.5), state_size=1, name="below")
    state = np.zeros(1)
    # Act
    n, out = decide(spec, make_view(bid_px_tick=500, ask_px_tick=501), state)
    # Assert
    assert spec.kind == StrategyKind.CUSTOM and spec.kernel is _bid_one_below
    assert spec.params == (2.0, 0.5) and spec.params_array().dtype == np.float64
    assert n == 1 and int(out[0]["px_tick"]) == 498 and out[0]["side"] == Side.BUY
    assert state[0] == 1.0


def test_custom_strategy_plain_python_function_raises():
    import numba

    if numba.config.DISABLE_JIT:
        pytest.skip("with NUMBA_DISABLE_JIT=1 every function is accepted")
    with pytest.raises(ParameterError, match="fn must be a numba"):
        CustomStrategy(_plain_python)


def test_custom_strategy_bad_return_value_raises():
    with pytest.raises(ParameterError, match="was 99"):
        CustomStrategy(_bad_return)


def test_custom_strategy_kernel_failing_on_test_view_raises():
    with pytest.raises(ParameterError, match="failed on a test view"):
        CustomStrategy(_raises)


@pytest.mark.parametrize("kwargs,field", [({"params": (1.0, math.nan)}, r"params\[1\]"),
                                          ({"params": 5}, "params"),
                                          ({"state_size": 1.5}, "state_size"),
                                          ({"state_size": -1}, "state_size"),
                                          ({"name": ""}, "name")])
def test_custom_strategy_bad_fields_raise(kwargs, field):
    with pytest.raises(ParameterError, match=field):
        CustomStrategy(_bid_one_below, **kwargs)


def test_make_view_defaults_and_unknown_field():
    v = make_view(bid_px_tick=10, ask_px_tick=13)
    assert v.dtype == VIEW_DTYPE and v["mid_tick"][0] == 11.5 and v["lot_size"][0] == 1.0
    with pytest.raises(ParameterError, match="bid_px"):
        make_view(bid_px=1)


def test_decide_bad_view_or_state_raises():
    spec = TouchMM(1, 1)
    with pytest.raises(SchemaError):
        decide(spec, np.zeros(1))
    with pytest.raises(ParameterError, match="exactly 1"):
        decide(spec, np.zeros(2, dtype=VIEW_DTYPE))
    with pytest.raises(ParameterError, match="state"):
        decide(spec, make_view(), np.zeros(3))
