"""Latency and queue models of the backtest engine: hand-worked examples and validation.

Expected numbers are worked by hand in the comments, from the hftbacktest 2.4 rules
quoted in :mod:`qlib.engine._queue_kernels` and :mod:`qlib.engine._latency_kernels`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qlib.engine import _latency_kernels as LK
from qlib.engine import _queue_kernels as QK
from qlib.engine.models import (
    LATENCY_MODELS,
    QUEUE_MODELS,
    ConstantLatency,
    FeedProportionalLatency,
    L3FifoQueue,
    LogProbQueue,
    ModelRegistry,
    PowerProbQueue,
    ReplayLatency,
    RiskAdverseQueue,
    action_code,
    latency_from_name,
    queue_from_name,
)
from qlib.enums import LatencyModelKind, OrderAction, QueueModelKind
from qlib.errors import ParameterError, QlibError

RA = int(QueueModelKind.RISK_ADVERSE)
POW = int(QueueModelKind.PROB_POWER)
LOG = int(QueueModelKind.PROB_LOG)
L3 = int(QueueModelKind.L3_FIFO)
NO_LOG = np.zeros((0, 3), dtype=np.int64)


def _q(front: float, cum: float = 0.0) -> np.ndarray:
    return np.array([[front, cum], [123.0, 4.0]])


def _qp(n: float = 2.0) -> np.ndarray:
    return np.array([n])


# ------------------------------------------------------------------ queue: new / trade
@pytest.mark.parametrize("kind", [RA, POW, LOG, L3])
def test_queue_new_sets_front_to_level_and_clears_cum(kind):
    qs = _q(-5.0, 7.0)
    QK.queue_new(kind, _qp(), qs, 0, 10.0)
    assert qs[0].tolist() == [10.0, 0.0]
    assert qs[1].tolist() == [123.0, 4.0]  # other slots untouched


@pytest.mark.parametrize("kind", [POW, LOG])
def test_queue_on_trade_prob_models_accumulate_cum_trade(kind):
    qs = _q(10.0)
    QK.queue_on_trade(kind, _qp(), qs, 0, 3.0)
    QK.queue_on_trade(kind, _qp(), qs, 0, 1.5)
    # front 10 - 3 - 1.5 = 5.5; cum_trade 3 + 1.5 = 4.5
    assert qs[0].tolist() == [5.5, 4.5]


@pytest.mark.parametrize("kind", [RA, L3])
def test_queue_on_trade_risk_adverse_only_moves_front(kind):
    qs = _q(10.0)
    QK.queue_on_trade(kind, _qp(), qs, 0, 3.0)
    assert qs[0].tolist() == [7.0, 0.0]


# ------------------------------------------------------------------ queue: depth updates
@pytest.mark.parametrize("kind", [RA, L3])
def test_queue_on_depth_risk_adverse_decrease_only_caps(kind):
    # front 7 ahead in a level of 20 that drops to 12: cancellations are assumed behind us,
    # front = min(7, 12) = 7; a drop to 5 caps it: min(7, 5) = 5; a rise to 30 keeps 5.
    qs = _q(7.0)
    QK.queue_on_depth(kind, _qp(), qs, 0, 20.0, 12.0)
    assert qs[0, 0] == 7.0
    QK.queue_on_depth(kind, _qp(), qs, 0, 12.0, 5.0)
    assert qs[0, 0] == 5.0
    QK.queue_on_depth(kind, _qp(), qs, 0, 5.0, 30.0)
    assert qs[0, 0] == 5.0


def test_queue_on_depth_power_decrease_split_ahead_and_behind():
    # n = 2, front F = 10, level 16 -> 12, no trades: chg = 4, back B = 16 - 10 = 6,
    # p = 6^2 / (6^2 + 10^2) = 36/136 = 9/34,
    # est = 10 - (25/34) * 4 + min(6 - (9/34) * 4, 0) = 10 - 100/34 + 0 = 120/17 = 7.0588...
    qs = _q(10.0)
    QK.queue_on_depth(POW, _qp(2.0), qs, 0, 16.0, 12.0)
    assert qs[0, 0] == pytest.approx(120.0 / 17.0, rel=1e-15)
    assert qs[0, 1] == 0.0


def test_queue_on_depth_power_nets_out_trades_since_last_update():
    # n = 2, F = 120/17 after the update above; a trade of 2 at our price:
    # F = 120/17 - 2 = 86/17, cum = 2. Then the level 12 -> 9: chg = 3 - 2 = 1,
    # B = 12 - 86/17 = 118/17, p = 118^2 / (118^2 + 86^2) = 13924 / 21320,
    # est = 86/17 - (1 - p) * 1 + min(118/17 - p, 0) = 86/17 - 7396/21320 = 5.0588235 - 0.3469043 = 4.7119192
    qs = _q(120.0 / 17.0)
    QK.queue_on_trade(POW, _qp(2.0), qs, 0, 2.0)
    assert qs[0, 1] == 2.0
    QK.queue_on_depth(POW, _qp(2.0), qs, 0, 12.0, 9.0)
    assert qs[0, 0] == pytest.approx(86.0 / 17.0 - 7396.0 / 21320.0, rel=1e-14)
    assert qs[0, 0] == pytest.approx(4.7119192, abs=1e-7)
    assert qs[0, 1] == 0.0  # reset by the depth update


def test_queue_on_depth_log_decrease_split():
    # f(x) = ln(1 + x); F = 3, level 10 -> 6, chg = 4, B = 7:
    # p = ln 8 / (ln 8 + ln 4) = 3 ln 2 / 5 ln 2 = 0.6,
    # est = 3 - 0.4 * 4 + min(7 - 0.6 * 4, 0) = 3 - 1.6 = 1.4
    qs = _q(3.0)
    QK.queue_on_depth(LOG, _qp(), qs, 0, 10.0, 6.0)
    assert qs[0, 0] == pytest.approx(1.4, rel=1e-14)


def test_queue_on_depth_power_decrease_larger_than_back_eats_front():
    # n = 2, F = 2, level 3 -> 0 (chg 3), B = 1: p = 1 / (1 + 4) = 0.2,
    # est = 2 - 0.8 * 3 + min(1 - 0.6, 0) = 2 - 2.4 = -0.4; min(-0.4, new 0) = -0.4
    qs = _q(2.0)
    QK.queue_on_depth(POW, _qp(2.0), qs, 0, 3.0, 0.0)
    assert qs[0, 0] == pytest.approx(-0.4, abs=1e-15)


def test_queue_on_depth_power_back_overdrawn_term():
    # n = 2, F = 1, level 5 -> 0 (chg 5), B = 4: p = 16/17,
    # est = 1 - (1/17) * 5 + min(4 - 80/17, 0) = 1 - 5/17 - 12/17 = 0
    qs = _q(1.0)
    QK.queue_on_depth(POW, _qp(2.0), qs, 0, 5.0, 0.0)
    assert qs[0, 0] == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("kind", [POW, LOG])
def test_queue_on_depth_prob_increase_only_caps_and_resets_cum(kind):
    # level 10 -> 12 with a trade of 1 since the last update: chg = -2 - 1 = -3 < 0:
    # front = min(6, 12) = 6; cum_trade reset to 0
    qs = _q(6.0, 1.0)
    QK.queue_on_depth(kind, _qp(), qs, 0, 10.0, 12.0)
    assert qs[0].tolist() == [6.0, 0.0]
    # an "increase" that is really a decrease smaller than the trades: 10 -> 9 after
    # trades of 3: chg = 1 - 3 = -2 < 0, front = min(4, 9) = 4
    qs = _q(4.0, 3.0)
    QK.queue_on_depth(kind, _qp(), qs, 0, 10.0, 9.0)
    assert qs[0].tolist() == [4.0, 0.0]


def test_queue_on_depth_prob_nan_probability_takes_new_qty():
    # F = B = 0 (prev 0 -> new 0, chg 0): p = 0/0 = NaN in hftbacktest; est is NaN and
    # Rust's NaN.min(new_qty) is new_qty -> front = 0 (never NaN here).
    qs = _q(0.0)
    QK.queue_on_depth(POW, _qp(2.0), qs, 0, 0.0, 0.0)
    assert qs[0, 0] == 0.0
    # n = 0.5, F = 5 > prev 4 (B = -1): (-1)^0.5 is NaN -> front = new_qty = 2
    qs = _q(5.0)
    QK.queue_on_depth(POW, _qp(0.5), qs, 0, 4.0, 2.0)
    assert qs[0, 0] == 2.0
    # log, F = 2, prev 1 (B = -1): f(B) = ln 0 = -inf, p = -inf/-inf = NaN -> front = 0.5
    qs = _q(2.0)
    QK.queue_on_depth(LOG, _qp(), qs, 0, 1.0, 0.5)
    assert qs[0, 0] == 0.5


def test_queue_on_depth_prob_integer_power_of_negative_back_is_defined():
    # n = 2, F = 5, prev 4 (B = -1), new 2, chg 2: p = 1/26,
    # est = 5 - (25/26) * 2 + min(-1 - 2/26, 0) = 5 - 50/26 - 28/26 = 2; min(2, 2) = 2
    qs = _q(5.0)
    QK.queue_on_depth(POW, _qp(2.0), qs, 0, 4.0, 2.0)
    assert qs[0, 0] == pytest.approx(2.0, abs=1e-14)
    # n = 3: f(-1) = -1, f(5) = 125, p = -1/124; est = 5 - (125/124)*2 + min(-1 + 2/124, 0)
    qs = _q(5.0)
    QK.queue_on_depth(POW, _qp(3.0), qs, 0, 4.0, 2.0)
    p = -1.0 / 124.0
    assert qs[0, 0] == pytest.approx(min(5 - (1 - p) * 2 + min(-1 - p * 2, 0.0), 2.0))


def test_queue_on_depth_log_infinite_probability_is_one():
    # F = 1, prev 0.5 (B = -0.5): ln(0.5) + ln(2) == 0 exactly, so p = ln(0.5)/0 = -inf,
    # which hftbacktest maps to 1: est = F + B - chg = new = 0.4
    assert math.log(0.5) + math.log(2.0) == 0.0
    qs = _q(1.0)
    QK.queue_on_depth(LOG, _qp(), qs, 0, 0.5, 0.4)
    assert qs[0, 0] == pytest.approx(0.4, abs=1e-15)


# ------------------------------------------------------------------ queue: fills
@pytest.mark.parametrize(
    ("front", "lot", "filled", "front_after"),
    [
        (3.0, 1.0, 0.0, 3.0),  # still queued
        (0.0, 1.0, 0.0, 0.0),  # at the head: nothing traded through us yet
        (-0.4, 1.0, 0.0, -0.4),  # round(0.4) = 0 lots: nothing, front kept
        (-0.5, 1.0, 1.0, 0.0),  # round(0.5) = 1 (half away from zero): one lot, reset
        (-1.4, 1.0, 1.0, 0.0),  # round(1.4) = 1 lot; the 0.4 excess is dropped with the reset
        (-1.5, 1.0, 2.0, 0.0),  # round(1.5) = 2 lots
        (-2.5, 1.0, 3.0, 0.0),  # half away from zero, not to even
        (-0.25, 0.1, 0.30000000000000004, 0.0),  # 2.5 lots -> 3 * 0.1
        (-0.049999, 0.1, 0.0, -0.049999),  # 0.49999 lots -> 0
        (-0.49999999999999994, 1.0, 0.0, -0.49999999999999994),  # not floor(v + 0.5)
    ],
)
@pytest.mark.parametrize("kind", [RA, POW, LOG, L3])
def test_queue_filled_qty_rounds_to_lots(kind, front, lot, filled, front_after):
    qs = _q(front)
    got = QK.queue_filled_qty(kind, _qp(), qs, 0, lot)
    assert got == filled
    assert qs[0, 0] == front_after


def test_queue_filled_qty_zero_lot_returns_zero():
    qs = _q(-5.0)
    assert QK.queue_filled_qty(RA, _qp(), qs, 0, 0.0) == 0.0
    assert qs[0, 0] == -5.0


def test_queue_trade_then_fill_sequence_risk_adverse():
    # level 10 on entry; trades of 6 and 4.3: front 10 - 6 - 4.3 = -0.3 -> round(0.3) = 0;
    # a trade of 0.4 more: -0.7 -> round(0.7) = 1 lot filled, front reset to 0
    qs = _q(0.0)
    QK.queue_new(RA, _qp(), qs, 0, 10.0)
    QK.queue_on_trade(RA, _qp(), qs, 0, 6.0)
    QK.queue_on_trade(RA, _qp(), qs, 0, 4.3)
    assert QK.queue_filled_qty(RA, _qp(), qs, 0, 1.0) == 0.0
    QK.queue_on_trade(RA, _qp(), qs, 0, 0.4)
    assert QK.queue_filled_qty(RA, _qp(), qs, 0, 1.0) == 1.0
    assert qs[0, 0] == 0.0


# ------------------------------------------------------------------ latency: constant / feed
def test_constant_latency_per_action_exact():
    m = ConstantLatency(
        entry_ns=1_000, response_ns=2_000, modify_entry_ns=3_000, cancel_response_ns=4_000
    )
    kind, lp, log = m.to_arrays()
    assert kind == LatencyModelKind.CONSTANT
    assert lp.tolist() == [1_000, 2_000, 3_000, 2_000, 1_000, 4_000]
    assert log.shape == (0, 3) and log.dtype == np.int64
    for a, want in [(0, (1_000, 2_000)), (1, (3_000, 2_000)), (2, (1_000, 4_000))]:
        assert LK.order_latency(kind, lp, log, a, 123, 999) == want
        assert m.latencies(OrderAction(a)) == want
        assert LK.response_latency(kind, lp, log, a, 5, 0) == want[1]


def test_feed_proportional_latency_hand_worked():
    m = FeedProportionalLatency(
        entry_mul=0.5, entry_ns=100, response_mul=2.0, response_ns=0, cancel=(1, 0, 0, 7)
    )
    kind, lp, log = m.to_arrays()
    # submit: entry 0.5 * 1000 + 100 = 600, response 2 * 1000 + 0 = 2000
    assert LK.order_latency(kind, lp, log, 0, 0, 1_000) == (600, 2_000)
    # cancel override: entry 1 * 1000 + 0 = 1000, response 0 * 1000 + 7 = 7
    assert LK.order_latency(kind, lp, log, 2, 0, 1_000) == (1_000, 7)
    # feed 3 ns: 0.5 * 3 + 100 = 101.5 -> rounded half up 102; response 6
    assert LK.order_latency(kind, lp, log, 0, 0, 3) == (102, 6)
    # a negative feed latency (clock skew): 0.5 * -1000 + 100 = -400 -> clamped at 0
    assert LK.order_latency(kind, lp, log, 0, 0, -1_000) == (0, 0)


# ------------------------------------------------------------------ latency: replay
def _replay(rows) -> tuple[int, np.ndarray, np.ndarray]:
    return ReplayLatency(np.array(rows, dtype=np.int64)).to_arrays()


def test_replay_interpolates_entry_between_records():
    # records (ts, entry, resp): (1000, 100, 50), (2000, 300, 70).
    # t = 1500: entry = trunc(200/1000 * 500) + 100 = 200; exchange time 1700 lies between
    # the exchange times 1100 and 2300: resp = trunc(20/1200 * 600) + 50 = 60
    kind, lp, log = _replay([[1000, 100, 50], [2000, 300, 70]])
    assert LK.order_latency(kind, lp, log, 0, 1500, 0) == (200, 60)
    # clamped at the ends: before the first and at/after the last record
    assert LK.order_latency(kind, lp, log, 0, 0, 0) == (100, 50)
    assert LK.order_latency(kind, lp, log, 0, 2000, 0) == (300, 70)
    assert LK.order_latency(kind, lp, log, 0, 10**12, 0) == (300, 70)


def test_replay_interpolation_truncates_toward_zero():
    # (0, 101), (3, 100): t = 1 -> -1/3 * 1 = -0.33 -> trunc 0 -> 101 (floor would give 100)
    kind, lp, log = _replay([[0, 101, 0], [3, 100, 0]])
    assert LK.order_latency(kind, lp, log, 0, 1, 0)[0] == 101
    # (0, 100), (3, 101): t = 2 -> 1/3 * 2 = 0.67 -> trunc 0 -> 100 (round would give 101)
    kind, lp, log = _replay([[0, 100, 0], [3, 101, 0]])
    assert LK.order_latency(kind, lp, log, 0, 2, 0)[0] == 100


def test_replay_duplicate_timestamps_use_the_last_record():
    # two records at ts 10: the bracket of t = 10 starts at the last of them (hftbacktest's
    # scan skips the empty interval [10, 10))
    kind, lp, log = _replay([[10, 5, 1], [10, 7, 1], [20, 17, 1]])
    assert LK.order_latency(kind, lp, log, 0, 10, 0)[0] == 7
    assert LK.order_latency(kind, lp, log, 0, 15, 0)[0] == 12  # 7 + 10/10 * 5


def test_replay_rejection_convention():
    # (1000, 300, 70) accepted: round trip 370; (2000, -1, 500) rejected: round trip 500.
    # t = 1500 brackets a rejection: R = trunc(130/1000 * 500) + 370 = 435;
    # entry = -435 (< 0: rejected), resp = 435 (the reject reaches us at 1500 + 435)
    kind, lp, log = _replay([[1000, 300, 70], [2000, -1, 500], [3000, 100, 10]])
    assert LK.order_latency(kind, lp, log, 0, 1500, 0) == (-435, 435)
    # t = 2500 between the rejection (500) and (3000, 100, 10) (round trip 110):
    # R = trunc(-390/1000 * 500) + 500 = -195 + 500 = 305
    assert LK.order_latency(kind, lp, log, 0, 2500, 0) == (-305, 305)
    # at and after the last (accepted) record: accepted
    assert LK.order_latency(kind, lp, log, 0, 3000, 0) == (100, 10)


def test_replay_rejection_at_a_clamped_end_and_zero_round_trip():
    kind, lp, log = _replay([[1000, -1, 40], [2000, 10, 10]])
    assert LK.order_latency(kind, lp, log, 0, 0, 0) == (-40, 40)  # before the first record
    kind, lp, log = _replay([[1000, -1, 0]])
    # a rejection with a zero round trip still rejects: entry = -max(0, 1) = -1, resp = 0
    assert LK.order_latency(kind, lp, log, 0, 5000, 0) == (-1, 0)


def test_replay_response_latency_along_exchange_time():
    # accepted records at exchange times 1100 (resp 50) and 2300 (resp 70); the rejected
    # record in between is skipped; tau = 1700 -> trunc(20/1200 * 600) + 50 = 60
    kind, lp, log = _replay([[1000, 100, 50], [1500, -1, 999], [2000, 300, 70]])
    assert LK.response_latency(kind, lp, log, 0, 1700, 0) == 60
    assert LK.response_latency(kind, lp, log, 0, 0, 0) == 50  # before the first: clamped
    assert LK.response_latency(kind, lp, log, 0, 10**9, 0) == 70  # after the last: clamped


# ------------------------------------------------------------------ public models
def test_replay_latency_from_round_trips_and_frame():
    # hftbacktest rows (req, exch, resp): exch 0 marks a rejection
    m = ReplayLatency.from_round_trips([20, 0, 10], [25, 3, 0], [29, 8, 40])
    assert m.log.tolist() == [[0, 3, 5], [10, -1, 30], [20, 5, 4]]  # sorted by req_ts
    rec = np.zeros(2, dtype=[("req_ts", "i8"), ("exch_ts", "i8"), ("resp_ts", "i8")])
    rec["req_ts"], rec["exch_ts"], rec["resp_ts"] = [1, 2], [4, 0], [9, 7]
    assert ReplayLatency.from_round_trips(rec).log.tolist() == [[1, 3, 5], [2, -1, 5]]
    df = pd.DataFrame(
        {
            "ts_local": pd.to_datetime([1, 2], unit="ns"),
            "entry_ns": [1.0, 2.0],
            "response_ns": [3, 4],
        }
    )
    m = ReplayLatency(df)
    assert m.log.dtype == np.int64 and m.log.tolist() == [[1, 1, 3], [2, 2, 4]]
    assert m.to_frame().columns.tolist() == ["ts_local", "entry_ns", "response_ns"]
    assert m.kind == LatencyModelKind.REPLAY


@pytest.mark.parametrize(
    ("model", "kind", "qp"),
    [
        (RiskAdverseQueue(), QueueModelKind.RISK_ADVERSE, [0.0]),
        (PowerProbQueue(), QueueModelKind.PROB_POWER, [2.0]),
        (PowerProbQueue(n=3), QueueModelKind.PROB_POWER, [3.0]),
        (LogProbQueue(), QueueModelKind.PROB_LOG, [0.0]),
        (L3FifoQueue(), QueueModelKind.L3_FIFO, [0.0]),
    ],
)
def test_queue_models_to_arrays(model, kind, qp):
    k, arr = model.to_arrays()
    assert k == int(kind) and model.kind == kind
    assert arr.dtype == np.float64 and arr.tolist() == qp


def test_from_name_builds_models():
    assert queue_from_name("power_prob", n=4).n == 4.0
    assert isinstance(queue_from_name("Risk-Averse"), RiskAdverseQueue)
    assert isinstance(queue_from_name("log_prob"), LogProbQueue)
    assert isinstance(queue_from_name("l3_fifo"), L3FifoQueue)
    assert latency_from_name("constant", entry_ns=5, response_ns=6).latencies("modify") == (5, 6)
    assert isinstance(latency_from_name("feed", entry_mul=2.0), FeedProportionalLatency)
    assert isinstance(latency_from_name("replay", log=[[0, 1, 2]]), ReplayLatency)


def test_queue_registry_is_the_one_table_of_names():
    assert list(QUEUE_MODELS) == ["risk_adverse", "power_prob", "log_prob", "l3_fifo"]
    assert dict(QUEUE_MODELS.aliases) == {
        "risk_averse": "risk_adverse", "power": "power_prob", "prob_power": "power_prob",
        "log": "log_prob", "prob_log": "log_prob", "l3": "l3_fifo"}
    for alias, name in QUEUE_MODELS.aliases.items():
        assert QUEUE_MODELS[alias] is QUEUE_MODELS[name]
        assert type(queue_from_name(alias)) is QUEUE_MODELS[name]
    assert "Power" in QUEUE_MODELS and "fifo" not in QUEUE_MODELS and 3 not in QUEUE_MODELS
    assert QUEUE_MODELS.get("fifo") is None  # Mapping semantics: a miss is a KeyError
    assert QUEUE_MODELS.name_of(PowerProbQueue(n=3.0)) == "power_prob"
    assert LATENCY_MODELS.canonical("intp") == "replay"
    assert isinstance(QUEUE_MODELS, ModelRegistry)


def test_registries_are_read_only():
    with pytest.raises(TypeError):
        QUEUE_MODELS["fifo"] = L3FifoQueue  # type: ignore[index]
    with pytest.raises(TypeError):
        QUEUE_MODELS.aliases["fifo"] = "l3_fifo"  # type: ignore[index]


def test_registry_unknown_name_suggests_the_closest():
    with pytest.raises(ParameterError, match="did you mean 'power'"):
        QUEUE_MODELS.canonical("powr")
    with pytest.raises(ParameterError, match="expected one of"):
        QUEUE_MODELS.name_of(object())


@pytest.mark.parametrize(
    ("build", "key"),
    [
        (lambda: ConstantLatency(entry_ns=-1, response_ns=0), "entry_ns"),
        (lambda: ConstantLatency(entry_ns=1, response_ns=float("nan")), "response_ns"),
        (lambda: ConstantLatency(entry_ns=1, response_ns=1, cancel_entry_ns=-5), "cancel_entry_ns"),
        (lambda: ConstantLatency(entry_ns=1.5, response_ns=1), "entry_ns"),
        (lambda: ConstantLatency(entry_ns=True, response_ns=1), "entry_ns"),
        (lambda: ConstantLatency(entry_ns="1ms", response_ns=1), "entry_ns"),
        (lambda: FeedProportionalLatency(entry_mul=-1.0), "entry_mul"),
        (lambda: FeedProportionalLatency(response_ns=float("inf")), "response_ns"),
        (lambda: FeedProportionalLatency(modify=(1, 2, 3)), "modify"),
        (lambda: FeedProportionalLatency(cancel=(1, -2, 3, 4)), "cancel.entry_ns"),
        (lambda: ReplayLatency(np.zeros((0, 3), dtype=np.int64)), "0 rows"),
        (lambda: ReplayLatency(np.array([[2, 1, 1], [1, 1, 1]])), "ts_local"),
        (lambda: ReplayLatency(np.array([[1, 1, -1]])), "response_ns"),
        (lambda: ReplayLatency(np.array([[1.0, np.nan, 1.0]])), "entry_ns"),
        (lambda: ReplayLatency(np.zeros((2, 2))), "shape"),
        (lambda: ReplayLatency(pd.DataFrame({"ts_local": [1], "entry_ns": [1]})), "response_ns"),
        (lambda: ReplayLatency.from_round_trips([5], [3], [9]), "exch_ts"),
        (lambda: ReplayLatency.from_round_trips([1], [3], [2]), "resp_ts"),
        (lambda: ReplayLatency.from_round_trips([1, 2], [3], [4]), "lengths"),
        (lambda: ReplayLatency.from_round_trips(pd.DataFrame({"req_ts": [1]})), "exch_ts"),
        (lambda: PowerProbQueue(n=0.0), "n was 0.0"),
        (lambda: PowerProbQueue(n=-2), "n was -2"),
        (lambda: PowerProbQueue(n=float("nan")), "n was nan"),
        (lambda: queue_from_name("fifo"), "'fifo'"),
        (lambda: queue_from_name("power_prob", power=2), "'power'"),
        (lambda: latency_from_name("constant", entry_ns=1, response_ns=1, foo=2), "'foo'"),
        (lambda: latency_from_name(3), "3"),
        (lambda: action_code("amend"), "'amend'"),
        (lambda: action_code(3), "action was 3"),
    ],
)
def test_models_validation_errors_name_the_key(build, key):
    with pytest.raises(ParameterError, match=key.replace("(", r"\(").replace(".", r"\.")) as info:
        build()
    assert isinstance(info.value, QlibError) and isinstance(info.value, ValueError)


def test_models_are_frozen():
    m = ConstantLatency(entry_ns=1, response_ns=2)
    with pytest.raises(AttributeError):
        m.entry_ns = 5  # type: ignore[misc]
    r = ReplayLatency(np.array([[0, 1, 2]]))
    with pytest.raises(ValueError):
        r.log[0, 0] = 7


def test_action_code_accepts_names_and_codes():
    assert action_code("cancel") == 2
    assert action_code(OrderAction.MODIFY) == 1
    assert action_code(0) == 0
