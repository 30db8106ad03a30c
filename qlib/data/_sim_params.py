"""Parameters of the simulated market: :class:`SimParams` and its checks.

Split from :mod:`qlib.data.simulate` (which re-exports :class:`SimParams`); the model
the parameters drive is described in :func:`qlib.data.simulate.simulate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qlib.errors import ParameterError


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


SimParams.__module__ = "qlib.data.simulate"  # documented and pickled under its public home
