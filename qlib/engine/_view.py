r"""The strategy view's book levels and named features (kernels, and the wrapper's plan).

A strategy names the features it reads (``features=`` of :func:`qlib.strategy.strategy`;
the names, view fields and formulas are the table of :mod:`qlib.signals.nb`). The engine
keeps them up to date on its *local* side, without look-ahead:

1. once per run, the wrapper turns the names into a plan, :func:`feature_plan`
   (``mask`` of :data:`FEATURE_BITS`, and ``n_imb`` levels for ``imbalanceN``), and
   allocates one float64 feature state of :data:`qlib.signals.nb.FEATURE_STATE_N` zeros
   (:func:`new_feature_state`);
2. after each local event ``i`` is applied to the local book (events in local-time
   order, so only events with local time at or before the next decision), the loop
   calls :func:`on_event`; it does nothing when ``mask == 0``;
3. at each decision, :func:`fill_levels` then :func:`at_decision` write the view's
   ``bid_px_l``/``ask_px_l``/``bid_qty_l``/``ask_qty_l`` and its feature fields.

Choices where the contract of :mod:`qlib.signals.nb` leaves room
-----------------------------------------------------------------
* **When the book features update.** "After each change of the local best levels" is
  read as: after each event flagged :attr:`qlib.enums.EventFlag.LAST`, the end of one
  exchange event, when the book is a consistent venue state (inside a Binance diff or
  a LOBSTER resync the book can be transiently crossed; every loader sets ``LAST``).
  The best levels are read there with :func:`qlib.book.nb.best_px`; when they did not
  change, the OFI term :math:`e_n` is exactly 0 and the volatility ignores a zero mid
  change, so reading at every ``LAST`` equals reading only at changes, without keeping
  a copy of the previous best levels. The states are those of
  :func:`qlib.book.bbo` (``at_last_only=True``), whose per-row OFI is
  :func:`qlib.signals.ofi`. A one-sided book updates neither feature
  (:func:`qlib.signals.nb.features_on_book`).
* **Which events are trades.** Every traded quantity counts once, as in
  :func:`qlib.signals.trades`, decided per event so that no later event is needed:
  ``TRADE`` and ``TRADE_SUBTICK`` with their aggressor side; ``EXECUTE`` (a resting
  order hit: LOBSTER type 4, the simulator) with aggressor ``-side``; a ``TRADE``
  flagged :attr:`qlib.enums.EventFlag.SUMMARY` is skipped, its quantity being in the
  ``EXECUTE`` records of the same exchange event (as :func:`qlib.book.to_l2` does).
  Trade flow needs the aggressor's side and quantity only, so the price (in ticks, or
  in millionths of a tick for ``TRADE_SUBTICK``) is not read.
* **Times.** The feature clocks are the engine's local clock ``ts_loc[i]`` (the feed
  latency model's receive times, not necessarily ``ev["ts_local"]``) and the decision
  time ``t``; the half-life is :data:`qlib.signals.nb.FEATURE_HALFLIFE_NS`.
* **``ofi``** is the sum of :math:`e_n` over the book states since the previous decision
  *of this run* (0.0 at the first decision, as no pair of states precedes it, and
  whenever the book did not change); the sum restarts at each decision.
* **``microprice_tick``** is NaN while a side of the book is empty (the weighted mid
  has no value: :func:`qlib.signals.nb.weighted_mid`); ``imbalance`` is 0.0 when both
  sides hold nothing in the first N levels, ``volatility_tick`` 0.0 before the second
  two-sided mid, ``trade_flow`` 0.0 before the first trade.

Cost: :func:`on_event` is one test when ``mask == 0``, two best-level reads and O(1)
arithmetic otherwise; :func:`fill_levels` walks at most the first
:data:`VIEW_LEVELS` levels per side (:func:`qlib.book.nb.top_levels`).

References
----------
.. [1] Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book
   events. Journal of Financial Econometrics, 12(1), 47-88.
.. [2] Stoikov, S. (2018). The micro-price: a high-frequency estimator of future prices.
   Quantitative Finance, 18(12), 1959-1966.
.. [3] J.P. Morgan/Reuters (1996). RiskMetrics - Technical Document, 4th ed.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numba import njit

from qlib.book import nb as _b
from qlib.dtypes import VIEW_FEATURE_FIELDS, VIEW_LEVELS
from qlib.enums import EventFlag, EventKind, Side
from qlib.signals import nb as _sig

__all__ = [
    "FEATURE_BITS",
    "F_IMBALANCE",
    "F_MICROPRICE",
    "F_OFI",
    "F_TRADE_FLOW",
    "F_VOLATILITY",
    "at_decision",
    "feature_plan",
    "fill_levels",
    "new_feature_state",
    "on_event",
    "on_event_outlined",
    "wants_levels",
]

#: Bit of each view feature field in a plan's ``mask``: bit ``j`` is
#: ``VIEW_FEATURE_FIELDS[j]`` (``imbalance``, ``microprice_tick``, ``ofi``,
#: ``volatility_tick``, ``trade_flow``).
FEATURE_BITS: dict[str, int] = {f: 1 << j for j, f in enumerate(VIEW_FEATURE_FIELDS)}
F_IMBALANCE = FEATURE_BITS["imbalance"]
F_MICROPRICE = FEATURE_BITS["microprice_tick"]
F_OFI = FEATURE_BITS["ofi"]
F_VOLATILITY = FEATURE_BITS["volatility_tick"]
F_TRADE_FLOW = FEATURE_BITS["trade_flow"]
#: Features whose state follows the book (:func:`qlib.signals.nb.features_on_book`).
_BOOK_STATE = F_OFI | F_VOLATILITY
#: Features read from the state at a decision (:func:`qlib.signals.nb.features_at_decision`).
_TIMED = F_OFI | F_VOLATILITY | F_TRADE_FLOW

_HL = float(_sig.FEATURE_HALFLIFE_NS)
_LAST = int(EventFlag.LAST)
_SUMMARY = int(EventFlag.SUMMARY)
_TRADE = int(EventKind.TRADE)
_TRADE_SUBTICK = int(EventKind.TRADE_SUBTICK)
_EXECUTE = int(EventKind.EXECUTE)
_BUY = int(Side.BUY)
_SELL = int(Side.SELL)
_NAN = np.nan


def feature_plan(features: Iterable[str]) -> tuple[int, int]:
    """Return ``(mask, n_imb)``: the features a strategy requested, for the kernels.

    Parameters
    ----------
    features
        Feature names (``features=`` of a strategy spec; :func:`qlib.signals.nb.check_features`
        validates them again here), e.g. ``("imbalance5", "microprice", "ofi")``.

    Returns
    -------
    tuple of int
        ``mask``: the OR of :data:`FEATURE_BITS` of the requested view fields (0 when
        none); ``n_imb``: the N of ``imbalanceN`` (0 when not requested).

    Raises
    ------
    ParameterError
        An unknown name, ``imbalanceN`` with N outside ``1 .. VIEW_LEVELS``, a name
        given twice (from :func:`qlib.signals.nb.check_features`).

    Examples
    --------
    >>> feature_plan(("imbalance3", "ofi")) == (F_IMBALANCE | F_OFI, 3)
    True
    >>> feature_plan(())
    (0, 0)
    """
    names = _sig.check_features(features)
    mask = 0
    n_imb = 0
    for name in names:
        field, levels = _sig.feature_field(name)
        if field == "levels":  # the book levels: see wants_levels
            continue
        mask |= FEATURE_BITS[field]
        if field == "imbalance":
            n_imb = levels
    return mask, n_imb


def wants_levels(features: Iterable[str]) -> bool:
    """True when the view's book levels must be filled: ``levels`` is requested, or
    ``imbalanceN``, which is computed from them (:func:`at_decision`)."""
    names = _sig.check_features(features)
    return any(_sig.feature_field(n)[0] in ("levels", "imbalance") for n in names)


def new_feature_state() -> np.ndarray:
    """Return a fresh feature state: float64 zeros of :data:`qlib.signals.nb.FEATURE_STATE_N`."""
    return np.zeros(_sig.FEATURE_STATE_N, dtype=np.float64)


@njit(cache=True, _nrt=False)
def fill_levels(book, view, lvl_px, lvl_qty):
    r"""Write the local book's first :data:`VIEW_LEVELS` non-empty levels per side to the view.

    Parameters
    ----------
    book : qlib.book.L2Book
        The local book (read through :func:`qlib.book.nb.top_levels` only).
    view : numpy.ndarray
        One-record :data:`qlib.dtypes.VIEW_DTYPE` array; ``bid_px_l``/``bid_qty_l`` get
        the bids best first (descending prices), ``ask_px_l``/``ask_qty_l`` the asks
        (ascending), in ticks and quantity units; ``0``/``0.0`` past the last level.
    lvl_px, lvl_qty : numpy.ndarray
        Scratch, int64 / float64 of shape ``(>=1, 2, >=VIEW_LEVELS)`` (the engine's
        ``lvl_px``/``lvl_qty`` walk buffers serve); row 0 is overwritten.

    Returns
    -------
    int
        Levels written, bids plus asks (``0 .. 2 * VIEW_LEVELS``).

    Notes
    -----
    O(``VIEW_LEVELS`` + empty ticks skipped inside the book's window); no allocation.
    The copy through the scratch is there because :func:`qlib.book.nb.top_levels` writes
    a ``(row, side, level)`` block and the view holds one array per side.
    """
    n = 0
    v = view[0]
    bpx = v["bid_px_l"]
    bq = v["bid_qty_l"]
    apx = v["ask_px_l"]
    aq = v["ask_qty_l"]
    for s in range(2):
        n += _b.top_levels(book, s, VIEW_LEVELS, lvl_px, lvl_qty, 0)
    for j in range(VIEW_LEVELS):
        bpx[j] = lvl_px[0, 0, j]
        bq[j] = lvl_qty[0, 0, j]
        apx[j] = lvl_px[0, 1, j]
        aq[j] = lvl_qty[0, 1, j]
    return n


@njit(cache=True, _nrt=False, inline="always")
def on_event(ev, ts_loc, i, book, fstate, mask):
    r"""Update the feature state after local event ``ev[i]`` was applied to ``book``.

    Parameters
    ----------
    ev : numpy.ndarray
        The :data:`qlib.dtypes.EVENT_DTYPE` events of the run.
    ts_loc : numpy.ndarray
        int64 local receive times of ``ev`` (ns), non-decreasing: the engine's local clock.
    i : int
        Row just applied to the local book (rows are fed in order).
    book : qlib.book.L2Book
        The local book, ``ev[i]`` applied.
    fstate : numpy.ndarray
        float64 feature state (:func:`new_feature_state`), updated in place.
    mask : int
        The plan's mask (:func:`feature_plan`).

    Notes
    -----
    At an event flagged ``LAST``, when ``ofi`` or ``volatility_tick`` is requested,
    :func:`qlib.signals.nb.features_on_book` with the best levels
    :math:`(P^b, q^b, P^a, q^a)`: the OFI term [1]_

    .. math:: e_n = \mathbb 1\{P^b_n \ge P^b_{n-1}\} q^b_n - \mathbb 1\{P^b_n \le P^b_{n-1}\}
                    q^b_{n-1} - \mathbb 1\{P^a_n \le P^a_{n-1}\} q^a_n
                    + \mathbb 1\{P^a_n \ge P^a_{n-1}\} q^a_{n-1}

    and the time-decayed sum of squared mid changes
    :math:`S \leftarrow S\,2^{-\Delta t/H} + (\Delta m)^2` [3]_. At a trade (see the
    module notes for which events are trades), when ``trade_flow`` is requested,
    :func:`qlib.signals.nb.features_on_trade`:
    :math:`F \leftarrow F\,2^{-\Delta t/H} + s\,q`. O(1), no allocation; a single test
    when ``mask == 0``.

    Inlined (``inline="always"``) for a loop compiled with ``_nrt=False`` (the engine's
    L2 loop): about 4 ns/event with every feature requested, measured over the Binance
    spot day of ``../shared/data`` (book held fixed, the call guarded by ``mask != 0``).
    In a loop compiled with reference counting (the L3 loop) the inlined body costs about
    150 ns/event (reference-count pairs on the arrays it aliases): call
    :func:`on_event_outlined` there (about 43 ns/event).
    """
    if mask == 0:
        return
    e = ev[i]
    t = np.float64(ts_loc[i])
    if (mask & _BOOK_STATE) != 0 and (e["flags"] & _LAST) != 0:
        bb, bq = _b.best_px(book, _BUY)
        ba, aq = _b.best_px(book, _SELL)
        _sig.features_on_book(fstate, t, np.float64(bb), bq, np.float64(ba), aq, _HL)
    if (mask & F_TRADE_FLOW) != 0:
        k = e["kind"]
        if k == _TRADE:
            if (e["flags"] & _SUMMARY) == 0:
                _sig.features_on_trade(fstate, t, np.int64(e["side"]), e["qty"], _HL)
        elif k == _TRADE_SUBTICK:
            _sig.features_on_trade(fstate, t, np.int64(e["side"]), e["qty"], _HL)
        elif k == _EXECUTE:
            _sig.features_on_trade(fstate, t, -np.int64(e["side"]), e["qty"], _HL)


@njit(cache=True, _nrt=False)
def at_decision(view, book, fstate, mask, n_imb, t):
    r"""Write the requested feature fields of the view at decision time ``t``; NaN the rest.

    Parameters
    ----------
    view : numpy.ndarray
        One-record :data:`qlib.dtypes.VIEW_DTYPE` array whose level arrays
        :func:`fill_levels` has just written (``imbalance`` reads them).
    book : qlib.book.L2Book
        The local book (every event with local time ``<= t`` applied).
    fstate : numpy.ndarray
        The feature state :func:`on_event` kept; the OFI sum restarts here.
    mask, n_imb : int
        The plan (:func:`feature_plan`).
    t : int
        Decision time, ns (local clock).

    Notes
    -----
    * ``imbalance``: :math:`\rho^{(N)} = (\sum_{i<N} q^b_i - \sum_{i<N} q^a_i) /
      (\sum_{i<N} q^b_i + \sum_{i<N} q^a_i)`, ``N = n_imb``
      (:func:`qlib.signals.nb.imbalance_levels`).
    * ``microprice_tick``: :math:`I P^a + (1 - I) P^b`, :math:`I = q^b / (q^b + q^a)`
      in ticks [2]_ (:func:`qlib.signals.nb.weighted_mid`).
    * ``ofi``: :math:`\sum e_n` since the previous decision [1]_.
    * ``volatility_tick``: :math:`\sqrt{S\,2^{-(t - t_{last})/H} \ln 2 / H}`, ticks per
      square-root second [3]_.
    * ``trade_flow``: :math:`F\,2^{-(t - t_{last})/H}`, signed quantity.

    O(``n_imb``), no allocation.
    """
    v = view[0]
    if (mask & F_IMBALANCE) != 0:
        v["imbalance"] = _sig.imbalance_levels(v["bid_qty_l"], v["ask_qty_l"], n_imb)
    else:
        v["imbalance"] = _NAN
    if (mask & F_MICROPRICE) != 0:
        bb, bq = _b.best_px(book, _BUY)
        ba, aq = _b.best_px(book, _SELL)
        v["microprice_tick"] = _sig.weighted_mid(np.float64(bb), bq, np.float64(ba), aq)
    else:
        v["microprice_tick"] = _NAN
    ofi = _NAN
    vol = _NAN
    flow = _NAN
    if (mask & _TIMED) != 0:
        o, s, f = _sig.features_at_decision(fstate, np.float64(t), _HL)
        if (mask & F_OFI) != 0:
            ofi = o
        if (mask & F_VOLATILITY) != 0:
            vol = s
        if (mask & F_TRADE_FLOW) != 0:
            flow = f
    v["ofi"] = ofi
    v["volatility_tick"] = vol
    v["trade_flow"] = flow


@njit(cache=True, _nrt=False)
def on_event_outlined(ev, ts_loc, i, book, fstate, mask):
    """:func:`on_event` compiled as a function of its own (same arguments, same result).

    For loops compiled with reference counting (the engine's L3 loop, which holds the
    order map), where the inlined :func:`on_event` would cost a reference-count pair per
    aliased array per event; a call costs about 43 ns/event instead. Guard the call with
    ``if mask != 0`` so that a strategy without features pays nothing.
    """
    on_event(ev, ts_loc, i, book, fstate, mask)
