"""The notebook-cell way of writing a strategy: public helpers, @strategy, named params."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba import njit

from qlib.dtypes import INTENT_DTYPE, VIEW_DTYPE
from qlib.errors import ParameterError
from qlib.strategy import (
    STRATEGIES,
    CustomStrategy,
    OrderType,
    Side,
    Tif,
    TimeInForce,
    cancel_all,
    decide,
    lots,
    make_view,
    market_ok,
    quote,
    round_ask,
    round_bid,
    strategy,
    strategy_from_name,
)
from qlib.strategy import nb as snb
from qlib.strategy.examples import skewed, skewed_mm


# ---- helpers inside njit ----------------------------------------------------------------

@njit
def _three_quotes(out):
    n = 0
    n = quote(out, n, Side.BUY, 99.7, 5.0)                   # default: LIMIT GTX, floor
    n = quote(out, n, Side.SELL, 100.2, 5.0, tif=Tif.IOC)     # ceil, IOC on request
    n = quote(out, n, Side.SELL, 0.0, 5.0, TimeInForce.GTC, OrderType.MARKET)
    n = quote(out, n, Side.BUY, 100.0, 5.0)                   # out is full: not written
    return n


def test_quote_defaults_to_post_only_and_rounds_away_from_the_inside():
    out = np.zeros(3, INTENT_DTYPE)
    assert _three_quotes(out) == 3
    assert out[0].tolist() == (99, 5.0, 1, int(OrderType.LIMIT), int(TimeInForce.GTX))
    assert out[1].tolist() == (101, 5.0, -1, int(OrderType.LIMIT), int(TimeInForce.IOC))
    assert out[2].tolist() == (0, 5.0, -1, int(OrderType.MARKET), int(TimeInForce.GTC))


@pytest.mark.parametrize("args", [(Side.BUY, 0.4, 1.0), (Side.BUY, 10.0, 0.0),
                                  (Side.SELL, float("nan"), 1.0), (Side.NONE, 10.0, 1.0),
                                  (Side.BUY, 10.0, float("inf"))])
def test_quote_writes_nothing_for_a_bad_price_quantity_or_side(args):
    out = np.zeros(2, INTENT_DTYPE)
    assert quote(out, 0, *args) == 0
    assert (out == np.zeros(2, INTENT_DTYPE)).all()


def test_quote_matches_its_python_function():
    a, b = np.zeros(2, INTENT_DTYPE), np.zeros(2, INTENT_DTYPE)
    for side, px in [(Side.BUY, 12.000000001), (Side.SELL, 11.999999999), (Side.SELL, 7.5)]:
        assert quote(a, 0, side, px, 2.0) == quote.py_func(b, 0, side, px, 2.0)
        assert a[0].tolist() == b[0].tolist()


def test_rounding_and_cancel_all():
    assert round_bid(10.9) == 10 and round_ask(10.1) == 11
    assert round_bid(11.0 - 1e-12) == 11 and round_ask(11.0 + 1e-12) == 11
    assert round_bid(0.5) == 0 and round_ask(float("nan")) == 0
    assert cancel_all(np.zeros(1, INTENT_DTYPE)) == 0
    assert lots(7.3, 2.0) == 6.0


def test_enums_are_integer_constants_in_njit():
    @njit
    def f():
        return Side.BUY + 10 * Tif.GTX + 100 * OrderType.MARKET
    assert f() == 1 + 30 + 100


# ---- @strategy ----------------------------------------------------------------------------

def _user_skewed_source():
    return inspect.getsource(skewed)


def test_skewed_market_maker_fits_in_fifteen_lines():
    body = [ln for ln in _user_skewed_source().splitlines()
            if ln.strip() and not ln.strip().startswith(("#", '"""'))]
    assert len(body) + 1 <= 15  # + the @strategy(...) line


def test_a_notebook_style_strategy_quotes_and_skews():
    @strategy(params={"half_spread": 2.0, "skew": 1.0, "qty": 10.0, "max_position": 30.0})
    def mm(view, p, state, out):
        if not market_ok(view):
            return cancel_all(out)
        v = view[0]
        fair = v["mid_tick"] - p.skew * v["position"] / p.qty
        n = quote(out, 0, Side.BUY, fair - p.half_spread, p.qty)
        return quote(out, n, Side.SELL, fair + p.half_spread, p.qty)

    assert isinstance(mm, CustomStrategy) and mm.param_names == (
        "half_spread", "skew", "qty", "max_position")
    n, rows = decide(mm, make_view(bid_px_tick=100, ask_px_tick=101, position=20.0))
    # fair = 100.5 - 2 = 98.5: bid floor(96.5) = 96, ask ceil(100.5) = 101
    assert n == 2 and rows["px_tick"].tolist() == [96, 101]
    assert rows["tif"].tolist() == [int(Tif.GTX)] * 2
    assert decide(mm, make_view(bid_px_tick=101, ask_px_tick=100))[0] == 0  # crossed


def test_with_params_changes_values_without_compiling():
    s = skewed_mm()
    s50 = s.with_params(qty=50.0, half_spread=1.0)
    assert s50.fn is s.fn and len(s.fn.overloads) == 1
    assert s50.params_dict() == {"half_spread": 1.0, "skew": 0.5, "qty": 50.0,
                                 "max_position": 500.0}
    _, rows = decide(s50, make_view(bid_px_tick=100, ask_px_tick=104))
    assert rows["qty"].tolist() == [50.0, 50.0] and rows["px_tick"].tolist() == [101, 103]
    assert len(s.fn.overloads) == 1


@pytest.mark.parametrize("bad, needle", [({"qty": float("nan")}, "qty=nan"),
                                         ({"max_position": float("inf")}, "max_position=inf")])
def test_non_finite_parameters_are_named(bad, needle):
    with pytest.raises(ParameterError, match=needle):
        skewed_mm().with_params(**bad)


def test_unknown_parameter_override_is_named():
    with pytest.raises(ParameterError, match="unknown parameter.*quantity"):
        skewed_mm().with_params(quantity=1.0)


def test_a_parameter_read_but_not_declared_is_named():
    def f(view, p, state, out):
        return quote(out, 0, Side.BUY, 10.0, p.size)

    with pytest.raises(ParameterError, match="reads parameter 'size'.*declared: qty"):
        strategy(f, params={"qty": 1.0})


@pytest.mark.parametrize("params", [{"_x": 1.0}, {"class": 1.0}, {"a b": 1.0},
                                    {"a": "1"}, {"a": True}])
def test_bad_parameter_names_and_values(params):
    with pytest.raises(ParameterError):
        strategy(lambda view, p, state, out: 0, params=params)


def test_unknown_feature_is_rejected():
    with pytest.raises(ParameterError, match="unknown feature 'vpin'"):
        strategy(lambda view, p, state, out: 0, params={}, features=("vpin",))
    s = strategy(lambda view, p, state, out: 0, params={}, features=("imbalance5", "ofi"))
    assert s.features == ("imbalance5", "ofi")


def test_njit_dispatcher_and_no_params_work():
    @strategy
    @njit
    def idle(view, p, state, out):
        return -1

    assert decide(idle, make_view(bid_px_tick=1, ask_px_tick=2))[0] == -1


# ---- the fixed signature and a first-class-function caller ---------------------------------

def test_kernel_is_compiled_for_exactly_the_fixed_signature():
    k = skewed_mm().kernel
    assert k.signatures == [snb.KERNEL_SIGNATURE.args]
    assert k.nopython_signatures[0].return_type == snb.KERNEL_SIGNATURE.return_type


_CALLER = textwrap.dedent('''
    import sys, numpy as np
    from numba import njit, types
    from qlib.dtypes import INTENT_DTYPE, VIEW_DTYPE
    from qlib.strategy import nb as snb
    from qlib.strategy.examples import skewed_mm

    @njit(types.int64(snb.KERNEL_TYPE, *snb.KERNEL_SIGNATURE.args), cache=True)
    def loop(fn, view, params, state, out):
        total = 0
        for _ in range(3):
            total += fn(view, params, state, out)
        return total

    s = skewed_mm()
    view = np.zeros(1, VIEW_DTYPE)
    view["bid_px_tick"], view["ask_px_tick"], view["mid_tick"], view["lot_size"] = 100, 102, 101.0, 1.0
    out = np.zeros(32, INTENT_DTYPE)
    print(loop(s.kernel, view, s.params_array(), np.zeros(0), out), out[0]["px_tick"],
          sum(loop.stats.cache_hits.values()), sum(loop.stats.cache_misses.values()))
''')


def test_a_cached_first_class_function_caller_runs_the_kernel(tmp_path):
    script = tmp_path / "caller.py"
    script.write_text(_CALLER)
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    import os
    env = {**os.environ, **env}
    first = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           env=env, check=True).stdout.split()
    second = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, check=True).stdout.split()
    assert first[:2] == ["6", "99"] and second[:2] == ["6", "99"]
    assert (first[2], first[3]) == ("0", "1")   # compiled and written to the cache
    assert (second[2], second[3]) == ("1", "0")  # loaded from the disk cache


# ---- the one registry -----------------------------------------------------------------------

def test_registry_is_read_only_and_resolves_aliases():
    assert list(STRATEGIES) == ["avellaneda_stoikov", "glft", "grid", "imbalance", "touch",
                                "mean_reversion"]
    assert STRATEGIES["AS"] is STRATEGIES["avellaneda_stoikov"] and "TouchMM" in STRATEGIES
    with pytest.raises(TypeError):
        STRATEGIES["x"] = None  # type: ignore[index]
    with pytest.raises(KeyError, match="unknown strategy name 'nope'"):
        STRATEGIES["nope"]
    assert strategy_from_name("mean_reversion_mm", order_qty=10).name == "mean_reversion_mm"
    with pytest.raises(ParameterError, match="missing parameter.*k, order_qty"):
        strategy_from_name("as", gamma=1.0, max_position=1.0)


def test_no_second_registry_in_specs():
    from qlib.strategy import specs
    assert not hasattr(specs, "_REGISTRY") and not hasattr(specs, "_ALIASES")


def test_view_and_intent_dtypes_match_the_signature():
    import numba
    assert snb.VIEW_ARRAY_TYPE.dtype == numba.from_dtype(VIEW_DTYPE)
    assert snb.INTENT_ARRAY_TYPE.dtype == numba.from_dtype(INTENT_DTYPE)


# ---- through the engine ----------------------------------------------------------------------

def test_a_decorated_strategy_backtests_and_with_params_reuses_the_compiled_kernel():
    import qlib.data
    from qlib.engine import backtest

    data = qlib.data.simulate(n_events=20_000, seed=3)
    s = skewed_mm(half_spread=1.0, skew=0.5, qty=100.0, max_position=500.0)
    r = backtest(data, s)
    assert r.counters["fills"] > 0
    assert r.stats()["max_abs_position"] <= 500.0 + 1e-9
    r50 = backtest(data, s.with_params(qty=50.0))
    st50 = r50.stats()
    assert r50.counters["fills"] > 0
    assert st50["traded_qty"] <= 50.0 * r50.counters["fills"] + 1e-9  # every fill <= 50
    assert r.stats()["traded_qty"] > 50.0 * r.counters["fills"] * 0.5  # the default: 100
    assert len(s.fn.overloads) == 1


def test_every_spec_says_which_features_it_reads():
    from qlib.strategy import TouchMM

    assert TouchMM(1.0, 2.0).features == ()
    assert skewed_mm().features == ()
    assert strategy(lambda view, p, state, out: 0, params={},
                    features=["microprice"]).features == ("microprice",)
