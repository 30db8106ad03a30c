"""Invariants of the pre-trade kernel: the token bucket never lets through more than
``burst + rate`` orders in any one-second window; a tripped kill switch approves
nothing; a reject leaves the throttle and the reservations untouched; the incrementally
kept gross exposure equals the recomputed sum."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.enums import PreTradeReject as R
from qlib.instrument import Instrument
from qlib.risk import PreTradeRisk, RiskConfig
from qlib.risk import _pretrade_kernels as K

SECOND = 1_000_000_000
INST = [Instrument("AAA.X", tick_size=0.5)]


def _risk(**cfg) -> PreTradeRisk:
    risk = PreTradeRisk(RiskConfig(**cfg), INST)
    risk.on_market_data(0, ts_ns=0, ref_px_tick=1000)
    return risk


@settings(max_examples=60, deadline=None)
@given(
    rate=st.integers(1, 20),
    burst=st.integers(1, 20),
    gaps=st.lists(st.integers(0, 400_000_000), min_size=1, max_size=300),
    msg_side=st.booleans(),
)
def test_token_bucket_window_count_at_most_burst_plus_rate(rate: int, burst: int, gaps: list[int],
                                                           msg_side: bool) -> None:
    cfg = {"max_msgs_per_s": rate, "msg_burst": burst} if msg_side else \
        {"max_orders_per_s": rate, "order_burst": burst}
    risk = _risk(**cfg)
    ts = np.cumsum(np.asarray(gaps, dtype=np.int64)) + 5 * SECOND
    approved = np.array([risk.check(0, 1, 1000, 1.0, int(t), 0) == R.APPROVED for t in ts])
    t_ok = ts[approved]
    assert approved[0]  # a full bucket at the start
    for t0 in t_ok:  # every window [t0, t0 + 1 s] starting at an approval (the worst case)
        n = np.searchsorted(t_ok, t0 + SECOND, side="right") - np.searchsorted(t_ok, t0, side="left")
        assert n <= burst + rate
    # long-run: never more than burst + rate * elapsed
    assert approved.sum() <= burst + rate * (ts[-1] - ts[0]) / SECOND


@settings(max_examples=40, deadline=None)
@given(
    rate=st.integers(1, 10),
    burst=st.integers(1, 10),
    gap=st.integers(1, SECOND),
    n=st.integers(1, 60),
)
def test_token_bucket_refills_at_configured_rate(rate: int, burst: int, gap: int, n: int) -> None:
    risk = _risk(max_orders_per_s=rate, order_burst=burst)
    t = 5 * SECOND
    while risk.check(0, 1, 1000, 1.0, t, 0) == R.APPROVED:  # drain the bucket
        pass
    approved = sum(risk.check(0, 1, 1000, 1.0, t + k * gap, 0) == R.APPROVED for k in range(1, n + 1))
    refill = rate * gap * n  # nano-tokens refilled over the n steps (exact integers)
    assert approved <= refill // SECOND + 1  # never more than the refill (+ the drained remainder)
    if rate * gap <= SECOND and burst >= 2:
        # at most one token per step and the credit stays below two tokens <= the cap:
        # the cap never bites, so the refill decides, up to the remainder
        assert approved >= refill // SECOND
    elif rate * gap > SECOND:  # more than a token per step: every check passes
        assert approved == n


@settings(max_examples=50, deadline=None)
@given(
    intents=st.lists(
        st.tuples(st.sampled_from([-1, 0, 1]), st.integers(-5, 3000), st.one_of(st.floats(-2, 50), st.just(float("nan"))),
                  st.sampled_from([0, 1, 2])),
        min_size=1, max_size=40,
    )
)
def test_killed_switch_approves_nothing(intents: list) -> None:
    risk = _risk()
    risk.trip(ts_ns=1)
    before = (risk.istate.copy(), risk.fstate.copy())
    for k, (side, px, qty, otype) in enumerate(intents):
        assert risk.check(0, side, px, qty, 2 + k, otype) == R.KILL_SWITCH
    np.testing.assert_array_equal(risk.istate, before[0])
    np.testing.assert_array_equal(risk.fstate, before[1])


@settings(max_examples=50, deadline=None)
@given(
    intents=st.lists(
        st.tuples(st.sampled_from([-1, 1]), st.integers(900, 1100), st.sampled_from([0.5, 1.0, 3.0, 9.0]),
                  st.integers(0, 50_000_000)),
        min_size=1, max_size=60,
    )
)
def test_reject_leaves_throttle_and_reservations_untouched(intents: list) -> None:
    risk = _risk(max_order_qty=4, collar_bps=50, max_position_qty=6, max_orders_per_s=5, order_burst=3,
                 max_msgs_per_s=8, max_open_orders=5)
    ts = SECOND
    touched = [K.I_ORD_CREDIT, K.I_ORD_TS, K.I_MSG_CREDIT, K.I_MSG_TS, K.I_N_OPEN]
    for side, px, qty, gap in intents:
        ts += gap
        s0, f0 = risk.istate.copy(), risk.fstate.copy()
        code = risk.check(0, side, px, qty, ts, 0)
        if code != R.APPROVED:
            np.testing.assert_array_equal(risk.istate[touched], s0[touched])
            np.testing.assert_array_equal(risk.fstate, f0)
        else:
            assert risk.istate[K.I_N_OPEN] == s0[K.I_N_OPEN] + 1
        assert 0 <= risk.istate[K.I_ORD_CREDIT] <= risk.istate[K.I_ORD_CAP]


INST3 = [Instrument("AAA.X", tick_size=0.5), Instrument("BBB.X", tick_size=0.1, multiplier=5.0),
         Instrument("CCC.X", tick_size=0.25, multiplier=3.0)]


@settings(max_examples=80, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 2), st.sampled_from([-1, 1]), st.integers(-3, 1200),
                  st.sampled_from([0.5, 1.0, 2.0, 3.0, 7.0, 1e6]), st.sampled_from([0, 1])),
        min_size=1, max_size=80,
    )
)
def test_incremental_gross_exposure_equals_recomputed_sum(ops: list) -> None:
    """F_GROSS (kept incrementally) and B_EXPO always match the sum recomputed from the
    positions, open quantities and references, after any sequence of operations."""
    risk = PreTradeRisk(RiskConfig(max_gross_notional=1e7, max_order_qty=1e7), INST3)
    n = len(INST3)
    ts = 10
    for op, inst, side, px, qty, otype in ops:
        ts += 1000
        if op == 0:
            risk.check(inst, side, px, qty, ts, otype)
        elif op == 1:
            risk.on_market_data(inst, ts, px)
        elif op == 2:
            risk.set_position(inst, side * qty)
        elif op == 3:
            risk.sync_orders(inst, 1, qty, qty / 2, None, None)
        else:
            risk.sync_orders(inst, 0, 0.0, 0.0)
        f, s = risk.fstate, risk.istate
        expo = [(abs(f[K.F_HDR + K.B_POS * n + j]) + f[K.F_HDR + K.B_OPEN_BUY * n + j]
                 + f[K.F_HDR + K.B_OPEN_SELL * n + j]) * s[K.I_HDR + K.J_REF_PX * n + j]
                * f[K.F_HDR + K.B_TICK_VALUE * n + j] for j in range(n)]
        # each exposure is recomputed by the same formula: exact
        assert list(f[K.F_HDR + K.B_EXPO * n: K.F_HDR + (K.B_EXPO + 1) * n]) == expo
        total = K.gross_exposure_sum(s, f)
        assert total == sum(expo)  # same order of summation
        # the running sum: exact after a re-sum, within a few ulps after O(1) updates
        assert abs(f[K.F_GROSS] - total) <= 1e-12 * sum(abs(e) for e in expo)
        if op >= 2:  # set_position and sync_orders re-sum: bit-exact
            assert f[K.F_GROSS] == total


def test_gross_exposure_stays_a_number_after_an_infinite_exposure() -> None:
    risk = PreTradeRisk(RiskConfig(max_gross_notional=1e7), INST3)
    for j in range(3):
        risk.on_market_data(j, 1, 1000)
    risk.sync_orders(0, 1, float("inf"), 0.0)  # an infinite open quantity: infinite exposure
    risk.on_market_data(0, 2, 1001)  # inf - inf would make a NaN running sum
    assert risk.fstate[K.F_GROSS] == np.inf == K.gross_exposure_sum(risk.istate, risk.fstate)
    assert risk.check(1, 1, 1000, 1.0, 3, 0) == R.POSITION_GROSS


def _derived_expected(risk: PreTradeRisk) -> tuple[float, int, list[int], list[int]]:
    """The derived state entries from their definitions (see the kernels module)."""
    f, s = risk.fstate, risk.istate
    n = int(s[K.I_N])

    def floor(base: float, limit: float) -> float:
        return -np.inf if not limit < np.inf else (base - limit) + 1e-12 * (abs(base) + abs(limit))

    pnl_floor = max(floor(f[K.F_PNL_DAY], f[K.F_MAX_DAILY_LOSS]), floor(f[K.F_PNL_HWM], f[K.F_MAX_DRAWDOWN]))
    m = f[K.F_MAX_OPEN]
    max_open = int(np.ceil(m)) if m < 2.0**62 else K.INT64_MAX
    lo, hi = [], []
    for j in range(n):
        ref = int(s[K.I_HDR + K.J_REF_PX * n + j])
        collar = f[K.F_COLLAR]
        if not collar < np.inf:
            lo.append(K.INT64_MIN), hi.append(K.INT64_MAX)
        elif 0 < ref < 2**52 and collar * ref < 2.0**52:
            b = int(collar * ref)
            lo.append(ref - b), hi.append(ref + b)
        else:
            lo.append(K.INT64_MAX), hi.append(K.INT64_MIN)
    return pnl_floor, max_open, lo, hi


@settings(max_examples=80, deadline=None)
@given(
    cfg=st.fixed_dictionaries({
        "max_daily_loss": st.one_of(st.none(), st.floats(0.01, 1e4)),
        "max_drawdown": st.one_of(st.none(), st.floats(0.01, 1e4)),
        "collar_bps": st.one_of(st.none(), st.floats(0.01, 2e4)),
        "max_open_orders": st.one_of(st.none(), st.integers(1, 50)),
    }),
    ops=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 2), st.sampled_from([-1, 1]), st.integers(-3, 3000),
                  st.floats(-1e4, 1e4), st.sampled_from([0, 1])),
        min_size=1, max_size=60,
    ),
)
def test_derived_state_equals_its_definition(cfg: dict, ops: list) -> None:
    """F_PNL_FLOOR, I_MAX_OPEN and the collar bands J_PX_LO/J_PX_HI equal their
    definitions from the limits and the state after any sequence of operations."""
    risk = PreTradeRisk(RiskConfig(**cfg), INST3)
    n = len(INST3)
    ts = 10
    for op, inst, side, px, x, otype in ops:
        ts += 1000
        if op == 0:
            risk.check(inst, side, px, 1.0, ts, otype)
        elif op == 1:
            risk.on_market_data(inst, ts, px)
        elif op == 2:
            risk.mark_pnl(x, ts_ns=ts)
        elif op == 3:
            risk.start_day()
        elif op == 4:
            risk.set_position(inst, side * 2.0)
        elif op == 5:
            risk.sync_orders(inst, 1, 1.0, 0.5, None, None)
        else:
            risk.reset(ts_ns=ts)
        pnl_floor, max_open, lo, hi = _derived_expected(risk)
        assert risk.fstate[K.F_PNL_FLOOR] == pnl_floor
        assert risk.istate[K.I_MAX_OPEN] == max_open
        assert list(risk.istate[K.I_HDR + K.J_PX_LO * n: K.I_HDR + (K.J_PX_LO + 1) * n]) == lo
        assert list(risk.istate[K.I_HDR + K.J_PX_HI * n: K.I_HDR + (K.J_PX_HI + 1) * n]) == hi


@settings(max_examples=300, deadline=None)
@given(
    base=st.floats(-1e12, 1e12), limit=st.floats(0.0, 1e12), pnl=st.floats(-3e12, 3e12),
    eps=st.integers(-4, 4),
)
def test_pnl_floor_never_misses_a_breaker(base: float, limit: float, pnl: float, eps: int) -> None:
    """``base - p > limit`` implies ``p < floor``: the check's one compare is a superset."""
    floor = K._breaker_floor.py_func(base, limit)
    for p in (pnl, base - limit, np.nextafter(base - limit, base - limit + eps) if eps else base - limit):
        p = float(p)
        if base - p > limit:
            assert p < floor


@settings(max_examples=300, deadline=None)
@given(ref=st.integers(1, 10**9), collar_bps=st.floats(0.01, 2e4), d=st.integers(-10**9, 10**9))
def test_collar_band_matches_the_collar_formula(ref: int, collar_bps: float, d: int) -> None:
    """Outside the band exactly when ``|p - r| > collar * r`` (both sides of the edge)."""
    risk = PreTradeRisk(RiskConfig(collar_bps=collar_bps), INST)
    risk.on_market_data(0, 1, ref)
    lo, hi = int(risk.istate[K.I_HDR + K.J_PX_LO]), int(risk.istate[K.I_HDR + K.J_PX_HI])
    collar = risk.fstate[K.F_COLLAR]
    b = int(collar * ref)
    for px in (ref + d, ref + b, ref + b + 1, ref - b, ref - b - 1):
        assert (px < lo or px > hi) == (abs(px - ref) > collar * ref)
