"""Unit tests of the simulated market (qlib.data.simulate) and its calibration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qlib.data import _sim_kernels
from qlib.data.calibrate import book_stats, fit_params
from qlib.data.simulate import SimParams, _Book, simulate
from qlib.dtypes import empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import DataQualityError, InsufficientDataError, ParameterError
from qlib.instrument import Instrument


@pytest.fixture(scope="module")
def small() -> object:
    return simulate(n_events=5_000, seed=11)


# -- structure -------------------------------------------------------------------------
def test_simulate_default_snapshot_clear_then_l3_orders(small):
    ev = small.events
    assert ev["kind"][0] == EventKind.CLEAR and ev["side"][0] == Side.NONE
    n_snap = int((ev["kind"] == EventKind.SNAPSHOT).sum())
    snap = ev[1:1 + n_snap]
    assert (snap["kind"] == EventKind.SNAPSHOT).all()
    assert (snap["order_id"] != 0).all()
    assert (ev["flags"][: 1 + n_snap] & EventFlag.SNAPSHOT).all()
    assert ev["flags"][n_snap] & EventFlag.LAST
    assert not (ev["flags"][:n_snap] & EventFlag.LAST).any()
    rest = ev[1 + n_snap:]
    assert set(np.unique(rest["kind"]).tolist()) <= {
        EventKind.ADD, EventKind.DELETE, EventKind.EXECUTE, EventKind.TRADE}
    assert not (rest["flags"] & EventFlag.SNAPSHOT).any()
    assert int((rest["flags"] & EventFlag.LAST).astype(bool).sum()) == 5_000


def test_simulate_default_metadata_instrument_report_provenance(small):
    assert small.instrument.instrument_id == "SIM.QLIB"
    assert small.instrument.tick_size == 0.01 and small.instrument.lot_size == 1.0
    rep = small.report
    assert rep.source == "simulated" and rep.rows == len(small)
    assert rep.out_of_order_rows == 0 and rep.crossed_rows == 0
    assert sum(rep.rows_by_kind.values()) == len(small)
    prov = small.provenance
    assert prov["seed"] == 11 and "Cont" in prov["model"]
    assert prov["params"] == dataclasses.asdict(SimParams())


def test_simulate_default_seq_increasing_and_ts_local_after_exch(small):
    ev = small.events
    assert (np.diff(ev["seq"]) == 1).all() and ev["seq"][0] == 0
    assert (np.diff(ev["ts_exch"]) >= 0).all()
    assert (np.diff(ev["ts_local"]) >= 0).all()
    assert (ev["ts_local"] >= ev["ts_exch"]).all()
    assert (ev["flags"] & EventFlag.TS_LOCAL_SYNTH).all()
    assert ev["ts_exch"][0] == np.datetime64("2024-01-02T14:30", "ns").astype(np.int64)


def test_simulate_feed_latency_median_near_parameter():
    md = simulate(n_events=20_000, seed=2, feed_latency_ns=50_000, feed_latency_sigma=0.0)
    last = md.events[(md.events["flags"] & EventFlag.LAST) != 0][1:]
    lat = last["ts_local"] - last["ts_exch"]
    assert (lat >= 50_000).all()  # sigma 0: every message waits 50 us, the FIFO max only adds
    assert np.median(lat) == 50_000


def test_simulate_trade_print_equals_its_executions(small):
    ev = small.events
    trades = np.flatnonzero(ev["kind"] == EventKind.TRADE)
    assert trades.size > 50
    for t in trades[:200]:
        j = t - 1
        qty = 0.0
        while ev["kind"][j] == EventKind.EXECUTE and ev["ts_exch"][j] == ev["ts_exch"][t]:
            qty += ev["qty"][j]
            assert ev["side"][j] == -ev["side"][t]
            j -= 1
        assert qty == ev["qty"][t]
        assert ev["flags"][t] & EventFlag.SUMMARY
        assert ev["order_id"][t] == 0


def test_simulate_lot_size_scales_quantities():
    inst = Instrument("SIM.TEST", tick_size=0.05, lot_size=10.0)
    a = simulate(n_events=2_000, seed=5)
    b = simulate(n_events=2_000, seed=5, instrument=inst, start_price=100.0)
    np.testing.assert_array_equal(a.events["qty"] * 10.0, b.events["qty"])
    assert b.instrument is inst


def test_simulate_n_events_zero_gives_snapshot_only():
    md = simulate(n_events=0, seed=1, warmup_events=0)
    assert md.events["kind"][0] == EventKind.CLEAR
    assert (md.events["kind"][1:] == EventKind.SNAPSHOT).all()


# -- determinism -------------------------------------------------------------------------
def test_simulate_same_seed_bit_identical():
    a = simulate(n_events=20_000, seed=123)
    b = simulate(n_events=20_000, seed=123)
    assert a.events.tobytes() == b.events.tobytes()


def test_simulate_different_seeds_differ():
    a = simulate(n_events=2_000, seed=1)
    b = simulate(n_events=2_000, seed=2)
    assert a.events.tobytes() != b.events.tobytes()


def test_book_run_output_growth_resumes_bit_identically():
    params = SimParams()
    rows = []
    for cap in (40, 100_000):  # 40 rows: the kernel pauses and the wrapper grows many times
        book = _Book(params, 9)
        book.st[_sim_kernels._ST_NEXT_ID] = 1
        _sim_kernels.init_book(book.st, book.rng, book.q_id, book.q_qty, book.q_n, book.lam,
                               book.theta, book.lim[0], book.lim[1], 10_000)
        out, n = book.run(empty_events(cap), 0, 3_000, (1e4, 0.5))
        rows.append(out[:n].tobytes())
    assert rows[0] == rows[1]


# -- validation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"n_events": -1}, "n_events"),
        ({"n_events": 1.5}, "n_events"),
        ({"seed": -3}, "seed"),
        ({"seed": True}, "seed"),
        ({"params": {"market_rate": 1.0}}, "params"),
        ({"instrument": "SIM.QLIB"}, "instrument"),
        ({"start": "not a time"}, "start"),
        ({"start_price": 100.005}, "start_price"),
        ({"start_price": 0.1}, "start_price"),
        ({"start_price": float("nan")}, "start_price"),
        ({"feed_latency_ns": -1}, "feed_latency_ns"),
        ({"feed_latency_sigma": float("inf")}, "feed_latency_sigma"),
        ({"warmup_events": -5}, "warmup_events"),
    ],
)
def test_simulate_bad_argument_raises_parameter_error_naming_it(kwargs, field):
    with pytest.raises(ParameterError, match=field):
        simulate(**kwargs)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"limit_rate": (1.0, -0.1), "cancel_rate": (1.0, 1.0)}, r"limit_rate\[2\]"),
        ({"limit_rate": (0.0, 0.0), "cancel_rate": (1.0, 1.0)}, "limit_rate"),
        ({"limit_rate": (1.0,), "cancel_rate": (1.0, 1.0)}, "cancel_rate"),
        ({"cancel_rate": (0.0,) * 10}, r"cancel_rate\[1\]"),
        ({"limit_rate": (1.0, float("nan")), "cancel_rate": (1.0, 1.0)}, r"limit_rate\[2\]"),
        ({"limit_rate": ()}, "limit_rate"),
        ({"limit_rate": "abc"}, "limit_rate"),
        ({"market_rate": -1.0}, "market_rate"),
        ({"limit_size_median": 0.0}, "limit_size_median"),
        ({"market_size_sigma": -0.1}, "market_size_sigma"),
        ({"limit_rate_inside": (1.0,)}, "limit_rate_inside"),
        ({"window_ticks": 5}, "window_ticks"),
        ({"queue_capacity": 0}, "queue_capacity"),
    ],
)
def test_simparams_bad_value_raises_parameter_error_naming_it(kwargs, field):
    with pytest.raises(ParameterError, match=field):
        SimParams(**kwargs)


def test_simparams_lists_become_tuples_and_frozen():
    p = SimParams(limit_rate=[1, 2], cancel_rate=[0.5, 0.5])
    assert p.limit_rate == (1.0, 2.0) and p.depth == 2 and p.window == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.market_rate = 2.0  # type: ignore[misc]


def test_simulate_queue_capacity_exceeded_raises_parameter_error():
    params = SimParams(limit_rate=(50.0,), cancel_rate=(0.01,), market_rate=0.01,
                       queue_capacity=8)
    with pytest.raises(ParameterError, match="queue_capacity"):
        simulate(n_events=5_000, params=params, warmup_events=0)


# -- calibration -------------------------------------------------------------------------
def test_fit_params_on_simulation_recovers_generating_params():
    # 400k model events: every per-distance count is >= ~20k, so a rate's relative
    # standard error is <= ~1%; 5% is > 4 standard errors.
    truth = SimParams()
    fitted = fit_params(simulate(n_events=400_000, seed=21), max_depth=truth.depth)
    np.testing.assert_allclose(fitted.limit_rate, truth.limit_rate, rtol=0.05)
    np.testing.assert_allclose(fitted.cancel_rate, truth.cancel_rate, rtol=0.05)
    # distances 1 and 2 are inside the spread long enough to estimate lambda_in there
    np.testing.assert_allclose(fitted.limit_rate_inside[:2], truth.limit_rate[:2], rtol=0.05)
    assert fitted.market_rate == pytest.approx(truth.market_rate, rel=0.05)
    assert fitted.limit_size_median == pytest.approx(truth.limit_size_median, rel=0.03)
    assert fitted.limit_size_sigma == pytest.approx(truth.limit_size_sigma, rel=0.03)
    assert fitted.market_size_median == pytest.approx(truth.market_size_median, rel=0.03)
    assert fitted.market_size_sigma == pytest.approx(truth.market_size_sigma, rel=0.03)


def test_fit_params_cst_mode_has_no_inside_rates():
    fitted = fit_params(simulate(n_events=20_000, seed=4), max_depth=5, inside_rates=False)
    assert fitted.limit_rate_inside is None and fitted.depth == 5


def test_book_stats_simulation_counts_match_report(small):
    st = book_stats(small, max_depth=10)
    kinds = small.report.rows_by_kind
    assert st.adds == kinds["ADD"]
    assert st.cancels == kinds["DELETE"]
    assert st.executions == kinds["EXECUTE"]
    assert st.market_orders == kinds["TRADE"]  # one print per market order
    assert st.clamped_qty == 0.0 and st.stale_qty == 0.0  # the tracked book is exact
    assert 1.0 <= st.mean_spread_tw < 3.0


def test_book_stats_modify_record_raises_data_quality_error(small):
    ev = small.events.copy()
    row = int(np.flatnonzero(ev["kind"] == EventKind.ADD)[3])
    ev["kind"][row] = EventKind.MODIFY
    bad = dataclasses.replace(small, events=ev)
    with pytest.raises(DataQualityError, match=f"row {row}"):
        book_stats(bad)


def test_book_stats_bad_max_depth_raises_parameter_error(small):
    with pytest.raises(ParameterError, match="max_depth"):
        book_stats(small, max_depth=0)


def test_fit_params_snapshot_only_raises_insufficient_data():
    md = simulate(n_events=0, seed=1)
    with pytest.raises(InsufficientDataError):
        fit_params(md)


@pytest.mark.realdata
def test_fit_params_lobster_goog_simulation_reproduces_day(shared_data):
    """Fit the GOOG 2012-06-21 day, simulate as many model events, compare.

    Tolerances, and why (measured: real vs simulated, seed 1):

    * market orders per second: +-5%. mu is estimated directly from them
      (0.260 vs 0.257); Poisson noise on ~6k orders is ~1.3%.
    * adds and cancels per second: +-15% (3.05 vs 3.15; 2.78 vs 2.69). The model
      only places orders within max_depth=60 ticks of the opposite best and the
      file misses cancels of orders deeper than its 10 levels, so the day and the
      model count slightly different populations.
    * executions per second: the model makes 2.0-2.5x the day's EXECUTE records
      (0.71 vs 0.33). Real aggressive orders are sized to the queue they hit (1.3
      resting orders each); the model's lognormal market orders are independent of
      the queue and touch ~2.8. Asserted as a bracket [1.5x, 3x] so a change is seen.
    * time-weighted mean spread: the model gives ~16 ticks for the day's ~25
      (-35%). CST's rates do not depend on the queues, and GOOG's best quotes are
      thin, short-lived orders that the distance-only cancel rate underweights.
      Asserted within 45% (and narrower, as measured), a documented limitation.
    """
    from qlib.data.lobster import load_lobster

    path = shared_data / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
    day = load_lobster(path)
    real = book_stats(day, max_depth=60)
    params = fit_params(day, max_depth=60)
    n_model = real.adds + real.cancels + real.market_orders
    sim = book_stats(simulate(n_events=n_model, seed=1, params=params, start_price=580.0),
                     max_depth=60)
    r, s = real.rates(), sim.rates()
    assert s["market_orders_per_s"] == pytest.approx(r["market_orders_per_s"], rel=0.05)
    assert s["adds_per_s"] == pytest.approx(r["adds_per_s"], rel=0.15)
    assert s["cancels_per_s"] == pytest.approx(r["cancels_per_s"], rel=0.15)
    assert 1.5 <= s["executions_per_s"] / r["executions_per_s"] <= 3.0
    assert 0.55 <= s["mean_spread_tw_ticks"] / r["mean_spread_tw_ticks"] <= 1.0
    assert 20.0 <= r["mean_spread_tw_ticks"] <= 30.0  # the day itself: LOBSTER book ~27
