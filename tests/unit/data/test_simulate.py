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

#: A spread- and queue-reactive parameter set (every extension on), for recovery tests.
QR_PARAMS = SimParams(
    limit_rate=(1.2, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1),
    cancel_rate=(0.5, 0.3, 0.25, 0.2, 0.2, 0.15, 0.15, 0.1, 0.1, 0.1),
    market_rate=0.3,
    inside_rate=(0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5),
    inside_position=(0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0),
    cancel_rate_best=(1.0, 0.4, 0.15), best_queue_edges=(60.0, 250.0),
    market_rate_spread=(0.8, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2),
    market_fraction=((1.0, 1.0, 1.0, 1.0, 1.0, 1.0), (0.05, 0.3, 0.6, 1.0, 1.0, 1.0)),
    market_overflow_prob=(0.15, 0.1), market_queue_edges=(40.0,),
    reference="own",
)


#: QR_PARAMS plus arrivals behind the quotes by spread and sizes by placement.
QR_FULL = dataclasses.replace(
    QR_PARAMS,
    limit_rate_spread=(tuple(0.5 * x for x in QR_PARAMS.limit_rate), QR_PARAMS.limit_rate),
    limit_size_table=((100.0, 100.0, 300.0), (5.0, 100.0, 100.0), (2.0, 10.0, 40.0)),
)


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


@pytest.mark.parametrize("params", [SimParams(), QR_PARAMS, QR_FULL],
                         ids=["cst", "reactive", "reactive-full"])
def test_book_run_output_growth_resumes_bit_identically(params):
    rows = []
    for cap in (40, 100_000):  # 40 rows: the kernel pauses and the wrapper grows many times
        book = _Book(params, 9)
        book.st[_sim_kernels._ST_NEXT_ID] = 1
        _sim_kernels.init_book(book.st, book.rng, book.q_id, book.q_qty, book.q_n, book.lam,
                               book.theta_init, book.lim[0], book.lim[1], 10_000)
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
        ({"inside_rate": (0.0, 1.0)}, "inside_position"),
        ({"inside_rate": (0.0, -1.0), "inside_position": (0.0, 1.0)}, r"inside_rate\[1\]"),
        ({"inside_rate": (0.0,), "inside_position": (0.0, 1.0)}, "inside_rate"),
        ({"inside_rate": (0.0, 1.0), "inside_position": (0.5, 0.2)}, "inside_position"),
        ({"inside_rate": (0.0, 1.0), "inside_position": (0.0, 1.5)}, "inside_position"),
        ({"reference": "mid"}, "reference"),
        ({"reference": "own"}, "inside_rate"),
        ({"cancel_rate_best": (1.0, 0.5)}, "cancel_rate_best"),
        ({"cancel_rate_best": (1.0, 0.0), "best_queue_edges": (10.0,)}, r"cancel_rate_best\[1\]"),
        ({"best_queue_edges": (10.0,)}, "best_queue_edges"),
        ({"cancel_rate_best": (1.0, 1.0, 1.0), "best_queue_edges": (10.0, 5.0)},
         "best_queue_edges"),
        ({"market_rate_spread": (1.0, float("inf"))}, r"market_rate_spread\[1\]"),
        ({"market_fraction": (0.2, 0.1)}, "market_fraction"),
        ({"market_overflow_prob": 0.1}, "market_overflow_prob"),
        ({"market_fraction": (0.5, 1.0), "market_overflow_prob": 1.5}, "market_overflow_prob"),
        ({"market_queue_edges": (10.0,)}, "market_queue_edges"),
        ({"market_fraction": (0.5, 1.0), "market_queue_edges": (10.0,)}, "market_fraction"),
        ({"market_fraction": ((0.5, 1.0), (0.1, 1.0)), "market_overflow_prob": (0.1,),
          "market_queue_edges": (10.0,)}, "market_overflow_prob"),
        ({"market_fraction": ((0.5, 1.0), (0.1, 0.5, 1.0)), "market_overflow_prob": (0.1, 0.1),
          "market_queue_edges": (10.0,)}, "market_fraction"),
        ({"market_fraction": ((0.5, 1.0), (0.1, 1.0)), "market_overflow_prob": (0.1, 1.1),
          "market_queue_edges": (10.0,)}, r"market_overflow_prob\[1\]"),
        ({"market_fraction": ((0.5, 1.0), (0.1, 1.0), (0.1, 1.0)),
          "market_overflow_prob": (0.1, 0.1, 0.1), "market_queue_edges": (10.0, 5.0)},
         "market_queue_edges"),
        ({"limit_size_table": ()}, "limit_size_table"),
        ({"limit_rate_spread": ()}, "limit_rate_spread"),
        ({"limit_rate_spread": 3}, "limit_rate_spread"),
        ({"limit_rate_spread": ((1.0,) * 9,)}, r"limit_rate_spread\[0\]"),
        ({"limit_rate_spread": ((1.0,) * 10, (1.0,) * 9 + (-1.0,))},
         r"limit_rate_spread\[1\]\[9\]"),
        ({"limit_size_table": ((1.0, 2.0), (1.0,))}, "limit_size_table"),
        ({"limit_size_table": ((0.0, 2.0),)}, r"limit_size_table\[0\]"),
        ({"limit_size_table": ((1.0, 2.0), (5.0, 3.0))}, r"limit_size_table\[1\]"),
        ({"limit_size_table": 5}, "limit_size_table"),
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


def test_simulate_limit_size_table_sizes_come_from_their_placement_row():
    # every ADD's size is a knot of the row of its class: in front of the own best
    # (row 0), at the best (row 1) or behind it (row 2, the last, serves deeper ticks)
    md = simulate(n_events=20_000, seed=5, params=QR_FULL)
    st = book_stats(md, max_depth=QR_FULL.depth)
    rows = [set(r) for r in QR_FULL.limit_size_table]
    k, lots = st.add_own_ticks, st.add_lots
    for c, mask in enumerate((k == -1, k == 0, k >= 1)):
        assert mask.sum() > 200
        assert set(np.unique(lots[mask]).tolist()) == rows[c]


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
    fitted = fit_params(simulate(n_events=400_000, seed=21), max_depth=truth.depth,
                        queue_reactive=False)
    assert fitted.reference == "opposite" and fitted.inside_rate is None
    np.testing.assert_allclose(fitted.limit_rate, truth.limit_rate, rtol=0.05)
    np.testing.assert_allclose(fitted.cancel_rate, truth.cancel_rate, rtol=0.05)
    assert fitted.market_rate == pytest.approx(truth.market_rate, rel=0.05)
    assert fitted.limit_size_median == pytest.approx(truth.limit_size_median, rel=0.03)
    assert fitted.limit_size_sigma == pytest.approx(truth.limit_size_sigma, rel=0.03)
    assert fitted.market_size_median == pytest.approx(truth.market_size_median, rel=0.03)
    assert fitted.market_size_sigma == pytest.approx(truth.market_size_sigma, rel=0.03)


def test_fit_params_queue_reactive_recovers_generating_params():
    # 400k model events (spreads 1..9 ticks, mean ~3.2). Tolerances are >= 3 standard
    # errors of each estimate at this size: rates with >= ~3k events 6%, the sparse
    # spreads (fewer than 1000 s of book) and their pooled groups are not compared.
    truth = QR_PARAMS
    md = simulate(n_events=400_000, seed=21, params=truth)
    fitted = fit_params(md, max_depth=truth.depth)
    st = book_stats(md, max_depth=truth.depth)
    assert fitted.reference == "own"
    np.testing.assert_allclose(fitted.limit_rate, truth.limit_rate, rtol=0.05)
    # theta(0) is the pooled best-level rate, which the model replaces by cancel_rate_best
    np.testing.assert_allclose(fitted.cancel_rate[1:], truth.cancel_rate[1:], rtol=0.05)
    well = st.seconds_by_spread[1:truth.depth + 1] >= 1_000.0  # spreads 1..D seen >= 1000 s
    rin = np.array(fitted.inside_rate[1:]) / np.array(truth.inside_rate[1:])
    np.testing.assert_allclose(rin[well[1:]], 1.0, rtol=0.06)
    rmu = np.array(fitted.market_rate_spread) / np.array(truth.market_rate_spread)
    np.testing.assert_allclose(rmu[well], 1.0, rtol=0.06)
    # the position law is interval-censored (a spread of s ticks leaves s - 1 cells)
    grid = np.linspace(0.0, 1.0, len(fitted.inside_position))
    knots = np.linspace(0.0, 1.0, len(truth.inside_position))
    np.testing.assert_allclose(fitted.inside_position,
                               np.interp(grid, knots, truth.inside_position), atol=0.06)
    # best-queue cancel rate: every fitted bin that lies inside one true bin
    lo = np.array((0.0,) + fitted.best_queue_edges)
    hi = np.array(fitted.best_queue_edges + (np.inf,))
    t_lo = np.array((0.0,) + truth.best_queue_edges)
    t_hi = np.array(truth.best_queue_edges + (np.inf,))
    checked = 0
    for a, b, rate in zip(lo, hi, fitted.cancel_rate_best):
        inside = np.flatnonzero((t_lo <= a) & (b <= t_hi))
        if inside.size:
            assert rate == pytest.approx(truth.cancel_rate_best[inside[0]], rel=0.08)
            checked += 1
    assert checked >= 3
    # market order sizes: every fitted queue bin that lies inside one true bin
    lo = np.array((0.0,) + fitted.market_queue_edges)
    hi = np.array(fitted.market_queue_edges + (np.inf,))
    t_lo = np.array((0.0,) + truth.market_queue_edges)
    t_hi = np.array(truth.market_queue_edges + (np.inf,))
    checked = 0
    for a, b, table, prob in zip(lo, hi, fitted.market_fraction, fitted.market_overflow_prob):
        inside = np.flatnonzero((t_lo <= a) & (b <= t_hi))
        if inside.size:
            t = truth.market_fraction[inside[0]]
            grid = np.linspace(0.0, 1.0, len(table))
            np.testing.assert_allclose(table, np.interp(grid, np.linspace(0.0, 1.0, len(t)), t),
                                       atol=0.03)
            # >= 200 orders a bin: a binomial share's standard error is <= 0.025
            assert prob == pytest.approx(truth.market_overflow_prob[inside[0]], abs=0.06)
            checked += 1
    assert checked >= 2
    assert fitted.limit_size_median == pytest.approx(truth.limit_size_median, rel=0.03)
    assert fitted.limit_size_sigma == pytest.approx(truth.limit_size_sigma, rel=0.03)
    # the overflow remainder's law, from ~12k walking orders
    assert fitted.market_size_median == pytest.approx(truth.market_size_median, rel=0.05)
    assert fitted.market_size_sigma == pytest.approx(truth.market_size_sigma, rel=0.05)


def test_fit_params_recovers_spread_dependent_rates_and_size_table():
    # arrivals behind the own best at half the rates below 3 ticks of spread and 1.5x
    # from 3 on; sizes drawn from a 4-knot table per placement class. 400k events:
    # spreads 1..6 each hold >= 11k ADDs behind the best (their own pooling group),
    # so a row's total has a relative standard error < 1% and each tick's < 3%.
    lam = np.array(QR_PARAMS.limit_rate)
    truth = dataclasses.replace(
        QR_PARAMS, limit_rate_spread=(tuple(0.5 * lam), tuple(0.5 * lam), tuple(1.5 * lam)),
        limit_size_table=((100.0, 100.0, 100.0, 300.0), (5.0, 50.0, 100.0, 100.0),
                          (2.0, 10.0, 40.0, 100.0)))
    md = simulate(n_events=400_000, seed=21, params=truth)
    fitted = fit_params(md, max_depth=truth.depth)
    st = book_stats(md, max_depth=truth.depth)
    assert (st.n_add_own_by_spread[1:7].sum(axis=1) >= 10_000).all()
    rates = np.array(fitted.limit_rate_spread)
    for s in range(1, 7):
        want = np.array(truth.limit_rate_spread[min(s, 3) - 1])
        assert rates[s - 1].sum() == pytest.approx(want.sum(), rel=0.03)
        np.testing.assert_allclose(rates[s - 1], want, rtol=0.12)
    # the empirical quantile rows keep the table's atoms: each fitted row (in front,
    # then k = 0, 1, ... behind the own best) repeats its class's table as steps
    table = fitted.limit_size_table
    assert table is not None and len(table) >= 3
    for c, row in enumerate(table):
        t = truth.limit_size_table[min(c, 2)]
        want = [t[int((j + 0.5) / len(row) * len(t))] for j in range(len(row))]
        assert np.mean(np.array(row) == np.array(want)) >= 0.9, (c, row)


def test_fit_params_cst_mode_has_no_extensions():
    fitted = fit_params(simulate(n_events=20_000, seed=4), max_depth=5, queue_reactive=False)
    assert fitted.depth == 5 and fitted.reference == "opposite"
    assert fitted.inside_rate is None and fitted.cancel_rate_best is None
    assert fitted.market_fraction is None and fitted.market_rate_spread is None
    assert fitted.limit_size_table is None and fitted.limit_rate_spread is None


def test_simulate_fitted_reactive_params_run_and_refit():
    fitted = fit_params(simulate(n_events=30_000, seed=3), max_depth=10)
    md = simulate(n_events=5_000, seed=3, params=fitted)
    assert md.report.crossed_rows == 0
    assert fit_params(md, max_depth=10).reference == "own"


def test_book_stats_depth_record_sets_level_and_is_not_order_flow():
    ev = empty_events(9)
    t0 = 1_000_000_000
    rows = [  # kind, side, px, qty, ts offset (s)
        (EventKind.CLEAR, Side.NONE, 0, 0.0, 0),
        (EventKind.SNAPSHOT, Side.BUY, 100, 5.0, 0),
        (EventKind.SNAPSHOT, Side.SELL, 104, 5.0, 0),
        (EventKind.DEPTH, Side.SELL, 104, 0.0, 10),   # the ask level goes: best ask 110
        (EventKind.DEPTH, Side.SELL, 110, 7.0, 10),
        (EventKind.ADD, Side.BUY, 99, 1.0, 20),
        (EventKind.ADD, Side.BUY, 98, 1.0, 20),
        (EventKind.EXECUTE, Side.BUY, 100, 1.0, 20),  # two market orders (book_stats needs 2)
        (EventKind.EXECUTE, Side.SELL, 110, 1.0, 20),
    ]
    for r, (kind, side, px, qty, dt) in enumerate(rows):
        ev[r] = (t0 + dt * 1_000_000_000, t0 + dt * 1_000_000_000, r, px, qty, r, kind, side,
                 EventFlag.LAST | (EventFlag.RESYNC if kind == EventKind.DEPTH else 0))
    md = dataclasses.replace(simulate(n_events=0, seed=1, warmup_events=0), events=ev)
    st = book_stats(md, max_depth=20)
    assert st.depth_updates == 2 and st.adds == 2 and st.cancels == 0
    # 10 s at spread 4, then 10 s at spread 10 (DEPTH removed 104 and set 110)
    assert st.mean_spread_tw == pytest.approx(7.0)


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


#: Time-weighted mean spread of the GOOG 2012-06-21 day in ticks, from LOBSTER's own
#: level-10 orderbook file (ask_price_1 - bid_price_1 held between messages).
GOOG_SPREAD_TW_TICKS = 27.33


@pytest.fixture(scope="module")
def goog_fit(request):
    """(real, simulated) :func:`book_stats` rates of the GOOG day and its fitted model."""
    from qlib.data.lobster import load_lobster

    shared_data = request.getfixturevalue("shared_data")
    path = shared_data / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
    day = load_lobster(path)
    real = book_stats(day, max_depth=60)
    params = fit_params(day, max_depth=60)
    n_model = real.adds + real.cancels + real.market_orders
    sim = book_stats(simulate(n_events=n_model, seed=1, params=params, start_price=580.0),
                     max_depth=60)
    return real, sim


@pytest.mark.realdata
def test_fit_params_lobster_goog_simulation_reproduces_day_rates(goog_fit):
    """Fit the GOOG 2012-06-21 day, simulate as many model events, compare rates.

    Measured (real vs simulated; seed 1, then seeds 2 and 3), with the tolerance
    asserted and why:

    * adds/s 3.05 vs 2.92 (-4.2%; -5.1%, -5.2%) and cancels/s 2.78 vs 2.68
      (-3.6%; -4.4%, -4.1%): +-12%. Every add/cancel rate is fitted per tick
      behind the own best (and per spread), per spread, or per best-queue size;
      what is left is how long the model's book spends in each state (its spread
      runs a little narrower), not an estimation error (Poisson noise on ~70k
      records is < 0.5%).
    * market orders/s 0.262 vs 0.261 (-0.5%; -1.7%, -2.9%): +-15%. mu(s) is
      fitted per spread and the day's market orders are 5-20x more frequent at
      narrow spreads (1.24/s/side below 8 ticks, 0.06 above 36), so the total
      follows the model's spread distribution; before the spread-dependent
      arrivals behind the quotes it was +12%.

    The loader's RESYNC ``DEPTH`` corrections (8.3k on this day) move the tracked
    book, so the real spread is LOBSTER's own, but :func:`book_stats` never counts
    them as adds or cancels: they restate the book, they are not order flow.
    """
    real, sim = goog_fit
    r, s = real.rates(), sim.rates()
    assert real.depth_updates > 0  # the loader emits RESYNC corrections
    assert r["mean_spread_tw_ticks"] == pytest.approx(GOOG_SPREAD_TW_TICKS, abs=0.01)
    assert s["adds_per_s"] == pytest.approx(r["adds_per_s"], rel=0.12)
    assert s["cancels_per_s"] == pytest.approx(r["cancels_per_s"], rel=0.12)
    assert s["market_orders_per_s"] == pytest.approx(r["market_orders_per_s"], rel=0.15)


@pytest.mark.realdata
def test_fit_params_lobster_goog_simulation_spread_and_executions_within_stated_bounds(goog_fit):
    """The fitted simulation's spread and execution rate, at the tolerance met today.

    Time-weighted spread within +-10% (measured -7.8%; seeds 2 and 3: -7.8%,
    -7.7%) and executions/s within +-8% (measured +3.9%; +3.5%, -0.2%): a guard
    against regressions, tighter than the +-15% target below. The path there,
    seed 1 (seeds 2-3 within 2 points), spread / executions:

    * CST with sized orders: -41% / +115%; with the spread- and queue-reactive
      extensions (own-best reference, quote improvement and mu by spread, best
      queue cancellation, queue-sized market orders): -16.5% / +30%.
    * + ``limit_size_table`` (sizes by placement; 74% of quote-improving ADDs are
      exactly 100 shares, the median ADD behind the best is 10): -11.4% / +23%;
      a lone 100-share order is now 34% of the model's best-queue time (day:
      33%, before: 0.1%).
    * + ``market_queue_edges`` (market order fraction by the queue it meets: the
      day takes a queue below 100 lots whole 82% of the time, one above 400 lots
      13%): -13.2% / +17%; resting orders touched per market order 1.45 -> 1.38
      (day 1.27).
    * + ``limit_rate_spread`` (arrivals behind the quotes by spread: on the day,
      joining the best runs at 0.13-0.18/s/side at spreads 6-20 ticks and
      0.34-0.48 at 31-50; 1-5 ticks behind it 0.08-0.10 vs 0.37-0.50): -7.8% /
      +3.9%; mean gap from level 1 to level 2 4.1 -> 4.6 ticks (day 5.5).
    """
    real, sim = goog_fit
    r, s = real.rates(), sim.rates()
    assert s["mean_spread_tw_ticks"] == pytest.approx(r["mean_spread_tw_ticks"], rel=0.10)
    assert s["executions_per_s"] == pytest.approx(r["executions_per_s"], rel=0.08)


@pytest.mark.realdata
def test_fit_params_lobster_goog_simulation_all_five_measures_within_15pct(goog_fit):
    """Adds/s, cancels/s, market orders/s, spread and executions/s within +-15%.

    Measured, real vs simulated (deviation for seeds 1 / 2 / 3; this test runs
    seed 1):

    ========================  ======  ======  ==========================
    measure                   real    seed 1  seeds 1 / 2 / 3
    ========================  ======  ======  ==========================
    adds/s                    3.045   2.917   -4.2% / -5.1% / -5.2%
    cancels/s                 2.777   2.678   -3.6% / -4.4% / -4.1%
    market orders/s           0.262   0.261   -0.5% / -1.7% / -2.9%
    spread, time-weighted     27.33   25.21   -7.8% / -7.8% / -7.7%
    executions/s              0.332   0.345   +3.9% / +3.5% / -0.2%
    ========================  ======  ======  ==========================

    Left unfitted: 16% of the day's spread-widening moves (0.079/s of 0.48/s)
    come from RESYNC ``DEPTH`` corrections at the best, book changes the message
    file does not explain; and the day's gap from level 1 to level 2 has a heavier
    tail than the model's (more than 12 ticks 11.5% of the time vs 7.1%; mean 5.5
    vs 4.6 ticks): the model's ticks behind the best fill independently.
    """
    real, sim = goog_fit
    r, s = real.rates(), sim.rates()
    for key in ("adds_per_s", "cancels_per_s", "market_orders_per_s", "mean_spread_tw_ticks",
                "executions_per_s"):
        assert s[key] == pytest.approx(r[key], rel=0.15), key
