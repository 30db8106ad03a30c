"""The backtest loop's variants come from one factory, :func:`qlib.engine._loop.make_loop`.

What a variant runs is written in its source (branches on the closure constants ``L2``
and ``CUSTOM``), with no copy of the loop under swapped globals; the built-in loops close
over plain constants only, so numba can cache them on disk.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from numba.core.caching import NullCache

from qlib.book import to_l2
from qlib.data import simulate
from qlib.engine import _loop, backtest
from qlib.strategy import TouchMM

STRATEGY = TouchMM(order_qty=1, max_position=10)


@pytest.fixture(scope="module")
def md():
    return simulate(n_events=6_000, seed=5)


def test_loop_factory_no_module_swaps_globals():
    # the module that made loop copies with swapped globals is gone
    assert importlib.util.find_spec("qlib.engine._variants") is None


@pytest.mark.parametrize(("loop", "l2"),
                         [(_loop.run_loop_l2, True), (_loop.run_loop_l3, False)])
def test_loop_factory_builtin_loop_closes_over_constants_only(loop, l2):
    # Arrange: the closure of a built-in loop
    py = loop.py_func
    cells = dict(zip(py.__code__.co_freevars, (c.cell_contents for c in py.__closure__)))
    # Assert: the variant is named by plain constants (what keeps the disk cache usable)
    assert cells == {"L2": l2, "CUSTOM": False, "user_decide": None}
    assert not isinstance(loop._cache, NullCache)
    assert loop.targetoptions.get("_nrt", True) is (not l2)


def test_loop_factory_custom_kernel_gets_one_uncached_loop_per_kernel_and_kind():
    # Arrange: a user's kernel (a distinct object per definition)
    from numba import njit

    @njit
    def kernel(view, params, state, out):
        return -1

    # Act
    a = _loop.loop_for(kernel, True)
    b = _loop.loop_for(kernel, True)
    c = _loop.loop_for(kernel, False)
    # Assert: memoized per (kernel, kind); a closure over a dispatcher cannot be cached
    assert a is b
    assert a is not c
    assert isinstance(a._cache, NullCache)
    py = a.py_func
    cells = dict(zip(py.__code__.co_freevars, (x.cell_contents for x in py.__closure__)))
    assert cells["CUSTOM"] is True and cells["L2"] is True


def test_loop_factory_l2_and_l3_loops_fill_alike_on_the_same_market(md):
    # Arrange: the same market as order-level events and as their price-level form
    l3 = backtest(md, STRATEGY)
    # Act
    l2 = backtest(to_l2(md.events), STRATEGY, instrument=md.instrument)
    # Assert: the two variants see the same books, so they make the same fills
    assert len(l3.fills_array) > 0
    np.testing.assert_array_equal(l3.fills_array, l2.fills_array)
