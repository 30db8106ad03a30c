"""Queue and latency kernels against their ``.py_func``, against a literal transliteration
of hftbacktest 2.4's Rust code, and against hftbacktest 2.4.4 itself.

* jitted vs ``.py_func`` on the same random operation sequences (bit-identical);
* :func:`_rust_depth`: ``ProbQueueModel::depth`` of ``hftbacktest/src/backtest/models/
  queue.rs`` written out line by line with IEEE NaN/inf propagation and Rust's
  ``f64::min`` (the kernels take the same branches without ever storing a NaN);
* hftbacktest (``pytest.importorskip``): one resting buy order through a random stream of
  trades and depth updates at its price, on ``no_partial_fill_exchange`` with each queue
  model: the event at which hftbacktest fills it is the event at which our kernels first
  report an executable quantity; and ``intp_order_latency`` with rejection records: the
  exchange/response timestamps of accepted orders and the arrival time of the reject.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from qlib.engine import _latency_kernels as LK
from qlib.engine import _queue_kernels as QK
from qlib.engine.models import ReplayLatency
from qlib.enums import QueueModelKind

KINDS = [int(k) for k in QueueModelKind]
POW = int(QueueModelKind.PROB_POWER)
LOG = int(QueueModelKind.PROB_LOG)


def _py(f):
    return getattr(f, "py_func", f)  # plain functions under NUMBA_DISABLE_JIT


# ------------------------------------------------------------------ jit vs py_func
def _queue_script(seed: int, n: int = 400) -> list[tuple]:
    rng = np.random.default_rng(seed)
    level = 10.0
    out = []
    for _ in range(n):
        u = rng.random()
        if u < 0.1:
            out.append(("new", float(rng.choice([0.0, level]))))
        elif u < 0.45:
            out.append(("trade", float(rng.choice([0.5, 1.0, 1.5, 2.5, rng.random() * 4]))))
        elif u < 0.85:
            new = max(0.0, level + float(rng.choice([-3.0, -1.5, -0.5, 0.0, 1.0, 2.5])))
            out.append(("depth", level, new))
            level = new
        else:
            out.append(("fill", float(rng.choice([1.0, 0.1, 0.5]))))
    return out


def _run_queue(fns, kind, qp, script):
    new, trade, depth, filled = fns
    qs = np.zeros((3, 2))
    log = []
    for op in script:
        if op[0] == "new":
            new(kind, qp, qs, 1, op[1])
        elif op[0] == "trade":
            trade(kind, qp, qs, 1, op[1])
        elif op[0] == "depth":
            depth(kind, qp, qs, 1, op[1], op[2])
        else:
            log.append(filled(kind, qp, qs, 1, op[1]))
        log.append(qs.copy())
    return log


QUEUE_JIT = (QK.queue_new, QK.queue_on_trade, QK.queue_on_depth, QK.queue_filled_qty)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_power", [0.5, 2.0, 3.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_queue_kernels_jit_equals_py_func(kind, n_power, seed):
    qp = np.array([n_power])
    script = _queue_script(seed)
    a = _run_queue(QUEUE_JIT, kind, qp, script)
    b = _run_queue(tuple(_py(f) for f in QUEUE_JIT), kind, qp, script)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
        assert np.all(np.isfinite(x))


def _random_log(rng, n, p_reject=0.2):
    ts = np.sort(rng.integers(0, 10**9, n))
    entry = rng.integers(0, 10**6, n)
    entry[rng.random(n) < p_reject] = -1
    resp = rng.integers(0, 10**6, n)
    return np.stack([ts, entry, resp], axis=1).astype(np.int64)


@pytest.mark.parametrize("seed", range(5))
def test_latency_kernels_jit_equals_py_func(seed):
    rng = np.random.default_rng(seed)
    log = _random_log(rng, int(rng.integers(1, 30)))
    lp_c = rng.integers(0, 10**6, 6).astype(np.float64)
    lp_f = np.abs(rng.normal(size=12)) * np.tile([1.0, 1e4, 1.0, 1e4], 3)
    empty = np.zeros((0, 3), dtype=np.int64)
    cases = [(0, lp_c, empty), (1, lp_f, empty), (2, np.zeros(1), log)]
    for kind, lp, lg in cases:
        for _ in range(200):
            t = int(rng.integers(-(10**6), 11 * 10**8))
            a = int(rng.integers(0, 3))
            feed = int(rng.integers(-(10**5), 10**7))
            got = LK.order_latency(kind, lp, lg, a, t, feed)
            want = _py(LK.order_latency)(kind, lp, lg, a, t, feed)
            assert tuple(int(v) for v in got) == tuple(int(v) for v in want)
            got_r = LK.response_latency(kind, lp, lg, a, t, feed)
            assert int(got_r) == int(_py(LK.response_latency)(kind, lp, lg, a, t, feed))


# ------------------------------------------------------------------ Rust transliteration
def _rust_min(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return min(a, b)


def _libm_pow(x: float, n: float) -> float:
    """glibc ``pow`` (Rust's ``powf``), with its NaN/inf results instead of exceptions.

    ``np.power`` may use a SIMD implementation that differs in the last bit."""
    try:
        return math.pow(x, n)
    except ValueError:
        return math.nan
    except OverflowError:
        return -math.inf if (x < 0 and n % 2 == 1) else math.inf


def _libm_ln(y: float) -> float:
    if y < 0 or math.isnan(y):
        return math.nan
    return -math.inf if y == 0 else math.log(y)


def _rust_depth(kind: int, n: float, front: float, cum: float, prev: float, new: float):
    """``ProbQueueModel::depth`` (hftbacktest 2.4 queue.rs) with IEEE semantics (numpy
    float64 scalars for NaN/inf propagation, glibc ``pow``/``log`` as Rust)."""
    with np.errstate(all="ignore"):
        chg = np.float64(prev) - np.float64(new)
        chg = chg - np.float64(cum)
        if chg < 0.0:
            return _rust_min(front, new), 0.0
        front = np.float64(front)
        back = np.float64(prev) - front
        if kind == POW:
            fb, ff = np.float64(_libm_pow(back, n)), np.float64(_libm_pow(front, n))
        else:
            fb, ff = np.float64(_libm_ln(1.0 + back)), np.float64(_libm_ln(1.0 + front))
        prob = fb / (fb + ff)
        if np.isinf(prob):
            prob = np.float64(1.0)
        est = front - (1.0 - prob) * chg + _rust_min(float(back - prob * chg), 0.0)
        return _rust_min(float(est), new), 0.0


@pytest.mark.parametrize("kind", [POW, LOG])
@pytest.mark.parametrize("n_power", [0.5, 1.0, 2.0, 3.0])
def test_queue_on_depth_equals_rust_transliteration(kind, n_power):
    rng = np.random.default_rng(int(kind * 10 + n_power * 4))
    specials = [0.0, -0.5, -1.0, -2.0, 0.5, 1.0, 1e-300, 1e200]
    for _ in range(3000):
        front = float(rng.choice(specials)) if rng.random() < 0.3 else rng.normal(5, 5)
        prev = float(rng.choice(specials)) if rng.random() < 0.3 else abs(rng.normal(8, 6))
        new = max(0.0, prev - abs(rng.normal(0, 4))) if rng.random() < 0.8 else prev + 1.0
        cum = float(rng.choice([0.0, 0.0, 0.5, abs(rng.normal(0, 2))]))
        qs = np.array([[front, cum]])
        QK.queue_on_depth(kind, np.array([n_power]), qs, 0, prev, new)
        want_front, want_cum = _rust_depth(kind, n_power, front, cum, prev, new)
        assert qs[0, 1] == want_cum
        assert qs[0, 0] == want_front, (front, cum, prev, new)  # bit for bit
        assert not math.isnan(qs[0, 0])


# ------------------------------------------------------------------ against hftbacktest
P_TICK = 100
#: hftbacktest's Python layer is numba code around its Rust core: it cannot run unjitted.
needs_jit = pytest.mark.skipif(
    numba.config.DISABLE_JIT, reason="hftbacktest cannot run under NUMBA_DISABLE_JIT=1"
)


def _queue_stream(seed: int, n: int = 40):
    """A random stream of trades (sellers hitting our bid price) and depth updates there."""
    hbt = pytest.importorskip("hftbacktest")
    from hftbacktest.binding import event_dtype

    rng = np.random.default_rng(seed)
    both = hbt.EXCH_EVENT | hbt.LOCAL_EVENT
    bid, ask = both | hbt.BUY_EVENT | hbt.DEPTH_EVENT, both | hbt.SELL_EVENT | hbt.DEPTH_EVENT
    level0 = float(rng.choice([7.5, 12.0, 20.0]))
    rows = [(bid, 10, 10, P_TICK, level0, 0, 0, 0.0), (ask, 10, 10, P_TICK + 5, 50.0, 0, 0, 0.0)]
    ops = []
    level = level0
    for k in range(n):
        t = 100 * (k + 1)
        if rng.random() < 0.4:
            q = float(rng.choice([0.5, 1.0, 1.5, 2.5, 3.0, 0.25, 0.75]))
            rows.append((both | hbt.SELL_EVENT | hbt.TRADE_EVENT, t, t, P_TICK, q, 0, 0, 0.0))
            ops.append(("trade", q))
        else:
            new = max(0.0, level + float(rng.choice([-6.0, -3.5, -1.0, -0.5, 0.5, 2.0, 3.5])))
            rows.append((bid, t, t, P_TICK, new, 0, 0, 0.0))
            ops.append(("depth", new))
            level = new
    return np.array(rows, dtype=event_dtype), ops, level0


def _hbt_fill_event(events, n_ops, kind, n_power):
    """Index of the stream event after which hftbacktest reports our order filled (-1: never)."""
    hbt_mod = pytest.importorskip("hftbacktest")
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest

    asset = BacktestAsset().data(events).linear_asset(1.0).constant_order_latency(0, 0)
    if kind == POW:
        asset = asset.power_prob_queue_model(float(n_power))
    elif kind == LOG:
        asset = asset.log_prob_queue_model()
    else:
        asset = asset.risk_adverse_queue_model()
    asset = (
        asset.no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(1.0)
        .lot_size(1.0)
    )
    bt = HashMapMarketDepthBacktest([asset])
    try:
        bt.elapse(50)
        bt.submit_buy_order(0, 1, float(P_TICK), 1.0, hbt_mod.GTC, hbt_mod.LIMIT, False)
        for k in range(n_ops):
            bt.elapse(100)
            if bt.state_values(0).position > 0:
                return k
        return -1
    finally:
        bt.close()


def _our_fill_event(ops, kind, n_power, level0):
    qs = np.zeros((1, 2))
    qp = np.array([n_power])
    QK.queue_new(kind, qp, qs, 0, level0)
    level = level0
    for k, (op, v) in enumerate(ops):
        if op == "trade":
            QK.queue_on_trade(kind, qp, qs, 0, v)
            if QK.queue_filled_qty(kind, qp, qs, 0, 1.0) > 0.0:
                return k
        else:
            QK.queue_on_depth(kind, qp, qs, 0, level, v)
            level = v
    return -1


@needs_jit
@pytest.mark.parametrize(
    ("kind", "n_power"),
    [
        (int(QueueModelKind.RISK_ADVERSE), 0.0),
        (POW, 2.0),
        (POW, 3.0),
        (POW, 0.5),
        (LOG, 0.0),
    ],
)
def test_queue_fill_event_equals_hftbacktest(kind, n_power):
    pytest.importorskip("hftbacktest")
    fills = []
    for seed in range(25):
        events, ops, level0 = _queue_stream(seed)
        want = _hbt_fill_event(events, len(ops), kind, n_power)
        got = _our_fill_event(ops, kind, n_power, level0)
        assert got == want, f"seed {seed}: ours {got}, hftbacktest {want}"
        fills.append(got)
    assert sum(f >= 0 for f in fills) >= 15  # the streams do exercise fills


@needs_jit
def test_replay_latency_equals_hftbacktest_intp_order_latency():
    hbt_mod = pytest.importorskip("hftbacktest")
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
    from hftbacktest.binding import event_dtype

    lat_dtype = np.dtype(
        [("req_ts", "i8"), ("exch_ts", "i8"), ("resp_ts", "i8"), ("_padding", "i8")], align=True
    )
    both = hbt_mod.EXCH_EVENT | hbt_mod.LOCAL_EVENT
    bid = both | hbt_mod.BUY_EVENT | hbt_mod.DEPTH_EVENT
    ask = both | hbt_mod.SELL_EVENT | hbt_mod.DEPTH_EVENT
    events = np.array(
        [
            (bid, 1, 1, 1.0, 5.0, 0, 0, 0.0),
            (ask, 1, 1, 1000.0, 5.0, 0, 0, 0.0),
            (bid, 10**12, 10**12, 1.0, 6.0, 0, 0, 0.0),
        ],
        dtype=event_dtype,
    )
    rng = np.random.default_rng(3)
    req = np.unique(rng.integers(0, 10**10, 14)) + 10**8
    lat = np.zeros(req.size, dtype=lat_dtype)
    lat["req_ts"] = req
    lat["exch_ts"] = req + rng.integers(1_000, 500_000, req.size)
    lat["resp_ts"] = lat["exch_ts"] + rng.integers(1_000, 500_000, req.size)
    lat["exch_ts"][[3, 4, 9]] = 0  # rejections (hftbacktest: exchange timestamp 0)
    asset = (
        BacktestAsset()
        .data(events)
        .linear_asset(1.0)
        .intp_order_latency(lat)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(1.0)
        .lot_size(1.0)
    )
    bt = HashMapMarketDepthBacktest([asset])
    kind, lp, log = ReplayLatency.from_round_trips(lat).to_arrays()
    n_ok = n_rej = 0
    try:
        t_next = 0
        for k in range(80):
            t_next += int(rng.integers(2_000_000, 150_000_000))
            bt.elapse(max(1, t_next - bt.current_timestamp))
            t = int(bt.current_timestamp)
            entry, resp = LK.order_latency(kind, lp, log, 0, t, 0)
            bt.submit_buy_order(0, k + 1, 10.0 + k, 1.0, hbt_mod.GTC, hbt_mod.LIMIT, False)
            if entry >= 0:
                bt.elapse(int(entry + resp) + 1)
                assert bt.order_latency(0) == (t, t + entry, t + entry + resp), k
                n_ok += 1
            else:
                bt.elapse(int(resp) - 1)  # the reject is not there yet...
                assert bt.orders(0).get(k + 1).status == hbt_mod.NONE, k
                bt.elapse(1)  # ...and arrives exactly resp ns after the request
                assert bt.current_timestamp == t + resp
                assert bt.orders(0).get(k + 1).status != hbt_mod.NONE, k
                n_rej += 1
    finally:
        bt.close()
    assert n_ok >= 20 and n_rej >= 5
