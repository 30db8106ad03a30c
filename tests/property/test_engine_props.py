r"""Invariants of :func:`qlib.engine.backtest` on random small L2 days (hypothesis).

Each example simulates an L3 day (random seed), converts it to L2, and backtests a
random built-in strategy under a random constant latency and queue model. Whatever the
draw:

* the position after each fill is the cumulative signed fill quantity;
* equity is cash + position x mid x tick value, on every interval record and at the
  end; cash is the capital minus the signed notional and the fees of the fills; the P&L
  attribution sums to the equity change;
* every journaled transition is a legal edge of the order state machine, applied with
  ``Status.OK``; the final states are valid and agree with the journal; an order's fills
  add up to its ``filled_qty`` and never exceed its quantity;
* no fill happens at the exchange before the order could have arrived there
  (send time + entry latency), and every fill is known locally exactly the response
  latency later.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qlib.book import to_l2
from qlib.data import simulate
from qlib.engine import backtest
from qlib.engine.fees import Fees
from qlib.engine.models import ConstantLatency, LogProbQueue, PowerProbQueue, RiskAdverseQueue
from qlib.enums import OrderEvent, OrderStatus
from qlib.oms.orders import TRANSITIONS
from qlib.strategy import GLFT, AvellanedaStoikov, GridMM, ImbalanceMM, TouchMM

VALID_STATES = {int(s) for s in OrderStatus if s != OrderStatus.NEW}


@st.composite
def scenarios(draw):
    seed = draw(st.integers(min_value=0, max_value=10_000))
    n_events = draw(st.integers(min_value=4_000, max_value=15_000))
    entry = draw(st.integers(min_value=0, max_value=20_000_000))
    response = draw(st.integers(min_value=0, max_value=20_000_000))
    queue = draw(st.sampled_from(["risk_adverse", "power", "log"]))
    power = draw(st.floats(min_value=0.5, max_value=4.0))
    qty = draw(st.sampled_from([1.0, 10.0, 100.0]))
    max_pos = qty * draw(st.integers(min_value=1, max_value=20))
    name = draw(st.sampled_from(["touch", "as", "glft", "grid", "imbalance"]))
    dec_ms = draw(st.sampled_from([10, 50, 100, 500]))
    return seed, n_events, entry, response, queue, power, qty, max_pos, name, dec_ms


def _strategy(name, qty, max_pos):
    return {
        "touch": lambda: TouchMM(order_qty=qty, max_position=max_pos),
        "as": lambda: AvellanedaStoikov(gamma=0.1, k=1.5, order_qty=qty, max_position=max_pos),
        "glft": lambda: GLFT(gamma=0.1, k=1.5, A=1.0, order_qty=qty, max_position=max_pos),
        "grid": lambda: GridMM(levels=3, step_ticks=1, offset_ticks=0, order_qty=qty,
                               max_position=max_pos),
        "imbalance": lambda: ImbalanceMM(alpha=2.0, half_spread_ticks=1, order_qty=qty,
                                         max_position=max_pos),
    }[name]()


def _queue(kind, power):
    if kind == "power":
        return PowerProbQueue(n=power)
    if kind == "log":
        return LogProbQueue()
    return RiskAdverseQueue()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_backtest_random_l2_days_keep_invariants(sc):
    seed, n_events, entry, response, queue, power, qty, max_pos, name, dec_ms = sc
    md = simulate(n_events=n_events, seed=seed, warmup_events=2_000)
    l2 = to_l2(md.events)
    fees = Fees(maker_bps=-0.5, taker_bps=2.0, per_qty=0.0005)
    res = backtest(l2, _strategy(name, qty, max_pos), instrument=md.instrument,
                   latency=ConstantLatency(entry_ns=entry, response_ns=response),
                   queue=_queue(queue, power), fees=fees, decision_interval=dec_ms * 1_000_000,
                   capital=10_000.0)
    tv = res.tick_value
    f = res.fills_array
    o = res.orders_array
    j = res.journal_array

    # position == cumsum of fills
    signed = f["side"].astype(np.float64) * f["qty"]
    np.testing.assert_array_equal(f["position"], np.cumsum(signed))
    assert res.position == (float(np.cumsum(signed)[-1]) if len(f) else 0.0)

    # equity identity
    r = res.equity_array
    np.testing.assert_allclose(r["equity"], r["cash"] + r["position"] * r["mid_tick"] * tv,
                               rtol=1e-12, atol=1e-9)
    cash = res.capital - float(np.sum(signed * f["px_tick"] * tv)) - float(np.sum(f["fee"]))
    assert abs(cash - res.cash) <= 1e-9 * max(1.0, abs(cash))
    eq = cash + float(np.sum(signed)) * res.final_mid_tick * tv
    assert abs(eq - res.final_equity) <= 1e-9 * max(1.0, abs(eq))
    att = res.attribution()
    assert abs(att["total"] - att["equity_change"]) <= 1e-9 * max(1.0, abs(att["equity_change"]))

    # legal states and transitions
    assert np.all(j["status"] == 0)
    last = {}
    for row in j:
        assert TRANSITIONS[int(row["from_state"]), int(row["event"])] != -1
        last[int(row["order_id"])] = int(row["to_state"])
    assert {int(s) for s in o["state"]} <= VALID_STATES
    for row in o:
        assert last[int(row["order_id"])] == int(row["state"])
    per = defaultdict(float)
    for row in f:
        per[int(row["order_id"])] += float(row["qty"])
    for row in o:
        assert abs(per.get(int(row["order_id"]), 0.0) - float(row["filled_qty"])) <= 1e-9
        assert row["filled_qty"] <= row["qty"] + 1e-9
    assert res.counters["orders_submitted"] == int(np.sum(j["event"] == OrderEvent.SUBMIT))

    # no fill before the order could reach the exchange; constant response latency
    sent = {int(row["order_id"]): int(row["ts_created"]) for row in o}
    for row in f:
        assert int(row["ts_exch"]) >= sent[int(row["order_id"])] + entry
    assert np.all(f["ts_local"] - f["ts_exch"] == response)
