r"""Estimate the simulated market's parameters from a day of order-level data.

:func:`fit_params` turns a :class:`~qlib.data.market_data.MarketData` day (a LOBSTER
day, or the simulator's own output) into :class:`~qlib.data.simulate.SimParams`;
:func:`book_stats` gives the figures a fitted simulation is compared on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qlib.data import _sim_fit_kernels
from qlib.data.market_data import MarketData
from qlib.data.simulate import SimParams
from qlib.dtypes import EVENT_DTYPE, require_dtype
from qlib.enums import EventKind, Status
from qlib.errors import DataQualityError, InsufficientDataError, ParameterError

__all__ = ["BookStats", "book_stats", "fit_params"]

#: Fewest cancellations at a distance for its own estimate of theta(i).
MIN_CANCELS = 10
#: Least time (s) a distance must spend inside (or outside) the spread for its own
#: conditional arrival rate; below it the pooled rate is used.
MIN_STATE_SECONDS = 60.0
#: Fewest quote-improving ADDs (and market orders meeting a queue) for the
#: queue-reactive estimates; also the least count of a pooled spread group.
MIN_INSIDE = 10
#: Quantile knots (intervals) of the ``inside_position`` and ``market_fraction`` tables.
N_KNOTS = 20
#: Quantile knots (rows' length) of the placement-dependent ``limit_size_table``.
N_SIZE_KNOTS = 50
#: Fewest ADDs of one placement class (in front of the own best, or ``k`` ticks
#: behind it) for a ``limit_size_table`` row of its own.
MIN_SIZE_ADDS = 500
#: Fewest ADDs behind the own best in one group of spreads of ``limit_rate_spread``.
MIN_SPREAD_ADDS = 1000
#: Most bins of the opposite best queue for the market order size law.
N_MARKET_BINS = 5
#: Fewest market orders in one queue bin of ``market_fraction``.
MIN_MARKET_BIN = 200
#: Time quantiles of the best-queue size that bound the ``cancel_rate_best`` bins.
N_BEST_BINS = 10
#: Most EM steps of the interval-censored ``inside_position`` estimate.
EM_ITERATIONS = 2000
#: Best-level queues of this many lots or more share one bin in :class:`BookStats`.
BEST_QTY_CAP = 4096
#: Largest price range (ticks) the L2 tracking arrays may span.
_MAX_PX_RANGE = 1 << 24


@dataclass(frozen=True)
class BookStats:
    """Counts and rates of one day, measured by :func:`book_stats`.

    Attributes
    ----------
    depth
        ``D``: distances ``1..D`` ticks from the opposite best were counted.
    seconds
        Span from the first to the last event (s).
    seconds_two_sided
        Time during which both sides of the tracked book were non-empty (s).
    mean_spread_tw
        Time-weighted mean spread in ticks over ``seconds_two_sided``.
    mean_spread_ev
        Mean spread in ticks after each exchange event (records with ``LAST``).
    n_add, n_cancel, n_cancel_qty, exposure
        Per distance ``i`` (index ``i``, index 0 unused): ADD count, CANCEL+DELETE
        count and lots, lots x seconds resting at distance ``i``.
    n_add_inside, seconds_inside
        Per distance ``i``: ADDs that arrived inside the spread (``i < spread``),
        and the seconds during which ``i`` was inside the spread.
    seconds_by_spread, inside_by_spread, market_by_spread
        Per spread ``s`` in ticks just before the record (index ``s``; the last
        index, ``4 D + 1``, pools wider spreads): two-sided seconds, quote-improving
        ADDs (arriving strictly inside the spread), market orders.
    n_cancel_best, n_cancel_qty_best, exposure_best, seconds_best
        Per whole lots ``q`` resting at a side's best level (index ``q``; the last,
        :data:`BEST_QTY_CAP`, pools larger queues): CANCEL/DELETE count and lots
        there, lots x seconds and side-seconds (each side counts on its own).
    n_add_own, n_cancel_own, n_cancel_qty_own, exposure_own
        Per tick ``k = 0..D-1`` behind the record's own side's best (index ``k``;
        ``k = 0`` is the best itself): ADDs, CANCEL/DELETE count and lots, and lots x
        seconds resting there.
    n_add_own_by_spread
        ``[s, k]``: the ADDs ``k`` ticks behind their own best while the spread was
        ``s`` ticks (rows as ``seconds_by_spread``).
    inside_spread, inside_ticks
        One entry per quote-improving ADD: the spread before it, and how many ticks
        in front of its own side's best it arrived (``1..spread - 1``).
    market_best_qty, market_qty
        One entry per market order: the lots resting at the level of its first
        EXECUTE just before it, and the lots it executed.
    add_own_ticks, add_lots
        One entry per ADD record, in order: the ticks ``k >= 0`` behind
        its own side's best just before it (``-1``: in front of it, inside the
        spread; ``-2``: one-sided book, or at or through the opposite best), and
        its size in lots.
    adds, cancels, executions
        Record counts after the snapshot: ADD, CANCEL+DELETE, EXECUTE.
    depth_updates
        DEPTH records (absolute level quantities, as a loader's RESYNC corrections):
        they move the tracked book but are not order flow, so no rate counts them.
    market_orders
        Aggressive orders: runs of consecutive EXECUTE records with one
        ``ts_exch`` and one side.
    market_log_size_mean, market_log_size_sd, limit_log_size_mean, limit_log_size_sd
        Mean and standard deviation of the log size (lots) of market orders and of
        ADDs within depth (``nan`` never occurs: counts below two raise).
    clamped_qty
        Lots removed from a price level that the tracked book did not hold (source
        messages missing, as beyond a LOBSTER file's depth); clamped to zero.
    stale_qty
        Lots wiped from tracked levels found stale (crossed by an ADD, or in front
        of an EXECUTE); see :func:`qlib.data._sim_fit_kernels.fit_scan`.
    """

    depth: int
    seconds: float
    seconds_two_sided: float
    mean_spread_tw: float
    mean_spread_ev: float
    n_add: np.ndarray
    n_add_inside: np.ndarray
    seconds_inside: np.ndarray
    n_cancel: np.ndarray
    n_cancel_qty: np.ndarray
    exposure: np.ndarray
    seconds_by_spread: np.ndarray
    inside_by_spread: np.ndarray
    market_by_spread: np.ndarray
    n_cancel_best: np.ndarray
    n_cancel_qty_best: np.ndarray
    exposure_best: np.ndarray
    seconds_best: np.ndarray
    n_add_own: np.ndarray
    n_add_own_by_spread: np.ndarray
    n_cancel_own: np.ndarray
    n_cancel_qty_own: np.ndarray
    exposure_own: np.ndarray
    inside_spread: np.ndarray
    inside_ticks: np.ndarray
    market_best_qty: np.ndarray
    market_qty: np.ndarray
    add_own_ticks: np.ndarray
    add_lots: np.ndarray
    adds: int
    cancels: int
    executions: int
    depth_updates: int
    market_orders: int
    market_log_size_mean: float
    market_log_size_sd: float
    limit_log_size_mean: float
    limit_log_size_sd: float
    clamped_qty: float
    stale_qty: float

    def rates(self) -> dict[str, float]:
        """Return adds, cancels, executions and market orders per second, and the spreads."""
        s = self.seconds
        return {
            "adds_per_s": self.adds / s,
            "cancels_per_s": self.cancels / s,
            "executions_per_s": self.executions / s,
            "market_orders_per_s": self.market_orders / s,
            "mean_spread_tw_ticks": self.mean_spread_tw,
            "mean_spread_ev_ticks": self.mean_spread_ev,
        }


def book_stats(data: MarketData, *, max_depth: int = 60) -> BookStats:
    """Measure a day's order flow by distance from the opposite best quote.

    Parameters
    ----------
    data
        L2-trackable events: ``CLEAR``/``SNAPSHOT`` (L2 levels or L3 orders), then
        ``ADD``/``CANCEL``/``DELETE``/``EXECUTE`` with ``px_tick`` and ``qty``, and
        ``DEPTH`` (absolute level quantity); ``TRADE`` and the status kinds are
        skipped.
    max_depth
        ``D``: distances ``1..D`` ticks from the opposite best are counted.

    Returns
    -------
    BookStats

    Raises
    ------
    ParameterError
        For a bad ``max_depth``.
    DataQualityError
        For unsorted timestamps, a ``MODIFY`` record (not trackable by
        aggregation), or a book side code other than buy/sell; names the row.
    InsufficientDataError
        When the day spans no time, never has both sides, or has fewer than two
        market orders or limit orders within depth.

    Notes
    -----
    The book is tracked by price aggregation (``ADD``/``SNAPSHOT`` add the
    quantity at ``px_tick``; ``CANCEL``/``DELETE``/``EXECUTE`` subtract it; ``DEPTH``
    sets it). The distance of a record is measured on the book before it:
    ``p_A - p`` for a bid, ``p - p_B`` for an ask. ``DEPTH`` records, such as the
    ``RESYNC`` corrections :func:`qlib.data.lobster.load_lobster` derives from
    LOBSTER's orderbook file, make the tracked book (and so the spread) exact; they
    are counted in ``depth_updates`` only, never as adds or cancels, because they
    restate the book rather than report order flow.
    """
    if not isinstance(data, MarketData):
        raise ParameterError(f"data must be a MarketData, was {type(data).__name__}")
    is_int = isinstance(max_depth, (int, np.integer)) and not isinstance(max_depth, bool)
    if not is_int or not 1 <= max_depth <= 10_000:
        raise ParameterError(f"max_depth must be an integer in [1, 10000], was {max_depth!r}")
    ev = require_dtype(data.events, EVENT_DTYPE, name="events")
    book_kinds = np.isin(ev["kind"], [EventKind.ADD, EventKind.SNAPSHOT, EventKind.CANCEL,
                                      EventKind.DELETE, EventKind.EXECUTE, EventKind.DEPTH])
    if not book_kinds.any():
        raise InsufficientDataError(
            "events hold no ADD/SNAPSHOT/CANCEL/DELETE/EXECUTE record (had 0, need > 0)"
        )
    px = ev["px_tick"][book_kinds]
    lo, hi = int(px.min()), int(px.max())
    if hi - lo > _MAX_PX_RANGE:
        raise DataQualityError(
            f"px_tick spans {hi - lo} ticks ({lo}..{hi}), more than {_MAX_PX_RANGE} the L2"
            " tracking arrays allow",
            field="px_tick", value=hi,
        )
    px_lo = lo - max_depth - 1
    n_px = hi - px_lo + max_depth + 2
    bid_q = np.zeros(n_px, dtype=np.float64)
    ask_q = np.zeros(n_px, dtype=np.float64)
    d1 = max_depth + 1
    n_add, n_add_in, n_cancel = (np.zeros(d1, dtype=np.int64) for _ in range(3))
    t_in, cancel_qty, exposure = (np.zeros(d1) for _ in range(3))
    n_add_own, n_cancel_own = (np.zeros(max_depth, dtype=np.int64) for _ in range(2))
    n_add_own_s = np.zeros((4 * max_depth + 2, max_depth), dtype=np.int64)
    cancel_qty_own, exposure_own = (np.zeros(max_depth) for _ in range(2))
    s1 = 4 * max_depth + 2
    n_in_spread, n_mo_spread = (np.zeros(s1, dtype=np.int64) for _ in range(2))
    t_spread = np.zeros(s1)
    n_cancel_best = np.zeros(BEST_QTY_CAP + 1, dtype=np.int64)
    cancel_qty_best, exposure_best, t_best = (np.zeros(BEST_QTY_CAP + 1) for _ in range(3))
    kinds = ev["kind"]
    n_adds = int(np.count_nonzero(kinds == EventKind.ADD))
    n_execs = int(np.count_nonzero(kinds == EventKind.EXECUTE))
    ins_s, ins_j = np.zeros(n_adds, dtype=np.int64), np.zeros(n_adds, dtype=np.int64)
    mo_q, mo_v = np.zeros(n_execs), np.zeros(n_execs)
    add_k = np.full(n_adds, -2, dtype=np.int64)
    lot = float(data.instrument.lot_size)
    status, row, tot = _sim_fit_kernels.fit_scan(ev, px_lo, bid_q, ask_q, lot,
                                             n_add, n_add_in, t_in, n_cancel, cancel_qty,
                                             exposure, t_spread, n_in_spread, n_mo_spread,
                                             n_cancel_best, cancel_qty_best, exposure_best,
                                             t_best, n_add_own, n_cancel_own, cancel_qty_own,
                                             exposure_own, ins_s, ins_j, mo_q, mo_v, add_k,
                                             n_add_own_s)
    if status != Status.OK:
        r = int(row)
        raise DataQualityError(
            f"{Status(status).name}: cannot track the book by price aggregation at this record"
            f" (kind={int(ev['kind'][r])}, side={int(ev['side'][r])},"
            f" px_tick={int(ev['px_tick'][r])},"
            f" ts_exch={int(ev['ts_exch'][r])})",
            row=r,
            field={Status.UNKNOWN_KIND: "kind", Status.UNSORTED: "ts_exch"}.get(
                Status(status), "px_tick"),
            value=int(ev["kind"][r]),
        )
    (span, t_two, spread_int, spread_ev, n_spread_ev, n_mkt, n_ins, n_lim, lim_sum, lim_sq,
     cnt_add, cnt_cancel, cnt_exec, cnt_depth, clamped, stale) = tot
    if span <= 0.0 or t_two <= 0.0 or n_spread_ev == 0:
        raise InsufficientDataError(
            f"the day must span time with both book sides present; had {span:.3g} s span,"
            f" {t_two:.3g} s two-sided, need > 0"
        )
    if n_mkt < 2:
        raise InsufficientDataError(f"need at least 2 market orders (EXECUTE runs), had {n_mkt}")
    if n_lim < 2:
        raise InsufficientDataError(
            f"need at least 2 ADDs within max_depth={max_depth} ticks of the opposite best,"
            f" had {n_lim}"
        )
    mo_q, mo_v = mo_q[:n_mkt], mo_v[:n_mkt]
    log_v = np.log(mo_v)
    l_mean = lim_sum / n_lim
    return BookStats(
        depth=int(max_depth),
        seconds=float(span),
        seconds_two_sided=float(t_two),
        mean_spread_tw=float(spread_int / t_two),
        mean_spread_ev=float(spread_ev / n_spread_ev),
        n_add=n_add, n_add_inside=n_add_in, seconds_inside=t_in, n_cancel=n_cancel,
        n_cancel_qty=cancel_qty, exposure=exposure,
        seconds_by_spread=t_spread, inside_by_spread=n_in_spread, market_by_spread=n_mo_spread,
        n_cancel_best=n_cancel_best, n_cancel_qty_best=cancel_qty_best,
        exposure_best=exposure_best, seconds_best=t_best, n_add_own=n_add_own,
        n_add_own_by_spread=n_add_own_s, n_cancel_own=n_cancel_own,
        n_cancel_qty_own=cancel_qty_own, exposure_own=exposure_own,
        inside_spread=ins_s[:n_ins].copy(), inside_ticks=ins_j[:n_ins].copy(),
        market_best_qty=mo_q.copy(), market_qty=mo_v.copy(),
        add_own_ticks=add_k, add_lots=ev["qty"][kinds == EventKind.ADD] / lot,
        adds=int(cnt_add), cancels=int(cnt_cancel), executions=int(cnt_exec),
        depth_updates=int(cnt_depth),
        market_orders=int(n_mkt),
        market_log_size_mean=float(log_v.mean()),
        market_log_size_sd=float(log_v.std(ddof=1)),
        limit_log_size_mean=float(l_mean),
        limit_log_size_sd=_sample_sd(lim_sq, l_mean, n_lim),
        clamped_qty=float(clamped),
        stale_qty=float(stale),
    )


def _sample_sd(sum_sq: float, mean: float, n: int) -> float:
    return float(math.sqrt(max(sum_sq / n - mean * mean, 0.0) * n / (n - 1)))


def _spread_groups(seconds: np.ndarray, counts: np.ndarray,
                   min_count: int = MIN_INSIDE) -> list[list[int]]:
    """Groups of adjacent spreads, grown from the narrowest until each holds at least
    :data:`MIN_STATE_SECONDS` seconds and ``min_count`` events (``counts``); a short
    last group joins the one before it."""
    groups: list[list[int]] = []
    cur: list[int] = []
    t_acc, n_acc = 0.0, 0
    for k in range(seconds.shape[0]):
        cur.append(k)
        t_acc += float(seconds[k])
        n_acc += int(counts[k])
        if t_acc >= MIN_STATE_SECONDS and n_acc >= min_count:
            groups.append(cur)
            cur, t_acc, n_acc = [], 0.0, 0
    if cur:
        if groups:
            groups[-1].extend(cur)
        else:
            groups.append(cur)
    return groups


def _pool_by_spread(seconds: np.ndarray, counts: np.ndarray, num: np.ndarray,
                    den: np.ndarray) -> np.ndarray:
    """Per spread, ``num / den`` over the group of adjacent spreads it is pooled into
    (:func:`_spread_groups` with :data:`MIN_INSIDE` events)."""
    groups = _spread_groups(seconds, counts)
    out = np.zeros(seconds.shape[0])
    for g in groups:
        d = float(den[g].sum())
        out[g] = float(num[g].sum()) / d if d > 0.0 else 0.0
    return out


def _spread_table(values: np.ndarray, first: int, last: int) -> np.ndarray:
    # values per spread first..last-1, then one entry pooling spreads >= last
    return np.append(values[first:last], values[last:].sum())


def _censored_quantile_knots(lo: np.ndarray, hi: np.ndarray) -> tuple[float, ...]:
    """Quantile knots of a law seen only as intervals ``(lo, hi]`` (Turnbull's NPMLE).

    The mass on the elementary intervals between the sorted endpoints is found by
    Turnbull's self-consistency (EM) iteration (see :func:`fit_params`), with the
    mass spread evenly inside each elementary interval; :data:`EM_ITERATIONS`
    steps at most.
    """
    edges = np.unique(np.concatenate((lo, hi)))
    a = np.searchsorted(edges, lo)
    b = np.searchsorted(edges, hi)
    m = edges.shape[0] - 1
    p = np.diff(edges) / (edges[-1] - edges[0])
    n = float(lo.shape[0])
    for _ in range(EM_ITERATIONS):
        c = np.concatenate(([0.0], np.cumsum(p)))
        w = 1.0 / np.maximum(c[b] - c[a], 1e-300)
        acc = np.bincount(a, weights=w, minlength=m + 1) - np.bincount(b, weights=w,
                                                                        minlength=m + 1)
        p_new = p * np.cumsum(acc)[:m] / n
        done = float(np.abs(p_new - p).max()) < 1e-12
        p = p_new
        if done:
            break
    cdf = np.concatenate(([0.0], np.cumsum(p)))
    cdf /= cdf[-1]
    keep = np.concatenate(([True], np.diff(cdf) > 0.0))  # strictly increasing for interp
    probs = np.linspace(0.0, 1.0, N_KNOTS + 1)
    return tuple(float(x) for x in np.interp(probs, cdf[keep], edges[keep]))


def _quantile_knots(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in np.quantile(values, np.linspace(0.0, 1.0, N_KNOTS + 1)))


def fit_params(data: MarketData, *, max_depth: int = 60, queue_reactive: bool = True,
               window_ticks: int | None = None, queue_capacity: int = 256) -> SimParams:
    r"""Estimate :class:`~qlib.data.simulate.SimParams` from a day of L3 events.

    Parameters
    ----------
    data
        The day: a ``CLEAR`` + ``SNAPSHOT`` book, then ``ADD``/``CANCEL``/``DELETE``/
        ``EXECUTE`` (and ``DEPTH`` corrections), for example
        :func:`qlib.data.lobster.load_lobster` output or
        :func:`qlib.data.simulate.simulate` output.
    max_depth
        ``D``: rates are estimated for distances ``1..D`` ticks from the opposite
        best. For a LOBSTER level-``L`` file keep ``D`` within the ticks its ``L``
        levels usually span from the opposite best (messages deeper than level
        ``L`` are not in the file, so deeper rates would be biased low); 60 suits
        the level-10 GOOG 2012-06-21 sample (spread ~28 ticks + ~33 ticks to the
        tenth level, medians).
    queue_reactive
        Also estimate the state-dependent extensions of :class:`SimParams`
        (``inside_rate``, ``inside_position``, ``cancel_rate_best``,
        ``market_fraction``, ``market_overflow_prob``, ``market_queue_edges``,
        ``limit_rate_spread``, ``limit_size_table``); False gives CST's
        unconditional rates only.
    window_ticks, queue_capacity
        Passed to the returned :class:`SimParams`.

    Returns
    -------
    SimParams

    Raises
    ------
    ParameterError, DataQualityError, InsufficientDataError
        As :func:`book_stats`; ``InsufficientDataError`` also when no distance has
        :data:`MIN_CANCELS` cancellations (nothing to estimate theta from), or, with
        ``queue_reactive``, when the day has fewer than :data:`MIN_INSIDE`
        quote-improving ADDs, no cancellation at a best level, or fewer than
        :data:`MIN_INSIDE` market orders that meet a resting best queue.

    Notes
    -----
    With :math:`T` the day's span, :math:`N^L_i`, :math:`N^C_i` the ADD and
    CANCEL/DELETE records at distance :math:`i` (both sides pooled), :math:`V^C_i`
    the lots they removed, :math:`Q_i(t)` the lots resting at distance :math:`i`,
    and :math:`N^M` the market orders (runs of EXECUTEs with one timestamp and
    side; hidden-liquidity ``TRADE`` records are not counted):

    .. math::

        \hat\lambda(i) = \frac{N^L_i}{2T}, \qquad
        \hat\mu = \frac{N^M}{2T}, \qquad
        \hat\theta(i) = \frac{V^C_i}{\int_0^T Q_i(t)\,dt}.

    :math:`\hat\lambda` and :math:`\hat\mu` are CST's estimators [1]_ (section
    2.2). For :math:`\theta` CST divide cancel counts by the mean queue in units
    of the mean order size; here the model cancels each *order* at rate
    :math:`\theta(i)` whatever its size, so the lots cancelled at distance
    :math:`i` accumulate at rate :math:`\theta(i) Q_i(t)` and the ratio above is
    the maximum-likelihood-type ratio of a counting process to its exposure: it
    needs only the L2 book, and it is unbiased for the model's own output
    (partial fills included). A distance with fewer than :data:`MIN_CANCELS`
    cancellations takes :math:`\hat\theta` of the nearest distance that has them
    (ties to the deeper one). Size laws: the mean and standard deviation of log
    sizes (ADDs within depth; market orders' total executed lots).

    With ``queue_reactive`` the result has ``reference="own"`` and every extension
    of :func:`~qlib.data.simulate.simulate`, each estimate conditioning on the
    state the model conditions on:

    * :math:`\hat\lambda(k) = N^L_k / 2T` and :math:`\hat\theta(k) = V^C_k / \int
      Q_k\,dt` with :math:`k` the ticks behind the record's own best
      (:math:`k = 0..D-1`; every :math:`k` is always open, so no conditioning is
      needed). :math:`\hat\theta(0)` pools the best levels; the model uses
      ``cancel_rate_best`` there instead.
    * :math:`\hat\lambda^{in}(s) = N^{in}(s) / 2T(s)` and
      :math:`\hat\mu(s) = N^M(s) / 2T(s)`: quote-improving ADDs and market orders
      while the spread was :math:`s`, per two-sided second at spread :math:`s`,
      for :math:`s = 1..D` (the last pools all wider spreads); adjacent spreads
      are pooled until each group holds :data:`MIN_STATE_SECONDS` seconds and
      :data:`MIN_INSIDE` events.
    * ``inside_position``: the :data:`N_KNOTS` + 1 quantiles of
      :math:`x = j/(s-1)`, :math:`j` the improvement in ticks. The model draws
      :math:`j = \lceil x (s-1) \rceil`, so an observed :math:`j` says only that
      :math:`x \in ((j-1)/(s-1), j/(s-1)]`: the law of :math:`x` is Turnbull's
      nonparametric maximum-likelihood estimate from these intervals [3]_.
    * ``cancel_rate_best``: per bin of the lots :math:`Q` at a best level, the
      lots cancelled there over the lot-seconds resting there (the exposure ratio
      above). Bins start at the :data:`N_BEST_BINS`-quantiles of the time a best
      level spends at each :math:`Q` (an atom, such as a lone 100-share order,
      gets a bin of its own) and are merged until each holds
      :data:`MIN_INSIDE` cancellations.
    * With :math:`f = V/Q` a market order's executed lots over the lots at its
      first level: ``market_overflow_prob`` is the share with :math:`f > 1`,
      ``market_fraction`` the :data:`N_KNOTS` + 1 quantiles of :math:`f` among the
      others, and ``market_size_median``/``market_size_sigma`` the lognormal law
      of the remainder :math:`V - Q` of the overflowing ones (Farmer et al. [2]_
      found that most market orders are sized to the best queue). Orders whose
      first level the tracked book holds empty (missing messages) are left out of
      these three. The law is fitted per bin of :math:`Q` (``market_queue_edges``):
      bins start at the :data:`N_MARKET_BINS`-quantiles of :math:`Q` over the
      market orders (an atom holding at least a :data:`N_MARKET_BINS`-th of them,
      such as a lone round lot, gets a bin of its own) and are merged until each
      holds :data:`MIN_MARKET_BIN` orders; one bin gives the flat form.
    * ``limit_rate_spread``: :math:`\hat\lambda(k \mid s) = N^L_k(s) / 2T(s)`,
      the ADDs :math:`k` ticks behind their own best while the spread was
      :math:`s` per two-sided second at spread :math:`s` (CST's estimator on the
      state the model conditions on), for :math:`s = 1..D` (the last pools wider
      spreads), adjacent spreads pooled until each group holds
      :data:`MIN_STATE_SECONDS` seconds and :data:`MIN_SPREAD_ADDS` such ADDs.
    * ``limit_size_table``: per placement class (in front of the own best; then
      :math:`k = 0, 1, \dots` ticks behind it while each class holds
      :data:`MIN_SIZE_ADDS` ADDs and the deeper ones together do; one last row
      pools the deeper ticks), the :data:`N_SIZE_KNOTS` empirical quantiles
      :math:`\hat F_c^{-1}((j + 1/2)/K)` (inverted CDF, so a size atom such as
      the round lot stays an atom) of the ADD sizes in lots. A class with fewer
      ADDs takes the row of all ADDs within depth; with fewer than
      :data:`MIN_SIZE_ADDS` of those the table is ``None`` (lognormal sizes).

    References
    ----------
    .. [1] Cont, R., Stoikov, S. & Talreja, R. (2010). A stochastic model for order
       book dynamics. Operations Research, 58(3), 549-563.
    .. [2] Farmer, J. D., Gillemot, L., Lillo, F., Mike, S. & Sen, A. (2004). What
       really causes large price changes? Quantitative Finance, 4(4), 383-397.
    .. [3] Turnbull, B. W. (1976). The empirical distribution function with
       arbitrarily grouped, censored and truncated data. Journal of the Royal
       Statistical Society B, 38(3), 290-295.
    """
    st = book_stats(data, max_depth=max_depth)
    two_t = 2.0 * st.seconds
    lam = st.n_add[1:] / two_t
    n_cancel = st.n_cancel[1:]
    cancel_qty = st.n_cancel_qty[1:]
    exposure = st.exposure[1:]
    extras: dict[str, object] = {}
    mkt_mean, mkt_sd = st.market_log_size_mean, st.market_log_size_sd
    reference = "opposite"
    if queue_reactive:
        reference = "own"
        lam = st.n_add_own / two_t
        extras.update(_fit_spread_rates(st, max_depth))
        extras.update(_fit_best_cancel(st))
        n_cancel, cancel_qty, exposure = st.n_cancel_own, st.n_cancel_qty_own, st.exposure_own
        market, mkt_mean, mkt_sd = _fit_market_sizes(st)
        extras.update(market)
        extras["limit_size_table"] = _fit_size_table(st, max_depth)
    ok = (n_cancel >= MIN_CANCELS) & (exposure > 0.0)
    if not ok.any():
        raise InsufficientDataError(
            f"need a distance within max_depth={max_depth} with at least {MIN_CANCELS}"
            f" cancellations, had at most {int(n_cancel.max())}"
        )
    theta = np.zeros(max_depth)
    theta[ok] = cancel_qty[ok] / exposure[ok]
    idx = np.flatnonzero(ok)
    for j in np.flatnonzero(~ok):
        dist = np.abs(idx - j)
        best = idx[dist == dist.min()].max()  # nearest, ties to the deeper distance
        theta[j] = theta[best]
    return SimParams(
        limit_rate=tuple(float(x) for x in lam),
        cancel_rate=tuple(float(x) for x in theta),
        market_rate=float(st.market_orders / two_t),
        limit_size_median=float(max(math.exp(st.limit_log_size_mean), 1e-9)),
        limit_size_sigma=float(min(st.limit_log_size_sd, 5.0)),
        market_size_median=float(max(math.exp(mkt_mean), 1e-9)),
        market_size_sigma=float(min(mkt_sd, 5.0)),
        window_ticks=window_ticks,
        queue_capacity=queue_capacity,
        reference=reference,
        **extras,  # type: ignore[arg-type]
    )


def _fit_spread_rates(st: BookStats, max_depth: int) -> dict[str, object]:
    """The spread-indexed rates and ``inside_position`` of :func:`fit_params` (its Notes)."""
    if st.inside_spread.shape[0] < MIN_INSIDE:
        raise InsufficientDataError(
            f"need at least {MIN_INSIDE} quote-improving ADDs to estimate inside_rate, had"
            f" {st.inside_spread.shape[0]}"
        )
    # the tables cover spreads 1..D; their last entry pools wider spreads
    secs = _spread_table(st.seconds_by_spread, 1, max_depth)
    n_in = _spread_table(st.inside_by_spread, 1, max_depth)
    n_mo = _spread_table(st.market_by_spread, 1, max_depth)
    lam_in = _pool_by_spread(secs[1:], n_in[1:], n_in[1:], 2.0 * secs[1:])  # spreads 2..D
    s = st.inside_spread.astype(np.float64)
    j = st.inside_ticks.astype(np.float64)
    # lambda(k | s): ADDs k ticks behind the own best per side-second at spread s,
    # over groups of adjacent spreads holding MIN_SPREAD_ADDS such ADDs
    n_own = np.vstack((st.n_add_own_by_spread[1:max_depth],
                       st.n_add_own_by_spread[max_depth:].sum(axis=0)))  # spreads 1..D
    lam_s = np.zeros(n_own.shape)
    for g in _spread_groups(secs, n_own.sum(axis=1), MIN_SPREAD_ADDS):
        lam_s[g] = n_own[g].sum(axis=0) / (2.0 * float(secs[g].sum()))
    return {
        "limit_rate_spread": tuple(tuple(float(x) for x in row) for row in lam_s),
        "inside_rate": (0.0,) + tuple(float(x) for x in lam_in),
        "inside_position": _censored_quantile_knots((j - 1.0) / (s - 1.0), j / (s - 1.0)),
        "market_rate_spread": tuple(float(x) for x in _pool_by_spread(secs, n_mo, n_mo,
                                                                        2.0 * secs)),
    }


def _fit_best_cancel(st: BookStats) -> dict[str, object]:
    """``cancel_rate_best`` by best-queue size and its ``best_queue_edges`` (Notes)."""
    t, n = st.seconds_best, st.n_cancel_best
    v, e = st.n_cancel_qty_best, st.exposure_best
    if int(n.sum()) < MIN_INSIDE or float(e.sum()) <= 0.0:
        raise InsufficientDataError(
            f"need at least {MIN_INSIDE} cancellations at a best level to estimate"
            f" cancel_rate_best, had {int(n.sum())}"
        )
    cum = np.cumsum(t) / t.sum()
    q = np.searchsorted(cum, np.arange(1, N_BEST_BINS) / N_BEST_BINS)  # time quantiles, lots
    vals, reps = np.unique(q, return_counts=True)
    cand = np.unique(np.concatenate((vals, vals[reps > 1] + 1)))  # an atom gets its own bin
    cand = cand[(cand > 0) & (cand <= BEST_QTY_CAP)]
    bounds = np.concatenate(([0], cand, [BEST_QTY_CAP + 1]))
    groups: list[tuple[int, int]] = []
    lo = 0
    for k in range(1, bounds.shape[0]):
        hi = int(bounds[k])
        if int(n[lo:hi].sum()) >= MIN_INSIDE and float(e[lo:hi].sum()) > 0.0:
            groups.append((lo, hi))
            lo = hi
    if lo < BEST_QTY_CAP + 1:
        groups[-1] = (groups[-1][0], BEST_QTY_CAP + 1)
    rates = tuple(float(v[a:b].sum() / e[a:b].sum()) for a, b in groups)
    return {"cancel_rate_best": rates,
            "best_queue_edges": tuple(float(a) for a, _ in groups[1:])}


def _size_row(lots: np.ndarray) -> tuple[float, ...]:
    # empirical quantiles at probabilities (j + 1/2) / K: a step function, so atoms stay
    probs = (np.arange(N_SIZE_KNOTS) + 0.5) / N_SIZE_KNOTS
    return tuple(float(x) for x in np.quantile(lots, probs, method="inverted_cdf"))


def _fit_size_table(st: BookStats, max_depth: int) -> tuple[tuple[float, ...], ...] | None:
    """``limit_size_table``: ADD sizes by placement class (see :func:`fit_params`)."""
    k, lots = st.add_own_ticks, st.add_lots
    ok = (k >= -1) & (k < max_depth) & (lots > 0.0)
    k, lots = k[ok], lots[ok]
    if lots.shape[0] < MIN_SIZE_ADDS:
        return None  # too few ADDs for an empirical law: the lognormal one serves
    pooled = _size_row(lots)
    front = lots[k == -1]
    rows = [_size_row(front) if front.shape[0] >= MIN_SIZE_ADDS else pooled]
    behind = np.bincount(k[k >= 0], minlength=max_depth)
    last = 0  # rows for k = 0..last-1 on their own, then one row pooling k >= last
    while last < max_depth - 1 and behind[last] >= MIN_SIZE_ADDS \
            and int(behind[last + 1:].sum()) >= MIN_SIZE_ADDS:
        last += 1
    rows.extend(_size_row(lots[k == j]) for j in range(last))
    deep = lots[k >= last]
    rows.append(_size_row(deep) if deep.shape[0] >= MIN_SIZE_ADDS else pooled)
    return tuple(rows)


def _fit_market_sizes(st: BookStats) -> tuple[dict[str, object], float, float]:
    """Queue-binned ``market_fraction`` / ``market_overflow_prob``, remainder law (Notes)."""
    seen = st.market_best_qty > 0.0
    if int(seen.sum()) < MIN_INSIDE:
        raise InsufficientDataError(
            f"need at least {MIN_INSIDE} market orders meeting a resting best queue to"
            f" estimate market_fraction, had {int(seen.sum())}"
        )
    q, v = st.market_best_qty[seen], st.market_qty[seen]
    f = v / q
    over = f > 1.0
    if int(over.sum()) >= 2:
        rest = np.log(v[over] - q[over])
        mean, sd = float(rest.mean()), float(rest.std(ddof=1))
    else:  # too few walks to fit their remainder: keep the whole-order law
        mean, sd = st.market_log_size_mean, st.market_log_size_sd
    # bins of Q: start at the N_MARKET_BINS-quantiles of Q over the orders (an atom,
    # such as a lone round lot, gets a bin of its own), merged to MIN_MARKET_BIN orders
    cand = np.unique(np.floor(np.quantile(q, np.arange(1, N_MARKET_BINS) / N_MARKET_BINS)))
    atoms = [c for c in cand if np.mean(q == c) >= 1.0 / N_MARKET_BINS]
    cand = np.unique(np.concatenate((cand, np.asarray(atoms) + 1.0)))
    cand = cand[cand > q.min()]
    edges: list[float] = []
    lo = -np.inf
    for e in cand:
        if int(((q >= lo) & (q < e)).sum()) >= MIN_MARKET_BIN \
                and int((q >= e).sum()) >= MIN_MARKET_BIN:
            edges.append(float(e))
            lo = e
    b = np.searchsorted(np.asarray(edges), q, side="right")
    fracs, probs = [], []
    for k in range(len(edges) + 1):
        fk, ok = f[b == k], over[b == k]
        fracs.append(_quantile_knots(fk[~ok]) if (~ok).any() else (1.0, 1.0))
        probs.append(float(ok.mean()))
    if not edges:
        return {"market_fraction": fracs[0], "market_overflow_prob": probs[0]}, mean, sd
    width = max(len(t) for t in fracs)  # a (1, 1) table of an all-overflow bin, widened
    fracs = [t if len(t) == width else (t[0],) * width for t in fracs]
    return {"market_fraction": tuple(fracs), "market_overflow_prob": tuple(probs),
            "market_queue_edges": tuple(edges)}, mean, sd
