r"""The built-in simulated market: an order-level stochastic limit order book.

``simulate()`` is the default market when no data is given, so every notebook runs on
a fresh machine. The model is the zero-intelligence order book of Cont, Stoikov &
Talreja [1]_, generalised from unit orders to orders with sizes and individual
identities (L3), with FIFO time priority in each price level, and with optional
named extensions that make its rates depend on the spread and on the best queue
(see :func:`simulate`). :func:`qlib.data.calibrate.fit_params` estimates its
parameters from a real day.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from qlib.data import _sim_kernels
from qlib.data._sim_params import SimParams, _check_real, _is_int
from qlib.data.market_data import MarketData, check_events
from qlib.data.report import ValidationReport
from qlib.dtypes import empty_events
from qlib.enums import Status
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = ["SimParams", "SIM_INSTRUMENT", "MODEL_NAME", "simulate"]

#: The default instrument of the simulated market.
SIM_INSTRUMENT = Instrument("SIM.QLIB", tick_size=0.01, lot_size=1.0, currency="USD")

#: Model name recorded in provenance.
MODEL_NAME = (
    "Cont-Stoikov-Talreja (2010) L3 order book, sized orders, FIFO levels; optional"
    " spread- and queue-reactive extensions (Huang-Lehalle-Rosenbaum 2015 style)"
)


def seed_state(seed: int) -> np.ndarray:
    """Return the xoshiro256** state for ``seed`` (four splitmix64 outputs)."""
    mask = (1 << 64) - 1
    x = seed & mask
    words = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & mask
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        words.append(z ^ (z >> 31))
    return np.array(words, dtype=np.uint64)


def _grid_size(window: int) -> int:
    g = 1
    while g < 2 * window + 2:
        g *= 2
    return g


def _by_spread(rates: tuple[float, ...] | None) -> np.ndarray:
    # kernel layout: entry s is the rate at spread s (s = 0 copies s = 1); empty for None
    if rates is None:
        return np.zeros(0)
    return np.asarray((rates[0],) + tuple(rates), dtype=np.float64)


def _rows_by_spread(rows: tuple[tuple[float, ...], ...]) -> np.ndarray:
    # kernel layout of a per-spread table of rows: row s at spread s, row 0 copies row 1
    return np.asarray((rows[0],) + tuple(rows), dtype=np.float64)


class _Book:
    """Preallocated book, state and rate arrays of one run (the kernels' inputs)."""

    def __init__(self, params: SimParams, seed: int) -> None:
        d, h = params.depth, params.window
        g = _grid_size(h)
        self.params = params
        self.q_id = np.zeros((g, params.queue_capacity), dtype=np.uint64)
        self.q_qty = np.zeros((g, params.queue_capacity), dtype=np.float64)
        self.q_n = np.zeros(g, dtype=np.int64)
        self.st = np.zeros(_sim_kernels.STATE_LEN, dtype=np.int64)
        self.rng = seed_state(seed)
        self.lam = np.asarray(params.limit_rate, dtype=np.float64)
        self.lam_cum = np.cumsum(self.lam)
        # cumulative rates by spread (row s: spread s; row 0 copies row 1); one row if none
        self.lam_cum_s = (self.lam_cum[None, :].copy() if params.limit_rate_spread is None
                          else np.cumsum(_rows_by_spread(params.limit_rate_spread), axis=1))
        if params.inside_rate is None:
            self.lam_in_s = np.zeros(1)
            self.pos_q = np.zeros(0)
        else:
            self.lam_in_s = _by_spread(params.inside_rate)
            self.pos_q = np.asarray(params.inside_position, dtype=np.float64)
        theta = np.asarray(params.cancel_rate, dtype=np.float64)
        if params.reference == "own":  # theta[k], k ticks behind the own best
            self.theta = theta[np.minimum(np.arange(h + 1), d - 1)].copy()
            self.theta_init = np.concatenate((self.theta[:1], self.theta))  # init_book: [j + 1]
        else:  # theta[i], i ticks from the opposite best
            self.theta = theta[np.minimum(np.maximum(np.arange(h + 1), 1), d) - 1].copy()
            self.theta_init = self.theta
        self.theta_best_q = (np.zeros(0) if params.cancel_rate_best is None
                             else np.asarray(params.cancel_rate_best, dtype=np.float64))
        self.best_edges = np.asarray(params.best_queue_edges, dtype=np.float64)
        mu = (params.market_rate,) if params.market_rate_spread is None else params.market_rate_spread
        self.mu_s = _by_spread(mu)
        self.lim = (math.log(params.limit_size_median), params.limit_size_sigma)
        self.size_q = (np.zeros((0, 1)) if params.limit_size_table is None
                       else np.asarray(params.limit_size_table, dtype=np.float64))
        self.mkt = (math.log(params.market_size_median), params.market_size_sigma)
        # market size tables by queue bin: (bins, knots); no rows means lognormal sizes
        if params.market_fraction is None:
            self.mkt_frac_q = np.zeros((0, 2))
            self.mkt_over_p = np.zeros(1)
        elif params.market_queue_edges:
            self.mkt_frac_q = np.asarray(params.market_fraction, dtype=np.float64)
            self.mkt_over_p = np.asarray(params.market_overflow_prob, dtype=np.float64)
        else:
            self.mkt_frac_q = np.asarray((params.market_fraction,), dtype=np.float64)
            self.mkt_over_p = np.asarray((params.market_overflow_prob,), dtype=np.float64)
        self.mkt_edges = np.asarray(params.market_queue_edges, dtype=np.float64)

    @property
    def n_orders(self) -> int:
        return int(self.st[_sim_kernels._ST_N_ORDERS])

    def run(self, out: np.ndarray, n: int, n_events: int, latency: tuple[float, float],
            *, kernel: Any = None) -> tuple[np.ndarray, int]:
        """Run ``n_events`` model events into ``out`` from row ``n``, growing it as needed."""
        kernel = kernel if kernel is not None else _sim_kernels.simulate_events
        left = n_events
        while True:
            status, n, done = kernel(
                out, n, left, self.st, self.rng, self.q_id, self.q_qty, self.q_n,
                self.lam_cum_s, self.lam_in_s, self.pos_q, self.theta, self.theta_best_q,
                self.best_edges,
                self.mu_s, self.lim[0], self.lim[1], self.size_q, self.mkt[0], self.mkt[1],
                self.mkt_frac_q, self.mkt_over_p, self.mkt_edges, latency[0], latency[1],
                self.params.window, self.params.reference == "own",
            )
            n, left = int(n), left - int(done)
            if status == Status.CAPACITY:
                raise ParameterError(
                    f"queue_capacity must exceed the largest queue the run builds; a price"
                    f" level reached queue_capacity={self.params.queue_capacity} orders"
                    f" at ts_exch={int(self.st[_sim_kernels._ST_TS])}: raise it"
                )
            if status != Status.OK:  # pragma: no cover - the kernel has no other code
                raise ParameterError(f"simulation kernel returned {Status(status).name}")
            if left == 0:
                return out, n
            grown = empty_events(max(2 * out.shape[0], n + 4 * (self.n_orders + 8)))
            grown[:n] = out[:n]
            out = grown


def _start_ns(start: object) -> int:
    try:
        ts = pd.Timestamp(start)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"start must be a timestamp, was {start!r} ({exc})") from None
    if ts is pd.NaT:
        raise ParameterError(f"start must be a timestamp, was {start!r}")
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.tz_convert("UTC").as_unit("ns").value)


def simulate(
    *,
    n_events: int = 200_000,
    seed: int = 7,
    params: SimParams | None = None,
    instrument: Instrument | None = None,
    start: str | pd.Timestamp = "2024-01-02 14:30",
    start_price: float = 100.0,
    feed_latency_ns: float = 20_000.0,
    feed_latency_sigma: float = 0.5,
    warmup_events: int = 20_000,
) -> MarketData:
    r"""Simulate an order-level (L3) limit order book day.

    Parameters
    ----------
    n_events
        Model events to simulate after the snapshot (limit orders, market orders,
        cancellations). The output has more rows: a market order writes one
        ``EXECUTE`` per resting order it touches plus a ``TRADE`` print.
    seed
        Seed (integer >= 0). The same seed and parameters give bit-identical events.
    params
        Model rates; :class:`SimParams` defaults (a liquid US stock) when None.
    instrument
        Instrument of the events; ``SIM.QLIB`` (tick 0.01 USD, lot 1) when None.
        Sizes in ``params`` are in lots; event ``qty`` is lots x ``lot_size``.
    start
        Exchange time of the snapshot; naive times are UTC.
    start_price
        Best bid of the initial book, in the instrument's currency (on its grid).
    feed_latency_ns
        Median of the lognormal feed latency added to ``ts_exch`` to give
        ``ts_local`` (ns, >= 0).
    feed_latency_sigma
        Log-standard deviation of the feed latency (>= 0).
    warmup_events
        Model events run (and discarded) before the snapshot, so the snapshot is a
        book drawn from near the model's stationary state rather than its seed book.

    Returns
    -------
    MarketData
        Events of :data:`qlib.dtypes.EVENT_DTYPE`: a ``CLEAR`` (side ``NONE``) and
        the L3 ``SNAPSHOT`` of resting orders (bids best first, then asks, FIFO
        order within a level; flag ``SNAPSHOT``), then ``ADD`` / ``DELETE`` /
        ``EXECUTE`` records with order ids and one ``TRADE`` per market order
        (aggressor side, quantity filled, price of the last level reached, flag
        ``SUMMARY``: its quantity is already in the ``EXECUTE`` records, which are
        what change the book). ``LAST`` marks the last record of each model event;
        ``seq`` is the row number; every record has ``TS_LOCAL_SYNTH``. The report
        has source ``"simulated"``; provenance holds model, parameters and seed.

    Raises
    ------
    ParameterError
        For a bad argument (the message names it and its value), or when a price
        level outgrows ``params.queue_capacity``.

    Notes
    -----
    **Model** (Cont, Stoikov & Talreja [1]_, section 2, with sized orders). On a
    grid of ticks with best bid :math:`p_B` and best ask :math:`p_A`, independent
    exponential clocks fire, for each side and each distance
    :math:`i = 1..D`:

    .. math::

        \text{limit buy at } p_A - i \;\text{and limit sell at } p_B + i
            &\quad\text{at rate } \lambda(i) \text{ each},\\
        \text{market buy and market sell}
            &\quad\text{at rate } \mu \text{ each},\\
        \text{cancellation of a given resting order at distance } i
            &\quad\text{at rate } \theta(\min(i, D)),

    where a bid's distance is :math:`p_A - p` and an ask's :math:`p - p_B`. So the
    next event comes after an exponential time of rate

    .. math::

        R = 2\sum_{i=1}^{D}\lambda(i) + 2\mu
            + \sum_{\text{resting orders } o}\theta(\min(i_o, D)),

    and is of each type with probability rate / R (Gillespie's method). A limit
    order with :math:`i` below the spread improves the quote; as :math:`i \ge 1` it
    never crosses. Sizes are lognormal in lots (rounded, at least one). A market
    order of size :math:`V` executes against the head of the FIFO queue at the
    opposite best, then the next order, walking to the next level when one empties,
    until :math:`V` is filled (any remainder after the whole side is gone is
    dropped, as an IOC). A cancellation removes the whole remaining order
    (``DELETE``).

    **Extensions** (each off by default, each a named field of
    :class:`SimParams`; :func:`qlib.data.calibrate.fit_params` fits them all).
    With them the model is CST's Poisson order flow made *state-dependent*, in the
    spirit of the queue-reactive model of Huang, Lehalle & Rosenbaum [2]_, whose
    intensities are functions of the book state. HLR build it for large-tick
    stocks with the queue sizes as the state; for a small-tick stock such as GOOG
    (spread ~27 ticks) the spread is the leading state variable, so here:

    * ``reference="own"``: limit orders behind the quotes arrive at
      :math:`\lambda(k)` per tick :math:`k \ge 0` behind their own best, and are
      cancelled at :math:`\theta(k)` per order (placement relative to the same-side
      best, as in Mike & Farmer [4]_); joining the best (:math:`k = 0`) is thus a
      rate of its own, as HLR's first limit.
    * quote improvement at :math:`\lambda^{in}(s)` per side, a function of the
      spread :math:`s`, placed :math:`j = \lceil x(s-1) \rceil` ticks in front of
      the own best with :math:`x` from a quantile table;
    * market orders at :math:`\mu(s)` per side, a function of the spread;
    * cancellation at the best at a per-order rate that depends on the lots
      :math:`Q` resting there (HLR's queue-size dependence, in bins of :math:`Q`);
    * market orders sized to the queue they meet: a fraction :math:`f` of the
      opposite best's :math:`Q` lots (an atom at :math:`f = 1` takes the level
      exactly), or, with probability :math:`\pi`, all of it plus a lognormal
      remainder. Farmer et al. [5]_ found that most market orders are sized to
      the volume at the best, which is what makes gaps, not order size, drive
      price changes. With ``market_queue_edges`` the law of :math:`f` and
      :math:`\pi` depend on the bin of :math:`Q` (HLR's queue-size dependence
      applied to the market order's size): a lone round lot is taken whole far
      more often than a long queue.
    * ``limit_rate_spread``: arrivals behind the quotes at
      :math:`\lambda(k \mid s)` per tick, a function of the spread too (the
      market-state dependence of HLR [2]_, with the spread as the state, as for
      :math:`\lambda^{in}` and :math:`\mu`). On a thin book (a small-tick stock
      at a moderate spread) few orders join or queue behind the best, so a
      depleted best leaves a wide gap; at very wide spreads many do.
    * ``limit_size_table``: a limit order's size drawn from the empirical size
      law of its placement class (in front of the own best, or :math:`k` ticks
      behind it), :math:`v = \hat F_c^{-1}(U)` on a grid of :math:`K` quantiles,
      the empirical-distribution resampling of Efron [6]_ by class. Quote
      improvers and joiners of the best on a US stock are mostly exactly one
      round lot, orders deeper in the book mostly odd lots, which sets how many
      orders a best queue holds and so how many a market order touches.

    With them, for the own side's best :math:`p^o` and the spread :math:`s`,

    .. math::

        R = 2\Big(\lambda^{in}(s) + \sum_{k=0}^{K_s}\lambda(k \mid s)\Big) + 2\mu(s)
            + \sum_{\text{best levels}} n\,\theta_{best}(Q)
            + \sum_{\text{other orders } o}\theta(\min(k_o, D - 1)),

    :math:`K_s = \min(D, H - s + 1) - 1` (arrivals stay inside the window);
    :math:`\lambda(k \mid s) = \lambda(k)` without ``limit_rate_spread``.

    *Simplifications, stated honestly.* CST's orders are unit-sized and their book
    is L2; here orders carry lognormal sizes and ids, and cancellation is per order
    (not per unit). Both sides share one set of rates. HLR's intensities depend on
    every queue's size; here only the best queue's cancellation and the market
    order's size do, and the other state dependence is on the spread. The ticks
    behind the best fill independently of each other (no clustering of levels). There are no hidden orders, no
    partial cancels, no modifies.

    **Boundary conditions.** The book is never crossed (arrivals are at least one
    tick from the opposite best) and never empty on a side: when an event removes
    the last order of a side, a new limit order is placed in the same event at
    ``D`` ticks from the opposite best (CST keep a far level filled for the same
    purpose). Orders more than ``H = params.window`` ticks from the opposite best
    are deleted in the event that moved the quote (``DELETE`` records), which
    bounds the book to a preallocated window of ``2H`` ticks.

    **Time.** Event times are the model clock in ns from ``start`` (``ts_exch``);
    ``ts_local = max(previous ts_local, ts_exch + L)`` with
    :math:`L = m\,e^{\sigma Z}`, :math:`Z \sim N(0,1)` per model event (a FIFO
    feed cannot deliver a message before its predecessor), :math:`m` =
    ``feed_latency_ns``, :math:`\sigma` = ``feed_latency_sigma``.

    **Random numbers.** xoshiro256** seeded through splitmix64 [3]_, inside the
    kernel, so a run is reproducible across machines and between the jitted kernel
    and its pure-Python ``.py_func``.

    The event loop is one numba kernel writing into a preallocated array; it pauses
    when the array might not hold the next event and the wrapper grows it and
    resumes (amortised doubling, no per-event allocation).

    References
    ----------
    .. [1] Cont, R., Stoikov, S. & Talreja, R. (2010). A stochastic model for order
       book dynamics. Operations Research, 58(3), 549-563.
    .. [2] Huang, W., Lehalle, C.-A. & Rosenbaum, M. (2015). Simulating and analyzing
       order book data: the queue-reactive model. Journal of the American
       Statistical Association, 110(509), 107-122.
    .. [3] Blackman, D. & Vigna, S. (2021). Scrambled linear pseudorandom number
       generators. ACM Transactions on Mathematical Software, 47(4), 36.
    .. [4] Mike, S. & Farmer, J. D. (2008). An empirical behavioral model of
       liquidity and volatility. Journal of Economic Dynamics and Control, 32(1),
       200-234.
    .. [5] Farmer, J. D., Gillemot, L., Lillo, F., Mike, S. & Sen, A. (2004). What
       really causes large price changes? Quantitative Finance, 4(4), 383-397.
    .. [6] Efron, B. (1979). Bootstrap methods: another look at the jackknife. The
       Annals of Statistics, 7(1), 1-26.

    Examples
    --------
    >>> md = simulate(n_events=1_000, seed=1)
    >>> md.instrument.instrument_id
    'SIM.QLIB'
    >>> md.report.source
    'simulated'
    """
    if not _is_int(n_events) or n_events < 0:
        raise ParameterError(f"n_events must be an integer >= 0, was {n_events!r}")
    if not _is_int(seed) or seed < 0:
        raise ParameterError(f"seed must be an integer >= 0, was {seed!r}")
    if not _is_int(warmup_events) or warmup_events < 0:
        raise ParameterError(f"warmup_events must be an integer >= 0, was {warmup_events!r}")
    params = SimParams() if params is None else params
    if not isinstance(params, SimParams):
        raise ParameterError(f"params must be a SimParams or None, was {type(params).__name__}")
    instrument = SIM_INSTRUMENT if instrument is None else instrument
    if not isinstance(instrument, Instrument):
        raise ParameterError(
            f"instrument must be an Instrument or None, was {type(instrument).__name__}"
        )
    _check_real(feed_latency_ns, "feed_latency_ns", low=0.0)
    _check_real(feed_latency_sigma, "feed_latency_sigma", low=0.0)
    if feed_latency_sigma > 5.0:
        raise ParameterError(f"feed_latency_sigma must be <= 5, was {feed_latency_sigma!r}")
    t0 = _start_ns(start)
    _check_real(start_price, "start_price", low=0.0, strict=True)
    try:
        p0 = int(instrument.to_ticks(float(start_price), field="start_price"))
    except DataQualityError as exc:
        raise ParameterError(f"start_price must lie on the tick grid: {exc}") from None
    if p0 <= 4 * params.window:
        raise ParameterError(
            f"start_price must be more than {4 * params.window} ticks (4 x window) above"
            f" zero, was {start_price!r} = {p0} ticks"
        )

    book = _Book(params, int(seed))
    book.st[_sim_kernels._ST_NEXT_ID] = 1
    _sim_kernels.init_book(book.st, book.rng, book.q_id, book.q_qty, book.q_n, book.lam,
                           book.theta_init, book.lim[0], book.lim[1], p0)
    latency = (float(feed_latency_ns), float(feed_latency_sigma))
    if warmup_events:
        scratch = empty_events(min(warmup_events, 65_536) + 4 * (book.n_orders + 8))
        left = warmup_events
        while left:  # the warm-up output is discarded chunk by chunk
            step = min(left, 16_384)
            scratch, _ = book.run(scratch, 0, step, latency)
            left -= step
    book.st[_sim_kernels._ST_TS] = t0
    book.st[_sim_kernels._ST_TS_LOCAL] = t0
    book.st[_sim_kernels._ST_SEQ] = 0
    out = empty_events(book.n_orders + 1 + int(1.5 * n_events) + 1024)
    n = int(_sim_kernels.write_snapshot(out, 0, book.st, book.q_id, book.q_qty, book.q_n,
                                        params.window))
    if n_events:
        out, n = book.run(out, n, n_events, latency)
    events = empty_events(n)  # zero-filled, so the padding bytes are zero too
    events[:] = out[:n]  # (a structured .copy() leaves padding uninitialised)
    if instrument.lot_size != 1.0:
        events["qty"] *= instrument.lot_size

    report = ValidationReport("simulated")
    check_events(events, report)
    report.rows_read = int(n)
    report.notes.append(
        f"{MODEL_NAME}; seed {seed}; depth D={params.depth}, window H={params.window} ticks;"
        f" {warmup_events} warm-up events before the snapshot; book never crossed by construction"
    )
    provenance: dict[str, Any] = {
        "source": "simulated",
        "model": MODEL_NAME,
        "reference": "Cont, Stoikov & Talreja (2010), Operations Research 58(3); extensions:"
                     " Huang, Lehalle & Rosenbaum (2015), JASA 110(509); Farmer et al."
                     " (2004), Quantitative Finance 4(4); Mike & Farmer (2008), JEDC 32(1)",
        "params": asdict(params),
        "seed": int(seed),
        "n_events": int(n_events),
        "start": pd.Timestamp(t0, tz="UTC").isoformat(),
        "start_price": float(start_price),
        "feed_latency_ns": float(feed_latency_ns),
        "feed_latency_sigma": float(feed_latency_sigma),
        "warmup_events": int(warmup_events),
    }
    return MarketData(events, instrument, report, provenance)
