"""Pre-trade kernels jitted against their pure-Python ``.py_func``, on the same random
operation scripts over the same initial state (every public kernel), and the
private helpers on random direct inputs."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from qlib.enums import PreTradeReject
from qlib.instrument import Instrument
from qlib.risk import PreTradeRisk, RiskConfig
from qlib.risk import _pretrade_kernels as K

CFG = RiskConfig(
    max_order_qty=4, max_order_notional=4000.0, max_position_qty=6, max_gross_notional=12_000.0,
    collar_bps=50, max_orders_per_s=20, order_burst=5, max_msgs_per_s=30, msg_burst=8,
    max_open_orders=6, max_daily_loss=300.0, max_drawdown=400.0, max_concentration=3.0,
    capital=2000.0, margin_rate=0.25, max_rejects=15, reject_window_ns=50_000_000,
    max_md_age_ns=400_000_000, max_latency_ns=900_000,
)
INSTS = [Instrument("AAA.X", tick_size=0.5), Instrument("BBB.X", tick_size=0.1, multiplier=5.0)]
KERNELS = ["pretrade_check", "throttle_message", "cancel_all", "update_reference", "mark_pnl",
           "observe_latency", "sync_orders", "set_position", "trip_kill", "reset_kill"]


def _fns(jit: bool) -> dict:
    # plain functions under NUMBA_DISABLE_JIT: then both sides run Python
    return {name: (getattr(K, name) if jit else _py(getattr(K, name))) for name in KERNELS}


def _py(f):
    return getattr(f, "py_func", f)


def _run(seed: int, jit: bool) -> tuple[list, PreTradeRisk]:
    rng = np.random.default_rng(seed)
    risk = PreTradeRisk(CFG, INSTS, journal_capacity=4096)
    f = _fns(jit)
    s, fs, j = risk.istate, risk.fstate, risk.journal_array
    ts = 1_000_000_000
    log: list = []
    for i in range(2):
        f["update_reference"](s, fs, i, ts, 1000 + 10 * i)
    out = np.zeros(2, dtype=np.int64)
    for _ in range(400):
        ts += int(rng.integers(-2_000_000, 40_000_000))
        op = rng.random()
        inst = int(rng.integers(0, 2))
        if op < 0.55:
            side = int(rng.choice([-1, 1] * 4 + [0]))
            px = int(1000 + 10 * inst + rng.integers(-8, 9))
            qty = float(rng.choice([0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0, -1.0]))
            otype = int(rng.choice([0, 0, 0, 1]))
            log.append(f["pretrade_check"](s, fs, j, int(rng.choice([inst] * 7 + [3])), side, px, qty, ts, otype))
        elif op < 0.62:
            log.append(f["throttle_message"](s, ts))
        elif op < 0.70:
            log.append(f["mark_pnl"](s, fs, j, ts, float(rng.normal(0.0, 60.0))))
        elif op < 0.74:
            log.append(f["observe_latency"](s, j, ts, int(rng.integers(0, 1_000_000))))
        elif op < 0.82:
            n_open = int(rng.integers(0, 3))
            f["sync_orders"](s, fs, inst, n_open, float(n_open), 0.0,
                             int(rng.choice([K.NO_BID, 995])), int(rng.choice([K.NO_ASK, 1005])))
        elif op < 0.87:
            f["set_position"](s, fs, inst, float(rng.integers(-5, 6)))
        elif op < 0.90:
            f["update_reference"](s, fs, inst, ts, int(1000 + 10 * inst + rng.integers(-3, 4)))
        elif op < 0.92:
            log.append(f["trip_kill"](s, j, ts, 1))
            k = f["cancel_all"](s, out)
            log.append((k, out[:k].tolist()))
        else:
            log.append(f["reset_kill"](s, j, ts, 1))
        log.append((s.tolist(), fs.tolist()))
    return log, risk


@pytest.mark.parametrize("seed", range(6))
def test_pretrade_kernels_jit_matches_py_func(seed: int) -> None:
    log_jit, r_jit = _run(seed, jit=True)
    log_py, r_py = _run(seed, jit=False)
    assert [x if isinstance(x, tuple) else int(x) for x in log_jit] == [
        x if isinstance(x, tuple) else int(x) for x in log_py
    ]
    np.testing.assert_array_equal(r_jit.istate, r_py.istate)
    np.testing.assert_array_equal(r_jit.fstate, r_py.fstate)
    np.testing.assert_array_equal(r_jit.journal_array, r_py.journal_array)


def test_pretrade_parity_script_reaches_many_codes() -> None:
    codes = set()
    for seed in range(6):
        log, _ = _run(seed, jit=True)
        codes |= {int(x) for x in log if not isinstance(x, tuple)}
    names = {PreTradeReject(c).name for c in codes if c in PreTradeReject._value2member_map_}
    assert {"APPROVED", "KILL_SWITCH", "BAD_INTENT", "MAX_ORDER_QTY", "PRICE_COLLAR",
            "POSITION_NET", "SELF_TRADE", "MAX_OPEN_ORDERS"} <= names


@pytest.mark.parametrize("seed", range(4))
def test_pretrade_helpers_jit_matches_py_func(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        base = np.zeros(K.I_HDR + K.I_BLOCKS, dtype=np.int64)
        base[K.I_N] = 1
        base[K.I_ORD_RATE] = int(rng.integers(1, 100))
        base[K.I_ORD_CAP] = int(rng.integers(1, 50)) * K.TOKEN
        base[K.I_ORD_CREDIT] = int(rng.integers(0, base[K.I_ORD_CAP] + 1))
        base[K.I_ORD_FULL_NS] = base[K.I_ORD_CAP] // base[K.I_ORD_RATE] + 1
        base[K.I_ORD_TS] = int(rng.integers(0, 10**10))
        base[K.I_MAX_REJECTS] = int(rng.integers(-1, 4))
        base[K.I_REJ_WINDOW] = int(rng.integers(1, 10**9))
        base[K.I_REJ_START] = int(rng.integers(0, 10**10))
        base[K.I_REJ_COUNT] = int(rng.integers(0, 4))
        ts = int(rng.integers(0, 2 * 10**10))
        a, b = base.copy(), base.copy()
        ja = np.zeros((2, 3), dtype=np.int64)
        jb = ja.copy()
        assert K._credit(a, K.I_ORD_CREDIT, K.I_ORD_TS, K.I_ORD_RATE, K.I_ORD_CAP, K.I_ORD_FULL_NS, ts) == \
            _py(K._credit)(b, K.I_ORD_CREDIT, K.I_ORD_TS, K.I_ORD_RATE, K.I_ORD_CAP, K.I_ORD_FULL_NS, ts)
        credit = int(a[K.I_ORD_CAP])
        K._charge(a, K.I_ORD_CREDIT, K.I_ORD_TS, credit, ts)
        _py(K._charge)(b, K.I_ORD_CREDIT, K.I_ORD_TS, credit, ts)
        assert K._reject(a, ja, ts, 6) == _py(K._reject)(b, jb, ts, 6)
        K._journal(a, ja, ts, 2, 1)
        _py(K._journal)(b, jb, ts, 2, 1)
        K._journal(a, ja, ts, 2, 1)
        _py(K._journal)(b, jb, ts, 2, 1)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ja, jb)


@njit(_nrt=False)
def _inline_driver(istate, fstate, journal, intents, out):
    for k in range(intents.shape[0]):
        out[k] = K.pretrade_check_inline(
            istate, fstate, journal, intents[k, 0], intents[k, 1], intents[k, 2],
            float(intents[k, 3]), intents[k, 4], intents[k, 5],
        )


@pytest.mark.parametrize("seed", range(3))
def test_pretrade_check_inline_matches_py_func(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    intents = np.column_stack([
        rng.choice([0, 1, 1, 3], n), rng.choice([-1, 1, 1, -1, 0], n), 1000 + rng.integers(-8, 19, n),
        rng.choice([1, 1, 2, 5], n), 1_000_000_000 + np.cumsum(rng.integers(0, 30_000_000, n)),
        rng.choice([0, 0, 1], n),
    ]).astype(np.int64)
    a = PreTradeRisk(CFG, INSTS)
    b = PreTradeRisk(CFG, INSTS)
    for r in (a, b):
        for i in range(2):
            r.on_market_data(i, ts_ns=1_000_000_000, ref_px_tick=1000 + 10 * i)
    out = np.zeros(n, dtype=np.int64)
    _inline_driver(a.istate, a.fstate, a.journal_array, intents, out)
    ref = [_py(K.pretrade_check)(b.istate, b.fstate, b.journal_array, int(x[0]), int(x[1]), int(x[2]),
                                    float(x[3]), int(x[4]), int(x[5])) for x in intents]
    assert out.tolist() == [int(c) for c in ref]
    assert len(set(ref)) >= 4
    np.testing.assert_array_equal(a.istate, b.istate)
    np.testing.assert_array_equal(a.fstate, b.fstate)
    np.testing.assert_array_equal(a.journal_array, b.journal_array)
