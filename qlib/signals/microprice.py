r"""Stoikov's micro-price: the mid plus a Markov-chain estimate of the expected future mid.

:func:`fit_microprice` estimates, from a quote sequence, the adjustment
:math:`G^*(I, S)` of [1]_ on a grid of imbalance buckets :math:`I` and spreads :math:`S`
(in ticks); :func:`stoikov_microprice` (or :meth:`MicropriceModel.adjust`) applies it.
The first-order, imbalance-weighted mid is :func:`qlib.signals.microprice`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qlib.errors import DataQualityError, InsufficientDataError, ParameterError
from qlib.signals import _microprice_kernels as _k
from qlib.signals._grid import freq_ns
from qlib.signals._inputs import Quotes, quotes_of

__all__ = ["MicropriceModel", "fit_microprice", "stoikov_microprice"]

_MAX_TERMS = 100_000  # terms of sum_i B^i g1 before giving up
_TOL = 1e-12          # stop when the next term is below _TOL * tick_size


def _positive_int(v: object, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ParameterError(f"{name} must be a positive int, was {v!r}")
    return int(v)


def _ticks(px: np.ndarray, tick_size: float, what: str, index: pd.Index) -> np.ndarray:
    t = px / tick_size
    r = np.rint(t)
    off = np.abs(t - r) > 1e-6
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise DataQualityError(f"{what} {px[i]!r} at row {index[i]!r} is not a multiple of "
                               f"tick_size {tick_size!r}", row=i, field=what, value=px[i])
    return r.astype(np.int64)


def _states(q: Quotes, n_imbalance: int, tick_size: float) -> tuple[np.ndarray, ...]:
    """Imbalance bucket, spread in ticks and mid in half ticks of each quote."""
    imb = q.bid_qty / (q.bid_qty + q.ask_qty)
    bucket = np.minimum(np.floor(imb * n_imbalance), n_imbalance - 1).astype(np.int64)
    bid = _ticks(q.bid_px, tick_size, "bid_px", q.index)
    ask = _ticks(q.ask_px, tick_size, "ask_px", q.index)
    return bucket, ask - bid, ask + bid


def _label(x: int, n: int) -> str:
    return f"(bucket {x % n}, spread {x // n + 1})"


@dataclass(frozen=True, eq=False)
class MicropriceModel:
    r"""A fitted Stoikov micro-price adjustment; build it with :func:`fit_microprice`.

    Attributes
    ----------
    table : pandas.DataFrame
        :math:`G^*(I, S)` in price units: index ``imbalance_bucket`` (0 .. n-1, bucket
        ``b`` holds :math:`I \in [b/n, (b+1)/n)`, the last bucket also :math:`I = 1`),
        one column per spread in ticks (``1 .. max_spread``).
    counts : pandas.DataFrame
        Observed (not mirrored) transitions leaving each state, same shape as ``table``.
        The estimate of state :math:`(b, S)` uses ``counts[S][b] + counts[S][n-1-b]``
        transitions, because of the symmetrisation.
    n_imbalance, max_spread : int
        The state grid.
    tick_size : float
        Price increment the quotes were converted to ticks with.
    dt_ns : int or None
        Sampling step in ns, or None when every quote was a sample.
    n_transitions, n_dropped : int
        Transitions used (observed, before mirroring) and left out (a spread outside
        ``1..max_spread`` at either end, or a mid move of more than ``max_mid_move``
        ticks).
    Q, T, R, K : numpy.ndarray
        The estimated matrices of [1]_ (states ordered ``(S - 1) * n + b``) and the mid
        moves ``K`` in price units, for inspection.
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    n_imbalance: int
    max_spread: int
    tick_size: float
    dt_ns: int | None
    n_transitions: int
    n_dropped: int
    Q: np.ndarray = field(repr=False)
    T: np.ndarray = field(repr=False)
    R: np.ndarray = field(repr=False)
    K: np.ndarray = field(repr=False)

    def adjust(self, quotes: pd.DataFrame, *, outside: str = "raise") -> pd.Series:
        r"""Return :math:`G^*(I_t, S_t)` of each quote, in price units.

        Parameters
        ----------
        quotes
            Best bid and offer, bbo or LOBSTER layout (:mod:`qlib.signals.prices`).
        outside
            What to do with a quote whose spread is outside ``1..max_spread`` ticks:
            ``"raise"`` (default) raises :class:`~qlib.errors.DataQualityError`;
            ``"zero"`` gives it an adjustment of 0 (the micro-price is then the mid).

        Returns
        -------
        pandas.Series
            ``microprice_adjustment``, float64, on the index of ``quotes``.

        Raises
        ------
        ParameterError
            ``outside`` not one of the two values.
        SchemaError, DataQualityError
            Missing columns, an empty side, prices off the tick grid, or (``"raise"``)
            a spread outside the fitted state space.
        """
        if outside not in ("raise", "zero"):
            raise ParameterError(f"outside must be 'raise' or 'zero', was {outside!r}")
        q = quotes_of(quotes, min_rows=0)
        bucket, spread, _ = _states(q, self.n_imbalance, self.tick_size)
        flat = self.table.to_numpy(dtype=np.float64).T.ravel().copy()  # (S-1)*n + b
        out = np.empty(len(q))
        first = _k.lookup_adjustment(bucket, spread, flat, self.n_imbalance,
                                     self.max_spread, out)
        if first >= 0 and outside == "raise":
            raise DataQualityError(
                f"quote at row {q.index[first]!r} has a spread of {spread[first]} ticks, "
                f"outside the fitted 1..{self.max_spread}; pass outside='zero' to use the "
                "mid there", row=first, field="spread", value=int(spread[first]))
        return pd.Series(out, index=q.index, name="microprice_adjustment")


def fit_microprice(quotes: pd.DataFrame, *, n_imbalance: int = 10, max_spread: int = 2,
                   tick_size: float, dt: object = None, min_obs: int = 1,
                   max_mid_move: int = 1) -> MicropriceModel:
    r"""Estimate Stoikov's micro-price adjustment :math:`G^*(I, S)` from a quote sequence.

    Parameters
    ----------
    quotes
        Best bid and offer in time order, bbo or LOBSTER layout
        (:mod:`qlib.signals.prices`); prices must lie on the ``tick_size`` grid.
    n_imbalance
        Number of equal-width buckets of :math:`I = Q^b / (Q^b + Q^a)` on [0, 1].
    max_spread
        Largest spread kept, in ticks; states are :math:`S = 1 .. \text{max\_spread}`.
    tick_size
        Price increment, in the quotes' currency.
    dt
        Sampling step (``"1s"``, ``pd.Timedelta``, int ns): the quote prevailing at each
        point of a grid of step ``dt`` aligned on the epoch. None (default): every row
        of ``quotes`` is a sample (a bbo change, as :func:`qlib.book.bbo` gives).
    min_obs
        Fewest (symmetrised) transitions leaving a state for it to count as observed.
    max_mid_move
        Largest mid move between two samples that is kept, in ticks; ``K`` holds every
        half-tick multiple up to it. 1 (default) is the paper's
        :math:`K = (-1, -\tfrac12, \tfrac12, 1)`; transitions with larger moves are
        left out and counted in ``n_dropped``.

    Returns
    -------
    MicropriceModel
        The :math:`G^*` table, the observations per state and the estimated matrices.

    Raises
    ------
    ParameterError
        A non-positive ``n_imbalance``, ``max_spread``, ``min_obs``, ``max_mid_move``,
        ``tick_size`` or ``dt``.
    SchemaError, DataQualityError
        Missing columns, an empty side, prices off the tick grid.
    InsufficientDataError
        Fewer than two samples; a state of the grid observed fewer than ``min_obs``
        times (all such states are listed); a group of states from which the mid never
        moves; or a sum :math:`\sum_i B^i g_1` that does not converge (states that do
        not communicate).

    Notes
    -----
    The state is :math:`X_t = (I_t, S_t)`, with :math:`I_t` discretised into
    ``n_imbalance`` buckets and the spread :math:`S_t` in ticks, and the mid
    :math:`M_t` changes by :math:`k \in K = (-1, -\tfrac12, \tfrac12, 1)` ticks between
    samples (``max_mid_move = 1``); transitions with a larger mid move or a spread
    outside the grid are left out (``n_dropped``). Following [1]_ (Sec. 3), every observed transition
    :math:`(I, S) \to (I', S'), \Delta M` is also counted mirrored,
    :math:`(1 - I, S) \to (1 - I', S'), -\Delta M` (bucket :math:`b \mapsto n - 1 - b`),
    which makes the estimate antisymmetric in the imbalance. From the transition
    frequencies,

    .. math::
        Q_{xy} &= P(M_{t+1} = M_t,\ X_{t+1} = y \mid X_t = x), \\
        T_{xy} &= P(M_{t+1} \ne M_t,\ X_{t+1} = y \mid X_t = x), \\
        R_{xk} &= P(M_{t+1} - M_t = k \mid X_t = x),

    the expected mid move at the next mid change and the state it leaves behind are

    .. math:: g_1 = (\mathbb{1} - Q)^{-1} R K, \qquad B = (\mathbb{1} - Q)^{-1} T,

    and the adjustment is the expected total move over all future mid changes,

    .. math:: G^* = \lim_{i \to \infty} g_{i+1} = \sum_{i \ge 0} B^i g_1,
              \qquad P^{micro}_t = M_t + G^*(I_t, S_t).

    The sum converges when :math:`B^* g_1 = 0` for the stationary limit :math:`B^*` of
    :math:`B` ([1]_, Thm. 3.1), which the symmetrisation guarantees; it is summed until
    the next term is below :math:`10^{-12}` ticks.

    References
    ----------
    .. [1] Stoikov, S. (2018). The micro-price: a high-frequency estimator of future
       prices. Quantitative Finance, 18(12), 1959-1966.

    Examples
    --------
    >>> import qlib.data, qlib.book
    >>> q = qlib.book.bbo(qlib.data.load("binance", "btcusdt_20240808.gz"))  # doctest: +SKIP
    >>> model = fit_microprice(q, n_imbalance=10, max_spread=1, tick_size=0.1)  # doctest: +SKIP
    >>> model.table  # doctest: +SKIP
    """
    n = _positive_int(n_imbalance, "n_imbalance")
    m = _positive_int(max_spread, "max_spread")
    min_obs = _positive_int(min_obs, "min_obs")
    max_dm2 = 2 * _positive_int(max_mid_move, "max_mid_move")
    if not (isinstance(tick_size, (float, int, np.floating, np.integer))
            and not isinstance(tick_size, bool) and np.isfinite(tick_size) and tick_size > 0):
        raise ParameterError(f"tick_size must be a positive number, was {tick_size!r}")
    tick = float(tick_size)
    q = quotes_of(quotes, min_rows=2)
    bucket, spread, mid2 = _states(q, n, tick)
    dt_ns = None
    if dt is not None:
        dt_ns = freq_ns(dt)
        if (np.diff(q.ts) < 0).any():
            raise DataQualityError("quotes.ts_exch is not sorted; cannot sample on a time grid")
        start = -(-int(q.ts[0]) // dt_ns) * dt_ns
        grid = np.arange(start, int(q.ts[-1]) + 1, dt_ns, dtype=np.int64)
        if grid.shape[0] < 2:
            raise InsufficientDataError(f"quotes span had {grid.shape[0]} grid point(s) of "
                                        f"dt={dt!r}, needed at least 2")
        idx = np.searchsorted(q.ts, grid, side="right") - 1
        bucket, spread, mid2 = bucket[idx], spread[idx], mid2[idx]

    nx = n * m
    qc = np.zeros((nx, nx), np.int64)
    tc = np.zeros((nx, nx), np.int64)
    rc = np.zeros((nx, 2 * max_dm2), np.int64)
    n_obs = np.zeros(nx, np.int64)
    dropped = int(_k.count_transitions(bucket, spread, mid2, n, m, max_dm2, qc, tc, rc, n_obs))

    tot = qc.sum(axis=1) + tc.sum(axis=1)
    short = np.flatnonzero(tot < min_obs)
    if short.size:
        listed = ", ".join(f"{_label(int(x), n)} had {int(tot[x])}" for x in short[:20])
        more = f" and {short.size - 20} more" if short.size > 20 else ""
        raise InsufficientDataError(
            f"{short.size} of {nx} (imbalance, spread) states had fewer than {min_obs} "
            f"symmetrised transition(s), needed at least {min_obs} each: {listed}{more}; "
            "use more data, fewer buckets or a smaller max_spread")
    Q = qc / tot[:, None]
    T = tc / tot[:, None]
    R = rc / tot[:, None]
    K = np.concatenate([np.arange(-max_dm2, 0), np.arange(1, max_dm2 + 1)]) * (0.5 * tick)

    # States that never reach a mid change make 1 - Q singular.
    moves = tc.sum(axis=1) > 0
    reach = moves.copy()
    for _ in range(nx):
        nxt = reach | ((qc > 0) & reach[None, :]).any(axis=1)
        if (nxt == reach).all():
            break
        reach = nxt
    if not reach.all():
        stuck = np.flatnonzero(~reach)
        raise InsufficientDataError(
            f"the mid never moved from states {', '.join(_label(int(x), n) for x in stuck)}: "
            f"had 0 mid changes reachable, needed at least 1")
    A = np.eye(nx) - Q
    g1 = np.linalg.solve(A, R @ K)
    B = np.linalg.solve(A, T)
    G = g1.copy()
    g = g1
    for _ in range(_MAX_TERMS):
        g = B @ g
        G += g
        if np.max(np.abs(g)) < _TOL * tick:
            break
    else:
        raise InsufficientDataError(
            f"sum of B^i g1 had not converged after {_MAX_TERMS} terms (last term "
            f"{np.max(np.abs(g)):.3g}), needed a term below {_TOL * tick:.3g}: the "
            "(imbalance, spread) states do not all communicate; use more data or fewer states")

    buckets = pd.RangeIndex(n, name="imbalance_bucket")
    spreads = pd.Index(range(1, m + 1), name="spread_ticks")
    table = pd.DataFrame(G.reshape(m, n).T, index=buckets, columns=spreads)
    counts = pd.DataFrame(n_obs.reshape(m, n).T, index=buckets, columns=spreads)
    return MicropriceModel(table, counts, n, m, tick, dt_ns, int(n_obs.sum()), dropped,
                           Q, T, R, K)


def stoikov_microprice(quotes: pd.DataFrame, model: MicropriceModel, *,
                       outside: str = "raise") -> pd.Series:
    r"""Return Stoikov's micro-price :math:`M_t + G^*(I_t, S_t)` of each quote.

    Parameters
    ----------
    quotes
        Best bid and offer, bbo or LOBSTER layout, on ``model.tick_size``'s grid.
    model
        A fit from :func:`fit_microprice` (possibly on another day).
    outside
        As :meth:`MicropriceModel.adjust`: ``"raise"`` on a spread outside the fitted
        grid, or ``"zero"`` to return the mid there.

    Returns
    -------
    pandas.Series
        ``stoikov_microprice``, float64, on the index of ``quotes``.

    Raises
    ------
    ParameterError, SchemaError, DataQualityError
        As :meth:`MicropriceModel.adjust`.

    Notes
    -----
    .. math:: P^{micro}_t = M_t + G^*(I_t, S_t), \qquad M_t = (P^b_t + P^a_t)/2

    with :math:`G^*` from :func:`fit_microprice` [1]_.

    References
    ----------
    .. [1] Stoikov, S. (2018). The micro-price: a high-frequency estimator of future
       prices. Quantitative Finance, 18(12), 1959-1966.
    """
    if not isinstance(model, MicropriceModel):
        raise ParameterError(f"model must be a MicropriceModel, was {type(model).__name__}")
    adj = model.adjust(quotes, outside=outside)
    q = quotes_of(quotes, min_rows=0)
    return pd.Series(q.mid + adj.to_numpy(), index=q.index, name="stoikov_microprice")
