"""Property tests of the grid inference (qlib.data.infer).

Values are generated on a true grid ``step = k * 10**-d`` as a loader sees them: decimal
strings (``"4799.25"``, ``"0.00001234"``) parsed with ``float``. Whatever the grid and
the multiples drawn, the inferred step must be the true step or a multiple of it (never
finer than the data show, never off the true grid) and every value must lie on it; and
the float and the fixed-point entry points must agree on the same values.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.data.infer import MIN_DISTINCT_GCD, infer_step, infer_step_scaled, is_multiple


def _decimal_string(units: int, d: int) -> str:
    """``units * 10**-d`` written as a plain decimal string (trailing zeros kept)."""
    s = str(units).rjust(d + 1, "0")
    return s if d == 0 else f"{s[:-d]}.{s[-d:]}"


def _on(value: float, step: float) -> bool:
    """True when the decimal behind ``value`` is a whole multiple of ``step``."""
    return Decimal(repr(float(value))) % Decimal(repr(float(step))) == 0


grids = st.tuples(st.integers(1, 50), st.integers(0, 8))              # k, d
many = st.lists(st.integers(1, 10**6), min_size=MIN_DISTINCT_GCD, max_size=80, unique=True)
any_count = st.lists(st.integers(1, 10**6), min_size=1, max_size=60, unique=True)


@settings(max_examples=300, deadline=None)
@given(grid=grids, multiples=many)
def test_infer_step_is_the_true_step_or_a_multiple_and_holds_every_value(grid, multiples):
    k, d = grid
    true_step = float(_decimal_string(k, d))
    values = np.array([float(_decimal_string(m * k, d)) for m in multiples])
    g = infer_step(values)
    assert g.distinct == len(multiples)
    assert is_multiple(g.step, true_step)          # never finer than the grid, never off it
    assert all(_on(v, g.step) for v in values)     # never too coarse to hold a value
    assert g.decimals <= d and g.common_step == g.step
    # the step is exactly the gcd of the multiples times the true step
    assert is_multiple(g.step, true_step * int(np.gcd.reduce(np.array(multiples))))


@settings(max_examples=300, deadline=None)
@given(grid=grids, multiples=any_count)
def test_infer_step_on_a_known_tick_is_a_multiple_of_it(grid, multiples):
    k, d = grid
    tick = float(_decimal_string(k, d))
    values = np.array([float(_decimal_string(m * k, d)) for m in multiples])
    g = infer_step(values)
    assert g.holds_values_of(tick)                  # the gcd, whatever the count
    assert is_multiple(g.common_step, tick)
    if g.distinct >= MIN_DISTINCT_GCD:
        assert is_multiple(g.step, tick)
    else:                                           # the decimal step: finer, never coarser
        assert g.confidence == "low" and all(_on(v, g.step) for v in values)


@settings(max_examples=300, deadline=None)
@given(units=st.lists(st.integers(1, 10**12), min_size=1, max_size=60),
       scale_exp=st.integers(0, 9))
def test_infer_step_and_infer_step_scaled_agree(units, scale_exp):
    scale = 10**scale_exp
    floats = np.array([float(_decimal_string(u, scale_exp)) for u in units])
    a = infer_step(floats)
    b = infer_step_scaled(np.array(units, dtype=np.int64), scale)
    assert (a.step, a.decimals, a.distinct, a.confidence, a.common_step) == \
        (b.step, b.decimals, b.distinct, b.confidence, b.common_step)
