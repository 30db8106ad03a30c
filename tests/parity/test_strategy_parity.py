"""Every strategy kernel agrees with its own .py_func on many random views."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from qlib.dtypes import INTENT_DTYPE, VIEW_DTYPE
from qlib.strategy import GLFT, AvellanedaStoikov, GridMM, ImbalanceMM, TouchMM
from qlib.strategy import _kernels as K

N_VIEWS = 400
SPECS = [
    AvellanedaStoikov(0.05, 0.4, 2.0, 10.0, min_spread_ticks=1.0),
    GLFT(0.05, 0.4, 1.3, 2.0, 10.0),
    GridMM(5, 2.0, 0.5, 1.5, 9.0, skew_ticks=0.7),
    GridMM(3, 1.0, 0.0, 1.0, 4.0, skew_ticks=3.0, anchor="touch"),
    ImbalanceMM(0.8, 1.5, 1.0, 6.0, skew_ticks=0.4),
    TouchMM(1.0, 5.0),
]


def _random_views(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = np.zeros(N_VIEWS, dtype=VIEW_DTYPE)
    bid = rng.integers(1, 100_000, N_VIEWS)
    ask = bid + rng.integers(1, 40, N_VIEWS)
    empty = rng.random(N_VIEWS) < 0.05
    bid[empty & (rng.random(N_VIEWS) < 0.5)] = 0
    ask[empty & (bid > 0)] = 0
    v["bid_px_tick"], v["ask_px_tick"] = bid, ask
    v["mid_tick"] = np.where((bid > 0) & (ask > 0), 0.5 * (bid + ask), 0.0)
    v["sigma_tick"] = rng.exponential(2.0, N_VIEWS) * (rng.random(N_VIEWS) < 0.9)
    v["ts_local"] = rng.integers(0, 3600, N_VIEWS) * 10**9
    v["ts_end"] = 3600 * 10**9
    v["position"] = rng.integers(-15, 16, N_VIEWS) * rng.choice([0.5, 1.0, 1.5], N_VIEWS)
    v["bid_depth"] = rng.exponential(50.0, N_VIEWS)
    v["ask_depth"] = rng.exponential(50.0, N_VIEWS)
    v["lot_size"] = rng.choice([0.0, 0.1, 0.5, 1.0], N_VIEWS)
    v["tick_size"] = 0.01
    v["killed"] = rng.random(N_VIEWS) < 0.02
    return v


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: repr(s))
def test_kernel_matches_py_func_on_random_views(spec):
    views = _random_views(zlib.crc32(repr(spec).encode()))
    params = spec.params_array()
    quoted = 0
    for i in range(N_VIEWS):
        view = views[i:i + 1]
        a = np.zeros(K.MAX_INTENTS, dtype=INTENT_DTYPE)
        b = np.zeros(K.MAX_INTENTS, dtype=INTENT_DTYPE)
        sa, sb = np.zeros(0), np.zeros(0)
        na = spec.kernel(view, params, sa, a)
        nb = spec.kernel.py_func(view, params, sb, b)
        assert na == nb, (i, views[i])
        assert np.array_equal(a, b), (i, views[i])
        quoted += na > 0
    assert quoted > N_VIEWS // 2


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: repr(s))
def test_decide_builtin_matches_py_func(spec):
    views = _random_views(7)
    params = spec.params_array()
    for i in range(0, N_VIEWS, 7):
        a = np.zeros(K.MAX_INTENTS, dtype=INTENT_DTYPE)
        b = np.zeros(K.MAX_INTENTS, dtype=INTENT_DTYPE)
        na = K.decide_builtin(int(spec.kind), views[i:i + 1], params, np.zeros(0), a)
        nb = K.decide_builtin.py_func(int(spec.kind), views[i:i + 1], params, np.zeros(0), b)
        assert na == nb and np.array_equal(a, b)


def test_helper_kernels_match_py_func():
    for q, lot in [(1.7, 0.5), (3.0, 0.1), (0.3, 1.0), (2.0, 0.0)]:
        assert K.lots(q, lot) == K.lots.py_func(q, lot)
    for args in [(0.05, 0.4, 1.3), (1.0, 0.01, 5.0), (0.001, 10.0, 0.2)]:
        assert K.glft_coefficients(*args) == pytest.approx(K.glft_coefficients.py_func(*args),
                                                           rel=1e-14)
    for b, a in [(3.0, 1.0), (0.0, 0.0), (-1.0, 2.0)]:
        assert K.imbalance_signal(b, a) == K.imbalance_signal.py_func(b, a)


def test_user_strategy_kernel_matches_its_plain_python_function():
    """The @strategy kernel (trampoline + user function, compiled) equals the user's
    function run as Python with a named tuple of the parameters."""
    from collections import namedtuple

    from qlib.strategy.examples import SKEWED_PARAMS, skewed, skewed_mm

    spec = skewed_mm(half_spread=1.5, skew=0.7, qty=2.0, max_position=9.0)
    P = namedtuple("P", list(SKEWED_PARAMS))
    p = P(*spec.params)
    views = _random_views(11)
    quoted = 0
    for i in range(N_VIEWS):
        a = np.zeros(K.MAX_INTENTS, dtype=INTENT_DTYPE)
        b = np.zeros(K.MAX_INTENTS, dtype=INTENT_DTYPE)
        na = spec.kernel(views[i:i + 1], spec.params_array(), np.zeros(0), a)
        nb = skewed(views[i:i + 1], p, np.zeros(0), b)
        assert na == nb and np.array_equal(a, b), (i, views[i])
        quoted += na > 0
    assert quoted > N_VIEWS // 2


def test_public_helpers_match_py_func():
    from qlib.strategy import Side, quote, round_ask, round_bid

    rng = np.random.default_rng(3)
    for x in np.concatenate([rng.uniform(-5, 1e6, 200), [1.0, 2.0 - 1e-12, np.nan, np.inf]]):
        assert round_bid(x) == round_bid.py_func(x) and round_ask(x) == round_ask.py_func(x)
        for side in (Side.BUY, Side.SELL):
            a = np.zeros(2, dtype=INTENT_DTYPE)
            b = np.zeros(2, dtype=INTENT_DTYPE)
            assert quote(a, 1, side, x, 3.0) == quote.py_func(b, 1, side, x, 3.0)
            assert np.array_equal(a, b)
