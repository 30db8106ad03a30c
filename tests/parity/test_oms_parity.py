"""OMS kernels jitted against their pure-Python ``.py_func``, on the same random inputs.

``.py_func`` runs the top-level kernel's body in Python (the helpers it calls stay
jitted); state arrays must end bit-identical and every status must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

from qlib.dtypes import FILL_DTYPE, ORDER_DTYPE, ORDER_JOURNAL_DTYPE
from qlib.enums import LiquiditySide, OrderEvent, OrderStatus, Side
from qlib.instrument import Instrument
from qlib.oms import TRANSITIONS, Portfolio
from qlib.oms import _kernels as K

N = 400


def _same(a: np.ndarray, b: np.ndarray) -> None:
    """Bit-identical arrays (NaNs included, which ``assert_array_equal`` refuses on records)."""
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def _orders(n: int) -> np.ndarray:
    o = np.zeros(n, dtype=ORDER_DTYPE)
    o["order_id"] = np.arange(n) + 100
    o["qty"] = 4.0
    o["px_tick"] = 100
    o["side"] = Side.BUY
    o["state"] = OrderStatus.NEW
    o["resume_state"] = OrderStatus.LIVE
    return o


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_order_event_jit_equals_py_func(seed):
    rng = np.random.default_rng(seed)
    states = [[_orders(5), np.zeros(64, ORDER_JOURNAL_DTYPE), np.zeros(1, np.int64)] for _ in range(2)]
    ts = 0
    for _ in range(N):
        slot = int(rng.integers(-1, 6))  # includes out-of-range slots
        ev = int(rng.integers(0, len(OrderEvent)))
        ts += int(rng.integers(-1, 4))  # includes time going back
        qty = float(rng.choice([0.5, 1.0, 2.5, 4.0, 0.0, np.nan]))
        px = int(rng.integers(-1, 110))
        out = []
        for fn, (o, j, jl) in zip((K.order_event, K.order_event.py_func), states):
            if jl[0] == j.shape[0]:
                jl[0] = 0  # recycle the journal; both sides alike
            out.append(int(fn(TRANSITIONS, o, slot, ev, ts, qty, px, j, jl)))
        assert out[0] == out[1]
    for a, b in zip(*states):
        _same(a, b)


def _fills(rng: np.random.Generator, n: int) -> np.ndarray:
    f = np.zeros(n, dtype=FILL_DTYPE)
    f["ts_exch"] = np.cumsum(rng.integers(0, 3, n))
    f["order_id"] = rng.integers(100, 105, n)
    f["px_tick"] = rng.integers(90, 110, n)
    f["qty"] = rng.choice([0.5, 1.0, 1.5], n)
    f["side"] = rng.choice([Side.BUY, Side.SELL], n)
    f["liquidity"] = rng.choice([LiquiditySide.MAKER, LiquiditySide.TAKER], n)
    return f


def test_order_apply_fills_jit_equals_py_func():
    rng = np.random.default_rng(3)
    fills = _fills(rng, 60)
    slots = (fills["order_id"] - 100).astype(np.int64)
    slots[::7] = -1
    res = []
    arrs = []
    for fn in (K.order_apply_fills, K.order_apply_fills.py_func):
        o = _orders(5)
        o["state"] = OrderStatus.LIVE
        o["qty"] = 50.0
        j, jl = np.zeros(128, ORDER_JOURNAL_DTYPE), np.zeros(1, np.int64)
        res.append(tuple(int(x) for x in fn(TRANSITIONS, o, slots, fills, j, jl)))
        arrs.append((o, j, jl))
    assert res[0] == res[1]
    for a, b in zip(*arrs):
        _same(a, b)


def _portfolio(inverse: bool) -> Portfolio:
    if inverse:
        ins = [Instrument("BTCUSD.X", tick_size=0.5, multiplier=100.0, currency="BTC", inverse=True,
                          taker_fee_bps=5.0, maker_fee_bps=-1.0)]
    else:
        ins = [Instrument("ES.CME", tick_size=0.25, multiplier=50.0, taker_fee_bps=1.0, maker_fee_bps=-0.5),
               Instrument("NQ.CME", tick_size=0.25, multiplier=20.0, taker_fee_bps=1.0)]
    return Portfolio(ins, cash=10.0, lot_capacity=8)


@pytest.mark.parametrize("inverse", [False, True])
def test_portfolio_kernels_jit_equal_py_func(inverse):
    rng = np.random.default_rng(4)
    pfs = [_portfolio(inverse), _portfolio(inverse)]
    n_ins = len(pfs[0].instruments)
    for ts in range(N):
        i = int(rng.integers(-1, n_ins + 1))
        side = int(rng.choice([1, -1, 1, -1, 0]))
        qty = float(rng.choice([1.0, 2.0, 3.5, -1.0, np.nan]))
        px = int(rng.integers(-1, 400)) + 40_000
        liq = int(rng.choice([1, 2, 1, 2, 0]))
        tsv = ts - int(rng.integers(0, 2))
        s = [int(fn(pf.position_state, pf.lots_qty, pf.lots_px, pf.cash, i, side, qty, px, liq, tsv))
             for fn, pf in zip((K.portfolio_fill, K.portfolio_fill.py_func), pfs)]
        assert s[0] == s[1]
        if ts % 5 == 0:
            m = [int(fn(pf.position_state, i, px + 3)) for fn, pf in
                 zip((K.portfolio_mark, K.portfolio_mark.py_func), pfs)]
            assert m[0] == m[1]
        eq = [fn(pf.position_state, pf.cash) for fn, pf in
              zip((K.portfolio_equity, K.portfolio_equity.py_func), pfs)]
        assert eq[0] == eq[1]
    a, b = pfs
    _same(a.position_state, b.position_state)
    _same(a.lots_qty, b.lots_qty)
    _same(a.lots_px, b.lots_px)
    _same(a.cash, b.cash)
    outs = []
    for fn in (K.portfolio_unrealized, K.portfolio_unrealized.py_func):
        ua, uf = np.zeros(n_ins), np.zeros(n_ins)
        fn(a.position_state, a.lots_qty, a.lots_px, ua, uf)
        outs.append((ua, uf))
    _same(outs[0][0], outs[1][0])
    _same(outs[0][1], outs[1][1])
    assert a.position_state["n_fills"].sum() > 20  # the random script did book fills


def test_portfolio_apply_fills_jit_equals_py_func():
    rng = np.random.default_rng(5)
    fills = _fills(rng, 80)
    instr = rng.integers(-1, 2, 80).astype(np.int64)
    pfs = [_portfolio(False), _portfolio(False)]
    res = [tuple(int(x) for x in fn(pf.position_state, pf.lots_qty, pf.lots_px, pf.cash, instr, fills))
           for fn, pf in zip((K.portfolio_apply_fills, K.portfolio_apply_fills.py_func), pfs)]
    assert res[0] == res[1]
    _same(pfs[0].position_state, pfs[1].position_state)
    _same(pfs[0].cash, pfs[1].cash)
