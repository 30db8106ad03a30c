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
MODEL_NAME = (
    "Cont-Stoikov-Talreja (2010) L3 order book, sized orders, FIFO levels; optional"
    " spread- and queue-reactive extensions (Huang-Lehalle-Rosenbaum 2015 style)"
)


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
    limit_rate_spread
        Spread-dependent arrivals: ``limit_rate_spread[s - 1]`` is a tuple of ``D``
        rates used instead of ``limit_rate`` while the spread is ``s`` ticks
        (wider spreads use the last row), :math:`\lambda(i \mid s)` with ``i``
        as ``limit_rate`` (from the opposite best, or behind the own best with
        ``reference="own"``). Non-negative. ``None``: ``limit_rate`` at every
        spread.
    limit_size_median, limit_size_sigma
        Limit order size law: lognormal with this median (lots) and log-standard
        deviation, rounded to whole lots, at least one lot.
    limit_size_table
        Placement-dependent limit order sizes (lots): row ``c`` holds the ``K``
        empirical quantiles, at probabilities :math:`(j + 1/2)/K`, of the sizes of
        orders arriving in front of their own best (``c = 0``, quote-improving) or
        ``k = c - 1`` ticks behind it (``c >= 1``; the last row serves deeper
        arrivals too). An arrival of class ``c`` takes
        ``limit_size_table[c][floor(U K)]``, :math:`U` uniform, rounded to whole
        lots and at least one: the empirical size law of its class to a resolution
        of :math:`1/K` in probability, atoms (a round lot of 100) included. Rows
        of one length, non-decreasing, positive. ``None``: the lognormal law above
        at every price (CST).
    market_size_median, market_size_sigma
        The same for market orders (for the remainder of an overflowing one when
        ``market_fraction`` is set).
    reference
        ``"opposite"`` (CST): ``limit_rate[i - 1]`` and ``cancel_rate[i - 1]`` belong
        to distance ``i = 1..D`` from the opposite best, inside the spread too.
        ``"own"``: they belong to ``k = i - 1 = 0..D-1`` ticks *behind the order's
        own best* (``k = 0`` joins the best), and arrivals in front of the own best
        follow ``inside_rate`` / ``inside_position`` (required).
    inside_rate, inside_position
        Spread-dependent quote improvement: ``inside_rate[s - 1]`` is
        :math:`\lambda^{in}(s)`, the per-side rate of limit orders arriving strictly
        inside a spread of ``s`` ticks (spreads beyond the tuple use its last
        entry; the entry for ``s = 1`` is ignored: no price lies inside). Such an
        order rests :math:`j = \lceil x (s - 1) \rceil` ticks in front of its own
        best, :math:`x` drawn from the quantile table ``inside_position`` (knots at
        probabilities ``0, 1/K, ..., 1``, linear between; values in [0, 1]). With
        ``reference="opposite"`` they replace :math:`\lambda(i)` for ``i < s``.
        ``None`` (both): CST's :math:`\lambda(i)` inside the spread.
    cancel_rate_best, best_queue_edges
        Queue-reactive cancellation at the best: an order in a best level holding
        ``q`` lots is cancelled at rate ``cancel_rate_best[b]`` per second, ``b``
        the number of ``best_queue_edges`` (lots, increasing) at or below ``q``.
        ``None``: the best uses ``cancel_rate`` like any level.
    market_rate_spread
        :math:`\mu(s)`: market orders per second on each side while the spread is
        ``s`` ticks (``[s - 1]``; wider spreads use the last entry). ``None``:
        ``market_rate`` whatever the spread.
    market_fraction, market_overflow_prob
        Market orders sized to the queue they meet: with probability
        ``market_overflow_prob`` an order takes the whole opposite best level plus
        a lognormal remainder (``market_size_median``/``market_size_sigma``) from
        the levels behind it; otherwise it takes
        :math:`\max(1, \mathrm{round}(f Q))` lots of the ``Q`` lots at the best,
        :math:`f` drawn from the quantile table ``market_fraction`` (values in
        [0, 1]; an atom at 1 is a run of knots equal to 1). ``None``: sizes are
        lognormal and independent of the book (CST).
    market_queue_edges
        Queue-dependent market order sizes: with ``B`` increasing edges (lots),
        ``market_fraction`` is a tuple of ``B + 1`` quantile tables (of one length)
        and ``market_overflow_prob`` a tuple of ``B + 1`` probabilities; an order
        meeting ``Q`` lots at the opposite best uses entry ``b``, the number of
        edges at or below ``Q``. Small queues (a lone round lot) are taken whole
        far more often than long ones. ``()``: one table and one probability
        whatever ``Q``.
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
    lots of one share around a round lot of 100. The defaults leave every
    extension off; :func:`qlib.data.calibrate.fit_params` turns them all on.

    References
    ----------
    .. [1] Cont, R., Stoikov, S. & Talreja, R. (2010). A stochastic model for order
       book dynamics. Operations Research, 58(3), 549-563.
    """

    limit_rate: tuple[float, ...] = _power_law(1.92, 0.52, 10)
    cancel_rate: tuple[float, ...] = (0.71, 0.81, 0.68, 0.56, 0.47, 0.42, 0.38, 0.35, 0.33, 0.31)
    market_rate: float = 0.94
    limit_rate_spread: tuple[tuple[float, ...], ...] | None = None
    limit_size_median: float = 100.0
    limit_size_sigma: float = 0.8
    limit_size_table: tuple[tuple[float, ...], ...] | None = None
    market_size_median: float = 100.0
    market_size_sigma: float = 0.9
    inside_rate: tuple[float, ...] | None = None
    inside_position: tuple[float, ...] | None = None
    cancel_rate_best: tuple[float, ...] | None = None
    best_queue_edges: tuple[float, ...] = ()
    market_rate_spread: tuple[float, ...] | None = None
    market_fraction: tuple[float, ...] | tuple[tuple[float, ...], ...] | None = None
    market_overflow_prob: float | tuple[float, ...] = 0.0
    market_queue_edges: tuple[float, ...] = ()
    reference: str = "opposite"
    window_ticks: int | None = None
    queue_capacity: int = 256

    def __post_init__(self) -> None:
        lam = _float_tuple(self.limit_rate, "limit_rate")
        theta = _float_tuple(self.cancel_rate, "cancel_rate")
        object.__setattr__(self, "limit_rate", lam)
        object.__setattr__(self, "cancel_rate", theta)
        self._check_extensions()
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
        self._check_rate_table(len(lam))
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

    def _check_best_cancel(self) -> None:
        edges = tuple(float(x) for x in _float_tuple(self.best_queue_edges, "best_queue_edges",
                                                     first=0, what="edge")) \
            if len(self.best_queue_edges) else ()
        object.__setattr__(self, "best_queue_edges", edges)
        for k in range(1, len(edges)):
            if edges[k] <= edges[k - 1]:
                raise ParameterError(
                    f"best_queue_edges must be increasing, was {edges[k - 1]!r} then"
                    f" {edges[k]!r} at edge {k}"
                )
        if self.cancel_rate_best is None:
            if edges:
                raise ParameterError(
                    f"best_queue_edges needs cancel_rate_best, was {edges!r} with None"
                )
            return
        rates = _float_tuple(self.cancel_rate_best, "cancel_rate_best", first=0, what="bucket")
        object.__setattr__(self, "cancel_rate_best", rates)
        if len(rates) != len(edges) + 1:
            raise ParameterError(
                f"cancel_rate_best must hold len(best_queue_edges) + 1 = {len(edges) + 1}"
                f" rates, was {len(rates)} long"
            )
        for b, v in enumerate(rates):
            if v <= 0.0:
                raise ParameterError(f"cancel_rate_best[{b}] (bucket {b}) must be > 0, was {v!r}")

    def _check_rate_table(self, depth: int) -> None:
        if self.limit_rate_spread is None:
            return
        try:
            rows = [list(r) for r in self.limit_rate_spread]  # type: ignore[union-attr]
        except TypeError:
            raise ParameterError(
                f"limit_rate_spread must be a sequence of rows of rates, was"
                f" {self.limit_rate_spread!r}"
            ) from None
        if not rows:
            raise ParameterError("limit_rate_spread must hold at least one row, was ()")
        table = []
        for s, row in enumerate(rows, start=1):
            r = _float_tuple(row, f"limit_rate_spread[{s - 1}]")
            if len(r) != depth:
                raise ParameterError(
                    f"limit_rate_spread[{s - 1}] (spread {s}) must hold one rate per distance"
                    f" of limit_rate ({depth}), was {len(r)} long"
                )
            for i, v in enumerate(r, start=1):
                if v < 0.0:
                    raise ParameterError(
                        f"limit_rate_spread[{s - 1}][{i - 1}] (spread {s}, distance {i})"
                        f" must be >= 0, was {v!r}"
                    )
            table.append(r)
        object.__setattr__(self, "limit_rate_spread", tuple(table))

    def _check_size_table(self) -> None:
        if self.limit_size_table is None:
            return
        try:
            rows = [list(r) for r in self.limit_size_table]  # type: ignore[union-attr]
        except TypeError:
            raise ParameterError(
                f"limit_size_table must be a sequence of rows of sizes, was"
                f" {self.limit_size_table!r}"
            ) from None
        if not rows:
            raise ParameterError("limit_size_table must hold at least one row, was ()")
        table = []
        for c, row in enumerate(rows):
            q = _float_tuple(row, f"limit_size_table[{c}]", first=0, what="knot")
            if len(q) != len(rows[0]):
                raise ParameterError(
                    f"limit_size_table rows must have one length, row 0 has {len(rows[0])}"
                    f" and row {c} was {len(q)} long"
                )
            if q[0] <= 0.0:
                raise ParameterError(
                    f"limit_size_table[{c}] must hold sizes > 0, was {q[0]!r} at knot 0"
                )
            for k in range(1, len(q)):
                if q[k] < q[k - 1]:
                    raise ParameterError(
                        f"limit_size_table[{c}] must be non-decreasing (quantiles), was"
                        f" {q[k - 1]!r} then {q[k]!r} at knot {k}"
                    )
            table.append(q)
        object.__setattr__(self, "limit_size_table", tuple(table))

    def _check_extensions(self) -> None:
        if self.reference not in ("opposite", "own"):
            raise ParameterError(f"reference must be 'opposite' or 'own', was {self.reference!r}")
        if self.reference == "own" and self.inside_rate is None:
            raise ParameterError(
                "reference='own' needs inside_rate and inside_position (the arrivals in front"
                " of the own best), was inside_rate None"
            )
        if (self.inside_rate is None) != (self.inside_position is None):
            raise ParameterError(
                "inside_rate and inside_position must be given together or both be None, were"
                f" {self.inside_rate!r} and {self.inside_position!r}"
            )
        self._check_best_cancel()
        self._check_size_table()
        for name, strict in (("inside_rate", False), ("market_rate_spread", False)):
            values = getattr(self, name)
            if values is None:
                continue
            rates = _float_tuple(values, name, first=1, what="spread")
            object.__setattr__(self, name, rates)
            for s, v in enumerate(rates, start=1):
                if v < 0.0 or (strict and v == 0.0):
                    op = ">" if strict else ">="
                    raise ParameterError(f"{name}[{s - 1}] (spread {s}) must be {op} 0, was {v!r}")
        if self.inside_rate is not None:
            if len(self.inside_rate) < 2 or sum(self.inside_rate[1:]) <= 0.0:
                raise ParameterError(
                    "inside_rate must hold a positive rate at some spread >= 2, was"
                    f" {self.inside_rate!r}"
                )
            object.__setattr__(self, "inside_position",
                               _quantile_table(self.inside_position, "inside_position", 0.0, 1.0))
        self._check_market_sizes()

    def _check_market_sizes(self) -> None:
        edges = _float_tuple(self.market_queue_edges, "market_queue_edges", first=0,
                             what="edge") if len(self.market_queue_edges) else ()
        object.__setattr__(self, "market_queue_edges", edges)
        for k in range(1, len(edges)):
            if edges[k] <= edges[k - 1]:
                raise ParameterError(
                    f"market_queue_edges must be increasing, was {edges[k - 1]!r} then"
                    f" {edges[k]!r} at edge {k}"
                )
        frac, over = self.market_fraction, self.market_overflow_prob
        if edges:
            if frac is None:
                raise ParameterError(
                    f"market_queue_edges needs market_fraction, was {edges!r} with None"
                )
            try:
                tables = [tuple(t) for t in frac]  # type: ignore[union-attr]
                probs = tuple(over)  # type: ignore[arg-type]
            except TypeError:
                raise ParameterError(
                    f"with market_queue_edges, market_fraction must be {len(edges) + 1} quantile"
                    f" tables and market_overflow_prob {len(edges) + 1} probabilities, were"
                    f" {frac!r} and {over!r}"
                ) from None
            if len(tables) != len(edges) + 1 or len(probs) != len(edges) + 1:
                raise ParameterError(
                    f"market_fraction and market_overflow_prob must hold len(market_queue_edges)"
                    f" + 1 = {len(edges) + 1} entries, were {len(tables)} and {len(probs)} long"
                )
            checked = tuple(_quantile_table(t, f"market_fraction[{b}]", 0.0, 1.0)
                            for b, t in enumerate(tables))
            if len({len(t) for t in checked}) != 1:
                raise ParameterError(
                    f"market_fraction tables must have one length, were"
                    f" {[len(t) for t in checked]!r}"
                )
            for b, v in enumerate(probs):
                _check_prob(v, f"market_overflow_prob[{b}]")
            object.__setattr__(self, "market_fraction", checked)
            object.__setattr__(self, "market_overflow_prob", tuple(float(v) for v in probs))
            return
        if frac is not None:
            object.__setattr__(self, "market_fraction",
                               _quantile_table(frac, "market_fraction", 0.0, 1.0))
        _check_prob(over, "market_overflow_prob")
        if over > 0.0 and frac is None:  # type: ignore[operator]
            raise ParameterError(
                "market_overflow_prob needs market_fraction (queue-sized market orders), was"
                f" {over!r} with market_fraction None"
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


def _float_tuple(values: object, name: str, *, first: int = 1,
                 what: str = "distance") -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a sequence of numbers, was {values!r}") from None
    if not out:
        raise ParameterError(f"{name} must hold at least one value, was {values!r}")
    for i, v in enumerate(out, start=first):
        if not math.isfinite(v):
            label = f"[{i}] (distance {i})" if what == "distance" else f"[{i - first}] ({what} {i})"
            raise ParameterError(f"{name}{label} must be finite, was {v!r}")
    return out


def _quantile_table(values: object, name: str, low: float, high: float) -> tuple[float, ...]:
    q = _float_tuple(values, name, first=0, what="knot")
    if len(q) < 2:
        raise ParameterError(f"{name} must hold at least two quantile knots, was {values!r}")
    if q[0] < low or q[-1] > high or (q[-1] <= low):
        raise ParameterError(
            f"{name} must lie in [{low}, {high}] with a last knot > {low}, was {values!r}"
        )
    for k in range(1, len(q)):
        if q[k] < q[k - 1]:
            raise ParameterError(
                f"{name} must be non-decreasing (quantiles), was {q[k - 1]!r} then {q[k]!r}"
                f" at knot {k}"
            )
    return q


def _check_prob(v: object, name: str) -> None:
    _check_real(v, name, low=0.0)
    if float(v) > 1.0:  # type: ignore[arg-type]
        raise ParameterError(f"{name} must be <= 1, was {v!r}")


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
      price changes.

    With them, for the own side's best :math:`p^o` and the spread :math:`s`,

    .. math::

        R = 2\Big(\lambda^{in}(s) + \sum_{k=0}^{K_s}\lambda(k)\Big) + 2\mu(s)
            + \sum_{\text{best levels}} n\,\theta_{best}(Q)
            + \sum_{\text{other orders } o}\theta(\min(k_o, D - 1)),

    :math:`K_s = \min(D, H - s + 1) - 1` (arrivals stay inside the window).

    *Simplifications, stated honestly.* CST's orders are unit-sized and their book
    is L2; here orders carry lognormal sizes and ids, and cancellation is per order
    (not per unit). Both sides share one set of rates. HLR's intensities depend on
    every queue's size; here only the best queue's cancellation does, and the
    other state dependence is on the spread. There are no hidden orders, no
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
