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


@pytest.mark.parametrize(("loop", "l2", "custom"),
                         [(_loop.run_loop_l2, True, False), (_loop.run_loop_l3, False, False),
                          (_loop.run_loop_l2_custom, True, True),
                          (_loop.run_loop_l3_custom, False, True)])
def test_loop_factory_every_loop_closes_over_constants_only(loop, l2, custom):
    # Arrange: the closure of a loop
    py = loop.py_func
    cells = dict(zip(py.__code__.co_freevars, (c.cell_contents for c in py.__closure__)))
    # Assert: the variant is named by plain constants (what keeps the disk cache usable)
    assert cells == {"L2": l2, "CUSTOM": custom}
    assert not isinstance(loop._cache, NullCache)
    assert loop.targetoptions.get("_nrt", True) is (not l2)


def test_loop_factory_custom_loop_is_one_per_kind_whatever_the_kernel():
    # Arrange: two user kernels (distinct objects, distinct definitions)
    from numba import njit

    @njit
    def k1(view, params, state, out):
        return -1

    @njit
    def k2(view, params, state, out):
        return 0

    # Act
    a1 = _loop.loop_for(True, True)
    a2 = _loop.loop_for(True, True)
    b = _loop.loop_for(True, False)
    # Assert: the loop does not depend on the kernel; the kernel is an argument
    assert a1 is a2 and a1 is not b
    assert isinstance(a1, _loop.FnLoop)
    assert _loop.as_kernel(k1) is k1 and _loop.as_kernel(k2) is k2
    from qlib.strategy.nb import KERNEL_SIGNATURE
    assert tuple(KERNEL_SIGNATURE.args) in [tuple(s) for s in k1.signatures]


def test_loop_factory_custom_loop_is_typed_by_signature_not_by_kernel(md):
    # Arrange: two kernels of the same signature, run on the same market
    from numba import njit

    @njit
    def keep(view, params, state, out):
        return -1

    @njit
    def flat(view, params, state, out):
        return 0

    loop = _loop.loop_for(True, False).loop
    # Act
    backtest(md, keep)
    n_after_first = len(loop.signatures)
    backtest(md, flat)
    # Assert: the second kernel compiled no new loop overload
    assert len(loop.signatures) == n_after_first
    from qlib.strategy.nb import KERNEL_TYPE
    assert all(sig[-1] == KERNEL_TYPE for sig in loop.signatures)


def test_loop_factory_kernel_that_cannot_take_the_signature_is_refused(md):
    # Arrange: a kernel whose body does not type for the engine's arguments
    from numba import njit

    from qlib.errors import ParameterError

    @njit
    def bad(view, params, state, out):
        return view[0]["no_such_field"]

    # Act / Assert: the message names the strategy and the signature
    with pytest.raises(ParameterError, match="does not compile for the engine's signature"):
        _loop.as_kernel(bad, "bad")


def test_loop_factory_l2_and_l3_loops_fill_alike_on_the_same_market(md):
    # Arrange: the same market as order-level events and as their price-level form
    l3 = backtest(md, STRATEGY)
    # Act
    l2 = backtest(to_l2(md.events), STRATEGY, instrument=md.instrument)
    # Assert: the two variants see the same books, so they make the same fills
    assert len(l3.fills_array) > 0
    np.testing.assert_array_equal(l3.fills_array, l2.fills_array)
