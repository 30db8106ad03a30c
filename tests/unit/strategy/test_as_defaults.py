"""Avellaneda-Stoikov's documented default gamma quotes near the touch and trades."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.errors import ParameterError
from qlib.strategy import DEFAULT_AS_GAMMA, AvellanedaStoikov, decide, make_view

T_OPEN = 34_200.0  # seconds from the simulated session's start to ts_end


def _view(position=0.0, tau=T_OPEN, sigma=1.4):
    return make_view(bid_px_tick=10_000, ask_px_tick=10_001, sigma_tick=sigma,
                     ts_local=0, ts_end=int(tau * 1e9), position=position)


def test_default_gamma_quotes_within_a_few_ticks_of_the_touch_at_the_open():
    spec = AvellanedaStoikov(gamma=DEFAULT_AS_GAMMA, k=0.73, order_qty=100.0,
                             max_position=1000.0)
    n, rows = decide(spec, _view())
    assert n == 2
    assert 10_000 - rows["px_tick"][0] <= 3 and rows["px_tick"][1] - 10_001 <= 3


def test_the_old_gamma_quotes_tens_of_ticks_away():
    spec = AvellanedaStoikov(gamma=1e-3, k=0.73, order_qty=100.0, max_position=1000.0)
    _, rows = decide(spec, _view())
    assert 10_000 - rows["px_tick"][0] > 20


def test_default_gamma_skews_about_the_documented_amount_per_order():
    spec = AvellanedaStoikov(gamma=DEFAULT_AS_GAMMA, k=0.73, order_qty=100.0,
                             max_position=1000.0)
    flat = decide(spec, _view())[1]["px_tick"]
    long4 = decide(spec, _view(position=400.0))[1]["px_tick"]
    shift = float(np.mean(flat - long4))  # quotes move down when long
    assert shift == pytest.approx(4 * DEFAULT_AS_GAMMA * 1.4**2 * T_OPEN, abs=1.0)


def test_gamma_for_skew():
    g = AvellanedaStoikov.gamma_for_skew(0.67, 1.4, T_OPEN)
    assert g == pytest.approx(0.67 / (1.96 * T_OPEN))
    assert g == pytest.approx(DEFAULT_AS_GAMMA, rel=0.05)
    with pytest.raises(ParameterError, match="horizon_s must be > 0, was 0"):
        AvellanedaStoikov.gamma_for_skew(1.0, 1.0, 0)


def test_default_gamma_trades_on_the_simulated_market():
    import qlib.data
    from qlib.engine import ConstantLatency, PowerProbQueue, backtest
    from qlib.strategy import fit_intensity

    data = qlib.data.simulate(n_events=100_000, seed=7)
    fit = fit_intensity(data)
    r = backtest(data, AvellanedaStoikov(gamma=DEFAULT_AS_GAMMA, k=fit.k, order_qty=100.0,
                                         max_position=1000.0),
                 latency=ConstantLatency(entry_ns=1_000_000, response_ns=1_000_000),
                 queue=PowerProbQueue(2.0), decision_interval="100ms")
    assert r.counters["fills"] >= 300
