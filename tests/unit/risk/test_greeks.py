"""qlib.risk.greeks: BSM prices and Greeks, implied vol, portfolio Greeks and ladders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.enums import IvStatus, OptionRight
from qlib.errors import DataQualityError, ParameterError, SchemaError
from qlib.risk import (
    OptionContract,
    bsm_greeks,
    bsm_price,
    greeks_ladder,
    implied_vol,
    implied_vol_with_status,
    portfolio_greeks,
)
from qlib.risk.greeks import year_fraction

ASOF = pd.Timestamp("2026-01-02", tz="UTC")
CALL, PUT = int(OptionRight.CALL), int(OptionRight.PUT)


# --- single-option formulas ------------------------------------------------------------------


def test_bsm_price_hull_example_matches_textbook_values():
    # Hull (2018), Example 15.6: S=42, K=40, r=10 %, sigma=20 %, T=0.5 -> c=4.76, p=0.81
    px = bsm_price(42.0, 40.0, 0.5, 0.10, 0.0, 0.20, [CALL, PUT])
    assert px[0] == pytest.approx(4.7594, abs=1e-4)
    assert px[1] == pytest.approx(0.8086, abs=1e-4)


@pytest.mark.parametrize("q", [0.0, 0.03, -0.01])
def test_bsm_price_put_call_parity_holds(q):
    k = np.linspace(50, 150, 21)
    c = bsm_price(100.0, k, 0.75, 0.04, q, 0.3, CALL)
    p = bsm_price(100.0, k, 0.75, 0.04, q, 0.3, PUT)
    np.testing.assert_allclose(c - p, 100.0 * np.exp(-q * 0.75) - k * np.exp(-0.04 * 0.75),
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("right", [CALL, PUT])
@pytest.mark.parametrize("k", [80.0, 100.0, 125.0])
def test_bsm_greeks_match_central_finite_differences(right, k):
    s, t, r, q, v = 100.0, 0.6, 0.03, 0.01, 0.25
    g = bsm_greeks(s, k, t, r, q, v, right).iloc[0]

    def px(**kw):
        a = {"spot": s, "strike": k, "time": t, "rate": r, "div_yield": q, "vol": v, "right": right}
        a.update(kw)
        return float(bsm_price(**a)[0])

    h = 1e-3
    assert g["price"] == pytest.approx(px())
    assert g["delta"] == pytest.approx((px(spot=s + h) - px(spot=s - h)) / (2 * h), abs=1e-7)
    assert g["gamma"] == pytest.approx((px(spot=s + h) - 2 * px() + px(spot=s - h)) / h**2, abs=1e-5)
    assert g["vega"] == pytest.approx((px(vol=v + 1e-5) - px(vol=v - 1e-5)) / 2e-5, rel=1e-7)
    # theta is dV/dt in calendar years, i.e. -dV/dT
    assert g["theta"] == pytest.approx(-(px(time=t + 1e-5) - px(time=t - 1e-5)) / 2e-5, rel=1e-6)
    assert g["rho"] == pytest.approx((px(rate=r + 1e-6) - px(rate=r - 1e-6)) / 2e-6, rel=1e-6)


def test_bsm_greeks_zero_vol_returns_deterministic_limit():
    g = bsm_greeks(100.0, [90.0, 110.0], 1.0, 0.05, 0.0, 0.0, CALL)
    assert g["price"].iloc[0] == pytest.approx(100.0 - 90.0 * np.exp(-0.05))
    assert g["delta"].iloc[0] == 1.0
    assert g["price"].iloc[1] == 0.0 and g["delta"].iloc[1] == 0.0
    assert (g["gamma"] == 0).all() and (g["vega"] == 0).all()


def test_bsm_greeks_expired_option_is_intrinsic():
    g = bsm_greeks([90.0, 110.0], 100.0, 0.0, 0.05, 0.0, 0.3, PUT)
    assert list(g["price"]) == [10.0, 0.0]
    assert list(g["delta"]) == [-1.0, 0.0]


def test_bsm_price_negative_spot_raises_naming_row():
    with pytest.raises(DataQualityError, match=r"spot\[1\] was -1.0"):
        bsm_price([100.0, -1.0], 100.0, 1.0, 0.0, 0.0, 0.2, CALL)


def test_bsm_price_nan_vol_raises():
    with pytest.raises(DataQualityError, match=r"vol\[0\] was nan"):
        bsm_price(100.0, 100.0, 1.0, 0.0, 0.0, np.nan, CALL)


def test_bsm_price_bad_right_raises():
    with pytest.raises(ParameterError, match=r"right\[1\] was 0"):
        bsm_price(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, [1, 0])
    with pytest.raises(ParameterError, match="'straddle'"):
        bsm_price(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, "straddle")


def test_bsm_price_shape_mismatch_raises():
    with pytest.raises(ParameterError, match="broadcast"):
        bsm_price(np.ones(3) * 100, np.ones(2) * 100, 1.0, 0.0, 0.0, 0.2, CALL)


def test_bsm_price_string_rights_accepted():
    a = bsm_price(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, ["call", "P"])
    b = bsm_price(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, [CALL, PUT])
    assert np.array_equal(a, b)


# --- implied vol -----------------------------------------------------------------------------


def test_implied_vol_round_trip_recovers_vol_on_grid():
    k = np.repeat([60.0, 90.0, 100.0, 110.0, 160.0], 8)
    vol = np.tile([0.02, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 0.05], 5)
    w = np.where(k < 100, PUT, CALL)
    px = bsm_price(100.0, k, 0.5, 0.02, 0.01, vol, w)
    keep = px > 1e-8 * 100  # below that the price carries no information about vol
    iv = implied_vol(px[keep], 100.0, k[keep], 0.5, 0.02, 0.01, w[keep])
    np.testing.assert_allclose(iv, vol[keep], rtol=1e-8)


@pytest.mark.parametrize(("k", "t", "v", "right"), [
    (140.0, 0.2, 0.07, CALL),  # deep out of the money: price ~4e-27, Newton on log price
    (60.0, 0.1, 0.1, PUT),  # price ~3e-60
    (40.0, 1.0, 0.3, CALL),  # deep in the money: solved on the out-of-the-money twin
    (250.0, 2.0, 0.4, PUT),
])
def test_implied_vol_extreme_moneyness_converges(k, t, v, right):
    px = bsm_price(100.0, k, t, 0.02, 0.0, v, right)
    vol, status = implied_vol_with_status(px, 100.0, k, t, 0.02, 0.0, right)
    assert status[0] == IvStatus.OK
    assert vol[0] == pytest.approx(v, rel=1e-6)


def test_implied_vol_below_intrinsic_raises_with_bounds():
    with pytest.raises(DataQualityError, match="BELOW_LOWER_BOUND.*bounds"):
        implied_vol(5.0, 110.0, 100.0, 1.0, 0.0, 0.0, CALL)


def test_implied_vol_with_status_flags_each_failure():
    vol, status = implied_vol_with_status(
        [4.0, 120.0, 10.0, np.nan, 10.0], [100.0, 100.0, 100.0, 100.0, 100.0],
        [100.0, 100.0, 100.0, 100.0, 100.0], [1.0, 1.0, 1.0, 1.0, -1.0], 0.05, 0.0, CALL)
    assert list(status) == [IvStatus.BELOW_LOWER_BOUND, IvStatus.ABOVE_UPPER_BOUND,
                            IvStatus.OK, IvStatus.BAD_INPUT, IvStatus.BAD_INPUT]
    assert np.isnan(vol[[0, 1, 3, 4]]).all() and np.isfinite(vol[2])


def test_implied_vol_bad_tolerance_raises():
    with pytest.raises(ParameterError, match="tol"):
        implied_vol(10.0, 100.0, 100.0, 1.0, 0.0, 0.0, CALL, tol=0.5)


# --- QuantLib cross-checks -------------------------------------------------------------------


def _ql_option(ql, s, k, days, r, q, v, right):
    today = ql.Date(2, 1, 2026)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    proc = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(s)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, q, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), v, dc)),
    )
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if right == CALL else ql.Option.Put, k)
    opt = ql.VanillaOption(payoff, ql.EuropeanExercise(today + days))
    opt.setPricingEngine(ql.AnalyticEuropeanEngine(proc))
    return opt, proc


@pytest.mark.parametrize("right", [CALL, PUT])
@pytest.mark.parametrize(("k", "days", "v"), [(90.0, 30, 0.15), (100.0, 365, 0.3), (130.0, 730, 0.6)])
def test_bsm_greeks_agree_with_quantlib(right, k, days, v):
    ql = pytest.importorskip("QuantLib")
    s, r, q = 100.0, 0.04, 0.015
    opt, _ = _ql_option(ql, s, k, days, r, q, v, right)
    g = bsm_greeks(s, k, days / 365.0, r, q, v, right).iloc[0]
    assert g["price"] == pytest.approx(opt.NPV(), rel=1e-10, abs=1e-12)
    assert g["delta"] == pytest.approx(opt.delta(), rel=1e-10, abs=1e-12)
    assert g["gamma"] == pytest.approx(opt.gamma(), rel=1e-10)
    assert g["vega"] == pytest.approx(opt.vega(), rel=1e-10)  # both per 1.00 of vol
    assert g["theta"] == pytest.approx(opt.theta(), rel=1e-10)  # both per year
    assert g["rho"] == pytest.approx(opt.rho(), rel=1e-10)  # both per 1.00 of rate


@pytest.mark.parametrize("right", [CALL, PUT])
def test_implied_vol_agrees_with_quantlib(right):
    ql = pytest.importorskip("QuantLib")
    opt, proc = _ql_option(ql, 100.0, 105.0, 180, 0.03, 0.0, 0.2, right)
    target = 0.37
    px = float(bsm_price(100.0, 105.0, 180 / 365.0, 0.03, 0.0, target, right)[0])
    ql_iv = opt.impliedVolatility(px, proc, 1e-12, 500, 1e-4, 4.0)
    ours = implied_vol(px, 100.0, 105.0, 180 / 365.0, 0.03, 0.0, right)[0]
    assert ours == pytest.approx(target, rel=1e-10)
    assert ours == pytest.approx(ql_iv, rel=1e-8)


# --- contracts and books ---------------------------------------------------------------------


def test_option_contract_normalises_expiry_and_right():
    c = OptionContract("SPY.ARCA", 100.0, "2026-03-20", "put", 100.0)
    assert c.expiry == pd.Timestamp("2026-03-20", tz="UTC").value
    assert c.right is OptionRight.PUT


@pytest.mark.parametrize(("kw", "match"), [
    ({"strike": -1.0}, "strike"),
    ({"multiplier": 0.0}, "multiplier"),
    ({"style": "american"}, "style"),
    ({"right": 2}, "right"),
    ({"expiry": "not a date"}, "expiry"),
])
def test_option_contract_bad_terms_raise(kw, match):
    args = {"underlying_id": "SPY.ARCA", "strike": 100.0, "expiry": ASOF, "right": CALL}
    args.update(kw)
    with pytest.raises(ParameterError, match=match):
        OptionContract(**args)


def test_year_fraction_is_act_365():
    assert year_fraction(ASOF, ASOF + pd.Timedelta(days=73)) == pytest.approx(0.2)


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


def test_portfolio_greeks_sums_positions_with_multipliers(book):
    positions, contracts, spot = book
    df = portfolio_greeks(positions, contracts, spot, rate=0.05, asof=ASOF, div_yield=0.01)
    c = bsm_greeks(100.0, 100.0, 1.0, 0.05, 0.01, 0.2, CALL).iloc[0]
    p = bsm_greeks(100.0, 95.0, 0.2, 0.05, 0.01, 0.25, PUT).iloc[0]
    spy = df.loc["SPY.ARCA"]
    assert spy["delta"] == pytest.approx(1000 * c["delta"] - 500 * p["delta"] - 300)
    assert spy["value"] == pytest.approx(1000 * c["price"] - 500 * p["price"] - 30_000)
    assert spy["delta_cash"] == pytest.approx(spy["delta"] * 100.0)
    assert spy["gamma_cash_1pct"] == pytest.approx((1000 * c["gamma"] - 500 * p["gamma"]) * 100.0)
    assert spy["vega_1pt"] == pytest.approx((1000 * c["vega"] - 500 * p["vega"]) / 100)
    assert spy["theta_1d"] == pytest.approx((1000 * c["theta"] - 500 * p["theta"]) / 365)
    assert spy["rho_1pt"] == pytest.approx((1000 * c["rho"] - 500 * p["rho"]) / 100)
    qqq = df.loc["QQQ.NASDAQ"]
    assert (qqq["delta"], qqq["value"], qqq["gamma"], qqq["vega_1pt"]) == (50.0, 20_000.0, 0.0, 0.0)


def test_portfolio_greeks_by_position_keeps_rows(book):
    positions, contracts, spot = book
    df = portfolio_greeks(positions, contracts, spot, rate=0.05, asof=ASOF, by="position")
    assert list(df["instrument_id"]) == list(positions["instrument_id"])
    agg = portfolio_greeks(positions, contracts, spot, rate=0.05, asof=ASOF)
    assert df["delta"].sum() == pytest.approx(agg["delta"].sum())


def test_portfolio_greeks_missing_spot_raises(book):
    positions, contracts, _ = book
    with pytest.raises(ParameterError, match="spot has no entry for 'QQQ.NASDAQ'"):
        portfolio_greeks(positions, contracts, {"SPY.ARCA": 100.0}, rate=0.05, asof=ASOF)


def test_portfolio_greeks_option_without_vol_raises(book):
    positions, contracts, spot = book
    with pytest.raises(DataQualityError, match="vol was nan for option 'SPY_P95'"):
        portfolio_greeks(positions.assign(vol=[0.2, np.nan, np.nan, np.nan]), contracts, spot,
                         rate=0.05, asof=ASOF)


def test_portfolio_greeks_missing_column_raises(book):
    positions, contracts, spot = book
    with pytest.raises(SchemaError, match="'qty'"):
        portfolio_greeks(positions.drop(columns="qty"), contracts, spot, rate=0.05, asof=ASOF)


def test_portfolio_greeks_expired_option_raises(book):
    positions, contracts, spot = book
    with pytest.raises(DataQualityError, match="SPY_P95.*expired"):
        portfolio_greeks(positions, contracts, spot, rate=0.05, asof=ASOF + pd.Timedelta(days=80))


def test_greeks_ladder_zero_shift_has_zero_pnl_and_base_greeks(book):
    positions, contracts, spot = book
    lad = greeks_ladder(positions, contracts, spot, rate=0.05, asof=ASOF)
    base = portfolio_greeks(positions, contracts, spot, rate=0.05, asof=ASOF)
    for und in ("SPY.ARCA", "QQQ.NASDAQ"):
        row = lad.loc[(und, 0.0)]
        assert row["pnl"] == 0.0
        assert row["delta"] == pytest.approx(base.loc[und, "delta"])
    assert lad.loc[("QQQ.NASDAQ", 0.1), "pnl"] == pytest.approx(50 * 40.0)
    assert lad.loc[("SPY.ARCA", -0.1), "spot"] == pytest.approx(90.0)


def test_greeks_ladder_delta_matches_slope_of_pnl(book):
    positions, contracts, spot = book
    lad = greeks_ladder(positions, contracts, spot, rate=0.05, asof=ASOF,
                        spot_shifts=[-1e-5, 0.0, 1e-5]).loc["SPY.ARCA"]
    slope = (lad.loc[1e-5, "pnl"] - lad.loc[-1e-5, "pnl"]) / (2 * 1e-5 * 100.0)
    assert lad.loc[0.0, "delta"] == pytest.approx(slope, rel=1e-6)


def test_greeks_ladder_bad_shift_raises(book):
    positions, contracts, spot = book
    with pytest.raises(ParameterError, match="spot_shifts"):
        greeks_ladder(positions, contracts, spot, rate=0.05, asof=ASOF, spot_shifts=[-1.0])


def test_greeks_module_docstring_examples_run():
    import doctest

    import qlib.risk.greeks as mod

    result = doctest.testmod(mod)
    assert result.attempted >= 3 and result.failed == 0


def test_portfolio_greeks_scalar_spot_raises(book):
    positions, contracts, _ = book
    with pytest.raises(ParameterError, match="spot must map"):
        portfolio_greeks(positions, contracts, 100.0, rate=0.05, asof=ASOF)


def test_portfolio_greeks_non_numeric_qty_raises(book):
    positions, contracts, spot = book
    with pytest.raises(SchemaError, match="numeric"):
        portfolio_greeks(positions.assign(qty=["a", "b", "c", "d"]), contracts, spot,
                         rate=0.05, asof=ASOF)
