"""Grid inference from the data (qlib.data.infer)."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.data.infer import (MIN_DISTINCT_GCD, UNDEF_PRICE, GridGuess, infer_step,
                             infer_step_scaled, is_multiple)
from qlib.errors import DataQualityError, ParameterError


def _parse(strings):
    return np.array([float(s) for s in strings])


# --------------------------------------------------------------------------- decimal strings
def test_infer_step_tiny_decimal_strings():
    strings = [f"{(1234 + 2 * k) * 1e-8:.8f}" for k in range(30)]  # "0.00001234", ...
    assert strings[0] == "0.00001234"
    g = infer_step(_parse(strings))
    assert g.step == pytest.approx(2e-8, rel=1e-12) and g.decimals == 8
    assert (g.distinct, g.confidence) == (30, "medium")


def test_infer_step_trailing_zeros_do_not_count():
    strings = [f"{60000 + k / 10:.8f}" for k in range(1, 121)]  # "60000.10000000", ...
    assert strings[0] == "60000.10000000"
    g = infer_step(_parse(strings))
    assert (g.step, g.decimals, g.confidence) == (0.1, 1, "high")


def test_infer_step_exponent_strings():
    strings = [repr(k * 1e-5) for k in range(1, 41)]
    assert "1e-05" in strings
    g = infer_step(_parse(strings))
    assert g.step == pytest.approx(1e-5, rel=1e-12) and g.decimals == 5


def test_infer_step_parses_strings_itself():
    strings = [f"{4799 + k * 0.25:.2f}" for k in range(40)]
    assert infer_step(strings) == infer_step(_parse(strings))
    assert infer_step(np.array(strings, dtype="S")) == infer_step(_parse(strings))


def test_infer_step_bad_string_names_it():
    with pytest.raises(DataQualityError) as ei:
        infer_step(["1.25", "1.5", "n/a"], what="prices", source="trades.csv")
    assert ei.value.row == 2 and ei.value.field == "prices"
    assert "'n/a'" in str(ei.value) and "trades.csv" in str(ei.value)


# --------------------------------------------------------------------------- grids
@pytest.mark.parametrize("n,confidence", [(100, "high"), (50, "medium"), (20, "medium")])
def test_infer_step_es_quarter_grid(n, confidence):
    rng = np.random.default_rng(n)
    ticks = rng.choice(np.arange(19_000, 20_000), size=n, replace=False)
    ticks[:2] = [19_001, 19_002]  # two neighbours: the gcd is one tick
    g = infer_step(ticks * 0.25)
    assert (g.step, g.decimals, g.distinct, g.confidence) == (0.25, 2, n, confidence)
    assert g.common_step == g.step
    assert "gcd of" in g.basis and "25 x 1e-2" in g.basis


def test_infer_step_five_cent_grid():
    g = infer_step(_parse([f"{12 + 0.05 * k:.2f}" for k in range(1, 60)]))
    assert g.step == pytest.approx(0.05) and g.decimals == 2


def test_infer_step_few_distinct_values_decimal_step_low_confidence():
    g = infer_step(np.array([4799.0, 4799.25, 4799.5, 4799.25]))
    assert MIN_DISTINCT_GCD > g.distinct == 3
    assert (g.step, g.decimals, g.confidence) == (0.01, 2, "low")
    assert g.common_step == 0.25  # the gcd is kept: all three lie on 0.25
    assert "decimal step" in g.basis and "too few" in g.basis
    assert g.holds_values_of(0.25) and not g.holds_values_of(0.5)


def test_infer_step_whole_numbers():
    g = infer_step(np.arange(1, 41) * 5.0)
    assert (g.step, g.decimals) == (5.0, 0)


def test_infer_step_ignores_non_finite_and_non_positive():
    base = np.arange(1, 31) * 0.25 + 100
    dirty = np.concatenate([base, [np.nan, np.inf, -np.inf, -0.3, 0.0, -7.0]])
    assert infer_step(dirty) == infer_step(base)


@pytest.mark.parametrize("values", [[], [np.nan, -1.0, 0.0], [-np.inf]])
def test_infer_step_nothing_left_raises(values):
    with pytest.raises(DataQualityError, match="no finite positive prices") as ei:
        infer_step(np.array(values, dtype=float), source="book.csv")
    assert ei.value.field == "prices" and "book.csv" in str(ei.value)


def test_infer_step_more_than_12_decimals_names_an_example():
    values = np.array([1.0, 2.0, 1 / 3])
    with pytest.raises(DataQualityError) as ei:
        infer_step(values, what="quantities")
    assert ei.value.value == 1 / 3 and repr(1 / 3) in str(ei.value)
    assert "12 decimals" in str(ei.value) and ei.value.field == "quantities"
    assert "np.float64" not in str(ei.value)


def test_infer_step_tiny_fraction_is_not_a_whole_number():
    # an absolute tolerance would call 1.000001 whole and the lot 1
    g = infer_step(np.array([1.000001, 2.000001, 3.000001]))
    assert g.decimals == 6 and g.step == pytest.approx(1e-6)


def test_infer_step_more_digits_than_a_double_raises():
    with pytest.raises(DataQualityError, match="double"):
        infer_step(np.array([123456789.123456789, 1.5]))


# --------------------------------------------------------------------------- fixed point
def test_infer_step_scaled_lobster_dollars_times_10000():
    prices = 5_857_000 + 100 * np.arange(150)  # $585.70 ... on the cent
    g = infer_step_scaled(prices, 10_000)
    assert (g.step, g.decimals, g.confidence) == (0.01, 2, "high")
    sub = np.append(prices, 5_857_050)  # a half-cent price (a sub-penny print)
    assert infer_step_scaled(sub, 10_000).step == 0.005


def test_infer_step_scaled_databento_1e9_skips_undef_and_non_positive():
    prices = (4799_00 + 25 * np.arange(60)) * 10_000_000  # ES in 1e-9 units, 0.25 grid
    g = infer_step_scaled(np.concatenate([prices, [UNDEF_PRICE, 0, -5]]), 1_000_000_000)
    assert (g.step, g.decimals, g.distinct) == (0.25, 2, 60)
    assert g == infer_step(prices / 1e9)


def test_infer_step_scaled_accepts_whole_floats_refuses_fractions():
    assert infer_step_scaled(np.arange(1, 30) * 100.0, 10_000).step == 0.01
    with pytest.raises(DataQualityError) as ei:
        infer_step_scaled(np.array([100.0, 100.5]), 10_000)
    assert ei.value.row == 1 and ei.value.value == 100.5


@pytest.mark.parametrize("scale", [0, -10, 12345, 1e4, True, "10000"])
def test_infer_step_scaled_bad_scale_raises_parameter_error(scale):
    with pytest.raises(ParameterError, match="power of ten"):
        infer_step_scaled(np.array([1, 2, 3]), scale)


def test_infer_step_scaled_nothing_positive_raises():
    with pytest.raises(DataQualityError, match="no positive prices"):
        infer_step_scaled(np.array([0, -1, UNDEF_PRICE]), 10_000)


# --------------------------------------------------------------------------- exact multiples
@pytest.mark.parametrize("step,tick,expected", [
    (0.3, 0.1, True), (0.25, 0.1, False), (0.1, 0.25, False), (0.25, 0.25, True),
    (61837.64, 1e-8, True), (61837.645, 0.01, False), (1 / 64, 1 / 256, True),
    (0.0078125, 0.015625, False), (0.0, 0.1, False), (float("nan"), 0.1, False),
    (0.1, float("inf"), False)])
def test_is_multiple_decimal_exact(step, tick, expected):
    assert is_multiple(step, tick) is expected


def test_grid_guess_built_by_hand_checks_its_step():
    g = GridGuess(0.25, 2, 10, "certain", "a definition record")
    assert g.common_step is None and g.holds_values_of(0.05) and not g.holds_values_of(0.1)
