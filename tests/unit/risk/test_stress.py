"""qlib.risk.stress: scenarios, their loading, full-revaluation stress tests, worst interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.enums import OptionRight
from qlib.errors import DataNotFoundError, DataQualityError, InsufficientDataError, ParameterError
from qlib.risk import (
    OptionContract,
    Scenario,
    bsm_price,
    greeks_ladder,
    load_scenarios,
    scenarios_from_dict,
    stress_test,
    worst_interval,
)

ASOF = pd.Timestamp("2026-01-02", tz="UTC")
CALL, PUT = int(OptionRight.CALL), int(OptionRight.PUT)


@pytest.fixture
def book():
    contracts = {
        "SPY_C100": OptionContract("SPY.ARCA", 100.0, ASOF + pd.Timedelta(days=365), CALL, 100.0),
        "SPY_P95": OptionContract("SPY.ARCA", 95.0, ASOF + pd.Timedelta(days=73), PUT, 100.0),
    }
    positions = pd.DataFrame({
        "instrument_id": ["SPY_C100", "SPY_P95", "SPY.ARCA", "QQQ.NASDAQ"],
        "qty": [10.0, -5.0, -300.0, 50.0],
        "vol": [0.2, 0.25, np.nan, np.nan],
    })
    spot = {"SPY.ARCA": 100.0, "QQQ.NASDAQ": 400.0}
    return positions, contracts, spot


# --- scenarios -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kw", "match"), [
    ({"spot_shock": -1.0}, "spot_shock must be > -1"),
    ({"spot_shocks": {"A.X": -1.5}}, r"spot_shocks\['A.X'\]"),
    ({"vol_scale": 0.0}, "vol_scale"),
    ({"days": -1.0}, "days"),
    ({"vol_shift": float("nan")}, "vol_shift must be finite"),
    ({"rate_shift": "1bp"}, "rate_shift must be a number"),
    ({"name": ""}, "name"),
])
def test_scenario_bad_field_raises(kw, match):
    args = {"name": "s"}
    args.update(kw)
    with pytest.raises(ParameterError, match=match):
        Scenario(**args)


def test_scenario_spot_shocks_are_read_only():
    sc = Scenario("s", spot_shocks={"A.X": -0.1})
    with pytest.raises(TypeError):
        sc.spot_shocks["A.X"] = 0.0  # type: ignore[index]


def test_scenarios_from_dict_round_trips_to_dict():
    scs = [Scenario("crash", spot_shock=-0.2, vol_shift=0.1, days=1.0),
           Scenario("one", spot_shocks={"QQQ.NASDAQ": -0.3}, rate_shift=0.01)]
    back = scenarios_from_dict({"scenarios": [s.to_dict() for s in scs]})
    assert back == scs


def test_scenarios_from_dict_unknown_key_raises():
    with pytest.raises(ParameterError, match=r"unknown scenario key\(s\) \['spot'\]"):
        scenarios_from_dict([{"name": "x", "spot": -0.1}])


def test_scenarios_from_dict_duplicate_names_raise():
    with pytest.raises(ParameterError, match="duplicate scenario name 'x'"):
        scenarios_from_dict([{"name": "x"}, {"name": "x", "spot_shock": 0.1}])


def test_scenarios_from_dict_missing_name_raises():
    with pytest.raises(ParameterError, match="has no 'name'"):
        scenarios_from_dict([{"spot_shock": 0.1}])


def test_load_scenarios_reads_yaml(tmp_path):
    f = tmp_path / "scen.yaml"
    f.write_text(
        "scenarios:\n"
        "  - {name: crash, spot_shock: -0.2, vol_shift: 0.15}\n"
        "  - name: qqq_only\n"
        "    spot_shocks: {QQQ.NASDAQ: -0.3}\n"
        "    days: 1\n"
    )
    scs = load_scenarios(f)
    assert [s.name for s in scs] == ["crash", "qqq_only"]
    assert scs[0].vol_shift == 0.15 and scs[1].spot_shocks == {"QQQ.NASDAQ": -0.3}
    assert scs[1].days == 1.0


def test_load_scenarios_missing_file_raises(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_scenarios(tmp_path / "nope.yaml")


def test_load_scenarios_bad_yaml_raises(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("scenarios: [ {name: x\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_scenarios(f)


# --- stress_test -----------------------------------------------------------------------------


def test_stress_test_null_scenario_has_zero_pnl(book):
    positions, contracts, spot = book
    df = stress_test(positions, contracts, spot, [Scenario("null")], rate=0.05, asof=ASOF)
    assert df.loc["null", "pnl"] == 0.0
    assert df.loc["null", "value_base"] == df.loc["null", "value_stressed"]


def test_stress_test_underlyings_are_linear(book):
    positions, contracts, spot = book
    sc = Scenario("qqq", spot_shocks={"QQQ.NASDAQ": -0.3, "UNHELD.X": 0.5})
    df = stress_test(positions, contracts, spot, [sc], rate=0.05, asof=ASOF)
    assert df.loc["qqq", "pnl_underlyings"] == pytest.approx(50 * 400.0 * -0.3)
    assert df.loc["qqq", "pnl_options"] == 0.0


def test_stress_test_options_fully_revalued_with_bsm(book):
    positions, contracts, spot = book
    sc = Scenario("crash", spot_shock=-0.2, vol_scale=1.5, vol_shift=0.05, rate_shift=-0.01, days=10)
    df = stress_test(positions, contracts, spot, [sc], rate=0.05, asof=ASOF, div_yield=0.01)
    k = np.array([100.0, 95.0])
    t0 = np.array([1.0, 0.2])
    v0 = np.array([0.2, 0.25])
    w = [CALL, PUT]
    base = bsm_price(100.0, k, t0, 0.05, 0.01, v0, w)
    new = bsm_price(80.0, k, t0 - 10 / 365, 0.04, 0.01, v0 * 1.5 + 0.05, w)
    expected = 1000 * (new[0] - base[0]) - 500 * (new[1] - base[1])
    assert df.loc["crash", "pnl_options"] == pytest.approx(expected, rel=1e-12)
    assert df.loc["crash", "pnl_underlyings"] == pytest.approx(-300 * -20.0 + 50 * 400 * -0.2)
    assert df.loc["crash", "pnl"] == pytest.approx(expected + 6000.0 - 4000.0)


def test_stress_test_horizon_past_expiry_pays_intrinsic(book):
    positions, contracts, spot = book
    sc = Scenario("expire_put", spot_shock=-0.2, days=100)
    df = stress_test(positions.iloc[[1]], contracts, spot, [sc], rate=0.05, asof=ASOF)
    base = bsm_price(100.0, 95.0, 0.2, 0.05, 0.0, 0.25, PUT)[0]
    assert df.loc["expire_put", "value_stressed"] == pytest.approx(-500 * 15.0)
    assert df.loc["expire_put", "pnl"] == pytest.approx(-500 * (15.0 - base))


def test_stress_test_negative_vol_is_floored_to_deterministic_value(book):
    positions, contracts, spot = book
    df = stress_test(positions.iloc[[0]], contracts, spot, [Scenario("v", vol_shift=-1.0)],
                     rate=0.05, asof=ASOF)
    assert df.loc["v", "value_stressed"] == pytest.approx(1000 * (100.0 - 100.0 * np.exp(-0.05)))


def test_stress_test_matches_ladder_for_pure_spot_shock(book):
    positions, contracts, spot = book
    lad = greeks_ladder(positions, contracts, spot, rate=0.05, asof=ASOF, spot_shifts=[-0.05])
    df = stress_test(positions, contracts, spot, [Scenario("dn5", spot_shock=-0.05)],
                     rate=0.05, asof=ASOF)
    assert df.loc["dn5", "pnl"] == pytest.approx(lad["pnl"].sum(), rel=1e-12)


def test_stress_test_empty_or_duplicate_scenarios_raise(book):
    positions, contracts, spot = book
    with pytest.raises(ParameterError, match="empty"):
        stress_test(positions, contracts, spot, [], rate=0.05, asof=ASOF)
    with pytest.raises(ParameterError, match="duplicate"):
        stress_test(positions, contracts, spot, [Scenario("a"), Scenario("a")], rate=0.05, asof=ASOF)


# --- worst_interval --------------------------------------------------------------------------


def test_worst_interval_finds_planted_crash():
    rng = np.random.default_rng(3)
    r = rng.normal(0.0, 0.001, 500)
    r[200:205] = -0.02
    idx = pd.date_range("2026-01-02 14:30", periods=500, freq="min", tz="UTC")
    sc = worst_interval(pd.Series(r, index=idx), 5)
    assert sc.spot_shock == pytest.approx(0.98**5 - 1)
    assert sc.name == "worst_5"
    assert str(idx[200]) in sc.description and str(idx[204]) in sc.description


def test_worst_interval_frame_replays_common_window_with_weights():
    r = pd.DataFrame({"A.X": [0.0, -0.10, 0.0, 0.0], "B.X": [0.0, 0.0, 0.0, -0.05]})
    equal = worst_interval(r, 1, name="w")
    assert dict(equal.spot_shocks) == pytest.approx({"A.X": -0.10, "B.X": 0.0})
    tilted = worst_interval(r, 1, weights={"A.X": 0.1, "B.X": 1.0})
    assert dict(tilted.spot_shocks) == pytest.approx({"A.X": 0.0, "B.X": -0.05})


def test_worst_interval_too_short_raises():
    with pytest.raises(InsufficientDataError, match="3 rows, needed at least length = 5"):
        worst_interval(pd.Series([0.01, 0.02, -0.01]), 5)


def test_worst_interval_nan_return_raises_naming_row():
    with pytest.raises(DataQualityError, match=r"row 1.*was nan"):
        worst_interval(pd.Series([0.01, np.nan, -0.01]), 2)


@pytest.mark.parametrize("length", [0, -3, 2.5, True])
def test_worst_interval_bad_length_raises(length):
    with pytest.raises(ParameterError, match="length"):
        worst_interval(pd.Series([0.01, 0.02]), length)


def test_worst_interval_weights_mismatch_raises():
    r = pd.DataFrame({"A.X": [0.0, -0.1], "B.X": [0.0, 0.0]})
    with pytest.raises(ParameterError, match="mismatched"):
        worst_interval(r, 1, weights={"A.X": 1.0})
