r"""Intraday seasonality: spread, volume, trade count and volatility by time of day.

Observations are put in time-of-day buckets (in a chosen time zone), computed per
calendar day, then averaged over days:

.. math:: \bar f(b) = \frac{1}{|D_b|} \sum_{d \in D_b} f_d(b)

where :math:`D_b` are the days with data in bucket :math:`b`. The U-shape of spreads,
volume and volatility over the trading day is the classic finding [1]_.

References
----------
.. [1] Admati, A. R. and Pfleiderer, P. (1988). A theory of intraday patterns: volume
   and price variability. Review of Financial Studies, 1(1), 3-40.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import _kernels as _k
from qlib.signals._grid import freq_ns
from qlib.signals._inputs import quotes_of, tape_of
from qlib.signals.volatility import price_series

__all__ = ["intraday_profile"]

_METRICS = ("spread", "volume", "trades", "volatility")
_DAY = 86_400 * 10**9


def intraday_profile(frame: pd.DataFrame | pd.Series, metric: str, bucket: object = "30min", *,
                     tz: str = "UTC", sample: object = None) -> pd.Series:
    r"""Return the average of ``metric`` per time-of-day bucket.

    Parameters
    ----------
    frame
        Quotes (``"spread"``, ``"volatility"`` on the mid), a tape (``"volume"``,
        ``"trades"``, ``"volatility"`` on trade prices) or a price Series with a
        ``DatetimeIndex`` (``"volatility"``); one or several days.
    metric
        ``"spread"``: time-weighted mean quoted spread (price units), from the spread
        sampled previous-tick every ``sample`` (default ``"1s"``).
        ``"volume"``: traded quantity per bucket. ``"trades"``: number of trades.
        ``"volatility"``: :math:`\sqrt{RV}` of log prices sampled every ``sample``
        (default ``"1min"``) within the bucket.
    bucket
        Bucket width, a divisor of a day (``"30min"``, ``"5min"``).
    tz
        Time zone of the clock (``"America/New_York"`` for NASDAQ).

    Returns
    -------
    pandas.Series
        Indexed by the bucket's local start time (``datetime.time``, named
        ``time_of_day``), from the first to the last bucket with data; ``attrs["days"]``
        is the number of days.

    Raises
    ------
    InsufficientDataError
        A bucket inside the covered span has no observation for a metric that needs
        one (``"spread"``: no quote; ``"volatility"``: fewer than 2 sampled prices), or
        there is no data at all.
    """
    if metric not in _METRICS:
        raise ParameterError(f"metric must be one of {_METRICS}, was {metric!r}")
    b = freq_ns(bucket)
    if _DAY % b:
        raise ParameterError(f"bucket must divide a day, was {bucket!r}")
    if metric in ("volume", "trades"):
        t = tape_of(frame, "frame", min_rows=1)
        ts, val = t.ts, (t.qty if metric == "volume" else np.ones(len(t)))
        how = "sum"
    elif metric == "spread":
        q = quotes_of(frame, "frame", min_rows=1)
        ts, val = q.ts, q.ask_px - q.bid_px
        how = "mean"
    else:
        ts, px = price_series(frame)
        if len(ts) == 0:
            raise InsufficientDataError("intraday_profile had 0 prices, needed at least 2")
        val = np.log(px)
        how = "rv"
    local = _local_ns(ts, tz)
    day = local // _DAY
    per_day = []
    for d in np.unique(day):
        sel = day == d
        lt, v = local[sel], val[sel]
        first_b, last_b = (lt[0] % _DAY) // b, (lt[-1] % _DAY) // b
        nb = int(last_b - first_b + 1)
        if how == "sum":
            k = (lt % _DAY) // b - first_b
            out = np.bincount(k, weights=v, minlength=nb)
        else:
            step = freq_ns(sample if sample is not None else ("1s" if how == "mean" else "1min"))
            grid = np.arange(int(lt[0]), int(lt[-1]) + 1, step, dtype=np.int64)
            gv = np.empty(len(grid))
            _k.previous_tick(lt, v, grid, gv)
            k = (grid % _DAY) // b - first_b
            cnt = np.bincount(k, minlength=nb)
            if how == "mean":
                need = 1
                tot = np.bincount(k, weights=gv, minlength=nb)
                out = np.divide(tot, cnt, out=np.zeros(nb), where=cnt > 0)
            else:
                need = 2
                r2 = np.zeros(len(gv))
                r2[1:] = np.diff(gv) ** 2
                r2[np.r_[True, k[1:] != k[:-1]]] = 0.0  # returns stay inside their bucket
                out = np.sqrt(np.bincount(k, weights=r2, minlength=nb))
            short = np.flatnonzero(cnt < need)
            if len(short):
                j = int(short[0])
                raise InsufficientDataError(
                    f"intraday_profile({metric!r}): bucket {_tod(int(first_b + j) * b)} on day "
                    f"{_dt.date.fromordinal(int(d) + 719163)} had {int(cnt[j])} sampled "
                    f"observation(s), needed {need}; use a wider bucket")
        per_day.append(pd.Series(out, index=(first_b + np.arange(nb)) * b))
    prof = pd.concat(per_day, axis=1).mean(axis=1).sort_index()
    res = pd.Series(prof.to_numpy(), name=metric,
                    index=pd.Index([_tod(int(o)) for o in prof.index], name="time_of_day"))
    res.attrs["days"] = len(per_day)
    return res


def _local_ns(ts: np.ndarray, tz: str) -> np.ndarray:
    idx = pd.DatetimeIndex(pd.to_datetime(ts, unit="ns", utc=True))
    try:
        loc = idx.tz_convert(tz)
    except Exception as exc:  # pytz/zoneinfo raise several types for an unknown zone
        raise ParameterError(f"tz was {tz!r}, not a known time zone") from exc
    return loc.tz_localize(None).asi8.astype(np.int64)


def _tod(offset_ns: int) -> _dt.time:
    s = offset_ns // 10**9
    return _dt.time(int(s // 3600), int(s % 3600 // 60), int(s % 60), int(offset_ns % 10**9 // 1000))
