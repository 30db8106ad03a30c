"""The whole-call savings of issue 11 change nothing but time: the fused validation pass
(:func:`qlib.engine._loop.scan_events_clock`) equals the two passes it replaces
(the oracle ``tests/oracle/engine_scan.py``, then :func:`~qlib.engine._loop.local_clock` on a
copy of ``ts_local``), and the loops' entry cache (:class:`qlib.engine._loop._EntryCache`)
keys an overload by everything numba types an argument by."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.dtypes import EVENT_DTYPE
from qlib.engine import _loop
from qlib.engine._consts import MAX_PX_TICK, MAX_QTY
from qlib.enums import EventFlag, EventKind
from oracle import engine_scan

SYNTH = np.uint8(EventFlag.TS_LOCAL_SYNTH)


def _events(rng: np.random.Generator, n: int, *, defects: bool) -> np.ndarray:
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ts = 1_000_000 + np.cumsum(rng.integers(0, 50, n))
    ev["ts_exch"] = ts
    # local times: mostly later than the exchange, some earlier, some out of order
    ev["ts_local"] = ts + rng.integers(-30, 200, n)
    kinds = np.array([EventKind.DEPTH, EventKind.TRADE, EventKind.ADD, EventKind.CANCEL,
                      EventKind.MODIFY, EventKind.TRADE_SUBTICK, EventKind.CLEAR])
    ev["kind"] = rng.choice(kinds, n, p=[0.6, 0.15, 0.08, 0.08, 0.04, 0.03, 0.02])
    ev["side"] = rng.choice([-1, 1], n)
    ev["px_tick"] = rng.integers(1, 5_000, n)
    ev["qty"] = rng.integers(0, 100, n).astype(np.float64)
    ev["flags"] = np.where(rng.random(n) < 0.1, int(SYNTH), 0)
    if defects:
        for _ in range(3):
            ev["ts_exch"][int(rng.integers(1, n))] -= 10_000  # out of order
        bad = int(rng.integers(0, n))
        choice = int(rng.integers(0, 4))
        if choice == 0:
            ev["qty"][bad] = np.nan
        elif choice == 1:
            ev["qty"][bad] = MAX_QTY * 2
        elif choice == 2:
            ev["px_tick"][bad] = MAX_PX_TICK + 1
        else:
            ev["kind"][bad] = EventKind.DEPTH
            ev["px_tick"][bad] = 0
    return ev


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("defects", [False, True])
def test_scan_events_clock_equals_scan_then_clock(seed: int, defects: bool) -> None:
    rng = np.random.default_rng(seed)
    ev = _events(rng, 3_000, defects=defects)
    # the two passes it replaces
    ref_scan = engine_scan.scan_events(ev, SYNTH)
    ref_ts = np.empty(len(ev), dtype=np.int64)
    ref_ts[:] = ev["ts_local"]
    ref_n = _loop.local_clock(ev, ref_ts)
    # Act
    ts = np.full(len(ev), -7, dtype=np.int64)
    out = _loop.scan_events_clock(ev, SYNTH, ts)
    # Assert
    assert tuple(out[:4]) == tuple(ref_scan)
    assert out[4] == ref_n
    np.testing.assert_array_equal(ts, ref_ts)
    assert out[5] == int((ref_ts != ev["ts_local"]).sum()) > 0
    # counting only (no clock written): the same counts
    assert _loop.scan_events_clock(ev, SYNTH, np.empty(0, dtype=np.int64)) == out
    if defects:
        assert out[0] >= 0 and out[3] >= 0
    assert ref_n > 0  # the clock had rows to raise


def test_scan_events_clock_on_one_row_and_a_clock_already_valid() -> None:
    ev = np.zeros(4, dtype=EVENT_DTYPE)
    ev["ts_exch"] = [10, 20, 20, 30]
    ev["ts_local"] = [15, 25, 26, 40]
    ev["kind"] = EventKind.DEPTH
    ev["side"] = 1
    ev["px_tick"] = 5
    ev["qty"] = 1.0
    ts = np.empty(4, dtype=np.int64)
    assert _loop.scan_events_clock(ev, SYNTH, ts) == (-1, 0, 0, -1, 0, 0)
    assert ts.tolist() == [15, 25, 26, 40]
    ts1 = np.empty(1, dtype=np.int64)
    assert _loop.scan_events_clock(ev[:1], SYNTH, ts1) == (-1, 0, 0, -1, 0, 0)
    assert ts1.tolist() == [15]


def test_fingerprint_splits_what_numba_types_apart() -> None:
    a = np.zeros(8, dtype=np.int64)
    ro = a.copy()
    ro.flags.writeable = False
    strided = np.zeros(16, dtype=np.int64)[::2]
    keys = {_loop._fingerprint(x) for x in (a, ro, strided, a.astype(np.float64),
                                            a.reshape(2, 4), np.zeros(8, dtype=EVENT_DTYPE))}
    assert len(keys) == 6
    assert _loop._fingerprint(np.ones(8, dtype=np.int64)) == _loop._fingerprint(a)


def test_entry_cache_compiles_a_new_overload_for_a_new_type() -> None:
    from numba import njit, types

    @njit
    def total(x, y, kern):
        return x.sum() + y[0], 0

    call = _loop._EntryCache(total, types.none)
    x = np.arange(4, dtype=np.int64)
    assert call(x, np.array([1], dtype=np.int64), None) == (7, 0)
    assert len(total.signatures) == 1
    assert call(x + 1, np.array([2], dtype=np.int64), None) == (12, 0)  # same types
    assert len(total.signatures) == 1
    assert call(x.astype(np.float64), np.array([1], dtype=np.int64), None) == (7.0, 0)
    assert len(total.signatures) == 2
    ro = x.copy()
    ro.flags.writeable = False
    assert call(ro, np.array([0], dtype=np.int64), None) == (6, 0)
    assert len(total.signatures) == 3


def test_compact_zeroes_every_padding_byte_and_nothing_else() -> None:
    from qlib.engine._alloc import compact, padding_runs

    dt = np.dtype({"names": ["a", "b", "c"], "formats": ["u1", "<i4", "u1"],
                   "offsets": [1, 4, 9], "itemsize": 12})
    assert padding_runs(dt) == ((0, 1), (2, 4), (8, 9), (10, 12))
    a = np.zeros(5, dtype=dt)
    raw = a.view(np.uint8).reshape(5, 12)
    raw[:] = 0xAB  # registers' garbage everywhere, fields included
    out = compact(a, 3)
    assert out.base is not None and len(out) == 3  # a view
    got = raw[:3]
    covered = np.zeros(12, dtype=bool)
    covered[[1, 4, 5, 6, 7, 9]] = True
    assert (got[:, ~covered] == 0).all()
    assert (got[:, covered] == 0xAB).all()
    assert (raw[3:] == 0xAB).all()  # rows past n untouched


def test_clock_read_in_place_gives_the_result_of_a_copied_clock(monkeypatch) -> None:
    """Data whose ts_local is already a feed's clock is read in place (a strided view of
    the events, no copy); forcing the copy gives a bit-identical backtest."""
    import importlib

    from qlib.data import simulate
    from qlib.engine import backtest
    from qlib.strategy import TouchMM

    bt = importlib.import_module("qlib.engine.backtest")
    md = simulate(n_events=8_000, seed=3)
    # receive times of a feed (later than the exchange, in order), not flagged synthetic
    ev = md.events.copy()
    ev["flags"] &= np.uint8(~int(SYNTH) & 0xFF)
    ts = ev["ts_exch"] + 50_000 + (np.arange(len(ev)) % 7) * 1_000
    _loop.local_clock(ev, ts)
    ev["ts_local"] = ts
    assert _loop.scan_events_clock(ev, SYNTH, np.empty(0, np.int64))[5] == 0
    seen = []
    real_allocate = bt._allocate

    def spy(cfg):
        seen.append(cfg.ts_loc.flags.c_contiguous)
        return real_allocate(cfg)

    monkeypatch.setattr(bt, "_allocate", spy)
    strategy = TouchMM(order_qty=1.0, max_position=5.0)
    in_place = backtest(ev, strategy, instrument=md.instrument)
    real_scan = _loop.scan_events_clock

    def says_changed(ev, flag, ts_loc):
        out = real_scan(ev, flag, ts_loc)
        return out[:5] + (1,)  # as if a row needed the clock: the copied path

    monkeypatch.setattr(_loop, "scan_events_clock", says_changed)
    copied = backtest(ev, strategy, instrument=md.instrument)
    assert seen == [False, True]
    assert in_place.counters["fills"] > 0
    for name in ("fills_array", "equity_array", "orders_array", "journal_array"):
        assert getattr(in_place, name).tobytes() == getattr(copied, name).tobytes(), name
