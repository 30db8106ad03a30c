r"""The built-in simulated market: an order-level stochastic limit order book.

``simulate()`` is the default market when no data is given, so every notebook runs on
a fresh machine. The model is the zero-intelligence order book of Cont, Stoikov &
Talreja [1]_, generalised from unit orders to orders with sizes and individual
identities (L3), with FIFO time priority in each price level.
:func:`qlib.data.calibrate.fit_params` estimates its parameters from a real day.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from qlib.data import _sim_kernels
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
MODEL_NAME = "Cont-Stoikov-Talreja (2010) L3 order book, sized orders, FIFO levels"


def _power_law(k: float, alpha: float, depth: int) -> tuple[float, ...]:
    return tuple(round(k * i ** -alpha, 4) for i in range(1, depth + 1))


@dataclass(frozen=True)
class SimParams:
    r"""Rates and size laws of the simulated order book (both sides share them).

    Parameters
    ----------
    limit_rate
        :math:`\lambda(i)`, ``i = 1..D``: limit orders per second arriving on *each*
        side at ``i`` ticks from the opposite best quote (a buy at
        :math:`p_A - i`, a sell at :math:`p_B + i`). ``D = len(limit_rate)`` is the
        model depth. Non-negative, not all zero.
    cancel_rate
        :math:`\theta(i)`, ``i = 1..D``: rate (per second, per order) at which one
        resting order ``i`` ticks from the opposite best is cancelled; orders deeper
        than ``D`` use :math:`\theta(D)`. Positive.
    market_rate
        :math:`\mu`: market orders per second on each side. Non-negative.
    limit_rate_inside
        :math:`\lambda^{in}(i)`, ``i = 1..D``: the arrival rate used instead of
        :math:`\lambda(i)` while distance ``i`` lies inside the spread
        (``i < p_A - p_B``, a quote-improving order). ``None`` (the default) means
        ``limit_rate``: the CST model exactly. :func:`qlib.data.calibrate.fit_params`
        estimates both; see the Notes of :func:`simulate`.
    limit_size_median, limit_size_sigma
        Limit order size law: lognormal with this median (lots) and log-standard
        deviation, rounded to whole lots, at least one lot.
    market_size_median, market_size_sigma
        The same for market orders.
    window_ticks
        ``H``: orders more than ``H`` ticks from the opposite best are deleted
        (the book window). ``None`` means ``2 * D``. At least ``D``.
    queue_capacity
        Most orders one price level can hold (the FIFO arrays are preallocated);
        a run that exceeds it raises :class:`ParameterError`.

    Raises
    ------
    ParameterError
        For a non-finite or out-of-range value, or rate tuples of different lengths.

    Notes
    -----
    The defaults describe a liquid US large-cap on one venue: a mean spread of
    about 1.3 ticks and about 38 model events per second (18.8 adds, 16.9
    cancels, 1.9 market orders), so ``n_events=1_000_000`` spans about 7.4 h, a
    little more than one 6.5 h session (measured with
    :func:`qlib.data.calibrate.book_stats`). They keep the shape Cont, Stoikov & Talreja [1]_
    report (a power law :math:`\lambda(i) = k\,i^{-\alpha}`, :math:`k = 1.92`,
    :math:`\alpha = 0.52`; cancel rates of the order of one per order per second
    near the touch, falling with distance; :math:`\mu \approx 0.94`), with sizes in
    lots of one share around a round lot of 100.

    References
    ----------
    .. [1] Cont, R., Stoikov, S. & Talreja, R. (2010). A stochastic model for order
       book dynamics. Operations Research, 58(3), 549-563.
    """

    limit_rate: tuple[float, ...] = _power_law(1.92, 0.52, 10)
    cancel_rate: tuple[float, ...] = (0.71, 0.81, 0.68, 0.56, 0.47, 0.42, 0.38, 0.35, 0.33, 0.31)
    market_rate: float = 0.94
    limit_size_median: float = 100.0
    limit_size_sigma: float = 0.8
    market_size_median: float = 100.0
    market_size_sigma: float = 0.9
    limit_rate_inside: tuple[float, ...] | None = None
    window_ticks: int | None = None
    queue_capacity: int = 256

    def __post_init__(self) -> None:
        lam = _float_tuple(self.limit_rate, "limit_rate")
        theta = _float_tuple(self.cancel_rate, "cancel_rate")
        object.__setattr__(self, "limit_rate", lam)
        object.__setattr__(self, "cancel_rate", theta)
        if self.limit_rate_inside is not None:
            lam_in = _float_tuple(self.limit_rate_inside, "limit_rate_inside")
            object.__setattr__(self, "limit_rate_inside", lam_in)
            if len(lam_in) != len(lam):
                raise ParameterError(
                    f"limit_rate_inside must have one rate per distance of limit_rate"
                    f" ({len(lam)}), was {len(lam_in)} long"
                )
            for i, v in enumerate(lam_in, start=1):
                if v < 0.0:
                    raise ParameterError(
                        f"limit_rate_inside[{i}] (distance {i}) must be >= 0, was {v!r}"
                    )
        if len(lam) != len(theta):
            raise ParameterError(
                f"cancel_rate must have one rate per distance of limit_rate ({len(lam)}),"
                f" was {len(theta)} long"
            )
        for i, v in enumerate(lam, start=1):
            if v < 0.0:
                raise ParameterError(f"limit_rate[{i}] (distance {i}) must be >= 0, was {v!r}")
        if sum(lam) <= 0.0:
            raise ParameterError(f"limit_rate must not be all zero, was {lam!r}")
        for i, v in enumerate(theta, start=1):
            if v <= 0.0:
                raise ParameterError(f"cancel_rate[{i}] (distance {i}) must be > 0, was {v!r}")
        _check_real(self.market_rate, "market_rate", low=0.0)
        for name in ("limit_size_median", "market_size_median"):
            _check_real(getattr(self, name), name, low=0.0, strict=True)
        for name in ("limit_size_sigma", "market_size_sigma"):
            _check_real(getattr(self, name), name, low=0.0)
            if getattr(self, name) > 5.0:
                raise ParameterError(
                    f"{name} must be <= 5 (log-sd of a size), was {getattr(self, name)!r}"
                )
        if self.window_ticks is not None:
            if not _is_int(self.window_ticks) or self.window_ticks < len(lam):
                raise ParameterError(
                    f"window_ticks must be an integer >= depth {len(lam)} or None,"
                    f" was {self.window_ticks!r}"
                )
            if self.window_ticks > 100_000:
                raise ParameterError(f"window_ticks must be <= 100000, was {self.window_ticks!r}")
        if not _is_int(self.queue_capacity) or not 1 <= self.queue_capacity <= 1_000_000:
            raise ParameterError(
                f"queue_capacity must be an integer in [1, 1000000], was {self.queue_capacity!r}"
            )

    @property
    def depth(self) -> int:
        """``D``: the number of distances with an arrival rate."""
        return len(self.limit_rate)

    @property
    def window(self) -> int:
        """``H``: the book window in ticks from the opposite best."""
        return 2 * self.depth if self.window_ticks is None else int(self.window_ticks)


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _float_tuple(values: object, name: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a sequence of numbers, was {values!r}") from None
    if not out:
        raise ParameterError(f"{name} must hold at least one rate, was {values!r}")
    for i, v in enumerate(out, start=1):
        if not math.isfinite(v):
            raise ParameterError(f"{name}[{i}] (distance {i}) must be finite, was {v!r}")
    return out


def _check_real(v: object, name: str, *, low: float, strict: bool = False) -> None:
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    x = float(v) if ok else math.nan  # type: ignore[arg-type]
    if not math.isfinite(x) or x < low or (strict and x == low):
        op = ">" if strict else ">="
        raise ParameterError(f"{name} must be a finite number {op} {low}, was {v!r}")


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
        lam_in = params.limit_rate if params.limit_rate_inside is None else params.limit_rate_inside
        self.lam_in_cum = np.cumsum(np.asarray(lam_in, dtype=np.float64))
        theta = np.asarray(params.cancel_rate, dtype=np.float64)
        self.theta = theta[np.minimum(np.maximum(np.arange(h + 1), 1), d) - 1].copy()
        self.lim = (math.log(params.limit_size_median), params.limit_size_sigma)
        self.mkt = (math.log(params.market_size_median), params.market_size_sigma)

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
                self.lam_cum, self.lam_in_cum, self.theta, self.params.market_rate,
                self.lim[0], self.lim[1],
                self.mkt[0], self.mkt[1], latency[0], latency[1], self.params.window,
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

    where a bid's distance is :math:`p_A - p` and an ask's :math:`p - p_B`. With
    ``params.limit_rate_inside`` set, a distance inside the spread
    (:math:`i < s = p_A - p_B`) arrives at :math:`\lambda^{in}(i)` instead: a
    one-bit state dependence in the spirit of the queue-reactive model [2]_, which
    lets quote-improving flow differ from flow behind the quotes (CST's
    unconditional :math:`\lambda(i)` narrows the spread of a wide-spread stock:
    see ``tests/unit/data/test_simulate.py``). So the next event comes after an
    exponential time of rate

    .. math::

        R = 2\Big(\sum_{i<s}\lambda^{in}(i) + \sum_{i \ge s}^{D}\lambda(i)\Big) + 2\mu
            + \sum_{\text{resting orders } o}\theta(\min(i_o, D)),

    and is of each type with probability rate / R (Gillespie's method). A limit
    order with :math:`i` below the spread improves the quote; as :math:`i \ge 1` it
    never crosses. Sizes are lognormal in lots (rounded, at least one). A market
    order of size :math:`V` executes against the head of the FIFO queue at the
    opposite best, then the next order, walking to the next level when one empties,
    until :math:`V` is filled (any remainder after the whole side is gone is
    dropped, as an IOC). A cancellation removes the whole remaining order
    (``DELETE``).

    *Simplifications, stated honestly.* CST's orders are unit-sized and their book
    is L2; here orders carry lognormal sizes and ids, and cancellation is per order
    (not per unit). Both sides share one set of rates. Rates do not depend on the
    queue sizes (the queue-reactive model of Huang, Lehalle & Rosenbaum [2]_ would
    add that). There are no hidden orders, no partial cancels, no modifies.

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
                           book.theta, book.lim[0], book.lim[1], p0)
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
        "reference": "Cont, Stoikov & Talreja (2010), Operations Research 58(3)",
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
