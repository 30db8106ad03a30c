"""The backtest loop's arguments: their groups, their first allocation and their growth.

The loop (:func:`qlib.engine._loop.make_loop`) takes its state as a dozen arguments: the
two one-row records of :mod:`qlib.dtypes` (``ENGINE_STATE_DTYPE``, its registers, and
``ENGINE_CONFIG_DTYPE``, its configuration) and the NamedTuples of arrays below, each the
state of one part of the engine. numba passes a NamedTuple of arrays to a jitted function
as its members, and reads ``group.name`` at compile time, so the grouping costs nothing
at run time; the NamedTuple classes live at module level so that numba's on-disk cache
finds the compiled loop again in every process.

The loop never allocates: when a buffer is full it returns ``Status.CAPACITY`` with the
buffer's ``CAP_*`` code in ``cap_what``, and :func:`grow` replaces the buffer (twice the
rows, rings linearised) before the wrapper calls the loop again where it stopped.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.typed import Dict

from qlib.book import l2 as _l2
from qlib.dtypes import (
    BBO_DTYPE,
    BT_FILL_DTYPE,
    BT_RECORD_DTYPE,
    ENGINE_CONFIG_DTYPE,
    ENGINE_MSG_TO_EXCH_DTYPE,
    ENGINE_MSG_TO_LOCAL_DTYPE,
    ENGINE_ORDER_STATE_DTYPE,
    ENGINE_STATE_DTYPE,
    INTENT_DTYPE,
    ORDER_DTYPE,
    ORDER_JOURNAL_DTYPE,
    POSITION_DTYPE,
    VIEW_DTYPE,
    VIEW_FEATURE_FIELDS,
)
from qlib.engine import _state as S
from qlib.engine import _view
from qlib.engine._local import _NO_FLOOR, _NO_LEVEL
from qlib.errors import EngineError
from qlib.oms.orders import TRANSITIONS
from qlib.risk.pretrade import PreTradeRisk


class Market(NamedTuple):
    """The replayed events."""

    ev: np.ndarray  # EVENT_DTYPE rows, sorted by ts_exch
    ts_loc: np.ndarray  # int64 ns: their local times (non-decreasing): a contiguous array,
    #                     or the events' own ts_local column read in place (strided)


class Models(NamedTuple):
    """Parameters of the latency and queue models (:mod:`qlib.engine.models`)."""

    lat_p: np.ndarray  # float64: the latency model's parameters
    lat_log: np.ndarray  # the replayed latency log (ReplayLatency), else empty
    qp: np.ndarray  # float64: the queue model's parameters


class Books(NamedTuple):
    """The exchange book and the local book (:class:`qlib.book.L2Book`)."""

    xbook: Any  # exchange book, replayed at ts_exch
    xorders: Any  # its order map (L3: typed dict) or a placeholder array (L2)
    lbook: Any  # local book, replayed at ts_local: the only one the strategy sees
    lorders: Any  # its order map or a placeholder
    l3entry: Any  # L3: entry counter of each order at the exchange, or a placeholder


class Strat(NamedTuple):
    """What the strategy kernel reads and writes."""

    params: np.ndarray  # float64: the strategy's parameters
    state: np.ndarray  # float64: its own state
    view_row: np.ndarray  # VIEW_DTYPE, 1 row: what it sees ("view" would be read by
    #                       numba as the method ndarray.view)
    intents: np.ndarray  # INTENT_DTYPE, MAX_INTENTS rows: what it returns
    used: np.ndarray  # bool, MAX_INTENTS: intents a working order already covers
    fstate: np.ndarray  # float64: the named features' state (qlib.engine._view)


class Oms(NamedTuple):
    """Our orders: the order state machine's side, the exchange's side, the messages."""

    orders: np.ndarray  # ORDER_DTYPE, one row per order slot
    oxs: np.ndarray  # ENGINE_ORDER_STATE_DTYPE, aligned with orders
    work: np.ndarray  # int64: slots of the orders not yet terminal
    table: np.ndarray  # the order state machine's TRANSITIONS
    journal: np.ndarray  # ORDER_JOURNAL_DTYPE
    jlen: np.ndarray  # int64, 1 row: journal rows written
    mx: np.ndarray  # ENGINE_MSG_TO_EXCH_DTYPE ring: our messages to the exchange
    ml: np.ndarray  # ENGINE_MSG_TO_LOCAL_DTYPE ring: its responses to us


class Portfolio(NamedTuple):
    """The position and cash (:mod:`qlib.oms`)."""

    positions: np.ndarray  # POSITION_DTYPE, 1 row
    lots_qty: np.ndarray  # float64 (1, n): FIFO lot ring, quantities
    lots_px: np.ndarray  # float64 (1, n): FIFO lot ring, prices
    cash: np.ndarray  # float64, 1 row


class Risk(NamedTuple):
    """The pre-trade risk state (:class:`qlib.risk.PreTradeRisk`)."""

    istate: np.ndarray
    fstate: np.ndarray
    journal: np.ndarray


class Outputs(NamedTuple):
    """What the loop writes for the result."""

    fills: np.ndarray  # BT_FILL_DTYPE
    recs: np.ndarray  # BT_RECORD_DTYPE: interval records


class Scratch(NamedTuple):
    """Work space of the loop, and the book replay kernel's unused outputs."""

    lvl_px: np.ndarray  # int64 (1, 2, WALK_LEVELS): levels an aggressive order walks
    lvl_qty: np.ndarray  # float64 (1, 2, WALK_LEVELS)
    no_bbo: np.ndarray  # BBO_DTYPE, 0 rows
    no_rows: np.ndarray  # int64, 0 rows
    no_px: np.ndarray  # int64 (0, 2, 1)
    no_qty: np.ndarray  # float64 (0, 2, 1)
    lv_floor: np.ndarray  # int64 (2,): per side, a key at or below every local level
    #                       (qlib.engine._local._fill_levels; not tracked on L3 or when
    #                       the view shows no levels)


@dataclasses.dataclass
class LoopArgs:
    """Everything the loop reads and writes, in the order of its arguments; :func:`grow`
    replaces the buffers the loop asks for."""

    market: Market
    state: np.ndarray  # ENGINE_STATE_DTYPE, 1 row
    config: np.ndarray  # ENGINE_CONFIG_DTYPE, 1 row
    models: Models
    books: Books
    strat: Strat
    oms: Oms
    pf: Portfolio
    risk: Risk
    out: Outputs
    scratch: Scratch
    prt: PreTradeRisk  # the risk object the result keeps (not a loop argument)

    def loop_args(self) -> tuple:
        """The loop's arguments, in order (every field but ``prt``)."""
        return (self.market, self.state, self.config, self.models, self.books, self.strat,
                self.oms, self.pf, self.risk, self.out, self.scratch)


@njit(cache=True)
def _empty_entry_map():
    """An empty ``order id -> L3 entry counter`` map (a cached jitted factory: ``Dict.empty``
    called from Python compiles numba's dict helpers again in every process)."""
    return Dict.empty(key_type=types.uint64, value_type=types.int64)


def allocate(cfg: Any) -> LoopArgs:
    """The loop's registers, configuration, books and first-size buffers, from the
    settled configuration ``cfg`` of :func:`qlib.engine.backtest._configure`."""
    inst, spec, fees, ev, ts_loc = cfg.inst, cfg.spec, cfg.fees, cfg.ev, cfg.ts_loc
    dec_iv, rec_iv = cfg.dec_iv, cfg.rec_iv
    state = np.zeros(1, dtype=ENGINE_STATE_DTYPE)
    r = state[0]
    r["stop"] = len(ev)
    r["ts_start"] = int(ts_loc[0])
    r["ts_end"] = cfg.ts_end
    r["next_dec"] = int(ts_loc[0]) + dec_iv
    r["next_rec"] = int(ts_loc[0]) + rec_iv
    config = np.zeros(1, dtype=ENGINE_CONFIG_DTYPE)
    c = config[0]
    c["dec_interval"] = dec_iv
    c["rec_interval"] = rec_iv
    c["depth_levels"] = cfg.depth_levels
    c["impact"] = int(cfg.market_impact)
    c["partial"] = int(cfg.partial_fills)
    c["strategy"] = int(spec.kind)
    c["lat_kind"] = cfg.lat_kind
    c["q_kind"] = cfg.q_kind
    c["sigma_hl"] = cfg.sigma_hl
    c["feed_hl"] = 1_000  # events: the feed latency is an EWMA over ~1,000 events
    c["tick_size"] = inst.tick_size
    c["tick_value"] = inst.tick_size * inst.multiplier
    c["lot"] = inst.lot_size
    c["fee_per_qty"] = fees.per_qty
    c["capital"] = float(cfg.capital)
    mask, n_imb = _view.feature_plan(getattr(spec, "features", ()))
    c["feat_mask"], c["feat_imb"] = mask, n_imb
    c["view_levels"] = int(_view.wants_levels(getattr(spec, "features", ())))
    # the local book's level floors are kept (per event) only for a view that shows levels,
    # on L2 (qlib.engine._local._fill_levels)
    track_levels = bool(c["view_levels"]) and not cfg.is_l3

    # overflow room for a window move plus a scan of events (qlib.engine._book_io._book_room)
    cap = 2 * _l2.DEFAULT_WINDOW + 2 * 4096 + 64
    xbook, lbook = _l2.new_l2_book(capacity=cap), _l2.new_l2_book(capacity=cap)
    if cfg.is_l3:
        xorders, lorders = _l2.new_orders(), _l2.new_orders()
        l3entry = _empty_entry_map()
    else:  # placeholders: the L2 loop reads no order map
        xorders = lorders = l3entry = np.zeros(1, dtype=np.int64)
    view = np.zeros(1, dtype=VIEW_DTYPE)
    for name in VIEW_FEATURE_FIELDS + ("bid_qty_l", "ask_qty_l"):  # not requested: NaN
        view[name] = np.nan
    strat = Strat(params=np.ascontiguousarray(spec.params_array(), dtype=np.float64),
                  state=np.zeros(max(int(spec.state_size), 1), dtype=np.float64),
                  view_row=view, intents=np.zeros(S.MAX_INTENTS, dtype=INTENT_DTYPE),
                  used=np.zeros(S.MAX_INTENTS, dtype=np.bool_),
                  fstate=_view.new_feature_state())
    n_orders0 = 4096
    oms = Oms(orders=np.zeros(n_orders0, dtype=ORDER_DTYPE),
              oxs=np.zeros(n_orders0, dtype=ENGINE_ORDER_STATE_DTYPE),
              work=np.zeros(1024, dtype=np.int64), table=TRANSITIONS,
              journal=np.zeros(4 * n_orders0, dtype=ORDER_JOURNAL_DTYPE),
              jlen=np.zeros(1, dtype=np.int64),
              mx=np.zeros(8192, dtype=ENGINE_MSG_TO_EXCH_DTYPE),
              ml=np.zeros(16384, dtype=ENGINE_MSG_TO_LOCAL_DTYPE))
    positions = np.zeros(1, dtype=POSITION_DTYPE)
    p = positions[0]
    p["tick_size"], p["multiplier"] = inst.tick_size, inst.multiplier
    p["maker_fee_bps"], p["taker_fee_bps"] = fees.maker_bps, fees.taker_bps
    p["ts_last"] = np.iinfo(np.int64).min
    pf = Portfolio(positions=positions, lots_qty=np.zeros((1, 1024), dtype=np.float64),
                   lots_px=np.zeros((1, 1024), dtype=np.float64),
                   cash=np.array([float(cfg.capital)], dtype=np.float64))
    prt = PreTradeRisk(cfg.risk, [inst], journal_capacity=1024)
    n_rec = int(min((ts_loc[-1] - ts_loc[0]) // rec_iv + 4, 1_000_000))
    out = Outputs(fills=np.zeros(4096, dtype=BT_FILL_DTYPE),
                  recs=np.zeros(max(n_rec, 16), dtype=BT_RECORD_DTYPE))
    scratch = Scratch(lvl_px=np.zeros((1, 2, S.WALK_LEVELS), dtype=np.int64),
                      lvl_qty=np.zeros((1, 2, S.WALK_LEVELS), dtype=np.float64),
                      no_bbo=np.zeros(0, dtype=BBO_DTYPE), no_rows=np.zeros(0, dtype=np.int64),
                      no_px=np.zeros((0, 2, 1), dtype=np.int64),
                      no_qty=np.zeros((0, 2, 1), dtype=np.float64),
                      lv_floor=np.full(2, _NO_LEVEL if track_levels else _NO_FLOOR,
                                       dtype=np.int64))
    return LoopArgs(market=Market(ev, ts_loc), state=state, config=config,
                    models=Models(cfg.lat_p, cfg.lat_log, cfg.qp),
                    books=Books(xbook, xorders, lbook, lorders, l3entry), strat=strat, oms=oms,
                    pf=pf, risk=Risk(prt.istate, prt.fstate, prt.journal_array), out=out,
                    scratch=scratch, prt=prt)


def grow(a: LoopArgs) -> None:
    """Grow the buffer the loop named in ``cap_what`` (rings linearised)."""
    r = a.state[0]
    what = int(r["cap_what"])
    r["cap_what"] = S.CAP_NONE
    oms, pf = a.oms, a.pf
    if what == S.CAP_ORDERS:
        a.oms = oms._replace(orders=grow_rows(oms.orders), oxs=grow_rows(oms.oxs))
    elif what == S.CAP_JOURNAL:
        a.oms = oms._replace(journal=grow_rows(oms.journal))
    elif what == S.CAP_FILLS:
        a.out = a.out._replace(fills=grow_rows(a.out.fills))
    elif what == S.CAP_RECORDS:
        a.out = a.out._replace(recs=grow_rows(a.out.recs))
    elif what == S.CAP_XBOOK:
        a.books = a.books._replace(xbook=_l2.grow(a.books.xbook))
    elif what == S.CAP_LBOOK:
        a.books = a.books._replace(lbook=_l2.grow(a.books.lbook))
    elif what == S.CAP_LOTS:
        cap = pf.lots_qty.shape[1]
        h, n = int(pf.positions[0]["lot_head"]), int(pf.positions[0]["lot_len"])
        a.pf = pf._replace(lots_qty=linearize_ring(pf.lots_qty.T, h, n, 2 * cap).T.copy(),
                           lots_px=linearize_ring(pf.lots_px.T, h, n, 2 * cap).T.copy())
        pf.positions[0]["lot_head"] = 0
    elif what == S.CAP_MSGS:
        mx = linearize_ring(oms.mx, int(r["mx_head"]), int(r["mx_len"]), 2 * oms.mx.shape[0])
        ml = linearize_ring(oms.ml, int(r["ml_head"]), int(r["ml_len"]), 2 * oms.ml.shape[0])
        a.oms = oms._replace(mx=mx, ml=ml)
        r["mx_head"] = 0
        r["ml_head"] = 0
    elif what == S.CAP_WORK:
        a.oms = oms._replace(work=grow_rows(oms.work))
    else:
        raise EngineError(f"backtest loop reported a full buffer it does not name ({what})")


def grow_rows(a: np.ndarray, factor: int = 2) -> np.ndarray:
    """``a`` with ``factor`` times the rows, the new ones zero."""
    out = np.zeros((a.shape[0] * factor,) + a.shape[1:], dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def linearize_ring(a: np.ndarray, head: int, length: int, new_cap: int) -> np.ndarray:
    """The ring ``a`` (``length`` rows from ``head``) as ``new_cap`` rows from row 0."""
    out = np.zeros((new_cap,) + a.shape[1:], dtype=a.dtype)
    cap = a.shape[0]
    idx = (head + np.arange(length)) % cap
    out[:length] = a[idx]
    return out


def compact(a: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` records, with their padding bytes zeroed in place.

    numba stores a record field by writing the whole record, padding included, so the
    padding of a record the loop wrote holds whatever the register held; zeroing it
    makes ``tobytes()`` of equal results equal. A view: nothing is copied. One strided
    write per run of padding bytes (:func:`padding_runs`), not one per byte.
    """
    out = a[:n]
    if a.dtype.names is None or n == 0:
        return out
    raw = out.view(np.uint8).reshape(n, a.dtype.itemsize)
    for lo, hi in padding_runs(a.dtype):
        raw[:, lo:hi] = 0
    return out


@functools.lru_cache(maxsize=64)
def padding_runs(dtype: np.dtype) -> tuple[tuple[int, int], ...]:
    """The byte ranges ``[lo, hi)`` of a record ``dtype`` that no field covers."""
    covered = np.zeros(dtype.itemsize, dtype=bool)
    for name in dtype.names or ():
        dt, off = dtype.fields[name][:2]
        covered[off:off + dt.itemsize] = True
    runs = []
    k = 0
    while k < dtype.itemsize:
        if covered[k]:
            k += 1
            continue
        lo = k
        while k < dtype.itemsize and not covered[k]:
            k += 1
        runs.append((lo, k))
    return tuple(runs)
