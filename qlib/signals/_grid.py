r"""Time and event grids: assign observations to intervals and aggregate per interval.

A :class:`Grid` maps each of ``n`` time-ordered observations to one of ``n_bins``
consecutive intervals. Two constructors:

* :func:`time_grid` -- clock-time bins of width :math:`\Delta`, aligned on the epoch:
  bin :math:`k` is :math:`[t_0 + k\Delta,\ t_0 + (k+1)\Delta)` with
  :math:`t_0 = \lfloor t_{\min} / \Delta \rfloor \Delta` (left-closed, labelled by its
  left edge, as ``DataFrame.resample(freq)`` with pandas defaults);
* :func:`event_grid` -- every ``every`` consecutive observations form one bin (the last
  bin may be shorter; ``drop_partial=True`` drops it).

:func:`aggregate` reduces one value per observation to one value per bin (``sum``,
``count``, ``mean``, ``first``, ``last``, ``min``, ``max``); :func:`require_nonempty`
raises :class:`~qlib.errors.InsufficientDataError` naming the first empty bin. The
signal modules (OFI, Kyle's lambda, realized volatility, VPIN, ...) share these helpers,
so "an interval" means the same thing everywhere.

This API is stable: other modules depend on it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from qlib.errors import DataQualityError, InsufficientDataError, ParameterError

__all__ = [
    "Grid",
    "aggregate",
    "as_ns",
    "event_grid",
    "freq_ns",
    "require_nonempty",
    "time_grid",
]

_HOWS = ("sum", "count", "mean", "first", "last", "min", "max")


@dataclass(frozen=True)
class Grid:
    """Assignment of ``n`` ordered observations to ``n_bins`` consecutive intervals.

    Attributes
    ----------
    bins : numpy.ndarray
        int64, length ``n``: the bin of each observation (non-decreasing, ``0 ..
        n_bins - 1``; ``-1`` for observations :func:`event_grid` dropped).
    labels : pandas.Index
        One label per bin: the left edge (``DatetimeIndex``, UTC) for a time grid, the
        0-based position of the bin's first observation for an event grid.
    counts : numpy.ndarray
        int64, length ``n_bins``: observations per bin (0 for an empty time bin).
    starts : numpy.ndarray
        int64, length ``n_bins``: index of each bin's first observation
        (``starts[k] == starts[k + 1]`` when bin ``k`` is empty).
    kind : str
        ``"time"`` or ``"event"``.
    width
        The bin width: ns (int) for a time grid, observations for an event grid.
    """

    bins: np.ndarray
    labels: pd.Index
    counts: np.ndarray
    starts: np.ndarray
    kind: str
    width: int

    @property
    def n_bins(self) -> int:
        """Number of bins."""
        return int(self.counts.shape[0])

    @property
    def ends(self) -> np.ndarray:
        """Index one past each bin's last observation."""
        return self.starts + self.counts

    def __len__(self) -> int:
        return self.n_bins


def freq_ns(freq: object) -> int:
    """Return a fixed pandas offset or Timedelta (``"1s"``, ``"100ms"``) in nanoseconds.

    Raises
    ------
    ParameterError
        If ``freq`` is not a fixed, positive offset.
    """
    try:
        if isinstance(freq, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
            ns = int(pd.Timedelta(freq).value)
        elif isinstance(freq, (int, np.integer)) and not isinstance(freq, bool):
            ns = int(freq)
        else:
            ns = int(to_offset(freq).nanos)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"freq must be a fixed pandas offset or Timedelta (e.g. '1s'),"
                             f" was {freq!r}") from exc
    if ns <= 0:
        raise ParameterError(f"freq must be positive, was {freq!r}")
    return ns


def as_ns(ts: object, *, name: str = "ts") -> np.ndarray:
    """Return timestamps as an int64 ns array (UTC).

    Accepts a ``datetime64`` Series/Index/array (tz-aware or naive, taken as UTC) or an
    integer array of ns since the epoch.
    """
    if isinstance(ts, (pd.Series, pd.Index)):
        if isinstance(ts.dtype, pd.DatetimeTZDtype) or np.issubdtype(ts.dtype, np.datetime64):
            return np.asarray(pd.DatetimeIndex(ts).as_unit("ns").asi8, dtype=np.int64)
        arr = ts.to_numpy()
    else:
        arr = np.asarray(ts)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[ns]").view(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=False)
    raise ParameterError(f"{name} must be datetime64 or int64 ns, was {arr.dtype}")


def _check_sorted(ts: np.ndarray, name: str) -> None:
    if len(ts) > 1:
        bad = np.flatnonzero(ts[1:] < ts[:-1])
        if len(bad):
            r = int(bad[0]) + 1
            raise DataQualityError(f"{name} must be non-decreasing; {name}[{r}] = {ts[r]} "
                                   f"< {name}[{r - 1}] = {ts[r - 1]}", row=r, field=name)


def _from_bins(bins: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(bins[bins >= 0], minlength=n_bins).astype(np.int64)
    first_kept = int(np.argmax(bins >= 0)) if len(bins) else 0
    starts = first_kept + np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return counts, starts


def time_grid(ts: object, freq: object, *, start: object = None,
              end: object = None) -> Grid:
    r"""Return clock-time bins of width ``freq`` over timestamps ``ts``.

    Parameters
    ----------
    ts
        Non-decreasing timestamps (datetime64 Series/Index/array or int64 ns).
    freq
        Bin width: a fixed pandas offset or Timedelta (``"1s"``, ``"5min"``).
    start, end
        Optional span to cover (Timestamps or int ns): bins then run from the bin
        containing ``start`` to the one containing ``end`` (inclusive), empty ones
        included. Observations outside ``[start, end]`` raise. Default: the span of ``ts``.

    Returns
    -------
    Grid
        Labels are the bins' left edges (``DatetimeIndex``, UTC).

    Raises
    ------
    ParameterError
        Bad ``freq``, or observations outside ``[start, end]``.
    DataQualityError
        If ``ts`` is not sorted.
    InsufficientDataError
        If ``ts`` is empty and no ``start``/``end`` is given.

    Notes
    -----
    .. math:: k(t) = \lfloor t / \Delta \rfloor - \lfloor t_0 / \Delta \rfloor
    """
    t = as_ns(ts)
    _check_sorted(t, "ts")
    d = freq_ns(freq)
    if start is None and len(t) == 0:
        raise InsufficientDataError("time_grid: 0 timestamps, needed at least 1 (or start/end)")
    lo = int(t[0]) if start is None else _scalar_ns(start)
    hi = int(t[-1]) if end is None else _scalar_ns(end)
    if hi < lo:
        raise ParameterError(f"end ({hi}) must not precede start ({lo})")
    if len(t) and (t[0] < lo or t[-1] > hi):
        raise ParameterError(f"timestamps run {int(t[0])}..{int(t[-1])} ns, outside "
                             f"[start, end] = [{lo}, {hi}]")
    k0 = lo // d
    n_bins = int(hi // d - k0 + 1)
    bins = (t // d - k0).astype(np.int64)
    counts, starts = _from_bins(bins, n_bins)
    labels = pd.DatetimeIndex(pd.to_datetime((k0 + np.arange(n_bins, dtype=np.int64)) * d,
                                             unit="ns", utc=True), name="ts_exch")
    return Grid(bins, labels, counts, starts, "time", d)


def event_grid(n: int, every: int, *, drop_partial: bool = False) -> Grid:
    """Return bins of ``every`` consecutive observations out of ``n``.

    Parameters
    ----------
    n
        Number of observations.
    every
        Observations per bin, ``>= 1``.
    drop_partial
        Drop the last bin when it holds fewer than ``every`` observations (its
        observations get bin ``-1``).

    Returns
    -------
    Grid
        Labels are the position of each bin's first observation (``Index`` named ``start``).

    Raises
    ------
    ParameterError
        If ``every`` is not a positive int.
    InsufficientDataError
        If no bin can be formed (``n == 0``, or ``n < every`` with ``drop_partial``).
    """
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ParameterError(f"every must be a positive int, was {every!r}")
    n, every = int(n), int(every)
    n_bins = n // every if drop_partial else -(-n // every)
    if n_bins == 0:
        raise InsufficientDataError(f"event_grid: {n} observations, needed at least "
                                    f"{every if drop_partial else 1} for one bin")
    bins = np.arange(n, dtype=np.int64) // every
    bins[bins >= n_bins] = -1
    counts, starts = _from_bins(bins, n_bins)
    labels = pd.Index(starts.copy(), name="start")
    return Grid(bins, labels, counts, starts, "event", every)


def _scalar_ns(t: object) -> int:
    if isinstance(t, (int, np.integer)) and not isinstance(t, bool):
        return int(t)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def aggregate(grid: Grid, values: object, how: str = "sum") -> np.ndarray:
    """Reduce one value per observation to one value per bin.

    Parameters
    ----------
    grid
        From :func:`time_grid` or :func:`event_grid` over the same observations.
    values
        Array-like of length ``len(grid.bins)``.
    how
        ``"sum"`` and ``"count"`` (0 for an empty bin), or ``"mean"``, ``"first"``,
        ``"last"``, ``"min"``, ``"max"``: NaN for an empty bin -- callers must check
        ``grid.counts`` (see :func:`require_nonempty`) or fill before returning it.

    Returns
    -------
    numpy.ndarray
        float64, length ``grid.n_bins``.
    """
    if how not in _HOWS:
        raise ParameterError(f"how must be one of {_HOWS}, was {how!r}")
    v = np.asarray(values, dtype=np.float64)
    if v.shape != grid.bins.shape:
        raise ParameterError(f"values has shape {v.shape}, grid has {grid.bins.shape}")
    keep = grid.bins >= 0
    b, v = grid.bins[keep], v[keep]
    n = grid.n_bins
    if how == "count":
        return grid.counts.astype(np.float64)
    if how == "sum":
        return np.bincount(b, weights=v, minlength=n)
    out = np.full(n, np.nan)
    has = grid.counts > 0
    s = grid.starts - grid.starts[0] if n else grid.starts
    if how == "mean":
        out[has] = np.bincount(b, weights=v, minlength=n)[has] / grid.counts[has]
    elif how == "first":
        out[has] = v[s[has]]
    elif how == "last":
        out[has] = v[(s + grid.counts - 1)[has]]
    else:
        idx = s[has]
        red = np.minimum.reduceat(v, idx) if how == "min" else np.maximum.reduceat(v, idx)
        out[has] = red
    return out


def require_nonempty(grid: Grid, what: str = "observations", *, needed: int = 1) -> None:
    """Raise :class:`InsufficientDataError` if any bin holds fewer than ``needed``.

    The message names the first such bin (its label), the count it had and ``needed``.
    """
    short = np.flatnonzero(grid.counts < needed)
    if len(short):
        k = int(short[0])
        raise InsufficientDataError(
            f"interval {grid.labels[k]} (bin {k} of {grid.n_bins}) had {int(grid.counts[k])} "
            f"{what}, needed {needed}; {len(short)} interval(s) short -- use a wider grid")
