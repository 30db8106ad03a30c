"""The view's book levels and named features (:mod:`qlib.engine._view`).

Events are replayed one by one into an L2 book through the public book API, as the
engine's local side does: after each applied event :func:`on_event`, at each decision
:func:`fill_levels` and :func:`at_decision`. Every feature is compared, as of each
decision, with the library's batch signals on the same events (``book_imbalance`` of
``depth_snapshots``, ``microprice`` of ``bbo``, ``ofi`` of ``bbo``, the tape of
``trades``) or with a direct sum (volatility, trade flow: the closed form of the
recursions), on hand-made books and on real LOBSTER, Binance and simulated days.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qlib.book import bbo, depth_snapshots, new_l2_book
from qlib.book import nb as bnb
from qlib.book.l2 import grow, new_orders
from qlib.data import load
from qlib.data.market_data import MarketData
from qlib.data.report import ValidationReport
from qlib.dtypes import SUBTICK_SCALE, VIEW_DTYPE, VIEW_FEATURE_FIELDS, VIEW_LEVELS, empty_events
from qlib.engine import _view as V
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import ParameterError
from qlib.instrument import Instrument
from qlib.signals import book_imbalance, microprice, ofi, trades
from qlib.signals.nb import FEATURE_HALFLIFE_NS

ALL = ("imbalance3", "microprice", "ofi", "volatility", "trade_flow")
JIT = (V.fill_levels, V.on_event, V.at_decision)


def _py(f):
    return getattr(f, "py_func", f)  # plain functions under NUMBA_DISABLE_JIT


PY = (_py(V.fill_levels), _py(V.on_event), _py(V.at_decision))
OUTLINED = (V.fill_levels, V.on_event_outlined, V.at_decision)
OUTLINED_PY = (V.fill_levels, _py(V.on_event_outlined), V.at_decision)
LN2 = math.log(2.0)
H = float(FEATURE_HALFLIFE_NS)


# ------------------------------------------------------------------ the local side, in tests


def _clock(ev: np.ndarray) -> np.ndarray:
    """The engine's local clock: ``ts_local`` raised to ``ts_exch``, never decreasing."""
    return np.maximum.accumulate(np.maximum(ev["ts_local"], ev["ts_exch"]))


def _drive(ev, ts, dec_t, features, *, fns=JIT, window=1024):
    """Replay ``ev`` one event at a time and decide at each time of ``dec_t`` (sorted).

    Returns ``(views, seen)``: the view record at each decision and how many events
    had been applied (those with ``ts <= t``). Checks the view's levels against the book's
    Python API at every decision.
    """
    fill, on_ev, at_dec = fns
    mask, n_imb = V.feature_plan(features)
    book = new_l2_book(window)
    orders = new_orders()
    fs = V.new_feature_state()
    view = np.zeros(1, dtype=VIEW_DTYPE)
    lvl_px = np.zeros((1, 2, 64), dtype=np.int64)
    lvl_qty = np.zeros((1, 2, 64), dtype=np.float64)
    out = np.zeros(len(dec_t), dtype=VIEW_DTYPE)
    seen = np.zeros(len(dec_t), dtype=np.int64)
    i, n = 0, len(ev)
    for k, t in enumerate(dec_t):
        while i < n and ts[i] <= t:
            while not bnb.overflow_room(book, 1):
                book = grow(book)
            st_ = bnb.apply_event(book, orders, ev[i])
            assert st_ == Status.OK, (i, Status(int(st_)).name)
            on_ev(ev, ts, i, book, fs, mask)
            i += 1
        got = fill(book, view, lvl_px, lvl_qty)
        at_dec(view, book, fs, mask, n_imb, np.int64(t))
        _check_levels(book, view[0], got)
        out[k] = view[0]
        seen[k] = i
    return out, seen


def _check_levels(book, v, got):
    n_got = 0
    for side, px_f, q_f in ((Side.BUY, "bid_px_l", "bid_qty_l"),
                            (Side.SELL, "ask_px_l", "ask_qty_l")):
        px, q = book.levels(side)
        m = min(len(px), VIEW_LEVELS)
        n_got += m
        want_px = np.zeros(VIEW_LEVELS, dtype=np.int64)
        want_q = np.zeros(VIEW_LEVELS)
        want_px[:m], want_q[:m] = px[:m], q[:m]
        np.testing.assert_array_equal(v[px_f], want_px)
        np.testing.assert_array_equal(v[q_f], want_q)
    assert got == n_got


def _md(ev: np.ndarray, tick: float = 0.01) -> MarketData:
    return MarketData(ev, Instrument("TEST.VIEW", tick_size=tick), ValidationReport("test"))


# ------------------------------------------------------------------ references (batch signals)


def _asof(rows: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Index into ``rows`` (sorted event rows) of the last row applied at each decision.

    -1 where no row of ``rows`` had been applied.
    """
    return np.searchsorted(rows, seen, side="left") - 1


def _reference(md: MarketData, ts: np.ndarray, dec_t: np.ndarray, seen: np.ndarray, n_imb: int):
    """Each feature as of each decision, from the batch signals and direct sums."""
    ev = md.events
    tick = md.instrument.tick_size
    out = {}
    # imbalance: book_imbalance of the book after every book-changing event
    d = depth_snapshots(md, levels=VIEW_LEVELS, at_last_only=False)
    cols = [f"{s}_qty_{j}" for s in ("bid", "ask") for j in range(1, n_imb + 1)]
    has = d[cols].sum(axis=1).to_numpy() > 0  # book_imbalance raises on an empty book;
    imb = np.zeros(len(d))                    # the kernel's value there is 0.0
    if has.any():
        imb[has] = book_imbalance(d[has], n_imb).to_numpy()
    k = _asof(d.index.to_numpy(), seen)
    out["imbalance"] = np.concatenate([[0.0], imb])[k + 1]  # 0.0 before the first book row
    # microprice: of the book after the last applied event; NaN when a side is empty
    b_all = bbo(md, at_last_only=False)
    two_sided = None
    if len(b_all):
        two_sided = (b_all.index.to_numpy(), microprice(b_all).to_numpy() / tick)
    bb_after = _bbo_after(md, seen)
    mp = np.full(len(seen), np.nan)
    for j, s in enumerate(seen):
        if two_sided is not None and bb_after[j]:
            r = _asof(two_sided[0], np.array([s]))[0]
            mp[j] = two_sided[1][r]
    out["microprice_tick"] = mp
    # ofi: qlib.signals.ofi per consistent book state, summed between decisions
    b = _consistent_quotes(md)
    rows = b.index.to_numpy()
    e = ofi(b).to_numpy() if len(b) else np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(e)])
    k = _asof(rows, seen) + 1
    out["ofi"] = np.diff(c[k], prepend=0.0)
    # volatility: S(t) = sum over mid changes (dm)^2 2^(-(t - t_c)/H), sqrt(S ln2 / H)
    bt = _bbo_ticks(md)[rows]
    mid = 0.5 * (bt["bid_px_tick"] + bt["ask_px_tick"])
    chg = np.flatnonzero(np.diff(mid) != 0.0) + 1
    dm2 = np.diff(mid)[chg - 1] ** 2
    t_c = ts[rows[chg]].astype(np.float64)
    vol = np.zeros(len(seen))
    for j, (s, t) in enumerate(zip(seen, dec_t)):
        m = rows[chg] < s
        vol[j] = math.sqrt(np.sum(dm2[m] * np.exp2(-(t - t_c[m]) / H)) * LN2 / (H * 1e-9))
    out["volatility_tick"] = vol
    # trade flow: the tape (each traded quantity once), decayed to t
    tp = trades(md)
    t_rows = tp["row"].to_numpy()
    sq = tp["side"].to_numpy() * tp["qty"].to_numpy()
    t_t = ts[t_rows].astype(np.float64)
    flow = np.zeros(len(seen))
    scale = np.zeros(len(seen))
    for j, (s, t) in enumerate(zip(seen, dec_t)):
        m = t_rows < s
        w = np.exp2(-(t - t_t[m]) / H)
        flow[j] = np.sum(sq[m] * w)
        scale[j] = np.sum(np.abs(sq[m]) * w)
    out["trade_flow"] = flow
    return out, scale


def _consistent_quotes(md: MarketData) -> pd.DataFrame:
    """Best levels (ticks) after every event flagged ``LAST`` with both sides present.

    :func:`qlib.book.bbo` keeps book-changing ``LAST`` rows only; an exchange event whose
    ``LAST`` record is a trade print (book records before it) ends in a consistent book
    too, so the rows here are all ``LAST`` rows (where the book did not change, the
    OFI term is 0 and the mid change 0: the same sums).
    """
    bt = _bbo_ticks(md)
    ev = md.events
    rows = np.flatnonzero(((ev["flags"] & EventFlag.LAST) != 0) & (bt["bid_px_tick"] > 0)
                          & (bt["ask_px_tick"] > 0))
    r = bt[rows]
    return pd.DataFrame({"ts_exch": pd.to_datetime(ev["ts_exch"][rows], unit="ns", utc=True),
                         "bid_px": r["bid_px_tick"].astype(np.float64), "bid_qty": r["bid_qty"],
                         "ask_px": r["ask_px_tick"].astype(np.float64), "ask_qty": r["ask_qty"]},
                        index=pd.Index(rows, name="row"))


def _bbo_ticks(md: MarketData) -> np.ndarray:
    from qlib.book import replay_bbo

    return replay_bbo(md.events)


def _bbo_after(md: MarketData, seen: np.ndarray) -> np.ndarray:
    """True where the book after the last applied event is two-sided."""
    bt = _bbo_ticks(md)
    ok = np.zeros(len(seen), dtype=bool)
    for j, s in enumerate(seen):
        if s > 0:
            r = bt[s - 1]
            ok[j] = r["bid_px_tick"] > 0 and r["ask_px_tick"] > 0
    return ok


def _assert_features(views, ref, scale):
    np.testing.assert_allclose(views["imbalance"], ref["imbalance"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(views["microprice_tick"], ref["microprice_tick"], rtol=1e-12,
                               atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(views["ofi"], ref["ofi"], rtol=1e-9, atol=1e-6)
    # the kernels keep times as float64 (256 ns steps at today's epoch): 1e-6 relative
    np.testing.assert_allclose(views["volatility_tick"], ref["volatility_tick"], rtol=1e-6,
                               atol=1e-12)
    assert np.all(np.abs(views["trade_flow"] - ref["trade_flow"]) <= 1e-6 * scale + 1e-9)


def _grid(ts: np.ndarray, stop: int, n: int) -> np.ndarray:
    """``n`` decision times spread over the local times of the first ``stop`` events."""
    return np.linspace(ts[0], ts[stop - 1], n).astype(np.int64)


# ------------------------------------------------------------------ hand-made books


def _events(rows):
    """Events from ``(kind, side, px_tick, qty, ts, flags)`` tuples (ts_exch = ts_local = ts)."""
    ev = empty_events(len(rows))
    for i, (k, s, p, q, t, f) in enumerate(rows):
        ev[i]["kind"], ev[i]["side"], ev[i]["px_tick"], ev[i]["qty"] = k, s, p, q
        ev[i]["ts_exch"] = ev[i]["ts_local"] = t
        ev[i]["flags"] = f
    return ev


D, T, L = int(EventKind.DEPTH), int(EventKind.TRADE), int(EventFlag.LAST)
X, C = int(EventKind.EXECUTE), int(EventKind.CLEAR)
S = 1_000_000_000


def test_feature_plan_names_to_mask_and_levels():
    assert V.feature_plan(()) == (0, 0)
    assert V.feature_plan(["imbalance7"]) == (V.F_IMBALANCE, 7)
    mask, n = V.feature_plan(ALL)
    assert n == 3
    assert mask == V.F_IMBALANCE | V.F_MICROPRICE | V.F_OFI | V.F_VOLATILITY | V.F_TRADE_FLOW
    assert sorted(V.FEATURE_BITS) == sorted(VIEW_FEATURE_FIELDS)
    assert len(set(V.FEATURE_BITS.values())) == len(VIEW_FEATURE_FIELDS)


@pytest.mark.parametrize("bad", [("imbalance0",), ("imbalance11",), ("spread",),
                                 ("imbalance1", "imbalance2"), ("ofi", "ofi"), "ofi"])
def test_feature_plan_bad_names_raise(bad):
    with pytest.raises(ParameterError):
        V.feature_plan(bad)


def test_fill_levels_deep_sparse_book_matches_book_levels():
    # 14 bids and 12 asks with gaps, several far outside a 16-tick window (the overflow)
    bids = [(1000 - 3 * j - (200 if j > 8 else 0), float(j + 1)) for j in range(14)]
    asks = [(1001 + 2 * j + (500 if j > 6 else 0), 0.5 * (j + 1)) for j in range(12)]
    rows = [(D, 1, p, q, S, L) for p, q in bids] + [(D, -1, p, q, S, L) for p, q in asks]
    ev = _events(rows)
    views, seen = _drive(ev, _clock(ev), np.array([S]), (), window=16)
    v = views[0]
    assert seen[0] == len(ev)
    assert v["bid_px_l"].tolist() == sorted((p for p, _ in bids), reverse=True)[:VIEW_LEVELS]
    assert v["ask_px_l"].tolist() == sorted(p for p, _ in asks)[:VIEW_LEVELS]
    assert v["bid_qty_l"][0] == 1.0 and v["ask_qty_l"][-1] == 5.0


def test_fill_levels_short_and_empty_sides_pad_with_zeros():
    ev = _events([(D, 1, 100, 2.0, S, L), (D, 1, 98, 1.0, S, L)])
    views, _ = _drive(ev, _clock(ev), np.array([0, S]), ())
    assert views[0]["bid_px_l"].tolist() == [0] * VIEW_LEVELS  # before any event
    assert views[1]["bid_px_l"].tolist() == [100, 98] + [0] * (VIEW_LEVELS - 2)
    assert views[1]["ask_qty_l"].tolist() == [0.0] * VIEW_LEVELS


def test_at_decision_hand_computed_features():
    # t=1s: bid 100x4, ask 102x1; t=2s: bid 101x2 (improves); trade buy 3 at 2.5s; decide 3s
    ev = _events([(D, 1, 100, 4.0, 1 * S, 0), (D, -1, 102, 1.0, 1 * S, L),
                  (D, 1, 101, 2.0, 2 * S, L), (T, 1, 102, 3.0, 2 * S + S // 2, L)])
    views, _ = _drive(ev, _clock(ev), np.array([1 * S, 3 * S]), ALL)
    v0, v1 = views
    assert v0["imbalance"] == pytest.approx((4 - 1) / 5)
    assert v0["microprice_tick"] == pytest.approx(0.8 * 102 + 0.2 * 100)  # toward the thin ask
    assert v0["ofi"] == 0.0 and v0["volatility_tick"] == 0.0 and v0["trade_flow"] == 0.0
    # e = 1{101>=100} 2 - 0 - 1{102<=102} 1 + 1{102>=102} 1 = 2
    assert v1["ofi"] == pytest.approx(2.0)
    assert v1["imbalance"] == pytest.approx((6 - 1) / 7)
    # mid 101 -> 101.5 at 2s; decided at 3s: sqrt(0.25 * 2^-1 * ln2 / 1s)
    assert v1["volatility_tick"] == pytest.approx(math.sqrt(0.25 * 0.5 * LN2))
    assert v1["trade_flow"] == pytest.approx(3.0 * 2 ** -0.5)


def test_at_decision_one_sided_book_microprice_nan_imbalance_defined():
    ev = _events([(D, 1, 100, 4.0, S, L)])
    v = _drive(ev, _clock(ev), np.array([S]), ("imbalance1", "microprice"))[0][0]
    assert math.isnan(v["microprice_tick"]) and v["imbalance"] == 1.0


@pytest.mark.parametrize("features", [(), ("ofi",), ("imbalance2", "trade_flow"), ("microprice",),
                                      ("volatility",)])
def test_at_decision_features_not_requested_stay_nan(features):
    ev = _events([(D, 1, 100, 4.0, S, 0), (D, -1, 101, 1.0, S, L), (T, -1, 100, 1.0, S, L),
                  (D, 1, 99, 4.0, 2 * S, L)])
    mask, n_imb = V.feature_plan(features)
    view = np.zeros(1, dtype=VIEW_DTYPE)
    for f in VIEW_FEATURE_FIELDS:
        view[f] = 7.0  # a stale value must not survive
    book, orders, fs = new_l2_book(), new_orders(), V.new_feature_state()
    for i in range(len(ev)):
        bnb.apply_event(book, orders, ev[i])
        V.on_event(ev, _clock(ev), i, book, fs, mask)
    V.fill_levels(book, view, np.zeros((1, 2, 16), np.int64), np.zeros((1, 2, 16)))
    V.at_decision(view, book, fs, mask, n_imb, np.int64(3 * S))
    wanted = {V.feature_plan([f])[0] for f in features}
    for f in VIEW_FEATURE_FIELDS:
        assert math.isnan(view[0][f]) == (V.FEATURE_BITS[f] not in wanted), f


def test_on_event_mask_zero_leaves_state_untouched():
    ev = _events([(D, 1, 100, 4.0, S, L), (D, -1, 101, 1.0, S, L), (T, 1, 101, 1.0, S, L)])
    book, orders, fs = new_l2_book(), new_orders(), V.new_feature_state()
    for i in range(len(ev)):
        bnb.apply_event(book, orders, ev[i])
        V.on_event(ev, _clock(ev), i, book, fs, 0)
    assert not fs.any()


def test_on_event_trade_kinds_each_quantity_once():
    ex, sub = int(EventKind.EXECUTE), int(EventKind.TRADE_SUBTICK)
    summ = int(EventFlag.SUMMARY | EventFlag.LAST)
    ev = _events([(D, -1, 101, 9.0, S, L),
                  (ex, -1, 101, 2.0, S, 0),        # a resting sell hit: buyer-initiated +2
                  (T, 1, 101, 2.0, S, summ),       # its summary print: already counted
                  (sub, -1, 100_500_000, 1.0, S, L),  # sub-tick seller-initiated print: -1
                  (T, 0, 101, 5.0, S, L)])         # aggressor unknown: 0
    assert ev[3]["px_tick"] // SUBTICK_SCALE == 100
    v = _drive(ev, _clock(ev), np.array([S]), ("trade_flow",))[0][0]
    assert v["trade_flow"] == pytest.approx(1.0)


def test_on_event_ofi_only_at_consistent_states():
    # a diff moving both sides: the transiently crossed state inside it does not count
    ev = _events([(D, 1, 100, 1.0, S, 0), (D, -1, 101, 1.0, S, L),
                  (D, -1, 101, 0.0, 2 * S, 0), (D, 1, 102, 1.0, 2 * S, 0),
                  (D, 1, 100, 0.0, 2 * S, 0), (D, -1, 103, 1.0, 2 * S, L)])
    v = _drive(ev, _clock(ev), np.array([3 * S]), ("ofi", "volatility"))[0][0]
    # consistent states (100x1 | 101x1) -> (102x1 | 103x1): e = 1 - 0 - 0 + 1
    assert v["ofi"] == pytest.approx(2.0)
    assert v["volatility_tick"] == pytest.approx(math.sqrt(4.0 * 2 ** -1 * LN2))


# ------------------------------------------------------------------ properties


@st.composite
def _streams(draw, n_max=40):
    """Random streams: depth updates around 100, executions of resting quantity (no order
    map: taken off the level), clears, trades and sub-tick prints, in LAST groups."""
    n = draw(st.integers(2, n_max))
    rows, t = [], S
    for _ in range(n):
        t += draw(st.integers(0, S // 2))
        kind = draw(st.sampled_from([D, D, D, D, X, C, T, int(EventKind.TRADE_SUBTICK)]))
        side = draw(st.sampled_from([1, -1]))
        if kind in (D, X):
            px = draw(st.integers(90, 99)) if side == 1 else draw(st.integers(101, 110))
            qty = draw(st.sampled_from([0.0, 1.0, 2.5, 4.0]))
        elif kind == C:
            px, qty, side = 0, 0.0, draw(st.sampled_from([0, 1, -1]))
        else:
            px = draw(st.integers(95, 105))
            px = px * SUBTICK_SCALE + 500_000 if kind != T else px
            qty = draw(st.sampled_from([1.0, 3.0]))
            side = draw(st.sampled_from([1, -1, 0]))
        rows.append((kind, side, px, qty, t, L if draw(st.booleans()) else 0))
    rows[-1] = rows[-1][:5] + (L,)
    return _events(rows)


def _same(a, b):
    for f in VIEW_DTYPE.names:
        np.testing.assert_array_equal(a[f], b[f], err_msg=f)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=_streams(), other=_streams(), cut=st.floats(0.0, 1.0))
def test_view_no_look_ahead_events_after_t_do_not_change_it(ev, other, cut):
    ts = _clock(ev)
    t_cut = int(ts[0] + cut * (ts[-1] - ts[0]))
    dec = np.unique(np.linspace(ts[0], t_cut, 4).astype(np.int64))
    # replace everything after t_cut by another stream, shifted to start after it
    keep = ev[ts <= t_cut]
    tail = other.copy()
    tail["ts_exch"] += t_cut + 1 - other["ts_exch"][0]
    tail["ts_local"] = tail["ts_exch"]
    changed = np.concatenate([keep, tail])
    a, sa = _drive(ev, ts, dec, ALL)
    b, sb = _drive(changed, _clock(changed), dec, ALL)
    np.testing.assert_array_equal(sa, sb)
    _same(a, b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=_streams())
def test_view_matches_batch_signals_on_random_streams(ev):
    ts = _clock(ev)
    dec = np.unique(np.linspace(ts[0], ts[-1], 6).astype(np.int64))
    views, seen = _drive(ev, ts, dec, ALL)
    ref, scale = _reference(_md(ev), ts, dec, seen, 3)
    _assert_features(views, ref, scale)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=_streams(), features=st.lists(st.sampled_from(
    ["imbalance2", "microprice", "ofi", "volatility", "trade_flow"]), unique=True))
def test_kernels_py_func_parity(ev, features):
    ts = _clock(ev)
    dec = np.unique(np.linspace(ts[0], ts[-1], 5).astype(np.int64))
    a, sa = _drive(ev, ts, dec, tuple(features), fns=JIT)
    b, sb = _drive(ev, ts, dec, tuple(features), fns=PY)
    c, sc = _drive(ev, ts, dec, tuple(features), fns=OUTLINED)
    d, sd = _drive(ev, ts, dec, tuple(features), fns=OUTLINED_PY)
    for x, sx in ((b, sb), (c, sc), (d, sd)):
        np.testing.assert_array_equal(sa, sx)
        _same(a, x)


# ------------------------------------------------------------------ real data


def _real(md: MarketData, stop: int, n_dec: int, n_imb: int = 5):
    ev = md.events
    ts = _clock(ev)
    dec = _grid(ts, stop, n_dec)
    feats = (f"imbalance{n_imb}", "microprice", "ofi", "volatility", "trade_flow")
    views, seen = _drive(ev, ts, dec, feats)
    ref, scale = _reference(md, ts, dec, seen, n_imb)
    _assert_features(views, ref, scale)
    return views, seen


@pytest.fixture(scope="module")
def lobster(shared_data):
    p = shared_data / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
    if not p.exists():
        pytest.skip(f"LOBSTER sample {p.name} is absent from {p.parent}")
    return load("lobster", p)


@pytest.fixture(scope="module")
def binance(shared_data):
    p = shared_data / "binance-spot-btcusdt-hftbacktest" / "btcusdt_20240808.gz"
    if not p.exists():
        pytest.skip(f"Binance sample {p.name} is absent from {p.parent}")
    return load("binance", p)


def test_view_lobster_matches_batch_signals(lobster):
    # order-level data: EXECUTE records are the trades (aggressor = -side), unknown orders
    views, seen = _real(lobster, 40_000, 300, n_imb=10)
    assert np.count_nonzero(views["trade_flow"]) > 100 and np.count_nonzero(views["ofi"]) > 100


def test_view_binance_matches_batch_signals(binance):
    # price-level data whose ts_local is not sorted (the engine's clock), deep sparse book
    views, seen = _real(binance, 60_000, 300, n_imb=5)
    assert np.count_nonzero(views["trade_flow"]) > 100 and (views["volatility_tick"] > 0).any()


def test_view_simulated_summary_prints_counted_once():
    # the simulator writes EXECUTE records plus one TRADE flagged SUMMARY per market order
    md = load("simulated", n_events=4_000, seed=3, warmup_events=1_000)
    ev = md.events
    assert ((ev["flags"] & EventFlag.SUMMARY) != 0).any()
    views, _ = _real(md, len(ev), 120, n_imb=3)
    assert np.count_nonzero(views["trade_flow"]) > 10


def test_view_ofi_sums_to_total_over_the_day(binance):
    # the per-decision sums partition the day's OFI: nothing is lost or counted twice
    ev = binance.events
    ts = _clock(ev)
    dec = _grid(ts, len(ev), 50)
    views, seen = _drive(ev, ts, dec, ("ofi",))
    b = bbo(binance)
    total = ofi(b).to_numpy()[b.index.to_numpy() < seen[-1]].sum()
    assert views["ofi"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert pd.Series(views["ofi"]).notna().all()
