"""Built-in strategy kernels: quotes equal the papers' formulas computed by hand,
and the shared rules (rounding, caps, inventory limit, empty book) hold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qlib.dtypes import INTENT_DTYPE
from qlib.enums import OrderType, Side, StrategyKind, TimeInForce
from qlib.strategy import (
    GLFT,
    MAX_INTENTS,
    AvellanedaStoikov,
    GridMM,
    ImbalanceMM,
    TouchMM,
    decide,
    decide_builtin,
    make_view,
)
from qlib.strategy import _kernels as K

S = 1_000_000_000


def _quotes(intents: np.ndarray) -> tuple[list[int], list[int]]:
    bids = [int(r["px_tick"]) for r in intents if r["side"] == Side.BUY]
    asks = [int(r["px_tick"]) for r in intents if r["side"] == Side.SELL]
    return bids, asks


def test_avellaneda_stoikov_flat_matches_paper_formula():
    # Arrange
    gamma, k, sigma, tau = 0.1, 0.5, 2.0, 60.0
    view = make_view(bid_px_tick=10_000, ask_px_tick=10_002, sigma_tick=sigma,
                     ts_local=0, ts_end=int(tau * S))
    spread = gamma * sigma**2 * tau + 2 / gamma * math.log(1 + gamma / k)
    # Act
    n, out = decide(AvellanedaStoikov(gamma, k, 1.0, 5.0), view)
    # Assert
    assert n == 2
    assert _quotes(out) == ([math.floor(10_001 - spread / 2)], [math.ceil(10_001 + spread / 2)])


def test_avellaneda_stoikov_long_inventory_shifts_reservation_down():
    gamma, k, sigma, tau, q = 0.01, 0.5, 1.0, 100.0, 2.0
    view = make_view(bid_px_tick=10_000, ask_px_tick=10_002, sigma_tick=sigma,
                     ts_local=0, ts_end=int(tau * S), position=q * 3.0, lot_size=1.0)
    r = 10_001 - q * gamma * sigma**2 * tau
    spread = gamma * sigma**2 * tau + 2 / gamma * math.log(1 + gamma / k)
    n, out = decide(AvellanedaStoikov(gamma, k, 3.0, 100.0), view)
    assert n == 2
    bid, ask = _quotes(out)
    assert bid == [math.floor(r - spread / 2)]
    assert ask == [max(math.ceil(r + spread / 2), 10_001)]


def test_avellaneda_stoikov_past_horizon_uses_liquidity_spread_only():
    view = make_view(bid_px_tick=1000, ask_px_tick=1001, sigma_tick=5.0, ts_local=10 * S,
                     ts_end=5 * S, position=4.0)
    spread = 2 / 0.2 * math.log(1 + 0.2 / 0.1)
    _n, out = decide(AvellanedaStoikov(0.2, 0.1, 1.0, 10.0), view)
    assert _quotes(out) == ([math.floor(1000.5 - spread / 2)], [math.ceil(1000.5 + spread / 2)])


def test_avellaneda_stoikov_min_spread_floor_applies():
    view = make_view(bid_px_tick=1000, ask_px_tick=1001)
    _n, out = decide(AvellanedaStoikov(1.0, 100.0, 1.0, 10.0, min_spread_ticks=9.0), view)
    assert _quotes(out) == ([996], [1005])


@pytest.mark.parametrize("q", [-3.0, -1.0, 0.0, 1.0, 2.0])
def test_glft_quotes_match_gueant_eq_4_6_4_7(q):
    # Arrange
    gamma, k, A, sigma, unit = 0.05, 0.8, 1.5, 3.0, 2.0
    view = make_view(bid_px_tick=50_000, ask_px_tick=50_001, sigma_tick=sigma,
                     position=q * unit)
    c1 = 1 / gamma * math.log(1 + gamma / k)
    c2 = math.sqrt(gamma / (2 * A * k) * (1 + gamma / k) ** (1 + k / gamma))
    db = c1 + (2 * q + 1) / 2 * c2 * sigma
    da = c1 - (2 * q - 1) / 2 * c2 * sigma
    # Act
    _n, out = decide(GLFT(gamma, k, A, unit, 10.0), view)
    # Assert
    bid, ask = _quotes(out)
    assert bid == [min(math.floor(50_000.5 - db), 50_000)]
    assert ask == [max(math.ceil(50_000.5 + da), 50_001)]


def test_glft_coefficients_equal_closed_form():
    c1, c2 = GLFT(0.3, 1.2, 4.0, 1.0, 1.0).coefficients()
    assert c1 == pytest.approx(math.log(1.25) / 0.3, rel=1e-14)
    assert c2 == pytest.approx(math.sqrt(0.3 / (2 * 4.0 * 1.2) * 1.25 ** 5.0), rel=1e-14)


def test_glft_half_spread_and_skew_decomposition_holds():
    g = GLFT(0.05, 0.8, 1.5, 1.0, 10.0)
    c1, c2 = g.coefficients()
    sigma = 4.0
    # half spread c1 + c2 sigma / 2 and skew c2 sigma per unit of inventory
    for q in (0.0, 1.0, -2.0):
        db = c1 + (2 * q + 1) / 2 * c2 * sigma
        da = c1 - (2 * q - 1) / 2 * c2 * sigma
        assert (db + da) / 2 == pytest.approx(c1 + c2 * sigma / 2)
        assert (db - da) / 2 == pytest.approx(q * c2 * sigma)


def test_grid_levels_step_offset_and_skew():
    view = make_view(bid_px_tick=1000, ask_px_tick=1002, position=2.0)
    n, out = decide(GridMM(3, 2.0, 1.0, 1.0, 10.0, skew_ticks=0.5), view)
    # mid 1001, shift -0.5 * 2 = -1: bids 999, 997, 995; asks 1001, 1003, 1005
    assert n == 6
    assert _quotes(out) == ([999, 997, 995], [1001, 1003, 1005])


def test_grid_touch_anchor_starts_from_best_prices():
    view = make_view(bid_px_tick=1000, ask_px_tick=1003)
    _n, out = decide(GridMM(2, 3.0, 0.0, 1.0, 10.0, anchor="touch"), view)
    assert _quotes(out) == ([1000, 997], [1003, 1006])


def test_grid_inventory_limit_drops_outer_levels_of_growing_side():
    view = make_view(bid_px_tick=1000, ask_px_tick=1002, position=3.0)
    _n, out = decide(GridMM(4, 1.0, 1.0, 1.0, 5.0), view)
    bids, asks = _quotes(out)
    assert len(bids) == 2 and len(asks) == 4


def test_grid_caps_keep_levels_distinct_and_passive():
    # a huge short skew pushes every bid above the ask: they stack below the ask
    view = make_view(bid_px_tick=1000, ask_px_tick=1002, position=-5.0)
    _n, out = decide(GridMM(3, 1.0, 0.0, 1.0, 100.0, skew_ticks=10.0), view)
    bids, asks = _quotes(out)
    assert bids == [1001, 1000, 999]
    assert asks[0] >= 1002 and asks == sorted(set(asks))


def test_imbalance_fair_value_moves_toward_deeper_side():
    view = make_view(bid_px_tick=1000, ask_px_tick=1004, bid_depth=30.0, ask_depth=10.0)
    # I = 0.5, half market spread 2 -> fair = 1002 + 1.0 * 0.5 * 2 = 1003
    _n, out = decide(ImbalanceMM(1.0, 1.5, 1.0, 10.0), view)
    assert _quotes(out) == ([1001], [1005])


def test_imbalance_zero_depth_means_no_signal():
    view = make_view(bid_px_tick=1000, ask_px_tick=1004)
    _n, out = decide(ImbalanceMM(1.0, 1.0, 1.0, 10.0, skew_ticks=0.0), view)
    assert _quotes(out) == ([1001], [1003])


def test_imbalance_signal_is_clipped_to_unit_interval():
    assert K.imbalance_signal(5.0, -3.0) == 1.0
    assert K.imbalance_signal(0.0, 0.0) == 0.0
    assert K.imbalance_signal(1.0, 3.0) == -0.5


def test_touch_joins_best_bid_and_ask_post_only():
    view = make_view(bid_px_tick=1000, ask_px_tick=1001, lot_size=0.5)
    n, out = decide(TouchMM(1.7, 10.0), view)
    assert n == 2
    assert out["px_tick"].tolist() == [1000, 1001]
    assert out["qty"].tolist() == [1.5, 1.5]
    assert out["side"].tolist() == [Side.BUY, Side.SELL]
    assert (out["order_type"] == OrderType.LIMIT).all() and (out["tif"] == TimeInForce.GTX).all()


@pytest.mark.parametrize("position,sides", [(9.0, [Side.SELL]), (-9.0, [Side.BUY]),
                                            (12.0, [Side.SELL]), (0.0, [Side.BUY, Side.SELL])])
def test_touch_max_position_stops_growing_side(position, sides):
    view = make_view(bid_px_tick=1000, ask_px_tick=1001, position=position)
    _n, out = decide(TouchMM(2.0, 10.0), view)
    assert out["side"].tolist() == sides


@pytest.mark.parametrize("fields", [
    {"bid_px_tick": 0, "ask_px_tick": 1001},
    {"bid_px_tick": 1000, "ask_px_tick": 0},
    {"bid_px_tick": 1000, "ask_px_tick": 1001, "mid_tick": 0.0},
    {"bid_px_tick": 1000, "ask_px_tick": 1000},
    {"bid_px_tick": 1000, "ask_px_tick": 1001, "killed": 1},
    {"bid_px_tick": 1000, "ask_px_tick": 1001, "position": float("nan")},
    {"bid_px_tick": 1000, "ask_px_tick": 1001, "sigma_tick": float("inf")},
])
@pytest.mark.parametrize("spec", [AvellanedaStoikov(0.1, 0.5, 1.0, 5.0),
                                  GLFT(0.1, 0.5, 1.0, 1.0, 5.0), GridMM(2, 1.0, 1.0, 1.0, 5.0),
                                  ImbalanceMM(0.5, 1.0, 1.0, 5.0), TouchMM(1.0, 5.0)])
def test_kernels_unusable_view_return_zero_cancel_all(fields, spec):
    n, out = decide(spec, make_view(**fields))
    assert n == 0 and out.size == 0


def test_kernels_order_qty_below_lot_return_zero():
    view = make_view(bid_px_tick=1000, ask_px_tick=1001, lot_size=10.0)
    assert decide(TouchMM(4.0, 100.0), view)[0] == 0


def test_decide_builtin_unknown_kind_returns_zero():
    view = make_view(bid_px_tick=1000, ask_px_tick=1001)
    out = np.zeros(MAX_INTENTS, dtype=INTENT_DTYPE)
    assert decide_builtin(99, view, np.ones(5), np.zeros(0), out) == 0
    assert decide_builtin(int(StrategyKind.CUSTOM), view, np.ones(5), np.zeros(0), out) == 0


@pytest.mark.parametrize("spec", [AvellanedaStoikov(0.1, 0.5, 1.0, 5.0),
                                  GLFT(0.1, 0.5, 1.0, 1.0, 5.0), GridMM(3, 1.0, 1.0, 1.0, 5.0),
                                  ImbalanceMM(0.5, 1.0, 1.0, 5.0), TouchMM(1.0, 5.0)])
def test_decide_builtin_equals_direct_kernel_call(spec):
    view = make_view(bid_px_tick=1000, ask_px_tick=1003, sigma_tick=1.5, position=1.0,
                     ts_end=30 * S, bid_depth=4.0, ask_depth=9.0)
    a, b = np.zeros(MAX_INTENTS, INTENT_DTYPE), np.zeros(MAX_INTENTS, INTENT_DTYPE)
    p = spec.params_array()
    na = decide_builtin(int(spec.kind), view, p, np.zeros(0), a)
    nb = spec.kernel(view, p, np.zeros(0), b)
    assert na == nb > 0 and np.array_equal(a, b)


def test_grid_levels_capped_by_out_capacity():
    view = make_view(bid_px_tick=1000, ask_px_tick=1001)
    out = np.zeros(4, dtype=INTENT_DTYPE)
    p = GridMM(16, 1.0, 0.0, 1.0, 100.0).params_array()
    assert K.grid(view, p, np.zeros(0), out) == 4


@pytest.mark.parametrize("gamma,k,A,sigma", [(0.01, 1.0, 10.0, 1.0), (0.05, 0.5, 5.0, 0.3)])
def test_glft_closed_form_matches_spectral_solution_of_the_model(gamma, k, A, sigma):
    # GLFT (2013), Theorem: v(t) = exp(-M (T - t)) 1 with M tridiagonal, diagonal
    # alpha q^2, off-diagonal -eta; delta^b(q) = ln(v_q / v_{q+1}) / k + c1 and
    # delta^a(q) = ln(v_q / v_{q-1}) / k + c1. As T -> inf, v is proportional to the
    # ground state of M; its quotes must agree with the asymptotic closed form.
    alpha = k / 2 * gamma * sigma**2
    eta = A * (1 + gamma / k) ** (-(1 + k / gamma))
    big_q = 200
    qs = np.arange(-big_q, big_q + 1, dtype=float)
    m = np.diag(alpha * qs**2) - eta * (np.eye(qs.size, k=1) + np.eye(qs.size, k=-1))
    ground = np.abs(np.linalg.eigh(m)[1][:, 0])
    c1, c2 = GLFT(gamma, k, A, 1.0, 1.0).coefficients()
    for q in (-2, -1, 0, 1, 2):
        i = q + big_q
        exact_b = math.log(ground[i] / ground[i + 1]) / k + c1
        exact_a = math.log(ground[i] / ground[i - 1]) / k + c1
        assert exact_b == pytest.approx(c1 + (2 * q + 1) / 2 * c2 * sigma, abs=2e-3)
        assert exact_a == pytest.approx(c1 - (2 * q - 1) / 2 * c2 * sigma, abs=2e-3)
