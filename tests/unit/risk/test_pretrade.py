"""PreTradeRisk: every check approves at its boundary and rejects just past it;
the kill switch blocks everything until an explicit reset and journals each event."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.enums import KillReason, OrderType, Side
from qlib.enums import PreTradeReject as R
from qlib.errors import OrderRejected, ParameterError
from qlib.instrument import Instrument
from qlib.risk import PreTradeRisk, RiskConfig

BUY, SELL = int(Side.BUY), int(Side.SELL)
LIMIT, MARKET = int(OrderType.LIMIT), int(OrderType.MARKET)
REF = 1000  # reference price, ticks; tick value 0.5 -> price 500
A = Instrument("AAA.X", tick_size=0.5)
B = Instrument("BBB.X", tick_size=0.25, multiplier=2.0)  # tick value 0.5 too


def make(n_inst: int = 1, **cfg) -> PreTradeRisk:
    risk = PreTradeRisk(RiskConfig(**cfg), [A, B][:n_inst])
    for k in range(n_inst):
        risk.on_market_data(k, ts_ns=0, ref_px_tick=REF)
    return risk


def chk(risk: PreTradeRisk, side: int = BUY, px: int = REF, qty: float = 1.0, ts: int = 1,
        otype: int = LIMIT, inst: int = 0) -> R:
    return R(risk.check(inst, side, px, qty, ts, otype))


def test_check_no_limits_approves() -> None:
    risk = make()
    assert chk(risk, qty=1e9, px=10**12) == R.APPROVED


@pytest.mark.parametrize(
    ("inst", "side", "px", "qty", "otype"),
    [(1, BUY, REF, 1.0, LIMIT), (-1, BUY, REF, 1.0, LIMIT), (0, 0, REF, 1.0, LIMIT),
     (0, 2, REF, 1.0, LIMIT), (0, BUY, REF, 0.0, LIMIT), (0, BUY, REF, -1.0, LIMIT),
     (0, BUY, REF, float("nan"), LIMIT), (0, BUY, REF, float("inf"), LIMIT),
     (0, BUY, 0, 1.0, LIMIT), (0, BUY, REF, 1.0, 7)],
)
def test_check_bad_intent_rejects(inst: int, side: int, px: int, qty: float, otype: int) -> None:
    risk = make()
    assert chk(risk, side=side, px=px, qty=qty, otype=otype, inst=inst) == R.BAD_INTENT


def test_check_market_order_price_ignored_approves() -> None:
    assert chk(make(collar_bps=1), px=0, otype=MARKET) == R.APPROVED


def test_check_max_order_qty_boundary() -> None:
    risk = make(max_order_qty=2)
    assert chk(risk, qty=2.0) == R.APPROVED
    assert chk(risk, qty=2.0000001) == R.MAX_ORDER_QTY


def test_check_no_reference_price_rejects() -> None:
    risk = PreTradeRisk(RiskConfig(collar_bps=100), [A])
    assert chk(risk) == R.NO_REFERENCE_PRICE
    risk.on_market_data("AAA.X", ts_ns=0, ref_px_tick=REF)
    assert chk(risk) == R.APPROVED


@pytest.mark.parametrize(("side", "ok_px", "bad_px"), [(BUY, 1010, 1011), (SELL, 990, 989),
                                                       (BUY, 990, 989), (SELL, 1010, 1011)])
def test_check_price_collar_boundary(side: int, ok_px: int, bad_px: int) -> None:
    risk = make(collar_bps=100)  # 1% of 1000 ticks = 10 ticks
    assert chk(risk, side=side, px=ok_px) == R.APPROVED
    assert chk(risk, side=side, px=bad_px) == R.PRICE_COLLAR


def test_check_max_order_notional_boundary() -> None:
    risk = make(max_order_notional=1000.0)  # 2 * 1000 ticks * 0.5
    assert chk(risk, qty=2.0, px=1000) == R.APPROVED
    assert chk(risk, qty=2.0, px=1001) == R.MAX_ORDER_NOTIONAL
    assert chk(risk, qty=2.0, px=5000, otype=MARKET) == R.APPROVED  # market: at the reference
    risk.on_market_data(0, ts_ns=2, ref_px_tick=1001)
    assert chk(risk, qty=2.0, otype=MARKET, ts=3) == R.MAX_ORDER_NOTIONAL


def test_check_position_net_buy_boundary_counts_open_orders() -> None:
    risk = make(max_position_qty=5)
    risk.set_position(0, 3.0)
    assert chk(risk, qty=2.0) == R.APPROVED  # worst case 3 + 2 = 5
    assert chk(risk, qty=0.5) == R.POSITION_NET  # 3 + 2 open + 0.5
    assert chk(risk, side=SELL, px=REF + 1, qty=8.5) == R.POSITION_NET  # |3 - 8.5|
    assert chk(risk, side=SELL, px=REF + 1, qty=8.0) == R.APPROVED  # |3 - 8| = 5


def test_check_position_net_sell_boundary() -> None:
    risk = make(max_position_qty=5)
    risk.set_position("AAA.X", -3.0)
    assert chk(risk, side=SELL, qty=2.0) == R.APPROVED
    assert chk(risk, side=SELL, qty=1.0) == R.POSITION_NET


def test_check_position_limits_override_per_instrument() -> None:
    risk = make(2, max_position_qty=5, position_limits={"BBB.X": 1})
    assert chk(risk, qty=5.0, inst=0) == R.APPROVED
    assert chk(risk, qty=1.0, inst=1) == R.APPROVED
    assert chk(risk, qty=0.5, inst=1) == R.POSITION_NET


def test_check_position_gross_across_instruments_boundary() -> None:
    risk = make(2, max_gross_notional=2000.0)
    risk.set_position(1, -2.0)  # 2 * 1000 ticks * 0.5 = 1000
    assert chk(risk, qty=2.0, inst=0) == R.APPROVED  # 1000 + 1000 (order) = 2000
    assert chk(risk, qty=0.001, inst=0) == R.POSITION_GROSS  # the open 2 now counts


def test_check_concentration_boundary() -> None:
    risk = make(2, max_concentration=0.5, capital=1000.0)
    risk.set_position(1, 10.0)  # another instrument does not count
    assert chk(risk, qty=1.0, px=1000) == R.APPROVED  # 500 <= 0.5 * 1000
    assert chk(risk, qty=0.001, px=1000) == R.CONCENTRATION


def test_check_concentration_uses_equity() -> None:
    risk = make(max_concentration=0.5, capital=1000.0)
    risk.mark_pnl(-2.0, ts_ns=1)
    assert chk(risk, qty=1.0, px=1000) == R.CONCENTRATION  # 500 > 0.5 * 998


def test_check_margin_boundary() -> None:
    risk = make(margin_rate=0.5, capital=1000.0)  # buying power 2000
    assert chk(risk, qty=4.0, px=1000) == R.APPROVED
    risk.sync_orders(0, n_open=0, open_buy_qty=0.0, open_sell_qty=0.0)
    assert chk(risk, qty=4.0, px=1001) == R.MARGIN
    risk.mark_pnl(1.0, ts_ns=1)
    assert chk(risk, qty=4.0, px=1001) == R.APPROVED  # 0.5 * 2002 <= 1001


def test_check_max_open_orders_boundary_and_sync() -> None:
    risk = make(max_open_orders=2)
    assert chk(risk) == R.APPROVED
    assert chk(risk) == R.APPROVED
    assert chk(risk) == R.MAX_OPEN_ORDERS
    risk.sync_orders("AAA.X", n_open=1, open_buy_qty=1.0, open_sell_qty=0.0)
    assert chk(risk) == R.APPROVED


def test_check_zero_open_orders_rejects_everything() -> None:
    assert chk(make(max_open_orders=0)) == R.MAX_OPEN_ORDERS


def test_check_self_trade_against_own_ask() -> None:
    risk = make()
    risk.sync_orders(0, n_open=1, open_buy_qty=0.0, open_sell_qty=1.0, own_best_ask=1005)
    assert chk(risk, px=1004) == R.APPROVED
    assert chk(risk, px=1005) == R.SELF_TRADE
    assert chk(risk, otype=MARKET) == R.SELF_TRADE
    assert chk(risk, side=SELL, px=1006) == R.APPROVED


def test_check_self_trade_against_own_bid_reserved_on_approval() -> None:
    risk = make()
    assert chk(risk, side=BUY, px=995) == R.APPROVED  # rests as our best bid
    assert chk(risk, side=SELL, px=996) == R.APPROVED
    assert chk(risk, side=SELL, px=995) == R.SELF_TRADE
    assert chk(risk, side=SELL, otype=MARKET) == R.SELF_TRADE
    risk.sync_orders(0, n_open=0, open_buy_qty=0.0, open_sell_qty=0.0)
    assert chk(risk, side=SELL, px=995) == R.APPROVED


def test_check_order_rate_bucket_boundary_and_refill() -> None:
    risk = make(max_orders_per_s=2, order_burst=3)
    assert [chk(risk, ts=10) for _ in range(4)] == [R.APPROVED] * 3 + [R.ORDER_RATE]
    assert chk(risk, ts=10 + 499_999_999) == R.ORDER_RATE  # 0.999999998 token
    assert chk(risk, ts=10 + 500_000_000) == R.APPROVED  # one token after 0.5 s
    assert chk(risk, ts=10 + 500_000_000) == R.ORDER_RATE


def test_check_order_rate_rejects_do_not_consume_tokens() -> None:
    risk = make(max_orders_per_s=1, max_order_qty=1)
    assert chk(risk, qty=5.0) == R.MAX_ORDER_QTY
    assert chk(risk, qty=1.0) == R.APPROVED
    assert chk(risk, qty=1.0) == R.ORDER_RATE


def test_check_message_rate_counts_cancels() -> None:
    risk = make(max_msgs_per_s=3)
    assert [risk.message(5), risk.message(5)] == [R.APPROVED, R.APPROVED]
    assert chk(risk, ts=5) == R.APPROVED
    assert chk(risk, ts=5) == R.MESSAGE_RATE
    assert risk.message(5) == R.MESSAGE_RATE
    assert risk.message(5 + 333_333_334) == R.APPROVED


def test_message_without_throttle_approves() -> None:
    assert make().message(1) == R.APPROVED


def test_check_stale_market_data_boundary_trips() -> None:
    risk = make(max_md_age_ns=1000)
    assert chk(risk, ts=1000) == R.APPROVED
    assert chk(risk, ts=1001) == R.STALE_MARKET_DATA
    assert risk.killed and risk.kill_reason == KillReason.STALE_MARKET_DATA
    assert chk(risk, ts=1002) == R.KILL_SWITCH


def test_mark_pnl_daily_loss_boundary_trips() -> None:
    risk = make(max_daily_loss=100.0)
    risk.mark_pnl(50.0, ts_ns=1)
    risk.start_day()
    assert risk.mark_pnl(-50.0, ts_ns=2) == R.APPROVED
    assert chk(risk, ts=3) == R.APPROVED
    assert risk.mark_pnl(-50.5, ts_ns=4) == R.DAILY_LOSS
    assert risk.killed and risk.kill_reason == KillReason.DAILY_LOSS
    assert chk(risk, ts=5) == R.KILL_SWITCH


def test_check_daily_loss_trips_from_state() -> None:
    risk = make(max_daily_loss=100.0)
    risk.fstate[12] = 0.0  # F_PNL_DAY
    risk.fstate[10] = -101.0  # F_PNL set by an engine without mark_pnl
    assert chk(risk) == R.DAILY_LOSS
    assert risk.kill_reason == KillReason.DAILY_LOSS


def test_mark_pnl_drawdown_boundary_trips() -> None:
    risk = make(max_drawdown=100.0)
    risk.mark_pnl(50.0, ts_ns=1)
    assert risk.mark_pnl(-50.0, ts_ns=2) == R.APPROVED
    assert chk(risk, ts=3) == R.APPROVED
    assert risk.mark_pnl(-50.25, ts_ns=4) == R.DRAWDOWN
    assert risk.kill_reason == KillReason.DRAWDOWN


def test_mark_pnl_nonfinite_raises() -> None:
    with pytest.raises(ParameterError, match="pnl was nan"):
        make().mark_pnl(float("nan"))


def test_reject_storm_boundary_trips() -> None:
    risk = make(max_order_qty=1, max_rejects=2, reject_window_ns=1000)
    assert chk(risk, qty=2.0, ts=10) == R.MAX_ORDER_QTY
    assert chk(risk, qty=2.0, ts=1010) == R.MAX_ORDER_QTY  # window [10, 1010]: count 2
    assert not risk.killed
    assert chk(risk, qty=2.0, ts=1011) == R.MAX_ORDER_QTY  # new window from 1011: count 1
    assert chk(risk, qty=2.0, ts=2011) == R.MAX_ORDER_QTY
    assert not risk.killed
    assert chk(risk, qty=2.0, ts=2011) == R.MAX_ORDER_QTY  # third in window
    assert risk.killed and risk.kill_reason == KillReason.REJECT_STORM


def test_observe_latency_boundary_trips() -> None:
    risk = make(max_latency_ns=5000)
    assert risk.observe_latency(5000, ts_ns=1) is False
    assert risk.observe_latency(5001, ts_ns=2) is True
    assert risk.kill_reason == KillReason.LATENCY_SPIKE


def test_kill_switch_blocks_every_order_until_reset() -> None:
    risk = make(2)
    assert chk(risk, inst=1) == R.APPROVED
    assert risk.cancel_all_intents() == []
    assert risk.trip(ts_ns=5) == ["BBB.X"]
    for side in (BUY, SELL):
        for otype in (LIMIT, MARKET):
            for inst in (0, 1):
                assert chk(risk, side=side, otype=otype, inst=inst, ts=6) == R.KILL_SWITCH
    assert chk(risk, qty=-1.0) == R.KILL_SWITCH  # even a bad intent
    assert risk.message(7) == R.APPROVED  # cancels still go out
    assert risk.reset(ts_ns=8) is True
    assert not risk.killed and risk.kill_reason == KillReason.NONE
    assert chk(risk, ts=9) == R.APPROVED


def test_kill_switch_trip_twice_journals_once() -> None:
    risk = make()
    risk.trip(ts_ns=1)
    risk.trip(KillReason.LATENCY_SPIKE, ts_ns=2)
    assert risk.kill_reason == KillReason.MANUAL
    assert risk.reset(ts_ns=3) is True
    assert risk.reset(ts_ns=4) is False
    j = risk.journal
    assert list(j.columns) == ["ts", "event", "reason"]
    assert j["event"].tolist() == ["TRIP", "RESET"]
    assert j["reason"].tolist() == ["MANUAL", "MANUAL"]
    assert j["ts"].tolist() == [pd.Timestamp(1, unit="ns", tz="UTC"), pd.Timestamp(3, unit="ns", tz="UTC")]


def test_kill_switch_trip_none_reason_raises() -> None:
    with pytest.raises(ParameterError, match="KillReason.NONE"):
        make().trip(KillReason.NONE)


def test_journal_grows_and_keeps_every_event() -> None:
    risk = PreTradeRisk(RiskConfig(max_latency_ns=0), [A], journal_capacity=2)
    for k in range(50):
        risk.observe_latency(1, ts_ns=2 * k)
        risk.reset(ts_ns=2 * k + 1)
    j = risk.journal
    assert len(j) == 100 and int(risk.istate[20]) == 0  # I_JOURNAL_LOST
    assert j["reason"].tolist()[:2] == ["LATENCY_SPIKE", "MANUAL"]
    assert (j["ts"].astype("int64").to_numpy() == np.arange(100)).all()


def test_journal_empty_frame() -> None:
    j = make().journal
    assert len(j) == 0 and list(j.columns) == ["ts", "event", "reason"]


def test_check_or_raise_names_check() -> None:
    risk = make(max_order_qty=1)
    risk.check_or_raise("AAA.X", Side.BUY, REF, 1.0, ts_ns=1)
    with pytest.raises(OrderRejected, match=r"MAX_ORDER_QTY refused BUY 2.0 AAA.X @ px_tick=1000"):
        risk.check_or_raise("AAA.X", Side.BUY, REF, 2.0, ts_ns=2)


@pytest.mark.parametrize("inst", ["ZZZ.X", 2, -1, True, 1.0])
def test_instrument_lookup_unknown_raises(inst: object) -> None:
    with pytest.raises(ParameterError, match="instrument was"):
        make(2).on_market_data(inst, ts_ns=0, ref_px_tick=1)  # type: ignore[arg-type]


def test_sync_orders_negative_raises() -> None:
    with pytest.raises(ParameterError, match="n_open=-1"):
        make().sync_orders(0, -1, 0.0, 0.0)


def test_auto_trip_journals_and_lists_cancel_all() -> None:
    risk = make(2, max_md_age_ns=1000)
    assert chk(risk, inst=0, ts=10) == R.APPROVED
    assert chk(risk, inst=1, ts=20) == R.APPROVED
    assert risk.cancel_all_intents() == []
    assert chk(risk, inst=0, ts=2000) == R.STALE_MARKET_DATA  # trips inside the kernel
    assert risk.cancel_all_intents() == ["AAA.X", "BBB.X"]
    risk.sync_orders("AAA.X", 0, 0.0, 0.0)  # the OMS reports AAA.X's orders cancelled
    assert risk.cancel_all_intents() == ["BBB.X"]
    j = risk.journal
    assert j["event"].tolist() == ["TRIP"] and j["reason"].tolist() == ["STALE_MARKET_DATA"]
    assert j["ts"].iloc[0] == pd.Timestamp(2000, unit="ns", tz="UTC")


def test_reset_clears_reject_storm_window() -> None:
    risk = make(max_order_qty=1, max_rejects=1, reject_window_ns=10**9)
    chk(risk, qty=2.0, ts=1)
    chk(risk, qty=2.0, ts=2)
    assert risk.kill_reason == KillReason.REJECT_STORM
    risk.reset(ts_ns=3)
    assert chk(risk, qty=2.0, ts=4) == R.MAX_ORDER_QTY
    assert not risk.killed  # the count restarted at the reset


@pytest.mark.parametrize(
    "args",
    [
        (0, BUY, REF, 1.0, 1, LIMIT),
        (np.int64(0), Side.BUY, np.int64(REF), 1, np.int64(1), OrderType.LIMIT),
        (0, True, REF, np.float32(1.0), 1, LIMIT),
        (0, BUY, REF + 0.5, 1.0, 1, LIMIT),  # float price: the dispatcher's float specialization
        (0.0, BUY, REF, 1.0, 1, LIMIT),
        (0, BUY, REF, 1.0, 1, 0.5),
    ],
)
def test_check_fast_path_equals_kernel_dispatch(args) -> None:
    from qlib.risk import _pretrade_kernels as K

    a, b = make(), make()
    try:
        expected = K.pretrade_check(b.istate, b.fstate, b.journal_array, *args)
    except Exception as exc:  # noqa: BLE001 - the same failure from the method
        with pytest.raises(type(exc)):
            a.check(*args)
    else:
        assert a.check(*args) == expected
    np.testing.assert_array_equal(a.istate, b.istate)
    np.testing.assert_array_equal(a.fstate, b.fstate)


@pytest.mark.parametrize("qty", ["1.5", None, 1 + 0j])
def test_check_non_number_quantity_is_not_parsed(qty: object) -> None:
    # the compiled entry point would parse "1.5"; the method leaves such values to numba
    from qlib.risk import _pretrade_kernels as K

    risk = make()
    with pytest.raises(Exception) as raised:
        risk.check(0, BUY, REF, qty, 1, LIMIT)
    with pytest.raises(type(raised.value)):
        K.pretrade_check(risk.istate, risk.fstate, risk.journal_array, 0, BUY, REF, qty, 1, LIMIT)
    assert risk.istate[K.I_N_OPEN] == 0
