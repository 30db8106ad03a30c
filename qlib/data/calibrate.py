r"""Estimate the simulated market's parameters from a day of order-level data.

:func:`fit_params` turns a :class:`~qlib.data.market_data.MarketData` day (a LOBSTER
day, or the simulator's own output) into :class:`~qlib.data.simulate.SimParams`;
:func:`book_stats` gives the figures a fitted simulation is compared on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qlib.data import _sim_kernels
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
    adds, cancels, executions
        Record counts after the snapshot: ADD, CANCEL+DELETE, EXECUTE.
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
        of an EXECUTE); see :func:`qlib.data._sim_kernels.fit_scan`.
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
    adds: int
    cancels: int
    executions: int
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
        ``ADD``/``CANCEL``/``DELETE``/``EXECUTE`` with ``px_tick`` and ``qty``;
        ``TRADE`` and the status kinds are skipped.
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
        For unsorted timestamps, a ``MODIFY``/``DEPTH`` record (not trackable by
        aggregation), or a book side code other than buy/sell; names the row.
    InsufficientDataError
        When the day spans no time, never has both sides, or has fewer than two
        market orders or limit orders within depth.

    Notes
    -----
    The book is tracked by price aggregation (``ADD``/``SNAPSHOT`` add the
    quantity at ``px_tick``; ``CANCEL``/``DELETE``/``EXECUTE`` subtract it). The
    distance of a record is measured on the book before it: ``p_A - p`` for a bid,
    ``p - p_B`` for an ask.
    """
    if not isinstance(data, MarketData):
        raise ParameterError(f"data must be a MarketData, was {type(data).__name__}")
    is_int = isinstance(max_depth, (int, np.integer)) and not isinstance(max_depth, bool)
    if not is_int or not 1 <= max_depth <= 10_000:
        raise ParameterError(f"max_depth must be an integer in [1, 10000], was {max_depth!r}")
    ev = require_dtype(data.events, EVENT_DTYPE, name="events")
    book_kinds = np.isin(ev["kind"], [EventKind.ADD, EventKind.SNAPSHOT, EventKind.CANCEL,
                                      EventKind.DELETE, EventKind.EXECUTE])
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
    n_add = np.zeros(max_depth + 1, dtype=np.int64)
    n_add_in = np.zeros(max_depth + 1, dtype=np.int64)
    t_in = np.zeros(max_depth + 1, dtype=np.float64)
    n_cancel = np.zeros(max_depth + 1, dtype=np.int64)
    cancel_qty = np.zeros(max_depth + 1, dtype=np.float64)
    exposure = np.zeros(max_depth + 1, dtype=np.float64)
    lot = float(data.instrument.lot_size)
    status, row, tot = _sim_kernels.fit_scan(ev, px_lo, bid_q, ask_q, lot,
                                             n_add, n_add_in, t_in, n_cancel, cancel_qty,
                                             exposure)
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
    (span, t_two, spread_int, spread_ev, n_spread_ev, n_mkt, mkt_sum, mkt_sq, n_lim, lim_sum,
     lim_sq, cnt_add, cnt_cancel, cnt_exec, clamped, stale) = tot
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
    m_mean = mkt_sum / n_mkt
    l_mean = lim_sum / n_lim
    return BookStats(
        depth=int(max_depth),
        seconds=float(span),
        seconds_two_sided=float(t_two),
        mean_spread_tw=float(spread_int / t_two),
        mean_spread_ev=float(spread_ev / n_spread_ev),
        n_add=n_add, n_add_inside=n_add_in, seconds_inside=t_in, n_cancel=n_cancel,
        n_cancel_qty=cancel_qty, exposure=exposure,
        adds=int(cnt_add), cancels=int(cnt_cancel), executions=int(cnt_exec),
        market_orders=int(n_mkt),
        market_log_size_mean=float(m_mean),
        market_log_size_sd=_sample_sd(mkt_sq, m_mean, n_mkt),
        limit_log_size_mean=float(l_mean),
        limit_log_size_sd=_sample_sd(lim_sq, l_mean, n_lim),
        clamped_qty=float(clamped),
        stale_qty=float(stale),
    )


def _sample_sd(sum_sq: float, mean: float, n: int) -> float:
    return float(math.sqrt(max(sum_sq / n - mean * mean, 0.0) * n / (n - 1)))


def fit_params(data: MarketData, *, max_depth: int = 60, inside_rates: bool = True,
               window_ticks: int | None = None, queue_capacity: int = 256) -> SimParams:
    r"""Estimate :class:`~qlib.data.simulate.SimParams` from a day of L3 events.

    Parameters
    ----------
    data
        The day: a ``CLEAR`` + ``SNAPSHOT`` book, then ``ADD``/``CANCEL``/``DELETE``/
        ``EXECUTE`` (for example :func:`qlib.data.lobster.load_lobster` output or
        :func:`qlib.data.simulate.simulate` output).
    max_depth
        ``D``: rates are estimated for distances ``1..D`` ticks from the opposite
        best. For a LOBSTER level-``L`` file keep ``D`` within the ticks its ``L``
        levels usually span from the opposite best (messages deeper than level
        ``L`` are not in the file, so deeper rates would be biased low); 60 suits
        the level-10 GOOG 2012-06-21 sample (spread ~28 ticks + ~33 ticks to the
        tenth level, medians).
    inside_rates
        Estimate ``limit_rate_inside`` (quote-improving arrivals) apart from
        ``limit_rate``; False gives CST's single unconditional rate per distance.
    window_ticks, queue_capacity
        Passed to the returned :class:`SimParams`.

    Returns
    -------
    SimParams

    Raises
    ------
    ParameterError, DataQualityError, InsufficientDataError
        As :func:`book_stats`; ``InsufficientDataError`` also when no distance has
        :data:`MIN_CANCELS` cancellations (nothing to estimate theta from).

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
    2.2). With ``inside_rates`` the arrivals at :math:`i` are split by whether
    :math:`i` was inside the spread (:math:`i < s`) and each count is divided by the
    two-sided time :math:`T^{in}_i` (spread :math:`> i`) or :math:`T^{out}_i` that
    :math:`i` spent in that state:
    :math:`\hat\lambda^{in}(i) = N^{L,in}_i / 2T^{in}_i`,
    :math:`\hat\lambda(i) = N^{L,out}_i / 2T^{out}_i`; a state held less than
    :data:`MIN_STATE_SECONDS` falls back to the pooled CST estimate.
    For :math:`\theta` CST divide cancel counts by the mean queue in units of the
    mean order size; here the model cancels each *order* at rate
    :math:`\theta(i)` whatever its size, so the lots cancelled at distance
    :math:`i` accumulate at rate :math:`\theta(i) Q_i(t)` and the ratio above is
    the maximum-likelihood-type ratio of a counting process to its exposure: it
    needs only the L2 book, and it is unbiased for the model's own output
    (partial fills included). A distance with fewer than :data:`MIN_CANCELS`
    cancellations takes :math:`\hat\theta` of the nearest distance that has them
    (ties to the deeper one). Size laws: the mean and standard deviation of log
    sizes (ADDs within depth; market orders' total executed lots).

    References
    ----------
    .. [1] Cont, R., Stoikov, S. & Talreja, R. (2010). A stochastic model for order
       book dynamics. Operations Research, 58(3), 549-563.
    """
    st = book_stats(data, max_depth=max_depth)
    two_t = 2.0 * st.seconds
    lam = st.n_add[1:] / two_t
    lam_in = None
    if inside_rates:
        t_in = st.seconds_inside[1:]
        t_out = st.seconds_two_sided - t_in
        n_in = st.n_add_inside[1:]
        n_out = st.n_add[1:] - n_in
        lam_in = np.where(t_in >= MIN_STATE_SECONDS, n_in / (2.0 * np.maximum(t_in, 1e-300)), lam)
        lam = np.where(t_out >= MIN_STATE_SECONDS, n_out / (2.0 * np.maximum(t_out, 1e-300)), lam)
        if lam.sum() <= 0.0:
            lam = st.n_add[1:] / two_t
    ok = (st.n_cancel[1:] >= MIN_CANCELS) & (st.exposure[1:] > 0.0)
    if not ok.any():
        raise InsufficientDataError(
            f"need a distance within max_depth={max_depth} with at least {MIN_CANCELS}"
            f" cancellations, had at most {int(st.n_cancel[1:].max())}"
        )
    theta = np.zeros(max_depth)
    theta[ok] = st.n_cancel_qty[1:][ok] / st.exposure[1:][ok]
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
        market_size_median=float(max(math.exp(st.market_log_size_mean), 1e-9)),
        market_size_sigma=float(min(st.market_log_size_sd, 5.0)),
        limit_rate_inside=None if lam_in is None else tuple(float(x) for x in lam_in),
        window_ticks=window_ticks,
        queue_capacity=queue_capacity,
    )
