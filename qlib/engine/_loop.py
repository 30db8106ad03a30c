r"""The jitted backtest loop (kernels only: arrays and scalars in, status codes out).

Public wrapper: :func:`qlib.engine.backtest`. The design is in :mod:`qlib.engine.backtest`;
the loop's arguments (two one-row records, ``ENGINE_STATE_DTYPE`` and
``ENGINE_CONFIG_DTYPE`` of :mod:`qlib.dtypes`, and NamedTuples of arrays) are described in
:mod:`qlib.engine._alloc`, its codes in :mod:`qlib.engine._state`. The kernels it calls
are in :mod:`qlib.engine._exchange` (the simulated exchange), :mod:`qlib.engine._local`
(the strategy side) and :mod:`qlib.engine._book_io` (book access).

One loop advances five clocks in time order, with this priority on equal times:

1. an event at exchange time ``ts_exch`` is applied to the *exchange* book, and to our
   resting orders (queue position, fills);
2. a message of ours reaches the exchange (a new order, a cancel);
3. an event at local time ``ts_local`` is applied to the *local* book;
4. a response reaches the strategy (ack, reject, fill, cancel ack, expiry) and goes
   through the order state machine and the portfolio;
5. the strategy's timer fires: it sees the local view and returns intents, which pass
   the pre-trade risk kernel and become messages to the exchange;

and an interval record is written on its own timer. The strategy only ever reads the
local book and local order states, so it cannot see an event before its local time.

The sides only meet through messages, so each advances in runs: the exchange book up
to the next message arrival or decision (a decision can send a message, never one due
before it), lagging entirely while nothing of ours is there or on its way; the local
book up to the decision or record that reads it; the messages due together, and the
responses due before the next decision, in one step each. The result equals the
event-by-event order above (the parity and no-look-ahead tests check it).

The loop is built by :func:`make_loop` for price-level (L2) or order-level (L3) data, and
for the built-in strategies or a user's kernel; the functions each variant calls are
written in its source. A user's kernel is not compiled into the loop: the custom variant
takes it as its last argument, a first-class function of type
:data:`qlib.strategy.nb.KERNEL_TYPE`, so that one variant per kind of data is compiled
once, cached on disk, and runs every kernel of :data:`qlib.strategy.nb.KERNEL_SIGNATURE`
(:func:`loop_for`, :class:`FnLoop`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import njit

from qlib.engine import _latency_kernels as _lat
from qlib.engine._alloc import Market
from qlib.engine._book_io import (
    _apply_range_l2,
    _apply_range_l3,
)
from qlib.dtypes import SUBTICK_SCALE
from qlib.engine._consts import (
    MAX_PX_TICK,
    MAX_QTY,
    PRICED_LUT,
    _ADD,
    _CAPACITY,
    _INF_TS,
    _LN2,
    _MODIFY,
    _OK,
    _TRADE_SUBTICK,
)
from qlib.engine._exchange import (
    _arrive_cancel,
    _arrive_submit,
    _exch_end,
    _exch_run_l2,
    _exch_run_l3,
)
from qlib.engine._local import (
    _cancel_all,
    _compact_work,
    _equity,
    _fill_view,
    _local_to_l2,
    _local_to_l3,
    _on_response,
    _reconcile,
    _record,
    _sync_risk,
)
from qlib.engine._state import (
    CAP_FILLS,
    CAP_JOURNAL,
    CAP_LOTS,
    CAP_MSGS,
    CAP_ORDERS,
    CAP_RECORDS,
    CAP_XBOOK,
    M_SUBMIT,
    WALK_LEVELS,
)
from qlib.enums import (
    OrderAction,
)
from qlib.risk import nb as _risk
from qlib.errors import ParameterError
from qlib.strategy.nb import KERNEL_SIGNATURE, KERNEL_TYPE, decide_builtin


@njit(cache=True, _nrt=False)
def local_clock(ev, ts_loc):
    """Make ``ts_loc`` a feed's clock in place: at least ``ts_exch``, never decreasing.

    Returns how many rows arrived before the previous one (raised to its time).
    """
    n = 0
    run = np.iinfo(np.int64).min
    for i in range(ts_loc.shape[0]):
        t = max(ts_loc[i], ev[i]["ts_exch"])
        if t < run:
            n += 1
            t = run
        run = t
        ts_loc[i] = t
    return n


@njit(cache=True, _nrt=False)
def scan_events_clock(ev, synth_flag, ts_loc):
    """Check the events and make the data's own ``ts_local`` a feed's clock, in one pass.

    When ``ts_loc`` has a row per event, writes ``ts_loc[i]`` as :func:`local_clock`
    makes it from ``ev["ts_local"]`` (at least ``ts_exch``, never decreasing) while it
    scans; when it has none, only counts. Returns ``(bad_order, n_l3, n_synth,
    bad_value, n_reordered, n_changed)``: the first row whose ``ts_exch`` is before the
    previous one (-1: none), the rows of order-level kinds, the rows flagged
    ``synth_flag``, the first row whose price or quantity the engine cannot compute with
    (-1: none): ``qty`` outside ``[0, MAX_QTY]`` or NaN, ``|px_tick|`` above
    ``MAX_PX_TICK`` (``MAX_PX_TICK * SUBTICK_SCALE`` for ``TRADE_SUBTICK``), or
    ``px_tick < 1`` on a kind of ``PRICED_KINDS`` (see :mod:`qlib.engine._consts`); the
    count of :func:`local_clock`, and the rows whose clock differs from their
    ``ts_local`` (0: the data's own ``ts_local`` is already a feed's clock and can be
    read in place). One read of the events instead of three (scan, copy of
    ``ts_local``, clock): the wrapper's validation is memory-bound.
    """
    bad = -1
    bad_value = -1
    n_l3 = 0
    n_synth = 0
    n_re = 0
    n_changed = 0
    write = ts_loc.shape[0] == ev.shape[0]
    run = np.iinfo(np.int64).min
    prev = ev[0]["ts_exch"] if ev.shape[0] > 0 else 0
    for i in range(ev.shape[0]):
        e = ev[i]
        t = e["ts_exch"]
        if t < prev and bad < 0:
            bad = i
        prev = t
        tl0 = e["ts_local"]
        tl = max(tl0, t)
        if tl < run:
            n_re += 1
            tl = run
        run = tl
        if tl != tl0:
            n_changed += 1
        if write:
            ts_loc[i] = tl
        k = e["kind"]
        if k >= _ADD and k <= _MODIFY:
            n_l3 += 1
        if (e["flags"] & synth_flag) != 0:
            n_synth += 1
        px = e["px_tick"]
        q = e["qty"]
        if not ((px >= 1) & (px <= MAX_PX_TICK) & (q >= 0.0) & (q <= MAX_QTY)) \
                and bad_value < 0:
            lim = MAX_PX_TICK * SUBTICK_SCALE if k == _TRADE_SUBTICK else MAX_PX_TICK
            if px > lim or px < -lim or (PRICED_LUT[k] and px < 1) \
                    or not ((q >= 0.0) and (q <= MAX_QTY)):
                bad_value = i
    return bad, n_l3, n_synth, bad_value, n_re, n_changed


def make_loop(*, l2: bool, custom: bool = False) -> Callable:
    """Build the backtest loop for one kind of data and one kind of strategy call.

    Parameters
    ----------
    l2 : bool
        True for price-level data (no order-level kinds): the books are applied inline
        (:func:`qlib.engine._book_io._apply_range_l2`, :func:`qlib.engine._exchange._exch_run_l2`,
        :func:`qlib.engine._local._local_to_l2`), no order map is read (placeholder arrays
        take the maps' places) and the loop is compiled without reference counting.
        False for order-level data: the book's replay kernel with typed-dict order maps
        (the ``_l3`` functions), with reference counting (the maps need it).
    custom : bool
        False: the loop calls the built-in strategies, inlined
        (:func:`qlib.strategy.nb.decide_builtin`, by ``StrategyKind``), and its last
        argument ``kern`` is ``None``. True: the loop calls ``kern(view, params, state,
        out)``, its last argument, a first-class function of type
        :data:`qlib.strategy.nb.KERNEL_TYPE` (run it through :class:`FnLoop`).

    Returns
    -------
    The jitted loop ``run_loop(..., kern) -> (status, row)``.

    Notes
    -----
    Which functions a loop calls is written in its source, as branches on the closure
    constants ``L2`` and ``CUSTOM``; numba reads closure variables as constants and
    removes the branch not taken before typing (its dead-branch pruning), so the L2 loop
    never types the order-map functions. Every variant closes over plain bools only, so
    its on-disk cache entries are found again by every process (one cache file per
    ``__qualname__``). The custom variant's cache entry is keyed by the argument types,
    and the type of ``kern`` is the kernel's signature, not the kernel: one compiled loop
    serves every user kernel (numba calls it through its address, see
    ``benchmarks/RESULTS.md``, issue 11, first result, for the cost per decision).
    """
    L2 = bool(l2)
    CUSTOM = bool(custom)

    def run_loop(market, state, config, models, books, strat, oms, pf, risk, out, scratch,
                 kern):
        """Run the backtest from where ``state`` says until the end or a full buffer.

        ``state`` and ``config`` are one-row arrays of
        :data:`~qlib.dtypes.ENGINE_STATE_DTYPE` and :data:`~qlib.dtypes.ENGINE_CONFIG_DTYPE`;
        the other arguments are the NamedTuples of :mod:`qlib.engine._alloc`, and ``kern``
        the user's kernel (custom variant) or ``None``.

        Returns ``(status, row)``: ``OK`` at the end; ``CAPACITY`` with ``cap_what``
        naming the buffer to grow (nothing half-done: call again after growing); another
        Status with the event row for bad data. See :func:`qlib.engine.backtest`.
        """
        es = state[0]  # a record view: writes go to the array
        cf = config[0]
        ev, ts_loc = market.ev, market.ts_loc
        xbook, xorders = books.xbook, books.xorders
        s_params, s_state, intents = strat.params, strat.state, strat.intents
        view = strat.view_row
        orders, work, journal, jlen, mx, ml = oms.orders, oms.work, oms.journal, oms.jlen, \
            oms.mx, oms.ml
        positions, lots_qty = pf.positions, pf.lots_qty
        r_ist, r_fst, r_journal = risk.istate, risk.fstate, risk.journal
        fills, recs = out.fills, out.recs
        no_bbo, no_rows, no_px, no_qty = scratch.no_bbo, scratch.no_rows, scratch.no_px, \
            scratch.no_qty
        stop = es["stop"]
        dec_iv = cf["dec_interval"]
        rec_iv = cf["rec_interval"]
        feed_a = 1.0 - np.exp(-_LN2 / max(cf["feed_hl"], 1))  # per market-data event
        fmask = cf["feat_mask"]  # named features requested (qlib.engine._view)
        n_int = intents.shape[0]
        while True:
            # room for one more step of every kind
            if jlen[0] + 4 * n_int + 4 * work.shape[0] + 16 > journal.shape[0]:
                es["cap_what"] = CAP_JOURNAL
                return _CAPACITY, -1
            if es["n_orders"] + n_int + 1 > orders.shape[0]:
                es["cap_what"] = CAP_ORDERS
                return _CAPACITY, -1
            if es["n_fills"] + 1 > fills.shape[0]:
                es["cap_what"] = CAP_FILLS
                return _CAPACITY, -1
            if es["n_rec"] + 2 > recs.shape[0]:
                es["cap_what"] = CAP_RECORDS
                return _CAPACITY, -1
            if positions[0]["lot_len"] + 2 > lots_qty.shape[1]:
                es["cap_what"] = CAP_LOTS
                return _CAPACITY, -1
            if es["mx_len"] + n_int + work.shape[0] > mx.shape[0] or \
                    es["ml_len"] + 4 * WALK_LEVELS + 4 * work.shape[0] > ml.shape[0]:
                es["cap_what"] = CAP_MSGS
                return _CAPACITY, -1
            i_ex = es["i_ex"]
            i_lo = es["i_lo"]
            # the exchange book is only read when an order of ours rests there or is on its
            # way: while neither is the case it lags, and catches up (the same events, in
            # the same order) before the next message reaches it
            idle_x = es["n_resting"] == 0 and es["mx_len"] == 0
            if i_lo >= stop and (i_ex >= stop or idle_x):
                break
            t_ex = ev[i_ex]["ts_exch"] if (i_ex < stop and not idle_x) else _INF_TS
            t_mx = mx[es["mx_head"]]["due"] if es["mx_len"] > 0 else _INF_TS
            t_ml = ml[es["ml_head"]]["due"] if es["ml_len"] > 0 else _INF_TS
            t_dec = es["next_dec"]
            t_rec = es["next_rec"]
            if t_ex <= t_mx and t_ex <= t_dec:
                # 1. the exchange book up to the next time our orders can change, with our
                #    resting orders' queue positions and fills
                bound = min(t_mx, t_dec)
                if es["n_resting"] == 0:
                    # nothing of ours rests: one replay call for the whole run
                    j = _exch_end(ev, stop, i_ex, bound)
                    st, row = _OK, -1
                    if j > i_ex:
                        if L2:
                            st, row = _apply_range_l2(ev, i_ex, j, xbook, xorders, no_bbo, no_rows,
                                                      no_px, no_qty)
                        else:
                            st, row = _apply_range_l3(ev, i_ex, j, xbook, xorders, no_bbo, no_rows,
                                                      no_px, no_qty)
                    if st != _OK:
                        es["i_ex"] = row
                        if st == _CAPACITY:
                            es["cap_what"] = CAP_XBOOK
                    else:
                        es["n_exch_events"] += j - i_ex
                        es["i_ex"] = j
                elif L2:
                    st, row = _exch_run_l2(ev, bound, es, cf, models, books, oms, scratch)
                else:
                    st, row = _exch_run_l3(ev, bound, es, cf, models, books, oms)
                if st != _OK:
                    return st, row
            elif t_mx <= t_ml and t_mx <= t_dec and t_mx <= t_rec:
                # 3. messages of ours reach the exchange: every one due before the next
                #    exchange event (they do not touch the local side, which only sees
                #    their responses, due later)
                while True:
                    h = es["mx_head"]
                    mkind = mx[h]["kind"]
                    slot = mx[h]["slot"]
                    t_m = mx[h]["due"]
                    es["mx_head"] = (h + 1) % mx.shape[0]
                    es["mx_len"] -= 1
                    action = OrderAction.SUBMIT if mkind == M_SUBMIT else OrderAction.CANCEL
                    resp = _lat.response_latency(cf["lat_kind"], models.lat_p, models.lat_log,
                                                 action, t_m, np.int64(es["feed_lat"]))
                    if mkind == M_SUBMIT:
                        ok = _arrive_submit(es, cf, oms, xbook, scratch, models.qp, slot, t_m,
                                            resp)
                    else:
                        ok = _arrive_cancel(es, oms, slot, t_m, resp)
                    if not ok:
                        es["cap_what"] = CAP_MSGS
                        return _CAPACITY, -1
                    if es["mx_len"] == 0 or mx[es["mx_head"]]["due"] >= t_ex \
                            or es["ml_len"] + 2 * WALK_LEVELS + 8 > ml.shape[0]:
                        break
            elif t_ml <= t_dec and t_ml <= t_rec:
                # 4. responses reach the strategy: every one due up to the next decision or
                #    record (nothing else reads what they change)
                bound = min(t_dec, t_rec)
                while True:
                    h = es["ml_head"]
                    t_r = ml[h]["due"]
                    es["ml_head"] = (h + 1) % ml.shape[0]
                    es["ml_len"] -= 1
                    st = _on_response(es, cf, oms, pf, risk, fills, h, t_r)
                    if st != _OK:
                        return st, -1
                    if es["ml_len"] == 0 or ml[es["ml_head"]]["due"] > bound \
                            or es["n_fills"] + 1 > fills.shape[0] \
                            or jlen[0] + 8 > journal.shape[0] \
                            or positions[0]["lot_len"] + 2 > lots_qty.shape[1]:
                        break
                _compact_work(es, oms)
                _sync_risk(es, oms, risk)
            elif t_dec <= t_rec:
                # 5. the strategy decides, on the local book of every event seen by t_dec
                if L2:
                    st, row = _local_to_l2(market, t_dec, es, feed_a, books, view, fmask,
                                           strat.fstate, scratch.lv_floor)
                else:
                    st, row = _local_to_l3(market, t_dec, es, feed_a, books, view, scratch,
                                           fmask, strat.fstate)
                if st != _OK:
                    return st, row
                if es["i_lo"] >= stop and (es["i_ex"] >= stop or idle_x):
                    break  # the data ended before this decision
                es["next_dec"] = t_dec + dec_iv
                _fill_view(es, cf, books.lbook, pf, oms, view, risk, t_dec, strat.fstate,
                           scratch)
                mid = es["last_mid"]
                if mid > 0.0:
                    _risk.update_reference(r_ist, r_fst, 0, es["last_md_ts"],
                                           np.int64(np.round(mid)))
                    _risk.mark_pnl(r_ist, r_fst, r_journal, t_dec,
                                   _equity(cf, pf, mid) - cf["capital"])
                if _risk.kill_switch_tripped(r_ist) != 0:
                    # every decision while tripped: what was acknowledged since gets its cancel
                    es["kill_seen"] = 1
                    if es["n_work"] > 0:
                        st = _cancel_all(es, cf, oms, models, t_dec)
                        if st != _OK:
                            return st, -1
                        _sync_risk(es, oms, risk)
                else:
                    es["kill_seen"] = 0
                    es["n_dec"] += 1
                    if CUSTOM:
                        n = kern(view, s_params, s_state, intents)
                    else:
                        n = decide_builtin(cf["strategy"], view, s_params, s_state, intents)
                    n = min(n, n_int)
                    if n > 0 or (n == 0 and es["n_work"] > 0):  # 0 with nothing working: no-op
                        st = _reconcile(es, cf, oms, models, strat, n, risk, t_dec)
                        if st != _OK:
                            return st, -1
                        _sync_risk(es, oms, risk)
            else:
                # 6. an interval record
                if L2:
                    st, row = _local_to_l2(market, t_rec, es, feed_a, books, view, fmask,
                                           strat.fstate, scratch.lv_floor)
                else:
                    st, row = _local_to_l3(market, t_rec, es, feed_a, books, view, scratch,
                                           fmask, strat.fstate)
                if st != _OK:
                    return st, row
                if es["i_lo"] >= stop and (es["i_ex"] >= stop or idle_x):
                    break
                es["next_rec"] = t_rec + rec_iv
                _record(es, cf, recs, pf, oms, books.lbook, t_rec)
        # the final record, at the last local event
        last = ts_loc[stop - 1] if stop > 0 else 0
        if es["last_rec_ts"] < last:
            _record(es, cf, recs, pf, oms, books.lbook, last)
        return _OK, -1

    run_loop.__qualname__ = run_loop.__name__ = (
        "run_loop_" + ("l2" if L2 else "l3") + ("_custom" if CUSTOM else ""))
    return njit(cache=True, _nrt=not L2)(run_loop)


#: The loops of the built-in strategies (compiled on first use, cached on disk).
run_loop_l2 = make_loop(l2=True)
run_loop_l3 = make_loop(l2=False)
#: The loops of user kernels (``kern`` of :data:`qlib.strategy.nb.KERNEL_TYPE`).
run_loop_l2_custom = make_loop(l2=True, custom=True)
run_loop_l3_custom = make_loop(l2=False, custom=True)


def _fingerprint(a: Any) -> Any:
    """A key that equals for two arguments only when numba types them the same.

    An array is typed by its dtype, dimensions, layout, and its writeable and aligned
    flags (``numba.typeof`` of an ndarray), a NamedTuple by its class and its members'
    types, a typed Dict by its ``_numba_type_``; anything else by ``numba.typeof``. A
    key built from more than numba reads (both contiguity flags) only splits the cache.
    """
    if isinstance(a, np.ndarray):
        f = a.flags
        return (a.dtype, a.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned)
    if isinstance(a, tuple):
        return (type(a),) + tuple(_fingerprint(x) for x in a)
    t = getattr(a, "_numba_type_", None)
    if t is not None:
        return t
    return numba.typeof(a)


def _loop_type(a: Any) -> Any:
    """``numba.typeof(a)``, with the local clock of :class:`~qlib.engine._alloc.Market`
    typed as an array of any layout: it is the data's own ``ts_local`` column read in
    place (strided) when that is already a feed's clock, a contiguous array otherwise,
    and one compiled loop serves both."""
    t = numba.typeof(a)
    if isinstance(a, Market):
        t = numba.types.NamedTuple((t.types[0], t.types[1].copy(layout="A")), Market)
    return t


class _EntryCache:
    """Call a jitted loop through the entry point of its overload for the argument types.

    A dispatcher call types every argument with ``numba.typeof`` before it looks up the
    overload: for the loop's structured arrays and NamedTuples that is ~3 ms per call
    (``benchmarks/RESULTS.md``, issue 11). The types are looked up here by
    :func:`_fingerprint` of the arguments (~0.1 ms), and ``numba.typeof`` runs once per
    new fingerprint, when the overload is compiled or loaded from the disk cache.
    """

    def __init__(self, loop: Any, last: Any) -> None:
        self.loop = loop
        self._last = last  # the numba type of the last argument (the kernel or None)
        self._entry: dict[Any, Callable] = {}

    def __call__(self, *args: Any) -> tuple[int, int]:
        key = tuple(_fingerprint(a) for a in args[:-1])
        entry = self._entry.get(key)
        if entry is None:
            sig = tuple(_loop_type(a) for a in args[:-1]) + (self._last,)
            self.loop.compile(sig)
            entry = self._entry[key] = self.loop.overloads[sig].entry_point
        return entry(*args)


class FnLoop(_EntryCache):
    """Call a custom loop compiled for ``kern`` of :data:`~qlib.strategy.nb.KERNEL_TYPE`.

    Calling a jitted function with a dispatcher argument would compile it again for that
    dispatcher (numba types a dispatcher argument by its identity). Here the loop is
    compiled (or loaded from the disk cache) once for the argument types of the state,
    with :data:`~qlib.strategy.nb.KERNEL_TYPE` as the last one, and that overload's entry
    point is called: it takes any dispatcher compiled for
    :data:`~qlib.strategy.nb.KERNEL_SIGNATURE` as a function address. The overload is
    found by the arguments' fingerprint (:class:`_EntryCache`).
    """

    def __init__(self, loop: Any) -> None:
        super().__init__(loop, KERNEL_TYPE)


_FN_LOOPS = {True: FnLoop(run_loop_l2_custom), False: FnLoop(run_loop_l3_custom)}
#: The built-in strategies' loops, called the same way (their last argument is None).
_BUILTIN_LOOPS = {True: _EntryCache(run_loop_l2, numba.types.none),
                  False: _EntryCache(run_loop_l3, numba.types.none)}


def as_kernel(fn: Any, name: str = "custom") -> Any:
    """``fn`` compiled for :data:`qlib.strategy.nb.KERNEL_SIGNATURE` (a kernel made by
    :func:`qlib.strategy.strategy` already is; an older ``@njit`` kernel is compiled for
    it here, once per dispatcher).

    Raises
    ------
    ParameterError
        If ``fn`` is not a numba dispatcher or does not compile for the signature (the
        message says why).
    """
    sigs = getattr(fn, "signatures", None)
    if sigs is None or not hasattr(fn, "compile"):
        raise ParameterError(f"strategy {name!r}: the kernel must be a numba @njit function, "
                             f"was {fn!r} ({type(fn).__name__})")
    if tuple(KERNEL_SIGNATURE.args) in [tuple(s) for s in sigs]:
        return fn
    try:
        fn.compile(KERNEL_SIGNATURE)
    except Exception as exc:  # noqa: BLE001 - numba's typing errors have many classes
        first = " ".join(str(exc).strip().splitlines()[:4])
        raise ParameterError(
            f"strategy {name!r}: its kernel does not compile for the engine's signature "
            f"{KERNEL_SIGNATURE} (view, params, state, out: C-contiguous arrays; return an "
            f"int): {type(exc).__name__}: {first}") from None
    return fn


def loop_for(custom: bool, l2: bool) -> Callable:
    """The loop to run, cached on disk: the built-in strategies' (call it with ``kern``
    None) or the user kernels' (call it with the kernel, see :func:`as_kernel`)."""
    if custom:
        return _FN_LOOPS[bool(l2)]
    return _BUILTIN_LOOPS[bool(l2)]
